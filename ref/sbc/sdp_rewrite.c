/* The SBC's offer/answer rewrite (issue #8 §2): what one leg sent, made
 * fit for the other leg.
 *
 * - c=, o= and m= name the advertised public address and our port
 *   (RFC 8866 §5.2, §5.7, §5.14); a private or loopback advertised
 *   address is refused unless allowed (the TURN relay's rule);
 * - a=rtcp (RFC 3605) goes: our RTCP port is the RTP port + 1, the
 *   default; a=group:BUNDLE goes: one section is bridged, on its own port;
 * - toward an ICE leg: a=ice-lite (RFC 8445 §2.7), our ufrag and pwd, one
 *   host candidate per component on the public address, end-of-candidates;
 *   toward a legacy leg every ICE attribute goes;
 * - a=rtcp-mux (RFC 5761) added or stripped (a=rtcp-mux-only with it);
 * - any other attribute that names an address of the far leg or one of
 *   our private binds is dropped: nothing private crosses the bridge.
 *
 * In place: kept lines still point into the text the caller parsed. */
#include "icelab/sbc.h"

#include <stdio.h>
#include <string.h>

#include "icelab/peer_policy.h"

static const char session_name_dash[] = "s=-";

bool il_sbc_advertised_ok(const il_addr *ip, bool allow_private)
{
	if (!ip || (ip->family != IL_AF_INET && ip->family != IL_AF_INET6))
		return false;
	static const uint8_t zero[16];
	size_t n = ip->family == IL_AF_INET ? 4 : 16;
	if (memcmp(ip->ip, zero, n) == 0)
		return false; /* the unspecified address is never an address to send to */
	return allow_private || !il_addr_is_private(ip);
}

int il_sbc_sdp_bridged_media(const il_sdp_session *s)
{
	for (size_t i = 0; i < s->media_count; i++) {
		const il_sdp_media *m = &s->media[i];
		if (m->port == 0 || strstr(m->proto, "TCP"))
			continue;
		if (strstr(m->proto, "RTP/"))
			return (int)i;
	}
	return -1;
}

static bool ip_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
	       c == '.' || c == ':';
}

/* ip (text) as a whole token of line: not inside a longer address. */
static bool line_names(const char *line, size_t len, const char *ip)
{
	size_t n = strlen(ip);
	if (n == 0 || n > len)
		return false;
	for (size_t i = 0; i + n <= len; i++) {
		if (memcmp(line + i, ip, n) != 0)
			continue;
		bool left_ok = i == 0 || !ip_char(line[i - 1]);
		bool right_ok = i + n == len || !ip_char(line[i + n]);
		if (left_ok && right_ok)
			return true;
	}
	return false;
}

unsigned il_sbc_sdp_find_ip(const char *text, size_t len, const il_addr *ip)
{
	char ips[IL_ADDR_STRLEN];
	if (il_addr_format_ip(ip, ips, sizeof ips) < 0)
		return 0;
	unsigned line = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - start) : len - pos;
		pos += llen + (nl ? 1 : 0);
		line++;
		if (line_names(start, llen, ips))
			return line;
	}
	return 0;
}

typedef struct rewrite_ctx {
	const il_sbc_sdp_params *rw;
	char forbidden[IL_SBC_MAX_FORBIDDEN][IL_ADDR_STRLEN];
	size_t forbidden_count;
} rewrite_ctx;

static bool starts_with(const il_sdp_line *l, const char *prefix)
{
	size_t n = strlen(prefix);
	return l->len >= n && memcmp(l->text, prefix, n) == 0;
}

static bool names_forbidden(const rewrite_ctx *c, const il_sdp_line *l)
{
	for (size_t i = 0; i < c->forbidden_count; i++)
		if (line_names(l->text, l->len, c->forbidden[i]))
			return true;
	return false;
}

/* Keeps the lines that may cross; returns the new count. */
static size_t filter_lines(const rewrite_ctx *c, il_sdp_line *lines, size_t count, bool mux)
{
	size_t out = 0;
	for (size_t i = 0; i < count; i++) {
		il_sdp_line l = lines[i];
		/* RFC 3605: our RTCP is on port + 1, the default; the far
		 * leg's a=rtcp names its address. */
		if (starts_with(&l, "a=rtcp:"))
			continue;
		/* ICE attributes the parser does not model (ice-pacing, ...)
		 * belong to the far leg's agent. */
		if (starts_with(&l, "a=ice-") || starts_with(&l, "a=candidate"))
			continue;
		if (!mux && starts_with(&l, "a=rtcp-mux"))
			continue; /* a=rtcp-mux-only (RFC 8858) */
		if (starts_with(&l, "a=group:BUNDLE"))
			continue;
		if (names_forbidden(c, &l)) {
			if (l.len >= 2 && l.text[0] == 's') {
				l.text = session_name_dash;
				l.len = strlen(session_name_dash);
			} else {
				continue;
			}
		}
		lines[out++] = l;
	}
	return out;
}

static void set_connection(il_sdp_connection *conn, const char *addrtype, const char *ip)
{
	conn->present = true;
	snprintf(conn->nettype, sizeof conn->nettype, "IN");
	snprintf(conn->addrtype, sizeof conn->addrtype, "%s", addrtype);
	snprintf(conn->address, sizeof conn->address, "%s", ip);
}

static void strip_ice(il_sdp_media *m)
{
	memset(&m->ice, 0, sizeof m->ice);
	m->candidate_count = 0;
	m->remote_candidate_count = 0;
}

/* One host candidate per component on the public address (RFC 8445
 * §5.1.2.1 priority with type preference 126, local preference 65535). */
static void add_candidates(il_sdp_media *m, const il_addr *advertised, uint16_t port, bool mux,
			   bool relay)
{
	unsigned components = mux ? 1 : 2;
	for (unsigned comp = 1; comp <= components; comp++) {
		il_ice_candidate c;
		memset(&c, 0, sizeof c);
		snprintf(c.foundation, sizeof c.foundation, "1");
		c.component = (uint16_t)comp;
		c.transport = IL_ICE_TRANSPORT_UDP;
		c.type = IL_ICE_CAND_HOST;
		c.priority = il_ice_candidate_priority(IL_ICE_TYPE_PREF_HOST, 65535, comp);
		c.addr = *advertised;
		c.addr.port = (uint16_t)(port + comp - 1);
		if (relay) { /* force-relay: the related address says nothing of ours */
			c.type = IL_ICE_CAND_RELAY;
			c.priority = il_ice_candidate_priority(IL_ICE_TYPE_PREF_RELAY, 65535, comp);
			c.related.family = c.addr.family;
		}
		il_sdp_candidate_from_ice(&m->candidates[m->candidate_count++], &c);
	}
}

int il_sbc_sdp_rewrite(il_sdp_session *s, const il_sbc_sdp_params *rw)
{
	if (!s || !rw || rw->forbidden_count > IL_SBC_MAX_FORBIDDEN)
		return IL_SBC_ERR_ARGUMENT;
	if (!il_sbc_advertised_ok(&rw->advertised, rw->allow_private))
		return IL_SBC_ERR_PRIVATE;
	if (rw->media < 0 || (size_t)rw->media >= s->media_count || rw->port == 0 ||
	    (!rw->rtcp_mux && rw->port == UINT16_MAX))
		return IL_SBC_ERR_ARGUMENT;
	if (rw->ice && (!rw->ufrag || !rw->pwd || !il_sdp_ufrag_valid(rw->ufrag, strlen(rw->ufrag)) ||
			!il_sdp_pwd_valid(rw->pwd, strlen(rw->pwd))))
		return IL_SBC_ERR_ARGUMENT;
	rewrite_ctx c = {.rw = rw};
	for (size_t i = 0; i < rw->forbidden_count; i++)
		if (il_addr_format_ip(&rw->forbidden[i], c.forbidden[c.forbidden_count], IL_ADDR_STRLEN) > 0)
			c.forbidden_count++;
	char ip[IL_ADDR_STRLEN];
	if (il_addr_format_ip(&rw->advertised, ip, sizeof ip) < 0)
		return IL_SBC_ERR_ARGUMENT;
	const char *addrtype = rw->advertised.family == IL_AF_INET ? "IP4" : "IP6";

	/* o=: the origin's username, session id and version stay (the far
	 * end's own increments then carry over); its address is ours. */
	snprintf(s->origin.nettype, sizeof s->origin.nettype, "IN");
	snprintf(s->origin.addrtype, sizeof s->origin.addrtype, "%s", addrtype);
	snprintf(s->origin.address, sizeof s->origin.address, "%s", ip);
	if (names_forbidden(&c, &(il_sdp_line){s->origin.username, strlen(s->origin.username)}))
		snprintf(s->origin.username, sizeof s->origin.username, "-");
	set_connection(&s->conn, addrtype, ip);
	s->ice_lite = rw->ice;
	memset(&s->ice, 0, sizeof s->ice);
	s->line_count = filter_lines(&c, s->lines, s->line_count, rw->rtcp_mux);

	for (size_t i = 0; i < s->media_count; i++) {
		il_sdp_media *m = &s->media[i];
		bool bridged = (int)i == rw->media;
		m->conn.present = false; /* the session-level c= says it */
		strip_ice(m);
		m->port_count = 0;
		m->rtcp_mux = bridged && rw->rtcp_mux;
		m->line_count = filter_lines(&c, m->lines, m->line_count, m->rtcp_mux);
		if (!bridged) {
			m->port = 0; /* RFC 3264 §6: rejected / not offered */
			continue;
		}
		m->port = rw->port;
		if (rw->ice) {
			snprintf(m->ice.ufrag, sizeof m->ice.ufrag, "%s", rw->ufrag);
			snprintf(m->ice.pwd, sizeof m->ice.pwd, "%s", rw->pwd);
			m->ice.end_of_candidates = true; /* a lite agent has all its candidates */
			add_candidates(m, &rw->advertised, rw->port, rw->rtcp_mux, rw->relay);
		}
	}
	return IL_SBC_OK;
}
