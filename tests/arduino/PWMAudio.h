/* Stand-in for BackgroundAudio's PWM output. Tests only. */
#ifndef PWMAUDIO_STANDIN_H
#define PWMAUDIO_STANDIN_H
#include "Arduino.h"
class PWMAudio {
public:
    explicit PWMAudio(int pin) : pin_(pin) {}
private:
    int pin_;
};
#endif
