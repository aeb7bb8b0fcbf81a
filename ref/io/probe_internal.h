/* What the probe files share: one client connection to a STUN/TURN server
 * (a connected UDP socket, or a TCP or TLS bufferevent), the clock and
 * randomness. Not public. */
#ifndef ICELAB_PROBE_INTERNAL_H
#define ICELAB_PROBE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "icelab/probe.h"

typedef struct probe_conn probe_conn;

typedef struct probe_conn_callbacks {
	void *user;
	/* The connection is up (TCP connected, TLS handshake done; at once,
	 * from the loop, for UDP). */
	void (*connected)(void *user);
	/* A datagram, or a chunk of the stream. */
	void (*data)(void *user, const uint8_t *data, size_t len);
	/* The connection failed or closed; why is one line. Not called for
	 * UDP, where ICMP errors are only noted (probe_conn_icmp_error). */
	void (*closed)(void *user, const char *why);
} probe_conn_callbacks;

/* Resolves the target (the first address getaddrinfo gives), opens the
 * socket and starts connecting. NULL with one line in err. */
probe_conn *probe_conn_open(struct event_base *base, const il_probe_target *t,
			    const il_probe_tls *tls, const probe_conn_callbacks *cb, char *err,
			    size_t err_len);
/* Sends a datagram, or queues bytes on the stream. */
void probe_conn_send(probe_conn *c, const uint8_t *data, size_t len);
/* Addresses and TLS parameters, complete once connected. */
const il_probe_conn_info *probe_conn_info(const probe_conn *c);
/* The last ICMP error a UDP socket reported ("" when none). */
const char *probe_conn_icmp_error(const probe_conn *c);
void probe_conn_free(probe_conn *c);

/* Monotonic clock, in milliseconds for the cores and microseconds for RTTs. */
uint64_t probe_now_ms(void);
uint64_t probe_now_us(void);
/* Random bytes (OpenSSL); the cores' random source. */
void probe_random(void *user, uint8_t *out, size_t len);

#endif
