#!/bin/sh
# End-to-end checks of `chatlogd --once` against hand-worked golden reports and the
# CLI contract of SPEC §5 (exit codes, stdin, files read in order).
# usage: batch_cli.sh CHATLOGD SOURCE_DIR
set -u
BIN=$1
SRC=$2
DATA=$SRC/tests/data/golden
CMP="python3 $SRC/tests/integration/jsoncmp.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# Each golden log must give exactly its expected report.
for log in "$DATA"/*.jsonl; do
	name=$(basename "$log" .jsonl)
	want=$DATA/$name.expected.json
	[ -f "$want" ] || continue
	if "$BIN" --once --patterns "$DATA/patterns.conf" "$log" >"$TMP/$name.json" 2>"$TMP/$name.err" &&
		$CMP "$TMP/$name.json" "$want"; then
		ok "golden_$name"
	else
		fail "golden_$name"
		cat "$TMP/$name.err"
	fi
done

# The same log from stdin gives the same report.
if "$BIN" --once --patterns "$DATA/patterns.conf" - <"$DATA/mixed.jsonl" >"$TMP/stdin.json" 2>/dev/null &&
	$CMP "$TMP/stdin.json" "$DATA/mixed.expected.json"; then
	ok stdin_matches_file
else
	fail stdin_matches_file
fi

# Split into two files read one after another: same totals (line counts add up).
head -n 9 "$DATA/mixed.jsonl" >"$TMP/part1.jsonl"
tail -n +10 "$DATA/mixed.jsonl" >"$TMP/part2.jsonl"
if "$BIN" --once --patterns "$DATA/patterns.conf" "$TMP/part1.jsonl" "$TMP/part2.jsonl" \
	>"$TMP/split.json" 2>/dev/null && $CMP "$TMP/split.json" "$DATA/mixed.expected.json"; then
	ok split_files_match_one_file
else
	fail split_files_match_one_file
fi

# Orders in their own file, read after the chats, still find their inquiries.
grep -v '"kind":"' "$DATA/mixed.jsonl" >"$TMP/chats.jsonl"
grep '"kind":"' "$DATA/mixed.jsonl" >"$TMP/orders.jsonl"
"$BIN" --once --patterns "$DATA/patterns.conf" "$TMP/chats.jsonl" "$TMP/orders.jsonl" \
	>"$TMP/sep.json" 2>/dev/null
if python3 - "$TMP/sep.json" "$DATA/mixed.expected.json" <<'PY'
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
assert got["totals"] == want["totals"], (got["totals"], want["totals"])
assert got["shops"]["s1"]["silent_orders"] == 1
PY
then ok orders_file_after_chats_file; else fail orders_file_after_chats_file; fi

# Usage and configuration errors exit 2 with a reason on stderr.
expect_exit2() {
	name=$1
	shift
	"$@" >/dev/null 2>"$TMP/err"
	rc=$?
	if [ "$rc" -eq 2 ] && [ -s "$TMP/err" ]; then ok "$name"; else fail "$name (exit $rc)"; fi
}
expect_exit2 exit2_no_files "$BIN" --once
expect_exit2 exit2_unknown_option "$BIN" --once --bogus "$DATA/mixed.jsonl"
expect_exit2 exit2_missing_file "$BIN" --once "$TMP/does-not-exist.jsonl"
expect_exit2 exit2_bad_patterns "$BIN" --once --patterns /nonexistent/patterns.conf "$DATA/mixed.jsonl"
printf 'price 价格 nowhere 贵\n' >"$TMP/badscope.conf"
expect_exit2 exit2_bad_rule "$BIN" --once --patterns "$TMP/badscope.conf" "$DATA/mixed.jsonl"
printf 'session_idle = soon\n' >"$TMP/bad.conf"
expect_exit2 exit2_bad_config "$BIN" --once --config "$TMP/bad.conf" "$DATA/mixed.jsonl"
expect_exit2 exit2_bad_format "$BIN" --once --format xml "$DATA/mixed.jsonl"

# A bad rule names FILE:LINE:COLUMN.
"$BIN" --once --patterns "$TMP/badscope.conf" "$DATA/mixed.jsonl" 2>"$TMP/err" >/dev/null
if grep -q "badscope.conf:1:" "$TMP/err"; then ok bad_rule_names_file_and_line; else fail bad_rule_names_file_and_line; fi

# A settings error is plain text for people running --once or --check-config; the
# daemon logs it through log.c, with the journal's error priority <3>. Exit 2 each.
settings_error() { # NAME PATTERN CHATLOGD-ARGS...: exit 2 and stderr matches PATTERN
	name=$1
	pattern=$2
	shift 2
	"$BIN" "$@" >/dev/null 2>"$TMP/err"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q "$pattern" "$TMP/err"; then ok "$name"; else
		fail "$name (exit $rc)"
		cat "$TMP/err"
	fi
}
settings_error config_error_plain_once '^chatlogd: .*bad.conf:1: session_idle' \
	--once --config "$TMP/bad.conf" "$DATA/mixed.jsonl"
settings_error config_error_plain_check_config '^chatlogd: .*bad.conf:1: session_idle' \
	--check-config --config "$TMP/bad.conf"
settings_error config_error_daemon_priority_err '^<3>chatlogd: .*bad.conf:1: session_idle' \
	--config "$TMP/bad.conf"
settings_error no_input_daemon_priority_err '^<3>chatlogd: nothing to follow' \
	--config /dev/null

# Bad lines are logged with file and line number.
"$BIN" --once --patterns "$DATA/patterns.conf" "$DATA/mixed.jsonl" 2>"$TMP/err" >/dev/null
if grep -q "mixed.jsonl line=7 " "$TMP/err" && grep -q "line=19 " "$TMP/err"; then
	ok bad_lines_logged_with_file_line
else
	fail bad_lines_logged_with_file_line
fi

# Settings change the numbers: a 1 s frt target makes all three first responses breaches.
"$BIN" --once --patterns "$DATA/patterns.conf" --set frt_target_ms=1000 "$DATA/mixed.jsonl" \
	>"$TMP/target.json" 2>/dev/null
if python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; assert t["frt_breaches"]==3, t' "$TMP/target.json"; then
	ok set_overrides_target
else
	fail set_overrides_target
fi

# An empty input is a valid, empty report.
: >"$TMP/empty.jsonl"
if "$BIN" --once "$TMP/empty.jsonl" >"$TMP/empty.json" 2>/dev/null &&
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r=={"input":{"lines":0,"records":0,"errors":0},"totals":{},"shops":{}}, r' "$TMP/empty.json"; then
	ok empty_input_empty_report
else
	fail empty_input_empty_report
fi

# The scoreboard renders agent names by display width.
if "$BIN" --once --output table --patterns "$DATA/patterns.conf" "$DATA/mixed.jsonl" >"$TMP/table.txt" 2>/dev/null &&
	grep -q "alice" "$TMP/table.txt" && grep -q "shop s1" "$TMP/table.txt"; then
	ok table_output
else
	fail table_output
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
