/* The TURN peer-address policy (peer_policy.h): which peers a relay may
 * reach. RFC 8656 §21.2.2: "TURN servers are allowed to arbitrarily
 * restrict the range of addresses of peers that they will relay to."
 *
 * The ranges come from the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (RFC 6890) and the IANA IPv6 Address Space registry; the
 * embedding forms from RFC 4291 §2.5.5, RFC 6052, RFC 3056, RFC 4380 and
 * RFC 5214. Documentation ranges (RFC 5737, RFC 3849) are left allowed:
 * they are routed nowhere, so reaching them does no harm, and tests and
 * simulations use them as the public Internet. */
#include "icelab/peer_policy.h"

#include <arpa/inet.h>
#include <string.h>

/* The Teredo server's UDP port (RFC 4380 §2.7). */
#define TEREDO_SERVER_PORT 3544

struct special_range {
	il_cidr cidr;
	const char *name;
};

#define V4(len, text, ...) {{{.family = IL_AF_INET, .ip = {__VA_ARGS__}}, len}, text}
#define V6(len, text, ...) {{{.family = IL_AF_INET6, .ip = {__VA_ARGS__}}, len}, text}

/* Denied IPv4 peers. The first match names the range, so a range nested
 * in another comes first. */
static const struct special_range v4_ranges[] = {
	V4(8, "0.0.0.0/8 this network (RFC 791, RFC 6890)", 0),
	V4(8, "10.0.0.0/8 private-use (RFC 1918)", 10),
	V4(10, "100.64.0.0/10 shared address space, CGN (RFC 6598)", 100, 64),
	V4(8, "127.0.0.0/8 loopback (RFC 1122)", 127),
	V4(16, "169.254.0.0/16 link-local, cloud metadata (RFC 3927)", 169, 254),
	V4(12, "172.16.0.0/12 private-use (RFC 1918)", 172, 16),
	V4(24, "192.0.0.0/24 IETF protocol assignments (RFC 6890)", 192, 0, 0),
	V4(16, "192.168.0.0/16 private-use (RFC 1918)", 192, 168),
	V4(15, "198.18.0.0/15 benchmarking (RFC 2544)", 198, 18),
	V4(4, "224.0.0.0/4 multicast (RFC 5771)", 224),
	V4(32, "255.255.255.255/32 limited broadcast (RFC 919)", 255, 255, 255, 255),
	V4(4, "240.0.0.0/4 reserved (RFC 1112)", 240),
};

/* Denied IPv6 peers, IPv4-embedding forms aside. Only 2000::/3 is
 * allocated as global unicast (IANA IPv6 Address Space); the rest is
 * denied by the three last rows, after the named ranges inside it. */
static const struct special_range v6_ranges[] = {
	V6(128, "::/128 unspecified (RFC 4291)", 0),
	V6(128, "::1/128 loopback (RFC 4291)", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
	V6(48, "64:ff9b:1::/48 local-use IPv4/IPv6 translation (RFC 8215)", 0, 0x64, 0xff, 0x9b,
	   0, 1),
	V6(48, "2001:2::/48 benchmarking (RFC 5180)", 0x20, 0x01, 0, 2),
	V6(28, "2001:10::/28 ORCHID, deprecated (RFC 4843)", 0x20, 0x01, 0, 0x10),
	V6(28, "2001:20::/28 ORCHIDv2 (RFC 7343)", 0x20, 0x01, 0, 0x20),
	V6(7, "fc00::/7 unique local (RFC 4193)", 0xfc),
	V6(10, "fe80::/10 link-local (RFC 4291)", 0xfe, 0x80),
	V6(10, "fec0::/10 site-local, deprecated (RFC 3879)", 0xfe, 0xc0),
	V6(8, "ff00::/8 multicast (RFC 4291)", 0xff),
	V6(3, "::/3 not global unicast (IANA IPv6 Address Space)", 0),
	V6(2, "4000::/2 not global unicast (IANA IPv6 Address Space)", 0x40),
	V6(1, "8000::/1 not global unicast (IANA IPv6 Address Space)", 0x80),
};

/* The IPv6 forms that carry an IPv4 address. */
enum embed_form {
	FORM_NONE = 0,
	FORM_MAPPED, /* ::ffff:a.b.c.d: the IPv4 address itself */
	FORM_COMPAT, /* ::a.b.c.d: deprecated automatic tunnel */
	FORM_NAT64,  /* 64:ff9b::a.b.c.d: the IPv4 address via a translator */
	FORM_6TO4,   /* 2002:V4ADDR::/48 */
	FORM_TEREDO, /* 2001:0:SERVER:flags:~port:~client */
};

static const char *const form_names[] = {
	[FORM_MAPPED] = "::ffff:0:0/96 IPv4-mapped (RFC 4291 §2.5.5.2)",
	[FORM_COMPAT] = "::/96 IPv4-compatible, deprecated (RFC 4291 §2.5.5.1)",
	[FORM_NAT64] = "64:ff9b::/96 NAT64 well-known prefix (RFC 6052 §2.1)",
	[FORM_6TO4] = "2002::/16 6to4 (RFC 3056)",
	[FORM_TEREDO] = "2001::/32 Teredo (RFC 4380)",
};

static const char isatap_name[] = "ISATAP interface identifier (RFC 5214 §6.1)";

/* What an IPv6 address embeds: up to two IPv4 addresses, each with the
 * port that traffic to it would reach. */
struct embedded {
	enum embed_form form;
	bool isatap;
	size_t count;
	il_addr v4[2];
};

static void embedded_add(struct embedded *e, const uint8_t *ip, uint8_t xor_mask, uint16_t port)
{
	il_addr *a = &e->v4[e->count++];
	memset(a, 0, sizeof *a);
	a->family = IL_AF_INET;
	a->port = port;
	for (int i = 0; i < 4; i++)
		a->ip[i] = ip[i] ^ xor_mask;
}

static void find_embedded(const il_addr *a, struct embedded *e)
{
	static const uint8_t zero[12];
	static const uint8_t nat64_wkp[12] = {0, 0x64, 0xff, 0x9b};
	memset(e, 0, sizeof *e);
	if (a->family != IL_AF_INET6)
		return;
	const uint8_t *ip = a->ip;
	if (memcmp(ip, zero, 10) == 0 && ip[10] == 0xff && ip[11] == 0xff) {
		e->form = FORM_MAPPED;
		embedded_add(e, ip + 12, 0, a->port);
	} else if (memcmp(ip, zero, 12) == 0) {
		/* :: and ::1 are not IPv4-compatible addresses: "the IPv4
		 * address ... must be a globally-unique IPv4 unicast address"
		 * (RFC 4291 §2.5.5.1); they have rows of their own. */
		if (ip[12] == 0 && ip[13] == 0 && ip[14] == 0 && ip[15] <= 1)
			return;
		e->form = FORM_COMPAT;
		embedded_add(e, ip + 12, 0, a->port);
	} else if (memcmp(ip, nat64_wkp, 12) == 0) {
		/* RFC 6052 §2.2: with a /96 prefix, bits 96..127 are the IPv4
		 * address. The local-use 64:ff9b:1::/48 (RFC 8215) may carry it
		 * at any RFC 6052 position, so it is denied whole instead. */
		e->form = FORM_NAT64;
		embedded_add(e, ip + 12, 0, a->port);
	} else if (ip[0] == 0x20 && ip[1] == 0x02) {
		/* RFC 3056 §2: 2002:V4ADDR::/48, V4ADDR in bits 16..47. */
		e->form = FORM_6TO4;
		embedded_add(e, ip + 2, 0, a->port);
	} else if (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0 && ip[3] == 0) {
		/* RFC 4380 §4: the Teredo server's IPv4 address in bits 32..63;
		 * the client's mapped port in bits 80..95 and its mapped IPv4
		 * address in bits 96..127, both with all bits inverted. */
		e->form = FORM_TEREDO;
		embedded_add(e, ip + 4, 0, TEREDO_SERVER_PORT);
		embedded_add(e, ip + 12, 0xff, (uint16_t)(((ip[10] << 8) | ip[11]) ^ 0xffff));
		return;
	}
	/* RFC 5214 §6.1: an ISATAP interface identifier is 00-00-5E-FE (or
	 * 02-00-5E-FE for a global IPv4 address) then the IPv4 address, under
	 * any prefix. The low 64 bits of the forms above mean something else. */
	if ((e->form == FORM_NONE || e->form == FORM_6TO4) && (ip[8] == 0 || ip[8] == 2) &&
	    ip[9] == 0 && ip[10] == 0x5e && ip[11] == 0xfe) {
		e->isatap = true;
		embedded_add(e, ip + 12, 0, a->port);
	}
}

static bool is_tunnel_form(const struct embedded *e)
{
	return e->form == FORM_COMPAT || e->form == FORM_6TO4 || e->form == FORM_TEREDO ||
	       e->isatap;
}

/* The mapped, compatible and NAT64 forms stand for their IPv4 address and
 * sit in ::/3: the IPv6 rows do not apply to them. */
static bool v6_rows_apply(const struct embedded *e)
{
	return e->form != FORM_MAPPED && e->form != FORM_COMPAT && e->form != FORM_NAT64;
}

static const char *range_row(const il_addr *a)
{
	const struct special_range *rows = a->family == IL_AF_INET ? v4_ranges : v6_ranges;
	size_t n = a->family == IL_AF_INET ? sizeof v4_ranges / sizeof v4_ranges[0]
					   : sizeof v6_ranges / sizeof v6_ranges[0];
	for (size_t i = 0; i < n; i++)
		if (il_cidr_contains(&rows[i].cidr, a))
			return rows[i].name;
	return NULL;
}

static bool in_list(const il_cidr *list, size_t n, const il_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (il_cidr_contains(&list[i], a))
			return true;
	return false;
}

/* a, or any IPv4 address it embeds, is in the list. */
static bool in_list_any_form(const il_cidr *list, size_t n, const il_addr *a,
			     const struct embedded *e)
{
	if (in_list(list, n, a))
		return true;
	for (size_t i = 0; i < e->count; i++)
		if (in_list(list, n, &e->v4[i]))
			return true;
	return false;
}

static bool own_matches(const il_addr *own, const il_addr *a)
{
	size_t n = own->family == IL_AF_INET ? 4 : 16;
	return own->family == a->family && memcmp(own->ip, a->ip, n) == 0 &&
	       (own->port == 0 || own->port == a->port);
}

static bool is_own(const il_peer_policy *p, const il_addr *a, const struct embedded *e)
{
	for (size_t i = 0; i < p->own_count; i++) {
		if (own_matches(&p->own[i], a))
			return true;
		for (size_t k = 0; k < e->count; k++)
			if (own_matches(&p->own[i], &e->v4[k]))
				return true;
	}
	return false;
}

/* The default ranges with the holes in allowed[0..n). deny_tunnels: the
 * RFC 8656 §21.4 ban on tunnel forms, for peers (not for is_private). */
static enum il_peer_verdict judge(const il_cidr *allowed, size_t n, const il_addr *a,
				  const struct embedded *e, bool deny_tunnels)
{
	bool hole = in_list(allowed, n, a);
	if (a->family == IL_AF_INET)
		return hole || !range_row(a) ? IL_PEER_ALLOWED : IL_PEER_DENIED_RANGE;
	if (a->family != IL_AF_INET6)
		return IL_PEER_DENIED_RANGE;
	if (!hole && v6_rows_apply(e) && range_row(a))
		return IL_PEER_DENIED_RANGE;
	/* "a TURN server MUST NOT accept Teredo or 6to4 addresses in these
	 * requests" and "not forward data to such addresses" (RFC 8656 §21.4). */
	if (!hole && deny_tunnels && is_tunnel_form(e))
		return IL_PEER_DENIED_RANGE;
	/* A hole in an IPv6 range never opens the IPv4 addresses inside it:
	 * --allow-peer ::/0 leaves ::ffff:10.0.0.1 denied. */
	for (size_t i = 0; i < e->count; i++)
		if (!in_list(allowed, n, &e->v4[i]) && range_row(&e->v4[i]))
			return IL_PEER_DENIED_EMBEDDED;
	return IL_PEER_ALLOWED;
}

/* ::ffff:a.b.c.d stands for a.b.c.d: store it so. */
static void unmap_addr(il_addr *a)
{
	struct embedded e;
	find_embedded(a, &e);
	if (e.form == FORM_MAPPED)
		*a = e.v4[0]; /* the port comes along */
}

static void unmap_cidr(il_cidr *c)
{
	if (c->base.family != IL_AF_INET6 || c->prefix_len < 96)
		return;
	struct embedded e;
	find_embedded(&c->base, &e);
	if (e.form != FORM_MAPPED)
		return;
	c->base = e.v4[0];
	c->prefix_len = (uint8_t)(c->prefix_len - 96);
}

void il_peer_policy_init(il_peer_policy *p)
{
	memset(p, 0, sizeof *p);
}

static int parse_prefix(const char *text, unsigned max, unsigned *out)
{
	/* Decimal, 1 to 3 digits, no sign, no leading zero. */
	size_t n = strlen(text);
	if (n == 0 || n > 3 || (n > 1 && text[0] == '0'))
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(text[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int il_cidr_parse(const char *text, il_cidr *out)
{
	char ip[INET6_ADDRSTRLEN];
	il_cidr c;
	memset(&c, 0, sizeof c);
	if (!text)
		return -1;
	const char *slash = strchr(text, '/');
	size_t ip_len = slash ? (size_t)(slash - text) : strlen(text);
	if (ip_len == 0 || ip_len >= sizeof ip)
		return -1;
	memcpy(ip, text, ip_len);
	ip[ip_len] = '\0';
	bool v6 = memchr(ip, ':', ip_len) != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, ip, c.base.ip) != 1)
		return -1;
	c.base.family = v6 ? IL_AF_INET6 : IL_AF_INET;
	unsigned max = v6 ? 128 : 32;
	unsigned len = max;
	if (slash && parse_prefix(slash + 1, max, &len) < 0)
		return -1;
	c.prefix_len = (uint8_t)len;
	/* Host bits beyond the prefix are a typo or a misunderstanding:
	 * refuse rather than guess which was meant. */
	il_cidr masked = c;
	for (unsigned bit = len; bit < max; bit++)
		masked.base.ip[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	if (memcmp(masked.base.ip, c.base.ip, sizeof c.base.ip) != 0)
		return -1;
	*out = c;
	return 0;
}

bool il_cidr_contains(const il_cidr *c, const il_addr *a)
{
	unsigned max = c->base.family == IL_AF_INET    ? 32
		       : c->base.family == IL_AF_INET6 ? 128
						       : 0;
	if (max == 0 || a->family != c->base.family || c->prefix_len > max)
		return false;
	unsigned whole = c->prefix_len / 8, rest = c->prefix_len % 8;
	if (memcmp(c->base.ip, a->ip, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (c->base.ip[whole] & mask) == (a->ip[whole] & mask);
}

int il_peer_policy_allow(il_peer_policy *p, const il_cidr *c)
{
	if (p->allowed_count >= IL_PEER_POLICY_MAX_RANGES)
		return -1;
	il_cidr *slot = &p->allowed[p->allowed_count++];
	*slot = *c;
	unmap_cidr(slot);
	return 0;
}

int il_peer_policy_deny(il_peer_policy *p, const il_cidr *c)
{
	if (p->denied_extra_count >= IL_PEER_POLICY_MAX_RANGES)
		return -1;
	il_cidr *slot = &p->denied_extra[p->denied_extra_count++];
	*slot = *c;
	unmap_cidr(slot);
	return 0;
}

int il_peer_policy_add_own(il_peer_policy *p, const il_addr *a)
{
	if (p->own_count >= IL_PEER_POLICY_MAX_OWN ||
	    (a->family != IL_AF_INET && a->family != IL_AF_INET6))
		return -1;
	il_addr *slot = &p->own[p->own_count++];
	*slot = *a;
	unmap_addr(slot);
	return 0;
}

enum il_peer_verdict il_peer_policy_check(const il_peer_policy *p, const il_addr *peer)
{
	if (peer->family != IL_AF_INET && peer->family != IL_AF_INET6)
		return IL_PEER_DENIED_RANGE;
	struct embedded e;
	find_embedded(peer, &e);
	if (is_own(p, peer, &e))
		return IL_PEER_DENIED_OWN;
	if (in_list_any_form(p->denied_extra, p->denied_extra_count, peer, &e))
		return IL_PEER_DENIED_EXTRA;
	return judge(p->allowed, p->allowed_count, peer, &e, true);
}

const char *il_peer_verdict_name(enum il_peer_verdict v)
{
	switch (v) {
	case IL_PEER_ALLOWED:
		return "allowed";
	case IL_PEER_DENIED_RANGE:
		return "special-purpose range";
	case IL_PEER_DENIED_EMBEDDED:
		return "embeds a denied IPv4 address";
	case IL_PEER_DENIED_OWN:
		return "the server's own address";
	case IL_PEER_DENIED_EXTRA:
		return "denied by --deny-peer";
	}
	return "unknown";
}

const char *il_peer_range_name(const il_addr *a)
{
	if (a->family != IL_AF_INET && a->family != IL_AF_INET6)
		return NULL;
	struct embedded e;
	find_embedded(a, &e);
	if (!v6_rows_apply(&e))
		return form_names[e.form];
	const char *row = range_row(a);
	if (row)
		return row;
	if (e.form != FORM_NONE)
		return form_names[e.form];
	return e.isatap ? isatap_name : NULL;
}

bool il_addr_is_private(const il_addr *a)
{
	if (a->family != IL_AF_INET && a->family != IL_AF_INET6)
		return true;
	struct embedded e;
	find_embedded(a, &e);
	return judge(NULL, 0, a, &e, false) != IL_PEER_ALLOWED;
}

bool il_addr_is_tunnel(const il_addr *a)
{
	struct embedded e;
	find_embedded(a, &e);
	return is_tunnel_form(&e);
}
