#!/bin/sh
# How often a story of the default build (the engine's correctly rounded
# expf, sine, cosine and power) equals the same story of build/libm/picollama
# (the C library's functions: what llama2.c's run.c and runq.c print when
# linked with this machine's glibc, which the golden tests show byte for
# byte). Seeds 1-50 at temperature 1.0, for stories260K fp32 and its int8
# group-4 file (../shared).
#   sh tools/libm_agreement.sh
#   RUN=/path/to/run RUNQ=/path/to/runq sh tools/libm_agreement.sh
#       also compares build/libm/picollama with llama2.c's own programs
#       (fp32 with run, int8 with runq), built with this machine's glibc
BUILD=${BUILD:-build}
SHARED=${PICOLLAMA_SHARED:-../shared}
M=$SHARED/data/models
[ -f "$M/stories260K.bin" ] || { echo "libm-agreement: SKIPPED (no $M)"; exit 0; }
make --no-print-directory -s "$BUILD/picollama" build/libm/picollama >/dev/null || exit 1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
for model in stories260K stories260K_q80g4; do
    same=0
    for seed in $(seq 1 50); do
        "$BUILD/picollama" "$M/$model.bin" -z "$M/tok512.bin" -t 1.0 -s "$seed" > "$d/ours" 2>/dev/null
        build/libm/picollama "$M/$model.bin" -z "$M/tok512.bin" -t 1.0 -s "$seed" > "$d/libm" 2>/dev/null
        cmp -s "$d/ours" "$d/libm" && same=$((same + 1))
    done
    echo "libm-agreement: $model -t 1.0, seeds 1-50: $same of 50 stories identical to the C library's"
    ref=$RUN; [ "$model" = stories260K_q80g4 ] && ref=$RUNQ
    if [ -n "$ref" ]; then
        same=0
        for seed in $(seq 1 50); do
            "$ref" "$M/$model.bin" -z "$M/tok512.bin" -t 1.0 -s "$seed" > "$d/ref" 2>/dev/null
            build/libm/picollama "$M/$model.bin" -z "$M/tok512.bin" -t 1.0 -s "$seed" > "$d/libm" 2>/dev/null
            cmp -s "$d/ref" "$d/libm" && same=$((same + 1))
        done
        echo "libm-agreement: $model -t 1.0, seeds 1-50: build/libm/picollama prints $(basename "$ref")'s bytes in $same of 50"
    fi
done
