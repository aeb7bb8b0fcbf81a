# icelab: the single entry point. See README.md.
#   make            libicelab.a and the icelab binary under build/
#   make test       deps, build, unit + vector tests, ASan/UBSan, fuzz replay and smoke
#   make demo       deps, build, and the main job on its embedded default
#   make deps       installs missing Debian packages
#   make fuzz       builds every fuzz target for libFuzzer and AFL++
#   make bench      the STUN codec benchmark
#   make coverage   line coverage of ref/

CC ?= cc
BUILD ?= build
OPT ?= -O2
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=

CFLAGS := -std=c17 -Wall -Wextra -Werror -Wshadow -Wvla -g $(OPT) -D_GNU_SOURCE \
	-Iref/include -MMD -MP $(EXTRA_CFLAGS)
LDLIBS := -levent -levent_openssl -levent_pthreads -lssl -ljansson -lidn -lz -lcrypto -lpthread
LDLIBS += -lsrtp2
TEST_LDLIBS := -lcmocka $(LDLIBS)

LIB_SRCS := $(filter-out %/tests/%,$(wildcard ref/*/*.c))
CLI_SRCS := $(wildcard cli/*.c)
TEST_SRCS := $(wildcard ref/*/tests/test_*.c)
VEC_SRCS := vectors/vector_runner.c

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_BINS := $(TEST_SRCS:%.c=$(BUILD)/%)
VEC_BIN := $(BUILD)/vectors/vector_runner

LIB := $(BUILD)/libicelab.a
ICELAB := $(BUILD)/icelab

.PHONY: all deps test demo fuzz fuzz-smoke bench coverage clean unit-tests vector-tests asan-tests
all: $(LIB) $(ICELAB) $(TEST_BINS) $(VEC_BIN)

deps:
	@bash scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(ICELAB): $(CLI_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/ref/%: $(BUILD)/ref/%.o $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(LIB) $(TEST_LDLIBS)

$(VEC_BIN): $(BUILD)/vectors/vector_runner.o $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The whole test run; scripts/test.sh prints the closing "N passed, N failed".
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" all
	@$(MAKE) --no-print-directory fuzz-build-libfuzzer
	@bash scripts/test.sh

# The main job on its embedded default: every conformance suite against the
# built-in reference (in-process, virtual time: nothing on the network),
# reports under reports/; the codec's vector table first.
demo: deps
	@$(MAKE) --no-print-directory all
	@$(VEC_BIN) --table vectors
	@$(ICELAB) check --target builtin --out reports

coverage: deps
	@$(MAKE) --no-print-directory BUILD=build/coverage OPT=-O0 \
		EXTRA_CFLAGS="--coverage" EXTRA_LDFLAGS="--coverage" all
	@find build/coverage -name '*.gcda' -delete
	@for t in $(TEST_SRCS:%.c=build/coverage/%); do $$t >/dev/null 2>&1 || true; done
	@build/coverage/vectors/vector_runner vectors >/dev/null 2>&1 || true
	@ICELAB=build/coverage/icelab python3 cli/tests/crosscheck.py >/dev/null 2>&1 || true
	@# The drivers (ref/io) are exercised by the interop scripts, through icelab.
	@for t in ref/io/tests/*.sh; do ICELAB=build/coverage/icelab timeout 120 bash $$t >/dev/null 2>&1 || true; done
	@gcovr --root . --filter 'ref/' --exclude '.*/tests/.*' --object-directory build/coverage \
		--print-summary --txt build/coverage/coverage.txt >/dev/null
	@cat build/coverage/coverage.txt | tail -n 40

clean:
	rm -rf build

include mk/fuzz.mk
include mk/bench.mk
include mk/sim.mk
include mk/pcaps.mk
include mk/ice_interop.mk
include mk/sim_fuzz.mk
include mk/conformance.mk
include mk/bench_ice.mk
include mk/bench_turn.mk
include mk/bench_pcap.mk
include mk/bench_sbc.mk

# make bench: the STUN codec (mk/bench.mk), ICE (mk/bench_ice.mk), the NAT
# simulator (mk/sim.mk), the capture analyser against tshark (mk/bench_pcap.mk)
# and the TURN server against coturn (mk/bench_turn.mk).
bench: bench-ice sim-bench bench-pcap bench-turn bench-sbc

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(TEST_SRCS:%.c=$(BUILD)/%.d) $(VEC_BIN).d
