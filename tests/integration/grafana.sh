#!/bin/sh
# The shop-level business series of /metrics and the Grafana dashboard built on them
# (docs/grafana/chatlogd.json). The live daemon follows the bundled sample (moved to
# end 15 minutes ago) in two halves while a real Prometheus scrapes it every second;
# then /metrics passes promtool, its chatlogd_shop_* counters equal what the daemon
# wrote to Redis (the sum of each shop's day hashes), and every query of every panel of the dashboard (with its
# variables filled in as Grafana would) runs on that Prometheus without an error, the
# headline ones giving numbers.
# usage: grafana.sh CHATLOGD SOURCE_DIR
set -u
BIN=$1
SRC=$2
. "$SRC/tests/integration/private_redis.sh"
TMP=$(mktemp -d /tmp/chatlogd-grafana-XXXXXX)
REDIS_PID=
DAEMON_PID=
PROM_PID=
passed=0
failed=0
cleanup() {
	[ -n "$PROM_PID" ] && kill -9 "$PROM_PID" 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill -9 "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
	echo "SKIP: prometheus is not installed (tools/install-deps.sh installs it)"
	exit 77
fi

PORT=$(free_port)
PROM_PORT=$(free_port)
private_redis_start "$TMP/redis.sock" "$TMP" ||
	{ echo "FAIL redis-server did not start"; cat "$TMP/redis.log"; exit 1; }
mkdir -p "$TMP/logs"
python3 "$SRC/tools/shift-sample.py" "$SRC/tools/sample/chat-sample.jsonl" "$TMP/all.jsonl"
half=$(($(wc -l <"$TMP/all.jsonl") / 2))
head -n "$half" "$TMP/all.jsonl" >"$TMP/logs/chat.jsonl"
cat >"$TMP/chatlogd.conf" <<CONF
input = $TMP/logs/*.jsonl
redis = unix://$TMP/redis.sock
state_dir = $TMP/state
instance = grafana
flush_interval_ms = 200
http_listen = 127.0.0.1:$PORT
log_level = warning
CONF
cat >"$TMP/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: chatlogd
    static_configs:
      - targets: ['127.0.0.1:$PORT']
CONF
"$BIN" --config "$TMP/chatlogd.conf" 2>"$TMP/daemon.log" &
DAEMON_PID=$!
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prometheus" \
	--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!

# query EXPR: the JSON answer of an instant query.
query() {
	python3 - "$PROM_PORT" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode({"query": sys.argv[2]}))
try:
    print(urllib.request.urlopen(url, timeout=10).read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode())
PY
}
# wait_above EXPR N: up to 30 s for EXPR to have a sample > N (default 0).
wait_above() {
	for _ in $(seq 150); do
		query "$1" | python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
sys.exit(0 if r and float(r[0]["value"][1]) > float(sys.argv[1]) else 1)' "${2:-0}" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

if wait_above 'sum(chatlogd_shop_inquiries_total)'; then
	ok "Prometheus scrapes the shop series of the first half"
else
	fail "Prometheus scrapes the shop series of the first half"
	tail -n 5 "$TMP/prometheus.log" "$TMP/daemon.log"
fi
# two scrapes of the first half before the second comes, so the series has a history
wait_above 'count_over_time(chatlogd_records_total[1m])' 1 ||
	fail "Prometheus scraped the first half twice"
tail -n +"$((half + 1))" "$TMP/all.jsonl" >>"$TMP/logs/chat.jsonl"
# settled: the applied sequence stands still and Prometheus has scraped since
last=
same=0
for _ in $(seq 200); do
	sleep 0.3
	now=$(redis-cli -s "$TMP/redis.sock" get cs:instance:grafana:seq 2>/dev/null || true)
	if [ -n "$now" ] && [ "$now" = "$last" ]; then
		same=$((same + 1))
		[ "$same" -ge 8 ] && break
	else
		same=0
	fi
	last=$now
done
# ... and Prometheus has scraped the settled daemon: its last sample is the final count
records=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '$1 == "chatlogd_records_total" { print $2 }')
[ -n "$records" ] && wait_above "chatlogd_records_total" "$((records - 1))" ||
	fail "Prometheus scraped the settled daemon (chatlogd_records_total $records)"

curl -s "http://127.0.0.1:$PORT/metrics" >"$TMP/metrics.prom"
if promtool check metrics <"$TMP/metrics.prom" >"$TMP/promtool.txt" 2>&1; then
	ok "/metrics with the shop series passes promtool check metrics"
else
	fail "/metrics passes promtool check metrics"
	head -n 20 "$TMP/promtool.txt"
fi
if python3 - "$TMP/metrics.prom" "$TMP/redis.sock" <<'PY'; then
import re, subprocess, sys
text = open(sys.argv[1], encoding="utf-8").read()
def cli(*args):
    out = subprocess.run(["redis-cli", "-s", sys.argv[2], "--raw"] + list(args),
                         capture_output=True, check=True).stdout.decode()
    return out.split("\n")[:-1] if out else []
def escape(name):
    return "".join("%%%02X" % b if b in b"%{}:*" or b < 0x20 else chr(b)
                   for b in name.encode()).encode("latin-1").decode()
def value(name, shop):
    m = re.search(r'^%s\{shop="%s"\} (\S+)$' % (re.escape(name), re.escape(shop)), text, re.M)
    assert m, (name, shop)
    return m.group(1)
for shop in cli("SMEMBERS", "cs:shops"):
    t = {}
    for key in cli("--scan", "--pattern", "cs:{%s}:a:[*]:d:*" % escape(shop)):
        items = cli("HGETALL", key)
        for field, v in zip(items[0::2], items[1::2]):
            t[field] = t.get(field, 0) + int(v)
    for name, field in (("inquiries", "inquiries"), ("post_sale", "post_sale"),
                        ("first_responses", "first_responses"), ("responses", "responses"),
                        ("replied", "replied"), ("no_reply", "no_reply"),
                        ("ordered_inquiries", "ordered"), ("paid_inquiries", "paid"),
                        ("orders", "orders"), ("payments", "payments"),
                        ("silent_orders", "silent_orders"), ("lost_inquiries", "lost")):
        got = int(value("chatlogd_shop_%s_total" % name, shop))
        assert got == t.get(field, 0), (shop, name, got, t.get(field))
    for name, field, unit in (("sales_yuan", "sales_fen", 100),
                              ("first_response_seconds", "frt_ms_sum", 1000)):
        n = t.get(field, 0)
        want = "%d.%0*d" % (n // unit, 2 if unit == 100 else 3, n % unit)
        assert value("chatlogd_shop_%s_total" % name, shop) == want, (shop, name)
    print("  %s: %d inquiries, %d post-sale, %.2f yuan" %
          (shop, t["inquiries"], t["post_sale"], t["sales_fen"] / 100))
PY
	ok "chatlogd_shop_* equal the counters the daemon wrote to Redis (its day hashes)"
else
	fail "chatlogd_shop_* equal the counters the daemon wrote to Redis"
fi

# Every panel's queries, with the variables as Grafana fills them.
if python3 - "$SRC/docs/grafana/chatlogd.json" "$PROM_PORT" <<'PY'; then
import json, sys, urllib.parse, urllib.request
dash = json.load(open(sys.argv[1], encoding="utf-8"))
port = sys.argv[2]
names = [v["name"] for v in dash["templating"]["list"]]
assert names == ["datasource", "shop"], names
bad = 0
for panel in dash["panels"]:
    assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
    for target in panel["targets"]:
        expr = (target["expr"].replace("$shop", ".*").replace("$__range", "1h")
                .replace("$__rate_interval", "1m").replace("$__interval", "15s"))
        url = "http://127.0.0.1:%s/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": expr}))
        try:
            answer = json.load(urllib.request.urlopen(url, timeout=10))
        except urllib.error.HTTPError as e:
            answer = json.load(e)
        result = answer.get("data", {}).get("result", [])
        values = [float(r["value"][1]) for r in result]
        headline = panel["type"] == "stat" and "lost" not in expr
        good = answer["status"] == "success" and (not headline or (values and values[0] > 0))
        print("  %-4s %s = %s" % ("ok" if good else "BAD", panel["title"], values[:3]))
        bad += not good
sys.exit(1 if bad else 0)
PY
	ok "every query of the Grafana dashboard runs on Prometheus, the headline stats give numbers"
else
	fail "the Grafana dashboard's queries"
fi

kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
DAEMON_PID=
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
