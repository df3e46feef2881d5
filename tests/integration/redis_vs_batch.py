#!/usr/bin/env python3
"""Compare counters in Redis with a chatlogd --once report, field by field.

usage: redis_vs_batch.py SOCKET PREFIX REPORT.json [--windows-changed]
SOCKET may be cluster:HOST:PORT, a node of a Redis Cluster: every master is read.

Sums every day hash PREFIX:{SHOP}:a:AGENT:d:* per (shop, agent) and checks it equals
the report's counters for that agent (derived values excluded); agent "*" must equal
the shop totals plus silent orders and sales. Then checks every rolling-window hash
PREFIX:{SHOP}:a:AGENT:w:WINDOW by another path: its counters must equal the sum of
that (shop, agent)'s minute hashes over the window's minutes as of its as_of, and all
windows must carry the same as_of (the last flush's); with --windows-changed
(window_writes = changed) each window keeps the as_of of its last change instead, and
its sums must equal the minutes as of the newest as_of. REPORT "-" checks only the
windows (inquiries still open are not in Redis yet). Exit 0 when all match, 1 otherwise.
A tiny RESP client keeps the tests free of extra packages.
"""
import datetime
import json
import socket
import sys
import urllib.parse


class Redis:
    def __init__(self, path, port=None):
        if port is None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(path)
        else:
            self.sock = socket.create_connection((path, port))
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


def crc16(data):
    """CRC16-XMODEM, the Redis Cluster key hash."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def key_slot(key):
    key = key.encode()
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    return crc16(key) % 16384


class Cluster:
    """Reads a Redis Cluster: SCAN on every master, key commands on the key's own.
    An independent path from chatlogd's C client (its own slot hash and routing)."""

    def __init__(self, host, port):
        self.nodes, self.owner = {}, [None] * 16384
        for first, last, master, *_ in Redis(host, port).call("CLUSTER", "SLOTS"):
            addr = (master[0], master[1])
            if addr not in self.nodes:
                self.nodes[addr] = Redis(*addr)
            for slot in range(first, last + 1):
                self.owner[slot] = self.nodes[addr]

    def call(self, *args):
        return self.owner[key_slot(args[1])].call(*args)


def connect(where):
    if where.startswith("cluster:"):
        host, port = where[len("cluster:"):].rsplit(":", 1)
        return Cluster(host, int(port))
    return Redis(where)


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


def scan(r, pattern):
    keys = []
    for node in r.nodes.values() if isinstance(r, Cluster) else [r]:
        cursor = "0"
        while True:
            cursor, batch = node.call("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")
            keys += batch
            if cursor == "0":
                break
    return keys


def split_key(prefix, key, kind):
    """PREFIX:{SHOP}:a:AGENT:KIND:SUFFIX -> (shop, agent, suffix). Names are
    percent-encoded in keys (contract §6), so neither holds '}' or ':'."""
    rest = key[len(prefix) + 2:]
    shop, rest = rest.split("}:a:", 1)
    agent, got_kind, suffix = rest.split(":")
    assert got_kind == kind and "}" not in shop and "{" not in shop, key
    return urllib.parse.unquote(shop), urllib.parse.unquote(agent), suffix


def redis_days(r, prefix):
    """(shop, agent) -> summed day hash."""
    sums = {}
    for key in scan(r, prefix + ":{*}:a:*:d:*"):
        shop, agent, _ = split_key(prefix, key, "d")
        fields = r.call("HGETALL", key)
        acc = sums.setdefault((shop, agent), {})
        for f, v in zip(fields[::2], fields[1::2]):
            acc[f] = acc.get(f, 0) + int(v)
    return {k: {f: v for f, v in d.items() if v != 0} for k, d in sums.items()}


WINDOW_MINUTES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "24h": 1440}
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def epoch_minute(when):
    return int((when - EPOCH).total_seconds() // 60)


def check_windows(r, prefix):
    """Problems found comparing each window hash with its minute hashes."""
    minutes = {}
    for key in scan(r, prefix + ":{*}:a:*:m:*"):
        shop, agent, stamp = split_key(prefix, key, "m")
        utc = datetime.datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=datetime.timezone.utc)
        fields = r.call("HGETALL", key)
        minutes.setdefault((shop, agent), {})[epoch_minute(utc)] = {
            f: int(v) for f, v in zip(fields[::2], fields[1::2])}
    problems, as_ofs, count = [], set(), 0
    hashes = []
    for key in scan(r, prefix + ":{*}:a:*:w:*"):
        fields = r.call("HGETALL", key)
        got = dict(zip(fields[::2], fields[1::2]))
        as_of = got.pop("as_of", None)
        if as_of is None:
            problems.append(f"{key}: no as_of")
            continue
        as_ofs.add(as_of)
        hashes.append((key, got, as_of))
    # window_writes = changed: a window keeps the as_of of its last change, and its
    # sums must still hold as of the newest flush
    latest = max((datetime.datetime.fromisoformat(a) for a in as_ofs), default=None)
    for key, got, as_of in hashes:
        shop, agent, window = split_key(prefix, key, "w")
        end = epoch_minute(latest if changed_only else datetime.datetime.fromisoformat(as_of))
        want = {}
        for minute, counters in minutes.get((shop, agent), {}).items():
            if end - WINDOW_MINUTES[window] < minute <= end:
                for f, v in counters.items():
                    want[f] = want.get(f, 0) + v
        got = {f: int(v) for f, v in got.items() if f not in DERIVED}
        for f in sorted(set(got) | set(want)):
            if got.get(f, 0) != want.get(f, 0):
                problems.append(f"{key} {f}: window {got.get(f, 0)}, minutes {want.get(f, 0)}")
        count += 1
    if len(as_ofs) > 1 and not changed_only:
        problems.append(f"windows carry {len(as_ofs)} different as_of: {sorted(as_ofs)[:3]}")
    return problems, count


changed_only = False


def main():
    global changed_only
    sock, prefix, report_path = sys.argv[1:4]
    changed_only = sys.argv[4:5] == ["--windows-changed"]
    report = {"shops": {}}
    if report_path != "-":
        report = json.load(open(report_path, encoding="utf-8"))
    got = redis_days(connect(sock), prefix) if report_path != "-" else {}
    want = {}
    for shop, s in report["shops"].items():
        for agent, counters in s["agents"].items():
            want[(shop, agent)] = flatten(counters)
        whole = flatten(s["totals"])
        for f in ("silent_orders", "silent_sales_fen"):
            if s.get(f):
                whole[f] = s[f]
        want[(shop, "*")] = whole
    problems, windows = check_windows(connect(sock), prefix)
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
    print(f"redis matches batch: {len(want)} (shop, agent) hashes compared, "
          f"{windows} window hashes equal their minutes")


if __name__ == "__main__":
    main()
