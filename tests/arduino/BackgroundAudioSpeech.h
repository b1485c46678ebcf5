/*
 * Stand-in for BackgroundAudio's espeak-ng speech with its real contract:
 * speak() copies text all or nothing into a 1024-byte buffer and returns 0
 * when there is no room; the buffer drains as time passes (delay()). What is
 * spoken goes to $ARDUINO_SPEECH_LOG, in order; misuse (setRate before
 * begin, text of 1024 bytes or more, speaking before begin) is reported on
 * stderr and fails the run. Tests only.
 */
#ifndef BACKGROUNDAUDIOSPEECH_STANDIN_H
#define BACKGROUNDAUDIOSPEECH_STANDIN_H
#include "Arduino.h"
#include "PWMAudio.h"

struct BackgroundAudioVoice {
    const char *name;
};

class BackgroundAudioSpeech {
public:
    explicit BackgroundAudioSpeech(PWMAudio &out) : out_(out) {}
    void setVoice(const BackgroundAudioVoice &v) { voice_ = &v; }
    bool begin();
    void setRate(int wpm);
    size_t speak(const char *text);
    bool done();
private:
    PWMAudio &out_;
    const BackgroundAudioVoice *voice_ = nullptr;
    bool begun_ = false;
};
void standin_speech_drain(unsigned long ms);
#endif
