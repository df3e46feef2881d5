#!/bin/sh
# chatlogctl against a real Redis Cluster (redis_cluster = on): a private cluster of 3
# masters and a private single redis-server are filled by `chatlogd --once` from the
# same generated log (40 shops, so every master holds some), and everything chatlogctl
# prints must be byte-identical between the two: top, agent, report, alerts and assess
# (JSON, CSV, tables) and `serve`'s JSON API fetched with curl. Then again while one
# slot is half migrated (ASK followed), after it moved (MOVED followed by a serve that
# started before), and after redis-cli resharded 1000 slots; alerts --follow gets an
# XADD; the live alerts of a serve subscribed on one node get a PUBLISH made on
# another; and the wrong kind of server is refused both ways, naming the
# redis_cluster setting.
# usage: ctl_cluster.sh CHATLOGD SOURCE_DIR
set -u
BIN=$1
SRC=$2
CTL=$(dirname "$BIN")/chatlogctl
GEN=$(dirname "$BIN")/bench/gen_chatlog
TMP=$(mktemp -d /tmp/chatlogctl-cluster-XXXXXX)
passed=0
failed=0
# shellcheck disable=SC2034 # private_cluster_stop reads it
CLUSTER_PIDS=
REDIS_PID=
SERVE_PIDS=
FOLLOW_PID=

command -v redis-server >/dev/null 2>&1 || {
	echo "skipped: no redis-server"
	exit 77
}
. "$SRC/tests/integration/private_redis.sh"
. "$SRC/tests/integration/private_cluster.sh"

cleanup() {
	[ -n "$FOLLOW_PID" ] && kill -9 "$FOLLOW_PID" 2>/dev/null
	for pid in $SERVE_PIDS; do
		kill -9 "$pid" 2>/dev/null
	done
	private_cluster_stop
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

if [ ! -x "$CTL" ]; then
	echo "FAIL chatlogctl not built next to chatlogd ($CTL)"
	exit 1
fi

# ---- a cluster and one server, filled the same way ----
mkdir -p "$TMP/cluster"
private_cluster_start "$TMP/cluster" 3 0 || { echo "FAIL the cluster did not start"; exit 1; }
SEED_PORT=$(private_cluster_master_port)
ONE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
private_redis_start "$TMP/one.sock" "$TMP" --port "$ONE_PORT" --bind 127.0.0.1 ||
	{ echo "FAIL redis-server did not start"; cat "$TMP/redis.log"; exit 1; }

# A day ahead of the wall clock (max_clock_ahead = 0), so no key has expired yet.
START_MS=$((($(date +%s) + 86400) * 1000))
DAY=$(TZ=Asia/Shanghai date -d "@$((START_MS / 1000))" +%F)
"$GEN" --seed 31 --lines 20000 --shops 40 --agents-per-shop 3 --start-ms "$START_MS" --quiet \
	-o "$TMP/all.jsonl"
fill() { # fill URL [--set redis_cluster=on]
	url=$1
	shift
	"$BIN" --once --set max_clock_ahead=0 --redis "$url" "$@" --set instance=once \
		--patterns "$SRC/patterns/lost-reasons.conf" "$TMP/all.jsonl" >/dev/null 2>>"$TMP/fill.err"
}
if fill "redis://127.0.0.1:$SEED_PORT" --set redis_cluster=on && fill "unix://$TMP/one.sock"; then
	ok "chatlogd --once filled the cluster and the single server"
else
	fail "chatlogd --once filled the cluster and the single server"
	tail -n 20 "$TMP/fill.err"
	exit 1
fi
spread=0
for port in $(private_cluster_masters); do
	[ "$(redis-cli -p "$port" dbsize)" -gt 0 ] && spread=$((spread + 1))
done
[ "$spread" = 3 ] && ok "every master holds keys" || fail "every master holds keys ($spread of 3)"

# Settings files: never the machine's /etc/chatlogd/chatlogd.conf.
conf() { # conf NAME URL CLUSTER
	printf 'redis = %s\nredis_cluster = %s\nprefix = cs\ntimezone = Asia/Shanghai\n' "$2" "$3" \
		>"$TMP/$1.conf"
}
conf cluster "redis://127.0.0.1:$SEED_PORT" on
conf one "unix://$TMP/one.sock" off

# Three shops (names may hold spaces: one a line), and one agent of each.
redis-cli -s "$TMP/one.sock" smembers cs:shops | sort >"$TMP/shops.txt"
awk 'NR == 1 || NR == 14 || NR == 27' "$TMP/shops.txt" >"$TMP/some-shops.txt"
agent_of() {
	redis-cli -s "$TMP/one.sock" smembers "cs:{$1}:agents" | sort | head -n 1
}

# ---- what chatlogctl prints ----

# cli_outputs CONF DIR: every command's output into DIR, one file each; its exit status
# ends each file, so an error on one side cannot match a success on the other.
cli_outputs() {
	mkdir -p "$2"
	run() { # run FILE ARGS...
		out=$1
		shift
		"$CTL" --config "$TMP/$CONF.conf" "$@" >"$DIR/$out" 2>>"$DIR/stderr"
		echo "exit $?" >>"$DIR/$out"
	}
	CONF=$1
	DIR=$2
	run top.json --json top --day "$DAY"
	run top.txt top --day "$DAY"
	run top-1h.json --json top --window 1h
	run report.json --json report --day "$DAY"
	run report.txt report --day "$DAY"
	run alerts.json --json alerts
	run assess.json --json assess --day "$DAY"
	run assess.csv assess --day "$DAY" --csv
	n=0
	while IFS= read -r shop; do
		n=$((n + 1))
		run "shop$n.json" --json --shop "$shop" top --day "$DAY"
		run "agent$n.json" --json --shop "$shop" agent "$(agent_of "$shop")" --day "$DAY"
		run "agent$n.txt" --shop "$shop" agent "$(agent_of "$shop")" --day "$DAY"
	done <"$TMP/some-shops.txt"
}

# start_serve CONF: starts `chatlogctl serve` on a free port; sets SERVE_BASE.
start_serve() {
	out=$TMP/serve-$1-$$-$(date +%s%N).out
	"$CTL" --config "$TMP/$1.conf" serve --listen 127.0.0.1:0 >"$out" 2>"$out.err" &
	SERVE_PIDS="$SERVE_PIDS $!"
	for _ in $(seq 100); do
		port=$(sed -n 's|^chatlogctl serve: http://[^ ]*:\([0-9][0-9]*\)/.*|\1|p' "$out")
		if [ -n "$port" ]; then
			SERVE_BASE=http://127.0.0.1:$port
			return 0
		fi
		sleep 0.1
	done
	echo "  serve did not start:"
	sed 's/^/  | /' "$out" "$out.err"
	return 1
}

# api_outputs BASE DIR: a few endpoints of the JSON API, with the HTTP status.
api_outputs() {
	mkdir -p "$2"
	get() { # get FILE PATH [NAME=VALUE...]
		out=$1
		path=$2
		shift 2
		for arg in "$@"; do
			set -- "$@" --data-urlencode "$arg"
			shift
		done
		curl -s -G -o "$DIR/$out" -w 'status %{http_code}\n' "$BASE$path" "$@" >>"$DIR/$out.status"
	}
	BASE=$1
	DIR=$2
	get overview.json /api/overview "day=$DAY"
	get overview-1h.json /api/overview "period=1h"
	get alerts.json /api/alerts
	n=0
	while IFS= read -r shop; do
		n=$((n + 1))
		agent=$(agent_of "$shop")
		get "shop$n.json" /api/shop "shop=$shop" "day=$DAY"
		get "trend$n.json" /api/trend "shop=$shop" "day=$DAY"
		get "agent$n.json" /api/agent "shop=$shop" "agent=$agent" "day=$DAY"
	done <"$TMP/some-shops.txt"
}

# same NAME DIR_CLUSTER DIR_ONE: every file byte-identical, every command exited 0 and
# every request answered 200 (two identical failures are no pass), nothing on stderr
# (a sanitizer's report would be there).
same() {
	differ=""
	count=0
	for file in "$2"/*; do
		name=${file##*/}
		case "$name" in
		stderr) continue ;;
		*.status) grep -qvx 'status 200' "$file" && differ="$differ $name(not-200)" ;;
		*) [ -f "$2/$name.status" ] || [ "$(tail -n 1 "$file")" = "exit 0" ] ||
			differ="$differ $name($(tail -n 1 "$file"))" ;;
		esac
		cmp -s "$file" "$3/$name" || differ="$differ $name"
		count=$((count + 1))
	done
	[ -s "$2/stderr" ] && differ="$differ stderr"
	if [ -z "$differ" ]; then
		ok "$1: $count files byte-identical"
	else
		fail "$1: differ:$differ"
		for name in $differ; do
			diff "$2/$name" "$3/$name" | head -n 6
		done
		[ -f "$2/stderr" ] && head -n 5 "$2/stderr"
	fi
}

cli_outputs one "$TMP/one"
cli_outputs cluster "$TMP/cluster-out"
same "chatlogctl on the cluster and the single server" "$TMP/cluster-out" "$TMP/one"
shops=$(grep -o '"shop": "' "$TMP/one/top.json" | wc -l)
[ "$shops" -ge 40 ] && ok "top --json lists every shop ($shops)" || fail "top --json lists $shops shops"
grep -q '^exit 0$' "$TMP/one/assess.csv" && [ "$(wc -l <"$TMP/one/assess.csv")" -gt 5 ] &&
	ok "assess --csv has rows" || fail "assess --csv has rows"

if start_serve one; then
	ONE_BASE=$SERVE_BASE
	api_outputs "$ONE_BASE" "$TMP/api-one"
else
	fail "serve on the single server starts"
fi
# A serve that starts now keeps its slot map through what follows: the later
# redirects are its to follow.
if start_serve cluster; then
	CLUSTER_BASE=$SERVE_BASE
	api_outputs "$CLUSTER_BASE" "$TMP/api-cluster"
	same "serve's API on the cluster and the single server" "$TMP/api-cluster" "$TMP/api-one"
	grep -q '^status 200$' "$TMP/api-one/shop1.json.status" && ok "the API answers 200" ||
		fail "the API answers 200: $(cat "$TMP/api-one/shop1.json.status")"
else
	fail "serve on the cluster starts"
fi

# ---- ASK: one shop's slot half migrated between two masters ----
ASK_SHOP=$(head -n 1 "$TMP/some-shops.txt")
SLOT=$(redis-cli -p "$SEED_PORT" cluster keyslot "cs:{$ASK_SHOP}:agents")
FROM=
for port in $(private_cluster_masters); do
	[ "$(redis-cli -p "$port" cluster countkeysinslot "$SLOT")" -gt 0 ] && FROM=$port
done
TO=$(private_cluster_masters | grep -vx "$FROM" | head -n 1)
redis-cli -p "$TO" cluster setslot "$SLOT" importing "$(private_cluster_node_id "$FROM")" >/dev/null
redis-cli -p "$FROM" cluster setslot "$SLOT" migrating "$(private_cluster_node_id "$TO")" >/dev/null
redis-cli -p "$FROM" cluster getkeysinslot "$SLOT" 100000 >"$TMP/slot-keys.txt"
migrate_keys() { # migrate_keys FILE: the keys in FILE, one a line, from FROM to TO
	keys_file=$1
	set --
	while IFS= read -r key; do
		set -- "$@" "$key"
	done <"$keys_file"
	[ $# -gt 0 ] && redis-cli -p "$FROM" migrate 127.0.0.1 "$TO" "" 0 5000 keys "$@" >/dev/null
}
awk 'NR % 2 == 1' "$TMP/slot-keys.txt" >"$TMP/slot-half.txt"
migrate_keys "$TMP/slot-half.txt"
moved=$(redis-cli -p "$TO" cluster countkeysinslot "$SLOT")
left=$(redis-cli -p "$FROM" cluster countkeysinslot "$SLOT")
if [ "$moved" -gt 0 ] && [ "$left" -gt 0 ]; then
	ok "slot $SLOT half migrated ($moved keys on $TO, $left on $FROM)"
else
	fail "slot $SLOT half migrated ($moved keys on $TO, $left on $FROM)"
fi
cli_outputs cluster "$TMP/ask-out"
same "chatlogctl while slot $SLOT is migrating (ASK)" "$TMP/ask-out" "$TMP/one"
if [ -n "${CLUSTER_BASE:-}" ]; then
	api_outputs "$CLUSTER_BASE" "$TMP/api-ask"
	same "serve's API while slot $SLOT is migrating (ASK)" "$TMP/api-ask" "$TMP/api-one"
fi

# ---- MOVED: the slot finishes moving; the serve's map still says FROM ----
awk 'NR % 2 == 0' "$TMP/slot-keys.txt" >"$TMP/slot-rest.txt"
migrate_keys "$TMP/slot-rest.txt"
for port in $(private_cluster_masters); do
	redis-cli -p "$port" cluster setslot "$SLOT" node "$(private_cluster_node_id "$TO")" >/dev/null
done
private_cluster_wait_ok || fail "the cluster agrees after slot $SLOT moved"
if [ -n "${CLUSTER_BASE:-}" ]; then
	api_outputs "$CLUSTER_BASE" "$TMP/api-moved"
	same "serve's API after slot $SLOT moved (MOVED)" "$TMP/api-moved" "$TMP/api-one"
fi

# ---- a reshard of 1000 slots by redis-cli ----
# shellcheck disable=SC2046 # the ports are words to split
set -- $(private_cluster_masters)
if private_cluster_reshard "$2" "$3" 1000; then
	ok "redis-cli resharded 1000 slots from $2 to $3"
else
	fail "redis-cli resharded 1000 slots from $2 to $3"
fi
cli_outputs cluster "$TMP/reshard-out"
same "chatlogctl after the reshard" "$TMP/reshard-out" "$TMP/one"
if [ -n "${CLUSTER_BASE:-}" ]; then
	api_outputs "$CLUSTER_BASE" "$TMP/api-reshard"
	same "serve's API after the reshard (MOVED)" "$TMP/api-reshard" "$TMP/api-one"
fi

# ---- alerts --follow: XREAD on the stream's master ----
"$CTL" --config "$TMP/cluster.conf" alerts --follow >"$TMP/follow.txt" 2>"$TMP/follow.err" &
FOLLOW_PID=$!
for _ in $(seq 100); do
	grep -q '^following cs:alerts:log' "$TMP/follow.txt" && break
	sleep 0.1
done
redis-cli -c -p "$SEED_PORT" xadd cs:alerts:log '*' alert '{"type":"raised","shop":"s1","agent":"dave","metric":"frt","value_ms":7000,"target_ms":6000,"samples":3,"window_s":300,"ts":"2026-11-24T10:09:00.000+08:00"}' >/dev/null
for _ in $(seq 100); do
	grep -q 'raised  frt .*dave' "$TMP/follow.txt" && break
	sleep 0.1
done
kill -INT "$FOLLOW_PID"
wait "$FOLLOW_PID"
rc=$?
FOLLOW_PID=
if [ "$rc" = 0 ] && grep -q 'raised  frt .*dave' "$TMP/follow.txt" && [ ! -s "$TMP/follow.err" ]; then
	ok "alerts --follow on the cluster gets an XADD, ends with exit 0"
else
	fail "alerts --follow on the cluster gets an XADD, ends with exit 0 (exit $rc)"
	sed 's/^/  | /' "$TMP/follow.txt" "$TMP/follow.err" | head -n 10
fi

# ---- live alerts: subscribed on the seed, published on another master ----
if [ -n "${CLUSTER_BASE:-}" ]; then
	curl -s -N --max-time 5 "$CLUSTER_BASE/api/events" >"$TMP/events.txt" 2>/dev/null &
	CURL_PID=$!
	OTHER=$(private_cluster_masters | grep -vx "$SEED_PORT" | head -n 1)
	marker='{"shop":"ctl-cluster-test","agent":"a","kind":"frt"}'
	for _ in $(seq 40); do
		grep -q 'data' "$TMP/events.txt" 2>/dev/null && break
		sleep 0.1
	done
	redis-cli -p "$OTHER" publish cs:alerts "$marker" >/dev/null
	for _ in $(seq 40); do
		grep -q 'ctl-cluster-test' "$TMP/events.txt" && break
		sleep 0.1
	done
	if grep -q 'ctl-cluster-test' "$TMP/events.txt"; then
		ok "/api/events on the cluster: a PUBLISH on node $OTHER arrives"
	else
		fail "/api/events on the cluster: a PUBLISH on node $OTHER arrives"
		sed 's/^/  | /' "$TMP/events.txt" | head -n 10
	fi
	kill "$CURL_PID" 2>/dev/null
	wait "$CURL_PID" 2>/dev/null
	curl -s "$CLUSTER_BASE/healthz" >"$TMP/healthz.json"
	grep -q '"redis": *"up"' "$TMP/healthz.json" && grep -q '"alerts": *"live"' "$TMP/healthz.json" &&
		ok "/healthz on the cluster: redis up, alerts live" ||
		fail "/healthz on the cluster: $(cat "$TMP/healthz.json")"
fi

for pid in $SERVE_PIDS; do
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] && ok "serve $pid stops on SIGTERM with exit 0 (no leak under ASan)" ||
		fail "serve $pid stops on SIGTERM with exit 0 (exit $rc)"
done
if grep -l 'Sanitizer\|runtime error' "$TMP"/serve-*.err >/dev/null 2>&1; then
	fail "serve's stderr holds a sanitizer report"
	grep -h -A5 'Sanitizer\|runtime error' "$TMP"/serve-*.err | head -n 20
fi
SERVE_PIDS=

# ---- the wrong kind of server, both ways ----
# refused NAME URL CLUSTER STATUS TEXT WHAT: chatlogctl top on that config exits STATUS
# and says TEXT.
refused() {
	conf "$1" "$2" "$3"
	"$CTL" --config "$TMP/$1.conf" top >/dev/null 2>"$TMP/wrong.err"
	rc=$?
	if [ "$rc" = "$4" ] && grep -q "$5" "$TMP/wrong.err"; then
		ok "$6: exit $4"
	else
		fail "$6: exit $rc"
		cat "$TMP/wrong.err"
	fi
}
refused wrong-node "redis://127.0.0.1:$SEED_PORT" off 1 \
	'the server is a Redis Cluster node: set redis_cluster = on' \
	"a cluster node with redis_cluster = off, naming redis_cluster = on"
refused wrong-one "redis://127.0.0.1:$ONE_PORT" on 1 \
	'the server is not a Redis Cluster node: set redis_cluster = off' \
	"one server with redis_cluster = on, naming redis_cluster = off"
refused wrong-unix "unix://$TMP/one.sock" on 2 'reached over TCP' \
	"unix:// with redis_cluster = on (a cluster is reached over TCP)"

echo "passed=$passed failed=$failed"
[ "$failed" = 0 ]
