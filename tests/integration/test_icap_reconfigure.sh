#!/bin/sh
# test_icap_reconfigure.sh - srv_m365_bypass across c-icap's reconfigure
# (the "reconfigure" command on c-icap's commands socket): a new value takes
# effect without a restart; a bad value leaves c-icap running, the service
# answering 500 (Squid's bypass=on then goes on with the chain) and the
# directive named in the server log; fixing it brings the service back.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/icap_lib.sh"

MOD=$ROOT/build/srv_m365_bypass.so
[ -f "$MOD" ] || make -s -C "$ROOT" build/srv_m365_bypass.so >/dev/null 2>&1
dir=$(mktemp -d)
on_exit "rm -rf '$dir'"
port=$(free_port)
CICAP_CHILDREN=1 CICAP_THREADS=4

# conf CATEGORIES: the c-icap config with m365_bypass.Categories CATEGORIES.
conf() {
	cicap_m365_conf "$dir/m365.conf" "$MOD" || return 1
	printf 'm365_bypass.Categories %s\n' "$1" >>"$dir/m365.conf"
	cicap_conf "$dir" "$port" "$dir/m365.conf"
}

# status SERVICE URL: the ICAP status line's code for a REQMOD of URL.
status() {
	icap_client --port "$port" --service "$1" \
		--request-line "GET $2 HTTP/1.1" --json |
		python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["status"])'
}

# category URL: the X-M365-Category of m365_bypass's answer, or "-".
category() {
	icap_client --port "$port" --service m365_bypass \
		--request-line "GET $1 HTTP/1.1" --json |
		python3 -c 'import json,sys
r = json.loads(sys.stdin.readline())
print(dict((k.lower(), v) for k, v in r["headers"]).get("x-m365-category", "-"))'
}

# reconfigure WHAT: asks c-icap to reread its config and waits until the
# server log says it did (WHAT names the step in the assertion).
reconfigure() {
	_n=$(grep -c 'Going to reconfigure' "$dir/server.log")
	printf 'reconfigure' >"$dir/c-icap.ctl"
	_i=0
	while [ "$(grep -c 'Going to reconfigure' "$dir/server.log")" -le "$_n" ] &&
		[ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	sleep 1 # the new children start after the log line
	if [ $_i -lt 100 ]; then ok "reconfigure ($1) is acted on"; else
		not_ok "reconfigure ($1) is acted on" "no log line in 10 s"; fi
}

conf "Optimize,Allow" || { not_ok "setup" "the shipped snippet changed"; finish; }
cicap_start "$dir" || { not_ok "c-icap starts" "see stderr"; cicap_diagnostics "$dir"; finish; }
main=$(cicap_main_pid "$dir")
check_eq "start: teams.microsoft.com is Allow" "Allow" "$(category http://teams.microsoft.com/)"

conf "Optimize"
reconfigure "Optimize only"
check_eq "a new value takes effect: teams.microsoft.com no longer bypasses" \
	"-" "$(category http://teams.microsoft.com/)"
check_eq "a new value takes effect: outlook is still Optimize" \
	"Optimize" "$(category http://outlook.office365.com/)"

conf "Optimise"
reconfigure "a bad category"
check_eq "c-icap keeps running after a bad value" "$main" "$(cicap_main_pid "$dir")"
check_eq "the service answers 500 while its configuration is bad" "500" \
	"$(status m365_bypass http://teams.microsoft.com/)"
check_eq "the other services keep answering" "204" "$(status echo http://example.com/)"
check_match "the server log names the directive" \
	'm365_bypass: ERROR: m365_bypass\.Categories: unknown category "Optimise"' \
	"$(cat "$dir/server.log")"

conf "Optimize,Allow"
reconfigure "the value fixed"
check_eq "fixing the value brings the service back" "Allow" \
	"$(category http://teams.microsoft.com/)"
cicap_stop "$dir"
check_eq "c-icap stops cleanly" 0 "$?"
finish
