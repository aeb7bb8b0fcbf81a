/* Unit tests of the capture analyser: the hash table, RTP sequence
 * accounting (RFC 3550 A.1: loss, duplicates, reordering, wrap), jitter
 * (A.8), link layers, IPv4/IPv6 fragment reassembly and its bounds, TCP
 * reassembly of STUN across and within segments, and TURN unwrapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/channeldata.h"
#include "icelab/stun.h"
#include "pcaps.h"
#include "pcaps_internal.h"
#include "replay.h"
#include "icelab/stun_integrity.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* An IPv4 packet (raw link type) with a UDP or TCP payload. */
static size_t ipv4(uint8_t *out, uint8_t proto, uint16_t id, uint16_t frag, const uint8_t *l4,
		   size_t len)
{
	memset(out, 0, 20);
	out[0] = 0x45;
	put16(out + 2, (uint16_t)(20 + len));
	put16(out + 4, id);
	put16(out + 6, frag);
	out[8] = 64;
	out[9] = proto;
	const uint8_t src[4] = {192, 0, 2, 1}, dst[4] = {198, 51, 100, 2};
	memcpy(out + 12, src, 4);
	memcpy(out + 16, dst, 4);
	memcpy(out + 20, l4, len);
	return 20 + len;
}

static size_t udp_l4(uint8_t *out, const uint8_t *data, size_t len)
{
	put16(out, 4000);
	put16(out + 2, 5000);
	put16(out + 4, (uint16_t)(8 + len));
	put16(out + 6, 0);
	memcpy(out + 8, data, len);
	return 8 + len;
}

static size_t rtp_pkt(uint8_t *out, uint16_t seq, uint32_t ts)
{
	memset(out, 0xd5, 172);
	out[0] = 0x80;
	out[1] = 0; /* PCMU, 8000 Hz */
	put16(out + 2, seq);
	put32(out + 4, ts);
	put32(out + 8, 0xabcdef01);
	return 172;
}

static void feed_udp(il_pcap_analysis *a, uint64_t ts, const uint8_t *data, size_t len)
{
	static uint8_t l4[2048], pkt[2100];
	size_t n = udp_l4(l4, data, len);
	n = ipv4(pkt, 17, 1, 0, l4, n);
	il_pcap_feed_frame(a, DLT_RAW, ts, pkt, n);
}

static pa_rtp_stream *only_stream(il_pcap_analysis *a)
{
	assert_int_equal(a->rtp_streams.count, 1);
	for (size_t i = 0; i < a->rtp_streams.cap; i++)
		if (a->rtp_streams.slots[i])
			return a->rtp_streams.slots[i];
	return NULL;
}

static void test_table_insert_find_remove_many(void **state)
{
	(void)state;
	pa_table t;
	pa_table_init(&t, 4);
	for (uint32_t i = 0; i < 5000; i++) {
		bool created;
		uint32_t *e = pa_table_get(&t, &i, 8, &created);
		assert_non_null(e);
		assert_true(created);
		e[1] = i * 3;
	}
	for (uint32_t i = 0; i < 5000; i += 2)
		pa_table_remove(&t, &i);
	assert_int_equal(t.count, 2500);
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t *e = pa_table_find(&t, &i);
		if (i % 2)
			assert_true(e && e[1] == i * 3);
		else
			assert_null(e);
	}
	pa_table_free(&t);
}

static void test_rtp_counts_loss_duplicate_reorder(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	uint8_t p[200];
	/* 1 2 4 4 6 5 7: 3 lost, one duplicate (4), one reordered (5) */
	const uint16_t seqs[] = {1, 2, 4, 4, 6, 5, 7};
	for (size_t i = 0; i < 7; i++)
		feed_udp(a, 1000000 + i * 20000, p, rtp_pkt(p, seqs[i], seqs[i] * 160u));
	pa_rtp_stream *s = only_stream(a);
	assert_int_equal(s->packets, 7);
	assert_int_equal(pa_rtp_expected(s), 7);
	assert_int_equal(pa_rtp_lost(s), 0); /* RFC 3550: duplicates offset losses */
	assert_int_equal(s->duplicates, 1);
	assert_int_equal(s->reordered, 1);
	assert_int_equal(s->bytes, 7 * 160);
	il_pcap_analysis_free(a);
}

static void test_rtp_sequence_wrap_counts_cycles(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	uint8_t p[200];
	uint16_t seq = 65530;
	for (int i = 0; i < 20; i++, seq++) {
		if (i == 10)
			continue; /* seq 4 lost, after the wrap */
		feed_udp(a, 1000000 + (uint64_t)i * 20000, p, rtp_pkt(p, seq, (uint32_t)i * 160));
	}
	pa_rtp_stream *s = only_stream(a);
	assert_int_equal(s->cycles, 65536);
	assert_int_equal(pa_rtp_expected(s), 20);
	assert_int_equal(pa_rtp_lost(s), 1);
	il_pcap_analysis_free(a);
}

/* RFC 3550 A.8: a packet 10 ms late after steady 20 ms spacing adds
 * 80 timestamp units / 16 to J. */
static void test_rtp_jitter_follows_rfc3550(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	uint8_t p[200];
	for (int i = 0; i < 5; i++)
		feed_udp(a, 1000000 + (uint64_t)i * 20000, p, rtp_pkt(p, (uint16_t)i, (uint32_t)i * 160));
	feed_udp(a, 1000000 + 5 * 20000 + 10000, p, rtp_pkt(p, 5, 5 * 160));
	pa_rtp_stream *s = only_stream(a);
	assert_true(s->jitter > 4.99 && s->jitter < 5.01);
	il_pcap_analysis_free(a);
}

static void test_ipv4_fragments_reassembled_out_of_order(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	uint8_t data[1500], l4[1600], pkt[1700];
	memset(data, 0, sizeof data);
	size_t n = udp_l4(l4, data, rtp_pkt(data, 7, 0)); /* 180 bytes */
	/* fragments of 96 and 84 bytes, last one first */
	size_t m = ipv4(pkt, 17, 9, 96 / 8, l4 + 96, n - 96);
	il_pcap_feed_frame(a, DLT_RAW, 1000, pkt, m);
	assert_int_equal(a->reassembled, 0);
	m = ipv4(pkt, 17, 9, 0x2000, l4, 96);
	il_pcap_feed_frame(a, DLT_RAW, 2000, pkt, m);
	assert_int_equal(a->reassembled, 1);
	assert_int_equal(a->kinds[KIND_RTP], 1);
	/* a fragment reaching past 65535 bytes is dropped, not written */
	m = ipv4(pkt, 17, 10, 0x2000 | 8190, l4, 96);
	il_pcap_feed_frame(a, DLT_RAW, 3000, pkt, m);
	assert_int_equal(a->fragments_dropped, 1);
	il_pcap_analysis_free(a);
}

static void test_link_types_reach_ip(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	uint8_t data[200], l4[300], ip[400], frame[500];
	size_t n = udp_l4(l4, data, rtp_pkt(data, 1, 0));
	n = ipv4(ip, 17, 1, 0, l4, n);
	/* Ethernet with two VLAN tags */
	memset(frame, 0, 12);
	put16(frame + 12, 0x88a8);
	put16(frame + 16, 0x8100);
	put16(frame + 20, 0x0800);
	memcpy(frame + 22, ip, n);
	il_pcap_feed_frame(a, DLT_EN10MB, 1, frame, 22 + n);
	/* Linux cooked v1 and v2 */
	memset(frame, 0, 20);
	put16(frame + 14, 0x0800);
	memcpy(frame + 16, ip, n);
	il_pcap_feed_frame(a, DLT_LINUX_SLL, 2, frame, 16 + n);
	memset(frame, 0, 20);
	put16(frame, 0x0800);
	memcpy(frame + 20, ip, n);
	il_pcap_feed_frame(a, DLT_LINUX_SLL2, 3, frame, 20 + n);
	/* BSD null, both byte orders of AF_INET */
	uint32_t af = 2;
	memcpy(frame, &af, 4);
	memcpy(frame + 4, ip, n);
	il_pcap_feed_frame(a, DLT_NULL, 4, frame, 4 + n);
	put32(frame, 2);
	il_pcap_feed_frame(a, DLT_LOOP, 5, frame, 4 + n);
	assert_int_equal(a->ipv4, 5);
	assert_int_equal(a->kinds[KIND_RTP], 5);
	/* truncated link headers are counted, not read */
	il_pcap_feed_frame(a, DLT_EN10MB, 6, frame, 10);
	il_pcap_feed_frame(a, DLT_LINUX_SLL2, 7, frame, 19);
	assert_int_equal(a->truncated, 2);
	il_pcap_analysis_free(a);
}

static size_t tcp_seg(uint8_t *out, uint32_t seq, uint8_t flags, const uint8_t *data, size_t len)
{
	uint8_t l4[4096];
	memset(l4, 0, 20);
	put16(l4, 4000);
	put16(l4 + 2, 3478);
	put32(l4 + 4, seq);
	l4[12] = 5 << 4;
	l4[13] = flags;
	if (len)
		memcpy(l4 + 20, data, len);
	return ipv4(out, 6, 1, 0, l4, 20 + len);
}

static size_t binding(uint8_t *out, uint8_t id)
{
	uint8_t tid[12] = {id};
	il_stun_builder b;
	il_stun_builder_init(&b, out, 512, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	il_stun_add_string(&b, IL_ATTR_SOFTWARE, "icelab test", 11);
	return il_stun_builder_finish(&b, NULL);
}

/* RFC 8489 §6.2.2: messages back to back on a stream, cut anywhere. */
static void test_tcp_reassembles_stun_across_and_within_segments(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	uint8_t stream[2048], pkt[4200];
	size_t n = 0;
	for (uint8_t i = 1; i <= 3; i++)
		n += binding(stream + n, i);
	n += il_channeldata_encode(stream + n, sizeof stream - n, 0x4000, (const uint8_t *)"abc", 3,
				   true);
	uint32_t seq = 100;
	il_pcap_feed_frame(a, DLT_RAW, 1, pkt, tcp_seg(pkt, seq - 1, 0x02, NULL, 0));
	/* cut at 7 and 50 bytes: the first message spans two segments, the
	 * third segment carries the rest */
	size_t cuts[] = {0, 7, 50, n};
	for (int i = 0; i < 3; i++) {
		size_t len = cuts[i + 1] - cuts[i];
		il_pcap_feed_frame(a, DLT_RAW, (uint64_t)i + 2, pkt,
				   tcp_seg(pkt, seq + (uint32_t)cuts[i], 0x18, stream + cuts[i], len));
	}
	/* a retransmission of the middle segment changes nothing */
	il_pcap_feed_frame(a, DLT_RAW, 9, pkt, tcp_seg(pkt, seq + 7, 0x18, stream + 7, 43));
	assert_int_equal(a->stun_counts[IL_STUN_BINDING][IL_STUN_REQUEST], 3);
	assert_int_equal(a->kinds[KIND_CHANNELDATA], 1);
	assert_int_equal(a->tcp_retransmitted, 1);
	assert_int_equal(a->tcp_gaps, 0);
	il_pcap_analysis_free(a);
}

/* A Send indication's DATA is analysed as relayed address -> peer. */
static void test_send_indication_unwrapped_as_relayed_flow(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	uint8_t msg[512], data[200];
	uint8_t tid[12] = {42};
	il_addr peer;
	il_addr_parse("203.0.113.9:6000", &peer);
	il_stun_builder b;
	il_stun_builder_init(&b, msg, sizeof msg, IL_STUN_SEND, IL_STUN_INDICATION, tid);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, &peer);
	il_stun_add_raw(&b, IL_ATTR_DATA, data, rtp_pkt(data, 1, 0));
	size_t n = il_stun_builder_finish(&b, NULL);
	feed_udp(a, 1, msg, n);
	assert_int_equal(a->stun_counts[IL_STUN_SEND][IL_STUN_INDICATION], 1);
	assert_int_equal(a->relayed_kinds[KIND_RTP], 1);
	pa_rtp_stream *s = only_stream(a);
	assert_true(s->relayed);
	assert_true(il_addr_equal(&s->dst, &peer));
	il_pcap_analysis_free(a);
}

/* ---- SIP, SDP, RTCP, ICMP */

static pa_pkt test_pkt(uint64_t frame, const char *src, const char *dst)
{
	pa_pkt p;
	memset(&p, 0, sizeof p);
	p.frame = frame;
	p.ts_us = frame * US_PER_S;
	p.transport = 17;
	assert_int_equal(il_addr_parse(src, &p.src), 0);
	assert_int_equal(il_addr_parse(dst, &p.dst), 0);
	return p;
}

static void test_sip_detect_and_stream_framing(void **state)
{
	(void)state;
	static const char inv[] = "INVITE sip:b@x SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\n"
				  "l: 5\r\n\r\nhelloINVITE";
	assert_true(pa_sip_detect((const uint8_t *)inv, strlen(inv)));
	assert_true(pa_sip_detect((const uint8_t *)"SIP/2.0 200 OK\r\n", 16));
	assert_false(pa_sip_detect((const uint8_t *)"INVITE sip:b@x HTTP/1.1\r\n", 25));
	assert_false(pa_sip_detect((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
	/* compact Content-Length (l:), body of 5: the next message is not read */
	long n = pa_sip_frame_length((const uint8_t *)inv, strlen(inv), 65536);
	assert_int_equal(n, (long)strlen(inv) - 6);
	assert_int_equal(pa_sip_frame_length((const uint8_t *)inv, 30, 65536), 0);  /* more bytes */
	assert_int_equal(pa_sip_frame_length((const uint8_t *)inv, 30, 20), -1);    /* too big */
}

static size_t sip_msg(char *out, const char *first, const char *from_tag, unsigned cseq,
		      const char *method, const char *sdp)
{
	return (size_t)sprintf(out, "%s\r\nFrom: <sip:a@x>;tag=%s\r\nTo: <sip:b@x>\r\n"
				    "Call-ID: call-1\r\nCSeq: %u %s\r\n%sContent-Length: %zu\r\n\r\n%s",
			       first, from_tag, cseq, method,
			       sdp ? "Content-Type: application/sdp\r\n" : "", sdp ? strlen(sdp) : 0,
			       sdp ? sdp : "");
}

static void test_sip_offer_answer_sides_and_latching(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	char m[2048];
	static const char offer[] = "v=0\r\no=- 1 1 IN IP4 192.168.1.10\r\ns=-\r\n"
				    "c=IN IP4 192.168.1.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	static const char answer[] = "v=0\r\no=- 2 1 IN IP4 198.51.100.2\r\ns=-\r\n"
				     "c=IN IP4 198.51.100.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
				     "a=recvonly\r\n";
	pa_pkt p = test_pkt(1, "203.0.113.5:5060", "198.51.100.2:5060");
	size_t n = sip_msg(m, "INVITE sip:b@x SIP/2.0", "t1", 1, "INVITE", offer);
	assert_int_equal(pa_sip_message(a, &p, (const uint8_t *)m, n), 0);
	p = test_pkt(2, "198.51.100.2:5060", "203.0.113.5:5060");
	n = sip_msg(m, "SIP/2.0 200 OK", "t1", 1, "INVITE", answer);
	assert_int_equal(pa_sip_message(a, &p, (const uint8_t *)m, n), 0);
	assert_int_equal(a->calls.count, 1);
	size_t count;
	pa_call **calls = pa_calls_sorted(a, &count);
	pa_call *c = calls[0];
	free(calls);
	assert_int_equal(c->sdp_count, 2);
	assert_true(c->sdps[0].offer);
	assert_int_equal(c->sdps[0].side, 0);
	assert_false(c->sdps[1].offer);
	assert_int_equal(c->sdps[1].side, 1);
	assert_int_equal(c->final_code, 200);
	assert_int_equal(c->sides[0][1].direction, SDP_RECVONLY);
	/* RTP from the NAT to the callee, and the callee answering to it */
	uint8_t rtp[40] = {0x80, 0};
	for (uint64_t f = 3; f < 6; f++) {
		p = test_pkt(f, "203.0.113.5:61000", "198.51.100.2:5000");
		pa_classify_datagram(a, &p, rtp, sizeof rtp);
	}
	assert_int_equal(c->sides[0][1].rx, 3);
	assert_int_equal(c->sides[0][1].source_count, 1);
	a->last_us = 6 * US_PER_S;
	il_pcap_finish(a);
	bool private_sdp = false, mismatch = false;
	for (size_t i = 0; i < a->finding_count; i++) {
		private_sdp |= strcmp(a->findings[i].code, "sdp-private-address") == 0;
		mismatch |= strcmp(a->findings[i].code, "media-source-mismatch") == 0 &&
			    a->findings[i].severity == IL_PCAP_WARNING;
	}
	assert_true(private_sdp);
	assert_true(mismatch);
	il_pcap_analysis_free(a);
}

static void test_rtcp_reports_and_overruns(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	pa_pkt p = test_pkt(1, "192.0.2.1:4001", "198.51.100.2:5001");
	uint8_t rr[32] = {0x81, 201, 0, 7};
	put32(rr + 4, 0xaaaa0001);
	put32(rr + 8, 0xbbbb0002);
	rr[12] = 64;                      /* a quarter lost */
	rr[13] = 0xff, rr[14] = 0xff, rr[15] = 0xfe; /* cumulative -2 (duplicates) */
	assert_int_equal(pa_rtcp_packet(a, &p, rr, sizeof rr), 1);
	assert_int_equal(a->rtcp_rr, 1);
	struct {
		uint32_t reporter, source;
	} key = {0xaaaa0001, 0xbbbb0002};
	pa_rtcp_report *r = pa_table_find(&a->rtcp_reports, &key);
	assert_non_null(r);
	assert_int_equal(r->fraction_lost, 64);
	assert_int_equal(r->cumulative_lost, -2);
	/* a report count beyond the length, a BYE reason beyond the packet */
	rr[0] = 0x82;
	assert_int_equal(pa_rtcp_packet(a, &p, rr, sizeof rr), 1);
	assert_int_equal(a->rtcp_malformed, 1);
	uint8_t bye[8] = {0x81, 203, 0, 1, 0, 0, 0, 1};
	uint8_t bye_reason[12] = {0x81, 203, 0, 2, 0, 0, 0, 1, 200, 'x', 'y', 0};
	assert_int_equal(pa_rtcp_packet(a, &p, bye, sizeof bye), 1);
	assert_int_equal(pa_rtcp_packet(a, &p, bye_reason, sizeof bye_reason), 1);
	assert_int_equal(a->rtcp_bye, 1);
	assert_int_equal(a->rtcp_malformed, 2);
	il_pcap_analysis_free(a);
}

static void test_icmp_unreachable_matches_quoted_flow(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	pa_pkt p = test_pkt(1, "192.0.2.1:4000", "198.51.100.2:5000");
	uint8_t rtp[40] = {0x80, 8};
	pa_classify_datagram(a, &p, rtp, sizeof rtp);
	uint8_t icmp[8 + 20 + 8] = {3, 3};
	uint8_t *q = icmp + 8;
	q[0] = 0x45;
	q[9] = 17;
	memcpy(q + 12, p.src.ip, 4);
	memcpy(q + 16, p.dst.ip, 4);
	put16(q + 20, 4000);
	put16(q + 22, 5000);
	pa_pkt ip = test_pkt(2, "198.51.100.2:0", "192.0.2.1:0");
	pa_icmp_packet(a, &ip, false, icmp, sizeof icmp);
	pa_flow *f = pa_flow_find(a, 17, false, &p.src, &p.dst);
	assert_non_null(f);
	assert_int_equal(f->icmp_unreachable, 1);
	assert_int_equal(f->icmp_first_frame, 2);
	put16(q + 22, 5002); /* a flow never seen */
	pa_icmp_packet(a, &ip, false, icmp, sizeof icmp);
	assert_int_equal(a->icmp_unmatched, 1);
	il_pcap_analysis_free(a);
}

/* ---- replay (replay.c): the shape compared, and the rewritten request */

static size_t build_alloc_success(uint8_t *buf, size_t cap, bool software, bool lifetime,
				  bool extra)
{
	static const uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	il_stun_builder b;
	il_addr relayed;
	il_addr_parse("203.0.113.10:50000", &relayed);
	il_stun_builder_init(&b, buf, cap, IL_STUN_ALLOCATE, IL_STUN_SUCCESS, tid);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_RELAYED_ADDRESS, &relayed);
	if (lifetime)
		il_stun_add_u32(&b, IL_ATTR_LIFETIME, 600);
	if (extra) {
		il_stun_add_u32(&b, IL_ATTR_LIFETIME, 600);
		il_stun_add_addr(&b, IL_ATTR_RESPONSE_ORIGIN, &relayed);
	}
	if (software)
		il_stun_add_string(&b, IL_ATTR_SOFTWARE, "x", 1);
	il_stun_add_fingerprint(&b);
	return il_stun_builder_finish(&b, NULL);
}

static void test_replay_shape_ignores_software_and_names_missing(void **state)
{
	(void)state;
	uint8_t a[256], b[256], c[256], d[256];
	il_stun_msg ma, mb, mc, md;
	il_replay_shape sa, sb, sc, sd;
	assert_int_equal(il_stun_decode(a, build_alloc_success(a, sizeof a, false, true, false), &ma, NULL), IL_STUN_OK);
	assert_int_equal(il_stun_decode(b, build_alloc_success(b, sizeof b, true, true, false), &mb, NULL), IL_STUN_OK);
	assert_int_equal(il_stun_decode(c, build_alloc_success(c, sizeof c, false, false, false), &mc, NULL), IL_STUN_OK);
	assert_int_equal(il_stun_decode(d, build_alloc_success(d, sizeof d, false, true, true), &md, NULL), IL_STUN_OK);
	il_replay_shape_of(&ma, &sa);
	il_replay_shape_of(&mb, &sb);
	il_replay_shape_of(&mc, &sc);
	il_replay_shape_of(&md, &sd);
	char note[256];
	/* SOFTWARE and FINGERPRINT are not part of the shape */
	assert_true(il_replay_shape_match(&sa, &sb, true, note, sizeof note));
	assert_string_equal(note, "");
	/* a missing attribute is a difference */
	assert_false(il_replay_shape_match(&sa, &sc, false, note, sizeof note));
	assert_string_equal(note, "missing LIFETIME");
	/* an added one only with strict; duplicates count once */
	assert_true(il_replay_shape_match(&sa, &sd, false, note, sizeof note));
	assert_string_equal(note, "extra RESPONSE-ORIGIN");
	assert_false(il_replay_shape_match(&sa, &sd, true, note, sizeof note));
	sb.code = 401;
	assert_false(il_replay_shape_match(&sa, &sb, false, note, sizeof note));
}

static void test_replay_rewrite_new_tid_peer_and_integrity(void **state)
{
	(void)state;
	static const uint8_t tid[12] = {0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0, 0, 0, 7};
	static const uint8_t tid2[12] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
	il_addr peer, to;
	il_addr_parse("198.51.100.99:5000", &peer);
	il_addr_parse("127.0.0.1:5000", &to);
	il_stun_key old_key, key;
	il_stun_key_long_term(&old_key, IL_STUN_PWALG_MD5, "bob", "old.realm", "pw");
	il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "alice", "example.org", "secret");
	uint8_t buf[512], out[512];
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_CREATEPERMISSION, IL_STUN_REQUEST, tid);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, &peer);
	il_stun_add_string(&b, IL_ATTR_USERNAME, "bob", 3);
	il_stun_add_string(&b, IL_ATTR_REALM, "old.realm", 9);
	il_stun_add_string(&b, IL_ATTR_NONCE, "n1", 2);
	il_stun_add_message_integrity(&b, &old_key);
	il_stun_add_fingerprint(&b);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_stun_msg m, r;
	assert_int_equal(il_stun_decode(buf, len, &m, NULL), IL_STUN_OK);
	il_replay_auth auth = {"alice", "example.org", "fresh-nonce", &key};
	size_t n = il_replay_rewrite(&m, tid2, &peer, &to, 1, &auth, out, sizeof out);
	assert_true(n > 0);
	assert_int_equal(il_stun_decode(out, n, &r, NULL), IL_STUN_OK);
	assert_memory_equal(r.tid, tid2, 12);
	assert_int_equal(r.method, IL_STUN_CREATEPERMISSION);
	il_addr got;
	assert_int_equal(il_stun_attr_get_addr(&r, il_stun_msg_find(&r, IL_ATTR_XOR_PEER_ADDRESS), &got), IL_STUN_OK);
	assert_true(il_addr_equal(&got, &to));
	const char *text;
	size_t tl;
	assert_int_equal(il_stun_attr_get_string(&r, il_stun_msg_find(&r, IL_ATTR_NONCE), &text, &tl), IL_STUN_OK);
	assert_int_equal(tl, 11);
	assert_memory_equal(text, "fresh-nonce", 11);
	assert_int_equal(il_stun_check_integrity(&r, &key), IL_STUN_VERDICT_OK);
	assert_int_equal(il_stun_check_fingerprint(&r), IL_STUN_VERDICT_OK);
	/* without a key: no credentials at all */
	il_replay_auth none = {"alice", "", "", NULL};
	n = il_replay_rewrite(&m, tid2, NULL, NULL, 0, &none, out, sizeof out);
	assert_int_equal(il_stun_decode(out, n, &r, NULL), IL_STUN_OK);
	assert_null(il_stun_msg_find(&r, IL_ATTR_USERNAME));
	assert_int_equal(r.mi_index, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_insert_find_remove_many),
		cmocka_unit_test(test_rtp_counts_loss_duplicate_reorder),
		cmocka_unit_test(test_rtp_sequence_wrap_counts_cycles),
		cmocka_unit_test(test_rtp_jitter_follows_rfc3550),
		cmocka_unit_test(test_ipv4_fragments_reassembled_out_of_order),
		cmocka_unit_test(test_link_types_reach_ip),
		cmocka_unit_test(test_tcp_reassembles_stun_across_and_within_segments),
		cmocka_unit_test(test_send_indication_unwrapped_as_relayed_flow),
		cmocka_unit_test(test_sip_detect_and_stream_framing),
		cmocka_unit_test(test_sip_offer_answer_sides_and_latching),
		cmocka_unit_test(test_rtcp_reports_and_overruns),
		cmocka_unit_test(test_icmp_unreachable_matches_quoted_flow),
		cmocka_unit_test(test_replay_shape_ignores_software_and_names_missing),
		cmocka_unit_test(test_replay_rewrite_new_tid_peer_and_integrity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
