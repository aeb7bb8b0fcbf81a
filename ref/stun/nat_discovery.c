/* NAT behaviour discovery (RFC 5780 §4.2-§4.6) as a sans-I/O state
 * machine: every test is one Binding transaction of the STUN client
 * layer (stun_client.h: RFC 8489 §6.2 retransmissions), on the socket
 * its role names (nat_discovery.h), and the answers, or their absence,
 * classify the NAT.
 *
 * Order: Test I on socket 0 first (§4.2: UDP connectivity, the mapped
 * address and OTHER-ADDRESS); then, in parallel because each has its
 * own socket and so its own mapping, the mapping tests, the filtering
 * tests, hairpinning and the lifetime search. */
#include "icelab/nat_discovery.h"

#include <stdio.h>
#include <string.h>

#include "icelab/stun.h"

#define CHANGE_IP 0x4u   /* RFC 5780 §7.2 flag A */
#define CHANGE_PORT 0x2u /* flag B */

enum { SOCK_MAP = 0, SOCK_FIL, SOCK_HP, SOCK_LIFE_X, SOCK_LIFE_Y };

static const int test_sock[NATD_TEST_COUNT] = {
	SOCK_MAP, SOCK_MAP, SOCK_MAP, SOCK_FIL, SOCK_FIL,
	SOCK_FIL, SOCK_HP, SOCK_HP, SOCK_LIFE_X, SOCK_LIFE_Y,
};

void il_natd_config_defaults(il_natd_config *cfg, const il_addr *server)
{
	memset(cfg, 0, sizeof *cfg);
	if (server)
		cfg->server = *server;
	cfg->hairpin = true;
	cfg->lifetime_resolution_ms = 1000;
	il_stun_txn_config_defaults(&cfg->txn, false);
}

static void set_error(il_natd *d, const char *text)
{
	if (!d->res.error[0])
		snprintf(d->res.error, sizeof d->res.error, "%s", text);
}

static void check_done(il_natd *d, uint64_t now_ms)
{
	if (d->res.done || !(d->map_done && d->fil_done && d->hp_done && d->life_done))
		return;
	d->res.done = true;
	d->res.finished_ms = now_ms;
	for (int i = 0; i < NATD_TEST_COUNT; i++)
		il_stun_txn_end_all(&d->probes[i].table, 0, now_ms);
}

/* ---- transactions ---- */

static void probe_send(void *user, const uint8_t *data, size_t len)
{
	il_natd_probe *p = user;
	p->d->res.requests_sent++;
	p->d->cb.send(p->d->cb.user, p->sock, &p->to, data, len);
}

static void on_failed(il_natd *d, int test, uint64_t now_ms);

static void probe_failed(void *user, uint32_t tag, enum il_stun_txn_failure why,
			 uint64_t now_ms)
{
	(void)tag;
	(void)why;
	il_natd_probe *p = user;
	on_failed(p->d, p->test, now_ms);
}

/* Sends a Binding request for test to `to`, with CHANGE-REQUEST flags
 * (0: none) and RESPONSE-PORT (0: none). */
static void start_test(il_natd *d, int test, const il_addr *to, uint32_t change,
		       uint16_t response_port, uint64_t now_ms)
{
	il_natd_probe *p = &d->probes[test];
	il_stun_txn_end_all(&p->table, 0, now_ms);
	p->to = *to;
	uint8_t tid[IL_STUN_TID_LEN], buf[128];
	d->cb.random(d->cb.user, tid, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	if (change)
		il_stun_add_u32(&b, IL_ATTR_CHANGE_REQUEST, change);
	if (response_port) {
		/* RFC 5780 §7.5: a 16-bit port and 16 bits of padding. */
		uint8_t v[4] = {(uint8_t)(response_port >> 8), (uint8_t)response_port, 0, 0};
		il_stun_add_raw(&b, IL_ATTR_RESPONSE_PORT, v, sizeof v);
	}
	size_t len = il_stun_builder_finish(&b, NULL);
	if (!len || !il_stun_txn_start(&p->table, buf, len, (uint32_t)test, now_ms))
		on_failed(d, test, now_ms); /* cannot happen with these sizes */
}

static bool ip_equal(const il_addr *a, const il_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->ip, b->ip, a->family == IL_AF_INET ? 4 : 16) == 0;
}

static bool is_active(const il_natd *d, int test)
{
	return il_stun_txn_active_count(&d->probes[test].table) > 0;
}

/* ---- §4.6 binding lifetime ---- */

static void life_round(il_natd *d, uint64_t now_ms)
{
	il_natd_result *r = &d->res;
	uint32_t hi = r->lifetime_hi_ms ? r->lifetime_hi_ms : d->cfg.lifetime_max_ms;
	if (hi - r->lifetime_lo_ms <= d->cfg.lifetime_resolution_ms) {
		d->life_done = true;
		check_done(d, now_ms);
		return;
	}
	d->life_try_ms = r->lifetime_lo_ms + (hi - r->lifetime_lo_ms) / 2;
	r->lifetime_rounds++;
	/* "the client ... uses a different source address and port" for each
	 * round: a fresh X, so no earlier traffic refreshed its mapping. */
	if (d->cb.bind(d->cb.user, SOCK_LIFE_X, &d->local[SOCK_LIFE_X]) < 0) {
		set_error(d, "lifetime: cannot bind a new socket");
		d->life_done = true;
		check_done(d, now_ms);
		return;
	}
	start_test(d, NATD_LIFE_X, &d->cfg.server, 0, 0, now_ms);
}

static void life_result(il_natd *d, bool alive, uint64_t now_ms)
{
	if (alive)
		d->res.lifetime_lo_ms = d->life_try_ms;
	else
		d->res.lifetime_hi_ms = d->life_try_ms;
	life_round(d, now_ms);
}

/* ---- outcomes ---- */

static void filtering_decide(il_natd *d, uint64_t now_ms)
{
	if (!d->fil2_done || !d->fil3_done || d->fil_done)
		return;
	/* §4.4: "If the client does not receive a response [to Test II],
	 * Test III is performed ... If the client receives a response,
	 * the NAT has Address-Dependent Filtering; otherwise Address and
	 * Port-Dependent Filtering." */
	d->res.filtering = d->fil3_ok ? IL_NATD_FILTERING_ADF : IL_NATD_FILTERING_APDF;
	d->fil_done = true;
	check_done(d, now_ms);
}

static void after_test1(il_natd *d, uint64_t now_ms)
{
	il_natd_result *r = &d->res;
	if (r->mapping == IL_NATD_MAPPING_NO_NAT || !r->rfc5780)
		d->map_done = true;
	else {
		/* §4.3 Test II: "the client sends a Binding Request to the
		 * alternate address, but primary port." */
		il_addr a2p1 = r->other;
		a2p1.port = d->cfg.server.port;
		start_test(d, NATD_MAP2, &a2p1, 0, 0, now_ms);
	}
	if (r->rfc5780)
		start_test(d, NATD_FIL1, &d->cfg.server, 0, 0, now_ms);
	else
		d->fil_done = true;
	if (d->cfg.hairpin && r->mapping != IL_NATD_MAPPING_NO_NAT)
		start_test(d, NATD_HP1, &d->cfg.server, 0, 0, now_ms);
	else
		d->hp_done = true;
	if (d->cfg.lifetime_max_ms && r->rfc5780) {
		r->lifetime_tested = IL_NATD_YES;
		life_round(d, now_ms);
	} else {
		d->life_done = true;
	}
	check_done(d, now_ms);
}

static bool get_mapped(const il_stun_msg *msg, il_addr *out)
{
	const il_stun_attr *a = il_stun_msg_find(msg, IL_ATTR_XOR_MAPPED_ADDRESS);
	if (!a)
		a = il_stun_msg_find(msg, IL_ATTR_MAPPED_ADDRESS);
	return a && il_stun_attr_get_addr(msg, a, out) == IL_STUN_OK;
}

static void on_success(il_natd *d, int test, int sock, const il_addr *from,
		       const il_stun_msg *msg, uint64_t now_ms)
{
	il_natd_result *r = &d->res;
	il_addr mapped;
	memset(&mapped, 0, sizeof mapped);
	bool have = get_mapped(msg, &mapped);
	switch (test) {
	case NATD_MAP1: {
		if (!have) {
			set_error(d, "Test I: no XOR-MAPPED-ADDRESS in the response");
			d->map_done = d->fil_done = d->hp_done = d->life_done = true;
			break;
		}
		r->mapped = mapped;
		r->local = d->local[SOCK_MAP];
		r->port_preserved = mapped.port == r->local.port;
		/* §4.3: "If the XOR-MAPPED-ADDRESS is equal to the local IP
		 * address and port of the client, there is no NAT." */
		if (il_addr_equal(&mapped, &r->local))
			r->mapping = IL_NATD_MAPPING_NO_NAT;
		const il_stun_attr *o = il_stun_msg_find(msg, IL_ATTR_OTHER_ADDRESS);
		r->rfc5780 = o && il_stun_attr_get_addr(msg, o, &r->other) == IL_STUN_OK &&
			     r->other.family == d->cfg.server.family &&
			     !ip_equal(&r->other, &d->cfg.server) &&
			     r->other.port != d->cfg.server.port;
		if (!r->rfc5780)
			set_error(d, "the server gave no usable OTHER-ADDRESS: RFC 5780 is off");
		after_test1(d, now_ms);
		return;
	}
	case NATD_MAP2:
		if (!have)
			break;
		r->mapped2 = mapped;
		if (il_addr_equal(&mapped, &r->mapped)) {
			r->mapping = IL_NATD_MAPPING_EIM;
			d->map_done = true;
		} else {
			/* §4.3 Test III: "alternate address and alternate port". */
			start_test(d, NATD_MAP3, &r->other, 0, 0, now_ms);
		}
		break;
	case NATD_MAP3:
		if (!have)
			break;
		r->mapped3 = mapped;
		r->mapping = il_addr_equal(&mapped, &r->mapped2) ? IL_NATD_MAPPING_ADM
								  : IL_NATD_MAPPING_APDM;
		d->map_done = true;
		break;
	case NATD_FIL1: {
		/* §4.4 Test II: change IP and port; Test III: port only. Both
		 * go to the primary address, so they open nothing in the NAT;
		 * run together, Test III's answer waits for Test II's verdict. */
		start_test(d, NATD_FIL2, &d->cfg.server, CHANGE_IP | CHANGE_PORT, 0, now_ms);
		start_test(d, NATD_FIL3, &d->cfg.server, CHANGE_PORT, 0, now_ms);
		break;
	}
	case NATD_FIL2: {
		il_addr want = r->other;
		if (!il_addr_equal(from, &want)) {
			set_error(d, "filtering: the change-IP-and-port answer came from the wrong address");
			d->fil_done = true;
			break;
		}
		r->filtering = IL_NATD_FILTERING_EIF;
		d->fil_done = true;
		il_stun_txn_end_all(&d->probes[NATD_FIL3].table, 0, now_ms);
		break;
	}
	case NATD_FIL3: {
		il_addr want = d->cfg.server;
		want.port = r->other.port;
		if (!il_addr_equal(from, &want)) {
			set_error(d, "filtering: the change-port answer came from the wrong address");
			d->fil_done = true;
			break;
		}
		d->fil3_ok = d->fil3_done = true;
		filtering_decide(d, now_ms);
		break;
	}
	case NATD_HP1: {
		if (!have) {
			d->hp_done = true;
			break;
		}
		d->hp_mapped = mapped;
		/* Open socket 0's filter to socket 2's mapping (a hole punch),
		 * so that an address- or port-dependent filter does not hide
		 * a hairpinned request; then socket 2 sends to X1. */
		uint8_t tid[IL_STUN_TID_LEN], buf[32];
		d->cb.random(d->cb.user, tid, sizeof tid);
		il_stun_builder b;
		il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_INDICATION, tid);
		size_t len = il_stun_builder_finish(&b, NULL);
		if (len)
			d->cb.send(d->cb.user, SOCK_MAP, &mapped, buf, len);
		start_test(d, NATD_HP2, &r->mapped, 0, 0, now_ms);
		break;
	}
	case NATD_LIFE_X:
		if (!have) {
			d->life_done = true;
			break;
		}
		d->life_mapped = mapped;
		d->wait_until = now_ms + d->life_try_ms;
		break;
	case NATD_LIFE_Y:
		if (sock != SOCK_LIFE_X) {
			set_error(d, "lifetime: the server ignored RESPONSE-PORT");
			d->life_done = true;
			break;
		}
		life_result(d, true, now_ms);
		return;
	default:
		break;
	}
	check_done(d, now_ms);
}

static void on_failed(il_natd *d, int test, uint64_t now_ms)
{
	il_natd_result *r = &d->res;
	switch (test) {
	case NATD_MAP1:
		/* §4.2: no answer to Test I: UDP is blocked (or the server is
		 * down: from here the two look alike). */
		r->udp_blocked = true;
		d->map_done = d->fil_done = d->hp_done = d->life_done = true;
		break;
	case NATD_MAP2:
	case NATD_MAP3:
		set_error(d, "mapping: no answer from the alternate address");
		d->map_done = true;
		break;
	case NATD_FIL1:
		set_error(d, "filtering: no answer to Test I on a second socket");
		d->fil_done = true;
		break;
	case NATD_FIL2:
		d->fil2_done = true;
		filtering_decide(d, now_ms);
		break;
	case NATD_FIL3:
		d->fil3_done = true;
		filtering_decide(d, now_ms);
		break;
	case NATD_HP1:
		set_error(d, "hairpinning: no answer to the second socket's request");
		d->hp_done = true;
		break;
	case NATD_HP2:
		r->hairpin = IL_NATD_NO;
		d->hp_done = true;
		break;
	case NATD_LIFE_X:
		set_error(d, "lifetime: no answer to a new socket's request");
		d->life_done = true;
		break;
	case NATD_LIFE_Y:
		life_result(d, false, now_ms);
		return;
	default:
		break;
	}
	check_done(d, now_ms);
}

static void on_error_response(il_natd *d, int test, const il_stun_msg *msg, uint64_t now_ms)
{
	int code = 0;
	const char *reason = NULL;
	size_t rlen = 0;
	const il_stun_attr *a = il_stun_msg_find(msg, IL_ATTR_ERROR_CODE);
	if (a)
		il_stun_attr_get_error_code(msg, a, &code, &reason, &rlen);
	char text[96];
	snprintf(text, sizeof text, "test %d: error response %d", test, code);
	set_error(d, text);
	switch (test) {
	case NATD_MAP1:
		d->map_done = d->fil_done = d->hp_done = d->life_done = true;
		break;
	case NATD_MAP2:
	case NATD_MAP3:
		d->map_done = true;
		break;
	case NATD_FIL1:
	case NATD_FIL2:
	case NATD_FIL3:
		d->fil_done = true;
		il_stun_txn_end_all(&d->probes[NATD_FIL2].table, 0, now_ms);
		il_stun_txn_end_all(&d->probes[NATD_FIL3].table, 0, now_ms);
		break;
	case NATD_HP1:
	case NATD_HP2:
		d->hp_done = true;
		break;
	default:
		d->life_done = true;
		d->wait_until = 0;
		break;
	}
	check_done(d, now_ms);
}

/* ---- the public face ---- */

void il_natd_init(il_natd *d, const il_natd_config *cfg, const il_natd_callbacks *cb)
{
	memset(d, 0, sizeof *d);
	d->cfg = *cfg;
	d->cb = *cb;
	if (!d->cfg.lifetime_resolution_ms)
		d->cfg.lifetime_resolution_ms = 1000;
	il_stun_txn_callbacks tcb;
	for (int i = 0; i < NATD_TEST_COUNT; i++) {
		il_natd_probe *p = &d->probes[i];
		p->d = d;
		p->test = i;
		p->sock = test_sock[i];
		tcb.user = p;
		tcb.send = probe_send;
		tcb.failed = probe_failed;
		il_stun_txn_table_init(&p->table, &p->slot, 1, &d->cfg.txn, &tcb);
	}
}

int il_natd_start(il_natd *d, uint64_t now_ms)
{
	if (d->started)
		return 0;
	d->started = true;
	bool need[IL_NATD_SOCKETS] = {true, true, d->cfg.hairpin, d->cfg.lifetime_max_ms > 0,
				      d->cfg.lifetime_max_ms > 0};
	for (int s = 0; s < IL_NATD_SOCKETS; s++) {
		if (need[s] && d->cb.bind(d->cb.user, s, &d->local[s]) < 0) {
			set_error(d, "cannot bind a UDP socket");
			d->map_done = d->fil_done = d->hp_done = d->life_done = true;
			check_done(d, now_ms);
			return -1;
		}
	}
	start_test(d, NATD_MAP1, &d->cfg.server, 0, 0, now_ms);
	return 0;
}

void il_natd_handle_datagram(il_natd *d, int sock, const il_addr *from, const uint8_t *data,
			     size_t len, uint64_t now_ms)
{
	if (d->res.done || !il_stun_is_stun(data, len))
		return;
	il_stun_msg msg;
	if (il_stun_decode(data, len, &msg, NULL) != IL_STUN_OK || msg.method != IL_STUN_BINDING)
		return;
	if (msg.cls == IL_STUN_REQUEST) {
		/* The hairpin test's own request, back at socket 0. */
		il_natd_probe *p = &d->probes[NATD_HP2];
		if (sock == SOCK_MAP && is_active(d, NATD_HP2) &&
		    memcmp(msg.tid, p->slot.tid, IL_STUN_TID_LEN) == 0) {
			il_stun_txn_cancel(&p->table, &p->slot);
			d->res.hairpin = IL_NATD_YES;
			d->hp_done = true;
			check_done(d, now_ms);
		}
		return;
	}
	if (msg.cls != IL_STUN_SUCCESS && msg.cls != IL_STUN_ERROR)
		return;
	for (int i = 0; i < NATD_TEST_COUNT; i++) {
		il_natd_probe *p = &d->probes[i];
		il_stun_txn *t = il_stun_txn_match(&p->table, &msg);
		if (!t)
			continue;
		il_stun_txn_complete(&p->table, t, now_ms);
		if (msg.cls == IL_STUN_SUCCESS)
			on_success(d, i, sock, from, &msg, now_ms);
		else
			on_error_response(d, i, &msg, now_ms);
		return;
	}
}

void il_natd_timer(il_natd *d, uint64_t now_ms)
{
	if (d->res.done)
		return;
	for (int i = 0; i < NATD_TEST_COUNT && !d->res.done; i++)
		il_stun_txn_timer(&d->probes[i].table, now_ms);
	if (!d->res.done && d->wait_until && now_ms >= d->wait_until) {
		d->wait_until = 0;
		/* §4.6: Y asks with RESPONSE-PORT set to X's mapped port; "if
		 * the response is received on X, the binding is still alive". */
		start_test(d, NATD_LIFE_Y, &d->cfg.server, 0, d->life_mapped.port, now_ms);
	}
}

uint64_t il_natd_next_deadline(const il_natd *d)
{
	if (d->res.done || !d->started)
		return UINT64_MAX;
	uint64_t t = d->wait_until ? d->wait_until : UINT64_MAX;
	for (int i = 0; i < NATD_TEST_COUNT; i++) {
		uint64_t x = il_stun_txn_next_deadline(&d->probes[i].table);
		if (x < t)
			t = x;
	}
	return t;
}

bool il_natd_done(const il_natd *d)
{
	return d->res.done;
}

const il_natd_result *il_natd_get_result(const il_natd *d)
{
	return &d->res;
}

const char *il_natd_mapping_name(enum il_natd_mapping m, bool short_form)
{
	static const char *const lng[] = {"unknown", "no-nat", "endpoint-independent",
					  "address-dependent", "address-and-port-dependent"};
	static const char *const shrt[] = {"unknown", "no-nat", "eim", "adm", "apdm"};
	if ((unsigned)m > IL_NATD_MAPPING_APDM)
		return "?";
	return short_form ? shrt[m] : lng[m];
}

const char *il_natd_filtering_name(enum il_natd_filtering f, bool short_form)
{
	static const char *const lng[] = {"unknown", "endpoint-independent", "address-dependent",
					  "address-and-port-dependent"};
	static const char *const shrt[] = {"unknown", "eif", "adf", "apdf"};
	if ((unsigned)f > IL_NATD_FILTERING_APDF)
		return "?";
	return short_form ? shrt[f] : lng[f];
}

const char *il_natd_tristate_name(enum il_natd_tristate t)
{
	static const char *const names[] = {"untested", "yes", "no"};
	return (unsigned)t <= IL_NATD_NO ? names[t] : "?";
}

const char *il_natd_classic_name(const il_natd_result *r)
{
	if (r->udp_blocked)
		return "udp-blocked";
	switch (r->mapping) {
	case IL_NATD_MAPPING_NO_NAT:
		return r->filtering == IL_NATD_FILTERING_EIF ? "open"
		       : r->filtering ? "firewall" : "unknown";
	case IL_NATD_MAPPING_EIM:
		switch (r->filtering) {
		case IL_NATD_FILTERING_EIF:
			return "full-cone";
		case IL_NATD_FILTERING_ADF:
			return "restricted-cone";
		case IL_NATD_FILTERING_APDF:
			return "port-restricted-cone";
		default:
			return "unknown";
		}
	case IL_NATD_MAPPING_ADM:
	case IL_NATD_MAPPING_APDM:
		return "symmetric";
	default:
		return "unknown";
	}
}
