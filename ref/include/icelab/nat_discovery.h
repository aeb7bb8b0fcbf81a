/* NAT behaviour discovery (RFC 5780 §4), sans-I/O: the tests of §4.3
 * (mapping), §4.4 (filtering), hairpinning and §4.6 (binding lifetime)
 * as one state machine fed datagrams and time.
 *
 * The caller owns the sockets: the core names them by index (0 ..
 * IL_NATD_SOCKETS-1), asks for each to be bound (or bound again to a
 * fresh port: the lifetime test needs a new mapping per round) and sends
 * through them; the caller hands every datagram received on one of them
 * to il_natd_handle_datagram and runs il_natd_timer at the deadline.
 * Transaction ids come from the caller's random source. No allocation:
 * the il_natd is the caller's storage.
 *
 * Socket roles (each test gets a mapping no other test disturbed):
 *   0 mapping tests (§4.3) and the target of the hairpin test
 *   1 filtering tests (§4.4): it sends to the primary address only
 *   2 the hairpin sender
 *   3 lifetime: the mapping whose lifetime is measured (X of §4.6)
 *   4 lifetime: the socket that asks with RESPONSE-PORT (Y of §4.6) */
#ifndef ICELAB_NAT_DISCOVERY_H
#define ICELAB_NAT_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"
#include "icelab/stun_client.h"

#define IL_NATD_SOCKETS 5

enum il_natd_mapping {
	IL_NATD_MAPPING_UNKNOWN = 0, /* not tested, or the server lacks RFC 5780 */
	IL_NATD_MAPPING_NO_NAT,      /* the mapped address is the local one */
	IL_NATD_MAPPING_EIM,         /* endpoint-independent */
	IL_NATD_MAPPING_ADM,         /* address-dependent */
	IL_NATD_MAPPING_APDM,        /* address and port-dependent */
};

enum il_natd_filtering {
	IL_NATD_FILTERING_UNKNOWN = 0,
	IL_NATD_FILTERING_EIF,
	IL_NATD_FILTERING_ADF,
	IL_NATD_FILTERING_APDF,
};

enum il_natd_tristate {
	IL_NATD_UNTESTED = 0,
	IL_NATD_YES,
	IL_NATD_NO,
};

typedef struct il_natd_config {
	il_addr server;               /* A1:P1, the primary address */
	bool hairpin;                 /* run the hairpinning test */
	/* §4.6 binary search for the binding lifetime in
	 * [0, lifetime_max_ms], to lifetime_resolution_ms; 0: not run. */
	uint32_t lifetime_max_ms;
	uint32_t lifetime_resolution_ms;
	/* Transactions over UDP: RFC 8489 §6.2.1 by default (Rc 7, Rm 16, RTO
	 * 500 ms: 39.5 s before a test counts as unanswered). */
	il_stun_txn_config txn;
} il_natd_config;

void il_natd_config_defaults(il_natd_config *cfg, const il_addr *server);

typedef struct il_natd_callbacks {
	void *user;
	/* Binds socket sock to a new local port (closing what it had) and
	 * fills *local with the address a server would see without a NAT.
	 * 0, or -1 when no socket could be bound. */
	int (*bind)(void *user, int sock, il_addr *local);
	void (*send)(void *user, int sock, const il_addr *to, const uint8_t *data, size_t len);
	void (*random)(void *user, uint8_t *out, size_t len);
} il_natd_callbacks;

typedef struct il_natd_result {
	bool done;
	bool udp_blocked;             /* Test I of §4.3 got no answer (§4.2) */
	bool rfc5780;                 /* the server gave OTHER-ADDRESS */
	char error[96];               /* why a test could not run, or "" */
	il_addr local;                /* socket 0 */
	il_addr mapped;               /* X1: socket 0 seen by A1:P1 */
	il_addr mapped2, mapped3;     /* seen by A2:P1 and A2:P2 */
	il_addr other;                /* OTHER-ADDRESS: A2:P2 */
	bool port_preserved;          /* X1's port is the local one */
	enum il_natd_mapping mapping;
	enum il_natd_filtering filtering;
	enum il_natd_tristate hairpin;
	/* §4.6: alive after lifetime_lo_ms, gone after lifetime_hi_ms (0:
	 * never seen gone, alive at the maximum). Untested: both 0. */
	enum il_natd_tristate lifetime_tested;
	uint32_t lifetime_lo_ms, lifetime_hi_ms;
	uint32_t lifetime_rounds;
	uint32_t requests_sent;
	uint64_t finished_ms;
} il_natd_result;

/* The tests, each one STUN transaction (one slot). */
enum il_natd_test {
	NATD_MAP1 = 0, /* socket 0 -> A1:P1 */
	NATD_MAP2,     /* socket 0 -> A2:P1 */
	NATD_MAP3,     /* socket 0 -> A2:P2 */
	NATD_FIL1,     /* socket 1 -> A1:P1 */
	NATD_FIL2,     /* socket 1 -> A1:P1, CHANGE-REQUEST IP and port */
	NATD_FIL3,     /* socket 1 -> A1:P1, CHANGE-REQUEST port */
	NATD_HP1,      /* socket 2 -> A1:P1: its own mapping */
	NATD_HP2,      /* socket 2 -> X1: arrives on socket 0 if hairpinned */
	NATD_LIFE_X,   /* socket 3 -> A1:P1 */
	NATD_LIFE_Y,   /* socket 4 -> A1:P1, RESPONSE-PORT: X's mapped port */
	NATD_TEST_COUNT,
};

struct il_natd;
typedef struct il_natd_probe {
	struct il_natd *d;
	int test;
	int sock;
	il_addr to;
	il_stun_txn_table table;
	il_stun_txn slot;
} il_natd_probe;

typedef struct il_natd {
	il_natd_config cfg;
	il_natd_callbacks cb;
	il_natd_result res;
	il_natd_probe probes[NATD_TEST_COUNT];
	il_addr local[IL_NATD_SOCKETS];
	il_addr hp_mapped;            /* socket 2's mapping */
	il_addr life_mapped;          /* socket 3's mapping this round */
	uint32_t life_try_ms;         /* the wait being tested */
	uint64_t wait_until;          /* lifetime: when Y asks; 0: none */
	bool map_done, fil_done, hp_done, life_done;
	bool fil2_done, fil3_done, fil2_ok, fil3_ok;
	bool started;
} il_natd;

/* Copies cfg and cb; nothing is sent yet. */
void il_natd_init(il_natd *d, const il_natd_config *cfg, const il_natd_callbacks *cb);
/* Binds the sockets and sends Test I. -1 when a socket could not be
 * bound (the result says so and is done). */
int il_natd_start(il_natd *d, uint64_t now_ms);
/* A datagram received on socket sock from `from`. Not STUN, or not
 * ours: ignored. */
void il_natd_handle_datagram(il_natd *d, int sock, const il_addr *from, const uint8_t *data,
			     size_t len, uint64_t now_ms);
void il_natd_timer(il_natd *d, uint64_t now_ms);
/* When il_natd_timer must run next; UINT64_MAX when done. */
uint64_t il_natd_next_deadline(const il_natd *d);
bool il_natd_done(const il_natd *d);
const il_natd_result *il_natd_get_result(const il_natd *d);

/* "no-nat", "endpoint-independent", ... ; "eim", "adm" ... with short. */
const char *il_natd_mapping_name(enum il_natd_mapping m, bool short_form);
const char *il_natd_filtering_name(enum il_natd_filtering f, bool short_form);
const char *il_natd_tristate_name(enum il_natd_tristate t);
/* The classic name (RFC 3489 §5 terms, as RFC 5780 §1 relates them):
 * "open", "full-cone", "restricted-cone", "port-restricted-cone",
 * "symmetric", "udp-blocked", or "unknown" / "other". */
const char *il_natd_classic_name(const il_natd_result *r);

#endif
