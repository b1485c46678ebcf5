#!/bin/sh
# No engine source may compile to a fused multiply-add under any flags a
# user's toolchain passes (src/pl_strict_float.h says why): each source is
# compiled with arduino-pico's exact C flags (GNU mode, -Os, contraction at
# GCC's default) and others, and its disassembly searched for fused float
# instructions. A control file without the header must show them under the
# same flags, so the search is known to see them. Run by `make test`.
SUITE=strict-float
. tests/testlib.sh
SRCS=$(ls src/*.c src/kernels/*.c)

# Every engine source includes the header before anything else, also the
# ones with no multiply-add today.
for f in $SRCS; do
    first=$(grep -m1 '^#include' "$f")
    case "$first" in
        *pl_strict_float.h*) ok ;;
        *) bad "$f: its first #include is not pl_strict_float.h" ;;
    esac
done

cat > "$d/control.c" <<'C'
float control_dot(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}
C

# sweep LABEL CC OBJDUMP PATTERN FLAGS...: the control fuses, no source does
sweep() {
    label=$1 cc=$2 objdump=$3 pattern=$4
    shift 4
    # shellcheck disable=SC2086
    if ! $cc "$@" -c "$d/control.c" -o "$d/control.o" 2> "$d/err"; then
        bad "$label: the control does not compile"; head -3 "$d/err"; return
    fi
    n=$($objdump -d "$d/control.o" | grep -c -E "$pattern")
    check '[ "$n" -gt 0 ]' "$label: the control has no fused multiply-add: the search cannot see them"
    for f in $SRCS; do
        if ! $cc "$@" -Isrc -c "$f" -o "$d/src.o" 2> "$d/err"; then
            bad "$label: $f does not compile"; head -3 "$d/err"; continue
        fi
        n=$($objdump -d "$d/src.o" | grep -c -E "$pattern")
        check '[ "$n" -eq 0 ]' "$label: $f has $n fused multiply-adds"
    done
}

ARM_FUSED='[[:space:]]v(fma|fms|fnma|fnms)'
X86_FUSED='[[:space:]]vf(n?)m(add|sub)'
# arduino-pico 6.0.0's C flags for the RP2350's Cortex-M33 (platform.txt;
# gnu2x is GCC 12's name for its gnu23), at the IDE's optimization levels
ARDUINO_C="-mcpu=cortex-m33 -mthumb -march=armv8-m.main+fp+dsp -mfloat-abi=softfp -mcmse -ffunction-sections -fdata-sections -std=gnu2x"
if command -v arm-none-eabi-gcc >/dev/null; then
    for opt in -Os -O2 -O3; do
        # shellcheck disable=SC2086
        sweep "arduino-pico $opt" arm-none-eabi-gcc arm-none-eabi-objdump "$ARM_FUSED" $ARDUINO_C $opt
    done
    # shellcheck disable=SC2086
    sweep "arduino-pico -O2 -ffp-contract=fast -std=gnu17" arm-none-eabi-gcc arm-none-eabi-objdump "$ARM_FUSED" \
        $ARDUINO_C -O2 -ffp-contract=fast -std=gnu17
else
    skipped "arm-none-eabi-gcc is missing (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
fi
# the host compilers where the machine has fused instructions (x86-64 FMA3)
if [ "$(uname -m)" = x86_64 ]; then
    sweep "gcc -O3 -march=haswell gnu17" "${CC:-cc}" objdump "$X86_FUSED" -O3 -march=haswell -std=gnu17
    if command -v clang >/dev/null; then
        sweep "clang -O2 -mfma" clang objdump "$X86_FUSED" -O2 -mfma -mavx2 -std=c99
    else
        skipped "clang is missing"
    fi
else
    skipped "host sweeps (x86-64 only)"
fi
report
