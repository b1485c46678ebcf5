#!/bin/sh
# tools/profile_m33.sh MODEL [-z TOKENIZER] [run.c flags]: where the board's
# time goes. Runs one story on the emulated Cortex-M33 (the -Os image, as
# make bench-m33) under the RP2350 board model with profile=, and prints the
# functions that take the most of its cycles (main estimate, the bus's
# stalls and the waits for a background copy included, each charged to the
# code that was running), per position:
#   cycles_per_token share insns_per_token function
# The figures are the same model's as make bench-m33, one core's time (on
# two cores both shares are added). Needs make m33 first.
#   PROFILE_TOP=N  lines to print (default 20)
B=${BUILD:-build}
ELF=${PICOLLAMA_IMAGE:-$B/m33/picollama-m33.elf}
[ $# -ge 1 ] || { echo "usage: sh tools/profile_m33.sh MODEL [-z TOKENIZER] [flags]" >&2; exit 2; }
for f in "$ELF" "$B/rp2350-model.so" "$B/picollama-m33"; do
    [ -f "$f" ] || { echo "profile: $f is missing: make m33" >&2; exit 1; }
done
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
PICOLLAMA_IMAGE="$ELF" PICOLLAMA_BOARD_MODEL="$B/rp2350-model.so,profile=$d/blocks" PICOLLAMA_M33_BENCH=1 \
    "$B/picollama-m33" "$@" > "$d/out" 2> "$d/err" || { cat "$d/err" >&2; exit 1; }
steps=$(sed -n 's/^m33: story: \([0-9]*\) positions.*/\1/p' "$d/err")
if [ -z "$steps" ] || [ ! -s "$d/blocks" ]; then
    echo "profile: the image marked no story" >&2
    exit 1
fi
# each block's start address, then the functions (start, size, name)
arm-none-eabi-nm -S --defined-only "$ELF" | awk '$3 ~ /^[tTwW]$/ { print "F", $1, $2, $4 }' > "$d/funcs"
awk -v steps="$steps" -v top="${PROFILE_TOP:-20}" '
    function hex(s,   i, c, v) { v = 0; s = tolower(s); sub(/^0x/, "", s)
        for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
        return v }
    $1 == "F" { n++; fs[n] = hex($2) - hex($2) % 2; fe[n] = fs[n] + hex($3); fname[n] = $4; next }
    { a = hex($1); a -= a % 2; name = sprintf("0x%08x", a)
      for (i = 1; i <= n; i++) if (a >= fs[i] && a < fe[i]) { name = fname[i]; break }
      cyc[name] += $2; ins[name] += $3; total += $2 }
    END {
        for (k in cyc) printf "%.0f %.1f%% %.0f %s\n", cyc[k] / steps, 100 * cyc[k] / total, ins[k] / steps, k | "sort -rn | head -" top
        close("sort -rn | head -" top)
        printf "total %.0f cycles per position over %d positions\n", total / steps, steps
    }' "$d/funcs" "$d/blocks"
