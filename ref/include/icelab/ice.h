/* The ICE agent core (RFC 8445), with trickle ICE (RFC 8838), consent
 * freshness (RFC 7675), ICE-lite (RFC 8445 §2.7) and the dual-stack local
 * preferences of RFC 8421.
 *
 * A sans-I/O state machine (ARCHITECTURE.md): the caller (a driver: sim/,
 * ref/io, a test) gathers candidates, feeds every datagram that arrives on
 * a local base with il_ice_agent_handle_datagram and `now`, runs
 * il_ice_agent_timer at il_ice_agent_next_deadline, and the core answers
 * through the callbacks: datagrams to send (cb->send), events, and media
 * received on a pair (cb->data). Randomness (transaction ids, tie-breaker,
 * credentials, consent jitter) comes from cb->random.
 *
 * Relayed candidates: the agent never talks to a TURN server. A relayed
 * local candidate is one the driver obtained from its own il_turn_client;
 * cb->send then gets that candidate (type IL_ICE_CAND_RELAY, base = the
 * relayed address) and the driver sends the datagram with
 * il_turn_client_send to `remote` (installing the permission first).
 * What the TURN client delivers (cb->data of the TURN client: peer, data)
 * is handed back here as handle_datagram(local = relayed address,
 * remote = peer). Host and peer-reflexive locals are sent from `base`.
 *
 * Checks use their own retransmission (not il_stun_txn_table): one
 * transaction per pair, initial RTO = MAX(rto_min_ms, Ta * (Waiting +
 * In-Progress)) (RFC 8445 §14.3, reading its factor N as 1), doubling, Rc
 * transmissions and a last wait of Rm RTOs (RFC 8489 §6.2.1); the request
 * is rebuilt identically for each retransmission, so no copy is kept.
 *
 * Benchmark hook: il_ice_agent_handle_datagram answers a valid Binding
 * request in place (integrity with a pre-keyed HMAC, response built into a
 * stack buffer): capture one request from a peer agent's cb->send and feed
 * it in a loop; il_ice_agent_get_counters counts what the core processed.
 *
 * Callbacks may call il_ice_agent_send, but must not free the agent. */
#ifndef ICELAB_ICE_H
#define ICELAB_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"

#define IL_ICE_MAX_STREAMS 8
#define IL_ICE_MAX_COMPONENTS 4           /* component ids 1..4 (RTP, RTCP, ...) */
#define IL_ICE_MAX_LOCAL_CANDIDATES 32    /* per stream, peer-reflexive ones included */
#define IL_ICE_MAX_REMOTE_CANDIDATES 64   /* per stream, peer-reflexive ones included */
#define IL_ICE_MAX_PAIRS 128              /* per stream; cfg.max_pairs is the limit used */
#define IL_ICE_FOUNDATION_MAX 32          /* RFC 8445 §5.1.1.3: 1*32 ice-char */
#define IL_ICE_UFRAG_MAX 256              /* RFC 8839 §5.4 */
#define IL_ICE_PWD_MAX 256

enum il_ice_candidate_type {
	IL_ICE_CAND_HOST = 0,
	IL_ICE_CAND_SRFLX,
	IL_ICE_CAND_PRFLX,
	IL_ICE_CAND_RELAY,
};
const char *il_ice_candidate_type_name(int type); /* "host", "srflx", "prflx", "relay" */

enum il_ice_transport {
	IL_ICE_TRANSPORT_UDP = 0,
	IL_ICE_TRANSPORT_TCP,            /* RFC 6544: parsed and written by ref/sdp; not checked yet */
};

/* RFC 8445 §5.1.2.2 recommended type preferences. */
#define IL_ICE_TYPE_PREF_HOST 126
#define IL_ICE_TYPE_PREF_PRFLX 110
#define IL_ICE_TYPE_PREF_SRFLX 100
#define IL_ICE_TYPE_PREF_RELAY 0

typedef struct il_ice_candidate {
	char foundation[IL_ICE_FOUNDATION_MAX + 1];
	uint16_t component;      /* 1..256; the agent handles 1..IL_ICE_MAX_COMPONENTS */
	uint8_t transport;       /* enum il_ice_transport */
	uint8_t type;            /* enum il_ice_candidate_type */
	uint32_t priority;
	il_addr addr;            /* the candidate's transport address */
	il_addr related;         /* raddr/rport; family IL_AF_NONE when absent */
	/* Local candidates only (ignored for remote ones): */
	il_addr base;            /* host, relay: = addr (filled when unset); srflx: the host
	                            address it was learnt from; prflx: the base of the check */
	il_addr server;          /* srflx/relay: the STUN/TURN server (foundation, §5.1.1.3) */
} il_ice_candidate;

/* priority = 2^24*type_pref + 2^8*local_pref + (256 - component) (§5.1.2.1). */
uint32_t il_ice_candidate_priority(unsigned type_pref, unsigned local_pref, unsigned component);
/* The recommended type preference of a candidate type. */
unsigned il_ice_type_preference(int type);
/* RFC 8421 §4: local preferences for the host addresses of a dual-stack or
 * multihomed host, in the order given (the preferred first within each
 * family): IPv6 gets a head start of (N4 + N6) / N4 addresses, then the
 * families alternate; addresses flagged unreliable (may be NULL) go last.
 * Each gets a distinct value from 65535 down. */
void il_ice_local_preferences(const il_addr *addrs, const bool *unreliable, size_t count,
			      uint16_t *prefs);

/* Pair priority = 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0) (§6.1.2.3),
 * G the controlling agent's candidate priority, D the controlled's. */
uint64_t il_ice_pair_priority(uint32_t g, uint32_t d);

enum il_ice_state {
	IL_ICE_STATE_NEW = 0,
	IL_ICE_STATE_CHECKING,
	IL_ICE_STATE_CONNECTED,     /* every component of every stream has a selected pair */
	IL_ICE_STATE_COMPLETED,     /* ... and every one is nominated (check lists Completed) */
	IL_ICE_STATE_FAILED,        /* a check list failed, or consent expired */
	IL_ICE_STATE_DISCONNECTED,  /* a selected pair lost consent responses for a while */
	IL_ICE_STATE_CLOSED,
};
const char *il_ice_state_name(int state);

enum il_ice_pair_state {
	IL_ICE_PAIR_FROZEN = 0,
	IL_ICE_PAIR_WAITING,
	IL_ICE_PAIR_IN_PROGRESS,
	IL_ICE_PAIR_SUCCEEDED,
	IL_ICE_PAIR_FAILED,
};
const char *il_ice_pair_state_name(int state);

typedef struct il_ice_config {
	bool lite;                   /* we are an ICE-lite agent (§2.7): no checks of our own */
	bool controlling;            /* initial role (the offerer of a full-full session) */
	uint64_t tie_breaker;        /* 0: drawn from cb->random */
	uint32_t ta_ms;              /* pacing: 50 (§14.2) */
	uint32_t rto_min_ms;         /* 500 (§14.3: MUST NOT be smaller) */
	uint32_t rc;                 /* transmissions of a check: 7 (RFC 8489 §6.2.1) */
	uint32_t rm;                 /* last wait in RTOs: 16 */
	uint32_t max_pairs;          /* per check list: 100 (§6.1.2.5) */
	/* Regular nomination (§8.1.1): the controlling agent nominates, per
	 * check list, the highest-priority valid pair of each component once
	 * no better pair is still pending, or nomination_wait_ms after the
	 * first valid pair, whichever comes first. */
	uint32_t nomination_wait_ms; /* 1000 */
	/* RFC 5245 aggressive nomination: USE-CANDIDATE in every check of the
	 * controlling agent. Off by default (RFC 8445 deprecates it); a
	 * controlled agent always accepts it. */
	bool aggressive_nomination;
	bool consent;                /* RFC 7675 on selected pairs: true (lite agents never send) */
	uint32_t consent_interval_ms;     /* 5000, each interval drawn in [0.8, 1.2] x this */
	uint32_t consent_expiry_ms;       /* 30000: stop sending (RFC 7675 §5.1) */
	uint32_t consent_disconnect_ms;   /* no response for this long: DISCONNECTED: 10000 */
	uint32_t keepalive_ms;       /* Tr (§11) when consent is off: 15000 */
	const char *software;        /* SOFTWARE in checks; NULL: none */
	/* What a stream can hold, allocated with it: an ICE-lite SBC leg
	 * needs a handful, not the maxima (memory per call, issue #8 §7).
	 * 0: IL_ICE_MAX_LOCAL_CANDIDATES / IL_ICE_MAX_REMOTE_CANDIDATES; the
	 * pairs are max_pairs. */
	uint32_t max_local_candidates, max_remote_candidates;
} il_ice_config;

void il_ice_config_defaults(il_ice_config *cfg);

/* A snapshot of one candidate pair (getStats-like). */
typedef struct il_ice_pair_stats {
	unsigned stream, component;
	il_ice_candidate local, remote;
	uint64_t priority;
	int state;                   /* enum il_ice_pair_state */
	bool valid, nominated, selected;
	bool consent_expired;        /* this selected pair may not send any more */
	uint32_t rtt_ms;             /* last round trip of a check or consent request */
	uint64_t total_rtt_ms;
	uint32_t rtt_samples;
	uint32_t requests_sent, requests_received, responses_sent, responses_received;
	uint32_t consent_requests_sent;
	uint64_t packets_sent, packets_received, bytes_sent, bytes_received;
	uint64_t last_response_ms;   /* last valid response (consent) */
} il_ice_pair_stats;

enum il_ice_event_type {
	IL_ICE_EV_STATE = 1,         /* state: the agent's overall state */
	IL_ICE_EV_SELECTED_PAIR,     /* stream, component, pair (NULL: none any more) */
	IL_ICE_EV_ROLE,              /* controlling: after a role conflict (§7.3.1.1, §7.2.5.1) */
	IL_ICE_EV_PEER_REFLEXIVE,    /* stream, candidate, local: a prflx candidate learnt */
	IL_ICE_EV_CONSENT_EXPIRED,   /* stream, component: the selected pair may not send */
	IL_ICE_EV_RESTART_DONE,      /* stream: the restarted check list selected its pairs */
};
const char *il_ice_event_name(int type);

typedef struct il_ice_event {
	int type;
	unsigned stream, component;
	int state;
	bool controlling;
	bool local;                          /* PEER_REFLEXIVE: a local candidate (from a response) */
	const il_ice_candidate *candidate;   /* PEER_REFLEXIVE */
	const il_ice_pair_stats *pair;       /* SELECTED_PAIR */
} il_ice_event;

typedef struct il_ice_callbacks {
	void *user;
	void (*random)(void *user, uint8_t *out, size_t len);
	/* A datagram for remote, from local->base (host, prflx), or through
	 * the driver's TURN client when local->type is IL_ICE_CAND_RELAY. */
	void (*send)(void *user, unsigned stream, unsigned component, const il_ice_candidate *local,
		     const il_addr *remote, const uint8_t *data, size_t len);
	void (*event)(void *user, const il_ice_event *ev);       /* may be NULL */
	/* A non-STUN datagram (media) received on a known pair. May be NULL. */
	void (*data)(void *user, unsigned stream, unsigned component, const uint8_t *data,
		     size_t len);
} il_ice_callbacks;

enum il_ice_err {
	IL_ICE_OK = 0,
	IL_ICE_ERR_ARGUMENT = -1,      /* bad stream, component, address, credentials */
	IL_ICE_ERR_STATE = -2,         /* not now (closed, not started, lite...) */
	IL_ICE_ERR_FULL = -3,          /* no room for a stream, candidate or pair */
	IL_ICE_ERR_NO_PAIR = -4,       /* send: no selected pair for this component */
	IL_ICE_ERR_NO_CONSENT = -5,    /* send: consent expired (RFC 7675 §5.1) */
	IL_ICE_ERR_DUPLICATE = -6,     /* the candidate is already known */
};

/* What il_ice_agent_handle_datagram did with a datagram. */
enum il_ice_datagram {
	IL_ICE_DGRAM_DROPPED = 0,      /* unknown local base, bad STUN, bad integrity... */
	IL_ICE_DGRAM_STUN = 1,         /* a check, response or indication, processed */
	IL_ICE_DGRAM_DATA = 2,         /* media, passed to cb->data */
};

/* Counters for the whole agent (benchmarks, debugging). */
typedef struct il_ice_counters {
	uint64_t requests_received, responses_sent, errors_sent;
	uint64_t requests_sent, responses_received;
	uint64_t dropped;            /* malformed, unauthenticated, unknown base */
	uint64_t role_conflicts;
} il_ice_counters;

typedef struct il_ice_agent il_ice_agent;

/* One allocation. NULL on bad config (cb->random and cb->send required). */
il_ice_agent *il_ice_agent_new(const il_ice_config *cfg, const il_ice_callbacks *cb);
void il_ice_agent_free(il_ice_agent *a);

/* A data stream with components 1..components. ufrag/pwd NULL: random
 * (8 and 24 ice-chars); else 4..256 and 22..256 ice-chars (RFC 8839 §5.4).
 * Returns the stream index (0, 1, ...) or an error. rtcp-mux: 1 component. */
int il_ice_agent_add_stream(il_ice_agent *a, unsigned components, const char *ufrag,
			    const char *pwd);
const char *il_ice_agent_local_ufrag(const il_ice_agent *a, unsigned stream);
const char *il_ice_agent_local_pwd(const il_ice_agent *a, unsigned stream);

/* A gathered local candidate: type host, srflx or relay. priority 0: the
 * recommended one, with local preference 65535 - (candidates of the same
 * type and component so far); foundation "": from type, base IP, server
 * and transport (§5.1.1.3). Pairs form at once with known remote
 * candidates (trickle). Returns the candidate index. */
int il_ice_agent_add_local_candidate(il_ice_agent *a, unsigned stream, const il_ice_candidate *c,
				     uint64_t now_ms);
size_t il_ice_agent_local_candidate_count(const il_ice_agent *a, unsigned stream);
const il_ice_candidate *il_ice_agent_local_candidate(const il_ice_agent *a, unsigned stream,
						     size_t index);
/* Local gathering is over (RFC 8838 §13): with the remote end-of-candidates
 * it lets a check list fail. */
void il_ice_agent_local_end_of_candidates(il_ice_agent *a, unsigned stream, uint64_t now_ms);

/* The peer's credentials from its SDP. Different ones from those already
 * set mean the peer restarted ICE (§9): remote candidates and pairs go,
 * the selected pairs carry media until new ones are selected. */
int il_ice_agent_set_remote_credentials(il_ice_agent *a, unsigned stream, const char *ufrag,
					const char *pwd, uint64_t now_ms);
/* The peer is ICE-lite (a=ice-lite): a full agent then takes the
 * controlling role (§6.1.1). Call before il_ice_agent_start. */
void il_ice_agent_set_remote_lite(il_ice_agent *a, bool lite);
/* A remote candidate, before or after the checks started (trickle). */
int il_ice_agent_add_remote_candidate(il_ice_agent *a, unsigned stream, const il_ice_candidate *c,
				      uint64_t now_ms);
/* a=end-of-candidates from the peer (RFC 8838 §8.2). Without trickle,
 * call both end-of-candidates functions after adding everything. */
void il_ice_agent_remote_end_of_candidates(il_ice_agent *a, unsigned stream, uint64_t now_ms);

/* Starts the checks (a full agent) or the answering (lite). */
int il_ice_agent_start(il_ice_agent *a, uint64_t now_ms);

/* A datagram that arrived on a local base (host address, or a relayed
 * address through the driver's TURN client) from remote. Returns enum
 * il_ice_datagram. */
int il_ice_agent_handle_datagram(il_ice_agent *a, const il_addr *local, const il_addr *remote,
				 const uint8_t *data, size_t len, uint64_t now_ms);
/* Media on the selected pair of (stream, component). */
int il_ice_agent_send(il_ice_agent *a, unsigned stream, unsigned component, const uint8_t *data,
		      size_t len, uint64_t now_ms);

void il_ice_agent_timer(il_ice_agent *a, uint64_t now_ms);
/* UINT64_MAX when nothing is scheduled. */
uint64_t il_ice_agent_next_deadline(const il_ice_agent *a);

/* ICE restart of a stream (§9): new local credentials (NULL: random),
 * the check list starts again when the peer's new credentials come; media
 * stays on the selected pair until a new one is selected. */
int il_ice_agent_restart(il_ice_agent *a, unsigned stream, const char *ufrag, const char *pwd,
			 uint64_t now_ms);
/* The restart offer was abandoned (JSEP rollback): back to the state
 * before il_ice_agent_restart, while the peer's new credentials have not
 * come. IL_ICE_ERR_STATE when no restart is pending. */
int il_ice_agent_restart_rollback(il_ice_agent *a, unsigned stream, uint64_t now_ms);

/* Stops everything; state CLOSED. */
void il_ice_agent_close(il_ice_agent *a, uint64_t now_ms);

int il_ice_agent_get_state(const il_ice_agent *a);
bool il_ice_agent_is_controlling(const il_ice_agent *a);
uint64_t il_ice_agent_tie_breaker(const il_ice_agent *a);
size_t il_ice_agent_pair_count(const il_ice_agent *a, unsigned stream);
int il_ice_agent_get_pair(const il_ice_agent *a, unsigned stream, size_t index,
			  il_ice_pair_stats *out);
/* The selected pair of a component (IL_ICE_ERR_NO_PAIR when none). */
int il_ice_agent_get_selected_pair(const il_ice_agent *a, unsigned stream, unsigned component,
				   il_ice_pair_stats *out);
size_t il_ice_agent_remote_candidate_count(const il_ice_agent *a, unsigned stream);
const il_ice_candidate *il_ice_agent_remote_candidate(const il_ice_agent *a, unsigned stream,
						      size_t index);
void il_ice_agent_get_counters(const il_ice_agent *a, il_ice_counters *out);

/* True when text (len bytes) is 1..max ice-chars (ALPHA / DIGIT / "+" / "/"). */
bool il_ice_is_ice_chars(const char *text, size_t len);

#endif
