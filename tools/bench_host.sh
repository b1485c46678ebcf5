#!/bin/sh
# make bench: host tokens/s on stories260K (../shared), whole-process figures:
# the wall time of complete `picollama` runs (load, 256 positions, exit),
# best of REPEAT runs. Set RUNC=/path/to/llama2.c/run to time run.c the same
# way, on the same machine, in the same command.
BUILD=${BUILD:-build}
REPEAT=${REPEAT:-20}
SHARED=${PICOLLAMA_SHARED:-../shared}
M=$SHARED/data/models
if [ ! -f "$M/stories260K.bin" ]; then
    echo "bench: SKIPPED (no $M/stories260K.bin)"
    exit 0
fi

now_ns() { date +%s%N; }

# best_us BINARY FLAGS...: fastest whole run of REPEAT, in microseconds
best_us() {
    best=
    i=0
    while [ $i -lt "$REPEAT" ]; do
        t0=$(now_ns)
        "$@" > /dev/null 2>&1 || { echo "bench: $* failed" >&2; return 1; }
        t1=$(now_ns)
        us=$(( (t1 - t0) / 1000 ))
        if [ -z "$best" ] || [ "$us" -lt "$best" ]; then best=$us; fi
        i=$((i + 1))
    done
    echo "$best"
}

report() { # report NAME MICROSECONDS
    awk -v name="$1" -v us="$2" 'BEGIN { printf "  %-34s %8.2f ms  %9.0f tokens/s\n", name, us / 1000, 256 / (us / 1e6) }'
}

echo "stories260K, -n 256, best of $REPEAT whole-process runs ($(uname -m), $(${CC:-cc} --version | head -1))"
for mode in "-t 0" "-t 1.0 -p 0.9 -s 133742"; do
    echo " flags: $mode"
    us=$(best_us "$BUILD/picollama" "$M/stories260K.bin" -z "$M/tok512.bin" $mode -n 256) || exit 1
    report "picollama" "$us"
    if [ -n "$RUNC" ]; then
        us=$(best_us "$RUNC" "$M/stories260K.bin" -z "$M/tok512.bin" $mode -n 256) || exit 1
        report "run.c ($RUNC)" "$us"
    fi
done
