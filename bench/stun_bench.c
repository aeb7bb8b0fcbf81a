/* stun_bench: the STUN codec benchmark behind `make bench` (issue #2 §6).
 *
 * On the RFC 5769 messages it times icelab's decode, decode + FINGERPRINT
 * + MESSAGE-INTEGRITY verification, libnice's stun_agent_validate, and the
 * floor (pre-keyed HMAC-SHA1 + CRC-32 of the same bytes); and the encoding
 * of a typical ICE Binding request and success response by icelab and by
 * libnice. All in one run, interleaved: each of --runs rounds times every
 * case once, for about --ms milliseconds; a case's figure is the median of
 * its rounds. Allocations in the timed loops are counted (alloc_count.c).
 * With --callgrind DIR the cases are also run once under valgrind's
 * callgrind for instructions per message. It reports; it never fails on a
 * number. Exit 1 only when a case could not be run (a failed precondition:
 * a library gave a wrong answer) or the report could not be written. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <valgrind/callgrind.h>

#include "bench.h"

extern char **environ;

#define CALLGRIND_ITERS 1000
#define MAX_GROUPS 8
#define MAX_CASES 64
#define MAX_CHECKS 16

static bench_group groups[MAX_GROUPS];
static bench_case cases[MAX_CASES];
static bench_check checks[MAX_CHECKS];
static bench_report report = {.groups = groups, .cases = cases, .checks = checks};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- set-up ---- */

static bench_group *group_add(const char *id, const char *title, const char *detail,
			      size_t bytes)
{
	bench_group *g = &groups[report.group_count++];
	snprintf(g->id, sizeof(g->id), "%s", id);
	snprintf(g->title, sizeof(g->title), "%s", title);
	snprintf(g->detail, sizeof(g->detail), "%s", detail);
	g->bytes = bytes;
	return g;
}

static bench_case *case_add(const bench_group *g, enum bench_role role, const char *label)
{
	bench_case *c = &cases[report.case_count++];
	c->group = g;
	c->role = role;
	c->label = label;
	c->ir = -1;
	snprintf(c->id, sizeof(c->id), "%s/%s", g->id, bench_role_name(role));
	return c;
}

static void case_set(bench_case *c, bench_run_fn run, void (*free_ctx)(void *), void *ctx)
{
	c->run = run;
	c->free_ctx = free_ctx;
	c->ctx = ctx;
	if (ctx == NULL && c->skip[0] == '\0')
		snprintf(c->skip, sizeof(c->skip), "set-up failed");
}

static void check_add(const char *name, bool ok, const char *detail)
{
	bench_check *k = &checks[report.check_count++];
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->ok = ok;
	snprintf(k->detail, sizeof(k->detail), "%s", detail ? detail : "");
}

/* Per floor kind: role, label with CRC-32, label without (no FINGERPRINT
 * in the message: the floor is the HMAC alone). */
static const struct {
	enum bench_role role;
	const char *label, *label_no_fp;
} floor_rows[] = {
	[FLOOR_SHA_CTX] = {ROLE_FLOOR_SHA_CTX, "floor: HMAC-SHA1 (SHA_CTX) + CRC-32",
			   "floor: HMAC-SHA1 (SHA_CTX)"},
	[FLOOR_SHA_CTX_SPAN] = {ROLE_FLOOR_SHA_CTX_SPAN, "  same, one span, length unpatched",
				"  same, one span, length unpatched"},
	[FLOOR_EVP_REINIT] = {ROLE_FLOOR_EVP_REINIT, "floor: HMAC-SHA1 (EVP_MAC re-init) + CRC-32",
			      "floor: HMAC-SHA1 (EVP_MAC re-init)"},
	[FLOOR_EVP_DUP] = {ROLE_FLOOR_EVP_DUP, "floor: HMAC-SHA1 (EVP_MAC_CTX_dup) + CRC-32",
			   "floor: HMAC-SHA1 (EVP_MAC_CTX_dup)"},
};

static void floors_add(const bench_group *g, const bench_msg *m, const uint8_t *key,
		       size_t key_len)
{
	for (size_t k = 0; k < sizeof(floor_rows) / sizeof(floor_rows[0]); k++) {
		bench_case *c = case_add(g, floor_rows[k].role,
					 m->fp_off ? floor_rows[k].label : floor_rows[k].label_no_fp);
		case_set(c, floor_run, floor_free,
			 floor_new((enum floor_kind)k, m, key, key_len, c->skip, sizeof(c->skip)));
	}
}

static bench_msg messages[] = {
	{.name = "rfc5769-2.1-request", .title = "RFC 5769 §2.1 request",
	 .buf = rfc5769_request, .len = sizeof(rfc5769_request), .is_request = true},
	{.name = "rfc5769-2.2-response-ipv4", .title = "RFC 5769 §2.2 IPv4 response",
	 .buf = rfc5769_response_ipv4, .len = sizeof(rfc5769_response_ipv4)},
	{.name = "rfc5769-2.3-response-ipv6", .title = "RFC 5769 §2.3 IPv6 response",
	 .buf = rfc5769_response_ipv6, .len = sizeof(rfc5769_response_ipv6)},
	{.name = "rfc5769-2.4-request-long-term", .title = "RFC 5769 §2.4 long-term request",
	 .buf = rfc5769_request_long_term, .len = sizeof(rfc5769_request_long_term),
	 .is_request = true, .long_term = true},
};

static const char *message_detail(const bench_msg *m)
{
	if (m->long_term)
		return "USERNAME, NONCE, REALM, MESSAGE-INTEGRITY (MD5 long-term key, no FINGERPRINT)";
	if (m->is_request)
		return "SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT";
	return "SOFTWARE, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT";
}

static void setup_decode_groups(void)
{
	uint8_t lt_key[16];
	floor_long_term_key(RFC5769_LT_USERNAME, RFC5769_LT_REALM, RFC5769_LT_PASSWORD_PREPPED,
			    lt_key);
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		bench_msg *m = &messages[i];
		bench_group *g = group_add(m->name, m->title, message_detail(m), m->len);
		bool located = bench_msg_locate(m);
		bench_case *c = case_add(g, ROLE_ICELAB_DECODE, "icelab il_stun_decode");
		case_set(c, icelab_run_decode, icelab_case_free,
			 icelab_decode_new(m, c->skip, sizeof(c->skip)));
		c = case_add(g, ROLE_ICELAB_VERIFY,
			     m->fp_off || !located ? "icelab decode + FINGERPRINT + MI"
						   : "icelab decode + MI");
		case_set(c, icelab_run_verify, icelab_case_free,
			 icelab_verify_new(m, c->skip, sizeof(c->skip)));
		c = case_add(g, ROLE_LIBNICE, "libnice stun_agent_validate");
		case_set(c, libnice_run_validate, libnice_case_free,
			 libnice_validate_new(m, c->skip, sizeof(c->skip)));
		if (!located) {
			check_add(m->name, false, "MESSAGE-INTEGRITY/FINGERPRINT not where expected");
			continue;
		}
		if (m->long_term)
			floors_add(g, m, lt_key, sizeof(lt_key));
		else
			floors_add(g, m, (const uint8_t *)RFC5769_PASSWORD, strlen(RFC5769_PASSWORD));
	}
}

/* The encode groups; their floor hashes icelab's output (or libnice's,
 * when icelab's builder failed). */
static bench_msg encoded_msgs[2];

static void setup_encode_groups(void)
{
	for (int response = 0; response <= 1; response++) {
		bench_group *g = group_add(
			response ? "encode-ice-response" : "encode-ice-request",
			response ? "encode: ICE Binding success response"
				 : "encode: ICE Binding request",
			response ? "XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT"
				 : "USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, "
				   "MESSAGE-INTEGRITY, FINGERPRINT",
			0);
		bench_case *ci = case_add(g, ROLE_ICELAB_ENCODE, "icelab il_stun_builder");
		case_set(ci, icelab_run_encode, icelab_case_free,
			 icelab_encode_new(response, ci->skip, sizeof(ci->skip)));
		bench_case *cn = case_add(g, ROLE_LIBNICE,
					  response ? "libnice init_response + append + finish"
						   : "libnice message_init + append + finish");
		case_set(cn, libnice_run_encode, libnice_case_free,
			 libnice_encode_new(response, cn->skip, sizeof(cn->skip)));
		const bench_encoded *ie = ci->ctx ? icelab_encode_output(ci->ctx) : NULL;
		const bench_encoded *ne = cn->ctx ? libnice_encode_output(cn->ctx) : NULL;
		const char *what = response ? "encoded response" : "encoded request";
		char name[96], why[200];
		if (ie != NULL) {
			snprintf(name, sizeof(name), "libnice validates icelab's %s", what);
			bool ok = libnice_validate_once(ie->buf, ie->len, why, sizeof(why));
			check_add(name, ok, ok ? "" : why);
			snprintf(name, sizeof(name), "icelab verifies icelab's %s", what);
			ok = icelab_verify_once(ie->buf, ie->len, why, sizeof(why));
			check_add(name, ok, ok ? "" : why);
		}
		if (ne != NULL) {
			snprintf(name, sizeof(name), "icelab verifies libnice's %s", what);
			bool ok = icelab_verify_once(ne->buf, ne->len, why, sizeof(why));
			check_add(name, ok, ok ? "" : why);
		}
		if (ie != NULL && ne != NULL) {
			/* Informational: libnice pads with spaces where RFC 8489
			 * §14 says zeros; receivers ignore padding either way. */
			bool same = ie->len == ne->len && memcmp(ie->buf, ne->buf, ie->len) == 0;
			snprintf(name, sizeof(name), "same bytes from both (%s)", what);
			snprintf(why, sizeof(why), "%zu vs %zu bytes%s", ie->len, ne->len,
				 same ? "" : "; they differ (informational)");
			check_add(name, true, why);
		}
		const bench_encoded *src = ie ? ie : ne;
		if (src == NULL)
			continue;
		g->bytes = src->len;
		bench_msg *m = &encoded_msgs[response];
		*m = (bench_msg){.name = g->id, .title = g->title, .buf = src->buf, .len = src->len,
				 .is_request = !response};
		if (!bench_msg_locate(m)) {
			check_add(g->id, false, "MESSAGE-INTEGRITY/FINGERPRINT not where expected");
			continue;
		}
		floors_add(g, m, (const uint8_t *)bench_ice.password, strlen(bench_ice.password));
	}
}

static void teardown(void)
{
	for (size_t i = 0; i < report.case_count; i++)
		if (cases[i].ctx && cases[i].free_ctx)
			cases[i].free_ctx(cases[i].ctx);
}

/* ---- timing ---- */

static size_t calibrate(bench_case *c, double target_ms)
{
	size_t n = 16;
	for (;;) {
		double t0 = now_ns();
		c->failures += c->run(c->ctx, n);
		double dt = now_ns() - t0;
		if (dt >= 2e6 || n >= ((size_t)1 << 30)) {
			double per = dt / (double)n;
			double want = target_ms * 1e6 / (per > 0 ? per : 1);
			return want < 1 ? 1 : (size_t)want;
		}
		n *= 2;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void summarise(bench_case *c)
{
	double sorted[BENCH_MAX_RUNS];
	memcpy(sorted, c->ns, sizeof(double) * (size_t)c->runs);
	qsort(sorted, (size_t)c->runs, sizeof(double), cmp_double);
	int r = c->runs;
	c->median = r % 2 ? sorted[r / 2] : (sorted[r / 2 - 1] + sorted[r / 2]) / 2;
	c->lo = sorted[0];
	c->hi = sorted[r - 1];
}

static void time_all(int runs, double target_ms, bool progress)
{
	for (size_t i = 0; i < report.case_count; i++)
		if (!cases[i].skip[0])
			cases[i].iters = calibrate(&cases[i], target_ms);
	/* Rounds interleave the cases, each round starting one case later,
	 * so drift in the machine's state spreads over all of them. */
	for (int r = 0; r < runs; r++) {
		if (progress)
			fprintf(stderr, "\rbench: round %d/%d", r + 1, runs);
		for (size_t j = 0; j < report.case_count; j++) {
			bench_case *c = &cases[(j + (size_t)r) % report.case_count];
			if (c->skip[0])
				continue;
			uint64_t a0 = bench_alloc_count();
			double t0 = now_ns();
			c->failures += c->run(c->ctx, c->iters);
			double dt = now_ns() - t0;
			c->allocs += bench_alloc_count() - a0;
			c->timed_iters += c->iters;
			c->ns[c->runs++] = dt / (double)c->iters;
		}
	}
	if (progress)
		fprintf(stderr, "\r%40s\r", "");
	for (size_t i = 0; i < report.case_count; i++) {
		bench_case *c = &cases[i];
		if (c->skip[0])
			continue;
		summarise(c);
		if (c->failures)
			snprintf(c->skip, sizeof(c->skip),
				 "%zu wrong answers in the timed loops: figures void", c->failures);
	}
}

static void read_loadavg(double out[3])
{
	out[0] = out[1] = out[2] = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%lf %lf %lf", &out[0], &out[1], &out[2]) != 3)
		out[0] = out[1] = out[2] = -1;
	fclose(f);
}

static int pin_cpu(void)
{
	int cpu = sched_getcpu();
	if (cpu < 0)
		return -1;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? cpu : -1;
}

/* ---- callgrind ---- */

/* Under valgrind: every runnable case, CALLGRIND_ITERS times between a
 * zeroing and a dump named after the case. */
static void callgrind_child(void)
{
	for (size_t i = 0; i < report.case_count; i++) {
		bench_case *c = &cases[i];
		if (c->skip[0])
			continue;
		c->run(c->ctx, 50);
		CALLGRIND_ZERO_STATS;
		c->run(c->ctx, CALLGRIND_ITERS);
		CALLGRIND_DUMP_STATS_AT(c->id);
	}
}

static bench_case *case_by_id(const char *id)
{
	for (size_t i = 0; i < report.case_count; i++)
		if (strcmp(cases[i].id, id) == 0)
			return &cases[i];
	return NULL;
}

/* A dump names its trigger ("desc: Trigger: Client Request: ID") and its
 * total ("totals: N", or "summary: N" in older versions). */
static void callgrind_read(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	char line[512], id[128] = "";
	double total = -1;
	while (fgets(line, sizeof(line), f)) {
		const char *tag = "desc: Trigger: Client Request: ";
		if (strncmp(line, tag, strlen(tag)) == 0) {
			snprintf(id, sizeof(id), "%.*s", (int)sizeof(id) - 1, line + strlen(tag));
			id[strcspn(id, "\r\n")] = '\0';
		} else if (strncmp(line, "totals:", 7) == 0 || strncmp(line, "summary:", 8) == 0) {
			total = strtod(strchr(line, ':') + 1, NULL);
		}
	}
	fclose(f);
	bench_case *c = id[0] ? case_by_id(id) : NULL;
	if (c != NULL && total >= 0)
		c->ir = total / CALLGRIND_ITERS;
}

static const char *callgrind_parent(const char *dir, char *status, size_t status_len)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(status, status_len, "skipped: cannot create %s", dir);
		return status;
	}
	DIR *d = opendir(dir);
	if (d != NULL) {
		struct dirent *e;
		char path[1024];
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, "cg.out", 6) == 0) {
				snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
				unlink(path);
			}
		}
		closedir(d);
	}
	char self[1024];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		snprintf(status, status_len, "skipped: cannot find own executable");
		return status;
	}
	self[n] = '\0';
	char out_opt[1100], log_opt[1100];
	snprintf(out_opt, sizeof(out_opt), "--callgrind-out-file=%s/cg.out", dir);
	snprintf(log_opt, sizeof(log_opt), "--log-file=%s/valgrind.log", dir);
	char *argv[] = {"valgrind", "--tool=callgrind", out_opt, log_opt, self,
			"--callgrind-child", NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "valgrind", NULL, NULL, argv, environ);
	if (rc != 0) {
		snprintf(status, status_len, "skipped: valgrind: %s", strerror(rc));
		return status;
	}
	int ws = 0;
	if (waitpid(pid, &ws, 0) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		snprintf(status, status_len, "skipped: valgrind run failed (see %s/valgrind.log)",
			 dir);
		return status;
	}
	d = opendir(dir);
	if (d != NULL) {
		struct dirent *e;
		char path[1024];
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, "cg.out", 6) == 0) {
				snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
				callgrind_read(path);
			}
		}
		closedir(d);
	}
	snprintf(status, status_len, "ok: %d iterations per case under callgrind, files in %s",
		 CALLGRIND_ITERS, dir);
	return status;
}

/* ---- main ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: stun_bench [--runs N] [--ms MS] [--json PATH] [--callgrind DIR] [--quick]\n"
		"  --runs N        rounds; each case's figure is its median (default 7, max %d)\n"
		"  --ms MS         milliseconds per case per round (default 40)\n"
		"  --json PATH     report file (default reports/bench/stun.json)\n"
		"  --callgrind DIR also count instructions per message under callgrind\n"
		"  --quick         3 rounds of 5 ms: a smoke run, not a measurement\n",
		BENCH_MAX_RUNS);
}

int main(int argc, char **argv)
{
	int runs = 7;
	double target_ms = 40;
	const char *json_path = "reports/bench/stun.json";
	const char *callgrind_dir = NULL;
	bool child = false;
	static const struct option opts[] = {
		{"runs", required_argument, NULL, 'r'},
		{"ms", required_argument, NULL, 'm'},
		{"json", required_argument, NULL, 'j'},
		{"callgrind", required_argument, NULL, 'c'},
		{"callgrind-child", no_argument, NULL, 'C'},
		{"quick", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r': runs = atoi(optarg); break;
		case 'm': target_ms = atof(optarg); break;
		case 'j': json_path = optarg; break;
		case 'c': callgrind_dir = optarg; break;
		case 'C': child = true; break;
		case 'q': runs = 3; target_ms = 5; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || runs < 1 || runs > BENCH_MAX_RUNS || !(target_ms > 0)) {
		usage(stderr);
		return 2;
	}
	double start = now_ns();
	setup_decode_groups();
	setup_encode_groups();
	if (child) {
		callgrind_child();
		teardown();
		return 0;
	}
	report.runs = runs;
	report.target_ms = target_ms;
	report.cpu = pin_cpu();
	read_loadavg(report.load_before);
	time_all(runs, target_ms, isatty(STDERR_FILENO));
	read_loadavg(report.load_after);
	char cg_status[1200];
	if (callgrind_dir != NULL)
		report.callgrind = callgrind_parent(callgrind_dir, cg_status, sizeof(cg_status));
	report.seconds = (now_ns() - start) / 1e9;
	bench_print_table(&report);
	int rc = 0;
	if (bench_write_json(&report, json_path) != 0) {
		fprintf(stderr, "stun_bench: cannot write %s: %s\n", json_path, strerror(errno));
		rc = 1;
	} else {
		printf("report: %s\n", json_path);
	}
	for (size_t i = 0; i < report.case_count; i++)
		if (cases[i].skip[0])
			rc = 1;
	for (size_t i = 0; i < report.check_count; i++)
		if (!checks[i].ok)
			rc = 1;
	teardown();
	return rc;
}
