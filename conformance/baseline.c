/* Known deviations (--baseline FILE) and the comparison of two runs
 * (icelab check --diff OLD.json NEW.json): issue #6 §5, so a CI gate
 * fails on regressions only. The baseline format is in README.md. */
#include "conformance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cf_baseline_load(cf_baseline *b, const char *path, char *err, size_t err_len)
{
	memset(b, 0, sizeof *b);
	snprintf(b->path, sizeof b->path, "%s", path);
	json_error_t je;
	json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &je);
	if (!doc) {
		snprintf(err, err_len, "%s:%d: %s", path, je.line, je.text);
		return -1;
	}
	const char *schema = json_string_value(json_object_get(doc, "schema"));
	json_t *ws = json_object_get(doc, "waivers");
	if (!schema || strcmp(schema, "icelab-conformance-baseline") != 0 || !json_is_array(ws)) {
		snprintf(err, err_len,
			 "%s: not a baseline (want \"schema\": \"icelab-conformance-baseline\" and a "
			 "\"waivers\" array)",
			 path);
		json_decref(doc);
		return -1;
	}
	const char *target = json_string_value(json_object_get(doc, "target"));
	snprintf(b->target, sizeof b->target, "%s", target ? target : "");
	b->waivers = calloc(json_array_size(ws) + 1, sizeof *b->waivers);
	if (!b->waivers) {
		snprintf(err, err_len, "out of memory");
		json_decref(doc);
		return -1;
	}
	size_t i;
	json_t *w;
	json_array_foreach(ws, i, w)
	{
		const char *test = json_string_value(json_object_get(w, "test"));
		const char *req = json_string_value(json_object_get(w, "requirement"));
		const char *reason = json_string_value(json_object_get(w, "reason"));
		if (!test || !*test || strlen(test) >= sizeof b->waivers[0].test ||
		    (req && strlen(req) >= sizeof b->waivers[0].req)) {
			snprintf(err, err_len, "%s: waiver %zu: \"test\" missing or too long", path, i + 1);
			goto fail;
		}
		if (!reason || !*reason) {
			snprintf(err, err_len, "%s: waiver %zu (%s): every waiver needs a \"reason\"", path,
				 i + 1, test);
			goto fail;
		}
		cf_waiver *v = &b->waivers[b->count++];
		snprintf(v->test, sizeof v->test, "%s", test);
		snprintf(v->req, sizeof v->req, "%s", req ? req : "");
		v->reason = strdup(reason);
		if (!v->reason) {
			snprintf(err, err_len, "out of memory");
			goto fail;
		}
	}
	json_decref(doc);
	return 0;
fail:
	json_decref(doc);
	cf_baseline_free(b);
	return -1;
}

void cf_baseline_free(cf_baseline *b)
{
	for (size_t i = 0; i < b->count; i++)
		free(b->waivers[i].reason);
	free(b->waivers);
	b->waivers = NULL;
	b->count = 0;
}

static cf_waiver *find_waiver(cf_baseline *b, const char *test, const char *req)
{
	for (size_t i = 0; i < b->count; i++) {
		cf_waiver *w = &b->waivers[i];
		if (strcmp(w->test, test) != 0)
			continue;
		if (!w->req[0] || (req && strcmp(w->req, req) == 0))
			return w;
	}
	return NULL;
}

static void add_reason(cf_result *r, const cf_waiver *w)
{
	char *old = r->waiver;
	if (old && strstr(old, w->reason))
		return;
	if (asprintf(&r->waiver, "%s%s%s", old ? old : "", old ? "; " : "", w->reason) < 0)
		r->waiver = old;
	else
		free(old);
}

/* True when every check that makes r blocking is waived. */
static bool waive_result(cf_result *r, cf_baseline *b, bool strict)
{
	if (r->verdict == CF_ERROR) {
		cf_waiver *w = find_waiver(b, r->id, NULL);
		if (!w || w->req[0])
			return false;
		w->used = true;
		add_reason(r, w);
		return true;
	}
	if (r->verdict != CF_FAIL || !r->blocking)
		return false;
	for (size_t k = 0; k < r->check_count; k++) {
		const cf_check *c = &r->checks[k];
		if (c->ok)
			continue;
		if (!find_waiver(b, r->id, c->req) && (c->level == CF_MUST || strict))
			return false;
	}
	for (size_t k = 0; k < r->check_count; k++) {
		const cf_check *c = &r->checks[k];
		cf_waiver *w = c->ok ? NULL : find_waiver(b, r->id, c->req);
		if (w) {
			w->used = true;
			add_reason(r, w);
		}
	}
	return true;
}

void cf_run_apply_baseline(cf_run *run, cf_baseline *b)
{
	snprintf(run->baseline, sizeof run->baseline, "%s", b->path);
	run->blocking = 0;
	run->waived = 0;
	size_t errors = 0;
	for (size_t i = 0; i < run->result_count; i++) {
		cf_result *r = &run->results[i];
		if (waive_result(r, b, run->opts.strict)) {
			r->waived = true;
			r->blocking = false;
			run->waived++;
		}
		run->blocking += r->blocking;
		errors += r->verdict == CF_ERROR && !r->waived;
	}
	run->exit_code = run->blocking || errors ? 1 : 0;
}

/* ---- diff ---- */

typedef struct diff_entry {
	const char *id, *verdict;
	bool bad;     /* blocking or erring, not waived */
	char failed[512]; /* failed requirement ids */
} diff_entry;

static diff_entry *load_entries(json_t *doc, size_t *count)
{
	json_t *tests = json_object_get(doc, "tests");
	*count = json_array_size(tests);
	diff_entry *e = calloc(*count + 1, sizeof *e);
	if (!e)
		return NULL;
	size_t i;
	json_t *t;
	json_array_foreach(tests, i, t)
	{
		e[i].id = json_string_value(json_object_get(t, "id"));
		e[i].verdict = json_string_value(json_object_get(t, "verdict"));
		if (!e[i].id)
			e[i].id = "?";
		if (!e[i].verdict)
			e[i].verdict = "?";
		bool waived = json_is_true(json_object_get(t, "waived"));
		e[i].bad = !waived && (json_is_true(json_object_get(t, "blocking")) ||
				       strcmp(e[i].verdict, "error") == 0);
		size_t k, off = 0;
		json_t *c;
		json_array_foreach(json_object_get(t, "checks"), k, c)
		{
			const char *req = json_string_value(json_object_get(c, "requirement"));
			if (json_is_true(json_object_get(c, "ok")) || !req ||
			    strstr(e[i].failed, req) || off + strlen(req) + 2 >= sizeof e[i].failed)
				continue;
			off += (size_t)snprintf(e[i].failed + off, sizeof e[i].failed - off, "%s%s",
						off ? " " : "", req);
		}
	}
	return e;
}

static const diff_entry *find_entry(const diff_entry *e, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].id, id) == 0)
			return &e[i];
	return NULL;
}

static json_t *load_report(const char *path, char *err, size_t err_len)
{
	json_error_t je;
	json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &je);
	if (!doc) {
		snprintf(err, err_len, "%s:%d: %s", path, je.line, je.text);
		return NULL;
	}
	const char *schema = json_string_value(json_object_get(doc, "schema"));
	if (!schema || strcmp(schema, "icelab-conformance-report") != 0 ||
	    !json_is_array(json_object_get(doc, "tests"))) {
		snprintf(err, err_len, "%s: not an icelab report.json", path);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static void emit(bool json, json_t *arr, FILE *out, const char *kind, const char *id,
		 const char *from, const char *to, const char *detail)
{
	if (json) {
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "change", kind,
						     "test", id, "old", from, "new", to, "failed",
						     detail && *detail ? detail : NULL));
		return;
	}
	fprintf(out, "%-10s %-58s %s -> %s%s%s\n", kind, id, from ? from : "-", to ? to : "-",
		detail && *detail ? "  " : "", detail ? detail : "");
}

int cf_report_diff(const char *old_path, const char *new_path, bool json, FILE *out, char *err,
		   size_t err_len)
{
	json_t *a = load_report(old_path, err, err_len);
	if (!a)
		return -1;
	json_t *b = load_report(new_path, err, err_len);
	if (!b) {
		json_decref(a);
		return -1;
	}
	size_t na, nb;
	diff_entry *ea = load_entries(a, &na), *eb = load_entries(b, &nb);
	int regressions = -1;
	if (!ea || !eb) {
		snprintf(err, err_len, "out of memory");
		goto done;
	}
	regressions = 0;
	size_t fixed = 0, changed = 0, added = 0, removed = 0;
	json_t *arr = json_array();
	for (size_t i = 0; i < nb; i++) {
		const diff_entry *n = &eb[i], *o = find_entry(ea, na, n->id);
		if (!o) {
			added++;
			regressions += n->bad;
			emit(json, arr, out, n->bad ? "regressed" : "new", n->id, NULL, n->verdict,
			     n->failed);
			continue;
		}
		if (strcmp(o->verdict, n->verdict) == 0 && strcmp(o->failed, n->failed) == 0 &&
		    o->bad == n->bad)
			continue;
		const char *kind;
		if (n->bad && !o->bad) {
			kind = "regressed";
			regressions++;
		} else if (o->bad && !n->bad) {
			kind = "fixed";
			fixed++;
		} else {
			kind = "changed";
			changed++;
		}
		emit(json, arr, out, kind, n->id, o->verdict, n->verdict, n->failed);
	}
	for (size_t i = 0; i < na; i++)
		if (!find_entry(eb, nb, ea[i].id)) {
			removed++;
			emit(json, arr, out, "removed", ea[i].id, ea[i].verdict, NULL, NULL);
		}
	if (json) {
		json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:{s:i, s:I, s:I, s:I, s:I}}", "schema",
					"icelab-conformance-diff", "old", old_path, "new", new_path,
					"changes", arr, "summary", "regressed", regressions, "fixed",
					(json_int_t)fixed, "changed", (json_int_t)changed, "new",
					(json_int_t)added, "removed", (json_int_t)removed);
		json_dumpf(doc, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(doc);
	} else {
		json_decref(arr);
		fprintf(out, "%d regressed, %zu fixed, %zu changed, %zu new, %zu removed\n",
			regressions, fixed, changed, added, removed);
	}
done:
	free(ea);
	free(eb);
	json_decref(a);
	json_decref(b);
	return regressions;
}
