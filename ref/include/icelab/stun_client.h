/* STUN client transactions (RFC 8489 §6.2, §6.3): retransmission over
 * UDP with a doubling RTO, the Ti timeout over TCP and TLS, matching of
 * responses by transaction id, and the RTO estimate cached between
 * transactions (RFC 6298 with the exceptions of RFC 8489 §6.2.1).
 *
 * Sans-I/O (ARCHITECTURE.md): the table never reads a clock or touches a
 * socket. The caller gives `now`, the table sends through cb->send and
 * tells when il_stun_txn_timer must run next. Transaction ids come inside
 * the request the caller built (from its random source). The table lives
 * in slots the caller provides: no allocation, no heap per transaction.
 *
 * The layer above decides what a response means: it matches it with
 * il_stun_txn_match, checks it (integrity, RFC 8489 §9.2.5), then either
 * completes the transaction or discards the response, so that discarded
 * responses keep the retransmissions going as the RFC asks. */
#ifndef ICELAB_STUN_CLIENT_H
#define ICELAB_STUN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/stun.h"

/* Longest request a slot keeps for retransmission. RFC 8489 §6.1 asks for
 * messages that fit the path MTU; 1280 is the IPv6 minimum. */
#define IL_STUN_TXN_MSG_MAX 1280

typedef struct il_stun_txn_config {
	bool reliable;        /* TCP or TLS: no retransmission (§6.2.2) */
	uint32_t rto_ms;      /* initial RTO: 500 (§6.2.1) */
	uint32_t rto_min_ms;  /* floor of the computed RTO: 100 */
	uint32_t rto_max_ms;  /* ceiling of the computed RTO: 60000 */
	uint32_t rc;          /* transmissions over UDP: 7 */
	uint32_t rm;          /* final wait, in initial RTOs: 16 */
	uint32_t ti_ms;       /* timeout over TCP/TLS: 39500 */
} il_stun_txn_config;

/* The defaults of RFC 8489 §6.2.1 and §6.2.2. */
void il_stun_txn_config_defaults(il_stun_txn_config *cfg, bool reliable);

enum il_stun_txn_failure {
	IL_STUN_TXN_TIMEOUT = 1,          /* Rc sends and Rm*RTO, or Ti, without a response */
	IL_STUN_TXN_INTEGRITY_VIOLATED,   /* responses came, all discarded (§9.2.5) */
	IL_STUN_TXN_CONNECTION_FAILED,    /* the TCP/TLS connection went away (§6.2.2) */
};
const char *il_stun_txn_failure_name(enum il_stun_txn_failure why);

typedef struct il_stun_txn_callbacks {
	void *user;
	/* Sends one request (first transmission and retransmissions). */
	void (*send)(void *user, const uint8_t *data, size_t len);
	/* A transaction ended without a usable response. Its slot is free
	 * when this runs, so the callback may start another transaction. */
	void (*failed)(void *user, uint32_t tag, enum il_stun_txn_failure why, uint64_t now_ms);
} il_stun_txn_callbacks;

/* One transaction in flight. Read-only to the caller. */
typedef struct il_stun_txn {
	bool active;
	bool discarded;        /* a response was discarded: report integrity */
	uint16_t method;
	uint8_t tid[IL_STUN_TID_LEN];
	uint32_t tag;          /* the caller's: what this transaction is for */
	uint32_t sends;        /* transmissions so far */
	uint32_t rto_ms;       /* the initial RTO of this transaction */
	uint32_t interval_ms;  /* the current interval (doubles) */
	uint64_t started_ms, deadline_ms;
	uint16_t len;
	uint8_t msg[IL_STUN_TXN_MSG_MAX];
} il_stun_txn;

typedef struct il_stun_txn_table {
	il_stun_txn_config cfg;
	il_stun_txn_callbacks cb;
	il_stun_txn *slots;    /* the caller's storage */
	size_t count;
	/* RTO estimate (RFC 6298 §2, Karn's algorithm), cached across
	 * transactions to the same server and stale after 10 minutes. */
	uint32_t rto_ms, srtt_ms, rttvar_ms;
	bool have_rtt;
	uint64_t last_done_ms;
} il_stun_txn_table;

void il_stun_txn_table_init(il_stun_txn_table *t, il_stun_txn *slots, size_t count,
			    const il_stun_txn_config *cfg, const il_stun_txn_callbacks *cb);

/* Starts a transaction for a request the caller built (a STUN request of
 * at most IL_STUN_TXN_MSG_MAX bytes; its transaction id identifies it),
 * copies it and sends it. Returns the transaction, or NULL when the table
 * is full, the request too long or not a request. */
il_stun_txn *il_stun_txn_start(il_stun_txn_table *t, const uint8_t *req, size_t len,
			       uint32_t tag, uint64_t now_ms);

/* The transaction a success or error response answers (same transaction
 * id and method), or NULL. The transaction stays open: the caller then
 * calls il_stun_txn_complete or il_stun_txn_discard_response. */
il_stun_txn *il_stun_txn_match(il_stun_txn_table *t, const il_stun_msg *resp);

/* The response was accepted: the transaction ends (no callback) and, when
 * it was sent once only (Karn), its round trip updates the RTO. */
void il_stun_txn_complete(il_stun_txn_table *t, il_stun_txn *txn, uint64_t now_ms);

/* The response was discarded (§9.2.5). Over UDP retransmissions go on and
 * a later timeout is reported as IL_STUN_TXN_INTEGRITY_VIOLATED; over TCP
 * or TLS the transaction ends now with that failure. */
void il_stun_txn_discard_response(il_stun_txn_table *t, il_stun_txn *txn, uint64_t now_ms);

/* Ends a transaction without a callback (the caller lost interest). */
void il_stun_txn_cancel(il_stun_txn_table *t, il_stun_txn *txn);
/* Ends every transaction; with why != 0 each is reported to cb->failed
 * (IL_STUN_TXN_CONNECTION_FAILED when a connection closed). */
void il_stun_txn_end_all(il_stun_txn_table *t, enum il_stun_txn_failure why, uint64_t now_ms);

/* Retransmits and times out what is due at now. */
void il_stun_txn_timer(il_stun_txn_table *t, uint64_t now_ms);
/* Earliest deadline of an open transaction; UINT64_MAX when none. */
uint64_t il_stun_txn_next_deadline(const il_stun_txn_table *t);
/* Transactions in flight. */
size_t il_stun_txn_active_count(const il_stun_txn_table *t);
/* The RTO the next transaction would start with, at now. */
uint32_t il_stun_txn_current_rto(const il_stun_txn_table *t, uint64_t now_ms);

#endif
