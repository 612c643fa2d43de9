#!/bin/sh
# Installs the Debian 12 packages m365-bypass needs to build, test and run,
# when any is missing.  Idempotent; quiet when everything is there.
set -e
PKGS="build-essential pkg-config libjansson-dev libpcre2-dev libhiredis-dev
libcurl4-openssl-dev libssl-dev libcmocka-dev libicapapi-dev c-icap squid-openssl
redis-server curl valgrind python3 apache2-utils procps clang-format man-db
libpsl-dev publicsuffix clang openssl prometheus python3-pacparser
nftables systemd"
missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
