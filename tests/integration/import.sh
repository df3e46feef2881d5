#!/bin/sh
# End-to-end checks of chatlogd-import (docs/import.md): each invented export in
# tests/data/import/ converts to its hand-written records, the day they make gives the
# hand-worked chatlogd --once report, and importing again, in another order or with
# overlapping exports changes nothing.
# usage: import.sh CHATLOGD SOURCE_DIR   (chatlogd-import is looked for beside CHATLOGD)
set -u
BIN=$1
SRC=$2
IMPORT=$(dirname "$BIN")/chatlogd-import
DATA=$SRC/tests/data/import
CMP="python3 $SRC/tests/integration/jsoncmp.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# Compares JSON Lines record by record, msg_id aside (it is checked for shape: 32 hex
# digits, all different).
same_records() {
	python3 - "$1" "$2" <<'PY'
import json, re, sys
got = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
want = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
ids = [g.pop("msg_id", None) for g in got]
assert all(i and re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids
assert len(set(ids)) == len(ids), "repeated msg_id"
for n, (g, w) in enumerate(zip(got, want), 1):
    assert g == w, f"record {n}: got {g}, want {w}"
assert len(got) == len(want), f"{len(got)} records, want {len(want)}"
PY
}

CHATS="$DATA/workbench-midnight.txt $DATA/workbench-transfer.txt $DATA/chatpage-overlap.txt"
ALL="$CHATS $DATA/orders-gbk.csv"

# Each export alone gives its expected records.
for input in $ALL; do
	name=${input##*/}
	name=${name%.*}
	if "$IMPORT" -o - "$input" >"$TMP/$name.jsonl" 2>"$TMP/$name.err" &&
		same_records "$TMP/$name.jsonl" "$DATA/$name.expected.jsonl"; then
		ok "records_$name"
	else
		fail "records_$name"
		cat "$TMP/$name.err"
	fi
done

# Every line is accounted for in the summary: the midnight export's 34 lines.
if grep -q '^lines=34 message=19 recalled=5 status=4 system=1 transfer=1 card=3 blank=1$' \
	"$TMP/workbench-midnight.err"; then
	ok summary_counts_every_line
else
	fail summary_counts_every_line
	cat "$TMP/workbench-midnight.err"
fi

# The day imported into one file: the hand-worked report (tests/data/import/README.md).
# shellcheck disable=SC2086
if "$IMPORT" -o "$TMP/day.jsonl" $ALL 2>"$TMP/day.err" &&
	"$BIN" --once "$TMP/day.jsonl" >"$TMP/day.json" 2>>"$TMP/day.err" &&
	$CMP "$TMP/day.json" "$DATA/day.expected.json"; then
	ok day_report_matches_hand_worked
else
	fail day_report_matches_hand_worked
	cat "$TMP/day.err"
fi

# A second import of the same files writes nothing and the report stays the same.
cp "$TMP/day.jsonl" "$TMP/day.before"
# shellcheck disable=SC2086
if "$IMPORT" -o "$TMP/day.jsonl" $ALL 2>"$TMP/again.err" &&
	cmp -s "$TMP/day.jsonl" "$TMP/day.before" && grep -q ' written=0$' "$TMP/again.err" &&
	"$BIN" --once "$TMP/day.jsonl" >"$TMP/again.json" 2>/dev/null &&
	$CMP "$TMP/again.json" "$DATA/day.expected.json"; then
	ok second_import_changes_nothing
else
	fail second_import_changes_nothing
	cat "$TMP/again.err"
fi

# Exports imported one at a time, overlapping ones included (the chat page repeats the
# first four messages of workbench-transfer.txt), chats and orders into separate
# files: the same report, and a third round of each changes nothing.
for round in 1 2; do
	for input in $DATA/chatpage-overlap.txt $DATA/workbench-transfer.txt \
		$DATA/workbench-midnight.txt; do
		"$IMPORT" -o "$TMP/chats.jsonl" "$input" 2>>"$TMP/apart.err"
	done
	"$IMPORT" -o "$TMP/orders.jsonl" "$DATA/orders-gbk.csv" 2>>"$TMP/apart.err"
	[ "$round" = 1 ] && cat "$TMP/chats.jsonl" "$TMP/orders.jsonl" >"$TMP/apart.before"
done
if cat "$TMP/chats.jsonl" "$TMP/orders.jsonl" | cmp -s - "$TMP/apart.before" &&
	"$BIN" --once "$TMP/chats.jsonl" "$TMP/orders.jsonl" >"$TMP/apart.json" 2>/dev/null &&
	$CMP "$TMP/apart.json" "$DATA/day.expected.json"; then
	ok overlapping_exports_one_at_a_time
else
	fail overlapping_exports_one_at_a_time
	cat "$TMP/apart.err"
fi

# Appending older records than the file holds is allowed but warned about: chatlogd
# reads one file in order.
"$IMPORT" -o "$TMP/late.jsonl" "$DATA/workbench-midnight.txt" 2>/dev/null
if "$IMPORT" -o "$TMP/late.jsonl" "$DATA/workbench-transfer.txt" 2>"$TMP/late.err" &&
	grep -q 'older than' "$TMP/late.err"; then
	ok older_records_warned
else
	fail older_records_warned
	cat "$TMP/late.err"
fi

# A line that fits nowhere is an error with FILE:LINE, the rest is imported, exit 1.
printf '青禾棉麻旗舰店:小美 2026-11-24 10:00:00\r\n在的亲\r\n路人甲 2026-11-24 10:00:05\r\n我是谁\r\ntb_b1 2026-11-24 10:00:09\r\n有货吗\r\n' \
	>"$TMP/bad.txt"
"$IMPORT" -o "$TMP/bad.jsonl" --buyer tb_b1 "$TMP/bad.txt" 2>"$TMP/bad.err"
status=$?
if [ "$status" = 1 ] && grep -q "bad.txt:3: \"路人甲\" is neither" "$TMP/bad.err" &&
	grep -q '^lines=6 message=4 error=2$' "$TMP/bad.err" && [ "$(wc -l <"$TMP/bad.jsonl")" = 2 ]; then
	ok error_reported_with_file_and_line
else
	fail error_reported_with_file_and_line
	cat "$TMP/bad.err"
fi

# Usage errors exit 2.
if "$IMPORT" "$DATA/orders-gbk.csv" 2>/dev/null; [ $? = 2 ]; then
	ok no_output_is_usage_error
else
	fail no_output_is_usage_error
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
