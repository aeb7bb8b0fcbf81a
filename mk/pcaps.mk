# pcaps/: the capture analyser (issue #7, pcaps/README.md). Included by the
# Makefile after the main rules.
#   build/libicelab_pcaps.a       pcaps/*.c (links with libicelab.a and -lpcap)
#   build/pcaps/tests/test_*      cmocka tests
#   build/pcaps/gen/gen_captures  writes the captures of pcaps/captures/
#   make pcaps-captures           regenerates pcaps/captures/*.pcap*
#   make fuzz-pcap-reader         build/fuzz/libfuzzer/pcap_reader
#   make pcaps-fuzz-smoke         a short libFuzzer run of it (seeded with our captures)
#   make fuzz-pcaps-sip-sdp       build/fuzz/libfuzzer/pcaps_sip_sdp (SIP + SDP parser, call model)
#   make fuzz-pcaps-rtp-rtcp      build/fuzz/libfuzzer/pcaps_rtp_rtcp (RTP header, compound RTCP)
#   make pcaps-fuzz-smoke         also runs those two, seeded from pcaps/fuzz/seeds/
# The icelab binary gets pcaps: cli/pcap_cmd.o sees pcaps/ headers and the
# link adds the archive and libpcap (target-specific variables below).

PCAPS_SRCS := $(filter-out %/tests/% %/gen/%,$(wildcard pcaps/*.c))
PCAPS_OBJS := $(PCAPS_SRCS:%.c=$(BUILD)/%.o)
PCAPS_LIB := $(BUILD)/libicelab_pcaps.a
PCAPS_TEST_SRCS := $(wildcard pcaps/tests/test_*.c)
PCAPS_TEST_BINS := $(PCAPS_TEST_SRCS:%.c=$(BUILD)/%)
PCAPS_GEN := $(BUILD)/pcaps/gen/gen_captures
PCAPS_LDLIBS := -lpcap
PCAPS_LDLIBS += -lsrtp2

all: $(PCAPS_LIB) $(PCAPS_TEST_BINS) $(PCAPS_GEN)

$(PCAPS_OBJS) $(PCAPS_TEST_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/pcaps/gen/gen_captures.o \
	$(BUILD)/cli/pcap_cmd.o: CFLAGS += -Ipcaps

$(PCAPS_LIB): $(PCAPS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/pcaps/tests/%: $(BUILD)/pcaps/tests/%.o $(PCAPS_LIB) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(PCAPS_LIB) $(LIB) $(TEST_LDLIBS) $(PCAPS_LDLIBS)

$(PCAPS_GEN): $(BUILD)/pcaps/gen/gen_captures.o $(BUILD)/pcaps/gen/gen_more.o $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS) $(PCAPS_LDLIBS)

# The icelab binary: the archive, then libicelab.a again (the archive uses
# the codec), appended to whatever LDLIBS holds when it links.
$(ICELAB): $(PCAPS_LIB)
$(ICELAB): LDLIBS += $(PCAPS_LIB) $(LIB) -ljansson $(PCAPS_LDLIBS)
# replay --sim (pcaps/replay_sim.c) runs the simulator: its archive after ours.
$(ICELAB): LDLIBS += $(SIM_LIB) $(LIB) $(SIM_LDLIBS)

.PHONY: pcaps-captures fuzz-pcap-reader pcaps-fuzz-smoke pcaps-fuzz-replay
pcaps-captures: $(PCAPS_GEN)
	$(PCAPS_GEN) pcaps/captures

# ---- fuzzing: same compiler and flags as mk/fuzz.mk (FUZZ_* variables).
PCAPS_FUZZ_OBJS := $(PCAPS_SRCS:%.c=$(FUZZ_BUILD)/libfuzzer/obj/%.o)
PCAPS_FUZZ_OBJS := $(filter-out %/pcaps/replay_sim.o,$(PCAPS_FUZZ_OBJS)) # no simulator there
PCAPS_FUZZ_BIN := $(FUZZ_BUILD)/libfuzzer/pcap_reader

fuzz-pcap-reader: $(PCAPS_FUZZ_BIN)
fuzz-build-libfuzzer: $(PCAPS_FUZZ_BIN)

$(PCAPS_FUZZ_OBJS) $(FUZZ_BUILD)/libfuzzer/obj/fuzz/pcap_reader.o: FUZZ_LF_CFLAGS += -Ipcaps

$(PCAPS_FUZZ_BIN): $(FUZZ_BUILD)/libfuzzer/obj/fuzz/pcap_reader.o $(PCAPS_FUZZ_OBJS) \
		$(FUZZ_BUILD)/libfuzzer/libicelab.a
	$(FUZZ_CC) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS) $(PCAPS_LDLIBS)

# Parser targets over the same instrumented objects (pcaps/fuzz/*.c), defined before the
# rules that name them as prerequisites (expanded when read).
PCAPS_FUZZ_PARSERS := sip_sdp rtp_rtcp
PCAPS_FUZZ_PARSERS += srtp_tls
PCAPS_FUZZ_PARSER_BINS := $(PCAPS_FUZZ_PARSERS:%=$(FUZZ_BUILD)/libfuzzer/pcaps_%)

pcaps-fuzz-replay: $(PCAPS_FUZZ_BIN) $(PCAPS_FUZZ_PARSER_BINS)
	@bash pcaps/tests/fuzz/replay.sh $(PCAPS_FUZZ_BIN)

pcaps-fuzz-smoke: $(PCAPS_FUZZ_BIN) $(PCAPS_FUZZ_PARSER_BINS)
	@FUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS) bash pcaps/tests/fuzz/smoke.sh $(PCAPS_FUZZ_BIN) \
		$(FUZZ_BUILD)/smoke/pcap_reader
	@FUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS) bash pcaps/tests/fuzz/smoke_parsers.sh \
		$(FUZZ_BUILD)/libfuzzer $(FUZZ_BUILD)/smoke $(PCAPS_FUZZ_PARSERS)

PCAPS_FUZZ_PARSER_OBJS := $(PCAPS_FUZZ_PARSERS:%=$(FUZZ_BUILD)/libfuzzer/obj/pcaps/fuzz/%.o)
.PHONY: fuzz-pcaps-sip-sdp fuzz-pcaps-rtp-rtcp
fuzz-pcaps-sip-sdp: $(FUZZ_BUILD)/libfuzzer/pcaps_sip_sdp
fuzz-pcaps-rtp-rtcp: $(FUZZ_BUILD)/libfuzzer/pcaps_rtp_rtcp
.PHONY: fuzz-pcaps-srtp-tls
fuzz-pcaps-srtp-tls: $(FUZZ_BUILD)/libfuzzer/pcaps_srtp_tls
fuzz-build-libfuzzer: $(PCAPS_FUZZ_PARSER_BINS)
$(PCAPS_FUZZ_PARSER_OBJS): FUZZ_LF_CFLAGS += -Ipcaps
$(FUZZ_BUILD)/libfuzzer/pcaps_%: $(FUZZ_BUILD)/libfuzzer/obj/pcaps/fuzz/%.o $(PCAPS_FUZZ_OBJS) \
		$(FUZZ_BUILD)/libfuzzer/libicelab.a
	$(FUZZ_CC) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS) $(PCAPS_LDLIBS)

.SECONDARY: $(PCAPS_FUZZ_OBJS) $(FUZZ_BUILD)/libfuzzer/obj/fuzz/pcap_reader.o $(PCAPS_FUZZ_PARSER_OBJS)

-include $(PCAPS_OBJS:.o=.d) $(PCAPS_TEST_SRCS:%.c=$(BUILD)/%.d) \
	$(BUILD)/pcaps/gen/gen_captures.d $(BUILD)/pcaps/gen/gen_more.d $(PCAPS_FUZZ_OBJS:.o=.d) $(PCAPS_FUZZ_PARSER_OBJS:.o=.d)

# A stand-alone `icelab pcap` (pcaps/tests/pcap_main.c) for the shell tests.
PCAPS_MAIN := $(BUILD)/pcaps/tests/pcap_main
all: $(PCAPS_MAIN)
$(BUILD)/pcaps/tests/pcap_main.o: CFLAGS += -Ipcaps -Icli
$(PCAPS_MAIN): $(BUILD)/pcaps/tests/pcap_main.o $(BUILD)/cli/pcap_cmd.o $(BUILD)/cli/util.o \
		$(PCAPS_LIB) $(SIM_LIB) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $(filter %.o,$^) $(PCAPS_LIB) $(SIM_LIB) $(LIB) $(LDLIBS) \
		$(PCAPS_LDLIBS) $(SIM_LDLIBS)
