/*
 * Float arithmetic exactly as written, whatever the build flags.
 *
 * The story is a chain of float roundings: one product rounded differently
 * flips a sampled token and the rest of the story with it. C lets a compiler
 * fuse a * b + c into one fused multiply-add (one rounding instead of two)
 * unless told not to, and the compilers do it by default where the target
 * has the instruction: GCC in GNU mode (-std=gnu17/gnu23, the Arduino IDE's)
 * fuses across statements, clang within an expression. On the Cortex-M33
 * that turned 69 products into VFMA and the board told another story than
 * the PC. So every engine source includes this header first, and its
 * arithmetic cannot be fused by any -O level, C mode or default contraction
 * setting (tests/strict_float_check.sh compiles every engine source with
 * arduino-pico's flags and others and fails on a fused instruction).
 *
 * GCC honours `#pragma GCC optimize` over the command line, even over
 * -ffp-contract=fast; clang honours the standard pragma, except under its
 * explicit -ffp-contract=fast or -ffast-math, which disregard pragmas.
 * -ffast-math also reorders sums, which no pragma here undoes: refuse it.
 */
#ifndef PL_STRICT_FLOAT_H
#define PL_STRICT_FLOAT_H

#if defined(__FAST_MATH__)
#error "PicoLlama: -ffast-math reorders and fuses float arithmetic, so the engine would tell other stories than on the PC; build PicoLlama's sources without it"
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
/* One more, about where the code runs rather than what it computes: loops
 * stay loops rather than becoming memset/memcpy calls the source does not
 * write. On the board those calls would leave the kernels in SRAM for the C
 * library in flash, through the cache the weights stream through
 * (tests/hot_code_check.sh). */
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

#endif /* PL_STRICT_FLOAT_H */
