#!/bin/sh
# How fast chatlogctl serve answers with many shops: a private redis-server filled with
# SHOPS shops of AGENTS agents each (a day hash per agent and per shop, and a full day of
# minute hashes for every agent of the first shop), then each API answer timed with curl
# (the median of 7) and its size. docs/dashboard.md quotes the result.
# usage: bench/dashboard.sh [BUILD_DIR] [SHOPS] [AGENTS]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/integration/private_redis.sh"
BUILD=${1:-build}
SHOPS=${2:-500}
AGENTS=${3:-20}
TMP=$(mktemp -d /tmp/chatlogd-bench-dashboard-XXXXXX)
REDIS_PID=
SERVE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

private_redis_start "$TMP/redis.sock" "$TMP" || {
	echo "redis-server did not start:" >&2
	cat "$TMP/redis.log" >&2
	exit 1
}
DAY=$(TZ=Asia/Shanghai date +%Y%m%d)
python3 - "$SHOPS" "$AGENTS" "$DAY" <<'PY' | redis-cli -s "$TMP/redis.sock" --pipe >/dev/null
import datetime, random, sys
shops, agents, day = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
random.seed(1)
out = sys.stdout.buffer
def command(*args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
def counters():
    n = random.randint(20, 200)
    fr = n - random.randint(0, 5)
    return {"inquiries": n, "post_sale": n // 10, "replied": fr, "first_responses": fr,
            "frt_ms_sum": fr * random.randint(3000, 15000), "responses": 2 * fr,
            "response_ms_sum": 2 * fr * random.randint(4000, 12000),
            "frt_breaches": fr // 3, "ordered": n // 4, "paid": n // 5,
            "sales_fen": (n // 5) * random.randint(5000, 50000), "lost": n // 2,
            "lost:price": n // 4, "lost:slow": n // 8, "lost:other": n // 2 - n // 4 - n // 8,
            "frt_h:5000": fr // 2, "frt_h:10000": fr - fr // 2, "unanswered": n // 20}
def hset(key, c):
    args = ["HSET", key]
    for k, v in c.items():
        args += [k, str(v)]
    command(*args)
start = datetime.datetime.strptime(day, "%Y%m%d").replace(
    tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
now = datetime.datetime.now(datetime.timezone.utc)
for s in range(shops):
    shop = "店铺%04d号官方旗舰店" % s
    command("SADD", "cs:shops", shop)
    total = {}
    for a in range(agents):
        agent = "客服%02d" % a
        command("SADD", "cs:{%s}:agents" % shop, agent)
        c = counters()
        hset("cs:{%s}:a:%s:d:%s" % (shop, agent, day), c)
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
        if s == 0:
            m = start
            while m < now and m < start + datetime.timedelta(days=1):
                key = m.astimezone(datetime.timezone.utc).strftime("%Y%m%d%H%M")
                hset("cs:{%s}:a:%s:m:%s" % (shop, agent, key),
                     {"inquiries": 1, "first_responses": 1, "frt_ms_sum": 5000, "replied": 1})
                m += datetime.timedelta(minutes=1)
    hset("cs:{%s}:a:*:d:%s" % (shop, day), total)
PY
"$BUILD/chatlogctl" --redis "unix://$TMP/redis.sock" serve --listen 127.0.0.1:0 \
	>"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVE_PID=$!
for _ in $(seq 100); do
	PORT=$(sed -n 's|^chatlogctl serve: http://[^ ]*:\([0-9][0-9]*\)/.*|\1|p' "$TMP/serve.out")
	[ -n "$PORT" ] && break
	sleep 0.1
done
SHOP=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("店铺0000号官方旗舰店"))')
echo "$SHOPS shops x $AGENTS agents, $(redis-cli -s "$TMP/redis.sock" dbsize) keys"
for item in "overview, 100 shops|api/overview?limit=100" \
	"overview, 500 shops|api/overview?limit=500" "shop ($AGENTS agents)|api/shop?shop=$SHOP" \
	"trend (a day of minutes)|api/trend?shop=$SHOP" \
	"agent (windows, day, month)|api/agent?shop=$SHOP&agent=%E5%AE%A2%E6%9C%8D00" \
	"alerts|api/alerts"; do
	label=${item%%|*}
	path=${item#*|}
	times=""
	for _ in 1 2 3 4 5 6 7; do
		times="$times $(curl -s -o "$TMP/body" -w '%{time_total}' "http://127.0.0.1:$PORT/$path")"
	done
	median=$(echo "$times" | tr ' ' '\n' | sed '/^$/d' | sort -n | sed -n 4p)
	printf '  %-28s %8s ms %9d bytes\n' "$label" \
		"$(awk "BEGIN { printf \"%.1f\", $median * 1000 }")" "$(wc -c <"$TMP/body")"
done
