/* The capture reader: libpcap (pcap and pcapng through pcap_open_offline),
 * link layers (Ethernet with 802.1Q/802.1ad tags, Linux cooked SLL and
 * SLL2, raw IPv4/IPv6, BSD loopback/null), IPv4 (RFC 791) and IPv6
 * (RFC 8200) with fragment reassembly, then UDP to the classifier and TCP
 * to the stream reassembler.
 *
 * Fragment reassembly is bounded: at most FRAG_MAX_SETS datagrams in
 * progress (the oldest is dropped for a new one), each at most 65535
 * bytes, dropped after FRAG_TIMEOUT_US of capture time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcaps_internal.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88A8
#define MAX_IP_DATAGRAM 65535u
#define FRAG_BLOCKS (MAX_IP_DATAGRAM / 8 + 1)
#define READ_BUFFER (1u << 20)

struct pa_frag {
	bool used;
	uint8_t family, proto;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint64_t first_us;
	uint32_t total;              /* payload length once the last fragment is seen, else 0 */
	uint32_t received;           /* 8-byte blocks received */
	uint8_t have[FRAG_BLOCKS / 8 + 1];
	uint8_t data[MAX_IP_DATAGRAM];
};

static void ip_payload(il_pcap_analysis *a, pa_pkt *pkt, uint8_t proto, const uint8_t *p,
		       size_t len);

il_pcap_analysis *il_pcap_analysis_new(void)
{
	il_pcap_analysis *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	pa_table_init(&a->tcp_flows, sizeof(pa_tuple_key));
	pa_table_init(&a->flows, sizeof(pa_tuple_key));
	pa_table_init(&a->rtp_streams, sizeof(((pa_rtp_stream *)0)->key));
	pa_table_init(&a->transactions, IL_STUN_TID_LEN);
	pa_table_init(&a->ice_pairs, sizeof(pa_tuple_key));
	pa_table_init(&a->allocations, sizeof(pa_tuple_key));
	pa_table_init(&a->calls, CALL_ID_MAX);
	pa_table_init(&a->call_addrs, 19);
	pa_table_init(&a->rtcp_reports, sizeof(((pa_rtcp_report *)0)->key));
	pa_table_init(&a->tls_flows, sizeof(pa_tuple_key));
	pa_table_init(&a->scope, 19);
	return a;
}

void il_pcap_analysis_free(il_pcap_analysis *a)
{
	if (!a)
		return;
	pa_tcp_free(a);
	pa_srtp_free(a);
	pa_table_free(&a->flows);
	pa_table_free(&a->rtp_streams);
	pa_table_free(&a->transactions);
	pa_table_free(&a->ice_pairs);
	pa_table_free(&a->allocations);
	pa_calls_free(a);
	pa_table_free(&a->rtcp_reports);
	pa_table_free(&a->tls_flows);
	pa_table_free(&a->scope);
	free(a->events);
	free(a->frags);
	free(a->findings);
	free(a);
}

const char *il_pcap_scope_call(const il_pcap_analysis *a)
{
	return a->scope_call_id[0] ? a->scope_call_id : NULL;
}

int il_pcap_read(il_pcap_analysis *a, pcap_t *p, char *errbuf, size_t errlen)
{
	bool done;
	int fast = pa_records_read(a, p, &done, errbuf, errlen);
	if (done)
		return fast;
	a->dlt = pcap_datalink(p);
	struct pcap_pkthdr *h;
	const u_char *data;
	int r;
	while ((r = pcap_next_ex(p, &h, &data)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * US_PER_S + (uint64_t)h->ts.tv_usec;
		il_pcap_feed_frame(a, a->dlt, ts, data, h->caplen);
	}
	if (r == PCAP_ERROR) {
		snprintf(a->read_error, sizeof a->read_error, "%s", pcap_geterr(p));
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", pcap_geterr(p));
		return -1;
	}
	return 0;
}

int il_pcap_read_file(il_pcap_analysis *a, const char *path, char *errbuf, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	/* Our own FILE with a 1 MiB buffer: libpcap reads each record with
	 * two freads, which with stdio's default 4 KiB buffer cost a read(2)
	 * every few dozen packets (not for the classic pcap records.c reads
	 * in blocks). pcap_close closes the FILE; the buffer is freed after
	 * it. */
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *vbuf = pa_records_plain_file(fp) ? NULL : malloc(READ_BUFFER);
	if (vbuf)
		setvbuf(fp, vbuf, _IOFBF, READ_BUFFER);
	pcap_t *p = pcap_fopen_offline(fp, perr);
	if (!p) {
		fclose(fp);
		free(vbuf);
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", perr);
		return -1;
	}
	int r = il_pcap_read(a, p, errbuf, errlen);
	pcap_close(p);
	free(vbuf);
	return r;
}

/* ---- IPv4 and IPv6 fragments */

static pa_frag *frag_find(il_pcap_analysis *a, uint8_t family, uint8_t proto,
			  const uint8_t *src, const uint8_t *dst, uint32_t id, uint64_t now)
{
	if (!a->frags) {
		a->frags = calloc(FRAG_MAX_SETS, sizeof *a->frags);
		if (!a->frags)
			return NULL;
	}
	size_t alen = family == IL_AF_INET ? 4 : 16;
	pa_frag *free_slot = NULL, *oldest = NULL;
	for (size_t i = 0; i < FRAG_MAX_SETS; i++) {
		pa_frag *f = &a->frags[i];
		if (f->used && now > f->first_us + FRAG_TIMEOUT_US) {
			f->used = false;
			a->fragments_dropped++;
		}
		if (!f->used) {
			if (!free_slot)
				free_slot = f;
			continue;
		}
		if (f->family == family && f->proto == proto && f->id == id &&
		    memcmp(f->src, src, alen) == 0 && memcmp(f->dst, dst, alen) == 0)
			return f;
		if (!oldest || f->first_us < oldest->first_us)
			oldest = f;
	}
	pa_frag *f = free_slot;
	if (!f) {
		f = oldest;
		a->fragments_dropped++;
	}
	f->used = true;
	f->family = family;
	f->proto = proto;
	f->id = id;
	memset(f->src, 0, sizeof f->src);
	memset(f->dst, 0, sizeof f->dst);
	memcpy(f->src, src, alen);
	memcpy(f->dst, dst, alen);
	f->first_us = now;
	f->total = 0;
	f->received = 0;
	memset(f->have, 0, sizeof f->have);
	return f;
}

/* Adds a fragment (offset in bytes); when the datagram is complete, hands
 * the reassembled payload on. */
static void frag_add(il_pcap_analysis *a, pa_pkt *pkt, uint8_t family, uint8_t proto,
		     const uint8_t *src, const uint8_t *dst, uint32_t id, uint32_t offset,
		     bool more, const uint8_t *p, size_t len)
{
	a->fragments++;
	if (offset + len > MAX_IP_DATAGRAM || (more && (len == 0 || len % 8 != 0))) {
		a->fragments_dropped++;
		return;
	}
	pa_frag *f = frag_find(a, family, proto, src, dst, id, pkt->ts_us);
	if (!f)
		return;
	if (!more) {
		if (f->total && f->total != offset + len) {
			f->used = false; /* two different ends: give up */
			a->fragments_dropped++;
			return;
		}
		f->total = (uint32_t)(offset + len);
	}
	memcpy(f->data + offset, p, len);
	for (uint32_t b = offset / 8; b < (offset + len + 7) / 8; b++) {
		if (!(f->have[b / 8] & (1u << (b % 8)))) {
			f->have[b / 8] |= (uint8_t)(1u << (b % 8));
			f->received++;
		}
	}
	if (!f->total || f->received < (f->total + 7) / 8)
		return;
	f->used = false;
	a->reassembled++;
	ip_payload(a, pkt, proto, f->data, f->total);
}

/* ---- network layer */

static void ipv4(il_pcap_analysis *a, pa_pkt *pkt, const uint8_t *p, size_t len)
{
	if (len < 20 || (p[0] >> 4) != 4) {
		a->malformed_ip++;
		return;
	}
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;
	size_t total = pa_be16(p + 2);
	if (ihl < 20 || total < ihl || ihl > len) {
		a->malformed_ip++;
		return;
	}
	if (total > len) {
		a->truncated++;
		total = len;
	}
	a->ipv4++;
	memset(&pkt->src, 0, sizeof pkt->src);
	memset(&pkt->dst, 0, sizeof pkt->dst);
	pkt->src.family = pkt->dst.family = IL_AF_INET;
	memcpy(pkt->src.ip, p + 12, 4);
	memcpy(pkt->dst.ip, p + 16, 4);
	uint16_t frag = pa_be16(p + 6);
	bool more = frag & 0x2000;
	uint32_t offset = (uint32_t)(frag & 0x1fff) * 8;
	if (more || offset)
		frag_add(a, pkt, IL_AF_INET, p[9], p + 12, p + 16, pa_be16(p + 4), offset, more,
			 p + ihl, total - ihl);
	else
		ip_payload(a, pkt, p[9], p + ihl, total - ihl);
}

static void ipv6(il_pcap_analysis *a, pa_pkt *pkt, const uint8_t *p, size_t len)
{
	if (len < 40 || (p[0] >> 4) != 6) {
		a->malformed_ip++;
		return;
	}
	size_t total = 40 + (size_t)pa_be16(p + 4);
	if (total > len) {
		a->truncated++;
		total = len;
	}
	a->ipv6++;
	memset(&pkt->src, 0, sizeof pkt->src);
	memset(&pkt->dst, 0, sizeof pkt->dst);
	pkt->src.family = pkt->dst.family = IL_AF_INET6;
	memcpy(pkt->src.ip, p + 8, 16);
	memcpy(pkt->dst.ip, p + 24, 16);
	uint8_t next = p[6];
	size_t off = 40;
	/* Extension headers (RFC 8200 §4): hop-by-hop, routing, destination
	 * options walked; a fragment header ends the walk. */
	for (int n = 0; n < 8; n++) {
		if (next == 0 || next == 43 || next == 60) {
			if (off + 8 > total) {
				a->malformed_ip++;
				return;
			}
			uint8_t nh = p[off];
			off += 8 + (size_t)p[off + 1] * 8;
			next = nh;
			continue;
		}
		if (next == 44) {
			if (off + 8 > total) {
				a->malformed_ip++;
				return;
			}
			uint16_t fo = pa_be16(p + off + 2);
			uint32_t offset = (uint32_t)(fo & 0xfff8);
			bool more = fo & 1;
			uint8_t nh = p[off];
			uint32_t id = pa_be32(p + off + 4);
			off += 8;
			if (!more && offset == 0) { /* atomic fragment (RFC 6946) */
				next = nh;
				continue;
			}
			/* Only an upper-layer header may follow in the fragmentable part
			 * that we reassemble; extension headers there are not walked. */
			frag_add(a, pkt, IL_AF_INET6, nh, p + 8, p + 24, id, offset, more, p + off,
				 total - off);
			return;
		}
		break;
	}
	if (off > total) {
		a->malformed_ip++;
		return;
	}
	ip_payload(a, pkt, next, p + off, total - off);
}

static void ip_payload(il_pcap_analysis *a, pa_pkt *pkt, uint8_t proto, const uint8_t *p,
		       size_t len)
{
	if (proto == 17) {
		if (len < 8) {
			a->truncated++;
			return;
		}
		pkt->src.port = pa_be16(p);
		pkt->dst.port = pa_be16(p + 2);
		if (a->scope_call_id[0] && !pa_scope_pass(a, pkt))
			return;
		a->udp++;
		size_t ulen = pa_be16(p + 4);
		if (ulen < 8 || ulen > len) { /* a zero length is a jumbogram; trust the IP length */
			if (ulen > len)
				a->truncated++;
			ulen = len;
		}
		pkt->transport = 17;
		pa_classify_datagram(a, pkt, p + 8, ulen - 8);
	} else if (proto == 6) {
		if (len < 20) {
			a->truncated++;
			return;
		}
		size_t doff = (size_t)(p[12] >> 4) * 4;
		if (doff < 20 || doff > len) {
			a->malformed_ip++;
			return;
		}
		pkt->src.port = pa_be16(p);
		pkt->dst.port = pa_be16(p + 2);
		if (a->scope_call_id[0] && !pa_scope_pass(a, pkt))
			return;
		a->tcp++;
		pkt->transport = 6;
		pa_tcp_segment(a, pkt, pa_be32(p + 4), p[13], p + doff, len - doff);
	} else if (proto == 1 || proto == 58) {
		a->icmp++;
		pa_icmp_packet(a, pkt, proto == 58, p, len);
	} else {
		a->other_ip++;
	}
}

static void by_ethertype(il_pcap_analysis *a, pa_pkt *pkt, uint16_t type, const uint8_t *p,
			 size_t len)
{
	if (type == ETHERTYPE_IPV4)
		ipv4(a, pkt, p, len);
	else if (type == ETHERTYPE_IPV6)
		ipv6(a, pkt, p, len);
	else
		a->other_link++;
}

static void by_version(il_pcap_analysis *a, pa_pkt *pkt, const uint8_t *p, size_t len)
{
	if (len >= 1 && (p[0] >> 4) == 4)
		ipv4(a, pkt, p, len);
	else if (len >= 1 && (p[0] >> 4) == 6)
		ipv6(a, pkt, p, len);
	else
		a->other_link++;
}

void il_pcap_feed_frame(il_pcap_analysis *a, int dlt, uint64_t ts_us, const uint8_t *p,
			size_t len)
{
	a->frames++;
	a->bytes += len;
	if (a->frames == 1)
		a->first_us = ts_us;
	if (ts_us > a->last_us)
		a->last_us = ts_us;
	pa_pkt pkt = {.frame = a->frames, .ts_us = ts_us};
	if (ts_us >= a->next_expire_us) {
		pa_stun_expire(a, ts_us, false);
		a->next_expire_us = ts_us + US_PER_S;
	}
	switch (dlt) {
	case DLT_EN10MB: {
		if (len < 14) {
			a->truncated++;
			return;
		}
		uint16_t type = pa_be16(p + 12);
		size_t off = 14;
		for (int tags = 0; (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) && tags < 4;
		     tags++) {
			if (len < off + 4) {
				a->truncated++;
				return;
			}
			type = pa_be16(p + off + 2);
			off += 4;
		}
		by_ethertype(a, &pkt, type, p + off, len - off);
		break;
	}
	case DLT_LINUX_SLL:
		if (len < 16) {
			a->truncated++;
			return;
		}
		by_ethertype(a, &pkt, pa_be16(p + 14), p + 16, len - 16);
		break;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		if (len < 20) {
			a->truncated++;
			return;
		}
		by_ethertype(a, &pkt, pa_be16(p), p + 20, len - 20);
		break;
#endif
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		by_version(a, &pkt, p, len);
		break;
	case DLT_NULL:
	case DLT_LOOP:
		/* A 4-byte address family: host order of the capturing machine for
		 * NULL, network order for LOOP; 2 is IPv4, 24/28/30 IPv6 (BSDs). The
		 * IP version nibble decides, which is what both families promise. */
		if (len < 4) {
			a->truncated++;
			return;
		}
		by_version(a, &pkt, p + 4, len - 4);
		break;
	default:
		a->other_link++;
		break;
	}
}
