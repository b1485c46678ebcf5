#!/bin/sh
# make bench-rv32: the Hazard3 (RISC-V, no FPU) under the same board model
# as make bench-m33 (target/board-model, its Hazard3 costs), on the same
# whole stories (256 positions from "Once upon a time", temperature 0.8,
# top-p 0.9, seed 42), beside the M33's figures for the same story. The
# image runs all its code from flash (its hot kernels are not placed in
# RAM yet): on the board they would be, so these figures lean slow.
ROOT=../..
B=$ROOT/build
SHARED=${PICOLLAMA_SHARED:-$ROOT/../shared}
MODEL_SO=$B/rp2350-model.so
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
STORY='-n 256 -t 0.8 -p 0.9 -s 42 -i "Once upon a time"'
summary=""
compare=""

# figures ERRFILE PREFIX: ms per position (main estimate) and instructions per position
figures() {
    steps=$(sed -n "s/^$2: story: \([0-9]*\) positions.*/\1/p" "$1")
    sed -n 's/.*board-model: story.* insns=\([0-9]*\) cycles=\([0-9]*\) .*/\1 \2/p' "$1" |
        awk -v s="$steps" '{ printf "%.1f %d", $2 / s / 150e3, $1 / s }'
}

run() { # run CASE DESCRIPTION MODEL TOKENIZER|- [MORE FLAGS]
    z=""; [ "$4" != "-" ] && z="-z \"$4\""
    echo "== $1: $2: $(basename "$3"), flags: $STORY $5"
    eval "PICOLLAMA_BOARD_MODEL=$MODEL_SO PICOLLAMA_M33_BENCH=1 $B/picollama-rv32 \"$3\" $z $STORY $5" \
        > "$d/out" 2> "$d/rv" || { cat "$d/rv"; exit 1; }
    eval "PICOLLAMA_BOARD_MODEL=$MODEL_SO PICOLLAMA_M33_BENCH=1 $B/picollama-m33 \"$3\" $z $STORY $5" \
        > "$d/out" 2> "$d/m33" || { cat "$d/m33"; exit 1; }
    grep -E '^(rv32|board-model):' "$d/rv"
    set -- "$1" $(figures "$d/rv" rv32) $(figures "$d/m33" m33)
    summary="${summary}bench: $1-rv32 ms_per_token=$2 insns_per_token=$3
"
    compare="${compare}$(printf '%-22s %8s ms %12s instructions   M33: %6s ms %10s instructions   %5.1fx' \
        "$1" "$2" "$3" "$4" "$5" "$(echo "$2 $4" | awk '{ print $1 / $2 }')")
"
}

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
echo "== Hazard3 against Cortex-M33, board model time per position (time ratio):"
printf '%s' "$compare"
printf '%s' "$summary"
