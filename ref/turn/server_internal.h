/* Private state of the TURN server core (turn_server.h), shared by the
 * server*.c files and their unit tests. Nothing here is public API.
 *
 * Memory layout (target: under 2 kB per allocation, coturn keeps 22.5 kB):
 * one malloc'd turn_alloc (about 200 bytes) per allocation, plus two small
 * arrays grown on demand by CreatePermission/ChannelBind (32 bytes a
 * permission, 32 a channel), plus one shared turn_user per username. The
 * tables (5-tuple -> allocation, relayed address -> allocation, username ->
 * user) are chained hash tables whose buckets are sized from
 * max_allocations at il_turn_server_new. Permissions and channels of an
 * allocation are found by a linear scan of their array: at the few dozen
 * entries an allocation may hold (max_permissions, max_channels) a scan
 * over contiguous 32-byte entries is as fast as a hash probe and costs no
 * memory. Nothing is allocated on the relay path: Data indications and
 * ChannelData are built into srv->out. */
#ifndef ICELAB_TURN_SERVER_INTERNAL_H
#define ICELAB_TURN_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/channeldata.h"
#include "icelab/peer_policy.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"
#include "icelab/turn_server.h"

#define TURN_PROTO_UDP 17 /* REQUESTED-TRANSPORT values (IANA protocol numbers) */
#define TURN_PROTO_TCP 6
/* RFC 8656 §12: "MUST NOT be rebound ... until 5 minutes after the
 * binding expires". */
#define TURN_CHANNEL_COOLDOWN_MS (300u * 1000u)
/* RFC 6062 §5.2, §5.3: "If no ConnectionBind request ... after 30
 * seconds, the peer data connection MUST be closed." */
#define TURN_TCP_BIND_TIMEOUT_MS (30u * 1000u)
/* Largest message we build: a STUN message is at most 20 + 65535 bytes. */
#define TURN_OUT_CAP (IL_STUN_HEADER_LEN + 65536)
#define TURN_USERNAME_MAX 764 /* 763 bytes (RFC 8489 §14.3) + NUL */
#define TURN_NONCE_MAC_LEN 16
/* cookie (13) + base64(expiry 8 || mac 16) (32) */
#define TURN_NONCE_LEN (IL_STUN_NONCE_COOKIE_LEN + 32)
#define TURN_REALM_MAX 764

/* The per-source 401 limit (il_turn_server_config.max_401_per_second):
 * TURN_LIMIT_SETS sets of TURN_LIMIT_WAYS entries, a source hashed (with
 * the secret seed) to one set. 1024 sources, 24 kB, allocated with the
 * server. */
#define TURN_LIMIT_WAYS 4
#define TURN_LIMIT_SETS 256
#define TURN_LIMIT_SOURCES (TURN_LIMIT_WAYS * TURN_LIMIT_SETS)
#define TURN_MILLI 1000u

typedef struct turn_source_limit {
	uint64_t last_ms;      /* when milli_tokens was last refilled */
	uint32_t milli_tokens; /* a 401 costs TURN_MILLI */
	uint8_t family;        /* IL_AF_NONE: a free entry */
	uint8_t key[8];        /* an IPv4 address, or an IPv6 /64 */
} turn_source_limit;

/* A token bucket of relayed bytes (max_bps_per_allocation), in
 * thousandths of a byte so that refills by the millisecond are exact. */
typedef struct turn_rate {
	uint64_t milli_bytes;
	uint64_t last_ms;
} turn_rate;

enum turn_direction { TURN_TO_PEER = 0, TURN_FROM_PEER = 1 };

typedef struct turn_perm {
	uint64_t expires_ms;
	uint8_t family;
	uint8_t ip[16];
} turn_perm;

enum turn_chan_state {
	TURN_CHAN_BOUND = 0,
	TURN_CHAN_COOLDOWN = 1, /* expired; number and peer reserved 5 min */
};

typedef struct turn_chan {
	uint64_t expires_ms; /* BOUND: end of binding; COOLDOWN: end of reservation */
	il_addr peer;
	uint16_t number;
	uint8_t state;
} turn_chan;

typedef struct turn_user {
	struct turn_user *next;
	uint32_t hash;
	uint32_t refs;        /* allocations and pending TCP connections */
	uint32_t allocations; /* for max_allocations_per_user (486) */
	char name[];          /* NUL-terminated */
} turn_user;

/* A chain link of the relayed-address table; an allocation has one per
 * relayed address (two when dual-stack). */
typedef struct turn_relay_node {
	struct turn_relay_node *next;
	struct turn_alloc *alloc;
	uint8_t slot; /* index in alloc->relayed */
} turn_relay_node;

typedef struct turn_alloc {
	struct turn_alloc *next_by_ft;
	turn_relay_node relay_node[2];
	turn_user *user;
	turn_perm *perms;
	turn_chan *chans;
	turn_rate rate[2];     /* enum turn_direction */
	uint64_t expires_ms;
	uint64_t deadline_ms; /* earliest of expires, permissions, channels */
	il_five_tuple ft;
	il_addr relayed[2];    /* relayed_count of them: dual-stack has two */
	il_addr advertised[2]; /* what XOR-RELAYED-ADDRESS says (external) */
	uint32_t heap_index;
	/* What the Allocate success response was made of, to resend it to a
	 * retransmission (RFC 8656 §7.2 NOTE, the "stateless stack" way):
	 * the transaction id, the lifetime granted, the token and the
	 * partial-failure code; the response is rebuilt byte for byte. */
	uint8_t tid[IL_STUN_TID_LEN];
	uint8_t token[8];
	uint32_t granted_lifetime_s;
	uint16_t addr_error_code;  /* ADDRESS-ERROR-CODE of a dual request, 0: none */
	uint8_t addr_error_family;
	uint8_t relayed_count;
	bool has_token;
	bool tcp;                  /* RFC 6062 allocation */
	bool dont_fragment;
	uint16_t perm_count, perm_cap;
	uint16_t chan_count, chan_cap;
} turn_alloc;

enum turn_conn_state {
	TURN_CONN_CONNECTING = 1, /* Connect sent to tcp_connect, no answer yet */
	TURN_CONN_PENDING_BIND,   /* peer data connection up, waiting for ConnectionBind */
	TURN_CONN_BOUND,          /* spliced by the driver */
};

/* An RFC 6062 peer data connection. */
typedef struct turn_conn {
	struct turn_conn *next;
	turn_alloc *alloc;
	uint64_t deadline_ms; /* PENDING_BIND: close after; else UINT64_MAX */
	il_addr peer;
	uint32_t id;
	uint8_t state;
	/* To answer the Connect request once tcp_connected says how it went. */
	uint8_t tid[IL_STUN_TID_LEN];
	bool mi_sha256;
	uint8_t key_index;
	enum il_stun_password_algorithm alg;
} turn_conn;

/* The result of long-term authentication of one request. */
typedef struct turn_auth {
	bool mi_sha256; /* answer with MESSAGE-INTEGRITY-SHA256, else MESSAGE-INTEGRITY */
	enum il_stun_password_algorithm alg;
	il_stun_key key;
	uint8_t key_index; /* which of the user's keys (keys_lookup) verified */
	char username[TURN_USERNAME_MAX];
} turn_auth;

struct il_turn_server {
	il_turn_server_config cfg;
	il_turn_server_callbacks cb;
	char realm[TURN_REALM_MAX];
	char software[TURN_REALM_MAX];
	il_peer_policy peers;
	uint64_t hash_seed;
	/* HMAC-SHA256(nonce_secret, .) keyed once: the nonce MAC. */
	_Alignas(16) uint8_t nonce_ipad_state[128];
	_Alignas(16) uint8_t nonce_opad_state[128];

	turn_alloc **by_ft;     /* buckets, table_mask + 1 of them */
	turn_relay_node **by_relay;
	turn_user **users;
	uint32_t table_mask;

	turn_alloc **heap;      /* min-heap of allocations by deadline_ms */
	uint32_t heap_len, heap_cap;

	turn_conn *conns;       /* RFC 6062 connections (few: a list) */
	uint32_t conn_count;
	uint32_t next_conn_id;

	turn_source_limit *limits; /* TURN_LIMIT_SOURCES entries */

	uint64_t heap_bytes;    /* bytes currently malloc'd, tables excluded */
	il_turn_server_stats stats;
	uint8_t out[TURN_OUT_CAP];
};

/* The channel numbers this server accepts (config rfc5766_channels). */
static inline enum il_channel_range turn_channel_range(const il_turn_server *srv)
{
	return srv->cfg.rfc5766_channels ? IL_CHANNELS_RFC5766 : IL_CHANNELS_RFC8656;
}

/* server.c: memory, hashing, tables, timers, replies */
void *turn_malloc(il_turn_server *srv, size_t n);
void *turn_realloc(il_turn_server *srv, void *p, size_t old_n, size_t new_n);
void turn_free(il_turn_server *srv, void *p, size_t n);
uint32_t turn_hash_addr(const il_turn_server *srv, const il_addr *a, uint32_t extra);
uint32_t turn_hash_ft(const il_turn_server *srv, const il_five_tuple *ft);
bool turn_ft_equal(const il_five_tuple *a, const il_five_tuple *b);
bool turn_ip_equal(const il_addr *a, const il_addr *b);
void turn_event(il_turn_server *srv, enum il_turn_event ev, const il_five_tuple *ft,
		const char *detail);
void turn_schedule(il_turn_server *srv, turn_alloc *a);
void turn_heap_remove(il_turn_server *srv, turn_alloc *a);

/* Reply building: begin a response to req, add attributes to *b, then
 * turn_reply_send (adds SOFTWARE when asked, the integrity of auth when
 * not NULL, and FINGERPRINT). */
void turn_reply_begin(il_turn_server *srv, il_stun_builder *b, const il_stun_msg *req,
		      uint8_t cls);
void turn_reply_send(il_turn_server *srv, il_stun_builder *b, const il_five_tuple *ft,
		     const turn_auth *auth, bool software);
/* An error response with the RFC reason phrase. */
void turn_reply_error(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
		      const turn_auth *auth, int code);
/* 420 with UNKNOWN-ATTRIBUTES listing types (RFC 8489 §6.3.1.1). */
void turn_reply_420(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
		    const uint16_t *types, size_t count);
uint64_t turn_unix_s(const il_turn_server *srv, uint64_t now_ms);

/* server_limits.c: the per-source 401 limit and bandwidth per allocation */
/* True when a 401 may go to ft's source now (and takes its token); false:
 * withhold it (counted). */
bool turn_limit_401(il_turn_server *srv, const il_five_tuple *ft, uint64_t now_ms);
/* A full bucket for a new allocation. */
void turn_rate_init(const il_turn_server *srv, turn_alloc *a, uint64_t now_ms);
/* True when len bytes may be relayed in direction dir (and takes them);
 * false: drop them (counted). */
bool turn_rate_take(il_turn_server *srv, turn_alloc *a, enum turn_direction dir, size_t len,
		    uint64_t now_ms);

/* server_auth.c */
void turn_auth_init(il_turn_server *srv);
/* Long-term credential checks of RFC 8489 §9.2.4. Returns true with *auth
 * filled when the request is authenticated; false when an error response
 * (400, 401, 438) was sent. alt_ft, when not NULL, is a second 5-tuple
 * the nonce may have been issued to (ConnectionBind: the control
 * connection). */
bool turn_authenticate(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
		       uint64_t now_ms, const il_five_tuple *alt_ft, turn_auth *auth);
/* Writes a fresh nonce for ft (TURN_NONCE_LEN characters, no NUL). */
void turn_nonce_make(il_turn_server *srv, const il_five_tuple *ft, uint64_t now_ms,
		     char out[TURN_NONCE_LEN]);
enum turn_nonce_verdict { TURN_NONCE_VALID, TURN_NONCE_EXPIRED, TURN_NONCE_FORGED };
enum turn_nonce_verdict turn_nonce_check(il_turn_server *srv, const il_five_tuple *ft,
					 const char *nonce, size_t len, uint64_t now_ms);
/* Re-derives the key of a stored user for a delayed response. */
bool turn_auth_for_user(il_turn_server *srv, const char *username,
			enum il_stun_password_algorithm alg, bool mi_sha256, uint8_t key_index,
			uint64_t now_ms, turn_auth *auth);

/* server_alloc.c */
void turn_handle_allocate(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
			  uint64_t now_ms);
void turn_handle_refresh(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
			 uint64_t now_ms);
turn_alloc *turn_alloc_find(const il_turn_server *srv, const il_five_tuple *ft);
turn_alloc *turn_alloc_find_relayed(const il_turn_server *srv, const il_addr *relayed);
void turn_alloc_delete(il_turn_server *srv, turn_alloc *a, enum il_turn_event why,
		       uint64_t now_ms);
/* Authenticates a request that needs an allocation on ft and checks the
 * allocation and its owner (437, 441); NULL when an error was sent. */
turn_alloc *turn_alloc_for_request(il_turn_server *srv, const il_five_tuple *ft,
				   const il_stun_msg *req, uint64_t now_ms, turn_auth *auth);
void turn_users_release(il_turn_server *srv, turn_user *u);
turn_user *turn_users_get(il_turn_server *srv, const char *name);

/* server_relay.c */
void turn_handle_create_permission(il_turn_server *srv, const il_five_tuple *ft,
				   const il_stun_msg *req, uint64_t now_ms);
void turn_handle_channel_bind(il_turn_server *srv, const il_five_tuple *ft,
			      const il_stun_msg *req, uint64_t now_ms);
void turn_handle_send(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *ind,
		      uint64_t now_ms);
void turn_handle_channeldata(il_turn_server *srv, const il_five_tuple *ft,
			     const uint8_t *data, size_t len, uint64_t now_ms);
turn_perm *turn_perm_find(turn_alloc *a, const il_addr *peer);
/* Expires permissions and channels due at now; returns the earliest
 * remaining deadline (UINT64_MAX: none). */
uint64_t turn_relay_expire(il_turn_server *srv, turn_alloc *a, uint64_t now_ms);
uint64_t turn_relay_next_deadline(const turn_alloc *a);
/* Removes the permissions and channels (bound or cooling down) of peers
 * turn_peer_check now denies (after a reconfigure), and reschedules a. */
void turn_relay_drop_denied(il_turn_server *srv, turn_alloc *a);
/* Peer policy of RFC 8656 §21.2.2 plus the TURN-loop rule (§21.1.7):
 * a peer that is one of our own relayed addresses is denied. */
enum il_peer_verdict turn_peer_check(const il_turn_server *srv, const il_addr *peer);

/* server_binding.c */
void turn_handle_binding(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req);

/* server_tcp.c */
void turn_handle_connect(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req,
			 uint64_t now_ms);
void turn_handle_connection_bind(il_turn_server *srv, const il_five_tuple *ft,
				 const il_stun_msg *req, uint64_t now_ms);
/* Closes every connection of an allocation (it is going away). */
void turn_tcp_alloc_gone(il_turn_server *srv, turn_alloc *a);
void turn_tcp_expire(il_turn_server *srv, uint64_t now_ms);
/* Closes the connections to peers turn_peer_check now denies. */
void turn_tcp_drop_denied(il_turn_server *srv);
uint64_t turn_tcp_next_deadline(const il_turn_server *srv);

#endif
