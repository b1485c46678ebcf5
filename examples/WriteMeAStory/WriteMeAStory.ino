// WriteMeAStory: tells a story over Serial, then tells one from every line
// you send (the prompt). Board: an RP2350 with PSRAM (Tools > PSRAM Size).
#include <PicoLlama.h>
#include <models/stories_model.h>

PicoLlama llama;
static char prompt[256];
static size_t promptLen = 0;

static void printPiece(const char *piece) {
  if (piece) {
    Serial.print(piece);
  } else {
    Serial.println();  // the end of the story
    Serial.print("\nYour prompt> ");
  }
}

void setup() {
  Serial.begin(115200);
  while (!Serial) {
    delay(10);
  }
  if (!llama.setModel(stories_model, stories_model_len)) {
    Serial.printf("PicoLlama: %s\n", llama.errorMessage());
    return;
  }
  llama.setOutputCB(printPiece);
  llama.setTemperature(0.8f);
  llama.setTopP(0.9f);
  if (!llama.generate("")) {
    Serial.printf("PicoLlama: %s\n", llama.errorMessage());
  }
}

void loop() {
  while (Serial.available() > 0) {
    int c = Serial.read();
    if (c == '\r') continue;
    if (c == '\n') {
      prompt[promptLen] = '\0';
      Serial.println(prompt);
      if (!llama.generate(prompt)) {
        Serial.printf("PicoLlama: %s\nYour prompt> ", llama.errorMessage());
      }
      promptLen = 0;
    } else if (promptLen + 1 < sizeof(prompt)) {
      prompt[promptLen++] = (char)c;
    }
  }
}
