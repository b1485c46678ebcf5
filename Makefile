# PicoLlama: host build, tests and benchmarks.
#   make              build/picollama
#   make run          build it and tell a story with the built-in model
#   make test         every test: unit, command line, golden (with ../shared),
#                     the same under ASan+UBSan, and the Cortex-M33 image
#   make bench        host tokens/s on stories260K (../shared)
#   make bench-m33    RP2350 board time per token of whole stories: the
#                     board model (docs/board-model.md) on the emulated M33

CC      ?= cc
# No -ffp-contract flag: the engine's sources keep every product unfused
# themselves (src/pl_strict_float.h), so any build a user makes, the Arduino
# IDE's GNU mode included, tells the same stories as llama2.c's run.c.
WARN    := -Wall -Wextra -Wdouble-promotion -Werror
OPT     ?= -O3
CFLAGS  := $(OPT) -std=c99 $(WARN)
LDLIBS  := -lm -lpthread

BUILD   ?= build
SRC     := $(wildcard src/*.c src/kernels/*.c)
TOOLS   := $(wildcard tools/*.c)
TESTS   := test_model test_tokenizer test_sampler test_forward test_engine test_trainer test_bpe test_softfloat
HDRS    := $(wildcard src/*.h src/kernels/*.h tools/*.h tests/*.h)

ENGINE_OBJ := $(SRC:src/%.c=$(BUILD)/obj/src/%.o)
TOOL_OBJ   := $(TOOLS:tools/%.c=$(BUILD)/obj/tools/%.o)
HOST_OBJ   := $(BUILD)/obj/tools/host_platform.o $(BUILD)/obj/tools/cli_args.o
FIXTURE_OBJ := $(BUILD)/obj/tests/fixtures.o $(BUILD)/obj/tools/quantize.o $(BUILD)/obj/tools/convert.o \
               $(BUILD)/obj/tools/tokenizer_writer.o $(BUILD)/obj/tools/output_file.o

.PHONY: all run test test-unit test-sanitize fuzz bench bench-m33 m33 rv32 bench-rv32 arduino models clean check-math check-softfloat quality readme check-docs shapes
all: $(BUILD)/picollama

# The built-in model as shipped (the committed header): models/stories.bin
# (fp32, as trained) and its tokenizer converted to a PicoLlama file in the
# fastest mix whose bits per byte stay within 2% of fp32 (README: make
# quality). Run after replacing models/stories.bin or models/stories-tok.bin.
SHIPPED_FORMAT := --embedding int4 --attention int4 --ffn int4
models: $(BUILD)/picollama
	$(BUILD)/picollama convert models/stories.bin $(BUILD)/stories-shipped.bin -z models/stories-tok.bin $(SHIPPED_FORMAT)
	$(BUILD)/picollama header $(BUILD)/stories-shipped.bin src/models/stories_model.h --name stories_model

# Build, then tell a story with the built-in model.
run: $(BUILD)/picollama
	@$(BUILD)/picollama

$(BUILD)/obj/src/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc -c $< -o $@

# The trainer's products are vectorized by hand (tools/trainer.c, gemm);
# -ffast-math lets the compiler vectorize its other sums and expf too.
# Training is repeatable for a given binary and thread count.
$(BUILD)/obj/tools/trainer.o: tools/trainer.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -ffast-math -Isrc -Itools -c $< -o $@

$(BUILD)/obj/tools/builtin.o: $(wildcard src/models/*.h)

$(BUILD)/obj/tools/%.o: tools/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -D_POSIX_C_SOURCE=200809L -Isrc -Itools -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -D_POSIX_C_SOURCE=200809L -Isrc -Itools -Itests -c $< -o $@

$(BUILD)/picollama: $(ENGINE_OBJ) $(TOOL_OBJ)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -lpthread -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(ENGINE_OBJ) $(FIXTURE_OBJ) $(HOST_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/test_trainer: $(BUILD)/obj/tests/test_trainer.o $(BUILD)/obj/tools/trainer.o $(ENGINE_OBJ) $(FIXTURE_OBJ) $(HOST_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

BPE_OBJ := $(addprefix $(BUILD)/obj/tools/,cli_train_tokenizer.o corpus.o tool_tokenizer.o)
$(BUILD)/tests/test_bpe: $(BUILD)/obj/tests/test_bpe.o $(BPE_OBJ) $(ENGINE_OBJ) $(FIXTURE_OBJ) $(HOST_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/make_fixture: $(BUILD)/obj/tests/make_fixture.o $(FIXTURE_OBJ) $(ENGINE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# ---- the Arduino library on the host stand-in (tests/arduino) ----
CXX      ?= g++
CXXFLAGS := $(OPT) -std=gnu++17 $(WARN) -DARDUINO_ARCH_RP2040
ARDUINO  := $(BUILD)/arduino
SKETCHES := WriteMeAStory TypeMeAStory SpeakMeAStory Benchmark
STANDIN  := tests/arduino/standin.cpp src/PicoLlamaPort.cpp
ARDUINO_DEPS := $(ENGINE_OBJ) $(STANDIN) $(wildcard tests/arduino/*.h tests/arduino/*/*.h tests/arduino/*/*/*.h) src/PicoLlama.h \
                $(wildcard src/models/*.h)

# A sketch as the Arduino IDE builds one: Arduino.h included first.
define sketch
$(CXX) $(CXXFLAGS) -I$(ARDUINO)/$(2) -Itests/arduino -Isrc -include Arduino.h -x c++ examples/$(1)/$(1).ino     -x none tests/arduino/standin_main.cpp $(STANDIN) $(ENGINE_OBJ) $(LDLIBS) -o $(ARDUINO)/$(3)
endef

$(ARDUINO)/stamp: $(ARDUINO_DEPS) tests/arduino/standin_main.cpp tests/arduino/test_class.cpp $(wildcard examples/*/*.ino) \
                  $(FIXTURE_OBJ) $(BUILD)/picollama $(BUILD)/tests/make_fixture
	@mkdir -p $(ARDUINO)/long/models
	$(foreach s,$(SKETCHES),$(call sketch,$(s),none,$(s)) &&) true
	@# SpeakMeAStory again with a long-context model, for stories over 1 KB
	@$(BUILD)/tests/make_fixture model $(ARDUINO)/long/model.bin --seq-len 1024 --vocab 4000 --seed 8
	@$(BUILD)/tests/make_fixture tokenizer $(ARDUINO)/long/tokenizer.bin --vocab 4000
	@$(BUILD)/picollama convert $(ARDUINO)/long/model.bin $(ARDUINO)/long/model.plm -z $(ARDUINO)/long/tokenizer.bin 2>/dev/null
	@$(BUILD)/picollama header $(ARDUINO)/long/model.plm $(ARDUINO)/long/models/stories_model.h --name stories_model
	$(call sketch,SpeakMeAStory,long,SpeakMeAStory-long)
	$(CXX) $(CXXFLAGS) -Itests/arduino -Isrc -Itests tests/arduino/test_class.cpp $(STANDIN) $(FIXTURE_OBJ) \
	    $(ENGINE_OBJ) $(LDLIBS) -o $(ARDUINO)/test_class
	@touch $@

arduino: $(ARDUINO)/stamp

TEST_BINS := $(TESTS:%=$(BUILD)/tests/%) $(BUILD)/tests/make_fixture $(ARDUINO)/stamp

# The command line with the C library's expf/sinf/cosf/powf instead of the
# engine's correctly rounded ones: the golden tests show with it that the C
# library's rounding is the only difference from llama2.c's stories.
LIBM_BUILD := build/libm
$(LIBM_BUILD)/picollama: $(SRC) $(TOOLS) $(HDRS)
	@mkdir -p $(@D)
	$(CC) -O2 -std=c99 $(WARN) -D_POSIX_C_SOURCE=200809L -DPL_LIBM_MATH -Isrc -Itools \
	    $(SRC) $(TOOLS) $(LDLIBS) -lpthread -o $@

# One build's tests: the unit programs, then the command line and goldens.
test-unit: $(BUILD)/picollama $(TEST_BINS) $(LIBM_BUILD)/picollama
	@BUILD=$(BUILD) sh tests/run_suite.sh $(TESTS)

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
test-sanitize:
	@SANITIZED=1 $(MAKE) --no-print-directory BUILD=build/sanitize OPT="$(SAN_FLAGS)" test-unit

test:
	@sh tests/run_all.sh

# Every float input of the engine's expf, sine/cosine and power against the
# C library's long double functions: minutes, so not part of make test.
check-math: $(SRC) tests/check_math.c $(HDRS)
	@mkdir -p $(BUILD)
	$(CC) -O2 -std=c99 $(WARN) -ffp-contract=off -D_POSIX_C_SOURCE=200809L -Isrc tests/check_math.c \
	    src/kernels/pl_math.c -lm -lpthread -o $(BUILD)/check_math
	@$(BUILD)/check_math

# The engine's software float (the Hazard3's) against this machine's FPU: a
# billion operand pairs per class and every int32, about 3 minutes.
check-softfloat: $(BUILD)/tests/test_softfloat
	$(BUILD)/tests/test_softfloat 1000000000 --every-int32

bench: $(BUILD)/picollama
	@sh tools/bench_host.sh

# The command-output blocks of README.md and docs/ (inspect, the sample
# stories, bench-m33, bench-rv32) rewritten from the programs.
readme: $(BUILD)/picollama $(BUILD)/tests/make_fixture
	@sh tools/readme_blocks.sh --update --full

# Every output block of README.md and docs/, the whole board benches among
# them (about half an hour); make test checks all but the full bench blocks.
check-docs: $(BUILD)/picollama $(BUILD)/tests/make_fixture
	@sh tools/readme_blocks.sh --full

# Bits per byte of every weight-type mix on tinystories_valid.txt (about 20
# minutes on two cores; the README's table).
quality: $(BUILD)/picollama
	@sh tools/quality_table.sh

# Model shapes within the board's budget, trained briefly, scored and timed
# on the emulated M33 (about 40 minutes on two cores; the table in
# docs/builtin-model.md).
shapes: $(BUILD)/picollama
	$(NEED_M33)
	@$(MAKE) --no-print-directory -C target/qemu-m33 all
	@sh tools/shape_table.sh

# libFuzzer under ASan and UBSan on every reader: the engine (open and
# generate on hostile models, tokenizers, prompts), the trainer's
# checkpoints, corpora, the tools' tokenizer readers, convert's and
# quantize's inputs, and the command-line parsers (tests/fuzz_*.c), each
# FUZZ_SECONDS from seeds it makes (tests/fuzz_all.sh).
FUZZ_SECONDS ?= 60
FUZZ_CPU_SECONDS ?=
FUZZ_CC ?= clang
FUZZERS := engine checkpoint corpus tokenizer convert args
FUZZ_FLAGS := -std=c99 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              -D_POSIX_C_SOURCE=200809L -Isrc -Itools -Itests
FUZZ_SRC_engine :=
FUZZ_SRC_checkpoint := tools/checkpoint.c tools/output_file.c tools/trainer.c tools/convert.c tools/quantize.c tools/tokenizer_writer.c
FUZZ_SRC_corpus := tools/corpus.c
FUZZ_SRC_tokenizer := tools/tool_tokenizer.c tools/tokenizer_writer.c tools/host_platform.c tools/cli_args.c
FUZZ_SRC_convert := tools/convert.c tools/quantize.c tools/tokenizer_writer.c
FUZZ_SRC_args := tools/cli_args.c tools/convert.c tools/quantize.c tools/tokenizer_writer.c tests/fixtures.c
$(BUILD)/fuzz/fuzz_%: tests/fuzz_%.c tests/fuzz_support.h $(SRC) $(TOOLS) $(HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_SRC_$*) $(SRC) -lm -lpthread -o $@
fuzz: $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%) $(BUILD)/tests/make_fixture $(BUILD)/picollama
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_CPU_SECONDS=$(FUZZ_CPU_SECONDS) sh tests/fuzz_all.sh

# The engine cross-built for the RP2350's Cortex-M33 and run under QEMU;
# without the tools, a sentence saying what to install.
NEED_M33 = @command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null || \
    { echo "m33: needs the Arm cross compiler and QEMU: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"; exit 1; }
NEED_RV32 = @command -v riscv64-unknown-elf-gcc >/dev/null && command -v qemu-system-riscv32 >/dev/null && \
    [ -d /usr/lib/picolibc/riscv64-unknown-elf ] || \
    { echo "rv32: needs the RISC-V cross compiler, picolibc and QEMU: apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc"; exit 1; }
m33:
	$(NEED_M33)
	@$(MAKE) --no-print-directory -C target/qemu-m33 all

bench-m33:
	$(NEED_M33)
	@$(MAKE) --no-print-directory -C target/qemu-m33 bench

# The engine cross-built for the RP2350's Hazard3 RISC-V cores under QEMU.
rv32:
	$(NEED_RV32)
	@$(MAKE) --no-print-directory -C target/qemu-rv32 all

bench-rv32:
	$(NEED_RV32)
	@$(MAKE) --no-print-directory -C target/qemu-rv32 bench

clean:
	rm -rf build
