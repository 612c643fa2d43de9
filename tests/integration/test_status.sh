#!/bin/sh
# tests/integration/test_status.sh - m365ctl status as a health check, and
# the run record m365ctl update and import leave in the state directory.
#
# A real redis-server on a free loopback port, the stand-in of Microsoft's
# web service (msstub.py), real helpers (ext_m365_acl) counting into a
# private --metrics directory, and m365ctl (sanitizer build).  Covers:
#   a. usage errors (exit 2)
#   b. healthy after a publish (exit 0), text and --json; already current
#      sets PREFIX "checked" and records "current"
#   c. this host's processes: the list in use, Redis as they see it
#   d. a stale version (published and confirmed long ago; exit 1), saved by
#      a recent "checked", a recent run, or --max-age
#   e. the farm view: a host left on an older version is LAGGING (exit 1),
#      only once the current version is older than 60 s; bad records
#   f. Redis unreachable or corrupt (exit 1)
#   g. refused updates and imports, with their reason labels (exit 1);
#      a pending Retry-After; a corrupt run record
# The whole script takes about 20 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

CTL=${M365_CTL:-$BUILD/san/m365ctl}
HELPER=${M365_HELPER:-$BUILD/san/ext_m365_acl}
WW25=$FIXTURES/worldwide-2025-12-01.json
WW24=$FIXTURES/worldwide-2024-04-17.json
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
GUID=11111111-2222-4333-8444-555555555555
DAY=86400

helper_setup redis-server redis-cli python3
[ -x "$CTL" ] || make -s -C "$ROOT" build/san/m365ctl >/dev/null 2>&1
[ -x "$CTL" ] || abort "$CTL is missing"

# shellcheck source=tests/redis_lib.sh
. "$ROOT/tests/redis_lib.sh"
redis_init "$T"
start_redis || abort "redis-server did not start on port $RPORT"

stub 2025120100 "$WW25"
msstub_start

S=$T/state
mkdir -p "$S" "$T/empty" "$T/m"
printf '%s' "$GUID" >"$S/client-id"

# expect NAME RC REGEX [TEXT]: $rc is RC and TEXT (default $out) matches.
expect() {
	if [ "$rc" != "$2" ]; then
		not_ok "$1" "exit $rc, not $2 (stdout [$out], stderr [$err])"
	else
		check_match "$1" "$3" "${4-$out}"
	fi
}

# status ARGS...: m365ctl status on this Redis, without counters (unless
# ARGS say --metrics) and with the state directory $S (unless ARGS say).
status() {
	run "$CTL" status --redis "$RURL" --metrics "$T/none" --state-dir "$S" "$@"
}

update() {
	run "$CTL" update --base-url "$BASE" --redis "$RURL" --state-dir "$S" \
		--timeout 10 "$@"
}

# jq_ PYEXPR: evaluates PYEXPR over the JSON document $out as `d`.
jq_() {
	printf '%s' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>&1
}

now=$(date +%s)

# --- a. usage ---------------------------------------------------------------------

run "$CTL" status --max-age 0
expect "a: --max-age 0: exit 2" 2 'max-age' "$err"
run "$CTL" status --max-age 3651
expect "a: --max-age 3651: exit 2" 2 'max-age' "$err"
run "$CTL" status --max-age 1x
expect "a: --max-age 1x: exit 2" 2 'max-age' "$err"
run "$CTL" status --bogus
expect "a: an unknown option: exit 2" 2 'usage' "$err"
run "$CTL" status extra
expect "a: an argument: exit 2" 2 'usage' "$err"
run "$CTL" status --verify-key "$T/missing.pem" --redis "$RURL"
expect "a: a missing --verify-key: exit 2" 2 'missing.pem' "$err"
run "$CTL" status --verify-key "$T/missing.pem"
expect "a: --verify-key without --redis: exit 2" 2 'needs --redis' "$err"
run "$CTL" status --help
expect "a: --help: exit 0" 0 '^usage: m365ctl status'

# --- b. healthy -------------------------------------------------------------------

run "$CTL" status --metrics "$T/none" --state-dir "$T/empty"
expect "b: no options needed: nothing here, nothing wrong (exit 0)" 0 '^attention: +none$'
check_match "b: ... no counters is no attention" "^host: +[^ ]+: no counters in $T/none\$" "$out"
check_match "b: ... no run recorded" '^last update: +none recorded$' "$out"

update
expect "b: update publishes" 0 '^published 2025120100 '
check_match "b: the run record says published" '^result published$' "$(cat "$S/last-update")"
check_match "b: ... with the version" '^version 2025120100$' "$(cat "$S/last-update")"
check_match "b: ... and the time of its success" '^success_at [0-9]{10}$' "$(cat "$S/last-update")"
check_match "b: update sets PREFIX checked" '^[0-9]{10}$' "$(rcli GET m365:checked)"
status
expect "b: status after a publish: exit 0" 0 '^attention: +none$'
check_match "b: current" '^current: +2025120100$' "$out"
check_match "b: published" '^published: +20[0-9-]{8}T[0-9:]{8}Z by [^ ]+:[0-9]+$' "$out"
check_match "b: kept" '^kept: +2025120100$' "$out"
check_match "b: checked" '^checked: +20[0-9-]{8}T[0-9:]{8}Z \([0-9]+s ago\)$' "$out"
check_match "b: state dir" "^state dir: +$S: version 2025120100, [0-9]+ sets, instance=Worldwide&serviceAreas=&tenant=&noIPv6=false\$" "$out"
check_match "b: last update" '^last update: +20[0-9-]{8}T[0-9:]{8}Z published$' "$out"
check_match "b: last success" '^last success: +20[0-9-]{8}T[0-9:]{8}Z, version 2025120100$' "$out"
check_match "b: the farm (nothing follows Redis yet)" '^farm: +0 hosts, 0 processes$' "$out"

update
expect "b: update again: already current" 0 '^already current: version 2025120100$'
check_match "b: the run record says current" '^result current$' "$(cat "$S/last-update")"
status
expect "b: ... status: last update current" 0 '^last update: +20[0-9-]{8}T[0-9:]{8}Z current$'

status --json
if printf '%s' "$out" | python3 -m json.tool >/dev/null 2>&1; then
	ok "b: --json is JSON (python3 -m json.tool)"
else
	not_ok "b: --json is JSON (python3 -m json.tool)" "$out"
fi
check_eq "b: --json: exit 0" 0 "$rc"
check_eq "b: --json: the top-level keys" \
	"['now', 'max_age_days', 'healthy', 'host', 'redis', 'state_dir', 'last_update', 'attention']" \
	"$(jq_ 'list(d)')"
check_eq "b: --json: healthy, no attention" "True []" "$(jq_ 'd["healthy"], d["attention"]' | tr -d '(),')"
check_eq "b: --json: redis keys" \
	"['url', 'prefix', 'error', 'current', 'kept', 'pinned', 'checked_at', 'farm']" "$(jq_ 'list(d["redis"])')"
check_eq "b: --json: current" "2025120100 none" \
	"$(jq_ 'd["redis"]["current"]["version"] + " " + d["redis"]["current"]["signature"]')"
check_eq "b: --json: last_update" "current 2025120100" \
	"$(jq_ 'd["last_update"]["result"] + " " + d["last_update"]["version"]')"
check_eq "b: --json: host counters none" "none" "$(jq_ 'd["host"]["counters"]')"

# --- c. this host's processes -------------------------------------------------------

# start_helper NAME ARGS...: a helper counting into $T/m, its stdin the
# FIFO $T/NAME.in (the caller holds it open: exec 7>..., closes it to stop
# the helper); its pid in $HPID.
start_helper() {
	_name=$1
	shift
	mkfifo "$T/$_name.in"
	"$HELPER" --metrics "$T/m" "$@" <"$T/$_name.in" 2>"$T/$_name.err" &
	HPID=$!
	on_exit "kill $HPID 2>/dev/null"
}

# clear_farm: deletes the farm records (a helper's outlives it by up to
# M365_FARM_TTL_S).
clear_farm() {
	for _k in $(rcli --scan --pattern 'm365:proxy:*'); do
		rcli DEL "$_k" >/dev/null
	done
}

# wait_status REGEX ARGS...: status (with ARGS) until its output matches,
# at most 10 s.
wait_status() {
	_re=$1
	shift
	_i=0
	while [ $_i -lt 50 ]; do
		status "$@"
		printf '%s\n' "$out" | grep -Eq -- "$_re" && return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}

start_helper h1 --redis "$RURL" --poll 1
H1=$HPID
exec 7>"$T/h1.in"
wait_status '^in use: +2025120100 \(redis\)' --metrics "$T/m" ||
	not_ok "c: a helper following Redis shows in 10 s" "$out $(cat "$T/h1.err")"
expect "c: one helper on Redis's version: exit 0" 0 \
	'^in use: +2025120100 \(redis\), published 20[0-9-]{8}T[0-9:]{8}Z \([0-9]+s ago\): [0-9]+ sets, [0-9]+ names, [0-9]+ ranges; policy .*; squid 1$'
check_match "c: host line" "^host: +[^ ]+: 1 processes \\(squid 1\\), counters in $T/m\$" "$out"
check_match "c: it sees Redis up" '^redis seen: +up squid 1; down none; not used none$' "$out"
check_match "c: no list: none" '^no list: +none$' "$out"
check_match "c: counters" '^counters: +lookups ok [0-9]+, err [0-9]+; invalid [0-9]+; without list [0-9]+$' "$out"
wait_status '^  [^ ]+ +squid 1, icap 0; 2025120100$' --metrics "$T/m" ||
	not_ok "c: the helper's farm record shows in 10 s" "$out"
expect "c: the farm: this host, on the current version" 0 '^farm: +1 hosts, 1 processes$'
status --metrics "$T/m" --json
check_eq "c: --json: the list in use" "2025120100 redis 1" \
	"$(jq_ 'd["host"]["lists"][0]["version"] + " " + d["host"]["lists"][0]["source"] + " " + str(d["host"]["lists"][0]["processes"]["squid"])')"

DEAD=$(free_port)
start_helper h2 --redis "redis://127.0.0.1:$DEAD"
H2=$HPID
exec 8>"$T/h2.in"
wait_status '^redis seen: +up squid 1; down squid 1' --metrics "$T/m" ||
	not_ok "c: a helper that cannot reach Redis shows in 10 s" "$out $(cat "$T/h2.err")"
expect "c: a process that sees Redis down: exit 1" 1 \
	'^  - 1 processes here see Redis down \(squid 1\)$'
# (the bundled list is Microsoft's 2025120100 too, which Redis's "checked"
# confirms current: its age is no attention)
check_eq "c: ... the only attention" 1 "$(printf '%s\n' "$out" | grep -c '^  - ')"
exec 8>&-
wait "$H2" 2>/dev/null
wait_status '^attention: +none$' --metrics "$T/m" ||
	not_ok "c: once that helper has gone: healthy again" "$out"
check_eq "c: ... exit 0" 0 "$rc"
exec 7>&-
wait "$H1" 2>/dev/null
clear_farm

# --- d. a stale version ---------------------------------------------------------------

old=$((now - 20 * DAY))
rcli HSET m365:v:2025120100 published_at "$old" >/dev/null
rcli SET m365:checked "$old" >/dev/null
status --state-dir "$T/empty"
expect "d: published and checked 20 days ago: exit 1" 1 \
	"^  - Redis's current version 2025120100 is 20d 0h old \\(more than 14 days\\)\$"
check_match "d: ... age" '^age: +20d 0h \(at most 14 days\)$' "$out"
start_helper h3 --redis "$RURL"
H3=$HPID
exec 7>"$T/h3.in"
wait_status '^in use: +2025120100 \(redis\), published [^ ]+ \(20d 0h ago\)' --metrics "$T/m" --state-dir "$T/empty" ||
	not_ok "d: a helper on the stale version shows in 10 s" "$out $(cat "$T/h3.err")"
expect "d: ... a process's list published and confirmed 20 days ago: exit 1" 1 \
	'^  - list 2025120100 in use here \(squid 1\) is 20d 0h old \(more than 14 days\)$'
exec 7>&-
wait "$H3" 2>/dev/null
clear_farm
status --state-dir "$T/empty" --max-age 30
expect "d: ... with --max-age 30: exit 0" 0 '^attention: +none$'
status
expect "d: ... confirmed by the last run (success_at): exit 0" 0 '^attention: +none$'
rcli SET m365:checked "$now" >/dev/null
status --state-dir "$T/empty"
expect "d: ... confirmed current by PREFIX checked: exit 0" 0 '^attention: +none$'
rcli SET m365:checked garbage >/dev/null
status --state-dir "$T/empty"
expect "d: a checked that is no time is ignored: exit 1" 1 '^checked: +invalid$'
rcli SET m365:checked "$((now + 30 * DAY))" >/dev/null
status --state-dir "$T/empty"
expect "d: a checked in the future is ignored: exit 1" 1 '^checked: +invalid$'
rcli SET m365:checked "$now" >/dev/null

# --- e. the farm view ---------------------------------------------------------------

rcli SET m365:proxy:otherhost:squid:123 "1 2024041700 $old $now" EX 300 >/dev/null
rcli SET m365:proxy:otherhost:icap:124 "1 2025120100 $old $now" EX 300 >/dev/null
rcli SET m365:proxy:goodhost:icap:7 "1 2025120100 $old $now" EX 300 >/dev/null
rcli SET m365:proxy:badhost:squid:x "1 2025120100 $old $now" EX 300 >/dev/null
rcli SET m365:proxy:junk "nonsense" EX 300 >/dev/null
status
expect "e: a host on an older version: exit 1" 1 \
	'^  otherhost +squid 1, icap 1; 2025120100 2024041700  LAGGING$'
check_match "e: ... the attention" \
	'^  - host otherhost is LAGGING: runs 2024041700, not 2025120100 \(published 20[0-9-]{8}T[0-9:]{8}Z\)$' "$out"
check_match "e: a host on the current version is not" '^  goodhost +squid 0, icap 1; 2025120100$' "$out"
check_match "e: bad records are skipped and counted" '^farm: +2 hosts, 3 processes; 2 bad records skipped$' "$out"
status --json
check_eq "e: --json: the farm's hosts" "goodhost False otherhost True" \
	"$(jq_ '" ".join(h["host"] + " " + str(h["lagging"]) for h in d["redis"]["farm"]["hosts"])')"
rcli HSET m365:v:2025120100 published_at "$((now - 10))" >/dev/null
status
expect "e: within 60 s of the publication nobody lags: exit 0" 0 '^attention: +none$'
check_match "e: ... no LAGGING" '^  otherhost +squid 1, icap 1; 2025120100 2024041700$' "$out"
clear_farm
python3 - "$now" <<'PY' | rcli --pipe >/dev/null
import sys
for i in range(10050):
    args = ["SET", "m365:proxy:h%d:squid:1" % i,
            "1 2025120100 %s %s" % (sys.argv[1], sys.argv[1])]
    sys.stdout.write("*%d\r\n" % len(args) + "".join(
        "$%d\r\n%s\r\n" % (len(a), a) for a in args))
PY
status --json
check_eq "e: 10050 records: the farm view stops at 10000" "10000 True" \
	"$(jq_ 'str(d["redis"]["farm"]["processes"]) + " " + str(d["redis"]["farm"]["truncated"])')"
status
check_match "e: ... and says so" \
	'^farm: +10000 hosts, 10000 processes; incomplete \(at most 10000 records read\)$' "$out"
rcli EVAL "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end" 0 'm365:proxy:*' >/dev/null

# --- f. Redis unreachable or corrupt ----------------------------------------------------

run "$CTL" status --redis "redis://127.0.0.1:$DEAD" --metrics "$T/none" --state-dir "$S"
expect "f: Redis unreachable: exit 1" 1 '^  - Redis cannot be read: .*127\.0\.0\.1'
check_match "f: ... the redis error line" '^redis error: ' "$out"
rcli SET m365:current nosuchversion >/dev/null
status
expect "f: Redis's current names a missing version: exit 1" 1 '^  - Redis cannot be read: .*nosuchversion'
rcli SET m365:current 2025120100 >/dev/null
status --redis-prefix empty:
expect "f: nothing published under a prefix: exit 1" 1 '^  - Redis [^ ]+ holds no version under empty:$'

# --- g. refused runs ----------------------------------------------------------------

stub 2025120200 "$WW25" truncated
update
expect "g: update of a truncated list: refused (exit 1)" 1 'refused' "$err"
check_match "g: the run record keeps the last success" '^version 2025120100$' "$(cat "$S/last-update")"
status
expect "g: status after a refused update: exit 1" 1 \
	'^last update: +20[0-9-]{8}T[0-9:]{8}Z refused \(invalid\): refused: '
check_match "g: ... the attention, with the label" '^  - the last update \(20[0-9-]{8}T[0-9:]{8}Z\) was refused \(invalid\): ' "$out"
check_match "g: ... the last success stays" '^last success: +20[0-9-]{8}T[0-9:]{8}Z, version 2025120100$' "$out"
status --json
check_eq "g: --json: result and label" "refused invalid False" \
	"$(jq_ 'd["last_update"]["result"] + " " + d["last_update"]["refused_reason"] + " " + str(d["healthy"])')"

python3 "$ROOT/tests/integration/hostile_lists.py" "$T/hostile" "$WW25" >/dev/null 2>&1 ||
	abort "hostile_lists.py failed"
BROAD=$T/hostile/$(python3 -c "import json,sys; print(next(c['file'] for c in json.load(open(sys.argv[1])) if c['expect'] == 'refused' and 'import' in c['paths']))" "$T/hostile/cases.json")
run "$CTL" import "$BROAD" --redis "$RURL" --state-dir "$S"
expect "g: import of a too broad list: refused (exit 1)" 1 'refused' "$err"
status
expect "g: status: refused (breadth)" 1 '^last update: +20[0-9-]{8}T[0-9:]{8}Z refused \(breadth\): '

run "$CTL" import "$FIXTURES/usgovdod-2025-12-01.json" --redis "$RURL" --state-dir "$S" --max-growth 1
status
[ "$rc" = 1 ] && printf '%s\n' "$out" | grep -Eq '^last update: .* refused \((shrink|growth)\): ' &&
	ok "g: import refused by the growth or shrink gate: its label" ||
	not_ok "g: import refused by the growth or shrink gate: its label" "exit $rc: $out"

rm -f "$S/retry-after"
stub 2025120200 "$WW25" ok 429 '"retry_after": 120'
update
expect "g: update answered 429: refused (exit 1)" 1 '429' "$err"
status
expect "g: status: refused (retry_after)" 1 '^last update: +20[0-9-]{8}T[0-9:]{8}Z refused \(retry_after\): '
check_match "g: ... the pending Retry-After" '^retry after: +20[0-9-]{8}T[0-9:]{8}Z \(in (1m|2m)' "$out"
update
expect "g: the next update refuses before calling Microsoft" 1 'wait' "$err"
status --json
check_match "g: --json: retry_until" '^[0-9]{10} retry_after$' \
	"$(jq_ 'str(d["last_update"]["retry_until"]) + " " + d["last_update"]["refused_reason"]')"
rm -f "$S/retry-after"

stub 2025120100 "$WW25"
update
expect "g: a good run after refusals: already current" 0 '^already current'
status
expect "g: ... healthy again" 0 '^attention: +none$'

printf 'attempt_at 12x\n' >"$S/last-update"
status
expect "g: a corrupt run record: exit 1" 1 "^  - run record: $S/last-update: line 1: expected a Unix time\$"
update
expect "g: ... replaced by the next run" 0 '^already current'
status
expect "g: ... healthy again" 0 '^attention: +none$'

finish
