/* The suites in run order: the order is part of a run's determinism. */
#include "conformance.h"

#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"stun-server", "turn-server", "turn-security", NULL};

const char *const *cf_suite_names(void)
{
	return names;
}

const cf_test *cf_tests_all(size_t *count)
{
	static cf_test *all;
	static size_t n;
	if (!all) {
		size_t a, a2, b, b2, c;
		const cf_test *sa = cf_suite_stun_server(&a);
		const cf_test *sa2 = cf_suite_stun_stream(&a2);
		const cf_test *sb = cf_suite_turn_server(&b);
		const cf_test *sb2 = cf_suite_turn_tcp(&b2);
		const cf_test *sc = cf_suite_turn_security(&c);
		all = malloc((a + a2 + b + b2 + c) * sizeof *all);
		if (!all) {
			*count = 0;
			return NULL;
		}
		memcpy(all, sa, a * sizeof *all);
		memcpy(all + a, sa2, a2 * sizeof *all);
		memcpy(all + a + a2, sb, b * sizeof *all);
		memcpy(all + a + a2 + b, sb2, b2 * sizeof *all);
		memcpy(all + a + a2 + b + b2, sc, c * sizeof *all);
		n = a + a2 + b + b2 + c;
	}
	*count = n;
	return all;
}
