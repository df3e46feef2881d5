#!/bin/sh
# The README's first command: installs what chatlogd needs, builds it, and runs the
# main job on an embedded default: a private redis-server, the live daemon following
# a copy of the bundled sample log (an afternoon of two Tmall shops, moved to end 15
# minutes ago), the per-agent scoreboard, and the dashboard in the browser
# (chatlogctl serve on 127.0.0.1), whose URL it prints last. Run as root on Debian 12.
# Everything runs in a temporary directory. From a terminal the demo stays up until
# Ctrl-C; without one (a script, CI) it is stopped at once. QUICKSTART_WAIT=1 or 0
# decides instead. Pass your own log files to see their scoreboard instead.
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
SERVE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
	rm -rf "$DEMO"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

# The dashboard: on 127.0.0.1:9188, or a free port when that one is taken.
start_dashboard() {
	"$BUILD/chatlogctl" --redis "unix://$DEMO/redis.sock" serve --listen "$1" \
		>"$DEMO/serve.out" 2>"$DEMO/serve.log" &
	SERVE_PID=$!
	for _ in $(seq 50); do
		URL=$(sed -n 's|^chatlogctl serve: \(http://[^ ]*\).*|\1|p' "$DEMO/serve.out")
		[ -n "$URL" ] && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	SERVE_PID=
	return 1
}
URL=
start_dashboard 127.0.0.1:9188 || start_dashboard 127.0.0.1:0 || true
echo
if [ -z "$URL" ]; then
	echo "The dashboard did not start:"
	sed 's/^/  /' "$DEMO/serve.log"
	exit 1
fi
echo "The dashboard of the sample shops (scoreboard, the day minute by minute, lost reasons,"
echo "live alerts), read from the same Redis:"
echo
echo "  Dashboard: $URL"
echo
if ! curl -sf -o /dev/null "${URL}api/overview"; then
	echo "(the dashboard does not answer; its log: $DEMO/serve.log)"
fi
wait_demo=${QUICKSTART_WAIT:-}
if [ -z "$wait_demo" ]; then
	if [ -t 0 ]; then wait_demo=1; else wait_demo=0; fi
fi
if [ "$wait_demo" = 1 ]; then
	echo "The demo keeps running (Redis, chatlogd, the dashboard) until you press Ctrl-C."
	echo "chatlogd follows $DEMO/logs/chat.jsonl: lines appended there show within a second."
	echo "From another machine: ssh -L 9188:127.0.0.1:9188 this-host, then the URL above."
	while kill -0 "$SERVE_PID" 2>/dev/null && kill -0 "$DAEMON_PID" 2>/dev/null; do
		sleep 1
	done
else
	echo "(No terminal: the demo stops now. Run tools/quickstart.sh in a terminal to keep it up,"
	echo " or QUICKSTART_WAIT=1.)"
fi
