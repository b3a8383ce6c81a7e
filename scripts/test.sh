#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Static analysis (cppcheck: warning and portability checks, any finding
# fails), then every test twice: a normal build (warnings are errors) in
# build/, then an ASan + UBSan build in build-asan/ where any sanitizer
# report fails the test; then a ThreadSanitizer build in build-tsan/ that
# runs only the threaded tests (CTest label "threads", tests/threads.cmake;
# a few minutes).  This is what .ci/run runs.  Exit 0 only if all pass.
#
#   scripts/test.sh [--no-deps] [--no-asan] [--no-tsan]
# Environment: JOBS (default 2).
set -uo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-2}
deps=1
asan=1
tsan=1
for arg in "$@"; do
	case "$arg" in
	--no-deps) deps=0 ;;
	--no-asan) asan=0 ;;
	--no-tsan) tsan=0 ;;
	-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
	esac
done

if [ "$deps" = 1 ]; then
	scripts/deps.sh || { echo "test.sh: installing dependencies failed" >&2; exit 1; }
fi

# run_suite NAME BUILDDIR [CTEST-ARGS... --] CMAKE-ARGS...: configure, build,
# ctest (with CTEST-ARGS when given); returns status.
run_suite() {
	local name=$1 dir=$2 ctest_args=()
	shift 2
	if [[ " $* " == *" -- "* ]]; then
		while [ "$1" != "--" ]; do ctest_args+=("$1"); shift; done
		shift
	fi
	echo "=== $name: configure ($dir) ==="
	cmake -S "$root" -B "$dir" "$@" || return 1
	echo "=== $name: build ==="
	cmake --build "$dir" -j "$jobs" || return 1
	echo "=== $name: ctest ==="
	ctest --test-dir "$dir" --output-on-failure -j "$jobs" "${ctest_args[@]}"
}

start=$(date +%s)
normal=1
sanitized=skipped
threads=skipped

echo "=== cppcheck ==="
cppcheck --quiet --enable=warning,portability --std=c11 --inline-suppr -I include -I src/lib \
	-DSISIGN_BUILD --error-exitcode=1 src/lib src/cli src/fe src/gui
static=$?

run_suite normal "$root/build" -DSISIGN_WERROR=ON
normal=$?

if [ "$asan" = 1 ]; then
	# Every report is fatal: ASan aborts on the first error, UBSan halts.
	# (The test environment in tests/CMakeLists.txt sets these too; exported
	# here so helpers started outside CTest's ENVIRONMENT behave the same.)
	export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:fast_unwind_on_malloc=0"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
	export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
	# The GUI tests run here too, with leak checking off for them only
	# (tests/gui.cmake: GTK's own caches show up as leaks).
	run_suite asan "$root/build-asan" -DSISIGN_WERROR=ON -DSISIGN_SANITIZE=ON \
		-DCMAKE_BUILD_TYPE=Debug
	sanitized=$?
fi

if [ "$tsan" = 1 ]; then
	# Only the threaded tests (label "threads"), without the GUI.  Any
	# report fails the test (halt_on_error); tests/tsan.supp holds the
	# third-party suppressions, each with its reason.
	export TSAN_OPTIONS="suppressions=$root/tests/tsan.supp:halt_on_error=1:second_deadlock_stack=1"
	run_suite tsan "$root/build-tsan" -L threads -- -DSISIGN_WERROR=ON -DSISIGN_TSAN=ON \
		-DSISIGN_BUILD_GUI=OFF -DCMAKE_BUILD_TYPE=Debug
	threads=$?
fi

word() { case "$1" in 0) echo PASS ;; skipped) echo skipped ;; *) echo FAIL ;; esac; }
elapsed=$(( $(date +%s) - start ))
echo "test.sh: cppcheck $(word "$static"), normal build $(word "$normal"), ASan+UBSan build $(word "$sanitized"), TSan threaded tests $(word "$threads") ($((elapsed / 60))m$((elapsed % 60))s)"
if [ "$static" != 0 ] || [ "$normal" != 0 ] || { [ "$sanitized" != 0 ] && [ "$sanitized" != skipped ]; } ||
	{ [ "$threads" != 0 ] && [ "$threads" != skipped ]; }; then
	exit 1
fi
exit 0
