#!/bin/sh
# tests/integration/test_squid.sh - ext_m365_acl behind a real Squid.
#
# Starts Squid on a free loopback port with a config generated from
# contrib/squid/squid.conf by contrib/squid/mkconf.sh (basic auth for
# everyone, the bypass ahead of it, the helper on its bundled list), and an
# origin server on 127.0.0.N ports 80, 443 and 8080 that the test names map to
# through Squid's hosts_file.  Then asks through the proxy with curl:
# Microsoft 365 names pass without credentials, everything else gets 407.
#
# Needs root (the origin binds ports 80 and 443; Squid drops to user proxy),
# squid, curl, python3 and htpasswd or openssl.  No network: every name is in
# the hosts_file.  M365_HELPER overrides the helper (default build/ext_m365_acl).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

HELPER=${M365_HELPER:-$BUILD/ext_m365_acl}
MARKER="m365-bypass-origin-ok"
tmp=""

# diagnostics: what Squid, the helper and the origin said (on failure).
diagnostics() {
	[ -n "$tmp" ] || return 0
	for f in cache.log access.log origin.log; do
		[ -f "$tmp/$f" ] || continue
		echo "--- tail of $f" >&2
		tail -n 40 "$tmp/$f" >&2
	done
}

# abort REASON: one FAIL line, the diagnostics, and out.
abort() {
	not_ok "setup" "$1"
	diagnostics
	finish
}

for prog in squid curl python3; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ -x "$HELPER" ] || abort "$HELPER is missing (make all)"

tmp=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$tmp'"
chmod 755 "$tmp"

# --- origin: 200 + marker on 127.0.0.N:80, :443 (plain HTTP), :8080 ---------
origin_start "$tmp" "$MARKER" ||
	abort "origin server did not start: $(cat "$tmp/origin.log")"

# --- Squid config: the example, plus the test's hosts_file and a second port --
names="teams.microsoft.com outlook.office365.com x.y.teams.microsoft.com"
names="$names intranet.example teams.microsoft.com.evil.example evilteams.microsoft.com"
echo "$origin $names" >"$tmp/hosts"

demo_passwd "$tmp/passwd"

port=$(free_port)
teams_port=$(free_port)
while [ "$teams_port" = "$port" ]; do teams_port=$(free_port); done

# On the second port (name=teams_only) only Teams (service area Skype)
# bypasses: the note ACL reads the annotation the helper's answer set.
cat >"$tmp/before-bypass.conf" <<EOF
acl m365_teams note m365_service Skype
acl teams_only_port myportname teams_only
http_access allow teams_only_port m365_bypass m365_teams
http_access allow teams_only_port authenticated
http_access deny teams_only_port
EOF

cat >"$tmp/extra.conf" <<EOF
http_port 127.0.0.1:$teams_port name=teams_only
hosts_file $tmp/hosts
dns_nameservers 127.0.0.1
cache deny all
shutdown_lifetime 0 seconds
pinger_enable off
visible_hostname m365-bypass-test
connect_timeout 5 seconds
EOF

user=""
if [ "$(id -u)" -eq 0 ]; then
	user=proxy
	# Squid and its helpers run as proxy: they must reach the helper.
	if ! runuser -u proxy -- test -x "$HELPER"; then
		cp "$HELPER" "$tmp/ext_m365_acl"
		HELPER="$tmp/ext_m365_acl"
	fi
fi

if sh "$ROOT/contrib/squid/mkconf.sh" --dir "$tmp" --port "127.0.0.1:$port" \
	--helper "$HELPER" --passwd "$tmp/passwd" ${user:+--user "$user"} \
	--before-bypass "$tmp/before-bypass.conf" --extra "$tmp/extra.conf" \
	>"$tmp/squid.conf" 2>"$tmp/mkconf.err"; then
	ok "mkconf.sh generates a config from the example"
else
	abort "mkconf.sh: $(cat "$tmp/mkconf.err")"
fi
[ -z "$user" ] || chown -R "$user" "$tmp"

if squid -k parse -f "$tmp/squid.conf" >"$tmp/parse.log" 2>&1; then
	bad=$(grep -E 'ERROR|WARNING|FATAL|Bungled' "$tmp/parse.log")
	check_eq "squid -k parse accepts the config without complaint" "" "$bad"
else
	abort "squid -k parse failed: $(tail -n 5 "$tmp/parse.log")"
fi

if ! squid_start "$tmp/squid.conf" "$tmp/squid.out" "$port" ||
	! wait_port "$teams_port" 5; then
	cat "$tmp/squid.out" >>"$tmp/cache.log" 2>/dev/null
	abort "squid did not start listening on 127.0.0.1:$port"
fi
ok "squid starts on 127.0.0.1:$port"

# --- requests through the proxy ------------------------------------------------

# get PORT URL [CURL ARGS...]: prints "HTTP_CODE CONNECT_CODE BODY" where
# CONNECT_CODE is the proxy's answer to CONNECT (000 without -p).
get() {
	_p=$1
	_u=$2
	shift 2
	rm -f "$tmp/body"
	_codes=$(curl -s --max-time 20 -o "$tmp/body" -w '%{http_code} %{http_connect}' \
		-x "http://127.0.0.1:$_p" "$@" "$_u" 2>/dev/null)
	printf '%s %s\n' "$_codes" "$(head -c 200 "$tmp/body" 2>/dev/null | head -n 1)"
}

# passes NAME URL [CURL ARGS...]: 200 from the origin, through the proxy.
passes() {
	_n=$1
	shift
	check_match "$_n" "^200 (000|200) $MARKER " "$(get "$port" "$@")"
}

# challenged NAME URL [CURL ARGS...]: the proxy answers 407.
challenged() {
	_n=$1
	shift
	check_match "$_n" "^(407 000|000 407|407 407)( |$)" "$(get "$port" "$@")"
}

passes "teams.microsoft.com passes without credentials" \
	http://teams.microsoft.com/
passes "outlook.office365.com passes without credentials" \
	http://outlook.office365.com/
passes "x.y.teams.microsoft.com (*.teams.microsoft.com) passes without credentials" \
	http://x.y.teams.microsoft.com/
passes "CONNECT teams.microsoft.com:443 passes without credentials" \
	-p http://teams.microsoft.com:443/
passes "CONNECT outlook.office365.com:443 passes without credentials" \
	-p http://outlook.office365.com:443/

challenged "intranet.example gets 407 without credentials" \
	http://intranet.example/
passes "intranet.example passes with demo credentials" \
	http://intranet.example/ -U demo:demo
challenged "CONNECT intranet.example:443 gets 407 without credentials" \
	-p http://intranet.example:443/
passes "CONNECT intranet.example:443 passes with demo credentials" \
	-p http://intranet.example:443/ -U demo:demo
challenged "wrong password gets 407" \
	http://intranet.example/ -U demo:wrong

challenged "look-alike teams.microsoft.com.evil.example gets 407" \
	http://teams.microsoft.com.evil.example/
challenged "look-alike evilteams.microsoft.com gets 407" \
	http://evilteams.microsoft.com/
challenged "CONNECT look-alike evilteams.microsoft.com:443 gets 407" \
	-p http://evilteams.microsoft.com:443/
challenged "teams.microsoft.com on unlisted port 8080 gets 407" \
	http://teams.microsoft.com:8080/
passes "teams.microsoft.com:8080 passes with demo credentials" \
	http://teams.microsoft.com:8080/ -U demo:demo
passes "teams.microsoft.com passes with credentials too" \
	http://teams.microsoft.com/ -U demo:demo

# The note ACL: on the teams_only port only service area Skype bypasses.
check_match "note acl: teams.microsoft.com (Skype) passes on the Teams-only port" \
	"^200 000 $MARKER " "$(get "$teams_port" http://teams.microsoft.com/)"
check_match "note acl: outlook.office365.com (Exchange) gets 407 on the Teams-only port" \
	"^407 000" "$(get "$teams_port" http://outlook.office365.com/)"
check_match "note acl: outlook.office365.com passes with credentials on the Teams-only port" \
	"^200 000 $MARKER " "$(get "$teams_port" http://outlook.office365.com/ -U demo:demo)"

# --- the access log carries the helper's annotations ----------------------------

# logline REGEX: the first access.log line matching REGEX (waits up to 5 s).
logline() {
	i=0
	while [ $i -lt 50 ]; do
		_l=$(grep -E -- "$1" "$tmp/access.log" 2>/dev/null | head -n 1)
		[ -n "$_l" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	printf '%s\n' "$_l"
}

check_match "access.log: teams.microsoft.com logged with m365_category=Allow" \
	"m365_category=Allow m365_service=Skype m365_set=12$" \
	"$(logline ' GET http://teams\.microsoft\.com/ ')"
check_match "access.log: outlook.office365.com logged with m365_category=Optimize" \
	"m365_category=Optimize m365_service=Exchange m365_set=1$" \
	"$(logline ' GET http://outlook\.office365\.com/ ')"
check_match "access.log: CONNECT teams.microsoft.com:443 logged with m365_category=Allow" \
	"m365_category=Allow m365_service=Skype m365_set=12$" \
	"$(logline ' CONNECT teams\.microsoft\.com:443 ')"
check_match "access.log: evilteams.microsoft.com (ERR, *.microsoft.com is Default) logged with m365_category=Default" \
	"m365_category=Default m365_service=- m365_set=-$" \
	"$(logline ' GET http://evilteams\.microsoft\.com/ ')"
check_match "access.log: intranet.example logged without m365 annotations" \
	"m365_category=- m365_service=- m365_set=-$" \
	"$(logline ' GET http://intranet\.example/ ')"

[ "$_failed" -eq 0 ] || diagnostics
finish
