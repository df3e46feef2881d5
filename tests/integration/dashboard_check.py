#!/usr/bin/env python3
"""The dashboard's browser checks, run by dashboard.sh.

  extra SHIFTED_LOG OUT       writes records of a shop with long Chinese names (and an
                              agent whose name looks like markup) into OUT, in the
                              minutes before the shifted sample ends; prints their day
  browser BASE SOCKET DAY TMP drives Chromium over the pages and compares what they show
                              with Redis, read with redis-cli
  token BASE TOKEN DAY        the page opened with ?token= loads

Expected numbers are computed here from the counters in Redis by the definitions of
docs/reference.md §3 (integer ms and ratios x10000 rounded half up, then shown rounded
half up to 0.1 s and 0.1 %) and docs/chatlogctl.md (nearest-rank percentiles from the
histograms, shown as the bucket's upper bound): not by chatlogd's code."""

import datetime
import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402

ZONE = datetime.timezone(datetime.timedelta(hours=8))  # Asia/Shanghai, no DST
LONG_SHOP = "北京朝阳某某某某贸易有限公司天猫官方旗舰店测试一个非常非常非常长的店铺名称看看页面会不会溢出"
AGENTS = [
    "售前客服小美美美美美美美美美美美美美美美美美美美美美美美美美美美美美美美美美",
    "customer_service_account_with_a_very_long_name_0123456789abcdefghijklmnopqrstuvwxyz",
    '<img src=x onerror="document.title=1">&amp;"\'售后',
]
BUCKETS = [1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 15000, 20000, 30000, 60000,
           120000, 300000, None]

results = {"ok": 0, "fail": 0}


def check(name, good, detail=""):
    if good:
        results["ok"] += 1
        print("ok   " + name)
    else:
        results["fail"] += 1
        print("FAIL " + name)
        if detail:
            print("  " + str(detail)[:3000])
    sys.stdout.flush()
    return good


# ---- the extra records ----

def extra(shifted, out):
    end = None
    for line in open(shifted, encoding="utf-8", errors="replace"):
        try:
            ts = json.loads(line).get("ts")
        except ValueError:
            continue
        if isinstance(ts, str):
            try:
                t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
            end = t if end is None or t > end else end
    start = end - 20 * 60
    lines = []

    def put(t, **record):
        record["ts"] = round(t, 3)
        record["shop"] = LONG_SHOP
        lines.append(json.dumps(record, ensure_ascii=False))

    n = 0
    for a, agent in enumerate(AGENTS):
        for k in range(6):
            n += 1
            t = start + a * 60 + k * 25
            buyer = "长名字买家%02d号" % n
            put(t, buyer=buyer, agent=agent, **{"from": "buyer"}, text="在吗，这件有货吗" if k != 3 else "太贵了")
            if k == 5:
                continue  # never answered: no_reply, lost
            put(t + 3 + k, buyer=buyer, agent=agent, **{"from": "agent"}, text="亲，在的")
            put(t + 15, buyer=buyer, agent=agent, **{"from": "buyer"}, text="什么时候发货")
            put(t + 15 + 4 + 3 * k, buyer=buyer, agent=agent, **{"from": "agent"}, text="今天发")
            if k in (0, 1, 2):
                put(t + 60, kind="order", buyer=buyer, order="L%d" % n, amount="%d.50" % (99 + k))
            if k in (0, 1):
                put(t + 90, kind="pay", buyer=buyer, order="L%d" % n, amount="%d.50" % (99 + k))
    lines.sort(key=lambda s: json.loads(s)["ts"])
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(datetime.datetime.fromtimestamp(start + 2 * 60, ZONE).date().isoformat())


# ---- Redis, read with redis-cli ----

class Redis:
    def __init__(self, socket):
        self.socket = socket

    def cli(self, *args):
        out = subprocess.run(["redis-cli", "-s", self.socket, "--raw"] + list(args),
                             capture_output=True, check=True).stdout.decode("utf-8")
        return out.split("\n")[:-1] if out else []

    def hgetall(self, key):
        items = self.cli("HGETALL", key)
        return dict(zip(items[0::2], items[1::2]))

    def smembers(self, key):
        return sorted(self.cli("SMEMBERS", key))

    def scan(self, pattern):
        return self.cli("--scan", "--pattern", pattern)


def escape(name):
    """A name as key names spell it (contract §6)."""
    out = []
    for b in name.encode("utf-8"):
        out.append("%%%02X" % b if b in b"%{}:*" or b < 0x20 else bytes([b]).decode("latin-1"))
    return "".join(out).encode("latin-1").decode("utf-8")


def key(shop, agent, suffix):
    return "cs:{%s}:a:%s:%s" % (escape(shop), "*" if agent == "*" else escape(agent), suffix)


def counters(h):
    return {k: int(v) for k, v in h.items() if k != "as_of" and v.lstrip("-").isdigit()}


def add(total, more):
    for k, v in more.items():
        total[k] = total.get(k, 0) + v
    return total


# ---- the contract's definitions ----

def half_up(num, den):
    return (2 * num + den) // (2 * den)


def tenths(value, per, unit):
    t = half_up(value, per)
    return "%d.%d%s" % (t // 10, t % 10, unit)


def avg_seconds(c, total, count):
    n = c.get(count, 0)
    return tenths(half_up(c.get(total, 0), n), 100, "s") if n else "-"


def ratio(c, part, wholes):
    whole = sum(c.get(w, 0) for w in wholes)
    return tenths(half_up(10000 * c.get(part, 0), whole), 10, "%") if whole else "-"


def yuan(fen):
    return "%d.%02d" % (fen // 100, fen % 100)


def percentile(c, prefix, p):
    counts = [c.get("%s:%s" % (prefix, b if b else "inf"), 0) for b in BUCKETS]
    n = sum(counts)
    if n == 0:
        return "-"
    rank = -(-p * n // 100)
    seen = 0
    for i, k in enumerate(counts):
        seen += k
        if seen >= rank:
            return "≤%ds" % (BUCKETS[i] // 1000) if BUCKETS[i] else ">300s"


def cells(c):
    return {
        "inquiries": str(c.get("inquiries", 0)),
        "post_sale": str(c.get("post_sale", 0)),
        "first_responses": str(c.get("first_responses", 0)),
        "responses": str(c.get("responses", 0)),
        "frt_avg": avg_seconds(c, "frt_ms_sum", "first_responses"),
        "art_avg": avg_seconds(c, "response_ms_sum", "responses"),
        "frt_p50": percentile(c, "frt_h", 50),
        "frt_p90": percentile(c, "frt_h", 90),
        "art_p50": percentile(c, "resp_h", 50),
        "art_p90": percentile(c, "resp_h", 90),
        "frt_breaches": str(c.get("frt_breaches", 0)),
        "response_breaches": str(c.get("response_breaches", 0)),
        "unanswered": str(c.get("unanswered", 0)),
        "reply": ratio(c, "replied", ["inquiries", "post_sale"]),
        "conversion": ratio(c, "ordered", ["inquiries"]),
        "pay_conversion": ratio(c, "paid", ["ordered"]),
        "aov": yuan(half_up(c["sales_fen"], c["paid"])) if c.get("paid") else "-",
        "sales": yuan(c.get("sales_fen", 0)),
        "lost": str(c.get("lost", 0)),
    }


# ---- what the pages show ----

READ_INDEX = r"""(() => {
  const cells = tr => { const o = {}; tr.querySelectorAll('td[data-k]').forEach(td => { o[td.dataset.k] = td.textContent; }); return o; };
  const shops = {}, agents = {}, kpis = {}, reasons = {};
  document.querySelectorAll('#shops tbody tr[data-shop]').forEach(tr => { shops[tr.dataset.shop] = cells(tr); });
  document.querySelectorAll('#agents tbody tr[data-agent]').forEach(tr => { agents[tr.dataset.agent] = cells(tr); });
  document.querySelectorAll('#kpis [data-kpi]').forEach(k => { kpis[k.dataset.kpi] = k.querySelector('.value').textContent; });
  document.querySelectorAll('#reasons [data-reason]').forEach(r => { reasons[r.dataset.reason] = Number(r.querySelector('[data-k=count]').textContent); });
  const dots = {};
  document.querySelectorAll('#trend [data-chart]').forEach(c => { dots[c.dataset.chart] = c.querySelectorAll('circle').length + c.querySelectorAll('rect').length; });
  return {shops, agents, kpis, reasons, dots, shop: document.getElementById('shop-name').textContent,
          charts: document.querySelectorAll('#trend svg').length, title: document.title,
          images: document.querySelectorAll('img').length,
          agentTexts: Array.from(document.querySelectorAll('#agents td[data-k=agent]')).map(td => td.textContent)};
})()"""

READ_AGENT = r"""(() => {
  const out = {};
  document.querySelectorAll('#periods tr[data-metric]').forEach(tr => {
    const o = {};
    tr.querySelectorAll('td[data-col]').forEach(td => { o[td.dataset.col] = td.textContent; });
    out[tr.dataset.metric] = o;
  });
  return {periods: out, name: document.getElementById('agent-name').textContent,
          charts: document.querySelectorAll('svg').length, images: document.querySelectorAll('img').length};
})()"""

# Everything that is wider than its box or reaches past the viewport, at 1280x800.
OVERFLOW = r"""(() => {
  const vw = document.documentElement.clientWidth, bad = [];
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/\s+/g, '.') : '') + ' "' + (e.textContent || '').trim().slice(0, 40) + '"';
  if (document.documentElement.scrollWidth > vw) bad.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + vw);
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('svg') && e.tagName.toLowerCase() !== 'svg') continue;
    const cs = getComputedStyle(e);
    if (cs.display === 'none' || e.closest('[hidden]')) continue;
    const r = e.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5)) bad.push(name(e) + ' reaches ' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + vw);
    if (cs.display !== 'inline' && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) bad.push(name(e) + ' holds ' + e.scrollWidth + ' in ' + e.clientWidth);
  }
  return bad;
})()"""


def wait_loaded(b, extra_condition="true"):
    return b.wait("document.body.getAttribute('data-loaded') === '1' && (%s)" % extra_condition, 30)


def compare(name, got, want):
    diff = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    check(name, not diff, "page, redis: %s" % diff)


def browser(base, socket, day, tmp):
    r = Redis(socket)
    day_key = day.replace("-", "")
    shops = r.smembers("cs:shops")
    check("Redis holds the sample's shops and the long-named one (%d shops)" % len(shops),
          LONG_SHOP in shops and len(shops) == 3, shops)
    b = Browser(1280, 800)
    try:
        index(b, r, base, day, day_key, shops, tmp)
        agent_page(b, r, base, day, day_key)
        check("no script error on the pages", not b.exceptions, b.exceptions)
    finally:
        b.close()
    return results["fail"] == 0


def index(b, r, base, day, day_key, shops, tmp):
    b.open(base + "/?" + urllib.parse.urlencode({"day": day, "shop": LONG_SHOP}))
    loaded = wait_loaded(b, "document.querySelectorAll('#trend svg').length >= 6")
    if not check("the dashboard loads at 1280x800 (scoreboard, 6 trend charts)", loaded):
        b.screenshot(os.path.join(tmp, "index.png"))
        return
    page = b.evaluate(READ_INDEX)
    check("the selected shop's name is shown whole", page["shop"] == LONG_SHOP, page["shop"])

    # the shops and the KPIs: each shop's own row ("*") of the day
    everything = {}
    for shop in shops:
        c = counters(r.hgetall(key(shop, "*", "d:" + day_key)))
        add(everything, c)
        want = cells(c)
        want = {k: want[k] for k in ("inquiries", "post_sale", "frt_avg", "frt_p90", "art_avg",
                                     "reply", "conversion", "pay_conversion", "aov", "sales",
                                     "lost")}
        compare("shop row %s equals Redis (%s inquiries, %s post-sale)" %
                (shop[:12], want["inquiries"], want["post_sale"]), page["shops"].get(shop, {}), want)
    want = cells(everything)
    compare("the KPIs over all shops equal Redis",
            page["kpis"], {k: want[k] for k in ("inquiries", "post_sale", "frt_avg", "art_avg",
                                                "reply", "conversion", "pay_conversion", "aov",
                                                "sales", "lost")})

    # the long-named shop's agents, its whole-shop row and its lost reasons
    expected_agents = {}
    for agent in r.smembers("cs:{%s}:agents" % escape(LONG_SHOP)):
        c = counters(r.hgetall(key(LONG_SHOP, agent, "d:" + day_key)))
        if any(c.values()):
            expected_agents[agent] = c
    expected_agents["*"] = counters(r.hgetall(key(LONG_SHOP, "*", "d:" + day_key)))
    check("the agents table lists exactly the agents with counts, and the shop row",
          set(page["agents"]) == set(expected_agents),
          (sorted(page["agents"]), sorted(expected_agents)))
    for agent, c in expected_agents.items():
        want = cells(c)
        want["frt_p"] = want["frt_p50"] + " / " + want["frt_p90"]
        want["art_p"] = want["art_p50"] + " / " + want["art_p90"]
        compare("agent row %s equals Redis (pre-sale %s, post-sale %s)" %
                (agent[:16], want["inquiries"], want["post_sale"]), page["agents"].get(agent, {}),
                {k: want[k] for k in ("inquiries", "post_sale", "frt_avg", "frt_p", "frt_breaches",
                                      "art_avg", "art_p", "response_breaches", "reply",
                                      "conversion", "pay_conversion", "aov", "lost")})
    shop_row = expected_agents["*"]
    reasons = {k[5:]: v for k, v in shop_row.items() if k.startswith("lost:") and v}
    check("the lost-reason breakdown equals Redis (%s)" % reasons, page["reasons"] == reasons,
          page["reasons"])

    # the trend: one dot per minute with first responses, from the m: hashes
    minutes = 0
    for k in r.scan("cs:{%s}:a:[*]:m:*" % escape(LONG_SHOP)):
        stamp = datetime.datetime.strptime(k.rsplit(":", 1)[1], "%Y%m%d%H%M").replace(
            tzinfo=datetime.timezone.utc)
        if stamp.astimezone(ZONE).date().isoformat() == day:
            if int(r.hgetall(k).get("first_responses", 0)) > 0:
                minutes += 1
    check("the FRT trend has one point per minute with first responses in Redis (%d)" % minutes,
          page["dots"].get("frt") == minutes and minutes > 0, page["dots"])

    # names are text, never markup
    check("a name that looks like markup is shown as text (no <img>, title untouched)",
          page["images"] == 0 and page["title"] == "客服看板 · chatlogd"
          and AGENTS[2] in page["agentTexts"], (page["images"], page["title"]))
    overflow(b, "the dashboard")

    # a live alert, published now
    if not check("the alert stream is connected", b.wait(
            "document.getElementById('live').classList.contains('on')", 15)):
        return
    alert = {"type": "raised", "shop": LONG_SHOP, "agent": AGENTS[0], "metric": "frt",
             "value_ms": 9050, "target_ms": 6000, "samples": 3, "window_s": 300,
             "ts": datetime.datetime.now(ZONE).isoformat(timespec="milliseconds")}
    receivers = r.cli("PUBLISH", "cs:alerts", json.dumps(alert, ensure_ascii=False))
    shown = b.wait("""Array.from(document.querySelectorAll('#alerts li[data-alert]')).some(li =>
        li.textContent.includes(%s) && li.textContent.includes('9.1 秒') && li.textContent.includes('告警'))"""
                   % json.dumps(AGENTS[0]), 15)
    check("an alert PUBLISHed on cs:alerts appears on the page (%s receiver)" % receivers[0], shown)
    markup = dict(alert, agent=AGENTS[2], type="waiting", buyer="<script>document.title=2</script>")
    r.cli("PUBLISH", "cs:alerts", json.dumps(markup, ensure_ascii=False))
    r.cli("PUBLISH", "cs:alerts", "not json <b>bold</b>")
    shown = b.wait("""(() => { const t = document.getElementById('alerts').textContent;
        return t.includes('<script>document.title=2</script>') && t.includes('not json <b>bold</b>'); })()""", 15)
    check("alerts with markup in them are shown as text", shown and b.evaluate(
        "document.querySelectorAll('img, b, #alerts script').length === 0 && document.title === '客服看板 · chatlogd'"))
    overflow(b, "the dashboard with alerts")
    if results["fail"]:
        b.screenshot(os.path.join(tmp, "index.png"))


def agent_page(b, r, base, day, day_key):
    agent = AGENTS[0]
    b.open(base + "/agent.html?" + urllib.parse.urlencode({"shop": LONG_SHOP, "agent": agent,
                                                           "day": day}))
    if not check("the agent page loads", wait_loaded(b, "document.querySelectorAll('svg').length >= 8")):
        return
    page = b.evaluate(READ_AGENT)
    check("the agent's long name is shown whole", page["name"] == agent, page["name"])
    today = counters(r.hgetall(key(LONG_SHOP, agent, "d:" + day_key)))
    month = {}
    for d in range(1, int(day_key[6:]) + 1):
        add(month, counters(r.hgetall(key(LONG_SHOP, agent, "d:%s%02d" % (day_key[:6], d)))))
    for column, c in (("day", today), ("month", month)):
        want = cells(c)
        got = {metric: cols.get(column) for metric, cols in page["periods"].items()}
        compare("agent page, %s column equals Redis (%s inquiries)" % (column, want["inquiries"]),
                got, {k: want[k] for k in got})
    overflow(b, "the agent page")


def overflow(b, where):
    bad = b.evaluate(OVERFLOW)
    check("nothing overflows on %s at 1280x800 with long Chinese names" % where, not bad, bad)


def token(base, secret, day):
    b = Browser(1280, 800)
    try:
        b.open(base + "/?" + urllib.parse.urlencode({"token": secret, "day": day}))
        ok = wait_loaded(b, "document.querySelectorAll('#shops tbody tr[data-shop]').length === 3")
        ok = ok and b.wait("document.getElementById('live').classList.contains('on')", 15)
        if not ok:
            print(b.evaluate("document.body.innerText.slice(0, 500)"))
        return bool(ok)
    finally:
        b.close()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "extra":
        extra(sys.argv[2], sys.argv[3])
    elif mode == "browser":
        try:
            browser(*sys.argv[2:6])
        except Exception as e:  # a broken browser run is a failure, said plainly
            check("the browser run", False, repr(e))
        sys.exit(0 if results["fail"] == 0 else 1)
    elif mode == "token":
        sys.exit(0 if token(*sys.argv[2:5]) else 1)
