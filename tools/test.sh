#!/bin/sh
# The whole test suite, as CI runs it (.ci/run) and as the README's second command:
# installs dependencies, then builds and runs every test three ways — gcc, clang with
# AddressSanitizer + UndefinedBehaviorSanitizer, and the libFuzzer targets for a
# bounded time — runs the batch tests (two threads) under ThreadSanitizer, and
# checks formatting. Exits non-zero if anything failed.
#
# Environment: FUZZ_SECONDS (default 30 per target), JOBS (default: cores).
set -u
TSAN_OPTIONS=${TSAN_OPTIONS:-}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
JOBS=${JOBS:-$(nproc)}
stages_passed=0
stages_failed=0
failed_names=""

stage() {
	name=$1
	shift
	echo "==> $name"
	if "$@"; then
		stages_passed=$((stages_passed + 1))
	else
		stages_failed=$((stages_failed + 1))
		failed_names="$failed_names $name"
		echo "==> $name FAILED"
	fi
}

build_and_test() {
	dir=$1
	shift
	cmake -S "$ROOT" -B "$dir" "$@" >/dev/null &&
		cmake --build "$dir" -j "$JOBS" &&
		(cd "$dir" && ctest --output-on-failure -j "$JOBS")
}

# The Release (-O3) build the README and bench/ use: gcc warns there about what it
# does not see at -O2 (format truncation after inlining), and -Werror makes it fatal.
release_builds() {
	for cc in gcc clang; do
		cmake -S "$ROOT" -B "build-release-$cc" -DCMAKE_BUILD_TYPE=Release \
			-DCMAKE_C_COMPILER="$cc" >/dev/null &&
			cmake --build "build-release-$cc" -j "$JOBS" >/dev/null || return 1
	done
}

fuzz_all() {
	dir=build-fuzz
	CC=clang cmake -S "$ROOT" -B "$dir" -DCHATLOGD_FUZZ=ON -DCHATLOGD_SANITIZE=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
		cmake --build "$dir" -j "$JOBS" || return 1
	rc=0
	for fuzzer in "$dir"/tests/fuzz_*; do
		[ -x "$fuzzer" ] || continue
		name=$(basename "$fuzzer")
		seeds=$ROOT/tests/fuzz/corpus/$name
		work=$dir/corpus/$name
		mkdir -p "$work"
		[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null
		echo "--- $name for ${FUZZ_SECONDS}s"
		if ! "$fuzzer" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=0 -artifact_prefix="$dir/$name-" "$work" \
			>"$dir/$name.log" 2>&1; then
			tail -n 40 "$dir/$name.log"
			rc=1
		else
			grep -E "^(#[0-9]+.*DONE|Done)" "$dir/$name.log" | tail -n 1
		fi
	done
	return $rc
}

# Batch mode's reader and engine threads under ThreadSanitizer: the batch CLI tests
# compare --threads 1 and --threads 2 on several inputs; any race report fails them.
tsan_batch() {
	dir=build-tsan
	CC=clang cmake -S "$ROOT" -B "$dir" -DCHATLOGD_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		>/dev/null &&
		cmake --build "$dir" -j "$JOBS" --target chatlogd &&
		TSAN_OPTIONS="halt_on_error=1 exitcode=66 $TSAN_OPTIONS" \
			sh "$ROOT/tests/integration/batch_cli.sh" "$dir/chatlogd" "$ROOT"
}

format_check() {
	# shellcheck disable=SC2046
	clang-format --dry-run -Werror $(git ls-files 'daemon/*.c' 'include/*.h' 'tests/*.c' \
		'tests/*.h' 'bench/*.c' 2>/dev/null || find daemon include tests bench -name '*.[ch]')
}

stage install-deps "$ROOT/tools/install-deps.sh"
stage gcc build_and_test build-gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc
stage clang-asan-ubsan build_and_test build-asan -DCMAKE_BUILD_TYPE=Debug \
	-DCMAKE_C_COMPILER=clang -DCHATLOGD_SANITIZE=ON
stage release-builds release_builds
stage fuzz fuzz_all
stage clang-tsan-batch tsan_batch
stage clang-format format_check

echo
if [ "$stages_failed" -ne 0 ]; then
	echo "failed stages:$failed_names"
fi
echo "stages: $stages_passed passed, $stages_failed failed"
[ "$stages_failed" -eq 0 ]
