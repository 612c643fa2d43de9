#!/bin/sh
# test_style.sh - every C file follows the checked-in .clang-format, and
# every exported function of lib/ is declared in a header with a comment.
. "$(dirname "$0")/../lib.sh"

cd "$ROOT" || exit 1
for f in lib/*.[ch] helpers/*.[ch] ctl/*.[ch] icap/*.[ch] bench/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c; do
	if out=$(clang-format --dry-run --Werror "$f" 2>&1); then
		ok "clang-format: $f"
	else
		not_ok "clang-format: $f" "$(printf '%s' "$out" | head -3)"
	fi
done
# A public function (m365_*) defined in lib/*.c must be declared in a
# lib/*.h with a comment block right above its declaration.
for fn in $(grep -ho '^m365_[a-z0-9_]*(' lib/*.c | tr -d '(' | sort -u); do
	if awk -v fn="$fn" '
		/\*\/[ \t]*$/ { c = NR }
		$0 ~ "[ *]" fn "\\(" && c >= NR - 3 { found = 1 }
		END { exit !found }' lib/*.h; then
		ok "contract comment: $fn"
	else
		not_ok "contract comment: $fn" "no commented declaration in lib/*.h"
	fi
done
finish
