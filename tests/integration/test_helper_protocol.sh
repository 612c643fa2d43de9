#!/bin/sh
# tests/integration/test_helper_protocol.sh - the Squid wire protocol of
# ext_m365_acl, byte for byte as brief/semantics.md and contract.md say.
#
# Drives the helper through pipes: the sanitizer build (build/san, ASan +
# UBSan; any sanitizer report on stderr is a failure) for every case, and
# the release build under valgrind once on a mixed input.  Covers the
# answers and their notes, channel IDs, extra tokens, "-" values, percent-
# and shell-quoted input, the error messages, SNI, --no-concurrency, bursts,
# unbuffered single answers, EOF, over-long lines, CR/LF and NUL bytes,
# --local, --categories, --service-areas, bad lists, options, and 10000
# garbage lines.  No answer may ever be BH.
. "$(dirname "$0")/../lib.sh"

SAN="$BUILD/san/ext_m365_acl"
REL="$BUILD/ext_m365_acl"
LIST="$ROOT/lists/endpoints-worldwide.json"
TMP=$(mktemp -d)
on_exit "rm -rf '$TMP'"
: >"$TMP/all"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Expected answers (without the channel ID).
T12='OK m365_category=Allow m365_service=Skype m365_set=12'
O1='OK m365_category=Optimize m365_service=Exchange m365_set=1'
S11='OK m365_category=Optimize m365_service=Skype m365_set=11'
LOCAL='OK m365_category=Local m365_service=Local'
NOLIST='ERR message="no list loaded"'

if [ ! -x "$SAN" ] || [ ! -x "$REL" ]; then
	make -s -C "$ROOT" build/ext_m365_acl build/san/ext_m365_acl >/dev/null 2>&1
fi
for b in "$SAN" "$REL"; do
	if [ ! -x "$b" ]; then
		not_ok "build $(basename "$(dirname "$b")")/ext_m365_acl" "missing"
		finish
	fi
done

# --- helpers -------------------------------------------------------------

# show FILE: the bytes of FILE as a Python literal (for failure messages).
show() {
	python3 -c 'import sys; print(repr(open(sys.argv[1], "rb").read())[:600])' "$1"
}

# sanitized FILE: true when FILE holds an ASan, LSan or UBSan report.
sanitized() {
	grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$1"
}

# run IN [ARGS...]: runs the sanitizer helper with ARGS on file IN; stdout
# in $TMP/out, stderr in $TMP/err, exit status in $rc.
run() {
	_in=$1
	shift
	"$SAN" "$@" <"$_in" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	cat "$TMP/out" >>"$TMP/all"
}

# verdict NAME: one PASS/FAIL for the last run against $TMP/want: no
# sanitizer report, exit 0, stdout equal to $TMP/want byte for byte.
verdict() {
	if sanitized "$TMP/err"; then
		not_ok "$1" "sanitizer: $(grep -m1 -E 'Sanitizer|runtime error' "$TMP/err")"
	elif [ "$rc" -ne 0 ]; then
		not_ok "$1" "exit status $rc, stderr: $(head -c 300 "$TMP/err")"
	elif cmp -s "$TMP/want" "$TMP/out"; then
		ok "$1"
	else
		not_ok "$1" "expected $(show "$TMP/want"), got $(show "$TMP/out")"
	fi
}

# ask NAME INPUT WANT [ARGS...]: INPUT and WANT are lines (newline-joined);
# each gets a final newline.
ask() {
	_name=$1
	printf '%s\n' "$2" >"$TMP/in"
	printf '%s\n' "$3" >"$TMP/want"
	shift 3
	run "$TMP/in" "$@"
	verdict "$_name"
}

# ask_raw NAME WANT [ARGS...]: input already in $TMP/in (exact bytes).
ask_raw() {
	_name=$1
	printf '%s\n' "$2" >"$TMP/want"
	shift 2
	run "$TMP/in" "$@"
	verdict "$_name"
}

# A Default-only name of the bundled list: a plain url of a Default set
# with port 443 that no Optimize/Allow pattern matches.
DEFAULT_NAME=$(python3 - "$LIST" <<'PY'
import json, re, sys
sets = json.load(open(sys.argv[1]))
def glob(p, h):
    return re.fullmatch(".*".join(map(re.escape, p.split("*"))), h) is not None
def ports(s):
    return {p.strip() for p in s.get("tcpPorts", "").split(",")}
chosen = [s for s in sets if s["category"] in ("Optimize", "Allow")]
for s in sets:
    if s["category"] != "Default" or "443" not in ports(s):
        continue
    for u in s.get("urls", []):
        if "*" not in u and not any(glob(p, u) for c in chosen for p in c.get("urls", [])):
            print(u)
            sys.exit(0)
PY
)
[ -n "$DEFAULT_NAME" ] || not_ok "find a Default-only name" "none in $LIST"

# --- answers and their notes ---------------------------------------------

ask "teams.microsoft.com 443: OK Allow Skype set 12" \
	"1 teams.microsoft.com 443 -" "1 $T12"
ask "outlook.office365.com 443: OK Optimize Exchange set 1" \
	"2 outlook.office365.com 443 -" "2 $O1"
ask "outlook.office365.com 993: set 2 (Allow, port 993 only there)" \
	"2 outlook.office365.com 993 -" \
	"2 OK m365_category=Allow m365_service=Exchange m365_set=2"
ask "outlook.office365.com 8080: no set has the port" \
	"2 outlook.office365.com 8080 -" "2 ERR"
ask "wildcard a.b.teams.microsoft.com 443: set 12" \
	"3 a.b.teams.microsoft.com 443 -" "3 $T12"
ask "IPv4 inside 52.112.0.0/14 at 443: set 12" \
	"4 52.112.1.1 443 -" "4 $T12"
ask "IPv4 inside 52.112.0.0/14, port unknown: set 11 (no tcpPorts)" \
	"4 52.112.1.1 -" "4 $S11"
ask "IPv4 inside 52.112.0.0/14 at 3478 (UDP only): ERR" \
	"4 52.112.1.1 3478 -" "4 ERR"
ask "IPv4-mapped IPv6 of 52.112.1.1 at 443: set 12" \
	"4 ::ffff:52.112.1.1 443 -" "4 $T12"
ask "IPv4 13.107.6.152 at 443: set 1" "4 13.107.6.152 443 -" "4 $O1"
ask "IPv6 [2603:1063::1] port unknown: set 11" "5 [2603:1063::1] -" "5 $S11"
ask "IPv6 outside Microsoft: ERR" "5 2001:db8::1 443 -" "5 ERR"
ask "IPv4 outside Microsoft: ERR" "5 198.51.100.7 443 -" "5 ERR"
ask "unrelated name: ERR" "6 www.example.com 443 -" "6 ERR"
ask "look-alike teams.microsoft.com.evil.example: ERR" \
	"6 teams.microsoft.com.evil.example 443 -" "6 ERR"
ask "evilteams.microsoft.com is not *.teams.microsoft.com (only Default *.microsoft.com)" \
	"6 evilteams.microsoft.com 443 -" "6 ERR m365_category=Default"
ask "Default-only $DEFAULT_NAME 443: ERR m365_category=Default" \
	"7 $DEFAULT_NAME 443 -" "7 ERR m365_category=Default"
ask "uppercase and trailing dot are normalised" \
	"7 TEAMS.Microsoft.COM. 443 -" "7 $T12"

# --- channel IDs, extra tokens, "-" ----------------------------------------

ask "channel IDs echoed as is" "$(printf '%s\n' \
	"0 teams.microsoft.com 443 -" \
	"1 www.example.com 443 -" \
	"18446744073709551615 teams.microsoft.com 443 -" \
	"99999999999999999999999 teams.microsoft.com 443 -" \
	"abc-XYZ_1.2:7 www.example.com 443 -" \
	"007 outlook.office365.com 443 -")" "$(printf '%s\n' \
	"0 $T12" "1 ERR" "18446744073709551615 $T12" \
	"99999999999999999999999 $T12" "abc-XYZ_1.2:7 ERR" "007 $O1")"
ask "extra tokens are ignored" "$(printf '%s\n' \
	"8 teams.microsoft.com 443 - -" \
	"9 teams.microsoft.com 443 - extra tokens here" \
	"10 www.example.com 443 - -")" "$(printf '%s\n' \
	"8 $T12" "9 $T12" "10 ERR")"
ask "'-' for port and SNI" "$(printf '%s\n' \
	"11 teams.microsoft.com - -" \
	"12 teams.microsoft.com" \
	"13 teams.microsoft.com 443" \
	"14 52.112.1.1 - - -")" "$(printf '%s\n' \
	"11 $T12" "12 $T12" "13 $T12" "14 $S11")"

# --- decoding --------------------------------------------------------------

ask "percent-encoded input" "$(printf '%s\n' \
	"15 teams%2emicrosoft%2ecom 443 -" \
	"16 teams%2Emicrosoft%2Ecom 443 teams%2emicrosoft%2ecom" \
	"17 www%2eexample%2ecom 443 -" "17 teams.microsoft.com 443 %2d")" \
	"$(printf '%s\n' "15 $T12" "16 $T12" "17 ERR" "17 $T12")"
ask "percent-encoded port; only a literal - is unknown" "$(printf '%s\n' \
	"17 teams.microsoft.com %34%343 -" "17 teams.microsoft.com %2d -" \
	'17 teams.microsoft.com "" -' "17 teams.microsoft.com - -")" \
	"$(printf '%s\n' "17 $T12" '17 ERR message="invalid port"' \
	'17 ERR message="invalid port"' "17 $T12")"
ask "unterminated quote" "$(printf '%s\n' \
	'17 "teams.microsoft.com 443 -' '17 teams.microsoft.com "443 -')" \
	"$(printf '%s\n' '17 ERR message="unterminated quote in destination"' \
	'17 ERR message="unterminated quote in port"')"
ask "shell-quoted input" "$(printf '%s\n' \
	'18 "teams.microsoft.com" 443 -' \
	'19 "teams.microsoft.com" "443" "teams.microsoft.com" "-"' \
	'20 "teams.microsoft.com x" 443 -' \
	'21 "teams\.microsoft.com" 443 -')" "$(printf '%s\n' \
	"18 $T12" "19 $T12" '20 ERR message="invalid destination"' "21 $T12")"

# --- messages --------------------------------------------------------------

ask "missing destination" "$(printf '%s\n' "22" "23 - 443 -" '24 "" 443 -')" \
	"$(printf '%s\n' '22 ERR message="missing destination"' \
	'23 ERR message="missing destination"' \
	'24 ERR message="missing destination"')"
ask "invalid destination" "$(printf '%s\n' \
	"25 bad..name 443 -" "26 .teams.microsoft.com 443 -" \
	"27 teams.microsoft.com%20x 443 -" "28 t\"eams.microsoft.com 443 -" \
	"29 teams.micro\$oft.com 443 -")" "$(printf '%s\n' \
	'25 ERR message="invalid destination"' \
	'26 ERR message="invalid destination"' \
	'27 ERR message="invalid destination"' \
	'28 ERR message="invalid destination"' \
	'29 ERR message="invalid destination"')"
ask "other spellings of 52.112.0.1 are names, not IP literals" \
	"$(printf '%s\n' "28 052.112.0.1 443 -" "28 0x34.0x70.0.1 443 -" \
	"28 879755265 443 -")" "$(printf '%s\n' "28 ERR" "28 ERR" "28 ERR")"
ask "invalid port" "$(printf '%s\n' \
	"30 teams.microsoft.com 0 -" "31 teams.microsoft.com 65536 -" \
	"32 teams.microsoft.com abc -" "33 teams.microsoft.com 443x -" \
	"34 teams.microsoft.com -443 -")" "$(printf '%s\n' \
	'30 ERR message="invalid port"' '31 ERR message="invalid port"' \
	'32 ERR message="invalid port"' '33 ERR message="invalid port"' \
	'34 ERR message="invalid port"')"
ask "invalid SNI" "$(printf '%s\n' \
	"35 teams.microsoft.com 443 bad..sni" \
	"36 teams.microsoft.com 443 .x")" "$(printf '%s\n' \
	'35 ERR message="invalid SNI"' '36 ERR message="invalid SNI"')"

# --- SNI -------------------------------------------------------------------

ask "SNI: both bypass" "$(printf '%s\n' \
	"37 teams.microsoft.com 443 teams.microsoft.com" \
	"38 outlook.office365.com 443 teams.microsoft.com" \
	"39 52.112.1.1 443 teams.microsoft.com")" "$(printf '%s\n' \
	"37 $T12" "38 $O1" "39 $T12")"
ask "SNI mismatch: DST bypass, SNI not" "$(printf '%s\n' \
	"40 teams.microsoft.com 443 evil.example" \
	"41 teams.microsoft.com 443 $DEFAULT_NAME" \
	"42 52.112.1.1 443 evil.example")" "$(printf '%s\n' \
	'40 ERR message="SNI is not a bypass"' \
	'41 ERR message="SNI is not a bypass"' \
	'42 ERR message="SNI is not a bypass"')"
ask "SNI mismatch: SNI bypass, DST not" \
	"43 evil.example 443 teams.microsoft.com" "43 ERR"

# --- --no-concurrency, bursts, EOF -----------------------------------------

ask "--no-concurrency: no channel IDs, in order" "$(printf '%s\n' \
	"teams.microsoft.com 443 -" "www.example.com 443 -" \
	"outlook.office365.com 443 - -" "bad..name 443 -" \
	"$DEFAULT_NAME 443 -")" "$(printf '%s\n' \
	"$T12" "ERR" "$O1" 'ERR message="invalid destination"' \
	"ERR m365_category=Default")" --no-concurrency

python3 - "$TMP/in" <<'PY'
import sys
open(sys.argv[1], "wb").write(b"teams.microsoft.com " + b"9" * 70000 + b"\n"
                              b"teams.microsoft.com 443 -\n")
PY
ask_raw "--no-concurrency: over-long line" \
	"$(printf '%s\n' 'ERR message="line too long"' "$T12")" --no-concurrency
ask "--no-concurrency: no list loaded" "teams.microsoft.com 443 -" "$NOLIST" \
	--no-concurrency --list "$TMP/nonexistent.json"

python3 - "$TMP/in" "$TMP/want" "$DEFAULT_NAME" "$T12" "$O1" "$S11" <<'PY'
import sys
cases = [("teams.microsoft.com 443 -", sys.argv[4]),
         ("www.example.com 443 -", "ERR"),
         ("outlook.office365.com 443 -", sys.argv[5]),
         ("52.112.7.7 - -", sys.argv[6]),
         (sys.argv[3] + " 443 -", "ERR m365_category=Default")]
with open(sys.argv[1], "w") as i, open(sys.argv[2], "w") as w:
    for n in range(5000):
        q, a = cases[n % len(cases)]
        i.write("%d %s -\n" % (n, q))
        w.write("%d %s\n" % (n, a))
PY
run "$TMP/in"
verdict "5000 requests in one write, all answered in order"

# The same burst answered in few writes (the release build under strace).
if command -v strace >/dev/null 2>&1; then
	strace -e trace=write -o "$TMP/strace" "$REL" <"$TMP/in" >"$TMP/out" 2>/dev/null
	n=$(grep -c '^write(1,' "$TMP/strace")
	if cmp -s "$TMP/want" "$TMP/out" && [ "$n" -ge 1 ] && [ "$n" -le 10 ]; then
		ok "5000-request burst answered in few writes ($n)"
	else
		not_ok "5000-request burst answered in few writes" "$n writes"
	fi
else
	echo "SKIP: burst answered in few writes: no strace"
fi

printf '44 teams.microsoft.com 443 -' >"$TMP/in"
ask_raw "final line without newline answered at EOF" "44 $T12"
: >"$TMP/in"
run "$TMP/in"
if [ "$rc" -eq 0 ] && [ ! -s "$TMP/out" ] && ! sanitized "$TMP/err"; then
	ok "empty input: no output, exit 0"
else
	not_ok "empty input: no output, exit 0" "rc $rc, out $(show "$TMP/out")"
fi
ask "EOF after requests: exit 0" "45 www.example.com" "45 ERR"

# A lone request is answered while stdin stays open (no buffering), also
# when it arrives in two pieces; closing stdin then ends the helper with 0.
python3 - "$SAN" "$T12" >"$TMP/lone" 2>&1 <<'PY'
import os, select, subprocess, sys, time
p = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
def answer(timeout):
    buf = b""
    end = time.time() + timeout
    while not buf.endswith(b"\n"):
        left = end - time.time()
        if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
            return buf + b" <timeout>"
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            return buf + b" <eof>"
        buf += chunk
    return buf
def send(b):
    p.stdin.write(b)
    p.stdin.flush()
send(b"1 teams.microsoft.com 443 -\n")
a1 = answer(15)
send(b"2 www.exa")
early = select.select([p.stdout], [], [], 0.3)[0]
send(b"mple.com 443 -\n")
a2 = answer(5)
p.stdin.close()
try:
    rc = p.wait(10)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "hang"
err = p.stderr.read().decode(errors="replace")
want1 = ("1 %s\n" % sys.argv[2]).encode()
problems = []
if a1 != want1: problems.append("first answer %r" % a1)
if early: problems.append("answered a partial line")
if a2 != b"2 ERR\n": problems.append("second answer %r" % a2)
if rc != 0: problems.append("exit %s after EOF" % rc)
if "Sanitizer" in err or "runtime error" in err: problems.append(err[:300])
print("; ".join(problems) if problems else "ok")
PY
check_eq "lone request answered at once, stdin open; EOF exits 0" \
	"ok" "$(cat "$TMP/lone")"

# --- over-long lines, CR/LF, NUL ---------------------------------------------

python3 - "$TMP/in" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"46 " + b"a" * 100000 + b" 443 -\n")
    f.write(b"47 teams.microsoft.com 443 -\n")
    f.write(b"48 teams.microsoft.com 443 " + b"b" * 3000000 + b"\n")
    f.write(b"49 outlook.office365.com 443 -\n")
    f.write(b"50 " + b"c" * 60000 + b" 443 -\n")
    f.write(b"51 " + b"d" * 70000)
PY
ask_raw "over-long lines answered, next lines still answered" "$(printf '%s\n' \
	'46 ERR message="line too long"' "47 $T12" \
	'48 ERR message="line too long"' "49 $O1" \
	'50 ERR message="invalid destination"' '51 ERR message="line too long"')"

python3 - "$TMP/in" <<'PY'
import sys
open(sys.argv[1], "wb").write(b"x" * 100000 + b"\n52 teams.microsoft.com 443 -\n")
PY
run "$TMP/in"
python3 - "$TMP/out" "$T12" >"$TMP/res" <<'PY'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
# No channel ID to answer on (Squid could not match an answer to it): the
# line is dropped with a warning on stderr, and the next one is answered.
ok = (len(lines) == 2 and lines[1] == b"" and
      lines[0] == ("52 %s" % sys.argv[2]).encode())
print("ok" if ok else repr(lines)[:300])
PY
if sanitized "$TMP/err" || [ "$rc" -ne 0 ]; then
	not_ok "over-long line without a readable channel ID" "rc $rc, $(head -c 300 "$TMP/err")"
else
	check_eq "over-long line without a readable channel ID" "ok" "$(cat "$TMP/res")"
	check_match "over-long line without a channel ID is logged" \
		"request line longer than" "$(cat "$TMP/err")"
fi

printf '53 teams.microsoft.com 443 -\r\n54 teams.microsoft.com 443\r\n55 teams.microsoft.com\r\n56 www.example.com 443 -\r\n' >"$TMP/in"
ask_raw "CRLF line endings" "$(printf '%s\n' "53 $T12" "54 $T12" "55 $T12" "56 ERR")"

python3 - "$TMP/in" <<'PY'
import sys
open(sys.argv[1], "wb").write(
    b"57 teams.microsoft.com\0evil.example 443 -\n"
    b"58 teams.microsoft.com 443 teams.microsoft.com\0x\n"
    b"59 teams.microsoft.com 4\x0043 -\n"
    b"60 \0teams.microsoft.com 443 -\n"
    b"61 teams.microsoft.com 443 -\n")
PY
ask_raw "NUL bytes inside a line" "$(printf '%s\n' \
	'57 ERR message="invalid destination"' '58 ERR message="invalid SNI"' \
	'59 ERR message="invalid port"' '60 ERR message="invalid destination"' \
	"61 $T12")"

# --- policy options ------------------------------------------------------------

cat >"$TMP/local.list" <<'EOF'
# a local list
never   teams.microsoft.com
bypass  *.zoom.us          # extra names
bypass  203.0.113.0/24
bypass  outlook.office365.com
bypass  re:^meet[0-9]+\.example\.net$

EOF
ask "--local: never and bypass rules" "$(printf '%s\n' \
	"62 teams.microsoft.com 443 -" "63 a.zoom.us 443 -" "64 zoom.us 443 -" \
	"65 203.0.113.7 8080 -" "66 outlook.office365.com 443 -" \
	"67 outlook.office365.com 8080 -" "68 meet12.example.net 443 -" \
	"69 meetx.example.net 443 -" "70 x.teams.microsoft.com 443 -" \
	"71 a.zoom.us 443 a.zoom.us")" "$(printf '%s\n' \
	'62 ERR message="local never rule"' "63 $LOCAL" "64 ERR" "65 $LOCAL" \
	"66 $O1" "67 $LOCAL" "68 $LOCAL" "69 ERR" "70 $T12" "71 $LOCAL")" \
	--local "$TMP/local.list"

ask "--categories Optimize: Allow sets now ERR with their category" \
	"$(printf '%s\n' "72 teams.microsoft.com 443 -" \
	"73 outlook.office365.com 443 -" "74 52.112.1.1 -")" \
	"$(printf '%s\n' "72 ERR m365_category=Allow" "73 $O1" "74 $S11")" \
	--categories Optimize
ask "--service-areas Skype" "$(printf '%s\n' "75 teams.microsoft.com 443 -" \
	"76 outlook.office365.com 443 -" "77 contoso.sharepoint.com 443 -")" \
	"$(printf '%s\n' "75 $T12" "76 ERR m365_category=Optimize" \
	"77 ERR m365_category=Optimize")" --service-areas Skype

# bad_list NAME STDERR_REGEX ARGS...: the helper keeps running, answers
# "no list loaded" to everything, and names the problem on stderr once.
bad_list() {
	_name=$1
	_re=$2
	shift 2
	printf '%s\n' "78 teams.microsoft.com 443 -" "79 www.example.com" \
		"80 outlook.office365.com 443 -" >"$TMP/in"
	printf '%s\n' "78 $NOLIST" "79 $NOLIST" "80 $NOLIST" >"$TMP/want"
	run "$TMP/in" "$@"
	verdict "$_name: answers no list loaded"
	if grep -Eq -- "$_re" "$TMP/err"; then
		ok "$_name: stderr names it"
	else
		not_ok "$_name: stderr names it" "no /$_re/ in $(show "$TMP/err")"
	fi
	_n=$(grep -Ec -- "$_re" "$TMP/err")
	check_eq "$_name: error reported once" 1 "$_n"
}

printf '# bad\nbypass *.zoom.us\nfrobnicate example.com\n' >"$TMP/bad.list"
bad_list "bad --local (unknown verb)" "$TMP/bad.list:3:" --local "$TMP/bad.list"
printf 'bypass 203.0.113.0/33\n' >"$TMP/bad2.list"
bad_list "bad --local (invalid CIDR)" "$TMP/bad2.list:1:" --local "$TMP/bad2.list"
printf '[\n  {"id": 1, "serviceArea": "Common",\n   "category": "Allow" "urls": ["a.example"]}\n]\n' >"$TMP/bad.json"
bad_list "bad --list (JSON syntax)" "$TMP/bad.json: line 3" --list "$TMP/bad.json"
printf '[{"id": 1, "serviceArea": "Common", "category": "Allow", "tcpPorts": "443", "urls": ["ok.example", "*"]}]\n' >"$TMP/broad.json"
bad_list "bad --list (breadth guard)" "$TMP/broad.json: \\\$\\[0\\]\\.urls\\[1\\]" \
	--list "$TMP/broad.json"
bad_list "missing --list file" "$TMP/nonexistent.json" --list "$TMP/nonexistent.json"
bad_list "bad --categories" "Nonsense" --categories Nonsense

ask "--list with the 2021 fixture: contoso-files.sharepoint.com is set 31" \
	"81 contoso-files.sharepoint.com 443 -" \
	"81 OK m365_category=Optimize m365_service=SharePoint m365_set=31" \
	--list "$FIXTURES/worldwide-2021-10-11.json"
ask "--list 2021 --categories Default: *-files.sharepoint.com is set 39" \
	"81 contoso-files.sharepoint.com 443 -" \
	"81 OK m365_category=Default m365_service=SharePoint m365_set=39" \
	--list "$FIXTURES/worldwide-2021-10-11.json" --categories Default \
	--service-areas SharePoint
# the 2021 list's Default set 72 has *.cloudapp.net, a public suffix:
# refused wherever Default is selected with it
bad_list "--list 2021 --categories Default (set 72: *.cloudapp.net)" \
	'set 72: urls\[0\] "\*\.cloudapp\.net": the pattern covers a public suffix' \
	--list "$FIXTURES/worldwide-2021-10-11.json" --categories Default
ask "--categories Default: irregular globs, lowest id wins" "$(printf '%s\n' \
	"83 autodiscover.contoso.onmicrosoft.com 443 -" \
	"84 autodiscover.a.b.onmicrosoft.com 443 -" "85 foocdn.onenote.net 443 -" \
	"86 onenote.net 443 -" "87 evilteams.microsoft.com 443 -")" \
	"$(printf '%s\n' \
	"83 OK m365_category=Default m365_service=Exchange m365_set=8" \
	"84 OK m365_category=Default m365_service=Exchange m365_set=8" \
	"85 OK m365_category=Default m365_service=Common m365_set=51" \
	"86 ERR" "87 OK m365_category=Default m365_service=Common m365_set=50")" \
	--categories Default
ask "-d/--debug leaves stdout unchanged" "82 teams.microsoft.com 443 -" \
	"82 $T12" -d

# --- command line ----------------------------------------------------------------

: >"$TMP/in"
run "$TMP/in" --no-such-option
if [ "$rc" -eq 2 ] && grep -qi usage "$TMP/err" && ! sanitized "$TMP/err"; then
	ok "unknown option: exit 2, usage on stderr"
else
	not_ok "unknown option: exit 2, usage on stderr" "rc $rc, stderr $(show "$TMP/err")"
fi
run "$TMP/in" --help
if [ "$rc" -eq 0 ] && grep -qi usage "$TMP/out" "$TMP/err" && ! sanitized "$TMP/err"; then
	ok "--help: exit 0 with usage"
else
	not_ok "--help: exit 0 with usage" "rc $rc"
fi
run "$TMP/in" -h
check_eq "-h: exit 0" 0 "$rc"
run "$TMP/in" --version
check_eq "--version: exit 0" 0 "$rc"

# --- 10000 garbage lines -------------------------------------------------------

python3 - "$TMP/in" <<'PY'
import random, sys
rnd = random.Random(365)
alphabet = bytes(b for b in range(256) if b != 10)
pieces = [b"teams.microsoft.com", b"%2e", b"%", b'"', b"\\", b" ", b"-", b"\r",
          b"\0", b"443", b"..", b"[", b"]", b"::ffff:", b"*", b"\xff\xfe"]
with open(sys.argv[1], "wb") as f:
    for i in range(10000):
        if i % 2000 == 1999:   # a few over-long ones
            body = bytes(rnd.choice(alphabet) for _ in range(200)) * 400
        elif i % 2:
            body = bytes(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 200)))
        else:
            body = b"".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 30)))
        f.write(b"g%d " % i + body + b"\n")
PY
cp "$TMP/in" "$TMP/garbage"
run "$TMP/in"
python3 - "$TMP/out" >"$TMP/res" <<'PY'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
bad = []
if lines[-1] != b"":
    bad.append("no final newline")
lines = lines[:-1]
if len(lines) != 10000:
    bad.append("%d answers" % len(lines))
for i, l in enumerate(lines[:10000]):
    t = l.split(b" ")
    if len(t) < 2 or t[0] != b"g%d" % i or t[1] not in (b"OK", b"ERR"):
        bad.append("answer %d: %r" % (i, l[:100]))
        break
    if i % 2000 == 1999 and l != b'g%d ERR message="line too long"' % i:
        bad.append("answer %d: %r" % (i, l[:100]))
        break
print("; ".join(bad) if bad else "ok")
PY
if sanitized "$TMP/err" || [ "$rc" -ne 0 ]; then
	not_ok "10000 garbage lines" "rc $rc, $(grep -m1 -E 'Sanitizer|runtime error' "$TMP/err")"
else
	check_eq "10000 garbage lines: one answer each, in order, no crash" \
		"ok" "$(cat "$TMP/res")"
fi

# --- valgrind on the release build ---------------------------------------------

python3 - "$TMP/in" "$TMP/want" "$T12" "$O1" "$LOCAL" <<'PY'
import sys
T12, O1, LOCAL = sys.argv[3:6]
cases = [(b"teams.microsoft.com 443 -", T12), (b"www.example.com 443 -", "ERR"),
         (b"teams%2emicrosoft%2ecom 443 - -", T12), (b'"outlook.office365.com" 443', O1),
         (b"a.zoom.us 443 -", LOCAL), (b"bad..x 443 -", 'ERR message="invalid destination"'),
         (b"teams.microsoft.com 443 evil.example", 'ERR message="SNI is not a bypass"'),
         (b"meet7.example.net -", LOCAL), (b"x" * 70000, 'ERR message="line too long"'),
         (b"2603:1063::1 443\r", T12), (b"teams.microsoft.com 99999 -", 'ERR message="invalid port"')]
with open(sys.argv[1], "wb") as i, open(sys.argv[2], "w") as w:
    for n in range(300):
        q, a = cases[n % len(cases)]
        i.write(b"%d " % n + q + b"\n")
        w.write("%d %s\n" % (n, a))
PY
sed -i '/^never/d' "$TMP/local.list"
valgrind -q --leak-check=full --error-exitcode=99 "$REL" --local "$TMP/local.list" \
	<"$TMP/in" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out" >>"$TMP/all"
if [ "$rc" -ne 0 ]; then
	not_ok "valgrind: mixed input, no leaks or errors" "exit $rc: $(head -c 600 "$TMP/err")"
elif cmp -s "$TMP/want" "$TMP/out"; then
	ok "valgrind: mixed input, no leaks or errors"
else
	not_ok "valgrind: mixed input, no leaks or errors" "answers differ: $(diff "$TMP/want" "$TMP/out" | head -4)"
fi

head -n 2000 "$TMP/garbage" >"$TMP/in"
valgrind -q --leak-check=full --error-exitcode=99 "$REL" <"$TMP/in" \
	>"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out" >>"$TMP/all"
n=$(wc -l <"$TMP/out")
if [ "$rc" -eq 0 ] && [ "$n" -eq 2000 ]; then
	ok "valgrind: 2000 garbage lines, no leaks or errors"
else
	not_ok "valgrind: 2000 garbage lines, no leaks or errors" "exit $rc, $n answers: $(head -c 600 "$TMP/err")"
fi

# --- never BH ------------------------------------------------------------------

if grep -aEn '(^|[[:space:]])BH([[:space:]]|$)' "$TMP/all" >"$TMP/bh"; then
	not_ok "no answer is BH" "$(head -3 "$TMP/bh")"
else
	ok "no answer is BH ($(wc -l <"$TMP/all") answers checked)"
fi

finish
