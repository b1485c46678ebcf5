/*
 * A minimal stand-in for the Arduino and arduino-pico APIs the library and
 * its examples use, so both compile and run on a PC (and compile for the
 * Cortex-M33). Tests only: never part of the library. The signatures and
 * behaviour the library touches follow arduino-pico 5.3.0 (with pico-sdk
 * 2.2.0): rp2040.getCycleCount64() uint64_t, hwrand32() uint32_t,
 * getPSRAMSize() size_t, getFreeHeap()/getFreePSRAMHeap() int, pmalloc and
 * pcalloc 4-byte aligned, pico/multicore.h's launch and FIFO calls.
 *
 * Serial reads the text in $ARDUINO_SERIAL_INPUT and prints to stdout; the
 * board has $ARDUINO_PSRAM_SIZE bytes of PSRAM (default 8 MB);
 * rp2040.hwrand32() returns $ARDUINO_HWRAND (default 12345); BOOTSEL reads
 * as pressed during the loop() iterations listed in $ARDUINO_BOOTSEL_LOOPS.
 */
#ifndef ARDUINO_STANDIN_H
#define ARDUINO_STANDIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ARDUINO_ARCH_RP2040
#define ARDUINO_ARCH_RP2040 1 /* arduino-pico defines it on the command line */
#endif
#define RP2350_PSRAM_CS 47
#ifndef F_CPU
#define F_CPU 150000000
#endif

unsigned long millis(void);
void delay(unsigned long ms);

class SerialStandIn {
public:
    void begin(unsigned long baud) { (void)baud; }
    operator bool() const { return true; }
    int available();
    int read();
    size_t print(const char *s) { return fputs(s, stdout) >= 0 ? strlen(s) : 0; }
    size_t println(const char *s = "") { return print(s) + print("\n"); }
    int printf(const char *fmt, ...) __attribute__((format(printf, 2, 3))) {
        va_list ap;
        va_start(ap, fmt);
        int n = vprintf(fmt, ap);
        va_end(ap);
        return n;
    }
};
extern SerialStandIn Serial;

class RP2040StandIn {
public:
    uint64_t getCycleCount64();
    uint32_t hwrand32();
    size_t getPSRAMSize(); /* $ARDUINO_PSRAM_SIZE, default 8 MB */
    /* arduino-pico's return int: $ARDUINO_SRAM_FREE (default 480 KB, about
     * what a sketch has on an RP2350) and the PSRAM less what pmalloc gave */
    int getFreeHeap();
    int getFreePSRAMHeap();
};
extern RP2040StandIn rp2040;

/* arduino-pico 5.3.0's pmalloc/pcalloc (a TLSF heap in PSRAM) return blocks
 * aligned to 4 bytes, not 8: the stand-in's are 4 bytes past an 8-byte
 * boundary, so a library that assumed 8 would be caught. free() takes them
 * back as the core's free() does (PSRAM pointers recognised). */
extern "C" void *pmalloc(size_t size);
extern "C" void *pcalloc(size_t count, size_t size);
extern "C" void standin_free(void *p);
#define free(p) standin_free(p)
extern size_t standin_psram_bytes; /* what pmalloc handed out */

int standin_bootsel(void);
#define BOOTSEL standin_bootsel()

#endif
