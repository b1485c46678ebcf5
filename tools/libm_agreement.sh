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
# same PROGRAM_A PROGRAM_B MODEL: of seeds 1-50, how many stories the two print alike
same() {
    n=0
    for seed in $(seq 1 50); do
        "$1" "$M/$3.bin" -z "$M/tok512.bin" -t 1.0 -s "$seed" > "$d/a" 2>/dev/null
        "$2" "$M/$3.bin" -z "$M/tok512.bin" -t 1.0 -s "$seed" > "$d/b" 2>/dev/null
        cmp -s "$d/a" "$d/b" && n=$((n + 1))
    done
    echo $n
}
for model in stories260K stories260K_q80g4; do
    echo "libm-agreement: $model -t 1.0, seeds 1-50: $(same "$BUILD/picollama" build/libm/picollama $model) of 50 stories identical to the C library's"
    ref=$RUN; [ "$model" = stories260K_q80g4 ] && ref=$RUNQ
    if [ -n "$ref" ]; then
        echo "libm-agreement: $model -t 1.0, seeds 1-50: build/libm/picollama prints $(basename "$ref")'s bytes in $(same "$ref" build/libm/picollama $model) of 50"
    fi
done
