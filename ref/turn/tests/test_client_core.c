/* Unit tests of the TURN client core (RFC 8656 §7-§12, RFC 8489 §9.2)
 * against a scripted fake server: each test reads what the client sent,
 * checks it against the RFC, and answers with messages built by the
 * codec's builder. Virtual time, deterministic randomness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/channeldata.h"
#include "icelab/stun_integrity.h"
#include "icelab/turn_client.h"

#define MAX_SENT 64
#define SENT_CAP 2048
#define MAX_EVENTS 32

static const char *const USER = "alice";
static const char *const PASS = "secret";
static const char *const REALM = "example.org";

typedef struct harness {
	il_turn_client *c;
	il_turn_client_config cfg;
	uint64_t now;
	uint32_t rng;
	uint8_t sent[MAX_SENT][SENT_CAP];
	size_t sent_len[MAX_SENT];
	unsigned nsent;
	il_turn_client_event events[MAX_EVENTS];
	char reasons[MAX_EVENTS][128];
	unsigned nevents;
	il_addr data_peer;
	uint8_t data[256];
	size_t data_len;
	unsigned ndata;
} harness;

static harness h;

/* ---- the client's side of the harness ---- */

static void cb_random(void *user, uint8_t *out, size_t len)
{
	harness *x = user;
	for (size_t i = 0; i < len; i++) {
		x->rng = x->rng * 1103515245u + 12345u;
		out[i] = (uint8_t)(x->rng >> 16);
	}
}

static void cb_send(void *user, const uint8_t *data, size_t len)
{
	harness *x = user;
	assert_true(x->nsent < MAX_SENT);
	assert_true(len <= SENT_CAP);
	memcpy(x->sent[x->nsent], data, len);
	x->sent_len[x->nsent++] = len;
}

static void cb_event(void *user, const il_turn_client_event *ev)
{
	harness *x = user;
	assert_true(x->nevents < MAX_EVENTS);
	x->events[x->nevents] = *ev;
	snprintf(x->reasons[x->nevents], sizeof x->reasons[0], "%s", ev->reason);
	x->events[x->nevents].reason = x->reasons[x->nevents];
	x->nevents++;
}

static void cb_data(void *user, const il_addr *peer, const uint8_t *data, size_t len)
{
	harness *x = user;
	x->data_peer = *peer;
	assert_true(len <= sizeof x->data);
	memcpy(x->data, data, len);
	x->data_len = len;
	x->ndata++;
}

static void config_defaults(void)
{
	memset(&h, 0, sizeof h);
	h.rng = 42;
	h.now = 1000;
	il_turn_client_config_defaults(&h.cfg);
	h.cfg.username = USER;
	h.cfg.password = PASS;
	h.cfg.software = "icelab-test";
}

static void start_client(void)
{
	il_turn_client_callbacks cb = {.user = &h, .random = cb_random, .send = cb_send,
				       .event = cb_event, .data = cb_data};
	h.cfg.txn.reliable = h.cfg.stream;
	h.c = il_turn_client_new(&h.cfg, &cb);
	assert_non_null(h.c);
}

static int teardown(void **state)
{
	(void)state;
	il_turn_client_free(h.c);
	h.c = NULL;
	return 0;
}

static void run_until(uint64_t t)
{
	for (;;) {
		uint64_t d = il_turn_client_next_deadline(h.c);
		if (d > t)
			break;
		h.now = d;
		il_turn_client_timer(h.c, h.now);
	}
	h.now = t;
}

static const il_turn_client_event *last_event(void)
{
	assert_true(h.nevents > 0);
	return &h.events[h.nevents - 1];
}

/* ---- the fake server ---- */

static il_addr addr(const char *text)
{
	il_addr a;
	assert_int_equal(il_addr_parse(text, &a), 0);
	return a;
}

/* Decodes message i the client sent (-1: the last). */
static const il_stun_msg *sent_msg(int i)
{
	static il_stun_msg msg;
	unsigned k = i < 0 ? h.nsent - (unsigned)(-i) : (unsigned)i;
	assert_true(k < h.nsent);
	assert_int_equal(il_stun_decode(h.sent[k], h.sent_len[k], &msg, NULL), IL_STUN_OK);
	return &msg;
}

static bool has_attr(const il_stun_msg *m, uint16_t type)
{
	return il_stun_msg_find(m, type) != NULL;
}

static void attr_text(const il_stun_msg *m, uint16_t type, char *out, size_t cap)
{
	const il_stun_attr *a = il_stun_msg_find(m, type);
	assert_non_null(a);
	assert_true(a->length < cap);
	memcpy(out, il_stun_attr_value(m, a), a->length);
	out[a->length] = '\0';
}

static uint32_t attr_u32(const il_stun_msg *m, uint16_t type)
{
	const il_stun_attr *a = il_stun_msg_find(m, type);
	uint32_t v = 0;
	assert_non_null(a);
	assert_int_equal(il_stun_attr_get_u32(m, a, &v), IL_STUN_OK);
	return v;
}

enum mi_mode { MI_NONE, MI_SHA1, MI_SHA256, MI_BAD };

typedef struct reply {
	il_stun_builder b;
	uint8_t buf[SENT_CAP];
} reply;

static reply r;

static void reply_begin(const il_stun_msg *req, uint8_t cls)
{
	il_stun_builder_init(&r.b, r.buf, sizeof r.buf, req->method, cls, req->tid);
}

static il_stun_key server_key(enum il_stun_password_algorithm alg)
{
	il_stun_key key;
	assert_int_equal(il_stun_key_long_term(&key, alg, USER, REALM, PASS), IL_STUN_OK);
	return key;
}

/* Seals the reply with integrity and delivers it; returns the client's
 * answer (1 used, 0 dropped). */
static int reply_deliver(enum mi_mode mode, enum il_stun_password_algorithm alg)
{
	il_stun_key key = server_key(alg);
	if (mode == MI_SHA1)
		il_stun_add_message_integrity(&r.b, &key);
	else if (mode == MI_SHA256)
		il_stun_add_message_integrity_sha256(&r.b, &key, 32);
	else if (mode == MI_BAD) {
		il_stun_key wrong;
		assert_int_equal(il_stun_key_long_term(&wrong, alg, USER, REALM, "wrong"), IL_STUN_OK);
		il_stun_add_message_integrity(&r.b, &wrong);
	}
	enum il_stun_err err;
	size_t len = il_stun_builder_finish(&r.b, &err);
	assert_int_equal(err, IL_STUN_OK);
	if (h.cfg.stream)
		return il_turn_client_handle_stream(h.c, r.buf, len, h.now);
	return il_turn_client_handle_datagram(h.c, r.buf, len, h.now);
}

static void reply_error(const il_stun_msg *req, int code, const char *reason)
{
	reply_begin(req, IL_STUN_ERROR);
	il_stun_add_error_code(&r.b, code, reason);
}

static char nonce_text[64];

/* A 401 challenge. With algs, a nonce cookie announcing them. */
static int reply_401(const il_stun_msg *req, const uint16_t *algs, size_t nalgs,
		     uint32_t extra_features)
{
	reply_error(req, 401, "Unauthenticated");
	il_stun_add_string(&r.b, IL_ATTR_REALM, REALM, strlen(REALM));
	uint32_t features = extra_features | (nalgs ? IL_STUN_FEATURE_PASSWORD_ALGORITHMS : 0);
	if (features) {
		il_stun_nonce_cookie_write(features, nonce_text);
		memcpy(nonce_text + IL_STUN_NONCE_COOKIE_LEN, "n0nce1", 7);
	} else {
		snprintf(nonce_text, sizeof nonce_text, "n0nce1");
	}
	il_stun_add_string(&r.b, IL_ATTR_NONCE, nonce_text, strlen(nonce_text));
	if (nalgs)
		il_stun_add_password_algorithms(&r.b, algs, nalgs);
	return reply_deliver(MI_NONE, IL_STUN_PWALG_MD5);
}

static const char *const RELAYED = "198.51.100.1:50000";
static const char *const MAPPED = "203.0.113.5:40000";
static const char *const PEER = "192.0.2.10:7000";

static int reply_allocate_ok(const il_stun_msg *req, enum mi_mode mode,
			     enum il_stun_password_algorithm alg, uint32_t lifetime)
{
	reply_begin(req, IL_STUN_SUCCESS);
	il_addr relayed = addr(RELAYED), mapped = addr(MAPPED);
	il_stun_add_xor_addr(&r.b, IL_ATTR_XOR_RELAYED_ADDRESS, &relayed);
	il_stun_add_xor_addr(&r.b, IL_ATTR_XOR_MAPPED_ADDRESS, &mapped);
	il_stun_add_u32(&r.b, IL_ATTR_LIFETIME, lifetime);
	return reply_deliver(mode, alg);
}

static int reply_ok(const il_stun_msg *req, enum mi_mode mode)
{
	reply_begin(req, IL_STUN_SUCCESS);
	if (req->method == IL_STUN_REFRESH)
		il_stun_add_u32(&r.b, IL_ATTR_LIFETIME, 600);
	return reply_deliver(mode, IL_STUN_PWALG_MD5);
}

/* Allocate, 401 (MD5, no list), allocated: the common start. */
static void allocate_md5(void)
{
	start_client();
	assert_int_equal(il_turn_client_allocate(h.c, h.now), IL_TURN_CLIENT_OK);
	assert_int_equal(reply_401(sent_msg(-1), NULL, 0, 0), 1);
	assert_int_equal(reply_allocate_ok(sent_msg(-1), MI_SHA1, IL_STUN_PWALG_MD5, 600), 1);
	assert_int_equal(il_turn_client_get_state(h.c), IL_TURN_CLIENT_ALLOCATED);
}

static void install_permission(const char *peer_text)
{
	il_addr peer = addr(peer_text);
	assert_int_equal(il_turn_client_create_permission(h.c, &peer, 1, h.now), IL_TURN_CLIENT_OK);
	assert_int_equal(reply_ok(sent_msg(-1), MI_SHA1), 1);
	assert_true(il_turn_client_has_permission(h.c, &peer));
}

/* ---- allocation and credentials ---- */

/* RFC 8489 §9.2.3.1: "the first request is sent as if there were no
 * authentication or message integrity applied"; RFC 8656 §7.1: it carries
 * REQUESTED-TRANSPORT UDP (17). */
static void test_first_allocate_carries_no_credentials(void **state)
{
	(void)state;
	config_defaults();
	start_client();
	assert_int_equal(il_turn_client_allocate(h.c, h.now), IL_TURN_CLIENT_OK);
	assert_int_equal(h.nsent, 1);
	const il_stun_msg *m = sent_msg(0);
	assert_int_equal(m->method, IL_STUN_ALLOCATE);
	assert_int_equal(m->cls, IL_STUN_REQUEST);
	assert_int_equal(attr_u32(m, IL_ATTR_REQUESTED_TRANSPORT), 17u << 24);
	assert_true(has_attr(m, IL_ATTR_SOFTWARE));
	static const uint16_t absent[] = {IL_ATTR_USERNAME, IL_ATTR_USERHASH, IL_ATTR_REALM,
					  IL_ATTR_NONCE, IL_ATTR_MESSAGE_INTEGRITY,
					  IL_ATTR_MESSAGE_INTEGRITY_SHA256,
					  IL_ATTR_PASSWORD_ALGORITHMS, IL_ATTR_PASSWORD_ALGORITHM};
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
		assert_false(has_attr(m, absent[i]));
	assert_int_equal(il_turn_client_get_state(h.c), IL_TURN_CLIENT_ALLOCATING);
}

/* RFC 8489 §9.2.5: on 401 retry with a new transaction carrying USERNAME,
 * REALM and NONCE copied from the response, and MESSAGE-INTEGRITY; the
 * success response gives relayed and mapped addresses and the lifetime
 * (RFC 8656 §7.3). */
static void test_allocate_retries_with_credentials_after_401(void **state)
{
	(void)state;
	config_defaults();
	start_client();
	assert_int_equal(il_turn_client_allocate(h.c, h.now), IL_TURN_CLIENT_OK);
	uint8_t first_tid[IL_STUN_TID_LEN];
	memcpy(first_tid, sent_msg(0)->tid, sizeof first_tid);
	assert_int_equal(reply_401(sent_msg(0), NULL, 0, 0), 1);
	assert_int_equal(h.nsent, 2);
	const il_stun_msg *m = sent_msg(1);
	assert_int_equal(m->method, IL_STUN_ALLOCATE);
	assert_memory_not_equal(m->tid, first_tid, IL_STUN_TID_LEN);
	char text[128];
	attr_text(m, IL_ATTR_USERNAME, text, sizeof text);
	assert_string_equal(text, USER);
	attr_text(m, IL_ATTR_REALM, text, sizeof text);
	assert_string_equal(text, REALM);
	attr_text(m, IL_ATTR_NONCE, text, sizeof text);
	assert_string_equal(text, "n0nce1");
	assert_false(has_attr(m, IL_ATTR_PASSWORD_ALGORITHM));
	il_stun_key key = server_key(IL_STUN_PWALG_MD5);
	assert_int_equal(il_stun_check_integrity(m, &key), IL_STUN_VERDICT_OK);
	assert_int_equal(il_stun_check_integrity_sha256(m, &key), IL_STUN_VERDICT_ABSENT);

	assert_int_equal(reply_allocate_ok(m, MI_SHA1, IL_STUN_PWALG_MD5, 600), 1);
	assert_int_equal(h.nevents, 1);
	const il_turn_client_event *ev = last_event();
	assert_int_equal(ev->type, IL_TURN_CLIENT_EV_ALLOCATED);
	assert_int_equal(ev->relayed_count, 1);
	il_addr relayed = addr(RELAYED), mapped = addr(MAPPED);
	assert_true(il_addr_equal(&ev->relayed[0], &relayed));
	assert_true(il_addr_equal(&ev->mapped, &mapped));
	assert_int_equal(ev->lifetime_s, 600);
	assert_true(il_addr_equal(il_turn_client_relayed(h.c, IL_AF_INET), &relayed));
}

/* A 401 to a request that already carried our credentials, with the same
 * realm: "The client MUST NOT perform this retry if it is not changing the
 * USERNAME, USERHASH, REALM, or its associated password" (§9.2.5). */
static void test_401_to_credentials_with_same_realm_fails_without_retry(void **state)
{
	(void)state;
	config_defaults();
	start_client();
	il_turn_client_allocate(h.c, h.now);
	reply_401(sent_msg(-1), NULL, 0, 0);
	assert_int_equal(h.nsent, 2);
	reply_401(sent_msg(-1), NULL, 0, 0);
	assert_int_equal(h.nsent, 2);
	const il_turn_client_event *ev = last_event();
	assert_int_equal(ev->type, IL_TURN_CLIENT_EV_ALLOCATE_FAILED);
	assert_int_equal(ev->failure, IL_TURN_CLIENT_FAIL_ERROR_RESPONSE);
	assert_int_equal(ev->error_code, 401);
	assert_int_equal(il_turn_client_get_state(h.c), IL_TURN_CLIENT_RELEASED);
}

/* "If the response is an error response with an error code of 438 (Stale
 * Nonce), the client MUST retry the request, using the new NONCE" */
static void test_stale_nonce_438_retries_once_with_new_nonce(void **state)
{
	(void)state;
	config_defaults();
	start_client();
	il_turn_client_allocate(h.c, h.now);
	reply_401(sent_msg(-1), NULL, 0, 0);
	reply_error(sent_msg(-1), 438, "Stale Nonce");
	il_stun_add_string(&r.b, IL_ATTR_REALM, REALM, strlen(REALM));
	il_stun_add_string(&r.b, IL_ATTR_NONCE, "n0nce2", 6);
	assert_int_equal(reply_deliver(MI_NONE, IL_STUN_PWALG_MD5), 1);
	assert_int_equal(h.nsent, 3);
	const il_stun_msg *m = sent_msg(2);
	char text[64];
	attr_text(m, IL_ATTR_NONCE, text, sizeof text);
	assert_string_equal(text, "n0nce2");
	il_stun_key key = server_key(IL_STUN_PWALG_MD5);
	assert_int_equal(il_stun_check_integrity(m, &key), IL_STUN_VERDICT_OK);
	assert_int_equal(h.nevents, 0);
	/* One retry: whatever goes out later is a retransmission of it. */
	run_until(h.now + 400);
	for (unsigned i = 3; i < h.nsent; i++)
		assert_memory_equal(h.sent[i], h.sent[2], h.sent_len[2]);
	reply_allocate_ok(m, MI_SHA1, IL_STUN_PWALG_MD5, 600);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_ALLOCATED);
}

/* The 438 retries are bounded (max_nonce_retries): a server answering 438
 * forever does not get a request storm. */
static void test_stale_nonce_retries_are_bounded(void **state)
{
	(void)state;
	config_defaults();
	h.cfg.max_nonce_retries = 2;
	start_client();
	il_turn_client_allocate(h.c, h.now);
	reply_401(sent_msg(-1), NULL, 0, 0);
	for (int i = 0; i < 3; i++) {
		reply_error(sent_msg(-1), 438, "Stale Nonce");
		il_stun_add_string(&r.b, IL_ATTR_REALM, REALM, strlen(REALM));
		il_stun_add_string(&r.b, IL_ATTR_NONCE, "again", 5);
		reply_deliver(MI_NONE, IL_STUN_PWALG_MD5);
	}
	assert_int_equal(h.nsent, 4); /* first, credentials, two 438 retries */
	const il_turn_client_event *ev = last_event();
	assert_int_equal(ev->type, IL_TURN_CLIENT_EV_ALLOCATE_FAILED);
	assert_int_equal(ev->error_code, 438);
}

/* §9.2.5: PASSWORD-ALGORITHMS copied as received, PASSWORD-ALGORITHM the
 * first supported on the list, and "all the subsequent requests MUST be
 * authenticated using MESSAGE-INTEGRITY-SHA256 only". */
static void test_sha256_chosen_when_offered(void **state)
{
	(void)state;
	config_defaults();
	start_client();
	il_turn_client_allocate(h.c, h.now);
	const uint16_t algs[] = {IL_STUN_PWALG_SHA256, IL_STUN_PWALG_MD5};
	reply_401(sent_msg(-1), algs, 2, 0);
	const il_stun_msg *m = sent_msg(-1);
	const il_stun_attr *a = il_stun_msg_find(m, IL_ATTR_PASSWORD_ALGORITHMS);
	assert_non_null(a);
	static const uint8_t expected_list[] = {0, 2, 0, 0, 0, 1, 0, 0};
	assert_int_equal(a->length, sizeof expected_list);
	assert_memory_equal(il_stun_attr_value(m, a), expected_list, sizeof expected_list);
	uint16_t alg = 0;
	assert_int_equal(il_stun_attr_get_password_algorithm(
				 m, il_stun_msg_find(m, IL_ATTR_PASSWORD_ALGORITHM), &alg),
			 IL_STUN_OK);
	assert_int_equal(alg, IL_STUN_PWALG_SHA256);
	il_stun_key key = server_key(IL_STUN_PWALG_SHA256);
	assert_int_equal(il_stun_check_integrity_sha256(m, &key), IL_STUN_VERDICT_OK);
	assert_false(has_attr(m, IL_ATTR_MESSAGE_INTEGRITY));
	assert_int_equal(reply_allocate_ok(m, MI_SHA256, IL_STUN_PWALG_SHA256, 600), 1);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_ALLOCATED);
	/* A later request keeps SHA-256. */
	il_addr peer = addr(PEER);
	il_turn_client_create_permission(h.c, &peer, 1, h.now);
	assert_int_equal(il_stun_check_integrity_sha256(sent_msg(-1), &key), IL_STUN_VERDICT_OK);
}

/* "the first algorithm supported on the list": the server's order rules
 * (MD5 first is honoured); with allow_md5 off, MD5 is unsupported and
 * SHA-256 is chosen wherever it stands. */
static void test_first_supported_algorithm_follows_server_order(void **state)
{
	(void)state;
	const uint16_t algs[] = {IL_STUN_PWALG_MD5, IL_STUN_PWALG_SHA256};
	for (int allow_md5 = 1; allow_md5 >= 0; allow_md5--) {
		config_defaults();
		h.cfg.allow_md5 = allow_md5;
		start_client();
		il_turn_client_allocate(h.c, h.now);
		reply_401(sent_msg(-1), algs, 2, 0);
		const il_stun_msg *m = sent_msg(-1);
		uint16_t alg = 0;
		il_stun_attr_get_password_algorithm(m, il_stun_msg_find(m, IL_ATTR_PASSWORD_ALGORITHM),
						    &alg);
		assert_int_equal(alg, allow_md5 ? IL_STUN_PWALG_MD5 : IL_STUN_PWALG_SHA256);
		il_stun_key key = server_key(alg);
		assert_int_equal(il_stun_check_integrity_sha256(m, &key), IL_STUN_VERDICT_OK);
		il_turn_client_free(h.c);
		h.c = NULL;
	}
}

/* "If so and the "nonce cookie" has the STUN Security Feature "Password
 * algorithms" bit set to 1 but no PASSWORD-ALGORITHMS attribute is
 * present, then the client MUST NOT retry the request" (bid-down). */
static void test_no_retry_when_cookie_announces_algorithms_but_list_is_missing(void **state)
{
	(void)state;
	config_defaults();
	start_client();
	il_turn_client_allocate(h.c, h.now);
	reply_401(sent_msg(-1), NULL, 0, IL_STUN_FEATURE_PASSWORD_ALGORITHMS);
	assert_int_equal(h.nsent, 1);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_ALLOCATE_FAILED);
	assert_int_equal(last_event()->failure, IL_TURN_CLIENT_FAIL_AUTH);
}

/* With allow_md5 off, a server offering MD5 only is refused. */
static void test_md5_only_server_refused_when_md5_disallowed(void **state)
{
	(void)state;
	config_defaults();
	h.cfg.allow_md5 = false;
	start_client();
	il_turn_client_allocate(h.c, h.now);
	reply_401(sent_msg(-1), NULL, 0, 0);
	assert_int_equal(h.nsent, 1);
	assert_int_equal(last_event()->failure, IL_TURN_CLIENT_FAIL_AUTH);
}

/* "If the "nonce cookie" is present and has the STUN Security Feature
 * "Username anonymity" bit set to 1, then the USERHASH attribute MUST be
 * used" */
static void test_userhash_used_when_nonce_cookie_asks_for_anonymity(void **state)
{
	(void)state;
	config_defaults();
	start_client();
	il_turn_client_allocate(h.c, h.now);
	const uint16_t algs[] = {IL_STUN_PWALG_SHA256};
	reply_401(sent_msg(-1), algs, 1, IL_STUN_FEATURE_USERNAME_ANONYMITY);
	const il_stun_msg *m = sent_msg(-1);
	assert_false(has_attr(m, IL_ATTR_USERNAME));
	const il_stun_attr *a = il_stun_msg_find(m, IL_ATTR_USERHASH);
	assert_non_null(a);
	uint8_t expected[32];
	assert_int_equal(il_stun_userhash(USER, REALM, expected), IL_STUN_OK);
	assert_int_equal(a->length, 32);
	assert_memory_equal(il_stun_attr_value(m, a), expected, 32);
}

/* §9.2.5: a response whose integrity does not verify is discarded "as if
 * it had never been received. This means that retransmits, if applicable,
 * will continue." Then the genuine response is accepted. */
static void test_response_without_valid_integrity_ignored(void **state)
{
	(void)state;
	config_defaults();
	start_client();
	il_turn_client_allocate(h.c, h.now);
	reply_401(sent_msg(-1), NULL, 0, 0);
	const il_stun_msg *req = sent_msg(-1);
	il_stun_msg saved = *req;
	uint8_t saved_buf[SENT_CAP];
	memcpy(saved_buf, h.sent[h.nsent - 1], h.sent_len[h.nsent - 1]);
	saved.buf = saved_buf;
	saved.tid = saved_buf + 8;
	unsigned sends = h.nsent;
	assert_int_equal(reply_allocate_ok(&saved, MI_BAD, IL_STUN_PWALG_MD5, 600), 0);
	assert_int_equal(reply_allocate_ok(&saved, MI_NONE, IL_STUN_PWALG_MD5, 600), 0);
	assert_int_equal(h.nevents, 0);
	assert_int_equal(il_turn_client_get_state(h.c), IL_TURN_CLIENT_ALLOCATING);
	run_until(h.now + 500);
	assert_true(h.nsent > sends); /* retransmitted */
	assert_memory_equal(h.sent[h.nsent - 1], saved_buf, h.sent_len[sends - 1]);
	assert_int_equal(reply_allocate_ok(&saved, MI_SHA1, IL_STUN_PWALG_MD5, 600), 1);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_ALLOCATED);
}

/* "If the response is an error response with an error code of 400 (Bad
 * Request) and does not contain either the MESSAGE-INTEGRITY or
 * MESSAGE-INTEGRITY-SHA256 attribute, then the response MUST be discarded"
 * ... "the 400 response will never reach the application, resulting in a
 * timeout." */
static void test_400_without_integrity_discarded_until_timeout(void **state)
{
	(void)state;
	config_defaults();
	start_client();
	il_turn_client_allocate(h.c, h.now);
	uint64_t t0 = h.now;
	reply_error(sent_msg(-1), 400, "Bad Request");
	assert_int_equal(reply_deliver(MI_NONE, IL_STUN_PWALG_MD5), 0);
	assert_int_equal(h.nevents, 0);
	run_until(t0 + 39500);
	assert_int_equal(h.nsent, 7);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_ALLOCATE_FAILED);
	/* every response discarded: "the layer MUST signal that the integrity
	 * protection was violated" */
	assert_int_equal(last_event()->failure, IL_TURN_CLIENT_FAIL_INTEGRITY);
}

/* Over TCP a response failing integrity ends the transaction at once. */
static void test_tcp_response_failing_integrity_ends_allocate(void **state)
{
	(void)state;
	config_defaults();
	h.cfg.stream = true;
	start_client();
	il_turn_client_allocate(h.c, h.now);
	reply_401(sent_msg(-1), NULL, 0, 0);
	assert_int_equal(h.nsent, 2);
	reply_allocate_ok(sent_msg(-1), MI_BAD, IL_STUN_PWALG_MD5, 600);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_ALLOCATE_FAILED);
	assert_int_equal(last_event()->failure, IL_TURN_CLIENT_FAIL_INTEGRITY);
}

/* RFC 8656 §7.4: 300 Try Alternate is reported with ALTERNATE-SERVER;
 * other errors with their code and reason. */
static void test_try_alternate_and_errors_reported_with_code_and_reason(void **state)
{
	(void)state;
	config_defaults();
	start_client();
	il_turn_client_allocate(h.c, h.now);
	reply_error(sent_msg(-1), 300, "Try Alternate");
	il_addr alt = addr("192.0.2.99:3478");
	il_stun_add_addr(&r.b, IL_ATTR_ALTERNATE_SERVER, &alt);
	assert_int_equal(reply_deliver(MI_NONE, IL_STUN_PWALG_MD5), 1);
	const il_turn_client_event *ev = last_event();
	assert_int_equal(ev->type, IL_TURN_CLIENT_EV_ALLOCATE_FAILED);
	assert_int_equal(ev->error_code, 300);
	assert_true(il_addr_equal(&ev->alternate, &alt));
	il_turn_client_free(h.c);

	config_defaults();
	start_client();
	il_turn_client_allocate(h.c, h.now);
	reply_401(sent_msg(-1), NULL, 0, 0);
	reply_error(sent_msg(-1), 486, "Allocation Quota Reached");
	assert_int_equal(reply_deliver(MI_SHA1, IL_STUN_PWALG_MD5), 1);
	ev = last_event();
	assert_int_equal(ev->type, IL_TURN_CLIENT_EV_ALLOCATE_FAILED);
	assert_int_equal(ev->failure, IL_TURN_CLIENT_FAIL_ERROR_RESPONSE);
	assert_int_equal(ev->error_code, 486);
	assert_string_equal(ev->reason, "Allocation Quota Reached");
}

/* §7.4 420: the server does not know DONT-FRAGMENT: retry without it. */
static void test_dont_fragment_dropped_after_420(void **state)
{
	(void)state;
	config_defaults();
	h.cfg.dont_fragment = true;
	start_client();
	il_turn_client_allocate(h.c, h.now);
	reply_401(sent_msg(-1), NULL, 0, 0);
	assert_true(has_attr(sent_msg(-1), IL_ATTR_DONT_FRAGMENT));
	reply_error(sent_msg(-1), 420, "Unknown Attribute");
	const uint16_t unknown[] = {IL_ATTR_DONT_FRAGMENT};
	il_stun_add_unknown_attributes(&r.b, unknown, 1);
	assert_int_equal(reply_deliver(MI_SHA1, IL_STUN_PWALG_MD5), 1);
	assert_int_equal(h.nsent, 3);
	assert_false(has_attr(sent_msg(-1), IL_ATTR_DONT_FRAGMENT));
	assert_int_equal(h.nevents, 0);
}

/* §7.1: the options the caller asks for, encoded as §18 says. */
static void test_allocate_options_encoded(void **state)
{
	(void)state;
	config_defaults();
	h.cfg.requested_family = IL_AF_INET6;
	h.cfg.even_port = true;
	h.cfg.reserve_next = true;
	h.cfg.lifetime_s = 1200;
	start_client();
	il_turn_client_allocate(h.c, h.now);
	const il_stun_msg *m = sent_msg(-1);
	assert_int_equal(attr_u32(m, IL_ATTR_REQUESTED_ADDRESS_FAMILY), 0x02000000u);
	assert_int_equal(attr_u32(m, IL_ATTR_LIFETIME), 1200);
	const il_stun_attr *a = il_stun_msg_find(m, IL_ATTR_EVEN_PORT);
	assert_non_null(a);
	assert_int_equal(a->length, 1);
	assert_int_equal(il_stun_attr_value(m, a)[0], 0x80);
	assert_false(has_attr(m, IL_ATTR_ADDITIONAL_ADDRESS_FAMILY));
	il_turn_client_free(h.c);

	config_defaults();
	h.cfg.additional_ipv6 = true;
	start_client();
	il_turn_client_allocate(h.c, h.now);
	m = sent_msg(-1);
	assert_int_equal(attr_u32(m, IL_ATTR_ADDITIONAL_ADDRESS_FAMILY), 0x02000000u);
	assert_false(has_attr(m, IL_ATTR_REQUESTED_ADDRESS_FAMILY));
	/* The dual allocation reports both relayed addresses. */
	reply_begin(m, IL_STUN_SUCCESS);
	il_addr r4 = addr(RELAYED), r6 = addr("[2001:db8::1]:50002");
	il_stun_add_xor_addr(&r.b, IL_ATTR_XOR_RELAYED_ADDRESS, &r4);
	il_stun_add_xor_addr(&r.b, IL_ATTR_XOR_RELAYED_ADDRESS, &r6);
	il_stun_add_u32(&r.b, IL_ATTR_LIFETIME, 600);
	assert_int_equal(reply_deliver(MI_NONE, IL_STUN_PWALG_MD5), 1);
	assert_int_equal(last_event()->relayed_count, 2);
	assert_true(il_addr_equal(il_turn_client_relayed(h.c, IL_AF_INET6), &r6));
}

/* §7.1: conflicting options are refused at creation. */
static void test_config_rejects_conflicting_options(void **state)
{
	(void)state;
	il_turn_client_callbacks cb = {.user = &h, .random = cb_random, .send = cb_send};
	config_defaults();
	h.cfg.requested_family = IL_AF_INET;
	h.cfg.additional_ipv6 = true;
	assert_null(il_turn_client_new(&h.cfg, &cb));
	config_defaults();
	h.cfg.additional_ipv6 = true;
	h.cfg.even_port = h.cfg.reserve_next = true;
	assert_null(il_turn_client_new(&h.cfg, &cb));
	config_defaults();
	h.cfg.use_reservation_token = true;
	h.cfg.even_port = true;
	assert_null(il_turn_client_new(&h.cfg, &cb));
}

/* ---- refresh and release ---- */

/* §8: "the client refresh the allocation roughly 1 minute before it
 * expires": at 540 s of 600. */
static void test_refresh_sent_before_lifetime_expires(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	uint64_t t0 = h.now;
	assert_true(il_turn_client_next_deadline(h.c) == t0 + 540000);
	unsigned sends = h.nsent;
	run_until(t0 + 539999);
	assert_int_equal(h.nsent, sends);
	run_until(t0 + 540000);
	assert_int_equal(h.nsent, sends + 1);
	const il_stun_msg *m = sent_msg(-1);
	assert_int_equal(m->method, IL_STUN_REFRESH);
	il_stun_key key = server_key(IL_STUN_PWALG_MD5);
	assert_int_equal(il_stun_check_integrity(m, &key), IL_STUN_VERDICT_OK);
	assert_true(has_attr(m, IL_ATTR_SOFTWARE));
	assert_int_equal(reply_ok(m, MI_SHA1), 1);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_REFRESHED);
	assert_int_equal(last_event()->lifetime_s, 600);
	assert_true(il_turn_client_next_deadline(h.c) == h.now + 540000);
}

/* A refresh that times out is tried again; when the lifetime runs out the
 * allocation is reported lost. */
static void test_allocation_lost_when_refreshes_time_out(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	uint64_t t0 = h.now;
	run_until(t0 + 600000);
	const il_turn_client_event *ev = last_event();
	assert_int_equal(ev->type, IL_TURN_CLIENT_EV_ALLOCATION_LOST);
	assert_int_equal(ev->failure, IL_TURN_CLIENT_FAIL_EXPIRED);
	assert_int_equal(h.events[1].type, IL_TURN_CLIENT_EV_REFRESH_FAILED);
	assert_int_equal(h.events[1].failure, IL_TURN_CLIENT_FAIL_TIMEOUT);
	assert_int_equal(il_turn_client_get_state(h.c), IL_TURN_CLIENT_RELEASED);
	assert_true(il_turn_client_next_deadline(h.c) == UINT64_MAX);
}

/* RFC 8656 §5: "A client receiving a 437 error response to a request
 * other than Allocate MUST assume the allocation no longer exists." */
static void test_refresh_437_reports_allocation_lost(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	assert_int_equal(il_turn_client_refresh(h.c, h.now), IL_TURN_CLIENT_OK);
	reply_error(sent_msg(-1), 437, "Allocation Mismatch");
	assert_int_equal(reply_deliver(MI_SHA1, IL_STUN_PWALG_MD5), 1);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_ALLOCATION_LOST);
	assert_int_equal(last_event()->error_code, 437);
}

/* §8.1: "it includes a LIFETIME attribute with a value of zero". */
static void test_release_sends_refresh_with_lifetime_zero(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	install_permission(PEER);
	assert_int_equal(il_turn_client_release(h.c, h.now), IL_TURN_CLIENT_OK);
	const il_stun_msg *m = sent_msg(-1);
	assert_int_equal(m->method, IL_STUN_REFRESH);
	assert_int_equal(attr_u32(m, IL_ATTR_LIFETIME), 0);
	assert_int_equal(il_turn_client_get_state(h.c), IL_TURN_CLIENT_RELEASING);
	reply_begin(m, IL_STUN_SUCCESS);
	il_stun_add_u32(&r.b, IL_ATTR_LIFETIME, 0);
	assert_int_equal(reply_deliver(MI_SHA1, IL_STUN_PWALG_MD5), 1);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_RELEASED);
	assert_int_equal(last_event()->failure, IL_TURN_CLIENT_FAIL_NONE);
	assert_int_equal(il_turn_client_get_state(h.c), IL_TURN_CLIENT_RELEASED);
	assert_true(il_turn_client_next_deadline(h.c) == UINT64_MAX);
}

/* ---- permissions, channels, data ---- */

/* §10.1: XOR-PEER-ADDRESS per peer; §9: refreshed before 300 s. */
static void test_permission_installed_and_refreshed_every_four_minutes(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	il_addr peers[2] = {addr(PEER), addr("192.0.2.11:9")};
	assert_int_equal(il_turn_client_create_permission(h.c, peers, 2, h.now), IL_TURN_CLIENT_OK);
	const il_stun_msg *m = sent_msg(-1);
	assert_int_equal(m->method, IL_STUN_CREATEPERMISSION);
	unsigned n = 0;
	for (unsigned i = 0; i < m->attr_count; i++)
		n += m->attrs[i].type == IL_ATTR_XOR_PEER_ADDRESS;
	assert_int_equal(n, 2);
	il_addr got;
	il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_XOR_PEER_ADDRESS), &got);
	assert_memory_equal(got.ip, peers[0].ip, 4);
	assert_int_equal(reply_ok(m, MI_SHA1), 1);
	assert_int_equal(h.events[h.nevents - 2].type, IL_TURN_CLIENT_EV_PERMISSION_OK);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_PERMISSION_OK);
	uint64_t t0 = h.now;
	unsigned sends = h.nsent;
	run_until(t0 + 240000);
	assert_int_equal(h.nsent, sends + 1);
	assert_int_equal(sent_msg(-1)->method, IL_STUN_CREATEPERMISSION);
}

static void test_permission_error_reported(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	il_addr peer = addr(PEER);
	il_turn_client_create_permission(h.c, &peer, 1, h.now);
	reply_error(sent_msg(-1), 403, "Forbidden");
	assert_int_equal(reply_deliver(MI_SHA1, IL_STUN_PWALG_MD5), 1);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_PERMISSION_FAILED);
	assert_int_equal(last_event()->error_code, 403);
	assert_false(il_turn_client_has_permission(h.c, &peer));
}

/* §11.1: without a channel, a Send indication with XOR-PEER-ADDRESS and
 * DATA; and never without a permission. */
static void test_send_indication_before_channel(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	il_addr peer = addr(PEER);
	const uint8_t payload[] = "hello";
	assert_int_equal(il_turn_client_send(h.c, &peer, payload, 5, h.now),
			 IL_TURN_CLIENT_ERR_NO_PERMISSION);
	install_permission(PEER);
	assert_int_equal(il_turn_client_send(h.c, &peer, payload, 5, h.now), IL_TURN_CLIENT_OK);
	const il_stun_msg *m = sent_msg(-1);
	assert_int_equal(m->method, IL_STUN_SEND);
	assert_int_equal(m->cls, IL_STUN_INDICATION);
	il_addr got;
	il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_XOR_PEER_ADDRESS), &got);
	assert_true(il_addr_equal(&got, &peer));
	const il_stun_attr *d = il_stun_msg_find(m, IL_ATTR_DATA);
	assert_non_null(d);
	assert_int_equal(d->length, 5);
	assert_memory_equal(il_stun_attr_value(m, d), payload, 5);
	assert_false(has_attr(m, IL_ATTR_MESSAGE_INTEGRITY)); /* indications: never (§5) */
}

/* §12.1, §12.5: ChannelBind with CHANNEL-NUMBER and XOR-PEER-ADDRESS; Send
 * indications until it is confirmed, ChannelData after (unpadded over
 * UDP). */
static void test_channel_data_used_once_channel_bound(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	install_permission(PEER);
	il_addr peer = addr(PEER);
	uint16_t ch = 0;
	assert_int_equal(il_turn_client_bind_channel(h.c, &peer, &ch, h.now), IL_TURN_CLIENT_OK);
	assert_int_equal(ch, 0x4000);
	const il_stun_msg *bind = sent_msg(-1);
	assert_int_equal(bind->method, IL_STUN_CHANNELBIND);
	uint16_t number = 0;
	il_stun_attr_get_channel(bind, il_stun_msg_find(bind, IL_ATTR_CHANNEL_NUMBER), &number);
	assert_int_equal(number, 0x4000);
	il_stun_msg saved = *bind;
	uint8_t saved_buf[SENT_CAP];
	memcpy(saved_buf, h.sent[h.nsent - 1], h.sent_len[h.nsent - 1]);
	saved.buf = saved_buf;
	saved.tid = saved_buf + 8;

	const uint8_t payload[] = "hello";
	il_turn_client_send(h.c, &peer, payload, 5, h.now);
	assert_int_equal(sent_msg(-1)->method, IL_STUN_SEND);

	assert_int_equal(reply_ok(&saved, MI_SHA1), 1);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_CHANNEL_BOUND);
	assert_int_equal(last_event()->channel, 0x4000);
	assert_int_equal(il_turn_client_channel(h.c, &peer), 0x4000);
	il_turn_client_send(h.c, &peer, payload, 5, h.now);
	assert_int_equal(h.sent_len[h.nsent - 1], 9);
	static const uint8_t expected[] = {0x40, 0x00, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
	assert_memory_equal(h.sent[h.nsent - 1], expected, 9);
	/* A second bind to the same peer reuses the channel, sends nothing. */
	unsigned sends = h.nsent;
	assert_int_equal(il_turn_client_bind_channel(h.c, &peer, &ch, h.now), IL_TURN_CLIENT_OK);
	assert_int_equal(ch, 0x4000);
	assert_int_equal(h.nsent, sends);
}

/* §12: "A channel binding lasts for 10 minutes unless refreshed". */
static void test_channel_rebound_before_ten_minutes(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	il_addr peer = addr(PEER);
	il_turn_client_bind_channel(h.c, &peer, NULL, h.now);
	reply_ok(sent_msg(-1), MI_SHA1);
	uint64_t t0 = h.now;
	/* The permission the ChannelBind installed is refreshed at 240 s,
	 * the channel at 540 s; answer each. */
	bool rebound = false;
	while (h.now < t0 + 600000 && !rebound) {
		uint64_t d = il_turn_client_next_deadline(h.c);
		assert_true(d < t0 + 600000);
		unsigned sends = h.nsent;
		h.now = d;
		il_turn_client_timer(h.c, h.now);
		for (unsigned i = sends; i < h.nsent; i++) {
			const il_stun_msg *m = sent_msg((int)i);
			if (m->method == IL_STUN_CHANNELBIND) {
				rebound = true;
				assert_true(h.now <= t0 + 540000);
			}
			il_stun_msg copy = *m;
			reply_ok(&copy, MI_SHA1);
		}
	}
	assert_true(rebound);
	assert_int_equal(il_turn_client_channel(h.c, &peer), 0x4000);
}

/* §11.4: Data indications deliver DATA with the peer's address; from an IP
 * without a permission they are discarded. */
static void test_data_indication_delivered_only_from_permitted_peer(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	install_permission(PEER);
	uint8_t tid[IL_STUN_TID_LEN] = {9};
	il_stun_builder_init(&r.b, r.buf, sizeof r.buf, IL_STUN_DATA, IL_STUN_INDICATION, tid);
	il_addr stranger = addr("192.0.2.66:1");
	il_stun_add_xor_addr(&r.b, IL_ATTR_XOR_PEER_ADDRESS, &stranger);
	il_stun_add_raw(&r.b, IL_ATTR_DATA, "x", 1);
	assert_int_equal(reply_deliver(MI_NONE, IL_STUN_PWALG_MD5), 0);
	assert_int_equal(h.ndata, 0);

	il_stun_builder_init(&r.b, r.buf, sizeof r.buf, IL_STUN_DATA, IL_STUN_INDICATION, tid);
	il_addr peer = addr(PEER);
	il_stun_add_xor_addr(&r.b, IL_ATTR_XOR_PEER_ADDRESS, &peer);
	il_stun_add_raw(&r.b, IL_ATTR_DATA, "pong", 4);
	assert_int_equal(reply_deliver(MI_NONE, IL_STUN_PWALG_MD5), 1);
	assert_int_equal(h.ndata, 1);
	assert_true(il_addr_equal(&h.data_peer, &peer));
	assert_int_equal(h.data_len, 4);
	assert_memory_equal(h.data, "pong", 4);
}

/* §12: ChannelData arrives "as soon as it has sent the ChannelBind
 * request"; an unbound channel is discarded (§12.6). */
static void test_channeldata_from_server_delivered_with_peer(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	il_addr peer = addr(PEER);
	il_turn_client_bind_channel(h.c, &peer, NULL, h.now);
	uint8_t frame[16];
	size_t n = il_channeldata_encode(frame, sizeof frame, 0x4000, (const uint8_t *)"abc", 3,
					 false);
	assert_int_equal(il_turn_client_handle_datagram(h.c, frame, n, h.now), 1);
	assert_int_equal(h.ndata, 1);
	assert_true(il_addr_equal(&h.data_peer, &peer));
	assert_memory_equal(h.data, "abc", 3);
	n = il_channeldata_encode(frame, sizeof frame, 0x4001, (const uint8_t *)"abc", 3, false);
	assert_int_equal(il_turn_client_handle_datagram(h.c, frame, n, h.now), 0);
	assert_int_equal(h.ndata, 1);
}

/* ---- over a stream ---- */

/* §12.5: "Over TCP and TLS-over-TCP, the ChannelData message MUST be
 * padded to a multiple of four bytes". The server's frames arrive split
 * anyhow. */
static void test_channeldata_padded_over_stream(void **state)
{
	(void)state;
	config_defaults();
	h.cfg.stream = true;
	allocate_md5();
	il_addr peer = addr(PEER);
	il_turn_client_bind_channel(h.c, &peer, NULL, h.now);
	assert_int_equal(reply_ok(sent_msg(-1), MI_SHA1), 1);
	const uint8_t payload[] = "hello";
	assert_int_equal(il_turn_client_send(h.c, &peer, payload, 5, h.now), IL_TURN_CLIENT_OK);
	assert_int_equal(h.sent_len[h.nsent - 1], 12);
	static const uint8_t expected[] = {0x40, 0x00, 0x00, 0x05, 'h', 'e', 'l',
					   'l',  'o',  0,    0,    0};
	assert_memory_equal(h.sent[h.nsent - 1], expected, 12);

	/* Two padded frames from the server, fed one byte at a time. */
	uint8_t stream[32];
	size_t n = il_channeldata_encode(stream, sizeof stream, 0x4000, (const uint8_t *)"ab", 2, true);
	n += il_channeldata_encode(stream + n, sizeof stream - n, 0x4000, (const uint8_t *)"xyz", 3,
				   true);
	assert_int_equal(n, 16);
	int used = 0;
	for (size_t i = 0; i < n; i++)
		used += il_turn_client_handle_stream(h.c, stream + i, 1, h.now);
	assert_int_equal(used, 2);
	assert_int_equal(h.ndata, 2);
	assert_int_equal(h.data_len, 3);
	assert_memory_equal(h.data, "xyz", 3);
}

/* RFC 8489 §6.2.2: a closed connection fails what is in flight and the
 * allocation goes with it. */
static void test_stream_closed_loses_allocation(void **state)
{
	(void)state;
	config_defaults();
	h.cfg.stream = true;
	allocate_md5();
	il_turn_client_stream_closed(h.c, h.now);
	assert_int_equal(last_event()->type, IL_TURN_CLIENT_EV_ALLOCATION_LOST);
	assert_int_equal(last_event()->failure, IL_TURN_CLIENT_FAIL_CONNECTION);
	assert_int_equal(il_turn_client_get_state(h.c), IL_TURN_CLIENT_RELEASED);
	/* Garbage on a stream breaks it. */
	const uint8_t junk[8] = {0xFF, 0xFF, 0, 4, 1, 2, 3, 4};
	assert_int_equal(il_turn_client_handle_stream(h.c, junk, sizeof junk, h.now),
			 IL_TURN_CLIENT_ERR_STREAM);
}

/* Bad input never crashes or misleads: truncated, unknown, unsolicited. */
static void test_garbage_and_unsolicited_responses_dropped(void **state)
{
	(void)state;
	config_defaults();
	allocate_md5();
	unsigned events = h.nevents;
	uint8_t junk[64];
	for (size_t len = 0; len < sizeof junk; len++) {
		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t)(i * 37 + len);
		il_turn_client_handle_datagram(h.c, junk, len, h.now);
	}
	/* A success response nobody asked for. */
	uint8_t tid[IL_STUN_TID_LEN] = {1, 2, 3};
	il_stun_builder_init(&r.b, r.buf, sizeof r.buf, IL_STUN_REFRESH, IL_STUN_SUCCESS, tid);
	assert_int_equal(reply_deliver(MI_SHA1, IL_STUN_PWALG_MD5), 0);
	assert_int_equal(h.nevents, events);
	assert_int_equal(il_turn_client_get_state(h.c), IL_TURN_CLIENT_ALLOCATED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_first_allocate_carries_no_credentials, teardown),
		cmocka_unit_test_teardown(test_allocate_retries_with_credentials_after_401, teardown),
		cmocka_unit_test_teardown(test_401_to_credentials_with_same_realm_fails_without_retry,
					  teardown),
		cmocka_unit_test_teardown(test_stale_nonce_438_retries_once_with_new_nonce, teardown),
		cmocka_unit_test_teardown(test_stale_nonce_retries_are_bounded, teardown),
		cmocka_unit_test_teardown(test_sha256_chosen_when_offered, teardown),
		cmocka_unit_test_teardown(test_first_supported_algorithm_follows_server_order,
					  teardown),
		cmocka_unit_test_teardown(
			test_no_retry_when_cookie_announces_algorithms_but_list_is_missing, teardown),
		cmocka_unit_test_teardown(test_md5_only_server_refused_when_md5_disallowed, teardown),
		cmocka_unit_test_teardown(test_userhash_used_when_nonce_cookie_asks_for_anonymity,
					  teardown),
		cmocka_unit_test_teardown(test_response_without_valid_integrity_ignored, teardown),
		cmocka_unit_test_teardown(test_400_without_integrity_discarded_until_timeout,
					  teardown),
		cmocka_unit_test_teardown(test_tcp_response_failing_integrity_ends_allocate, teardown),
		cmocka_unit_test_teardown(test_try_alternate_and_errors_reported_with_code_and_reason,
					  teardown),
		cmocka_unit_test_teardown(test_dont_fragment_dropped_after_420, teardown),
		cmocka_unit_test_teardown(test_allocate_options_encoded, teardown),
		cmocka_unit_test_teardown(test_config_rejects_conflicting_options, teardown),
		cmocka_unit_test_teardown(test_refresh_sent_before_lifetime_expires, teardown),
		cmocka_unit_test_teardown(test_allocation_lost_when_refreshes_time_out, teardown),
		cmocka_unit_test_teardown(test_refresh_437_reports_allocation_lost, teardown),
		cmocka_unit_test_teardown(test_release_sends_refresh_with_lifetime_zero, teardown),
		cmocka_unit_test_teardown(test_permission_installed_and_refreshed_every_four_minutes,
					  teardown),
		cmocka_unit_test_teardown(test_permission_error_reported, teardown),
		cmocka_unit_test_teardown(test_send_indication_before_channel, teardown),
		cmocka_unit_test_teardown(test_channel_data_used_once_channel_bound, teardown),
		cmocka_unit_test_teardown(test_channel_rebound_before_ten_minutes, teardown),
		cmocka_unit_test_teardown(test_data_indication_delivered_only_from_permitted_peer,
					  teardown),
		cmocka_unit_test_teardown(test_channeldata_from_server_delivered_with_peer, teardown),
		cmocka_unit_test_teardown(test_channeldata_padded_over_stream, teardown),
		cmocka_unit_test_teardown(test_stream_closed_loses_allocation, teardown),
		cmocka_unit_test_teardown(test_garbage_and_unsolicited_responses_dropped, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
