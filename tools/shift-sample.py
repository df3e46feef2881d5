#!/usr/bin/env python3
"""Moves a chat log in time so that its last record is AGO seconds before now (default
900: 15 minutes, past session_idle, so every conversation is closed at once). Only the
"ts" values change, by the same amount (the gaps stay); lines without a readable ts,
the sample's bad lines among them, stay as they are. Used by tools/quickstart.sh and
the dashboard's browser test.
usage: shift-sample.py IN OUT [AGO_SECONDS]"""
import datetime, re, sys, time

TS = re.compile(r'"ts":("([^"]+)"|[0-9]+(\.[0-9]+)?)')  # RFC 3339 or epoch seconds
UTC = datetime.timezone.utc
ago = float(sys.argv[3]) if len(sys.argv) > 3 else 900
lines = open(sys.argv[1], "rb").read().decode("utf-8", "surrogateescape").split("\n")
def when(line):
    m = TS.search(line)
    try:
        if m and m.group(2):
            return m, datetime.datetime.fromisoformat(m.group(2).replace("Z", "+00:00"))
        return m, m and datetime.datetime.fromtimestamp(float(m.group(1)), UTC)
    except ValueError:
        return m, None
last = max(t for m, t in map(when, lines) if t)
shift = datetime.datetime.fromtimestamp(time.time() - ago, UTC) - last
def moved(line):
    m, t = when(line)
    if not t:
        return line
    if m.group(2):
        new = '"%s"' % (t + shift).isoformat(timespec="milliseconds")
    else:
        new = "%.3f" % (t + shift).timestamp()
    return line[:m.start(1)] + new + line[m.end(1):]
out = "\n".join(moved(line) for line in lines)
open(sys.argv[2], "wb").write(out.encode("utf-8", "surrogateescape"))
