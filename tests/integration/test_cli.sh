#!/bin/sh
# test_cli.sh - m365ctl's commands behave alike: `help COMMAND` and
# `COMMAND --help` print the command's usage (exit 0), errors read
# "m365ctl COMMAND: ...", and every command answers with one exit-code
# table (m365ctl(8)): 0 done, 1 refused or ERR, 2 usage or input error,
# 3 locked, 4 network, Redis or file system error.  A run that fails
# before Microsoft answered writes nothing to its state directory, and
# status works with no option at all.
. "$(dirname "$0")/../lib.sh"

HELPER=${M365_HELPER:-$BUILD/san/ext_m365_acl}
CTL=${M365_CTL:-$BUILD/san/m365ctl}
WW25=$FIXTURES/worldwide-2025-12-01.json
COMMANDS="lookup export update import pin unpin rollback changes status metrics"

helper_setup redis-server redis-cli python3
. "$ROOT/tests/redis_lib.sh"
redis_init "$T"
start_redis || abort "redis-server did not start"
DOWN="redis://127.0.0.1:$(free_port)"

# --- help, --help and the error prefix -----------------------------------
run "$CTL" help
check_eq "help: exit 0, the list of commands" "0 usage: m365ctl COMMAND [OPTIONS] [ARGS]" \
	"$rc $(printf '%s\n' "$out" | head -1)"
check_match "help lists the exit status table" '^exit status, of every command: 0 done' "$out"
for c in $COMMANDS; do
	run "$CTL" "$c" --help
	h="$rc $(printf '%s\n' "$out" | head -1)"
	check_match "$c --help: exit 0, its usage" "^0 usage: m365ctl $c" "$h"
	run "$CTL" help "$c"
	check_eq "help $c: the same" "$h" "$rc $(printf '%s\n' "$out" | head -1)"
	run "$CTL" "$c" --no-such-option
	check_eq "$c --no-such-option: exit 2" 2 "$rc"
	check_match "... the error names m365ctl $c" \
		"^m365ctl $c: unrecognized option '--no-such-option'" "$err"
	check_match "$c --help documents its exit status" 'Exit status: ' \
		"$("$CTL" "$c" --help 2>&1)"
done
run "$CTL"
check_eq "no command: exit 2" 2 "$rc"
run "$CTL" frobnicate
check_eq "an unknown command: exit 2, named" '2 m365ctl: unknown command "frobnicate"' \
	"$rc $(printf '%s\n' "$err" | head -1)"
run "$CTL" help frobnicate
check_eq "help of an unknown command: exit 2" 2 "$rc"
run "$CTL" help help
check_eq "help help: exit 0" 0 "$rc"

# --- 0 and 1 --------------------------------------------------------------
run "$CTL" lookup --list "$WW25" teams.microsoft.com 443
check_eq "lookup of a bypassed host: 0" 0 "$rc"
run "$CTL" lookup --list "$WW25" www.example.com 443
check_eq "lookup of another host (ERR): 1" 1 "$rc"
S=$T/state
run "$CTL" import "$WW25" --version v1 --redis "$RURL" --state-dir "$S"
check_eq "import: 0" 0 "$rc"
python3 - "$WW25" "$T/broad.json" <<'EOF'
import json, sys
sets = json.load(open(sys.argv[1]))
sets[0]["urls"] = ["*.com"]
json.dump(sets, open(sys.argv[2], "w"))
EOF
run "$CTL" import "$T/broad.json" --version v2 --redis "$RURL"
check_eq "import of a list too broad: refused, 1" 1 "$rc"
run "$CTL" pin nope --redis "$RURL"
check_eq "pin of a version not kept: 1" 1 "$rc"
run "$CTL" changes nope --redis "$RURL"
check_eq "changes of a version without a report: 1" 1 "$rc"
run "$CTL" changes --redis "$RURL"
check_eq "changes of the current version: 0" 0 "$rc"

# --- 2: usage and input ---------------------------------------------------
run "$CTL" lookup --list /nonexistent teams.microsoft.com
check_eq "lookup --list of a missing file: 2" 2 "$rc"
run "$CTL" export text --list /nonexistent
check_eq "export --list of a missing file: 2" 2 "$rc"
run "$CTL" import /nonexistent --state-dir "$T/s-import"
check_eq "import of a missing file: 2" 2 "$rc"
check_eq "... and nothing written" "no" "$([ -e "$T/s-import" ] && echo yes || echo no)"
run "$CTL" update --instance Mars --state-dir "$T/s-mars"
check_eq "update --instance Mars: 2" 2 "$rc"
check_eq "... and nothing written" "no" "$([ -e "$T/s-mars" ] && echo yes || echo no)"
run "$CTL" update --timeout 0
check_eq "update --timeout 0: 2" 2 "$rc"
run "$CTL" changes a b
check_eq "changes with two versions: 2" 2 "$rc"
run "$CTL" rollback extra --redis "$RURL"
check_eq "rollback with an argument: 2" 2 "$rc"

# --- 3: locked ------------------------------------------------------------
rcli SET m365:lock someone-else:1 PX 60000 >/dev/null
run "$CTL" update --redis "$RURL" --state-dir "$S" --base-url "http://127.0.0.1:$(free_port)"
check_eq "update while another holds the lock: 3" 3 "$rc"
run "$CTL" unpin --redis "$RURL"
check_eq "unpin while another holds the lock: 3" 3 "$rc"
rcli DEL m365:lock >/dev/null

# --- 4: network, Redis, file system ---------------------------------------
for c in "lookup teams.microsoft.com" "export text" "import $WW25" "pin v1" \
	"unpin" "rollback" "changes"; do
	# shellcheck disable=SC2086
	run "$CTL" $c --redis "$DOWN"
	check_eq "${c%% *} with Redis down: 4" 4 "$rc"
done
run "$CTL" update --state-dir "$T/s-net" --base-url "http://127.0.0.1:$(free_port)" --timeout 2
check_eq "update with Microsoft unreachable: 4" 4 "$rc"
check_match "... the error names m365ctl update" '^m365ctl update: http://127\.0\.0\.1:' "$err"
check_eq "... and it wrote nothing (no state directory, no client id)" "no" \
	"$([ -e "$T/s-net" ] && echo yes || echo no)"

# --- status ----------------------------------------------------------------
run "$CTL" status
case $rc in 0 | 1) ok "status with no option is no usage error (exit $rc)" ;;
*) not_ok "status with no option is no usage error" "exit $rc: $err" ;; esac
check_match "... it reads the default state directory" '/var/lib/m365-bypass' "$out"
run "$CTL" status --redis "$DOWN" --state-dir "$S"
check_eq "status with Redis down: needs attention, 1" 1 "$rc"
finish
