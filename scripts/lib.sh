# shellcheck shell=bash
# Shared shell helpers for scripts/up, scripts/down and scripts/test:
# installing what a bare Debian machine lacks, building, and running a
# private MariaDB server under a directory of the work tree.
#
# Source it from bash; it sets ROOT to the repository root and defines
# functions only (no side effects on sourcing).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# mariadbd and nginx live in sbin, which a non-login PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin ;; esac

# The Debian packages the build, the stack, the tests and the bench need.
TODOD_PACKAGES=(
	build-essential pkg-config meson ninja-build
	libfcgi-dev libjson-c-dev libjwt-dev libmariadb-dev libssl-dev libsodium-dev libunistring-dev
	mariadb-server mariadb-client galera-4 rsync
	python3 curl openssl nodejs npm clang libclang-rt-14-dev
	john-data prometheus wrk
	chromium fonts-dejavu-core
	lintian dpkg-dev systemd
)
# Wanted, not needed: the bench's stand-in for the seed's FastAPI stack
# (bench/seed_fastapi.py). Installed with the others; when apt cannot, the
# bench says what it skipped and nothing else fails.
TODOD_OPTIONAL_PACKAGES=(python3-fastapi python3-uvicorn python3-jwt python3-pymysql)

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

pkg_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# pid_alive PIDFILE [COMM]: the pid in PIDFILE is a live process (whose
# name starts with COMM, when given, so that a recycled pid is not taken
# for ours).
pid_alive() {
	local pidfile=$1 comm=${2:-} pid name
	[ -s "$pidfile" ] || return 1
	pid=$(tr -dc 0-9 <"$pidfile")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	if [ -n "$comm" ]; then
		name=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
		case $name in "$comm"*) ;; *) return 1 ;; esac
	fi
	return 0
}

# stop_pidfile PIDFILE [COMM] [TIMEOUT]: SIGTERM the process named by
# PIDFILE and wait for it to go (SIGKILL after TIMEOUT seconds, default 30).
# Harmless when it is not running. Only ever that one pid is signalled.
stop_pidfile() {
	local pidfile=$1 comm=${2:-} timeout=${3:-30} pid i
	if ! pid_alive "$pidfile" "$comm"; then
		rm -f "$pidfile"
		return 0
	fi
	pid=$(tr -dc 0-9 <"$pidfile")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid ($comm) did not stop in ${timeout}s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	rm -f "$pidfile"
}

# Stop a system service that a package's install just started, and keep it
# from starting at boot: the project runs its own private instances.
stop_system_service() {
	local svc=$1 pidfile=$2 comm=$3
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true
	fi
	if pid_alive "$pidfile" "$comm"; then
		log "stopping the system $svc started by its package"
		as_root kill -TERM "$(tr -dc 0-9 <"$pidfile")" 2>/dev/null || true
		sleep 1
	fi
}

# ensure_packages: install whatever of TODOD_PACKAGES (and an nginx) is
# missing, and of TODOD_OPTIONAL_PACKAGES as far as apt can. apt-get update
# runs once, and only when something is missing.
ensure_packages() {
	local missing=() optional=() p created_policy=0
	for p in "${TODOD_PACKAGES[@]}"; do
		pkg_installed "$p" && continue
		# Node.js from elsewhere (NodeSource bundles npm and conflicts
		# with Debian's npm package) is as good as Debian's.
		case $p in
		nodejs) command -v node >/dev/null 2>&1 && continue ;;
		npm) command -v npm >/dev/null 2>&1 && continue ;;
		esac
		missing+=("$p")
	done
	if ! pkg_installed nginx && ! pkg_installed nginx-light && ! pkg_installed nginx-core &&
		! pkg_installed nginx-full && ! pkg_installed nginx-extras; then
		missing+=(nginx)
	fi
	for p in "${TODOD_OPTIONAL_PACKAGES[@]}"; do
		pkg_installed "$p" || optional+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && [ ${#optional[@]} -eq 0 ] && return 0

	log "installing: ${missing[*]} ${optional[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Packages' maintainer scripts must not start system mariadb/nginx
	# instances: invoke-rc.d asks policy-rc.d, and 101 means "not allowed".
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		as_root sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d'
		created_policy=1
	fi
	local rc=0
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null || rc=$?
	if [ $rc -ne 0 ] && [ ${#missing[@]} -eq 0 ]; then
		log "apt-get update failed (exit $rc): ${optional[*]} not installed (optional: the bench skips its FastAPI stand-in)"
		rc=0 optional=()
	fi
	if [ $rc -eq 0 ] && [ ${#missing[@]} -gt 0 ]; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
			--no-install-recommends "${missing[@]}" </dev/null >/dev/null || rc=$?
	fi
	if [ $rc -eq 0 ] && [ ${#optional[@]} -gt 0 ] &&
		! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
			--no-install-recommends "${optional[@]}" </dev/null >/dev/null; then
		log "could not install ${optional[*]} (optional: the bench skips its FastAPI stand-in)"
	fi
	[ $created_policy -eq 1 ] && as_root rm -f /usr/sbin/policy-rc.d
	[ $rc -eq 0 ] || die "apt-get failed (exit $rc) installing: ${missing[*]}"

	for p in "${missing[@]}"; do
		case $p in
		mariadb-server) stop_system_service mariadb /run/mysqld/mysqld.pid mariadbd ;;
		nginx*) stop_system_service nginx /run/nginx.pid nginx ;;
		esac
	done
}

# build_tree DIR [MESON OPTIONS...]: configure DIR once, then build it.
build_tree() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$ROOT" "$@" </dev/null || return 1
	elif [ $# -gt 0 ]; then
		# An existing tree keeps the options it was made with: insist.
		meson configure "$dir" "$@" </dev/null >/dev/null || return 1
	fi
	ninja -C "$dir" </dev/null
}

# Everything below drives a private MariaDB server whose files all live in
# one directory tree: no system configuration is read (--no-defaults), no
# TCP port is opened (--skip-networking), the admin is root over the socket.

MARIADB_ROOT_OPT=()
[ "$(id -u)" = 0 ] && MARIADB_ROOT_OPT=(--user=root)

# mariadb_init DATADIR LOGFILE: create the system tables (once).
mariadb_init() {
	local datadir=$1 logfile=$2
	[ -d "$datadir/mysql" ] && return 0
	mkdir -p "$datadir"
	mariadb-install-db --no-defaults --datadir="$datadir" "${MARIADB_ROOT_OPT[@]}" \
		--auth-root-authentication-method=socket --skip-test-db --skip-name-resolve \
		</dev/null >>"$logfile" 2>&1 ||
		{ tail -n 30 "$logfile" >&2; die "mariadb-install-db failed; see $logfile"; }
}

# mariadb_start DATADIR SOCKET PIDFILE LOGFILE: start mariadbd in the
# background unless it already runs, and wait until it answers.
mariadb_start() {
	local datadir=$1 socket=$2 pidfile=$3 logfile=$4 i
	if ! pid_alive "$pidfile" mariadbd; then
		rm -f "$pidfile"
		mkdir -p "$(dirname "$socket")" "$(dirname "$pidfile")"
		nohup mariadbd --no-defaults --datadir="$datadir" --socket="$socket" \
			--pid-file="$pidfile" --log-error="$logfile" --skip-networking \
			"${MARIADB_ROOT_OPT[@]}" --innodb-buffer-pool-size=128M \
			--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --skip-name-resolve \
			</dev/null >>"$logfile" 2>&1 &
		# mariadbd writes its pid file itself; until then remember ours.
		echo $! >"$pidfile.starting"
	fi
	for ((i = 0; i < 300; i++)); do
		if mariadb-admin --no-defaults --socket="$socket" -uroot ping >/dev/null 2>&1; then
			rm -f "$pidfile.starting"
			return 0
		fi
		if [ -f "$pidfile.starting" ] && ! pid_alive "$pidfile.starting"; then
			rm -f "$pidfile.starting"
			tail -n 30 "$logfile" >&2
			die "mariadbd exited during start; see $logfile"
		fi
		sleep 0.1
	done
	tail -n 30 "$logfile" >&2
	die "mariadbd did not answer on $socket within 30s"
}

# mariadb_stop PIDFILE: stop the server by its pid, wait for it.
mariadb_stop() {
	stop_pidfile "$1" mariadbd 60
}

# mariadb_admin SOCKET SQL...: run SQL as the admin (root over the socket).
mariadb_admin() {
	local socket=$1
	shift
	mariadb --no-defaults --socket="$socket" -uroot --batch -e "$*" </dev/null
}
