// Benchmark: tells a greedy story and prints how fast, how much memory,
// and where the weights were placed (the class's rule: SRAM, then PSRAM).
#include <PicoLlama.h>
#include <models/stories_model.h>

PicoLlama llama;

static void quiet(const char *piece) { (void)piece; }

void setup() {
  Serial.begin(115200);
  while (!Serial) {
    delay(10);
  }
  if (!llama.setModel(stories_model, stories_model_len)) {
    Serial.printf("PicoLlama: %s\n", llama.errorMessage());
    return;
  }
  llama.setOutputCB(quiet);
  llama.setTemperature(0.0f);  // greedy: the same work on every run
  const pl_model_info *m = llama.modelInfo();
  Serial.printf("model: dim %d, hidden %d, %d layers, %d heads, vocab %d, context %d\n", m->dim,
                m->hidden_dim, m->n_layers, m->n_heads, m->vocab_size, m->seq_len);
  Serial.printf("memory: SRAM (fast pool) %u bytes, PSRAM (large pool) %u bytes\n",
                (unsigned)llama.sramBytes(), (unsigned)llama.psramBytes());
  const pl_memory_plan *p = llama.memoryPlan();
  Serial.printf("weights: %u bytes in flash, %u copied to PSRAM, %u to SRAM in %.1f ms\n",
                (unsigned)p->weight_bytes[PL_PLACE_IN_PLACE], (unsigned)p->weight_bytes[PL_PLACE_LARGE],
                (unsigned)p->weight_bytes[PL_PLACE_FAST], (double)llama.copyMs());
}

void loop() {
  if (!llama.generate("Once upon a time", 128)) {
    Serial.printf("PicoLlama: %s\n", llama.errorMessage());
    delay(1000);
    return;
  }
  const PicoLlama::Stats &s = llama.stats();
  Serial.printf("%u tokens: %.1f ms per token, %.2f tokens/s (prompt: %u tokens, %.1f ms)\n",
                s.generatedTokens, (double)s.msPerToken, (double)s.tokensPerSecond, s.promptTokens,
                (double)s.promptMs);
  delay(5000);
}
