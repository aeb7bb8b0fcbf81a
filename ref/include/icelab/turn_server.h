/* The TURN server core (RFC 8656, RFC 6062, RFC 6156) with the STUN
 * Binding server (RFC 8489) and behaviour discovery (RFC 5780): a sans-I/O
 * state machine (ARCHITECTURE.md).
 *
 * The caller (ref/io for real sockets, sim/ for virtual ones) feeds it what
 * arrives from clients and from peers, with `now`; the core answers through
 * the callbacks, and tells the next deadline. Relay sockets are opened and
 * closed by the caller on the core's request (relay_open/relay_close), so
 * the core never binds anything itself. Randomness comes from cb->random. */
#ifndef ICELAB_TURN_SERVER_H
#define ICELAB_TURN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"
#include "icelab/peer_policy.h"
#include "icelab/stun_integrity.h"

enum il_transport {
	IL_TRANSPORT_UDP = 1,
	IL_TRANSPORT_TCP = 2,
	IL_TRANSPORT_TLS = 3,
	IL_TRANSPORT_DTLS = 4,
};

/* Where a client message came from: our listening address, the client's
 * address, and the transport. Allocations are keyed by it (RFC 8656 §2). */
typedef struct il_five_tuple {
	il_addr local;
	il_addr remote;
	uint8_t transport; /* enum il_transport */
} il_five_tuple;

/* Looks up a user's long-term key for a realm. Returns true and fills
 * *key (for the algorithm asked) when the user exists; false otherwise.
 * The REST API (username "expiry:user") is resolved here by the caller's
 * credential store, with `now_s` (UNIX seconds) for expiry. */
typedef bool (*il_turn_key_lookup)(void *user, const char *realm, const char *username,
				   enum il_stun_password_algorithm alg, uint64_t now_s,
				   il_stun_key *key);
/* Up to this many keys per user: the TURN REST API accepts credentials
 * made with the current secret and, during a rotation, the previous one
 * (draft-uberti-behave-turn-rest-00 §5.2: "at least 2 shared secrets"). */
#define IL_TURN_MAX_KEYS 2
/* Like il_turn_key_lookup, with every key the user may hold: fills
 * keys[0..n) and returns n (0: no such user; at most IL_TURN_MAX_KEYS).
 * The core accepts a request whose integrity checks with any of them and
 * answers with that key. */
typedef size_t (*il_turn_keys_lookup)(void *user, const char *realm, const char *username,
				      enum il_stun_password_algorithm alg, uint64_t now_s,
				      il_stun_key keys[IL_TURN_MAX_KEYS]);
/* USERHASH (RFC 8489 §14.4): a hash cannot be inverted, so the caller's
 * credential store, which knows its users, finds the one whose
 * SHA-256(username ":" realm) is userhash, fills *key as key_lookup would
 * and copies the username (NUL-terminated, at most username_cap bytes
 * with the NUL) so the allocation is owned by that user. NULL: USERHASH
 * is not supported (such requests get 401) and the "Username anonymity"
 * bit of the nonce cookie stays 0. */
typedef bool (*il_turn_userhash_lookup)(void *user, const char *realm,
					const uint8_t userhash[32],
					enum il_stun_password_algorithm alg, uint64_t now_s,
					il_stun_key *key, char *username, size_t username_cap);

typedef struct il_turn_server_config {
	const char *realm;            /* one realm per core; one core per tenant */
	const char *software;         /* SOFTWARE in responses; NULL for none */
	uint32_t default_lifetime_s;  /* 600 (RFC 8656 §7.2) */
	uint32_t max_lifetime_s;      /* 3600 */
	uint32_t permission_lifetime_s; /* 300 (§9) */
	uint32_t channel_lifetime_s;  /* 600 (§12) */
	uint32_t nonce_lifetime_s;    /* after this a nonce is stale: 438 */
	uint32_t max_allocations;     /* total, 508 beyond */
	uint32_t max_allocations_per_user; /* 486 beyond */
	uint16_t max_permissions;     /* per allocation */
	uint16_t max_channels;        /* per allocation */
	/* Channel numbers 0x4000-0x7FFF of RFC 5766 §11 instead of the
	 * 0x4000-0x4FFF of RFC 8656 §12 (which answers 400 outside it). For
	 * legacy clients that still pick numbers above 0x4FFF (coturn's
	 * turnutils_uclient); RFC 7983 leaves first bytes 80-127 unassigned,
	 * so nothing multiplexed on the port is mistaken for them. Default
	 * false. */
	bool rfc5766_channels;
	/* Per-source limit on 401 answers (issue #3 §4): a token bucket per
	 * source (an IPv4 address, an IPv6 /64) allows max_401_per_second
	 * 401 challenges with bursts of burst_401; beyond, the request gets
	 * silence and stats.dropped_401_limited counts it. A flood of
	 * unauthenticated requests then costs the server no answers (no
	 * reflection, no amplification) while other sources are unaffected.
	 * Sources live in a fixed table of TURN_LIMIT_SOURCES entries
	 * allocated with the server: when it is full a new source takes the
	 * entry that has recovered most (a full bucket is a fresh one), so
	 * memory stays bounded whatever the number of sources. 0 (the
	 * default of il_turn_server_config_defaults): no limit; the driver
	 * (`icelab serve`) sets 50 a second with bursts of 100. burst_401 0:
	 * the same as the rate. */
	uint32_t max_401_per_second;
	uint32_t burst_401;           /* at most 1000000 */
	/* Bandwidth per allocation: a token bucket on relayed payload bytes
	 * in each direction (client to peers, peers to client) of this many
	 * bits per second, with bursts of one second's worth (at least 64 KiB
	 * so any datagram can pass). Data beyond is dropped and counted
	 * (stats.dropped_bandwidth). 0 (the default): unlimited. RFC 6062
	 * TCP data is spliced by the driver and not seen here. */
	uint64_t max_bps_per_allocation;
	bool allow_md5;               /* offer MD5 in PASSWORD-ALGORITHMS */
	bool allow_sha256;            /* offer SHA-256 */
	/* Relay address families this server hands out; a disabled one is
	 * answered 440 (RFC 8656 §7.2 step 7). Both true by default. */
	bool relay_ipv4, relay_ipv6;
	/* Refuse-on-private: an Allocate whose advertised relayed address
	 * (external_v4/_v6 if set, else as bound) is private or loopback
	 * (il_addr_is_private) is refused with 508 unless this is true
	 * (labs and loopback tests). Default false. */
	bool allow_private_relay;
	/* The addresses put in XOR-RELAYED-ADDRESS when the relay socket is
	 * bound to a private address behind 1:1 NAT; family NONE: as bound. */
	il_addr external_v4, external_v6;
	/* RFC 5780: a second address enables OTHER-ADDRESS, CHANGE-REQUEST,
	 * RESPONSE-PORT and PADDING on UDP; family NONE (the default)
	 * disables them (they amplify) and they are then answered 420 as
	 * unknown comprehension-required attributes. primary_address is A1:P1
	 * and other_address A2:P2 of RFC 5780 §6.1; the driver listens on the
	 * four combinations A1:P1, A1:P2, A2:P1, A2:P2. */
	il_addr primary_address;
	il_addr other_address;
	uint8_t nonce_secret[32];     /* from the caller's random source */
	const il_peer_policy *peers;  /* who relayed data may reach */
	/* The lookups get cb->user as their first argument. key_lookup and
	 * keys_lookup NULL: no user exists (every TURN request is answered
	 * 401). */
	il_turn_key_lookup key_lookup;
	/* When set, used instead of key_lookup (secret rotation). */
	il_turn_keys_lookup keys_lookup;
	il_turn_userhash_lookup userhash_lookup;
	/* UNIX time in ms = now_ms + wall_clock_offset_ms: the now_s given
	 * to the lookups (REST credential expiry). 0 when the caller's now_ms
	 * already is UNIX time. */
	int64_t wall_clock_offset_ms;
} il_turn_server_config;

/* Defaults of RFC 8656 and of our secure-by-default stance. */
void il_turn_server_config_defaults(il_turn_server_config *cfg);

typedef struct il_turn_server_callbacks {
	void *user;
	void (*random)(void *user, uint8_t *out, size_t len);
	/* A message to a client on the 5-tuple it came from. RFC 5780 only
	 * (Binding over UDP with other_address set): ft->local may be another
	 * of the server's addresses (CHANGE-REQUEST: send from the socket
	 * bound to ft->local) and ft->remote's port the RESPONSE-PORT. */
	void (*send_to_client)(void *user, const il_five_tuple *ft, const uint8_t *data,
			       size_t len);
	/* A datagram from a relayed address to a peer (UDP relaying). */
	void (*send_to_peer)(void *user, const il_addr *relayed, const il_addr *peer,
			     const uint8_t *data, size_t len, bool dont_fragment);
	/* Opens a relay socket of the family and transport (IL_TRANSPORT_UDP,
	 * or IL_TRANSPORT_TCP for RFC 6062: a listening TCP socket); even_port
	 * asks for an even port
	 * and, with reserve_next, holds the next one for a RESERVATION-TOKEN
	 * (RFC 8656 §7.2). token != NULL asks for the port reserved under it,
	 * whatever its family: then family is IL_AF_NONE and *relayed tells
	 * the family (IPv4 or IPv6) the reservation was made with.
	 * Returns 0 with *relayed filled, or -1 when no port could be bound
	 * or the token is unknown (the core answers 508). When the core
	 * cannot use what was opened (refuse-on-private, a family it does not
	 * hand out) it calls relay_close on it before answering. */
	int (*relay_open)(void *user, uint8_t family, uint8_t transport, bool even_port,
			  bool reserve_next, const uint8_t *token, il_addr *relayed,
			  uint8_t token_out[8]);
	void (*relay_close)(void *user, const il_addr *relayed);
	/* RFC 6062: open a TCP connection from the relayed address to peer;
	 * the caller reports the outcome with il_turn_server_tcp_connected. */
	int (*tcp_connect)(void *user, const il_addr *relayed, const il_addr *peer,
			   uint32_t connection_id);
	/* RFC 6062 §5.4: ConnectionBind succeeded on the client connection ft
	 * (its success response already sent): from now on the driver splices
	 * ft and the peer data connection connection_id byte for byte, the
	 * core no longer sees that traffic. */
	void (*tcp_bind)(void *user, const il_five_tuple *ft, uint32_t connection_id);
	/* RFC 6062 §5.2-5.5: close the peer data connection (and its client
	 * data connection if bound): no ConnectionBind within 30 s, or the
	 * allocation went away. */
	void (*tcp_close)(void *user, uint32_t connection_id);
	/* Counters and logs: one event per thing that happened. */
	void (*event)(void *user, int event, const il_five_tuple *ft, const char *detail);
} il_turn_server_callbacks;

/* Events for logs and metrics. */
enum il_turn_event {
	IL_TURN_EV_ALLOCATION_CREATED = 1,
	IL_TURN_EV_ALLOCATION_DELETED,
	IL_TURN_EV_ALLOCATION_EXPIRED,
	IL_TURN_EV_PERMISSION_CREATED,
	IL_TURN_EV_CHANNEL_BOUND,
	IL_TURN_EV_AUTH_FAILED,
	IL_TURN_EV_PEER_DENIED,
	IL_TURN_EV_DROPPED_MALFORMED,
	IL_TURN_EV_DROPPED_NO_PERMISSION,
	IL_TURN_EV_DROPPED_NO_ALLOCATION,
	IL_TURN_EV_ALLOCATION_REFUSED, /* relay_open failed or refuse-on-private: 508 */
	IL_TURN_EV_TCP_CONNECTION,     /* RFC 6062 peer data connection made */
	IL_TURN_EV_401_LIMITED,        /* a 401 withheld: the source is over its rate */
	IL_TURN_EV_DROPPED_BANDWIDTH,  /* relayed data over max_bps_per_allocation */
	IL_TURN_EV_TCP_CLOSED_BY_POLICY, /* reconfigure: an RFC 6062 peer now denied */
};

typedef struct il_turn_server il_turn_server;

/* The only allocation is the server object and its tables (sized from
 * the config). Returns NULL on bad config or out of memory. */
il_turn_server *il_turn_server_new(const il_turn_server_config *cfg,
				   const il_turn_server_callbacks *cb);
void il_turn_server_free(il_turn_server *srv);

/* A STUN message or ChannelData from a client (one datagram, or one frame
 * cut by il_stream_next over TCP/TLS). */
void il_turn_server_handle_client(il_turn_server *srv, const il_five_tuple *ft,
				  const uint8_t *data, size_t len, uint64_t now_ms);
/* A datagram from peer arriving on a relayed address. */
void il_turn_server_handle_peer(il_turn_server *srv, const il_addr *relayed,
				const il_addr *peer, const uint8_t *data, size_t len,
				uint64_t now_ms);
/* The client's connection closed (TCP/TLS): its allocation goes too. */
void il_turn_server_client_closed(il_turn_server *srv, const il_five_tuple *ft,
				  uint64_t now_ms);
/* RFC 6062 outcome of a tcp_connect. */
void il_turn_server_tcp_connected(il_turn_server *srv, uint32_t connection_id, bool ok,
				  uint64_t now_ms);
/* RFC 6062 §5.3: the driver accepted a TCP connection from peer on a
 * relayed address. Returns the CONNECTION-ID announced to the client in a
 * ConnectionAttempt indication, or 0: close the connection (no such
 * allocation, no permission for the peer, peer denied, limit reached). */
uint32_t il_turn_server_tcp_peer_accepted(il_turn_server *srv, const il_addr *relayed,
					  const il_addr *peer, uint64_t now_ms);
/* RFC 6062 §5.5: a peer or client data connection closed (the driver
 * closes the other side itself). */
void il_turn_server_tcp_closed(il_turn_server *srv, uint32_t connection_id, uint64_t now_ms);

/* Expires allocations, permissions and channels due at now. */
void il_turn_server_timer(il_turn_server *srv, uint64_t now_ms);
/* The earliest time il_turn_server_timer has work; UINT64_MAX: none. */
uint64_t il_turn_server_next_deadline(const il_turn_server *srv);

/* Replaces realm, lifetimes, quotas, limits, peer policy and external
 * addresses (SIGHUP) without dropping allocations. What the new peer
 * policy denies goes at once: permissions and channels of denied peers,
 * and RFC 6062 peer data connections to them (tcp_close; a Connect still
 * in progress to such a peer is closed too and never answered). */
int il_turn_server_reconfigure(il_turn_server *srv, const il_turn_server_config *cfg);

typedef struct il_turn_server_stats {
	uint64_t allocations, permissions, channels;
	uint64_t packets_to_peers, bytes_to_peers, packets_from_peers, bytes_from_peers;
	uint64_t auth_failures, dropped_malformed, dropped_no_permission, dropped_denied;
	uint64_t dropped_no_allocation, challenges, tcp_connections;
	uint64_t dropped_401_limited;  /* 401 answers withheld (max_401_per_second) */
	uint64_t dropped_bandwidth;    /* datagrams over max_bps_per_allocation */
	uint64_t tcp_closed_by_policy; /* RFC 6062 connections closed by reconfigure */
} il_turn_server_stats;
void il_turn_server_get_stats(const il_turn_server *srv, il_turn_server_stats *out);

#endif
