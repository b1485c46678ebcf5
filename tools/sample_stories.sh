#!/bin/sh
# Three stories from a model at the Arduino examples' settings (temperature
# 0.8, top-p 0.9), the same prompts and seeds for every model, for the
# README's side-by-side reading (make readme keeps it current).
#   sh tools/sample_stories.sh builtin        the built-in model as shipped
#   sh tools/sample_stories.sh stories260K    karpathy's, from ../shared
BUILD=${BUILD:-build}
SHARED=${PICOLLAMA_SHARED:-../shared}
case "$1" in
builtin) model="" ;;
stories260K) model="$SHARED/data/models/stories260K.bin -z $SHARED/data/models/tok512.bin" ;;
*) echo "usage: sh tools/sample_stories.sh builtin|stories260K" >&2; exit 64 ;;
esac
for case in "1|Once upon a time" "2|Lily and her dog" "3|Tom wanted to fly"; do
    seed=${case%%|*}; prompt=${case#*|}
    echo "-- seed $seed, \"$prompt\":"
    # shellcheck disable=SC2086
    $BUILD/picollama $model -t 0.8 -p 0.9 -s "$seed" -n 256 -i "$prompt" 2>/dev/null | fold -s -w 76 | sed 's/ *$//'
done
