#!/bin/sh
# contrib/squid/run.sh - `make run`: Squid in the foreground on 127.0.0.1:3128
# with the freshly built helper, configured from contrib/squid/squid.conf.
#
# Run from anywhere after `make all`.  Everything Squid writes goes to
# build/run/ (config, passwd, logs, pid).  Environment: PORT (default 3128).
# Ctrl-C stops Squid.
set -e
cd "$(dirname "$0")/../.."
root=$(pwd)
run="$root/build/run"
helper="$root/build/ext_m365_acl"
. "$root/contrib/port.sh"
pick_port 3128 3200 "squid ('systemctl stop squid' frees it)"

if [ ! -x "$helper" ]; then
	echo "run.sh: $helper is missing; run 'make all' first" >&2
	exit 1
fi
mkdir -p "$run"

# Demo user demo/demo.
if command -v htpasswd >/dev/null 2>&1; then
	htpasswd -b -c "$run/passwd" demo demo 2>/dev/null
else
	printf 'demo:%s\n' "$(openssl passwd -apr1 demo)" >"$run/passwd"
fi

# the helpers count into build/run/metrics (m365ctl metrics --metrics ...)
mkdir -p "$run/metrics"
user=""
if [ "$(id -u)" -eq 0 ]; then
	# Squid drops to user proxy: it must be able to write its logs and pid
	# there, read the passwd file and run the helper.
	user=proxy
	chown -R proxy:proxy "$run"
	if ! runuser -u proxy -- test -x "$helper"; then
		echo "run.sh: user proxy cannot run $helper (check the directory permissions)" >&2
		exit 1
	fi
fi

extra="$run/extra.conf"
cat >"$extra" <<'EOF'
# The demo answers on loopback only; caching is pointless for it.
cache deny all
shutdown_lifetime 1 seconds
EOF

sh "$root/contrib/squid/mkconf.sh" --dir "$run" --port "127.0.0.1:$port" \
	--helper "$helper --metrics $run/metrics" --passwd "$run/passwd" ${user:+--user "$user"} \
	--extra "$extra" >"$run/squid.conf"
[ -z "$user" ] || chown -R proxy:proxy "$run"

if ! out=$(squid -k parse -f "$run/squid.conf" 2>&1); then
	printf '%s\n' "$out" | tail -20 >&2
	echo "run.sh: squid -k parse failed for $run/squid.conf" >&2
	exit 1
fi
if printf '%s\n' "$out" | grep -E 'ERROR|WARNING|FATAL'; then
	echo "run.sh: squid -k parse complained about $run/squid.conf" >&2
fi

cat <<EOF
Squid with ext_m365_acl on 127.0.0.1:$port (config: $run/squid.conf)

  # Microsoft 365: allowed without credentials (CONNECT to port 443)
  curl -x http://127.0.0.1:$port -I https://teams.microsoft.com/

  # anything else: 407 Proxy Authentication Required ...
  curl -x http://127.0.0.1:$port -I https://example.com/
  # ... unless you log in as demo/demo
  curl -x http://127.0.0.1:$port -U demo:demo -I https://example.com/

  # what the helper said, per request (m365_category=...)
  tail -f $run/access.log

Ctrl-C to stop.
EOF
exec squid -N -d1 -f "$run/squid.conf"
