/* The SBC media bridge in the simulator (issue #8 §6): a legacy phone
 * behind a symmetric NAT and a full ICE agent behind a port-restricted
 * NAT talk through the bridge, audio both ways; a third party's RTP to
 * the bridge's ports mid-call is dropped and reaches neither end.
 *
 *   phone 192.168.1.10 -- nat-phone (symmetric) 198.51.100.2 --+
 *   web   192.168.2.20 -- nat-web (port-restricted) 192.0.2.2 --+-- internet -- sbc 203.0.113.10
 *                                          mallory 8.8.8.66 --+ */
#include "sim_test_util.h"

#include <stdio.h>
#include <stdlib.h>

#include "../actors_sbc.h"
#include "icelab/sbc.h"

#define PHONE_SSRC 0x0a0b0c0du
#define WEB_SSRC 0x01020304u

typedef struct world {
	il_sim *sim;
	int sbc_host, phone_host, web_host, mallory_host;
	sim_sbc *sbc;
	sim_phone *phone;
	sim_ice_ua *web;
	int mallory_sock;
	uint32_t mallory_left;
	il_addr mallory_to[2];
} world;

static int nat_side(il_sim *sim, int inet, const char *name, const char *preset,
		    const char *host_addr, const char *gw_addr, const char *out_addr,
		    const char *inet_addr, const il_sim_link_config *lc)
{
	il_sim_nat_config cfg, outer;
	int layers;
	char err[160];
	assert_int_equal(il_sim_preset_parse(preset, &cfg, &outer, &layers, err, sizeof err), 0);
	char rname[32];
	snprintf(rname, sizeof rname, "nat-%s", name);
	int host = il_sim_add_host(sim, name);
	int nat = il_sim_add_router(sim, rname);
	assert_true(host >= 0 && nat >= 0);
	assert_true(il_sim_connect(sim, host, host_addr, nat, gw_addr, lc, NULL) >= 0);
	int up = il_sim_connect(sim, nat, out_addr, inet, inet_addr, lc, NULL);
	assert_true(up >= 0);
	assert_true(il_sim_add_route(sim, nat, "0.0.0.0/0", up) >= 0);
	assert_int_equal(il_sim_set_nat(sim, nat, up, &cfg), 0);
	return host;
}

static void world_build(world *w, uint64_t seed, bool adopt)
{
	memset(w, 0, sizeof *w);
	w->sim = il_sim_new(seed);
	assert_non_null(w->sim);
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 10 * MS;
	int inet = il_sim_add_router(w->sim, "internet");
	w->sbc_host = il_sim_add_host(w->sim, "sbc");
	assert_true(il_sim_connect(w->sim, w->sbc_host, "203.0.113.10/24", inet, "203.0.113.1/24",
				   &lc, NULL) >= 0);
	w->mallory_host = il_sim_add_host(w->sim, "mallory");
	assert_true(il_sim_connect(w->sim, w->mallory_host, "8.8.8.66/24", inet, "8.8.8.1/24", &lc,
				   NULL) >= 0);
	w->phone_host = nat_side(w->sim, inet, "phone", "symmetric", "192.168.1.10/24",
				 "192.168.1.1/24", "198.51.100.2/24", "198.51.100.1/24", &lc);
	w->web_host = nat_side(w->sim, inet, "web", "port-restricted-cone", "192.168.2.20/24",
			       "192.168.2.1/24", "192.0.2.2/24", "192.0.2.1/24", &lc);

	il_sbc_config cfg;
	il_sbc_config_defaults(&cfg);
	il_addr_parse("203.0.113.10:0", &cfg.advertised);
	cfg.adopt_new_source = adopt;
	il_sbc_leg_config legs[2] = {{.bind = {.port = 40000}},
				     {.bind = {.port = 40002}, .ice = true, .rtcp_mux = true}};
	w->sbc = sim_sbc_new(w->sim, w->sbc_host, &cfg, legs);
	w->phone = sim_phone_new(w->sim, w->phone_host, 4000, PHONE_SSRC);
	w->web = sim_ice_ua_new(w->sim, w->web_host, 50000, WEB_SSRC);
	assert_non_null(w->sbc);
	assert_non_null(w->phone);
	assert_non_null(w->web);
}

static void world_free(world *w)
{
	sim_sbc_free(w->sbc);
	sim_phone_free(w->phone);
	sim_ice_ua_free(w->web);
	if (w->mallory_sock > 0)
		il_sim_udp_close(w->sim, w->mallory_sock);
	il_sim_free(w->sim);
}

/* The phone calls the ICE endpoint through the bridge. */
static void world_call(world *w)
{
	char offer[4096], offer_b[4096], answer_b[4096], answer[4096];
	assert_true(sim_phone_sdp(w->phone, offer, sizeof offer) > 0);
	int n = sim_sbc_offer(w->sbc, IL_SBC_LEG_A, offer, offer_b, sizeof offer_b);
	assert_true(n > 0);
	assert_non_null(strstr(offer_b, "a=ice-lite"));
	assert_null(strstr(offer_b, "192.168."));
	assert_true(sim_ice_ua_answer(w->web, offer_b, answer_b, sizeof answer_b) > 0);
	n = sim_sbc_answer(w->sbc, IL_SBC_LEG_B, answer_b, answer, sizeof answer);
	assert_true(n > 0);
	assert_null(strstr(answer, "a=ice"));
	assert_null(strstr(answer, "192.168."));
	assert_int_equal(sim_phone_set_remote_sdp(w->phone, answer), 0);
	sim_phone_start_media(w->phone);
	sim_ice_ua_start_media(w->web);
}

static il_sbc_leg_stats leg(world *w, unsigned i)
{
	il_sbc_leg_stats st;
	assert_int_equal(il_sbc_session_get_leg(sim_sbc_session(w->sbc), i, &st), IL_SBC_OK);
	return st;
}

static void test_phone_and_ice_agent_hear_each_other_through_nats(void **state)
{
	(void)state;
	world w;
	world_build(&w, 1, false);
	world_call(&w);
	il_sim_run_until(w.sim, 10 * SEC);
	sim_phone_stop_media(w.phone);
	sim_ice_ua_stop_media(w.web);
	il_sim_run_until(w.sim, 10 * SEC + 500 * MS); /* what is in flight lands */

	const sim_media_stats *ph = sim_phone_stats(w.phone), *web = sim_ice_ua_stats(w.web);
	il_sbc_leg_stats a = leg(&w, 0), b = leg(&w, 1);
	/* The bridge latched the phone on its NAT's mapping, not on the
	 * private address its SDP gave, and ICE selected the web NAT's. */
	il_addr nat_phone, nat_web;
	il_addr_parse("198.51.100.2:1", &nat_phone);
	il_addr_parse("192.0.2.2:1", &nat_web);
	assert_true(a.latched[0]);
	assert_memory_equal(a.source[0].ip, nat_phone.ip, 4);
	assert_int_equal(a.ssrc, PHONE_SSRC);
	assert_true(a.latched[1]); /* RTCP from its own mapping */
	assert_true(b.ice && b.has_selected);
	assert_memory_equal(b.selected_remote.ip, nat_web.ip, 4);
	assert_int_equal(b.selected_remote_type, IL_ICE_CAND_PRFLX);
	/* Audio both ways: 10 s at 50 packets/s, less the setup. */
	if (ph->rtp_received < 400 || web->rtp_received < 400)
		print_error("phone sent %u got %u; web sent %u got %u; a rx %llu tx %llu; b rx %llu "
			    "tx %llu\n",
			    ph->rtp_sent, ph->rtp_received, web->rtp_sent, web->rtp_received,
			    (unsigned long long)a.rx_packets, (unsigned long long)a.tx_packets,
			    (unsigned long long)b.rx_packets, (unsigned long long)b.tx_packets);
	assert_true(ph->rtp_received >= 400);
	assert_true(web->rtp_received >= 400);
	assert_true(web->rtcp_received >= 8); /* the phone's reports, muxed toward ICE */
	assert_int_equal(ph->foreign + web->foreign, 0);
	/* Counters per direction agree with the ends. */
	assert_int_equal(b.tx_packets, (uint64_t)web->rtp_received + web->rtcp_received);
	assert_int_equal(a.tx_packets, (uint64_t)ph->rtp_received + ph->rtcp_received);
	il_addr sbc_a;
	il_addr_parse("203.0.113.10:40000", &sbc_a);
	assert_true(il_addr_equal(&ph->last_from, &sbc_a));
	assert_int_equal(sim_sbc_event_count(w.sbc, IL_SBC_EV_MEDIA_CONNECTED), 1);
	const char *line = sim_sbc_connected_line(w.sbc);
	assert_non_null(strstr(line, "pair@connected a=rtp local=host 203.0.113.10:40000 "
				     "remote=latched 198.51.100.2:"));
	assert_non_null(strstr(line, " b=ice local=host 203.0.113.10:40002 remote=prflx 192.0.2.2:"));
	assert_int_equal(il_sbc_session_state(sim_sbc_session(w.sbc)), IL_SBC_STATE_CONNECTED);
	world_free(&w);
}

static void mallory_tick(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	world *w = arg;
	if (!w->mallory_left)
		return;
	uint8_t buf[172];
	memset(buf, SIM_SBC_FOREIGN_MARK, sizeof buf);
	uint16_t seq = (uint16_t)w->mallory_left;
	buf[0] = 0x80;
	buf[1] = 0;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	for (int i = 0; i < 2; i++)
		il_sim_udp_send(sim, w->mallory_sock, &w->mallory_to[i], buf, sizeof buf);
	w->mallory_left--;
	il_sim_schedule(sim, il_sim_now(sim) + 10 * MS, mallory_tick, w, 0);
}

static void run_bleed(bool adopt)
{
	world w;
	world_build(&w, 7, adopt);
	world_call(&w);
	il_sim_run_until(w.sim, 5 * SEC);
	uint32_t phone_before = sim_phone_stats(w.phone)->rtp_received;
	uint32_t web_before = sim_ice_ua_stats(w.web)->rtp_received;
	assert_true(phone_before > 150 && web_before > 150);
	/* Mid-call, a third party sprays RTP at both of the bridge's ports. */
	il_addr any = {0};
	w.mallory_sock = il_sim_udp_bind(w.sim, w.mallory_host, &any, NULL, NULL, NULL, NULL);
	assert_true(w.mallory_sock >= 0);
	il_addr_parse("203.0.113.10:40000", &w.mallory_to[0]);
	il_addr_parse("203.0.113.10:40002", &w.mallory_to[1]);
	w.mallory_left = 200;
	il_sim_schedule(w.sim, il_sim_now(w.sim), mallory_tick, &w, 0);
	il_sim_run_until(w.sim, 10 * SEC);

	const sim_media_stats *ph = sim_phone_stats(w.phone), *web = sim_ice_ua_stats(w.web);
	il_sbc_leg_stats a = leg(&w, 0), b = leg(&w, 1);
	assert_int_equal(a.dropped[IL_SBC_DROP_FOREIGN_SOURCE], 200);
	assert_int_equal(b.dropped[IL_SBC_DROP_UNCHECKED_SOURCE], 200);
	assert_int_equal(ph->foreign, 0);
	assert_int_equal(web->foreign, 0);
	assert_int_equal(a.adoptions, 0);
	/* The call went on as before: 5 s more each way. */
	assert_true(ph->rtp_received - phone_before >= 240);
	assert_true(web->rtp_received - web_before >= 240);
	il_addr nat_phone;
	il_addr_parse("198.51.100.2:1", &nat_phone);
	assert_memory_equal(a.source[0].ip, nat_phone.ip, 4);
	world_free(&w);
}

static void test_third_party_rtp_mid_call_is_dropped(void **state)
{
	(void)state;
	run_bleed(false);
}

/* With the adoption policy on, a stranger without the stream's SSRC and
 * sequence still gets nowhere. */
static void test_third_party_dropped_with_adoption_policy_on(void **state)
{
	(void)state;
	run_bleed(true);
}

static void test_same_seed_same_counters(void **state)
{
	(void)state;
	uint32_t got[2][2];
	for (int run = 0; run < 2; run++) {
		world w;
		world_build(&w, 42, false);
		world_call(&w);
		il_sim_run_until(w.sim, 3 * SEC);
		got[run][0] = sim_phone_stats(w.phone)->rtp_received;
		got[run][1] = sim_ice_ua_stats(w.web)->rtp_received;
		world_free(&w);
	}
	assert_int_equal(got[0][0], got[1][0]);
	assert_int_equal(got[0][1], got[1][1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone_and_ice_agent_hear_each_other_through_nats),
		cmocka_unit_test(test_third_party_rtp_mid_call_is_dropped),
		cmocka_unit_test(test_third_party_dropped_with_adoption_policy_on),
		cmocka_unit_test(test_same_seed_same_counters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
