#!/bin/sh
# docs/reference.md §8 lists every setting with its default and meaning: it must be what
# the daemon itself prints (`chatlogd --check-config`), so the reference cannot drift
# from the code. On a difference, regenerate it with tools/settings-doc.py print.
# usage: reference_doc.sh CHATLOGD SOURCE_DIR
set -eu
exec python3 "$2/tools/settings-doc.py" check "$1" "$2/docs/reference.md"
