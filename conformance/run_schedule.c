/* Scheduling a run: --jobs workers, each with a target of its own,
 * taking the next test; --repeat runs of a test folded into one result
 * (flaky: passed sometimes, failed or erred other times). Results land at
 * the test's index, so the report's order never depends on --jobs. */
#include "runner_internal.h"

#include <poll.h>
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

/* One run of a test, in a child process of its own under --isolate. */
static void run_once(cf_run *run, cf_target *t, const cf_test *test, cf_result *r, unsigned k)
{
	if (run->opts.isolate)
		cf_run_one_isolated(run, t, test, r, cf_run_one, k);
	else
		cf_run_one(run, t, test, r, k);
}

static unsigned repeats(const cf_run *run)
{
	return run->opts.repeat > 1 ? run->opts.repeat : 1;
}

/* --repeat: folds the n runs of a test into r (runs[] is consumed): the
 * first run that did not pass (its checks and packets), else the first.
 * Passing sometimes and failing or erring other times is flaky: a fail,
 * the counts in its reason and notes. */
static void fold_runs(cf_result *runs, unsigned n, cf_result *r)
{
	*r = runs[0];
	if (n == 1)
		return;
	size_t counts[CF_VERDICT__COUNT] = {0};
	counts[r->verdict]++;
	for (unsigned k = 1; k < n; k++) {
		counts[runs[k].verdict]++;
		if (r->verdict == CF_PASS && runs[k].verdict != CF_PASS) {
			cf_result_free(r);
			*r = runs[k];
		} else {
			cf_result_free(&runs[k]);
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

static void run_repeated(cf_run *run, cf_target *t, const cf_test *test, cf_result *r)
{
	unsigned n = repeats(run);
	cf_result *runs = calloc(n, sizeof *runs);
	if (!runs) {
		run_once(run, t, test, r, 0);
		return;
	}
	for (unsigned k = 0; k < n; k++)
		run_once(run, t, test, &runs[k], k);
	fold_runs(runs, n, r);
	free(runs);
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

static void progress(run_work *w, const cf_result *r)
{
	w->done++;
	if (w->run->opts.progress)
		fprintf(stderr, "[%3zu/%zu] %-58s %s%s\n", w->done, w->count, r->id,
			cf_verdict_name(r->verdict), r->warning ? " (warning)" : "");
}

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
		progress(w, r);
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

/* --isolate --jobs N: up to N children at once, all forked by this one
 * thread (fork among threads could copy a lock another thread holds into
 * a child, which then hangs); each child has its own copy of the target,
 * so the workers need no target of their own. A unit is one run of one
 * test; a test's runs are folded when its last one ends. */
static void run_isolated_pool(run_work *w, cf_target *t, unsigned jobs)
{
	cf_run *run = w->run;
	unsigned n = repeats(run);
	size_t units = w->count * n, next = 0, left = units;
	cf_result *runs = calloc(units, sizeof *runs);
	unsigned *remaining = calloc(w->count, sizeof *remaining);
	cf_isolated *slot = calloc(jobs, sizeof *slot);
	size_t *unit_of = calloc(jobs, sizeof *unit_of);
	struct pollfd *pfd = calloc(jobs, sizeof *pfd);
	if (!runs || !remaining || !slot || !unit_of || !pfd) {
		free(runs), free(remaining), free(slot), free(unit_of), free(pfd);
		run_parallel(w, t, 1);
		return;
	}
	for (size_t i = 0; i < w->count; i++)
		remaining[i] = n;
	for (unsigned s = 0; s < jobs; s++)
		slot[s].fd = -1;
	while (left) {
		for (unsigned s = 0; s < jobs && next < units; s++) {
			if (slot[s].fd >= 0 || slot[s].state)
				continue;
			unit_of[s] = next;
			cf_isolated_start(&slot[s], run, t, w->tests[next / n], cf_run_one,
					  (unsigned)(next % n));
			next++;
		}
		for (unsigned s = 0; s < jobs; s++)
			pfd[s] = (struct pollfd){.fd = slot[s].fd, .events = POLLIN};
		/* At most 100 ms asleep: a child past its time is noticed. */
		(void)poll(pfd, jobs, 100); /* errors: each step polls again */
		for (unsigned s = 0; s < jobs; s++) {
			bool busy = slot[s].fd >= 0 || slot[s].state;
			if (!busy || !cf_isolated_step(&slot[s], 0))
				continue;
			size_t u = unit_of[s], i = u / n;
			cf_isolated_finish(&slot[s], &runs[u]);
			slot[s] = (cf_isolated){.fd = -1};
			left--;
			if (--remaining[i] == 0) {
				fold_runs(&runs[i * n], n, &run->results[i]);
				progress(w, &run->results[i]);
			}
		}
	}
	free(runs), free(remaining), free(slot), free(unit_of), free(pfd);
}

void cf_run_schedule(cf_run *run, cf_target *t, const cf_test **tests, size_t count)
{
	run_work w = {.run = run, .tests = tests, .count = count};
	pthread_mutex_init(&w.mu, NULL);
	if (run->opts.isolate && run->opts.jobs > 1)
		run_isolated_pool(&w, t, run->opts.jobs < count ? run->opts.jobs : (unsigned)count);
	else
		run_parallel(&w, t, run->opts.jobs);
	pthread_mutex_destroy(&w.mu);
}
