#!/bin/sh
# The command line on models the tests make themselves: run.c's flags, exit
# statuses for every kind of bad input, and stdout that does not depend on the
# file variant. Needs nothing from ../shared.
BUILD=${BUILD:-build}
P=$BUILD/picollama
FX=$BUILD/tests/make_fixture
SUITE=cli
. tests/testlib.sh

# expect_exit CODE DESCRIPTION COMMAND...: the exit status, and for a failure
# a message on stderr naming the problem.
expect_exit() {
    want=$1; what=$2; shift 2
    "$@" > "$d/out" 2> "$d/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        bad "$what: exit $got, want $want"; sed 's/^/    /' "$d/err" | head -3
    elif [ "$want" -ne 0 ] && [ ! -s "$d/err" ]; then
        bad "$what: exit $got but no message on stderr"
    else
        ok
    fi
}

expect_same() { # expect_same DESCRIPTION FILE1 FILE2
    if cmp -s "$2" "$3"; then ok; else bad "$1"; fi
}

$FX model "$d/m0.bin" --seed 7
$FX model "$d/m1.bin" --seed 7 --version 1
$FX model "$d/m0u.bin" --seed 7 --unshared
$FX model "$d/m1u.bin" --seed 7 --unshared --version 1
$FX model "$d/short.bin" --seq-len 8
$FX model "$d/q8.bin" --seed 7 --version 2 --group-size 8
$FX model "$d/big_vocab.bin" --vocab 1000
$FX tokenizer "$d/tok.bin"
$FX tokenizer "$d/tok0.bin" --nul
$FX tokenizer "$d/tok_padded.bin" --vocab 2000

# A story: exit 0, ends in a newline, repeatable for a seed.
expect_exit 0 "story" $P "$d/m0.bin" -z "$d/tok.bin" -s 5 -n 20 -i "Once upon a time"
cp "$d/out" "$d/story"
if [ -s "$d/story" ] && [ "$(tail -c 1 "$d/story" | od -An -c | tr -d ' ')" = '\n' ]; then ok; else bad "story ends in a newline"; fi
case "$(head -c 16 "$d/story")" in "Once upon a time") ok ;; *) bad "story starts with the prompt" ;; esac
$P "$d/m0.bin" -z "$d/tok.bin" -s 5 -n 20 -i "Once upon a time" > "$d/again" 2>/dev/null
expect_same "same seed, same story" "$d/story" "$d/again"
$P "$d/m0.bin" -z "$d/tok.bin" -s 6 -n 20 -i "Once upon a time" > "$d/other" 2>/dev/null
if cmp -s "$d/story" "$d/other"; then bad "another seed, another story"; else ok; fi

# The same weights in version 0 and 1, shared or not, and either tokenizer
# variant, tell the same story.
for flags in "-t 0 -n 30" "-s 11 -n 30 -t 0.9 -p 0.8" "-s 3 -n 25 -p 1 -i The"; do
    $P "$d/m0.bin" -z "$d/tok.bin" $flags > "$d/a" 2>/dev/null
    $P "$d/m1.bin" -z "$d/tok.bin" $flags > "$d/b" 2>/dev/null
    $P "$d/m0.bin" -z "$d/tok0.bin" $flags > "$d/c" 2>/dev/null
    $P "$d/m0.bin" -z "$d/tok_padded.bin" $flags > "$d/e" 2>/dev/null
    expect_same "v0 and v1 agree ($flags)" "$d/a" "$d/b"
    expect_same "tokenizer.bin and tokenizer0 agree ($flags)" "$d/a" "$d/c"
    expect_same "a tokenizer with more entries agrees ($flags)" "$d/a" "$d/e"
    $P "$d/m0u.bin" -z "$d/tok.bin" $flags > "$d/a" 2>/dev/null
    $P "$d/m1u.bin" -z "$d/tok.bin" $flags > "$d/b" 2>/dev/null
    expect_same "unshared v0 and v1 agree ($flags)" "$d/a" "$d/b"
done

# An int8 model (version 2) runs, and its story is repeatable for a seed.
expect_exit 0 "int8 model" $P "$d/q8.bin" -z "$d/tok.bin" -s 4 -n 30 -i "Once upon a time"
cp "$d/out" "$d/q8story"
$P "$d/q8.bin" -z "$d/tok0.bin" -s 4 -n 30 -i "Once upon a time" > "$d/q8again" 2>/dev/null
expect_same "int8: same seed, same story" "$d/q8story" "$d/q8again"

# run.c's meanings: steps 0 or past the context mean the context.
$P "$d/short.bin" -z "$d/tok.bin" -t 0 -n 0 > "$d/a" 2>/dev/null
$P "$d/short.bin" -z "$d/tok.bin" -t 0 -n 999 > "$d/b" 2>/dev/null
$P "$d/short.bin" -z "$d/tok.bin" -t 0 -n 8 > "$d/c" 2>/dev/null
expect_same "-n 0 runs the whole context" "$d/a" "$d/c"
expect_same "-n past the context runs the whole context" "$d/b" "$d/c"
# Invalid UTF-8 in a prompt goes through byte fallback.
expect_exit 0 "invalid UTF-8 prompt" $P "$d/m0.bin" -z "$d/tok.bin" -n 30 -t 0 -i "$(printf 'a\200\377\342\202')"

# Bad arguments.
expect_exit 0 "no arguments: the built-in story" $P
expect_exit 64 "a flag without its value, built-in model" $P -n
expect_exit 64 "unknown flag" $P "$d/m0.bin" -z "$d/tok.bin" -x 1
expect_exit 64 "long flag" $P "$d/m0.bin" -z "$d/tok.bin" -tt 1
expect_exit 64 "flag without its value" $P "$d/m0.bin" -z "$d/tok.bin" -n
expect_exit 64 "temperature not a number" $P "$d/m0.bin" -z "$d/tok.bin" -t warm
expect_exit 64 "negative temperature" $P "$d/m0.bin" -z "$d/tok.bin" -t -0.5
expect_exit 64 "top-p above 1" $P "$d/m0.bin" -z "$d/tok.bin" -p 1.5
expect_exit 64 "negative top-p" $P "$d/m0.bin" -z "$d/tok.bin" -p -0.1
expect_exit 64 "negative steps" $P "$d/m0.bin" -z "$d/tok.bin" -n -4
expect_exit 64 "steps not a number" $P "$d/m0.bin" -z "$d/tok.bin" -n 12x
expect_exit 64 "chat mode" $P "$d/m0.bin" -z "$d/tok.bin" -m chat
expect_exit 66 "missing model" $P "$d/nothing.bin" -z "$d/tok.bin"
expect_exit 66 "missing tokenizer" $P "$d/m0.bin" -z "$d/nothing.bin"
expect_exit 66 "a directory as model" $P "$d" -z "$d/tok.bin"

# Bad files: the engine's status is the exit status.
size=$(wc -c < "$d/m0.bin")
head -c $((size - 1)) "$d/m0.bin" > "$d/trunc.bin"
expect_exit 4 "truncated model" $P "$d/trunc.bin" -z "$d/tok.bin"
cp "$d/m0.bin" "$d/long.bin"; printf 'xxxx' >> "$d/long.bin"
expect_exit 5 "model longer than its config" $P "$d/long.bin" -z "$d/tok.bin"
: > "$d/empty.bin"
expect_exit 4 "empty model" $P "$d/empty.bin" -z "$d/tok.bin"
tsize=$(wc -c < "$d/tok.bin")
head -c $((tsize - 3)) "$d/tok.bin" > "$d/tok_trunc.bin"
expect_exit 9 "truncated tokenizer" $P "$d/m0.bin" -z "$d/tok_trunc.bin"
expect_exit 10 "tokenizer smaller than the vocabulary" $P "$d/big_vocab.bin" -z "$d/tok.bin"
# A prompt longer than the context, or than -n: run.c prints its first
# positions (the prompt's own pieces, nothing sampled) and exits 0.
for n in 0 3; do
    expect_exit 0 "prompt longer than -n $n" $P "$d/short.bin" -z "$d/tok.bin" -n $n -i "a b c d e f g h i j"
    text=$(cat "$d/out")
    case "a b c d e f g h i j" in
        "$text"*) if [ -n "$text" ]; then ok; else bad "prompt longer than -n $n: nothing printed"; fi ;;
        *) bad "prompt longer than -n $n: printed '$text', not the prompt's start" ;;
    esac
done
[ "$($P "$d/short.bin" -z "$d/tok.bin" -n 3 -i "a b c d e f g h i j" | wc -c)" -lt \
  "$($P "$d/short.bin" -z "$d/tok.bin" -n 0 -i "a b c d e f g h i j" | wc -c)" ] && ok || bad "-n 3 prints fewer positions than the context's"

# The committed header of the built-in model is models/stories.bin and its
# tokenizer converted as the Makefile ships them, byte for byte.
shipped=$(sed -n 's/^SHIPPED_FORMAT *:= *//p' Makefile)
$P convert models/stories.bin "$d/stories-shipped.bin" -z models/stories-tok.bin $shipped 2>/dev/null
$P header "$d/stories-shipped.bin" "$d/stories_model.h" --name stories_model
if cmp -s "$d/stories_model.h" src/models/stories_model.h; then ok; else bad "src/models/stories_model.h is not models/stories.bin converted with $shipped (run make models)"; fi

# help: every command, at the top and one by one
expect_exit 0 "picollama --help" $P --help
cp "$d/out" "$d/help"
for cmd in inspect convert quantize eval train-tokenizer train generate tokenizer header; do
    if grep -q "^picollama $cmd " "$d/help"; then ok; else bad "--help lists $cmd"; fi
    expect_exit 0 "$cmd --help" $P $cmd --help
    if grep -q "^picollama $cmd" "$d/out"; then ok; else bad "$cmd --help shows its usage"; fi
done
expect_exit 0 "picollama help" $P help
expect_exit 0 "picollama -h" $P -h
expect_exit 64 "help for no such command" $P help nosuch
expect_exit 64 "-z with the built-in model" $P -z "$d/tok.bin" -n 3
$P tokenizer "$d/tok.bin" "$d/tok-llama2c.bin" --format llama2c 2>/dev/null
$P tokenizer "$d/tok.bin" "$d/tok-plain.bin" --format plain 2>/dev/null
if cmp -s "$d/tok-llama2c.bin" "$d/tok-plain.bin" && [ -s "$d/tok-llama2c.bin" ]; then ok; else bad "--format llama2c (plain, its old name)"; fi

# Output that cannot be written: an error, not a silent story (run.c dies of
# SIGPIPE on a closed pipe; so does picollama, at once, as it flushes each
# piece; where SIGPIPE is ignored the failed write stops it).
if [ -w /dev/full ]; then
    $P -n 50 -s 1 > /dev/full 2> "$d/err"; got=$?
    if [ $got -eq 74 ] && grep -q "cannot write" "$d/err"; then ok; else bad "a story to /dev/full: exit $got"; fi
    $P header "$d/tok.bin" /dev/full --name tok 2> "$d/err"; got=$?
    if [ $got -eq 74 ] && grep -q "cannot write" "$d/err"; then ok; else bad "header to /dev/full: exit $got"; fi
    $P tokenizer "$d/tok.bin" /dev/full 2> "$d/err"; got=$?
    if [ $got -eq 74 ] && grep -q "cannot write" "$d/err"; then ok; else bad "tokenizer to /dev/full: exit $got"; fi
fi
status=$( ( $P -n 200 -s 1 2>/dev/null; echo $? > "$d/rc" ) | head -c 10 > /dev/null; cat "$d/rc")
if [ "$status" -eq 141 ]; then ok; else bad "a story into a closed pipe ends by SIGPIPE (141), got $status"; fi
status=$( (trap '' PIPE; $P -n 200 -s 1 2>/dev/null; echo $? > "$d/rc") | head -c 10 > /dev/null; cat "$d/rc")
if [ "$status" -eq 74 ]; then ok; else bad "with SIGPIPE ignored, a closed pipe stops the story (74), got $status"; fi

# Values out of range and names that cannot be: say which and why; every
# command's numbers are read strictly.
for args in "--steps 0:--steps 0: out of range" "--threads 0:--threads 0: out of range" \
            "--lr -1:--lr -1: out of range" "--val-fraction 1.5:--val-fraction 1.5: out of range" \
            "--dim 12x:--dim 12x: not an integer" "--heads 3:--heads 3 does not divide --dim"; do
    flags=${args%%:*}; says=${args#*:}
    # shellcheck disable=SC2086
    expect_exit 64 "train $flags" $P train --corpus "$d/x" -z "$d/tok.bin" --out "$d/y" $flags
    if grep -q -- "$says" "$d/err"; then ok; else bad "train $flags says: $says"; fi
done
expect_exit 64 "quantize --group-size abc" $P quantize "$d/m0.bin" "$d/q.bin" --group-size abc
expect_exit 64 "quantize --group-size without a value" $P quantize "$d/m0.bin" "$d/q.bin" --group-size
expect_exit 64 "train-tokenizer --vocab 10" $P train-tokenizer --corpus "$d/x" --vocab 10 --out "$d/y"
expect_exit 64 "a seed out of range" $P "$d/m0.bin" -z "$d/tok.bin" -s 2147483648
if grep -q "out of range" "$d/err"; then ok; else bad "a seed out of range says so"; fi
expect_exit 64 "header --name 9bad" $P header "$d/tok.bin" "$d/x.h" --name 9bad
if grep -q "not a C identifier" "$d/err"; then ok; else bad "header --name 9bad says why"; fi
: > "$d/empty.txt"
expect_exit 65 "eval of an empty text" $P eval "$d/m0.bin" -z "$d/tok.bin" "$d/empty.txt"
if grep -q "has no text" "$d/err"; then ok; else bad "eval of an empty text says so"; fi

# convert: PicoLlama files, their tokenizer inside
expect_exit 0 "convert --help" $P convert --help
expect_exit 64 "convert: an unknown type" $P convert "$d/m0.bin" "$d/x.bin" -z "$d/tok.bin" --ffn int3
expect_exit 64 "convert: an int4 group not a multiple of 8" $P convert "$d/m0.bin" "$d/x.bin" -z "$d/tok.bin" --ffn int4:12
expect_exit 64 "convert: a flag without its value" $P convert "$d/m0.bin" "$d/x.bin" --attention
expect_exit 66 "convert: a missing model" $P convert "$d/none.bin" "$d/x.bin" -z "$d/tok.bin"
expect_exit 0 "convert" $P convert "$d/m0.bin" "$d/plm.bin" -z "$d/tok.bin" --embedding int4:8 --attention int8:4 --ffn int4
expect_exit 0 "a PicoLlama file runs without -z" $P "$d/plm.bin" -n 20 -s 3
cp "$d/out" "$d/plm_story"
expect_exit 0 "... and with its own tokenizer given" $P "$d/plm.bin" -z "$d/tok.bin" -n 20 -s 3
if cmp -s "$d/out" "$d/plm_story" && [ -s "$d/out" ]; then ok; else bad "the tokenizer inside is the tokenizer it came from"; fi
expect_exit 0 "convert a PicoLlama file again (its tokenizer inside)" $P convert "$d/plm.bin" "$d/plm2.bin" \
    --embedding int4:8 --attention int8:4 --ffn int4
if cmp -s "$d/plm.bin" "$d/plm2.bin"; then ok; else bad "a PicoLlama file converted to its own types is not itself"; fi
expect_exit 0 "inspect a PicoLlama file" $P inspect "$d/plm.bin" --place auto -n 16
if grep -q "^format:       PicoLlama version 1" "$d/out" && grep -q " w1  *int4  *32 " "$d/out" &&
   grep -q "KV cache for 16 positions" "$d/out"; then ok; else bad "inspect shows the format, each tensor's type and the KV positions"; fi
expect_exit 64 "an unknown placement" $P "$d/plm.bin" --place rom
expect_exit 64 "a KV place without a value" $P "$d/plm.bin" --kv
abs_p=$(cd "$(dirname "$P")" && pwd)/picollama
(cd "$d" && "$abs_p" m0.bin -n 5 > /dev/null 2> err)
if [ $? -eq 66 ] && grep -q "tokenizer.bin" "$d/err"; then ok; else bad "a llama2.c model without -z still looks for tokenizer.bin"; fi
# A version-2 file converted to int8 in its own groups tells its stories.
$FX model "$d/v2.bin" --version 2 --group-size 8 --hidden 48 --seed 31
$P convert "$d/v2.bin" "$d/v2.plm" -z "$d/tok.bin" --embedding int8:8 --attention int8:8 --ffn int8:8 2>/dev/null
$P "$d/v2.bin" -z "$d/tok.bin" -n 30 -s 5 -t 0.9 > "$d/a" 2>/dev/null
$P "$d/v2.plm" -n 30 -s 5 -t 0.9 > "$d/b" 2>/dev/null
if cmp -s "$d/a" "$d/b" && [ -s "$d/a" ]; then ok; else bad "a converted int8 file tells the version-2 file's story"; fi

# A tokenizer longer than the vocabulary runs (as run.c runs it), with a note
$FX tokenizer "$d/tok_big.bin" --vocab 600
expect_exit 0 "a tokenizer with more entries than the vocabulary" $P "$d/m0.bin" -z "$d/tok_big.bin" -n 5
if grep -q "more entries than the model" "$d/err"; then ok; else bad "a longer tokenizer gets a note"; fi
expect_exit 0 "a tokenizer of exactly the vocabulary" $P "$d/m0.bin" -z "$d/tok.bin" -n 5
if ! grep -q "more entries" "$d/err"; then ok; else bad "no note for a tokenizer that fits"; fi

# inspect needs no tokenizer (its figures are then left out); a tokenizer
# given as the model is named as one
expect_exit 0 "inspect without a tokenizer" $P inspect "$d/m0.bin"
if grep -q "no tokenizer given" "$d/out"; then ok; else bad "inspect says no tokenizer was given"; fi
expect_exit 6 "a tokenizer.bin as the model" $P inspect "$d/tok.bin"
if grep -q "tokenizer, not a model" "$d/err"; then ok; else bad "a tokenizer.bin as the model is named as one"; fi
$P tokenizer "$d/tok.bin" "$d/tok.indexed" 2>/dev/null
expect_exit 3 "an indexed tokenizer as the model" $P "$d/tok.indexed" -z "$d/tok.bin"
if grep -q "tokenizer (PicoLlama's indexed form), not a model" "$d/err"; then ok; else bad "an indexed tokenizer as the model is named as one"; fi

# inspect
expect_exit 0 "inspect" $P inspect "$d/m0.bin" -z "$d/tok.bin"
if grep -q "parameters:" "$d/out" && grep -q "SRAM .*fits" "$d/out"; then ok; else bad "inspect reports parameters and the SRAM verdict"; fi
expect_exit 4 "inspect a truncated model" $P inspect "$d/trunc.bin" -z "$d/tok.bin"

report
