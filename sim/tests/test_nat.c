/* NAT behaviour (RFC 4787): every mapping x filtering combination checked
 * with the probe sequences of RFC 4787 §4.1 and §5 (and RFC 5780 §4.3,
 * §4.4), port preservation, parity, pooling, timeouts and refresh,
 * hairpinning, ICMP through the NAT, and the UDP-blocked firewall. */
#include "sim_test_util.h"

#include <stdio.h>

static const char *const maps[] = {"eim", "adm", "apdm"};
static const char *const filters[] = {"eif", "adf", "apdf"};

/* RFC 4787 §4.1: X1:x1 seen by srv1:3478, X2:x2 by srv1:3479 (same
 * address, other port), X3:x3 by srv2 (other address). */
static void observe_mappings(nat_fixture *f, il_addr *x1, il_addr *x2, il_addr *x3)
{
	send_now(f, f->s_in1, &f->a_s1a);
	run_for(f, 50 * MS);
	*x1 = f->rx_s1a.last_from;
	send_now(f, f->s_in1, &f->a_s1b);
	run_for(f, 50 * MS);
	*x2 = f->rx_s1b.last_from;
	send_now(f, f->s_in1, &f->a_s2);
	run_for(f, 50 * MS);
	*x3 = f->rx_s2.last_from;
}

static void test_mapping_behaviour_each_combination(void **state)
{
	(void)state;
	for (int m = 0; m < 3; m++)
		for (int fl = 0; fl < 3; fl++) {
			char desc[64];
			snprintf(desc, sizeof desc, "mapping=%s,filtering=%s", maps[m], filters[fl]);
			nat_fixture f;
			fixture_build(&f, desc, 1, NULL);
			il_addr x1, x2, x3;
			observe_mappings(&f, &x1, &x2, &x3);
			assert_int_equal(f.rx_s1a.count, 1);
			assert_int_equal(f.rx_s1b.count, 1);
			assert_int_equal(f.rx_s2.count, 1);
			bool same12 = il_addr_equal(&x1, &x2), same13 = il_addr_equal(&x1, &x3);
			if (m == IL_SIM_MAP_EIM) {
				assert_true(same12 && same13);
			} else if (m == IL_SIM_MAP_ADM) {
				assert_true(same12);
				assert_false(same13);
			} else {
				assert_false(same12);
				assert_false(same13);
				assert_false(il_addr_equal(&x2, &x3));
			}
			fixture_free(&f);
		}
}

/* RFC 4787 §5 / RFC 5780 §4.4: in1 sends to srv1:3478 only; then srv1:3478,
 * srv1:3479 and srv2 each send to the mapping. */
static void test_filtering_behaviour_each_combination(void **state)
{
	(void)state;
	for (int m = 0; m < 3; m++)
		for (int fl = 0; fl < 3; fl++) {
			char desc[64];
			snprintf(desc, sizeof desc, "mapping=%s,filtering=%s", maps[m], filters[fl]);
			nat_fixture f;
			fixture_build(&f, desc, 2, NULL);
			send_now(&f, f.s_in1, &f.a_s1a);
			run_for(&f, 50 * MS);
			il_addr x1 = f.rx_s1a.last_from;
			int got[3];
			int socks[3] = {f.s_s1a, f.s_s1b, f.s_s2};
			for (int i = 0; i < 3; i++) {
				int before = f.rx_in1.count;
				send_now(&f, socks[i], &x1);
				run_for(&f, 50 * MS);
				got[i] = f.rx_in1.count - before;
			}
			assert_int_equal(got[0], 1); /* the endpoint it sent to: always */
			assert_int_equal(got[1], fl != IL_SIM_FILTER_APDF); /* same IP, other port */
			assert_int_equal(got[2], fl == IL_SIM_FILTER_EIF);  /* other IP */
			il_sim_nat_stats st;
			assert_int_equal(il_sim_nat_get_stats(f.sim, f.nat, &st), 0);
			assert_int_equal(st.filtered_in, (fl != IL_SIM_FILTER_EIF) + (fl == IL_SIM_FILTER_APDF));
			fixture_free(&f);
		}
}

static void test_port_preserved_then_sequential_on_collision(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "full-cone", 3, NULL);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_s1a.last_from.port, 5000);
	send_now(&f, f.s_in2, &f.a_s1a); /* another host, same port: cannot keep it */
	run_for(&f, 50 * MS);
	assert_int_not_equal(f.rx_s1a.last_from.port, 5000);
	assert_int_equal(f.rx_s1a.last_from.port, 1024); /* sequential from port_min */
	fixture_free(&f);
}

static void test_sequential_ports_for_symmetric(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "symmetric", 3, NULL);
	il_addr x1, x2, x3;
	observe_mappings(&f, &x1, &x2, &x3);
	assert_int_equal(x2.port, x1.port + 1);
	assert_int_equal(x3.port, x2.port + 1);
	fixture_free(&f);
}

static void test_random_ports_keep_parity(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "symmetric-random,parity=on", 4, NULL);
	uint16_t seen[2][8];
	/* Eight destinations (APDM: eight mappings) from an even and an odd port. */
	for (int i = 0; i < 8; i++) {
		il_addr dst = f.a_s1a;
		dst.port = (uint16_t)(4000 + i);
		send_now(&f, f.s_in1, &dst);  /* internal 5000: even */
		send_now(&f, f.s_in1b, &dst); /* internal 5001: odd */
	}
	run_for(&f, 50 * MS);
	int i = 0;
	for (int k = 0; k < 8; k++) {
		il_addr dst = f.a_s1a, ext;
		dst.port = (uint16_t)(4000 + k);
		assert_int_equal(il_sim_nat_lookup(f.sim, f.nat, IL_SIM_UDP, &f.a_in1, &dst, &ext), 0);
		seen[0][i] = ext.port;
		assert_int_equal(il_sim_nat_lookup(f.sim, f.nat, IL_SIM_UDP, &f.a_in1b, &dst, &ext), 0);
		seen[1][i] = ext.port;
		assert_int_equal(seen[0][i] % 2, 0);
		assert_int_equal(seen[1][i] % 2, 1);
		i++;
	}
	/* Random, not sequential. */
	assert_true(seen[0][1] != seen[0][0] + 2 || seen[0][2] != seen[0][1] + 2);
	fixture_free(&f);
}

static void test_paired_pooling_keeps_one_external_ip_per_host(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "symmetric,pool=2", 5, NULL);
	il_addr x1, x2, x3;
	observe_mappings(&f, &x1, &x2, &x3);
	assert_true(x1.ip[3] == x2.ip[3] && x2.ip[3] == x3.ip[3]);
	send_now(&f, f.s_in2, &f.a_s1a);
	run_for(&f, 50 * MS);
	assert_int_not_equal(f.rx_s1a.last_from.ip[3], x1.ip[3]); /* the other pool address */
	/* And the second address is reachable: srv1 answers in2 through it. */
	send_now(&f, f.s_s1a, &f.rx_s1a.last_from);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_in2.count, 1);
	fixture_free(&f);
}

static void test_arbitrary_pooling_spreads_one_host(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "symmetric,pool=2,pooling=arbitrary", 5, NULL);
	il_addr x1, x2, x3;
	observe_mappings(&f, &x1, &x2, &x3);
	assert_true(x1.ip[3] != x2.ip[3] || x2.ip[3] != x3.ip[3]);
	fixture_free(&f);
}

static int inbound_after(nat_fixture *f, const il_addr *x1, uint64_t at_us)
{
	uint64_t now = il_sim_now(f->sim);
	run_for(f, at_us - now);
	int before = f->rx_in1.count;
	send_now(f, f->s_s1a, x1);
	run_for(f, 10 * MS);
	return f->rx_in1.count - before;
}

static void test_mapping_timeout_without_inbound_refresh(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "port-restricted-cone,timeout=30s", 6, NULL);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 10 * MS);
	il_addr x1 = f.rx_s1a.last_from;
	assert_int_equal(inbound_after(&f, &x1, 20 * SEC), 1);
	/* Inbound does not refresh: 30 s after the outbound packet it is gone. */
	assert_int_equal(inbound_after(&f, &x1, 31 * SEC), 0);
	il_sim_nat_stats st;
	il_sim_nat_get_stats(f.sim, f.nat, &st);
	assert_int_equal(st.no_mapping_in, 1);
	assert_int_equal(il_sim_nat_mapping_count(f.sim, f.nat), 0);
	fixture_free(&f);
}

static void test_inbound_refresh_keeps_mapping(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "port-restricted-cone,timeout=30s,inbound-refresh=on", 6, NULL);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 10 * MS);
	il_addr x1 = f.rx_s1a.last_from;
	assert_int_equal(inbound_after(&f, &x1, 20 * SEC), 1);
	assert_int_equal(inbound_after(&f, &x1, 45 * SEC), 1);
	assert_int_equal(inbound_after(&f, &x1, 70 * SEC), 1);
	assert_int_equal(inbound_after(&f, &x1, 110 * SEC), 0);
	fixture_free(&f);
}

static void test_outbound_refresh_keeps_mapping(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "full-cone,timeout=30s", 6, NULL);
	for (int i = 0; i < 4; i++) {
		send_now(&f, f.s_in1, &f.a_s1a);
		run_for(&f, 25 * SEC);
	}
	il_addr x1 = f.rx_s1a.last_from;
	assert_int_equal(f.rx_s1a.count, 4);
	assert_int_equal(inbound_after(&f, &x1, il_sim_now(f.sim) + 1 * SEC), 1);
	il_sim_nat_stats st;
	il_sim_nat_get_stats(f.sim, f.nat, &st);
	assert_int_equal(st.mappings_created, 1);
	fixture_free(&f);
}

static void hairpin_case(const char *desc, bool expect)
{
	nat_fixture f;
	fixture_build(&f, desc, 7, NULL);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	il_addr x1 = f.rx_s1a.last_from;
	send_now(&f, f.s_in2, &f.a_s1a);
	run_for(&f, 50 * MS);
	il_addr x2 = f.rx_s1a.last_from;
	/* in2 opens its filter for in1's external endpoint, then in1 sends to
	 * in2's external endpoint. */
	send_now(&f, f.s_in2, &x1);
	run_for(&f, 50 * MS);
	send_now(&f, f.s_in1, &x2);
	run_for(&f, 50 * MS);
	il_sim_nat_stats st;
	il_sim_nat_get_stats(f.sim, f.nat, &st);
	if (expect) {
		assert_true(f.rx_in2.count >= 1);
		/* REQ-9b: the source is in1's external endpoint, not its internal one. */
		assert_true(il_addr_equal(&f.rx_in2.last_from, &x1));
		assert_int_equal(st.hairpin_dropped, 0);
	} else {
		assert_int_equal(f.rx_in2.count, 0);
		assert_int_equal(st.hairpin_dropped, 2);
	}
	fixture_free(&f);
}

static void test_hairpin_on_uses_external_source(void **state)
{
	(void)state;
	hairpin_case("port-restricted-cone,hairpin=on", true);
}

static void test_hairpin_off_drops(void **state)
{
	(void)state;
	hairpin_case("port-restricted-cone,hairpin=off", false);
}

static void test_mtu_drop_sends_icmp_through_nat(void **state)
{
	(void)state;
	il_sim_link_config small;
	il_sim_link_config_defaults(&small);
	small.latency_us = 1000;
	small.mtu = 576;
	for (int icmp = 0; icmp < 2; icmp++) {
		nat_fixture f;
		fixture_build(&f, icmp ? "full-cone,icmp=on" : "full-cone,icmp=off", 8, &small);
		uint8_t big[1000] = {0};
		assert_int_equal(il_sim_udp_send(f.sim, f.s_in1, &f.a_s1a, big, sizeof big), 0);
		uint8_t ok[500] = {0};
		assert_int_equal(il_sim_udp_send(f.sim, f.s_in1, &f.a_s1a, ok, sizeof ok), 0);
		run_for(&f, 100 * MS);
		assert_int_equal(f.rx_s1a.count, 1); /* 528 bytes pass, 1028 do not */
		int link = il_sim_find_link(f.sim, "l-srv1");
		il_sim_link_stats ls;
		il_sim_link_get_stats(f.sim, link, 1, &ls); /* internet -> srv1 */
		assert_int_equal(ls.dropped_mtu, 1);
		if (icmp) {
			assert_int_equal(f.rx_in1.icmp_count, 1);
			assert_int_equal(f.rx_in1.icmp_kind, IL_SIM_ICMP_TOO_BIG);
			assert_int_equal(f.rx_in1.icmp_mtu, 576);
		} else {
			assert_int_equal(f.rx_in1.icmp_count, 0);
		}
		fixture_free(&f);
	}
}

static void test_port_unreachable_from_host(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "full-cone", 9, NULL);
	il_addr closed = ip4("198.51.100.1:9999");
	send_now(&f, f.s_in1, &closed);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_in1.icmp_count, 1);
	assert_int_equal(f.rx_in1.icmp_kind, IL_SIM_ICMP_PORT_UNREACH);
	/* REQ-12: the ICMP message does not end the mapping. */
	assert_int_equal(il_sim_nat_mapping_count(f.sim, f.nat), 1);
	fixture_free(&f);
}

static void test_flush_drops_mappings(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "full-cone", 10, NULL);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	il_addr x1 = f.rx_s1a.last_from;
	assert_int_equal(il_sim_nat_flush(f.sim, f.nat), 0);
	send_now(&f, f.s_s1a, &x1);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_in1.count, 0);
	fixture_free(&f);
}

typedef struct tcp_log {
	int connected, closed, reset, bytes, accepted;
} tcp_log;

static void t_connected(void *u, il_sim *s, int c)
{
	(void)s;
	(void)c;
	((tcp_log *)u)->connected++;
}

static void t_data(void *u, il_sim *s, int c, const uint8_t *d, size_t n)
{
	(void)s;
	(void)c;
	(void)d;
	((tcp_log *)u)->bytes += (int)n;
}

static void t_closed(void *u, il_sim *s, int c, bool reset)
{
	(void)s;
	(void)c;
	((tcp_log *)u)->closed++;
	((tcp_log *)u)->reset += reset;
}

static bool t_accept(void *u, il_sim *s, int c, const il_addr *peer, il_sim_tcp_callbacks *cb)
{
	(void)s;
	(void)c;
	(void)peer;
	((tcp_log *)u)->accepted++;
	cb->user = u;
	cb->connected = t_connected;
	cb->data = t_data;
	cb->closed = t_closed;
	return true;
}

static void test_udp_blocked_firewall_lets_tcp_443_only(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "udp-blocked", 11, NULL);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_s1a.count, 0);
	tcp_log server = {0}, c443 = {0}, c80 = {0};
	il_addr l443 = ip4("198.51.100.1:443"), l80 = ip4("198.51.100.1:80");
	assert_true(il_sim_tcp_listen(f.sim, f.srv1, &l443, t_accept, &server, NULL) >= 0);
	assert_true(il_sim_tcp_listen(f.sim, f.srv1, &l80, t_accept, &server, NULL) >= 0);
	il_sim_tcp_callbacks cb = {&c443, t_connected, t_data, t_closed};
	int conn = il_sim_tcp_connect(f.sim, f.in1, &l443, &cb, NULL);
	assert_true(conn >= 0);
	il_sim_tcp_callbacks cb80 = {&c80, t_connected, t_data, t_closed};
	assert_true(il_sim_tcp_connect(f.sim, f.in1, &l80, &cb80, NULL) >= 0);
	run_for(&f, 1 * SEC);
	assert_int_equal(c443.connected, 1);
	assert_int_equal(server.accepted, 1);
	uint8_t data[5000];
	memset(data, 'x', sizeof data);
	assert_int_equal(il_sim_tcp_send(f.sim, conn, data, sizeof data), 0);
	run_for(&f, 1 * SEC);
	assert_int_equal(server.bytes, 5000);
	assert_int_equal(c80.connected, 0);
	run_for(&f, 600 * SEC);
	assert_int_equal(c80.closed, 1); /* SYN retries ran out */
	il_sim_nat_stats st;
	il_sim_nat_get_stats(f.sim, f.nat, &st);
	assert_true(st.blocked_out >= 2);
	fixture_free(&f);
}

static void test_tcp_survives_loss(void **state)
{
	(void)state;
	il_sim_link_config lossy;
	il_sim_link_config_defaults(&lossy);
	lossy.latency_us = 2000;
	lossy.loss = 0.2;
	nat_fixture f;
	fixture_build(&f, "symmetric", 12, &lossy);
	tcp_log server = {0}, client = {0};
	il_addr l = ip4("198.51.100.1:443");
	assert_true(il_sim_tcp_listen(f.sim, f.srv1, &l, t_accept, &server, NULL) >= 0);
	il_sim_tcp_callbacks cb = {&client, t_connected, t_data, t_closed};
	int conn = il_sim_tcp_connect(f.sim, f.in1, &l, &cb, NULL);
	run_for(&f, 10 * SEC);
	assert_int_equal(client.connected, 1);
	uint8_t data[20000];
	memset(data, 'y', sizeof data);
	assert_int_equal(il_sim_tcp_send(f.sim, conn, data, sizeof data), 0);
	run_for(&f, 60 * SEC);
	assert_int_equal(server.bytes, 20000);
	fixture_free(&f);
}

static void test_preset_parse_errors(void **state)
{
	(void)state;
	il_sim_nat_config c, o;
	int layers;
	char err[128];
	assert_int_equal(il_sim_preset_parse("symetric", &c, &o, &layers, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown NAT preset 'symetric'"));
	assert_int_equal(il_sim_preset_parse("mapping=eim,filtering=xyz", &c, &o, &layers, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad value 'xyz' for NAT knob 'filtering'"));
	assert_int_equal(il_sim_preset_parse("colour=red", &c, &o, &layers, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown NAT knob 'colour'"));
	assert_int_equal(il_sim_preset_parse("mapping=eim,filtering=apdf,hairpin=on,timeout=30s", &c, &o, &layers, err, sizeof err), 0);
	assert_int_equal(c.mapping, IL_SIM_MAP_EIM);
	assert_int_equal(c.filtering, IL_SIM_FILTER_APDF);
	assert_true(c.hairpin);
	assert_int_equal(c.udp_timeout_ms, 30000);
	assert_int_equal(layers, 1);
	for (const char *const *n = il_sim_preset_names(); *n; n++) {
		assert_int_equal(il_sim_preset_parse(*n, &c, &o, &layers, err, sizeof err), 0);
		assert_non_null(il_sim_preset_summary(*n));
	}
	il_sim_preset_parse("cgn", &c, &o, &layers, err, sizeof err);
	assert_int_equal(layers, 2);
	assert_int_equal(o.filtering, IL_SIM_FILTER_EIF);
	il_sim_preset_parse("open", &c, &o, &layers, err, sizeof err);
	assert_int_equal(layers, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping_behaviour_each_combination),
		cmocka_unit_test(test_filtering_behaviour_each_combination),
		cmocka_unit_test(test_port_preserved_then_sequential_on_collision),
		cmocka_unit_test(test_sequential_ports_for_symmetric),
		cmocka_unit_test(test_random_ports_keep_parity),
		cmocka_unit_test(test_paired_pooling_keeps_one_external_ip_per_host),
		cmocka_unit_test(test_arbitrary_pooling_spreads_one_host),
		cmocka_unit_test(test_mapping_timeout_without_inbound_refresh),
		cmocka_unit_test(test_inbound_refresh_keeps_mapping),
		cmocka_unit_test(test_outbound_refresh_keeps_mapping),
		cmocka_unit_test(test_hairpin_on_uses_external_source),
		cmocka_unit_test(test_hairpin_off_drops),
		cmocka_unit_test(test_mtu_drop_sends_icmp_through_nat),
		cmocka_unit_test(test_port_unreachable_from_host),
		cmocka_unit_test(test_flush_drops_mappings),
		cmocka_unit_test(test_udp_blocked_firewall_lets_tcp_443_only),
		cmocka_unit_test(test_tcp_survives_loss),
		cmocka_unit_test(test_preset_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
