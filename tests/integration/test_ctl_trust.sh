#!/bin/sh
# tests/integration/test_ctl_trust.sh - what m365ctl update and import
# refuse, and how they recover.
#
# A real redis-server on a free loopback port, the stand-in of Microsoft's
# web service (msstub.py, driven by a control file), and m365ctl (sanitizer
# build).  Covers:
#   a. strict numbers: --timeout, --max-growth, sentinel addresses
#   b. the growth gate (--max-growth, --force), update and import
#   c. the breadth of a published list (never overridden by --force)
#   d. redirects: same host followed, another host or a loop refused,
#      https -> http refused (the URL comparison, compiled as a unit)
#   e. Retry-After: HTTP-date, capped, missing or unusable
#   f. the lock outlives the worst run (--timeout 200)
#   g. recovery from a corrupt current version (Redis, state directory)
#   h. import of a missing file, of a FIFO; FIFOs in the state directory
#   i. signed versions (--sign-key, --verify-key)
#   j. Redis Sentinel, failover included
#   k. --redis-auth-file
# Every wait has a timeout; the whole script takes about 30 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

CTL=${M365_CTL:-$BUILD/san/m365ctl}
WW25=$FIXTURES/worldwide-2025-12-01.json
CNA=$FIXTURES/china-2025-12-01a.json
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
GUID=11111111-2222-4333-8444-555555555555

abort() {
	not_ok "setup" "$1"
	finish
}

for prog in redis-server redis-cli python3 sha256sum openssl; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ -x "$CTL" ] || make -s -C "$ROOT" build/san/m365ctl >/dev/null 2>&1
[ -x "$CTL" ] || abort "$CTL is missing"

T=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$T'"
: >"$T/all.err"

# run CMD...: runs CMD (at most 60 s), sets $rc, $out and $err.
run() {
	timeout 60 "$@" >"$T/run.out" 2>"$T/run.err"
	rc=$?
	out=$(cat "$T/run.out")
	err=$(cat "$T/run.err")
	cat "$T/run.err" >>"$T/all.err"
}

# expect NAME RC REGEX [TEXT]: $rc is RC and TEXT (default $err) matches.
expect() {
	if [ "$rc" != "$2" ]; then
		not_ok "$1" "exit $rc, not $2 (stdout [$out], stderr [$err])"
	else
		check_match "$1" "$3" "${4-$err}"
	fi
}

# --- Redis and the stand-in of Microsoft's web service -----------------------

# shellcheck source=tests/redis_lib.sh
. "$ROOT/tests/redis_lib.sh"
redis_init "$T"
start_redis || abort "redis-server did not start on port $RPORT"

stub 2025120100 "$WW25"
msstub_start
BASE="http://127.0.0.1:$SPORT"
nreq() { grep -c "^GET /$1" "$T/requests.log"; }

# state NAME: a fresh state directory with a known client id.
state() {
	mkdir -p "$T/$1"
	printf '%s' "$GUID" >"$T/$1/client-id"
	echo "$T/$1"
}

# update PREFIX STATE [ARGS...]: m365ctl update against the stub and Redis.
update() {
	_p=$1
	_s=$2
	shift 2
	run "$CTL" update --base-url "$BASE" --redis "$RURL" --redis-prefix "$_p" \
		--state-dir "$_s" --timeout 10 "$@"
}

# import PREFIX FILE [ARGS...]
import() {
	_p=$1
	_f=$2
	shift 2
	run "$CTL" import "$_f" --redis "$RURL" --redis-prefix "$_p" "$@"
}

# --- a. strict numbers ----------------------------------------------------------

for v in 5abc "" 0 -1 601 " 5" 1e2; do
	update a: "$(state a)" --timeout "$v"
	expect "a: --timeout [$v] is a usage error naming --timeout" 2 '^m365ctl update: --timeout: '
done
for v in 0.5 abc 1e3 "" 1. .5 inf -2 "2x"; do
	update a: "$(state a)" --max-growth "$v"
	expect "a: update --max-growth [$v] is a usage error" 2 '^m365ctl update: --max-growth: '
	import a: "$WW25" --max-growth "$v"
	expect "a: import --max-growth [$v] is a usage error" 2 '^m365ctl import: --max-growth: '
done
check_eq "a: no request reached the stub" 0 "$(nreq '')"
run "$CTL" import "$WW25" --redis-sentinel 127.0.0.1:1 --version x
expect "a: --redis-sentinel without --redis-master is a usage error" 2 'go together'
run "$CTL" import "$WW25" --redis-sentinel 127.0.0.1 --redis-master m
expect "a: --redis-sentinel without a port is a usage error" 2 'redis-sentinel: expected HOST:PORT'
run "$CTL" import "$WW25" --redis-sentinel 127.0.0.1:5x --redis-master m
expect "a: --redis-sentinel with port 5x is a usage error" 2 'redis-sentinel: expected HOST:PORT'
run "$CTL" import "$WW25" --redis-master m --redis-sentinel h:1 --redis-sentinel h:2 \
	--redis-sentinel h:3 --redis-sentinel h:4 --redis-sentinel h:5 --redis-sentinel h:6
expect "a: a sixth --redis-sentinel is a usage error" 2 'at most 5'

# --- b. the growth gate ------------------------------------------------------------

import g: "$CNA" --version g1
expect "b: import China (47 names) exits 0" 0 '^published g1 \(was none\)' "$out"
import g: "$WW25" --version g2
expect "b: Worldwide over China (195 names) is refused" 1 \
	'^m365ctl import: refused: names grow from 47 to 195 \(more than 2x; --max-growth or --force to publish anyway\)$'
check_eq "b: current unchanged after the refusal" g1 "$(rcli GET g:current)"
import g: "$WW25" --version g2 --max-growth 100
expect "b: --max-growth 100 still refuses (IPv4 grows 149x)" 1 \
	'refused: IPv4 addresses covered grow from 16880 to 2514957 \(more than 100x'
import g: "$WW25" --version g2 --max-growth 200.5
expect "b: --max-growth 200.5 publishes" 0 '^published g2 \(was g1\)' "$out"
import g2: "$CNA" --version g1
import g2: "$WW25" --version g2 --force
expect "b: --force publishes despite the growth" 0 '^published g2 \(was g1\)' "$out"
# Three /12 more: IPv4 addresses covered more than double, nothing else does.
python3 - "$WW25" "$T/ww-wide.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d[0]["ips"] += ["11.0.0.0/12", "11.16.0.0/12", "11.32.0.0/12"]
json.dump(d, open(sys.argv[2], "w"))
PY
import g3: "$WW25" --version g1
import g3: "$T/ww-wide.json" --version g2
expect "b: IPv4 addresses covered growing 2.25x are refused" 1 \
	'^m365ctl import: refused: IPv4 addresses covered grow from 2514957 to 5660685 \(more than 2x; --max-growth or --force to publish anyway\)$'
import g3: "$T/ww-wide.json" --version g2 --max-growth 2.5
expect "b: ... and published with --max-growth 2.5" 0 '^published g2 \(was g1\)' "$out"
# The same gate on update.
import gu: "$CNA" --version 2025110100
update gu: "$(state gu)"
expect "b: update refuses the growth" 1 '^m365ctl update: refused: names grow from 47 to 195'
check_eq "b: update: current unchanged" 2025110100 "$(rcli GET gu:current)"
update gu: "$(state gu)" --force
expect "b: update --force publishes" 0 '^published 2025120100 \(was 2025110100\)' "$out"

# --- c. breadth ----------------------------------------------------------------------

python3 - "$CNA" "$T" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d[1]["ips"].append("11.0.0.0/8")          # set 2 is an Allow set
json.dump(d, open(sys.argv[2] + "/wide-ip.json", "w"))
d = json.load(open(sys.argv[1]))
d[0]["urls"].append("*.co.uk")            # set 1 is an Optimize set
json.dump(d, open(sys.argv[2] + "/wide-name.json", "w"))
PY
import br: "$CNA" --version b1
import br: "$T/wide-ip.json" --version b2 --force
expect "c: an Allow set with a /8 is refused, even with --force" 1 '^m365ctl import: refused: .*11\.0\.0\.0/8'
import br: "$T/wide-name.json" --version b3 --force --max-growth 1000
expect "c: an Optimize set with *.co.uk is refused, even with --force" 1 '^m365ctl import: refused: .*\*\.co\.uk'
check_eq "c: current unchanged" b1 "$(rcli GET br:current)"
run "$CTL" import "$T/wide-ip.json" --state-dir "$T/br-state"
expect "c: refused for the state directory too" 1 'refused: .*11\.0\.0\.0/8'
check_eq "c: nothing written to the state directory" absent \
	"$([ -e "$T/br-state/endpoints.json" ] && echo present || echo absent)"

# --- d. redirects --------------------------------------------------------------------

S=$(state rd)
OTHER=$(free_port)
stub 2025120100 "$WW25" redirect ok "\"location\": \"http://127.0.0.1:$OTHER/endpoints/Worldwide?ClientRequestId=$GUID\""
update rd: "$S"
expect "d: a redirect to another port is refused (exit 1)" 1 \
	"/endpoints/Worldwide.*: refused redirect to http://127\\.0\\.0\\.1:$OTHER/endpoints/Worldwide.* \\(another host\\)"
stub 2025120100 "$WW25" redirect ok "\"location\": \"http://localhost:$SPORT/moved/endpoints/Worldwide?ClientRequestId=$GUID\""
update rd: "$S"
expect "d: a redirect to another host name is refused" 1 'refused redirect to http://localhost:.*\(another host\)'
stub 2025120100 "$WW25" redirect ok "\"location\": \"/endpoints/Worldwide?ClientRequestId=$GUID\""
update rd: "$S"
expect "d: a redirect loop is refused after 3" 1 'refused redirect to .*\(more than 3 redirects\)'
check_eq "d: nothing published" "" "$(rcli GET rd:current)"
stub 2025120100 "$WW25" ok redirect "\"location\": \"/moved/version/Worldwide?ClientRequestId=$GUID\""
update rd: "$S"
expect "d: a same-host redirect of /version is followed" 0 '^published 2025120100 \(was none\)' "$out"
stub 2025120200 "$WW25" redirect ok "\"location\": \"$BASE/moved/endpoints/Worldwide?ClientRequestId=$GUID\""
update rd: "$S"
expect "d: a same-host redirect of /endpoints is followed" 0 '^published 2025120200 \(was 2025120100\)' "$out"
check_eq "d: ... the moved path was asked" 1 "$(nreq moved/endpoints)"
cat >"$T/redir.c" <<'EOF'
#include <stdio.h>
#include "fetch.h"
int
main(int argc, char **argv)
{
	const char *why = fetch_redirect_refusal(argv[1], argv[2]);
	(void)argc;
	printf("%s\n", why ? why : "followed");
	return 0;
}
EOF
if cc -std=c11 -D_GNU_SOURCE -I"$ROOT/lib" -I"$ROOT/ctl" -o "$T/redir" "$T/redir.c" \
	"$ROOT/ctl/fetch.c" "$ROOT/ctl/clock.c" "$BUILD/libm365.a" -lcurl 2>"$T/redir.err"; then
	check_eq "d: unit: https -> http on the same host is refused" "from https to http" \
		"$("$T/redir" https://endpoints.office.com/a http://endpoints.office.com/b)"
	check_eq "d: unit: https -> https, same host and port, is followed" followed \
		"$("$T/redir" https://endpoints.office.com/a https://ENDPOINTS.office.com:443/b)"
	check_eq "d: unit: https -> https on another port is refused" "another host" \
		"$("$T/redir" https://endpoints.office.com/a https://endpoints.office.com:8443/b)"
	check_eq "d: unit: http -> https is another origin" "another host" \
		"$("$T/redir" http://endpoints.office.com/a https://endpoints.office.com/b)"
	check_eq "d: unit: https -> another host is refused" "another host" \
		"$("$T/redir" https://endpoints.office.com/a https://evil.example/b)"
else
	not_ok "d: unit: the URL comparison compiles" "$(head -c 300 "$T/redir.err")"
fi

# --- e. Retry-After ---------------------------------------------------------------

# retry NAME RETRY_AFTER_JSON REGEX SECONDS: a 429 on /version.
retry() {
	rm -f "$S/retry-after"
	stub 2025120300 "$WW25" ok 429 "\"retry_after\": $2"
	_now=$(date +%s)
	update rd: "$S"
	expect "e: $1: refused with the reason" 1 "$3"
	_ra=$(cat "$S/retry-after" 2>/dev/null || echo 0)
	if [ "$_ra" -ge $((_now + $4 - 5)) ] && [ "$_ra" -le $((_now + $4 + 5)) ]; then
		ok "e: $1: retry-after holds now + $4"
	else
		not_ok "e: $1: retry-after holds now + $4" "[$_ra], now $_now"
	fi
}
S=$(state ra)
retry "an HTTP-date 2 hours ahead" \
	"\"$(LC_ALL=C date -u -d "@$(($(date +%s) + 7200))" '+%a, %d %b %Y %H:%M:%S GMT')\"" \
	'429 Too Many Requests; retry after (71[9][0-9]|7200) seconds$' 7200
retry "999999 seconds" 999999 \
	'429 Too Many Requests; retry after 86400 seconds \(Microsoft asked for 999999; capped\)$' 86400
retry "no Retry-After" null '429 Too Many Requests; no usable Retry-After; waiting 3600 seconds$' 3600
retry "Retry-After: soon" '"soon"' 'no usable Retry-After; waiting 3600 seconds$' 3600
rm -f "$S/retry-after"

# --- f. the lock outlives the worst run -------------------------------------------

stub 2025120100 "$WW25" ok ok '"delay": 3'
S=$(state lk)
timeout 60 "$CTL" update --base-url "$BASE" --redis "$RURL" --redis-prefix lk: \
	--state-dir "$S" --timeout 200 >"$T/lk.out" 2>"$T/lk.err" &
LKPID=$!
_i=0
pttl=-2
while [ $_i -lt 30 ]; do
	pttl=$(rcli PTTL lk:lock)
	[ "$pttl" -gt 0 ] 2>/dev/null && break
	sleep 0.1
	_i=$((_i + 1))
done
owner=$(rcli GET lk:lock)
wait $LKPID
lkrc=$?
if [ "$pttl" -gt 300000 ] && [ "$pttl" -le 460000 ]; then
	ok "f: --timeout 200: the lock lives 2 * 200 + 60 s (PTTL $pttl)"
else
	not_ok "f: --timeout 200: the lock lives 2 * 200 + 60 s" "PTTL [$pttl]"
fi
check_match "f: the lock owner is host:pid" '^[^:]+:[0-9]+$' "$owner"
check_eq "f: the slow update published (stderr [$(cat "$T/lk.err")])" "0 2025120100" \
	"$lkrc $(rcli GET lk:current)"
check_eq "f: the lock is released" "" "$(rcli GET lk:lock)"
cat "$T/lk.err" >>"$T/all.err"

# --- g. recovery from a corrupt current version -------------------------------------

stub 2025120100 "$WW25"
# corrupt NAME PREFIX REGEX: import publishes over it, naming what it replaced.
corrupt() {
	import "$2" "$WW25" --version new
	expect "g: $1: import publishes over it" 0 \
		"^published new \\(replacing corrupt $3\\): sets 64 \\(\\+64 -0\\)" "$out"
	check_eq "g: $1: current moved" new "$(rcli GET "$2current")"
	check_eq "g: $1: the version list is a list again" list "$(rcli TYPE "$2versions")"
}
rcli SET c1:current ghost >/dev/null
corrupt "current names a missing hash" c1: 'version ghost: .*'
rcli RPUSH c2:current x >/dev/null
corrupt "current is a list" c2: 'pointer c2:current: .*WRONGTYPE.*'
rcli SET c3:current v1 >/dev/null
rcli SET c3:v:v1 garbage >/dev/null
corrupt "the version hash is a string" c3: 'version v1: .*'
import c4: "$WW25" --version v1
rcli SET c4:versions garbage >/dev/null
corrupt "versions is a string" c4: 'version list c4:versions: .*'
printf '[{' | rcli -x HSET c5:v:v1 sha256 "$(printf '[{' | sha256sum | cut -d' ' -f1)" \
	version v1 json >/dev/null
rcli SET c5:current v1 >/dev/null
corrupt "corrupt JSON with its right sha256" c5: 'version v1: .*line 1.*'
# update: refused without --force, published with it
rcli SET u1:current ghost >/dev/null
_before=$(nreq endpoints)
update u1: "$(state u1)"
expect "g: update over a missing version hash refuses without --force" 1 \
	'^m365ctl update: current version ghost is corrupt \(.*\); --force to replace it$'
check_eq "g: ... without downloading, current unchanged" "0 ghost" \
	"$(($(nreq endpoints) - _before)) $(rcli GET u1:current)"
update u1: "$(state u1)" --force
expect "g: update --force publishes over it" 0 \
	'^published 2025120100 \(replacing corrupt version ghost: .*\): sets 64 \(\+64 -0\)' "$out"
rcli RPUSH u2:current x >/dev/null
update u2: "$(state u2)"
expect "g: update over a current list refuses without --force" 1 \
	'current pointer u2:current is corrupt \(.*\); --force to replace it$'
update u2: "$(state u2)" --force
expect "g: update --force publishes over a current list" 0 \
	'^published 2025120100 \(replacing corrupt pointer u2:current: ' "$out"
# the state directory, without Redis
S=$T/sd1
mkdir -p "$S"
printf '[{' >"$S/endpoints.json"
echo 2024041700 >"$S/version"
run "$CTL" import "$WW25" --state-dir "$S" --version 2025120100
expect "g: import over a corrupt state dir endpoints.json" 0 \
	"^m365ctl import: state directory $S holds a corrupt list \\(.*\\); replacing it\$"
check_eq "g: ... the state dir holds the new list" "2025120100 same" \
	"$(cat "$S/version") $(cmp -s "$WW25" "$S/endpoints.json" && echo same)"
S=$T/sd2
mkdir -p "$S"
cp "$WW25" "$S/endpoints.json"
echo 'not a version!' >"$S/version"
run "$CTL" import "$WW25" --state-dir "$S" --version v2
expect "g: import over a corrupt state dir version file" 0 \
	"state directory $S holds a corrupt list \\(.*no valid version\\); replacing it"
S=$(state sd3)
printf '2025110100' >"$S/version"
printf '{"broken' >"$S/endpoints.json"
run "$CTL" update --base-url "$BASE" --state-dir "$S" --timeout 10
expect "g: update (no Redis) over a corrupt state dir" 0 \
	"state directory $S holds a corrupt list \\(.*\\); replacing it"
check_match "g: ... and publishes" '^published 2025120100 \(replacing corrupt list in ' "$out"

# --- h. unreadable files and FIFOs ---------------------------------------------------

run "$CTL" import "$T/nope.json" --state-dir "$T/h"
expect "h: import of a missing file: exit 2" 2 "^m365ctl import: $T/nope.json: No such file or directory\$"
mkfifo "$T/fifo"
_t0=$(date +%s)
run "$CTL" import "$T/fifo" --state-dir "$T/h"
expect "h: import of a FIFO: exit 2, not a regular file" 2 'not a regular file'
check_eq "h: ... at once" yes "$([ $(($(date +%s) - _t0)) -lt 5 ] && echo yes)"
S=$T/hf
mkdir -p "$S"
mkfifo "$S/client-id" "$S/retry-after" "$S/version"
_t0=$(date +%s)
run "$CTL" update --base-url "$BASE" --state-dir "$S" --timeout 10
expect "h: update with FIFOs as client-id, retry-after and version: published" 0 \
	'^published 2025120100 ' "$out"
check_eq "h: ... at once" yes "$([ $(($(date +%s) - _t0)) -lt 5 ] && echo yes)"
check_match "h: ... a new client id" '^[0-9a-f-]{36}$' "$(cat "$S/client-id")"

# --- i. signed versions ---------------------------------------------------------------

if grep -q m365_sign_version "$ROOT"/lib/*.c 2>/dev/null; then
	openssl genpkey -algorithm ed25519 -out "$T/sign.pem" 2>/dev/null
	chmod 600 "$T/sign.pem"
	openssl pkey -in "$T/sign.pem" -pubout -out "$T/pub.pem" 2>/dev/null
	openssl genpkey -algorithm ed25519 -out "$T/other.pem" 2>/dev/null
	openssl pkey -in "$T/other.pem" -pubout -out "$T/other-pub.pem" 2>/dev/null
	import sg: "$WW25" --version s1 --sign-key "$T/sign.pem"
	expect "i: import --sign-key publishes" 0 '^published s1 ' "$out"
	check_match "i: the version carries a signature" '^[0-9a-f]{128}$' "$(rcli HGET sg:v:s1 sig)"
	run "$CTL" status --redis "$RURL" --redis-prefix sg: --verify-key "$T/pub.pem"
	expect "i: status: signature: valid" 0 '^signature: +valid$' "$out"
	run "$CTL" lookup --redis "$RURL" --redis-prefix sg: --verify-key "$T/pub.pem" teams.microsoft.com 443
	expect "i: lookup --verify-key accepts the signed version" 0 '^OK' "$out"
	run "$CTL" status --redis "$RURL" --redis-prefix sg: --verify-key "$T/other-pub.pem"
	expect "i: status with another key: signature: bad, needs attention (exit 1)" 1 '^signature: +bad$' "$out"
	run "$CTL" lookup --redis "$RURL" --redis-prefix sg: --verify-key "$T/other-pub.pem" teams.microsoft.com 443
	expect "i: lookup with another key: exit 2" 2 'bad signature'
	run "$CTL" status --redis "$RURL" --redis-prefix g: --verify-key "$T/pub.pem"
	expect "i: status of an unsigned version: signature: none, needs attention (exit 1)" 1 '^signature: +none$' "$out"
	run "$CTL" lookup --redis "$RURL" --redis-prefix g: --verify-key "$T/pub.pem" teams.microsoft.com 443
	expect "i: lookup --verify-key refuses an unsigned version (exit 2)" 2 'no signature'
	S=$(state sgu)
	update sgu: "$S" --sign-key "$T/sign.pem"
	expect "i: update --sign-key publishes" 0 '^published 2025120100 ' "$out"
	run "$CTL" status --redis "$RURL" --redis-prefix sgu: --verify-key "$T/pub.pem"
	expect "i: ... signed: signature: valid" 0 '^signature: +valid$' "$out"
	chmod 644 "$T/sign.pem"
	import sg: "$WW25" --version s2 --sign-key "$T/sign.pem"
	expect "i: a private key readable by others is a usage error" 2 'sign.pem: '
	run "$CTL" import "$WW25" --redis "$RURL" --redis-prefix sg: --sign-key "$T/nokey.pem"
	expect "i: a missing --sign-key is a usage error" 2 'nokey.pem: '
else
	echo "# i: skipped: lib/sign.c does not implement m365_sign_version yet"
fi

# --- j. Redis Sentinel -------------------------------------------------------------------

P1=$(free_port)
P2=$(free_port)
SS=$(free_port)
mkdir -p "$T/p1" "$T/p2" "$T/sentinel"
redis-server --port "$P1" --bind 127.0.0.1 --save '' --appendonly no --dir "$T/p1" \
	--logfile "$T/p1/log" >/dev/null 2>&1 &
P1PID=$!
on_exit "kill -9 $P1PID 2>/dev/null"
redis-server --port "$P2" --bind 127.0.0.1 --save '' --appendonly no --dir "$T/p2" \
	--logfile "$T/p2/log" --replicaof 127.0.0.1 "$P1" >/dev/null 2>&1 &
on_exit "kill -9 $! 2>/dev/null"
{ wait_port "$P1" 10 && wait_port "$P2" 10; } || abort "primary or replica did not start"
_i=0
while ! timeout 5 redis-cli -p "$P2" INFO replication | grep -q 'master_link_status:up' &&
	[ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
cat >"$T/sentinel/sentinel.conf" <<EOF
port $SS
bind 127.0.0.1
dir $T/sentinel
sentinel monitor m 127.0.0.1 $P1 1
sentinel down-after-milliseconds m 1000
sentinel failover-timeout m 3000
EOF
redis-server "$T/sentinel/sentinel.conf" --sentinel --logfile "$T/sentinel/log" >/dev/null 2>&1 &
on_exit "kill -9 $! 2>/dev/null"
wait_port "$SS" 10 || abort "sentinel did not start"
scli() { timeout 5 redis-cli -p "$SS" "$@"; }
_i=0
while [ -z "$(scli SENTINEL replicas m 2>/dev/null)" ] && [ $_i -lt 150 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
DEAD=$(free_port)
run "$CTL" import "$WW25" --redis-sentinel "127.0.0.1:$DEAD" --redis-sentinel "127.0.0.1:$SS" \
	--redis-master m --version s1
expect "j: import through the sentinels (the first one down) exits 0" 0 '^published s1 \(was none\)' "$out"
check_eq "j: the primary holds s1" s1 "$(timeout 5 redis-cli -p "$P1" GET m365:current)"
run "$CTL" import "$WW25" --redis-sentinel "127.0.0.1:$DEAD" --redis-master m
expect "j: every sentinel down: exit 4" 4 \
	"^m365ctl import: --redis-sentinel: no primary for master \"m\" \\(127\\.0\\.0\\.1:$DEAD: .*\\)\$"
run "$CTL" import "$WW25" --redis-sentinel "127.0.0.1:$SS" --redis-master nosuch
expect "j: an unknown master: exit 4" 4 'no primary for master "nosuch" \(.*knows no master'
kill -9 "$P1PID"
_i=0
while [ "$(scli SENTINEL get-master-addr-by-name m 2>/dev/null | tail -n 1)" != "$P2" ] &&
	[ $_i -lt 300 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check_eq "j: the sentinel failed over to the replica" "$P2" \
	"$(scli SENTINEL get-master-addr-by-name m | tail -n 1)"
_i=0
while ! timeout 5 redis-cli -p "$P2" ROLE 2>/dev/null | head -n 1 | grep -q master &&
	[ $_i -lt 50 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
run "$CTL" import "$WW25" --redis-sentinel "127.0.0.1:$SS" --redis-master m --version s2
expect "j: import through the sentinel after the failover exits 0" 0 '^published s2 \(was s1\)' "$out"
check_eq "j: the new primary holds s2" s2 "$(timeout 5 redis-cli -p "$P2" GET m365:current)"
stub 2025120100 "$WW25"
S=$(state sentinel-update)
run "$CTL" update --base-url "$BASE" --state-dir "$S" --timeout 10 \
	--redis-sentinel "127.0.0.1:$DEAD" --redis-sentinel "127.0.0.1:$SS" --redis-master m
expect "j: update through the sentinels after the failover exits 0" 0 \
	'^published 2025120100 \(was s2\)' "$out"
check_eq "j: update published to the new primary" 2025120100 \
	"$(timeout 5 redis-cli -p "$P2" GET m365:current)"

# --- k. --redis-auth-file --------------------------------------------------------------

printf '# the default user\ns3cr3t-p@ss\n' >"$T/auth"
chmod 600 "$T/auth"
rcli CONFIG SET requirepass 's3cr3t-p@ss' >/dev/null
import au: "$WW25" --version a1 --redis-auth-file "$T/auth"
expect "k: import --redis-auth-file exits 0" 0 '^published a1 ' "$out"
import au: "$WW25" --version a2
expect "k: import without the credentials: exit 4" 4 'NOAUTH|auth'
run "$CTL" status --redis "$RURL" --redis-prefix au: --redis-auth-file "$T/auth"
expect "k: status --redis-auth-file" 0 '^current: +a1$' "$out"
run "$CTL" lookup --redis "$RURL" --redis-prefix au: --redis-auth-file "$T/auth" teams.microsoft.com 443
expect "k: lookup --redis-auth-file" 0 '^OK' "$out"
S=$(state au)
update au: "$S" --redis-auth-file "$T/auth"
expect "k: update --redis-auth-file" 0 '^published 2025120100 \(was a1\)' "$out"
chmod 644 "$T/auth"
import au: "$WW25" --version a3 --redis-auth-file "$T/auth"
expect "k: an auth file readable by others is a usage error" 2 "$T/auth: "
timeout 10 redis-cli -p "$RPORT" -a 's3cr3t-p@ss' --no-auth-warning CONFIG SET requirepass '' >/dev/null

# --- l. lookup warns of a local regex that backtracks badly ---------------------------

printf 'bypass re:^(?=a)(a+)+\\.example\\.net$\n' >"$T/backtrack.list"
run "$CTL" lookup --local "$T/backtrack.list" aaa.example.net 443
expect "l: lookup answers from a backtracking regex" 0 '^OK m365_category=Local' "$out"
check_match "l: lookup warns of it with file and line" \
	"warning: $T/backtrack.list:1: the regular expression backtracks badly" "$err"

# --- no sanitizer report ----------------------------------------------------------------

if grep -Eq 'Sanitizer|runtime error:' "$T/all.err"; then
	not_ok "no sanitizer report" "$(grep -m1 -E -A5 'Sanitizer|runtime error:' "$T/all.err")"
else
	ok "no sanitizer report"
fi
finish
