#!/bin/sh
# End-to-end checks of `chatlogd --once` against hand-worked golden reports and the
# CLI contract of reference.md §5 (exit codes, stdin, files merged by event time).
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

# A golden made of several files: NAME.files lists them in command-line order (the
# order that breaks ties between equal timestamps); they are read as one sequence
# merged by ts, on one thread and on two.
for list in "$DATA"/*.files; do
	name=$(basename "$list" .files)
	set --
	while read -r part; do set -- "$@" "$DATA/$part"; done <"$list"
	for threads in 1 2; do
		if "$BIN" --once --threads $threads --patterns "$DATA/patterns.conf" "$@" \
			>"$TMP/$name.json" 2>"$TMP/$name.err" &&
			$CMP "$TMP/$name.json" "$DATA/$name.expected.json"; then
			ok "golden_${name}_threads_$threads"
		else
			fail "golden_${name}_threads_$threads"
			cat "$TMP/$name.err"
		fi
	done
done

# The same log from stdin gives the same report.
if "$BIN" --once --patterns "$DATA/patterns.conf" - <"$DATA/mixed.jsonl" >"$TMP/stdin.json" 2>/dev/null &&
	$CMP "$TMP/stdin.json" "$DATA/mixed.expected.json"; then
	ok stdin_matches_file
else
	fail stdin_matches_file
fi

# Split into two files: same totals (line counts add up).
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

# reference.md §2: the files are one sequence merged by ts, so orders given FIRST find
# their inquiries too (v1 read them before the chats: all silent).
"$BIN" --once --patterns "$DATA/patterns.conf" "$TMP/orders.jsonl" "$TMP/chats.jsonl" \
	>"$TMP/sep-first.json" 2>/dev/null
if python3 - "$TMP/sep-first.json" "$DATA/mixed.expected.json" <<'PY'
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
assert got["totals"] == want["totals"], (got["totals"], want["totals"])
assert got["shops"] == want["shops"]
PY
then ok orders_file_before_chats_file; else fail orders_file_before_chats_file; fi

# The shipped sample spread over files by shop, by agent and at random, the files
# named in reverse: every layout gives the one-file report, with one thread and two.
if python3 - "$BIN" "$SRC/tools/sample/chat-sample.jsonl" "$TMP" <<'PY'
import json, random, subprocess, sys
binary, sample, tmp = sys.argv[1:4]
lines = open(sample, "rb").read().split(b"\n")
lines.pop()  # after the last newline
def field(name):
    def get(line):
        try:
            return str(json.loads(line).get(name) or "-")
        except ValueError:
            return "bad"
    return get
def run(files, threads):
    out = subprocess.run([binary, "--once", "--threads", threads] + files,
                         capture_output=True, check=True).stdout
    return json.loads(out)
want = run([sample], "1")
rng = random.Random(7)
for layout, key in (("shop", field("shop")), ("agent", field("agent")),
                    ("random", lambda line: str(rng.randrange(4)))):
    groups = {}
    for line in lines:
        groups.setdefault(key(line), []).append(line)
    files = []
    for i, name in enumerate(sorted(groups, reverse=True)):
        path = "%s/%s-%d.jsonl" % (tmp, layout, i)
        open(path, "wb").write(b"\n".join(groups[name]) + b"\n")
        files.append(path)
    assert len(files) > 2, layout
    for threads in ("1", "2"):
        got = run(files, threads)
        assert got == want, (layout, threads)
PY
then ok layouts_give_the_one_file_report; else fail layouts_give_the_one_file_report; fi

# A record stamped past max_clock_ahead is a bad line: counted, logged with its
# file:line, and it moves nothing (reference.md §1; the same rule as live mode).
{ cat "$DATA/mixed.jsonl"; echo; echo '{"ts":"9999-01-01T00:00:00Z","shop":"s1","buyer":"b1","from":"buyer","text":"x"}'; } \
	>"$TMP/future.jsonl"
"$BIN" --once --patterns "$DATA/patterns.conf" "$TMP/future.jsonl" >"$TMP/future.json" \
	2>"$TMP/future.err"
if python3 - "$TMP/future.json" "$DATA/mixed.expected.json" <<'PY' &&
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
assert got["shops"] == want["shops"] and got["totals"] == want["totals"]
assert got["input"]["errors"] == want["input"]["errors"] + 1
assert got["input"]["lines"] == want["input"]["lines"] + 1
PY
	grep -q "future.jsonl line=$(wc -l <"$TMP/future.jsonl") error=\"timestamp too far ahead" "$TMP/future.err"; then
	ok record_from_the_future_is_a_bad_line
else
	fail record_from_the_future_is_a_bad_line
	cat "$TMP/future.err"
fi

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
	env ${JOURNAL_STREAM_FOR_TEST:+JOURNAL_STREAM=$JOURNAL_STREAM_FOR_TEST} \
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
# --check-config lists every error of the file, each as FILE:LINE, in line order, then
# a bad --set; exit 2.
printf 'session_idle = soon\nfrt_target_ms = 8000\nbogus_key = 1\nnot a setting\nday_ttl = -1d\n' \
	>"$TMP/bad3.conf"
"$BIN" --check-config --config "$TMP/bad3.conf" --set art_target_ms=slow >"$TMP/out" 2>"$TMP/err"
rc=$?
cat >"$TMP/want" <<WANT
chatlogd: $TMP/bad3.conf:1: session_idle: expected a whole number, not "soon"
chatlogd: $TMP/bad3.conf:3: bogus_key: unknown key
chatlogd: $TMP/bad3.conf:4: expected key = value, [section] or a comment
chatlogd: $TMP/bad3.conf:5: day_ttl: must not be negative
chatlogd: art_target_ms: expected a whole number, not "slow"
WANT
if [ "$rc" -eq 2 ] && cmp -s "$TMP/err" "$TMP/want" && [ ! -s "$TMP/out" ]; then
	ok check_config_lists_every_error
else
	fail "check_config_lists_every_error (exit $rc)"
	diff "$TMP/want" "$TMP/err"
fi
# Under journald (JOURNAL_STREAM names stderr's device and inode) the level is the
# journal's priority prefix, <3> for err; anywhere else it is a word.
: >"$TMP/err"
JOURNAL_STREAM_FOR_TEST=$(stat -c %d:%i "$TMP/err")
settings_error config_error_daemon_priority_err '^<3>chatlogd: .*bad.conf:1: session_idle' \
	--config "$TMP/bad.conf"
settings_error no_input_daemon_priority_err '^<3>chatlogd: nothing to follow' \
	--config /dev/null
JOURNAL_STREAM_FOR_TEST=1:1
settings_error journal_stream_of_another_file_words '^chatlogd: error: nothing to follow' \
	--config /dev/null
JOURNAL_STREAM_FOR_TEST=
settings_error no_journal_words '^chatlogd: error: nothing to follow' --config /dev/null

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

# --threads 2 (a reader thread parses, the engine thread counts) gives byte for byte
# what --threads 1 gives: report, table and stderr (bad lines with file:line, in
# order), exit status. Inputs: the shipped sample (6,000 lines: several hand-offs),
# a messy copy of it (CRLF, blank and whitespace lines, bad JSON, missing fields,
# invalid UTF-8, overlong lines, a last line without newline), several files, stdin,
# and a directory among the files (a read error in the middle of the input).
SAMPLE=$SRC/tools/sample/chat-sample.jsonl
python3 - "$SAMPLE" "$TMP/messy.jsonl" <<'PY'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
out = []
for i, line in enumerate(lines):
    if i % 7 == 3:
        line += b"\r"
    out.append(line)
    if i % 97 == 5:
        out.append(b"")
    if i % 131 == 7:
        out.append(b" \t \r")
    if i % 211 == 11:
        out.append(line[: len(line) // 2])
    if i % 307 == 13:
        out.append(b'{"ts":"2026-11-24T10:00:00+08:00","shop":"s1","from":"buyer","text":"x"}')
    if i % 401 == 17:
        out.append(line.replace(b'"text":"', b'"text":"\xc3\x28'))
    if i % 1009 == 19:
        out.append(b'{"ts":"2026-11-24T10:00:00+08:00","buyer":"b","from":"buyer","text":"'
                   + b"x" * 70000 + b'"}')
open(sys.argv[2], "wb").write(b"\n".join(out) + b'\n{"ts":"2026-11-24T23:00:00+08:00","buyer":"z","from":"buyer","text":"last"}')
PY
head -n 2500 "$TMP/messy.jsonl" >"$TMP/messy-a.jsonl"
tail -n +2501 "$TMP/messy.jsonl" >"$TMP/messy-b.jsonl"
same_both_ways() { # NAME CHATLOGD-ARGS... (stdin from $STDIN_FILE when set)
	name=$1
	shift
	for t in 1 2; do
		"$BIN" --once --threads "$t" "$@" <"${STDIN_FILE:-/dev/null}" >"$TMP/t$t.out" 2>"$TMP/t$t.err"
		echo "exit $?" >>"$TMP/t$t.err"
	done
	if cmp -s "$TMP/t1.out" "$TMP/t2.out" && cmp -s "$TMP/t1.err" "$TMP/t2.err" &&
		[ -s "$TMP/t1.out" ]; then
		ok "threads_same_$name"
	else
		fail "threads_same_$name"
		diff "$TMP/t1.out" "$TMP/t2.out" | head -5
		diff "$TMP/t1.err" "$TMP/t2.err" | head -5
	fi
}
PAT="--patterns $SRC/patterns/lost-reasons.conf"
same_both_ways sample $PAT "$SAMPLE"
same_both_ways sample_table $PAT --output table "$SAMPLE"
same_both_ways golden --patterns "$DATA/patterns.conf" "$DATA/mixed.jsonl"
same_both_ways messy $PAT "$TMP/messy.jsonl"
same_both_ways messy_short_lines $PAT --set max_line_bytes=300 "$TMP/messy.jsonl"
same_both_ways files $PAT "$TMP/messy-a.jsonl" "$SAMPLE" "$TMP/messy-b.jsonl"
STDIN_FILE=$TMP/messy.jsonl same_both_ways stdin $PAT "$TMP/messy-a.jsonl" - "$DATA/mixed.jsonl"
same_both_ways read_error $PAT "$TMP/messy-a.jsonl" "$TMP" "$TMP/messy-b.jsonl"
same_both_ways regex_format --format "regex:$SRC/tests/data/format_minimal.re" \
	"$SRC/tests/data/parse_qianniu_sample.log"
# The checks above compare like with like: make sure they saw what they were meant to.
"$BIN" --once --threads 2 $PAT "$TMP/messy-a.jsonl" "$TMP" "$TMP/messy-b.jsonl" \
	>"$TMP/rd.json" 2>"$TMP/rd.err"
rc=$?
# The files are read side by side, so the directory fails at its first read, before
# messy-a's bad lines; ten bad lines a second are logged: messy-a's first ten.
if [ "$rc" -eq 1 ] && [ "$(grep -c "messy-a.jsonl line=" "$TMP/rd.err")" -eq 10 ] &&
	head -n 1 "$TMP/rd.err" | grep -q "read failed file=$TMP: Is a directory" &&
	grep -q "line longer than max_line_bytes" "$TMP/rd.err"; then
	ok threads_2_read_error_logged_in_order
else
	fail "threads_2_read_error_logged_in_order (exit $rc)"
	cat "$TMP/rd.err"
fi
if python3 - "$TMP/t1.out" "$TMP/rd.json" "$TMP/messy.jsonl" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
lines = open(sys.argv[3], "rb").read().count(b"\n") + 1  # the last line has no newline
assert r["input"]["lines"] == lines, (r["input"], lines)
assert r["input"]["errors"] > 30 and r["input"]["records"] > 5000, r["input"]
PY
then ok threads_2_counts_every_line; else fail threads_2_counts_every_line; fi
expect_exit2 exit2_bad_threads "$BIN" --once --threads 3 "$DATA/mixed.jsonl"

# A report that cannot be written (here: a full disk) fails the run with a reason,
# in both output formats.
if [ -w /dev/full ]; then
	for output in table json; do
		"$BIN" --once --output $output --patterns "$DATA/patterns.conf" "$DATA/mixed.jsonl" \
			>/dev/full 2>"$TMP/full.err"
		rc=$?
		if [ "$rc" -eq 1 ] && grep -q "cannot write the .* report" "$TMP/full.err"; then
			ok "report_write_failure_exits_1_$output"
		else
			fail "report_write_failure_exits_1_$output (exit $rc)"
			cat "$TMP/full.err"
		fi
	done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
