/* The benchmark's output: a table on stdout and reports/bench/stun.json.
 *
 * Two ratios per row, both from the same run:
 *   x floor    this row's ns / the floor's ns (the SHA_CTX floor row of the
 *              same message): 1.00 is the floor, 1.30 is 30 % above it;
 *   vs libnice libnice's ns / this row's ns: how many times faster than
 *              libnice doing the same job (not shown for decode alone,
 *              which libnice has no counterpart for). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench.h"

#ifndef BENCH_BUILD_FLAGS
#define BENCH_BUILD_FLAGS "unknown"
#endif
#ifndef BENCH_LIBNICE_VERSION
#define BENCH_LIBNICE_VERSION "unknown"
#endif

/* Targets of issue #2 §6: reported, never enforced. */
#define TARGET_VERIFY_X_FLOOR 1.3
#define TARGET_LIBNICE_SPEEDUP 3.0
#define TARGET_DECODE_NS 50.0

const char *bench_role_name(enum bench_role role)
{
	switch (role) {
	case ROLE_ICELAB_DECODE: return "icelab-decode";
	case ROLE_ICELAB_VERIFY: return "icelab-decode-verify";
	case ROLE_ICELAB_ENCODE: return "icelab-encode";
	case ROLE_LIBNICE: return "libnice";
	case ROLE_FLOOR_SHA_CTX: return "floor-sha-ctx";
	case ROLE_FLOOR_SHA_CTX_SPAN: return "floor-sha-ctx-one-span";
	case ROLE_FLOOR_EVP_REINIT: return "floor-evp-mac-reinit";
	case ROLE_FLOOR_EVP_DUP: return "floor-evp-mac-dup";
	}
	return "?";
}

static bool usable(const bench_case *c)
{
	return c != NULL && c->skip[0] == '\0' && c->runs > 0;
}

const bench_case *bench_find_ref(const bench_report *r, const bench_case *c,
				 enum bench_role role)
{
	for (size_t i = 0; i < r->case_count; i++) {
		const bench_case *o = &r->cases[i];
		if (o->group == c->group && o->role == role)
			return usable(o) ? o : NULL;
	}
	return NULL;
}

static double x_floor(const bench_report *r, const bench_case *c)
{
	const bench_case *f = bench_find_ref(r, c, ROLE_FLOOR_SHA_CTX);
	return usable(c) && f ? c->median / f->median : NAN;
}

static double libnice_speedup(const bench_report *r, const bench_case *c)
{
	if (c->role == ROLE_ICELAB_DECODE)
		return NAN;
	const bench_case *n = bench_find_ref(r, c, ROLE_LIBNICE);
	return usable(c) && n ? n->median / c->median : NAN;
}

static double allocs_per_msg(const bench_case *c)
{
	if (!bench_alloc_counting() || c->timed_iters == 0)
		return NAN;
	return (double)c->allocs / (double)c->timed_iters;
}

static bool is_icelab(const bench_case *c)
{
	return c->role == ROLE_ICELAB_DECODE || c->role == ROLE_ICELAB_VERIFY ||
	       c->role == ROLE_ICELAB_ENCODE;
}

/* ---- the table ---- */

static void print_num(double v, const char *fmt, int width)
{
	if (isnan(v))
		printf("%*s", width, "-");
	else
		printf(fmt, width, v);
}

static void print_row(const bench_report *r, const bench_case *c)
{
	printf("  %-44s", c->label);
	if (!usable(c)) {
		printf(" skipped: %s\n", c->skip);
		return;
	}
	printf("%9.1f", c->median);
	printf("%7.1f%%", c->median > 0 ? 100.0 * (c->hi - c->lo) / c->median : 0.0);
	print_num(x_floor(r, c), "%*.2f", 9);
	double s = libnice_speedup(r, c);
	if (isnan(s))
		printf("%11s", "-");
	else
		printf("%10.2fx", s);
	print_num(allocs_per_msg(c), "%*.2f", 12);
	print_num(c->ir < 0 ? NAN : c->ir, "%*.0f", 9);
	printf("\n");
}

static const bench_case *group_case(const bench_report *r, const char *group_id,
				    enum bench_role role)
{
	for (size_t i = 0; i < r->case_count; i++)
		if (strcmp(r->cases[i].group->id, group_id) == 0 && r->cases[i].role == role)
			return &r->cases[i];
	return NULL;
}

static void print_targets(const bench_report *r)
{
	printf("\ntargets (issue #2 §6; reported, not enforced):\n");
	for (size_t g = 0; g < r->group_count; g++) {
		const bench_group *gr = &r->groups[g];
		const bench_case *v = group_case(r, gr->id, ROLE_ICELAB_VERIFY);
		if (v == NULL)
			continue;
		double xf = x_floor(r, v), sp = libnice_speedup(r, v);
		printf("  %-32s decode + verify: ", gr->title);
		if (isnan(xf))
			printf("n/a");
		else
			printf("%.2fx floor (<= %.1f: %s)", xf, TARGET_VERIFY_X_FLOOR,
			       xf <= TARGET_VERIFY_X_FLOOR ? "met" : "missed");
		if (!isnan(sp))
			printf(", %.2fx faster than libnice (~%.0fx: %s)", sp, TARGET_LIBNICE_SPEEDUP,
			       sp >= TARGET_LIBNICE_SPEEDUP ? "met" : "missed");
		printf("\n");
	}
	double worst = NAN;
	for (size_t i = 0; i < r->case_count; i++) {
		const bench_case *c = &r->cases[i];
		if (c->role == ROLE_ICELAB_DECODE && usable(c) && !(c->median <= worst))
			worst = c->median;
	}
	if (isnan(worst))
		printf("  decode alone: n/a\n");
	else
		printf("  decode alone: slowest message %.1f ns (< %.0f: %s)\n", worst,
		       TARGET_DECODE_NS, worst < TARGET_DECODE_NS ? "met" : "missed");
	uint64_t allocs = 0, iters = 0;
	for (size_t i = 0; i < r->case_count; i++) {
		if (is_icelab(&r->cases[i])) {
			allocs += r->cases[i].allocs;
			iters += r->cases[i].timed_iters;
		}
	}
	if (bench_alloc_counting())
		printf("  allocations: %llu in %llu icelab operations (zero: %s)\n",
		       (unsigned long long)allocs, (unsigned long long)iters,
		       allocs == 0 ? "met" : "missed");
	else
		printf("  allocations: not counted in a sanitizer build\n");
}

void bench_print_table(const bench_report *r)
{
	printf("icelab STUN codec benchmark: %d rounds x ~%.0f ms per case, median ns per message\n",
	       r->runs, r->target_ms);
	printf(" ");
	if (r->cpu >= 0)
		printf(" pinned to CPU %d;", r->cpu);
	if (r->load_before[0] >= 0)
		printf(" load average %.2f before, %.2f after (%ld CPUs)", r->load_before[0],
		       r->load_after[0], sysconf(_SC_NPROCESSORS_ONLN));
	printf("\n  x floor = ns / floor (SHA_CTX) ns; vs libnice = libnice ns / ns;"
	       " spread = (max - min) / median\n");
	for (size_t g = 0; g < r->group_count; g++) {
		const bench_group *gr = &r->groups[g];
		printf("\n%s, %zu bytes: %s\n", gr->title, gr->bytes, gr->detail);
		printf("  %-44s%9s%8s%9s%11s%12s%9s\n", "case", "ns/msg", "spread", "x floor",
		       "vs libnice", "allocs/msg", "Ir/msg");
		for (size_t i = 0; i < r->case_count; i++)
			if (r->cases[i].group == gr)
				print_row(r, &r->cases[i]);
	}
	if (r->check_count) {
		printf("\nchecks before timing:\n");
		for (size_t i = 0; i < r->check_count; i++)
			printf("  %-4s %s%s%s\n", r->checks[i].ok ? "ok" : "FAIL", r->checks[i].name,
			       r->checks[i].detail[0] ? ": " : "", r->checks[i].detail);
	}
	print_targets(r);
	if (r->callgrind)
		printf("callgrind: %s\n", r->callgrind);
	printf("total %.1f s\n", r->seconds);
}

/* ---- JSON ---- */

static json_t *num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static json_t *case_json(const bench_report *r, const bench_case *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(c->id));
	json_object_set_new(o, "group", json_string(c->group->id));
	json_object_set_new(o, "role", json_string(bench_role_name(c->role)));
	json_object_set_new(o, "label", json_string(c->label));
	if (!usable(c)) {
		json_object_set_new(o, "status", json_string("skipped"));
		json_object_set_new(o, "reason", json_string(c->skip));
		return o;
	}
	json_object_set_new(o, "status", json_string("ok"));
	json_object_set_new(o, "ns_per_msg", json_real(c->median));
	json_object_set_new(o, "ns_min", json_real(c->lo));
	json_object_set_new(o, "ns_max", json_real(c->hi));
	json_t *runs = json_array();
	for (int i = 0; i < c->runs; i++)
		json_array_append_new(runs, json_real(c->ns[i]));
	json_object_set_new(o, "ns_runs", runs);
	json_object_set_new(o, "iterations_per_run", json_integer((json_int_t)c->iters));
	json_object_set_new(o, "x_floor", num_or_null(x_floor(r, c)));
	json_object_set_new(o, "libnice_speedup", num_or_null(libnice_speedup(r, c)));
	json_object_set_new(o, "allocs_per_msg", num_or_null(allocs_per_msg(c)));
	json_object_set_new(o, "allocs_total", bench_alloc_counting()
						       ? json_integer((json_int_t)c->allocs)
						       : json_null());
	json_object_set_new(o, "instructions_per_msg", c->ir < 0 ? json_null() : json_real(c->ir));
	return o;
}

static json_t *targets_json(const bench_report *r)
{
	json_t *t = json_object();
	json_t *per = json_object();
	for (size_t g = 0; g < r->group_count; g++) {
		const bench_case *v = group_case(r, r->groups[g].id, ROLE_ICELAB_VERIFY);
		if (v == NULL)
			continue;
		double xf = x_floor(r, v), sp = libnice_speedup(r, v);
		json_t *e = json_object();
		json_object_set_new(e, "x_floor", num_or_null(xf));
		json_object_set_new(e, "x_floor_target", json_real(TARGET_VERIFY_X_FLOOR));
		json_object_set_new(e, "x_floor_met", isnan(xf) ? json_null()
								: json_boolean(xf <= TARGET_VERIFY_X_FLOOR));
		json_object_set_new(e, "libnice_speedup", num_or_null(sp));
		json_object_set_new(e, "libnice_speedup_target", json_real(TARGET_LIBNICE_SPEEDUP));
		json_object_set_new(e, "libnice_speedup_met",
				    isnan(sp) ? json_null() : json_boolean(sp >= TARGET_LIBNICE_SPEEDUP));
		json_object_set_new(per, r->groups[g].id, e);
	}
	json_object_set_new(t, "decode_verify", per);
	double worst = NAN;
	uint64_t allocs = 0;
	for (size_t i = 0; i < r->case_count; i++) {
		const bench_case *c = &r->cases[i];
		if (c->role == ROLE_ICELAB_DECODE && usable(c) && !(c->median <= worst))
			worst = c->median;
		if (is_icelab(c))
			allocs += c->allocs;
	}
	json_object_set_new(t, "decode_ns_worst", num_or_null(worst));
	json_object_set_new(t, "decode_ns_target", json_real(TARGET_DECODE_NS));
	json_object_set_new(t, "decode_met", isnan(worst) ? json_null()
							: json_boolean(worst < TARGET_DECODE_NS));
	bool counted = bench_alloc_counting();
	json_object_set_new(t, "icelab_allocations",
			    counted ? json_integer((json_int_t)allocs) : json_null());
	json_object_set_new(t, "zero_allocations_met", counted ? json_boolean(allocs == 0)
							      : json_null());
	return t;
}

static json_t *environment_json(const bench_report *r)
{
	json_t *e = json_object();
	char model[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f != NULL) {
		char line[512];
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
				snprintf(model, sizeof(model), "%s", strchr(line, ':') + 2);
				model[strcspn(model, "\n")] = '\0';
				break;
			}
		}
		fclose(f);
	}
	struct utsname u;
	json_object_set_new(e, "cpu", json_string(model));
	json_object_set_new(e, "cpus_online", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_t *load = json_object();
	json_t *before = json_array(), *after = json_array();
	for (int i = 0; i < 3; i++) {
		json_array_append_new(before, num_or_null(r->load_before[i] < 0 ? NAN
										 : r->load_before[i]));
		json_array_append_new(after, num_or_null(r->load_after[i] < 0 ? NAN
									       : r->load_after[i]));
	}
	json_object_set_new(load, "before", before);
	json_object_set_new(load, "after", after);
	json_object_set_new(e, "loadavg", load);
	json_object_set_new(e, "pinned_cpu", r->cpu >= 0 ? json_integer(r->cpu) : json_null());
	json_object_set_new(e, "kernel", json_string(uname(&u) == 0 ? u.release : "unknown"));
	char compiler[128];
#if defined(__clang__)
	snprintf(compiler, sizeof(compiler), "clang %s", __clang_version__);
#elif defined(__GNUC__)
	snprintf(compiler, sizeof(compiler), "gcc %s", __VERSION__);
#else
	snprintf(compiler, sizeof(compiler), "%s", __VERSION__);
#endif
	for (size_t n = strlen(compiler); n > 0 && compiler[n - 1] == ' '; n--)
		compiler[n - 1] = '\0';
	json_object_set_new(e, "compiler", json_string(compiler));
	json_object_set_new(e, "build_flags", json_string(BENCH_BUILD_FLAGS));
	json_object_set_new(e, "openssl", json_string(floor_openssl_version()));
	json_object_set_new(e, "zlib", json_string(floor_zlib_version()));
	json_object_set_new(e, "libnice", json_string(BENCH_LIBNICE_VERSION));
	return e;
}

static json_t *report_json(const bench_report *r)
{
	json_t *root = json_object();
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	json_object_set_new(root, "benchmark", json_string("icelab-stun-codec"));
	json_object_set_new(root, "schema_version", json_integer(1));
	json_object_set_new(root, "generated_at", json_string(when));
	json_object_set_new(root, "rounds", json_integer(r->runs));
	json_object_set_new(root, "ms_per_case_per_round", json_real(r->target_ms));
	json_object_set_new(root, "statistic", json_string("median of rounds, ns per message"));
	json_object_set_new(root, "environment", environment_json(r));
	json_t *groups = json_array();
	for (size_t g = 0; g < r->group_count; g++) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(r->groups[g].id));
		json_object_set_new(o, "title", json_string(r->groups[g].title));
		json_object_set_new(o, "attributes", json_string(r->groups[g].detail));
		json_object_set_new(o, "bytes", json_integer((json_int_t)r->groups[g].bytes));
		json_array_append_new(groups, o);
	}
	json_object_set_new(root, "groups", groups);
	json_t *cases = json_array();
	for (size_t i = 0; i < r->case_count; i++)
		json_array_append_new(cases, case_json(r, &r->cases[i]));
	json_object_set_new(root, "cases", cases);
	json_t *checks = json_array();
	for (size_t i = 0; i < r->check_count; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(r->checks[i].name));
		json_object_set_new(o, "ok", json_boolean(r->checks[i].ok));
		json_object_set_new(o, "detail", json_string(r->checks[i].detail));
		json_array_append_new(checks, o);
	}
	json_object_set_new(root, "checks", checks);
	json_object_set_new(root, "targets", targets_json(r));
	json_object_set_new(root, "callgrind", r->callgrind ? json_string(r->callgrind)
							    : json_null());
	json_object_set_new(root, "seconds", json_real(r->seconds));
	return root;
}

/* mkdir -p of the directory part of path. */
static void make_parents(const char *path)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(dir, 0755);
		*p = '/';
	}
}

int bench_write_json(const bench_report *r, const char *path)
{
	char tmp[1100];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	make_parents(path);
	json_t *root = report_json(r);
	int rc = json_dump_file(root, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	json_decref(root);
	if (rc != 0) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}
