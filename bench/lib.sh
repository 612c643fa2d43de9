# bench/lib.sh - shell functions shared by bench/run.sh and
# bench/locallists.sh (sourced, from the top of the tree, with T set to a
# temp dir).  Measures nothing and prints nothing by itself.
#
# BUILDS is "cur" or, with BENCH_BASE=DIR, "cur base": every helper table
# runs each build in turn, the order rotating from run to run so that both
# see the same machine.  The measuring programs (bench_driver, bench_floor,
# bench_reload_load) are always the current ones; only the programs
# measured (ext_m365_acl, bench_classify) come from DIR.
B=build
L=${BENCH_LISTS:-$B/bench-lists}
BUILDS=cur
if [ -n "${BENCH_BASE:-}" ]; then
	if [ -x "$BENCH_BASE/ext_m365_acl" ]; then
		BUILDS="cur base"
	else
		echo "FAIL: BENCH_BASE=$BENCH_BASE holds no ext_m365_acl:" \
			"comparing nothing"
	fi
fi

# PIN: how bench_driver and the helper it forks share one CPU.  On one CPU
# the two take turns, and a request's bytes are still in that CPU's cache
# when the helper reads them; where the scheduler would put the pair on
# one CPU or on two at its whim (the I/O floor then costs 25 or 80
# ns/request), the figures become stable.  Moving requests between CPUs is
# left out of every figure alike.  BENCH_PIN=auto (the default): the CPU
# idle the longest over the 100 ms before each run (bench_driver -p), so
# that a job busy on one CPU is avoided; BENCH_PIN=N: always CPU N;
# BENCH_PIN=none: no pinning.
PIN=
PIN_OPT=
case ${BENCH_PIN:-auto} in
none) ;;
auto) PIN_OPT=-p ;;
*) PIN="taskset -c $BENCH_PIN" ;;
esac

# bin BUILD PROG: the path of PROG in BUILD
bin() {
	if [ "$1" = base ]; then echo "$BENCH_BASE/$2"; else echo "$B/$2"; fi
}

# label BUILD: how a table names it
label() {
	if [ "$1" = base ]; then echo base; else echo current; fi
}

# rotate I WORD...: the words, rotated left by I (run I's order)
rotate() {
	_r=$1
	shift
	_n=$#
	[ "$_n" -gt 0 ] || return 0
	_r=$((_r % _n))
	while [ "$_r" -gt 0 ]; do
		_f=$1
		shift
		set -- "$@" "$_f"
		_r=$((_r - 1))
	done
	echo "$@"
}

# drive OUT DRIVER_ARG...: runs bench_driver (pinned: PIN, PIN_OPT) with
# OUT as NAME, its output in $T/OUT, its (and the child's) stderr in
# $T/OUT.err; 1 and a FAIL line when it breaks.
drive() {
	_o=$1
	shift
	# shellcheck disable=SC2086 # PIN is a command and its arguments
	if timeout 300 $PIN "$B/bench_driver" $PIN_OPT "$@" >"$T/$_o" \
		2>"$T/$_o.err"; then
		return 0
	fi
	echo "FAIL: $_o run broken: $(grep -v WARNING "$T/$_o.err" | tail -c 300)"
	return 1
}

# num OUT WHAT: a number from bench_driver's output $T/OUT: cpu (answering
# CPU ns/request), life (child CPU ns/request from wait4), load (CPU ms
# from the fork to the first answer), loadwall (the same in wall ms), rss,
# hwm (KiB after answering, peak), ok (OK answers), batch (requests
# answered per sleep of the child's main thread).
num() {
	awk -v w="$2" '
		/: answering CPU / && w == "cpu" { print $(NF - 1) }
		/: child CPU / && w == "life" { print $(NF - 1) }
		/: load / && w == "load" { print $(NF - 2) }
		/: load / && w == "loadwall" { print $3 }
		/: RSS / && w == "rss" { print $3 }
		/: RSS / && w == "hwm" { print $(NF - 1) }
		/: answers OK=/ && w == "ok" { sub(/OK=/, "", $3); print $3 }
		/: answering sleeps / && w == "batch" { print $(NF - 1) }
	' "$T/$1" 2>/dev/null
}

# put FILE VALUE: appends VALUE (when not empty) to $T/FILE
put() {
	[ -n "$2" ] && echo "$2" >>"$T/$1"
	return 0
}

# ratio A B: A / B with 3 decimals, or nothing when either is missing
ratio() {
	[ -n "$1" ] && [ -n "$2" ] || return 0
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b }'
}

# stats FILE: "median min max" of the numbers in $T/FILE, nothing if none
stats() {
	[ -s "$T/$1" ] || return 0
	sort -g "$T/$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}

# med FILE: the median of $T/FILE, or nothing
med() {
	stats "$1" | awk '{ print $1 }'
}

# fmt FMT VALUE: VALUE printed with FMT, or "?" when it is empty
fmt() {
	if [ -n "$2" ]; then printf "$1" "$2"; else echo "?"; fi
}

# cell FILE [FMT [SUFFIX]]: "median (min-max)" of $T/FILE, each number
# printed with FMT (default %.0f) then SUFFIX; "-" when there is none
cell() {
	_s=$(stats "$1")
	if [ -z "$_s" ]; then
		echo "-"
		return
	fi
	echo "$_s" | awk -v f="${2:-%.0f}" -v x="${3:-}" '{
		printf f x " (" f "-" f ")\n", $1, $2, $3 }'
}

# judge LABEL CONDITION VALUE: PASS when the awk CONDITION holds for v =
# VALUE, MISS when not or when VALUE is empty (not measured)
judge() {
	if [ -z "$3" ]; then
		echo "MISS: $1 (not measured)"
	elif awk -v v="$3" "BEGIN { exit !($2) }"; then
		echo "PASS: $1"
	else
		echo "MISS: $1"
	fi
}

# refused OUT: why the helper of run OUT loaded no list ("" when it did):
# it then answers ERR to everything and says why on stderr
refused() {
	if grep -q 'until a list loads' "$T/$1.err" 2>/dev/null; then
		grep -m1 'until a list loads' "$T/$1.err" |
			sed 's/^ext_m365_acl: //; s/; answering ERR until.*//' |
			sed 's/.*: \([^:]*\)$/\1/' | cut -c1-60
	fi
}

# make_list KIND N: makes $L/KIND-N.list and its .hosts with
# bench/gen_local.py when missing or older than the generator, and checks
# that the list loads and its first sample host is OK with `m365ctl lookup
# --local` (a list over 16 MiB, which the current code refuses, is only
# reported)
make_list() {
	_f=$L/$1-$2.list
	if [ ! -s "$_f" ] || [ ! -s "$_f.hosts" ] ||
		[ bench/gen_local.py -nt "$_f" ]; then
		mkdir -p "$L"
		echo "making $(python3 bench/gen_local.py "$1" "$2" "$_f")"
	fi
	_h=$(head -n 1 "$_f.hosts")
	if ! "$B/m365ctl" lookup --local "$_f" "$_h" 443 >"$T/check" 2>&1; then
		_why=$(tail -n 1 "$T/check" | cut -c1-200)
		if [ "$(wc -c <"$_f")" -gt 16777216 ]; then
			echo "info: $_f ($(wc -c <"$_f") bytes) does not load with" \
				"the current m365ctl: $_why"
		else
			echo "FAIL: $_f does not load or $_h is not OK: $_why"
		fi
	fi
}

