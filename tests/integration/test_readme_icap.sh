#!/bin/sh
# test_readme_icap.sh - the README's ICAP "Try it" works as written:
# contrib/c-icap/run.sh starts c-icap with the built module from the shipped
# snippet, and the c-icap-client commands the README shows (taken from the
# README itself) answer what the README says.  When 1344 is taken, the
# commands get the "-p PORT" run.sh prints.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/icap_lib.sh"

cd "$ROOT" || exit 1
T=$(mktemp -d)
on_exit "rm -rf '$T'"

# the README's commands: the indented c-icap-client lines after "Try it"
awk '/^Try it: `sh contrib\/c-icap\/run.sh`/ { on = 1 }
	on && /^    c-icap-client / { sub(/^    /, ""); sub(/  *#.*$/, ""); print }
	on && /^## / { exit }' README.md >"$T/cmds"
check_eq "the README shows three c-icap-client commands" 3 "$(wc -l <"$T/cmds")"

port=1344
if _cicap_accepts 1344 2>/dev/null; then
	port=$(free_port)
	sed -i "s/^c-icap-client /c-icap-client -p $port /" "$T/cmds"
fi
PORT=$port sh contrib/c-icap/run.sh >"$T/run.out" 2>&1 &
runpid=$!
on_exit "kill $runpid 2>/dev/null; [ -f '$ROOT/build/run-icap/c-icap.pid' ] && kill \$(cat '$ROOT/build/run-icap/c-icap.pid') 2>/dev/null; sleep 1"
if wait_port "$port" 20; then
	ok "contrib/c-icap/run.sh starts c-icap on 127.0.0.1:$port"
else
	not_ok "contrib/c-icap/run.sh starts c-icap" "$(tail -5 "$T/run.out")"
	finish
fi
check_match "run.sh prints the README's commands" \
	"c-icap-client.* -s m365_bypass -req http://teams.microsoft.com/ -v" \
	"$(cat "$T/run.out")"

i=0
while IFS= read -r cmd; do
	i=$((i + 1))
	sh -c "$cmd" >"$T/out.$i" 2>&1
done <"$T/cmds"
check_match "README: teams.microsoft.com gets 204" 'ICAP/1.0 204' "$(cat "$T/out.1")"
check_match "README: teams.microsoft.com gets an empty X-Next-Services" \
	'X-Next-Services: *$' "$(cat "$T/out.1")"
check_match "README: teams.microsoft.com is Allow/Skype" \
	'X-M365-Service: Skype' "$(cat "$T/out.1")"
check_match "README: example.com gets 204" 'ICAP/1.0 204' "$(cat "$T/out.2")"
if grep -q 'X-Next-Services' "$T/out.2"; then
	not_ok "README: example.com gets no X-Next-Services" "$(cat "$T/out.2")"
else
	ok "README: example.com gets no X-Next-Services"
fi
check_match "README: the counters show the bypass" '^m365 bypassed Allow : 1$' \
	"$(cat "$T/out.3")"
check_match "README: the counters show the inspected request" \
	'^m365 inspected : 1$' "$(cat "$T/out.3")"
check_match "run.sh's c-icap logged the list it loaded" \
	'm365_bypass: loaded bundled list' "$(cat "$ROOT/build/run-icap/server.log")"
finish
