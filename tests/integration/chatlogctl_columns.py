#!/usr/bin/env python3
"""Checks that the text tables chatlogctl prints line up in a terminal.

usage: chatlogctl_columns.py FILE HEADER_START COLUMN...

Every table in FILE whose header line starts with HEADER_START is checked against
its following lines (up to a blank line or a line not indented by two spaces). A
COLUMN is "R:title" (right-aligned: every row ends a field at the display column
where the title ends), "L:title" (left-aligned: every row starts a field where
the title starts) or "l:title" (the same, for a last field that may be absent). Display columns count East Asian wide and full-width characters
as 2, combining marks as 0: what a terminal does, independently of chatlogctl's
own width function. Exits 1 with the offending line when a column is off.
"""
import sys
import unicodedata


def cells(line):
    """The line as terminal cells: a wide character fills two (the second is None)."""
    out = []
    for ch in line:
        if unicodedata.combining(ch):
            continue
        out.append(ch)
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            out.append(None)
    return out


def locate(header, columns):
    """(kind, cell index) of each column: where its title ends (R) or starts (L)."""
    text = "".join(c for c in header if c is not None)
    spots, pos = [], 0
    for column in columns:
        kind, title = column.split(":", 1)
        at = text.index(title, pos)
        pos = at + len(title)
        spots.append((kind, title, at + len(title) - 1 if kind == "R" else at))
    return spots


def check(path, header_start, columns):
    lines = open(path, encoding="utf-8").read().split("\n")
    tables = rows = 0
    i = 0
    while i < len(lines):
        if not lines[i].startswith(header_start):
            i += 1
            continue
        tables += 1
        header = cells(lines[i])
        spots = locate(header, columns)
        i += 1
        while i < len(lines) and lines[i][:2] in ("  ", "! "):
            row = cells(lines[i])
            for kind, title, at in spots:
                if kind == "l" and len(row) <= at - 1:
                    continue
                ok = at < len(row) and row[at] not in (" ", None)
                if kind == "R":
                    ok = ok and (at + 1 >= len(row) or row[at + 1] == " ")
                else:
                    ok = ok and row[at - 1] == " "
                if not ok:
                    print(f"{path}: column {title!r} off at display column {at}:")
                    print(f"  {lines[i]!r}")
                    return 1
            rows += 1
            i += 1
    if tables == 0:
        print(f"{path}: no table starting {header_start!r}")
        return 1
    print(f"{tables} table(s), {rows} row(s) aligned")
    return 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1], sys.argv[2], sys.argv[3:]))
