# The capture analyser benchmark (issue #7 §7): `icelab pcap analyze`
# against `tshark -q -z rtp,streams` on one large RTP-heavy capture of
# many SIP calls (pcaps/gen/gen_bench.c), same machine, 5 interleaved rounds:
# packets/s, peak RSS, ratios (pcaps/README.md, "Benchmark").
#   make bench-pcap                          generate build/bench/pcap/bench.pcap
#                                            (BENCH_PCAP_MB, default 220), run,
#                                            table on stdout, reports/bench/pcap.json
#   make bench-pcap BENCH_PCAP_ARGS=--quick  a smoke run (small capture, one round)
# Needs tshark; not part of `all`.

BENCH_PCAP_DIR := $(BUILD)/bench/pcap
BENCH_PCAP_GEN := $(BENCH_PCAP_DIR)/gen_bench
BENCH_PCAP_MB ?= 220
BENCH_PCAP_ARGS ?=
# Until the Makefile includes this file, `make -f Makefile -f
# mk/bench_pcap.mk bench-pcap` works too: the sub-make reads both.
BENCH_PCAP_SUBMAKE := $(if $(shell grep -qs '^include mk/bench_pcap.mk' Makefile && echo y),,\
	-f Makefile -f mk/bench_pcap.mk)

$(BENCH_PCAP_GEN): $(BUILD)/pcaps/gen/gen_bench.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $^ -lpcap

.PHONY: bench-pcap bench-pcap-build
bench-pcap-build: $(BENCH_PCAP_GEN) $(ICELAB)

bench-pcap:
	@$(MAKE) --no-print-directory $(BENCH_PCAP_SUBMAKE) bench-pcap-build
	@mkdir -p reports/bench
	@python3 pcaps/bench/bench_pcap.py --icelab $(ICELAB) --gen $(BENCH_PCAP_GEN) \
		--capture $(BENCH_PCAP_DIR)/bench.pcap --mb $(BENCH_PCAP_MB) \
		--json reports/bench/pcap.json $(BENCH_PCAP_ARGS)

-include $(BUILD)/pcaps/gen/gen_bench.d
