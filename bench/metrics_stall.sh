#!/bin/bash
# bench/metrics_stall.sh: how long a /metrics scrape holds the live daemon's event loop
# (docs/benchmarks.md, "Scale"; issue 11: never more than 10 ms).
#
# Loads STALL_SHOPS x STALL_AGENTS series (one answered buyer each, as bench/scale.sh)
# into a live daemon and a private redis-server on a Unix socket, then, while curl
# fetches /metrics STALL_SCRAPES times, a probe asks /healthz back to back on one
# kept-alive connection: the slowest answer is the longest the loop was held (plus a
# round trip). The same probe without a scrape gives the machine's noise. Prints one
# line per run; nothing is asserted.
#
# Environment: CHATLOGD_BIN (required), STALL_SHOPS (10000), STALL_AGENTS (10),
# STALL_PER_AGENT (off or on), STALL_SCRAPES (3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/integration/private_redis.sh"
BIN=${CHATLOGD_BIN:?set CHATLOGD_BIN to the chatlogd to measure}
SHOPS=${STALL_SHOPS:-10000}
AGENTS=${STALL_AGENTS:-10}
PER_AGENT=${STALL_PER_AGENT:-off}
SCRAPES=${STALL_SCRAPES:-3}
TMP=$(mktemp -d /tmp/chatlogd-stall-XXXXXX)
REDIS_PID=
DAEMON_PID=

cleanup() {
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill -9 "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/logs" "$TMP/state"
private_redis_start "$TMP/redis.sock" "$TMP" || {
	echo "redis-server did not start:" >&2
	cat "$TMP/redis.log" >&2
	exit 1
}
python3 - "$TMP/logs/series.jsonl" "$SHOPS" "$AGENTS" <<'PY'
import json, sys, time
path, shops, agents = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = shops * agents
start = (time.time() - 600) * 1000
with open(path, "w") as out:
    for i in range(n):
        s, a = divmod(i, agents)
        ts = int(start + i * 500000 / n)
        shop, agent, buyer = f"shop{s:05d}", f"agent{a:02d}", f"b{i}"
        for t, who, text in ((ts, "buyer", "在吗"), (ts + 3000, "agent", "在的")):
            out.write(json.dumps({"ts": t / 1000, "shop": shop, "buyer": buyer, "agent": agent,
                                  "from": who, "text": text}, ensure_ascii=False) + "\n")
PY
LINES=$(wc -l <"$TMP/logs/series.jsonl")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$TMP/chatlogd.conf" <<CONF
input = $TMP/logs/*.jsonl
redis = unix://$TMP/redis.sock
state_dir = $TMP/state
instance = stall
http_listen = 127.0.0.1:$PORT
log_level = warning
window_writes = changed
metrics_per_agent = $PER_AGENT
CONF
"$BIN" --config "$TMP/chatlogd.conf" 2>"$TMP/daemon.log" &
DAEMON_PID=$!
for _ in $(seq 3000); do
	got=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^chatlogd_records_total / {print $2}') || true
	[ "$got" = "$LINES" ] && break
	sleep 0.5
done
sleep 3 # the last cut acknowledged

python3 - "$PORT" "$SCRAPES" <<'PY'
import http.client, subprocess, sys, time
port, scrapes = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)

def ask():
    t0 = time.perf_counter()
    conn.request("GET", "/healthz")
    conn.getresponse().read()
    return (time.perf_counter() - t0) * 1000

def probe(seconds=None, child=None):
    times = []
    end = time.perf_counter() + (seconds or 0)
    while (child.poll() is None) if child else time.perf_counter() < end:
        times.append(ask())
    times.sort()
    return times[-1], times[int(len(times) * 0.99)], len(times)

quiet, p99, n = probe(seconds=2)
print(f"no scrape: longest /healthz {quiet:.1f} ms (p99 {p99:.1f}) over {n} requests")
for i in range(scrapes):
    curl = subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
                             f"http://127.0.0.1:{port}/metrics"], stdout=subprocess.PIPE, text=True)
    worst, p99, n = probe(child=curl)
    size, seconds = curl.stdout.read().split()
    print(f"scrape {i + 1}: {int(size) / 1e6:.1f} MB in {float(seconds) * 1000:.0f} ms; "
          f"longest /healthz {worst:.1f} ms (p99 {p99:.1f}) over {n} requests")
PY
echo "$SHOPS shops x $AGENTS agents, metrics_per_agent=$PER_AGENT, $LINES lines, $(basename "$BIN") $("$BIN" --version 2>/dev/null | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
