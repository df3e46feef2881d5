# Sourced (POSIX sh) by the integration tests that run the live daemon on a log they
# grow: start it, stop it, and append to its log, written once. They use BIN (the
# chatlogd binary), TMP (the test's directory: TMP/chatlogd.conf, TMP/daemon.log,
# TMP/all.jsonl, TMP/logs/chat.jsonl) and DAEMON_PID.

# Starts the daemon on TMP/chatlogd.conf in the background, its log appended to
# TMP/daemon.log; sets DAEMON_PID.
start_daemon() {
	"$BIN" --config "$TMP/chatlogd.conf" 2>>"$TMP/daemon.log" &
	DAEMON_PID=$!
}

# SIGTERM (it flushes, then exits) and waits for it.
stop_daemon() {
	if [ -n "$DAEMON_PID" ]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	DAEMON_PID=
}

# Appends lines [from, to] of TMP/all.jsonl to the live log.
append() {
	sed -n "$1,$2p" "$TMP/all.jsonl" >>"$TMP/logs/chat.jsonl"
}
