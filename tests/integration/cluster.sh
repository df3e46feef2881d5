#!/bin/sh
# chatlogd against a real Redis Cluster (issue 11): a private cluster of 3 masters, each
# with a replica (tests/integration/private_cluster.sh). In every scenario the day
# hashes, read from every master by another path (redis_vs_batch.py's own slot hash),
# must equal `chatlogd --once` over the same lines, field by field, and the rolling
# windows their minutes:
#   once       --once --redis twice (the second applies nothing);
#   reshard    --once --redis while 2,000 slots move between masters (MOVED, ASK,
#              TRYAGAIN), then the same run again;
#   live       the daemon following a growing log while slots are resharded, a master
#              fails over to its replica (CLUSTER FAILOVER), and the daemon is killed
#              with -9 and restarted;
#   kill_master  the daemon while a master is killed and its replica takes over
#              (automatic failover; nothing it acknowledged may be missing after);
#   two_daemons  a second daemon on the same log: its shops' parts left out, said;
#   moved      a backfill applied on one server, its keys imported into the cluster, then
#              the same backfill against the cluster: nothing applied twice;
#   refused    a cluster node given as one server, and one server given as a cluster:
#              refused at once, with the setting to change.
# usage: cluster.sh CHATLOGD SOURCE_DIR [SCENARIO...]
set -u
BIN=$1
SRC=$2
shift 2
. "$SRC/tests/integration/private_redis.sh"
. "$SRC/tests/integration/private_daemon.sh"
. "$SRC/tests/integration/private_cluster.sh"
SCENARIOS=${*:-"once reshard live kill_master two_daemons moved refused"}
GEN=$(dirname "$BIN")/bench/gen_chatlog
CMP="python3 $SRC/tests/integration/redis_vs_batch.py"
TMP=$(mktemp -d /tmp/chatlogd-cluster-XXXXXX)
passed=0
failed=0
DAEMON_PID=
CLUSTER_PIDS=

command -v redis-server >/dev/null 2>&1 || {
	echo "skipped: no redis-server"
	exit 77
}

cleanup() {
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	private_cluster_stop
	[ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# 40 shops (or $3), so that every master holds some; stamped a day ahead of the wall clock
# (max_clock_ahead = 0 on both sides), and sealed by one order per shop 30 days later
# so that live mode decides everything batch mode does.
make_log() {
	start_ms=$(( ($(date +%s) + 86400) * 1000 ))
	"$GEN" --seed "$1" --lines "$2" --shops "${3:-40}" --agents-per-shop 3 --start-ms "$start_ms" \
		--quiet -o "$TMP/all.jsonl"
	python3 - "$TMP/all.jsonl" $(( start_ms / 1000 + 30 * 86400 )) >"$TMP/seal.jsonl" <<'PY'
import json, sys
shops = set()
for line in open(sys.argv[1], "rb"):
    try:
        shops.add(json.loads(line).get("shop") or "default")
    except ValueError:
        pass
for shop in sorted(shops):
    print(json.dumps({"ts": int(sys.argv[2]), "kind": "order", "shop": shop, "buyer": "end",
                      "amount": "0.01"}, ensure_ascii=False))
PY
}

fresh() {
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	private_cluster_stop
	rm -rf "$TMP/cluster" "$TMP/logs" "$TMP/state" "$TMP/daemon.log"
	mkdir -p "$TMP/cluster" "$TMP/logs"
	private_cluster_start "$TMP/cluster" 3 1 || {
		fail "the cluster did not start"
		return 1
	}
	SEED_PORT=$(private_cluster_master_port)
	URL="redis://127.0.0.1:$SEED_PORT"
}

compare() {
	"$BIN" --once --set max_clock_ahead=0 --patterns "$SRC/patterns/lost-reasons.conf" \
		"$TMP/all.jsonl" >"$TMP/batch.json" 2>/dev/null
	$CMP "cluster:127.0.0.1:$SEED_PORT" cs "$TMP/batch.json"
}

backfill() {
	"$BIN" --once --set max_clock_ahead=0 --redis "$URL" --set redis_cluster=on \
		--set instance=once --set backfill_cut_rows=2000 \
		--patterns "$SRC/patterns/lost-reasons.conf" "$TMP/all.jsonl" >/dev/null \
		2>>"$TMP/daemon.log"
}

check() {
	if compare >"$TMP/cmp.txt" 2>&1; then
		ok "$1: $(tail -n 1 "$TMP/cmp.txt")"
	else
		fail "$1"
		head -n 20 "$TMP/cmp.txt"
		tail -n 20 "$TMP/daemon.log"
	fi
}

# A cluster-wide GET: whichever master holds the key answers (-c follows MOVED).
cluster_get() {
	redis-cli -c -p "$SEED_PORT" get "$1" 2>/dev/null
}

scenario_once() {
	fresh || return
	make_log 21 40000
	cat "$TMP/seal.jsonl" >>"$TMP/all.jsonl"
	if backfill && backfill; then
		check "--once --redis twice on a cluster"
	else
		fail "--once --redis on a cluster exited non-zero"
		tail -n 20 "$TMP/daemon.log"
	fi
	grep 'backfill instance=once' "$TMP/daemon.log" | tail -n 1 | grep -q 'applied=0 ' ||
		fail "the second run applied batches again: $(grep 'backfill instance' "$TMP/daemon.log")"
}

scenario_reshard() {
	fresh || return
	make_log 22 400000 400
	cat "$TMP/seal.jsonl" >>"$TMP/all.jsonl"
	set -- $(private_cluster_masters)
	backfill &
	pid=$!
	sleep 0.3 # deliberately: the reshard starts while the backfill is under way
	private_cluster_reshard "$1" "$2" 2000 || fail "reshard failed"
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] || fail "--once --redis during a reshard exited $rc"
	# the reshard met the run: some parts went to a slot's new master
	redirects=$(grep -o 'cluster moved=[0-9]* asked=[0-9]*' "$TMP/daemon.log" | tail -n 1)
	echo "$redirects" | grep -q 'moved=0 asked=0' && fail "the reshard did not meet the run: $redirects"
	check "--once --redis during a reshard of 2000 slots ($redirects)"
	backfill || fail "the re-run exited non-zero"
	check "--once --redis again after the reshard"
}

HTTP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

write_config() {
	cat >"$TMP/chatlogd.conf" <<CONF
input = $TMP/logs/*.jsonl
redis = $URL
redis_cluster = on
state_dir = $TMP/state
instance = test
flush_interval_ms = 200
wall_clock_lag = 1s
checkpoint_interval = 10s
patterns = $SRC/patterns/lost-reasons.conf
log_level = info
http_listen = 127.0.0.1:$HTTP_PORT
max_clock_ahead = 0
CONF
}

# Waits until the instance's applied sequence has not moved for 3 s with the daemon
# connected.
settle() {
	last=
	same=0
	for _ in $(seq 600); do
		now=$(cluster_get cs:instance:test:seq)
		if [ -n "$now" ] && [ "$now" = "$last" ]; then
			same=$((same + 1))
			[ "$same" -ge 15 ] &&
				[ "$(grep -o 'redis connected\|redis disconnected' "$TMP/daemon.log" | tail -n 1)" = "redis connected" ] &&
				return 0
		else
			same=0
		fi
		last=$now
		sleep 0.2
	done
	return 1
}

# Appends the log in 30 chunks while the daemon runs; at chunk $1 runs "$2".
live_run() {
	make_log "$3" 30000
	write_config
	start_daemon
	for i in $(seq 0 29); do
		append $((i * 1000 + 1)) $((i * 1000 + 1000))
		[ "$i" = "$1" ] && eval "$2"
		sleep 0.1 # deliberately: the log grows while the daemon runs
	done
	cat "$TMP/seal.jsonl" >>"$TMP/all.jsonl"
	cat "$TMP/seal.jsonl" >>"$TMP/logs/chat.jsonl"
	settle || fail "the daemon did not settle"
	curl -s --max-time 5 "http://127.0.0.1:$HTTP_PORT/metrics" >"$TMP/metrics.txt"
	stop_daemon
}

# metric SERIES: its value in the last /metrics live_run fetched.
metric() {
	grep "^$1 " "$TMP/metrics.txt" | awk "{ print \$NF }"
}

live_events() {
	set -- $(private_cluster_masters)
	private_cluster_reshard "$1" "$2" 1500 || fail "reshard failed"
	private_cluster_failover "$(private_cluster_replica_of "$3")" || fail "failover failed"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	start_daemon
}

scenario_live() {
	fresh || return
	live_run 8 live_events 23
	check "live: reshard of 1500 slots, CLUSTER FAILOVER and kill -9 mid-stream"
	# the parts' own sequences: one per (instance, shop), on each master that holds shops
	total=0
	for port in $(private_cluster_masters); do
		n=$(redis-cli -p "$port" --scan --pattern 'cs:{*}:instance:test:seq' | grep -vc '{cs:')
		[ "$n" -gt 0 ] || fail "master $port holds no shop's applied sequence"
		total=$((total + n))
	done
	[ "$total" = 40 ] && ok "an applied sequence per (instance, shop): 40, on every master" ||
		fail "applied sequences per shop: $total, want 40"
}

kill_a_master() {
	set -- $(private_cluster_masters)
	victim=$3
	kill -9 "$(private_cluster_pid_of "$victim")"
	[ "$SEED_PORT" = "$victim" ] && SEED_PORT=$1
	private_cluster_wait_ok || fail "no failover after killing master $victim"
}

scenario_kill_master() {
	fresh || return
	live_run 10 kill_a_master 24
	check "live: a master killed -9 and replaced by its replica mid-stream"
	# the daemon saw the cluster change: more than the first slot map
	refreshes=$(metric chatlogd_redis_cluster_refreshes_total)
	[ "${refreshes:-0}" -gt 1 ] && ok "/metrics: $refreshes slot maps taken" ||
		fail "/metrics: slot maps taken: ${refreshes:-none}"
}

# Two daemons on one log, on a cluster: the shops are the first one's, so each shop's
# part of the second one's batches leaves them out, and the second one says so (the
# shops named by the parts reach it through the closing part's answer); every line
# counted once.
scenario_two_daemons() {
	fresh || return
	make_log 27 6000
	write_config
	append 1 3000
	start_daemon
	first=$DAEMON_PID
	for _ in $(seq 100); do
		[ -n "$(cluster_get cs:instance:test:seq)" ] && break
		sleep 0.1
	done
	sed -e "s|^instance = .*|instance = second|" -e "s|^state_dir = .*|state_dir = $TMP/state2|" \
		-e "s|^http_listen = .*|http_listen =|" "$TMP/chatlogd.conf" >"$TMP/second.conf"
	"$BIN" --config "$TMP/second.conf" 2>"$TMP/second.log" &
	second=$!
	for _ in $(seq 100); do
		grep -q 'shop(s) out of batch' "$TMP/second.log" && break
		sleep 0.1
	done
	append 3001 6000
	cat "$TMP/seal.jsonl" >>"$TMP/all.jsonl"
	cat "$TMP/seal.jsonl" >>"$TMP/logs/chat.jsonl"
	settle || fail "the first daemon did not settle"
	kill "$second" 2>/dev/null && wait "$second" 2>/dev/null
	stop_daemon
	if grep -q 'instance test publishes cs:{.*}:instance' "$TMP/second.log"; then
		check "two daemons on one log, on a cluster: the second one's shops left out"
	else
		fail "two daemons on one log, on a cluster: the second one did not say so"
		tail -n 5 "$TMP/second.log"
	fi
	rm -rf "$TMP/state2"
}

# start_one_server PORT: one redis-server on TCP (REDIS_PID), for the scenarios that
# compare a cluster with it; 1 (said as a failure) when it does not start.
start_one_server() {
	redis-server --bind 127.0.0.1 --port "$1" --save "" --appendonly no \
		--dir "$TMP" --daemonize no >"$TMP/one.log" 2>&1 &
	REDIS_PID=$!
	private_redis_wait "$REDIS_PID" -p "$1" && return 0
	fail "redis-server did not start"
	return 1
}

# From one server to a cluster: a backfill applied on one redis-server, its keys copied
# into the cluster (redis-cli --cluster import), then the same backfill against the
# cluster applies nothing: the instance's sequence says it was applied, though the
# parts' own sequences are not there. Counted once.
scenario_moved() {
	fresh || return
	make_log 26 20000
	cat "$TMP/seal.jsonl" >>"$TMP/all.jsonl"
	one_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	start_one_server "$one_port" || return
	"$BIN" --once --set max_clock_ahead=0 --redis "redis://127.0.0.1:$one_port" \
		--set instance=once --set backfill_cut_rows=2000 \
		--patterns "$SRC/patterns/lost-reasons.conf" "$TMP/all.jsonl" >/dev/null \
		2>>"$TMP/daemon.log" || fail "the backfill to one server failed"
	redis-cli --cluster import "127.0.0.1:$SEED_PORT" --cluster-from "127.0.0.1:$one_port" \
		--cluster-copy >"$TMP/import.log" 2>&1 || {
		fail "redis-cli --cluster import failed"
		tail -n 5 "$TMP/import.log"
	}
	kill "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
	backfill || fail "the backfill to the cluster failed"
	grep 'backfill instance=once' "$TMP/daemon.log" | tail -n 1 | grep -q ' applied=0 ' ||
		fail "the cluster applied batches the server had: $(grep 'backfill instance' "$TMP/daemon.log" | tail -n 1)"
	check "from one server to a cluster: the same backfill again applies nothing"
}

scenario_refused() {
	fresh || return
	make_log 25 2000
	"$BIN" --once --set max_clock_ahead=0 --redis "$URL" --set instance=once \
		"$TMP/all.jsonl" >/dev/null 2>"$TMP/refused.err"
	rc=$?
	if [ "$rc" = 1 ] && grep -q 'redis_cluster = on' "$TMP/refused.err"; then
		ok "a cluster node as one server: refused, naming redis_cluster = on"
	else
		fail "a cluster node as one server: exit $rc"
		cat "$TMP/refused.err"
	fi
	# one server on TCP (a cluster is reached by TCP only): a port of a cluster node
	# stopped for this
	one_port=$(private_cluster_master_port)
	private_cluster_stop
	start_one_server "$one_port" || return
	"$BIN" --once --set max_clock_ahead=0 --redis "redis://127.0.0.1:$one_port" --set redis_cluster=on \
		--set instance=once "$TMP/all.jsonl" >/dev/null 2>"$TMP/refused.err"
	rc=$?
	if [ "$rc" = 1 ] && grep -q 'redis_cluster = off' "$TMP/refused.err"; then
		ok "one server as a cluster: refused, naming redis_cluster = off"
	else
		fail "one server as a cluster: exit $rc"
		cat "$TMP/refused.err"
	fi
	kill "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

for s in $SCENARIOS; do
	"scenario_$s"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
