#!/bin/bash
# bench/revocations.sh: what 10,000 live token revocations in each todod's
# memory cost the list, measured in one run against the dev stack of
# scripts/up (by hand, not part of scripts/test; needs wrk):
#
#   bench/revocations.sh        # runs of BENCH_SECONDS (10) each
#
# Order: list with none, 10,000 revocations inserted into the database
# (other users', expiring 45 s later, read by the poller within
# revocation_poll_ms), list twice, wait for them to expire and be purged
# from memory, list with none again: none, 10k, 10k, none. Prints req/s of
# each run and mean(10k) / mean(none). Only 127.0.0.1 is loaded; the
# inserted rows expire by themselves.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh" # bench_user
cd "$ROOT"

SECS=${BENCH_SECONDS:-10}
N=${BENCH_REVOCATIONS:-10000}
URL=http://127.0.0.1:${TODOD_PORT:-8080}
B=$ROOT/build/bench
SOCK=$ROOT/var/run/mariadb.sock
mkdir -p "$B"
for c in wrk curl python3 mariadb; do
	command -v "$c" >/dev/null || die "$c is not installed"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/health")" = 200 ] ||
	die "$URL/api/health is not 200: run scripts/up first"

# A user with a page of todos to list.
TOKEN=$(bench_user "$URL" 50 rev)
(umask 077 && echo "$TOKEN" >"$B/token-rev")

run() { # NAME -> req/s
	BENCH_TOKEN_FILE=$B/token-rev wrk -t2 -c64 -d"${SECS}s" --latency -s bench/list.lua "$URL" \
		>"$B/rev-$1.txt" 2>&1
	sed -n 's/^BENCH .*rps=\([0-9.]*\).*/\1/p' "$B/rev-$1.txt"
}

log "== list, no revocations"
none1=$(run none-1)
expires=$(($(date +%s%3N) + 45000))
log "== inserting $N revocations (expire in 45 s)"
python3 - "$N" "$expires" <<'EOF' | mariadb --no-defaults --socket="$SOCK" -uroot todod
import os, sys
n, exp = int(sys.argv[1]), int(sys.argv[2])
rows = []
for i in range(n):
    b = bytearray(os.urandom(16))
    b[6] = 0x70 | (b[6] & 0x0f)
    b[8] = 0x80 | (b[8] & 0x3f)
    # Users that do not exist: their tokens are never presented.
    rows.append("(%d, 0x%s, 1, %d)" % (10**12 + i % 1000, b.hex(), exp))
for k in range(0, n, 1000):
    print("INSERT INTO revocations (user_id, jti, cutoff, expires_ms) VALUES %s;"
          % ",".join(rows[k:k + 1000]))
EOF
sleep 2
held=$(curl -s "$URL/api/metrics" | sed -n 's/^todod_revocations //p')
log "== list, $N revocations in the database, $held in todod's memory"
[ "${held:-0}" -ge "$N" ] || die "todod holds $held revocations, not $N"
rev1=$(run rev-1)
rev2=$(run rev-2)
wait_s=$(((expires - $(date +%s%3N)) / 1000 + 12))
log "== waiting ${wait_s}s for them to expire and leave memory"
sleep "$wait_s"
log "== list, none again ($(curl -s "$URL/api/metrics" | sed -n 's/^todod_revocations //p') in memory)"
none2=$(run none-2)
mariadb --no-defaults --socket="$SOCK" -uroot todod -e \
	"DELETE FROM revocations WHERE user_id >= 1000000000000"
awk -v a="$none1" -v b="$rev1" -v c="$rev2" -v d="$none2" -v n="$N" 'BEGIN {
	printf "| run | req/s |\n|---|---:|\n| none | %.0f |\n| %d revoked | %.0f |\n| %d revoked | %.0f |\n| none | %.0f |\n", a, n, b, n, c, d
	printf "\nmean(%d revoked) / mean(none) = %.3f\n", n, (b + c) / (a + d)
}' | tee "$B/revocations.md"
