#!/bin/sh
# test_pin.sh - m365ctl pin, unpin and rollback on a real Redis, with the
# local stand-in of Microsoft's service and a running helper: a rollback
# reaches the helper; a pinned version survives an update that finds a
# newer one, and unpin lets it through; import refuses while pinned
# (--force publishes and unpins); unknown versions, no older version, a
# held lock and usage are refused with their exit codes; a signed version
# is pinned only with --sign-key, and a verifying helper then follows it
# (published anew: not a replay).
. "$(dirname "$0")/../lib.sh"

HELPER=${M365_HELPER:-$BUILD/san/ext_m365_acl}
CTL=${M365_CTL:-$BUILD/m365ctl}
WW24=$FIXTURES/worldwide-2024-04-17.json
WW25=$FIXTURES/worldwide-2025-12-01.json
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

helper_setup redis-server redis-cli python3 openssl
. "$ROOT/tests/redis_lib.sh"
updater_setup

QW="teams.cloud.microsoft 443" # 2024: Default only, 2025: set 12
A24="ERR m365_category=Default"
A25="OK m365_category=Allow m365_service=Skype m365_set=12"

ask() { drv ask "$T/$1" "$2" --timeout 3; }
# answers NAME HELPER QUERY EXPECTED: waits up to 5 s for that answer
answers() {
	_i=0
	while [ $_i -lt 50 ]; do
		_got=$(ask "$2" "$3")
		[ "$_got" = "$4" ] && { ok "$1"; return; }
		sleep 0.1
		_i=$((_i + 1))
	done
	not_ok "$1" "expected [$4], got [$_got]"
}

stub 2024041700 "$WW24"
upd
check_eq "update publishes 2024041700 ($err)" 0 "$rc"
stub 2025120100 "$WW25"
upd
check_eq "update publishes 2025120100 ($err)" 0 "$rc"
fifo_start h 3 "$HELPER" --redis "$RURL" --poll 30
answers "the helper answers from 2025120100" h "$QW" "$A25"

# --- rollback ---------------------------------------------------------------
run "$CTL" rollback --redis "$RURL"
check_eq "rollback exits 0 ($err)" 0 "$rc"
check_match "rollback says what it pinned" '^pinned 2024041700: current' "$out"
check_eq "Redis: current is the previous version" 2024041700 "$(rcli GET m365:current)"
check_eq "Redis: it is pinned" 2024041700 "$(rcli GET m365:pinned)"
answers "the rollback reaches the running helper" h "$QW" "$A24"
check_match "published anew (its source says so)" '^rollback of ' "$(rcli HGET m365:v:2024041700 source)"
st=$("$CTL" status --redis "$RURL" --state-dir "$S" 2>&1)
check_match "status shows the pin" '^pinned: +2024041700 \(update keeps it until m365ctl unpin\)$' "$st"
check_eq "status --json: redis.pinned" 2024041700 "$("$CTL" status --redis "$RURL" \
	--state-dir "$S" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["redis"]["pinned"])')"

# --- update keeps the pin -----------------------------------------------------
stub 2025120200 "$WW25"
upd
check_eq "update while pinned exits 0" 0 "$rc"
check_match "... and says the pin kept Microsoft's newer version out" \
	'^pinned at 2024041700: version 2025120200 is not published \(m365ctl unpin lets it through\)$' "$out"
check_eq "... current stays" 2024041700 "$(rcli GET m365:current)"
upd --force
check_eq "update --force does not override a pin" 2024041700 "$(rcli GET m365:current)"
answers "... and the helper stays on it" h "$QW" "$A24"
run "$CTL" import "$WW25" --redis "$RURL" --version imported1
check_eq "import while pinned: refused (1)" 1 "$rc"
check_match "... saying so" 'version 2024041700 is pinned \(m365ctl unpin, or --force' "$err"

# --- pin, errors --------------------------------------------------------------
run "$CTL" pin 2025120100 --redis "$RURL"
check_eq "pin a kept version exits 0 ($err)" 0 "$rc"
answers "... and the helper follows it" h "$QW" "$A25"
run "$CTL" pin 1999123100 --redis "$RURL"
check_eq "pin a version not kept: refused (1)" 1 "$rc"
check_match "... naming the kept ones" 'not a kept version \(2025120100, 2024041700\)' "$err"
run "$CTL" pin --redis "$RURL"
check_eq "pin without a version: usage (2)" 2 "$rc"
run "$CTL" pin 2025120100
check_eq "pin without --redis: usage (2)" 2 "$rc"
rcli SET m365:lock someone-else:1 PX 60000 >/dev/null
run "$CTL" rollback --redis "$RURL"
check_eq "a held lock: 3" 3 "$rc"
rcli DEL m365:lock >/dev/null
run "$CTL" rollback --redis "$RURL"
check_eq "rollback from 2025120100 goes to 2024041700" 2024041700 "$(rcli GET m365:current)"
run "$CTL" rollback --redis "$RURL"
check_eq "no kept version before the oldest: refused (1)" 1 "$rc"
check_match "... saying so" 'no kept version before 2024041700' "$err"

# --- unpin ----------------------------------------------------------------------
run "$CTL" unpin --redis "$RURL"
check_eq "unpin exits 0" 0 "$rc"
check_eq "... the pin is gone" 0 "$(rcli EXISTS m365:pinned)"
upd
check_match "the next update publishes Microsoft's newest" '^published 2025120200 ' "$out"
answers "... and the helper follows" h "$QW" "$A25"
run "$CTL" unpin --redis "$RURL"
check_match "unpin with nothing pinned says so" '^nothing was pinned$' "$out"
run "$CTL" pin 2024041700 --redis "$RURL"
run "$CTL" import "$WW25" --redis "$RURL" --version imported2 --force
check_eq "import --force while pinned publishes ($err)" imported2 "$(rcli GET m365:current)"
check_eq "... and unpins" 0 "$(rcli EXISTS m365:pinned)"

# --- signed versions ------------------------------------------------------------
openssl genpkey -algorithm ed25519 -out "$T/sign.pem" 2>/dev/null
chmod 600 "$T/sign.pem"
openssl pkey -in "$T/sign.pem" -pubout -out "$T/verify.pem" 2>/dev/null
run "$CTL" import "$WW24" --redis "$RURL" --redis-prefix s: --version 2024041700 --sign-key "$T/sign.pem"
run "$CTL" import "$WW25" --redis "$RURL" --redis-prefix s: --version 2025120100 --sign-key "$T/sign.pem" --force
fifo_start v 4 "$HELPER" --redis "$RURL" --redis-prefix s: --verify-key "$T/verify.pem" --poll 30
answers "a verifying helper answers from the signed 2025120100" v "$QW" "$A25"
run "$CTL" rollback --redis "$RURL" --redis-prefix s:
check_eq "rollback of a signed version without --sign-key: usage (2)" 2 "$rc"
check_match "... saying why" 'is signed: it is published anew, so give --sign-key' "$err"
run "$CTL" rollback --redis "$RURL" --redis-prefix s: --sign-key "$T/sign.pem"
check_eq "rollback with --sign-key exits 0 ($err)" 0 "$rc"
answers "the verifying helper follows the rollback (not a replay)" v "$QW" "$A24"
check_eq "its log has no replay" "" "$(grep -i replay "$T/v/err")"

if grep -Eq 'Sanitizer|runtime error:' "$T/h/err" "$T/v/err"; then
	not_ok "no sanitizer report" "$(grep -h -m1 -E -A5 'Sanitizer|runtime error:' "$T/h/err" "$T/v/err")"
else
	ok "no sanitizer report"
fi
finish
