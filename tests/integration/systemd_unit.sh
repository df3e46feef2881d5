#!/bin/sh
# The systemd unit and the install rules. Offline, so that it runs where systemd is
# not PID 1 (CI containers): `cmake --install` into a temporary DESTDIR puts every
# file where docs/operations.md says; the installed unit passes `systemd-analyze
# verify` and scores at most 1.5 in `systemd-analyze security --offline=yes`; the
# installed config and patterns load; a reinstall keeps an edited /etc/chatlogd.
# Where systemd is PID 1 (and we are root) it also starts the unit for real: READY,
# watchdog, STATUS, reload, clean stop. Elsewhere it says so and why.
# usage: systemd_unit.sh CHATLOGD SOURCE_DIR   (CHATLOGD at the top of its build tree)
set -u
BIN=$1
SRC=$2
BUILD=$(cd "$(dirname "$BIN")" && pwd)
MAX_SCORE=1.5
TMP=$(mktemp -d)
LIVE_NAME=chatlogd-systemd-test-$$
LIVE_DIR=
cleanup() {
	if [ -n "$LIVE_DIR" ]; then
		systemctl stop "$LIVE_NAME.service" "$LIVE_NAME-redis.service" >/dev/null 2>&1
		systemctl reset-failed "$LIVE_NAME.service" "$LIVE_NAME-redis.service" >/dev/null 2>&1
		rm -f "/run/systemd/system/$LIVE_NAME.service"
		systemctl daemon-reload >/dev/null 2>&1
		rm -rf "$LIVE_DIR" "/var/lib/private/$LIVE_NAME" "/var/lib/$LIVE_NAME"
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # NAME COMMAND...: ok when COMMAND succeeds
	name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }

if [ ! -f "$BUILD/CMakeCache.txt" ] || [ ! -f "$BUILD/cmake_install.cmake" ]; then
	echo "FAIL $BUILD is not the top of a configured build tree"
	exit 1
fi
if ! command -v systemd-analyze >/dev/null; then
	echo "FAIL systemd-analyze not found: install the systemd package (tools/install-deps.sh)"
	exit 1
fi
CMAKE=$(cache_value CMAKE_COMMAND)
PREFIX=$(cache_value CMAKE_INSTALL_PREFIX)
DEST=$TMP/root
echo "build=$BUILD prefix=$PREFIX destdir=$DEST"

# ---- cmake --install puts every file where an admin expects it ----
if DESTDIR=$DEST "$CMAKE" --install "$BUILD" >"$TMP/install.log" 2>&1; then
	ok install_succeeds
else
	fail install_succeeds
	cat "$TMP/install.log"
	exit 1
fi
check binary_in_prefix_bin test -x "$DEST$PREFIX/bin/chatlogd"
if [ -x "$BUILD/chatlogctl" ]; then
	check chatlogctl_in_prefix_bin test -x "$DEST$PREFIX/bin/chatlogctl"
else
	echo "note no chatlogctl in this build, so none is expected in $PREFIX/bin"
fi
check config_in_etc cmp -s "$SRC/systemd/chatlogd.conf" "$DEST/etc/chatlogd/chatlogd.conf"
check patterns_in_etc cmp -s "$SRC/patterns/lost-reasons.conf" \
	"$DEST/etc/chatlogd/lost-reasons.conf"
check shipped_patterns_in_datadir cmp -s "$SRC/patterns/lost-reasons.conf" \
	"$DEST$PREFIX/share/chatlogd/lost-reasons.conf"
check shipped_config_in_datadir cmp -s "$SRC/systemd/chatlogd.conf" \
	"$DEST$PREFIX/share/chatlogd/chatlogd.conf"
for preset in "$SRC"/patterns/formats/*.re; do
	check "format_preset_$(basename "$preset" .re)_in_datadir" cmp -s "$preset" \
		"$DEST$PREFIX/share/chatlogd/formats/$(basename "$preset")"
done
check operations_doc_installed test -f "$DEST$PREFIX/share/doc/chatlogd/operations.md"

# Exactly one unit, in a directory systemd searches for system units.
find "$DEST" -name chatlogd.service -type f >"$TMP/units"
if [ "$(wc -l <"$TMP/units")" -eq 1 ]; then
	ok one_unit_installed
else
	fail one_unit_installed
	cat "$TMP/units"
	exit 1
fi
UNIT=$(cat "$TMP/units")
UNIT_DIR=$(dirname "${UNIT#"$DEST"}")
echo "unit=$UNIT_DIR/chatlogd.service"
check unit_dir_searched_by_systemd sh -c \
	"systemd-analyze unit-paths 2>/dev/null | grep -qx '$UNIT_DIR'"
if [ "$PREFIX" = /usr/local ]; then
	check unit_in_usr_local_lib test "$UNIT_DIR" = /usr/local/lib/systemd/system
	# With the default prefix the installed unit is the source file itself.
	check unit_is_the_source_unit cmp -s "$SRC/systemd/chatlogd.service" "$UNIT"
fi

# ---- the unit: what the issue asks for, pointing at the installed files ----
unit_value() { sed -n "s/^$1=//p" "$UNIT"; }
check exec_start_is_installed_binary test \
	"$(unit_value ExecStart)" = "$PREFIX/bin/chatlogd --config /etc/chatlogd/chatlogd.conf"
check type_notify test "$(unit_value Type)" = notify
check watchdog_set test -n "$(unit_value WatchdogSec)"
check restart_on_failure test "$(unit_value Restart)" = on-failure
# shellcheck disable=SC2016 # $MAINPID is systemd's, not ours
check reload_sends_sighup test "$(unit_value ExecReload)" = '/bin/kill -HUP $MAINPID'
check own_user sh -c "grep -qx 'DynamicUser=yes' '$UNIT' || grep -q '^User=' '$UNIT'"
check protect_system_strict test "$(unit_value ProtectSystem)" = strict
check no_capabilities test "$(unit_value CapabilityBoundingSet)" = ""
check no_new_privileges test "$(unit_value NoNewPrivileges)" = yes
check private_tmp test "$(unit_value PrivateTmp)" = yes
check protect_home test "$(unit_value ProtectHome)" = yes
check address_families test "$(unit_value RestrictAddressFamilies)" = "AF_UNIX AF_INET AF_INET6"
check no_writable_paths_but_state sh -c "! grep -q '^ReadWritePaths=' '$UNIT'"
# The config's default state_dir is the unit's StateDirectory.
"$DEST$PREFIX/bin/chatlogd" --config "$DEST/etc/chatlogd/chatlogd.conf" \
	--set patterns=none --check-config >"$TMP/defaults.conf" 2>&1
check state_dir_is_state_directory test \
	"$(sed -n 's/^state_dir = //p' "$TMP/defaults.conf")" = "/var/lib/$(unit_value StateDirectory)"

# ---- systemd-analyze verify, on the installed unit with its binary present ----
# verify insists that ExecStart's binary exists: point the copy into DESTDIR.
mkdir -p "$TMP/verify" "$TMP/broken"
sed "s|^ExecStart=$PREFIX/bin/|ExecStart=$DEST$PREFIX/bin/|" "$UNIT" >"$TMP/verify/chatlogd.service"
if systemd-analyze verify "$TMP/verify/chatlogd.service" >"$TMP/verify.log" 2>&1 &&
	! grep -q chatlogd "$TMP/verify.log"; then
	ok systemd_analyze_verify
else
	fail systemd_analyze_verify
fi
sed 's/^/    /' "$TMP/verify.log"
# ...and verify does catch a broken unit here (so its silence above means something).
sed "s|^ExecStart=[^ ]*|ExecStart=$TMP/no-such-binary|" "$UNIT" >"$TMP/broken/chatlogd.service"
check verify_catches_missing_binary sh -c \
	"! systemd-analyze verify '$TMP/broken/chatlogd.service' >/dev/null 2>&1"

# ---- systemd-analyze security --offline: the exposure score ----
# --root: the unit as installed, found by name in DESTDIR's unit path, without the
# drop-ins a machine may have in /etc/systemd/system/chatlogd.service.d.
systemd-analyze security --offline=yes --root="$DEST" chatlogd.service >"$TMP/security.log" 2>&1
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$TMP/security.log")
echo "security score=${score:-none} (at most $MAX_SCORE); exposed:"
grep '✗' "$TMP/security.log" | sed 's/  */ /g; s/^/    /'
if [ -n "$score" ] && awk -v s="$score" -v m="$MAX_SCORE" 'BEGIN { exit !(s + 0 <= m + 0) }'; then
	ok "security_score_${score}_at_most_$MAX_SCORE"
else
	fail "security_score_${score:-none}_at_most_$MAX_SCORE"
	cat "$TMP/security.log"
fi

# ---- the installed configuration loads ----
# state_dir and the default patterns path are the real /etc and /var ones; point
# them into DESTDIR and the temporary directory.
run_check_config() { # NAME EXTRA-SETTINGS...
	name=$1
	shift
	if "$DEST$PREFIX/bin/chatlogd" --config "$DEST/etc/chatlogd/chatlogd.conf" \
		--set "patterns=$DEST/etc/chatlogd/lost-reasons.conf" --set "state_dir=$TMP/state" \
		"$@" --check-config >"$TMP/check.out" 2>&1; then
		ok "$name"
	else
		fail "$name"
		cat "$TMP/check.out"
	fi
}
run_check_config installed_config_loads
for preset in "$DEST$PREFIX"/share/chatlogd/formats/*.re; do
	run_check_config "installed_format_$(basename "$preset" .re)_loads" --set "format=regex:$preset"
done
run_check_config shipped_patterns_load --set "patterns=$DEST$PREFIX/share/chatlogd/lost-reasons.conf"
# --check-config does read the patterns: a missing file is exit 2.
"$DEST$PREFIX/bin/chatlogd" --config "$DEST/etc/chatlogd/chatlogd.conf" \
	--set "patterns=$TMP/missing.conf" --check-config >/dev/null 2>&1
check check_config_reads_patterns test $? -eq 2

# ---- a reinstall keeps the administrator's /etc/chatlogd, refreshes the rest ----
echo "input = /var/log/cs/*.jsonl ; edited by the admin" >>"$DEST/etc/chatlogd/chatlogd.conf"
echo "# edited by the admin" >>"$DEST/etc/chatlogd/lost-reasons.conf"
echo "# edited in place" >>"$UNIT"
if DESTDIR=$DEST "$CMAKE" --install "$BUILD" >"$TMP/reinstall.log" 2>&1; then
	ok reinstall_succeeds
else
	fail reinstall_succeeds
	cat "$TMP/reinstall.log"
fi
check reinstall_keeps_config grep -q "edited by the admin" "$DEST/etc/chatlogd/chatlogd.conf"
check reinstall_keeps_patterns grep -q "edited by the admin" "$DEST/etc/chatlogd/lost-reasons.conf"
check reinstall_says_kept grep -q "Keeping: $DEST/etc/chatlogd/chatlogd.conf" "$TMP/reinstall.log"
check reinstall_replaces_unit sh -c "! grep -q 'edited in place' '$UNIT'"

# ---- optional: the real service, where systemd is PID 1 ----
pid1=$(ps -p 1 -o comm= 2>/dev/null || echo unknown)
system_state=$(systemctl is-system-running 2>/dev/null)
if [ "$pid1" != systemd ]; then
	echo "SKIP live_service: PID 1 is '$pid1', not systemd, so no unit can be started here;"
	echo "     checked offline instead: install layout, verify, security score, config load"
elif [ "$(id -u)" -ne 0 ]; then
	echo "SKIP live_service: systemd is PID 1 but starting a system unit needs root"
elif [ "$system_state" != running ] && [ "$system_state" != degraded ]; then
	echo "SKIP live_service: systemd is PID 1 but the system is '$system_state'"
else
	# The installed unit under a unique name, with the installed binary and a private
	# copy of the config. Everything lives under /var/lib: PrivateTmp= hides /tmp
	# and ProtectHome= hides /home and /root from the service.
	LIVE_DIR=$(mktemp -d "/var/lib/$LIVE_NAME.XXXXXX")
	chmod 0755 "$LIVE_DIR"
	mkdir -p "$LIVE_DIR/logs" "$LIVE_DIR/redis"
	cp "$DEST$PREFIX/bin/chatlogd" "$DEST/etc/chatlogd/lost-reasons.conf" "$LIVE_DIR/"
	head -n 500 "$SRC/tools/sample/chat-sample.jsonl" >"$LIVE_DIR/logs/chat.jsonl"
	chmod 0644 "$LIVE_DIR/logs/chat.jsonl" "$LIVE_DIR/lost-reasons.conf"
	chmod 0777 "$LIVE_DIR/redis"
	cat >"$LIVE_DIR/chatlogd.conf" <<EOF
input = $LIVE_DIR/logs/*.jsonl
patterns = $LIVE_DIR/lost-reasons.conf
redis = unix://$LIVE_DIR/redis/redis.sock
instance = systemd-test
state_dir = /var/lib/$LIVE_NAME
http_listen =
EOF
	chmod 0644 "$LIVE_DIR/chatlogd.conf"
	sed -e "s|^ExecStart=.*|ExecStart=$LIVE_DIR/chatlogd --config $LIVE_DIR/chatlogd.conf|" \
		-e "s|^StateDirectory=.*|StateDirectory=$LIVE_NAME|" \
		"$UNIT" >"/run/systemd/system/$LIVE_NAME.service"
	systemctl daemon-reload
	if command -v redis-server >/dev/null; then
		systemd-run --quiet --unit="$LIVE_NAME-redis" redis-server --port 0 \
			--unixsocket "$LIVE_DIR/redis/redis.sock" --unixsocketperm 777 --save '' \
			--appendonly no
	fi
	show() { systemctl show -p "$1" --value "$LIVE_NAME.service"; }
	# Type=notify: start returns once the daemon sent READY=1.
	check live_start_reaches_ready systemctl start "$LIVE_NAME.service"
	check live_watchdog_armed test "$(show WatchdogUSec)" = 30s
	for _ in $(seq 1 50); do
		show StatusText | grep -q "lines=500 .*redis=up" && break
		sleep 0.2
	done
	echo "     status: $(show StatusText)"
	check live_status_reports_lines_and_redis sh -c \
		"systemctl show -p StatusText --value '$LIVE_NAME.service' | grep -q 'lines=500 .*redis=up'"
	check live_state_in_state_directory test -d "/var/lib/private/$LIVE_NAME"
	check live_runs_as_dynamic_user test "$(ps -o user= -p "$(show MainPID)")" != root
	check live_reload systemctl reload "$LIVE_NAME.service"
	for _ in $(seq 1 50); do
		journalctl -q -u "$LIVE_NAME.service" --no-pager | grep -q 'reloaded patterns' && break
		sleep 0.2
	done
	check live_reload_logged sh -c \
		"journalctl -q -u '$LIVE_NAME.service' --no-pager | grep -q 'reloaded patterns'"
	check live_still_active test "$(show ActiveState)" = active
	if journalctl -q -u "$LIVE_NAME.service" --no-pager | grep -q "JIT unavailable"; then
		echo "note PCRE2 JIT was refused under the unit (interpreter in use)"
	else
		echo "note PCRE2 JIT in use under the unit"
	fi
	systemctl stop "$LIVE_NAME.service"
	check live_stop_is_clean test "$(show Result)/$(show ExecMainStatus)" = success/0
	journalctl -q -u "$LIVE_NAME.service" --no-pager | tail -n 5 | sed 's/^/    /'
fi

echo "systemd_unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
