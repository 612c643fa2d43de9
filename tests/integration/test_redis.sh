#!/bin/sh
# tests/integration/test_redis.sh - Redis distribution end to end.
#
# A real redis-server on a free loopback port (no persistence), a local
# stand-in of Microsoft's web service (msstub.py, driven by a control file),
# m365ctl update/import/status, and running ext_m365_acl helpers (sanitizer
# build) that follow Redis with --poll 30, so that only pub/sub can explain a
# switch within 2 s.  Helpers read a FIFO the script keeps open and write to
# a file; helper_driver.py sends requests with fresh channel IDs and reads
# the answers.  Covers:
#   a. update publishes; status; state dir files; the client id is kept
#   b. an unchanged version: "already current", no second download
#   c. real snapshot changes (worldwide 2024-04-17 -> 2025-12-01, China a -> b
#      under another prefix) reaching running helpers without a restart
#   d. the updater refusing truncated, [], shrinking, 500 and 429 answers
#      (and not calling again before Retry-After), Redis and helpers unchanged
#   i. the updater lock
#   h. corrupt versions in Redis rejected by the helpers
#   e. Redis killed (-9) and restarted empty under load: no wrong answer, the
#      list kept, the next publish followed after the reconnect
#   f. --cache: a helper started with Redis down answers from the cache, and
#      follows Redis once it is back (as do helpers after a 7 s outage)
#   g. two helpers switching on one publish (checked in a, c and e)
#   j. the link lost while a new version is fetched: fetched again afterwards
# Every wait has a timeout; the whole script takes about 25 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

HELPER=${M365_HELPER:-$BUILD/san/ext_m365_acl}
CTL=${M365_CTL:-$BUILD/m365ctl}
FIX=$FIXTURES
WW24=$FIX/worldwide-2024-04-17.json
WW25=$FIX/worldwide-2025-12-01.json
CNA=$FIX/china-2025-12-01a.json
CNB=$FIX/china-2025-12-01b.json
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

helper_setup redis-server redis-cli python3 sha256sum
: >"$T/times"
HELPERS=""


# diag HELPER...: the tail of each helper's stderr (on failure).
diag() {
	for _h in "$@"; do
		if grep -Eq 'Sanitizer|runtime error:' "$T/$_h/err"; then
			echo "--- $_h stderr, sanitizer report:" >&2
			grep -E -A 14 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/$_h/err" | head -n 30 >&2
		else
			echo "--- tail of $_h stderr:" >&2
			tail -n 15 "$T/$_h/err" >&2
		fi
	done
}

# fail NAME REASON [HELPER...]: one FAIL line with diagnostics.
fail() {
	_fn=$1
	_fr=$2
	shift 2
	not_ok "$_fn" "$_fr"
	diag "$@"
}

# lookup FILE QUERY: the verdict of m365ctl lookup on FILE (the reference).
# shellcheck disable=SC2086 # QUERY is split into HOST PORT on purpose
lookup() { "$CTL" lookup --list "$1" $2 2>/dev/null | head -n 1; }

# --- Redis -------------------------------------------------------------------

# shellcheck source=tests/redis_lib.sh
. "$ROOT/tests/redis_lib.sh"
redis_init "$T"
REDIS=$RURL
start_redis || abort "redis-server did not start on port $RPORT: $(tail -n 5 "$T/redis.log")"

# --- the stand-in of Microsoft's web service -----------------------------------

# stub VERSION ENDPOINTS [MODE [VERSION_MODE]]: rewrites the control file.
stub() { msstub_control "$1" "$2" "${3:-ok}" "${4:-ok}" '"retry_after": 120'; }
stub 2024041700 "$WW24"
msstub_start
reqs() { wc -l <"$T/requests.log" | tr -d ' '; }
nreq() { grep -c "^GET /$1[/?]" "$T/requests.log"; }

# The stub itself: ClientRequestId required.
check_match "stub: a request without ClientRequestId is answered 400" '^400$' \
	"$(python3 -c 'import sys, urllib.request, urllib.error
try: urllib.request.urlopen(sys.argv[1] + "/version/Worldwide", timeout=5); print(200)
except urllib.error.HTTPError as e: print(e.code)' "$BASE")"
: >"$T/requests.log"

# A proxy to Redis that can drop a connection on demand (for j).
python3 "$ROOT/tests/integration/helper_driver.py" proxy --target "$RPORT" \
	--port-file "$T/proxy.port" --flag "$T/drop" --log "$T/proxy.log" \
	>/dev/null 2>"$T/proxy.err" &
PROXYPID=$!
on_exit "kill $PROXYPID 2>/dev/null"
_i=0
while [ ! -s "$T/proxy.port" ] && [ $_i -lt 50 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
[ -s "$T/proxy.port" ] || abort "the Redis proxy did not start: $(cat "$T/proxy.err")"
PROXIED="redis://127.0.0.1:$(cat "$T/proxy.port")"

S1=$T/state
S2=$T/state2
# shellcheck disable=SC2120
# update ARGS...: m365ctl update against the stub and Redis, state dir S1.
update() {
	timeout 30 "$CTL" update --base-url "$BASE" --redis "$REDIS" \
		--state-dir "$S1" --timeout 10 "$@"
}

# --- helpers -----------------------------------------------------------------

# start_helper NAME FD ARGS...: starts a helper reading the FIFO $T/NAME/in,
# which the script keeps open on descriptor FD (3-9).
start_helper() {
	_n=$1
	_fd=$2
	shift 2
	fifo_start "$_n" "$_fd" "$HELPER" "$@"
}

# ask HELPER QUERY: the helper's answer (without channel), or TIMEOUT.
ask() { drv ask "$T/$1" "$2" --timeout 3; }

# asks NAME HELPER QUERY EXPECTED
asks() {
	_got=$(ask "$2" "$3")
	if [ "$_got" = "$4" ]; then ok "$1"; else fail "$1" "$3: expected [$4], got [$_got]" "$2"; fi
}

# waitlog NAME HELPER REGEX SECONDS: the helper's stderr gets a matching line.
waitlog() {
	if drv wait-log "$T/$2/err" "$3" --timeout "$4" >/dev/null; then
		ok "$1"
	else
		fail "$1" "no /$3/ on stderr within $4 s" "$2"
	fi
}

# switched NAME WATCH_OUTPUT HELPER EXPECTED MAX_MS: checks one helper's line
# of a `helper_driver.py watch` output and records the time.
switched() {
	_line=$(printf '%s\n' "$2" | grep "^$3 ")
	_ms=$(printf '%s\n' "$_line" | cut -d' ' -f2)
	_ans=$(printf '%s\n' "$_line" | cut -d' ' -f3-)
	case $_ms in
	'' | *[!0-9]*)
		fail "$1" "no change within $(($5 / 1000)) s (still [$_ans])" "$3"
		return
		;;
	esac
	echo "$1: $_ms ms" >>"$T/times"
	if [ "$_ans" != "$4" ]; then
		fail "$1" "changed to [$_ans], expected [$4]" "$3"
	elif [ "$_ms" -gt "$5" ]; then
		fail "$1" "took $_ms ms (limit $5)" "$3"
	else
		ok "$1 ($_ms ms)"
	fi
}

# watch_rc WATCH_OUTPUT: the exit status of the watched command.
watch_rc() { printf '%s\n' "$1" | sed -n 's/^rc //p'; }

# --- answers that differ between the snapshots (checked with lookup) -----------

QW="teams.cloud.microsoft 443"          # 2024: Default only, 2025: set 12
QW2="x.compliance.microsoft.com 443"    # 2024: set 64, 2025: Default only
QC1="159.27.176.0 443"                  # China a: ERR, b: set 2
QC2="x.protection.partner.outlook.cn 25" # China a: set 2 (port 25), b: ERR
A_W24=$(lookup "$WW24" "$QW")
A_W25=$(lookup "$WW25" "$QW")
A2_W24=$(lookup "$WW24" "$QW2")
A2_W25=$(lookup "$WW25" "$QW2")
A_CA1=$(lookup "$CNA" "$QC1")
A_CB1=$(lookup "$CNB" "$QC1")
A_CA2=$(lookup "$CNA" "$QC2")
A_CB2=$(lookup "$CNB" "$QC2")
# shellcheck disable=SC2086
A_BUN1=$("$CTL" lookup $QC1 2>/dev/null | head -n 1)
# shellcheck disable=SC2086
A_BUN2=$("$CTL" lookup $QC2 2>/dev/null | head -n 1)
check_eq "fixtures: $QW differs (2024-04-17 / 2025-12-01)" \
	"ERR m365_category=Default / OK m365_category=Allow m365_service=Skype m365_set=12" \
	"$A_W24 / $A_W25"
check_eq "fixtures: $QW2 differs (2024-04-17 / 2025-12-01)" \
	"OK m365_category=Allow m365_service=Common m365_set=64 / ERR m365_category=Default" \
	"$A2_W24 / $A2_W25"
check_eq "fixtures: $QC1 differs (China a / b / bundled)" \
	"ERR / OK m365_category=Allow m365_service=Exchange m365_set=2 / ERR" \
	"$A_CA1 / $A_CB1 / $A_BUN1"
check_eq "fixtures: $QC2 differs (China a / b / bundled)" \
	"OK m365_category=Allow m365_service=Exchange m365_set=2 / ERR / ERR" \
	"$A_CA2 / $A_CB2 / $A_BUN2"

# --- start three helpers: two "proxies" on the default prefix, one China -----

start_helper ha 3 --redis "$REDIS" --poll 30 --cache "$T/ww-cache.json"
start_helper hb 4 --redis "$REDIS" --poll 30
start_helper hc 5 --redis "$REDIS" --redis-prefix cn: --poll 30 --cache "$T/cn-cache.json"
start_helper hh 6 --redis "$REDIS" --redis-prefix h: --poll 30
start_helper hj 9 --redis "$PROXIED" --redis-prefix j: --poll 2
for h in ha hb hc hh hj; do
	waitlog "$h: subscribed, Redis empty" $h 'Redis has no version yet' 5
done
asks "ha: bundled list before any publish" ha "$QW" "$A_W25"
asks "hc: bundled list before any publish" hc "$QC2" "$A_BUN2"

# --- a. update publishes ---------------------------------------------------------

out=$(drv watch --query "$QW" --from "$A_W25" --timeout 2 \
	--cmd-out "$T/a.out" --cmd-err "$T/a.err" "$T/ha" "$T/hb" -- \
	"$CTL" update --base-url "$BASE" --redis "$REDIS" --state-dir "$S1" --timeout 10)
check_eq "a: update exits 0 (stderr: $(head -c 200 "$T/a.err"))" 0 "$(watch_rc "$out")"
check_match "a: update prints the published line" \
	'^published 2024041700 \(was none\): sets 72 \(\+72 -0\), names [0-9]+ \(\+[0-9]+ -0\), addresses [0-9]+ \(\+[0-9]+ -0\)$' \
	"$(cat "$T/a.out")"
switched "a: ha switched to 2024041700 (pub/sub)" "$out" ha "$A_W24" 2000
switched "g: hb switched to 2024041700 on the same publish" "$out" hb "$A_W24" 2000
check_eq "a: Redis current" 2024041700 "$(rcli GET m365:current)"
check_eq "a: the lock is released" 0 "$(rcli EXISTS m365:lock)"
st=$("$CTL" status --redis "$REDIS" --state-dir "$S1" 2>&1)
check_match "a: status current" '^current: +2024041700$' "$st"
check_match "a: status published" '^published: +20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z by [^ ]+:[0-9]+$' "$st"
check_match "a: status source" "^source: +$BASE/endpoints/Worldwide\$" "$st"
check_match "a: status sha256 of the document" \
	"^sha256: +$(sha256sum "$WW24" | cut -d' ' -f1)\$" "$st"
check_match "a: status list" '^list: +72 sets, ' "$st"
check_match "a: status kept" '^kept: +2024041700$' "$st"
check_match "a: status state dir" 'state dir: .*version 2024041700, 72 sets' "$st"
if cmp -s "$WW24" "$S1/endpoints.json"; then ok "a: state dir endpoints.json is the document"; else not_ok "a: state dir endpoints.json is the document" "differs or missing"; fi
check_eq "a: state dir version" 2024041700 "$(cat "$S1/version" 2>&1)"
CID=$(cat "$S1/client-id" 2>&1)
check_match "a: state dir client-id is a random UUID" \
	'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$CID"
check_eq "a: one /version and one /endpoints request" "1 1" "$(nreq version) $(nreq endpoints)"
check_match "a: requests carry the ClientRequestId" "^GET /endpoints/Worldwide\\?ClientRequestId=$CID\$" \
	"$(grep '^GET /endpoints/' "$T/requests.log")"
asks "a: ha answers $QW2 from 2024041700" ha "$QW2" "$A2_W24"

# --- b. unchanged version ------------------------------------------------------------

upd_out=$(update 2>"$T/b.err")
check_eq "b: update of an unchanged version exits 0" 0 $?
check_eq "b: already current" "already current: version 2024041700" "$upd_out"
check_eq "b: /version asked again, /endpoints not downloaded again" "2 1" "$(nreq version) $(nreq endpoints)"
check_eq "b: the same ClientRequestId on every request (client-id reused)" "$CID" \
	"$(sed -n 's/.*ClientRequestId=\([^& ]*\).*/\1/p' "$T/requests.log" | sort -u)"
check_eq "b: client-id file unchanged" "$CID" "$(cat "$S1/client-id")"

# --- c. a new version reaches running helpers, no restart ----------------------------

stub 2025120100 "$WW25"
out=$(drv watch --query "$QW" --from "$A_W24" --timeout 2 \
	--cmd-out "$T/c.out" --cmd-err "$T/c.err" "$T/ha" "$T/hb" -- \
	"$CTL" update --base-url "$BASE" --redis "$REDIS" --state-dir "$S1" --timeout 10)
check_eq "c: update exits 0 (stderr: $(head -c 200 "$T/c.err"))" 0 "$(watch_rc "$out")"
check_match "c: published line with the changes" \
	'^published 2025120100 \(was 2024041700\): sets 64 \(\+0 -8\), names [0-9]+ \(\+5 -[0-9]+\), addresses [0-9]+ \(\+1 -3\)$' \
	"$(cat "$T/c.out")"
switched "c: ha switched 2024041700 -> 2025120100 (pub/sub, --poll 30)" "$out" ha "$A_W25" 2000
switched "g: hb switched 2024041700 -> 2025120100 on the same publish" "$out" hb "$A_W25" 2000
asks "c: ha answers $QW2 from 2025120100" ha "$QW2" "$A2_W25"
asks "c: hb answers $QW2 from 2025120100" hb "$QW2" "$A2_W25"
waitlog "c: ha logs the switch" ha 'switched to version 2025120100 \(64 sets, [0-9]+ selected\)' 1
check_eq "c: two /endpoints downloads in all" 2 "$(nreq endpoints)"
check_match "c: status kept, newest first" '^kept: +2025120100 2024041700$' \
	"$("$CTL" status --redis "$REDIS" 2>&1)"
if cmp -s "$WW25" "$T/ww-cache.json"; then ok "c: ha cache holds the document"; else not_ok "c: ha cache holds the document" "differs or missing"; fi
check_eq "c: ha cache version file" 2025120100 "$(cat "$T/ww-cache.json.version" 2>&1)"

# China a -> b under prefix cn:, same Redis.
out=$(drv watch --query "$QC2" --from "$A_BUN2" --timeout 2 \
	--cmd-out "$T/ca.out" --cmd-err "$T/ca.err" "$T/hc" -- \
	"$CTL" import "$CNA" --redis "$REDIS" --redis-prefix cn: --version cn-a)
check_eq "c: import China a exits 0 (stderr: $(head -c 200 "$T/ca.err"))" 0 "$(watch_rc "$out")"
check_match "c: import China a published" '^published cn-a \(was none\): sets 21 ' "$(cat "$T/ca.out")"
switched "c: hc switched bundled -> China a" "$out" hc "$A_CA2" 2000
stub 2025120101 "$CNB"
_before=$(nreq endpoints/China)
out=$(drv watch --query "$QC1" --from "$A_CA1" --timeout 2 \
	--cmd-out "$T/cb.out" --cmd-err "$T/cb.err" "$T/hc" -- \
	"$CTL" update --instance China --base-url "$BASE" --redis "$REDIS" \
	--redis-prefix cn: --state-dir "$T/state-cn" --timeout 10)
check_eq "c: update --instance China exits 0 (stderr: $(head -c 200 "$T/cb.err"))" 0 "$(watch_rc "$out")"
check_match "c: update China b published" '^published 2025120101 \(was cn-a\): sets 22 \(\+1 -0\)' "$(cat "$T/cb.out")"
check_eq "c: China b downloaded from /endpoints/China" 1 "$(($(nreq endpoints/China) - _before))"
switched "c: hc switched China a -> China b (pub/sub, --poll 30)" "$out" hc "$A_CB1" 2000
asks "c: hc answers $QC2 from China b" hc "$QC2" "$A_CB2"
check_eq "c: prefixes are independent (m365:current, cn:current)" "2025120100 2025120101" \
	"$(rcli GET m365:current) $(rcli GET cn:current)"
asks "c: ha unaffected by the China publishes" ha "$QW" "$A_W25"
if grep -q 'cn-' "$T/ha/err" "$T/hb/err"; then
	fail "c: ha and hb never saw the cn: versions" "they logged a cn- version" ha hb
else
	ok "c: ha and hb never saw the cn: versions"
fi
if cmp -s "$CNB" "$T/cn-cache.json"; then ok "f: hc cache holds China b"; else not_ok "f: hc cache holds China b" "differs or missing"; fi
check_eq "f: hc cache version file" 2025120101 "$(cat "$T/cn-cache.json.version" 2>&1)"

# --- d. the updater refuses bad answers ---------------------------------------------

# refused NAME MODE VERSION_MODE ENDPOINTS STDERR_REGEX NEW_REQUESTS
refused() {
	stub 2025120200 "$4" "$2" "$3"
	_before=$(reqs)
	_o=$(update 2>"$T/d.err")
	_rc=$?
	_e=$(cat "$T/d.err")
	check_eq "d: $1: exit 1 (stdout [$_o], stderr [$_e])" 1 "$_rc"
	check_match "d: $1: reason on stderr" "$5" "$_e"
	check_eq "d: $1: stub requests" "$6" "$(($(reqs) - _before))"
	check_eq "d: $1: Redis current unchanged" 2025120100 "$(rcli GET m365:current)"
	check_eq "d: $1: state dir version unchanged" 2025120100 "$(cat "$S1/version")"
	asks "d: $1: ha still answers from 2025120100" ha "$QW" "$A_W25"
}
refused "truncated document" truncated ok "$WW25" '^m365ctl update: refused: .*line [0-9]+' 2
refused "empty array []" empty ok "$WW25" '^m365ctl update: refused: ' 2
refused "HTTP 500 on /endpoints" 500 ok "$WW25" 'refused: .*/endpoints/Worldwide.* answered HTTP 500' 2
refused "HTTP 500 on /version" ok 500 "$WW25" 'refused: .*/version/Worldwide.* answered HTTP 500' 1
refused "a list shrinking by more than half" ok ok "$CNA" 'refused: 21 sets where the current list has 64' 2
now=$(date +%s)
refused "HTTP 429" 429 ok "$WW25" 'refused: .*429 Too Many Requests; retry after 120 seconds' 2
ra=$(cat "$S1/retry-after" 2>/dev/null || echo 0)
if [ "$ra" -ge $((now + 115)) ] && [ "$ra" -le $((now + 125)) ]; then
	ok "d: 429 recorded retry-after = now + 120"
else
	not_ok "d: 429 recorded retry-after = now + 120" "retry-after [$ra], now $now"
fi
stub 2025120200 "$WW25"
refused "right after a 429, without calling the stub" ok ok "$WW25" 'refused: Microsoft asked us to wait \(HTTP 429\)' 0
check_match "d: versions kept unchanged" '^kept: +2025120100 2024041700$' "$("$CTL" status --redis "$REDIS" 2>&1)"
asks "d: ha answers $QW2 from 2025120100" ha "$QW2" "$A2_W25"
asks "d: hb answers $QW from 2025120100" hb "$QW" "$A_W25"
if grep -q '2025120200' "$T/ha/err" "$T/hb/err"; then
	fail "d: no helper saw a refused version" "2025120200 on a helper's stderr" ha hb
else
	ok "d: no helper saw a refused version"
fi

# --- i. the updater lock ---------------------------------------------------------------

rcli SET m365:lock someone-else:1 PX 60000 >/dev/null
_before=$(reqs)
_o=$(timeout 30 "$CTL" update --base-url "$BASE" --redis "$REDIS" --state-dir "$S2" --timeout 10 2>"$T/i.err")
_rc=$?
check_eq "i: update with the lock held exits 3 (stderr [$(cat "$T/i.err")])" 3 "$_rc"
check_match "i: the reason on stderr" 'lock' "$(cat "$T/i.err")"
check_eq "i: the stub was not called" 0 "$(($(reqs) - _before))"
check_eq "i: the other updater's lock is left alone" someone-else:1 "$(rcli GET m365:lock)"
check_eq "i: Redis current unchanged" 2025120100 "$(rcli GET m365:current)"
rcli DEL m365:lock >/dev/null

# --- h. corrupt versions in Redis ----------------------------------------------------
# On its own prefix h: and helper hh, so that a failure here cannot spoil e/f.

out=$(drv watch --query "$QW2" --from "$A2_W25" --timeout 2 \
	--cmd-out "$T/h.out" --cmd-err "$T/h.err" "$T/hh" -- \
	"$CTL" import "$WW24" --redis "$REDIS" --redis-prefix h: --version good)
check_eq "h: import of a good version exits 0 (stderr: $(head -c 200 "$T/h.err"))" 0 "$(watch_rc "$out")"
switched "h: hh switched to the good version" "$out" hh "$A2_W24" 2000
# A China document under a wrong checksum: accepting it would change $QW2.
rcli -x HSET h:v:corrupt1 sha256 "$(sha256sum "$WW25" | cut -d' ' -f1)" \
	version corrupt1 json <"$CNB" >/dev/null
rcli SET h:current corrupt1 >/dev/null
rcli PUBLISH h:updates corrupt1 >/dev/null
waitlog "h: hh rejects a version with a wrong sha256" hh 'version corrupt1 rejected: .*checksum mismatch' 2
asks "h: hh keeps answering from the good version" hh "$QW2" "$A2_W24"
if grep -q 'version corrupt1 rejected: .*checksum mismatch (stored [0-9a-f]\{64\}, computed [0-9a-f]\{64\})' "$T/hh/err"; then
	ok "h: the rejection names both checksums"
else
	fail "h: the rejection names both checksums" "$(grep -a 'corrupt1 rejected' "$T/hh/err" | head -n 1 | cat -v)" hh
fi
# A right checksum over an invalid document ([]).
printf '[]' | rcli -x HSET h:v:corrupt2 sha256 "$(printf '[]' | sha256sum | cut -d' ' -f1)" \
	version corrupt2 json >/dev/null
rcli SET h:current corrupt2 >/dev/null
rcli PUBLISH h:updates corrupt2 >/dev/null
waitlog "h: hh rejects a checksummed but invalid document" hh 'version corrupt2 rejected' 2
asks "h: hh still answers from the good version" hh "$QW2" "$A2_W24"
asks "h: ha (other prefix) unaffected" ha "$QW" "$A_W25"

# --- j. the link lost while a new version is being fetched -------------------------
# hj reaches Redis through a proxy that drops the connection on the first
# HMGET after $T/drop appears.  Once reconnected (200 ms backoff) it must
# fetch the version again: a broken link is not a bad version.

touch "$T/drop"
out=$(drv watch --query "$QW2" --from "$A2_W25" --timeout 5 \
	--cmd-out "$T/j.out" --cmd-err "$T/j.err" "$T/hj" -- \
	"$CTL" import "$WW24" --redis "$REDIS" --redis-prefix j: --version j1)
check_eq "j: import exits 0 (stderr: $(head -c 200 "$T/j.err"))" 0 "$(watch_rc "$out")"
check_eq "j: the proxy dropped the link during HMGET" "1 absent" \
	"$(grep -c dropped "$T/proxy.log") $([ -e "$T/drop" ] && echo present || echo absent)"
waitlog "j: hj logs the lost link" hj 'lost Redis' 1
switched "j: hj fetches the version again after the reconnect (--poll 2)" "$out" hj "$A2_W24" 5000

# --- k. Redis frozen (SIGSTOP): slow, not gone ----------------------------------------
# Every Redis command has a timeout and none is on the request path: the
# answers keep coming, unchanged and on time, while Redis does not answer.

out=$(drv steady --query "$QW" --expect "$A_W25" --duration 3 --interval 0.02 \
	--at 0.3 "$T/ha" "$T/hb" -- kill -STOP "$RPID")
_rc=$?
kill -CONT "$RPID" 2>/dev/null
if [ $_rc -eq 0 ]; then
	ok "k: every answer unchanged while Redis is frozen ($(printf '%s\n' "$out" | grep '^h[ab] ' | tr '\n' ' '))"
else
	fail "k: every answer unchanged while Redis is frozen" "$(printf '%s' "$out" | tr '\n' ';')" ha hb
fi
check_eq "k: Redis answers again after SIGCONT" PONG "$(rcli PING)"

# --- e. Redis killed under load, restarted empty, then a publish --------------------
# k may already have logged a loss: a farm beat that fell in the freeze
# times out after 2 s.  e counts only its own.

lost_before=$(grep -c 'lost Redis' "$T/ha/err")
out=$(drv steady --query "$QW" --expect "$A_W25" --duration 2.5 --interval 0.02 \
	--at 0.5 "$T/ha" "$T/hb" -- kill -9 "$RPID")
_rc=$?
wait "$RPID" 2>/dev/null
RPID=""
if [ $_rc -eq 0 ]; then
	ok "e: every answer unchanged while Redis is killed ($(printf '%s\n' "$out" | grep '^h[ab] ' | tr '\n' ' '))"
else
	fail "e: every answer unchanged while Redis is killed" "$(printf '%s' "$out" | tr '\n' ';')" ha hb
fi
check_eq "e: the kill ran" 0 "$(watch_rc "$out")"
waitlog "e: ha logs the lost link" ha 'lost Redis' 2
start_redis || abort "redis-server did not restart on port $RPORT"
check_eq "e: Redis restarted empty" "" "$(rcli GET m365:current)"
out=$(drv steady --query "$QW" --expect "$A_W25" --duration 3 --interval 0.05 "$T/ha" "$T/hb")
if [ $? -eq 0 ]; then
	ok "e: answers unchanged for 3 s with Redis back but empty"
else
	fail "e: answers unchanged for 3 s with Redis back but empty" "$(printf '%s' "$out" | tr '\n' ';')" ha hb
fi
asks "e: hc keeps China b with Redis empty" hc "$QC1" "$A_CB1"
out=$(drv watch --query "$QW" --from "$A_W25" --timeout 8 \
	--cmd-out "$T/e.out" --cmd-err "$T/e.err" "$T/ha" "$T/hb" -- \
	"$CTL" import "$WW24" --redis "$REDIS" --version 2024041700)
check_eq "e: import after the restart exits 0 (stderr: $(head -c 200 "$T/e.err"))" 0 "$(watch_rc "$out")"
switched "e: ha follows the publish after the reconnect" "$out" ha "$A_W24" 8000
switched "e: hb follows the publish after the reconnect" "$out" hb "$A_W24" 8000
waitlog "e: ha logs reconnecting" ha 'following redis.*127\.0\.0\.1.*'"$RPORT" 1
check_eq "e: ha logged the loss once" 1 "$(($(grep -c 'lost Redis' "$T/ha/err") - lost_before))"

# --- f. --cache with Redis down ---------------------------------------------------------

kill_redis
start_helper hd 7 --redis "$REDIS" --redis-prefix cn: --cache "$T/cn-cache.json" --poll 30
start_helper he 8 --redis "$REDIS" --redis-prefix cn: --poll 30
asks "f: a new helper with Redis down answers from the cache (China b)" hd "$QC1" "$A_CB1"
asks "f: ... and $QC2 from China b too" hd "$QC2" "$A_CB2"
asks "f: without --cache it answers from the bundled list" he "$QC1" "$A_BUN1"
waitlog "f: hd logs the cache" hd 'loaded version 2025120101 from cache' 1
waitlog "f: hd logs Redis down" hd 'WARNING: .*keeping the list in use, retrying' 2

# Redis down long enough (> 6.2 s) for the reconnect backoff to reach its
# 5 s cap, then back (empty) and a publish: followed within 8 s.
sleep 6
start_redis || abort "redis-server did not restart on port $RPORT"
out=$(drv watch --query "$QW" --from "$A_W24" --timeout 8 \
	--cmd-out "$T/f.out" --cmd-err "$T/f.err" "$T/ha" "$T/hb" -- \
	"$CTL" import "$WW25" --redis "$REDIS" --version 2025120100)
check_eq "e: import after a long outage exits 0 (stderr: $(head -c 200 "$T/f.err"))" 0 "$(watch_rc "$out")"
switched "e: ha follows a publish after a 7 s outage (capped backoff)" "$out" ha "$A_W25" 8000
switched "e: hb follows a publish after a 7 s outage (capped backoff)" "$out" hb "$A_W25" 8000
out=$(drv watch --query "$QC1" --from "$A_CB1" --timeout 8 \
	--cmd-out "$T/f2.out" --cmd-err "$T/f2.err" "$T/hd" -- \
	"$CTL" import "$CNA" --redis "$REDIS" --redis-prefix cn: --version cn-a2)
check_eq "f: import China a exits 0 (stderr: $(head -c 200 "$T/f2.err"))" 0 "$(watch_rc "$out")"
switched "f: hd (started from the cache, Redis down) follows Redis once it is back" "$out" hd "$A_CA1" 8000

# --- l. m365ctl lookup --redis answers from what the helpers use -----------------

check_eq "l: lookup --redis answers like the helper following Redis" \
	"$(ask ha "$QW")" "$("$CTL" lookup --redis "$REDIS" $QW 2>/dev/null | head -n 1)"
check_match "l: lookup --redis names the Redis version it used" \
	'^list: +redis m365: version ' \
	"$("$CTL" lookup --redis "$REDIS" $QW 2>/dev/null | grep '^list:')"
"$CTL" lookup --redis "redis://127.0.0.1:$(free_port)" $QW >/dev/null 2>&1
check_eq "l: lookup --redis with Redis unreachable is a Redis error (exit 4)" 4 "$?"

# --- all helpers: no BH, no sanitizer report, still alive ------------------------------

for h in $HELPERS; do
	if grep -q ' BH' "$T/$h/out"; then
		fail "$h: never BH" "$(grep -m1 ' BH' "$T/$h/out")" $h
	else
		ok "$h: never BH"
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$T/$h/err"; then
		fail "$h: no sanitizer report" "$(grep -m1 -E 'Sanitizer|runtime error' "$T/$h/err")" $h
	else
		ok "$h: no sanitizer report"
	fi
	eval "_p=\$PID_$h"
	if kill -0 "$_p" 2>/dev/null; then ok "$h: still running"; else fail "$h: still running" "exited" $h; fi
done

echo "# switch times:"
sed 's/^/#   /' "$T/times"
finish
