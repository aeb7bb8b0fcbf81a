/* Targets of `icelab probe`: udp:// tcp:// tls:// URLs, the stun: and
 * stuns: URIs of RFC 7064 and the turn: and turns: URIs of RFC 7065.
 * Pure functions: text in, a target or one line of error out. */
#include "icelab/probe.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *il_probe_transport_name(int transport)
{
	switch (transport) {
	case IL_PROBE_UDP:
		return "udp";
	case IL_PROBE_TCP:
		return "tcp";
	case IL_PROBE_TLS:
		return "tls";
	default:
		return "?";
	}
}

static int fail(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	if (err && err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* Decimal 1..65535, the whole of s[0..len). */
static int parse_port(const char *s, size_t len, uint16_t *port)
{
	if (len == 0 || len > 5)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* host [":" port] from s[0..len) (RFC 3986 host: reg-name, IPv4address or
 * "[" IPv6address "]"); the port stays at its default when absent. */
static int parse_host_port(const char *s, size_t len, il_probe_target *t, char *err,
			   size_t err_len)
{
	const char *host = s, *rest;
	size_t host_len;
	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close)
			return fail(err, err_len, "'[' without ']' in the host");
		host = s + 1;
		host_len = (size_t)(close - host);
		rest = close + 1;
		char v6[IL_PROBE_HOST_MAX];
		struct in6_addr a;
		if (host_len == 0 || host_len >= sizeof v6)
			return fail(err, err_len, "bad IPv6 literal");
		memcpy(v6, host, host_len);
		v6[host_len] = '\0';
		if (inet_pton(AF_INET6, v6, &a) != 1)
			return fail(err, err_len, "bad IPv6 literal '%s'", v6);
	} else {
		const char *colon = memchr(s, ':', len);
		host_len = colon ? (size_t)(colon - s) : len;
		rest = s + host_len;
		if (colon && memchr(colon + 1, ':', len - host_len - 1))
			return fail(err, err_len, "an IPv6 address needs brackets: [ADDR]:PORT");
		if (host_len == 0)
			return fail(err, err_len, "no host");
		for (size_t i = 0; i < host_len; i++)
			if (!host_char(s[i]))
				return fail(err, err_len, "bad character '%c' in the host", s[i]);
	}
	if (host_len >= sizeof t->host)
		return fail(err, err_len, "host name too long");
	memcpy(t->host, host, host_len);
	t->host[host_len] = '\0';
	size_t rest_len = len - (size_t)(rest - s);
	if (rest_len == 0)
		return 0;
	if (rest[0] != ':' || parse_port(rest + 1, rest_len - 1, &t->port) < 0)
		return fail(err, err_len, "bad port '%.*s' (1-65535)",
			    (int)(rest_len > 1 ? rest_len - 1 : rest_len), rest_len > 1 ? rest + 1 : rest);
	return 0;
}

typedef struct scheme {
	const char *prefix;
	int transport;
	uint16_t port;
} scheme;

static const scheme stun_schemes[] = {
	{"udp://", IL_PROBE_UDP, IL_PROBE_DEFAULT_STUN_PORT},
	{"tcp://", IL_PROBE_TCP, IL_PROBE_DEFAULT_STUN_PORT},
	{"tls://", IL_PROBE_TLS, IL_PROBE_DEFAULT_STUNS_PORT},
	{"stuns:", IL_PROBE_TLS, IL_PROBE_DEFAULT_STUNS_PORT},
	{"stun:", IL_PROBE_UDP, IL_PROBE_DEFAULT_STUN_PORT},
};

int il_probe_parse_stun_target(const char *text, il_probe_target *out, char *err,
			       size_t err_len)
{
	memset(out, 0, sizeof *out);
	if (!text || !*text)
		return fail(err, err_len, "empty target");
	const scheme *sc = NULL;
	for (size_t i = 0; i < sizeof stun_schemes / sizeof stun_schemes[0] && !sc; i++)
		if (!strncasecmp(text, stun_schemes[i].prefix, strlen(stun_schemes[i].prefix)))
			sc = &stun_schemes[i];
	if (!sc)
		return fail(err, err_len,
			    "'%.80s': want udp://HOST:PORT, tcp://, tls://, stun: or stuns:", text);
	const char *s = text + strlen(sc->prefix);
	if (!strncmp(s, "//", 2))
		return fail(err, err_len, "'%.80s': a stun: URI has no '//' (RFC 7064)", text);
	if (strpbrk(s, "?#@/"))
		return fail(err, err_len, "'%.80s': only HOST[:PORT] may follow the scheme", text);
	out->transport = sc->transport;
	out->port = sc->port;
	char why[160];
	if (parse_host_port(s, strlen(s), out, why, sizeof why) < 0)
		return fail(err, err_len, "'%.80s': %s", text, why);
	return 0;
}

int il_probe_parse_turn_uri(const char *text, il_probe_target *out, char *err, size_t err_len)
{
	memset(out, 0, sizeof *out);
	if (!text || !*text)
		return fail(err, err_len, "empty TURN URI");
	bool secure;
	const char *s;
	if (!strncasecmp(text, "turns:", 6)) {
		secure = true;
		s = text + 6;
	} else if (!strncasecmp(text, "turn:", 5)) {
		secure = false;
		s = text + 5;
	} else {
		return fail(err, err_len, "'%.80s': want turn:HOST[:PORT][?transport=udp|tcp] or turns:",
			    text);
	}
	if (!strncmp(s, "//", 2))
		return fail(err, err_len, "'%.80s': a TURN URI has no '//' (RFC 7065: turn:HOST:PORT)",
			    text);
	const char *query = strchr(s, '?');
	size_t hp_len = query ? (size_t)(query - s) : strlen(s);
	if (memchr(s, '#', hp_len) || memchr(s, '@', hp_len) || memchr(s, '/', hp_len))
		return fail(err, err_len, "'%.80s': only HOST[:PORT] may follow the scheme", text);
	/* "<transport> ... default ... "udp" for "turn" and "tcp" for "turns""
	 * (RFC 7065 §3.2) */
	out->transport = secure ? IL_PROBE_TLS : IL_PROBE_UDP;
	out->port = secure ? IL_PROBE_DEFAULT_STUNS_PORT : IL_PROBE_DEFAULT_STUN_PORT;
	char why[160];
	if (parse_host_port(s, hp_len, out, why, sizeof why) < 0)
		return fail(err, err_len, "'%.80s': %s", text, why);
	if (!query)
		return 0;
	const char *q = query + 1;
	if (strncasecmp(q, "transport=", 10))
		return fail(err, err_len, "'%.80s': the only query is ?transport=udp|tcp", text);
	q += 10;
	if (!strcasecmp(q, "tcp")) {
		out->transport = secure ? IL_PROBE_TLS : IL_PROBE_TCP;
	} else if (!strcasecmp(q, "udp")) {
		if (secure)
			return fail(err, err_len, "'%.80s': turns: over UDP is DTLS, not supported", text);
		out->transport = IL_PROBE_UDP;
	} else {
		return fail(err, err_len, "'%.80s': transport '%.32s' is neither udp nor tcp", text, q);
	}
	return 0;
}
