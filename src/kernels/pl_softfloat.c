/*
 * On a RISC-V core without an FPU (the RP2350's Hazard3), the compiler turns
 * every float addition, subtraction, multiplication and int-to-float
 * conversion into a call to __addsf3, __subsf3, __mulsf3 or __floatsisf.
 * This file defines them with pl_softfloat.h: IEEE-exact like libgcc's,
 * which the QEMU image would otherwise link, and about three times faster;
 * and unlike the pico-sdk's Hazard3 versions, which arduino-pico's RISC-V
 * core links by default, subnormals are kept rather than flushed to zero,
 * so the board computes what the PC computes. Being objects of the sketch's
 * own link, these take the place of the archives' versions (the linker
 * takes a member from an archive only for a symbol still undefined).
 *
 * PL_HOT: in SRAM on the board, like the kernels that call them.
 * Everywhere else (an FPU, or the host) this file is empty.
 */
#include "../pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_softfloat.h"
#include "../pl_port.h"

#if defined(__riscv) && !defined(__riscv_flen) && !defined(PL_KEEP_LIBRARY_FLOAT)

float __addsf3(float a, float b);
float __subsf3(float a, float b);
float __mulsf3(float a, float b);
float __floatsisf(int32_t v);

PL_HOT float __addsf3(float a, float b) { return plsf_float(plsf_add(plsf_bits(a), plsf_bits(b))); }
PL_HOT float __subsf3(float a, float b) { return plsf_float(plsf_add(plsf_bits(a), plsf_bits(b) ^ PLSF_SIGN)); }
PL_HOT float __mulsf3(float a, float b) { return plsf_float(plsf_mul(plsf_bits(a), plsf_bits(b))); }
PL_HOT float __floatsisf(int32_t v) { return plsf_float(plsf_from_int32(v)); }

#else
/* ISO C wants a translation unit to declare something. */
typedef int pl_softfloat_unused;
#endif
