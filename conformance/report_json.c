/* report.json (schema "icelab-conformance-report", version 1: README.md),
 * the evidence decoder shared by every report, and atomic file writes. */
#include "conformance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "icelab/channeldata.h"
#include "icelab/stun_json.h"

#define CF_SCHEMA_VERSION 1

int cf_write_file_atomic(const char *path, const char *data, size_t len, char *err,
			 size_t err_len)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
		snprintf(err, err_len, "%s: path too long", path);
		return -1;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	bool ok = fwrite(data, 1, len, f) == len;
	ok &= fflush(f) == 0;
	ok &= fsync(fileno(f)) == 0;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path) < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static char *hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

json_t *cf_packet_decode(const cf_packet *p, const char *user, const char *realm,
			 const char *password)
{
	il_stun_msg m;
	il_stun_decode_error de;
	if (p->len > 0 && p->data[0] < 4) {
		enum il_stun_err e = il_stun_decode(p->data, p->len, &m, &de);
		if (e == IL_STUN_OK) {
			il_stun_credentials creds = {user && *user ? user : NULL,
						     realm && *realm ? realm : NULL,
						     password && *password ? password : NULL};
			json_t *j = il_stun_msg_to_json(&m, creds.username ? &creds : NULL);
			if (j)
				json_object_set_new(j, "kind", json_string("stun"));
			return j;
		}
		return json_pack("{s:s, s:s, s:I}", "kind", "malformed-stun", "error",
				 il_stun_err_name(e), "offset", (json_int_t)de.offset);
	}
	il_channeldata cd;
	if (p->len >= 4 && p->data[0] >= 0x40 && p->data[0] <= 0x4F &&
	    il_channeldata_decode(p->data, p->len, &cd, NULL) == IL_STUN_OK)
		return json_pack("{s:s, s:i, s:i}", "kind", "channeldata", "channel", cd.channel,
				 "length", cd.length);
	return json_pack("{s:s}", "kind", "data");
}

static const char *transport_name(uint8_t t)
{
	return t == CF_TLS ? "tls" : t == CF_TCP ? "tcp" : "udp";
}

static json_t *packet_json(const cf_run *run, const cf_packet *p)
{
	char from[IL_ADDR_STRLEN] = "", to[IL_ADDR_STRLEN] = "";
	il_addr_format(&p->from, from, sizeof from);
	il_addr_format(&p->to, to, sizeof to);
	char *h = hex(p->data, p->len);
	json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:s?}", "seq",
			      (json_int_t)p->seq, "t_ms", (json_int_t)p->t_ms, "direction",
			      p->sent ? "sent" : "received", "endpoint", p->endpoint, "from", from,
			      "to", to, "transport", transport_name(p->transport), "length",
			      (json_int_t)p->len, "truncated", p->truncated, "hex", h);
	free(h);
	json_t *d = cf_packet_decode(p, run->target_user, run->target_realm, run->target_password);
	json_object_set_new(j, "decoded", d ? d : json_null());
	return j;
}

static json_t *result_json(const cf_run *run, const cf_result *r)
{
	json_t *reqs = json_array();
	/* Requirements: those the catalogue maps to the test, then any the
	 * checks named on top. */
	for (size_t i = 0; i < run->cat->count; i++)
		if (cf_requirement_names_test(&run->cat->reqs[i], r->id))
			json_array_append_new(reqs, json_string(run->cat->reqs[i].id));
	for (size_t i = 0; i < r->check_count; i++) {
		bool seen = false;
		size_t k;
		json_t *v;
		json_array_foreach(reqs, k, v) seen |= strcmp(json_string_value(v), r->checks[i].req) == 0;
		if (!seen)
			json_array_append_new(reqs, json_string(r->checks[i].req));
	}
	json_t *checks = json_array();
	for (size_t i = 0; i < r->check_count; i++) {
		const cf_check *c = &r->checks[i];
		const cf_requirement *q = cf_catalogue_find(run->cat, c->req);
		json_array_append_new(checks,
				      json_pack("{s:s, s:s, s:b, s:s}", "requirement", c->req,
						"level", q ? q->level_text : cf_level_name(c->level),
						"ok", c->ok, "message", c->message ? c->message : ""));
	}
	json_t *ev = json_array();
	for (size_t i = 0; i < r->packet_count; i++)
		json_array_append_new(ev, packet_json(run, &r->packets[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:s?, s:s?, s:s?, s:I, s:o, "
			 "s:o, s:o}",
			 "id", r->id, "suite", r->test->suite, "name", r->test->name, "title",
			 r->test->title, "verdict", cf_verdict_name(r->verdict), "blocking",
			 r->blocking, "warning", r->warning, "waived", r->waived, "waiver",
			 r->waiver, "reason", r->reason, "notes", r->notes, "duration_ms",
			 (json_int_t)r->duration_ms, "requirements", reqs, "checks", checks,
			 "evidence", ev);
}

/* A requirement's verdict in this run: fail if a check of it failed,
 * pass if checked and never failed, else untested/untestable/open. */
static const char *requirement_verdict(const cf_run *run, const cf_requirement *q)
{
	bool checked = false, failed = false;
	for (size_t i = 0; i < run->result_count; i++) {
		const cf_result *r = &run->results[i];
		for (size_t k = 0; k < r->check_count; k++)
			if (strcmp(r->checks[k].req, q->id) == 0) {
				checked = true;
				failed |= !r->checks[k].ok;
			}
	}
	if (failed)
		return "fail";
	if (checked)
		return "pass";
	if (q->untestable)
		return "untestable";
	if (q->tests)
		return "not-run";
	return "open";
}

json_t *cf_report_json(const cf_run *run)
{
	json_t *summary = json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s?, s:s, s:i}", "tests",
		(json_int_t)run->result_count, "pass", (json_int_t)run->counts[CF_PASS], "fail",
		(json_int_t)run->counts[CF_FAIL], "error", (json_int_t)run->counts[CF_ERROR], "skip",
		(json_int_t)run->counts[CF_SKIP], "not_applicable",
		(json_int_t)run->counts[CF_NOT_APPLICABLE], "warnings", (json_int_t)run->warnings,
		"blocking_failures", (json_int_t)run->blocking, "waived", (json_int_t)run->waived,
		"baseline", run->baseline[0] ? run->baseline : NULL, "result",
		run->exit_code == 0 ? "pass" : "fail", "exit_code", run->exit_code);
	json_t *suites = json_array();
	for (size_t i = 0; i < run->opts.suite_count; i++)
		json_array_append_new(suites, json_string(run->opts.suites[i]));
	json_t *options = json_pack("{s:o, s:s?, s:I, s:b, s:I, s:I, s:I}", "suites", suites,
				    "test_glob", run->opts.test_glob, "seed",
				    (json_int_t)run->opts.seed, "strict", run->opts.strict,
				    "recv_timeout_ms", (json_int_t)run->opts.recv_timeout_ms,
				    "silence_ms", (json_int_t)run->opts.silence_ms,
				    "test_timeout_ms", (json_int_t)run->opts.test_timeout_ms);
	json_object_set_new(options, "jobs", json_integer(run->opts.jobs > 1 ? run->opts.jobs : 1));
	json_object_set_new(options, "repeat",
			    json_integer(run->opts.repeat > 1 ? run->opts.repeat : 1));
	json_t *reqs = json_array();
	for (size_t i = 0; i < run->cat->count; i++) {
		const cf_requirement *q = &run->cat->reqs[i];
		json_t *tests = json_array();
		if (q->tests) {
			char *copy = strdup(q->tests), *save = NULL;
			for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t;
			     t = strtok_r(NULL, " ", &save))
				json_array_append_new(tests, json_string(t));
			free(copy);
		}
		json_array_append_new(
			reqs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s?, s:s}", "id", q->id,
					"rfc", q->rfc, "section", q->section, "level", q->level_text,
					"role", q->role, "text", q->text, "tests", tests,
					"untestable", q->untestable, "verdict",
					requirement_verdict(run, q)));
	}
	json_t *tests = json_array();
	for (size_t i = 0; i < run->result_count; i++)
		json_array_append_new(tests, result_json(run, &run->results[i]));
	return json_pack("{s:s, s:i, s:s, s:{s:s, s:s}, s:s, s:I, s:{s:s, s:s, s:s?, s:s?}, s:o, "
			 "s:o, s:o, s:o}",
			 "schema", "icelab-conformance-report", "schema_version", CF_SCHEMA_VERSION,
			 "run_id", run->run_id, "tool", "name", "icelab", "version", "0.1.0-dev",
			 "started_at", run->started_at, "duration_ms",
			 (json_int_t)run->duration_ms, "target", "kind", run->target_kind, "uri",
			 run->target_uri, "user", run->target_user[0] ? run->target_user : NULL,
			 "realm", run->target_realm[0] ? run->target_realm : NULL, "options",
			 options, "summary", summary, "requirements", reqs, "tests", tests);
}

int cf_report_write_all(const cf_run *run, const char *dir, char *err, size_t err_len)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, err_len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	char path[4096];
	json_t *doc = cf_report_json(run);
	char *text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (!text) {
		snprintf(err, err_len, "report.json: could not be built");
		return -1;
	}
	snprintf(path, sizeof path, "%s/report.json", dir);
	int rc = cf_write_file_atomic(path, text, strlen(text), err, err_len);
	free(text);
	if (rc < 0)
		return -1;
	snprintf(path, sizeof path, "%s/junit.xml", dir);
	if (cf_report_write_junit(run, path, err, err_len) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/report.html", dir);
	return cf_report_write_html(run, path, err, err_len);
}
