/* matrix.html beside matrix.json (issue #4 §2): one self-contained page
 * (inline CSS, no script, no external resource) made from the JSON file
 * itself, so both forms of the matrix (the ICE one, sim/matrix_ice.c,
 * and the pre-ICE reachability one, sim/matrix.c) get the same page and
 * the page can never disagree with the data. A table per mode, the left
 * preset per row, the right one per column; a cell not as its RFC
 * expectation says is red. */
#include "icelab/sim_run.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "icelab/html_escape.h"

static void put_escaped(FILE *f, const char *s)
{
	il_escape_text(f, s, IL_ESCAPE_HTML);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* The cell's verdict: as expected, and whether the pair got through. */
static void cell_verdict(json_t *c, bool *as_expected, bool *through)
{
	json_t *ok = json_object_get(c, "ok");
	if (json_is_boolean(ok)) { /* reachability form */
		*through = json_is_true(ok);
		*as_expected = json_is_true(ok) == json_is_true(json_object_get(c, "expected"));
		return;
	}
	const char *outcome = str(c, "outcome");
	*through = strcmp(outcome, "failed") != 0 && *outcome;
	*as_expected = strcmp(outcome, str(c, "expected")) == 0;
}

static void write_cell(FILE *f, json_t *c)
{
	bool as_expected, through;
	cell_verdict(c, &as_expected, &through);
	fprintf(f, "<td class=\"%s\" title=\"", !as_expected ? "bad" : through ? "ok" : "no");
	put_escaped(f, str(c, "left"));
	fputs(" / ", f);
	put_escaped(f, str(c, "right"));
	if (*str(c, "detail")) {
		fputs(": ", f);
		put_escaped(f, str(c, "detail"));
	}
	fputs("\">", f);
	if (json_is_boolean(json_object_get(c, "ok"))) {
		fputs(through ? "reached" : "no", f);
	} else {
		put_escaped(f, str(c, "outcome"));
		if (*str(c, "local"))
			fprintf(f, "<br><small>%s/%s</small>", str(c, "local"), str(c, "remote"));
	}
	json_t *t = json_object_get(c, "time_ms");
	if (through && json_is_integer(t))
		fprintf(f, "<br><small>%lld ms</small>", (long long)json_integer_value(t));
	json_t *n = json_object_get(c, "checks");
	if (!json_is_integer(n))
		n = json_object_get(c, "packets");
	if (json_is_integer(n))
		fprintf(f, "<br><small>%lld %s</small>", (long long)json_integer_value(n),
			json_object_get(c, "checks") ? "checks" : "pkts");
	if (!as_expected) {
		fputs("<br><small>expected ", f);
		json_t *e = json_object_get(c, "expected");
		put_escaped(f, json_is_string(e) ? json_string_value(e)
				: json_is_true(e) ? "reached" : "no");
		fputs("</small>", f);
	}
	fputs("</td>", f);
}

static int write_page(FILE *f, json_t *root)
{
	json_t *presets = json_object_get(root, "presets");
	json_t *cells = json_object_get(root, "cells");
	if (!json_is_array(presets) || !json_is_array(cells))
		return -1;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>icelab NAT matrix</title>\n<style>\n"
	      "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\n"
	      "table{border-collapse:collapse;margin:1em 0 2em}\n"
	      "th,td{border:1px solid #bbb;padding:4px 6px;text-align:center;vertical-align:top}\n"
	      "th{background:#eee}td.ok{background:#dff0d8}td.no{background:#f2f2f2;color:#777}\n"
	      "td.bad{background:#f8d0d0;font-weight:bold}small{color:#555}\n"
	      "</style></head><body>\n<h1>icelab NAT matrix</h1>\n",
	      f);
	json_t *wall = json_object_get(root, "wall_ms");
	fputs("<p>Form: ", f);
	put_escaped(f, str(root, "form"));
	fprintf(f, ". Seed %lld, %zu cells, %lld not as expected, %.1f ms wall.</p>\n",
		(long long)json_integer_value(json_object_get(root, "seed")), json_array_size(cells),
		(long long)json_integer_value(json_object_get(root, "mismatches")),
		json_number_value(wall));
	fputs("<p>Rows: the left side's NAT (alice); columns: the right side's (bob). Green: "
	      "connected as the RFCs expect; grey: no path, as expected; red: not as "
	      "expected. Times are virtual.</p>\n",
	      f);
	/* Modes in the order they first appear. */
	const char *modes[16];
	size_t mode_count = 0;
	size_t i;
	json_t *c;
	json_array_foreach(cells, i, c) {
		const char *m = str(c, "mode");
		size_t k = 0;
		while (k < mode_count && strcmp(modes[k], m))
			k++;
		if (k == mode_count && mode_count < 16)
			modes[mode_count++] = m;
	}
	size_t np = json_array_size(presets);
	for (size_t m = 0; m < mode_count; m++) {
		fputs("<h2>", f);
		put_escaped(f, modes[m]);
		fputs("</h2>\n<table><tr><th>left \\ right</th>", f);
		for (size_t r = 0; r < np; r++) {
			fputs("<th>", f);
			put_escaped(f, json_string_value(json_array_get(presets, r)));
			fputs("</th>", f);
		}
		fputs("</tr>\n", f);
		for (size_t l = 0; l < np; l++) {
			const char *left = json_string_value(json_array_get(presets, l));
			fputs("<tr><th>", f);
			put_escaped(f, left);
			fputs("</th>", f);
			for (size_t r = 0; r < np; r++) {
				const char *right = json_string_value(json_array_get(presets, r));
				json_t *found = NULL;
				json_array_foreach(cells, i, c) {
					if (!strcmp(str(c, "mode"), modes[m]) &&
					    !strcmp(str(c, "left"), left ? left : "") &&
					    !strcmp(str(c, "right"), right ? right : "")) {
						found = c;
						break;
					}
				}
				if (found)
					write_cell(f, found);
				else
					fputs("<td>-</td>", f);
			}
			fputs("</tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	fputs("</body></html>\n", f);
	return 0;
}

int il_sim_matrix_write_html(const char *json_path, const char *html_path)
{
	json_error_t jerr;
	json_t *root = json_load_file(json_path, 0, &jerr);
	if (!root) {
		errno = EINVAL;
		return -1;
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", html_path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		json_decref(root);
		return -1;
	}
	int rc = write_page(f, root);
	json_decref(root);
	if (fclose(f) != 0 || rc < 0 || rename(tmp, html_path) < 0) {
		int e = rc < 0 ? EINVAL : errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}
