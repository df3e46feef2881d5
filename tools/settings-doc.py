#!/usr/bin/env python3
"""tools/settings-doc.py: the settings table of docs/reference.md, from the daemon itself.

`chatlogd --check-config` prints every setting with its one-line description and its
value; with an empty config those values are the defaults. This script turns that dump
into the Markdown table of docs/reference.md §8 (`print`), or checks that the table in
the file is that table, so the reference cannot drift from the code (`check`, run by
the test suite).

usage: settings-doc.py print CHATLOGD
       settings-doc.py check CHATLOGD docs/reference.md
"""
import subprocess
import sys

BEGIN = "<!-- settings table: tools/settings-doc.py print -->"
END = "<!-- end of settings table -->"


def settings(chatlogd):
    # input has no default and check-config needs one: name a placeholder, shown as empty.
    out = subprocess.run([chatlogd, "--check-config", "--config", "/dev/null",
                          "--set", "input=@"], check=True, capture_output=True,
                         text=True).stdout
    rows, comment = [], None
    for line in out.splitlines():
        if line.startswith("# ") and "config_load reads this back" not in line:
            comment = line[2:]
        elif " = " in line or line.endswith(" ="):
            key, _, value = line.partition(" =")
            value = value.strip()
            if key == "input":
                value = ""
            rows.append((key, value, comment or ""))
            comment = None
        elif line.startswith("["):
            break  # [shop NAME] sections repeat keys above
    return rows


def table(rows):
    cell = lambda s: s.replace("|", "\\|")
    lines = ["| setting | default | meaning |", "|---|---|---|"]
    for key, value, comment in rows:
        shown = "`%s`" % cell(value) if value else "(empty)"
        lines.append("| `%s` | %s | %s |" % (key, shown, cell(comment)))
    return "\n".join(lines)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "print":
        print(BEGIN)
        print(table(settings(sys.argv[2])))
        print(END)
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        text = open(sys.argv[3], encoding="utf-8").read()
        if BEGIN not in text or END not in text:
            print("%s: no settings table markers" % sys.argv[3])
            return 1
        have = text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()
        want = table(settings(sys.argv[2]))
        if have != want:
            print("%s: the settings table differs from `chatlogd --check-config`; "
                  "regenerate it with tools/settings-doc.py print" % sys.argv[3])
            for a, b in zip(have.splitlines() + [""] * 200, want.splitlines()):
                if a != b:
                    print("  have: %s\n  want: %s" % (a, b))
                    break
            return 1
        print("ok   %d settings in %s match the daemon" % (len(settings(sys.argv[2])),
                                                         sys.argv[3]))
        return 0
    print(__doc__.strip().splitlines()[-2:], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
