/*
 * build/picollama-m33 MODEL.bin [-z TOKENIZER] [run.c flags]: runs any model
 * and tokenizer on the emulated Cortex-M33 and prints what build/picollama
 * prints for the same arguments; build/picollama-rv32 (the same program
 * under that name) on the emulated Hazard3 RISC-V core. Both files go into
 * QEMU's 16 MB region (0x80000000 on the M33's mps2-an505, 0x81000000 on
 * virt) with its loader device; the arguments go through semihosting's
 * command line, percent-encoded so that any prompt arrives intact. The exit
 * status is the image's.
 *   PICOLLAMA_M33_BENCH=1  adds the image's measurements on stderr
 *   PICOLLAMA_BOARD_MODEL=build/rp2350-model.so
 *                          runs the RP2350 board model (target/board-model)
 *                          beside it: its "board-model:" lines on stderr
 *   PICOLLAMA_IMAGE=...    another image than the default (the bench's -O2 one)
 *   QEMU=...               the emulator binary (default qemu-system-arm or -riscv32)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pl_format.h"

#define BLOBS_SIZE (16ul << 20)
/* target/qemu-m33/m33.ld: the code region's first 512 KB hold the image,
 * the rest (PSRAM_SPILL) is more of the PSRAM */
#define M33_CODE_END 0x10080000ul
#define M33_PSRAM_SPILL "0x10080000:0x10400000"

static long file_size(const char *what, const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "picollama: cannot open %s %s: %s\n", what, path,
                errno ? strerror(errno) : "not a regular file");
        return -1;
    }
    return (long)st.st_size;
}

/* Appends arg to out, percent-encoding space, '%' and every byte outside
 * printable ASCII; an empty argument becomes %00, which decodes to "". */
static char *encode(char *out, const char *arg) {
    *out++ = ' ';
    if (!*arg) return out + sprintf(out, "%%00");
    for (const unsigned char *p = (const unsigned char *)arg; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '%') out += sprintf(out, "%%%02X", *p);
        else *out++ = (char)*p;
    }
    return out;
}

/* A PicoLlama model file with a tokenizer inside: its magic, and a
 * nonzero tokenizer size (docs/model-format.md). */
static int has_tokenizer_inside(const char *path) {
    unsigned char h[PLM_HEADER_BYTES];
    uint32_t magic = 0, tok_bytes = 0;
    FILE *f = fopen(path, "rb");
    int yes = f && fread(h, 1, sizeof h, f) == sizeof h;
    if (yes) {
        memcpy(&magic, h, 4);
        memcpy(&tok_bytes, h + PLM_AT_TOKENIZER + 4, 4);
        yes = magic == PLM_MAGIC && tok_bytes != 0;
    }
    if (f) fclose(f);
    return yes;
}

int main(int argc, char **argv) {
    const char *tokenizer = NULL;
    char image[4096];
    const char *self_dir_end = strrchr(argv[0], '/');
    size_t total = 64;
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: picollama-m33 MODEL.bin [-z TOKENIZER] [run.c flags]\n");
        return 64;
    }
    for (int i = 2; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "-z")) tokenizer = argv[i + 1];
    long msize = file_size("model", argv[1]);
    if (msize < 0) return 66;
    /* Without -z a PicoLlama model file uses the tokenizer inside it (the
     * image checks it); any other model run.c's default. */
    if (!tokenizer && !has_tokenizer_inside(argv[1])) tokenizer = "tokenizer.bin";
    long tsize = tokenizer ? file_size("tokenizer", tokenizer) : 0;
    if (tsize < 0) return 66;
    unsigned long toff = ((unsigned long)msize + 15u) & ~15ul;
    if ((unsigned long)msize > BLOBS_SIZE || (unsigned long)tsize > BLOBS_SIZE - toff) {
        fprintf(stderr, "picollama-m33: %s and its tokenizer (%ld + %ld bytes) exceed the emulator's 16 MB region\n",
                argv[1], msize, tsize);
        return 64;
    }
    /* PICOLLAMA_M33_TWO_CORES=1: the two-core image on mps2-an521 (whose
     * core 0 QEMU builds without FPU and DSP unless told to; the RP2350's
     * cores have both) */
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    int rv32 = strstr(name, "rv32") != NULL, two = !rv32 && getenv("PICOLLAMA_M33_TWO_CORES") != NULL;
    unsigned long blobs_addr = rv32 ? 0x81000000ul : 0x80000000ul;
    snprintf(image, sizeof image,
             rv32 ? "%.*s/rv32/picollama-rv32.elf"
                  : two ? "%.*s/m33/picollama-m33x2.elf" : "%.*s/m33/picollama-m33.elf",
             self_dir_end ? (int)(self_dir_end - argv[0]) : 1, self_dir_end ? argv[0] : ".");

    if (getenv("PICOLLAMA_IMAGE")) snprintf(image, sizeof image, "%s", getenv("PICOLLAMA_IMAGE"));
    for (int i = 1; i < argc; i++) total += 3 * strlen(argv[i]) + 1;
    char *cmdline = malloc(total + 64), *p = cmdline;
    p += sprintf(p, "--blobs %ld %ld", msize, tsize);
    if (getenv("PICOLLAMA_M33_BENCH")) p += sprintf(p, " --bench");
    for (int i = 1; i < argc; i++) p = encode(p, argv[i]);
    *p = '\0';

    char *model_dev = malloc(strlen(argv[1]) + 64);
    sprintf(model_dev, "loader,file=%s,addr=0x%lx", argv[1], blobs_addr);
    char *tok_dev = malloc((tokenizer ? strlen(tokenizer) : 0) + 64);
    sprintf(tok_dev, "loader,file=%s,addr=0x%lx", tokenizer ? tokenizer : "", blobs_addr + toff);
    const char *qemu = getenv("QEMU") ? getenv("QEMU") : rv32 ? "qemu-system-riscv32" : "qemu-system-arm";
    char *qargv[40];
    int q = 0;
    qargv[q++] = (char *)qemu;
    qargv[q++] = "-M";
    if (rv32) { /* the Hazard3's extensions; RAM for the files from 0x81000000 */
        qargv[q++] = "virt";
        qargv[q++] = "-cpu";
        qargv[q++] = "rv32,zba=true,zbb=true,zbs=true,zbkb=true";
        qargv[q++] = "-bios";
        qargv[q++] = "none";
        qargv[q++] = "-m";
        qargv[q++] = "32M";
    } else if (two) {
        qargv[q++] = "mps2-an521";
        qargv[q++] = "-global";
        qargv[q++] = "sse-200.CPU0_FPU=on";
        qargv[q++] = "-global";
        qargv[q++] = "sse-200.CPU0_DSP=on";
    } else {
        qargv[q++] = "mps2-an505";
        qargv[q++] = "-cpu";
        qargv[q++] = "cortex-m33";
    }
    const char *common[] = {"-display", "none", "-monitor", "none", "-serial", "none",
                            "-semihosting-config", "enable=on,target=native",
                            "-icount", "shift=0", "-kernel", image,
                            "-append", cmdline, "-device", model_dev};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) qargv[q++] = (char *)common[i];
    if (tokenizer) { /* a second file */
        qargv[q++] = "-device";
        qargv[q++] = tok_dev;
    }
    /* The board model's memory map: the image's code and the files are the
     * board's flash (read in place); what follows the files is its PSRAM,
     * as pools.c lays it out (the files rounded up to 32 bytes, 8 MB at
     * most), and on the M33 so is the code region's top 3.5 MB (m33.ld's
     * PSRAM_SPILL, used when big files leave less than 8 MB); the marks are
     * board_marks.h's. */
    char plugin[1024];
    const char *model_so = getenv("PICOLLAMA_BOARD_MODEL");
    if (model_so && *model_so) {
        unsigned long files = tsize ? toff + (unsigned long)tsize : (unsigned long)msize;
        unsigned long psram = blobs_addr + ((files + 31u) & ~31ul), psram_end = psram + (8ul << 20);
        if (psram_end > blobs_addr + BLOBS_SIZE) psram_end = blobs_addr + BLOBS_SIZE;
        int n = snprintf(plugin, sizeof plugin, "%s,isa=%s,flash=0x%lx:0x%lx,flash=0x%lx:0x%lx,psram=0x%lx:0x%lx,marks=0x%lx",
                         model_so, rv32 ? "rv32" : "thumb", rv32 ? 0x80000000ul : 0x10000000ul,
                         rv32 ? 0x80400000ul : M33_CODE_END, blobs_addr, psram, psram, psram_end,
                         rv32 ? 0x80F00000ul : 0x28300000ul);
        if (!rv32) snprintf(plugin + n, sizeof plugin - (size_t)n, ",psram=" M33_PSRAM_SPILL);
        qargv[q++] = "-plugin";
        qargv[q++] = plugin;
        qargv[q++] = "-d"; /* the plugin's report goes through QEMU's log (stderr) */
        qargv[q++] = "plugin";
    }
    qargv[q] = NULL;
    execvp(qemu, qargv);
    fprintf(stderr, "picollama-m33: cannot run %s: %s\n", qemu, strerror(errno));
    return 127;
}
