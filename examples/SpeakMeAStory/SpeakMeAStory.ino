// SpeakMeAStory: reads stories aloud through BackgroundAudio's espeak-ng
// speech on a PWM pin (GPIO 4 here; a small speaker or an amplifier).
// Needs the BackgroundAudio library (Library Manager: "BackgroundAudio");
// PicoLlama itself does not depend on it.
//
// Speech is queued a sentence at a time, as sentences complete: speak()
// takes text all or nothing into a 1024-byte buffer, so a whole story at
// once would be dropped past 1 KB, and waiting for room keeps every word.
#include <BackgroundAudioSpeech.h>
#include <PWMAudio.h>
#include <PicoLlama.h>
#include <libespeak-ng/voice/en.h>
#include <models/stories_model.h>

PWMAudio audio(4);
BackgroundAudioSpeech speech(audio);
PicoLlama llama;

static char sentence[512];  // well under speak()'s 1024 bytes
static size_t sentenceLen = 0;

static void speakSentence() {
  if (sentenceLen == 0) return;
  sentence[sentenceLen] = '\0';
  while (speech.speak(sentence) == 0) {
    delay(10);  // no room yet: wait for speech to catch up
  }
  sentenceLen = 0;
}

static void speakPiece(const char *piece) {
  if (!piece) {  // the end of the story
    speakSentence();
    return;
  }
  for (const char *p = piece; *p; p++) {
    if (sentenceLen + 1 >= sizeof(sentence)) speakSentence();
    sentence[sentenceLen++] = *p;
    if (*p == '.' || *p == '!' || *p == '?' || *p == '\n') speakSentence();
  }
}

void setup() {
  speech.setVoice(voice_en);
  speech.begin();
  speech.setRate(80);  // after begin(): begin() sets the voice's defaults
  // Weights in PSRAM, not SRAM: espeak-ng allocates from the SRAM heap as
  // it speaks, and a story is told far faster than it is spoken.
  llama.setPlacement(PicoLlama::PlacePSRAM);
  llama.setModel(stories_model, stories_model_len);
  llama.setOutputCB(speakPiece);
  llama.setSeed(rp2040.hwrand32());
  llama.setTemperature(0.8f);
  llama.setTopP(0.9f);
}

void loop() {
  llama.generate("");
  while (!speech.done()) {
    delay(100);
  }
  delay(2000);
}
