/* rtpengine's ng control protocol over the bridge table (issue #8 §5).
 *
 * A datagram is "COOKIE <space> bencoded-dict"; the reply carries the
 * same cookie. Commands: ping (-> "pong"), offer, answer, delete, query,
 * list, statistics. Leg A is the offerer (the from-tag of the first offer), leg B the
 * answerer (its to-tag). The keys read are those Kamailio's and
 * OpenSIPS's rtpengine modules send: command, call-id, from-tag, to-tag,
 * sdp, flags, replace, ICE, ICE-lite, rtcp-mux, transport-protocol,
 * direction; and for SRTP and force-relay (ng_media.c) SDES, DTLS and
 * icelab's own tenant and user. The reply dict is {"result":"ok", ...} or
 * {"result":"error","error-reason":...}, and "warning" when an option
 * was accepted but not honoured.
 *
 * The SIP proxies retransmit a command with the same cookie when the
 * reply is lost; the last NG_CACHE replies are kept by cookie so an
 * offer is not run twice. */
#include "icelab/bencode.h"
#include "icelab/sbc_bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/sbc_relay.h"
#include "ng_internal.h"
#include "ng_media.h"
#include "sbc_internal.h"

il_sbc_ng *il_sbc_ng_new(il_sbc_bridge *b)
{
	il_sbc_ng *ng = calloc(1, sizeof *ng);
	if (ng)
		ng->b = b;
	return ng;
}

void il_sbc_ng_free(il_sbc_ng *ng)
{
	if (!ng)
		return;
	for (int i = 0; i < NG_CACHE; i++)
		free(ng->cache[i].reply);
	for (int i = 0; i < NG_HELD; i++)
		free(ng->held[i].msg);
	free(ng);
}

uint64_t il_sbc_ng_commands(const il_sbc_ng *ng)
{
	return ng->commands;
}

uint64_t il_sbc_ng_errors(const il_sbc_ng *ng)
{
	return ng->errors;
}

void il_sbc_ng_set_statistics(il_sbc_ng *ng, void (*fn)(void *user, il_benc_writer *w),
			      void *user)
{
	ng->stats_fn = fn;
	ng->stats_user = user;
}

/* ---- reply helpers ---- */

bool ng_reply_error(ng_ctx *x, const char *reason)
{
	x->w->len = x->mark;
	x->w->overflow = false;
	il_benc_begin_dict(x->w);
	il_benc_kv_str(x->w, "result", "error");
	il_benc_kv_str(x->w, "error-reason", reason);
	il_benc_end(x->w);
	return false;
}

static void warn(ng_ctx *x, const char *text)
{
	size_t n = strlen(x->warning);
	snprintf(x->warning + n, sizeof x->warning - n, "%s%s", n ? "; " : "", text);
}

static void put_endpoint(il_benc_writer *w, const char *key, const il_addr *a)
{
	char ip[IL_ADDR_STRLEN];
	il_addr_format_ip(a, ip, sizeof ip);
	il_benc_put_cstr(w, key);
	il_benc_begin_dict(w);
	il_benc_kv_str(w, "family", a->family == IL_AF_INET6 ? "IPv6" : "IPv4");
	il_benc_kv_str(w, "address", ip);
	il_benc_kv_int(w, "port", a->port);
	il_benc_end(w);
}

static const char *sbc_err_text(int rc)
{
	switch (rc) {
	case IL_SBC_ERR_ARGUMENT: return "bad argument";
	case IL_SBC_ERR_PRIVATE: return "the advertised address is private or loopback";
	case IL_SBC_ERR_SDP: return "the SDP does not parse";
	case IL_SBC_ERR_STATE: return "not in a state for this command (an answer without an offer?)";
	case IL_SBC_ERR_SPACE: return "the SDP out is too long";
	case IL_SBC_ERR_NO_MEDIA: return "no RTP media section to bridge";
	case IL_SBC_ERR_LEAK: return "a private bind address would appear in the SDP";
	case IL_SBC_ERR_ICE: return "the ICE-lite agent could not be set up";
	case IL_SBC_ERR_CRYPTO: return "SRTP: no usable a=crypto, a=fingerprint or a=setup";
	case IL_SBC_ERR_RELAY: return "force-relay: no TURN server configured (--turn-server), "
				      "or the leg cannot be relayed";
	case IL_SBC_ERR_RELAY_PENDING: return "force-relay: the TURN allocation is under way";
	case IL_SBC_BRIDGE_ERR_FULL: return "session limit reached";
	case IL_SBC_BRIDGE_ERR_PORTS: return "no free media ports";
	case IL_SBC_BRIDGE_ERR_EXISTS: return "call-id exists";
	default: {
		/* A code added by another SBC feature: named by number. */
		static char text[48];
		snprintf(text, sizeof text, "SBC error %d", rc);
		return text;
	}
	}
}

/* ---- offer / answer ---- */

static bool sdp_has(const char *sdp, size_t len, const char *needle)
{
	return memmem(sdp, len, needle, strlen(needle)) != NULL;
}

/* The per-call options from an offer's keys (leg A offers). */
static void offer_options(ng_ctx *x, const char *sdp, size_t len, il_sbc_call_options *o)
{
	const il_benc_node *n = x->n;
	int r = x->root;
	memset(o, 0, sizeof *o);
	o->ice[0] = sdp_has(sdp, len, "a=ice-ufrag:");
	o->rtcp_mux[0] = sdp_has(sdp, len, "a=rtcp-mux");
	o->ice[1] = o->ice[0];
	/* Each option also as a word of "flags" ("ICE=force",
	 * "rtcp-mux-offer"), the form older module versions send. */
#define OPT(key, value, flag)                                                  \
	(il_benc_dict_has_item(n, r, key, value) || il_benc_dict_has_item(n, r, "flags", flag))
	if (OPT("ICE", "force", "ICE=force") || OPT("ICE", "force-relay", "ICE=force-relay") ||
	    OPT("ICE-lite", "forward", "ICE-lite=forward") ||
	    OPT("ICE-lite", "both", "ICE-lite=both"))
		o->ice[1] = true;
	if (OPT("ICE", "remove", "ICE=remove"))
		o->ice[1] = false;
	o->rtcp_mux[1] = o->rtcp_mux[0];
	if (OPT("rtcp-mux", "offer", "rtcp-mux-offer") ||
	    OPT("rtcp-mux", "require", "rtcp-mux-require"))
		o->rtcp_mux[1] = true;
	if (OPT("rtcp-mux", "demux", "rtcp-mux-demux"))
		o->rtcp_mux[1] = false;
#undef OPT
	o->strict_source = il_benc_dict_has_item(n, r, "flags", "strict-source");
	o->adopt_new_source = il_benc_dict_has_item(n, r, "flags", "media-handover");
}

static bool cmd_offer_answer(ng_ctx *x, bool is_offer)
{
	size_t id_len, ft_len = 0, tt_len = 0, sdp_len;
	const il_benc_node *n = x->n;
	const char *id = il_benc_dict_str(n, x->root, "call-id", &id_len);
	const char *ft = il_benc_dict_str(n, x->root, "from-tag", &ft_len);
	const char *tt = il_benc_dict_str(n, x->root, "to-tag", &tt_len);
	const char *sdp = il_benc_dict_str(n, x->root, "sdp", &sdp_len);
	if (!id || id_len == 0)
		return ng_reply_error(x, "No call-id in message");
	if (!ft || ft_len == 0)
		return ng_reply_error(x, "No from-tag in message");
	if (!sdp)
		return ng_reply_error(x, "No SDP body in message");
	if (id_len > IL_SBC_CALL_ID_MAX || ft_len > IL_SBC_TAG_MAX || tt_len > IL_SBC_TAG_MAX)
		return ng_reply_error(x, "call-id or tag too long");
	il_sbc_bridge *b = x->ng->b;
	il_sbc_call *c = il_sbc_bridge_find(b, id, id_len);
	bool created = false;
	int rc;
	unsigned from;
	if (is_offer) {
		il_sbc_call_options opt;
		offer_options(x, sdp, sdp_len, &opt);
		/* transport-protocol, SDES/DTLS, force-relay (ng_media.c) */
		char note[160] = "", why_bad[200];
		const char *why;
		if (sbc_ng_media_options(n, x->root, sdp, sdp_len, x->ng->policy, &opt, &why, note,
					 sizeof note, why_bad, sizeof why_bad) < 0)
			return ng_reply_error(x, why_bad);
		if (note[0])
			warn(x, note);
		if (!c) {
			c = il_sbc_bridge_create(b, id, id_len, &opt, x->now_ms, &rc);
			if (!c)
				return ng_reply_error(x, sbc_err_text(rc));
			created = true;
			il_sbc_call_set_tag(c, 0, ft, ft_len);
			if (opt.force_relay[0] || opt.force_relay[1]) {
				char extra[96];
				snprintf(extra, sizeof extra, "\"legs\":[%s,%s],\"decided-by\":\"%s\"",
					 opt.force_relay[0] ? "true" : "false",
					 opt.force_relay[1] ? "true" : "false", why);
				il_sbc_call_event(c, "force-relay", extra);
			}
		}
		/* A re-offer from the callee (a re-INVITE) carries its own tag
		 * as from-tag. */
		int leg = il_sbc_call_leg_of(c, ft, ft_len);
		from = leg < 0 ? 0 : (unsigned)leg;
		if (tt && tt_len && !il_sbc_call_tag(c, 1 - from)[0])
			il_sbc_call_set_tag(c, 1 - from, tt, tt_len);
	} else {
		if (!c)
			return ng_reply_error(x, "Unknown call-id");
		il_sbc_session *s = il_sbc_call_session(c);
		if (!s->offer_pending)
			return ng_reply_error(x, "No offer to answer");
		from = 1 - s->offerer;
		if (tt && tt_len && !il_sbc_call_tag(c, from)[0])
			il_sbc_call_set_tag(c, from, tt, tt_len);
	}
	il_sdp_error perr = {0, ""};
	il_sbc_session *s = il_sbc_call_session(c);
	rc = is_offer ? il_sbc_session_offer(s, from, sdp, sdp_len, x->ng->sdp, sizeof x->ng->sdp,
					     x->now_ms, &perr)
		      : il_sbc_session_answer(s, from, sdp, sdp_len, x->ng->sdp, sizeof x->ng->sdp,
					      x->now_ms, &perr);
	created = created || x->rerun_created;
	if (rc == IL_SBC_ERR_RELAY_PENDING && ng_hold(x, c, created))
		return true; /* answered by il_sbc_ng_poll */
	if (rc < 0) {
		char reason[320];
		if (rc == IL_SBC_ERR_SDP && perr.message[0])
			snprintf(reason, sizeof reason, "SDP line %u: %s", perr.line, perr.message);
		else if (rc == IL_SBC_ERR_RELAY)
			snprintf(reason, sizeof reason, "%s", sbc_ng_relay_error(s));
		else
			snprintf(reason, sizeof reason, "%s", sbc_err_text(rc));
		if (created)
			il_sbc_bridge_delete(b, c, is_offer ? "offer-failed" : "answer-failed",
					     x->now_ms);
		return ng_reply_error(x, reason);
	}
	char extra[64];
	snprintf(extra, sizeof extra, "\"leg\":\"%s\"", from ? "B" : "A");
	il_sbc_call_event(c, is_offer ? "offer" : "answer", extra);
	il_benc_begin_dict(x->w);
	il_benc_kv_str(x->w, "result", "ok");
	il_benc_put_cstr(x->w, "sdp");
	il_benc_put_str(x->w, x->ng->sdp, (size_t)rc);
	if (x->warning[0])
		il_benc_kv_str(x->w, "warning", x->warning);
	il_benc_end(x->w);
	return true;
}

/* ---- query / delete ---- */

static uint64_t sum_dropped(const il_sbc_leg_stats *st)
{
	uint64_t t = 0;
	for (int i = 0; i < IL_SBC_DROP_COUNT; i++)
		t += st->dropped[i];
	return t;
}

static void put_stats(il_benc_writer *w, const char *key, uint64_t packets, uint64_t bytes,
		      uint64_t errors)
{
	il_benc_put_cstr(w, key);
	il_benc_begin_dict(w);
	il_benc_kv_int(w, "packets", (int64_t)packets);
	il_benc_kv_int(w, "bytes", (int64_t)bytes);
	il_benc_kv_int(w, "errors", (int64_t)errors);
	il_benc_end(w);
}

static void put_leg(ng_ctx *x, il_sbc_call *c, unsigned leg, const il_sbc_call_leg_info *li,
		    const il_sbc_call_leg_info *other)
{
	il_benc_writer *w = x->w;
	const il_sbc_leg_stats *st = &li->st;
	il_benc_begin_dict(w);
	il_benc_kv_str(w, "tag", li->tag);
	il_benc_kv_str(w, "leg", leg ? "B" : "A");
	il_benc_kv_str(w, "in dialogue with", other->tag);
	il_benc_kv_str(w, "ICE", st->ice ? "ice-lite" : "none");
	if (st->ice) {
		il_benc_kv_str(w, "ICE state", il_ice_state_name(st->ice_state));
		if (st->has_selected) {
			il_benc_put_cstr(w, "selected pair");
			il_benc_begin_dict(w);
			put_endpoint(w, "local", &st->advertised);
			put_endpoint(w, "remote", &st->selected_remote);
			il_benc_kv_str(w, "remote type",
				       il_ice_candidate_type_name(st->selected_remote_type));
			il_benc_end(w);
		}
	}
	il_benc_kv_str(w, "rtcp-mux", st->rtcp_mux ? "yes" : "no");
	il_benc_put_cstr(w, "medias");
	il_benc_begin_list(w);
	il_benc_begin_dict(w);
	il_benc_kv_int(w, "index", 1);
	il_benc_put_cstr(w, "streams");
	il_benc_begin_list(w);
	/* rtpengine's names: "local port" (ours, where the leg's peer
	 * sends), "endpoint" (the peer: learned, else its SDP address),
	 * "advertised endpoint" (the peer's SDP address); ours added:
	 * "local endpoint" (our advertised address) and "learned endpoint"
	 * (the latched source or the ICE-selected remote). */
	for (unsigned comp = 0; comp < (st->rtcp_mux ? 1u : 2u); comp++) {
		il_benc_begin_dict(w);
		il_benc_kv_int(w, "local port", li->port + comp);
		il_addr local = st->advertised;
		local.port = (uint16_t)(local.port + comp);
		char ip[IL_ADDR_STRLEN];
		il_addr_format_ip(&local, ip, sizeof ip);
		il_benc_kv_str(w, "local address", ip);
		il_benc_kv_str(w, "family", local.family == IL_AF_INET6 ? "IPv6" : "IPv4");
		put_endpoint(w, "local endpoint", &local);
		const il_addr *sdp = comp ? &st->sdp_rtcp : &st->sdp_rtp;
		const il_addr *learned = NULL;
		if (st->ice && comp == 0 && st->has_selected)
			learned = &st->selected_remote;
		else if (!st->ice && st->latched[comp])
			learned = &st->source[comp];
		if (learned || sdp->family)
			put_endpoint(w, "endpoint", learned ? learned : sdp);
		if (sdp->family)
			put_endpoint(w, "advertised endpoint", sdp);
		if (learned)
			put_endpoint(w, "learned endpoint", learned);
		il_benc_put_cstr(w, "flags");
		il_benc_begin_list(w);
		il_benc_put_cstr(w, comp ? "RTCP" : "RTP");
		if (st->ice)
			il_benc_put_cstr(w, "ICE");
		if (learned)
			il_benc_put_cstr(w, "confirmed");
		il_benc_end(w);
		il_benc_end(w);
	}
	il_benc_end(w);
	il_benc_end(w);
	il_benc_end(w);
	/* rtpengine's "stats" are what came from the leg's peer. */
	put_stats(w, "stats", st->rx_packets, st->rx_bytes, sum_dropped(st));
	il_benc_put_cstr(w, "rx");
	il_benc_begin_dict(w);
	il_benc_kv_int(w, "packets", (int64_t)st->rx_packets);
	il_benc_kv_int(w, "bytes", (int64_t)st->rx_bytes);
	il_benc_kv_int(w, "rtcp", (int64_t)st->rx_rtcp);
	il_benc_kv_int(w, "rtp expected", (int64_t)li->rtp_expected);
	il_benc_kv_int(w, "rtp lost", (int64_t)(li->rtp_expected > li->rtp_received
						    ? li->rtp_expected - li->rtp_received
						    : 0));
	il_benc_kv_int(w, "stun", (int64_t)st->stun_in);
	il_benc_put_cstr(w, "dropped");
	il_benc_begin_dict(w);
	for (int i = 0; i < IL_SBC_DROP_COUNT; i++)
		if (st->dropped[i])
			il_benc_kv_int(w, il_sbc_drop_name(i), (int64_t)st->dropped[i]);
	il_benc_end(w);
	il_benc_end(w);
	il_benc_put_cstr(w, "tx");
	il_benc_begin_dict(w);
	il_benc_kv_int(w, "packets", (int64_t)st->tx_packets);
	il_benc_kv_int(w, "bytes", (int64_t)st->tx_bytes);
	il_benc_kv_int(w, "rtcp", (int64_t)st->tx_rtcp);
	il_benc_end(w);
	il_benc_kv_int(w, "source adoptions", (int64_t)st->adoptions);
	sbc_ng_media_put_leg(w, il_sbc_call_session(c), leg, st);
	il_benc_end(w);
}

/* The body of query and delete replies: state, tags, totals. */
static void put_call(ng_ctx *x, il_sbc_call *c)
{
	il_benc_writer *w = x->w;
	il_sbc_call_leg_info li[2];
	il_sbc_call_get_leg(c, 0, &li[0]);
	il_sbc_call_get_leg(c, 1, &li[1]);
	il_benc_kv_str(w, "state", il_sbc_state_name(il_sbc_session_state(il_sbc_call_session(c))));
	uint64_t created = il_sbc_call_created_ms(c);
	il_benc_kv_int(w, "duration-ms", (int64_t)(x->now_ms > created ? x->now_ms - created : 0));
	il_benc_put_cstr(w, "tags");
	il_benc_begin_dict(w);
	for (unsigned i = 0; i < 2; i++) {
		/* Keyed by tag, as rtpengine does; "<untagged B>" for a leg
		 * whose tag is not known yet (or equals the other's). */
		bool own = li[i].tag[0] && strcmp(li[i].tag, li[1 - i].tag) != 0;
		il_benc_put_cstr(w, own ? li[i].tag : i ? "<untagged B>" : "<untagged A>");
		put_leg(x, c, i, &li[i], &li[1 - i]);
	}
	il_benc_end(w);
	uint64_t rtcp = 0, rtp = 0, rtp_b = 0, err = 0;
	for (int i = 0; i < 2; i++) {
		rtcp += li[i].st.rx_rtcp;
		rtp += li[i].st.rx_packets - li[i].st.rx_rtcp;
		rtp_b += li[i].st.rx_bytes;
		err += sum_dropped(&li[i].st);
	}
	il_benc_put_cstr(w, "totals");
	il_benc_begin_dict(w);
	put_stats(w, "RTP", rtp, rtp_b, err);
	put_stats(w, "RTCP", rtcp, 0, 0);
	il_benc_end(w);
	char line[512];
	if (il_sbc_session_format_connected(il_sbc_call_session(c), line, sizeof line) > 0)
		il_benc_kv_str(w, "summary", line);
}

static il_sbc_call *need_call(ng_ctx *x)
{
	size_t len;
	const char *id = il_benc_dict_str(x->n, x->root, "call-id", &len);
	if (!id || len == 0) {
		ng_reply_error(x, "No call-id in message");
		return NULL;
	}
	il_sbc_call *c = il_sbc_bridge_find(x->ng->b, id, len);
	if (!c)
		ng_reply_error(x, "Unknown call-id");
	return c;
}

/* query, and delete: the same reply (delete's carries the final counters). */
static bool cmd_query(ng_ctx *x, bool delete)
{
	il_sbc_call *c = need_call(x);
	if (!c)
		return false;
	il_benc_begin_dict(x->w);
	il_benc_kv_str(x->w, "result", "ok");
	put_call(x, c);
	il_benc_end(x->w);
	if (delete)
		il_sbc_bridge_delete(x->ng->b, c, "delete", x->now_ms);
	return true;
}

static bool cmd_list(ng_ctx *x)
{
	int64_t limit = 32;
	int v = il_benc_dict_get(x->n, x->root, "limit");
	if (v >= 0 && x->n[v].type == IL_BENC_INT && x->n[v].num > 0)
		limit = x->n[v].num;
	il_benc_begin_dict(x->w);
	il_benc_kv_str(x->w, "result", "ok");
	il_benc_put_cstr(x->w, "calls");
	il_benc_begin_list(x->w);
	for (il_sbc_call *c = il_sbc_bridge_first(x->ng->b); c && limit > 0;
	     c = il_sbc_bridge_next(c), limit--)
		il_benc_put_cstr(x->w, il_sbc_call_id(c));
	il_benc_end(x->w);
	il_benc_kv_int(x->w, "count", (int64_t)il_sbc_bridge_call_count(x->ng->b));
	il_benc_end(x->w);
	return true;
}

static bool cmd_statistics(ng_ctx *x)
{
	il_sbc_ng *ng = x->ng;
	uint64_t connected = 0;
	for (il_sbc_call *c = il_sbc_bridge_first(ng->b); c; c = il_sbc_bridge_next(c))
		connected += il_sbc_session_state(il_sbc_call_session(c)) == IL_SBC_STATE_CONNECTED;
	il_benc_begin_dict(x->w);
	il_benc_kv_str(x->w, "result", "ok");
	il_benc_put_cstr(x->w, "statistics");
	il_benc_begin_dict(x->w);
	il_benc_kv_int(x->w, "calls", (int64_t)il_sbc_bridge_call_count(ng->b));
	il_benc_kv_int(x->w, "connected calls", (int64_t)connected);
	il_benc_kv_int(x->w, "ng commands", (int64_t)ng->commands);
	il_benc_kv_int(x->w, "ng errors", (int64_t)ng->errors);
	if (ng->stats_fn)
		ng->stats_fn(ng->stats_user, x->w);
	il_benc_end(x->w);
	il_benc_end(x->w);
	return true;
}

/* ---- the datagram ---- */

static ng_cached *cache_find(il_sbc_ng *ng, const uint8_t *cookie, size_t len, uint64_t now_ms)
{
	for (int i = 0; i < NG_CACHE; i++) {
		ng_cached *e = &ng->cache[i];
		if (e->reply && e->cookie_len == len && memcmp(e->cookie, cookie, len) == 0 &&
		    now_ms < e->at_ms + NG_CACHE_MS)
			return e;
	}
	return NULL;
}

void ng_cache_store(il_sbc_ng *ng, const uint8_t *cookie, size_t clen, const char *reply,
			size_t len, uint64_t now_ms)
{
	ng_cached *e = &ng->cache[ng->cache_next];
	char *copy = malloc(len);
	if (!copy)
		return;
	ng->cache_next = (ng->cache_next + 1) % NG_CACHE;
	free(e->reply);
	memcpy(e->cookie, cookie, clen);
	e->cookie_len = clen;
	e->reply = copy;
	memcpy(copy, reply, len);
	e->len = len;
	e->at_ms = now_ms;
}

static bool dispatch(ng_ctx *x, const char *cmd, size_t len)
{
#define IS(s) (len == sizeof(s) - 1 && memcmp(cmd, s, len) == 0)
	if (IS("ping")) {
		il_benc_begin_dict(x->w);
		il_benc_kv_str(x->w, "result", "pong");
		il_benc_end(x->w);
		return true;
	}
	if (IS("offer"))
		return cmd_offer_answer(x, true);
	if (IS("answer"))
		return cmd_offer_answer(x, false);
	if (IS("delete"))
		return cmd_query(x, true);
	if (IS("query"))
		return cmd_query(x, false);
	if (IS("list"))
		return cmd_list(x);
	if (IS("statistics"))
		return cmd_statistics(x);
#undef IS
	return ng_reply_error(x, "Unrecognized command");
}

/* One command (the cookie already checked): its reply in out, cached. */
size_t ng_run(il_sbc_ng *ng, const uint8_t *msg, size_t len, size_t clen, char *out,
		  size_t cap, uint64_t now_ms, const il_addr *from, bool rerun_created)
{
	const uint8_t *sp = msg + clen;
	il_benc_writer w;
	il_benc_writer_init(&w, out, cap);
	il_benc_put_raw(&w, msg, clen + 1);
	ng_ctx x = {.ng = ng, .n = ng->nodes, .root = 0, .w = &w, .mark = w.len, .now_ms = now_ms,
		    .msg = msg, .msg_len = len, .cookie_len = clen, .from = from,
		    .rerun_created = rerun_created};
	size_t where = 0;
	int count = il_benc_parse((const char *)sp + 1, len - clen - 1, ng->nodes, NG_NODES, &where);
	bool ok;
	if (count < 0) {
		char reason[96];
		snprintf(reason, sizeof reason, "Failed to decode bencode: %s at offset %zu",
			 il_benc_strerror(count), where);
		ok = ng_reply_error(&x, reason);
	} else if (ng->nodes[0].type != IL_BENC_DICT) {
		ok = ng_reply_error(&x, "Not a dictionary");
	} else {
		size_t cl;
		const char *cmd = il_benc_dict_str(ng->nodes, 0, "command", &cl);
		ok = cmd ? dispatch(&x, cmd, cl) : ng_reply_error(&x, "No command in message");
	}
	if (x.held)
		return 0; /* the reply comes from il_sbc_ng_poll */
	if (w.overflow)
		ok = ng_reply_error(&x, "Reply too long");
	if (!ok)
		ng->errors++;
	ng_cache_store(ng, msg, clen, out, w.len, now_ms);
	return w.len;
}

size_t il_sbc_ng_handle_from(il_sbc_ng *ng, const il_addr *from, const uint8_t *msg, size_t len,
			     char *out, size_t cap, uint64_t now_ms)
{
	const uint8_t *sp = memchr(msg, ' ', len < NG_COOKIE_MAX ? len : NG_COOKIE_MAX);
	if (!sp || sp == msg || cap < NG_COOKIE_MAX + 64)
		return 0; /* no cookie: nothing to answer to */
	size_t clen = (size_t)(sp - msg);
	ng->commands++;
	ng_cached *hit = cache_find(ng, msg, clen, now_ms);
	if (hit && hit->len <= cap) {
		memcpy(out, hit->reply, hit->len);
		return hit->len;
	}
	ng_held *h = ng_held_find(ng, msg, clen);
	if (h) { /* a retransmission of a held command: answered once, later */
		if (from)
			h->to = *from;
		return 0;
	}
	return ng_run(ng, msg, len, clen, out, cap, now_ms, from, false);
}

size_t il_sbc_ng_handle(il_sbc_ng *ng, const uint8_t *msg, size_t len, char *out, size_t cap,
			uint64_t now_ms)
{
	return il_sbc_ng_handle_from(ng, NULL, msg, len, out, cap, now_ms);
}

