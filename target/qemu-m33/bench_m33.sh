#!/bin/sh
# make bench-m33: per-position M33 instructions, the bytes read from each
# memory (flash, PSRAM, SRAM) for weights and KV cache, memory in use, and a
# modeled RP2350 time per token, for stories260K (../shared), the built-in
# model, and a model with the original PicoLlama's 14 MB architecture
# (seeded random weights: the speed does not depend on them). Cases read
# their weights in place from flash unless their name says otherwise.
ROOT=../..
# how the shipped built-in model is made (Makefile: make models)
SHIPPED_FLAGS=$(sed -n 's/^SHIPPED_FORMAT *:= *//p' $ROOT/Makefile)
B=$ROOT/build
SHARED=${PICOLLAMA_SHARED:-$ROOT/../shared}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
FLAGS=${FLAGS:-'-t 0 -n 64 -i "Once upon a time"'}

summary=""
run() { # run CASE DESCRIPTION MODEL TOKENIZER|- [MORE FLAGS]
    z=""; [ "$4" != "-" ] && z="-z \"$4\""
    echo "== $1: $2: $(basename "$3"), flags: $FLAGS $5"
    eval "PICOLLAMA_M33_BENCH=1 $B/picollama-m33 \"$3\" $z $FLAGS $5" > "$d/out" 2> "$d/err" \
        || { cat "$d/err"; exit 1; }
    grep '^m33:' "$d/err"
    # two cores: the two-core critical path is the clock the image reports
    # the generate phase's figures, for the summary lines at the end
    line=$(awk -v c="$1" '/^m33: generate: [0-9]+ positions/ { i = $7 }
        /^m33: generate: modeled/ { ms = $NF == "ms" ? $(NF-1) : $NF }
        END { printf "bench: %s ms_per_token=%s insns_per_token=%s", c, ms, i }' "$d/err")
    summary="$summary$line
"
}

QEMU="qemu-system-arm -M mps2-an505 -cpu cortex-m33 -display none -monitor none -serial none"
QEMU="$QEMU -semihosting-config enable=on,target=native -icount shift=0"
echo "== kernels: instructions per multiply-accumulate on one shape (64 rows of 256)"
$QEMU -kernel $B/m33/picollama-m33.elf -append "--kernel-bench"

if [ -f "$SHARED/data/models/stories260K.bin" ]; then
    run stories260K "fp32" "$SHARED/data/models/stories260K.bin" "$SHARED/data/models/tok512.bin"
    run stories260K-q8 "int8, karpathy's file (group 32, hidden 172: w2's groups straddle rows)" \
        "$SHARED/data/models/stories260K_q80.bin" "$SHARED/data/models/tok512.bin"
    run stories260K-q8-sram "the same, weights and KV cache (for the story's 64 positions) in SRAM" \
        "$SHARED/data/models/stories260K_q80.bin" "$SHARED/data/models/tok512.bin" "--place sram --kv sram"
    run stories260K-q8-sram-2core "the same on two cores" \
        "$SHARED/data/models/stories260K_q80.bin" "$SHARED/data/models/tok512.bin" "--place sram --kv sram --cores 2"
else
    echo "== stories260K: SKIPPED (no $SHARED/data/models)"
fi
run builtin "the built-in model, fp32" "$ROOT/models/stories.bin" "$ROOT/models/stories-tok.bin"
$B/picollama quantize "$ROOT/models/stories.bin" "$d/stories-q8.bin" 2>/dev/null
run builtin-q8 "the built-in model in int8 (picollama quantize's default: group 32)" \
    "$d/stories-q8.bin" "$ROOT/models/stories-tok.bin"
# shellcheck disable=SC2086
$B/picollama convert "$ROOT/models/stories.bin" "$d/stories-shipped.bin" -z "$ROOT/models/stories-tok.bin" \
    $SHIPPED_FLAGS 2>/dev/null
run builtin-shipped "the built-in model as shipped ($SHIPPED_FLAGS), placed as the Arduino class places it" \
    "$d/stories-shipped.bin" - "--place auto"
run builtin-shipped-2core "the same on two cores" "$d/stories-shipped.bin" - "--place auto --cores 2"
$B/tests/make_fixture model "$d/orig14mb.bin" --dim 96 --hidden 256 --layers 5 --heads 6 \
    --kv-heads 6 --vocab 32000 --seq-len 256 --seed 1
$B/tests/make_fixture tokenizer "$d/tok32000.bin" --vocab 32000
run 14mb "the original PicoLlama's architecture (dim 96, hidden 256, 5 layers, 6 heads, vocab 32000), fp32, random weights" \
    "$d/orig14mb.bin" "$d/tok32000.bin"
$B/tests/make_fixture model "$d/orig14mb-q8.bin" --dim 96 --hidden 256 --layers 5 --heads 6 \
    --kv-heads 6 --vocab 32000 --seq-len 256 --seed 1 --version 2 --group-size 32
run 14mb-q8 "the same architecture in int8, group 32, random weights" "$d/orig14mb-q8.bin" "$d/tok32000.bin"
$B/picollama convert "$d/orig14mb.bin" "$d/orig14mb-fast.bin" -z "$d/tok32000.bin" \
    --embedding int4 --attention int8 --ffn int8 2>/dev/null
run 14mb-fastest "the same: int8 layers, int4 embedding and classifier (groups of 32), placed by the Arduino class's rule" \
    "$d/orig14mb-fast.bin" - "--place auto"
run 14mb-fastest-2core "the same on two cores (streamed rows through the SRAM stage)" \
    "$d/orig14mb-fast.bin" - "--place auto --cores 2"
printf '%s' "$summary"
