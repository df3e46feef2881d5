#!/bin/sh
# The live daemon against a real redis-server (issue 3's acceptance scenarios): lines
# appended while it runs, kill -9 at random moments, rotation by rename and by
# copytruncate (the real logrotate), Redis stopped for 30 s mid-stream; and issue 8's
# file layouts (one file per shop, per agent, chats apart from orders, a backlog at
# start, a late file, kill -9 with several inputs, a line from the future). In every
# case the Redis day totals must equal `chatlogd --once` over the same lines, field by
# field; with several files, over the files merged as reference.md §2 merges them (layout.py).
# usage: live_redis.sh CHATLOGD SOURCE_DIR [SCENARIO...]
set -u
BIN=$1
SRC=$2
. "$SRC/tests/integration/private_redis.sh"
. "$SRC/tests/integration/private_daemon.sh"
shift 2
SCENARIOS=${*:-"append kill9 rotate rotate_stopped rotate_first_flush outage backfill backfill_streams reload backpressure disk_full wiped damaged redis_lost alerts webhook_stop waiting warning quiet http per_shop per_agent chats_orders backlog late_file kill9_inputs future assessment kill9_windows_changed url_password cluster_refused two_daemons"}
GEN=$(dirname "$BIN")/bench/gen_chatlog
CMP="python3 $SRC/tests/integration/redis_vs_batch.py"
TMP=$(mktemp -d /tmp/chatlogd-live-XXXXXX)
# The shipped rules and the optional whole-inquiry lines (scope inquiry), so that the
# transcripts open inquiries carry are in every snapshot these scenarios restore.
PATTERNS=$TMP/test-patterns.conf
cat "$SRC/patterns/lost-reasons.conf" "$SRC/patterns/whole-inquiry.conf" >"$PATTERNS"
passed=0
failed=0
expected_failures=0
REDIS_PID=
DAEMON_PID=
ROBOT_PID=

cleanup() {
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	[ -n "$ROBOT_PID" ] && kill "$ROBOT_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill -9 "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# The kill -9 moments are random, from one seed printed here: CHATLOGD_TEST_SEED=N
# repeats a run's moments (the machine's speed still moves what they hit).
SEED=${CHATLOGD_TEST_SEED:-$(date +%s)}
echo "seed $SEED (kill -9 moments; CHATLOGD_TEST_SEED=$SEED repeats it)"
pauses=0

# Sleeps 0, 0.1, 0.2 or 0.3 s, the next pause of the seeded sequence.
random_pause() {
	pauses=$((pauses + 1))
	sleep "0.$(awk -v seed="$SEED" -v n="$pauses" 'BEGIN { srand(seed + n); printf "%d", rand() * 4 }')"
}

ok() { passed=$((passed + 1)); echo "ok   $1"; }
xfail() { expected_failures=$((expected_failures + 1)); echo "XFAIL $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

start_redis() {
	private_redis_start "$TMP/redis.sock" "$TMP" --appendonly yes --appendfsync always &&
		return 0
	echo "redis-server did not start"
	cat "$TMP/redis.log"
	return 1
}

stop_redis() {
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

# Log lines stamped a day ahead of the wall clock, so quiet moments of the test (an
# outage, a restart) never let the wall clock close inquiries the next lines continue.
# seal() then appends, for every shop, one record 30 days later (a silent order, which
# batch counts too): each shop's clock (live mode keeps one per shop) passes every
# deadline and everything is decided, as batch mode decides everything at the end. Both are further ahead of the wall clock
# than max_clock_ahead allows by default: every run here sets it to 0 (no limit).
make_log() {
	start_ms=$(( ($(date +%s) + 86400) * 1000 ))
	"$GEN" --seed "$1" --lines "$2" --shops 3 --agents-per-shop 3 --start-ms "$start_ms" \
		--quiet -o "$TMP/all.jsonl"
}

seal() {
	$LAYOUT seal "$TMP/all.jsonl" $(( start_ms / 1000 + 30 * 86400 )) >"$TMP/seal.jsonl"
	cat "$TMP/seal.jsonl" >>"$TMP/all.jsonl"
	cat "$TMP/seal.jsonl" >>"$TMP/logs/chat.jsonl"
}

write_config() {
	cat >"$TMP/chatlogd.conf" <<CONF
input = $TMP/logs/*.jsonl
redis = unix://$TMP/redis.sock
state_dir = $TMP/state
instance = test
flush_interval_ms = 200
wall_clock_lag = 1s
checkpoint_interval = 10s
patterns = $TMP/patterns.conf
log_level = info
http_listen =
max_clock_ahead = 0
CONF
}

# Whether the daemon's last word on Redis is that it is connected (3 s of a still
# sequence alone can be a reconnect backoff, which grows to 5 s).
redis_connected() {
	[ "$(grep -o 'redis connected\|redis disconnected' "$TMP/daemon.log" 2>/dev/null | tail -n 1)" = "redis connected" ]
}

# Waits until the daemon is connected to Redis and the applied sequence there has not
# moved for 3 s.
settle() {
	last=
	same=0
	for _ in $(seq 600); do
		now=$(redis-cli -s "$TMP/redis.sock" get cs:instance:test:seq 2>/dev/null)
		if [ -n "$now" ] && [ "$now" = "$last" ]; then
			same=$((same + 1))
			[ "$same" -ge 15 ] && redis_connected && return 0
		else
			same=0
		fi
		last=$now
		sleep 0.2
	done
	return 1
}

# The batch side: max_clock_ahead as in the daemon's config (0 = none: the test logs
# are stamped ahead of the wall clock on purpose).
BATCH_CLOCK_AHEAD=0
# Settings batch shares with the daemon (a scenario appends them to both); empty: none.
BATCH_CONFIG=

compare() {
	"$BIN" --once ${BATCH_CONFIG:+--config "$BATCH_CONFIG"} --set max_clock_ahead=$BATCH_CLOCK_AHEAD \
		--patterns "$PATTERNS" "${1:-$TMP/all.jsonl}" \
		>"$TMP/batch.json" 2>/dev/null
	$CMP "$TMP/redis.sock" cs "$TMP/batch.json" $CMP_WINDOWS
}

fresh() {
	stop_daemon
	stop_redis
	rm -rf "$TMP/logs" "$TMP/state" "$TMP"/appendonly* "$TMP/daemon.log"
	mkdir -p "$TMP/logs"
	BATCH_CLOCK_AHEAD=0
	BATCH_CONFIG=
	CMP_WINDOWS=
	cp "$PATTERNS" "$TMP/patterns.conf"
	write_config
	start_redis
}

finish() {
	name=$1
	seal
	settle
	stop_daemon
	if compare >"$TMP/cmp.txt" 2>&1; then
		ok "$name: $(tail -n 1 "$TMP/cmp.txt")"
	else
		fail "$name"
		cat "$TMP/cmp.txt"
		tail -n 20 "$TMP/daemon.log"
	fi
}

scenario_append() {
	fresh || return
	make_log 11 20000
	start_daemon
	for i in $(seq 0 19); do
		append $((i * 1000 + 1)) $((i * 1000 + 1000))
		sleep 0.1 # deliberately: the log grows while the daemon runs
	done
	finish "live append (20 chunks, 20000 lines)"
}

scenario_kill9() {
	fresh || return
	make_log 12 30000
	start_daemon
	i=0
	kills=0
	while [ $i -lt 30 ]; do
		append $((i * 1000 + 1)) $((i * 1000 + 1000))
		i=$((i + 1))
		random_pause
		if [ $((i % 3)) -ne 0 ] || [ $kills -lt 20 ]; then
			kill -9 "$DAEMON_PID" 2>/dev/null
			wait "$DAEMON_PID" 2>/dev/null
			kills=$((kills + 1))
			start_daemon
		fi
	done
	finish "kill -9 $kills times during 30000 lines"
}

scenario_rotate() {
	fresh || return
	make_log 13 24000
	cat >"$TMP/logrotate.conf" <<CONF
$TMP/logs/chat.jsonl {
	rotate 5
	missingok
	nocompress
}
CONF
	cat >"$TMP/logrotate-copy.conf" <<CONF
$TMP/logs/chat.jsonl {
	rotate 5
	missingok
	nocompress
	copytruncate
}
CONF
	start_daemon
	for i in $(seq 0 23); do
		append $((i * 1000 + 1)) $((i * 1000 + 1000))
		case $i in
		5 | 11) /usr/sbin/logrotate -f -s "$TMP/lr.state" "$TMP/logrotate.conf" ;;
		8 | 17) /usr/sbin/logrotate -f -s "$TMP/lr.state" "$TMP/logrotate-copy.conf" ;;
		esac
		sleep 0.2 # deliberately: the log grows while the daemon runs
	done
	finish "rotation by rename (2x) and copytruncate (2x) with logrotate"
}

scenario_outage() {
	fresh || return
	make_log 14 20000
	start_daemon
	for i in $(seq 0 19); do
		append $((i * 1000 + 1)) $((i * 1000 + 1000))
		if [ "$i" -eq 6 ]; then
			stop_redis
			sleep "${OUTAGE_SECONDS:-30}" # deliberately: the outage under test
			start_redis
		fi
		sleep 0.1 # deliberately: the log grows while the daemon runs
	done
	finish "redis stopped for ${OUTAGE_SECONDS:-30}s mid-stream"
}

# --once --redis: a backfill applied twice, and one killed mid-way then re-run, each
# leave Redis equal to the batch report.
scenario_backfill() {
	fresh || return
	make_log 15 40000
	seal
	backfill() {
		"$BIN" --once --set max_clock_ahead=0 --redis "unix://$TMP/redis.sock" --set instance=test \
			--patterns "$PATTERNS" "$TMP/all.jsonl" >/dev/null \
			2>>"$TMP/daemon.log"
	}
	if backfill && backfill && compare >"$TMP/cmp.txt" 2>&1; then
		ok "backfill twice: $(tail -n 1 "$TMP/cmp.txt")"
	else
		fail "backfill twice"
		cat "$TMP/cmp.txt"
	fi
	fresh || return
	cp "$TMP/all.jsonl" "$TMP/keep.jsonl"
	make_log 15 40000
	cp "$TMP/keep.jsonl" "$TMP/all.jsonl"
	backfill &
	pid=$!
	sleep 0.3 # deliberately: a moment mid-way through the backfill, not an event
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if backfill && compare >"$TMP/cmp.txt" 2>&1; then
		ok "backfill killed then re-run: $(tail -n 1 "$TMP/cmp.txt")"
	else
		fail "backfill killed then re-run"
		cat "$TMP/cmp.txt"
	fi
}

# --once --redis streams (issue 11): 300,000 lines of 100 (shop, agent) pairs sent in
# cuts of 2,000 by-minute rows with at most 2 batches awaiting Redis. The log says how
# many cuts and the peak in flight; Redis equals the batch report, and every day hash
# equals the sum of its minute hashes. Then a run killed mid-way and re-run with the
# same settings, and one across a Redis restart: equal again.
scenario_backfill_streams() {
	fresh || return
	start_ms=$(( ($(date +%s) + 86400) * 1000 ))
	"$GEN" --seed 11 --lines 300000 --shops 20 --agents-per-shop 5 --start-ms "$start_ms" \
		--quiet -o "$TMP/all.jsonl"
	backfill() {
		"$BIN" --once --set max_clock_ahead=0 --redis "unix://$TMP/redis.sock" --set instance=test \
			--set backfill_cut_rows=2000 --set backfill_max_in_flight=2 \
			--patterns "$PATTERNS" "$TMP/all.jsonl" >/dev/null \
			2>>"$TMP/daemon.log"
	}
	: >"$TMP/daemon.log"
	if ! backfill; then
		fail "streamed backfill: exit status"
		cat "$TMP/daemon.log"
		return
	fi
	summary=$(grep -o 'backfill instance=.*' "$TMP/daemon.log" | tail -n 1)
	cuts=$(echo "$summary" | sed -n 's/.* cuts=\([0-9]*\).*/\1/p')
	peak=$(echo "$summary" | sed -n 's/.* peak_in_flight=\([0-9]*\).*/\1/p')
	if [ "${cuts:-0}" -ge 10 ] && [ "${peak:-99}" -le 2 ] && [ "${peak:-0}" -ge 1 ]; then
		ok "streamed backfill: $cuts cuts, at most $peak batches in flight"
	else
		fail "streamed backfill: cuts=${cuts:-?} peak_in_flight=${peak:-?} (want >= 10, <= 2)"
		echo "$summary"
	fi
	if compare >"$TMP/cmp.txt" 2>&1 && python3 "$SRC/tests/integration/days_vs_minutes.py" \
		"$TMP/redis.sock" cs >>"$TMP/cmp.txt" 2>&1; then
		ok "streamed backfill: $(tail -n 2 "$TMP/cmp.txt" | tr '\n' ' ')"
	else
		fail "streamed backfill: redis differs from batch"
		tail -n 20 "$TMP/cmp.txt"
	fi
	redis-cli -s "$TMP/redis.sock" flushall >/dev/null
	backfill &
	pid=$!
	applied_seq() {
		key=$(redis-cli -s "$TMP/redis.sock" --scan --pattern 'cs:instance:test:backfill:*:seq')
		[ -n "$key" ] && redis-cli -s "$TMP/redis.sock" get "$key"
	}
	for _ in $(seq 400); do # killed once some batches are in
		[ "$(applied_seq)" -ge 10 ] 2>/dev/null && break
		sleep 0.02
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	partial=$(applied_seq)
	if backfill && compare >"$TMP/cmp.txt" 2>&1 &&
		python3 "$SRC/tests/integration/days_vs_minutes.py" "$TMP/redis.sock" cs >>"$TMP/cmp.txt" 2>&1; then
		ok "streamed backfill killed after batch ${partial:-0}, re-run: $(tail -n 2 "$TMP/cmp.txt" | tr '\n' ' ')"
	else
		fail "streamed backfill killed then re-run"
		tail -n 20 "$TMP/cmp.txt"
	fi
	# Redis killed mid-way and back 2 s later (its append-only file keeps what it
	# applied): the batches in flight are sent again, the applied ones skipped.
	redis-cli -s "$TMP/redis.sock" flushall >/dev/null
	: >"$TMP/daemon.log"
	backfill &
	pid=$!
	for _ in $(seq 400); do
		[ "$(applied_seq)" -ge 10 ] 2>/dev/null && break
		sleep 0.02
	done
	kill -9 "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	sleep 2
	start_redis
	if wait "$pid" && grep -q "redis unavailable" "$TMP/daemon.log" && compare >"$TMP/cmp.txt" 2>&1 &&
		python3 "$SRC/tests/integration/days_vs_minutes.py" "$TMP/redis.sock" cs >>"$TMP/cmp.txt" 2>&1; then
		ok "streamed backfill across a Redis restart: $(grep -o 'already_applied=[0-9]*' "$TMP/daemon.log" | tail -n 1), $(tail -n 1 "$TMP/cmp.txt")"
	else
		fail "streamed backfill across a Redis restart"
		grep -v "bad line" "$TMP/daemon.log" | tail -n 5
		tail -n 20 "$TMP/cmp.txt"
	fi
}

# wait_log TEXT: up to 10 s for TEXT in the daemon's log (a busy daemon, ASan).
wait_log() {
	for _ in $(seq 100); do
		grep -qF -- "$1" "$TMP/daemon.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# seq_past N: whether Redis has applied a batch numbered past N.
seq_past() {
	[ "$(redis-cli -s "$TMP/redis.sock" get cs:instance:test:seq 2>/dev/null || echo 0)" -gt "$1" ] 2>/dev/null
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds.
wait_until() {
	tries=$(($1 * 10))
	shift
	for _ in $(seq "$tries"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# http_on: the daemon will serve /metrics and /healthz at 127.0.0.1:$port.
http_on() {
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sed -i "s/^http_listen =.*/http_listen = 127.0.0.1:$port/" "$TMP/chatlogd.conf"
}

# metric SERIES: its value on /metrics (SERIES as written there, labels and all);
# nothing while the daemon does not answer.
metric() {
	curl -s --max-time 2 "http://127.0.0.1:$port/metrics" 2>/dev/null |
		awk -v s="$1" 'substr($0, 1, length(s) + 1) == s " " { print $NF }'
}

# metric_at_least SERIES N: whether SERIES is a whole number >= N.
metric_at_least() {
	v=$(metric "$1")
	[ -n "$v" ] && [ "$v" -ge "$2" ] 2>/dev/null
}

# lines_read FILE N: whether the daemon has read N lines of FILE (for wait_until).
lines_read() {
	metric_at_least "chatlogd_file_lines_read_total{file=\"$1\"}" "$2"
}

# SIGHUP: a broken patterns file keeps the running rules and names FILE:LINE:COLUMN;
# so do a directory and a file over 1 MiB, which start-up refuses too (they loaded as
# no rules and as the first 1 MiB); a good one (the same rules plus a comment) is
# taken, journaled, and survives kill -9. Redis equal to batch with the shipped
# patterns shows the running rules were kept.
scenario_reload() {
	fresh || return
	make_log 16 12000
	start_daemon
	# a SIGHUP before the loop watches it is ignored (the settings are read anyway)
	for _ in $(seq 100); do
		grep -q "started instance" "$TMP/daemon.log" 2>/dev/null && break
		sleep 0.1
	done
	for i in $(seq 0 11); do
		append $((i * 1000 + 1)) $((i * 1000 + 1000))
		case $i in
		3)
			printf 'price 价格 buyer (unclosed\n' >"$TMP/patterns.conf"
			# log_level is taken even though the patterns are refused: the
			# sender's state changes are logged at debug only
			sed -i 's/^log_level = .*/log_level = debug/' "$TMP/chatlogd.conf"
			kill -HUP "$DAEMON_PID"
			# the column points after "(unclosed": 25 characters into the line
			if wait_log "keeping the running patterns: $TMP/patterns.conf:1:25: bad pattern" &&
				wait_log "sender: "; then
				ok "reload with a bad pattern keeps the running set and names FILE:LINE:COLUMN; log_level reloaded"
			else
				fail "reload with a bad pattern"
				tail -n 5 "$TMP/daemon.log"
			fi
			;;
		4)
			rm -f "$TMP/patterns.conf"
			mkdir "$TMP/patterns.conf"
			kill -HUP "$DAEMON_PID"
			if wait_log "keeping the running patterns: $TMP/patterns.conf: Is a directory"; then
				ok "reload of a directory keeps the running set and says why"
			else
				fail "reload of a directory"
				tail -n 5 "$TMP/daemon.log"
			fi
			;;
		5)
			rmdir "$TMP/patterns.conf"
			# the real rules first, then comments past 1 MiB: cut, it would load
			{
				cat "$PATTERNS"
				awk 'BEGIN { for (i = 0; i < 30000; i++) print "# padding padding padding padding padding" }'
			} >"$TMP/patterns.conf"
			kill -HUP "$DAEMON_PID"
			if wait_log "keeping the running patterns: $TMP/patterns.conf: larger than 1048576 bytes"; then
				ok "reload of a file over 1 MiB keeps the running set and says why"
			else
				fail "reload of a file over 1 MiB"
				tail -n 5 "$TMP/daemon.log"
			fi
			;;
		6)
			{ cat "$PATTERNS"; echo "# reloaded"; } >"$TMP/patterns.conf"
			sed -i 's/^log_level = .*/log_level = info/' "$TMP/chatlogd.conf"
			kill -HUP "$DAEMON_PID"
			if wait_log "reloaded patterns="; then
				ok "reload with good patterns is taken"
			else
				fail "reload with good patterns"
			fi
			;;
		8)
			kill -9 "$DAEMON_PID"
			wait "$DAEMON_PID" 2>/dev/null
			start_daemon
			;;
		esac
		sleep 0.1
	done
	finish "reloads and kill -9 after a reload"
}

# Redis down from the start with a small memory cap: reading pauses instead of
# dropping, resumes once Redis takes the backlog, and nothing is lost.
scenario_backpressure() {
	fresh || return
	stop_redis
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sed -i "s/^http_listen =.*/http_listen = 127.0.0.1:$port/" "$TMP/chatlogd.conf"
	echo "max_pending_bytes = ${PENDING_CAP:-1M}" >>"$TMP/chatlogd.conf"
	make_log 17 40000
	start_daemon
	append 1 40000
	if wait_log "reading paused"; then
		ok "memory cap reached with redis down: reading paused"
	else
		fail "memory cap reached with redis down: reading paused"
	fi
	start_redis
	settle
	# The most pending memory has been, from the first line through the cut of the whole
	# backlog once Redis came back: within the cap, give or take what the rest of one
	# read (1/64 of the cap's worth of log) adds once reading is paused. Checked only at
	# flush ticks and with the cut's batches uncounted, it was 16 times the cap here.
	python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
		"http://127.0.0.1:$port/metrics" >"$TMP/metrics.txt" 2>&1
	if python3 - "$TMP/metrics.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def value(name):
    return float(re.search(r"^" + name + r" (\S+)$", text, re.M).group(1))
cap, peak = value("chatlogd_max_pending_bytes"), value("chatlogd_pending_bytes_peak")
print("     pending peak %.0f bytes, %.2f x max_pending_bytes=%.0f" % (peak, peak / cap, cap))
assert peak <= 1.1 * cap, (peak, cap)
PY
	then
		ok "pending memory stays within max_pending_bytes, also when redis comes back"
	else
		fail "pending memory stays within max_pending_bytes"
	fi
	finish "back-pressure released after redis came back"
	if grep -q "reading resumed" "$TMP/daemon.log"; then
		ok "reading resumed"
	else
		fail "reading resumed"
	fi
}

# A snapshot that cannot be written (a full disk: here the file size limit, which
# fails writes as a full disk does, set on the running daemon with prlimit) is warned
# about once, not at every 200 ms flush tick, tried again every 5 s, and said to work
# again in one line; the journal keeps every line meanwhile, so Redis still equals
# batch.
scenario_disk_full() {
	fresh || return
	make_log 27 12000
	# SIGXFSZ would kill it at the limit: ignored, as a write then fails with EFBIG
	(
		trap '' XFSZ
		exec "$BIN" --config "$TMP/chatlogd.conf"
	) 2>>"$TMP/daemon.log" &
	DAEMON_PID=$!
	append 1 10000
	# the first checkpoint after the backlog: the journal starts again empty
	size=0
	for _ in $(seq 300); do
		size=$(stat -c %s "$TMP/state/snapshot" 2>/dev/null || echo 0)
		[ "$size" -gt 100000 ] && [ "$(stat -c %s "$TMP/state/journal")" -lt 1000 ] && break
		sleep 0.1
	done
	prlimit --pid "$DAEMON_PID" --fsize=$((size / 2)):unlimited
	i=10001
	while [ $i -le 11000 ] && [ "$(grep -c 'cannot write .*snapshot' "$TMP/daemon.log")" -eq 0 ]; do
		append $i $((i + 9))
		i=$((i + 10))
		sleep 0.2
	done
	for _ in $(seq 15); do # 3 s: 15 flush ticks
		append $i $((i + 9))
		i=$((i + 10))
		sleep 0.2
	done
	warnings=$(grep -c 'cannot write .*snapshot' "$TMP/daemon.log")
	if [ "$warnings" -eq 1 ]; then
		ok "a snapshot failing at every try is warned about once"
	else
		fail "a snapshot failing at every try is warned about once ($warnings warnings)"
	fi
	prlimit --pid "$DAEMON_PID" --fsize=unlimited
	if wait_log "snapshot written again failed_attempts="; then
		ok "one line when snapshots work again: $(grep -o 'snapshot written again.*' "$TMP/daemon.log")"
	else
		fail "one line when snapshots work again"
	fi
	append $i 12000
	finish "a snapshot failing for seconds loses and doubles nothing"
}

# state_dir wiped while Redis keeps the instance's batches: the fresh daemon refuses
# (counting the files again would count twice); with state_mismatch = count_again it
# continues the sequence and its new counts are applied.
scenario_wiped() {
	fresh || return
	make_log 18 4000
	start_daemon
	append 1 2000
	settle
	stop_daemon
	before=$(redis-cli -s "$TMP/redis.sock" get cs:instance:test:seq)
	msgs_before=$(agent_msgs)
	rm -rf "$TMP/state"
	refused "wiped state_dir" "holds no state of instance=test, but Redis has applied $before"
	# the way out chosen on purpose: count again after Redis's batches
	rm -rf "$TMP/logs/chat.jsonl"
	echo "state_mismatch = count_again" >>"$TMP/chatlogd.conf"
	start_daemon
	append 2001 4000
	settle
	stop_daemon
	after=$(redis-cli -s "$TMP/redis.sock" get cs:instance:test:seq)
	msgs_after=$(agent_msgs)
	if grep -q "continuing after them (state_mismatch = count_again)" "$TMP/daemon.log" &&
		[ "$after" -gt "$before" ] && [ "$msgs_after" -gt "$msgs_before" ]; then
		ok "wiped state_dir with count_again: warned, sequence continued ($before -> $after), new counts applied"
	else
		fail "wiped state_dir with count_again (seq $before -> $after, agent_msgs $msgs_before -> $msgs_after)"
		tail -n 5 "$TMP/daemon.log"
	fi
}

agent_msgs() {
	redis-cli -s "$TMP/redis.sock" eval "local n=0 for _,k in ipairs(redis.call('keys','cs:*:a:[*]:d:*')) do n=n+tonumber(redis.call('hget',k,'agent_msgs') or 0) end return n" 0
}

# refused NAME PATTERN: the daemon exits 1 at start with PATTERN logged at err,
# and Redis is left as it was (nothing counted twice).
refused() {
	seq0=$(redis-cli -s "$TMP/redis.sock" get cs:instance:test:seq)
	msgs0=$(agent_msgs)
	: >"$TMP/refused.log"
	timeout 30 "$BIN" --config "$TMP/chatlogd.conf" 2>"$TMP/refused.log"
	rc=$?
	if [ "$rc" -eq 1 ] && grep "^chatlogd: error: " "$TMP/refused.log" | grep -qF -- "$2" &&
		[ "$(redis-cli -s "$TMP/redis.sock" get cs:instance:test:seq)" = "$seq0" ] &&
		[ "$(agent_msgs)" = "$msgs0" ]; then
		ok "$1: refused with the way out, Redis untouched"
	else
		fail "$1: refused (exit $rc)"
		tail -n 5 "$TMP/refused.log"
	fi
}

# The exact way out of a lost or damaged state, and of Redis losing data
# (docs/operations.md, Recovering): clear the counts, start afresh over every log.
rebuild() {
	stop_daemon
	redis-cli -s "$TMP/redis.sock" flushdb >/dev/null
	rm -rf "$TMP/state"
	start_daemon
	finish "$1"
}

# Damaged state is never silent (issue 8): each kind of damage to state_dir, made
# while the daemon is stopped after some batches were applied, makes it refuse with
# the reason and the way out at err, and leaves Redis as it was. The way out then
# gives Redis equal to batch.
scenario_damaged() {
	fresh || return
	make_log 23 6000
	start_daemon
	append 1 3000
	settle
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	cp -r "$TMP/state" "$TMP/state.good"
	append 3001 4500
	start_daemon
	settle
	stop_daemon
	cp -r "$TMP/state" "$TMP/state.later"
	damage() { # NAME PATTERN COMMAND...: damage a copy of state.later, expect a refusal
		name=$1 pattern=$2
		shift 2
		rm -rf "$TMP/state"
		cp -r "$TMP/state.later" "$TMP/state"
		"$@"
		refused "$name" "$pattern"
	}
	jsize=$(stat -c %s "$TMP/state.good/journal")
	damage "stale copy of state_dir" "it is older than Redis" \
		sh -c "rm -rf '$TMP/state' && cp -r '$TMP/state.good' '$TMP/state'"
	damage "deleted snapshot" "holds no state of instance=test" rm -f "$TMP/state/snapshot"
	damage "deleted journal and snapshot" "holds no state" \
		rm -f "$TMP/state/snapshot" "$TMP/state/journal"
	damage "garbage snapshot" "is corrupt" \
		sh -c "head -c 4096 /dev/urandom >'$TMP/state/snapshot'"
	damage "truncated snapshot" "is corrupt" \
		sh -c "truncate -s 100 '$TMP/state/snapshot'"
	# the journal of the state killed mid-way (a stop leaves an empty one)
	if [ "$jsize" -gt 4096 ]; then
		damage "flipped byte in the middle of the journal" "is corrupt: record" \
			sh -c "rm -rf '$TMP/state' && cp -r '$TMP/state.good' '$TMP/state' &&
			python3 -c 'import sys; p=sys.argv[1]; d=bytearray(open(p,\"rb\").read()); d[len(d)//2]^=0x20; open(p,\"wb\").write(d)' '$TMP/state/journal'"
		damage "journal truncated in the middle" "would count their lines twice" \
			sh -c "rm -rf '$TMP/state' && cp -r '$TMP/state.good' '$TMP/state' &&
			truncate -s $((jsize / 2)) '$TMP/state/journal'"
	else
		fail "damaged: the journal of the killed daemon is too small to damage ($jsize bytes)"
	fi
	rm -rf "$TMP/state.good" "$TMP/state.later"
	append 4501 6000
	rebuild "damaged state: the way out (flush, start afresh) equals batch"
}

# Redis losing data (issue 8): a FLUSHALL while the daemon runs (as a restart without
# persistence would) is detected at the next batch: logged at err, counted on
# /metrics, /healthz degraded with the batches named. The way out equals batch.
scenario_redis_lost() {
	fresh || return
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sed -i "s/^http_listen =.*/http_listen = 127.0.0.1:$port/" "$TMP/chatlogd.conf"
	make_log 29 4000
	start_daemon
	append 1 2000
	settle
	health0=$(curl -s "http://127.0.0.1:$port/healthz")
	redis-cli -s "$TMP/redis.sock" flushall >/dev/null
	append 2001 3000
	settle
	health=$(curl -s "http://127.0.0.1:$port/healthz")
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
	lost=$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "chatlogd_redis_batches_lost_total" { print $2 }')
	if echo "$health0" | grep -q '"status":"ok"' &&
		echo "$health" | grep -q '"status":"degraded".*redis lost batches 1\.\.' &&
		[ "$code" = 503 ] &&
		grep "^chatlogd: error: " "$TMP/daemon.log" | grep -q "redis lost batches seq=1\.\." &&
		[ "${lost:-0}" -gt 0 ]; then
		ok "redis lost data: logged at err, /healthz degraded ($lost batches), /metrics counts it"
	else
		fail "redis lost data (lost: $lost; health: $health0 / $health)"
		grep "lost" "$TMP/daemon.log" | tail -n 3
	fi
	append 3001 4000
	rebuild "redis lost data: the way out (flush, start afresh) equals batch"
}

# A stand-in robot for alert_webhook (tests/integration/webhook_receiver.py) that
# answers its first ${1:-1} posts with 503; its URL goes into the config.
start_robot() {
	rm -f "$TMP/robot.txt" "$TMP/robot.port"
	python3 "$SRC/tests/integration/webhook_receiver.py" "$TMP/robot.txt" "$TMP/robot.port" \
		"${1:-1}" &
	ROBOT_PID=$!
	for _ in $(seq 100); do
		[ -s "$TMP/robot.port" ] && break
		sleep 0.1
	done
	printf 'alert_webhook = http://127.0.0.1:%s/robot/send?access_token=t0ken\n' \
		"$(cat "$TMP/robot.port")" >>"$TMP/chatlogd.conf"
}

stop_robot() {
	[ -n "$ROBOT_PID" ] && kill "$ROBOT_PID" 2>/dev/null && wait "$ROBOT_PID" 2>/dev/null
	ROBOT_PID=
}

# Waits until the robot has answered n posts with status (default 200).
robot_has() {
	for _ in $(seq 150); do
		[ "$(cat "$TMP/robot.txt" 2>/dev/null | grep -c "^${2:-200} ")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# Three inquiries alice answers after 9 s: one frt alert raised.
alice_slow() {
	for k in 0 1 2; do
		t=$(($1 + k * 20))
		printf '{"ts":%s,"shop":"sa","buyer":"b%s","agent":"alice","from":"buyer","text":"在吗"}\n' "$t" "$k"
		printf '{"ts":%s,"shop":"sa","buyer":"b%s","agent":"alice","from":"agent","text":"在的"}\n' $((t + 9)) "$k"
	done
}

# Alerts (reference.md §7) reach a subscriber exactly once: three 9 s first responses raise
# frt (avg 9000 > 6000, 3 samples); a kill -9 and restart send no second raise; when
# event time moves 30 days on, the samples leave the window and the alert expires
# (type "expired": nothing says alice is back, so it is not "cleared").
# The alert webhook (a stand-in robot) gets the same two, once each.
scenario_alerts() {
	fresh || return
	start_robot
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sed -i "s/^http_listen =.*/http_listen = 127.0.0.1:$port/" "$TMP/chatlogd.conf"
	start_ms=$(( ($(date +%s) + 86400) * 1000 ))
	base=$((start_ms / 1000))
	alice_slow "$base" >"$TMP/all.jsonl"
	redis-cli -s "$TMP/redis.sock" subscribe cs:alerts >"$TMP/sub.txt" &
	sub=$!
	start_daemon
	append 1 6
	settle
	robot_has 1
	# /metrics counts the post: delivered at the second attempt
	if python3 -c 'import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
want = ["chatlogd_webhook_posts_delivered_total 1", "chatlogd_webhook_failed_attempts_total 1",
        "chatlogd_webhook_queue_length 0",
        "chatlogd_webhook_posts_dropped_total{reason=\"rejected\"} 0"]
assert all(w in text.splitlines() for w in want), text' "http://127.0.0.1:$port/metrics"; then
		ok "alerts: /metrics shows the webhook post delivered after one failed attempt"
	else
		fail "alerts: webhook metrics"
	fi
	raised=$(redis-cli -s "$TMP/redis.sock" hget 'cs:{sa}:alerts' alice)
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	start_daemon
	seal
	settle
	stop_daemon
	stop_robot
	kill "$sub" 2>/dev/null
	wait "$sub" 2>/dev/null
	grep '^{' "$TMP/sub.txt" >"$TMP/alerts.txt"
	if python3 - "$TMP/alerts.txt" "$base" "$raised" <<'PY'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
base = int(sys.argv[2])
raised = json.loads(sys.argv[3])
assert len(msgs) == 2, msgs
r, c = msgs
want = {"type": "raised", "shop": "sa", "agent": "alice", "metric": "frt", "value_ms": 9000,
        "target_ms": 6000, "samples": 3, "window_s": 300}
assert {k: r[k] for k in want} == want, r
assert r == raised, (r, raised)
assert c["type"] == "expired" and c["metric"] == "frt" and c["agent"] == "alice", c
assert c["samples"] == 0 and c["value_ms"] == 0, c
PY
	then
		ok "alerts: subscriber got exactly raised then expired; active hash held the raise"
	else
		fail "alerts"
		cat "$TMP/sub.txt"
	fi
	if [ "$(redis-cli -s "$TMP/redis.sock" xlen cs:alerts:log)" = 2 ] &&
		[ "$(redis-cli -s "$TMP/redis.sock" hlen 'cs:{sa}:alerts')" = 0 ]; then
		ok "alerts: stream has both, active hash empty after the clear"
	else
		fail "alerts: stream/hash"
	fi
	# The robot got each alert the subscriber got, once, in order, byte for byte
	# inside the robot message; the first post was retried after its 503; the
	# token never reached the log.
	if python3 - "$TMP/alerts.txt" "$TMP/robot.txt" <<'PY' && ! grep -q t0ken "$TMP/daemon.log"
import json, sys
published = open(sys.argv[1], encoding="utf-8").read().splitlines()
posts = [l.split(" ", 2) for l in open(sys.argv[2], encoding="utf-8").read().splitlines()]
assert all(p[1] == "/robot/send?access_token=t0ken" for p in posts), posts
assert [p[0] for p in posts] == ["503", "200", "200"], posts
assert posts[0][2] == posts[1][2], posts
delivered = [p[2] for p in posts if p[0] == "200"]
assert len(delivered) == len(published) == 2, (delivered, published)
for body, message in zip(delivered, published):
    assert body.endswith(',"alert":' + message + "}"), (body, message)
    b = json.loads(body)
    assert b["msgtype"] == "text" and b["alert"] == json.loads(message), b
    title = {"raised": "告警", "expired": "告警失效"}[b["alert"]["type"]]
    assert b["text"]["content"].startswith("【chatlogd】" + title + "：店铺 sa 客服 alice "), b
PY
	then
		ok "alerts: the webhook got raised then expired, as published, once each (first post retried)"
	else
		fail "alerts: webhook"
		cat "$TMP/robot.txt"
		grep webhook "$TMP/daemon.log"
	fi
}

# SIGTERM while the alert's post waits 4 s for its fourth attempt (the robot failed
# three): the stop retries it at once and delivers it before exiting, well within 2 s.
scenario_webhook_stop() {
	fresh || return
	start_robot 3
	http_on
	start_ms=$(( ($(date +%s) + 86400) * 1000 ))
	start_daemon
	alice_slow $((start_ms / 1000)) >>"$TMP/logs/chat.jsonl"
	robot_has 3 503
	# the daemon has taken the third 503 and waits to try again
	wait_until 10 metric_at_least chatlogd_webhook_failed_attempts_total 3 ||
		fail "webhook_stop: /metrics never counted the three failed attempts"
	stopped=$(date +%s%N)
	stop_daemon
	took_ms=$(( ($(date +%s%N) - stopped) / 1000000 ))
	stop_robot
	if [ "$(cut -c1-3 "$TMP/robot.txt" | tr '\n' ' ')" = "503 503 503 200 " ] &&
		[ "$took_ms" -lt 3000 ] && ! grep -q "not delivered" "$TMP/daemon.log"; then
		ok "webhook_stop: the stop delivered the waiting post at once (exit after ${took_ms} ms)"
	else
		fail "webhook_stop (exit after ${took_ms} ms)"
		cat "$TMP/robot.txt"
		grep webhook "$TMP/daemon.log"
	fi
}

# Logs gone quiet: the windows end at the wall clock (minus wall_clock_lag), not at
# the last line's time, so a minute with traffic leaves the 1m window of an idle
# shop. The lines are in the minute before the wall clock's (ts 3-10 s before it).
scenario_quiet() {
	fresh || return
	# a poll on the wall clock: the lines are dated by it, mid-minute
	while [ $(($(date +%s) % 60)) -lt 12 ] || [ $(($(date +%s) % 60)) -gt 50 ]; do
		sleep 1
	done
	now=$(date +%s)
	last=$((now - now % 60 - 3))
	: >"$TMP/all.jsonl"
	printf '{"ts":%s,"shop":"sq","buyer":"b1","agent":"alice","from":"buyer","text":"在吗"}\n' \
		$((last - 7)) >>"$TMP/all.jsonl"
	printf '{"ts":%s,"shop":"sq","buyer":"b1","agent":"alice","from":"agent","text":"在的"}\n' \
		"$last" >>"$TMP/all.jsonl"
	start_daemon
	append 1 2
	settle
	stop_daemon
	as_of=$(redis-cli -s "$TMP/redis.sock" hget 'cs:{sq}:a:alice:w:1m' as_of)
	m1=$(redis-cli -s "$TMP/redis.sock" hlen 'cs:{sq}:a:alice:w:1m')
	m5=$(redis-cli -s "$TMP/redis.sock" hget 'cs:{sq}:a:alice:w:5m' agent_msgs)
	as_of_minute=$(($(date -d "$as_of" +%s) / 60))
	if [ "$m1" = 1 ] && [ "$m5" = 1 ] && [ "$as_of_minute" -gt $((last / 60)) ] &&
		$CMP "$TMP/redis.sock" cs - >"$TMP/cmp.txt" 2>&1; then
		ok "quiet logs: windows slid to the wall clock (as_of $as_of; 1m empty, 5m holds the reply)"
	else
		fail "quiet logs: as_of=$as_of 1m fields=$m1 5m agent_msgs=$m5"
		cat "$TMP/cmp.txt"
	fi
}

# A buyer kept waiting past 6 s by the wall clock: one "waiting" alert, at once.
scenario_waiting() {
	fresh || return
	redis-cli -s "$TMP/redis.sock" subscribe cs:alerts >"$TMP/sub.txt" &
	sub=$!
	# shop sc is closed all week: its buyer waits without an alert
	printf '[shop sc]\nservice_hours = off\n' >>"$TMP/chatlogd.conf"
	start_daemon
	printf '{"ts":%s,"shop":"sw","buyer":"bw","agent":"bob","from":"buyer","text":"在吗"}\n' \
		"$(date +%s)" >>"$TMP/logs/chat.jsonl"
	printf '{"ts":%s,"shop":"sc","buyer":"bc","agent":"bob","from":"buyer","text":"在吗"}\n' \
		"$(date +%s)" >>"$TMP/logs/chat.jsonl"
	wait_until 15 grep -q '"type":"waiting"' "$TMP/sub.txt"
	# deliberately 1 s more: a wrong second alert (shop sc) would come by then
	sleep 1
	stop_daemon
	kill "$sub" 2>/dev/null
	wait "$sub" 2>/dev/null
	if grep '^{' "$TMP/sub.txt" | python3 -c '
import json, sys
msgs = [json.loads(l) for l in sys.stdin]
assert len(msgs) == 1, msgs
m = msgs[0]
assert (m["type"], m["shop"], m["agent"], m["buyer"], m["metric"], m["target_ms"]) == \
    ("waiting", "sw", "bob", "bw", "frt", 6000), m
assert 6000 < m["value_ms"] < 9000, m
'; then
		ok "waiting: one alert for a buyer kept waiting past 6 s by the wall clock, none outside service hours"
	else
		fail "waiting"
		cat "$TMP/sub.txt"
	fi
}

# warn_at (issue 10): a buyer waiting 3 s of the 6 s target gives a `warning`, then
# past the target the `waiting` alert, each once, within moments of the deadline.
scenario_warning() {
	fresh || return
	echo "warn_at = 3000" >>"$TMP/chatlogd.conf"
	redis-cli -s "$TMP/redis.sock" subscribe cs:alerts >"$TMP/sub.txt" &
	sub=$!
	# shop sc is closed all week: its buyer waits without an alert
	printf '[shop sc]\nservice_hours = off\n' >>"$TMP/chatlogd.conf"
	start_daemon
	printf '{"ts":%s,"shop":"sw","buyer":"bw","agent":"bob","from":"buyer","text":"在吗"}\n' \
		"$(date +%s)" >>"$TMP/logs/chat.jsonl"
	printf '{"ts":%s,"shop":"sc","buyer":"bc","agent":"bob","from":"buyer","text":"在吗"}\n' \
		"$(date +%s)" >>"$TMP/logs/chat.jsonl"
	wait_until 15 grep -q '"type":"waiting"' "$TMP/sub.txt"
	# deliberately 1 s more: a wrong second alert (shop sc) would come by then
	sleep 1
	stop_daemon
	kill "$sub" 2>/dev/null
	wait "$sub" 2>/dev/null
	if grep '^{' "$TMP/sub.txt" | python3 -c '
import json, sys
msgs = [json.loads(l) for l in sys.stdin]
assert [m["type"] for m in msgs] == ["warning", "waiting"], msgs
w, b = msgs
assert (w["buyer"], w["target_ms"], b["target_ms"]) == ("bw", 6000, 6000), msgs
assert 3000 < w["value_ms"] < 4200 and 6000 < b["value_ms"] < 7200, msgs
'; then
		ok "warning: a warning at warn_at, then the waiting alert past the target"
	else
		fail "warning"
		cat "$TMP/sub.txt"
	fi
}

# /metrics passes promtool and shows what was read; /healthz answers; other paths 404.
scenario_http() {
	fresh || return
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sed -i "s/^http_listen =.*/http_listen = 127.0.0.1:$port/" "$TMP/chatlogd.conf"
	echo "metrics_per_agent = on" >>"$TMP/chatlogd.conf"
	make_log 19 3000
	# odd matches of the pattern: warned about once each and counted, not degrading
	mkdir "$TMP/logs/archive.jsonl"
	ln -s nowhere.jsonl "$TMP/logs/gone.jsonl"
	start_daemon
	append 1 3000
	settle
	get() { python3 -c 'import sys, urllib.request
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5); print(r.status); sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)' "http://127.0.0.1:$port$1"; }
	get /metrics >"$TMP/metrics.txt"
	tail -n +2 "$TMP/metrics.txt" >"$TMP/metrics.prom"
	"$BIN" --once --set max_clock_ahead=0 --patterns "$TMP/patterns.conf" "$TMP/all.jsonl" >"$TMP/batch.json" 2>/dev/null
	if [ "$(head -n 1 "$TMP/metrics.txt")" = 200 ] &&
		promtool check metrics <"$TMP/metrics.prom" >"$TMP/promtool.txt" 2>&1 &&
		python3 - "$TMP/metrics.prom" "$TMP/batch.json" <<'PY'
import json, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
batch = json.load(open(sys.argv[2], encoding="utf-8"))
def value(name):
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", text, re.M)
    assert m, name
    return float(m.group(1))
assert value("chatlogd_records_total") == batch["input"]["records"]
assert value("chatlogd_parse_errors_total") == batch["input"]["errors"]
assert value("chatlogd_input_lines_total") == batch["input"]["lines"]
assert value("chatlogd_redis_connected") == 1
assert value("chatlogd_skipped_paths_total") == 2
# every agent's first-response count equals the batch report's
for shop, s in batch["shops"].items():
    for agent, c in s["agents"].items():
        n = c.get("first_responses", 0)
        if n:
            pat = r'^chatlogd_agent_first_response_seconds_count\{shop="%s",agent="%s"\} (\d+)$' % (
                re.escape(shop), re.escape(agent))
            m = re.search(pat, text, re.M)
            assert m and int(m.group(1)) == n, (shop, agent, n)
# every shop's business counters are there; those already final (the log is not
# sealed: inquiries still open count later) equal the report's shop totals
for shop, s in batch["shops"].items():
    t = s["totals"]
    for field in ("inquiries", "post_sale", "replied", "no_reply", "first_response_breaches",
                  "response_breaches", "ordered_inquiries", "paid_inquiries", "sales_yuan",
                  "lost_inquiries"):
        pat = r'^chatlogd_shop_%s_total\{shop="%s"\} \S+$' % (field, re.escape(shop))
        assert re.search(pat, text, re.M), (shop, field)
    pat = r'^chatlogd_shop_replied_total\{shop="%s"\} (\d+)$' % re.escape(shop)
    m = re.search(pat, text, re.M)
    assert m and int(m.group(1)) == t.get("replied", 0), (shop, "replied", t.get("replied", 0))
    pat = r'^chatlogd_shop_first_responses_total\{shop="%s"\} (\d+)$' % re.escape(shop)
    m = re.search(pat, text, re.M)
    assert m and int(m.group(1)) == t.get("first_responses", 0), (shop, "first_responses")
PY
	then
		ok "/metrics passes promtool check metrics and matches the batch counts"
	else
		fail "/metrics"
		cat "$TMP/promtool.txt"
		head -n 30 "$TMP/metrics.txt"
	fi
	if [ "$(get /healthz | head -n 1)" = 200 ] && get /healthz | grep -q '"redis":"up"' &&
		[ "$(get /nothing | head -n 1)" = 404 ]; then
		ok "/healthz is 200 with redis up; unknown paths are 404"
	else
		fail "/healthz"
	fi
	if [ "$(grep -c 'skipped file=.*/archive.jsonl reason=a directory' "$TMP/daemon.log")" = 1 ] &&
		[ "$(grep -c 'skipped file=.*/gone.jsonl reason=dangling symlink' "$TMP/daemon.log")" = 1 ]; then
		ok "a directory and a dangling symlink matching the input are warned about once each"
	else
		fail "odd inputs warned about once"
		grep skipped "$TMP/daemon.log"
	fi
	stop_daemon
}

# ---- issue 8: several inputs merged by ts (reference.md §2) ----

# layout.py: shifts, splits and merges logs for the layouts below.
cat >"$TMP/layout.py" <<'PY'
"""layout.py shift ALL DAYS | first ALL | shops ALL | pick ALL SHOP IN OUT | seal ALL TS |
             append ALL FROM TO KEY DIR | merge OUT FILE...

shift: moves every ts of ALL by DAYS whole days (in place), as epoch numbers.
append: appends lines FROM..TO (1-based; TO 0: creates the files, empty) of ALL to
  DIR/<file by KEY>, where KEY is
  shop, agent or kind (order/pay to a-orders.jsonl, first in glob order; messages
  to b-chats.jsonl). Lines that are not records go to a file of their own.
merge: writes FILEs merged as reference.md §2 merges inputs: repeatedly the
  smallest ts among the files' next records, ties to the file given first; lines
  that are not records (errors, blanks) are kept at the end.
"""
import datetime, decimal, hashlib, json, os, re, sys

RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)$")


def parse(raw):
    try:
        rec = json.loads(raw.decode("utf-8"), parse_float=decimal.Decimal)
        ts = rec["ts"]
    except Exception:
        return None, None
    if isinstance(ts, (int, decimal.Decimal)) and not isinstance(ts, bool):
        return rec, int(decimal.Decimal(ts) * 1000)
    m = RFC3339.match(ts) if isinstance(ts, str) else None
    if not m:
        return None, None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    off = 0 if zone in ("Z", "z") else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 60 + int(zone[4:6]))
    dt = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=datetime.timezone(datetime.timedelta(minutes=off)))
    return rec, int(dt.timestamp()) * 1000 + int(((frac or "") + "000")[:3])


def name_for(rec, key):
    if rec is None:
        return "zz-noise.jsonl"
    if key == "kind":
        return "a-orders.jsonl" if rec.get("kind") in ("order", "pay") else "b-chats.jsonl"
    value = rec.get(key) or "none"
    return "%s-%s.jsonl" % (key, hashlib.md5(str(value).encode()).hexdigest()[:8])


cmd = sys.argv[1]
if cmd == "shift":
    path, days = sys.argv[2], int(sys.argv[3])
    out = []
    for raw in open(path, "rb").read().splitlines():
        rec, ts = parse(raw)
        if rec is not None:
            rec["ts"] = "@TS@"
            raw = json.dumps(rec, ensure_ascii=False, separators=(",", ":"), default=str).encode()
            raw = raw.replace(b'"@TS@"', str(decimal.Decimal(ts + days * 86400000) / 1000).encode())
        out.append(raw)
    open(path, "wb").write(b"\n".join(out) + b"\n")
elif cmd == "seal":
    # seal ALL TS: one silent order per shop of ALL at epoch second TS
    shops = sorted({rec.get("shop") or "default" for rec, ts in map(parse, open(sys.argv[2], "rb").read().splitlines()) if rec is not None})
    for shop in shops:
        print(json.dumps({"ts": int(sys.argv[3]), "kind": "order", "shop": shop, "buyer": "end", "amount": "0.01"}, ensure_ascii=False))
elif cmd == "first":
    print(min(ts for rec, ts in map(parse, open(sys.argv[2], "rb").read().splitlines()) if rec is not None))
elif cmd == "shops":
    shops = sorted({rec.get("shop") or "default" for rec, ts in map(parse, open(sys.argv[2], "rb").read().splitlines()) if rec is not None})
    print("\n".join(shops))
elif cmd == "pick":
    # pick ALL SHOP IN OUT: lines of shop SHOP to IN, the others to OUT
    with open(sys.argv[4], "wb") as picked, open(sys.argv[5], "wb") as rest:
        for raw in open(sys.argv[2], "rb").read().splitlines():
            rec, _ = parse(raw)
            (picked if rec is not None and rec.get("shop") == sys.argv[3] else rest).write(raw + b"\n")
elif cmd == "append":
    path, first, last, key, folder = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
    lines = open(path, "rb").read().splitlines()
    if last == 0:  # create every file of the layout, empty
        for raw in lines:
            open(os.path.join(folder, name_for(parse(raw)[0], key)), "ab").close()
    lines = lines[first - 1:last]
    files = {}
    for raw in lines:
        rec, _ = parse(raw)
        files.setdefault(name_for(rec, key), []).append(raw)
    for name, chunk in files.items():
        with open(os.path.join(folder, name), "ab") as f:
            f.write(b"\n".join(chunk) + b"\n")
elif cmd == "merge":
    inputs = []
    for path in sys.argv[3:]:
        inputs.append([parse(raw) + (raw,) for raw in open(path, "rb").read().splitlines()])
    noise = [raw for lines in inputs for (rec, ts, raw) in lines if rec is None]
    inputs = [[x for x in lines if x[0] is not None] for lines in inputs]
    heads = [0] * len(inputs)
    out = []
    while True:
        best = None
        for i, lines in enumerate(inputs):
            if heads[i] < len(lines) and (best is None or lines[heads[i]][1] < inputs[best][heads[best]][1]):
                best = i
        if best is None:
            break
        out.append(inputs[best][heads[best]][2])
        heads[best] += 1
    open(sys.argv[2], "wb").write(b"\n".join(out + noise) + b"\n")
PY
LAYOUT="python3 $TMP/layout.py"

# Appends lines [from, to] of all.jsonl to the layout's files.
append_by() {
	$LAYOUT append "$TMP/all.jsonl" "$1" "$2" "$3" "$TMP/logs"
}

# The bundled sample (two shops, an afternoon), moved to tomorrow (whole days, so
# each line keeps its local day) or by $1 days.
sample_log() {
	cp "$SRC/tools/sample/chat-sample.jsonl" "$TMP/all.jsonl"
	first=$($LAYOUT first "$TMP/all.jsonl")
	days=${1:-$(( ($(date +%s) * 1000 - first) / 86400000 + 1 ))}
	$LAYOUT shift "$TMP/all.jsonl" "$days"
	start_ms=$($LAYOUT first "$TMP/all.jsonl")
}

# Settles, stops, and compares Redis with batch over the log files merged by ts.
finish_merged() {
	name=$1
	[ "${2:-seal}" = seal ] && seal
	settle
	stop_daemon
	# batch over the files as the daemon saw them (glob order), and the same files
	# merged by layout.py into one: the two reports must agree before Redis is judged
	$LAYOUT merge "$TMP/merged.jsonl" $(ls "$TMP"/logs/*.jsonl | sort)
	"$BIN" --once ${BATCH_CONFIG:+--config "$BATCH_CONFIG"} \
		--set max_clock_ahead=$BATCH_CLOCK_AHEAD \
		--patterns "$PATTERNS" $(ls "$TMP"/logs/*.jsonl | sort) \
		>"$TMP/batch-files.json" 2>/dev/null
	late=$(grep -c "late record" "$TMP/daemon.log")
	if compare "$TMP/merged.jsonl" >"$TMP/cmp.txt" 2>&1 &&
		python3 "$SRC/tests/integration/jsoncmp.py" "$TMP/batch-files.json" "$TMP/batch.json" \
			>>"$TMP/cmp.txt" 2>&1; then
		ok "$name: $(grep 'redis matches' "$TMP/cmp.txt") (late warnings: $late)"
	elif [ -n "${3:-}" ]; then
		xfail "$name: $3"
		tail -n 3 "$TMP/cmp.txt"
	else
		fail "$name (late warnings: $late)"
		tail -n 20 "$TMP/cmp.txt"
		tail -n 20 "$TMP/daemon.log"
	fi
}

# The files of layout $1, created empty (before the daemon starts: files that exist,
# as a shop's log does, not files appearing with old lines, which are late).
create_by() {
	append_by 1 0 "$1"
}

# Appends all.jsonl in $2 chunks by layout $1, one chunk every 0.2 s.
feed_by() {
	total=$(wc -l <"$TMP/all.jsonl")
	size=$(( (total + $2 - 1) / $2 ))
	for i in $(seq 0 $(($2 - 1))); do
		append_by $((i * size + 1)) $((i * size + size)) "$1"
		sleep 0.2
	done
}

# One file per shop (README's `input = /var/log/cs/*.jsonl`): the bundled sample.
scenario_per_shop() {
	fresh || return
	sample_log
	create_by shop
	start_daemon
	feed_by shop 10
	finish_merged "one file per shop (the sample, 2 shops, 6000 lines in 10 chunks)"
}

# One file per agent; buyer messages without an agent in a file of their own.
scenario_per_agent() {
	fresh || return
	make_log 21 12000
	create_by agent
	start_daemon
	feed_by agent 12
	finish_merged "one file per agent ($(ls "$TMP/logs" | wc -l) files, 12000 lines)"
}

# Chats apart from orders, the orders file first in glob order: orders must still
# find the inquiries written before them in event time.
scenario_chats_orders() {
	fresh || return
	make_log 22 12000
	create_by kind
	start_daemon
	feed_by kind 12
	finish_merged "chats apart from orders, orders file matched first (12000 lines)"
}

# Three days of backlog in one file per shop, all written before the start.
scenario_backlog() {
	fresh || return
	sample_log 0
	cp "$TMP/all.jsonl" "$TMP/day.jsonl"
	: >"$TMP/all.jsonl"
	for d in 0 1 2; do
		cp "$TMP/day.jsonl" "$TMP/d.jsonl"
		$LAYOUT shift "$TMP/d.jsonl" "$d"
		cat "$TMP/d.jsonl" >>"$TMP/all.jsonl"
	done
	append_by 1 "$(wc -l <"$TMP/all.jsonl")" shop
	start_daemon
	finish_merged "backlog of 3 days in one file per shop at start (18000 lines)" noseal
}

# A file with another shop's older lines dropped into the glob while running. Its
# records are late (the other shops are past them) and counted so; the engine keeps
# a clock per shop, so the late shop is still counted exactly as batch counts it.
scenario_late_file() {
	fresh || return
	make_log 23 12000
	$LAYOUT pick "$TMP/all.jsonl" "$($LAYOUT shops "$TMP/all.jsonl" | head -n 1)" \
		"$TMP/late.jsonl" "$TMP/others.jsonl"
	cp "$TMP/others.jsonl" "$TMP/all.jsonl"
	create_by shop
	http_on
	start_daemon
	feed_by shop 8
	cp "$TMP/late.jsonl" "$TMP/logs/late-shop.jsonl"
	cat "$TMP/late.jsonl" >>"$TMP/all.jsonl" # for seal's list of shops
	# read whole before seal's lines, which would put its shop's clock 30 days on
	wait_until 15 lines_read "$TMP/logs/late-shop.jsonl" "$(wc -l <"$TMP/late.jsonl")" ||
		fail "late file: not read within 15 s"
	finish_merged "a late file of another shop dropped into the glob"
	if [ "$late" -gt 0 ]; then
		ok "late file: its records were counted late ($late warnings)"
	else
		fail "late file: no record was counted late"
	fi
}

# kill -9 at random moments while several inputs grow.
scenario_kill9_inputs() {
	fresh || return
	make_log 24 15000
	create_by shop
	start_daemon
	kills=0
	for i in $(seq 0 14); do
		append_by $((i * 1000 + 1)) $((i * 1000 + 1000)) shop
		random_pause
		if [ $((i % 2)) -eq 0 ]; then
			kill -9 "$DAEMON_PID" 2>/dev/null
			wait "$DAEMON_PID" 2>/dev/null
			kills=$((kills + 1))
			start_daemon
		fi
	done
	finish_merged "kill -9 $kills times with one file per shop (15000 lines)"
}

# A line stamped in 9999 and one an hour ahead, with the default max_clock_ahead: both
# counted as errors, neither moves a clock; the rest (the sample, in the past, one file
# per shop, read as a backlog) equals batch, which refuses the same lines.
scenario_future() {
	fresh || return
	sed -i '/^max_clock_ahead/d' "$TMP/chatlogd.conf"
	BATCH_CLOCK_AHEAD=5m
	sample_log 0
	append_by 1 3000 shop
	f=$(ls "$TMP"/logs/shop-*.jsonl | head -n 1)
	printf '{"ts":"9999-01-01T00:00:00Z","shop":"future","buyer":"b9","from":"buyer","text":"在吗"}\n' >>"$f"
	printf '{"ts":%s,"shop":"future","buyer":"b1","from":"buyer","text":"在吗"}\n' $(($(date +%s) + 3600)) >>"$f"
	append_by 3001 6000 shop
	start_daemon
	finish_merged "a line from 9999 and one an hour ahead: errors that move nothing" noseal
	if [ "$(grep -c 'too far ahead of the wall clock' "$TMP/daemon.log")" = 2 ] &&
		[ "$(redis-cli -s "$TMP/redis.sock" exists 'cs:{future}:agents')" = 0 ]; then
		ok "future: both lines logged as errors with file and line; shop future never reached Redis"
	else
		fail "future: errors"
		grep 'too far ahead' "$TMP/daemon.log"
	fi
}

# Issue 8, rotated while stopped: the daemon stopped (SIGTERM) across two logrotate
# renames, with a 300-line file written between them; then killed before its first
# flush across a rename and a copytruncate. Every line is read once, in order, and
# nothing is reported lost.
rotate_conf() {
	cat >"$TMP/logrotate.conf" <<CONF
$TMP/logs/chat.jsonl {
	rotate 5
	missingok
	nocompress
}
CONF
	cat >"$TMP/logrotate-copy.conf" <<CONF
$TMP/logs/chat.jsonl {
	rotate 5
	missingok
	nocompress
	copytruncate
}
CONF
}

no_loss_reported() {
	if grep -q 'lines are lost\|may be lost' "$TMP/daemon.log"; then
		fail "$1: a loss was reported"
		grep 'lost' "$TMP/daemon.log"
	else
		ok "$1: no loss reported"
	fi
}

scenario_rotate_stopped() {
	fresh || return
	make_log 25 6000
	rotate_conf
	start_daemon
	append 1 2000
	settle
	stop_daemon
	append 2001 2500
	/usr/sbin/logrotate -f -s "$TMP/lr.state" "$TMP/logrotate.conf"
	append 2501 2800
	/usr/sbin/logrotate -f -s "$TMP/lr.state" "$TMP/logrotate.conf"
	append 2801 4000
	start_daemon
	append 4001 6000
	finish "stopped across two logrotate renames (the middle file of 300 lines)"
	no_loss_reported "stopped across two renames"
}

scenario_rotate_first_flush() {
	fresh || return
	make_log 26 5000
	rotate_conf
	sed -i 's/^flush_interval_ms = .*/flush_interval_ms = 60000/' "$TMP/chatlogd.conf"
	# no alerts either: they make a cut at once (docs/operations.md)
	echo "alert_min_samples = 1000000" >>"$TMP/chatlogd.conf"
	http_on
	start_daemon
	append 1 1500
	wait_until 15 lines_read "$TMP/logs/chat.jsonl" 1500 ||
		fail "first flush: the lines were not read within 15 s"
	kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	if [ -n "$(redis-cli -s "$TMP/redis.sock" get cs:instance:test:seq)" ]; then
		fail "first flush: a batch reached Redis before the kill"
	fi
	append 1501 1800
	/usr/sbin/logrotate -f -s "$TMP/lr.state" "$TMP/logrotate.conf"
	append 1801 2134
	/usr/sbin/logrotate -f -s "$TMP/lr.state" "$TMP/logrotate-copy.conf"
	append 2135 3000
	sed -i 's/^flush_interval_ms = .*/flush_interval_ms = 200/' "$TMP/chatlogd.conf"
	start_daemon
	append 3001 5000
	finish "killed before its first flush, then a rename and a copytruncate"
	no_loss_reported "killed before its first flush"
}

# window_writes = changed under kill -9: only changed windows are written, and a cut
# rebuilt from a snapshot must split as it was cut (the snapshot keeps which changed),
# so counts stay exactly once and every window still equals its minutes.
scenario_kill9_windows_changed() {
	fresh || return
	echo "window_writes = changed" >>"$TMP/chatlogd.conf"
	CMP_WINDOWS=--windows-changed
	make_log 13 20000
	start_daemon
	i=0
	kills=0
	while [ $i -lt 20 ]; do
		append $((i * 1000 + 1)) $((i * 1000 + 1000))
		i=$((i + 1))
		random_pause # deliberately: a kill -9 moment from the printed seed
		kill -9 "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
		kills=$((kills + 1))
		start_daemon
	done
	finish "window_writes = changed, kill -9 $kills times during 20000 lines"
	# killed with cuts in its journal, then started with the other setting: refused
	# with the way out, not rebuilt split otherwise; started as before it goes on
	before=$(redis-cli -s "$TMP/redis.sock" get cs:instance:test:seq)
	start_daemon
	append 1 0
	# a cut made since the start is in the journal: Redis has applied a newer seq
	wait_until 15 seq_past "$before" || fail "window_writes changed: no cut after the restart"
	kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	sed -i 's/^window_writes = changed$/window_writes = every_flush/' "$TMP/chatlogd.conf"
	if timeout 20 "$BIN" --config "$TMP/chatlogd.conf" 2>"$TMP/refused.log" &&
		false; then :; fi
	if grep -q "made with window_writes = changed" "$TMP/refused.log"; then
		ok "window_writes changed after a crash: refused with the way out"
	else
		fail "window_writes changed after a crash"
		tail -n 5 "$TMP/refused.log"
	fi
}

# The assessment counters (hours_responses(_3m), slow_responses, returning(_ordered))
# with service hours, a shop with hours of its own, and the sample's earlier orders
# (1 to 6 days before) split by post_sale_window = 3d into post-sale and returning:
# Redis equals batch on them as on every counter, and they are not all zero.
scenario_assessment() {
	fresh || return
	sample_log
	BATCH_CONFIG=$TMP/assessment.conf
	cat >"$BATCH_CONFIG" <<CONF
assessment_counters = on
post_sale_window = 3d
returning_window = 30d
slow_response = 20s
service_hours = 09:00-18:00
[shop 李宁官方旗舰店]
service_hours = mon-fri 13:00-15:00
CONF
	cp "$TMP/chatlogd.conf" "$TMP/daemon-only.conf"
	cat "$TMP/daemon-only.conf" "$BATCH_CONFIG" >"$TMP/chatlogd.conf"
	create_by shop
	start_daemon
	feed_by shop 10
	finish_merged "assessment counters and service hours (the sample per shop)"
	python3 - "$TMP/batch.json" <<'PY' || fail "assessment counters: some are zero in batch"
import json, sys
totals = json.load(open(sys.argv[1]))["totals"]
want = ("hours_responses", "hours_responses_3m", "slow_responses", "returning", "returning_ordered")
print("  batch totals:", {k: totals.get(k, 0) for k in want + ("responses", "inquiries")})
sys.exit(0 if all(totals.get(k, 0) > 0 for k in want) and
         totals["hours_responses"] < totals["responses"] else 1)
PY
}

# A password written in the redis URL is used (AUTH against a TCP redis-server that
# requires it) and never logged: the start-up line names the endpoint, not the URL.
scenario_url_password() {
	fresh || return
	pw=url-pw-4f1c9e
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --port "$port" --bind 127.0.0.1 --requirepass "$pw" --save "" \
		--daemonize no >"$TMP/redis-pw.log" 2>&1 &
	pw_redis=$!
	private_redis_wait "$pw_redis" -p "$port" -a "$pw" --no-auth-warning
	sed -i "s|^redis = .*|redis = redis://:$pw@127.0.0.1:$port/0|" "$TMP/chatlogd.conf"
	start_daemon
	if wait_log "redis connected" && ! grep -q -- "$pw" "$TMP/daemon.log" &&
		grep -q 'redis="tcp host=127.0.0.1 port='"$port"' db=0 auth=password"' "$TMP/daemon.log"; then
		ok "a password in the redis URL authenticates and is not logged"
	else
		fail "a password in the redis URL authenticates and is not logged"
		cat "$TMP/daemon.log"
	fi
	stop_daemon
	kill "$pw_redis" 2>/dev/null && wait "$pw_redis" 2>/dev/null
	write_config
}

# A Redis Cluster node given as one server (redis_cluster = off, the default) is
# refused by name: the one-shot run gives up at once with exit 1, the live daemon says
# why and /healthz is not ok. Before, --once --redis failed with MOVED and the live
# daemon said nothing. (A cluster itself: tests/integration/cluster.sh.)
scenario_cluster_refused() {
	fresh || return
	cport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cbus=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$TMP/cluster"
	redis-server --port "$cport" --cluster-port "$cbus" --bind 127.0.0.1 --cluster-enabled yes \
		--cluster-config-file "$TMP/cluster/nodes.conf" --dir "$TMP/cluster" --save "" \
		--daemonize no >"$TMP/cluster/redis.log" 2>&1 &
	cluster_redis=$!
	private_redis_wait "$cluster_redis" -p "$cport"
	"$BIN" --once --redis "redis://127.0.0.1:$cport/0" "$SRC/tools/sample/chat-sample.jsonl" \
		>/dev/null 2>"$TMP/cluster/once.err"
	once_rc=$?
	http_on
	sed -i "s|^redis = .*|redis = redis://127.0.0.1:$cport/0|" "$TMP/chatlogd.conf"
	start_daemon
	wait_log "Redis Cluster node"
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
	if [ "$once_rc" = 1 ] && grep -q "Redis Cluster node" "$TMP/cluster/once.err" &&
		grep -q "Redis Cluster node" "$TMP/daemon.log" && [ "$code" != 200 ] &&
		[ "$(redis-cli -p "$cport" dbsize)" = 0 ]; then
		ok "a Redis Cluster node: --once --redis exits 1 and live says why (healthz $code), nothing written"
	else
		fail "a Redis Cluster node is refused by name (once exit $once_rc, healthz $code)"
		cat "$TMP/cluster/once.err" "$TMP/daemon.log"
	fi
	stop_daemon
	kill "$cluster_redis" 2>/dev/null && wait "$cluster_redis" 2>/dev/null
	write_config
}

# Two daemons on one log (issue 11): the shops are the first one's (cs:{SHOP}:instance),
# so Redis leaves them out of the second one's batches, which says so once a minute;
# Redis counts every line once and equals the batch report. Without the claim the day
# hashes held every line twice and the windows whichever daemon wrote last.
scenario_two_daemons() {
	fresh || return
	make_log 31 6000
	append 1 3000
	start_daemon
	first=$DAEMON_PID
	wait_until 20 seq_past 0 || fail "two daemons: the first one published nothing"
	sed -e "s|^instance = .*|instance = second|" -e "s|^state_dir = .*|state_dir = $TMP/state2|" \
		"$TMP/chatlogd.conf" >"$TMP/second.conf"
	"$BIN" --config "$TMP/second.conf" 2>"$TMP/second.log" &
	second=$!
	for _ in $(seq 100); do
		grep -q 'instance test publishes cs:{.*}:instance' "$TMP/second.log" && break
		sleep 0.1
	done
	append 3001 6000
	DAEMON_PID=$first
	seal
	settle
	kill "$second" 2>/dev/null && wait "$second" 2>/dev/null
	stop_daemon
	# left out at every flush (200 ms) for seconds, said once a minute
	said=$(grep -c 'shop(s) out of batch' "$TMP/second.log")
	if grep -q 'one daemon per shop' "$TMP/second.log" && [ "$said" = 1 ] &&
		compare >"$TMP/cmp.txt" 2>&1; then
		ok "two daemons on one log: the second one's shops left out and said, every line counted once: $(tail -n 1 "$TMP/cmp.txt")"
	else
		fail "two daemons on one log (said $said times)"
		cat "$TMP/cmp.txt"
		tail -n 5 "$TMP/second.log"
	fi
	rm -rf "$TMP/state2"
}

for s in $SCENARIOS; do
	"scenario_$s"
done
echo "$passed passed, $failed failed, $expected_failures expected failures"
[ "$failed" -eq 0 ]
