#!/bin/sh
# bench/run.sh - what `make bench` runs once the binaries are built.
#
# The machine may be shared and noisy, so the figures are CPU times of the
# process measured (never a wall time that scheduler wake-ups decide),
# each shown as the median (min-max) of RUNS runs (BENCH_RUNS, default 5),
# the runs of the things compared alternated so they see the same machine.
# bench_driver (bench/bench_driver.c) sends the helper a mixed request
# stream; the helper's figure is its CPU time per request over the
# answering phase only (from /proc/PID/task/*/schedstat at its first and
# last answer: loading and exit left out), the driver and the helper on
# one CPU (BENCH_PIN, see bench/lib.sh) so that the cost of a request does
# not depend on where the scheduler puts them.
#
# (a) helper vs floor: ext_m365_acl and build/bench_floor (the I/O floor:
#     answers ERR without classifying) on the same N requests
#     (BENCH_REQUESTS, default 1,000,000), streaming (no window) and with
#     50 in flight (BENCH_WINDOW); ratio helper / floor per run; load time
#     and peak RSS.  The helper counts into a private counters file.  The
#     requests each answered per wake-up show how the stream was batched:
#     with a window, a process slower than the driver finds more lines at
#     each read, so it spends fewer syscalls per request.
# (b) counting on vs off: the same helper counting (--metrics DIR) and not
#     (--metrics off), 50 in flight; what counting costs per request.
# (c) m365_classify() in process (bench_classify): the mix, then each kind
#     of destination alone, in lookups/s of one thread's CPU time.
# (d) local lists (bench/locallists.sh): lists made by bench/gen_local.py
#     (kept in build/bench-lists, made again when missing or older than
#     the generator): load time, peak RSS, RSS per rule, CPU per request
#     against the same stream without a list; and what one random load
#     costs on the machine over 4 and over 64 MiB, and over 4 MiB with a
#     system call every 1000 loads (bench/bench_mem.c); then, counted by
#     callgrind, the instructions per request answered with the plain 1k
#     and 1M lists and the regex/glob list against none: the work a list
#     adds, the same in every run.
# (e) reload under load (bench/reload.sh): a 500k-rule local list, a real
#     redis-server, 50 requests in flight, two versions published in turn.
# (f) ICAP (bench/icap.sh): c-icap's echo against srv_m365_bypass.
# (g) PAC (bench/pac_bench.py): m365ctl export pac against a PAC of one
#     shExpMatch() per pattern (Get-PacFile's style), 10,000 URLs each, in
#     pacparser; CPU time per run.
#
# BENCH_BASE=DIR (a build dir of another revision: ext_m365_acl,
# bench_classify; bench/base.sh REV makes one, `make bench
# BENCH_BASE_REV=REV` both) adds a column (rows in (d)) for that build to
# (a) to (e): run by run alternately with the current one in (a) to (d),
# one after the other in (e) (whose quiet and reload phases alternate).
# Sizes: BENCH_REQUESTS, BENCH_WINDOW, BENCH_LOCAL_REQUESTS (d, default
# 200,000), BENCH_LISTS (d, e: where the lists are kept), BENCH_ICAP_* (f,
# see bench/icap.sh).  BENCH_KEEP=DIR keeps every raw output there;
# BENCH_SECTIONS="a c" runs some sections only.
#
# Targets (issue 9, and issue 8's for counting) are printed as PASS or
# MISS lines, for the current build; a run that breaks (wrong or missing
# answers, a crash) is printed as FAIL.  The exit status is 0 either way:
# a benchmark, not a test.
cd "$(dirname "$0")/.." || exit 1
N=${BENCH_REQUESTS:-1000000}
W=${BENCH_WINDOW:-50}
RUNS=${BENCH_RUNS:-5}
SECTIONS=${BENCH_SECTIONS:-a b c d e f g}
T=$(mktemp -d)
trap '[ -n "${BENCH_KEEP:-}" ] && mkdir -p "$BENCH_KEEP" && cp -r "$T"/. "$BENCH_KEEP"; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
. bench/lib.sh

want() {
	case " $SECTIONS " in *" $1 "*) return 0 ;; esac
	return 1
}

# row LABEL CELL...: one table row, a column per build
row() {
	printf '%-28s' "$1"
	shift
	for _c in "$@"; do printf '  %-28s' "$_c"; done
	echo
}

# brow LABEL PREFIX [FMT [SUFFIX]]: a row of cell PREFIX.BUILD, each build
brow() {
	printf '%-28s' "$1"
	for _b in $BUILDS; do
		printf '  %-28s' "$(cell "$2.$_b" "${3:-}" "${4:-}")"
	done
	echo
}

# header: the build names over the columns
header() {
	printf '%-28s' ""
	for _b in $BUILDS; do printf '  %-28s' "$(label "$_b")"; done
	echo
}

case ${BENCH_PIN:-auto} in
none) echo "(a), (b), (d): the driver and the helper not pinned (BENCH_PIN=none)" ;;
auto) echo "(a), (b), (d): the driver and the helper on one CPU, the idlest" \
	"before each run (BENCH_PIN=auto)" ;;
*) echo "(a), (b), (d): the driver and the helper on CPU $BENCH_PIN (BENCH_PIN)" ;;
esac
if [ "$BUILDS" != cur ]; then
	echo "Comparing the current build ($(git rev-parse --short HEAD 2>/dev/null)" \
		"and the tree's changes) with the base build in $BENCH_BASE"
fi

# --- (a) helper vs floor -------------------------------------------------------
if want a; then
	echo
	echo "== (a) helper vs the I/O floor: CPU ns/request of the answering phase =="
	echo "$N requests a run; median (min-max) of $RUNS runs"
	i=0
	while [ $i -lt "$RUNS" ]; do
		for mode in stream window; do
			w=$W
			[ $mode = stream ] && w=$N
			for who in $(rotate $i floor $BUILDS); do
				o=a.$mode.$who.$i
				if [ "$who" = floor ]; then
					drive "$o" -n "$N" -w "$w" "$o" "$B/bench_floor"
				else
					mkdir -p "$T/m.$who"
					drive "$o" -n "$N" -w "$w" "$o" \
						"$(bin "$who" ext_m365_acl)" \
						--metrics "$T/m.$who"
				fi
				put "a.$mode.$who" "$(num "$o" cpu)"
				put "a.$mode.batch.$who" "$(num "$o" batch)"
				[ "$who" = floor ] && continue
				put "a.load.$who" "$(num "$o" load)"
				put "a.hwm.$who" "$(num "$o" hwm)"
			done
			for b in $BUILDS; do
				put "a.$mode.ratio.$b" "$(ratio \
					"$(num "a.$mode.$b.$i" cpu)" \
					"$(num "a.$mode.floor.$i" cpu)")"
			done
		done
		i=$((i + 1))
	done
	header
	for mode in stream window; do
		what=streaming
		[ $mode = window ] && what="$W in flight"
		for b in $BUILDS; do
			cp "$T/a.$mode.floor" "$T/a.$mode.fl.$b"
			cp "$T/a.$mode.batch.floor" "$T/a.$mode.flb.$b"
		done
		brow "floor, $what" "a.$mode.fl"
		brow "helper, $what" "a.$mode"
		brow "  helper / floor" "a.$mode.ratio" "%.2f" x
		brow "  floor requests/wake-up" "a.$mode.flb"
		brow "  helper requests/wake-up" "a.$mode.batch"
	done
	brow "helper load, CPU ms" a.load "%.1f"
	brow "helper peak RSS, KiB" a.hwm
	r=$(med a.stream.ratio.cur)
	judge "helper CPU per request streaming $(fmt %.2f "$r")x the floor's (median; target <= 6x)" \
		'v <= 6' "$r"
fi

# --- (b) counting on vs off ---------------------------------------------------
if want b; then
	echo
	echo "== (b) counting on vs off: the helper's CPU ns/request, $W in flight =="
	echo "$N requests a run; median (min-max) of $RUNS runs each"
	i=0
	while [ $i -lt "$RUNS" ]; do
		for who in $(rotate $i $BUILDS); do
			for mode in $(rotate $i on off); do
				dir=$T/c.metrics.$who
				mkdir -p "$dir"
				[ $mode = off ] && dir=off
				o=b.$mode.$who.$i
				drive "$o" -n "$N" -w "$W" "$o" \
					"$(bin "$who" ext_m365_acl)" --metrics "$dir"
				put "b.$mode.$who" "$(num "$o" cpu)"
			done
			put "b.cost.$who" "$(awk -v a="$(num "b.on.$who.$i" cpu)" \
				-v b="$(num "b.off.$who.$i" cpu)" \
				'BEGIN { if (a && b) printf "%.2f", (a - b) * 100 / b }')"
		done
		i=$((i + 1))
	done
	header
	brow "counting on" b.on
	brow "counting off" b.off
	brow "  cost, % (per run)" b.cost "%.1f"
	# judged on the runs' own costs: each on run beside its off run
	cost=$(med b.cost.cur)
	judge "counting costs $(fmt %.1f "$cost")% CPU per request (median of the runs' costs; target < 5%)" \
		'v < 5' "$cost"
	# the counted file holds what was sent: every run's answers
	total=$("$B/m365ctl" metrics --metrics "$T/c.metrics.cur" 2>/dev/null |
		awk '/^m365_bypass_lookups_total/ { s += $NF } END { print s + 0 }')
	judge "counters hold every counted answer ($total of $((N * RUNS)))" \
		"v == $((N * RUNS))" "$total"
fi

# --- (c) classify -------------------------------------------------------------
if want c; then
	echo
	echo "== (c) m365_classify() in process: lookups/s of one thread's CPU time =="
	echo "the mix for 1 s, then each kind alone (its own array) for 0.4 s;" \
		"median (min-max) of $RUNS runs, in millions"
	KINDS="microsoft-name look-alike ip-inside ip-outside unrelated"
	i=0
	while [ $i -lt "$RUNS" ]; do
		for who in $(rotate $i $BUILDS); do
			o=c.$who.$i
			[ -x "$(bin "$who" bench_classify)" ] || continue
			if ! timeout 120 "$(bin "$who" bench_classify)" >"$T/$o" \
				2>"$T/$o.err"; then
				echo "FAIL: bench_classify ($(label "$who")) broken:" \
					"$(head -c 300 "$T/$o.err")"
				continue
			fi
			# the number before "lookups/s" on the first line, and on
			# each kind's line
			put "c.mix.$who" "$(awk 'NR == 1 { for (i = 2; i <= NF; i++)
				if ($i ~ /^lookups\/s/) print $(i - 1) / 1e6 }' "$T/$o")"
			for k in $KINDS; do
				put "c.$k.$who" "$(awk -v k="$k" '$2 == k {
					for (i = 3; i <= NF; i++) if ($i ~ /^lookups\/s/)
					print $(i - 1) / 1e6 }' "$T/$o")"
			done
		done
		i=$((i + 1))
	done
	for b in $BUILDS; do
		[ -x "$(bin "$b" bench_classify)" ] ||
			echo "info: no $(bin "$b" bench_classify): no $(label "$b") column"
	done
	header
	brow "mix" c.mix "%.2f"
	for k in $KINDS; do
		brow "  $k alone" "c.$k" "%.2f"
	done
	rate=$(med c.mix.cur)
	judge "classify $(fmt %.2f "$rate")M lookups/s for the mix (median; target >= 12M)" \
		'v >= 12' "$rate"
fi

want d && . bench/locallists.sh
want e && . bench/reload.sh
if want f; then
	echo
	echo "== (f) c-icap =="
	sh bench/icap.sh
fi
if want g; then
	echo
	echo "== (g) PAC: 10,000 URLs in a PAC engine (pacparser) =="
	/usr/bin/python3 bench/pac_bench.py "$B/m365ctl" "$RUNS" ||
		echo "FAIL: the PAC benchmark broke"
fi
exit 0
