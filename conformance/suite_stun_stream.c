/* Suite stun-server over a stream (tcp://, tls://): RFC 8489 §6.2.2. STUN
 * over TCP has no message boundaries but its length field, so a server
 * must answer a request split across segments and several requests in
 * one segment. These tests are not-applicable over datagrams. */
#include "suite_util.h"

#include <stdio.h>
#include <string.h>

/* Waits for the responses to n requests (any order) on client c; marks
 * answered[i] and returns how many were answered. */
static size_t collect(cf_ctx *ctx, int c, const uint8_t (*tids)[IL_STUN_TID_LEN], size_t n,
		      bool *answered, il_stun_msg *last)
{
	uint8_t buf[CF_BUF];
	size_t got = 0;
	while (got < n && !cf_stopped(ctx)) {
		size_t len = cf_recv(ctx, c, buf, sizeof buf, 0);
		if (!len)
			break;
		il_stun_msg m;
		if (il_stun_decode(buf, len, &m, NULL) != IL_STUN_OK)
			continue;
		for (size_t i = 0; i < n; i++)
			if (!answered[i] && memcmp(buf + 8, tids[i], IL_STUN_TID_LEN) == 0) {
				answered[i] = true;
				got++;
				if (last)
					*last = m;
			}
	}
	return got;
}

static size_t build_binding(cf_ctx *ctx, uint8_t *out, size_t cap, uint8_t tid[IL_STUN_TID_LEN])
{
	size_t len = cf_build(ctx, out, cap, IL_STUN_BINDING, IL_STUN_REQUEST, NULL, NULL, true);
	if (len)
		memcpy(tid, out + 8, IL_STUN_TID_LEN);
	return len;
}

static void t_tcp_binding(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_TCP);
	if (c < 0)
		return;
	const char *tr = cf_stream_transport(ctx) == CF_TLS ? "TLS" : "TCP";
	uint8_t req[CF_BUF], buf[CF_BUF];
	uint8_t tid[IL_STUN_TID_LEN];
	il_stun_msg m;
	char what[96];
	size_t len = build_binding(ctx, req, sizeof req, tid);
	size_t n = len ? cf_transact(ctx, c, req, len, buf, sizeof buf, &m) : 0;
	bool ok = n && m.cls == IL_STUN_SUCCESS;
	cf_check_req(ctx, "RFC8489-12-4", ok, "a Binding request over %s got %s", tr,
		     cf_describe(n, &m, what, sizeof what));
	cf_check_req(ctx, "RFC8656-5-8", ok, "the server answers STUN over %s", tr);
	if (!ok)
		return;
	il_addr want = cf_client_addr(ctx, c);
	cf_check_address(ctx, "RFC8489-6.3.1.1-4", &m, IL_ATTR_XOR_MAPPED_ADDRESS,
			 "XOR-MAPPED-ADDRESS", &want, "the connection's source is");
	/* The server leaves the idle connection to the client (§6.2.2). */
	cf_sleep(ctx, 1000);
	len = build_binding(ctx, req, sizeof req, tid);
	n = len ? cf_transact(ctx, c, req, len, buf, sizeof buf, &m) : 0;
	cf_check_req(ctx, "RFC8489-6.2.2-3", n && m.cls == IL_STUN_SUCCESS && !cf_client_closed(ctx, c),
		     "after 1 s idle the connection still carries a Binding (%s)",
		     cf_describe(n, &m, what, sizeof what));
}

static void t_pipelined(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_TCP);
	if (c < 0)
		return;
	/* Three requests in one send (one segment with TCP_NODELAY). */
	enum { N = 3 };
	uint8_t seg[3 * CF_BUF], tids[N][IL_STUN_TID_LEN];
	size_t off = 0;
	for (size_t i = 0; i < N; i++) {
		size_t len = build_binding(ctx, seg + off, CF_BUF, tids[i]);
		if (!len)
			return;
		off += len;
	}
	if (cf_send(ctx, c, seg, off) < 0)
		return;
	bool answered[N] = {false};
	size_t got = collect(ctx, c, (const uint8_t (*)[IL_STUN_TID_LEN])tids, N, answered, NULL);
	cf_check_req(ctx, "RFC8489-6.2.2-4", got == N,
		     "%zu of %d Binding requests sent back to back in one segment were answered",
		     got, N);
	cf_check_req(ctx, "RFC8489-6.2.2-1", got == N || !cf_client_closed(ctx, c),
		     "the server %s the connection with requests unanswered",
		     got < N && cf_client_closed(ctx, c) ? "closed" : "did not close");
}

static void t_split(cf_ctx *ctx)
{
	int c = cf_client(ctx, CF_TCP);
	if (c < 0)
		return;
	uint8_t req[CF_BUF], tid[IL_STUN_TID_LEN];
	size_t len = build_binding(ctx, req, sizeof req, tid);
	if (!len)
		return;
	/* Cut inside the header (before the length field is whole), inside
	 * the attributes, then the rest; each piece is its own segment. */
	size_t cuts[] = {3, 17, len};
	size_t from = 0;
	for (size_t i = 0; i < 3 && !cf_stopped(ctx); i++) {
		if (cf_send(ctx, c, req + from, cuts[i] - from) < 0)
			return;
		from = cuts[i];
		if (i < 2)
			cf_sleep(ctx, 60);
	}
	bool answered[1] = {false};
	il_stun_msg m;
	size_t got = collect(ctx, c, (const uint8_t (*)[IL_STUN_TID_LEN])&tid, 1, answered, &m);
	cf_check_req(ctx, "RFC8489-6.2.2-5", got == 1 && m.cls == IL_STUN_SUCCESS,
		     "a Binding request sent in 3 segments (3, 14 and %zu bytes, 60 ms apart) %s",
		     len - 17, got ? "was answered" : "got no response");
	/* And a split right after a whole message: the second one in the
	 * same segment as the first's end. */
	uint8_t two[2 * CF_BUF], tids[2][IL_STUN_TID_LEN];
	size_t l1 = build_binding(ctx, two, CF_BUF, tids[0]);
	size_t l2 = build_binding(ctx, two + l1, CF_BUF, tids[1]);
	if (!l1 || !l2)
		return;
	cf_send(ctx, c, two, l1 + 10);
	cf_sleep(ctx, 60);
	cf_send(ctx, c, two + l1 + 10, l2 - 10);
	bool ans2[2] = {false, false};
	got = collect(ctx, c, (const uint8_t (*)[IL_STUN_TID_LEN])tids, 2, ans2, NULL);
	cf_check_req(ctx, "RFC8489-6.2.2-5", got == 2,
		     "two requests, the second split across segments: %zu of 2 answered", got);
}

static const cf_test tests[] = {
	{"stun-server", "tcp-binding", "Binding over TCP/TLS; the connection stays open",
	 CF_NEEDS_STREAM, t_tcp_binding},
	{"stun-server", "tcp-pipelined-one-segment",
	 "Several requests in one TCP segment are each answered", CF_NEEDS_STREAM, t_pipelined},
	{"stun-server", "tcp-split-segments",
	 "A request split across TCP segments is reassembled and answered", CF_NEEDS_STREAM,
	 t_split},
};

const cf_test *cf_suite_stun_stream(size_t *count)
{
	*count = sizeof tests / sizeof tests[0];
	return tests;
}
