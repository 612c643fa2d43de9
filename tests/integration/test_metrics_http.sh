#!/bin/sh
# tests/integration/test_metrics_http.sh - m365ctl metrics: the one-shot
# print and the --listen server, checked with curl, raw sockets, promtool
# and a real Prometheus server scraping it.
#
#   a. counts: the helper (ext_m365_acl --metrics DIR) counts two lookups
#   b. one-shot: promtool-clean output, the run record, exit 1 without
#      a counters file
#   c. the server: GET/HEAD /metrics, 404, 405, 400, 431, counters re-read
#      on every scrape, bad and busy --listen, SIGTERM
#   d. its bounds: 40 idle connections (8 closed at once, the rest dropped
#      after 5 s, then a client is served), clients that send nothing or
#      dribble their head dropped after 5 s
#   e. Prometheus scrapes it and answers a query on the counts
# Every wait has a timeout; the whole script takes about 30 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

CTL=${M365_CTL:-$BUILD/san/m365ctl}
HELPER=${M365_HELPER:-$BUILD/ext_m365_acl}
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

for prog in curl python3 promtool prometheus; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
if [ ! -x "$CTL" ] || [ ! -x "$HELPER" ]; then
	make -s -C "$ROOT" "$CTL" "$HELPER" >/dev/null 2>&1
fi
[ -x "$CTL" ] || abort "$CTL is missing"
[ -x "$HELPER" ] || abort "$HELPER is missing"
T=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$T'"
DIR=$T/metrics
STATE=$T/state
mkdir -p "$DIR" "$STATE" "$T/empty"

# count: two lookups through the helper, one OK and one ERR.
count() {
	printf '0 outlook.office365.com 443 -\n1 example.com 443 -\n' |
		timeout 30 "$HELPER" --metrics "$DIR" >"$T/helper.out" 2>"$T/helper.err"
}

# start_server NAME ARGS...: starts m365ctl metrics ARGS (stderr in
# $T/NAME.err); sets $srv_pid, $srv_addr and $srv_port.  False when it
# does not say it listens within 10 s.
start_server() {
	_name=$1
	shift
	: >"$T/$_name.err"
	"$CTL" metrics "$@" 2>"$T/$_name.err" &
	srv_pid=$!
	on_exit "kill $srv_pid 2>/dev/null"
	_i=0
	while [ $_i -lt 100 ]; do
		srv_addr=$(sed -n 's/^m365ctl metrics: listening on //p' "$T/$_name.err")
		if [ -n "$srv_addr" ]; then
			srv_port=${srv_addr##*:}
			return 0
		fi
		kill -0 "$srv_pid" 2>/dev/null || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# stop_server PID SIGNAL: sends SIGNAL, waits for the end at most 5 s and
# sets $stop_rc to the exit status, or "hung" (then kills it).  An ended
# child stays a zombie (state Z in /proc) until waited for.
stop_server() {
	kill "-$2" "$1" 2>/dev/null
	_i=0
	while [ $_i -lt 50 ]; do
		case $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) in
		'' | Z | X) break ;;
		esac
		sleep 0.1
		_i=$((_i + 1))
	done
	[ $_i -lt 50 ] || kill -9 "$1" 2>/dev/null
	wait "$1"
	stop_rc=$?
	[ $_i -lt 50 ] || stop_rc=hung
}

# raw PORT REQUEST: sends REQUEST (Python escapes) on one connection and
# prints the status line of the answer, then "body N": its body's size.
raw() {
	python3 - "$@" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
s.settimeout(5)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError as e:
    out += repr(e).encode()
print(out.split(b"\r\n")[0].decode(errors="replace"))
print("body", len(out.partition(b"\r\n\r\n")[2]))
PY
}

# --- a. counts ------------------------------------------------------------------
count
if [ -f "$DIR/counters" ] && grep -q '^0 OK' "$T/helper.out"; then
	ok "a: ext_m365_acl --metrics DIR counts into DIR/counters"
else
	# expected until the helper takes --metrics
	not_ok "a: ext_m365_acl --metrics DIR counts into DIR/counters" \
		"no $DIR/counters: $(head -3 "$T/helper.err")"
fi

# --- b. one-shot ----------------------------------------------------------------
cat >"$STATE/last-update" <<'EOF'
attempt_at 1764583300
result refused
message refused: 3 sets where the current list has 72
success_at 1764496800
version 2025120100
refused_at 1764583300
refused_reason shrink
EOF
"$CTL" metrics --metrics "$DIR" --state-dir "$STATE" >"$T/once.txt" 2>"$T/once.err"
check_eq "b: one-shot exits 0" 0 $?
if out=$(promtool check metrics <"$T/once.txt" 2>&1); then
	ok "b: promtool check metrics passes on the output"
else
	not_ok "b: promtool check metrics passes on the output" "$out"
fi
once=$(cat "$T/once.txt")
check_match "b: the helper's OK lookup" \
	'^m365_bypass_lookups_total\{frontend="squid",verdict="ok",category="Optimize",service="Exchange"\} 1$' "$once"
check_match "b: the helper's ERR lookup" \
	'^m365_bypass_lookups_total\{frontend="squid",verdict="err",category="none",service="none"\} 1$' "$once"
check_match "b: histogram +Inf" \
	'^m365_bypass_lookup_duration_seconds_bucket\{frontend="squid",le="\+Inf"\} 2$' "$once"
check_match "b: the run record's refusal" \
	'^m365_bypass_update_last_refusal_timestamp_seconds\{reason="shrink"\} 1764583300$' "$once"
check_match "b: the run record's result" \
	'^m365_bypass_update_last_result\{result="refused"\} 1$' "$once"
"$CTL" metrics --metrics "$T/empty" --state-dir "$STATE" >"$T/down.txt" 2>"$T/down.err"
check_eq "b: exit 1 without a counters file" 1 $?
check_match "b: metrics_up 0 without a counters file" '^m365_bypass_metrics_up 0$' "$(cat "$T/down.txt")"
check_match "b: the run record without a counters file" \
	'^m365_bypass_update_last_version\{version="2025120100"\} 1$' "$(cat "$T/down.txt")"
check_match "b: a note on stderr" 'm365ctl metrics: .*counters' "$(cat "$T/down.err")"
"$CTL" metrics --bogus >/dev/null 2>&1
check_eq "b: a bad option is a usage error" 2 $?

# --- c. the server --------------------------------------------------------------------
start_server srv --listen 127.0.0.1:0 --metrics "$DIR" --state-dir "$STATE" ||
	abort "m365ctl metrics --listen did not start: $(cat "$T/srv.err")"
P=$srv_port
SRV=$srv_pid
check_match "c: port 0 prints the real port" '^127\.0\.0\.1:[1-9][0-9]*$' "$srv_addr"
URL=http://127.0.0.1:$P
code=$(curl -sS -m 10 -D "$T/h.txt" -o "$T/get.txt" -w '%{http_code}' "$URL/metrics")
check_eq "c: GET /metrics" 200 "$code"
check_match "c: its Content-Type" \
	'^Content-Type: text/plain; version=0\.0\.4; charset=utf-8' "$(tr -d '\r' <"$T/h.txt")"
check_match "c: Connection: close" '^Connection: close' "$(tr -d '\r' <"$T/h.txt")"
len=$(tr -d '\r' <"$T/h.txt" | sed -n 's/^Content-Length: //p')
check_eq "c: Content-Length is the body's" "$(wc -c <"$T/get.txt" | tr -d ' ')" "$len"
if out=$(promtool check metrics <"$T/get.txt" 2>&1); then
	ok "c: promtool check metrics passes on GET /metrics"
else
	not_ok "c: promtool check metrics passes on GET /metrics" "$out"
fi
check_eq "c: GET /metrics?query" 200 \
	"$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$URL/metrics?name[]=x")"
check_eq "c: GET /nope" 404 "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$URL/nope")"
check_eq "c: POST /metrics" 405 \
	"$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -d x=1 "$URL/metrics")"
curl -sS -m 10 -I "$URL/metrics" | tr -d '\r' >"$T/head.txt"
check_match "c: HEAD /metrics" '^HTTP/1\.1 200' "$(head -1 "$T/head.txt")"
check_eq "c: HEAD has GET's Content-Length" "$len" \
	"$(sed -n 's/^Content-Length: //p' "$T/head.txt")"
check_match "c: HEAD has no body" '^body 0$' \
	"$(raw "$P" 'HEAD /metrics HTTP/1.0\r\n\r\n')"
check_match "c: a malformed request line is 400" '^HTTP/1\.1 400' \
	"$(raw "$P" 'GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n')"
check_match "c: a control byte in a header is 400" '^HTTP/1\.1 400' \
	"$(raw "$P" 'GET /metrics HTTP/1.1\r\nHost: x\x01\r\n\r\n')"
check_match "c: HTTP/1.1 without Host is 400" '^HTTP/1\.1 400' \
	"$(raw "$P" 'GET /metrics HTTP/1.1\r\n\r\n')"
big=$(python3 -c 'print("a" * 9216)')
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL/metrics")
check_match "c: a 9 KiB head gets 4xx" '^4[0-9][0-9]$' "$code"
check_eq "c: and the server still answers" 200 \
	"$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$URL/metrics")"
count
check_match "c: the counters are read again on each scrape" \
	'^m365_bypass_lookups_total\{frontend="squid",verdict="ok",category="Optimize",service="Exchange"\} 2$' \
	"$(curl -sS -m 10 "$URL/metrics")"
"$CTL" metrics --listen "127.0.0.1:$P" --metrics "$DIR" >/dev/null 2>"$T/busy.err"
check_eq "c: a port in use: exit 4" 4 $?
"$CTL" metrics --listen "127.0.0.1:99999" >/dev/null 2>"$T/bad.err"
check_eq "c: a bad --listen: exit 2" 2 $?
"$CTL" metrics --listen "example.com:80" >/dev/null 2>&1
check_eq "c: --listen takes no host name" 2 $?
if start_server lh --listen localhost:0 --metrics "$DIR" --state-dir "$STATE"; then
	check_match "c: localhost is 127.0.0.1" '^127\.0\.0\.1:' "$srv_addr"
	stop_server "$srv_pid" TERM
	check_eq "c: SIGTERM ends the server with 0" 0 "$stop_rc"
else
	not_ok "c: --listen localhost:0" "$(cat "$T/lh.err")"
fi
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	if start_server v6 --listen '[::1]:0' --metrics "$DIR" --state-dir "$STATE"; then
		check_eq "c: GET over IPv6" 200 "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' \
			"http://$srv_addr/metrics")"
		stop_server "$srv_pid" INT
		check_eq "c: SIGINT ends the server with 0" 0 "$stop_rc"
	else
		not_ok "c: --listen [::1]:0" "$(cat "$T/v6.err")"
	fi
fi

# --- d. bounds ----------------------------------------------------------------------------
python3 - "$P" >"$T/bounds.txt" 2>&1 <<'PY'
import select, socket, sys, time

port = int(sys.argv[1])


def gone(s):
    """True when the server has closed s."""
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


t0 = time.monotonic()
idle = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(40)]
for s in idle:
    s.setblocking(False)
time.sleep(1)
early = [s for s in idle if gone(s)]
print("closed_at_once", len(early))
c = socket.create_connection(("127.0.0.1", port), 5)
c.settimeout(3)
try:
    c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    print("41st_answer", len(c.recv(100)))
except OSError:
    print("41st_answer", 0)
rest = [s for s in idle if s not in early]
while rest and time.monotonic() - t0 < 15:
    r, _, _ = select.select(rest, [], [], 1)
    rest = [s for s in rest if s not in r or not gone(s)]
print("held_open", len(rest))
print("dropped_after %.1f" % (time.monotonic() - t0))
t1 = time.monotonic()
served = 0
while not served and time.monotonic() - t1 < 10:
    try:
        c = socket.create_connection(("127.0.0.1", port), 5)
        c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        c.settimeout(5)
        served = c.recv(12) == b"HTTP/1.1 200"
    except OSError:
        time.sleep(0.2)
print("served", int(served))

# a client that sends nothing, one that dribbles its head
silent = socket.create_connection(("127.0.0.1", port), 5)
slow = socket.create_connection(("127.0.0.1", port), 5)
t2 = time.monotonic()
slow.sendall(b"GET /metrics HTTP/1.1\r\n")
silent_t = slow_t = None
silent.setblocking(False)
while (silent_t is None or slow_t is None) and time.monotonic() - t2 < 15:
    if slow_t is None:
        try:
            slow.sendall(b"X: y\r\n")
        except OSError:
            slow_t = time.monotonic() - t2
    if silent_t is None and gone(silent):
        silent_t = time.monotonic() - t2
    time.sleep(0.5)
print("silent_dropped_after %.1f" % (silent_t or 99))
print("slow_dropped_after %.1f" % (slow_t or 99))
PY
b=$(cat "$T/bounds.txt")
check_match "d: 40 idle connections: the 8 beyond 32 are closed at once" '^closed_at_once 8$' "$b"
check_match "d: the 41st client is closed at once while 32 are held" '^41st_answer 0$' "$b"
check_match "d: the 32 idle connections are dropped" '^held_open 0$' "$b"
check_match "d: after about 5 s" '^dropped_after [4-7]\.' "$b"
check_match "d: then a client is served" '^served 1$' "$b"
check_match "d: a client that sends nothing is dropped after about 5 s" \
	'^silent_dropped_after [4-6]\.' "$b"
check_match "d: a client that dribbles its head is dropped after about 5 s" \
	'^slow_dropped_after [4-7]\.' "$b"
check_eq "d: the server still answers" 200 \
	"$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$URL/metrics")"

# --- e. Prometheus ------------------------------------------------------------------------
PP=$(free_port)
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: m365-bypass
    static_configs:
      - targets: ['127.0.0.1:$P']
EOF
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$PP" >"$T/prometheus.log" 2>&1 &
PROM=$!
on_exit "kill $PROM 2>/dev/null"
result=""
i=0
while [ $i -lt 60 ]; do
	result=$(curl -sS -m 5 -G "http://127.0.0.1:$PP/api/v1/query" \
		--data-urlencode 'query=m365_bypass_lookups_total{verdict="ok"}' 2>/dev/null)
	case $result in *'"result":[{'*) break ;; esac
	sleep 1
	i=$((i + 1))
done
check_match "e: Prometheus scrapes the counts" \
	'"result":\[\{"metric":\{"__name__":"m365_bypass_lookups_total"' "$result"
up=$(curl -sS -m 5 -G "http://127.0.0.1:$PP/api/v1/query" --data-urlencode 'query=up' 2>/dev/null)
check_match "e: the target is up" '"value":\[[0-9.]+,"1"\]' "$up"
kill $PROM 2>/dev/null

stop_server "$SRV" TERM
check_eq "c: SIGTERM ends the server with 0 after all that" 0 "$stop_rc"
if grep -q 'ERROR: AddressSanitizer\|runtime error' "$T"/*.err; then
	not_ok "sanitizers" "$(grep -h -A3 'ERROR: AddressSanitizer\|runtime error' "$T"/*.err | head -8)"
else
	ok "sanitizers: nothing reported"
fi
finish
