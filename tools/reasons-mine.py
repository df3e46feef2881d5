#!/usr/bin/env python3
"""tools/reasons-mine.py: do words that mark a lost reason in one tune fold carry over to
the other? (docs/lost-reasons.md, "Fifth version").

For the messages of one sender (agent or buyer) left after the skip rules, every run of
2 to 4 Chinese characters is a candidate word. On the TRAIN fold, a word marks reason R
when at least MINSUP sessions labelled R hold it and at least MINPREC of the sessions
holding it are labelled R (words that contain a shorter selected word are dropped). On
the other fold the script counts the sessions holding a selected word, how many of them
are labelled R, and how many of those the shipped rules miss ("new right"): the gain a
rule made of those words could bring to chats it was not written on.

Reads the tune half only (ids ending 0-7), through tools/reasons-audit.py. Prints counts
and, for the words, at most 12 per reason: common words, never a corpus sentence.

Usage: tools/reasons-mine.py [--patterns FILE] [--corpus FILE] agent|buyer A|B
                             [MINSUP [MINPREC]]
"""
import argparse
import collections
import importlib.util
import os
import sys

import regex

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location(
    "audit", os.path.join(ROOT, "tools", "reasons-audit.py"))
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

HAN = regex.compile(r"\p{Han}+")


def fold(sid):
    return "A" if sid[-1].lower() in "0123" else "B"


def main():
    ap = argparse.ArgumentParser()
    audit.add_data_arguments(ap)
    ap.add_argument("sender", choices=["agent", "buyer"])
    ap.add_argument("train", choices=["A", "B"])
    ap.add_argument("minsup", nargs="?", type=int, default=3)
    ap.add_argument("minprec", nargs="?", type=float, default=0.8)
    a = ap.parse_args()
    if not a.corpus or not os.path.exists(a.corpus):
        print("reasons-mine: the jd-dev corpus is not here; skipped")
        return 0
    rules = audit.load_rules(a.patterns)
    labels, sessions = audit.load_tune(a.corpus, a.labels, None)
    test = "B" if a.train == "A" else "A"
    words = {}
    for sid, msgs in sessions.items():
        found = set()
        for _i, frm, text in audit.evidence(rules, msgs):
            if frm != a.sender:
                continue
            for run in HAN.findall(text):
                for n in (2, 3, 4):
                    found.update(run[k:k + n] for k in range(len(run) - n + 1))
        words[sid] = found
    pred = {s: audit.pred_of(audit.decide(rules, m)) for s, m in sessions.items()}
    for r in audit.REASONS[:-1]:
        held, marked = collections.Counter(), collections.Counter()
        for sid in sessions:
            if fold(sid) != a.train:
                continue
            for w in words[sid]:
                held[w] += 1
                marked[w] += labels[sid] == r
        chosen = []
        for w in sorted((w for w in held
                         if marked[w] >= a.minsup and marked[w] / held[w] >= a.minprec),
                        key=len):
            if not any(c in w for c in chosen):
                chosen.append(w)
        hit = [s for s in sessions if fold(s) == test and words[s] & set(chosen)]
        right = sum(labels[s] == r for s in hit)
        new = sum(labels[s] == r and pred[s] != r for s in hit)
        labelled = sum(labels[s] == r and fold(s) == test for s in sessions)
        print("%-14s %s words from %s: %2d; on %s they find %2d sessions, %2d labelled %s "
              "(new right %d of %d labelled)  %s" %
              (r, a.sender, a.train, len(chosen), test, len(hit), right, r, new, labelled,
               " ".join(chosen[:12])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
