#!/bin/sh
# sh tests/fixture_15m.sh OUT.bin: karpathy's stories15M architecture (dim
# 288, hidden 768, 6 layers, 6 heads, vocab 32000, seq_len 256: 15.2M
# parameters) with random weights and a 32000-token fixture tokenizer, in
# int4 as `picollama convert` makes it, the tokenizer inside: what a 15M
# model costs on the board (make bench-m33's 15m-int4 cases, the README's
# inspect block). BUILD: where make_fixture and picollama are.
BUILD=${BUILD:-build}
out=$1
[ -n "$out" ] || { echo "usage: sh tests/fixture_15m.sh OUT.bin" >&2; exit 64; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
"$BUILD/tests/make_fixture" model "$t/m15.bin" --dim 288 --hidden 768 --layers 6 --heads 6 \
    --kv-heads 6 --vocab 32000 --seq-len 256 --seed 1 &&
"$BUILD/tests/make_fixture" tokenizer "$t/tok32000.bin" --vocab 32000 &&
"$BUILD/picollama" convert "$t/m15.bin" "$out" -z "$t/tok32000.bin" \
    --embedding int4 --attention int4 --ffn int4 > /dev/null 2>&1
