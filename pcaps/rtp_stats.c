/* RTP stream statistics per direction and SSRC (RFC 3550): packets,
 * payload bytes, extended highest sequence number and loss (§6.4.1,
 * A.1, A.3: lost = expected - received, negative with duplicates),
 * duplicates and reordering (a 128-entry window behind the highest
 * sequence number), and interarrival jitter (§6.4.1, A.8) where the
 * payload type's clock rate is known (RFC 3551 static types). */
#include <stdlib.h>
#include <string.h>

#include "pcaps_internal.h"

/* RFC 3551 §6, Table 4 and 5: static payload types and their clocks. */
uint32_t pa_rtp_clock_rate(uint8_t pt)
{
	switch (pt) {
	case 0: case 3: case 4: case 5: case 7: case 8: case 9: case 12: case 13: case 15:
	case 18:
		return 8000;
	case 6:
		return 16000;
	case 10: case 11:
		return 44100;
	case 16:
		return 11025;
	case 17:
		return 22050;
	case 14: case 25: case 26: case 28: case 31: case 32: case 33: case 34:
		return 90000;
	default:
		return 0;
	}
}

int64_t pa_rtp_expected(const pa_rtp_stream *s)
{
	if (!s->packets)
		return 0;
	return (int64_t)(s->cycles + s->max_seq) - (int64_t)s->base_seq + 1;
}

int64_t pa_rtp_lost(const pa_rtp_stream *s)
{
	return pa_rtp_expected(s) - (int64_t)s->packets;
}

static bool window_test(const pa_rtp_stream *s, unsigned back)
{
	return (s->window[back / 32] >> (back % 32)) & 1u;
}

static void window_set(pa_rtp_stream *s, unsigned back)
{
	s->window[back / 32] |= 1u << (back % 32);
}

/* Moves the window forward by n sequence numbers: 128 bits as two
 * 64-bit halves (window[0] the low word), shifted left. */
static void window_advance(pa_rtp_stream *s, unsigned n)
{
	if (n >= 128) {
		memset(s->window, 0, sizeof s->window);
		return;
	}
	uint64_t lo = (uint64_t)s->window[1] << 32 | s->window[0];
	uint64_t hi = (uint64_t)s->window[3] << 32 | s->window[2];
	if (n >= 64) {
		hi = lo << (n - 64);
		lo = 0;
	} else {
		hi = hi << n | (n ? lo >> (64 - n) : 0);
		lo <<= n;
	}
	s->window[0] = (uint32_t)lo;
	s->window[1] = (uint32_t)(lo >> 32);
	s->window[2] = (uint32_t)hi;
	s->window[3] = (uint32_t)(hi >> 32);
}

static void sequence(pa_rtp_stream *s, uint16_t seq)
{
	if (s->packets == 1) {
		s->base_seq = seq;
		s->max_seq = seq;
		window_set(s, 0);
		return;
	}
	uint16_t ahead = (uint16_t)(seq - s->max_seq);
	if (ahead == 0) {
		s->duplicates++;
	} else if (ahead < 0x8000) {
		if (seq < s->max_seq)
			s->cycles += 65536;
		s->max_seq = seq;
		window_advance(s, ahead);
		window_set(s, 0);
	} else {
		unsigned back = (uint16_t)(s->max_seq - seq);
		if (back < 128 && window_test(s, back)) {
			s->duplicates++;
		} else {
			s->reordered++;
			if (back < 128)
				window_set(s, back);
		}
	}
}

/* RFC 3550 A.8: J(i) = J(i-1) + (|D(i-1,i)| - J(i-1))/16. */
static void jitter(pa_rtp_stream *s, uint64_t ts_us, uint32_t rtp_ts)
{
	if (!s->clock_rate)
		return;
	/* Arrival in timestamp units, from the stream's first packet so the
	 * product cannot overflow. */
	uint64_t since = ts_us >= s->first_us ? ts_us - s->first_us : 0;
	int64_t arrival = (int64_t)((since * (uint64_t)s->clock_rate) / US_PER_S);
	int64_t transit = arrival - (int64_t)rtp_ts;
	if (s->have_transit) {
		int64_t d = transit - s->transit;
		/* The RTP timestamp wraps at 2^32: take the difference modulo. */
		d = (int64_t)(int32_t)(uint32_t)d;
		if (d < 0)
			d = -d;
		s->jitter += ((double)d - s->jitter) / 16.0;
		if (s->jitter > s->jitter_max)
			s->jitter_max = s->jitter;
		s->jitter_sum += s->jitter;
		s->jitter_n++;
	}
	s->transit = transit;
	s->have_transit = true;
}

int pa_rtp_parse(const uint8_t *p, size_t len, size_t *hdr_out, size_t *payload_out)
{
	/* RFC 3550 §5.1: fixed header, CSRC list, extension (§5.3.1), padding. */
	if (len < 12 || (p[0] >> 6) != 2)
		return -1;
	size_t hdr = 12 + (size_t)(p[0] & 0x0f) * 4;
	if (hdr > len)
		return -1;
	if (p[0] & 0x10) {
		if (hdr + 4 > len)
			return -1;
		hdr += 4 + (size_t)pa_be16(p + hdr + 2) * 4;
		if (hdr > len)
			return -1;
	}
	size_t payload = len - hdr;
	if (p[0] & 0x20) {
		uint8_t pad = p[len - 1];
		if (pad == 0 || pad > payload)
			return -1;
		payload -= pad;
	}
	*hdr_out = hdr;
	*payload_out = payload;
	return 0;
}

void pa_rtp_packet(il_pcap_analysis *a, const pa_pkt *pkt, const uint8_t *p, size_t len)
{
	pa_rtp_packet_flow(a, pkt, NULL, p, len);
}

pa_rtp_stream *pa_rtp_packet_flow(il_pcap_analysis *a, const pa_pkt *pkt, pa_flow *f,
				  const uint8_t *p, size_t len)
{
	size_t hdr, payload;
	if (pa_rtp_parse(p, len, &hdr, &payload) < 0)
		return NULL;
	uint32_t ssrc = pa_be32(p + 8);
	bool created = false;
	pa_rtp_stream *s = f ? f->rtp_last : NULL;
	if (!s || s->key.ssrc != ssrc) {
		struct {
			pa_tuple_key tuple;
			uint32_t ssrc;
		} key;
		memset(&key, 0, sizeof key);
		if (f)
			key.tuple = f->key; /* the flow's key is this packet's 5-tuple */
		else
			pa_key_tuple(&key.tuple, pkt->transport, pkt->relayed, &pkt->src, &pkt->dst);
		key.ssrc = ssrc;
		s = pa_table_get(&a->rtp_streams, &key, sizeof *s, &created);
		if (!s)
			return NULL;
		if (f)
			f->rtp_last = s;
	}
	uint8_t pt = p[1] & 0x7f;
	if (created) {
		s->src = pkt->src;
		s->dst = pkt->dst;
		s->transport = pkt->transport;
		s->relayed = pkt->relayed;
		s->payload_type = pt;
		s->clock_rate = pa_rtp_clock_rate(pt);
		s->first_frame = pkt->frame;
		s->first_us = pkt->ts_us;
	} else if (pt != s->payload_type) {
		s->pt_changed = true;
	}
	s->packets++;
	s->bytes += payload;
	s->last_frame = pkt->frame;
	s->last_us = pkt->ts_us;
	uint64_t sec = pkt->ts_us >= a->first_us ? (pkt->ts_us - a->first_us) / US_PER_S : 0;
	if (sec < ACTIVE_SECONDS)
		s->active[sec / 8] |= (uint8_t)(1u << (sec % 8));
	sequence(s, pa_be16(p + 2));
	if (pt == s->payload_type)
		jitter(s, pkt->ts_us, pa_be32(p + 4));
	return s;
}
