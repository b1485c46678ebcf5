#!/bin/sh
# make shapes: the table of model shapes in docs/builtin-model.md. Each shape
# is trained the same short way (STEPS steps, one thread, two shapes at a
# time on a 2-core machine), scored on tinystories_valid.txt, and timed on the
# emulated M33 as the built-in model ships (int4 everywhere, groups of 32,
# placed by the Arduino class's rule). About 40 minutes for the four below
# (17 to 27 minutes a pair). Needs ../shared (TinyStories text, the teacher)
# and the M33 image (make m33).
#
#   sh tools/shape_table.sh [SHAPE ...]      (default: all of SHAPES)
#
# Short runs rank shapes, they do not score them: every shape here is far
# from converged at STEPS, and the ranking can change with a longer run
# (vocabulary 2048 led 1024 by 3.3% here and by 0.3% after 5000 steps).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
SHARED=${PICOLLAMA_SHARED:-$ROOT/../shared}
C=$SHARED/data/corpus
M=$SHARED/data/models
W=${SHAPES_DIR:-$B/shapes}
STEPS=${STEPS:-800}

# name dim hidden layers vocab: 8 heads, 4 kv heads, seq_len 256 for all
SHAPES_ALL="v512:128:352:5:512 v2048:128:352:5:2048 base:128:352:5:1024 hidden448:128:448:5:1024"

[ -f "$C/tinystories_valid.txt" ] && [ -f "$M/stories260K.bin" ] || {
    echo "shapes: SKIPPED (needs $C and $M)"; exit 0; }
[ -x "$B/picollama-m33" ] || { echo "shapes: needs the M33 image: make m33"; exit 1; }
mkdir -p "$W"

# The teacher's text the shape runs use: the previous built-in model's (16,000
# stories at run.c's default top-p 0.9; docs/builtin-model.md).
[ -f "$W/teacher.txt" ] || "$B/picollama" generate "$M/stories260K.bin" -z "$M/tok512.bin" \
    -t 1.0 -n 512 -s 1 --stories 16000 --out "$W/teacher.txt" || exit 1

tokenizer() { # tokenizer VOCAB: trained as the built-in model's was (deterministic)
    [ -f "$W/tok$1.bin" ] || { "$B/picollama" train-tokenizer --corpus "$C/tinystories_train.txt" \
        --vocab "$1" --out "$W/tok$1.raw.bin" >/dev/null 2>&1 &&
        "$B/picollama" tokenizer "$W/tok$1.raw.bin" "$W/tok$1.bin" >/dev/null 2>&1; } || exit 1
    echo "$W/tok$1.bin"
}

shape() { # shape NAME: train, score and time one shape; leaves $W/NAME.row
    spec=$(printf '%s\n' $SHAPES_ALL | grep "^$1:") || { echo "shapes: no shape $1"; return 1; }
    IFS=: read -r name dim hidden layers vocab <<EOF
$spec
EOF
    tok=$(tokenizer "$vocab")
    "$B/picollama" train --corpus "$C/tinystories_train.txt" --corpus "$C/tinystories_gpt4clean_train.txt" \
        --extra "$W/teacher.txt" -z "$tok" --out "$W/$name.bin" \
        --dim "$dim" --hidden "$hidden" --layers "$layers" --heads 8 --kv-heads 4 --seq-len 256 \
        --steps "$STEPS" --batch 16 --lr 2e-3 --min-lr 2e-4 --warmup 100 --weight-decay 0.1 --clip 1.0 \
        --eval-every "$STEPS" --val-batches 32 --val-fraction 0.05 --seed 1 --threads 1 \
        > "$W/$name.log" 2>&1 || { tail -3 "$W/$name.log"; return 1; }
    "$B/picollama" eval "$W/$name.bin" -z "$tok" --threads 1 "$C/tinystories_valid.txt" \
        > "$W/$name.eval" 2>/dev/null || return 1
    "$B/picollama" convert "$W/$name.bin" "$W/$name.plm" -z "$tok" \
        --embedding int4 --attention int4 --ffn int4 2>/dev/null || return 1
    PICOLLAMA_BOARD_MODEL="$B/rp2350-model.so" PICOLLAMA_M33_BENCH=1 timeout 600 "$B/picollama-m33" "$W/$name.plm" \
        -n 256 -t 0.8 -p 0.9 -s 42 -i "Once upon a time" --place auto > /dev/null 2> "$W/$name.m33" ||
        { cat "$W/$name.m33"; return 1; }
    params=$(sed -n 's/^train: \([0-9]*\) parameters.*/\1/p' "$W/$name.log")
    val=$(awk '/val loss/ { v = $NF } END { print v }' "$W/$name.log")
    bpb=$(sed -n 's/.*bits_per_byte=//p' "$W/$name.eval")
    # board time per position of the story (docs/board-model.md)
    ms=$(awk '/^m33: story: / { steps = $3 }
              /^board-model: story/ { for (i = 1; i <= NF; i++) if ($i ~ /^cycles=/) c = substr($i, 8) }
              END { printf "%.1f", c / steps / 150e3 }' "$W/$name.m33")
    kb=$(($(wc -c < "$W/$name.plm") / 1024))
    echo "| $name | $dim | $hidden | $layers | $vocab | $params | $val | $bpb | $kb | $ms |" > "$W/$name.row"
}

list=${*:-$(printf '%s\n' $SHAPES_ALL | cut -d: -f1)}
set -- $list
# Two at a time: each trains on one thread.
while [ $# -gt 0 ]; do
    shape "$1" & p1=$!
    p2=
    if [ $# -gt 1 ]; then shape "$2" & p2=$!; fi
    wait $p1 || { echo "shapes: $1 failed (its files in $W)"; exit 1; }
    [ -z "$p2" ] || wait $p2 || { echo "shapes: $2 failed (its files in $W)"; exit 1; }
    shift; [ $# -gt 0 ] && shift
done
echo "| shape | dim | hidden | layers | vocab | parameters | held-out loss (nats/token) | bits/byte, fp32 | int4 file (KB) | board-model M33 ms/token |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in $list; do cat "$W/$n.row"; done
