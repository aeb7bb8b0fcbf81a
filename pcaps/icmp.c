/* ICMP (RFC 792) and ICMPv6 (RFC 4443) errors matched to the UDP flow
 * they quote: the quoted datagram is one the error's receiver sent, so
 * its source and destination name the flow that was refused. Destination
 * unreachable, time exceeded and (v6) packet too big are recorded on
 * that flow; diagnose.c reports an unreachable on a media flow. */
#include <string.h>

#include "pcaps_internal.h"

static void record(il_pcap_analysis *a, const pa_pkt *pkt, const il_addr *src,
		   const il_addr *dst, bool unreachable, uint8_t code, bool v6)
{
	pa_flow *f = pa_flow_find(a, 17, false, src, dst);
	if (!f) {
		a->icmp_unmatched++;
		return;
	}
	if (!unreachable)
		return;
	if (!f->icmp_unreachable++) {
		f->icmp_first_frame = pkt->frame;
		f->icmp_first_us = pkt->ts_us;
		f->icmp_code = code;
		f->icmp_v6 = v6;
		f->icmp_from = pkt->src;
		f->icmp_from.port = 0;
	}
	f->icmp_last_frame = pkt->frame;
}

void pa_icmp_packet(il_pcap_analysis *a, const pa_pkt *pkt, bool v6, const uint8_t *p,
		    size_t len)
{
	if (len < 8)
		return;
	uint8_t type = p[0], code = p[1];
	bool error = v6 ? (type >= 1 && type <= 3) : (type == 3 || type == 11);
	if (!error)
		return;
	a->icmp_errors++;
	bool unreachable = v6 ? type == 1 : type == 3;
	const uint8_t *q = p + 8;
	size_t qlen = len - 8;
	il_addr src, dst;
	memset(&src, 0, sizeof src);
	memset(&dst, 0, sizeof dst);
	size_t l4;
	if (!v6) {
		if (qlen < 20 || (q[0] >> 4) != 4 || q[9] != 17)
			return;
		l4 = (size_t)(q[0] & 0x0f) * 4;
		src.family = dst.family = IL_AF_INET;
		memcpy(src.ip, q + 12, 4);
		memcpy(dst.ip, q + 16, 4);
	} else {
		if (qlen < 40 || (q[0] >> 4) != 6 || q[6] != 17)
			return; /* extension headers in the quote are not walked */
		l4 = 40;
		src.family = dst.family = IL_AF_INET6;
		memcpy(src.ip, q + 8, 16);
		memcpy(dst.ip, q + 24, 16);
	}
	if (l4 < 20 || qlen < l4 + 4)
		return;
	src.port = pa_be16(q + l4);
	dst.port = pa_be16(q + l4 + 2);
	record(a, pkt, &src, &dst, unreachable, code, v6);
}
