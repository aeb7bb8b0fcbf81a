/* Internals of the ng protocol handler (ng.c, ng_hold.c). */
#ifndef ICELAB_SBC_NG_INTERNAL_H
#define ICELAB_SBC_NG_INTERNAL_H

#include "icelab/bencode.h"
#include "icelab/sbc_bridge.h"
#include "icelab/sbc_relay.h"

#define NG_NODES 2048
#define NG_SDP_MAX (64 * 1024)
#define NG_COOKIE_MAX 128
#define NG_CACHE 32
#define NG_CACHE_MS 30000
#define NG_HELD 64             /* commands waiting for TURN allocations at once */
#define NG_HOLD_MS 10000       /* then an error reply, if the TURN client has not given up */

typedef struct ng_cached {
	char cookie[NG_COOKIE_MAX];
	size_t cookie_len;
	char *reply;
	size_t len;
	uint64_t at_ms;
} ng_cached;

/* An offer or answer toward a force-relay leg whose allocation is under
 * way (IL_SBC_ERR_RELAY_PENDING): kept whole, run again once the
 * allocation is ready or failed, and answered then (il_sbc_ng_poll). */
typedef struct ng_held {
	uint8_t *msg;          /* the datagram; NULL: a free slot */
	size_t len, cookie_len;
	il_addr to;            /* who gets the reply */
	char call_id[IL_SBC_CALL_ID_MAX + 1];
	size_t id_len;
	bool created;          /* the call was made by this command: gone if it fails */
	uint64_t deadline_ms;
} ng_held;

struct il_sbc_ng {
	il_sbc_bridge *b;
	il_benc_node nodes[NG_NODES];
	char sdp[NG_SDP_MAX];
	ng_cached cache[NG_CACHE];
	unsigned cache_next;
	uint64_t commands, errors;
	void (*stats_fn)(void *user, il_benc_writer *w);
	void *stats_user;
	const il_sbc_policy *policy;   /* --relay-policy; NULL: no rules */
	ng_held held[NG_HELD];
	size_t held_count;
};

typedef struct ng_ctx {
	il_sbc_ng *ng;
	const il_benc_node *n;
	int root;
	il_benc_writer *w;
	size_t mark;           /* the writer's length after the cookie */
	uint64_t now_ms;
	char warning[256];
	const uint8_t *msg;    /* the datagram (held commands keep a copy) */
	size_t msg_len, cookie_len;
	const il_addr *from;
	bool rerun_created;    /* a held command run again: it made the call */
	bool held;             /* this command waits for a TURN allocation */
} ng_ctx;

/* A {"result":"error"} reply in place of what x wrote: false. */
bool ng_reply_error(ng_ctx *x, const char *reason);
void ng_cache_store(il_sbc_ng *ng, const uint8_t *cookie, size_t clen, const char *reply,
		    size_t len, uint64_t now_ms);
/* One command (the cookie already checked): its reply in out, cached; 0
 * when it was held. */
size_t ng_run(il_sbc_ng *ng, const uint8_t *msg, size_t len, size_t clen, char *out, size_t cap,
	      uint64_t now_ms, const il_addr *from, bool rerun_created);
/* Keeps the command until the allocation is ready: false when the table
 * of held commands is full. */
bool ng_hold(ng_ctx *x, il_sbc_call *c, bool created);
ng_held *ng_held_find(il_sbc_ng *ng, const uint8_t *cookie, size_t len);

#endif
