#!/bin/bash
# bench/cluster.sh: what read-your-writes across Galera nodes costs. Runs
# the list (GET /api/todos, 20 todos with their total) and create against
# the cluster of scripts/cluster (nginx on 127.0.0.1:8081, two todod), with
# todod's db_sync_wait at 7 (the default: every statement waits until its
# node has applied what the cluster committed before it) and at 0 (off),
# alternated A B A B so that drift shows; then the same list against the
# single stack of scripts/up (127.0.0.1:8080) for scale. Prints requests/s
# and p50/p99 per run and the ratios sync/off.
#
#   bench/cluster.sh            # BENCH_SECONDS (5) per run, c8, 2 rounds
#
# Restarts the cluster's two todod (SIGTERM, then scripts/cluster up) to
# switch the setting, and leaves them at the default. Loopback only,
# bounded: 2 rounds x 2 settings x 2 scenarios x BENCH_SECONDS.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh" # bench_user
cd "$ROOT"

SECONDS_EACH=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNS:-8}
DIR=$ROOT/var/cluster
URL=http://127.0.0.1:${TODOD_CLUSTER_PORT:-8081}
OUT=$ROOT/build/bench/cluster
mkdir -p "$OUT"

command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"
[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$URL/api/health")" = 200 ] ||
	scripts/cluster up >/dev/null

BENCH_TOKEN=$(bench_user "$URL" 20 bench)
export BENCH_TOKEN

restart_todod() { # restart_todod SYNC_WAIT
	local name pid
	for name in todod1 todod2; do
		pid=$(cat "$DIR/$name.pid")
		kill -TERM "$pid"
		for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	done
	TODOD_DB_SYNC_WAIT=$1 scripts/cluster up >/dev/null
}

run() { # run LABEL SCRIPT URL
	local f=$OUT/$1.txt
	wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" --latency -s "bench/$2" "$3" >"$f" 2>&1
	grep '^BENCH ' "$f" | sed "s/^BENCH/$1/"
}

results=()
for round in 1 2; do
	for sw in 7 0; do
		restart_todod "$sw"
		sleep 1
		results+=("$(run "list-sync$sw-r$round" list.lua "$URL")")
		results+=("$(run "create-sync$sw-r$round" create.lua "$URL")")
	done
done
restart_todod 7
if [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' http://127.0.0.1:8080/api/health)" = 200 ]; then
	T1=$(bench_user http://127.0.0.1:8080 20 bench)
	results+=("$(BENCH_TOKEN=$T1 run list-single list.lua http://127.0.0.1:8080)")
fi
printf '%s\n' "${results[@]}" | tee "$OUT/results.txt"
python3 - "$OUT/results.txt" <<'EOF'
import re, sys
rps = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) .*rps=([0-9.]+).*p50_ms=([0-9.]+) p99_ms=([0-9.]+)", line)
    if m:
        rps[m.group(1)] = (float(m.group(2)), float(m.group(3)), float(m.group(4)))
for scen in ("list", "create"):
    on = [rps[k][0] for k in rps if k.startswith(scen + "-sync7")]
    off = [rps[k][0] for k in rps if k.startswith(scen + "-sync0")]
    if on and off:
        print("%s: sync_wait=7 %.0f req/s, off %.0f req/s, ratio %.2f" % (
            scen, sum(on) / len(on), sum(off) / len(off), sum(on) / sum(off)))
if "list-single" in rps:
    on = [rps[k][0] for k in rps if k.startswith("list-sync7")]
    print("list: cluster (sync_wait=7) / single stack: %.2f" % (sum(on) / len(on) / rps["list-single"][0]))
EOF
