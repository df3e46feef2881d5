#!/usr/bin/env python3
"""Independent check of a generated chat log against SPEC §2, written without looking at
chatlogd's parser: counts lines, blank lines, valid records and invalid lines (by reason),
checks that event time never goes backwards, and summarises the mix (kinds, senders, ts
forms, escapes, line lengths). Prints one `check: key=value ...` line; exits 1 if
--expect-valid/--expect-invalid are given and differ.

usage: check_log.py LOG [--expect-valid N] [--expect-invalid N] [--max-line-bytes N]
"""
import argparse
import collections
import datetime
import json
import re
import sys

RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
EPOCH = re.compile(r"^\d+(\.\d+)?$")
AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")
STRING_FIELDS = ("kind", "shop", "buyer", "agent", "from", "text", "order")


def parse_ts(value, raw_token):
    """Epoch ms of a ts value, or None when SPEC §2 rejects it."""
    if isinstance(value, str):
        m = RFC3339.match(value)
        if not m:
            return None
        y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
        frac = (m.group(7) or ".")[1:4].ljust(3, "0")
        zone = m.group(8)
        off = 0
        if zone not in ("Z", "z"):
            sign = 1 if zone[0] == "+" else -1
            off = sign * (int(zone[1:3]) * 60 + int(zone[4:6]))
        try:
            base = datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc)
        except ValueError:
            return None
        return int(base.timestamp()) * 1000 + int(frac) - off * 60000
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if raw_token is None or not EPOCH.match(raw_token):
            return None
        whole, _, frac = raw_token.partition(".")
        return int(whole) * 1000 + int(frac[:3].ljust(3, "0"))
    return None


def raw_ts_token(line):
    """The literal text of a numeric ts, to check there is no exponent or sign."""
    m = re.search(r'"ts"\s*:\s*(-?[0-9][0-9.eE+-]*)', line)
    return m.group(1) if m else None


def check_record(raw, max_line_bytes):
    """Returns (None, record) for a valid record or (reason, None)."""
    if len(raw) > max_line_bytes:
        return "overlong", None
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "bad_utf8", None
    try:
        obj = json.loads(line)
    except ValueError:
        return "bad_json", None
    if not isinstance(obj, dict):
        return "bad_json", None
    for f in STRING_FIELDS:
        v = obj.get(f)
        if v is not None and not isinstance(v, str):
            return "wrong_type", None
    ts = parse_ts(obj.get("ts"), raw_ts_token(line))
    if ts is None:
        return "bad_ts", None
    kind = obj.get("kind") or "msg"
    if kind not in ("msg", "order", "pay"):
        return "bad_kind", None
    if not obj.get("buyer"):
        return "missing_buyer", None
    if kind == "msg":
        frm = obj.get("from")
        if frm not in ("buyer", "agent", "bot"):
            return "missing_from", None
        if frm == "agent" and not obj.get("agent"):
            return "missing_agent", None
    amount = obj.get("amount")
    if amount is not None and amount != "":
        if isinstance(amount, bool):
            return "bad_amount", None
        text = amount if isinstance(amount, str) else json.dumps(amount)
        if not AMOUNT.match(text):
            return "bad_amount", None
    obj["_ts"] = ts
    return None, obj


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--expect-valid", type=int)
    ap.add_argument("--expect-invalid", type=int)
    ap.add_argument("--max-line-bytes", type=int, default=65536)
    args = ap.parse_args()

    stats = collections.Counter()
    reasons = collections.Counter()
    last_ts = None
    length_sum = 0
    with open(args.log, "rb") as f:
        for raw in f:
            stats["lines"] += 1
            raw = raw.rstrip(b"\n")
            if raw.strip() == b"":
                stats["blank"] += 1
                continue
            reason, rec = check_record(raw, args.max_line_bytes)
            if reason:
                stats["invalid"] += 1
                reasons[reason] += 1
                continue
            stats["valid"] += 1
            length_sum += len(raw) + 1
            kind = rec.get("kind") or "msg"
            stats["kind_" + kind] += 1
            if kind == "msg":
                stats["from_" + rec["from"]] += 1
                if rec["from"] == "buyer" and not rec.get("agent"):
                    stats["buyer_no_agent"] += 1
            if isinstance(rec["ts"], str):
                stats["ts_utc" if rec["ts"].endswith("Z") else "ts_rfc3339"] += 1
            else:
                stats["ts_epoch"] += 1
            if b"\\" in raw:
                stats["escaped"] += 1
            if "amount" in rec:
                stats["amount_" + type(rec["amount"]).__name__] += 1
            if last_ts is not None and rec["_ts"] < last_ts:
                stats["time_backwards"] += 1
            last_ts = rec["_ts"]
    stats["avg_valid_line_bytes"] = length_sum // max(stats["valid"], 1)
    out = " ".join("%s=%d" % kv for kv in sorted(stats.items()))
    out += " " + " ".join("invalid_%s=%d" % kv for kv in sorted(reasons.items()))
    print("check: " + out)
    ok = True
    if args.expect_valid is not None and args.expect_valid != stats["valid"]:
        print("check: valid=%d, expected %d" % (stats["valid"], args.expect_valid))
        ok = False
    if args.expect_invalid is not None and args.expect_invalid != stats["invalid"]:
        print("check: invalid=%d, expected %d" % (stats["invalid"], args.expect_invalid))
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
