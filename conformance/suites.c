/* The suites in run order: the order is part of a run's determinism. */
#include "conformance.h"

#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"stun-server", "turn-server", "turn-security", "nat-behaviour",
				    "ice-lite", "ice-agent", NULL};

const char *const *cf_suite_names(void)
{
	return names;
}

/* In run order: a suite's stream-only tests right after its others. */
typedef const cf_test *(*suite_fn)(size_t *count);
static const suite_fn parts[] = {
	cf_suite_stun_server,    cf_suite_stun_stream,       cf_suite_turn_server,
	cf_suite_turn_tcp,       cf_suite_turn_security,     cf_suite_turn_robustness,
	cf_suite_nat_behaviour,  cf_suite_ice_lite,          cf_suite_ice_agent,
};

const cf_test *cf_tests_all(size_t *count)
{
	static cf_test *all;
	static size_t n;
	if (!all) {
		enum { NPARTS = sizeof parts / sizeof parts[0] };
		const cf_test *part[NPARTS];
		size_t len[NPARTS], total = 0;
		for (size_t i = 0; i < NPARTS; i++) {
			part[i] = parts[i](&len[i]);
			total += len[i];
		}
		all = malloc(total * sizeof *all);
		if (!all) {
			*count = 0;
			return NULL;
		}
		for (size_t i = 0; i < NPARTS; i++) {
			memcpy(all + n, part[i], len[i] * sizeof *all);
			n += len[i];
		}
	}
	*count = n;
	return all;
}
