#!/bin/bash
# bench/scale.sh: what a (shop, agent) series costs the live daemon and Redis when there
# are many of them (docs/benchmarks.md, "Scale"; issue 11).
#
# Builds a Release tree (unless CHATLOGD_BIN names a binary), then, against a private
# redis-server on a Unix socket, runs chatlogd live on a log of SCALE_SHOPS x
# SCALE_AGENTS series, each one buyer asking and being answered 3 s later, all within
# the last 10 minutes of the wall clock (so every series is in its windows), and
# measures once everything is in Redis:
#   - daemon RSS, and the live heap per series ((heap - heap of a run with one series) /
#     series, from /metrics' chatlogd_heap_in_use_bytes: RSS also holds what malloc keeps
#     for reuse), for series active in the last 10 minutes and for idle ones (their one
#     chat two days ago);
#   - the idle flush work: Redis commands/s and Redis CPU over SCALE_IDLE_SECONDS with
#     no new line (windows still slide at each minute);
#   - the same while a writer adds 5 lines/s to a few series (work should follow the
#     series that change, not all series seen);
#   - line -> Redis latency (bench/latency_probe, SCALE_PROBES probes, p50 and p99);
#   - /metrics: its size and the time to fetch it;
#   - SIGTERM to exit.
# Nothing is asserted: the table is printed, beside the figures issue 11 reported
# before the work, and written to BENCH_OUT/scale-results.txt.
#
# Environment (all optional):
#   CHATLOGD_BIN          chatlogd to measure (default: build ROOT into BENCH_BUILD)
#   BENCH_BUILD           build directory (default ROOT/build-bench)
#   BENCH_OUT             output directory (default ROOT/bench/out)
#   SCALE_SHOPS           shops (default 10000)
#   SCALE_AGENTS          agents per shop (default 10)
#   SCALE_IDLE_SECONDS    seconds of each flush-work sample (default 20)
#   SCALE_PROBES          latency probes (default 100)
#   SCALE_WINDOW_WRITES   window_writes of the daemon: every_flush (default, the
#                         contract) or changed
#   SCALE_KEEP            1: keep the temporary directory
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/integration/private_redis.sh"
OUT=${BENCH_OUT:-$ROOT/bench/out}
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
SHOPS=${SCALE_SHOPS:-10000}
AGENTS=${SCALE_AGENTS:-10}
IDLE=${SCALE_IDLE_SECONDS:-20}
PROBES=${SCALE_PROBES:-100}
WINDOW_WRITES=${SCALE_WINDOW_WRITES:-every_flush}
mkdir -p "$OUT"
TMP=$(mktemp -d "$OUT/scale-XXXXXX")
REDIS_PID=
DAEMON_PID=
FEED_PID=

cleanup() {
	[ -n "$FEED_PID" ] && kill "$FEED_PID" 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill -9 "$REDIS_PID" 2>/dev/null
	[ "${SCALE_KEEP:-0}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT

note() { printf 'scale: %s\n' "$*" >&2; }

if [ -n "${CHATLOGD_BIN:-}" ]; then
	BIN=$CHATLOGD_BIN
	PROBE=$TMP/latency_probe
	cc -O2 -o "$PROBE" "$ROOT/bench/latency_probe.c" -lhiredis -lm
else
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" --target chatlogd latency_probe >/dev/null
	BIN=$BUILD/chatlogd
	PROBE=$BUILD/bench/latency_probe
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# series_log FILE SHOPS AGENTS [AGE_S]: one answered buyer per (shop, agent), starting
# AGE_S seconds ago (default 600: all within the last 10 minutes).
series_log() {
	python3 - "$1" "$2" "$3" "${4:-600}" <<'PY'
import json, sys, time
path, shops, agents, age = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n = shops * agents
start = (time.time() - age) * 1000
with open(path, "w") as out:
    for i in range(n):
        s, a = divmod(i, agents)
        ts = int(start + i * 500000 / n)
        shop, agent, buyer = f"shop{s:05d}", f"agent{a:02d}", f"b{i}"
        out.write(json.dumps({"ts": ts / 1000, "shop": shop, "buyer": buyer, "agent": agent,
                              "from": "buyer", "text": "在吗"}, ensure_ascii=False) + "\n")
        out.write(json.dumps({"ts": (ts + 3000) / 1000, "shop": shop, "buyer": buyer,
                              "agent": agent, "from": "agent", "text": "在的"},
                             ensure_ascii=False) + "\n")
PY
}

redis_info() { redis-cli -s "$TMP/redis.sock" info "$1" | tr -d '\r'; }
redis_cpu() { redis_info cpu | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.3f", s}'; }
redis_cmds() { redis_info stats | awk -F: '/^total_commands_processed:/ {print $2}'; }
records() {
	curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^chatlogd_records_total / {print $2}'
}

# start_env SHOPS AGENTS [AGE_S]: Redis, the log, the daemon; returns once every line
# is in Redis (records counted and the applied sequence still for 3 s).
start_env() {
	rm -rf "$TMP/env"
	mkdir -p "$TMP/env/logs" "$TMP/env/state"
	private_redis_start "$TMP/redis.sock" "$TMP/env" || {
		echo "redis-server did not start:" >&2
		cat "$TMP/env/redis.log" >&2
		exit 1
	}
	series_log "$TMP/env/logs/series.jsonl" "$1" "$2" "${3:-600}"
	LINES=$(wc -l <"$TMP/env/logs/series.jsonl")
	PORT=$(free_port)
	cat >"$TMP/env/chatlogd.conf" <<CONF
input = $TMP/env/logs/*.jsonl
redis = unix://$TMP/redis.sock
state_dir = $TMP/env/state
instance = scale
http_listen = 127.0.0.1:$PORT
log_level = warning
window_writes = $WINDOW_WRITES
CONF
	local t0
	t0=$(date +%s.%N)
	"$BIN" --config "$TMP/env/chatlogd.conf" 2>"$TMP/env/daemon.log" &
	DAEMON_PID=$!
	for _ in $(seq 3000); do
		[ "$(records 2>/dev/null)" = "$LINES" ] && break
		sleep 0.2
	done
	local last= same=0
	for _ in $(seq 3000); do
		now=$(redis-cli -s "$TMP/redis.sock" get cs:instance:scale:seq)
		if [ -n "$now" ] && [ "$now" = "$last" ]; then
			same=$((same + 1))
			[ "$same" -ge 15 ] && break
		else
			same=0
		fi
		last=$now
		sleep 0.2
	done
	LOAD_S=$(echo "$(date +%s.%N) - $t0" | bc)
}

stop_env() {
	local t0
	t0=$(date +%s.%N)
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	STOP_S=$(echo "$(date +%s.%N) - $t0" | bc)
	DAEMON_PID=
	kill -9 "$REDIS_PID" 2>/dev/null || true
	wait "$REDIS_PID" 2>/dev/null || true
	REDIS_PID=
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$DAEMON_PID/status"; }
# The daemon's live heap in KB (/metrics), without what malloc keeps for reuse.
heap_kb() {
	curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^chatlogd_heap_in_use_bytes / {printf "%d", $2 / 1024}'
}

# sample SECONDS: Redis commands/s and CPU % of one core over SECONDS.
sample() {
	local c0 u0 c1 u1
	c0=$(redis_cmds)
	u0=$(redis_cpu)
	sleep "$1"
	c1=$(redis_cmds)
	u1=$(redis_cpu)
	SAMPLE_CMDS=$(((c1 - c0) / $1))
	SAMPLE_CPU=$(echo "scale=1; ($u1 - $u0) * 100 / $1" | bc)
}

note "baseline: one series"
start_env 1 1
BASE_RSS=$(rss_kb)
BASE_HEAP=$(heap_kb)
stop_env

SERIES=$((SHOPS * AGENTS))
note "$SERIES idle series: their one chat two days ago"
start_env "$SHOPS" "$AGENTS" 172800
sleep 5 # a few more cuts: windows of series with nothing in the last day retire
IDLE_PER_SERIES=$(echo "scale=2; ($(heap_kb) - $BASE_HEAP) / $SERIES" | bc)
stop_env

note "$SERIES series ($SHOPS shops x $AGENTS agents), all in the last 10 minutes"
start_env "$SHOPS" "$AGENTS"
RSS=$(rss_kb)
PER_SERIES=$(echo "scale=2; ($(heap_kb) - $BASE_HEAP) / $SERIES" | bc)
note "loaded in ${LOAD_S}s; idle sample ${IDLE}s"
sample "$IDLE"
IDLE_CMDS=$SAMPLE_CMDS
IDLE_CPU=$SAMPLE_CPU
note "5 lines/s on a few series, ${IDLE}s"
python3 - "$TMP/env/logs/series.jsonl" "$IDLE" <<'PY' &
import json, sys, time
path, seconds = sys.argv[1], int(sys.argv[2])
end = time.time() + seconds + 1
i = 0
with open(path, "a") as out:
    while time.time() < end:
        now = time.time()
        out.write(json.dumps({"ts": round(now, 3), "shop": "shop00000", "buyer": f"busy{i % 7}",
                              "agent": f"agent0{i % 3}", "from": "buyer" if i % 2 == 0 else "agent",
                              "text": "在吗"}, ensure_ascii=False) + "\n")
        out.flush()
        i += 1
        time.sleep(0.2)
PY
FEED_PID=$!
sample "$IDLE"
BUSY_CMDS=$SAMPLE_CMDS
BUSY_CPU=$SAMPLE_CPU
wait "$FEED_PID" 2>/dev/null || true
FEED_PID=
note "metrics and latency"
METRICS=$(curl -s -o /dev/null -w '%{size_download} %{time_total}' "http://127.0.0.1:$PORT/metrics")
LAT=$("$PROBE" probe --redis "$TMP/redis.sock" --log "$TMP/env/logs/probe.jsonl" \
	--count "$PROBES" --max-gap-ms 200 --poll-ms 2 --flush-ms 1000 2>/dev/null) || true
note "probe: $LAT"
P50=$(printf '%s\n' "$LAT" | tr ' ' '\n' | awk -F= '$1 == "p50_ms" {print $2}')
P99=$(printf '%s\n' "$LAT" | tr ' ' '\n' | awk -F= '$1 == "p99_ms" {print $2}')
RSS_END=$(rss_kb)
stop_env

{
	echo "bench/scale.sh at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "$SERIES series ($SHOPS shops x $AGENTS agents), $LINES lines, flush_interval_ms 1000, window_writes $WINDOW_WRITES"
	echo
	printf '| %-44s | %-16s | %-30s |\n' "measure" "now" "before (issue 11, 100k series)"
	printf '|%s|%s|%s|\n' "----------------------------------------------" "------------------" "--------------------------------"
	printf '| %-44s | %-16s | %-30s |\n' "daemon RSS (baseline one series: ${BASE_RSS} KB)" "$((RSS / 1024)) MB" "4.0 GB before any chat"
	printf '| %-44s | %-16s | %-30s |\n' "heap per idle series (its chat 2 days ago)" "${IDLE_PER_SERIES} KB" "41-57 KB"
	printf '| %-44s | %-16s | %-30s |\n' "heap per series active in the last 10 min" "${PER_SERIES} KB" "41-57 KB"
	printf '| %-44s | %-16s | %-30s |\n' "Redis commands/s, no new line" "$IDLE_CMDS" "103k at 10k series"
	printf '| %-44s | %-16s | %-30s |\n' "Redis CPU, no new line" "${IDLE_CPU} %" "29 % at 10k series"
	printf '| %-44s | %-16s | %-30s |\n' "Redis commands/s, 5 lines/s" "$BUSY_CMDS" "-"
	printf '| %-44s | %-16s | %-30s |\n' "Redis CPU, 5 lines/s" "${BUSY_CPU} %" "-"
	printf '| %-44s | %-16s | %-30s |\n' "line -> Redis p50 / p99 ($PROBES probes)" "${P50:-?} / ${P99:-?} ms" "p99 5.7 s"
	printf '| %-44s | %-16s | %-30s |\n' "/metrics bytes, seconds" "$METRICS" "476 MB, 6.5 s"
	printf '| %-44s | %-16s | %-30s |\n' "SIGTERM to exit" "${STOP_S} s" "7.8 s"
	printf '| %-44s | %-16s | %-30s |\n' "RSS at the end" "$((RSS_END / 1024)) MB" "-"
	printf '| %-44s | %-16s | %-30s |\n' "time to load the log into Redis" "${LOAD_S} s" "-"
} | tee "$OUT/scale-results.txt"
