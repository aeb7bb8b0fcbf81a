/* Which peer addresses a TURN relay may reach (RFC 8656 §21.3.2, §21.2.2):
 * secure by default. Special-purpose ranges are denied, and an IPv6
 * address that embeds an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64
 * 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) is judged by the
 * embedded IPv4 address. Allowed ranges (--allow-peer) open holes for labs;
 * the server's own addresses are denied whatever the ranges say. */
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
	IL_PEER_DENIED_RANGE,    /* a special-purpose range */
	IL_PEER_DENIED_EMBEDDED, /* an IPv6 form embedding a denied IPv4 */
	IL_PEER_DENIED_OWN,      /* one of the server's own addresses */
	IL_PEER_DENIED_EXTRA,    /* an operator's --deny-peer */
};

void il_peer_policy_init(il_peer_policy *p);
/* "10.0.0.0/8", "::1/128", "192.0.2.7" (a host); 0 or -1. */
int il_cidr_parse(const char *text, il_cidr *out);
bool il_cidr_contains(const il_cidr *c, const il_addr *a);
int il_peer_policy_allow(il_peer_policy *p, const il_cidr *c);
int il_peer_policy_deny(il_peer_policy *p, const il_cidr *c);
int il_peer_policy_add_own(il_peer_policy *p, const il_addr *a);
enum il_peer_verdict il_peer_policy_check(const il_peer_policy *p, const il_addr *peer);
const char *il_peer_verdict_name(enum il_peer_verdict v);
/* True for private, loopback, link-local, CGN and other addresses a
 * client on the Internet cannot reach: the refuse-on-private rule for
 * relay and advertised addresses. */
bool il_addr_is_private(const il_addr *a);

#endif
