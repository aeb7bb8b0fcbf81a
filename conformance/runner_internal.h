/* The runner's insides shared by runner.c (one test, its ctx and
 * verdict) and run_schedule.c (--jobs workers, --repeat). */
#ifndef ICELAB_CONFORMANCE_RUNNER_INTERNAL_H
#define ICELAB_CONFORMANCE_RUNNER_INTERNAL_H

#include "conformance.h"

/* Runs test once on t into r (r is overwritten); repetition k > 0 draws
 * its own randomness from the seed. */
void cf_run_one(cf_run *run, cf_target *t, const cf_test *test, cf_result *r,
		unsigned repetition);
void cf_result_free(cf_result *r);
/* Runs tests[0..count) into run->results[0..count) (each at its index),
 * run->opts.jobs at a time, each run->opts.repeat times. */
void cf_run_schedule(cf_run *run, cf_target *t, const cf_test **tests, size_t count);

#endif
