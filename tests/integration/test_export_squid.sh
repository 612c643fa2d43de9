#!/bin/sh
# tests/integration/test_export_squid.sh - m365ctl export squid: Squid's own
# ACLs (acl m365_bypass in DIR/m365.conf) let through exactly the requests
# that ext_m365_acl answers OK for (no SNI), checked against a real Squid.
#
# For each run: m365ctl export squid -o DIR with the run's options;
# `squid -k parse` of a config that includes DIR/m365.conf prints no
# WARNING/ERROR; then a Squid with no helper at all on 127.0.0.1:FREEPORT:
#
#   include DIR/m365.conf
#   http_access allow m365_bypass
#   http_access deny !auth          (basic auth: everything else gets 407)
#   http_access deny all
#   never_direct allow all          (no peer: an allowed request ends at
#                                    once in 500/502, no DNS, no network)
#
# and tests/integration/squid_export_check.py sends several hundred
# requests through it with curl, plain (GET http://HOST:PORT/) and CONNECT
# (curl -p), and asks one helper process (same options) about each, for the
# host Squid saw and the port: Squid lets a request through (not 403/407)
# exactly when the helper says OK.  Disagreements are printed as
# "DISAGREE ..." lines; "NOTE ..." lines show hosts that curl or Squid
# rewrote before any ACL saw them (numeric IPv4 spellings, several trailing
# dots, %-escapes), where the helper's answer for the host as written
# differs.  Runs:
#   a. the bundled list, default policy
#   b. the bundled list and a local list (bypass/never names, ranges and
#      regexes): "acl m365_bypass all-of !m365_local_never m365_any"
#   c. the bundled list, --categories Optimize
#   d. the 2021 fixture with its sets of irregular globs (*cdn.onenote.net,
#      *-files.sharepoint.com, autodiscover.*.onmicrosoft.com; Default sets)
#      made Allow, and the local list of b
#   e. the bundled list and never regexes written for IP literals (IPv6
#      too: Squid shows an IPv6 host to dstdom_regex as "[2001:db8::1]")
# Each run also checks that Squid made no DNS lookup (its resolver's A/AAAA
# queries, logged at debug 78,3): the dst acls of m365.conf are meant for IP
# literals only.  A few spot checks per run pin the expected answer
# independently of both the export and the helper.
#
# Needs squid, curl and python3; as root Squid runs as user proxy.  No
# network.  About 30 s.  M365_CTL / M365_HELPER override the binaries.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

CTL=${M365_CTL:-$BUILD/m365ctl}
HELPER=${M365_HELPER:-$BUILD/ext_m365_acl}
CHECK=$ROOT/tests/integration/squid_export_check.py
PY=/usr/bin/python3
WW21=$FIXTURES/worldwide-2021-10-11.json
# The bundled list's JSON: only where the derived cases come from.
BUNDLED_JSON=$ROOT/lists/endpoints-worldwide.json
started=$(date +%s)

_passed=0
ok() {
	echo "PASS: $1"
	_passed=$((_passed + 1))
}

total() {
	echo "total: $_passed passed, $_failed failed ($(($(date +%s) - started)) s)"
	finish
}

abort() {
	not_ok "setup" "$1"
	total
}

for prog in squid curl; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ -x "$PY" ] || abort "$PY is missing"
[ -x "$CTL" ] || abort "$CTL is missing (make build/m365ctl)"
[ -x "$HELPER" ] || abort "$HELPER is missing (make build/ext_m365_acl)"

T=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$T'"
chmod 755 "$T"
# Copies: a rebuild in the middle of the test must not change the binaries.
if ! { mkdir "$T/bin" && cp "$CTL" "$T/bin/m365ctl" &&
	cp "$HELPER" "$T/bin/ext_m365_acl"; }; then
	abort "cannot copy $CTL and $HELPER"
fi
CTL=$T/bin/m365ctl
HELPER=$T/bin/ext_m365_acl

user=""
[ "$(id -u)" -eq 0 ] && user=proxy
demo_passwd "$T/passwd"
chmod 644 "$T/passwd"

cat >"$T/local.list" <<'EOF'
# the local list of the brief
bypass *.zoom.us
bypass 203.0.113.0/24
bypass re:^meet[0-9]+\.example\.net$
never teams.microsoft.com
never 52.112.1.0/24
never re:^10\.
bypass 2001:db8:abcd::/48
EOF

cat >"$T/local-ip-re.list" <<'EOF'
# never regexes written for IP literals, as the helper reads them (the
# normalised host: no brackets, IPv6 in its shortest form)
bypass 2001:db8:abcd::/48
bypass 203.0.113.0/24
never re:^2001:db8:abcd:1:
never re:^2603:1027::
never re:^52\.112\.0\.9$
never re:^203\.0\.113\.255$
EOF

# run NAME LISTJSON ARGS...: one export, parse, Squid and comparison with
# the options ARGS (given to m365ctl export squid and to the helper alike).
# Sets $d (the run's directory) and $squid_ok (1 when the comparison ran).
run() {
	name=$1
	json=$2
	shift 2
	d=$T/$name
	squid_ok=0
	mkdir -p "$d/log"
	if "$CTL" export squid -o "$d/acl" "$@" >"$d/export.out" 2>&1; then
		ok "$name: m365ctl export squid $*"
	else
		not_ok "$name: m365ctl export squid $*" "$(tail -n 5 "$d/export.out")"
		return
	fi
	check_match "$name: m365.conf defines acl m365_bypass" \
		"^acl m365_bypass " "$(grep '^acl m365_bypass ' "$d/acl/m365.conf")"

	port=$(free_port)
	cat >"$d/squid.conf" <<EOF
http_port 127.0.0.1:$port
include $d/acl/m365.conf
auth_param basic program /usr/lib/squid/basic_ncsa_auth $T/passwd
auth_param basic children 1 startup=0 idle=1
auth_param basic realm m365-export-test
acl auth proxy_auth REQUIRED
http_access allow m365_bypass
http_access deny !auth
http_access deny all
never_direct allow all
cache deny all
dns_nameservers 127.0.0.1
dns_timeout 1 seconds
dns_retransmit_interval 1 seconds
connect_timeout 2 seconds
hosts_file none
logformat m365chk %{X-Case}>h %>rm %'>rd %>rP %>Hs %Ss
access_log stdio:$d/log/access.log m365chk
cache_log $d/log/cache.log
pid_filename $d/log/squid.pid
coredump_dir $d/log
netdb_filename none
pinger_enable off
shutdown_lifetime 0 seconds
visible_hostname m365-export-test
debug_options ALL,1 78,3
${user:+cache_effective_user $user}
EOF
	[ -z "$user" ] || chown -R "$user" "$d/log"

	if squid -k parse -f "$d/squid.conf" >"$d/parse.log" 2>&1; then
		check_eq "$name: squid -k parse prints no WARNING/ERROR" "" \
			"$(grep -E 'WARNING|ERROR|FATAL|Bungled' "$d/parse.log")"
	else
		not_ok "$name: squid -k parse" "$(grep -E 'WARNING|ERROR|FATAL|Bungled' "$d/parse.log" | head -n 5)"
		return
	fi

	if ! squid_start "$d/squid.conf" "$d/squid.out" "$port"; then
		not_ok "$name: squid starts" "$(tail -n 5 "$d/squid.out" "$d/log/cache.log" 2>/dev/null)"
		_squid_stop "$_squid_pid"
		return
	fi
	"$PY" "$CHECK" --proxy "$port" --log "$d/log/access.log" --dir "$d" \
		--list "$json" -- "$HELPER" --metrics off "$@" >"$d/check.out" 2>&1
	rc=$?
	_squid_stop "$_squid_pid"
	# http_access must not look names up: m365.conf's dst acls are for
	# IP literals only (78,3 logs each A/AAAA query of Squid's resolver).
	check_eq "$name: Squid made no DNS lookup" "" \
		"$(sed -n 's/.*idnsALookup: buf is [0-9]* bytes for \([^,]*\),.*/\1/p' \
			"$d/log/cache.log" | sort -u | tr '\n' ' ')"
	grep -E '^(DISAGREE|ERROR) ' "$d/check.out" | head -n 80
	grep -E '^NOTE ' "$d/check.out" | head -n 20
	summary=$(tail -n 1 "$d/check.out")
	echo "# $name: $summary"
	if [ $rc -eq 0 ]; then
		ok "$name: Squid's m365_bypass agrees with the helper on every request"
	else
		not_ok "$name: Squid's m365_bypass agrees with the helper" "$summary"
	fi
	[ -s "$d/results.txt" ] && squid_ok=1
	# Not vacuous: some requests go through, some are denied.
	check_match "$name: some requests are let through, some denied" \
		'\([0-9]+ plain, [0-9]+ CONNECT, [1-9][0-9]* allowed by Squid, [1-9][0-9]* denied\)' \
		"$summary"
}

# expect WORD HOST PORT: every request of the run to HOST:PORT (plain and
# CONNECT) was WORD (through or denied) by Squid, and the helper agreed.
expect() {
	[ "$squid_ok" -eq 1 ] || return 0
	_helper=ERR
	[ "$1" = through ] && _helper=OK
	_lines=$(awk -v h="$2" -v p="$3" '$2 == h && $3 == p' "$d/results.txt")
	if [ -n "$_lines" ] && ! printf '%s\n' "$_lines" |
		awk -v w="$1" -v a="$_helper" '$5 != w || $6 != a { bad = 1 } END { exit !bad }'; then
		ok "$name: $2 port $3 is $1"
	else
		not_ok "$name: $2 port $3 is $1" "got [$(printf '%s' "$_lines" | tr '\n' ';')]"
	fi
}

# --- a. the bundled list, default policy ------------------------------------
run a-default "$BUNDLED_JSON"
expect through teams.microsoft.com 443
expect through a.teams.microsoft.com 443
expect through x.y.teams.microsoft.com 80
expect through contoso.sharepoint.com 443
expect through a.mail.protection.outlook.com 25
expect through 2603:1027::1 443
expect through 52.112.0.1 443
expect denied sharepoint.com 443
expect denied lync.com 443
expect denied teams.microsoft.com 8080
expect through a.mail.protection.outlook.com 443
expect denied a.mail.protection.outlook.com 8080
expect denied mail.protection.outlook.com 25
expect denied teams.microsoft.com.evil.example 443
expect denied xteams.microsoft.com 443
expect denied 52.116.0.1 443
expect denied 2603:1028::1 443
expect denied a.zoom.us 443

# --- b. a local list --------------------------------------------------------
run b-local "$BUNDLED_JSON" --local "$T/local.list"
check_eq "b-local: m365_bypass is all-of !m365_local_never m365_any" \
	"acl m365_bypass all-of !m365_local_never m365_any" \
	"$(grep '^acl m365_bypass ' "$d/acl/m365.conf" 2>/dev/null)"
expect denied teams.microsoft.com 443
expect through a.teams.microsoft.com 443
expect through a.zoom.us 443
expect through x.y.zoom.us 8080
expect denied zoom.us 443
expect through meet1.example.net 80
expect denied xmeet1.example.net 443
expect denied meet1.example.net.evil.example 443
expect through 203.0.113.5 25
expect denied 52.112.1.1 443
expect through 52.112.2.1 443
expect denied 10.0.0.1 443
expect denied 10.example.com 443
expect through 2001:db8:abcd::1 443
expect denied 2001:db8:abce::1 443

# --- c. --categories Optimize -----------------------------------------------
run c-optimize "$BUNDLED_JSON" --categories Optimize
expect denied teams.microsoft.com 443
expect through outlook.office365.com 443
expect through contoso.sharepoint.com 443
expect denied smtp.office365.com 587

# --- d. irregular globs: the 2021 list, and the local list ------------------
# Its irregular globs are in Default sets, and selecting Default makes both
# the export and the helper refuse the list (set 72's *.cloudapp.net covers
# a public suffix): a copy where the sets with irregular globs (39, 51, 154)
# are Allow.
"$PY" - "$WW21" "$T/ww21-irregular.json" <<'EOF' || abort "cannot write $T/ww21-irregular.json"
import json, sys
sets = json.load(open(sys.argv[1]))
for s in sets:
    if any("*" in u and not (u.startswith("*.") and "*" not in u[2:])
           for u in s.get("urls", [])):
        s["category"] = "Allow"
json.dump(sets, open(sys.argv[2], "w"), indent=1)
EOF
run d-2021-irregular "$T/ww21-irregular.json" --list "$T/ww21-irregular.json" \
	--local "$T/local.list"
expect through abccdn.onenote.net 443
expect through cdn.onenote.net 443
expect denied onenote.net 443
expect through contoso-files.sharepoint.com 443
expect through autodiscover.contoso.onmicrosoft.com 443
expect through autodiscover.a.b.onmicrosoft.com 80
expect denied autodiscover.contoso.onmicrosoft.com.evil.example 443
expect denied teams.microsoft.com 443

# --- e. never regexes for IP literals ---------------------------------------
run e-ip-regex "$BUNDLED_JSON" --local "$T/local-ip-re.list"
expect denied 52.112.0.9 443
expect through 52.112.0.1 443
expect denied 203.0.113.255 443
expect through 2001:db8:abcd::1 443
expect denied 2001:db8:abcd:1::5 443
expect denied 2603:1027::1 443

total
