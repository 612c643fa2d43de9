#!/bin/sh
# test_install.sh - `make install` honours PREFIX and DESTDIR, puts the
# helper where Debian's Squid keeps its helpers and the c-icap module in
# c-icap's module directory, and the installed binaries answer from the
# bundled list with no file of the build tree around.
. "$(dirname "$0")/../lib.sh"

D=$(mktemp -d)
on_exit "rm -rf '$D'"
cd "$ROOT" || exit 1
if make --no-print-directory install DESTDIR="$D" PREFIX=/usr >"$D/log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr succeeds"
else
	not_ok "make install" "$(tail -5 "$D/log")"
fi
MODDIR=$(c-icap-config --modulesdir | sed 's#/*$##')
for f in usr/lib/squid/ext_m365_acl usr/bin/m365ctl \
	"${MODDIR#/}/srv_m365_bypass.so" \
	usr/share/man/man8/ext_m365_acl.8 usr/share/man/man8/m365ctl.8 \
	usr/share/man/man8/srv_m365_bypass.8 \
	usr/share/m365-bypass/endpoints-worldwide.json \
	usr/share/m365-bypass/squid.conf.example \
	usr/share/m365-bypass/squid-icap.conf.example \
	usr/share/m365-bypass/c-icap-m365_bypass.conf.example \
	usr/share/m365-bypass/local.list.example \
	usr/lib/systemd/system/m365ctl-update.service \
	usr/lib/systemd/system/m365ctl-update.timer \
	usr/lib/systemd/system/m365ctl-metrics.service \
	usr/lib/systemd/system/m365ctl-export@.service \
	usr/lib/tmpfiles.d/m365-bypass.conf \
	usr/share/m365-bypass/m365-bypass.rules.yml \
	usr/share/m365-bypass/prometheus.yml.example \
	usr/share/m365-bypass/m365-bypass.json; do
	if [ -f "$D/$f" ]; then ok "installed /$f"; else not_ok "installed /$f" "missing"; fi
done
[ -x "$D/usr/lib/squid/ext_m365_acl" ] && ok "the helper is executable" ||
	not_ok "the helper is executable" "mode $(stat -c %a "$D/usr/lib/squid/ext_m365_acl")"
# c-icap's module directory does not move with PREFIX
rm -rf "$D/p" && make --no-print-directory install DESTDIR="$D/p" \
	PREFIX=/opt/m365 >"$D/log2" 2>&1
for f in opt/m365/bin/m365ctl usr/lib/squid/ext_m365_acl \
	"${MODDIR#/}/srv_m365_bypass.so" opt/m365/share/man/man8/srv_m365_bypass.8 \
	opt/m365/lib/tmpfiles.d/m365-bypass.conf \
	opt/m365/share/m365-bypass/m365-bypass.rules.yml; do
	if [ -f "$D/p/$f" ]; then ok "PREFIX=/opt/m365 installs /$f"; else
		not_ok "PREFIX=/opt/m365 installs /$f" "missing"; fi
done
exports=$(nm -D --defined-only "$D/${MODDIR#/}/srv_m365_bypass.so" |
	awk '{ print $3 }' | grep -v '^m365_' | tr '\n' ' ')
check_eq "the module exports only service and m365_*" "service " "$exports"
if man -l "$D/usr/share/man/man8/srv_m365_bypass.8" >/dev/null 2>"$D/man.err" &&
	[ ! -s "$D/man.err" ]; then
	ok "srv_m365_bypass(8) formats without warnings"
else
	not_ok "srv_m365_bypass(8) formats without warnings" "$(head -3 "$D/man.err")"
fi

check_match "the update unit runs the installed m365ctl" \
	'^ExecStart=/usr/bin/m365ctl update' \
	"$(grep '^ExecStart=' "$D/usr/lib/systemd/system/m365ctl-update.service")"
check_eq "the metrics unit runs the installed m365ctl on port 9365" \
	"ExecStart=/usr/bin/m365ctl metrics --listen 0.0.0.0:9365 --metrics /run/m365-bypass --state-dir /var/lib/m365-bypass" \
	"$(grep '^ExecStart=' "$D/usr/lib/systemd/system/m365ctl-metrics.service")"
check_match "the export unit runs the installed m365ctl export --watch" \
	'^ExecStart=/usr/bin/m365ctl export --watch ' \
	"$(grep '^ExecStart=' "$D/usr/lib/systemd/system/m365ctl-export@.service")"
check_match "PREFIX=/opt/m365: the metrics unit runs /opt/m365/bin/m365ctl" \
	'^ExecStart=/opt/m365/bin/m365ctl metrics ' \
	"$(grep '^ExecStart=' "$D/p/opt/m365/lib/systemd/system/m365ctl-metrics.service" 2>&1)"
# the example Prometheus config finds the rules beside it
if command -v promtool >/dev/null 2>&1; then
	mkdir -p "$D/prom"
	cp "$D/usr/share/m365-bypass/prometheus.yml.example" "$D/prom/prometheus.yml"
	cp "$D/usr/share/m365-bypass/m365-bypass.rules.yml" "$D/prom/"
	if out=$(promtool check config "$D/prom/prometheus.yml" 2>&1); then
		ok "the installed Prometheus example and rules pass promtool check config"
	else
		not_ok "the installed Prometheus example and rules pass promtool check config" \
			"$(printf '%s\n' "$out" | tail -3)"
	fi
fi
if command -v systemd-analyze >/dev/null 2>&1; then
	if out=$(systemd-analyze verify --man=no \
		"$ROOT/contrib/systemd/m365ctl-update.timer" \
		"$ROOT/contrib/systemd/m365ctl-metrics.service" \
		"$ROOT/contrib/systemd/m365ctl-export@pac.service" 2>&1 | grep -v 'm365ctl.*not executable\|Command /usr/bin/m365ctl'); [ -z "$out" ]; then
		ok "systemd-analyze verify accepts the units"
	else
		not_ok "systemd-analyze verify accepts the units" "$out"
	fi
fi

# Run the installed copies from an empty directory: the bundled list is
# inside the binaries.
cp "$D/usr/lib/squid/ext_m365_acl" "$D/usr/bin/m365ctl" "$D/" 2>/dev/null
cd "$D" || exit 1
got=$(printf '1 teams.microsoft.com 443 -\n' | ./ext_m365_acl 2>/dev/null)
check_eq "installed helper answers from the bundled list" \
	"1 OK m365_category=Allow m365_service=Skype m365_set=12" "$got"
got=$(./m365ctl lookup outlook.office365.com 443 | head -1)
check_eq "installed m365ctl answers from the bundled list" \
	"OK m365_category=Optimize m365_service=Exchange m365_set=1" "$got"
finish
