#!/bin/sh
# The HTTP endpoint under abuse (issue 11): 300 connections that send half a request
# and stall, and a client sending megabytes of headers. The daemon keeps at most
# LIMIT_HTTP_CONNECTIONS of them open (the rest wait in the kernel's backlog), keeps
# reading and publishing meanwhile, does not spin, writes no log flood, and answers
# /healthz again as soon as they are gone.
# usage: http_limits.sh CHATLOGD SOURCE_DIR
set -u
BIN=$1
SRC=$2
. "$SRC/tests/integration/private_redis.sh"
TMP=$(mktemp -d /tmp/chatlogd-http-XXXXXX)
REDIS_PID=
DAEMON_PID=
passed=0
failed=0
cleanup() {
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill -9 "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
private_redis_start "$TMP/redis.sock" "$TMP" ||
	{ echo "FAIL redis-server did not start"; cat "$TMP/redis.log"; exit 1; }
mkdir -p "$TMP/logs"
head -n 300 "$SRC/tools/sample/chat-sample.jsonl" >"$TMP/logs/chat.jsonl"
cat >"$TMP/chatlogd.conf" <<CONF
input = $TMP/logs/*.jsonl
redis = unix://$TMP/redis.sock
state_dir = $TMP/state
instance = http
flush_interval_ms = 200
http_listen = 127.0.0.1:$PORT
max_clock_ahead = 0
CONF
"$BIN" --config "$TMP/chatlogd.conf" 2>"$TMP/daemon.log" &
DAEMON_PID=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done

if python3 - "$PORT" "$DAEMON_PID" "$TMP" "$SRC/tools/sample/chat-sample.jsonl" <<'PY'
import os, socket, subprocess, sys, time
port, pid, tmp, sample = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def fds():
    return len(os.listdir("/proc/%s/fd" % pid))
def cpu_ticks():
    fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
def seq():
    out = subprocess.run(["redis-cli", "-s", tmp + "/redis.sock", "get",
                          "cs:instance:http:seq"], capture_output=True, text=True).stdout
    return int(out.strip() or 0)
base = fds()
# 64 MiB of headers: the connection is cut at the header limit, memory stays put
rss0 = int(open("/proc/%s/statm" % pid).read().split()[1])
big = socket.create_connection(("127.0.0.1", port), timeout=20)
try:
    big.sendall(b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * (64 << 20))
    cut = False
except OSError:
    cut = True
big.close()
rss1 = int(open("/proc/%s/statm" % pid).read().split()[1])
socks = []
for _ in range(300):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    socks.append(s)
# the daemon has accepted as many as it keeps (LIMIT_HTTP_CONNECTIONS): its open
# descriptors went up and then held still for 0.3 s
last, still = fds(), 0
for _ in range(100):
    time.sleep(0.1)
    now = fds()
    still = still + 1 if now == last and now > base else 0
    last = now
    if still >= 3:
        break
for s in socks:
    try:
        s.send(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
    except OSError:
        pass
ticks = cpu_ticks()
started = time.monotonic()
# ingest and publishing go on: more lines reach Redis while the crowd stalls
before = seq()
with open(sample, "rb") as f, open(tmp + "/logs/chat.jsonl", "ab") as out:
    out.write(b"".join(f.readlines()[300:600]))
for _ in range(50):
    if seq() > before:
        break
    time.sleep(0.1)
moved = seq() > before
# deliberately: the CPU check needs a 2 s window in which the stalled crowd could spin it
time.sleep(max(0.0, 2.0 - (time.monotonic() - started)))
busy = cpu_ticks() - ticks  # clock ticks (1/100 s) over about 2 s
during = fds()  # the crowd still stalls: a limited number of them held open
for s in socks:
    s.close()
for _ in range(100):  # the backlog drains: each is accepted, reads EOF, is let go
    after = fds()
    if after - base <= 2:
        break
    time.sleep(0.2)
print("fds: %d before, %d during, %d after; cpu %d ticks in ~2 s; published: %s; "
      "rss +%d pages" % (base, during, after, busy, moved, rss1 - rss0))
assert during - base <= 64 + 2, during
assert after - base <= 2, after
assert moved
assert busy < 100
assert cut and rss1 - rss0 < 4096  # < 16 MiB for 64 MiB sent
PY
then
	ok "a crowd of stalled clients and a huge header: bounded, and ingest went on"
else
	fail "a crowd of stalled clients and a huge header"
fi
if curl -sf "http://127.0.0.1:$PORT/healthz" >"$TMP/health.json"; then
	ok "/healthz answers once they are gone"
else
	fail "/healthz answers once they are gone"
fi
lines=$(wc -l <"$TMP/daemon.log")
if [ "$lines" -lt 20 ]; then
	ok "log stayed small ($lines lines)"
else
	fail "log stayed small ($lines lines)"
	tail -n 20 "$TMP/daemon.log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
