/* alloc_release.c: the runner's end-of-test release of allocations
 * (RFC 8656 §7.3), over a fake target that answers the first Refresh
 * with 438 Stale Nonce and the second with success. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "runner_internal.h"

#include "icelab/stun_integrity.h"

typedef struct fake {
	uint8_t sent[4][1024];
	size_t sent_len[4];
	int nsent;
	int stale_left; /* 438s still to answer */
} fake;

static fake F;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int fake_send(cf_target *t, int ix, const uint8_t *d, size_t len)
{
	(void)t;
	(void)ix;
	if (F.nsent < 4 && len <= sizeof F.sent[0]) {
		memcpy(F.sent[F.nsent], d, len);
		F.sent_len[F.nsent++] = len;
	}
	return 0;
}

/* Answers the last request: 438 with NONCE "fresh" or success. */
static int fake_recv(cf_target *t, int ix, uint8_t *buf, size_t cap, size_t *len, uint32_t ms)
{
	(void)t;
	(void)ix;
	(void)ms;
	if (!F.nsent)
		return 0;
	il_stun_msg q;
	assert_int_equal(il_stun_decode(F.sent[F.nsent - 1], F.sent_len[F.nsent - 1], &q, NULL),
			 IL_STUN_OK);
	il_stun_builder b;
	bool stale = F.stale_left-- > 0;
	il_stun_builder_init(&b, buf, cap, IL_STUN_REFRESH, stale ? IL_STUN_ERROR : IL_STUN_SUCCESS,
			     q.tid);
	if (stale) {
		const uint8_t ec[] = {0, 0, 4, 38, 'S', 't', 'a', 'l', 'e'};
		il_stun_add_raw(&b, IL_ATTR_ERROR_CODE, ec, sizeof ec);
		il_stun_add_string(&b, IL_ATTR_NONCE, "fresh", 5);
	}
	enum il_stun_err err;
	*len = il_stun_builder_finish(&b, &err);
	return *len ? 1 : -1;
}

static size_t build(uint8_t *buf, uint16_t method, uint8_t cls, uint32_t lifetime, bool creds)
{
	static const uint8_t tid[IL_STUN_TID_LEN] = {1, 2, 3};
	il_stun_builder b;
	il_stun_builder_init(&b, buf, 1024, method, cls, tid);
	il_stun_add_u32(&b, IL_ATTR_LIFETIME, lifetime);
	if (creds) {
		il_stun_add_string(&b, IL_ATTR_USERNAME, "alice", 5);
		il_stun_add_string(&b, IL_ATTR_REALM, "example.org", 11);
		il_stun_add_string(&b, IL_ATTR_NONCE, "old", 3);
	}
	enum il_stun_err err;
	return il_stun_builder_finish(&b, &err);
}

static void setup_target(cf_target *t)
{
	memset(t, 0, sizeof *t);
	memset(&F, 0, sizeof F);
	strcpy(t->user, "alice");
	strcpy(t->password, "secret");
	t->has_credentials = true;
	t->client_send = fake_send;
	t->client_recv = fake_recv;
}

static void observe(cf_target *t, cf_alloc_track *a, uint16_t method, uint32_t lifetime,
		    bool creds)
{
	uint8_t req[1024], resp[1024];
	size_t ql = build(req, method, IL_STUN_REQUEST, lifetime, creds);
	size_t rl = build(resp, method, IL_STUN_SUCCESS, lifetime, false);
	il_stun_msg r;
	assert_int_equal(il_stun_decode(resp, rl, &r, NULL), IL_STUN_OK);
	cf_alloc_observe(t, a, req, ql, &r);
}

static void test_release_after_stale_nonce(void **state)
{
	(void)state;
	cf_target t;
	setup_target(&t);
	cf_alloc_track a;
	memset(&a, 0, sizeof a);
	observe(&t, &a, IL_STUN_ALLOCATE, 600, true);
	assert_true(a.allocated);
	F.stale_left = 1;
	const uint8_t tids[2][12] = {{7}, {8}};
	assert_true(cf_alloc_release(&t, 0, &a, tids, now_ms() + 200, now_ms));
	assert_false(a.allocated);
	assert_int_equal(F.nsent, 2);
	/* The retry: LIFETIME 0, the new nonce, a valid MESSAGE-INTEGRITY. */
	il_stun_msg q;
	assert_int_equal(il_stun_decode(F.sent[1], F.sent_len[1], &q, NULL), IL_STUN_OK);
	assert_int_equal(q.method, IL_STUN_REFRESH);
	uint32_t life = 1;
	il_stun_attr_get_u32(&q, il_stun_msg_find(&q, IL_ATTR_LIFETIME), &life);
	assert_int_equal(life, 0);
	const il_stun_attr *n = il_stun_msg_find(&q, IL_ATTR_NONCE);
	assert_non_null(n);
	assert_memory_equal(il_stun_attr_value(&q, n), "fresh", 5);
	il_stun_key key;
	assert_int_equal(
		il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "alice", "example.org", "secret"),
		IL_STUN_OK);
	assert_int_equal(il_stun_check_integrity(&q, &key), IL_STUN_VERDICT_OK);
}

static void test_untracked(void **state)
{
	(void)state;
	cf_target t;
	setup_target(&t);
	cf_alloc_track a;
	memset(&a, 0, sizeof a);
	/* No USERNAME: nothing to authenticate a release with. */
	observe(&t, &a, IL_STUN_ALLOCATE, 600, false);
	assert_false(a.allocated);
	/* The test's own Refresh with LIFETIME 0 released it already. */
	observe(&t, &a, IL_STUN_ALLOCATE, 600, true);
	assert_true(a.allocated);
	observe(&t, &a, IL_STUN_REFRESH, 0, true);
	assert_false(a.allocated);
	const uint8_t tids[2][12] = {{7}, {8}};
	assert_false(cf_alloc_release(&t, 0, &a, tids, now_ms() + 200, now_ms));
	assert_int_equal(F.nsent, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_after_stale_nonce),
		cmocka_unit_test(test_untracked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
