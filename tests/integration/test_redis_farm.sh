#!/bin/sh
# tests/integration/test_redis_farm.sh - the hardened Redis farm of
# docs/redis-farm.md, with the files of contrib/redis/ as shipped (only
# addresses, ports, paths and password hashes substituted).
#
# A primary (contrib/redis/primary.conf, users.acl: default off, ACL users,
# TLS port with client certificates) and a replica (replica.conf,
# replica-users.acl) replicating from it over TLS as m365-replication, all
# on free loopback ports in a temporary directory.  An Ed25519 key pair
# signs what m365ctl publishes; helpers (sanitizer build) read the replica
# as m365-reader with --redis-auth-file and --verify-key.  Covers:
#   a. the replica's link to the primary is up, over TLS, as m365-replication
#   b. m365ctl import as m365-writer with --sign-key; the signature checked
#      with openssl; the writer's limits
#   c. helpers (TCP and unix socket) switching between two signed versions
#   d. m365-reader cannot write (replica and primary); no password in argv
#   e. versions forged on the primary by an admin (no signature, a foreign
#      key's signature, a genuine signature replayed under another name)
#      refused, the old answers kept
#   g. m365ctl lookup --verify-key through the replica as m365-reader
#   h. contrib/redis/sentinel.conf: Sentinel finds the primary, m365ctl
#      import --redis-sentinel publishes through it
#   i. the primary restarted: what it had published is still there
#   f. the primary killed (-9): helpers keep answering, no crash
# Every wait has a timeout; the whole script takes about 20 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

HELPER=${M365_HELPER:-$BUILD/san/ext_m365_acl}
CTL=${M365_CTL:-$BUILD/m365ctl}
CONTRIB=$ROOT/contrib/redis
WW24=$FIXTURES/worldwide-2024-04-17.json
WW25=$FIXTURES/worldwide-2025-12-01.json
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

abort() {
	not_ok "setup" "$1"
	finish
}

for prog in redis-server redis-cli openssl python3 sha256sum od; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
if [ ! -x "$HELPER" ] || [ ! -x "$CTL" ]; then
	make -s -C "$ROOT" build/m365ctl build/san/ext_m365_acl >/dev/null 2>&1
fi
[ -x "$HELPER" ] || abort "$HELPER is missing"
[ -x "$CTL" ] || abort "$CTL is missing"

T=$(mktemp -d) || abort "mktemp failed"
# M365_KEEP_TMP=1 keeps the directory (logs, configurations) for a look.
if [ -n "${M365_KEEP_TMP:-}" ]; then echo "# keeping $T" >&2; else on_exit "rm -rf '$T'"; fi
chmod 700 "$T"
HELPERS=""


# --- secrets: passwords, auth files, signing keys, certificates ---------------
# The same commands as docs/redis-farm.md.

pw() { openssl rand -hex 16; }
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
P_ADMIN=$(pw)
P_WRITER=$(pw)
P_READER=$(pw)
P_REPL=$(pw)
P_SENT=$(pw)
[ ${#P_READER} -eq 32 ] || abort "openssl rand failed"

# acl SRC DST: an ACL file of contrib/redis with the hashes filled in.
acl() {
	sed -e "s/#ADMIN_PASSWORD_SHA256/#$(sha "$P_ADMIN")/" \
		-e "s/#WRITER_PASSWORD_SHA256/#$(sha "$P_WRITER")/" \
		-e "s/#READER_PASSWORD_SHA256/#$(sha "$P_READER")/" \
		-e "s/#REPLICATION_PASSWORD_SHA256/#$(sha "$P_REPL")/" \
		-e "s/#SENTINEL_PASSWORD_SHA256/#$(sha "$P_SENT")/" \
		"$CONTRIB/$1" >"$2"
	! grep -q '_PASSWORD_SHA256' "$2" || abort "$2: a placeholder is left"
}
acl users.acl "$T/primary.acl"
acl replica-users.acl "$T/replica.acl"

umask 077
printf 'm365-writer %s\n' "$P_WRITER" >"$T/writer.auth"
printf '# the helpers and c-icap on this proxy\nm365-reader %s\n' "$P_READER" >"$T/reader.auth"
openssl genpkey -algorithm ed25519 -out "$T/sign.key" 2>"$T/openssl.err" &&
	openssl pkey -in "$T/sign.key" -pubout -out "$T/sign.pub" 2>>"$T/openssl.err" &&
	openssl genpkey -algorithm ed25519 -out "$T/other.key" 2>>"$T/openssl.err" ||
	abort "openssl genpkey: $(cat "$T/openssl.err")"
umask 022

# The farm's CA; a server certificate for the primary, a client one for the
# replica (and for redis-cli).
mkdir -p "$T/tls"
TLS=$T/tls
cert() { # NAME CN
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TLS/$1.key" -out "$TLS/$1.csr" -subj "/CN=$2" 2>>"$T/openssl.err" &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$TLS/$1.ext" &&
		openssl x509 -req -in "$TLS/$1.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" \
			-CAcreateserial -days 2 -extfile "$TLS/$1.ext" -out "$TLS/$1.crt" 2>>"$T/openssl.err"
}
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$TLS/ca.key" -out "$TLS/ca.crt" -days 2 -subj "/CN=m365-bypass Redis CA" \
	2>>"$T/openssl.err" || abort "CA: $(cat "$T/openssl.err")"
cert primary m365-redis-primary || abort "primary cert: $(cat "$T/openssl.err")"
cert replica m365-redis-proxy1 || abort "replica cert: $(cat "$T/openssl.err")"

# --- the primary and the replica, from contrib/redis ---------------------------

PPORT=$(free_port)   # the primary's plain port (m365ctl; loopback only here)
PTLS=$(free_port)    # the primary's TLS port (replication)
RPORT=$(free_port)   # the replica's port (helpers)
SPORT=$(free_port)   # Sentinel
while [ "$PTLS" = "$PPORT" ]; do PTLS=$(free_port); done
while [ "$RPORT" = "$PPORT" ] || [ "$RPORT" = "$PTLS" ]; do RPORT=$(free_port); done
while [ "$SPORT" = "$PPORT" ] || [ "$SPORT" = "$PTLS" ] || [ "$SPORT" = "$RPORT" ]; do SPORT=$(free_port); done
mkdir -p "$T/pdata" "$T/rdata" "$T/sdata"
PSOCK=$T/primary.sock
RSOCK=$T/replica.sock

# The shipped primary.conf has no plain port and binds the network address
# too; here everything binds 127.0.0.1, where a plain port is loopback-only.
sed -e "s|^bind 10.0.0.5 127.0.0.1\$|bind 127.0.0.1|" \
	-e "s|^port 0\$|port $PPORT|" \
	-e "s|^tls-port 6380\$|tls-port $PTLS|" \
	-e "s|/run/redis-m365/redis-server.sock|$PSOCK|" \
	-e "s|/etc/redis/m365/tls/|$TLS/|" \
	-e "s|/etc/redis/m365/users.acl|$T/primary.acl|" \
	-e "s|^dir /var/lib/redis\$|dir $T/pdata|" \
	-e "s|^logfile .*|logfile $T/primary.log|" \
	"$CONTRIB/primary.conf" >"$T/primary.conf"
sed -e "s|^port 6379\$|port $RPORT|" \
	-e "s|^replicaof 10.0.0.5 6380\$|replicaof 127.0.0.1 $PTLS|" \
	-e "s|^masterauth REPLICATION_PASSWORD\$|masterauth $P_REPL|" \
	-e "s|/run/redis-m365/redis-server.sock|$RSOCK|" \
	-e "s|/etc/redis/m365/tls/|$TLS/|" \
	-e "s|/etc/redis/m365/users.acl|$T/replica.acl|" \
	-e "s|^dir /var/lib/redis\$|dir $T/rdata|" \
	-e "s|^logfile .*|logfile $T/replica.log|" \
	"$CONTRIB/replica.conf" >"$T/replica.conf"
chmod 600 "$T/replica.conf"
for f in primary replica; do
	_left=$(grep -v '^#' "$T/$f.conf" | grep -E '10\.0\.0\.|/etc/redis|/var/|/run/|_PASSWORD')
	[ -z "$_left" ] || abort "$f.conf: not every site value was substituted: $_left"
done

PPID_=""
RPID_=""
SPID_=""
# shellcheck disable=SC2016 # expanded at exit, with the pids of then
on_exit 'for _p in $SPID_ $RPID_ $PPID_; do kill -9 $_p 2>/dev/null; done'

# start_primary: false when it does not listen within 10 s.
start_primary() {
	redis-server "$T/primary.conf" >"$T/primary.out" 2>&1 &
	PPID_=$!
	wait_port "$PPORT" 10 && wait_port "$PTLS" 5
}
start_primary ||
	abort "the primary did not start: $(tail -n 5 "$T/primary.log" "$T/primary.out" 2>/dev/null)"
ok "contrib/redis/primary.conf and users.acl: redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') starts with them"
redis-server "$T/replica.conf" >"$T/replica.out" 2>&1 &
# shellcheck disable=SC2034 # killed by the on_exit above
RPID_=$!
wait_port "$RPORT" 10 ||
	abort "the replica did not start: $(tail -n 5 "$T/replica.log" "$T/replica.out" 2>/dev/null)"
ok "contrib/redis/replica.conf and replica-users.acl: redis-server starts with them"

# cli_as USER PASSWORD PORT ARGS...: redis-cli as an ACL user on a plain port.
cli_as() {
	_u=$1
	_p=$2
	_port=$3
	shift 3
	timeout 10 redis-cli --no-auth-warning --user "$_u" --pass "$_p" -p "$_port" "$@"
}
padmin() { cli_as m365-admin "$P_ADMIN" "$PPORT" "$@"; }
radmin() { timeout 10 redis-cli --no-auth-warning --user m365-admin --pass "$P_ADMIN" -s "$RSOCK" "$@"; }
# acl_log WHERE: the ACL denials logged since the last reset (WHERE: padmin,
# radmin), one line each: "reason context object username".
acl_log() {
	$1 ACL LOG 2>/dev/null | tr -d '\r' | awk '
		prev == "reason" { r = $0 } prev == "context" { c = $0 }
		prev == "object" { o = $0 } prev == "username" { print r, c, o, $0 }
		{ prev = $0 }'
}
# tlscli ARGS...: redis-cli over TLS to the primary, with the replica's cert.
tlscli() {
	timeout 10 redis-cli --tls --cacert "$TLS/ca.crt" --cert "$TLS/replica.crt" \
		--key "$TLS/replica.key" -h 127.0.0.1 -p "$PTLS" "$@"
}
# info_field WHERE FIELD: one field of INFO replication (WHERE: padmin, radmin).
info_field() { $1 INFO replication 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

# --- a. replication over TLS ------------------------------------------------------

_i=0
while [ "$(info_field radmin master_link_status)" != up ] && [ $_i -lt 150 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
_st=$(info_field radmin master_link_status)
if [ "$_st" = up ]; then
	ok "a: the replica's link to the primary is up (master_link_status:up)"
else
	not_ok "a: the replica's link to the primary is up (master_link_status:up)" \
		"[$_st]; replica.log: $(grep -E ' # |rror' "$T/replica.log" | tail -n 3 | tr '\n' ' ')"
fi
check_eq "a: the replica follows the primary's TLS port" \
	"127.0.0.1 $PTLS" "$(info_field radmin master_host) $(info_field radmin master_port)"
check_eq "a: the primary has one replica" 1 "$(info_field padmin connected_slaves)"
check_match "a: the replica is logged in to the primary as m365-replication" \
	'flags=S .*user=m365-replication' "$(padmin CLIENT LIST 2>&1)"
check_eq "a: the TLS port speaks TLS with the farm's certificates" PONG \
	"$(tlscli --no-auth-warning --user m365-admin --pass "$P_ADMIN" PING 2>&1)"
_o=$(timeout 10 redis-cli --no-auth-warning --user m365-admin --pass "$P_ADMIN" -p "$PTLS" PING 2>&1)
if [ "$_o" = PONG ]; then not_ok "a: the TLS port refuses plain Redis" "PONG"; else ok "a: the TLS port refuses plain Redis"; fi
_o=$(timeout 10 redis-cli --tls --cacert "$TLS/ca.crt" --no-auth-warning --user m365-admin \
	--pass "$P_ADMIN" -p "$PTLS" PING 2>&1)
if [ "$_o" = PONG ]; then
	not_ok "a: tls-auth-clients: no client certificate, no connection" "PONG"
else
	ok "a: tls-auth-clients: no client certificate, no connection"
fi
check_match "a: default user off (no AUTH: refused)" 'NOAUTH|NOPERM' \
	"$(timeout 10 redis-cli -p "$PPORT" GET m365:current 2>&1)"
check_match "a: default user off on the replica" 'NOAUTH|NOPERM' \
	"$(timeout 10 redis-cli -p "$RPORT" GET m365:current 2>&1)"
check_eq "a: no ACL denial on the primary (m365-replication's commands suffice)" "" "$(acl_log padmin)"
check_match "a: the replication user can do nothing else" 'NOPERM' \
	"$(cli_as m365-replication "$P_REPL" "$PPORT" GET m365:current 2>&1)"
padmin ACL LOG RESET >/dev/null 2>&1
radmin ACL LOG RESET >/dev/null 2>&1

# --- b. m365ctl import as m365-writer, signed ------------------------------------------

# wait_replica KEY VALUE: the replica has KEY = VALUE within 5 s.
wait_replica() {
	_i=0
	while [ "$(radmin GET "$1" 2>/dev/null)" != "$2" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(radmin GET "$1" 2>/dev/null)" = "$2" ]
}

# import FILE VERSION [ARGS...]: m365ctl import as m365-writer, signed.
import() {
	_f=$1
	_v=$2
	shift 2
	timeout 30 "$CTL" import "$_f" --redis "redis://127.0.0.1:$PPORT" \
		--redis-auth-file "$T/writer.auth" --sign-key "$T/sign.key" --version "$_v" "$@"
}

chmod 600 "$T/writer.auth" "$T/reader.auth" "$T/sign.key"
_o=$(import "$WW24" 2024041700 2>"$T/b.err")
check_eq "b: m365ctl import --redis-auth-file --sign-key exits 0 (stdout [$_o], stderr [$(head -c 300 "$T/b.err")])" 0 $?
check_eq "b: current on the primary" 2024041700 "$(padmin GET m365:current 2>&1)"
if wait_replica m365:current 2024041700; then ok "b: current reaches the replica"; else not_ok "b: current reaches the replica" "$(radmin GET m365:current 2>&1)"; fi
SIG24=$(padmin HGET m365:v:2024041700 sig 2>&1)
check_match "b: the version hash carries a signature (sig, 128 hex digits)" '^[0-9a-f]{128}$' "$SIG24"
SHA24=$(sha256sum "$WW24" | cut -d' ' -f1)
check_eq "b: sha256 of the document" "$SHA24" "$(padmin HGET m365:v:2024041700 sha256 2>&1)"
check_eq "b: no ACL denial on the primary (m365-writer's commands suffice)" "" "$(acl_log padmin)"

# hex2bin: hex on stdin to bytes on stdout.
hex2bin() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))'; }
# signed_msg VERSION SHA256 PUBLISHED_AT: what m365_sign.h says is signed.
signed_msg() { printf 'm365-bypass signed version 2\n%s\n%s\n%s\n' "$1" "$2" "$3"; }
signed_msg 2024041700 "$SHA24" "$(padmin HGET m365:v:2024041700 published_at)" >"$T/msg24"
printf '%s' "$SIG24" | hex2bin >"$T/sig24.bin"
if openssl pkeyutl -verify -pubin -inkey "$T/sign.pub" -rawin -in "$T/msg24" \
	-sigfile "$T/sig24.bin" >"$T/verify.out" 2>&1; then
	ok "b: openssl verifies the signature over the documented message"
else
	not_ok "b: openssl verifies the signature over the documented message" "$(cat "$T/verify.out")"
fi
check_match "b: the writer cannot touch keys outside m365:" 'NOPERM' \
	"$(cli_as m365-writer "$P_WRITER" "$PPORT" SET other:x 1 2>&1)"
check_match "b: the writer cannot run admin commands" 'NOPERM' \
	"$(cli_as m365-writer "$P_WRITER" "$PPORT" CONFIG GET dir 2>&1)"
check_match "b: the writer cannot flush" 'NOPERM' \
	"$(cli_as m365-writer "$P_WRITER" "$PPORT" FLUSHALL 2>&1)"
chmod 644 "$T/writer.auth"
_o=$(import "$WW24" 2024041701 2>&1)
check_eq "b: an auth file group or others can read is refused (exit 2) [$_o]" 2 $?
chmod 600 "$T/writer.auth"
chmod 644 "$T/sign.key"
_o=$(import "$WW24" 2024041701 2>&1)
check_eq "b: a signing key group or others can read is refused (exit 2) [$_o]" 2 $?
chmod 600 "$T/sign.key"
check_eq "b: nothing published by the refused runs" 2024041700 "$(padmin GET m365:current 2>&1)"
padmin ACL LOG RESET >/dev/null 2>&1

# --- helpers ------------------------------------------------------------------------

# start_helper NAME FD ARGS...: a helper reading the FIFO $T/NAME/in, which
# the script keeps open on descriptor FD.
start_helper() {
	_n=$1
	_fd=$2
	shift 2
	fifo_start "$_n" "$_fd" "$HELPER" "$@"
}

diag() {
	for _h in "$@"; do
		echo "--- tail of $_h stderr:" >&2
		tail -n 15 "$T/$_h/err" >&2
	done
}
fail() {
	_fn=$1
	_fr=$2
	shift 2
	not_ok "$_fn" "$_fr"
	diag "$@"
}
ask() { drv ask "$T/$1" "$2" --timeout 3; }
asks() {
	_got=$(ask "$2" "$3")
	if [ "$_got" = "$4" ]; then ok "$1"; else fail "$1" "$3: expected [$4], got [$_got]" "$2"; fi
}
waitlog() {
	if drv wait-log "$T/$2/err" "$3" --timeout "$4" >/dev/null; then
		ok "$1"
	else
		fail "$1" "no /$3/ on stderr within $4 s" "$2"
	fi
}

# A name only in the newer list, and one only in the older.
QNEW="purview.microsoft.com 443"
QOLD="x.compliance.microsoft.com 443"
QMS="teams.microsoft.com 443"
# shellcheck disable=SC2086 # QUERY is HOST PORT
lookup() { "$CTL" lookup --list "$1" $2 2>/dev/null | head -n 1; }
A_NEW24=$(lookup "$WW24" "$QNEW")
A_NEW25=$(lookup "$WW25" "$QNEW")
A_OLD24=$(lookup "$WW24" "$QOLD")
A_OLD25=$(lookup "$WW25" "$QOLD")
A_MS=$(lookup "$WW25" "$QMS")
check_match "fixtures: $QNEW is ERR in 2024-04-17, OK in 2025-12-01" '^ERR.* / OK ' "$A_NEW24 / $A_NEW25"
check_match "fixtures: $QOLD is OK in 2024-04-17, ERR in 2025-12-01" '^OK .* / ERR' "$A_OLD24 / $A_OLD25"

REPLICA_TCP="redis://127.0.0.1:$RPORT"
REPLICA_UNIX="unix://$RSOCK"
start_helper h1 3 --redis "$REPLICA_TCP" --redis-auth-file "$T/reader.auth" \
	--verify-key "$T/sign.pub" --poll 1
start_helper h2 4 --redis "$REPLICA_UNIX" --redis-auth-file "$T/reader.auth" \
	--verify-key "$T/sign.pub" --poll 1

# --- c. signed versions reach the helpers through the replica -----------------------

waitlog "c: h1 (TCP) takes the signed 2024041700 from the replica" h1 'switched to version 2024041700' 5
waitlog "c: h2 (unix socket) takes the signed 2024041700" h2 'switched to version 2024041700' 5
asks "c: h1 answers $QNEW from 2024041700" h1 "$QNEW" "$A_NEW24"
asks "c: h2 answers $QNEW from 2024041700" h2 "$QNEW" "$A_NEW24"
out=$(drv watch --query "$QNEW" --from "$A_NEW24" --timeout 5 \
	--cmd-out "$T/c.out" --cmd-err "$T/c.err" "$T/h1" "$T/h2" -- \
	"$CTL" import "$WW25" --redis "redis://127.0.0.1:$PPORT" \
	--redis-auth-file "$T/writer.auth" --sign-key "$T/sign.key" --version 2025120100)
check_eq "c: second signed import exits 0 (stderr: $(head -c 300 "$T/c.err"))" 0 \
	"$(printf '%s\n' "$out" | sed -n 's/^rc //p')"
for h in h1 h2; do
	_l=$(printf '%s\n' "$out" | grep "^$h ")
	check_eq "c: $h: $QNEW goes from ERR to OK on the publish (${_l#"$h" })" "$A_NEW25" "$(printf '%s' "$_l" | cut -d' ' -f3-)"
done
waitlog "c: h1 logs the switch to 2025120100" h1 'switched to version 2025120100' 2
asks "c: h1 answers $QOLD from 2025120100" h1 "$QOLD" "$A_OLD25"
check_eq "c: no ACL denial on the primary (m365-writer)" "" "$(acl_log padmin)"
check_eq "c: no ACL denial on the replica (m365-reader's commands suffice)" "" "$(acl_log radmin)"

# --- d. the reader cannot write; no password in argv -----------------------------------

check_match "d: m365-reader SET on the replica: NOPERM" '^NOPERM' \
	"$(cli_as m365-reader "$P_READER" "$RPORT" SET m365:current x 2>&1)"
check_match "d: m365-reader SET on the primary: NOPERM" '^NOPERM' \
	"$(cli_as m365-reader "$P_READER" "$PPORT" SET m365:current x 2>&1)"
check_match "d: m365-reader HSET on the primary: NOPERM" '^NOPERM' \
	"$(cli_as m365-reader "$P_READER" "$PPORT" HSET m365:v:x json x 2>&1)"
check_match "d: m365-reader PUBLISH on the primary: NOPERM" '^NOPERM' \
	"$(cli_as m365-reader "$P_READER" "$PPORT" PUBLISH m365:updates x 2>&1)"
check_match "d: m365-reader EVAL on the primary: NOPERM" '^NOPERM' \
	"$(cli_as m365-reader "$P_READER" "$PPORT" EVAL "return redis.call('SET','m365:current','x')" 0 2>&1)"
check_match "d: m365-reader cannot read outside m365:" '^NOPERM' \
	"$(cli_as m365-reader "$P_READER" "$PPORT" GET other:x 2>&1)"
check_eq "d: m365-reader reads current" 2025120100 "$(cli_as m365-reader "$P_READER" "$RPORT" GET m365:current 2>&1)"
check_eq "d: current unchanged" 2025120100 "$(padmin GET m365:current 2>&1)"
padmin ACL LOG RESET >/dev/null 2>&1
radmin ACL LOG RESET >/dev/null 2>&1
for h in h1 h2; do
	eval "_p=\$PID_$h"
	_args=$(ps -o args= -p "$_p" 2>&1)
	case $_args in
	*"$P_READER"*) not_ok "d: $h: the password is not in its argv" "[$_args]" ;;
	*--redis-auth-file*) ok "d: $h: the password is not in its argv" ;;
	*) not_ok "d: $h: the password is not in its argv" "ps gave [$_args]" ;;
	esac
done

# --- g. m365ctl lookup --verify-key through the replica ----------------------------------

# shellcheck disable=SC2086
rlookup() {
	timeout 20 "$CTL" lookup --redis "$REPLICA_TCP" --redis-auth-file "$T/reader.auth" \
		--verify-key "$T/sign.pub" $1 2>"$T/g.err"
}
_o=$(rlookup "$QMS")
check_eq "g: lookup --verify-key as m365-reader through the replica exits 0 (stderr [$(head -c 300 "$T/g.err")])" 0 $?
check_eq "g: ... and answers as the helpers do" "$A_MS" "$(printf '%s\n' "$_o" | head -n 1)"
_o=$(timeout 20 "$CTL" status --redis "$REPLICA_TCP" --redis-auth-file "$T/reader.auth" \
	--verify-key "$T/sign.pub" 2>&1)
_rc=$?
if [ $_rc -eq 0 ]; then
	ok "g: status --verify-key as m365-reader through the replica exits 0"
else
	not_ok "g: status --verify-key as m365-reader through the replica exits 0" "exit $_rc: $(printf '%s' "$_o" | tail -n 3 | tr '\n' ' ')"
fi
check_match "g: status shows the current version" '^current: +2025120100$' "$_o"
check_match "g: status shows the signature valid" '^signature: +valid' "$_o"
# the replica refuses the farm records; the helpers' connection names
# (CLIENT LIST) still show both, with their version
check_match "g: status on the replica lists the two helpers by their connections" \
	'^farm: +1 hosts, 2 processes \(2 by connection only\)' "$_o"
check_match "g: ... on the current version, not lagging" \
	"^  $(hostname | tr -c 'A-Za-z0-9._\n-' _ | cut -c1-64) +squid 2, icap 0; 2025120100\$" "$_o"
for h in h1 h2; do
	check_match "g: $h logged once that the replica refuses its farm record" \
		'not recorded for the farm view.*READONLY.*\(a replica\)' "$(cat "$T/$h/err")"
done
check_eq "g: no ACL denial on the replica (lookup, status as m365-reader)" "" "$(acl_log radmin)"

# --- h. Sentinel (contrib/redis/sentinel.conf) ---------------------------------------

sed -e "s|^port 26379\$|port $SPORT|" \
	-e "s|^bind 10.0.0.4 127.0.0.1\$|bind 127.0.0.1|" \
	-e "s|^logfile .*|logfile $T/sentinel.log|" \
	-e "s|^dir /var/lib/redis\$|dir $T/sdata|" \
	-e "s|^sentinel monitor m365 10.0.0.5 6379 2\$|sentinel monitor m365 127.0.0.1 $PPORT 1|" \
	-e "s|^sentinel auth-pass m365 SENTINEL_PASSWORD\$|sentinel auth-pass m365 $P_SENT|" \
	"$CONTRIB/sentinel.conf" >"$T/sentinel.conf"
chmod 600 "$T/sentinel.conf"
_left=$(grep -v '^#' "$T/sentinel.conf" | grep -E '10\.0\.0\.|/var/|_PASSWORD')
[ -z "$_left" ] || abort "sentinel.conf: not every site value was substituted: $_left"
redis-server "$T/sentinel.conf" --sentinel >"$T/sentinel.out" 2>&1 &
SPID_=$!
if wait_port "$SPORT" 10; then
	ok "h: contrib/redis/sentinel.conf: redis-server --sentinel starts with it"
	_i=0
	while [ $_i -lt 100 ]; do
		_flags=$(timeout 5 redis-cli -p "$SPORT" SENTINEL master m365 2>/dev/null | tr -d '\r' | sed -n '/^flags$/{n;p;}')
		_ok=$(timeout 5 redis-cli -p "$SPORT" SENTINEL master m365 2>/dev/null | tr -d '\r' | sed -n '/^last-ok-ping-reply$/{n;p;}')
		[ "$_flags" = master ] && [ -n "$_ok" ] && [ "$_ok" -lt 1000 ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	check_eq "h: Sentinel logs in to the primary as m365-sentinel (flags)" master "$_flags"
	check_eq "h: Sentinel names the primary" "127.0.0.1 $PPORT" \
		"$(timeout 5 redis-cli -p "$SPORT" SENTINEL get-master-addr-by-name m365 2>&1 | tr '\n' ' ' | sed 's/ $//')"
	_o=$(timeout 30 "$CTL" import "$WW25" --redis-sentinel "127.0.0.1:$SPORT" --redis-master m365 \
		--redis-auth-file "$T/writer.auth" --sign-key "$T/sign.key" --version 2025120101 2>&1)
	check_eq "h: m365ctl import --redis-sentinel --redis-master exits 0 [$_o]" 0 $?
	check_eq "h: ... published on the primary" 2025120101 "$(padmin GET m365:current 2>&1)"
	waitlog "h: h1 takes the version published through Sentinel" h1 'switched to version 2025120101' 5
	check_eq "h: no ACL denial on the primary (m365-sentinel's commands suffice)" "" "$(acl_log padmin)"
else
	not_ok "h: contrib/redis/sentinel.conf: redis-server --sentinel starts with it" \
		"$(tail -n 5 "$T/sentinel.log" "$T/sentinel.out" 2>/dev/null)"
fi
kill -9 "$SPID_" 2>/dev/null
wait "$SPID_" 2>/dev/null
SPID_=""
CUR=$(padmin GET m365:current 2>&1)

# --- e. versions forged on the primary by an admin are refused --------------------------

# forge VERSION SIG: an admin stores WW24 (which would bypass $QOLD) as
# VERSION with its right sha256 and signature SIG ("" for none), moves
# current and announces it, as a publish would.
forge() {
	if [ -n "$2" ]; then
		padmin -x HSET "m365:v:$1" sha256 "$SHA24" version "$1" \
			published_at "$(date +%s)" published_by admin source forged sig "$2" json <"$WW24" >/dev/null
	else
		padmin -x HSET "m365:v:$1" sha256 "$SHA24" version "$1" \
			published_at "$(date +%s)" published_by admin source forged json <"$WW24" >/dev/null
	fi
	padmin SET m365:current "$1" >/dev/null
	padmin PUBLISH m365:updates "$1" >/dev/null
}

forge forged1 ""
for h in h1 h2; do
	waitlog "e: $h refuses a version without signature" $h 'version forged1 rejected: .*no signature' 5
	asks "e: $h keeps its answer for $QOLD" $h "$QOLD" "$A_OLD25"
done
signed_msg forged2 "$SHA24" "$(date +%s)" >"$T/msg2"
openssl pkeyutl -sign -inkey "$T/other.key" -rawin -in "$T/msg2" -out "$T/sig2.bin" 2>"$T/sign2.err" ||
	not_ok "e: openssl signs with a foreign key" "$(cat "$T/sign2.err")"
SIG2=$(od -An -v -tx1 "$T/sig2.bin" | tr -d ' \n')
forge forged2 "$SIG2"
for h in h1 h2; do
	waitlog "e: $h refuses a version signed by another key" $h 'version forged2 rejected: .*bad signature' 5
	asks "e: $h keeps its answer for $QOLD" $h "$QOLD" "$A_OLD25"
done
forge forged3 "$SIG24"
for h in h1 h2; do
	waitlog "e: $h refuses a genuine signature replayed under another version" $h 'version forged3 rejected: .*bad signature' 5
	asks "e: $h keeps its answer for $QOLD" $h "$QOLD" "$A_OLD25"
	asks "e: $h keeps its answer for $QNEW" $h "$QNEW" "$A_NEW25"
done
if grep -q 'switched to version forged' "$T/h1/err" "$T/h2/err"; then
	fail "e: no helper switched to a forged version" "$(grep -h 'switched to version forged' "$T/h1/err" "$T/h2/err" | head -n 1)" h1 h2
else
	ok "e: no helper switched to a forged version"
fi
# a genuine, older signed version put back as current: a replay
padmin SET m365:current 2024041700 >/dev/null
padmin PUBLISH m365:updates 2024041700 >/dev/null
for h in h1 h2; do
	waitlog "e: $h refuses an older signed version put back (a replay)" $h \
		'version 2024041700 rejected: .*a replay' 5
	asks "e: $h keeps its answer for $QNEW" $h "$QNEW" "$A_NEW25"
done
padmin SET m365:current forged3 >/dev/null

# --- g. lookup --verify-key with a forged version current ------------------------------

_o=$(rlookup "$QOLD")
check_eq "g: lookup --verify-key exits 2 while a forged version is current" 2 $?
check_match "g: ... and says why" 'forged3.*bad signature' "$(cat "$T/g.err")"
check_eq "g: ... and prints no answer" "" "$(printf '%s\n' "$_o" | grep -E '^(OK|ERR)( |$)')"
check_match "g: status --verify-key does not call the forged version's signature valid" \
	'^signature: +(bad|none|invalid)' \
	"$(timeout 20 "$CTL" status --redis "$REPLICA_TCP" --redis-auth-file "$T/reader.auth" \
		--verify-key "$T/sign.pub" 2>&1 | grep '^signature:')"

# --- i. the primary restarted: the versions survive ----------------------------------
# (primary.conf keeps them in an RDB snapshot; Redis 7.0 would drop the
# publish script's writes from an AOF, see the comment there.)

padmin SET m365:current "$CUR" >/dev/null
kill "$PPID_"
_i=0
while kill -0 "$PPID_" 2>/dev/null && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
kill -9 "$PPID_" 2>/dev/null
wait "$PPID_" 2>/dev/null
if start_primary; then
	check_eq "i: the primary restarted keeps current" "$CUR" "$(padmin GET m365:current 2>&1)"
	check_match "i: ... and the signed version" '^[0-9a-f]{128}$' "$(padmin HGET "m365:v:$CUR" sig 2>&1)"
	check_eq "i: ... and the kept versions" "$CUR 2025120100 2024041700" \
		"$(padmin LRANGE m365:versions 0 -1 2>&1 | tr '\n' ' ' | sed 's/ $//')"
	_i=0
	while [ "$(info_field radmin master_link_status)" != up ] && [ $_i -lt 150 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	check_eq "i: the replica's link is up again" up "$(info_field radmin master_link_status)"
	check_eq "i: the replica still has current" "$CUR" "$(radmin GET m365:current 2>&1)"
	asks "i: h1 keeps answering $QNEW" h1 "$QNEW" "$A_NEW25"
else
	not_ok "i: the primary restarts" "$(tail -n 5 "$T/primary.log")"
fi

# --- f. the primary killed --------------------------------------------------------------

out=$(drv steady --query "$QMS" --expect "$A_MS" --duration 3 --interval 0.05 \
	--at 0.5 "$T/h1" "$T/h2" -- kill -9 "$PPID_")
_rc=$?
wait "$PPID_" 2>/dev/null
PPID_=""
if [ $_rc -eq 0 ]; then
	ok "f: every answer for $QMS unchanged while the primary is killed ($(printf '%s\n' "$out" | grep '^h[12] ' | tr '\n' ' '))"
else
	fail "f: every answer for $QMS unchanged while the primary is killed" "$(printf '%s' "$out" | tr '\n' ';')" h1 h2
fi
_i=0
while [ "$(info_field radmin master_link_status)" != down ] && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check_eq "f: the replica sees its primary gone" down "$(info_field radmin master_link_status)"
check_eq "f: the replica still serves the lists (replica-serve-stale-data)" "$CUR" \
	"$(cli_as m365-reader "$P_READER" "$RPORT" GET m365:current 2>&1)"
asks "f: h1 answers $QMS with the primary gone" h1 "$QMS" "$A_MS"
asks "f: h2 answers $QMS with the primary gone" h2 "$QMS" "$A_MS"

for h in $HELPERS; do
	if grep -q ' BH' "$T/$h/out"; then
		fail "$h: never BH" "$(grep -m1 ' BH' "$T/$h/out")" "$h"
	else
		ok "$h: never BH"
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|SEGV|Aborted' "$T/$h/err"; then
		fail "$h: no crash or sanitizer report" "$(grep -m1 -E 'Sanitizer|runtime error|SEGV|Aborted' "$T/$h/err")" "$h"
	else
		ok "$h: no crash or sanitizer report"
	fi
	eval "_p=\$PID_$h"
	if kill -0 "$_p" 2>/dev/null; then ok "$h: still running"; else fail "$h: still running" "exited" "$h"; fi
	if grep -q "$P_READER" "$T/$h/err"; then
		fail "$h: the password never in its log" "found on stderr" "$h"
	else
		ok "$h: the password never in its log"
	fi
done
finish
