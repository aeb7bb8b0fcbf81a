# The conformance harness (issue #6, conformance/README.md): conformance/*.c
# and the embedded requirement catalogue into build/libicelab_conformance.a,
# its cmocka tests into build/conformance/tests/test_*, a stand-alone
# build/conformance/check_main (`icelab check` for the shell tests), and
# the `icelab check` verb (cli/check_cmd.c) linked into the icelab binary.
# Include after LIB, ICELAB and LDLIBS are defined:
#   include mk/conformance.mk

CONF_SRCS := $(filter-out %/tests/%,$(wildcard conformance/*.c))
CONF_REQS := $(sort $(wildcard conformance/requirements/*.req))
CONF_GEN := $(BUILD)/conformance/requirements_data.c
CONF_OBJS := $(CONF_SRCS:%.c=$(BUILD)/%.o) $(CONF_GEN:.c=.o)
CONF_LIB := $(BUILD)/libicelab_conformance.a
CONF_TEST_SRCS := $(wildcard conformance/tests/test_*.c)
CONF_TEST_BINS := $(CONF_TEST_SRCS:%.c=$(BUILD)/%)
CONF_MAIN := $(BUILD)/conformance/check_main

all: $(CONF_LIB) $(CONF_TEST_BINS) $(CONF_MAIN)

$(CONF_GEN): $(CONF_REQS) conformance/gen_requirements.sh
	@mkdir -p $(dir $@)
	sh conformance/gen_requirements.sh $(CONF_REQS) > $@.tmp && mv $@.tmp $@

$(CONF_GEN:.c=.o): $(CONF_GEN)
	$(CC) $(CFLAGS) -c $< -o $@

$(CONF_SRCS:%.c=$(BUILD)/%.o) $(CONF_TEST_SRCS:%.c=$(BUILD)/%.o) \
	$(BUILD)/conformance/tests/check_main.o $(BUILD)/cli/check_cmd.o: CFLAGS += -Iconformance -Icli

$(CONF_LIB): $(CONF_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# The ice-agent suite drives agents in the simulator: $(SIM_LIB) after $(CONF_LIB).
$(BUILD)/conformance/tests/%: $(BUILD)/conformance/tests/%.o $(CONF_LIB) $(SIM_LIB) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(CONF_LIB) $(SIM_LIB) $(LIB) $(TEST_LDLIBS) $(SIM_LDLIBS)

$(CONF_MAIN): $(BUILD)/conformance/tests/check_main.o $(BUILD)/cli/check_cmd.o \
		$(BUILD)/cli/util.o $(CONF_LIB) $(SIM_LIB) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $(filter %.o,$^) $(CONF_LIB) $(SIM_LIB) $(LIB) $(LDLIBS) $(SIM_LDLIBS)

# The icelab binary carries `icelab check` (cli/check_cmd.o is in CLI_OBJS).
$(ICELAB): $(CONF_LIB)
$(ICELAB): LDLIBS += $(CONF_LIB) $(SIM_LIB) $(LIB) -ljansson $(SIM_LDLIBS)

.PHONY: conformance-build
conformance-build: $(CONF_LIB) $(CONF_TEST_BINS) $(CONF_MAIN)

-include $(CONF_OBJS:.o=.d) $(CONF_TEST_SRCS:%.c=$(BUILD)/%.d) $(BUILD)/conformance/tests/check_main.d

# The robustness corpus of turn-security: the foundation's cve-*, bad-*,
# edge-* and cd-bad-* vectors embedded (conformance/gen_vectors.sh).
CONF_VECS := $(sort $(wildcard vectors/own/cve-*.json vectors/own/bad-*.json \
	vectors/own/edge-*.json vectors/own/cd-bad-*.json))
CONF_VEC_GEN := $(BUILD)/conformance/vectors_data.c
$(CONF_VEC_GEN): $(CONF_VECS) conformance/gen_vectors.sh
	@mkdir -p $(dir $@)
	sh conformance/gen_vectors.sh $(CONF_VECS) > $@.tmp && mv $@.tmp $@
$(CONF_VEC_GEN:.c=.o): $(CONF_VEC_GEN)
	$(CC) $(CFLAGS) -c $< -o $@
$(CONF_LIB): $(CONF_VEC_GEN:.c=.o)
