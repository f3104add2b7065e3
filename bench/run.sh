#!/bin/bash
# bench/run.sh: load-test the running development stack with wrk and print
# every figure as a ratio against a baseline measured in the same run. Run
# by hand (not part of scripts/test), as the user that ran scripts/up:
#
#   bench/run.sh                  # each run BENCH_SECONDS (10) long
#
# What it does:
#   1. Makes sure the stack of scripts/up answers on http://127.0.0.1:8080
#      (runs scripts/up when /api/health is not 200, and leaves it running).
#   2. Builds bench/bare.c (build/bench-bare): a bare libfcgi responder with
#      as many threads as todod has workers, on its own unix socket.
#   3. Starts two extra nginx instances from the same template
#      (conf/nginx.conf.in, through scripts/render-nginx dev), so they run
#      the same nginx build and the same settings as the dev stack:
#        :8090  /api/ -> bench-bare          (the baseline)
#        :8091  /api/ -> todod's own socket, sign-in rate limit out of reach
#               (used for the setup's sign-ups and for the sign-in flood that
#               gets past nginx's per-address limit: many addresses, or a
#               proxy)
#   4. Signs up two fresh users (bench-<run>@bench.invalid for reads and
#      sign-ins, bench-create-<run>@bench.invalid for writes) and creates 1000
#      todos for the first one through the API.
#   5. Runs wrk (--latency, bench/*.lua) against 127.0.0.1 only:
#        bare c=64 (baseline), health c=64, list c=64, list c=256,
#        create c=64, get c=64 (GET /api/todos/{id}, the newest seeded
#        todo), patch c=64 (PATCH /api/todos/{id} without If-Match, round-
#        robin over the 100 newest seeded todos), list c=64 + a sign-in
#        flood through :8080 (nginx's limit_req answers most), list c=64 +
#        a sign-in flood through :8091
#        (every sign-in reaches todod's scrypt), bare again (drift check).
#   6. Prints a table (also written to build/bench/results.md): requests/s,
#      p50/p99/max latency, non-2xx, socket errors, ratio against bare; then
#      list/bare (goal >= 1/3), list+sign-ins / list alone, the create count
#      against the rows in the database, the CPU time each server process
#      (MariaDB, todod, nginx, bench-bare) used during each run, and what the
#      logs say. wrk shares the machine's cores with the servers.
#
# Everything it starts (bench-bare, the two nginx instances, a background
# wrk) is stopped by pid on exit. Raw wrk output, configs and logs stay in
# build/bench/. Each run leaves two users and their todos in the dev
# database (scripts/down; rm -rf var/ resets it), and the sign-in flood
# through :8080 uses up 127.0.0.1's sign-in/sign-up allowance on the dev
# nginx for a minute or two (those routes answer 429 meanwhile) and writes a
# "limiting requests" warning per refused sign-in to var/log/nginx-error.log
# (some 200,000 lines, ~45 MB, per run on a 2-core machine).
#
# Environment:
#   BENCH_SECONDS (10)        length of each wrk run
#   BENCH_WRK_THREADS (2)     wrk threads per run
#   BENCH_SIGNIN_CONNS (16)   connections of the sign-in flood
#   BENCH_SIGNIN_DELAY_MS (0) pause before each sign-in per connection (0: unpaced)
#   BENCH_TIMEOUT (10s)       wrk's per-request timeout
#   BENCH_TODOS (1000)        todos created for the list user
#   BENCH_BARE_PORT (8090), BENCH_DIRECT_PORT (8091), TODOD_PORT (8080)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh" # ROOT, PATH with sbin, pid_alive, stop_pidfile
cd "$ROOT"

SECS=${BENCH_SECONDS:-10}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
SIGNIN_CONNS=${BENCH_SIGNIN_CONNS:-16}
TIMEOUT=${BENCH_TIMEOUT:-10s}
NTODOS=${BENCH_TODOS:-1000}
PORT=${TODOD_PORT:-8080}
BARE_PORT=${BENCH_BARE_PORT:-8090}
DIRECT_PORT=${BENCH_DIRECT_PORT:-8091}
URL=http://127.0.0.1:$PORT
BARE_URL=http://127.0.0.1:$BARE_PORT
DIRECT_URL=http://127.0.0.1:$DIRECT_PORT
B=$ROOT/build/bench
TODOD_SOCKET=$ROOT/var/run/todod.sock
TODOD_LOG=$ROOT/var/log/todod.log
NGINX_ERR=$ROOT/var/log/nginx-error.log
PASSWORD=bench-password-$$

for c in wrk curl cc nginx python3; do
	command -v "$c" >/dev/null || die "$c is not installed"
done
[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a whole number of seconds"

code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" || true; }

# --- 1. the dev stack ----------------------------------------------------
if [ "$(code "$URL/api/health")" != 200 ]; then
	log "== $URL/api/health is not 200: running scripts/up (it stays up afterwards)"
	"$ROOT/scripts/up" >/dev/null
fi
[ "$(code "$URL/api/health")" = 200 ] || die "$URL/api/health is not 200 after scripts/up"
[ -S "$TODOD_SOCKET" ] || die "no todod socket at $TODOD_SOCKET (not the stack of scripts/up?)"

mkdir -p "$B"
chmod 0755 "$B"

# Leftovers of an interrupted run (by pid file and process name only).
stop_pidfile "$B/nginx-bare/nginx.pid" nginx 10
stop_pidfile "$B/nginx-direct/nginx.pid" nginx 10
stop_pidfile "$B/bare.pid" bench-bare 10

BG_WRK=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$BG_WRK" ] && kill -0 "$BG_WRK" 2>/dev/null; then
		kill -TERM "$BG_WRK" 2>/dev/null || true
		wait "$BG_WRK" 2>/dev/null || true
	fi
	stop_pidfile "$B/nginx-bare/nginx.pid" nginx 10
	stop_pidfile "$B/nginx-direct/nginx.pid" nginx 10
	stop_pidfile "$B/bare.pid" bench-bare 10
	rm -f "$B/bare.sock"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 2. the baseline responder -------------------------------------------
log "== building build/bench-bare"
cc -O2 -Wall bench/bare.c -lfcgi -lpthread -o build/bench-bare

# As many threads as the running todod has workers (its start line says).
WORKERS=$(grep -o 'listening on .* with [0-9]* workers' "$TODOD_LOG" 2>/dev/null |
	tail -n 1 | grep -o '[0-9]* workers' | grep -o '[0-9]*' || true)
WORKERS=${WORKERS:-16}

rm -f "$B/bare.sock"
build/bench-bare "$B/bare.sock" "$WORKERS" 1024 </dev/null >"$B/bare.log" 2>&1 &
echo $! >"$B/bare.pid"
for ((i = 0; i < 50; i++)); do
	[ -S "$B/bare.sock" ] && break
	kill -0 "$(cat "$B/bare.pid")" 2>/dev/null || die "bench-bare exited: $(cat "$B/bare.log")"
	sleep 0.1
done
[ -S "$B/bare.sock" ] || die "bench-bare made no socket"

# --- 3. two nginx instances from the project's template -------------------
start_nginx() { # NAME PORT SOCKET RATE BURST
	local dir=$B/nginx-$1
	mkdir -p "$dir" "$B/web"
	chmod 0755 "$dir" "$B/web"
	: >"$dir/error.log"
	: >"$dir/access.log"
	"$ROOT/scripts/render-nginx" dev --port "$2" --socket "$3" --web-root "$B/web" \
		--rate "$4" --burst "$5" --pid "$dir/nginx.pid" \
		--error-log "$dir/error.log" --access-log "$dir/access.log" -o "$dir/nginx.conf"
	nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" </dev/null ||
		die "nginx ($1) did not start; see $dir/error.log"
}
start_nginx bare "$BARE_PORT" "$B/bare.sock" 10r/m 20
start_nginx direct "$DIRECT_PORT" "$TODOD_SOCKET" 1000000r/s 1000000
for u in "$BARE_URL" "$DIRECT_URL"; do
	for ((i = 0; i < 50; i++)); do
		[ "$(code "$u/api/health")" = 200 ] && break
		sleep 0.1
	done
	[ "$(code "$u/api/health")" = 200 ] || die "$u/api/health is not 200"
done

# --- 4. users and todos ----------------------------------------------------
RUN_ID=$(date -u +%Y%m%d%H%M%S)-$$
EMAIL=bench-$RUN_ID@bench.invalid
CREATE_EMAIL=bench-create-$RUN_ID@bench.invalid

sign_up() { # EMAIL -> token on stdout
	local out
	out=$(curl -s -m 10 -X POST "$DIRECT_URL/api/auth/sign-up/email" \
		-H 'Content-Type: application/json' \
		-d "{\"name\":\"Bench\",\"email\":\"$1\",\"password\":\"$PASSWORD\"}") || true
	python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$out" 2>/dev/null ||
		die "sign-up of $1 failed: $out"
}
log "== signing up $EMAIL and $CREATE_EMAIL"
(umask 077 && sign_up "$EMAIL" >"$B/token")
(umask 077 && sign_up "$CREATE_EMAIL" >"$B/token-create")
(umask 077 && printf '{"email":"%s","password":"%s"}' "$EMAIL" "$PASSWORD" >"$B/signin.json")
TOKEN=$(cat "$B/token")

total_of() { # TOKENFILE -> the list's total
	curl -s -m 10 "$URL/api/todos?limit=1" -H "Authorization: Bearer $(cat "$1")" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'
}

# Through the API, 16 at a time (curl --parallel); a further pass makes up
# for any request that failed.
log "== creating $NTODOS todos for $EMAIL"
prios=(low normal normal high)
for pass in 1 2 3; do
	have=$(total_of "$B/token")
	[ "$have" -ge "$NTODOS" ] && break
	(
		umask 077
		for ((i = have + 1; i <= NTODOS; i++)); do
			[ "$i" -gt $((have + 1)) ] && echo next
			echo "url = \"$URL/api/todos\""
			echo "header = \"Authorization: Bearer $TOKEN\""
			echo 'header = "Content-Type: application/json"'
			echo "data = \"{\\\"title\\\":\\\"seed $i of $RUN_ID\\\",\\\"description\\\":\\\"made by bench/run.sh\\\",\\\"priority\\\":\\\"${prios[i % 4]}\\\"}\""
			echo 'output = "/dev/null"'
			# shellcheck disable=SC2028 # a literal \n for curl's write-out
			echo 'write-out = "%{http_code}\n"'
		done >"$B/seed.curl"
	)
	curl -sS --parallel --parallel-max 16 -K "$B/seed.curl" >"$B/seed.codes" 2>"$B/seed.err" || true
	rm -f "$B/seed.curl"
	if grep -qv '^201$' "$B/seed.codes"; then
		log "   pass $pass: $(sort "$B/seed.codes" | uniq -c | tr -s ' \n' ' ')" \
			"(curl: $(grep -v '%' "$B/seed.err" | sort | uniq -c | head -n 3 | tr -s ' \n' ' '))"
	fi
done
[ "$(total_of "$B/token")" = "$NTODOS" ] || die "the list user has $(total_of "$B/token") todos, not $NTODOS"
LIST_BYTES=$(curl -s -m 10 "$URL/api/todos" -H "Authorization: Bearer $TOKEN" | wc -c)
# The ids for get and patch: the 100 newest of the seeded todos.
TODO_IDS=$(curl -s -m 10 "$URL/api/todos?limit=100" -H "Authorization: Bearer $TOKEN" |
	python3 -c 'import json,sys; print(",".join(str(t["id"]) for t in json.load(sys.stdin)["items"]))') ||
	die "could not list the seeded todos' ids"
TODO_ID=${TODO_IDS%%,*}
[[ $TODO_ID =~ ^[0-9]+$ ]] || die "no todo id in the list: '$TODO_IDS'"

# --- 5. the runs -----------------------------------------------------------
# CPU ticks (user + system, all threads) of the server processes, by pid:
# MariaDB, todod, every nginx worker (dev and bench), bench-bare. What is
# left of the machine's CPU time went to wrk, the kernel's softirqs and
# whatever else shares the cores.
HZ=$(getconf CLK_TCK)
ticks() { # PID... -> summed utime+stime
	local t=0 p v
	for p in "$@"; do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
NGINX_WORKERS=()
for f in "$ROOT/var/run/nginx.pid" "$B/nginx-bare/nginx.pid" "$B/nginx-direct/nginx.pid"; do
	read -r -a kids <<<"$(pgrep -P "$(cat "$f")" | tr '\n' ' ')"
	NGINX_WORKERS+=("${kids[@]}")
done
DB_PID=$(cat "$ROOT/var/run/mariadb.pid")
TODOD_PID=$(cat "$ROOT/var/run/todod.pid")
BARE_PID=$(cat "$B/bare.pid")
cpu_ticks() {
	echo "mariadbd $(ticks "$DB_PID")"
	echo "todod $(ticks "$TODOD_PID")"
	echo "nginx $(ticks "${NGINX_WORKERS[@]}")"
	echo "bare $(ticks "$BARE_PID")"
	awk '/^cpu / { print "all", $2 + $3 + $4 + $7 + $8; print "steal", $9 }' /proc/stat
}

LOG_START=$(($(wc -l <"$TODOD_LOG") + 1))
NGINX_ERR_START=$(($(wc -c <"$NGINX_ERR") + 1))
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)

# wrk_run NAME URL CONNS THREADS SCRIPT [SECONDS]: raw output in $B/NAME.txt
# and the CPU time each server process used meanwhile in $B/NAME.cpu.
wrk_run() {
	local before t0
	before=$(cpu_ticks)
	t0=$(date +%s%N)
	wrk -t"$4" -c"$3" -d"${6:-$SECS}s" --timeout "$TIMEOUT" --latency -s "bench/$5" "$2" \
		>"$B/$1.txt" 2>&1 || { cat "$B/$1.txt" >&2; die "wrk ($1) failed"; }
	grep -q '^BENCH ' "$B/$1.txt" || { cat "$B/$1.txt" >&2; die "wrk ($1) printed no BENCH line"; }
	paste <(echo "$before") <(cpu_ticks) |
		awk -v hz="$HZ" -v wall="$((($(date +%s%N) - t0) / 1000000))" '
			{ printf "%s=%.2f ", $1, ($4 - $2) / hz }
			END { printf "wall=%.3f\n", wall / 1000 }' >"$B/$1.cpu"
}
# A background sign-in flood that starts 1 s before and ends 1 s after the
# list run beside it.
mixed_run() { # NAME SIGNIN_URL
	log "== $1: sign-ins at $2 (c=$SIGNIN_CONNS) beside list (c=64)"
	wrk -t1 -c"$SIGNIN_CONNS" -d"$((SECS + 2))s" --timeout "$TIMEOUT" --latency \
		-s bench/signin.lua "$2" >"$B/$1-signin.txt" 2>&1 &
	BG_WRK=$!
	sleep 1
	wrk_run "$1" "$URL" 64 "$WRK_THREADS" list.lua
	wait "$BG_WRK" || { cat "$B/$1-signin.txt" >&2; die "wrk (sign-in flood) failed"; }
	BG_WRK=
}

export BENCH_RUN_ID=$RUN_ID BENCH_TOKEN_FILE=$B/token BENCH_SIGNIN_FILE=$B/signin.json
log "== runs of ${SECS}s each (load average before: $LOADAVG)"
log "== bare: nginx -> bench-bare ($WORKERS threads), c=64"
wrk_run bare "$BARE_URL" 64 "$WRK_THREADS" list.lua
sleep 1
log "== health c=64"
wrk_run health "$URL" 64 "$WRK_THREADS" health.lua
sleep 1
log "== list c=64"
wrk_run list64 "$URL" 64 "$WRK_THREADS" list.lua
sleep 1
log "== list c=256"
wrk_run list256 "$URL" 256 "$WRK_THREADS" list.lua
sleep 1
log "== create c=64"
BENCH_TOKEN_FILE=$B/token-create wrk_run create "$URL" 64 "$WRK_THREADS" create.lua
sleep 1
log "== get c=64 (todo $TODO_ID)"
BENCH_TODO_ID=$TODO_ID wrk_run get "$URL" 64 "$WRK_THREADS" get.lua
sleep 1
log "== patch c=64 (over $(tr ',' '\n' <<<"$TODO_IDS" | wc -l) todos)"
BENCH_TODO_IDS=$TODO_IDS wrk_run patch "$URL" 64 "$WRK_THREADS" patch.lua
sleep 1
mixed_run mixed-nginx "$URL"
sleep 1
mixed_run mixed-direct "$DIRECT_URL"
sleep 1
log "== bare again (drift check)"
wrk_run bare-end "$BARE_URL" 64 "$WRK_THREADS" list.lua
log "== done"

# --- 6. the table ------------------------------------------------------------
get() { # NAME KEY
	sed -n 's/^BENCH //p' "$B/$1.txt" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
status_of() { # NAME CODE -> count (0)
	local s
	s=$(get "$1" status | tr ',' '\n' | sed -n "s/^$2://p")
	echo "${s:-0}"
}

BARE_RPS=$(get bare rps)
LIST_RPS=$(get list64 rps)
CREATED_201=$(status_of create 201)
CREATE_SECS=$(get create duration_s)
CREATE_ROWS=$(total_of "$B/token-create")

# Log lines written by todod during the runs.
sed -n "${LOG_START},\$p" "$TODOD_LOG" >"$B/todod-during.log"
T_ERR=$(grep -c ' error ' "$B/todod-during.log" || true)
T_WARN=$(grep -c ' warn ' "$B/todod-during.log" || true)
T_5XX=$(grep -cE -- '-> 5[0-9][0-9]' "$B/todod-during.log" || true)
tail -c +"$NGINX_ERR_START" "$NGINX_ERR" >"$B/nginx-error-during.log"
N_LIMIT=$(grep -c 'limiting requests' "$B/nginx-error-during.log" || true)
N_OTHER=$(grep -v 'limiting requests' "$B/nginx-error-during.log" | grep -cE '\[(warn|error|crit|alert|emerg)\]' || true)
N_BENCH=$(cat "$B/nginx-bare/error.log" "$B/nginx-direct/error.log" | grep -cE '\[(error|crit|alert|emerg)\]' || true)

row() { # LABEL NAME CONNS
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$3" \
		"$(printf '%.0f' "$(get "$2" rps)")" "$(get "$2" p50_ms)" "$(get "$2" p99_ms)" \
		"$(get "$2" max_ms)" "$(get "$2" non2xx)" "$(get "$2" errors)" \
		"$(ratio "$(get "$2" rps)" "$BARE_RPS")"
}
signin_row() { # LABEL NAME
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$SIGNIN_CONNS" \
		"$(printf '%.0f' "$(get "$2" rps)")" "$(get "$2" p50_ms)" "$(get "$2" p99_ms)" \
		"$(get "$2" max_ms)" "$(get "$2" non2xx)" "$(get "$2" errors)" \
		"$(get "$2" status | sed 's/,/, /g')"
}
{
	echo "bench/run.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average before: $LOADAVG"
	echo "each run ${SECS}s, wrk -t$WRK_THREADS --latency; todod and bench-bare with $WORKERS threads;"
	echo "list = GET /api/todos (50 of $NTODOS todos + total, $LIST_BYTES bytes); bare body 47 bytes"
	echo
	echo '| run | conns | req/s | p50 ms | p99 ms | max ms | non-2xx | sock err | vs bare |'
	echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
	row "bare (nginx + libfcgi, baseline)" bare 64
	row "health" health 64
	row "list" list64 64
	row "list" list256 256
	row "create" create 64
	row "get (one todo)" get 64
	row "patch (round-robin, no If-Match)" patch 64
	row "list + sign-in flood via :$PORT (limit_req)" mixed-nginx 64
	row "list + sign-in flood past limit_req (:$DIRECT_PORT)" mixed-direct 64
	row "bare again (drift)" bare-end 64
	echo
	echo '| sign-in flood (beside the list run) | conns | req/s | p50 ms | p99 ms | max ms | non-2xx | sock err | statuses |'
	echo '|---|---:|---:|---:|---:|---:|---:|---:|---|'
	signin_row "via :$PORT (nginx limit_req)" mixed-nginx-signin
	signin_row "via :$DIRECT_PORT (straight to todod)" mixed-direct-signin
	echo
	echo "CPU seconds used during each run ($(nproc) CPUs; other = wrk, the kernel, anything else;"
	echo "busy = all CPU time / ($(nproc) x the run's wall time); steal = time the hypervisor gave elsewhere):"
	echo
	echo '| run | wall s | mariadbd | todod | nginx | bench-bare | other | busy | steal |'
	echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
	for n in bare health list64 list256 create get patch mixed-nginx mixed-direct bare-end; do
		awk -v n="$n" -v ncpu="$(nproc)" '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); c[kv[1]] = kv[2] }
			o = c["all"] - c["mariadbd"] - c["todod"] - c["nginx"] - c["bare"]
			printf "| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f%% | %.1f |\n", n, c["wall"],
				c["mariadbd"], c["todod"], c["nginx"], c["bare"], o < 0 ? 0 : o,
				100 * c["all"] / (ncpu * c["wall"]), c["steal"] }' "$B/$n.cpu"
	done
	echo
	LB=$(ratio "$LIST_RPS" "$BARE_RPS")
	echo "- list / bare (c=64): $LB ($(awk -v r="$LB" 'BEGIN { print (r >= 1/3) ? "meets" : "misses" }') the goal >= 0.33)"
	echo "- list c=256 / bare: $(ratio "$(get list256 rps)" "$BARE_RPS")"
	echo "- create / bare: $(ratio "$(get create rps)" "$BARE_RPS"); durable creates: $CREATED_201 answered 201 in ${CREATE_SECS}s = $(awk -v n="$CREATED_201" -v s="$CREATE_SECS" 'BEGIN { printf "%.0f", n / s }')/s; rows in the database: $CREATE_ROWS (rows - 201s = $((CREATE_ROWS - CREATED_201)), requests still in flight when wrk stopped)"
	echo "- get / bare: $(ratio "$(get get rps)" "$BARE_RPS"), statuses $(get get status | sed 's/,/, /g'); patch / bare: $(ratio "$(get patch rps)" "$BARE_RPS"), statuses $(get patch status | sed 's/,/, /g')"
	echo "- list with sign-in flood / list alone: via :$PORT $(ratio "$(get mixed-nginx rps)" "$LIST_RPS"), past limit_req $(ratio "$(get mixed-direct rps)" "$LIST_RPS")"
	for m in mixed-nginx mixed-direct; do
		echo "  - $m sign-ins: $(status_of $m-signin 200) signed in (200) and $(status_of $m-signin 429) shed (429) in $(get $m-signin duration_s)s"
	done
	echo "- bare drift (end / start): $(ratio "$(get bare-end rps)" "$BARE_RPS")"
	echo "- todod.log during the runs: $T_ERR error, $T_WARN warn, $T_5XX answers 5xx"
	echo "- nginx (dev) error log during the runs: $N_LIMIT 'limiting requests', $N_OTHER other warn/error lines; bench nginx: $N_BENCH error lines"
} | tee "$B/results.md"
log "raw wrk output, logs and results.md in $B"
