/* SRTP through the SBC in the simulator (issue #8 §6): an SDES phone
 * behind a symmetric NAT and a plain RTP phone on the internet talk
 * through the bridge, which terminates SRTP on the first leg; then the
 * same call with the phone encrypting under another key than its SDP
 * announced: the bridge drops every packet (srtp-auth), reports the
 * mismatch once, never latches on it, and writes the call to a pcap.
 *
 *   srtp phone 192.168.1.10 -- nat (symmetric) 203.0.113.2 -- internet
 *                                      bridge 198.51.100.1 --+
 *                                 plain phone 192.0.2.1:6000 --+ */
#include "sim_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "../actors_sbc.h"
#include "icelab/sbc.h"

#define SSRC_A 0x5A5A0001u
#define SSRC_B 0x5B5B0002u

typedef struct call {
	nat_fixture f;
	sim_sbc *sbc;
	sim_phone *a, *b;
} call;

static const uint8_t KEY[30] = "icelab-sdes-key-0123456789abc";
static const uint8_t OTHER[30] = "a-key-nobody-signalled-000000";

static void call_start(call *c, const uint8_t *send_key, const char *pcap_path)
{
	fixture_build(&c->f, "symmetric", 11, NULL);
	if (pcap_path)
		assert_int_equal(il_sim_pcap_open(c->f.sim, pcap_path, false), 0);
	il_sbc_config cfg;
	il_sbc_config_defaults(&cfg);
	cfg.advertised = ip4("198.51.100.1:0");
	/* Leg A: SDES as the phone offers it; leg B: plain RTP. */
	il_sbc_leg_config legs[2] = {{.bind = {.port = 40000}},
				     {.bind = {.port = 40002}, .profile = IL_SBC_PROFILE_RTP}};
	c->sbc = sim_sbc_new(c->f.sim, c->f.srv1, &cfg, legs);
	c->a = sim_phone_new(c->f.sim, c->f.in1, 4000, SSRC_A);
	c->b = sim_phone_new(c->f.sim, c->f.srv2, 6000, SSRC_B);
	assert_non_null(c->sbc);
	assert_non_null(c->a);
	assert_non_null(c->b);
	assert_int_equal(sim_phone_use_sdes(c->a, KEY, send_key), 0);

	char offer[2048], offer_b[4096], answer_b[2048], answer[4096];
	assert_true(sim_phone_sdp(c->a, offer, sizeof offer) > 0);
	assert_non_null(strstr(offer, "RTP/SAVP"));
	assert_true(sim_sbc_offer(c->sbc, IL_SBC_LEG_A, offer, offer_b, sizeof offer_b) > 0);
	/* Toward the plain phone: plain RTP, nobody's key. */
	assert_non_null(strstr(offer_b, " RTP/AVP "));
	assert_null(strstr(offer_b, "a=crypto"));
	assert_true(sim_phone_sdp(c->b, answer_b, sizeof answer_b) > 0);
	assert_true(sim_sbc_answer(c->sbc, IL_SBC_LEG_B, answer_b, answer, sizeof answer) > 0);
	assert_non_null(strstr(answer, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_int_equal(sim_phone_set_remote_sdp(c->a, answer), 0);
	assert_int_equal(sim_phone_set_remote_sdp(c->b, offer_b), 0);
	sim_phone_start_media(c->a);
	sim_phone_start_media(c->b);
}

static void call_stop(call *c, uint64_t at)
{
	il_sim_run_until(c->f.sim, at);
	sim_phone_stop_media(c->a);
	sim_phone_stop_media(c->b);
	il_sim_run_until(c->f.sim, at + 500 * MS); /* what is in flight lands */
}

static void call_free(call *c)
{
	il_sim_pcap_close(c->f.sim);
	sim_sbc_free(c->sbc);
	sim_phone_free(c->a);
	sim_phone_free(c->b);
	fixture_free(&c->f);
}

static il_sbc_leg_stats leg(call *c, unsigned i)
{
	il_sbc_leg_stats st;
	assert_int_equal(il_sbc_session_get_leg(sim_sbc_session(c->sbc), i, &st), IL_SBC_OK);
	return st;
}

static void test_srtp_phone_and_plain_phone_hear_each_other(void **state)
{
	(void)state;
	call c;
	call_start(&c, KEY, NULL);
	call_stop(&c, 5 * SEC);
	const sim_media_stats *a = sim_phone_stats(c.a), *b = sim_phone_stats(c.b);
	il_sbc_leg_stats la = leg(&c, 0), lb = leg(&c, 1);
	/* 5 s at 50 packets/s each way, less the setup. */
	assert_true(a->rtp_received >= 200);
	assert_true(b->rtp_received >= 200);
	assert_int_equal(a->srtp_failed, 0);
	assert_int_equal(la.profile, IL_SBC_PROFILE_SDES);
	assert_int_equal(lb.profile, IL_SBC_PROFILE_RTP);
	/* Every packet of A unprotected, every packet to A protected. */
	assert_int_equal(la.srtp_unprotected, (uint64_t)a->rtp_sent + a->rtcp_sent);
	assert_int_equal(la.srtp_protected, (uint64_t)a->rtp_received + a->rtcp_received);
	assert_int_equal(la.dropped[IL_SBC_DROP_SRTP_AUTH], 0);
	/* Latched on the NAT's mapping, not the private SDP address. */
	assert_true(la.latched[0]);
	assert_memory_equal(la.source[0].ip, ip4("203.0.113.2:1").ip, 4);
	assert_int_equal(sim_sbc_event_count(c.sbc, IL_SBC_EV_SRTP_MISMATCH), 0);
	call_free(&c);
}

/* $SBC_SRTP_PCAP, else a file under build/ when run from the
 * repository (scripts/test.sh does), else /tmp. */
static void pcap_path(char *out, size_t cap)
{
	struct stat st;
	const char *env = getenv("SBC_SRTP_PCAP");
	if (env && *env)
		snprintf(out, cap, "%s", env);
	else if (stat("build", &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(out, cap, "build/sbc_srtp_key_mismatch.pcap");
	else
		snprintf(out, cap, "/tmp/sbc_srtp_key_mismatch_%ld.pcap", (long)getpid());
}

static void test_key_mismatch_is_detected_and_reported(void **state)
{
	(void)state;
	char path[256];
	pcap_path(path, sizeof path);
	call c;
	call_start(&c, OTHER, path);
	call_stop(&c, 5 * SEC);
	const sim_media_stats *a = sim_phone_stats(c.a), *b = sim_phone_stats(c.b);
	il_sbc_leg_stats la = leg(&c, 0), lb = leg(&c, 1);
	/* Every packet A sent failed authentication at the bridge ... */
	assert_true(a->rtp_sent >= 240);
	assert_int_equal(la.dropped[IL_SBC_DROP_SRTP_AUTH], (uint64_t)a->rtp_sent + a->rtcp_sent);
	assert_int_equal(la.rx_packets, 0);
	assert_int_equal(la.srtp_unprotected, 0);
	/* ... none reached B, and none taught the bridge a source. */
	assert_int_equal(b->rtp_received + b->rtcp_received, 0);
	assert_false(la.latched[0]);
	assert_false(la.latched[1]);
	/* B's media has nowhere to go (A's SDP address is private). */
	assert_true(lb.dropped[IL_SBC_DROP_NO_DESTINATION] >= 240);
	/* Reported once: one run of failures, a mismatch event. */
	assert_int_equal(sim_sbc_event_count(c.sbc, IL_SBC_EV_SRTP_MISMATCH), 1);
	assert_true(sim_sbc_event_count(c.sbc, IL_SBC_EV_DROPPED) >= la.dropped[IL_SBC_DROP_SRTP_AUTH]);
	assert_int_equal(il_sbc_session_state(sim_sbc_session(c.sbc)), IL_SBC_STATE_ANSWERED);
	uint64_t sent = (uint64_t)a->rtp_sent + a->rtcp_sent;
	print_message("key mismatch: %llu of %llu packets dropped as srtp-auth, %zu srtp-mismatch "
		      "event(s), leg B %llu without destination\n",
		      (unsigned long long)la.dropped[IL_SBC_DROP_SRTP_AUTH], (unsigned long long)sent,
		      sim_sbc_event_count(c.sbc, IL_SBC_EV_SRTP_MISMATCH),
		      (unsigned long long)lb.dropped[IL_SBC_DROP_NO_DESTINATION]);
	call_free(&c);

	/* The pcap holds the call: A's SRTP toward the bridge's ports,
	 * seen after the NAT, as many as A sent. */
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	assert_non_null(pc);
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t to_bridge_a = 0;
	while (pcap_next_ex(pc, &h, &d) == 1) {
		/* Raw IPv4: 20-byte header, then UDP. */
		if (h->caplen < 28 || d[0] >> 4 != 4 || d[9] != 17)
			continue;
		uint16_t dport = (uint16_t)(d[22] << 8 | d[23]);
		bool from_nat = d[12] == 203 && d[13] == 0 && d[14] == 113 && d[15] == 2;
		if (from_nat && (dport == 40000 || dport == 40001))
			to_bridge_a++;
	}
	pcap_close(pc);
	/* Each packet crosses two links (NAT -> internet -> bridge). */
	assert_int_equal(to_bridge_a, 2 * sent);
	if (strncmp(path, "/tmp/sbc_srtp_key_mismatch_", 27) == 0)
		remove(path); /* ours, nobody asked for it */
	else
		print_message("pcap: %s\n", path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srtp_phone_and_plain_phone_hear_each_other),
		cmocka_unit_test(test_key_mismatch_is_detected_and_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
