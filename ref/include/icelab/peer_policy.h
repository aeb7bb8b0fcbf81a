/* Which peer addresses a TURN relay may reach (RFC 8656 §21.2.2, §21.3.2,
 * §21.4): secure by default.
 *
 * Special-purpose ranges (RFC 6890 and the IANA special-purpose registries)
 * are denied. An IPv6 address that embeds an IPv4 one is judged by the
 * embedded address: IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96
 * (RFC 6052); and the tunnel forms IPv4-compatible ::/96, 6to4 2002::/16,
 * Teredo 2001::/32 (both its server and client addresses) and ISATAP
 * interface identifiers, which are moreover denied whole by default
 * because "a TURN server MUST NOT accept Teredo or 6to4 addresses"
 * (RFC 8656 §21.4). Allowed ranges (--allow-peer) open holes for labs; an
 * IPv4 hole also opens that IPv4 range in its embedded forms (a tunnel form
 * needs a hole of its own IPv6 range too). The server's own addresses and
 * the operator's --deny-peer ranges are denied whatever the allowed ranges
 * say, in every form.
 *
 * Precedence: own → denied; --deny-peer → denied; --allow-peer → allowed;
 * default ranges → denied; anything else → allowed. */
#ifndef ICELAB_PEER_POLICY_H
#define ICELAB_PEER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"

#define IL_PEER_POLICY_MAX_RANGES 64
#define IL_PEER_POLICY_MAX_OWN 32

typedef struct il_cidr {
	il_addr base; /* port ignored */
	uint8_t prefix_len;
} il_cidr;

typedef struct il_peer_policy {
	il_cidr allowed[IL_PEER_POLICY_MAX_RANGES];
	size_t allowed_count;
	il_cidr denied_extra[IL_PEER_POLICY_MAX_RANGES]; /* --deny-peer */
	size_t denied_extra_count;
	il_addr own[IL_PEER_POLICY_MAX_OWN]; /* listening and relay addresses (with ports) */
	size_t own_count;
} il_peer_policy;

enum il_peer_verdict {
	IL_PEER_ALLOWED = 0,
	IL_PEER_DENIED_RANGE,    /* a special-purpose range, or a tunnel form */
	IL_PEER_DENIED_EMBEDDED, /* an IPv6 form embedding a denied IPv4 */
	IL_PEER_DENIED_OWN,      /* one of the server's own addresses */
	IL_PEER_DENIED_EXTRA,    /* an operator's --deny-peer */
};

void il_peer_policy_init(il_peer_policy *p);
/* "10.0.0.0/8", "::1/128", "192.0.2.7" (a host); 0 or -1. Refused: a
 * prefix beyond 32 or 128, an empty or non-decimal prefix, host bits set
 * beyond the prefix ("10.0.0.1/8": say 10.0.0.0/8 or 10.0.0.1/32), zones,
 * brackets and spaces. */
int il_cidr_parse(const char *text, il_cidr *out);
bool il_cidr_contains(const il_cidr *c, const il_addr *a);
/* Add a hole or an extra denied range; -1 when the table is full. An
 * IPv4-mapped range (::ffff:a.b.c.d/96..128) is stored as the IPv4 range
 * it stands for. */
int il_peer_policy_allow(il_peer_policy *p, const il_cidr *c);
int il_peer_policy_deny(il_peer_policy *p, const il_cidr *c);
/* One of the server's own addresses. Port 0 denies every port of that IP:
 * what the server should give for its own IPs, since the relay range is
 * full of allocations (the loop of RFC 8656 §21.1.7) and traffic from the
 * host to itself crosses the loopback interface that host firewalls trust.
 * A non-zero port denies that IP and port only. -1 when the table is full
 * or the family is not IPv4 or IPv6. */
int il_peer_policy_add_own(il_peer_policy *p, const il_addr *a);
enum il_peer_verdict il_peer_policy_check(const il_peer_policy *p, const il_addr *peer);
const char *il_peer_verdict_name(enum il_peer_verdict v);
/* The special-purpose range or embedding form a is in, for logs
 * ("10.0.0.0/8 private-use (RFC 1918)"), or NULL for an ordinary address.
 * Documentation ranges are ordinary here. */
const char *il_peer_range_name(const il_addr *a);
/* True for private, loopback, link-local, CGN and other addresses a
 * client on the Internet cannot reach, and for IPv6 forms embedding one:
 * the refuse-on-private rule for relay and advertised addresses. The
 * documentation ranges (RFC 5737, RFC 3849) count as public, so tests
 * and simulations can use them as public addresses. */
bool il_addr_is_private(const il_addr *a);
/* True for addresses known to be tunneled: 6to4, Teredo, IPv4-compatible
 * and ISATAP. RFC 8656 §21.4 recommends not accepting Allocate or
 * ChannelBind requests from them either (the client side). */
bool il_addr_is_tunnel(const il_addr *a);

#endif
