/* main() for a sketch on the stand-in: setup(), then loop() as many times as
 * the first argument says (3 by default). Fails if the sketch misused an API. */
#include "Arduino.h"

extern int standin_loop_index, standin_misuse;
extern const char *standin_serial_input;
extern size_t standin_speech_calls, standin_speech_largest;

void setup(void);
void loop(void);

int main(int argc, char **argv) {
    int loops = argc > 1 ? atoi(argv[1]) : 3;
    standin_serial_input = getenv("ARDUINO_SERIAL_INPUT");
    setup();
    for (standin_loop_index = 0; standin_loop_index < loops; standin_loop_index++) loop();
    fflush(stdout);
    if (standin_speech_calls)
        fprintf(stderr, "speech: %zu calls, the largest %zu bytes\n", standin_speech_calls, standin_speech_largest);
    fprintf(stderr, "psram: %zu bytes from pmalloc\n", standin_psram_bytes);
    return standin_misuse;
}
