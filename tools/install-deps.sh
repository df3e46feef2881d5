#!/bin/sh
# Installs the Debian 12 packages chatlogd needs to build, test and benchmark.
# libjs-d3 draws the dashboard's charts (chatlogctl serve serves it from its installed
# path); chromium and a Chinese font run the dashboard's browser test.
# Idempotent; run as root. Skips apt entirely when everything is already there.
set -eu

PACKAGES="build-essential cmake pkg-config clang clang-format
libevent-dev libssl-dev ca-certificates libpcre2-dev libhiredis-dev libsystemd-dev libinih-dev zlib1g-dev
libjsmn-dev redis-server redis-tools logrotate systemd procps
libjansson-dev libjson-c-dev mtail prometheus python3 time tzdata
libxlsxwriter-dev python3-openpyxl
libjs-d3 chromium fonts-wqy-microhei curl"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
