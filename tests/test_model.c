/* Checkpoint headers: every format, and every way a header can be wrong. */
#include "fixtures.h"
#include "host_platform.h"
#include "pl_test.h"
#include "pl_internal.h"

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

/* A copy of a PicoLlama file with one little-endian u32 replaced; the
 * status pl_plan_memory gives it (header, table and tokenizer inside). */
static pl_status plm_with(const uint8_t *m, size_t size, size_t at, uint32_t value, size_t new_size,
                          pl_error *err) {
    uint8_t *c = malloc(size + 64);
    pl_memory_plan plan;
    memcpy(c, m, size);
    memset(c + size, 0, 64);
    if (at + 4 <= size) memcpy(c + at, &value, 4);
    pl_status st = pl_plan_memory(c, new_size, NULL, 0, NULL, &plan, err);
    free(c);
    return st;
}

static uint32_t u32_at(const uint8_t *m, size_t at) {
    uint32_t v;
    memcpy(&v, m + at, 4);
    return v;
}

static void test_picollama_format(void) {
    fx_model_spec s = fx_small_spec();
    s.shared_classifier = 0;
    size_t size;
    pl_error err;
    pl_model_info info;
    uint8_t *m = fx_picollama(&s, "int4:8", "int8:16", "int4:16", &size);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_STATUS(pl_model_inspect(m, size, &info, &err), PL_OK, err);
    CHECK_EQ_INT(info.format, PL_FORMAT_PICOLLAMA);
    CHECK_EQ_INT(info.expected_size, size);
    CHECK_EQ_INT(info.tensors[PL_TENSOR_EMBEDDING].type, PL_WTYPE_Q4);
    CHECK_EQ_INT(info.tensors[PL_TENSOR_WQ].type, PL_WTYPE_Q8_ROWS);
    CHECK_EQ_INT(info.tensors[PL_TENSOR_WQ].group_size, 16);
    CHECK_EQ_INT(info.tensors[PL_TENSOR_RMS_ATT].type, PL_WTYPE_F32);
    CHECK_EQ_INT(info.group_size, 8); /* the smallest */
    CHECK(info.tokenizer_size > 0 && info.tokenizer_offset % PLM_ALIGN == 0);
    for (int id = 0; id < PL_TENSOR_COUNT; id++) CHECK(info.tensors[id].offset % PLM_ALIGN == 0);
    /* int4 rows of 16 values in groups of 8: 8 bytes of values and two
     * 2-byte scales a row */
    CHECK_EQ_INT(info.tensors[PL_TENSOR_EMBEDDING].bytes, (size_t)s.vocab_size * (8 + 4));

    const size_t entry = PLM_HEADER_BYTES, wq = entry + PLM_ENTRY_BYTES * PL_TENSOR_WQ;
    const size_t norm = entry + PLM_ENTRY_BYTES * PL_TENSOR_RMS_ATT;
    const size_t wcls = entry + PLM_ENTRY_BYTES * PL_TENSOR_WCLS;
    struct { const char *what; size_t at; uint32_t value; pl_status want; } cases[] = {
        {"version 2", PLM_AT_VERSION, 2, PL_ERR_MODEL_FORMAT},
        {"unknown flag", PLM_AT_FLAGS, 2, PL_ERR_MODEL_FORMAT},
        {"tensor count", PLM_AT_TENSOR_COUNT, 11, PL_ERR_MODEL_FORMAT},
        {"reserved header bytes", 60, 1, PL_ERR_MODEL_FORMAT},
        {"file bytes too many", PLM_AT_FILE_BYTES, (uint32_t)size + 4, PL_ERR_MODEL_TRUNCATED},
        {"file bytes too few", PLM_AT_FILE_BYTES, (uint32_t)size - 4, PL_ERR_MODEL_LENGTH},
        {"dim 0", PLM_AT_CONFIG, 0, PL_ERR_MODEL_DIMENSIONS},
        {"heads not dividing", PLM_AT_CONFIG + 12, 3, PL_ERR_MODEL_HEADS},
        {"type 3", wq + PLM_ENTRY_TYPE, (u32_at(m, wq) & 0xffffff00u) | 3u, PL_ERR_MODEL_FORMAT},
        {"int8 norms", norm + PLM_ENTRY_TYPE, 1u | (16u << 16), PL_ERR_MODEL_FORMAT},
        {"group 6", wq, (u32_at(m, wq) & 0xffffu) | (6u << 16), PL_ERR_MODEL_FORMAT},
        {"group 0", wq, u32_at(m, wq) & 0xffffu, PL_ERR_MODEL_FORMAT},
        {"int4 group 1024", entry + PLM_ENTRY_BYTES * PL_TENSOR_W1, 2u | (1024u << 16), PL_ERR_MODEL_FORMAT},
        {"fp32 with a group", norm, 8u << 16, PL_ERR_MODEL_FORMAT},
        {"bytes off by 4", wq + PLM_ENTRY_BYTES_AT, u32_at(m, wq + PLM_ENTRY_BYTES_AT) + 4, PL_ERR_MODEL_FORMAT},
        {"misaligned offset", wq + PLM_ENTRY_OFFSET, u32_at(m, wq + PLM_ENTRY_OFFSET) + 4, PL_ERR_MODEL_FORMAT},
        {"offset in the header", wq + PLM_ENTRY_OFFSET, 16, PL_ERR_MODEL_FORMAT},
        {"offset past the end", wq + PLM_ENTRY_OFFSET, (uint32_t)size & ~15u, PL_ERR_MODEL_TRUNCATED},
        {"offset near 4 GB", wq + PLM_ENTRY_OFFSET, 0xfffffff0u, PL_ERR_MODEL_TRUNCATED},
        {"reserved entry bytes", wq + 12, 1, PL_ERR_MODEL_FORMAT},
        {"tokenizer misaligned", PLM_AT_TOKENIZER, (uint32_t)info.tokenizer_offset + 4, PL_ERR_MODEL_FORMAT},
        {"tokenizer past the end", PLM_AT_TOKENIZER + 4, (uint32_t)info.tokenizer_size + 16, PL_ERR_MODEL_FORMAT},
        {"tokenizer offset near 4 GB", PLM_AT_TOKENIZER, 0xfffffff0u, PL_ERR_MODEL_FORMAT},
        {"tokenizer cut short", PLM_AT_TOKENIZER + 4, (uint32_t)info.tokenizer_size - 8, PL_ERR_TOKENIZER_TRUNCATED},
        {"no tokenizer inside", PLM_AT_TOKENIZER + 4, 0, PL_ERR_MODEL_FORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl_status got = plm_with(m, size, cases[i].at, cases[i].value, size, &err);
        if (got != cases[i].want)
            printf("test_model: PicoLlama %s: %s (%s), want %s\n", cases[i].what, pl_status_name(got),
                   err.message, pl_status_name(cases[i].want));
        CHECK_EQ_INT(got, cases[i].want);
    }
    /* no tokenizer at all (offset and size 0): valid, planned without one
     * (inspect), but nothing to run with */
    {
        uint8_t *c = malloc(size);
        pl_memory_plan plan;
        pl_engine *e = NULL;
        pl_platform platform = pl_host_platform(NULL);
        memcpy(c, m, size);
        memset(c + PLM_AT_TOKENIZER, 0, 8);
        CHECK_STATUS(pl_model_inspect(c, size, &info, &err), PL_OK, err);
        CHECK_STATUS(pl_plan_memory(c, size, NULL, 0, NULL, &plan, &err), PL_OK, err);
        CHECK(plan.tokenizer_bytes < 16);
        CHECK_STATUS(pl_open(&e, c, size, NULL, 0, NULL, &platform, &err), PL_ERR_ARGUMENT, err);
        CHECK(e == NULL);
        free(c);
    }
    /* every truncation of the file is refused, never read past */
    int wrong = 0;
    for (size_t n = 0; n < size; n += n < 300 ? 1 : 97)
        wrong += plm_with(m, size, 0, u32_at(m, 0), n, &err) == PL_OK;
    CHECK_EQ_INT(wrong, 0);
    /* a shared classifier's entry must be empty */
    s.shared_classifier = 1;
    free(m);
    m = fx_picollama(&s, "int8:8", "int8:8", "int8:8", &size);
    CHECK(m != NULL);
    if (m) {
        CHECK_STATUS(plm_with(m, size, wcls + PLM_ENTRY_OFFSET, 256, size, &err), PL_ERR_MODEL_FORMAT, err);
        CHECK_STATUS(plm_with(m, size, 0, u32_at(m, 0), size, &err), PL_OK, err);
    }
    free(m);
}

int main(void) {
    test_picollama_format();
    test_valid_formats();
    test_counts();
    test_bad_headers();
    test_versioned_headers();
    return pl_test_report("test_model");
}
