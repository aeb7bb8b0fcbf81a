/* The simulator parts the first tests left out: IPv6 through a NAT (the
 * RFC 4787 mapping and filtering axes with IPv6 endpoints, NAT66-style),
 * a mapping flush in the middle of a session, the mapping table dumped at
 * any time, link-down/link-up and address changes through the API, and
 * the scenario files that exercise them (sim/scenarios/link-down-up.json,
 * address-change.json), each also run with one event removed to show its
 * expectations can fail. Run from the repository root. */
#include "sim_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "icelab/sim_run.h"

/* ---- IPv6 through a NAT ----
 *
 *   in1 [fd00:1::10] --+                                 +-- srv1 [2001:db8:2::1] (3478, 3479)
 *                      nat [2001:db8:1::2] -- internet --+
 *   in2 [fd00:2::10] --+                                 +-- srv2 [2001:db8:3::1] (3478)
 */

typedef struct v6_fixture {
	il_sim *sim;
	int nat, out_link;
	rx_log rx_in1, rx_in2, rx_s1a, rx_s1b, rx_s2;
	int s_in1, s_in2, s_s1a, s_s1b, s_s2;
	il_addr a_in1, a_in2, a_s1a, a_s1b, a_s2;
} v6_fixture;

static int bind6(v6_fixture *f, int host, const char *addr, rx_log *log, il_addr *bound)
{
	il_addr a = ip4(addr);
	assert_int_equal(a.family, IL_AF_INET6);
	int s = il_sim_udp_bind(f->sim, host, &a, rx_record, icmp_record, log, bound);
	assert_true(s >= 0);
	return s;
}

static void v6_build(v6_fixture *f, const char *nat_desc, uint64_t seed)
{
	memset(f, 0, sizeof *f);
	f->sim = il_sim_new(seed);
	assert_non_null(f->sim);
	il_sim *s = f->sim;
	int in1 = il_sim_add_host(s, "in1"), in2 = il_sim_add_host(s, "in2");
	f->nat = il_sim_add_router(s, "nat");
	int inet = il_sim_add_router(s, "internet");
	int srv1 = il_sim_add_host(s, "srv1"), srv2 = il_sim_add_host(s, "srv2");
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 1000;
	assert_true(il_sim_connect(s, in1, "fd00:1::10/64", f->nat, "fd00:1::1/64", &lc, "l-in1") >= 0);
	assert_true(il_sim_connect(s, in2, "fd00:2::10/64", f->nat, "fd00:2::1/64", &lc, "l-in2") >= 0);
	f->out_link = il_sim_connect(s, f->nat, "2001:db8:1::2/64", inet, "2001:db8:1::1/64", &lc,
				     "l-nat");
	assert_true(f->out_link >= 0);
	assert_int_equal(il_sim_add_route(s, f->nat, "::/0", f->out_link), 0);
	assert_true(il_sim_connect(s, srv1, "2001:db8:2::1/64", inet, "2001:db8:2::fe/64", &lc, "l-srv1") >= 0);
	assert_true(il_sim_connect(s, srv2, "2001:db8:3::1/64", inet, "2001:db8:3::fe/64", &lc, "l-srv2") >= 0);
	il_sim_nat_config cfg, outer;
	int layers;
	char err[128];
	assert_int_equal(il_sim_preset_parse(nat_desc, &cfg, &outer, &layers, err, sizeof err), 0);
	assert_int_equal(il_sim_set_nat(s, f->nat, f->out_link, &cfg), 0);
	f->s_in1 = bind6(f, in1, "[fd00:1::10]:5000", &f->rx_in1, &f->a_in1);
	f->s_in2 = bind6(f, in2, "[fd00:2::10]:5000", &f->rx_in2, &f->a_in2);
	f->s_s1a = bind6(f, srv1, "[2001:db8:2::1]:3478", &f->rx_s1a, &f->a_s1a);
	f->s_s1b = bind6(f, srv1, "[2001:db8:2::1]:3479", &f->rx_s1b, &f->a_s1b);
	f->s_s2 = bind6(f, srv2, "[2001:db8:3::1]:3478", &f->rx_s2, &f->a_s2);
}

static void v6_send(v6_fixture *f, int sock, const il_addr *to)
{
	static const uint8_t msg[8] = "probe6.";
	assert_int_equal(il_sim_udp_send(f->sim, sock, to, msg, sizeof msg), 0);
	il_sim_run_until(f->sim, il_sim_now(f->sim) + 50 * MS);
}

static void assert_ip(const il_addr *a, const char *ip)
{
	char got[IL_ADDR_STRLEN];
	assert_true(il_addr_format_ip(a, got, sizeof got) > 0);
	assert_string_equal(got, ip);
}

/* RFC 4787 §4.1 and §5 with IPv6 endpoints, every combination: X1 (to
 * srv1:3478), X2 (srv1:3479), X3 (srv2); then srv1:3478, srv1:3479 and
 * srv2 each send to X1. */
static void test_ipv6_nat_mapping_and_filtering(void **state)
{
	(void)state;
	static const char *const maps[] = {"eim", "adm", "apdm"};
	static const char *const filters[] = {"eif", "adf", "apdf"};
	for (int m = 0; m < 3; m++)
		for (int fl = 0; fl < 3; fl++) {
			char desc[64];
			snprintf(desc, sizeof desc, "mapping=%s,filtering=%s", maps[m], filters[fl]);
			v6_fixture f;
			v6_build(&f, desc, 21);
			v6_send(&f, f.s_in1, &f.a_s1a);
			v6_send(&f, f.s_in1, &f.a_s1b);
			v6_send(&f, f.s_in1, &f.a_s2);
			assert_int_equal(f.rx_s1a.count, 1);
			assert_int_equal(f.rx_s1b.count, 1);
			assert_int_equal(f.rx_s2.count, 1);
			il_addr x1 = f.rx_s1a.last_from, x2 = f.rx_s1b.last_from, x3 = f.rx_s2.last_from;
			/* Translated: the outside sees the NAT's address, not fd00:1::10. */
			assert_int_equal(x1.family, IL_AF_INET6);
			assert_ip(&x1, "2001:db8:1::2");
			assert_ip(&x3, "2001:db8:1::2");
			bool same12 = il_addr_equal(&x1, &x2), same13 = il_addr_equal(&x1, &x3);
			assert_int_equal(same12, m != IL_SIM_MAP_APDM);
			assert_int_equal(same13, m == IL_SIM_MAP_EIM);
			/* The table agrees with what the servers saw. */
			il_addr ext;
			assert_int_equal(il_sim_nat_lookup(f.sim, f.nat, IL_SIM_UDP, &f.a_in1, &f.a_s1a, &ext), 0);
			assert_true(il_addr_equal(&ext, &x1));
			int socks[3] = {f.s_s1a, f.s_s1b, f.s_s2};
			int got[3];
			for (int i = 0; i < 3; i++) {
				int before = f.rx_in1.count;
				v6_send(&f, socks[i], &x1);
				got[i] = f.rx_in1.count - before;
			}
			/* Under EIM X1 also has srv1:3479 and srv2 as destinations. */
			bool eim = m == IL_SIM_MAP_EIM, adm_or_eim = m != IL_SIM_MAP_APDM;
			assert_int_equal(got[0], 1);
			assert_int_equal(got[1], fl != IL_SIM_FILTER_APDF || adm_or_eim ? 1 : 0);
			assert_int_equal(got[2], fl == IL_SIM_FILTER_EIF || eim ? 1 : 0);
			assert_int_equal(f.rx_in1.last_from.family, IL_AF_INET6);
			il_sim_free(f.sim);
		}
}

/* EIM/APDF (port-restricted cone) with IPv6, the RFC 5780 §4.4 sequence:
 * in1 sends to srv1:3478 only; only srv1:3478 gets back in. */
static void test_ipv6_eim_apdf(void **state)
{
	(void)state;
	v6_fixture f;
	v6_build(&f, "port-restricted-cone", 22);
	v6_send(&f, f.s_in1, &f.a_s1a);
	il_addr x1 = f.rx_s1a.last_from;
	assert_ip(&x1, "2001:db8:1::2");
	assert_int_equal(x1.port, 5000); /* preserved */
	/* in2 (another host, same port) cannot keep it: REQ-3, one mapping a port. */
	v6_send(&f, f.s_in2, &f.a_s1a);
	assert_ip(&f.rx_s1a.last_from, "2001:db8:1::2");
	assert_int_not_equal(f.rx_s1a.last_from.port, 5000);
	v6_send(&f, f.s_s1a, &x1);
	v6_send(&f, f.s_s1b, &x1);
	v6_send(&f, f.s_s2, &x1);
	assert_int_equal(f.rx_in1.count, 1);
	assert_true(il_addr_equal(&f.rx_in1.last_from, &f.a_s1a));
	assert_int_equal(f.rx_in2.count, 0);
	il_sim_nat_stats st;
	assert_int_equal(il_sim_nat_get_stats(f.sim, f.nat, &st), 0);
	assert_int_equal(st.filtered_in, 2);
	assert_int_equal(st.mappings_created, 2);
	/* Once in1 has sent to srv2 (same mapping, EIM), srv2 gets in. */
	v6_send(&f, f.s_in1, &f.a_s2);
	assert_true(il_addr_equal(&f.rx_s2.last_from, &x1));
	v6_send(&f, f.s_s2, &x1);
	assert_int_equal(f.rx_in1.count, 2);
	/* The table, dumped, names IPv6 endpoints. */
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	il_sim_nat_dump(f.sim, f.nat, mem);
	fclose(mem);
	assert_non_null(strstr(buf, "[fd00:1::10]:5000 -> [2001:db8:1::2]:5000"));
	free(buf);
	il_sim_free(f.sim);
}

/* ---- a flush mid-session, and the table dumped at any time ---- */

static size_t dump_lines(nat_fixture *f, char *out, size_t cap)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	il_sim_nat_dump(f->sim, f->nat, mem);
	fclose(mem);
	size_t n = 0;
	for (const char *p = buf; *p; p++)
		n += *p == '\n';
	if (out)
		snprintf(out, cap, "%s", buf);
	free(buf);
	return n;
}

/* A session in both directions, then the NAT reboots: the remote's packets
 * to the old mapping are dropped (no mapping), and the next outbound
 * packet gets a new mapping, on a new random port. */
static void test_flush_mid_session_new_random_mapping(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "port-restricted-cone,ports=random", 31, NULL);
	assert_int_equal(dump_lines(&f, NULL, 0), 0);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	il_addr x1 = f.rx_s1a.last_from;
	send_now(&f, f.s_s1a, &x1);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_in1.count, 1);
	char table[512];
	assert_int_equal(dump_lines(&f, table, sizeof table), 1);
	assert_non_null(strstr(table, "192.168.1.10:5000 -> 203.0.113.2:"));
	assert_non_null(strstr(table, "out 1 in 1"));

	assert_int_equal(il_sim_nat_flush(f.sim, f.nat), 0);
	assert_int_equal(il_sim_nat_mapping_count(f.sim, f.nat), 0);
	assert_int_equal(dump_lines(&f, NULL, 0), 0);
	il_addr ext;
	assert_int_equal(il_sim_nat_lookup(f.sim, f.nat, IL_SIM_UDP, &f.a_in1, &f.a_s1a, &ext), -1);
	/* Mid-session: srv1 keeps sending to the old mapping. */
	send_now(&f, f.s_s1a, &x1);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_in1.count, 1);
	il_sim_nat_stats st;
	assert_int_equal(il_sim_nat_get_stats(f.sim, f.nat, &st), 0);
	assert_int_equal(st.no_mapping_in, 1);

	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	il_addr x2 = f.rx_s1a.last_from;
	assert_ip(&x1, "203.0.113.2");
	assert_ip(&x2, "203.0.113.2");
	assert_int_not_equal(x2.port, x1.port);
	assert_int_equal(il_sim_nat_lookup(f.sim, f.nat, IL_SIM_UDP, &f.a_in1, &f.a_s1a, &ext), 0);
	assert_true(il_addr_equal(&ext, &x2));
	assert_int_equal(il_sim_nat_get_stats(f.sim, f.nat, &st), 0);
	assert_int_equal(st.mappings_created, 2);
	/* The new mapping works; the old one stays dead. */
	send_now(&f, f.s_s1a, &x2);
	send_now(&f, f.s_s1a, &x1);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_in1.count, 2);
	assert_int_equal(il_sim_nat_get_stats(f.sim, f.nat, &st), 0);
	assert_int_equal(st.no_mapping_in, 2);
	assert_int_equal(dump_lines(&f, table, sizeof table), 1);
	char want[64];
	snprintf(want, sizeof want, "-> 203.0.113.2:%u ", x2.port);
	assert_non_null(strstr(table, want));
	fixture_free(&f);
}

/* With port preservation the flush frees the port: the new mapping gets
 * the internal port back. */
static void test_flush_mid_session_preserved_port_comes_back(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "port-restricted-cone", 32, NULL);
	send_now(&f, f.s_in2, &f.a_s1a); /* in2 takes 5000 first */
	send_now(&f, f.s_in1, &f.a_s1a); /* in1 gets another port */
	run_for(&f, 50 * MS);
	il_addr x1 = f.rx_s1a.last_from;
	assert_int_not_equal(x1.port, 5000);
	assert_int_equal(il_sim_nat_flush(f.sim, f.nat), 0);
	send_now(&f, f.s_in1, &f.a_s1a); /* in1 first this time */
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_s1a.last_from.port, 5000);
	fixture_free(&f);
}

/* ---- link down / up and address changes through the API ---- */

static void test_link_down_drops_then_up_delivers(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "port-restricted-cone", 33, NULL);
	il_sim_link_set_up(f.sim, f.out_link, false);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_s1a.count, 0);
	il_sim_link_stats ls;
	il_sim_link_get_stats(f.sim, f.out_link, 0, &ls);
	assert_int_equal(ls.dropped_down, 1);
	assert_int_equal(ls.delivered, 0);
	il_sim_link_set_up(f.sim, f.out_link, true);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_s1a.count, 1);
	il_sim_link_get_stats(f.sim, f.out_link, 0, &ls);
	assert_int_equal(ls.dropped_down, 1);
	assert_int_equal(ls.delivered, 1);
	fixture_free(&f);
}

static void test_address_change_gives_new_mapped_address(void **state)
{
	(void)state;
	nat_fixture f;
	fixture_build(&f, "port-restricted-cone", 34, NULL);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	il_addr x1 = f.rx_s1a.last_from;
	assert_ip(&x1, "203.0.113.2");
	/* The NAT is renumbered: its mappings go, its pool follows. */
	assert_int_equal(il_sim_set_iface_addr(f.sim, f.nat, f.out_link, "203.0.113.9/24"), 0);
	assert_int_equal(il_sim_nat_mapping_count(f.sim, f.nat), 0);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	il_addr x2 = f.rx_s1a.last_from;
	assert_ip(&x2, "203.0.113.9");
	assert_int_equal(x2.port, 5000);
	send_now(&f, f.s_s1a, &x2);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_in1.count, 1);
	/* The host moves: its socket follows, the NAT sees a new internal
	 * endpoint; the old one still holds port 5000 (REQ-3). */
	int l_in1 = il_sim_find_link(f.sim, "l-in1");
	assert_int_equal(il_sim_set_iface_addr(f.sim, f.in1, l_in1, "192.168.1.20/24"), 0);
	send_now(&f, f.s_in1, &f.a_s1a);
	run_for(&f, 50 * MS);
	il_addr x3 = f.rx_s1a.last_from;
	assert_ip(&x3, "203.0.113.9");
	assert_int_not_equal(x3.port, 5000);
	il_addr moved = ip4("192.168.1.20:5000"), ext;
	assert_int_equal(il_sim_nat_lookup(f.sim, f.nat, IL_SIM_UDP, &moved, &f.a_s1a, &ext), 0);
	assert_true(il_addr_equal(&ext, &x3));
	send_now(&f, f.s_s1a, &x3);
	run_for(&f, 50 * MS);
	assert_int_equal(f.rx_in1.count, 2);
	fixture_free(&f);
}

/* ---- the scenario files ---- */

static il_sim_scenario_result run_scenario(const char *path)
{
	il_sim_scenario_opts o;
	memset(&o, 0, sizeof o);
	il_sim_scenario_result r;
	char err[256];
	int rc = il_sim_scenario_run(path, &o, &r, err, sizeof err);
	if (rc != 0)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	return r;
}

/* The file with its first `from` replaced by `to`, in a temporary file
 * (path in out); the caller unlinks it. */
static void mutate(const char *path, const char *from, const char *to, char *out, size_t cap)
{
	FILE *in = fopen(path, "rb");
	assert_non_null(in);
	static char text[16384];
	size_t n = fread(text, 1, sizeof text - 1, in);
	fclose(in);
	text[n] = '\0';
	char *at = strstr(text, from);
	assert_non_null(at);
	snprintf(out, cap, "/tmp/icelab-scenario-XXXXXX");
	int fd = mkstemp(out);
	assert_true(fd >= 0);
	FILE *w = fdopen(fd, "wb");
	assert_non_null(w);
	fprintf(w, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	fclose(w);
}

static void test_scenario_link_down_up(void **state)
{
	(void)state;
	const char *path = "sim/scenarios/link-down-up.json";
	il_sim_scenario_result r = run_scenario(path);
	assert_int_equal(r.expectations, 7);
	assert_int_equal(r.failed, 0);
	/* Without the outage alice's Binding succeeds: "srflx": false fails. */
	char tmp[64];
	mutate(path, "\"do\": \"link-down\"", "\"do\": \"dump\", \"node\": \"nat-a\"", tmp, sizeof tmp);
	r = run_scenario(tmp);
	unlink(tmp);
	assert_int_equal(r.failed, 1);
	/* Without the recovery carol and bob never connect. */
	mutate(path, "\"do\": \"link-up\"", "\"do\": \"dump\", \"node\": \"nat-a\"", tmp, sizeof tmp);
	r = run_scenario(tmp);
	unlink(tmp);
	assert_true(r.failed >= 5);
}

static void test_scenario_address_change(void **state)
{
	(void)state;
	const char *path = "sim/scenarios/address-change.json";
	il_sim_scenario_result r = run_scenario(path);
	assert_int_equal(r.expectations, 6);
	assert_int_equal(r.failed, 0);
	/* Without the renumbering the mapped address stays 203.0.113.2. */
	char tmp[64];
	mutate(path, "\"addr\": \"203.0.113.9/24\"", "\"addr\": \"203.0.113.2/24\"", tmp, sizeof tmp);
	r = run_scenario(tmp);
	unlink(tmp);
	assert_int_equal(r.failed, 1);
	/* Without the host's move the last Binding keeps port 50000. */
	mutate(path, "\"addr\": \"192.168.1.20/24\"", "\"addr\": \"192.168.1.10/24\"", tmp, sizeof tmp);
	r = run_scenario(tmp);
	unlink(tmp);
	assert_int_equal(r.failed, 1);
}

/* The same seed gives the same run, events included. */
static void test_scenarios_deterministic(void **state)
{
	(void)state;
	static const char *const files[] = {"sim/scenarios/link-down-up.json",
					    "sim/scenarios/address-change.json"};
	for (size_t i = 0; i < 2; i++) {
		char *out[2] = {NULL, NULL};
		size_t len[2] = {0, 0};
		for (int k = 0; k < 2; k++) {
			FILE *mem = open_memstream(&out[k], &len[k]);
			assert_non_null(mem);
			il_sim_scenario_opts o;
			memset(&o, 0, sizeof o);
			o.log = mem;
			il_sim_scenario_result r;
			char err[256];
			assert_int_equal(il_sim_scenario_run(files[i], &o, &r, err, sizeof err), 0);
			fclose(mem);
		}
		assert_int_equal(len[0], len[1]);
		assert_string_equal(out[0], out[1]);
		free(out[0]);
		free(out[1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv6_nat_mapping_and_filtering),
		cmocka_unit_test(test_ipv6_eim_apdf),
		cmocka_unit_test(test_flush_mid_session_new_random_mapping),
		cmocka_unit_test(test_flush_mid_session_preserved_port_comes_back),
		cmocka_unit_test(test_link_down_drops_then_up_delivers),
		cmocka_unit_test(test_address_change_gives_new_mapped_address),
		cmocka_unit_test(test_scenario_link_down_up),
		cmocka_unit_test(test_scenario_address_change),
		cmocka_unit_test(test_scenarios_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
