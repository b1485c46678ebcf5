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
# builds on both cores; the suites themselves one after the other (they
# share a few fixed scratch paths under build/)
run make --no-print-directory -j2 test-unit
run make --no-print-directory -j2 test-sanitize
# no engine source compiles to a fused multiply-add under any user's flags
run sh tests/strict_float_check.sh
# libFuzzer on every reader (models, tokenizers, prompts, checkpoints,
# corpora, convert's inputs, the command line), briefly (make fuzz runs
# longer).
if command -v clang >/dev/null && echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' \
    | clang -x c -fsanitize=fuzzer - -o build/fuzz-probe 2>/dev/null; then
    run make --no-print-directory -j2 fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-5}
else
    echo "fuzz: SKIPPED: clang with libFuzzer is missing (apt-get install clang libclang-rt-14-dev)" | tee -a "$log"
    echo "fuzz: 0 passed, 0 failed, 1 skipped" | tee -a "$log"
fi
# The emulated boards: both images built first (the Hazard3's uses the
# M33's built-in model header), then the two suites side by side, each one
# QEMU at a time, each into its own log.
if [ -f target/qemu-m33/Makefile ] && [ -f target/qemu-rv32/Makefile ]; then
    if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null; then
        make --no-print-directory -s -j2 -C target/qemu-m33 all > build/boards-build.log 2>&1 || cat build/boards-build.log
    fi
    if command -v riscv64-unknown-elf-gcc >/dev/null && command -v qemu-system-riscv32 >/dev/null; then
        make --no-print-directory -s -j2 -C target/qemu-rv32 all >> build/boards-build.log 2>&1 || cat build/boards-build.log
    fi
    # the hot kernels call nothing in flash but what is marked rare
    run sh tests/hot_code_check.sh
    make --no-print-directory -C target/qemu-m33 test > build/m33-test.log 2>&1 &
    m33=$!
    make --no-print-directory -C target/qemu-rv32 test > build/rv32-test.log 2>&1 &
    rv32=$!
    wait $m33 $rv32
    for board in m33 rv32; do
        echo "== make --no-print-directory -C target/qemu-$board test" | tee -a "$log"
        tee -a "$log" < build/$board-test.log
    done
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
