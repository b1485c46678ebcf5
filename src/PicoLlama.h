/*
 * PicoLlama for Arduino (arduino-pico, RP2350 with PSRAM): a thin C++ class
 * over the C API in picollama.h.
 *
 *   #include <PicoLlama.h>
 *   #include <models/stories_model.h>
 *   PicoLlama llama;
 *   void setup() {
 *     llama.setModel(stories_model, stories_model_len);   // tokenizer inside
 *     llama.setOutputCB([](const char *piece) { if (piece) Serial.print(piece); });
 *     llama.generate("Once upon a time");
 *   }
 *
 * The original PicoLlama's calls (setModel with three arguments, setOutputCB,
 * setTemperature, setSeed, generate) work unchanged. Failures are reported,
 * never a panic: generate() and setModel() return false and error() /
 * errorMessage() say why.
 *
 * Placement (setPlacement, before setModel): by default the class copies the
 * weights, once, at setModel, where they read fastest, by pl_auto_place's
 * rule (picollama.h): into SRAM the tensors read most per token that fit
 * beside the engine's buffers, the rest into PSRAM (clocked at 75 MHz
 * against flash's 50), then the KV cache into SRAM if it still fits. The SRAM it
 * fills is what the sketch really left: the heap free at setModel
 * (rp2040.getFreeHeap(), after the core, USB, the sketch's globals such as
 * espeak-ng's 120 KB in SpeakMeAStory) less PICOLLAMA_SRAM_KEEP for the
 * sketch's later allocations; sramRoom() says what it was. PSRAM: the
 * PSRAM heap free, 8 MB at most. setModel refuses a model that needs more.
 * (On a PC, `picollama inspect --place auto` cannot measure a sketch and
 * assumes PL_BOARD_SRAM_RESERVE, pl_port.h.) copyMs() tells what the copy
 * took.
 */
#ifndef PICOLLAMA_CLASS_H
#define PICOLLAMA_CLASS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "picollama.h"
#include "pl_port.h"

/* The arduino-pico port (PicoLlamaPort.cpp): the fast pool from the SRAM
 * heap, the large pool (KV cache) from PSRAM, the CPU cycle counter as the
 * clock, a hardware random seed. */
extern "C" pl_platform picollama_arduino_platform(void);
extern "C" uint32_t picollama_arduino_random_seed(void);
extern "C" uint32_t picollama_arduino_cycles_per_ms(void);
extern "C" size_t picollama_arduino_psram_size(void);
extern "C" size_t picollama_arduino_sram_free(void);
extern "C" size_t picollama_arduino_psram_free(void);
/* The DMA behind pl_platform.copy_start (none free: the platform keeps
 * NULL), and what must follow the engine's writes of weights to PSRAM
 * before DMA reads them: the XIP cache's dirty lines written out. */
extern "C" void picollama_arduino_use_dma(pl_platform *p);
extern "C" void picollama_arduino_weights_written(void);
/* Starts core 1's work loop (pico-sdk's multicore_launch_core1); 0 when the
 * sketch has core 1 (setup1/loop1). */
extern "C" int picollama_arduino_start_core1(void);
extern "C" void picollama_arduino_use_both_cores(pl_platform *p);

/* SRAM heap left to the sketch after setModel, at least. */
#ifndef PICOLLAMA_SRAM_KEEP
#define PICOLLAMA_SRAM_KEEP (16u * 1024u)
#endif

class PicoLlama {
public:
    typedef void (*OutputCallback)(const char *piece);

    /* Where setModel puts the weights. */
    enum Placement {
        PlaceAuto,  /* the fastest that fits (the default; see above) */
        PlaceFlash, /* read in place from flash, nothing copied */
        PlacePSRAM, /* all copied to PSRAM */
        PlaceSRAM   /* all copied to SRAM (small models) */
    };

    /* The last story's figures. */
    struct Stats {
        unsigned promptTokens;    /* BOS included */
        unsigned generatedTokens; /* sampled, not forced */
        unsigned positions;       /* forward passes */
        float msPerToken;         /* over the sampled positions */
        float tokensPerSecond;
        float promptMs;           /* the prompt's forced positions */
        bool stoppedEarly;
    };

    PicoLlama() : engine_(0), cb_(0), stopRequested_(false), seedSet_(false), seed_(0),
                  maxPrompt_(0), placement_(PlaceAuto), copyMs_(0.0f), sramRoom_(0), bothCores_(false),
                  streaming_(true) {
        sampling_ = pl_default_sampling();
        sampling_.steps = 0; /* the model's whole context, unless set */
        clearError();
        resetStats();
    }
    ~PicoLlama() { pl_close(engine_); }

    /* The model and tokenizer arrays (in flash) and their lengths in bytes.
     * Opens the engine: validates both, allocates its two pools and copies
     * the weights where setPlacement says. */
    bool setModel(const void *model, size_t len, const void *tokenizer, size_t tokenizerLen) {
        pl_close(engine_);
        engine_ = 0;
        copyMs_ = 0.0f;
        clearError();
        if (picollama_arduino_psram_size() == 0) {
            err_.status = PL_ERR_NO_MEMORY;
            copyMessage("no PSRAM found at run time: this board needs PSRAM for the KV cache (check the PSRAM chip, and on Generic RP2350 Tools > PSRAM CS)");
            return false;
        }
        size_t sramFree = picollama_arduino_sram_free(), psramFree = picollama_arduino_psram_free();
        size_t sramRoom = sramFree > PICOLLAMA_SRAM_KEEP ? sramFree - PICOLLAMA_SRAM_KEEP : 0;
        size_t psramRoom = psramFree < PL_BOARD_PSRAM_BYTES ? psramFree : PL_BOARD_PSRAM_BYTES;
        sramRoom_ = sramRoom;
        pl_platform platform = picollama_arduino_platform();
        pl_options options;
        memset(&options, 0, sizeof options);
        options.max_prompt_bytes = maxPrompt_;
        options.max_positions = sampling_.steps; /* 0: the whole context */
        options.stream_weights = streaming_ && platform.copy_start ? 1 : 0;
        if (bothCores_) {
            if (!picollama_arduino_start_core1()) {
                err_.status = PL_ERR_ARGUMENT;
                copyMessage("useBothCores: the sketch runs core 1 itself (setup1/loop1)");
                return false;
            }
            picollama_arduino_use_both_cores(&platform);
            options.cores = 2;
        }
        if (placement_ == PlaceAuto) {
            if (pl_auto_place(model, len, tokenizer, tokenizerLen, sramRoom, psramRoom, &options,
                              &err_) != PL_OK)
                return false;
        } else if (placement_ == PlacePSRAM) {
            options.large_weight_budget = (size_t)-1;
        } else if (placement_ == PlaceSRAM) {
            options.fast_weight_budget = (size_t)-1;
        }
        pl_memory_plan plan;
        if (pl_plan_memory(model, len, tokenizer, tokenizerLen, &options, &plan, &err_) != PL_OK)
            return false;
        if (plan.fast_bytes > sramRoom || plan.large_bytes > psramRoom) {
            bool sram = plan.fast_bytes > sramRoom;
            err_.status = PL_ERR_NO_MEMORY;
            snprintf(err_.message, sizeof err_.message,
                     "the model needs %lu bytes of %s; %lu are free within the budget",
                     (unsigned long)(sram ? plan.fast_bytes : plan.large_bytes),
                     sram ? "SRAM" : "PSRAM", (unsigned long)(sram ? sramRoom : psramRoom));
            return false;
        }
        if (pl_open(&engine_, model, len, tokenizer, tokenizerLen, &options, &platform, &err_) != PL_OK)
            return false;
        picollama_arduino_weights_written(); /* before the DMA reads them */
        copyMs_ = (float)pl_memory(engine_)->copy_ticks / (float)picollama_arduino_cycles_per_ms();
        if (seedSet_) pl_seed(engine_, seed_);
        return true;
    }

    /* A PicoLlama model file (`picollama convert`): the tokenizer is inside. */
    bool setModel(const void *model, size_t len) { return setModel(model, len, 0, 0); }

    /* The original PicoLlama's form: the tokenizer's length is read from its
     * records (at most the 16 MB of flash). Prefer the four-argument form. */
    bool setModel(const void *model, size_t len, const void *tokenizer) {
        pl_model_info info;
        if (pl_model_inspect(model, len, &info, &err_) != PL_OK) return false;
        size_t tlen = pl_tokenizer_size(tokenizer, 16u * 1024u * 1024u, info.vocab_size);
        if (tlen == 0) {
            err_.status = PL_ERR_TOKENIZER_FORMAT;
            copyMessage("the tokenizer's records are not valid for the model's vocabulary");
            return false;
        }
        return setModel(model, len, tokenizer, tlen);
    }

    /* Called with each piece of the story, then once with NULL at its end. */
    void setOutputCB(OutputCallback cb) { cb_ = cb; }

    void setTemperature(float t) { sampling_.temperature = t; }
    void setTopP(float p) { sampling_.topp = p; }
    /* Positions to run, prompt included; 0: the model's whole context. Set
     * before setModel, it also sizes the KV cache (a story then runs at most
     * that many). */
    void setSteps(unsigned steps) { sampling_.steps = (int)steps; }
    /* Where setModel puts the weights (default PlaceAuto). */
    void setPlacement(Placement p) { placement_ = p; }
    /* Both cores (before setModel; off by default): setModel starts a work
     * loop on core 1 (pico-sdk's multicore_launch_core1, the inter-core
     * FIFO as its doorbell, core 1's own 4 KB stack) and every token's
     * products and attention are split between the cores, with the same
     * stories. It takes core 1 for good: a sketch with setup1()/loop1() is
     * refused, and one that writes flash (EEPROM, LittleFS) must not do so
     * during generate(). */
    void useBothCores(bool on) { bothCores_ = on; }
    /* Streaming (before setModel; on by default): the weights left in
     * flash or PSRAM, and the KV cache in PSRAM, reach the cores through
     * two SRAM stages (at most 32 KB, which the placement rule counts, and
     * drops when they do not fit), each filled by one DMA channel from the
     * XIP stream while the cores compute on the other. The same stories;
     * off, the cores read those bytes where they are. */
    void useStreaming(bool on) { streaming_ = on; }
    /* Milliseconds setModel spent copying weights. */
    float copyMs() const { return copyMs_; }
    /* The SRAM the placement rule had at the last setModel: the heap then
     * free, less PICOLLAMA_SRAM_KEEP. */
    size_t sramRoom() const { return sramRoom_; }
    /* Longest prompt in bytes (default 1024); takes effect at setModel. */
    void setMaxPromptLength(size_t bytes) { maxPrompt_ = bytes; }

    /* Seeds the sampler; without a seed the first story takes one from the
     * hardware random generator. Each story continues the sequence. */
    void setSeed(uint32_t seed) {
        seed_ = seed ? seed : 1;
        seedSet_ = true;
        if (engine_) pl_seed(engine_, seed_);
    }

    /* Tells a story from prompt ("" for none). steps 0 uses setSteps(). */
    bool generate(const char *prompt = "", unsigned steps = 0) {
        if (!engine_) {
            if (err_.status == PL_OK) {
                err_.status = PL_ERR_ARGUMENT;
                copyMessage("no model: call setModel first");
            }
            return false;
        }
        if (!seedSet_) setSeed(picollama_arduino_random_seed());
        pl_sampling s = sampling_;
        if (steps) s.steps = (int)steps;
        stopRequested_ = false;
        pl_stats st;
        clearError();
        bool ok = pl_generate(engine_, prompt, &s, &PicoLlama::onPiece, this, &st, &err_) == PL_OK;
        resetStats();
        if (ok) {
            float perMs = (float)picollama_arduino_cycles_per_ms();
            stats_.promptTokens = (unsigned)st.prompt_tokens;
            stats_.generatedTokens = (unsigned)st.generated_tokens;
            stats_.positions = (unsigned)st.positions;
            stats_.stoppedEarly = st.stopped_early != 0;
            stats_.promptMs = (float)st.prompt_ticks / perMs;
            if (st.generated_tokens > 0) {
                stats_.msPerToken = (float)st.generate_ticks / perMs / (float)st.generated_tokens;
                stats_.tokensPerSecond = stats_.msPerToken > 0.0f ? 1000.0f / stats_.msPerToken : 0.0f;
            }
        }
        return ok;
    }

    /* Ends the story being told after the current piece (call it from the
     * output callback). */
    void stop() { stopRequested_ = true; }

    const Stats &stats() const { return stats_; }
    pl_status error() const { return err_.status; }
    const char *errorMessage() const { return err_.message; }

    /* What the open engine took from each pool. */
    size_t sramBytes() const { return engine_ ? pl_memory(engine_)->fast_bytes : 0; }
    size_t psramBytes() const { return engine_ ? pl_memory(engine_)->large_bytes : 0; }
    const pl_model_info *modelInfo() const { return engine_ ? pl_info(engine_) : 0; }
    /* Every pool's parts and each tensor's place (NULL before setModel). */
    const pl_memory_plan *memoryPlan() const { return engine_ ? pl_memory(engine_) : 0; }

private:
    static int onPiece(void *user, const char *piece) {
        PicoLlama *self = (PicoLlama *)user;
        if (self->cb_) self->cb_(piece);
        return self->stopRequested_ ? 1 : 0;
    }
    void clearError() {
        err_.status = PL_OK;
        err_.message[0] = '\0';
    }
    void copyMessage(const char *m) {
        size_t i = 0;
        for (; m[i] && i + 1 < sizeof err_.message; i++) err_.message[i] = m[i];
        err_.message[i] = '\0';
    }
    void resetStats() {
        stats_.promptTokens = stats_.generatedTokens = stats_.positions = 0;
        stats_.msPerToken = stats_.tokensPerSecond = stats_.promptMs = 0.0f;
        stats_.stoppedEarly = false;
    }

    pl_engine *engine_;
    OutputCallback cb_;
    volatile bool stopRequested_;
    bool seedSet_;
    uint32_t seed_;
    size_t maxPrompt_;
    Placement placement_;
    float copyMs_;
    size_t sramRoom_;
    bool bothCores_;
    bool streaming_;
    pl_sampling sampling_;
    pl_error err_;
    Stats stats_;

    PicoLlama(const PicoLlama &);            /* one engine per object */
    PicoLlama &operator=(const PicoLlama &);
};

#endif /* PICOLLAMA_CLASS_H */
