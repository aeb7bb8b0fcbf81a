/* Force-relay in the simulator (issue #8 §4, §6): the bridge's ICE leg is
 * relayed by our TURN server (the reference TURN core on a public
 * address); a browser-like ICE agent behind a port-restricted NAT and a
 * legacy phone behind a symmetric NAT hear each other, and the wire
 * proves that no packet reaches the browser's side from the bridge's own
 * (host, and here also server-reflexive) address: every packet from the
 * bridge toward the browser comes out of the TURN server's relayed
 * address. The capture stays under build/ (one pcap per link).
 *
 *   phone 192.168.1.10 -- nat-phone (symmetric) 198.51.100.2 --+
 *   web   192.168.2.20 -- nat-web (port-restricted) 192.0.2.2 --+-- internet
 *                                     sbc 203.0.113.10 (40000-40003) --+
 *                               turn 185.10.0.10 (3478, relays 49152+) --+ */
#include "sim_test_util.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../actors.h"
#include "../actors_sbc.h"
#include "icelab/sbc.h"
#include "icelab/sbc_relay.h"

#define PHONE_SSRC 0x0a0b0c0du
#define WEB_SSRC 0x01020304u
#define PCAP_DIR "build/sim"
#define PCAP_STEM PCAP_DIR "/sbc-force-relay.pcap"

typedef struct world {
	il_sim *sim;
	int sbc_host, turn_host, phone_host, web_host;
	int web_wan, sbc_wan;        /* links: nat-web <-> internet, sbc <-> internet */
	sim_server *turn;
	sim_sbc *sbc;
	sim_phone *phone;
	sim_ice_ua *web;
	il_addr turn_addr, sbc_ip, web_nat_ip;
} world;

static int nat_side(il_sim *sim, int inet, const char *name, const char *preset,
		    const char *host_addr, const char *gw_addr, const char *out_addr,
		    const char *inet_addr, const il_sim_link_config *lc, int *wan)
{
	il_sim_nat_config cfg, outer;
	int layers;
	char err[160], rname[32], lname[32];
	assert_int_equal(il_sim_preset_parse(preset, &cfg, &outer, &layers, err, sizeof err), 0);
	snprintf(rname, sizeof rname, "nat-%s", name);
	snprintf(lname, sizeof lname, "%s-wan", name);
	int host = il_sim_add_host(sim, name);
	int nat = il_sim_add_router(sim, rname);
	assert_true(host >= 0 && nat >= 0);
	assert_true(il_sim_connect(sim, host, host_addr, nat, gw_addr, lc, NULL) >= 0);
	*wan = il_sim_connect(sim, nat, out_addr, inet, inet_addr, lc, lname);
	assert_true(*wan >= 0);
	assert_true(il_sim_add_route(sim, nat, "0.0.0.0/0", *wan) >= 0);
	assert_int_equal(il_sim_set_nat(sim, nat, *wan, &cfg), 0);
	return host;
}

/* password: the bridge's for the TURN server (SIM_TURN_PASSWORD is right). */
static void world_build(world *w, uint64_t seed, bool capture, const char *password)
{
	memset(w, 0, sizeof *w);
	w->sim = il_sim_new(seed);
	assert_non_null(w->sim);
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 10 * MS;
	int inet = il_sim_add_router(w->sim, "internet");
	w->sbc_host = il_sim_add_host(w->sim, "sbc");
	w->sbc_wan = il_sim_connect(w->sim, w->sbc_host, "203.0.113.10/24", inet, "203.0.113.1/24",
				    &lc, "sbc-wan");
	assert_true(w->sbc_wan >= 0);
	w->turn_host = il_sim_add_host(w->sim, "turn");
	assert_true(il_sim_connect(w->sim, w->turn_host, "185.10.0.10/24", inet, "185.10.0.1/24",
				   &lc, "turn-wan") >= 0);
	int phone_wan;
	w->phone_host = nat_side(w->sim, inet, "phone", "symmetric", "192.168.1.10/24",
				 "192.168.1.1/24", "198.51.100.2/24", "198.51.100.1/24", &lc,
				 &phone_wan);
	w->web_host = nat_side(w->sim, inet, "web", "port-restricted-cone", "192.168.2.20/24",
			       "192.168.2.1/24", "192.0.2.2/24", "192.0.2.1/24", &lc, &w->web_wan);
	if (capture) {
		if (mkdir("build", 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir build: %s", strerror(errno));
		if (mkdir(PCAP_DIR, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", PCAP_DIR, strerror(errno));
		assert_int_equal(il_sim_pcap_open(w->sim, PCAP_STEM, true), 0);
	}
	w->turn = sim_server_new(w->sim, w->turn_host);
	assert_non_null(w->turn);
	w->turn_addr = *sim_server_addr(w->turn);
	w->turn_addr.port = 3478;
	il_addr_parse("203.0.113.10:0", &w->sbc_ip);
	il_addr_parse("192.0.2.2:0", &w->web_nat_ip);

	il_sbc_config cfg;
	il_sbc_config_defaults(&cfg);
	cfg.advertised = w->sbc_ip;
	cfg.turn_server = w->turn_addr;
	cfg.turn_username = SIM_TURN_USER;
	cfg.turn_password = password;
	/* The policy says so for this tenant; the session flag is unset. */
	il_sbc_policy *policy = il_sbc_policy_new();
	assert_int_equal(il_sbc_policy_add_line(policy, "force-relay tenant=acme", NULL, 0), 0);
	bool relay = il_sbc_policy_force_relay(policy, "acme", "alice", IL_SBC_RELAY_FLAG_UNSET, NULL);
	il_sbc_policy_free(policy);
	assert_true(relay);
	il_sbc_leg_config legs[2] = {
		{.bind = {.port = 40000}},
		{.bind = {.port = 40002}, .ice = true, .rtcp_mux = true, .force_relay = relay}};
	w->sbc = sim_sbc_new(w->sim, w->sbc_host, &cfg, legs);
	w->phone = sim_phone_new(w->sim, w->phone_host, 4000, PHONE_SSRC);
	w->web = sim_ice_ua_new(w->sim, w->web_host, 50000, WEB_SSRC);
	assert_non_null(w->sbc);
	assert_non_null(w->phone);
	assert_non_null(w->web);
	/* The browser learns its server-reflexive address from the same
	 * server, as browsers configured with a TURN server do. */
	assert_int_equal(sim_ice_ua_gather_srflx(w->web, &w->turn_addr), 0);
}

static void world_free(world *w)
{
	il_sim_pcap_close(w->sim);
	sim_sbc_free(w->sbc);
	sim_phone_free(w->phone);
	sim_ice_ua_free(w->web);
	sim_server_free(w->turn);
	il_sim_free(w->sim);
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* The phone calls the browser through the bridge; the offer toward the
 * browser waits for the relay. */
static void world_call(world *w, il_addr *relayed)
{
	il_sim_run_until(w->sim, 500 * MS);
	assert_int_equal(sim_sbc_event_count(w->sbc, IL_SBC_EV_RELAY_READY), 1);
	il_sbc_leg_stats b;
	assert_int_equal(il_sbc_session_get_leg(sim_sbc_session(w->sbc), 1, &b), IL_SBC_OK);
	assert_int_equal(b.relay_state, IL_SBC_RELAY_READY);
	*relayed = b.relayed;
	assert_memory_equal(relayed->ip, w->turn_addr.ip, 4); /* the TURN server's address */

	char offer[4096], offer_b[4096], answer_b[4096], answer[4096];
	assert_true(sim_phone_sdp(w->phone, offer, sizeof offer) > 0);
	int n = sim_sbc_offer(w->sbc, IL_SBC_LEG_A, offer, offer_b, sizeof offer_b);
	if (n < 0)
		print_error("offer: %d %s\n", n,
			    il_sbc_session_relay_error(sim_sbc_session(w->sbc), 1));
	assert_true(n > 0);
	/* Only the relayed candidate; the bridge's own address nowhere. */
	assert_int_equal(count(offer_b, "a=candidate:"), 1);
	assert_non_null(strstr(offer_b, " 185.10.0.10 "));
	assert_non_null(strstr(offer_b, "typ relay"));
	assert_non_null(strstr(offer_b, "c=IN IP4 185.10.0.10\r\n"));
	assert_null(strstr(offer_b, "203.0.113.10"));
	const char *cand = strstr(offer_b, "a=candidate:");
	print_message("offer toward the browser: %.*s\n", (int)strcspn(cand, "\r\n"), cand);
	assert_true(sim_ice_ua_answer(w->web, offer_b, answer_b, sizeof answer_b) > 0);
	assert_non_null(strstr(answer_b, "typ srflx"));
	n = sim_sbc_answer(w->sbc, IL_SBC_LEG_B, answer_b, answer, sizeof answer);
	assert_true(n > 0);
	assert_null(strstr(answer, "a=ice"));
	assert_null(strstr(answer, "185.10.0.10")); /* the phone's leg is not relayed */
	assert_int_equal(sim_phone_set_remote_sdp(w->phone, answer), 0);
	sim_phone_start_media(w->phone);
	sim_ice_ua_start_media(w->web);
}

/* ---- the wire, read back from a link's capture ---- */

typedef struct wire_count {
	il_addr relayed, turn, sbc_ip, web_nat_ip;
	size_t to_web, to_web_from_relay, to_web_from_turn_port, to_web_other;
	size_t from_sbc_ip;          /* on the web side: must stay 0 */
	size_t sbc_leg_b, sbc_leg_b_to_turn, sbc_leg_b_channeldata, sbc_to_web_nat;
} wire_count;

static bool same_ip(const il_addr *a, const il_addr *b)
{
	return a->family == b->family && !memcmp(a->ip, b->ip, 4);
}

/* Every UDP/IPv4 packet of a link's capture: src, dst, first payload byte. */
static size_t scan_link(world *w, int link, wire_count *c, bool web_side)
{
	char path[256], err[PCAP_ERRBUF_SIZE];
	const char *name = il_sim_link_name(w->sim, link);
	snprintf(path, sizeof path, "%.*s.%s.pcap", (int)(strlen(PCAP_STEM) - strlen(".pcap")),
		 PCAP_STEM, name);
	pcap_t *pc = pcap_open_offline(path, err);
	if (!pc)
		print_error("%s: %s\n", path, err);
	assert_non_null(pc);
	struct pcap_pkthdr *h;
	const u_char *b;
	size_t n = 0;
	while (pcap_next_ex(pc, &h, &b) == 1) {
		assert_true(h->caplen >= 28 && (b[0] >> 4) == 4);
		size_t ihl = (size_t)(b[0] & 0x0f) * 4;
		if (b[9] != IL_SIM_UDP || h->caplen < ihl + 9)
			continue;
		il_addr src = {.family = IL_AF_INET}, dst = {.family = IL_AF_INET};
		memcpy(src.ip, b + 12, 4);
		memcpy(dst.ip, b + 16, 4);
		src.port = (uint16_t)(b[ihl] << 8 | b[ihl + 1]);
		dst.port = (uint16_t)(b[ihl + 2] << 8 | b[ihl + 3]);
		uint8_t first = b[ihl + 8];
		n++;
		if (web_side) {
			c->from_sbc_ip += same_ip(&src, &c->sbc_ip);
			if (!same_ip(&dst, &c->web_nat_ip))
				continue;
			c->to_web++;
			if (il_addr_equal(&src, &c->relayed))
				c->to_web_from_relay++;
			else if (il_addr_equal(&src, &c->turn))
				c->to_web_from_turn_port++; /* the browser's own Binding answer */
			else
				c->to_web_other++;
		} else {
			c->sbc_to_web_nat += same_ip(&src, &c->sbc_ip) && same_ip(&dst, &c->web_nat_ip);
			if (!same_ip(&src, &c->sbc_ip) || (src.port != 40002 && src.port != 40003))
				continue;
			c->sbc_leg_b++;
			c->sbc_leg_b_to_turn += il_addr_equal(&dst, &c->turn);
			c->sbc_leg_b_channeldata += first >= 0x40 && first <= 0x4f;
		}
	}
	pcap_close(pc);
	return n;
}

static void test_force_relay_call_never_sends_from_the_bridge_to_the_browser(void **state)
{
	(void)state;
	world w;
	world_build(&w, 11, true, SIM_TURN_PASSWORD);
	il_addr relayed;
	world_call(&w, &relayed);
	il_sim_run_until(w.sim, 10 * SEC);
	sim_phone_stop_media(w.phone);
	sim_ice_ua_stop_media(w.web);
	il_sim_run_until(w.sim, 10 * SEC + 500 * MS);

	const sim_media_stats *ph = sim_phone_stats(w.phone), *web = sim_ice_ua_stats(w.web);
	il_sbc_leg_stats b;
	assert_int_equal(il_sbc_session_get_leg(sim_sbc_session(w.sbc), 1, &b), IL_SBC_OK);
	if (ph->rtp_received < 400 || web->rtp_received < 400)
		print_error("phone sent %u got %u; web sent %u got %u; b rx %llu tx %llu unsent %llu "
			    "perms %llu\n",
			    ph->rtp_sent, ph->rtp_received, web->rtp_sent, web->rtp_received,
			    (unsigned long long)b.rx_packets, (unsigned long long)b.tx_packets,
			    (unsigned long long)b.relay_unsent,
			    (unsigned long long)b.relay_permissions);
	/* Audio both ways: 10 s at 50 packets/s, less the setup. */
	assert_true(ph->rtp_received >= 400);
	assert_true(web->rtp_received >= 400);
	assert_true(web->rtcp_received >= 8);
	assert_int_equal(ph->foreign + web->foreign, 0);
	/* ICE selected the browser's NAT mapping, through the relay; media
	 * rides a channel. */
	assert_true(b.has_selected);
	assert_memory_equal(b.selected_remote.ip, w.web_nat_ip.ip, 4);
	assert_int_equal(b.relay_channels, 1);
	assert_true(b.relay_permissions >= 1);
	assert_int_equal(b.dropped[IL_SBC_DROP_NOT_RELAYED], 0);
	const char *line = sim_sbc_connected_line(w.sbc);
	assert_non_null(strstr(line, " b=ice local=relay 185.10.0.10:"));

	/* The wire. */
	il_sim_pcap_close(w.sim); /* flushes every file */
	wire_count c = {.relayed = relayed, .turn = w.turn_addr, .sbc_ip = w.sbc_ip,
			.web_nat_ip = w.web_nat_ip};
	assert_true(scan_link(&w, w.web_wan, &c, true) > 0);
	assert_true(scan_link(&w, w.sbc_wan, &c, false) > 0);
	print_message("force-relay wire: toward the browser %zu packets, %zu from the relayed "
		      "address, %zu from TURN 3478 (its Binding), %zu other, %zu from the bridge; "
		      "bridge leg B %zu packets, %zu to TURN, %zu ChannelData\n",
		      c.to_web, c.to_web_from_relay, c.to_web_from_turn_port, c.to_web_other,
		      c.from_sbc_ip, c.sbc_leg_b, c.sbc_leg_b_to_turn, c.sbc_leg_b_channeldata);
	/* Nothing from the bridge's address on the browser's side, ever. */
	assert_int_equal(c.from_sbc_ip, 0);
	assert_int_equal(c.to_web_other, 0);
	assert_true(c.to_web_from_relay >= 400);
	assert_true(c.to_web_from_turn_port <= 2);
	/* The bridge's ICE leg talks to the TURN server only, mostly in
	 * ChannelData once the channel is bound. */
	assert_int_equal(c.sbc_to_web_nat, 0);
	assert_int_equal(c.sbc_leg_b, c.sbc_leg_b_to_turn);
	assert_true(c.sbc_leg_b_channeldata >= 400);
	world_free(&w);
}

/* Wrong credentials on the TURN server: the offer toward the browser
 * fails with a clear error, no host candidate goes out instead. */
static void test_force_relay_allocation_failure_fails_the_offer(void **state)
{
	(void)state;
	world w;
	world_build(&w, 12, false, "not-the-password");
	il_sim_run_until(w.sim, 500 * MS);
	assert_int_equal(sim_sbc_event_count(w.sbc, IL_SBC_EV_RELAY_FAILED), 1);
	char offer[4096], offer_b[4096] = "";
	assert_true(sim_phone_sdp(w.phone, offer, sizeof offer) > 0);
	assert_int_equal(sim_sbc_offer(w.sbc, IL_SBC_LEG_A, offer, offer_b, sizeof offer_b),
			 IL_SBC_ERR_RELAY);
	assert_null(strstr(offer_b, "candidate"));
	const char *why = il_sbc_session_relay_error(sim_sbc_session(w.sbc), 1);
	print_message("force-relay failure: %s\n", why);
	assert_non_null(strstr(why, "401"));
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_force_relay_call_never_sends_from_the_bridge_to_the_browser),
		cmocka_unit_test(test_force_relay_allocation_failure_fails_the_offer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
