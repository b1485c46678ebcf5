/* `picollama --help`, `picollama help [COMMAND]` and `picollama COMMAND
 * --help`: every command's usage, flags and defaults, in one place. */
#include "cli.h"
#include "convert.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *text;
} help_entry;

static const help_entry entries[] = {
    {"run",
     "picollama [MODEL.bin] [flags]        tell a story (no MODEL: the built-in model)\n"
     "  -t <float>   temperature, 0 or more (0: greedy); default 1.0 (0.8 for the built-in model)\n"
     "  -p <float>   top-p in [0, 1] (0 or 1: off); default 0.9\n"
     "  -s <int>     seed; default the clock\n"
     "  -n <int>     positions, prompt included (0 or more than the context: all); default 256\n"
     "  -i <text>    prompt\n"
     "  -z <file>    tokenizer; default the model's own (PicoLlama files), else tokenizer.bin\n"
     "  -m generate  the only mode\n"
     "  --place flash|psram|sram|auto   where the weights are read from; default flash\n"
     "  --kv psram|sram                 where the KV cache lives; default psram\n"
     "  --cores 1|2                     split each token between two cores; default 1\n"},
    {"inspect",
     "picollama inspect MODEL.bin [-z TOK] [-n steps] [--place ...] [--kv ...] [--cores ...]\n"
     "  the config, every tensor's type, bytes and place, each pool's memory against the\n"
     "  RP2350's budget, and the bus time per token for that placement (flags as for run)\n"},
    {"convert",
     "picollama convert MODEL.bin OUT.bin [-z TOK] [--embedding T] [--attention T] [--ffn T]\n"
     "  any checkpoint to a PicoLlama model file, the tokenizer inside (indexed)\n"
     "  --embedding T  the token embedding and the classifier  (default " PL_CONVERT_DEFAULT_EMBEDDING ")\n"
     "  --attention T  wq, wk, wv, wo                          (default " PL_CONVERT_DEFAULT_ATTENTION ")\n"
     "  --ffn T        w1, w2, w3                              (default " PL_CONVERT_DEFAULT_FFN ")\n"
     "  T: fp32, int8[:G] or int4[:G], groups of G along each row (default 32; int8 G a\n"
     "  multiple of 4, int4 a multiple of 8 up to 512)\n"
     "  -z TOK         the tokenizer (default: the model's own, else tokenizer.bin)\n"
     "  An int8 llama2.c file converted to int8 in its own group size (dividing its rows)\n"
     "  keeps its bytes, so it tells the same stories.\n"},
    {"quantize",
     "picollama quantize MODEL.bin OUT.bin [--group-size N]\n"
     "  fp32 to llama2.c's int8 version 2 (runq.c's files); N: default the largest multiple\n"
     "  of 4 up to 64 dividing dim and hidden_dim\n"},
    {"eval",
     "picollama eval [MODEL.bin [-z TOK]] [--threads N] TEXT\n"
     "  loss and bits per byte over TEXT (documents separated by <|endoftext|>);\n"
     "  no model: the built-in one; N threads (default one per core), the same figures\n"},
    {"generate",
     "picollama generate MODEL.bin [run flags] --stories N --out TEXT [--threads N]\n"
     "  N stories for a training corpus: story k is what `picollama MODEL.bin [run flags]\n"
     "  -s S+k` prints (S: the -s seed, default 1), each followed by <|endoftext|>; the\n"
     "  same file with any number of threads (default one per core)\n"},
    {"train-tokenizer",
     "picollama train-tokenizer --corpus TEXT --vocab N --out TOK.bin\n"
     "  byte-pair encoding with byte fallback; N from 260 to 65536\n"},
    {"train",
     "picollama train --corpus TEXT [--corpus TEXT ...] [--extra TEXT ...] -z TOK.bin --out MODEL.bin [flags]\n"
     "  text:         each --corpus file's last --val-fraction of documents is held out, the\n"
     "                rest trains; an --extra file (e.g. from generate) trains in full\n"
     "  architecture: --dim 128 --hidden 352 --layers 5 --heads 8 --kv-heads 4 --seq-len 256 [--unshared]\n"
     "  schedule:     --steps 2000 --batch 16 --lr 2e-3 --min-lr 2e-4 --warmup 100 --weight-decay 0.1 --clip 1.0\n"
     "  run:          --seed 1 --threads (cores) --val-fraction 0.05 --eval-every 100 --val-batches 16\n"
     "                --checkpoint FILE (default MODEL.bin.ckpt) --save-every 500 --resume FILE --stop-at STEP\n"
     "  quantization: --quantize-aware int4[:32]|int8[:32]: the passes see every matrix as convert\n"
     "                will store it, and train the fp32 weights through it (default fp32: off);\n"
     "                EMB,ATT,FFN (e.g. int8,int8,int4): a type for each of convert's classes\n"},
    {"tokenizer",
     "picollama tokenizer IN OUT [--format indexed|tokenizer0|llama2c]\n"
     "  indexed (default): the board's form, no RAM for the vocabulary; tokenizer0: the\n"
     "  original PicoLlama's; llama2c: llama2.c's tokenizer.bin (also accepted as plain)\n"},
    {"header",
     "picollama header FILE OUT.h --name C_IDENTIFIER\n"
     "  any file as a const, 4-byte aligned C array and its length\n"},
};
#define ENTRIES (int)(sizeof entries / sizeof entries[0])

int pl_help(const char *command, FILE *f) {
    for (int i = 0; i < ENTRIES; i++)
        if (command && !strcmp(command, entries[i].name)) {
            fputs(entries[i].text, f);
            return 0;
        }
    fprintf(f, "PicoLlama %s: Llama-2 story models, as on the RP2350, on a PC.\n\n", PL_VERSION_STRING);
    for (int i = 0; i < ENTRIES; i++) fprintf(f, "%s\n", entries[i].text);
    fputs("picollama help COMMAND, or picollama COMMAND --help: one command.\n", f);
    return command && strcmp(command, "help") != 0 ? -1 : 0;
}

int pl_asks_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}
