#!/bin/sh
# tests/integration/test_icap_redis.sh - srv_m365_bypass following Redis
# live, in every c-icap child.
#
# A real redis-server on a free loopback port (no persistence) and a private
# c-icap (tests/icap_lib.sh, 2 children, the sanitizer build of the module
# with the ASan runtime preloaded) configured from the shipped
# contrib/c-icap/m365_bypass.conf plus
#   m365_bypass.ListFile tests/fixtures/worldwide-2024-04-17.json
#   m365_bypass.Redis redis://127.0.0.1:PORT/0
#   m365_bypass.Cache DIR/m365-cache.json
# Versions are published with the real tool (m365ctl import).  Three
# destinations tell the fixtures apart (checked against m365ctl lookup):
#   A teams.cloud.microsoft:443    2021 -, 2024 -, 2025 bypass (set 12)
#   B broadcast.skype.com:443      2021 bypass (set 13), 2024 -, 2025 -
#   C outlook.cloud.microsoft:443  2021 -, 2024 bypass (set 1), 2025 bypass
# so every list in play has its own signature: the list file (2024), V1
# (2025), V2 (2021), V3 (2025 again), V4 (2021 again, under other names).
# Proves:
#   - before a publish, the list file answers;
#   - a publish reaches EVERY child within seconds (one "switched to version
#     V" server log line per child pid, timed from the start of the import),
#     and 40 fresh connections all get the new answer; "m365 list reloads"
#     sums the switches over the children;
#   - Redis killed: answers continue from the last good list, one "lost
#     Redis" line per child; Redis back empty: the list is kept; a publish
#     after the reconnect is followed;
#   - a version set without a PUBLISH is found by the 10 s poll;
#   - corrupt versions (wrong sha256, invalid JSON) are refused by every
#     child ("m365 refused reloads", "version X rejected"), answers unchanged;
#   - m365_bypass.Cache holds the last good version; a new c-icap started
#     with Redis down answers from it, not from the list file;
#   - no sanitizer report, no child crashed or replaced;
#   - children c-icap forks while Redis is down (a crash, MaxRequestsPerChild)
#     answer from the last good list in the Cache, not from the list c-icap
#     started with.
# Every wait is bounded; the whole script takes about 25 s (10 of them the
# poll).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/icap_lib.sh
. "$ROOT/tests/icap_lib.sh"

MODULE=${M365_ICAP_MODULE:-$BUILD/san/srv_m365_bypass.so}
CTL=${M365_CTL:-$BUILD/m365ctl}
WW21=$FIXTURES/worldwide-2021-10-11.json
WW24=$FIXTURES/worldwide-2024-04-17.json
WW25=$FIXTURES/worldwide-2025-12-01.json
V1=2025120100 # WW25
V2=2021101100 # WW21
V3=2025120101 # WW25 again
V4=2021101101 # WW21 again, set without PUBLISH
T=""
C1=""
C2=""

abort() {
	not_ok "setup" "$1"
	[ -n "$C1" ] && cicap_diagnostics "$C1"
	[ -n "$C2" ] && cicap_diagnostics "$C2"
	finish
}

for prog in redis-server redis-cli c-icap c-icap-config python3 sha256sum; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ -f "$MODULE" ] || abort "$MODULE is missing (make build/san/srv_m365_bypass.so)"
[ -x "$CTL" ] || abort "$CTL is missing (make build/m365ctl)"

T=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$T'"
C1=$T/c1
C2=$T/c2
mkdir "$C1" "$C2" || abort "mkdir"
CACHE=$T/m365-cache.json
: >"$T/times"

# --- tools ---------------------------------------------------------------------

# sig.py JSONFILE LABEL N: one word per distinct answer of m365_bypass in
# the icap_client --json output: LABEL+SET (204 ending the chain, i.e. a
# bypass, of endpoint set SET), LABEL- (plain 204: inspect), LABEL!STATUS
# (anything else), LABEL?K (only K of N responses); several joined by "|".
cat >"$T/sig.py" <<'EOF'
import json, sys
label, n = sys.argv[2], int(sys.argv[3])
seen = []
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for r in rs:
    h = dict((k.lower(), v) for k, v in r["headers"])
    if r["status"] != 204:
        w = "%s!%d" % (label, r["status"])
    elif "x-next-services" in h and h["x-next-services"].strip() == "":
        w = "%s+%s" % (label, h.get("x-m365-set", "?"))
    else:
        w = "%s-" % label
    if w not in seen:
        seen.append(w)
if len(rs) != n:
    seen.append("%s?%d" % (label, len(rs)))
print("|".join(seen))
EOF

# waitlog.py LOG OFFSET REGEX SECONDS T0FILE READYFILE PID...: watches the
# server log, from byte OFFSET on, for a line "..., PID/THREAD, <REGEX>" from
# every PID, for up to SECONDS; creates READYFILE once it watches.  Prints
# "PID MS" per PID: when the line appeared, in milliseconds after the time
# in T0FILE (written by the script when it acts), or "PID -" when none
# came.  Exit 0 when every PID had one.
cat >"$T/waitlog.py" <<'EOF'
import re, sys, time
log, offset, rx = sys.argv[1], int(sys.argv[2]), sys.argv[3]
limit, t0file, ready = float(sys.argv[4]), sys.argv[5], sys.argv[6]
pids = sys.argv[7:]
pat = re.compile(r"^[^,]*, (\d+)/\d+, (?:%s)" % rx)
found = {}
end = time.time() + limit
first = True
while True:
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    now = time.time()
    for line in lines:
        m = pat.match(line)
        if m and m.group(1) in pids and m.group(1) not in found:
            found[m.group(1)] = now
    if first:
        open(ready, "w").close()
        first = False
    if len(found) == len(pids) or now > end:
        break
    time.sleep(0.005)
try:
    t0 = float(open(t0file).read())
except (OSError, ValueError):
    t0 = end - limit
for p in pids:
    print(p, int((found[p] - t0) * 1000) if p in found else "-")
sys.exit(0 if len(found) == len(pids) else 1)
EOF

# ask PORT REQUEST_LINE LABEL N: N REQMODs over fresh connections, as sig.py.
ask() {
	icap_client --port "$1" --service m365_bypass --request-line "$2" \
		--repeat "$4" --new-connection --json >"$T/ask.json" 2>"$T/ask.err"
	python3 "$T/sig.py" "$T/ask.json" "$3" "$4"
}
QA="CONNECT teams.cloud.microsoft:443 HTTP/1.1"
QB="CONNECT broadcast.skype.com:443 HTTP/1.1"
QC="CONNECT outlook.cloud.microsoft:443 HTTP/1.1"

# sigof PORT N: the answers to A (N requests), B and C (N/4 each).
sigof() {
	_q=$(($2 / 4))
	[ "$_q" -ge 1 ] || _q=1
	echo "$(ask "$1" "$QA" A "$2") $(ask "$1" "$QB" B "$_q") $(ask "$1" "$QC" C "$_q")"
}

# ref FILE: the signature m365ctl lookup gives for FILE (the reference).
ref() {
	for _q in "A teams.cloud.microsoft" "B broadcast.skype.com" "C outlook.cloud.microsoft"; do
		# shellcheck disable=SC2086 # LABEL HOST
		set -- $_q
		_a=$("$CTL" lookup --list "$FILE_REF" "$2" 443 2>/dev/null | head -n 1)
		case $_a in
		OK*) printf '%s+%s ' "$1" "$(printf '%s\n' "$_a" | sed -n 's/.*m365_set=\([0-9]*\).*/\1/p')" ;;
		*) printf '%s- ' "$1" ;;
		esac
	done | sed 's/ $//'
}
FILE_REF=$WW21 S21=$(ref)
FILE_REF=$WW24 S24=$(ref)
FILE_REF=$WW25 S25=$(ref)
check_eq "fixtures: A, B, C tell 2021-10-11 / 2024-04-17 / 2025-12-01 apart (m365ctl lookup)" \
	"A- B+13 C- / A- B- C+1 / A+12 B- C+1" "$S21 / $S24 / $S25"

# kids DIR: the children's pids, sorted, one line.
kids() { cicap_children "$1" | sort -n | tr '\n' ' ' | sed 's/ $//'; }

# stat_is NAME PORT LABEL VALUE: c-icap's info shows "LABEL : VALUE"
# (polled up to 3 s: a child counts an event just after logging it).
stat_is() {
	_i=0
	while :; do
		_v=$(cicap_info "$2" | sed -n "s/^$3 : //p")
		[ "$_v" = "$4" ] && break
		[ $_i -ge 30 ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	check_eq "$1" "$4" "$_v"
}

# watch ID LOG REGEX SECONDS [OFFSET]: starts watcher ID on LOG, from byte
# OFFSET (default: its end now), for a line matching REGEX from each child
# in KIDS; returns once the watcher runs.
watch() {
	_off=${5:-$(wc -c <"$2" 2>/dev/null || echo 0)}
	rm -f "$T/$1.ready" "$T/$1.out"
	# shellcheck disable=SC2086 # KIDS: pids, one a word
	python3 "$T/waitlog.py" "$2" "$_off" "$3" "$4" "$T/t0" "$T/$1.ready" $KIDS \
		>"$T/$1.out" 2>&1 &
	eval "WATCH_$1=\$!"
	_i=0
	while [ ! -e "$T/$1.ready" ] && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}

# go: the script acts now; the watchers' times count from here.
go() { date +%s.%N >"$T/t0"; }

# ms_since: milliseconds since the last go.
ms_since() { echo "$(date +%s.%N) $(cat "$T/t0")" | awk '{ printf "%d\n", ($1 - $2) * 1000 }'; }

# logged ID NAME [WHAT]: waits for watcher ID (bounded by its SECONDS); one
# PASS/FAIL line; records WHAT's per-child times for the report.
logged() {
	_wp=$(eval "echo \$WATCH_$1")
	wait "$_wp"
	_rc=$?
	_out=$(cat "$T/$1.out")
	_ms=$(printf '%s\n' "$_out" | awk '{ print $2 }' | sort -n | tail -n 1)
	if [ $_rc -eq 0 ]; then
		ok "$2 ($(printf '%s' "$_out" | tr '\n' ',' | sed 's/,/ ms, /g') ms)"
		[ -z "$3" ] || echo "$3: every child within $_ms ms ($(printf '%s' "$_out" | tr '\n' ';' | sed 's/;$//'))" >>"$T/times"
	else
		not_ok "$2" "not every child in time: $(printf '%s' "$_out" | tr '\n' ';')"
		[ -n "$C1" ] && cicap_diagnostics "$C1"
	fi
}

# --- Redis ---------------------------------------------------------------------

# shellcheck source=tests/redis_lib.sh
. "$ROOT/tests/redis_lib.sh"
redis_init "$T"
start_redis || abort "redis-server did not start on port $RPORT: $(tail -n 5 "$T/redis.log")"

# publish NAME FILE VERSION: m365ctl import into Redis, checked.
publish() {
	timeout 20 "$CTL" import "$2" --redis "$RURL" --version "$3" >"$T/import.out" 2>&1
	_rc=$?
	check_eq "$1" "0 published $3" "$_rc $(cut -d' ' -f1,2 "$T/import.out" | head -n 1)"
	[ $_rc -eq 0 ] || cat "$T/import.out" >&2
}

# --- c-icap 1: two children following Redis ---------------------------------------

# start_cicap DIR: c-icap on a free port with the module following Redis.
start_cicap() {
	cicap_m365_conf "$1/m365.conf" "$MODULE" || return 1
	cat >>"$1/m365.conf" <<EOF
m365_bypass.ListFile $WW24
m365_bypass.Redis $RURL/0
m365_bypass.Cache $CACHE
EOF
	# shellcheck disable=SC2046 # the environment assignments, one a word
	CICAP_CHILDREN=2 cicap_launch "$1" "$1/m365.conf" \
		env $(cicap_asan_env "$1") 2>"$1/start.err"
	_rc=$?
	CPORT=$CICAP_PORT
	return $_rc
}
start_cicap "$C1" || abort "c-icap did not start: $(head -n 3 "$C1/start.err")"
P1=$CPORT
KIDS=$(kids "$C1")
LOG1=$C1/server.log
check_eq "c-icap starts 2 children" 2 "$(echo "$KIDS" | wc -w)"
go
watch start "$LOG1" 'm365_bypass: WARNING: Redis has no version yet' 10 0
logged start "each child follows Redis and finds it empty"
check_match "the main process loaded the list file" \
	"main proc, m365_bypass: loaded .*worldwide-2024-04-17\\.json" "$(cat "$LOG1")"
check_eq "before any publish: answers from the list file (2024-04-17), 40 fresh connections" \
	"$S24" "$(sigof "$P1" 40)"

# --- V1: a publish reaches every child ----------------------------------------------

watch v1 "$LOG1" "m365_bypass: INFO: switched to version $V1 \\(" 10
go
publish "m365ctl import $V1 (2025-12-01): published" "$WW25" "$V1"
echo "m365ctl import $V1 ran for $(ms_since) ms" >>"$T/times"
logged v1 "V1: every child logs 'switched to version $V1' within 10 s of the import's start" \
	"import $V1 (start) -> switched in every child"
check_eq "V1: 40 fresh connections (and B, C) all get the 2025-12-01 answer" "$S25" "$(sigof "$P1" 40)"
stat_is "V1: info 'm365 list reloads' = 2 (one per child)" "$P1" "m365 list reloads" 2

# --- V2: a second publish --------------------------------------------------------------

watch v2 "$LOG1" "m365_bypass: INFO: switched to version $V2 \\(" 10
go
publish "m365ctl import $V2 (2021-10-11): published" "$WW21" "$V2"
logged v2 "V2: every child logs 'switched to version $V2' within 10 s" \
	"import $V2 (start) -> switched in every child"
check_eq "V2: 40 fresh connections (and B, C) all get the 2021-10-11 answer" "$S21" "$(sigof "$P1" 40)"
stat_is "V2: info 'm365 list reloads' = 4" "$P1" "m365 list reloads" 4

# --- Redis killed under load -------------------------------------------------------------

icap_client --port "$P1" --service m365_bypass --request-line "$QB" --repeat 150 \
	--new-connection --json >"$T/load.json" 2>"$T/load.err" &
load_pid=$!
sleep 0.3
watch lost "$LOG1" 'm365_bypass: WARNING: lost Redis' 5
go
kill_redis
wait $load_pid
rc=$?
check_eq "Redis killed under load: 150 answers over fresh connections, all from V2, no error" \
	"0 B+13" "$rc $(python3 "$T/sig.py" "$T/load.json" B 150)"
logged lost "Redis killed: every child logs 'WARNING: lost Redis' within 5 s" \
	"Redis SIGKILL -> 'lost Redis' in every child"
check_eq "Redis down: answers still from V2 (40 fresh connections)" "$S21" "$(sigof "$P1" 40)"
lost=""
for p in $KIDS; do
	lost="$lost $(grep -c "^[^,]*, $p/[0-9]*, m365_bypass: WARNING: lost Redis" "$LOG1")"
done
check_eq "Redis down: 'lost Redis' logged once per child, not per retry" " 1 1" "$lost"

# --- Redis back, empty -------------------------------------------------------------------

down_ms=$(ms_since)
watch back "$LOG1" 'm365_bypass: INFO: following redis://127\.0\.0\.1:[0-9]+/0 ' 8
watch empty "$LOG1" 'm365_bypass: WARNING: Redis has no version yet' 8
go
start_redis || abort "redis-server did not restart on port $RPORT"
check_eq "Redis restarted empty" "" "$(rcli GET m365:current)"
# The followers retry with a backoff of 200 ms doubling up to 5 s: after
# about a second down, the next try comes within the current step.
logged back "Redis back (was down $down_ms ms): every child reconnects ('following') within 8 s" \
	"Redis restart (down $down_ms ms) -> reconnected in every child"
logged empty "Redis back empty: every child finds it empty ('no version yet')"
check_eq "Redis back empty: answers still from V2, the list is kept" "$S21" "$(sigof "$P1" 40)"

# --- V3 after the restart ---------------------------------------------------------------

watch v3 "$LOG1" "m365_bypass: INFO: switched to version $V3 \\(" 10
go
publish "m365ctl import $V3 (2025-12-01) after the restart: published" "$WW25" "$V3"
logged v3 "V3: every child logs 'switched to version $V3' within 10 s" \
	"import $V3 (start, after the Redis restart) -> switched in every child"
check_eq "V3: 40 fresh connections (and B, C) all get the 2025-12-01 answer" "$S25" "$(sigof "$P1" 40)"
stat_is "V3: info 'm365 list reloads' = 6" "$P1" "m365 list reloads" 6

# --- V4: a version set without PUBLISH (a missed message): the 10 s poll ----

# Stored the way m365ctl stores one, but no message on m365:updates: only
# the follower's poll of m365:current (every 10 s in c-icap) can find it.
sum21=$(sha256sum "$WW21" | cut -d' ' -f1)
rcli -x HSET "m365:v:$V4" sha256 "$sum21" version "$V4" json <"$WW21" >/dev/null
watch v4 "$LOG1" "m365_bypass: INFO: switched to version $V4 \\(" 13
go
rcli SET m365:current "$V4" >/dev/null
logged v4 "V4 (SET m365:current, no PUBLISH): every child finds it by polling within 13 s" \
	"SET current without PUBLISH -> switched in every child (poll)"
check_eq "V4: 40 fresh connections (and B, C) all get the 2021-10-11 answer" "$S21" "$(sigof "$P1" 40)"
stat_is "V4: info 'm365 list reloads' = 8" "$P1" "m365 list reloads" 8

# --- corrupt versions ------------------------------------------------------------------------

# A 2024 document under the 2025 document's checksum: accepting it would
# change B and C.
rcli -x HSET m365:v:bad-sha sha256 "$(sha256sum "$WW25" | cut -d' ' -f1)" \
	version bad-sha json <"$WW24" >/dev/null
rcli SET m365:current bad-sha >/dev/null
watch badsha "$LOG1" 'm365_bypass: ERROR: version bad-sha rejected: .*checksum mismatch' 10
go
rcli PUBLISH m365:updates bad-sha >/dev/null
logged badsha "wrong sha256: every child logs 'ERROR: version bad-sha rejected' (checksum mismatch)"
stat_is "wrong sha256: info 'm365 refused reloads' = 2" "$P1" "m365 refused reloads" 2
check_eq "wrong sha256: answers stay on V4" "$S21" "$(sigof "$P1" 40)"

# A right checksum over a document that does not validate.
printf '[{"id": 1}]' | rcli -x HSET m365:v:bad-json \
	sha256 "$(printf '[{"id": 1}]' | sha256sum | cut -d' ' -f1)" version bad-json json >/dev/null
rcli SET m365:current bad-json >/dev/null
watch badjson "$LOG1" 'm365_bypass: ERROR: version bad-json rejected' 10
go
rcli PUBLISH m365:updates bad-json >/dev/null
logged badjson "invalid JSON, right sha256: every child logs 'ERROR: version bad-json rejected'"
stat_is "invalid JSON: info 'm365 refused reloads' = 4" "$P1" "m365 refused reloads" 4
stat_is "after the refusals: 'm365 list reloads' still 8" "$P1" "m365 list reloads" 8
check_eq "invalid JSON: answers stay on V4" "$S21" "$(sigof "$P1" 40)"

# --- c-icap 1's health --------------------------------------------------------------------

check_eq "c-icap 1: the same 2 children from start to end (none crashed or replaced)" \
	"$KIDS" "$(kids "$C1")"
check_match "c-icap 1: info says 0 crashed processes" '^Crashed Processes: 0$' "$(cicap_info "$P1")"
check_eq "c-icap 1: no child-death message in the server log" "" \
	"$(grep -Ei 'crash|died|signal|not exit normally' "$LOG1")"

# --- m365_bypass.Cache ------------------------------------------------------------------------

if cmp -s "$WW21" "$CACHE"; then
	ok "Cache: the file holds the last good version's JSON (V4, 2021-10-11)"
else
	not_ok "Cache: the file holds the last good version's JSON (V4, 2021-10-11)" "differs or missing"
fi
check_eq "Cache: FILE.version holds $V4" "$V4" "$(cat "$CACHE.version" 2>&1)"

# --- a child forked while Redis is down ---------------------------------------------------
# c-icap replaces a child that dies (and forks more under load, or after
# MaxRequestsPerChild): the new child inherits the main process's list,
# the one loaded at startup (here the list file), and cannot reach Redis.
# Its siblings answer from V4; the last good list is also in the Cache.
kill_redis
# shellcheck disable=SC2086 # pids, one a word
kill -KILL $KIDS
# new_kids: how many children c-icap 1 has that are not in KIDS.
new_kids() {
	_n=0
	for _p in $(kids "$C1"); do
		case " $KIDS " in
		*" $_p "*) ;;
		*) _n=$((_n + 1)) ;;
		esac
	done
	echo $_n
}
_i=0
while [ "$(new_kids)" -lt 2 ] && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check_eq "both children killed with Redis down: c-icap forks 2 new ones" "2 2" \
	"$(new_kids) $(kids "$C1" | wc -w)"
check_eq "children forked while Redis is down answer from the last good list (V4, in the Cache), not the startup list file" \
	"$S21" "$(sigof "$P1" 40)"

cicap_stop "$C1"
check_eq "c-icap 1 stops cleanly on SIGTERM with its Redis threads running" 0 "$?"

# --- a new c-icap, Redis down, the same Cache ---------------------------------------------

start_cicap "$C2" || abort "c-icap 2 did not start: $(head -n 3 "$C2/start.err")"
P2=$CPORT
check_eq "c-icap 2, Redis down: answers from the cache (V4, 2021-10-11), not the list file" \
	"$S21" "$(sigof "$P2" 40)"
check_match "c-icap 2: the main process logs the cached version" \
	"main proc, m365_bypass: INFO: loaded version $V4 from cache " "$(cat "$C2/server.log")"
KIDS=$(kids "$C2")
go
watch down2 "$C2/server.log" 'm365_bypass: WARNING: .*keeping the list in use, retrying' 5 0
logged down2 "c-icap 2: every child says Redis is down and it keeps the list"
cicap_stop "$C2"
check_eq "c-icap 2 stops cleanly on SIGTERM with Redis down" 0 "$?"

# --- sanitizers -----------------------------------------------------------------------------

check_eq "no sanitizer report from c-icap 1" "" "$(cicap_asan_reports "$C1")"
check_eq "no sanitizer report from c-icap 2" "" "$(cicap_asan_reports "$C2")"

echo "# times:"
sed 's/^/#   /' "$T/times"
finish
