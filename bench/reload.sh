# bench/reload.sh - section (e) of `make bench`: live reloads under load.
# Sourced by bench/run.sh (which sets T, RUNS, BUILDS and the functions of
# bench/lib.sh).
#
# A real redis-server on a free loopback port; for each build,
# build/bench_reload_load (bench/bench_reload_load.c) starts the helper with
# --redis URL --poll 1 --list OLD --local LIST (the 500k-rule plain list of
# bench/gen_local.py) and keeps 50 requests in flight (half of the
# destinations from LIST.hosts, every 8th request the probe
# teams.cloud.microsoft 443, OK only in NEW) through RUNS reload phases
# (OLD then NEW published, each once the last shows) alternated with as
# many quiet phases of the same length.  The table: switch time (publish
# to the first answer from the new version) over every switch; per phase,
# the longest wait of a request for its answer, the longest gap between
# two reads of answers, the 99th percentile wait, each quiet vs reloads;
# the helper's peak RSS (VmHWM; two lists live during a switch).  Not
# pinned to a CPU: the helper's two threads, Redis and the driver need both.
OLDJ=tests/fixtures/worldwide-2024-04-17.json
NEWJ=tests/fixtures/worldwide-2025-12-01.json

echo
echo "== (e) reload under load: a 500k-rule local list, 50 in flight =="
echo "$RUNS reload phases (2 switches each) and $RUNS quiet phases of the" \
	"same length, alternated; median (min-max) over switches or phases, ms"
make_list plain 500000
RP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize yes --pidfile "$T/redis.pid" --logfile "$T/redis.log"
i=0
while ! redis-cli -p "$RP" ping >/dev/null 2>&1 && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
for who in $BUILDS; do
	o=e.$who
	if ! timeout 900 "$B/bench_reload_load" -r "$RUNS" \
		-f "$L/plain-500000.list.hosts" "$RP" "$OLDJ" "$NEWJ" \
		teams.cloud.microsoft 443 -- "$(bin "$who" ext_m365_acl)" \
		--redis "redis://127.0.0.1:$RP" --poll 1 --metrics off \
		--list "$OLDJ" --local "$L/plain-500000.list" \
		>"$T/$o" 2>"$T/$o.err"; then
		echo "FAIL: reload run ($(label "$who")) broken:" \
			"$(grep -v WARNING "$T/$o.err" | tail -c 300)"
	fi
	awk '/^reload / { print $6; print $7 }' "$T/$o" >"$T/e.switch.$who"
	for ph in reload quiet; do
		# "... max wait W ms, max gap G ms, p99 wait P ms"
		awk -v ph="$ph" '$1 == ph { for (i = 1; i < NF; i++) {
			if ($i == "max" && $(i + 1) == "wait") w = $(i + 2)
			if ($i == "max" && $(i + 1) == "gap") g = $(i + 2)
			if ($i == "p99") p = $(i + 2) }
			print w, g, p }' "$T/$o" >"$T/e.$ph.$who"
		for c in 1 2 3; do
			awk -v c=$c '{ print $c }' "$T/e.$ph.$who" >"$T/e.$ph.$c.$who"
		done
	done
	# each reload phase against the quiet phase after it
	paste -d ' ' "$T/e.reload.1.$who" "$T/e.quiet.1.$who" |
		awk 'NF == 2 { printf "%.3f\n", $1 - $2 }' >"$T/e.dwait.$who"
	awk '/^start:/ { print $(NF - 1) }' "$T/$o" >"$T/e.start.$who"
	awk '/^end:/ { print $(NF - 1) / 1024 }' "$T/$o" >"$T/e.hwm.$who"
done
redis-cli -p "$RP" shutdown nosave >/dev/null 2>&1
header
brow "switch" e.switch "%.1f"
brow "max wait, quiet" e.quiet.1 "%.2f"
brow "max wait, reloads" e.reload.1 "%.2f"
brow "  reloads - quiet, by pair" e.dwait "%.2f"
brow "max gap, quiet" e.quiet.2 "%.2f"
brow "max gap, reloads" e.reload.2 "%.2f"
brow "p99 wait, quiet" e.quiet.3 "%.3f"
brow "p99 wait, reloads" e.reload.3 "%.3f"
brow "start to Redis version, ms" e.start
brow "helper peak RSS, MiB" e.hwm "%.1f"
sw=$(stats e.switch.cur | awk '{ print $3 }')
judge "every switch under 50 ms with a 500k-rule local list (slowest $(fmt %.1f "$sw") ms)" \
	'v < 50' "$sw"
# "no answer waits more than 5 ms longer": the longest wait of all the
# reload phases against the longest of all the quiet ones (as long)
rmax=$(stats e.reload.1.cur | awk '{ print $3 }')
qmax=$(stats e.quiet.1.cur | awk '{ print $3 }')
dw=$(awk -v r="$rmax" -v q="$qmax" \
	'BEGIN { if (r != "" && q != "") printf "%.2f", r - q }')
judge "no answer waits more than 5 ms longer with reloads: the longest wait $(fmt %.2f "$rmax") ms, $(fmt %.2f "$dw") ms over the quiet phases' longest" \
	'v <= 5' "$dw"
