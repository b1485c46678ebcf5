#!/bin/sh
# Byte-identical stdout against llama2.c's run.c (fp32) and runq.c (int8)
# for every row of ../shared/data/golden/cases.tsv. SKIPPED when ../shared is
# absent.
# RUNNER lets the same cases run through another launcher (the M33 one);
# PROGRAMS limits the rows to those programs (run, runq).
BUILD=${BUILD:-build}
RUNNER=${RUNNER:-$BUILD/picollama}
NAME=${NAME:-golden}
SHARED=${PICOLLAMA_SHARED:-../shared}
G=$SHARED/data/golden
M=$SHARED/data/models
pass=0; fail=0; skip=0
if [ ! -f "$G/cases.tsv" ]; then
    echo "$NAME: SKIPPED (no $G/cases.tsv: the reference data in ../shared is absent)"
    echo "$NAME: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
tab=$(printf '\t')
while IFS="$tab" read -r id program model tokenizer flags; do
    case "$id" in '#'*|'') continue ;; esac
    case " ${PROGRAMS:-run runq} " in *" $program "*) ;; *) skip=$((skip + 1)); continue ;; esac
    eval "set -- $flags"
    if "$RUNNER" "$M/$model" -z "$M/$tokenizer" "$@" > "$out/$id.txt" 2> "$out/$id.err" \
        && cmp -s "$out/$id.txt" "$G/$id.txt"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "$NAME: FAILED $id ($program $model $flags)"
        diff "$G/$id.txt" "$out/$id.txt" | head -5
        head -3 "$out/$id.err"
    fi
done < "$G/cases.tsv"
echo "$NAME: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
