# The ICE benchmark (issue #5 §6): checks processed per second by the agent
# core, and time to connected (virtual ms) in the simulator for host,
# server-reflexive and relayed topologies against their theoretical minimum.
# Not part of `all`. Include after mk/sim.mk (it links the sim archive):
#   include mk/bench_ice.mk
#   make bench-ice                       build and run; reports/bench/ice.json
#   make bench-ice BENCH_ICE_ARGS="--ms 100"

BENCH_ICE_BIN := $(BUILD)/bench/ice/ice_bench
BENCH_ICE_ARGS ?= --ms 500 --json reports/bench/ice.json

$(BENCH_ICE_BIN): $(BUILD)/bench/ice/ice_bench.o $(SIM_LIB) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(SIM_LIB) $(LIB) $(LDLIBS) $(SIM_LDLIBS)

.PHONY: bench-ice bench-ice-build
bench-ice-build: $(BENCH_ICE_BIN)

bench-ice: bench-ice-build
	@mkdir -p reports/bench
	@$(BENCH_ICE_BIN) $(BENCH_ICE_ARGS)

-include $(BUILD)/bench/ice/ice_bench.d
