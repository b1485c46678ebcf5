/*
 * The constants of every file format the engine reads, in one place: the
 * reader (pl_model.c, pl_tokenizer.c) and the writers (tools/) include
 * this, so neither can drift. The PicoLlama model format is specified in
 * docs/model-format.md.
 */
#ifndef PL_FORMAT_H
#define PL_FORMAT_H

/* ---- llama2.c checkpoints (export.py) ------------------------------------ */
#define PL_MAGIC_AK42 0x616b3432u /* versions 1 and 2: "ak42" read as an int32 */
#define PL_V1_HEADER_BYTES 256u
#define PL_V0_HEADER_BYTES 28u    /* version 0: the seven config fields */

/* ---- the PicoLlama model file, version 1 ---------------------------------
 * A 64-byte header, a table of PL_TENSOR_COUNT 16-byte entries, then the
 * tensors and the tokenizer, each at a multiple of PLM_ALIGN. Little-endian. */
#define PLM_MAGIC 0x4d4c4c50u /* "PLLM" */
#define PLM_VERSION 1u
#define PLM_HEADER_BYTES 64u
#define PLM_ENTRY_BYTES 16u
#define PLM_DATA_OFFSET (PLM_HEADER_BYTES + PLM_ENTRY_BYTES * PL_TENSOR_COUNT) /* 256 */
#define PLM_ALIGN 16u
/* header fields (byte offsets) */
#define PLM_AT_VERSION 4u          /* uint32 */
#define PLM_AT_CONFIG 8u           /* 7 int32: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len */
#define PLM_AT_FLAGS 36u           /* uint32 */
#define PLM_AT_TOKENIZER 40u       /* uint32 offset, uint32 bytes (0: none inside) */
#define PLM_AT_TENSOR_COUNT 48u    /* uint32, PL_TENSOR_COUNT */
#define PLM_AT_FILE_BYTES 52u      /* uint32, the whole file */
/* 56..63: zero */
#define PLM_FLAG_SHARED_CLASSIFIER 1u
/* table entry fields */
#define PLM_ENTRY_TYPE 0u          /* uint8, PLM_TYPE_* */
#define PLM_ENTRY_GROUP 2u         /* uint16 */
#define PLM_ENTRY_OFFSET 4u        /* uint32 */
#define PLM_ENTRY_BYTES_AT 8u      /* uint32 */
/* byte 1 and 12..15: zero */
/* weight types as stored (stable numbers, whatever the engine's enum) */
#define PLM_TYPE_F32 0u
#define PLM_TYPE_Q8 1u  /* int8, groups along rows, fp32 scales */
#define PLM_TYPE_Q4 2u  /* int4, groups along rows, fp16 scales */
#define PLM_TYPE_COUNT 3u

/* ---- the indexed tokenizer ------------------------------------------------ */
#define PLT_MAGIC 0x31544c50u /* "PLT1" */

#endif /* PL_FORMAT_H */
