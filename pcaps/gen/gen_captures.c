/* Writes the captures of pcaps/captures/: one or more per diagnosis, each
 * with NAME.expected (the findings `icelab pcap analyze` must report, with
 * the frames the generator knows prove them). Everything is synthesised
 * here with our own STUN codec and written with libpcap's pcap_dump (and a
 * minimal pcapng writer for one file), so the corpus is ours and
 * reproducible byte for byte. Addresses are from the documentation ranges
 * (RFC 5737, RFC 3849), which the analyser treats as public.
 *
 * usage: gen_captures DIR */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "icelab/addr.h"
#include "icelab/channeldata.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"
#include "gen.h"




il_addr A(const char *text)
{
	il_addr a;
	if (il_addr_parse(text, &a) != 0) {
		fprintf(stderr, "gen: bad address %s\n", text);
		exit(2);
	}
	return a;
}

/* ---- files */

void gen_open(gen *g, const char *dir, const char *name, int dlt, bool pcapng)
{
	memset(g, 0, sizeof *g);
	g->dir = dir;
	g->dlt = dlt;
	g->ip_id = 100;
	snprintf(g->name, sizeof g->name, "%s/%s", dir, name);
	if (pcapng) {
		g->pcapng = fopen(g->name, "wb");
		if (!g->pcapng)
			exit(2);
		/* Section Header Block and one Interface Description Block. */
		uint32_t shb[7] = {0x0A0D0D0A, 28, 0x1A2B3C4D, 0x00000001, 0xffffffff, 0xffffffff, 28};
		fwrite(shb, 4, 7, g->pcapng);
		uint32_t idb[5] = {1, 20, (uint32_t)dlt /* LINKTYPE_ equals DLT_ for the types used here */, 65535, 20};
		fwrite(idb, 4, 5, g->pcapng);
	} else {
		g->dead = pcap_open_dead(dlt, 65535);
		g->dumper = pcap_dump_open(g->dead, g->name);
		if (!g->dumper) {
			fprintf(stderr, "gen: %s\n", pcap_geterr(g->dead));
			exit(2);
		}
	}
	char path[300];
	snprintf(path, sizeof path, "%s.expected", g->name);
	char *dot = strrchr(path, '.');
	(void)dot;
	/* NAME.pcap -> NAME.expected */
	snprintf(path, sizeof path, "%s/%.*s.expected", dir, (int)(strchr(name, '.') - name), name);
	g->expected = fopen(path, "w");
	fprintf(g->expected, "# %s: findings `icelab pcap analyze` must report; written by "
			     "pcaps/gen/gen_captures.c.\n# code severity frames (evidence that must "
			     "be listed)\n", name);
}

void expect(gen *g, const char *code, const char *severity, int n, ...)
{
	struct expectation *e = &g->exps[g->nexp++];
	e->code = code;
	e->severity = severity;
	e->n = n;
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n && i < 8; i++)
		e->ids[i] = va_arg(ap, uint64_t);
	va_end(ap);
}

static int by_time(const void *x, const void *y)
{
	const struct frame *a = x, *b = y;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static void write_frame_now(gen *g, uint64_t ts, const uint8_t *p, size_t len)
{
	if (g->dumper) {
		struct pcap_pkthdr h = {{(time_t)(ts / S), (suseconds_t)(ts % S)}, (bpf_u_int32)len,
					(bpf_u_int32)len};
		pcap_dump((u_char *)g->dumper, &h, p);
		return;
	}
	/* Enhanced Packet Block, microsecond timestamps (if_tsresol default). */
	uint32_t padded = (uint32_t)((len + 3) & ~(size_t)3);
	uint32_t total = 32 + padded;
	uint32_t hdr[7] = {6, total, 0, (uint32_t)(ts >> 32), (uint32_t)ts, (uint32_t)len,
			   (uint32_t)len};
	fwrite(hdr, 4, 7, g->pcapng);
	fwrite(p, 1, len, g->pcapng);
	static const uint8_t zero[4];
	fwrite(zero, 1, padded - len, g->pcapng);
	fwrite(&total, 4, 1, g->pcapng);
}

void gen_close(gen *g)
{
	qsort(g->frames, g->nframes, sizeof *g->frames, by_time);
	uint64_t *number = calloc(g->nframes + 1, sizeof *number);
	for (size_t i = 0; i < g->nframes; i++) {
		number[g->frames[i].id] = i + 1;
		write_frame_now(g, g->frames[i].ts, g->frames[i].data, g->frames[i].len);
		free(g->frames[i].data);
	}
	free(g->frames);
	for (int k = 0; k < g->nexp; k++) {
		const struct expectation *e = &g->exps[k];
		fprintf(g->expected, "%s %s", e->code, e->severity);
		for (int i = 0; i < e->n; i++)
			fprintf(g->expected, "%s%llu", i ? "," : " ",
				(unsigned long long)number[e->ids[i]]);
		fputc('\n', g->expected);
	}
	free(number);
	if (g->dumper) {
		pcap_dump_close(g->dumper);
		pcap_close(g->dead);
	}
	if (g->pcapng)
		fclose(g->pcapng);
	fclose(g->expected);
}

/* Queues a frame; its id is g->frame after the call. */
static void write_frame(gen *g, uint64_t ts, const uint8_t *p, size_t len)
{
	if (g->nframes == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 256;
		g->frames = realloc(g->frames, g->cap * sizeof *g->frames);
		if (!g->frames)
			exit(2);
	}
	struct frame *f = &g->frames[g->nframes++];
	f->ts = ts;
	f->id = ++g->frame;
	f->len = len;
	f->data = malloc(len);
	if (!f->data)
		exit(2);
	memcpy(f->data, p, len);
}

/* ---- link and IP layers */

void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static size_t link_header(gen *g, uint8_t *p, bool v6)
{
	uint16_t type = v6 ? 0x86DD : 0x0800;
	switch (g->dlt) {
	case DLT_EN10MB: {
		static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
		memcpy(p, macs, 12);
		if (!v6 && g->frame % 2) { /* 802.1Q on every other IPv4 frame */
			put16(p + 12, 0x8100);
			put16(p + 14, 42);
			put16(p + 16, type);
			return 18;
		}
		put16(p + 12, type);
		return 14;
	}
	case DLT_LINUX_SLL:
		memset(p, 0, 16);
		put16(p + 2, 1);
		put16(p + 4, 6);
		put16(p + 14, type);
		return 16;
	case DLT_LINUX_SLL2:
		memset(p, 0, 20);
		put16(p, type);
		put32(p + 4, 2);
		put16(p + 8, 1);
		p[11] = 6;
		return 20;
	case DLT_NULL: {
		uint32_t af = v6 ? 24 : 2; /* host order, as the capturing machine wrote it */
		memcpy(p, &af, 4);
		return 4;
	}
	default:
		return 0; /* DLT_RAW */
	}
}

/* One IP datagram carrying an upper-layer payload; split into fragments
 * of at most mtu payload bytes when mtu is not 0. */
static void emit_ip(gen *g, uint64_t ts, const il_addr *src, const il_addr *dst, uint8_t proto,
		    const uint8_t *l4, size_t l4len, size_t mtu)
{
	static uint8_t pkt[70000];
	bool v6 = src->family == IL_AF_INET6;
	uint16_t id = g->ip_id++;
	size_t off = 0;
	do {
		size_t chunk = l4len - off;
		bool more = false;
		if (mtu && chunk > mtu) {
			chunk = mtu & ~(size_t)7;
			more = true;
		}
		bool fragmented = mtu && (more || off);
		size_t h = link_header(g, pkt, v6);
		uint8_t *ip = pkt + h;
		size_t iph;
		if (!v6) {
			iph = 20;
			memset(ip, 0, 20);
			ip[0] = 0x45;
			put16(ip + 2, (uint16_t)(20 + chunk));
			put16(ip + 4, id);
			put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
			ip[8] = 64;
			ip[9] = proto;
			memcpy(ip + 12, src->ip, 4);
			memcpy(ip + 16, dst->ip, 4);
			/* header checksum (RFC 791) */
			uint32_t sum = 0;
			for (int i = 0; i < 20; i += 2)
				sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			put16(ip + 10, (uint16_t)~sum);
		} else {
			iph = fragmented ? 48 : 40;
			memset(ip, 0, iph);
			ip[0] = 0x60;
			put16(ip + 4, (uint16_t)(iph - 40 + chunk));
			ip[6] = fragmented ? 44 : proto;
			ip[7] = 64;
			memcpy(ip + 8, src->ip, 16);
			memcpy(ip + 24, dst->ip, 16);
			if (fragmented) {
				ip[40] = proto;
				put16(ip + 42, (uint16_t)(off | (more ? 1 : 0)));
				put32(ip + 44, 0x1000u + id);
			}
		}
		memcpy(ip + iph, l4 + off, chunk);
		write_frame(g, ts, pkt, h + iph + chunk);
		off += chunk;
	} while (off < l4len);
}

uint64_t udp(gen *g, uint64_t ts, const il_addr *src, const il_addr *dst,
		    const uint8_t *data, size_t len, size_t mtu)
{
	static uint8_t l4[70000];
	put16(l4, src->port);
	put16(l4 + 2, dst->port);
	put16(l4 + 4, (uint16_t)(8 + len));
	put16(l4 + 6, 0); /* no checksum: allowed for IPv4; tshark does not check by default */
	memcpy(l4 + 8, data, len);
	emit_ip(g, ts, src, dst, 17, l4, 8 + len, mtu);
	return g->frame;
}

/* A TCP segment on connection slot conn (sequence numbers kept per
 * direction: slot*2 + dir). */
uint64_t tcp(gen *g, uint64_t ts, const il_addr *src, const il_addr *dst, int slot,
		    uint8_t flags, const uint8_t *data, size_t len)
{
	static uint8_t l4[70000];
	int dir = src->port < dst->port;
	uint32_t *seq = &g->tcp_seq[slot * 2 + dir];
	if (flags & 0x02)
		*seq = 1000u * (uint32_t)(slot + 1) + (uint32_t)dir * 500000u;
	memset(l4, 0, 20);
	put16(l4, src->port);
	put16(l4 + 2, dst->port);
	put32(l4 + 4, *seq);
	put32(l4 + 8, g->tcp_seq[slot * 2 + !dir]);
	l4[12] = 5 << 4;
	l4[13] = flags | (flags & 0x02 ? 0 : 0x10);
	put16(l4 + 14, 65535);
	if (len)
		memcpy(l4 + 20, data, len);
	*seq += (uint32_t)len + (flags & 0x02 ? 1 : 0);
	emit_ip(g, ts, src, dst, 6, l4, 20 + len, 0);
	return g->frame;
}

/* ---- STUN */



void tid_next(gen *g, uint8_t tid[12])
{
	memset(tid, 0x5a, 12);
	put32(tid + 8, ++g->tid_counter);
}

il_stun_key ice_key, turn_key;

void finish(il_stun_builder *b, msg *m, const il_stun_key *key)
{
	if (key)
		il_stun_add_message_integrity(b, key);
	il_stun_add_fingerprint(b);
	enum il_stun_err err;
	m->len = il_stun_builder_finish(b, &err);
	if (!m->len) {
		fprintf(stderr, "gen: build: %s\n", il_stun_err_name(err));
		exit(2);
	}
}

/* An ICE check (RFC 8445 §7.2.2). */
void ice_check(gen *g, msg *m, const char *user, bool controlling, bool use_candidate)
{
	il_stun_builder b;
	tid_next(g, m->tid);
	il_stun_builder_init(&b, m->buf, sizeof m->buf, IL_STUN_BINDING, IL_STUN_REQUEST, m->tid);
	il_stun_add_string(&b, IL_ATTR_USERNAME, user, strlen(user));
	il_stun_add_u32(&b, IL_ATTR_PRIORITY, 1853824767u);
	il_stun_add_u64(&b, controlling ? IL_ATTR_ICE_CONTROLLING : IL_ATTR_ICE_CONTROLLED,
			0x0102030405060708ull);
	if (use_candidate)
		il_stun_add_empty(&b, IL_ATTR_USE_CANDIDATE);
	finish(&b, m, &ice_key);
}

void response(msg *out, const msg *req, uint16_t method, int code,
		     const il_addr *mapped, const il_stun_key *key)
{
	il_stun_builder b;
	memcpy(out->tid, req->tid, 12);
	il_stun_builder_init(&b, out->buf, sizeof out->buf, method,
			     code ? IL_STUN_ERROR : IL_STUN_SUCCESS, req->tid);
	if (code)
		il_stun_add_error_code(&b, code, il_stun_error_reason(code));
	if (mapped)
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, mapped);
	finish(&b, out, code == 401 ? NULL : key);
}

/* Request, then (unless code < 0) its response; returns the response frame. */
uint64_t ice_exchange(gen *g, uint64_t ts, const il_addr *from, const il_addr *to,
			     const char *user, bool controlling, bool use_candidate, int code,
			     uint64_t *req_frame)
{
	msg req, resp;
	ice_check(g, &req, user, controlling, use_candidate);
	uint64_t f = udp(g, ts, from, to, req.buf, req.len, 0);
	if (req_frame)
		*req_frame = f;
	if (code < 0)
		return 0;
	response(&resp, &req, IL_STUN_BINDING, code, from, &ice_key);
	return udp(g, ts + 15 * MS, to, from, resp.buf, resp.len, 0);
}

/* Both sides check and nominate (the controlling side with USE-CANDIDATE). */
void ice_connect(gen *g, uint64_t ts, const il_addr *a, const il_addr *b)
{
	ice_exchange(g, ts, a, b, "bbbb:aaaa", true, false, 0, NULL);
	ice_exchange(g, ts + 20 * MS, b, a, "aaaa:bbbb", false, false, 0, NULL);
	ice_exchange(g, ts + 40 * MS, a, b, "bbbb:aaaa", true, true, 0, NULL);
}

/* ---- RTP (RFC 3550) and DTLS records (RFC 6347) */

uint64_t rtp(gen *g, uint64_t ts, const il_addr *from, const il_addr *to, uint32_t ssrc,
		    uint16_t seq, uint32_t rtp_ts)
{
	uint8_t p[172];
	memset(p, 0xd5, sizeof p);
	p[0] = 0x80;
	p[1] = 8; /* PCMA */
	put16(p + 2, seq);
	put32(p + 4, rtp_ts);
	put32(p + 8, ssrc);
	return udp(g, ts, from, to, p, sizeof p, 0);
}

static size_t dtls_record(uint8_t *p, uint8_t type, uint16_t epoch, uint64_t seq,
			  uint8_t hs_type, size_t body)
{
	p[0] = type;
	put16(p + 1, 0xfefd);
	put16(p + 3, epoch);
	put16(p + 5, (uint16_t)(seq >> 32));
	put32(p + 7, (uint32_t)seq);
	put16(p + 11, (uint16_t)body);
	memset(p + 13, 0x11, body);
	if (type == 22 && epoch == 0)
		p[13] = hs_type;
	return 13 + body;
}

static uint64_t dtls(gen *g, uint64_t ts, const il_addr *from, const il_addr *to, uint8_t type,
		     uint16_t epoch, uint8_t hs_type)
{
	uint8_t p[256];
	size_t n = dtls_record(p, type, epoch, g->frame, hs_type, type == 20 ? 1 : 60);
	return udp(g, ts, from, to, p, n, 0);
}

static void dtls_handshake(gen *g, uint64_t ts, const il_addr *c, const il_addr *s)
{
	dtls(g, ts, c, s, 22, 0, 1);                 /* ClientHello */
	dtls(g, ts + 10 * MS, s, c, 22, 0, 2);       /* ServerHello ... */
	dtls(g, ts + 20 * MS, c, s, 20, 0, 0);       /* ChangeCipherSpec */
	dtls(g, ts + 21 * MS, c, s, 22, 1, 0);       /* Finished (encrypted) */
	dtls(g, ts + 30 * MS, s, c, 20, 0, 0);
	dtls(g, ts + 31 * MS, s, c, 22, 1, 0);
}

/* Media both ways at 20 ms from t0 for the given durations (µs); *last
 * receives the last frame of each direction. */
void media(gen *g, uint64_t t0, const il_addr *a, const il_addr *b, uint64_t a_for,
		  uint64_t b_for, uint64_t last[2])
{
	uint16_t seq[2] = {1000, 50000};
	for (uint64_t t = 0; t < a_for || t < b_for; t += 20 * MS) {
		if (t < a_for) {
			last[0] = rtp(g, t0 + t, a, b, 0x11111111, seq[0], (uint32_t)(t / 125));
			seq[0]++;
		}
		if (t < b_for) {
			last[1] = rtp(g, t0 + t + 3 * MS, b, a, 0x22222222, seq[1],
				      (uint32_t)(t / 125) + 7);
			seq[1]++;
		}
	}
}

/* ---- TURN (RFC 8656) */

static void turn_request(gen *g, msg *m, uint16_t method, const il_addr *peer, uint16_t channel,
			 bool auth, int lifetime)
{
	il_stun_builder b;
	tid_next(g, m->tid);
	il_stun_builder_init(&b, m->buf, sizeof m->buf, method, IL_STUN_REQUEST, m->tid);
	if (method == IL_STUN_ALLOCATE) {
		uint8_t udp17[4] = {17, 0, 0, 0};
		il_stun_add_raw(&b, IL_ATTR_REQUESTED_TRANSPORT, udp17, 4);
	}
	if (channel)
		il_stun_add_channel_number(&b, channel);
	if (peer)
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, peer);
	if (lifetime >= 0)
		il_stun_add_u32(&b, IL_ATTR_LIFETIME, (uint32_t)lifetime);
	if (auth) {
		il_stun_add_string(&b, IL_ATTR_USERNAME, "alice", 5);
		il_stun_add_string(&b, IL_ATTR_REALM, "icelab.test", 11);
		il_stun_add_string(&b, IL_ATTR_NONCE, "obMatJos2AAAAnonce", 18);
	}
	finish(&b, m, auth ? &turn_key : NULL);
}

static uint64_t turn_exchange(gen *g, uint64_t ts, const il_addr *c, const il_addr *s,
			      uint16_t method, const il_addr *peer, uint16_t channel, int code,
			      const il_addr *relayed, uint64_t *req_frame)
{
	msg req, resp;
	turn_request(g, &req, method, peer, channel, code != 401, method == IL_STUN_REFRESH ? 600 : -1);
	uint64_t f = udp(g, ts, c, s, req.buf, req.len, 0);
	if (req_frame)
		*req_frame = f;
	il_stun_builder b;
	il_stun_builder_init(&b, resp.buf, sizeof resp.buf, method,
			     code ? IL_STUN_ERROR : IL_STUN_SUCCESS, req.tid);
	if (code) {
		il_stun_add_error_code(&b, code, il_stun_error_reason(code));
		if (code == 401 || code == 438) {
			il_stun_add_string(&b, IL_ATTR_REALM, "icelab.test", 11);
			il_stun_add_string(&b, IL_ATTR_NONCE, "obMatJos2AAAAnonce", 18);
		}
	} else if (method == IL_STUN_ALLOCATE) {
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_RELAYED_ADDRESS, relayed);
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, c);
		il_stun_add_u32(&b, IL_ATTR_LIFETIME, 600);
	}
	finish(&b, &resp, code == 401 ? NULL : &turn_key);
	return udp(g, ts + 20 * MS, s, c, resp.buf, resp.len, 0);
}

static size_t send_indication(gen *g, uint8_t *out, size_t cap, uint16_t method,
			      const il_addr *peer, const uint8_t *data, size_t len)
{
	il_stun_builder b;
	uint8_t tid[12];
	tid_next(g, tid);
	il_stun_builder_init(&b, out, cap, method, IL_STUN_INDICATION, tid);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, peer);
	il_stun_add_raw(&b, IL_ATTR_DATA, data, len);
	return il_stun_builder_finish(&b, NULL);
}

static size_t rtp_bytes(uint8_t *p, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
	memset(p, 0xd5, 172);
	p[0] = 0x80;
	p[1] = 0;
	put16(p + 2, seq);
	put32(p + 4, ts);
	put32(p + 8, ssrc);
	return 172;
}

/* ---- the captures */

const char *dir_;

static void clean_call(void)
{
	gen g;
	gen_open(&g, dir_, "clean_call.pcap", DLT_EN10MB, false);
	il_addr a = A("192.0.2.10:40000"), b = A("198.51.100.20:50000");
	ice_connect(&g, T0, &a, &b);
	dtls_handshake(&g, T0 + 100 * MS, &a, &b);
	uint64_t last[2];
	media(&g, T0 + 200 * MS, &a, &b, 6 * S, 6 * S, last);
	/* consent refresh (RFC 7675) answered, and a lost, a duplicated and a
	 * reordered packet in a short second stream */
	ice_exchange(&g, T0 + 5 * S, &a, &b, "bbbb:aaaa", true, false, 0, NULL);
	uint16_t seqs[] = {1, 2, 4, 4, 6, 5, 7, 8, 9, 10};
	for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++)
		rtp(&g, T0 + 6300 * MS + i * 20 * MS, &b, &a, 0x33333333, seqs[i], seqs[i] * 160u);
	gen_close(&g);
}

static void one_way_media(void)
{
	gen g;
	gen_open(&g, dir_, "one_way_media.pcap", DLT_EN10MB, false);
	il_addr a = A("192.0.2.10:40000"), b = A("198.51.100.20:50000");
	ice_connect(&g, T0, &a, &b);
	dtls_handshake(&g, T0 + 100 * MS, &a, &b);
	uint64_t last[2];
	media(&g, T0 + 200 * MS, &a, &b, 10 * S, 4 * S, last);
	ice_exchange(&g, T0 + 5 * S, &a, &b, "bbbb:aaaa", true, false, 0, NULL);
	ice_exchange(&g, T0 + 5 * S + 10 * MS, &b, &a, "aaaa:bbbb", false, false, 0, NULL);
	expect(&g, "media-one-way", "error", 2, last[1], last[0]);
	gen_close(&g);
}

static void one_way_silent(void)
{
	gen g;
	gen_open(&g, dir_, "one_way_silent.pcapng", DLT_LINUX_SLL2, true);
	il_addr a = A("[2001:db8::10]:40000"), b = A("[2001:db8:1::20]:50000");
	ice_connect(&g, T0, &a, &b);
	uint64_t last[2] = {0, 0};
	uint64_t first = g.frame + 1;
	media(&g, T0 + 200 * MS, &a, &b, 5 * S, 0, last);
	expect(&g, "media-one-way", "error", 2, first, last[0]);
	gen_close(&g);
}

static void ice_failed(void)
{
	gen g;
	gen_open(&g, dir_, "ice_failed.pcap", DLT_LINUX_SLL, false);
	il_addr a = A("192.0.2.10:40000"), b1 = A("198.51.100.20:50000"),
		b2 = A("198.51.100.21:50002"), b3 = A("203.0.113.5:50004");
	/* pair 1: no response; the same request retransmitted (RFC 8489 §6.2.1) */
	msg req;
	ice_check(&g, &req, "bbbb:aaaa", true, false);
	uint64_t first = 0;
	for (int i = 0; i < 7; i++) {
		uint64_t f = udp(&g, T0 + (uint64_t)(100 << i) * MS, &a, &b1, req.buf, req.len, 0);
		if (!first)
			first = f;
	}
	uint64_t r401 = ice_exchange(&g, T0 + 50 * MS, &a, &b2, "bbbb:aaaa", true, false, 401, NULL);
	uint64_t r487 = ice_exchange(&g, T0 + 70 * MS, &a, &b3, "bbbb:aaaa", true, false, 487, NULL);
	/* frames are numbered in write order: the retransmissions come first */
	expect(&g, "ice-failed", "error", 3, first, r401, r487);
	gen_close(&g);
}

static void consent_lost(void)
{
	gen g;
	gen_open(&g, dir_, "ice_consent_lost.pcap", DLT_EN10MB, false);
	il_addr a = A("192.0.2.10:40000"), b = A("198.51.100.20:50000");
	ice_connect(&g, T0, &a, &b);
	dtls_handshake(&g, T0 + 100 * MS, &a, &b);
	uint64_t last[2];
	/* B vanishes at 10 s: its media and its answers stop; A keeps sending
	 * consent checks every 5 s to 45 s and media to 50 s. */
	media(&g, T0 + 200 * MS, &a, &b, 50 * S, 10 * S, last);
	uint64_t ok = 0, first_lost = 0, last_lost = 0;
	for (int i = 1; i <= 9; i++) {
		uint64_t t = T0 + (uint64_t)i * 5 * S + 100 * MS;
		if (t < T0 + 10 * S) {
			ok = ice_exchange(&g, t, &a, &b, "bbbb:aaaa", true, false, 0, NULL);
			continue;
		}
		uint64_t f;
		ice_exchange(&g, t, &a, &b, "bbbb:aaaa", true, false, -1, &f);
		if (!first_lost)
			first_lost = f;
		last_lost = f;
	}
	expect(&g, "ice-consent-lost", "error", 3, ok, first_lost, last_lost);
	expect(&g, "media-one-way", "error", 1, last[1]);
	gen_close(&g);
}

static void turn_errors(void)
{
	gen g;
	gen_open(&g, dir_, "turn_errors.pcap", DLT_LINUX_SLL2, false);
	il_addr s = A("203.0.113.10:3478"), relay = A("203.0.113.10:50000");
	il_addr c1 = A("192.0.2.11:41001"), c2 = A("192.0.2.12:41002"), c3 = A("192.0.2.13:41003"),
		c4 = A("192.0.2.14:41004"), c5 = A("192.0.2.15:41005");
	il_addr peer = A("198.51.100.99:5000");
	uint64_t t = T0, q, r;
	/* c1: the 401 challenge (no finding), then 486 */
	turn_exchange(&g, t, &c1, &s, IL_STUN_ALLOCATE, NULL, 0, 401, NULL, NULL);
	r = turn_exchange(&g, t + 50 * MS, &c1, &s, IL_STUN_ALLOCATE, NULL, 0, 486, NULL, &q);
	expect(&g, "turn-error-486", "error", 2, q, r);
	/* c2: allocation, 403 on CreatePermission, 437 on Refresh */
	turn_exchange(&g, t + 100 * MS, &c2, &s, IL_STUN_ALLOCATE, NULL, 0, 0, &relay, NULL);
	r = turn_exchange(&g, t + 150 * MS, &c2, &s, IL_STUN_CREATEPERMISSION, &peer, 0, 403, NULL,
			  &q);
	expect(&g, "turn-error-403", "warning", 2, q, r);
	r = turn_exchange(&g, t + 200 * MS, &c2, &s, IL_STUN_REFRESH, NULL, 0, 437, NULL, &q);
	expect(&g, "turn-error-437", "error", 2, q, r);
	/* c3: 438 never retried, 508 on ChannelBind */
	il_addr relay3 = A("203.0.113.10:50002");
	turn_exchange(&g, t + 250 * MS, &c3, &s, IL_STUN_ALLOCATE, NULL, 0, 0, &relay3, NULL);
	r = turn_exchange(&g, t + 300 * MS, &c3, &s, IL_STUN_REFRESH, NULL, 0, 438, NULL, &q);
	expect(&g, "turn-error-438", "warning", 2, q, r);
	r = turn_exchange(&g, t + 350 * MS, &c3, &s, IL_STUN_CHANNELBIND, &peer, 0x4000, 508, NULL,
			  &q);
	expect(&g, "turn-error-508", "error", 2, q, r);
	/* c4: 441; c5: 401 to a request with credentials */
	r = turn_exchange(&g, t + 400 * MS, &c4, &s, IL_STUN_ALLOCATE, NULL, 0, 441, NULL, &q);
	expect(&g, "turn-error-441", "error", 2, q, r);
	{
		msg req, resp;
		turn_request(&g, &req, IL_STUN_ALLOCATE, NULL, 0, true, -1);
		q = udp(&g, t + 450 * MS, &c5, &s, req.buf, req.len, 0);
		response(&resp, &req, IL_STUN_ALLOCATE, 401, NULL, NULL);
		r = udp(&g, t + 470 * MS, &s, &c5, resp.buf, resp.len, 0);
		expect(&g, "turn-error-401", "error", 2, q, r);
	}
	gen_close(&g);
}

static void turn_no_permission(void)
{
	gen g;
	gen_open(&g, dir_, "turn_no_permission.pcap", DLT_EN10MB, false);
	il_addr s = A("203.0.113.10:3478"), relay = A("203.0.113.10:50000");
	il_addr c = A("192.0.2.11:41001"), peer = A("198.51.100.99:5000");
	turn_exchange(&g, T0, &c, &s, IL_STUN_ALLOCATE, NULL, 0, 0, &relay, NULL);
	uint8_t buf[512], data[200];
	uint64_t first = 0, lastf = 0;
	for (int i = 0; i < 5; i++) {
		size_t n = send_indication(&g, buf, sizeof buf, IL_STUN_SEND, &peer, data,
					   rtp_bytes(data, 0x44444444, (uint16_t)i, (uint32_t)i * 160));
		lastf = udp(&g, T0 + S + (uint64_t)i * 20 * MS, &c, &s, buf, n, 0);
		if (!first)
			first = lastf;
	}
	expect(&g, "turn-no-permission", "error", 2, first, lastf);
	first = 0;
	for (int i = 0; i < 3; i++) {
		size_t n = il_channeldata_encode(buf, sizeof buf, 0x4001, data,
						 rtp_bytes(data, 0x55555555, (uint16_t)i, 0), false);
		lastf = udp(&g, T0 + 2 * S + (uint64_t)i * 20 * MS, &c, &s, buf, n, 0);
		if (!first)
			first = lastf;
	}
	expect(&g, "turn-no-permission", "error", 2, first, lastf);
	gen_close(&g);
}

/* TURN over TCP (RFC 8656 §3.1, framing §12.5) with several messages in
 * one segment and messages cut across segments; raw IPv4 link type. */
static void turn_relay_imbalance(void)
{
	gen g;
	gen_open(&g, dir_, "turn_relay_imbalance.pcap", DLT_RAW, false);
	il_addr s = A("203.0.113.10:3478"), relay = A("203.0.113.10:50000");
	il_addr c = A("192.0.2.11:41001"), peer = A("198.51.100.99:5000");
	tcp(&g, T0, &c, &s, 0, 0x02, NULL, 0);
	tcp(&g, T0 + MS, &s, &c, 0, 0x12, NULL, 0);
	msg req, resp;
	/* Allocate, CreatePermission and ChannelBind in one segment */
	uint8_t seg[8192];
	size_t n = 0;
	msg reqs[3];
	turn_request(&g, &reqs[0], IL_STUN_ALLOCATE, NULL, 0, true, -1);
	turn_request(&g, &reqs[1], IL_STUN_CREATEPERMISSION, &peer, 0, true, -1);
	turn_request(&g, &reqs[2], IL_STUN_CHANNELBIND, &peer, 0x4000, true, -1);
	for (int i = 0; i < 3; i++) {
		memcpy(seg + n, reqs[i].buf, reqs[i].len);
		n += reqs[i].len;
	}
	tcp(&g, T0 + 2 * MS, &c, &s, 0, 0x18, seg, n);
	/* the three responses, the second cut in two segments */
	n = 0;
	static const uint16_t methods[3] = {IL_STUN_ALLOCATE, IL_STUN_CREATEPERMISSION,
					    IL_STUN_CHANNELBIND};
	for (int i = 0; i < 3; i++) {
		il_stun_builder b;
		il_stun_builder_init(&b, resp.buf, sizeof resp.buf, methods[i], IL_STUN_SUCCESS,
				     reqs[i].tid);
		if (i == 0) {
			il_stun_add_xor_addr(&b, IL_ATTR_XOR_RELAYED_ADDRESS, &relay);
			il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, &c);
			il_stun_add_u32(&b, IL_ATTR_LIFETIME, 600);
		}
		finish(&b, &resp, &turn_key);
		memcpy(seg + n, resp.buf, resp.len);
		n += resp.len;
	}
	size_t cut = n - 30;
	tcp(&g, T0 + 30 * MS, &s, &c, 0, 0x18, seg, cut);
	tcp(&g, T0 + 31 * MS, &s, &c, 0, 0x18, seg + cut, n - cut);
	(void)req;
	/* 5 s of media from the client on the channel; nothing comes back.
	 * Every other pair of ChannelData messages shares a segment. */
	uint8_t data[200];
	uint64_t first = 0, lastf = 0;
	for (int i = 0; i < 250; i++) {
		size_t dl = rtp_bytes(data, 0x66666666, (uint16_t)(100 + i), (uint32_t)i * 160);
		size_t m = il_channeldata_encode(seg, sizeof seg, 0x4000, data, dl, true);
		if (i % 2 == 0 && i + 1 < 250) {
			dl = rtp_bytes(data, 0x66666666, (uint16_t)(101 + i), (uint32_t)(i + 1) * 160);
			m += il_channeldata_encode(seg + m, sizeof seg - m, 0x4000, data, dl, true);
			i++;
		}
		lastf = tcp(&g, T0 + 100 * MS + (uint64_t)i * 20 * MS, &c, &s, 0, 0x18, seg, m);
		if (!first)
			first = lastf;
	}
	expect(&g, "turn-relay-imbalance", "warning", 1, first);
	expect(&g, "media-one-way", "error", 2, first, lastf);
	gen_close(&g);
}

static void dtls_incomplete(void)
{
	gen g;
	gen_open(&g, dir_, "dtls_incomplete.pcap", DLT_NULL, false);
	il_addr a = A("[2001:db8::10]:40000"), b = A("[2001:db8:1::20]:50000");
	ice_connect(&g, T0, &a, &b);
	/* a big Binding request, fragmented (IPv6 fragment header, RFC 8200 §4.5) */
	{
		msg m;
		il_stun_builder bl;
		tid_next(&g, m.tid);
		il_stun_builder_init(&bl, m.buf, sizeof m.buf, IL_STUN_BINDING, IL_STUN_REQUEST, m.tid);
		static uint8_t pad[2400];
		il_stun_add_raw(&bl, IL_ATTR_PADDING, pad, sizeof pad);
		finish(&bl, &m, NULL);
		udp(&g, T0 + 60 * MS, &a, &b, m.buf, m.len, 1200);
		msg r;
		response(&r, &m, IL_STUN_BINDING, 0, &a, NULL);
		udp(&g, T0 + 70 * MS, &b, &a, r.buf, r.len, 0);
	}
	uint64_t first = 0, lastf = 0;
	for (int i = 0; i < 5; i++) {
		lastf = dtls(&g, T0 + 100 * MS + (uint64_t)(1000 << i) * MS, &a, &b, 22, 0, 1);
		if (!first)
			first = lastf;
	}
	expect(&g, "dtls-incomplete", "error", 2, first, lastf);
	gen_close(&g);
}

/* The security finding, plus an IPv4-fragmented Send indication. */
static void turn_internal_peer(void)
{
	gen g;
	gen_open(&g, dir_, "turn_internal_peer.pcap", DLT_EN10MB, false);
	il_addr s = A("203.0.113.10:3478"), relay = A("203.0.113.10:50000");
	il_addr c = A("192.0.2.11:41001"), loop = A("127.0.0.1:22"), priv = A("10.1.2.3:8080");
	il_addr pub = A("198.51.100.99:5000");
	uint64_t q1, r1, q2, r2;
	turn_exchange(&g, T0, &c, &s, IL_STUN_ALLOCATE, NULL, 0, 0, &relay, NULL);
	r1 = turn_exchange(&g, T0 + 50 * MS, &c, &s, IL_STUN_CREATEPERMISSION, &loop, 0, 0, NULL, &q1);
	r2 = turn_exchange(&g, T0 + 100 * MS, &c, &s, IL_STUN_CHANNELBIND, &priv, 0x4002, 0, NULL,
			   &q2);
	turn_exchange(&g, T0 + 150 * MS, &c, &s, IL_STUN_CREATEPERMISSION, &pub, 0, 0, NULL, NULL);
	uint8_t buf[4096], data[3000];
	memset(data, 'x', sizeof data);
	size_t n = send_indication(&g, buf, sizeof buf, IL_STUN_SEND, &loop, data, sizeof data);
	uint64_t send = udp(&g, T0 + 200 * MS, &c, &s, buf, n, 1400);
	n = send_indication(&g, buf, sizeof buf, IL_STUN_SEND, &pub, data, 100);
	udp(&g, T0 + 250 * MS, &c, &s, buf, n, 0);
	n = send_indication(&g, buf, sizeof buf, IL_STUN_DATA, &pub, data, 100);
	udp(&g, T0 + 260 * MS, &s, &c, buf, n, 0);
	expect(&g, "turn-permission-internal-peer", "error", 3, q1, r1, send);
	expect(&g, "turn-permission-internal-peer", "warning", 2, q2, r2);
	gen_close(&g);
}

/* A clean TURN client session for `icelab pcap replay` (pcaps/tests/
 * replay.sh): a Binding, the Allocate challenged (401) then made,
 * CreatePermission, ChannelBind, a Refresh and the deallocation
 * (Refresh, LIFETIME 0). The responses carry what RFC 8489 and RFC 8656
 * require of a server, no more (no SOFTWARE), so any conforming server's
 * answers hold them. */
static void turn_replay_response(gen *g, uint64_t ts, const il_addr *c, const il_addr *s,
				 const msg *req, uint16_t method, int code, const il_addr *relayed,
				 int lifetime)
{
	msg resp;
	il_stun_builder b;
	il_stun_builder_init(&b, resp.buf, sizeof resp.buf, method,
			     code ? IL_STUN_ERROR : IL_STUN_SUCCESS, req->tid);
	if (code) {
		il_stun_add_error_code(&b, code, il_stun_error_reason(code));
		il_stun_add_string(&b, IL_ATTR_REALM, "icelab.test", 11);
		il_stun_add_string(&b, IL_ATTR_NONCE, "obMatJos2AAAAnonce", 18);
	}
	if (relayed)
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_RELAYED_ADDRESS, relayed);
	if (method == IL_STUN_ALLOCATE && !code)
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, c);
	if (method == IL_STUN_BINDING)
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, c);
	if (lifetime >= 0)
		il_stun_add_u32(&b, IL_ATTR_LIFETIME, (uint32_t)lifetime);
	finish(&b, &resp, code || method == IL_STUN_BINDING ? NULL : &turn_key);
	udp(g, ts, s, c, resp.buf, resp.len, 0);
}

static void turn_replay(void)
{
	gen g;
	gen_open(&g, dir_, "turn_replay.pcap", DLT_EN10MB, false);
	il_addr s = A("203.0.113.10:3478"), relay = A("203.0.113.10:50000");
	il_addr c = A("192.0.2.11:41001"), peer = A("198.51.100.99:5000");
	uint64_t t = T0;
	msg req;
	turn_request(&g, &req, IL_STUN_BINDING, NULL, 0, false, -1);
	udp(&g, t, &c, &s, req.buf, req.len, 0);
	turn_replay_response(&g, t + 10 * MS, &c, &s, &req, IL_STUN_BINDING, 0, NULL, -1);
	turn_request(&g, &req, IL_STUN_ALLOCATE, NULL, 0, false, -1);
	udp(&g, t += 50 * MS, &c, &s, req.buf, req.len, 0);
	turn_replay_response(&g, t + 10 * MS, &c, &s, &req, IL_STUN_ALLOCATE, 401, NULL, -1);
	turn_request(&g, &req, IL_STUN_ALLOCATE, NULL, 0, true, -1);
	udp(&g, t += 50 * MS, &c, &s, req.buf, req.len, 0);
	turn_replay_response(&g, t + 10 * MS, &c, &s, &req, IL_STUN_ALLOCATE, 0, &relay, 600);
	turn_request(&g, &req, IL_STUN_CREATEPERMISSION, &peer, 0, true, -1);
	udp(&g, t += 50 * MS, &c, &s, req.buf, req.len, 0);
	turn_replay_response(&g, t + 10 * MS, &c, &s, &req, IL_STUN_CREATEPERMISSION, 0, NULL, -1);
	turn_request(&g, &req, IL_STUN_CHANNELBIND, &peer, 0x4000, true, -1);
	udp(&g, t += 50 * MS, &c, &s, req.buf, req.len, 0);
	turn_replay_response(&g, t + 10 * MS, &c, &s, &req, IL_STUN_CHANNELBIND, 0, NULL, -1);
	turn_request(&g, &req, IL_STUN_REFRESH, NULL, 0, true, 600);
	udp(&g, t += 50 * MS, &c, &s, req.buf, req.len, 0);
	turn_replay_response(&g, t + 10 * MS, &c, &s, &req, IL_STUN_REFRESH, 0, NULL, 600);
	turn_request(&g, &req, IL_STUN_REFRESH, NULL, 0, true, 0);
	udp(&g, t += 50 * MS, &c, &s, req.buf, req.len, 0);
	turn_replay_response(&g, t + 10 * MS, &c, &s, &req, IL_STUN_REFRESH, 0, NULL, 0);
	gen_close(&g);
}

/* ---- SIP (RFC 3261) with SDP (RFC 8866), RTCP (RFC 3550), ICMP */

/* An SDP body: audio PCMA on port, with the given direction. */
const char *sdp_body(char *buf, size_t cap, const char *origin, const char *conn, int port,
			    const char *direction)
{
	snprintf(buf, cap,
		 "v=0\r\no=- 1001 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %d RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\na=%s\r\n",
		 origin, conn, port, direction);
	return buf;
}

/* A SIP message as text; from_tag is the caller's on every message of
 * the dialog it sends, and on the callee's responses (RFC 3261 §8.2.6.2). */
size_t sip_text(char *out, size_t cap, const char *first_line, const il_addr *via,
		       const char *call_id, unsigned cseq, const char *method, const char *from_tag,
		       const char *to_tag, const char *sdp)
{
	char v[IL_ADDR_STRLEN];
	il_addr_format(via, v, sizeof v);
	int n = snprintf(out, cap,
			 "%s\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%u%s\r\n"
			 "From: <sip:%s@example.com>;tag=%s\r\nTo: <sip:%s@example.com>%s%s\r\n"
			 "Call-ID: %s\r\nCSeq: %u %s\r\nMax-Forwards: 70\r\n%s"
			 "Content-Length: %zu\r\n\r\n%s",
			 first_line, v, cseq, method, from_tag[0] == 'a' ? "alice" : "bob", from_tag,
			 from_tag[0] == 'a' ? "bob" : "alice", to_tag ? ";tag=" : "",
			 to_tag ? to_tag : "", call_id, cseq, method,
			 sdp ? "Content-Type: application/sdp\r\n" : "", sdp ? strlen(sdp) : 0,
			 sdp ? sdp : "");
	return (size_t)n;
}

uint64_t sip_udp(gen *g, uint64_t ts, const il_addr *src, const il_addr *dst,
			const char *first_line, const char *call_id, unsigned cseq,
			const char *method, const char *from_tag, const char *to_tag, const char *sdp)
{
	char text[4096];
	size_t n = sip_text(text, sizeof text, first_line, src, call_id, cseq, method, from_tag,
			    to_tag, sdp);
	return udp(g, ts, src, dst, (const uint8_t *)text, n, 0);
}



/* INVITE with the offer, 100, 180, 200 with the answer, ACK (RFC 3261
 * §13, RFC 3264 §4): the caller at c, the callee at e. */
call_frames call_setup(gen *g, uint64_t ts, const il_addr *c, const il_addr *e,
			      const char *id, const char *offer, const char *answer)
{
	call_frames f;
	f.invite = sip_udp(g, ts, c, e, "INVITE sip:bob@example.com SIP/2.0", id, 1, "INVITE",
			   "a1", NULL, offer);
	sip_udp(g, ts + 5 * MS, e, c, "SIP/2.0 100 Trying", id, 1, "INVITE", "a1", NULL, NULL);
	sip_udp(g, ts + 50 * MS, e, c, "SIP/2.0 180 Ringing", id, 1, "INVITE", "a1", "b1", NULL);
	f.ok = sip_udp(g, ts + 500 * MS, e, c, "SIP/2.0 200 OK", id, 1, "INVITE", "a1", "b1",
		       answer);
	f.ack = sip_udp(g, ts + 510 * MS, c, e, "ACK sip:bob@example.com SIP/2.0", id, 1, "ACK",
			"a1", "b1", NULL);
	return f;
}

uint64_t call_bye(gen *g, uint64_t ts, const il_addr *c, const il_addr *e,
			 const char *id)
{
	uint64_t f = sip_udp(g, ts, c, e, "BYE sip:bob@example.com SIP/2.0", id, 2, "BYE", "a1",
			     "b1", NULL);
	sip_udp(g, ts + 10 * MS, e, c, "SIP/2.0 200 OK", id, 2, "BYE", "a1", "b1", NULL);
	return f;
}

/* RTP from -> to every 20 ms over [t0, t0 + dur); first and last frames. */
void rtp_run(gen *g, uint64_t t0, uint64_t dur, const il_addr *from, const il_addr *to,
		    uint32_t ssrc, uint64_t *first, uint64_t *last)
{
	uint16_t seq = (uint16_t)(ssrc & 0xffff);
	for (uint64_t t = 0; t < dur; t += 20 * MS) {
		uint64_t f = rtp(g, t0 + t, from, to, ssrc, seq++, (uint32_t)(t / 125));
		if (first && !*first)
			*first = f;
		if (last)
			*last = f;
	}
}

/* RTCP (RFC 3550 §6.4): an SR from ssrc with one report block about
 * source, then an SDES CNAME, as a compound packet. */
static uint64_t rtcp_sr(gen *g, uint64_t ts, const il_addr *from, const il_addr *to,
			uint32_t ssrc, uint32_t source, uint8_t fraction, uint32_t cum_lost,
			uint32_t highest)
{
	uint8_t p[128];
	memset(p, 0, sizeof p);
	p[0] = 0x81;
	p[1] = 200;
	put16(p + 2, 12); /* 52 bytes */
	put32(p + 4, ssrc);
	put32(p + 8, 0xe1000000u); /* NTP seconds */
	put32(p + 20, 100);        /* packet count */
	put32(p + 24, 17200);      /* octet count */
	put32(p + 28, source);
	p[32] = fraction;
	p[33] = (uint8_t)(cum_lost >> 16);
	p[34] = (uint8_t)(cum_lost >> 8);
	p[35] = (uint8_t)cum_lost;
	put32(p + 36, highest);
	put32(p + 40, 40); /* jitter */
	/* SDES: one chunk, CNAME "icelab" */
	uint8_t *s = p + 52;
	s[0] = 0x81;
	s[1] = 202;
	put16(s + 2, 3);
	put32(s + 4, ssrc);
	s[8] = 1;
	s[9] = 6;
	memcpy(s + 10, "icelab", 6);
	return udp(g, ts, from, to, p, 52 + 16, 0);
}

/* A call where everything is right, with RTCP reports both ways; the
 * callee's RTCP says it lost 5 % of the caller's packets. */
static void sip_clean_call(void)
{
	gen g;
	gen_open(&g, dir_, "sip_clean_call.pcap", DLT_EN10MB, false);
	il_addr cs = A("192.0.2.10:5060"), es = A("198.51.100.20:5060");
	il_addr cm = A("192.0.2.10:4000"), em = A("198.51.100.20:5000");
	il_addr cr = A("192.0.2.10:4001"), er = A("198.51.100.20:5001");
	char o[512], an[512];
	const char *id = "clean-1@192.0.2.10";
	call_setup(&g, T0, &cs, &es, id, sdp_body(o, sizeof o, "192.0.2.10", "192.0.2.10", 4000, "sendrecv"),
		   sdp_body(an, sizeof an, "198.51.100.20", "198.51.100.20", 5000, "sendrecv"));
	rtp_run(&g, T0 + 600 * MS, 4 * S, &cm, &em, 0x11110001, NULL, NULL);
	rtp_run(&g, T0 + 603 * MS, 4 * S, &em, &cm, 0x22220002, NULL, NULL);
	rtcp_sr(&g, T0 + 3 * S, &cr, &er, 0x11110001, 0x22220002, 0, 0, 0x00010000u + 0x0002 + 120);
	rtcp_sr(&g, T0 + 3 * S + 7 * MS, &er, &cr, 0x22220002, 0x11110001, 13, 6, 0x00010000u + 0x0001 + 120);
	call_bye(&g, T0 + 4700 * MS, &cs, &es, id);
	gen_close(&g);
}

/* SIP over TCP from behind a NAT: the caller's SDP names its private
 * address; its packets come from the NAT's public one; the SBC latches
 * (symmetric RTP). Several messages share a segment, one is cut in two. */
static void sip_private_sdp(void)
{
	gen g;
	gen_open(&g, dir_, "sip_private_sdp.pcap", DLT_EN10MB, false);
	il_addr nat = A("203.0.113.50:5060"), sbc = A("198.51.100.1:5061");
	il_addr nat_media = A("203.0.113.50:61000"), sbc_media = A("198.51.100.1:20000");
	char o[512], an[512], text[4096], seg[8192];
	const char *id = "nat-1@192.168.1.10";
	sdp_body(o, sizeof o, "192.168.1.10", "192.168.1.10", 4000, "sendrecv");
	sdp_body(an, sizeof an, "198.51.100.1", "198.51.100.1", 20000, "sendrecv");
	tcp(&g, T0, &nat, &sbc, 0, 0x02, NULL, 0);
	tcp(&g, T0 + MS, &sbc, &nat, 0, 0x12, NULL, 0);
	size_t n = sip_text(text, sizeof text, "INVITE sip:bob@example.com SIP/2.0", &nat, id, 1,
			    "INVITE", "a1", NULL, o);
	uint64_t inv1 = tcp(&g, T0 + 2 * MS, &nat, &sbc, 0, 0x18, (const uint8_t *)text, 100);
	uint64_t inv2 = tcp(&g, T0 + 3 * MS, &nat, &sbc, 0, 0x18, (const uint8_t *)text + 100,
			    n - 100);
	(void)inv1;
	size_t k = sip_text(seg, sizeof seg, "SIP/2.0 100 Trying", &nat, id, 1, "INVITE", "a1",
			    NULL, NULL);
	k += sip_text(seg + k, sizeof seg - k, "SIP/2.0 180 Ringing", &nat, id, 1, "INVITE", "a1",
		      "b1", NULL);
	tcp(&g, T0 + 20 * MS, &sbc, &nat, 0, 0x18, (const uint8_t *)seg, k);
	n = sip_text(text, sizeof text, "SIP/2.0 200 OK", &nat, id, 1, "INVITE", "a1", "b1", an);
	tcp(&g, T0 + 400 * MS, &sbc, &nat, 0, 0x18, (const uint8_t *)text, n);
	n = sip_text(text, sizeof text, "ACK sip:bob@example.com SIP/2.0", &nat, id, 1, "ACK", "a1",
		     "b1", NULL);
	tcp(&g, T0 + 410 * MS, &nat, &sbc, 0, 0x18, (const uint8_t *)text, n);
	uint64_t from_nat = 0, latched = 0;
	rtp_run(&g, T0 + 500 * MS, 4 * S, &nat_media, &sbc_media, 0x11110003, &from_nat, NULL);
	rtp_run(&g, T0 + 530 * MS, 4 * S - 30 * MS, &sbc_media, &nat_media, 0x22220003, &latched,
		NULL);
	expect(&g, "sdp-private-address", "warning", 1, inv2);
	expect(&g, "media-source-mismatch", "info", 2, from_nat, latched);
	gen_close(&g);
}

/* The far end does not latch: it sends to the carrier-NAT address the
 * caller's SDP advertised (RFC 6598 shared space), which nobody reaches. */
static void sip_not_latched(void)
{
	gen g;
	gen_open(&g, dir_, "sip_not_latched.pcap", DLT_EN10MB, false);
	il_addr nat = A("203.0.113.51:5060"), peer = A("198.51.100.30:5060");
	il_addr cgn_media = A("100.64.12.34:4000"), nat_media = A("203.0.113.51:62000");
	il_addr peer_media = A("198.51.100.30:30000");
	char o[512], an[512];
	const char *id = "cgn-1@100.64.12.34";
	call_frames f = call_setup(&g, T0, &nat, &peer, id,
				   sdp_body(o, sizeof o, "100.64.12.34", "100.64.12.34", 4000, "sendrecv"),
				   sdp_body(an, sizeof an, "198.51.100.30", "198.51.100.30", 30000,
					    "sendrecv"));
	uint64_t from_nat = 0, to_cgn = 0;
	rtp_run(&g, T0 + 600 * MS, 4 * S, &nat_media, &peer_media, 0x11110004, &from_nat, NULL);
	rtp_run(&g, T0 + 610 * MS, 4 * S, &peer_media, &cgn_media, 0x22220004, &to_cgn, NULL);
	call_bye(&g, T0 + 4700 * MS, &nat, &peer, id);
	expect(&g, "sdp-private-address", "warning", 1, f.invite);
	expect(&g, "media-source-mismatch", "error", 3, f.invite, from_nat, to_cgn);
	gen_close(&g);
}

/* The callee never sends: one-way audio in a call with SDP. */
static void sip_one_way(void)
{
	gen g;
	gen_open(&g, dir_, "sip_one_way.pcap", DLT_LINUX_SLL, false);
	il_addr cs = A("192.0.2.10:5060"), es = A("198.51.100.20:5060");
	il_addr cm = A("192.0.2.10:4000"), em = A("198.51.100.20:5000");
	char o[512], an[512];
	const char *id = "oneway-1@192.0.2.10";
	call_setup(&g, T0, &cs, &es, id, sdp_body(o, sizeof o, "192.0.2.10", "192.0.2.10", 4000, "sendrecv"),
		   sdp_body(an, sizeof an, "198.51.100.20", "198.51.100.20", 5000, "sendrecv"));
	uint64_t first = 0, last = 0;
	rtp_run(&g, T0 + 600 * MS, 5 * S, &cm, &em, 0x11110005, &first, &last);
	call_bye(&g, T0 + 5700 * MS, &cs, &es, id);
	expect(&g, "media-one-way", "error", 2, first, last);
	gen_close(&g);
}

/* The caller sends to a port the callee's SDP never named. */
static void sip_unadvertised(void)
{
	gen g;
	gen_open(&g, dir_, "sip_unadvertised.pcap", DLT_EN10MB, false);
	il_addr cs = A("192.0.2.10:5060"), es = A("198.51.100.20:5060");
	il_addr cm = A("192.0.2.10:4000"), em = A("198.51.100.20:5000"),
		wrong = A("198.51.100.20:5008");
	char o[512], an[512];
	const char *id = "unadv-1@192.0.2.10";
	call_frames f = call_setup(&g, T0, &cs, &es, id,
				   sdp_body(o, sizeof o, "192.0.2.10", "192.0.2.10", 4000, "sendrecv"),
				   sdp_body(an, sizeof an, "198.51.100.20", "198.51.100.20", 5000,
					    "sendrecv"));
	uint64_t first = 0, last = 0;
	rtp_run(&g, T0 + 600 * MS, 4 * S, &cm, &wrong, 0x11110006, &first, &last);
	rtp_run(&g, T0 + 603 * MS, 4 * S, &em, &cm, 0x22220006, NULL, NULL);
	call_bye(&g, T0 + 4700 * MS, &cs, &es, id);
	expect(&g, "media-unadvertised-destination", "error", 3, f.ok, first, last);
	gen_close(&g);
}

/* Hold (RFC 3264 §8.4): the caller's re-INVITE says sendonly, the callee
 * answers recvonly, yet keeps sending for 3 s. */
static void sip_hold_conflict(void)
{
	gen g;
	gen_open(&g, dir_, "sip_hold_conflict.pcap", DLT_EN10MB, false);
	il_addr cs = A("192.0.2.10:5060"), es = A("198.51.100.20:5060");
	il_addr cm = A("192.0.2.10:4000"), em = A("198.51.100.20:5000");
	char o[512], an[512];
	const char *id = "hold-1@192.0.2.10";
	call_setup(&g, T0, &cs, &es, id, sdp_body(o, sizeof o, "192.0.2.10", "192.0.2.10", 4000, "sendrecv"),
		   sdp_body(an, sizeof an, "198.51.100.20", "198.51.100.20", 5000, "sendrecv"));
	uint64_t hold = T0 + 3 * S;
	rtp_run(&g, T0 + 600 * MS, 6 * S, &cm, &em, 0x11110007, NULL, NULL);
	uint64_t reinvite = sip_udp(&g, hold, &cs, &es, "INVITE sip:bob@example.com SIP/2.0", id,
				    2, "INVITE", "a1", "b1",
				    sdp_body(o, sizeof o, "192.0.2.10", "192.0.2.10", 4000, "sendonly"));
	sip_udp(&g, hold + 100 * MS, &es, &cs, "SIP/2.0 200 OK", id, 2, "INVITE", "a1", "b1",
		sdp_body(an, sizeof an, "198.51.100.20", "198.51.100.20", 5000, "recvonly"));
	sip_udp(&g, hold + 110 * MS, &cs, &es, "ACK sip:bob@example.com SIP/2.0", id, 2, "ACK", "a1",
		"b1", NULL);
	/* the callee goes on sending to 6.6 s; the first packet 1 s after
	 * the re-INVITE is the first that breaks it */
	rtp_run(&g, T0 + 603 * MS, 2400 * MS, &em, &cm, 0x22220007, NULL, NULL);
	uint64_t first = 0;
	rtp_run(&g, T0 + 4003 * MS, 2600 * MS, &em, &cm, 0x33330007, &first, NULL);
	call_bye(&g, T0 + 6700 * MS, &cs, &es, id);
	expect(&g, "sdp-direction-conflict", "warning", 2, reinvite, first);
	gen_close(&g);
}

/* The caller goes on sending for 3 s after its own BYE; and a second
 * call that failed (486) while the callee's early media went on. */
static void sip_media_after_end(void)
{
	gen g;
	gen_open(&g, dir_, "sip_media_after_end.pcap", DLT_EN10MB, false);
	il_addr cs = A("192.0.2.10:5060"), es = A("198.51.100.20:5060");
	il_addr cm = A("192.0.2.10:4000"), em = A("198.51.100.20:5000");
	char o[512], an[512];
	const char *id = "bye-1@192.0.2.10";
	call_setup(&g, T0, &cs, &es, id, sdp_body(o, sizeof o, "192.0.2.10", "192.0.2.10", 4000, "sendrecv"),
		   sdp_body(an, sizeof an, "198.51.100.20", "198.51.100.20", 5000, "sendrecv"));
	rtp_run(&g, T0 + 600 * MS, 3 * S, &em, &cm, 0x22220008, NULL, NULL);
	rtp_run(&g, T0 + 603 * MS, 3 * S, &cm, &em, 0x11110008, NULL, NULL);
	uint64_t bye = call_bye(&g, T0 + 3700 * MS, &cs, &es, id);
	uint64_t late = 0;
	rtp_run(&g, T0 + 3603 * MS, 2100 * MS, &cm, &em, 0x44440008, NULL, NULL);
	rtp_run(&g, T0 + 5703 * MS, 1000 * MS, &cm, &em, 0x55550008, &late, NULL);
	expect(&g, "media-after-bye", "warning", 2, bye, late);
	/* the second call: 183 with early media, then 486 Busy Here */
	il_addr cm2 = A("192.0.2.10:4010"), em2 = A("198.51.100.20:5010");
	const char *id2 = "fail-1@192.0.2.10";
	uint64_t t = T0 + 10 * S;
	sip_udp(&g, t, &cs, &es, "INVITE sip:bob@example.com SIP/2.0", id2, 1, "INVITE", "a2", NULL,
		sdp_body(o, sizeof o, "192.0.2.10", "192.0.2.10", 4010, "sendrecv"));
	sip_udp(&g, t + 100 * MS, &es, &cs, "SIP/2.0 183 Session Progress", id2, 1, "INVITE", "a2",
		"b2", sdp_body(an, sizeof an, "198.51.100.20", "198.51.100.20", 5010, "sendrecv"));
	uint64_t busy = sip_udp(&g, t + 1500 * MS, &es, &cs, "SIP/2.0 486 Busy Here", id2, 1,
				"INVITE", "a2", "b2", NULL);
	sip_udp(&g, t + 1510 * MS, &cs, &es, "ACK sip:bob@example.com SIP/2.0", id2, 1, "ACK", "a2",
		"b2", NULL);
	rtp_run(&g, t + 200 * MS, 3300 * MS, &em2, &cm2, 0x66660008, NULL, NULL);
	uint64_t late2 = 0;
	rtp_run(&g, t + 3500 * MS + 3 * MS, 1000 * MS, &em2, &cm2, 0x77770008, &late2, NULL);
	expect(&g, "media-after-failure", "warning", 2, busy, late2);
	gen_close(&g);
}

/* ICMP port unreachable (RFC 792 type 3 code 3) quoting the RTP that
 * 192.0.2.10 sends: nothing listens at the destination. */
static void icmp_unreachable(void)
{
	gen g;
	gen_open(&g, dir_, "icmp_unreachable.pcap", DLT_EN10MB, false);
	il_addr a = A("192.0.2.10:40000"), b = A("198.51.100.20:50000");
	uint64_t first = 0, last = 0, icmp_first = 0, icmp_last = 0;
	for (int i = 0; i < 150; i++) {
		uint64_t ts = T0 + (uint64_t)i * 20 * MS;
		uint64_t f = rtp(&g, ts, &a, &b, 0x11110009, (uint16_t)i, (uint32_t)i * 160);
		if (!first)
			first = f;
		last = f;
		if (i % 10 != 0)
			continue;
		/* the error quotes the IP header and the first 8 bytes (and more) */
		uint8_t q[8 + 20 + 8 + 12];
		memset(q, 0, sizeof q);
		q[0] = 3;
		q[1] = 3;
		uint8_t *ip = q + 8;
		ip[0] = 0x45;
		put16(ip + 2, 20 + 8 + 172);
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, a.ip, 4);
		memcpy(ip + 16, b.ip, 4);
		put16(ip + 20, a.port);
		put16(ip + 22, b.port);
		put16(ip + 24, 8 + 172);
		ip[28] = 0x80;
		ip[29] = 8;
		uint32_t sum = 0;
		for (size_t k = 0; k < sizeof q; k += 2)
			sum += (uint32_t)(q[k] << 8 | q[k + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put16(q + 2, (uint16_t)~sum);
		il_addr from = b;
		from.port = 0;
		il_addr to = a;
		to.port = 0;
		emit_ip(&g, ts + MS, &from, &to, 1, q, sizeof q, 0);
		if (!icmp_first)
			icmp_first = g.frame;
		icmp_last = g.frame;
	}
	expect(&g, "icmp-unreachable-media", "error", 3, first, icmp_first, icmp_last);
	expect(&g, "media-one-way", "error", 2, first, last);
	gen_close(&g);
}

/* SIP over WebSocket (RFC 7118): the HTTP Upgrade, masked client frames,
 * a call with both directions of media; nothing to report. */
static size_t ws_frame(uint8_t *out, const char *text, size_t len, bool masked)
{
	static const uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
	size_t h = 2;
	out[0] = 0x81; /* FIN, text */
	if (len < 126) {
		out[1] = (uint8_t)len;
	} else {
		out[1] = 126;
		put16(out + 2, (uint16_t)len);
		h = 4;
	}
	if (masked) {
		out[1] |= 0x80;
		memcpy(out + h, key, 4);
		h += 4;
	}
	for (size_t i = 0; i < len; i++)
		out[h + i] = (uint8_t)text[i] ^ (masked ? key[i & 3] : 0);
	return h + len;
}

static void sip_websocket(void)
{
	gen g;
	gen_open(&g, dir_, "sip_websocket.pcap", DLT_EN10MB, false);
	il_addr c = A("192.0.2.10:52000"), s = A("198.51.100.20:8080");
	il_addr cm = A("192.0.2.10:4000"), em = A("198.51.100.20:5000");
	char o[512], an[512], text[4096];
	uint8_t frame[4200];
	const char *id = "ws-1@192.0.2.10";
	tcp(&g, T0, &c, &s, 0, 0x02, NULL, 0);
	tcp(&g, T0 + MS, &s, &c, 0, 0x12, NULL, 0);
	static const char get[] = "GET / HTTP/1.1\r\nHost: 198.51.100.20:8080\r\nUpgrade: websocket\r\n"
				  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n";
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				 "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
				 "Sec-WebSocket-Protocol: sip\r\n\r\n";
	tcp(&g, T0 + 2 * MS, &c, &s, 0, 0x18, (const uint8_t *)get, strlen(get));
	tcp(&g, T0 + 3 * MS, &s, &c, 0, 0x18, (const uint8_t *)ok, strlen(ok));
	size_t n = sip_text(text, sizeof text, "INVITE sip:bob@example.com SIP/2.0", &c, id, 1,
			    "INVITE", "a1", NULL,
			    sdp_body(o, sizeof o, "192.0.2.10", "192.0.2.10", 4000, "sendrecv"));
	tcp(&g, T0 + 10 * MS, &c, &s, 0, 0x18, frame, ws_frame(frame, text, n, true));
	n = sip_text(text, sizeof text, "SIP/2.0 200 OK", &c, id, 1, "INVITE", "a1", "b1",
		     sdp_body(an, sizeof an, "198.51.100.20", "198.51.100.20", 5000, "sendrecv"));
	tcp(&g, T0 + 300 * MS, &s, &c, 0, 0x18, frame, ws_frame(frame, text, n, false));
	n = sip_text(text, sizeof text, "ACK sip:bob@example.com SIP/2.0", &c, id, 1, "ACK", "a1",
		     "b1", NULL);
	tcp(&g, T0 + 310 * MS, &c, &s, 0, 0x18, frame, ws_frame(frame, text, n, true));
	rtp_run(&g, T0 + 400 * MS, 3 * S, &cm, &em, 0x1111000a, NULL, NULL);
	rtp_run(&g, T0 + 403 * MS, 3 * S, &em, &cm, 0x2222000a, NULL, NULL);
	n = sip_text(text, sizeof text, "BYE sip:bob@example.com SIP/2.0", &c, id, 2, "BYE", "a1",
		     "b1", NULL);
	tcp(&g, T0 + 3500 * MS, &c, &s, 0, 0x18, frame, ws_frame(frame, text, n, true));
	n = sip_text(text, sizeof text, "SIP/2.0 200 OK", &c, id, 2, "BYE", "a1", "b1", NULL);
	tcp(&g, T0 + 3510 * MS, &s, &c, 0, 0x18, frame, ws_frame(frame, text, n, false));
	gen_close(&g);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_captures DIR\n");
		return 2;
	}
	dir_ = argv[1];
	il_stun_key_short_term(&ice_key, "icelab-ice-password");
	il_stun_key_long_term(&turn_key, IL_STUN_PWALG_MD5, "alice", "icelab.test", "secret");
	clean_call();
	one_way_media();
	one_way_silent();
	ice_failed();
	consent_lost();
	turn_errors();
	turn_no_permission();
	turn_relay_imbalance();
	dtls_incomplete();
	turn_internal_peer();
	turn_replay();
	sip_clean_call();
	sip_private_sdp();
	sip_not_latched();
	sip_one_way();
	sip_unadvertised();
	sip_hold_conflict();
	sip_media_after_end();
	icmp_unreachable();
	sip_websocket();
	gen_more_captures();
	return 0;
}
