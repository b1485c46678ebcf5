#!/bin/sh
# `make fuzz`: every reader's libFuzzer target (tests/fuzz_*.c), each from
# its seeds, FUZZ_SECONDS each (FUZZ_TARGETS: which). FUZZ_CPU_SECONDS
# instead stops each fuzzer when it has had that much CPU time, whatever
# else the machine runs (libFuzzer's own limit counts wall time): a watcher
# reads the process's CPU time and interrupts it, and libFuzzer prints its
# final stats and exits 72, which then counts as clean. First every saved
# crash input (tests/fuzz_regressions/TARGET/) runs once: each crash found
# becomes one there. A crash or a leak fails the target and leaves its input
# in build/fuzz/TARGET-crash-*; the log is build/fuzz/TARGET.log.
BUILD=${BUILD:-build}
SECONDS_EACH=${FUZZ_SECONDS:-60}
CPU_EACH=${FUZZ_CPU_SECONDS:-}
# The file-reading targets write each input to a scratch file (fuzz_support.h):
# on a disk that is a wait for writeback per input, on tmpfs a copy.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then TMPDIR=/dev/shm; export TMPDIR; fi
F=$BUILD/fuzz
P=$BUILD/picollama
FX=$BUILD/tests/make_fixture
SUITE=fuzz
. tests/testlib.sh

# le32 N: N as 4 little-endian bytes
le32() {
    # shellcheck disable=SC2059
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)))"
}

# seeds TARGET DIR: a few valid inputs, so mutations explore near-valid ones
seeds() {
    s=$2
    case $1 in
    engine)
        $FX fuzz-seed "$s/seed"
        $FX fuzz-seed-picollama "$s/seed-picollama" ;;
    checkpoint)
        $FX tokenizer "$d/tok.bin"
        $FX corpus "$d/corpus.txt" --bytes 4000 2>/dev/null || printf 'Once upon a time.<|endoftext|>A dog ran.' > "$d/corpus.txt"
        $P train --corpus "$d/corpus.txt" -z "$d/tok.bin" --dim 4 --hidden 4 --layers 1 --heads 2 --kv-heads 1 \
            --seq-len 4 --batch 1 --steps 1 --threads 1 --out "$d/tiny.bin" --checkpoint "$s/seed" > /dev/null 2>&1 ;;
    corpus)
        printf 'Once upon a time.<|endoftext|>  A dog ran.\n<|endoftext|>\n\n<|endoftext|>caf\303\251' > "$s/seed"
        printf '<|endoftext|' > "$s/seed-partial" ;;
    tokenizer)
        $FX tokenizer "$d/tok.bin"
        $FX tokenizer "$d/tok0.bin" --nul
        $P tokenizer "$d/tok.bin" "$d/tok.idx" > /dev/null 2>&1
        for t in tok.bin tok0.bin tok.idx; do { printf '\003'; cat "$d/$t"; } > "$s/seed-$t"; done ;;
    convert)
        $FX model "$d/m.bin" --seed 3 --hidden 24
        $FX model "$d/q8.bin" --seed 3 --version 2 --group-size 8
        $FX tokenizer "$d/tok.bin"
        $P convert "$d/m.bin" "$d/m.plm" -z "$d/tok.bin" --embedding int4:8 --ffn int8:8 > /dev/null 2>&1
        for m in m.bin q8.bin; do
            { printf '\045'; le32 "$(wc -c < "$d/$m")"; cat "$d/$m" "$d/tok.bin"; } > "$s/seed-$m"
        done
        { printf '\012'; le32 "$(wc -c < "$d/m.plm")"; cat "$d/m.plm"; } > "$s/seed-m.plm" ;;
    args)
        printf 'model.bin\000-t\0000.8\000-p\0000.9\000-n\000256\000-i\000Once upon a time' > "$s/seed"
        printf 'model.bin\000--place\000auto\000--kv\000sram\000--cores\0002\000-s\000-1' > "$s/seed-place"
        printf 'int4:16\000int8\000fp32\0001e9\000-0.5' > "$s/seed-values" ;;
    esac
}

# watch_cpu PID LIMIT: interrupt PID once its user and system CPU time
# reach LIMIT seconds; the time it had goes into $F/$target.cpu
watch_cpu() {
    tick=$(getconf CLK_TCK)
    while [ -r "/proc/$1/stat" ]; do
        # fields 14 and 15, after the command name in parentheses
        used=$(sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$tick" '{ printf "%d", ($12 + $13) / t }')
        echo "$used" > "$F/$target.cpu"
        if [ "$used" -ge "$2" ]; then kill -INT "$1"; break; fi
        sleep 5
    done
}

for target in ${FUZZ_TARGETS:-engine checkpoint corpus tokenizer convert args}; do
    bin=$F/fuzz_$target
    if [ ! -x "$bin" ]; then bad "$target: $bin was not built"; continue; fi
    corpus=$F/corpus-$target
    mkdir -p "$corpus"
    seeds "$target" "$corpus"
    if [ -d "tests/fuzz_regressions/$target" ]; then
        for crash in tests/fuzz_regressions/"$target"/*; do
            [ -f "$crash" ] || continue
            if "$bin" "$crash" > "$F/$target-regression.log" 2>&1; then ok
            else bad "$target: the saved crash $crash fails again"; tail -20 "$F/$target-regression.log"; fi
        done
    fi
    wall=$SECONDS_EACH
    [ -n "$CPU_EACH" ] && wall=$((CPU_EACH * 20))
    "$bin" -max_total_time="$wall" -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$F/$target-" -print_final_stats=1 "$corpus" > "$F/$target.log" 2>&1 &
    pid=$!
    watcher=
    if [ -n "$CPU_EACH" ]; then
        rm -f "$F/$target.cpu" # no earlier run's time
        watch_cpu "$pid" "$CPU_EACH" &
        watcher=$!
    fi
    wait "$pid"; rc=$?
    [ -n "$watcher" ] && wait "$watcher"
    # with a CPU bound the watcher's interrupt is the normal end: libFuzzer
    # exits 72 after "run interrupted" (an interrupt from anyone else is
    # caught below by the CPU time the fuzzer had)
    if [ -n "$CPU_EACH" ] && [ $rc = 72 ] && grep -q 'libFuzzer: run interrupted' "$F/$target.log"; then rc=0; fi
    if [ $rc = 0 ]; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$F/$target.log")
        if [ -n "$CPU_EACH" ]; then
            had=$(cat "$F/$target.cpu" 2>/dev/null || echo 0)
            if [ "$had" -lt "$CPU_EACH" ]; then bad "$target: stopped after $had of $CPU_EACH CPU s"; continue; fi
            echo "fuzz: $target: $runs runs in $had CPU s, clean"
        else
            echo "fuzz: $target: $runs runs in ${SECONDS_EACH} s, clean"
        fi
        ok
    else
        bad "$target: libFuzzer found a crash (log $F/$target.log)"; tail -40 "$F/$target.log"
    fi
done
report
