/* The libevent driver of the ICE agent (ARCHITECTURE.md, ref/io): gives
 * the sans-I/O core of icelab/ice.h real UDP sockets, the monotonic
 * clock, a random source (getrandom) and a timer armed at
 * il_ice_agent_next_deadline after every call into the core.
 *
 * One data stream with 1..IL_ICE_MAX_COMPONENTS components. Each local
 * address given gets one UDP socket per component, bound to that address
 * (port 0: an ephemeral port; a wildcard address is refused, a host
 * candidate must be an address a peer can reach) and offered as a host
 * candidate. Datagrams from a socket go to il_ice_agent_handle_datagram
 * with the socket's address as the local base; what the core sends from
 * a host or peer-reflexive candidate leaves from the socket bound to its
 * base.
 *
 * The SDP helpers write and read the ICE attributes (RFC 8839) of one
 * media section, so that two drivers, or a driver and another agent, can
 * be introduced to each other through files.
 *
 * Gathering goes through the sans-I/O gatherer (icelab/ice_gather.h):
 * host candidates at once, server-reflexive ones from STUN servers,
 * relayed ones from TURN servers over UDP (from the component's host
 * socket) or TCP (a connection the driver opens from the host address);
 * the policy (all, relay-only, no-host) is the gatherer's. Gathering is
 * over when cb->gathered is called (at once, from il_ice_driver_new, when
 * there is no server); only then is the local SDP complete. */
#ifndef ICELAB_ICE_DRIVER_H
#define ICELAB_ICE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"
#include "icelab/ice.h"
#include "icelab/ice_gather.h"
#include "icelab/sdp.h"

struct event_base;

#define IL_ICE_DRIVER_MAX_LOCAL 8   /* local addresses */

typedef struct il_ice_driver_turn {
	il_addr server;
	int transport;                /* IL_ICE_SERVER_UDP or IL_ICE_SERVER_TCP */
	const char *username, *password; /* NULL: none; copied by the gatherer */
} il_ice_driver_turn;

typedef struct il_ice_driver_config {
	il_ice_config ice;            /* il_ice_config_defaults, then roles etc. */
	il_addr local[IL_ICE_DRIVER_MAX_LOCAL]; /* host addresses; port 0: ephemeral */
	size_t local_count;
	unsigned components;          /* 1 (rtcp-mux) .. IL_ICE_MAX_COMPONENTS; 0 means 1 */
	const char *ufrag, *pwd;      /* NULL: random */
	int policy;                   /* enum il_ice_gather_policy (default ALL) */
	il_addr stun[IL_ICE_GATHER_MAX_SERVERS];
	size_t stun_count;
	il_ice_driver_turn turn[IL_ICE_GATHER_MAX_SERVERS];
	size_t turn_count;
} il_ice_driver_config;

void il_ice_driver_config_defaults(il_ice_driver_config *cfg);

typedef struct il_ice_driver_callbacks {
	void *user;
	void (*event)(void *user, const il_ice_event *ev);     /* may be NULL */
	void (*data)(void *user, unsigned component, const uint8_t *data, size_t len); /* may be NULL */
	/* Gathering is over (end-of-candidates): the local SDP is complete. May be NULL. */
	void (*gathered)(void *user);
} il_ice_driver_callbacks;

/* Counters of the driver's own I/O (the core counts the protocol). */
typedef struct il_ice_driver_counters {
	uint64_t datagrams_received, datagrams_sent;
	uint64_t send_errors;         /* sendto failed, or no socket for a base */
	uint64_t dropped;             /* handle_datagram dropped it */
} il_ice_driver_counters;

typedef struct il_ice_driver il_ice_driver;

/* Creates the agent, its stream, the sockets and the gatherer, and
 * starts gathering (host candidates at once; with no STUN or TURN server
 * gathering is then over and cb->gathered has been called). NULL with a
 * one-line reason in err on failure (a relay-only policy without a TURN
 * server, too). */
il_ice_driver *il_ice_driver_new(struct event_base *base, const il_ice_driver_config *cfg,
				 const il_ice_driver_callbacks *cb, char *err, size_t err_len);
/* Deletes the TURN allocations (best effort), closes the sockets and
 * frees the agent. */
void il_ice_driver_free(il_ice_driver *d);

/* The core, for reading (state, pairs, candidates, counters). A caller
 * that changes it directly must call il_ice_driver_rearm afterwards. */
il_ice_agent *il_ice_driver_agent(il_ice_driver *d);
void il_ice_driver_rearm(il_ice_driver *d);
uint64_t il_ice_driver_now_ms(void);
void il_ice_driver_get_counters(const il_ice_driver *d, il_ice_driver_counters *out);
/* Gathering is over (every transaction and allocation ended). */
bool il_ice_driver_gathering_done(const il_ice_driver *d);
void il_ice_driver_get_gather_stats(const il_ice_driver *d, il_ice_gather_stats *out);

/* Writes our description: v=, o=, s=, t=, a=ice-lite when lite, one
 * m=audio section with c=, ice-ufrag, ice-pwd, ice-options, rtcp-mux
 * (one component), the candidates gathered so far (never host ones under
 * the relay-only or no-host policy) and end-of-candidates. Returns
 * the length, or a negative value when cap is too small. */
int il_ice_driver_local_sdp(il_ice_driver *d, char *out, size_t cap);

/* Applies a peer's description: credentials and UDP candidates of media
 * section `media` (TCP candidates, FQDN candidates and components we do
 * not have are skipped and counted in *skipped, which may be NULL),
 * a=ice-lite, and end-of-candidates (also when absent: a description
 * read from a file is all there will be). 0, or -1 with a reason in err. */
int il_ice_driver_set_remote_sdp(il_ice_driver *d, const il_sdp_session *sdp, size_t media,
				 size_t *skipped, char *err, size_t err_len);

/* Starts the checks (or the answering, for a lite agent). */
int il_ice_driver_start(il_ice_driver *d);

/* Media on the selected pair of a component (enum il_ice_err). */
int il_ice_driver_send(il_ice_driver *d, unsigned component, const uint8_t *data, size_t len);

/* Stops the agent (state CLOSED); the sockets stay open until free. */
void il_ice_driver_close(il_ice_driver *d);

#endif
