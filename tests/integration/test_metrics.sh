#!/bin/sh
# tests/integration/test_metrics.sh - the host's counters (issue 8) with the
# real front ends, read with `m365ctl metrics` (Prometheus text).
#
#   a. A real Squid (three helper processes, concurrency=10, no answer
#      cache) and a c-icap with two children running the module count into
#      one directory; a known mix sent through Squid with curl and straight
#      to c-icap with icap_client.py comes back exactly, by front end,
#      verdict, category and service, with the latency counts, the
#      processes and the list gauges.
#   b. A helper and a c-icap child killed with SIGKILL (Squid and c-icap
#      start others): no counter series goes backwards, nothing is lost,
#      the process counts come back.
#   c. Counting off (--metrics off), the directory missing, and read-only
#      (the helper as nobody): answers byte-identical to a run that
#      counts; one line on stderr says counting is off (none for off).
#   d. A helper without a list: stderr says so at start and again a minute
#      later; m365_bypass_list_loaded 0 and the lookups without a list
#      counted while it runs.  Started first, checked last: the minute
#      overlaps the rest.
#   e. Lines without channel IDs: one concurrency=0 warning, none for
#      lines that have them or with --no-concurrency.
#   f. The bundled list's age warning (once), none with --list.
#   g. The farm record in a real Redis: m365:proxy:HOST:squid:PID with the
#      version, the connections named m365-bypass:squid:HOST:PID, a TTL of
#      45 s at most that runs out once the helper is killed.
#   h. The layout contrib/tmpfiles.d/m365-bypass.conf makes (an empty
#      counters file, proxy:c-icap 0664, in a setgid directory): a process
#      as c-icap and one as proxy both count, whichever opens it first.
# Takes about 65 s, mostly the minute of d.
#
# Needs root (the origin binds ports 80 and 443; Squid drops to proxy; c
# runs a helper as nobody), squid, c-icap, redis-server, redis-cli, curl,
# python3, setpriv.  No network.  M365_HELPER overrides Squid's helper
# (default build/ext_m365_acl), M365_ICAP_MODULE the module (default
# build/san/srv_m365_bypass.so); the helpers run alone are the sanitizer
# build.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/icap_lib.sh
. "$ROOT/tests/icap_lib.sh"
# shellcheck source=tests/redis_lib.sh
. "$ROOT/tests/redis_lib.sh"

HELPER=${M365_HELPER:-$BUILD/ext_m365_acl}
SHELPER=$BUILD/san/ext_m365_acl
CTL=${M365_CTL:-$BUILD/m365ctl}
MODULE=${M365_ICAP_MODULE:-$BUILD/san/srv_m365_bypass.so}
WW=$FIXTURES/worldwide-2025-12-01.json
MARKER=m365-metrics-origin-ok
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
T=""
CD=""

diagnostics() {
	[ -n "$T" ] || return 0
	for f in squid/cache.log squid.out origin.log nolist/err redis/err; do
		[ -s "$T/$f" ] || continue
		echo "--- tail of $f" >&2
		tail -n 30 "$T/$f" >&2
	done
	[ -n "$CD" ] && cicap_diagnostics "$CD"
}

abort() {
	not_ok "setup" "$1"
	diagnostics
	finish
}

for prog in squid c-icap c-icap-config redis-server redis-cli curl python3 setpriv; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ "$(id -u)" -eq 0 ] || abort "needs root (origin on port 80, Squid as proxy, a helper as nobody)"
if [ ! -x "$HELPER" ] || [ ! -x "$SHELPER" ] || [ ! -x "$CTL" ] || [ ! -f "$MODULE" ]; then
	make -s -C "$ROOT" "$HELPER" "$SHELPER" "$CTL" "$MODULE" >/dev/null 2>&1
fi
for f in "$HELPER" "$SHELPER" "$CTL"; do
	[ -x "$f" ] || abort "$f is missing"
done
[ -f "$MODULE" ] || abort "$MODULE is missing"

T=$(mktemp -d) || abort "mktemp failed"
if [ -n "${M365_KEEP_TMP:-}" ]; then echo "# keeping $T" >&2; else on_exit "rm -rf '$T'"; fi
chmod 755 "$T"


# scrape DIR OUT: m365ctl metrics of DIR into OUT; false when it fails.
scrape() {
	"$CTL" metrics --metrics "$1" --state-dir "$T/no-state" >"$2" 2>"$2.err"
}

# val FILE SERIES: the value of one series ("absent" when it is not there).
val() {
	awk -v s="$2" 'index($0, s " ") == 1 { print $2; f = 1; exit }
		END { if (!f) print "absent" }' "$1"
}

# lk FILE FE VERDICT CATEGORY SERVICE: one m365_bypass_lookups_total.
lk() {
	val "$1" "m365_bypass_lookups_total{frontend=\"$2\",verdict=\"$3\",category=\"$4\",service=\"$5\"}"
}

# nonzero_lookups FILE FE: every non-zero lookups series of FE, one a line,
# "verdict/category/service=N", sorted.
nonzero_lookups() {
	sed -n "s/^m365_bypass_lookups_total{frontend=\"$2\",verdict=\"\\([a-z]*\\)\",category=\"\\([A-Za-z]*\\)\",service=\"\\([A-Za-z]*\\)\"} \\([0-9]*\\)\$/\\1\\/\\2\\/\\3=\\4/p" "$1" |
		grep -v '=0$' | sort | tr '\n' ' ' | sed 's/ $//'
}

# backwards OLD NEW: the counter series (_total, _bucket, _sum, _count) of
# OLD that are lower or gone in NEW, one a line.
backwards() {
	awk 'NR == FNR { if ($1 ~ /(_total|_bucket|_sum|_count)\{/) old[$1] = $2; next }
		{ new[$1] = $2 }
		END { for (k in old) {
			if (!(k in new)) print k " gone";
			else if (new[k] + 0 < old[k] + 0) print k " " old[k] " -> " new[k] } }' "$1" "$2"
}

# start_helper NAME ARGS...: a helper (sanitizer build) in the background
# with DIR=$T/NAME/{in,out,err} (helper_driver.py's layout), its stdin a
# FIFO held open on a descriptor of a sleeping writer; sets $hpid.
start_helper() {
	_d=$T/$1
	shift
	mkdir -p "$_d"
	rm -f "$_d/in"
	mkfifo "$_d/in"
	"$SHELPER" "$@" <"$_d/in" >"$_d/out" 2>"$_d/err" &
	hpid=$!
	# the writer that keeps the FIFO open; killed to give the helper EOF
	sleep 300 >"$_d/in" &
	echo $! >"$_d/writer"
	on_exit "kill $hpid $! 2>/dev/null"
}

# stop_helper NAME PID: EOF to the helper; its exit status in $hrc.
stop_helper() {
	kill "$(cat "$T/$1/writer")" 2>/dev/null
	_i=0
	while kill -0 "$2" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	wait "$2" 2>/dev/null
	hrc=$?
}

# --- d (started first): a helper without a list -------------------------------------
d_start=$(date +%s)
mkdir -p "$T/m-nolist"
start_helper nolist --list /nonexistent/endpoints.json --metrics "$T/m-nolist"
NLPID=$hpid

# --- g: the farm record in Redis ---------------------------------------------------
mkdir -p "$T/redis-data"
redis_init "$T/redis-data"
if start_redis; then
	ok "g: redis-server on $RURL"
	pub=$("$CTL" import "$WW" --redis "$RURL" 2>"$T/import.err")
	check_match "g: m365ctl import publishes the fixture" '^published [^ ]+ \(was none\)' "$pub"
	VERSION=$(printf '%s\n' "$pub" | sed -n 's/^published \([^ ]*\) .*/\1/p')
	mkdir -p "$T/m-redis"
	start_helper redis --redis "$RURL" --metrics "$T/m-redis"
	RHPID=$hpid
	HOST=$(hostname | cut -c1-64 | sed 's/[^A-Za-z0-9._-]/_/g')
	KEY="m365:proxy:$HOST:squid:$RHPID"
	_i=0
	while ! rcli --raw KEYS 'm365:proxy:*' 2>/dev/null | grep -qxF "$KEY" && [ $_i -lt 200 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	check_eq "g: within 20 s, KEYS m365:proxy:* lists $KEY (and nothing else)" "$KEY" \
		"$(rcli --raw KEYS 'm365:proxy:*' | tr '\n' ' ' | sed 's/ $//')"
	rec=$(rcli --raw GET "$KEY")
	check_match "g: the record is \"1 $VERSION PUBLISHED SEEN\"" \
		"^1 $VERSION [0-9]{10} [0-9]{10}\$" "$rec"
	seen=${rec##* }
	now=$(date +%s)
	check_eq "g: its SEEN time is now (within 20 s)" 1 \
		"$([ $((now - seen)) -ge 0 ] && [ $((now - seen)) -le 20 ] && echo 1 || echo "$seen vs $now")"
	ttl=$(rcli TTL "$KEY")
	check_eq "g: its TTL is 1..45 s" 1 "$([ "$ttl" -ge 1 ] && [ "$ttl" -le 45 ] && echo 1 || echo "$ttl")"
	names=$(rcli CLIENT LIST | grep -o "name=[^ ]*" | sort)
	check_eq "g: CLIENT LIST: the helper's connections are named with its version (command) and as its subscriber" \
		"name=m365-bypass-sub:squid:$HOST:$RHPID name=m365-bypass:squid:$HOST:$RHPID:$VERSION:m365:" \
		"$(printf '%s\n' "$names" | grep -F ":$HOST:$RHPID" | tr '\n' ' ' | sed 's/ $//')"
	check_eq "g: the helper answers from Redis's version" \
		"OK m365_category=Optimize m365_service=Exchange m365_set=1" \
		"$(drv ask "$T/redis" outlook.office365.com 443 -)"
	if scrape "$T/m-redis" "$T/g.prom"; then
		check_eq "g: metrics: redis_up, list_version{version=$VERSION}, processes (squid)" "1 1 1" \
			"$(val "$T/g.prom" 'm365_bypass_redis_up{frontend="squid"}') $(val "$T/g.prom" "m365_bypass_list_version{frontend=\"squid\",version=\"$VERSION\"}") $(val "$T/g.prom" 'm365_bypass_processes{frontend="squid"}')"
	else
		not_ok "g: m365ctl metrics" "$(cat "$T/g.prom.err")"
	fi
	kill -9 "$RHPID"
	wait "$RHPID" 2>/dev/null
	t1=$(rcli TTL "$KEY")
	sleep 2
	t2=$(rcli TTL "$KEY")
	check_eq "g: helper killed: the record's TTL (${t1} s, then ${t2} s) is 45 s at most and runs out, not renewed" 1 \
		"$([ "$t1" -ge 1 ] && [ "$t1" -le 45 ] && [ "$t2" -lt "$t1" ] && echo 1 || echo "$t1 $t2")"
	_i=0
	while rcli CLIENT LIST | grep -qF ":squid:$HOST:$RHPID" && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	check_eq "g: helper killed: its connections are gone from CLIENT LIST" 0 \
		"$(rcli CLIENT LIST | grep -cF ":squid:$HOST:$RHPID")"
	kill_redis
else
	not_ok "g: redis-server" "did not start: $(tail -n 5 "$T/redis-data/redis.log")"
fi

# --- e. lines without channel IDs ----------------------------------------------------
warn_ch='is not a channel ID: squid.conf probably says concurrency=0'
printf 'outlook.office365.com 443 -\n%.0s' 1 2 3 4 5 |
	"$SHELPER" --list "$WW" --metrics off >"$T/e1.out" 2>"$T/e1.err"
check_eq "e: 5 lines without channel IDs: 5 answers, exactly one concurrency warning" "5 1" \
	"$(grep -c . "$T/e1.out") $(grep -c "$warn_ch" "$T/e1.err")"
check_match "e: the warning quotes the first field and names --no-concurrency" \
	'WARNING: a request.s first field "outlook\.office365\.com" is not a channel ID.*--no-concurrency' \
	"$(cat "$T/e1.err")"
printf '%s outlook.office365.com 443 -\n' 0 1 2 3 4 |
	"$SHELPER" --list "$WW" --metrics off >"$T/e2.out" 2>"$T/e2.err"
check_eq "e: 5 lines with channel IDs: 5 OK answers, no warning" "5 0" \
	"$(grep -c '^[0-4] OK m365_category=Optimize' "$T/e2.out") $(grep -c 'channel ID' "$T/e2.err")"
printf 'outlook.office365.com 443 -\n%.0s' 1 2 3 |
	"$SHELPER" --list "$WW" --metrics off --no-concurrency >"$T/e3.out" 2>"$T/e3.err"
check_eq "e: --no-concurrency: 3 OK answers, no warning" "3 0" \
	"$(grep -c '^OK m365_category=Optimize' "$T/e3.out") $(grep -c 'channel ID' "$T/e3.err")"

# --- f. the bundled list's age --------------------------------------------------------
"$SHELPER" --metrics off </dev/null >/dev/null 2>"$T/f1.err"
age=$(sed -n 's/.*WARNING: the bundled list (version 2025120100) is \([0-9]*\) days old: .*/\1/p' "$T/f1.err")
want_age=$(( ($(date +%s) - $(date -u -d 2025-12-01 +%s)) / 86400 ))
check_eq "f: the bundled list: one age warning, its age in days (today: $want_age)" "1 ok" \
	"$(grep -c 'days old' "$T/f1.err") $([ -n "$age" ] && [ $((age - want_age)) -ge -1 ] && [ $((age - want_age)) -le 1 ] && [ "$age" -gt 60 ] && echo ok || echo "[$age]")"
check_match "f: it says what to do" 'follow it with m365ctl update and Redis, or give a newer list file' "$(cat "$T/f1.err")"
"$SHELPER" --metrics off --list "$WW" </dev/null >/dev/null 2>"$T/f2.err"
check_eq "f: --list $(basename "$WW"): no age warning" 0 "$(grep -c 'days old' "$T/f2.err")"

# --- c. counting on, off, impossible: the same answers ----------------------------------
cat >"$T/c.in" <<'EOF'
0 outlook.office365.com 443 -
1 teams.microsoft.com 443 teams.microsoft.com
2 example.com 443 -
3 www.office.com 80 -
4 bad..host 443 -
5 outlook.office365.com 0443x -
6 contoso.sharepoint.com 443 evil.example
7 52.112.0.1 443 -
8 [2603:1063::1] 443 -
9 outlook.office365.com%2e 80 -
10
11 teams.microsoft.com - - extra tokens
12 "quoted" 443 -
13 "unterminated 443 -
14 a%20b 443
15 outlook.office365.com 443 a%00b
EOF
printf '16 %070000d 443 -\n17 teams.microsoft.com 443 -\n' 0 >>"$T/c.in" # over 64 KiB
n_in=$(grep -c . "$T/c.in")
cp "$SHELPER" "$T/helper-san"
cp "$WW" "$T/ww.json"
chmod 755 "$T/helper-san"
chmod 644 "$T/ww.json"
mkdir -p "$T/c-on" "$T/c-ro-empty" "$T/c-ro-file"
# c_run NAME DIR [RUNAS...]: the input through a helper counting into DIR.
c_run() {
	_n=$1
	_dir=$2
	shift 2
	"$@" "$T/helper-san" --list "$T/ww.json" --metrics "$_dir" <"$T/c.in" \
		>"$T/c-$_n.out" 2>"$T/c-$_n.err"
	echo $? >"$T/c-$_n.rc"
}
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
c_run on "$T/c-on"
c_run off off
c_run missing "$T/c-missing"
chmod 555 "$T/c-ro-empty"
c_run ro-empty "$T/c-ro-empty" nobody
# a counters file that root made (0664 root:root) in a directory nobody
# cannot write: nobody cannot open it for writing either
"$T/helper-san" --list "$T/ww.json" --metrics "$T/c-ro-file" </dev/null >/dev/null 2>&1
chmod 555 "$T/c-ro-file"
c_run ro-file "$T/c-ro-file" nobody
check_eq "c: counting on: $n_in answers, exit 0" "$n_in 0" "$(grep -c . "$T/c-on.out") $(cat "$T/c-on.rc")"
check_eq "c: the over-long line answered ERR, the next one OK" \
	'16 ERR message="line too long"|17 OK m365_category=Allow m365_service=Skype m365_set=12' \
	"$(grep -E '^1[67] ' "$T/c-on.out" | tr '\n' '|' | sed 's/|$//')"
for n in off missing ro-empty ro-file; do
	if cmp -s "$T/c-on.out" "$T/c-$n.out"; then
		ok "c: $n: the answers are byte-identical to counting on's"
	else
		not_ok "c: $n: the answers are byte-identical to counting on's" "$(diff "$T/c-on.out" "$T/c-$n.out" | head -n 5)"
	fi
	check_eq "c: $n: exit 0" 0 "$(cat "$T/c-$n.rc")"
done
check_eq "c: on: nothing on stderr about metrics" 0 "$(grep -ci 'metrics' "$T/c-on.err")"
check_eq "c: off: nothing on stderr about metrics" 0 "$(grep -ci 'metrics' "$T/c-off.err")"
check_eq "c: missing directory: exactly one line says so" 1 "$(grep -ci 'metrics' "$T/c-missing.err")"
check_match "c: missing directory: that line names the file and says counting is off" \
	"^ext_m365_acl: WARNING: metrics: $T/c-missing/counters: No such file or directory; running without counting\$" \
	"$(grep -i metrics "$T/c-missing.err")"
for n in ro-empty ro-file; do
	check_eq "c: read-only directory ($n), helper as nobody: exactly one line says so" 1 \
		"$(grep -ci 'metrics' "$T/c-$n.err")"
	check_match "c: read-only directory ($n): that line names the file and says counting is off" \
		"^ext_m365_acl: WARNING: metrics: $T/c-$n/counters: Permission denied; running without counting\$" \
		"$(grep -i metrics "$T/c-$n.err")"
done
if scrape "$T/c-on" "$T/c.prom"; then
	check_eq "c: on: every line counted (lookups), none left a process behind" "$n_in 0" \
		"$(awk '/^m365_bypass_lookups_total\{frontend="squid"/ { n += $2 } END { print n }' "$T/c.prom") $(val "$T/c.prom" 'm365_bypass_processes{frontend="squid"}')"
	check_eq "c: on: invalid requests by reason (destination port sni syntax line_too_long)" "3 1 1 1 1" \
		"$(for r in destination port sni syntax line_too_long; do val "$T/c.prom" "m365_bypass_invalid_requests_total{frontend=\"squid\",reason=\"$r\"}"; done | tr '\n' ' ' | sed 's/ $//')"
else
	not_ok "c: m365ctl metrics" "$(cat "$T/c.prom.err")"
fi
check_eq "c: read-only directories: no counters file appeared, the old one unchanged in size" "absent $(stat -c %s "$T/c-on/counters")" \
	"$([ -e "$T/c-ro-empty/counters" ] && echo present || echo absent) $(stat -c %s "$T/c-ro-file/counters")"
chmod 755 "$T/c-ro-empty" "$T/c-ro-file"

# --- h. the packaged tmpfiles.d layout ----------------------------------------------
# contrib/tmpfiles.d/m365-bypass.conf makes the directory (setgid) and an
# empty counters file for proxy (Squid's helpers) and group c-icap (c-icap's
# children, User c-icap / Group c-icap).  Whichever starts first, both must
# count: here a process as c-icap:c-icap first, then one as proxy, and the
# other way round.
TMPF=$ROOT/contrib/tmpfiles.d/m365-bypass.conf
# tmpf TYPE: "MODE USER GROUP" of the shipped line of that type.
tmpf() { awk -v t="$1" '$1 == t && $2 ~ /^\/run\/m365-bypass/ { print $3, $4, $5; exit }' "$TMPF"; }
as_cicap() { setpriv --reuid=c-icap --regid=c-icap --clear-groups "$@"; }
as_proxy() { setpriv --reuid=proxy --regid=proxy --clear-groups "$@"; }
if [ -r "$TMPF" ] && getent group c-icap >/dev/null && id -u c-icap >/dev/null 2>&1; then
	# shellcheck disable=SC2046 # three words
	set -- $(tmpf d) $(tmpf f)
	check_eq "h: the shipped tmpfiles.d entry: the directory 2775 proxy c-icap, the file 0664 proxy c-icap" \
		"2775 proxy c-icap 0664 proxy c-icap" "$*"
	for order in "as_cicap as_proxy" "as_proxy as_cicap"; do
		H=$T/h-$(echo "$order" | tr ' ' '-')
		install -d -m "$1" -o "$2" -g "$3" "$H"
		install -m "$4" -o "$5" -g "$6" /dev/null "$H/counters"
		for who in $order; do
			echo '0 outlook.office365.com 443 -' | $who "$T/helper-san" --list "$T/ww.json" \
				--metrics "$H" >"$H.$who.out" 2>"$H.$who.err"
			check_eq "h: $order: $who counts, no warning" "" "$(grep -i metrics "$H.$who.err")"
		done
		scrape "$H" "$T/h.prom"
		check_eq "h: $order: both lookups counted" 2 "$(lk "$T/h.prom" squid ok Optimize Exchange)"
		check_eq "h: $order: the file stays proxy:c-icap 0664" "proxy c-icap 664" \
			"$(stat -c '%U %G %a' "$H/counters")"
	done
else
	echo "# h: skipped (no $TMPF, or no user and group c-icap)"
fi

# --- a. Squid's helpers and c-icap's children in one directory --------------------------
MDIR=$T/metrics
mkdir -p "$MDIR" "$T/squid"
# Squid's helpers run as proxy: they must reach the helper and make the
# file (c-icap's children run as root and can write it).
if ! runuser -u proxy -- test -x "$HELPER"; then
	cp "$HELPER" "$T/ext_m365_acl"
	HELPER=$T/ext_m365_acl
fi
chown proxy "$MDIR" "$T/squid"
runuser -u proxy -- "$HELPER" --metrics "$MDIR" </dev/null >/dev/null 2>"$T/precreate.err"
[ -f "$MDIR/counters" ] || abort "the helper as proxy did not make $MDIR/counters: $(cat "$T/precreate.err")"

origin_start "$T" "$MARKER" || abort "origin server did not start: $(cat "$T/origin.log")"
names="outlook.office365.com teams.microsoft.com contoso.sharepoint.com www.office.com example.com"
# shellcheck disable=SC2154 # origin: set by origin_start
echo "$origin $names" >"$T/hosts"

CD=$T/cicap
mkdir -p "$CD"
cicap_m365_conf "$CD/m365.conf" "$MODULE" ||
	abort "contrib/c-icap/m365_bypass.conf has no single Service line to rewrite"
echo "m365_bypass.MetricsDir $MDIR" >>"$CD/m365.conf"
started=""
# shellcheck disable=SC2034 # read by cicap_conf
CICAP_CHILDREN=2
# shellcheck disable=SC2046 # the environment assignments, one a word
cicap_launch "$CD" "$CD/m365.conf" env $(cicap_asan_env "$CD") \
	2>"$T/cicap-start.err" && started=1
[ -n "$started" ] || abort "c-icap did not start: $(head -n 3 "$T/cicap-start.err")"
CPORT=$CICAP_PORT

SPORT=$(free_port)
cat >"$T/squid.conf" <<EOF
http_port 127.0.0.1:$SPORT
cache_effective_user proxy
pid_filename $T/squid/squid.pid
cache_log $T/squid/cache.log
access_log stdio:$T/squid/access.log
coredump_dir $T/squid
hosts_file $T/hosts
dns_nameservers 127.0.0.1
cache deny all
shutdown_lifetime 0 seconds
pinger_enable off
visible_hostname m365-metrics-test
connect_timeout 5 seconds
# no answer cache: every request reaches a helper
external_acl_type m365 ttl=0 negative_ttl=0 cache=0 children-startup=3 children-max=3 concurrency=10 %DST %PORT %ssl::>sni $HELPER --metrics $MDIR
acl m365_bypass external m365
http_access allow m365_bypass
http_access deny all
EOF
squid -k parse -f "$T/squid.conf" >"$T/parse.log" 2>&1 ||
	abort "squid -k parse: $(tail -n 5 "$T/parse.log")"
squid_start "$T/squid.conf" "$T/squid.out" "$SPORT" || abort "squid did not start on 127.0.0.1:$SPORT"

# squid_helpers: the pids of Squid's helpers counting into MDIR, sorted.
squid_helpers() {
	# Squid names its helpers "(ext_m365_acl)" in argv[0]
	ps -eo pid=,args= | awk -v d="$MDIR" \
		'$2 ~ /ext_m365_acl\)?$/ && $3 == "--metrics" && $4 == d && NF == 4 { print $1 }' | sort -n
}
_i=0
while [ "$(squid_helpers | grep -c .)" -lt 3 ] && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check_eq "a: Squid started 3 helpers" 3 "$(squid_helpers | grep -c .)"

# get N HOST: N GETs through Squid; prints the HTTP codes, distinct.
n_get=0
get() {
	_k=0
	while [ $_k -lt "$1" ]; do
		n_get=$((n_get + 1))
		curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' \
			-x "http://127.0.0.1:$SPORT" "http://$2/r$n_get" 2>/dev/null
		_k=$((_k + 1))
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}
check_eq "a: Squid: 5 GETs to outlook.office365.com bypass (200)" 200 "$(get 5 outlook.office365.com)"
check_eq "a: Squid: 4 GETs to teams.microsoft.com bypass (200)" 200 "$(get 4 teams.microsoft.com)"
check_eq "a: Squid: 2 GETs to contoso.sharepoint.com bypass (200)" 200 "$(get 2 contoso.sharepoint.com)"
check_eq "a: Squid: 2 GETs to www.office.com (Default) denied (403)" 403 "$(get 2 www.office.com)"
check_eq "a: Squid: 3 GETs to example.com denied (403)" 403 "$(get 3 example.com)"

# icap N METHOD REQUEST-LINE: N REQMODs/RESPMODs to m365_bypass; prints
# the number of 204 answers.
icap() {
	icap_client --port "$CPORT" --service m365_bypass --method "$2" \
		--request-line "$3" --repeat "$1" 2>"$T/icap.err" | grep -c '^ICAP/1.0 204'
}
check_eq "a: c-icap: 4 REQMOD GET http://outlook.office365.com/: 204 each" 4 \
	"$(icap 4 REQMOD 'GET http://outlook.office365.com/ HTTP/1.1')"
check_eq "a: c-icap: 3 REQMOD CONNECT teams.microsoft.com:443: 204 each" 3 \
	"$(icap 3 REQMOD 'CONNECT teams.microsoft.com:443 HTTP/1.1')"
check_eq "a: c-icap: 5 REQMOD GET http://example.com/: 204 each" 5 \
	"$(icap 5 REQMOD 'GET http://example.com/ HTTP/1.1')"
check_eq "a: c-icap: 2 RESPMOD GET http://www.office.com/: 204 each" 2 \
	"$(icap 2 RESPMOD 'GET http://www.office.com/ HTTP/1.1')"
check_eq "a: c-icap: 2 REQMOD GET http://bad..host/: 204 each" 2 \
	"$(icap 2 REQMOD 'GET http://bad..host/ HTTP/1.1')"

if scrape "$MDIR" "$T/a.prom"; then
	ok "a: m365ctl metrics reads the shared file"
else
	not_ok "a: m365ctl metrics reads the shared file" "$(cat "$T/a.prom.err")"
fi
check_eq "a: squid lookups by verdict/category/service" \
	"err/Default/Common=2 err/none/none=3 ok/Allow/Skype=4 ok/Optimize/Exchange=5 ok/Optimize/SharePoint=2" \
	"$(nonzero_lookups "$T/a.prom" squid)"
check_eq "a: icap lookups by verdict/category/service" \
	"err/Default/Common=2 err/none/none=7 ok/Allow/Skype=3 ok/Optimize/Exchange=4" \
	"$(nonzero_lookups "$T/a.prom" icap)"
check_eq "a: invalid destinations: squid 0, icap 2" "0 2" \
	"$(val "$T/a.prom" 'm365_bypass_invalid_requests_total{frontend="squid",reason="destination"}') $(val "$T/a.prom" 'm365_bypass_invalid_requests_total{frontend="icap",reason="destination"}')"
check_eq "a: latency counts (_count and +Inf bucket) equal the lookups: squid 16, icap 16" "16 16 16 16" \
	"$(val "$T/a.prom" 'm365_bypass_lookup_duration_seconds_count{frontend="squid"}') $(val "$T/a.prom" 'm365_bypass_lookup_duration_seconds_bucket{frontend="squid",le="+Inf"}') $(val "$T/a.prom" 'm365_bypass_lookup_duration_seconds_count{frontend="icap"}') $(val "$T/a.prom" 'm365_bypass_lookup_duration_seconds_bucket{frontend="icap",le="+Inf"}')"
check_eq "a: no lookups without a list" "0 0" \
	"$(val "$T/a.prom" 'm365_bypass_lookups_without_list_total{frontend="squid"}') $(val "$T/a.prom" 'm365_bypass_lookups_without_list_total{frontend="icap"}')"
kids=$(cicap_children "$CD" | grep -c .)
check_eq "a: m365_bypass_processes: squid = 3 helpers, icap = $kids c-icap children" "3 $kids" \
	"$(val "$T/a.prom" 'm365_bypass_processes{frontend="squid"}') $(val "$T/a.prom" 'm365_bypass_processes{frontend="icap"}')"
check_eq "a: list loaded, bundled version 2025120100 in every process" "1 1 3 $kids" \
	"$(val "$T/a.prom" 'm365_bypass_list_loaded{frontend="squid"}') $(val "$T/a.prom" 'm365_bypass_list_loaded{frontend="icap"}') $(val "$T/a.prom" 'm365_bypass_list_version{frontend="squid",version="2025120100"}') $(val "$T/a.prom" 'm365_bypass_list_version{frontend="icap",version="2025120100"}')"
check_eq "a: no warning about metrics in Squid's cache.log or c-icap's log" "" \
	"$(grep -h 'metrics:' "$T/squid/cache.log" "$CD/server.log" "$CD/cicap.out" 2>/dev/null)"

# --- b. a helper and a c-icap child killed --------------------------------------------
victim=$(squid_helpers | head -n 1)
kill -9 "$victim"
_i=0
while { [ "$(squid_helpers | grep -c .)" -lt 3 ] || squid_helpers | grep -qx "$victim"; } && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check_eq "b: a helper killed (-9): Squid runs 3 again, without it" "3 0" \
	"$(squid_helpers | grep -c .) $(squid_helpers | grep -cx "$victim")"
scrape "$MDIR" "$T/b1.prom"
check_eq "b: no counter series went backwards or away (the dead helper's counts kept)" "" \
	"$(backwards "$T/a.prom" "$T/b1.prom")"
check_eq "b: squid lookups unchanged after the kill" "$(nonzero_lookups "$T/a.prom" squid)" \
	"$(nonzero_lookups "$T/b1.prom" squid)"
check_eq "b: Squid: 2 more GETs to outlook.office365.com (200)" 200 "$(get 2 outlook.office365.com)"
scrape "$MDIR" "$T/b2.prom"
check_eq "b: ... counted on top: ok/Optimize/Exchange 5 -> 7, _count 16 -> 18" "7 18" \
	"$(lk "$T/b2.prom" squid ok Optimize Exchange) $(val "$T/b2.prom" 'm365_bypass_lookup_duration_seconds_count{frontend="squid"}')"
check_eq "b: processes{squid} 3 after the restart" 3 "$(val "$T/b2.prom" 'm365_bypass_processes{frontend="squid"}')"
check_eq "b: still no series went backwards" "" "$(backwards "$T/b1.prom" "$T/b2.prom")"

ckids=$(cicap_children "$CD" | sort -n)
cvictim=$(printf '%s\n' "$ckids" | head -n 1)
kill -9 "$cvictim"
_i=0
while { [ "$(cicap_children "$CD" | grep -c .)" -lt "$kids" ] ||
	cicap_children "$CD" | grep -qx "$cvictim"; } && [ $_i -lt 150 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check_eq "b: a c-icap child killed (-9): c-icap runs $kids children again, without it" "$kids 0" \
	"$(cicap_children "$CD" | grep -c .) $(cicap_children "$CD" | grep -cx "$cvictim")"
# the new child's slot is taken in its CHILD_START: give it a moment
_i=0
while scrape "$MDIR" "$T/b3.prom" &&
	[ "$(val "$T/b3.prom" 'm365_bypass_processes{frontend="icap"}')" != "$kids" ] && [ $_i -lt 50 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check_eq "b: processes{icap} $kids after c-icap's restart" "$kids" "$(val "$T/b3.prom" 'm365_bypass_processes{frontend="icap"}')"
check_eq "b: no counter series went backwards after the c-icap kill" "" "$(backwards "$T/b2.prom" "$T/b3.prom")"
check_eq "b: icap lookups unchanged after the kill" "$(nonzero_lookups "$T/a.prom" icap)" \
	"$(nonzero_lookups "$T/b3.prom" icap)"
check_eq "b: c-icap: 3 more REQMODs to outlook.office365.com (204)" 3 \
	"$(icap 3 REQMOD 'GET http://outlook.office365.com/ HTTP/1.1')"
scrape "$MDIR" "$T/b4.prom"
check_eq "b: ... counted on top: icap ok/Optimize/Exchange 4 -> 7" 7 "$(lk "$T/b4.prom" icap ok Optimize Exchange)"
check_eq "b: no series went backwards" "" "$(backwards "$T/b3.prom" "$T/b4.prom")"
check_eq "b: no sanitizer report from c-icap" "" "$(cicap_asan_reports "$CD")"

# --- d (end). the helper without a list --------------------------------------------
check_eq "d: no list: the helper answers ERR message=\"no list loaded\"" \
	'ERR message="no list loaded"' "$(drv ask "$T/nolist" outlook.office365.com 443 -)"
if scrape "$T/m-nolist" "$T/d.prom"; then
	check_eq "d: list_loaded{squid} 0, processes{squid} 1, lookups_without_list_total{squid} 1" "0 1 1" \
		"$(val "$T/d.prom" 'm365_bypass_list_loaded{frontend="squid"}') $(val "$T/d.prom" 'm365_bypass_processes{frontend="squid"}') $(val "$T/d.prom" 'm365_bypass_lookups_without_list_total{frontend="squid"}')"
else
	not_ok "d: m365ctl metrics" "$(cat "$T/d.prom.err")"
fi
check_match "d: at start, stderr says the list did not load and that every answer is ERR" \
	'^ext_m365_acl: ERROR: .*/nonexistent/endpoints\.json.*; answering ERR until a list loads$' \
	"$(head -n 3 "$T/nolist/err")"
nag='no list loaded: answering ERR to everything'
_now=$(date +%s)
_left=$((d_start + 70 - _now))
[ "$_left" -gt 0 ] || _left=1
nagline=$(drv wait-log "$T/nolist/err" "$nag" --timeout "$_left")
_at=$(($(date +%s) - d_start))
check_eq "d: about a minute later (at ${_at} s) it says \"no list loaded\" again, once" "1 1" \
	"$(grep -c "$nag" "$T/nolist/err") $([ "$_at" -ge 59 ] && [ "$_at" -le 70 ] && echo 1 || echo "at $_at s")"
check_match "d: that line is a warning" '^ext_m365_acl: WARNING: no list loaded' "$nagline"
stop_helper nolist "$NLPID"
check_eq "d: the helper exits 0 at the end of its input" 0 "$hrc"
check_eq "d: no sanitizer report from the helpers run alone" "" \
	"$(cat "$T"/c-*.err "$T"/e*.err "$T"/f*.err "$T/nolist/err" "$T/redis/err" 2>/dev/null | grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error')"

[ "$_failed" -eq 0 ] || diagnostics
finish
