// TypeMeAStory: press BOOTSEL and the board types a story into whatever has
// the keyboard focus, as a USB keyboard. (Tools > USB Stack: Pico SDK.)
#include <Keyboard.h>
#include <PicoLlama.h>
#include <models/stories_model.h>

PicoLlama llama;

static void typePiece(const char *piece) {
  if (piece) {
    Keyboard.print(piece);
  } else {
    Keyboard.print("\n");
  }
}

void setup() {
  Keyboard.begin();
  llama.setModel(stories_model, stories_model_len);
  llama.setOutputCB(typePiece);
  llama.setTemperature(0.8f);
  llama.setTopP(0.9f);
}

void loop() {
  if (BOOTSEL) {
    while (BOOTSEL) {
      delay(1);  // wait for the release
    }
    if (!llama.generate("")) {
      Keyboard.print("PicoLlama: ");
      Keyboard.print(llama.errorMessage());
      Keyboard.print("\n");
    }
  }
}
