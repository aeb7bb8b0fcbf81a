/* The analysis as one self-contained HTML page (issue #7 §4): the
 * findings with links to the frames that prove them, a ladder diagram
 * (SVG) per SIP call of its signalling and of the ICE, TURN and DTLS
 * messages on its media addresses, one more ladder for STUN/TURN/DTLS
 * outside any call, and a per-direction RTP timeline (one bar per stream,
 * by second). No script, no external resource: the page can be mailed. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/html_escape.h"
#include "pcaps_internal.h"

#define LADDER_MAX_COLUMNS 8
#define LADDER_MAX_ROWS 240
#define LADDER_COL_W 170
#define LADDER_ROW_H 22
#define LADDER_LEFT 150
#define TIMELINE_W 900

static void esc(FILE *f, const char *s)
{
	il_escape_text(f, s, IL_ESCAPE_HTML_NO_CTRL);
}

/* Frames that have an anchor on the page (ladder rows, stream rows). */
typedef struct anchors {
	uint64_t *v;
	size_t n, cap;
} anchors;

static bool anchored(const anchors *an, uint64_t f)
{
	for (size_t i = 0; i < an->n; i++)
		if (an->v[i] == f)
			return true;
	return false;
}

static bool anchor_add(anchors *an, uint64_t f)
{
	if (anchored(an, f))
		return false;
	if (an->n == an->cap) {
		size_t cap = an->cap ? an->cap * 2 : 256;
		uint64_t *v = realloc(an->v, cap * sizeof *v);
		if (!v)
			return false;
		an->v = v;
		an->cap = cap;
	}
	an->v[an->n++] = f;
	return true;
}

/* One row of a ladder. */
typedef struct row {
	uint64_t frame, us;
	il_addr src, dst;
	const char *label;
	const char *cls; /* "sip", "sdp", "stun", "dtls" */
} row;

static int row_cmp(const void *x, const void *y)
{
	const row *a = x, *b = y;
	return a->frame < b->frame ? -1 : a->frame > b->frame;
}

static int column_of(il_addr *cols, size_t *n, const il_addr *x)
{
	for (size_t i = 0; i < *n; i++)
		if (il_addr_equal(&cols[i], x))
			return (int)i;
	if (*n == LADDER_MAX_COLUMNS)
		return -1;
	cols[*n] = *x;
	return (int)(*n)++;
}

static void ladder(const il_pcap_analysis *a, FILE *out, row *rows, size_t n, anchors *an)
{
	qsort(rows, n, sizeof *rows, row_cmp);
	il_addr cols[LADDER_MAX_COLUMNS];
	size_t ncol = 0, shown = 0;
	for (size_t i = 0; i < n; i++)
		if (column_of(cols, &ncol, &rows[i].src) >= 0)
			column_of(cols, &ncol, &rows[i].dst);
	if (n > LADDER_MAX_ROWS)
		n = LADDER_MAX_ROWS;
	size_t w = LADDER_LEFT + ncol * LADDER_COL_W + 20;
	size_t h = 40 + (n + 1) * LADDER_ROW_H;
	fprintf(out, "<svg class=\"ladder\" width=\"%zu\" height=\"%zu\" "
		     "xmlns=\"http://www.w3.org/2000/svg\">\n", w, h);
	for (size_t c = 0; c < ncol; c++) {
		char s[IL_ADDR_STRLEN];
		size_t x = LADDER_LEFT + c * LADDER_COL_W + LADDER_COL_W / 2;
		fprintf(out, "<text x=\"%zu\" y=\"16\" class=\"host\">%s</text>"
			     "<line x1=\"%zu\" y1=\"24\" x2=\"%zu\" y2=\"%zu\" class=\"life\"/>\n",
			x, pa_addr_str(&cols[c], s), x, x, h - 6);
	}
	for (size_t i = 0; i < n; i++) {
		const row *r = &rows[i];
		int c1 = column_of(cols, &ncol, &r->src), c2 = column_of(cols, &ncol, &r->dst);
		if (c1 < 0 || c2 < 0 || c1 == c2)
			continue;
		size_t y = 40 + shown++ * LADDER_ROW_H;
		size_t x1 = LADDER_LEFT + (size_t)c1 * LADDER_COL_W + LADDER_COL_W / 2;
		size_t x2 = LADDER_LEFT + (size_t)c2 * LADDER_COL_W + LADDER_COL_W / 2;
		bool id = anchor_add(an, r->frame);
		fprintf(out, "<g class=\"%s\"", r->cls);
		if (id)
			fprintf(out, " id=\"f%" PRIu64 "\"", r->frame);
		fprintf(out, "><text x=\"4\" y=\"%zu\" class=\"t\">%" PRIu64 "  %.3f s</text>"
			     "<line x1=\"%zu\" y1=\"%zu\" x2=\"%zu\" y2=\"%zu\" marker-end=\"url(#arrow)\"/>"
			     "<text x=\"%zu\" y=\"%zu\" class=\"lbl\">",
			y + 4, r->frame, pa_rel_s(a, r->us), x1, y + 8, x2, y + 8,
			(x1 < x2 ? x1 : x2) + 6, y + 3);
		esc(out, r->label);
		fputs("</text></g>\n", out);
	}
	fputs("<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" "
	      "orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#333\"/></marker></defs>\n</svg>\n",
	      out);
	if (shown < n || ncol == LADDER_MAX_COLUMNS)
		fprintf(out, "<p class=\"note\">%zu of %zu messages drawn (at most %d hosts, %d "
			     "rows).</p>\n", shown, n, LADDER_MAX_COLUMNS, LADDER_MAX_ROWS);
}

/* The call an address of a STUN/TURN/DTLS event belongs to, if any. */
static const pa_call *event_call(const il_pcap_analysis *a, const pa_event *e)
{
	uint8_t key[19];
	pa_key_addr(key, &e->src);
	const pa_call_addr *x = pa_table_find(&a->call_addrs, key);
	if (!x) {
		pa_key_addr(key, &e->dst);
		x = pa_table_find(&a->call_addrs, key);
	}
	return x ? x->call : NULL;
}

static const char *event_class(const pa_event *e)
{
	return strncmp(e->label, "DTLS", 4) == 0 ? "dtls" : "stun";
}

static void ladders(const il_pcap_analysis *a, FILE *out, anchors *an)
{
	size_t ncalls;
	pa_call **calls = pa_calls_sorted(a, &ncalls);
	row *rows = malloc((CALL_MAX_EVENTS + a->event_count + 1) * sizeof *rows);
	if (!rows) {
		free(calls);
		return;
	}
	for (size_t i = 0; calls && i < ncalls; i++) {
		const pa_call *c = calls[i];
		if (!c)
			continue;
		size_t n = 0;
		for (size_t k = 0; k < c->event_count; k++) {
			const pa_call_event *e = &c->events[k];
			rows[n++] = (row){e->frame, e->us, e->src, e->dst, e->label, e->sdp ? "sdp" : "sip"};
		}
		for (size_t k = 0; k < a->event_count; k++) {
			const pa_event *e = &a->events[k];
			if (event_call(a, e) == c)
				rows[n++] = (row){e->frame, e->us, e->src, e->dst, e->label, event_class(e)};
		}
		fputs("<h3>Call ", out);
		esc(out, c->call_id);
		fprintf(out, "</h3>\n<p>%" PRIu64 " SIP messages", c->messages);
		if (c->final_code)
			fprintf(out, ", final response %d (frame <a href=\"#f%" PRIu64 "\">%" PRIu64
				     "</a>)", c->final_code, c->final_frame, c->final_frame);
		if (c->reinvites)
			fprintf(out, ", %" PRIu64 " re-INVITE(s)", c->reinvites);
		if (c->bye_frame)
			fprintf(out, ", BYE from the %s", c->bye_side ? "callee" : "caller");
		fputs(".</p>\n", out);
		ladder(a, out, rows, n, an);
	}
	size_t n = 0;
	for (size_t k = 0; k < a->event_count; k++) {
		const pa_event *e = &a->events[k];
		if (!event_call(a, e))
			rows[n++] = (row){e->frame, e->us, e->src, e->dst, e->label, event_class(e)};
	}
	if (n) {
		fputs("<h3>STUN, TURN and DTLS outside any SIP call</h3>\n", out);
		ladder(a, out, rows, n, an);
	}
	if (a->events_dropped)
		fprintf(out, "<p class=\"note\">%zu later STUN/TURN/DTLS messages not kept for the "
			     "diagrams.</p>\n", a->events_dropped);
	free(rows);
	free(calls);
}

static int stream_cmp(const void *x, const void *y)
{
	const pa_rtp_stream *a = *(pa_rtp_stream *const *)x, *b = *(pa_rtp_stream *const *)y;
	return a->first_frame < b->first_frame ? -1 : a->first_frame > b->first_frame;
}

static void timeline(const il_pcap_analysis *a, FILE *out, anchors *an)
{
	size_t n = 0;
	pa_rtp_stream **v = malloc((a->rtp_streams.count + 1) * sizeof *v);
	if (!v)
		return;
	for (size_t i = 0; i < a->rtp_streams.cap; i++)
		if (a->rtp_streams.slots[i])
			v[n++] = a->rtp_streams.slots[i];
	qsort(v, n, sizeof *v, stream_cmp);
	uint64_t secs = a->frames ? (a->last_us - a->first_us) / US_PER_S + 1 : 1;
	if (secs > ACTIVE_SECONDS)
		secs = ACTIVE_SECONDS;
	double px = (double)TIMELINE_W / (double)secs;
	fputs("<h2>RTP timeline</h2>\n<p>One row per stream (direction and SSRC); a bar for "
	      "each second with packets.</p>\n<table class=\"tl\">\n", out);
	for (size_t i = 0; i < n; i++) {
		const pa_rtp_stream *s = v[i];
		char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
		bool id = anchor_add(an, s->first_frame);
		fputs("<tr", out);
		if (id)
			fprintf(out, " id=\"f%" PRIu64 "\"", s->first_frame);
		fprintf(out, "><td class=\"nm\">%s &#8594; %s%s<br>ssrc 0x%08" PRIx32 " pt %u, %" PRIu64
			     " pkts, lost %" PRId64 ", frames %" PRIu64 "&#8211;%" PRIu64 "</td><td>",
			pa_addr_str(&s->src, s1), pa_addr_str(&s->dst, s2),
			s->relayed ? " (TURN)" : "", s->key.ssrc, s->payload_type, s->packets,
			pa_rtp_lost(s), s->first_frame, s->last_frame);
		fprintf(out, "<svg width=\"%d\" height=\"18\" xmlns=\"http://www.w3.org/2000/svg\">"
			     "<rect x=\"0\" y=\"8\" width=\"%d\" height=\"2\" fill=\"#ddd\"/>",
			TIMELINE_W, TIMELINE_W);
		for (uint64_t t = 0; t < secs; t++) {
			if (!(s->active[t / 8] & (1u << (t % 8))))
				continue;
			uint64_t e = t;
			while (e + 1 < secs && (s->active[(e + 1) / 8] & (1u << ((e + 1) % 8))))
				e++;
			fprintf(out, "<rect x=\"%.1f\" y=\"2\" width=\"%.1f\" height=\"14\" class=\"on\"/>",
				(double)t * px, (double)(e - t + 1) * px);
			t = e;
		}
		fputs("</svg></td></tr>\n", out);
	}
	fprintf(out, "</table>\n<p class=\"note\">Scale: %" PRIu64 " s across.</p>\n", secs);
	free(v);
}

static void findings(const il_pcap_analysis *a, FILE *out, const anchors *an)
{
	fprintf(out, "<h2>Findings (%zu)</h2>\n", a->finding_count);
	if (!a->finding_count) {
		fputs("<p>Nothing to report.</p>\n", out);
		return;
	}
	fputs("<table class=\"fd\"><tr><th>severity</th><th>code</th><th>what</th><th>frames</th>"
	      "</tr>\n", out);
	for (size_t i = 0; i < a->finding_count; i++) {
		const pa_finding *f = &a->findings[i];
		const char *sev = il_pcap_severity_name(f->severity);
		fprintf(out, "<tr class=\"%s\"><td>%s</td><td><code>%s</code></td><td>", sev, sev,
			f->code);
		esc(out, f->message);
		fputs("</td><td>", out);
		for (uint8_t k = 0; k < f->evidence.count; k++) {
			uint64_t fr = f->evidence.frames[k];
			if (anchored(an, fr))
				fprintf(out, "%s<a href=\"#f%" PRIu64 "\">%" PRIu64 "</a>", k ? " " : "", fr,
					fr);
			else
				fprintf(out, "%s%" PRIu64, k ? " " : "", fr);
		}
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

static const char css[] =
	"body{font-family:sans-serif;margin:1.5em;color:#222}h1{font-size:1.4em}"
	"table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;"
	"vertical-align:top;font-size:13px}tr.error td:first-child{background:#f8d0d0}"
	"tr.warning td:first-child{background:#fbe9b8}tr.info td:first-child{background:#dde9f8}"
	".ladder{border:1px solid #ddd;margin:4px 0 16px}.ladder text{font-size:11px;"
	"font-family:monospace}.host{text-anchor:middle;font-weight:bold}.life{stroke:#999;"
	"stroke-dasharray:4 3}.ladder line{stroke:#333}.sip text.lbl{fill:#1a4d8f}"
	".sdp text.lbl{fill:#1a4d8f;font-weight:bold}.stun text.lbl{fill:#2e7d32}"
	".dtls text.lbl{fill:#8e24aa}.t{fill:#777}.tl td.nm{font-family:monospace;font-size:11px}"
	".on{fill:#3c78d8}.note{color:#777;font-size:12px}:target{outline:2px solid #e53935}";

int il_pcap_report_html(const il_pcap_analysis *a, FILE *out, const char *title)
{
	anchors an = {0};
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>icelab "
	      "pcap: ", out);
	esc(out, title);
	fprintf(out, "</title>\n<style>%s</style></head><body>\n<h1>icelab pcap analyze: ", css);
	esc(out, title);
	fprintf(out, "</h1>\n<p>%" PRIu64 " frames over %.3f s; %zu error, %zu warning finding(s); "
		     "%zu SIP call(s), %zu RTP stream(s), %zu ICE candidate pair(s), %zu TURN "
		     "allocation(s).</p>\n",
		a->frames, a->frames ? pa_rel_s(a, a->last_us) : 0.0,
		il_pcap_finding_count(a, IL_PCAP_ERROR),
		il_pcap_finding_count(a, IL_PCAP_WARNING) - il_pcap_finding_count(a, IL_PCAP_ERROR),
		a->calls.count, a->rtp_streams.count, a->ice_pairs.count, a->allocations.count);
	/* The diagrams come first in the file so the findings know which
	 * frames have anchors; CSS order puts the findings on top. */
	FILE *body = tmpfile();
	if (!body)
		return -1;
	fputs("<h2>Signalling</h2>\n<p>SIP (blue, SDP bold), STUN/ICE/TURN (green), DTLS "
	      "(purple); the left column gives frame number and time.</p>\n", body);
	ladders(a, body, &an);
	timeline(a, body, &an);
	findings(a, out, &an);
	rewind(body);
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, body)) > 0)
		fwrite(buf, 1, n, out);
	fclose(body);
	fputs("<p class=\"note\">Written by icelab (issue #7). Frame numbers are those of "
	      "Wireshark.</p>\n</body></html>\n", out);
	free(an.v);
	return ferror(out) ? -1 : 0;
}
