/* Unit tests of the RFC 5780 discovery core (nat_discovery.h) against a
 * small model written here: a NAT with the RFC 4787 mapping and filtering
 * behaviours, hairpinning and a mapping lifetime, and a Binding server
 * with the four addresses of RFC 5780 §6.1 (and ways to misbehave).
 * Virtual time; delivery through queues, never from inside a callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/nat_discovery.h"
#include "icelab/stun.h"

#define MAX_MAPS 64
#define MAX_PERMS 16
#define MAX_Q 64

enum { BEH_EI = 0, BEH_AD, BEH_APD };

typedef struct model_map {
	il_addr local, remote_key, ext;
	il_addr perms[MAX_PERMS];
	int perm_count;
	uint64_t last_ms;
} model_map;

typedef struct pkt {
	int sock;         /* outbound: the socket; inbound: the target socket */
	il_addr from, to;
	uint8_t data[256];
	size_t len;
} pkt;

typedef struct model {
	/* NAT */
	bool no_nat, udp_blocked, hairpin;
	int mapping, filtering;
	uint64_t lifetime_ms;       /* 0: forever */
	model_map maps[MAX_MAPS];
	int map_count;
	uint16_t next_port;
	/* server */
	bool rfc5780, ignore_change, refuse_change;
	il_addr a1p1, a1p2, a2p1, a2p2;
	/* client sockets */
	il_addr local[IL_NATD_SOCKETS];
	uint16_t next_local;
	int binds;
	/* queues and time */
	pkt out[MAX_Q];
	int out_count;
	uint64_t now;
	uint32_t randn;
	il_natd d;
} model;

static model M;

static il_addr addr(const char *text)
{
	il_addr a;
	assert_int_equal(il_addr_parse(text, &a), 0);
	return a;
}

static bool ip_eq(const il_addr *a, const il_addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, 4) == 0;
}

static il_addr mask(const il_addr *a, int beh)
{
	il_addr r;
	memset(&r, 0, sizeof r);
	if (beh == BEH_EI)
		return r;
	r = *a;
	if (beh == BEH_AD)
		r.port = 0;
	return r;
}

static bool alive(const model_map *m)
{
	return !M.lifetime_ms || M.now - m->last_ms < M.lifetime_ms;
}

static model_map *map_out(const il_addr *local, const il_addr *remote)
{
	il_addr key = mask(remote, M.mapping);
	for (int i = 0; i < M.map_count; i++) {
		model_map *m = &M.maps[i];
		if (alive(m) && il_addr_equal(&m->local, local) && il_addr_equal(&m->remote_key, &key))
			return m;
	}
	assert_true(M.map_count < MAX_MAPS);
	model_map *m = &M.maps[M.map_count++];
	memset(m, 0, sizeof *m);
	m->local = *local;
	m->remote_key = key;
	m->ext = addr("203.0.113.1:0");
	m->ext.port = M.next_port++;
	return m;
}

static model_map *map_ext(const il_addr *ext)
{
	for (int i = 0; i < M.map_count; i++)
		if (alive(&M.maps[i]) && il_addr_equal(&M.maps[i].ext, ext))
			return &M.maps[i];
	return NULL;
}

static bool filter_pass(const model_map *m, const il_addr *src)
{
	il_addr k = mask(src, M.filtering);
	if (M.filtering == BEH_EI)
		return true;
	for (int i = 0; i < m->perm_count; i++)
		if (il_addr_equal(&m->perms[i], &k))
			return true;
	return false;
}

static int sock_of(const il_addr *local)
{
	for (int s = 0; s < IL_NATD_SOCKETS; s++)
		if (il_addr_equal(&M.local[s], local))
			return s;
	return -1;
}

static void deliver_in(const il_addr *from, const il_addr *to, const uint8_t *data, size_t len)
{
	il_addr target = *to;
	if (!M.no_nat) {
		model_map *m = map_ext(to);
		if (!m || !filter_pass(m, from))
			return;
		target = m->local;
	}
	int s = sock_of(&target);
	if (s >= 0)
		il_natd_handle_datagram(&M.d, s, from, data, len, M.now);
}

static bool is_server(const il_addr *a)
{
	return il_addr_equal(a, &M.a1p1) || il_addr_equal(a, &M.a1p2) ||
	       il_addr_equal(a, &M.a2p1) || il_addr_equal(a, &M.a2p2);
}

/* The Binding server of RFC 5780 §6 (or a misbehaving one). */
static void server(const il_addr *src, const il_addr *dst, const uint8_t *data, size_t len)
{
	il_stun_msg req;
	if (il_stun_decode(data, len, &req, NULL) != IL_STUN_OK || req.cls != IL_STUN_REQUEST)
		return;
	uint32_t flags = 0;
	uint16_t rport = 0;
	const il_stun_attr *a = il_stun_msg_find(&req, IL_ATTR_CHANGE_REQUEST);
	if (a)
		il_stun_attr_get_u32(&req, a, &flags);
	a = il_stun_msg_find(&req, IL_ATTR_RESPONSE_PORT);
	if (a) {
		const uint8_t *v = il_stun_attr_value(&req, a);
		rport = (uint16_t)(v[0] << 8 | v[1]);
	}
	uint8_t out[256];
	il_stun_builder b;
	bool refuse = (flags && (M.refuse_change || !M.rfc5780)) || (rport && !M.rfc5780);
	il_stun_builder_init(&b, out, sizeof out, IL_STUN_BINDING,
			     refuse ? IL_STUN_ERROR : IL_STUN_SUCCESS, req.tid);
	il_addr from = *dst, to = *src;
	if (refuse) {
		il_stun_add_error_code(&b, 420, "Unknown Attribute");
	} else {
		if (!M.ignore_change) {
			if (flags & 0x4)
				memcpy(from.ip, ip_eq(dst, &M.a1p1) ? M.a2p1.ip : M.a1p1.ip, 4);
			if (flags & 0x2)
				from.port = dst->port == M.a1p1.port ? M.a2p2.port : M.a1p1.port;
		}
		if (rport)
			to.port = rport;
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, src);
		if (M.rfc5780) {
			il_stun_add_addr(&b, IL_ATTR_OTHER_ADDRESS, &M.a2p2);
			il_stun_add_addr(&b, IL_ATTR_RESPONSE_ORIGIN, &from);
		}
	}
	size_t n = il_stun_builder_finish(&b, NULL);
	assert_true(n > 0);
	deliver_in(&from, &to, out, n);
}

static void pump(void)
{
	while (M.out_count) {
		pkt p = M.out[0];
		memmove(M.out, M.out + 1, (size_t)(M.out_count - 1) * sizeof M.out[0]);
		M.out_count--;
		if (M.udp_blocked)
			continue;
		il_addr src = M.local[p.sock];
		if (!M.no_nat) {
			model_map *m = map_out(&p.from, &p.to);
			m->last_ms = M.now;
			il_addr k = mask(&p.to, M.filtering);
			bool have = false;
			for (int i = 0; i < m->perm_count; i++)
				have = have || il_addr_equal(&m->perms[i], &k);
			if (!have && m->perm_count < MAX_PERMS)
				m->perms[m->perm_count++] = k;
			src = m->ext;
			if (ip_eq(&p.to, &m->ext)) { /* to our own external address */
				if (M.hairpin)
					deliver_in(&src, &p.to, p.data, p.len);
				continue;
			}
		}
		if (is_server(&p.to))
			server(&src, &p.to, p.data, p.len);
	}
}

/* ---- callbacks ---- */

static int cb_bind(void *user, int sock, il_addr *local)
{
	(void)user;
	M.binds++;
	M.local[sock] = addr("10.0.0.2:0");
	M.local[sock].port = M.next_local++;
	*local = M.local[sock];
	return 0;
}

static void cb_send(void *user, int sock, const il_addr *to, const uint8_t *data, size_t len)
{
	(void)user;
	assert_true(M.out_count < MAX_Q);
	assert_true(len <= sizeof M.out[0].data);
	pkt *p = &M.out[M.out_count++];
	p->sock = sock;
	p->from = M.local[sock];
	p->to = *to;
	memcpy(p->data, data, len);
	p->len = len;
}

static void cb_random(void *user, uint8_t *out, size_t len)
{
	(void)user;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(++M.randn * 2654435761u >> 24);
}

static void model_init(int mapping, int filtering)
{
	memset(&M, 0, sizeof M);
	M.mapping = mapping;
	M.filtering = filtering;
	M.hairpin = true;
	M.rfc5780 = true;
	M.next_port = 40000;
	M.next_local = 5000;
	M.now = 1000;
	M.a1p1 = addr("192.0.2.1:3478");
	M.a1p2 = addr("192.0.2.1:3479");
	M.a2p1 = addr("192.0.2.2:3478");
	M.a2p2 = addr("192.0.2.2:3479");
}

static const il_natd_result *run(uint32_t lifetime_max_ms)
{
	il_natd_config cfg;
	il_natd_config_defaults(&cfg, &M.a1p1);
	cfg.lifetime_max_ms = lifetime_max_ms;
	il_natd_callbacks cb = {NULL, cb_bind, cb_send, cb_random};
	il_natd_init(&M.d, &cfg, &cb);
	assert_int_equal(il_natd_start(&M.d, M.now), 0);
	for (int steps = 0; steps < 100000; steps++) {
		pump();
		if (il_natd_done(&M.d))
			break;
		uint64_t t = il_natd_next_deadline(&M.d);
		assert_true(t != UINT64_MAX);
		assert_true(t >= M.now);
		M.now = t;
		il_natd_timer(&M.d, M.now);
	}
	assert_true(il_natd_done(&M.d));
	return il_natd_get_result(&M.d);
}

/* ---- tests ---- */

static void test_each_mapping_and_filtering_is_classified(void **state)
{
	(void)state;
	static const enum il_natd_mapping want_m[] = {IL_NATD_MAPPING_EIM, IL_NATD_MAPPING_ADM,
						      IL_NATD_MAPPING_APDM};
	static const enum il_natd_filtering want_f[] = {
		IL_NATD_FILTERING_EIF, IL_NATD_FILTERING_ADF, IL_NATD_FILTERING_APDF};
	for (int m = 0; m < 3; m++)
		for (int f = 0; f < 3; f++) {
			model_init(m, f);
			const il_natd_result *r = run(0);
			assert_false(r->udp_blocked);
			assert_true(r->rfc5780);
			assert_int_equal(r->mapping, want_m[m]);
			assert_int_equal(r->filtering, want_f[f]);
			assert_string_equal(r->error, "");
		}
}

static void test_no_nat_when_mapped_equals_local(void **state)
{
	(void)state;
	model_init(BEH_EI, BEH_EI);
	M.no_nat = true;
	const il_natd_result *r = run(0);
	assert_int_equal(r->mapping, IL_NATD_MAPPING_NO_NAT);
	assert_int_equal(r->filtering, IL_NATD_FILTERING_EIF);
	assert_int_equal(r->hairpin, IL_NATD_UNTESTED);
	assert_string_equal(il_natd_classic_name(r), "open");
}

static void test_udp_blocked_after_the_rfc8489_timeout(void **state)
{
	(void)state;
	model_init(BEH_EI, BEH_EI);
	M.udp_blocked = true;
	const il_natd_result *r = run(0);
	assert_true(r->udp_blocked);
	assert_string_equal(il_natd_classic_name(r), "udp-blocked");
	/* Rc = 7 sends and Rm * RTO: 39.5 s (RFC 8489 §6.2.1). */
	assert_int_equal(r->finished_ms - 1000, 39500);
	assert_int_equal(r->requests_sent, 7);
}

static void test_server_without_other_address_leaves_behaviour_unknown(void **state)
{
	(void)state;
	model_init(BEH_EI, BEH_APD);
	M.rfc5780 = false;
	const il_natd_result *r = run(60000);
	assert_false(r->rfc5780);
	assert_int_equal(r->mapping, IL_NATD_MAPPING_UNKNOWN);
	assert_int_equal(r->filtering, IL_NATD_FILTERING_UNKNOWN);
	assert_int_equal(r->lifetime_tested, IL_NATD_UNTESTED);
	assert_non_null(strstr(r->error, "OTHER-ADDRESS"));
}

static void test_answer_from_wrong_address_is_not_trusted(void **state)
{
	(void)state;
	model_init(BEH_EI, BEH_EI);
	M.ignore_change = true; /* answers CHANGE-REQUEST from A1:P1 anyway */
	const il_natd_result *r = run(0);
	assert_int_equal(r->mapping, IL_NATD_MAPPING_EIM);
	assert_int_equal(r->filtering, IL_NATD_FILTERING_UNKNOWN);
	assert_non_null(strstr(r->error, "wrong address"));
}

static void test_change_request_refused_gives_unknown_filtering(void **state)
{
	(void)state;
	model_init(BEH_EI, BEH_AD);
	M.refuse_change = true;
	const il_natd_result *r = run(0);
	assert_int_equal(r->filtering, IL_NATD_FILTERING_UNKNOWN);
	assert_non_null(strstr(r->error, "420"));
}

static void test_hairpin_detected_through_each_filter(void **state)
{
	(void)state;
	for (int f = 0; f < 3; f++) {
		model_init(BEH_EI, f);
		const il_natd_result *r = run(0);
		assert_int_equal(r->hairpin, IL_NATD_YES);
		model_init(BEH_EI, f);
		M.hairpin = false;
		r = run(0);
		assert_int_equal(r->hairpin, IL_NATD_NO);
	}
}

static void test_lifetime_search_brackets_the_mapping_timeout(void **state)
{
	(void)state;
	model_init(BEH_EI, BEH_APD);
	M.lifetime_ms = 30000;
	const il_natd_result *r = run(120000);
	assert_int_equal(r->lifetime_tested, IL_NATD_YES);
	assert_true(r->lifetime_lo_ms < 30000);
	assert_true(r->lifetime_hi_ms >= 30000);
	assert_true(r->lifetime_hi_ms - r->lifetime_lo_ms <= 1000);
	assert_true(r->lifetime_rounds >= 7 && r->lifetime_rounds <= 8);
	/* A fresh socket X per round, after the first five. */
	assert_int_equal(M.binds, IL_NATD_SOCKETS + (int)r->lifetime_rounds);
}

static void test_lifetime_longer_than_the_maximum(void **state)
{
	(void)state;
	model_init(BEH_EI, BEH_EI);
	const il_natd_result *r = run(8000);
	assert_int_equal(r->lifetime_hi_ms, 0);
	assert_true(r->lifetime_lo_ms >= 7000);
}

static void test_port_preservation_reported(void **state)
{
	(void)state;
	model_init(BEH_EI, BEH_EI);
	M.next_port = 5000; /* the model's first external port equals socket 0's */
	const il_natd_result *r = run(0);
	assert_true(r->port_preserved);
	assert_string_equal(il_natd_classic_name(r), "full-cone");
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(il_natd_mapping_name(IL_NATD_MAPPING_APDM, true), "apdm");
	assert_string_equal(il_natd_mapping_name(IL_NATD_MAPPING_EIM, false),
			    "endpoint-independent");
	assert_string_equal(il_natd_filtering_name(IL_NATD_FILTERING_ADF, true), "adf");
	assert_string_equal(il_natd_tristate_name(IL_NATD_NO), "no");
	il_natd_result r;
	memset(&r, 0, sizeof r);
	r.mapping = IL_NATD_MAPPING_APDM;
	assert_string_equal(il_natd_classic_name(&r), "symmetric");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_mapping_and_filtering_is_classified),
		cmocka_unit_test(test_no_nat_when_mapped_equals_local),
		cmocka_unit_test(test_udp_blocked_after_the_rfc8489_timeout),
		cmocka_unit_test(test_server_without_other_address_leaves_behaviour_unknown),
		cmocka_unit_test(test_answer_from_wrong_address_is_not_trusted),
		cmocka_unit_test(test_change_request_refused_gives_unknown_filtering),
		cmocka_unit_test(test_hairpin_detected_through_each_filter),
		cmocka_unit_test(test_lifetime_search_brackets_the_mapping_timeout),
		cmocka_unit_test(test_lifetime_longer_than_the_maximum),
		cmocka_unit_test(test_port_preservation_reported),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
