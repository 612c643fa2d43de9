#!/bin/sh
# tests/fuzz/run.sh - what `make fuzz` runs: each libFuzzer target in
# FUZZ_TARGETS (default: all) for FUZZ_SECONDS (default 60).
#
# The working corpus of a target is build/fuzz/corpus/TARGET, seeded from
# tests/fuzz/corpus/TARGET (and, for endpoints, the real lists); it keeps
# growing from run to run.  A crash, a leak, a timeout, an out-of-memory or
# a broken invariant stops that target: its reproducer is copied to
# tests/fuzz/corpus/TARGET/crash-SHA1, where `make check` replays it from
# then on (commit it with the fix; until then, it also stops the next
# run at once).  FUZZ_KEEP_GOING=1 fuzzes on past crashes (libFuzzer's
# -fork=1 -ignore_crashes=1) and keeps every one.
# FUZZ_JOBS=N runs N fuzzing processes per target (with KEEP_GOING).
# The exit status is non-zero when any target found something.
cd "$(dirname "$0")/../.." || exit 2
S=${FUZZ_SECONDS:-60}
B=build/fuzz
T=${FUZZ_TARGETS:-endpoints local classify proto icap_dest store local_breadth differential redfa}
rc=0

for t in $T; do
	if [ ! -x "$B/fuzz_$t" ]; then
		echo "FAIL: $B/fuzz_$t missing (make fuzz builds it)"
		rc=1
		continue
	fi
	corpus="$B/corpus/$t"
	art="$B/artifacts/$t"
	mkdir -p "$corpus" "$art"
	rm -f "$art"/*
	cp tests/fuzz/corpus/"$t"/* "$corpus/" 2>/dev/null
	if [ "$t" = endpoints ]; then
		cp tests/fixtures/*.json lists/*.json "$corpus/"
	fi
	more=""
	if [ -n "$FUZZ_KEEP_GOING" ]; then
		more="-fork=${FUZZ_JOBS:-1} -ignore_crashes=1 -ignore_ooms=1"
		more="$more -ignore_timeouts=1"
	fi
	n=$(find "$corpus" -type f | wc -l)
	echo "== fuzz_$t for $S s ($n inputs) =="
	# shellcheck disable=SC2086
	"$B/fuzz_$t" -max_total_time="$S" -max_len=65536 -timeout=30 \
		-print_final_stats=1 $more -artifact_prefix="$art/" \
		"$corpus" >"$B/fuzz_$t.log" 2>&1
	st=$?
	found=0
	for a in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
		[ -f "$a" ] || continue
		found=$((found + 1))
		kind=${a##*/}
		kind=${kind%%-*}
		dest="tests/fuzz/corpus/$t/crash-$(sha1sum <"$a" | cut -c1-40)"
		if [ -f "$dest" ]; then
			echo "FOUND: fuzz_$t: $kind, the known $dest (not fixed)"
		else
			cp "$a" "$dest"
			echo "FOUND: fuzz_$t: $kind, reproducer saved as $dest"
		fi
		echo "  replay: build/fuzz-replay/fuzz_$t $dest"
	done
	if [ $st -ne 0 ] || [ $found -ne 0 ]; then
		echo "FAIL: fuzz_$t: see $B/fuzz_$t.log"
		grep -a -m1 -E 'ERROR: |runtime error:|deadly signal' \
			"$B/fuzz_$t.log"
		tail -30 "$B/fuzz_$t.log"
		rc=1
	else
		# the final counts: "#N DONE cov: ..." and "Done N runs in S
		# second(s)", or the last "#N: cov: ..." of a -fork run
		grep -aE '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs' \
			"$B/fuzz_$t.log" ||
			grep -aE '^#[0-9]+: cov' "$B/fuzz_$t.log" | tail -1
	fi
done
exit $rc
