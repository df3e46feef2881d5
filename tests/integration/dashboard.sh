#!/bin/sh
# chatlogctl serve in a real browser (issue 13). A private redis-server is filled by
# chatlogd --once --redis from the bundled sample log, moved to end 15 minutes ago,
# plus a shop and agents with long Chinese names and a name that looks like markup.
# Headless Chromium (over the DevTools protocol, dashboard_check.py) then loads the
# pages at 1280x800 and checks that their numbers equal what redis-cli reads (computed
# in Python from the contract's definitions, not by our code), that an alert
# PUBLISHed meanwhile shows up, that nothing overflows, and that no name becomes
# markup. curl checks access: the token (header or parameter), the Host check, the
# refusals at start, and the API's answers to bad requests. Skips (exit 77) only when
# Chromium is not installed; tools/install-deps.sh installs it.
# usage: dashboard.sh CHATLOGD SOURCE_DIR
set -u
BIN=$1
SRC=$2
. "$SRC/tests/integration/private_redis.sh"
CTL=$(dirname "$BIN")/chatlogctl
TMP=$(mktemp -d /tmp/chatlogd-dashboard-XXXXXX)
REDIS_PID=
SERVE_PID=
TOKEN_PID=
passed=0
failed=0

cleanup() {
	[ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null
	[ -n "$TOKEN_PID" ] && kill -9 "$TOKEN_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill -9 "$REDIS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed, so the dashboard's browser test cannot run"
	echo "      (tools/install-deps.sh installs it: apt-get install chromium)"
	exit 77
fi
if [ ! -x "$CTL" ]; then
	echo "FAIL chatlogctl not built next to chatlogd ($CTL)"
	exit 1
fi

# Starts `chatlogctl serve` with the given arguments in the background and waits for
# the URL it prints; sets PORT and the pid in the variable named by $1.
start_serve() {
	var=$1
	out=$2
	shift 2
	"$CTL" --config "$TMP/ctl.conf" serve "$@" >"$out" 2>"$out.err" &
	eval "$var=$!"
	PORT=
	for _ in $(seq 150); do
		PORT=$(sed -n 's|^chatlogctl serve: http://[^ ]*:\([0-9][0-9]*\)/.*|\1|p' "$out")
		[ -n "$PORT" ] && return 0
		sleep 0.1
	done
	echo "  serve did not start:"
	sed 's/^/  | /' "$out" "$out.err"
	return 1
}

# Its own settings: never the machine's /etc/chatlogd/chatlogd.conf (another time zone
# there would move the day the test reads).
cat >"$TMP/ctl.conf" <<CONF
redis = unix://$TMP/redis.sock
timezone = Asia/Shanghai
CONF
private_redis_start "$TMP/redis.sock" "$TMP" ||
	{ echo "FAIL redis-server did not start"; cat "$TMP/redis.log"; exit 1; }

# ---- data: the sample, moved to end 15 minutes ago, and the long names ----
python3 "$SRC/tools/shift-sample.py" "$SRC/tools/sample/chat-sample.jsonl" "$TMP/chat.jsonl"
python3 "$SRC/tests/integration/dashboard_check.py" extra "$TMP/chat.jsonl" \
	"$TMP/extra.jsonl" >"$TMP/day"
DAY=$(cat "$TMP/day")
if "$BIN" --once --redis "unix://$TMP/redis.sock" "$TMP/chat.jsonl" "$TMP/extra.jsonl" \
	>"$TMP/report.json" 2>"$TMP/once.err"; then
	ok "chatlogd --once --redis filled Redis from the sample (day $DAY)"
else
	fail "chatlogd --once --redis"
	tail -n 5 "$TMP/once.err"
fi

# ---- refusals at start ----
timeout 10 "$CTL" --config "$TMP/ctl.conf" serve --listen 0.0.0.0:0 >"$TMP/refuse.out" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q "not a loopback address: give --token-file" "$TMP/refuse.out"; then
	ok "a non-loopback --listen without --token-file is refused (exit 2)"
else
	fail "a non-loopback --listen without --token-file is refused (exit $rc)"
	cat "$TMP/refuse.out"
fi
printf 'short\n' >"$TMP/short.token"
chmod 600 "$TMP/short.token"
timeout 10 "$CTL" --config "$TMP/ctl.conf" serve --listen 0.0.0.0:0 \
	--token-file "$TMP/short.token" \
	>"$TMP/refuse.out" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q "shorter than 16" "$TMP/refuse.out"; then
	ok "a token shorter than 16 characters is refused (exit 2)"
else
	fail "a short token is refused (exit $rc)"
	cat "$TMP/refuse.out"
fi
timeout 10 "$CTL" --config "$TMP/ctl.conf" serve --static-dir "$TMP" >"$TMP/refuse.out" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q "no index.html" "$TMP/refuse.out"; then
	ok "--static-dir without the page is refused (exit 2)"
else
	fail "--static-dir without the page is refused (exit $rc)"
fi

# ---- the browser ----
if start_serve SERVE_PID "$TMP/serve.out" --listen 127.0.0.1:0; then
	BASE=http://127.0.0.1:$PORT
	python3 "$SRC/tests/integration/dashboard_check.py" browser "$BASE" "$TMP/redis.sock" \
		"$DAY" "$TMP" >"$TMP/browser.out" 2>&1
	rc=$?
	cat "$TMP/browser.out"
	passed=$((passed + $(grep -c '^ok ' "$TMP/browser.out")))
	failed=$((failed + $(grep -c '^FAIL ' "$TMP/browser.out")))
	if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$TMP/browser.out"; then
		fail "the browser check stopped (exit $rc)"
	fi

	# ---- HTTP: headers, Host, bad requests ----
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example:80' "$BASE/api/overview")
	[ "$code" = 403 ] && ok "a foreign Host header gets 403 (DNS rebinding)" ||
		fail "a foreign Host header gets 403 (got $code)"
	curl -s -D "$TMP/headers" -o /dev/null "$BASE/"
	if grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'" "$TMP/headers" &&
		grep -qi '^X-Content-Type-Options: nosniff' "$TMP/headers"; then
		ok "pages carry a script-src 'self' policy and nosniff"
	else
		fail "pages carry a script-src 'self' policy and nosniff"
		cat "$TMP/headers"
	fi
	code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$BASE/api/shop?shop=no-such-shop")
	[ "$code" = 404 ] && ok "an unknown shop is 404" || fail "an unknown shop is 404 (got $code)"
	code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$BASE/api/overview?day=2026-02-30")
	[ "$code" = 400 ] && ok "a bad day is 400" || fail "a bad day is 400 (got $code)"
	code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$BASE/api/overview?limit=501")
	[ "$code" = 400 ] && ok "more than 500 shops at once is 400" ||
		fail "more than 500 shops at once is 400 (got $code)"
	code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$BASE/api/overview")
	[ "$code" = 405 ] && ok "POST is 405" || fail "POST is 405 (got $code)"
	code=$(curl -s --path-as-is -o "$TMP/body" -w '%{http_code}' "$BASE/../etc/passwd")
	[ "$code" = 404 ] && ok "paths outside the page's files are 404" ||
		fail "paths outside the page's files are 404 (got $code)"
	if curl -s "$BASE/api/overview?period=1h&limit=1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["period"] == "1h" and d["limit"] == 1 and len(d["shops"]) == 1 and d["shop_count"] == 3, d
'; then
		ok "/api/overview?period=1h&limit=1: one shop of three, a window"
	else
		fail "/api/overview?period=1h&limit=1"
	fi

	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID"
	rc=$?
	SERVE_PID=
	if [ "$rc" = 0 ]; then
		ok "serve stops on SIGTERM with exit 0 (no leak under ASan)"
	else
		fail "serve stops on SIGTERM with exit 0 (exit $rc)"
		tail -n 30 "$TMP/serve.out.err"
	fi
else
	fail "chatlogctl serve starts"
fi

# ---- a token ----
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/token"
chmod 600 "$TMP/token"
TOKEN=$(cat "$TMP/token")
if start_serve TOKEN_PID "$TMP/token.out" --listen 127.0.0.1:0 --token-file "$TMP/token"; then
	BASE=http://127.0.0.1:$PORT
	code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/overview")
	[ "$code" = 401 ] && ok "token: the API without it is 401" ||
		fail "token: the API without it is 401 (got $code)"
	code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/overview?token=${TOKEN}x")
	[ "$code" = 401 ] && ok "token: a wrong one is 401" || fail "token: a wrong one is 401 ($code)"
	code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/overview?token=$TOKEN")
	[ "$code" = 200 ] && ok "token: ?token= opens the API" || fail "token: ?token= ($code)"
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		"$BASE/api/overview")
	[ "$code" = 200 ] && ok "token: Authorization: Bearer opens the API" ||
		fail "token: Authorization: Bearer ($code)"
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' \
		"$BASE/api/overview?token=$TOKEN")
	[ "$code" = 200 ] && ok "token: any Host with the token (a dashboard on the network)" ||
		fail "token: any Host with the token ($code)"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$BASE/api/events")
	[ "$code" = 401 ] && ok "token: the alert stream without it is 401" ||
		fail "token: the alert stream without it is 401 ($code)"
	if python3 "$SRC/tests/integration/dashboard_check.py" token "$BASE" "$TOKEN" "$DAY" \
		>"$TMP/token-browser.out" 2>&1; then
		ok "token: the page opened with ?token= loads its numbers and its alert stream"
	else
		fail "token: the page opened with ?token="
		cat "$TMP/token-browser.out"
	fi
	kill -TERM "$TOKEN_PID"
	wait "$TOKEN_PID"
	TOKEN_PID=
	if grep -q "$TOKEN" "$TMP/token.out" "$TMP/token.out.err"; then
		fail "token: never printed"
	else
		ok "token: never printed"
	fi
else
	fail "chatlogctl serve --token-file starts"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
