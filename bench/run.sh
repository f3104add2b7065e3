#!/bin/bash
# bench/run.sh: load todod with wrk and report every figure against
# baselines measured in the same run (issue 12). By hand, as the user that
# ran scripts/up:
#
#   bench/run.sh            # the full run (about 8.5 minutes on 2 cores)
#   bench/run.sh --quick    # 1 s of every scenario on a private stack, about a
#                           # minute in all: proves the harness works
#                           # (scripts/test), never a verdict on speed
#
# The stack:
#   full run: the development stack of scripts/up (MariaDB, todod on
#     var/run/todod.sock); scripts/up runs first when
#     http://127.0.0.1:$TODOD_PORT/api/health is not 200 and is left running.
#   --quick (or BENCH_STACK=private): a private MariaDB and todod under
#     $BENCH_OUT/stack (build/bench-quick/stack), started here and stopped
#     on exit, so nothing else needs to run and no port is fixed.
#   Either way the load goes to nginx instances started here on free ports
#   of 127.0.0.1, rendered from conf/nginx.conf.in by scripts/render-nginx
#   dev (the dev stack's settings: keep-conn, keepalive 4), the FastCGI
#   connection set by render-nginx --keepalive where it says so:
#     api     -> the stack's todod, sign-in limit as in dev (10r/m, burst 20)
#     direct  -> the stack's todod, sign-in limit lifted (sign-ups, sign-in)
#     bare    -> bench-bare (bench/bare.c), no keep-conn       (baseline)
#     barekc  -> a second bench-bare, keep-conn + keepalive K  (baseline)
#     nk, kc  -> two more todods (the stack's binary and config): without
#                and with keep-conn, for the FastCGI connection decision
#     g1k, g1m -> two more todods on the databases todod_bench_1k (1,000
#                todos) and todod_bench_1m (1,000,000 todos over 10,000
#                users), loaded by bench/seed.py (growth; BENCH_GROWTH)
#   with K = (todod workers - 1) / nginx worker_processes, so that nginx
#   workers x K < the workers (16 x, by default: 2 x 7 = 14 < 16).
#
# Data: users signed up through the API (the direct nginx); their todos and
# the 1,000 users of the mixed scenario go straight into MariaDB with LOAD
# DATA (bench/seed.py); the mixed users' tokens are signed with the stack's
# JWT secret like the API's own (a copy of a real token's claims, sub and jti
# changed), and every one is checked with one request before any load. The
# triggers keep todo_counts during the loads; bench/seed.py verify checks
# that it equals COUNT(*) afterwards.
#
# Runs (wrk --latency, BENCH_SECONDS each, conns from BENCH_CONNS):
#   scrypt    build/bench-scrypt (bench/scrypt.c): one hash's time with
#             OpenSSL (allocating per hash, and keeping its buffer as
#             todod's hashing threads do) and libsodium, interleaved, at
#             the start and the end; the sign-in ceiling is cores / the
#             hash of the library todod took (scrypt_library, its log:
#             libsodium's, or OpenSSL's with the buffer kept)
#   matrix    per conns: bare, barekc, then BENCH_SCENARIOS:
#               list20   GET /api/todos, a user with exactly 20 todos (+ total)
#               list100  GET /api/todos?limit=50, a user with 100 todos
#               list10k  GET /api/todos?limit=50, a user with 10,000 todos
#               get      GET /api/todos/{id}
#               mixed    80/20 reads/writes over 1,000 users (bench/mixed.lua)
#               create   POST /api/todos (durable)
#               patch    PATCH /api/todos/{id}, round-robin over 100 todos
#   totals    list100, list10k, list100, ... at BENCH_KC_CONNS (64): the
#             O(1) total, alternated so that drift hits both alike
#   keepconn  list20 at BENCH_KC_CONNS (64): nk, kc, nk, kc, ...
#   signin    POST /api/auth/sign-in/email via direct at 1, 2, 4 conns
#   flood     list20 c64 alone, then beside a sign-in flood via api
#             (nginx's limit_req) and via direct (every one reaches todod)
#   growth    after the load, until MariaDB has flushed it (at most 60 s)
#             and a warm-up of each: list and get on g1k, g1m, g1k, g1m;
#             q search over one user's 10,000 todos at 1 and 8 conns
#   seed      list20 at 8 and 64 conns against bench/seed_fastapi.py, a
#             stand-in for the seed's stack (FastAPI + PyJWT under uvicorn,
#             2 workers; straight to uvicorn, no nginx in front: the most it
#             can do), when python3-fastapi, python3-uvicorn, python3-jwt
#             and python3-pymysql are installed (scripts/up installs them when
#             apt can)
#   store     right after the matrix: build/bench-store-cost
#             (bench/store_cost.c) calls todod's data layer straight, from
#             as many connections as todod has workers, BENCH_STORE_SECONDS
#             a call (ping, get, list20, create, patch, toggle): what
#             MariaDB alone spends on each, so the most it could serve with
#             both cores to itself
#   drift     bare and barekc at 64 again (not --quick)
# During the whole run todod's RSS (every todod started or used) is sampled
# every second; around every run, the CPU ticks of nginx, todod, MariaDB and
# bench-bare (by pid) and MariaDB's fsync counters.
#
# Output in $BENCH_OUT (build/bench; build/bench-quick for --quick): runs/
# (raw wrk output and what was measured around it), results.md and
# results.json (bench/report.py). A full run (defaults, growth included)
# copies results.json to bench/results.json. The bench never fails on speed:
# it exits 0 when every scenario produced numbers (requests, not all of them
# errors) and the JSON is valid, 1 otherwise.
#
# Everything it starts is stopped by pid on exit; the bench databases are
# dropped. A full run leaves its users and todos in the dev database
# (scripts/down; rm -rf var/ resets it).
#
# Environment (full / --quick defaults):
#   BENCH_SECONDS (5 / 1)      length of each wrk run
#   BENCH_CONNS ("8 64 256" / "8")  connection counts of the matrix
#   BENCH_SCENARIOS ("list20 list100 list10k get mixed create patch")
#   BENCH_EXTRAS ("totals keepconn signin flood seed store")  the other phases to run
#   BENCH_STORE_SECONDS (3 / 1)  each call of the store phase
#   BENCH_GROWTH (1 / 0)       the growth phase (1M rows, about a minute)
#   BENCH_KC_ROUNDS (2 / 1), BENCH_KC_CONNS (64 / 8)  rounds and conns of
#                              the A/B phases (totals, keep-conn, growth)
#   BENCH_KEEPALIVE            upstream keepalive (default (workers-1)/nginx workers)
#   BENCH_SIGNIN_CONNS_LIST ("1 2 4" / "1"), BENCH_SIGNIN_CONNS (16) flood
#   BENCH_BIG_TODOS (10000 / 200), BENCH_MIX_USERS (1000 / 20)
#   BENCH_SCRYPT_ROUNDS (7 / 1)
#   BENCH_WRK_THREADS (2), BENCH_TIMEOUT (10s)
#   BENCH_STACK (dev / private), BENCH_OUT, BENCH_TODOD_BIN (private stack's
#   binary, default build/todod), BENCH_KEEP_DB (1: keep the bench databases)
#   TODOD_PORT (8080)          the dev stack's nginx (health check only)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh" # ROOT, log, die, pid_alive, stop_pidfile, mariadb_*
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
cd "$ROOT"

QUICK=0
case ${1:-} in
--quick) QUICK=1 ;;
"") ;;
-h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
*) die "usage: bench/run.sh [--quick]" ;;
esac

if [ $QUICK = 1 ]; then
	D_SECS=1 D_CONNS=8 D_STACK=private D_BIG=200 D_MIX=20 D_GROWTH=0 D_ROUNDS=1 D_KC=1
	D_KCCONNS=8 D_SIGNIN=1 D_OUT=$ROOT/build/bench-quick PAUSE=0
else
	D_SECS=5 D_CONNS="8 64 256" D_STACK=dev D_BIG=10000 D_MIX=1000 D_GROWTH=1 D_ROUNDS=7 D_KC=2
	D_KCCONNS=64 D_SIGNIN="1 2 4" D_OUT=$ROOT/build/bench PAUSE=1
fi
SECS=${BENCH_SECONDS:-$D_SECS}
read -r -a CONNS <<<"${BENCH_CONNS:-$D_CONNS}"
read -r -a SCENARIOS <<<"${BENCH_SCENARIOS:-list20 list100 list10k get mixed create patch}"
EXTRAS=" ${BENCH_EXTRAS:-totals keepconn signin flood seed store} "
STORE_SECS=${BENCH_STORE_SECONDS:-$((QUICK ? 1 : 3))}
GROWTH=${BENCH_GROWTH:-$D_GROWTH}
KC_ROUNDS=${BENCH_KC_ROUNDS:-$D_KC}
KC_CONNS=${BENCH_KC_CONNS:-$D_KCCONNS}
read -r -a SIGNIN_LIST <<<"${BENCH_SIGNIN_CONNS_LIST:-$D_SIGNIN}"
FLOOD_CONNS=${BENCH_SIGNIN_CONNS:-16}
BIG=${BENCH_BIG_TODOS:-$D_BIG}
MIX_USERS=${BENCH_MIX_USERS:-$D_MIX}
SCRYPT_ROUNDS=${BENCH_SCRYPT_ROUNDS:-$D_ROUNDS}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
TIMEOUT=${BENCH_TIMEOUT:-10s}
STACK=${BENCH_STACK:-$D_STACK}
OUT=${BENCH_OUT:-$D_OUT}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
R=$OUT/runs
# A full run: the defaults, growth included; only it replaces bench/results.json.
FULL=0
[ $QUICK = 0 ] && [ -z "${BENCH_CONNS:-}${BENCH_SCENARIOS:-}${BENCH_EXTRAS:-}${BENCH_SECONDS:-}" ] &&
	[ "$GROWTH" = 1 ] && FULL=1

for c in wrk curl cc nginx python3 mariadb; do
	command -v "$c" >/dev/null || die "$c is not installed (Debian: apt-get install wrk nginx mariadb-client ...)"
done
for v in SECS STORE_SECS KC_ROUNDS KC_CONNS FLOOD_CONNS BIG MIX_USERS SCRYPT_ROUNDS WRK_THREADS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a whole number > 0 (got '${!v}')"
done
for c in "${CONNS[@]}" "${SIGNIN_LIST[@]}"; do
	[[ $c =~ ^[1-9][0-9]*$ ]] || die "connection counts must be whole numbers > 0 (got '$c')"
done
for s in "${SCENARIOS[@]}"; do
	case $s in list20 | list100 | list10k | get | mixed | create | patch) ;;
	*) die "BENCH_SCENARIOS: unknown scenario '$s'" ;; esac
done
case $STACK in dev | private) ;; *) die "BENCH_STACK must be dev or private" ;; esac
[ "$BIG" -ge 100 ] || die "BENCH_BIG_TODOS must be at least 100"

mkdir -p "$OUT"
chmod 0755 "$OUT"
rm -rf "$R"
mkdir -p "$R"
FACTS=$OUT/facts
: >"$FACTS"
fact() { printf '%s=%s\n' "$1" "$2" >>"$FACTS"; }
RUN_ID=$(date -u +%Y%m%d%H%M%S)-$$
PASSWORD=bench-password-$RUN_ID
T_START=$(date +%s)
# Every line of progress says when, in seconds since the start.
log() { printf '[%3ss] %s\n' "$(($(date +%s) - T_START))" "$*" >&2; }

# --- cleanup: everything by pid --------------------------------------------
BG_WRK=
RSS_PID=
BENCH_DBS=()
cleanup() {
	local rc=$? db
	trap - EXIT INT TERM
	for p in "$BG_WRK" "$RSS_PID"; do
		[ -z "$p" ] && continue
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	bench_stop_all
	rm -f "$OUT"/*.sock
	if [ "${BENCH_KEEP_DB:-0}" != 1 ] && [ ${#BENCH_DBS[@]} -gt 0 ]; then
		for db in "${BENCH_DBS[@]}"; do
			mariadb_admin "$DB_SOCKET" "DROP DATABASE IF EXISTS \`$db\`;
				REVOKE ALL PRIVILEGES ON \`$db\`.* FROM '$DB_USER'@'localhost';" >/dev/null 2>&1 || true
		done
	fi
	[ -z "$PRIVATE_DB_PIDFILE" ] || mariadb_stop "$PRIVATE_DB_PIDFILE"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the stack ---------------------------------------------------------------
bench_stack "$STACK" "$OUT/stack"
LOG_START=$(($(wc -l <"$TODOD_LOG") + 1))
DB_NAME=$(bench_setting db_name "$CONF")
DB_USER=$(bench_setting db_user "$CONF")
JWT_SECRET_FILE=$(bench_setting jwt_secret_file "$CONF")
# Every further todod runs the very file the stack's todod runs (even when
# build/todod was rebuilt since): a copy of its executable.
BIN=$OUT/todod.bin
cp "/proc/$TODOD_PID/exe" "$BIN"
WORKERS=$(bench_workers_of "$TODOD_LOG")
WORKERS=${WORKERS:-$(bench_setting workers "$CONF" "$BIN")}
SCRYPT_CONC=$(bench_setting scrypt_concurrency "$CONF" "$BIN")
sql() { mariadb --no-defaults --socket="$DB_SOCKET" -uroot --batch --skip-column-names "$@"; }

# --- baselines, nginx instances, further todods ----------------------------
bench_build_bare
bench_start_bare "$OUT/bare.sock" "$WORKERS" "$OUT/bare.pid" "$OUT/bare.log"
bench_start_bare "$OUT/barekc.sock" "$WORKERS" "$OUT/barekc.pid" "$OUT/barekc.log"
bench_start_todod nk "$BIN" "$CONF" "$OUT/nk.sock" "$OUT/todod-nk.pid" "$OUT/todod-nk.log"
bench_start_todod kc "$BIN" "$CONF" "$OUT/kc.sock" "$OUT/todod-kc.pid" "$OUT/todod-kc.log"

declare -A PORT URL
nginx_up() { # NAME SOCKET RATE BURST [KEEPALIVE]
	PORT[$1]=$(bench_free_port)
	URL[$1]=http://127.0.0.1:${PORT[$1]}
	bench_start_nginx "$OUT/nginx-$1" "${PORT[$1]}" "$2" "$3" "$4" "${5:-}"
}
LIFTED=(1000000r/s 1000000)
nginx_up api "$TODOD_SOCKET" 10r/m 20
NGINX_WORKERS=$(bench_nginx_workers_of "$OUT/nginx-api/nginx.conf")
KEEPALIVE=${BENCH_KEEPALIVE:-$(((WORKERS - 1) / NGINX_WORKERS))}
if [ "$KEEPALIVE" -lt 1 ] || [ $((NGINX_WORKERS * KEEPALIVE)) -ge "$WORKERS" ]; then
	die "keepalive $KEEPALIVE x $NGINX_WORKERS nginx workers must be >= 1 and < $WORKERS workers"
fi
nginx_up direct "$TODOD_SOCKET" "${LIFTED[@]}"
nginx_up bare "$OUT/bare.sock" "${LIFTED[@]}" 0
nginx_up barekc "$OUT/barekc.sock" "${LIFTED[@]}" "$KEEPALIVE"
nginx_up nk "$OUT/nk.sock" "${LIFTED[@]}" 0
nginx_up kc "$OUT/kc.sock" "${LIFTED[@]}" "$KEEPALIVE"
log "== nginx: api ${PORT[api]}, direct ${PORT[direct]}, bare ${PORT[bare]}, barekc ${PORT[barekc]}," \
	"nk ${PORT[nk]}, kc ${PORT[kc]} (keep-conn: keepalive $KEEPALIVE x $NGINX_WORKERS workers < $WORKERS)"

# --- the seed's stack, a stand-in (bench/seed_fastapi.py under uvicorn) ---------
SEED_URL=
if [[ $EXTRAS == *" seed "* ]]; then
	if "$BENCH_PY" -c 'import fastapi, uvicorn, jwt, pymysql' 2>/dev/null; then
		SEED_PORT=$(bench_free_port)
		SEED_URL=http://127.0.0.1:$SEED_PORT
		env BENCH_SEED_SECRET_FILE="$(bench_setting jwt_secret_file "$CONF")" \
			BENCH_SEED_DB_SOCKET="$DB_SOCKET" BENCH_SEED_DB_NAME="$(bench_setting db_name "$CONF")" \
			BENCH_SEED_DB_USER="$(bench_setting db_user "$CONF")" \
			BENCH_SEED_DB_PASSWORD_FILE="$(bench_setting db_password_file "$CONF")" \
			"$BENCH_PY" -m uvicorn --app-dir "$ROOT/bench" --workers 2 --no-access-log --log-level warning \
			--host 127.0.0.1 --port "$SEED_PORT" seed_fastapi:app </dev/null >"$OUT/seed.log" 2>&1 &
		echo $! >"$OUT/seed.pid"
		BENCH_PIDFILES+=("$OUT/seed.pid:python3")
		for ((i = 0; i < 100; i++)); do
			[ "$(bench_code "$SEED_URL/api/todos")" = 401 ] && break
			kill -0 "$(cat "$OUT/seed.pid")" 2>/dev/null || die "the FastAPI stand-in exited: $(tail -n 5 "$OUT/seed.log")"
			sleep 0.2
		done
		[ "$(bench_code "$SEED_URL/api/todos")" = 401 ] || die "the FastAPI stand-in does not answer on $SEED_URL"
		log "== the seed's stack (FastAPI stand-in, 2 uvicorn workers) on $SEED_PORT"
	else
		log "== the seed's stack: not measured (needs python3-fastapi python3-uvicorn python3-jwt python3-pymysql)"
		fact seed_missing 1
	fi
fi

# --- RSS sampling: every todod in $OUT/rss.pids, every second ----------------
RSS_LOG=$OUT/rss.log
: >"$RSS_LOG"
{
	echo "$TODOD_PID stack"
	echo "$(cat "$OUT/todod-nk.pid") nk"
	echo "$(cat "$OUT/todod-kc.pid") kc"
} >"$OUT/rss.pids"
(
	trap 'exit 0' TERM
	while :; do
		t=$(date +%s%3N)
		while read -r p label; do
			v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) && echo "$t $label $v"
		done <"$OUT/rss.pids"
		sleep 1
	done >>"$RSS_LOG"
) &
RSS_PID=$!

# --- users and todos -----------------------------------------------------------
# seed_users NAME...: one API sign-up each (token in $OUT/token-NAME, user id
# in UID_OF[NAME]) through URL $SIGNUP_URL into database $SIGNUP_DB.
declare -A UID_OF
seed_users() {
	local n
	for n in "$@"; do
		(umask 077 && bench_sign_up "$SIGNUP_URL" "bench-$n-$RUN_ID@bench.invalid" "$PASSWORD" >"$OUT/token-$n")
		UID_OF[$n]=$(sql "$SIGNUP_DB" -e "SELECT id FROM users WHERE email = 'bench-$n-$RUN_ID@bench.invalid'")
		[[ ${UID_OF[$n]} =~ ^[0-9]+$ ]] || die "no user row for bench-$n-$RUN_ID"
	done
}
# load PLAN DB: bulk todos by bench/seed.py; prints its "rows=.. seconds=..".
load() { "$BENCH_PY" bench/seed.py todos "$DB_SOCKET" "$2" "$1" --tmp "$OUT"; }
verify_counts() { # DB: todo_counts equals COUNT(*), or die
	local v
	v=$("$BENCH_PY" bench/seed.py verify "$DB_SOCKET" "$1") || die "todo_counts of $1 disagrees with COUNT(*): $v"
	echo "$v"
}
newest_ids() { # DB UID N: the user's N newest todo ids, comma-separated
	sql "$1" -e "SELECT GROUP_CONCAT(id ORDER BY id DESC) FROM (SELECT id FROM todos WHERE user_id = $2 ORDER BY id DESC LIMIT $3) t"
}

log "== users (sign-up through the API) and todos (LOAD DATA) in $DB_NAME"
SIGNUP_URL=${URL[direct]} SIGNUP_DB=$DB_NAME
seed_users list20 list100 list10k create
{
	echo "${UID_OF[list20]} 20"
	echo "${UID_OF[list100]} 100"
	echo "${UID_OF[list10k]} $BIG"
} >"$OUT/plan-main"
HASH=$(sql "$DB_NAME" -e "SELECT password_hash FROM users WHERE id = ${UID_OF[list20]}")
"$BENCH_PY" bench/seed.py users "$DB_SOCKET" "$DB_NAME" "bench-mix-$RUN_ID" "$MIX_USERS" "$HASH" >"$OUT/mix.ids"
awk '{ print $1, 10 }' "$OUT/mix.ids" >>"$OUT/plan-main"
log "   $(load "$OUT/plan-main" "$DB_NAME")"
fact counts_verify "$(verify_counts "$DB_NAME")"
LIST100_IDS=$(newest_ids "$DB_NAME" "${UID_OF[list100]}" 100)
TODO_ID=${LIST100_IDS%%,*}
[[ $TODO_ID =~ ^[0-9]+$ ]] || die "no todos for the list100 user"

# The mixed scenario's users: "TOKEN ID,ID,..." a line, each token checked.
(umask 077 && "$BENCH_PY" bench/seed.py tokens "$JWT_SECRET_FILE" "$(cat "$OUT/token-list20")" "$OUT/mix.ids" >"$OUT/mix.tokens")
sql "$DB_NAME" -e "SELECT user_id, GROUP_CONCAT(id) FROM todos WHERE user_id IN ($(paste -sd, "$OUT/mix.ids")) GROUP BY user_id" >"$OUT/mix.todos"
(umask 077 && paste -d' ' "$OUT/mix.ids" "$OUT/mix.tokens" |
	awk 'NR == FNR { ids[$1] = $2; next } { print $2, ids[$1] }' "$OUT/mix.todos" - >"$OUT/mixed.users")
sep=
while read -r tok _; do
	[ -z "$sep" ] || echo "$sep"
	sep=next
	echo "url = \"${URL[api]}/api/todos?limit=1\""
	echo "header = \"Authorization: Bearer $tok\""
	echo 'output = "/dev/null"'
	# shellcheck disable=SC2028 # a literal \n for curl's write-out
	echo 'write-out = "%{http_code}\n"'
done <"$OUT/mixed.users" >"$OUT/mix.curl"
curl -sS --parallel --parallel-max 16 -K "$OUT/mix.curl" >"$OUT/mix.codes" 2>/dev/null || true
rm -f "$OUT/mix.curl"
[ "$(grep -c '^200$' "$OUT/mix.codes")" = "$MIX_USERS" ] ||
	die "of $MIX_USERS mixed users' tokens, not all list 200: $(sort "$OUT/mix.codes" | uniq -c | tr -s ' \n' ' ')"
(umask 077 && printf '{"email":"%s","password":"%s"}' "bench-list20-$RUN_ID@bench.invalid" "$PASSWORD" >"$OUT/signin.json")

# Every scenario answers 2xx once before any load.
check() { # LABEL CODE CURL_ARGS...
	local label=$1 want=$2 got
	shift 2
	got=$(bench_code "$@")
	[ "$got" = "$want" ] || die "$label answered $got, not $want"
}
auth() { echo "Authorization: Bearer $(cat "$OUT/token-$1")"; }
check list20 200 -H "$(auth list20)" "${URL[api]}/api/todos"
check list10k 200 -H "$(auth list10k)" "${URL[api]}/api/todos?limit=50"
check get 200 -H "$(auth list100)" "${URL[api]}/api/todos/$TODO_ID"
check patch 200 -H "$(auth list100)" -X PATCH -H 'Content-Type: application/json' \
	-d '{"title":"bench check"}' "${URL[api]}/api/todos/$TODO_ID"
check create 201 -H "$(auth create)" -X POST -H 'Content-Type: application/json' \
	-d '{"title":"bench check"}' "${URL[api]}/api/todos"
check "list (nk)" 200 -H "$(auth list20)" "${URL[nk]}/api/todos"
check "list (kc)" 200 -H "$(auth list20)" "${URL[kc]}/api/todos"
if [ -n "$SEED_URL" ]; then
	check "list (seed)" 200 -H "$(auth list20)" "$SEED_URL/api/todos"
	seed_totals=$(curl -s -m 10 -H "$(auth list20)" "$SEED_URL/api/todos" |
		"$BENCH_PY" -c 'import json,sys; d = json.load(sys.stdin); print(len(d["items"]), d["total"])')
	[ "$seed_totals" = "20 20" ] || die "the FastAPI stand-in lists (items total) $seed_totals, not 20 20"
fi
totals=$(curl -s -m 10 -H "$(auth list20)" "${URL[api]}/api/todos" |
	"$BENCH_PY" -c 'import json,sys; d = json.load(sys.stdin); print(len(d["items"]), d["total"])')
[ "$totals" = "20 20" ] || die "the list20 user's list has (items total) $totals, not 20 20"
fact list20_bytes "$(curl -s -m 10 -H "$(auth list20)" "${URL[api]}/api/todos" | wc -c)"
fact list10k_bytes "$(curl -s -m 10 -H "$(auth list10k)" "${URL[api]}/api/todos?limit=50" | wc -c)"

# --- measuring a run ------------------------------------------------------
# CPU ticks by process group, and MariaDB's counters, around every run.
cpu_snapshot() {
	local todods=("$TODOD_PID") f
	for f in "$OUT"/todod-*.pid; do [ -s "$f" ] && todods+=("$(cat "$f")"); done
	# shellcheck disable=SC2046 # pid lists
	{
		echo "nginx $(bench_ticks $(bench_nginx_pids "$OUT"/nginx-*))"
		echo "todod $(bench_ticks "${todods[@]}")"
		echo "mariadb $(bench_ticks "$DB_PID")"
		echo "bare $(bench_ticks "$(cat "$OUT/bare.pid")" "$(cat "$OUT/barekc.pid")")"
		echo "seed $(seed_ticks)"
		echo "all $(bench_all_ticks)"
		echo "steal $(bench_steal_ticks)"
		echo "wrk $(bench_child_ticks)"
	}
}
# The FastAPI stand-in: uvicorn's supervisor and its worker processes.
seed_ticks() {
	local p
	[ -s "$OUT/seed.pid" ] || { echo 0; return; }
	p=$(tr -dc 0-9 <"$OUT/seed.pid")
	# shellcheck disable=SC2046 # pid list
	bench_ticks "$p" $(pgrep -P "$p" 2>/dev/null || true)
}
DB_COUNTERS="'Innodb_os_log_fsyncs','Innodb_data_fsyncs','Innodb_log_writes','Handler_commit'"
db_snapshot() { sql -e "SHOW GLOBAL STATUS WHERE Variable_name IN ($DB_COUNTERS)"; }
delta() { # BEFORE AFTER PREFIX: "PREFIXkey=after-before" lines
	paste <(echo "$1") <(echo "$2") | awk -v p="$3" '$1 == $3 { print p $1 "=" ($4 - $2) }'
}
# run GROUP NAME SCENARIO CONNS URL SCRIPT [SECONDS]: wrk's output in
# $R/NAME.txt, what was measured around it in $R/NAME.meta.
run() {
	local group=$1 name=$2 scen=$3 conns=$4 url=$5 script=$6 secs=${7:-$SECS} threads=$WRK_THREADS
	local c0 c1 d0 d1 t0 t1
	[ "$conns" -lt "$threads" ] && threads=$conns
	[ "$PAUSE" = 0 ] || sleep "$PAUSE"
	c0=$(cpu_snapshot) d0=$(db_snapshot) t0=$(date +%s%3N)
	wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout "$TIMEOUT" --latency -s "bench/$script" "$url" \
		>"$R/$name.txt" 2>&1 || { cat "$R/$name.txt" >&2; die "wrk ($name) failed"; }
	t1=$(date +%s%3N) c1=$(cpu_snapshot) d1=$(db_snapshot)
	grep -q '^BENCH ' "$R/$name.txt" || { cat "$R/$name.txt" >&2; die "wrk ($name) printed no BENCH line"; }
	{
		printf 'group=%s\nname=%s\nscenario=%s\nconns=%s\nurl=%s\nscript=%s\n' \
			"$group" "$name" "$scen" "$conns" "$url" "$script"
		printf 'wrk_threads=%s\nt0_ms=%s\nt1_ms=%s\n' "$threads" "$t0" "$t1"
		delta "$c0" "$c1" cpu_
		delta "$d0" "$d1" db_
	} >"$R/$name.meta"
	echo "$name" >>"$R/order"
	log "   $name: $(sed -n 's/^BENCH requests=[0-9]* duration_s=[0-9.]* //p' "$R/$name.txt")"
}
# flood_run NAME SIGNIN_URL LIST_URL: list20 at 64 (the quick run: the
# matrix conns) while a sign-in flood runs from 1 s before to 1 s after.
flood_run() {
	local c=64
	[ $QUICK = 1 ] && c=${CONNS[0]}
	log "== $1: sign-ins at $2 (c=$FLOOD_CONNS) beside list20 (c=$c)"
	BENCH_TOKEN_FILE=$OUT/token-list20 wrk -t1 -c"$FLOOD_CONNS" -d"$((SECS + 2))s" --timeout "$TIMEOUT" \
		--latency -s bench/signin.lua "$2" >"$R/$1-signin.txt" 2>&1 &
	BG_WRK=$!
	sleep 1
	BENCH_TOKEN_FILE=$OUT/token-list20 run flood "$1" list20 "$c" "$3" list.lua
	wait "$BG_WRK" || { cat "$R/$1-signin.txt" >&2; die "wrk (sign-in flood) failed"; }
	BG_WRK=
	printf 'group=flood-signin\nname=%s-signin\nscenario=signin-flood\nconns=%s\nurl=%s\nscript=signin.lua\n' \
		"$1" "$FLOOD_CONNS" "$2" >"$R/$1-signin.meta"
	echo "$1-signin" >>"$R/order"
}
# scenario GROUP NAME SCENARIO CONNS [NGINX]: one of the matrix's scenarios.
scenario() {
	local group=$1 name=$2 s=$3 c=$4 ng=${5:-api}
	case $s in
	list20) BENCH_TOKEN_FILE=$OUT/token-list20 run "$group" "$name" "$s" "$c" "${URL[$ng]}" list.lua ;;
	list100) BENCH_TOKEN_FILE=$OUT/token-list100 BENCH_LIST_QUERY=limit=50 \
		run "$group" "$name" "$s" "$c" "${URL[$ng]}" list.lua ;;
	list10k) BENCH_TOKEN_FILE=$OUT/token-list10k BENCH_LIST_QUERY=limit=50 \
		run "$group" "$name" "$s" "$c" "${URL[$ng]}" list.lua ;;
	get) BENCH_TOKEN_FILE=$OUT/token-list100 BENCH_TODO_ID=$TODO_ID \
		run "$group" "$name" "$s" "$c" "${URL[$ng]}" get.lua ;;
	patch) BENCH_TOKEN_FILE=$OUT/token-list100 BENCH_TODO_IDS=$LIST100_IDS \
		run "$group" "$name" "$s" "$c" "${URL[$ng]}" patch.lua ;;
	create) BENCH_TOKEN_FILE=$OUT/token-create run "$group" "$name" "$s" "$c" "${URL[$ng]}" create.lua ;;
	mixed) BENCH_MIX_FILE=$OUT/mixed.users run "$group" "$name" "$s" "$c" "${URL[$ng]}" mixed.lua ;;
	bare | barekc) BENCH_TOKEN_FILE=$OUT/token-list20 run "$group" "$name" "$s" "$c" "${URL[$s]}" list.lua ;;
	esac
}
scrypt_timing() { # LABEL: the SCRYPT line of build/bench-scrypt, as fact LABEL
	local line
	build/bench-scrypt "$SCRYPT_ROUNDS" >"$OUT/$1.txt" 2>&1 || { cat "$OUT/$1.txt" >&2; die "bench-scrypt failed"; }
	line=$(sed -n 's/^SCRYPT //p' "$OUT/$1.txt")
	fact "$1" "$line"
	log "   $line"
}

export BENCH_RUN_ID=$RUN_ID BENCH_SIGNIN_FILE=$OUT/signin.json

# --- facts -------------------------------------------------------------------
fact mode "$([ $QUICK = 1 ] && echo quick || echo full)"
fact full_run $FULL
fact date "$(date -u '+%Y-%m-%d %H:%M UTC')"
fact nproc "$(nproc)"
fact hz "$BENCH_HZ"
fact loadavg_before "$(cut -d' ' -f1-3 /proc/loadavg)"
fact stack "$STACK"
fact git_head "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo -)"
fact git_dirty "$(git -C "$ROOT" status --porcelain -- app sql conf meson.build 2>/dev/null | wc -l)"
fact todod_workers "$WORKERS"
fact scrypt_concurrency "$SCRYPT_CONC"
fact nginx_workers "$NGINX_WORKERS"
fact keepalive "$KEEPALIVE"
fact bare_threads "$WORKERS"
fact seconds "$SECS"
fact wrk_threads "$WRK_THREADS"
fact conns "${CONNS[*]}"
fact big_todos "$BIG"
fact mix_users "$MIX_USERS"
fact flood_conns "$FLOOD_CONNS"
fact nginx_version "$(nginx -v 2>&1 | sed 's/.*nginx\///')"
fact mariadb_version "$(sql -e 'SELECT VERSION()')"
fact flush_log_at_trx_commit "$(sql -e 'SELECT @@innodb_flush_log_at_trx_commit')"
fact log_bin "$(sql -e 'SELECT @@log_bin')"
fact has_os_log_fsyncs "$(db_snapshot | grep -c '^Innodb_os_log_fsyncs' || true)"
# What the stack's todod timed at its start and took (scrypt_library).
fact todod_scrypt "$(grep -o 'scrypt: .*' "$TODOD_LOG" | tail -n 1)"

# --- the runs ------------------------------------------------------------------
log "== scrypt: one hash, OpenSSL and libsodium, $SCRYPT_ROUNDS rounds"
cc -O2 -Wall -DHAVE_SODIUM bench/scrypt.c -lcrypto -lsodium -o build/bench-scrypt
scrypt_timing scrypt_start

log "== matrix: ${CONNS[*]} connections, ${SECS}s each"
for c in "${CONNS[@]}"; do
	for s in bare barekc "${SCENARIOS[@]}"; do
		scenario matrix "$s-c$c" "$s" "$c"
	done
done

# Right after the matrix, so that the ratio to list20 is of the same minutes.
if [ -n "$SEED_URL" ]; then
	seed_conns=(8 64)
	[ $QUICK = 1 ] && seed_conns=("${CONNS[0]}")
	log "== the seed's stack (FastAPI stand-in): list20 at ${seed_conns[*]} connections"
	for c in "${seed_conns[@]}"; do
		BENCH_TOKEN_FILE=$OUT/token-list20 run seed "seed-c$c" seed "$c" "$SEED_URL" list.lua
	done
fi

if [[ $EXTRAS == *" store "* ]]; then
	log "== MariaDB alone: todod's data-layer calls (bench-store-cost), $WORKERS connections, ${STORE_SECS}s each"
	# The build directory of the todod under test (BENCH_TODOD_BIN's).
	store_build=$(dirname "${BENCH_TODOD_BIN:-$ROOT/build/todod}")
	ninja -C "$store_build" bench-store-cost >"$OUT/store-build.log" 2>&1 ||
		{ cat "$OUT/store-build.log" >&2; die "could not build $store_build/bench-store-cost"; }
	[ "$PAUSE" = 0 ] || sleep "$PAUSE"
	"$store_build/bench-store-cost" "$CONF" "$DB_PID" "$WORKERS" "$STORE_SECS" \
		>"$OUT/store.txt" 2>"$OUT/store.err" || { cat "$OUT/store.err" >&2; die "bench-store-cost failed"; }
	while read -r line; do log "   $line"; done < <(sed -n 's/^STORE //p' "$OUT/store.txt")
fi

if [[ $EXTRAS == *" totals "* ]]; then
	log "== totals: list100 and list10k c$KC_CONNS, $KC_ROUNDS rounds"
	for ((i = 1; i <= KC_ROUNDS; i++)); do
		scenario totals "total-100-$i" list100 "$KC_CONNS"
		scenario totals "total-10k-$i" list10k "$KC_CONNS"
	done
fi

if [[ $EXTRAS == *" keepconn "* ]]; then
	log "== keep-conn: list20 c$KC_CONNS, nk (no keep-conn) and kc (keepalive $KEEPALIVE), $KC_ROUNDS rounds"
	for ((i = 1; i <= KC_ROUNDS; i++)); do
		scenario keepconn "kc-nk-$i" list20 "$KC_CONNS" nk
		scenario keepconn "kc-kc-$i" list20 "$KC_CONNS" kc
	done
fi

if [[ $EXTRAS == *" signin "* ]]; then
	log "== sign-in alone, straight to todod (limit lifted)"
	for c in "${SIGNIN_LIST[@]}"; do
		run signin "signin-c$c" signin "$c" "${URL[direct]}" signin.lua
	done
fi

if [[ $EXTRAS == *" flood "* ]]; then
	c=64
	[ $QUICK = 1 ] && c=${CONNS[0]}
	log "== list20 c$c alone, then beside sign-in floods"
	scenario flood flood-alone list20 "$c"
	flood_run flood-direct "${URL[direct]}" "${URL[api]}"
	flood_run flood-nginx "${URL[api]}" "${URL[api]}"
fi

if [ "$GROWTH" = 1 ]; then
	log "== growth: todod_bench_1k (1,000 todos) and todod_bench_1m (1,000,000 over 10,000 users)"
	g0=$(date +%s)
	for db in todod_bench_1k todod_bench_1m; do
		BENCH_DBS+=("$db")
		mariadb_admin "$DB_SOCKET" "DROP DATABASE IF EXISTS \`$db\`;
CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
GRANT SELECT, INSERT, UPDATE, DELETE ON \`$db\`.* TO '$DB_USER'@'localhost';" || die "could not create $db"
		TODOD_DB_NAME=$db TODOD_DB_USER=root TODOD_DB_PASSWORD='' TODOD_DB_PASSWORD_FILE='' \
			"$BIN" -c "$CONF" migrate </dev/null >>"$OUT/migrate.log" 2>&1 || die "migrate $db failed; see $OUT/migrate.log"
	done
	for g in g1k g1m; do
		db=todod_bench_${g#g}
		bench_start_todod "$g" "$BIN" "$CONF" "$OUT/$g.sock" "$OUT/todod-$g.pid" "$OUT/todod-$g.log" TODOD_DB_NAME="$db"
		echo "$(cat "$OUT/todod-$g.pid") $g" >>"$OUT/rss.pids"
		nginx_up "$g" "$OUT/$g.sock" "${LIFTED[@]}"
	done
	SIGNUP_URL=${URL[g1k]} SIGNUP_DB=todod_bench_1k
	seed_users g1k
	SIGNUP_URL=${URL[g1m]} SIGNUP_DB=todod_bench_1m
	seed_users g1m q10k
	echo "${UID_OF[g1k]} 1000" >"$OUT/plan-1k"
	log "   1k: $(load "$OUT/plan-1k" todod_bench_1k)"
	t_seed=$(date +%s)
	HASH=$(sql todod_bench_1m -e "SELECT password_hash FROM users WHERE id = ${UID_OF[g1m]}")
	"$BENCH_PY" bench/seed.py users "$DB_SOCKET" todod_bench_1m "bench-growth-$RUN_ID" 9998 "$HASH" >"$OUT/growth.ids"
	# 1,000 (the list user) + 10,000 (the q user) + 989,000 over 9,998 users.
	{
		echo "${UID_OF[g1m]} 1000"
		echo "${UID_OF[q10k]} 10000"
		awk '{ print $1, (NR <= 9196 ? 99 : 98) }' "$OUT/growth.ids"
	} >"$OUT/plan-1m"
	seeded=$(load "$OUT/plan-1m" todod_bench_1m)
	log "   1m: $seeded"
	fact growth_load "$seeded"
	fact growth_verify_1k "$(verify_counts todod_bench_1k)"
	fact growth_verify_1m "$(verify_counts todod_bench_1m)"
	fact growth_seed_seconds "$(($(date +%s) - t_seed))"
	fact growth_setup_seconds "$(($(date +%s) - g0))"
	fact growth_users "$(sql todod_bench_1m -e 'SELECT COUNT(*) FROM users')"
	log "   $(grep '^growth_verify_1m=' "$FACTS" | cut -d= -f2-) (load and verify: $(($(date +%s) - t_seed))s)"
	sql -e "ANALYZE TABLE todod_bench_1m.todos, todod_bench_1k.todos" >/dev/null
	G1K_ID=$(newest_ids todod_bench_1k "${UID_OF[g1k]}" 1)
	G1M_ID=$(newest_ids todod_bench_1m "${UID_OF[g1m]}" 1)
	check "growth list (1k)" 200 -H "$(auth g1k)" "${URL[g1k]}/api/todos"
	check "growth list (1m)" 200 -H "$(auth g1m)" "${URL[g1m]}/api/todos"
	check "q (1m)" 200 -H "$(auth q10k)" "${URL[g1m]}/api/todos?q=invoice"
	gc=64
	[ $QUICK = 1 ] && gc=${CONNS[0]}
	# The load leaves dirty pages that InnoDB writes out in the background
	# for a while: wait for that (not the steady state the comparison is
	# about), then warm both up.
	settle=0
	while [ $QUICK = 0 ] && [ $settle -lt 60 ]; do
		dirty=$(sql -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty','Innodb_buffer_pool_pages_total')" |
			awk '{ v[$1] = $2 } END { printf "%d", 1000 * v["Innodb_buffer_pool_pages_dirty"] / (v["Innodb_buffer_pool_pages_total"] + 1) }')
		[ "$dirty" -lt 20 ] && break
		sleep 2
		settle=$((settle + 2))
	done
	fact growth_settle_seconds "$settle"
	for g in g1k g1m; do
		BENCH_TOKEN_FILE=$OUT/token-$g wrk -t"$WRK_THREADS" -c"$gc" -d"$((QUICK ? 1 : 3))s" -s bench/list.lua \
			"${URL[$g]}" >/dev/null 2>&1 || true
	done
	for ((i = 1; i <= KC_ROUNDS; i++)); do
		BENCH_TOKEN_FILE=$OUT/token-g1k run growth "growth-list-1k-$i" growth-list-1k "$gc" "${URL[g1k]}" list.lua
		BENCH_TOKEN_FILE=$OUT/token-g1m run growth "growth-list-1m-$i" growth-list-1m "$gc" "${URL[g1m]}" list.lua
		BENCH_TOKEN_FILE=$OUT/token-g1k BENCH_TODO_ID=$G1K_ID \
			run growth "growth-get-1k-$i" growth-get-1k "$gc" "${URL[g1k]}" get.lua
		BENCH_TOKEN_FILE=$OUT/token-g1m BENCH_TODO_ID=$G1M_ID \
			run growth "growth-get-1m-$i" growth-get-1m "$gc" "${URL[g1m]}" get.lua
	done
	for c in 1 8; do
		BENCH_TOKEN_FILE=$OUT/token-q10k BENCH_LIST_QUERY=q=invoice \
			run growth "q-c$c" q "$c" "${URL[g1m]}" list.lua
	done
	fact q_total "$(curl -s -m 10 -H "$(auth q10k)" "${URL[g1m]}/api/todos?q=invoice" |
		"$BENCH_PY" -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
fi

if [ $QUICK = 0 ]; then
	log "== drift: the baselines again"
	scenario drift bare-end-c64 bare 64
	scenario drift barekc-end-c64 barekc 64
	log "== scrypt again"
	scrypt_timing scrypt_end
fi
fact seconds_total "$(($(date +%s) - T_START))"
fact loadavg_after "$(cut -d' ' -f1-3 /proc/loadavg)"

# --- logs, the report ------------------------------------------------------------
kill -TERM "$RSS_PID" 2>/dev/null || true
wait "$RSS_PID" 2>/dev/null || true
RSS_PID=
tail -n +"$LOG_START" "$TODOD_LOG" >"$OUT/stack-todod-during.log"
cat "$OUT/stack-todod-during.log" "$OUT"/todod-*.log >"$OUT/todod-all.log"
fact todod_log_errors "$(grep -c ' error ' "$OUT/todod-all.log" || true)"
fact todod_log_warns "$(grep -c ' warn ' "$OUT/todod-all.log" || true)"
fact todod_log_5xx "$(grep -cE -- '-> 5[0-9][0-9]' "$OUT/todod-all.log" || true)"
rm -f "$OUT/todod-all.log"
fact nginx_error_lines "$(cat "$OUT"/nginx-*/error.log | grep -v 'limiting requests' | grep -cE '\[(error|crit|alert|emerg)\]' || true)"

"$BENCH_PY" bench/report.py "$OUT"
if [ $FULL = 1 ]; then
	cp "$OUT/results.json" "$ROOT/bench/results.json"
	log "== results: $OUT/results.md; results.json copied to bench/results.json"
else
	log "== results: $OUT/results.md and results.json (not a full run: bench/results.json left as it is)"
fi
