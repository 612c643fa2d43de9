#!/bin/sh
# tests/integration/test_icap.sh - srv_m365_bypass inside a real c-icap,
# driven over ICAP the way Squid drives it.
#
# Every c-icap here runs the sanitizer build of the module
# (build/san/srv_m365_bypass.so, ASan+UBSan) with the ASan runtime preloaded
# into c-icap, configured from the shipped contrib/c-icap/m365_bypass.conf
# (tests/icap_lib.sh cicap_m365_conf) plus the directives under test:
#
#   main      the shipped snippet as is: OPTIONS; REQMOD in the three forms
#             (absolute URL, Host header, CONNECT) for real Microsoft names,
#             globs, ports, IP literals, look-alikes and malformed
#             destinations; RESPMOD; bodies; c-icap's echo (no preview, no
#             Allow: 204); every statistic; the children outlive it all.
#   local     m365_bypass.LocalList + NextServices, statistics from zero.
#   optimize  m365_bypass.Categories Optimize.
#   exchange  m365_bypass.ServiceAreas Exchange.
#   list2024  m365_bypass.ListFile tests/fixtures/worldwide-2024-04-17.json.
#   default   m365_bypass.Categories Optimize,Allow,Default.
#   bad-*     one c-icap per bad directive value: each must stop at startup
#             (status 1, never listening) naming the directive in its log.
#
# Found by this test and kept as regressions: the echo of a body over
# ~33 KB (REQMOD and RESPMOD, c-icap's ring buffer needs the request data
# unlocked), a bracketed host name ([teams.microsoft.com]) that is not an
# IPv6 literal, and an unknown service area, whose startup error must name
# the directive.
#
# The expected X-M365-* values are written out below and checked against
# the fixture JSON itself (an independent reading of the contract's
# matching rules) before they are used.  Needs c-icap, python3, gcc's
# libasan and the built modules (make all build/san/srv_m365_bypass.so).
# No network.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/icap_lib.sh
. "$ROOT/tests/icap_lib.sh"

SAN_MODULE=$BUILD/san/srv_m365_bypass.so
LIST2025=$FIXTURES/worldwide-2025-12-01.json # = lists/endpoints-worldwide.json, the bundled list
LIST2024=$FIXTURES/worldwide-2024-04-17.json
MYFIX=$FIXTURES/icap
export CICAP_CHILDREN=2 CICAP_THREADS=5

tmp=""
abort() {
	not_ok "setup" "$1"
	finish
}

for prog in c-icap c-icap-config python3 ps gcc; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ -f "$SAN_MODULE" ] || abort "$SAN_MODULE missing (make build/san/srv_m365_bypass.so)"
[ -f "$(gcc -print-file-name=libasan.so)" ] || abort "gcc's libasan.so not found"
cmp -s "$LIST2025" "$ROOT/lists/endpoints-worldwide.json" ||
	abort "the bundled list is no longer tests/fixtures/worldwide-2025-12-01.json: update this test"

tmp=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$tmp'"
mkdir "$tmp/batch"

# jget FILE EXPR: EXPR (python) over the JSON responses in FILE, as r[].
jget() {
	python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

# --- c-icap instances -------------------------------------------------------
instances="" # every c-icap started (names under $tmp)

# start_cicap NAME [DIRECTIVE...]: a c-icap in $tmp/NAME with the sanitizer
# module, the shipped snippet, then DIRECTIVEs (one c-icap.conf line each).
# Sets dir and port.  Returns cicap_start's status.
start_cicap() {
	dir=$tmp/$1
	shift
	mkdir -p "$dir"
	cicap_m365_conf "$dir/m365.conf" "$SAN_MODULE" || return 2
	for _d in "$@"; do
		printf '%s\n' "$_d" >>"$dir/m365.conf"
	done
	instances="$instances $dir"
	# shellcheck disable=SC2046 # cicap_asan_env prints VAR=value words
	cicap_launch "$dir" "$dir/m365.conf" env $(cicap_asan_env "$dir") \
		2>"$dir/start.err"
	_rc=$?
	port=$CICAP_PORT
	return $_rc
}

# started NAME: the assertion that the c-icap just started is up.
started() {
	if [ "$1" -eq 0 ]; then
		ok "$2: c-icap with the sanitizer module starts and listens"
	else
		not_ok "$2: c-icap with the sanitizer module starts and listens" "$(head -n 3 "$dir/start.err" | tr '\n' ' ')"
		cicap_diagnostics "$dir"
		return 1
	fi
}

# loaded_line: the startup line(s) of the server log.
loaded_lines() { grep -a 'm365_bypass: loaded ' "$dir/server.log" 2>/dev/null; }

# --- the fixture oracle ------------------------------------------------------
# An independent reading of the contract's matching rules over the fixture
# JSON: the best selected set for HOST:PORT ("Category/Service/Id"), or "-".
cat >"$tmp/oracle.py" <<'EOF'
import ipaddress, json, re, sys

_lists = {}
def sets(path):
    if path not in _lists:
        _lists[path] = json.load(open(path))
    return _lists[path]

def ports(spec):
    out = set()
    for part in str(spec).split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            out.update(range(int(a), int(b) + 1))
        elif part:
            out.add(int(part))
    return out

def glob(pattern, host):
    rx = "".join(".*" if c == "*" else re.escape(c) for c in pattern.lower())
    return re.fullmatch(rx, host) is not None

def best(path, cats, areas, host, port):
    try:
        ip = ipaddress.ip_address(host)
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
    except ValueError:
        ip = None
    rank = {"Optimize": 0, "Allow": 1, "Default": 2}
    found = []
    for s in sets(path):
        if s["category"] not in cats.split(","):
            continue
        if areas != "all" and s["serviceArea"] not in areas.split(","):
            continue
        if "tcpPorts" not in s or int(port) not in ports(s["tcpPorts"]):
            continue
        if ip is not None:
            hit = any(ip in n for n in (ipaddress.ip_network(c) for c in s.get("ips", []))
                      if n.version == ip.version)
        else:
            hit = any(glob(u, host) for u in s.get("urls", []))
        if hit:
            found.append((rank[s["category"]], s["id"], s))
    if not found:
        return "-"
    s = min(found, key=lambda t: t[:2])[2]
    return "%s/%s/%d" % (s["category"], s["serviceArea"], s["id"])

# stdin: LIST CATEGORIES AREAS HOST PORT, one query a line
for line in sys.stdin:
    if line.strip():
        print(best(*line.split()))
EOF
claims=""
# claim LIST CATEGORIES AREAS HOST PORT EXPECTED: queues the assertion that
# the fixture LIST says HOST:PORT is EXPECTED under that policy.
claim() {
	claims="$claims$1 $2 $3 $4 $5 $6
"
}
check_claims() {
	printf '%s' "$claims" | cut -d' ' -f1-5 | python3 "$tmp/oracle.py" >"$tmp/claims.out" 2>&1
	printf '%s' "$claims" | paste -d' ' - "$tmp/claims.out" | while read -r l c a h p want got; do
		check_eq "fixture $(basename "$l"): $h:$p under categories=$c areas=$a is $want" "$want" "$got"
	done
	claims=""
}

# The expectations used below, each checked against the fixture first.
D=Optimize,Allow # the default categories
claim "$LIST2025" $D all outlook.office365.com 80 Optimize/Exchange/1
claim "$LIST2025" $D all outlook.office365.com 443 Optimize/Exchange/1
claim "$LIST2025" $D all outlook.office365.com 993 Allow/Exchange/2
claim "$LIST2025" $D all outlook.office365.com 8080 -
claim "$LIST2025" $D all outlook.office365.com 25 -
claim "$LIST2025" $D all smtp.office365.com 587 Allow/Exchange/2
claim "$LIST2025" $D all smtp.office365.com 443 -
claim "$LIST2025" $D all teams.microsoft.com 80 Allow/Skype/12
claim "$LIST2025" $D all teams.microsoft.com 443 Allow/Skype/12
claim "$LIST2025" $D all teams.microsoft.com 8443 -
claim "$LIST2025" $D all teams.microsoft.com 3478 -
claim "$LIST2025" $D all a.b.teams.microsoft.com 443 Allow/Skype/12
claim "$LIST2025" $D all x.teams.microsoft.com 80 Allow/Skype/12
claim "$LIST2025" $D all evilteams.microsoft.com 443 -
claim "$LIST2025" $D all teams.microsoft.com.evil.example 443 -
claim "$LIST2025" $D all teams.cloud.microsoft 443 Allow/Skype/12
claim "$LIST2025" $D all contoso.sharepoint.com 443 Optimize/SharePoint/31
claim "$LIST2025" $D all sharepoint.com 443 -
claim "$LIST2025" $D all x.protection.outlook.com 443 Allow/Exchange/9
claim "$LIST2025" $D all x.protection.outlook.com 80 -
claim "$LIST2025" $D all x.mail.protection.outlook.com 25 Allow/Exchange/10
claim "$LIST2025" $D all x.mail.protection.outlook.com 443 Allow/Exchange/9
claim "$LIST2025" $D all login.microsoftonline.com 443 Allow/Common/56
claim "$LIST2025" $D all www.office.com 443 -
claim "$LIST2025" $D all autodiscover.contoso.onmicrosoft.com 443 -
claim "$LIST2025" $D all purview.microsoft.com 443 Allow/Common/64
claim "$LIST2025" $D all x.compliance.microsoft.com 443 -
claim "$LIST2025" $D all 52.112.0.1 443 Allow/Skype/12
claim "$LIST2025" $D all 52.112.0.1 80 Allow/Skype/12
claim "$LIST2025" $D all 52.115.255.254 443 Allow/Skype/12
claim "$LIST2025" $D all 52.112.0.1 3478 -
claim "$LIST2025" $D all 52.116.0.1 443 -
claim "$LIST2025" $D all 40.96.0.1 443 Optimize/Exchange/1
claim "$LIST2025" $D all 40.96.0.1 993 Allow/Exchange/2
claim "$LIST2025" $D all 13.107.64.1 443 -
claim "$LIST2025" $D all 2603:1063::1 443 Allow/Skype/12
claim "$LIST2025" $D all 2603:1063::1 80 Allow/Skype/12
claim "$LIST2025" $D all 2603:1063::1 3478 -
claim "$LIST2025" $D all 2603:1063:6000::1 443 Optimize/SharePoint/31
claim "$LIST2025" $D all 2001:db8::1 443 -
claim "$LIST2025" $D all ::ffff:52.112.0.1 443 Allow/Skype/12
claim "$LIST2025" $D all 203.0.113.5 443 -
claim "$LIST2025" Optimize all teams.microsoft.com 443 -
claim "$LIST2025" Optimize all 52.112.0.1 443 -
claim "$LIST2025" Optimize all outlook.office365.com 993 -
claim "$LIST2025" Optimize all contoso.sharepoint.com 443 Optimize/SharePoint/31
claim "$LIST2025" $D Exchange outlook.office365.com 993 Allow/Exchange/2
claim "$LIST2025" $D Exchange teams.microsoft.com 443 -
claim "$LIST2025" $D Exchange contoso.sharepoint.com 443 -
claim "$LIST2024" $D all teams.cloud.microsoft 443 -
claim "$LIST2024" $D all x.compliance.microsoft.com 443 Allow/Common/64
claim "$LIST2024" $D all purview.microsoft.com 443 -
claim "$LIST2024" $D all 13.107.64.1 443 Allow/Skype/12
claim "$LIST2024" $D all 2603:1063:6000::1 443 -
claim "$LIST2024" $D all teams.microsoft.com 443 Allow/Skype/12
claim "$LIST2025" $D,Default all autodiscover.contoso.onmicrosoft.com 443 Default/Exchange/8
claim "$LIST2025" $D,Default all autodiscover.a.b.onmicrosoft.com 80 Default/Exchange/8
claim "$LIST2025" $D,Default all autodiscover.onmicrosoft.com 443 Default/Common/78
claim "$LIST2025" $D,Default all www.office.com 443 Default/Common/147
claim "$LIST2025" $D,Default all teams.microsoft.com 443 Allow/Skype/12
check_claims

# --- requests in batches --------------------------------------------------------
# want NAME EXPECTED ICAP_CLIENT_ARGS...: queues one m365_bypass request
# (icap_client.py arguments; --port, --service m365_bypass and --json come
# first).  EXPECTED is the answer's summary:
#   "STATUS xns=X m365=C/S/N": X the X-Next-Services value in brackets ("-"
#   when absent), C/S/N X-M365-Category, -Service and -Set ("-" for each
#   one absent, "m365=-" when there is none); "100,STATUS" after a 100
#   Continue; for a 200 also " enc=ENTITIES body=BYTES".
# Shorthands: NB (a plain answer of a readable destination), BAD (the same
# for an unreadable one: counted as malformed), by:C/S/N (a bypass).  Every
# request also counts in the expected statistics (exp_*).  A first argument
# "@no-req-hdr" sends a RESPMOD without req-hdr instead.
nq=0
reset_counts() {
	exp_req=0 exp_byp=0 exp_insp=0 exp_bad=0
	exp_opt=0 exp_allow=0 exp_def=0 exp_local=0
	sent=0 # ICAP requests sent to this c-icap (access log lines)
}
want() {
	nq=$((nq + 1))
	_q=$(printf '%s/q%04d' "$tmp/batch" "$nq")
	printf '%s\n' "$1" >"$_q.name"
	_e=$2
	case $_e in
	NB) _e=$NB ;;
	BAD) _e=$NB exp_bad=$((exp_bad + 1)) ;;
	by:*) _e="204 xns=[] m365=${_e#by:}" ;;
	esac
	printf '%s\n' "$_e" >"$_q.want"
	_n=1
	case $_e in [0-9]*x\ *) _n=${_e%%x *} ;; esac
	exp_req=$((exp_req + _n))
	sent=$((sent + _n))
	case $_e in
	*" m365=- "* | *" m365=-") exp_insp=$((exp_insp + _n)) ;;
	*" m365=Optimize/"*) exp_byp=$((exp_byp + _n)) exp_opt=$((exp_opt + _n)) ;;
	*" m365=Allow/"*) exp_byp=$((exp_byp + _n)) exp_allow=$((exp_allow + _n)) ;;
	*" m365=Default/"*) exp_byp=$((exp_byp + _n)) exp_def=$((exp_def + _n)) ;;
	*" m365=Local/"*) exp_byp=$((exp_byp + _n)) exp_local=$((exp_local + _n)) ;;
	esac
	shift 2
	printf '%s\0' "$@" >"$_q.args"
}

cat >"$tmp/batch.py" <<'EOF'
# batch.py DIR PORT: sends every queued request DIR/qNNNN.args (NUL-separated
# icap_client.py arguments) to 127.0.0.1:PORT and writes its responses'
# JSON to qNNNN.json and their summary to qNNNN.got.
import io, json, os, sys
sys.path.insert(0, os.environ["ICAP_CLIENT_DIR"])
import icap_client as ic

batch, port = sys.argv[1], sys.argv[2]

def summary(r):
    st = ("100," if r["interim"] else "") + str(r["status"])
    hv = lambda name: [v for n, v in r["headers"] if n.lower() == name.lower()]
    xns = hv("X-Next-Services")
    xs = "|".join("[%s]" % v for v in xns) if xns else "-"
    names = [n for n, v in r["headers"] if n.lower().startswith("x-m365-")]
    if names:
        part = lambda h: "|".join(hv(h)) or "-"
        m = "/".join(part("X-M365-" + h) for h in ("Category", "Service", "Set"))
        extra = sorted(set(n for n in names if n.lower() not in
                           ("x-m365-category", "x-m365-service", "x-m365-set")))
        if extra:
            m += "+" + ",".join(extra)
    else:
        m = "-"
    s = "%s xns=%s m365=%s" % (st, xs, m)
    if r["status"] == 200:
        s += " enc=%s body=%d" % (",".join(e for e, o in r["encapsulated"]), r["body_len"])
    return s

class Out:
    def __init__(self):
        self.buffer = io.BytesIO()

for f in sorted(x for x in os.listdir(batch) if x.endswith(".args")):
    base = os.path.join(batch, f[:-5])
    args = [a.decode("utf-8", "surrogateescape")
            for a in open(base + ".args", "rb").read().split(b"\0")[:-1]]
    out, err = Out(), io.StringIO()
    if args and args[0] == "@no-req-hdr":
        body = b"response body " * 100
        try:
            with ic.Connection("127.0.0.1", int(port)) as c:
                r = c.send_request("RESPMOD", "m365_bypass", req_head=None,
                                   res_head=ic.http_response(200, content_length=len(body)),
                                   body=body, preview=0)
            out.buffer.write(json.dumps(r.to_json()).encode() + b"\n")
            rc = 0
        except ic.ICAPError as e:
            err.write("icap_client: %s\n" % e)
            rc = 3
    else:
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            rc = ic.main(["--port", port, "--service", "m365_bypass", "--json"] + args)
        except SystemExit as e:
            rc = e.code
        finally:
            sys.stdout, sys.stderr = saved
    data = out.buffer.getvalue()
    open(base + ".json", "wb").write(data)
    got = [summary(json.loads(l)) for l in data.decode().splitlines() if l.strip()]
    if rc != 0:
        msg = (err.getvalue().strip().splitlines() or [""])[-1]
        got.append("exit %s: %s" % (rc, msg))
    if len(got) > 1 and len(set(got)) == 1:
        text = "%dx %s" % (len(got), got[0])
    else:
        text = "; ".join(got)
    open(base + ".got", "w").write(text + "\n")
EOF

# run_batch: sends the queued requests to $port and checks every answer.
run_batch() {
	ICAP_CLIENT_DIR=$ROOT/tests/integration python3 "$tmp/batch.py" "$tmp/batch" "$port" 2>"$tmp/batch.err" ||
		not_ok "batch driver" "$(tail -n 3 "$tmp/batch.err" | tr '\n' ' ')"
	for _a in "$tmp"/batch/q*.args; do
		[ -f "$_a" ] || continue
		_q=${_a%.args}
		check_eq "$(cat "$_q.name")" "$(cat "$_q.want")" "$(cat "$_q.got" 2>/dev/null)"
	done
	# keep the JSON of the last batch for follow-up checks
	rm -rf "$tmp/last" && mkdir "$tmp/last" && mv "$tmp"/batch/q* "$tmp/last/" 2>/dev/null
}
# last NAME-SUBSTRING: the JSON file of the last batch's request of that name.
last() { grep -lF -- "$1" "$tmp"/last/q*.name | head -n 1 | sed 's/\.name$/.json/'; }

# stat_of INFO LABEL: the value of "LABEL : N" in the info text.
stat_of() { printf '%s\n' "$1" | sed -n "s/^$2 : \\([0-9][0-9]*\\)\$/\\1/p" | head -n 1; }

# check_stats WHAT: waits for the access log, then checks every m365
# counter against the exp_* counts of the requests queued since reset_counts.
check_stats() {
	cicap_wait_access "$dir" "$sent" 10 ||
		echo "check_stats: only $(wc -l <"$dir/access.log") of $sent requests logged" >&2
	_info=$(cicap_info "$port")
	sent=$((sent + 1))
	check_eq "$1: m365 requests = $exp_req requests sent" "$exp_req" "$(stat_of "$_info" 'm365 requests')"
	check_eq "$1: m365 bypassed = $exp_byp bypass answers" "$exp_byp" "$(stat_of "$_info" 'm365 bypassed')"
	check_eq "$1: m365 inspected = $exp_insp plain answers" "$exp_insp" "$(stat_of "$_info" 'm365 inspected')"
	check_eq "$1: m365 malformed = $exp_bad unreadable destinations" "$exp_bad" "$(stat_of "$_info" 'm365 malformed')"
	check_eq "$1: m365 bypassed Optimize = $exp_opt" "$exp_opt" "$(stat_of "$_info" 'm365 bypassed Optimize')"
	check_eq "$1: m365 bypassed Allow = $exp_allow" "$exp_allow" "$(stat_of "$_info" 'm365 bypassed Allow')"
	check_eq "$1: m365 bypassed Default = $exp_def" "$exp_def" "$(stat_of "$_info" 'm365 bypassed Default')"
	check_eq "$1: m365 bypassed Local = $exp_local" "$exp_local" "$(stat_of "$_info" 'm365 bypassed Local')"
	check_eq "$1: m365 bypassed other category, no list loaded, list reloads, refused reloads are 0" \
		"0 0 0 0" "$(stat_of "$_info" 'm365 bypassed other category') $(stat_of "$_info" 'm365 no list loaded') $(stat_of "$_info" 'm365 list reloads') $(stat_of "$_info" 'm365 refused reloads')"
}

# stop_cicap WHAT: stops $dir's c-icap, checks it exits 0 and left no
# sanitizer report.
stop_cicap() {
	cicap_stop "$dir"
	check_eq "$1: c-icap exits 0 on SIGTERM" 0 "$?"
	check_eq "$1: no ASan/UBSan report" "" "$(cicap_asan_reports "$dir")"
}

# A few heads and bodies.
python3 - "$tmp" <<'EOF'
import sys
t = sys.argv[1]
def w(name, data):
    open(t + "/" + name, "wb").write(data)
crlf = lambda *lines: "".join(l + "\r\n" for l in lines).encode("latin-1") + b"\r\n"
w("body100k", bytes(33 + (i * 7919) % 90 for i in range(102400)))
w("body1k", b"x" * 1024)
# a body that looks like a Microsoft request: the decision must not read it
w("body_lookalike", (b"GET http://teams.microsoft.com/ HTTP/1.1\r\nHost: teams.microsoft.com\r\n\r\n" * 1500)[:102400])
long_host = "a" * (5000 - len(".teams.microsoft.com")) + ".teams.microsoft.com"
w("long_host.txt", long_host.encode())
w("many_hosts.http", crlf("GET / HTTP/1.1", *["Host: teams.microsoft.com"] * 200))
w("host_like.http", crlf("GET / HTTP/1.1", *["%s: teams.microsoft.com" % n for n in
    ["Hosts", "Host-Name", "X-Host", "XHost", "Hostname", "X-Forwarded-Host"] * 34][:200]))
w("host_like_real.http", crlf("GET / HTTP/1.1", *(["%s: example.com" % n for n in
    ["Hosts", "Host-Name", "X-Host", "XHost", "Hostname", "X-Forwarded-Host"] * 34][:200]
    + ["Host: teams.microsoft.com"])))
w("nul_host.http", b"GET / HTTP/1.1\r\nHost: teams.microsoft.com\x00.evil.example\r\n\r\n")
w("nul_url.http", b"GET http://teams.microsoft.com\x00.evil.example/ HTTP/1.1\r\nHost: teams.microsoft.com\r\n\r\n")
w("cr_host.http", b"GET / HTTP/1.1\r\nHost: evil.example\rHost: teams.microsoft.com\r\n\r\n")
w("obs_fold.http", b"GET / HTTP/1.1\r\nHost: evil.example\r\n teams.microsoft.com\r\n\r\n")
EOF
LONG_HOST=$(cat "$tmp/long_host.txt")
CTRL_A=$(printf '\001')
DEL=$(printf '\177')
TAB=$(printf '\t')

TEAMS=by:Allow/Skype/12
OUTLOOK=by:Optimize/Exchange/1

# =============================================================================
# main: the shipped snippet as is (the bundled list, Optimize and Allow)
# =============================================================================
reset_counts
NB='204 xns=- m365=-'
start_cicap main
started $? "main" || finish
main_kids=$(cicap_children "$dir" | sort -n | tr '\n' ' ')
check_eq "main: 2 children" 2 "$(echo "$main_kids" | wc -w)"
check_eq "main: the startup line is logged once" 1 "$(loaded_lines | wc -l)"
n_sets=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d), sum(s["category"] in ("Optimize","Allow") for s in d))' "$LIST2025")
check_match "main: startup line: bundled list, $(echo "$n_sets" | cut -d' ' -f1) sets ($(echo "$n_sets" | cut -d' ' -f2) selected), default policy" \
	"m365_bypass: loaded bundled list \\(Worldwide, 2025-12-01\\): $(echo "$n_sets" | cut -d' ' -f1) sets \\($(echo "$n_sets" | cut -d' ' -f2) selected\\), .*categories=Optimize,Allow service-areas=all" \
	"$(loaded_lines)"

# --- 1. OPTIONS ------------------------------------------------------------------
icap_client --port "$port" --service m365_bypass --method OPTIONS --json >"$tmp/opt.json" 2>"$tmp/opt.err"
check_eq "OPTIONS: client exit 0" 0 "$?"
sent=$((sent + 1))
hdr() { jget "$tmp/opt.json" "[v for n, v in r[0][\"headers\"] if n == \"$1\"]"; }
check_eq "OPTIONS: 200" 200 "$(jget "$tmp/opt.json" 'r[0]["status"]')"
check_eq "OPTIONS: Preview: 0" "['0']" "$(hdr Preview)"
check_eq "OPTIONS: Allow: 204" "['204']" "$(hdr Allow)"
check_eq "OPTIONS: Methods: RESPMOD, REQMOD" "['RESPMOD, REQMOD']" "$(hdr Methods)"
check_match "OPTIONS: one quoted ISTag" "^\\['\"[^\"]+\"'\\]\$" "$(hdr ISTag)"
check_eq "OPTIONS: Encapsulated: null-body=0" "['null-body=0']" "$(hdr Encapsulated)"
check_eq "OPTIONS: no X-Next-Services / X-M365-* in OPTIONS" "[]" \
	"$(jget "$tmp/opt.json" '[n for n, v in r[0]["headers"] if n.lower().startswith(("x-next", "x-m365"))]')"

# --- 2. REQMOD: the three forms, real names, ports ---------------------------------
want "URL: http://outlook.office365.com/ (Optimize, port 80)" $OUTLOOK --request-line 'GET http://outlook.office365.com/ HTTP/1.1'
want "URL: https://outlook.office365.com/ (Optimize, scheme port 443)" $OUTLOOK --request-line 'GET https://outlook.office365.com/mail HTTP/1.1'
want "URL: http://outlook.office365.com:443/ explicit port" $OUTLOOK --request-line 'GET http://outlook.office365.com:443/ HTTP/1.1'
want "URL: http://outlook.office365.com:993/ is Exchange set 2 (Allow)" by:Allow/Exchange/2 --request-line 'GET http://outlook.office365.com:993/ HTTP/1.1'
want "URL: http://outlook.office365.com:8080/ (no set lists 8080): not bypassed" NB --request-line 'GET http://outlook.office365.com:8080/ HTTP/1.1'
want "URL: ftp://outlook.office365.com/ (scheme port 21): not bypassed" NB --request-line 'GET ftp://outlook.office365.com/ HTTP/1.1'
want "Host only: outlook.office365.com (port 80)" $OUTLOOK --request-line 'GET /owa/ HTTP/1.1' --header 'Host: outlook.office365.com'
want "Host only: outlook.office365.com:443" $OUTLOOK --request-line 'GET / HTTP/1.1' --header 'Host: outlook.office365.com:443'
want "Host only: outlook.office365.com:993 is set 2" by:Allow/Exchange/2 --request-line 'GET / HTTP/1.1' --header 'Host: outlook.office365.com:993'
want "Host only: outlook.office365.com:8080: not bypassed" NB --request-line 'GET / HTTP/1.1' --header 'Host: outlook.office365.com:8080'
want "CONNECT outlook.office365.com:443" $OUTLOOK --request-line 'CONNECT outlook.office365.com:443 HTTP/1.1'
want "CONNECT outlook.office365.com:993 is set 2" by:Allow/Exchange/2 --request-line 'CONNECT outlook.office365.com:993 HTTP/1.1'
want "CONNECT outlook.office365.com:8080: not bypassed" NB --request-line 'CONNECT outlook.office365.com:8080 HTTP/1.1'
want "CONNECT outlook.office365.com:25: not bypassed" NB --request-line 'CONNECT outlook.office365.com:25 HTTP/1.1'
want "CONNECT smtp.office365.com:587 is set 2" by:Allow/Exchange/2 --request-line 'CONNECT smtp.office365.com:587 HTTP/1.1'
want "CONNECT smtp.office365.com:443 (only *.office365.com, Default): not bypassed" NB --request-line 'CONNECT smtp.office365.com:443 HTTP/1.1'

want "URL: http://teams.microsoft.com/ (Allow, Skype, set 12)" $TEAMS --request-line 'GET http://teams.microsoft.com/ HTTP/1.1'
want "URL: https://teams.microsoft.com/" $TEAMS --request-line 'GET https://teams.microsoft.com/ HTTP/1.1'
want "Host only: teams.microsoft.com" $TEAMS --request-line 'GET /api HTTP/1.1' --header 'Host: teams.microsoft.com'
want "Host only: teams.microsoft.com:443" $TEAMS --request-line 'POST /api?x=1 HTTP/1.1' --header 'Host: teams.microsoft.com:443'
want "CONNECT teams.microsoft.com:443" $TEAMS --request-line 'CONNECT teams.microsoft.com:443 HTTP/1.1'
want "CONNECT teams.microsoft.com:80" $TEAMS --request-line 'CONNECT teams.microsoft.com:80 HTTP/1.1'
want "CONNECT teams.microsoft.com:8443: not bypassed" NB --request-line 'CONNECT teams.microsoft.com:8443 HTTP/1.1'
want "URL: http://teams.microsoft.com:3478/ (a UDP port only): not bypassed" NB --request-line 'GET http://teams.microsoft.com:3478/ HTTP/1.1'
want "Host only: teams.microsoft.com:8443: not bypassed" NB --request-line 'GET / HTTP/1.1' --header 'Host: teams.microsoft.com:8443'
want "URL: http://teams.microsoft.com:0443/ (leading zero) is port 443" $TEAMS --request-line 'GET http://teams.microsoft.com:0443/ HTTP/1.1'
want "URL: http://teams.microsoft.com:/ (empty port) is the scheme's" $TEAMS --request-line 'GET http://teams.microsoft.com:/ HTTP/1.1'
want "URL: http://teams.cloud.microsoft/ (only in the 2025 list)" $TEAMS --request-line 'GET https://teams.cloud.microsoft/ HTTP/1.1'

want "glob *.teams.microsoft.com: URL a.b.teams.microsoft.com" $TEAMS --request-line 'GET https://a.b.teams.microsoft.com/ HTTP/1.1'
want "glob *.teams.microsoft.com: Host x.teams.microsoft.com" $TEAMS --request-line 'GET / HTTP/1.1' --header 'Host: x.teams.microsoft.com'
want "glob *.teams.microsoft.com: CONNECT a.b.teams.microsoft.com:443" $TEAMS --request-line 'CONNECT a.b.teams.microsoft.com:443 HTTP/1.1'
want "glob *.sharepoint.com: CONNECT contoso.sharepoint.com:443 (Optimize, SharePoint, 31)" by:Optimize/SharePoint/31 --request-line 'CONNECT contoso.sharepoint.com:443 HTTP/1.1'
want "glob *.sharepoint.com does not match the apex sharepoint.com" NB --request-line 'CONNECT sharepoint.com:443 HTTP/1.1'
want "glob *.protection.outlook.com: https URL (443 only, set 9)" by:Allow/Exchange/9 --request-line 'GET https://x.protection.outlook.com/ HTTP/1.1'
want "glob *.protection.outlook.com: http URL (port 80): not bypassed" NB --request-line 'GET http://x.protection.outlook.com/ HTTP/1.1'
want "glob *.mail.protection.outlook.com:25 is set 10" by:Allow/Exchange/10 --request-line 'CONNECT x.mail.protection.outlook.com:25 HTTP/1.1'
want "x.mail.protection.outlook.com:443 is the lower id 9 (two globs match)" by:Allow/Exchange/9 --request-line 'CONNECT x.mail.protection.outlook.com:443 HTTP/1.1'
want "login.microsoftonline.com (Allow, Common, 56)" by:Allow/Common/56 --request-line 'GET https://login.microsoftonline.com/common/oauth2 HTTP/1.1'
want "purview.microsoft.com (Allow, Common, 64)" by:Allow/Common/64 --request-line 'CONNECT purview.microsoft.com:443 HTTP/1.1'
want "irregular glob autodiscover.*.onmicrosoft.com is Default: not bypassed by default" NB --request-line 'GET https://autodiscover.contoso.onmicrosoft.com/ HTTP/1.1'
want "www.office.com (Default) is not bypassed by default" NB --request-line 'GET https://www.office.com/ HTTP/1.1'
want "x.compliance.microsoft.com (Default in the 2025 list) is not bypassed" NB --request-line 'CONNECT x.compliance.microsoft.com:443 HTTP/1.1'

want "URL wins: GET http://example.com/ with Host: teams.microsoft.com is not a bypass" NB --request-line 'GET http://example.com/ HTTP/1.1' --header 'Host: teams.microsoft.com'
want "URL wins: GET http://teams.microsoft.com/ with Host: example.com is a bypass" $TEAMS --request-line 'GET http://teams.microsoft.com/ HTTP/1.1' --header 'Host: example.com'
want "URL wins: GET http://teams.microsoft.com:8080/ with Host: teams.microsoft.com is not" NB --request-line 'GET http://teams.microsoft.com:8080/ HTTP/1.1' --header 'Host: teams.microsoft.com'
want "CONNECT wins: CONNECT example.com:443 with Host: teams.microsoft.com is not a bypass" NB --request-line 'CONNECT example.com:443 HTTP/1.1' --header 'Host: teams.microsoft.com:443'
want "CONNECT wins: CONNECT teams.microsoft.com:443 with Host: example.com is a bypass" $TEAMS --request-line 'CONNECT teams.microsoft.com:443 HTTP/1.1' --header 'Host: example.com:443'

want "uppercase host in a URL" $OUTLOOK --request-line 'GET http://OUTLOOK.Office365.COM/ HTTP/1.1'
want "uppercase host in a Host header" $TEAMS --request-line 'GET / HTTP/1.1' --header 'Host: TEAMS.MICROSOFT.COM'
want "uppercase host in CONNECT" $TEAMS --request-line 'CONNECT Teams.Microsoft.Com:443 HTTP/1.1'
want "uppercase scheme HTTPS:// is port 443" by:Allow/Exchange/9 --request-line 'GET HTTPS://x.protection.outlook.com/ HTTP/1.1'
want "trailing dot in a URL" $TEAMS --request-line 'GET http://teams.microsoft.com./ HTTP/1.1'
want "trailing dot in a Host header with port" $TEAMS --request-line 'GET / HTTP/1.1' --header 'Host: teams.microsoft.com.:443'
want "trailing dot in CONNECT" $TEAMS --request-line 'CONNECT teams.microsoft.com.:443 HTTP/1.1'
want "two trailing dots: invalid, not bypassed" BAD --request-line 'CONNECT teams.microsoft.com..:443 HTTP/1.1'
want "percent-encoded host in a URL (teams%2emicrosoft.com)" $TEAMS --request-line 'GET http://teams%2emicrosoft.com/ HTTP/1.1'
want "percent-encoded host in a Host header (teams%2Emicrosoft.com)" $TEAMS --request-line 'GET / HTTP/1.1' --header 'Host: teams%2Emicrosoft.com'
want "percent-encoded host in CONNECT (%74eams.microsoft.com)" $TEAMS --request-line 'CONNECT %74eams.microsoft.com:443 HTTP/1.1'
want "percent-encoded look-alike teams.microsoft.com%2eevil.example: not bypassed" NB --request-line 'GET http://teams.microsoft.com%2eevil.example/ HTTP/1.1'
want "percent-encoded NUL (teams.microsoft.com%00.evil.example): not bypassed" BAD --request-line 'GET http://teams.microsoft.com%00.evil.example/ HTTP/1.1'
want "bad percent escape (teams.microsoft.com%zz): not bypassed" BAD --request-line 'GET / HTTP/1.1' --header 'Host: teams.microsoft.com%zz'
want "Host header with surrounding spaces is trimmed" $TEAMS --request-line 'GET / HTTP/1.1' --header 'Host:    teams.microsoft.com   '
want "lowercase host header name (host:)" $TEAMS --request-line 'GET / HTTP/1.1' --no-host --header 'host: teams.microsoft.com'
want "asterisk-form OPTIONS * takes the Host header" $TEAMS --request-line 'OPTIONS * HTTP/1.1' --header 'Host: teams.microsoft.com'
want "ws:// is port 80" $TEAMS --request-line 'GET ws://teams.microsoft.com/ HTTP/1.1'
want "wss:// is port 443, https-only name" by:Allow/Exchange/9 --request-line 'GET wss://x.protection.outlook.com/ HTTP/1.1'

# --- 3. look-alikes and other names ------------------------------------------------
want "look-alike teams.microsoft.com.evil.example (URL)" NB --request-line 'GET http://teams.microsoft.com.evil.example/ HTTP/1.1'
want "look-alike teams.microsoft.com.evil.example (CONNECT)" NB --request-line 'CONNECT teams.microsoft.com.evil.example:443 HTTP/1.1'
want "look-alike evilteams.microsoft.com (Host)" NB --request-line 'GET / HTTP/1.1' --header 'Host: evilteams.microsoft.com'
want "look-alike outlook.office365.com.evil.example" NB --request-line 'CONNECT outlook.office365.com.evil.example:443 HTTP/1.1'
want "look-alike teams-microsoft.com" NB --request-line 'CONNECT teams-microsoft.com:443 HTTP/1.1'
want "look-alike teams.microsoft.co" NB --request-line 'CONNECT teams.microsoft.co:443 HTTP/1.1'
want "look-alike eviloutlook.office365.com" NB --request-line 'GET https://eviloutlook.office365.com/ HTTP/1.1'
want "look-alike microsoft.com.teams.evil.example" NB --request-line 'GET https://microsoft.com.teams.evil.example/ HTTP/1.1'
want "not Microsoft: example.com (URL)" NB --request-line 'GET http://example.com/ HTTP/1.1'
want "not Microsoft: www.google.com (CONNECT)" NB --request-line 'CONNECT www.google.com:443 HTTP/1.1'
want "not Microsoft: Host example.org" NB --request-line 'GET / HTTP/1.1' --header 'Host: example.org'
want "non-ASCII host teams.microsöft.com: not bypassed" BAD --request-line 'GET / HTTP/1.1' --header 'Host: teams.microsöft.com'
want "non-canonical IPv4 052.112.0.1 is not an IP literal" NB --request-line 'CONNECT 052.112.0.1:443 HTTP/1.1'

# --- 4. IP literals ---------------------------------------------------------------
want "IPv6 CONNECT [2603:1063::1]:443 (Skype set 12)" $TEAMS --request-line 'CONNECT [2603:1063::1]:443 HTTP/1.1'
want "IPv6 URL http://[2603:1063::1]/ (port 80)" $TEAMS --request-line 'GET http://[2603:1063::1]/ HTTP/1.1'
want "IPv6 URL https://[2603:1063::1]:443/" $TEAMS --request-line 'GET https://[2603:1063::1]:443/ HTTP/1.1'
want "IPv6 Host [2603:1063::1]" $TEAMS --request-line 'GET / HTTP/1.1' --header 'Host: [2603:1063::1]'
want "IPv6 Host [2603:1063::1]:443" $TEAMS --request-line 'GET / HTTP/1.1' --header 'Host: [2603:1063::1]:443'
want "IPv6 uppercase and non-compressed [2603:1063:0:0:0:0:0:ABCD]:443" $TEAMS --request-line 'CONNECT [2603:1063:0:0:0:0:0:ABCD]:443 HTTP/1.1'
want "IPv6 [2603:1063::1]:3478 (set 11 has no TCP port): not bypassed" NB --request-line 'CONNECT [2603:1063::1]:3478 HTTP/1.1'
want "IPv6 [2603:1063:6000::1]:443 (SharePoint Optimize 31)" by:Optimize/SharePoint/31 --request-line 'CONNECT [2603:1063:6000::1]:443 HTTP/1.1'
want "IPv6 outside Microsoft [2001:db8::1]:443" NB --request-line 'CONNECT [2001:db8::1]:443 HTTP/1.1'
want "IPv4-mapped IPv6 [::ffff:52.112.0.1]:443 is the IPv4 address" $TEAMS --request-line 'CONNECT [::ffff:52.112.0.1]:443 HTTP/1.1'
want "unbracketed IPv6 CONNECT 2603:1063::1:443: malformed" BAD --request-line 'CONNECT 2603:1063::1:443 HTTP/1.1'
want "unbracketed IPv6 Host 2603:1063::1: malformed" BAD --request-line 'GET / HTTP/1.1' --header 'Host: 2603:1063::1'
want "unbracketed IPv6 URL http://2603:1063::1/: malformed" BAD --request-line 'GET http://2603:1063::1/ HTTP/1.1' --header 'Host: teams.microsoft.com'
want "unclosed IPv6 bracket: malformed" BAD --request-line 'CONNECT [2603:1063::1:443 HTTP/1.1'
want "empty IPv6 brackets: malformed" BAD --request-line 'GET / HTTP/1.1' --header 'Host: []:443'
want "junk after an IPv6 literal: malformed" BAD --request-line 'CONNECT [2603:1063::1]x:443 HTTP/1.1'
want "IPv4 CONNECT 52.112.0.1:443 (set 11 has no TCP port, set 12 Allow)" $TEAMS --request-line 'CONNECT 52.112.0.1:443 HTTP/1.1'
want "IPv4 URL http://52.112.0.1/" $TEAMS --request-line 'GET http://52.112.0.1/ HTTP/1.1'
want "IPv4 Host 52.112.0.1:443" $TEAMS --request-line 'GET / HTTP/1.1' --header 'Host: 52.112.0.1:443'
want "IPv4 52.115.255.254 (last /14 address)" $TEAMS --request-line 'CONNECT 52.115.255.254:443 HTTP/1.1'
want "IPv4 52.116.0.1 (just outside the /14): not bypassed" NB --request-line 'CONNECT 52.116.0.1:443 HTTP/1.1'
want "IPv4 52.112.0.1:3478: not bypassed" NB --request-line 'CONNECT 52.112.0.1:3478 HTTP/1.1'
want "IPv4 40.96.0.1:443 is Exchange Optimize 1" $OUTLOOK --request-line 'CONNECT 40.96.0.1:443 HTTP/1.1'
want "IPv4 40.96.0.1:993 is Exchange Allow 2" by:Allow/Exchange/2 --request-line 'CONNECT 40.96.0.1:993 HTTP/1.1'
want "IPv4 203.0.113.5 (documentation range): not bypassed" NB --request-line 'CONNECT 203.0.113.5:443 HTTP/1.1'
want "IPv4 13.107.64.1 (only in the 2024 list): not bypassed" NB --request-line 'CONNECT 13.107.64.1:443 HTTP/1.1'

# --- 5. RESPMOD ---------------------------------------------------------------------
want "RESPMOD req-hdr + res-hdr + 100 KB body, bypass: 204 in the preview, no 100 Continue" $TEAMS \
	--method RESPMOD --request-line 'GET https://teams.microsoft.com/file HTTP/1.1' --body-file "$tmp/body100k"
want "RESPMOD req-hdr + res-hdr + 100 KB body, Host-only bypass" $OUTLOOK \
	--method RESPMOD --request-line 'GET /owa/ HTTP/1.1' --header 'Host: outlook.office365.com' --body-file "$tmp/body100k"
want "RESPMOD req-hdr + res-hdr + 100 KB body, not Microsoft: plain 204, no 100 Continue" NB \
	--method RESPMOD --request-line 'GET http://example.com/file HTTP/1.1' --body-file "$tmp/body100k"
want "RESPMOD decides on the request, not on the response's Location header" NB \
	--method RESPMOD --request-line 'GET http://example.com/ HTTP/1.1' --response-status 302 --response-header 'Location: https://teams.microsoft.com/' --body 'moved'
want "RESPMOD req-hdr + res-hdr, no body" $TEAMS --method RESPMOD --request-line 'CONNECT teams.microsoft.com:443 HTTP/1.1'
want "RESPMOD with a Preview: 1024 of a 100 KB body: 204 without 100 Continue" $TEAMS \
	--method RESPMOD --request-line 'GET https://teams.microsoft.com/f HTTP/1.1' --body-file "$tmp/body100k" --preview 1024
want "RESPMOD without req-hdr (res-hdr + body): destination missing, plain 204" BAD @no-req-hdr

# --- 6. REQMOD with bodies ----------------------------------------------------------
want "REQMOD POST 100 KB body, Preview: 0, bypass: 204 at once, no 100 Continue" $TEAMS \
	--request-line 'POST https://teams.microsoft.com/upload HTTP/1.1' --header 'Content-Length: 102400' --body-file "$tmp/body100k"
want "REQMOD POST 100 KB body, Preview: 0, not Microsoft: plain 204 at once" NB \
	--request-line 'POST http://example.com/upload HTTP/1.1' --header 'Content-Length: 102400' --body-file "$tmp/body100k"
want "REQMOD POST to example.com with a body full of teams.microsoft.com requests: not bypassed" NB \
	--request-line 'POST http://example.com/upload HTTP/1.1' --body-file "$tmp/body_lookalike"
want "REQMOD POST to teams with a body full of teams requests: the same bypass" $TEAMS \
	--request-line 'POST http://teams.microsoft.com/upload HTTP/1.1' --body-file "$tmp/body_lookalike"
want "REQMOD POST 100 KB body with Preview: 1024: 204 without 100 Continue" $OUTLOOK \
	--request-line 'POST https://outlook.office365.com/ HTTP/1.1' --body-file "$tmp/body100k" --preview 1024
want "REQMOD 20 requests on one connection, keep-alive" "20x 204 xns=[] m365=Allow/Skype/12" \
	--request-line 'GET https://teams.microsoft.com/ HTTP/1.1' --repeat 20
want "REQMOD 10 requests with bodies on one connection" "10x 204 xns=- m365=-" \
	--request-line 'POST http://example.com/ HTTP/1.1' --body-file "$tmp/body1k" --repeat 10

# --- 7. malformed destinations --------------------------------------------------------
want "malformed: no Host header (origin-form)" BAD --request-line 'GET / HTTP/1.1' --no-host
want "malformed: empty Host header" BAD --request-line 'GET / HTTP/1.1' --header 'Host:'
want "malformed: two Host headers (both teams.microsoft.com)" BAD --request-line 'GET / HTTP/1.1' --header 'Host: teams.microsoft.com' --header 'Host: teams.microsoft.com'
want "malformed: two Host headers (teams, then evil)" BAD --request-line 'GET / HTTP/1.1' --header 'Host: teams.microsoft.com' --header 'Host: evil.example'
want "malformed: space before the colon of Host" BAD --request-line 'GET / HTTP/1.1' --no-host --header 'Host : teams.microsoft.com'
want "malformed: garbage URL http://[teams.microsoft.com/" BAD --request-line 'GET http://[teams.microsoft.com/ HTTP/1.1' --header 'Host: teams.microsoft.com'
want "malformed: request target without scheme or slash (teams.microsoft.com)" BAD --request-line 'GET teams.microsoft.com HTTP/1.1' --header 'Host: teams.microsoft.com'
want "malformed: urn:x target, even with Host: teams.microsoft.com" BAD --request-line 'GET urn:x HTTP/1.1' --header 'Host: teams.microsoft.com'
want "malformed: unknown scheme without a port (foo://teams.microsoft.com/)" BAD --request-line 'GET foo://teams.microsoft.com/ HTTP/1.1'
want "malformed: empty authority (http:///)" BAD --request-line 'GET http:/// HTTP/1.1' --header 'Host: teams.microsoft.com'
want "malformed: userinfo http://teams.microsoft.com@evil.example/" BAD --request-line 'GET http://teams.microsoft.com@evil.example/ HTTP/1.1' --no-host
want "malformed: userinfo http://user@teams.microsoft.com/" BAD --request-line 'GET http://user@teams.microsoft.com/ HTTP/1.1' --no-host
want "malformed: userinfo in a Host header" BAD --request-line 'GET / HTTP/1.1' --header 'Host: user@teams.microsoft.com'
want "malformed: userinfo in CONNECT" BAD --request-line 'CONNECT user:pw@teams.microsoft.com:443 HTTP/1.1'
for bad_port in 0 65536 8a 99999 -1 +443 ' 443' 4433333; do
	want "malformed: bad port '$bad_port' in a URL" BAD --request-line "GET http://teams.microsoft.com:$bad_port/ HTTP/1.1" --no-host
done
for bad_port in 0 65536 8a 443x; do
	want "malformed: bad port '$bad_port' in a Host header" BAD --request-line 'GET / HTTP/1.1' --header "Host: teams.microsoft.com:$bad_port"
	want "malformed: bad port '$bad_port' in CONNECT" BAD --request-line "CONNECT teams.microsoft.com:$bad_port HTTP/1.1"
done
want "malformed: CONNECT without a port" BAD --request-line 'CONNECT teams.microsoft.com HTTP/1.1'
want "malformed: CONNECT with an empty port" BAD --request-line 'CONNECT teams.microsoft.com: HTTP/1.1'
want "malformed: CONNECT with a path" BAD --request-line 'CONNECT teams.microsoft.com:443/x HTTP/1.1'
want "malformed: a 5000-byte Host (ending .teams.microsoft.com)" BAD --request-line 'GET / HTTP/1.1' --header "Host: $LONG_HOST"
want "malformed: a 5000-byte host in a URL" BAD --request-line "GET http://$LONG_HOST/ HTTP/1.1" --no-host
want "malformed: a 5000-byte host in CONNECT" BAD --request-line "CONNECT $LONG_HOST:443 HTTP/1.1"
want "malformed: 200 Host headers" BAD --raw-http "$tmp/many_hosts.http"
want "malformed: 200 Host-like headers (X-Host, Hostname, ...) and no Host" BAD --raw-http "$tmp/host_like.http"
want "200 Host-like headers do not hide the real Host: teams.microsoft.com" $TEAMS --raw-http "$tmp/host_like_real.http"
want "malformed: control character (0x01) in the Host value" BAD --request-line 'GET / HTTP/1.1' --header "Host: teams.microsoft.com$CTRL_A"
want "malformed: DEL (0x7f) in the Host value" BAD --request-line 'GET / HTTP/1.1' --header "Host: teams${DEL}.microsoft.com"
want "malformed: TAB inside the Host value" BAD --request-line 'GET / HTTP/1.1' --header "Host: teams${TAB}.microsoft.com"
want "malformed: control character in the request line's version" BAD --request-line "GET http://teams.microsoft.com/ HTTP/1$CTRL_A.1"
want "malformed: control character in the URL's host" BAD --request-line "GET http://teams.microsoft$CTRL_A.com/ HTTP/1.1"
want "a control character in the path does not change the destination" $TEAMS --request-line "GET http://teams.microsoft.com/$CTRL_A HTTP/1.1"
want "malformed: NUL inside the Host value (teams.microsoft.com NUL .evil.example)" BAD --raw-http "$tmp/nul_host.http"
want "malformed: NUL inside the URL host" BAD --raw-http "$tmp/nul_url.http"
want "bare CR inside the head (Host: evil CR Host: teams): not bypassed" BAD --raw-http "$tmp/cr_host.http"
want "obs-fold continuation line after Host: evil.example: not bypassed" BAD --raw-http "$tmp/obs_fold.http"
want "malformed: space inside the host" BAD --request-line 'GET / HTTP/1.1' --header 'Host: teams microsoft.com'
want "malformed: double space in the request line" BAD --request-line 'GET  http://teams.microsoft.com/ HTTP/1.1'
want "malformed: request line without a version" BAD --request-line 'GET http://teams.microsoft.com/'
want "malformed: request line with a bad version" BAD --request-line 'GET http://teams.microsoft.com/ FTP/1.0'
want "malformed: only a method" BAD --request-line 'GET' --header 'Host: teams.microsoft.com'
want "malformed: a leading dot .teams.microsoft.com" BAD --request-line 'CONNECT .teams.microsoft.com:443 HTTP/1.1'
want "malformed: empty label teams..microsoft.com" BAD --request-line 'GET / HTTP/1.1' --header 'Host: teams..microsoft.com'
want "malformed: 64-character label" BAD --request-line "CONNECT $(printf '%064d' 0).teams.microsoft.com:443 HTTP/1.1"

# --- 8. no Preview, no Allow: 204: c-icap's echo ------------------------------------------
want "echo: bypass, no body: 200, HTTP head back, X-Next-Services still there" \
	"200 xns=[] m365=Allow/Skype/12 enc=req-hdr,null-body body=0" \
	--request-line 'GET http://teams.microsoft.com/echo HTTP/1.1' --header 'User-Agent: t' --no-preview --no-allow204
want "echo: not Microsoft, no body: 200, HTTP head back, no X-Next-Services" \
	"200 xns=- m365=- enc=req-hdr,null-body body=0" \
	--request-line 'GET http://example.com/echo HTTP/1.1' --header 'User-Agent: t' --no-preview --no-allow204
want "echo: malformed, no body: 200, HTTP head back, no X-Next-Services" \
	"200 xns=- m365=- enc=req-hdr,null-body body=0" \
	--request-line 'GET /echo HTTP/1.1' --no-host --no-preview --no-allow204
exp_bad=$((exp_bad + 1))
want "echo: bypass with a 1 KB body: 200 with the body back" \
	"200 xns=[] m365=Optimize/Exchange/1 enc=req-hdr,req-body body=1024" \
	--request-line 'POST http://outlook.office365.com/echo1k HTTP/1.1' --body-file "$tmp/body1k" --no-preview --no-allow204
want "echo: RESPMOD bypass with a 1 KB body: 200 with the response head and the body back" \
	"200 xns=[] m365=Allow/Skype/12 enc=res-hdr,res-body body=1024" \
	--method RESPMOD --request-line 'GET http://teams.microsoft.com/echo1k HTTP/1.1' --body-file "$tmp/body1k" --no-preview --no-allow204
want "no Preview but Allow: 204 (outside preview): bypass answered 204" $TEAMS \
	--request-line 'GET http://teams.microsoft.com/ HTTP/1.1' --no-preview
want "no Preview but Allow: 204, with a body: bypass answered 204" $TEAMS \
	--request-line 'POST http://teams.microsoft.com/ HTTP/1.1' --body-file "$tmp/body1k" --no-preview
want "Preview: 0 without Allow: 204: 204 all the same (the preview exception)" $TEAMS \
	--request-line 'GET http://teams.microsoft.com/ HTTP/1.1' --no-allow204
# The man page promises the message back unchanged: with a body over ~33 KB
# that needs the module to unlock the request data (ci_req_unlock_data),
# or c-icap's 32 KB echo buffer fills up and nothing is sent back.  c-icap's
# own echo service returns the same 100 KB body.
want "echo: REQMOD with a 100 KB body, no Preview, no Allow: 204: the body comes back" \
	"200 xns=- m365=- enc=req-hdr,req-body body=102400" \
	--request-line 'POST http://example.com/echo100k HTTP/1.1' --body-file "$tmp/body100k" --no-preview --no-allow204
want "echo: RESPMOD bypass with a 100 KB body, no Preview, no Allow: 204: the body comes back" \
	"200 xns=[] m365=Allow/Skype/12 enc=res-hdr,res-body body=102400" \
	--method RESPMOD --request-line 'GET http://teams.microsoft.com/echo100k HTTP/1.1' --body-file "$tmp/body100k" --no-preview --no-allow204

run_batch

# follow-up checks on the echoed heads and bodies
f=$(last "echo: bypass, no body")
check_eq "echo: bypass: the HTTP head comes back as sent (plus c-icap's Via)" \
	"GET http://teams.microsoft.com/echo HTTP/1.1|Host: teams.microsoft.com|User-Agent: t" \
	"$(jget "$f" '"|".join(l for l in r[0]["http_head"].split("\r\n")[:3])')"
f=$(last "echo: not Microsoft, no body")
check_eq "echo: not Microsoft: the HTTP head comes back as sent" \
	"GET http://example.com/echo HTTP/1.1|Host: example.com|User-Agent: t" \
	"$(jget "$f" '"|".join(l for l in r[0]["http_head"].split("\r\n")[:3])')"
f=$(last "echo: bypass with a 1 KB body")
check_eq "echo: the 1 KB body comes back unchanged" "True" \
	"$(jget "$f" 'r[0]["body"] == "x" * 1024')"
f=$(last "echo: RESPMOD bypass with a 1 KB body")
check_eq "echo: RESPMOD: the response head and the 1 KB body come back unchanged" \
	"HTTP/1.1 200 OK|Content-Type: text/plain|Content-Length: 1024 True" \
	"$(jget "$f" '"|".join(r[0]["http_head"].split("\r\n")[:3]) + " " + str(r[0]["body"] == "x" * 1024)')"

# --- the service is still there, nothing crashed ------------------------------------------
want "after everything: the known bypass still answers" $OUTLOOK --request-line 'GET http://outlook.office365.com/ HTTP/1.1'
want "after everything: a plain request still answers" NB --request-line 'GET http://example.com/ HTTP/1.1'
run_batch
icap_client --port "$port" --service m365_bypass --method OPTIONS --json >"$tmp/opt2.json" 2>&1
sent=$((sent + 1))
check_eq "after everything: OPTIONS still answers 200" 200 "$(jget "$tmp/opt2.json" 'r[0]["status"]')"
check_eq "after everything: the same children (no child crashed or was replaced)" "$main_kids" \
	"$(cicap_children "$dir" | sort -n | tr '\n' ' ')"
check_eq "after everything: no ASan/UBSan report so far" "" "$(cicap_asan_reports "$dir")"

# --- 9. statistics ----------------------------------------------------------------------
check_stats "main statistics"
n_reqmods=$(stat_of "$_info" 'Service m365_bypass REQMODS')
n_respmods=$(stat_of "$_info" 'Service m365_bypass RESPMODS')
check_eq "main: c-icap's own count: 'Service m365_bypass REQMODS + RESPMODS' = m365 requests" "$exp_req" \
	"$((${n_reqmods:-0} + ${n_respmods:-0}))"
check_match "main: no c-icap child crashed (info)" "^Crashed Processes: 0\$" "$_info"
check_eq "main: the access log logs every m365_bypass request" "$exp_req" \
	"$(grep -Eac '^[^ ]+ (REQMOD|RESPMOD) m365_bypass ' "$dir/access.log")"
check_eq "main: still one startup line (children do not reload)" 1 "$(loaded_lines | wc -l)"
# After the statistics so that it does not skew them: ext_m365_acl and
# m365ctl lookup answer "invalid destination" for this one (contract step 3
# strips brackets around an IPv6 literal only), and so must the service.
want "brackets around a name are not an IPv6 literal (malformed, as in ext_m365_acl)" BAD --request-line 'CONNECT [teams.microsoft.com]:443 HTTP/1.1'
run_batch
stop_cicap "main"

# =============================================================================
# local: LocalList and NextServices (statistics from zero)
# =============================================================================
reset_counts
NB='204 xns=[av_req, dlp_req] m365=-'
start_cicap local "m365_bypass.LocalList $MYFIX/local.list" "m365_bypass.NextServices av_req, dlp_req"
started $? "local" || finish
check_match "local: startup line counts 4 local rules" "local rules: 4\$" "$(loaded_lines)"
LOCAL=by:Local/Local/-
want "local: bypass *.zoom.us: us04web.zoom.us is Local (no X-M365-Set)" $LOCAL --request-line 'CONNECT us04web.zoom.us:443 HTTP/1.1'
want "local: bypass *.zoom.us: any port (8801)" $LOCAL --request-line 'CONNECT a.b.zoom.us:8801 HTTP/1.1'
want "local: bypass *.zoom.us: Host header form" $LOCAL --request-line 'GET / HTTP/1.1' --header 'Host: x.zoom.us'
want "local: *.zoom.us does not match the apex zoom.us" NB --request-line 'CONNECT zoom.us:443 HTTP/1.1'
want "local: *.zoom.us does not match zoom.us.evil.example" NB --request-line 'CONNECT zoom.us.evil.example:443 HTTP/1.1'
want "local: bypass 203.0.113.0/24: 203.0.113.7" $LOCAL --request-line 'CONNECT 203.0.113.7:443 HTTP/1.1'
want "local: bypass 203.0.113.0/24: URL http://203.0.113.255/" $LOCAL --request-line 'GET http://203.0.113.255/ HTTP/1.1'
want "local: 203.0.114.1 is outside the /24" NB --request-line 'CONNECT 203.0.114.1:443 HTTP/1.1'
want "local: bypass re:^meet[0-9]+\\.example\\.net\$: meet12.example.net" $LOCAL --request-line 'GET https://MEET12.example.net/ HTTP/1.1'
want "local: the regex is anchored: meetx.example.net is not" NB --request-line 'GET https://meetx.example.net/ HTTP/1.1'
want "local: never teams.microsoft.com: URL not bypassed, X-Next-Services is the list" NB --request-line 'GET https://teams.microsoft.com/ HTTP/1.1'
want "local: never teams.microsoft.com: CONNECT not bypassed" NB --request-line 'CONNECT teams.microsoft.com:443 HTTP/1.1'
want "local: never teams.microsoft.com: uppercase, trailing dot not bypassed" NB --request-line 'GET / HTTP/1.1' --header 'Host: TEAMS.microsoft.com.'
want "local: never is exact: a.teams.microsoft.com still bypassed (empty X-Next-Services)" $TEAMS --request-line 'CONNECT a.teams.microsoft.com:443 HTTP/1.1'
want "local: outlook still bypassed, empty X-Next-Services" $OUTLOOK --request-line 'GET http://outlook.office365.com/ HTTP/1.1'
want "local: 52.112.0.1:443 still bypassed" $TEAMS --request-line 'CONNECT 52.112.0.1:443 HTTP/1.1'
want "local: not Microsoft: X-Next-Services: av_req, dlp_req" NB --request-line 'GET http://example.com/ HTTP/1.1'
want "local: wrong port: X-Next-Services: av_req, dlp_req" NB --request-line 'CONNECT outlook.office365.com:8080 HTTP/1.1'
want "local: malformed (no Host): X-Next-Services: av_req, dlp_req" BAD --request-line 'GET / HTTP/1.1' --no-host
want "local: malformed (bad port): X-Next-Services: av_req, dlp_req" BAD --request-line 'CONNECT x.zoom.us:0 HTTP/1.1'
want "local: RESPMOD without req-hdr: X-Next-Services: av_req, dlp_req" BAD @no-req-hdr
want "local: RESPMOD Local bypass with a body" $LOCAL --method RESPMOD --request-line 'GET https://x.zoom.us/f HTTP/1.1' --body-file "$tmp/body1k"
want "local: echo (no preview, no 204): the list comes back with the HTTP head" \
	"200 xns=[av_req, dlp_req] m365=- enc=req-hdr,null-body body=0" \
	--request-line 'GET http://example.com/ HTTP/1.1' --no-preview --no-allow204
run_batch
check_stats "local statistics"
stop_cicap "local"

# =============================================================================
# optimize: Categories Optimize (and NextServices spelled without a space)
# =============================================================================
reset_counts
NB='204 xns=[av_req, dlp_req] m365=-'
start_cicap optimize "m365_bypass.Categories Optimize" "m365_bypass.NextServices av_req,dlp_req"
started $? "optimize" || finish
check_match "optimize: startup line: categories=Optimize, 3 selected" "sets \\(3 selected\\), .*categories=Optimize service-areas=all" "$(loaded_lines)"
want "optimize: outlook.office365.com (Optimize) still bypassed" $OUTLOOK --request-line 'CONNECT outlook.office365.com:443 HTTP/1.1'
want "optimize: contoso.sharepoint.com (Optimize) still bypassed" by:Optimize/SharePoint/31 --request-line 'CONNECT contoso.sharepoint.com:443 HTTP/1.1'
want "optimize: teams.microsoft.com (Allow) no longer bypassed; canonical X-Next-Services" NB --request-line 'CONNECT teams.microsoft.com:443 HTTP/1.1'
want "optimize: 52.112.0.1:443 (Allow set 12) no longer bypassed" NB --request-line 'CONNECT 52.112.0.1:443 HTTP/1.1'
want "optimize: outlook.office365.com:993 (Allow set 2) no longer bypassed" NB --request-line 'CONNECT outlook.office365.com:993 HTTP/1.1'
run_batch
check_stats "optimize statistics"
stop_cicap "optimize"

# =============================================================================
# exchange: ServiceAreas Exchange
# =============================================================================
reset_counts
NB='204 xns=- m365=-'
start_cicap exchange "m365_bypass.ServiceAreas Exchange"
started $? "exchange" || finish
check_match "exchange: startup line: service-areas=Exchange" "categories=Optimize,Allow service-areas=Exchange" "$(loaded_lines)"
want "exchange: outlook.office365.com still bypassed" $OUTLOOK --request-line 'CONNECT outlook.office365.com:443 HTTP/1.1'
want "exchange: outlook.office365.com:993 (Exchange Allow 2) still bypassed" by:Allow/Exchange/2 --request-line 'CONNECT outlook.office365.com:993 HTTP/1.1'
want "exchange: x.protection.outlook.com (Exchange 9) still bypassed" by:Allow/Exchange/9 --request-line 'CONNECT x.protection.outlook.com:443 HTTP/1.1'
want "exchange: teams.microsoft.com (Skype) not bypassed" NB --request-line 'CONNECT teams.microsoft.com:443 HTTP/1.1'
want "exchange: contoso.sharepoint.com (SharePoint) not bypassed" NB --request-line 'CONNECT contoso.sharepoint.com:443 HTTP/1.1'
want "exchange: login.microsoftonline.com (Common) not bypassed" NB --request-line 'CONNECT login.microsoftonline.com:443 HTTP/1.1'
run_batch
check_stats "exchange statistics"
stop_cicap "exchange"

# =============================================================================
# list2024: ListFile worldwide-2024-04-17.json
# =============================================================================
reset_counts
start_cicap list2024 "m365_bypass.ListFile $LIST2024"
started $? "list2024" || finish
check_match "list2024: startup line names the list file (72 sets)" "m365_bypass: loaded $LIST2024.*: 72 sets \\(" "$(loaded_lines)"
want "list2024: teams.cloud.microsoft (only in 2025) not bypassed" NB --request-line 'CONNECT teams.cloud.microsoft:443 HTTP/1.1'
want "list2024: x.compliance.microsoft.com (only in 2024, Allow 64) bypassed" by:Allow/Common/64 --request-line 'CONNECT x.compliance.microsoft.com:443 HTTP/1.1'
want "list2024: purview.microsoft.com (only in 2025) not bypassed" NB --request-line 'CONNECT purview.microsoft.com:443 HTTP/1.1'
want "list2024: 13.107.64.1 (only in 2024's set 12) bypassed" $TEAMS --request-line 'CONNECT 13.107.64.1:443 HTTP/1.1'
want "list2024: [2603:1063:6000::1] (only in 2025's set 31) not bypassed" NB --request-line 'CONNECT [2603:1063:6000::1]:443 HTTP/1.1'
want "list2024: teams.microsoft.com (in both) bypassed" $TEAMS --request-line 'CONNECT teams.microsoft.com:443 HTTP/1.1'
run_batch
check_stats "list2024 statistics"
stop_cicap "list2024"

# =============================================================================
# default: Categories Optimize,Allow,Default (the irregular glob, Default)
# =============================================================================
reset_counts
start_cicap default "m365_bypass.Categories Optimize,Allow,Default"
started $? "default" || finish
want "default: irregular glob autodiscover.*.onmicrosoft.com: autodiscover.contoso.onmicrosoft.com is Exchange 8" by:Default/Exchange/8 --request-line 'GET https://autodiscover.contoso.onmicrosoft.com/ HTTP/1.1'
want "default: irregular glob spans dots: autodiscover.a.b.onmicrosoft.com" by:Default/Exchange/8 --request-line 'GET http://autodiscover.a.b.onmicrosoft.com/ HTTP/1.1'
want "default: autodiscover.onmicrosoft.com is not the irregular glob (Common 78)" by:Default/Common/78 --request-line 'CONNECT autodiscover.onmicrosoft.com:443 HTTP/1.1'
want "default: www.office.com is Default, Common, 147" by:Default/Common/147 --request-line 'CONNECT www.office.com:443 HTTP/1.1'
want "default: teams.microsoft.com still Allow before Default" $TEAMS --request-line 'CONNECT teams.microsoft.com:443 HTTP/1.1'
run_batch
check_stats "default statistics"
stop_cicap "default"

# =============================================================================
# bad values stop c-icap at startup
# =============================================================================
# bad_value CASE DIRECTIVE-LINE NAMED: one c-icap with that line; it must
# exit 1 within 5 s without listening, and its server log must have
# "m365_bypass: ERROR: NAMED: ..." (NAMED: the directive as written).
bad_value() {
	_case=$1
	_t0=$(date +%s)
	export CICAP_START_TIMEOUT=5
	start_cicap "bad-$(printf '%s' "$_case" | tr -c 'A-Za-z0-9' '-')" "$2" 2>/dev/null
	unset CICAP_START_TIMEOUT
	_t1=$(date +%s)
	_rc=$(cat "$dir/cicap.status" 2>/dev/null)
	if [ -z "$_rc" ]; then
		not_ok "bad $_case: c-icap refuses to start" "it started and serves ($(loaded_lines | sed 's/.*m365_bypass: //'))"
		cicap_stop "$dir" >/dev/null 2>&1
		return
	fi
	check_eq "bad $_case: c-icap exits with status 1 at startup" 1 "$_rc"
	if [ $((_t1 - _t0)) -le 5 ]; then
		ok "bad $_case: c-icap exits within 5 s"
	else
		not_ok "bad $_case: c-icap exits within 5 s" "it took $((_t1 - _t0)) s"
	fi
	if _cicap_accepts "$port" || [ -n "$(cicap_pids "$dir")" ]; then
		not_ok "bad $_case: nothing listens, no c-icap left" "port $port: $(cicap_pids "$dir" | tr '\n' ' ')"
	else
		ok "bad $_case: nothing listens, no c-icap left"
	fi
	check_eq "bad $_case: nothing was served (empty access log)" "" "$(cat "$dir/access.log" 2>/dev/null)"
	_err=$(grep -a 'm365_bypass: ERROR: ' "$dir/server.log" 2>/dev/null)
	check_match "bad $_case: the server log says m365_bypass: ERROR: $3: ..." \
		"m365_bypass: ERROR: $(printf '%s' "$3" | sed 's/\./\\./g'): ." "$_err"
	check_eq "bad $_case: the error names no helper option (--...)" "" \
		"$(printf '%s\n' "$_err" | grep -Eo -- '--[a-z][a-z-]*' | head -n 1)"
	check_eq "bad $_case: no ASan/UBSan report" "" "$(cicap_asan_reports "$dir")"
}
bad_value "Categories Optimise" "m365_bypass.Categories Optimise" m365_bypass.Categories
bad_value "Categories empty item" "m365_bypass.Categories Optimize,,Allow" m365_bypass.Categories
bad_value "ListFile missing" "m365_bypass.ListFile $tmp/no-such-list.json" m365_bypass.ListFile
bad_value "ListFile not JSON" "m365_bypass.ListFile $MYFIX/not-json.json" m365_bypass.ListFile
bad_value "ListFile a local list" "m365_bypass.ListFile $MYFIX/local.list" m365_bypass.ListFile
bad_value "LocalList bad verb" "m365_bypass.LocalList $MYFIX/bad-verb.list" m365_bypass.LocalList
bad_value "LocalList missing" "m365_bypass.LocalList $tmp/no-such.list" m365_bypass.LocalList
bad_value "Redis http URL" "m365_bypass.Redis http://x" m365_bypass.Redis
bad_value "NextServices with ;" "m365_bypass.NextServices av_req;dlp_req" m365_bypass.NextServices
bad_value "NextServices empty item" "m365_bypass.NextServices av_req,,dlp_req" m365_bypass.NextServices
bad_value "RedisPrefix with a space" 'm365_bypass.RedisPrefix "m365 x:"' m365_bypass.RedisPrefix
bad_value "RedisPrefix two values" 'm365_bypass.RedisPrefix m365 x:' m365_bypass.RedisPrefix
bad_value "an unknown service area" "m365_bypass.ServiceAreas Nope" m365_bypass.ServiceAreas
# the worldwide list has no Optimize set in Common: both directives named
bad_value "a policy that selects nothing" "m365_bypass.Categories Optimize
m365_bypass.ServiceAreas Common" "m365_bypass.Categories, m365_bypass.ServiceAreas"

# c-icap's own parse error: an unknown directive of the service
dir=$tmp/bad-Bogus
start_cicap bad-Bogus "m365_bypass.Bogus 1" 2>/dev/null
check_eq "unknown directive m365_bypass.Bogus: c-icap exits at startup (status 0, c-icap's own)" 0 "$(cat "$dir/cicap.status" 2>/dev/null)"
check_match "unknown directive m365_bypass.Bogus: c-icap names the line in its output" "m365_bypass\\.Bogus" "$(cat "$dir/cicap.out")"
if _cicap_accepts "$port" || [ -n "$(cicap_pids "$dir")" ]; then
	not_ok "unknown directive m365_bypass.Bogus: nothing listens" "port $port"
else
	ok "unknown directive m365_bypass.Bogus: nothing listens"
fi

# =============================================================================
# every c-icap, once more: no sanitizer report at all
# =============================================================================
for d in $instances; do
	cicap_stop "$d" >/dev/null 2>&1
	check_eq "ASan/UBSan: no report from c-icap $(basename "$d")" "" "$(cicap_asan_reports "$d")"
done

finish
