/* icelab pcap replay: resend the client side of the STUN/TURN exchanges of
 * a capture to a live target and compare each response with the captured
 * one, structurally (issue #7 §5, pcaps/README.md "Replay").
 *
 * The capture is read with the analyser's reader (every link type, IP
 * fragments, STUN framed out of TCP); the requests sent to one server
 * (given, or the first TURN server seen) are replayed over UDP, in capture
 * order, one at a time: fresh transaction ids, XOR-PEER-ADDRESS rewritten,
 * USERNAME/REALM/NONCE and MESSAGE-INTEGRITY recomputed with the given
 * credentials and the target's own realm and nonce. */
#ifndef ICELAB_PCAPS_REPLAY_H
#define ICELAB_PCAPS_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "icelab/addr.h"
#include "icelab/stun.h"

/* At most this many exchanges are kept from a capture (the rest are
 * counted, not replayed). */
#define IL_REPLAY_MAX_EXCHANGES 4096

typedef struct il_replay il_replay;

typedef struct il_replay_options {
	il_addr target;            /* where requests go (UDP) */
	const char *user, *password; /* long-term credentials; NULL: none */
	bool peer_keep;            /* XOR-PEER-ADDRESS as captured */
	il_addr peer_host;         /* else: this IP, captured ports (family 0: the target's IP) */
	bool have_server;
	il_addr server;            /* the captured server whose clients are replayed */
	int timeout_ms;            /* per request, retransmissions included */
	bool strict;               /* attributes the live response adds are differences too */
} il_replay_options;

/* Reads the capture; NULL with err filled when it cannot be read. */
il_replay *il_replay_load(const char *path, char *err, size_t errlen);
void il_replay_free(il_replay *r);
/* Requests collected (all servers), and whether any of the selected
 * server's carried MESSAGE-INTEGRITY (then credentials are needed). */
size_t il_replay_request_count(const il_replay *r);
bool il_replay_needs_credentials(const il_replay *r, const il_replay_options *o);

/* Replays and prints the per-exchange table and a summary to out.
 * Returns 0 when every compared response matched, 1 on a difference,
 * -1 on a harness error (err filled: no socket, nothing to replay). */
int il_replay_run(il_replay *r, const il_replay_options *o, FILE *out, char *err, size_t errlen);

/* "udp://HOST:PORT" (HOST a name, an IPv4 address or [IPv6]); 0 or -1
 * with err filled. */
int il_replay_parse_target(const char *url, il_addr *out, char *err, size_t errlen);

/* ---- pure pieces, exposed for tests */

/* The shape compared: method, class, error code and attribute types
 * (SOFTWARE and FINGERPRINT left out: informational). */
typedef struct il_replay_shape {
	uint16_t method;
	uint8_t cls;
	int code;                  /* ERROR-CODE, 0 when absent */
	size_t ntypes;
	uint16_t types[IL_STUN_MAX_ATTRS]; /* sorted, unique */
} il_replay_shape;

void il_replay_shape_of(const il_stun_msg *m, il_replay_shape *s);
/* True when live matches captured: same method, class and code, and no
 * attribute type of captured missing (with strict, none added either);
 * note gets "missing X; extra Y" (may be empty). */
bool il_replay_shape_match(const il_replay_shape *captured, const il_replay_shape *live,
			   bool strict, char *note, size_t notelen);

/* Credentials for one rewritten request; key NULL: sent without. */
typedef struct il_replay_auth {
	const char *user, *realm, *nonce;
	const void *key;           /* an il_stun_key (stun_integrity.h) */
} il_replay_auth;

/* The captured request rewritten: tid, peers (each peers_from[i] becomes
 * peers_to[i]), credentials. Returns its length, or 0. */
size_t il_replay_rewrite(const il_stun_msg *captured, const uint8_t tid[IL_STUN_TID_LEN],
			 const il_addr *peers_from, const il_addr *peers_to, size_t npeers,
			 const il_replay_auth *auth, uint8_t *out, size_t cap);

#endif
