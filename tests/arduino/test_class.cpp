/*
 * The PicoLlama class on the stand-in: errors reported, not panics; the
 * original three-argument setModel; stopping from the callback; a seed
 * repeats a story; statistics filled in; PicoLlama files with the
 * tokenizer inside, every placement, and the SRAM budget enforced.
 */
#include "Arduino.h"
#include "PicoLlama.h"
#include "fixtures.h"
#include "pl_test.h"

#include <string>

extern int standin_core1_launches;
extern size_t standin_dma_copies;
extern size_t standin_cache_cleans;
extern int standin_misuse;
static std::string story;
static int pieces, ends, stop_after;
static PicoLlama *current;

static void collect(const char *piece) {
    if (!piece) {
        ends++;
        return;
    }
    story += piece;
    if (++pieces == stop_after) current->stop();
}

static void reset() {
    story.clear();
    pieces = ends = stop_after = 0;
}

/* p, set up by the caller, opens the model and tells the seeded 24-token
 * story into `story`. */
static bool tell_seeded(PicoLlama &p, const uint8_t *m, size_t n) {
    current = &p;
    if (!p.setModel(m, n)) return false;
    p.setOutputCB(collect);
    p.setSeed(11);
    reset();
    return p.generate("Once upon a time", 24);
}

int main() {
    size_t msize, tsize;
    fx_model_spec spec = fx_small_spec();
    uint8_t *model = fx_model(&spec, &msize);
    uint8_t *tok = fx_tokenizer(fx_tokenizer_vocab(), 1, &tsize);

    {
        PicoLlama llama;
        llama.setOutputCB(collect);
        CHECK(!llama.generate("Once"));
        CHECK(strstr(llama.errorMessage(), "setModel") != NULL);
        CHECK(!llama.setModel(model, msize - 1, tok, tsize));
        CHECK_EQ_INT(llama.error(), PL_ERR_MODEL_TRUNCATED);
        CHECK(llama.errorMessage()[0] != '\0');
        CHECK(!llama.generate("Once")); /* still no model: the open error stays */
        CHECK_EQ_INT(llama.error(), PL_ERR_MODEL_TRUNCATED);
        CHECK(!llama.setModel(model, msize, tok, 10));
        CHECK_EQ_INT(llama.error(), PL_ERR_TOKENIZER_TRUNCATED);
        /* A board without PSRAM: a clear error, not a crash. */
        setenv("ARDUINO_PSRAM_SIZE", "0", 1);
        CHECK(!llama.setModel(model, msize, tok, tsize));
        CHECK_EQ_INT(llama.error(), PL_ERR_NO_MEMORY);
        CHECK(strstr(llama.errorMessage(), "PSRAM") != NULL);
        unsetenv("ARDUINO_PSRAM_SIZE");
    }
    {
        /* Three arguments (the original API) and four tell the same story. */
        PicoLlama a, b;
        current = &a;
        CHECK(a.setModel(model, msize, tok));
        CHECK(b.setModel(model, msize, tok, tsize));
        a.setOutputCB(collect);
        b.setOutputCB(collect);
        a.setSeed(7);
        b.setSeed(7);
        reset();
        CHECK(a.generate("Once upon a time", 20));
        std::string first = story;
        reset();
        CHECK(b.generate("Once upon a time", 20));
        CHECK(first == story);
        CHECK(first.compare(0, 16, "Once upon a time") == 0);
        CHECK_EQ_INT(ends, 1);
        const PicoLlama::Stats &s = b.stats();
        CHECK_EQ_INT(s.positions, 20);
        CHECK(s.generatedTokens > 0 && s.msPerToken > 0.0f);
        CHECK(b.sramBytes() > 0 && b.psramBytes() > 0);
        CHECK(standin_psram_bytes >= b.psramBytes()); /* the large pool came from pmalloc */

        /* stop() from the callback ends the story after that piece. */
        reset();
        stop_after = 3;
        current = &a;
        CHECK(a.generate("Lily"));
        CHECK_EQ_INT(pieces, 3);
        CHECK_EQ_INT(ends, 1);
        CHECK(a.stats().stoppedEarly);

        /* A bad setting is an error with a message, the engine stays usable. */
        a.setTemperature(-1.0f);
        CHECK(!a.generate(""));
        CHECK_EQ_INT(a.error(), PL_ERR_ARGUMENT);
        a.setTemperature(1.0f);
        reset();
        CHECK(a.generate("", 5));
        CHECK_EQ_INT(a.error(), PL_OK);
    }
    {
        /* A PicoLlama file: setModel(model, len), its tokenizer inside.
         * Every placement tells the same story; auto copies the weights
         * into SRAM and PSRAM within the budget; a budget too small is a
         * clear error. */
        size_t psize;
        fx_model_spec ps = fx_small_spec();
        ps.shared_classifier = 0;
        uint8_t *plm = fx_picollama(&ps, "int4:8", "int8:8", "int4:16", &psize);
        CHECK(plm != NULL);
        std::string stories[4];
        static const PicoLlama::Placement places[4] = {PicoLlama::PlaceFlash, PicoLlama::PlaceAuto,
                                                       PicoLlama::PlacePSRAM, PicoLlama::PlaceSRAM};
        size_t sram[4], psram[4];
        for (int i = 0; i < 4 && plm; i++) {
            PicoLlama p;
            p.setPlacement(places[i]);
            CHECK(tell_seeded(p, plm, psize));
            stories[i] = story;
            sram[i] = p.sramBytes();
            psram[i] = p.psramBytes();
            CHECK(p.copyMs() >= 0.0f);
        }
        for (int i = 1; i < 4; i++) CHECK(stories[i] == stories[0]);
        /* Streaming (the default) and not: the weights in flash and PSRAM
         * and the KV cache in PSRAM reach the cores by the stream's DMA
         * (the stand-in's copies land only when waited for, from what
         * PSRAM holds behind the cache: each KV write cleaned), or are
         * read where they are; one story. */
        for (int stream = 0; stream < 2 && plm; stream++)
            for (int i = 0; i < 3; i += 2) {
                PicoLlama p;
                size_t copies = standin_dma_copies, cleans = standin_cache_cleans;
                p.setPlacement(places[i]);
                p.useStreaming(stream != 0);
                CHECK(tell_seeded(p, plm, psize));
                CHECK(story == stories[0]);
                if (stream) CHECK(standin_dma_copies > copies);
                else CHECK_EQ_INT((int)(standin_dma_copies - copies), 0);
                CHECK_EQ_INT(standin_cache_cleans > cleans, stream); /* the KV cache is in PSRAM */
            }
        CHECK(sram[1] > sram[0]);  /* auto: weights (and the KV cache) into SRAM */
        CHECK(psram[2] > psram[0]); /* PSRAM: the weights there */
        CHECK(sram[3] > sram[0] && sram[3] >= sram[1] - 4096u);
        /* A board whose heap cannot hold the engine's buffers: refused with
         * the sizes, before anything is allocated. */
        setenv("ARDUINO_SRAM_FREE", "26000", 1);
        {
            PicoLlama p;
            p.setPlacement(PicoLlama::PlaceSRAM);
            CHECK(!p.setModel(plm, psize));
            CHECK_EQ_INT(p.error(), PL_ERR_NO_MEMORY);
            CHECK(strstr(p.errorMessage(), "SRAM") != NULL);
            p.setPlacement(PicoLlama::PlaceAuto); /* auto fits what it is given */
            CHECK(p.setModel(plm, psize));
            CHECK(p.sramBytes() <= 26000u - PICOLLAMA_SRAM_KEEP);
        }
        /* The rule fills what the sketch left, measured: a heap larger than
         * the PC's assumed budget (520 KB less PL_BOARD_SRAM_RESERVE) is
         * used, a smaller one (espeak-ng's sketch) is not overcommitted. */
        static const char *const frees[] = {"500000", "300000"};
        for (int k = 0; k < 2; k++) {
            setenv("ARDUINO_SRAM_FREE", frees[k], 1);
            PicoLlama p;
            CHECK(p.setModel(plm, psize));
            CHECK_EQ_INT((long)p.sramRoom(), atol(frees[k]) - (long)PICOLLAMA_SRAM_KEEP);
            CHECK(p.sramBytes() <= p.sramRoom());
        }
        unsetenv("ARDUINO_SRAM_FREE");
        /* Both cores: core 1 started once, through pico-sdk's call; the
         * same story as one core, in every placement. */
        for (int i = 0; i < 4 && plm; i++) {
            PicoLlama p;
            p.setPlacement(places[i]);
            p.useBothCores(true);
            CHECK(tell_seeded(p, plm, psize));
            CHECK(story == stories[0]);
        }
        CHECK_EQ_INT(standin_core1_launches, 1);
        free(plm);
    }
    free(model);
    free(tok);
    CHECK_EQ_INT(standin_misuse, 0); /* every call as the real SDK would take it */
    return pl_test_report("arduino_class");
}
