#!/bin/sh
# `make test`: the whole suite on the host build, again under ASan+UBSan, and
# on the Cortex-M33 and Hazard3 RISC-V builds under QEMU; then one closing
# line with the totals.
mkdir -p build
log=build/test.log
: > "$log"
status=0
run() {
    echo "== $*" | tee -a "$log"
    "$@" 2>&1 | tee -a "$log"
    # tee hides the exit status; the suite's own lines carry the counts
}
run make --no-print-directory test-unit
run make --no-print-directory test-sanitize
# no engine source compiles to a fused multiply-add under any user's flags
run sh tests/strict_float_check.sh
# libFuzzer on every reader (models, tokenizers, prompts, checkpoints,
# corpora, convert's inputs, the command line), briefly (make fuzz runs
# longer).
if command -v clang >/dev/null && echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' \
    | clang -x c -fsanitize=fuzzer - -o build/fuzz-probe 2>/dev/null; then
    run make --no-print-directory -j2 fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-10}
else
    echo "fuzz: SKIPPED: clang with libFuzzer is missing (apt-get install clang libclang-rt-14-dev)" | tee -a "$log"
    echo "fuzz: 0 passed, 0 failed, 1 skipped" | tee -a "$log"
fi
if [ -f target/qemu-m33/Makefile ]; then
    run make --no-print-directory -C target/qemu-m33 test
fi
if [ -f target/qemu-rv32/Makefile ]; then
    run make --no-print-directory -C target/qemu-rv32 test
fi
# the README's output blocks are what the programs print now
run sh tools/readme_blocks.sh
awk '
/: [0-9]+ passed, [0-9]+ failed/ {
    for (i = 1; i <= NF; i++) {
        if ($(i+1) ~ /^passed/) p += $i
        if ($(i+1) ~ /^failed/) f += $i
        if ($(i+1) ~ /^skipped/) s += $i
    }
}
/^make.*Error|FAILED|ERROR: AddressSanitizer|runtime error:/ { errors++ }
END {
    if (errors > 0 && f == 0) f = errors
    printf "all: %d passed, %d failed, %d skipped\n", p, f, s
    exit (f > 0 || p == 0) ? 1 : 0
}' "$log"
