/* The analysis as JSON (shape documented in pcaps/README.md) and as text
 * for people. Lists are sorted (by first frame) so output is stable. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pcaps_internal.h"

static const char *kind_names[KIND__COUNT] = {"stun", "channeldata", "dtls", "rtp",
					      "rtcp", "zrtp", "sip", "other"};
static const char *class_names[4] = {"request", "indication", "success", "error"};

static json_t *addr_json(const il_addr *a)
{
	char s[IL_ADDR_STRLEN];
	return json_string(pa_addr_str(a, s));
}

static double rel(const il_pcap_analysis *a, uint64_t us)
{
	return pa_rel_s(a, us);
}

struct sort_ctx {
	size_t off, key_len;
};

static int by_frame(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *c = arg;
	const uint8_t *a = *(void *const *)x, *b = *(void *const *)y;
	uint64_t fa, fb;
	memcpy(&fa, a + c->off, 8);
	memcpy(&fb, b + c->off, 8);
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return memcmp(a, b, c->key_len);
}

/* Entries of a table sorted by a frame number at byte offset off. */
static void **sorted(const pa_table *t, size_t off, size_t *n)
{
	*n = 0;
	void **v = malloc((t->count ? t->count : 1) * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i])
			v[(*n)++] = t->slots[i];
	struct sort_ctx c = {off, t->key_len};
	qsort_r(v, *n, sizeof *v, by_frame, &c);
	return v;
}

static json_t *stun_counts_json(const uint64_t counts[16][4])
{
	json_t *arr = json_array();
	for (int m = 0; m < 16; m++)
		for (int c = 0; c < 4; c++) {
			if (!counts[m][c])
				continue;
			const char *name = il_stun_method_name((uint16_t)m);
			char hex[8];
			if (!name) {
				snprintf(hex, sizeof hex, "0x%03x", m);
				name = hex;
			}
			json_array_append_new(arr, json_pack("{s:s,s:s,s:I}", "method", name, "class",
							     class_names[c], "count",
							     (json_int_t)counts[m][c]));
		}
	return arr;
}

static json_t *kinds_json(const uint64_t *k)
{
	json_t *o = json_object();
	for (int i = 0; i < KIND__COUNT; i++)
		json_object_set_new(o, kind_names[i], json_integer((json_int_t)k[i]));
	return o;
}

static json_t *rtp_json(const il_pcap_analysis *a)
{
	json_t *arr = json_array();
	size_t n;
	void **v = sorted(&a->rtp_streams, offsetof(pa_rtp_stream, first_frame), &n);
	for (size_t i = 0; v && i < n; i++) {
		const pa_rtp_stream *s = v[i];
		char ssrc[12];
		snprintf(ssrc, sizeof ssrc, "0x%08" PRIx32, s->key.ssrc);
		json_t *o = json_pack(
			"{s:o,s:o,s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:b}", "src",
			addr_json(&s->src), "dst", addr_json(&s->dst), "transport",
			s->transport == 6 ? "tcp" : "udp", "ssrc", ssrc, "payload_type",
			s->payload_type, "packets", (json_int_t)s->packets, "bytes",
			(json_int_t)s->bytes, "expected", (json_int_t)pa_rtp_expected(s), "lost",
			(json_int_t)pa_rtp_lost(s), "duplicates", (json_int_t)s->duplicates,
			"reordered", (json_int_t)s->reordered, "first_frame",
			(json_int_t)s->first_frame, "last_frame", (json_int_t)s->last_frame,
			"first_time", rel(a, s->first_us), "last_time", rel(a, s->last_us), "relayed",
			s->relayed);
		json_t *srtp = pa_srtp_stream_json(s);
		if (srtp)
			json_object_set_new(o, "srtp", srtp);
		if (s->clock_rate && s->jitter_n) {
			json_object_set_new(o, "clock_rate", json_integer(s->clock_rate));
			json_object_set_new(o, "jitter_ms_max",
					    json_real(s->jitter_max * 1000.0 / s->clock_rate));
			json_object_set_new(o, "jitter_ms_mean",
					    json_real(s->jitter_sum / (double)s->jitter_n * 1000.0 /
						      s->clock_rate));
		} else {
			json_object_set_new(o, "jitter_ms_max", json_null());
			json_object_set_new(o, "jitter_ms_mean", json_null());
		}
		if (s->pt_changed)
			json_object_set_new(o, "payload_type_changed", json_true());
		json_array_append_new(arr, o);
	}
	free(v);
	return arr;
}

json_t *il_pcap_stats_json(const il_pcap_analysis *a)
{
	const char *link = pcap_datalink_val_to_name(a->dlt);
	json_t *o = json_pack(
		"{s:I,s:I,s:f,s:s}", "frames", (json_int_t)a->frames, "bytes", (json_int_t)a->bytes,
		"duration", a->frames ? rel(a, a->last_us) : 0.0, "link_type", link ? link : "?");
	if (a->read_error[0])
		json_object_set_new(o, "read_error", json_string(a->read_error));
	json_object_set_new(
		o, "packets",
		json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "ipv4",
			  (json_int_t)a->ipv4, "ipv6", (json_int_t)a->ipv6, "udp",
			  (json_int_t)a->udp, "tcp", (json_int_t)a->tcp, "icmp", (json_int_t)a->icmp,
			  "fragments", (json_int_t)a->fragments, "reassembled",
			  (json_int_t)a->reassembled, "fragments_dropped",
			  (json_int_t)a->fragments_dropped, "truncated", (json_int_t)a->truncated,
			  "malformed_ip", (json_int_t)a->malformed_ip, "other_link",
			  (json_int_t)a->other_link, "other_ip", (json_int_t)a->other_ip));
	json_object_set_new(o, "tcp",
			    json_pack("{s:I,s:I,s:I,s:I,s:I}", "stun_frames",
				      (json_int_t)a->tcp_stun_frames, "gaps", (json_int_t)a->tcp_gaps,
				      "retransmitted", (json_int_t)a->tcp_retransmitted,
				      "tls_streams", (json_int_t)a->tls_streams, "broken",
				      (json_int_t)a->tcp_broken));
	json_object_set_new(o, "datagrams", kinds_json(a->kinds));
	json_object_set_new(o, "relayed", kinds_json(a->relayed_kinds));
	json_object_set_new(o, "stun", stun_counts_json(a->stun_counts));
	json_object_set_new(o, "stun_relayed", stun_counts_json(a->relayed_stun_counts));
	json_object_set_new(o, "stun_malformed", json_integer((json_int_t)a->stun_malformed));
	json_object_set_new(o, "channeldata",
			    json_integer((json_int_t)a->kinds[KIND_CHANNELDATA]));
	json_object_set_new(o, "rtp_streams", rtp_json(a));
	json_object_set_new(o, "tls", pa_tls_json(a));
	json_object_set_new(
		o, "sip",
		json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "messages",
			  (json_int_t)a->sip_messages, "requests", (json_int_t)a->sip_requests,
			  "responses", (json_int_t)a->sip_responses, "malformed",
			  (json_int_t)a->sip_malformed, "sdp", (json_int_t)a->sip_sdp, "sdp_unparsed",
			  (json_int_t)a->sip_sdp_unparsed, "over_tcp", (json_int_t)a->sip_tcp_messages,
			  "over_websocket", (json_int_t)a->sip_ws_messages, "calls",
			  (json_int_t)a->calls.count));
	json_object_set_new(
		o, "rtcp",
		json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "packets",
			  (json_int_t)a->rtcp_packets, "sr", (json_int_t)a->rtcp_sr, "rr",
			  (json_int_t)a->rtcp_rr, "sdes", (json_int_t)a->rtcp_sdes, "bye",
			  (json_int_t)a->rtcp_bye, "app", (json_int_t)a->rtcp_app, "xr",
			  (json_int_t)a->rtcp_xr, "other", (json_int_t)a->rtcp_other, "malformed",
			  (json_int_t)a->rtcp_malformed));
	json_object_set_new(o, "icmp_errors",
			    json_pack("{s:I,s:I}", "count", (json_int_t)a->icmp_errors, "unmatched",
				      (json_int_t)a->icmp_unmatched));
	return o;
}

static json_t *rtcp_reports_json(const il_pcap_analysis *a)
{
	json_t *arr = json_array();
	size_t n;
	void **v = sorted(&a->rtcp_reports, offsetof(pa_rtcp_report, first_frame), &n);
	for (size_t i = 0; v && i < n; i++) {
		const pa_rtcp_report *r = v[i];
		char s1[12], s2[12];
		snprintf(s1, sizeof s1, "0x%08" PRIx32, r->key.reporter);
		snprintf(s2, sizeof s2, "0x%08" PRIx32, r->key.source);
		json_array_append_new(
			arr, json_pack("{s:o,s:o,s:b,s:s,s:s,s:I,s:I,s:I,s:f,s:f,s:i,s:I,s:I}", "from",
				       addr_json(&r->from), "to", addr_json(&r->to), "relayed", r->relayed,
				       "reporter_ssrc", s1, "source_ssrc", s2, "reports",
				       (json_int_t)r->reports, "first_frame", (json_int_t)r->first_frame,
				       "last_frame", (json_int_t)r->last_frame, "fraction_lost",
				       r->fraction_lost / 256.0, "max_fraction_lost",
				       r->max_fraction_lost / 256.0, "cumulative_lost",
				       (int)r->cumulative_lost, "highest_seq", (json_int_t)r->highest_seq,
				       "jitter", (json_int_t)r->jitter));
	}
	free(v);
	return arr;
}

static const char *role_name(int r)
{
	return r == 1 ? "controlling" : r == 2 ? "controlled" : "unknown";
}

static json_t *ice_json(const il_pcap_analysis *a)
{
	json_t *arr = json_array();
	size_t n;
	void **v = sorted(&a->ice_pairs, offsetof(pa_ice_pair, first_frame), &n);
	for (size_t i = 0; v && i < n; i++) {
		const pa_ice_pair *p = v[i];
		const char *state = p->successes ? "succeeded"
				    : p->errors    ? "failed"
				    : p->no_response ? "no-response"
						     : "pending";
		json_t *o = json_pack(
			"{s:o,s:o,s:s,s:b,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:b,s:I}", "local",
			addr_json(&p->local), "remote", addr_json(&p->remote), "transport",
			p->transport == 6 ? "tcp" : "udp", "relayed", p->relayed, "username",
			p->username, "role", role_name(p->role), "state", state, "requests",
			(json_int_t)p->requests, "retransmits", (json_int_t)p->retransmits,
			"successes", (json_int_t)p->successes, "errors", (json_int_t)p->errors,
			"no_response", (json_int_t)p->no_response, "nominated", p->nominated,
			"first_frame", (json_int_t)p->first_frame);
		if (p->errors)
			json_object_set_new(o, "last_error", json_integer(p->last_error));
		if (p->nominated)
			json_object_set_new(o, "nominated_frame",
					    json_integer((json_int_t)p->nominated_frame));
		if (p->rtt_n)
			json_object_set_new(o, "rtt_ms",
					    json_pack("{s:f,s:f,s:f}", "min", p->rtt_min_ms, "mean",
						      p->rtt_sum_ms / (double)p->rtt_n, "max",
						      p->rtt_max_ms));
		json_array_append_new(arr, o);
	}
	free(v);
	return arr;
}

static const char *perm_state(int s)
{
	switch (s) {
	case PERM_PENDING: return "pending";
	case PERM_GRANTED: return "granted";
	case PERM_REFUSED: return "refused";
	default: return "none";
	}
}

static json_t *turn_json(const il_pcap_analysis *a)
{
	json_t *arr = json_array();
	size_t n;
	void **v = sorted(&a->allocations, offsetof(pa_turn_alloc, first_frame), &n);
	for (size_t i = 0; v && i < n; i++) {
		const pa_turn_alloc *t = v[i];
		json_t *o = json_pack(
			"{s:o,s:o,s:s,s:b,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "client",
			addr_json(&t->client), "server", addr_json(&t->server), "transport",
			t->transport == 6 ? "tcp" : "udp", "created_in_capture", t->created_seen,
			"deleted", t->deleted, "first_frame", (json_int_t)t->first_frame,
			"last_frame", (json_int_t)t->last_frame, "send_indications",
			(json_int_t)t->send_ind, "data_indications", (json_int_t)t->data_ind,
			"channeldata_to_server", (json_int_t)t->cd_to_server,
			"channeldata_from_server", (json_int_t)t->cd_from_server,
			"channeldata_unknown_channel", (json_int_t)t->cd_unknown_channel);
		if (t->have_relayed)
			json_object_set_new(o, "relayed", addr_json(&t->relayed));
		if (t->mapped.family)
			json_object_set_new(o, "mapped", addr_json(&t->mapped));
		if (t->created_seen) {
			json_object_set_new(o, "lifetime", json_integer(t->lifetime));
			json_object_set_new(o, "allocated_frame",
					    json_integer((json_int_t)t->alloc_frame));
		}
		json_t *peers = json_array();
		for (size_t k = 0; k < t->peer_count; k++) {
			const pa_turn_peer *p = &t->peers[k];
			json_array_append_new(
				peers, json_pack("{s:o,s:s,s:b,s:I,s:I,s:I}", "peer", addr_json(&p->peer),
						 "permission", perm_state(p->state), "ever_granted",
						 p->ever_granted, "to_peer", (json_int_t)p->to_peer,
						 "from_peer", (json_int_t)p->from_peer, "unpermitted",
						 (json_int_t)p->unpermitted_sends));
		}
		json_object_set_new(o, "peers", peers);
		json_t *chans = json_array();
		for (size_t k = 0; k < t->channel_count; k++) {
			const pa_turn_channel *c = &t->channels[k];
			char num[8];
			snprintf(num, sizeof num, "0x%04x", c->number);
			json_array_append_new(chans, json_pack("{s:s,s:o,s:s}", "channel", num, "peer",
							       addr_json(&c->peer), "state",
							       perm_state(c->state)));
		}
		json_object_set_new(o, "channels", chans);
		json_t *errs = json_array();
		for (size_t k = 0; k < t->error_count; k++) {
			const pa_turn_error *e = &t->errors[k];
			json_t *frames = json_array();
			for (uint8_t f = 0; f < e->evidence.count; f++)
				json_array_append_new(frames,
						      json_integer((json_int_t)e->evidence.frames[f]));
			json_array_append_new(
				errs, json_pack("{s:s,s:i,s:I,s:b,s:o}", "method",
						il_stun_method_name(e->method) ? il_stun_method_name(e->method)
									       : "?",
						"code", e->code, "count", (json_int_t)e->count,
						"retried_ok", e->retried_ok, "frames", frames));
		}
		json_object_set_new(o, "errors", errs);
		json_array_append_new(arr, o);
	}
	free(v);
	return arr;
}

static json_t *dtls_json(const il_pcap_analysis *a)
{
	json_t *arr = json_array();
	size_t n;
	void **v = sorted(&a->flows, offsetof(pa_flow, first_frame), &n);
	for (size_t i = 0; v && i < n; i++) {
		const pa_flow *f = v[i];
		if (!f->dtls_client_hello)
			continue;
		const pa_flow *r = pa_flow_find(a, f->transport, f->relayed, &f->dst, &f->src);
		bool done = r && ((f->dtls_ccs && r->dtls_ccs) ||
				  (f->dtls_appdata && r->dtls_appdata) ||
				  (f->dtls_ciphertext && r->dtls_ciphertext));
		json_array_append_new(
			arr, json_pack("{s:o,s:o,s:b,s:i,s:b,s:b,s:I}", "client", addr_json(&f->src),
				       "server", addr_json(&f->dst), "relayed", f->relayed,
				       "client_hellos", (int)f->dtls_client_hello, "server_hello",
				       r && r->dtls_server_hello, "completed", done, "first_frame",
				       (json_int_t)f->ch_first_frame));
	}
	free(v);
	return arr;
}

static json_t *findings_json(const il_pcap_analysis *a)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < a->finding_count; i++) {
		const pa_finding *f = &a->findings[i];
		json_t *frames = json_array();
		for (uint8_t k = 0; k < f->evidence.count; k++)
			json_array_append_new(frames, json_integer((json_int_t)f->evidence.frames[k]));
		json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "code", f->code, "severity",
				      il_pcap_severity_name(f->severity), "message", f->message,
				      "frames", frames);
		if (f->first_us)
			json_object_set_new(o, "time", json_real(rel(a, f->first_us)));
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *il_pcap_report_json(const il_pcap_analysis *a)
{
	json_t *o = json_object();
	if (a->scope_call_id[0])
		json_object_set_new(o, "call_filter", json_string(a->scope_call_id));
	json_object_set_new(o, "findings", findings_json(a));
	json_object_set_new(o, "stats", il_pcap_stats_json(a));
	json_object_set_new(o, "transactions",
			    json_pack("{s:I,s:I,s:I}", "retransmits", (json_int_t)a->stun_retransmits,
				      "unmatched_responses", (json_int_t)a->unmatched_responses,
				      "pending_at_end", (json_int_t)a->pending_at_end));
	json_object_set_new(o, "ice_pairs", ice_json(a));
	json_object_set_new(o, "turn_allocations", turn_json(a));
	json_object_set_new(o, "dtls", dtls_json(a));
	json_object_set_new(o, "calls", pa_calls_json(a));
	json_object_set_new(o, "rtcp_reports", rtcp_reports_json(a));
	return o;
}

/* ---- text */

static void print_stun_counts(FILE *out, const char *title, const uint64_t c[16][4])
{
	bool any = false;
	for (int m = 0; m < 16; m++)
		for (int k = 0; k < 4; k++) {
			if (!c[m][k])
				continue;
			if (!any)
				fprintf(out, "%s\n", title);
			any = true;
			const char *name = il_stun_method_name((uint16_t)m);
			fprintf(out, "  %-18s %-10s %8" PRIu64 "\n", name ? name : "?", class_names[k],
				c[m][k]);
		}
}

void il_pcap_stats_print(const il_pcap_analysis *a, FILE *out)
{
	const char *link = pcap_datalink_val_to_name(a->dlt);
	fprintf(out, "frames %" PRIu64 " (%s), %.3f s; IPv4 %" PRIu64 ", IPv6 %" PRIu64
		     ", UDP %" PRIu64 ", TCP %" PRIu64 ", reassembled IP datagrams %" PRIu64 "\n",
		a->frames, link ? link : "?", a->frames ? pa_rel_s(a, a->last_us) : 0.0, a->ipv4,
		a->ipv6, a->udp, a->tcp, a->reassembled);
	if (a->read_error[0])
		fprintf(out, "read error: %s\n", a->read_error);
	fprintf(out, "datagrams:");
	for (int i = 0; i < KIND__COUNT; i++)
		fprintf(out, " %s %" PRIu64, kind_names[i], a->kinds[i]);
	fprintf(out, "\nrelayed through TURN:");
	for (int i = 0; i < KIND__COUNT; i++)
		fprintf(out, " %s %" PRIu64, kind_names[i], a->relayed_kinds[i]);
	fputc('\n', out);
	print_stun_counts(out, "STUN messages:", a->stun_counts);
	print_stun_counts(out, "STUN messages relayed through TURN:", a->relayed_stun_counts);
	fprintf(out, "ChannelData %" PRIu64 "\n", a->kinds[KIND_CHANNELDATA]);
	if (a->sip_messages)
		fprintf(out, "SIP messages %" PRIu64 " (%" PRIu64 " requests, %" PRIu64
			     " responses, %" PRIu64 " with SDP), calls %zu\n",
			a->sip_messages, a->sip_requests, a->sip_responses, a->sip_sdp, a->calls.count);
	if (a->rtcp_packets)
		fprintf(out, "RTCP packets %" PRIu64 " (SR %" PRIu64 ", RR %" PRIu64 ", BYE %" PRIu64
			     ", malformed %" PRIu64 ")\n",
			a->rtcp_packets, a->rtcp_sr, a->rtcp_rr, a->rtcp_bye, a->rtcp_malformed);
	if (a->icmp_errors)
		fprintf(out, "ICMP errors %" PRIu64 " (%" PRIu64 " quoting no flow seen)\n",
			a->icmp_errors, a->icmp_unmatched);
	if (a->tls_flows.count)
		fprintf(out, "TLS streams %zu (encrypted: SIP over TLS on port 5061 cannot be read)\n",
			a->tls_flows.count);
	size_t n;
	void **v = sorted(&a->rtp_streams, offsetof(pa_rtp_stream, first_frame), &n);
	fprintf(out, "RTP streams: %zu\n", n);
	for (size_t i = 0; v && i < n; i++) {
		const pa_rtp_stream *s = v[i];
		char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
		fprintf(out,
			"  %s -> %s%s ssrc 0x%08" PRIx32 " pt %u packets %" PRIu64 " lost %" PRId64
			" dup %" PRIu64 " reordered %" PRIu64,
			pa_addr_str(&s->src, s1), pa_addr_str(&s->dst, s2),
			s->relayed ? " (relayed)" : "", s->key.ssrc, s->payload_type, s->packets,
			pa_rtp_lost(s), s->duplicates, s->reordered);
		if (s->clock_rate && s->jitter_n)
			fprintf(out, " jitter max %.2f ms", s->jitter_max * 1000.0 / s->clock_rate);
		json_t *srtp = pa_srtp_stream_json(s);
		if (srtp)
			fprintf(out, " SRTP authenticated %lld failed %lld replayed %lld",
				json_integer_value(json_object_get(srtp, "authenticated")),
				json_integer_value(json_object_get(srtp, "auth_failed")),
				json_integer_value(json_object_get(srtp, "replayed")));
		json_decref(srtp);
		fputc('\n', out);
	}
	free(v);
}

static void print_calls(const il_pcap_analysis *a, FILE *out)
{
	size_t n;
	pa_call **calls = pa_calls_sorted(a, &n);
	if (n)
		fprintf(out, "SIP calls: %zu\n", n);
	for (size_t i = 0; calls && i < n; i++) {
		const pa_call *c = calls[i];
		if (!c)
			continue;
		fprintf(out, "  %s: %" PRIu64 " messages, INVITE frame %" PRIu64, c->call_id,
			c->messages, c->invite_frame);
		if (c->final_code)
			fprintf(out, ", final %d (frame %" PRIu64 ")", c->final_code, c->final_frame);
		if (c->reinvites)
			fprintf(out, ", %" PRIu64 " re-INVITE%s", c->reinvites, c->reinvites == 1 ? "" : "s");
		if (c->bye_frame)
			fprintf(out, ", BYE frame %" PRIu64, c->bye_frame);
		fprintf(out, ", %zu SDP\n", c->sdp_count);
		for (uint8_t m = 0; m < c->media_count; m++)
			for (uint8_t s = 0; s < 2; s++) {
				const pa_call_side *cs = &c->sides[m][s];
				char s1[IL_ADDR_STRLEN] = "-";
				if (cs->adv_count)
					pa_addr_str(&cs->adv[cs->adv_count - 1], s1);
				fprintf(out, "    m%u %s %s %s: RTP sent %" PRIu64 ", received %" PRIu64 "\n", m,
					s ? "callee" : "caller", s1, pa_sdp_direction_name(cs->direction),
					c->dir_packets[m][s], cs->rx);
			}
	}
	free(calls);
}

void il_pcap_report_print(const il_pcap_analysis *a, FILE *out)
{
	if (a->scope_call_id[0])
		fprintf(out, "restricted to SIP call %s (its signalling, media, ICE and TURN)\n",
			a->scope_call_id);
	fprintf(out, "findings: %zu (%zu error, %zu warning)\n", a->finding_count,
		il_pcap_finding_count(a, IL_PCAP_ERROR),
		il_pcap_finding_count(a, IL_PCAP_WARNING) - il_pcap_finding_count(a, IL_PCAP_ERROR));
	for (size_t i = 0; i < a->finding_count; i++) {
		const pa_finding *f = &a->findings[i];
		fprintf(out, "  %-7s %s: %s [frames", il_pcap_severity_name(f->severity), f->code,
			f->message);
		for (uint8_t k = 0; k < f->evidence.count; k++)
			fprintf(out, "%s%" PRIu64, k ? ", " : " ", f->evidence.frames[k]);
		fprintf(out, "]\n");
	}
	fputc('\n', out);
	il_pcap_stats_print(a, out);
	size_t n;
	void **v = sorted(&a->ice_pairs, offsetof(pa_ice_pair, first_frame), &n);
	if (n)
		fprintf(out, "ICE candidate pairs: %zu\n", n);
	for (size_t i = 0; v && i < n; i++) {
		const pa_ice_pair *p = v[i];
		char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
		fprintf(out,
			"  %s -> %s%s %s checks %" PRIu64 " ok %" PRIu64 " errors %" PRIu64
			" unanswered %" PRIu64 "%s\n",
			pa_addr_str(&p->local, s1), pa_addr_str(&p->remote, s2),
			p->relayed ? " (relayed)" : "", role_name(p->role), p->requests, p->successes,
			p->errors, p->no_response, p->nominated ? " nominated" : "");
	}
	free(v);
	print_calls(a, out);
	v = sorted(&a->allocations, offsetof(pa_turn_alloc, first_frame), &n);
	if (n)
		fprintf(out, "TURN allocations: %zu\n", n);
	for (size_t i = 0; v && i < n; i++) {
		const pa_turn_alloc *t = v[i];
		char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN], s3[IL_ADDR_STRLEN] = "?";
		if (t->have_relayed)
			pa_addr_str(&t->relayed, s3);
		fprintf(out,
			"  %s -> %s (%s) relayed %s peers %zu channels %zu send %" PRIu64
			" data %" PRIu64 " channeldata %" PRIu64 "/%" PRIu64 "\n",
			pa_addr_str(&t->client, s1), pa_addr_str(&t->server, s2),
			t->transport == 6 ? "tcp" : "udp", s3, t->peer_count, t->channel_count,
			t->send_ind, t->data_ind, t->cd_to_server, t->cd_from_server);
	}
	free(v);
}
