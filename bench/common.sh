# Sourced (bash) by bench/run.sh and bench/live.sh: the helpers both print their
# results with, written once. Set RESULTS (the results file), SKIP (" part part ")
# and BENCH_NAME (the prefix of error lines) before calling them.

say() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
note() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }
die() {
	note "$@"
	exit 1
}
skipped() { [[ $SKIP == *" $1 "* ]]; }
grouped() { # 1234567 -> 1,234,567
	awk -v n="$1" 'BEGIN { s = sprintf("%d", n); t = "";
		while (length(s) > 3) { t = "," substr(s, length(s) - 2) t; s = substr(s, 1, length(s) - 3) }
		print s t }'
}
