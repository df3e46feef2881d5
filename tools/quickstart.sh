#!/bin/sh
# The README's first command: installs what chatlogd needs, builds it, and runs the
# main job on an embedded default: a private redis-server, the live daemon following
# a copy of the bundled sample log (an afternoon of two Tmall shops, moved to end 15
# minutes ago), and the per-agent
# scoreboard. Run as root on Debian 12. Everything runs in a temporary directory and
# is stopped at the end. Pass your own log files to see their scoreboard instead.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=$ROOT/build

"$ROOT/tools/install-deps.sh"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target chatlogd chatlogctl >/dev/null

if [ "$#" -gt 0 ]; then
	exec "$BUILD/chatlogd" --once --output table "$@"
fi

SAMPLE=$ROOT/tools/sample/chat-sample.jsonl
DEMO=$(mktemp -d /tmp/chatlogd-demo-XXXXXX)
REDIS_PID=
DAEMON_PID=
cleanup() {
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
	rm -rf "$DEMO"
}
trap cleanup EXIT INT TERM

mkdir -p "$DEMO/logs"
redis-server --port 0 --unixsocket "$DEMO/redis.sock" --dir "$DEMO" --save "" \
	--appendonly no >"$DEMO/redis.log" 2>&1 &
REDIS_PID=$!
cat >"$DEMO/chatlogd.conf" <<CONF
input = $DEMO/logs/*.jsonl
redis = unix://$DEMO/redis.sock
state_dir = $DEMO/state
instance = demo
log_level = warning
CONF
# The sample moved in time to end 15 minutes ago, as if the shops had just closed
# their chats: rolling windows are of the wall clock once the log is quiet, and
# 15 minutes is past session_idle, so every conversation is closed at once. Only the
# "ts" values change (same gaps); bad lines stay as they are.
python3 "$ROOT/tools/shift-sample.py" "$SAMPLE" "$DEMO/logs/chat.jsonl"
"$BUILD/chatlogd" --config "$DEMO/chatlogd.conf" 2>"$DEMO/chatlogd.log" &
DAEMON_PID=$!

# Wait until the daemon's applied batch sequence in Redis has not moved for 2.4 s:
# after the file is read, the first quiet flush ticks close idle inquiries by the
# wall clock (their replied/no_reply counts) and send that too.
last=
same=0
for _ in $(seq 200); do
	sleep 0.3
	now=$(redis-cli -s "$DEMO/redis.sock" get cs:instance:demo:seq 2>/dev/null || true)
	if [ -n "$now" ] && [ "$now" = "$last" ]; then
		same=$((same + 1))
		[ "$same" -ge 8 ] && break
	else
		same=0
	fi
	last=$now
done

echo "chatlogd followed the bundled sample ($SAMPLE)"
echo "and published to a private Redis. The per-agent scoreboard, read from Redis:"
echo
"$BUILD/chatlogctl" --redis "unix://$DEMO/redis.sock" top --window 24h
echo
echo "(lost inquiries are decided when their order window, 1 day, has passed; the batch"
echo " report decides everything at once: $BUILD/chatlogd --once --output table $SAMPLE)"
echo "Rolling counters in Redis, e.g. the whole shop over the last hour:"
key=$(redis-cli -s "$DEMO/redis.sock" --scan --pattern 'cs:{*}:a:[*]:w:1h' | head -n 1)
echo "  redis-cli HGETALL '$key'"
redis-cli -s "$DEMO/redis.sock" hgetall "$key" | paste - - | grep -E \
	'^(inquiries|frt_avg_ms|art_avg_ms|reply_rate|conversion|aov|as_of)\s' | sed 's/^/    /'
