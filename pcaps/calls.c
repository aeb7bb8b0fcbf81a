/* RTP against the calls' SDP (issue #7 §3): each RTP packet is tied to a
 * call by its destination (an address some SDP advertised) or its source;
 * per media line and side, the sources that reached it and the
 * destinations it sent to are kept, with the packets in each direction,
 * the packets the SDP directions forbid, and those after the call ended.
 *
 * The diagnoses: one-way media per call, private or carrier-NAT addresses
 * in SDP offered to a public peer, RTP from an address other than the one
 * advertised (and whether the far end latched onto it: RFC 4961 symmetric
 * RTP), media sent to an address nobody advertised, direction conflicts
 * (RFC 3264 §5.1, §6.1), media after BYE or after a final failure. */
#include <stdlib.h>
#include <string.h>

#include "icelab/peer_policy.h"
#include "pcaps_internal.h"

#define DIRECTION_GRACE_US (1 * US_PER_S)  /* an SDP needs its answer, media in flight stops */
#define AFTER_END_GRACE_US (2 * US_PER_S)  /* after BYE / a failure: in-flight packets */
#define CALL_MEDIA_MIN_PACKETS 10
#define CALL_ONE_WAY_MIN_US (2 * US_PER_S)
#define CALL_ONE_WAY_GAP_US (2 * US_PER_S)

static pa_call_addr *addr_find(const il_pcap_analysis *a, const il_addr *addr)
{
	uint8_t key[19];
	pa_key_addr(key, addr);
	return pa_table_find(&a->call_addrs, key);
}

/* il_addr_equal, inline: this runs for every RTP packet of a call. */
static inline bool same_addr(const il_addr *a, const il_addr *b)
{
	if (a->port != b->port || a->family != b->family)
		return false;
	/* Constant lengths: the compiler compares in registers, no libc call. */
	return a->family == IL_AF_INET ? memcmp(a->ip, b->ip, 4) == 0
				       : memcmp(a->ip, b->ip, 16) == 0;
}

static void observe(pa_peer_obs *obs, uint8_t *count, const il_addr *addr, uint64_t frame)
{
	for (uint8_t i = 0; i < *count; i++)
		if (same_addr(&obs[i].addr, addr)) {
			obs[i].packets++;
			obs[i].last_frame = frame;
			return;
		}
	if (*count == CALL_MAX_PEERS)
		return;
	pa_peer_obs *o = &obs[(*count)++];
	o->addr = *addr;
	o->packets = 1;
	o->first_frame = o->last_frame = frame;
}

static void violation(pa_call_side *s, const pa_pkt *pkt, bool by_self)
{
	if (!s->dir_violations++) {
		s->violated_direction = s->direction;
		s->violated_sdp_frame = s->direction_frame;
		s->violation_by_self = by_self;
		pa_evidence_add(&s->dir_evidence, s->direction_frame);
	}
	pa_evidence_add(&s->dir_evidence, pkt->frame);
}

/* RFC 3264 §5.1: sendonly and inactive streams receive nothing,
 * recvonly and inactive ones send nothing. */
static void check_direction(pa_call_side *from, pa_call_side *to, const pa_pkt *pkt)
{
	if (to->direction_frame &&
	    (to->direction == SDP_SENDONLY || to->direction == SDP_INACTIVE) &&
	    pkt->ts_us >= to->direction_us + DIRECTION_GRACE_US)
		violation(to, pkt, false);
	else if (from->direction_frame &&
		 (from->direction == SDP_RECVONLY || from->direction == SDP_INACTIVE) &&
		 pkt->ts_us >= from->direction_us + DIRECTION_GRACE_US)
		violation(from, pkt, true);
}

void pa_call_media_packet(il_pcap_analysis *a, const pa_pkt *pkt, pa_flow *f)
{
	if (!a->call_addrs.count)
		return;
	pa_call_addr *d, *s;
	if (f) {
		/* An entry found stays valid (entries are updated in place,
		 * never removed); one not found is looked for again only when
		 * an SDP added addresses since. */
		if (f->call_gen != a->call_addrs_gen) {
			if (!f->call_dst)
				f->call_dst = addr_find(a, &pkt->dst);
			if (!f->call_src)
				f->call_src = addr_find(a, &pkt->src);
			f->call_gen = a->call_addrs_gen;
		}
		d = f->call_dst;
		s = f->call_src;
	} else {
		d = addr_find(a, &pkt->dst);
		s = addr_find(a, &pkt->src);
	}
	if (d && s && (d->call != s->call || d->media != s->media || d->side == s->side))
		s = NULL; /* the destination decides */
	if (!d && !s)
		return;
	pa_call *c = d ? d->call : s->call;
	uint8_t m = d ? d->media : s->media;
	uint8_t to = d ? d->side : (uint8_t)(1 - s->side);
	uint8_t from = (uint8_t)(1 - to);
	if (f)
		f->in_call = true;
	pa_call_side *rx = &c->sides[m][to], *tx = &c->sides[m][from];
	/* After the BYE (or a final failure) media is only counted as such:
	 * one-way and direction judge the call while it lasted. */
	uint64_t end_us = c->bye_frame ? c->bye_us : c->final_code >= 300 ? c->final_us : 0;
	bool ended = c->bye_frame || c->final_code >= 300;
	if (ended && pkt->ts_us > end_us + AFTER_END_GRACE_US) {
		if (!c->after_end++)
			c->after_end_first_us = pkt->ts_us;
		pa_evidence_add(&c->after_end_evidence, pkt->frame);
		return;
	}
	if (ended && pkt->ts_us > end_us)
		return; /* in flight when the call ended */
	if (!c->dir_packets[m][from]++) {
		c->dir_first_frame[m][from] = pkt->frame;
		c->dir_first_us[m][from] = pkt->ts_us;
	}
	c->dir_last_frame[m][from] = pkt->frame;
	c->dir_last_us[m][from] = pkt->ts_us;
	if (d) {
		if (!rx->rx++) {
			rx->rx_first_frame = pkt->frame;
			rx->rx_first_us = pkt->ts_us;
		}
		rx->rx_last_frame = pkt->frame;
		rx->rx_last_us = pkt->ts_us;
		observe(rx->sources, &rx->source_count, &pkt->src, pkt->frame);
	}
	if (s)
		observe(tx->dests, &tx->dest_count, &pkt->dst, pkt->frame);
	check_direction(tx, rx, pkt);
}

/* ---- diagnosis */

static bool in_addrs(const il_addr *set, uint8_t n, const il_addr *x)
{
	for (uint8_t i = 0; i < n; i++)
		if (il_addr_equal(&set[i], x))
			return true;
	return false;
}

static bool in_obs(const pa_peer_obs *set, uint8_t n, const il_addr *x)
{
	for (uint8_t i = 0; i < n; i++)
		if (il_addr_equal(&set[i].addr, x))
			return true;
	return false;
}

static const char *side_name(uint8_t side)
{
	return side ? "callee" : "caller";
}

/* "the caller (192.0.2.10:4000)" */
static const char *who(const pa_call *c, uint8_t m, uint8_t side, char *buf, size_t cap)
{
	const pa_call_side *s = &c->sides[m][side];
	char addr[IL_ADDR_STRLEN];
	if (s->adv_count)
		snprintf(buf, cap, "the %s (%s)", side_name(side),
			 pa_addr_str(&s->adv[s->adv_count - 1], addr));
	else
		snprintf(buf, cap, "the %s", side_name(side));
	return buf;
}

static void private_sdp(il_pcap_analysis *a, const pa_call *c)
{
	for (uint8_t side = 0; side < 2; side++) {
		const pa_sdp_rec *first = NULL;
		bool conn_private = false, origin_private = false, ice_public = false;
		il_addr shown;
		const char *line = "o=";
		pa_evidence ev = {0};
		for (size_t i = 0; i < c->sdp_count; i++) {
			const pa_sdp_rec *r = &c->sdps[i];
			if (r->side != side)
				continue;
			/* the peer: where the SDP went, or what the other side advertised */
			bool peer_public = !il_addr_is_private(&r->sig_dst);
			for (uint8_t m = 0; m < c->media_count && !peer_public; m++) {
				const pa_call_side *o = &c->sides[m][1 - side];
				for (uint8_t k = 0; k < o->adv_count; k++)
					if (!il_addr_is_private(&o->adv[k]))
						peer_public = true;
			}
			if (!peer_public)
				continue;
			bool hit = false;
			for (uint8_t m = 0; m < r->media_count; m++) {
				const pa_sdp_media_info *mi = &r->media[m];
				if (mi->have_addr && il_addr_is_private(&mi->addr)) {
					if (!conn_private)
						shown = mi->addr;
					conn_private = hit = true;
					line = "c=";
					ice_public |= mi->ice_public;
				}
			}
			if (r->origin.family && il_addr_is_private(&r->origin)) {
				if (!conn_private && !origin_private)
					shown = r->origin;
				origin_private = hit = true;
			}
			if (hit) {
				if (!first)
					first = r;
				pa_evidence_add(&ev, r->frame);
			}
		}
		if (!first)
			continue;
		char ip[IL_ADDR_STRLEN], peer[IL_ADDR_STRLEN];
		il_addr_format_ip(&shown, ip, sizeof ip);
		il_addr_format_ip(&first->sig_dst, peer, sizeof peer);
		const char *range = il_peer_range_name(&shown);
		enum il_pcap_severity sev = conn_private && !ice_public ? IL_PCAP_WARNING : IL_PCAP_INFO;
		pa_finding *x = pa_finding_add(
			a, "sdp-private-address", sev,
			"Call %s: the %s's SDP (frame %llu) advertises the %s address %s (%s) in "
			"%s%s to the public peer %s: %s",
			c->call_id, side_name(side), (unsigned long long)first->frame,
			range && strstr(range, "6598") ? "carrier-NAT" : "private", ip,
			range ? range : "internal", line,
			conn_private && origin_private ? " and o=" : "", peer,
			!conn_private ? "o= is informational, but it leaks the inside address."
			: ice_public ? "ICE candidates offer a public address as well."
				     : "media sent there cannot arrive unless the far end latches "
				       "(RFC 4961) or an SBC rewrites the SDP.");
		if (x) {
			x->evidence = ev;
			x->first_us = first->us;
		}
	}
}

static const pa_peer_obs *busiest(const pa_peer_obs *o, uint8_t n, const pa_call_side *adv,
				  bool advertised)
{
	const pa_peer_obs *best = NULL;
	for (uint8_t i = 0; i < n; i++)
		if (in_addrs(adv->adv, adv->adv_count, &o[i].addr) == advertised &&
		    (!best || o[i].packets > best->packets))
			best = &o[i];
	return best;
}

/* RTP reaching side `to` from an address the other side did not advertise. */
static void source_mismatch(il_pcap_analysis *a, const pa_call *c, uint8_t m, uint8_t to)
{
	const pa_call_side *rx = &c->sides[m][to], *peer = &c->sides[m][1 - to];
	if (!peer->adv_count)
		return;
	const pa_peer_obs *src = busiest(rx->sources, rx->source_count, peer, false);
	if (!src)
		return;
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN], w1[96], w2[96];
	pa_addr_str(&src->addr, s1);
	pa_addr_str(&peer->adv[peer->adv_count - 1], s2);
	const pa_peer_obs *latched = NULL, *to_adv = NULL;
	for (uint8_t i = 0; i < rx->dest_count; i++) {
		if (il_addr_equal(&rx->dests[i].addr, &src->addr))
			latched = &rx->dests[i];
		else if (in_addrs(peer->adv, peer->adv_count, &rx->dests[i].addr))
			to_adv = &rx->dests[i];
	}
	who(c, m, to, w1, sizeof w1);
	snprintf(w2, sizeof w2, "the %s", side_name((uint8_t)(1 - to)));
	pa_finding *x;
	if (latched) {
		x = pa_finding_add(a, "media-source-mismatch", IL_PCAP_INFO,
				   "Call %s: RTP of %s comes from %s, not from %s that its SDP "
				   "advertised (a NAT); %s latched onto it and sends its RTP there "
				   "(symmetric RTP, RFC 4961).",
				   c->call_id, w2, s1, s2, w1);
	} else if (to_adv) {
		x = pa_finding_add(a, "media-source-mismatch", IL_PCAP_ERROR,
				   "Call %s: RTP of %s comes from %s, not from %s that its SDP "
				   "advertised (a NAT), but %s keeps sending to the advertised %s "
				   "(%llu packets): latching is needed and not done, so %s hears "
				   "nothing.",
				   c->call_id, w2, s1, s2, w1, s2, (unsigned long long)to_adv->packets,
				   w2);
	} else {
		x = pa_finding_add(a, "media-source-mismatch", IL_PCAP_WARNING,
				   "Call %s: RTP of %s comes from %s, not from %s that its SDP "
				   "advertised (a NAT in the path); media back to it must go to the "
				   "source address (latching), not to the SDP's.",
				   c->call_id, w2, s1, s2);
	}
	if (x) {
		x->first_us = rx->rx_first_us;
		pa_evidence_add(&x->evidence, peer->direction_frame);
		pa_evidence_add(&x->evidence, src->first_frame);
		if (to_adv && !latched)
			pa_evidence_add(&x->evidence, to_adv->first_frame);
		if (latched)
			pa_evidence_add(&x->evidence, latched->first_frame);
	}
}

static void unadvertised(il_pcap_analysis *a, const pa_call *c, uint8_t m, uint8_t from)
{
	const pa_call_side *tx = &c->sides[m][from], *peer = &c->sides[m][1 - from];
	if (!peer->adv_count)
		return;
	for (uint8_t i = 0; i < tx->dest_count; i++) {
		const pa_peer_obs *d = &tx->dests[i];
		if (in_addrs(peer->adv, peer->adv_count, &d->addr) ||
		    in_obs(tx->sources, tx->source_count, &d->addr))
			continue;
		char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN], w[96];
		pa_finding *x = pa_finding_add(
			a, "media-unadvertised-destination", IL_PCAP_ERROR,
			"Call %s: %s sends RTP to %s (%llu packets), an address no SDP of the call "
			"advertised and no RTP came from; the %s advertised %s.",
			c->call_id, who(c, m, from, w, sizeof w), pa_addr_str(&d->addr, s1),
			(unsigned long long)d->packets, side_name((uint8_t)(1 - from)),
			pa_addr_str(&peer->adv[peer->adv_count - 1], s2));
		if (x) {
			pa_evidence_add(&x->evidence, peer->direction_frame);
			pa_evidence_add(&x->evidence, d->first_frame);
			pa_evidence_add(&x->evidence, d->last_frame);
		}
	}
}

static bool intended_one_way(const pa_call *c, uint8_t m, uint8_t silent)
{
	uint8_t s = c->sides[m][silent].direction, o = c->sides[m][1 - silent].direction;
	return s == SDP_RECVONLY || s == SDP_INACTIVE || o == SDP_SENDONLY || o == SDP_INACTIVE;
}

static void call_one_way(il_pcap_analysis *a, const pa_call *c, uint8_t m)
{
	/* Before a 2xx, media one way is early media (RFC 3960): ringback. */
	if (c->invite_frame && (c->final_code < 200 || c->final_code >= 300))
		return;
	for (uint8_t talk = 0; talk < 2; talk++) {
		uint8_t silent = (uint8_t)(1 - talk);
		uint64_t n = c->dir_packets[m][talk];
		if (n < CALL_MEDIA_MIN_PACKETS ||
		    c->dir_last_us[m][talk] < c->dir_first_us[m][talk] + CALL_ONE_WAY_MIN_US)
			continue;
		if (intended_one_way(c, m, silent))
			continue;
		char w1[96], w2[96];
		who(c, m, talk, w1, sizeof w1);
		who(c, m, silent, w2, sizeof w2);
		pa_finding *x;
		if (!c->dir_packets[m][silent]) {
			x = pa_finding_add(a, "media-one-way", IL_PCAP_ERROR,
					   "Call %s: one-way %s: %s sends RTP (%llu packets from %.3f s) "
					   "but %s sends none: it is silent for the whole call.",
					   c->call_id, c->sdps[0].media[m].media[0] ? c->sdps[0].media[m].media : "media",
					   w1, (unsigned long long)n, pa_rel_s(a, c->dir_first_us[m][talk]),
					   w2);
			if (x) {
				x->first_us = c->dir_first_us[m][talk];
				pa_evidence_add(&x->evidence, c->dir_first_frame[m][talk]);
				pa_evidence_add(&x->evidence, c->dir_last_frame[m][talk]);
			}
			continue;
		}
		if (c->dir_last_us[m][silent] + CALL_ONE_WAY_GAP_US > c->dir_last_us[m][talk])
			continue;
		x = pa_finding_add(a, "media-one-way", IL_PCAP_ERROR,
				   "Call %s: one-way media: %s stopped sending RTP at %.3f s (last "
				   "frame %llu) while %s kept sending for %.1f s more.",
				   c->call_id, w2, pa_rel_s(a, c->dir_last_us[m][silent]),
				   (unsigned long long)c->dir_last_frame[m][silent], w1,
				   (double)(c->dir_last_us[m][talk] - c->dir_last_us[m][silent]) / 1e6);
		if (x) {
			x->first_us = c->dir_last_us[m][silent];
			pa_evidence_add(&x->evidence, c->dir_last_frame[m][silent]);
			pa_evidence_add(&x->evidence, c->dir_last_frame[m][talk]);
		}
	}
}

static void direction_conflicts(il_pcap_analysis *a, const pa_call *c, uint8_t m)
{
	for (uint8_t side = 0; side < 2; side++) {
		const pa_call_side *s = &c->sides[m][side];
		if (!s->dir_violations)
			continue;
		char w[96];
		who(c, m, side, w, sizeof w);
		pa_finding *x = pa_finding_add(
			a, "sdp-direction-conflict", IL_PCAP_WARNING,
			"Call %s: the %s's SDP (frame %llu) says a=%s, yet %llu RTP packet%s %s "
			"after it.",
			c->call_id, side_name(side), (unsigned long long)s->violated_sdp_frame,
			pa_sdp_direction_name(s->violated_direction),
			(unsigned long long)s->dir_violations, s->dir_violations == 1 ? " was" : "s were",
			s->violation_by_self ? "sent by it" : "sent to it");
		(void)w;
		if (x)
			x->evidence = s->dir_evidence;
	}
}

static void after_end(il_pcap_analysis *a, const pa_call *c)
{
	if (!c->after_end)
		return;
	pa_finding *x;
	if (c->bye_frame) {
		x = pa_finding_add(a, "media-after-bye", IL_PCAP_WARNING,
				   "Call %s: %llu RTP packet%s after the BYE (frame %llu, %.3f s), "
				   "from %.3f s: a side did not stop its media.",
				   c->call_id, (unsigned long long)c->after_end,
				   c->after_end == 1 ? "" : "s", (unsigned long long)c->bye_frame,
				   pa_rel_s(a, c->bye_us), pa_rel_s(a, c->after_end_first_us));
		if (x)
			pa_evidence_add(&x->evidence, c->bye_frame);
	} else {
		x = pa_finding_add(a, "media-after-failure", IL_PCAP_WARNING,
				   "Call %s: %llu RTP packet%s after the call failed with %d (frame "
				   "%llu, %.3f s).",
				   c->call_id, (unsigned long long)c->after_end,
				   c->after_end == 1 ? "" : "s", c->final_code,
				   (unsigned long long)c->final_frame, pa_rel_s(a, c->final_us));
		if (x)
			pa_evidence_add(&x->evidence, c->final_frame);
	}
	if (x) {
		x->first_us = c->after_end_first_us;
		for (uint8_t i = 0; i < c->after_end_evidence.count; i++)
			pa_evidence_add(&x->evidence, c->after_end_evidence.frames[i]);
	}
}

void pa_calls_diagnose(il_pcap_analysis *a)
{
	size_t n;
	pa_call **calls = pa_calls_sorted(a, &n);
	for (size_t i = 0; calls && i < n; i++) {
		const pa_call *c = calls[i];
		if (!c)
			continue;
		private_sdp(a, c);
		for (uint8_t m = 0; m < c->media_count; m++) {
			call_one_way(a, c, m);
			for (uint8_t side = 0; side < 2; side++) {
				source_mismatch(a, c, m, side);
				unadvertised(a, c, m, side);
			}
			direction_conflicts(a, c, m);
		}
		after_end(a, c);
	}
	free(calls);
}

/* ---- JSON */

static json_t *addr_json(const il_addr *x)
{
	char s[IL_ADDR_STRLEN];
	return json_string(pa_addr_str(x, s));
}

static json_t *obs_json(const pa_peer_obs *o, uint8_t n)
{
	json_t *arr = json_array();
	for (uint8_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:o,s:I,s:I,s:I}", "addr", addr_json(&o[i].addr),
						     "packets", (json_int_t)o[i].packets, "first_frame",
						     (json_int_t)o[i].first_frame, "last_frame",
						     (json_int_t)o[i].last_frame));
	return arr;
}

static json_t *sdp_json(const pa_sdp_rec *r)
{
	json_t *media = json_array();
	for (uint8_t m = 0; m < r->media_count; m++) {
		const pa_sdp_media_info *mi = &r->media[m];
		json_t *o = json_pack("{s:s,s:s,s:b}", "media", mi->media, "direction",
				      pa_sdp_direction_name(mi->direction), "ice", mi->ice);
		json_object_set_new(o, "addr", mi->have_addr ? addr_json(&mi->addr) : json_null());
		json_array_append_new(media, o);
	}
	json_t *o = json_pack("{s:I,s:s,s:s,s:o,s:o,s:o}", "frame", (json_int_t)r->frame, "side",
			      side_name(r->side), "kind", r->offer ? "offer" : "answer", "from",
			      addr_json(&r->sig_src), "to", addr_json(&r->sig_dst), "media", media);
	if (r->origin.family) {
		char ip[IL_ADDR_STRLEN];
		il_addr_format_ip(&r->origin, ip, sizeof ip);
		json_object_set_new(o, "origin", json_string(ip));
	}
	return o;
}

json_t *pa_calls_json(const il_pcap_analysis *a)
{
	json_t *arr = json_array();
	size_t n;
	pa_call **calls = pa_calls_sorted(a, &n);
	for (size_t i = 0; calls && i < n; i++) {
		const pa_call *c = calls[i];
		if (!c)
			continue;
		json_t *o = json_pack("{s:s,s:I,s:I,s:o,s:o,s:I,s:I,s:I}", "call_id", c->call_id,
				      "first_frame", (json_int_t)c->first_frame, "last_frame",
				      (json_int_t)c->last_frame, "caller", addr_json(&c->caller_sig),
				      "callee", addr_json(&c->callee_sig), "messages",
				      (json_int_t)c->messages, "invites", (json_int_t)c->invites,
				      "reinvites", (json_int_t)c->reinvites);
		if (c->invite_frame)
			json_object_set_new(o, "invite_frame", json_integer((json_int_t)c->invite_frame));
		if (c->final_code) {
			json_object_set_new(o, "final", json_integer(c->final_code));
			json_object_set_new(o, "final_frame", json_integer((json_int_t)c->final_frame));
		}
		if (c->cancel_frame)
			json_object_set_new(o, "cancel_frame", json_integer((json_int_t)c->cancel_frame));
		if (c->bye_frame) {
			json_object_set_new(o, "bye_frame", json_integer((json_int_t)c->bye_frame));
			json_object_set_new(o, "bye_from", json_string(side_name(c->bye_side)));
		}
		if (c->bye_ok_frame)
			json_object_set_new(o, "bye_ok_frame", json_integer((json_int_t)c->bye_ok_frame));
		json_t *sdps = json_array();
		for (size_t k = 0; k < c->sdp_count; k++)
			json_array_append_new(sdps, sdp_json(&c->sdps[k]));
		json_object_set_new(o, "sdp", sdps);
		if (c->sdp_unparsed)
			json_object_set_new(o, "sdp_unparsed", json_integer((json_int_t)c->sdp_unparsed));
		json_t *media = json_array();
		for (uint8_t m = 0; m < c->media_count; m++) {
			json_t *sides = json_array();
			for (uint8_t s = 0; s < 2; s++) {
				const pa_call_side *cs = &c->sides[m][s];
				json_t *adv = json_array();
				for (uint8_t k = 0; k < cs->adv_count; k++)
					json_array_append_new(adv, addr_json(&cs->adv[k]));
				json_array_append_new(
					sides, json_pack("{s:s,s:o,s:s,s:I,s:o,s:o,s:I}", "side", side_name(s),
							 "advertised", adv, "direction",
							 pa_sdp_direction_name(cs->direction), "rtp_sent",
							 (json_int_t)c->dir_packets[m][s], "sources",
							 obs_json(cs->sources, cs->source_count), "destinations",
							 obs_json(cs->dests, cs->dest_count), "rtp_received",
							 (json_int_t)cs->rx));
			}
			json_array_append_new(media, sides);
		}
		json_object_set_new(o, "media", media);
		json_object_set_new(o, "rtp_after_end", json_integer((json_int_t)c->after_end));
		json_array_append_new(arr, o);
	}
	free(calls);
	return arr;
}
