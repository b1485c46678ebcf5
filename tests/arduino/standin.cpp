/* The stand-in's state. */
#include "Arduino.h"
#include "BackgroundAudioSpeech.h"
#include "Keyboard.h"

#include <time.h>

SerialStandIn Serial;
RP2040StandIn rp2040;
KeyboardStandIn Keyboard;
size_t standin_psram_bytes;

static unsigned long now_ms;
int standin_loop_index;
const char *standin_serial_input;

unsigned long millis(void) { return now_ms; }
void delay(unsigned long ms) {
    now_ms += ms;
    standin_speech_drain(ms);
}

int SerialStandIn::available() { return standin_serial_input && *standin_serial_input ? (int)strlen(standin_serial_input) : 0; }
int SerialStandIn::read() { return standin_serial_input && *standin_serial_input ? (unsigned char)*standin_serial_input++ : -1; }

uint64_t RP2040StandIn::getCycleCount64() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) * 150u / 1000u;
}

uint32_t RP2040StandIn::hwrand32() {
    const char *v = getenv("ARDUINO_HWRAND");
    return v ? (uint32_t)strtoul(v, NULL, 10) : 12345u;
}

size_t RP2040StandIn::getPSRAMSize() {
    const char *v = getenv("ARDUINO_PSRAM_SIZE");
    return v ? (size_t)strtoul(v, NULL, 10) : (size_t)8 << 20;
}

int RP2040StandIn::getFreeHeap() {
    const char *v = getenv("ARDUINO_SRAM_FREE");
    return v ? (int)strtol(v, NULL, 10) : 480 * 1024;
}

int RP2040StandIn::getFreePSRAMHeap() {
    return (int)(getPSRAMSize() - (standin_psram_bytes < getPSRAMSize() ? standin_psram_bytes : getPSRAMSize()));
}

#undef free
/* PSRAM blocks: 4 bytes into an 8-aligned malloc block, remembered so that
 * free() can tell them from SRAM ones. */
static void *psram_blocks[64];
static size_t psram_sizes[64];
static int psram_unclean; /* PSRAM given out since the last xip_cache_clean_all */
/* What each block's PSRAM holds behind the XIP cache: stale bytes until a
 * clean writes the cached ones back; the stream's DMA reads these. */
static uint8_t *psram_behind[64];

extern "C" void *pmalloc(size_t size) {
    uint8_t *base = (uint8_t *)malloc(size + 4);
    if (!base) return NULL;
    for (int i = 0; i < 64; i++)
        if (!psram_blocks[i]) {
            psram_behind[i] = (uint8_t *)malloc(size ? size : 1);
            if (!psram_behind[i]) break;
            memset(psram_behind[i], 0xEE, size);
            psram_blocks[i] = base + 4;
            psram_sizes[i] = size;
            psram_unclean = 1;
            standin_psram_bytes += size;
            return base + 4;
        }
    free(base);
    return NULL;
}
extern "C" void *pcalloc(size_t count, size_t size) {
    void *p = count && size > (size_t)-1 / count ? NULL : pmalloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}
extern "C" void standin_free(void *p) {
    for (int i = 0; p && i < 64; i++)
        if (psram_blocks[i] == p) {
            psram_blocks[i] = NULL;
            free(psram_behind[i]);
            psram_behind[i] = NULL;
            free((uint8_t *)p - 4);
            return;
        }
    free(p);
}

int standin_bootsel(void) {
    /* pressed while loop() runs an iteration in the list, released at the
     * first poll inside it */
    static int released_in = -1;
    const char *list = getenv("ARDUINO_BOOTSEL_LOOPS");
    if (!list || released_in == standin_loop_index) return 0;
    char key[16];
    snprintf(key, sizeof key, ",%d,", standin_loop_index);
    char padded[256];
    snprintf(padded, sizeof padded, ",%s,", list);
    if (!strstr(padded, key)) return 0;
    released_in = standin_loop_index;
    return 1;
}

int standin_misuse; /* set by any call the real library would not accept */
size_t standin_speech_calls, standin_speech_largest;

static void complain(const char *what) {
    fprintf(stderr, "ERROR: %s\n", what);
    standin_misuse = 1;
}

static FILE *log_file(const char *env) {
    static FILE *files[2];
    int i = strcmp(env, "ARDUINO_KEYBOARD_LOG") == 0 ? 0 : 1;
    if (!files[i]) {
        const char *path = getenv(env);
        files[i] = fopen(path ? path : "/dev/null", "wb");
    }
    return files[i];
}

size_t KeyboardStandIn::print(const char *s) {
    if (!begun_) complain("Keyboard.print before Keyboard.begin");
    fputs(s, log_file("ARDUINO_KEYBOARD_LOG"));
    return strlen(s);
}

static size_t speech_queued; /* bytes in the 1024-byte buffer */

void standin_speech_drain(unsigned long ms) {
    size_t spoken = ms * 2; /* a generous speaking rate: 2 bytes a millisecond */
    speech_queued = spoken >= speech_queued ? 0 : speech_queued - spoken;
}

bool BackgroundAudioSpeech::begin() {
    begun_ = true;
    return true;
}

void BackgroundAudioSpeech::setRate(int wpm) {
    (void)wpm;
    if (!begun_) complain("setRate before begin (begin resets the rate)");
}

size_t BackgroundAudioSpeech::speak(const char *text) {
    size_t n = strlen(text);
    FILE *f = log_file("ARDUINO_SPEECH_LOG");
    if (!begun_ || !voice_) complain("speak before setVoice and begin");
    if (n >= 1024) {
        complain("speak() text of 1024 bytes or more: the real library drops it");
        return 0;
    }
    if (speech_queued + n >= 1024) return 0; /* no room: all or nothing */
    speech_queued += n;
    standin_speech_calls++;
    if (n > standin_speech_largest) standin_speech_largest = n;
    fwrite(text, 1, n, f); /* the log is everything spoken, in order */
    fflush(f);
    return n;
}

bool BackgroundAudioSpeech::done() { return speech_queued == 0; }


/* ---- pico/multicore.h: core 1 as a thread, the FIFOs as two queues ---- */
#include <pthread.h>

#include "pico/multicore.h"

namespace {
struct Fifo {
    uint32_t v[4];
    int n = 0, head = 0;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    void push(uint32_t x) {
        pthread_mutex_lock(&m);
        while (n == 4) pthread_cond_wait(&c, &m);
        v[(head + n++) % 4] = x;
        pthread_cond_broadcast(&c);
        pthread_mutex_unlock(&m);
    }
    uint32_t pop() {
        pthread_mutex_lock(&m);
        while (n == 0) pthread_cond_wait(&c, &m);
        uint32_t x = v[head];
        head = (head + 1) % 4;
        n--;
        pthread_cond_broadcast(&c);
        pthread_mutex_unlock(&m);
        return x;
    }
};
Fifo to_core1, to_core0;
thread_local int this_core = 0;
void (*core1_entry)(void);
void *core1_thread(void *) {
    this_core = 1;
    core1_entry();
    return nullptr;
}
} // namespace

int standin_core1_launches;

extern "C" void multicore_launch_core1(void (*entry)(void)) {
    pthread_t t;
    core1_entry = entry;
    standin_core1_launches++;
    pthread_create(&t, nullptr, core1_thread, nullptr);
    pthread_detach(t);
}

extern "C" void multicore_fifo_push_blocking(uint32_t data) {
    (this_core ? to_core0 : to_core1).push(data);
}

extern "C" uint32_t multicore_fifo_pop_blocking(void) {
    return (this_core ? to_core1 : to_core0).pop();
}


/* ---- hardware/dma.h and the XIP stream: one channel, copies that land
 * when waited for ---------------------------------------------------------- */
#include "hardware/dma.h"
#include "hardware/structs/xip_ctrl.h"
#include "hardware/xip_cache.h"

xip_ctrl_hw_t standin_xip_ctrl = {0, XIP_STAT_FIFO_EMPTY, 0, 0, 0, 0, 0};
volatile uint32_t standin_xip_aux_stream;
size_t standin_dma_copies;
size_t standin_cache_cleans;

namespace {
/* the SDK's CTRL bits are not modelled: the fields a channel needs here */
enum { CFG_READ_INCR = 1u << 4, CFG_WRITE_INCR = 1u << 5, CFG_SIZE_SHIFT = 2, CFG_DREQ_SHIFT = 17 };
int claimed = -1;
struct {
    uint8_t *dst;
    const uint8_t *src;
    size_t n;
    bool busy;
} job;

bool in_psram(const void *p) {
    for (int i = 0; i < 64; i++)
        if (psram_blocks[i] && (const uint8_t *)p >= (const uint8_t *)psram_blocks[i] &&
            (const uint8_t *)p < (const uint8_t *)psram_blocks[i] + psram_sizes[i])
            return true;
    return false;
}

/* The bytes behind the cache of [p, p + n), or NULL when not in one PSRAM block. */
uint8_t *behind_cache(const void *p, size_t n) {
    const uint8_t *b = (const uint8_t *)p;
    for (int i = 0; i < 64; i++) {
        const uint8_t *block = (const uint8_t *)psram_blocks[i];
        if (block && b >= block && n <= psram_sizes[i] && (size_t)(b - block) <= psram_sizes[i] - n)
            return psram_behind[i] + (b - block);
    }
    return NULL;
}
} // namespace

extern "C" void xip_cache_clean_all(void) {
    for (int i = 0; i < 64; i++)
        if (psram_blocks[i]) memcpy(psram_behind[i], psram_blocks[i], psram_sizes[i]);
    psram_unclean = 0;
}

/* Every line of the range that a PSRAM block holds is written back. */
extern "C" void xip_cache_clean_range(uintptr_t start_offset, uintptr_t size_bytes) {
    const uint8_t *start = (const uint8_t *)(start_offset + XIP_BASE), *end = start + size_bytes;
    if (start_offset % XIP_CACHE_LINE_SIZE || size_bytes % XIP_CACHE_LINE_SIZE)
        complain("xip_cache_clean_range takes whole cache lines");
    standin_cache_cleans++;
    for (int i = 0; i < 64; i++) {
        const uint8_t *block = (const uint8_t *)psram_blocks[i];
        if (!block || end <= block || start >= block + psram_sizes[i]) continue;
        const uint8_t *a = start > block ? start : block, *z = end < block + psram_sizes[i] ? end : block + psram_sizes[i];
        memcpy(psram_behind[i] + (a - block), a, (size_t)(z - a));
    }
}

extern "C" int dma_claim_unused_channel(bool required) {
    (void)required;
    if (claimed >= 0) complain("the port claimed a second DMA channel");
    return claimed = 3;
}

extern "C" dma_channel_config_t dma_channel_get_default_config(uint channel) {
    dma_channel_config_t c;
    (void)channel;
    c.ctrl = CFG_READ_INCR | (uint32_t)DMA_SIZE_32 << CFG_SIZE_SHIFT | 0x3Fu << CFG_DREQ_SHIFT; /* DREQ_FORCE */
    return c;
}
extern "C" void channel_config_set_transfer_data_size(dma_channel_config_t *c, dma_channel_transfer_size_t size) {
    c->ctrl = (c->ctrl & ~(3u << CFG_SIZE_SHIFT)) | (uint32_t)size << CFG_SIZE_SHIFT;
}
extern "C" void channel_config_set_read_increment(dma_channel_config_t *c, bool incr) {
    c->ctrl = incr ? c->ctrl | CFG_READ_INCR : c->ctrl & ~(uint32_t)CFG_READ_INCR;
}
extern "C" void channel_config_set_write_increment(dma_channel_config_t *c, bool incr) {
    c->ctrl = incr ? c->ctrl | CFG_WRITE_INCR : c->ctrl & ~(uint32_t)CFG_WRITE_INCR;
}
extern "C" void channel_config_set_dreq(dma_channel_config_t *c, uint dreq) {
    c->ctrl = (c->ctrl & ~(0x3Fu << CFG_DREQ_SHIFT)) | (uint32_t)dreq << CFG_DREQ_SHIFT;
}

/* The XIP stream's copy: STREAM_ADDR's words, STREAM_CTR of them, read
 * from the FIFO's one address into ascending words. */
extern "C" void dma_channel_configure(uint channel, const dma_channel_config_t *config, volatile void *write_addr,
                                      const volatile void *read_addr, uint32_t encoded_transfer_count,
                                      bool trigger) {
    uint32_t c = config->ctrl, count = encoded_transfer_count & 0x0FFFFFFFu;
    if ((int)channel != claimed) complain("DMA on a channel the port did not claim");
    if (!trigger) complain("the stream's DMA was configured but not started");
    if (job.busy) complain("a DMA copy started while one is in flight");
    if (read_addr != (const volatile void *)XIP_AUX_BASE) complain("the DMA does not read the XIP stream FIFO");
    if (c & CFG_READ_INCR) complain("the DMA increments its read address: the FIFO is one address");
    if (!(c & CFG_WRITE_INCR)) complain("the DMA does not increment its write address");
    if (((c >> CFG_SIZE_SHIFT) & 3u) != (uint32_t)DMA_SIZE_32) complain("the stream's DMA is not word-sized");
    if (((c >> CFG_DREQ_SHIFT) & 0x3Fu) != DREQ_XIP_STREAM) complain("the stream's DMA is not paced by DREQ_XIP_STREAM");
    if (standin_xip_ctrl.stream_ctr != count || count == 0) complain("STREAM_CTR is not the DMA's word count");
    if (standin_xip_ctrl.stream_addr % 4u || (uintptr_t)write_addr % 4u) complain("the stream's addresses are not words");
    if (in_psram((const void *)standin_xip_ctrl.stream_addr) && psram_unclean)
        complain("DMA reads PSRAM written since the XIP cache was last cleaned");
    job.dst = (uint8_t *)write_addr;
    job.src = (const uint8_t *)standin_xip_ctrl.stream_addr;
    job.n = (size_t)count * 4u;
    if (in_psram(job.src)) { /* the stream reads the chip, not the cache */
        job.src = behind_cache(job.src, job.n);
        if (!job.src) complain("a DMA copy runs past its PSRAM block");
    }
    job.busy = true;
    memset(job.dst, 0xFF, job.n);
    standin_xip_ctrl.stream_ctr = 0;
    standin_dma_copies++;
}

extern "C" void dma_channel_wait_for_finish_blocking(uint channel) {
    if ((int)channel != claimed) complain("waiting on a channel the port did not claim");
    if (job.busy) memcpy(job.dst, job.src, job.n);
    job.busy = false;
}
