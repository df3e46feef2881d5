#!/bin/sh
# Names in Redis keys (contract §6, v2): shops and agents whose names hold '}', '{',
# ':', '*', '%', newlines and 256 bytes are percent-encoded in key names, so no two
# (shop, agent) pairs share a key and no name leaves its {SHOP} hash tag. Pairs that
# collided before v2 (shop "s", agent "x}:a:y" and shop "s}:a:x", agent "y") get
# their own day hashes, equal to the batch report field by field, and chatlogctl
# finds them by their real names.
# usage: redis_keys.sh CHATLOGD SOURCE_DIR
set -u
BIN=$1
SRC=$2
. "$SRC/tests/integration/private_redis.sh"
CTL=$(dirname "$BIN")/chatlogctl
TMP=$(mktemp -d /tmp/chatlogd-keys-XXXXXX)
REDIS_PID=
passed=0
failed=0
cleanup() {
	[ -n "$REDIS_PID" ] && kill -9 "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

private_redis_start "$TMP/redis.sock" "$TMP" ||
	{ echo "FAIL redis-server did not start"; cat "$TMP/redis.log"; exit 1; }

python3 - "$TMP/hostile.jsonl" <<'PY'
import json, sys
long_name = "长" * 85 + "x"  # 256 bytes of UTF-8
pairs = [("s", "x}:a:y"), ("s}:a:x", "y"), ("s", "x"), ("s:a", "x"), ("{s}", "*a"),
         ("s", "a%3Ab"), ("s", "a:b"), ("s", "line\nbreak"), ("s", long_name),
         (long_name, "{}:*%")]
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for i, (shop, agent) in enumerate(pairs):
        buyer = "b%d" % i
        for ts, sender, text in ((0, "buyer", "在吗"), (3 + i, "agent", "在的")):
            out.write(json.dumps({"ts": 1795485600 + 60 * i + ts, "shop": shop,
                                  "buyer": buyer, "agent": agent, "from": sender,
                                  "text": text}, ensure_ascii=False) + "\n")
        out.write(json.dumps({"ts": 1795485600 + 60 * i + 30, "kind": "pay", "shop": shop,
                              "buyer": buyer, "amount": "%d.00" % (i + 1)}) + "\n")
PY

"$BIN" --once "$TMP/hostile.jsonl" >"$TMP/report.json" 2>"$TMP/once.err" &&
	"$BIN" --once --redis "unix://$TMP/redis.sock" --set instance=keys "$TMP/hostile.jsonl" \
		>/dev/null 2>>"$TMP/once.err"
if python3 "$SRC/tests/integration/redis_vs_batch.py" "$TMP/redis.sock" cs "$TMP/report.json" \
	>"$TMP/cmp.txt" 2>&1; then
	ok "hostile names: $(tail -n 1 "$TMP/cmp.txt")"
else
	fail "hostile names: redis differs from batch"
	cat "$TMP/cmp.txt" "$TMP/once.err"
fi

# Ten pairs, each with its own day hash (no two share a key), plus the shops' "*".
pairs=$(redis-cli -s "$TMP/redis.sock" --scan --pattern 'cs:{*}:a:*:d:*' | grep -vc ':a:\*:d:')
shops=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["shops"]))' \
	"$TMP/report.json")
if [ "$pairs" -eq 10 ] && [ "$shops" -eq 5 ]; then
	ok "ten pairs, ten agent day hashes, five shops"
else
	fail "ten pairs, ten agent day hashes, five shops (got $pairs hashes, $shops shops)"
fi

# Every key keeps one hash tag: exactly one '{' and one '}' (the shop's braces).
if redis-cli -s "$TMP/redis.sock" --scan --pattern 'cs:{*' |
	awk '{ o = gsub(/\{/, "{"); c = gsub(/\}/, "}"); if (o != 1 || c != 1) bad++ } END { exit bad > 0 }'; then
	ok "every key holds exactly one hash tag"
else
	fail "a key holds a brace outside its hash tag"
fi

# chatlogctl finds an agent by its real name.
if "$CTL" --redis "unix://$TMP/redis.sock" top --json --day 2026-11-24 --shop 's' 2>"$TMP/ctl.err" |
	python3 -c '
import json, sys
doc = json.load(sys.stdin)
shops = doc if isinstance(doc, list) else doc.get("shops", [doc])
text = json.dumps(doc, ensure_ascii=False)
assert "x}:a:y" in text and "a:b" in text and "line\\nbreak" in text, text[:400]
'; then
	ok "chatlogctl top shows the agents by their names"
else
	fail "chatlogctl top shows the agents by their names"
	cat "$TMP/ctl.err"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
