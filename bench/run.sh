#!/bin/sh
# bench/run.sh - what `make bench` runs once the binaries are built.
#
# 1. bench_driver sends the same 1,000,000 mixed requests (BENCH_REQUESTS to
#    change) to build/bench_floor (the I/O floor: answers ERR without
#    classifying) and to build/ext_m365_acl, with 50 lines in flight
#    (BENCH_WINDOW), and prints throughput and the child's peak RSS.
#    For information it repeats both streaming (no window: the pipe is the
#    only limit), which shows the raw CPU cost per request.
#    Then it runs the helper RUNS times (BENCH_RUNS, default 5) counting
#    into a counters file and as many with --metrics off, alternated, and
#    compares the child's CPU time per request (rusage): median and spread.
# 2. build/bench_classify measures m365_classify() in process.
# 3. build/bench_reload measures, against a real redis-server, the time from
#    a publish to the helper's first answer from the new list, and the
#    answer latency (p50, p99) while reloads happen against a quiet run.
# 4. bench/icap.sh drives one c-icap server over ICAP with the same REQMOD
#    mix against srv_m365_bypass and against c-icap's own echo service,
#    alternating, and prints req/s and server CPU per request for each.
#
# Targets: helper time <= 10x the floor's, helper peak RSS < 16 MiB,
# counting costs under 5% of the helper's CPU per request,
# classify >= 5 million lookups/s, a switch in under 1 s, and a p99 during
# reloads within 2x of the quiet p99, m365_bypass at least as fast as
# echo.  Each is printed as PASS or MISS; a run
# that breaks (wrong or missing answers, a crash) is printed as FAIL.  The
# exit status is 0 either way: a benchmark, not a test.
cd "$(dirname "$0")/.." || exit 1
B=build
N=${BENCH_REQUESTS:-1000000}
W=${BENCH_WINDOW:-50}
RUNS=${BENCH_RUNS:-5}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# drive WINDOW NAME CMD...: runs bench_driver, prints and keeps its output.
drive() {
	_w=$1
	_name=$2
	shift 2
	if ! timeout 100 "$B/bench_driver" -n "$N" -w "$_w" "$_name" "$@" \
		>"$T/$_name" 2>"$T/$_name.err"; then
		echo "FAIL: $_name run broken: $(head -c 400 "$T/$_name.err")"
	fi
	cat "$T/$_name"
}

# field NAME I: field I of the first line of NAME's output
# ("NAME: N requests in S s = X req/s, peak RSS R KiB": 5 = S, 8 = X,
# 12 = R).
field() {
	awk -v i="$2" 'NR == 1 { print $i }' "$T/$1"
}

# judge LABEL OK_CONDITION(awk) VALUE: prints PASS or MISS.
judge() {
	if awk -v v="$3" "BEGIN { exit !($2) }"; then
		echo "PASS: $1"
	else
		echo "MISS: $1"
	fi
}

echo "== helper over pipes: $N requests, $W in flight =="
drive "$W" floor "$B/bench_floor"
drive "$W" ext_m365_acl "$B/ext_m365_acl"
fs=$(field floor 5)
hs=$(field ext_m365_acl 5)
rss=$(field ext_m365_acl 12)
if [ -n "$fs" ] && [ -n "$hs" ] && [ -n "$rss" ]; then
	ratio=$(awk -v h="$hs" -v f="$fs" 'BEGIN { printf "%.2f", h / f }')
	judge "helper time / floor time = ${ratio}x (target <= 10x)" 'v <= 10' "$ratio"
	judge "helper peak RSS $rss KiB (target < 16384 KiB)" 'v < 16384' "$rss"
else
	echo "MISS: no helper/floor measurement"
fi

echo
echo "== counting on vs off: the helper's CPU per request, $RUNS runs each =="
# The same helper, counting into a fresh counters file and with --metrics
# off, alternated so that both see the same machine; the child's CPU time
# (rusage) per request, median and spread (min-max) of the runs.
mkdir -p "$T/metrics"
i=0
while [ $i -lt "$RUNS" ]; do
	for mode in on off; do
		dir=$T/metrics
		[ $mode = off ] && dir=off
		timeout 100 "$B/bench_driver" -n "$N" -w "$W" "count-$mode" \
			"$B/ext_m365_acl" --metrics "$dir" >"$T/c.$mode.$i" \
			2>"$T/c.$mode.$i.err" ||
			echo "FAIL: count-$mode run broken: $(head -c 300 "$T/c.$mode.$i.err")"
		awk '/child CPU/ { print $(NF - 1) }' "$T/c.$mode.$i" >>"$T/cpu.$mode"
	done
	i=$((i + 1))
done
# stats FILE: "median min max" of the numbers in FILE
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f %.0f %.0f", m, v[1], v[NR] }'
}
on=$(stats "$T/cpu.on")
off=$(stats "$T/cpu.off")
echo "counting on:  median ${on%% *} ns/request (min-max ${on#* })" | sed 's/ \([0-9]*\))/-\1)/'
echo "counting off: median ${off%% *} ns/request (min-max ${off#* })" | sed 's/ \([0-9]*\))/-\1)/'
cost=$(awk -v a="${on%% *}" -v b="${off%% *}" 'BEGIN { printf "%.1f", (a - b) * 100 / b }')
judge "counting costs ${cost}% CPU per request (target < 5%)" 'v < 5' "$cost"
# the counted file holds what was sent: every run's answers
total=$("$B/m365ctl" metrics --metrics "$T/metrics" 2>/dev/null |
	awk '/^m365_bypass_lookups_total/ { s += $NF } END { print s + 0 }')
judge "counters hold every counted answer ($total of $((N * RUNS)))" "v == $((N * RUNS))" "$total"

echo
echo "== for information: streaming, no window =="
drive "$N" floor-stream "$B/bench_floor"
drive "$N" ext_m365_acl-stream "$B/ext_m365_acl"
fs=$(field floor-stream 5)
hs=$(field ext_m365_acl-stream 5)
if [ -n "$fs" ] && [ -n "$hs" ]; then
	awk -v h="$hs" -v f="$fs" \
	    'BEGIN { printf "info: streaming helper time / floor time = %.2fx\n", h / f }'
fi

echo
echo "== m365_classify() in process =="
if "$B/bench_classify" >"$T/classify" 2>"$T/classify.err"; then
	cat "$T/classify"
	rate=$(awk 'NR == 1 { print $8 }' "$T/classify")
	judge "classify $rate lookups/s (target >= 5000000)" 'v >= 5000000' "$rate"
else
	echo "FAIL: bench_classify broken: $(head -c 400 "$T/classify.err")"
fi

echo
echo "== live reload through Redis =="
# A real redis-server on a free loopback port; the helper follows it.
RP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize yes --pidfile "$T/redis.pid" --logfile "$T/redis.log"
i=0
while ! redis-cli -p "$RP" ping >/dev/null 2>&1 && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if timeout 120 "$B/bench_reload" "$B/ext_m365_acl" "$RP" \
	tests/fixtures/worldwide-2024-04-17.json \
	tests/fixtures/worldwide-2025-12-01.json teams.cloud.microsoft 443 \
	2>"$T/reload.err"; then
	:
else
	echo "FAIL: bench_reload broken: $(tail -c 400 "$T/reload.err")"
fi
redis-cli -p "$RP" shutdown nosave >/dev/null 2>&1

echo
sh bench/icap.sh
exit 0
