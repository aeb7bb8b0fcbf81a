/* The simulated SBC call of issue #8 §6, shared by the SBC simulator
 * tests: a legacy phone behind a symmetric NAT and a full ICE agent
 * behind a port-restricted NAT call each other through the bridge; a
 * third party (mallory) can spray RTP at the bridge's ports.
 *
 *   phone 192.168.1.10 -- nat-phone (symmetric) 198.51.100.2 --+
 *   web   192.168.2.20 -- nat-web (port-restricted) 192.0.2.2 --+-- internet -- sbc 203.0.113.10
 *                                          mallory 8.8.8.66 --+ */
#ifndef SIM_SBC_WORLD_H
#define SIM_SBC_WORLD_H

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
	char web_sdp[4096];      /* the ICE endpoint's answer, as it went */
} world;

static inline int nat_side(il_sim *sim, int inet, const char *name, const char *preset,
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

static inline void world_build(world *w, uint64_t seed, bool adopt)
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

static inline void world_free(world *w)
{
	sim_sbc_free(w->sbc);
	sim_phone_free(w->phone);
	sim_ice_ua_free(w->web);
	if (w->mallory_sock > 0)
		il_sim_udp_close(w->sim, w->mallory_sock);
	il_sim_pcap_close(w->sim);
	il_sim_free(w->sim);
}

/* The phone calls the ICE endpoint through the bridge. */
static inline void world_call(world *w)
{
	char offer[4096], offer_b[4096], answer[4096];
	char *answer_b = w->web_sdp;
	assert_true(sim_phone_sdp(w->phone, offer, sizeof offer) > 0);
	int n = sim_sbc_offer(w->sbc, IL_SBC_LEG_A, offer, offer_b, sizeof offer_b);
	assert_true(n > 0);
	assert_non_null(strstr(offer_b, "a=ice-lite"));
	assert_null(strstr(offer_b, "192.168."));
	assert_true(sim_ice_ua_answer(w->web, offer_b, answer_b, sizeof w->web_sdp) > 0);
	n = sim_sbc_answer(w->sbc, IL_SBC_LEG_B, answer_b, answer, sizeof answer);
	assert_true(n > 0);
	assert_null(strstr(answer, "a=ice"));
	assert_null(strstr(answer, "192.168."));
	assert_int_equal(sim_phone_set_remote_sdp(w->phone, answer), 0);
	sim_phone_start_media(w->phone);
	sim_ice_ua_start_media(w->web);
}

static inline il_sbc_leg_stats leg(world *w, unsigned i)
{
	il_sbc_leg_stats st;
	assert_int_equal(il_sbc_session_get_leg(sim_sbc_session(w->sbc), i, &st), IL_SBC_OK);
	return st;
}

static inline void mallory_tick(il_sim *sim, void *arg, uint64_t u)
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


/* From now on a third party sprays `count` RTP packets (marked
 * SIM_SBC_FOREIGN_MARK), one every 10 ms, at both of the bridge's ports. */
static inline void mallory_start(world *w, uint32_t count)
{
	il_addr any = {0};
	w->mallory_sock = il_sim_udp_bind(w->sim, w->mallory_host, &any, NULL, NULL, NULL, NULL);
	assert_true(w->mallory_sock >= 0);
	il_addr_parse("203.0.113.10:40000", &w->mallory_to[0]);
	il_addr_parse("203.0.113.10:40002", &w->mallory_to[1]);
	w->mallory_left = count;
	il_sim_schedule(w->sim, il_sim_now(w->sim), mallory_tick, w, 0);
}

#endif
