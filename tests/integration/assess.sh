#!/bin/sh
# chatlogctl assess against a hand-worked month (tests/data/assess/README.md): a
# private redis-server on a Unix socket seeded with day hashes, and a real
# chatlogd --once report. Checks the band edge (exactly 50 %), an agent with two
# accounts (one spelled with ':' in its key), an agent who moved team mid-month
# (prorated bonus), days with no data and days outside the month, the JSON, the CSV
# bytes (BOM, CRLF), the XLSX read back with openpyxl, and the exit statuses.
# usage: assess.sh CHATLOGD SOURCE_DIR
set -u
BIN=$1
SRC=$2
. "$SRC/tests/integration/private_redis.sh"
CTL=$(dirname "$BIN")/chatlogctl
DATA=$SRC/tests/data/assess
RULES=$DATA/rules.conf
TMP=$(mktemp -d /tmp/assess-test-XXXXXX)
passed=0
failed=0
REDIS_PID=
# openpyxl comes from Debian (python3-openpyxl): the system's Python, not a pyenv one.
PY3=python3
/usr/bin/python3 -c 'import openpyxl' 2>/dev/null && PY3=/usr/bin/python3

cleanup() {
	[ -n "$REDIS_PID" ] && kill -9 "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# has_line NAME FILE LINE: FILE holds exactly LINE.
has_line() {
	if grep -Fxq -- "$3" "$2"; then
		ok "$1"
	else
		fail "$1"
		echo "  want: $3"
		sed 's/^/  | /' "$2"
	fi
}

# expect_rc NAME WANT COMMAND...: COMMAND exits WANT; its stderr is in $TMP/rc.err.
expect_rc() {
	name=$1
	want=$2
	shift 2
	"$@" >"$TMP/rc.out" 2>"$TMP/rc.err"
	got=$?
	if [ "$got" = "$want" ]; then ok "$name"; else
		fail "$name (exit $got, want $want)"
		sed 's/^/  err| /' "$TMP/rc.err"
	fi
}

private_redis_start "$TMP/redis.sock" "$TMP" ||
	{ echo "FAIL redis-server did not start"; cat "$TMP/redis.log"; exit 1; }
redis-cli -s "$TMP/redis.sock" <"$DATA/seed.redis" >/dev/null
R="--redis unix://$TMP/redis.sock"

# ---- the month from Redis, as a table ----
# shellcheck disable=SC2086
expect_rc "assess --month exits 0" 0 "$CTL" $R assess --month 2026-11 --rules "$RULES"
cp "$TMP/rc.out" "$TMP/table"
has_line "period: 30 days, the empty ones too" "$TMP/table" \
	"assess 2026-11  2026-11-01 .. 2026-11-30 (30 days)  source redis  rules $RULES"
has_line "shop averages (Oct 31 and Dec 1 left out)" "$TMP/table" \
	"shop s1  (shop conversion 50.0%, AOV 150.00; commission compares with the shop)"
has_line "alice: exactly 50 % is the +300 band; 3 % commission at the shop average" "$TMP/table" \
	"  alice    30        10         0  100.0%    4.0s    5.0s   50.0%  100.0%     200.00     1000.00   1.25  93.8%    1   +300.00   30.00 3.0%  中级     2/2  conversion >= 50%"
has_line "小美: two accounts make one row; AOV below the shop's: no commission" "$TMP/table" \
	"  小美     30        10         0  100.0%    5.0s    5.0s   70.0%   85.7%      83.33      500.00   1.10      -    0   +500.00    0.00 0.0%  金牌     2/2  conversion >= 60%"
has_line "dave in 售前 until the 15th: -200 × 15/30" "$TMP/table" \
	"  dave     15         4         0  100.0%   10.0s   10.0s   25.0%  100.0%     300.00      300.00   1.00      -    0   -100.00    0.00 0.0%  初级     1/2  otherwise"
has_line "dave in 售后 from the 16th: +300 × 15/30" "$TMP/table" \
	"  dave     15         0         5  100.0%    5.0s    5.0s       -       -          -        0.00   1.20 100.0%    0   +150.00    0.00 0.0%  高级     1/1  reply_rate >= 98%"
has_line "bob: 90 % reply rate, below the band" "$TMP/table" \
	"  bob      30         0        10   90.0%    5.0s   20.0s       -       -          -        0.00   0.93  83.3%    2   -200.00    0.00 0.0%  初级     0/1  otherwise"
has_line "售前 team sum" "$TMP/table" \
	"  (team)             24         0  100.0%    5.4s    5.7s   54.2%   92.3%     150.00     1800.00   1.18  93.8%    1   +700.00        30.00  -          -  -"
has_line "售后 team sum" "$TMP/table" \
	"  (team)              0        15   93.3%    5.0s   15.6s       -       -          -        0.00   1.00  88.2%    2    -50.00         0.00  -          -  -"
has_line "the shop row: 3-minute rate 30/33, 3 slow receptions" "$TMP/table" \
	"  (shop)             26        15   92.7%    5.3s    9.3s   50.0%   92.3%     150.00     1800.00   1.07  90.9%    3         -            -  -          -  -"

# ---- other periods ----
# shellcheck disable=SC2086
"$CTL" $R --json assess --week 2026-W45 --rules "$RULES" >"$TMP/week.json"
# shellcheck disable=SC2086
"$CTL" $R --json assess --day 2026-11-20 --rules "$RULES" >"$TMP/day.json"
# shellcheck disable=SC2086
"$CTL" $R --json assess --from 2026-10-31 --to 2026-12-01 --rules "$RULES" >"$TMP/range.json"
# shellcheck disable=SC2086
"$CTL" $R --json assess --month 2026-11 --rules "$RULES" >"$TMP/month.json"
if "$PY3" - "$TMP" <<'PY'; then ok "JSON: month, week, day, range"; else fail "JSON: month, week, day, range"; fi
import json, sys
d = sys.argv[1]
def rows(name):
    return json.load(open(f"{d}/{name}.json", encoding="utf-8"))
def find(doc, kind, team=None, person=None):
    for r in doc["rows"]:
        if r["kind"] == kind and r.get("team") == team and r.get("person") == person:
            return r
    raise SystemExit(f"no row {kind} {team} {person}")
m = rows("month")
assert m["days"] == 30 and m["first"] == "2026-11-01" and m["last"] == "2026-11-30", m
a = find(m, "person", "售前", "alice")
assert a["conversion"] == 0.5 and a["bonus_fen"] == 30000 and a["commission_fen"] == 3000, a
assert a["commission_rate"] == 0.03 and a["tier"] == "中级" and a["band"] == "conversion >= 50%", a
assert a["answer_ratio"] == 1.25 and a["rate_3min"] == 0.9375 and a["slow_receptions"] == 1, a
# returning share 3/10, new-buyer conversion (5 - 2) / (10 - 3)
assert a["returning_share"] == 0.3 and a["new_buyer_conversion"] == 0.4286, a
x = find(m, "person", "售前", "小美")
assert x["accounts"] == "xm_a 店铺:小美" and x["inquiries"] == 10 and x["aov"] == 83.33, x
assert x["commission_fen"] == 0 and x["bonus_fen"] == 50000 and x["tier"] == "金牌", x
dv = find(m, "person", "售前", "dave")
assert dv["days"] == 15 and dv["bonus_full_fen"] == -20000 and dv["bonus_fen"] == -10000, dv
assert dv["targets_missed"] == "frt_avg <= 6s", dv
dv = find(m, "person", "售后", "dave")
assert dv["days"] == 15 and dv["bonus_fen"] == 15000 and dv["post_sale"] == 5, dv
assert find(m, "team", "售前")["bonus_fen"] == 70000
assert find(m, "team", "售后")["bonus_fen"] == -5000
s = find(m, "shop")
assert s["inquiries"] == 26 and s["conversion"] == 0.5 and s["aov"] == 150.0, s
assert "unavailable" not in m, m["unavailable"]
assert find(m, "person", "售前", "小美")["rate_3min"] is None
w = rows("week")  # 2026-11-02 .. 2026-11-08: alice's 3rd, xm_a's 5th
assert w["first"] == "2026-11-02" and w["last"] == "2026-11-08" and w["days"] == 7, w
assert find(w, "person", "售前", "alice")["inquiries"] == 6
assert find(w, "person", "售前", "小美")["accounts"] == "xm_a"
# One day: dave is in 售后 that day, with the whole (1-day) period.
dy = rows("day")
dv = find(dy, "person", "售后", "dave")
assert dy["days"] == 1 and dv["days"] == 1 and dv["bonus_fen"] == 30000, dv
assert find(dy, "person", "售前", "alice")["inquiries"] == 4
# A range over the month's edges takes Oct 31 and Dec 1 too.
r = rows("range")
assert r["days"] == 32 and find(r, "person", "售前", "alice")["inquiries"] == 210, r
PY

# ---- CSV for Excel ----
# shellcheck disable=SC2086
"$CTL" $R assess --month 2026-11 --rules "$RULES" --csv >"$TMP/month.csv"
if "$PY3" - "$TMP/month.csv" <<'PY'; then ok "CSV: BOM, CRLF, Excel quoting"; else fail "CSV: BOM, CRLF, Excel quoting"; fi
import csv, io, sys
raw = open(sys.argv[1], "rb").read()
assert raw[:3] == b"\xef\xbb\xbf", raw[:8]
assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
head = rows[0]
assert head[0] == "店铺 shop" and head[2] == "客服 person" and len(head) == 26, head
by = {(r[1], r[2]): dict(zip(head, r)) for r in rows[1:]}
a = by[("售前", "alice")]
assert a["询单转化率 conversion"] == "50.0%" and a["奖金 bonus"] == "300.00", a
assert a["提成 commission"] == "30.00" and a["提成比例 commission rate"] == "3.0%", a
assert a["3分钟响应率 3-min rate"] == "93.8%" and a["慢响应 slow receptions"] == "1", a
assert a["回头客占比 returning share"] == "30.0%" and a["新客转化率 new-buyer conversion"] == "42.9%", a
assert by[("售前", "小美")]["账号 accounts"] == "xm_a 店铺:小美"
assert by[("售前", "dave")]["奖金 bonus"] == "-100.00"
assert by[("售后", "dave")]["奖金 bonus"] == "150.00"
assert by[("(shop)", "(shop)")]["询单 inquiries"] == "26"
PY

# ---- XLSX read back with openpyxl ----
# shellcheck disable=SC2086
expect_rc "assess --xlsx exits 0" 0 "$CTL" $R assess --month 2026-11 --rules "$RULES" \
	--xlsx "$TMP/month.xlsx"
if "$PY3" - "$TMP/month.xlsx" <<'PY'; then ok "XLSX: a sheet per team, the rules, numbers"; else fail "XLSX: a sheet per team, the rules, numbers"; fi
import sys
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
assert wb.sheetnames == ["售前", "售后", "规则 rules"], wb.sheetnames
ws = wb["售前"]
head = [c.value for c in ws[1]]
rows = {r[2]: dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
a = rows["alice"]
assert a["询单转化率 conversion"] == 0.5 and a["奖金 bonus"] == 300 and a["提成 commission"] == 30, a
assert a["等级 tier"] == "中级" and a["天数 days"] == 30, a
assert a["3分钟响应率 3-min rate"] == 0.9375 and a["慢响应 slow receptions"] == 1, a
assert ws.cell(row=2, column=11).number_format == "0.0%"
assert rows["小美"]["客单价 AOV"] == 83.33 and rows["dave"]["奖金 bonus"] == -100
assert rows["(team)"]["奖金 bonus"] == 700 and rows["(shop)"]["询单 inquiries"] == 26
after = {r[2]: dict(zip(head, r)) for r in wb["售后"].iter_rows(min_row=2, values_only=True)}
assert after["dave"]["奖金 bonus"] == 150 and after["bob"]["回复率 reply rate"] == 0.9, after
rules = [[c for c in r] for r in wb["规则 rules"].iter_rows(values_only=True)]
assert ["售前", "band 奖金档位", "+300", "conversion >= 50%"] in rules, rules
assert ["售后", "member 成员", "dave", "from 2026-11-16"] in rules, rules
assert [None, "alias 账号", "店铺:小美", "小美"] in rules or ["", "alias 账号", "店铺:小美", "小美"] in rules, rules
PY

# ---- the --report path: logs never published ----
"$BIN" --once "$DATA/month.jsonl" >"$TMP/report.json" 2>"$TMP/once.err"
expect_rc "assess --report exits 0 without Redis" 0 "$CTL" --redis unix:///nonexistent \
	assess --report "$TMP/report.json" --month 2026-11 --rules "$RULES"
cp "$TMP/rc.out" "$TMP/report.table"
has_line "report: alice at exactly 50 %, AOV below the shop's" "$TMP/report.table" \
	"  alice    30         4         0  100.0%    4.0s    4.0s   50.0%  100.0%      75.00      150.00   1.00      -    -   +300.00    0.00 0.0%  中级     2/2  conversion >= 50%"
has_line "report: KPIs a report without the assessment counters lacks are said so" \
	"$TMP/report.table" \
	"3-minute response rate, slow receptions, returning buyers: n/a (not counted: chatlogd counts them with assessment_counters = on (docs/metrics.md))"
has_line "report: carol at 50 %, AOV above: 3 % of 300.00" "$TMP/report.table" \
	"  carol    30         2         0  100.0%    2.0s    2.0s   50.0%  100.0%     300.00      300.00   1.00      -    -   +300.00    9.00 3.0%  中级     2/2  conversion >= 50%"

# ---- errors ----
# shellcheck disable=SC2086
expect_rc "bad --month is a usage error" 2 "$CTL" $R assess --month 2026-13 --rules "$RULES"
# shellcheck disable=SC2086
expect_rc "two periods are a usage error" 2 "$CTL" $R assess --month 2026-11 --week 2026-W47 \
	--rules "$RULES"
printf '[team a]\nband = +100 if conversion >= 50%%\nband = +1 if rate_3mn >= 90%%\n' >"$TMP/bad.conf"
# shellcheck disable=SC2086
expect_rc "a rule on an unknown metric is refused" 2 "$CTL" $R assess --rules "$TMP/bad.conf"
if grep -q 'bad.conf:3:14: unknown metric "rate_3mn"' "$TMP/rc.err"; then
	ok "rules error names FILE:LINE:COLUMN"
else
	fail "rules error names FILE:LINE:COLUMN"
	cat "$TMP/rc.err"
fi
expect_rc "Redis unreachable is exit 1" 1 "$CTL" --redis unix://$TMP/none.sock assess \
	--month 2026-11 --rules "$RULES"
expect_rc "the shipped example rules load" 0 "$CTL" assess --report "$TMP/report.json" \
	--rules "$SRC/systemd/assess.conf"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
