/* TCP stream reassembly for STUN and TURN over TCP, per direction of a
 * connection: in-order bytes are pushed into il_stream (RFC 8489 §6.2.2,
 * RFC 8656 §12.5 framing: several messages per segment, messages across
 * segments); each complete frame goes to the classifier with the frame
 * number of the segment that completed it. A stream framed the RFC 4571
 * way (a 2-byte length before each packet: ICE-TCP, RFC 6544) is
 * recognised from its first bytes. TLS is counted and skipped.
 *
 * Retransmitted bytes are skipped; a gap (a segment beyond the next
 * expected byte: loss in the capture) restarts the stream at the new
 * segment, counted in tcp_gaps. Memory: one IL_STREAM_MIN_CAP buffer per
 * direction that carries STUN. */
#include <stdlib.h>
#include <string.h>

#include "pcaps_internal.h"

#define TCP_SYN 0x02
#define TCP_FIN 0x01
#define TCP_RST 0x04

#define DETECT_LEN 10

enum stream_mode { MODE_UNKNOWN = 0, MODE_STUN, MODE_RFC4571, MODE_TLS, MODE_OTHER };

typedef struct tcp_dir {
	pa_tuple_key key;
	bool have_seq;
	uint32_t next_seq;
	enum stream_mode mode;
	uint8_t *buf;
	il_stream stream;   /* MODE_STUN */
	size_t start, end;  /* MODE_RFC4571: unread bytes in buf */
	uint8_t head[DETECT_LEN]; /* the first bytes, until there are enough to tell */
	size_t head_len;
} tcp_dir;

static bool looks_stun_or_cd(const uint8_t *p, size_t len)
{
	if (len >= 8 && p[0] <= 3 && pa_be32(p + 4) == IL_STUN_MAGIC_COOKIE)
		return true;
	return len >= 4 && p[0] >= 0x40 && p[0] <= 0x4f;
}

static enum stream_mode detect(const uint8_t *p, size_t len)
{
	if (len >= 3 && p[0] >= 20 && p[0] <= 23 && p[1] == 3)
		return MODE_TLS;
	if (len >= 10 && pa_be32(p + 6) == IL_STUN_MAGIC_COOKIE && p[2] <= 3 &&
	    pa_be16(p) == IL_STUN_HEADER_LEN + pa_be16(p + 4))
		return MODE_RFC4571;
	if (looks_stun_or_cd(p, len))
		return MODE_STUN;
	return MODE_OTHER;
}

static void restart(tcp_dir *d)
{
	d->mode = MODE_UNKNOWN;
	d->start = d->end = 0;
	d->head_len = 0;
	if (d->buf)
		il_stream_init(&d->stream, d->buf, IL_STREAM_MIN_CAP);
}

static void frames_stun(il_pcap_analysis *a, const pa_pkt *pkt, tcp_dir *d, const uint8_t *p,
			size_t len)
{
	while (len > 0) {
		size_t took = il_stream_push(&d->stream, p, len);
		p += took;
		len -= took;
		il_stream_frame fr;
		int r;
		while ((r = il_stream_next(&d->stream, &fr, NULL)) == 1) {
			a->tcp_stun_frames++;
			pa_classify_datagram(a, pkt, fr.bytes, fr.len);
		}
		if (r < 0) {
			a->tcp_broken++;
			d->mode = MODE_OTHER;
			return;
		}
		if (took == 0)
			return; /* cannot happen with a buffer that holds any frame */
	}
}

static void frames_rfc4571(il_pcap_analysis *a, const pa_pkt *pkt, tcp_dir *d,
			   const uint8_t *p, size_t len)
{
	while (len > 0) {
		if (d->start > 0 && d->end == IL_STREAM_MIN_CAP) {
			memmove(d->buf, d->buf + d->start, d->end - d->start);
			d->end -= d->start;
			d->start = 0;
		}
		size_t room = IL_STREAM_MIN_CAP - d->end;
		size_t n = len < room ? len : room;
		memcpy(d->buf + d->end, p, n);
		d->end += n;
		p += n;
		len -= n;
		while (d->end - d->start >= 2) {
			size_t flen = pa_be16(d->buf + d->start);
			if (d->end - d->start < 2 + flen)
				break;
			a->tcp_stun_frames++;
			pa_classify_datagram(a, pkt, d->buf + d->start + 2, flen);
			d->start += 2 + flen;
		}
		if (d->start == d->end)
			d->start = d->end = 0;
		if (n == 0)
			return;
	}
}

void pa_tcp_segment(il_pcap_analysis *a, const pa_pkt *pkt, uint32_t seq, uint8_t flags,
		    const uint8_t *payload, size_t len)
{
	pa_tuple_key key;
	pa_key_tuple(&key, 6, false, &pkt->src, &pkt->dst);
	bool created;
	tcp_dir *d = pa_table_get(&a->tcp_flows, &key, sizeof *d, &created);
	if (!d)
		return;
	if (flags & TCP_SYN) {
		restart(d);
		d->have_seq = true;
		d->next_seq = seq + 1;
		return;
	}
	if (len == 0)
		return;
	if (!d->have_seq) {
		d->have_seq = true;
		d->next_seq = seq;
	}
	uint32_t end_seq = seq + (uint32_t)len;
	int32_t ahead = (int32_t)(seq - d->next_seq);
	if (ahead < 0) {
		uint32_t behind = d->next_seq - seq; /* modulo 2^32: no signed negation */
		if (behind >= len) {
			a->tcp_retransmitted++;
			return;
		}
		payload += behind;
		len -= behind;
	} else if (ahead > 0) {
		a->tcp_gaps++;
		restart(d);
	}
	d->next_seq = end_seq;
	const uint8_t *head = NULL;
	size_t head_len = 0;
	if (d->mode == MODE_UNKNOWN) {
		/* A stream may start with a segment too short to recognise. */
		if (d->head_len + len < DETECT_LEN) {
			memcpy(d->head + d->head_len, payload, len);
			d->head_len += len;
			return;
		}
		uint8_t probe[DETECT_LEN];
		memcpy(probe, d->head, d->head_len);
		memcpy(probe + d->head_len, payload, DETECT_LEN - d->head_len);
		head = d->head;
		head_len = d->head_len;
		d->head_len = 0;
		d->mode = detect(probe, DETECT_LEN);
		if (d->mode == MODE_TLS)
			a->tls_streams++;
		if ((d->mode == MODE_STUN || d->mode == MODE_RFC4571) && !d->buf) {
			d->buf = malloc(IL_STREAM_MIN_CAP);
			if (!d->buf) {
				d->mode = MODE_OTHER;
				return;
			}
			il_stream_init(&d->stream, d->buf, IL_STREAM_MIN_CAP);
		}
	}
	if (d->mode == MODE_STUN) {
		if (head_len)
			frames_stun(a, pkt, d, head, head_len);
		if (d->mode == MODE_STUN)
			frames_stun(a, pkt, d, payload, len);
	} else if (d->mode == MODE_RFC4571) {
		if (head_len)
			frames_rfc4571(a, pkt, d, head, head_len);
		frames_rfc4571(a, pkt, d, payload, len);
	}
	if (flags & (TCP_FIN | TCP_RST)) {
		/* The connection ends; a later SYN starts afresh. */
		d->have_seq = false;
	}
}

void pa_tcp_free(il_pcap_analysis *a)
{
	for (size_t i = 0; i < a->tcp_flows.cap; i++) {
		tcp_dir *d = a->tcp_flows.slots[i];
		if (d)
			free(d->buf);
	}
	pa_table_free(&a->tcp_flows);
}
