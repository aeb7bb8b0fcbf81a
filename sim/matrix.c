/* The preset matrix (issue #4 §2, pre-ICE form): for every pair of
 * presets and every mode, two peers ("alice" on the left, "bob" on the
 * right) try to reach each other, directly after learning their
 * server-reflexive addresses, or through TURN relays over UDP or TCP.
 *
 *   alice -- [left NAT(s)] --+                    +-- [right NAT(s)] -- bob
 *                            +---- internet ------+
 *                                |         |
 *            server (STUN/TURN, 192.0.2.1)   server-b (192.0.2.129)
 *
 * Expected outcomes follow from RFC 4787 (see pair_expected). */
#include "actors.h"
#include "sim_internal.h"

#include "icelab/sim_run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#define PAIR_DEADLINE_US (60ull * 1000000)
#define PROBE_INTERVAL_MS 20
#define PROBE_COUNT 100

const char *il_sim_mode_name(int mode)
{
	static const char *const names[] = {"direct", "turn-udp", "turn-tcp"};
	return mode >= 0 && mode < IL_SIM_MODE_COUNT ? names[mode] : "?";
}

/* ---- topology ---- */

typedef struct side_plan {
	const char *priv_host, *priv_gw;   /* 192.168.x.10 / .1 */
	const char *cgn_in, *cgn_out;      /* home NAT outside / CGN inside */
	const char *pub_nat, *pub_inet;    /* NAT outside / internet */
	const char *pub_host;              /* the host itself when open */
} side_plan;

static const side_plan plans[2] = {
	{"192.168.1.10/24", "192.168.1.1/24", "100.64.1.2/24", "100.64.1.1/24",
	 "203.0.113.2/24", "203.0.113.1/24", "203.0.113.10/24"},
	{"192.168.2.10/24", "192.168.2.1/24", "100.64.2.2/24", "100.64.2.1/24",
	 "198.51.100.2/24", "198.51.100.1/24", "198.51.100.10/24"},
};

static int link_cfg(il_sim_link_config *c, uint32_t latency_ms)
{
	il_sim_link_config_defaults(c);
	c->latency_us = latency_ms * 1000;
	return 0;
}

static int make_nat(il_sim *sim, int router, int outside, const il_sim_nat_config *cfg)
{
	if (il_sim_add_route(sim, router, "0.0.0.0/0", outside) < 0)
		return -1;
	return il_sim_set_nat(sim, router, outside, cfg);
}

/* Builds one side behind the NAT description; returns the host. */
static int build_side(il_sim *sim, int inet, int side, const char *desc, char *err,
		      size_t err_len)
{
	const side_plan *pl = &plans[side];
	const char *who = side ? "bob" : "alice";
	il_sim_nat_config cfg, outer;
	int layers;
	if (il_sim_preset_parse(desc, &cfg, &outer, &layers, err, err_len) < 0)
		return -1;
	il_sim_link_config access, wan;
	link_cfg(&access, 1);
	link_cfg(&wan, 10);
	int host = il_sim_add_host(sim, who);
	if (layers == 0) {
		if (il_sim_connect(sim, host, pl->pub_host, inet, pl->pub_inet, &wan, NULL) < 0)
			goto fail;
		return host;
	}
	char name[32];
	snprintf(name, sizeof name, "nat-%s", who);
	int nat = il_sim_add_router(sim, name);
	if (il_sim_connect(sim, host, pl->priv_host, nat, pl->priv_gw, &access, NULL) < 0)
		goto fail;
	if (layers == 1) {
		int up = il_sim_connect(sim, nat, pl->pub_nat, inet, pl->pub_inet, &wan, NULL);
		if (up < 0 || make_nat(sim, nat, up, &cfg) < 0)
			goto fail;
		return host;
	}
	/* CGN: the home NAT's outside is the carrier's shared space (RFC 6598). */
	snprintf(name, sizeof name, "cgn-%s", who);
	int cgn = il_sim_add_router(sim, name);
	int mid = il_sim_connect(sim, nat, pl->cgn_in, cgn, pl->cgn_out, &access, NULL);
	int up = il_sim_connect(sim, cgn, pl->pub_nat, inet, pl->pub_inet, &wan, NULL);
	if (mid < 0 || up < 0 || make_nat(sim, nat, mid, &cfg) < 0 ||
	    make_nat(sim, cgn, up, &outer) < 0)
		goto fail;
	return host;
fail:
	snprintf(err, err_len, "%s", il_sim_error(sim));
	return -1;
}

/* The same topology for the ICE matrix (matrix_ice.c). */
int sim_matrix_build_side(il_sim *sim, int inet, int side, const char *desc, char *err,
			  size_t err_len)
{
	return build_side(sim, inet, side, desc, err, err_len);
}

/* ---- one pair ---- */

typedef struct pair_run {
	il_sim *sim;
	sim_peer *peer[2];
	int mode;
	bool probing, permitting, failed;
	char detail[96];
} pair_run;

static void pair_tick(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	pair_run *r = arg;
	const sim_peer_state *a = sim_peer_get_state(r->peer[0]);
	const sim_peer_state *b = sim_peer_get_state(r->peer[1]);
	if (a->connected && b->connected) {
		il_sim_stop(sim);
		return;
	}
	if (r->mode == IL_SIM_MODE_DIRECT) {
		if (!r->probing && a->binding_done && b->binding_done) {
			if (!a->have_srflx || !b->have_srflx) {
				snprintf(r->detail, sizeof r->detail, "no srflx for %s",
					 !a->have_srflx ? "alice" : "bob");
				r->failed = true;
				il_sim_stop(sim);
				return;
			}
			r->probing = true;
			sim_peer_probe(r->peer[0], &b->srflx, PROBE_INTERVAL_MS, PROBE_COUNT);
			sim_peer_probe(r->peer[1], &a->srflx, PROBE_INTERVAL_MS, PROBE_COUNT);
		}
	} else {
		if (a->alloc_failed || b->alloc_failed) {
			snprintf(r->detail, sizeof r->detail, "allocation failed for %s",
				 a->alloc_failed ? "alice" : "bob");
			r->failed = true;
			il_sim_stop(sim);
			return;
		}
		if (!r->permitting && a->allocated && b->allocated) {
			r->permitting = true;
			sim_peer_permit(r->peer[0], &b->relayed);
			sim_peer_permit(r->peer[1], &a->relayed);
		}
		if (r->permitting && !r->probing && a->permitted && b->permitted) {
			r->probing = true;
			sim_peer_probe(r->peer[0], &b->relayed, PROBE_INTERVAL_MS, PROBE_COUNT);
			sim_peer_probe(r->peer[1], &a->relayed, PROBE_INTERVAL_MS, PROBE_COUNT);
		}
	}
	il_sim_schedule(sim, il_sim_now(sim) + 10000, pair_tick, r, 0);
}

int il_sim_pair_run(const char *left, const char *right, int mode, uint64_t seed,
		    const char *pcap_path, il_sim_pair_result *out, char *err, size_t err_len)
{
	memset(out, 0, sizeof *out);
	out->expected = il_sim_pair_expected(left, right, mode);
	il_sim *sim = il_sim_new(seed);
	if (!sim) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	int rc = -1;
	sim_server *srv = NULL, *srv_b = NULL;
	pair_run r;
	memset(&r, 0, sizeof r);
	r.sim = sim;
	r.mode = mode;
	int inet = il_sim_add_router(sim, "internet");
	/* Two servers: alice's relay and bob's. One server would refuse to
	 * relay between two of its own allocations (the TURN loop of RFC 8656
	 * §21.1.7), as it should. */
	int server = il_sim_add_host(sim, "server");
	int server_b = il_sim_add_host(sim, "server-b");
	il_sim_link_config lc;
	link_cfg(&lc, 5);
	int hosts[2];
	if (il_sim_connect(sim, server, "192.0.2.1/25", inet, "192.0.2.126/25", &lc, NULL) < 0 ||
	    il_sim_connect(sim, server_b, "192.0.2.129/25", inet, "192.0.2.254/25", &lc, NULL) < 0 ||
	    (hosts[0] = build_side(sim, inet, 0, left, err, err_len)) < 0 ||
	    (hosts[1] = build_side(sim, inet, 1, right, err, err_len)) < 0)
		goto done;
	if (pcap_path && il_sim_pcap_open(sim, pcap_path, false) < 0) {
		snprintf(err, err_len, "%s", il_sim_error(sim));
		goto done;
	}
	srv = sim_server_new(sim, server);
	srv_b = sim_server_new(sim, server_b);
	r.peer[0] = sim_peer_new(sim, hosts[0], "alice");
	r.peer[1] = sim_peer_new(sim, hosts[1], "bob");
	if (!srv || !srv_b || !r.peer[0] || !r.peer[1]) {
		snprintf(err, err_len, "cannot start the actors");
		goto done;
	}
	for (int i = 0; i < 2; i++) {
		il_addr sa = *sim_server_addr(i ? srv_b : srv);
		sa.port = 3478;
		if (mode == IL_SIM_MODE_DIRECT)
			sim_peer_start_binding(r.peer[i], &sa);
		else
			sim_peer_start_turn(r.peer[i], &sa, mode == IL_SIM_MODE_TURN_TCP);
	}
	il_sim_schedule(sim, 0, pair_tick, &r, 0);
	il_sim_run_until(sim, PAIR_DEADLINE_US);
	const sim_peer_state *a = sim_peer_get_state(r.peer[0]);
	const sim_peer_state *b = sim_peer_get_state(r.peer[1]);
	out->ok = a->connected && b->connected;
	out->packets = a->sent + b->sent;
	if (out->ok)
		out->time_ms = (a->connected_us > b->connected_us ? a->connected_us : b->connected_us) /
			       1000;
	else if (r.failed)
		snprintf(out->detail, sizeof out->detail, "%.95s", r.detail);
	else
		snprintf(out->detail, sizeof out->detail, "no answer to probes (%s %s)",
			 a->connected ? "alice ok," : "alice none,", b->connected ? "bob ok" : "bob none");
	rc = 0;
done:
	il_sim_pcap_close(sim);
	sim_peer_free(r.peer[0]);
	sim_peer_free(r.peer[1]);
	sim_server_free(srv);
	sim_server_free(srv_b);
	il_sim_free(sim);
	return rc;
}

/* ---- expectations (RFC 4787) ---- */

typedef struct effective {
	bool udp;
	int mapping, filtering;
} effective;

/* A side's behaviour as the far end sees it. Stacked NATs (cgn) compose:
 * EIM behind EIM is EIM, and the strictest filter wins. Paired pooling
 * keeps one external IP per host, so "address-dependent" checks pass for
 * every mapping of the same host. */
static effective side_effective(const char *desc)
{
	effective e = {true, IL_SIM_MAP_EIM, IL_SIM_FILTER_EIF};
	il_sim_nat_config c, o;
	int layers;
	char err[128];
	if (il_sim_preset_parse(desc, &c, &o, &layers, err, sizeof err) < 0 || layers == 0)
		return e;
	e.udp = !c.block_udp;
	e.mapping = c.mapping;
	e.filtering = c.filtering;
	if (layers == 2) {
		e.udp = e.udp && !o.block_udp;
		e.mapping = o.mapping > e.mapping ? o.mapping : e.mapping;
		e.filtering = o.filtering > e.filtering ? o.filtering : e.filtering;
	}
	return e;
}

/* Does a probe from x, sent to y's server-reflexive address, get in?
 * y's srflx is y's mapping towards the STUN server. It is also the
 * mapping y uses towards x only with EIM (RFC 4787 §4.1); then y's own
 * probes to x's srflx open y's filter for x's srflx. x's probe leaves
 * from x's mapping towards y: x's srflx itself only when x is EIM, else a
 * new port on the same IP.
 *   EIF: anything reaching a live mapping passes (§5).
 *   ADF: passes when y sent to x's IP: y is EIM (same IP for x, paired).
 *   APDF: passes when y sent to that exact endpoint: y EIM and x EIM. */
static bool reaches(const effective *x, const effective *y)
{
	if (y->filtering == IL_SIM_FILTER_EIF)
		return true;
	if (y->mapping != IL_SIM_MAP_EIM)
		return false;
	return y->filtering == IL_SIM_FILTER_ADF || x->mapping == IL_SIM_MAP_EIM;
}

/* Once x's probe reached y, y answers to its source (x's mapping towards
 * y's srflx, which x's probes opened for y's srflx). The answer leaves
 * from y's mapping towards that source: y's srflx when y is EIM. */
static bool answer_returns(const effective *x, const effective *y)
{
	return x->filtering != IL_SIM_FILTER_APDF || y->mapping == IL_SIM_MAP_EIM;
}

bool il_sim_pair_expected(const char *left, const char *right, int mode)
{
	effective l = side_effective(left), r = side_effective(right);
	switch (mode) {
	case IL_SIM_MODE_DIRECT:
		if (!l.udp || !r.udp)
			return false; /* no Binding response, no UDP path at all */
		return (reaches(&l, &r) && answer_returns(&l, &r)) ||
		       (reaches(&r, &l) && answer_returns(&r, &l));
	case IL_SIM_MODE_TURN_UDP:
		/* Each client talks to the server only; its NAT keeps that
		 * mapping and filter open (the server is the remote it sent to). */
		return l.udp && r.udp;
	default:
		return true; /* TCP 443 leaves every preset, udp-blocked included */
	}
}

/* ---- the whole matrix ---- */

static size_t preset_count(void)
{
	size_t n = 0;
	for (const char *const *p = il_sim_preset_names(); *p; p++)
		n++;
	return n;
}

il_sim_pair_result *il_sim_matrix_cell(const il_sim_matrix *m, int mode, size_t l, size_t r)
{
	size_t n = m->preset_count;
	return &m->cells[((size_t)mode * n + l) * n + r];
}

int il_sim_matrix_run(uint64_t seed, il_sim_matrix *m)
{
	memset(m, 0, sizeof *m);
	m->presets = il_sim_preset_names();
	m->preset_count = preset_count();
	size_t n = m->preset_count;
	m->cells = calloc(IL_SIM_MODE_COUNT * n * n, sizeof *m->cells);
	if (!m->cells)
		return -1;
	uint64_t t0 = sim_wall_clock_us();
	for (int mode = 0; mode < IL_SIM_MODE_COUNT; mode++)
		for (size_t l = 0; l < n; l++)
			for (size_t r = 0; r < n; r++) {
				il_sim_pair_result *c = il_sim_matrix_cell(m, mode, l, r);
				char err[160];
				if (il_sim_pair_run(m->presets[l], m->presets[r], mode, seed, NULL, c,
						    err, sizeof err) < 0)
					snprintf(c->detail, sizeof c->detail, "%.95s", err);
				if (c->ok != c->expected)
					m->mismatches++;
			}
	m->wall_us = sim_wall_clock_us() - t0;
	return 0;
}

void il_sim_matrix_free(il_sim_matrix *m)
{
	free(m->cells);
	m->cells = NULL;
}

void il_sim_matrix_print(const il_sim_matrix *m, FILE *out)
{
	size_t n = m->preset_count;
	for (int mode = 0; mode < IL_SIM_MODE_COUNT; mode++) {
		fprintf(out, "%s: left (rows) to right (columns); ok TIME_ms/PACKETS, -- no path, ! "
			     "not as expected\n",
			il_sim_mode_name(mode));
		fprintf(out, "%-8s", "");
		for (size_t r = 0; r < n; r++)
			fprintf(out, " %-11s", sim_preset_short_name(m->presets[r]));
		fputc('\n', out);
		for (size_t l = 0; l < n; l++) {
			fprintf(out, "%-8s", sim_preset_short_name(m->presets[l]));
			for (size_t r = 0; r < n; r++) {
				const il_sim_pair_result *c = il_sim_matrix_cell(m, mode, l, r);
				char cell[32];
				if (c->ok)
					snprintf(cell, sizeof cell, "%" PRIu64 "/%u", c->time_ms,
						 c->packets);
				else
					snprintf(cell, sizeof cell, "--");
				fprintf(out, " %s%-10s", c->ok != c->expected ? "!" : " ", cell);
			}
			fputc('\n', out);
		}
		fputc('\n', out);
	}
	fprintf(out, "%zu cells, %zu not as expected, %.3f s wall\n",
		IL_SIM_MODE_COUNT * n * n, m->mismatches, (double)m->wall_us / 1e6);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

int il_sim_matrix_write_json(const il_sim_matrix *m, uint64_t seed, const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	size_t n = m->preset_count;
	fprintf(f, "{\n  \"seed\": %" PRIu64 ",\n  \"form\": \"pre-ICE reachability\",\n", seed);
	fprintf(f, "  \"wall_ms\": %.3f,\n  \"mismatches\": %zu,\n  \"presets\": [",
		(double)m->wall_us / 1000, m->mismatches);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, m->presets[i]);
	}
	fputs("],\n  \"cells\": [\n", f);
	bool first = true;
	for (int mode = 0; mode < IL_SIM_MODE_COUNT; mode++)
		for (size_t l = 0; l < n; l++)
			for (size_t r = 0; r < n; r++) {
				const il_sim_pair_result *c = il_sim_matrix_cell(m, mode, l, r);
				fprintf(f, "%s    {\"left\": ", first ? "" : ",\n");
				first = false;
				json_str(f, m->presets[l]);
				fputs(", \"right\": ", f);
				json_str(f, m->presets[r]);
				fprintf(f, ", \"mode\": \"%s\", \"ok\": %s, \"expected\": %s, ",
					il_sim_mode_name(mode), c->ok ? "true" : "false",
					c->expected ? "true" : "false");
				if (c->ok)
					fprintf(f, "\"time_ms\": %" PRIu64 ", ", c->time_ms);
				else
					fputs("\"time_ms\": null, ", f);
				fprintf(f, "\"packets\": %u, \"detail\": ", c->packets);
				json_str(f, c->detail);
				fputc('}', f);
			}
	fputs("\n  ]\n}\n", f);
	if (fflush(f) != 0 || ferror(f)) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fclose(f);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}
