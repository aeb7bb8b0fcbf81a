/* The ng keys of the SBC's media features (issue #8 §2, §4, §5): which
 * crypto profile an offer toward the answering leg carries, and whether
 * the call's ICE legs are force-relayed; and what `query` shows of them.
 *
 * Keys read (as rtpengine and the Kamailio/OpenSIPS modules send them;
 * each also as a word of "flags", the form older module versions use):
 * - "transport-protocol": RTP/AVP or RTP/AVPF (plain), RTP/SAVP or
 *   RTP/SAVPF (SDES), UDP/TLS/RTP/SAVP or UDP/TLS/RTP/SAVPF (DTLS-SRTP)
 *   toward leg B; absent: leg B gets what leg A offered.
 * - "SDES": "off" (or flags "SDES-off"): an SRTP protocol goes DTLS-SRTP;
 *   "DTLS": "off" (or flags "DTLS=off", "DTLS-off"): it goes SDES. Both
 *   off with an SRTP protocol is refused. Without transport-protocol they
 *   turn leg A's own SRTP flavour into the other one toward leg B.
 * - "ICE": "force-relay" (flags "ICE=force-relay"): the session flag of
 *   il_sbc_policy_force_relay; the rules of --relay-policy decide
 *   otherwise, by the call's "tenant" and "user" keys (strings; or flags
 *   words "tenant=NAME", "user=NAME"), icelab's own keys since rtpengine
 *   has none for this. Every ICE leg of a relayed call is relayed. */
#include <stdio.h>
#include <string.h>

#include "icelab/bencode.h"
#include "icelab/sbc_bridge.h"
#include "icelab/sbc_relay.h"
#include "ng_media.h"

/* The value of key, or of a "key=value" word of flags (NUL-terminated in
 * out); false when neither is there. */
static bool ng_value(const il_benc_node *n, int r, const char *key, char *out, size_t cap)
{
	size_t len;
	const char *v = il_benc_dict_str(n, r, key, &len);
	size_t klen = strlen(key);
	int f = il_benc_dict_get(n, r, "flags");
	if (!v && f >= 0 && n[f].type == IL_BENC_LIST) {
		for (uint32_t i = (uint32_t)f + 1; i < n[f].end; i = n[i].end) {
			if (n[i].type == IL_BENC_STR && n[i].len > klen + 1 &&
			    memcmp(n[i].str, key, klen) == 0 && n[i].str[klen] == '=') {
				v = n[i].str + klen + 1;
				len = n[i].len - klen - 1;
				break;
			}
		}
	}
	if (!v || len >= cap)
		return false;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

static bool is_off(const il_benc_node *n, int r, const char *key)
{
	char dash[16], eq[16];
	snprintf(dash, sizeof dash, "%s-off", key);
	snprintf(eq, sizeof eq, "%s=off", key);
	return il_benc_dict_has_item(n, r, key, "off") || il_benc_dict_has_item(n, r, key, "no") ||
	       il_benc_dict_has_item(n, r, "flags", dash) || il_benc_dict_has_item(n, r, "flags", eq);
}

/* The profile of the offer's first m= line with a port (what leg A speaks). */
static int sdp_profile(const char *sdp, size_t len)
{
	const char *p = sdp, *end = sdp + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (l > 2 && p[0] == 'm' && p[1] == '=') {
			char line[128];
			size_t c = l < sizeof line - 1 ? l : sizeof line - 1;
			memcpy(line, p, c);
			line[c] = '\0';
			if (strstr(line, "TLS/RTP/SAVP"))
				return IL_SBC_PROFILE_DTLS;
			return strstr(line, "RTP/SAVP") ? IL_SBC_PROFILE_SDES : IL_SBC_PROFILE_RTP;
		}
		p = eol ? eol + 1 : end;
	}
	return IL_SBC_PROFILE_RTP;
}

static int choose_profile(const il_benc_node *n, int r, const char *sdp, size_t len, int *out,
			  char *err, size_t err_cap)
{
	char tp[64];
	bool sdes_off = is_off(n, r, "SDES"), dtls_off = is_off(n, r, "DTLS");
	int p = IL_SBC_PROFILE_SAME;
	if (ng_value(n, r, "transport-protocol", tp, sizeof tp)) {
		p = il_sbc_profile_parse(tp);
		if (p < 0 || p == IL_SBC_PROFILE_SAME || !strchr(tp, '/')) {
			snprintf(err, err_cap, "transport-protocol %s: not one of RTP/AVP, RTP/AVPF, "
					       "RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP, UDP/TLS/RTP/SAVPF",
				 tp);
			return -1;
		}
	} else if (sdes_off || dtls_off) {
		int own = sdp_profile(sdp, len); /* leg A's flavour, turned if it is off */
		if ((own == IL_SBC_PROFILE_SDES && sdes_off) || (own == IL_SBC_PROFILE_DTLS && dtls_off))
			p = own;
	}
	if (p == IL_SBC_PROFILE_SDES && sdes_off)
		p = IL_SBC_PROFILE_DTLS;
	else if (p == IL_SBC_PROFILE_DTLS && dtls_off)
		p = IL_SBC_PROFILE_SDES;
	if ((p == IL_SBC_PROFILE_SDES && sdes_off) || (p == IL_SBC_PROFILE_DTLS && dtls_off)) {
		snprintf(err, err_cap, "SRTP toward leg B with both SDES and DTLS off");
		return -1;
	}
	*out = p;
	return 0;
}

int sbc_ng_media_options(const il_benc_node *n, int r, const char *sdp, size_t len,
			 const il_sbc_policy *policy, il_sbc_call_options *o, const char **why,
			 char *warn, size_t warn_cap, char *err, size_t err_cap)
{
	*why = "default";
	o->profile[0] = IL_SBC_PROFILE_SAME; /* re-offers toward A: what A agreed */
	if (choose_profile(n, r, sdp, len, &o->profile[1], err, err_cap) < 0)
		return -1;
	char ice[32] = "", tenant[IL_SBC_POLICY_NAME_MAX + 1], user[IL_SBC_POLICY_NAME_MAX + 1];
	ng_value(n, r, "ICE", ice, sizeof ice);
	int flag = il_sbc_relay_flag_from_ng(ice[0] ? ice : NULL);
	bool has_t = ng_value(n, r, "tenant", tenant, sizeof tenant);
	bool has_u = ng_value(n, r, "user", user, sizeof user);
	bool relay = il_sbc_policy_force_relay(policy, has_t ? tenant : NULL, has_u ? user : NULL,
					       flag, why);
	o->force_relay[0] = relay && o->ice[0];
	o->force_relay[1] = relay && o->ice[1];
	if (relay && !o->ice[0] && !o->ice[1] && warn_cap)
		snprintf(warn, warn_cap, "force-relay (%s): no ICE leg in this call, nothing relayed",
			 *why);
	return 0;
}

/* ---- query ---- */

static void put_addr(il_benc_writer *w, const char *key, const il_addr *a)
{
	char text[IL_ADDR_STRLEN];
	il_addr_format(a, text, sizeof text);
	il_benc_kv_str(w, key, text);
}

void sbc_ng_media_put_leg(il_benc_writer *w, il_sbc_session *s, unsigned leg,
			  const il_sbc_leg_stats *st)
{
	/* Known once the leg's SDP is (before: what was offered toward it). */
	if (st->negotiated)
		il_benc_kv_str(w, "profile", il_sbc_profile_name(st->profile));
	if (st->profile == IL_SBC_PROFILE_SDES || st->profile == IL_SBC_PROFILE_DTLS) {
		il_benc_put_cstr(w, "SRTP");
		il_benc_begin_dict(w);
		il_benc_kv_str(w, "rx key", st->srtp_rx ? "yes" : "no");
		il_benc_kv_str(w, "tx key", st->srtp_tx ? "yes" : "no");
		il_benc_kv_int(w, "unprotected", (int64_t)st->srtp_unprotected);
		il_benc_kv_int(w, "protected", (int64_t)st->srtp_protected);
		il_benc_kv_int(w, "auth failures", (int64_t)st->dropped[IL_SBC_DROP_SRTP_AUTH]);
		il_benc_kv_int(w, "replays", (int64_t)st->dropped[IL_SBC_DROP_SRTP_REPLAY]);
		il_benc_end(w);
	}
	if (st->dtls_state != IL_SBC_DTLS_NONE)
		il_benc_kv_str(w, "DTLS", il_sbc_dtls_state_name(st->dtls_state));
	if (!st->force_relay)
		return;
	il_benc_put_cstr(w, "relay");
	il_benc_begin_dict(w);
	il_benc_kv_str(w, "state", il_sbc_relay_state_name(st->relay_state));
	if (st->relay_state == IL_SBC_RELAY_READY)
		put_addr(w, "relayed", &st->relayed);
	il_benc_kv_int(w, "permissions", (int64_t)st->relay_permissions);
	il_benc_kv_int(w, "channels", (int64_t)st->relay_channels);
	il_benc_kv_int(w, "unsent", (int64_t)st->relay_unsent);
	il_benc_kv_int(w, "not relayed", (int64_t)st->dropped[IL_SBC_DROP_NOT_RELAYED]);
	const char *e = il_sbc_session_relay_error(s, leg);
	if (e[0])
		il_benc_kv_str(w, "error", e);
	il_benc_end(w);
}

const char *sbc_ng_relay_error(const il_sbc_session *s)
{
	for (unsigned i = 0; i < 2; i++) {
		const char *e = il_sbc_session_relay_error(s, i);
		if (e[0])
			return e;
	}
	return "force-relay: the TURN allocation failed";
}
