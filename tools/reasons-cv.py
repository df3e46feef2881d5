#!/usr/bin/env python3
"""tools/reasons-cv.py: a leave-one-fold-out proxy for the cross-validation of
patterns/lost-reasons.conf inside the jd-dev TUNE half (docs/lost-reasons.md, "Fourth
version").

The rules were written on both tune folds, so their accuracy on a fold is a ceiling. This
tool writes the rules as they would be had one fold never been seen: every top-level
alternative of a reason rule that matches a message (in its scope, after the skip rules) of
some session of the OTHER fold labelled with the rule's reason, but no such session of the
kept fold, is dropped (it finds only the other fold's cases: it can have come from there).
Alternatives that find no tune case at all (written from the rubric or the invented
paraphrases, or firing only on chats with another label) stay, false alarms included. A rule left with no alternative is
dropped. Measure the result with `bench/reasons.sh --patterns OUT --fold OTHER`.

Reads the tune half only (ids ending 0-7), through tools/reasons-audit.py.

Usage: tools/reasons-cv.py [--patterns FILE] [--corpus FILE] --keep A|B OUT
"""
import argparse
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location(
    "audit", os.path.join(ROOT, "tools", "reasons-audit.py"))
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patterns", default=os.path.join(ROOT, "patterns", "lost-reasons.conf"))
    ap.add_argument("--corpus", default=os.environ.get("REASONS_CORPUS") or next(
        (c for c in (os.path.join(ROOT, "..", "shared", "data", "jd-dev", "jd-dev.jsonl"),
                     "/work/shared/data/jd-dev/jd-dev.jsonl") if os.path.exists(c)), None))
    ap.add_argument("--labels", default=os.path.join(ROOT, "tests", "data", "reasons",
                                                     "jd-dev.tune.tsv"))
    ap.add_argument("--keep", choices=["A", "B"], required=True)
    ap.add_argument("out")
    a = ap.parse_args()
    rules = audit.load_rules(a.patterns)
    labels, sessions = audit.load_tune(a.corpus, a.labels, None)
    # (line, alternative) -> set of folds with a session of the rule's reason it matches
    folds = {}
    for sid, msgs in sessions.items():
        fold = "A" if sid[-1].lower() in "0123" else "B"
        for _i, frm, text in audit.evidence(rules, msgs):
            for r in rules:
                if r["reason"] == "skip" or not audit.in_scope(r["scope"], frm):
                    continue
                for k, are in enumerate(r["alts"]):
                    if labels[sid] == r["reason"] and are.search(text):
                        folds.setdefault((r["line"], k), set()).add(fold)
    other = "B" if a.keep == "A" else "A"
    dropped = 0
    out = []
    with open(a.patterns, encoding="utf-8") as f:
        lines = f.read().split("\n")
    byline = {r["line"]: r for r in rules}
    for n, line in enumerate(lines, 1):
        r = byline.get(n)
        if r is None or r["reason"] == "skip":
            out.append(line)
            continue
        keep = [src for k, src in enumerate(r["alt_src"])
                if folds.get((n, k), set()) != {other}]
        dropped += len(r["alt_src"]) - len(keep)
        if not keep:
            out.append("# (dropped: every alternative matched fold %s only)" % other)
            continue
        reason, label, scope, _pat = line.rstrip().split(None, 3)
        # no start guard: it would have to be recomputed; the answers are the same
        out.append("%s\t%s\t%s\t(?:%s)" % (reason, label, scope, "|".join(keep)))
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print("kept fold %s: dropped %d alternatives that match fold %s sessions only" %
          (a.keep, dropped, other), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
