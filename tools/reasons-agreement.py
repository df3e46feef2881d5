#!/usr/bin/env python3
"""Inter-labeller agreement on the lost-reason hand labels (docs/lost-reasons.md).

Compares two label files (ID<TAB>REASON[<TAB>note]) on the sessions both label:
overall agreement, Cohen's kappa, the 7x7 confusion matrix (first labeller rows,
second labeller columns), per-reason positive agreement 2*both/(n1+n2), agreement
on the sessions either labeller marked `borderline:` against the rest, and each
labeller's agreement with always-`none`. Reads no corpus text, only the label files.

    tools/reasons-agreement.py                      # the defaults below
    tools/reasons-agreement.py --disagreements      # also list the disagreeing ids
    tools/reasons-agreement.py --first A.tsv --first-notes A.notes.tsv --second B.tsv

A note marks a hesitation when it starts with `borderline:` (case-insensitive). The
first labeller's notes file may cover only part of its sessions; a session with no
note counts as not marked, and the coverage is printed. `other` and `slow` count as
`none`, as in bench/reasons.sh.
"""
import argparse
import os
import random
import sys

REASONS = ["out_of_stock", "shipping_time", "courier", "price",
           "product_doubt", "personal", "none"]
SHORT = {"out_of_stock": "stock", "shipping_time": "ship", "courier": "courier",
         "price": "price", "product_doubt": "product", "personal": "personal",
         "none": "none"}
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data", "reasons")


def read_tsv(path):
    """{id: (reason, note or None)}; blank lines and # comments skipped."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 2:
                sys.exit(f"{path}:{lineno}: expected ID<TAB>REASON")
            sid, reason = parts[0].strip(), parts[1].strip()
            if reason in ("other", "slow"):
                reason = "none"
            if reason not in REASONS:
                sys.exit(f"{path}:{lineno}: unknown reason {reason!r}")
            if sid in out:
                sys.exit(f"{path}:{lineno}: duplicate id {sid}")
            out[sid] = (reason, parts[2] if len(parts) > 2 else None)
    return out


def is_borderline(note):
    return bool(note) and note.strip().lower().startswith("borderline:")


def kappa(pairs):
    n = len(pairs)
    if n == 0:
        return float("nan")
    po = sum(a == b for a, b in pairs) / n
    pe = sum((sum(a == r for a, _ in pairs) / n) * (sum(b == r for _, b in pairs) / n)
             for r in REASONS)
    return (po - pe) / (1 - pe) if pe < 1 else float("nan")


def agreement(pairs):
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else float("nan")


def pct(x):
    return "  n/a" if x != x else f"{100 * x:5.1f}%"


def bootstrap(pairs, reps, seed):
    """95% percentile intervals for agreement and kappa (sessions resampled)."""
    rng = random.Random(seed)
    accs, kaps = [], []
    for _ in range(reps):
        s = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        accs.append(agreement(s))
        k = kappa(s)
        if k == k:
            kaps.append(k)
    accs.sort()
    kaps.sort()

    def ci(v):
        return v[int(0.025 * (len(v) - 1))], v[int(0.975 * (len(v) - 1))]
    return ci(accs), ci(kaps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--first", default=os.path.join(DATA, "jd-dev.tune.tsv"))
    ap.add_argument("--first-notes", default=os.path.join(DATA, "jd-dev.tune.notes.tsv"),
                    help="notes of the first labeller (ID, REASON, note); '' for none")
    ap.add_argument("--second", default=os.path.join(DATA, "jd-dev.tune.second.tsv"),
                    help="second labeller: ID, REASON, note")
    ap.add_argument("--second-notes", default="",
                    help="separate notes file of the second labeller, if any")
    ap.add_argument("--disagreements", action="store_true",
                    help="list the sessions (ids and labels only) the labellers differ on")
    ap.add_argument("--bootstrap", type=int, default=2000,
                    help="bootstrap resamples for 95%% intervals (0: off)")
    args = ap.parse_args()

    first = read_tsv(args.first)
    second = read_tsv(args.second)
    fnotes = read_tsv(args.first_notes) if args.first_notes else {}
    snotes = read_tsv(args.second_notes) if args.second_notes else {}

    ids = sorted(set(first) & set(second))
    missing = sorted(set(second) - set(first))
    if missing:
        print(f"warning: {len(missing)} ids of the second file are not in the first", file=sys.stderr)
    if not ids:
        sys.exit("no session labelled by both")

    def note1(i):
        if i in fnotes:
            return fnotes[i][1]
        return first[i][1]

    def note2(i):
        if i in snotes:
            return snotes[i][1]
        return second[i][1]

    pairs = [(first[i][0], second[i][0]) for i in ids]
    n = len(pairs)
    agree = sum(a == b for a, b in pairs)
    print(f"sessions labelled by both: {n}")
    print(f"agreement: {agree} of {n} = {pct(agree / n)}")
    print(f"Cohen's kappa: {kappa(pairs):.3f}")
    if args.bootstrap:
        (alo, ahi), (klo, khi) = bootstrap(pairs, args.bootstrap, 1)
        print(f"  95% bootstrap interval ({args.bootstrap} resamples): "
              f"agreement {pct(alo)}-{pct(ahi).strip()}, kappa {klo:.3f}-{khi:.3f}")

    print("\nconfusion (rows: first labeller, columns: second labeller)")
    w = 9
    print(f"{'':14}" + "".join(f"{SHORT[r]:>{w}}" for r in REASONS) + f"{'total':>{w}}")
    for a in REASONS:
        row = [sum(1 for x, y in pairs if x == a and y == b) for b in REASONS]
        print(f"{a:14}" + "".join(f"{c:>{w}}" for c in row) + f"{sum(row):>{w}}")
    cols = [sum(1 for _, y in pairs if y == b) for b in REASONS]
    print(f"{'total':14}" + "".join(f"{c:>{w}}" for c in cols) + f"{n:>{w}}")

    print("\nper-reason positive agreement 2*both/(n1+n2)")
    print(f"{'reason':14}{'first':>7}{'second':>8}{'both':>6}{'pos.agr':>9}")
    for r in REASONS:
        n1 = sum(1 for a, _ in pairs if a == r)
        n2 = sum(1 for _, b in pairs if b == r)
        both = sum(1 for a, b in pairs if a == r and b == r)
        pa = 2 * both / (n1 + n2) if n1 + n2 else float("nan")
        print(f"{r:14}{n1:>7}{n2:>8}{both:>6}{pct(pa):>9}")
    reasons_only = [(a, b) for a, b in pairs if a != "none" or b != "none"]
    both_reason = sum(1 for a, b in pairs if a != "none" and b != "none")
    same_reason = sum(1 for a, b in pairs if a != "none" and a == b)
    n1r = sum(1 for a, _ in pairs if a != "none")
    n2r = sum(1 for _, b in pairs if b != "none")
    print(f"any reason vs none: first {n1r}, second {n2r}, both give a reason {both_reason} "
          f"(positive agreement {pct(2 * both_reason / (n1r + n2r)) if n1r + n2r else 'n/a'}); "
          f"same reason where both give one: {same_reason} of {both_reason}")
    print(f"sessions where at least one gives a reason: {len(reasons_only)}, "
          f"agreement there {pct(agreement(reasons_only))}")

    covered = sum(1 for i in ids if i in fnotes or first[i][1] is not None)
    b1 = {i for i in ids if is_borderline(note1(i))}
    b2 = {i for i in ids if is_borderline(note2(i))}
    either = b1 | b2
    rest = [i for i in ids if i not in either]

    def agr(sel):
        sel = list(sel)
        return sum(first[i][0] == second[i][0] for i in sel), len(sel)

    print("\nborderline (note starts with 'borderline:')")
    print(f"  first labeller's notes cover {covered} of {n} sessions (no note: not marked)")
    for name, sel in (("first marked", b1), ("second marked", b2), ("both marked", b1 & b2),
                      ("either marked", either), ("neither marked", rest)):
        a, m = agr(sel)
        print(f"  {name:15} {m:4} sessions, agree {a:4} = {pct(a / m) if m else '  n/a'}")
    if covered < n:
        cov = [i for i in ids if i in fnotes or first[i][1] is not None]
        e = [i for i in cov if i in either]
        r = [i for i in cov if i not in either]
        a1, m1 = agr(e)
        a2, m2 = agr(r)
        print(f"  only sessions with a first-labeller note ({len(cov)}): either marked "
              f"{a1}/{m1} = {pct(a1 / m1) if m1 else 'n/a'}, neither {a2}/{m2} = "
              f"{pct(a2 / m2) if m2 else 'n/a'}")

    print("\nagreement with always-none")
    for name, k in (("first", 0), ("second", 1)):
        c = sum(1 for p in pairs if p[k] == "none")
        print(f"  {name:7} {c} of {n} = {pct(c / n)}")

    if args.disagreements:
        print("\ndisagreements (id, first, second, borderline marks)")
        for i in ids:
            a, b = first[i][0], second[i][0]
            if a != b:
                marks = ",".join(x for x, s in (("first", b1), ("second", b2)) if i in s) or "-"
                print(f"  {i}\t{a}\t{b}\t{marks}")


if __name__ == "__main__":
    main()
