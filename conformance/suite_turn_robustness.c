/* Suite turn-security, part 2 (issue #6 §2): robustness and exhaustion.
 *
 *   robustness:  the foundation's malformed and edge vectors (vectors/own:
 *                cve-*, bad-*, edge-*, cd-bad-*, embedded at build time by
 *                gen_vectors.sh), each followed by a liveness probe; every
 *                response is well formed with zero padding (RFC 8489 §14).
 *   exhaustion:  response/request size for unauthenticated requests
 *                (RFC 8489 §16.1.2), a per-source limit on 401s, huge
 *                LIFETIME (RFC 8656 §7.2, §8.2), permissions per allocation
 *                (§10.2: 508), allocation quota (§5, §7.2: 486 or 508).
 *
 * Every test ends with an authenticated Binding (USERNAME, REALM, NONCE,
 * MESSAGE-INTEGRITY, with a nonce taken before the test's traffic) from a
 * 5-tuple of its own: any response proves the target alive; none makes
 * the test an error. Channel numbers outside 0x4000-0x4FFF are judged by
 * turn-server/channelbind-errors (RFC8656-12.2-2). */
#include "suite_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The embedded vectors: {name, expected decode, kind, bytes}, and the
 * length of each one's bytes. */
extern const char *const cf_builtin_vectors[][4];
extern const size_t cf_builtin_vector_len[];
extern const size_t cf_builtin_vector_count;

/* Our bound on the response/request size ratio (README "turn-security"):
 * the largest answer RFC 8489 makes a server give a minimal
 * unauthenticated request is a 401 with ERROR-CODE, REALM and NONCE
 * (§9.2.4) plus SOFTWARE (SHOULD) and FINGERPRINT: with realm and nonce
 * of common lengths, about 160 bytes for a 20-byte request. Beyond 8x the
 * server adds bytes of its own choosing to the "small increase in the
 * amount of data" §16.1.2 accepts. */
#define MAX_AMPLIFICATION 8
#define BURST_401 120 /* above the 100 a burst of `icelab serve` allows */

/* ---- liveness: an authenticated Binding ---- */

/* A session whose nonce is fetched now, before the test's traffic (a
 * per-source 401 limit must not make the probe fail). */
static bool live_open(cf_ctx *ctx, cf_turn *live)
{
	if (cf_turn_open(ctx, live) < 0)
		return false;
	if (!cf_ctx_target(ctx)->has_credentials)
		return true;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	cf_turn_challenge(live, IL_STUN_ALLOCATE, cf_add_udp_transport, NULL, buf, sizeof buf, &m);
	return !cf_stopped(ctx);
}

/* The liveness session and a client of the test's own; -1: stopped. */
static int live_and_client(cf_ctx *ctx, cf_turn *live)
{
	if (!live_open(ctx, live))
		return -1;
	return cf_client(ctx, CF_UDP);
}

static bool alive(cf_ctx *ctx, cf_turn *live, const char *after)
{
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	if (cf_stopped(ctx))
		return false;
	size_t n;
	if (live->nonce_len) {
		n = cf_turn_request(live, IL_STUN_BINDING, NULL, NULL, buf, sizeof buf, &m);
	} else {
		uint8_t req[CF_BUF];
		size_t len = cf_build(ctx, req, sizeof req, IL_STUN_BINDING, IL_STUN_REQUEST, NULL,
				      NULL, true);
		n = len ? cf_transact(ctx, live->client, req, len, buf, sizeof buf, &m) : 0;
	}
	if (!n) {
		if (!cf_stopped(ctx))
			cf_error(ctx, "liveness: after %s, a%s Binding got no response", after,
				 live->nonce_len ? "n authenticated" : "");
		return false;
	}
	if (strcmp(after, "the test") == 0)
		cf_note(ctx, "liveness: a%s Binding got %s", live->nonce_len ? "n authenticated" : "",
			cf_describe(n, &m, what, sizeof what));
	return true;
}

/* ---- robustness ---- */

/* Decode errors of the framing itself (RFC 8489 §6.3: top bits, length,
 * attribute layout): the message must be silently discarded. */
static bool framing_error(const char *decode)
{
	static const char *const framing[] = {"not-stun", "truncated", "bad-length",
					      "length-mismatch", "attr-truncated"};
	for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++)
		if (strcmp(decode, framing[i]) == 0)
			return true;
	return false;
}

/* The responses to one vector: the packets at the vector's client, after
 * the liveness probe that followed it. Each is checked; returns how many. */
static int judge_responses(cf_ctx *ctx, int v, const char *name, const uint8_t *sent,
			   size_t sent_len)
{
	uint8_t buf[CF_BUF];
	int count = 0;
	size_t n;
	while ((n = cf_recv(ctx, v, buf, sizeof buf, 1)) > 0) {
		il_stun_msg m;
		bool ok = il_stun_decode(buf, n, &m, NULL) == IL_STUN_OK;
		/* A late answer to an earlier vector has another id. */
		if (sent_len >= IL_STUN_HEADER_LEN && n >= IL_STUN_HEADER_LEN &&
		    memcmp(buf + 4, sent + 4, 16) != 0) {
			cf_note(ctx, "%s: a packet of another transaction arrived (late answer)",
				name);
			continue;
		}
		count++;
		cf_check_req(ctx, "RFC8489-14-1", ok,
			     "%s: the %zu-byte answer %s as STUN (attributes on 32-bit boundaries)",
			     name, n, ok ? "decodes" : "does not decode");
		if (ok)
			cf_check_req(ctx, "RFC8489-14-3", cf_padding_is_zero(&m),
				     "%s: the answer's attribute padding is %s", name,
				     cf_padding_is_zero(&m) ? "zero" : "not zero");
	}
	return count;
}

static void corpus(cf_ctx *ctx, const char *prefix)
{
	cf_turn live;
	int v = live_and_client(ctx, &live);
	if (v < 0)
		return;
	int sent = 0;
	for (size_t i = 0; i < cf_builtin_vector_count && !cf_stopped(ctx); i++) {
		const char *name = cf_builtin_vectors[i][0], *decode = cf_builtin_vectors[i][1];
		const char *kind = cf_builtin_vectors[i][2];
		if (strncmp(name, prefix, strlen(prefix)) != 0)
			continue;
		const uint8_t *bytes = (const uint8_t *)cf_builtin_vectors[i][3];
		size_t len = cf_builtin_vector_len[i];
		sent++;
		if (cf_send(ctx, v, bytes, len) < 0 || !alive(ctx, &live, name))
			return;
		int answers = judge_responses(ctx, v, name, bytes, len);
		if (strcmp(kind, "channeldata") == 0)
			cf_check_req(ctx, "RFC8656-5-5", answers == 0,
				     "%s (ChannelData, no allocation): %d answers", name, answers);
		else if (framing_error(decode))
			cf_check_req(ctx, "RFC8489-6.3-2", answers == 0,
				     "%s (%s): %d answers, silence expected", name, decode, answers);
		else if (strcmp(name, "edge-fingerprint-flipped-bit") == 0)
			cf_check_req(ctx, "RFC8489-6.3-3", answers == 0,
				     "%s: %d answers to a request with a wrong FINGERPRINT", name,
				     answers);
		else
			cf_note(ctx, "%s (%s): %d answers", name, decode, answers);
	}
	if (!cf_stopped(ctx) && sent == 0)
		cf_error(ctx, "harness bug: no vector named %s*", prefix);
	alive(ctx, &live, "the test");
}

static void t_corpus_cve(cf_ctx *ctx)
{
	corpus(ctx, "cve-");
}

static void t_corpus_bad(cf_ctx *ctx)
{
	corpus(ctx, "bad-");
}

static void t_corpus_edge(cf_ctx *ctx)
{
	corpus(ctx, "edge-");
}

static void t_corpus_channeldata(cf_ctx *ctx)
{
	corpus(ctx, "cd-bad-");
}

/* ---- exhaustion and amplification ---- */

typedef struct probe {
	const char *what;
	uint16_t method;
	cf_attrs_fn add;
	bool classic;
} probe;

static void add_doc_peer(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_addr peer;
	il_addr_parse("203.0.113.1:5000", &peer);
	il_stun_add_xor_addr(b, IL_ATTR_XOR_PEER_ADDRESS, &peer);
}

/* Minimal unauthenticated requests: what an attacker spoofing a victim's
 * address sends to get the most back per byte. */
static size_t build_probe(cf_ctx *ctx, const probe *p, uint8_t *req, size_t cap)
{
	if (p->classic) {
		/* RFC 3489: no cookie, a 128-bit transaction id. */
		if (cap < 20)
			return 0;
		memset(req, 0, 20);
		req[1] = 0x01;
		cf_random(ctx, req + 4, 16);
		req[4] &= 0x7f; /* never the magic cookie */
		return 20;
	}
	return cf_build(ctx, req, cap, p->method, IL_STUN_REQUEST, p->add, NULL, false);
}

static void t_amplification(cf_ctx *ctx)
{
	static const probe probes[] = {
		{"Binding", IL_STUN_BINDING, NULL, false},
		{"classic RFC 3489 Binding", IL_STUN_BINDING, NULL, true},
		{"Allocate without attributes", IL_STUN_ALLOCATE, NULL, false},
		{"Allocate with REQUESTED-TRANSPORT", IL_STUN_ALLOCATE, cf_add_udp_transport, false},
		{"Refresh", IL_STUN_REFRESH, NULL, false},
		{"CreatePermission", IL_STUN_CREATEPERMISSION, add_doc_peer, false},
	};
	cf_turn live;
	int c = live_and_client(ctx, &live);
	if (c < 0)
		return;
	for (size_t i = 0; i < sizeof probes / sizeof probes[0] && !cf_stopped(ctx); i++) {
		uint8_t req[CF_BUF], buf[CF_BUF];
		size_t len = build_probe(ctx, &probes[i], req, sizeof req);
		if (!len || cf_send(ctx, c, req, len) < 0)
			return;
		size_t packets = 0, bytes = 0, n;
		/* The first answer within the response timeout, then any more
		 * within a short window. */
		for (uint32_t wait = 0; (n = cf_recv(ctx, c, buf, sizeof buf, wait)) > 0; wait = 100) {
			packets++;
			bytes += n;
		}
		if (packets == 0) {
			cf_note(ctx, "%s (%zu bytes): no answer", probes[i].what, len);
			continue;
		}
		cf_check_req(ctx, "RFC8489-16.1.2-1", packets == 1,
			     "%s (%zu bytes): %zu answers", probes[i].what, len, packets);
		cf_check_req(ctx, "RFC8489-16.1.2-2", bytes <= MAX_AMPLIFICATION * len,
			     "%s: %zu bytes in, %zu bytes out (%.1fx; bound %dx)", probes[i].what,
			     len, bytes, (double)bytes / (double)len, MAX_AMPLIFICATION);
	}
	alive(ctx, &live, "the test");
}

static void t_limit_401(cf_ctx *ctx)
{
	cf_turn live;
	int c = live_and_client(ctx, &live);
	if (c < 0)
		return;
	uint8_t req[CF_BUF], buf[CF_BUF];
	int answers = 0;
	for (int i = 0; i < BURST_401; i++) {
		size_t len = cf_build(ctx, req, sizeof req, IL_STUN_ALLOCATE, IL_STUN_REQUEST,
				      cf_add_udp_transport, NULL, true);
		if (!len || cf_send(ctx, c, req, len) < 0)
			return;
		/* Read as we go: a receive queue (the builtin's holds 64)
		 * must not be what limits the answers. */
		if (i % 16 == 15)
			while (cf_recv(ctx, c, buf, sizeof buf, 1) > 0)
				answers++;
	}
	for (uint32_t wait = 0; cf_recv(ctx, c, buf, sizeof buf, wait) > 0; wait = 100)
		answers++;
	cf_check_req(ctx, "RFC8489-16.1.2-3", answers < BURST_401,
		     "%d unauthenticated Allocates sent back to back from one source: %d answered%s",
		     BURST_401, answers,
		     answers < BURST_401 ? " (the source is rate limited)" : " (no limit seen)");
	/* Let a limiting target's bucket refill before the next test. */
	if (!cf_ctx_target(ctx)->virtual_time)
		cf_sleep(ctx, 2000);
	alive(ctx, &live, "the test");
}

static void t_lifetime_huge(cf_ctx *ctx)
{
	cf_turn live, s;
	if (!live_open(ctx, &live) || cf_turn_open(ctx, &s) < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	uint32_t huge = 0xFFFFFFFFu;
	size_t n = cf_turn_allocate_with(&s, cf_add_lifetime, &huge, buf, sizeof buf, &m);
	if (!n || m.cls != IL_STUN_SUCCESS) {
		if (!cf_stopped(ctx))
			cf_error(ctx, "precondition failed: Allocate with LIFETIME 0xffffffff got %s",
				 cf_describe(n, &m, what, sizeof what));
		return;
	}
	uint32_t granted = s.lifetime;
	cf_check_req(ctx, "RFC8656-7.2-16", granted <= 3600,
		     "Allocate asked LIFETIME 0xffffffff, granted %u s", granted);
	n = cf_turn_request(&s, IL_STUN_REFRESH, cf_add_lifetime, &huge, buf, sizeof buf, &m);
	uint32_t lt = 0;
	const il_stun_attr *a = n ? il_stun_msg_find(&m, IL_ATTR_LIFETIME) : NULL;
	if (a)
		il_stun_attr_get_u32(&m, a, &lt);
	if (cf_check_req(ctx, "RFC8656-8.2-4", n && m.cls == IL_STUN_SUCCESS && a && lt == granted,
			 "Refresh asked LIFETIME 0xffffffff: %s, LIFETIME %u (the maximum, %u, "
			 "expected)",
			 cf_describe(n, &m, what, sizeof what), lt, granted))
		cf_check_req(ctx, "RFC8656-7.2-16", lt <= 3600, "Refresh granted %u s", lt);
	cf_turn_release(&s);
	alive(ctx, &live, "the test");
}

typedef struct peers_arg {
	int first, count;
} peers_arg;

static void add_peers(il_stun_builder *b, const void *arg)
{
	const peers_arg *p = arg;
	for (int i = 0; i < p->count; i++) {
		char text[32];
		/* TEST-NET-3 (RFC 5737): nothing is ever sent to them. */
		snprintf(text, sizeof text, "203.0.113.%d:5000", p->first + i);
		il_addr a;
		il_addr_parse(text, &a);
		il_stun_add_xor_addr(b, IL_ATTR_XOR_PEER_ADDRESS, &a);
	}
}

static void t_permissions_cap(cf_ctx *ctx)
{
	cf_turn live, s;
	if (!live_open(ctx, &live) || cf_turn_open(ctx, &s) < 0 || !cf_turn_allocate(&s))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	int installed = 0, code = 0;
	/* 16 requests of 8 peers: 128 permissions at most. */
	for (int r = 0; r < 16 && !cf_stopped(ctx); r++) {
		peers_arg p = {1 + 8 * r, 8};
		size_t n = cf_turn_request(&s, IL_STUN_CREATEPERMISSION, add_peers, &p, buf,
					   sizeof buf, &m);
		if (n && m.cls == IL_STUN_SUCCESS) {
			installed += 8;
			continue;
		}
		code = n ? cf_error_code(&m) : -1;
		cf_describe(n, &m, what, sizeof what);
		break;
	}
	if (cf_stopped(ctx))
		return;
	if (code == 0) {
		cf_note(ctx, "128 permissions installed on one allocation: no cap seen (RFC 8656 "
			     "requires none)");
		cf_turn_release(&s);
		if (alive(ctx, &live, "the test"))
			cf_not_applicable(ctx, "no permission cap within 128 permissions");
		return;
	}
	if (code == 403 && installed == 0) {
		cf_turn_release(&s);
		if (alive(ctx, &live, "the test"))
			cf_not_applicable(ctx, "the target refuses the TEST-NET-3 peers (403)");
		return;
	}
	cf_check_req(ctx, "RFC8656-10.2-6", code == 508,
		     "after %d permissions, a CreatePermission of 8 more got %s (508 expected when "
		     "capacity runs out)",
		     installed, what);
	cf_turn_release(&s);
	alive(ctx, &live, "the test");
}

static void t_allocation_quota(cf_ctx *ctx)
{
	enum { MAX = 7 }; /* the ctx has 8 endpoints; one is the liveness probe */
	cf_turn live, s[MAX];
	if (!live_open(ctx, &live))
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	int made = 0, code = 0;
	for (int i = 0; i < MAX && !cf_stopped(ctx); i++) {
		if (cf_turn_open(ctx, &s[i]) < 0)
			break;
		size_t n = cf_turn_allocate_with(&s[i], NULL, NULL, buf, sizeof buf, &m);
		if (n && m.cls == IL_STUN_SUCCESS) {
			made++;
			continue;
		}
		code = n ? cf_error_code(&m) : -1;
		cf_describe(n, &m, what, sizeof what);
		break;
	}
	bool stopped = cf_stopped(ctx);
	for (int i = 0; i < made; i++)
		cf_turn_release(&s[i]);
	if (stopped)
		return;
	if (code == 0) {
		if (alive(ctx, &live, "the test"))
			cf_not_applicable(ctx, "%d allocations of one user granted: no quota within "
					       "what the harness can hold",
					  made);
		return;
	}
	cf_check_req(ctx, "RFC8656-5-9", made > 0, "the user got %d allocations before a refusal",
		     made);
	cf_check_req(ctx, "RFC8656-7.2-23", code == 486 || code == 508,
		     "allocation %d of one user got %s (486 for a quota, 508 for capacity)",
		     made + 1, what);
	alive(ctx, &live, "the test");
}

static const cf_test tests[] = {
	{"turn-security", "robustness-cve-classes",
	 "The foundation's CVE classes (vectors/own/cve-*), each followed by a liveness probe", 0,
	 t_corpus_cve},
	{"turn-security", "robustness-malformed",
	 "Malformed messages (vectors/own/bad-*): framing errors silent, answers well formed", 0,
	 t_corpus_bad},
	{"turn-security", "robustness-edge",
	 "Valid messages at the edges (vectors/own/edge-*): answers well formed, zero padding", 0,
	 t_corpus_edge},
	{"turn-security", "robustness-channeldata",
	 "Malformed ChannelData without allocation (vectors/own/cd-bad-*): silence", 0,
	 t_corpus_channeldata},
	{"turn-security", "amplification-unauthenticated",
	 "Unauthenticated requests: one answer each, at most 8x the request's size", 0,
	 t_amplification},
	{"turn-security", "limit-401-per-source",
	 "A burst of unauthenticated Allocates from one source: answered at a bounded rate", 0,
	 t_limit_401},
	{"turn-security", "exhaustion-lifetime-huge",
	 "LIFETIME 0xffffffff in Allocate and Refresh: capped at the maximum (3600 s)",
	 CF_NEEDS_CREDENTIALS, t_lifetime_huge},
	{"turn-security", "exhaustion-permissions-508",
	 "Permissions on one allocation past the server's cap: 508", CF_NEEDS_CREDENTIALS,
	 t_permissions_cap},
	{"turn-security", "exhaustion-allocation-quota",
	 "Allocations of one user past the quota: 486 (or 508)", CF_NEEDS_CREDENTIALS,
	 t_allocation_quota},
};

const cf_test *cf_suite_turn_robustness(size_t *count)
{
	*count = sizeof tests / sizeof tests[0];
	return tests;
}
