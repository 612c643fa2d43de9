# tests/lib.sh - shared helpers of the shell integration tests.
#
# A test script sources this file, calls `ok NAME` / `not_ok NAME REASON`
# (or the check_* helpers) for each assertion, and ends with `finish`.
# Every assertion prints one "PASS: name" or "FAIL: name: reason" line;
# tests/run.sh counts those lines.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD="$ROOT/build"
FIXTURES="$ROOT/tests/fixtures"
_failed=0
_cleanups=""

ok() { echo "PASS: $1"; }
not_ok() { echo "FAIL: $1: $2"; _failed=$((_failed + 1)); }

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2], got [$3]"; fi
}

# check_match NAME REGEX ACTUAL (grep -E)
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "[$3] does not match /$2/"; fi
}

# run CMD ARGS...: runs CMD (60 s at most) with its exit status in $rc
# and its standard output and error in $out and $err (and the files
# $T/run.out, $T/run.err).
run() {
	timeout 60 "$@" >"$T/run.out" 2>"$T/run.err"
	rc=$?
	out=$(cat "$T/run.out")
	err=$(cat "$T/run.err")
}

# free_port: prints a TCP port that nothing listens on at 127.0.0.1.
free_port() {
	python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# wait_port PORT [SECONDS]: waits until something accepts on 127.0.0.1:PORT.
wait_port() {
	_i=0
	_max=$(( ${2:-10} * 10 ))
	while [ $_i -lt $_max ]; do
		if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.5).close()" "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# on_exit CMD: runs CMD when the script exits (last registered first).
on_exit() { _cleanups="$1; $_cleanups"; }
_run_cleanups() { eval "$_cleanups" 2>/dev/null; }
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

finish() {
	[ "$_failed" -eq 0 ]
	exit $?
}

# origin_start DIR MARKER: starts tests/integration/origin.py, the origin web
# server of the Squid tests (127.0.0.N ports 80, 8080 and 443), logging to
# DIR/origin.log, and sets $origin to its address.  False when it does not
# listen within 10 s.
origin_start() {
	python3 "$ROOT/tests/integration/origin.py" "$1/origin.addr" "$2" \
		>"$1/origin.log" 2>&1 &
	_origin_pid=$!
	on_exit "kill $_origin_pid"
	_i=0
	while [ ! -s "$1/origin.addr" ] && [ $_i -lt 100 ] &&
		kill -0 $_origin_pid 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -s "$1/origin.addr" ] || return 1
	origin=$(cat "$1/origin.addr")
}

# squid_start CONF OUT PORT: starts Squid in the foreground with CONF (its
# output in OUT), registers its stop (TERM, 5 s, KILL) and waits until it
# listens on 127.0.0.1:PORT; false when it does not within 20 s.  Its pid
# is $_squid_pid.
squid_start() {
	squid -N -d1 -f "$1" >"$2" 2>&1 &
	_squid_pid=$!
	on_exit "_squid_stop $_squid_pid"
	wait_port "$3" 20
}

# _squid_stop PID: TERM, up to 5 s, then KILL.
_squid_stop() {
	kill "$1" 2>/dev/null || return 0
	_i=0
	while kill -0 "$1" 2>/dev/null && [ "$_i" -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$1" 2>/dev/null
}

# demo_passwd FILE: a basic-auth password file with the user demo/demo.
demo_passwd() {
	if command -v htpasswd >/dev/null 2>&1; then
		htpasswd -b -c "$1" demo demo 2>/dev/null
	else
		printf 'demo:%s\n' "$(openssl passwd -apr1 demo)" >"$1"
	fi
}

# msstub_control VERSION ENDPOINTS [MODE [VERSION_MODE [MORE]]]: writes
# $T/control.json, what msstub.py serves from now on: VERSION, the
# ENDPOINTS file, MODE and VERSION_MODE ("ok" by default); MORE is JSON
# members such as '"delay": 3'.  stub is its short name.
msstub_control() {
	printf '{"version": "%s", "endpoints": "%s", "mode": "%s", "version_mode": "%s"%s}\n' \
		"$1" "$2" "${3:-ok}" "${4:-ok}" "${5:+, $5}" >"$T/control.json.tmp" &&
		mv "$T/control.json.tmp" "$T/control.json"
}
stub() { msstub_control "$@"; }

# msstub_start: starts the stand-in of Microsoft's web service
# (tests/integration/msstub.py) on $T/control.json, which the caller writes
# first, logging requests to $T/requests.log; sets STUBPID, SPORT and BASE.
# The caller defines abort().
msstub_start() {
	: >"$T/requests.log"
	python3 "$ROOT/tests/integration/msstub.py" --control "$T/control.json" \
		--log "$T/requests.log" --port-file "$T/stub.port" --root "$ROOT" \
		>/dev/null 2>"$T/stub.err" &
	STUBPID=$!
	on_exit "kill $STUBPID 2>/dev/null"
	_i=0
	while [ ! -s "$T/stub.port" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -s "$T/stub.port" ] || abort "msstub did not start: $(cat "$T/stub.err")"
	SPORT=$(cat "$T/stub.port")
	BASE="http://127.0.0.1:$SPORT"
}

# abort REASON: a setup step failed: one FAIL line and the end of the test.
# A test may define its own.
abort() {
	not_ok "setup" "$1"
	finish
}

# drv ARGS...: tests/integration/helper_driver.py (see there), bounded.
drv() { timeout 60 python3 "$ROOT/tests/integration/helper_driver.py" "$@"; }

# fifo_start NAME FD BINARY ARGS...: starts BINARY reading the FIFO
# $T/NAME/in, which the script keeps open on descriptor FD (3-9) so that
# it never sees EOF; its answers go to $T/NAME/out, its stderr to
# $T/NAME/err.  Sets PID_NAME (killed at exit) and adds NAME to $HELPERS.
fifo_start() {
	_n=$1
	_fd=$2
	_bin=$3
	shift 3
	{ mkdir -p "$T/$_n" && mkfifo "$T/$_n/in"; } || abort "mkfifo $T/$_n/in"
	eval "exec $_fd<>\"\$T/\$_n/in\""
	"$_bin" "$@" <"$T/$_n/in" >"$T/$_n/out" 2>"$T/$_n/err" &
	eval "PID_$_n=\$!"
	on_exit "kill \$PID_$_n 2>/dev/null"
	HELPERS="${HELPERS:-} $_n"
}

# helper_setup PROG...: for the tests that run $HELPER and $CTL: aborts
# unless every PROG is installed and both are built (building them when
# missing), then makes the temporary directory $T, removed at exit.
helper_setup() {
	for prog in "$@"; do
		command -v "$prog" >/dev/null 2>&1 || abort "$prog is not installed"
	done
	if [ ! -x "$HELPER" ] || [ ! -x "$CTL" ]; then
		make -s -C "$ROOT" build/m365ctl build/san/ext_m365_acl >/dev/null 2>&1
	fi
	[ -x "$HELPER" ] || abort "$HELPER is missing"
	[ -x "$CTL" ] || abort "$CTL is missing"
	T=$(mktemp -d) || abort "mktemp failed"
	on_exit "rm -rf '$T'"
}
