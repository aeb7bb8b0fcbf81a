/* The ng keys of the media features (ref/sbc/ng_media.c) and held
 * commands (ng.c), against the bridge table and the real TURN server core
 * in memory: an ICE=force-relay offer is answered only once the
 * allocation is ready, with the relayed candidate alone; a retransmission
 * meanwhile does not run it twice; a refused allocation, a silent server
 * and a missing --turn-server give error replies and no call; the policy
 * by tenant and user; transport-protocol, SDES and DTLS flags choose the
 * profile toward leg B; query shows profile, SRTP and relay state. */
#include "sbc_test_util.h"

#include "icelab/bencode.h"
#include "icelab/sbc_bridge.h"
#include "icelab/sbc_relay.h"

#define PORT_MIN 40000
#define PORT_MAX 40063
#define TURN_USER "sbc"
#define TURN_PASS "s3cret"
#include "sbc_turn_test_util.h"
#define MAX_Q 256

static const char SDES_OFFER[] =
	"v=0\r\no=phone 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n"
	"m=audio 4000 RTP/SAVP 0\r\n"
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

typedef struct qd {
	il_addr local, remote;
	size_t len;
	uint8_t data[1500];
} qd;

typedef struct mx {
	il_sbc_bridge *b;
	il_sbc_ng *ng;
	il_sbc_policy *policy;
	t_turn_srv ts;
	il_addr turn;
	bool server_silent;
	uint64_t now;
	qd q[MAX_Q];
	size_t qn, pumped;
	char reply[64 * 1024];
	size_t reply_len;
	il_addr reply_to;
	size_t held_replies;
	il_benc_node nodes[4096];
} mx;

static mx *M;

/* The bridge's randomness: the TURN server's generator will do. */
static void m_random(void *user, uint8_t *out, size_t len)
{
	t_turn_random(&((mx *)user)->ts, out, len);
}

static void m_send(void *user, const il_addr *local, const il_addr *remote, const uint8_t *data,
		   size_t len)
{
	mx *m = user;
	if (m->qn == MAX_Q || len > sizeof m->q[0].data)
		return;
	qd *p = &m->q[m->qn++];
	p->local = *local;
	p->remote = *remote;
	p->len = len;
	memcpy(p->data, data, len);
}

static int m_open(void *user, const il_addr *local)
{
	(void)user, (void)local;
	return 0;
}

static void m_close(void *user, const il_addr *local)
{
	(void)user, (void)local;
}

/* ---- the TURN server core ---- */

static void srv_to_client(void *user, const il_five_tuple *ft, const uint8_t *data, size_t len)
{
	mx *m = user;
	il_sbc_bridge_handle_datagram(m->b, &ft->remote, &ft->local, data, len, m->now);
}

/* What the bridge sent to the TURN server, delivered (and its answers). */
static void pump(void)
{
	while (M->pumped < M->qn) {
		const qd *p = &M->q[M->pumped++];
		if (M->server_silent || !il_addr_equal(&p->remote, &M->turn))
			continue;
		il_five_tuple ft = {.local = M->turn, .remote = p->local,
				    .transport = IL_TRANSPORT_UDP};
		il_turn_server_handle_client(M->ts.srv, &ft, p->data, p->len, M->now);
	}
}

static void make(const char *password, bool with_turn)
{
	M = calloc(1, sizeof *M);
	M->now = 1000;
	M->turn = a4(198, 51, 100, 1, 3478);
	M->ts.relayed = a4(198, 51, 100, 1, 49200);
	M->ts.user = M;
	M->ts.to_client = srv_to_client;
	t_turn_srv_start(&M->ts, "icelab.test", 99);
	il_sbc_bridge_config c;
	memset(&c, 0, sizeof c);
	il_sbc_config_defaults(&c.sbc);
	c.sbc.advertised = a4(203, 0, 113, 10, 0);
	if (with_turn) {
		c.sbc.turn_server = M->turn;
		c.sbc.turn_username = TURN_USER;
		c.sbc.turn_password = password;
	}
	c.bind = a4(10, 0, 0, 5, 0);
	c.port_min = PORT_MIN;
	c.port_max = PORT_MAX;
	il_sbc_bridge_callbacks cb = {.user = M, .random = m_random, .send = m_send,
				      .port_open = m_open, .port_close = m_close};
	M->b = il_sbc_bridge_new(&c, &cb, NULL);
	assert_non_null(M->b);
	M->ng = il_sbc_ng_new(M->b);
	M->policy = il_sbc_policy_new();
	assert_non_null(M->ng);
	assert_non_null(M->policy);
	il_sbc_ng_set_policy(M->ng, M->policy);
}

static int teardown(void **state)
{
	(void)state;
	il_sbc_ng_free(M->ng);
	il_sbc_bridge_free(M->b);
	il_sbc_policy_free(M->policy);
	il_turn_server_free(M->ts.srv);
	free(M);
	return 0;
}

/* ---- ng ---- */

static void parse_reply(void)
{
	const char *sp = memchr(M->reply, ' ', M->reply_len);
	assert_non_null(sp);
	size_t off = (size_t)(sp + 1 - M->reply);
	int n = il_benc_parse(sp + 1, M->reply_len - off, M->nodes, 4096, NULL);
	assert_true(n > 0);
}

static void on_held_reply(void *user, const il_addr *to, const char *reply, size_t len)
{
	(void)user;
	M->held_replies++;
	M->reply_to = *to;
	memcpy(M->reply, reply, len);
	M->reply_len = len;
	parse_reply();
}

/* Builds "COOKIE dict" from key, value pairs ("flags" values are lists
 * of one); returns the reply's length (0: held). */
static size_t ng_send(const char *cookie, const char *command, ...)
{
	static char buf[32 * 1024];
	size_t cl = strlen(cookie);
	memcpy(buf, cookie, cl);
	buf[cl] = ' ';
	il_benc_writer w;
	il_benc_writer_init(&w, buf + cl + 1, sizeof buf - cl - 1);
	il_benc_begin_dict(&w);
	il_benc_kv_str(&w, "command", command);
	va_list ap;
	va_start(ap, command);
	const char *k;
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		il_benc_put_cstr(&w, k);
		if (!strcmp(k, "flags")) {
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
	il_addr from = a4(127, 0, 0, 1, 5060);
	M->reply_len = il_sbc_ng_handle_from(M->ng, &from, (const uint8_t *)buf, cl + 1 + w.len,
					     M->reply, sizeof M->reply, M->now);
	if (M->reply_len)
		parse_reply();
	return M->reply_len;
}

static bool result_is(const char *r)
{
	return il_benc_str_is(M->nodes, il_benc_dict_get(M->nodes, 0, "result"), r);
}

static const char *str(const char *key)
{
	static char out[8192];
	size_t len;
	const char *s = il_benc_dict_str(M->nodes, 0, key, &len);
	if (!s)
		return "";
	assert_true(len < sizeof out);
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

static void poll_ng(void)
{
	pump();
	il_sbc_ng_poll(M->ng, M->reply, sizeof M->reply, M->now, on_held_reply, NULL);
}

/* ---- force-relay ---- */

static void test_offer_held_until_relay_ready(void **state)
{
	(void)state;
	make(TURN_PASS, true);
	assert_int_equal(ng_send("k1", "offer", "call-id", "r1", "from-tag", "a", "ICE",
				 "force-relay", "sdp", PHONE_OFFER, NULL),
			 0);
	assert_int_equal(il_sbc_ng_held_count(M->ng), 1);
	/* The proxy retransmits: still held, the call not made twice. */
	assert_int_equal(ng_send("k1", "offer", "call-id", "r1", "from-tag", "a", "ICE",
				 "force-relay", "sdp", PHONE_OFFER, NULL),
			 0);
	assert_int_equal(il_sbc_bridge_call_count(M->b), 1);
	assert_int_equal(M->held_replies, 0);
	poll_ng();
	assert_int_equal(M->held_replies, 1);
	assert_int_equal(il_sbc_ng_held_count(M->ng), 0);
	assert_true(result_is("ok"));
	assert_memory_equal(M->reply, "k1 ", 3);
	il_addr proxy = a4(127, 0, 0, 1, 5060);
	assert_true(il_addr_equal(&M->reply_to, &proxy));
	const char *sdp = str("sdp");
	assert_non_null(strstr(sdp, "a=candidate:"));
	assert_non_null(strstr(sdp, " 198.51.100.1 49200 typ relay"));
	assert_null(strstr(sdp, "typ host"));
	assert_non_null(strstr(sdp, "m=audio 49200 "));
	assert_null(strstr(sdp, "10.0.0.5"));
	/* A late retransmission gets the same reply from the cache. */
	char first[8192];
	snprintf(first, sizeof first, "%.*s", (int)M->reply_len, M->reply);
	assert_true(ng_send("k1", "offer", "call-id", "r1", "from-tag", "a", "ICE", "force-relay",
			    "sdp", PHONE_OFFER, NULL) > 0);
	assert_memory_equal(M->reply, first, M->reply_len);
	/* query: leg B relayed there. */
	assert_true(ng_send("k2", "query", "call-id", "r1", NULL) > 0);
	assert_non_null(memmem(M->reply, M->reply_len, "5:state5:ready", 14));
	assert_non_null(memmem(M->reply, M->reply_len, "7:relayed18:198.51.100.1:49200", 30));
}

static void test_relay_refused_and_silent(void **state)
{
	(void)state;
	make("wrong", true);
	assert_int_equal(ng_send("k1", "offer", "call-id", "f1", "from-tag", "a", "ICE",
				 "force-relay", "sdp", PHONE_OFFER, NULL),
			 0);
	poll_ng();
	assert_int_equal(M->held_replies, 1);
	assert_true(result_is("error"));
	assert_non_null(strstr(str("error-reason"), "401"));
	assert_int_equal(il_sbc_bridge_call_count(M->b), 0); /* the offer made it: gone */
	/* A silent server: an error after the hold time. */
	M->server_silent = true;
	assert_int_equal(ng_send("k2", "offer", "call-id", "f2", "from-tag", "a", "ICE",
				 "force-relay", "sdp", PHONE_OFFER, NULL),
			 0);
	M->now += 9000;
	poll_ng();
	assert_int_equal(M->held_replies, 1);
	M->now += 1001;
	poll_ng();
	assert_int_equal(M->held_replies, 2);
	assert_true(result_is("error"));
	assert_non_null(strstr(str("error-reason"), "force-relay"));
	assert_int_equal(il_sbc_bridge_call_count(M->b), 0);
	assert_int_equal(il_sbc_ng_held_count(M->ng), 0);
}

static void test_no_turn_server(void **state)
{
	(void)state;
	make(TURN_PASS, false);
	assert_true(ng_send("k1", "offer", "call-id", "n1", "from-tag", "a", "ICE", "force-relay",
			    "sdp", PHONE_OFFER, NULL) > 0);
	assert_true(result_is("error"));
	assert_non_null(strstr(str("error-reason"), "--turn-server"));
	assert_int_equal(il_sbc_bridge_call_count(M->b), 0);
}

static void test_policy_tenant_and_user(void **state)
{
	(void)state;
	make(TURN_PASS, true);
	assert_int_equal(il_sbc_policy_load(M->policy,
					    "force-relay tenant=acme\nno-force-relay user=bob\n",
					    NULL, 0),
			 0);
	/* The tenant as a word of flags: relayed (held). */
	assert_int_equal(ng_send("k1", "offer", "call-id", "p1", "from-tag", "a", "ICE", "force",
				 "flags", "tenant=acme", "sdp", PHONE_OFFER, NULL),
			 0);
	poll_ng();
	assert_true(result_is("ok"));
	assert_non_null(strstr(str("sdp"), "typ relay"));
	/* The user's rule beats the tenant's: a host candidate at once. */
	assert_true(ng_send("k2", "offer", "call-id", "p2", "from-tag", "a", "ICE", "force",
			    "tenant", "acme", "user", "bob", "sdp", PHONE_OFFER, NULL) > 0);
	assert_true(result_is("ok"));
	assert_non_null(strstr(str("sdp"), "typ host"));
	assert_null(strstr(str("sdp"), "typ relay"));
	/* Another tenant: not relayed. */
	assert_true(ng_send("k3", "offer", "call-id", "p3", "from-tag", "a", "ICE", "force",
			    "tenant", "other", "sdp", PHONE_OFFER, NULL) > 0);
	assert_null(strstr(str("sdp"), "typ relay"));
}

/* ---- profiles ---- */

static void test_profiles(void **state)
{
	(void)state;
	make(TURN_PASS, false);
	/* SDES toward a plain leg. */
	assert_true(ng_send("k1", "offer", "call-id", "s1", "from-tag", "a", "transport-protocol",
			    "RTP/AVP", "sdp", SDES_OFFER, NULL) > 0);
	assert_true(result_is("ok"));
	assert_non_null(strstr(str("sdp"), "m=audio 40002 RTP/AVP 0\r\n"));
	assert_null(strstr(str("sdp"), "a=crypto"));
	assert_true(ng_send("k2", "query", "call-id", "s1", NULL) > 0);
	assert_non_null(memmem(M->reply, M->reply_len, "7:profile4:sdes", 15));
	assert_non_null(memmem(M->reply, M->reply_len, "4:SRTPd6:rx key3:yes", 20));
	/* Plain toward SDES (RTP/SAVPF), and with SDES off: DTLS-SRTP. */
	assert_true(ng_send("k3", "offer", "call-id", "s2", "from-tag", "a", "transport-protocol",
			    "RTP/SAVPF", "sdp", PHONE_OFFER, NULL) > 0);
	assert_non_null(strstr(str("sdp"), "RTP/SAVP"));
	assert_non_null(strstr(str("sdp"), "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_true(ng_send("k4", "offer", "call-id", "s3", "from-tag", "a", "transport-protocol",
			    "RTP/SAVP", "SDES", "off", "sdp", PHONE_OFFER, NULL) > 0);
	assert_non_null(strstr(str("sdp"), "UDP/TLS/RTP/SAVPF"));
	assert_non_null(strstr(str("sdp"), "a=fingerprint:sha-256 "));
	assert_null(strstr(str("sdp"), "a=crypto"));
	/* Both off with an SRTP protocol; an unknown protocol. */
	assert_true(ng_send("k5", "offer", "call-id", "s4", "from-tag", "a", "transport-protocol",
			    "RTP/SAVP", "SDES", "off", "flags", "DTLS=off", "sdp", PHONE_OFFER,
			    NULL) > 0);
	assert_true(result_is("error"));
	assert_non_null(strstr(str("error-reason"), "both SDES and DTLS off"));
	assert_true(ng_send("k6", "offer", "call-id", "s5", "from-tag", "a", "transport-protocol",
			    "RTP/XYZ", "sdp", PHONE_OFFER, NULL) > 0);
	assert_true(result_is("error"));
	assert_int_equal(il_sbc_bridge_call_count(M->b), 3);
	/* No transport-protocol: leg A's SDES, turned to DTLS by SDES-off. */
	assert_true(ng_send("k7", "offer", "call-id", "s6", "from-tag", "a", "flags", "SDES-off",
			    "sdp", SDES_OFFER, NULL) > 0);
	assert_non_null(strstr(str("sdp"), "UDP/TLS/RTP/SAVPF"));
	/* ... and as offered without flags. */
	assert_true(ng_send("k8", "offer", "call-id", "s7", "from-tag", "a", "sdp", SDES_OFFER,
			    NULL) > 0);
	assert_non_null(strstr(str("sdp"), "RTP/SAVP 0"));
	assert_non_null(strstr(str("sdp"), "a=crypto:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_offer_held_until_relay_ready, teardown),
		cmocka_unit_test_teardown(test_relay_refused_and_silent, teardown),
		cmocka_unit_test_teardown(test_no_turn_server, teardown),
		cmocka_unit_test_teardown(test_policy_tenant_and_user, teardown),
		cmocka_unit_test_teardown(test_profiles, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
