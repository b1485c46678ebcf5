#!/bin/sh
# make bench-m33: per-position M33 instructions, weight and PSRAM traffic,
# memory in use, and a modeled RP2350 time per token, for stories260K
# (../shared), the built-in model, and a model with the original
# PicoLlama's 14 MB architecture (seeded random weights: the speed does not
# depend on them).
ROOT=../..
B=$ROOT/build
SHARED=${PICOLLAMA_SHARED:-$ROOT/../shared}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
FLAGS=${FLAGS:-'-t 0 -n 64 -i "Once upon a time"'}

run() { # run NAME MODEL TOKENIZER
    echo "== $1: $(basename "$2"), flags: $FLAGS"
    eval "PICOLLAMA_M33_BENCH=1 $B/picollama-m33 \"$2\" -z \"$3\" $FLAGS" > "$d/out" 2> "$d/err" \
        || { cat "$d/err"; exit 1; }
    grep '^m33:' "$d/err"
}

if [ -f "$SHARED/data/models/stories260K.bin" ]; then
    run stories260K "$SHARED/data/models/stories260K.bin" "$SHARED/data/models/tok512.bin"
    run "stories260K in int8 (karpathy's stories260K_q80.bin)" "$SHARED/data/models/stories260K_q80.bin" "$SHARED/data/models/tok512.bin"
else
    echo "== stories260K: SKIPPED (no $SHARED/data/models)"
fi
run "the built-in model (models/stories.bin)" "$ROOT/models/stories.bin" "$ROOT/models/stories-tok.bin"
$B/picollama quantize "$ROOT/models/stories.bin" "$d/stories-q8.bin" 2>/dev/null
run "the built-in model in int8 (picollama quantize, group size 64)" "$d/stories-q8.bin" "$ROOT/models/stories-tok.bin"
$B/tests/make_fixture model "$d/orig14mb.bin" --dim 96 --hidden 256 --layers 5 --heads 6 \
    --kv-heads 6 --vocab 32000 --seq-len 256 --seed 1
$B/tests/make_fixture tokenizer "$d/tok32000.bin" --vocab 32000
run "original PicoLlama architecture (dim 96, hidden 256, 5 layers, 6 heads, vocab 32000, seq 256)" \
    "$d/orig14mb.bin" "$d/tok32000.bin"
