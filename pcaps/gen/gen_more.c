/* Captures added after the first corpus (pcaps/README.md, "Captures"):
 *   sip_tls.pcap          SIP over TLS on TCP 5061 (crafted TLS 1.2 records:
 *                         handshake, then application data both ways) and
 *                         RTP both ways with no visible signalling;
 *   srtp_call.pcap        a SIP call with SDES keys (RFC 4568 a=crypto) and
 *                         SRTP both ways, protected with libsrtp2: no finding
 *                         (one packet duplicated: a replay, counted only);
 *   srtp_wrong_key.pcap   the same call where the caller protects its media
 *                         with a key other than the one its offer names:
 *                         every caller packet fails authentication;
 *   sip_ice_call.pcap     a SIP call with ICE in its SDP (RFC 8839): the caller
 *                         offers host and server-reflexive candidates, the
 *                         callee a relayed one only; checks, nomination and
 *                         media on srflx -> relay (replay --sim reads it);
 *   sip_two_calls.pcap    two calls over the same signalling 5-tuple: the
 *                         first clean, the second one-way (analyze --call
 *                         keeps one of them).
 * Deterministic: the keys are fixed bytes, libsrtp2's AES-CM and HMAC-SHA1
 * have no random input. */
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "gen.h"

/* ---- TLS (RFC 5246 §6.2: type, version, length, fragment) */

static size_t tls_record(uint8_t *p, uint8_t type, uint8_t hs_type, size_t body)
{
	p[0] = type;
	put16(p + 1, type == 22 && hs_type == 1 ? 0x0301 : 0x0303);
	put16(p + 3, (uint16_t)body);
	memset(p + 5, 0x2b, body);
	if (type == 22)
		p[5] = hs_type;
	return 5 + body;
}

static void sip_tls(void)
{
	gen g;
	gen_open(&g, dir_, "sip_tls.pcap", DLT_EN10MB, false);
	il_addr c = A("192.0.2.10:52100"), s = A("198.51.100.20:5061");
	il_addr cm = A("192.0.2.10:4000"), em = A("198.51.100.20:5000");
	uint8_t rec[1200];
	tcp(&g, T0, &c, &s, 0, 0x02, NULL, 0);
	tcp(&g, T0 + MS, &s, &c, 0, 0x12, NULL, 0);
	tcp(&g, T0 + 2 * MS, &c, &s, 0, 0x10, NULL, 0);
	uint64_t hello = tcp(&g, T0 + 3 * MS, &c, &s, 0, 0x18, rec, tls_record(rec, 22, 1, 200));
	/* ServerHello, Certificate, ServerHelloDone in one segment */
	size_t n = tls_record(rec, 22, 2, 80);
	n += tls_record(rec + n, 22, 11, 900);
	n += tls_record(rec + n, 22, 14, 4);
	tcp(&g, T0 + 10 * MS, &s, &c, 0, 0x18, rec, n);
	n = tls_record(rec, 22, 16, 70);
	n += tls_record(rec + n, 20, 1, 1);
	n += tls_record(rec + n, 22, 0, 40);
	tcp(&g, T0 + 20 * MS, &c, &s, 0, 0x18, rec, n);
	n = tls_record(rec, 20, 1, 1);
	n += tls_record(rec + n, 22, 0, 40);
	tcp(&g, T0 + 30 * MS, &s, &c, 0, 0x18, rec, n);
	/* INVITE, 100, 200, ACK as application data; a record split over two
	 * segments */
	tcp(&g, T0 + 40 * MS, &c, &s, 0, 0x18, rec, tls_record(rec, 23, 0, 900));
	tcp(&g, T0 + 45 * MS, &s, &c, 0, 0x18, rec, tls_record(rec, 23, 0, 400));
	n = tls_record(rec, 23, 0, 1000);
	tcp(&g, T0 + 500 * MS, &s, &c, 0, 0x18, rec, 600);
	tcp(&g, T0 + 501 * MS, &s, &c, 0, 0x18, rec + 600, n - 600);
	tcp(&g, T0 + 510 * MS, &c, &s, 0, 0x18, rec, tls_record(rec, 23, 0, 420));
	rtp_run(&g, T0 + 600 * MS, 3 * S, &cm, &em, 0x1111000c, NULL, NULL);
	rtp_run(&g, T0 + 603 * MS, 3 * S, &em, &cm, 0x2222000c, NULL, NULL);
	tcp(&g, T0 + 3700 * MS, &c, &s, 0, 0x18, rec, tls_record(rec, 23, 0, 430));
	tcp(&g, T0 + 3710 * MS, &s, &c, 0, 0x18, rec, tls_record(rec, 23, 0, 380));
	expect(&g, "sip-tls", "info", 1, hello);
	gen_close(&g);
}

/* ---- SRTP (RFC 3711) with SDES keys (RFC 4568) */

static void base64(const uint8_t *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = t[(v >> 18) & 63];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

static void fill_key(uint8_t key[30], uint8_t seed)
{
	for (int i = 0; i < 30; i++)
		key[i] = (uint8_t)(seed + 7 * i);
}

static const char *srtp_sdp(char *buf, size_t cap, const char *addr, int port, const uint8_t key[30])
{
	char b64[48];
	base64(key, 30, b64);
	snprintf(buf, cap,
		 "v=0\r\no=- 2002 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %d RTP/SAVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^31\r\na=sendrecv\r\n",
		 addr, addr, port, b64);
	return buf;
}

static srtp_t srtp_sender(const uint8_t key[30])
{
	srtp_policy_t pol;
	memset(&pol, 0, sizeof pol);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	pol.ssrc.type = ssrc_any_outbound;
	pol.key = (unsigned char *)key;
	pol.window_size = 128;
	srtp_t s = NULL;
	if (srtp_create(&s, &pol) != srtp_err_status_ok) {
		fprintf(stderr, "gen: srtp_create failed\n");
		exit(2);
	}
	return s;
}

/* SRTP every 20 ms over [t0, t0 + dur); first and last frames. A packet
 * sent twice (dup_at, the index of the packet) is a replay to the
 * receiver's window. */
static void srtp_run(gen *g, srtp_t s, uint64_t t0, uint64_t dur, const il_addr *from,
		     const il_addr *to, uint32_t ssrc, int dup_at, uint64_t *first, uint64_t *last)
{
	uint16_t seq = (uint16_t)(ssrc & 0xffff);
	int i = 0;
	for (uint64_t t = 0; t < dur; t += 20 * MS, i++) {
		uint8_t p[172 + SRTP_MAX_TRAILER_LEN];
		memset(p, 0xd5, 172);
		p[0] = 0x80;
		p[1] = 8;
		put16(p + 2, seq++);
		put32(p + 4, (uint32_t)(t / 125));
		put32(p + 8, ssrc);
		int len = 172;
		if (srtp_protect(s, p, &len) != srtp_err_status_ok) {
			fprintf(stderr, "gen: srtp_protect failed\n");
			exit(2);
		}
		uint64_t f = udp(g, t0 + t, from, to, p, (size_t)len, 0);
		if (i == dup_at)
			udp(g, t0 + t + 2 * MS, from, to, p, (size_t)len, 0);
		if (first && !*first)
			*first = f;
		if (last)
			*last = f;
	}
}

static void srtp_call(const char *name, bool wrong_key)
{
	gen g;
	gen_open(&g, dir_, name, DLT_EN10MB, false);
	il_addr cs = A("192.0.2.10:5060"), es = A("198.51.100.20:5060");
	il_addr cm = A("192.0.2.10:4000"), em = A("198.51.100.20:5000");
	uint8_t ckey[30], ekey[30], used[30];
	fill_key(ckey, 0x11);
	fill_key(ekey, 0x53);
	fill_key(used, wrong_key ? 0x99 : 0x11);
	char o[768], an[768];
	const char *id = wrong_key ? "srtp-2@192.0.2.10" : "srtp-1@192.0.2.10";
	call_setup(&g, T0, &cs, &es, id, srtp_sdp(o, sizeof o, "192.0.2.10", 4000, ckey),
		   srtp_sdp(an, sizeof an, "198.51.100.20", 5000, ekey));
	srtp_t sc = srtp_sender(used), se = srtp_sender(ekey);
	uint64_t first = 0, last = 0;
	srtp_run(&g, sc, T0 + 600 * MS, 3 * S, &cm, &em, 0x11110007, wrong_key ? -1 : 40, &first,
		 &last);
	srtp_run(&g, se, T0 + 603 * MS, 3 * S, &em, &cm, 0x22220007, -1, NULL, NULL);
	srtp_dealloc(sc);
	srtp_dealloc(se);
	call_bye(&g, T0 + 3700 * MS, &cs, &es, id);
	if (wrong_key)
		expect(&g, "srtp-auth-failed", "error", 2, first, last);
	gen_close(&g);
}

/* ---- ICE in SDP (RFC 8839) */

/* ice-pwd is 22 characters at least (RFC 8839 §5.4); the checks are
 * signed with the corpus' ICE key all the same (the analyser does not
 * verify MESSAGE-INTEGRITY: it has no passwords). */
static const char *ice_sdp(char *buf, size_t cap, const char *conn, int port, const char *ufrag,
			   const char *candidates)
{
	snprintf(buf, cap,
		 "v=0\r\no=- 3003 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ice-ufrag:%s\r\n"
		 "a=ice-pwd:icelabIcePasswordOfTheSdp0\r\n%sa=sendrecv\r\n",
		 conn, conn, port, ufrag, candidates);
	return buf;
}

static void sip_ice_call(void)
{
	gen g;
	gen_open(&g, dir_, "sip_ice_call.pcap", DLT_EN10MB, false);
	il_addr cs = A("192.0.2.10:5060"), es = A("198.51.100.20:5060");
	il_addr srflx = A("192.0.2.10:40000"), relay = A("203.0.113.50:49152");
	char o[1024], an[1024];
	const char *id = "ice-1@192.0.2.10";
	call_setup(&g, T0, &cs, &es, id,
		   ice_sdp(o, sizeof o, "192.0.2.10", 40000, "aaaa",
			   "a=candidate:1 1 UDP 2130706431 10.0.0.5 40000 typ host\r\n"
			   "a=candidate:2 1 UDP 1694498815 192.0.2.10 40000 typ srflx raddr "
			   "10.0.0.5 rport 40000\r\n"),
		   ice_sdp(an, sizeof an, "203.0.113.50", 49152, "bbbb",
			   "a=candidate:3 1 UDP 16777215 203.0.113.50 49152 typ relay raddr "
			   "198.51.100.20 rport 50000\r\n"));
	ice_connect(&g, T0 + 520 * MS, &srflx, &relay);
	uint64_t last[2];
	media(&g, T0 + 600 * MS, &srflx, &relay, 3 * S, 3 * S, last);
	call_bye(&g, T0 + 3700 * MS, &cs, &es, id);
	gen_close(&g);
}

static void sip_two_calls(void)
{
	gen g;
	gen_open(&g, dir_, "sip_two_calls.pcap", DLT_EN10MB, false);
	il_addr cs = A("192.0.2.10:5060"), es = A("198.51.100.20:5060");
	il_addr c1 = A("192.0.2.10:4000"), e1 = A("198.51.100.20:5000");
	il_addr c2 = A("192.0.2.10:4002"), e2 = A("198.51.100.20:5002");
	char o[512], an[512];
	call_setup(&g, T0, &cs, &es, "two-1@192.0.2.10",
		   sdp_body(o, sizeof o, "192.0.2.10", "192.0.2.10", 4000, "sendrecv"),
		   sdp_body(an, sizeof an, "198.51.100.20", "198.51.100.20", 5000, "sendrecv"));
	call_setup(&g, T0 + 100 * MS, &cs, &es, "two-2@192.0.2.10",
		   sdp_body(o, sizeof o, "192.0.2.10", "192.0.2.10", 4002, "sendrecv"),
		   sdp_body(an, sizeof an, "198.51.100.20", "198.51.100.20", 5002, "sendrecv"));
	rtp_run(&g, T0 + 700 * MS, 4 * S, &c1, &e1, 0x1111000d, NULL, NULL);
	rtp_run(&g, T0 + 703 * MS, 4 * S, &e1, &c1, 0x2222000d, NULL, NULL);
	/* the second call: only the caller sends; the callee is silent */
	uint64_t first = 0, last = 0;
	rtp_run(&g, T0 + 710 * MS, 4 * S, &c2, &e2, 0x3333000d, &first, &last);
	call_bye(&g, T0 + 4800 * MS, &cs, &es, "two-1@192.0.2.10");
	call_bye(&g, T0 + 4900 * MS, &cs, &es, "two-2@192.0.2.10");
	expect(&g, "media-one-way", "error", 1, first);
	gen_close(&g);
}

void gen_more_captures(void)
{
	if (srtp_init() != srtp_err_status_ok) {
		fprintf(stderr, "gen: srtp_init failed\n");
		exit(2);
	}
	sip_tls();
	srtp_call("srtp_call.pcap", false);
	srtp_call("srtp_wrong_key.pcap", true);
	srtp_shutdown();
	sip_ice_call();
	sip_two_calls();
}
