#!/bin/sh
# The output blocks of README.md and docs/*.md, regenerated from the
# programs: the block that follows a line "$ COMMAND" (up to its closing
# fence) must hold what COMMAND prints now. A block may elide with a line
# "...": then its lines before it must be the first lines of the output and
# its lines after it the last ones. Blocks checked: `build/picollama inspect
# build/stories-shipped.bin --place auto` and the 15M fixture's, the sample stories
# (tools/sample_stories.sh), the README's headline board figures (a few
# cases of make bench-m33, the same lines as in docs/board.md's block), and
# with --full the whole `make bench-m33` and `make bench-rv32` blocks of
# docs/board.md (about half an hour; make test checks the headline cases,
# make check-docs all). Lines that need ../shared are left out without it.
#   sh tools/readme_blocks.sh           compare (part of make test)
#   sh tools/readme_blocks.sh --full    compare every block (make check-docs)
#   sh tools/readme_blocks.sh --update [--full]  rewrite the blocks, with
#                                       --full the bench blocks too (make readme)
# Tables drawn from these blocks, and `make quality`'s (20 minutes), are
# kept by hand from the same commands.
BUILD=${BUILD:-build}
SUITE=readme
. tests/testlib.sh
update=0 full=0
for arg in "$@"; do
    case "$arg" in
    --update) update=1 ;;
    --full) full=1 ;;
    esac
done
SHARED=${PICOLLAMA_SHARED:-../shared}
FILES="README.md $(ls docs/*.md)"
# the README's headline cases: quick enough for make test
HEADLINE="stories260K-q8-auto-2core builtin-shipped builtin-shipped-2core anchor-pico_llama"

# run COMMAND: its output as the docs show it (the path of a temporary
# build of the shipped model in place of build/stories-shipped.bin)
run() {
    case "$1" in
    inspect)
        shipped=$(sed -n 's/^SHIPPED_FORMAT *:= *//p' Makefile)
        # shellcheck disable=SC2086
        $BUILD/picollama convert models/stories.bin build/stories-shipped.bin -z models/stories-tok.bin $shipped 2>/dev/null
        $BUILD/picollama inspect build/stories-shipped.bin --place auto ;;
    inspect-15m)
        BUILD=$BUILD sh tests/fixture_15m.sh build/m15-int4.bin &&
            $BUILD/picollama inspect build/m15-int4.bin --place auto ;;
    bench-m33)
        make --no-print-directory bench-m33 2>&1 | grep -E '^bench:' ;;
    bench-headline)
        BENCH_CASES="$HEADLINE" make --no-print-directory bench-m33 2>&1 | grep -E '^bench:' ;;
    bench-rv32)
        make --no-print-directory bench-rv32 2>&1 | sed -n '/^== Hazard3 against/,$p' ;;
    stories-*)
        BUILD=$BUILD sh tools/sample_stories.sh "${1#stories-}" ;;
    story)
        $BUILD/picollama -s 1 -n 120 -t 0.8 -i "Once upon a time" 2>/dev/null | fold -s -w 76 ;;
    libm)
        BUILD=$BUILD sh tools/libm_agreement.sh ;;
    esac
}

# check_block "$ COMMAND" NAME: the block's lines against the output
check_block() {
    file=""
    for f in $FILES; do grep -q -F -x "$1" "$f" && { file=$f; break; }; done
    if [ -z "$file" ]; then bad "no block after '$1' in README.md or docs/"; return; fi
    start=$(grep -n -F -x "$1" "$file" | head -1 | cut -d: -f1)
    awk -v s="$start" 'NR > s { if ($0 ~ /^```/) exit; print }' "$file" > "$d/block"
    run "$2" > "$d/out" 2>/dev/null
    if [ ! -f "$SHARED/data/models/stories260K.bin" ]; then
        grep -v -E 'stories260K|anchor-' "$d/block" > "$d/b2"; mv "$d/b2" "$d/block"
        grep -v -E 'stories260K|anchor-' "$d/out" > "$d/o2"; mv "$d/o2" "$d/out"
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
            !skip { print }' "$file" > "$d/readme" && cp "$d/readme" "$file"
        ok
        return
    fi
    if grep -q '^\.\.\.$' "$d/block"; then
        sed -n '1,/^\.\.\.$/p' "$d/block" | grep -v '^\.\.\.$' > "$d/head"
        sed -n '/^\.\.\.$/,$p' "$d/block" | grep -v '^\.\.\.$' > "$d/tail"
        if head -n "$(wc -l < "$d/head")" "$d/out" | cmp -s - "$d/head" &&
           tail -n "$(wc -l < "$d/tail")" "$d/out" | cmp -s - "$d/tail"; then ok
        else bad "$file's '$1' block is not what the command prints now (make readme)"; fi
    elif cmp -s "$d/block" "$d/out"; then ok
    else bad "$file's '$1' block is not what the command prints now (make readme)"; diff "$d/block" "$d/out" | head -6; fi
}

check_block '$ build/picollama -s 1 -n 120 -t 0.8 -i "Once upon a time" | fold -s -w 76' story
check_block '$ build/picollama inspect build/stories-shipped.bin --place auto' inspect
check_block '$ sh tests/fixture_15m.sh build/m15-int4.bin && build/picollama inspect build/m15-int4.bin --place auto' inspect-15m
if [ -f "$SHARED/data/models/stories260K.bin" ]; then
    check_block '$ sh tools/libm_agreement.sh' libm
else
    skipped "the README's C library agreement (no ../shared)"
fi
check_block '$ sh tools/sample_stories.sh builtin' stories-builtin
if [ -f "$SHARED/data/models/stories260K.bin" ]; then
    check_block '$ sh tools/sample_stories.sh stories260K' stories-stories260K
else
    skipped "the README's stories260K stories (no ../shared)"
fi
if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null; then
    check_block "\$ BENCH_CASES=\"$HEADLINE\" make bench-m33 | grep '^bench:'" bench-headline
    # the headline lines are the full block's too
    if [ $update -eq 0 ]; then
        awk '/^\$ make bench-m33$/ { f = 1; next } f && /^```/ { exit } f' docs/board.md > "$d/full"
        grep '^bench:' "$d/out" | while IFS= read -r l; do
            grep -q -F -x "$l" "$d/full" || echo "$l"
        done > "$d/missing"
        if [ -s "$d/missing" ]; then bad "docs/board.md's bench block lacks the README's lines (make readme)"
        else ok; fi
    fi
    if [ $full -eq 1 ]; then check_block '$ make bench-m33' bench-m33; fi
else
    skipped "the bench blocks (no Arm cross tools)"
fi
if [ $full -eq 1 ] && command -v riscv64-unknown-elf-gcc >/dev/null && command -v qemu-system-riscv32 >/dev/null &&
   [ -d /usr/lib/picolibc/riscv64-unknown-elf ]; then
    check_block '$ make bench-rv32' bench-rv32
fi
report
