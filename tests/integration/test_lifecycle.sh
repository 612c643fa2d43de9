#!/bin/sh
# test_lifecycle.sh - a list's lifecycle through m365ctl update, on a real
# Redis with the local stand-in of Microsoft's service and a running
# helper: the parameters (instance, service areas, tenant, NoIPv6) are
# part of a version's identity (other ones download it again under a new
# name the helper follows; another instance is refused without --force);
# every publish records a change report, which m365ctl changes prints (text
# and JSON, from Redis or the state directory) and which, for 2024-04-17 ->
# 2025-12-01, lists per set exactly what the two fixtures differ in; it is
# cross-checked with Microsoft's /changes answer; --notify runs on each
# publish and refusal with the report.
. "$(dirname "$0")/../lib.sh"

HELPER=${M365_HELPER:-$BUILD/san/ext_m365_acl}
CTL=${M365_CTL:-$BUILD/san/m365ctl}
WW24=$FIXTURES/worldwide-2024-04-17.json
WW25=$FIXTURES/worldwide-2025-12-01.json
DOD=$FIXTURES/usgovdod-2025-12-01.json
SAMPLE=$FIXTURES/web/changes-sample.json
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

helper_setup redis-server redis-cli python3
. "$ROOT/tests/redis_lib.sh"
updater_setup

downloads() { grep -c '^GET /endpoints/' "$T/requests.log"; }
# follows NAME VERSION: the running helper's farm record names VERSION
# within 10 s
follows() {
	_i=0
	while [ $_i -lt 100 ]; do
		_v=$(rcli --scan --pattern 'm365:proxy:*' | while read -r k; do
			rcli GET "$k"; done | tr '\n' ' ')
		case " $_v" in *"$2"*) ok "$1"; return ;; esac
		sleep 0.1
		_i=$((_i + 1))
	done
	not_ok "$1" "the helper's record says [$_v], not $2"
}
# notified FILE: what the --notify command saw (environment, then stdin)
NOTIFY="env | grep -E '^M365_(EVENT|VERSION|PREVIOUS|REASON)=' | sort > $T/n.env; cat > $T/n.in"

# --- the change report ---------------------------------------------------
stub 2024041700 "$WW24"
upd
check_eq "update publishes 2024041700 ($err)" 0 "$rc"
stub 2025120100 "$WW25" ok ok "\"changes_from\": \"$WW24\""
upd --notify "$NOTIFY"
check_eq "update publishes 2025120100 ($err)" 0 "$rc"
check_match "update prints a short form of the report, a line per set" \
	'set 12 \(Skype, Allow\) changed: names \+2 -0, ranges \+0 -3, ports \+1 -0' "$out"
check_match "... and where the whole report is" \
	'm365ctl changes 2025120100: the whole report' "$out"
fifo_start h 3 "$HELPER" --redis "$RURL" --poll 30
follows "the helper runs 2025120100" 2025120100

run "$CTL" changes --redis "$RURL" --json
check_eq "changes --json exits 0 ($err)" 0 "$rc"
printf '%s\n' "$out" >"$T/report.json"
# The report against the two fixtures, computed here independently: every
# set's names, ranges and ports added and removed, and nothing else.
got=$(python3 - "$WW24" "$WW25" "$T/report.json" <<'EOF'
import json, sys
old = {s["id"]: s for s in json.load(open(sys.argv[1]))}
new = {s["id"]: s for s in json.load(open(sys.argv[2]))}
rep = json.load(open(sys.argv[3]))
def ports(s, k):
    out = set()
    for p in filter(None, s.get(k, "").split(",")):
        lo, _, hi = p.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out
def spans(ps):
    out, ps = [], sorted(ps)
    for p in ps:
        if out and out[-1][1] == p - 1:
            out[-1][1] = p
        else:
            out.append([p, p])
    return ["%d" % a if a == b else "%d-%d" % (a, b) for a, b in out]
want = {}
for i in sorted(set(old) | set(new)):
    o, n = old.get(i, {}), new.get(i, {})
    e = {}
    for k in ("urls", "ips"):
        e[k] = {"added": sorted(set(n.get(k, [])) - set(o.get(k, []))),
                "removed": sorted(set(o.get(k, [])) - set(n.get(k, [])))}
    for k in ("tcpPorts", "udpPorts"):
        e[k] = {"added": spans(ports(n, k) - ports(o, k)),
                "removed": spans(ports(o, k) - ports(n, k))}
    same = all(not v["added"] and not v["removed"] for v in e.values())
    if o and n and same and o["category"] == n["category"]:
        continue
    e["change"] = "added" if not o else "removed" if not n else "changed"
    want[i] = e
have = {}
for s in rep["sets"]:
    have[s["id"]] = {k: {d: sorted(s[k][d]) for d in ("added", "removed")}
                     for k in ("urls", "ips", "tcpPorts", "udpPorts")}
    have[s["id"]]["change"] = s["change"]
bad = [i for i in set(want) | set(have) if want.get(i) != have.get(i)]
print("ok %d sets" % len(want) if not bad else "differ in sets %s" % sorted(bad))
EOF
)
check_eq "the report of 2024-04-17 -> 2025-12-01 is exactly the fixtures' differences" \
	"ok 21 sets" "$got"
jq() { python3 -c "import json,sys; r=json.load(open('$T/report.json')); print($1)"; }
check_eq "set 12 gained the Teams names" \
	"['*.teams.cloud.microsoft', 'teams.cloud.microsoft']" \
	"$(jq "sorted([s for s in r['sets'] if s['id']==12][0]['urls']['added'])")"
check_eq "set 27 traded *.secure.skypeassets.com for join.secure.skypeassets.com" \
	"['join.secure.skypeassets.com'] ['*.secure.skypeassets.com']" \
	"$(jq "' '.join(str(s['urls'][d]) for s in r['sets'] if s['id']==27 for d in ('added','removed'))")"
check_eq "set 18 was removed whole" "removed" \
	"$(jq "[s for s in r['sets'] if s['id']==18][0]['change']")"
check_eq "the report names both versions" "2025120100 2024041700" \
	"$(jq "r['version'] + ' ' + r['previous']")"
check_eq "Microsoft's /changes was asked and agrees" "True True" \
	"$(jq "str(r['microsoft']['asked']) + ' ' + str(r['microsoft']['agrees'])")"
check_match "it was asked since the version replaced" \
	'^GET /changes/Worldwide/2024041700\?ClientRequestId=' "$(grep '^GET /changes/' "$T/requests.log")"

run "$CTL" changes --redis "$RURL"
check_match "changes prints the head of the report" \
	'^version 2025120100, was 2024041700, published ' "$out"
check_match "... the totals" 'sets \+0 -8 changed 13, names \+5 -22, ranges \+1 -5' "$out"
check_match "... Microsoft's agreement" "Microsoft's /changes: agrees" "$out"
check_match "... and each name added" '^  \+ name  \*\.teams\.cloud\.microsoft$' "$out"
check_match "... and each range removed" '^  - range 52\.238\.119\.141/32$' "$out"
run "$CTL" changes --state-dir "$S"
check_match "changes without Redis reads the state directory's copy" \
	'^version 2025120100, was 2024041700' "$out"
check_eq "the state directory keeps each report" "2024041700.json 2025120100.json" \
	"$(ls "$S/changes" | tr '\n' ' ' | sed 's/ $//')"
run "$CTL" changes 2024041700 --redis "$RURL" --json
check_eq "the first version's report: every set added, no previous" "72 None" \
	"$(printf '%s' "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["totals"]["sets"]["added"], r["previous"])')"
run "$CTL" changes 1999 --redis "$RURL"
check_eq "changes of a version without a report exits 1" 1 "$rc"
check_match "... saying so" "version 1999: redis: m365:v:1999 has no changes" "$err"

check_eq "--notify: the environment on a publish" \
	"M365_EVENT=published M365_PREVIOUS=2024041700 M365_REASON= M365_VERSION=2025120100" \
	"$(tr '\n' ' ' <"$T/n.env" | sed 's/ $//')"
check_match "--notify: the report on its standard input" \
	'^  \+ name  teams\.cloud\.microsoft$' "$(cat "$T/n.in")"

# --- the parameters are part of the version ------------------------------
n=$(downloads)
upd --service-areas skype,COMMON
check_eq "other service areas: published ($err)" 0 "$rc"
check_match "... saying the parameters changed" \
	'^parameters changed \(published instance=Worldwide&serviceAreas=&tenant=&noIPv6=false, asked instance=Worldwide&serviceAreas=Common,Skype&tenant=&noIPv6=false\)' "$out"
check_eq "... downloaded again" $((n + 1)) "$(downloads)"
check_match "... asking Microsoft for those areas" 'ServiceAreas=skype,COMMON' \
	"$(grep '^GET /endpoints/' "$T/requests.log" | tail -1)"
check_eq "... under a new name" 2025120100.1 "$(rcli GET m365:current)"
check_eq "... whose parameters are stored" \
	"instance=Worldwide&serviceAreas=Common,Skype&tenant=&noIPv6=false" \
	"$(rcli HGET m365:v:2025120100.1 params)"
follows "the helper follows the new name" 2025120100.1
upd --service-areas Common,Skype
check_eq "the same areas in another spelling: current" "0 already current: version 2025120100.1" "$rc $out"
check_eq "... nothing downloaded" $((n + 1)) "$(downloads)"
upd --service-areas Common,Skype --tenant Contoso --no-ipv6
check_eq "a tenant and --no-ipv6: published again" "0 2025120100.2" "$rc $(rcli GET m365:current)"
check_match "... asking for them" 'TenantName=Contoso&NoIPv6=true' \
	"$(grep '^GET /endpoints/' "$T/requests.log" | tail -1)"
check_eq "... the state directory records them" \
	"instance=Worldwide&serviceAreas=Common,Skype&tenant=contoso&noIPv6=true" "$(cat "$S/params")"
run "$CTL" status --redis "$RURL" --state-dir "$S"
check_match "status shows the parameters" \
	'^parameters: +instance=Worldwide&serviceAreas=Common,Skype&tenant=contoso&noIPv6=true$' "$out"
stub 2025120200 "$WW25"
upd
check_eq "a newer version with the default parameters: a plain name" "0 2025120200" "$rc $(rcli GET m365:current)"

S3=$T/state3
run "$CTL" update --base-url "$BASE" --redis "$RURL" --state-dir "$S3" --timeout 10
check_eq "another host's updater finds the version current" 0 "$rc"
check_match "... and copies it into its state directory" \
	"^state directory $S3: now version 2025120200, as in Redis\$" "$out"
check_eq "... the list, its version, parameters and report" \
	"2025120200 instance=Worldwide&serviceAreas=&tenant=&noIPv6=false yes yes" \
	"$(cat "$S3/version") $(cat "$S3/params") $(cmp -s "$S3/endpoints.json" "$WW25" && echo yes) $([ -s "$S3/changes/2025120200.json" ] && echo yes)"
run "$CTL" update --base-url "$BASE" --redis "$RURL" --state-dir "$S3" --timeout 10
check_eq "... once: the next run copies nothing" "0 already current: version 2025120200" "$rc $out"

# --- another instance ----------------------------------------------------
stub 2025120300 "$DOD"
n=$(downloads)
upd --instance USGovDoD --notify "$NOTIFY"
check_eq "another instance onto the prefix: refused (exit 1)" 1 "$rc"
check_match "... saying what the prefix holds" \
	"refused: prefix m365: holds instance Worldwide \(version 2025120200\), not USGovDoD: give each instance its own --redis-prefix, or --force to replace it" "$err"
check_eq "... nothing downloaded, nothing published" "$n 2025120200" "$(downloads) $(rcli GET m365:current)"
check_match "--notify on a refusal: the event" 'M365_EVENT=refused' "$(cat "$T/n.env")"
check_match "... the reason on its standard input" '^refused: prefix m365: holds instance Worldwide' "$(cat "$T/n.in")"
upd --instance USGovDoD --redis-prefix dod:
check_eq "its own prefix takes it" "0 2025120300" "$rc $(rcli GET dod:current)"
upd --instance USGovDoD --force
check_eq "--force replaces the instance" "0 2025120300" "$rc $(rcli GET m365:current)"
check_match "... and records it" '^instance=USGovDoD&' "$(rcli HGET m365:v:2025120300 params)"
S2=$T/state2
stub 2025120300 "$DOD"
run "$CTL" update --base-url "$BASE" --state-dir "$S2" --instance USGovDoD
check_eq "without Redis: the state directory takes an instance ($err)" 0 "$rc"
run "$CTL" update --base-url "$BASE" --state-dir "$S2" --instance China
check_eq "... and refuses another" 1 "$rc"
check_match "... naming the directory" "refused: $S2 holds instance USGovDoD" "$err"
run "$CTL" status --state-dir "$S2"
check_match "status without Redis shows the state directory's parameters" \
	"state dir: +$S2: version 2025120300, [0-9]+ sets, instance=USGovDoD&serviceAreas=&tenant=&noIPv6=false" "$out"

# --- the cross-check can disagree, and can fail --------------------------
P=x:
stub 2024041700 "$WW24"
upd --redis-prefix $P
stub 2025120100 "$WW25" ok ok "\"changes\": \"$SAMPLE\""
upd --redis-prefix $P
check_eq "a /changes answer that disagrees does not stop the publish" "0 2025120100" "$rc $(rcli GET x:current)"
run "$CTL" changes --redis "$RURL" --redis-prefix $P
check_match "the report says Microsoft's /changes differs" \
	"Microsoft's /changes: differs in [0-9]+ places" "$out"
check_match "... and where" \
	"set 12: the lists have name teams\.cloud\.microsoft added; Microsoft's /changes does not" "$out"
stub 2024041700 "$WW24"
upd --redis-prefix y:
stub 2025120100 "$WW25" ok ok '"changes_mode": "500"'
upd --redis-prefix y: --notify "exit 3"
check_eq "a /changes answer of HTTP 500 does not stop the publish" "0 2025120100" "$rc $(rcli GET y:current)"
check_match "... nor a --notify command that fails, which is a warning" \
	'warning: --notify: the command exited 3' "$err"
run "$CTL" changes --redis "$RURL" --redis-prefix y:
check_match "the report says why Microsoft was not asked" \
	"Microsoft's /changes: not asked \(refused: .*/changes/Worldwide/2024041700.* answered HTTP 500\)" "$out"

# --- a refused list's report goes to --notify ----------------------------
stub 2025120400 "$FIXTURES/china-2025-12-01a.json"
upd --redis-prefix y: --notify "$NOTIFY"
check_eq "a list that loses most sets is refused" 1 "$rc"
check_match "--notify gets what it would have changed" \
	'^what it would have changed:$' "$(cat "$T/n.in")"
check_match "... set by set" '^set 1 \(Exchange, Optimize\) changed$' "$(cat "$T/n.in")"

# --- import and pin record reports too -----------------------------------
run "$CTL" import "$WW24" --version local-1 --redis "$RURL" --redis-prefix y:
check_eq "import publishes ($err)" 0 "$rc"
run "$CTL" changes local-1 --redis "$RURL" --redis-prefix y: --json
check_eq "import records a report, Microsoft not asked" "2025120100 imported from a file" \
	"$(printf '%s' "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["previous"], r["microsoft"]["why"])')"
run "$CTL" pin 2025120100 --redis "$RURL" --redis-prefix y:
check_eq "pin publishes ($err)" 0 "$rc"
check_eq "pin keeps the parameters" "instance=Worldwide&serviceAreas=&tenant=&noIPv6=false" \
	"$(rcli HGET y:v:2025120100 params)"
run "$CTL" changes --redis "$RURL" --redis-prefix y:
check_match "pin records the report of going back" '^version 2025120100, was local-1' "$out"

# --- a report from Redis is hostile input --------------------------------
rcli HSET y:v:local-1 changes '{"version":"local-1\u001b[2J","sets":[{"id":"x","urls":{"added":[1,"a\u001b]0;t\u0007b"]}}],"microsoft":{"asked":true,"differences":[7]}}' >/dev/null
run "$CTL" changes local-1 --redis "$RURL" --redis-prefix y:
check_eq "a tampered report prints, without its control characters" "0 no" \
	"$rc $(printf '%s' "$out" | grep -q "$(printf '\033')" && echo yes || echo no)"
check_match "... its odd members shown as ?" '^  \+ name  \?$' "$out"
rcli HSET y:v:local-1 changes '[1,2' >/dev/null
run "$CTL" changes local-1 --redis "$RURL" --redis-prefix y:
check_eq "a report that is no JSON object: exit 1" 1 "$rc"
finish
