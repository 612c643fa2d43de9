#!/bin/sh
# tests/integration/test_icap_squid.sh - srv_m365_bypass at the head of a
# real Squid's ICAP chain.
#
# Squid (Debian's squid-openssl 5.7) runs a config generated from the
# shipped examples, so that they cannot drift: contrib/squid/squid.conf
# through contrib/squid/mkconf.sh (as test_squid.sh does: basic auth for
# everyone, the external ACL helper's bypass ahead of it), plus
# contrib/squid/icap.conf as an --extra file with exactly two rewrites: the
# ICAP server's address 127.0.0.1:1344 becomes a private c-icap's port, and
# the scanner service avscan becomes c-icap's own echo (standing in for an
# antivirus).  The chain is then m365_bypass -> echo, routing=on, for REQMOD
# and RESPMOD.  c-icap (tests/icap_lib.sh) loads echo and the sanitizer
# build of the module (contrib/c-icap/m365_bypass.conf).  An origin server
# on 127.0.0.N ports 80, 8080 and 443 (plain HTTP, for CONNECT) serves every
# test name through Squid's hosts_file.  Proves:
#   - the generated config parses cleanly;
#   - plain-HTTP GETs and 200 KB POSTs pass through the chain unchanged;
#   - CONNECT requests go through REQMOD too (no RESPMOD): m365_bypass ends
#     the chain for teams.microsoft.com:443, echo sees example.com:443;
#   - echo (the scanner) never sees a Microsoft 365 bypass, in either mode,
#     and sees everything else; m365_bypass sees every request;
#   - the external ACL side of the example: Microsoft names need no proxy
#     credentials, everything else does;
#   - Squid received m365_bypass's X-M365-Category (%adapt::<last_h);
#   - with c-icap killed, Squid answers at once and fails closed: 500
#     ERR_ICAP_FAILURE for every GET, Microsoft 365 included (echo is
#     bypass=off), nothing reaches the origin (see the section's comment);
#   - no sanitizer report, no c-icap child replaced.
# Takes about 3 s.
#
# Needs root (the origin binds ports 80 and 443; Squid drops to user proxy), squid,
# c-icap (with srv_echo.so), curl, python3, htpasswd or openssl.  No network.
# M365_HELPER overrides the helper (default build/ext_m365_acl),
# M365_ICAP_MODULE the module (default build/san/srv_m365_bypass.so).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/icap_lib.sh
. "$ROOT/tests/icap_lib.sh"

HELPER=${M365_HELPER:-$BUILD/ext_m365_acl}
MODULE=${M365_ICAP_MODULE:-$BUILD/san/srv_m365_bypass.so}
MARKER="m365-icap-origin-ok"
tmp=""
cdir=""

# diagnostics: what Squid, c-icap and the origin said (on failure).
diagnostics() {
	[ -n "$tmp" ] || return 0
	for f in squid.out cache.log access.log origin.log; do
		[ -s "$tmp/$f" ] || continue
		echo "--- tail of squid $f" >&2
		tail -n 30 "$tmp/$f" >&2
	done
	[ -n "$cdir" ] && cicap_diagnostics "$cdir"
}

abort() {
	not_ok "setup" "$1"
	diagnostics
	finish
}

for prog in squid c-icap c-icap-config curl python3 sha256sum; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ "$(id -u)" -eq 0 ] || abort "needs root (origin on port 80, Squid as proxy)"
[ -x "$HELPER" ] || abort "$HELPER is missing (make all)"
[ -f "$MODULE" ] || abort "$MODULE is missing (make build/san/srv_m365_bypass.so)"
[ -f "$(c-icap-config --modulesdir)/srv_echo.so" ] || abort "c-icap's srv_echo.so is missing"

tmp=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$tmp'"
chmod 755 "$tmp"
cdir=$tmp/cicap
mkdir "$cdir" || abort "mkdir $cdir"

# --- origin: 127.0.0.N ports 80, 8080 and 443 (plain HTTP) ------------------------
# GET answers "MARKER HOST PORT PATH"; POST answers "MARKER HOST PORT PATH
# sha256=HEX len=N" of the body it received (Content-Length or chunked).
origin_start "$tmp" "$MARKER" ||
	abort "origin server did not start: $(cat "$tmp/origin.log")"

# --- c-icap: echo and m365_bypass (sanitizer build) ---------------------------
cicap_m365_conf "$cdir/m365.conf" "$MODULE" ||
	abort "contrib/c-icap/m365_bypass.conf has no single Service line to rewrite"
started=""
# shellcheck disable=SC2046 # the environment assignments, one a word
cicap_launch "$cdir" "$cdir/m365.conf" env $(cicap_asan_env "$cdir") \
	2>"$tmp/cicap-start.err" && started=1
cport=$CICAP_PORT
[ -n "$started" ] || abort "c-icap did not start: $(head -n 3 "$tmp/cicap-start.err")"
kids_start=$(cicap_children "$cdir" | sort -n | tr '\n' ' ')

# --- Squid config: squid.conf + icap.conf, both through mkconf.sh --------------
names="teams.microsoft.com outlook.office365.com example.com www.bbc.co.uk"
names="$names teams.microsoft.com.evil.example"
echo "$origin $names" >"$tmp/hosts"

demo_passwd "$tmp/passwd"

# The two rewrites of icap.conf, each counted where it must hit.
ICAP_EX=$ROOT/contrib/squid/icap.conf
n_addr=$(grep -c '^icap_service .*icap://127\.0\.0\.1:1344/' "$ICAP_EX")
n_av=$(grep -c '^icap_service .*icap://127\.0\.0\.1:1344/avscan ' "$ICAP_EX")
n_svc=$(grep -c '^icap_service ' "$ICAP_EX")
check_eq "icap.conf rewrite 1 hits: all 4 icap_service lines use 127.0.0.1:1344" "4 4" "$n_svc $n_addr"
check_eq "icap.conf rewrite 2 hits: 2 icap_service lines name the scanner avscan" 2 "$n_av"
sed -e "s#icap://127\\.0\\.0\\.1:1344/#icap://127.0.0.1:$cport/#" \
	-e "s#\\(icap://127\\.0\\.0\\.1:$cport\\)/avscan #\\1/echo #" \
	"$ICAP_EX" >"$tmp/icap.conf"
check_eq "rewritten icap.conf: 4 services on c-icap's port, 2 of them echo, no avscan or 1344 left" \
	"4 2 0" \
	"$(grep -c "^icap_service .*icap://127\\.0\\.0\\.1:$cport/" "$tmp/icap.conf") $(grep -c "^icap_service .*icap://127\\.0\\.0\\.1:$cport/echo " "$tmp/icap.conf") $(grep -Ec 'avscan|:1344' "$tmp/icap.conf")"
check_eq "rewritten icap.conf differs from the example in exactly those 4 lines" 4 \
	"$(diff "$ICAP_EX" "$tmp/icap.conf" | grep -c '^>')"

port=$(free_port)
{
	cat "$tmp/icap.conf"
	cat <<EOF

# --- test runtime settings
hosts_file $tmp/hosts
dns_nameservers 127.0.0.1
cache deny all
shutdown_lifetime 0 seconds
pinger_enable off
visible_hostname m365-icap-test
connect_timeout 5 seconds
logformat icapx %rm %ru %>Hs m365_icap=%adapt::<last_h{X-M365-Category}
access_log stdio:$tmp/icap-access.log icapx
EOF
} >"$tmp/extra.conf"

# Squid and its helpers run as proxy: they must reach the helper.
if ! runuser -u proxy -- test -x "$HELPER"; then
	cp "$HELPER" "$tmp/ext_m365_acl"
	HELPER="$tmp/ext_m365_acl"
fi
if sh "$ROOT/contrib/squid/mkconf.sh" --dir "$tmp" --port "127.0.0.1:$port" \
	--helper "$HELPER" --passwd "$tmp/passwd" --user proxy \
	--extra "$tmp/extra.conf" >"$tmp/squid.conf" 2>"$tmp/mkconf.err"; then
	ok "mkconf.sh generates a config from squid.conf + the rewritten icap.conf"
else
	abort "mkconf.sh: $(cat "$tmp/mkconf.err")"
fi
# Squid (as proxy) writes its logs and pid file in $tmp; c-icap's own
# directory stays root's.
chown proxy "$tmp"

if squid -k parse -f "$tmp/squid.conf" >"$tmp/parse.log" 2>&1; then
	check_eq "squid -k parse: no ERROR/WARNING/FATAL line at all" "" \
		"$(grep -E 'ERROR|WARNING|FATAL|Bungled' "$tmp/parse.log")"
	check_eq "squid -k parse: nothing about ICAP or adaptation but the directives" "" \
		"$(grep -Ei 'icap|adapt' "$tmp/parse.log" | grep -v 'Processing: ')"
	check_eq "squid -k parse: the 4 icap_service and 2 adaptation_service_chain lines processed" "4 2" \
		"$(grep -c 'Processing: icap_service ' "$tmp/parse.log") $(grep -c 'Processing: adaptation_service_chain ' "$tmp/parse.log")"
else
	abort "squid -k parse failed: $(tail -n 5 "$tmp/parse.log")"
fi

squid_start "$tmp/squid.conf" "$tmp/squid.out" "$port" || abort "squid did not start listening on 127.0.0.1:$port"
ok "squid starts on 127.0.0.1:$port"

# --- requests through the proxy --------------------------------------------------

# req URL [CURL ARGS...]: prints "HTTP_CODE SECONDS BODY-FIRST-LINE".
req() {
	_u=$1
	shift
	rm -f "$tmp/body"
	_w=$(curl -s --max-time 20 -o "$tmp/body" -w '%{http_code} %{time_total}' \
		-x "http://127.0.0.1:$port" "$@" "$_u" 2>/dev/null)
	printf '%s %s\n' "$_w" "$(head -c 300 "$tmp/body" 2>/dev/null | head -n 1)"
}

# code_body URL [CURL ARGS...]: "HTTP_CODE BODY-FIRST-LINE".
code_body() { req "$@" | cut -d' ' -f1,3-; }

MS="teams.microsoft.com outlook.office365.com"
OTHER="example.com www.bbc.co.uk teams.microsoft.com.evil.example"

# Microsoft 365 names: without credentials (the helper's bypass).
for h in $MS; do
	check_eq "GET http://$h/ without credentials: 200 with the origin's body" \
		"200 $MARKER $h 80 /get/$h" "$(code_body "http://$h/get/$h")"
done
# Everything else: 407 without credentials, 200 with.
for h in $OTHER; do
	check_eq "GET http://$h/ without credentials: 407 (the example's auth)" 407 \
		"$(code_body "http://$h/noauth/$h" | cut -d' ' -f1)"
	check_eq "GET http://$h/ with demo credentials: 200 with the origin's body" \
		"200 $MARKER $h 80 /get/$h" "$(code_body "http://$h/get/$h" -U demo:demo)"
done
# An unlisted port of a Microsoft name: the helper says no (407), and with
# credentials m365_bypass says "inspect": the scanner sees it.
check_eq "GET http://teams.microsoft.com:8080/ without credentials: 407 (unlisted port)" 407 \
	"$(code_body "http://teams.microsoft.com:8080/noauth/teams8080" | cut -d' ' -f1)"
check_eq "GET http://teams.microsoft.com:8080/ with demo credentials: 200 with the origin's body" \
	"200 $MARKER teams.microsoft.com:8080 8080 /get/teams8080" \
	"$(code_body "http://teams.microsoft.com:8080/get/teams8080" -U demo:demo)"
check_eq "GET http://example.com:8080/ with demo credentials: 200 with the origin's body" \
	"200 $MARKER example.com:8080 8080 /get/example8080" \
	"$(code_body "http://example.com:8080/get/example8080" -U demo:demo)"

# 200 KB POSTs, a checksum of what the origin received.
python3 -c '
import sys
sys.stdout.buffer.write(bytes((i * 7919 + (i >> 8)) % 256 for i in range(204800)))' >"$tmp/post.bin"
post_sum=$(sha256sum "$tmp/post.bin" | cut -d' ' -f1)
check_eq "POST 200 KB to http://teams.microsoft.com/ (no credentials): the origin got the body unchanged" \
	"200 $MARKER teams.microsoft.com 80 /post/teams sha256=$post_sum len=204800" \
	"$(code_body "http://teams.microsoft.com/post/teams" --data-binary "@$tmp/post.bin" \
		-H 'Content-Type: application/octet-stream')"
check_eq "POST 200 KB to http://example.com/ (credentials): the origin got the body unchanged" \
	"200 $MARKER example.com 80 /post/example sha256=$post_sum len=204800" \
	"$(code_body "http://example.com/post/example" --data-binary "@$tmp/post.bin" \
		-H 'Content-Type: application/octet-stream' -U demo:demo)"

# CONNECT (the origin's port 443 speaks plain HTTP inside the tunnel).
check_eq "CONNECT teams.microsoft.com:443 without credentials: tunnel up, origin's body through it" \
	"200 $MARKER teams.microsoft.com:443 443 /conn/teams" \
	"$(code_body "http://teams.microsoft.com:443/conn/teams" -p)"
check_eq "CONNECT example.com:443 without credentials: the proxy answers the CONNECT 407" 407 \
	"$(curl -s --max-time 20 -o /dev/null -w '%{http_connect}' -x "http://127.0.0.1:$port" \
		-p "http://example.com:443/noauth/conn" 2>/dev/null)"
check_eq "CONNECT example.com:443 with demo credentials: tunnel up, origin's body through it" \
	"200 $MARKER example.com:443 443 /conn/example" \
	"$(code_body "http://example.com:443/conn/example" -p -U demo:demo)"

# --- what c-icap saw ---------------------------------------------------------------
# Each HTTP request that passed http_access went through REQMOD and RESPMOD:
# 2 m365_bypass lines each, and 2 echo lines for each non-bypass; each
# CONNECT through REQMOD only.  Plus one OPTIONS per icap_service.
n_ms=3    # teams GET, outlook GET, teams POST
n_other=6 # example, bbc, look-alike, teams:8080, example:8080 GETs, example POST
expect=$(( (n_ms + n_other) * 2 + n_other * 2 + 3 + 4 ))
if cicap_wait_access "$cdir" "$expect" 10; then
	ok "c-icap access log: $expect lines (9 requests x 2 modes on m365_bypass, 6 x 2 on echo, 2 + 1 CONNECT, 4 OPTIONS)"
else
	not_ok "c-icap access log: $expect lines" "$(wc -l <"$cdir/access.log") lines"
fi
cp "$cdir/access.log" "$tmp/cicap-access.snap"
A=$tmp/cicap-access.snap
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4}'

# seen MODE SERVICE URL: how many access log lines for it.
seen() { grep -Ec "^$ts $1 $2 [0-9]{3} $3 " "$A"; }

for h in example.com www.bbc.co.uk teams.microsoft.com.evil.example; do
	hr=$(printf '%s' "$h" | sed 's/[.]/\\./g')
	check_eq "echo (the scanner) saw http://$h/ in REQMOD and RESPMOD" "1 1" \
		"$(seen REQMOD echo "http://$hr/get/$hr") $(seen RESPMOD echo "http://$hr/get/$hr")"
done
check_eq "echo saw teams.microsoft.com:8080 (unlisted port: inspected), REQMOD and RESPMOD" "1 1" \
	"$(seen REQMOD echo 'http://teams\.microsoft\.com:8080/get/teams8080') $(seen RESPMOD echo 'http://teams\.microsoft\.com:8080/get/teams8080')"
check_eq "echo saw example.com:8080, REQMOD and RESPMOD" "1 1" \
	"$(seen REQMOD echo 'http://example\.com:8080/get/example8080') $(seen RESPMOD echo 'http://example\.com:8080/get/example8080')"
check_eq "echo saw the 200 KB POST to example.com, REQMOD and RESPMOD" "1 1" \
	"$(seen REQMOD echo 'http://example\.com/post/example') $(seen RESPMOD echo 'http://example\.com/post/example')"
check_eq "echo never saw teams.microsoft.com (port 80) or outlook.office365.com, either mode" "" \
	"$(grep -E "^$ts (REQMOD|RESPMOD) echo [0-9]{3} http://(teams\\.microsoft\\.com|outlook\\.office365\\.com)(/|:80/)" "$A")"
check_eq "echo never saw the 200 KB POST to teams.microsoft.com" 0 \
	"$(grep -c 'echo .*/post/teams' "$A")"
missing=""
for u in "http://teams.microsoft.com/get/teams.microsoft.com" \
	"http://outlook.office365.com/get/outlook.office365.com" \
	"http://teams.microsoft.com/post/teams" \
	"http://example.com/get/example.com" "http://www.bbc.co.uk/get/www.bbc.co.uk" \
	"http://teams.microsoft.com.evil.example/get/teams.microsoft.com.evil.example" \
	"http://teams.microsoft.com:8080/get/teams8080" "http://example.com:8080/get/example8080" \
	"http://example.com/post/example"; do
	re=$(printf '%s' "$u" | sed 's/[.]/\\./g')
	for m in REQMOD RESPMOD; do
		[ "$(seen $m m365_bypass "$re")" -eq 1 ] || missing="$missing $m:$u"
	done
done
check_eq "m365_bypass saw every request that passed http_access, in REQMOD and RESPMOD" "" "$missing"
check_eq "CONNECT teams.microsoft.com:443: m365_bypass saw it (REQMOD), echo never did" "1 0" \
	"$(seen REQMOD m365_bypass 'teams\.microsoft\.com:443') $(grep -Ec "^$ts [A-Z]+ echo [0-9]+ teams\.microsoft\.com:443 " "$A")"
check_eq "CONNECT example.com:443: m365_bypass and echo saw it (REQMOD)" "1 1" \
	"$(seen REQMOD m365_bypass 'example\.com:443') $(seen REQMOD echo 'example\.com:443')"
check_eq "CONNECT: no RESPMOD for a tunnel" 0 "$(grep -Ec "^$ts RESPMOD [^ ]+ [0-9]+ [a-z.]+:443 " "$A")"
check_eq "c-icap never saw a request Squid answered 407" 0 "$(grep -c '/noauth/' "$A")"
check_eq "every ICAP answer in the log is 204 or 200 (no errors)" "" \
	"$(grep -Ev "^$ts (REQMOD|RESPMOD|OPTIONS) (m365_bypass|echo) (200|204) " "$A")"

check_eq "m365_bypass answered every REQMOD and RESPMOD with 204" "" \
	"$(grep -E "^$ts (REQMOD|RESPMOD) m365_bypass " "$A" | grep -Ev "^$ts [A-Z]+ m365_bypass 204 ")"

# --- what Squid logged -------------------------------------------------------------
# The native access log (the example's m365 format): the Microsoft 365
# requests were allowed by the helper's bypass, without a user name.

# sqlog URL_REGEX: the user and annotations Squid logged for URL's 200.
sqlog() {
	sed -n "s#^.* TCP_MISS/200 [0-9]* [A-Z]* $1 \([^ ]*\) HIER_DIRECT/[^ ]* [^ ]* \(m365_category=.*\)\$#\1 \2#p" \
		"$tmp/access.log" | head -n 1
}
check_eq "Squid's access.log: GET teams.microsoft.com allowed by the helper (no user, m365_category=Allow)" \
	"- m365_category=Allow m365_service=Skype m365_set=12" \
	"$(sqlog 'http://teams\.microsoft\.com/get/teams\.microsoft\.com')"
check_eq "Squid's access.log: GET outlook.office365.com allowed by the helper (no user, m365_category=Optimize)" \
	"- m365_category=Optimize m365_service=Exchange m365_set=1" \
	"$(sqlog 'http://outlook\.office365\.com/get/outlook\.office365\.com')"
check_eq "Squid's access.log: GET example.com allowed for user demo, no m365 annotation" \
	"demo m365_category=- m365_service=- m365_set=-" \
	"$(sqlog 'http://example\.com/get/example\.com')"

# adapt::<last_h: the ICAP headers of the request's last ICAP answer.  For a
# bypass that is m365_bypass's own (echo never asked); otherwise echo's.
# adapt::<last_h: the ICAP headers of the request's last ICAP answer.  For a
# bypass that is m365_bypass's own (echo never asked); otherwise echo's.

# icapcat URL_REGEX: the m365_icap= value Squid logged for the URL.
icapcat() {
	sed -n "s#^[A-Z]* $1 200 m365_icap=\\(.*\\)\$#\\1#p" "$tmp/icap-access.log" | head -n 1
}
check_eq "Squid got X-M365-Category from m365_bypass: teams (Allow), outlook (Optimize), teams POST (Allow)" \
	"Allow Optimize Allow" \
	"$(icapcat 'http://teams\.microsoft\.com/get/teams\.microsoft\.com') $(icapcat 'http://outlook\.office365\.com/get/outlook\.office365\.com') $(icapcat 'http://teams\.microsoft\.com/post/teams')"
check_eq "the scanned requests' last ICAP answer (echo's) has no X-M365-Category" "- - - - - -" \
	"$(for u in 'http://example\.com/get/example\.com' 'http://www\.bbc\.co\.uk/get/www\.bbc\.co\.uk' \
		'http://teams\.microsoft\.com\.evil\.example/get/teams\.microsoft\.com\.evil\.example' \
		'http://teams\.microsoft\.com:8080/get/teams8080' 'http://example\.com:8080/get/example8080' \
		'http://example\.com/post/example'; do icapcat "$u"; done | tr '\n' ' ' | sed 's/ $//')"

# --- c-icap's health while it was up ----------------------------------------------
kids_now=$(cicap_children "$cdir" | sort -n | tr '\n' ' ')
check_eq "c-icap children unchanged while it was up (no child crashed or replaced)" \
	"$kids_start" "$kids_now"
info=$(cicap_info "$cport")
check_match "c-icap info: 0 crashed processes" '^Crashed Processes: 0$' "$info"
check_match "c-icap info: m365_bypass counted 20 requests (9 x 2 modes + 2 CONNECT)" \
	'^m365 requests : 20$' "$info"
check_match "c-icap info: m365 bypassed 7 (teams, outlook, teams POST x 2 modes, CONNECT teams)" \
	'^m365 bypassed : 7$' "$info"
check_eq "no sanitizer report from c-icap while up" "" "$(cicap_asan_reports "$cdir")"

# --- c-icap killed while Squid runs ---------------------------------------------------
# Squid's real behaviour (5.7): m365 (bypass=on) is skipped and the chain
# goes on to echo (bypass=off), which is essential and down too: every GET,
# Microsoft 365 or not, is answered at once with ERR_ICAP_FAILURE (500).  A
# POST whose 200 KB body Squid had started to buffer for the ICAP server
# gets no answer at all: Squid closes the connection at once (curl: empty
# reply).  Both services sit on one c-icap here, so the bypass fails
# closed, never open.  What must hold: Squid answers (or closes) at once,
# and never forwards a request around the scanner.
cmain=$(cicap_main_pid "$cdir")
leftovers=""
for fd in "/proc/$cmain/fd/"*; do
	f=$(readlink "$fd" 2>/dev/null) || continue
	case $f in
	/dev/shm/c-icap-shared-* | /tmp/icap_lock_*) leftovers="$leftovers $f" ;;
	esac
done
# shellcheck disable=SC2046 # pids, one a word
kill -KILL $(cicap_pids "$cdir") 2>/dev/null
cicap_stop "$cdir" >/dev/null 2>&1
for f in $leftovers; do rm -f "$f"; done
check_eq "c-icap killed: no c-icap process left" "" "$(cicap_pids "$cdir" | tr '\n' ' ')"
before=$(grep -c . "$tmp/origin.log")

# down NAME EXPECTED_REGEX URL [CURL ARGS]: Squid's answer ("CODE
# X-Squid-Error", or "000 -" for none) matches, within 5 s.
down() {
	_n=$1
	_x=$2
	_u=$3
	shift 3
	: >"$tmp/hdr"
	_w=$(curl -s --max-time 20 -o /dev/null -D "$tmp/hdr" -w '%{http_code} %{time_total}' \
		-x "http://127.0.0.1:$port" "$@" "$_u" 2>/dev/null)
	_e=$(sed -n 's/^X-Squid-Error: \([A-Z_]*\).*/\1/p' "$tmp/hdr" | tr -d '\r')
	_c="${_w% *} ${_e:--}"
	_t=${_w#* }
	if printf '%s\n' "$_c" | grep -Eq "^($_x)\$" && awk "BEGIN { exit !($_t < 5) }"; then
		ok "$_n [$_c, ${_t} s]"
	else
		not_ok "$_n" "got [$_c] after ${_t} s"
	fi
}
down "c-icap down, POST 200 KB to teams.microsoft.com: closed at once (no answer) or 500 ERR_ICAP_FAILURE, within 5 s" \
	'000 -|500 ERR_ICAP_FAILURE' "http://teams.microsoft.com/downpost1" --data-binary "@$tmp/post.bin" \
	-H 'Content-Type: application/octet-stream'
for i in 1 2 3 4 5 6; do
	down "c-icap down, GET teams.microsoft.com #$i: 500 ERR_ICAP_FAILURE within 5 s (fail-closed, no hang)" \
		'500 ERR_ICAP_FAILURE' "http://teams.microsoft.com/down$i"
	down "c-icap down, GET example.com #$i (credentials): 500 ERR_ICAP_FAILURE within 5 s" \
		'500 ERR_ICAP_FAILURE' "http://example.com/down$i" -U demo:demo
done
down "c-icap down, services suspended, POST 200 KB to teams.microsoft.com: 500 ERR_ICAP_FAILURE within 5 s" \
	'500 ERR_ICAP_FAILURE' "http://teams.microsoft.com/downpost2" --data-binary "@$tmp/post.bin" \
	-H 'Content-Type: application/octet-stream'
check_eq "c-icap down: no request reached the origin around the scanner" "$before" \
	"$(grep -c . "$tmp/origin.log")"
# After more than icap_service_failure_limit (10) failures Squid suspends
# both services, and says which kind each one is.
check_match "cache.log: m365_bypass (bypass=on) suspended as an optional service" \
	"optional ICAP service is suspended: icap://127\\.0\\.0\\.1:$cport/m365_bypass " \
	"$(grep -a 'ICAP service is suspended' "$tmp/cache.log")"
check_match "cache.log: echo (bypass=off) suspended as an essential service" \
	"essential ICAP service is suspended: icap://127\\.0\\.0\\.1:$cport/echo " \
	"$(grep -a 'ICAP service is suspended' "$tmp/cache.log")"
check_eq "still no sanitizer report from c-icap" "" "$(cicap_asan_reports "$cdir")"
if kill -0 "$_squid_pid" 2>/dev/null; then
	ok "squid still running after c-icap died"
else
	not_ok "squid still running after c-icap died" "it exited"
fi

[ "$_failed" -eq 0 ] || diagnostics
finish
