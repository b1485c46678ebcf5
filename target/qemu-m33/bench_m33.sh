#!/bin/sh
# make bench-m33: RP2350 board time per token, from the cycle-level board
# model (target/board-model, docs/board-model.md) on the emulated
# Cortex-M33, for whole stories as the sketches tell them: 256 positions
# from "Once upon a time" at temperature 0.8, top-p 0.9, seed 42, sampling
# and decoding included, the time being the mean per position over the
# story. The image is built with arduino-pico's flags at the IDE's default
# -Os (the headline); ms_per_token_O2 is the same story at "Optimize More".
# Then the two anchors: the configurations closest to the only published
# hardware measurements (docs/board-model.md, "Anchors").
#
# Each case ends in one line:
#   bench: CASE ms_per_token=X ms_per_token_slow=W ms_per_token_O2=V
#          insns_per_token=Y cycles_per_token=Z steps=N compute=C flash_bus=F
#          psram_bus=P flash_bursts=B psram_bursts=Q cache_misses=M
#          ms_lower_bound_insns=L dma_bytes=D dma_wait=A
# X: main estimate; W: the pessimistic bound (Cortex-M4 TRM costs); per
# token: compute and bus cycles, bursts started, XIP cache misses; L: the
# instructions alone at one a cycle, a lower bound; D: bytes the stream's
# DMA moved, A: cycles the cores waited for it (streaming, --stream 1,
# the default as in the Arduino class).
#   BENCH_CASES="a b"  only those cases (make test checks a few this way)
ROOT=../..
# how the shipped built-in model is made (Makefile: make models)
SHIPPED_FLAGS=$(sed -n 's/^SHIPPED_FORMAT *:= *//p' $ROOT/Makefile)
B=$ROOT/build
SHARED=${PICOLLAMA_SHARED:-$ROOT/../shared}
MODEL_SO=$B/rp2350-model.so
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
STORY='-n 256 -t 0.8 -p 0.9 -s 42 -i "Once upon a time"'

wanted() { [ -z "$BENCH_CASES" ] || case " $BENCH_CASES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# model_run IMAGE OUT MODEL TOKENIZER|- FLAGS: one story under the board model
model_run() {
    z=""; [ "$4" != "-" ] && z="-z \"$4\""
    eval "PICOLLAMA_IMAGE=\"$1\" PICOLLAMA_BOARD_MODEL=\"$MODEL_SO\" PICOLLAMA_M33_BENCH=1 \
        $B/picollama-m33 \"$3\" $z $5" > "$2.out" 2> "$2.err" || { cat "$2.err"; exit 1; }
}

# field NAME FILE: a board-model field
field() { sed -n "s/.*board-model: story.* $1=\([0-9]*\).*/\1/p" "$2"; }

summary=""
# run CASE DESCRIPTION MODEL TOKENIZER|- [MORE FLAGS] [IMAGE of an anchor]
run() {
    wanted "$1" || return 0
    flags="$STORY $5"
    [ -n "$6" ] && flags="$5"
    echo "== $1: $2: $(basename "$3"), flags: $flags"
    model_run "${6:-$B/m33/picollama-m33.elf}" "$d/os" "$3" "$4" "$flags"
    grep -E '^(m33|board-model):' "$d/os.err"
    if [ -z "$6" ]; then
        model_run "$B/m33/picollama-m33-O2.elf" "$d/o2" "$3" "$4" "$flags"
        cmp -s "$d/os.out" "$d/o2.out" || { echo "bench: $1: the -O2 image told another story"; exit 1; }
    fi
    steps=$(sed -n 's/^m33: story: \([0-9]*\) positions.*/\1/p' "$d/os.err")
    line=$(awk -v c="$1" -v steps="$steps" -v o2="$(field cycles "$d/o2.err" 2>/dev/null)" \
        -v insns="$(field insns "$d/os.err")" -v cyc="$(field cycles "$d/os.err")" \
        -v slow="$(field cycles_slow "$d/os.err")" -v comp="$(field compute "$d/os.err")" \
        -v fl="$(field flash_stall "$d/os.err")" -v ps="$(field psram_stall "$d/os.err")" \
        -v fb="$(field flash_bursts "$d/os.err")" -v pb="$(field psram_bursts "$d/os.err")" \
        -v fm="$(field flash_misses "$d/os.err")" -v pm="$(field psram_misses "$d/os.err")" \
        -v db="$(field dma_bytes "$d/os.err")" -v dw="$(field dma_wait "$d/os.err")" \
        -v anchor="$6" 'BEGIN {
        ms = 1000.0 / 150e6 / steps   # 150 MHz
        printf "bench: %s ms_per_token=%.1f ms_per_token_slow=%.1f", c, cyc * ms, slow * ms
        if (anchor == "") printf " ms_per_token_O2=%.1f", o2 * ms
        printf " insns_per_token=%d cycles_per_token=%d steps=%d compute=%d flash_bus=%d psram_bus=%d", \
            insns / steps, cyc / steps, steps, comp / steps, fl / steps, ps / steps
        printf " flash_bursts=%d psram_bursts=%d cache_misses=%d ms_lower_bound_insns=%.1f", \
            fb / steps, pb / steps, (fm + pm) / steps, insns * ms
        printf " dma_bytes=%d dma_wait=%d", db / steps, dw / steps
    }')
    rm -f "$d/o2.err"
    summary="$summary$line
"
}

if [ -f "$SHARED/data/models/stories260K.bin" ]; then
    S=$SHARED/data/models
    run stories260K "fp32, read in place from flash" "$S/stories260K.bin" "$S/tok512.bin"
    run stories260K-q8 "int8, karpathy's file (group 32, hidden 172: w2's groups straddle rows)" \
        "$S/stories260K_q80.bin" "$S/tok512.bin"
    run stories260K-q8-auto "the same, placed by the Arduino class's rule" "$S/stories260K_q80.bin" "$S/tok512.bin" \
        "--place auto"
    run stories260K-q8-auto-2core "the same on two cores" "$S/stories260K_q80.bin" "$S/tok512.bin" \
        "--place auto --cores 2"
else
    echo "== stories260K: SKIPPED (no $SHARED/data/models)"
fi
if wanted builtin || wanted builtin-q8 || wanted builtin-shipped || wanted builtin-shipped-2core; then
    $B/picollama quantize "$ROOT/models/stories.bin" "$d/stories-q8.bin" 2>/dev/null
    # shellcheck disable=SC2086
    $B/picollama convert "$ROOT/models/stories.bin" "$d/stories-shipped.bin" -z "$ROOT/models/stories-tok.bin" \
        $SHIPPED_FLAGS 2>/dev/null
fi
run builtin "the built-in model, fp32, from flash" "$ROOT/models/stories.bin" "$ROOT/models/stories-tok.bin"
run builtin-q8 "the built-in model in int8 (picollama quantize's default: group 32)" \
    "$d/stories-q8.bin" "$ROOT/models/stories-tok.bin"
run builtin-shipped "the built-in model as shipped ($SHIPPED_FLAGS), placed as the Arduino class places it" \
    "$d/stories-shipped.bin" - "--place auto"
run builtin-shipped-2core "the same on two cores" "$d/stories-shipped.bin" - "--place auto --cores 2"
if wanted 14mb || wanted 14mb-q8 || wanted 14mb-fastest || wanted 14mb-fastest-2core; then
    $B/tests/make_fixture model "$d/orig14mb.bin" --dim 96 --hidden 256 --layers 5 --heads 6 \
        --kv-heads 6 --vocab 32000 --seq-len 256 --seed 1
    $B/tests/make_fixture tokenizer "$d/tok32000.bin" --vocab 32000
    $B/tests/make_fixture model "$d/orig14mb-q8.bin" --dim 96 --hidden 256 --layers 5 --heads 6 \
        --kv-heads 6 --vocab 32000 --seq-len 256 --seed 1 --version 2 --group-size 32
    $B/picollama convert "$d/orig14mb.bin" "$d/orig14mb-fast.bin" -z "$d/tok32000.bin" \
        --embedding int4 --attention int8 --ffn int8 2>/dev/null
fi
run 14mb "the original PicoLlama's architecture (dim 96, hidden 256, 5 layers, 6 heads, vocab 32000), fp32 in flash, random weights" \
    "$d/orig14mb.bin" "$d/tok32000.bin"
run 14mb-q8 "the same architecture in int8, group 32, random weights" "$d/orig14mb-q8.bin" "$d/tok32000.bin"
run 14mb-fastest "the same: int8 layers, int4 embedding and classifier (groups of 32), placed by the Arduino class's rule" \
    "$d/orig14mb-fast.bin" - "--place auto"
run 14mb-fastest-2core "the same on two cores" "$d/orig14mb-fast.bin" - "--place auto --cores 2"
if wanted 15m-int4 || wanted 15m-int4-2core; then
    (cd $ROOT && BUILD=build sh tests/fixture_15m.sh "$d/m15-int4.bin") || exit 1
fi
run 15m-int4 "stories15M's architecture, int4, random weights (tests/fixture_15m.sh), placed by the Arduino class's rule" \
    "$d/m15-int4.bin" - "--place auto"
run 15m-int4-2core "the same on two cores" "$d/m15-int4.bin" - "--place auto --cores 2"

# The anchors (docs/board-model.md): each published figure's configuration.
# (no streaming: neither project streams)
ANCHOR='-n 256 -t 1.0 -p 0.9 -s 42 -i "Once upon a time" --stream 0'
if [ -f "$SHARED/data/models/tokenizer.bin" ] && [ -f "$SHARED/data/corpus/tinystories_train.txt" ]; then
    # The original PicoLlama: its 14 MB architecture on the Llama 2
    # vocabulary, trained (top-p's work depends on how peaked the
    # distribution is: random weights keep nearly all 32,000 candidates),
    # here briefly by our own trainer, made once into build/.
    seed_model=$B/anchor-seed-model.bin
    if wanted anchor-seed && [ ! -s "$seed_model" ]; then
        echo "== anchor-seed: training its model (30 steps, about a minute; once, into $seed_model)"
        $B/picollama train --corpus "$SHARED/data/corpus/tinystories_train.txt" -z "$SHARED/data/models/tokenizer.bin" \
            --dim 96 --hidden 256 --layers 5 --heads 6 --kv-heads 6 --seq-len 256 --batch 8 --steps 30 --threads 2 \
            --lr 3e-3 --warmup 5 --eval-every 1000 --seed 1 --out "$seed_model" > /dev/null 2>&1 || exit 1
    fi
    run anchor-seed "the original PicoLlama: 14 MB fp32 in flash, run.c's one-row reads, KV cache in PSRAM, -Os" \
        "$seed_model" "$SHARED/data/models/tokenizer.bin" "$ANCHOR" "$B/m33/picollama-m33-anchor-seed.elf"
else
    echo "== anchor-seed: SKIPPED (no $SHARED/data: the Llama 2 tokenizer and TinyStories)"
fi
if [ -f "$SHARED/data/models/stories260K.bin" ]; then
    run anchor-pico_llama "pico_llama: stories260K fp32 copied to PSRAM, KV cache in SRAM, one core, -O3, code in flash" \
        "$SHARED/data/models/stories260K.bin" "$SHARED/data/models/tok512.bin" "$ANCHOR --place psram --kv sram" \
        "$B/m33/picollama-m33-anchor-pico_llama.elf"
else
    echo "== anchor-pico_llama: SKIPPED (no $SHARED/data/models)"
fi
printf '%s' "$summary"
