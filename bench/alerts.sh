#!/bin/sh
# bench/alerts.sh: how long after the event an alert reaches a Redis subscriber
# (issue 10), at the default flush_interval_ms (1 s), under background traffic.
#
#   waiting  from the moment the buyer has waited past the 6 s target (turn + 6 s)
#            to the PUBLISH on cs:alerts
#   raised   from the write of the agent line whose response raises the alert to
#            the PUBLISH
#
# usage: bench/alerts.sh CHATLOGD [BASELINE_CHATLOGD]
# Prints p50, p99 and max of each for CHATLOGD, and beside them for the baseline (a
# build of an earlier commit, e.g. the one whose alerts went with the flush tick).
# Environment: ALERTS_WAITING (buyers, default 60), ALERTS_RAISED (agents, 15),
# ALERTS_LOAD (background lines per second, default 1000).
set -eu
[ $# -ge 1 ] || { sed -n '2,14p' "$0"; exit 2; }
run() {
	python3 - "$1" <<'PY'
import datetime, json, os, shutil, socket, subprocess, sys, tempfile, threading, time
binary = sys.argv[1]
n_wait = int(os.environ.get("ALERTS_WAITING", "60"))
n_raise = int(os.environ.get("ALERTS_RAISED", "15"))
load = int(os.environ.get("ALERTS_LOAD", "1000"))
d = tempfile.mkdtemp(prefix="chatlogd-alerts-")
os.makedirs(d + "/logs")
redis = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", d + "/r.sock",
                          "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
for _ in range(100):
    if os.path.exists(d + "/r.sock"):
        break
    time.sleep(0.05)
open(d + "/c.conf", "w").write("input = %s/logs/*.jsonl\nredis = unix://%s/r.sock\n"
                              "state_dir = %s/state\nhttp_listen =\n" % (d, d, d))
def stamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="milliseconds")
lock = threading.Lock()
def write(path, rec):
    with lock, open(d + "/logs/" + path, "a") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
for name in ("probe.jsonl", "load.jsonl"):
    open(d + "/logs/" + name, "w").close()
daemon = subprocess.Popen([binary, "--config", d + "/c.conf"], stderr=subprocess.DEVNULL)
time.sleep(1.5)
sub = socket.socket(socket.AF_UNIX)
sub.connect(d + "/r.sock")
sub.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$9\r\ncs:alerts\r\n")
got = []
def reader():
    buf = b""
    while True:
        data = sub.recv(1 << 16)
        if not data:
            return
        buf += data
        *lines, buf = buf.split(b"\r\n")
        for line in lines:
            if line.startswith(b"{"):
                got.append((time.time(), json.loads(line)))
threading.Thread(target=reader, daemon=True).start()
stop = False
def background():  # another shop, answered at once: no alerts, only traffic
    i = 0
    while not stop:
        t = time.time()
        for _ in range(max(1, load // 100)):
            i += 1
            who = "bg%d" % (i % 500)
            write("load.jsonl", {"ts": stamp(t), "shop": "load", "buyer": who, "agent": "z",
                                 "from": "buyer" if i % 2 else "agent", "text": "在吗"})
        time.sleep(max(0.0, 0.01 - (time.time() - t)))
threading.Thread(target=background, daemon=True).start()
turns = {}
for i in range(n_wait):
    t = time.time()
    write("probe.jsonl", {"ts": stamp(t), "shop": "probe", "buyer": "w%d" % i,
                          "agent": "alice", "from": "buyer", "text": "在吗"})
    turns["w%d" % i] = t
    time.sleep(0.137)
time.sleep(8)
waits = [when - (turns[m["buyer"]] + m["target_ms"] / 1000)
         for when, m in got if m.get("type") == "waiting" and m.get("buyer") in turns]
raises = []
for k in range(n_raise):
    agent = "slow%d" % k
    base = time.time()
    for i in range(3):
        write("probe.jsonl", {"ts": stamp(base - 30 + i), "shop": "probe", "buyer": "%s-%d" % (agent, i),
                              "agent": agent, "from": "buyer", "text": "q"})
    time.sleep(0.2)
    for i in range(3):
        t = time.time()
        write("probe.jsonl", {"ts": stamp(t), "shop": "probe", "buyer": "%s-%d" % (agent, i),
                              "agent": agent, "from": "agent", "text": "a"})
        time.sleep(0.05)
    last = t
    deadline = time.time() + 3
    while time.time() < deadline and not any(m.get("type") == "raised" and m.get("agent") == agent
                                             for _, m in got):
        time.sleep(0.01)
    for when, m in got:
        if m.get("type") == "raised" and m.get("agent") == agent:
            raises.append(when - last)
            break
stop = True
daemon.terminate()
daemon.wait()
redis.terminate()
shutil.rmtree(d, ignore_errors=True)
def show(name, xs):
    if not xs:
        return "%s: none" % name
    xs = sorted(xs)
    pick = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))]
    return "%s n=%d p50 %.0f ms p99 %.0f ms max %.0f ms" % (name, len(xs), 1000 * pick(0.5),
                                                           1000 * pick(0.99), 1000 * xs[-1])
print("%s | %s" % (show("waiting", waits), show("raised", raises)))
PY
}
printf '%-10s %s\n' "chatlogd" "$(run "$1")"
[ $# -ge 2 ] && printf '%-10s %s\n' "baseline" "$(run "$2")"
exit 0
