/* A small TCP for the simulator: three-way handshake, cumulative ACKs,
 * in-order delivery (out-of-order segments are dropped and re-sent),
 * go-back-N retransmission with a doubling RTO, FIN and RST. Enough to
 * carry TURN over TCP through NATs and firewalls (RFC 5382 behaviour is
 * in nat.c); not a congestion-control study. */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define TCP_MSS 1400
#define TCP_WINDOW 65535u
#define TCP_RTO_US 1000000u
#define TCP_MAX_RETRIES 8

enum { T_SYN_SENT = 1, T_SYN_RCVD, T_ESTABLISHED, T_CLOSED };

typedef struct sim_tcp {
	int sock, node;
	il_addr local, remote;
	uint8_t state;
	uint32_t iss, snd_una, snd_nxt, rcv_nxt;
	uint8_t *buf;          /* bytes from snd_una on */
	size_t len, cap;
	bool fin_pending, fin_sent;
	uint32_t rto_us, retries, timer_gen;
	il_sim_tcp_callbacks cb;
} sim_tcp;

static bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static void send_segment(il_sim *sim, sim_tcp *t, uint8_t flags, uint32_t seq,
			 const uint8_t *data, size_t len)
{
	il_sim_packet *p = sim_packet_alloc(sim);
	if (!p)
		return;
	p->proto = IL_SIM_TCP;
	p->src = t->local;
	p->dst = t->remote;
	p->tcp_flags = flags;
	p->tcp_seq = seq;
	p->tcp_ack = (flags & IL_SIM_TCP_ACK) ? t->rcv_nxt : 0;
	p->len = (uint16_t)len;
	if (len)
		memcpy(p->data, data, len);
	sim_node_output(sim, t->node, p);
}

static void timer_fire(il_sim *sim, void *arg, uint64_t u);

static void arm(il_sim *sim, sim_tcp *t)
{
	t->timer_gen = ++sim->tcp_timer_gen;
	il_sim_schedule(sim, sim->now + t->rto_us, timer_fire, NULL,
			((uint64_t)t->sock << 32) | t->timer_gen);
}

static void disarm(il_sim *sim, sim_tcp *t)
{
	t->timer_gen = ++sim->tcp_timer_gen;
}

static void conn_free(il_sim *sim, sim_tcp *t)
{
	sim_key k = sim_sock_key(t->node, IL_SIM_TCP, &t->local, &t->remote);
	sim_hash_del(&sim->sock_index, &k);
	memset(&sim->socks[t->sock], 0, sizeof sim->socks[t->sock]);
	free(t->buf);
	free(t);
}

static void conn_die(il_sim *sim, sim_tcp *t, bool reset)
{
	int sock = t->sock;
	t->state = T_CLOSED;
	if (t->cb.closed)
		t->cb.closed(t->cb.user, sim, sock, reset);
	conn_free(sim, t);
}

static void push(il_sim *sim, sim_tcp *t)
{
	if (t->state != T_ESTABLISHED)
		return;
	bool sent = false;
	for (;;) {
		uint32_t off = t->snd_nxt - t->snd_una;
		if (off >= t->len || off >= TCP_WINDOW)
			break;
		size_t n = t->len - off;
		if (n > TCP_MSS)
			n = TCP_MSS;
		send_segment(sim, t, IL_SIM_TCP_ACK | IL_SIM_TCP_PSH, t->snd_nxt, t->buf + off, n);
		t->snd_nxt += (uint32_t)n;
		sent = true;
	}
	if (t->fin_pending && !t->fin_sent && t->len == 0) {
		send_segment(sim, t, IL_SIM_TCP_FIN | IL_SIM_TCP_ACK, t->snd_nxt, NULL, 0);
		t->fin_sent = true;
		/* The closer does not linger: nobody reads this side any more. */
		conn_free(sim, t);
		return;
	}
	if (sent)
		arm(sim, t);
}

static void timer_fire(il_sim *sim, void *arg, uint64_t u)
{
	(void)arg;
	int sock = (int)(u >> 32);
	uint32_t gen = (uint32_t)u;
	if ((size_t)sock >= sim->sock_count || sim->socks[sock].kind != SOCK_TCP_CONN)
		return;
	sim_tcp *t = sim->socks[sock].tcp;
	if (t->timer_gen != gen)
		return;
	if (++t->retries > TCP_MAX_RETRIES) {
		conn_die(sim, t, true);
		return;
	}
	t->rto_us *= 2;
	switch (t->state) {
	case T_SYN_SENT:
		send_segment(sim, t, IL_SIM_TCP_SYN, t->iss, NULL, 0);
		arm(sim, t);
		break;
	case T_SYN_RCVD:
		send_segment(sim, t, IL_SIM_TCP_SYN | IL_SIM_TCP_ACK, t->iss, NULL, 0);
		arm(sim, t);
		break;
	case T_ESTABLISHED:
		t->snd_nxt = t->snd_una; /* go back N */
		push(sim, t);
		break;
	}
}

static sim_tcp *conn_new(il_sim *sim, int node, const il_addr *local, const il_addr *remote)
{
	int sock = sim_sock_alloc(sim);
	if (sock < 0)
		return NULL;
	sim_tcp *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	sim_key k = sim_sock_key(node, IL_SIM_TCP, local, remote);
	if (sim_hash_put(&sim->sock_index, &k, (uint64_t)sock) < 0) {
		free(t);
		return NULL;
	}
	t->sock = sock;
	t->node = node;
	t->local = *local;
	t->remote = *remote;
	t->iss = (uint32_t)il_sim_rng_next(&sim->rng);
	t->snd_una = t->snd_nxt = t->iss + 1;
	t->rto_us = TCP_RTO_US;
	sim_sock *s = &sim->socks[sock];
	s->kind = SOCK_TCP_CONN;
	s->node = node;
	s->local = *local;
	s->tcp = t;
	return t;
}

int il_sim_tcp_listen(il_sim *sim, int host, const il_addr *local, il_sim_tcp_accept_fn accept,
		      void *user, il_addr *bound)
{
	if (host < 0 || (size_t)host >= sim->node_count || !local || !local->port)
		return -1;
	il_addr a = *local;
	if (a.family == IL_AF_NONE) {
		const il_addr *n = il_sim_node_addr(sim, host, IL_AF_INET);
		if (!n)
			return -1;
		a = *n;
		a.port = local->port;
	}
	if (!sim_node_owns(sim, host, &a))
		return -1;
	sim_key k = sim_sock_key(host, IL_SIM_TCP, &a, NULL);
	if (sim_hash_find(&sim->sock_index, &k))
		return -1;
	int sock = sim_sock_alloc(sim);
	if (sock < 0 || sim_hash_put(&sim->sock_index, &k, (uint64_t)sock) < 0)
		return -1;
	sim_sock *s = &sim->socks[sock];
	s->kind = SOCK_TCP_LISTEN;
	s->node = host;
	s->local = a;
	s->accept = accept;
	s->user = user;
	if (bound)
		*bound = a;
	return sock;
}

int il_sim_tcp_connect(il_sim *sim, int host, const il_addr *to, const il_sim_tcp_callbacks *cb,
		       il_addr *local)
{
	if (host < 0 || (size_t)host >= sim->node_count)
		return -1;
	const il_addr *n = il_sim_node_addr(sim, host, to->family);
	if (!n)
		return -1;
	il_addr a = *n;
	if (!(a.port = sim_ephemeral_port(sim, host, IL_SIM_TCP, &a)))
		return -1;
	sim_tcp *t = conn_new(sim, host, &a, to);
	if (!t)
		return -1;
	t->cb = *cb;
	t->state = T_SYN_SENT;
	send_segment(sim, t, IL_SIM_TCP_SYN, t->iss, NULL, 0);
	arm(sim, t);
	if (local)
		*local = a;
	return t->sock;
}

static sim_tcp *conn_of(const il_sim *sim, int conn)
{
	if (conn < 0 || (size_t)conn >= sim->sock_count || sim->socks[conn].kind != SOCK_TCP_CONN)
		return NULL;
	return sim->socks[conn].tcp;
}

int il_sim_tcp_send(il_sim *sim, int conn, const uint8_t *data, size_t len)
{
	sim_tcp *t = conn_of(sim, conn);
	if (!t || t->fin_pending)
		return -1;
	if (t->len + len > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (cap < t->len + len)
			cap *= 2;
		uint8_t *b = realloc(t->buf, cap);
		if (!b)
			return -1;
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, data, len);
	t->len += len;
	push(sim, t);
	return 0;
}

void il_sim_tcp_close(il_sim *sim, int conn)
{
	sim_tcp *t = conn_of(sim, conn);
	if (!t)
		return;
	t->cb.closed = NULL;
	if (t->state != T_ESTABLISHED) {
		send_segment(sim, t, IL_SIM_TCP_RST, t->snd_nxt, NULL, 0);
		conn_free(sim, t);
		return;
	}
	t->fin_pending = true;
	push(sim, t);
}

const il_addr *il_sim_tcp_local(const il_sim *sim, int conn)
{
	sim_tcp *t = conn_of(sim, conn);
	return t ? &t->local : NULL;
}

const il_addr *il_sim_tcp_remote(const il_sim *sim, int conn)
{
	sim_tcp *t = conn_of(sim, conn);
	return t ? &t->remote : NULL;
}

static void reply_rst(il_sim *sim, int node, const il_sim_packet *p)
{
	if (p->tcp_flags & IL_SIM_TCP_RST)
		return;
	il_sim_packet *q = sim_packet_alloc(sim);
	if (!q)
		return;
	q->proto = IL_SIM_TCP;
	q->src = p->dst;
	q->dst = p->src;
	q->tcp_flags = IL_SIM_TCP_RST | IL_SIM_TCP_ACK;
	q->tcp_seq = (p->tcp_flags & IL_SIM_TCP_ACK) ? p->tcp_ack : 0;
	q->tcp_ack = p->tcp_seq + p->len + ((p->tcp_flags & IL_SIM_TCP_SYN) ? 1 : 0);
	sim_node_output(sim, node, q);
}

static void accept_syn(il_sim *sim, int node, const il_sim_packet *p)
{
	sim_key k = sim_sock_key(node, IL_SIM_TCP, &p->dst, NULL);
	uint64_t *v = sim_hash_find(&sim->sock_index, &k);
	if (!v || sim->socks[*v].kind != SOCK_TCP_LISTEN) {
		reply_rst(sim, node, p);
		return;
	}
	sim_sock listener = sim->socks[*v];
	sim_tcp *t = conn_new(sim, node, &p->dst, &p->src);
	if (!t)
		return;
	il_sim_tcp_callbacks cb;
	memset(&cb, 0, sizeof cb);
	if (!listener.accept || !listener.accept(listener.user, sim, t->sock, &p->src, &cb)) {
		reply_rst(sim, node, p);
		conn_free(sim, t);
		return;
	}
	t->cb = cb;
	t->state = T_SYN_RCVD;
	t->rcv_nxt = p->tcp_seq + 1;
	send_segment(sim, t, IL_SIM_TCP_SYN | IL_SIM_TCP_ACK, t->iss, NULL, 0);
	arm(sim, t);
}

static void conn_input(il_sim *sim, sim_tcp *t, const il_sim_packet *p)
{
	uint8_t f = p->tcp_flags;
	if (f & IL_SIM_TCP_RST) {
		conn_die(sim, t, true);
		return;
	}
	if (t->state == T_SYN_SENT) {
		if ((f & IL_SIM_TCP_SYN) && (f & IL_SIM_TCP_ACK) && p->tcp_ack == t->iss + 1) {
			t->rcv_nxt = p->tcp_seq + 1;
			t->state = T_ESTABLISHED;
			t->retries = 0;
			t->rto_us = TCP_RTO_US;
			disarm(sim, t);
			send_segment(sim, t, IL_SIM_TCP_ACK, t->snd_nxt, NULL, 0);
			int sock = t->sock;
			if (t->cb.connected)
				t->cb.connected(t->cb.user, sim, sock);
			if (conn_of(sim, sock) == t)
				push(sim, t);
		}
		return;
	}
	if (f & IL_SIM_TCP_SYN) {
		/* A retransmitted SYN or SYN-ACK: our answer was lost. */
		if (t->state == T_SYN_RCVD)
			send_segment(sim, t, IL_SIM_TCP_SYN | IL_SIM_TCP_ACK, t->iss, NULL, 0);
		else
			send_segment(sim, t, IL_SIM_TCP_ACK, t->snd_nxt, NULL, 0);
		return;
	}
	int sock = t->sock;
	if (t->state == T_SYN_RCVD && (f & IL_SIM_TCP_ACK) && p->tcp_ack == t->iss + 1) {
		t->state = T_ESTABLISHED;
		t->retries = 0;
		t->rto_us = TCP_RTO_US;
		disarm(sim, t);
		if (t->cb.connected)
			t->cb.connected(t->cb.user, sim, sock);
		if (conn_of(sim, sock) != t)
			return;
	}
	if (t->state != T_ESTABLISHED)
		return;
	if ((f & IL_SIM_TCP_ACK) && seq_gt(p->tcp_ack, t->snd_una) &&
	    !seq_gt(p->tcp_ack, t->snd_nxt)) {
		uint32_t acked = p->tcp_ack - t->snd_una;
		memmove(t->buf, t->buf + acked, t->len - acked);
		t->len -= acked;
		t->snd_una = p->tcp_ack;
		t->retries = 0;
		t->rto_us = TCP_RTO_US;
		if (t->snd_nxt == t->snd_una)
			disarm(sim, t);
		else
			arm(sim, t);
	}
	if (p->len) {
		if (p->tcp_seq != t->rcv_nxt) {
			send_segment(sim, t, IL_SIM_TCP_ACK, t->snd_nxt, NULL, 0);
			return;
		}
		t->rcv_nxt += p->len;
		send_segment(sim, t, IL_SIM_TCP_ACK, t->snd_nxt, NULL, 0);
		if (t->cb.data)
			t->cb.data(t->cb.user, sim, sock, p->data, p->len);
		if (conn_of(sim, sock) != t)
			return;
	}
	if ((f & IL_SIM_TCP_FIN) && p->tcp_seq + p->len == t->rcv_nxt) {
		t->rcv_nxt++;
		send_segment(sim, t, IL_SIM_TCP_ACK | IL_SIM_TCP_FIN, t->snd_nxt, NULL, 0);
		conn_die(sim, t, false);
		return;
	}
	push(sim, t);
}

void sim_tcp_input(il_sim *sim, int node, il_sim_packet *p)
{
	sim_key k = sim_sock_key(node, IL_SIM_TCP, &p->dst, &p->src);
	uint64_t *v = sim_hash_find(&sim->sock_index, &k);
	if (v && sim->socks[*v].kind == SOCK_TCP_CONN)
		conn_input(sim, sim->socks[*v].tcp, p);
	else if ((p->tcp_flags & (IL_SIM_TCP_SYN | IL_SIM_TCP_ACK)) == IL_SIM_TCP_SYN)
		accept_syn(sim, node, p);
	else
		reply_rst(sim, node, p);
	sim_packet_free(sim, p);
}

void sim_tcp_free_all(il_sim *sim)
{
	for (size_t i = 0; i < sim->sock_count; i++)
		if (sim->socks[i].kind == SOCK_TCP_CONN) {
			free(sim->socks[i].tcp->buf);
			free(sim->socks[i].tcp);
		}
}
