#!/bin/sh
# The model-making tools end to end on the project's own synthetic corpus:
# train-tokenizer, train (the loss falls; a resumed run equals an
# uninterrupted one bit for bit; several text files), generate, eval,
# tokenizer, header; and, with
# ../shared, eval's pinned figure for stories260K.
BUILD=${BUILD:-build}
P=$BUILD/picollama
FX=$BUILD/tests/make_fixture
SHARED=${PICOLLAMA_SHARED:-../shared}
SUITE=train
. tests/testlib.sh

$FX corpus "$d/corpus.txt" --bytes 120000 --seed 3
$FX corpus "$d/valid.txt" --bytes 20000 --seed 4
check "$P train-tokenizer --corpus $d/corpus.txt --vocab 400 --out $d/tok.bin 2>$d/log" "train-tokenizer runs"

# A tiny model, 200 steps: the loss must fall from ln(400) = 6.0 to under
# 2.5 (this corpus is a few dozen words in simple sentences; the tiny model
# reaches about 1.5 by then).
TRAIN="$P train --corpus $d/corpus.txt -z $d/tok.bin --dim 32 --hidden 64 --layers 2 --heads 4 --kv-heads 2 --seq-len 32 --batch 8 --lr 1e-2 --min-lr 1e-3 --warmup 10 --eval-every 50 --threads 2 --seed 5"
check "$TRAIN --steps 200 --out $d/m.bin 2>$d/train.log" "train runs"
first=$(grep '^step 1/' "$d/train.log" | sed 's/.*loss \([0-9.]*\).*/\1/')
last=$(grep '^step 200/' "$d/train.log" | sed 's/.*loss \([0-9.]*\).*/\1/')
check "awk -v a='$first' -v b='$last' 'BEGIN { exit !(a > 5.5 && b < 2.5) }'" "the loss falls from above 5.5 to below 2.5 (got $first -> $last)"
check "grep -q 'val loss' $d/train.log" "train reports the held-out loss"

# Saved and resumed: stop at 60 of 100 steps, resume, compare with one run.
check "$TRAIN --steps 100 --out $d/full.bin 2>/dev/null" "uninterrupted run"
check "$TRAIN --steps 100 --stop-at 60 --out $d/half.bin 2>/dev/null" "run stopped at step 60"
check "$TRAIN --steps 100 --resume $d/half.bin.ckpt --out $d/half.bin 2>$d/resume.log" "resumed run"
check "cmp -s $d/full.bin $d/half.bin" "the resumed run is bit for bit the uninterrupted one"
check "cmp -s $d/full.bin.ckpt $d/half.bin.ckpt" "and so are the optimizer states"

# --quantize-aware: the passes run on the matrices as convert stores them
# (test_trainer checks that view bit for bit), so the run takes other steps
# than a plain one; three types, one per class, name the same run when they
# are the same type and another when they differ; a type convert does not
# take, or other than one or three of them, is refused.
$TRAIN --steps 100 --stop-at 60 --out $d/q60.bin 2>/dev/null
check "$TRAIN --steps 100 --resume $d/q60.bin.ckpt --checkpoint $d/qat.ckpt --quantize-aware int4:16 --out $d/qat.bin 2>$d/qat.log" "a quantization-aware run"
check "grep -q 'embedding int4:16, attention int4:16, ffn int4:16' $d/qat.log && ! cmp -s $d/qat.ckpt $d/full.bin.ckpt" "says so, and takes other steps than the plain run from the same checkpoint"
check "$TRAIN --steps 100 --resume $d/q60.bin.ckpt --checkpoint $d/qat3.ckpt --quantize-aware int4:16,int4:16,int4:16 --out $d/qat3.bin 2>/dev/null && cmp -s $d/qat3.ckpt $d/qat.ckpt" "int4:16 three times, one per class, is the same run"
check "$TRAIN --steps 100 --resume $d/q60.bin.ckpt --checkpoint $d/qmix.ckpt --quantize-aware int8,fp32,int4:16 --out $d/qmix.bin 2>$d/qmix.log && grep -q 'embedding int8:32, attention fp32, ffn int4:16' $d/qmix.log && ! cmp -s $d/qmix.ckpt $d/qat.ckpt" "a type per class is another run"
for bad in int3 int4,int4 int4,int4,int4,int4 int4,,int4 int4,int4,; do
    $TRAIN --steps 100 --quantize-aware $bad --out $d/other.bin 2> $d/qbad.log; rc=$?
    check "[ $rc -eq 64 ] && grep -q 'expected fp32, int8' $d/qbad.log" "--quantize-aware $bad is a usage error (exit $rc)"
done

# Settings that cannot work are stopped with a sentence: a loss that becomes
# NaN (nothing written), a resume with other architecture flags than the
# checkpoint's, a checkpoint that is not there.
$TRAIN --steps 40 --lr 1e9 --min-lr 1e9 --clip 1000000 --out $d/nan.bin 2> $d/nan.log; rc=$?
check "[ $rc -eq 65 ] && grep -q 'the loss is' $d/nan.log && [ ! -e $d/nan.bin ]" "a loss that becomes NaN stops training, nothing written (exit $rc)"
$TRAIN --steps 100 --resume $d/half.bin.ckpt --dim 64 --out $d/other.bin 2> $d/arch.log; rc=$?
check "[ $rc -eq 64 ] && grep -q 'the checkpoint is dim 32' $d/arch.log && grep -q 'ask for dim 64' $d/arch.log" "a resume with another architecture names both (exit $rc)"
$TRAIN --steps 100 --resume $d/none.ckpt --out $d/other.bin 2> $d/none.log; rc=$?
check "[ $rc -eq 66 ] && grep -q 'cannot open checkpoint' $d/none.log" "a missing checkpoint says so (exit $rc)"
check "grep -q 'resuming .* at step 60' $d/resume.log && grep -q 'saved step 100' $d/resume.log" "a resumed run says where it starts and logs its saves"
# Ctrl-C: the step ends, a checkpoint is saved and named, exit 130.
# (the log is created before the job starts, so the wait never greps a file
# that is not there yet)
: > $d/int.log
$TRAIN --steps 1000000 --out $d/int.bin 2>> $d/int.log &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '^step 1/' $d/int.log; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid
wait $pid; rc=$?
check "[ $rc -eq 130 ] && grep -q 'interrupted; resume with --resume' $d/int.log && [ -s $d/int.bin.ckpt ]" "Ctrl-C saves a checkpoint and says where (exit $rc)"

# The exported model runs in the engine and is scored by eval.
check "$P $d/m.bin -z $d/tok.bin -n 40 -s 1 > $d/story 2>/dev/null && test -s $d/story" "the trained model tells a story"
check "$P eval $d/m.bin -z $d/tok.bin $d/valid.txt > $d/eval 2>&1" "eval runs"
$P eval $d/m.bin -z $d/tok.bin --threads 1 $d/valid.txt > $d/eval1 2>/dev/null
$P eval $d/m.bin -z $d/tok.bin --threads 3 $d/valid.txt > $d/eval3 2>/dev/null
check "cmp -s $d/eval1 $d/eval3 && cmp -s $d/eval1 $d/eval" "eval gives the same figures on 1, 3 and every core's threads"
check "grep -q 'bits_per_byte=' $d/eval" "eval ends in bits_per_byte="
bpb=$(sed 's/.*bits_per_byte=//' "$d/eval")
check "awk -v x='$bpb' 'BEGIN { exit !(x > 0 && x < 1.5) }'" "the tiny model predicts held-out text (bits per byte $bpb)"

printf 'Once upon a time, there was a little dog.\n<|endoftext|>\nTom saw a big red ball.' > "$d/two.txt"
check "$P eval $d/two.txt 2>/dev/null | grep -q '^eval: 2 documents, .*bits_per_byte='" "eval without a model scores the built-in one"

# generate: story k is `picollama MODEL -s S+k` with the same flags, each
# followed by <|endoftext|>; the same bytes on any number of threads.
check "$P generate $d/m.bin -z $d/tok.bin -s 7 -t 0.9 -n 40 --stories 5 --threads 1 --out $d/gen1.txt 2>/dev/null" "generate runs"
: > $d/gen.want
for k in 0 1 2 3 4; do
    $P $d/m.bin -z $d/tok.bin -s $((7 + k)) -t 0.9 -n 40 >> $d/gen.want 2>/dev/null
    echo '<|endoftext|>' >> $d/gen.want
done
check "cmp -s $d/gen1.txt $d/gen.want" "generate's story k is the run with seed S+k"
$P generate $d/m.bin -z $d/tok.bin -s 7 -t 0.9 -n 40 --stories 5 --threads 3 --out $d/gen3.txt 2>/dev/null
check "cmp -s $d/gen1.txt $d/gen3.txt" "generate writes the same file on 1 and 3 threads"
$P generate $d/m.bin -z $d/tok.bin --out $d/none.txt 2>/dev/null; rc=$?
check "[ $rc -eq 64 ]" "generate without --stories is a usage error (exit $rc)"
$P generate $d/m.bin -z $d/tok.bin --stories 0 --out $d/none.txt 2>/dev/null; rc=$?
check "[ $rc -eq 64 ]" "generate --stories 0 is a usage error (exit $rc)"
$P generate $d/m.bin -z $d/tok.bin --stories 2 --out $d/no/such/dir.txt 2>/dev/null; rc=$?
check "[ $rc -eq 74 ]" "generate into an unwritable file is an I/O error (exit $rc)"

# Several text files: each --corpus holds out its last --val-fraction of
# documents; an --extra file trains in full.
$FX corpus "$d/corpus2.txt" --bytes 40000 --seed 6
docs() { grep -c '<|endoftext|>' "$1"; }
TWO="$P train --corpus $d/corpus.txt --corpus $d/corpus2.txt --extra $d/gen1.txt -z $d/tok.bin --dim 16 --hidden 32 --layers 1 --heads 2 --kv-heads 2 --seq-len 16 --batch 2 --steps 2 --val-fraction 0.1 --threads 1"
check "$TWO --out $d/two.bin 2>$d/two.log" "train reads two corpora and an extra file"
n1=$(($(docs $d/corpus.txt) + 1)); n2=$(($(docs $d/corpus2.txt) + 1))
held=$((n1 / 10 + n2 / 10)); trained=$((n1 + n2 - held + 5))
check "grep -q '($trained documents), [0-9]* held out ($held documents)' $d/two.log" \
    "the held-out split is each corpus's last tenth, the extra file all trains ($trained, $held: $(grep 'held out' $d/two.log))"
# tools/held_out_text.sh writes that split as one text (runs are compared
# on it, not on the validation file): trained on alone, it is the same
# documents and tokens as the split above.
sh tools/held_out_text.sh --fraction 0.1 $d/corpus.txt $d/corpus2.txt > $d/held.txt
$P train --corpus $d/held.txt -z $d/tok.bin --dim 16 --hidden 32 --layers 1 --heads 2 --kv-heads 2 --seq-len 16 --batch 2 --steps 1 --val-fraction 0 --threads 1 --out $d/held.bin 2>$d/held.log
held_tokens=$(sed -n 's/.*, \([0-9]*\) held out.*/\1/p' $d/two.log)
check "[ -n '$held_tokens' ] && grep -q '^train: $held_tokens training tokens ($held documents)' $d/held.log" \
    "held_out_text.sh writes the held-out split ($held documents, $held_tokens tokens: $(grep 'training tokens' $d/held.log))"

# quantize: fp32 to int8 (version 2); the result runs and scores close to
# the fp32 model; an int8 model is not quantized again.
check "$P quantize $d/m.bin $d/q.bin 2>/dev/null" "quantize runs"
check "$P inspect $d/q.bin -z $d/tok.bin | grep -q 'version 2 (ak42, int8 groups)'" "quantize writes version 2"
check "$P $d/q.bin -z $d/tok.bin -n 40 -s 1 > $d/qstory 2>/dev/null && test -s $d/qstory" "the int8 model tells a story"
qbpb=$($P eval $d/q.bin -z $d/tok.bin $d/valid.txt 2>/dev/null | sed 's/.*bits_per_byte=//')
# int8 weights and activations cost a little: within 0.1 bits per byte here
check "awk -v a='$bpb' -v b='$qbpb' 'BEGIN { exit !(b > 0 && b - a < 0.1) }'" "the int8 model scores close to fp32 ($bpb -> $qbpb)"
check "! $P quantize $d/q.bin $d/qq.bin 2>/dev/null" "an int8 model is refused"
# The group size: the largest multiple of 4 up to 64 dividing every row
# length; a size that leaves partial groups is refused, naming those that fit.
$FX model "$d/g.bin" --dim 32 --hidden 88 --seed 4
check "$P quantize $d/g.bin $d/g8.bin 2>/dev/null && $P inspect $d/g8.bin -z $d/tok.bin | grep -q ' wq  *int8 (llama2.c)  *8 '" \
    "quantize picks group 8 for rows of 32 and 88"
$P quantize "$d/g.bin" "$d/g32.bin" --group-size 32 2> "$d/gerr"; qrc=$?
check "[ $qrc -ne 0 ] && grep -q 'sizes that do: 4, 8' $d/gerr && [ ! -f $d/g32.bin ]" \
    "quantize refuses group 32 for rows of 88 and names 4, 8"
# inspect warns about files runq.c mishandles (groups straddling w2's rows)
$FX model "$d/straddle.bin" --dim 32 --hidden 88 --seed 4 --version 2 --group-size 16
check "$P inspect $d/straddle.bin -z $d/tok.bin | grep -q 'runq.c'" "inspect notes a grouping runq.c mishandles"
check "! $P inspect $d/g8.bin -z $d/tok.bin | grep -q 'runq.c'" "and not one it handles"

# tokenizer conversions tell the same story, and the indexed form needs no
# RAM for the vocabulary.
for format in indexed tokenizer0 plain; do
    check "$P tokenizer $d/tok.bin $d/tok.$format --format $format 2>/dev/null" "tokenizer --format $format"
    $P $d/m.bin -z $d/tok.$format -n 40 -s 1 > $d/story.$format 2>/dev/null
    check "cmp -s $d/story $d/story.$format" "the $format tokenizer tells the same story"
done
plain=$($P inspect $d/m.bin -z $d/tok.bin | sed -n 's/.*tokenizer index \([0-9]*\).*/\1/p')
indexed=$($P inspect $d/m.bin -z $d/tok.indexed | sed -n 's/.*tokenizer index \([0-9]*\).*/\1/p')
check "test $((plain - indexed)) -eq $((400 * 6))" "the indexed tokenizer saves 6 bytes a token ($plain -> $indexed)"

check "$P tokenizer $d/tok.indexed $d/tok.back --format plain 2>/dev/null && cmp -s $d/tok.back $d/tok.bin" "indexed converts back to the original tokenizer.bin, byte for byte"

# A hostile indexed tokenizer is refused at open (8: PL_ERR_TOKENIZER_FORMAT,
# 9: truncated): an offset that does not match its record, a sorted table out
# of order, a file cut inside its index.
corrupt() { # corrupt IN OUT OFFSET BYTES(printf format)
    cp "$1" "$2"
    printf "$4" | dd of="$2" bs=1 seek="$3" conv=notrunc 2>/dev/null
}
corrupt $d/tok.indexed $d/bad_offset.tok 16 '\377'
sorted=$((16 + 4 * 400))
corrupt $d/tok.indexed $d/bad_order.tok $sorted '\377\000\377\000'
head -c 1000 $d/tok.indexed > $d/cut.tok
$P $d/m.bin -z $d/bad_offset.tok -n 5 >/dev/null 2>&1; check "test $? -eq 8" "an index offset that misses its record is PL_ERR_TOKENIZER_FORMAT"
$P $d/m.bin -z $d/bad_order.tok -n 5 >/dev/null 2>&1; check "test $? -eq 8" "a sorted index out of order is PL_ERR_TOKENIZER_FORMAT"
$P $d/m.bin -z $d/cut.tok -n 5 >/dev/null 2>&1; check "test $? -eq 9" "an index cut short is PL_ERR_TOKENIZER_TRUNCATED"

# header: the bytes, as little-endian words, with the exact length.
check "$P header $d/tok.bin $d/tok.h --name my_tok" "header runs"
check "grep -q 'const size_t my_tok_len = $(wc -c < $d/tok.bin);' $d/tok.h" "header records the length"
check "grep -q 'const uint32_t my_tok\\[' $d/tok.h" "header declares a 4-byte aligned array"
check "! $P header $d/tok.bin $d/tok.h --name 9bad 2>/dev/null" "header refuses a name that is not a C identifier"
# Included from two files, the array is one definition, one copy (it was
# `static`: a sketch of two files carried the model twice): C (a weak
# definition), C++17 (an inline variable, the IDE's C++) and C++11.
printf '#include "tok.h"\nconst void *first_use(void) { return my_tok; }\n' > $d/one.c
printf '#include "tok.h"\nconst void *first_use(void);\nint main(void) { return first_use() == (const void *)my_tok && my_tok_len > 0 ? 0 : 1; }\n' > $d/two.c
for build in "${CC:-cc} -std=c99 -x c" "${CXX:-c++} -std=gnu++17 -x c++" "${CXX:-c++} -std=c++11 -x c++"; do
    # shellcheck disable=SC2086
    if $build -Wall -Wextra -Werror -I$d $d/one.c $d/two.c -o $d/two_files 2> $d/two.err && $d/two_files; then
        n=$(nm $d/two_files | grep -c ' my_tok$')
        check "[ $n -eq 1 ]" "the model header included from two files ($build): $n copies of the array"
    else
        bad "the model header included from two files ($build): one array for both"; head -3 $d/two.err
    fi
done

# eval's figure for stories260K (the reference: 0.988 bits per byte, 1.402
# nats over 387,192 tokens, 792,700 bytes). Slow under the sanitizers.
if [ -n "$SANITIZED" ]; then
    skipped "eval of stories260K under the sanitizers (slow there; the same code runs in the plain build)"
elif [ -f "$SHARED/data/models/stories260K.bin" ]; then
    $P eval "$SHARED/data/models/stories260K.bin" -z "$SHARED/data/models/tok512.bin" \
        "$SHARED/data/corpus/tinystories_valid.txt" > "$d/ref" 2>&1
    check "grep -q '1007 documents, 792700 bytes, 387192 predicted tokens, loss 1.402[0-9] nats/token, bits_per_byte=0.988[0-9]' $d/ref" \
        "eval of stories260K on tinystories_valid: $(cat $d/ref)"
else
    skipped "eval of stories260K (no ../shared)"
fi
report
