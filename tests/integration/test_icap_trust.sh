#!/bin/sh
# tests/integration/test_icap_trust.sh - srv_m365_bypass's trust directives:
# m365_bypass.VerifyKey, m365_bypass.RedisAuthFile, m365_bypass.RedisMaxBytes,
# m365_bypass.LocalMaxBytes.
#
# A real redis-server on a free loopback port with ACL users (the default
# user off): m365-admin (everything, for the test's own writes),
# m365-writer (what m365ctl import needs, as in contrib/redis/users.acl) and
# m365-reader (%R~m365:* %W~m365:proxy:* &m365:* -@all +get +strlen
# +hstrlen +hmget +subscribe +ping +select, and for the farm view +set on
# m365:proxy:* and +client|setname).  A private c-icap (tests/icap_lib.sh, 2
# children, the sanitizer build of the module with the ASan runtime
# preloaded) starts on tests/fixtures/worldwide-2024-04-17.json
# (m365_bypass.ListFile) and follows Redis as m365-reader
# (m365_bypass.RedisAuthFile, mode 600), with m365_bypass.VerifyKey (an
# Ed25519 public key made with openssl) and m365_bypass.RedisMaxBytes 1048576.
# Destinations that tell the lists apart (checked with m365ctl lookup):
#   A teams.cloud.microsoft:443       2021 -, 2024 -, 2025 bypass (set 12)
#   B broadcast.skype.com:443         2021 bypass (set 13), 2024 -, 2025 -
#   X x.compliance.microsoft.com:443  2021 ?, 2024 bypass (set 64), 2025 -
# Proves:
#   a. a version published with m365ctl import --sign-key (as m365-writer,
#      through --redis-auth-file) reaches every child: A bypassed, X no longer;
#   b. refused by every child, answers unchanged, "m365 refused reloads" up
#      by one per child, "m365 list reloads" unchanged:
#        - an unsigned version forged in Redis (right sha256, current moved
#          and announced atomically),
#        - a version signed with another key,
#        - a version signed with the right key but larger than RedisMaxBytes
#          (the directive's value reaches the followers);
#   c. startup errors: RedisAuthFile of mode 644, VerifyKey that is not a
#      key, RedisMaxBytes "5abc" and "100", LocalMaxBytes "100", a
#      LocalList over LocalMaxBytes: c-icap exits 1 at startup,
#      nothing listens, the server log names the directive;
#   d. the Redis password is in no c-icap process's arguments (ps -o args)
#      nor in c-icap's logs.
# Every wait is bounded; the whole script takes about 10 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/icap_lib.sh
. "$ROOT/tests/icap_lib.sh"

MODULE=${M365_ICAP_MODULE:-$BUILD/san/srv_m365_bypass.so}
CTL=${M365_CTL:-$BUILD/m365ctl}
WW21=$FIXTURES/worldwide-2021-10-11.json
WW24=$FIXTURES/worldwide-2024-04-17.json
WW25=$FIXTURES/worldwide-2025-12-01.json
V1=2025120100     # WW25, signed with the right key
VFORGED=2025120102 # WW21, unsigned, written straight into Redis
VOTHER=2021101100  # WW21, signed with another key
VBIG=2024041799    # WW24 padded over RedisMaxBytes, signed with the right key
MAXB=1048576
T=""
C=""

abort() {
	not_ok "setup" "$1"
	[ -n "$C" ] && cicap_diagnostics "$C"
	finish
}

for prog in redis-server redis-cli c-icap c-icap-config python3 sha256sum openssl; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ -f "$MODULE" ] || abort "$MODULE is missing (make build/san/srv_m365_bypass.so)"
[ -x "$CTL" ] || abort "$CTL is missing (make build/m365ctl)"

T=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$T'"
C=$T/main
mkdir "$C" || abort "mkdir"

# --- reference answers -------------------------------------------------------------

# sig.py JSONFILE LABEL N: one word per distinct answer in icap_client --json
# output: LABEL+SET (a bypass: 204 with an empty X-Next-Services), LABEL-
# (plain 204: inspect), LABEL!STATUS (anything else), LABEL?K (only K of N
# responses); several joined by "|".
cat >"$T/sig.py" <<'EOF'
import json, sys
label, n = sys.argv[2], int(sys.argv[3])
seen = []
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for r in rs:
    h = dict((k.lower(), v) for k, v in r["headers"])
    if r["status"] != 204:
        w = "%s!%d" % (label, r["status"])
    elif "x-next-services" in h and h["x-next-services"].strip() == "":
        w = "%s+%s" % (label, h.get("x-m365-set", "?"))
    else:
        w = "%s-" % label
    if w not in seen:
        seen.append(w)
if len(rs) != n:
    seen.append("%s?%d" % (label, len(rs)))
print("|".join(seen))
EOF

HA=teams.cloud.microsoft
HB=broadcast.skype.com
HX=x.compliance.microsoft.com

# ref FILE: the signature m365ctl lookup gives for FILE.
ref() {
	for _q in "A $HA" "B $HB" "X $HX"; do
		# shellcheck disable=SC2086 # LABEL HOST
		set -- $_q
		_a=$("$CTL" lookup --list "$FILE_REF" "$2" 443 2>/dev/null | head -n 1)
		case $_a in
		OK*) printf '%s+%s ' "$1" "$(printf '%s\n' "$_a" | sed -n 's/.*m365_set=\([0-9]*\).*/\1/p')" ;;
		*) printf '%s- ' "$1" ;;
		esac
	done | sed 's/ $//'
}
FILE_REF=$WW21 S21=$(ref)
FILE_REF=$WW24 S24=$(ref)
FILE_REF=$WW25 S25=$(ref)
check_eq "fixtures: A, B, X tell 2024-04-17 / 2025-12-01 / 2021-10-11 apart (m365ctl lookup)" \
	"A- B- X+64 / A+12 B- X- / A- B+13" "$S24 / $S25 / $(echo "$S21" | cut -d' ' -f1,2)"

# ask PORT HOST LABEL N: N REQMODs for CONNECT HOST:443 over fresh
# connections (so both children answer), as sig.py.
ask() {
	icap_client --port "$1" --service m365_bypass --request-line "CONNECT $2:443 HTTP/1.1" \
		--repeat "$4" --new-connection --json >"$T/ask.json" 2>"$T/ask.err"
	python3 "$T/sig.py" "$T/ask.json" "$3" "$4"
}
# sigof PORT: the answers to A, B, X (10 requests each).
sigof() { echo "$(ask "$1" $HA A 10) $(ask "$1" $HB B 10) $(ask "$1" $HX X 10)"; }

# --- Redis with ACL users -----------------------------------------------------------

# shellcheck source=tests/redis_lib.sh
. "$ROOT/tests/redis_lib.sh"
redis_init "$T"
start_redis || abort "redis-server did not start on port $RPORT: $(tail -n 5 "$T/redis.log")"

rnd() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }
ADMINPW=adm-$(rnd)
WRITERPW=wr-$(rnd)
READERPW=rd-$(rnd)
rcli ACL SETUSER m365-admin on ">$ADMINPW" '~*' '&*' +@all >/dev/null
rcli ACL SETUSER m365-writer on ">$WRITERPW" resetkeys '~m365:*' resetchannels '&m365:*' -@all \
	+ping +select +role +get +strlen +hstrlen +hmget +lrange +set +eval +hset +del +type \
	+exists +lrem +lpush +ltrim +publish >/dev/null
rcli ACL SETUSER m365-reader on ">$READERPW" resetkeys '%R~m365:*' '%W~m365:proxy:*' \
	resetchannels '&m365:*' -@all +get +strlen +hstrlen +hmget +subscribe +ping +select \
	+set '+client|setname' >/dev/null
rcli ACL SETUSER default off >/dev/null
# acli ARGS...: redis-cli as m365-admin.
acli() { rcli --user m365-admin --pass "$ADMINPW" --no-auth-warning "$@"; }
check_eq "Redis: the admin user works" PONG "$(acli PING)"
check_match "Redis: the default user is off (no access without credentials)" 'NOAUTH|WRONGPASS|denied' \
	"$(rcli PING 2>&1)"
check_match "Redis: m365-reader cannot write" 'NOPERM' \
	"$(rcli --user m365-reader --pass "$READERPW" --no-auth-warning SET m365:current x 2>&1)"

printf 'm365-reader %s\n' "$READERPW" >"$T/reader.auth"
chmod 600 "$T/reader.auth"
printf 'm365-writer %s\n' "$WRITERPW" >"$T/writer.auth"
chmod 600 "$T/writer.auth"

# --- keys ---------------------------------------------------------------------------

if ! { openssl genpkey -algorithm ed25519 -out "$T/sign.pem" 2>/dev/null &&
	chmod 600 "$T/sign.pem" &&
	openssl pkey -in "$T/sign.pem" -pubout -out "$T/verify.pem" 2>/dev/null &&
	openssl genpkey -algorithm ed25519 -out "$T/other.pem" 2>/dev/null &&
	chmod 600 "$T/other.pem"; }; then
	abort "openssl could not make Ed25519 keys"
fi

# publish FILE VERSION KEY: m365ctl import as m365-writer, signed with KEY.
publish() {
	timeout 20 "$CTL" import "$1" --redis "$RURL" --redis-auth-file "$T/writer.auth" \
		--sign-key "$3" --version "$2" >"$T/import.out" 2>&1
	check_eq "m365ctl import $2 --sign-key $(basename "$3") as m365-writer: published" \
		"0 published $2" "$? $(cut -d' ' -f1,2 "$T/import.out" | head -n 1)"
}

# --- c-icap -------------------------------------------------------------------------

cicap_m365_conf "$C/m365.conf" "$MODULE" || abort "cicap_m365_conf failed"
cat >>"$C/m365.conf" <<EOF
m365_bypass.ListFile $WW24
m365_bypass.Redis $RURL/0
m365_bypass.RedisAuthFile $T/reader.auth
m365_bypass.VerifyKey $T/verify.pem
m365_bypass.RedisMaxBytes $MAXB
EOF
# shellcheck disable=SC2046 # the environment assignments, one a word
CICAP_CHILDREN=2 cicap_launch "$C" "$C/m365.conf" env $(cicap_asan_env "$C") 2>"$T/start.err" ||
	abort "c-icap did not start: $(head -n 3 "$T/start.err")"
P=$CICAP_PORT
LOG=$C/server.log
KIDS=$(cicap_children "$C" | sort -n | tr '\n' ' ' | sed 's/ $//')
check_eq "c-icap starts 2 children" 2 "$(echo "$KIDS" | wc -w)"

# each_child NAME REGEX SECONDS [OFFSET]: every child in KIDS writes a
# server log line "..., PID/THREAD, m365_bypass: REGEX" after byte OFFSET
# (default 0) within SECONDS.
each_child() {
	_off=${4:-0}
	_max=$(($3 * 10))
	_i=0
	while :; do
		_miss=""
		for _p in $KIDS; do
			tail -c +$((_off + 1)) "$LOG" 2>/dev/null |
				grep -Eq "^[^,]*, $_p/[0-9]+, m365_bypass: ($2)" || _miss="$_miss $_p"
		done
		[ -z "$_miss" ] && break
		[ $_i -ge $_max ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	if [ -z "$_miss" ]; then
		ok "$1"
	else
		not_ok "$1" "no /$2/ from child(ren)$_miss within $3 s"
		cicap_diagnostics "$C"
	fi
}
logsize() { wc -c <"$LOG" 2>/dev/null || echo 0; }

# stat_is NAME LABEL VALUE: c-icap's info shows "LABEL : VALUE" (polled up
# to 3 s: a child counts an event just after logging it).
stat_is() {
	_i=0
	while :; do
		_v=$(cicap_info "$P" | sed -n "s/^$2 : //p")
		[ "$_v" = "$3" ] && break
		[ $_i -ge 30 ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	check_eq "$1" "$3" "$_v"
}

each_child "every child logs in to Redis as m365-reader (RedisAuthFile) and follows it" \
	"INFO: following redis://127\\.0\\.0\\.1:$RPORT/0 " 10
each_child "every child finds Redis empty" "WARNING: Redis has no version yet" 10
check_eq "c-icap: no authentication error in the server log" "" \
	"$(grep -Ei 'NOAUTH|WRONGPASS|NOPERM|auth' "$LOG" | grep -v 'RedisAuthFile' | head -n 3)"
check_eq "before any publish: answers from the list file (2024-04-17)" "$S24" "$(sigof "$P")"

# --- a. a signed version is followed --------------------------------------------------

off=$(logsize)
publish "$WW25" "$V1" "$T/sign.pem"
check_match "a: the version carries an Ed25519 signature" '^[0-9a-f]{128}$' "$(acli HGET "m365:v:$V1" sig)"
each_child "a: every child switches to the signed version $V1" "INFO: switched to version $V1 \\(" 10 "$off"
check_eq "a: answers from the signed version (2025-12-01): A bypassed, X no longer" "$S25" "$(sigof "$P")"
stat_is "a: info 'm365 list reloads' = 2 (one per child)" "m365 list reloads" 2
stat_is "a: info 'm365 refused reloads' = 0" "m365 refused reloads" 0

# --- b. refused versions --------------------------------------------------------------

# An unsigned version forged with write access to Redis: the right checksum
# over the 2021 document (B would be bypassed), current moved and announced
# in one script (so a child's 10 s poll cannot see it before the message).
sum21=$(sha256sum "$WW21" | cut -d' ' -f1)
acli -x HSET "m365:v:$VFORGED" sha256 "$sum21" \
	version "$VFORGED" published_at "$(date +%s)" json <"$WW21" >/dev/null
off=$(logsize)
acli EVAL "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('PUBLISH', KEYS[2], ARGV[1])" \
	2 m365:current m365:updates "$VFORGED" >/dev/null
check_eq "b: the forged version is current in Redis" "$VFORGED" "$(acli GET m365:current)"
each_child "b: unsigned forgery: every child logs 'version $VFORGED rejected' (no signature)" \
	"ERROR: version $VFORGED rejected: .*signature" 10 "$off"
stat_is "b: unsigned forgery: info 'm365 refused reloads' = 2 (one per child)" "m365 refused reloads" 2
stat_is "b: unsigned forgery: info 'm365 list reloads' still 2" "m365 list reloads" 2
check_eq "b: unsigned forgery: answers unchanged (signed $V1), B not bypassed" "$S25" "$(sigof "$P")"
check_eq "b: no child switched to the forgery" "" "$(grep "switched to version $VFORGED" "$LOG")"

off=$(logsize)
publish "$WW21" "$VOTHER" "$T/other.pem"
each_child "b: another key's signature: every child logs 'version $VOTHER rejected'" \
	"ERROR: version $VOTHER rejected: .*signature" 10 "$off"
stat_is "b: another key: info 'm365 refused reloads' = 4" "m365 refused reloads" 4
check_eq "b: another key: answers unchanged (signed $V1)" "$S25" "$(sigof "$P")"

# Signed with the right key, but more than RedisMaxBytes: the 2024 list,
# whitespace-padded to 1.2 MB (the same endpoints as the list file).
python3 - "$WW24" "$T/ww24-big.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = json.dumps(d, indent=2)
s += "\n" * (1200000 - len(s))
open(sys.argv[2], "w").write(s)
PY
off=$(logsize)
publish "$T/ww24-big.json" "$VBIG" "$T/sign.pem"
each_child "b: signed but over RedisMaxBytes: every child logs 'version $VBIG rejected: ... larger than $MAXB'" \
	"ERROR: version $VBIG rejected: .*larger than $MAXB" 10 "$off"
stat_is "b: over RedisMaxBytes: info 'm365 refused reloads' = 6" "m365 refused reloads" 6
stat_is "b: after three refusals: info 'm365 list reloads' still 2" "m365 list reloads" 2
check_eq "b: over RedisMaxBytes: answers unchanged (signed $V1), X not bypassed" "$S25" "$(sigof "$P")"

# --- d. the password is nowhere on a command line or in the logs ------------------------

pids=$( (cicap_main_pid "$C"; cicap_children "$C") | sort -un | tr '\n' ' ')
args=$(ps -o args= -p "$(echo "$pids" | sed 's/ *$//; s/ /,/g')" 2>/dev/null)
check_eq "d: ps shows every c-icap process (main + 2 children)" 3 \
	"$(printf '%s\n' "$args" | grep -c "c-icap .*$C/c-icap.conf")"
if printf '%s\n' "$args" | grep -qF -- "$READERPW"; then
	not_ok "d: the Redis password is in no c-icap's ps -o args" "found in [$args]"
else
	ok "d: the Redis password is in no c-icap's ps -o args"
fi
leak=""
for p in $pids; do
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$READERPW" && leak="$leak $p"
done
check_eq "d: ... nor in /proc/PID/cmdline" "" "$leak"
check_eq "d: ... nor in c-icap's server log or output" "" \
	"$(grep -lF -- "$READERPW" "$LOG" "$C/cicap.out" "$C/access.log" 2>/dev/null)"

# --- health ---------------------------------------------------------------------------

check_eq "the same 2 children from start to end (none crashed or replaced)" \
	"$KIDS" "$(cicap_children "$C" | sort -n | tr '\n' ' ' | sed 's/ $//')"
cicap_stop "$C"
check_eq "c-icap stops cleanly on SIGTERM" 0 "$?"
check_eq "no sanitizer report" "" "$(cicap_asan_reports "$C")"

# --- c. startup errors ------------------------------------------------------------------

cp "$T/reader.auth" "$T/reader644.auth"
chmod 644 "$T/reader644.auth"
printf 'this is not a key\n' >"$T/notakey.pem"

# bad_value CASE DIRECTIVE-LINE NAMED: c-icap with m365_bypass.Redis and that
# line must exit 1 within 5 s without listening, with
# "m365_bypass: ERROR: NAMED: ..." in its server log.
n=0
bad_value() {
	n=$((n + 1))
	_d=$T/bad$n
	mkdir "$_d"
	cicap_m365_conf "$_d/m365.conf" "$MODULE" || return
	printf 'm365_bypass.Redis %s/0\n%s\n' "$RURL" "$2" >>"$_d/m365.conf"
	_t0=$(date +%s)
	# shellcheck disable=SC2046 # the environment assignments, one a word
	CICAP_START_TIMEOUT=5 CICAP_CHILDREN=1 cicap_launch "$_d" "$_d/m365.conf" \
		env $(cicap_asan_env "$_d") >/dev/null 2>&1
	_t1=$(date +%s)
	_rc=$(cat "$_d/cicap.status" 2>/dev/null)
	if [ -z "$_rc" ]; then
		not_ok "c: $1: c-icap refuses to start" "it started and serves"
		cicap_stop "$_d" >/dev/null 2>&1
		return
	fi
	check_eq "c: $1: c-icap exits with status 1 at startup" 1 "$_rc"
	if [ $((_t1 - _t0)) -le 5 ]; then
		ok "c: $1: c-icap exits within 5 s"
	else
		not_ok "c: $1: c-icap exits within 5 s" "it took $((_t1 - _t0)) s"
	fi
	if _cicap_accepts "$CICAP_PORT" || [ -n "$(cicap_pids "$_d")" ]; then
		not_ok "c: $1: nothing listens, no c-icap left" "port $CICAP_PORT: $(cicap_pids "$_d" | tr '\n' ' ')"
	else
		ok "c: $1: nothing listens, no c-icap left"
	fi
	check_match "c: $1: the server log says m365_bypass: ERROR: $3: ..." \
		"m365_bypass: ERROR: $(printf '%s' "$3" | sed 's/\./\\./g'): ." \
		"$(grep -a 'm365_bypass: ERROR: ' "$_d/server.log" 2>/dev/null)"
	check_eq "c: $1: no sanitizer report" "" "$(cicap_asan_reports "$_d")"
}
bad_value "RedisAuthFile of mode 644" "m365_bypass.RedisAuthFile $T/reader644.auth" \
	m365_bypass.RedisAuthFile
check_eq "c: the mode-644 auth file's password is not in the server log" "" \
	"$(grep -lF -- "$READERPW" "$T/bad1/server.log" "$T/bad1/cicap.out" 2>/dev/null)"
bad_value "VerifyKey that is not a key" "m365_bypass.VerifyKey $T/notakey.pem" m365_bypass.VerifyKey
bad_value "RedisMaxBytes 5abc" "m365_bypass.RedisMaxBytes 5abc" m365_bypass.RedisMaxBytes
bad_value "RedisMaxBytes 100" "m365_bypass.RedisMaxBytes 100" m365_bypass.RedisMaxBytes
bad_value "LocalMaxBytes 100" "m365_bypass.LocalMaxBytes 100" m365_bypass.LocalMaxBytes
python3 -c 'import sys
with open(sys.argv[1], "w") as f:
    for i in range(300):
        f.write("bypass host%d.example.org\n" % i)' "$T/big.list"
bad_value "LocalList larger than LocalMaxBytes" \
	"$(printf 'm365_bypass.LocalList %s\nm365_bypass.LocalMaxBytes 4096' "$T/big.list")" \
	m365_bypass.LocalList
check_match "c: LocalList larger than LocalMaxBytes: the log names the limit" \
	'larger than m365_bypass.LocalMaxBytes \(4096\)' \
	"$(grep -a 'm365_bypass: ERROR: ' "$T/bad$n/server.log" 2>/dev/null)"

finish
