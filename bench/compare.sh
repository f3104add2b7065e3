#!/bin/bash
# bench/compare.sh: the same load against two todod binaries in one run, an
# older commit's (base) and the current tree's (new), to show that a change
# lost no throughput. Run by hand (not part of scripts/test), as the user
# that ran scripts/up:
#
#   bench/compare.sh              # base = 0b05f65 (before the data-layer rewrite)
#   bench/compare.sh BASE_REF     # any commit, tag or branch
#   bench/compare.sh BASE_REF NEW_REF
#                                 # new = a commit too, not the work tree (see 3.)
#
# What it does:
#   1. Makes sure the stack of scripts/up answers on http://127.0.0.1:8080
#      (runs scripts/up when /api/health is not 200, and leaves it running),
#      builds the current tree's build/todod (ninja -C build todod) and
#      insists that the dev stack's todod runs exactly that file (restart it
#      with scripts/down && scripts/up otherwise).
#   2. Builds BASE_REF's todod into build/bench-base/todod: `git archive` of
#      the commit into a temporary directory under build/, meson setup
#      (debugoptimized, as the main tree) and ninja there; kept, and reused
#      while build/bench-base/commit names the same commit. (A meson.build
#      entry for a .c file the commit lacks is dropped and reported; see
#      drop_missing_sources.)
#   3. Starts the base binary as a second todod with the dev stack's own
#      config (var/todod.conf: the same database, secret and worker count)
#      on its own socket (TODOD_LISTEN=unix:build/bench/compare/base.sock),
#      bench/bare.c as in run.sh, and three extra nginx instances from the
#      project's template (scripts/render-nginx dev), sign-in limit out of
#      reach:
#        :8090  /api/ -> bench-bare           (the baseline, as in run.sh)
#        :8092  /api/ -> the dev stack's todod (new)
#        :8093  /api/ -> the base todod        (base)
#      With NEW_REF, steps 1 and 2 build NEW_REF into build/bench-new/todod
#      the same way, and it runs as a third todod started like the base one
#      (build/bench/compare/new.sock) behind :8092, so that work in progress
#      in the tree (or a build of it that fails) is not what is measured; the
#      dev stack then only lends its MariaDB and config.
#   4. Signs up two fresh users (bench-cmp-<run>@bench.invalid: 1000 todos
#      made through the API, for list/get/patch; bench-cmp-create-<run>@...
#      for create) and checks that every scenario answers 2xx on both sides.
#   5. Runs wrk (-t2, --latency, bench/*.lua) against 127.0.0.1 only, each
#      run BENCH_SECONDS long: bare c=64; then for each scenario (list, get,
#      create, patch at c=64) new, base, new, base (BENCH_ROUNDS pairs,
#      alternating so that drift hits both sides alike); bare again.
#        list    GET /api/todos (50 of 1000 + total)
#        get     GET /api/todos/{id} (the newest seeded todo)
#        create  POST /api/todos
#        patch   PATCH /api/todos/{id}, no If-Match, round-robin over the
#                100 newest seeded todos
#   6. Prints a table (also written to build/bench/compare.md): per scenario
#      every run's requests/s, the mean of new and of base, new/base, p50/p99,
#      non-2xx, socket errors; then every run in the order it ran, with the
#      5xx answers its todod logged and the CPU seconds of todod, MariaDB,
#      nginx, wrk and everything else (a busy neighbour shows there); and
#      what the logs say (var/log/todod.log for new,
#      build/bench/compare/base-todod.log for base).
#
# Everything it starts (the base todod, bench-bare, the three nginx
# instances) is stopped by pid on exit. Raw wrk output, configs and logs stay
# in build/bench/compare/. Each run leaves two users and their todos in the
# dev database (scripts/down; rm -rf var/ resets it). wrk shares the
# machine's cores with the servers; compare ratios, not absolute rates.
#
# Environment:
#   BENCH_SECONDS (10)        length of each wrk run
#   BENCH_ROUNDS (2)          new/base pairs per scenario
#   BENCH_SCENARIOS ("list get create patch")  which scenarios, in that order
#   BENCH_WARMUP (2)          seconds of list load on each side before the runs (0: none)
#   BENCH_WRK_THREADS (2)     wrk threads per run
#   BENCH_CONNS (64)          connections per run
#   BENCH_TIMEOUT (10s)       wrk's per-request timeout
#   BENCH_TODOS (1000)        todos created for the list user
#   BENCH_BARE_PORT (8090), BENCH_NEW_PORT (8092), BENCH_BASE_PORT (8093),
#   TODOD_PORT (8080)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh" # ROOT, PATH with sbin, pid_alive, stop_pidfile
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh" # bench-bare, todod and nginx starts, sign-up, CPU ticks
cd "$ROOT"

BASE_REF=${1:-0b05f65}
NEW_REF=${2:-}
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
WARMUP=${BENCH_WARMUP:-2}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
TIMEOUT=${BENCH_TIMEOUT:-10s}
NTODOS=${BENCH_TODOS:-1000}
PORT=${TODOD_PORT:-8080}
BARE_PORT=${BENCH_BARE_PORT:-8090}
NEW_PORT=${BENCH_NEW_PORT:-8092}
BASE_PORT=${BENCH_BASE_PORT:-8093}
URL=http://127.0.0.1:$PORT
BARE_URL=http://127.0.0.1:$BARE_PORT
NEW_URL=http://127.0.0.1:$NEW_PORT
BASE_URL=http://127.0.0.1:$BASE_PORT
B=$ROOT/build/bench
C=$B/compare
OUT=$B/compare.md
CONF=$ROOT/var/todod.conf
TODOD_SOCKET=$ROOT/var/run/todod.sock
TODOD_PIDFILE=$ROOT/var/run/todod.pid
TODOD_LOG=$ROOT/var/log/todod.log
BASE_DIR=$ROOT/build/bench-base
BASE_BIN=$BASE_DIR/todod
BASE_SOCKET=$C/base.sock
BASE_PIDFILE=$C/base-todod.pid
BASE_LOG=$C/base-todod.log
# new: the dev stack's todod, or (NEW_REF) one more todod of compare.sh's
NEW_PIDFILE=$C/new-todod.pid
if [ -n "$NEW_REF" ]; then
	NEW_DIR=$ROOT/build/bench-new
	NEW_BIN=$NEW_DIR/todod
	NEW_SOCKET=$C/new.sock
	NEW_LOG=$C/new-todod.log
else
	NEW_BIN=$ROOT/build/todod
	NEW_SOCKET=$TODOD_SOCKET
	NEW_LOG=$TODOD_LOG
fi
PASSWORD=bench-password-$$
read -r -a SCENARIOS <<<"${BENCH_SCENARIOS:-list get create patch}"
for s in "${SCENARIOS[@]}"; do
	case $s in list | get | create | patch) ;; *) die "BENCH_SCENARIOS: unknown scenario '$s'" ;; esac
done
[ ${#SCENARIOS[@]} -gt 0 ] || die "BENCH_SCENARIOS names no scenario"

for c in wrk curl cc nginx python3 git meson ninja tar; do
	command -v "$c" >/dev/null || die "$c is not installed"
done
for v in SECS ROUNDS WRK_THREADS CONNS NTODOS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a whole number > 0 (got '${!v}')"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a whole number of seconds"
[ "$NTODOS" -ge 100 ] || die "BENCH_TODOS must be at least 100 (patch uses 100 todos)"
BASE_COMMIT=$(git -C "$ROOT" rev-parse --verify -q "$BASE_REF^{commit}") ||
	die "$BASE_REF is not a commit of $ROOT"
BASE_SHORT=$(git -C "$ROOT" rev-parse --short "$BASE_COMMIT")
if [ -n "$NEW_REF" ]; then
	NEW_COMMIT=$(git -C "$ROOT" rev-parse --verify -q "$NEW_REF^{commit}") ||
		die "$NEW_REF is not a commit of $ROOT"
	NEW_DESC="$(git -C "$ROOT" rev-parse --short "$NEW_COMMIT") ($NEW_REF; build/bench-new/todod, started by compare.sh)"
else
	NEW_DESC="$(git -C "$ROOT" rev-parse --short HEAD)"
	[ -z "$(git -C "$ROOT" status --porcelain -- app sql meson.build meson_options.txt)" ] ||
		NEW_DESC="$NEW_DESC + uncommitted changes in app/, sql/ or meson files"
	NEW_DESC="$NEW_DESC (build/todod, the dev stack's todod)"
fi

code() { bench_code "$@"; }

# --- 1. the dev stack (new) ----------------------------------------------
if [ "$(code "$URL/api/health")" != 200 ]; then
	log "== $URL/api/health is not 200: running scripts/up (it stays up afterwards)"
	"$ROOT/scripts/up" >/dev/null
fi
[ "$(code "$URL/api/health")" = 200 ] || die "$URL/api/health is not 200 after scripts/up"
[ -S "$TODOD_SOCKET" ] || die "no todod socket at $TODOD_SOCKET (not the stack of scripts/up?)"
[ -f "$CONF" ] || die "no $CONF (not the stack of scripts/up?)"
pid_alive "$TODOD_PIDFILE" todod || die "no live todod in $TODOD_PIDFILE"
TODOD_PID=$(cat "$TODOD_PIDFILE")

if [ -z "$NEW_REF" ]; then
	log "== building the current tree's build/todod"
	ninja -C build todod </dev/null >/dev/null || die "ninja -C build todod failed"
	# The file the dev todod was started from must be build/todod as it is
	# now (the linker writes a new inode: an older binary is not -ef).
	[ "/proc/$TODOD_PID/exe" -ef "$NEW_BIN" ] ||
		die "the dev stack's todod (pid $TODOD_PID) does not run the current $NEW_BIN; restart it: scripts/down && scripts/up"
fi

mkdir -p "$C"
chmod 0755 "$B" "$C"

# Leftovers of an interrupted run (by pid file and process name only).
stop_pidfile "$C/nginx-bare/nginx.pid" nginx 10
stop_pidfile "$C/nginx-new/nginx.pid" nginx 10
stop_pidfile "$C/nginx-base/nginx.pid" nginx 10
stop_pidfile "$C/bare.pid" bench-bare 10
# (never the dev stack's todod, should its pid be the one left in a file)
for f in "$BASE_PIDFILE" "$NEW_PIDFILE"; do
	[ "$(cat "$f" 2>/dev/null)" != "$TODOD_PID" ] || rm -f "$f"
	stop_pidfile "$f" todod 10
done

BUILD_TMP=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pidfile "$C/nginx-bare/nginx.pid" nginx 10
	stop_pidfile "$C/nginx-new/nginx.pid" nginx 10
	stop_pidfile "$C/nginx-base/nginx.pid" nginx 10
	stop_pidfile "$C/bare.pid" bench-bare 10
	stop_pidfile "$BASE_PIDFILE" todod 10
	stop_pidfile "$NEW_PIDFILE" todod 10
	rm -f "$C/bare.sock" "$BASE_SOCKET" "$C/new.sock"
	[ -z "$BUILD_TMP" ] || rm -rf "$BUILD_TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 2. the base binary (and NEW_REF's) ------------------------------------
# drop_missing_sources SRCDIR: a commit whose meson.build lists a .c file the
# commit does not contain (0b05f65 names app/todos_query.c, which arrived
# with 5427aee) cannot be configured. Such list entries are dropped and
# printed: if anything needed the file, the link fails, so what builds is
# exactly the commit's code.
drop_missing_sources() {
	local mb d f
	while IFS= read -r mb; do
		d=$(dirname "$mb")
		while IFS= read -r f; do
			[ -e "$d/$f" ] && continue
			sed -i "\\|^[[:space:]]*'$f',\\?[[:space:]]*\$|d" "$mb"
			echo "${mb#"$1"/} names $f, which the commit lacks"
		done < <(sed -n "s/^[[:space:]]*'\\([^']*\\.c\\)',\\?[[:space:]]*\$/\\1/p" "$mb")
	done < <(find "$1" -name meson.build)
}
build_ref() { # REF COMMIT DIR: DIR/todod built from COMMIT, DIR/commit names it
	local ref=$1 commit=$2 dir=$3 short
	short=$(git -C "$ROOT" rev-parse --short "$commit")
	if [ -x "$dir/todod" ] && [ "$(cat "$dir/commit" 2>/dev/null)" = "$commit" ]; then
		log "== ${dir#"$ROOT"/}/todod is $short already"
		return 0
	fi
	log "== building $ref ($short) into ${dir#"$ROOT"/}/"
	BUILD_TMP=$(mktemp -d "$ROOT/build/bench-ref.tmp.XXXXXX")
	mkdir "$BUILD_TMP/src"
	git -C "$ROOT" archive "$commit" | tar -x -C "$BUILD_TMP/src"
	drop_missing_sources "$BUILD_TMP/src" >"$BUILD_TMP/dropped"
	[ ! -s "$BUILD_TMP/dropped" ] || log "   built without: $(paste -sd';' "$BUILD_TMP/dropped")"
	meson setup --buildtype=debugoptimized "$BUILD_TMP/build" "$BUILD_TMP/src" \
		</dev/null >"$BUILD_TMP/setup.log" 2>&1 ||
		{ tail -n 30 "$BUILD_TMP/setup.log" >&2; die "meson setup of $short failed"; }
	ninja -C "$BUILD_TMP/build" todod </dev/null >"$BUILD_TMP/ninja.log" 2>&1 ||
		{ tail -n 30 "$BUILD_TMP/ninja.log" >&2; die "ninja of $short failed"; }
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$BUILD_TMP/build/todod" "$dir/todod"
	cp "$BUILD_TMP/dropped" "$dir/dropped"
	echo "$commit" >"$dir/commit"
	rm -rf "$BUILD_TMP"
	BUILD_TMP=
}
build_ref "$BASE_REF" "$BASE_COMMIT" "$BASE_DIR"
[ -z "$NEW_REF" ] || build_ref "$NEW_REF" "$NEW_COMMIT" "$NEW_DIR"

# --- 3. the base todod, the baseline responder, three nginx instances -------
start_todod() { # SIDE BIN SOCKET PIDFILE LOG: the dev stack's config, its own socket
	bench_start_todod "$1" "$2" "$CONF" "$3" "$4" "$5"
}
start_todod base "$BASE_BIN" "$BASE_SOCKET" "$BASE_PIDFILE" "$BASE_LOG"
BASE_PID=$(cat "$BASE_PIDFILE")
NEW_PID=$TODOD_PID
if [ -n "$NEW_REF" ]; then
	start_todod new "$NEW_BIN" "$NEW_SOCKET" "$NEW_PIDFILE" "$NEW_LOG"
	NEW_PID=$(cat "$NEW_PIDFILE")
fi

workers_of() { bench_workers_of "$1"; } # LOG -> worker count of its last start line
NEW_WORKERS=$(workers_of "$NEW_LOG")
BASE_WORKERS=$(workers_of "$BASE_LOG")
[ -n "$BASE_WORKERS" ] || die "the base todod logged no start line; see $BASE_LOG"
[ "${NEW_WORKERS:-$BASE_WORKERS}" = "$BASE_WORKERS" ] ||
	die "new todod has $NEW_WORKERS workers, base $BASE_WORKERS (a TODOD_WORKERS in the environment?)"
WORKERS=$BASE_WORKERS

bench_build_bare
bench_start_bare "$C/bare.sock" "$WORKERS" "$C/bare.pid" "$C/bare.log"
BARE_PID=$(cat "$C/bare.pid")

start_nginx() { # NAME PORT SOCKET: sign-in limit out of reach; waits for /api/health
	bench_start_nginx "$C/nginx-$1" "$2" "$3" 1000000r/s 1000000
}
start_nginx bare "$BARE_PORT" "$C/bare.sock"
start_nginx new "$NEW_PORT" "$NEW_SOCKET"
start_nginx base "$BASE_PORT" "$BASE_SOCKET"

# --- 4. users and todos ----------------------------------------------------
RUN_ID=$(date -u +%Y%m%d%H%M%S)-$$
EMAIL=bench-cmp-$RUN_ID@bench.invalid
CREATE_EMAIL=bench-cmp-create-$RUN_ID@bench.invalid

sign_up() { bench_sign_up "$NEW_URL" "$1" "$PASSWORD"; } # EMAIL -> token on stdout
log "== signing up $EMAIL and $CREATE_EMAIL"
(umask 077 && sign_up "$EMAIL" >"$C/token")
(umask 077 && sign_up "$CREATE_EMAIL" >"$C/token-create")
TOKEN=$(cat "$C/token")

total_of() { # TOKENFILE -> the list's total
	curl -s -m 10 "$NEW_URL/api/todos?limit=1" -H "Authorization: Bearer $(cat "$1")" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'
}

# Through the API (the new side), 16 at a time (curl --parallel); a further
# pass makes up for any request that failed.
log "== creating $NTODOS todos for $EMAIL"
prios=(low normal normal high)
for pass in 1 2 3; do
	have=$(total_of "$C/token")
	[ "$have" -ge "$NTODOS" ] && break
	(
		umask 077
		for ((i = have + 1; i <= NTODOS; i++)); do
			[ "$i" -gt $((have + 1)) ] && echo next
			echo "url = \"$NEW_URL/api/todos\""
			echo "header = \"Authorization: Bearer $TOKEN\""
			echo 'header = "Content-Type: application/json"'
			echo "data = \"{\\\"title\\\":\\\"seed $i of $RUN_ID\\\",\\\"description\\\":\\\"made by bench/compare.sh\\\",\\\"priority\\\":\\\"${prios[i % 4]}\\\"}\""
			echo 'output = "/dev/null"'
			# shellcheck disable=SC2028 # a literal \n for curl's write-out
			echo 'write-out = "%{http_code}\n"'
		done >"$C/seed.curl"
	)
	curl -sS --parallel --parallel-max 16 -K "$C/seed.curl" >"$C/seed.codes" 2>"$C/seed.err" || true
	rm -f "$C/seed.curl"
	if grep -qv '^201$' "$C/seed.codes"; then
		log "   pass $pass: $(sort "$C/seed.codes" | uniq -c | tr -s ' \n' ' ')"
	fi
done
[ "$(total_of "$C/token")" = "$NTODOS" ] || die "the list user has $(total_of "$C/token") todos, not $NTODOS"

# The ids for get and patch: the 100 newest of the seeded todos.
TODO_IDS=$(curl -s -m 10 "$NEW_URL/api/todos?limit=100" -H "Authorization: Bearer $TOKEN" |
	python3 -c 'import json,sys; print(",".join(str(t["id"]) for t in json.load(sys.stdin)["items"]))') ||
	die "could not list the seeded todos' ids"
TODO_ID=${TODO_IDS%%,*}
[[ $TODO_ID =~ ^[0-9]+$ ]] || die "no todo id in the list: '$TODO_IDS'"

# Every scenario answers 2xx on both sides before any load (the same tokens
# verify on both: one secret), and the list is the same size on both.
check() { # LABEL EXPECTED_CODE CURL_ARGS...
	local label=$1 want=$2 got
	shift 2
	got=$(code "$@")
	[ "$got" = "$want" ] || die "$label answered $got, not $want"
}
for side in new base; do
	u=$NEW_URL
	[ $side = base ] && u=$BASE_URL
	auth=(-H "Authorization: Bearer $TOKEN")
	check "list ($side)" 200 "${auth[@]}" "$u/api/todos"
	check "get ($side)" 200 "${auth[@]}" "$u/api/todos/$TODO_ID"
	check "patch ($side)" 200 "${auth[@]}" -X PATCH -H 'Content-Type: application/json' \
		-d "{\"title\":\"check $side $RUN_ID\"}" "$u/api/todos/$TODO_ID"
	check "create ($side)" 201 -H "Authorization: Bearer $(cat "$C/token-create")" -X POST \
		-H 'Content-Type: application/json' -d "{\"title\":\"check $side $RUN_ID\"}" "$u/api/todos"
done
NEW_LIST_BYTES=$(curl -s -m 10 "$NEW_URL/api/todos" -H "Authorization: Bearer $TOKEN" | wc -c)
BASE_LIST_BYTES=$(curl -s -m 10 "$BASE_URL/api/todos" -H "Authorization: Bearer $TOKEN" | wc -c)

# --- 5. the runs -----------------------------------------------------------
HZ=$BENCH_HZ
ticks() { bench_ticks "$@"; }             # PID... -> summed utime+stime
child_ticks() { bench_child_ticks; }      # wrk's CPU: this shell's reaped children
all_ticks() { bench_all_ticks; }
DB_PID=$(cat "$ROOT/var/run/mariadb.pid")
NGINX_WORKERS_new=$(pgrep -P "$(cat "$C/nginx-new/nginx.pid")" | tr '\n' ' ')
NGINX_WORKERS_base=$(pgrep -P "$(cat "$C/nginx-base/nginx.pid")" | tr '\n' ' ')
NGINX_WORKERS_bare=$(pgrep -P "$(cat "$C/nginx-bare/nginx.pid")" | tr '\n' ' ')
lines_of() { wc -l <"$1"; }

# wrk_run NAME SIDE URL SCRIPT [SECONDS]: raw output in $C/NAME.txt; in
# $C/NAME.srv the CPU seconds of the side's todod (or bench-bare), MariaDB,
# the side's nginx workers and wrk, what the rest of the machine used
# meanwhile (other: anything else running; it should be near 0), and what
# that todod logged (5xx answers, error and warn lines).
wrk_run() {
	local name=$1 side=$2 url=$3 script=$4 secs=${5:-$SECS} pid logf l0 ng b0 b1 w0 w1 n0 n1 d0 d1 a0 a1 t0 t1
	local -a nginx_pids
	case $side in
	new) pid=$NEW_PID logf=$NEW_LOG ng=$NGINX_WORKERS_new ;;
	base) pid=$BASE_PID logf=$BASE_LOG ng=$NGINX_WORKERS_base ;;
	*) pid=$BARE_PID logf=/dev/null ng=$NGINX_WORKERS_bare ;;
	esac
	read -r -a nginx_pids <<<"$ng"
	l0=$(($(lines_of "$logf") + 1))
	t0=$(date +%s%N)
	a0=$(all_ticks) b0=$(ticks "$pid") d0=$(ticks "$DB_PID") n0=$(ticks "${nginx_pids[@]}") w0=$(child_ticks)
	wrk -t"$WRK_THREADS" -c"$CONNS" -d"${secs}s" --timeout "$TIMEOUT" --latency \
		-s "bench/$script" "$url" >"$C/$name.txt" 2>&1 || { cat "$C/$name.txt" >&2; die "wrk ($name) failed"; }
	w1=$(child_ticks) t1=$(date +%s%N) a1=$(all_ticks) b1=$(ticks "$pid") d1=$(ticks "$DB_PID") n1=$(ticks "${nginx_pids[@]}")
	grep -q '^BENCH ' "$C/$name.txt" || { cat "$C/$name.txt" >&2; die "wrk ($name) printed no BENCH line"; }
	sleep 0.5 # the last answers' log lines
	sed -n "${l0},\$p" "$logf" >"$C/$name.log"
	awk -v hz="$HZ" -v wall="$(((t1 - t0) / 1000000))" -v ncpu="$(nproc)" \
		-v s=$((b1 - b0)) -v d=$((d1 - d0)) -v n=$((n1 - n0)) -v w=$((w1 - w0)) -v a=$((a1 - a0)) 'BEGIN {
			o = a - s - d - n - w
			printf "server_cpu=%.2f db_cpu=%.2f nginx_cpu=%.2f wrk_cpu=%.2f other_cpu=%.2f busy=%.0f%% ",
				s / hz, d / hz, n / hz, w / hz, (o < 0 ? 0 : o) / hz, 100 * a / hz / (ncpu * wall / 1000) }' >"$C/$name.srv"
	printf 'log_5xx=%s log_error=%s log_warn=%s\n' \
		"$(grep -cE -- '-> 5[0-9][0-9]' "$C/$name.log" || true)" \
		"$(grep -c ' error ' "$C/$name.log" || true)" \
		"$(grep -c ' warn ' "$C/$name.log" || true)" >>"$C/$name.srv"
}

export BENCH_RUN_ID=$RUN_ID BENCH_TODO_ID=$TODO_ID BENCH_TODO_IDS=$TODO_IDS
export BENCH_TOKEN_FILE=$C/token
token_for() { # SCENARIO -> its token file
	if [ "$1" = create ]; then echo "$C/token-create"; else echo "$C/token"; fi
}

NEW_LOG_START=$(($(lines_of "$NEW_LOG") + 1))
BASE_LOG_START=$(($(lines_of "$BASE_LOG") + 1))
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
CREATE_ROWS_BEFORE=$(total_of "$C/token-create") # after the checks' creates
ORDER=()

log "== runs of ${SECS}s each, c=$CONNS (load average before: $LOADAVG)"
if [ "$WARMUP" -gt 0 ]; then
	log "== warm-up: ${WARMUP}s of list on each side"
	wrk_run warmup-new new "$NEW_URL" list.lua "$WARMUP"
	wrk_run warmup-base base "$BASE_URL" list.lua "$WARMUP"
fi
log "== bare: nginx -> bench-bare ($WORKERS threads)"
wrk_run bare bare "$BARE_URL" list.lua
ORDER+=(bare)
for s in "${SCENARIOS[@]}"; do
	for ((r = 1; r <= ROUNDS; r++)); do
		for side in new base; do
			u=$NEW_URL
			[ $side = base ] && u=$BASE_URL
			sleep 1
			log "== $s $side (round $r of $ROUNDS)"
			BENCH_TOKEN_FILE=$(token_for "$s") wrk_run "$s-$side-$r" $side "$u" "$s.lua"
			ORDER+=("$s-$side-$r")
		done
	done
done
sleep 1
log "== bare again (drift check)"
wrk_run bare-end bare "$BARE_URL" list.lua
ORDER+=(bare-end)
log "== done"

# --- 6. the table ------------------------------------------------------------
get() { # NAME KEY
	sed -n 's/^BENCH //p' "$C/$1.txt" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
srv() { # NAME KEY
	tr ' ' '\n' <"$C/$1.srv" | sed -n "s/^$2=//p"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
runs_of() { # SCENARIO SIDE -> the run names
	local r
	for ((r = 1; r <= ROUNDS; r++)); do echo "$1-$2-$r"; done
}
# agg SCENARIO SIDE KEY mean|sum|list -> over that side's runs
agg() {
	local n
	for n in $(runs_of "$1" "$2"); do get "$n" "$3"; done |
		awk -v how="$4" '{ s += $1; v[NR] = $1 }
			END {
				if (how == "sum") printf "%d", s
				else if (how == "mean") printf "%.2f", s / NR
				else for (i = 1; i <= NR; i++) printf "%s%.0f", (i > 1 ? ", " : ""), v[i]
			}'
}
agg_srv() { # SCENARIO SIDE KEY -> sum over that side's runs
	local n
	for n in $(runs_of "$1" "$2"); do srv "$n" "$3"; done | awk '{ s += $1 } END { printf "%.2f", s }'
}
statuses() { # SCENARIO SIDE -> summed status breakdown
	local n
	for n in $(runs_of "$1" "$2"); do get "$n" status | tr ',' '\n'; done |
		awk -F: 'NF == 2 { c[$1] += $2 } END { for (k in c) printf "%s:%d\n", k, c[k] }' |
		sort | paste -sd, - | sed 's/,/, /g'
}

BARE_RPS=$(get bare rps)
CREATE_ROWS=$(total_of "$C/token-create")
CREATED_201=0
if [[ " ${SCENARIOS[*]} " == *" create "* ]]; then
	for side in new base; do
		for n in $(runs_of create $side); do
			c201=$(get "$n" status | tr ',' '\n' | sed -n 's/^201://p')
			CREATED_201=$((CREATED_201 + ${c201:-0}))
		done
	done
fi

sed -n "${NEW_LOG_START},\$p" "$NEW_LOG" >"$C/new-during.log"
sed -n "${BASE_LOG_START},\$p" "$BASE_LOG" >"$C/base-during.log"
log_counts() { # FILE -> "N error, N warn, N answers 5xx"
	echo "$(grep -c ' error ' "$1" || true) error, $(grep -c ' warn ' "$1" || true) warn," \
		"$(grep -cE -- '-> 5[0-9][0-9]' "$1" || true) answers 5xx"
}
N_NGINX=$(cat "$C"/nginx-{bare,new,base}/error.log | grep -cE '\[(error|crit|alert|emerg)\]' || true)

{
	echo "bench/compare.sh $BASE_REF, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average before: $LOADAVG"
	echo "new = $NEW_DESC, :$NEW_PORT;" \
		"base = $BASE_SHORT$([ "$BASE_REF" = "$BASE_SHORT" ] || echo " ($BASE_REF)") (build/bench-base/todod, started by compare.sh), :$BASE_PORT;" \
		"both $WORKERS workers, one config (var/todod.conf), one database"
	echo "each run ${SECS}s, wrk -t$WRK_THREADS -c$CONNS --latency, order new, base, new, base, ... ($ROUNDS rounds) per scenario;"
	for d in "$BASE_DIR" ${NEW_REF:+"$NEW_DIR"}; do
		[ ! -s "$d/dropped" ] ||
			echo "${d#"$ROOT"/}: meson.build entries dropped to configure it (the link would fail had anything needed them): $(paste -sd';' "$d/dropped")"
	done
	echo "list = GET /api/todos (50 of $NTODOS + total; $NEW_LIST_BYTES bytes new, $BASE_LIST_BYTES base);" \
		"get = GET /api/todos/$TODO_ID; create = POST /api/todos; patch = PATCH /api/todos/{id} round-robin over 100 todos, no If-Match"
	echo
	echo '| scenario | new req/s (runs) | base req/s (runs) | new mean | base mean | new/base | p50 ms new / base | p99 ms new / base | non-2xx new / base | sock err new / base |'
	echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
	for s in "${SCENARIOS[@]}"; do
		nm=$(agg "$s" new rps mean)
		bm=$(agg "$s" base rps mean)
		printf '| %s | %s | %s | %.0f | %.0f | **%s** | %.2f / %.2f | %.2f / %.2f | %s / %s | %s / %s |\n' "$s" \
			"$(agg "$s" new rps list)" "$(agg "$s" base rps list)" "$nm" "$bm" "$(ratio "$nm" "$bm")" \
			"$(agg "$s" new p50_ms mean)" "$(agg "$s" base p50_ms mean)" \
			"$(agg "$s" new p99_ms mean)" "$(agg "$s" base p99_ms mean)" \
			"$(agg "$s" new non2xx sum)" "$(agg "$s" base non2xx sum)" \
			"$(agg "$s" new errors sum)" "$(agg "$s" base errors sum)"
	done
	echo
	echo "p50/p99: mean over the runs; non-2xx, socket errors: summed. Bare baseline (nginx + libfcgi):" \
		"$(printf '%.0f' "$BARE_RPS") req/s at the start, $(printf '%.0f' "$(get bare-end rps)") at the end" \
		"(drift $(ratio "$(get bare-end rps)" "$BARE_RPS"))."
	echo
	echo 'Every run, in the order it ran. 5xx in log: answers that todod logged. CPU seconds: server = the side'"'"'s todod'
	echo '(bench-bare for bare), the side'"'"'s nginx workers, wrk; other = everything else on the machine (should be ~0;'
	echo "more means something else competed for the $(nproc) CPUs during that run); busy = all CPU time / ($(nproc) x wall time):"
	echo
	echo '| run | req/s | p50 ms | p99 ms | max ms | non-2xx | sock err | statuses | 5xx in log | CPU s: server / mariadbd / nginx / wrk / other | busy |'
	echo '|---|---:|---:|---:|---:|---:|---:|---|---:|---|---:|'
	for n in "${ORDER[@]}"; do
		st=$(get "$n" status | sed 's/,/, /g')
		printf '| %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s / %s / %s | %s |\n' "$n" "$(get "$n" rps)" \
			"$(get "$n" p50_ms)" "$(get "$n" p99_ms)" "$(get "$n" max_ms)" "$(get "$n" non2xx)" \
			"$(get "$n" errors)" "${st:--}" "$(case $n in bare*) echo - ;; *) srv "$n" log_5xx ;; esac)" \
			"$(srv "$n" server_cpu)" "$(srv "$n" db_cpu)" "$(srv "$n" nginx_cpu)" "$(srv "$n" wrk_cpu)" \
			"$(srv "$n" other_cpu)" "$(srv "$n" busy)"
	done
	echo
	for s in "${SCENARIOS[@]}"; do
		[ "$s" != list ] || continue
		echo "- $s statuses: new $(statuses "$s" new); base $(statuses "$s" base)"
	done
	[[ " ${SCENARIOS[*]} " != *" create "* ]] ||
		echo "- create: $CREATED_201 answered 201 in $((2 * ROUNDS)) runs; rows added: $((CREATE_ROWS - CREATE_ROWS_BEFORE))" \
		"(rows - 201s = $((CREATE_ROWS - CREATE_ROWS_BEFORE - CREATED_201)): requests in flight when wrk stopped, at most $((2 * ROUNDS * CONNS)))"
	for s in "${SCENARIOS[@]}"; do
		echo "- $s, CPU per request (todod): new $(awk -v c="$(agg_srv "$s" new server_cpu)" -v n="$(agg "$s" new requests sum)" 'BEGIN { printf "%.0f", (n > 0 ? 1e6 * c / n : 0) }') µs," \
			"base $(awk -v c="$(agg_srv "$s" base server_cpu)" -v n="$(agg "$s" base requests sum)" 'BEGIN { printf "%.0f", (n > 0 ? 1e6 * c / n : 0) }') µs (CPU ticks over the runs / requests)"
	done
	echo "- new todod (${NEW_LOG#"$ROOT"/}) during the runs: $(log_counts "$C/new-during.log")"
	echo "- base todod (${BASE_LOG#"$ROOT"/}) during the runs: $(log_counts "$C/base-during.log")"
	echo "- bench nginx error logs: $N_NGINX error lines"
} | tee "$OUT"
log "raw wrk output, logs and compare.md in $B (build/bench/compare/)"
