#!/bin/sh
# chatlogctl against private redis-servers: a Unix-socket one seeded with hand-worked
# counters (tests/data/chatlogctl-seed.redis) and a TCP one with a password. Checks the
# exact lines of top, report, agent and alerts, the JSON values, that columns line up
# by terminal display width with Chinese names, alerts --follow receiving an XADD made
# after it started, what the real daemon writes (a backfill) read back, and the exit
# codes: 0 done, 1 Redis unreachable or refusing, 2 usage.
# usage: chatlogctl.sh CHATLOGD SOURCE_DIR
set -u
BIN=$1
SRC=$2
. "$SRC/tests/integration/private_redis.sh"
CTL=$(dirname "$BIN")/chatlogctl
COLUMNS_PY=$SRC/tests/integration/chatlogctl_columns.py
TMP=$(mktemp -d /tmp/chatlogctl-test-XXXXXX)
PASSWORD='s3cr3t-Pw'
passed=0
failed=0
REDIS_PID=
AUTH_PID=
FOLLOW_PID=

cleanup() {
	[ -n "$FOLLOW_PID" ] && kill -9 "$FOLLOW_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill -9 "$REDIS_PID" 2>/dev/null
	[ -n "$AUTH_PID" ] && kill -9 "$AUTH_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# check NAME COMMAND...: passes when the command succeeds.
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}

# has_line NAME FILE LINE: FILE holds exactly LINE.
has_line() {
	if grep -Fxq -- "$3" "$2"; then
		ok "$1"
	else
		fail "$1"
		echo "  want: $3"
		echo "  in $2:"
		sed 's/^/  | /' "$2"
	fi
}

# expect_rc NAME WANT COMMAND...: COMMAND exits WANT; its output is in $TMP/rc.out/err.
expect_rc() {
	name=$1
	want=$2
	shift 2
	"$@" >"$TMP/rc.out" 2>"$TMP/rc.err"
	got=$?
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		fail "$name (exit $got, want $want)"
		sed 's/^/  err| /' "$TMP/rc.err"
	fi
}

wait_for() { # wait_for FILE PATTERN: up to 10 s
	for _ in $(seq 100); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

if [ ! -x "$CTL" ]; then
	echo "FAIL chatlogctl not built next to chatlogd ($CTL)"
	exit 1
fi

private_redis_start "$TMP/redis.sock" "$TMP" ||
	{ echo "FAIL redis-server did not start"; cat "$TMP/redis.log"; exit 1; }
# The one with a password listens on TCP, not what private_redis_start makes: only its
# wait is shared.
AUTH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$AUTH_PORT" --bind 127.0.0.1 --requirepass "$PASSWORD" --dir "$TMP" \
	--save "" --appendonly no --daemonize no >"$TMP/redis-auth.log" 2>&1 &
AUTH_PID=$!
private_redis_wait "$AUTH_PID" -p "$AUTH_PORT" -a "$PASSWORD" --no-auth-warning ||
	{ echo "FAIL redis-server with a password did not start"; cat "$TMP/redis-auth.log"; exit 1; }
grep -v '^#' "$SRC/tests/data/chatlogctl-seed.redis" | redis-cli -s "$TMP/redis.sock" >/dev/null

cat >"$TMP/chatlogd.conf" <<CONF
# only what chatlogctl reads; the daemon's other keys would be accepted too
redis = unix://$TMP/redis.sock
prefix = cs
timezone = Asia/Shanghai
CONF
ctl() { "$CTL" --config "$TMP/chatlogd.conf" "$@"; }

# ---- top, window 1h: every number below is worked by hand in docs/chatlogctl.md ----
ctl top >"$TMP/top.txt" 2>"$TMP/top.err"
check "top exits 0" [ $? -eq 0 ]
has_line "top shop header" "$TMP/top.txt" "shop s1  window 1h  as of 2026-11-24T10:07:00.000+08:00"
has_line "top header" "$TMP/top.txt" "  agent    inquiries post-sale FRT avg    p50    p90  late ART avg    p50    p90  late   reply    conv  paid/o        AOV  lost  top lost reasons"
has_line "top bob (most inquiries first)" "$TMP/top.txt" "  bob             20         0    3.0s   <=2s   <=4s     0    4.0s   <=5s   <=5s     0  100.0%   50.0%  100.0%     500.00    10  price 5, out_of_stock 4, other 1"
has_line "top alice in alert: marker, p50 <=5s p90 <=10s" "$TMP/top.txt" "! alice           10         0    5.0s   <=5s  <=10s     4   12.5s  <=10s  <=15s     5   90.0%   30.0%  100.0%     128.00     7  price 4, out_of_stock 2, no_reply 1"
has_line "top dave (ties by name)" "$TMP/top.txt" "  dave            10         0   10.0s   <=8s  <=15s     6   10.0s  <=10s  <=15s     3  100.0%   20.0%  100.0%     500.00     8  slow 8"
has_line "top Chinese name padded by display width" "$TMP/top.txt" "  售前小美         8         0    2.0s   <=2s   <=2s     0    2.0s   <=2s   <=2s     0  100.0%   50.0%  100.0%      50.00     4  courier 4"
has_line "top carol: >300s, no orders" "$TMP/top.txt" "  carol            3         0  400.0s  >300s  >300s     1  400.0s  >300s  >300s     1   33.3%    0.0%       -          -     3  no_reply 2, slow 1"
has_line "top shop row" "$TMP/top.txt" "  (shop)          51         0   12.9s   <=3s  <=10s    11   11.7s   <=5s  <=15s     9   94.1%   37.3%  100.0%     346.53    32  price 9, slow 9, out_of_stock 6"
check "top leaves out erin (no counters in the window)" sh -c "! grep -q erin '$TMP/top.txt'"
has_line "top Chinese shop header" "$TMP/top.txt" "shop 优衣库旗舰店  window 1h  as of 2026-11-24T10:07:30.000+08:00"
has_line "top Chinese shop: Chinese agent" "$TMP/top.txt" "  售后阿强          12         0    2.5s   <=3s   <=3s     0    2.5s   <=3s   <=3s     0  100.0%   50.0%  100.0%     200.00     6  price 6"
has_line "top Chinese shop: alert marker" "$TMP/top.txt" "! 客服小王           7         0    8.0s  <=10s  <=10s     4    8.0s  <=10s  <=10s     0  100.0%   14.3%  100.0%      99.00     6  shipping_time 6"
has_line "top control characters in a name shown as ?" "$TMP/top.txt" "  x\"y\\z?[31m         1         0       -      -      -     0       -      -      -     0    0.0%    0.0%       -          -     1  no_reply 1"
has_line "top Chinese shop row" "$TMP/top.txt" "  (shop)            23         0    4.0s   <=3s  <=10s     4    4.0s   <=3s  <=10s     0   95.7%   30.4%  100.0%     185.57    16  price 6, shipping_time 6, other 3"
ESC=$(printf '\033')
check "top prints no escape character" sh -c "! grep -q '$ESC' '$TMP/top.txt'"
check "top columns line up by display width" python3 "$COLUMNS_PY" "$TMP/top.txt" "  agent" \
	R:inquiries R:post-sale "R:FRT avg" R:p50 R:p90 R:late "R:ART avg" R:p50 R:p90 R:late R:reply R:conv \
	R:paid/o R:AOV R:lost "l:top lost reasons"

ctl top --window 5m >"$TMP/top5.txt"
has_line "top --window 5m" "$TMP/top5.txt" "  bob            2         0    1.5s   <=2s   <=2s     0    1.5s   <=2s   <=2s     0  100.0%    0.0%       -          -     0"
has_line "top --window 5m: agent in alert shown without counters" "$TMP/top5.txt" "! alice          0         0       -      -      -     0       -      -      -     0       -       -       -          -     0"
ctl --shop s1 top --day 2026-11-24 >"$TMP/topday.txt"
has_line "top --day header" "$TMP/topday.txt" "shop s1  day 2026-11-24"
has_line "top --day reads the day hash" "$TMP/topday.txt" "  (shop)          51         0   12.9s   <=3s  <=10s    11   11.7s   <=5s  <=15s     9   94.1%   37.3%  100.0%     346.53    32  price 9, slow 9, out_of_stock 6"
check "top --shop shows one shop" sh -c "! grep -q '优衣库' '$TMP/topday.txt'"

ctl top --json >"$TMP/top.json"
check "top --json values" python3 - "$TMP/top.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert d["window"] == "1h"
s1, s2 = d["shops"]
assert s1["shop"] == "s1" and s2["shop"] == "优衣库旗舰店"
assert [a["agent"] for a in s1["agents"]] == ["bob", "alice", "dave", "售前小美", "carol"]
alice = s1["agents"][1]
assert alice["alert"]["metric"] == "art" and alice["alert"]["value_ms"] == 12500
assert alice["frt_avg_ms"] == 5000 and alice["art_avg_ms"] == 12500
assert alice["frt_p50"] == {"le_ms": 5000} and alice["frt_p90"] == {"le_ms": 10000}
assert alice["art_p50"] == {"le_ms": 10000} and alice["art_p90"] == {"le_ms": 15000}
assert alice["reply_rate"] == 0.9 and alice["conversion"] == 0.3 and alice["aov"] == 128.0
assert list(alice["lost_reasons"].items()) == [("price", 4), ("out_of_stock", 2), ("no_reply", 1)]
assert alice["frt_h"] == {"1000": 1, "3000": 2, "5000": 2, "8000": 3, "10000": 1}
assert alice["as_of"] == "2026-11-24T10:07:00.000+08:00"
carol = s1["agents"][4]
assert carol["frt_p50"] == {"gt_ms": 300000} and carol["alert"] is None
assert "aov" not in carol and "pay_conversion" not in carol  # denominators 0
t = s1["total"]
assert t["agent"] == "*" and t["inquiries"] == 51
assert t["frt_avg_ms"] == 12938 and t["art_avg_ms"] == 11722
assert t["frt_p50"] == {"le_ms": 3000} and t["frt_p90"] == {"le_ms": 10000}
assert t["conversion"] == 0.3725 and t["reply_rate"] == 0.9412 and t["aov"] == 346.53
assert t["silent_orders"] == 2 and t["silent_sales_fen"] == 9900
assert list(t["lost_reasons"])[:3] == ["price", "slow", "out_of_stock"]
names = [a["agent"] for a in s2["agents"]]
assert names == ["售后阿强", "客服小王", "zoe", 'x"y\\z\x1b[31m'], names
assert s2["agents"][1]["alert"]["agent"] == "客服小王"
PY
check "top --json is one line of UTF-8 with escapes" python3 -c '
import sys
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\n") == 1 and raw.endswith(b"\n")
assert "优衣库旗舰店".encode() in raw and b"\x1b" not in raw
assert b"\"x\\\"y\\\\z\\u001b[31m\"" in raw' "$TMP/top.json"

# ---- report: the day with quadrants and the lost-reason breakdown ----
ctl report --day 2026-11-24 --shop s1 --patterns "$SRC/patterns/lost-reasons.conf" >"$TMP/report.txt"
check "report exits 0" [ $? -eq 0 ]
has_line "report header" "$TMP/report.txt" "report 2026-11-24  shop s1  (silent orders 2, 99.00 yuan)"
has_line "report table row" "$TMP/report.txt" "  alice           10         0    5.0s   <=5s  <=10s     4   12.5s  <=10s  <=15s     5   90.0%   30.0%  100.0%     128.00     7  price 4, out_of_stock 2, no_reply 1"
has_line "report shop averages" "$TMP/report.txt" "quadrants: conversion and AOV against the shop (conversion 37.3%, AOV 346.53);"
has_line "report quadrant best" "$TMP/report.txt" "  bob             20   50.0%     500.00  high/high: best"
has_line "report quadrant review" "$TMP/report.txt" "  alice           10   30.0%     128.00  low/low: review"
has_line "report quadrant speed" "$TMP/report.txt" "  dave            10   20.0%     500.00  low conv, high AOV: look at response speed"
has_line "report quadrant related selling" "$TMP/report.txt" "  售前小美         8   50.0%      50.00  high conv, low AOV: train on related selling (关联销售)"
has_line "report quadrant too few" "$TMP/report.txt" "  carol            3    0.0%          -  too few inquiries"
has_line "report lost total" "$TMP/report.txt" "lost reasons, 2026-11-24 (32 lost inquiries)"
has_line "report lost header" "$TMP/report.txt" "  reason        label    lost   share"
has_line "report lost price (label from the patterns)" "$TMP/report.txt" "  price         价格        9   28.1%"
has_line "report lost slow (built-in label)" "$TMP/report.txt" "  slow          响应慢      9   28.1%"
has_line "report lost out_of_stock" "$TMP/report.txt" "  out_of_stock  缺货        6   18.8%"
has_line "report lost courier" "$TMP/report.txt" "  courier       快递        4   12.5%"
has_line "report lost no_reply" "$TMP/report.txt" "  no_reply      未回复      3    9.4%"
has_line "report lost other" "$TMP/report.txt" "  other         其他        1    3.1%"
check "report quadrant columns line up" python3 "$COLUMNS_PY" "$TMP/report.txt" "  agent    inquiries    conv" \
	L:agent R:inquiries R:conv R:AOV L:quadrant
check "report lost-reason columns line up" python3 "$COLUMNS_PY" "$TMP/report.txt" "  reason" \
	L:reason L:label R:lost R:share
ctl report --day 2026-11-24 --json --patterns "$SRC/patterns/lost-reasons.conf" >"$TMP/report.json"
check "report --json values" python3 - "$TMP/report.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert d["day"] == "2026-11-24" and d["min_inquiries"] == 5
s1 = d["shops"][0]
assert s1["shop"] == "s1"
q = {a["agent"]: a["quadrant"] for a in s1["agents"]}
assert q == {"bob": "best", "alice": "review", "dave": "speed", "售前小美": "related_selling",
             "carol": "too_few"}, q
assert s1["agents"][3]["quadrant_label"] == "high conv, low AOV: train on related selling (关联销售)"
lost = [(r["reason"], r["label"], r["count"], r["share"]) for r in s1["lost_reasons"]]
assert lost == [("price", "价格", 9, 0.2813), ("slow", "响应慢", 9, 0.2813),
                ("out_of_stock", "缺货", 6, 0.1875), ("courier", "快递", 4, 0.125),
                ("no_reply", "未回复", 3, 0.0938), ("other", "其他", 1, 0.0313)], lost
assert s1["total"]["conversion"] == 0.3725 and s1["total"]["aov"] == 346.53
# the Chinese shop has no day hashes: an empty day, not an error
s2 = d["shops"][1]
assert s2["agents"] == [] and s2["total"]["inquiries"] == 0
PY

# ---- agent: every window side by side, the day, histograms ----
ctl agent alice --day 2026-11-24 >"$TMP/agent.txt"
check "agent exits 0" [ $? -eq 0 ]
has_line "agent header" "$TMP/agent.txt" "agent alice  shop s1"
has_line "agent alert" "$TMP/agent.txt" "! in alert: raised art 12.5s (target 10.0s, 7 samples in 300s) at 2026-11-24T10:07:00.000+08:00"
has_line "agent periods" "$TMP/agent.txt" "                         1m         5m        15m         1h        24h  2026-11-24"
has_line "agent FRT p90" "$TMP/agent.txt" "FRT p90                   -          -          -      <=10s          -       <=10s"
has_line "agent AOV" "$TMP/agent.txt" "AOV                       -          -          -     128.00          -      128.00"
has_line "agent histogram title" "$TMP/agent.txt" "FRT histogram, 2026-11-24 (9 first responses; p50 <=5s, p90 <=10s)"
has_line "agent histogram longest bar" "$TMP/agent.txt" "    <=8s      3  ########################################"
has_line "agent histogram short bar rounds up" "$TMP/agent.txt" "    <=1s      1  ##############"
has_line "agent histogram empty bucket" "$TMP/agent.txt" "    <=2s      0"
has_line "agent histogram open bucket" "$TMP/agent.txt" "   >300s      1  ####"
has_line "agent lost reason" "$TMP/agent.txt" "  out_of_stock  缺货        2   28.6%"
ctl agent 售前小美 --json --day 2026-11-24 >"$TMP/agent.json"
check "agent --json values" python3 - "$TMP/agent.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert d["agent"] == "售前小美" and d["day"] == "2026-11-24"
(s,) = d["shops"]
assert s["shop"] == "s1" and s["alert"] is None
assert sorted(s["windows"]) == ["15m", "1h", "1m", "24h", "5m"]
assert s["windows"]["1h"]["inquiries"] == 8 and s["windows"]["5m"]["inquiries"] == 0
assert s["day"]["aov"] == 50.0 and s["day"]["frt_p90"] == {"le_ms": 2000}
assert s["day_lost_reasons"][0]["reason"] == "courier"
PY
expect_rc "agent unknown: exit 1" 1 ctl agent nobody
check "agent unknown: says so" grep -q "agent nobody is in no shop" "$TMP/rc.err"

# ---- alerts ----
ctl alerts >"$TMP/alerts.txt"
check "alerts exits 0" [ $? -eq 0 ]
has_line "alerts active header" "$TMP/alerts.txt" "  time                           type    metric  shop          agent     value"
has_line "alerts active s1" "$TMP/alerts.txt" "  2026-11-24T10:07:00.000+08:00  raised  art     s1            alice     12.5s, target 10.0s, 7 samples in 300s"
has_line "alerts active Chinese" "$TMP/alerts.txt" "  2026-11-24T10:05:00.000+08:00  raised  frt     优衣库旗舰店  客服小王  8.2s, target 6.0s, 4 samples in 300s"
has_line "alerts log title" "$TMP/alerts.txt" "latest alerts (cs:alerts:log, oldest first)"
has_line "alerts log cleared" "$TMP/alerts.txt" "  2026-11-24T10:08:00.000+08:00  cleared  art     s1            bob       9.0s, target 10.0s, 5 samples in 300s"
check "alerts log oldest first" [ "$(sed -n '/^latest alerts/,$p' "$TMP/alerts.txt" |
	grep -o '10:0[0-9]:00' | tr '\n' ' ')" = "10:05:00 10:07:00 10:08:00 " ]
check "alerts columns line up" python3 "$COLUMNS_PY" "$TMP/alerts.txt" "  time" L:time L:type L:metric L:shop L:agent L:value
ctl alerts --json >"$TMP/alerts.json"
check "alerts --json values" python3 - "$TMP/alerts.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert [(a["shop"], a["agent"]) for a in d["active"]] == [("s1", "alice"), ("优衣库旗舰店", "客服小王")]
assert d["active"][0]["alert"]["target_ms"] == 10000
assert [r["id"] for r in d["recent"]] == ["1764000000000-0", "1764000000000-1", "1764000000000-2"]
assert d["recent"][2]["alert"]["type"] == "cleared"
PY

# --follow: started first, then an alert is added; it must arrive, and Ctrl-C ends it.
"$CTL" --config "$TMP/chatlogd.conf" alerts --follow >"$TMP/follow.txt" 2>"$TMP/follow.err" &
FOLLOW_PID=$!
check "alerts --follow starts following" wait_for "$TMP/follow.txt" "^following cs:alerts:log"
redis-cli -s "$TMP/redis.sock" XADD cs:alerts:log '*' alert '{"type":"raised","shop":"s1","agent":"dave","metric":"frt","value_ms":7000,"target_ms":6000,"samples":3,"window_s":300,"ts":"2026-11-24T10:09:00.000+08:00"}' >/dev/null
check "alerts --follow receives the new alert" wait_for "$TMP/follow.txt" "10:09:00.000+08:00  raised  frt     s1    dave   7.0s, target 6.0s, 3 samples in 300s"
check "alerts --follow does not repeat the listed ones" [ "$(grep -c '10:07:00.000+08:00  raised' "$TMP/follow.txt")" -eq 2 ]
kill -INT "$FOLLOW_PID"
wait "$FOLLOW_PID"
check "alerts --follow ends with exit 0 on SIGINT" [ $? -eq 0 ]
FOLLOW_PID=
"$CTL" --config "$TMP/chatlogd.conf" alerts --follow --json >"$TMP/follow.json" 2>"$TMP/follow.err" &
FOLLOW_PID=$!
check "alerts --follow --json lists first" wait_for "$TMP/follow.json" '"recent"'
redis-cli -s "$TMP/redis.sock" XADD cs:alerts:log '*' alert '{"type":"cleared","shop":"优衣库旗舰店","agent":"客服小王","metric":"frt","value_ms":5000,"target_ms":6000,"samples":3,"window_s":300,"ts":"2026-11-24T10:10:00.000+08:00"}' >/dev/null
check "alerts --follow --json receives the new alert" wait_for "$TMP/follow.json" '10:10:00'
kill -TERM "$FOLLOW_PID"
wait "$FOLLOW_PID"
check "alerts --follow ends with exit 0 on SIGTERM" [ $? -eq 0 ]
FOLLOW_PID=
check "alerts --follow --json: one JSON object per line" python3 - "$TMP/follow.json" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) == 2, lines
listing, new = (json.loads(l) for l in lines)
assert len(listing["recent"]) == 4
assert new["alert"]["agent"] == "客服小王" and new["alert"]["type"] == "cleared"
assert new["id"] > listing["recent"][-1]["id"]
PY

# ---- what the daemon really writes, read back (a backfill into db 2) ----
cat >"$TMP/e2e.jsonl" <<'LOG'
{"ts":"2026-11-24T10:00:00.000+08:00","shop":"e2e","buyer":"b1","agent":"alice","from":"buyer","text":"在吗,这款有现货吗"}
{"ts":"2026-11-24T10:00:04.500+08:00","shop":"e2e","buyer":"b1","agent":"alice","from":"agent","text":"亲,在的哦"}
{"ts":"2026-11-24T10:05:00+08:00","kind":"pay","shop":"e2e","buyer":"b1","order":"O1","amount":"59.90"}
{"ts":"2026-11-24T10:01:00.000+08:00","shop":"e2e","buyer":"b2","agent":"售前小美","from":"buyer","text":"太贵了,便宜点"}
{"ts":"2026-11-24T10:01:07.000+08:00","shop":"e2e","buyer":"b2","agent":"售前小美","from":"agent","text":"亲,已经是最低价了"}
LOG
"$BIN" --once --patterns "$SRC/patterns/lost-reasons.conf" "$TMP/e2e.jsonl" >"$TMP/e2e-batch.json" 2>/dev/null
"$BIN" --once --patterns "$SRC/patterns/lost-reasons.conf" \
	--redis "unix://$TMP/redis.sock?db=2" "$TMP/e2e.jsonl" >/dev/null 2>&1
"$CTL" --redis "unix://$TMP/redis.sock?db=2" top --day 2026-11-24 --json >"$TMP/e2e-ctl.json"
check "daemon backfill read back equals the batch report" python3 - "$TMP/e2e-batch.json" "$TMP/e2e-ctl.json" <<'PY'
import json, sys
batch = json.load(open(sys.argv[1], encoding="utf-8"))["shops"]["e2e"]
(shop,) = json.load(open(sys.argv[2], encoding="utf-8"))["shops"]
rows = {a["agent"]: a for a in shop["agents"]}
rows["*"] = shop["total"]
want = dict(batch["agents"], **{"*": batch["totals"]})
assert sorted(rows) == sorted(want), (sorted(rows), sorted(want))
for name, w in want.items():
    for key in ("inquiries", "frt_avg_ms", "art_avg_ms", "reply_rate", "conversion", "aov", "lost",
                "frt_breaches", "sales_fen", "frt_h", "resp_h", "lost_reasons"):
        assert rows[name].get(key, 0 if key not in ("frt_h", "resp_h", "lost_reasons") else {}) \
            == w.get(key, 0 if key not in ("frt_h", "resp_h", "lost_reasons") else {}), (name, key)
PY

# ---- Redis with a password, SELECT ----
printf '%s\n' "$PASSWORD" >"$TMP/pw"
chmod 600 "$TMP/pw"
redis-cli -p "$AUTH_PORT" -a "$PASSWORD" --no-auth-warning -n 3 SADD cs:shops db3shop >/dev/null
redis-cli -p "$AUTH_PORT" -a "$PASSWORD" --no-auth-warning -n 3 HSET 'cs:{db3shop}:a:*:w:1h' inquiries 4 >/dev/null
expect_rc "password file and /db: exit 0" 0 "$CTL" --redis "redis://127.0.0.1:$AUTH_PORT/3" --password-file "$TMP/pw" top
has_line "password file and /db: data of db 3" "$TMP/rc.out" "  (shop)         4         0       -      -      -     0       -      -      -     0    0.0%    0.0%       -          -     0"
expect_rc "no password: exit 1" 1 "$CTL" --redis "redis://127.0.0.1:$AUTH_PORT/3" top
check "no password: Redis says so" grep -q NOAUTH "$TMP/rc.err"
printf 'wrong-Pw-123\n' >"$TMP/badpw"
expect_rc "wrong password: exit 1" 1 "$CTL" --redis "redis://127.0.0.1:$AUTH_PORT" --password-file "$TMP/badpw" top
check "wrong password: refused AUTH" grep -q "refused AUTH" "$TMP/rc.err"
check "wrong password: never printed" sh -c "! grep -q wrong-Pw '$TMP/rc.err' '$TMP/rc.out'"
expect_rc "password in the url, wrong: exit 1" 1 "$CTL" --redis "redis://:url-Pw-456@127.0.0.1:$AUTH_PORT" top
check "password in the url: never printed" sh -c "! grep -q url-Pw '$TMP/rc.err' '$TMP/rc.out'"

# ---- unreachable Redis: exit 1 with a clear message ----
expect_rc "unreachable tcp: exit 1" 1 "$CTL" --redis redis://127.0.0.1:1 top
check "unreachable tcp: message" grep -q "cannot connect to Redis at 127.0.0.1:1 db 0" "$TMP/rc.err"
expect_rc "unreachable socket: exit 1" 1 "$CTL" --redis "unix://$TMP/none.sock" alerts
check "unreachable socket: message" grep -q "cannot connect to Redis at unix:$TMP/none.sock" "$TMP/rc.err"
expect_rc "unreachable with --json: exit 1, nothing on stdout" 1 "$CTL" --redis redis://127.0.0.1:1 top --json
check "unreachable with --json: stdout empty" [ ! -s "$TMP/rc.out" ]

# ---- usage: exit 2 ----
expect_rc "no command" 2 ctl
expect_rc "unknown command" 2 ctl frobnicate
expect_rc "unknown option" 2 ctl top --bogus
expect_rc "option without value" 2 ctl top --window
expect_rc "bad window" 2 ctl top --window 2h
expect_rc "window and day" 2 ctl top --window 1h --day 2026-11-24
expect_rc "window on report" 2 ctl report --window 1h
expect_rc "agent without a name" 2 ctl agent
expect_rc "extra argument" 2 ctl top extra
expect_rc "follow on top" 2 ctl top --follow
expect_rc "bad day" 2 ctl report --day 2026-02-29
expect_rc "not a day" 2 ctl report --day 20261124
expect_rc "bad prefix" 2 ctl --prefix 'a{b' top
expect_rc "bad redis url" 2 ctl --redis http://127.0.0.1 top
expect_rc "missing config file" 2 "$CTL" --config "$TMP/none.conf" top
expect_rc "missing password file" 2 "$CTL" --redis redis://127.0.0.1:1 --password-file "$TMP/none" top
expect_rc "missing patterns file" 2 ctl report --patterns "$TMP/none.conf"
expect_rc "--help" 0 ctl --help
check "--help prints usage" grep -q "^usage: chatlogctl" "$TMP/rc.out"
expect_rc "another prefix: no shops, exit 0" 0 ctl --prefix other top
has_line "another prefix: says so" "$TMP/rc.out" "no shops in other:shops yet"
expect_rc "unknown shop: exit 1" 1 ctl --shop nope top

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
