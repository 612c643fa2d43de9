#!/bin/sh
# tests/integration/test_redis_bounds.sh - ext_m365_acl against hostile
# sizes in Redis, a frozen Redis, and FIFOs where files belong.
#
# A real redis-server on a free loopback port (no persistence) and running
# helpers fed through FIFOs the script keeps open (helper_driver.py sends
# the requests and reads the answers, as in test_redis.sh):
#   ha  build/ext_m365_acl (no sanitizer: its VmRSS is measured), defaults
#   hb  build/san/ext_m365_acl --redis-max-bytes 100000
#   hc  build/san/ext_m365_acl --poll 1, stdin closed by the script (e)
# both ha and hb with --poll 30, so that only pub/sub explains a prompt
# switch.  Proves:
#   a. a version whose json field is 80 MB (correct sha256), made current and
#      announced: refused from its HSTRLEN ("field json of 80000000 bytes is
#      larger than 67108864"), no HMGET issued (INFO commandstats), the
#      previous list keeps answering, and ha's VmRSS (sampled every few ms
#      from before the publish to a second after the refusal) stays under
#      60 MB and within 20 MB of its baseline;
#   b. --redis-max-bytes 100000 refuses a 500 KB version of a real list
#      ("larger than 100000") that ha, with the default limit, switches to;
#   c. a 10 MB `current` pointer: refused from its STRLEN, never read (no GET
#      in INFO commandstats), logged, answers unchanged;
#   d. a 2 MB message published on m365:updates: answers unchanged, the
#      subscription is dropped ("lost Redis"), re-established ("following"),
#      and a later publish is followed through pub/sub;
#   e. Redis frozen (SIGSTOP) while hc's follower is blocked in a Redis call:
#      hc, its stdin closed, answers the 40 requests it was sent and exits
#      within 1 s;
#   f. FIFOs as --list, --local, --cache (with --redis at a closed port),
#      --cache's version file, --redis-auth-file, --verify-key, and as
#      m365ctl lookup --list: each returns within 2 s with "not a regular
#      file" on stderr; the helper answers ERR "no list loaded" (--list,
#      --local) or from the bundled list (--cache).
# Every wait is bounded; the whole script takes about 10 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

HELPER=${M365_HELPER:-$BUILD/san/ext_m365_acl}
PLAIN=${M365_PLAIN_HELPER:-$BUILD/ext_m365_acl}
CTL=${M365_CTL:-$BUILD/m365ctl}
WW24=$FIXTURES/worldwide-2024-04-17.json
WW25=$FIXTURES/worldwide-2025-12-01.json
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

abort() {
	not_ok "setup" "$1"
	finish
}

for prog in redis-server redis-cli python3 sha256sum; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ -x "$HELPER" ] || abort "$HELPER is missing (make build/san/ext_m365_acl)"
[ -x "$PLAIN" ] || abort "$PLAIN is missing (make build/ext_m365_acl)"
[ -x "$CTL" ] || abort "$CTL is missing (make build/m365ctl)"

T=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$T'"
HELPERS=""


# now_ms: wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# diag HELPER...: the tail of each helper's stderr (on failure).
diag() {
	for _h in "$@"; do
		echo "--- tail of $_h stderr:" >&2
		tail -n 15 "$T/$_h/err" >&2
	done
}

# lookup FILE QUERY: m365ctl lookup's verdict on FILE (the reference).
# shellcheck disable=SC2086 # QUERY is split into HOST PORT on purpose
lookup() { "$CTL" lookup --list "$1" $2 2>/dev/null | head -n 1; }

# ask HELPER QUERY: the helper's answer (without channel), or TIMEOUT.
ask() { drv ask "$T/$1" "$2" --timeout 3; }

# asks NAME HELPER QUERY EXPECTED
asks() {
	_got=$(ask "$2" "$3")
	if [ "$_got" = "$4" ]; then
		ok "$1"
	else
		not_ok "$1" "$3: expected [$4], got [$_got]"
		diag "$2"
	fi
}

# nlines HELPER REGEX: how many lines of the helper's stderr match (grep -E).
# (0 while the file is not there yet)
nlines() {
	_c=$(grep -Ec -- "$2" "$T/$1/err" 2>/dev/null)
	echo "${_c:-0}"
}

# waitlines NAME HELPER REGEX N SECONDS: at least N lines of the helper's
# stderr match REGEX within SECONDS.
waitlines() {
	_i=0
	while [ "$(nlines "$2" "$3")" -lt "$4" ] && [ $_i -lt $(($5 * 20)) ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	if [ "$(nlines "$2" "$3")" -ge "$4" ]; then
		ok "$1"
	else
		not_ok "$1" "$(nlines "$2" "$3") line(s) /$3/ on stderr within $5 s, expected $4"
		diag "$2"
	fi
}

# start_helper NAME FD BINARY ARGS...: starts BINARY reading the FIFO
# $T/NAME/in, which the script keeps open on descriptor FD (3-9).
start_helper() { fifo_start "$@"; }

# --- Redis ---------------------------------------------------------------------

# shellcheck source=tests/redis_lib.sh
. "$ROOT/tests/redis_lib.sh"
redis_init "$T"
start_redis || abort "redis-server did not start on port $RPORT: $(tail -n 5 "$T/redis.log")"
# a frozen Redis is resumed before it is killed
# shellcheck disable=SC2016 # RPID as it is at exit
on_exit '[ -n "$RPID" ] && kill -CONT "$RPID" 2>/dev/null'

# publish VERSION FILE: m365ctl import, checked.
publish() {
	timeout 20 "$CTL" import "$2" --redis "$RURL" --version "$1" >"$T/import.out" 2>&1
	check_eq "m365ctl import $1 ($(basename "$2")): published" \
		"0 published $1" "$? $(cut -d' ' -f1,2 "$T/import.out" | head -n 1)"
}

# cmdstat CMD: the calls of CMD since the last CONFIG RESETSTAT (0 if none).
cmdstat() {
	_c=$(rcli INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\\([0-9]*\\),.*/\\1/p")
	echo "${_c:-0}"
}

# --- reference answers ---------------------------------------------------------

QW="teams.cloud.microsoft 443"       # 2024: Default only, 2025: set 12
QW2="x.compliance.microsoft.com 443" # 2024: set 64, 2025: Default only
A24=$(lookup "$WW24" "$QW")
A25=$(lookup "$WW25" "$QW")
B24=$(lookup "$WW24" "$QW2")
B25=$(lookup "$WW25" "$QW2")
check_eq "fixtures: $QW differs (2024-04-17 / 2025-12-01)" \
	"ERR m365_category=Default / OK m365_category=Allow m365_service=Skype m365_set=12" "$A24 / $A25"
check_eq "fixtures: $QW2 differs (2024-04-17 / 2025-12-01)" \
	"OK m365_category=Allow m365_service=Common m365_set=64 / ERR m365_category=Default" "$B24 / $B25"

# A real list of about 500 KB: the 2025-12-01 snapshot, indented and padded
# with whitespace (the same endpoints).
python3 - "$WW25" "$T/ww25-500k.json" <<'PY'
import json, sys
s = json.dumps(json.load(open(sys.argv[1])), indent=8)
s += "\n" * (500000 - len(s))
open(sys.argv[2], "w").write(s)
PY
BIGSIZE=$(wc -c <"$T/ww25-500k.json" | tr -d ' ')
check_eq "fixtures: the 500 KB list answers as 2025-12-01 does" "$A25 / $B25 / 500000" \
	"$(lookup "$T/ww25-500k.json" "$QW") / $(lookup "$T/ww25-500k.json" "$QW2") / $BIGSIZE"

# --- helpers -------------------------------------------------------------------

start_helper ha 3 "$PLAIN" --redis "$RURL" --poll 30
start_helper hb 4 "$HELPER" --redis "$RURL" --poll 30 --redis-max-bytes 100000
waitlines "ha: follows Redis, finds it empty" ha 'Redis has no version yet' 1 5
waitlines "hb: follows Redis, finds it empty" hb 'Redis has no version yet' 1 5

publish v1 "$WW24"
waitlines "v1: ha switches" ha 'switched to version v1 ' 1 5
waitlines "v1: hb switches" hb 'switched to version v1 ' 1 5
asks "v1: ha answers from 2024-04-17" ha "$QW" "$A24"
asks "v1: hb answers from 2024-04-17" hb "$QW" "$A24"

# --- b. --redis-max-bytes 100000 against a 500 KB real list ---------------------

publish v2 "$T/ww25-500k.json"
waitlines "b: ha (default limit) switches to the 500 KB version" ha 'switched to version v2 ' 1 5
waitlines "b: hb refuses it: 'version v2 rejected: ... larger than 100000'" hb \
	"version v2 rejected: .*field json of $BIGSIZE bytes is larger than 100000" 1 5
asks "b: ha answers from v2 (2025-12-01)" ha "$QW" "$A25"
asks "b: hb keeps answering from v1 (2024-04-17)" hb "$QW" "$A24"
asks "b: hb keeps answering from v1 ($QW2)" hb "$QW2" "$B24"
check_eq "b: hb never switched to v2" 0 "$(nlines hb 'switched to version v2 ')"

# --- a. an 80 MB version --------------------------------------------------------

# resp.py KEY VERSION N: RESP for HSET KEY with a json field of N bytes (a
# JSON array of spaces) and its correct sha256, for redis-cli --pipe.
cat >"$T/resp.py" <<'EOF'
import hashlib, sys, time
key, version, n = sys.argv[1].encode(), sys.argv[2].encode(), int(sys.argv[3])
data = b"[" + b" " * (n - 2) + b"]"
fields = [b"HSET", key, b"sha256", hashlib.sha256(data).hexdigest().encode(),
          b"version", version, b"published_at", b"%d" % time.time(), b"json"]
out = sys.stdout.buffer
out.write(b"*%d\r\n" % (len(fields) + 1))
for f in fields:
    out.write(b"$%d\r\n%s\r\n" % (len(f), f))
out.write(b"$%d\r\n" % n)
out.write(data)
out.write(b"\r\n")
EOF
HUGE=80000000
python3 "$T/resp.py" m365:v:huge huge "$HUGE" | timeout 60 redis-cli -p "$RPORT" --pipe >"$T/pipe.out" 2>&1
check_match "a: the 80 MB version is stored (redis-cli --pipe)" 'errors: 0, replies: 1' "$(cat "$T/pipe.out")"
check_eq "a: its json field is $HUGE bytes" "$HUGE" "$(rcli HSTRLEN m365:v:huge json)"

# rss.py PID OUT STOP SECONDS: VmRSS (kB) of PID, one sample a line, every
# 5 ms until the file STOP exists (at most SECONDS).
cat >"$T/rss.py" <<'EOF'
import os, sys, time
pid, out, stop, end = sys.argv[1], sys.argv[2], sys.argv[3], time.time() + float(sys.argv[4])
with open(out, "w") as f:
    while time.time() < end and not os.path.exists(stop):
        try:
            with open("/proc/%s/status" % pid) as s:
                for line in s:
                    if line.startswith("VmRSS:"):
                        f.write(line.split()[1] + "\n")
                        f.flush()
        except OSError:
            break
        time.sleep(0.005)
EOF
# shellcheck disable=SC2154 # PID_ha is set by start_helper's eval
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$PID_ha/status"; }
base=0
for _ in 1 2 3; do
	r=$(rss)
	[ "${r:-0}" -gt "$base" ] && base=$r
	sleep 0.05
done
python3 "$T/rss.py" "$PID_ha" "$T/rss.samples" "$T/rss.stop" 20 &
RSSPID=$!
on_exit "kill $RSSPID 2>/dev/null"
sleep 0.1
rcli CONFIG RESETSTAT >/dev/null
rcli EVAL "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('PUBLISH', KEYS[2], ARGV[1])" \
	2 m365:current m365:updates huge >/dev/null
waitlines "a: ha refuses the 80 MB version from its size: 'field json of $HUGE bytes is larger than 67108864'" \
	ha "version huge rejected: .*field json of $HUGE bytes is larger than 67108864" 1 10
waitlines "a: hb refuses it too ('larger than 100000')" hb \
	"version huge rejected: .*field json of $HUGE bytes is larger than 100000" 1 10
asks "a: ha keeps answering from v2 (2025-12-01) during" ha "$QW" "$A25"
sleep 1
asks "a: ha keeps answering from v2 after" ha "$QW2" "$B25"
asks "a: hb keeps answering from v1" hb "$QW" "$A24"
touch "$T/rss.stop"
wait $RSSPID
n=$(wc -l <"$T/rss.samples" | tr -d ' ')
max=$(sort -n "$T/rss.samples" | tail -n 1)
max=${max:-0}
if [ "$n" -ge 20 ]; then ok "a: ha's VmRSS sampled $n times"; else not_ok "a: ha's VmRSS sampled $n times" "fewer than 20 samples"; fi
if [ "$max" -lt 61440 ]; then
	ok "a: ha's VmRSS stays under 60 MB (max $max kB)"
else
	not_ok "a: ha's VmRSS stays under 60 MB" "max $max kB"
fi
if [ $((max - base)) -lt 20480 ]; then
	ok "a: ha's VmRSS grows by less than 20 MB (baseline $base kB, max $max kB)"
else
	not_ok "a: ha's VmRSS grows by less than 20 MB" "baseline $base kB, max $max kB"
fi
check_eq "a: the helpers never read the document (no HMGET since the publish)" 0 "$(cmdstat hmget)"
check_match "a: ... but asked its size (HSTRLEN)" '^[1-9]' "$(cmdstat hstrlen)"
rcli DEL m365:v:huge >/dev/null

# --- c. a 10 MB current pointer -------------------------------------------------

publish v3 "$WW24"
waitlines "c: ha switches to v3 first" ha 'switched to version v3 ' 1 5
waitlines "c: hb switches to v3 first" hb 'switched to version v3 ' 1 5
# logged with the store's reason
PTR='m365:current holds no valid version'
pa=$(nlines ha "$PTR")
pb=$(nlines hb "$PTR")
rcli CONFIG RESETSTAT >/dev/null
python3 -c 'import sys; sys.stdout.write("9" * 10000000)' | rcli -x SET m365:current >/dev/null
check_eq "c: m365:current holds 10 MB" 10000000 "$(rcli STRLEN m365:current)"
rcli PUBLISH m365:updates v4 >/dev/null
waitlines "c: ha logs the pointer refused, with the reason" ha "$PTR" $((pa + 1)) 5
waitlines "c: hb logs the pointer refused" hb "$PTR" $((pb + 1)) 5
check_eq "c: the pointer was never read (no GET since it was set)" 0 "$(cmdstat get)"
check_match "c: ... only its size (STRLEN)" '^[1-9]' "$(cmdstat strlen)"
asks "c: ha keeps answering from v3" ha "$QW2" "$B24"
asks "c: hb keeps answering from v3" hb "$QW2" "$B24"

# --- d. a 2 MB message on the update channel ------------------------------------

la=$(nlines ha 'lost Redis')
lb=$(nlines hb 'lost Redis')
fa=$(nlines ha 'following redis://')
fb=$(nlines hb 'following redis://')
python3 -c 'import sys; sys.stdout.write("x" * 2000000)' | rcli -x PUBLISH m365:updates >"$T/pub.out"
check_eq "d: the 2 MB message reached both subscribers" 2 "$(cat "$T/pub.out")"
asks "d: ha answers correctly right after it" ha "$QW" "$A24"
asks "d: hb answers correctly right after it" hb "$QW" "$A24"
waitlines "d: ha drops the flooded link ('lost Redis')" ha 'lost Redis' $((la + 1)) 5
waitlines "d: hb drops the flooded link ('lost Redis')" hb 'lost Redis' $((lb + 1)) 5
waitlines "d: ha reconnects ('following')" ha 'following redis://' $((fa + 1)) 5
waitlines "d: hb reconnects ('following')" hb 'following redis://' $((fb + 1)) 5
asks "d: ha still answers from v3" ha "$QW2" "$B24"
t0=$(now_ms)
publish v4 "$WW25"
waitlines "d: ha follows a later publish (pub/sub: --poll 30)" ha 'switched to version v4 ' 1 5
waitlines "d: hb follows a later publish (pub/sub: --poll 30)" hb 'switched to version v4 ' 1 5
echo "# d: v4 followed $(($(now_ms) - t0)) ms after the import started"
asks "d: ha answers from v4 (2025-12-01)" ha "$QW" "$A25"
asks "d: hb answers from v4 (2025-12-01)" hb "$QW" "$A25"

# --- e. stdin closed while Redis is frozen ----------------------------------------

{ mkdir -p "$T/hc" && mkfifo "$T/hc/in"; } || abort "mkfifo $T/hc/in"
exec 8<>"$T/hc/in"
# only the script holds the FIFO's write side (not hc, not the others)
"$HELPER" --redis "$RURL" --poll 1 <"$T/hc/in" >"$T/hc/out" 2>"$T/hc/err" 3>&- 4>&- 8>&- &
PID_hc=$!
on_exit "kill $PID_hc 2>/dev/null"
waitlines "e: hc follows Redis (switches to v4)" hc 'switched to version v4 ' 1 5
kill -STOP "$RPID"
# --poll 1: within 1 s hc's follower sends STRLEN and waits (2 s timeout)
# in read(2) on its Redis socket.  Close stdin as soon as it is seen there
# (/proc/PID/task/TID/syscall), so that waiting for that call would take
# about 2 s.
# in_redis_read: true when a thread of hc other than the main one is in
# read(2) on a socket.
in_redis_read() {
	for _t in /proc/"$PID_hc"/task/*; do
		[ "${_t##*/}" = "$PID_hc" ] && continue
		read -r _nr _fd _ <"$_t/syscall" 2>/dev/null || continue
		[ "$_nr" = 0 ] || continue
		case $(readlink "/proc/$PID_hc/fd/$((_fd))" 2>/dev/null) in
		socket:*) return 0 ;;
		esac
	done
	return 1
}
i=0
while ! in_redis_read && [ $i -lt 150 ]; do
	sleep 0.02
	i=$((i + 1))
done
if in_redis_read; then
	ok "e: hc's follower is blocked reading from the frozen Redis ($((i * 20)) ms after SIGSTOP)"
else
	not_ok "e: hc's follower is blocked reading from the frozen Redis" \
		"not seen in read(2) on a socket within 3 s ($(cat /proc/"$PID_hc"/task/*/syscall 2>&1 | cut -d' ' -f1,2 | tr '\n' ';'))"
fi
i=1
while [ $i -le 40 ]; do
	if [ $((i % 2)) -eq 0 ]; then echo "$i $QW"; else echo "$i $QW2"; fi
	i=$((i + 1))
done >&8
t0=$(date +%s%N)
exec 8>&-
# a watchdog: SIGKILL after 10 s (it ends by itself once hc is reaped)
(
	i=0
	while [ $i -lt 100 ] && kill -0 "$PID_hc" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$PID_hc" 2>/dev/null
) &
dog=$!
wait "$PID_hc"
rc=$?
t1=$(date +%s%N)
wait "$dog" 2>/dev/null
kill -CONT "$RPID"
ms=$(((t1 - t0) / 1000000))
if [ "$ms" -lt 1000 ]; then
	ok "e: hc exits ${ms} ms after its stdin closed, Redis frozen (limit 1000 ms)"
else
	not_ok "e: hc exits within 1 s of its stdin closing, Redis frozen" "took $ms ms"
	diag hc
fi
check_eq "e: hc exits with status 0" 0 "$rc"
want=$(i=1; while [ $i -le 40 ]; do
	if [ $((i % 2)) -eq 0 ]; then echo "$i $A25"; else echo "$i $B25"; fi
	i=$((i + 1))
done | sort)
if [ "$(sort "$T/hc/out")" = "$want" ]; then
	ok "e: hc answered all 40 requests it was sent, from v4, before exiting"
else
	not_ok "e: hc answered all 40 requests it was sent, from v4, before exiting" \
		"$(wc -l <"$T/hc/out") answers: $(sort "$T/hc/out" | head -n 3 | tr '\n' ';')"
fi
check_eq "e: Redis answers again after SIGCONT" PONG "$(rcli PING)"
asks "e: ha answers after the freeze" ha "$QW" "$A25"
asks "e: hb answers after the freeze" hb "$QW" "$A25"

# --- f. FIFOs where files belong ------------------------------------------------------

FIFO=$T/fifo
mkfifo "$FIFO" || abort "mkfifo $FIFO"
mkfifo "$T/cache-fifo" "$T/vcache.version" || abort "mkfifo"
printf v4 >"$T/cache-fifo.version"
cp "$WW25" "$T/vcache"
CLOSED="redis://127.0.0.1:$(free_port)"
BUNDLED=$("$CTL" lookup teams.microsoft.com 443 2>/dev/null | head -n 1)
NOLIST='ERR message="no list loaded"'

# fifo_case NAME EXPECTED_RC EXPECTED_ANSWER STDERR_REGEX ARGS...: the
# helper with ARGS and one request on stdin returns within 2 s (10 s at
# most) with EXPECTED_ANSWER (none when empty) and STDERR_REGEX on stderr.
fifo_case() {
	_name=$1
	_want_rc=$2
	_want=$3
	_rx=$4
	shift 4
	_t0=$(date +%s%N)
	echo "1 teams.microsoft.com 443" | timeout 10 "$HELPER" "$@" >"$T/f.out" 2>"$T/f.err"
	_rc=$?
	_ms=$((($(date +%s%N) - _t0) / 1000000))
	if [ "$_ms" -lt 2000 ]; then
		ok "f: $_name: returns within 2 s ($_ms ms)"
	else
		not_ok "f: $_name: returns within 2 s" "took $_ms ms (rc $_rc)"
	fi
	check_eq "f: $_name: exit status" "$_want_rc" "$_rc"
	check_match "f: $_name: /$_rx/ on stderr" "$_rx" "$(cat "$T/f.err")"
	check_eq "f: $_name: the answer" "$_want" "$(sed -n 's/^1 //p' "$T/f.out")"
	check_eq "f: $_name: no sanitizer report" "" "$(grep -E 'Sanitizer|runtime error:' "$T/f.err")"
}
NOTREG="fifo: not a regular file"
fifo_case "--list FIFO" 0 "$NOLIST" "ERROR: --list: .*$NOTREG" --list "$FIFO"
fifo_case "--local FIFO" 0 "$NOLIST" "ERROR: --local: .*$NOTREG" --local "$FIFO"
fifo_case "--cache FIFO (FILE.version valid, Redis closed)" 0 "$BUNDLED" \
	"ignoring cache: .*cache-$NOTREG" --cache "$T/cache-fifo" --redis "$CLOSED"
# (the version file's own error is not reported, only that it is not valid)
fifo_case "--cache whose FILE.version is a FIFO (Redis closed)" 0 "$BUNDLED" \
	"cache .*/vcache has no valid version file" --cache "$T/vcache" --redis "$CLOSED"
fifo_case "--redis-auth-file FIFO" 2 "" "--redis-auth-file: .*$NOTREG" \
	--redis "$CLOSED" --redis-auth-file "$FIFO"
fifo_case "--verify-key FIFO" 2 "" "--verify-key: .*$NOTREG" --redis "$CLOSED" --verify-key "$FIFO"
check_eq "f: the bundled answer is a bypass" "OK" "$(echo "$BUNDLED" | cut -d' ' -f1)"

t0=$(date +%s%N)
timeout 10 "$CTL" lookup --list "$FIFO" teams.microsoft.com 443 >"$T/l.out" 2>"$T/l.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -lt 2000 ]; then
	ok "f: m365ctl lookup --list FIFO returns within 2 s ($ms ms)"
else
	not_ok "f: m365ctl lookup --list FIFO returns within 2 s" "took $ms ms (rc $rc)"
fi
check_eq "f: m365ctl lookup --list FIFO: exit 2 (error)" 2 "$rc"
check_match "f: m365ctl lookup --list FIFO: 'not a regular file' on stderr" \
	'--list: .*fifo: not a regular file' "$(cat "$T/l.err")"

# --- all helpers -------------------------------------------------------------------

for h in ha hb hc; do
	if grep -q ' BH' "$T/$h/out"; then
		not_ok "$h: never BH" "$(grep -m1 ' BH' "$T/$h/out")"
	else
		ok "$h: never BH"
	fi
	check_eq "$h: no sanitizer report" "" "$(grep -E 'Sanitizer|runtime error:' "$T/$h/err" | head -n 3)"
done
for h in ha hb; do
	eval "_p=\$PID_$h"
	# shellcheck disable=SC2154 # _p is set by the eval
	if kill -0 "$_p" 2>/dev/null; then ok "$h: still running"; else not_ok "$h: still running" "exited"; fi
done
finish
