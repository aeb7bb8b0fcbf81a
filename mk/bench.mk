# The STUN codec benchmark (issue #2 §6); bench/README.md says how to read it.
#   make bench                    build and run: table on stdout, reports/bench/stun.json
#   make bench BENCH_ARGS=--quick a smoke run (3 short rounds, no callgrind)
# Not part of `all`: it links libnice (the named peer), which the library
# itself does not need.

BENCH_SRCS := $(wildcard bench/*.c)
BENCH_OBJS := $(BENCH_SRCS:%.c=$(BUILD)/%.o)
BENCH_BIN := $(BUILD)/bench/stun_bench
BENCH_LDLIBS := $(LDLIBS) -lnice -lm
BENCH_LIBNICE_VERSION := $(shell pkg-config --modversion nice 2>/dev/null || echo unknown)
BENCH_ARGS ?= --runs 11 --ms 40 --json reports/bench/stun.json \
	--callgrind $(BUILD)/bench/callgrind

$(BENCH_OBJS): CFLAGS += -DBENCH_BUILD_FLAGS='"$(strip $(CC) $(OPT) $(EXTRA_CFLAGS))"' \
	-DBENCH_LIBNICE_VERSION='"$(BENCH_LIBNICE_VERSION)"'

$(BENCH_BIN): $(BENCH_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $(BENCH_OBJS) $(LIB) $(BENCH_LDLIBS)

.PHONY: bench-build
bench-build: $(BENCH_BIN)

bench: deps
	@$(MAKE) --no-print-directory bench-build
	@mkdir -p reports/bench
	@$(BENCH_BIN) $(BENCH_ARGS)

-include $(BENCH_OBJS:.o=.d)
