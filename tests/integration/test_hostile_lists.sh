#!/bin/sh
# tests/integration/test_hostile_lists.sh - lists that would widen the bypass
# are refused, however they arrive.
#
# hostile_lists.py writes Microsoft's real list (worldwide 2025-12-01) with
# one hostile change each in an Optimize or Allow set: ranges wider than
# /12 (IPv4) or /29 (IPv6), more than 2^24 IPv4 addresses in all, name
# patterns that are public suffixes or shorter ("*.co.uk", "*.github.io",
# "*.s3.amazonaws.com", "*"), ports covering more than half the port space
# (lib/m365_breadth.h).  Each one is pushed through every way a list
# arrives, and must be refused with the last good list kept:
#   a. --list: the helper answers ERR (never OK, never BH) and says which
#      set on stderr; m365ctl lookup --list exits 2
#   b. m365ctl import (also --force) over a published good version: exit 1,
#      Redis and the state dir unchanged
#   c. m365ctl update --force, msstub.py serving it as a newer version:
#      exit 1, Redis and the state dir unchanged
#   d. written straight into Redis as a publisher would (right checksum):
#      a running helper (--redis --cache --poll 1) logs "version V
#      rejected", keeps answering from the good list, its cache untouched
# Controls must load: the limits themselves (/12, /29, 2^24 addresses,
# 32767 ports, a PSL exception), "*.cloudapp.net" in a Default set (refused
# only when Default is selected), and Microsoft's real 2021 list.
# Real redis-server, real binaries; the only stand-in is msstub.py.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

HELPER=${M365_HELPER:-$BUILD/san/ext_m365_acl}
CTL=${M365_CTL:-$BUILD/m365ctl}
GOOD=$FIXTURES/worldwide-2025-12-01.json
OLD=$FIXTURES/worldwide-2021-10-11.json
GOODV=2025120100
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Counts for the summary (lib.sh counts only failures).
_passed=0
ok() {
	echo "PASS: $1"
	_passed=$((_passed + 1))
}

helper_setup redis-server redis-cli python3 sha256sum cmp mkfifo
C=$T/cases
python3 "$ROOT/tests/integration/hostile_lists.py" "$C" "$GOOD" "$OLD" 2>"$T/gen.err" ||
	abort "hostile_lists.py failed: $(cat "$T/gen.err")"

# The manifest as lines of tab-separated fields, "-" for none:
# NAME FILE HOST PORT EXPECT SET INDEX CATEGORIES PATHS ANSWER
python3 - "$C/cases.json" >"$T/cases.tsv" <<'PY' || abort "cannot read cases.json"
import json, sys
for c in json.load(open(sys.argv[1])):
    f = [c["name"], c["file"], c["probe"][0], c["probe"][1], c["expect"],
         c["set"], c["index"], c["categories"], ",".join(c["paths"]),
         c["answer"]]
    print("\t".join("-" if v is None else str(v) for v in f))
PY
TAB=$(printf '\t')
NCASES=$(wc -l <"$T/cases.tsv" | tr -d ' ')
NREFUSED=$(grep -c "${TAB}refused${TAB}" "$T/cases.tsv")

# oneline TEXT: TEXT on one line, at most 300 bytes (for FAIL reasons).
oneline() { printf '%s' "$1" | tr '\n' ' ' | head -c 300; }

# expect NAME WANT GOT DETAIL: one check; DETAIL only in a FAIL line.
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2], got [$3]; $4"; fi
}

# sanitized FILE: true when FILE holds a sanitizer report.
sanitized() { grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$1"; }

# The probes must be ERR with the good list, or the checks prove nothing.
bad=""
while IFS=$TAB read -r name file host port expect sid idx cats paths answer <&5; do
	[ "$expect" = refused ] || continue
	a=$("$CTL" lookup --list "$GOOD" "$host" "$port" 2>&1 | head -n 1)
	case $a in ERR*) ;; *) bad="$bad $name:$host:$port=[$a]" ;; esac
done 5<"$T/cases.tsv"
check_eq "manifest: every probe of a refused case is ERR with the good list" "" "$bad"
check_eq "manifest: the real 2021 list and the control cases are there" \
	"yes yes yes" \
	"$(grep -q '^real_worldwide_2021_10_11_control' "$T/cases.tsv" && echo yes) $(grep -q '^default_cloudapp_control' "$T/cases.tsv" && echo yes) $(grep -q '^default_cloudapp_with_default' "$T/cases.tsv" && echo yes)"

# --- Redis and the stand-in of Microsoft's web service ---------------------------

# shellcheck source=tests/redis_lib.sh
. "$ROOT/tests/redis_lib.sh"
redis_init "$T"
start_redis || abort "redis-server did not start on port $RPORT: $(tail -n 5 "$T/redis.log")"

stub "$GOODV" "$GOOD"
msstub_start
nendpoints() { grep -c '^GET /endpoints/' "$T/requests.log"; }

# publish_good PREFIX DIR: the good list published as $GOODV under PREFIX,
# with state dir DIR; false when the import fails.
publish_good() {
	timeout 30 "$CTL" import "$GOOD" --redis "$RURL" --redis-prefix "$1" \
		--state-dir "$2" --version "$GOODV" >"$T/pg.out" 2>"$T/pg.err"
}

# unchanged NAME PREFIX DIR: Redis PREFIXcurrent is still $GOODV, the state
# dir's endpoints.json and version files are byte-identical to before.
unchanged() {
	_why=""
	_cur=$(rcli GET "${2}current")
	[ "$_cur" = "$GOODV" ] || _why="$_why ${2}current is [$_cur], not [$GOODV];"
	cmp -s "$3/endpoints.json" "$3.endpoints.before" ||
		_why="$_why $3/endpoints.json changed;"
	cmp -s "$3/version" "$3.version.before" || _why="$_why $3/version changed;"
	if [ -z "$_why" ]; then ok "$1"; else not_ok "$1" "$_why"; fi
}

# The plumbing with a good list: import, then update from the stub.
S=$T/plumb
publish_good plumb: "$S"
expect "plumbing: import of the good list exits 0" 0 $? "stderr [$(oneline "$(cat "$T/pg.err")")]"
if cmp -s "$GOOD" "$S/endpoints.json"; then ok "plumbing: the state dir holds the good list"; else not_ok "plumbing: the state dir holds the good list" "differs or missing"; fi
stub 2025120101 "$GOOD"
_o=$(timeout 30 "$CTL" update --base-url "$BASE" --redis "$RURL" --redis-prefix plumb: \
	--state-dir "$S" --timeout 10 2>"$T/pu.err")
expect "plumbing: update from the stub publishes a newer good list (exit, current)" \
	"0 2025120101" "$? $(rcli GET plumb:current)" "stdout [$_o], stderr [$(oneline "$(cat "$T/pu.err")")]"

# --- a, b, c: every case through --list, import and update -------------------------

# path_list NAME FILE HOST PORT EXPECT SET INDEX CATEGORIES ANSWER
path_list() {
	_catopt=""
	[ "$8" = - ] || _catopt="--categories $8"
	_tag=$1
	[ "$8" = - ] || _tag="$1 (--categories $8)"
	# shellcheck disable=SC2086 # _catopt is two words or none
	_ans=$(printf '1 %s %s\n' "$3" "$4" | timeout 20 "$HELPER" --list "$2" $_catopt 2>"$T/a.err")
	_rc=$?
	_err=$(cat "$T/a.err")
	# shellcheck disable=SC2086
	_lk=$(timeout 20 "$CTL" lookup --list "$2" $_catopt "$3" "$4" 2>"$T/l.err")
	_lrc=$?
	if sanitized "$T/a.err"; then
		not_ok "a: $_tag: helper --list" "sanitizer report: $(oneline "$(grep -E -m1 -A3 'Sanitizer|runtime error' "$T/a.err")")"
		return
	fi
	if [ "$5" = refused ]; then
		case $_ans in
		'1 ERR' | '1 ERR '*)
			if [ "$(printf '%s\n' "$_ans" | wc -l)" -eq 1 ]; then
				ok "a: $_tag: helper answers $3 $4 with ERR"
			else
				not_ok "a: $_tag: helper answers $3 $4 with ERR" "more than one line: $(oneline "$_ans")"
			fi
			;;
		*) not_ok "a: $_tag: helper answers $3 $4 with ERR" "got [$(oneline "$_ans")] (exit $_rc)" ;;
		esac
		# The reason names the set: "set ID" (m365_breadth.h), or its
		# JSON path "$[INDEX]" (the loader's own refusals).
		if [ "$6" = - ]; then
			_rx='set [0-9]+|\$\[[0-9]+\]'
		else
			_rx="set $6([^0-9]|\$)|\\\$\\[$7\\]"
		fi
		if printf '%s\n' "$_err" | grep -Eq -- "$_rx"; then
			ok "a: $_tag: helper logs why, naming the set"
		else
			not_ok "a: $_tag: helper logs why, naming the set" "stderr [$(oneline "$_err")] does not match /$_rx/"
		fi
		if [ "$_lrc" -eq 2 ] && ! printf '%s\n' "$_lk" | grep -q '^OK'; then
			ok "a: $_tag: m365ctl lookup --list exits 2"
		else
			not_ok "a: $_tag: m365ctl lookup --list exits 2" "exit $_lrc, stdout [$(printf '%s\n' "$_lk" | head -n 1)]"
		fi
	else
		_rx=$(printf '%s' "$9" | sed 's/^\^/^1 /')
		if printf '%s\n' "$_ans" | grep -Eq -- "$_rx" && [ "$(printf '%s\n' "$_ans" | wc -l)" -eq 1 ]; then
			ok "a: $_tag: accepted, helper answers $3 $4 as the list says"
		else
			not_ok "a: $_tag: accepted, helper answers $3 $4 as the list says" \
				"got [$(oneline "$_ans")], expected /$_rx/; stderr [$(oneline "$_err")]"
		fi
		_l1=$(printf '%s\n' "$_lk" | head -n 1)
		if { [ "$_lrc" -eq 0 ] || [ "$_lrc" -eq 1 ]; } && [ "1 $_l1" = "$_ans" ]; then
			ok "a: $_tag: accepted, m365ctl lookup --list agrees"
		else
			not_ok "a: $_tag: accepted, m365ctl lookup --list agrees" \
				"exit $_lrc, [$_l1] vs helper [$(oneline "$_ans")]; stderr [$(oneline "$(cat "$T/l.err")")]"
		fi
	fi
}

# path_publish N NAME FILE EXPECT PATHS: import (b) and update (c), each
# case under its own prefix and state dir over a published good version.
path_publish() {
	_p="p$1:"
	_s=$T/s$1
	if [ "$4" = accepted ]; then
		# A control: published on an empty prefix.
		_o=$(timeout 30 "$CTL" import "$3" --redis "$RURL" --redis-prefix "$_p" \
			--state-dir "$_s" --version "ctl$1" 2>"$T/b.err")
		_rc=$?
		if [ $_rc -eq 0 ] && [ "$(rcli GET "${_p}current")" = "ctl$1" ] &&
			cmp -s "$3" "$_s/endpoints.json"; then
			ok "b: $2: accepted, import publishes it"
		else
			not_ok "b: $2: accepted, import publishes it" "exit $_rc, stdout [$_o], stderr [$(oneline "$(cat "$T/b.err")")]"
		fi
		return
	fi
	if ! publish_good "$_p" "$_s"; then
		not_ok "b: $2: import of the good list first" "stderr [$(oneline "$(cat "$T/pg.err")")]"
		return
	fi
	cp "$_s/endpoints.json" "$_s.endpoints.before"
	cp "$_s/version" "$_s.version.before"
	for _f in "" --force; do
		# shellcheck disable=SC2086 # _f is one word or none
		_o=$(timeout 30 "$CTL" import "$3" --redis "$RURL" --redis-prefix "$_p" \
			--state-dir "$_s" $_f 2>"$T/b.err")
		_rc=$?
		expect "b: $2: import ${_f:+$_f }exits 1" 1 "$_rc" \
			"stdout [$_o], stderr [$(oneline "$(cat "$T/b.err")")]"
	done
	unchanged "b: $2: Redis current and state dir unchanged after import" "$_p" "$_s"
	case ,$5, in *,update,*) ;; *) return ;; esac
	# Served as a newer version: refused with and without --force.
	stub 2025120200 "$3"
	for _f in "" --force; do
		_n=$(nendpoints)
		# shellcheck disable=SC2086 # _f is one word or none
		_o=$(timeout 30 "$CTL" update --base-url "$BASE" --redis "$RURL" --redis-prefix "$_p" \
			--state-dir "$_s" --timeout 10 $_f 2>"$T/c.err")
		_rc=$?
		expect "c: $2: update ${_f:+$_f }downloads it and exits 1 (exit, downloads)" \
			"1 1" "$_rc $(($(nendpoints) - _n))" "stdout [$_o], stderr [$(oneline "$(cat "$T/c.err")")]"
	done
	unchanged "c: $2: Redis current and state dir unchanged after update" "$_p" "$_s"
}

: >"$T/failed_cases"
i=0
while IFS=$TAB read -r name file host port expect sid idx cats paths answer <&5; do
	i=$((i + 1))
	# shellcheck disable=SC2154 # _failed: lib.sh's failure count
	_f0=$_failed
	case ,$paths, in *,list,*) path_list "$name" "$C/$file" "$host" "$port" "$expect" "$sid" "$idx" "$cats" "$answer" ;; esac
	case ,$paths, in *,import,*) path_publish "$i" "$name" "$C/$file" "$expect" "$paths" ;; esac
	[ "$_failed" -eq "$_f0" ] || echo "$name" >>"$T/failed_cases"
done 5<"$T/cases.tsv"

# --- d. hostile versions written straight into Redis -----------------------------

D=$T/d
if ! { mkdir -p "$D" && mkfifo "$D/in"; }; then abort "mkfifo $D/in"; fi
exec 3<>"$D/in"
publish_good m365: "$T/sd" || abort "import of the good list: $(cat "$T/pg.err")"
"$HELPER" --redis "$RURL" --cache "$D/cache.json" --poll 1 <"$D/in" >"$D/out" 2>"$D/err" &
HPID=$!
on_exit "kill $HPID 2>/dev/null"

drv() { timeout 30 python3 "$ROOT/tests/integration/helper_driver.py" "$@"; }
ask() { drv ask "$D" "$1 $2" --timeout 3; }

# nlines REGEX: how many lines of the helper's stderr match (grep -E).
nlines() { grep -Ec -- "$1" "$D/err"; }

# wait_lines REGEX N SECONDS: until the helper's stderr has N matching lines.
wait_lines() {
	_i=0
	while [ "$(nlines "$1")" -lt "$2" ] && [ $_i -lt $(($3 * 20)) ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	[ "$(nlines "$1")" -ge "$2" ]
}

# direct VERSION FILE: VERSION (FILE, its right checksum) written into Redis
# and made current, as a publisher would.
direct() {
	rcli -x HSET "m365:v:$1" sha256 "$(sha256sum <"$2" | cut -d' ' -f1)" \
		version "$1" published_at 1 published_by x source x json <"$2" >/dev/null &&
		rcli SET m365:current "$1" >/dev/null &&
		rcli PUBLISH m365:updates "$1" >/dev/null
}

TEAMS_OK=$("$CTL" lookup --list "$GOOD" teams.microsoft.com 443 2>/dev/null | head -n 1)
check_match "d: teams.microsoft.com 443 is OK with the good list" '^OK ' "$TEAMS_OK"
if wait_lines "switched to version $GOODV " 1 5; then
	ok "d: the helper follows Redis (switched to $GOODV)"
else
	not_ok "d: the helper follows Redis (switched to $GOODV)" "stderr [$(oneline "$(tail -n 5 "$D/err")")]"
fi
# The same good list written directly: the plumbing a hostile version uses.
direct direct-good "$GOOD"
if wait_lines "switched to version direct-good " 1 3; then
	ok "d: a good version written directly into Redis is followed"
else
	not_ok "d: a good version written directly into Redis is followed" "stderr [$(oneline "$(tail -n 5 "$D/err")")]"
fi
check_eq "d: the helper answers teams.microsoft.com 443 from it" "$TEAMS_OK" "$(ask teams.microsoft.com 443)"
_i=0
while [ "$(cat "$D/cache.json.version" 2>/dev/null)" != direct-good ] && [ $_i -lt 40 ]; do
	sleep 0.05
	_i=$((_i + 1))
done
if cmp -s "$GOOD" "$D/cache.json" && [ "$(cat "$D/cache.json.version" 2>&1)" = direct-good ]; then
	ok "d: the cache holds the good version"
else
	not_ok "d: the cache holds the good version" "cache.json differs or version [$(cat "$D/cache.json.version" 2>&1)]"
fi
cp "$D/cache.json" "$T/cache.before" 2>/dev/null
cp "$D/cache.json.version" "$T/cache.version.before" 2>/dev/null

i=0
while IFS=$TAB read -r name file host port expect sid idx cats paths answer <&5; do
	i=$((i + 1))
	case ,$paths, in *,redis,*) ;; *) continue ;; esac
	_f0=$_failed
	V=hostile-$i
	_sw=$(nlines "switched to version direct-good ")
	if ! direct "$V" "$C/$file"; then
		not_ok "d: $name: written into Redis" "redis-cli failed"
		continue
	fi
	wait_lines "version $V rejected|switched to version $V " 1 3
	_l=$(grep -E -m1 -- "version $V rejected|switched to version $V " "$D/err")
	case $_l in
	*"version $V rejected"*) ok "d: $name: the helper rejects version $V" ;;
	'') not_ok "d: $name: the helper rejects version $V" "nothing logged within 3 s" ;;
	*) not_ok "d: $name: the helper rejects version $V" "it switched: [$_l]" ;;
	esac
	_a=$(ask "$host" "$port")
	_t=$(ask teams.microsoft.com 443)
	case $_a in
	ERR*) if [ "$_t" = "$TEAMS_OK" ]; then ok "d: $name: $host $port still ERR, teams.microsoft.com 443 still OK"; else not_ok "d: $name: $host $port still ERR, teams.microsoft.com 443 still OK" "teams.microsoft.com 443: [$_t]"; fi ;;
	*) not_ok "d: $name: $host $port still ERR, teams.microsoft.com 443 still OK" "$host $port: [$_a]" ;;
	esac
	if cmp -s "$T/cache.before" "$D/cache.json" && cmp -s "$T/cache.version.before" "$D/cache.json.version"; then
		ok "d: $name: cache and cache version file unchanged"
	else
		not_ok "d: $name: cache and cache version file unchanged" "now version [$(cat "$D/cache.json.version" 2>&1)]"
	fi
	case $_l in
	*"switched to version $V "*)
		# Taken: back to the good version, so that the next case starts clean.
		rcli SET m365:current direct-good >/dev/null
		rcli PUBLISH m365:updates direct-good >/dev/null
		wait_lines "switched to version direct-good " $((_sw + 1)) 3 ||
			not_ok "d: $name: back to the good version" "not switched back within 3 s"
		;;
	esac
	[ "$_failed" -eq "$_f0" ] || grep -qx "$name" "$T/failed_cases" || echo "$name" >>"$T/failed_cases"
done 5<"$T/cases.tsv"

if grep -q ' BH' "$D/out"; then not_ok "d: the helper never answers BH" "$(grep -m1 ' BH' "$D/out")"; else ok "d: the helper never answers BH"; fi
if sanitized "$D/err"; then
	not_ok "d: no sanitizer report" "$(oneline "$(grep -E -m1 -A3 'Sanitizer|runtime error' "$D/err")")"
else
	ok "d: no sanitizer report"
fi
if kill -0 "$HPID" 2>/dev/null; then ok "d: the helper is still running"; else not_ok "d: the helper is still running" "exited"; fi

echo "# hostile lists: $NCASES cases ($NREFUSED refused, $((NCASES - NREFUSED)) accepted controls)"
echo "# checks: $_passed passed, $_failed failed"
if [ -s "$T/failed_cases" ]; then
	echo "# cases with a failure: $(tr '\n' ' ' <"$T/failed_cases")"
fi
finish
