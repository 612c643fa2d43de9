#!/bin/sh
# bench/icap.sh - the ICAP part of `make bench`: c-icap's own echo service
# against our m365_bypass service, on one private c-icap server, in one run.
# Run from anywhere once build/bench_icap (and build/srv_m365_bypass.so) are
# built.
#
# Starts c-icap on a free 127.0.0.1 port with a config in a temp dir
# (2 children x 10 threads, no access log), warms each service up, then runs
# build/bench_icap RUNS times (BENCH_ICAP_RUNS, default 5) per service,
# alternating the services and which one goes first, each run N requests
# (BENCH_ICAP_REQUESTS, default 100000) over C keep-alive connections
# (BENCH_ICAP_CONNS, default 8) with the same REQMOD mix.  Around each run it
# reads the CPU time (utime+stime, /proc/PID/stat fields 14 and 15) of the
# c-icap master and its children, plus the master's cutime+cstime (children
# that exited); the driver's own CPU comes from getrusage(RUSAGE_CHILDREN) in
# a python3 wrapper.  The machine is shared, so the table shows medians with
# min-max, and server CPU per request next to the wall-clock rate.
#
# Target: m365_bypass at least as fast as echo (median req/s), printed as
# PASS or MISS.  FAIL lines mean a broken run: a driver error, answers other
# than 204/200, or an X-Next-Services count out of line (m365_bypass must
# bypass 30-70% of the mix, which is half Microsoft 365; echo never).  The
# exit status is 0 either way: a benchmark, not a test.
cd "$(dirname "$0")/.." || exit 1
B=build
RUNS=${BENCH_ICAP_RUNS:-5}
N=${BENCH_ICAP_REQUESTS:-100000}
C=${BENCH_ICAP_CONNS:-8}
WARM=${BENCH_ICAP_WARMUP:-5000}
KA=${BENCH_ICAP_KEEPALIVE:-100}
MOD=$PWD/$B/srv_m365_bypass.so
TCK=$(getconf CLK_TCK)
T=$(mktemp -d)
MPID=
KIDS=

# stop_cicap: TERM the master (it stops its children), KILL what is left.
stop_cicap() {
	[ -n "$MPID" ] || return 0
	kill -TERM "$MPID" 2>/dev/null
	_i=0
	while kill -0 "$MPID" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	for _p in $MPID $KIDS; do
		kill -KILL "$_p" 2>/dev/null
	done
	wait "$MPID" 2>/dev/null
	MPID=
}
trap 'stop_cicap; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

echo "== c-icap over ICAP: echo vs m365_bypass, $RUNS x $N requests," \
	"$C connections =="
if [ ! -x "$B/bench_icap" ]; then
	echo "FAIL: $B/bench_icap not built"
	exit 0
fi
if ! command -v c-icap >/dev/null || ! command -v c-icap-config >/dev/null; then
	echo "MISS: c-icap not installed (apt-get install c-icap libicapapi-dev)"
	exit 0
fi
SERVICES="echo"
if [ -f "$MOD" ]; then
	SERVICES="echo m365_bypass"
else
	echo "MISS: $B/srv_m365_bypass.so not built"
fi

# --- a private c-icap ---------------------------------------------------------
# Without a User line c-icap keeps running as whoever starts it, so it can
# write the mktemp directory.  No AccessLog line: c-icap then formats and
# writes nothing per request (with /dev/null it would still format a line
# and write(2) it, unbuffered, for every request).
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MODDIR=$(c-icap-config --modulesdir)
cat >"$T/c-icap.conf" <<EOF
Port 127.0.0.1:$P
PidFile $T/c-icap.pid
CommandsSocket $T/c-icap.ctl
ServerLog $T/server.log
TmpDir $T
ModulesDir $MODDIR
ServicesDir $MODDIR
# 2 x 10 threads, fixed: MinSpare <= 20 - connections, so the master never
# asks for more children; MaxSpare = 20, so it never stops one.
StartServers 2
MaxServers 2
ThreadsPerChild 10
MinSpareThreads 2
MaxSpareThreads 20
MaxRequestsPerChild 0
# c-icap closes a connection after this many requests (its default: 100)
MaxKeepAliveRequests $KA
DebugLevel 0
Service echo srv_echo.so
EOF
[ -f "$MOD" ] && echo "Service m365_bypass $MOD" >>"$T/c-icap.conf"
c-icap -N -f "$T/c-icap.conf" >"$T/c-icap.out" 2>&1 &
MPID=$!
_i=0
until "$B/bench_icap" -p "$P" -s echo -n 1 -c 1 -t 1 >/dev/null 2>&1; do
	_i=$((_i + 1))
	if [ $_i -ge 50 ] || ! kill -0 "$MPID" 2>/dev/null; then
		stop_cicap # then once more in the foreground, to see why
		timeout 5 c-icap -N -D -d 1 -f "$T/c-icap.conf" >"$T/why" 2>&1
		echo "FAIL: c-icap did not start: $(tail -c 400 "$T/why")"
		exit 0
	fi
	sleep 0.1
done
KIDS=$(pgrep -P "$MPID" | tr '\n' ' ')

# server_ticks: CPU clock ticks used so far by the c-icap master and its
# children (all threads): utime+stime of each (fields 14, 15), plus the
# master's cutime+cstime (16, 17: children that exited and were reaped).
# The comm field is cut off first, as it may contain spaces.
server_ticks() {
	for _p in $MPID $(pgrep -P "$MPID"); do
		cat "/proc/$_p/stat" 2>/dev/null
	done | awk -v m="$MPID" '{ pid = $1; sub(/^.*\) /, "")
		t += $12 + $13; if (pid == m) t += $14 + $15 }
		END { print t + 0 }'
}

# drive SERVICE REQUESTS OUT: runs bench_icap, writes its output line to
# OUT and "utime stime" (seconds, from getrusage) to OUT.ru.
drive() {
	python3 -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%.6f %.6f\n" % (r.ru_utime, r.ru_stime))
sys.exit(rc)' "$3.ru" timeout 300 "$B/bench_icap" -p "$P" -s "$1" -n "$2" \
		-c "$C" >"$3" 2>"$3.err"
}

# field FILE NAME: a number from bench_icap's line ("... = X req/s; 204 A
# (X-Next-Services B), 200 C, other D"); NAME is rps, 204, xnext, 200 or
# other.
field() {
	awk -v k="$2" '{ gsub(/[(),;]/, " "); v["rps"] = $8; v["204"] = $11
		v["xnext"] = $13; v["200"] = $15; v["other"] = $17
		print v[k] }' "$1"
}

# stats FILE COL: "median min max" of column COL of FILE.
stats() {
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ a[NR] = $1 }
		END { if (NR == 0) exit
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		print m, a[1], a[NR] }'
}

for s in $SERVICES; do
	if drive "$s" "$WARM" "$T/warm-$s"; then
		echo "warm-up: $(cat "$T/warm-$s")"
	else
		echo "FAIL: $s warm-up broken: $(head -c 400 "$T/warm-$s.err")"
	fi
done

# One run: server ticks and driver rusage around the driver; appends
# "req/s server_us/req driver_us/req" to $T/SERVICE.res.
run_one() {
	_s=$1
	_o=$T/run-$_s-$2
	_t0=$(server_ticks)
	if ! drive "$_s" "$N" "$_o"; then
		echo "FAIL: $_s run $2 broken: $(head -c 400 "$_o.err")"
		return
	fi
	_t1=$(server_ticks)
	_rps=$(field "$_o" rps)
	_xn=$(field "$_o" xnext)
	_srv=$(awk -v a="$_t0" -v b="$_t1" -v t="$TCK" -v n="$N" \
		'BEGIN { printf "%.1f", (b - a) / t * 1e6 / n }')
	_drv=$(awk -v n="$N" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$_o.ru")
	echo "$_rps $_srv $_drv" >>"$T/$_s.res"
	printf 'run %d %-12s %8s req/s  server %6s us/req  driver %6s us/req  204 %s (X-Next-Services %s), 200 %s, other %s\n' \
		"$2" "$_s" "$_rps" "$_srv" "$_drv" "$(field "$_o" 204)" "$_xn" \
		"$(field "$_o" 200)" "$(field "$_o" other)"
	if [ "$(field "$_o" other)" != 0 ]; then
		echo "FAIL: $_s run $2: answers other than 204 and 200"
	fi
	echo "$_xn" >>"$T/$_s.xnext"
	if [ "$_s" = echo ] && [ "$_xn" != 0 ]; then
		echo "FAIL: echo run $2 answered X-Next-Services $_xn times"
	elif [ "$_s" = m365_bypass ] && ! awk -v x="$_xn" -v n="$N" \
		'BEGIN { exit !(x >= 0.3 * n && x <= 0.7 * n) }'; then
		echo "FAIL: m365_bypass run $2: X-Next-Services on $_xn of $N" \
			"(expected 30-70%: half the mix is Microsoft 365)"
	fi
}

r=1
while [ $r -le "$RUNS" ]; do
	# alternate which service goes first: echo m365, m365 echo, ...
	order=$SERVICES
	if [ $((r % 2)) = 0 ]; then
		order=$(echo "$SERVICES" | awk '{ for (i = NF; i > 0; i--)
			printf "%s%s", $i, (i > 1 ? " " : "\n") }')
	fi
	for s in $order; do
		run_one "$s" "$r"
	done
	r=$((r + 1))
done
echo "c-icap CPU ticks since start, master then children: $(for p in \
	$MPID $KIDS; do awk '{ sub(/^.*\) /, ""); printf "%s ", $12 + $13 }' \
	"/proc/$p/stat" 2>/dev/null; done)"
stop_cicap

echo
row() { printf '%-12s  %-24s  %-28s  %s\n' "$@"; }
row service "req/s median (min-max)" "server CPU us/req (min-max)" \
	"driver CPU us/req"
for s in $SERVICES; do
	[ -s "$T/$s.res" ] || continue
	# shellcheck disable=SC2046 # three numbers each, split on purpose
	set -- $(stats "$T/$s.res" 1) $(stats "$T/$s.res" 2) \
		$(stats "$T/$s.res" 3)
	row "$s" "$(printf '%.0f (%.0f-%.0f)' "$1" "$2" "$3")" \
		"$(printf '%.1f (%.1f-%.1f)' "$4" "$5" "$6")" \
		"$(printf '%.1f' "$7")"
	printf '%.0f %.2f\n' "$1" "$4" >"$T/$s.med"
done
if [ -s "$T/m365_bypass.xnext" ] &&
	[ "$(awk '{ t += $1 } END { print t + 0 }' "$T/m365_bypass.xnext")" = 0 ]; then
	echo "FAIL: m365_bypass never answered with X-Next-Services: the" \
		"module never bypasses"
fi
if [ -s "$T/echo.med" ] && [ -s "$T/m365_bypass.med" ]; then
	read -r er ec <"$T/echo.med"
	read -r mr mc <"$T/m365_bypass.med"
	rr=$(awk -v a="$mr" -v b="$er" 'BEGIN { printf "%.3f", a / b }')
	cr=$(awk -v a="$mc" -v b="$ec" 'BEGIN { printf "%.3f", a / b }')
	echo "m365_bypass/echo: req/s ratio $rr, server CPU per request ratio $cr"
	if awk -v r="$rr" 'BEGIN { exit !(r >= 1) }'; then
		echo "PASS: m365_bypass $mr req/s >= echo $er req/s (ratio $rr)"
	else
		echo "MISS: m365_bypass $mr req/s < echo $er req/s (ratio $rr)"
	fi
elif [ -s "$T/echo.med" ]; then
	echo "MISS: no m365_bypass measurement (echo alone: $(cut -d' ' -f1 \
		"$T/echo.med") req/s)"
else
	echo "MISS: no measurement"
fi
exit 0
