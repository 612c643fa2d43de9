#!/bin/sh
# test_install.sh - `make install` honours PREFIX, DESTDIR and
# SQUID_LIBEXEC and lays the files out as on Debian (the helper in
# PREFIX/lib/squid, examples in share/doc/m365-bypass/examples,
# /etc/default/m365-bypass, sysusers.d and tmpfiles.d entries, the
# units); `make uninstall` removes exactly what it put there; the units
# pass systemd-analyze verify and rate 3.0 or better in systemd-analyze
# security; the failure hook runs M365_NOTIFY as documented; the conf.d
# snippet is accepted by Squid; and the installed binaries answer from
# the bundled list with no file of the build tree around.
. "$(dirname "$0")/../lib.sh"

D=$(mktemp -d)
on_exit "rm -rf '$D'"
cd "$ROOT" || exit 1
MODDIR=$(c-icap-config --modulesdir | sed 's#/*$##')
MOD=${MODDIR#/}/srv_m365_bypass.so
UNITS="m365ctl-export@.service m365ctl-metrics.service
m365ctl-update-failure.service m365ctl-update.service m365ctl-update.timer"
EXAMPLES="c-icap-m365_bypass.conf.example local.list.example m365-bypass.json
m365-bypass.rules.yml m365ctl-export-nft.conf m365ctl-export-squid.conf
prometheus.yml.example squid-conf.d-m365-bypass.conf squid-icap.conf.example
squid.conf.example"

# layout PREFIX SQUID_LIBEXEC: the files an install puts under DESTDIR,
# sorted, without the leading slash.
layout() {
	{
		echo "$2/ext_m365_acl" "$1/bin/m365ctl" "$MOD" etc/default/m365-bypass
		for m in ext_m365_acl m365ctl srv_m365_bypass; do
			echo "$1/share/man/man8/$m.8"
		done
		echo "$1/share/m365-bypass/endpoints-worldwide.json"
		for e in $EXAMPLES; do echo "$1/share/doc/m365-bypass/examples/$e"; done
		for u in $UNITS; do echo "$1/lib/systemd/system/$u"; done
		echo "$1/lib/tmpfiles.d/m365-bypass.conf $1/lib/sysusers.d/m365-bypass.conf"
	} | tr ' ' '\n' | sed 's#^/##' | sort
}

# files DIR: the files under DIR, sorted, relative to it.
files() { (cd "$1" && find . -type f | sed 's#^\./##' | sort); }

# install_in DIR MAKEARGS...: make install DESTDIR=DIR MAKEARGS.
install_in() {
	_dir=$1
	shift
	make --no-print-directory install DESTDIR="$_dir" "$@" >"$_dir.log" 2>&1
}

# --- PREFIX=/usr: Debian's places ------------------------------------------------
if install_in "$D/u" PREFIX=/usr; then
	ok "make install DESTDIR=... PREFIX=/usr succeeds"
else
	not_ok "make install" "$(tail -5 "$D/u.log")"
fi
check_eq "PREFIX=/usr installs exactly the Debian layout" \
	"$(layout /usr /usr/lib/squid)" "$(files "$D/u")"
U=$D/u/usr/lib/systemd/system
X=$D/u/usr/share/doc/m365-bypass/examples
[ -x "$D/u/usr/lib/squid/ext_m365_acl" ] && ok "the helper is executable" ||
	not_ok "the helper is executable" "mode $(stat -c %a "$D/u/usr/lib/squid/ext_m365_acl")"
check_eq "units, examples and the defaults file are mode 644" "" \
	"$(find "$U" "$X" "$D/u/etc" -type f ! -perm 644)"

# --- the default PREFIX, /usr/local, and SQUID_LIBEXEC --------------------------
env -u PREFIX -u SQUID_LIBEXEC make --no-print-directory install \
	DESTDIR="$D/l" >"$D/l.log" 2>&1
check_eq "the default PREFIX=/usr/local installs the helper in /usr/local/lib/squid" \
	"$(layout /usr/local /usr/local/lib/squid)" "$(files "$D/l")"
check_match "PREFIX=/usr/local: the conf.d snippet runs /usr/local/lib/squid/ext_m365_acl" \
	' /usr/local/lib/squid/ext_m365_acl --list ' \
	"$(grep '^external_acl_type' "$D/l/usr/local/share/doc/m365-bypass/examples/squid-conf.d-m365-bypass.conf")"
check_match "PREFIX=/usr/local: squid.conf.example runs /usr/local/lib/squid/ext_m365_acl" \
	'%ssl::>sni /usr/local/lib/squid/ext_m365_acl$' \
	"$(grep '^external_acl_type' "$D/l/usr/local/share/doc/m365-bypass/examples/squid.conf.example")"
check_match "PREFIX=/usr/local: the update unit runs /usr/local/bin/m365ctl" \
	'^ExecStart=/usr/local/bin/m365ctl update ' \
	"$(grep '^ExecStart=' "$D/l/usr/local/lib/systemd/system/m365ctl-update.service")"
check_match "PREFIX=/usr/local: the export unit names the examples' directory" \
	'/usr/local/share/doc/m365-bypass/examples' \
	"$(grep 'make install puts' -A1 "$D/l/usr/local/lib/systemd/system/m365ctl-export@.service")"
install_in "$D/p" PREFIX=/opt/m365 SQUID_LIBEXEC=/usr/lib/squid
check_eq "PREFIX=/opt/m365 SQUID_LIBEXEC=/usr/lib/squid: the helper in /usr/lib/squid, the rest under /opt/m365" \
	"$(layout /opt/m365 /usr/lib/squid)" "$(files "$D/p")"
check_match "PREFIX=/opt/m365: the metrics unit runs /opt/m365/bin/m365ctl" \
	'^ExecStart=/opt/m365/bin/m365ctl metrics ' \
	"$(grep '^ExecStart=' "$D/p/opt/m365/lib/systemd/system/m365ctl-metrics.service" 2>&1)"

# every installed path the README's install section names is there
# (/usr/local ones in the default PREFIX's install)
missing=""
for f in $(sed -n '/^## Install/,/^## /p' README.md |
	grep -o '/usr/[a-z0-9/._-]*[a-z0-9/]\|/etc/default/[a-z0-9-]*' | sort -u); do
	[ -e "$D/u$f" ] || [ -e "$D/l$f" ] || missing="$missing $f"
done
check_eq "every installed path in the README's install section exists" "" "$missing"

# --- make uninstall ------------------------------------------------------------
make --no-print-directory uninstall DESTDIR="$D/l" >>"$D/l.log" 2>&1
check_eq "make uninstall (default PREFIX) removes every file install put" "" \
	"$(files "$D/l")"
# a defaults file the admin changed stays
echo 'M365_REDIS=redis://10.0.0.5:6379/0' >>"$D/p/etc/default/m365-bypass"
make --no-print-directory uninstall DESTDIR="$D/p" PREFIX=/opt/m365 \
	SQUID_LIBEXEC=/usr/lib/squid >>"$D/p.log" 2>&1
check_eq "make uninstall PREFIX=/opt/m365 removes all but a changed /etc/default/m365-bypass" \
	"etc/default/m365-bypass" "$(files "$D/p")"
check_eq "make uninstall leaves no directory of its own" "" \
	"$(find "$D/l" "$D/p" -type d -name 'm365-bypass*')"

# --- the module, the man page, Prometheus --------------------------------------
exports=$(nm -D --defined-only "$D/u/$MOD" | awk '{ print $3 }' | grep -v '^m365_' |
	tr '\n' ' ')
check_eq "the module exports only service and m365_*" "service " "$exports"
for m in srv_m365_bypass m365ctl ext_m365_acl; do
	if man -l "$D/u/usr/share/man/man8/$m.8" >/dev/null 2>"$D/man.err" &&
		[ ! -s "$D/man.err" ]; then
		ok "$m(8) formats without warnings"
	else
		not_ok "$m(8) formats without warnings" "$(head -3 "$D/man.err")"
	fi
done
if command -v promtool >/dev/null 2>&1; then
	mkdir -p "$D/prom"
	cp "$X/prometheus.yml.example" "$D/prom/prometheus.yml"
	cp "$X/m365-bypass.rules.yml" "$D/prom/"
	if out=$(promtool check config "$D/prom/prometheus.yml" 2>&1); then
		ok "the installed Prometheus example and rules pass promtool check config"
	else
		not_ok "the installed Prometheus example and rules pass promtool check config" \
			"$(printf '%s\n' "$out" | tail -3)"
	fi
fi

# --- /etc/default, sysusers.d, tmpfiles.d ---------------------------------------
DEF=$D/u/etc/default/m365-bypass
used=$(cat "$U"/*.service | grep -v '^#' | grep -o 'M365_[A-Z_]*' | grep -v M365_EVENT |
	sort -u | tr '\n' ' ')
check_eq "the units read M365_INSTANCE, M365_NOTIFY, M365_PREFIX, M365_REDIS" \
	"M365_INSTANCE M365_NOTIFY M365_PREFIX M365_REDIS " "$used"
missing=""
for v in $used; do grep -q "^#$v=" "$DEF" || missing="$missing $v"; done
check_eq "/etc/default/m365-bypass shows each of them, commented" "" "$missing"
check_eq "/etc/default/m365-bypass sets nothing" "" "$(grep -v '^#' "$DEF" | grep .)"
for u in m365ctl-update.service m365ctl-update-failure.service; do
	check_eq "$u reads /etc/default/m365-bypass" \
		"EnvironmentFile=-/etc/default/m365-bypass" "$(grep '^EnvironmentFile=' "$U/$u")"
done
check_eq "sysusers.d: the system user m365-bypass, at home in /var/lib/m365-bypass" \
	"u m365-bypass /var/lib/m365-bypass" \
	"$(grep '^u' "$D/u/usr/lib/sysusers.d/m365-bypass.conf" | awk '{ print $1, $2, $NF }')"
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$D/sys/etc"
	: >"$D/sys/etc/passwd"
	: >"$D/sys/etc/group"
	systemd-sysusers --root="$D/sys" "$D/u/usr/lib/sysusers.d/m365-bypass.conf" \
		>/dev/null 2>&1
	check_match "systemd-sysusers makes m365-bypass a system user without a shell" \
		'^m365-bypass:x:[1-9][0-9]{0,2}:[0-9]+:[^:]*:/var/lib/m365-bypass:/usr/sbin/nologin$' \
		"$(cat "$D/sys/etc/passwd")"
fi
check_eq "tmpfiles.d: /var/lib/m365-bypass (m365-bypass, 755) and its cache/ (proxy:c-icap, 2775)" \
	"d /var/lib/m365-bypass 0755 m365-bypass m365-bypass
d /var/lib/m365-bypass/cache 2775 proxy c-icap" \
	"$(grep '^d */var/lib' "$D/u/usr/lib/tmpfiles.d/m365-bypass.conf" |
		awk '{ print $1, $2, $3, $4, $5 }')"

# --- the units -----------------------------------------------------------------
check_eq "the update unit runs the installed m365ctl update, as before" \
	'ExecStart=/usr/bin/m365ctl update --instance ${M365_INSTANCE} --redis ${M365_REDIS} --redis-prefix ${M365_PREFIX} --state-dir /var/lib/m365-bypass --notify ${M365_NOTIFY}' \
	"$(grep '^ExecStart=' "$U/m365ctl-update.service")"
# The command line as systemd makes it from the unit's defaults (each
# ${VAR} one argument, M365_NOTIFY empty) is one the built m365ctl takes:
# with Redis down it gets as far as Redis (exit 4), not a usage error (2).
cmd=$(sed -n 's/^ExecStart=//p' "$U/m365ctl-update.service" |
	sed "s#^/usr/bin/m365ctl#'$BUILD/m365ctl'#; s#\${M365_INSTANCE}#Worldwide#;
	s#\${M365_REDIS}#redis://127.0.0.1:$(free_port)/0#; s#\${M365_PREFIX}#m365:#;
	s#\${M365_NOTIFY}#''#; s#/var/lib/m365-bypass#'$D/unit-state'#")
eval "set -- $cmd"
"$@" --timeout 2 >/dev/null 2>"$D/unit.err"
check_eq "the update unit's command line, as systemd makes it, runs (Redis down: 4)" \
	"4 m365ctl update: " "$? $(head -c 16 "$D/unit.err")"
check_eq "the update unit: user m365-bypass, state 0755 world-readable, failure hook" \
	"Group=m365-bypass OnFailure=m365ctl-update-failure.service StateDirectory=m365-bypass StateDirectoryMode=0755 SuccessExitStatus=3 UMask=0022 User=m365-bypass" \
	"$(grep -E '^(User|Group|StateDirectory|StateDirectoryMode|UMask|OnFailure|SuccessExitStatus)=' \
		"$U/m365ctl-update.service" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "no unit but the metrics one uses DynamicUser=" "m365ctl-metrics.service" \
	"$(grep -l '^DynamicUser=yes' "$U"/* | xargs -n1 basename)"
check_eq "the metrics unit runs the installed m365ctl on port 9365" \
	"ExecStart=/usr/bin/m365ctl metrics --listen 0.0.0.0:9365 --metrics /run/m365-bypass --state-dir /var/lib/m365-bypass" \
	"$(grep '^ExecStart=' "$U/m365ctl-metrics.service")"
check_match "the export unit runs the installed m365ctl export --watch" \
	'^ExecStart=/usr/bin/m365ctl export --watch ' \
	"$(grep '^ExecStart=' "$U/m365ctl-export@.service")"

if command -v systemd-analyze >/dev/null 2>&1; then
	# The installed units as they are, but for the m365ctl they run (the
	# one under DESTDIR), with the export's drop-ins for the nft and
	# squid instances as the unit's comment installs them.
	V=$D/verify
	mkdir -p "$V"
	for u in $UNITS; do
		sed "s#/usr/bin/m365ctl#$D/u/usr/bin/m365ctl#g" "$U/$u" >"$V/$u"
	done
	for i in pac nft squid; do cp "$V/m365ctl-export@.service" "$V/m365ctl-export@$i.service"; done
	for i in nft squid; do
		mkdir -p "$V/m365ctl-export@$i.service.d"
		cp "$X/m365ctl-export-$i.conf" "$V/m365ctl-export@$i.service.d/$i.conf"
	done
	if out=$(cd "$V" && systemd-analyze verify --man=no m365ctl-update.service \
		m365ctl-update.timer m365ctl-update-failure.service \
		m365ctl-metrics.service m365ctl-export@pac.service \
		m365ctl-export@nft.service m365ctl-export@squid.service 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify accepts the installed units and the export drop-ins"
	else
		not_ok "systemd-analyze verify accepts the installed units and the export drop-ins" "$out"
	fi
	for u in m365ctl-update.service m365ctl-update-failure.service \
		m365ctl-metrics.service m365ctl-export@pac.service \
		m365ctl-export@nft.service m365ctl-export@squid.service; do
		case $u in
		*@nft* | *@squid*) how="with its drop-in" ;;
		*) how="as installed" ;;
		esac
		e=$(cd "$V" && systemd-analyze security --offline=true "$V/$u" 2>&1 |
			sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\) .*$/\1/p')
		if [ -n "$e" ] && awk -v e="$e" 'BEGIN { exit !(e <= 3.0) }'; then
			ok "systemd-analyze security rates $u $how $e (3.0 or better)"
		else
			not_ok "systemd-analyze security rates $u $how 3.0 or better" "[$e]"
		fi
	done
	# the same through --root, as systemd finds the installed units
	e=$(systemd-analyze security --offline=true --root="$D/u" m365ctl-update.service 2>&1 |
		sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\) .*$/\1/p')
	check_match "systemd-analyze security --root=DESTDIR finds the installed update unit" \
		'^(0|1|2)\.[0-9]$|^3\.0$' "$e"
fi

# --- the failure hook ----------------------------------------------------------
# Its ExecStart, run by sh as systemd would ($$ is $), with a journalctl
# that keeps 60 numbered lines and prints the last -n of them.
mkdir -p "$D/bin"
cat >"$D/bin/journalctl" <<'EOF'
#!/bin/sh
echo "$*" >"$HOOK/journalctl.args"
n=60
prev=
for a; do
	[ "$prev" = -n ] && n=$a
	prev=$a
done
i=$((61 - n))
while [ $i -le 60 ]; do echo "line $i"; i=$((i + 1)); done
EOF
chmod +x "$D/bin/journalctl"
hook=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)'$/\1/p" "$U/m365ctl-update-failure.service" |
	sed 's/\$\$/$/g')
HOOK=$D/hook
mkdir -p "$HOOK"
out=$(HOOK=$HOOK PATH="$D/bin:$PATH" M365_NOTIFY= sh -c "$hook" 2>&1)
check_eq "the failure hook with M365_NOTIFY empty: exit 0, one line in the journal" \
	"0 m365ctl-update.service failed; M365_NOTIFY is empty in /etc/default/m365-bypass: nobody notified" \
	"$? $out"
HOOK=$HOOK PATH="$D/bin:$PATH" \
	M365_NOTIFY='cat >"$HOOK/stdin"; echo "$M365_EVENT" >"$HOOK/event"' sh -c "$hook"
check_eq "the failure hook runs M365_NOTIFY with M365_EVENT=failed" "0 failed" \
	"$? $(cat "$HOOK/event" 2>&1)"
check_eq "M365_NOTIFY reads the updater's last 50 journal lines" \
	"-u m365ctl-update.service -n 50 --no-pager -q|50 line 11 line 60" \
	"$(cat "$HOOK/journalctl.args")|$(wc -l <"$HOOK/stdin") $(head -1 "$HOOK/stdin") $(tail -1 "$HOOK/stdin")"
HOOK=$HOOK PATH="$D/bin:$PATH" M365_NOTIFY='exit 7' sh -c "$hook"
check_eq "a failing M365_NOTIFY fails the unit (logged)" "7" "$?"
out=$(HOOK=$HOOK PATH="$D/bin:$PATH" MONITOR_EXIT_STATUS=1 M365_NOTIFY='exit 7' sh -c "$hook" 2>&1)
check_eq "a refusal (exit 1) is left to update --notify: M365_NOTIFY not run" \
	"0 m365ctl-update.service refused a list: reported with its change report by m365ctl update --notify" \
	"$? $out"

# --- the conf.d snippet --------------------------------------------------------
SNIP=$X/squid-conf.d-m365-bypass.conf
check_eq "the conf.d snippet runs the installed helper on the updater's list" \
	"external_acl_type m365 concurrency=50 ttl=300 children-max=4 %DST %PORT %ssl::>sni /usr/lib/squid/ext_m365_acl --list /var/lib/m365-bypass/endpoints.json" \
	"$(grep '^external_acl_type' "$SNIP")"
check_match "the conf.d snippet's Redis form keeps its cache in /var/lib/m365-bypass/cache/" \
	'--cache /var/lib/m365-bypass/cache/squid\.json$' "$(grep '^#external_acl_type' "$SNIP")"
if command -v squid >/dev/null 2>&1; then
	S=$D/squid
	mkdir -p "$S/conf.d"
	cp "$SNIP" "$S/conf.d/m365-bypass.conf"
	# Debian's own squid.conf, its conf.d include moved here
	if grep -q '^include /etc/squid/conf.d/\*.conf' /etc/squid/squid.conf 2>/dev/null; then
		cp /etc/squid/conf.d/*.conf "$S/conf.d/" 2>/dev/null
		sed "s#^include /etc/squid/conf.d/\*.conf#include $S/conf.d/*.conf#" \
			/etc/squid/squid.conf >"$S/debian.conf"
		confs="debian.conf minimal.conf"
	else
		confs="minimal.conf"
	fi
	printf '%s\n' 'acl localnet src 10.0.0.0/8' "include $S/conf.d/m365-bypass.conf" \
		'http_access deny all' 'http_port 127.0.0.1:3128' >"$S/minimal.conf"
	for c in $confs; do
		if squid -k parse -f "$S/$c" >"$S/$c.out" 2>&1 &&
			grep -q 'Processing: http_access allow localnet m365_bypass' "$S/$c.out" &&
			! grep -Eq 'ERROR|WARNING|FATAL' "$S/$c.out"; then
			ok "squid -k parse accepts the conf.d snippet in $c"
		else
			not_ok "squid -k parse accepts the conf.d snippet in $c" \
				"$(grep -E 'ERROR|WARNING|FATAL' "$S/$c.out" | head -3)"
		fi
	done
fi

# --- make install on the host itself: tools/install_host.sh ---------------------
# In a mount namespace of its own, over a copy of /etc and empty /var/lib
# and /run, so that the machine is left alone; with the state of an
# updater that ran with DynamicUser=yes (in /var/lib/private).
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null && getent passwd proxy >/dev/null &&
	getent group c-icap >/dev/null; then
	mkdir -p "$D/host"
	cp -a /etc "$D/host/etc"
	cat >"$D/host/run.sh" <<EOF
mount --bind "$D/host/etc" /etc && mount -t tmpfs none /var/lib &&
	mount -t tmpfs none /run || exit 1
mkdir -p /var/lib/private/m365-bypass
echo '{}' >/var/lib/private/m365-bypass/endpoints.json
ln -s private/m365-bypass /var/lib/m365-bypass
sh "$ROOT/tools/install_host.sh" "$ROOT/contrib/sysusers.d/m365-bypass.conf" &&
	sh "$ROOT/tools/install_host.sh" "$ROOT/contrib/sysusers.d/m365-bypass.conf" ||
	echo "install_host failed"
getent passwd m365-bypass | cut -d: -f1,6,7
stat -c '%n %F %a %U %G' /var/lib/m365-bypass /var/lib/m365-bypass/endpoints.json \\
	/var/lib/m365-bypass/cache /run/m365-bypass /run/m365-bypass/counters
EOF
	check_eq "install_host.sh (twice): the user, the state moved back from /var/lib/private, the directories" \
		"m365-bypass:/var/lib/m365-bypass:/usr/sbin/nologin
/var/lib/m365-bypass directory 755 m365-bypass m365-bypass
/var/lib/m365-bypass/endpoints.json regular file 644 m365-bypass m365-bypass
/var/lib/m365-bypass/cache directory 2775 proxy c-icap
/run/m365-bypass directory 2775 proxy c-icap
/run/m365-bypass/counters regular empty file 664 proxy c-icap" \
		"$(unshare -m sh "$D/host/run.sh" 2>&1 | grep -v '^Creating ')"
fi

# Run the installed copies from an empty directory: the bundled list is
# inside the binaries.
mkdir -p "$D/run"
cp "$D/u/usr/lib/squid/ext_m365_acl" "$D/u/usr/bin/m365ctl" "$D/run/" 2>/dev/null
cd "$D/run" || exit 1
got=$(printf '1 teams.microsoft.com 443 -\n' | ./ext_m365_acl 2>/dev/null)
check_eq "installed helper answers from the bundled list" \
	"1 OK m365_category=Allow m365_service=Skype m365_set=12" "$got"
got=$(./m365ctl lookup outlook.office365.com 443 | head -1)
check_eq "installed m365ctl answers from the bundled list" \
	"OK m365_category=Optimize m365_service=Exchange m365_set=1" "$got"
finish
