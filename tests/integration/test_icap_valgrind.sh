#!/bin/sh
# tests/integration/test_icap_valgrind.sh - srv_m365_bypass inside a real
# c-icap under valgrind (memcheck).
#
# Starts c-icap (1 child, 2 threads) with the optimised module
# build/srv_m365_bypass.so under
#   valgrind --trace-children=yes --leak-check=full
#            --errors-for-leak-kinds=definite --log-file=DIR/vg.%p
# sends a few hundred mixed requests from two clients at once (bypass,
# plain, malformed, RESPMOD with and without req-hdr, bodies, c-icap's
# echo), stops it, and reads every process's valgrind log: no error and no
# definitely lost block whose stack touches the module (a frame in the
# module's sources under $ROOT, or in srv_m365_bypass.so).  c-icap's own
# findings (a use-after-free of its PidFile path at exit in the main
# process, its own leaks) are printed on stderr and not counted.
# Needs c-icap, valgrind and python3; no network.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/icap_lib.sh
. "$ROOT/tests/icap_lib.sh"

MODULE=$BUILD/srv_m365_bypass.so
export CICAP_CHILDREN=1 CICAP_THREADS=2
# valgrind starts slowly: wait up to 90 s for c-icap to listen
export CICAP_START_TIMEOUT=90
ROUNDS=25 # per client; 2 clients x 25 rounds x 13 requests = 650 requests

tmp=""
abort() {
	not_ok "setup" "$1"
	[ -n "$tmp" ] && cicap_diagnostics "$tmp"
	finish
}

for prog in c-icap c-icap-config python3 ps valgrind; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ -f "$MODULE" ] || abort "$MODULE missing (make all)"

tmp=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$tmp'"
dir=$tmp/cicap
mkdir "$dir"

# --- start ------------------------------------------------------------------------
cicap_m365_conf "$tmp/m365.conf" "$MODULE" || abort "cicap_m365_conf failed"
started=""
rm -f "$dir"/vg.*
t0=$(date +%s)
cicap_launch "$dir" "$tmp/m365.conf" valgrind --trace-children=yes \
	--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--fullpath-after= --num-callers=30 --log-file="$dir/vg.%p" \
	2>"$tmp/start.err" && started=1
port=$CICAP_PORT
if [ -n "$started" ]; then
	ok "c-icap with srv_m365_bypass.so starts under valgrind ($(($(date +%s) - t0)) s)"
else
	not_ok "c-icap with srv_m365_bypass.so starts under valgrind" "$(head -n 3 "$tmp/start.err" | tr '\n' ' ')"
	cat "$tmp/start.err" >&2
	finish
fi
main_pid=$(cicap_main_pid "$dir")
kid=$(cicap_children "$dir" | head -n 1)
check_match "c-icap's main process runs under valgrind" "memcheck" "$(readlink "/proc/$main_pid/exe")"
check_match "c-icap's child runs under valgrind" "memcheck" "$(readlink "/proc/$kid/exe")"
check_eq "the module loaded (its startup line is in the server log)" 1 \
	"$(grep -ac 'm365_bypass: loaded bundled list' "$dir/server.log")"

# --- traffic ----------------------------------------------------------------------
cat >"$tmp/traffic.py" <<'EOF'
# traffic.py PORT ROUNDS: ROUNDS x the mix below on keep-alive connections
# (a new one every round); prints "sent bypass plain echo errors mismatches".
import os, sys
sys.path.insert(0, os.environ["ICAP_CLIENT_DIR"])
import icap_client as ic

port, rounds = int(sys.argv[1]), int(sys.argv[2])
H = ic.http_request
big = bytes(33 + (i * 7919) % 90 for i in range(102400))
small = b"x" * 1000
long_host = "a" * 4981 + ".teams.microsoft.com"
R = lambda n: ic.http_response(200, content_length=n)
mix = [  # (expected, method, send_request keywords)
    ("bypass", "REQMOD", dict(req_head=H("GET http://teams.microsoft.com/ HTTP/1.1"))),
    ("bypass", "REQMOD", dict(req_head=H("CONNECT outlook.office365.com:443 HTTP/1.1"))),
    ("bypass", "REQMOD", dict(req_head=H("GET / HTTP/1.1", ["Host: [2603:1063::1]:443"]))),
    ("bypass", "REQMOD", dict(req_head=H("GET http://Teams%2eMicrosoft.com./ HTTP/1.1"))),
    ("plain", "REQMOD", dict(req_head=H("GET http://teams.microsoft.com.evil.example/ HTTP/1.1"))),
    ("plain", "REQMOD", dict(req_head=H("GET / HTTP/1.1", auto_host=False))),
    ("plain", "REQMOD", dict(req_head=H("GET / HTTP/1.1", ["Host: teams.microsoft.com", "Host: x"]))),
    ("plain", "REQMOD", dict(req_head=H("GET / HTTP/1.1", ["Host: " + long_host]))),
    ("plain", "REQMOD", dict(req_head=H("CONNECT teams.microsoft.com:65536 HTTP/1.1"))),
    ("bypass", "REQMOD", dict(req_head=H("POST https://teams.microsoft.com/up HTTP/1.1"), body=big)),
    ("bypass", "RESPMOD", dict(req_head=H("GET https://a.b.teams.microsoft.com/f HTTP/1.1"),
                               res_head=R(len(big)), body=big)),
    ("plain", "RESPMOD", dict(req_head=None, res_head=R(len(small)), body=small)),
    ("echo", "REQMOD", dict(req_head=H("POST http://example.com/ HTTP/1.1"), body=small,
                            preview=None, allow204=False)),
]
sent = bypass = plain = echo = errors = mismatches = 0
for _ in range(rounds):
    try:
        with ic.Connection("127.0.0.1", port, timeout=30) as c:
            for want, method, kw in mix:
                sent += 1
                r = c.send_request(method, "m365_bypass", **kw)
                if r.status == 204 and r.header("X-Next-Services") is not None \
                        and r.header("X-M365-Category") is not None:
                    got = "bypass"
                elif r.status == 204 and r.header("X-Next-Services") is None:
                    got = "plain"
                elif r.status == 200 and r.body == kw.get("body"):
                    got = "echo"
                else:
                    got = "other %d" % r.status
                bypass += got == "bypass"
                plain += got == "plain"
                echo += got == "echo"
                if got != want:
                    mismatches += 1
                    sys.stderr.write("%s %r: expected %s, got %s\n" % (method, kw.get("req_head"), want, got))
    except ic.ICAPError as e:
        errors += 1
        sys.stderr.write("error: %s\n" % e)
print(sent, bypass, plain, echo, errors, mismatches)
EOF
t0=$(date +%s)
ICAP_CLIENT_DIR=$ROOT/tests/integration python3 "$tmp/traffic.py" "$port" "$ROUNDS" >"$tmp/c1.out" 2>"$tmp/c1.err" &
c1=$!
ICAP_CLIENT_DIR=$ROOT/tests/integration python3 "$tmp/traffic.py" "$port" "$ROUNDS" >"$tmp/c2.out" 2>"$tmp/c2.err" &
c2=$!
wait $c1
wait $c2
per=$((ROUNDS * 13))
for c in c1 c2; do
	read -r sent bypass plain echo errors mismatches <"$tmp/$c.out"
	check_eq "client $c: $per requests, none failed ($(($(date +%s) - t0)) s)" "$per 0" "${sent:-?} ${errors:-?}"
	check_eq "client $c: every answer as expected (6 bypass, 6 plain, 1 echo a round)" \
		"$((ROUNDS * 6)) $((ROUNDS * 6)) $ROUNDS 0" "${bypass:-?} ${plain:-?} ${echo:-?} ${mismatches:-?}"
	[ -s "$tmp/$c.err" ] && head -n 5 "$tmp/$c.err" >&2
done
if cicap_wait_access "$dir" $((2 * per)) 30; then
	ok "access log: all $((2 * per)) requests logged"
else
	not_ok "access log: all $((2 * per)) requests logged" "$(wc -l <"$dir/access.log") lines"
fi
info=$(cicap_info "$port")
check_match "statistics: m365 requests = $((2 * per))" "^m365 requests : $((2 * per))\$" "$info"
check_match "statistics: m365 bypassed = $((2 * ROUNDS * 6))" "^m365 bypassed : $((2 * ROUNDS * 6))\$" "$info"
check_eq "the child that answered is the one started under valgrind" "$kid" "$(cicap_children "$dir" | head -n 1)"

# --- stop: SIGTERM, and time for valgrind to write its logs ---------------------
kill -TERM "$main_pid" 2>/dev/null
i=0
while [ ! -f "$dir/cicap.status" ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -f "$dir/cicap.status" ]; then
	ok "c-icap exits within 60 s of SIGTERM under valgrind"
else
	not_ok "c-icap exits within 60 s of SIGTERM under valgrind" "still running"
fi
cicap_stop "$dir"
status=$?
# 99 is valgrind's --error-exitcode: c-icap's own use-after-free at exit
check_match "c-icap exited normally (0, or valgrind's 99), not by a signal" "^(0|99)\$" "$status"
# children outlive the main process by a moment: wait for their logs
i=0
while [ -n "$(cicap_pids "$dir")" ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
check_eq "no c-icap process left" "" "$(cicap_pids "$dir" | tr '\n' ' ')"

# --- the valgrind logs --------------------------------------------------------------
logs=$(ls "$dir"/vg.* 2>/dev/null)
check_eq "a valgrind log for the main process" "$dir/vg.$main_pid" "$(ls "$dir/vg.$main_pid" 2>/dev/null)"
check_eq "a valgrind log for the child that served the requests" "$dir/vg.$kid" "$(ls "$dir/vg.$kid" 2>/dev/null)"
for log in $logs; do
	check_eq "$(basename "$log"): complete (has an ERROR SUMMARY)" 1 "$(grep -ac 'ERROR SUMMARY:' "$log")"
done

# vg_blocks LOG: every error and leak record of LOG as one line each:
#   KIND<TAB>OURS<TAB>first line | frames...
# KIND "error", "definite", "indirect", "possible"; OURS 1 when a frame
# is in the module's sources (under $ROOT/, or named like one of them, in
# case the module was built elsewhere) or in srv_m365_bypass.so.
SOURCES=$(cd "$ROOT" && echo icap/*.c lib/*.c)
vg_blocks() {
	awk -v root="$ROOT/" -v sources="$SOURCES" '
	BEGIN { n_src = split(sources, src, " ") }
	function flush() {
		if (n > 0 && frames > 0) {
			kind = "error"
			if (first ~ /definitely lost in loss record/) kind = "definite"
			else if (first ~ /indirectly lost in loss record/) kind = "indirect"
			else if (first ~ /possibly lost in loss record/) kind = "possible"
			else if (first ~ /still reachable in loss record/) kind = "reachable"
			printf "%s\t%d\t%s\n", kind, ours, text
		}
		n = 0; frames = 0; ours = 0; text = ""; first = ""
	}
	{
		line = $0
		sub(/^==[0-9]+== ?/, "", line)
		if (line ~ /^[ \t]*$/) { flush(); next }
		if (n == 0) first = line
		n++
		if (line ~ /^ *(at|by) 0x/) {
			frames++
			if (index(line, root) > 0 || index(line, "srv_m365_bypass.so") > 0) ours = 1
			for (i = 1; i <= n_src; i++)
				if (index(line, "/" src[i] ":") > 0) ours = 1
		}
		text = text (n > 1 ? " | " : "") line
	}
	END { flush() }' "$1"
}
for log in $logs; do
	name=$(basename "$log")
	vg_blocks "$log" >"$log.blocks"
	mine_err=$(awk -F '\t' '$1 == "error" && $2 == 1' "$log.blocks")
	mine_def=$(awk -F '\t' '$1 == "definite" && $2 == 1' "$log.blocks")
	check_eq "$name: no memory error in the module" "" "$(printf '%s' "$mine_err" | cut -f3 | cut -c1-600)"
	check_eq "$name: no definitely lost block from the module" "" "$(printf '%s' "$mine_def" | cut -f3 | cut -c1-600)"
	# the rest is c-icap's own: shown, not counted
	awk -F '\t' '$2 == 0 && $1 != "reachable" { print "valgrind " FILENAME ": c-icap, not counted: " $1 ": " substr($3, 1, 300) }' \
		"$log.blocks" | sed "s#$dir/##" >&2
	awk -F '\t' '$2 == 1 && $1 != "error" && $1 != "definite" { print "valgrind " FILENAME ": module, not counted: " $1 ": " substr($3, 1, 300) }' \
		"$log.blocks" | sed "s#$dir/##" >&2
done
# the log parser itself, on a made-up log: a module frame makes a block ours
printf '%s\n' '==1== ' '==1== Invalid read of size 1' '==1==    at 0x1: strlen (vg_replace_strmem.c:1)' \
	"==1==    by 0x2: dest_parse ($ROOT/icap/dest.c:300)" '==1== ' \
	'==1== 8 bytes in 1 blocks are definitely lost in loss record 1 of 2' '==1==    at 0x3: malloc (vg_replace_malloc.c:1)' \
	'==1==    by 0x4: ??? (in /usr/bin/c-icap)' '==1== ' \
	'==1== 9 bytes in 1 blocks are definitely lost in loss record 2 of 2' '==1==    at 0x3: malloc (vg_replace_malloc.c:1)' \
	'==1==    by 0x5: ??? (in /x/build/srv_m365_bypass.so)' '==1== ' \
	'==1== Conditional jump or move depends on uninitialised value(s)' '==1==    at 0x6: ??? (in /usr/bin/c-icap)' \
	'==1==    by 0x7: m365_classify (/elsewhere/lib/classify.c:42)' '==1== ' \
	'==1== Invalid free() / delete / delete[] / realloc()' '==1==    at 0x8: free (vg_replace_malloc.c:1)' \
	'==1==    by 0x9: ??? (in /usr/lib/x86_64-linux-gnu/libicapapi.so.5.0.10)' '==1== ' \
	'==1== ERROR SUMMARY: 4 errors from 4 contexts' >"$tmp/fake.log"
check_eq "log parser: module / c-icap error, c-icap / module leak, module (built elsewhere) / c-icap error" \
	"error 1 definite 0 definite 1 error 1 error 0" "$(vg_blocks "$tmp/fake.log" | cut -f1,2 | tr '\t\n' '  ' | sed 's/ $//')"

finish
