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

extern "C" void *pmalloc(size_t size) {
    uint8_t *base = (uint8_t *)malloc(size + 4);
    if (!base) return NULL;
    for (int i = 0; i < 64; i++)
        if (!psram_blocks[i]) {
            psram_blocks[i] = base + 4;
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
