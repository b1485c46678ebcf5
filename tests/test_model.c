/* Checkpoint headers: every format, and every way a header can be wrong. */
#include "fixtures.h"
#include "pl_test.h"

#include <stdlib.h>

static void set_field(uint8_t *buf, int version, int field, int32_t value) {
    memcpy(buf + (version == 1 ? 8 : 0) + 4 * field, &value, 4);
}

static pl_status inspect_with(fx_model_spec s, int field, int32_t value, pl_error *err) {
    size_t size;
    pl_model_info info;
    uint8_t *m = fx_model(&s, &size);
    set_field(m, s.version, field, value);
    pl_status st = pl_model_inspect(m, size, &info, err);
    free(m);
    return st;
}

static void test_valid_formats(void) {
    for (int version = 0; version <= 1; version++) {
        for (int shared = 0; shared <= 1; shared++) {
            fx_model_spec s = fx_small_spec();
            size_t size;
            pl_model_info info;
            pl_error err;
            s.version = version;
            s.shared_classifier = shared;
            uint8_t *m = fx_model(&s, &size);
            CHECK_STATUS(pl_model_inspect(m, size, &info, &err), PL_OK, err);
            CHECK_EQ_INT(info.format, version);
            CHECK_EQ_INT(info.dim, 16);
            CHECK_EQ_INT(info.hidden_dim, 40);
            CHECK_EQ_INT(info.n_layers, 2);
            CHECK_EQ_INT(info.n_heads, 4);
            CHECK_EQ_INT(info.n_kv_heads, 2);
            CHECK_EQ_INT(info.vocab_size, fx_tokenizer_vocab());
            CHECK_EQ_INT(info.seq_len, 32);
            CHECK_EQ_INT(info.shared_classifier, shared);
            CHECK_EQ_INT(info.expected_size, size);
            free(m);
        }
    }
}

static void test_counts(void) {
    /* stories260K's config: its name is its parameter count. */
    pl_model_info info;
    memset(&info, 0, sizeof info);
    info.dim = 64; info.hidden_dim = 172; info.n_layers = 5; info.n_heads = 8;
    info.n_kv_heads = 4; info.vocab_size = 512; info.seq_len = 512;
    info.shared_classifier = 1;
    CHECK_EQ_INT(pl_model_parameter_count(&info), 260032);
    {
        /* All weights but the embedding table, plus one row of it and the
         * classifier (which is the table): 4 * (260032 - 512*64 + 64 + 512*64). */
        fx_model_spec s = fx_small_spec();
        s.dim = 64; s.hidden_dim = 172; s.n_layers = 5; s.n_heads = 8; s.n_kv_heads = 4;
        s.vocab_size = 512; s.seq_len = 512; s.shared_classifier = 1;
        size_t size;
        uint8_t *m = fx_model(&s, &size);
        pl_model_info full;
        CHECK_EQ_INT(pl_model_inspect(m, size, &full, NULL), PL_OK);
        CHECK_EQ_INT(pl_model_bytes_per_token(&full), 4 * (260032 + 64));
        free(m);
    }
    /* The original PicoLlama's 14 MB model: 3,626,016 parameters; its
     * version 0 file also holds 4,096 floats of old RoPE tables. */
    info.dim = 96; info.hidden_dim = 256; info.n_layers = 5; info.n_heads = 6;
    info.n_kv_heads = 6; info.vocab_size = 32000; info.seq_len = 256;
    CHECK_EQ_INT(pl_model_parameter_count(&info), 3626016);
}

static void test_bad_headers(void) {
    fx_model_spec s = fx_small_spec();
    pl_error err;
    size_t size;
    pl_model_info info;
    uint8_t *m = fx_model(&s, &size);

    CHECK_STATUS(pl_model_inspect(m, size - 1, &info, &err), PL_ERR_MODEL_TRUNCATED, err);
    CHECK_STATUS(pl_model_inspect(m, 20, &info, &err), PL_ERR_MODEL_TRUNCATED, err);
    CHECK_STATUS(pl_model_inspect(m, 3, &info, &err), PL_ERR_MODEL_TRUNCATED, err);
    CHECK_STATUS(pl_model_inspect(m, 0, &info, &err), PL_ERR_MODEL_TRUNCATED, err);
    CHECK_STATUS(pl_model_inspect(NULL, size, &info, &err), PL_ERR_ARGUMENT, err);
    free(m);

    /* A file longer than its config says is the wrong file or a bad header. */
    m = fx_model(&s, &size);
    uint8_t *longer = calloc(1, size + 4);
    memcpy(longer, m, size);
    CHECK_STATUS(pl_model_inspect(longer, size + 4, &info, &err), PL_ERR_MODEL_LENGTH, err);
    free(longer);
    free(m);

    /* Each dimension zero, negative, or absurd. */
    for (int field = 0; field < 7; field++) {
        if (field == 5) continue; /* vocab_size: its sign is the classifier flag in v0 */
        CHECK_STATUS(inspect_with(s, field, 0, &err), PL_ERR_MODEL_DIMENSIONS, err);
        CHECK_STATUS(inspect_with(s, field, -3, &err), PL_ERR_MODEL_DIMENSIONS, err);
        CHECK_STATUS(inspect_with(s, field, 0x7fffffff, &err), PL_ERR_MODEL_DIMENSIONS, err);
    }
    CHECK_STATUS(inspect_with(s, 5, 0, &err), PL_ERR_MODEL_DIMENSIONS, err);
    CHECK_STATUS(inspect_with(s, 5, INT32_MIN, &err), PL_ERR_MODEL_DIMENSIONS, err);
    CHECK_STATUS(inspect_with(s, 5, 2, &err), PL_ERR_MODEL_DIMENSIONS, err);
    s.version = 1;
    CHECK_STATUS(inspect_with(s, 5, -5, &err), PL_ERR_MODEL_DIMENSIONS, err);
    CHECK_STATUS(inspect_with(s, 0, 0, &err), PL_ERR_MODEL_DIMENSIONS, err);
    s.version = 0;

    /* Heads: 3 does not divide dim 16; kv heads 3 does not divide 4 heads... */
    CHECK_STATUS(inspect_with(s, 3, 3, &err), PL_ERR_MODEL_HEADS, err);
    CHECK(strstr(err.message, "does not divide dim") != NULL);
    CHECK_STATUS(inspect_with(s, 4, 3, &err), PL_ERR_MODEL_HEADS, err);
    CHECK(strstr(err.message, "does not divide n_heads") != NULL);
    /* ...more kv heads than heads is out of range... */
    CHECK_STATUS(inspect_with(s, 4, 8, &err), PL_ERR_MODEL_DIMENSIONS, err);
    /* ...and 16 heads of size 1 cannot be rotated in pairs. */
    CHECK_STATUS(inspect_with(s, 3, 16, &err), PL_ERR_MODEL_HEADS, err);

    /* A dimension that changes the expected size, consistently wrong. */
    CHECK_STATUS(inspect_with(s, 1, 41, &err), PL_ERR_MODEL_TRUNCATED, err);
    CHECK_STATUS(inspect_with(s, 1, 39, &err), PL_ERR_MODEL_LENGTH, err);
}

static void test_versioned_headers(void) {
    fx_model_spec s = fx_small_spec();
    pl_error err;
    size_t size;
    pl_model_info info;
    s.version = 1;
    uint8_t *m = fx_model(&s, &size);
    CHECK_STATUS(pl_model_inspect(m, 255, &info, &err), PL_ERR_MODEL_TRUNCATED, err);
    int32_t version = 3;
    memcpy(m + 4, &version, 4);
    CHECK_STATUS(pl_model_inspect(m, size, &info, &err), PL_ERR_MODEL_FORMAT, err);
    version = 0;
    memcpy(m + 4, &version, 4);
    CHECK_STATUS(pl_model_inspect(m, size, &info, &err), PL_ERR_MODEL_FORMAT, err);
    free(m);

    /* Version 2 (int8): header with group size at the unaligned offset 37. */
    uint8_t hdr[256];
    memset(hdr, 0, sizeof hdr);
    uint32_t magic = 0x616b3432u;
    int32_t cfg[7] = {64, 172, 5, 8, 4, 512, 512}, gs = 32;
    version = 2;
    memcpy(hdr, &magic, 4);
    memcpy(hdr + 4, &version, 4);
    memcpy(hdr + 8, cfg, sizeof cfg);
    hdr[36] = 1;
    memcpy(hdr + 37, &gs, 4);
    /* 294816 bytes is stories260K_q80.bin's size. */
    uint8_t *q = calloc(1, 294816);
    memcpy(q, hdr, sizeof hdr);
    CHECK_STATUS(pl_model_inspect(q, 294816, &info, &err), PL_OK, err);
    CHECK_EQ_INT(info.format, PL_FORMAT_LLAMA2C_V2);
    CHECK_EQ_INT(info.group_size, 32);
    gs = 24; /* does not divide dim 64 */
    memcpy(q + 37, &gs, 4);
    CHECK_STATUS(pl_model_inspect(q, 294816, &info, &err), PL_ERR_MODEL_DIMENSIONS, err);
    gs = 0;
    memcpy(q + 37, &gs, 4);
    CHECK_STATUS(pl_model_inspect(q, 294816, &info, &err), PL_ERR_MODEL_DIMENSIONS, err);
    free(q);
}

int main(void) {
    test_valid_formats();
    test_counts();
    test_bad_headers();
    test_versioned_headers();
    return pl_test_report("test_model");
}
