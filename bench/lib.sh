# shellcheck shell=bash
# shellcheck disable=SC2034 # it sets variables for the scripts that source it
# bench/lib.sh: what bench/run.sh and bench/compare.sh share: starting the
# baseline responder, bench-only todod and nginx instances (rendered from the
# project's template, optionally post-processed for FastCGI keep-conn),
# sign-ups through the API, and CPU accounting by pid.
#
# Source it after scripts/lib.sh (it uses ROOT, log, die, stop_pidfile);
# defines functions only. Every process it starts writes a pid file, so that
# the caller's cleanup stops exactly those pids (bench_stop_all).

# The pid files of everything started through this file, for bench_stop_all.
BENCH_PIDFILES=()
# Debian's python3 when there is one: a version manager's shim first in
# PATH can take most of a second to start, and the bench starts many.
BENCH_PY=python3
[ -x /usr/bin/python3 ] && BENCH_PY=/usr/bin/python3

bench_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" || true; }

# bench_wait_health URL: until URL/api/health answers 200 (5 s at most).
bench_wait_health() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(bench_code "$1/api/health")" = 200 ] && return 0
		sleep 0.1
	done
	die "$1/api/health is not 200"
}

# bench_free_port: a TCP port on 127.0.0.1 that nothing listens on now.
bench_free_port() {
	"$BENCH_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_wait_socket SOCKET PIDFILE LABEL LOG: until SOCKET exists (10 s).
bench_wait_socket() {
	local sock=$1 pidfile=$2 label=$3 logf=$4 i
	for ((i = 0; i < 100; i++)); do
		[ -S "$sock" ] && return 0
		kill -0 "$(cat "$pidfile")" 2>/dev/null || die "$label exited: $(tail -n 5 "$logf")"
		sleep 0.1
	done
	die "$label made no socket $sock; see $logf"
}

# bench_build_bare: build/bench-bare from bench/bare.c (when older).
bench_build_bare() {
	[ "$ROOT/build/bench-bare" -nt "$ROOT/bench/bare.c" ] && return 0
	log "== building build/bench-bare"
	mkdir -p "$ROOT/build"
	cc -O2 -Wall "$ROOT/bench/bare.c" -lfcgi -lpthread -o "$ROOT/build/bench-bare" ||
		die "cc bench/bare.c failed (libfcgi-dev?)"
}

# bench_start_bare SOCKET THREADS PIDFILE LOG: one bench-bare on SOCKET.
bench_start_bare() {
	local sock=$1 threads=$2 pidfile=$3 logf=$4
	stop_pidfile "$pidfile" bench-bare 10
	rm -f "$sock"
	"$ROOT/build/bench-bare" "$sock" "$threads" 1024 </dev/null >"$logf" 2>&1 &
	echo $! >"$pidfile"
	BENCH_PIDFILES+=("$pidfile:bench-bare")
	bench_wait_socket "$sock" "$pidfile" bench-bare "$logf"
}

# bench_start_todod LABEL BIN CONF SOCKET PIDFILE LOG [VAR=VALUE...]: one
# more todod with CONF's settings but its own socket (and the given TODOD_*
# overrides, e.g. TODOD_DB_NAME=...).
bench_start_todod() {
	local label=$1 bin=$2 conf=$3 sock=$4 pidfile=$5 logf=$6
	shift 6
	log "== starting todod ($label) on ${sock#"$ROOT"/}"
	stop_pidfile "$pidfile" todod 10
	rm -f "$sock"
	: >"$logf"
	env TODOD_LISTEN="unix:$sock" "$@" "$bin" -c "$conf" serve </dev/null >>"$logf" 2>&1 &
	echo $! >"$pidfile"
	BENCH_PIDFILES+=("$pidfile:todod")
	bench_wait_socket "$sock" "$pidfile" "todod ($label)" "$logf"
}

# bench_workers_of LOG: the worker count of todod's last start line in LOG.
bench_workers_of() {
	grep -o 'listening on .* with [0-9]* workers' "$1" 2>/dev/null |
		tail -n 1 | grep -o '[0-9]* workers' | grep -o '[0-9]*' || true
}

# bench_setting KEY CONF [BIN]: the value todod takes for KEY: $TODOD_KEY,
# else CONF's "key = value", else the default from BIN --sample-config.
bench_setting() {
	local key=$1 conf=$2 bin=${3:-$ROOT/build/todod} env v
	env=TODOD_$(tr '[:lower:]' '[:upper:]' <<<"$key")
	v=${!env:-}
	[ -n "$v" ] || v=$(sed -n "s/^[[:space:]]*${key}[[:space:]]*=[[:space:]]*\\([^[:space:]#]*\\).*/\\1/p" "$conf" 2>/dev/null | tail -n 1)
	[ -n "$v" ] || v=$("$bin" --sample-config 2>/dev/null | sed -n "s/^#\\{0,1\\}[[:space:]]*$key = \\([^[:space:]]*\\).*/\\1/p" | head -n 1)
	echo "$v"
}

# bench_start_nginx DIR PORT SOCKET RATE BURST [KEEPALIVE]: an nginx rendered
# by scripts/render-nginx dev (the dev stack's settings) in DIR, listening on
# 127.0.0.1:PORT, /api/ -> SOCKET, sign-in limit RATE/BURST; KEEPALIVE, when
# given, is render-nginx --keepalive (idle FastCGI connections kept per
# nginx worker; 0: one connection per request), else the dev default.
bench_start_nginx() {
	local dir=$1 port=$2 sock=$3 rate=$4 burst=$5 keep=${6:-}
	local extra=()
	[ -n "$keep" ] && extra=(--keepalive "$keep")
	mkdir -p "$dir" "$dir/web"
	chmod 0755 "$dir" "$dir/web"
	[ -f "$dir/web/index.html" ] || echo '<!doctype html><title>bench</title>' >"$dir/web/index.html"
	stop_pidfile "$dir/nginx.pid" nginx 10
	: >"$dir/error.log"
	: >"$dir/access.log"
	"$BENCH_PY" "$ROOT/scripts/render-nginx" dev --port "$port" --socket "$sock" --web-root "$dir/web" \
		--rate "$rate" --burst "$burst" --pid "$dir/nginx.pid" "${extra[@]}" \
		--error-log "$dir/error.log" --access-log "$dir/access.log" -o "$dir/nginx.conf" ||
		die "render-nginx failed for $dir"
	nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" </dev/null ||
		die "nginx ($dir) did not start; see $dir/error.log"
	BENCH_PIDFILES+=("$dir/nginx.pid:nginx")
	bench_wait_health "http://127.0.0.1:$port"
}

# bench_nginx_workers_of CONF: its worker_processes (a number).
bench_nginx_workers_of() {
	local n
	n=$(sed -n 's/^[[:space:]]*worker_processes[[:space:]]\{1,\}\([0-9a-z]*\);.*/\1/p' "$1" | head -n 1)
	[ "$n" = auto ] && n=$(nproc)
	echo "${n:-1}"
}

# bench_stop_all: stops what bench_start_* started, by pid: SIGTERM to all
# at once (nginx takes a second or two to go), then stop_pidfile each, which
# waits for it (and SIGKILLs it after 10 s).
bench_stop_all() {
	local entry
	for entry in "${BENCH_PIDFILES[@]}"; do
		if pid_alive "${entry%:*}" "${entry##*:}"; then
			kill -TERM "$(tr -dc 0-9 <"${entry%:*}")" 2>/dev/null || true
		fi
	done
	for entry in "${BENCH_PIDFILES[@]}"; do
		stop_pidfile "${entry%:*}" "${entry##*:}" 10
	done
	BENCH_PIDFILES=()
}

# bench_sign_up URL EMAIL PASSWORD: a new account's token on stdout.
bench_sign_up() {
	local out
	out=$(curl -s -m 20 -X POST "$1/api/auth/sign-up/email" -H 'Content-Type: application/json' \
		-d "{\"name\":\"Bench\",\"email\":\"$2\",\"password\":\"$3\"}") || true
	"$BENCH_PY" -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$out" 2>/dev/null ||
		die "sign-up of $2 at $1 failed: $out"
}

# bench_user URL N TITLE: signs a fresh user up through URL, creates N
# todos ("TITLE 1".."TITLE N") for it, prints its token.
bench_user() {
	local token i
	token=$(bench_sign_up "$1" "bench-$(date +%s%N)-$$@bench.invalid" "bench password $RANDOM$RANDOM")
	for ((i = 1; i <= $2; i++)); do
		curl -s -o /dev/null -X POST "$1/api/todos" -H "Authorization: Bearer $token" \
			-H 'Content-Type: application/json' -d "{\"title\":\"$3 $i\"}"
	done
	echo "$token"
}

# --- CPU accounting ------------------------------------------------------
BENCH_HZ=$(getconf CLK_TCK)
# bench_ticks PID...: their summed utime + stime (all threads), in ticks
# (one awk for all: the bench reads them around every run).
bench_ticks() {
	local p files=()
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && files+=("/proc/$p/stat")
	done
	[ ${#files[@]} -gt 0 ] || { echo 0; return; }
	awk '{ t += $14 + $15 } END { print t + 0 }' "${files[@]}" 2>/dev/null || echo 0
}
# bench_child_ticks: this shell's reaped children (cutime + cstime): read
# around a foreground wrk, the difference is wrk's CPU.
bench_child_ticks() { awk '{ print $16 + $17 }' "/proc/$$/stat"; }
# bench_all_ticks: the machine's busy ticks (user, nice, system, irq, softirq).
bench_all_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# bench_steal_ticks: ticks the hypervisor gave to someone else.
bench_steal_ticks() { awk '/^cpu / { print $9 }' /proc/stat; }
# bench_nginx_pids DIR...: the worker pids of the nginx instances in DIRs.
bench_nginx_pids() {
	local d masters=()
	for d in "$@"; do
		[ -s "$d/nginx.pid" ] && masters+=("$(cat "$d/nginx.pid")")
	done
	[ ${#masters[@]} -gt 0 ] || return 0
	pgrep -d ' ' -P "$(IFS=,; echo "${masters[*]}")" || true
}

# --- the stack under test -------------------------------------------------
# bench_stack dev|private DIR: MariaDB and todod to bench, setting CONF,
# DB_SOCKET, DB_PIDFILE, DB_PID, TODOD_SOCKET, TODOD_PIDFILE, TODOD_PID,
# TODOD_LOG and, for a private stack, PRIVATE_DB_PIDFILE (the caller's
# cleanup stops it with mariadb_stop after bench_stop_all).
#   dev: the development stack of scripts/up (var/), which runs scripts/up
#     first when http://127.0.0.1:$TODOD_PORT/api/health is not 200 (and
#     leaves it running).
#   private: a MariaDB (datadir kept in DIR/mysql for the next run) and a
#     todod ($BENCH_TODOD_BIN, default build/todod) in DIR, configured as
#     scripts/up configures the dev stack; both stopped on exit.
PRIVATE_DB_PIDFILE=
bench_stack() {
	local mode=$1 st=$2 url bin pw
	if [ "$mode" = dev ]; then
		url=http://127.0.0.1:${TODOD_PORT:-8080}
		if [ "$(bench_code "$url/api/health")" != 200 ]; then
			log "== $url/api/health is not 200: running scripts/up (it stays up afterwards)"
			"$ROOT/scripts/up" >/dev/null
		fi
		[ "$(bench_code "$url/api/health")" = 200 ] || die "$url/api/health is not 200 after scripts/up"
		CONF=$ROOT/var/todod.conf
		DB_SOCKET=$ROOT/var/run/mariadb.sock
		DB_PIDFILE=$ROOT/var/run/mariadb.pid
		TODOD_SOCKET=$ROOT/var/run/todod.sock
		TODOD_PIDFILE=$ROOT/var/run/todod.pid
		TODOD_LOG=$ROOT/var/log/todod.log
		pid_alive "$TODOD_PIDFILE" todod || die "no live todod in $TODOD_PIDFILE (not the stack of scripts/up?)"
		[ -S "$TODOD_SOCKET" ] || die "no todod socket at $TODOD_SOCKET"
	else
		bin=${BENCH_TODOD_BIN:-$ROOT/build/todod}
		[ -x "$bin" ] || die "no todod binary at $bin (build first: meson setup build && ninja -C build)"
		log "== a private stack in ${st#"$ROOT"/}"
		mkdir -p "$st/run" "$st/log"
		chmod 0755 "$st" "$st/run"
		CONF=$st/todod.conf
		DB_SOCKET=$st/run/mariadb.sock
		DB_PIDFILE=$st/run/mariadb.pid
		TODOD_SOCKET=$st/run/todod.sock
		TODOD_PIDFILE=$st/run/todod.pid
		TODOD_LOG=$st/log/todod.log
		mariadb_init "$st/mysql" "$st/log/mariadb.log"
		chmod 0700 "$st/mysql"
		PRIVATE_DB_PIDFILE=$DB_PIDFILE
		mariadb_start "$st/mysql" "$DB_SOCKET" "$DB_PIDFILE" "$st/log/mariadb.log"
		if [ ! -s "$st/db-password" ]; then
			(umask 077 && head -c 24 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' >"$st/db-password")
		fi
		if [ ! -s "$st/jwt-secret" ]; then
			(umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$st/jwt-secret")
		fi
		pw=$(cat "$st/db-password")
		mariadb_admin "$DB_SOCKET" "
CREATE DATABASE IF NOT EXISTS todod CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'todod'@'localhost' IDENTIFIED BY '$pw';
ALTER USER 'todod'@'localhost' IDENTIFIED BY '$pw';
GRANT SELECT, INSERT, UPDATE, DELETE ON todod.* TO 'todod'@'localhost';" ||
			die "could not set up the private database"
		cat >"$CONF" <<EOF
# Written by bench/lib.sh (bench_stack private), as scripts/up writes var/todod.conf.
listen = unix:$TODOD_SOCKET
socket_mode = 0666
public_origin = http://127.0.0.1:8080
cookie_secure = false
db_socket = $DB_SOCKET
db_name = todod
db_user = todod
db_password_file = $st/db-password
jwt_secret_file = $st/jwt-secret
sql_dir = $ROOT/sql
log_level = info
EOF
		TODOD_DB_USER=root TODOD_DB_PASSWORD='' TODOD_DB_PASSWORD_FILE='' "$bin" -c "$CONF" migrate \
			</dev/null >>"$st/log/migrate.log" 2>&1 || die "migration failed; see $st/log/migrate.log"
		bench_start_todod stack "$bin" "$CONF" "$TODOD_SOCKET" "$TODOD_PIDFILE" "$TODOD_LOG"
	fi
	TODOD_PID=$(cat "$TODOD_PIDFILE")
	DB_PID=$(tr -dc 0-9 <"$DB_PIDFILE")
}
