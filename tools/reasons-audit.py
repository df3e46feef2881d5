#!/usr/bin/env python3
"""tools/reasons-audit.py: which rule, and which alternative of it, decides each session of
the jd-dev TUNE half, for the cross-validation of patterns/lost-reasons.conf
(docs/lost-reasons.md, "Cross-validation").

It re-implements chatlogd's choice of a lost reason in Python (the `regex` module, which
accepts the variable-length lookbehinds PCRE2 does): skip rules of a message's scope leave
it out; the first reason rule in file order that matches any message in its scope wins.
`--check` compares that with `bench/reasons.sh`'s figures; it is an analysis aid only,
chatlogd stays the reference.

It reads the tune half only (ids ending 0-7); the test half (ids ending 8-f) is held out and
is never read: sessions of it are dropped as the corpus is read.

Usage: tools/reasons-audit.py [--patterns FILE] [--corpus FILE] [--fold A|B] MODE
  MODE is one of
    --summary        accuracy per fold and overall (as bench/reasons.sh computes it)
    --alts           per rule line and top-level alternative: in how many tune sessions
                     it matches, with the label of each (fold A / fold B), and in how many
                     it decides the reason; the audit for session-specific phrases
    --misses         the sessions the rules get wrong, with the deciding rule and
                     alternative (and, with --show, the messages that fired)
    --session ID     every rule line that matches a message of one tune session
  --show             also print the matched message text to the terminal (for reading
                     only: never copy it into the project, the corpus's terms forbid it)
"""
import argparse
import json
import os
import sys

try:
    import regex
except ImportError:  # pragma: no cover
    sys.exit("reasons-audit: needs the Python 'regex' module")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REASONS = ["out_of_stock", "shipping_time", "courier", "price", "product_doubt", "personal",
           "none"]
FOLDS = {"A": "0123", "B": "4567"}


def split_alts(p):
    alts, depth, cur, i = [], 0, "", 0
    while i < len(p):
        c = p[i]
        if c == "\\":
            cur += p[i:i + 2]
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < len(p) and p[j] == "^":
                j += 1
            if j < len(p) and p[j] == "]":
                j += 1
            while p[j] != "]":
                if p[j] == "\\":
                    j += 1
                j += 1
            cur += p[i:j + 1]
            i = j + 1
            continue
        if c == "(":
            depth += 1
        if c == ")":
            depth -= 1
        if c == "|" and depth == 0:
            alts.append(cur)
            cur = ""
            i += 1
            continue
        cur += c
        i += 1
    alts.append(cur)
    return alts


def load_rules(path):
    rules = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\r\n").rstrip(" ")
            if not line or line.startswith("#"):
                continue
            reason, _label, scope, pat = line.split(None, 3)
            body = pat
            m = regex.match(r"\(\?=\[[^\]]*\]\)\(\?:", pat)
            if m and pat.endswith(")"):
                body = pat[m.end():-1]
            alts = split_alts(body)
            # an `inquiry` rule reads the transcript: ^ and $ match at each message
            flags = regex.I | regex.V0 | (regex.M if scope == "inquiry" else 0)
            rules.append({
                "line": n, "reason": reason, "scope": scope,
                "re": regex.compile(pat, flags),
                "alts": [regex.compile(a, flags) for a in alts],
                "alt_src": alts,
            })
    return rules


def load_tune(corpus, labels_path, fold):
    labels = {}
    with open(labels_path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                sid, r = line.split("\t")
                labels[sid] = r
    keep = set(FOLDS[fold]) if fold else set("01234567")
    labels = {s: r for s, r in labels.items() if s[-1].lower() in keep}
    sessions = {}
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            sid = rec["buyer"]
            if sid not in labels:  # the test half (and the other fold) is never kept
                continue
            sessions.setdefault(sid, []).append((rec["from"], rec["text"]))
    return labels, sessions


def in_scope(rule_scope, frm):
    return rule_scope == "any" or rule_scope == frm


def evidence(rules, msgs):
    """messages left after the skip rules, as (index, from, text)"""
    out = []
    for i, (frm, text) in enumerate(msgs):
        if any(r["reason"] == "skip" and in_scope(r["scope"], frm) and r["re"].search(text)
               for r in rules):
            continue
        out.append((i, frm, text))
    return out


TRANSCRIPT_BYTES = 8192  # LIMIT_TRANSCRIPT_BYTES
PREFIX = {"buyer": "B:", "agent": "A:", "bot": "R:"}


def transcript(ev):
    """what an `inquiry` rule reads: the messages left after the skip rules, one per
    line, "B:", "A:" or "R:" first, line breaks inside a message made spaces; a message
    that would take it past TRANSCRIPT_BYTES ends it (daemon/transcript.c)"""
    out, size = [], 0
    for _i, frm, text in ev:
        if frm not in PREFIX or not text:
            continue
        line = PREFIX[frm] + regex.sub(r"[\r\n]", " ", text) + "\n"
        size += len(line.encode("utf-8"))
        if size > TRANSCRIPT_BYTES:
            break
        out.append(line)
    return "".join(out)


def hits(rules, msgs):
    """every (rule, message index, alternative index) that matches, in file order; an
    `inquiry` rule's message index is -1"""
    ev = evidence(rules, msgs)
    chat = None
    for r in rules:
        if r["reason"] == "skip":
            continue
        if r["scope"] == "inquiry":
            if chat is None:
                chat = transcript(ev)
            if r["re"].search(chat):
                alt = next((k for k, a in enumerate(r["alts"]) if a.search(chat)), -1)
                yield r, -1, alt
            continue
        for i, frm, text in ev:
            if in_scope(r["scope"], frm) and r["re"].search(text):
                alt = next((k for k, a in enumerate(r["alts"]) if a.search(text)), -1)
                yield r, i, alt


def decide(rules, msgs):
    for h in hits(rules, msgs):
        return h
    return None


def pred_of(h):
    return h[0]["reason"] if h else "none"


def add_data_arguments(ap):
    """--patterns, --corpus and --labels with their defaults; reasons-cv.py takes the same."""
    ap.add_argument("--patterns", default=os.path.join(ROOT, "patterns", "lost-reasons.conf"))
    ap.add_argument("--corpus", default=os.environ.get("REASONS_CORPUS") or next(
        (c for c in (os.path.join(ROOT, "..", "shared", "data", "jd-dev", "jd-dev.jsonl"),
                     "/work/shared/data/jd-dev/jd-dev.jsonl") if os.path.exists(c)), None))
    ap.add_argument("--labels", default=os.path.join(ROOT, "tests", "data", "reasons",
                                                     "jd-dev.tune.tsv"))


def main():
    ap = argparse.ArgumentParser(add_help=True)
    add_data_arguments(ap)
    ap.add_argument("--fold", choices=["A", "B"])
    ap.add_argument("--show", action="store_true")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--summary", action="store_true")
    g.add_argument("--alts", action="store_true")
    g.add_argument("--misses", action="store_true")
    g.add_argument("--session")
    a = ap.parse_args()
    if not a.corpus or not os.path.exists(a.corpus):
        print("reasons-audit: the jd-dev corpus is not here; skipped")
        return 0
    if a.session and a.session[-1].lower() not in "01234567":
        sys.exit("reasons-audit: %s is a test-half session (held out)" % a.session)
    rules = load_rules(a.patterns)
    labels, sessions = load_tune(a.corpus, a.labels, a.fold)

    if a.session:
        msgs = sessions.get(a.session)
        if msgs is None:
            sys.exit("reasons-audit: no tune session %s" % a.session)
        print("label %s" % labels[a.session])
        for r, i, alt in hits(rules, msgs):
            print("line %d %s/%s msg %d alt %d: %s" % (r["line"], r["reason"], r["scope"], i,
                                                      alt, r["alt_src"][alt][:80]))
            if a.show and i >= 0:
                print("    %s: %s" % (msgs[i][0], msgs[i][1]))
        return 0

    decided = {s: decide(rules, m) for s, m in sessions.items()}
    pred = {s: pred_of(h) for s, h in decided.items()}

    if a.summary:
        for name, ends in (("A", "0123"), ("B", "4567"), ("tune", "01234567")):
            ss = [s for s in labels if s[-1].lower() in ends]
            if not ss:
                continue
            ok = sum(pred[s] == labels[s] for s in ss)
            base = sum(labels[s] == "none" for s in ss)
            print("%-5s n %3d  accuracy %5.1f%% (%d)  always-none %5.1f%%" %
                  (name, len(ss), 100.0 * ok / len(ss), ok, 100.0 * base / len(ss)))
            for r in REASONS[:-1]:
                lab = sum(labels[s] == r for s in ss)
                got = sum(pred[s] == r for s in ss)
                okr = sum(labels[s] == r and pred[s] == r for s in ss)
                print("      %-14s lab %3d found %3d right %3d" % (r, lab, got, okr))
        return 0

    if a.misses:
        for s in sorted(labels):
            if pred[s] != labels[s]:
                h = decided[s]
                where = ("line %d alt %d: %s" % (h[0]["line"], h[2], h[0]["alt_src"][h[2]][:70])
                         if h else "-")
                print("%s\t%s\t%s\t%s" % (s, labels[s], pred[s], where))
                if a.show and h and h[1] >= 0:
                    print("    %s: %s" % (sessions[s][h[1]][0], sessions[s][h[1]][1]))
        return 0

    # --alts: every alternative's sessions, by fold and label
    stats = {}
    for s, msgs in sessions.items():
        seen = set()
        for r, i, alt in hits(rules, msgs):
            text = (transcript(evidence(rules, msgs)) if i < 0 else msgs[i][1])
            # all alternatives of this rule matching this message
            for k, are in enumerate(r["alts"]):
                if (r["line"], k) in seen:
                    continue
                if are.search(text):
                    seen.add((r["line"], k))
                    st = stats.setdefault((r["line"], k), {"A": [], "B": [], "dec": 0})
                    st["A" if s[-1].lower() in "0123" else "B"].append(labels[s])
        h = decided[s]
        if h:
            stats.setdefault((h[0]["line"], h[2]), {"A": [], "B": [], "dec": 0})["dec"] += 1
    for r in rules:
        if r["reason"] == "skip":
            continue
        print("== line %d %s/%s (%d alternatives)" % (r["line"], r["reason"], r["scope"],
                                                     len(r["alts"])))
        for k, src in enumerate(r["alt_src"]):
            st = stats.get((r["line"], k), {"A": [], "B": [], "dec": 0})
            def fmt(lst):
                right = sum(1 for x in lst if x == r["reason"])
                return "%d/%d" % (right, len(lst))
            print("  %3d  A %-6s B %-6s dec %-3d %s" % (k, fmt(st["A"]), fmt(st["B"]), st["dec"],
                                                       src[:90]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
