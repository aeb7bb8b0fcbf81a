# The simulator's stateful fuzz target (issue #4 §5): fuzz/sim_session.c,
# linked with sim/*.c compiled by each fuzzer's compiler (the pattern
# rules of mk/fuzz.mk build the objects) and libpcap. Include after
# mk/fuzz.mk and mk/sim.mk:   include mk/sim_fuzz.mk
#   make sim-fuzz          build/fuzz/libfuzzer/sim_session (and the AFL++ build)
#   make sim-fuzz-smoke    a short libFuzzer run (SIM_FUZZ_SECONDS, default 20)

SIM_FUZZ_SECONDS ?= 20
SIM_FUZZ_LF_LIB := $(FUZZ_BUILD)/libfuzzer/libicelab_sim.a
SIM_FUZZ_AFL_LIB := $(FUZZ_BUILD)/afl/libicelab_sim.a
SIM_FUZZ_LF_OBJS := $(SIM_SRCS:%.c=$(FUZZ_BUILD)/libfuzzer/obj/%.o)
SIM_FUZZ_AFL_OBJS := $(SIM_SRCS:%.c=$(FUZZ_BUILD)/afl/obj/%.o)
SIM_FUZZ_LF_BIN := $(FUZZ_BUILD)/libfuzzer/sim_session
SIM_FUZZ_AFL_BIN := $(FUZZ_BUILD)/afl/sim_session

$(SIM_FUZZ_LF_LIB): $(SIM_FUZZ_LF_OBJS)
	rm -f $@ && ar rcs $@ $^
$(SIM_FUZZ_AFL_LIB): $(SIM_FUZZ_AFL_OBJS)
	rm -f $@ && ar rcs $@ $^

# Explicit rules: they win over mk/fuzz.mk's pattern rules, which know
# nothing of the simulator's archive.
$(SIM_FUZZ_LF_BIN): $(FUZZ_BUILD)/libfuzzer/obj/fuzz/sim_session.o $(SIM_FUZZ_LF_LIB) \
		$(FUZZ_BUILD)/libfuzzer/libicelab.a
	$(FUZZ_CC) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS) $(SIM_LDLIBS)
$(SIM_FUZZ_AFL_BIN): $(FUZZ_BUILD)/afl/obj/fuzz/sim_session.o $(SIM_FUZZ_AFL_LIB) \
		$(FUZZ_BUILD)/afl/libicelab.a
	$(FUZZ_AFL_ENV) $(FUZZ_AFL_CC) $(FUZZ_AFL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS) $(SIM_LDLIBS)

.PHONY: sim-fuzz sim-fuzz-smoke
sim-fuzz: $(SIM_FUZZ_LF_BIN) $(SIM_FUZZ_AFL_BIN)

# Inputs are at most 64 bytes (the harness ignores longer ones).
sim-fuzz-smoke: $(SIM_FUZZ_LF_BIN)
	@mkdir -p $(FUZZ_BUILD)/smoke/sim_session/corpus $(FUZZ_BUILD)/artifacts/sim_session fuzz/regressions/sim_session
	@$(SIM_FUZZ_LF_BIN) $(FUZZ_BUILD)/smoke/sim_session/corpus fuzz/regressions/sim_session \
		-max_total_time=$(SIM_FUZZ_SECONDS) -max_len=64 -timeout=20 -rss_limit_mb=2048 \
		-artifact_prefix=$(FUZZ_BUILD)/artifacts/sim_session/ -print_final_stats=1 \
		>$(FUZZ_BUILD)/smoke/sim_session/log 2>&1 || \
		{ tail -n 40 $(FUZZ_BUILD)/smoke/sim_session/log; exit 1; }
	@echo "sim-fuzz-smoke: $$(sed -n 's/^stat::number_of_executed_units: *//p' \
		$(FUZZ_BUILD)/smoke/sim_session/log) runs, $$(grep -o 'cov: [0-9]*' \
		$(FUZZ_BUILD)/smoke/sim_session/log | tail -n1)"

.SECONDARY: $(SIM_FUZZ_LF_OBJS) $(SIM_FUZZ_AFL_OBJS) \
	$(FUZZ_BUILD)/libfuzzer/obj/fuzz/sim_session.o $(FUZZ_BUILD)/afl/obj/fuzz/sim_session.o

-include $(SIM_FUZZ_LF_OBJS:.o=.d) $(SIM_FUZZ_AFL_OBJS:.o=.d)
