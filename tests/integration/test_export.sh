#!/bin/sh
# test_export.sh - m365ctl export text and json (what they hold, against
# the fixture and the helper), -o (atomic, the old file kept on failure),
# --tenant, usage errors, --watch following a real Redis (a publish
# rewrites the file and runs --exec within seconds; Redis down keeps the
# files; a failed command runs again with the next version), and lookup
# of a URL or HOST:PORT with the Teams media note.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/redis_lib.sh"

CTL="$BUILD/m365ctl"
T=$(mktemp -d)
on_exit "rm -rf '$T'"
WW25="$FIXTURES/worldwide-2025-12-01.json"
WW24="$FIXTURES/worldwide-2024-04-17.json"
WW21="$FIXTURES/worldwide-2021-10-11.json"

# --- text ---------------------------------------------------------------------
"$CTL" export text --list "$WW25" --kind names >"$T/names" 2>"$T/err"
check_eq "text --kind names exits 0" 0 $?
grep -v '^#' "$T/names" >"$T/names.body"
/usr/bin/python3 - "$WW25" "$T/names.body" >"$T/names.check" <<'PY'
import json, sys
sets = json.load(open(sys.argv[1]))
want = sorted({u.lower() for s in sets if s.get("category") in ("Optimize", "Allow")
               for u in s.get("urls", [])})
got = open(sys.argv[2]).read().split()
print("same" if got == want else "differ: %d vs %d; %s" %
      (len(got), len(want), sorted(set(got) ^ set(want))[:5]))
PY
check_eq "text names: exactly the selected sets' urls, sorted, each once" same "$(cat "$T/names.check")"
"$CTL" export text --list "$WW25" --kind ipv4 | grep -v '^#' >"$T/v4"
/usr/bin/python3 - "$WW25" "$T/v4" >"$T/v4.check" <<'PY'
import ipaddress, json, sys
sets = json.load(open(sys.argv[1]))
want = set()
for s in sets:
    if s.get("category") in ("Optimize", "Allow"):
        for ip in s.get("ips", []):
            n = ipaddress.ip_network(ip, strict=False)
            if n.version == 4:
                want.add(str(n))
got = set(open(sys.argv[2]).read().split())
print("same" if got == want else "differ: %s" % sorted(got ^ want)[:5])
PY
check_eq "text --kind ipv4: the selected IPv4 ranges" same "$(cat "$T/v4.check")"
check_eq "text --kind ipv6 holds no IPv4 range" "" \
	"$("$CTL" export text --list "$WW25" --kind ipv6 | grep -v '^#' | grep -v ':')"
printf 'never teams.microsoft.com\nbypass *.zoom.us\nbypass re:^a[0-9]+\\.example\\.net$\nbypass ::ffff:198.51.100.0/120\n' >"$T/local"
"$CTL" export text --list "$WW25" --local "$T/local" >"$T/all"
check_match "text says what a plain list leaves out (never rules)" \
	'^# not applied: 1 local never rule' "$(cat "$T/all")"
check_match "text says the regexes are not listed" '^# not listed: 1 local bypass regex' "$(cat "$T/all")"
check_match "text lists the local bypass globs" '^\*\.zoom\.us$' "$(cat "$T/all")"
check_match "text: IPv4 in IPv6 comes out as IPv4" '^198\.51\.100\.0/24$' "$(cat "$T/all")"
check_match "text --categories Optimize holds an Optimize name" '^outlook\.office365\.com$' \
	"$("$CTL" export text --list "$WW25" --categories Optimize --kind names)"
check_eq "text --categories Optimize leaves Allow-only names out" "" \
	"$("$CTL" export text --list "$WW25" --categories Optimize --kind names | grep -x 'teams.microsoft.com')"

# --- json ---------------------------------------------------------------------
"$CTL" export json --list "$WW25" --local "$T/local" >"$T/j" 2>"$T/err"
check_eq "json exits 0" 0 $?
/usr/bin/python3 - "$T/j" >"$T/j.check" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["endpoints"]
teams = [x for x in e if x["endpoint"] == "teams.microsoft.com"]
ok = (teams and teams[0]["set"] == 12 and teams[0]["category"] == "Allow"
      and teams[0]["serviceArea"] == "Skype" and teams[0]["tcpPorts"] == "80,443"
      and teams[0]["udpPorts"] == "443"
      and all(x["category"] in ("Optimize", "Allow") for x in e)
      and any(x["type"] == "range" for x in e)
      and [r["verb"] for r in d["local"]] == ["never", "bypass", "bypass", "bypass"]
      and d["list"].startswith(sys.argv[1][:0]))
print("ok" if ok else "bad: %s" % teams)
PY
check_eq "json: endpoints with set, category, service area, ports; the local rules" ok "$(cat "$T/j.check")"

# --- -o and errors -------------------------------------------------------------
echo old >"$T/out.txt"
"$CTL" export text --list "$WW25" -o "$T/out.txt"
check_match "-o writes the file" '^# m365ctl export text' "$(head -1 "$T/out.txt")"
check_eq "-o leaves no temporary file" "" "$(ls "$T" | grep '\.tmp')"
printf 'never re:(?i)^x\\.example\\.net$\n' >"$T/lookahead"
cp "$T/out.txt" "$T/out.before"
"$CTL" export pac --proxy "PROXY p:3128" --list "$WW25" --local "$T/lookahead" -o "$T/out.txt" 2>"$T/err"
check_eq "an inexpressible regex: pac exits 1" 1 $?
check_match "... naming the file and line" "$T/lookahead:1: " "$(cat "$T/err")"
check_eq "... and the old file stays" "" "$(cmp "$T/out.txt" "$T/out.before" 2>&1)"
"$CTL" export pac --list "$WW25" >/dev/null 2>"$T/err"
check_eq "pac without --proxy: usage error (2)" 2 $?
"$CTL" export svg >/dev/null 2>"$T/err"
check_eq "an unknown format: usage error (2)" 2 $?
check_match "... naming the formats" 'pac, nft, squid, text, json' "$(cat "$T/err")"
"$CTL" export text --tenant 'Bad Name' >/dev/null 2>&1
check_eq "a bad --tenant: usage error (2)" 2 $?
"$CTL" export text --watch -o "$T/x" >/dev/null 2>&1
check_eq "--watch without --redis: usage error (2)" 2 $?
"$CTL" export squid >/dev/null 2>&1
check_eq "squid without -o: usage error (2)" 2 $?
"$CTL" export text --list "$T/missing.json" >/dev/null 2>&1
check_eq "a missing list: input error (2)" 2 $?

# a failed squid export writes nothing: the files in use stay
"$CTL" export squid --list "$WW25" --local "$T/local" -o "$T/sq" >/dev/null 2>&1
ls "$T/sq" | sort >"$T/sq.before"
cp "$T/sq/m365.conf" "$T/sq.conf.before"
"$CTL" export squid --list "$WW25" --local "$T/lookahead" -o "$T/sq" 2>"$T/err"
check_eq "an inexpressible regex: squid exits 1" 1 $?
check_eq "... and m365.conf stays as it was" "" "$(cmp "$T/sq/m365.conf" "$T/sq.conf.before" 2>&1)"
check_eq "... with every file of it" "$(cat "$T/sq.before")" "$(ls "$T/sq" | sort)"

# --- --tenant ------------------------------------------------------------------
"$CTL" export text --list "$WW21" --categories Optimize,Allow,Default \
	--service-areas Exchange,SharePoint --kind names --tenant contoso >"$T/tn"
check_match "--tenant fills autodiscover.*.onmicrosoft.com" '^autodiscover\.contoso\.onmicrosoft\.com$' "$(cat "$T/tn")"
check_match "--tenant fills *-files.sharepoint.com" '^contoso-files\.sharepoint\.com$' "$(cat "$T/tn")"
check_match "--tenant leaves *.x suffixes alone" '^\*\.sharepoint\.com$' "$(cat "$T/tn")"
check_match "without --tenant the placeholder stays a wildcard" '^autodiscover\.\*\.onmicrosoft\.com$' \
	"$("$CTL" export text --list "$WW21" --categories Optimize,Allow,Default \
		--service-areas Exchange,SharePoint --kind names)"

# --- lookup URL, HOST:PORT, media -------------------------------------------------
out=$("$CTL" lookup --list "$WW25" https://teams.microsoft.com/path)
check_match "lookup of a URL takes its host and the scheme's port" '^port: +443$' "$out"
check_match "... and answers as the helper" '^OK m365_category=Allow m365_service=Skype m365_set=12$' "$out"
check_match "... and says the media ports must go direct" '^media: +set 12 .* UDP 443' "$out"
out=$("$CTL" lookup --list "$WW25" http://teams.microsoft.com:8080/)
check_match "a URL's own port counts" '^port: +8080$' "$out"
out=$("$CTL" lookup --list "$WW25" '[2603:1063::1]:443')
check_match "[v6]:port" '^destination: +2603:1063::1 \(IPv6\)' "$out"
check_match "... Teams media set 11: UDP 3478-3481 direct" '^media: +set 11 \(Optimize, Skype\) lists UDP 3478-3481' "$out"
"$CTL" lookup --list "$WW25" teams.microsoft.com:443 80 >/dev/null 2>"$T/err"
check_eq "two different ports: usage error (2)" 2 $?
out=$("$CTL" lookup --list "$WW25" 2603:1063::1)
check_match "a bare IPv6 address is a host, not host:port" '^port: +unknown$' "$out"

# --- --watch through a real Redis ----------------------------------------------
redis_init "$T"
start_redis || not_ok "redis starts" "no listener"
"$CTL" import "$WW24" --redis "$RURL" --version 2024041700 >/dev/null 2>&1
"$CTL" export text --redis "$RURL" -o "$T/w.txt" --watch --poll 1 \
	--exec "echo ran >>'$T/ran'; test ! -e '$T/fail'" 2>"$T/watch.log" &
WPID=$!
on_exit "kill $WPID 2>/dev/null"
i=0
while [ $i -lt 50 ] && ! grep -q 'version 2024041700' "$T/w.txt" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
check_match "--watch writes the current version at start" '^# list: .*version 2024041700' "$(sed -n 2p "$T/w.txt")"
check_eq "--exec ran once" 1 "$(wc -l <"$T/ran" 2>/dev/null | tr -d ' ')"
t0=$(date +%s)
"$CTL" import "$WW25" --redis "$RURL" --version 2025120100 --force >/dev/null 2>&1
i=0
while [ $i -lt 100 ] && ! grep -q 'version 2025120100' "$T/w.txt" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
check_match "a publish rewrites the file" '^# list: .*version 2025120100' "$(sed -n 2p "$T/w.txt")"
check_eq "... within seconds (under 5)" yes "$([ $(( $(date +%s) - t0 )) -lt 5 ] && echo yes || echo "$(( $(date +%s) - t0 )) s")"
sleep 0.3
check_eq "... and runs --exec again" 2 "$(wc -l <"$T/ran" | tr -d ' ')"
touch "$T/fail"
"$CTL" import "$WW24" --redis "$RURL" --version 2025120101 --force >/dev/null 2>&1
i=0
while [ $i -lt 100 ] && ! grep -q 'command failed' "$T/watch.log"; do sleep 0.1; i=$((i + 1)); done
check_match "a failed command is logged" 'the command failed \(exit 1\); it runs again with the next change' "$(cat "$T/watch.log")"
rm -f "$T/fail"
"$CTL" import "$WW25" --redis "$RURL" --version 2025120102 --force >/dev/null 2>&1
i=0
while [ $i -lt 100 ] && [ "$(wc -l <"$T/ran" | tr -d ' ')" -lt 4 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "... and runs again with the next version" 4 "$(wc -l <"$T/ran" | tr -d ' ')"
kill $WPID 2>/dev/null
wait $WPID 2>/dev/null

# a local list change rewrites the file too
printf 'bypass *.zoom.us\n' >"$T/wl"
"$CTL" export text --redis "$RURL" --local "$T/wl" -o "$T/w.txt" --watch \
	--poll 1 2>>"$T/watch.log" &
WPID=$!
on_exit "kill $WPID 2>/dev/null"
i=0
while [ $i -lt 50 ] && ! grep -q 'zoom' "$T/w.txt" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
printf 'bypass *.zoom.us\nbypass *.webex.com\n' >"$T/wl.new"
mv "$T/wl.new" "$T/wl"
i=0
while [ $i -lt 60 ] && ! grep -q 'webex' "$T/w.txt"; do sleep 0.1; i=$((i + 1)); done
check_match "a local list change rewrites the file" '^\*\.webex\.com$' "$(cat "$T/w.txt")"
check_match "... said in the log" 'local list changed: wrote' "$(cat "$T/watch.log")"
cp "$T/w.txt" "$T/w.before"
kill_redis
i=0
while [ $i -lt 50 ] && ! grep -q 'Redis unreachable' "$T/watch.log"; do sleep 0.1; i=$((i + 1)); done
check_match "Redis down is logged" 'Redis unreachable .*the files stay as they are' "$(cat "$T/watch.log")"
check_eq "... and the file stays" "" "$(cmp "$T/w.txt" "$T/w.before" 2>&1)"
check_eq "... and the watcher keeps running" yes "$(kill -0 $WPID 2>/dev/null && echo yes)"
kill $WPID 2>/dev/null
wait $WPID 2>/dev/null
check_match "SIGTERM stops it, said in the log" 'm365ctl export: stopped$' "$(tail -1 "$T/watch.log")"

if grep -Eq 'Sanitizer|runtime error:' "$T/watch.log" "$T/err" 2>/dev/null; then
	not_ok "no sanitizer report" "$(grep -h -m1 -E -A5 'Sanitizer|runtime error:' "$T/watch.log" "$T/err")"
else
	ok "no sanitizer report"
fi
finish
