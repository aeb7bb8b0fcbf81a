/* Shared by the ICE tests: a seeded random source, a virtual network of
 * agents with latency, optional NAT-like source rewriting and loss, a
 * virtual clock, and a builder of hand-made check requests. Header-only
 * (each test is one binary). */
#ifndef ICE_TEST_UTIL_H
#define ICE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/ice.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

#define NET_MAX_AGENTS 2
#define NET_MAX_PACKETS 4096
#define NET_MAX_EVENTS 256

static inline void test_random(void *user, uint8_t *out, size_t len);

typedef struct net_packet {
	uint64_t at;
	int to;            /* agent index; -1: nobody (captured only) */
	il_addr src, dst;
	size_t len;
	uint8_t data[600];
} net_packet;

typedef struct net_agent {
	struct net *net;
	int index;
	il_ice_agent *agent;
	uint64_t rng;
	il_addr hosts[4];  /* this agent's bases */
	unsigned host_count;
	/* NAT: packets from a base leave as `mapped` (and come back to it). */
	bool nat;
	il_addr nat_inside, nat_outside;
	bool blackhole;    /* drops everything this agent sends */
	il_ice_event events[NET_MAX_EVENTS];
	unsigned event_count;
	unsigned sends;
	unsigned stun_requests_sent;
	uint64_t last_send_ms[256];
	unsigned data_received;
} net_agent;

typedef struct net {
	uint64_t now;
	uint32_t latency_ms;
	net_agent agents[NET_MAX_AGENTS];
	net_packet *queue;
	size_t queue_count;
} net;

static inline void test_random(void *user, uint8_t *out, size_t len)
{
	net_agent *na = user;
	for (size_t i = 0; i < len; i++) {
		na->rng ^= na->rng << 13;
		na->rng ^= na->rng >> 7;
		na->rng ^= na->rng << 17;
		out[i] = (uint8_t)(na->rng >> 24);
	}
}

static inline il_addr addr4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	il_addr x;
	il_addr_set_ipv4(&x, ((uint32_t)a << 24) | ((uint32_t)b << 16) | ((uint32_t)c << 8) | d,
			 port);
	return x;
}

static inline int net_owner(net *n, const il_addr *dst, il_addr *delivered_to)
{
	for (int i = 0; i < NET_MAX_AGENTS; i++) {
		net_agent *na = &n->agents[i];
		if (!na->agent)
			continue;
		if (na->nat && il_addr_equal(dst, &na->nat_outside)) {
			*delivered_to = na->nat_inside;
			return i;
		}
		for (unsigned h = 0; h < na->host_count; h++)
			if (il_addr_equal(dst, &na->hosts[h]) && !na->nat) {
				*delivered_to = *dst;
				return i;
			}
	}
	return -1;
}

static inline void net_on_send(void *user, unsigned stream, unsigned component,
			       const il_ice_candidate *local, const il_addr *remote,
			       const uint8_t *data, size_t len)
{
	(void)stream;
	(void)component;
	net_agent *na = user;
	net *n = na->net;
	if (na->sends < 256)
		na->last_send_ms[na->sends] = n->now;
	na->sends++;
	if (len >= 20 && il_stun_is_stun(data, len) && data[0] == 0 && data[1] == 1)
		na->stun_requests_sent++;
	if (na->blackhole || n->queue_count == NET_MAX_PACKETS || len > sizeof n->queue[0].data)
		return;
	net_packet *p = &n->queue[n->queue_count++];
	p->at = n->now + n->latency_ms;
	p->src = local->base;
	if (na->nat && il_addr_equal(&local->base, &na->nat_inside))
		p->src = na->nat_outside;
	p->dst = *remote;
	p->to = net_owner(n, remote, &p->dst);
	p->len = len;
	memcpy(p->data, data, len);
}

static inline void net_on_event(void *user, const il_ice_event *ev)
{
	net_agent *na = user;
	if (na->event_count < NET_MAX_EVENTS)
		na->events[na->event_count++] = *ev;
}

static inline void net_on_data(void *user, unsigned stream, unsigned component,
			       const uint8_t *data, size_t len)
{
	(void)stream;
	(void)component;
	(void)data;
	(void)len;
	net_agent *na = user;
	na->data_received++;
}

static inline net *net_new(uint32_t latency_ms)
{
	net *n = calloc(1, sizeof *n);
	n->queue = calloc(NET_MAX_PACKETS, sizeof *n->queue);
	n->latency_ms = latency_ms;
	n->now = 1000;
	return n;
}

static inline void net_free(net *n)
{
	for (int i = 0; i < NET_MAX_AGENTS; i++)
		il_ice_agent_free(n->agents[i].agent);
	free(n->queue);
	free(n);
}

static inline net_agent *net_add_agent(net *n, int i, const il_ice_config *cfg, uint64_t seed)
{
	net_agent *na = &n->agents[i];
	memset(na, 0, sizeof *na);
	na->net = n;
	na->index = i;
	na->rng = seed;
	il_ice_callbacks cb = {.user = na, .random = test_random, .send = net_on_send,
			       .event = net_on_event, .data = net_on_data};
	na->agent = il_ice_agent_new(cfg, &cb);
	assert_non_null(na->agent);
	return na;
}

/* A host candidate at addr for (stream, component). */
static inline void net_add_host(net_agent *na, unsigned stream, unsigned component, il_addr addr)
{
	na->hosts[na->host_count++] = addr;
	il_ice_candidate c;
	memset(&c, 0, sizeof c);
	c.component = (uint16_t)component;
	c.type = IL_ICE_CAND_HOST;
	c.addr = addr;
	assert_true(il_ice_agent_add_local_candidate(na->agent, stream, &c, na->net->now) >= 0);
}

/* Signalling: x's credentials and candidates to y. */
static inline void net_exchange(net_agent *x, net_agent *y, unsigned stream, bool eoc)
{
	assert_int_equal(il_ice_agent_set_remote_credentials(
				 y->agent, stream, il_ice_agent_local_ufrag(x->agent, stream),
				 il_ice_agent_local_pwd(x->agent, stream), x->net->now),
			 IL_ICE_OK);
	size_t n = il_ice_agent_local_candidate_count(x->agent, stream);
	for (size_t i = 0; i < n; i++) {
		const il_ice_candidate *c = il_ice_agent_local_candidate(x->agent, stream, i);
		if (c->type == IL_ICE_CAND_PRFLX)
			continue;
		int rc = il_ice_agent_add_remote_candidate(y->agent, stream, c, x->net->now);
		assert_true(rc >= 0 || rc == IL_ICE_ERR_DUPLICATE);
	}
	if (eoc) {
		il_ice_agent_remote_end_of_candidates(y->agent, stream, x->net->now);
		il_ice_agent_local_end_of_candidates(x->agent, stream, x->net->now);
	}
}

/* Runs the network until t_end (virtual ms). */
static inline void net_run_until(net *n, uint64_t t_end)
{
	for (;;) {
		uint64_t next = t_end;
		for (int i = 0; i < NET_MAX_AGENTS; i++)
			if (n->agents[i].agent) {
				uint64_t d = il_ice_agent_next_deadline(n->agents[i].agent);
				if (d < next)
					next = d;
			}
		for (size_t q = 0; q < n->queue_count; q++)
			if (n->queue[q].at < next)
				next = n->queue[q].at;
		if (next < n->now)
			next = n->now;
		if (next > t_end)
			break;
		n->now = next;
		/* Deliver due packets in order. */
		for (size_t q = 0; q < n->queue_count;) {
			if (n->queue[q].at > n->now) {
				q++;
				continue;
			}
			net_packet pkt = n->queue[q];
			memmove(&n->queue[q], &n->queue[q + 1],
				(n->queue_count - q - 1) * sizeof n->queue[0]);
			n->queue_count--;
			if (pkt.to >= 0 && n->agents[pkt.to].agent)
				il_ice_agent_handle_datagram(n->agents[pkt.to].agent, &pkt.dst,
							     &pkt.src, pkt.data, pkt.len, n->now);
			q = 0;
		}
		for (int i = 0; i < NET_MAX_AGENTS; i++)
			if (n->agents[i].agent &&
			    il_ice_agent_next_deadline(n->agents[i].agent) <= n->now)
				il_ice_agent_timer(n->agents[i].agent, n->now);
		if (n->now == t_end)
			break;
	}
	n->now = t_end;
}

static inline void net_run(net *n, uint64_t ms)
{
	net_run_until(n, n->now + ms);
}

static inline bool saw_state(const net_agent *na, int state)
{
	for (unsigned i = 0; i < na->event_count; i++)
		if (na->events[i].type == IL_ICE_EV_STATE && na->events[i].state == state)
			return true;
	return false;
}

static inline unsigned count_events(const net_agent *na, int type)
{
	unsigned n = 0;
	for (unsigned i = 0; i < na->event_count; i++)
		if (na->events[i].type == type)
			n++;
	return n;
}

/* A Binding request as a peer would send it. */
typedef struct req_opts {
	const char *username;   /* "lufrag:rufrag" of the receiver */
	const char *pwd;        /* the receiver's password */
	uint32_t priority;      /* 0: omitted */
	int role;               /* 1 controlling, -1 controlled, 0 none */
	uint64_t tie_breaker;
	bool use_candidate;
	uint8_t tid_byte;
	bool no_integrity;
} req_opts;

static inline size_t build_req(const req_opts *o, uint8_t *buf, size_t cap)
{
	uint8_t tid[IL_STUN_TID_LEN];
	memset(tid, o->tid_byte, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, cap, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	if (o->username)
		il_stun_add_string(&b, IL_ATTR_USERNAME, o->username, strlen(o->username));
	if (o->priority)
		il_stun_add_u32(&b, IL_ATTR_PRIORITY, o->priority);
	if (o->role > 0)
		il_stun_add_u64(&b, IL_ATTR_ICE_CONTROLLING, o->tie_breaker);
	else if (o->role < 0)
		il_stun_add_u64(&b, IL_ATTR_ICE_CONTROLLED, o->tie_breaker);
	if (o->use_candidate)
		il_stun_add_empty(&b, IL_ATTR_USE_CANDIDATE);
	if (!o->no_integrity) {
		il_stun_key k;
		assert_int_equal(il_stun_key_short_term(&k, o->pwd), IL_STUN_OK);
		il_stun_add_message_integrity(&b, &k);
	}
	il_stun_add_fingerprint(&b);
	size_t n = il_stun_builder_finish(&b, NULL);
	assert_true(n > 0);
	return n;
}

/* The last packet agent `from` queued, decoded. */
static inline const net_packet *last_packet(const net *n)
{
	return n->queue_count ? &n->queue[n->queue_count - 1] : NULL;
}

#endif
