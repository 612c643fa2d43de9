#!/bin/sh
# tools/install_host.sh SYSUSERS_CONF - what `make install` does on the
# host itself (DESTDIR empty) beside copying files: the system user
# m365-bypass of the updater, and the directories of
# contrib/tmpfiles.d/m365-bypass.conf at once rather than at the next
# boot.  Idempotent; it changes nothing an earlier run made.
set -e
USER_NAME=m365-bypass
STATE=/var/lib/m365-bypass

if ! getent passwd "$USER_NAME" >/dev/null; then
	if command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers "$1"
	elif command -v adduser >/dev/null 2>&1; then
		adduser --system --group --home "$STATE" --no-create-home \
			--gecos "m365-bypass list updater" "$USER_NAME"
	else
		useradd --system --user-group --home-dir "$STATE" \
			--shell /usr/sbin/nologin "$USER_NAME"
	fi
fi

# An updater that ran with DynamicUser=yes left its state in
# /var/lib/private/m365-bypass behind a symlink: move it back, as systemd
# itself would.
if [ -L "$STATE" ] && [ -d /var/lib/private/m365-bypass ]; then
	rm "$STATE"
	mv /var/lib/private/m365-bypass "$STATE"
	chown -R "$USER_NAME:$USER_NAME" "$STATE"
fi
install -d -m 0755 -o "$USER_NAME" -g "$USER_NAME" "$STATE"

# The directories both front ends write to: proxy and group c-icap, or
# group proxy on a host without c-icap (see the tmpfiles.d file).
owner=root
getent passwd proxy >/dev/null && owner=proxy
group=$owner
getent group c-icap >/dev/null && group=c-icap
for d in "$STATE/cache" /run/m365-bypass; do
	[ -d "$d" ] || install -d -m 2775 -o "$owner" -g "$group" "$d"
done
c=/run/m365-bypass/counters
[ -e "$c" ] || install -m 0664 -o "$owner" -g "$group" /dev/null "$c"
if [ "$group" != c-icap ]; then
	echo "install_host: no group c-icap: $STATE/cache and /run/m365-bypass" \
		"belong to $owner:$group; copy the tmpfiles.d file to" \
		"/etc/tmpfiles.d/ with $owner $group (see its comment)"
fi
