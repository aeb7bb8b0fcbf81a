/* Writes the benchmark capture of `make bench-pcap` (issue #7 §7): many
 * SIP calls (INVITE with an SDP offer, 200 with the answer, ACK, BYE and
 * its 200, over UDP), each with G.711 RTP both ways every 20 ms, calls
 * staggered so a few hundred are up at once: RTP-heavy, like a media
 * server's capture. Streaming (packets are written in time order as they
 * are made), deterministic, our own bytes (documentation addresses,
 * RFC 5737).
 *
 * usage: gen_bench OUT.pcap SIZE_MB [CALL_SECONDS] */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#define US_PER_S 1000000ull
#define TICK_US 20000ull           /* one RTP packet per direction and call */
#define STAGGER_US 50000ull        /* a new call every 50 ms */
#define T0 (1700000000ull * US_PER_S)
#define RTP_PAYLOAD 160            /* PCMA, 20 ms */
#define FRAME_RTP (14 + 20 + 8 + 12 + RTP_PAYLOAD)

typedef struct bench_out {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	uint64_t frames, bytes;
	uint16_t ip_id;
} bench_out;

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

/* Ethernet + IPv4 + UDP around payload (no UDP checksum: allowed over
 * IPv4), written at ts. */
static void emit_udp(bench_out *o, uint64_t ts, uint32_t src, uint16_t sport, uint32_t dst,
		     uint16_t dport, const uint8_t *payload, size_t len)
{
	static uint8_t f[2048];
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	memcpy(f, macs, 12);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(28 + len));
	put16(ip + 4, o->ip_id++);
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, (uint16_t)~sum);
	uint8_t *u = ip + 20;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	memcpy(u + 8, payload, len);
	size_t total = 14 + 28 + len;
	struct pcap_pkthdr h = {{(time_t)(ts / US_PER_S), (suseconds_t)(ts % US_PER_S)},
				(bpf_u_int32)total, (bpf_u_int32)total};
	pcap_dump((u_char *)o->dumper, &h, f);
	o->frames++;
	o->bytes += 16 + total;
}

/* Call i: caller 192.0.2.x, callee 198.51.100.x, media ports by i. */
typedef struct bench_call {
	uint32_t caller, callee;
	uint16_t caller_port, callee_port;
	uint64_t start, end;
	uint16_t seq[2];
} bench_call;

static void call_of(bench_call *c, uint64_t i, uint64_t call_us)
{
	c->caller = 0xC0000200u | (uint32_t)(1 + i % 250);  /* 192.0.2.1-250 */
	c->callee = 0xC6336400u | (uint32_t)(1 + i % 250);  /* 198.51.100.1-250 */
	c->caller_port = (uint16_t)(10000 + 2 * (i / 250 % 10000));
	c->callee_port = (uint16_t)(30000 + 2 * (i / 250 % 10000));
	c->start = T0 + i * STAGGER_US;
	c->end = c->start + call_us;
	c->seq[0] = (uint16_t)(i * 7);
	c->seq[1] = (uint16_t)(i * 13);
}

static void ip_text(uint32_t ip, char *out, size_t cap)
{
	snprintf(out, cap, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void sip(bench_out *o, uint64_t ts, const bench_call *c, uint64_t id, bool from_caller,
		const char *first_line, unsigned cseq, const char *method, bool to_tag,
		uint16_t sdp_port)
{
	char a[16], b[16], sdp[512] = "", msg[2048];
	ip_text(c->caller, a, sizeof a);
	ip_text(c->callee, b, sizeof b);
	const char *me = from_caller ? a : b;
	if (sdp_port)
		snprintf(sdp, sizeof sdp,
			 "v=0\r\no=- %llu 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
			 "m=audio %u RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n",
			 (unsigned long long)id, me, me, sdp_port);
	char tag[32] = "";
	if (to_tag)
		snprintf(tag, sizeof tag, ";tag=b%llu", (unsigned long long)id);
	int n = snprintf(msg, sizeof msg,
			 "%s\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK%llu%s\r\n"
			 "From: <sip:a%llu@example.com>;tag=a%llu\r\nTo: <sip:b%llu@example.com>%s\r\n"
			 "Call-ID: bench-%llu@example.com\r\nCSeq: %u %s\r\nMax-Forwards: 70\r\n%s"
			 "Content-Length: %zu\r\n\r\n%s",
			 first_line, a, (unsigned long long)id, method, (unsigned long long)id,
			 (unsigned long long)id, (unsigned long long)id, tag, (unsigned long long)id,
			 cseq, method, sdp_port ? "Content-Type: application/sdp\r\n" : "",
			 strlen(sdp), sdp);
	if (from_caller)
		emit_udp(o, ts, c->caller, 5060, c->callee, 5060, (const uint8_t *)msg, (size_t)n);
	else
		emit_udp(o, ts, c->callee, 5060, c->caller, 5060, (const uint8_t *)msg, (size_t)n);
}

static void rtp(bench_out *o, uint64_t ts, bench_call *c, uint64_t id, int dir)
{
	uint8_t p[12 + RTP_PAYLOAD];
	memset(p + 12, 0xd5, RTP_PAYLOAD);
	p[0] = 0x80;
	p[1] = 8;
	uint16_t seq = c->seq[dir]++;
	put16(p + 2, seq);
	put32(p + 4, (uint32_t)((ts - c->start) / 125));
	put32(p + 8, (uint32_t)(0x10000000u + id * 2 + (uint64_t)dir));
	if (dir == 0)
		emit_udp(o, ts, c->caller, c->caller_port, c->callee, c->callee_port, p, sizeof p);
	else
		emit_udp(o, ts, c->callee, c->callee_port, c->caller, c->caller_port, p, sizeof p);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: gen_bench OUT.pcap SIZE_MB [CALL_SECONDS]\n");
		return 2;
	}
	uint64_t size = strtoull(argv[2], NULL, 10) * 1000000ull;
	uint64_t call_us = (argc == 4 ? strtoull(argv[3], NULL, 10) : 30) * US_PER_S;
	if (!size || call_us < US_PER_S) {
		fprintf(stderr, "gen_bench: SIZE_MB and CALL_SECONDS must be positive\n");
		return 2;
	}
	/* RTP frames (16-byte record header each) fill the size: calls needed */
	uint64_t per_call = 2 * (call_us / TICK_US) * (16 + FRAME_RTP);
	uint64_t ncalls = (size + per_call - 1) / per_call;
	bench_out o = {0};
	o.dead = pcap_open_dead(DLT_EN10MB, 65535);
	o.dumper = pcap_dump_open(o.dead, argv[1]);
	if (!o.dumper) {
		fprintf(stderr, "gen_bench: %s\n", pcap_geterr(o.dead));
		return 2;
	}
	bench_call *calls = calloc(ncalls, sizeof *calls);
	if (!calls)
		return 2;
	for (uint64_t i = 0; i < ncalls; i++)
		call_of(&calls[i], i, call_us);
	/* Ticks of 20 ms; within a tick, packets 1 us apart in call order: the
	 * file is in time order. Calls [lo, hi) are up. */
	uint64_t lo = 0, hi = 0, end = calls[ncalls - 1].end + TICK_US;
	for (uint64_t t = T0; t < end; t += TICK_US) {
		uint64_t ts = t;
		while (hi < ncalls && calls[hi].start <= t) {
			bench_call *c = &calls[hi];
			sip(&o, ts++, c, hi, true, "INVITE sip:b@example.com SIP/2.0", 1, "INVITE", false,
			    c->caller_port);
			sip(&o, ts++, c, hi, false, "SIP/2.0 200 OK", 1, "INVITE", true, c->callee_port);
			sip(&o, ts++, c, hi, true, "ACK sip:b@example.com SIP/2.0", 1, "ACK", true, 0);
			hi++;
		}
		for (uint64_t i = lo; i < hi; i++) {
			bench_call *c = &calls[i];
			if (t >= c->end)
				continue;
			rtp(&o, ts++, c, i, 0);
			rtp(&o, ts++, c, i, 1);
		}
		while (lo < hi && calls[lo].end <= t) {
			sip(&o, ts++, &calls[lo], lo, true, "BYE sip:b@example.com SIP/2.0", 2, "BYE", true,
			    0);
			sip(&o, ts++, &calls[lo], lo, false, "SIP/2.0 200 OK", 2, "BYE", true, 0);
			lo++;
		}
	}
	pcap_dump_close(o.dumper);
	pcap_close(o.dead);
	free(calls);
	printf("gen_bench: %s: %llu calls, %llu frames, %llu bytes\n", argv[1],
	       (unsigned long long)ncalls, (unsigned long long)o.frames,
	       (unsigned long long)(o.bytes + 24));
	return 0;
}
