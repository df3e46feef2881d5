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
paraphrases, or firing only on chats with another label) stay, false alarms included. A rule
left with no alternative is
dropped. Measure the result with `bench/reasons.sh --patterns OUT --fold OTHER`.

It also scores a patterns file on one fold in Python (`--score`), optionally with
SIMULATED whole-inquiry rules (`--inquiry FILE`): a rule scope chatlogd does not have
(docs/lost-reasons.md, "Fourth version"). Each line of FILE is REASON<TAB>MODE<TAB>REGEX;
REGEX is matched (Python `regex`, case-insensitive) against the inquiry's transcript: its
messages left after the skip rules, one per line, prefixed "B:" (buyer), "A:" (agent) or
"R:" (bot). MODE `order`: the rule wins when its reason comes before the reason the
message rules give (as if it stood at its reason's place in the file); `fallback`: only
when no message rule fires (as if it stood last). Lines starting with '#' are comments.
Without --inquiry, --score agrees with bench/reasons.sh --fold.

Reads the tune half only (ids ending 0-7), through tools/reasons-audit.py.

Usage: tools/reasons-cv.py [--patterns FILE] [--corpus FILE] --keep A|B OUT
       tools/reasons-cv.py [--patterns FILE] [--corpus FILE] --score A|B [--inquiry FILE]
                           [--diff]
"""
import argparse
import importlib.util
import os
import re
import sys

import regex

import signal

signal.signal(signal.SIGPIPE, signal.SIG_DFL)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location(
    "audit", os.path.join(ROOT, "tools", "reasons-audit.py"))
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def main():
    ap = argparse.ArgumentParser()
    audit.add_data_arguments(ap)
    ap.add_argument("--keep", choices=["A", "B"])
    ap.add_argument("--score", choices=["A", "B"])
    ap.add_argument("--inquiry", help="simulated whole-inquiry rules (with --score)")
    ap.add_argument("--diff", action="store_true",
                    help="with --score: list sessions the inquiry rules change")
    ap.add_argument("out", nargs="?")
    a = ap.parse_args()
    if not a.corpus or not os.path.exists(a.corpus):
        print("reasons-cv: the jd-dev corpus is not here; skipped")
        return 0
    if a.score:
        return score(a)
    if not a.keep or not a.out:
        ap.error("give --keep A|B OUT, or --score A|B")
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
        m = re.search(r"\(round ([AB])\b", lines[n - 2]) if n >= 2 else None
        if m and m.group(1) == a.keep:
            out.append(line)  # written looking at the kept fold only: kept whole
            continue
        if m:
            out.append("# (dropped: written looking at fold %s)" % other)
            dropped += len(r["alt_src"])
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


def load_inquiry(path):
    out = []
    if not path:
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            reason, mode, rx = line.split("\t", 2)
            if reason not in audit.REASONS[:-1] or mode not in ("order", "fallback"):
                sys.exit("reasons-cv: %s:%d: want REASON<TAB>order|fallback<TAB>REGEX" %
                         (path, n))
            out.append((reason, mode, regex.compile(rx, regex.I | regex.V0)))
    return out


def score(a):
    rules = audit.load_rules(a.patterns)
    inq = load_inquiry(a.inquiry)
    labels, sessions = audit.load_tune(a.corpus, a.labels, a.score)
    order = audit.REASONS
    prefix = {"buyer": "B:", "agent": "A:", "bot": "R:"}

    def predict(msgs):
        p = audit.pred_of(audit.decide(rules, msgs))
        if not inq:
            return p, p
        text = "\n".join(prefix.get(f, "?:") + t for _i, f, t in audit.evidence(rules, msgs))
        for reason, mode, rx in inq:
            wins = order.index(reason) < order.index(p) if mode == "order" else p == "none"
            if wins and rx.search(text):
                return p, reason
        return p, p

    pred, before = {}, {}
    for sid, msgs in sessions.items():
        before[sid], pred[sid] = predict(msgs)
    n = len(labels)
    ok = sum(pred[s] == labels[s] for s in labels)
    base = sum(labels[s] == "none" for s in labels)
    print("fold %s  n %d  accuracy %.1f%% (%d)  always-none %.1f%%" %
          (a.score, n, 100.0 * ok / n, ok, 100.0 * base / n))
    for r in order[:-1]:
        lab = sum(labels[s] == r for s in labels)
        got = sum(pred[s] == r for s in labels)
        right = sum(labels[s] == r and pred[s] == r for s in labels)
        print("  %-14s labelled %3d found %3d right %3d  precision %6s  recall %6s" %
              (r, lab, got, right, "%.1f%%" % (100.0 * right / got) if got else "-",
               "%.1f%%" % (100.0 * right / lab) if lab else "-"))
    if a.diff:
        for s in sorted(labels):
            if pred[s] != before[s]:
                print("changed %s  label %s: %s -> %s" % (s, labels[s], before[s], pred[s]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
