#!/usr/bin/env python3
"""Compare counters in Redis with a chatlogd --once report, field by field.

usage: redis_vs_batch.py SOCKET PREFIX REPORT.json

Sums every day hash PREFIX:{SHOP}:a:AGENT:d:* per (shop, agent) and checks it equals
the report's counters for that agent (derived values excluded); agent "*" must equal
the shop totals plus silent orders and sales. Exit 0 when all match, 1 otherwise.
A tiny RESP client keeps the tests free of extra packages.
"""
import json
import socket
import sys


class Redis:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.sock.recv(65536)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return int(rest) if kind == b":" else rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode("utf-8")
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise RuntimeError("bad reply " + repr(line))

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self._reply()


DERIVED = {"frt_avg_ms", "art_avg_ms", "reply_rate", "conversion", "pay_conversion", "aov"}


def flatten(counters):
    """A report COUNTERS object as Redis field -> value (no derived values)."""
    flat = {}
    for key, value in counters.items():
        if key in DERIVED:
            continue
        if key == "lost_reasons":
            flat.update({"lost:" + r: n for r, n in value.items()})
        elif key in ("frt_h", "resp_h"):
            flat.update({key + ":" + b: n for b, n in value.items()})
        else:
            flat[key] = value
    return flat


def redis_days(r, prefix):
    """(shop, agent) -> summed day hash."""
    sums = {}
    cursor = "0"
    keys = []
    while True:
        cursor, batch = r.call("SCAN", cursor, "MATCH", prefix + ":{*}:a:*:d:*", "COUNT", "1000")
        keys += batch
        if cursor == "0":
            break
    for key in keys:
        rest = key[len(prefix) + 2:]
        shop, rest = rest.split("}:a:", 1)
        agent = rest.rsplit(":d:", 1)[0]
        fields = r.call("HGETALL", key)
        acc = sums.setdefault((shop, agent), {})
        for f, v in zip(fields[::2], fields[1::2]):
            acc[f] = acc.get(f, 0) + int(v)
    return {k: {f: v for f, v in d.items() if v != 0} for k, d in sums.items()}


def main():
    sock, prefix, report_path = sys.argv[1:4]
    report = json.load(open(report_path, encoding="utf-8"))
    got = redis_days(Redis(sock), prefix)
    want = {}
    for shop, s in report["shops"].items():
        for agent, counters in s["agents"].items():
            want[(shop, agent)] = flatten(counters)
        whole = flatten(s["totals"])
        for f in ("silent_orders", "silent_sales_fen"):
            if s.get(f):
                whole[f] = s[f]
        want[(shop, "*")] = whole
    problems = []
    for key in sorted(set(got) | set(want)):
        g, w = got.get(key, {}), want.get(key, {})
        for f in sorted(set(g) | set(w)):
            if g.get(f, 0) != w.get(f, 0):
                problems.append(f"{key[0]}/{key[1]} {f}: redis {g.get(f, 0)}, batch {w.get(f, 0)}")
    for p in problems[:40]:
        print(p)
    if problems:
        print(f"{len(problems)} differences")
        sys.exit(1)
    print(f"redis matches batch: {len(want)} (shop, agent) hashes compared")


if __name__ == "__main__":
    main()
