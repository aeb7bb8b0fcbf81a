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

/* A client's allocation, seen in its transactions (alloc_release.c), so
 * the runner can release it when the test ends (RFC 8656 §7.3). */
typedef struct cf_alloc_track {
	bool allocated, sha256;
	const char *password; /* the target's, for user */
	char user[128], realm[128];
	uint8_t nonce[256], algs_raw[64];
	size_t nonce_len, algs_raw_len;
} cf_alloc_track;

/* Notes what req and its response resp tell about the allocation. */
void cf_alloc_observe(const cf_target *t, cf_alloc_track *a, const uint8_t *req, size_t len,
		      const il_stun_msg *resp);
/* Refresh with LIFETIME 0 on client ix, a 438 answered once (tids[1]),
 * until deadline_ms; true when the target confirmed. Not evidence. */
bool cf_alloc_release(cf_target *t, int ix, cf_alloc_track *a, const uint8_t tids[2][12],
		      uint64_t deadline_ms, uint64_t (*now_ms)(void));

#endif
