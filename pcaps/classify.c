/* Classification of each datagram (or stream frame) by RFC 7983 §7 first-
 * byte ranges (ref/stun/demux.c): STUN to the STUN model, ChannelData to
 * the TURN model (which unwraps it), DTLS records to the per-flow handshake
 * tracker, RTP to the stream statistics, RTCP, ZRTP and the rest counted.
 * Per-direction flows record what each 5-tuple carried and when. */
#include <string.h>

#include "icelab/demux.h"
#include "pcaps_internal.h"

pa_flow *pa_flow_get(il_pcap_analysis *a, const pa_pkt *pkt)
{
	pa_tuple_key key;
	pa_key_tuple(&key, pkt->transport, pkt->relayed, &pkt->src, &pkt->dst);
	bool created;
	pa_flow *f = pa_table_get(&a->flows, &key, sizeof *f, &created);
	if (!f)
		return NULL;
	if (created) {
		f->src = pkt->src;
		f->dst = pkt->dst;
		f->transport = pkt->transport;
		f->relayed = pkt->relayed;
		f->first_frame = pkt->frame;
		f->first_us = pkt->ts_us;
	}
	f->last_frame = pkt->frame;
	f->last_us = pkt->ts_us;
	return f;
}

pa_flow *pa_flow_find(const il_pcap_analysis *a, uint8_t transport, bool relayed,
		      const il_addr *src, const il_addr *dst)
{
	pa_tuple_key key;
	pa_key_tuple(&key, transport, relayed, src, dst);
	return pa_table_find(&a->flows, &key);
}

/* DTLS records in one datagram (RFC 6347 §4.1, RFC 9147 §4): plaintext
 * handshake messages tell ClientHello, ServerHello and HelloVerifyRequest;
 * ChangeCipherSpec, application data and RFC 9147 ciphertext (unified
 * header, first byte 001xxxxx) tell a handshake that went through. */
static void dtls_records(il_pcap_analysis *a, pa_flow *f, const pa_pkt *pkt, const uint8_t *p,
			 size_t len)
{
	if (!f->dtls_first_frame) {
		f->dtls_first_frame = pkt->frame;
		f->dtls_first_us = pkt->ts_us;
	}
	f->dtls_last_frame = pkt->frame;
	f->dtls_last_us = pkt->ts_us;
	while (len >= 13) {
		uint8_t type = p[0];
		if ((type & 0xe0) == 0x20) {
			f->dtls_ciphertext++;
			return; /* a unified header's length is optional: stop here */
		}
		size_t rlen = pa_be16(p + 11);
		uint16_t epoch = pa_be16(p + 3);
		if (13 + rlen > len)
			return;
		if (type == 22 && epoch == 0 && rlen >= 1) {
			uint8_t msg = p[13];
			if (msg == 1) {
				if (!f->dtls_client_hello) {
					f->ch_first_frame = pkt->frame;
					pa_event_log(a, pkt, "DTLS ClientHello");
				}
				f->dtls_client_hello++;
			} else if (msg == 2) {
				if (!f->dtls_server_hello) {
					f->sh_first_frame = pkt->frame;
					pa_event_log(a, pkt, "DTLS ServerHello");
				}
				f->dtls_server_hello++;
			} else if (msg == 3) {
				f->dtls_hello_verify++;
			}
		} else if (type == 20) {
			f->dtls_ccs++;
		} else if (type == 23) {
			f->dtls_appdata++;
		}
		p += 13 + rlen;
		len -= 13 + rlen;
	}
}

static int kind_of(enum il_demux_kind k)
{
	switch (k) {
	case IL_DEMUX_STUN: return KIND_STUN;
	case IL_DEMUX_CHANNELDATA: return KIND_CHANNELDATA;
	case IL_DEMUX_DTLS: return KIND_DTLS;
	case IL_DEMUX_RTP: return KIND_RTP;
	case IL_DEMUX_RTCP: return KIND_RTCP;
	case IL_DEMUX_ZRTP: return KIND_ZRTP;
	default: return KIND_OTHER;
	}
}

void il_pcap_set_stun_hook(il_pcap_analysis *a, il_pcap_stun_hook fn, void *ctx)
{
	a->stun_hook = fn;
	a->stun_hook_ctx = ctx;
}

void pa_classify_datagram(il_pcap_analysis *a, const pa_pkt *pkt, const uint8_t *buf,
			  size_t len)
{
	/* SIP on any port: its start line is text, which RFC 7983 files
	 * under ChannelData (64..79) or nothing. */
	if (len && buf[0] >= 'A' && buf[0] <= 'Z' && pa_sip_detect(buf, len)) {
		if (pa_sip_message(a, pkt, buf, len) == 1)
			return; /* another call than --call's: not counted */
		(pkt->relayed ? a->relayed_kinds : a->kinds)[KIND_SIP]++;
		pa_flow *sf = pa_flow_get(a, pkt);
		if (sf)
			sf->packets[KIND_SIP]++;
		return;
	}
	enum il_demux_kind dk = il_demux_classify(buf, len);
	int kind = kind_of(dk);
	/* RFC 7983 reads the first byte only; STUN also needs its magic
	 * cookie here (a classic RFC 3489 message is decoded all the same). */
	il_stun_msg msg;
	if (kind == KIND_STUN && il_stun_decode(buf, len, &msg, NULL) != IL_STUN_OK) {
		a->stun_malformed++;
		kind = KIND_OTHER;
	}
	il_channeldata cd;
	if (kind == KIND_CHANNELDATA && il_channeldata_decode(buf, len, &cd, NULL) != IL_STUN_OK) {
		a->channeldata_malformed++;
		kind = KIND_OTHER;
	}
	(pkt->relayed ? a->relayed_kinds : a->kinds)[kind]++;
	pa_flow *f = pa_flow_get(a, pkt);
	if (f)
		f->packets[kind]++;
	switch (kind) {
	case KIND_STUN:
		if (a->stun_hook && !pkt->relayed)
			a->stun_hook(a->stun_hook_ctx, pkt->frame, pkt->transport, &pkt->src,
				     &pkt->dst, buf, len);
		pa_stun_message(a, pkt, &msg);
		break;
	case KIND_CHANNELDATA:
		pa_turn_channeldata(a, pkt, &cd);
		break;
	case KIND_DTLS:
		if (f)
			dtls_records(a, f, pkt, buf, len);
		break;
	case KIND_RTP:
		if (f) {
			if (!f->rtp_packets) {
				f->rtp_first_frame = pkt->frame;
				f->rtp_first_us = pkt->ts_us;
			}
			f->rtp_packets++;
			f->rtp_last_frame = pkt->frame;
			f->rtp_last_us = pkt->ts_us;
		}
		{
			pa_rtp_stream *s = pa_rtp_packet_flow(a, pkt, f, buf, len);
			pa_call_media_packet(a, pkt, f);
			if (s && (a->srtp_keys_gen || s->srtp))
				pa_srtp_packet(a, pkt, f, s, buf, len);
		}
		break;
	case KIND_RTCP:
		pa_rtcp_packet(a, pkt, buf, len);
		break;
	default:
		break;
	}
}
