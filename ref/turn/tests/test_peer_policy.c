/* Unit tests of the TURN peer-address policy (peer_policy.h): every
 * default range at its first and last address and just outside, every
 * IPv6 form embedding an IPv4 address, --allow-peer holes, --deny-peer,
 * the server's own addresses, CIDR parsing, and the refuse-on-private and
 * tunnel predicates. */
#include "icelab/peer_policy.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static il_peer_policy policy;

static int reset_policy(void **state)
{
	(void)state;
	il_peer_policy_init(&policy);
	return 0;
}

/* An IP address without brackets ("10.0.0.1", "::1") and a port. */
static il_addr ipp(const char *text, uint16_t port)
{
	il_addr a;
	memset(&a, 0, sizeof a);
	a.port = port;
	if (inet_pton(AF_INET, text, a.ip) == 1)
		a.family = IL_AF_INET;
	else if (inet_pton(AF_INET6, text, a.ip) == 1)
		a.family = IL_AF_INET6;
	else
		fail_msg("bad test address %s", text);
	return a;
}

static il_addr ip(const char *text)
{
	return ipp(text, 3478);
}

static il_cidr cidr(const char *text)
{
	il_cidr c;
	if (il_cidr_parse(text, &c) != 0)
		fail_msg("bad test CIDR %s", text);
	return c;
}

static void allow(const char *text)
{
	il_cidr c = cidr(text);
	assert_int_equal(il_peer_policy_allow(&policy, &c), 0);
}

static void deny(const char *text)
{
	il_cidr c = cidr(text);
	assert_int_equal(il_peer_policy_deny(&policy, &c), 0);
}

static void add_own(const char *text, uint16_t port)
{
	il_addr a = ipp(text, port);
	assert_int_equal(il_peer_policy_add_own(&policy, &a), 0);
}

static void expect_verdict_port(const char *text, uint16_t port, enum il_peer_verdict want)
{
	il_addr a = ipp(text, port);
	enum il_peer_verdict got = il_peer_policy_check(&policy, &a);
	if (got != want)
		fail_msg("%s port %u: expected \"%s\", got \"%s\"", text, port,
			 il_peer_verdict_name(want), il_peer_verdict_name(got));
}

static void expect_verdict(const char *text, enum il_peer_verdict want)
{
	expect_verdict_port(text, 3478, want);
}

struct verdict_case {
	const char *ip;
	enum il_peer_verdict want;
};

static void expect_verdicts(const struct verdict_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_verdict(cases[i].ip, cases[i].want);
}

/* The range a is reported in starts with prefix ("fc00::/7 "), or is
 * none when prefix is NULL. */
static void expect_range(const char *text, const char *prefix)
{
	il_addr a = ip(text);
	const char *name = il_peer_range_name(&a);
	if (!prefix && name)
		fail_msg("%s: expected no range, got \"%s\"", text, name);
	if (prefix && (!name || strncmp(name, prefix, strlen(prefix)) != 0))
		fail_msg("%s: expected range \"%s...\", got \"%s\"", text, prefix,
			 name ? name : "(none)");
}

#define D IL_PEER_DENIED_RANGE
#define A IL_PEER_ALLOWED
#define E IL_PEER_DENIED_EMBEDDED

/* ---- default IPv4 ranges ---------------------------------------------- */

/* Issue #3 §4's list, from the IANA IPv4 Special-Purpose Address Registry
 * (RFC 6890): first and last address of each range, and its neighbours. */
static void test_ipv4_ranges_denied_at_both_ends_allowed_just_outside(void **state)
{
	(void)state;
	static const struct verdict_case cases[] = {
		{"0.0.0.0", D},         {"0.255.255.255", D},   {"1.0.0.0", A},
		{"9.255.255.255", A},   {"10.0.0.0", D},        {"10.255.255.255", D},
		{"11.0.0.0", A},        {"100.63.255.255", A},  {"100.64.0.0", D},
		{"100.127.255.255", D}, {"100.128.0.0", A},     {"126.255.255.255", A},
		{"127.0.0.0", D},       {"127.0.0.1", D},       {"127.255.255.255", D},
		{"128.0.0.0", A},       {"169.253.255.255", A}, {"169.254.0.0", D},
		{"169.254.169.254", D}, {"169.254.255.255", D}, {"169.255.0.0", A},
		{"172.15.255.255", A},  {"172.16.0.0", D},      {"172.31.255.255", D},
		{"172.32.0.0", A},      {"191.255.255.255", A}, {"192.0.0.0", D},
		{"192.0.0.255", D},     {"192.0.1.0", A},       {"192.167.255.255", A},
		{"192.168.0.0", D},     {"192.168.255.255", D}, {"192.169.0.0", A},
		{"198.17.255.255", A},  {"198.18.0.0", D},      {"198.19.255.255", D},
		{"198.20.0.0", A},      {"223.255.255.255", A}, {"224.0.0.0", D},
		{"239.255.255.255", D}, {"240.0.0.0", D},       {"255.255.255.254", D},
		{"255.255.255.255", D},
	};
	expect_verdicts(cases, COUNT(cases));
	expect_range("169.254.169.254", "169.254.0.0/16 ");
	expect_range("239.255.255.255", "224.0.0.0/4 ");
	expect_range("240.0.0.0", "240.0.0.0/4 ");
	expect_range("255.255.255.255", "255.255.255.255/32 ");
	expect_range("255.255.255.254", "240.0.0.0/4 ");
}

/* Documentation ranges (RFC 5737) route nowhere: allowed, so tests and
 * simulations can use them as public peers. */
static void test_documentation_and_public_ipv4_allowed(void **state)
{
	(void)state;
	static const struct verdict_case cases[] = {
		{"192.0.2.0", A},     {"192.0.2.255", A},     {"198.51.100.1", A},
		{"203.0.113.255", A}, {"8.8.8.8", A},         {"1.1.1.1", A},
		{"192.88.99.1", A},   {"223.255.255.254", A},
	};
	expect_verdicts(cases, COUNT(cases));
	expect_range("192.0.2.1", NULL);
	expect_range("8.8.8.8", NULL);
}

/* ---- default IPv6 ranges ---------------------------------------------- */

static void test_ipv6_ranges_denied_at_both_ends(void **state)
{
	(void)state;
	static const struct {
		const char *first, *last, *name;
	} cases[] = {
		{"::", "::", "::/128 "},
		{"::1", "::1", "::1/128 "},
		{"fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::/7 "},
		{"fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::/10 "},
		{"fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::/10 "},
		{"ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ff00::/8 "},
		{"64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "64:ff9b:1::/48 "},
		{"2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff", "2001:2::/48 "},
		{"2001:10::", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", "2001:10::/28 "},
		{"2001:20::", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", "2001:20::/28 "},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		expect_verdict(cases[i].first, IL_PEER_DENIED_RANGE);
		expect_verdict(cases[i].last, IL_PEER_DENIED_RANGE);
		expect_range(cases[i].first, cases[i].name);
		expect_range(cases[i].last, cases[i].name);
	}
}

/* Just outside the named IPv6 ranges: either global unicast (allowed) or
 * outside 2000::/3 (denied by the catch-all rows, named as such). */
static void test_ipv6_just_outside_named_ranges(void **state)
{
	(void)state;
	expect_range("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1 ");
	expect_range("fe00::", "8000::/1 ");
	expect_range("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1 ");
	expect_range("64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "::/3 ");
	expect_range("64:ff9b:2::", "::/3 ");
	expect_verdict("64:ff9b:2::", IL_PEER_DENIED_RANGE);
	static const struct verdict_case cases[] = {
		{"2001:1:ffff:ffff:ffff:ffff:ffff:ffff", A}, /* before benchmarking */
		{"2001:2:1::", A},                           /* after benchmarking */
		{"2001:3::1", A},                            /* AMT (RFC 7450) */
		{"2001:f:ffff:ffff:ffff:ffff:ffff:ffff", A}, /* before ORCHID */
		{"2001:30::", A},                            /* after ORCHIDv2 */
	};
	expect_verdicts(cases, COUNT(cases));
}

/* Only 2000::/3 is global unicast (IANA IPv6 Address Space). */
static void test_ipv6_outside_global_unicast_denied(void **state)
{
	(void)state;
	static const struct verdict_case cases[] = {
		{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", D},
		{"2000::", A},
		{"2001:db8::1", A}, /* documentation (RFC 3849): allowed */
		{"2606:4700:4700::1111", A},
		{"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A},
		{"4000::", D},
		{"100::1", D},       /* discard-only (RFC 6666) */
		{"dead:beef::1", D}, /* a made-up internal prefix */
	};
	expect_verdicts(cases, COUNT(cases));
	expect_range("2606:4700:4700::1111", NULL);
	expect_range("4000::", "4000::/2 ");
	expect_range("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/3 ");
}

/* ---- IPv6 forms embedding IPv4 ---------------------------------------- */

static void test_ipv4_mapped_judged_by_embedded(void **state)
{
	(void)state;
	static const struct verdict_case cases[] = {
		{"::ffff:10.0.0.1", E},        {"::ffff:127.0.0.1", E},
		{"::ffff:169.254.169.254", E}, {"::ffff:0.0.0.0", E},
		{"::ffff:255.255.255.255", E}, {"::ffff:8.8.8.8", A},
		{"::ffff:203.0.113.9", A},
	};
	expect_verdicts(cases, COUNT(cases));
	expect_range("::ffff:8.8.8.8", "::ffff:0:0/96 ");
}

static void test_nat64_well_known_prefix_judged_by_embedded(void **state)
{
	(void)state;
	static const struct verdict_case cases[] = {
		{"64:ff9b::a9fe:a9fe", E}, /* 169.254.169.254 */
		{"64:ff9b::7f00:1", E},    /* 127.0.0.1 */
		{"64:ff9b::c0a8:101", E},  /* 192.168.1.1 */
		{"64:ff9b::808:808", A},   /* 8.8.8.8 */
		{"64:ff9b::1:808:808", D}, /* outside the /96: ::/3 */
	};
	expect_verdicts(cases, COUNT(cases));
	expect_range("64:ff9b::808:808", "64:ff9b::/96 ");
}

/* RFC 8215's local-use prefix may hold the IPv4 address at any RFC 6052
 * position, so it is denied whole, whatever it embeds. */
static void test_nat64_local_use_denied_whole(void **state)
{
	(void)state;
	expect_verdict("64:ff9b:1::808:808", IL_PEER_DENIED_RANGE);
	allow("8.8.8.0/24");
	expect_verdict("64:ff9b:1::808:808", IL_PEER_DENIED_RANGE);
	allow("64:ff9b:1::/48");
	expect_verdict("64:ff9b:1::808:808", IL_PEER_ALLOWED);
}

/* Deprecated automatic tunnels (RFC 4291 §2.5.5.1): denied whole by
 * default; with the IPv6 hole, judged by the embedded address. */
static void test_ipv4_compatible_denied_whole_then_judged_by_embedded(void **state)
{
	(void)state;
	expect_verdict("::8.8.8.8", IL_PEER_DENIED_RANGE);
	expect_verdict("::10.0.0.1", IL_PEER_DENIED_RANGE);
	expect_verdict("::0.0.0.2", IL_PEER_DENIED_RANGE);
	expect_range("::8.8.8.8", "::/96 ");
	allow("::/96");
	expect_verdict("::8.8.8.8", IL_PEER_ALLOWED);
	expect_verdict("::10.0.0.1", IL_PEER_DENIED_EMBEDDED);
	expect_verdict("::0.0.0.2", IL_PEER_DENIED_EMBEDDED);
	/* :: and ::1 are not IPv4-compatible addresses but rows of their own
	 * (an explicit ::/96 hole covers them, as any hole would). */
	expect_range("::", "::/128 ");
	expect_range("::1", "::1/128 ");
}

/* "a TURN server MUST NOT accept Teredo or 6to4 addresses" (RFC 8656
 * §21.4); with an explicit hole, the embedded address still counts. */
static void test_6to4_denied_whole_then_judged_by_embedded(void **state)
{
	(void)state;
	expect_verdict("2002:808:808::1", IL_PEER_DENIED_RANGE);
	expect_verdict("2002:7f00:1::1", IL_PEER_DENIED_RANGE);
	expect_range("2002:808:808::1", "2002::/16 ");
	allow("2002::/16");
	expect_verdict("2002:808:808::1", IL_PEER_ALLOWED);
	expect_verdict("2002:7f00:1::1", IL_PEER_DENIED_EMBEDDED);
	expect_verdict("2002:a9fe:a9fe:1::1", IL_PEER_DENIED_EMBEDDED);
	expect_verdict("2002:ffff:ffff::1", IL_PEER_DENIED_EMBEDDED);
	/* A 6to4 site using ISATAP inside: both embedded addresses count. */
	expect_verdict("2002:808:808:1:0:5efe:a00:1", IL_PEER_DENIED_EMBEDDED);
	expect_verdict("2002:808:808:1:200:5efe:101:101", IL_PEER_ALLOWED);
}

/* RFC 4380 §4: 2001:0:SERVER:FLAGS:~PORT:~CLIENT. Built from server
 * 65.54.227.120 (4136:e378), client port 40000 (~ = 63bf) and clients
 * 192.168.1.10 (~ = 3f57:fef5) and 8.8.8.8 (~ = f7f7:f7f7). */
static void test_teredo_denied_whole_then_judged_by_server_and_client(void **state)
{
	(void)state;
	expect_verdict("2001:0:4136:e378:8000:63bf:f7f7:f7f7", IL_PEER_DENIED_RANGE);
	expect_range("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "2001::/32 ");
	allow("2001::/32");
	/* Public server and public client. */
	expect_verdict("2001:0:4136:e378:8000:63bf:f7f7:f7f7", IL_PEER_ALLOWED);
	/* Private client 192.168.1.10. */
	expect_verdict("2001:0:4136:e378:8000:63bf:3f57:fef5", IL_PEER_DENIED_EMBEDDED);
	/* c0a8:10a read without the inversion would be 192.168.1.10; the
	 * client is 63.87.254.245, public. */
	expect_verdict("2001:0:4136:e378:8000:63bf:c0a8:10a", IL_PEER_ALLOWED);
	/* Private server 10.0.0.1 with a public client. */
	expect_verdict("2001:0:a00:1:8000:63bf:f7f7:f7f7", IL_PEER_DENIED_EMBEDDED);
	/* Client 127.0.0.1 (~ = 80ff:fffe). */
	expect_verdict("2001:0:4136:e378:8000:63bf:80ff:fffe", IL_PEER_DENIED_EMBEDDED);
}

/* RFC 5214 §6.1: ::0:5efe:V4 or ::200:5efe:V4 under any prefix. */
static void test_isatap_denied_whole_then_judged_by_embedded(void **state)
{
	(void)state;
	expect_verdict("2001:db8::5efe:a00:1", IL_PEER_DENIED_RANGE);
	expect_verdict("2001:db8::200:5efe:808:808", IL_PEER_DENIED_RANGE);
	expect_range("2001:db8::5efe:a00:1", "ISATAP ");
	expect_range("fd00::5efe:808:808", "fc00::/7 ");
	allow("2001:db8::/32");
	expect_verdict("2001:db8::5efe:a00:1", IL_PEER_DENIED_EMBEDDED);
	expect_verdict("2001:db8::200:5efe:808:808", IL_PEER_ALLOWED);
	expect_verdict("2001:db8::5eff:a00:1", IL_PEER_ALLOWED); /* not ISATAP */
	expect_verdict("fd00::5efe:808:808", IL_PEER_DENIED_RANGE);
}

/* The SIIT form ::ffff:0:a.b.c.d (RFC 2765) lies in ::/3: denied whole. */
static void test_ipv4_translated_form_denied(void **state)
{
	(void)state;
	expect_verdict("::ffff:0:808:808", IL_PEER_DENIED_RANGE);
	allow("8.8.8.0/24");
	expect_verdict("::ffff:0:808:808", IL_PEER_DENIED_RANGE);
}

/* ---- holes and extra denials ------------------------------------------ */

static void test_ipv4_hole_opens_mapped_and_nat64_not_tunnels(void **state)
{
	(void)state;
	allow("127.0.0.0/8");
	static const struct verdict_case cases[] = {
		{"127.0.0.1", A},
		{"127.255.255.255", A},
		{"::ffff:127.0.0.1", A},
		{"64:ff9b::7f00:1", A},
		{"::1", D}, /* IPv6 loopback is not 127/8: --allow-peer ::1 */
		{"10.0.0.1", D},
		{"::ffff:10.0.0.1", E},
		{"2002:7f00:1::1", D}, /* a tunnel form needs its own hole */
		{"::127.0.0.1", D},
	};
	expect_verdicts(cases, COUNT(cases));
}

/* A hole in IPv6 space never opens IPv4 addresses embedded in it. */
static void test_ipv6_hole_does_not_open_embedded_ipv4(void **state)
{
	(void)state;
	allow("::/0");
	static const struct verdict_case cases[] = {
		{"::1", A},
		{"fe80::1", A},
		{"fd12::1", A},
		{"::ffff:10.0.0.1", E},
		{"64:ff9b::a00:1", E},
		{"::ffff:8.8.8.8", A},
		{"2002:a00:1::1", E},
		{"10.0.0.1", D},
	};
	expect_verdicts(cases, COUNT(cases));
}

static void test_narrow_ipv6_holes(void **state)
{
	(void)state;
	allow("::1/128");
	allow("fd00::/8");
	expect_verdict("::1", IL_PEER_ALLOWED);
	expect_verdict("127.0.0.1", IL_PEER_DENIED_RANGE);
	expect_verdict("fd12:3456::1", IL_PEER_ALLOWED);
	expect_verdict("fc00::1", IL_PEER_DENIED_RANGE);
	expect_verdict("fe80::1", IL_PEER_DENIED_RANGE);
}

/* ::ffff:10.0.0.0/104 is stored as 10.0.0.0/8, for both forms. */
static void test_mapped_hole_is_stored_as_ipv4(void **state)
{
	(void)state;
	allow("::ffff:10.0.0.0/104");
	assert_int_equal(policy.allowed[0].base.family, IL_AF_INET);
	assert_int_equal(policy.allowed[0].prefix_len, 8);
	expect_verdict("10.1.2.3", IL_PEER_ALLOWED);
	expect_verdict("::ffff:10.1.2.3", IL_PEER_ALLOWED);
	expect_verdict("11.0.0.1", IL_PEER_ALLOWED);
	expect_verdict("192.168.0.1", IL_PEER_DENIED_RANGE);
}

static void test_deny_peer_beats_allow_in_every_form(void **state)
{
	(void)state;
	allow("10.0.0.0/8");
	deny("10.1.0.0/16");
	deny("8.8.8.0/24");
	deny("2606:4700::/32");
	static const struct verdict_case cases[] = {
		{"10.2.0.1", A},
		{"10.1.2.3", IL_PEER_DENIED_EXTRA},
		{"::ffff:10.1.2.3", IL_PEER_DENIED_EXTRA},
		{"8.8.8.8", IL_PEER_DENIED_EXTRA},
		{"8.8.9.8", A},
		{"64:ff9b::808:808", IL_PEER_DENIED_EXTRA},
		{"2002:808:808::1", IL_PEER_DENIED_EXTRA},
		{"2606:4700:4700::1111", IL_PEER_DENIED_EXTRA},
		{"2606:4701::1", A},
	};
	expect_verdicts(cases, COUNT(cases));
}

/* ---- the server's own addresses --------------------------------------- */

static void test_own_ip_with_port_zero_denies_every_port(void **state)
{
	(void)state;
	add_own("203.0.113.5", 0);
	add_own("2001:db8::7", 0);
	expect_verdict_port("203.0.113.5", 3478, IL_PEER_DENIED_OWN);
	expect_verdict_port("203.0.113.5", 49152, IL_PEER_DENIED_OWN);
	expect_verdict_port("203.0.113.5", 22, IL_PEER_DENIED_OWN);
	expect_verdict_port("203.0.113.6", 49152, IL_PEER_ALLOWED);
	expect_verdict_port("2001:db8::7", 50000, IL_PEER_DENIED_OWN);
	expect_verdict_port("2001:db8::8", 50000, IL_PEER_ALLOWED);
	/* Embedded forms reach the same host. */
	expect_verdict_port("::ffff:203.0.113.5", 50000, IL_PEER_DENIED_OWN);
	expect_verdict_port("64:ff9b::cb00:7105", 50000, IL_PEER_DENIED_OWN);
	expect_verdict_port("2002:cb00:7105::1", 50000, IL_PEER_DENIED_OWN);
}

static void test_own_ip_with_port_denies_that_port_only(void **state)
{
	(void)state;
	add_own("198.51.100.7", 3478);
	expect_verdict_port("198.51.100.7", 3478, IL_PEER_DENIED_OWN);
	expect_verdict_port("::ffff:198.51.100.7", 3478, IL_PEER_DENIED_OWN);
	expect_verdict_port("198.51.100.7", 3479, IL_PEER_ALLOWED);
	expect_verdict_port("198.51.100.8", 3478, IL_PEER_ALLOWED);
}

/* A lab opening loopback still cannot reach the server's own ports. */
static void test_own_beats_allow_and_deny_peer(void **state)
{
	(void)state;
	allow("127.0.0.0/8");
	deny("127.0.0.0/8");
	add_own("127.0.0.1", 3478);
	expect_verdict_port("127.0.0.1", 3478, IL_PEER_DENIED_OWN);
	expect_verdict_port("127.0.0.1", 5000, IL_PEER_DENIED_EXTRA);
	il_peer_policy_init(&policy);
	allow("127.0.0.0/8");
	add_own("127.0.0.1", 3478);
	expect_verdict_port("127.0.0.1", 3478, IL_PEER_DENIED_OWN);
	expect_verdict_port("127.0.0.1", 5000, IL_PEER_ALLOWED);
	expect_verdict_port("::ffff:127.0.0.1", 3478, IL_PEER_DENIED_OWN);
}

/* A Teredo client's port is in the address, inverted (RFC 4380 §4):
 * own 8.8.8.8:40000 is client f7f7:f7f7 behind port ~63bf. */
static void test_own_matches_teredo_client_port(void **state)
{
	(void)state;
	add_own("8.8.8.8", 40000);
	expect_verdict_port("2001:0:4136:e378:8000:63bf:f7f7:f7f7", 1, IL_PEER_DENIED_OWN);
	expect_verdict_port("2001:0:4136:e378:8000:63be:f7f7:f7f7", 1, IL_PEER_DENIED_RANGE);
}

static void test_own_mapped_is_stored_as_ipv4(void **state)
{
	(void)state;
	add_own("::ffff:198.51.100.9", 0);
	assert_int_equal(policy.own[0].family, IL_AF_INET);
	expect_verdict_port("198.51.100.9", 1234, IL_PEER_DENIED_OWN);
}

static void test_tables_refuse_past_capacity(void **state)
{
	(void)state;
	il_cidr c = cidr("8.8.8.0/24");
	il_addr a = ip("8.8.8.8");
	for (int i = 0; i < IL_PEER_POLICY_MAX_RANGES; i++) {
		assert_int_equal(il_peer_policy_allow(&policy, &c), 0);
		assert_int_equal(il_peer_policy_deny(&policy, &c), 0);
	}
	assert_int_equal(il_peer_policy_allow(&policy, &c), -1);
	assert_int_equal(il_peer_policy_deny(&policy, &c), -1);
	for (int i = 0; i < IL_PEER_POLICY_MAX_OWN; i++)
		assert_int_equal(il_peer_policy_add_own(&policy, &a), 0);
	assert_int_equal(il_peer_policy_add_own(&policy, &a), -1);
	il_peer_policy_init(&policy);
	il_addr none;
	memset(&none, 0, sizeof none);
	assert_int_equal(il_peer_policy_add_own(&policy, &none), -1);
	assert_int_equal(policy.own_count, 0);
}

static void test_unknown_family_is_denied(void **state)
{
	(void)state;
	il_addr none;
	memset(&none, 0, sizeof none);
	allow("0.0.0.0/0");
	allow("::/0");
	assert_int_equal(il_peer_policy_check(&policy, &none), IL_PEER_DENIED_RANGE);
	assert_null(il_peer_range_name(&none));
	assert_true(il_addr_is_private(&none));
	assert_false(il_addr_is_tunnel(&none));
}

/* ---- CIDR ------------------------------------------------------------- */

static void test_cidr_parse_accepts_good_forms(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint8_t family, prefix_len;
	} cases[] = {
		{"10.0.0.0/8", IL_AF_INET, 8},
		{"0.0.0.0/0", IL_AF_INET, 0},
		{"192.0.2.7", IL_AF_INET, 32},
		{"192.0.2.7/32", IL_AF_INET, 32},
		{"100.64.0.0/10", IL_AF_INET, 10},
		{"::/0", IL_AF_INET6, 0},
		{"::1/128", IL_AF_INET6, 128},
		{"fe80::", IL_AF_INET6, 128},
		{"fc00::/7", IL_AF_INET6, 7},
		{"2001:db8::/32", IL_AF_INET6, 32},
		{"::ffff:10.0.0.0/104", IL_AF_INET6, 104},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		il_cidr c;
		if (il_cidr_parse(cases[i].text, &c) != 0)
			fail_msg("%s: refused", cases[i].text);
		assert_int_equal(c.base.family, cases[i].family);
		assert_int_equal(c.prefix_len, cases[i].prefix_len);
		assert_int_equal(c.base.port, 0);
	}
	il_cidr c = cidr("172.16.0.0/12");
	static const uint8_t want[4] = {172, 16, 0, 0};
	assert_memory_equal(c.base.ip, want, 4);
}

static void test_cidr_parse_refuses_bad_forms(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"10.0.0.0/33",
		"1.2.3.4/",
		"::/129",
		"junk",
		"",
		"/8",
		"10.0.0.1/8", /* host bits set */
		"fe80::1/10", /* host bits set */
		"10.0.0.0/-1",
		"10.0.0.0/+8",
		"10.0.0.0/08",
		"10.0.0.0/1000",
		"10.0.0.0/8 ",
		" 10.0.0.0/8",
		"10.0.0.0/8/8",
		"10.0.0/8",
		"010.0.0.0/8",
		"10.0.0.0/x",
		"256.0.0.0/8",
		"fe80::1%eth0/128",
		"[::1]/128",
		"2001:db8::/33x",
		"2001:db8:::/32",
		"1.2.3.4:80",
		"::ffff:1.2.3/128",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/128", /* too long */
	};
	for (size_t i = 0; i < COUNT(bad); i++) {
		il_cidr c;
		memset(&c, 0xaa, sizeof c);
		if (il_cidr_parse(bad[i], &c) != -1)
			fail_msg("\"%s\": accepted", bad[i]);
	}
	il_cidr c;
	assert_int_equal(il_cidr_parse(NULL, &c), -1);
}

static void test_cidr_contains_at_prefix_edges_and_by_family(void **state)
{
	(void)state;
	il_cidr c = cidr("100.64.0.0/10");
	il_addr in_first = ip("100.64.0.0"), in_last = ip("100.127.255.255");
	il_addr out_low = ip("100.63.255.255"), out_high = ip("100.128.0.0");
	assert_true(il_cidr_contains(&c, &in_first));
	assert_true(il_cidr_contains(&c, &in_last));
	assert_false(il_cidr_contains(&c, &out_low));
	assert_false(il_cidr_contains(&c, &out_high));
	il_cidr all4 = cidr("0.0.0.0/0"), all6 = cidr("::/0");
	il_addr v6 = ip("2001:db8::1"), mapped = ip("::ffff:100.64.0.1");
	assert_true(il_cidr_contains(&all4, &in_first));
	assert_false(il_cidr_contains(&all4, &v6));
	assert_true(il_cidr_contains(&all6, &v6));
	assert_false(il_cidr_contains(&all6, &in_first));
	/* il_cidr_contains is literal: the policy does the unmapping. */
	assert_false(il_cidr_contains(&c, &mapped));
	il_cidr host = cidr("2001:db8::1");
	il_addr next = ip("2001:db8::2");
	assert_true(il_cidr_contains(&host, &v6));
	assert_false(il_cidr_contains(&host, &next));
	il_cidr broken = c;
	broken.prefix_len = 33;
	assert_false(il_cidr_contains(&broken, &in_first));
}

/* ---- predicates and names --------------------------------------------- */

static void test_is_private_for_refuse_on_private(void **state)
{
	(void)state;
	static const char *const private_[] = {
		"10.0.0.1",
		"172.16.0.1",
		"192.168.1.1",
		"100.64.0.1",
		"127.0.0.1",
		"169.254.1.1",
		"0.0.0.0",
		"224.0.0.1",
		"::",
		"::1",
		"fd00::1",
		"fe80::1",
		"fec0::1",
		"::ffff:192.168.0.1",
		"64:ff9b::a00:1",
		"2002:a00:1::1",
		"2001:0:4136:e378:8000:63bf:3f57:fef5",
	};
	static const char *const public_[] = {
		"8.8.8.8",     "203.0.113.7",     "192.0.2.1",      "198.51.100.1",
		"2001:db8::1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1",
	};
	for (size_t i = 0; i < COUNT(private_); i++) {
		il_addr a = ip(private_[i]);
		if (!il_addr_is_private(&a))
			fail_msg("%s: not private", private_[i]);
	}
	for (size_t i = 0; i < COUNT(public_); i++) {
		il_addr a = ip(public_[i]);
		if (il_addr_is_private(&a))
			fail_msg("%s: private", public_[i]);
	}
}

static void test_is_tunnel(void **state)
{
	(void)state;
	static const struct {
		const char *ip;
		bool tunnel;
	} cases[] = {
		{"2002:808:808::1", true},
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", true},
		{"::8.8.8.8", true},
		{"2001:db8::5efe:808:808", true},
		{"::ffff:8.8.8.8", false},
		{"64:ff9b::808:808", false},
		{"8.8.8.8", false},
		{"2001:db8::1", false},
		{"::1", false},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		il_addr a = ip(cases[i].ip);
		if (il_addr_is_tunnel(&a) != cases[i].tunnel)
			fail_msg("%s: tunnel %d expected", cases[i].ip, cases[i].tunnel);
	}
}

static void test_verdict_names_are_distinct(void **state)
{
	(void)state;
	const char *names[] = {
		il_peer_verdict_name(IL_PEER_ALLOWED),
		il_peer_verdict_name(IL_PEER_DENIED_RANGE),
		il_peer_verdict_name(IL_PEER_DENIED_EMBEDDED),
		il_peer_verdict_name(IL_PEER_DENIED_OWN),
		il_peer_verdict_name(IL_PEER_DENIED_EXTRA),
	};
	for (size_t i = 0; i < COUNT(names); i++) {
		assert_non_null(names[i]);
		assert_string_not_equal(names[i], "unknown");
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(names[i], names[k]);
	}
	assert_string_equal(il_peer_verdict_name((enum il_peer_verdict)99), "unknown");
}

#define T(f) cmocka_unit_test_setup(f, reset_policy)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ipv4_ranges_denied_at_both_ends_allowed_just_outside),
		T(test_documentation_and_public_ipv4_allowed),
		T(test_ipv6_ranges_denied_at_both_ends),
		T(test_ipv6_just_outside_named_ranges),
		T(test_ipv6_outside_global_unicast_denied),
		T(test_ipv4_mapped_judged_by_embedded),
		T(test_nat64_well_known_prefix_judged_by_embedded),
		T(test_nat64_local_use_denied_whole),
		T(test_ipv4_compatible_denied_whole_then_judged_by_embedded),
		T(test_6to4_denied_whole_then_judged_by_embedded),
		T(test_teredo_denied_whole_then_judged_by_server_and_client),
		T(test_isatap_denied_whole_then_judged_by_embedded),
		T(test_ipv4_translated_form_denied),
		T(test_ipv4_hole_opens_mapped_and_nat64_not_tunnels),
		T(test_ipv6_hole_does_not_open_embedded_ipv4),
		T(test_narrow_ipv6_holes),
		T(test_mapped_hole_is_stored_as_ipv4),
		T(test_deny_peer_beats_allow_in_every_form),
		T(test_own_ip_with_port_zero_denies_every_port),
		T(test_own_ip_with_port_denies_that_port_only),
		T(test_own_beats_allow_and_deny_peer),
		T(test_own_matches_teredo_client_port),
		T(test_own_mapped_is_stored_as_ipv4),
		T(test_tables_refuse_past_capacity),
		T(test_unknown_family_is_denied),
		T(test_cidr_parse_accepts_good_forms),
		T(test_cidr_parse_refuses_bad_forms),
		T(test_cidr_contains_at_prefix_edges_and_by_family),
		T(test_is_private_for_refuse_on_private),
		T(test_is_tunnel),
		T(test_verdict_names_are_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
