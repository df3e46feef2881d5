#!/bin/bash
# bench/cluster.sh: what publishing to a Redis Cluster costs against one Redis server
# (docs/benchmarks.md, "Redis Cluster"). The same `chatlogd --once --redis` run over one
# generated log (CLUSTER_LINES lines, CLUSTER_SHOPS shops x 3 agents) goes to one
# redis-server on TCP and to a private cluster of 3 masters (no replicas; all on this
# machine, so the cluster's three servers share its cores), each fresh, best of
# CLUSTER_RUNS. Printed side by side: wall time, lines/s, script calls, and the Redis
# CPU (used_cpu_user + used_cpu_sys summed over the servers). Nothing is asserted.
#
# Environment (all optional): CHATLOGD_BIN (default: build ROOT into BENCH_BUILD),
# BENCH_BUILD (ROOT/build-bench), BENCH_OUT (ROOT/bench/out), CLUSTER_LINES (1000000),
# CLUSTER_SHOPS (200), CLUSTER_RUNS (3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/integration/private_redis.sh"
. "$ROOT/tests/integration/private_cluster.sh"
OUT=${BENCH_OUT:-$ROOT/bench/out}
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
LINES=${CLUSTER_LINES:-1000000}
SHOPS=${CLUSTER_SHOPS:-200}
RUNS=${CLUSTER_RUNS:-3}
RESULTS=$OUT/cluster-results.txt
BENCH_NAME=bench/cluster.sh
. "$ROOT/bench/common.sh"

mkdir -p "$OUT"
: >"$RESULTS"
if [[ -n ${CHATLOGD_BIN:-} ]]; then
	BIN=$CHATLOGD_BIN
	GEN=$(dirname "$BIN")/bench/gen_chatlog
else
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" --target chatlogd gen_chatlog >/dev/null
	BIN=$BUILD/chatlogd
	GEN=$BUILD/bench/gen_chatlog
fi
TMP=$(mktemp -d /tmp/chatlogd-bench-cluster-XXXXXX)
REDIS_PID=
CLUSTER_PIDS=
cleanup() {
	private_cluster_stop
	[[ -n $REDIS_PID ]] && kill "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

"$GEN" --seed 7 --lines "$LINES" --shops "$SHOPS" --agents-per-shop 3 --quiet -o "$TMP/log.jsonl"

# cpu PORT...: used_cpu_user + used_cpu_sys summed over the servers, in seconds.
cpu() {
	for port in "$@"; do
		redis-cli -p "$port" info cpu | tr -d '\r' |
			awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.3f\n", s }'
	done | awk '{ s += $1 } END { printf "%.3f", s }'
}

# calls PORT...: script calls (evalsha + eval) summed over the servers.
calls() {
	for port in "$@"; do
		redis-cli -p "$port" info commandstats | tr -d '\r' |
			awk -F'[=,:]' '/^cmdstat_(evalsha|eval):/ { s += $3 } END { print s + 0 }'
	done | awk '{ s += $1 } END { print s }'
}

# run URL CLUSTER PORT...: one backfill into fresh servers; prints "seconds cpu calls".
run() {
	local url=$1 cluster=$2 before start end
	shift 2
	before=$(cpu "$@")
	start=$(date +%s.%N)
	"$BIN" --once --redis "$url" --set redis_cluster="$cluster" --set instance=bench \
		--patterns "$ROOT/patterns/lost-reasons.conf" "$TMP/log.jsonl" >/dev/null 2>"$TMP/run.err" ||
		die "backfill failed: $(tail -n 3 "$TMP/run.err")"
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" -v c="$before" -v d="$(cpu "$@")" -v n="$(calls "$@")" \
		'BEGIN { printf "%.3f %.3f %d\n", b - a, d - c, n }'
}

best() { # the run with the least wall time, of RUNS
	sort -n | head -n 1
}

single() {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$TMP" \
		--daemonize no >"$TMP/single.log" 2>&1 &
	REDIS_PID=$!
	private_redis_wait "$REDIS_PID" -p "$port" || die "redis-server did not start"
	run "redis://127.0.0.1:$port" off "$port"
	kill "$REDIS_PID"
	wait "$REDIS_PID" 2>/dev/null || true
	REDIS_PID=
}

cluster() {
	rm -rf "$TMP/cluster"
	mkdir -p "$TMP/cluster"
	private_cluster_start "$TMP/cluster" 3 0 || die "the cluster did not start"
	# shellcheck disable=SC2086
	run "redis://127.0.0.1:$(private_cluster_master_port)" on $CLUSTER_PORTS
	private_cluster_stop
	CLUSTER_PIDS=
}

for _ in $(seq "$RUNS"); do single; done | best >"$TMP/single.txt"
for _ in $(seq "$RUNS"); do cluster; done | best >"$TMP/cluster.txt"
read -r s_sec s_cpu s_calls <"$TMP/single.txt"
read -r c_sec c_cpu c_calls <"$TMP/cluster.txt"
say "--once --redis, $(grouped "$LINES") lines, $SHOPS shops x 3 agents, best of $RUNS ($(nproc) CPUs)"
say "$(printf '%-22s %12s %14s %12s %12s' '' 'seconds' 'lines/s' 'scripts' 'redis CPU s')"
say "$(printf '%-22s %12s %14s %12s %12s' 'one redis-server' "$s_sec" "$(grouped "$(awk -v n="$LINES" -v t="$s_sec" 'BEGIN { printf "%d", n / t }')")" "$(grouped "$s_calls")" "$s_cpu")"
say "$(printf '%-22s %12s %14s %12s %12s' 'cluster, 3 masters' "$c_sec" "$(grouped "$(awk -v n="$LINES" -v t="$c_sec" 'BEGIN { printf "%d", n / t }')")" "$(grouped "$c_calls")" "$c_cpu")"
say "cluster / one server: $(awk -v a="$c_sec" -v b="$s_sec" -v c="$c_cpu" -v d="$s_cpu" \
	'BEGIN { printf "time %.2fx, Redis CPU %.2fx", a / b, c / d }')"
