/* RTCP (RFC 3550 §6): compound packets walked header by header, every
 * length checked against what is left; SR and RR report blocks (§6.4.1,
 * §6.4.2) give what each receiver says about each source it hears:
 * fraction lost, cumulative lost, extended highest sequence number and
 * jitter, kept per (reporter SSRC, source SSRC) with the last values. BYE
 * (§6.6, its optional reason bounded by the packet), SDES, APP, XR (RFC
 * 3611, blocks bounded by the packet) and feedback (RFC 4585) are counted. */
#include <string.h>

#include "pcaps_internal.h"

#define RTCP_SR 200
#define RTCP_RR 201
#define RTCP_SDES 202
#define RTCP_BYE 203
#define RTCP_APP 204
#define RTCP_XR 207
#define REPORT_BLOCK_LEN 24

static void report_block(il_pcap_analysis *a, const pa_pkt *pkt, uint32_t reporter,
			 const uint8_t *b)
{
	struct {
		uint32_t reporter, source;
	} key = {reporter, pa_be32(b)};
	bool created;
	pa_rtcp_report *r = pa_table_get(&a->rtcp_reports, &key, sizeof *r, &created);
	if (!r)
		return;
	if (created) {
		r->from = pkt->src;
		r->to = pkt->dst;
		r->relayed = pkt->relayed;
		r->first_frame = pkt->frame;
	}
	r->reports++;
	r->last_frame = pkt->frame;
	r->last_us = pkt->ts_us;
	r->fraction_lost = b[4];
	if (b[4] > r->max_fraction_lost)
		r->max_fraction_lost = b[4];
	uint32_t cum = ((uint32_t)b[5] << 16) | ((uint32_t)b[6] << 8) | b[7];
	r->cumulative_lost = (cum & 0x800000u) ? (int32_t)cum - 0x1000000 : (int32_t)cum;
	r->highest_seq = pa_be32(b + 8);
	r->jitter = pa_be32(b + 12);
}

/* XR (RFC 3611 §3): blocks of 4 + 4 * block length bytes each. */
static bool xr_blocks(const uint8_t *p, size_t len)
{
	size_t off = 8;
	while (off + 4 <= len) {
		size_t blen = 4 + (size_t)pa_be16(p + off + 2) * 4;
		if (off + blen > len)
			return false;
		off += blen;
	}
	return off == len;
}

/* BYE (§6.6): SC SSRCs, then an optional length-prefixed reason. */
static bool bye_ok(const uint8_t *p, size_t len)
{
	size_t off = 4 + (size_t)(p[0] & 0x1f) * 4;
	if (off > len)
		return false;
	if (off < len && off + 1 + p[off] > len)
		return false;
	return true;
}

int pa_rtcp_packet(il_pcap_analysis *a, const pa_pkt *pkt, const uint8_t *p, size_t len)
{
	int n = 0;
	while (len >= 4) {
		if ((p[0] >> 6) != 2) {
			a->rtcp_malformed++;
			return n ? n : -1;
		}
		size_t plen = ((size_t)pa_be16(p + 2) + 1) * 4;
		if (plen > len) {
			a->rtcp_malformed++;
			return n ? n : -1;
		}
		uint8_t pt = p[1], rc = p[0] & 0x1f;
		a->rtcp_packets++;
		n++;
		switch (pt) {
		case RTCP_SR:
		case RTCP_RR: {
			size_t fixed = pt == RTCP_SR ? 28 : 8;
			if (fixed + (size_t)rc * REPORT_BLOCK_LEN > plen) {
				a->rtcp_malformed++;
				break;
			}
			pt == RTCP_SR ? a->rtcp_sr++ : a->rtcp_rr++;
			uint32_t reporter = pa_be32(p + 4);
			for (uint8_t i = 0; i < rc; i++)
				report_block(a, pkt, reporter, p + fixed + (size_t)i * REPORT_BLOCK_LEN);
			break;
		}
		case RTCP_BYE:
			if (bye_ok(p, plen))
				a->rtcp_bye++;
			else
				a->rtcp_malformed++;
			break;
		case RTCP_SDES:
			a->rtcp_sdes++;
			break;
		case RTCP_APP:
			a->rtcp_app++;
			break;
		case RTCP_XR:
			if (plen >= 8 && xr_blocks(p, plen))
				a->rtcp_xr++;
			else
				a->rtcp_malformed++;
			break;
		default:
			a->rtcp_other++;
			break;
		}
		p += plen;
		len -= plen;
	}
	return n;
}
