/* The gatherer (ice_gather.h) on its own, with a hand-made STUN server:
 * RFC 8421 local preferences on host candidates, server-reflexive
 * candidates from Binding responses, the redundant one eliminated
 * (RFC 8445 §5.1.3), end-of-candidates after success and after timeout
 * (RFC 8838 §8.2), and the relay-only and no-host policies. TURN relayed
 * candidates are proven in the simulator (sim/tests/test_matrix_ice.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/ice.h"
#include "icelab/ice_gather.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

typedef struct fake {
	uint64_t rng;
	il_ice_candidate signalled[16];
	unsigned signalled_count, eoc;
	il_addr last_from, last_to;
	uint8_t last[256];
	size_t last_len;
	unsigned sends;
} fake;

static void f_random(void *user, uint8_t *out, size_t len)
{
	fake *f = user;
	for (size_t i = 0; i < len; i++) {
		f->rng = f->rng * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (uint8_t)(f->rng >> 56);
	}
}

static void f_send(void *user, const il_addr *base, const il_addr *to, const uint8_t *data,
		   size_t len)
{
	fake *f = user;
	f->sends++;
	f->last_from = *base;
	f->last_to = *to;
	if (len <= sizeof f->last) {
		memcpy(f->last, data, len);
		f->last_len = len;
	}
}

static void f_candidate(void *user, unsigned stream, const il_ice_candidate *c)
{
	(void)stream;
	fake *f = user;
	if (!c)
		f->eoc++;
	else if (f->signalled_count < 16)
		f->signalled[f->signalled_count++] = *c;
}

static void a_send(void *user, unsigned stream, unsigned component, const il_ice_candidate *local,
		   const il_addr *remote, const uint8_t *data, size_t len)
{
	(void)user;
	(void)stream;
	(void)component;
	(void)local;
	(void)remote;
	(void)data;
	(void)len;
}

static il_addr addr(const char *text)
{
	il_addr a;
	assert_int_equal(il_addr_parse(text, &a), 0);
	return a;
}

typedef struct rig {
	fake f;
	il_ice_agent *agent;
	il_ice_gatherer *g;
} rig;

static void rig_new(rig *r, int policy)
{
	memset(r, 0, sizeof *r);
	r->f.rng = 42;
	il_ice_config cfg;
	il_ice_config_defaults(&cfg);
	il_ice_callbacks cb = {.user = &r->f, .random = f_random, .send = a_send};
	r->agent = il_ice_agent_new(&cfg, &cb);
	assert_non_null(r->agent);
	assert_int_equal(il_ice_agent_add_stream(r->agent, 1, NULL, NULL), 0);
	il_ice_gather_config gc;
	il_ice_gather_config_defaults(&gc);
	gc.policy = policy;
	il_ice_gather_callbacks gcb = {&r->f, f_random, f_send, NULL, NULL, f_candidate};
	r->g = il_ice_gatherer_new(&gc, &gcb, r->agent, 0);
	assert_non_null(r->g);
}

static void rig_free(rig *r)
{
	il_ice_gatherer_free(r->g);
	il_ice_agent_free(r->agent);
}

/* The server's answer to the last request sent: XOR-MAPPED-ADDRESS mapped. */
static size_t binding_response(const rig *r, const il_addr *mapped, uint8_t *buf, size_t cap)
{
	il_stun_msg req;
	assert_int_equal(il_stun_decode(r->f.last, r->f.last_len, &req, NULL), IL_STUN_OK);
	assert_int_equal(req.method, IL_STUN_BINDING);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, cap, IL_STUN_BINDING, IL_STUN_SUCCESS, req.tid);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, mapped);
	il_stun_add_fingerprint(&b);
	size_t n = il_stun_builder_finish(&b, NULL);
	assert_true(n > 0);
	return n;
}

static void test_host_candidates_get_rfc8421_preferences(void **state)
{
	(void)state;
	rig r;
	rig_new(&r, IL_ICE_GATHER_ALL);
	il_addr v4 = addr("192.168.1.10:5000"), v6 = addr("[2001:db8::10]:5000");
	assert_int_equal(il_ice_gatherer_add_host(r.g, 1, &v4, false), 0);
	assert_int_equal(il_ice_gatherer_add_host(r.g, 1, &v6, false), 0);
	assert_int_equal(il_ice_gatherer_start(r.g, 0), 0);
	assert_int_equal(r.f.signalled_count, 2);
	/* RFC 8421 §4: IPv6 first; both host type preference 126. */
	const il_ice_candidate *c4 = &r.f.signalled[0], *c6 = &r.f.signalled[1];
	assert_int_equal(c4->priority >> 24, 126);
	assert_true(c6->priority > c4->priority);
	/* No server: gathering is over at once. */
	assert_int_equal(r.f.eoc, 1);
	assert_true(il_ice_gatherer_done(r.g));
	rig_free(&r);
}

static void test_binding_response_gives_srflx_then_end_of_candidates(void **state)
{
	(void)state;
	rig r;
	rig_new(&r, IL_ICE_GATHER_ALL);
	il_addr host = addr("192.168.1.10:5000"), srv = addr("198.51.100.1:3478");
	il_addr mapped = addr("203.0.113.2:40000");
	il_ice_gatherer_add_host(r.g, 1, &host, false);
	il_ice_gatherer_add_stun_server(r.g, &srv);
	il_ice_gatherer_start(r.g, 0);
	assert_int_equal(r.f.sends, 1);
	assert_true(il_addr_equal(&r.f.last_from, &host) && il_addr_equal(&r.f.last_to, &srv));
	assert_int_equal(r.f.eoc, 0);
	uint8_t buf[128];
	size_t n = binding_response(&r, &mapped, buf, sizeof buf);
	/* From another address: not the server's answer, goes to the agent. */
	il_addr other = addr("198.51.100.9:3478");
	assert_int_equal(il_ice_gatherer_handle_datagram(r.g, &host, &other, buf, n, 30),
			 IL_ICE_DGRAM_DROPPED);
	assert_int_equal(il_ice_gatherer_handle_datagram(r.g, &host, &srv, buf, n, 30),
			 IL_ICE_DGRAM_STUN);
	assert_int_equal(r.f.signalled_count, 2);
	const il_ice_candidate *s = &r.f.signalled[1];
	assert_int_equal(s->type, IL_ICE_CAND_SRFLX);
	assert_true(il_addr_equal(&s->addr, &mapped));
	assert_true(il_addr_equal(&s->related, &host));
	assert_int_equal(s->priority >> 24, 100);
	assert_int_equal(r.f.eoc, 1);
	rig_free(&r);
}

/* RFC 8445 §5.1.3: a public host's server-reflexive address is its host
 * address: redundant, not offered. */
static void test_srflx_equal_to_base_is_redundant(void **state)
{
	(void)state;
	rig r;
	rig_new(&r, IL_ICE_GATHER_ALL);
	il_addr host = addr("203.0.113.10:5000"), srv = addr("198.51.100.1:3478");
	il_ice_gatherer_add_host(r.g, 1, &host, false);
	il_ice_gatherer_add_stun_server(r.g, &srv);
	il_ice_gatherer_start(r.g, 0);
	uint8_t buf[128];
	size_t n = binding_response(&r, &host, buf, sizeof buf);
	il_ice_gatherer_handle_datagram(r.g, &host, &srv, buf, n, 30);
	il_ice_gather_stats st;
	il_ice_gatherer_get_stats(r.g, &st);
	assert_int_equal(st.srflx, 0);
	assert_int_equal(st.redundant, 1);
	assert_int_equal(r.f.signalled_count, 1);
	assert_int_equal(r.f.eoc, 1);
	rig_free(&r);
}

/* A server that never answers: end-of-candidates after the Binding
 * transaction times out (RFC 8489 §6.2.1: 39.5 s with the defaults). */
static void test_binding_timeout_still_ends_gathering(void **state)
{
	(void)state;
	rig r;
	rig_new(&r, IL_ICE_GATHER_ALL);
	il_addr host = addr("192.168.1.10:5000"), srv = addr("198.51.100.1:3478");
	il_ice_gatherer_add_host(r.g, 1, &host, false);
	il_ice_gatherer_add_stun_server(r.g, &srv);
	il_ice_gatherer_start(r.g, 0);
	uint64_t now = 0;
	while (!il_ice_gatherer_done(r.g) && now < 60000) {
		now = il_ice_gatherer_next_deadline(r.g);
		assert_true(now != UINT64_MAX);
		il_ice_gatherer_timer(r.g, now);
	}
	assert_int_equal(now, 39500);
	assert_int_equal(r.f.sends, 7);
	assert_int_equal(r.f.eoc, 1);
	il_ice_gather_stats st;
	il_ice_gatherer_get_stats(r.g, &st);
	assert_int_equal(st.binding_failed, 1);
	rig_free(&r);
}

/* Relay-only: no host candidate reaches the agent, no Binding request
 * leaves, and a non-relayed local may not send. */
static void test_relay_only_offers_nothing_but_relays_and_refuses_host_sends(void **state)
{
	(void)state;
	rig r;
	rig_new(&r, IL_ICE_GATHER_RELAY_ONLY);
	il_addr host = addr("192.168.1.10:5000"), srv = addr("198.51.100.1:3478");
	il_ice_gatherer_add_host(r.g, 1, &host, false);
	il_ice_gatherer_add_stun_server(r.g, &srv);
	il_ice_gatherer_start(r.g, 0);
	assert_int_equal(il_ice_agent_local_candidate_count(r.agent, 0), 0);
	assert_int_equal(r.f.signalled_count, 0);
	assert_int_equal(r.f.sends, 0);
	il_ice_candidate local;
	memset(&local, 0, sizeof local);
	local.type = IL_ICE_CAND_HOST;
	local.base = host;
	il_addr peer = addr("198.51.100.20:6000");
	const uint8_t data[4] = {1, 2, 3, 4};
	assert_int_equal(il_ice_gatherer_send(r.g, &local, &peer, data, sizeof data, 1),
			 IL_ICE_ERR_STATE);
	assert_int_equal(r.f.sends, 0);
	/* Nothing arriving on a host base reaches the agent either. */
	assert_int_equal(il_ice_gatherer_handle_datagram(r.g, &host, &peer, data, sizeof data, 1),
			 IL_ICE_DGRAM_DROPPED);
	il_ice_gather_stats st;
	il_ice_gatherer_get_stats(r.g, &st);
	assert_int_equal(st.refused_sends, 1);
	rig_free(&r);
}

/* No-host (privacy): the host candidate is the agent's base but is never
 * signalled; its server-reflexive candidate is. */
static void test_no_host_keeps_host_candidates_unsignalled(void **state)
{
	(void)state;
	rig r;
	rig_new(&r, IL_ICE_GATHER_NO_HOST);
	il_addr host = addr("192.168.1.10:5000"), srv = addr("198.51.100.1:3478");
	il_addr mapped = addr("203.0.113.2:40000");
	il_ice_gatherer_add_host(r.g, 1, &host, false);
	il_ice_gatherer_add_stun_server(r.g, &srv);
	il_ice_gatherer_start(r.g, 0);
	assert_int_equal(il_ice_agent_local_candidate_count(r.agent, 0), 1);
	assert_int_equal(r.f.signalled_count, 0);
	uint8_t buf[128];
	size_t n = binding_response(&r, &mapped, buf, sizeof buf);
	il_ice_gatherer_handle_datagram(r.g, &host, &srv, buf, n, 30);
	assert_int_equal(r.f.signalled_count, 1);
	assert_int_equal(r.f.signalled[0].type, IL_ICE_CAND_SRFLX);
	assert_int_equal(r.f.eoc, 1);
	rig_free(&r);
}

static void test_policy_names_round_trip(void **state)
{
	(void)state;
	for (int p = IL_ICE_GATHER_ALL; p <= IL_ICE_GATHER_NO_HOST; p++)
		assert_int_equal(il_ice_gather_policy_parse(il_ice_gather_policy_name(p)), p);
	assert_int_equal(il_ice_gather_policy_parse("relay"), IL_ICE_GATHER_RELAY_ONLY);
	assert_int_equal(il_ice_gather_policy_parse("hosts"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_candidates_get_rfc8421_preferences),
		cmocka_unit_test(test_binding_response_gives_srflx_then_end_of_candidates),
		cmocka_unit_test(test_srflx_equal_to_base_is_redundant),
		cmocka_unit_test(test_binding_timeout_still_ends_gathering),
		cmocka_unit_test(test_relay_only_offers_nothing_but_relays_and_refuses_host_sends),
		cmocka_unit_test(test_no_host_keeps_host_candidates_unsignalled),
		cmocka_unit_test(test_policy_names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
