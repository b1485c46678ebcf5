/* Stand-in for pico-sdk 2.2.0's hardware/structs/xip_ctrl.h (RP2350): the
 * XIP block's registers as the SDK's struct names them, and the stream
 * FIFO's DMA alias (hardware/regs/addressmap.h's XIP_AUX_BASE). One
 * difference: stream_addr holds a host pointer, so it is as wide as one
 * (the board's register is 32 bits, as its addresses are). */
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
typedef struct {
    volatile uint32_t ctrl;
    volatile uint32_t stat;
    volatile uint32_t ctr_hit;
    volatile uint32_t ctr_acc;
    volatile uintptr_t stream_addr;
    volatile uint32_t stream_ctr;
    volatile uint32_t stream_fifo;
} xip_ctrl_hw_t;
extern xip_ctrl_hw_t standin_xip_ctrl;
extern volatile uint32_t standin_xip_aux_stream;
#define xip_ctrl_hw (&standin_xip_ctrl)
#define XIP_STAT_FIFO_EMPTY 0x00000002u
#define XIP_AUX_BASE ((uintptr_t)&standin_xip_aux_stream)
#ifdef __cplusplus
}
#endif
