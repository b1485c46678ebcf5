#!/bin/sh
# Runs one build's tests: each unit program, then the command-line and golden
# tests. Every part prints "<name>: N passed, N failed[, N skipped]".
# Usage: BUILD=build sh tests/run_suite.sh test_model test_tokenizer ...
BUILD=${BUILD:-build}
status=0
for t in "$@"; do
    "$BUILD/tests/$t" || status=1
done
BUILD=$BUILD sh tests/cli_tests.sh || status=1
BUILD=$BUILD sh tests/golden_tests.sh || status=1
BUILD=$BUILD sh tests/train_tests.sh || status=1
BUILD=$BUILD sh tests/file_safety_tests.sh || status=1
BUILD=$BUILD sh tests/arduino_tests.sh || status=1
sh tests/library_check.sh || status=1
exit $status
