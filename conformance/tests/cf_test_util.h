/* What the harness's cmocka tests share (one test binary per file, so
 * static definitions; inline where a binary may not use it): the
 * catalogue loaded once per group, a run against a builtin target (of
 * one suite), a result by id, what a mangle hook looks at, and
 * FINGERPRINT recomputed after a fault is injected.
 * Include after <cmocka.h>. */
#ifndef ICELAB_CONFORMANCE_TEST_UTIL_H
#define ICELAB_CONFORMANCE_TEST_UTIL_H

#include <string.h>

#include "conformance.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

static cf_catalogue cat;

static int setup(void **state)
{
	(void)state;
	char err[256];
	if (cf_catalogue_load_builtin(&cat, err, sizeof err) < 0)
		fail_msg("catalogue: %s", err);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cf_catalogue_free(&cat);
	return 0;
}

static inline void run_builtin(cf_run *run, const cf_target_options *to,
			       const cf_run_options *ro)
{
	char err[256];
	cf_target *t = cf_target_open(to, err, sizeof err);
	assert_non_null(t);
	assert_int_equal(cf_run_tests(run, t, &cat, ro, err, sizeof err), 0);
	cf_target_close(t);
}

/* One suite, seed 3. */
static inline void run_suite(cf_run *run, const cf_target_options *to, const char *suite)
{
	const char *suites[1] = {suite};
	cf_run_options ro = {.seed = 3, .suites = suites, .suite_count = 1};
	run_builtin(run, to, &ro);
}

static inline const cf_result *find(const cf_run *run, const char *id)
{
	for (size_t i = 0; i < run->result_count; i++)
		if (strcmp(run->results[i].id, id) == 0)
			return &run->results[i];
	fail_msg("no result for %s", id);
	return NULL;
}

/* For a mangle hook: the attribute of type in data when data decodes
 * as a STUN message of class cls (any class when cls < 0), else NULL. */
static inline const il_stun_attr *stun_attr_in(const uint8_t *data, size_t len, int cls,
					       uint16_t type, il_stun_msg *m)
{
	if (il_stun_decode(data, len, m, NULL) != IL_STUN_OK || (cls >= 0 && m->cls != cls))
		return NULL;
	return il_stun_msg_find(m, type);
}

/* The ERROR-CODE of an error response, 0 for anything else. */
static inline int stun_error_code(const uint8_t *data, size_t len)
{
	il_stun_msg m;
	const il_stun_attr *a = stun_attr_in(data, len, IL_STUN_ERROR, IL_ATTR_ERROR_CODE, &m);
	int code = 0;
	const char *reason = NULL;
	size_t rlen = 0;
	if (!a || il_stun_attr_get_error_code(&m, a, &code, &reason, &rlen) != IL_STUN_OK)
		return 0;
	return code;
}

/* Recompute FINGERPRINT when it is last, so only the intended fault
 * shows. MESSAGE-INTEGRITY is left broken where touched. */
static inline void resign(uint8_t *data, size_t len)
{
	il_stun_msg m;
	if (il_stun_decode(data, len, &m, NULL) != IL_STUN_OK || m.fingerprint_index < 0)
		return;
	uint32_t crc = il_stun_fingerprint_value(data, len - 8);
	data[len - 4] = (uint8_t)(crc >> 24);
	data[len - 3] = (uint8_t)(crc >> 16);
	data[len - 2] = (uint8_t)(crc >> 8);
	data[len - 1] = (uint8_t)crc;
}

#endif
