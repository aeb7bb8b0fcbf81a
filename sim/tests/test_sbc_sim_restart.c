/* ICE restart on the browser leg of the simulated SBC call (issue #8 §6,
 * RFC 8445 §9), and the three SBC scenarios as captures.
 *
 * Mid-call the ICE endpoint re-offers with a new ufrag and pwd (a
 * re-INVITE by the callee); the bridge passes a plain re-offer to the
 * phone, answers the browser with new ICE-lite credentials of its own,
 * and the browser's new checks succeed. The phone's leg is untouched: the
 * same latched sources and SSRC, no new latch or adoption, its counters
 * keep going, and audio flows both ways through the restart.
 *
 * With SBC_SIM_PCAP_DIR (or, run from the repository root, build/sim/)
 * each scenario writes its captures there, one file a link:
 * sbc-call.LINK.pcap (the clean call), sbc-third-party.LINK.pcap (a
 * stranger's RTP mid-call), sbc-ice-restart.LINK.pcap, LINK e.g.
 * sbc-internet (the bridge's interface) or phone-nat-phone;
 * sim/tests/sbc_sim_pcap.sh judges them with `icelab pcap analyze`. */
#include "sbc_world.h"

#include <sys/stat.h>

#include "icelab/sdp.h"

static bool pcap_path(const char *name, char *out, size_t cap)
{
	const char *dir = getenv("SBC_SIM_PCAP_DIR");
	struct stat st;
	if (!dir || !*dir)
		dir = stat("build/sim", &st) == 0 && S_ISDIR(st.st_mode) ? "build/sim" : NULL;
	if (!dir)
		return false;
	snprintf(out, cap, "%s/%s", dir, name);
	return true;
}

/* The world, capturing to `name` when a capture directory is known. */
static void world_start(world *w, uint64_t seed, const char *name)
{
	char path[512];
	world_build(w, seed, false);
	if (pcap_path(name, path, sizeof path)) {
		/* One file a link: NAME.sbc-internet.pcap is what a capture on
		 * the bridge's interface shows (each packet once). */
		assert_int_equal(il_sim_pcap_open(w->sim, path, true), 0);
		print_message("pcap: %s (one file a link)\n", path);
	}
	world_call(w);
}

static void world_stop(world *w, uint64_t at)
{
	il_sim_run_until(w->sim, at);
	sim_phone_stop_media(w->phone);
	sim_ice_ua_stop_media(w->web);
	il_sim_run_until(w->sim, at + 500 * MS); /* what is in flight lands */
}

/* Writes sdp into out with the value of the line starting with `prefix`
 * replaced by value. */
static void sdp_set(const char *sdp, const char *prefix, const char *value, char *out, size_t cap)
{
	const char *p = strstr(sdp, prefix);
	assert_non_null(p);
	p += strlen(prefix);
	size_t head = (size_t)(p - sdp), old = strcspn(p, "\r\n");
	int n = snprintf(out, cap, "%.*s%s%s", (int)head, sdp, value, p + old);
	assert_true(n > 0 && (size_t)n < cap);
}

/* The browser's restart offer (RFC 8445 §9.1.1.1): its description as it
 * went, with new ICE credentials and the next o= version (RFC 3264 §8). */
static void web_restart_offer(world *w, char *out, size_t cap)
{
	il_ice_agent *ag = sim_ice_ua_agent(w->web);
	uint64_t now = il_sim_now(w->sim) / 1000;
	assert_int_equal(il_ice_agent_restart(ag, 0, NULL, NULL, now), IL_ICE_OK);
	char a[4096], b[4096];
	sdp_set(w->web_sdp, "a=ice-ufrag:", il_ice_agent_local_ufrag(ag, 0), a, sizeof a);
	sdp_set(a, "a=ice-pwd:", il_ice_agent_local_pwd(ag, 0), b, sizeof b);
	assert_non_null(strstr(b, "o=- 3003 1 IN"));
	sdp_set(b, "o=- 3003 ", "2 IN IP4 192.168.2.20", out, cap);
}

/* The bridge's answer into the browser's agent: its new credentials
 * (the restart completes on our side) and candidates. */
static void web_take_answer(world *w, const char *answer)
{
	il_ice_agent *ag = sim_ice_ua_agent(w->web);
	uint64_t now = il_sim_now(w->sim) / 1000;
	il_sdp_session *s = malloc(sizeof *s);
	assert_non_null(s);
	assert_int_equal(il_sdp_parse(answer, strlen(answer), s, NULL), IL_SDP_OK);
	assert_true(s->media_count > 0 && s->ice_lite);
	const il_sdp_media *m = &s->media[0];
	const char *ufrag = il_sdp_media_ufrag(s, m), *pwd = il_sdp_media_pwd(s, m);
	assert_non_null(ufrag);
	assert_non_null(pwd);
	assert_int_equal(il_ice_agent_set_remote_credentials(ag, 0, ufrag, pwd, now), IL_ICE_OK);
	assert_true(m->candidate_count > 0);
	for (size_t i = 0; i < m->candidate_count; i++)
		if (m->candidates[i].cand.component == 1)
			assert_true(il_ice_agent_add_remote_candidate(ag, 0, &m->candidates[i].cand,
								      now) >= 0);
	il_ice_agent_remote_end_of_candidates(ag, 0, now);
	free(s);
}

static void sdp_ufrag(const char *sdp, char *out, size_t cap)
{
	const char *p = strstr(sdp, "a=ice-ufrag:");
	assert_non_null(p);
	p += strlen("a=ice-ufrag:");
	size_t n = strcspn(p, "\r\n");
	assert_true(n > 0 && n < cap);
	memcpy(out, p, n);
	out[n] = '\0';
}

static void test_ice_restart_on_browser_leg_leaves_phone_leg_untouched(void **state)
{
	(void)state;
	world w;
	world_start(&w, 3, "sbc-ice-restart.pcap");
	il_sim_run_until(w.sim, 5 * SEC);

	il_sbc_session *s = sim_sbc_session(w.sbc);
	il_sbc_leg_stats a1 = leg(&w, 0), b1 = leg(&w, 1);
	assert_true(a1.latched[0] && a1.latched[1] && b1.has_selected);
	uint32_t ph1 = sim_phone_stats(w.phone)->rtp_received;
	uint32_t web1 = sim_ice_ua_stats(w.web)->rtp_received;
	size_t latched1 = sim_sbc_event_count(w.sbc, IL_SBC_EV_LATCHED);
	size_t connected1 = sim_sbc_event_count(w.sbc, IL_SBC_EV_MEDIA_CONNECTED);
	char old_lite_ufrag[64], old_web_ufrag[64];
	snprintf(old_lite_ufrag, sizeof old_lite_ufrag, "%s",
		 il_ice_agent_local_ufrag(il_sbc_session_ice_agent(s, 1), 0));
	snprintf(old_web_ufrag, sizeof old_web_ufrag, "%s",
		 il_ice_agent_local_ufrag(sim_ice_ua_agent(w.web), 0));

	/* The browser re-offers with new credentials; the phone gets a plain
	 * re-offer on the same bridge port and answers with its SDP. */
	char reoffer[4096], to_phone[4096], phone_sdp[2048], answer[4096], ufrag[64];
	web_restart_offer(&w, reoffer, sizeof reoffer);
	sdp_ufrag(reoffer, ufrag, sizeof ufrag);
	assert_string_not_equal(ufrag, old_web_ufrag);
	assert_true(sim_sbc_offer(w.sbc, IL_SBC_LEG_B, reoffer, to_phone, sizeof to_phone) > 0);
	assert_null(strstr(to_phone, "a=ice"));
	assert_non_null(strstr(to_phone, "m=audio 40000 RTP/AVP"));
	assert_true(sim_phone_sdp(w.phone, phone_sdp, sizeof phone_sdp) > 0);
	assert_true(sim_sbc_answer(w.sbc, IL_SBC_LEG_A, phone_sdp, answer, sizeof answer) > 0);
	assert_non_null(strstr(answer, "a=ice-lite"));
	assert_non_null(strstr(answer, "203.0.113.10 40002 typ host"));
	/* §9.2.1.1 (lite agents too): the answer to a restart carries new
	 * credentials. */
	sdp_ufrag(answer, ufrag, sizeof ufrag);
	assert_string_not_equal(ufrag, old_lite_ufrag);
	assert_string_equal(ufrag, il_ice_agent_local_ufrag(il_sbc_session_ice_agent(s, 1), 0));
	web_take_answer(&w, answer);
	world_stop(&w, 10 * SEC);

	il_sbc_leg_stats a2 = leg(&w, 0), b2 = leg(&w, 1);
	const sim_media_stats *ph = sim_phone_stats(w.phone), *web = sim_ice_ua_stats(w.web);
	print_message("restart: phone got %u then %u more, web got %u then %u more; leg A rx %llu->%llu "
		      "tx %llu->%llu; leg B stun %llu->%llu\n",
		      ph1, ph->rtp_received - ph1, web1, web->rtp_received - web1,
		      (unsigned long long)a1.rx_packets, (unsigned long long)a2.rx_packets,
		      (unsigned long long)a1.tx_packets, (unsigned long long)a2.tx_packets,
		      (unsigned long long)b1.stun_in, (unsigned long long)b2.stun_in);
	/* The phone's leg: the same latched sources and SSRC, no new latch,
	 * no adoption, nothing dropped, counters going on. */
	assert_true(il_addr_equal(&a2.source[0], &a1.source[0]));
	assert_true(il_addr_equal(&a2.source[1], &a1.source[1]));
	assert_int_equal(a2.ssrc, a1.ssrc);
	assert_int_equal(a2.ssrc, PHONE_SSRC);
	assert_int_equal(sim_sbc_event_count(w.sbc, IL_SBC_EV_LATCHED), latched1);
	assert_int_equal(sim_sbc_event_count(w.sbc, IL_SBC_EV_MEDIA_CONNECTED), connected1);
	assert_int_equal(a2.adoptions, 0);
	for (int r = 0; r < IL_SBC_DROP_COUNT; r++)
		assert_int_equal(a2.dropped[r], a1.dropped[r]);
	assert_true(a2.rx_packets >= a1.rx_packets + 250);
	assert_true(a2.tx_packets >= a1.tx_packets + 240);
	/* Audio both ways through the restart: 5 s more at 50 packets/s. */
	assert_true(ph->rtp_received - ph1 >= 240);
	assert_true(web->rtp_received - web1 >= 240);
	assert_int_equal(ph->foreign + web->foreign, 0);
	assert_int_equal(il_sbc_session_state(s), IL_SBC_STATE_CONNECTED);

	/* The browser's new checks succeeded: its agent runs on the new
	 * credentials, a pair toward the bridge's port answered them and is
	 * selected, through the web NAT. */
	il_ice_agent *ua = sim_ice_ua_agent(w.web);
	assert_string_not_equal(il_ice_agent_local_ufrag(ua, 0), old_web_ufrag);
	int st = il_ice_agent_get_state(ua);
	assert_true(st == IL_ICE_STATE_CONNECTED || st == IL_ICE_STATE_COMPLETED);
	il_ice_pair_stats sel;
	assert_int_equal(il_ice_agent_get_selected_pair(ua, 0, 1, &sel), IL_ICE_OK);
	il_addr lite_rtp;
	il_addr_parse("203.0.113.10:40002", &lite_rtp);
	assert_true(il_addr_equal(&sel.remote.addr, &lite_rtp));
	assert_true(sel.valid && sel.state == IL_ICE_PAIR_SUCCEEDED);
	assert_true(sel.responses_received >= 1);
	/* The bridge saw the new checks and keeps the web NAT's address. */
	assert_true(b2.stun_in >= b1.stun_in + 2); /* a check and the nomination */
	assert_true(b2.ice && b2.has_selected);
	il_addr nat_web;
	il_addr_parse("192.0.2.2:1", &nat_web);
	assert_memory_equal(b2.selected_remote.ip, nat_web.ip, 4);
	assert_true(b2.tx_packets >= b1.tx_packets + 240);
	world_free(&w);
}

/* The clean call, captured: the expectations are the basic test's. */
static void test_clean_call_capture(void **state)
{
	(void)state;
	world w;
	world_start(&w, 1, "sbc-call.pcap");
	world_stop(&w, 10 * SEC);
	assert_true(sim_phone_stats(w.phone)->rtp_received >= 400);
	assert_true(sim_ice_ua_stats(w.web)->rtp_received >= 400);
	assert_int_equal(il_sbc_session_state(sim_sbc_session(w.sbc)), IL_SBC_STATE_CONNECTED);
	world_free(&w);
}

/* A stranger's RTP for 3 s mid-call, captured (3 s: long enough for the
 * analyzer to judge a flow, ≥ 2 s). */
static void test_third_party_capture(void **state)
{
	(void)state;
	world w;
	world_start(&w, 7, "sbc-third-party.pcap");
	il_sim_run_until(w.sim, 4 * SEC);
	mallory_start(&w, 300);
	world_stop(&w, 10 * SEC);
	il_sbc_leg_stats a = leg(&w, 0), b = leg(&w, 1);
	assert_int_equal(a.dropped[IL_SBC_DROP_FOREIGN_SOURCE], 300);
	assert_int_equal(b.dropped[IL_SBC_DROP_UNCHECKED_SOURCE], 300);
	assert_int_equal(sim_phone_stats(w.phone)->foreign + sim_ice_ua_stats(w.web)->foreign, 0);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ice_restart_on_browser_leg_leaves_phone_leg_untouched),
		cmocka_unit_test(test_clean_call_capture),
		cmocka_unit_test(test_third_party_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
