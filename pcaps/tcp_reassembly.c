/* TCP stream reassembly for STUN and TURN over TCP, per direction of a
 * connection: in-order bytes are pushed into il_stream (RFC 8489 §6.2.2,
 * RFC 8656 §12.5 framing: several messages per segment, messages across
 * segments); each complete frame goes to the classifier with the frame
 * number of the segment that completed it. A stream framed the RFC 4571
 * way (a 2-byte length before each packet: ICE-TCP, RFC 6544) is
 * recognised from its first bytes. TLS is counted and skipped. SIP
 * (RFC 3261 §18.3: framed by Content-Length) and SIP over WebSocket
 * (RFC 7118: an HTTP Upgrade, then RFC 6455 frames, client frames masked)
 * are framed here and handed to the classifier message by message.
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

enum stream_mode { MODE_UNKNOWN = 0, MODE_STUN, MODE_RFC4571, MODE_TLS, MODE_OTHER, MODE_SIP,
		   MODE_HTTP, MODE_WS };

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
	pa_tls_state tls;   /* MODE_TLS */
} tcp_dir;

static bool looks_stun_or_cd(const uint8_t *p, size_t len)
{
	if (len >= 8 && p[0] <= 3 && pa_be32(p + 4) == IL_STUN_MAGIC_COOKIE)
		return true;
	return len >= 4 && p[0] >= 0x40 && p[0] <= 0x4f;
}

/* A SIP start line ("INVITE sip:", "SIP/2.0 200") or an HTTP one ("GET /",
 * "HTTP/1.1 101"), from the first DETECT_LEN bytes. */
static enum stream_mode detect_text(const uint8_t *p, size_t len)
{
	if (len >= 8 && memcmp(p, "SIP/2.0 ", 8) == 0)
		return MODE_SIP;
	if (len >= 5 && (memcmp(p, "GET /", 5) == 0 || memcmp(p, "HTTP/", 5) == 0))
		return MODE_HTTP;
	size_t i = 0;
	while (i < len && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	return i >= 3 && i < len && p[i] == ' ' ? MODE_SIP : MODE_OTHER;
}

static enum stream_mode detect(const uint8_t *p, size_t len)
{
	if (len && p[0] >= 'A' && p[0] <= 'Z' && detect_text(p, len) != MODE_OTHER)
		return detect_text(p, len);
	if (pa_tls_detect(p, len))
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
	memset(&d->tls, 0, sizeof d->tls);
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

/* Appends to the unread bytes of buf; false when they do not fit (a
 * message larger than the buffer: the stream cannot be framed). */
static bool buffer_bytes(tcp_dir *d, const uint8_t *p, size_t len)
{
	if (d->start > 0) {
		memmove(d->buf, d->buf + d->start, d->end - d->start);
		d->end -= d->start;
		d->start = 0;
	}
	if (len > IL_STREAM_MIN_CAP - d->end)
		return false;
	memcpy(d->buf + d->end, p, len);
	d->end += len;
	return true;
}

/* RFC 3261 §18.3: messages framed by Content-Length; CRLF keep-alives
 * (RFC 5626 §3.5.1) between them skipped. */
static void frames_sip(il_pcap_analysis *a, const pa_pkt *pkt, tcp_dir *d)
{
	for (;;) {
		while (d->start < d->end && (d->buf[d->start] == '\r' || d->buf[d->start] == '\n'))
			d->start++;
		long n = pa_sip_frame_length(d->buf + d->start, d->end - d->start, IL_STREAM_MIN_CAP);
		if (n == 0)
			break;
		if (n < 0) {
			a->tcp_broken++;
			d->mode = MODE_OTHER;
			return;
		}
		a->sip_tcp_messages++;
		pa_classify_datagram(a, pkt, d->buf + d->start, (size_t)n);
		d->start += (size_t)n;
	}
	if (d->start == d->end)
		d->start = d->end = 0;
}

/* RFC 6455 §5.2 frames carrying SIP (RFC 7118 §5): text or binary, one
 * message per frame (fragmented messages are skipped), masked from the
 * client. Control frames are skipped. */
static void frames_ws(il_pcap_analysis *a, const pa_pkt *pkt, tcp_dir *d)
{
	for (;;) {
		const uint8_t *p = d->buf + d->start;
		size_t avail = d->end - d->start;
		if (avail < 2)
			break;
		bool fin = p[0] & 0x80, masked = p[1] & 0x80;
		uint8_t op = p[0] & 0x0f;
		size_t hdr = 2;
		uint64_t plen = p[1] & 0x7f;
		if (plen == 126) {
			if (avail < 4)
				break;
			plen = pa_be16(p + 2);
			hdr = 4;
		} else if (plen == 127) {
			if (avail < 10)
				break;
			plen = ((uint64_t)pa_be32(p + 2) << 32) | pa_be32(p + 6);
			hdr = 10;
		}
		if (masked)
			hdr += 4;
		if (plen > IL_STREAM_MIN_CAP - hdr) {
			a->tcp_broken++;
			d->mode = MODE_OTHER;
			return;
		}
		if (avail < hdr + plen)
			break;
		uint8_t *body = d->buf + d->start + hdr;
		if (masked)
			for (size_t i = 0; i < plen; i++)
				body[i] ^= p[hdr - 4 + (i & 3)];
		if (fin && (op == 1 || op == 2) && plen) {
			a->sip_ws_messages++;
			pa_classify_datagram(a, pkt, body, (size_t)plen);
		}
		d->start += hdr + (size_t)plen;
	}
	if (d->start == d->end)
		d->start = d->end = 0;
}

/* The HTTP Upgrade (RFC 6455 §4): headers up to the empty line; a
 * "websocket" upgrade switches to frames, anything else is not ours. */
static void http_upgrade(il_pcap_analysis *a, const pa_pkt *pkt, tcp_dir *d)
{
	const uint8_t *p = d->buf + d->start;
	size_t n = d->end - d->start;
	for (size_t i = 0; i + 3 < n; i++) {
		if (memcmp(p + i, "\r\n\r\n", 4) != 0)
			continue;
		bool ws = memmem(p, i, "websocket", 9) || memmem(p, i, "WebSocket", 9) ||
			  memmem(p, i, "Websocket", 9);
		d->start += i + 4;
		d->mode = ws ? MODE_WS : MODE_OTHER;
		if (ws)
			frames_ws(a, pkt, d);
		return;
	}
	if (n >= 16384)
		d->mode = MODE_OTHER;
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
		if ((d->mode == MODE_STUN || d->mode == MODE_RFC4571 || d->mode == MODE_SIP ||
		     d->mode == MODE_HTTP) && !d->buf) {
			d->buf = malloc(IL_STREAM_MIN_CAP);
			if (!d->buf) {
				d->mode = MODE_OTHER;
				return;
			}
			il_stream_init(&d->stream, d->buf, IL_STREAM_MIN_CAP);
		}
	}
	if (d->mode == MODE_TLS) {
		if (head_len)
			pa_tls_stream(a, pkt, &d->tls, head, head_len);
		pa_tls_stream(a, pkt, &d->tls, payload, len);
	} else if (d->mode == MODE_STUN) {
		if (head_len)
			frames_stun(a, pkt, d, head, head_len);
		if (d->mode == MODE_STUN)
			frames_stun(a, pkt, d, payload, len);
	} else if (d->mode == MODE_RFC4571) {
		if (head_len)
			frames_rfc4571(a, pkt, d, head, head_len);
		frames_rfc4571(a, pkt, d, payload, len);
	} else if (d->mode == MODE_SIP || d->mode == MODE_HTTP || d->mode == MODE_WS) {
		if ((head_len && !buffer_bytes(d, head, head_len)) || !buffer_bytes(d, payload, len)) {
			a->tcp_broken++;
			d->mode = MODE_OTHER;
		} else if (d->mode == MODE_SIP) {
			frames_sip(a, pkt, d);
		} else if (d->mode == MODE_HTTP) {
			http_upgrade(a, pkt, d);
		} else {
			frames_ws(a, pkt, d);
		}
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
