/* What the harness's cmocka tests share (one test binary per file, so
 * static definitions; inline where a binary may not use it): the
 * catalogue loaded once per group, a run against a builtin target, a
 * result by id, and FINGERPRINT recomputed after a fault is injected.
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

static inline const cf_result *find(const cf_run *run, const char *id)
{
	for (size_t i = 0; i < run->result_count; i++)
		if (strcmp(run->results[i].id, id) == 0)
			return &run->results[i];
	fail_msg("no result for %s", id);
	return NULL;
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
