/* The runner's insides shared by runner.c (one test, its ctx and
 * verdict) and run_schedule.c (--jobs workers, --repeat). */
#ifndef ICELAB_CONFORMANCE_RUNNER_INTERNAL_H
#define ICELAB_CONFORMANCE_RUNNER_INTERNAL_H

#include <sys/types.h>

#include "conformance.h"

/* Runs test once on t into r (r is overwritten); repetition k > 0 draws
 * its own randomness from the seed. */
void cf_run_one(cf_run *run, cf_target *t, const cf_test *test, cf_result *r,
		unsigned repetition);
void cf_result_free(cf_result *r);
/* Runs tests[0..count) into run->results[0..count) (each at its index),
 * run->opts.jobs at a time, each run->opts.repeat times. */
void cf_run_schedule(cf_run *run, cf_target *t, const cf_test **tests, size_t count);

/* One isolated run in flight (isolate.c), so --isolate --jobs N keeps N
 * children at once from a single thread (no fork among threads). */
typedef struct cf_isolated {
	const cf_test *test;
	pid_t pid;                 /* -1: never started (failure, err say why) */
	int fd;                    /* the child's result pipe */
	int state;                 /* 0 running, 1 record or EOF, 2 read error, 3 hung */
	uint64_t start, limit;     /* ms: started at; allowed before "hung" */
	uint8_t *buf;
	size_t len, cap;
	const char *failure;
	int err;
} cf_isolated;

/* Forks the child running fn; -1 when it could not (finish reports it). */
int cf_isolated_start(cf_isolated *c, cf_run *run, cf_target *t, const cf_test *test,
		      cf_run_one_fn fn, unsigned repetition);
/* Waits up to wait_ms for the child's output; 1 when it is done (its
 * record read, EOF, an error, or past its time: then finish kills it). */
int cf_isolated_step(cf_isolated *c, uint32_t wait_ms);
/* Reaps the child and turns its record, or its death, into r. */
void cf_isolated_finish(cf_isolated *c, cf_result *r);

#endif
