/* The SBC's control plane (issue #8 §5), sans-I/O like the session core:
 *
 * - the bridge table (ref/sbc/bridge.c): many il_sbc_session by call-id,
 *   media ports from a range (each leg an even RTP port and RTCP on the
 *   next), a session limit, datagram dispatch by local port in O(1),
 *   timers, and per call a log line when media connects and JSON events;
 * - rtpengine's ng protocol (ref/sbc/ng.c): "COOKIE <space> bencoded
 *   dict" datagrams carrying ping, offer, answer, delete, query, list and
 *   statistics,
 *   answered with the same cookie, so Kamailio's and OpenSIPS's rtpengine
 *   modules drive icelab unchanged.
 *
 * The caller (ref/io/sbc_driver.c) owns the sockets: the bridge asks it
 * to bind and close media ports (cb.port_open / cb.port_close), gives it
 * datagrams to send (cb.send), and it feeds every datagram that arrives
 * on a media port with il_sbc_bridge_handle_datagram and `now`. */
#ifndef ICELAB_SBC_BRIDGE_H
#define ICELAB_SBC_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/sbc.h"

#define IL_SBC_CALL_ID_MAX 255
#define IL_SBC_TAG_MAX 127

/* Apart from enum il_sbc_err's values (and from the blocks other SBC
 * features add there), since a create may return either. */
enum il_sbc_bridge_err {
	IL_SBC_BRIDGE_ERR_FULL = -40,  /* the session limit is reached */
	IL_SBC_BRIDGE_ERR_PORTS = -41, /* no free media port pair */
	IL_SBC_BRIDGE_ERR_EXISTS = -42,/* the call-id is taken */
};

typedef struct il_sbc_bridge_config {
	il_sbc_config sbc;           /* the sessions' rules; sbc.advertised: the public IP */
	il_addr bind;                /* the media bind IP (port ignored) */
	uint16_t port_min, port_max; /* media ports: RTP even, RTCP + 1 */
	uint32_t max_sessions;       /* 0: as many as the ports allow */
} il_sbc_bridge_config;

typedef struct il_sbc_bridge_callbacks {
	void *user;
	void (*random)(void *user, uint8_t *out, size_t len);
	void (*send)(void *user, const il_addr *local, const il_addr *remote, const uint8_t *data,
		     size_t len);
	/* Binds local (the bind IP and a port): 0, or -1 when it cannot (the
	 * bridge tries the next pair). */
	int (*port_open)(void *user, const il_addr *local);
	void (*port_close)(void *user, const il_addr *local);
	void (*log)(void *user, const char *line);   /* a human line, may be NULL */
	void (*event)(void *user, const char *json); /* one JSON object, may be NULL */
} il_sbc_bridge_callbacks;

/* Per-call choices (from the ng flags). */
typedef struct il_sbc_call_options {
	bool ice[2];                 /* offers toward leg A / B carry ICE-lite */
	bool rtcp_mux[2];            /* offers toward leg A / B carry a=rtcp-mux */
	bool strict_source;          /* il_sbc_config.strict_source for this call */
	bool adopt_new_source;       /* il_sbc_config.adopt_new_source for this call */
	/* The media features (ref/sbc/ng_media.c sets them from the ng keys). */
	int profile[2];              /* il_sbc_leg_config.profile: enum il_sbc_profile */
	bool force_relay[2];         /* il_sbc_leg_config.force_relay (an ICE leg; needs
	                                il_sbc_config.turn_server) */
} il_sbc_call_options;

/* RTP loss per leg (RFC 3550 A.3): expected from the sequence numbers of
 * what was accepted, minus received. */
typedef struct il_sbc_call_leg_info {
	char tag[IL_SBC_TAG_MAX + 1];
	uint16_t port;               /* our RTP port on this leg */
	uint64_t rtp_expected, rtp_received;
	il_sbc_leg_stats st;
} il_sbc_call_leg_info;

typedef struct il_sbc_bridge il_sbc_bridge;
typedef struct il_sbc_call il_sbc_call;

il_sbc_bridge *il_sbc_bridge_new(const il_sbc_bridge_config *cfg,
				 const il_sbc_bridge_callbacks *cb, int *err);
/* Closes every call (and its ports). */
void il_sbc_bridge_free(il_sbc_bridge *b);

/* The advertised IP for calls created from now on; the current calls
 * keep theirs. IL_SBC_ERR_PRIVATE (and no change) for a private or
 * loopback IP without allow_private. */
int il_sbc_bridge_set_advertised(il_sbc_bridge *b, const il_addr *ip, bool allow_private);
const il_addr *il_sbc_bridge_advertised(const il_sbc_bridge *b);

size_t il_sbc_bridge_call_count(const il_sbc_bridge *b);
il_sbc_call *il_sbc_bridge_find(il_sbc_bridge *b, const char *call_id, size_t len);
/* A new call with two legs' ports. NULL with *err an enum
 * il_sbc_bridge_err or il_sbc_err. */
il_sbc_call *il_sbc_bridge_create(il_sbc_bridge *b, const char *call_id, size_t len,
				  const il_sbc_call_options *opt, uint64_t now_ms, int *err);
/* Ends a call: an event with its counters, its ports closed. */
void il_sbc_bridge_delete(il_sbc_bridge *b, il_sbc_call *c, const char *reason, uint64_t now_ms);
/* Calls in creation order: first, then next (NULL at the end). */
il_sbc_call *il_sbc_bridge_first(il_sbc_bridge *b);
il_sbc_call *il_sbc_bridge_next(il_sbc_call *c);

/* A datagram on a media port: enum il_sbc_datagram (DROPPED when no call
 * has the port). */
int il_sbc_bridge_handle_datagram(il_sbc_bridge *b, const il_addr *local, const il_addr *remote,
				  const uint8_t *data, size_t len, uint64_t now_ms);
/* Runs due session timers and ends timed-out calls. Returns the next
 * deadline (UINT64_MAX: none). */
uint64_t il_sbc_bridge_timer(il_sbc_bridge *b, uint64_t now_ms);

/* Call accessors. */
il_sbc_session *il_sbc_call_session(il_sbc_call *c);
const char *il_sbc_call_id(const il_sbc_call *c);
uint64_t il_sbc_call_created_ms(const il_sbc_call *c);
/* The tag of a leg ("" when unknown); set_tag copies at most IL_SBC_TAG_MAX bytes. */
const char *il_sbc_call_tag(const il_sbc_call *c, unsigned leg);
void il_sbc_call_set_tag(il_sbc_call *c, unsigned leg, const char *tag, size_t len);
/* The leg whose tag is tag, or -1. */
int il_sbc_call_leg_of(const il_sbc_call *c, const char *tag, size_t len);
int il_sbc_call_get_leg(const il_sbc_call *c, unsigned leg, il_sbc_call_leg_info *out);
/* Emits a JSON event about a call: {"event":name,"call-id":...} plus extra
 * (already JSON members, "" or NULL for none). */
void il_sbc_call_event(il_sbc_call *c, const char *name, const char *extra);

/* ---- the ng protocol (ref/sbc/ng.c) ---- */

typedef struct il_sbc_ng il_sbc_ng;

il_sbc_ng *il_sbc_ng_new(il_sbc_bridge *b);
void il_sbc_ng_free(il_sbc_ng *ng);
/* One control datagram: writes the reply ("COOKIE " + bencoded dict)
 * into out and returns its length; 0 when no reply can be made (no
 * cookie). A retransmission (same cookie as a recent command) gets the
 * same reply again without running the command twice. */
size_t il_sbc_ng_handle(il_sbc_ng *ng, const uint8_t *msg, size_t len, char *out, size_t cap,
			uint64_t now_ms);
/* Counters: commands handled, errors answered. */
uint64_t il_sbc_ng_commands(const il_sbc_ng *ng);
uint64_t il_sbc_ng_errors(const il_sbc_ng *ng);
/* The `statistics` command: the table's and the handler's counters, then
 * what fn adds (the driver's: datagrams, drops) as key/value pairs of the
 * "statistics" dictionary. fn may be NULL. */
struct il_benc_writer;
void il_sbc_ng_set_statistics(il_sbc_ng *ng, void (*fn)(void *user, struct il_benc_writer *w),
			      void *user);

/* ---- force-relay and held commands (ng.c, ng_media.c) ----
 * An offer or answer toward a force-relay leg whose TURN allocation is
 * still under way is held: il_sbc_ng_handle_from returns 0 and the
 * reply comes later, from il_sbc_ng_poll, once the allocation is ready
 * (the command runs then) or failed (an error reply with the reason), or
 * after 10 s without an outcome (an error reply; a call the command made
 * is deleted). A retransmission of a held command is not run again. */
size_t il_sbc_ng_handle_from(il_sbc_ng *ng, const il_addr *from, const uint8_t *msg, size_t len,
			     char *out, size_t cap, uint64_t now_ms);
/* Commands held now: the caller polls while this is not 0 (after media
 * datagrams and timers, which move the allocations on). */
size_t il_sbc_ng_held_count(const il_sbc_ng *ng);
typedef void (*il_sbc_ng_reply_fn)(void *user, const il_addr *to, const char *reply, size_t len);
/* Answers the held commands that can be answered: fn with each reply
 * (written in out) and the address il_sbc_ng_handle_from got. */
void il_sbc_ng_poll(il_sbc_ng *ng, char *out, size_t cap, uint64_t now_ms,
		    il_sbc_ng_reply_fn fn, void *user);
/* The force-relay rules (sbc_relay.h) for the calls offered from now on;
 * NULL: none (only the session flag, ICE=force-relay, decides). The
 * caller keeps p alive while set. */
struct il_sbc_policy;
void il_sbc_ng_set_policy(il_sbc_ng *ng, const struct il_sbc_policy *p);

#endif
