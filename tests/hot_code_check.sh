#!/bin/sh
# The hot code stays in RAM: in the emulated M33 image, built as the IDE
# builds it at -Os and at -O2, no function placed in SRAM (PL_HOT) calls a
# function in flash, unless that one is marked PL_COLD (a rare path, said
# so in the source). At -Os GCC keeps `static inline` helpers out of line
# and turns loops into memset calls: each would run from flash, through the
# cache the weights stream through, on every group. Run by make test.
SUITE=hot-code
. tests/testlib.sh
B=${BUILD:-build}
if ! command -v arm-none-eabi-objdump >/dev/null; then
    skipped "arm-none-eabi-objdump is missing (apt-get install gcc-arm-none-eabi)"
    report
    exit
fi
# the functions the sources allow to stay in flash
cold=$(grep -h -o -E 'PL_COLD [a-z0-9_ *]+ \**[a-z_0-9]+\(' src/*.c src/kernels/*.c src/kernels/*.h |
    sed -E 's/.* \**([a-z_0-9]+)\($/\1/' | sort -u)
check "[ -n \"\$cold\" ]" "no PL_COLD function found: the search for them is broken"
for image in "$B/m33/picollama-m33.elf:-Os" "$B/m33/picollama-m33-O2.elf:-O2"; do
    elf=${image%%:*}; opt=${image#*:}
    if [ ! -f "$elf" ]; then bad "$opt: $elf was not built"; continue; fi
    # every call from a function at 0x28... (SRAM) to a flash function, seen
    # either directly or through the long-branch veneer the linker adds
    arm-none-eabi-objdump -d --no-show-raw-insn "$elf" | awk '
        /^[0-9a-f]+ <[^>]+>:$/ { fn = substr($2, 2, length($2) - 3); in_ram = ($1 ~ /^28/) && fn !~ /_veneer$/; next }
        in_ram && /\t(bl|blx|b\.w|b)\t[0-9a-f]+ </ {
            n = split($0, f, "<"); target = f[n]; sub(/[+>].*/, "", target)
            addr = $0; sub(/^.*\t(bl|blx|b\.w|b)\t/, "", addr); sub(/ .*/, "", addr)
            if (target ~ /^__.*_veneer$/) { sub(/^__/, "", target); sub(/_veneer$/, "", target); print fn, target }
            else if (addr ~ /^10/) print fn, target
        }' | sort -u > "$d/calls"
    n=0
    while read -r from to; do
        case " $(echo $cold) " in *" $to "*) continue ;; esac
        bad "$opt: $from (in SRAM) calls $to in flash: make it PL_INLINE, PL_HOT, or PL_COLD if rare"
        n=$((n + 1))
    done < "$d/calls"
    [ $n -eq 0 ] && ok
    # the check sees calls: the image's RAM code does call the cold path
    check "grep -q ' plk_expf_exact$' \"$d/calls\"" "$opt: no call from SRAM to plk_expf_exact seen: the search is broken"
done
report
