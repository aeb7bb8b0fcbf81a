/* Suite stun-server: a STUN server's Binding behaviour (RFC 8489 §5,
 * §6.3, §11, §12, §14), judged from the wire. Each check names the
 * catalogue requirement (conformance/requirements/rfc8489.req). */
#include "suite_util.h"

#include <stdio.h>
#include <string.h>

static void add_software(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_string(b, IL_ATTR_SOFTWARE, "icelab conformance", 18);
}

/* Sends a Binding request; returns the response length, 0 if none. */
static size_t binding(cf_ctx *ctx, int c, cf_attrs_fn add, const void *arg, bool fingerprint,
		      uint8_t *req, size_t *req_len, uint8_t *buf, il_stun_msg *m)
{
	uint8_t local[CF_BUF];
	uint8_t *r = req ? req : local;
	size_t len = cf_build(ctx, r, CF_BUF, IL_STUN_BINDING, IL_STUN_REQUEST, add, arg, fingerprint);
	if (req_len)
		*req_len = len;
	if (!len)
		return 0;
	return cf_transact(ctx, c, r, len, buf, CF_BUF, m);
}

static void t_binding_success(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t req[CF_BUF], buf[CF_BUF];
	size_t req_len;
	il_stun_msg m;
	char what[96];
	size_t n = binding(ctx, c, add_software, NULL, false, req, &req_len, buf, &m);
	if (!cf_check_req(ctx, "RFC8489-12-1", n && m.cls == IL_STUN_SUCCESS,
			  "a plain Binding request got %s", cf_describe(n, &m, what, sizeof what)))
		return;
	cf_check_req(ctx, "RFC8489-12-2", cf_error_code(&m) != 401,
		     "the basic Binding was not challenged");
	cf_check_req(ctx, "RFC8489-5-1", (buf[0] & 0xC0) == 0, "first byte 0x%02x", buf[0]);
	cf_check_req(ctx, "RFC8489-5-2",
		     buf[4] == 0x21 && buf[5] == 0x12 && buf[6] == 0xA4 && buf[7] == 0x42,
		     "magic cookie %02x%02x%02x%02x", buf[4], buf[5], buf[6], buf[7]);
	cf_check_req(ctx, "RFC8489-5-3", memcmp(buf + 8, req + 8, 12) == 0,
		     "the response's transaction id is the request's");
	cf_check_req(ctx, "RFC8489-5-4", m.len == n && (n - 20) % 4 == 0,
		     "length field %zu for %zu bytes after the header", m.len - 20, n - 20);
	cf_check_req(ctx, "RFC8489-6.3.1.1-3", m.method == IL_STUN_BINDING,
		     "response method 0x%03x", m.method);
	bool aligned = true;
	for (size_t i = 0; i < m.attr_count; i++)
		aligned &= m.attrs[i].offset % 4 == 0;
	cf_check_req(ctx, "RFC8489-14-1", aligned, "each of the %zu attributes starts on a 32-bit "
		     "boundary, so the one before it ended on one", (size_t)m.attr_count);
	if (!cf_stream_transport(ctx)) {
		/* The client's socket is connected to the target's address:
		 * only a datagram from there to our port reaches it. */
		cf_check_req(ctx, "RFC8489-6.3.1.2-1", true,
			     "the UDP response came from the address and port the request went to, "
			     "to the request's source port");
		cf_check_req(ctx, "RFC8489-12-4", true, "Binding over UDP answered");
	}
}

static void t_xor_mapped(cf_ctx *ctx)
{
	for (int i = 0; i < 2 && !cf_stopped(ctx); i++) {
		int c = cf_client(ctx, CF_UDP);
		if (c < 0)
			return;
		uint8_t buf[CF_BUF];
		il_stun_msg m;
		size_t n = binding(ctx, c, NULL, NULL, false, NULL, NULL, buf, &m);
		if (!n || m.cls != IL_STUN_SUCCESS) {
			cf_error(ctx, "precondition failed: Binding not answered with success");
			return;
		}
		const il_stun_attr *a = il_stun_msg_find(&m, IL_ATTR_XOR_MAPPED_ADDRESS);
		if (!cf_check_req(ctx, "RFC8489-6.3.1.1-4", a != NULL,
				  "client%d: success response has XOR-MAPPED-ADDRESS", c + 1))
			continue;
		il_addr got;
		il_addr want = cf_client_addr(ctx, c);
		char gs[IL_ADDR_STRLEN] = "?", ws[IL_ADDR_STRLEN];
		if (il_stun_attr_get_addr(&m, a, &got) == IL_STUN_OK)
			il_addr_format(&got, gs, sizeof gs);
		il_addr_format(&want, ws, sizeof ws);
		cf_check_req(ctx, "RFC8489-6.3.1.1-4", il_addr_equal(&got, &want),
			     "client%d: XOR-MAPPED-ADDRESS %s, the request came from %s", c + 1, gs,
			     ws);
		const uint8_t *v = il_stun_attr_value(&m, a);
		cf_check_req(ctx, "RFC8489-14.1-2", v[0] == 0, "first byte of the value 0x%02x",
			     v[0]);
	}
}

static void t_padding_zero(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	/* An odd-length unknown attribute makes the 420's UNKNOWN-ATTRIBUTES
	 * need padding (2 bytes per type). */
	static const uint8_t odd[3] = {1, 2, 3};
	uint16_t type = 0x7FF1;
	(void)odd;
	size_t n = binding(ctx, c, NULL, NULL, false, NULL, NULL, buf, &m);
	if (n)
		cf_check_req(ctx, "RFC8489-14-3", cf_padding_is_zero(&m),
			     "padding of the success response is zero");
	uint8_t req[CF_BUF];
	il_stun_builder b;
	uint8_t tid[12];
	cf_new_tid(ctx, tid);
	il_stun_builder_init(&b, req, sizeof req, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	il_stun_add_raw(&b, type, odd, sizeof odd);
	size_t len = il_stun_builder_finish(&b, NULL);
	n = cf_transact(ctx, c, req, len, buf, sizeof buf, &m);
	if (n)
		cf_check_req(ctx, "RFC8489-14-3", cf_padding_is_zero(&m),
			     "padding of the error response is zero");
	if (!n && !cf_stopped(ctx))
		cf_error(ctx, "the target answered neither request");
}

static void t_fingerprint(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = binding(ctx, c, NULL, NULL, false, NULL, NULL, buf, &m);
	cf_check_req(ctx, "RFC8489-12-5", n && m.cls == IL_STUN_SUCCESS,
		     "a request without FINGERPRINT got %s", cf_describe(n, &m, what, sizeof what));
	n = binding(ctx, c, NULL, NULL, true, NULL, NULL, buf, &m);
	if (!cf_check_req(ctx, "RFC8489-14.7-3", n && m.cls == IL_STUN_SUCCESS,
			  "a request with a valid FINGERPRINT got %s",
			  cf_describe(n, &m, what, sizeof what)))
		return;
	if (m.fingerprint_index < 0) {
		cf_note(ctx, "the response carries no FINGERPRINT (allowed)");
		return;
	}
	cf_check_req(ctx, "RFC8489-14.7-2", (size_t)m.fingerprint_index == m.attr_count - 1u,
		     "FINGERPRINT is the last attribute");
	cf_check_req(ctx, "RFC8489-14.7-1", il_stun_check_fingerprint(&m) == IL_STUN_VERDICT_OK,
		     "the response's FINGERPRINT is %s",
		     il_stun_verdict_name(il_stun_check_fingerprint(&m)));
}

static void t_fingerprint_bad(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t req[CF_BUF];
	size_t len = cf_build(ctx, req, sizeof req, IL_STUN_BINDING, IL_STUN_REQUEST, NULL, NULL, true);
	if (!len)
		return;
	req[len - 1] ^= 0x01; /* one bit of the CRC */
	cf_send(ctx, c, req, len);
	cf_check_req(ctx, "RFC8489-6.3-3", cf_expect_silence(ctx, c),
		     "a request whose FINGERPRINT is wrong is silently discarded");
}

static void add_unknown_required(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_u32(b, 0x7FF3, 0xdeadbeef);
	il_stun_add_u32(b, 0x0FFE, 1);
}

static void t_unknown_required(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = binding(ctx, c, add_unknown_required, NULL, true, NULL, NULL, buf, &m);
	if (!cf_check_req(ctx, "RFC8489-6.3.1-1", n && cf_error_code(&m) == 420,
			  "two unknown comprehension-required attributes got %s",
			  cf_describe(n, &m, what, sizeof what)))
		return;
	cf_check_req(ctx, "RFC8489-6.3.1.1-1", cf_has(&m, IL_ATTR_ERROR_CODE),
		     "the error response has ERROR-CODE");
	const il_stun_attr *a = il_stun_msg_find(&m, IL_ATTR_UNKNOWN_ATTRIBUTES);
	uint16_t types[16];
	size_t count = 0;
	if (a)
		il_stun_attr_get_unknown(&m, a, types, 16, &count);
	bool has1 = false, has2 = false;
	for (size_t i = 0; i < count && i < 16; i++) {
		has1 |= types[i] == 0x7FF3;
		has2 |= types[i] == 0x0FFE;
	}
	cf_check_req(ctx, "RFC8489-6.3.1.1-2", a && has1 && has2,
		     "UNKNOWN-ATTRIBUTES %s 0x7ff3 and 0x0ffe (%zu types listed)",
		     a ? "lists" : "missing, should list", count);
	const il_stun_attr *e = il_stun_msg_find(&m, IL_ATTR_ERROR_CODE);
	const uint8_t *v = il_stun_attr_value(&m, e);
	cf_check_req(ctx, "RFC8489-14.8-2", (v[2] & 0x07) >= 3 && (v[2] & 0x07) <= 6 && v[3] <= 99,
		     "ERROR-CODE class %u number %u", v[2] & 0x07, v[3]);
	/* The codec decodes a reason phrase only when it is UTF-8 of fewer
	 * than 128 characters (and at most 763 bytes). */
	il_stun_decode_error derr;
	il_stun_msg again;
	cf_check_req(ctx, "RFC8489-14.8-1", il_stun_decode(buf, n, &again, &derr) == IL_STUN_OK,
		     "the reason phrase (%u bytes) is UTF-8 of fewer than 128 characters",
		     e->length - 4u);
}

static void add_unknown_optional(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_u32(b, 0xC0F3, 0x01020304);
}

static void t_unknown_optional(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = binding(ctx, c, add_unknown_optional, NULL, true, NULL, NULL, buf, &m);
	cf_check_req(ctx, "RFC8489-6.3-1", n && m.cls == IL_STUN_SUCCESS,
		     "an unknown comprehension-optional attribute (0xc0f3) got %s",
		     cf_describe(n, &m, what, sizeof what));
}

/* Broken framings, each silently discarded (RFC 8489 §6.3). */
static void t_malformed_silent(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	static const char *const what[] = {
		"length field not a multiple of 4", "length field past the datagram",
		"first two bits set", "attribute running past the message",
		"shorter than a header",
	};
	for (int k = 0; k < 5 && !cf_stopped(ctx); k++) {
		uint8_t req[CF_BUF];
		size_t len = cf_build(ctx, req, sizeof req, IL_STUN_BINDING, IL_STUN_REQUEST,
				      add_software, NULL, false);
		switch (k) {
		case 0:
			req[3] = (uint8_t)(req[3] + 2);
			break;
		case 1:
			req[3] = (uint8_t)(req[3] + 8);
			break;
		case 2:
			req[0] |= 0xC0;
			break;
		case 3:
			req[22] = 0x00, req[23] = 0x40; /* SOFTWARE claims 64 bytes */
			break;
		case 4:
			len = 12;
			break;
		}
		cf_send(ctx, c, req, len);
		cf_check_req(ctx, "RFC8489-6.3-2", cf_expect_silence(ctx, c),
			     "%s: silently discarded", what[k]);
	}
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	size_t n = binding(ctx, c, NULL, NULL, false, NULL, NULL, buf, &m);
	cf_check_req(ctx, "RFC8489-12-1", n && m.cls == IL_STUN_SUCCESS,
		     "a valid Binding after the malformed ones is answered");
}

static void t_indication_silent(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t req[CF_BUF];
	size_t len = cf_build(ctx, req, sizeof req, IL_STUN_BINDING, IL_STUN_INDICATION, NULL, NULL,
			      true);
	cf_send(ctx, c, req, len);
	cf_check_req(ctx, "RFC8489-6.3.2-1", cf_expect_silence(ctx, c),
		     "a Binding indication gets no response");
	len = cf_build(ctx, req, sizeof req, IL_STUN_BINDING, IL_STUN_INDICATION,
		       add_unknown_required, NULL, true);
	cf_send(ctx, c, req, len);
	cf_check_req(ctx, "RFC8489-6.3.2-1", cf_expect_silence(ctx, c),
		     "an indication with unknown comprehension-required attributes gets no 420");
}

static void t_classic(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t tid[16], req[CF_BUF], buf[CF_BUF];
	cf_random(ctx, tid, sizeof tid);
	tid[0] = 0x5A; /* never the magic cookie */
	il_stun_builder b;
	il_stun_builder_init_classic(&b, req, sizeof req, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_stun_msg m;
	size_t n = cf_transact(ctx, c, req, len, buf, sizeof buf, &m);
	char what[96];
	if (!cf_check_req(ctx, "RFC8489-12-6", n && m.cls == IL_STUN_SUCCESS,
			  "an RFC 3489 Binding request (no magic cookie) got %s",
			  cf_describe(n, &m, what, sizeof what)))
		return;
	cf_check_req(ctx, "RFC8489-11-1", memcmp(buf + 4, tid, 16) == 0,
		     "the response echoes the 128-bit transaction id");
	il_addr want = cf_client_addr(ctx, c);
	cf_check_address(ctx, "RFC8489-11-1", &m, IL_ATTR_MAPPED_ADDRESS, "MAPPED-ADDRESS", &want,
			 "the request came from");
}

static void t_retransmission(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t req[CF_BUF], b1[CF_BUF], b2[CF_BUF];
	size_t len = cf_build(ctx, req, sizeof req, IL_STUN_BINDING, IL_STUN_REQUEST, NULL, NULL, true);
	il_stun_msg m1, m2;
	size_t n1 = cf_transact(ctx, c, req, len, b1, sizeof b1, &m1);
	size_t n2 = cf_transact(ctx, c, req, len, b2, sizeof b2, &m2);
	if (!n1 || !n2) {
		cf_check_req(ctx, "RFC8489-6.3.1-2", false, "the %s was not answered",
			     n1 ? "retransmission" : "request");
		return;
	}
	il_addr a1, a2;
	memset(&a1, 0, sizeof a1);
	memset(&a2, 0, sizeof a2);
	const il_stun_attr *x1 = il_stun_msg_find(&m1, IL_ATTR_XOR_MAPPED_ADDRESS);
	if (x1)
		il_stun_attr_get_addr(&m1, x1, &a1);
	const il_stun_attr *x2 = il_stun_msg_find(&m2, IL_ATTR_XOR_MAPPED_ADDRESS);
	if (x2)
		il_stun_attr_get_addr(&m2, x2, &a2);
	cf_check_req(ctx, "RFC8489-6.3.1-2",
		     m1.cls == m2.cls && m1.cls == IL_STUN_SUCCESS && il_addr_equal(&a1, &a2),
		     "the same request twice gets the same success response");
}

static void t_software(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	size_t n = binding(ctx, c, add_software, NULL, true, NULL, NULL, buf, &m);
	if (!n) {
		cf_error(ctx, "precondition failed: Binding not answered");
		return;
	}
	const il_stun_attr *a = il_stun_msg_find(&m, IL_ATTR_SOFTWARE);
	cf_check_req(ctx, "RFC8489-6.3.1.1-5", a != NULL, "the response %s SOFTWARE",
		     a ? "carries" : "lacks");
	if (a) {
		const char *text;
		size_t tl;
		cf_check_req(ctx, "RFC8489-14.14-1",
			     il_stun_attr_get_string(&m, a, &text, &tl) == IL_STUN_OK && tl < 509,
			     "SOFTWARE is UTF-8 of fewer than 128 characters (%u bytes)", a->length);
	}
}

static void add_after_integrity(il_stun_builder *b, const void *arg)
{
	(void)arg;
	uint8_t fake_mac[20] = {0};
	il_stun_add_raw(b, IL_ATTR_MESSAGE_INTEGRITY, fake_mac, sizeof fake_mac);
	il_stun_add_u32(b, 0x7FF5, 7); /* unknown, comprehension-required, after MI */
}

static void t_after_integrity(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_UDP);
	if (c < 0)
		return;
	uint8_t buf[CF_BUF];
	il_stun_msg m;
	char what[96];
	size_t n = binding(ctx, c, add_after_integrity, NULL, true, NULL, NULL, buf, &m);
	/* Whatever the server makes of the MESSAGE-INTEGRITY, the attribute
	 * after it must not be seen, so no 420 naming it. */
	cf_check_req(ctx, "RFC8489-9-1", !n || cf_error_code(&m) != 420,
		     "an unknown attribute after MESSAGE-INTEGRITY got %s",
		     cf_describe(n, &m, what, sizeof what));
}

static const cf_test tests[] = {
	{"stun-server", "binding-success", "A Binding request gets a well-formed success response",
	 0, t_binding_success},
	{"stun-server", "xor-mapped-address", "XOR-MAPPED-ADDRESS is each client's source address",
	 0, t_xor_mapped},
	{"stun-server", "padding-zero", "Attribute padding in responses is zero", 0,
	 t_padding_zero},
	{"stun-server", "fingerprint", "FINGERPRINT optional, and right and last when present", 0,
	 t_fingerprint},
	{"stun-server", "fingerprint-bad-discarded", "A wrong FINGERPRINT is silently discarded",
	 0, t_fingerprint_bad},
	{"stun-server", "unknown-required-420",
	 "Unknown comprehension-required attributes: 420 with UNKNOWN-ATTRIBUTES", 0,
	 t_unknown_required},
	{"stun-server", "unknown-optional-ignored",
	 "Unknown comprehension-optional attributes are ignored", 0, t_unknown_optional},
	{"stun-server", "malformed-silent", "Malformed framings are silently discarded",
	 CF_NEEDS_UDP, t_malformed_silent},
	{"stun-server", "indication-no-response", "Indications are never answered", 0,
	 t_indication_silent},
	{"stun-server", "classic-rfc3489", "An RFC 3489 request is answered for a classic client",
	 0, t_classic},
	{"stun-server", "retransmission-idempotent",
	 "A retransmitted request gets the same response", CF_NEEDS_UDP, t_retransmission},
	{"stun-server", "software", "SOFTWARE in responses, well-formed", 0, t_software},
	{"stun-server", "after-integrity-ignored",
	 "Attributes after MESSAGE-INTEGRITY are ignored", 0, t_after_integrity},
};

const cf_test *cf_suite_stun_server(size_t *count)
{
	*count = sizeof tests / sizeof tests[0];
	return tests;
}
