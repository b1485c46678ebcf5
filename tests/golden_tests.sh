#!/bin/sh
# Byte-identical stdout against llama2.c's run.c (fp32) and runq.c (int8)
# for every row of ../shared/data/golden/cases.tsv. SKIPPED when ../shared is
# absent.
# RUNNER lets the same cases run through another launcher (the M33 one);
# PROGRAMS limits the rows to those programs (run, runq); IDS to those ids
# (a slow emulated board runs a few).
#
# The engine's expf, sine, cosine and power are correctly rounded; llama2.c
# printed these files with glibc's, which are not always (glibc 2.36's
# sinf(34.0f) is 0x1.0ee3ecp-1, 0.51 ulp from sin 34; ours is 0x1.0ee3eep-1).
# In the rows of LIBM_ROUNDING a story meets such an input and takes another
# turn. Those rows must match byte for byte when the engine is built with
# the C library's functions (build/libm/picollama: the rest of the
# arithmetic is llama2.c's), and RUNNER must then tell the host build's
# story (the board tells the PC's story).
BUILD=${BUILD:-build}
RUNNER=${RUNNER:-$BUILD/picollama}
NAME=${NAME:-golden}
SHARED=${PICOLLAMA_SHARED:-../shared}
G=$SHARED/data/golden
M=$SHARED/data/models
LIBM_ROUNDING=${LIBM_ROUNDING:-s260q4_t1}
LIBM_RUNNER=${LIBM_RUNNER:-build/libm/picollama}
HOST=${HOST:-$BUILD/picollama}
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
    case " ${PROGRAMS:-run runq} " in *" $program "*) ;; *)
        skip=$((skip + 1)); echo "$NAME: SKIPPED: $id ($program's; PROGRAMS=$PROGRAMS)"; continue ;; esac
    case " ${IDS:-$id} " in *" $id "*) ;; *)
        skip=$((skip + 1)); echo "$NAME: SKIPPED: $id (not among IDS: ${IDS_WHY:-a subset was asked for})"; continue ;; esac
    eval "set -- $flags"
    want="$G/$id.txt"
    case " $LIBM_ROUNDING " in
    *" $id "*)
        if ! "$LIBM_RUNNER" "$M/$model" -z "$M/$tokenizer" "$@" 2>/dev/null | cmp -s - "$want"; then
            fail=$((fail + 1))
            echo "$NAME: FAILED $id with the C library's functions ($LIBM_RUNNER)"
            continue
        fi
        "$HOST" "$M/$model" -z "$M/$tokenizer" "$@" > "$out/$id.want" 2>/dev/null
        want="$out/$id.want" ;;
    esac
    if "$RUNNER" "$M/$model" -z "$M/$tokenizer" "$@" > "$out/$id.txt" 2> "$out/$id.err" \
        && cmp -s "$out/$id.txt" "$want"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "$NAME: FAILED $id ($program $model $flags)"
        diff "$want" "$out/$id.txt" | head -5
        head -3 "$out/$id.err"
    fi
done < "$G/cases.tsv"
echo "$NAME: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
