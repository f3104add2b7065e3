#!/bin/sh
# Builds the libFuzzer targets into build-fuzz/ (clang, ASan+UBSan) when
# needed and runs each for FUZZ_SECONDS (default 30) on a scratch copy of its
# seed corpus, so that the corpus in the repository does not grow. Prints
# "<target>: ok" or the failure; exits non-zero if any target failed.
# Usage: fuzz/run.sh [target...]   (default: every target; names without
# the fuzz_ prefix, e.g. "json_parse jwt_verify").
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
secs=${FUZZ_SECONDS:-30}

# The longest input worth trying per target: a little above the limits the
# service enforces (JWT_TOKEN_MAX is 4096), small where the format is short.
max_len() {
	case $1 in
	json_check | json_parse) echo 8192 ;;
	jwt_verify) echo 4200 ;;
	jwt_signed) echo 3200 ;; # base64url makes that a token above 4096
	http_query) echo 1024 ;;
	utf8_count | str_trim | router) echo 256 ;;
	http_json_type) echo 128 ;;
	rfc3339) echo 64 ;;
	parse_id | parse_uint) echo 48 ;;
	*) echo 4096 ;;
	esac
}

if [ $# -gt 0 ]; then
	targets=$*
else
	targets=$(ls "$root/fuzz/corpus")
fi

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$root" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
elif ! grep -q 'fuzz/fuzz_' "$build/build.ninja"; then
	meson configure "$build" -Dfuzz=true >/dev/null
fi
exes=
for t in $targets; do
	exes="$exes fuzz/fuzz_$t"
done
# shellcheck disable=SC2086 # one word per target
ninja -C "$build" $exes >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
logs=$build/fuzz-logs
mkdir -p "$logs"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

failed=0
for t in $targets; do
	corpus=$tmp/$t
	artifacts=$build/fuzz-artifacts/$t/
	log=$logs/$t.log

	mkdir -p "$corpus" "$artifacts"
	cp -R "$root/fuzz/corpus/$t/." "$corpus/"
	if "$build/fuzz/fuzz_$t" -max_total_time="$secs" \
		-max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$artifacts" \
		"$corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "$t: ok"
		echo "  $runs runs in ${secs}s, log $log"
	else
		failed=1
		echo "$t: FAILED (log $log)"
		grep -E 'ERROR:|SUMMARY:|invariant failed|runtime error|Test unit written' \
			"$log" | sed 's/^/  /' | head -20
		unit=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
		if [ -n "$unit" ] && [ -f "$unit" ]; then
			echo "  input (hex): $(head -c 1024 "$unit" | od -An -v -tx1 | tr -d ' \n')"
		fi
	fi
done
exit $failed
