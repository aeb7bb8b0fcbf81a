/* The SBC bridge, a legacy phone and an ICE endpoint on simulated hosts
 * (actors_sbc.h): each core driven as a socket driver drives it —
 * datagrams in with `now`, datagrams out through the host's sockets,
 * timers at the core's next deadline. */
#include "actors_sbc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "icelab/sdp.h"
#include "icelab/stun.h"

#define MEDIA_INTERVAL_US 20000ull
#define RTCP_INTERVAL_US 1000000ull
#define RTP_LEN 172            /* 12 bytes of header, 20 ms of G.711 */

static uint64_t now_ms(il_sim *sim)
{
	return il_sim_now(sim) / 1000;
}

static size_t build_rtp(uint8_t *buf, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	memset(buf, 0xD5, RTP_LEN); /* G.711 A-law silence */
	buf[0] = 0x80;
	buf[1] = 0;                 /* PCMU */
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[4] = (uint8_t)(ts >> 24);
	buf[5] = (uint8_t)(ts >> 16);
	buf[6] = (uint8_t)(ts >> 8);
	buf[7] = (uint8_t)ts;
	buf[8] = (uint8_t)(ssrc >> 24);
	buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8);
	buf[11] = (uint8_t)ssrc;
	return RTP_LEN;
}

/* An empty receiver report (RFC 3550 §6.4.2). */
static size_t build_rtcp(uint8_t *buf, uint32_t ssrc)
{
	buf[0] = 0x80;
	buf[1] = 201;
	buf[2] = 0;
	buf[3] = 1;
	buf[4] = (uint8_t)(ssrc >> 24);
	buf[5] = (uint8_t)(ssrc >> 16);
	buf[6] = (uint8_t)(ssrc >> 8);
	buf[7] = (uint8_t)ssrc;
	return 8;
}

static void count_media(sim_media_stats *st, const il_addr *from, const uint8_t *data,
			size_t len)
{
	if (len < 8 || data[0] >> 6 != 2)
		return;
	if (data[1] >= 192 && data[1] <= 223) {
		st->rtcp_received++;
	} else {
		st->rtp_received++;
		if (len > 12 && data[12] == SIM_SBC_FOREIGN_MARK)
			st->foreign++;
	}
	if (from)
		st->last_from = *from;
}

/* ---- the bridge ---- */

#define SBC_SOCKS 4 /* leg A RTP, RTCP, leg B RTP, RTCP */
#define SIM_SBC_EVENT_TYPES 32 /* above every enum il_sbc_event_type */

struct sim_sbc {
	il_sim *sim;
	int host;
	il_sbc_session *s;
	int sock[SBC_SOCKS];
	il_addr bound[SBC_SOCKS];
	uint64_t wake_at;
	size_t events[SIM_SBC_EVENT_TYPES];
	char connected[512];
};

static void sbc_wake(il_sim *sim, void *arg, uint64_t at);

static void sbc_reschedule(sim_sbc *b)
{
	uint64_t d = il_sbc_session_next_deadline(b->s);
	if (d == UINT64_MAX)
		return;
	uint64_t at = d * 1000;
	if (at < il_sim_now(b->sim))
		at = il_sim_now(b->sim);
	if (b->wake_at && b->wake_at <= at)
		return;
	b->wake_at = at;
	il_sim_schedule(b->sim, at, sbc_wake, b, at);
}

static void sbc_wake(il_sim *sim, void *arg, uint64_t at)
{
	sim_sbc *b = arg;
	if (b->wake_at != at)
		return;
	b->wake_at = 0;
	il_sbc_session_timer(b->s, now_ms(sim));
	sbc_reschedule(b);
}

static void sbc_random(void *user, uint8_t *out, size_t len)
{
	il_sim_rng_bytes(il_sim_get_rng(((sim_sbc *)user)->sim), out, len);
}

static void sbc_send(void *user, const il_addr *local, const il_addr *remote, const uint8_t *data,
		     size_t len)
{
	sim_sbc *b = user;
	for (int i = 0; i < SBC_SOCKS; i++)
		if (il_addr_equal(&b->bound[i], local)) {
			il_sim_udp_send(b->sim, b->sock[i], remote, data, len);
			return;
		}
}

static void sbc_event(void *user, const il_sbc_event *ev)
{
	sim_sbc *b = user;
	if (ev->type >= 1 && ev->type < SIM_SBC_EVENT_TYPES)
		b->events[ev->type]++;
	if (ev->type == IL_SBC_EV_MEDIA_CONNECTED && ev->text)
		snprintf(b->connected, sizeof b->connected, "%s", ev->text);
}

static void sbc_recv(void *user, il_sim *sim, int sock, const il_addr *from, const uint8_t *data,
		     size_t len)
{
	sim_sbc *b = user;
	for (int i = 0; i < SBC_SOCKS; i++)
		if (b->sock[i] == sock) {
			il_sbc_session_handle_datagram(b->s, &b->bound[i], from, data, len,
						       now_ms(sim));
			break;
		}
	sbc_reschedule(b);
}

sim_sbc *sim_sbc_new(il_sim *sim, int host, const il_sbc_config *cfg,
		     const il_sbc_leg_config legs[2])
{
	sim_sbc *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->sim = sim;
	b->host = host;
	il_sbc_leg_config lc[2] = {legs[0], legs[1]};
	for (int i = 0; i < SBC_SOCKS; i++)
		b->sock[i] = -1;
	const il_addr *ip = il_sim_node_addr(sim, host, IL_AF_INET);
	for (int leg = 0; leg < 2; leg++) {
		if (lc[leg].bind.family == IL_AF_NONE) {
			if (!ip)
				goto fail;
			uint16_t port = lc[leg].bind.port;
			lc[leg].bind = *ip;
			lc[leg].bind.port = port;
		}
		for (int k = 0; k < 2; k++) {
			il_addr want = lc[leg].bind;
			want.port = (uint16_t)(want.port + k);
			int i = leg * 2 + k;
			b->sock[i] = il_sim_udp_bind(sim, host, &want, sbc_recv, NULL, b, &b->bound[i]);
			if (b->sock[i] < 0)
				goto fail;
		}
	}
	il_sbc_callbacks cb = {.user = b, .random = sbc_random, .send = sbc_send,
			       .event = sbc_event};
	b->s = il_sbc_session_new(cfg, &lc[0], &lc[1], &cb, now_ms(sim), NULL);
	if (!b->s)
		goto fail;
	sbc_reschedule(b); /* a force-relay leg's allocation is under way */
	return b;
fail:
	sim_sbc_free(b);
	return NULL;
}

void sim_sbc_free(sim_sbc *b)
{
	if (!b)
		return;
	for (int i = 0; i < SBC_SOCKS; i++)
		if (b->sock[i] >= 0)
			il_sim_udp_close(b->sim, b->sock[i]);
	il_sbc_session_free(b->s);
	free(b);
}

int sim_sbc_offer(sim_sbc *b, unsigned from, const char *sdp, char *out, size_t cap)
{
	int rc = il_sbc_session_offer(b->s, from, sdp, strlen(sdp), out, cap, now_ms(b->sim), NULL);
	sbc_reschedule(b);
	return rc;
}

int sim_sbc_answer(sim_sbc *b, unsigned from, const char *sdp, char *out, size_t cap)
{
	int rc = il_sbc_session_answer(b->s, from, sdp, strlen(sdp), out, cap, now_ms(b->sim), NULL);
	sbc_reschedule(b);
	return rc;
}

il_sbc_session *sim_sbc_session(sim_sbc *b)
{
	return b->s;
}

size_t sim_sbc_event_count(const sim_sbc *b, int type)
{
	return type >= 1 && type < SIM_SBC_EVENT_TYPES ? b->events[type] : 0;
}

const char *sim_sbc_connected_line(const sim_sbc *b)
{
	return b->connected;
}

/* ---- the legacy phone ---- */

struct sim_phone {
	il_sim *sim;
	int rtp_sock, rtcp_sock;
	il_addr rtp_addr, rtcp_addr;
	il_addr remote_rtp, remote_rtcp;
	bool have_remote, running;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	uint64_t media_gen;
	sim_media_stats st;
	/* SDES: what the SDP says, what we protect with, the far end's. */
	bool sdes;
	uint8_t sdp_key[30];
	il_sbc_srtp *tx, *rx;
};

static void phone_recv(void *user, il_sim *sim, int sock, const il_addr *from,
		       const uint8_t *data, size_t len)
{
	(void)sim;
	(void)sock;
	sim_phone *p = user;
	uint8_t buf[2048];
	if (p->sdes) { /* RFC 3711: what does not authenticate is not media */
		bool rtcp = len >= 2 && data[1] >= 192 && data[1] <= 223;
		if (!p->rx || len > sizeof buf) {
			p->st.srtp_failed++;
			return;
		}
		memcpy(buf, data, len);
		if (il_sbc_srtp_unprotect(p->rx, rtcp, buf, &len) != IL_SBC_SRTP_OK) {
			p->st.srtp_failed++;
			return;
		}
		data = buf;
	}
	count_media(&p->st, from, data, len);
}

#define PHONE_SUITE "AES_CM_128_HMAC_SHA1_80"

int sim_phone_use_sdes(sim_phone *p, const uint8_t sdp_key[30], const uint8_t send_key[30])
{
	il_sbc_srtp_free(p->tx);
	p->tx = il_sbc_srtp_new(PHONE_SUITE, send_key, false);
	memcpy(p->sdp_key, sdp_key, sizeof p->sdp_key);
	p->sdes = p->tx != NULL;
	return p->sdes ? 0 : -1;
}

/* The far end's key: its a=crypto with our suite (RFC 4568 §9.1). */
static void phone_remote_key(sim_phone *p, const char *sdp)
{
	const char *c = strstr(sdp, "a=crypto:");
	c = c ? strstr(c, "AES_CM_128_HMAC_SHA1_80 inline:") : NULL;
	uint8_t raw[33];
	if (!c || strcspn(c + 31, "|\r\n") != 40 ||
	    EVP_DecodeBlock(raw, (const unsigned char *)c + 31, 40) != 30)
		return;
	il_sbc_srtp_free(p->rx);
	p->rx = il_sbc_srtp_new(PHONE_SUITE, raw, true);
}

/* Protects buf in place (cap >= len + IL_SBC_SRTP_MAX_TRAILER) when SDES. */
static size_t phone_protect(sim_phone *p, uint8_t *buf, size_t len, bool rtcp)
{
	if (!p->sdes)
		return len;
	return il_sbc_srtp_protect(p->tx, rtcp, buf, &len, len + IL_SBC_SRTP_MAX_TRAILER) ==
			       IL_SBC_SRTP_OK
		       ? len
		       : 0;
}

sim_phone *sim_phone_new(il_sim *sim, int host, uint16_t rtp_port, uint32_t ssrc)
{
	sim_phone *p = calloc(1, sizeof *p);
	const il_addr *ip = il_sim_node_addr(sim, host, IL_AF_INET);
	if (!p || !ip) {
		free(p);
		return NULL;
	}
	p->sim = sim;
	p->ssrc = ssrc;
	p->seq = (uint16_t)(ssrc >> 3);
	il_addr want = *ip;
	want.port = rtp_port;
	p->rtp_sock = il_sim_udp_bind(sim, host, &want, phone_recv, NULL, p, &p->rtp_addr);
	want.port = (uint16_t)(rtp_port + 1);
	p->rtcp_sock = il_sim_udp_bind(sim, host, &want, phone_recv, NULL, p, &p->rtcp_addr);
	if (p->rtp_sock < 0 || p->rtcp_sock < 0) {
		sim_phone_free(p);
		return NULL;
	}
	return p;
}

void sim_phone_free(sim_phone *p)
{
	if (!p)
		return;
	if (p->rtp_sock >= 0)
		il_sim_udp_close(p->sim, p->rtp_sock);
	if (p->rtcp_sock >= 0)
		il_sim_udp_close(p->sim, p->rtcp_sock);
	il_sbc_srtp_free(p->tx);
	il_sbc_srtp_free(p->rx);
	free(p);
}

int sim_phone_sdp(const sim_phone *p, char *out, size_t cap)
{
	char ip[IL_ADDR_STRLEN], crypto[128] = "";
	il_addr_format_ip(&p->rtp_addr, ip, sizeof ip);
	if (p->sdes) {
		unsigned char b64[48];
		EVP_EncodeBlock(b64, p->sdp_key, sizeof p->sdp_key);
		snprintf(crypto, sizeof crypto, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n",
			 (const char *)b64);
	}
	int n = snprintf(out, cap,
			 "v=0\r\n"
			 "o=phone 1 1 IN IP4 %s\r\n"
			 "s=call\r\n"
			 "c=IN IP4 %s\r\n"
			 "t=0 0\r\n"
			 "m=audio %u %s 0 8 101\r\n"
			 "a=rtpmap:0 PCMU/8000\r\n"
			 "a=rtpmap:8 PCMA/8000\r\n"
			 "a=rtpmap:101 telephone-event/8000\r\n"
			 "%s"
			 "a=sendrecv\r\n",
			 ip, ip, p->rtp_addr.port, p->sdes ? "RTP/SAVP" : "RTP/AVP", crypto);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int sim_phone_set_remote_sdp(sim_phone *p, const char *sdp)
{
	il_sdp_session *s = malloc(sizeof *s);
	if (!s)
		return -1;
	int rc = -1;
	if (il_sdp_parse(sdp, strlen(sdp), s, NULL) == IL_SDP_OK && s->media_count > 0) {
		const il_sdp_media *m = &s->media[0];
		const il_sdp_connection *c = m->conn.present ? &m->conn : &s->conn;
		char text[IL_SDP_HOST_MAX + 8];
		snprintf(text, sizeof text, "%s:%u", c->address, m->port);
		if (c->present && il_addr_parse(text, &p->remote_rtp) == 0) {
			p->remote_rtcp = p->remote_rtp;
			p->remote_rtcp.port++;
			p->have_remote = true;
			rc = 0;
		}
	}
	free(s);
	if (rc == 0 && p->sdes)
		phone_remote_key(p, sdp);
	return rc;
}

static void phone_tick(il_sim *sim, void *arg, uint64_t gen)
{
	sim_phone *p = arg;
	if (!p->running || gen != p->media_gen || !p->have_remote)
		return;
	uint8_t buf[RTP_LEN + IL_SBC_SRTP_MAX_TRAILER];
	size_t n = phone_protect(p, buf, build_rtp(buf, p->seq++, p->ts, p->ssrc), false);
	p->ts += 160;
	if (n && il_sim_udp_send(sim, p->rtp_sock, &p->remote_rtp, buf, n) >= 0)
		p->st.rtp_sent++;
	/* An RTCP report each second, from the RTCP port (RFC 3550 §6.2). */
	if (p->st.rtp_sent % (RTCP_INTERVAL_US / MEDIA_INTERVAL_US) == 1) {
		n = phone_protect(p, buf, build_rtcp(buf, p->ssrc), true);
		if (n && il_sim_udp_send(sim, p->rtcp_sock, &p->remote_rtcp, buf, n) >= 0)
			p->st.rtcp_sent++;
	}
	il_sim_schedule(sim, il_sim_now(sim) + MEDIA_INTERVAL_US, phone_tick, p, gen);
}

void sim_phone_start_media(sim_phone *p)
{
	p->running = true;
	il_sim_schedule(p->sim, il_sim_now(p->sim), phone_tick, p, ++p->media_gen);
}

void sim_phone_stop_media(sim_phone *p)
{
	p->running = false;
	p->media_gen++;
}

const sim_media_stats *sim_phone_stats(const sim_phone *p)
{
	return &p->st;
}

/* ---- the ICE endpoint ---- */

struct sim_ice_ua {
	il_sim *sim;
	int sock;
	il_addr base;
	il_addr stun_server;     /* family NONE: no Binding asked */
	il_ice_agent *agent;
	uint64_t wake_at;
	bool running;
	uint64_t media_gen;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	sim_media_stats st;
};

static void ua_wake(il_sim *sim, void *arg, uint64_t at);

static void ua_reschedule(sim_ice_ua *u)
{
	uint64_t d = il_ice_agent_next_deadline(u->agent);
	if (d == UINT64_MAX)
		return;
	uint64_t at = d * 1000;
	if (at < il_sim_now(u->sim))
		at = il_sim_now(u->sim);
	if (u->wake_at && u->wake_at <= at)
		return;
	u->wake_at = at;
	il_sim_schedule(u->sim, at, ua_wake, u, at);
}

static void ua_wake(il_sim *sim, void *arg, uint64_t at)
{
	sim_ice_ua *u = arg;
	if (u->wake_at != at)
		return;
	u->wake_at = 0;
	il_ice_agent_timer(u->agent, now_ms(sim));
	ua_reschedule(u);
}

static void ua_random(void *user, uint8_t *out, size_t len)
{
	il_sim_rng_bytes(il_sim_get_rng(((sim_ice_ua *)user)->sim), out, len);
}

static void ua_send(void *user, unsigned stream, unsigned component, const il_ice_candidate *local,
		    const il_addr *remote, const uint8_t *data, size_t len)
{
	(void)stream;
	(void)component;
	(void)local; /* one base: the host's socket */
	sim_ice_ua *u = user;
	il_sim_udp_send(u->sim, u->sock, remote, data, len);
}

static void ua_data(void *user, unsigned stream, unsigned component, const uint8_t *data,
		    size_t len)
{
	(void)stream;
	(void)component;
	count_media(&((sim_ice_ua *)user)->st, NULL, data, len);
}

/* The server-reflexive candidate from a Binding success response
 * (RFC 8489 §14.2 XOR-MAPPED-ADDRESS), as a browser gathers it. */
static void ua_binding_response(sim_ice_ua *u, const uint8_t *data, size_t len)
{
	il_stun_msg msg;
	if (il_stun_decode(data, len, &msg, NULL) != IL_STUN_OK || msg.method != IL_STUN_BINDING ||
	    msg.cls != IL_STUN_SUCCESS)
		return;
	const il_stun_attr *a = il_stun_msg_find(&msg, IL_ATTR_XOR_MAPPED_ADDRESS);
	il_ice_candidate c = {.component = 1, .type = IL_ICE_CAND_SRFLX, .base = u->base,
			      .related = u->base, .server = u->stun_server};
	if (a && il_stun_attr_get_addr(&msg, a, &c.addr) == IL_STUN_OK)
		il_ice_agent_add_local_candidate(u->agent, 0, &c, now_ms(u->sim));
}

static void ua_recv(void *user, il_sim *sim, int sock, const il_addr *from, const uint8_t *data,
		    size_t len)
{
	(void)sock;
	sim_ice_ua *u = user;
	if (u->stun_server.family != IL_AF_NONE && il_addr_equal(from, &u->stun_server)) {
		ua_binding_response(u, data, len);
		return;
	}
	il_ice_agent_handle_datagram(u->agent, &u->base, from, data, len, now_ms(sim));
	ua_reschedule(u);
}

sim_ice_ua *sim_ice_ua_new(il_sim *sim, int host, uint16_t port, uint32_t ssrc)
{
	sim_ice_ua *u = calloc(1, sizeof *u);
	const il_addr *ip = il_sim_node_addr(sim, host, IL_AF_INET);
	if (!u || !ip) {
		free(u);
		return NULL;
	}
	u->sim = sim;
	u->ssrc = ssrc;
	il_addr want = *ip;
	want.port = port;
	u->sock = il_sim_udp_bind(sim, host, &want, ua_recv, NULL, u, &u->base);
	il_ice_config cfg;
	il_ice_config_defaults(&cfg);
	il_ice_callbacks cb = {.user = u, .random = ua_random, .send = ua_send, .data = ua_data};
	u->agent = u->sock >= 0 ? il_ice_agent_new(&cfg, &cb) : NULL;
	il_ice_candidate host_cand = {.component = 1, .type = IL_ICE_CAND_HOST, .addr = u->base};
	if (!u->agent || il_ice_agent_add_stream(u->agent, 1, NULL, NULL) != 0 ||
	    il_ice_agent_add_local_candidate(u->agent, 0, &host_cand, now_ms(sim)) < 0) {
		sim_ice_ua_free(u);
		return NULL;
	}
	return u;
}

int sim_ice_ua_gather_srflx(sim_ice_ua *u, const il_addr *server)
{
	uint8_t buf[64], tid[IL_STUN_TID_LEN];
	il_sim_rng_bytes(il_sim_get_rng(u->sim), tid, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	size_t n = il_stun_builder_finish(&b, NULL);
	u->stun_server = *server;
	return n && il_sim_udp_send(u->sim, u->sock, server, buf, n) >= 0 ? 0 : -1;
}

void sim_ice_ua_free(sim_ice_ua *u)
{
	if (!u)
		return;
	if (u->sock >= 0)
		il_sim_udp_close(u->sim, u->sock);
	il_ice_agent_free(u->agent);
	free(u);
}

int sim_ice_ua_answer(sim_ice_ua *u, const char *offer, char *out, size_t cap)
{
	il_sdp_session *s = malloc(sizeof *s);
	if (!s)
		return -1;
	int rc = -1;
	uint64_t now = now_ms(u->sim);
	if (il_sdp_parse(offer, strlen(offer), s, NULL) != IL_SDP_OK || s->media_count == 0)
		goto done;
	const il_sdp_media *m = &s->media[0];
	const char *ufrag = il_sdp_media_ufrag(s, m), *pwd = il_sdp_media_pwd(s, m);
	if (!ufrag || !pwd ||
	    il_ice_agent_set_remote_credentials(u->agent, 0, ufrag, pwd, now) != IL_ICE_OK)
		goto done;
	il_ice_agent_set_remote_lite(u->agent, s->ice_lite);
	for (size_t i = 0; i < m->candidate_count; i++)
		if (m->candidates[i].cand.component == 1)
			il_ice_agent_add_remote_candidate(u->agent, 0, &m->candidates[i].cand, now);
	il_ice_agent_remote_end_of_candidates(u->agent, 0, now);
	il_ice_agent_local_end_of_candidates(u->agent, 0, now);
	char ip[IL_ADDR_STRLEN], cand[1024];
	il_addr_format_ip(&u->base, ip, sizeof ip);
	size_t at = 0; /* every local candidate: host, and srflx when gathered */
	for (size_t i = 0; i < il_ice_agent_local_candidate_count(u->agent, 0); i++) {
		il_sdp_candidate sc;
		il_sdp_candidate_from_ice(&sc, il_ice_agent_local_candidate(u->agent, 0, i));
		int w = at + 2 < sizeof cand ? snprintf(cand + at, sizeof cand - at, "a=") : -1;
		if (w < 0)
			goto done;
		at += (size_t)w;
		w = il_sdp_candidate_write(&sc, cand + at, sizeof cand - at);
		if (w < 0 || at + (size_t)w + 3 > sizeof cand)
			goto done;
		at += (size_t)w;
		at += (size_t)snprintf(cand + at, sizeof cand - at, "\r\n");
	}
	int n = snprintf(out, cap,
			 "v=0\r\n"
			 "o=- 3003 1 IN IP4 %s\r\n"
			 "s=-\r\n"
			 "t=0 0\r\n"
			 "m=audio %u RTP/AVP 0 101\r\n"
			 "c=IN IP4 %s\r\n"
			 "a=rtpmap:0 PCMU/8000\r\n"
			 "a=rtpmap:101 telephone-event/8000\r\n"
			 "a=sendrecv\r\n"
			 "a=rtcp-mux\r\n"
			 "a=ice-ufrag:%s\r\n"
			 "a=ice-pwd:%s\r\n"
			 "%s"
			 "a=end-of-candidates\r\n",
			 ip, u->base.port, ip, il_ice_agent_local_ufrag(u->agent, 0),
			 il_ice_agent_local_pwd(u->agent, 0), cand);
	if (n < 0 || (size_t)n >= cap || il_ice_agent_start(u->agent, now) != IL_ICE_OK)
		goto done;
	rc = n;
	ua_reschedule(u);
done:
	free(s);
	return rc;
}

static void ua_tick(il_sim *sim, void *arg, uint64_t gen)
{
	sim_ice_ua *u = arg;
	if (!u->running || gen != u->media_gen)
		return;
	uint8_t buf[RTP_LEN];
	size_t n = build_rtp(buf, u->seq, u->ts, u->ssrc);
	if (il_ice_agent_send(u->agent, 0, 1, buf, n, now_ms(sim)) == IL_ICE_OK) {
		u->seq++;
		u->ts += 160;
		u->st.rtp_sent++;
	}
	ua_reschedule(u);
	il_sim_schedule(sim, il_sim_now(sim) + MEDIA_INTERVAL_US, ua_tick, u, gen);
}

void sim_ice_ua_start_media(sim_ice_ua *u)
{
	u->running = true;
	il_sim_schedule(u->sim, il_sim_now(u->sim), ua_tick, u, ++u->media_gen);
}

void sim_ice_ua_stop_media(sim_ice_ua *u)
{
	u->running = false;
	u->media_gen++;
}

const sim_media_stats *sim_ice_ua_stats(const sim_ice_ua *u)
{
	return &u->st;
}

il_ice_agent *sim_ice_ua_agent(sim_ice_ua *u)
{
	return u->agent;
}
