#!/bin/sh
# tests/integration/test_local_reload.sh - the local list of a running helper
# (issue 9): read once, again when its file changes or on SIGHUP, never on a
# switch of Microsoft's version; a reload that breaks or grows past
# --local-max-bytes keeps the last good list and says so; only at start
# does a broken local list leave the helper with no list (fail closed, and
# it loads once the file is fixed); lists of any size up to the limit.
#
# Helpers are the sanitizer build (any sanitizer report is a failure),
# fed through FIFOs (tests/integration/helper_driver.py); a real
# redis-server for the switches.
. "$(dirname "$0")/../lib.sh"

HELPER=${M365_HELPER:-$BUILD/san/ext_m365_acl}
CTL=${M365_CTL:-$BUILD/m365ctl}
WW24=$FIXTURES/worldwide-2024-04-17.json
WW25=$FIXTURES/worldwide-2025-12-01.json
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

helper_setup redis-server redis-cli python3
HELPERS=""
LOCAL='OK m365_category=Local m365_service=Local'
NEVER='ERR message="local never rule"'
NOLIST='ERR message="no list loaded"'
T12='OK m365_category=Allow m365_service=Skype m365_set=12'


# start_helper NAME FD ARGS...: a helper reading the FIFO NAME/in (kept open
# on FD so that it never sees EOF).
start_helper() {
	_n=$1
	_fd=$2
	shift 2
	fifo_start "$_n" "$_fd" "$HELPER" "$@"
}

ask() { drv ask "$T/$1" "$2" --timeout 5; }

# asks NAME HELPER QUERY EXPECTED
asks() {
	_got=$(ask "$2" "$3")
	if [ "$_got" = "$4" ]; then
		ok "$1"
	else
		not_ok "$1" "$3: expected [$4], got [$_got]; stderr: $(tail -n 3 "$T/$2/err" | tr '\n' '|')"
	fi
}

# becomes NAME HELPER QUERY EXPECTED SECONDS: the answer turns EXPECTED in
# time (the helper looks at its local list's file every second).
becomes() {
	_i=0
	_got=""
	while [ $_i -lt $(($5 * 10)) ]; do
		_got=$(ask "$2" "$3")
		[ "$_got" = "$4" ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	if [ "$_got" = "$4" ]; then
		ok "$1"
	else
		not_ok "$1" "$3: expected [$4] within $5 s, got [$_got]; stderr: $(tail -n 3 "$T/$2/err" | tr '\n' '|')"
	fi
}

# logs NAME HELPER REGEX SECONDS
logs() {
	if drv wait-log "$T/$2/err" "$3" --timeout "$4" >/dev/null; then
		ok "$1"
	else
		not_ok "$1" "no line /$3/ in $T/$2/err: $(tail -n 3 "$T/$2/err" | tr '\n' '|')"
	fi
}

# count HELPER REGEX: lines of the helper's stderr that match
count() { grep -Ec "$2" "$T/$1/err"; }

# write FILE TEXT: replaces a local list the way an editor or a deploy
# does (a new file renamed over the old one)
write() {
	printf '%s\n' "$2" >"$1.new" && mv "$1.new" "$1"
}

# --- a. a change to the file is followed, a broken one is not --------------
L=$T/a.list
write "$L" 'bypass *.zoom.us'
start_helper a 3 --local "$L" --metrics off
asks "a: the local list at start" a "x.zoom.us 443" "$LOCAL"
asks "a: a name it does not list" a "x.example.net 443" "ERR"
write "$L" 'bypass *.example.net
never *.zoom.us'
becomes "a: a changed file is read again (new bypass)" a "x.example.net 443" "$LOCAL" 5
asks "a: ... and its never rule" a "x.zoom.us 443" "$NEVER"
logs "a: the reload is logged with its size" a 'loaded local list .*a\.list: 2 rules' 3
write "$L" 'bypass *.com'
logs "a: a broader list is refused, naming file and line" a \
	'a\.list:1: bypass \*\.com: .*keeping the local list in use' 5
asks "a: ... and the last good one stays" a "x.example.net 443" "$LOCAL"
asks "a: ... never rule included" a "x.zoom.us 443" "$NEVER"
write "$L" 'bypass 203.0.113.0/24
frobnicate foo'
logs "a: a line that does not parse is refused with its line" a \
	'a\.list:2: unknown verb "frobnicate"' 5
asks "a: ... the last good one stays" a "x.example.net 443" "$LOCAL"
write "$L" 'bypass 203.0.113.0/24'
becomes "a: once fixed, the file is read again" a "203.0.113.7 443" "$LOCAL" 5
asks "a: ... and the old rules are gone" a "x.example.net 443" "ERR"
asks "a: Microsoft's sets answer as before" a "teams.microsoft.com 443" "$T12"

# --- b. SIGHUP reads the file again now -----------------------------------
before=$(count a 'loaded local list')
kill -HUP "$PID_a"
sleep 0.5
check_eq "b: SIGHUP reads the local list again" "$((before + 1))" "$(count a 'loaded local list')"
asks "b: ... and the helper answers on" a "203.0.113.7 443" "$LOCAL"

# --- c. the limit: --local-max-bytes ---------------------------------------
L=$T/c.list
write "$L" 'bypass *.zoom.us'
start_helper c 4 --local "$L" --local-max-bytes 4096 --metrics off
asks "c: a list within the limit loads" c "x.zoom.us 443" "$LOCAL"
python3 -c 'import sys
with open(sys.argv[1] + ".new", "w") as f:
    for i in range(400):
        f.write("bypass host%d.example.org\n" % i)' "$L" && mv "$L.new" "$L"
logs "c: a list grown past the limit is refused, naming the option" c \
	'larger than --local-max-bytes \(4096\).*keeping the local list in use' 5
asks "c: ... and the last good one stays" c "x.zoom.us 443" "$LOCAL"
asks "c: ... its rules only" c "host7.example.org 443" "ERR"
out=$("$HELPER" --local "$L" --local-max-bytes 100 --metrics off </dev/null 2>&1)
check_match "c: --local-max-bytes below 4096 is a usage error" \
	'--local-max-bytes: expected 4096' "$out"

# --- d. broken at start: no list (fail closed) until it is fixed -----------
L=$T/d.list
write "$L" 'bypass *.co.uk'
start_helper d 5 --local "$L" --metrics off
logs "d: a broken local list at start is logged" d 'd\.list:1: .*answering ERR until a list loads' 5
asks "d: ... and nothing is a bypass, Microsoft 365 included" d "teams.microsoft.com 443" "$NOLIST"
write "$L" 'never teams.microsoft.com'
becomes "d: fixed, the list loads with the local list" d "outlook.office365.com 443" \
	'OK m365_category=Optimize m365_service=Exchange m365_set=1' 5
asks "d: ... never rule in force" d "teams.microsoft.com 443" "$NEVER"

# --- e. a switch of Microsoft's version does not read the local list -------
. "$ROOT/tests/redis_lib.sh"
redis_init "$T"
start_redis || abort "redis-server did not start: $(tail -n 5 "$T/redis.log")"
publish() {
	"$CTL" import "$1" --redis "$RURL" --version "$2" >"$T/import.out" 2>&1 ||
		not_ok "import $2" "$(cat "$T/import.out")"
}
L=$T/e.list
write "$L" 'bypass *.zoom.us
never teams.cloud.microsoft'
publish "$WW24" 2024041700
start_helper e 6 --redis "$RURL" --local "$L" --poll 1 --metrics off
logs "e: follows Redis" e 'switched to version 2024041700' 10
asks "e: local rules on the first version" e "x.zoom.us 443" "$LOCAL"
reads=$(count e 'loaded local list|local rules: ')
publish "$WW25" 2025120100
logs "e: switches to a new version" e 'switched to version 2025120100' 10
asks "e: the new version keeps the local never rule (it lists this name)" e \
	"teams.cloud.microsoft 443" "$NEVER"
asks "e: ... and the bypass rule" e "x.zoom.us 443" "$LOCAL"
check_eq "e: the switch did not read the local list again" "$reads" \
	"$(count e 'loaded local list|local rules: ')"
write "$L" 'bypass *.zoom.us'
becomes "e: a local change applies to the version in use" e \
	"teams.cloud.microsoft 443" "$T12" 5
logs "e: ... which stays the version in use" e 'loaded local list' 3
asks "e: ... still 2025120100's answers" e "x.zoom.us 443" "$LOCAL"

# --- f. a local list of any size up to the limit ----------------------------
L=$T/f.list
python3 -c 'import sys
with open(sys.argv[1], "w") as f:
    for i in range(450000):
        f.write("bypass host%d.vendor%d.example.org\n" % (i, i % 5000))
    f.write("never host17.vendor17.example.org\n")' "$L"
size=$(wc -c <"$L")
if [ "$size" -gt 16777216 ]; then ok "f: the list is over 16 MiB ($size bytes)"; else not_ok "f: list size" "$size"; fi
start_helper f 7 --local "$L" --metrics off
logs "f: a list over 16 MiB loads" f 'local rules: 450001' 60
asks "f: its first rule" f "host0.vendor0.example.org 443" "$LOCAL"
asks "f: its last bypass rule" f "host449999.vendor4999.example.org 443" "$LOCAL"
asks "f: its never rule" f "host17.vendor17.example.org 443" "$NEVER"
asks "f: a neighbour it does not list" f "host1.vendor2.example.org 443" "ERR"
asks "f: Microsoft's sets as before" f "teams.microsoft.com 443" "$T12"
out=$("$CTL" lookup --local "$L" --local-max-bytes 1048576 x.example.org 443 2>&1)
check_match "f: m365ctl lookup refuses it under a smaller limit, naming the option" \
	'larger than --local-max-bytes \(1048576\)' "$out"

# --- no sanitizer report anywhere -------------------------------------------
for h in $HELPERS; do
	if grep -Eq 'Sanitizer|runtime error:' "$T/$h/err"; then
		not_ok "$h: no sanitizer report" "$(grep -E -A 8 'Sanitizer|runtime error:' "$T/$h/err" | head -n 12)"
	else
		ok "$h: no sanitizer report"
	fi
done
finish
