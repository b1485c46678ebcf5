#!/bin/sh
# The README's command-output blocks, regenerated from the programs: the
# block that follows a line "$ COMMAND" (up to its closing fence) must hold
# what COMMAND prints now. A block may elide with a line "...": then its
# lines before it must be the first lines of the output and its lines after
# it the last ones. Blocks checked: `build/picollama inspect
# build/stories-shipped.bin --place auto`, the sample stories
# (tools/sample_stories.sh), `make bench-m33` and `make bench-rv32` (their
# lines that need ../shared are left out without it).
#   sh tools/readme_blocks.sh           compare (part of make test)
#   sh tools/readme_blocks.sh --update  rewrite the blocks (make readme)
# Tables drawn from these blocks, and `make quality`'s (20 minutes), are
# kept by hand from the same commands.
BUILD=${BUILD:-build}
SUITE=readme
. tests/testlib.sh
update=0
[ "$1" = "--update" ] && update=1
SHARED=${PICOLLAMA_SHARED:-../shared}

# run COMMAND: its output as the README shows it (the path of a temporary
# build of the shipped model in place of build/stories-shipped.bin)
run() {
    case "$1" in
    inspect)
        shipped=$(sed -n 's/^SHIPPED_FORMAT *:= *//p' Makefile)
        # shellcheck disable=SC2086
        $BUILD/picollama convert models/stories.bin build/stories-shipped.bin -z models/stories-tok.bin $shipped 2>/dev/null
        $BUILD/picollama inspect build/stories-shipped.bin --place auto ;;
    bench-m33)
        make --no-print-directory bench-m33 2>&1 | grep -E '^(kernel-bench|bench):' ;;
    bench-rv32)
        make --no-print-directory bench-rv32 2>&1 | sed -n '/^kernel-bench:/p; /^== Hazard3 against/,$p' ;;
    stories-*)
        BUILD=$BUILD sh tools/sample_stories.sh "${1#stories-}" ;;
    esac
}

# check_block "$ COMMAND" NAME: the block's lines against the output
check_block() {
    start=$(grep -n -F -x "$1" README.md | head -1 | cut -d: -f1)
    if [ -z "$start" ]; then bad "README has no block after '$1'"; return; fi
    awk -v s="$start" 'NR > s { if ($0 ~ /^```/) exit; print }' README.md > "$d/block"
    run "$2" > "$d/out" 2>/dev/null
    if [ ! -f "$SHARED/data/models/stories260K.bin" ]; then
        grep -v 'stories260K' "$d/block" > "$d/b2"; mv "$d/b2" "$d/block"
        grep -v 'stories260K' "$d/out" > "$d/o2"; mv "$d/o2" "$d/out"
    fi
    if [ $update -eq 1 ]; then
        if grep -q '^\.\.\.$' "$d/block"; then
            head_n=$(sed -n '1,/^\.\.\.$/p' "$d/block" | grep -c -v '^\.\.\.$')
            tail_n=$(sed -n '/^\.\.\.$/,$p' "$d/block" | grep -c -v '^\.\.\.$')
            { head -n "$head_n" "$d/out"; echo "..."; tail -n "$tail_n" "$d/out"; } > "$d/new"
        else
            cp "$d/out" "$d/new"
        fi
        awk -v s="$start" -v f="$d/new" '
            NR == s { print; while ((getline l < f) > 0) print l; skip = 1; next }
            skip && /^```/ { skip = 0 }
            !skip { print }' README.md > "$d/readme" && cp "$d/readme" README.md
        ok
        return
    fi
    if grep -q '^\.\.\.$' "$d/block"; then
        sed -n '1,/^\.\.\.$/p' "$d/block" | grep -v '^\.\.\.$' > "$d/head"
        sed -n '/^\.\.\.$/,$p' "$d/block" | grep -v '^\.\.\.$' > "$d/tail"
        if head -n "$(wc -l < "$d/head")" "$d/out" | cmp -s - "$d/head" &&
           tail -n "$(wc -l < "$d/tail")" "$d/out" | cmp -s - "$d/tail"; then ok
        else bad "README's '$1' block is not what the command prints now (make readme)"; fi
    elif cmp -s "$d/block" "$d/out"; then ok
    else bad "README's '$1' block is not what the command prints now (make readme)"; diff "$d/block" "$d/out" | head -6; fi
}

check_block '$ build/picollama inspect build/stories-shipped.bin --place auto' inspect
check_block '$ sh tools/sample_stories.sh builtin' stories-builtin
if [ -f "$SHARED/data/models/stories260K.bin" ]; then
    check_block '$ sh tools/sample_stories.sh stories260K' stories-stories260K
else
    skipped "the README's stories260K stories (no ../shared)"
fi
if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null; then
    check_block '$ make bench-m33' bench-m33
else
    skipped "the README's bench-m33 block (no Arm cross tools)"
fi
if command -v riscv64-unknown-elf-gcc >/dev/null && command -v qemu-system-riscv32 >/dev/null &&
   [ -d /usr/lib/picolibc/riscv64-unknown-elf ]; then
    check_block '$ make bench-rv32' bench-rv32
else
    skipped "the README's bench-rv32 block (no RISC-V cross tools)"
fi
report
