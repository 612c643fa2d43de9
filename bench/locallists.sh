# bench/locallists.sh - section (d) of `make bench`: the local-list table.
# Sourced by bench/run.sh (which sets T, RUNS, BUILDS and the functions of
# bench/lib.sh).
#
# Lists from bench/gen_local.py, kept in BENCH_LISTS (default
# build/bench-lists) and made again when missing or older than the
# generator: plain rules (mostly names, some ranges, a few never rules) 1k,
# 100k, 1M; 10, 100, 1000 regexes; 1000 regexes + 1000 irregular globs;
# 100k names only; 100k IPv4 ranges; 100k IPv6 ranges (make_list in
# bench/lib.sh).
#
# Each row: the helper with --local LIST and without a local list, on the
# same stream, streaming, BENCH_LOCAL_REQUESTS (default 200,000) requests
# of which half have a destination from LIST.hosts (hits and near misses),
# alternated run by run (and with the base build when there is one).
# Columns: load time (fork to first answer), peak RSS (VmHWM) with the
# list, bytes of RSS per rule ((VmRSS after answering with the list -
# without) / rules), CPU ns/request of the answering phase with and
# without the list, their ratio per run, and the share of OK answers.  A
# list the helper refuses (the current code refuses files over 16 MiB)
# shows as "refused" with the helper's reason.
NL=${BENCH_LOCAL_REQUESTS:-200000}
LISTS="plain:1000 plain:100000 plain:1000000 regex:10 regex:100 regex:1000
reglob:1000 names:100000 v4:100000 v6:100000"

# list_label KIND N: how the table names a list
list_label() {
	_n=$2
	case $_n in
	*000000) _n=${_n%000000}M ;;
	*000) _n=${_n%000}k ;;
	esac
	case $1 in
	plain) echo "plain $_n" ;;
	names) echo "names only $_n" ;;
	regex) echo "regexes $_n" ;;
	reglob) echo "$_n re + $_n globs" ;;
	v4) echo "IPv4 ranges $_n" ;;
	v6) echo "IPv6 ranges $_n" ;;
	esac
}

echo
echo "== (d) local lists: load, memory and CPU per request =="
echo "$NL requests a run, streaming, half of the destinations from the" \
	"list's sample hosts; median (min-max) of $RUNS runs"
for spec in $LISTS; do
	make_list "${spec%:*}" "${spec#*:}"
done
i=0
while [ $i -lt "$RUNS" ]; do
	for spec in $LISTS; do
		k=${spec%:*}
		n=${spec#*:}
		f=$L/$k-$n.list
		for who in $(rotate $i $BUILDS); do
			for what in $(rotate $i list none); do
				o=d.$k-$n.$what.$who.$i
				set -- "$(bin "$who" ext_m365_acl)" --metrics off
				[ $what = list ] && set -- "$@" --local "$f"
				drive "$o" -n "$NL" -w "$NL" -f "$f.hosts" -m 50 "$o" "$@"
				p=d.$k-$n.$what
				put "$p.cpu.$who" "$(num "$o" cpu)"
				put "$p.rss.$who" "$(num "$o" rss)"
				[ $what = list ] || continue
				put "$p.load.$who" "$(num "$o" load)"
				put "$p.wall.$who" "$(num "$o" loadwall)"
				put "$p.hwm.$who" "$(num "$o" hwm)"
				put "$p.ok.$who" "$(num "$o" ok)"
				why=$(refused "$o")
				[ -z "$why" ] && [ "$(num "$o" ok)" = 0 ] &&
					why="no OK answer"
				[ -n "$why" ] && echo "$why" >"$T/$p.refused.$who"
			done
			put "d.$k-$n.ratio.$who" "$(ratio \
				"$(num "d.$k-$n.list.$who.$i" cpu)" \
				"$(num "d.$k-$n.none.$who.$i" cpu)")"
		done
	done
	i=$((i + 1))
done

drow() {
	printf '%-18s %7s %-7s %-17s %6s %8s %6s %-16s %-16s %-18s %s\n' "$@"
}
drow list rules build "load CPU ms" wall "peak MiB" B/rule "CPU ns/req" \
	"none ns/req" "ratio to none" "OK %"
for spec in $LISTS; do
	k=${spec%:*}
	n=${spec#*:}
	p=d.$k-$n
	rules=$(grep -c '^[bn]' "$L/$k-$n.list")
	for who in $BUILDS; do
		lab=$(list_label "$k" "$n")
		if [ -s "$T/$p.list.refused.$who" ]; then
			printf '%-18s %7s %-7s %s (without: %s ns/req)\n' "$lab" \
				"$rules" "$(label "$who")" \
				"refused: $(cat "$T/$p.list.refused.$who")" \
				"$(cell "$p.none.cpu.$who")"
			continue
		fi
		hwm=$(med "$p.list.hwm.$who")
		per=$(awk -v a="$(med "$p.list.rss.$who")" \
			-v b="$(med "$p.none.rss.$who")" -v n="$rules" \
			'BEGIN { if (a != "" && b != "") printf "%.0f", (a - b) * 1024 / n }')
		echo "$per" >"$T/$p.per.$who"
		okp=$(awk -v o="$(med "$p.list.ok.$who")" -v n="$NL" \
			'BEGIN { if (o != "") printf "%.1f", o * 100 / n }')
		drow "$lab" "$rules" "$(label "$who")" \
			"$(cell "$p.list.load.$who" "%.0f")" \
			"$(fmt %.0f "$(med "$p.list.wall.$who")")" \
			"$(awk -v h="$hwm" 'BEGIN { if (h != "") printf "%.1f", h / 1024 }')" \
			"$per" "$(cell "$p.list.cpu.$who")" \
			"$(cell "$p.none.cpu.$who")" \
			"$(cell "$p.ratio.$who" "%.2f" x)" "$okp"
	done
done
echo "(load: fork to first answer, the helper's CPU time, then the wall time's" \
	"median; peak MiB: VmHWM with the list; B/rule: VmRSS after answering," \
	"with the list minus without, per rule)"
for who in $BUILDS; do
	echo "memory per rule ($(label "$who")): names $(cat "$T/d.names-100000.per.$who" 2>/dev/null) B," \
		"IPv4 ranges $(cat "$T/d.v4-100000.per.$who" 2>/dev/null) B," \
		"IPv6 ranges $(cat "$T/d.v6-100000.per.$who" 2>/dev/null) B"
done

# For information: what a random load costs on this machine, over a small
# and a large region, and after system calls (bench/bench_mem.c): the
# 1M-rule list's row depends on it more than on the code.
echo "machine (bench_mem: one load at a time, the same lines spread over" \
	"4 MiB and over 64 MiB, then over 4 MiB with a system call every" \
	"1000 loads, the calls' own time left out):"
"$B/bench_mem" | sed 's/^/  /'

# For information: the same two lists against the ordinary mix alone (no
# destination from the list's hosts): what carrying the list costs the
# traffic it is not about.  Then the 1M-rule list with half of the
# destinations from the first 400 of its sample hosts instead of all 4000
# (about 200 hits and 200 near misses): the same code and the same tables,
# but the pages its lookups reach fit the TLB, so the difference between
# the two rows is what page walks cost on this machine (bench_mem above).
head -n 401 "$L/plain-1000000.list.hosts" >"$T/plain-1M-few.hosts"

# info_run ROW LIST [HOSTS]: run $i of the helper with LIST and without, on
# the ordinary mix (with HOSTS: half of the destinations from it); their
# ratio goes to d0.ROW.ratio
info_run() {
	_row=$1
	_list=$2
	_hosts=${3:-}
	for what in $(rotate $i list none); do
		o=d0.$_row.$what.$i
		set -- "$(bin cur ext_m365_acl)" --metrics off
		[ $what = list ] && set -- "$@" --local "$_list"
		set -- "$o" "$@"
		[ -n "$_hosts" ] && set -- -f "$_hosts" "$@"
		drive "$o" -n "$NL" -w "$NL" "$@"
	done
	put "d0.$_row.ratio" "$(ratio "$(num "d0.$_row.list.$i" cpu)" \
		"$(num "d0.$_row.none.$i" cpu)")"
}

i=0
while [ $i -lt "$RUNS" ]; do
	info_run reglob-1000 "$L/reglob-1000.list"
	info_run plain-1000000 "$L/plain-1000000.list"
	info_run few-1000000 "$L/plain-1000000.list" "$T/plain-1M-few.hosts"
	i=$((i + 1))
done
echo "info: the ordinary mix alone (no destination from the list's hosts):" \
	"1000 re + 1000 globs $(cell d0.reglob-1000.ratio "%.2f" x)," \
	"plain 1M $(cell d0.plain-1000000.ratio "%.2f" x) the CPU per request" \
	"of no local list"
echo "info: plain 1M with half of the destinations from 400 of its sample" \
	"hosts instead of 4000 (the pages its lookups touch within the TLB's" \
	"reach): $(cell d0.few-1000000.ratio "%.2f" x) the CPU per request of" \
	"no local list"

# For information: instructions per request answered, which callgrind
# counts in the helper's handle_line() and everything it calls (parsing,
# classifying, the answer; not the reads and the writes), on the first
# BENCH_INSN_REQUESTS (default 50,000) requests of the same streams, each
# list against none on its own stream.  A count is the same in every run,
# so it shows the work a list adds without the machine's noise; what the
# CPU time ratios above add to it is what that work waits for on this
# machine (page walks, cache misses, mispredicted branches).
NI=${BENCH_INSN_REQUESTS:-50000}

# insn BUILD ROW LIST|- HOSTS: the instructions per request of BUILD's
# helper with LIST (- none) on the stream with HOSTS, into d1.ROW.BUILD
insn() {
	_o=d1.$2.$1
	_list=$3
	_hosts=$4
	set -- valgrind --tool=callgrind --collect-atstart=no \
		--toggle-collect=handle_line --callgrind-out-file="$T/$_o.cg" \
		"$(bin "$1" ext_m365_acl)" --metrics off
	[ "$_list" = - ] || set -- "$@" --local "$_list"
	# loading under callgrind takes long: up to 4 minutes without an answer
	if ! drive "$_o" -t 240 -n "$NI" -w "$NI" -f "$_hosts" "$_o" "$@"; then
		rm -f "$T/$_o"
		return 0
	fi
	awk -v n="$NI" '/^summary:/ { printf "%.0f\n", $2 / n }' \
		"$T/$_o.cg" >"$T/$_o"
}

# insn_cell BUILD ID WHAT: "WHAT N against M without (R x)"
insn_cell() {
	awk -v w="$3" -v a="$(cat "$T/d1.$2.$1" 2>/dev/null)" \
		-v b="$(cat "$T/d1.$2.none.$1" 2>/dev/null)" 'BEGIN {
		if (a > 0 && b > 0)
			printf "%s %d against %d without (%.2fx)", w, a, b, a / b
		else
			printf "%s ?", w }'
}
for who in $BUILDS; do
	for id in plain-1000 plain-1000000 reglob-1000; do
		insn "$who" "$id" "$L/$id.list" "$L/$id.list.hosts"
		insn "$who" "$id.none" - "$L/$id.list.hosts"
	done
	echo "info: instructions per request answered ($(label "$who")," \
		"callgrind, in handle_line() and below; the same in every run):" \
		"$(insn_cell "$who" plain-1000 "plain 1k")," \
		"$(insn_cell "$who" plain-1000000 "plain 1M")," \
		"$(insn_cell "$who" reglob-1000 "1000 re + 1000 globs")"
done

r=$(med d.reglob-1000.ratio.cur)
judge "1000 regexes + 1000 irregular globs cost $(fmt %.2f "$r")x the CPU per request of no local list (median; target <= 1.3x)" \
	'v <= 1.3' "$r"
if [ -s "$T/d.plain-1000000.list.refused.cur" ]; then
	why=$(cat "$T/d.plain-1000000.list.refused.cur")
	echo "MISS: a 1M-rule local list loads in under 2 s (refused: $why)"
	echo "MISS: a 1M-rule local list costs at most 1.5x per request (refused)"
	echo "MISS: a 1M-rule local list takes under 120 MB of RSS (refused)"
else
	v=$(med d.plain-1000000.list.load.cur)
	judge "a 1M-rule local list loads in $(fmt %.0f "$v") ms of CPU (median; target < 2000 ms)" \
		'v < 2000' "$v"
	v=$(med d.plain-1000000.ratio.cur)
	judge "a 1M-rule local list costs $(fmt %.2f "$v")x the CPU per request of none (median; target <= 1.5x)" \
		'v <= 1.5' "$v"
	v=$(med d.plain-1000000.list.hwm.cur)
	judge "a 1M-rule local list: helper peak RSS $(fmt %.0f "$v") KiB (median; target < 120 MB)" \
		'v * 1024 < 120000000' "$v"
fi
