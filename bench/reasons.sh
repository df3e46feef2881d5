#!/bin/sh
# bench/reasons.sh: how often chatlogd's lost reasons agree with chats labelled by hand
# (docs/lost-reasons.md).
#
# Usage: bench/reasons.sh [--half tune|test|all] [--fold A|B] [--patterns FILE]
#                         [--bin CHATLOGD] [--misses] [CORPUS]
#
# Runs `chatlogd --once --patterns FILE` over CORPUS, a JSON Lines chat log in which
# every session is one buyer talking to agent "s"+buyer (the jd-dev set, see its
# README.md), takes the single lost reason of each agent row, scores `other` and `slow`
# as `none`, and compares with the hand labels of tests/data/reasons/jd-dev.HALF.tsv
# (ID<TAB>REASON). It prints n, accuracy, the accuracy of always answering `none`, a
# confusion matrix (rows: label, columns: chatlogd) and precision and recall per
# reason. Orders are turned off as a source of post-sale conversations
# (post_sale_window=0) and so is the check against the wall clock (the timestamps are
# made up), so every session must come out as exactly one lost inquiry;
# the script checks that and fails otherwise.
#
#   --half H      tune (ids ending 0-7, for tuning the rules), test (ids ending 8-f,
#                 held out: run it for the final figures only) or all. Default tune.
#   --fold F      within the tune half only: A (ids ending 0-3) or B (ids ending 4-7),
#                 the two folds of the cross-validation in docs/lost-reasons.md
#   --patterns F  patterns file (default ROOT/patterns/lost-reasons.conf)
#   --bin B       chatlogd binary (default: build ROOT with cmake into REASONS_BUILD)
#   --misses      also list the sessions where chatlogd and the label disagree, by id
#                 (tune half only: the test half stays unseen)
#   CORPUS        the chat log; default $REASONS_CORPUS, else ROOT/../shared/data/jd-dev/
#                 jd-dev.jsonl, else /work/shared/data/jd-dev/jd-dev.jsonl. The corpus
#                 is not part of the project: when it is missing the script says so,
#                 prints "skipped" and exits 0.
#
# Environment (optional): CHATLOGD_BIN (as --bin), REASONS_CORPUS (as CORPUS),
# REASONS_BUILD (build directory, default ROOT/build-reasons), REASONS_LABELS
# (directory of the label files, default ROOT/tests/data/reasons).
#
# Exit status: 0 when the report was printed (or skipped for want of the corpus),
# non-zero on errors (bad usage, build failure, chatlogd failure, a session not lost
# exactly once, labels that do not match the corpus).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HALF=tune
PATTERNS=$ROOT/patterns/lost-reasons.conf
BIN=${CHATLOGD_BIN:-}
BUILD=${REASONS_BUILD:-$ROOT/build-reasons}
LABELS=${REASONS_LABELS:-$ROOT/tests/data/reasons}
CORPUS=${REASONS_CORPUS:-}
MISSES=0
FOLD=

die() {
	printf 'reasons: %s\n' "$*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--half)
		[ $# -ge 2 ] || die "--half needs tune, test or all"
		HALF=$2
		shift 2
		;;
	--half=*)
		HALF=${1#--half=}
		shift
		;;
	--patterns)
		[ $# -ge 2 ] || die "--patterns needs a file"
		PATTERNS=$2
		shift 2
		;;
	--bin)
		[ $# -ge 2 ] || die "--bin needs a file"
		BIN=$2
		shift 2
		;;
	--fold)
		[ $# -ge 2 ] || die "--fold needs A or B"
		FOLD=$2
		shift 2
		;;
	--fold=*)
		FOLD=${1#--fold=}
		shift
		;;
	--misses)
		MISSES=1
		shift
		;;
	-h | --help)
		sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	-*) die "unknown option $1 (see --help)" ;;
	*)
		CORPUS=$1
		shift
		;;
	esac
done

case $HALF in
tune | test | all) ;;
*) die "--half must be tune, test or all, not '$HALF'" ;;
esac
case $FOLD in
'' | A | B) ;;
a | b) FOLD=$(printf '%s' "$FOLD" | tr ab AB) ;;
*) die "--fold must be A or B, not '$FOLD'" ;;
esac
if [ -n "$FOLD" ] && [ "$HALF" != tune ]; then
	die "--fold splits the tune half only"
fi
if [ "$MISSES" = 1 ] && [ "$HALF" != tune ]; then
	die "--misses lists sessions of the tune half only (the test half is held out)"
fi

if [ -z "$CORPUS" ]; then
	for c in "$ROOT/../shared/data/jd-dev/jd-dev.jsonl" /work/shared/data/jd-dev/jd-dev.jsonl; do
		if [ -r "$c" ]; then
			CORPUS=$c
			break
		fi
	done
fi
if [ -z "$CORPUS" ] || [ ! -r "$CORPUS" ]; then
	printf 'reasons: the jd-dev corpus is not here (%s); it is not part of the project.\n' \
		"${CORPUS:-tried ROOT/../shared/data/jd-dev/jd-dev.jsonl and /work/shared/data/jd-dev/jd-dev.jsonl}"
	printf 'reasons: give its path as an argument or in REASONS_CORPUS.\n'
	echo skipped
	exit 0
fi
CORPUS=$(cd "$(dirname "$CORPUS")" && pwd)/$(basename "$CORPUS")
[ -r "$PATTERNS" ] || die "cannot read the patterns file $PATTERNS"
for h in tune test; do
	[ -r "$LABELS/jd-dev.$h.tsv" ] || die "cannot read the labels $LABELS/jd-dev.$h.tsv"
done
command -v python3 >/dev/null 2>&1 || die "python3 is needed"

if [ -z "$BIN" ]; then
	mkdir -p "$BUILD" || die "cannot create $BUILD"
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/reasons-build.log" 2>&1 ||
		die "cmake configure failed (see $BUILD/reasons-build.log)"
	cmake --build "$BUILD" --target chatlogd -j2 >>"$BUILD/reasons-build.log" 2>&1 ||
		die "build failed (see $BUILD/reasons-build.log)"
	BIN=$BUILD/chatlogd
fi
[ -x "$BIN" ] || die "$BIN is not an executable"

REPORT=$(mktemp "${TMPDIR:-/tmp}/reasons.XXXXXX")
trap 'rm -f "$REPORT"' EXIT INT TERM
# post_sale_window=0: no session is post-sale (there are no orders anyway);
# max_clock_ahead=0: the corpus's made-up timestamps may lie ahead of the wall clock.
"$BIN" --once --patterns "$PATTERNS" --set post_sale_window=0 --set max_clock_ahead=0 \
	--threads 1 "$CORPUS" >"$REPORT" || die "chatlogd failed ($?)"

python3 - "$REPORT" "$LABELS" "$HALF" "$MISSES" "$PATTERNS" "$CORPUS" "$FOLD" <<'EOF'
import json, signal, sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # a reader such as head may stop early

report_path, labels_dir, half, misses, patterns, corpus, fold = sys.argv[1:8]
REASONS = ["out_of_stock", "shipping_time", "courier", "price", "product_doubt",
           "personal", "none"]


def fail(msg):
    print("reasons: " + msg, file=sys.stderr)
    sys.exit(1)


def read_labels(h):
    out = {}
    with open("%s/jd-dev.%s.tsv" % (labels_dir, h), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                fail("%s labels line %d: want ID<TAB>REASON" % (h, n))
            out[parts[0]] = parts[1]
    return out


labels = {"tune": read_labels("tune"), "test": read_labels("test")}
with open(report_path, encoding="utf-8") as f:
    report = json.load(f)

inp = report.get("input", {})
if inp.get("errors", 0) != 0 or inp.get("records", 0) == 0:
    fail("chatlogd read %d records with %d bad lines; every line must be a record" %
         (inp.get("records", 0), inp.get("errors", 0)))

# One row per session: agent "s"+id, lost exactly once, one reason.
pred = {}
for shop in report.get("shops", {}).values():
    for agent, row in shop.get("agents", {}).items():
        if not agent.startswith("s"):
            fail("agent %r is not s+session id: is this the jd-dev corpus?" % agent)
        reasons = row.get("lost_reasons", {})
        if row.get("lost", 0) != 1 or row.get("inquiries", 0) != 1 or \
                sum(reasons.values()) != 1:
            fail("session %s: %d inquiries, %d lost, reasons %r; every session must be "
                 "exactly one lost inquiry" % (agent[1:], row.get("inquiries", 0),
                                               row.get("lost", 0), reasons))
        (r,) = reasons.keys()
        pred[agent[1:]] = "none" if r in ("other", "slow") else r
total_lost = report.get("totals", {}).get("lost", 0)
if total_lost != len(pred):
    fail("%d lost inquiries in the totals but %d session rows" % (total_lost, len(pred)))

every = dict(labels["tune"])
every.update(labels["test"])
if set(every) != set(pred):
    fail("labels and corpus disagree: %d labelled sessions not in the corpus, %d sessions "
         "without a label" % (len(set(every) - set(pred)), len(set(pred) - set(every))))
gold = every if half == "all" else labels[half]
if fold:
    # tune-half folds: A = ids ending 0-3, B = ids ending 4-7
    ends = "0123" if fold == "A" else "4567"
    gold = {s: r for s, r in gold.items() if s[-1].lower() in ends}
for sid, r in gold.items():
    if r not in REASONS:
        fail("session %s: unknown label %r" % (sid, r))
names = REASONS + sorted({p for p in pred.values() if p not in REASONS})

n = len(gold)
right = sum(1 for s in gold if pred[s] == gold[s])
base = sum(1 for s in gold if gold[s] == "none")
print("lost reasons vs hand labels: half %s%s, %s" %
      (half, ", fold %s" % fold if fold else "", patterns))
print("corpus %s: %d sessions, each one lost inquiry" % (corpus, len(pred)))
print("n %d  accuracy %.1f%% (%d)  always-none baseline %.1f%% (%d)" %
      (n, 100.0 * right / n, right, 100.0 * base / n, base))
print()
short = {"out_of_stock": "stock", "shipping_time": "ship", "courier": "courier",
         "price": "price", "product_doubt": "product", "personal": "personal",
         "none": "none", "no_reply": "no_reply"}
col = [short.get(x, x[:8]) for x in names]
print("confusion (rows: label, columns: chatlogd)")
print("%-14s" % "" + "".join("%9s" % c for c in col) + "%9s" % "total")
for g in REASONS:
    row = [sum(1 for s in gold if gold[s] == g and pred[s] == p) for p in names]
    print("%-14s" % g + "".join("%9d" % v for v in row) + "%9d" % sum(row))
print()
print("%-14s %9s %9s %9s %9s %9s" % ("reason", "labelled", "found", "right", "precision",
                                      "recall"))
for r in REASONS:
    lab = sum(1 for s in gold if gold[s] == r)
    got = sum(1 for s in gold if pred[s] == r)
    ok = sum(1 for s in gold if gold[s] == r and pred[s] == r)
    p = "%.1f%%" % (100.0 * ok / got) if got else "-"
    rc = "%.1f%%" % (100.0 * ok / lab) if lab else "-"
    print("%-14s %9d %9d %9d %9s %9s" % (r, lab, got, ok, p, rc))
if misses == "1":
    print()
    print("disagreements (id, label, chatlogd)")
    for s in sorted(gold):
        if pred[s] != gold[s]:
            print("%s\t%s\t%s" % (s, gold[s], pred[s]))
EOF
