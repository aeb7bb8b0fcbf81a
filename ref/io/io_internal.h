/* What the files of ref/io share: the server, its workers (one thread,
 * one event_base and one core per tenant each), listeners, relays,
 * stream connections, and the batched datagram queues. Not public. */
#ifndef ICELAB_IO_INTERNAL_H
#define ICELAB_IO_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "icelab/io.h"
#include "icelab/stun_integrity.h"
#include "icelab/turn_server.h"

#define IO_RX_BATCH 32
#define IO_DGRAM_MAX 65536
#define IO_TX_SLOTS 64
#define IO_TX_ARENA (256 * 1024)
#define IO_RELAY_BUCKETS 4096
#define IO_CONN_BUCKETS 1024
#define IO_STREAM_CAP (65536 + 8)
#define IO_STREAM_MAX_BACKLOG (4u << 20) /* bytes queued to one TCP client */
#define IO_RELAY_BIND_TRIES 8            /* binds before answering 508 */
#define IO_RESERVATIONS 256
#define IO_RESERVATION_S 30              /* RFC 8656 §7.2: about 30 s */

typedef struct io_server io_server;
typedef struct io_worker io_worker;

/* Counters of the driver itself, per worker; summed by the metrics. */
typedef struct io_counters {
	uint64_t udp_rx, udp_tx, udp_tx_dropped, udp_truncated;
	uint64_t relay_rx, relay_tx;
	uint64_t tcp_accepted, tcp_closed, tcp_broken, tcp_backlog_dropped;
	uint64_t tcp_refused_per_ip, tcp_idle_closed;
	uint64_t relay_bind_failed, allocations_refused;
	uint64_t allocations_created, allocations_deleted, allocations_expired;
	uint64_t permissions_created, channels_bound, auth_failures, peers_denied;
	uint64_t dropped_malformed, dropped_no_permission, dropped_no_allocation;
} io_counters;

typedef struct io_core {
	io_worker *w;
	int tenant;
	il_turn_server *srv;
	il_peer_policy policy[2]; /* the core points to one; reload fills the other */
	int policy_idx;
	struct event *timer;
	uint64_t timer_at;        /* UINT64_MAX: not armed */
} io_core;

typedef struct io_udp_listener {
	int fd;
	il_addr local;
	bool wildcard; /* bound to 0.0.0.0 / ::: destination from IP_PKTINFO */
	struct event *ev;
	io_core *core;
} io_udp_listener;

typedef struct io_tcp_listener {
	int fd;
	il_addr local;
	bool tls;
	struct evconnlistener *lev;
	io_core *core;
} io_tcp_listener;

typedef struct io_relay {
	int fd;
	il_addr addr;
	bool df;
	bool tcp;                  /* RFC 6062: a listening TCP socket (lev) */
	struct event *ev;
	struct evconnlistener *lev;
	io_core *core;
	struct io_relay *next; /* hash chain */
} io_relay;

typedef struct io_conn io_conn;
typedef struct io_peer_conn io_peer_conn;

typedef union io_cmsg_buf {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
} io_cmsg_buf;

typedef struct io_rxq {
	struct mmsghdr msgs[IO_RX_BATCH];
	struct iovec iov[IO_RX_BATCH];
	struct sockaddr_storage from[IO_RX_BATCH];
	io_cmsg_buf ctl[IO_RX_BATCH];
	uint8_t *bufs; /* IO_RX_BATCH * IO_DGRAM_MAX */
} io_rxq;

typedef struct io_txq {
	struct mmsghdr msgs[IO_TX_SLOTS];
	struct iovec iov[IO_TX_SLOTS];
	struct sockaddr_storage to[IO_TX_SLOTS];
	io_cmsg_buf ctl[IO_TX_SLOTS];
	int fd[IO_TX_SLOTS];
	size_t count, used;
	uint8_t *arena; /* IO_TX_ARENA */
} io_txq;

struct io_worker {
	int index;
	io_server *server;
	const il_io_config *cfg; /* this worker's view; swapped on reload */
	struct event_base *base;
	pthread_t thread;
	bool started;
	io_core cores[IL_IO_MAX_TENANTS];
	size_t core_count;
	/* The listeners, then the three RFC 5780 ones (A1:P2, A2:P1, A2:P2)
	 * when other-address is set. */
	io_udp_listener udp[IL_IO_MAX_LISTEN + 3];
	size_t udp_count;
	io_tcp_listener tcp[IL_IO_MAX_LISTEN];
	size_t tcp_count;
	io_relay *relays[IO_RELAY_BUCKETS];
	size_t relay_count;
	uint64_t relay_closes; /* bumped by io_relay_close: loops re-check */
	io_conn *conns[IO_CONN_BUCKETS];
	size_t conn_count;
	io_peer_conn *peer_conns; /* RFC 6062 peer data connections (a list) */
	io_rxq rx;
	io_txq tx;
	struct event *reload_ev, *stats_ev;
	uint64_t now_ms;
	uint64_t last_refusal_log_s;
	io_counters counters;
	/* Published once a second for the metrics thread. */
	pthread_mutex_t snap_lock;
	io_counters snap_counters;
	il_turn_server_stats snap_stats;
};

typedef struct io_reservation {
	uint8_t token[8];
	int fd;
	il_addr addr;
	uint64_t expires_ms;
} io_reservation;

typedef struct io_creds io_creds;

/* TCP/TLS client connections per source (max-connections-per-ip), shared
 * by the workers: SO_REUSEPORT spreads one source's connections over
 * them. A fixed set-associative table (a source hashes to one set of
 * IO_CONN_IP_WAYS entries; an entry with count 0 is free), so memory is
 * bounded and a removal never breaks a lookup. */
#define IO_CONN_IP_WAYS 8
#define IO_CONN_IP_SETS 2048
#define IO_CONN_IP_SLOTS (IO_CONN_IP_WAYS * IO_CONN_IP_SETS)
typedef struct io_conn_ip {
	uint32_t count;  /* 0: free */
	uint8_t family;
	uint8_t key[8];  /* IPv4 address or IPv6 /64 */
} io_conn_ip;

struct io_server {
	il_io_config *cfg;       /* current; reload swaps it under cfg_lock */
	pthread_mutex_t cfg_lock;
	il_io_config *retired[64]; /* older configs, freed at stop */
	size_t retired_count;
	il_io_reload_fn reload;
	void *reload_user;
	io_worker *workers;
	unsigned nworkers;
	SSL_CTX *ssl;
	struct event_base *main_base;
	uint8_t nonce_secret[32];
	io_creds *creds;
	il_addr relay_v4, relay_v6;
	/* Relay ports in use by this process, one bit per port and family. */
	_Atomic uint64_t ports_used[2][1024];
	atomic_uint port_cursor;
	pthread_mutex_t resv_lock;
	io_reservation resv[IO_RESERVATIONS];
	struct evconnlistener *metrics;
	pthread_mutex_t conn_ip_lock;
	io_conn_ip *conn_ip;       /* IO_CONN_IP_SLOTS */
	uint64_t conn_ip_seed;
	uint64_t started_s;
	int64_t wall_clock_offset_ms; /* UNIX ms = monotonic ms + this */
};

/* Clock: monotonic milliseconds for the cores, UNIX seconds for REST. */
uint64_t io_now_ms(void);
uint64_t io_unix_s(void);

/* sockaddr <-> il_addr. */
socklen_t io_sockaddr_from(const il_addr *a, struct sockaddr_storage *ss);
void io_addr_from_sockaddr(const struct sockaddr *sa, il_addr *out);
bool io_addr_is_wildcard(const il_addr *a);
/* The first non-loopback, non-link-local address of the family on an
 * interface; loopback when there is none. */
int io_default_ip(uint8_t family, il_addr *out);

/* io_udp.c: sockets, receive batches, the send queue. */
int io_udp_socket(const il_addr *local, bool reuseport, char *err, size_t err_len);
void io_udp_listener_read(evutil_socket_t fd, short what, void *arg);
/* Queues one datagram; src is set when fd is a wildcard-bound listener. */
void io_tx_push(io_worker *w, int fd, const il_addr *to, const il_addr *src,
		const uint8_t *data, size_t len);
void io_tx_flush(io_worker *w);
int io_rxq_init(io_rxq *rx);
void io_rxq_free(io_rxq *rx);
int io_txq_init(io_txq *tx);
void io_txq_free(io_txq *tx);

/* io_relay.c */
int io_relay_open(io_core *c, uint8_t family, bool even_port, bool reserve_next,
		  const uint8_t *token, il_addr *relayed, uint8_t token_out[8]);
void io_relay_close(io_core *c, const il_addr *relayed);
io_relay *io_relay_find(io_worker *w, const il_addr *a);
void io_relay_close_all(io_worker *w);
/* RFC 6062: a listening TCP relay (relay_open with IL_TRANSPORT_TCP). */
int io_relay_open_tcp(io_core *c, uint8_t family, il_addr *relayed);
/* A TCP socket bound to relayed (SO_REUSEPORT, beside its listener). */
int io_tcp_relay_socket(const il_addr *relayed);
void io_reservations_expire(io_server *s, uint64_t now_ms);
void io_reservations_free(io_server *s);

/* io_stream.c: TCP and TLS clients. */
int io_tcp_socket(const il_addr *local, char *err, size_t err_len);
int io_tcp_listener_start(io_worker *w, io_tcp_listener *l);
void io_stream_send(io_worker *w, const il_five_tuple *ft, const uint8_t *data, size_t len);
void io_stream_close_all(io_worker *w);
/* RFC 6062 in the driver (io_stream.c): a peer connecting to a TCP relay
 * (the evconnlistener callback), the core's tcp_connect, tcp_bind and
 * tcp_close. Bytes are spliced between the client data connection and the
 * peer data connection without the core. */
void io_tcp_peer_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
			int socklen, void *arg);
int io_tcp_peer_connect(io_core *c, const il_addr *relayed, const il_addr *peer, uint32_t id);
void io_tcp_peer_bind(io_core *c, const il_five_tuple *ft, uint32_t id);
void io_tcp_peer_close(io_core *c, uint32_t id);
SSL_CTX *io_tls_context(const il_io_config *cfg, char *err, size_t err_len);

/* io_server.c: max-connections-per-ip. io_conn_ip_acquire counts a new
 * connection from remote: true when it is within the limit (counted; give
 * it back with io_conn_ip_release), false when it must be closed (or when
 * the table is full: then it is let in, uncounted, and *counted is
 * false). */
bool io_conn_ip_acquire(io_server *s, const il_addr *remote, uint32_t limit, bool *counted);
void io_conn_ip_release(io_server *s, const il_addr *remote);

/* io_server.c: after a batch, re-arm the core's timer if it moved. */
void io_core_update_timer(io_core *c);

/* io_credentials.c */
io_creds *io_creds_new(const il_io_config *cfg, bool secrets, char *err, size_t err_len);
void io_creds_free(io_creds *c);
/* Takes fresh's content into c (under the write lock) and frees fresh. */
void io_creds_replace(io_creds *c, io_creds *fresh);
/* Every key of a user (two for REST credentials during a secret
 * rotation): the number filled in keys, 0 for no such user. */
size_t io_creds_lookup(io_creds *c, int tenant, const char *realm, const char *username,
		       enum il_stun_password_algorithm alg, uint64_t now_s,
		       il_stun_key keys[IL_TURN_MAX_KEYS]);
bool io_creds_lookup_userhash(io_creds *c, int tenant, const char *realm,
			      const uint8_t userhash[32], enum il_stun_password_algorithm alg,
			      il_stun_key *key, char *username, size_t username_cap);

/* io_metrics.c */
int io_metrics_start(io_server *s, char *err, size_t err_len);
void io_metrics_stop(io_server *s);

/* io_config.c: for every configuration reader of the driver. io_fail
 * writes the message to err and returns -1; io_trim cuts blanks (and a
 * line end) at both ends, in place. */
int io_fail(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
char *io_trim(char *s);
/* An IP address ("[::1]" too) with port 0; a switch's value (NULL, true,
 * yes, on, 1 / false, no, off, 0). 0 or -1. */
int io_parse_ip(const char *v, il_addr *out);
int io_parse_bool(const char *v, bool *out);

#endif
