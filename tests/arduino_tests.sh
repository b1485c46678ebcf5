#!/bin/sh
# The Arduino library on the host stand-in (tests/arduino): the class, and
# every example run end to end, its output compared with the command line's
# for the same model, seed and settings. Sketches are built by the Makefile.
BUILD=${BUILD:-build}
P=$BUILD/picollama
A=$BUILD/arduino
SUITE=arduino
. tests/testlib.sh

"$A/test_class" || fail=$((fail + 1))

# What the sketches' settings tell with the stand-in's hwrand32() seed.
SEED=12345
"$P" -s $SEED -t 0.8 -p 0.9 -n 0 > "$d/cli" 2>/dev/null

# WriteMeAStory: a story, a prompt line read from Serial, a story from it.
ARDUINO_SERIAL_INPUT="Lily saw a dog
" "$A/WriteMeAStory" 3 > "$d/write" 2> "$d/write.err" || bad "WriteMeAStory exits 0: $(cat "$d/write.err")"
n=$(wc -c < "$d/cli")
if head -c "$n" "$d/write" | cmp -s - "$d/cli"; then ok; else bad "WriteMeAStory's first story is the command line's"; fi
if grep -q "^Your prompt> Lily saw a dog$" "$d/write" && grep -q "^Lily saw a dog" "$d/write"; then ok; else bad "WriteMeAStory tells a story from the prompt line"; fi
stories=$(grep -c "^Your prompt> " "$d/write")
if [ "$stories" -eq 2 ]; then ok; else bad "WriteMeAStory told $stories stories, want 2"; fi

# TypeMeAStory: BOOTSEL pressed in the second loop types one story.
ARDUINO_BOOTSEL_LOOPS=1 ARDUINO_KEYBOARD_LOG="$d/typed" "$A/TypeMeAStory" 3 > /dev/null 2> "$d/type.err" \
    || bad "TypeMeAStory exits 0: $(cat "$d/type.err")"
if cmp -s "$d/typed" "$d/cli"; then ok; else bad "TypeMeAStory types the command line's story"; fi
ARDUINO_KEYBOARD_LOG="$d/untyped" "$A/TypeMeAStory" 3 > /dev/null 2>&1
if [ ! -s "$d/untyped" ]; then ok; else bad "TypeMeAStory types nothing without BOOTSEL"; fi

# SpeakMeAStory: every speak() call under 1024 bytes (the stand-in fails the
# run otherwise), together the whole story. Once with the built-in model,
# once with a long-context model whose story is well over 1 KB.
for variant in SpeakMeAStory SpeakMeAStory-long; do
    ARDUINO_SPEECH_LOG="$d/spoken" "$A/$variant" 1 > /dev/null 2> "$d/speak.err" \
        || bad "$variant: $(cat "$d/speak.err")"
    if [ "$variant" = SpeakMeAStory ]; then cp "$d/cli" "$d/want"; else
        "$P" "$A/long/model.plm" -s $SEED -t 0.8 -p 0.9 -n 0 > "$d/want" 2>/dev/null
    fi
    printf '\n' >> "$d/spoken"
    if cmp -s "$d/spoken" "$d/want"; then ok; else bad "$variant speaks the whole story"; fi
    size=$(wc -c < "$d/want")
    if [ "$variant" = SpeakMeAStory ] || [ "$size" -gt 1100 ]; then ok; else bad "$variant: the long story is over 1 KB ($size bytes)"; fi
done

# Benchmark: its figures.
"$A/Benchmark" 1 > "$d/bench" 2>/dev/null || bad "Benchmark exits 0"
if grep -q "ms per token" "$d/bench" && grep -q "^memory: SRAM (fast pool) [0-9]* bytes, PSRAM (large pool) [0-9]* bytes" "$d/bench"; then ok; else bad "Benchmark prints speed and memory"; fi

report
