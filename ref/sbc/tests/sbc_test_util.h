/* Shared by the SBC tests: a session between a legacy phone (leg A,
 * behind a NAT, its SDP naming its private address) and an ICE agent
 * (leg B), on a bridge whose bind address 10.0.0.5 is private and whose
 * advertised address is 203.0.113.10; every datagram the bridge sends
 * and every event it raises, recorded; virtual time; RTP, RTCP and ICE
 * check builders. Header-only (each test is one binary). */
#ifndef SBC_TEST_UTIL_H
#define SBC_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/sbc.h"
#include "icelab/sdp.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

#define T_MAX_SENT 512
#define T_MAX_EVENTS 512

static const char PHONE_OFFER[] = "v=0\r\n"
				  "o=phone 1001 1 IN IP4 192.168.1.10\r\n"
				  "s=call\r\n"
				  "c=IN IP4 192.168.1.10\r\n"
				  "t=0 0\r\n"
				  "m=audio 4000 RTP/AVP 0 8 101\r\n"
				  "a=rtpmap:0 PCMU/8000\r\n"
				  "a=rtpmap:8 PCMA/8000\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n"
				  "a=rtcp:4001 IN IP4 192.168.1.10\r\n"
				  "a=sendrecv\r\n";

#define WEB_UFRAG "WEBu"
#define WEB_PWD "webpasswordwebpassword12"

static const char WEB_ANSWER[] =
	"v=0\r\n"
	"o=- 2002 1 IN IP4 192.168.2.20\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"m=audio 50000 RTP/AVP 0 101\r\n"
	"c=IN IP4 192.168.2.20\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=sendrecv\r\n"
	"a=rtcp-mux\r\n"
	"a=ice-ufrag:" WEB_UFRAG "\r\n"
	"a=ice-pwd:" WEB_PWD "\r\n"
	"a=candidate:1 1 udp 2130706431 192.168.2.20 50000 typ host\r\n"
	"a=candidate:2 1 udp 1694498815 198.51.100.3 61000 typ srflx raddr 192.168.2.20 rport "
	"50000\r\n";

typedef struct t_sent {
	il_addr local, remote;
	size_t len;
	uint8_t data[1500];      /* a DTLS flight fills up to its MTU (1200) */
} t_sent;

typedef struct t_ctx {
	il_sbc_session *s;
	il_sbc_config cfg;
	il_sbc_leg_config leg[2];
	uint64_t now;
	uint64_t rng;
	t_sent sent[T_MAX_SENT];
	size_t sent_count;
	il_sbc_event events[T_MAX_EVENTS];
	char connected_line[512];
	size_t event_count;
	char offer_out[4096], answer_out[4096];
	char ufrag_b[IL_ICE_UFRAG_MAX + 1], pwd_b[IL_ICE_PWD_MAX + 1];
} t_ctx;

static inline il_addr a4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	il_addr x;
	il_addr_set_ipv4(&x, (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d, port);
	return x;
}

static inline void t_random(void *user, uint8_t *out, size_t len)
{
	t_ctx *t = user;
	for (size_t i = 0; i < len; i++) {
		t->rng ^= t->rng << 13;
		t->rng ^= t->rng >> 7;
		t->rng ^= t->rng << 17;
		out[i] = (uint8_t)(t->rng >> 24);
	}
}

static inline void t_send(void *user, const il_addr *local, const il_addr *remote,
			  const uint8_t *data, size_t len)
{
	t_ctx *t = user;
	assert_true(t->sent_count < T_MAX_SENT);
	t_sent *p = &t->sent[t->sent_count++];
	p->local = *local;
	p->remote = *remote;
	p->len = len < sizeof p->data ? len : sizeof p->data;
	memcpy(p->data, data, p->len);
}

static inline void t_event(void *user, const il_sbc_event *ev)
{
	t_ctx *t = user;
	if (t->event_count == T_MAX_EVENTS)
		return;
	t->events[t->event_count] = *ev;
	if (ev->type == IL_SBC_EV_MEDIA_CONNECTED && ev->text) {
		snprintf(t->connected_line, sizeof t->connected_line, "%s", ev->text);
		t->events[t->event_count].text = t->connected_line;
	}
	t->event_count++;
}

static inline size_t t_count_events(const t_ctx *t, int type)
{
	size_t n = 0;
	for (size_t i = 0; i < t->event_count; i++)
		n += t->events[i].type == type;
	return n;
}

static inline const il_sbc_event *t_last_event(const t_ctx *t, int type)
{
	for (size_t i = t->event_count; i-- > 0;)
		if (t->events[i].type == type)
			return &t->events[i];
	return NULL;
}

/* The bridge's binds: leg A RTP 10.0.0.5:40000 (RTCP 40001), leg B
 * 10.0.0.5:40002 (RTCP 40003); advertised 203.0.113.10. */
static inline void t_config(t_ctx *t)
{
	memset(t, 0, sizeof *t);
	t->rng = 0x9E3779B97F4A7C15ull;
	t->now = 1000;
	il_sbc_config_defaults(&t->cfg);
	t->cfg.advertised = a4(203, 0, 113, 10, 0);
	t->leg[0].bind = a4(10, 0, 0, 5, 40000);
	t->leg[0].ice = false;
	t->leg[1].bind = a4(10, 0, 0, 5, 40002);
	t->leg[1].ice = true;
	t->leg[1].rtcp_mux = true;
}

static inline void t_new(t_ctx *t)
{
	il_sbc_callbacks cb = {.user = t, .random = t_random, .send = t_send, .event = t_event};
	int err = 99;
	t->s = il_sbc_session_new(&t->cfg, &t->leg[0], &t->leg[1], &cb, t->now, &err);
	assert_non_null(t->s);
	assert_int_equal(err, IL_SBC_OK);
}

/* Offer from the phone (A), answer from the ICE agent (B). */
static inline void t_negotiate(t_ctx *t)
{
	il_sdp_error err;
	int n = il_sbc_session_offer(t->s, IL_SBC_LEG_A, PHONE_OFFER, strlen(PHONE_OFFER),
				     t->offer_out, sizeof t->offer_out, t->now, &err);
	if (n < 0)
		print_error("offer: %d %s\n", n, err.message);
	assert_true(n > 0);
	il_sdp_session *sdp = malloc(sizeof *sdp);
	assert_non_null(sdp);
	assert_int_equal(il_sdp_parse(t->offer_out, (size_t)n, sdp, &err), IL_SDP_OK);
	assert_non_null(il_sdp_media_ufrag(sdp, &sdp->media[0]));
	snprintf(t->ufrag_b, sizeof t->ufrag_b, "%s", il_sdp_media_ufrag(sdp, &sdp->media[0]));
	snprintf(t->pwd_b, sizeof t->pwd_b, "%s", il_sdp_media_pwd(sdp, &sdp->media[0]));
	free(sdp);
	n = il_sbc_session_answer(t->s, IL_SBC_LEG_B, WEB_ANSWER, strlen(WEB_ANSWER),
				  t->answer_out, sizeof t->answer_out, t->now, &err);
	if (n < 0)
		print_error("answer: %d %s\n", n, err.message);
	assert_true(n > 0);
	assert_int_equal(il_sbc_session_state(t->s), IL_SBC_STATE_ANSWERED);
}

static inline void t_free(t_ctx *t)
{
	il_sbc_session_free(t->s);
	t->s = NULL;
}

static inline size_t make_rtp(uint8_t *buf, uint8_t pt, uint16_t seq, uint32_t ssrc)
{
	memset(buf, 0, 172);
	buf[0] = 0x80;
	buf[1] = pt;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[4] = 0, buf[5] = 0, buf[6] = (uint8_t)(seq >> 8), buf[7] = (uint8_t)seq; /* timestamp */
	buf[8] = (uint8_t)(ssrc >> 24);
	buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8);
	buf[11] = (uint8_t)ssrc;
	return 172; /* 20 ms of G.711 */
}

/* An empty receiver report from ssrc. */
static inline size_t make_rtcp(uint8_t *buf, uint32_t ssrc)
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

static inline int t_rx(t_ctx *t, const il_addr *local, const il_addr *remote, const uint8_t *d,
		       size_t len)
{
	return il_sbc_session_handle_datagram(t->s, local, remote, d, len, t->now);
}

static inline int t_rtp(t_ctx *t, unsigned leg, const il_addr *from, uint8_t pt, uint16_t seq,
			uint32_t ssrc)
{
	uint8_t buf[172];
	size_t n = make_rtp(buf, pt, seq, ssrc);
	return t_rx(t, &t->leg[leg].bind, from, buf, n);
}

/* A Binding request as a full ICE agent sends it to leg B. */
static inline size_t build_check(uint8_t *buf, size_t cap, const char *username, const char *pwd,
				 bool use_candidate, uint8_t tid_byte)
{
	uint8_t tid[IL_STUN_TID_LEN];
	memset(tid, tid_byte, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, cap, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	il_stun_add_string(&b, IL_ATTR_USERNAME, username, strlen(username));
	il_stun_add_u32(&b, IL_ATTR_PRIORITY, 1853824767u);
	il_stun_add_u64(&b, IL_ATTR_ICE_CONTROLLING, 42);
	if (use_candidate)
		il_stun_add_empty(&b, IL_ATTR_USE_CANDIDATE);
	il_stun_key k;
	assert_int_equal(il_stun_key_short_term(&k, pwd), IL_STUN_OK);
	il_stun_add_message_integrity(&b, &k);
	il_stun_add_fingerprint(&b);
	size_t n = il_stun_builder_finish(&b, NULL);
	assert_true(n > 0);
	return n;
}

/* A valid check from `from` to leg B; returns what the session did. */
static inline int t_check(t_ctx *t, const il_addr *from, bool use_candidate)
{
	char user[600];
	snprintf(user, sizeof user, "%s:%s", t->ufrag_b, WEB_UFRAG);
	uint8_t buf[512];
	size_t n = build_check(buf, sizeof buf, user, t->pwd_b, use_candidate, 7);
	return t_rx(t, &t->leg[1].bind, from, buf, n);
}

static inline const t_sent *t_last_sent(const t_ctx *t)
{
	return t->sent_count ? &t->sent[t->sent_count - 1] : NULL;
}

static inline il_sbc_leg_stats t_leg(const t_ctx *t, unsigned leg)
{
	il_sbc_leg_stats st;
	assert_int_equal(il_sbc_session_get_leg(t->s, leg, &st), IL_SBC_OK);
	return st;
}

#endif
