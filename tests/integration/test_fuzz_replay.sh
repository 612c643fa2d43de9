#!/bin/sh
# tests/integration/test_fuzz_replay.sh - every fuzz target over its corpus
# (tests/fuzz/corpus/TARGET: the seeds and every crash ever found) with the
# ASan+UBSan build of tests/fuzz/replay.c, so that what a fuzzer once found
# stays fixed.  The endpoints target also reads every real list
# (tests/fixtures/*.json, lists/*.json).  One PASS per target; a FAIL names
# the input that failed, with the sanitizer's summary; the whole report is
# in build/fuzz-replay/logs/TARGET.log.
. "$(dirname "$0")/../lib.sh"

TARGETS="endpoints local classify proto icap_dest store local_breadth farm differential redfa changes"
LOGS="$BUILD/fuzz-replay/logs"
cd "$ROOT" || exit 1
mkdir -p "$LOGS"
# handle_abort / abort_on_error: a broken invariant (abort()) and a UBSan
# report also end with the input's name (replay.c) and a stack trace
export ASAN_OPTIONS="detect_leaks=1:handle_abort=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1"

# inputs TARGET: the files the target replays, one a line
inputs() {
	for f in "tests/fuzz/corpus/$1"/*; do
		[ -f "$f" ] && echo "$f"
	done
	if [ "$1" = endpoints ]; then
		for f in tests/fixtures/*.json lists/*.json; do
			[ -f "$f" ] && echo "$f"
		done
	fi
}

# why LOG RC: one line of the report: where an abort() (a broken
# invariant) was called, a UBSan error, or the sanitizer's summary
why() {
	r=$(grep -a -m1 'runtime error:' "$1")
	if [ -z "$r" ] && grep -aq 'Sanitizer: ABRT' "$1"; then
		r=$(grep -a -A12 'Sanitizer: ABRT' "$1" | grep -a ' in ' |
			grep -av -e abort -e raise -e pthread_kill -e sanitizer |
			head -1 | sed 's/^ *#[0-9]* 0x[0-9a-f]* in /abort() in /')
	fi
	[ -n "$r" ] || r=$(grep -a -m1 '^SUMMARY: ' "$1" | sed 's/^SUMMARY: //')
	printf '%s' "${r:-exited $2}" | cut -c1-200
}

for t in $TARGETS; do
	bin="$BUILD/fuzz-replay/fuzz_$t"
	log="$LOGS/$t.log"
	[ -x "$bin" ] || make -s -C "$ROOT" "build/fuzz-replay/fuzz_$t" >/dev/null 2>&1
	if [ ! -x "$bin" ]; then
		not_ok "fuzz replay $t" "$bin missing (make tests)"
		continue
	fi
	inputs "$t" >"$LOGS/$t.inputs"
	n=$(wc -l <"$LOGS/$t.inputs" | tr -d ' ')
	if [ "$n" -eq 0 ]; then
		not_ok "fuzz replay $t" "no inputs in tests/fuzz/corpus/$t"
		continue
	fi
	# one run over every input (names without spaces; far below ARG_MAX)
	set -f
	# shellcheck disable=SC2046
	timeout 120 "$bin" $(cat "$LOGS/$t.inputs") >"$log" 2>&1
	rc=$?
	set +f
	if [ $rc -eq 0 ] && ! grep -aqE 'Sanitizer|runtime error:' "$log"; then
		ok "fuzz replay $t ($n inputs)"
		continue
	fi
	bad=$(sed -n 's/^replay: FAILED on //p' "$log" | head -1)
	if [ -z "$bad" ]; then
		# no last words (a timeout, a kill): find the input one by one
		while read -r f; do
			if ! timeout 60 "$bin" "$f" >"$log.one" 2>&1 ||
				grep -aqE 'Sanitizer|runtime error:' "$log.one"; then
				bad=$f
				mv "$log.one" "$log"
				break
			fi
		done <"$LOGS/$t.inputs"
		rm -f "$log.one"
	fi
	not_ok "fuzz replay $t" "${bad:-an unknown input} ($(why "$log" $rc); see $log)"
	sed 's/^/  /' "$log" | head -40 >&2
done
finish
