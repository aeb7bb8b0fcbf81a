# Fuzz targets (fuzz/README.md). Included at the end of the Makefile.
#   make fuzz                   every target for libFuzzer and AFL++ (+ CmpLog)
#   make fuzz-build-libfuzzer   build/fuzz/libfuzzer/<target> only
#   make fuzz-replay            every fuzz/regressions/<target>/ input once
#   make fuzz-smoke             each target a few seconds under libFuzzer
# The library is compiled again per fuzzer, with that fuzzer's compiler and
# instrumentation: build/libicelab.a is gcc-built and uninstrumented.

FUZZ_TARGETS := stun_decode stun_stream channeldata ice_sdp
FUZZ_TARGETS += sbc_srtp
FUZZ_BUILD := build/fuzz
FUZZ_CC ?= clang
FUZZ_AFL_CC ?= afl-clang-fast
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_SMOKE_RUNS ?= 3000000
FUZZ_TARGETS += ng_bencode

FUZZ_CFLAGS := -std=c17 -Wall -Wextra -Werror -Wshadow -Wvla -g -D_GNU_SOURCE \
	-Iref/include -Ifuzz -MMD -MP -fno-omit-frame-pointer
FUZZ_LF_CFLAGS := $(FUZZ_CFLAGS) -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all
FUZZ_AFL_CFLAGS := $(FUZZ_CFLAGS) -O2
# AFL++ adds ASan and UBSan itself when asked; the CmpLog build, which only
# feeds comparison operands back to the fuzzer, runs without sanitizers.
FUZZ_AFL_ENV := AFL_QUIET=1 AFL_USE_ASAN=1 AFL_USE_UBSAN=1
FUZZ_CMPLOG_ENV := AFL_QUIET=1 AFL_LLVM_CMPLOG=1

# The sans-I/O cores only: ref/io is the libevent driver, never fuzzed
# here. Each build gets its own archive so a target links only the objects
# it uses.
FUZZ_LIB_SRCS := $(filter-out ref/io/%,$(LIB_SRCS))
FUZZ_HARNESS_SRCS := $(FUZZ_TARGETS:%=fuzz/%.c)
FUZZ_LF_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_BUILD)/libfuzzer/obj/%.o)
FUZZ_AFL_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_BUILD)/afl/obj/%.o)
FUZZ_CMPLOG_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_BUILD)/afl-cmplog/obj/%.o)
FUZZ_LF_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/libfuzzer/%)
FUZZ_AFL_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/afl/%)
FUZZ_CMPLOG_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/afl-cmplog/%)

.PHONY: fuzz fuzz-build-libfuzzer fuzz-build-afl fuzz-corpus fuzz-replay fuzz-smoke

fuzz: fuzz-build-libfuzzer fuzz-build-afl fuzz-corpus
fuzz-build-libfuzzer: $(FUZZ_LF_BINS)
fuzz-build-afl: $(FUZZ_AFL_BINS) $(FUZZ_CMPLOG_BINS)

# Seeds from vectors/, rebuilt every time: vectors come and go.
fuzz-corpus:
	@python3 fuzz/seed.py vectors $(FUZZ_BUILD)/corpus

fuzz-replay: fuzz-build-libfuzzer
	@bash fuzz/replay.sh $(FUZZ_BUILD)/libfuzzer $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build-libfuzzer fuzz-corpus
	@FUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS) FUZZ_SMOKE_RUNS=$(FUZZ_SMOKE_RUNS) \
		bash fuzz/smoke.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

$(FUZZ_BUILD)/libfuzzer/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LF_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/afl/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_AFL_ENV) $(FUZZ_AFL_CC) $(FUZZ_AFL_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/afl-cmplog/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CMPLOG_ENV) $(FUZZ_AFL_CC) $(FUZZ_AFL_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libfuzzer/libicelab.a: $(FUZZ_LF_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
$(FUZZ_BUILD)/afl/libicelab.a: $(FUZZ_AFL_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
$(FUZZ_BUILD)/afl-cmplog/libicelab.a: $(FUZZ_CMPLOG_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/libfuzzer/%: $(FUZZ_BUILD)/libfuzzer/obj/fuzz/%.o $(FUZZ_BUILD)/libfuzzer/libicelab.a
	$(FUZZ_CC) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# afl-clang-fast turns -fsanitize=fuzzer into AFL++'s persistent-mode
# driver (libAFLDriver.a), so the same entry point serves both fuzzers.
$(FUZZ_BUILD)/afl/%: $(FUZZ_BUILD)/afl/obj/fuzz/%.o $(FUZZ_BUILD)/afl/libicelab.a
	$(FUZZ_AFL_ENV) $(FUZZ_AFL_CC) $(FUZZ_AFL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(FUZZ_BUILD)/afl-cmplog/%: $(FUZZ_BUILD)/afl-cmplog/obj/fuzz/%.o $(FUZZ_BUILD)/afl-cmplog/libicelab.a
	$(FUZZ_CMPLOG_ENV) $(FUZZ_AFL_CC) $(FUZZ_AFL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# Keep the objects: make would otherwise delete them as intermediates.
.SECONDARY: $(FUZZ_LF_LIB_OBJS) $(FUZZ_AFL_LIB_OBJS) $(FUZZ_CMPLOG_LIB_OBJS) \
	$(FUZZ_TARGETS:%=$(FUZZ_BUILD)/libfuzzer/obj/fuzz/%.o) \
	$(FUZZ_TARGETS:%=$(FUZZ_BUILD)/afl/obj/fuzz/%.o) \
	$(FUZZ_TARGETS:%=$(FUZZ_BUILD)/afl-cmplog/obj/fuzz/%.o)

-include $(FUZZ_LF_LIB_OBJS:.o=.d) $(FUZZ_AFL_LIB_OBJS:.o=.d) $(FUZZ_CMPLOG_LIB_OBJS:.o=.d) \
	$(FUZZ_HARNESS_SRCS:%.c=$(FUZZ_BUILD)/libfuzzer/obj/%.d) \
	$(FUZZ_HARNESS_SRCS:%.c=$(FUZZ_BUILD)/afl/obj/%.d) \
	$(FUZZ_HARNESS_SRCS:%.c=$(FUZZ_BUILD)/afl-cmplog/obj/%.d)
