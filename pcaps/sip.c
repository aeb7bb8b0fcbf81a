/* SIP on any port (RFC 3261): recognised by its start line, over UDP, TCP
 * (framed by Content-Length, RFC 3261 §18.3) and WebSocket (RFC 7118,
 * framed by tcp_reassembly.c). Calls are kept by Call-ID: the initial
 * INVITE, its final response, re-INVITEs, CANCEL and BYE, and the
 * offer/answer exchange (RFC 3264 §4, RFC 6337) of the SDP bodies, which
 * ref/sdp parses. Each SDP gives, per media line, the addresses its
 * sender advertised (c= and m=, and ICE candidates, RFC 8839) and its
 * direction (RFC 4566 §6: sendrecv, sendonly, recvonly, inactive); the
 * addresses go into a map that calls.c uses to tie RTP to calls.
 *
 * Sides: 0 is the caller (the From tag of the first message seen), 1 the
 * callee. A request comes from the side its From tag names; a response
 * from the other one. Proxies in the path do not change that. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/peer_policy.h"
#include "icelab/sdp.h"
#include "pcaps_internal.h"

#define SIP_START_LINE_MAX 2048
#define SIP_METHOD_MAX 20

typedef struct sip_view {
	bool request;
	char method[SIP_METHOD_MAX + 1];   /* request method, or the CSeq method of a response */
	int code;
	char reason[32];
	const char *call_id;
	size_t call_id_len;
	uint32_t cseq;
	char cseq_method[SIP_METHOD_MAX + 1];
	char from_tag[64], to_tag[64];
	bool sdp_body, multipart;
	long content_length;                /* -1 when absent */
	const uint8_t *body;
	size_t body_len;
} sip_view;

/* ---- recognising and framing */

static size_t line_end(const uint8_t *p, size_t len, size_t from)
{
	for (size_t i = from; i < len; i++)
		if (p[i] == '\n')
			return i;
	return len;
}

bool pa_sip_detect(const uint8_t *p, size_t len)
{
	if (len >= 12 && memcmp(p, "SIP/2.0 ", 8) == 0)
		return isdigit(p[8]) && isdigit(p[9]) && isdigit(p[10]);
	size_t i = 0;
	while (i < len && i <= SIP_METHOD_MAX && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	if (i < 3 || i > SIP_METHOD_MAX || i >= len || p[i] != ' ')
		return false;
	size_t max = len < SIP_START_LINE_MAX ? len : SIP_START_LINE_MAX;
	size_t e = line_end(p, max, i);
	if (e == max)
		return false;
	size_t end = e > 0 && p[e - 1] == '\r' ? e - 1 : e;
	return end >= i + 9 && memcmp(p + end - 8, " SIP/2.0", 8) == 0;
}

static bool name_is(const char *name, size_t nlen, const char *full, char compact)
{
	if (nlen == 1 && compact && tolower((unsigned char)name[0]) == compact)
		return true;
	return strlen(full) == nlen && strncasecmp(name, full, nlen) == 0;
}

static long parse_content_length(const char *v, size_t vlen)
{
	long n = 0;
	size_t i = 0;
	if (!vlen || !isdigit((unsigned char)v[0]))
		return -1;
	for (; i < vlen && isdigit((unsigned char)v[i]); i++) {
		n = n * 10 + (v[i] - '0');
		if (n > 10000000)
			return -1;
	}
	return n;
}

/* The end of the header block (the byte after the empty line), or 0. */
static size_t headers_end(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Calls fn for each header line of the block [start, end): name, value
 * (trimmed). Folded lines (RFC 3261 §7.3.1, obsolete) are taken as they
 * come: a continuation is not a header. */
typedef void (*header_fn)(const char *name, size_t nlen, const char *value, size_t vlen,
			  void *arg);

static void each_header(const uint8_t *p, size_t start, size_t end, header_fn fn, void *arg)
{
	size_t i = start;
	while (i < end) {
		size_t e = line_end(p, end, i);
		size_t le = e > i && p[e - 1] == '\r' ? e - 1 : e;
		const char *line = (const char *)p + i;
		size_t llen = le - i;
		i = e + 1;
		if (!llen || line[0] == ' ' || line[0] == '\t')
			continue;
		const char *colon = memchr(line, ':', llen);
		if (!colon)
			continue;
		size_t nlen = (size_t)(colon - line);
		while (nlen && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
			nlen--;
		const char *v = colon + 1;
		size_t vlen = llen - nlen - 1;
		vlen = (size_t)(line + llen - v);
		while (vlen && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		fn(line, nlen, v, vlen, arg);
	}
}

static void length_header(const char *name, size_t nlen, const char *v, size_t vlen, void *arg)
{
	if (name_is(name, nlen, "Content-Length", 'l'))
		*(long *)arg = parse_content_length(v, vlen);
}

long pa_sip_frame_length(const uint8_t *p, size_t len, size_t max)
{
	size_t scan = len < max ? len : max;
	size_t h = headers_end(p, scan);
	if (!h)
		return len >= max ? -1 : 0;
	long clen = -1;
	each_header(p, line_end(p, h, 0) + 1, h, length_header, &clen);
	if (clen < 0)
		clen = 0; /* RFC 3261 §18.3 requires it on streams; absent, no body */
	if (h + (size_t)clen > max)
		return -1;
	if (h + (size_t)clen > len)
		return 0;
	return (long)(h + (size_t)clen);
}

/* ---- parsing one message */

static void copy_token(char *out, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

/* The tag parameter of a From or To value. */
static void tag_param(const char *v, size_t vlen, char *out, size_t cap)
{
	out[0] = 0;
	/* parameters after the URI's closing '>' when there is one */
	const char *gt = memchr(v, '>', vlen);
	size_t from = gt ? (size_t)(gt - v) : 0;
	for (size_t i = from; i + 4 < vlen; i++) {
		if (v[i] != ';')
			continue;
		size_t k = i + 1;
		while (k < vlen && v[k] == ' ')
			k++;
		if (k + 4 > vlen || strncasecmp(v + k, "tag=", 4) != 0)
			continue;
		k += 4;
		size_t e = k;
		while (e < vlen && v[e] != ';' && v[e] != ' ' && v[e] != ',')
			e++;
		copy_token(out, cap, v + k, e - k);
		return;
	}
}

static void view_header(const char *name, size_t nlen, const char *v, size_t vlen, void *arg)
{
	sip_view *s = arg;
	if (name_is(name, nlen, "Call-ID", 'i')) {
		s->call_id = v;
		s->call_id_len = vlen;
	} else if (name_is(name, nlen, "CSeq", 0)) {
		size_t i = 0;
		uint32_t n = 0;
		while (i < vlen && isdigit((unsigned char)v[i]) && n < 429496729u)
			n = n * 10 + (uint32_t)(v[i++] - '0');
		s->cseq = n;
		while (i < vlen && v[i] == ' ')
			i++;
		copy_token(s->cseq_method, sizeof s->cseq_method, v + i, vlen - i);
	} else if (name_is(name, nlen, "From", 'f')) {
		tag_param(v, vlen, s->from_tag, sizeof s->from_tag);
	} else if (name_is(name, nlen, "To", 't')) {
		tag_param(v, vlen, s->to_tag, sizeof s->to_tag);
	} else if (name_is(name, nlen, "Content-Type", 'c')) {
		s->sdp_body = vlen >= 15 && strncasecmp(v, "application/sdp", 15) == 0;
		s->multipart = vlen >= 10 && strncasecmp(v, "multipart/", 10) == 0;
	} else if (name_is(name, nlen, "Content-Length", 'l')) {
		s->content_length = parse_content_length(v, vlen);
	}
}

static int sip_parse(const uint8_t *p, size_t len, sip_view *s)
{
	memset(s, 0, sizeof *s);
	s->content_length = -1;
	if (!pa_sip_detect(p, len))
		return -1;
	size_t e = line_end(p, len, 0);
	if (memcmp(p, "SIP/2.0 ", 8) == 0) {
		s->code = (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
		size_t le = e > 0 && p[e - 1] == '\r' ? e - 1 : e;
		if (le > 12)
			copy_token(s->reason, sizeof s->reason, (const char *)p + 12, le - 12);
	} else {
		s->request = true;
		const uint8_t *sp = memchr(p, ' ', e);
		copy_token(s->method, sizeof s->method, (const char *)p, (size_t)(sp - p));
	}
	size_t h = headers_end(p, len);
	size_t hend = h ? h : len;
	each_header(p, e + 1 < len ? e + 1 : len, hend, view_header, s);
	if (!s->call_id || !s->call_id_len || !s->cseq_method[0])
		return -1;
	if (!s->request)
		memcpy(s->method, s->cseq_method, sizeof s->method);
	if (h) {
		s->body = p + h;
		s->body_len = len - h;
		if (s->content_length >= 0 && (size_t)s->content_length < s->body_len)
			s->body_len = (size_t)s->content_length;
	}
	return 0;
}

/* The SDP part of a multipart body (RFC 5621): from a "v=0" line to the
 * next boundary line. */
static bool multipart_sdp(const uint8_t *b, size_t len, const uint8_t **out, size_t *olen)
{
	for (size_t i = 0; i + 3 <= len; i++) {
		if ((i == 0 || b[i - 1] == '\n') && memcmp(b + i, "v=0", 3) == 0) {
			size_t k = i;
			while (k < len) {
				size_t e = line_end(b, len, k);
				if (e + 3 <= len && b[e + 1] == '-' && b[e + 2] == '-') {
					*out = b + i;
					*olen = e + 1 - i;
					return true;
				}
				k = e + 1;
			}
			*out = b + i;
			*olen = len - i;
			return true;
		}
	}
	return false;
}

/* ---- SDP to a pa_sdp_rec */

static bool ip_text(const char *text, il_addr *out)
{
	char buf[64];
	size_t n = strlen(text);
	if (n && text[0] == '[' && text[n - 1] == ']') { /* seen in the wild on o= lines */
		text++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, text, n);
	buf[n] = 0;
	char *slash = strchr(buf, '/'); /* multicast TTL */
	if (slash)
		*slash = 0;
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, buf, out->ip) == 1) {
		out->family = IL_AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, out->ip) == 1) {
		out->family = IL_AF_INET6;
		return true;
	}
	return false;
}

static int direction_of(const il_sdp_line *lines, size_t n, int dflt)
{
	for (size_t i = 0; i < n; i++) {
		const il_sdp_line *l = &lines[i];
		if (l->len == 10 && memcmp(l->text, "a=sendrecv", 10) == 0)
			return SDP_SENDRECV;
		if (l->len == 10 && memcmp(l->text, "a=sendonly", 10) == 0)
			return SDP_SENDONLY;
		if (l->len == 10 && memcmp(l->text, "a=recvonly", 10) == 0)
			return SDP_RECVONLY;
		if (l->len == 10 && memcmp(l->text, "a=inactive", 10) == 0)
			return SDP_INACTIVE;
	}
	return dflt;
}

const char *pa_sdp_direction_name(uint8_t d)
{
	switch (d) {
	case SDP_SENDONLY: return "sendonly";
	case SDP_RECVONLY: return "recvonly";
	case SDP_INACTIVE: return "inactive";
	default: return "sendrecv";
	}
}

static int sdp_to_rec(il_pcap_analysis *a, const uint8_t *body, size_t len, pa_sdp_rec *r)
{
	if (!a->sdp_scratch) {
		a->sdp_scratch = malloc(sizeof(il_sdp_session));
		if (!a->sdp_scratch)
			return -1;
	}
	il_sdp_session *s = a->sdp_scratch;
	il_sdp_error err;
	if (il_sdp_parse((const char *)body, len, s, &err) != IL_SDP_OK)
		return -1;
	ip_text(s->origin.address, &r->origin);
	il_addr sess;
	memset(&sess, 0, sizeof sess);
	if (s->conn.present && ip_text(s->conn.address, &sess))
		r->session_conn = sess;
	int sess_dir = direction_of(s->lines, s->line_count, SDP_SENDRECV);
	r->media_count = (uint8_t)(s->media_count < CALL_MAX_MEDIA ? s->media_count : CALL_MAX_MEDIA);
	for (uint8_t i = 0; i < r->media_count; i++) {
		const il_sdp_media *m = &s->media[i];
		pa_sdp_media_info *mi = &r->media[i];
		copy_token(mi->media, sizeof mi->media, m->media, strlen(m->media));
		il_addr c;
		memset(&c, 0, sizeof c);
		bool have = m->conn.present ? ip_text(m->conn.address, &c) : sess.family != 0;
		if (!m->conn.present)
			c = sess;
		c.port = m->port;
		mi->have_addr = have && m->port != 0;
		mi->addr = c;
		mi->direction = (uint8_t)direction_of(m->lines, m->line_count, sess_dir);
		if (m->port == 0)
			mi->direction = SDP_INACTIVE; /* a rejected or disabled stream */
		mi->ice = m->candidate_count > 0;
		for (size_t k = 0; k < m->candidate_count; k++)
			if (m->candidates[k].cand.addr.family &&
			    !il_addr_is_private(&m->candidates[k].cand.addr))
				mi->ice_public = true;
	}
	return 0;
}

/* ---- the call model */

static pa_call *call_get(il_pcap_analysis *a, const sip_view *v, const pa_pkt *pkt)
{
	char key[CALL_ID_MAX];
	memset(key, 0, sizeof key);
	memcpy(key, v->call_id, v->call_id_len < CALL_ID_MAX - 1 ? v->call_id_len : CALL_ID_MAX - 1);
	bool created;
	pa_call *c = pa_table_get(&a->calls, key, sizeof *c, &created);
	if (!c)
		return NULL;
	if (created) {
		c->index = a->calls.count - 1;
		c->first_frame = pkt->frame;
		c->first_us = pkt->ts_us;
		memcpy(c->caller_tag, v->from_tag, sizeof c->caller_tag);
		bool from_caller = v->request;
		c->caller_sig = from_caller ? pkt->src : pkt->dst;
		c->callee_sig = from_caller ? pkt->dst : pkt->src;
	}
	c->last_frame = pkt->frame;
	c->last_us = pkt->ts_us;
	c->messages++;
	return c;
}

static uint8_t sender_side(const pa_call *c, const sip_view *v, const pa_pkt *pkt)
{
	bool from_caller_tag;
	if (c->caller_tag[0] && v->from_tag[0])
		from_caller_tag = strcmp(c->caller_tag, v->from_tag) == 0;
	else if (v->request)
		from_caller_tag = il_addr_equal(&pkt->src, &c->caller_sig);
	else
		from_caller_tag = il_addr_equal(&pkt->dst, &c->caller_sig);
	if (v->request)
		return from_caller_tag ? 0 : 1;
	return from_caller_tag ? 1 : 0;
}

static void side_add_addr(il_pcap_analysis *a, pa_call *c, uint8_t m, uint8_t side,
			  const il_addr *addr)
{
	pa_call_side *s = &c->sides[m][side];
	bool known = false;
	for (uint8_t i = 0; i < s->adv_count; i++)
		if (il_addr_equal(&s->adv[i], addr))
			known = true;
	if (!known) {
		if (s->adv_count == CALL_MAX_ADDRS) {
			memmove(s->adv, s->adv + 1, (CALL_MAX_ADDRS - 1) * sizeof s->adv[0]);
			s->adv_count--;
		}
		s->adv[s->adv_count++] = *addr;
	}
	uint8_t key[19];
	pa_key_addr(key, addr);
	pa_call_addr *e = pa_table_get(&a->call_addrs, key, sizeof *e, NULL);
	a->call_addrs_gen++;
	if (e) {
		e->call = c;
		e->media = m;
		e->side = side;
	}
}

static void apply_sdp(il_pcap_analysis *a, pa_call *c, const pa_sdp_rec *r,
		      const il_sdp_session *s)
{
	if (r->media_count > c->media_count)
		c->media_count = r->media_count;
	for (uint8_t i = 0; i < r->media_count; i++) {
		const pa_sdp_media_info *mi = &r->media[i];
		pa_call_side *side = &c->sides[i][r->side];
		side->direction = mi->direction;
		side->direction_frame = r->frame;
		side->direction_us = r->us;
		if (mi->have_addr) {
			side->adv_private = il_addr_is_private(&mi->addr);
			side_add_addr(a, c, i, r->side, &mi->addr);
		}
		/* ICE candidates of component 1 (RTP) are where media may go too */
		const il_sdp_media *m = &s->media[i];
		if (m->candidate_count)
			side->cand_types = side->cand_tcp = 0;
		for (size_t k = 0; k < m->candidate_count; k++) {
			const il_ice_candidate *cand = &m->candidates[k].cand;
			if (cand->component == 1 && cand->addr.family)
				side_add_addr(a, c, i, r->side, &cand->addr);
			if (cand->type <= IL_ICE_CAND_RELAY) {
				side->cand_types |= (uint8_t)(1u << cand->type);
				if (cand->transport == IL_ICE_TRANSPORT_TCP)
					side->cand_tcp |= (uint8_t)(1u << cand->type);
			}
		}
		const char *ufrag = il_sdp_media_ufrag(s, m);
		if (ufrag)
			snprintf(side->ufrag, sizeof side->ufrag, "%s", ufrag);
		/* SDES (RFC 4568 §9.1): the first a=crypto of a suite we can
		 * check; the key is the one this side encrypts its media with. */
		for (size_t k = 0; k < m->line_count; k++) {
			const il_sdp_line *l = &m->lines[k];
			pa_srtp_key key;
			if (l->len > 9 && memcmp(l->text, "a=crypto:", 9) == 0 &&
			    pa_srtp_parse_crypto(l->text + 9, l->len - 9, &key) == 0) {
				if (side->crypto.len != key.len ||
				    memcmp(side->crypto.key, key.key, key.len) != 0)
					a->srtp_keys_gen++;
				side->crypto = key;
				side->crypto_frame = r->frame;
				break;
			}
		}
	}
}

static void call_event(pa_call *c, const pa_pkt *pkt, const sip_view *v, bool sdp)
{
	if (c->event_count == CALL_MAX_EVENTS) {
		c->events_dropped++;
		return;
	}
	pa_call_event *e = &c->events[c->event_count++];
	e->frame = pkt->frame;
	e->us = pkt->ts_us;
	e->src = pkt->src;
	e->dst = pkt->dst;
	e->sdp = sdp;
	if (v->request)
		snprintf(e->label, sizeof e->label, "%s%s", v->method, sdp ? " (SDP)" : "");
	else
		snprintf(e->label, sizeof e->label, "%d %.16s (%.10s)%s", v->code % 1000, v->reason,
			 v->cseq_method, sdp ? " SDP" : "");
}

static void offer_answer(il_pcap_analysis *a, pa_call *c, const sip_view *v, const pa_pkt *pkt,
			 uint8_t side, const uint8_t *body, size_t len)
{
	pa_sdp_rec r;
	memset(&r, 0, sizeof r);
	r.frame = pkt->frame;
	r.us = pkt->ts_us;
	r.side = side;
	r.sig_src = pkt->src;
	r.sig_dst = pkt->dst;
	if (sdp_to_rec(a, body, len, &r) < 0) {
		a->sip_sdp_unparsed++;
		c->sdp_unparsed++;
		return;
	}
	a->sip_sdp++;
	/* RFC 3264 §4 and RFC 6337 §2: an SDP from the side that did not make
	 * the pending offer answers it; otherwise it is a new offer. */
	if (c->offer_pending && side != c->offer_side) {
		r.offer = false;
		if (!v->request && v->code >= 200)
			c->offer_pending = false;
		if (v->request)
			c->offer_pending = false;
	} else {
		r.offer = true;
		c->offer_pending = true;
		c->offer_side = side;
		c->offer_cseq = v->cseq;
	}
	apply_sdp(a, c, &r, a->sdp_scratch);
	if (c->sdp_count < CALL_MAX_SDP)
		c->sdps[c->sdp_count++] = r;
	else
		c->sdp_dropped++;
}

static void call_update(pa_call *c, const sip_view *v, const pa_pkt *pkt, uint8_t side)
{
	bool invite = strcmp(v->method, "INVITE") == 0;
	if (v->request) {
		if (invite && v->cseq != c->last_invite_cseq) { /* not a retransmission */
			c->last_invite_cseq = v->cseq;
			if (!c->invite_cseq || c->final_code >= 300) {
				/* the first INVITE, or a new attempt after a failure
				 * (a 401/407 challenge answered with credentials) */
				c->invite_cseq = v->cseq;
				c->invite_frame = pkt->frame;
				c->final_code = 0;
				c->invites++;
			} else {
				c->reinvites++;
			}
		} else if (strcmp(v->method, "BYE") == 0 && !c->bye_frame) {
			c->bye_frame = pkt->frame;
			c->bye_us = pkt->ts_us;
			c->bye_side = side;
		} else if (strcmp(v->method, "CANCEL") == 0 && !c->cancel_frame) {
			c->cancel_frame = pkt->frame;
		}
		return;
	}
	if (invite && v->cseq == c->invite_cseq && v->code >= 200 && !c->final_code) {
		c->final_code = v->code;
		c->final_frame = pkt->frame;
		c->final_us = pkt->ts_us;
	}
	/* a final response to the request that carried the pending offer
	 * ends the exchange: rejected (>= 300), or answered in a 2xx */
	if (c->offer_pending && v->cseq == c->offer_cseq && v->code >= 200 &&
	    (v->code >= 300 || side != c->offer_side))
		c->offer_pending = false;
	if (strcmp(v->method, "BYE") == 0 && v->code >= 200 && v->code < 300 && !c->bye_ok_frame)
		c->bye_ok_frame = pkt->frame;
}

static uint64_t body_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h | 1; /* never 0, the "none yet" value */
}

int pa_sip_message(il_pcap_analysis *a, const pa_pkt *pkt, const uint8_t *buf, size_t len)
{
	sip_view v;
	if (sip_parse(buf, len, &v) < 0) {
		if (pa_sip_detect(buf, len))
			a->sip_malformed++;
		return -1;
	}
	/* --call: the messages of other calls are not read (scope.c). */
	if (a->scope_call_id[0] && (v.call_id_len != strlen(a->scope_call_id) ||
				    memcmp(v.call_id, a->scope_call_id, v.call_id_len) != 0))
		return 1;
	a->sip_messages++;
	if (v.request)
		a->sip_requests++;
	else
		a->sip_responses++;
	pa_call *c = call_get(a, &v, pkt);
	if (!c)
		return 0;
	uint8_t side = sender_side(c, &v, pkt);
	const uint8_t *body = NULL;
	size_t blen = 0;
	if (v.body_len && v.sdp_body) {
		body = v.body;
		blen = v.body_len;
	} else if (v.body_len && v.multipart) {
		multipart_sdp(v.body, v.body_len, &body, &blen);
	}
	bool sdp = body && blen && (v.request || v.code < 300);
	call_event(c, pkt, &v, sdp);
	if (sdp) {
		/* The same body again from the same side (a retransmission, or the
		 * 200 repeating the 183's answer) is not a new offer or answer. */
		uint64_t h = body_hash(body, blen);
		if (c->last_sdp_hash[side] != h) {
			c->last_sdp_hash[side] = h;
			offer_answer(a, c, &v, pkt, side, body, blen);
		}
	}
	call_update(c, &v, pkt, side);
	return 0;
}

pa_call **pa_calls_sorted(const il_pcap_analysis *a, size_t *n)
{
	*n = 0;
	pa_call **v = calloc(a->calls.count ? a->calls.count : 1, sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < a->calls.cap; i++) {
		pa_call *c = a->calls.slots[i];
		if (c && c->index < a->calls.count)
			v[c->index] = c;
	}
	*n = a->calls.count;
	return v;
}

void pa_calls_free(il_pcap_analysis *a)
{
	pa_table_free(&a->calls);
	pa_table_free(&a->call_addrs);
	free(a->sdp_scratch);
	a->sdp_scratch = NULL;
}
