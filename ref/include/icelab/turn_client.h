/* The TURN client core (RFC 8656 §5, §7-§12, with the long-term
 * credential mechanism of RFC 8489 §9.2): allocate with challenge
 * handling, refresh, permissions, channels, send and receive, over UDP or
 * over a byte stream (TCP, TLS).
 *
 * A sans-I/O state machine (ARCHITECTURE.md): the caller feeds what the
 * server sent (datagrams, or stream bytes) with `now`, and the core
 * answers through the callbacks: bytes for the server (cb->send), events,
 * data from peers. Randomness (transaction ids) comes from cb->random.
 * The caller runs il_turn_client_timer at il_turn_client_next_deadline.
 * The same core serves `icelab probe allocate`, the ICE agent and the
 * harness, on real or virtual sockets and clocks.
 *
 * Callbacks may call back into the client (send data, bind a channel),
 * but must not free it. */
#ifndef ICELAB_TURN_CLIENT_H
#define ICELAB_TURN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"
#include "icelab/stun_client.h"
#include "icelab/stun_integrity.h"

#define IL_TURN_CLIENT_MAX_PERMISSIONS 64
#define IL_TURN_CLIENT_MAX_CHANNELS 64
/* Requests in flight at once (Allocate/Refresh, CreatePermission,
 * ChannelBind). */
#define IL_TURN_CLIENT_MAX_TRANSACTIONS 16

typedef struct il_turn_client_config {
	/* Long-term credentials; username NULL: none (a server that asks for
	 * none; a 401 then fails the request). */
	const char *username;
	const char *password;
	const char *software;        /* SOFTWARE in Allocate/Refresh; NULL: none */
	bool stream;                 /* TCP or TLS to the server: stream framing */
	il_stun_txn_config txn;      /* RTO, Rc, Rm, Ti (il_stun_txn_config_defaults) */
	/* Allocate options (RFC 8656 §7.1). */
	uint32_t lifetime_s;         /* LIFETIME asked for; 0: server default */
	uint8_t requested_family;    /* REQUESTED-ADDRESS-FAMILY: IL_AF_INET(6); NONE: omit */
	bool additional_ipv6;        /* ADDITIONAL-ADDRESS-FAMILY IPv6: dual allocation */
	bool dont_fragment;          /* DONT-FRAGMENT in Allocate and Send indications */
	bool even_port;              /* EVEN-PORT */
	bool reserve_next;           /* ... with the R bit */
	bool use_reservation_token;  /* RESERVATION-TOKEN from reservation_token */
	uint8_t reservation_token[8];
	/* Credentials (RFC 8489 §9.2.5): the algorithm is "the first algorithm
	 * supported on the list" of PASSWORD-ALGORITHMS. With allow_md5 false
	 * MD5 is not supported, so SHA-256 is chosen whenever offered and a
	 * server offering only MD5 (or no list) is refused. */
	bool allow_md5;              /* default true */
	bool fingerprint;            /* FINGERPRINT on requests (RFC 8656 §5: MAY) */
	uint8_t max_nonce_retries;   /* 438 retries per request: 3 */
	/* Timers (seconds). Refresh at lifetime - margin (lifetime/2 when the
	 * lifetime is under twice the margin): RFC 8656 §8 suggests "roughly 1
	 * minute before it expires". Permissions last 300 s (§9), channels
	 * 600 s (§12). */
	uint32_t refresh_margin_s;      /* 60 */
	uint32_t permission_refresh_s;  /* 240 */
	uint32_t channel_refresh_s;     /* 540 */
} il_turn_client_config;

void il_turn_client_config_defaults(il_turn_client_config *cfg);

enum il_turn_client_state {
	IL_TURN_CLIENT_IDLE = 0,
	IL_TURN_CLIENT_ALLOCATING,
	IL_TURN_CLIENT_ALLOCATED,
	IL_TURN_CLIENT_RELEASING,
	IL_TURN_CLIENT_RELEASED,     /* released, failed, expired or lost: start afresh */
};
const char *il_turn_client_state_name(enum il_turn_client_state state);

enum il_turn_client_event_type {
	IL_TURN_CLIENT_EV_ALLOCATED = 1,     /* relayed[], mapped, lifetime_s */
	IL_TURN_CLIENT_EV_ALLOCATE_FAILED,   /* failure, error_code, reason, alternate */
	IL_TURN_CLIENT_EV_REFRESHED,         /* lifetime_s */
	IL_TURN_CLIENT_EV_REFRESH_FAILED,    /* the allocation lives on until it expires */
	IL_TURN_CLIENT_EV_RELEASED,          /* after il_turn_client_release */
	IL_TURN_CLIENT_EV_ALLOCATION_LOST,   /* 437, expiry, or the connection closed */
	IL_TURN_CLIENT_EV_PERMISSION_OK,     /* peer: installed (first time) */
	IL_TURN_CLIENT_EV_PERMISSION_FAILED, /* peer: not installed, or its refresh failed */
	IL_TURN_CLIENT_EV_CHANNEL_BOUND,     /* peer, channel */
	IL_TURN_CLIENT_EV_CHANNEL_FAILED,    /* peer, channel */
};
const char *il_turn_client_event_name(int type);

enum il_turn_client_failure {
	IL_TURN_CLIENT_FAIL_NONE = 0,
	IL_TURN_CLIENT_FAIL_ERROR_RESPONSE,  /* error_code and reason from the server */
	IL_TURN_CLIENT_FAIL_TIMEOUT,
	IL_TURN_CLIENT_FAIL_INTEGRITY,       /* every response failed integrity (§9.2.5) */
	IL_TURN_CLIENT_FAIL_AUTH,            /* a challenge we must not answer (§9.2.5) */
	IL_TURN_CLIENT_FAIL_BAD_RESPONSE,    /* success without what it must carry */
	IL_TURN_CLIENT_FAIL_CONNECTION,      /* the TCP/TLS connection closed */
	IL_TURN_CLIENT_FAIL_EXPIRED,         /* the lifetime ran out unrefreshed */
};
const char *il_turn_client_failure_name(int failure);

typedef struct il_turn_client_event {
	int type;                    /* enum il_turn_client_event_type */
	int failure;                 /* enum il_turn_client_failure */
	int error_code;              /* from ERROR-CODE; 0 when none */
	const char *reason;          /* NUL-terminated; "" when none */
	il_addr relayed[2];          /* ALLOCATED: one, or two when dual */
	uint8_t relayed_count;
	il_addr mapped;              /* XOR-MAPPED-ADDRESS; family NONE if absent */
	uint32_t lifetime_s;
	/* ALLOCATED: ADDRESS-ERROR-CODE for a family not allocated (§7.3). */
	int address_error_code;
	uint8_t address_error_family;
	bool has_reservation_token;  /* ALLOCATED with EVEN-PORT R=1 */
	uint8_t reservation_token[8];
	il_addr alternate;           /* ALLOCATE_FAILED 300: ALTERNATE-SERVER */
	il_addr peer;                /* PERMISSION_*, CHANNEL_* */
	uint16_t channel;            /* CHANNEL_* */
} il_turn_client_event;

typedef struct il_turn_client_callbacks {
	void *user;
	void (*random)(void *user, uint8_t *out, size_t len);
	/* Bytes for the server: a datagram, or a chunk of the stream. */
	void (*send)(void *user, const uint8_t *data, size_t len);
	void (*event)(void *user, const il_turn_client_event *ev);
	/* Data relayed from a peer (Data indication or ChannelData). */
	void (*data)(void *user, const il_addr *peer, const uint8_t *data, size_t len);
} il_turn_client_callbacks;

enum il_turn_client_err {
	IL_TURN_CLIENT_OK = 0,
	IL_TURN_CLIENT_ERR_STATE = -1,         /* not in a state that allows it */
	IL_TURN_CLIENT_ERR_ARGUMENT = -2,      /* bad address, family, length */
	IL_TURN_CLIENT_ERR_FULL = -3,          /* no room for a permission, channel or request */
	IL_TURN_CLIENT_ERR_NO_PERMISSION = -4, /* send to a peer without an installed permission */
	IL_TURN_CLIENT_ERR_STREAM = -5,        /* the stream from the server is broken */
};

typedef struct il_turn_client il_turn_client;

/* One allocation: the client object, its tables and buffers (a 64 kB
 * stream buffer more with cfg->stream). NULL on bad config or no memory. */
il_turn_client *il_turn_client_new(const il_turn_client_config *cfg,
				   const il_turn_client_callbacks *cb);
void il_turn_client_free(il_turn_client *c);

/* Sends the first Allocate (without credentials: RFC 8489 §9.2.3.1). */
int il_turn_client_allocate(il_turn_client *c, uint64_t now_ms);
/* Installs permissions for the IPs of peers (ports ignored, §9); they are
 * refreshed every permission_refresh_s while the allocation lives. */
int il_turn_client_create_permission(il_turn_client *c, const il_addr *peers, size_t count,
				     uint64_t now_ms);
/* Stops refreshing the permission for peer's IP. */
void il_turn_client_forget_permission(il_turn_client *c, const il_addr *peer);
/* Binds a channel to peer (or returns the one already bound or being
 * bound) and refreshes it every channel_refresh_s. *channel may be NULL. */
int il_turn_client_bind_channel(il_turn_client *c, const il_addr *peer, uint16_t *channel,
				uint64_t now_ms);
/* Sends data to peer: ChannelData when a channel to it is bound, else a
 * Send indication. The peer's IP needs an installed permission (§11.1). */
int il_turn_client_send(il_turn_client *c, const il_addr *peer, const uint8_t *data,
			size_t len, uint64_t now_ms);
/* Refreshes now (the timer does it on its own before expiry). */
int il_turn_client_refresh(il_turn_client *c, uint64_t now_ms);
/* Deletes the allocation: Refresh with LIFETIME 0 (§8.1); RELEASED follows. */
int il_turn_client_release(il_turn_client *c, uint64_t now_ms);

/* One datagram from the server (UDP). Returns 1 when it was used, 0 when
 * dropped (malformed, unmatched, unauthenticated, unknown channel). */
int il_turn_client_handle_datagram(il_turn_client *c, const uint8_t *data, size_t len,
				   uint64_t now_ms);
/* Bytes from the server's stream (TCP/TLS), any split. Returns how many
 * frames were used, or IL_TURN_CLIENT_ERR_STREAM when the framing broke
 * (then close the connection and call il_turn_client_stream_closed). */
int il_turn_client_handle_stream(il_turn_client *c, const uint8_t *data, size_t len,
				 uint64_t now_ms);
/* The TCP/TLS connection closed: transactions fail, the allocation is
 * lost with it (RFC 8656 §3.1). */
void il_turn_client_stream_closed(il_turn_client *c, uint64_t now_ms);

void il_turn_client_timer(il_turn_client *c, uint64_t now_ms);
/* UINT64_MAX when nothing is scheduled. */
uint64_t il_turn_client_next_deadline(const il_turn_client *c);

enum il_turn_client_state il_turn_client_get_state(const il_turn_client *c);
/* The relayed address of a family (IL_AF_NONE: the first), or NULL. */
const il_addr *il_turn_client_relayed(const il_turn_client *c, uint8_t family);
/* The channel bound (confirmed) to peer, or 0. */
uint16_t il_turn_client_channel(const il_turn_client *c, const il_addr *peer);
/* True when the server confirmed a permission for peer's IP. */
bool il_turn_client_has_permission(const il_turn_client *c, const il_addr *peer);

#endif
