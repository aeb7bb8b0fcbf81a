/* Candidate gathering and policy for the ICE agent (RFC 8445 §5.1.1,
 * RFC 8421, RFC 8838 trickle, RFC 8656 relayed candidates), sans-I/O like
 * the agent itself (ARCHITECTURE.md).
 *
 * One gatherer feeds one stream of one il_ice_agent. The driver lists its
 * host bases (a socket per interface and component: it owns the sockets),
 * the STUN and TURN servers, then starts it; the gatherer then
 *   - adds host candidates at once, with the RFC 8421 local preferences;
 *   - runs a STUN Binding transaction (stun_client.h) from every host base
 *     to every STUN server of its family: server-reflexive candidates;
 *   - allocates on every TURN server (turn_client.h) over UDP from the
 *     component's preferred host base, or over a TCP or TLS connection the
 *     driver opens for it: relayed candidates;
 *   - hands each candidate to the agent as it comes and to cb->candidate
 *     (the driver signals it: trickle), then end-of-candidates when every
 *     transaction and allocation has ended.
 *
 * Datagrams: whatever arrives on a host base goes to
 * il_ice_gatherer_handle_datagram, which keeps the STUN/TURN server
 * traffic and passes the rest to the agent. The agent's cb->send should
 * call il_ice_gatherer_send: relayed locals go out through their TURN
 * client (the permission installed first, the datagram held until then),
 * the others from their base through cb->send.
 *
 * Policies (issue #5 §2): ALL; RELAY_ONLY: only relayed candidates are
 * offered and used (no Binding requests, host bases never given to the
 * agent, and il_ice_gatherer_send refuses any non-relayed local);
 * NO_HOST (privacy): host candidates are bases for the agent but are
 * never signalled (cb->candidate), server-reflexive and relayed are. */
#ifndef ICELAB_ICE_GATHER_H
#define ICELAB_ICE_GATHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"
#include "icelab/ice.h"
#include "icelab/stun_client.h"

#define IL_ICE_GATHER_MAX_HOSTS 8        /* host bases (all components) */
#define IL_ICE_GATHER_MAX_SERVERS 4      /* STUN servers; TURN servers */
#define IL_ICE_GATHER_MAX_PERMITS 64     /* remote IPs remembered for permissions */

enum il_ice_gather_policy {
	IL_ICE_GATHER_ALL = 0,
	IL_ICE_GATHER_RELAY_ONLY,
	IL_ICE_GATHER_NO_HOST,
};
const char *il_ice_gather_policy_name(int policy); /* "all", "relay-only", "no-host" */
/* Parses "all", "relay-only" (or "relay"), "no-host"; -1 when unknown. */
int il_ice_gather_policy_parse(const char *text);

enum il_ice_server_transport {
	IL_ICE_SERVER_UDP = 0,
	IL_ICE_SERVER_TCP,
	IL_ICE_SERVER_TLS,       /* a stream the driver wraps in TLS */
};

typedef struct il_ice_gather_config {
	int policy;                  /* enum il_ice_gather_policy */
	il_stun_txn_config binding;  /* Binding transactions: UDP defaults */
	const char *software;        /* SOFTWARE in Allocate; NULL: none */
} il_ice_gather_config;

void il_ice_gather_config_defaults(il_ice_gather_config *cfg);

typedef struct il_ice_gather_callbacks {
	void *user;
	void (*random)(void *user, uint8_t *out, size_t len);
	/* A datagram from the host base `base` to `to`. */
	void (*send)(void *user, const il_addr *base, const il_addr *to, const uint8_t *data,
		     size_t len);
	/* TURN over TCP/TLS: open connection `id` to server from base's IP;
	 * then call il_ice_gatherer_stream_connected / _data / _closed.
	 * Return 0, or -1 (the allocation fails). May be NULL: no streams. */
	int (*stream_open)(void *user, unsigned id, const il_addr *base, const il_addr *server,
			   int transport);
	int (*stream_send)(void *user, unsigned id, const uint8_t *data, size_t len);
	/* A candidate to signal to the peer, already given to the agent;
	 * NULL: end-of-candidates (RFC 8838 §8.2). May be NULL. */
	void (*candidate)(void *user, unsigned stream, const il_ice_candidate *c);
} il_ice_gather_callbacks;

typedef struct il_ice_gather_stats {
	uint32_t host, srflx, relay;     /* candidates given to the agent */
	uint32_t signalled;              /* handed to cb->candidate */
	uint32_t redundant;              /* srflx equal to its base or known (§5.1.3) */
	uint32_t binding_failed, relay_failed;
	uint64_t relay_sends, relay_queued, relay_dropped;
	uint64_t refused_sends;          /* RELAY_ONLY: a non-relayed local asked to send */
	uint64_t host_sends;             /* datagrams sent from a host base for the agent */
} il_ice_gather_stats;

typedef struct il_ice_gatherer il_ice_gatherer;

/* Gathers for stream `stream` of agent (which must outlive it).
 * NULL on bad config (cb->random and cb->send required) or no memory. */
il_ice_gatherer *il_ice_gatherer_new(const il_ice_gather_config *cfg,
				     const il_ice_gather_callbacks *cb, il_ice_agent *agent,
				     unsigned stream);
/* Frees the TURN clients without a word to the servers: call
 * il_ice_gatherer_release first for a clean goodbye. */
void il_ice_gatherer_free(il_ice_gatherer *g);

/* Before il_ice_gatherer_start. A host base (the driver's socket address)
 * for component; unreliable ones (RFC 8421 §5) get the lowest
 * preferences. 0, or -1 (full, bad address, already started). */
int il_ice_gatherer_add_host(il_ice_gatherer *g, unsigned component, const il_addr *addr,
			     bool unreliable);
int il_ice_gatherer_add_stun_server(il_ice_gatherer *g, const il_addr *server);
/* username NULL: no credentials. Strings are copied. */
int il_ice_gatherer_add_turn_server(il_ice_gatherer *g, const il_addr *server, int transport,
				    const char *username, const char *password);

/* Starts gathering: host candidates now, transactions and allocations
 * begin. 0, or -1 when there is nothing to gather from. */
int il_ice_gatherer_start(il_ice_gatherer *g, uint64_t now_ms);
/* ICE restart (RFC 8445 §9): gathers server-reflexive candidates afresh
 * (mappings may have changed) and hands every candidate of the agent,
 * old and new, to cb->candidate again, then end-of-candidates. The
 * driver calls il_ice_agent_restart itself. */
int il_ice_gatherer_restart(il_ice_gatherer *g, uint64_t now_ms);

/* A datagram that arrived on host base `base` from `from`. Server
 * traffic (Binding responses, TURN over UDP) is used here; the rest goes
 * to il_ice_agent_handle_datagram. Returns enum il_ice_datagram, with
 * IL_ICE_DGRAM_STUN for server traffic used. */
int il_ice_gatherer_handle_datagram(il_ice_gatherer *g, const il_addr *base, const il_addr *from,
				    const uint8_t *data, size_t len, uint64_t now_ms);
/* The driver's cb->send of the agent: routes a datagram by its local
 * candidate. IL_ICE_OK, or IL_ICE_ERR_STATE when the policy refused it,
 * IL_ICE_ERR_FULL when it could not be held for a permission. */
int il_ice_gatherer_send(il_ice_gatherer *g, const il_ice_candidate *local, const il_addr *remote,
			 const uint8_t *data, size_t len, uint64_t now_ms);
/* A remote candidate from the peer's signalling: to the agent, and a
 * TURN permission for its IP on every allocation. Returns what
 * il_ice_agent_add_remote_candidate returned. */
int il_ice_gatherer_add_remote_candidate(il_ice_gatherer *g, const il_ice_candidate *c,
					 uint64_t now_ms);

/* TCP/TLS connections opened with cb->stream_open. */
void il_ice_gatherer_stream_connected(il_ice_gatherer *g, unsigned id, uint64_t now_ms);
void il_ice_gatherer_stream_data(il_ice_gatherer *g, unsigned id, const uint8_t *data, size_t len,
				 uint64_t now_ms);
void il_ice_gatherer_stream_closed(il_ice_gatherer *g, unsigned id, uint64_t now_ms);

/* Deletes every allocation (Refresh with lifetime 0). */
void il_ice_gatherer_release(il_ice_gatherer *g, uint64_t now_ms);

void il_ice_gatherer_timer(il_ice_gatherer *g, uint64_t now_ms);
/* UINT64_MAX when nothing is scheduled. */
uint64_t il_ice_gatherer_next_deadline(const il_ice_gatherer *g);

/* Every transaction and allocation has ended (end-of-candidates sent). */
bool il_ice_gatherer_done(const il_ice_gatherer *g);
void il_ice_gatherer_get_stats(const il_ice_gatherer *g, il_ice_gather_stats *out);
/* True when addr is the relayed address of one of our allocations. */
bool il_ice_gatherer_is_relayed(const il_ice_gatherer *g, const il_addr *addr);

#endif
