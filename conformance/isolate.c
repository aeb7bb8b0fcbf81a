/* --isolate: each test runs in a child process of its own (fork), so a
 * crash or a hang in the test code or in an in-process target (builtin)
 * becomes that test's `error` verdict and the run goes on (issue #6 §4).
 * The child sends its result (verdict, checks, notes, evidence) back
 * through a pipe in a small binary form; anything short of a complete
 * record is the child's death, reported with its signal or exit status. */
#include "conformance.h"

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

/* Everything the child writes, until EOF or the deadline; 1 at EOF. */
static int read_child(int fd, uint64_t deadline, uint8_t **buf, size_t *len)
{
	size_t cap = 0;
	for (;;) {
		uint64_t t = now_ms();
		if (t >= deadline)
			return 0;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int rc = poll(&pfd, 1, (int)(deadline - t));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return rc < 0 ? -1 : 0;
		if (*len + 65536 > cap) {
			size_t ncap = cap ? cap * 2 : 1u << 17;
			uint8_t *nb = realloc(*buf, ncap);
			if (!nb)
				return -1;
			*buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, *buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 1;
		*len += (size_t)n;
	}
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

void cf_run_one_isolated(cf_run *run, cf_target *t, const cf_test *test, cf_result *r,
			 cf_run_one_fn fn)
{
	memset(r, 0, sizeof *r);
	r->test = test;
	snprintf(r->id, sizeof r->id, "%s/%s", test->suite, test->name);
	int fds[2];
	if (pipe(fds) < 0) {
		died(r, "--isolate: pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL); /* nothing buffered is written twice */
	uint64_t start = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		died(r, "--isolate: fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		/* A crash kills the child, whatever handler the parent had
		 * (a test framework's, a sanitizer's): the parent reports it. */
		static const int crash[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
		for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++)
			signal(crash[i], SIG_DFL);
		cf_result mine;
		fn(run, t, test, &mine);
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f) {
			encode(f, &mine);
			if (fclose(f) == 0)
				write_all(fds[1], buf, len);
		}
		_exit(0); /* no atexit handlers, no stdio flush of the parent's buffers */
	}
	close(fds[1]);
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t limit = (uint64_t)run->opts.test_timeout_ms + HANG_MARGIN_MS;
	int rc = read_child(fds[0], start + limit, &buf, &len);
	close(fds[0]);
	if (rc == 0)
		kill(pid, SIGKILL); /* our own child, by its pid */
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	rd d = {buf, len, false};
	if (rc == 0) {
		died(r, "the test process hung: killed after %llu ms", (unsigned long long)limit);
	} else if (rc < 0) {
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
		r->duration_ms = now_ms() - start;
	free(buf);
}
