/* The TURN server core (ref/turn, RFC 8656 with the RFC 8489 Binding
 * server) on a simulated host: UDP 3478, TCP 3478 and 443 (the firewall
 * case: only TCP 443 gets out). Relay sockets are bound on the same host
 * from port 49152 up. The core is driven exactly as ref/io drives it:
 * datagrams and stream frames in with `now`, callbacks out, its timer at
 * its next deadline. */
#include "actors.h"
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

#include "icelab/channeldata.h"
#include "icelab/turn_server.h"

#define MAX_RELAYS 256
#define MAX_CONNS 64

typedef struct srv_conn {
	int conn;
	il_five_tuple ft;
	il_stream stream;
	uint8_t *buf;
} srv_conn;

struct sim_server {
	il_sim *sim;
	int host;
	il_addr addr;
	il_turn_server *core;
	il_peer_policy policy;
	int udp_sock;
	/* RFC 5780 §6.1: A1:P1 (udp_sock), A1:P2, A2:P1, A2:P2; -1 when off. */
	int udp5780[4];
	il_addr udp5780_addr[4];
	struct {
		int sock;
		il_addr addr;
	} relays[MAX_RELAYS];
	uint16_t next_relay_port;
	srv_conn conns[MAX_CONNS];
	uint64_t wake_at; /* a wake-up event is pending at this time; 0: none */
};

static uint64_t now_ms(const sim_server *s)
{
	return il_sim_now(s->sim) / 1000;
}

static void server_wake(il_sim *sim, void *arg, uint64_t at);

static void reschedule(sim_server *s)
{
	uint64_t d = il_turn_server_next_deadline(s->core);
	if (d == UINT64_MAX)
		return;
	uint64_t at = d * 1000;
	if (s->wake_at && s->wake_at <= at)
		return;
	s->wake_at = at;
	il_sim_schedule(s->sim, at, server_wake, s, at);
}

static void server_wake(il_sim *sim, void *arg, uint64_t at)
{
	(void)sim;
	sim_server *s = arg;
	if (s->wake_at != at)
		return; /* superseded by an earlier one */
	s->wake_at = 0;
	il_turn_server_timer(s->core, now_ms(s));
	reschedule(s);
}

static void cb_random(void *user, uint8_t *out, size_t len)
{
	il_sim_rng_bytes(il_sim_get_rng(((sim_server *)user)->sim), out, len);
}

static srv_conn *conn_by_remote(sim_server *s, const il_addr *remote)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (s->conns[i].buf && il_addr_equal(&s->conns[i].ft.remote, remote))
			return &s->conns[i];
	return NULL;
}

static void cb_send_to_client(void *user, const il_five_tuple *ft, const uint8_t *data,
			      size_t len)
{
	sim_server *s = user;
	if (ft->transport == IL_TRANSPORT_UDP) {
		/* RFC 5780 CHANGE-REQUEST: from the socket bound to ft->local. */
		int sock = s->udp_sock;
		for (int i = 0; i < 4; i++)
			if (s->udp5780[i] >= 0 && il_addr_equal(&s->udp5780_addr[i], &ft->local))
				sock = s->udp5780[i];
		il_sim_udp_send(s->sim, sock, &ft->remote, data, len);
		return;
	}
	srv_conn *c = conn_by_remote(s, &ft->remote);
	if (c)
		il_sim_tcp_send(s->sim, c->conn, data, len);
}

static int relay_index(const sim_server *s, const il_addr *a)
{
	for (int i = 0; i < MAX_RELAYS; i++)
		if (s->relays[i].sock >= 0 && il_addr_equal(&s->relays[i].addr, a))
			return i;
	return -1;
}

static void cb_send_to_peer(void *user, const il_addr *relayed, const il_addr *peer,
			    const uint8_t *data, size_t len, bool df)
{
	(void)df;
	sim_server *s = user;
	int i = relay_index(s, relayed);
	if (i >= 0)
		il_sim_udp_send(s->sim, s->relays[i].sock, peer, data, len);
}

static void relay_recv(void *user, il_sim *sim, int sock, const il_addr *from,
		       const uint8_t *data, size_t len)
{
	sim_server *s = user;
	for (int i = 0; i < MAX_RELAYS; i++)
		if (s->relays[i].sock == sock) {
			il_turn_server_handle_peer(s->core, &s->relays[i].addr, from, data, len,
						   il_sim_now(sim) / 1000);
			reschedule(s);
			return;
		}
}

static int cb_relay_open(void *user, uint8_t family, uint8_t transport, bool even_port,
			 bool reserve_next, const uint8_t *token, il_addr *relayed,
			 uint8_t token_out[8])
{
	(void)reserve_next;
	(void)token_out;
	sim_server *s = user;
	if (family != s->addr.family || transport != IL_TRANSPORT_UDP || token)
		return -1;
	int slot = -1;
	for (int i = 0; i < MAX_RELAYS && slot < 0; i++)
		if (s->relays[i].sock < 0)
			slot = i;
	if (slot < 0)
		return -1;
	for (int tries = 0; tries < 1000; tries++) {
		uint16_t port = s->next_relay_port++;
		if (s->next_relay_port < 49152)
			s->next_relay_port = 49152;
		if (even_port && (port & 1))
			continue;
		il_addr a = s->addr;
		a.port = port;
		int sock = il_sim_udp_bind(s->sim, s->host, &a, relay_recv, NULL, s, relayed);
		if (sock >= 0) {
			s->relays[slot].sock = sock;
			s->relays[slot].addr = *relayed;
			return 0;
		}
	}
	return -1;
}

static void cb_relay_close(void *user, const il_addr *relayed)
{
	sim_server *s = user;
	int i = relay_index(s, relayed);
	if (i < 0)
		return;
	il_sim_udp_close(s->sim, s->relays[i].sock);
	s->relays[i].sock = -1;
}

static bool cb_key_lookup(void *user, const char *realm, const char *username,
			  enum il_stun_password_algorithm alg, uint64_t now_s, il_stun_key *key)
{
	(void)user;
	(void)now_s;
	if (strcmp(username, SIM_TURN_USER) != 0)
		return false;
	return il_stun_key_long_term(key, alg, username, realm, SIM_TURN_PASSWORD) == IL_STUN_OK;
}

static void udp_recv(void *user, il_sim *sim, int sock, const il_addr *from,
		     const uint8_t *data, size_t len)
{
	(void)sock;
	sim_server *s = user;
	il_five_tuple ft;
	memset(&ft, 0, sizeof ft);
	ft.local = s->addr;
	ft.local.port = 3478;
	for (int i = 0; i < 4; i++)
		if (s->udp5780[i] == sock)
			ft.local = s->udp5780_addr[i];
	ft.remote = *from;
	ft.transport = IL_TRANSPORT_UDP;
	il_turn_server_handle_client(s->core, &ft, data, len, il_sim_now(sim) / 1000);
	reschedule(s);
}

static srv_conn *conn_by_id(sim_server *s, int conn)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (s->conns[i].buf && s->conns[i].conn == conn)
			return &s->conns[i];
	return NULL;
}

static void conn_release(srv_conn *c)
{
	free(c->buf);
	memset(c, 0, sizeof *c);
}

static void tcp_data(void *user, il_sim *sim, int conn, const uint8_t *data, size_t len)
{
	sim_server *s = user;
	srv_conn *c = conn_by_id(s, conn);
	if (!c)
		return;
	uint64_t now = il_sim_now(sim) / 1000;
	while (len) {
		size_t took = il_stream_push(&c->stream, data, len);
		data += took;
		len -= took;
		il_stream_frame fr;
		int rc;
		while ((rc = il_stream_next(&c->stream, &fr, NULL)) == 1) {
			il_turn_server_handle_client(s->core, &c->ft, fr.bytes, fr.len, now);
			if (!conn_by_id(s, conn))
				return;
		}
		if (rc < 0) { /* broken framing: close (RFC 8656 §3.1 stream rules) */
			il_five_tuple ft = c->ft;
			il_sim_tcp_close(sim, conn);
			conn_release(c);
			il_turn_server_client_closed(s->core, &ft, now);
			break;
		}
		if (!took)
			break;
	}
	reschedule(s);
}

static void tcp_closed(void *user, il_sim *sim, int conn, bool reset)
{
	(void)reset;
	sim_server *s = user;
	srv_conn *c = conn_by_id(s, conn);
	if (!c)
		return;
	il_five_tuple ft = c->ft;
	conn_release(c);
	il_turn_server_client_closed(s->core, &ft, il_sim_now(sim) / 1000);
	reschedule(s);
}

static bool tcp_accept(void *user, il_sim *sim, int conn, const il_addr *peer,
		       il_sim_tcp_callbacks *cb)
{
	sim_server *s = user;
	for (int i = 0; i < MAX_CONNS; i++) {
		srv_conn *c = &s->conns[i];
		if (c->buf)
			continue;
		c->buf = malloc(IL_STREAM_MIN_CAP);
		if (!c->buf)
			return false;
		il_stream_init(&c->stream, c->buf, IL_STREAM_MIN_CAP);
		c->conn = conn;
		c->ft.local = *il_sim_tcp_local(sim, conn);
		c->ft.remote = *peer;
		c->ft.transport = IL_TRANSPORT_TCP;
		cb->user = s;
		cb->data = tcp_data;
		cb->closed = tcp_closed;
		return true;
	}
	return false;
}

static sim_server *server_create(il_sim *sim, int host, const il_addr *other);

sim_server *sim_server_new(il_sim *sim, int host)
{
	return server_create(sim, host, NULL);
}

sim_server *sim_server_new_rfc5780(il_sim *sim, int host, const il_addr *other_ip)
{
	if (!other_ip || !sim_node_owns(sim, host, other_ip))
		return NULL;
	return server_create(sim, host, other_ip);
}

/* The three more UDP sockets of RFC 5780 §6.1, the primary one included
 * in the table so that replies leave from the right one. */
static int bind_rfc5780(sim_server *s, const il_addr *other)
{
	il_addr a[4];
	for (int i = 0; i < 4; i++) {
		a[i] = (i & 2) ? *other : s->addr;
		a[i].port = (i & 1) ? 3479 : 3478;
	}
	s->udp5780[0] = s->udp_sock;
	s->udp5780_addr[0] = a[0];
	for (int i = 1; i < 4; i++) {
		s->udp5780[i] = il_sim_udp_bind(s->sim, s->host, &a[i], udp_recv, NULL, s, NULL);
		s->udp5780_addr[i] = a[i];
		if (s->udp5780[i] < 0)
			return -1;
	}
	return 0;
}

static sim_server *server_create(il_sim *sim, int host, const il_addr *other)
{
	sim_server *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->sim = sim;
	s->host = host;
	s->next_relay_port = 49152;
	for (int i = 0; i < MAX_RELAYS; i++)
		s->relays[i].sock = -1;
	for (int i = 0; i < 4; i++)
		s->udp5780[i] = -1;
	const il_addr *a = il_sim_node_addr(sim, host, IL_AF_INET);
	if (!a) {
		free(s);
		return NULL;
	}
	s->addr = *a;
	il_peer_policy_init(&s->policy);
	il_turn_server_config cfg;
	il_turn_server_config_defaults(&cfg);
	cfg.realm = SIM_TURN_REALM;
	cfg.software = "icelab sim";
	cfg.peers = &s->policy;
	cfg.key_lookup = cb_key_lookup;
	if (other) {
		cfg.primary_address = s->addr;
		cfg.primary_address.port = 3478;
		cfg.other_address = *other;
		cfg.other_address.port = 3479;
	}
	il_sim_rng_bytes(il_sim_get_rng(sim), cfg.nonce_secret, sizeof cfg.nonce_secret);
	il_turn_server_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.user = s;
	cb.random = cb_random;
	cb.send_to_client = cb_send_to_client;
	cb.send_to_peer = cb_send_to_peer;
	cb.relay_open = cb_relay_open;
	cb.relay_close = cb_relay_close;
	s->core = il_turn_server_new(&cfg, &cb);
	il_addr l = s->addr;
	l.port = 3478;
	s->udp_sock = il_sim_udp_bind(sim, host, &l, udp_recv, NULL, s, NULL);
	bool ok = s->core && s->udp_sock >= 0 &&
		  il_sim_tcp_listen(sim, host, &l, tcp_accept, s, NULL) >= 0;
	l.port = 443;
	ok = ok && il_sim_tcp_listen(sim, host, &l, tcp_accept, s, NULL) >= 0;
	if (ok && other)
		ok = bind_rfc5780(s, other) == 0;
	if (!ok) {
		sim_server_free(s);
		return NULL;
	}
	return s;
}

void sim_server_free(sim_server *s)
{
	if (!s)
		return;
	il_turn_server_free(s->core);
	for (int i = 0; i < MAX_CONNS; i++)
		free(s->conns[i].buf);
	free(s);
}

const il_addr *sim_server_addr(const sim_server *s)
{
	return &s->addr;
}
