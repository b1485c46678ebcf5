#!/bin/sh
# make bench-rv32: the Hazard3 (RISC-V, no FPU) on the same cases and files
# as make bench-m33, with the same time model (bytes per memory at the
# board's rates, instructions at 150 MHz, one core), beside the M33's
# instructions for the same run.
ROOT=../..
B=$ROOT/build
SHARED=${PICOLLAMA_SHARED:-$ROOT/../shared}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
FLAGS=${FLAGS:-'-t 0 -n 64 -i "Once upon a time"'}
summary=""
compare=""

# the generate phase's per-position instructions and modeled ms
figures() { # figures ERRFILE PREFIX
    awk -v p="$2" '$0 ~ "^" p ": generate: [0-9]+ positions" { i = $7 }
        $0 ~ "^" p ": generate: modeled" { ms = $NF == "ms" ? $(NF-1) : $NF }
        END { printf "%s %s", ms, i }' "$1"
}

run() { # run CASE DESCRIPTION MODEL TOKENIZER|- [MORE FLAGS]
    z=""; [ "$4" != "-" ] && z="-z \"$4\""
    echo "== $1: $2: $(basename "$3"), flags: $FLAGS $5"
    eval "PICOLLAMA_M33_BENCH=1 $B/picollama-rv32 \"$3\" $z $FLAGS $5" > "$d/out" 2> "$d/rv" \
        || { cat "$d/rv"; exit 1; }
    eval "PICOLLAMA_M33_BENCH=1 $B/picollama-m33 \"$3\" $z $FLAGS $5" > "$d/out" 2> "$d/m33" \
        || { cat "$d/m33"; exit 1; }
    grep '^rv32:' "$d/rv"
    set -- "$1" $(figures "$d/rv" rv32) $(figures "$d/m33" m33)
    summary="${summary}bench: $1-rv32 ms_per_token=$2 insns_per_token=$3
"
    compare="${compare}$(printf '%-22s %10s ms %12s instructions   M33: %7s ms %10s instructions   %5.1fx' \
        "$1" "$2" "$3" "$4" "$5" "$(echo "$3 $5" | awk '{ print $1 / $2 }')")
"
}

echo "== kernels: instructions per multiply-accumulate on one shape (64 rows of 256)"
qemu-system-riscv32 -M virt -cpu rv32,zba=true,zbb=true,zbs=true,zbkb=true -bios none -m 32M \
    -display none -monitor none -serial none -semihosting-config enable=on,target=native \
    -icount shift=0 -kernel $B/rv32/picollama-rv32.elf -append "--kernel-bench"

if [ -f "$SHARED/data/models/stories260K.bin" ]; then
    run stories260K "fp32" "$SHARED/data/models/stories260K.bin" "$SHARED/data/models/tok512.bin"
    run stories260K-q8 "int8, karpathy's file" "$SHARED/data/models/stories260K_q80.bin" "$SHARED/data/models/tok512.bin"
else
    echo "== stories260K: SKIPPED (no $SHARED/data/models)"
fi
$B/picollama quantize "$ROOT/models/stories.bin" "$d/stories-q8.bin" 2>/dev/null
run builtin-q8 "the built-in model in int8 (bench-m33's builtin-q8 file)" "$d/stories-q8.bin" "$ROOT/models/stories-tok.bin"
shipped=$(sed -n 's/^SHIPPED_FORMAT *:= *//p' $ROOT/Makefile)
# shellcheck disable=SC2086
$B/picollama convert "$ROOT/models/stories.bin" "$d/shipped.bin" -z "$ROOT/models/stories-tok.bin" $shipped 2>/dev/null
run builtin-shipped "the built-in model as shipped (int4), placed by the Arduino class's rule" "$d/shipped.bin" - "--place auto"
echo "== Hazard3 against Cortex-M33, generate phase per token:"
printf '%s' "$compare"
printf '%s' "$summary"
