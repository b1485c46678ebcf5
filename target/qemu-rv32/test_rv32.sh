#!/bin/sh
# The engine on the emulated Hazard3 (RISC-V, no FPU: floats in software)
# must print exactly what the host prints: the image's own model, the
# project's models in every format, a few of llama2.c's golden cases (the
# rest cost minutes in software floating point; the M33 runs them all), and
# bad input's exit status. Run from target/qemu-rv32 by `make test`.
ROOT=../..
B=$ROOT/build
P=$B/picollama
RV=$B/picollama-rv32
FX=$B/tests/make_fixture
SUITE=rv32
. $ROOT/tests/testlib.sh

RUNNER=$RV
BOARD_LABEL=Hazard3
. ../board/same_as_host.sh

# The image's own model (a PicoLlama file linked in as a const array).
qemu-system-riscv32 -M virt -cpu rv32,zba=true,zbb=true,zbs=true,zbkb=true -bios none -m 32M \
    -display none -monitor none -serial none -semihosting-config enable=on,target=native \
    -kernel $B/rv32/picollama-rv32.elf -append "builtin -s 7 -n 40" > "$d/rv" 2> "$d/rv.err"
rc=$?
"$P" $B/m33/builtin_model.bin -s 7 -n 40 > "$d/host" 2>/dev/null
if [ $rc -eq 0 ] && cmp -s "$d/host" "$d/rv"; then ok; else bad "the image's own model: exit $rc"; head -3 "$d/rv.err"; fi

# Every format: fp32 (v0, v1 with a separate classifier, grouped-query),
# llama2.c int8 with groups that straddle rows, PicoLlama int8/int4 mixes.
$FX model "$d/m0.bin" --seed 11
$FX model "$d/m1u.bin" --seed 12 --version 1 --unshared
$FX model "$d/gqa.bin" --seed 13 --heads 8 --kv-heads 2 --dim 32 --hidden 64 --layers 3 --seq-len 64
$FX model "$d/q8.bin" --seed 15 --version 2 --group-size 8 --hidden 44
$FX tokenizer "$d/tok.bin"
"$P" convert "$d/q8.bin" "$d/plm-mix.bin" -z "$d/tok.bin" --embedding int4:8 --attention int8:4 --ffn int4:16 2>/dev/null
"$P" convert "$d/gqa.bin" "$d/plm-q4.bin" -z "$d/tok.bin" --embedding int4 --attention int4 --ffn int4 2>/dev/null
for pair in m0:$d/tok.bin m1u:$d/tok.bin gqa:$d/tok.bin q8:$d/tok.bin plm-mix:- plm-q4:-; do
    model=${pair%%:*}; tok=${pair#*:}
    same_as_host "$model greedy" "$d/$model.bin" "$tok" -t 0 -n 0
    same_as_host "$model sampled" "$d/$model.bin" "$tok" -s 3 -t 0.9 -p 0.8 -n 40 -i "Lily saw the big dog."
    same_as_host "$model two cores (counted)" "$d/$model.bin" "$tok" -s 4 -n 30 --cores 2 --place auto
done
shipped=$(sed -n 's/^SHIPPED_FORMAT *:= *//p' $ROOT/Makefile)
# shellcheck disable=SC2086
"$P" convert "$ROOT/models/stories.bin" "$d/shipped.bin" -z "$ROOT/models/stories-tok.bin" $shipped 2>/dev/null
same_as_host "the built-in model as shipped (int4)" "$d/shipped.bin" - -s 2 -n 24

# Bad input: the image's status comes back as the exit status.
size=$(wc -c < "$d/m0.bin")
head -c $((size - 4)) "$d/m0.bin" > "$d/trunc.bin"
same_as_host "truncated model (status 4)" "$d/trunc.bin" "$d/tok.bin"
same_as_host "unknown flag (status 64)" "$d/m0.bin" "$d/tok.bin" -q 1

# Every optimized kernel against its reference on random shapes, in the
# image itself.
qemu-system-riscv32 -M virt -cpu rv32,zba=true,zbb=true,zbs=true,zbkb=true -bios none -m 32M \
    -display none -monitor none -serial none -semihosting-config enable=on,target=native \
    -kernel $B/rv32/picollama-rv32.elf -append "--kernel-test" > "$d/kt" 2>&1
if [ $? -eq 0 ] && grep -q "^kernels: [1-9][0-9]* passed, 0 failed" "$d/kt"; then ok; else bad "kernel test"; cat "$d/kt"; fi

# A few of llama2.c's golden stories: fp32 and runq.c's int8.
status=0
report || status=1
(cd "$ROOT" && RUNNER=build/picollama-rv32 NAME=rv32-golden IDS="s260_short_steps s260q4_greedy" \
    IDS_WHY="half a minute each in software floating point; the M33 runs them all" \
    sh tests/golden_tests.sh) || status=1
exit $status
