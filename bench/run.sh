#!/bin/bash
# bench/run.sh: chatlogd's throughput and memory benchmarks (docs/benchmarks.md).
#
# Builds a Release tree (unless CHATLOGD_BIN names a binary), generates a seeded 1M-line
# chat log, then times, interleaved on the same machine and the same log:
#   wc -l                        the floor: reading the bytes and finding newlines
#   chatlogd --once --threads 1  the full batch pipeline, pinned to one core
#   chatlogd --once --threads 2  the same on two threads (reader | engine), all cores
#   mtail --one_shot chat.mtail  the peer, doing at most chatlogd's work
# best of BENCH_RUNS each, and prints lines/s and the ratios (each chatlogd run
# against mtail, labelled one core or two threads). mtail runs twice per round,
# pinned to chatlogd's core and free on all cores; the faster of the two is the one the
# ratio is taken against (on a small VM, Go's scheduler is faster on one core). Then the memory test: peak
# RSS of chatlogd --once over BENCH_HELD concurrently open inquiries minus a small
# baseline, per inquiry. Everything is also written to bench/out/results.txt.
#
# Environment (all optional):
#   CHATLOGD_BIN      chatlogd to measure (default: build ROOT into BENCH_BUILD)
#   BENCH_BUILD       build directory (default ROOT/build-bench)
#   BENCH_OUT         output directory (default ROOT/bench/out)
#   BENCH_RUNS        timed runs of wc and chatlogd (default 5)
#   BENCH_MTAIL_RUNS  timed runs of mtail, which is slow (default 3)
#   BENCH_LINES       lines in the throughput log (default 1000000)
#   BENCH_SEED        generator seed (default 1)
#   BENCH_HELD        concurrently held inquiries in the memory test (default 1000000)
#   BENCH_CPU         the core the one-core chatlogd run is pinned to (default 0)
#   BENCH_SKIP        space-separated parts to skip: mtail memory parsers check
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/bench/out}
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
RUNS=${BENCH_RUNS:-5}
MTAIL_RUNS=${BENCH_MTAIL_RUNS:-3}
LINES=${BENCH_LINES:-1000000}
SEED=${BENCH_SEED:-1}
HELD=${BENCH_HELD:-1000000}
HELD_BASE=1000
CPU=${BENCH_CPU:-0}
SKIP=" ${BENCH_SKIP:-} "
PATTERNS=$ROOT/patterns/lost-reasons.conf

mkdir -p "$OUT"
RESULTS=$OUT/results.txt
: >"$RESULTS"

BENCH_NAME=bench
. "$ROOT/bench/common.sh"

# Runs "$@" once, stdout to $RUN_OUT and stderr to $RUN_ERR; its wall-clock seconds
# go to SECS (a global, so that a failure here ends the script, not a subshell).
RUN_OUT=$OUT/last.out
RUN_ERR=$OUT/last.err
time_once() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >"$RUN_OUT" 2>"$RUN_ERR" || die "failed ($?): $* (see $RUN_ERR)"
	t1=$(date +%s%N)
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
}

# Prints "best median" of the seconds given as arguments.
best_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.4f %.4f\n", v[1], m }'
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# ---- build ----
if [[ -z ${CHATLOGD_BIN:-} ]]; then
	echo "bench: building $ROOT into $BUILD (Release)" >&2
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$OUT/build.log" 2>&1 ||
		die "cmake configure failed (see $OUT/build.log)"
	cmake --build "$BUILD" -j"$(nproc)" --target chatlogd gen_chatlog json_parsers \
		>>"$OUT/build.log" 2>&1 || die "build failed (see $OUT/build.log)"
	CHATLOGD_BIN=$BUILD/chatlogd
	GEN=$BUILD/bench/gen_chatlog
	JSON_PARSERS=$BUILD/bench/json_parsers
else
	# The generator needs nothing but libc: build it beside the results.
	GEN=$OUT/gen_chatlog
	${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -o "$GEN" "$ROOT/bench/gen_chatlog.c" ||
		die "cannot build gen_chatlog"
	JSON_PARSERS=${JSON_PARSERS_BIN:-}
fi
[[ -x $CHATLOGD_BIN ]] || die "no chatlogd at $CHATLOGD_BIN"
[[ -r $PATTERNS ]] || die "no patterns file at $PATTERNS"

# ---- the machine ----
say "chatlogd benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, $(uname -sr)"
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "chatlogd: $CHATLOGD_BIN (--threads 1 pinned to core $CPU, and --threads 2 on all cores)"
say "mtail: $(mtail --version 2>&1 | head -1 | cut -d' ' -f1-3) (pinned to core $CPU, and on all cores)"

# ---- the log ----
LOG=$OUT/chat-$LINES.log
# --valid-utf8-only: mtail 3.0.0~rc50 stops reading a file at its first invalid UTF-8
# byte, so those noise lines are left out of the side-by-side log (other noise stays).
"$GEN" --seed "$SEED" --lines "$LINES" --valid-utf8-only -o "$LOG" 2>"$OUT/gen.txt" ||
	die "generator failed"
GEN_STATS=$(cat "$OUT/gen.txt")
gen_stat() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $GEN_STATS"; }
LOG_LINES=$(gen_stat lines)
LOG_BYTES=$(stat -c %s "$LOG")
say "log: $LOG"
say "     $(grouped "$LOG_LINES") lines, $(awk -v b="$LOG_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB, seed $SEED; valid $(gen_stat valid), invalid $(gen_stat invalid), blank $(gen_stat blank)"
if ! skipped check && command -v python3 >/dev/null; then
	python3 "$ROOT/bench/check_log.py" "$LOG" --expect-valid "$(gen_stat valid)" \
		--expect-invalid "$(gen_stat invalid)" >"$OUT/check.txt" ||
		die "generated log fails its independent check (see $OUT/check.txt)"
	say "     independently checked against SPEC §2 (bench/check_log.py): ok"
fi
cat "$LOG" >/dev/null # into the page cache: every tool reads from memory

# ---- side by side ----
MTAIL_PROGS=$OUT/mtail-progs
rm -rf "$MTAIL_PROGS"
mkdir -p "$MTAIL_PROGS"
cp "$ROOT/bench/chat.mtail" "$MTAIL_PROGS/"
MTAIL_CMD=(mtail --one_shot --one_shot_format json --progs "$MTAIL_PROGS" --logs "$LOG"
	--logtostderr --port 0)
MTAIL_PINNED_CMD=(taskset -c "$CPU" "${MTAIL_CMD[@]}")
CHATLOGD_CMD=(taskset -c "$CPU" "$CHATLOGD_BIN" --once --threads 1 --patterns "$PATTERNS" "$LOG")
CHATLOGD2_CMD=("$CHATLOGD_BIN" --once --threads 2 --patterns "$PATTERNS" "$LOG")
# shellcheck disable=SC2016 # $1 is the inner shell's
WC_CMD=(sh -c 'exec wc -l <"$1"' wc "$LOG")

# One untimed run of chatlogd, to check its report before trusting its speed.
"${CHATLOGD_CMD[@]}" >"$OUT/report.json" 2>"$OUT/report.err" ||
	die "chatlogd --once failed (see $OUT/report.err)"
read -r REP_LINES REP_RECORDS REP_ERRORS REP_INQUIRIES < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["input"]["lines"], r["input"]["records"], r["input"]["errors"],
      r["totals"].get("inquiries", 0))' "$OUT/report.json") || die "report is not JSON"
say "chatlogd report: lines $REP_LINES, records $REP_RECORDS, errors $REP_ERRORS, inquiries $REP_INQUIRIES"
# Two threads must give the same report, byte for byte.
"${CHATLOGD2_CMD[@]}" >"$OUT/report-2.json" 2>"$OUT/report-2.err" ||
	die "chatlogd --once --threads 2 failed (see $OUT/report-2.err)"
cmp -s "$OUT/report.json" "$OUT/report-2.json" ||
	die "chatlogd --threads 2 report differs from --threads 1 ($OUT/report-2.json)"
say "chatlogd --threads 2 report: identical (cmp)"
EXPECT_RECORDS=$(gen_stat valid)
if [[ $REP_RECORDS != "$EXPECT_RECORDS" ]]; then
	say "  WARNING: chatlogd accepted $REP_RECORDS records; the generator wrote $EXPECT_RECORDS valid ones"
fi

declare -a T_WC=() T_CL=() T_C2=() T_MT=() T_MP=()
runs_max=$((RUNS > MTAIL_RUNS ? RUNS : MTAIL_RUNS))
for ((i = 1; i <= runs_max; i++)); do
	echo "bench: round $i/$runs_max" >&2
	if ((i <= RUNS)); then
		time_once "${WC_CMD[@]}"
		T_WC+=("$SECS")
		[[ $(cat "$RUN_OUT") == "$LOG_LINES" ]] || die "wc -l disagrees with the generator"
		time_once "${CHATLOGD_CMD[@]}"
		T_CL+=("$SECS")
		time_once "${CHATLOGD2_CMD[@]}"
		T_C2+=("$SECS")
	fi
	if ((i <= MTAIL_RUNS)) && ! skipped mtail; then
		time_once "${MTAIL_PINNED_CMD[@]}"
		T_MP+=("$SECS")
		cp "$RUN_OUT" "$OUT/mtail.json"
		time_once "${MTAIL_CMD[@]}"
		T_MT+=("$SECS")
		cp "$RUN_OUT" "$OUT/mtail-all.json"
	fi
done

read -r WC_BEST WC_MED < <(best_median "${T_WC[@]}")
read -r CL_BEST CL_MED < <(best_median "${T_CL[@]}")
WC_RATE=$(rate "$LOG_LINES" "$WC_BEST")
CL_RATE=$(rate "$LOG_LINES" "$CL_BEST")
CL_RATE_MED=$(rate "$LOG_LINES" "$CL_MED")
read -r C2_BEST C2_MED < <(best_median "${T_C2[@]}")
C2_RATE=$(rate "$LOG_LINES" "$C2_BEST")
C2_RATE_MED=$(rate "$LOG_LINES" "$C2_MED")

say ""
say "throughput on $(grouped "$LOG_LINES") lines (best of $RUNS; mtail best of $MTAIL_RUNS)"
printf '%-34s %9s %9s %14s %14s\n' "tool" "best s" "median s" "lines/s best" "lines/s med" | tee -a "$RESULTS"
printf '%-34s %9s %9s %14s %14s\n' "wc -l (floor)" "$WC_BEST" "$WC_MED" "$(grouped "$WC_RATE")" \
	"$(grouped "$(rate "$LOG_LINES" "$WC_MED")")" | tee -a "$RESULTS"
printf '%-34s %9s %9s %14s %14s\n' "chatlogd --once -t1 (core $CPU)" "$CL_BEST" "$CL_MED" \
	"$(grouped "$CL_RATE")" "$(grouped "$CL_RATE_MED")" | tee -a "$RESULTS"
printf '%-34s %9s %9s %14s %14s\n' "chatlogd --once -t2 (all cores)" "$C2_BEST" "$C2_MED" \
	"$(grouped "$C2_RATE")" "$(grouped "$C2_RATE_MED")" | tee -a "$RESULTS"
if ((${#T_MT[@]} > 0)); then
	read -r MP_BEST MP_MED < <(best_median "${T_MP[@]}")
	read -r MA_BEST MA_MED < <(best_median "${T_MT[@]}")
	printf '%-34s %9s %9s %14s %14s\n' "mtail --one_shot (core $CPU)" "$MP_BEST" "$MP_MED" \
		"$(grouped "$(rate "$LOG_LINES" "$MP_BEST")")" \
		"$(grouped "$(rate "$LOG_LINES" "$MP_MED")")" | tee -a "$RESULTS"
	printf '%-34s %9s %9s %14s %14s\n' "mtail --one_shot (all cores)" "$MA_BEST" "$MA_MED" \
		"$(grouped "$(rate "$LOG_LINES" "$MA_BEST")")" \
		"$(grouped "$(rate "$LOG_LINES" "$MA_MED")")" | tee -a "$RESULTS"
	# The ratio is taken against mtail's faster setting.
	if awk -v a="$MP_BEST" -v b="$MA_BEST" 'BEGIN { exit !(a <= b) }'; then
		MT_BEST=$MP_BEST MT_MED=$MP_MED MT_WHICH="core $CPU"
	else
		MT_BEST=$MA_BEST MT_MED=$MA_MED MT_WHICH="all cores"
	fi
	MT_RATE=$(rate "$LOG_LINES" "$MT_BEST")
	# mtail read the whole file only if every line landed in exactly one counter.
	MT_ALL=1
	for json in "$OUT/mtail.json" "$OUT/mtail-all.json"; do
		MT_SEEN=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(int(sum(lv["Value"]["Value"] for name in ("chat_messages_total", "chat_orders_total",
          "chat_payments_total", "chat_unparsed_total")
          for m in d.get(name, []) for lv in m.get("LabelValues", []))))' "$json")
		if [[ $MT_SEEN != "$LOG_LINES" ]]; then
			say "  WARNING: mtail counted $MT_SEEN lines of $LOG_LINES ($json): its time is not comparable"
			MT_ALL=0
		fi
	done
	if ((MT_ALL)); then
		say "  (mtail counted all $(grouped "$LOG_LINES") lines, pinned and not)"
	fi
fi
say ""
say "chatlogd lines/s on one core (--threads 1):      $(grouped "$CL_RATE")   (target >= 1,000,000; median $(grouped "$CL_RATE_MED"))"
say "chatlogd lines/s on two threads (--threads 2):   $(grouped "$C2_RATE")   (median $(grouped "$C2_RATE_MED"); $(ratio "$CL_BEST" "$C2_BEST")x the one-core run)"
if [[ -n ${MT_RATE:-} ]]; then
	say "chatlogd / mtail, one core:                      $(ratio "$CL_RATE" "$MT_RATE")x   (against mtail on $MT_WHICH; medians: $(ratio "$MT_MED" "$CL_MED")x)"
	say "chatlogd / mtail, two threads:                   $(ratio "$C2_RATE" "$MT_RATE")x   (target >= 20x; against mtail on $MT_WHICH; medians: $(ratio "$MT_MED" "$C2_MED")x)"
fi
say "chatlogd / wc -l, one core:                      $(ratio "$CL_RATE" "$WC_RATE")   (the floor is 1.00)"

# ---- memory per held inquiry ----
if ! skipped memory; then
	HELD_LOG=$OUT/held-$HELD.log
	BASE_LOG=$OUT/held-$HELD_BASE.log
	"$GEN" --seed "$SEED" --concurrent-inquiries "$HELD" -o "$HELD_LOG" 2>/dev/null
	"$GEN" --seed "$SEED" --concurrent-inquiries "$HELD_BASE" -o "$BASE_LOG" 2>/dev/null
	peak_kb() { # the smallest peak RSS (KiB) of two runs of chatlogd over $1
		local best="" kb
		for _ in 1 2; do
			/usr/bin/time -f %M -o "$OUT/time.txt" "$CHATLOGD_BIN" --once \
				--patterns "$PATTERNS" "$1" >"$OUT/held-report.json" 2>"$OUT/held.err" ||
				die "chatlogd --once $1 failed (see $OUT/held.err)"
			kb=$(tail -1 "$OUT/time.txt")
			[[ -z $best || $kb -lt $best ]] && best=$kb
		done
		echo "$best"
	}
	held_inquiries() {
		python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"].get("inquiries", 0))' \
			"$OUT/held-report.json"
	}
	BASE_KB=$(peak_kb "$BASE_LOG")
	BASE_INQ=$(held_inquiries)
	HELD_KB=$(peak_kb "$HELD_LOG")
	HELD_INQ=$(held_inquiries)
	PER=$(awk -v a="$HELD_KB" -v b="$BASE_KB" -v n="$HELD" -v m="$HELD_BASE" \
		'BEGIN { printf "%.1f", (a - b) * 1024 / (n - m) }')
	say ""
	say "memory: peak RSS (/usr/bin/time %M, best of 2)"
	say "  baseline, $(grouped "$HELD_BASE") open inquiries:   $(grouped "$BASE_KB") KiB   (report: $BASE_INQ inquiries)"
	say "  $(grouped "$HELD") open inquiries:     $(grouped "$HELD_KB") KiB   (report: $HELD_INQ inquiries)"
	say "  per held inquiry: $PER bytes   (target <= 256)"
	[[ $HELD_INQ == "$HELD" ]] || say "  WARNING: the report counts $HELD_INQ inquiries, not $HELD"
fi

# ---- JSON parsers ----
if ! skipped parsers && [[ -n $JSON_PARSERS && -x $JSON_PARSERS ]]; then
	say ""
	say "JSON parsers on the same log (bench/json_parsers.c, core $CPU):"
	taskset -c "$CPU" "$JSON_PARSERS" --runs 3 "$LOG" | tee -a "$RESULTS"
fi

say ""
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: results in $RESULTS" >&2
