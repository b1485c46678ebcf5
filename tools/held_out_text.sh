#!/bin/sh
# The documents `picollama train` holds out of its --corpus files, as one
# text `picollama eval` reads: of each FILE, the last FRACTION (default
# 0.05, train's --val-fraction) of its documents, documents separated by
# <|endoftext|> and stripped of surrounding whitespace, empty ones dropped,
# as train splits them (tools/corpus.c). Runs are compared on this text, not
# on the validation file, which is kept for the final score
# (docs/builtin-model.md).
#   sh tools/held_out_text.sh [--fraction F] FILE... > held_out.txt
usage() {
    echo "usage: sh tools/held_out_text.sh [--fraction F] FILE... > held_out.txt" >&2
    exit 64
}
fraction=0.05
if [ "$1" = "--fraction" ]; then
    [ $# -ge 2 ] || usage
    fraction=$2
    shift 2
fi
if [ $# -eq 0 ] || [ "$1" = "--help" ]; then usage; fi
first=1
for f in "$@"; do
    [ -r "$f" ] || { echo "held_out_text.sh: cannot read $f" >&2; exit 66; }
    LC_ALL=C awk -v fraction="$fraction" -v first="$first" '
        BEGIN { RS = "<[|]endoftext[|]>" }
        {
            gsub(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/, "")
            if ($0 != "") doc[n++] = $0
        }
        END {
            # train: n_val = (size_t)(n_docs * val_fraction), in doubles
            keep = int(n * fraction)
            for (i = n - keep; i < n; i++) {
                if (!first || i > n - keep) printf "\n<|endoftext|>\n"
                printf "%s", doc[i]
            }
        }' "$f" || exit 1
    first=0
done
echo
