/* The SBC media bridge in the simulator (issue #8 §6): a legacy phone
 * behind a symmetric NAT and a full ICE agent behind a port-restricted
 * NAT talk through the bridge, audio both ways; a third party's RTP to
 * the bridge's ports mid-call is dropped and reaches neither end.
 *
 *   phone 192.168.1.10 -- nat-phone (symmetric) 198.51.100.2 --+
 *   web   192.168.2.20 -- nat-web (port-restricted) 192.0.2.2 --+-- internet -- sbc 203.0.113.10
 *                                          mallory 8.8.8.66 --+ */
#include "sbc_world.h"

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
	mallory_start(&w, 200);
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
