/* Suite nat-behaviour: the server side of RFC 5780 (NAT behaviour
 * discovery), judged from where each response comes from.
 *
 * The harness's clients here are unconnected UDP sockets (cf_client_any)
 * that hear every address of the target and see each response's source
 * address and port. Let A1:P1 be the address the harness was given (Da:Dp)
 * and Ca:Cp the OTHER-ADDRESS of a first Binding response; RFC 5780 §6.1
 * Table 1 then says where every response must come from.
 *
 * A target whose Binding responses carry no OTHER-ADDRESS does not run
 * RFC 5780 with an alternate address: the tests that need one are
 * not-applicable, and nat-behaviour/no-alternate-420 checks what such a
 * server must do instead (§6: a 420 for CHANGE-REQUEST). */
#include "suite_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANGE_IP 0x4u   /* RFC 5780 §7.2, flag A */
#define CHANGE_PORT 0x2u /* flag B */
#define PADDING_LEN 512  /* what the harness sends: a response needs no more */

static bool same_ip(const il_addr *a, const il_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->ip, b->ip, a->family == IL_AF_INET ? 4 : 16) == 0;
}

static bool same_addr(const il_addr *a, const il_addr *b)
{
	return same_ip(a, b) && a->port == b->port;
}

static const char *fmt_addr(const il_addr *a, char *out, size_t cap)
{
	if (a->family == IL_AF_NONE)
		snprintf(out, cap, "(none)");
	else
		il_addr_format(a, out, cap);
	return out;
}

/* The address in attribute type of m; family NONE when absent. */
static il_addr get_addr(const il_stun_msg *m, uint16_t type)
{
	il_addr a;
	memset(&a, 0, sizeof a);
	const il_stun_attr *at = il_stun_msg_find(m, type);
	if (at && il_stun_attr_get_addr(m, at, &a) != IL_STUN_OK)
		memset(&a, 0, sizeof a);
	return a;
}

typedef struct nat_req {
	bool change;
	uint32_t flags;
	int response_port; /* -1: none */
	size_t padding;    /* 0: none */
} nat_req;

static void add_nat(il_stun_builder *b, const void *arg)
{
	const nat_req *r = arg;
	if (r->change)
		il_stun_add_u32(b, IL_ATTR_CHANGE_REQUEST, r->flags);
	if (r->response_port >= 0) {
		uint8_t v[4] = {(uint8_t)(r->response_port >> 8), (uint8_t)r->response_port, 0, 0};
		il_stun_add_raw(b, IL_ATTR_RESPONSE_PORT, v, 4);
	}
	if (r->padding) {
		static const uint8_t fill[PADDING_LEN];
		il_stun_add_raw(b, IL_ATTR_PADDING, fill, r->padding);
	}
}

/* A Binding request from client c to `to` (NULL: the target). */
static size_t binding(cf_ctx *ctx, int c, const il_addr *to, const nat_req *r, uint8_t *buf,
		      size_t cap, il_stun_msg *m, il_addr *from)
{
	uint8_t req[CF_BUF];
	size_t len = cf_build(ctx, req, sizeof req, IL_STUN_BINDING, IL_STUN_REQUEST,
			      r ? add_nat : NULL, r, true);
	if (!len)
		return 0;
	return cf_transact_to(ctx, c, to, req, len, buf, cap, m, from);
}

/* Opens a client and learns Ca:Cp; not-applicable without OTHER-ADDRESS. */
static int discover(cf_ctx *ctx, il_addr *other)
{
	int c = cf_client_any(ctx, -1);
	if (c < 0)
		return -1;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	il_addr from;
	if (!binding(ctx, c, NULL, NULL, buf, sizeof buf, &m, &from)) {
		if (!cf_stopped(ctx))
			cf_error(ctx, "precondition failed: a plain Binding request got no response");
		return -1;
	}
	*other = get_addr(&m, IL_ATTR_OTHER_ADDRESS);
	if (other->family == IL_AF_NONE) {
		cf_not_applicable(ctx, "the Binding response has no OTHER-ADDRESS: the target does "
				       "not run RFC 5780 with an alternate address");
		return -1;
	}
	return c;
}

/* RESPONSE-ORIGIN is the source; OTHER-ADDRESS is Ca:Cp (§6.1). */
static void check_origin_other(cf_ctx *ctx, const il_stun_msg *m, const il_addr *from,
			       const il_addr *ca_cp)
{
	char a[64], b[64];
	il_addr origin = get_addr(m, IL_ATTR_RESPONSE_ORIGIN);
	cf_check_req(ctx, "RFC5780-6.1-7", same_addr(&origin, from),
		     "RESPONSE-ORIGIN %s, the response came from %s", fmt_addr(&origin, a, sizeof a),
		     fmt_addr(from, b, sizeof b));
	il_addr other = get_addr(m, IL_ATTR_OTHER_ADDRESS);
	cf_check_req(ctx, "RFC5780-6.1-8", same_addr(&other, ca_cp),
		     "OTHER-ADDRESS %s, expected %s", fmt_addr(&other, a, sizeof a),
		     fmt_addr(ca_cp, b, sizeof b));
}

/* ---- tests ---- */

static void t_binding_attributes(cf_ctx *ctx)
{
	int c = cf_client_any(ctx, -1);
	if (c < 0)
		return;
	cf_target *t = cf_ctx_target(ctx);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	il_addr from;
	char a[64], b[64];
	if (!binding(ctx, c, NULL, NULL, buf, sizeof buf, &m, &from)) {
		if (!cf_stopped(ctx))
			cf_error(ctx, "a plain Binding request got no response");
		return;
	}
	cf_check_req(ctx, "RFC8489-6.3.1.2-1", same_addr(&from, &t->server),
		     "sent to %s, answered from %s", fmt_addr(&t->server, a, sizeof a),
		     fmt_addr(&from, b, sizeof b));
	il_addr other = get_addr(&m, IL_ATTR_OTHER_ADDRESS);
	if (other.family == IL_AF_NONE) {
		cf_note(ctx, "no OTHER-ADDRESS: the target does not run RFC 5780 with an alternate "
			     "address");
		return;
	}
	cf_check_req(ctx, "RFC5780-6.1-1",
		     cf_has(&m, IL_ATTR_MAPPED_ADDRESS) && cf_has(&m, IL_ATTR_XOR_MAPPED_ADDRESS),
		     "MAPPED-ADDRESS %s, XOR-MAPPED-ADDRESS %s",
		     cf_has(&m, IL_ATTR_MAPPED_ADDRESS) ? "present" : "absent",
		     cf_has(&m, IL_ATTR_XOR_MAPPED_ADDRESS) ? "present" : "absent");
	cf_check_req(ctx, "RFC5780-7.4-1",
		     !same_ip(&other, &t->server) && other.port != t->server.port,
		     "OTHER-ADDRESS %s for requests to %s: %s", fmt_addr(&other, a, sizeof a),
		     fmt_addr(&t->server, b, sizeof b),
		     !same_ip(&other, &t->server) && other.port != t->server.port
			     ? "another IP and another port"
			     : "not a second IP address and port");
	il_addr origin = get_addr(&m, IL_ATTR_RESPONSE_ORIGIN);
	cf_check_req(ctx, "RFC5780-6.1-7", same_addr(&origin, &from),
		     "RESPONSE-ORIGIN %s, the response came from %s", fmt_addr(&origin, a, sizeof a),
		     fmt_addr(&from, b, sizeof b));
	cf_check_req(ctx, "RFC5780-6.1-13", !cf_has(&m, IL_ATTR_ALTERNATE_SERVER),
		     "ALTERNATE-SERVER %s beside OTHER-ADDRESS",
		     cf_has(&m, IL_ATTR_ALTERNATE_SERVER) ? "present" : "absent");
}

/* CHANGE-REQUEST with flags: the source follows Table 1. */
static void change_test(cf_ctx *ctx, uint32_t flags, const char *req_id)
{
	il_addr ca_cp;
	int c = discover(ctx, &ca_cp);
	if (c < 0)
		return;
	cf_target *t = cf_ctx_target(ctx);
	il_addr want = t->server;
	if (flags & CHANGE_IP)
		memcpy(want.ip, ca_cp.ip, sizeof want.ip);
	if (flags & CHANGE_PORT)
		want.port = ca_cp.port;
	nat_req r = {.change = true, .flags = flags, .response_port = -1};
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	il_addr from;
	char a[64], b[64], what[96];
	size_t n = binding(ctx, c, NULL, &r, buf, sizeof buf, &m, &from);
	if (!n || m.cls != IL_STUN_SUCCESS) {
		cf_check_req(ctx, req_id, false,
			     "CHANGE-REQUEST 0x%x got %s; a success response from %s was expected",
			     flags, cf_describe(n, &m, what, sizeof what), fmt_addr(&want, a, sizeof a));
		return;
	}
	cf_check_req(ctx, req_id, same_addr(&from, &want),
		     "CHANGE-REQUEST 0x%x: the response came from %s, Table 1 says %s", flags,
		     fmt_addr(&from, a, sizeof a), fmt_addr(&want, b, sizeof b));
	check_origin_other(ctx, &m, &from, &ca_cp);
	cf_check_req(ctx, "RFC5780-6.1-1",
		     cf_has(&m, IL_ATTR_MAPPED_ADDRESS) && cf_has(&m, IL_ATTR_XOR_MAPPED_ADDRESS),
		     "MAPPED-ADDRESS and XOR-MAPPED-ADDRESS %s",
		     cf_has(&m, IL_ATTR_MAPPED_ADDRESS) && cf_has(&m, IL_ATTR_XOR_MAPPED_ADDRESS)
			     ? "both present"
			     : "not both present");
}

static void t_change_none(cf_ctx *ctx)
{
	change_test(ctx, 0, "RFC5780-6.1-3");
}

static void t_change_port(cf_ctx *ctx)
{
	change_test(ctx, CHANGE_PORT, "RFC5780-6.1-4");
}

static void t_change_ip(cf_ctx *ctx)
{
	change_test(ctx, CHANGE_IP, "RFC5780-6.1-5");
}

static void t_change_both(cf_ctx *ctx)
{
	change_test(ctx, CHANGE_IP | CHANGE_PORT, "RFC5780-6.1-6");
}

/* Requests to A2:P2: answered from there, OTHER-ADDRESS is then A1:P1,
 * and a change of both goes back to A1:P1 (Table 1 with Da = A2). */
static void t_request_to_other(cf_ctx *ctx)
{
	il_addr ca_cp;
	int c = discover(ctx, &ca_cp);
	if (c < 0)
		return;
	cf_target *t = cf_ctx_target(ctx);
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	il_addr from;
	char a[64], b[64], e[64], what[96];
	size_t n = binding(ctx, c, &ca_cp, NULL, buf, sizeof buf, &m, &from);
	if (cf_check_req(ctx, "RFC5780-6.1-3", n && m.cls == IL_STUN_SUCCESS && same_addr(&from, &ca_cp),
			 "a Binding to OTHER-ADDRESS %s got %s from %s",
			 fmt_addr(&ca_cp, a, sizeof a), cf_describe(n, &m, what, sizeof what),
			 n ? fmt_addr(&from, b, sizeof b) : "-"))
		check_origin_other(ctx, &m, &from, &t->server);
	nat_req r = {.change = true, .flags = CHANGE_IP | CHANGE_PORT, .response_port = -1};
	n = binding(ctx, c, &ca_cp, &r, buf, sizeof buf, &m, &from);
	cf_check_req(ctx, "RFC5780-6.1-6", n && m.cls == IL_STUN_SUCCESS && same_addr(&from, &t->server),
		     "a change of IP and port asked of %s got %s from %s (expected from %s)",
		     fmt_addr(&ca_cp, a, sizeof a), cf_describe(n, &m, what, sizeof what),
		     n ? fmt_addr(&from, b, sizeof b) : "-", fmt_addr(&t->server, e, sizeof e));
}

/* Waits for a response with tid at client d (the RESPONSE-PORT) and
 * anything at client c; returns the length at d. */
static size_t send_and_watch(cf_ctx *ctx, int c, int d, const uint8_t *req, size_t len,
			     uint8_t *buf, size_t cap, il_stun_msg *m, il_addr *from,
			     size_t *at_c, il_stun_msg *mc, uint8_t *bufc)
{
	*at_c = 0;
	for (int a = 0; a < 3 && !cf_stopped(ctx); a++) {
		if (cf_send_to(ctx, c, NULL, req, len) < 0)
			return 0;
		size_t n = cf_recv_from(ctx, d, buf, cap, from, 0);
		if (n && n >= IL_STUN_HEADER_LEN && memcmp(buf + 4, req + 4, 16) == 0 &&
		    il_stun_decode(buf, n, m, NULL) == IL_STUN_OK)
			return n;
		il_addr cf;
		size_t k = cf_recv_from(ctx, c, bufc, CF_BUF, &cf, 1);
		if (k && il_stun_decode(bufc, k, mc, NULL) == IL_STUN_OK &&
		    memcmp(bufc + 4, req + 4, 16) == 0) {
			*at_c = k;
			return 0;
		}
	}
	return 0;
}

/* Client c (after discovery) and d on its IP, and a Binding from c with
 * RESPONSE-PORT d's port and padding bytes of PADDING; false: stopped. */
static bool pair_request(cf_ctx *ctx, int *c, int *d, size_t padding, uint8_t *req, size_t cap,
			 size_t *len)
{
	il_addr ca_cp;
	*c = discover(ctx, &ca_cp);
	if (*c < 0)
		return false;
	*d = cf_client_any(ctx, *c);
	if (*d < 0)
		return false;
	nat_req r = {.response_port = cf_client_addr(ctx, *d).port, .padding = padding};
	*len = cf_build(ctx, req, cap, IL_STUN_BINDING, IL_STUN_REQUEST, add_nat, &r, true);
	return *len > 0;
}

static bool lists_unknown(const il_stun_msg *m, uint16_t type)
{
	const il_stun_attr *a = il_stun_msg_find(m, IL_ATTR_UNKNOWN_ATTRIBUTES);
	uint16_t types[16];
	size_t count = 0;
	if (!a || il_stun_attr_get_unknown(m, a, types, 16, &count) != IL_STUN_OK)
		return false;
	for (size_t i = 0; i < count && i < 16; i++)
		if (types[i] == type)
			return true;
	return false;
}

static void t_response_port(cf_ctx *ctx)
{
	int c, d;
	uint8_t req[CF_BUF], buf[CF_BUF], bufc[CF_BUF];
	size_t len;
	if (!pair_request(ctx, &c, &d, 0, req, sizeof req, &len))
		return;
	cf_target *t = cf_ctx_target(ctx);
	il_addr dl = cf_client_addr(ctx, d);
	il_stun_msg m, mc;
	il_addr from;
	size_t at_c;
	char a[64], b[64], what[96];
	size_t n = send_and_watch(ctx, c, d, req, len, buf, sizeof buf, &m, &from, &at_c, &mc, bufc);
	if (!n && at_c && cf_error_code(&mc) == 420 && lists_unknown(&mc, IL_ATTR_RESPONSE_PORT)) {
		cf_not_applicable(ctx, "RESPONSE-PORT is answered 420: the target does not support "
				       "it (optional, RFC 5780 §7.5)");
		return;
	}
	cf_check_req(ctx, "RFC5780-7.5-1", n && !at_c,
		     "RESPONSE-PORT %u: %s at that port, %s at the request's own port", dl.port,
		     cf_describe(n, &m, what, sizeof what), at_c ? "a response" : "nothing");
	if (n)
		cf_check_req(ctx, "RFC5780-6.1-3", same_addr(&from, &t->server),
			     "the response came from %s, expected %s", fmt_addr(&from, a, sizeof a),
			     fmt_addr(&t->server, b, sizeof b));
}

static void t_padding(cf_ctx *ctx)
{
	il_addr ca_cp;
	int c = discover(ctx, &ca_cp);
	if (c < 0)
		return;
	nat_req r = {.response_port = -1, .padding = PADDING_LEN};
	/* A response may be padded up to the server's MTU (§7.6). */
	enum { CAP = 65536 };
	uint8_t *buf = malloc(CAP);
	if (!buf) {
		cf_error(ctx, "out of memory");
		return;
	}
	il_stun_msg m;
	il_addr from;
	char what[96];
	size_t n = binding(ctx, c, NULL, &r, buf, CAP, &m, &from);
	const il_stun_attr *pad = n ? il_stun_msg_find(&m, IL_ATTR_PADDING) : NULL;
	cf_check_req(ctx, "RFC5780-6.1-9", n && m.cls == IL_STUN_SUCCESS && pad,
		     "a Binding with %u bytes of PADDING got %s %s PADDING", PADDING_LEN,
		     cf_describe(n, &m, what, sizeof what), pad ? "with" : "without");
	if (n) {
		/* 64 KiB IP datagram minus the IPv4 and UDP headers. */
		cf_check_req(ctx, "RFC5780-7.6-1", n <= 65507, "the response is %zu bytes", n);
		if (pad)
			cf_note(ctx, "PADDING of %u bytes answered with %u bytes (response %zu bytes "
				     "for a request of %u)",
				PADDING_LEN, pad->length, n, PADDING_LEN + 20 + 4 + 8);
	}
	free(buf);
}

static void t_padding_with_response_port(cf_ctx *ctx)
{
	int c, d;
	uint8_t req[CF_BUF], buf[CF_BUF], bufc[CF_BUF];
	size_t len;
	if (!pair_request(ctx, &c, &d, 64, req, sizeof req, &len))
		return;
	il_stun_msg m, mc;
	il_addr from;
	size_t at_c;
	char what[96];
	size_t n = send_and_watch(ctx, c, d, req, len, buf, sizeof buf, &m, &from, &at_c, &mc, bufc);
	bool processed = n || (at_c && mc.cls == IL_STUN_SUCCESS);
	cf_check_req(ctx, "RFC5780-7.5-2", !processed,
		     "RESPONSE-PORT with PADDING: %s at the RESPONSE-PORT, %s at the source port",
		     cf_describe(n, &m, what, sizeof what), at_c ? (mc.cls == IL_STUN_SUCCESS ? "a success" : "an error") : "nothing");
	if (at_c && cf_error_code(&mc) == 420 && lists_unknown(&mc, IL_ATTR_RESPONSE_PORT)) {
		cf_note(ctx, "RESPONSE-PORT is not supported (420): the 400 rule does not apply");
		return;
	}
	cf_check_req(ctx, "RFC5780-6.1-11", at_c && cf_error_code(&mc) == 400,
		     "the source port got %s; a 400 was expected",
		     at_c ? cf_describe(at_c, &mc, what, sizeof what) : "no response");
}

static void t_no_alternate_420(cf_ctx *ctx)
{
	int c = cf_client_any(ctx, -1);
	if (c < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	il_addr from;
	char what[96];
	if (!binding(ctx, c, NULL, NULL, buf, sizeof buf, &m, &from)) {
		if (!cf_stopped(ctx))
			cf_error(ctx, "precondition failed: a plain Binding request got no response");
		return;
	}
	if (cf_has(&m, IL_ATTR_OTHER_ADDRESS)) {
		cf_not_applicable(ctx, "the target has an alternate address (OTHER-ADDRESS): the "
				       "change-* tests apply");
		return;
	}
	nat_req r = {.change = true, .flags = CHANGE_IP | CHANGE_PORT, .response_port = -1};
	size_t n = binding(ctx, c, NULL, &r, buf, sizeof buf, &m, &from);
	if (cf_check_req(ctx, "RFC5780-6.1-2", n && cf_error_code(&m) == 420,
			 "CHANGE-REQUEST to a server without alternate address got %s",
			 cf_describe(n, &m, what, sizeof what)))
		cf_check_req(ctx, "RFC8489-6.3.1.1-2", lists_unknown(&m, IL_ATTR_CHANGE_REQUEST),
			     "the 420 %s CHANGE-REQUEST (0x0003) in UNKNOWN-ATTRIBUTES",
			     lists_unknown(&m, IL_ATTR_CHANGE_REQUEST) ? "lists" : "does not list");
	if (n)
		cf_check_req(ctx, "RFC5780-6-1", !cf_has(&m, IL_ATTR_OTHER_ADDRESS),
			     "the response %s OTHER-ADDRESS",
			     cf_has(&m, IL_ATTR_OTHER_ADDRESS) ? "has" : "has no");
}

static const cf_test tests[] = {
	{"nat-behaviour", "binding-attributes",
	 "Binding: answered from where it was sent; MAPPED, XOR-MAPPED, RESPONSE-ORIGIN, "
	 "OTHER-ADDRESS",
	 0, t_binding_attributes},
	{"nat-behaviour", "change-request-none", "CHANGE-REQUEST without flags: answered from Da:Dp",
	 0, t_change_none},
	{"nat-behaviour", "change-port", "CHANGE-REQUEST change port: answered from Da:Cp", 0,
	 t_change_port},
	{"nat-behaviour", "change-ip", "CHANGE-REQUEST change IP: answered from Ca:Dp", 0,
	 t_change_ip},
	{"nat-behaviour", "change-ip-and-port",
	 "CHANGE-REQUEST change IP and port: answered from Ca:Cp", 0, t_change_both},
	{"nat-behaviour", "request-to-other-address",
	 "A Binding to OTHER-ADDRESS: answered from there, OTHER-ADDRESS swapped", 0,
	 t_request_to_other},
	{"nat-behaviour", "response-port", "RESPONSE-PORT: the response goes to that port", 0,
	 t_response_port},
	{"nat-behaviour", "padding", "PADDING in a request: PADDING in the response", 0, t_padding},
	{"nat-behaviour", "padding-with-response-port-400",
	 "PADDING with RESPONSE-PORT: 400, nothing sent to the other port", 0,
	 t_padding_with_response_port},
	{"nat-behaviour", "no-alternate-420",
	 "No alternate address: CHANGE-REQUEST gets a 420, no OTHER-ADDRESS", 0, t_no_alternate_420},
};

const cf_test *cf_suite_nat_behaviour(size_t *count)
{
	*count = sizeof tests / sizeof tests[0];
	return tests;
}
