#!/bin/sh
# The README's first command: installs what chatlogd needs, builds it, and runs it on
# the bundled sample log (a day of two Tmall shops), printing the per-agent
# scoreboard. Run as root on Debian 12. Pass your own log files to use them instead:
#   tools/quickstart.sh /var/log/cs/*.jsonl
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=$ROOT/build

"$ROOT/tools/install-deps.sh"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target chatlogd >/dev/null

if [ "$#" -eq 0 ]; then
	set -- "$ROOT/tools/sample/chat-sample.jsonl"
	echo "chatlogd: scoreboard of the bundled sample log ($1)"
fi
"$BUILD/chatlogd" --once --output table "$@"
echo
echo "The full report (SPEC §5 JSON): $BUILD/chatlogd --once FILE..."
