/* TLS over TCP (RFC 8446 §5.1, RFC 5246 §6.2): a stream whose first bytes
 * are a TLS record is walked record by record (type, version, length;
 * records may span segments, a segment may hold several) and counted per
 * direction: handshake, ChangeCipherSpec, alert and application data
 * records, the first ClientHello. The content is encrypted: SIP over TLS
 * (RFC 3261 §26.2, port 5061) is reported as such, with an info finding
 * when RTP flows that no visible SIP call explains are in the capture. */
#include <stdlib.h>
#include <string.h>

#include "pcaps_internal.h"

#define TLS_SIP_PORT 5061
#define TLS_MAX_RECORD (16384 + 2048) /* RFC 5246 §6.2.3: TLSCiphertext */

bool pa_tls_detect(const uint8_t *p, size_t len)
{
	/* ContentType 20..24 (RFC 8446 §5.1, heartbeat 24: RFC 6520),
	 * ProtocolVersion 3.x with x <= 4, a plausible length. */
	if (len < 5 || p[0] < 20 || p[0] > 24 || p[1] != 3 || p[2] > 4)
		return false;
	size_t rlen = pa_be16(p + 3);
	return rlen > 0 && rlen <= TLS_MAX_RECORD;
}

static pa_tls_flow *flow_get(il_pcap_analysis *a, const pa_pkt *pkt)
{
	pa_tuple_key key;
	pa_key_tuple(&key, 6, false, &pkt->src, &pkt->dst);
	bool created;
	pa_tls_flow *t = pa_table_get(&a->tls_flows, &key, sizeof *t, &created);
	if (t && created) {
		t->src = pkt->src;
		t->dst = pkt->dst;
		t->first_frame = pkt->frame;
		t->first_us = pkt->ts_us;
		t->sip = pkt->src.port == TLS_SIP_PORT || pkt->dst.port == TLS_SIP_PORT;
	}
	return t;
}

static void record(pa_tls_flow *t, const pa_pkt *pkt, const uint8_t *h)
{
	t->records++;
	switch (h[0]) {
	case 20: t->ccs++; break;
	case 21: t->alerts++; break;
	case 22: t->handshake++; break;
	case 23: t->appdata++; break;
	default: t->other++; break;
	}
	t->last_frame = pkt->frame;
}

void pa_tls_stream(il_pcap_analysis *a, const pa_pkt *pkt, pa_tls_state *st, const uint8_t *p,
		   size_t len)
{
	pa_tls_flow *t = flow_get(a, pkt);
	if (!t || st->broken)
		return;
	while (len) {
		if (st->need) {
			size_t n = len < st->need ? len : st->need;
			/* A plaintext handshake message's type is its first byte
			 * (before this direction's ChangeCipherSpec). */
			if (st->body_start && st->type == 22 && !t->ccs && p[0] == 1 &&
			    !t->client_hello_frame)
				t->client_hello_frame = pkt->frame;
			st->body_start = false;
			st->need -= n;
			p += n;
			len -= n;
			continue;
		}
		size_t take = 5 - st->hdr_len;
		if (take > len)
			take = len;
		memcpy(st->hdr + st->hdr_len, p, take);
		st->hdr_len += (uint8_t)take;
		p += take;
		len -= take;
		if (st->hdr_len < 5)
			return;
		st->hdr_len = 0;
		if (!pa_tls_detect(st->hdr, 5)) {
			/* Not a record header: lost sync (a gap), stop walking. */
			st->broken = true;
			t->broken = true;
			return;
		}
		record(t, pkt, st->hdr);
		st->type = st->hdr[0];
		st->need = pa_be16(st->hdr + 3);
		st->body_start = true;
	}
}

static int by_first_frame(const void *x, const void *y)
{
	const pa_tls_flow *a = *(pa_tls_flow *const *)x, *b = *(pa_tls_flow *const *)y;
	return a->first_frame < b->first_frame ? -1 : a->first_frame > b->first_frame;
}

/* The TLS flows in order of first frame (caller frees). */
static pa_tls_flow **sorted(const il_pcap_analysis *a, size_t *n)
{
	pa_tls_flow **v = malloc((a->tls_flows.count + 1) * sizeof *v);
	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < a->tls_flows.cap; i++)
		if (a->tls_flows.slots[i])
			v[(*n)++] = a->tls_flows.slots[i];
	qsort(v, *n, sizeof *v, by_first_frame);
	return v;
}

void pa_tls_diagnose(il_pcap_analysis *a)
{
	if (!a->tls_flows.count)
		return;
	size_t n, sip = 0, unexplained = 0;
	pa_tls_flow **v = sorted(a, &n);
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		sip += v[i]->sip;
	for (size_t i = 0; i < a->flows.cap; i++) {
		const pa_flow *f = a->flows.slots[i];
		if (f && f->rtp_packets && !f->in_call)
			unexplained++;
	}
	/* SIP over TLS (port 5061), or any TLS beside media no visible SIP
	 * explains: the signalling is there but cannot be read. */
	if (!sip && !unexplained) {
		free(v);
		return;
	}
	const pa_tls_flow *x = v[0];
	for (size_t i = 0; i < n; i++)
		if (v[i]->sip) {
			x = v[i];
			break;
		}
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
	pa_finding *f = pa_finding_add(
		a, "sip-tls", IL_PCAP_INFO,
		"SIP signalling is encrypted (TLS): calls cannot be analysed. %zu TLS "
		"stream(s)%s, e.g. %s -> %s (%llu records); %zu RTP flow(s) without visible "
		"signalling.",
		n, sip ? " on port 5061" : "", pa_addr_str(&x->src, s1), pa_addr_str(&x->dst, s2),
		(unsigned long long)x->records, unexplained);
	if (f) {
		f->first_us = x->first_us;
		for (size_t i = 0; i < n; i++)
			pa_evidence_add(&f->evidence, v[i]->client_hello_frame
							      ? v[i]->client_hello_frame
							      : v[i]->first_frame);
	}
	free(v);
}

json_t *pa_tls_json(const il_pcap_analysis *a)
{
	json_t *arr = json_array();
	size_t n;
	pa_tls_flow **v = sorted(a, &n);
	if (!v)
		return arr;
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
	for (size_t i = 0; i < n; i++) {
		const pa_tls_flow *t = v[i];
		json_array_append_new(
			arr, json_pack("{s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "src",
				       pa_addr_str(&t->src, s1), "dst", pa_addr_str(&t->dst, s2),
				       "sip", t->sip, "records", (json_int_t)t->records,
				       "handshake", (json_int_t)t->handshake, "change_cipher_spec",
				       (json_int_t)t->ccs, "alerts", (json_int_t)t->alerts,
				       "application_data", (json_int_t)t->appdata, "client_hello_frame",
				       (json_int_t)t->client_hello_frame, "first_frame",
				       (json_int_t)t->first_frame, "last_frame",
				       (json_int_t)t->last_frame, "broken", t->broken));
	}
	free(v);
	return arr;
}
