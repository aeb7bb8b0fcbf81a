/* Links: loss statistics with a seed, Gilbert-Elliott bursts, reordering,
 * duplication, bandwidth; determinism (same seed, same pcap bytes); the
 * capture dissects in tshark without errors (skipped without tshark). */
#include "sim_test_util.h"

#include <stdio.h>
#include <stdlib.h>

static void send_train(nat_fixture *f, int count, uint64_t gap_us)
{
	for (uint32_t i = 0; i < (uint32_t)count; i++) {
		uint8_t msg[16] = {0};
		memcpy(msg, &i, 4);
		assert_int_equal(il_sim_udp_send(f->sim, f->s_in1, &f->a_s1a, msg, sizeof msg), 0);
		if (gap_us)
			run_for(f, gap_us);
	}
	run_for(f, 2 * SEC);
}

static void test_random_loss_rate_and_seed(void **state)
{
	(void)state;
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.loss = 0.1;
	int got[2];
	for (int run = 0; run < 2; run++) {
		nat_fixture f;
		fixture_build(&f, NULL, 42, &lc);
		send_train(&f, 20000, 0);
		got[run] = f.rx_s1a.count;
		il_sim_link_stats ls;
		il_sim_link_get_stats(f.sim, il_sim_find_link(f.sim, "l-srv1"), 1, &ls);
		assert_int_equal(ls.sent, 20000);
		assert_int_equal(ls.lost_random + ls.delivered, 20000);
		fixture_free(&f);
	}
	assert_int_equal(got[0], got[1]); /* one seed, one outcome */
	double rate = 1.0 - got[0] / 20000.0;
	assert_true(rate > 0.09 && rate < 0.11);
}

static void test_gilbert_elliott_bursts(void **state)
{
	(void)state;
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.ge_p = 0.01;
	lc.ge_r = 0.25;
	lc.ge_loss_bad = 1.0;
	nat_fixture f;
	fixture_build(&f, NULL, 43, &lc);
	/* Send one by one and note which arrived, to measure bursts. */
	enum { N = 40000 };
	static bool arrived[N];
	int bursts = 0, lost = 0, run = 0;
	for (int i = 0; i < N; i++) {
		int before = f.rx_s1a.count;
		send_now(&f, f.s_in1, &f.a_s1a);
		run_for(&f, 20 * MS);
		arrived[i] = f.rx_s1a.count > before;
	}
	for (int i = 0; i < N; i++) {
		if (!arrived[i]) {
			lost++;
			if (!run++)
				bursts++;
		} else {
			run = 0;
		}
	}
	/* Stationary loss p/(p+r) = 3.85 %; mean burst 1/r = 4 packets. */
	double rate = (double)lost / N, mean_burst = (double)lost / bursts;
	assert_true(rate > 0.03 && rate < 0.05);
	assert_true(mean_burst > 3.0 && mean_burst < 5.0);
	fixture_free(&f);
}

static void test_reordering_and_jitter_fifo(void **state)
{
	(void)state;
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.jitter_us = 3000;
	nat_fixture f;
	fixture_build(&f, NULL, 44, &lc);
	send_train(&f, 1000, 500);
	assert_int_equal(f.rx_s1a.count, 1000);
	assert_int_equal(f.rx_s1a.out_of_order, 0); /* jitter alone keeps order */
	fixture_free(&f);
	lc.reorder = 0.1;
	lc.reorder_delay_us = 5000;
	fixture_build(&f, NULL, 44, &lc);
	send_train(&f, 1000, 500);
	assert_int_equal(f.rx_s1a.count, 1000);
	assert_true(f.rx_s1a.out_of_order > 50);
	fixture_free(&f);
}

static void test_duplication(void **state)
{
	(void)state;
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.duplicate = 0.25;
	nat_fixture f;
	fixture_build(&f, NULL, 45, &lc);
	send_train(&f, 4000, 0);
	assert_true(f.rx_s1a.count > 4800 && f.rx_s1a.count < 5200);
	fixture_free(&f);
}

static void test_bandwidth_serialises(void **state)
{
	(void)state;
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 0;
	lc.bandwidth_bps = 1000000;
	lc.queue_us = 10 * SEC;
	nat_fixture f;
	fixture_build(&f, NULL, 46, &lc);
	uint8_t big[972] = {0}; /* 1000 bytes on the wire */
	for (int i = 0; i < 100; i++)
		il_sim_udp_send(f.sim, f.s_in1, &f.a_s1a, big, sizeof big);
	run_for(&f, 5 * SEC);
	assert_int_equal(f.rx_s1a.count, 100);
	/* 100 x 8000 bits at 1 Mbit/s: the last one lands 0.8 s after the first
	 * reached the link (2 ms of the fixture's other links before it). */
	assert_true(f.rx_s1a.last_at >= 800 * MS && f.rx_s1a.last_at <= 803 * MS);
	fixture_free(&f);
}

static void test_link_down_drops(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "full-cone", 47, NULL);
	il_sim_link_set_up(f.sim, f.out_link, false);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_s1a.count, 0);
	il_sim_link_set_up(f.sim, f.out_link, true);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_s1a.count, 1);
	fixture_free(&f);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return b;
}

static void capture_run(const char *path, uint64_t seed)
{
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.jitter_us = 2000;
	lc.loss = 0.05;
	nat_fixture f;
	fixture_build(&f, "symmetric-random", seed, &lc);
	assert_int_equal(il_sim_pcap_open(f.sim, path, false), 0);
	for (int i = 0; i < 200; i++) {
		il_addr dst = f.a_s1a;
		send_now(&f, f.s_in1, &dst);
		send_now(&f, f.s_in2, &f.a_s2);
		if (f.rx_s1a.count)
			send_now(&f, f.s_s1a, &f.rx_s1a.last_from);
		run_for(&f, 3 * MS);
	}
	il_addr closed = ip4("198.51.100.1:9");
	send_now(&f, f.s_in1, &closed); /* an ICMP port unreachable in the capture */
	run_for(&f, 1 * SEC);
	il_sim_pcap_close(f.sim);
	fixture_free(&f);
}

static void test_same_seed_same_pcap_bytes(void **state)
{
	(void)state;
	const char *a = "/tmp/icelab_sim_det_a.pcap", *b = "/tmp/icelab_sim_det_b.pcap",
		   *c = "/tmp/icelab_sim_det_c.pcap";
	capture_run(a, 99);
	capture_run(b, 99);
	capture_run(c, 100);
	size_t la, lb, lcn;
	uint8_t *ba = read_file(a, &la), *bb = read_file(b, &lb), *bc = read_file(c, &lcn);
	assert_true(la > 10000);
	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	assert_true(la != lcn || memcmp(ba, bc, la) != 0); /* another seed differs */
	free(ba);
	free(bb);
	free(bc);
	remove(a);
	remove(b);
	remove(c);
}

static void test_pcap_opens_in_tshark(void **state)
{
	(void)state;
	if (system("command -v tshark >/dev/null 2>&1") != 0)
		skip();
	const char *p = "/tmp/icelab_sim_tshark.pcap";
	capture_run(p, 7);
	/* tshark exits non-zero on a broken file; expert errors (malformed,
	 * bad checksums when validated) are counted by the filter. */
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "tshark -r %s -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE "
		 "-o ip.check_checksum:TRUE -Y '_ws.malformed || _ws.expert.severity == error' "
		 "2>/dev/null | wc -l > %s.out",
		 p, p);
	assert_int_equal(system(cmd), 0);
	char outp[256];
	snprintf(outp, sizeof outp, "%s.out", p);
	size_t n;
	uint8_t *o = read_file(outp, &n);
	assert_true(n >= 1 && o[0] == '0');
	free(o);
	snprintf(cmd, sizeof cmd, "tshark -r %s -Y icmp 2>/dev/null | grep -q 'Port unreachable'", p);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "tshark -r %s -q -z io,phs 2>/dev/null | grep -q udp", p);
	assert_int_equal(system(cmd), 0);
	remove(p);
	remove(outp);
}

static void test_ipv6_through_links(void **state)
{
	(void)state;
	il_sim *sim = il_sim_new(5);
	int a = il_sim_add_host(sim, "a"), r = il_sim_add_router(sim, "r"), b = il_sim_add_host(sim, "b");
	assert_true(il_sim_connect(sim, a, "2001:db8:1::10/64", r, "2001:db8:1::1/64", NULL, NULL) >= 0);
	assert_true(il_sim_connect(sim, b, "2001:db8:2::10/64", r, "2001:db8:2::1/64", NULL, NULL) >= 0);
	rx_log rx = {0};
	il_addr la, lb;
	assert_int_equal(il_addr_parse("[2001:db8:2::10]:3478", &lb), 0);
	int sb = il_sim_udp_bind(sim, b, &lb, rx_record, NULL, &rx, NULL);
	memset(&la, 0, sizeof la);
	assert_int_equal(il_addr_parse("[2001:db8:1::10]:0", &la), 0);
	int sa = il_sim_udp_bind(sim, a, &la, NULL, NULL, NULL, NULL);
	assert_true(sa >= 0 && sb >= 0);
	uint8_t m[8] = {0};
	assert_int_equal(il_sim_udp_send(sim, sa, &lb, m, sizeof m), 0);
	il_sim_run_until(sim, SEC);
	assert_int_equal(rx.count, 1);
	uint8_t buf[128];
	il_sim_packet p;
	memset(&p, 0, sizeof p);
	p.proto = IL_SIM_UDP;
	p.src = rx.last_from;
	p.dst = lb;
	p.len = 8;
	assert_int_equal(il_sim_packet_to_ip(&p, buf, sizeof buf), 48 + 8);
	assert_int_equal(buf[0] >> 4, 6);
	assert_int_equal(buf[6], 17);
	il_sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_loss_rate_and_seed),
		cmocka_unit_test(test_gilbert_elliott_bursts),
		cmocka_unit_test(test_reordering_and_jitter_fifo),
		cmocka_unit_test(test_duplication),
		cmocka_unit_test(test_bandwidth_serialises),
		cmocka_unit_test(test_link_down_drops),
		cmocka_unit_test(test_same_seed_same_pcap_bytes),
		cmocka_unit_test(test_pcap_opens_in_tshark),
		cmocka_unit_test(test_ipv6_through_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
