/* The ng protocol (ref/sbc/ng.c) against the bridge table
 * (ref/sbc/bridge.c): offer/answer/query/delete with a legacy leg A and
 * an ICE leg B, the SDP out on the advertised address and never the
 * private bind, ICE-lite toward the ICE leg, counters in query, errors,
 * retransmissions; the table's ports, limits, dispatch and timeouts. */
#include "sbc_test_util.h"

#include "icelab/bencode.h"
#include "icelab/sbc_bridge.h"

#define PORT_MIN 40000
#define PORT_MAX 40015 /* 8 pairs: 4 calls */

typedef struct fx {
	il_sbc_bridge *b;
	il_sbc_ng *ng;
	uint64_t rng, now;
	bool open[PORT_MAX - PORT_MIN + 1];
	uint16_t refuse_port;          /* port_open fails for this one */
	size_t opens, closes, sent;
	il_addr last_local, last_remote;
	char events[64][512];
	size_t event_count;
	char log[1024];
	char reply[128 * 1024];
	size_t reply_len;
	il_benc_node nodes[2048];
	char offer_sdp[8192], answer_sdp[8192];
} fx;

static fx *F;

static void fx_random(void *user, uint8_t *out, size_t len)
{
	fx *f = user;
	for (size_t i = 0; i < len; i++) {
		f->rng = f->rng * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (uint8_t)(f->rng >> 33);
	}
}

static void fx_send(void *user, const il_addr *local, const il_addr *remote, const uint8_t *data,
		    size_t len)
{
	fx *f = user;
	(void)data;
	(void)len;
	f->sent++;
	f->last_local = *local;
	f->last_remote = *remote;
}

static int fx_open(void *user, const il_addr *local)
{
	fx *f = user;
	assert_true(local->port >= PORT_MIN && local->port <= PORT_MAX);
	assert_false(f->open[local->port - PORT_MIN]);
	if (local->port == f->refuse_port)
		return -1;
	f->open[local->port - PORT_MIN] = true;
	f->opens++;
	return 0;
}

static void fx_close(void *user, const il_addr *local)
{
	fx *f = user;
	assert_true(f->open[local->port - PORT_MIN]);
	f->open[local->port - PORT_MIN] = false;
	f->closes++;
}

static void fx_event(void *user, const char *json)
{
	fx *f = user;
	if (f->event_count < 64)
		snprintf(f->events[f->event_count++], sizeof f->events[0], "%s", json);
}

static void fx_log(void *user, const char *line)
{
	fx *f = user;
	snprintf(f->log, sizeof f->log, "%s", line);
}

static bool has_event(const fx *f, const char *needle)
{
	for (size_t i = 0; i < f->event_count; i++)
		if (strstr(f->events[i], needle))
			return true;
	return false;
}

static il_sbc_bridge_config fx_config(void)
{
	il_sbc_bridge_config c;
	memset(&c, 0, sizeof c);
	il_sbc_config_defaults(&c.sbc);
	c.sbc.advertised = a4(203, 0, 113, 10, 0);
	c.bind = a4(10, 0, 0, 5, 0);
	c.port_min = PORT_MIN;
	c.port_max = PORT_MAX;
	return c;
}

static int setup(void **state)
{
	F = calloc(1, sizeof *F);
	F->rng = 12345;
	F->now = 5000;
	il_sbc_bridge_config c = fx_config();
	il_sbc_bridge_callbacks cb = {.user = F, .random = fx_random, .send = fx_send,
				      .port_open = fx_open, .port_close = fx_close,
				      .log = fx_log, .event = fx_event};
	int err = 99;
	F->b = il_sbc_bridge_new(&c, &cb, &err);
	assert_non_null(F->b);
	assert_int_equal(err, IL_SBC_OK);
	F->ng = il_sbc_ng_new(F->b);
	assert_non_null(F->ng);
	*state = F;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	il_sbc_ng_free(F->ng);
	il_sbc_bridge_free(F->b);
	/* Freeing the bridge closed every port it opened. */
	assert_int_equal(F->opens, F->closes);
	free(F);
	return 0;
}

/* ---- an ng exchange ---- */

/* Sends "COOKIE dict" and parses the reply's dict into F->nodes. */
static void ng_raw(const char *cookie, const char *dict, size_t dict_len)
{
	static char msg[64 * 1024];
	size_t cl = strlen(cookie);
	memcpy(msg, cookie, cl);
	msg[cl] = ' ';
	memcpy(msg + cl + 1, dict, dict_len);
	F->reply_len = il_sbc_ng_handle(F->ng, (const uint8_t *)msg, cl + 1 + dict_len, F->reply,
					sizeof F->reply, F->now);
	assert_true(F->reply_len > cl + 1);
	assert_memory_equal(F->reply, cookie, cl);
	assert_int_equal(F->reply[cl], ' ');
	int n = il_benc_parse(F->reply + cl + 1, F->reply_len - cl - 1, F->nodes, 2048, NULL);
	if (n < 0)
		fail_msg("reply does not parse: %s", F->reply);
	assert_int_equal(F->nodes[0].type, IL_BENC_DICT);
}

/* key=value pairs (strings; "flags"/"rtcp-mux" values are lists of one). */
static void ng(const char *command, ...)
{
	static char buf[64 * 1024];
	static unsigned cookie_n;
	il_benc_writer w;
	il_benc_writer_init(&w, buf, sizeof buf);
	il_benc_begin_dict(&w);
	il_benc_kv_str(&w, "command", command);
	va_list ap;
	va_start(ap, command);
	const char *k;
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		il_benc_put_cstr(&w, k);
		if (!strcmp(k, "flags") || !strcmp(k, "rtcp-mux")) {
			il_benc_begin_list(&w);
			il_benc_put_cstr(&w, v);
			il_benc_end(&w);
		} else {
			il_benc_put_cstr(&w, v);
		}
	}
	va_end(ap);
	il_benc_end(&w);
	assert_false(w.overflow);
	char cookie[32];
	snprintf(cookie, sizeof cookie, "c%u", ++cookie_n);
	ng_raw(cookie, buf, w.len);
}

static bool result_is(const char *r)
{
	return il_benc_str_is(F->nodes, il_benc_dict_get(F->nodes, 0, "result"), r);
}

static const char *reply_str(int dict, const char *key, char *out, size_t cap)
{
	size_t len;
	const char *s = il_benc_dict_str(F->nodes, dict, key, &len);
	assert_non_null(s);
	assert_true(len < cap);
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

static int64_t reply_int(int dict, const char *key)
{
	int v = il_benc_dict_get(F->nodes, dict, key);
	assert_true(v >= 0);
	assert_int_equal(F->nodes[v].type, IL_BENC_INT);
	return F->nodes[v].num;
}

static void expect_error(const char *reason_part)
{
	assert_true(result_is("error"));
	char reason[256];
	reply_str(0, "error-reason", reason, sizeof reason);
	if (!strstr(reason, reason_part))
		fail_msg("error-reason '%s' lacks '%s'", reason, reason_part);
}

static uint16_t sdp_port(const char *sdp)
{
	const char *m = strstr(sdp, "m=audio ");
	assert_non_null(m);
	return (uint16_t)atoi(m + 8);
}

static void sdp_attr(const char *sdp, const char *name, char *out, size_t cap)
{
	const char *p = strstr(sdp, name);
	assert_non_null(p);
	p += strlen(name);
	size_t n = strcspn(p, "\r\n");
	assert_true(n < cap);
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Offer from the phone (A, legacy) with ICE=force, answer from the web
 * agent (B). */
static void offer_answer(const char *call)
{
	ng("offer", "call-id", call, "from-tag", "tagA", "ICE", "force", "sdp", PHONE_OFFER, NULL);
	assert_true(result_is("ok"));
	reply_str(0, "sdp", F->offer_sdp, sizeof F->offer_sdp);
	ng("answer", "call-id", call, "from-tag", "tagA", "to-tag", "tagB", "sdp", WEB_ANSWER,
	   NULL);
	assert_true(result_is("ok"));
	reply_str(0, "sdp", F->answer_sdp, sizeof F->answer_sdp);
}

/* ---- tests ---- */

static void test_ping(void **state)
{
	(void)state;
	ng("ping", NULL);
	assert_true(result_is("pong"));
	assert_int_equal(il_sbc_ng_commands(F->ng), 1);
}

static void test_offer_answer_sdp(void **state)
{
	(void)state;
	offer_answer("call-1");
	/* Toward the ICE leg: ICE-lite, our credentials, one host candidate
	 * on the advertised address; never the bind or the phone's address. */
	assert_non_null(strstr(F->offer_sdp, "a=ice-lite"));
	assert_non_null(strstr(F->offer_sdp, "a=ice-ufrag:"));
	assert_non_null(strstr(F->offer_sdp, "c=IN IP4 203.0.113.10"));
	assert_non_null(strstr(F->offer_sdp, "typ host"));
	assert_null(strstr(F->offer_sdp, "10.0.0.5"));
	assert_null(strstr(F->offer_sdp, "192.168.1.10"));
	/* Toward the legacy leg: no ICE at all, the advertised address. */
	assert_null(strstr(F->answer_sdp, "a=ice"));
	assert_null(strstr(F->answer_sdp, "a=candidate"));
	assert_non_null(strstr(F->answer_sdp, "c=IN IP4 203.0.113.10"));
	assert_null(strstr(F->answer_sdp, "10.0.0.5"));
	assert_null(strstr(F->answer_sdp, "192.168.2.20"));
	assert_null(strstr(F->answer_sdp, "198.51.100.3"));
	/* Each leg its own even port from the range. */
	uint16_t pb = sdp_port(F->offer_sdp), pa = sdp_port(F->answer_sdp);
	assert_int_equal(pa % 2, 0);
	assert_int_equal(pb % 2, 0);
	assert_int_not_equal(pa, pb);
	assert_true(F->open[pa - PORT_MIN] && F->open[pa + 1 - PORT_MIN]);
	assert_true(F->open[pb - PORT_MIN] && F->open[pb + 1 - PORT_MIN]);
	assert_true(has_event(F, "\"event\":\"call-created\",\"call-id\":\"call-1\""));
	assert_true(has_event(F, "\"event\":\"answer\""));
}

static void test_media_and_query(void **state)
{
	(void)state;
	offer_answer("call-m");
	uint16_t pb = sdp_port(F->offer_sdp), pa = sdp_port(F->answer_sdp);
	char ufrag[64], pwd[64], user[160];
	sdp_attr(F->offer_sdp, "a=ice-ufrag:", ufrag, sizeof ufrag);
	sdp_attr(F->offer_sdp, "a=ice-pwd:", pwd, sizeof pwd);
	snprintf(user, sizeof user, "%s:%s", ufrag, WEB_UFRAG);
	il_addr bind_a = a4(10, 0, 0, 5, pa), bind_b = a4(10, 0, 0, 5, pb);
	il_addr web = a4(198, 51, 100, 3, 61000), phone = a4(198, 51, 100, 77, 4000);
	uint8_t buf[512];
	size_t n = build_check(buf, sizeof buf, user, pwd, true, 9);
	assert_int_equal(il_sbc_bridge_handle_datagram(F->b, &bind_b, &web, buf, n, F->now),
			 IL_SBC_DGRAM_STUN);
	assert_true(il_addr_equal(&F->last_remote, &web)); /* the success response */
	n = make_rtp(buf, 0, 100, 0xAAAA);
	assert_int_equal(il_sbc_bridge_handle_datagram(F->b, &bind_a, &phone, buf, n, F->now),
			 IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&F->last_local, &bind_b));
	assert_true(il_addr_equal(&F->last_remote, &web));
	/* Seq 101 and 103 (102 lost). */
	for (uint16_t seq = 101; seq <= 103; seq += 2) {
		n = make_rtp(buf, 0, seq, 0xAAAA);
		il_sbc_bridge_handle_datagram(F->b, &bind_a, &phone, buf, n, F->now);
	}
	n = make_rtp(buf, 0, 7, 0xBBBB);
	assert_int_equal(il_sbc_bridge_handle_datagram(F->b, &bind_b, &web, buf, n, F->now),
			 IL_SBC_DGRAM_FORWARDED);
	assert_true(il_addr_equal(&F->last_remote, &phone)); /* latched: symmetric RTP */
	/* A third party on leg A's port is dropped (RTP Bleed). */
	il_addr intruder = a4(192, 0, 2, 66, 5555);
	n = make_rtp(buf, 0, 104, 0xAAAA);
	assert_int_equal(il_sbc_bridge_handle_datagram(F->b, &bind_a, &intruder, buf, n, F->now),
			 IL_SBC_DGRAM_DROPPED);
	/* The connected line, once, in the log and the events. */
	assert_non_null(strstr(F->log, "call call-m pair@connected a=rtp"));
	assert_non_null(strstr(F->log, "b=ice"));
	assert_true(has_event(F, "\"event\":\"media-connected\""));
	assert_true(has_event(F, "\"event\":\"dropped\",\"call-id\":\"call-m\",\"leg\":\"A\""));

	ng("query", "call-id", "call-m", NULL);
	assert_true(result_is("ok"));
	char s[64];
	assert_string_equal(reply_str(0, "state", s, sizeof s), "connected");
	int tags = il_benc_dict_get(F->nodes, 0, "tags");
	int la = il_benc_dict_get(F->nodes, tags, "tagA");
	int lb = il_benc_dict_get(F->nodes, tags, "tagB");
	assert_true(la > 0 && lb > 0);
	assert_string_equal(reply_str(la, "ICE", s, sizeof s), "none");
	assert_string_equal(reply_str(lb, "ICE", s, sizeof s), "ice-lite");
	int rx_a = il_benc_dict_get(F->nodes, la, "rx");
	assert_int_equal(reply_int(rx_a, "packets"), 3);
	assert_int_equal(reply_int(rx_a, "rtp expected"), 4);
	assert_int_equal(reply_int(rx_a, "rtp lost"), 1);
	int dropped = il_benc_dict_get(F->nodes, rx_a, "dropped");
	assert_int_equal(reply_int(dropped, "foreign-source"), 1);
	assert_int_equal(reply_int(il_benc_dict_get(F->nodes, la, "tx"), "packets"), 1);
	assert_int_equal(reply_int(il_benc_dict_get(F->nodes, lb, "tx"), "packets"), 3);
	assert_int_equal(reply_int(il_benc_dict_get(F->nodes, la, "stats"), "errors"), 1);
	int pair = il_benc_dict_get(F->nodes, lb, "selected pair");
	int remote = il_benc_dict_get(F->nodes, pair, "remote");
	assert_string_equal(reply_str(remote, "address", s, sizeof s), "198.51.100.3");
	assert_int_equal(reply_int(remote, "port"), 61000);
	/* medias[0].streams[0]: the RTP stream of leg A */
	int medias = il_benc_dict_get(F->nodes, la, "medias");
	assert_int_equal(F->nodes[medias].type, IL_BENC_LIST);
	int streams = il_benc_dict_get(F->nodes, medias + 1, "streams");
	assert_int_equal(F->nodes[streams].type, IL_BENC_LIST);
	int rtp = streams + 1;
	assert_int_equal(reply_int(rtp, "local port"), pa);
	int adv = il_benc_dict_get(F->nodes, rtp, "local endpoint");
	assert_string_equal(reply_str(adv, "address", s, sizeof s), "203.0.113.10");
	assert_string_equal(reply_str(rtp, "local address", s, sizeof s), "203.0.113.10");
	int peer_sdp = il_benc_dict_get(F->nodes, rtp, "advertised endpoint");
	assert_string_equal(reply_str(peer_sdp, "address", s, sizeof s), "192.168.1.10");
	int ep = il_benc_dict_get(F->nodes, rtp, "endpoint");
	assert_string_equal(reply_str(ep, "address", s, sizeof s), "198.51.100.77");
	assert_true(il_benc_dict_has_item(F->nodes, rtp, "flags", "confirmed"));
	int learned = il_benc_dict_get(F->nodes, rtp, "learned endpoint");
	assert_string_equal(reply_str(learned, "address", s, sizeof s), "198.51.100.77");
	int totals = il_benc_dict_get(F->nodes, 0, "totals");
	assert_int_equal(reply_int(il_benc_dict_get(F->nodes, totals, "RTP"), "packets"), 4);
}

static void test_delete(void **state)
{
	(void)state;
	offer_answer("call-d");
	size_t opened = F->opens;
	assert_int_equal(il_sbc_bridge_call_count(F->b), 1);
	ng("delete", "call-id", "call-d", "from-tag", "tagA", NULL);
	assert_true(result_is("ok"));
	assert_int_equal(il_sbc_bridge_call_count(F->b), 0);
	assert_int_equal(F->closes, opened); /* all four ports closed */
	for (int i = 0; i <= PORT_MAX - PORT_MIN; i++)
		assert_false(F->open[i]);
	assert_true(has_event(F, "\"event\":\"call-deleted\",\"call-id\":\"call-d\",\"reason\":\"delete\""));
	ng("query", "call-id", "call-d", NULL);
	expect_error("Unknown call-id");
	ng("delete", "call-id", "call-d", NULL);
	expect_error("Unknown call-id");
}

static void test_errors(void **state)
{
	(void)state;
	ng("offer", "from-tag", "a", "sdp", PHONE_OFFER, NULL);
	expect_error("No call-id");
	ng("offer", "call-id", "x", "sdp", PHONE_OFFER, NULL);
	expect_error("No from-tag");
	ng("offer", "call-id", "x", "from-tag", "a", NULL);
	expect_error("No SDP");
	ng("offer", "call-id", "x", "from-tag", "a", "sdp", "v=0\r\nbogus\r\n", NULL);
	expect_error("SDP");
	assert_int_equal(il_sbc_bridge_call_count(F->b), 0); /* a failed first offer leaves no call */
	for (int i = 0; i <= PORT_MAX - PORT_MIN; i++)
		assert_false(F->open[i]);
	ng("answer", "call-id", "nope", "from-tag", "a", "sdp", WEB_ANSWER, NULL);
	expect_error("Unknown call-id");
	ng("frobnicate", NULL);
	expect_error("Unrecognized command");
	ng_raw("k1", "i5e", 3);
	expect_error("Not a dictionary");
	ng_raw("k2", "d3:fooi1ee", 10);
	expect_error("No command");
	ng_raw("k3", "d7:command", 10);
	expect_error("Failed to decode bencode: truncated");
	/* No cookie: nothing to answer. */
	char out[1024];
	assert_int_equal(il_sbc_ng_handle(F->ng, (const uint8_t *)"garbage", 7, out, sizeof out, 0), 0);
	assert_int_equal(il_sbc_ng_handle(F->ng, (const uint8_t *)" d4:ping", 8, out, sizeof out, 0), 0);
	assert_true(il_sbc_ng_errors(F->ng) >= 9);
	/* An answer from the offerer's side without an offer pending. */
	offer_answer("call-e");
	ng("answer", "call-id", "call-e", "from-tag", "tagA", "to-tag", "tagB", "sdp", WEB_ANSWER,
	   NULL);
	expect_error("No offer to answer");
}

static void test_retransmission(void **state)
{
	(void)state;
	char dict[4096];
	il_benc_writer w;
	il_benc_writer_init(&w, dict, sizeof dict);
	il_benc_begin_dict(&w);
	il_benc_kv_str(&w, "command", "offer");
	il_benc_kv_str(&w, "call-id", "call-r");
	il_benc_kv_str(&w, "from-tag", "tagA");
	il_benc_kv_str(&w, "sdp", PHONE_OFFER);
	il_benc_end(&w);
	ng_raw("same", dict, w.len);
	assert_true(result_is("ok"));
	char first[8192];
	memcpy(first, F->reply, F->reply_len);
	size_t first_len = F->reply_len, opens = F->opens;
	/* The proxy retransmits: the same reply, nothing run again. */
	ng_raw("same", dict, w.len);
	assert_int_equal(F->reply_len, first_len);
	assert_memory_equal(F->reply, first, first_len);
	assert_int_equal(F->opens, opens);
	assert_int_equal(il_sbc_bridge_call_count(F->b), 1);
}

static void test_ice_remove_and_rtcp_mux(void **state)
{
	(void)state;
	/* The web agent offers; ICE=remove makes the phone's leg legacy. */
	ng("offer", "call-id", "call-x", "from-tag", "web", "ICE", "remove", "rtcp-mux", "demux",
	   "sdp", WEB_ANSWER, NULL);
	assert_true(result_is("ok"));
	char sdp[8192];
	reply_str(0, "sdp", sdp, sizeof sdp);
	assert_null(strstr(sdp, "a=ice"));
	assert_null(strstr(sdp, "a=rtcp-mux"));
	ng("answer", "call-id", "call-x", "from-tag", "web", "to-tag", "phone", "sdp", PHONE_OFFER,
	   NULL);
	assert_true(result_is("ok"));
	reply_str(0, "sdp", sdp, sizeof sdp);
	/* Back toward the web agent, which offered ICE and rtcp-mux. */
	assert_non_null(strstr(sdp, "a=ice-lite"));
	assert_non_null(strstr(sdp, "a=rtcp-mux"));
	assert_null(strstr(sdp, "10.0.0.5"));
	/* The same options as words of "flags" (older module versions). */
	ng("offer", "call-id", "call-z", "from-tag", "a", "flags", "ICE=force", "sdp", PHONE_OFFER,
	   NULL);
	assert_true(result_is("ok"));
	reply_str(0, "sdp", sdp, sizeof sdp);
	assert_non_null(strstr(sdp, "a=ice-lite"));
	ng("offer", "call-id", "call-w", "from-tag", "a", "flags", "rtcp-mux-offer", "sdp",
	   PHONE_OFFER, NULL);
	reply_str(0, "sdp", sdp, sizeof sdp);
	assert_non_null(strstr(sdp, "a=rtcp-mux"));
	assert_null(strstr(sdp, "a=ice"));
	/* transport-protocol is honoured (ng_media.c): DTLS-SRTP toward B. */
	ng("offer", "call-id", "call-y", "from-tag", "a", "transport-protocol", "UDP/TLS/RTP/SAVPF",
	   "sdp", PHONE_OFFER, NULL);
	assert_true(result_is("ok"));
	reply_str(0, "sdp", sdp, sizeof sdp);
	assert_non_null(strstr(sdp, "UDP/TLS/RTP/SAVPF"));
	assert_non_null(strstr(sdp, "a=fingerprint:sha-256 "));
}

static void test_list(void **state)
{
	(void)state;
	offer_answer("l1");
	offer_answer("l2");
	ng("list", NULL);
	assert_true(result_is("ok"));
	assert_int_equal(reply_int(0, "count"), 2);
	int calls = il_benc_dict_get(F->nodes, 0, "calls");
	assert_int_equal(F->nodes[calls].count, 2);
	assert_true(il_benc_str_is(F->nodes, calls + 1, "l1"));
	ng("statistics", NULL);
	assert_true(result_is("ok"));
	int st = il_benc_dict_get(F->nodes, 0, "statistics");
	assert_int_equal(reply_int(st, "calls"), 2);
	assert_int_equal(reply_int(st, "connected calls"), 0);
	assert_true(reply_int(st, "ng commands") >= 5);
}

/* ---- the table itself ---- */

static void test_ports_exhaustion_and_free(void **state)
{
	(void)state;
	il_sbc_call_options opt = {0};
	il_sbc_call *c[4];
	int err;
	for (int i = 0; i < 4; i++) {
		char id[16];
		snprintf(id, sizeof id, "p%d", i);
		c[i] = il_sbc_bridge_create(F->b, id, strlen(id), &opt, F->now, &err);
		assert_non_null(c[i]);
	}
	assert_int_equal(F->opens, 16); /* every port of the range */
	assert_null(il_sbc_bridge_create(F->b, "p4", 2, &opt, F->now, &err));
	assert_int_equal(err, IL_SBC_BRIDGE_ERR_PORTS);
	ng("offer", "call-id", "p5", "from-tag", "a", "sdp", PHONE_OFFER, NULL);
	expect_error("no free media ports");
	assert_null(il_sbc_bridge_create(F->b, "p0", 2, &opt, F->now, &err));
	assert_int_equal(err, IL_SBC_BRIDGE_ERR_EXISTS);
	il_sbc_call_leg_info li;
	assert_int_equal(il_sbc_call_get_leg(c[1], 0, &li), IL_SBC_OK);
	uint16_t freed = li.port;
	il_sbc_bridge_delete(F->b, c[1], "test", F->now);
	assert_false(F->open[freed - PORT_MIN]);
	assert_false(F->open[freed + 1 - PORT_MIN]);
	/* A datagram to a freed port belongs to no call. */
	il_addr local = a4(10, 0, 0, 5, freed), from = a4(198, 51, 100, 1, 9);
	uint8_t buf[200];
	size_t n = make_rtp(buf, 0, 1, 1);
	assert_int_equal(il_sbc_bridge_handle_datagram(F->b, &local, &from, buf, n, F->now),
			 IL_SBC_DGRAM_DROPPED);
	local.port = 1; /* out of the range */
	assert_int_equal(il_sbc_bridge_handle_datagram(F->b, &local, &from, buf, n, F->now),
			 IL_SBC_DGRAM_DROPPED);
	assert_non_null(il_sbc_bridge_create(F->b, "p6", 2, &opt, F->now, &err));
	assert_true(F->open[freed - PORT_MIN]);
}

static void test_port_taken_is_skipped(void **state)
{
	(void)state;
	F->refuse_port = PORT_MIN + 1; /* the RTCP port of the first pair */
	il_sbc_call_options opt = {0};
	int err;
	il_sbc_call *c = il_sbc_bridge_create(F->b, "t", 1, &opt, F->now, &err);
	assert_non_null(c);
	il_sbc_call_leg_info li;
	il_sbc_call_get_leg(c, 0, &li);
	assert_int_equal(li.port, PORT_MIN + 2);
	assert_false(F->open[0]); /* the RTP port of the refused pair was given back */
}

static void test_session_limit_and_private(void **state)
{
	(void)state;
	il_sbc_bridge_config c = fx_config();
	c.max_sessions = 1;
	il_sbc_bridge_callbacks cb = {.user = F, .random = fx_random, .send = fx_send,
				      .port_open = fx_open, .port_close = fx_close};
	/* The fixture's bridge holds no port: a second one may open them. */
	il_sbc_bridge *b = il_sbc_bridge_new(&c, &cb, NULL);
	assert_non_null(b);
	il_sbc_call_options opt = {0};
	int err;
	assert_non_null(il_sbc_bridge_create(b, "one", 3, &opt, F->now, &err));
	assert_null(il_sbc_bridge_create(b, "two", 3, &opt, F->now, &err));
	assert_int_equal(err, IL_SBC_BRIDGE_ERR_FULL);
	/* A private advertised address: refused, the old one kept. */
	il_addr priv = a4(192, 168, 0, 1, 0), pub = a4(198, 51, 100, 200, 0);
	assert_int_equal(il_sbc_bridge_set_advertised(b, &priv, false), IL_SBC_ERR_PRIVATE);
	assert_true(il_addr_equal(il_sbc_bridge_advertised(b), &c.sbc.advertised));
	assert_int_equal(il_sbc_bridge_set_advertised(b, &pub, false), IL_SBC_OK);
	assert_true(il_addr_equal(il_sbc_bridge_advertised(b), &pub));
	assert_int_equal(il_sbc_bridge_set_advertised(b, &priv, true), IL_SBC_OK);
	il_sbc_bridge_free(b);
	c.sbc.advertised = priv;
	assert_null(il_sbc_bridge_new(&c, &cb, &err));
	assert_int_equal(err, IL_SBC_ERR_PRIVATE);
}

static void test_media_timeout_ends_call(void **state)
{
	(void)state;
	offer_answer("call-t");
	uint64_t d = il_sbc_bridge_timer(F->b, F->now);
	assert_true(d <= F->now + 60000);
	il_sbc_bridge_timer(F->b, F->now + 30000);
	assert_int_equal(il_sbc_bridge_call_count(F->b), 1);
	il_sbc_bridge_timer(F->b, F->now + 60001);
	assert_int_equal(il_sbc_bridge_call_count(F->b), 0);
	assert_true(has_event(F, "\"reason\":\"media-timeout\""));
	for (int i = 0; i <= PORT_MAX - PORT_MIN; i++)
		assert_false(F->open[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_answer_sdp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_media_and_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_remove_and_rtcp_mux, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ports_exhaustion_and_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_taken_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_limit_and_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_media_timeout_ends_call, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
