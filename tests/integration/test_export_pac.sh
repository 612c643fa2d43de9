#!/bin/sh
# tests/integration/test_export_pac.sh - m365ctl export pac: the PAC file
# answers DIRECT exactly where the helper answers OK.
#
# For the bundled list, two fixtures (worldwide 2021, USGovDoD: the
# irregular globs) and a variant of the bundled list (port ranges, names
# in upper case), under several policies and four local lists, a few
# thousand queries (tests/integration/pac_queries.py) are evaluated in the
# exported PAC with pacparser and asked of ext_m365_acl
# (tests/integration/pac_check.py): no disagreement allowed.  Then:
#   b. --allow-proxy: Allow answers get its string, the rest stays direct;
#      the strings are quoted in the PAC (", \, a newline)
#   c. --tenant fills Microsoft's tenant placeholders
#   d. a local regex the PAC cannot express fails the export (exit 1,
#      FILE:LINE), one it can express does not
#   e. no DNS lookups in any PAC (no dnsResolve, isInNet, ...)
#   f. -o replaces the file atomically, and keeps it when the export fails
# The PAC evaluation time of the biggest run is printed for the record.
# M365_PYTHON names a python3 with pacparser; M365_PAC_KEEP=DIR keeps the
# PAC files, the queries and pac_check.py's output there.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

HELPER=${M365_HELPER:-$BUILD/ext_m365_acl}
CTL=${M365_CTL:-$BUILD/m365ctl}
ITEST=$ROOT/tests/integration
WW21=$FIXTURES/worldwide-2021-10-11.json
DOD=$FIXTURES/usgovdod-2025-12-01.json
BUNDLED=$ROOT/lists/endpoints-worldwide.json
PROXY="PROXY proxy.example:3128"
ALLOWP="PROXY allow.example:8080"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# A python3 that has pacparser (Debian's python3-pacparser installs it for
# the system's python3, which may not be the first python3 on PATH).
PY=""
for p in ${M365_PYTHON:-} python3 /usr/bin/python3; do
	if "$p" -c 'import pacparser' >/dev/null 2>&1; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || abort "no python3 with the pacparser module (python3-pacparser)"
helper_setup

# The local list of the brief, and one with more of what a PAC must
# express: regexes (classes, groups, alternation, quantifiers, \d, '.',
# unanchored starts, a never regex on an address's canonical text, an
# upper-case regex that no normalised host matches), irregular globs, a
# single address, an IPv4-mapped range.
cat >"$T/local.list" <<'EOF'
# the local list of test_export_pac.sh
bypass  *.zoom.us
bypass  203.0.113.0/24
bypass  re:^meet[0-9]+\.example\.net$
never   teams.microsoft.com
never   52.112.1.0/24
bypass  2001:db8:abcd::/48
never   re:^10\.
EOF
cat >"$T/tricky.list" <<'EOF'
# rules a PAC must express exactly
bypass re:^(foo|bar)[a-c]{2,3}\.example\.org$
bypass re:^cdn-[0-9a-f]+(-[a-z]+)?\.media\.example\.com$
bypass re:conf\d+\.example\.org$
never  re:-dev[0-9]*\.
bypass re:^v.\.example\.org$
never  re:^2620:1ec:4::15[23]$
bypass re:^UPPER\.example\.org$
bypass *.zoom.us
never  re:^x[a-z]*\.zoom\.us$
never  re:^[a-z]+\.teams\.microsoft\.com$
bypass files-*.example.org
bypass *cdn.example.com
bypass 198.51.100.7
bypass ::ffff:192.0.2.0/120
never  2603:1063::/40
EOF
# Regexes and globs of every shape the local list takes (bypass regexes
# end with "\.DOMAIN$"; bypass globs fix a domain).
cat >"$T/regex.list" <<'EOF'
# regexes the export translates to JavaScript
bypass re:^[]a]+\.rx1\.example\.net$
bypass re:^\w+\.rx2\.example\.net$
bypass re:^(?:ab|cd)+\.rx3\.example\.net$
bypass re:^[\d-]+\.rx4\.example\.net$
bypass re:^j.{2}\.rx5\.example\.net$
bypass re:^[^.]+\.rx6\.example\.net$
bypass re:^(a|b.c)*\.rx7\.example\.net$
bypass re:.\.rx8\.example\.net$
bypass re:^[a-c]{0,2}\.rx9\.example\.net$
bypass re:^(x|y){2,}\.rx10\.example\.net$
bypass re:^(?:q{1,2}|w?)\.rx11\.example\.net$
bypass re:^.\.rx12\.example\.net$
bypass re:^[^\d]\.rx13\.example\.net$
bypass re:^(a(b(c|d)?)+)?\.rx14\.example\.net$
bypass re:^[_a-]+\.rx15\.example\.net$
never re:^.*\.bad$
never re:[0-9]{4}
never re:^(www|ftp)\.
never re:-$
never re:^[^a-z0-9]
never re:^2603:1063:[0-9a-f]*:
never re:^52\.11[23]\.
EOF
cat >"$T/glob.list" <<'EOF'
# globs: '*' anywhere, several of them, never rules without a domain
bypass meet-*.example.org
bypass *zoom.example.com
bypass a*b*c.example.org
bypass *.x*.example.org
bypass x*.y*.example.org
bypass *-*.example.org
bypass **.example.org
bypass *a.example.org
never  *evil*
never  outlook.*
never  *.microsoft.com.*
never  *ms*-*.com
never  *.1
EOF
# The widest ranges: every IPv6 address (and so every IPv4 address, which
# is ::ffff:a.b.c.d) never a bypass.
printf '# no IPv6 (nor IPv4) address is ever a bypass\nnever ::/0\n' >"$T/allv6.list"

# A lookahead: PCRE2 takes it, a PAC cannot say it.  As a bypass rule the
# local list itself refuses it (a bypass regex must end with a literal
# domain after "^" or "\.": here ")b\.example\.net$"); as a never rule it
# loads, and only the PAC export refuses it.  A lookbehind (which the
# bypass rule's domain check takes) is refused by the export too.
printf '# lookahead\nbypass *.zoom.us\nnever re:^(?=a)b\\.example\\.net$\n' >"$T/bad.list"
printf '# lookahead\nbypass *.zoom.us\nbypass re:^(?=a)b\\.example\\.net$\n' >"$T/bad-bypass.list"
printf '# lookbehind\n\nbypass re:^b(?<=b)\\.example\\.net$\n' >"$T/bad-behind.list"

# run NAME CMD...: runs CMD (at most 120 s): $rc, stdout in $T/NAME.out,
# stderr in $T/NAME.err.
run() {
	_r=$1
	shift
	timeout 120 "$@" >"$T/$_r.out" 2>"$T/$_r.err"
	rc=$?
}

# no_dns NAME FILE: the PAC does no DNS lookups.
no_dns() {
	if grep -nE 'dnsResolve|isInNet' "$2" >"$T/dns.hits"; then
		not_ok "$1: no dnsResolve or isInNet" "$(head -n 3 "$T/dns.hits")"
	else
		ok "$1: no dnsResolve or isInNet"
	fi
	if grep -nE 'isResolvable|myIpAddress' "$2" >"$T/dns.hits"; then
		not_ok "$1: no isResolvable or myIpAddress" "$(head -n 3 "$T/dns.hits")"
	else
		ok "$1: no isResolvable or myIpAddress"
	fi
}

# pac_eval PAC URL: what FindProxyForURL returns (host from the URL)
pac_eval() { timeout 60 "$PY" "$ITEST/pac_check.py" --eval "$1" "$2" 2>&1; }

# evals NAME PAC URL EXPECTED
evals() {
	check_eq "$1" "$4" "$(pac_eval "$2" "$3")"
}

# key NAME: NAME as a file name
key() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }

biggest=""
biggest_n=0
biggest_b=0

# compare NAME QUERIES LISTARGS POLICY [ALLOW]: exports the PAC with
# LISTARGS and POLICY (words) and --allow-proxy ALLOW when given, runs
# pac_check.py over QUERIES against the helper with the same options; no
# disagreement.
compare() {
	_n=$1 _q=$2 _l=$3 _p=$4 _a=${5:-}
	_k=$(key "$_n")
	if [ -n "$_a" ]; then
		set -- --allow-proxy "$_a"
	else
		set --
	fi
	# shellcheck disable=SC2086 # LISTARGS and POLICY are lists of words
	run export "$CTL" export pac --proxy "$PROXY" "$@" $_l $_p
	if [ "$rc" != 0 ]; then
		not_ok "$_n: export pac" "exit $rc: $(head -c 600 "$T/export.err")"
		return
	fi
	cp "$T/export.out" "$T/$_k.pac"
	no_dns "$_n" "$T/$_k.pac"
	# shellcheck disable=SC2086
	timeout 600 "$PY" "$ITEST/pac_check.py" "$@" "$T/$_k.pac" "$_q" -- \
		"$HELPER" --metrics off $_l $_p >"$T/check.out" 2>"$T/check.err"
	_rc=$?
	_sum=$(grep '^pac_check: [0-9]* queries' "$T/check.out")
	if [ "$_rc" = 0 ]; then
		ok "$_n: PAC and helper agree ($(echo "$_sum" | sed 's/^pac_check: //'))"
	elif [ "$_rc" = 1 ]; then
		not_ok "$_n: PAC and helper agree" "$(echo "$_sum" | sed 's/^pac_check: //')"
		grep -v '^pac_check: ' "$T/check.out" | head -n 40 | sed 's/^/    /'
		[ "$(grep -c '^DISAGREE' "$T/check.out")" -gt 40 ] &&
			echo "    ... (first 40 shown)"
	else
		not_ok "$_n: pac_check runs" "exit $_rc: $(head -c 600 "$T/check.err")"
	fi
	grep '^pac_check: pacparser printed' -A 6 "$T/check.out" | sed 's/^/    /'
	[ -n "${M365_PAC_KEEP:-}" ] && mkdir -p "$M365_PAC_KEEP" &&
		cp "$T/$_k.pac" "$_q" "$M365_PAC_KEEP/" &&
		cp "$T/check.out" "$M365_PAC_KEEP/$_k.check"
	# the biggest run: most queries, then the biggest PAC
	_q_n=$(echo "$_sum" | sed -n 's/^pac_check: \([0-9]*\) queries.*/\1/p')
	_b=$(wc -c <"$T/$_k.pac")
	if [ -n "$_q_n" ] && { [ "$_q_n" -gt "$biggest_n" ] ||
		{ [ "$_q_n" -eq "$biggest_n" ] && [ "$_b" -gt "$biggest_b" ]; }; }; then
		biggest_n=$_q_n
		biggest_b=$_b
		biggest="$_n: $_q_n queries, PAC of $_b bytes: $(echo "$_sum" |
			sed 's/.*disagreements, //')"
	fi
}

# A list Microsoft could publish: the bundled one with port ranges (with
# spaces) and names in upper case.
"$PY" - "$BUNDLED" "$T/synth.json" <<'EOF' || abort "synth.json"
import json, sys
d = json.load(open(sys.argv[1]))
for s in d:
    if s["id"] == 12:     # Allow, Skype
        s["tcpPorts"] = "80,443, 50000-50019,3478 - 3481"
        s["urls"] += ["Teams.Synthetic.Example", "*.MEDIA.Synthetic.Example"]
    if s["id"] == 9:      # Allow, Exchange
        s["tcpPorts"] = "1-1024"
json.dump(d, open(sys.argv[2], "w"))
EOF

# --- a. the PAC and the helper agree -------------------------------------
for L in bundled ww21 dod synth; do
	case $L in
	bundled) json=$BUNDLED listargs="" ;;
	ww21) json=$WW21 listargs="--list $WW21" ;;
	dod) json=$DOD listargs="--list $DOD" ;;
	synth) json=$T/synth.json listargs="--list $T/synth.json" ;;
	esac
	"$PY" "$ITEST/pac_queries.py" --seed "$L" --local "$T/local.list" \
		--local "$T/tricky.list" --local "$T/regex.list" \
		--local "$T/glob.list" "$json" >"$T/q.$L" 2>"$T/q.err"
	n=$(wc -l <"$T/q.$L")
	if [ "$n" -ge 1000 ]; then
		ok "a: $L: $n queries"
	else
		not_ok "a: $L: queries" "only $n: $(head -c 300 "$T/q.err")"
	fi
	# Every irregular glob is in a Default set: "all" selects Default
	# too.  In the 2021 list, Common's Default sets hold *.cloudapp.net
	# (a public suffix: the list is refused) and Optimize's
	# *.sharepoint.com covers *-files.sharepoint.com.
	if [ "$L" = ww21 ]; then
		all="--categories Allow,Default --service-areas Exchange,SharePoint,Skype"
	else
		all="--categories Optimize,Allow,Default"
	fi
	compare "a: $L default" "$T/q.$L" "$listargs" ""
	[ "$L" = synth ] && break
	compare "a: $L --categories Optimize" "$T/q.$L" "$listargs" "--categories Optimize"
	compare "a: $L --service-areas Skype" "$T/q.$L" "$listargs" "--service-areas Skype"
	compare "a: $L --local" "$T/q.$L" "$listargs" "--local $T/local.list"
	compare "a: $L $all" "$T/q.$L" "$listargs" "$all"
	compare "a: $L --local tricky $all" "$T/q.$L" "$listargs" "--local $T/tricky.list $all"
done
compare "a: bundled --local regexes" "$T/q.bundled" "" "--local $T/regex.list"
compare "a: bundled --local globs" "$T/q.bundled" "" "--local $T/glob.list"
compare "a: bundled --local never ::/0" "$T/q.bundled" "" "--local $T/allv6.list"

# --- b. --allow-proxy ------------------------------------------------------
compare "b: bundled --allow-proxy" "$T/q.bundled" "" "" "$ALLOWP"
P="$T/$(key "b: bundled --allow-proxy").pac"
evals "b: an Allow name (teams.microsoft.com, set 12) gets the --allow-proxy string" \
	"$P" "https://teams.microsoft.com/" "$ALLOWP"
evals "b: an Optimize name (outlook.office365.com, set 1) stays DIRECT" \
	"$P" "https://outlook.office365.com/" "DIRECT"
evals "b: an unrelated name gets --proxy" "$P" "https://example.com/" "$PROXY"
compare "b: bundled --allow-proxy, Default and the local list" "$T/q.bundled" "" \
	"--local $T/local.list --categories Optimize,Allow,Default" "$ALLOWP"
P="$T/$(key "b: bundled --allow-proxy, Default and the local list").pac"
evals "b: ... a Local bypass stays DIRECT" "$P" "https://a.zoom.us/" "DIRECT"
evals "b: ... a Default name stays DIRECT" "$P" "https://www.microsoft.com/" "DIRECT"
compare "b: synth --allow-proxy" "$T/q.synth" "--list $T/synth.json" "" "$ALLOWP"

# Strings the PAC quotes: the answers come back as given; one with a
# newline (it reaches the header's comment too) is refused or quoted.
run strs "$CTL" export pac --proxy 'PROXY a"b\c:1' \
	--direct "SOCKS5 s.example:1080; DIRECT"
cp "$T/strs.out" "$T/strs.pac"
evals "b: a --proxy string with \" and \\ comes back as given" \
	"$T/strs.pac" "https://example.com/" 'PROXY a"b\c:1'
evals "b: a --direct string comes back as given" \
	"$T/strs.pac" "https://outlook.office365.com/" "SOCKS5 s.example:1080; DIRECT"
run nl "$CTL" export pac --proxy "$(printf 'PROXY a:1\n} b')"
if [ "$rc" != 0 ]; then
	ok "b: a --proxy string with a newline is refused (exit $rc)"
else
	cp "$T/nl.out" "$T/nl.pac"
	check_eq "b: a --proxy string with a newline gives a PAC that loads" \
		"$(printf 'PROXY a:1\n} b')" "$(pac_eval "$T/nl.pac" "https://example.com/")"
fi

# --- c. --tenant ---------------------------------------------------------------
# USGovDoD lists autodiscover.*.onmicrosoft.com (Default, Exchange) and no
# *.onmicrosoft.com that would cover other tenants.
run tenant "$CTL" export pac --proxy "$PROXY" --list "$DOD" \
	--categories Optimize,Allow,Default --tenant contoso
check_eq "c: export pac --tenant contoso exits 0" "0" "$rc"
cp "$T/tenant.out" "$T/tenant.pac"
run notenant "$CTL" export pac --proxy "$PROXY" --list "$DOD" \
	--categories Optimize,Allow,Default
cp "$T/notenant.out" "$T/notenant.pac"
evals "c: without --tenant autodiscover.other.onmicrosoft.com is DIRECT" \
	"$T/notenant.pac" "https://autodiscover.other.onmicrosoft.com/" "DIRECT"
evals "c: --tenant contoso: autodiscover.contoso.onmicrosoft.com is DIRECT" \
	"$T/tenant.pac" "https://autodiscover.contoso.onmicrosoft.com/" "DIRECT"
evals "c: ... autodiscover.other.onmicrosoft.com is not" \
	"$T/tenant.pac" "https://autodiscover.other.onmicrosoft.com/" "$PROXY"
evals "c: ... autodiscover.contoso.mail.onmicrosoft.us is DIRECT" \
	"$T/tenant.pac" "https://autodiscover.contoso.mail.onmicrosoft.us/" "DIRECT"
evals "c: ... autodiscover.a.contoso.onmicrosoft.com is not" \
	"$T/tenant.pac" "https://autodiscover.a.contoso.onmicrosoft.com/" "$PROXY"
no_dns "c: --tenant" "$T/tenant.pac"
# 2021 list: *-files.sharepoint.com (Default) without Optimize's
# *.sharepoint.com
run tenant2 "$CTL" export pac --proxy "$PROXY" --list "$WW21" \
	--categories Default --service-areas SharePoint --tenant contoso
check_eq "c: export pac --tenant contoso (2021 list) exits 0" "0" "$rc"
cp "$T/tenant2.out" "$T/tenant2.pac"
evals "c: --tenant contoso: contoso-files.sharepoint.com is DIRECT" \
	"$T/tenant2.pac" "https://contoso-files.sharepoint.com/" "DIRECT"
evals "c: ... contoso-myfiles.sharepoint.com is DIRECT" \
	"$T/tenant2.pac" "https://contoso-myfiles.sharepoint.com/" "DIRECT"
evals "c: ... other-files.sharepoint.com is not" \
	"$T/tenant2.pac" "https://other-files.sharepoint.com/" "$PROXY"

# --- d. a regex the PAC cannot express ----------------------------------------
for b in bad bad-behind; do
	echo "1 b.example.net 443" | "$HELPER" --metrics off --local "$T/$b.list" \
		>"$T/$b.helper" 2>/dev/null
	check_match "d: $b.list: the helper loads it (PCRE2)" \
		'^1 (OK( .*)?|ERR)$' "$(cat "$T/$b.helper")"
	run "$b" "$CTL" export pac --proxy "$PROXY" --local "$T/$b.list"
	check_eq "d: $b.list: export pac exits 1" "1" "$rc"
	check_match "d: $b.list: ... naming the file and line" \
		"^m365ctl export: $T/$b\\.list:3: " "$(cat "$T/$b.err")"
	if [ -s "$T/$b.out" ]; then
		echo "NOTE: d: $b.list: the failed export wrote $(wc -c <"$T/$b.out") bytes to stdout"
	fi
done
run bad-bypass "$CTL" export pac --proxy "$PROXY" --local "$T/bad-bypass.list"
if [ "$rc" != 0 ]; then
	ok "d: bad-bypass.list: export pac fails (exit $rc)"
else
	not_ok "d: bad-bypass.list: export pac fails" "exit 0"
fi
check_match "d: bad-bypass.list: ... naming the file and line" \
	"^m365ctl export: (--local: )?$T/bad-bypass\\.list:3: " "$(cat "$T/bad-bypass.err")"
run good "$CTL" export pac --proxy "$PROXY" --local "$T/tricky.list"
check_eq "d: expressible regexes export (exit 0)" "0" "$rc"

# --- f. -o ----------------------------------------------------------------------------
mkdir "$T/o"
run o1 "$CTL" export pac --proxy "$PROXY" -o "$T/o/m365.pac"
check_eq "f: export pac -o exits 0" "0" "$rc"
check_eq "f: ... nothing on stdout" "" "$(cat "$T/o1.out")"
evals "f: ... the file is a PAC (teams.microsoft.com DIRECT)" \
	"$T/o/m365.pac" "https://teams.microsoft.com/" "DIRECT"
ln "$T/o/m365.pac" "$T/o/before.pac"
cp "$T/o/m365.pac" "$T/o1.copy"
ino1=$(stat -c %i "$T/o/m365.pac")
run o2 "$CTL" export pac --proxy "$PROXY" --categories Optimize -o "$T/o/m365.pac"
check_eq "f: a second export -o exits 0" "0" "$rc"
ino2=$(stat -c %i "$T/o/m365.pac")
if [ "$ino1" != "$ino2" ]; then
	ok "f: ... replaces the file (a new inode: renamed over it)"
else
	not_ok "f: ... replaces the file" "same inode $ino1: written in place"
fi
evals "f: ... with the new PAC (teams.microsoft.com is Allow: proxied)" \
	"$T/o/m365.pac" "https://teams.microsoft.com/" "$PROXY"
if cmp -s "$T/o/before.pac" "$T/o1.copy"; then
	ok "f: ... a reader of the old file still reads it whole"
else
	not_ok "f: ... the old file" "changed under its reader"
fi
cp "$T/o/m365.pac" "$T/o2.copy"
run o3 "$CTL" export pac --proxy "$PROXY" --local "$T/bad.list" -o "$T/o/m365.pac"
check_eq "f: a failing export -o exits 1" "1" "$rc"
if cmp -s "$T/o/m365.pac" "$T/o2.copy"; then
	ok "f: ... the old file stays"
else
	not_ok "f: ... the old file stays" "it changed"
fi
check_eq "f: ... no temporary file left" "before.pac m365.pac" \
	"$(cd "$T/o" && echo *)"
check_eq "f: ... inode unchanged" "$ino2" "$(stat -c %i "$T/o/m365.pac")"

echo "PAC evaluation time of the biggest run (pacparser), $biggest"
finish
