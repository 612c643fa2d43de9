#!/bin/sh
# tests/run.sh - runs every test of `make check` and prints the total.
#
# Unit tests are cmocka binaries in build/tests (built with ASan+UBSan);
# integration tests are tests/integration/test_*.sh, in two lanes at once
# (M365_TEST_JOBS), each taking the next test not yet taken.  The last line
# is "N passed, M failed"; the exit status is non-zero on any failure.
cd "$(dirname "$0")/.." || exit 2
out=build/test-logs
rm -rf "$out" && mkdir -p "$out"
passed=0
failed=0
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

count() { # LOG: adds the PASS/FAIL lines of a log to the totals
	p=$(grep -ac '^PASS: ' "$1")
	f=$(grep -ac '^FAIL: ' "$1")
	passed=$((passed + p))
	failed=$((failed + f))
}

for t in build/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	log="$out/$name.log"
	CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$log.raw" 2>&1
	rc=$?
	# cmocka prints "[       OK ] name" / "[  FAILED  ] name" per test.
	sed -n -e 's/^\[       OK \] \(.*\)$/PASS: '"$name"'.\1/p' \
	    -e 's|^\[  FAILED  \] \([a-z_0-9]*\)$|FAIL: '"$name"'.\1: see '"$log"'.raw|p' \
	    "$log.raw" | sort -u >"$log"
	if [ $rc -ne 0 ] && ! grep -aq '^FAIL: ' "$log"; then
		echo "FAIL: $name: exited $rc (see $log.raw)" >>"$log"
	fi
	count "$log"
	printf '%-40s %s\n' "$name" "$(grep -ac '^PASS: ' "$log") passed, $(grep -ac '^FAIL: ' "$log") failed"
	grep -a '^FAIL: ' "$log"
done

# One integration test: its log, and "STATUS SECONDS" in LOG.rc.
run_one() {
	_name=$(basename "$1" .sh)
	_log="$out/$_name.log"
	_t0=$(date +%s)
	timeout 600 sh "$1" >"$_log" 2>"$_log.stderr"
	echo "$? $(($(date +%s) - _t0))" >"$_log.rc"
}

# The integration tests mostly wait (for daemons, timeouts, a minute of
# warnings): they run in M365_TEST_JOBS lanes (default 2; 1: one by one),
# each test on free ports of its own, and are reported in name order.  A
# lane takes the next test no lane has taken yet (mkdir is atomic), so the
# lanes finish together however long each test runs.
jobs=${M365_TEST_JOBS:-2}
lane=0
while [ "$lane" -lt "$jobs" ]; do
	(
		for t in tests/integration/test_*.sh; do
			[ -f "$t" ] || continue
			mkdir "$out/$(basename "$t" .sh).taken" 2>/dev/null &&
			    run_one "$t"
		done
	) &
	lane=$((lane + 1))
done
wait

for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	log="$out/$name.log"
	read -r rc secs <"$log.rc" || rc=1
	if [ "$rc" -ne 0 ] && ! grep -aq '^FAIL: ' "$log"; then
		echo "FAIL: $name: exited $rc (see $log.stderr)" >>"$log"
	fi
	count "$log"
	printf '%-40s %s\n' "$name" "$(grep -ac '^PASS: ' "$log") passed, $(grep -ac '^FAIL: ' "$log") failed (${secs:-?} s)"
	grep -a '^FAIL: ' "$log"
done

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
