# ICE interop (issue #5 §4): build/ref/io/tests/nice_peer links libnice
# (Debian libnice-dev, through pkg-config nice) as the remote agent, and
# build/ref/io/tests/ice_probe is `icelab probe ice` on its own (so the
# script runs whether or not the verb is wired into the icelab binary).
# ref/io/tests/ice_libnice.sh runs them against each other; it skips with
# a note when nice_peer is not built. Include after LIB and LDLIBS are
# defined:  include mk/ice_interop.mk

ICE_PROBE_BIN := $(BUILD)/ref/io/tests/ice_probe
NICE_PEER_BIN := $(BUILD)/ref/io/tests/nice_peer
NICE_CFLAGS := $(shell pkg-config --cflags nice 2>/dev/null)
NICE_LIBS := $(shell pkg-config --libs nice 2>/dev/null)

all: $(ICE_PROBE_BIN)

$(ICE_PROBE_BIN): $(BUILD)/ref/io/tests/ice_probe_main.o $(LIB)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

ifneq ($(NICE_LIBS),)
all: $(NICE_PEER_BIN)

# libnice's and glib's headers, for this object only.
$(BUILD)/ref/io/tests/nice_peer.o: CFLAGS += $(NICE_CFLAGS)

$(NICE_PEER_BIN): $(BUILD)/ref/io/tests/nice_peer.o
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(NICE_LIBS)
endif

.PHONY: ice-interop
ice-interop: $(ICE_PROBE_BIN) $(if $(NICE_LIBS),$(NICE_PEER_BIN))
	@bash ref/io/tests/ice_libnice.sh

-include $(BUILD)/ref/io/tests/ice_probe_main.d $(BUILD)/ref/io/tests/nice_peer.d
