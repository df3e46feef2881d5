#!/bin/bash
# bench/live.sh: the live daemon's benchmarks (docs/benchmarks.md, "Live daemon").
#
# Builds a Release tree (unless CHATLOGD_BIN names a binary), then runs chatlogd in live
# mode against a private redis-server on a Unix socket (--save "" --appendonly no), with
# its own state_dir, everything in a temporary directory under BENCH_OUT, and measures
# the three targets of the issue:
#   1. latency: a line appended to a log shows in Redis <= flush_interval_ms + 50 ms
#      (p99). bench/latency_probe appends one probe line at a time (random gaps) while a
#      rate-limited writer adds background traffic, and polls Redis every 2 ms.
#   2. sustained ingest >= 200,000 lines/s: a pre-generated log appended at once, its
#      lines stamped with the wall clock; the time until every line is counted in
#      Redis; the daemon's CPU and journal writes. Then the same with the log's own
#      timestamps (hours of event time: a backlog being caught up).
#   3. Redis commands/s flat as the line rate grows 10x: INFO commandstats while the
#      writer feeds two steady rates, 10x apart.
# Nothing is asserted: the table is printed and written to BENCH_OUT/live-results.txt.
# About 2-3 minutes on 2 cores (plus the build).
#
# Environment (all optional):
#   CHATLOGD_BIN        chatlogd to measure (default: build ROOT into BENCH_BUILD); the
#                       helpers are then built with cc beside the results
#   BENCH_BUILD         build directory (default ROOT/build-bench)
#   BENCH_OUT           output directory (default ROOT/bench/out)
#   LIVE_FLUSH_MS       flush_interval_ms of the daemon (default 1000)
#   LIVE_PROBES         latency probes (default 300)
#   LIVE_PROBE_GAP_MS   probes are spaced uniformly in 0..this (default 200)
#   LIVE_BG_RATE        background lines/s during the latency probes (default 3000)
#   LIVE_INGEST_LINES   lines of the live ingest log (default 3000000)
#   LIVE_BACKLOG_LINES  lines of the backlog ingest log (default 1000000)
#   LIVE_RATE_LOW       the lower steady rate, lines/s (default 2000)
#   LIVE_RATE_HIGH      the higher one (default 20000)
#   LIVE_RATE_SECONDS   seconds per rate; the first 3 are not measured (default 15)
#   LIVE_SEED           generator seed (default 1)
#   LIVE_SKIP           space-separated phases to skip: rates latency ingest (both
#                       of:) live backlog, and batch (the --once comparison)
#   LIVE_PERF           1: perf record the daemon during each ingest
#                       (BENCH_OUT/live-perf-live.txt, live-perf-backlog.txt)
#   LIVE_KEEP           1: keep the temporary directory (logs, state_dir, daemon logs)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/integration/private_redis.sh"
OUT=${BENCH_OUT:-$ROOT/bench/out}
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
FLUSH_MS=${LIVE_FLUSH_MS:-1000}
PROBES=${LIVE_PROBES:-300}
PROBE_GAP_MS=${LIVE_PROBE_GAP_MS:-200}
BG_RATE=${LIVE_BG_RATE:-3000}
INGEST_LINES=${LIVE_INGEST_LINES:-3000000}
BACKLOG_LINES=${LIVE_BACKLOG_LINES:-1000000}
RATE_LOW=${LIVE_RATE_LOW:-2000}
RATE_HIGH=${LIVE_RATE_HIGH:-20000}
RATE_SECONDS=${LIVE_RATE_SECONDS:-15}
RATE_WARMUP=3
SEED=${LIVE_SEED:-1}
SKIP=" ${LIVE_SKIP:-} "
PATTERNS=$ROOT/patterns/lost-reasons.conf

mkdir -p "$OUT"
RESULTS=$OUT/live-results.txt
: >"$RESULTS"

BENCH_NAME=live
. "$ROOT/bench/common.sh"
now_ns() { date +%s%N; }
# CPU seconds (user + system) of a process: fields 14 and 15 of /proc/PID/stat,
# counted after the ")" that ends the command name.
cpu_s() {
	sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / hz }'
}
# key=value from a line of latency_probe output.
kv() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2"; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo "MET"; else echo "NOT MET"; fi; }

# ---- build ----
if [[ -z ${CHATLOGD_BIN:-} ]]; then
	note "building $ROOT into $BUILD (Release)"
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$OUT/live-build.log" 2>&1 ||
		die "cmake configure failed (see $OUT/live-build.log)"
	cmake --build "$BUILD" -j"$(nproc)" --target chatlogd gen_chatlog latency_probe \
		>>"$OUT/live-build.log" 2>&1 || die "build failed (see $OUT/live-build.log)"
	CHATLOGD_BIN=$BUILD/chatlogd
	GEN=$BUILD/bench/gen_chatlog
	PROBE=$BUILD/bench/latency_probe
else
	GEN=$OUT/gen_chatlog
	PROBE=$OUT/latency_probe
	${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -o "$GEN" "$ROOT/bench/gen_chatlog.c" ||
		die "cannot build gen_chatlog"
	${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -o "$PROBE" "$ROOT/bench/latency_probe.c" -lhiredis -lm ||
		die "cannot build latency_probe (libhiredis-dev)"
fi
[[ -x $CHATLOGD_BIN ]] || die "no chatlogd at $CHATLOGD_BIN"
command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"

# ---- a private redis-server and daemon per phase ----
TMP=$(mktemp -d "$OUT/live-XXXXXX")
REDIS_PID=
DAEMON_PID=
FEED_PID=
PERF_PID=
cleanup() {
	local pid
	for pid in "$FEED_PID" "$PERF_PID" "$DAEMON_PID" "$REDIS_PID"; do
		[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if [[ ${LIVE_KEEP:-0} == 1 ]]; then
		note "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts redis-server and chatlogd in $TMP/$1 (fresh), the daemon following logs/*.jsonl.
# The log files exist before the daemon starts, so it follows them from their start.
ENV_DIR=
SOCK=
start_env() {
	ENV_DIR=$TMP/$1
	SOCK=$ENV_DIR/redis.sock
	mkdir -p "$ENV_DIR/logs"
	touch "$ENV_DIR/logs/bg.jsonl" "$ENV_DIR/logs/probe.jsonl" "$ENV_DIR/logs/ingest.jsonl"
	private_redis_start "$SOCK" "$ENV_DIR" || die "redis-server did not start ($ENV_DIR/redis.log)"
	cat >"$ENV_DIR/chatlogd.conf" <<CONF
input = $ENV_DIR/logs/*.jsonl
redis = unix://$SOCK
state_dir = $ENV_DIR/state
instance = bench
flush_interval_ms = $FLUSH_MS
patterns = $PATTERNS
log_level = info
CONF
	"$CHATLOGD_BIN" --config "$ENV_DIR/chatlogd.conf" 2>"$ENV_DIR/daemon.log" &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		grep -q "redis connected" "$ENV_DIR/daemon.log" && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$ENV_DIR/daemon.log" >&2
	die "chatlogd did not start ($ENV_DIR/daemon.log)"
}

stop_env() {
	if [[ -n $DAEMON_PID ]]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
		DAEMON_PID=
	fi
	if [[ -n $REDIS_PID ]]; then
		kill -TERM "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
		REDIS_PID=
	fi
}

# "total evalsha evalsha_usec_per_call alerts alert_commands" from INFO
# commandstats, leaving out the commands this script sends itself (INFO, CONFIG).
# Each alert is one PUBLISH and one XADD (and an HDEL when cleared); those are
# counted apart, since alerts are events that come with the traffic.
commandstats() {
	redis-cli -s "$SOCK" info commandstats | tr -d '\r' | awk -F'[:=,]' '
		/^cmdstat_/ { name = substr($1, 9); if (name ~ /^(info|config)/) next
			total += $3; if (name == "evalsha") { ev = $3; per = $7 }
			if (name == "publish") alerts = $3
			if (name ~ /^(publish|xadd|hdel)$/) alert_cmds += $3 }
		END { printf "%d %d %.1f %d %d\n", total, ev, per, alerts, alert_cmds }'
}

# ---- the machine ----
say "chatlogd live benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, $(uname -sr)"
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "chatlogd: $CHATLOGD_BIN (source $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)); $(redis-server --version | cut -d' ' -f1-3), Unix socket, no persistence"
say "flush_interval_ms = $FLUSH_MS; state_dir on $(df -P "$TMP" | awk 'NR == 2 { print $1 }') (fdatasync at every cut)"

# The feed log: its lines are restamped with the wall clock as they are written.
FEED_LOG=$TMP/feed.jsonl
FEED_LINES=$((RATE_LOW * RATE_SECONDS + RATE_HIGH * RATE_SECONDS + BG_RATE * (PROBES * PROBE_GAP_MS / 2000 + 30)))
"$GEN" --seed "$SEED" --lines "$FEED_LINES" --quiet -o "$FEED_LOG" || die "generator failed"

# ---- 3. Redis commands/s at two rates ----
if ! skipped rates || ! skipped latency; then
	start_env steady
fi
declare -A CMDS=() EVAL=() EVAL_US=() DCPU=() RCPU=() FED=() ALERTS=() BASE=()
if ! skipped rates; then
	skip=0
	for rate in "$RATE_LOW" "$RATE_HIGH"; do
		note "feeding $rate lines/s for ${RATE_SECONDS}s"
		"$PROBE" feed --log "$ENV_DIR/logs/bg.jsonl" --from "$FEED_LOG" --rate "$rate" \
			--seconds "$RATE_SECONDS" --skip "$skip" >"$ENV_DIR/feed-$rate.txt" &
		FEED_PID=$!
		sleep "$RATE_WARMUP"
		redis-cli -s "$SOCK" config resetstat >/dev/null
		t0=$(now_ns)
		d0=$(cpu_s "$DAEMON_PID")
		r0=$(cpu_s "$REDIS_PID")
		sleep $((RATE_SECONDS - RATE_WARMUP - 1))
		read -r total evalsha per alerts alert_cmds < <(commandstats)
		t1=$(now_ns)
		d1=$(cpu_s "$DAEMON_PID")
		r1=$(cpu_s "$REDIS_PID")
		redis-cli -s "$SOCK" info commandstats | tr -d '\r' >"$ENV_DIR/commandstats-$rate.txt"
		wait "$FEED_PID" || die "feed failed"
		FEED_PID=
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
		CMDS[$rate]=$(awk -v n="$total" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
		ALERTS[$rate]=$(awk -v n="$alerts" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
		BASE[$rate]=$(awk -v n="$total" -v a="$alert_cmds" -v s="$secs" 'BEGIN { printf "%.0f", (n - a) / s }')
		EVAL[$rate]=$(awk -v n="$evalsha" -v s="$secs" 'BEGIN { printf "%.2f", n / s }')
		EVAL_US[$rate]=$per
		DCPU[$rate]=$(awk -v a="$d0" -v b="$d1" -v s="$secs" 'BEGIN { printf "%.1f", (b - a) / s * 100 }')
		RCPU[$rate]=$(awk -v a="$r0" -v b="$r1" -v s="$secs" 'BEGIN { printf "%.1f", (b - a) / s * 100 }')
		FED[$rate]=$(kv rate "$(cat "$ENV_DIR/feed-$rate.txt")")
		cp "$ENV_DIR/commandstats-$rate.txt" "$OUT/live-commandstats-$rate.txt"
		skip=$((skip + rate * RATE_SECONDS))
	done
fi

# ---- 1. latency ----
LAT=
if ! skipped latency; then
	bg_seconds=$((PROBES * PROBE_GAP_MS / 1000 + 30))
	note "latency: $PROBES probes with $BG_RATE lines/s of background traffic"
	"$PROBE" feed --log "$ENV_DIR/logs/bg.jsonl" --from "$FEED_LOG" --rate "$BG_RATE" \
		--seconds "$bg_seconds" --skip $(((RATE_LOW + RATE_HIGH) * RATE_SECONDS)) \
		>"$ENV_DIR/feed-bg.txt" &
	FEED_PID=$!
	sleep 3
	LAT=$("$PROBE" probe --redis "$SOCK" --log "$ENV_DIR/logs/probe.jsonl" --count "$PROBES" \
		--max-gap-ms "$PROBE_GAP_MS" --poll-ms 2 --seed "$SEED" --flush-ms "$FLUSH_MS" \
		--raw "$OUT/live-latency-ms.txt") ||
		note "some probes were not seen: $LAT"
	kill "$FEED_PID" 2>/dev/null || true
	wait "$FEED_PID" 2>/dev/null || true
	FEED_PID=
fi
stop_env

# ---- 2. sustained ingest ----
# Runs one ingest in a fresh daemon and Redis: $1 names it, $2 is the log, $3 its
# event-time start, $4 "--restamp" or "". Sets ING (latency_probe's key=value line)
# and STATE_BYTES.
ingest_once() {
	local name=$1 log=$2 start_ms=$3 restamp=$4 expect lines days
	expect=$(sed -n 's/.* agent_msgs=\([0-9]*\).*/\1/p' "$log.gen")
	lines=$(sed -n 's/^gen: lines=\([0-9]*\).*/\1/p' "$log.gen")
	# gen_chatlog covers about 15 h of event time per million lines: the day hashes
	# of that many days (from the first line's) hold the counts. Restamped, it is today.
	days=$((lines * 15 / 1000000 / 24 + 2))
	((days > 16)) && days=16
	start_env "$name"
	if [[ ${LIVE_PERF:-0} == 1 ]] && command -v perf >/dev/null; then
		perf record -F 499 -g -p "$DAEMON_PID" -o "$OUT/live-perf-$name.data" >/dev/null 2>&1 &
		PERF_PID=$!
		sleep 0.5
	fi
	note "ingest ($name): appending $(grouped "$lines") lines at once"
	# shellcheck disable=SC2086 # $restamp is one option or none
	ING=$("$PROBE" ingest --redis "$SOCK" --log "$ENV_DIR/logs/ingest.jsonl" --from "$log" \
		--expect "$expect" --start-ms "$start_ms" --days "$days" --pid "$DAEMON_PID" \
		--redis-pid "$REDIS_PID" --poll-ms 20 --timeout-s 240 $restamp) ||
		note "ingest ($name) did not finish: $ING"
	if [[ -n $PERF_PID ]]; then
		kill -INT "$PERF_PID" 2>/dev/null || true
		wait "$PERF_PID" 2>/dev/null || true
		PERF_PID=
		perf report -i "$OUT/live-perf-$name.data" --stdio --no-children --sort symbol \
			-g none --percent-limit 0.5 2>/dev/null | grep -v '^$' >"$OUT/live-perf-$name.txt" || true
	fi
	STATE_BYTES=$(du -sb "$ENV_DIR/state" | cut -f1)
	stop_env
	# a copy of the log and its journal: give the disk back now
	[[ ${LIVE_KEEP:-0} == 1 ]] || rm -rf "$ENV_DIR/logs/ingest.jsonl" "$ENV_DIR/state"
}

declare -A ING_OF=() STATE_OF=()
BATCH_S=
if ! skipped ingest; then
	# "live": lines stamped with the wall clock as they are appended (event time is now,
	# as in a live log). "backlog": the log's own timestamps, about 15 h of event time
	# per million lines: what a daemon catching up after downtime sees, every cut
	# touching hundreds of minutes per agent.
	for name in live backlog; do
		skipped "$name" && continue
		lines=$INGEST_LINES
		[[ $name == backlog ]] && lines=$BACKLOG_LINES
		log=$TMP/ingest-$name.jsonl
		start_ms=$(($(date +%s) * 1000))
		"$GEN" --seed "$SEED" --lines "$lines" --start-ms "$start_ms" -o "$log" 2>"$log.gen" ||
			die "generator failed"
		cat "$log" >/dev/null # into the page cache
		restamp=
		[[ $name == live ]] && restamp=--restamp
		ingest_once "$name" "$log" "$start_ms" "$restamp"
		ING_OF[$name]=$ING
		STATE_OF[$name]=$STATE_BYTES
		if [[ $name == live ]] && ! skipped batch; then
			t0=$(now_ns)
			"$CHATLOGD_BIN" --once --patterns "$PATTERNS" "$log" >/dev/null 2>&1 ||
				note "chatlogd --once failed on the ingest log"
			BATCH_S=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
		fi
		rm -f "$log"
	done
fi

# ---- the table ----
say ""
if [[ -n $LAT ]]; then
	target=$((FLUSH_MS + 50))
	say "1. latency: line appended -> counted in Redis ($(kv seen "$LAT") of $PROBES probes, gaps 0-$PROBE_GAP_MS ms, background $(grouped "$BG_RATE") lines/s, poll 2 ms)"
	printf '   %8s %8s %8s %8s %8s %8s\n' min p50 p90 p99 max mean | tee -a "$RESULTS"
	printf '   %8s %8s %8s %8s %8s %8s   ms\n' "$(kv min_ms "$LAT")" "$(kv p50_ms "$LAT")" \
		"$(kv p90_ms "$LAT")" "$(kv p99_ms "$LAT")" "$(kv max_ms "$LAT")" "$(kv mean_ms "$LAT")" |
		tee -a "$RESULTS"
	say "   p99 $(kv p99_ms "$LAT") ms vs target flush_interval_ms + 50 = $target ms: $(verdict "$(kv p99_ms "$LAT") <= $target")"
	say "   a line waits for the next flush tick (uniform in 0-$FLUSH_MS ms), then its cut is journaled, built and applied;"
	say "   flush tick -> visible, over $(kv cuts "$LAT") cuts (tick phase fitted to $(kv tick_fit "$LAT") cut boundaries):"
	printf '   %8s %8s %8s %8s %8s\n' min p50 p90 p99 max | tee -a "$RESULTS"
	printf '   %8s %8s %8s %8s %8s   ms\n' "$(kv cut_min_ms "$LAT")" "$(kv cut_p50_ms "$LAT")" \
		"$(kv cut_p90_ms "$LAT")" "$(kv cut_p99_ms "$LAT")" "$(kv cut_max_ms "$LAT")" | tee -a "$RESULTS"
fi
for name in live backlog; do
	[[ -n ${ING_OF[$name]:-} ]] || continue
	ING=${ING_OF[$name]}
	say ""
	if [[ $(kv "done" "$ING") != 1 ]]; then
		say "2. sustained ingest ($name): NOT finished within the timeout: $ING"
		continue
	fi
	lines=$(kv lines "$ING")
	if [[ $name == live ]]; then
		say "2. sustained ingest, live: $(grouped "$lines") lines ($(awk -v b="$(kv bytes "$ING")" 'BEGIN { printf "%.0f", b / 1e6 }') MB) appended at once (in $(kv append_s "$ING") s), stamped with the wall clock"
	else
		say "2b. catching up a backlog: $(grouped "$lines") lines ($(awk -v b="$(kv bytes "$ING")" 'BEGIN { printf "%.0f", b / 1e6 }') MB, $(awk -v n="$lines" 'BEGIN { printf "%.0f", n * 15 / 1e6 }') h of event time) appended at once"
	fi
	if [[ $name == live ]]; then
		goal="target >= 200,000: $(verdict "$(kv lines_per_s "$ING") >= 200000")"
	else
		goal="for reference: the target is for live logs"
	fi
	say "   every line counted in Redis after $(kv done_s "$ING") s:  $(grouped "$(kv lines_per_s "$ING")") lines/s   ($goal)"
	say "   daemon had read every byte after $(kv read_s "$ING") s:    $(grouped "$(kv read_lines_per_s "$ING")") lines/s"
	say "   daemon CPU $(kv daemon_cpu_s "$ING") s ($(awk -v c="$(kv daemon_cpu_s "$ING")" -v n="$lines" 'BEGIN { printf "%.2f", c * 1e6 / n }') us/line); redis-server CPU $(kv redis_cpu_s "$ING") s"
	say "   daemon writes: $(awk -v b="$(kv daemon_write_bytes "$ING")" -v n="$lines" 'BEGIN { printf "%.0f MB to storage (%.0f bytes/line)", b / 1e6, b / n }'), $(awk -v b="$(kv daemon_wchar "$ING")" 'BEGIN { printf "%.0f MB", b / 1e6 }') through write(2) incl. Redis; state_dir at the end $(awk -v b="${STATE_OF[$name]}" 'BEGIN { printf "%.0f MB", b / 1e6 }')"
	if [[ $name == live && -n $BATCH_S ]]; then
		say "   for comparison, chatlogd --once over the same log: $BATCH_S s ($(grouped "$(awk -v n="$lines" -v s="$BATCH_S" 'BEGIN { printf "%.0f", n / s }')") lines/s, wall clock)"
	fi
done
if ((${#CMDS[@]} == 2)); then
	say ""
	say "3. Redis commands/s at two steady rates, lines stamped with the wall clock (INFO commandstats over $((RATE_SECONDS - RATE_WARMUP - 1)) s each;"
	say "   the commands the apply script runs count, each EVALSHA counts once more; breakdown in live-commandstats-RATE.txt;"
	say "   'w/o alerts' leaves out the PUBLISH, XADD (and HDEL) that deliver each alert: alerts are events, like lines)"
	printf '   %10s %12s %10s %14s %10s %12s %10s %10s\n' "lines/s" "commands/s" "alerts/s" "w/o alerts" "evalsha/s" "ms/evalsha" "daemon" "redis" |
		tee -a "$RESULTS"
	for rate in "$RATE_LOW" "$RATE_HIGH"; do
		printf '   %10s %12s %10s %14s %10s %12s %9s%% %9s%%\n' "$(grouped "${FED[$rate]}")" \
			"$(grouped "${CMDS[$rate]}")" "$(grouped "${ALERTS[$rate]}")" "$(grouped "${BASE[$rate]}")" \
			"${EVAL[$rate]}" "$(awk -v u="${EVAL_US[$rate]}" 'BEGIN { printf "%.1f", u / 1000 }')" \
			"${DCPU[$rate]}" "${RCPU[$rate]}" | tee -a "$RESULTS"
	done
	ratio=$(awk -v a="${CMDS[$RATE_HIGH]}" -v b="${CMDS[$RATE_LOW]}" 'BEGIN { printf "%.2f", a / b }')
	bratio=$(awk -v a="${BASE[$RATE_HIGH]}" -v b="${BASE[$RATE_LOW]}" 'BEGIN { printf "%.2f", a / b }')
	eratio=$(awk -v a="${EVAL[$RATE_HIGH]}" -v b="${EVAL[$RATE_LOW]}" 'BEGIN { printf "%.2f", a / b }')
	say "   $(awk -v a="$RATE_HIGH" -v b="$RATE_LOW" 'BEGIN { printf "%gx", a / b }') the lines: $eratio x the EVALSHA/s (round trips), $bratio x the counter and window commands, $ratio x all commands incl. alert delivery"
	say "   target flat (taken as within 1.2x): round trips $(verdict "$eratio <= 1.2"), counter and window commands $(verdict "$bratio <= 1.2"), all commands $(verdict "$ratio <= 1.2")"
fi
say ""
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
note "results in $RESULTS"
