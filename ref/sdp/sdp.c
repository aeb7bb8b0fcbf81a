/* SDP for ICE (RFC 8839): a=candidate, a=ice-ufrag, a=ice-pwd,
 * a=ice-options, a=ice-lite, a=end-of-candidates (RFC 8838 §15.1),
 * a=remote-candidates, a=rtcp-mux (RFC 5761), and the o=, c= and m= lines
 * (RFC 8866 §5.2, §5.7, §5.14). Every other line is kept verbatim.
 *
 * Grammar of RFC 8839 §5.1:
 *   candidate-attribute = "candidate" ":" foundation SP component-id SP
 *       transport SP priority SP connection-address SP port SP cand-type
 *       [SP rel-addr] [SP rel-port] *(SP cand-extension)
 *   foundation = 1*32ice-char; component-id = 1*3DIGIT;
 *   priority = 1*10DIGIT; cand-type = "typ" SP candidate-types;
 *   rel-addr = "raddr" SP connection-address; rel-port = "rport" SP port;
 *   cand-extension = extension-att-name SP extension-att-value */
#include "icelab/sdp.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKENS 48
#define LINE_MAX_LEN 2048

static int fail(il_sdp_error *err, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(il_sdp_error *err, unsigned line, const char *fmt, ...)
{
	if (err) {
		err->line = line;
		int n = line ? snprintf(err->message, sizeof err->message, "line %u: ", line) : 0;
		if (n < 0)
			n = 0;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message + n, sizeof err->message - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return IL_SDP_ERR_SYNTAX;
}

bool il_sdp_ufrag_valid(const char *text, size_t len)
{
	return len >= 4 && len <= IL_ICE_UFRAG_MAX && il_ice_is_ice_chars(text, len);
}

bool il_sdp_pwd_valid(const char *text, size_t len)
{
	return len >= 22 && len <= IL_ICE_PWD_MAX && il_ice_is_ice_chars(text, len);
}

/* Splits buf (modified) at spaces; returns the number of tokens, or -1
 * when there are too many. */
static int split(char *buf, char **tok, int max)
{
	int n = 0;
	char *p = buf;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == max)
			return -1;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return n;
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	if (!*s || strlen(s) > 20)
		return false;
	unsigned long long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

static bool parse_ip(const char *s, il_addr *out)
{
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, s, out->ip) == 1) {
		out->family = IL_AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, out->ip) == 1) {
		out->family = IL_AF_INET6;
		return true;
	}
	return false;
}

/* RFC 8866 §9: an FQDN is alphanumerics, '-' and '.'; nothing else. */
static bool fqdn_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len >= IL_SDP_HOST_MAX)
		return false;
	bool alpha = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			alpha = true;
		else if (!((c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return alpha;
}

static const char *const type_names[] = {"host", "srflx", "prflx", "relay"};

static int candidate_tokens(char **tok, int n, il_sdp_candidate *out, il_sdp_error *err,
			    unsigned line)
{
	il_ice_candidate *c = &out->cand;
	unsigned long long v;
	if (n < 8)
		return fail(err, line, "a=candidate: %d fields, at least 8 needed", n);
	size_t flen = strlen(tok[0]);
	if (flen > IL_ICE_FOUNDATION_MAX || !il_ice_is_ice_chars(tok[0], flen))
		return fail(err, line, "a=candidate: bad foundation \"%.40s\" (1 to 32 ice-chars)",
			    tok[0]);
	memcpy(c->foundation, tok[0], flen + 1);
	if (!parse_uint(tok[1], 256, &v) || v == 0 || strlen(tok[1]) > 3)
		return fail(err, line, "a=candidate: bad component id \"%.20s\" (1 to 256)", tok[1]);
	c->component = (uint16_t)v;
	if (strcasecmp(tok[2], "UDP") == 0)
		c->transport = IL_ICE_TRANSPORT_UDP;
	else if (strcasecmp(tok[2], "TCP") == 0)
		c->transport = IL_ICE_TRANSPORT_TCP;
	else
		return fail(err, line, "a=candidate: unknown transport \"%.20s\"", tok[2]);
	/* §5.1: priority "MUST be a positive integer between 1 and
	 * (2**31 - 1)". */
	if (strlen(tok[3]) > 10 || !parse_uint(tok[3], 0x7FFFFFFFull, &v) || v == 0)
		return fail(err, line, "a=candidate: bad priority \"%.20s\" (1 to 2^31-1)", tok[3]);
	c->priority = (uint32_t)v;
	if (!parse_ip(tok[4], &c->addr)) {
		if (!fqdn_ok(tok[4]))
			return fail(err, line, "a=candidate: bad address \"%.60s\"", tok[4]);
		snprintf(out->hostname, sizeof out->hostname, "%s", tok[4]);
	}
	if (!parse_uint(tok[5], 65535, &v))
		return fail(err, line, "a=candidate: bad port \"%.20s\"", tok[5]);
	c->addr.port = (uint16_t)v;
	if (strcmp(tok[6], "typ") != 0)
		return fail(err, line, "a=candidate: \"typ\" expected, \"%.20s\" found", tok[6]);
	int type = -1;
	for (int t = 0; t < 4; t++)
		if (strcmp(tok[7], type_names[t]) == 0)
			type = t;
	if (type < 0)
		return fail(err, line, "a=candidate: unknown candidate type \"%.20s\"", tok[7]);
	c->type = (uint8_t)type;
	int i = 8;
	bool raddr = false;
	if (i + 1 < n && strcmp(tok[i], "raddr") == 0) {
		/* The grammar allows an FQDN; the related address is an IP
		 * in practice (the base or mapped address), and we keep IPs. */
		if (!parse_ip(tok[i + 1], &c->related))
			return fail(err, line, "a=candidate: bad raddr \"%.60s\"", tok[i + 1]);
		raddr = true;
		i += 2;
	}
	if (i + 1 < n && strcmp(tok[i], "rport") == 0) {
		if (!raddr)
			return fail(err, line, "a=candidate: rport without raddr");
		if (!parse_uint(tok[i + 1], 65535, &v))
			return fail(err, line, "a=candidate: bad rport \"%.20s\"", tok[i + 1]);
		c->related.port = (uint16_t)v;
		i += 2;
	} else if (raddr) {
		return fail(err, line, "a=candidate: raddr without rport");
	}
	size_t ext_len = 0;
	for (; i < n; i += 2) {
		if (i + 1 >= n)
			return fail(err, line, "a=candidate: extension \"%.30s\" without a value",
				    tok[i]);
		if (strcmp(tok[i], "raddr") == 0 || strcmp(tok[i], "rport") == 0 ||
		    strcmp(tok[i], "typ") == 0)
			return fail(err, line, "a=candidate: \"%s\" out of place", tok[i]);
		if (strcmp(tok[i], "generation") == 0) {
			if (!parse_uint(tok[i + 1], 0x7FFFFFFF, &v))
				return fail(err, line, "a=candidate: bad generation \"%.20s\"",
					    tok[i + 1]);
			out->generation = (int32_t)v;
		} else if (strcmp(tok[i], "tcptype") == 0) {
			if (strcmp(tok[i + 1], "active") != 0 && strcmp(tok[i + 1], "passive") != 0 &&
			    strcmp(tok[i + 1], "so") != 0)
				return fail(err, line, "a=candidate: bad tcptype \"%.20s\"",
					    tok[i + 1]);
			snprintf(out->tcptype, sizeof out->tcptype, "%s", tok[i + 1]);
		} else {
			int w = snprintf(out->extensions + ext_len, sizeof out->extensions - ext_len,
					 " %s %s", tok[i], tok[i + 1]);
			if (w < 0 || (size_t)w >= sizeof out->extensions - ext_len)
				return fail(err, line, "a=candidate: extensions longer than %d bytes",
					    IL_SDP_EXT_MAX - 1);
			ext_len += (size_t)w;
		}
	}
	if (c->transport == IL_ICE_TRANSPORT_TCP && out->tcptype[0] == '\0')
		return fail(err, line, "a=candidate: TCP candidate without tcptype (RFC 6544)");
	return IL_SDP_OK;
}

static int candidate_parse_line(const char *text, size_t len, il_sdp_candidate *out,
				il_sdp_error *err, unsigned line)
{
	memset(out, 0, sizeof *out);
	out->generation = -1;
	if (len >= 2 && text[0] == 'a' && text[1] == '=') {
		text += 2;
		len -= 2;
	}
	if (len >= 10 && memcmp(text, "candidate:", 10) == 0) {
		text += 10;
		len -= 10;
	}
	char buf[LINE_MAX_LEN];
	if (len >= sizeof buf)
		return fail(err, line, "a=candidate: longer than %d bytes", LINE_MAX_LEN - 1);
	if (memchr(text, '\0', len))
		return fail(err, line, "a=candidate: NUL byte");
	memcpy(buf, text, len);
	buf[len] = '\0';
	char *tok[MAX_TOKENS];
	int n = split(buf, tok, MAX_TOKENS);
	if (n < 0)
		return fail(err, line, "a=candidate: more than %d fields", MAX_TOKENS);
	return candidate_tokens(tok, n, out, err, line);
}

int il_sdp_candidate_parse(const char *text, size_t len, il_sdp_candidate *out,
			   il_sdp_error *err)
{
	return candidate_parse_line(text, len, out, err, 0);
}

void il_sdp_candidate_from_ice(il_sdp_candidate *out, const il_ice_candidate *c)
{
	memset(out, 0, sizeof *out);
	out->cand = *c;
	out->generation = -1;
}

/* snprintf into out at *at; false when it does not fit. */
static bool put(char *out, size_t cap, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool put(char *out, size_t cap, size_t *at, const char *fmt, ...)
{
	if (*at >= cap)
		return false;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *at, cap - *at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *at)
		return false;
	*at += (size_t)n;
	return true;
}

int il_sdp_candidate_write(const il_sdp_candidate *sc, char *out, size_t cap)
{
	const il_ice_candidate *c = &sc->cand;
	size_t flen = strnlen(c->foundation, sizeof c->foundation);
	if (!il_ice_is_ice_chars(c->foundation, flen) || c->component < 1 || c->component > 256 ||
	    c->priority == 0 || c->priority > 0x7FFFFFFFu || c->type > IL_ICE_CAND_RELAY)
		return IL_SDP_ERR_SYNTAX;
	char ip[IL_ADDR_STRLEN];
	const char *address = ip;
	if (c->addr.family == IL_AF_NONE) {
		if (!fqdn_ok(sc->hostname))
			return IL_SDP_ERR_SYNTAX;
		address = sc->hostname;
	} else if (il_addr_format_ip(&c->addr, ip, sizeof ip) < 0) {
		return IL_SDP_ERR_SYNTAX;
	}
	size_t at = 0;
	if (!put(out, cap, &at, "candidate:%s %u %s %u %s %u typ %s", c->foundation, c->component,
		 c->transport == IL_ICE_TRANSPORT_TCP ? "TCP" : "UDP", c->priority, address,
		 c->addr.port, type_names[c->type]))
		return IL_SDP_ERR_SPACE;
	if (c->related.family != IL_AF_NONE) {
		char rip[IL_ADDR_STRLEN];
		if (il_addr_format_ip(&c->related, rip, sizeof rip) < 0)
			return IL_SDP_ERR_SYNTAX;
		if (!put(out, cap, &at, " raddr %s rport %u", rip, c->related.port))
			return IL_SDP_ERR_SPACE;
	}
	if (sc->tcptype[0] && !put(out, cap, &at, " tcptype %s", sc->tcptype))
		return IL_SDP_ERR_SPACE;
	if (sc->generation >= 0 && !put(out, cap, &at, " generation %d", (int)sc->generation))
		return IL_SDP_ERR_SPACE;
	if (sc->extensions[0] && !put(out, cap, &at, "%s", sc->extensions))
		return IL_SDP_ERR_SPACE;
	return (int)at;
}

/* ---- whole descriptions ---- */

static bool copy_token(char *dst, size_t cap, const char *src)
{
	size_t len = strlen(src);
	if (len >= cap)
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

static int parse_connection(char *value, il_sdp_connection *c, il_sdp_error *err, unsigned line)
{
	char *tok[4];
	int n = split(value, tok, 4);
	if (n != 3)
		return fail(err, line, "c=: 3 fields expected (nettype addrtype address)");
	if (strcmp(tok[1], "IP4") != 0 && strcmp(tok[1], "IP6") != 0)
		return fail(err, line, "c=: unknown address type \"%.20s\"", tok[1]);
	if (!copy_token(c->nettype, sizeof c->nettype, tok[0]) ||
	    !copy_token(c->addrtype, sizeof c->addrtype, tok[1]) ||
	    !copy_token(c->address, sizeof c->address, tok[2]))
		return fail(err, line, "c=: field too long");
	/* The address: an IP of the stated family (with /ttl for multicast)
	 * or an FQDN. */
	char host[IL_SDP_HOST_MAX];
	snprintf(host, sizeof host, "%s", tok[2]);
	char *slash = strchr(host, '/');
	if (slash)
		*slash = '\0';
	il_addr a;
	if (parse_ip(host, &a)) {
		if ((a.family == IL_AF_INET) != (strcmp(tok[1], "IP4") == 0))
			return fail(err, line, "c=: address \"%.60s\" is not %s", host, tok[1]);
	} else if (!fqdn_ok(host)) {
		return fail(err, line, "c=: bad address \"%.60s\"", host);
	}
	c->present = true;
	return IL_SDP_OK;
}

static int parse_origin(char *value, il_sdp_origin *o, il_sdp_error *err, unsigned line)
{
	char *tok[7];
	int n = split(value, tok, 7);
	if (n != 6)
		return fail(err, line,
			    "o=: 6 fields expected (username sess-id sess-version nettype addrtype "
			    "address)");
	unsigned long long v;
	if (!parse_uint(tok[1], UINT64_MAX, &v) || !parse_uint(tok[2], UINT64_MAX, &v))
		return fail(err, line, "o=: sess-id and sess-version must be numbers");
	if (!copy_token(o->username, sizeof o->username, tok[0]) ||
	    !copy_token(o->sess_id, sizeof o->sess_id, tok[1]) ||
	    !copy_token(o->sess_version, sizeof o->sess_version, tok[2]) ||
	    !copy_token(o->nettype, sizeof o->nettype, tok[3]) ||
	    !copy_token(o->addrtype, sizeof o->addrtype, tok[4]) ||
	    !copy_token(o->address, sizeof o->address, tok[5]))
		return fail(err, line, "o=: field too long");
	return IL_SDP_OK;
}

static int parse_media_line(char *value, il_sdp_media *m, il_sdp_error *err, unsigned line)
{
	char *tok[MAX_TOKENS];
	int n = split(value, tok, MAX_TOKENS);
	if (n < 4)
		return fail(err, line, "m=: at least 4 fields expected (media port proto fmt)");
	if (!copy_token(m->media, sizeof m->media, tok[0]) ||
	    !copy_token(m->proto, sizeof m->proto, tok[2]))
		return fail(err, line, "m=: field too long");
	char *slash = strchr(tok[1], '/');
	unsigned long long v;
	if (slash) {
		*slash = '\0';
		if (!parse_uint(slash + 1, 65535, &v) || v == 0)
			return fail(err, line, "m=: bad port count \"%.20s\"", slash + 1);
		m->port_count = (uint16_t)v;
	}
	if (!parse_uint(tok[1], 65535, &v))
		return fail(err, line, "m=: bad port \"%.20s\"", tok[1]);
	m->port = (uint16_t)v;
	size_t at = 0;
	m->formats[0] = '\0';
	for (int i = 3; i < n; i++)
		if (!put(m->formats, sizeof m->formats, &at, i == 3 ? "%s" : " %s", tok[i]))
			return fail(err, line, "m=: formats too long");
	return IL_SDP_OK;
}

static int parse_remote_candidates(char *value, il_sdp_media *m, il_sdp_error *err,
				   unsigned line)
{
	char *tok[MAX_TOKENS];
	int n = split(value, tok, MAX_TOKENS);
	if (n <= 0 || n % 3 != 0)
		return fail(err, line, "a=remote-candidates: \"component address port\" triples "
				       "expected");
	for (int i = 0; i < n; i += 3) {
		if (m->remote_candidate_count == IL_SDP_MAX_REMOTE_CANDIDATES)
			return fail(err, line, "a=remote-candidates: more than %d",
				    IL_SDP_MAX_REMOTE_CANDIDATES);
		il_sdp_remote_candidate *r = &m->remote_candidates[m->remote_candidate_count];
		unsigned long long v;
		if (!parse_uint(tok[i], 256, &v) || v == 0)
			return fail(err, line, "a=remote-candidates: bad component \"%.20s\"",
				    tok[i]);
		r->component = (uint16_t)v;
		if (!parse_ip(tok[i + 1], &r->addr))
			return fail(err, line, "a=remote-candidates: bad address \"%.60s\"",
				    tok[i + 1]);
		if (!parse_uint(tok[i + 2], 65535, &v))
			return fail(err, line, "a=remote-candidates: bad port \"%.20s\"", tok[i + 2]);
		r->addr.port = (uint16_t)v;
		m->remote_candidate_count++;
	}
	return IL_SDP_OK;
}

static int parse_ice_options(char *value, il_sdp_ice *ice, il_sdp_error *err, unsigned line)
{
	if (!copy_token(ice->options, sizeof ice->options, value))
		return fail(err, line, "a=ice-options: too long");
	char *tok[MAX_TOKENS];
	int n = split(value, tok, MAX_TOKENS);
	if (n <= 0)
		return fail(err, line, "a=ice-options: no option");
	for (int i = 0; i < n; i++) {
		if (!il_ice_is_ice_chars(tok[i], strlen(tok[i])) &&
		    strspn(tok[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				   "+/-_.") != strlen(tok[i]))
			return fail(err, line, "a=ice-options: bad option \"%.30s\"", tok[i]);
		if (strcmp(tok[i], "trickle") == 0)
			ice->trickle = true;
		else if (strcmp(tok[i], "ice2") == 0)
			ice->ice2 = true;
	}
	return IL_SDP_OK;
}

/* An a= line of ICE; returns 1 when handled, 0 when it is another
 * attribute (kept verbatim), or an error. */
static int parse_ice_attribute(const char *text, size_t len, il_sdp_session *s, il_sdp_media *m,
			       il_sdp_error *err, unsigned line)
{
	const char *colon = memchr(text, ':', len);
	size_t nlen = colon ? (size_t)(colon - text) : len;
	char name[32];
	if (nlen >= sizeof name)
		return 0;
	memcpy(name, text, nlen);
	name[nlen] = '\0';
	char value[LINE_MAX_LEN];
	size_t vlen = colon ? len - nlen - 1 : 0;
	if (vlen >= sizeof value)
		return fail(err, line, "a=%s: longer than %d bytes", name, LINE_MAX_LEN - 1);
	if (colon)
		memcpy(value, colon + 1, vlen);
	value[vlen] = '\0';
	il_sdp_ice *ice = m ? &m->ice : &s->ice;

	if (strcmp(name, "candidate") == 0) {
		if (!m)
			return fail(err, line, "a=candidate: at session level");
		if (m->candidate_count == IL_SDP_MAX_CANDIDATES)
			return fail(err, line, "a=candidate: more than %d in a media section",
				    IL_SDP_MAX_CANDIDATES);
		int rc = candidate_parse_line(value, vlen, &m->candidates[m->candidate_count], err,
					      line);
		if (rc != IL_SDP_OK)
			return rc;
		m->candidate_count++;
		return 1;
	}
	if (strcmp(name, "ice-ufrag") == 0) {
		if (!il_sdp_ufrag_valid(value, vlen))
			return fail(err, line,
				    "a=ice-ufrag: %zu characters%s, 4 to 256 ice-chars needed", vlen,
				    il_ice_is_ice_chars(value, vlen) || vlen == 0 ? ""
										 : " (bad character)");
		memcpy(ice->ufrag, value, vlen + 1);
		return 1;
	}
	if (strcmp(name, "ice-pwd") == 0) {
		if (!il_sdp_pwd_valid(value, vlen))
			return fail(err, line, "a=ice-pwd: %zu characters%s, 22 to 256 ice-chars needed",
				    vlen,
				    il_ice_is_ice_chars(value, vlen) || vlen == 0 ? ""
										 : " (bad character)");
		memcpy(ice->pwd, value, vlen + 1);
		return 1;
	}
	if (strcmp(name, "ice-options") == 0)
		return parse_ice_options(value, ice, err, line) == IL_SDP_OK ? 1 : IL_SDP_ERR_SYNTAX;
	if (strcmp(name, "ice-lite") == 0) {
		/* RFC 8839 §5.3: a session-level attribute only. */
		if (m)
			return fail(err, line, "a=ice-lite: at media level (session level only)");
		s->ice_lite = true;
		return 1;
	}
	if (strcmp(name, "end-of-candidates") == 0) {
		ice->end_of_candidates = true;
		return 1;
	}
	if (strcmp(name, "remote-candidates") == 0) {
		if (!m)
			return fail(err, line, "a=remote-candidates: at session level");
		return parse_remote_candidates(value, m, err, line) == IL_SDP_OK ? 1
										 : IL_SDP_ERR_SYNTAX;
	}
	if (strcmp(name, "rtcp-mux") == 0 && m) {
		m->rtcp_mux = true;
		return 1;
	}
	return 0;
}

static int keep_line(il_sdp_line *lines, size_t *count, const char *text, size_t len,
		     il_sdp_error *err, unsigned line)
{
	if (*count == IL_SDP_MAX_LINES) {
		fail(err, line, "more than %d other lines in a section", IL_SDP_MAX_LINES);
		return IL_SDP_ERR_FULL;
	}
	lines[*count].text = text;
	lines[*count].len = len;
	(*count)++;
	return IL_SDP_OK;
}

/* A media section cleared as it opens, all but its candidate slots (19 kB,
 * each cleared as it is filled): clearing the whole session per call cost
 * more than parsing it. Slots past media_count and candidate_count are left
 * as they were: nothing reads them. */
static void media_clear(il_sdp_media *m)
{
	memset(m, 0, offsetof(il_sdp_media, candidates));
	memset(&m->candidate_count, 0, sizeof *m - offsetof(il_sdp_media, candidate_count));
}

int il_sdp_parse(const char *text, size_t len, il_sdp_session *s, il_sdp_error *err)
{
	memset(s, 0, offsetof(il_sdp_session, media));
	s->media_count = 0;
	if (err) {
		err->line = 0;
		err->message[0] = '\0';
	}
	il_sdp_media *m = NULL;
	unsigned line = 0;
	bool have_origin = false;
	size_t pos = 0;
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - start) : len - pos;
		pos += llen + (nl ? 1 : 0);
		line++;
		if (llen > 0 && start[llen - 1] == '\r')
			llen--;
		if (llen == 0) {
			if (pos >= len)
				break; /* a final empty line */
			return fail(err, line, "empty line");
		}
		if (memchr(start, '\0', llen))
			return fail(err, line, "NUL byte");
		if (llen < 2 || start[1] != '=' || start[0] < 'a' || start[0] > 'z')
			return fail(err, line, "not a <type>=<value> line");
		if (llen >= LINE_MAX_LEN)
			return fail(err, line, "longer than %d bytes", LINE_MAX_LEN - 1);
		char type = start[0];
		char value[LINE_MAX_LEN];
		memcpy(value, start + 2, llen - 2);
		value[llen - 2] = '\0';
		if (line == 1) {
			if (type != 'v' || strcmp(value, "0") != 0)
				return fail(err, line, "the first line must be v=0");
			continue;
		}
		int rc = IL_SDP_OK;
		switch (type) {
		case 'v':
			return fail(err, line, "v= again");
		case 'o':
			if (m || have_origin)
				return fail(err, line, "o= out of place");
			have_origin = true;
			rc = parse_origin(value, &s->origin, err, line);
			break;
		case 'm':
			if (s->media_count == IL_SDP_MAX_MEDIA) {
				fail(err, line, "more than %d media sections", IL_SDP_MAX_MEDIA);
				return IL_SDP_ERR_FULL;
			}
			m = &s->media[s->media_count++];
			media_clear(m);
			rc = parse_media_line(value, m, err, line);
			break;
		case 'c': {
			il_sdp_connection *c = m ? &m->conn : &s->conn;
			if (c->present)
				return fail(err, line, "a second c= line in the section");
			rc = parse_connection(value, c, err, line);
			break;
		}
		case 'a':
			rc = parse_ice_attribute(start + 2, llen - 2, s, m, err, line);
			if (rc == 0)
				rc = m ? keep_line(m->lines, &m->line_count, start, llen, err, line)
				       : keep_line(s->lines, &s->line_count, start, llen, err, line);
			else if (rc == 1)
				rc = IL_SDP_OK;
			break;
		default:
			rc = m ? keep_line(m->lines, &m->line_count, start, llen, err, line)
			       : keep_line(s->lines, &s->line_count, start, llen, err, line);
			break;
		}
		if (rc != IL_SDP_OK)
			return rc;
	}
	if (line == 0)
		return fail(err, 1, "empty description");
	if (!have_origin)
		return fail(err, line, "no o= line");
	return IL_SDP_OK;
}

const char *il_sdp_media_ufrag(const il_sdp_session *s, const il_sdp_media *m)
{
	if (m->ice.ufrag[0])
		return m->ice.ufrag;
	return s->ice.ufrag[0] ? s->ice.ufrag : NULL;
}

const char *il_sdp_media_pwd(const il_sdp_session *s, const il_sdp_media *m)
{
	if (m->ice.pwd[0])
		return m->ice.pwd;
	return s->ice.pwd[0] ? s->ice.pwd : NULL;
}

/* RFC 8866 §5 order: c= comes before b=, t=, r=, z=, k= and a= lines. */
static bool after_connection(char type)
{
	return strchr("btrzka", type) != NULL;
}

static bool write_connection(const il_sdp_connection *c, char *out, size_t cap, size_t *at)
{
	return !c->present ||
	       put(out, cap, at, "c=%s %s %s\r\n", c->nettype, c->addrtype, c->address);
}

static bool write_lines(const il_sdp_line *lines, size_t count, const il_sdp_connection *c,
			char *out, size_t cap, size_t *at)
{
	bool conn_done = false;
	for (size_t i = 0; i < count; i++) {
		if (!conn_done && after_connection(lines[i].text[0])) {
			if (!write_connection(c, out, cap, at))
				return false;
			conn_done = true;
		}
		if (!put(out, cap, at, "%.*s\r\n", (int)lines[i].len, lines[i].text))
			return false;
	}
	return conn_done || write_connection(c, out, cap, at);
}

static bool write_ice(const il_sdp_ice *ice, char *out, size_t cap, size_t *at)
{
	if (ice->ufrag[0] && !put(out, cap, at, "a=ice-ufrag:%s\r\n", ice->ufrag))
		return false;
	if (ice->pwd[0] && !put(out, cap, at, "a=ice-pwd:%s\r\n", ice->pwd))
		return false;
	if (ice->options[0]) {
		if (!put(out, cap, at, "a=ice-options:%s\r\n", ice->options))
			return false;
	} else if (ice->trickle || ice->ice2) {
		if (!put(out, cap, at, "a=ice-options:%s%s%s\r\n", ice->trickle ? "trickle" : "",
			 ice->trickle && ice->ice2 ? " " : "", ice->ice2 ? "ice2" : ""))
			return false;
	}
	return true;
}

int il_sdp_write(const il_sdp_session *s, char *out, size_t cap)
{
	size_t at = 0;
	const il_sdp_origin *o = &s->origin;
	if (!put(out, cap, &at, "v=0\r\no=%s %s %s %s %s %s\r\n", o->username, o->sess_id,
		 o->sess_version, o->nettype, o->addrtype, o->address))
		return IL_SDP_ERR_SPACE;
	if (!write_lines(s->lines, s->line_count, &s->conn, out, cap, &at))
		return IL_SDP_ERR_SPACE;
	if (s->ice_lite && !put(out, cap, &at, "a=ice-lite\r\n"))
		return IL_SDP_ERR_SPACE;
	if (!write_ice(&s->ice, out, cap, &at))
		return IL_SDP_ERR_SPACE;
	if (s->ice.end_of_candidates && !put(out, cap, &at, "a=end-of-candidates\r\n"))
		return IL_SDP_ERR_SPACE;
	for (size_t i = 0; i < s->media_count; i++) {
		const il_sdp_media *m = &s->media[i];
		bool ok = m->port_count
				  ? put(out, cap, &at, "m=%s %u/%u %s %s\r\n", m->media, m->port,
					m->port_count, m->proto, m->formats)
				  : put(out, cap, &at, "m=%s %u %s %s\r\n", m->media, m->port, m->proto,
					m->formats);
		if (!ok || !write_lines(m->lines, m->line_count, &m->conn, out, cap, &at))
			return IL_SDP_ERR_SPACE;
		if (m->rtcp_mux && !put(out, cap, &at, "a=rtcp-mux\r\n"))
			return IL_SDP_ERR_SPACE;
		if (!write_ice(&m->ice, out, cap, &at))
			return IL_SDP_ERR_SPACE;
		for (size_t c = 0; c < m->candidate_count; c++) {
			if (!put(out, cap, &at, "a="))
				return IL_SDP_ERR_SPACE;
			int n = il_sdp_candidate_write(&m->candidates[c], out + at, cap - at);
			if (n < 0)
				return n;
			at += (size_t)n;
			if (!put(out, cap, &at, "\r\n"))
				return IL_SDP_ERR_SPACE;
		}
		if (m->remote_candidate_count) {
			if (!put(out, cap, &at, "a=remote-candidates:"))
				return IL_SDP_ERR_SPACE;
			for (size_t r = 0; r < m->remote_candidate_count; r++) {
				char ip[IL_ADDR_STRLEN];
				const il_sdp_remote_candidate *rc = &m->remote_candidates[r];
				if (il_addr_format_ip(&rc->addr, ip, sizeof ip) < 0)
					return IL_SDP_ERR_SYNTAX;
				if (!put(out, cap, &at, "%s%u %s %u", r ? " " : "", rc->component, ip,
					 rc->addr.port))
					return IL_SDP_ERR_SPACE;
			}
			if (!put(out, cap, &at, "\r\n"))
				return IL_SDP_ERR_SPACE;
		}
		if (m->ice.end_of_candidates && !put(out, cap, &at, "a=end-of-candidates\r\n"))
			return IL_SDP_ERR_SPACE;
	}
	return (int)at;
}
