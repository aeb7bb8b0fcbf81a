/* The diagnosis: ranked findings, each a code, a severity, one plain
 * sentence and the frame numbers that prove it (issue #7 §3). Runs once,
 * at the end of the capture, over the per-flow model. Codes and their
 * rules are listed in pcaps/README.md. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/peer_policy.h"
#include "pcaps_internal.h"

#define MEDIA_MIN_PACKETS 10          /* a direction that carries media */
#define ONE_WAY_GAP_US (2 * US_PER_S)  /* silence that counts as stopped */
#define ONE_WAY_MIN_US (2 * US_PER_S)  /* media long enough to judge */
#define CONSENT_TIMEOUT_US (30 * US_PER_S) /* RFC 7675 §5.1 */
#define CONSENT_MIN_UNANSWERED 3
#define RELAY_MIN_PACKETS 10

pa_finding *pa_finding_add(il_pcap_analysis *a, const char *code, enum il_pcap_severity sev,
			   const char *fmt, ...)
{
	if (a->finding_count == a->finding_cap) {
		size_t cap = a->finding_cap ? a->finding_cap * 2 : 16;
		pa_finding *f = realloc(a->findings, cap * sizeof *f);
		if (!f)
			return NULL;
		a->findings = f;
		a->finding_cap = cap;
	}
	pa_finding *f = &a->findings[a->finding_count++];
	memset(f, 0, sizeof *f);
	f->code = code;
	f->severity = sev;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof f->message, fmt, ap);
	va_end(ap);
	return f;
}

static void evidence_merge(pa_evidence *dst, const pa_evidence *src)
{
	for (uint8_t i = 0; i < src->count; i++)
		pa_evidence_add(dst, src->frames[i]);
}

/* ---- media */

static void one_way_media(il_pcap_analysis *a)
{
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
	for (size_t i = 0; i < a->flows.cap; i++) {
		pa_flow *f = a->flows.slots[i];
		if (!f || f->rtp_packets < MEDIA_MIN_PACKETS ||
		    f->rtp_last_us < f->rtp_first_us + ONE_WAY_MIN_US)
			continue;
		pa_flow *r = pa_flow_find(a, f->transport, f->relayed, &f->dst, &f->src);
		/* Media of a call with SDP is judged by calls.c, which knows the
		 * reverse direction from the SDP rather than assuming it. */
		if (f->in_call || (r && r->in_call))
			continue;
		const char *via = f->relayed ? " (relayed through TURN)" : "";
		pa_finding *x;
		if (!r || !r->rtp_packets) {
			x = pa_finding_add(a, "media-one-way", IL_PCAP_ERROR,
					   "One-way media%s: %s sends RTP to %s (%llu packets from "
					   "%.3f s) but nothing comes back: %s is silent for the "
					   "whole capture.",
					   via, pa_addr_str(&f->src, s1), pa_addr_str(&f->dst, s2),
					   (unsigned long long)f->rtp_packets,
					   pa_rel_s(a, f->rtp_first_us), s2);
			if (x) {
				x->first_us = f->rtp_first_us;
				pa_evidence_add(&x->evidence, f->rtp_first_frame);
				pa_evidence_add(&x->evidence, f->rtp_last_frame);
			}
			continue;
		}
		if (r->rtp_last_us + ONE_WAY_GAP_US > f->rtp_last_us)
			continue;
		x = pa_finding_add(a, "media-one-way", IL_PCAP_ERROR,
				   "One-way media%s: %s stopped sending RTP to %s at %.3f s "
				   "(last packet frame %llu) while %s kept sending for %.1f s "
				   "more.",
				   via, pa_addr_str(&r->src, s1), pa_addr_str(&r->dst, s2),
				   pa_rel_s(a, r->rtp_last_us), (unsigned long long)r->rtp_last_frame,
				   s2, (double)(f->rtp_last_us - r->rtp_last_us) / 1e6);
		if (x) {
			x->first_us = r->rtp_last_us;
			pa_evidence_add(&x->evidence, r->rtp_last_frame);
			pa_evidence_add(&x->evidence, f->rtp_last_frame);
		}
	}
}

/* RFC 792 / RFC 4443: an unreachable quoting a datagram of a media flow. */
static void icmp_unreachable(il_pcap_analysis *a)
{
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN], s3[IL_ADDR_STRLEN];
	for (size_t i = 0; i < a->flows.cap; i++) {
		pa_flow *f = a->flows.slots[i];
		if (!f || !f->icmp_unreachable)
			continue;
		bool media = f->rtp_packets || f->packets[KIND_RTCP] || f->packets[KIND_DTLS] ||
			     f->in_call;
		if (!media)
			continue;
		const char *what = f->icmp_v6 ? (f->icmp_code == 4 ? "port unreachable"
						  : f->icmp_code == 1 ? "administratively prohibited"
								      : "destination unreachable")
				   : (f->icmp_code == 3 ? "port unreachable"
				      : f->icmp_code == 1 ? "host unreachable"
				      : f->icmp_code == 13 ? "administratively prohibited"
							   : "destination unreachable");
		il_addr_format_ip(&f->icmp_from, s3, sizeof s3);
		pa_finding *x = pa_finding_add(
			a, "icmp-unreachable-media", IL_PCAP_ERROR,
			"ICMP %s from %s (%llu error%s from %.3f s): the %s that %s sends to %s is "
			"refused there; nothing receives it.",
			what, s3, (unsigned long long)f->icmp_unreachable,
			f->icmp_unreachable == 1 ? "" : "s", pa_rel_s(a, f->icmp_first_us),
			f->rtp_packets ? "RTP" : f->packets[KIND_DTLS] ? "DTLS" : "media",
			pa_addr_str(&f->src, s1), pa_addr_str(&f->dst, s2));
		if (x) {
			x->first_us = f->icmp_first_us;
			if (f->rtp_first_frame)
				pa_evidence_add(&x->evidence, f->rtp_first_frame);
			pa_evidence_add(&x->evidence, f->icmp_first_frame);
			pa_evidence_add(&x->evidence, f->icmp_last_frame);
		}
	}
}

static bool dtls_done(const pa_flow *f, const pa_flow *r)
{
	return (f->dtls_ccs && r->dtls_ccs) || (f->dtls_appdata && r->dtls_appdata) ||
	       (f->dtls_ciphertext && r->dtls_ciphertext);
}

static void dtls_incomplete(il_pcap_analysis *a)
{
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
	for (size_t i = 0; i < a->flows.cap; i++) {
		pa_flow *f = a->flows.slots[i];
		if (!f || !f->dtls_client_hello)
			continue;
		pa_flow *r = pa_flow_find(a, f->transport, f->relayed, &f->dst, &f->src);
		uint64_t last = f->last_us;
		if (r && r->last_us > last)
			last = r->last_us;
		if (last < f->dtls_first_us + NO_RESPONSE_GRACE_US)
			continue; /* the flow ends with the handshake: in progress, or cut */
		if (r && dtls_done(f, r))
			continue;
		if (r && r->dtls_client_hello && memcmp(&r->key, &f->key, sizeof f->key) < 0)
			continue; /* both sent ClientHello: report the pair once */
		pa_addr_str(&f->src, s1);
		pa_addr_str(&f->dst, s2);
		pa_finding *x;
		if (!r || !(r->packets[KIND_DTLS])) {
			x = pa_finding_add(a, "dtls-incomplete", IL_PCAP_ERROR,
					   "DTLS handshake never completed: %s sent %u ClientHello "
					   "to %s and got no DTLS answer.",
					   s1, f->dtls_client_hello, s2);
		} else if (!r->dtls_server_hello) {
			x = pa_finding_add(a, "dtls-incomplete", IL_PCAP_ERROR,
					   "DTLS handshake never completed: %s answered the "
					   "ClientHello of %s without a ServerHello%s.",
					   s2, s1,
					   r->dtls_hello_verify ? " (stuck after HelloVerifyRequest)" : "");
		} else {
			x = pa_finding_add(a, "dtls-incomplete", IL_PCAP_ERROR,
					   "DTLS handshake never completed between %s and %s: "
					   "ServerHello at frame %llu, but no ChangeCipherSpec or "
					   "encrypted data from both sides.",
					   s1, s2, (unsigned long long)r->sh_first_frame);
		}
		if (x) {
			x->first_us = f->dtls_first_us;
			pa_evidence_add(&x->evidence, f->ch_first_frame);
			if (r && r->sh_first_frame)
				pa_evidence_add(&x->evidence, r->sh_first_frame);
			pa_evidence_add(&x->evidence, f->dtls_last_frame);
			if (r && r->dtls_last_frame)
				pa_evidence_add(&x->evidence, r->dtls_last_frame);
		}
	}
}

/* ---- ICE */

/* The session of a pair: its ufrags in either order ("B:A" checks from A,
 * "A:B" from B), NUL-separated in sorted order. */
static void session_key(const pa_ice_pair *p, char out[sizeof p->username + 1])
{
	const char *u = p->username;
	const char *colon = strchr(u, ':');
	memset(out, 0, sizeof p->username + 1);
	if (!colon) {
		strcpy(out, u);
		return;
	}
	size_t l1 = (size_t)(colon - u), l2 = strlen(colon + 1);
	const char *x = u, *y = colon + 1;
	size_t lx = l1, ly = l2;
	int c = strncmp(x, y, lx < ly ? lx : ly);
	if (c > 0 || (c == 0 && lx > ly)) {
		x = colon + 1;
		lx = l2;
		y = u;
		ly = l1;
	}
	memcpy(out, x, lx);
	memcpy(out + lx + 1, y, ly);
}

static void ice_failed(il_pcap_analysis *a)
{
	size_t n = a->ice_pairs.count;
	if (!n)
		return;
	pa_ice_pair **pairs = malloc(n * sizeof *pairs);
	bool *done = calloc(n, sizeof *done);
	if (!pairs || !done) {
		free(pairs);
		free(done);
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < a->ice_pairs.cap; i++)
		if (a->ice_pairs.slots[i])
			pairs[k++] = a->ice_pairs.slots[i];
	char key[65], other[65];
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		session_key(pairs[i], key);
		uint64_t ok = 0, silent = 0, e401 = 0, e487 = 0, eother = 0, failed = 0;
		uint64_t first_us = UINT64_MAX;
		pa_evidence ev = {0};
		for (size_t j = i; j < n; j++) {
			session_key(pairs[j], other);
			if (done[j] || memcmp(key, other, sizeof key) != 0)
				continue;
			done[j] = true;
			const pa_ice_pair *p = pairs[j];
			if (p->successes) {
				ok++;
				continue;
			}
			if (!p->errors && !p->no_response)
				continue; /* still pending at the end */
			failed++;
			if (p->first_us < first_us)
				first_us = p->first_us;
			if (p->error_counts[0])
				e401++;
			else if (p->error_counts[1])
				e487++;
			else if (p->errors)
				eother++;
			else
				silent++;
			evidence_merge(&ev, &p->evidence);
		}
		if (ok || !failed)
			continue;
		char why[200] = "";
		size_t w = 0;
		if (silent)
			w += (size_t)snprintf(why + w, sizeof why - w, "%s%llu got no response",
					      w ? ", " : "", (unsigned long long)silent);
		if (e401 && w < sizeof why)
			w += (size_t)snprintf(why + w, sizeof why - w,
					      "%s%llu got 401 Unauthorized (wrong credentials)",
					      w ? ", " : "", (unsigned long long)e401);
		if (e487 && w < sizeof why)
			w += (size_t)snprintf(why + w, sizeof why - w, "%s%llu got 487 Role Conflict",
					      w ? ", " : "", (unsigned long long)e487);
		if (eother && w < sizeof why)
			snprintf(why + w, sizeof why - w, "%s%llu got another error",
				 w ? ", " : "", (unsigned long long)eother);
		const char *u2 = key + strlen(key) + 1;
		pa_finding *x = pa_finding_add(a, "ice-failed", IL_PCAP_ERROR,
					       "ICE failed (ufrags %s/%s): all %llu candidate pairs "
					       "checked failed: %s.",
					       key[0] ? key : "?", u2[0] ? u2 : "?",
					       (unsigned long long)failed, why);
		if (x) {
			x->evidence = ev;
			x->first_us = first_us;
		}
	}
	free(pairs);
	free(done);
}

static void consent_lost(il_pcap_analysis *a)
{
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
	for (size_t i = 0; i < a->ice_pairs.cap; i++) {
		pa_ice_pair *p = a->ice_pairs.slots[i];
		if (!p || !p->successes || p->unanswered_after_success < CONSENT_MIN_UNANSWERED)
			continue;
		if (a->last_us < p->last_success_us + CONSENT_TIMEOUT_US)
			continue;
		pa_finding *x = pa_finding_add(
			a, "ice-consent-lost", IL_PCAP_ERROR,
			"Consent lost: %s stopped answering the checks of %s after %.3f s (last "
			"answer frame %llu); %llu checks went unanswered for over 30 s "
			"(RFC 7675).",
			pa_addr_str(&p->remote, s2), pa_addr_str(&p->local, s1),
			pa_rel_s(a, p->last_success_us), (unsigned long long)p->last_success_frame,
			(unsigned long long)p->unanswered_after_success);
		if (x) {
			x->first_us = p->last_success_us;
			pa_evidence_add(&x->evidence, p->last_success_frame);
			pa_evidence_add(&x->evidence, p->first_unanswered_after_success_frame);
			pa_evidence_add(&x->evidence, p->last_unanswered_frame);
		}
	}
}

/* ---- TURN */

static const char *method_name(uint16_t m)
{
	const char *n = il_stun_method_name(m);
	return n ? n : "?";
}

static void turn_errors(il_pcap_analysis *a, const pa_turn_alloc *t)
{
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
	pa_addr_str(&t->client, s1);
	pa_addr_str(&t->server, s2);
	for (size_t i = 0; i < t->error_count; i++) {
		const pa_turn_error *e = &t->errors[i];
		enum il_pcap_severity sev = IL_PCAP_ERROR;
		const char *code = NULL, *what = NULL;
		switch (e->code) {
		case 401:
			if (!e->with_integrity || e->retried_ok)
				continue; /* the ordinary challenge (RFC 8656 §7.2) */
			code = "turn-error-401";
			what = "the server rejected the credentials";
			break;
		case 403:
			code = "turn-error-403";
			what = "the server refused the peer (Forbidden)";
			sev = IL_PCAP_WARNING;
			break;
		case 437:
			code = "turn-error-437";
			what = "Allocation Mismatch: the 5-tuple has no allocation, or already has one";
			break;
		case 438:
			code = "turn-error-438";
			what = "Stale Nonce";
			sev = e->retried_ok ? IL_PCAP_INFO : IL_PCAP_WARNING;
			break;
		case 441:
			code = "turn-error-441";
			what = "Wrong Credentials: the username differs from the allocation's";
			break;
		case 486:
			code = "turn-error-486";
			what = "Allocation Quota Reached";
			break;
		case 508:
			code = "turn-error-508";
			what = "Insufficient Capacity";
			break;
		default:
			code = "turn-error-other";
			what = il_stun_error_reason(e->code);
			if (!what)
				what = "an error";
			sev = IL_PCAP_WARNING;
			break;
		}
		if (e->retried_ok && sev == IL_PCAP_ERROR)
			sev = IL_PCAP_WARNING;
		if (e->code == 403) {
			/* Name the refused peers; another peer's success says nothing. */
			char peers[160] = "";
			size_t w = 0;
			for (size_t k = 0; k < t->peer_count && w < sizeof peers - IL_ADDR_STRLEN; k++) {
				if (t->peers[k].state != PERM_REFUSED)
					continue;
				char s3[IL_ADDR_STRLEN];
				w += (size_t)snprintf(peers + w, sizeof peers - w, "%s%s", w ? ", " : "",
						      pa_addr_str(&t->peers[k].peer, s3));
			}
			pa_finding *x = pa_finding_add(
				a, code, sev, "TURN server %s refused %s of %s for peer%s %s (403 Forbidden, "
				"%llu time%s): data to %s will not be relayed.",
				s2, method_name(e->method), s1, strchr(peers, ',') ? "s" : "",
				peers[0] ? peers : "?", (unsigned long long)e->count,
				e->count == 1 ? "" : "s", strchr(peers, ',') ? "them" : "it");
			if (x)
				x->evidence = e->evidence;
			continue;
		}
		pa_finding *x = pa_finding_add(a, code, sev,
					       "TURN %s from %s to %s failed with %d %s (%llu "
					       "time%s)%s.",
					       method_name(e->method), s1, s2, e->code, what,
					       (unsigned long long)e->count, e->count == 1 ? "" : "s",
					       e->retried_ok ? "; a later attempt succeeded" : "");
		if (x)
			x->evidence = e->evidence;
	}
}

static bool is_loopback_or_unspecified(const il_addr *a)
{
	static const uint8_t v6_loop[16] = {[15] = 1};
	static const uint8_t zero[16] = {0};
	if (a->family == IL_AF_INET)
		return a->ip[0] == 127 || memcmp(a->ip, zero, 4) == 0;
	return memcmp(a->ip, v6_loop, 16) == 0 || memcmp(a->ip, zero, 16) == 0 ||
	       (memcmp(a->ip, zero, 10) == 0 && a->ip[10] == 0xff && a->ip[11] == 0xff &&
		a->ip[12] == 127);
}

static void turn_peers(il_pcap_analysis *a, const pa_turn_alloc *t)
{
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN], s3[IL_ADDR_STRLEN];
	pa_addr_str(&t->client, s1);
	pa_addr_str(&t->server, s2);
	/* A relay whose listening or relayed address is itself private lives in
	 * a private network, where private peers may be legitimate. */
	bool server_internal = il_addr_is_private(&t->server) ||
			       (t->have_relayed && il_addr_is_private(&t->relayed));
	bool server_loopback = is_loopback_or_unspecified(&t->server);
	for (size_t i = 0; i < t->peer_count; i++) {
		const pa_turn_peer *p = &t->peers[i];
		pa_addr_str(&p->peer, s3);
		bool loop = is_loopback_or_unspecified(&p->peer);
		/* Security: a relay on the Internet must not reach its own host or
		 * the networks behind it. A lab server on a private network may
		 * relay to private peers; loopback is wrong unless the server is
		 * itself on loopback. */
		if (p->ever_granted && il_addr_is_private(&p->peer) &&
		    ((loop && !server_loopback) || !server_internal)) {
			const char *range = il_peer_range_name(&p->peer);
			pa_finding *x = pa_finding_add(
				a, "turn-permission-internal-peer", loop ? IL_PCAP_ERROR : IL_PCAP_WARNING,
				"Security: TURN server %s granted %s a permission to %s peer %s (%s)%s; "
				"a relay must refuse loopback and private peers (RFC 8656 §21).",
				s2, s1, loop ? "loopback" : "private", s3, range ? range : "internal",
				p->to_peer ? " and relayed data to it" : "");
			if (x) {
				x->evidence = p->grant;
				if (p->to_peer_first_frame)
					pa_evidence_add(&x->evidence, p->to_peer_first_frame);
			}
		}
		if (p->unpermitted_sends) {
			pa_finding *x = pa_finding_add(
				a, "turn-no-permission", IL_PCAP_ERROR,
				"%s sent %llu packet%s to peer %s through TURN server %s without a "
				"permission for that peer; the server drops them (RFC 8656 §9).",
				s1, (unsigned long long)p->unpermitted_sends,
				p->unpermitted_sends == 1 ? "" : "s", s3, s2);
			if (x)
				x->evidence = p->unpermitted;
		}
		uint64_t to = p->to_peer, from = p->from_peer;
		uint64_t big = to > from ? to : from, small = to > from ? from : to;
		if (big < RELAY_MIN_PACKETS || small * 10 > big)
			continue;
		if (to > from && p->unpermitted_sends * 2 >= to)
			continue; /* explained by turn-no-permission */
		pa_finding *x = pa_finding_add(
			a, "turn-relay-imbalance", IL_PCAP_WARNING,
			"TURN relay imbalance between %s and peer %s via %s: %llu packet%s sent "
			"to the peer (Send/ChannelData), %llu received from it (Data/ChannelData).",
			s1, s3, s2, (unsigned long long)to, to == 1 ? "" : "s",
			(unsigned long long)from);
		if (x) {
			if (p->to_peer_first_frame)
				pa_evidence_add(&x->evidence, p->to_peer_first_frame);
			if (p->from_peer_first_frame)
				pa_evidence_add(&x->evidence, p->from_peer_first_frame);
		}
	}
	if (t->unbound.count) {
		pa_finding *x = pa_finding_add(
			a, "turn-no-permission", IL_PCAP_ERROR,
			"%s sent ChannelData to TURN server %s on a channel it never bound "
			"(%llu message%s); the server drops them (RFC 8656 §12.4).",
			s1, s2, (unsigned long long)t->cd_unknown_channel,
			t->cd_unknown_channel == 1 ? "" : "s");
		if (x)
			x->evidence = t->unbound;
	}
}

static uint64_t first_frame(const pa_finding *f)
{
	uint64_t m = UINT64_MAX;
	for (uint8_t i = 0; i < f->evidence.count; i++)
		if (f->evidence.frames[i] < m)
			m = f->evidence.frames[i];
	return m;
}

static int rank(const void *x, const void *y)
{
	const pa_finding *a = x, *b = y;
	if (a->severity != b->severity)
		return a->severity > b->severity ? -1 : 1;
	uint64_t fa = first_frame(a), fb = first_frame(b);
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return strcmp(a->code, b->code);
}

void pa_diagnose(il_pcap_analysis *a)
{
	one_way_media(a);
	ice_failed(a);
	consent_lost(a);
	for (size_t i = 0; i < a->allocations.cap; i++) {
		pa_turn_alloc *t = a->allocations.slots[i];
		if (!t)
			continue;
		turn_errors(a, t);
		turn_peers(a, t);
	}
	dtls_incomplete(a);
	pa_calls_diagnose(a);
	icmp_unreachable(a);
	pa_tls_diagnose(a);
	pa_srtp_diagnose(a);
	for (size_t i = 0; i < a->finding_count; i++) {
		pa_evidence *e = &a->findings[i].evidence;
		/* evidence in frame order */
		for (uint8_t j = 1; j < e->count; j++)
			for (uint8_t k = j; k > 0 && e->frames[k - 1] > e->frames[k]; k--) {
				uint64_t tmp = e->frames[k];
				e->frames[k] = e->frames[k - 1];
				e->frames[k - 1] = tmp;
			}
	}
	if (a->finding_count > 1)
		qsort(a->findings, a->finding_count, sizeof *a->findings, rank);
}

void il_pcap_finish(il_pcap_analysis *a)
{
	if (a->finished)
		return;
	a->finished = true;
	pa_stun_expire(a, a->last_us, true);
	pa_diagnose(a);
}

size_t il_pcap_finding_count(const il_pcap_analysis *a, enum il_pcap_severity at_least)
{
	size_t n = 0;
	for (size_t i = 0; i < a->finding_count; i++)
		if (a->findings[i].severity >= at_least)
			n++;
	return n;
}

uint64_t il_pcap_frame_count(const il_pcap_analysis *a)
{
	return a->frames;
}

const char *il_pcap_severity_name(enum il_pcap_severity s)
{
	switch (s) {
	case IL_PCAP_ERROR: return "error";
	case IL_PCAP_WARNING: return "warning";
	default: return "info";
	}
}
