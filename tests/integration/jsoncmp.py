#!/usr/bin/env python3
"""Compare two JSON documents as values; print the paths that differ. Exit 1 if any."""
import json
import sys


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}/{k}: missing in got, want {b[k]!r}")
            elif k not in b:
                out.append(f"{path}/{k}: unexpected {a[k]!r}")
            else:
                diff(a[k], b[k], f"{path}/{k}", out)
    elif type(a) in (int, float) and type(b) in (int, float):
        if a != b:
            out.append(f"{path}: got {a!r}, want {b!r}")
    elif a != b:
        out.append(f"{path}: got {a!r}, want {b!r}")


def main():
    got = json.load(open(sys.argv[1], encoding="utf-8"))
    want = json.load(open(sys.argv[2], encoding="utf-8"))
    out = []
    diff(got, want, "", out)
    for line in out:
        print(line)
    sys.exit(1 if out else 0)


if __name__ == "__main__":
    main()
