/* --isolate: each test runs in a child process of its own (fork), so a
 * crash or a hang in the test code or in an in-process target (builtin)
 * becomes that test's `error` verdict and the run goes on (issue #6 §4).
 * The child sends its result (verdict, checks, notes, evidence) back
 * through a pipe in a small binary form; anything short of a complete
 * record is the child's death, reported with its signal or exit status. */
#include "runner_internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ISOLATE_MAGIC 0x49534f4cu /* "ISOL": the record is complete */
#define HANG_MARGIN_MS 5000        /* beyond --test-timeout: the child hangs */

/* ---- writing (child) ---- */

static void put(FILE *f, const void *p, size_t n)
{
	fwrite(p, 1, n, f);
}

static void put_u64(FILE *f, uint64_t v)
{
	put(f, &v, sizeof v);
}

static void put_str(FILE *f, const char *s)
{
	uint64_t n = s ? strlen(s) : UINT64_MAX;
	put_u64(f, n);
	if (s)
		put(f, s, (size_t)n);
}

static void encode(FILE *f, const cf_result *r)
{
	put_u64(f, (uint64_t)r->verdict);
	put_u64(f, (uint64_t)r->blocking << 1 | (uint64_t)r->warning);
	put_u64(f, r->duration_ms);
	put_str(f, r->reason);
	put_str(f, r->notes);
	put_u64(f, r->check_count);
	for (size_t i = 0; i < r->check_count; i++) {
		const cf_check *c = &r->checks[i];
		put_str(f, c->req);
		put_u64(f, (uint64_t)c->level << 1 | c->ok);
		put_str(f, c->message);
	}
	put_u64(f, r->packet_count);
	for (size_t i = 0; i < r->packet_count; i++) {
		cf_packet p = r->packets[i];
		const uint8_t *data = p.data;
		p.data = NULL; /* the bytes follow */
		put(f, &p, sizeof p);
		put(f, data, p.len);
	}
	put_u64(f, ISOLATE_MAGIC);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* ---- reading (parent), bounds-checked ---- */

typedef struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
} rd;

static void get(rd *d, void *out, size_t n)
{
	if (d->bad || n > d->left) {
		d->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, d->p, n);
	d->p += n;
	d->left -= n;
}

static uint64_t get_u64(rd *d)
{
	uint64_t v;
	get(d, &v, sizeof v);
	return v;
}

static char *get_str(rd *d)
{
	uint64_t n = get_u64(d);
	if (d->bad || n == UINT64_MAX)
		return NULL;
	if (n > d->left) {
		d->bad = true;
		return NULL;
	}
	char *s = malloc((size_t)n + 1);
	if (!s) {
		d->bad = true;
		return NULL;
	}
	get(d, s, (size_t)n);
	s[n] = '\0';
	return s;
}

static bool decode(rd *d, cf_result *r)
{
	r->verdict = (enum cf_verdict)get_u64(d);
	uint64_t flags = get_u64(d);
	r->blocking = flags & 2;
	r->warning = flags & 1;
	r->duration_ms = get_u64(d);
	r->reason = get_str(d);
	r->notes = get_str(d);
	uint64_t nc = get_u64(d);
	if (d->bad || nc > d->left)
		return false;
	r->checks = calloc(nc ? nc : 1, sizeof *r->checks);
	if (!r->checks)
		return false;
	r->check_cap = nc;
	for (uint64_t i = 0; i < nc && !d->bad; i++) {
		cf_check *c = &r->checks[i];
		char *req = get_str(d);
		snprintf(c->req, sizeof c->req, "%s", req ? req : "");
		free(req);
		uint64_t lv = get_u64(d);
		c->level = (enum cf_level)(lv >> 1);
		c->ok = lv & 1;
		c->message = get_str(d);
		r->check_count++;
	}
	uint64_t np = get_u64(d);
	if (d->bad || np > d->left)
		return false;
	r->packets = calloc(np ? np : 1, sizeof *r->packets);
	if (!r->packets)
		return false;
	r->packet_cap = np;
	for (uint64_t i = 0; i < np && !d->bad; i++) {
		cf_packet *p = &r->packets[i];
		get(d, p, sizeof *p);
		p->data = NULL;
		if (d->bad || p->len > d->left || !(p->data = malloc(p->len ? p->len : 1))) {
			d->bad = true;
			break;
		}
		get(d, p->data, p->len);
		r->packet_count++;
	}
	return !d->bad && get_u64(d) == ISOLATE_MAGIC && !d->bad && r->verdict < CF_VERDICT__COUNT;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads what the child has written so far (the fd is readable); 1 when
 * its length-prefixed record is complete or at EOF (decode judges
 * which), 0 for more, -1 on error. */
static int read_some(cf_isolated *c)
{
	if (c->len + 65536 > c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1u << 17;
		uint8_t *nb = realloc(c->buf, ncap);
		if (!nb)
			return -1;
		c->buf = nb;
		c->cap = ncap;
	}
	ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return 1;
	c->len += (size_t)n;
	uint64_t want;
	if (c->len >= sizeof want) {
		memcpy(&want, c->buf, sizeof want);
		if (c->len - sizeof want >= want)
			return 1;
	}
	return 0;
}

static void died(cf_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void died(cf_result *r, const char *fmt, ...)
{
	free(r->reason);
	r->reason = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&r->reason, fmt, ap) < 0)
		r->reason = NULL;
	va_end(ap);
	r->verdict = CF_ERROR;
	r->blocking = r->warning = false;
}

static void result_init(cf_result *r, const cf_test *test)
{
	memset(r, 0, sizeof *r);
	r->test = test;
	snprintf(r->id, sizeof r->id, "%s/%s", test->suite, test->name);
}

int cf_isolated_start(cf_isolated *c, cf_run *run, cf_target *t, const cf_test *test,
		      cf_run_one_fn fn, unsigned repetition)
{
	memset(c, 0, sizeof *c);
	c->test = test;
	c->fd = -1;
	c->pid = -1;
	int fds[2];
	if (pipe(fds) < 0) {
		c->failure = "pipe";
		c->state = 2;
		c->err = errno;
		return -1;
	}
	fflush(NULL); /* nothing buffered is written twice */
	c->start = now_ms();
	c->limit = (uint64_t)run->opts.test_timeout_ms + HANG_MARGIN_MS;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		c->failure = "fork";
		c->state = 2;
		c->err = errno;
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		/* A crash kills the child, whatever handler the parent had
		 * (a test framework's, a sanitizer's): the parent reports it. */
		static const int crash[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
		for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++)
			signal(crash[i], SIG_DFL);
		cf_result mine;
		fn(run, t, test, &mine, repetition);
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f) {
			encode(f, &mine);
			/* Length first: the parent stops reading at the record's
			 * end, not at EOF (which anything else holding the pipe
			 * would hold off). */
			if (fclose(f) == 0) { /* len is final only now */
				uint64_t n = len;
				write_all(fds[1], (const char *)&n, sizeof n);
				write_all(fds[1], buf, len);
			}
		}
		_exit(0); /* no atexit handlers, no stdio flush of the parent's buffers */
	}
	close(fds[1]);
	c->fd = fds[0];
	c->pid = pid;
	return 0;
}

int cf_isolated_step(cf_isolated *c, uint32_t wait_ms)
{
	if (c->state)
		return 1;
	uint64_t t = now_ms();
	if (t >= c->start + c->limit) {
		c->state = 3;
		return 1;
	}
	uint64_t left = c->start + c->limit - t;
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	int rc = poll(&pfd, 1, (int)(wait_ms < left ? wait_ms : left));
	if (rc < 0 && errno == EINTR)
		return 0;
	if (rc < 0) {
		c->state = 2;
		return 1;
	}
	if (rc == 0)
		return 0;
	rc = read_some(c);
	if (rc != 0)
		c->state = rc > 0 ? 1 : 2;
	return c->state != 0;
}

void cf_isolated_finish(cf_isolated *c, cf_result *r)
{
	result_init(r, c->test);
	if (c->pid < 0) {
		died(r, "--isolate: %s: %s", c->failure, strerror(c->err));
		return;
	}
	close(c->fd);
	if (c->state == 3)
		kill(c->pid, SIGKILL); /* our own child, by its pid */
	int status = 0;
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	/* Past the length prefix; a short record fails to decode. */
	size_t skip = c->len < sizeof(uint64_t) ? c->len : sizeof(uint64_t);
	rd d = {c->buf ? c->buf + skip : NULL, c->len - skip, false};
	if (c->state == 3) {
		died(r, "the test process hung: killed after %llu ms", (unsigned long long)c->limit);
	} else if (c->state == 2) {
		died(r, "--isolate: reading the test process failed");
	} else if (WIFSIGNALED(status)) {
		died(r, "the test process died of signal %d (%s): the target or the test crashed",
		     WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		died(r, "the test process died with exit status %d before its verdict (a crash "
			"caught by a sanitizer?)",
		     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	} else if (!decode(&d, r)) {
		died(r, "--isolate: the test process's result is incomplete");
	}
	if (r->verdict == CF_ERROR && !r->duration_ms)
		r->duration_ms = now_ms() - c->start;
	free(c->buf);
	c->buf = NULL;
}

void cf_run_one_isolated(cf_run *run, cf_target *t, const cf_test *test, cf_result *r,
			 cf_run_one_fn fn, unsigned repetition)
{
	cf_isolated c;
	if (cf_isolated_start(&c, run, t, test, fn, repetition) == 0)
		while (!cf_isolated_step(&c, 1000))
			;
	cf_isolated_finish(&c, r);
}
