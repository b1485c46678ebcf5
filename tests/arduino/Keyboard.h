/* Stand-in for arduino-pico's USB keyboard: records what is typed in the
 * file named by $ARDUINO_KEYBOARD_LOG. Tests only. */
#ifndef KEYBOARD_STANDIN_H
#define KEYBOARD_STANDIN_H
#include "Arduino.h"

class KeyboardStandIn {
public:
    void begin() { begun_ = true; }
    size_t print(const char *s);
private:
    bool begun_ = false;
};
extern KeyboardStandIn Keyboard;
#endif
