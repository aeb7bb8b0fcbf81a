# The NAT simulator (issue #4 §1-§2): sim/*.c into build/libicelab_sim.a
# (its own archive: it links libpcap, which libicelab does not need), its
# cmocka tests into build/sim/tests/test_*, and the `icelab sim` verb
# (cli/sim_cmd.c) linked against it. Include after LIB, ICELAB and LDLIBS
# are defined:  include mk/sim.mk

SIM_SRCS := $(filter-out %/tests/%,$(wildcard sim/*.c))
SIM_OBJS := $(SIM_SRCS:%.c=$(BUILD)/%.o)
SIM_LIB := $(BUILD)/libicelab_sim.a
SIM_TEST_SRCS := $(wildcard sim/tests/test_*.c)
SIM_TEST_BINS := $(SIM_TEST_SRCS:%.c=$(BUILD)/%)
SIM_LDLIBS := -lpcap -lm

all: $(SIM_LIB) $(SIM_TEST_BINS)

$(SIM_LIB): $(SIM_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/sim/tests/%: $(BUILD)/sim/tests/%.o $(SIM_LIB) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(SIM_LIB) $(LIB) $(TEST_LDLIBS) $(SIM_LDLIBS)

# The icelab binary carries `icelab sim`: the sim archive first, then the
# library it uses.
$(ICELAB): $(SIM_LIB)
$(ICELAB): LDLIBS := $(SIM_LIB) $(LIB) $(LDLIBS) $(SIM_LDLIBS)

.PHONY: sim-build
sim-build: $(SIM_LIB) $(SIM_TEST_BINS)

-include $(SIM_OBJS:.o=.d) $(SIM_TEST_SRCS:%.c=$(BUILD)/%.d)

# Packets per second through one NAT router (not part of `all`).
#   make -f Makefile sim-bench [SIM_BENCH_ARGS="2 symmetric"]
SIM_BENCH_BIN := $(BUILD)/sim/bench/nat_bench
SIM_BENCH_ARGS ?= 2

$(SIM_BENCH_BIN): $(BUILD)/sim/bench/nat_bench.o $(SIM_LIB) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(SIM_LIB) $(LIB) $(LDLIBS) $(SIM_LDLIBS)

.PHONY: sim-bench
sim-bench: $(SIM_BENCH_BIN) $(ICELAB)
	@$(SIM_BENCH_BIN) $(SIM_BENCH_ARGS)
	@# The whole ICE matrix (every preset pair x relay option), wall time.
	@$(ICELAB) sim matrix --out $(BUILD)/sim-bench | grep -E "cells|wall"
