# The SBC media benchmark (issue #8 §7): RTP through icelab serve --sbc,
# rtpengine (userspace) and a minimal epoll + recvmmsg/sendmmsg forwarder
# (the floor), on loopback. bench/sbc/README.md says how to read it.
#   make bench-sbc                          build and run (under 5 minutes):
#                                           one table with ratios on stdout,
#                                           reports/bench/sbc.json
#   make bench-sbc BENCH_SBC_ARGS=--quick   a smoke run (one round)
# Needs build/icelab and rtpengine (rtpengine-daemon); not part of `all`.
# The overload test (bench/sbc/tests/overload.sh) runs in `make test`
# and builds what it needs through `make bench-sbc-build`.

BENCH_SBC_DIR := $(BUILD)/bench/sbc
BENCH_SBC_BINS := $(BENCH_SBC_DIR)/sbc_floor $(BENCH_SBC_DIR)/sbc_loadgen
BENCH_SBC_ARGS ?=

$(BENCH_SBC_DIR)/sbc_floor: $(BENCH_SBC_DIR)/floor.o $(BUILD)/bench/turn/bt_common.o
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $^

$(BENCH_SBC_DIR)/sbc_loadgen: $(BENCH_SBC_DIR)/loadgen.o $(BENCH_SBC_DIR)/lg_ctl.o \
		$(BUILD)/bench/turn/bt_common.o
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $^ -lsrtp2 -lcrypto -lm

.PHONY: bench-sbc bench-sbc-build
bench-sbc-build: $(BENCH_SBC_BINS) $(ICELAB)

bench-sbc: deps
	@$(MAKE) --no-print-directory bench-sbc-build
	@mkdir -p reports/bench
	@python3 bench/sbc/run.py --icelab $(ICELAB) --bin-dir $(BENCH_SBC_DIR) \
		--json reports/bench/sbc.json $(BENCH_SBC_ARGS)

-include $(wildcard $(BENCH_SBC_DIR)/*.d)
