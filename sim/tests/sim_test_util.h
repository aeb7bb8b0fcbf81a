/* Shared fixtures of the simulator tests: a NAT with two inside hosts and
 * three outside endpoints on two public addresses.
 *
 *   in1 192.168.1.10 --+                               +-- srv1 198.51.100.1 (3478, 3479)
 *                      nat 203.0.113.2 -- internet ----+
 *   in2 192.168.2.10 --+                               +-- srv2 192.0.2.1 (3478)
 */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/sim.h"

#define MS 1000ull
#define SEC 1000000ull

typedef struct rx_log {
	int count;
	il_addr last_from;
	uint64_t last_at;
	int icmp_count;
	uint16_t icmp_mtu;
	uint8_t icmp_kind;
	uint32_t last_seq, out_of_order;
} rx_log;

static inline void rx_record(void *user, il_sim *sim, int sock, const il_addr *from,
			     const uint8_t *data, size_t len)
{
	(void)sock;
	rx_log *r = user;
	r->count++;
	r->last_from = *from;
	r->last_at = il_sim_now(sim);
	if (len >= 4) {
		uint32_t seq;
		memcpy(&seq, data, 4);
		if (r->count > 1 && seq < r->last_seq)
			r->out_of_order++;
		r->last_seq = seq;
	}
}

static inline void icmp_record(void *user, il_sim *sim, int sock, const il_sim_packet *p)
{
	(void)sim;
	(void)sock;
	rx_log *r = user;
	r->icmp_count++;
	r->icmp_mtu = p->icmp_mtu;
	r->icmp_kind = p->icmp_kind;
}

typedef struct nat_fixture {
	il_sim *sim;
	int in1, in2, nat, inet, srv1, srv2;
	int out_link;
	rx_log rx_in1, rx_in2, rx_s1a, rx_s1b, rx_s2;
	int s_in1, s_in1b, s_in2, s_s1a, s_s1b, s_s2;
	il_addr a_in1, a_in1b, a_in2, a_s1a, a_s1b, a_s2;
} nat_fixture;

static inline il_addr ip4(const char *text)
{
	il_addr a;
	assert_int_equal(il_addr_parse(text, &a), 0);
	return a;
}

/* Builds the topology; nat_desc NULL: no NAT on the router. */
static inline void fixture_build(nat_fixture *f, const char *nat_desc, uint64_t seed,
				 const il_sim_link_config *server_link)
{
	memset(f, 0, sizeof *f);
	f->sim = il_sim_new(seed);
	assert_non_null(f->sim);
	il_sim *s = f->sim;
	f->in1 = il_sim_add_host(s, "in1");
	f->in2 = il_sim_add_host(s, "in2");
	f->nat = il_sim_add_router(s, "nat");
	f->inet = il_sim_add_router(s, "internet");
	f->srv1 = il_sim_add_host(s, "srv1");
	f->srv2 = il_sim_add_host(s, "srv2");
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 1000;
	assert_true(il_sim_connect(s, f->in1, "192.168.1.10/24", f->nat, "192.168.1.1/24", &lc, "l-in1") >= 0);
	assert_true(il_sim_connect(s, f->in2, "192.168.2.10/24", f->nat, "192.168.2.1/24", &lc, "l-in2") >= 0);
	f->out_link = il_sim_connect(s, f->nat, "203.0.113.2/24", f->inet, "203.0.113.1/24", &lc, "l-nat");
	assert_true(f->out_link >= 0);
	assert_int_equal(il_sim_add_route(s, f->nat, "0.0.0.0/0", f->out_link), 0);
	assert_true(il_sim_connect(s, f->srv1, "198.51.100.1/24", f->inet, "198.51.100.254/24",
				   server_link ? server_link : &lc, "l-srv1") >= 0);
	assert_true(il_sim_connect(s, f->srv2, "192.0.2.1/24", f->inet, "192.0.2.254/24", &lc, "l-srv2") >= 0);
	if (nat_desc) {
		il_sim_nat_config cfg, outer;
		int layers;
		char err[128];
		assert_int_equal(il_sim_preset_parse(nat_desc, &cfg, &outer, &layers, err, sizeof err), 0);
		assert_int_equal(il_sim_set_nat(s, f->nat, f->out_link, &cfg), 0);
	}
	il_addr a;
	a = ip4("192.168.1.10:5000");
	f->s_in1 = il_sim_udp_bind(s, f->in1, &a, rx_record, icmp_record, &f->rx_in1, &f->a_in1);
	a = ip4("192.168.1.10:5001");
	f->s_in1b = il_sim_udp_bind(s, f->in1, &a, rx_record, icmp_record, &f->rx_in1, &f->a_in1b);
	a = ip4("192.168.2.10:5000");
	f->s_in2 = il_sim_udp_bind(s, f->in2, &a, rx_record, icmp_record, &f->rx_in2, &f->a_in2);
	a = ip4("198.51.100.1:3478");
	f->s_s1a = il_sim_udp_bind(s, f->srv1, &a, rx_record, NULL, &f->rx_s1a, &f->a_s1a);
	a = ip4("198.51.100.1:3479");
	f->s_s1b = il_sim_udp_bind(s, f->srv1, &a, rx_record, NULL, &f->rx_s1b, &f->a_s1b);
	a = ip4("192.0.2.1:3478");
	f->s_s2 = il_sim_udp_bind(s, f->srv2, &a, rx_record, NULL, &f->rx_s2, &f->a_s2);
	assert_true(f->s_in1 >= 0 && f->s_in1b >= 0 && f->s_in2 >= 0 && f->s_s1a >= 0 &&
		    f->s_s1b >= 0 && f->s_s2 >= 0);
}

static inline void send_now(nat_fixture *f, int sock, const il_addr *to)
{
	static const uint8_t msg[8] = "probe..";
	assert_int_equal(il_sim_udp_send(f->sim, sock, to, msg, sizeof msg), 0);
}

static inline void run_for(nat_fixture *f, uint64_t us)
{
	il_sim_run_until(f->sim, il_sim_now(f->sim) + us);
}

static inline void fixture_free(nat_fixture *f)
{
	il_sim_free(f->sim);
	f->sim = NULL;
}

#endif
