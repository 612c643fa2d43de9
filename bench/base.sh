#!/bin/sh
# bench/base.sh REV - builds another revision to compare with, and prints
# the directory that holds its programs (for BENCH_BASE).
#
#     BENCH_BASE=$(sh bench/base.sh HEAD~3) make bench
#     make bench BENCH_BASE_REV=HEAD~3          # the same
#
# Exports REV with `git archive` into build/base-COMMIT/src (COMMIT: REV's
# short hash, so a moving name such as HEAD never reuses a stale build) and
# builds there, with REV's own Makefile, ext_m365_acl and libm365.a into
# build/base-COMMIT.  bench_classify is built from the current
# bench/bench_classify.c (public API only) against REV's headers and
# library, so both builds run the same benchmark; if REV's API does not
# fit it, from REV's own bench_classify.c (its output may then differ).
# Done once per commit: a finished build is reused.  Build output goes to
# stderr; exit 0 with the directory on stdout, 1 when the build fails, 2
# for an unknown revision.
cd "$(dirname "$0")/.." || exit 1
if [ $# -ne 1 ]; then
	echo "usage: sh bench/base.sh REV" >&2
	exit 2
fi
if ! rev=$(git rev-parse --verify --quiet "$1^{commit}"); then
	echo "bench/base.sh: no revision $1" >&2
	exit 2
fi
D=$PWD/build/base-$(git rev-parse --short "$rev")
if [ -f "$D/.built" ]; then
	echo "$D"
	exit 0
fi
rm -rf "$D"
mkdir -p "$D/src"
echo "bench/base.sh: building $1 ($rev) in $D" >&2
git archive "$rev" | tar -x -C "$D/src" || exit 1
if ! make -C "$D/src" --no-print-directory -j2 B="$D" "$D/ext_m365_acl" \
	"$D/libm365.a" >&2; then
	echo "bench/base.sh: building $1 failed" >&2
	exit 1
fi
cp "$D/src/bench/bench_classify.c" "$D/bench_classify.base.c" 2>/dev/null
cp bench/bench_classify.c "$D/src/bench/bench_classify.c"
if ! make -C "$D/src" --no-print-directory B="$D" "$D/bench_classify" >&2; then
	echo "bench/base.sh: the current bench_classify.c does not build" \
		"against $1; using $1's own" >&2
	cp "$D/bench_classify.base.c" "$D/src/bench/bench_classify.c"
	make -C "$D/src" --no-print-directory B="$D" "$D/bench_classify" >&2 ||
		echo "bench/base.sh: no bench_classify for $1" >&2
fi
touch "$D/.built"
echo "$D"
