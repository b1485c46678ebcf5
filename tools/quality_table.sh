#!/bin/sh
# make quality: bits per byte on tinystories_valid.txt for the built-in model
# and stories260K in fp32, int8 and the int4 mixes `picollama convert`
# offers, as a Markdown table (the README's). Each row: the convert flags,
# the file's bytes, the weight bytes one token reads, bits per byte and the
# change against fp32. About 20 minutes on two cores.
set -e
B=${PICOLLAMA:-build/picollama}
SHARED=${PICOLLAMA_SHARED:-../shared}
TEXT=$SHARED/data/corpus/tinystories_valid.txt
JOBS=${JOBS:-2}
[ -f "$TEXT" ] || { echo "quality: SKIPPED (no $TEXT)"; exit 0; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

# name|model|tokenizer|convert flags ("-" for the file as it is)
cases="builtin fp32|models/stories.bin|models/stories-tok.bin|-
builtin int8|models/stories.bin|models/stories-tok.bin|--embedding int8 --attention int8 --ffn int8
builtin int4 ffn|models/stories.bin|models/stories-tok.bin|--embedding int8 --attention int8 --ffn int4
builtin int4 layers|models/stories.bin|models/stories-tok.bin|--embedding int8 --attention int4 --ffn int4
builtin int4|models/stories.bin|models/stories-tok.bin|--embedding int4 --attention int4 --ffn int4"
if [ -f "$SHARED/data/models/stories260K.bin" ]; then
    M=$SHARED/data/models
    cases="$cases
stories260K fp32|$M/stories260K.bin|$M/tok512.bin|-
stories260K int8|$M/stories260K.bin|$M/tok512.bin|--embedding int8 --attention int8 --ffn int8
stories260K int4 ffn|$M/stories260K.bin|$M/tok512.bin|--embedding int8 --attention int8 --ffn int4
stories260K int4 layers|$M/stories260K.bin|$M/tok512.bin|--embedding int8 --attention int4 --ffn int4
stories260K int4|$M/stories260K.bin|$M/tok512.bin|--embedding int4 --attention int4 --ffn int4"
fi

i=0
echo "$cases" | while IFS='|' read -r name model tok flags; do
    i=$((i + 1))
    f=$d/$i.bin
    if [ "$flags" = "-" ]; then
        cp "$model" "$f"; cp "$tok" "$d/$i.tok"; ztok="-z $d/$i.tok"
    else
        $B convert "$model" "$f" -z "$tok" $flags 2>/dev/null; ztok=""
    fi
    echo "$i|$name|$flags|$f|$ztok"
done > "$d/jobs"

# evaluate in parallel, JOBS at a time
cut -d'|' -f1 "$d/jobs" | xargs -P "$JOBS" -I{} sh -c '
    line=$(grep "^{}|" "'"$d"'/jobs"); f=$(echo "$line" | cut -d"|" -f4); z=$(echo "$line" | cut -d"|" -f5)
    '"$B"' eval "$f" $z "'"$TEXT"'" 2>&1 | tail -1 > "'"$d"'/{}.eval"'

echo "| model | convert flags | file bytes | weight bytes per token | bits per byte | vs fp32 |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
base=""
while IFS='|' read -r i name flags f ztok; do
    bpb=$(sed -n 's/.*bits_per_byte=\([0-9.]*\).*/\1/p' "$d/$i.eval")
    per=$($B inspect "$f" $ztok | sed -n 's/^weights read per token: \([0-9]*\) bytes.*/\1/p')
    case "$flags" in -) base=$bpb; flags="(as trained: fp32)";; esac
    delta=$(awk -v a="$bpb" -v b="$base" 'BEGIN { printf "%+.2f%%", (a / b - 1) * 100 }')
    echo "| $name | $flags | $(wc -c < "$f") | $per | $bpb | $delta |"
done < "$d/jobs"
