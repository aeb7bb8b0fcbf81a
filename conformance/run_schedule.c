/* Scheduling a run: --jobs workers, each with a target of its own,
 * taking the next test; --repeat runs of a test folded into one result
 * (flaky: passed sometimes, failed or erred other times). Results land at
 * the test's index, so the report's order never depends on --jobs. */
#include "runner_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append_note(cf_result *r, const char *line)
{
	char *joined = NULL;
	if (asprintf(&joined, "%s%s%s", r->notes ? r->notes : "", r->notes ? "\n" : "", line) >= 0) {
		free(r->notes);
		r->notes = joined;
	}
}

/* --repeat: runs the test n times and keeps the first run that did not
 * pass (its checks and packets), else the first. Passing sometimes and
 * failing or erring other times is flaky: a fail, the counts in its
 * reason and notes. */
static void run_repeated(cf_run *run, cf_target *t, const cf_test *test, cf_result *r)
{
	unsigned n = run->opts.repeat > 1 ? run->opts.repeat : 1;
	cf_run_one(run, t, test, r, 0);
	if (n == 1)
		return;
	size_t counts[CF_VERDICT__COUNT] = {0};
	counts[r->verdict]++;
	for (unsigned k = 1; k < n; k++) {
		cf_result tmp;
		cf_run_one(run, t, test, &tmp, k);
		counts[tmp.verdict]++;
		if (r->verdict == CF_PASS && tmp.verdict != CF_PASS) {
			cf_result_free(r);
			*r = tmp;
		} else {
			cf_result_free(&tmp);
		}
	}
	char line[256];
	snprintf(line, sizeof line,
		 "repeated %u times: %zu pass, %zu fail, %zu error, %zu skip, %zu not-applicable", n,
		 counts[CF_PASS], counts[CF_FAIL], counts[CF_ERROR], counts[CF_SKIP],
		 counts[CF_NOT_APPLICABLE]);
	append_note(r, line);
	if (counts[CF_PASS] && counts[CF_FAIL] + counts[CF_ERROR]) {
		if (r->verdict == CF_ERROR) {
			r->blocking = true;
			r->warning = false;
		}
		r->verdict = CF_FAIL;
		char *reason = NULL;
		if (asprintf(&reason, "flaky: %zu pass, %zu fail, %zu error in %u runs; %s",
			     counts[CF_PASS], counts[CF_FAIL], counts[CF_ERROR], n,
			     r->reason ? r->reason : "") >= 0) {
			free(r->reason);
			r->reason = reason;
		}
	}
}

/* The selected tests, shared by the workers; results land at their own
 * index, so the report's order is the catalogue's whatever --jobs. */
typedef struct run_work {
	cf_run *run;
	const cf_test **tests;
	size_t count, next, done;
	pthread_mutex_t mu;
} run_work;

typedef struct run_worker {
	run_work *w;
	cf_target *t;
	pthread_t thread;
	bool started;
} run_worker;

static void *worker_main(void *arg)
{
	run_worker *me = arg;
	run_work *w = me->w;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		size_t i = w->next++;
		pthread_mutex_unlock(&w->mu);
		if (i >= w->count)
			break;
		cf_result *r = &w->run->results[i];
		run_repeated(w->run, me->t, w->tests[i], r);
		pthread_mutex_lock(&w->mu);
		w->done++;
		if (w->run->opts.progress)
			fprintf(stderr, "[%3zu/%zu] %-58s %s%s\n", w->done, w->count, r->id,
				cf_verdict_name(r->verdict), r->warning ? " (warning)" : "");
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

static void run_parallel(run_work *w, cf_target *t, unsigned jobs)
{
	if (jobs > w->count)
		jobs = (unsigned)w->count;
	run_worker *workers = calloc(jobs ? jobs : 1, sizeof *workers);
	if (!workers || jobs <= 1) {
		run_worker one = {.w = w, .t = t};
		worker_main(&one);
		free(workers);
		return;
	}
	/* Worker 0 uses the caller's target; each other worker opens its own
	 * (a target's endpoints belong to the test it runs). */
	unsigned started = 0;
	for (unsigned i = 0; i < jobs; i++) {
		workers[i].w = w;
		if (i == 0) {
			workers[i].t = t;
		} else {
			char err[256];
			workers[i].t = cf_target_open(&t->opts, err, sizeof err);
			if (!workers[i].t)
				break;
		}
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
			if (i > 0)
				cf_target_close(workers[i].t);
			break;
		}
		workers[i].started = true;
		started++;
	}
	if (started == 0)
		worker_main(&(run_worker){.w = w, .t = t});
	for (unsigned i = 0; i < jobs; i++) {
		if (!workers[i].started)
			continue;
		pthread_join(workers[i].thread, NULL);
		if (i > 0)
			cf_target_close(workers[i].t);
	}
	free(workers);
}

void cf_run_schedule(cf_run *run, cf_target *t, const cf_test **tests, size_t count)
{
	run_work w = {.run = run, .tests = tests, .count = count};
	pthread_mutex_init(&w.mu, NULL);
	run_parallel(&w, t, run->opts.jobs);
	pthread_mutex_destroy(&w.mu);
}
