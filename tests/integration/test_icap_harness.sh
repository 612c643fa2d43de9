#!/bin/sh
# tests/integration/test_icap_harness.sh - proves the c-icap harness
# (tests/icap_lib.sh) and the test ICAP client (icap_client.py) against
# c-icap's own echo service and its built-in info service.
#
# Starts a private c-icap (2 children) on a free loopback port, exchanges
# OPTIONS, REQMOD and RESPMOD with echo (with and without bodies, preview,
# Allow: 204, keep-alive and one connection per request), checks the access
# log and the info statistics, and stops it.  Needs c-icap (Debian package
# c-icap, with srv_echo.so) and python3; no network.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/icap_lib.sh
. "$ROOT/tests/icap_lib.sh"

tmp=""
abort() {
	not_ok "setup" "$1"
	[ -n "$tmp" ] && cicap_diagnostics "$tmp"
	finish
}

for prog in c-icap c-icap-config python3 ps; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ -f "$(c-icap-config --modulesdir)/srv_echo.so" ] || abort "srv_echo.so missing in $(c-icap-config --modulesdir)"

tmp=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$tmp'"

# jget FILE EXPR: evaluates the python EXPR over the JSON responses in FILE
# (one a line), bound to `r` (list of dicts); prints the result.
jget() {
	python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

# --- start --------------------------------------------------------------------
started=""
cicap_launch "$tmp" 2>"$tmp/start.err" && started=1
port=$CICAP_PORT
if [ -n "$started" ]; then
	ok "c-icap starts and listens on free port 127.0.0.1:$port"
else
	not_ok "c-icap starts and listens on free port 127.0.0.1:$port" "cicap_start failed: $(head -n 1 "$tmp/start.err")"
	cat "$tmp/start.err" >&2
	finish
fi
main_pid=$(cicap_main_pid "$tmp")
kids=$(cicap_children "$tmp" | tr '\n' ' ' | sed 's/ $//')
check_eq "cicap_children lists the 2 configured children" 2 "$(echo "$kids" | wc -w)"
check_eq "cicap_pids lists the main process and the children" \
	"$(echo "$main_pid $kids" | tr ' ' '\n' | sort -n | tr '\n' ' ')" \
	"$(cicap_pids "$tmp" | sort -n | tr '\n' ' ')"
check_eq "c-icap's PidFile names the main process" "$main_pid" "$(cat "$tmp/c-icap.pid" 2>/dev/null)"

nreq=0     # ICAP requests sent so far (each one is an access log line)
nreqmod=0  # of which REQMOD

# --- OPTIONS --------------------------------------------------------------------
icap_client --port "$port" --service echo --method OPTIONS --json >"$tmp/opt.json" 2>"$tmp/opt.err"
rc=$?
nreq=$((nreq + 1))
check_eq "OPTIONS echo: client exit status 0" 0 "$rc"
check_eq "OPTIONS echo: 200" 200 "$(jget "$tmp/opt.json" 'r[0]["status"]')"
methods=$(jget "$tmp/opt.json" '[v for n, v in r[0]["headers"] if n == "Methods"][0]')
check_match "OPTIONS echo: Methods has REQMOD" '(^|[ ,])REQMOD([ ,]|$)' "$methods"
check_match "OPTIONS echo: Methods has RESPMOD" '(^|[ ,])RESPMOD([ ,]|$)' "$methods"
check_match "OPTIONS echo: has an ISTag" '^".+"$' \
	"$(jget "$tmp/opt.json" '[v for n, v in r[0]["headers"] if n == "ISTag"][0]')"

# plain output: status line, headers as received, empty line
icap_client --port "$port" --method OPTIONS >"$tmp/opt.txt"
nreq=$((nreq + 1))
check_eq "plain output: first line is the ICAP status line" "ICAP/1.0 200 OK" "$(head -n 1 "$tmp/opt.txt")"
check_eq "plain output: headers one a line, as received" "Encapsulated: null-body=0" \
	"$(grep -a '^Encapsulated:' "$tmp/opt.txt")"
check_eq "plain output: no CR, ends with an empty line" "0 " \
	"$(grep -ac "$(printf '\r')" "$tmp/opt.txt") $(tail -n 1 "$tmp/opt.txt")"

# --- REQMOD without body ----------------------------------------------------------
icap_client --port "$port" --request-line 'GET http://example.com/ HTTP/1.1' --json >"$tmp/r204.json"
rc=$?
nreq=$((nreq + 1)); nreqmod=$((nreqmod + 1))
check_eq "REQMOD echo, no body, Allow: 204: exit 0" 0 "$rc"
check_eq "REQMOD echo, no body, Allow: 204: answers 204" 204 "$(jget "$tmp/r204.json" 'r[0]["status"]')"
check_eq "REQMOD echo 204: encapsulates nothing" "False" "$(jget "$tmp/r204.json" 'r[0]["has_body"] or bool(r[0]["http_head"])')"

# without Allow: 204 and without preview: the HTTP head comes back in a 200
icap_client --port "$port" --request-line 'GET http://example.com/no204 HTTP/1.1' \
	--header 'User-Agent: harness' --no-allow204 --no-preview --json >"$tmp/r200.json"
nreq=$((nreq + 1)); nreqmod=$((nreqmod + 1))
check_eq "REQMOD echo, no Allow: 204, no preview: answers 200" 200 "$(jget "$tmp/r200.json" 'r[0]["status"]')"
check_eq "REQMOD echo 200: Encapsulated req-hdr=0, null-body=N" "req-hdr null-body" \
	"$(jget "$tmp/r200.json" '" ".join(e for e, o in r[0]["encapsulated"])')"
check_eq "REQMOD echo 200: HTTP head echoed" \
	"GET http://example.com/no204 HTTP/1.1|Host: example.com|User-Agent: harness" \
	"$(jget "$tmp/r200.json" '"|".join(r[0]["http_head"].split("\r\n")[:3])')"

# without Allow: 204 but with Preview: 0, c-icap still answers 204: a 204 in
# answer to a preview needs no Allow: 204 (RFC 3507 4.6, the exception).
icap_client --port "$port" --request-line 'GET http://example.com/preview204 HTTP/1.1' \
	--no-allow204 --json >"$tmp/rp204.json"
nreq=$((nreq + 1)); nreqmod=$((nreqmod + 1))
check_eq "REQMOD echo, no Allow: 204 but Preview: 0: answers 204 (preview exception)" 204 \
	"$(jget "$tmp/rp204.json" 'r[0]["status"]')"

# --- REQMOD with a 100 KB body, Preview: 0 -----------------------------------------
python3 -c '
import sys
sys.stdout.write("".join(chr(33 + (i * 7919) % 90) for i in range(102400)))' >"$tmp/body100k"
icap_client --port "$port" --request-line 'POST http://example.com/upload?id=1 HTTP/1.1' \
	--header 'Content-Length: 102400' --body-file "$tmp/body100k" --json >"$tmp/rbody.json"
rc=$?
nreq=$((nreq + 1)); nreqmod=$((nreqmod + 1))
check_eq "REQMOD echo, 100 KB body, Preview: 0: exit 0" 0 "$rc"
check_eq "REQMOD echo, 100 KB body: 100 Continue after the empty preview" "ICAP/1.0 100 Continue" \
	"$(jget "$tmp/rbody.json" '"|".join(r[0]["interim"])')"
check_eq "REQMOD echo, 100 KB body: final answer 200 with req-hdr and req-body" "200 req-hdr req-body" \
	"$(jget "$tmp/rbody.json" '"%d %s" % (r[0]["status"], " ".join(e for e, o in r[0]["encapsulated"]))')"
check_eq "REQMOD echo, 100 KB body: returned body equals the body sent" "True" \
	"$(jget "$tmp/rbody.json" 'r[0]["body"] == open(sys.argv[1].replace("rbody.json", "body100k")).read()')"

# --- RESPMOD with a res-hdr and a body -------------------------------------------
icap_client --port "$port" --method RESPMOD --request-line 'GET http://example.com/page HTTP/1.1' \
	--response-status 200 --body-file "$tmp/body100k" --json >"$tmp/resp.json"
rc=$?
nreq=$((nreq + 1))
check_eq "RESPMOD echo, res-hdr + 100 KB body: exit 0" 0 "$rc"
check_eq "RESPMOD echo: 100 Continue, then 200 with res-hdr and res-body" \
	"ICAP/1.0 100 Continue 200 res-hdr res-body" \
	"$(jget "$tmp/resp.json" '"%s %d %s" % ("|".join(r[0]["interim"]), r[0]["status"], " ".join(e for e, o in r[0]["encapsulated"]))')"
check_eq "RESPMOD echo: HTTP response head echoed" "HTTP/1.1 200 OK" \
	"$(jget "$tmp/resp.json" 'r[0]["http_head"].split("\r\n")[0]')"
check_eq "RESPMOD echo: returned body equals the body sent" "True" \
	"$(jget "$tmp/resp.json" 'r[0]["body"] == open(sys.argv[1].replace("resp.json", "body100k")).read()')"

# a body with a non-zero preview, and with no preview at all (sent at once)
icap_client --port "$port" --request-line 'POST http://example.com/nopreview HTTP/1.1' \
	--body-file "$tmp/body100k" --no-preview --no-allow204 --body-only >"$tmp/nopv.out"
rc=$?
nreq=$((nreq + 1)); nreqmod=$((nreqmod + 1))
if [ $rc -eq 0 ] && cmp -s "$tmp/body100k" "$tmp/nopv.out"; then
	ok "REQMOD echo, 100 KB body without preview: body echoed"
else
	not_ok "REQMOD echo, 100 KB body without preview: body echoed" "exit $rc, $(wc -c <"$tmp/nopv.out") bytes back"
fi
icap_client --port "$port" --request-line 'POST http://example.com/preview10 HTTP/1.1' \
	--body 'hello, preview world' --preview 10 --json >"$tmp/pv10.json"
nreq=$((nreq + 1)); nreqmod=$((nreqmod + 1))
check_match "REQMOD echo, Preview: 10 of a 20-byte body: 204, or 200 with the body (echo alternates)" \
	'^(204 *|200 hello, preview world)$' "$(jget "$tmp/pv10.json" '"%d %s" % (r[0]["status"], r[0]["body"])')"

# --- raw HTTP head --------------------------------------------------------------------
printf 'GET http://example.com/raw HTTP/1.1\nHost: example.com\nX-Raw: 1\n\n' >"$tmp/raw.http"
icap_client --port "$port" --raw-http "$tmp/raw.http" --crlf --no-allow204 --no-preview --json >"$tmp/raw.json"
nreq=$((nreq + 1)); nreqmod=$((nreqmod + 1))
check_eq "--raw-http --crlf: the file's head is sent with CRLFs and echoed" \
	"GET http://example.com/raw HTTP/1.1|Host: example.com|X-Raw: 1" \
	"$(jget "$tmp/raw.json" '"|".join(r[0]["http_head"].split("\r\n")[:3])')"

# --- keep-alive and one connection per request -----------------------------------
icap_client --port "$port" --request-line 'GET http://example.com/keepalive HTTP/1.1' \
	--repeat 20 --json >"$tmp/rep.json"
rc=$?
nreq=$((nreq + 20)); nreqmod=$((nreqmod + 20))
check_eq "--repeat 20: exit 0" 0 "$rc"
check_eq "--repeat 20: 20 responses, all 204, all on one connection" "20 [204] [1]" \
	"$(jget "$tmp/rep.json" '"%d %s %s" % (len(r), sorted(set(x["status"] for x in r)), sorted(set(x["conn"] for x in r)))')"
icap_client --port "$port" --request-line 'GET http://example.com/newconn HTTP/1.1' \
	--repeat 20 --new-connection --json >"$tmp/repn.json"
rc=$?
nreq=$((nreq + 20)); nreqmod=$((nreqmod + 20))
check_eq "--repeat 20 --new-connection: exit 0" 0 "$rc"
check_eq "--repeat 20 --new-connection: 20 responses, all 204, 20 connections" "20 [204] 20" \
	"$(jget "$tmp/repn.json" '"%d %s %d" % (len(r), sorted(set(x["status"] for x in r)), len(set(x["conn"] for x in r)))')"

# --- errors the client must report --------------------------------------------------
icap_client --port "$port" --service no_such_service --json >"$tmp/404.json" 2>/dev/null
rc=$?
nreq=$((nreq + 1)); nreqmod=$((nreqmod + 1))
check_eq "unknown service: a complete 404 response (exit 0)" "0 404" "$rc $(jget "$tmp/404.json" 'r[0]["status"]')"
closed_port=$(free_port)
icap_client --port "$closed_port" --timeout 2 >/dev/null 2>"$tmp/closed.err"
check_eq "nothing listening: client exits 3" 3 "$?"
# a server that accepts, reads, and answers garbage / nothing
python3 - "$tmp/bad.port" <<'EOF' >/dev/null 2>&1 &
import socket, sys, os
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(5)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(15)
for answer in (b"HTTP/1.1 200 OK\r\n\r\n", b"", None):
    c, _ = s.accept(); c.recv(65536)
    if answer is not None:
        c.sendall(answer); c.close()
    else:
        import time; time.sleep(3); c.close()
EOF
bad_pid=$!
on_exit "kill $bad_pid"
i=0
while [ ! -s "$tmp/bad.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
bad_port=$(cat "$tmp/bad.port" 2>/dev/null)
icap_client --port "$bad_port" >/dev/null 2>&1
check_eq "unparsable response (an HTTP status line): client exits 3" 3 "$?"
icap_client --port "$bad_port" >/dev/null 2>&1
check_eq "server closes without answering: client exits 3" 3 "$?"
icap_client --port "$bad_port" --timeout 1 >/dev/null 2>&1
check_eq "server never answers: client times out, exits 3" 3 "$?"

# --- access log -------------------------------------------------------------------------
if cicap_wait_access "$tmp" "$nreq" 10; then
	ok "access log: $nreq requests logged"
else
	not_ok "access log: $nreq requests logged" "$(wc -l <"$tmp/access.log") lines"
fi
check_eq "access log: exactly one line per request" "$nreq" "$(wc -l <"$tmp/access.log" | tr -d ' ')"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4}'
check_match "access log: time, method, service, status, HTTP URL" \
	"^$ts REQMOD echo 204 http://example\\.com/ -\$" "$(grep -a ' http://example.com/ ' "$tmp/access.log")"
check_eq "access log: OPTIONS lines have no HTTP URL" 2 "$(grep -Eac "^$ts OPTIONS echo 200 - -\$" "$tmp/access.log")"
check_eq "access log: the 20 keep-alive requests" 20 "$(grep -Eac "^$ts REQMOD echo 204 http://example\\.com/keepalive -\$" "$tmp/access.log")"
check_eq "access log: the 20 one-connection-each requests" 20 "$(grep -Eac "^$ts REQMOD echo 204 http://example\\.com/newconn -\$" "$tmp/access.log")"
check_eq "access log: the HTTP URL is logged without its query" 1 "$(grep -Eac "^$ts REQMOD echo 200 http://example\\.com/upload -\$" "$tmp/access.log")"
check_eq "access log: RESPMOD line" 1 "$(grep -Eac "^$ts RESPMOD echo 200 http://example\\.com/page -\$" "$tmp/access.log")"
check_eq "access log: unknown service logged as 404" 1 "$(grep -Eac "^$ts REQMOD no_such_service 404 " "$tmp/access.log")"

# --- info statistics --------------------------------------------------------------------
# c-icap counts a request after answering it (and before logging it): after
# the log lines are there, every request so far is counted; the info
# request itself is not yet.
info=$(cicap_info "$port")
rc=$?
check_eq "cicap_info: exit 0" 0 "$rc"
check_match "cicap_info: general REQMODS count is $nreqmod" "^REQMODS : $nreqmod\$" "$info"
echo_reqmods=$((nreqmod - 1)) # the 404 request counts in general, not for echo
check_match "cicap_info: echo service REQMODS count is $echo_reqmods" "^Service echo REQMODS : $echo_reqmods\$" "$info"
check_match "cicap_info: 2 children" "^Children number: 2\$" "$info"
kids_re=$(echo "$kids" | sed 's/ /|/g')
check_match "cicap_info: lists the children's pids" "^Child pids: ($kids_re)( ($kids_re))+ *\$" "$info"

# --- stop -------------------------------------------------------------------------------
cicap_stop "$tmp"
rc=$?
check_eq "cicap_stop: c-icap exits 0 on SIGTERM" 0 "$rc"
check_eq "cicap_stop: no c-icap process left (main $main_pid, children $kids)" "" \
	"$(cicap_pids "$tmp" | tr '\n' ' ')"
left=""
for p in $main_pid $kids; do
	[ -d "/proc/$p" ] && left="$left $p"
done
check_eq "cicap_stop: main and children reaped" "" "$left"
if _cicap_accepts "$port"; then
	not_ok "cicap_stop: port $port closed" "still accepting"
else
	ok "cicap_stop: port $port closed"
fi
icap_client --port "$port" --timeout 2 >/dev/null 2>&1
check_eq "after stop: client exits 3" 3 "$?"
cicap_stop "$tmp"
check_eq "cicap_stop again: harmless, same status" 0 "$?"

# --- startup failures are reported ----------------------------------------------------
bad=$tmp/badconf
mkdir "$bad"
echo "NoSuchDirective 1" >"$bad/extra.conf"
cicap_conf "$bad" "$(free_port)" "$bad/extra.conf"
if cicap_start "$bad" 2>"$bad/start.err"; then
	not_ok "cicap_start fails on a config error" "it returned 0"
else
	ok "cicap_start fails on a config error"
fi
check_match "config error: c-icap's message is in cicap.out (printed before ServerLog opens)" \
	"NoSuchDirective" "$(cat "$bad/cicap.out")"

finish
