/* Stand-in for pico-sdk 2.2.0's hardware/dma.h: the calls PicoLlama's port
 * makes, with the SDK's signatures (on RP2350 the transfer count's low 28
 * bits are the count). A copy lands only when it is waited for, into a
 * destination first filled with 0xFF, so a stage read before its wait
 * changes the story; standin.cpp checks the channel is set up as the XIP
 * stream needs (standin_misuse). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
typedef unsigned int uint; /* pico/types.h */
typedef enum dma_channel_transfer_size { DMA_SIZE_8 = 0, DMA_SIZE_16 = 1, DMA_SIZE_32 = 2 } dma_channel_transfer_size_t;
typedef struct {
    uint32_t ctrl;
} dma_channel_config_t;
typedef dma_channel_config_t dma_channel_config;
#define DREQ_XIP_STREAM 49 /* hardware/regs/dreq.h */

int dma_claim_unused_channel(bool required);
dma_channel_config_t dma_channel_get_default_config(uint channel);
void channel_config_set_transfer_data_size(dma_channel_config_t *c, dma_channel_transfer_size_t size);
void channel_config_set_read_increment(dma_channel_config_t *c, bool incr);
void channel_config_set_write_increment(dma_channel_config_t *c, bool incr);
void channel_config_set_dreq(dma_channel_config_t *c, uint dreq);
void dma_channel_configure(uint channel, const dma_channel_config_t *config, volatile void *write_addr,
                           const volatile void *read_addr, uint32_t encoded_transfer_count, bool trigger);
void dma_channel_wait_for_finish_blocking(uint channel);
#ifdef __cplusplus
}
#endif
