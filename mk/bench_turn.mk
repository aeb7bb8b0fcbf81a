# The TURN server benchmark (issue #3 §7): icelab serve against coturn and
# the kernel's floor, on loopback. bench/turn/README.md says how to read it.
#   make bench-turn                           build and run (about 3 minutes):
#                                             table and ratios on stdout,
#                                             reports/bench/turn.json
#   make bench-turn BENCH_TURN_ARGS=--quick   a smoke run (one short round)
# Needs build/icelab and turnserver (coturn); not part of `all`.

BENCH_TURN_DIR := $(BUILD)/bench/turn
BENCH_TURN_COMMON := $(BENCH_TURN_DIR)/bt_common.o
BENCH_TURN_BINS := $(BENCH_TURN_DIR)/turn_loadgen $(BENCH_TURN_DIR)/turn_echo_peer \
	$(BENCH_TURN_DIR)/turn_floor_binding $(BENCH_TURN_DIR)/turn_floor_forward
BENCH_TURN_ARGS ?=
# Until the Makefile includes this file, `make -f Makefile -f
# mk/bench_turn.mk bench-turn` works too: the sub-make reads both.
BENCH_TURN_SUBMAKE := $(if $(shell grep -qs '^include mk/bench_turn.mk' Makefile && echo y),,\
	-f Makefile -f mk/bench_turn.mk)

$(BENCH_TURN_DIR)/turn_loadgen: $(BENCH_TURN_DIR)/loadgen.o $(BENCH_TURN_COMMON) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH_TURN_DIR)/turn_echo_peer: $(BENCH_TURN_DIR)/echo_peer.o $(BENCH_TURN_COMMON)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $^ -lpthread

$(BENCH_TURN_DIR)/turn_floor_binding: $(BENCH_TURN_DIR)/floor_binding.o $(BENCH_TURN_COMMON)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $^ -lpthread

$(BENCH_TURN_DIR)/turn_floor_forward: $(BENCH_TURN_DIR)/floor_forward.o $(BENCH_TURN_COMMON)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $^ -lpthread

.PHONY: bench-turn bench-turn-build
bench-turn-build: $(BENCH_TURN_BINS) $(ICELAB)

bench-turn: deps
	@$(MAKE) --no-print-directory $(BENCH_TURN_SUBMAKE) bench-turn-build
	@mkdir -p reports/bench
	@python3 bench/turn/run.py --icelab $(ICELAB) --bin-dir $(BENCH_TURN_DIR) \
		--json reports/bench/turn.json $(BENCH_TURN_ARGS)

-include $(wildcard $(BENCH_TURN_DIR)/*.d)
