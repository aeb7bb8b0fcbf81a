/* `icelab probe`: the client side of the libevent driver (ARCHITECTURE.md,
 * ref/io). It gives the client cores real sockets (UDP, TCP, TLS over
 * OpenSSL), the clock and randomness:
 *
 *   binding   one STUN Binding transaction (RFC 8489 §6.2, the
 *             transaction layer of stun_client.h): mapped address, RTT,
 *             the server's SOFTWARE;
 *   allocate  a TURN allocation through the client core (turn_client.h,
 *             RFC 8656): relayed and mapped addresses, lifetime, the
 *             password algorithm; with a peer, CreatePermission and
 *             ChannelBind, datagrams through the relay to an echo peer and
 *             back, then the release.
 *
 * The target parsers are pure (no I/O) and unit-tested; the two runners
 * block in their own event loop, bounded in time, and fill a result. */
#ifndef ICELAB_PROBE_H
#define ICELAB_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"

#define IL_PROBE_HOST_MAX 256
#define IL_PROBE_TEXT_MAX 256
#define IL_PROBE_MAX_COUNT 100000
#define IL_PROBE_DEFAULT_STUN_PORT 3478  /* RFC 8489 §18.6: stun, turn */
#define IL_PROBE_DEFAULT_STUNS_PORT 5349 /* stuns, turns */

enum il_probe_transport {
	IL_PROBE_UDP = 1,
	IL_PROBE_TCP,
	IL_PROBE_TLS,
};
/* "udp", "tcp", "tls"; "?" for anything else. */
const char *il_probe_transport_name(int transport);

typedef struct il_probe_target {
	int transport;                  /* enum il_probe_transport */
	char host[IL_PROBE_HOST_MAX];   /* a name or an IP literal, without brackets */
	uint16_t port;
} il_probe_target;

/* A Binding target: udp://HOST[:PORT], tcp://..., tls://..., and the URIs
 * of RFC 7064: stun:HOST[:PORT] (UDP) and stuns:HOST[:PORT] (TLS). IPv6
 * literals in brackets. Ports default to 3478, 5349 for TLS. Returns 0,
 * or -1 with one line in err. */
int il_probe_parse_stun_target(const char *text, il_probe_target *out, char *err,
			       size_t err_len);

/* A TURN URI (RFC 7065 §3.1): turn:HOST[:PORT][?transport=udp|tcp] and
 * turns:HOST[:PORT][?transport=tcp]; turn: defaults to UDP, turns: is TLS
 * over TCP (DTLS, turns: with transport=udp, is refused: not supported).
 * Returns 0, or -1 with one line in err. */
int il_probe_parse_turn_uri(const char *text, il_probe_target *out, char *err,
			    size_t err_len);

/* TLS toward the server. By default the certificate must chain to the
 * system's CAs and name the host (SNI and host name or IP check). */
typedef struct il_probe_tls {
	const char *ca_file;  /* PEM CAs to trust instead of the system's */
	bool insecure;        /* no verification at all (self-signed labs) */
} il_probe_tls;

/* What every run reports about the connection. */
typedef struct il_probe_conn_info {
	il_addr server;       /* the address connected to */
	il_addr local;        /* our socket's address */
	char tls_version[32]; /* "TLSv1.3"; empty over UDP and TCP */
	char tls_cipher[64];
} il_probe_conn_info;

/* Exit statuses of the runners, the same as the verbs' (ARCHITECTURE.md). */
enum il_probe_status {
	IL_PROBE_OK = 0,
	IL_PROBE_FAILED = 1,  /* no answer, an error response, a failed check */
	IL_PROBE_ERROR = 2,   /* a local problem: name resolution, socket, TLS setup */
};

/* ---- binding ---- */

typedef struct il_probe_binding_options {
	il_probe_target target;
	il_probe_tls tls;
	uint32_t timeout_ms;   /* the whole run; 0: 10000 */
	const char *software;  /* SOFTWARE in the request; NULL: none */
} il_probe_binding_options;

typedef struct il_probe_binding_result {
	il_probe_conn_info conn;
	bool answered;           /* a success response came */
	il_addr mapped;          /* XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS) */
	bool mapped_xor;         /* ... it was XOR-MAPPED-ADDRESS */
	il_addr response_origin; /* RFC 5780; family NONE when absent */
	il_addr other_address;
	char software[IL_PROBE_TEXT_MAX]; /* the server's SOFTWARE; "" when none */
	double rtt_ms;           /* from the first transmission to the response */
	uint32_t transmissions;  /* requests sent (UDP retransmissions) */
	bool fingerprint;        /* the response carried a valid FINGERPRINT */
	int error_code;          /* an error response: its code, and reason */
	char reason[IL_PROBE_TEXT_MAX];
	char failure[IL_PROBE_TEXT_MAX]; /* why the run failed; "" when it did not */
} il_probe_binding_result;

/* Runs one Binding transaction; returns an enum il_probe_status. */
int il_probe_binding_run(const il_probe_binding_options *opt, il_probe_binding_result *res);

/* ---- allocate ---- */

typedef struct il_probe_allocate_options {
	il_probe_target target;
	il_probe_tls tls;
	const char *username;      /* long-term credentials */
	const char *password;
	const char *realm;         /* expected realm; NULL: the server's. Credentials
	                              are never sent for another realm. */
	const char *software;      /* SOFTWARE; NULL: none */
	bool allow_md5;            /* accept MD5 (RFC 8489 §9.2.5); default true */
	uint32_t lifetime_s;       /* LIFETIME asked for; 0: the server's default */
	uint32_t timeout_ms;       /* bound on each wait (allocation, echoes, release); 0: 5000 */
	/* The round trip through the relay (have_peer). */
	bool have_peer;
	il_addr peer;
	bool send_indications;     /* Send/Data indications instead of a channel */
	uint32_t count;            /* datagrams to send; 0: 10 */
	uint32_t interval_ms;      /* between two datagrams; 0: 20 */
	uint32_t payload_len;      /* bytes per datagram, 16..1200; 0: 100 */
} il_probe_allocate_options;

typedef struct il_probe_allocate_result {
	il_probe_conn_info conn;
	bool allocated;
	il_addr relayed[2];
	uint8_t relayed_count;
	il_addr mapped;            /* family NONE when absent */
	uint32_t lifetime_s;
	char realm[IL_PROBE_TEXT_MAX];
	char algorithm[16];        /* "SHA-256", "MD5"; "" without authentication */
	char integrity[32];        /* "MESSAGE-INTEGRITY-SHA256" or "MESSAGE-INTEGRITY" */
	bool userhash;
	double allocate_ms;        /* from the first Allocate to the success */
	/* With a peer. */
	bool permission;           /* CreatePermission succeeded */
	uint16_t channel;          /* bound channel; 0 when none */
	uint32_t sent, echoed;     /* datagrams sent, distinct echoes received */
	double rtt_min_ms, rtt_avg_ms, rtt_max_ms;
	bool released;             /* Refresh LIFETIME 0 answered */
	int error_code;            /* the error response that failed the run */
	char reason[IL_PROBE_TEXT_MAX];
	char failure[IL_PROBE_TEXT_MAX]; /* why the run failed; "" when it did not */
} il_probe_allocate_result;

/* Allocates, relays the echoes when a peer is given, releases. Returns
 * IL_PROBE_OK only when every step succeeded and every echo came back. */
int il_probe_allocate_run(const il_probe_allocate_options *opt, il_probe_allocate_result *res);

#endif
