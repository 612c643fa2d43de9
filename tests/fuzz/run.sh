#!/bin/sh
# tests/fuzz/run.sh - what `make fuzz` runs: each libFuzzer target for
# FUZZ_SECONDS (default 60), seeded with the real fixtures and examples.
# A crash, a leak, a sanitizer report or a broken invariant stops the run
# with the reproducer in build/fuzz/.
cd "$(dirname "$0")/../.." || exit 2
S=${FUZZ_SECONDS:-60}
B=build/fuzz
rc=0
T=${FUZZ_TARGETS:-endpoints local classify proto icap_dest}
for t in $T; do mkdir -p "$B/corpus/$t"; done
cp tests/fixtures/*.json "$B/corpus/endpoints/"
cp lists/local.list.example "$B/corpus/local/"
printf 'bypass *.zoom.us\nbypass 203.0.113.0/24\nbypass re:^meet[0-9]+\\.example\\.net$\nnever teams.microsoft.com\n' >"$B/corpus/local/contract"
printf 'teams.microsoft.com\000443\000teams.microsoft.com' >"$B/corpus/classify/a"
printf '[2603:1063::1]\000-' >"$B/corpus/classify/b"
printf '1 teams%%2emicrosoft.com 443 "x.y" -' >"$B/corpus/proto/a"
printf 'GET http://teams.microsoft.com/x HTTP/1.1\nHost: example.com' >"$B/corpus/icap_dest/a"
printf 'CONNECT [2603:1063::1]:443 HTTP/1.1\nHost: x' >"$B/corpus/icap_dest/b"
printf 'GET / HTTP/1.1\nUser-Agent: x\nHost: outlook.office365.com:8443' >"$B/corpus/icap_dest/c"
for t in $T; do
	echo "== fuzz_$t for $S s =="
	if ! "$B/fuzz_$t" -max_total_time="$S" -max_len=65536 \
		-artifact_prefix="$B/crash-$t-" "$B/corpus/$t" \
		>"$B/fuzz_$t.log" 2>&1; then
		echo "FAIL: fuzz_$t: see $B/fuzz_$t.log"
		tail -30 "$B/fuzz_$t.log"
		rc=1
	else
		grep -E '^#[0-9]+.*DONE|Done [0-9]+ runs' "$B/fuzz_$t.log" | tail -1
	fi
done
exit $rc
