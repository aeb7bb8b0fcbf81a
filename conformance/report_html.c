/* junit.xml (one testcase per test, classname "RFC 8489 §6.3.1") and
 * report.html: one self-contained page (no fetches): summary, a table per
 * RFC, verdict filters, each test's checks and evidence packets, print
 * styles for PDF. Both are built in memory and written atomically. */
#include "conformance.h"
#include "icelab/html_escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void esc(FILE *f, const char *s)
{
	il_escape_text(f, s, IL_ESCAPE_XML);
}

/* Writes the memstream's bytes to path atomically and frees them. */
static int finish(char *buf, size_t len, const char *path, char *err, size_t err_len)
{
	int rc = cf_write_file_atomic(path, buf, len, err, err_len);
	free(buf);
	return rc;
}

/* The test's first requirement (by the catalogue) for its classname. */
static const cf_requirement *primary_req(const cf_run *run, const cf_result *r)
{
	for (size_t i = 0; i < run->cat->count; i++)
		if (cf_requirement_names_test(&run->cat->reqs[i], r->id))
			return &run->cat->reqs[i];
	if (r->check_count)
		return cf_catalogue_find(run->cat, r->checks[0].req);
	return NULL;
}

int cf_report_write_junit(const cf_run *run, const char *path, char *err, size_t err_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(err, err_len, "junit.xml: out of memory");
		return -1;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f,
		"<testsuites name=\"icelab check\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		"skipped=\"%zu\" time=\"%.3f\">\n",
		run->result_count, run->blocking, run->counts[CF_ERROR],
		run->counts[CF_SKIP] + run->counts[CF_NOT_APPLICABLE],
		(double)run->duration_ms / 1000.0);
	const char *suite = NULL;
	for (size_t i = 0; i < run->result_count; i++) {
		const cf_result *r = &run->results[i];
		if (!suite || strcmp(suite, r->test->suite) != 0) {
			if (suite)
				fputs(" </testsuite>\n", f);
			suite = r->test->suite;
			size_t n = 0, fails = 0, errors = 0, skips = 0;
			for (size_t k = i; k < run->result_count &&
					   strcmp(run->results[k].test->suite, suite) == 0;
			     k++) {
				n++;
				fails += run->results[k].blocking;
				errors += run->results[k].verdict == CF_ERROR;
				skips += run->results[k].verdict == CF_SKIP ||
					 run->results[k].verdict == CF_NOT_APPLICABLE;
			}
			fprintf(f,
				" <testsuite name=\"%s\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
				"skipped=\"%zu\">\n",
				suite, n, fails, errors, skips);
			fprintf(f, "  <properties><property name=\"target\" value=\"");
			esc(f, run->target_uri);
			fprintf(f, "\"/><property name=\"seed\" value=\"%llu\"/></properties>\n",
				(unsigned long long)run->opts.seed);
		}
		const cf_requirement *q = primary_req(run, r);
		fprintf(f, "  <testcase classname=\"");
		if (q)
			fprintf(f, "RFC %s &#167;%s", q->rfc, q->section);
		else
			esc(f, r->test->suite);
		fprintf(f, "\" name=\"");
		esc(f, r->id);
		fprintf(f, "\" time=\"%.3f\">\n", (double)r->duration_ms / 1000.0);
		switch (r->verdict) {
		case CF_FAIL:
			/* A warning (failed SHOULD) is reported, not counted as failure. */
			if (r->blocking) {
				fputs("   <failure message=\"", f);
				esc(f, r->reason);
				fputs("\" type=\"MUST\">", f);
			} else {
				fputs("   <system-out>WARNING: ", f);
			}
			for (size_t k = 0; k < r->check_count; k++)
				if (!r->checks[k].ok) {
					fprintf(f, "%s (%s): ", r->checks[k].req,
						cf_level_name(r->checks[k].level));
					esc(f, r->checks[k].message);
					fputc('\n', f);
				}
			fprintf(f, "</%s>\n", r->blocking ? "failure" : "system-out");
			break;
		case CF_ERROR:
			fprintf(f, "   <error message=\"");
			esc(f, r->reason);
			fprintf(f, "\"/>\n");
			break;
		case CF_SKIP:
		case CF_NOT_APPLICABLE:
			fprintf(f, "   <skipped message=\"%s: ", cf_verdict_name(r->verdict));
			esc(f, r->reason);
			fprintf(f, "\"/>\n");
			break;
		default:
			break;
		}
		fprintf(f, "  </testcase>\n");
	}
	if (suite)
		fputs(" </testsuite>\n", f);
	fputs("</testsuites>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		snprintf(err, err_len, "junit.xml: out of memory");
		return -1;
	}
	return finish(buf, len, path, err, err_len);
}

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1d2430;"
	"max-width:1200px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid "
	"#d0d6e0;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}"
	".meta{color:#5a6576;margin-bottom:16px}"
	".cards{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}"
	".card{border:1px solid #d0d6e0;border-radius:6px;padding:8px 14px;min-width:90px}"
	".card b{display:block;font-size:22px}"
	".result-pass{background:#e7f6ec;border-color:#3c9a5f}.result-fail{background:#fdecec;"
	"border-color:#c0392b}"
	"table{border-collapse:collapse;width:100%;margin:6px 0 14px}"
	"th,td{border:1px solid #d0d6e0;padding:4px 6px;text-align:left;vertical-align:top}"
	"th{background:#f2f4f8}td:first-child{white-space:nowrap}"
	".v{font-weight:600;white-space:nowrap}"
	".v-pass{color:#1e7d43}.v-fail{color:#b3261e}.v-error{color:#8a4b00}.v-skip,"
	".v-not-applicable,.v-untestable,.v-open,.v-not-run{color:#6b7280}.v-warning{color:#a86b00}"
	"details{border:1px solid #d0d6e0;border-radius:6px;margin:6px 0;padding:4px 10px}"
	"details.t-fail,details.t-error{border-color:#c0392b}"
	"summary{cursor:pointer}"
	"pre{background:#f6f8fa;padding:6px;overflow-x:auto;font-size:12px;white-space:pre-wrap;"
	"word-break:break-all}"
	".hex{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px;color:#444;"
	"word-break:break-all}"
	".filters label{margin-right:12px}"
	".hidden{display:none}"
	".waived{display:inline-block;margin-left:6px;padding:0 6px;border-radius:8px;font-size:12px;"
	"background:#eef1f6;color:#44506a;border:1px solid #b8c2d4}"
	"details.t-waived{border-color:#b8c2d4;border-style:dashed}"
	"@media print{.filters{display:none}details{break-inside:avoid}details>*{display:block}"
	"body{margin:0;max-width:none}a{color:inherit;text-decoration:none}}";

static const char js[] =
	"function applyFilters(){var boxes=document.querySelectorAll('.filters input');"
	"var on={};boxes.forEach(function(b){on[b.value]=b.checked;});"
	"document.querySelectorAll('[data-verdict]').forEach(function(e){"
	"var v=e.getAttribute('data-verdict');if(on.hasOwnProperty(v)){"
	"var w=e.hasAttribute('data-waived')&&on.hasOwnProperty('waived')&&!on['waived'];"
	"e.classList.toggle('hidden',!on[v]||w);}});}"
	"document.addEventListener('DOMContentLoaded',function(){"
	"document.querySelectorAll('.filters input').forEach(function(b){"
	"b.addEventListener('change',applyFilters);});});"
	"window.addEventListener('beforeprint',function(){document.querySelectorAll('details')"
	".forEach(function(d){if(!d.classList.contains('hidden'))d.open=true;});});";

/* True when the requirement failed only in tests the baseline waived. */
static bool req_waived(const cf_run *run, const cf_requirement *q)
{
	bool failed = false;
	for (size_t i = 0; i < run->result_count; i++)
		for (size_t k = 0; k < run->results[i].check_count; k++)
			if (!run->results[i].checks[k].ok &&
			    strcmp(run->results[i].checks[k].req, q->id) == 0) {
				if (!run->results[i].waived)
					return false;
				failed = true;
			}
	return failed;
}

static const char *verdict_of_req(const cf_run *run, const cf_requirement *q)
{
	bool checked = false, failed = false;
	for (size_t i = 0; i < run->result_count; i++)
		for (size_t k = 0; k < run->results[i].check_count; k++)
			if (strcmp(run->results[i].checks[k].req, q->id) == 0) {
				checked = true;
				failed |= !run->results[i].checks[k].ok;
			}
	if (failed)
		return "fail";
	if (checked)
		return "pass";
	if (q->untestable)
		return "untestable";
	return q->tests ? "not-run" : "open";
}

static void anchor(FILE *f, const char *id)
{
	for (; *id; id++)
		fputc(*id == '/' ? '-' : *id, f);
}

static void html_packet(FILE *f, const cf_run *run, const cf_packet *p)
{
	char from[IL_ADDR_STRLEN] = "", to[IL_ADDR_STRLEN] = "";
	il_addr_format(&p->from, from, sizeof from);
	il_addr_format(&p->to, to, sizeof to);
	fprintf(f, "<tr><td>%u</td><td>%llu</td><td>%s %s</td><td>", p->seq,
		(unsigned long long)p->t_ms, p->endpoint, p->sent ? "&rarr;" : "&larr;");
	esc(f, from);
	fputs(" &rarr; ", f);
	esc(f, to);
	fprintf(f, "</td><td>%zu%s</td><td>", p->len, p->truncated ? " (truncated)" : "");
	json_t *d = cf_packet_decode(p, run->target_user, run->target_realm, run->target_password);
	char *text = d ? json_dumps(d, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(d);
	if (text) {
		fputs("<pre>", f);
		esc(f, text);
		fputs("</pre>", f);
		free(text);
	}
	fputs("<div class=\"hex\">", f);
	for (size_t i = 0; i < p->len; i++)
		fprintf(f, "%02x%s", p->data[i], (i % 4 == 3) ? " " : "");
	fputs("</div></td></tr>\n", f);
}

static void html_test(FILE *f, const cf_run *run, const cf_result *r)
{
	const char *v = cf_verdict_name(r->verdict);
	const char *shown = r->warning ? "warning" : v;
	/* Failures are open, except known deviations (--baseline). */
	bool open = (r->verdict == CF_FAIL || r->verdict == CF_ERROR) && !r->waived;
	fprintf(f, "<details id=\"t-");
	anchor(f, r->id);
	fprintf(f, "\" class=\"t-%s%s\" data-verdict=\"%s\"%s%s><summary><span class=\"v v-%s\">%s</span>"
		   "%s <b>",
		v, r->waived ? " t-waived" : "", v, r->waived ? " data-waived=\"1\"" : "",
		open ? " open" : "", shown, shown,
		r->waived ? "<span class=\"waived\" title=\"a known deviation (--baseline)\">waived</span>" : "");
	esc(f, r->id);
	fputs("</b> &mdash; ", f);
	esc(f, r->test->title);
	fputs("</summary>\n", f);
	if (r->waived) {
		fputs("<p><b>Waived by the baseline:</b> ", f);
		esc(f, r->waiver ? r->waiver : "(no reason recorded)");
		fputs("</p>\n", f);
	}
	if (r->reason) {
		fputs("<p><b>Why:</b> ", f);
		esc(f, r->reason);
		fputs("</p>\n", f);
	}
	if (r->notes) {
		fputs("<p><b>Notes:</b> ", f);
		esc(f, r->notes);
		fputs("</p>\n", f);
	}
	if (r->check_count) {
		fputs("<table><tr><th>check</th><th>requirement</th><th>level</th><th>observed</th></tr>\n",
		      f);
		for (size_t k = 0; k < r->check_count; k++) {
			const cf_check *c = &r->checks[k];
			const cf_requirement *q = cf_catalogue_find(run->cat, c->req);
			fprintf(f, "<tr><td class=\"v v-%s\">%s</td><td><a href=\"#r-%s\">%s</a></td><td>%s</td><td>",
				c->ok ? "pass" : "fail", c->ok ? "pass" : "fail", c->req, c->req,
				q ? q->level_text : cf_level_name(c->level));
			esc(f, c->message);
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	if (r->packet_count) {
		fprintf(f, "<table><tr><th>#</th><th>ms</th><th>who</th><th>from &rarr; to</th><th>bytes</th>"
			   "<th>decoded / hex</th></tr>\n");
		for (size_t k = 0; k < r->packet_count; k++)
			html_packet(f, run, &r->packets[k]);
		fputs("</table>\n", f);
	}
	fputs("</details>\n", f);
}

int cf_report_write_html(const cf_run *run, const char *path, char *err, size_t err_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(err, err_len, "report.html: out of memory");
		return -1;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		   "<title>icelab conformance report &mdash; ");
	esc(f, run->target_uri);
	fprintf(f, "</title>\n<style>%s</style>\n<script>%s</script>\n</head><body>\n", css, js);
	fprintf(f, "<h1>icelab conformance report</h1>\n<div class=\"meta\">Target <b>");
	esc(f, run->target_uri);
	fprintf(f, "</b> &middot; run %s &middot; started %s &middot; seed %llu &middot; %llu ms%s</div>\n",
		run->run_id, run->started_at, (unsigned long long)run->opts.seed,
		(unsigned long long)run->duration_ms, run->opts.strict ? " &middot; strict" : "");
	fprintf(f, "<div class=\"cards\"><div class=\"card result-%s\">Result<b>%s</b></div>",
		run->exit_code ? "fail" : "pass", run->exit_code ? "FAIL" : "PASS");
	fprintf(f, "<div class=\"card\">Tests<b>%zu</b></div>", run->result_count);
	for (int v = 0; v < CF_VERDICT__COUNT; v++)
		fprintf(f, "<div class=\"card\"><span class=\"v-%s\">%s</span><b>%zu</b></div>",
			cf_verdict_name((enum cf_verdict)v), cf_verdict_name((enum cf_verdict)v),
			run->counts[v]);
	fprintf(f, "<div class=\"card\"><span class=\"v-warning\">warnings</span><b>%zu</b></div>",
		run->warnings);
	fprintf(f, "<div class=\"card\"><span class=\"waived\">waived</span><b>%zu</b></div></div>\n",
		run->waived);
	if (run->baseline[0]) {
		fputs("<p class=\"meta\">Baseline <b>", f);
		esc(f, run->baseline);
		fputs("</b>: its known deviations are marked <span class=\"waived\">waived</span> "
		      "with their reason and do not fail the run.</p>\n", f);
	}
	fputs("<p>A failed MUST fails the run; a failed SHOULD or MAY is a warning (a failure "
	      "with <code>--strict</code>). Each test below lists its checks, the requirement each "
	      "judges, and the packets exchanged.</p>\n",
	      f);
	fputs("<div class=\"filters\"><b>Show:</b> ", f);
	static const char *const filt[] = {"pass", "fail", "error", "skip", "not-applicable",
					   "untestable", "open", "not-run"};
	for (size_t i = 0; i < sizeof filt / sizeof filt[0]; i++)
		fprintf(f, "<label><input type=\"checkbox\" value=\"%s\" checked> %s</label>", filt[i],
			filt[i]);
	/* Known deviations (--baseline) on their own: off hides them. */
	fputs("<label><input type=\"checkbox\" value=\"waived\" checked> waived</label>", f);
	fputs("</div>\n", f);

	/* Requirements, a table per RFC. */
	fputs("<h2>Requirements</h2>\n", f);
	const char *rfc = NULL;
	for (size_t i = 0; i < run->cat->count; i++) {
		const cf_requirement *q = &run->cat->reqs[i];
		if (!rfc || strcmp(rfc, q->rfc) != 0) {
			if (rfc)
				fputs("</table>\n", f);
			rfc = q->rfc;
			size_t total = 0, pass = 0, fail = 0;
			for (size_t k = 0; k < run->cat->count; k++) {
				if (strcmp(run->cat->reqs[k].rfc, rfc) != 0)
					continue;
				total++;
				const char *v = verdict_of_req(run, &run->cat->reqs[k]);
				pass += strcmp(v, "pass") == 0;
				fail += strcmp(v, "fail") == 0;
			}
			fprintf(f, "<h3>RFC %s &mdash; %zu requirements, %zu passed, %zu failed</h3>\n"
				   "<table><tr><th>id</th><th>&sect;</th><th>level</th><th>role</th>"
				   "<th>requirement (paraphrased)</th><th>verdict</th><th>tests</th></tr>\n",
				rfc, total, pass, fail);
		}
		const char *v = verdict_of_req(run, q);
		bool waived = req_waived(run, q);
		fprintf(f, "<tr id=\"r-%s\" data-verdict=\"%s\"%s><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
			q->id, v, waived ? " data-waived=\"1\"" : "", q->id, q->section, q->level_text,
			q->role);
		esc(f, q->text);
		if (q->untestable) {
			fputs("<br><i>untestable on the wire: ", f);
			esc(f, q->untestable);
			fputs("</i>", f);
		}
		fprintf(f, "</td><td class=\"v v-%s\">%s%s</td><td>", v, v,
			waived ? " <span class=\"waived\">waived</span>" : "");
		if (q->tests) {
			char *copy = strdup(q->tests), *save = NULL;
			for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t;
			     t = strtok_r(NULL, " ", &save)) {
				fputs("<a href=\"#t-", f);
				anchor(f, t);
				fputs("\">", f);
				esc(f, t);
				fputs("</a> ", f);
			}
			free(copy);
		}
		fputs("</td></tr>\n", f);
	}
	if (rfc)
		fputs("</table>\n", f);

	fputs("<h2>Tests</h2>\n", f);
	for (size_t i = 0; i < run->result_count; i++)
		html_test(f, run, &run->results[i]);
	fputs("<p class=\"meta\">Written by icelab check. Requirements are paraphrased; the RFC "
	      "text is authoritative.</p>\n</body></html>\n",
	      f);
	if (fclose(f) != 0) {
		free(buf);
		snprintf(err, err_len, "report.html: out of memory");
		return -1;
	}
	return finish(buf, len, path, err, err_len);
}
