#!/usr/bin/env python3
"""Check that every day hash in Redis is complete: equal, field by field, to the sum of
the minute hashes of its (shop, agent) whose UTC minute falls on that day in TIMEZONE
(contract §6: minute keys are UTC, day keys are days of `timezone`).

usage: days_vs_minutes.py SOCKET PREFIX [TIMEZONE]   (default Asia/Shanghai)

Minute hashes expire after minute_ttl (2 days), so run it on data stamped within that.
Exit 0 when all match, 1 otherwise.
"""
import datetime
import os
import sys
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from redis_vs_batch import Redis, scan, split_key  # noqa: E402


def sums(r, prefix, kind, day_of):
    out = {}
    for key in scan(r, prefix + ":{*}:a:*:" + kind + ":*"):
        shop, agent, stamp = split_key(prefix, key, kind)
        fields = r.call("HGETALL", key)
        acc = out.setdefault((shop, agent, day_of(stamp)), {})
        for f, v in zip(fields[::2], fields[1::2]):
            acc[f] = acc.get(f, 0) + int(v)
    return {k: {f: v for f, v in d.items() if v != 0} for k, d in out.items()}


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    zone = zoneinfo.ZoneInfo(sys.argv[3] if len(sys.argv) == 4 else "Asia/Shanghai")

    def local_day(stamp):
        utc = datetime.datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=datetime.timezone.utc)
        return utc.astimezone(zone).strftime("%Y%m%d")

    r = Redis(sys.argv[1])
    days = sums(r, sys.argv[2], "d", lambda stamp: stamp)
    minutes = sums(r, sys.argv[2], "m", local_day)
    problems = [f"{key}: day {days.get(key)} != minutes {minutes.get(key)}"
                for key in sorted(set(days) | set(minutes)) if days.get(key) != minutes.get(key)]
    for p in problems[:20]:
        print(p)
    if problems or not days:
        print(f"{len(problems)} of {len(days)} day hashes differ from their minutes")
        sys.exit(1)
    print(f"{len(days)} day hashes equal the sum of their minute hashes")


if __name__ == "__main__":
    main()
