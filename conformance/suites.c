/* The suites in run order: the order is part of a run's determinism. */
#include "conformance.h"

#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"stun-server", "turn-server", "turn-security",
				    "ice-lite", "ice-agent", NULL};

const char *const *cf_suite_names(void)
{
	return names;
}

const cf_test *cf_tests_all(size_t *count)
{
	static cf_test *all;
	static size_t n;
	if (!all) {
		size_t a, b, c;
		const cf_test *sa = cf_suite_stun_server(&a);
		const cf_test *sb = cf_suite_turn_server(&b);
		const cf_test *sc = cf_suite_turn_security(&c);
		size_t d, e;
		const cf_test *sd = cf_suite_ice_lite(&d);
		const cf_test *se = cf_suite_ice_agent(&e);
		all = malloc((a + b + c + d + e) * sizeof *all);
		if (!all) {
			*count = 0;
			return NULL;
		}
		memcpy(all, sa, a * sizeof *all);
		memcpy(all + a, sb, b * sizeof *all);
		memcpy(all + a + b, sc, c * sizeof *all);
		memcpy(all + a + b + c, sd, d * sizeof *all);
		memcpy(all + a + b + c + d, se, e * sizeof *all);
		n = a + b + c + d + e;
	}
	*count = n;
	return all;
}
