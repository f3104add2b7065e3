#!/bin/bash
# bench/profile.sh: where todod's own CPU goes on the list (GET /api/todos of
# a user with 20 todos, the issue's "list 20"), by hand (needs wrk, perf
# and/or valgrind):
#
#   bench/profile.sh              # perf, then callgrind
#   BENCH_PROFILER=perf bench/profile.sh
#   BENCH_PROFILER=callgrind bench/profile.sh
#
# A further todod (the stack's binary and config, its own socket; the stack
# of bench_stack in bench/lib.sh: the dev stack by default) behind its own
# nginx gets the load; the profile is of that process only:
#   perf       perf record -e cpu-clock -g -p PID for BENCH_PROFILE_SECONDS
#              (20) while wrk -c64 runs: sampled time (this VM has no
#              hardware counters: `perf stat -e instructions true` says
#              "not supported", the cpu-clock software event works).
#   callgrind  the todod runs under valgrind --tool=callgrind for
#              BENCH_PROFILE_SECONDS of wrk -c8 (some 50x slower), then
#              stops; instruction counts, exact but without waiting time.
# Writes build/bench/profile/{perf,callgrind}.txt: self and inclusive cost
# by function and by shared object. Everything it starts is stopped by pid.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
cd "$ROOT"

SECS=${BENCH_PROFILE_SECONDS:-20}
PROFILERS=${BENCH_PROFILER:-perf callgrind}
P=$ROOT/build/bench/profile
mkdir -p "$P"
chmod 0755 "$ROOT/build/bench" "$P"
command -v wrk >/dev/null || die "wrk is not installed"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	bench_stop_all
	[ -z "$PRIVATE_DB_PIDFILE" ] || mariadb_stop "$PRIVATE_DB_PIDFILE"
	rm -f "$P"/*.sock
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_stack "${BENCH_STACK:-dev}" "$P/stack"
BIN=$P/todod.bin
cp "/proc/$TODOD_PID/exe" "$BIN"
DB_NAME=$(bench_setting db_name "$CONF")

# A user with exactly 20 todos (sign-up through the API, rows by LOAD DATA).
PORT=$(bench_free_port)
bench_start_nginx "$P/nginx-direct" "$PORT" "$TODOD_SOCKET" 1000000r/s 1000000
EMAIL=bench-prof-$(date +%s)-$$@bench.invalid
(umask 077 && bench_sign_up "http://127.0.0.1:$PORT" "$EMAIL" "bench-password-$$" >"$P/token")
uid=$(mariadb --no-defaults --socket="$DB_SOCKET" -uroot -N "$DB_NAME" -e "SELECT id FROM users WHERE email = '$EMAIL'")
echo "$uid 20" >"$P/plan"
"$BENCH_PY" bench/seed.py todos "$DB_SOCKET" "$DB_NAME" "$P/plan" --tmp "$P" >/dev/null

report_perf() { # DATA OUT (head closes the pipes early: no pipefail here)
	set +o pipefail
	{
		echo "# perf report: todod (cpu-clock samples), self cost by shared object"
		perf report -i "$1" --stdio --no-children --sort dso -g none 2>/dev/null | grep -v '^$' | head -n 30
		echo
		echo "# self cost by function"
		perf report -i "$1" --stdio --no-children --sort dso,symbol -g none 2>/dev/null |
			grep -v '^$' | head -n 70
		echo
		echo "# inclusive cost (children) by function: system calls and who makes them"
		echo "# (Debian's libraries have no frame pointers: user-space chains are partial)"
		perf report -i "$1" --stdio --children --sort symbol -g none 2>/dev/null |
			grep -v '^$' | head -n 70
	} >"$2"
	set -o pipefail
}

for prof in $PROFILERS; do
	sock=$P/$prof.sock
	case $prof in
	perf)
		command -v perf >/dev/null || { log "perf is not installed: skipped"; continue; }
		bench_start_todod perf "$BIN" "$CONF" "$sock" "$P/todod-perf.pid" "$P/todod-perf.log"
		conns=64
		;;
	callgrind)
		command -v valgrind >/dev/null || { log "valgrind is not installed: skipped"; continue; }
		log "== starting todod under callgrind on ${sock#"$ROOT"/}"
		rm -f "$sock" "$P/callgrind.out"
		: >"$P/todod-callgrind.log"
		env TODOD_LISTEN="unix:$sock" valgrind --tool=callgrind --callgrind-out-file="$P/callgrind.out" \
			"$BIN" -c "$CONF" serve </dev/null >>"$P/todod-callgrind.log" 2>&1 &
		echo $! >"$P/todod-callgrind.pid"
		BENCH_PIDFILES+=("$P/todod-callgrind.pid:")
		for ((i = 0; i < 600; i++)); do
			[ -S "$sock" ] && break
			kill -0 "$(cat "$P/todod-callgrind.pid")" 2>/dev/null || die "todod under valgrind exited; see $P/todod-callgrind.log"
			sleep 0.1
		done
		[ -S "$sock" ] || die "todod under valgrind made no socket in 60 s"
		conns=8
		;;
	*) die "BENCH_PROFILER: perf or callgrind, not '$prof'" ;;
	esac
	port=$(bench_free_port)
	bench_start_nginx "$P/nginx-$prof" "$port" "$sock" 1000000r/s 1000000
	[ "$(bench_code -H "Authorization: Bearer $(cat "$P/token")" "http://127.0.0.1:$port/api/todos")" = 200 ] ||
		die "the list does not answer 200 through $prof's todod"
	log "== $prof: list20, wrk -c$conns for ${SECS}s"
	pid=$(cat "$P/todod-$prof.pid")
	if [ "$prof" = perf ]; then
		BENCH_TOKEN_FILE=$P/token wrk -t2 -c"$conns" -d"$((SECS + 2))s" --latency -s bench/list.lua \
			"http://127.0.0.1:$port" >"$P/perf-wrk.txt" 2>&1 &
		wpid=$!
		sleep 1
		perf record -e cpu-clock -F 999 -g -p "$pid" -o "$P/perf.data" -- sleep "$SECS" \
			>"$P/perf-record.log" 2>&1 || { cat "$P/perf-record.log" >&2; die "perf record failed"; }
		wait "$wpid"
		report_perf "$P/perf.data" "$P/perf.txt"
	else
		BENCH_TOKEN_FILE=$P/token wrk -t2 -c"$conns" -d"${SECS}s" --timeout 30s --latency -s bench/list.lua \
			"http://127.0.0.1:$port" >"$P/callgrind-wrk.txt" 2>&1
		kill -TERM "$pid"
		for ((i = 0; i < 600; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		[ -s "$P/callgrind.out" ] || die "callgrind wrote no profile; see $P/todod-callgrind.log"
		{
			echo "# callgrind: todod under list20 load ($(sed -n 's/^BENCH //p' "$P/callgrind-wrk.txt" | cut -d' ' -f1-3))"
			echo "# inclusive"
			callgrind_annotate --inclusive=yes "$P/callgrind.out" 2>/dev/null | head -n 70 || true
			echo
			echo "# self"
			callgrind_annotate "$P/callgrind.out" 2>/dev/null | head -n 50 || true
		} >"$P/callgrind.txt"
	fi
	log "   $(sed -n 's/^BENCH //p' "$P/$prof-wrk.txt" | cut -d' ' -f1-6); report in ${P#"$ROOT"/}/$prof.txt"
done
