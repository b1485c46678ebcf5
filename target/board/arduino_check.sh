#!/bin/sh
# The Arduino library's C++ (the class, the arduino-pico port, every
# example) compiled for a board with its compiler and flags, -Werror,
# against the test stand-in for the Arduino headers (the real core is not
# here), as the Arduino IDE compiles a sketch: Arduino.h included first.
# Compiled, not linked. Prints "arduino-NAME: N passed, N failed".
#   sh arduino_check.sh NAME OUTDIR ROOT CXX FLAGS...
name=$1 out=$2 root=$3 cxx=$4
shift 4
mkdir -p "$out"
pass=0 fail=0
for f in "$root"/src/PicoLlamaPort.cpp "$root"/examples/*/*.ino; do
    if "$cxx" "$@" -include Arduino.h -x c++ -c "$f" -o "$out/$(basename "$f").o"; then
        pass=$((pass + 1))
    else
        echo "arduino-$name: FAILED: $f"
        fail=$((fail + 1))
    fi
done
echo "arduino-$name: $pass passed, $fail failed"
[ $fail -eq 0 ]
