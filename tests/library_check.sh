#!/bin/sh
# The packaging Arduino's Library Manager and PlatformIO read: every required
# field, one version everywhere, examples/<Name>/<Name>.ino, and nothing in
# src/ that Arduino must not compile.
SUITE=library
. tests/testlib.sh
prop() { sed -n "s/^$1=//p" library.properties; }

for field in name version author maintainer sentence paragraph category url architectures includes; do
    if [ -n "$(prop $field)" ]; then ok; else bad "library.properties has no $field"; fi
done
case "$(prop name)" in Arduino*) bad "the name starts with Arduino (the Library Manager refuses it)" ;; *) ok ;; esac
version=$(prop version)
if echo "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$'; then ok; else bad "version $version is not semver"; fi
if [ "$(prop architectures)" = rp2040 ]; then ok; else bad "architectures is arduino-pico's id, rp2040"; fi
if [ "$(prop includes)" = PicoLlama.h ] && [ -f src/PicoLlama.h ]; then ok; else bad "includes names src/PicoLlama.h"; fi
for key in '"name": "PicoLlama"' "\"version\": \"$version\"" '"frameworks": "arduino"' '"platforms": "raspberrypi"' '"examples": \["examples/\*/\*.ino"\]'; do
    if grep -q "$key" library.json; then ok; else bad "library.json lacks $key"; fi
done
if grep -q "#define PL_VERSION_STRING \"$version\"" src/picollama.h; then ok; else bad "src/picollama.h's PL_VERSION_STRING is not $version"; fi
for dir in examples/*/; do
    name=$(basename "$dir")
    if [ -f "$dir$name.ino" ]; then ok; else bad "$dir holds no $name.ino"; fi
done
# src/ is what Arduino compiles: C, C++ and headers only, no symlinks, no executables
odd=$(find src \( -type l -o \( -type f ! -name '*.c' ! -name '*.cpp' ! -name '*.h' \) \) | head -3)
if [ -z "$odd" ]; then ok; else bad "src/ holds files Arduino must not compile: $odd"; fi
if ! find . -name '*.exe' -not -path './build/*' | grep -q .; then ok; else bad ".exe files are refused by the Library Manager"; fi
# keywords.txt (the IDE's highlighting) names the class and every public method
methods=$(sed -n '/^public:/,/^private:/p' src/PicoLlama.h | grep -E '^    [A-Za-z_][A-Za-z_ *&]* [A-Za-z_]+\(' \
          | sed -E 's/^    [A-Za-z_][A-Za-z_ *&]* \*?&?([A-Za-z_]+)\(.*/\1/' | grep -v '^PicoLlama$' | sort -u)
for m in PicoLlama $methods; do
    if grep -q "^$m	" keywords.txt; then ok; else bad "keywords.txt lacks $m"; fi
done
report
