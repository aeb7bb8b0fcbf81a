/* The ICE matrix (issue #4 §2, issue #5 §4): for every pair of presets
 * and {no TURN, TURN/UDP, TURN/TCP}, alice (controlling, left preset) and
 * bob (controlled, right preset) run full ICE agents with gathering and
 * trickle across the topology of matrix.c:
 *
 *   alice -- [left NAT(s)] --+                    +-- [right NAT(s)] -- bob
 *                            +---- internet ------+
 *            server (STUN/TURN, 192.0.2.1)   server-b (192.0.2.129)
 *
 * Each cell: what the selected pair goes through (host, direct =
 * server- or peer-reflexive, relay, or failed), virtual ms until both
 * agents were connected, check requests sent. The expected outcome
 * (il_sim_ice_pair_expected) follows from RFC 8445 and RFC 4787. */
#include "actors.h"
#include "actors_ice.h"
#include "sim_internal.h"

#include "icelab/sim_ice.h"
#include "icelab/sim_run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CELL_DEADLINE_US (60ull * 1000000)
#define TICK_US 10000ull

const char *il_sim_ice_mode_name(int mode)
{
	static const char *const names[] = {"no-turn", "turn-udp", "turn-tcp"};
	return mode >= 0 && mode < IL_SIM_ICE_MODE_COUNT ? names[mode] : "?";
}

const char *il_sim_ice_outcome_name(int outcome)
{
	static const char *const names[] = {"failed", "host", "direct", "relay"};
	return outcome >= 0 && outcome <= IL_SIM_ICE_RELAY ? names[outcome] : "?";
}

/* ---- expectations ---- */

static bool preset_is_open(const char *desc)
{
	il_sim_nat_config c, o;
	int layers;
	char err[128];
	return il_sim_preset_parse(desc, &c, &o, &layers, err, sizeof err) == 0 && layers == 0;
}

static bool preset_udp(const char *desc)
{
	il_sim_nat_config c, o;
	int layers;
	char err[128];
	if (il_sim_preset_parse(desc, &c, &o, &layers, err, sizeof err) < 0 || layers == 0)
		return true;
	return !c.block_udp && !(layers == 2 && o.block_udp);
}

/* RFC 8445 §6.1.2.3, §8.1.1: a working pair of higher priority wins, and
 * every direct pair (host, srflx, prflx: type preferences 126, 100, 110)
 * outranks every pair with a relayed candidate (0), so:
 *   - both hosts public (open/open): host to host;
 *   - else a direct path when UDP hole punching works between the two
 *     NATs: the RFC 4787 reasoning of matrix.c (il_sim_pair_expected in
 *     direct mode: EIM sides, or EIF/ADF filters facing APDM...) —
 *     checks from both sides and triggered checks (§7.3.1.4) do exactly
 *     what its probes do; the pair is srflx or prflx;
 *   - else a relay when there is one: TURN over UDP needs UDP out on both
 *     sides (a UDP-blocked side gathers nothing usable); TURN over TCP 443
 *     leaves every preset, and the other side reaches the relayed address
 *     from its host base (its NAT keeps the mapping towards the relay);
 *   - else failed (both symmetric without TURN, a UDP-blocked side...). */
int il_sim_ice_pair_expected(const char *left, const char *right, int mode)
{
	if (preset_is_open(left) && preset_is_open(right))
		return IL_SIM_ICE_HOST;
	if (il_sim_pair_expected(left, right, IL_SIM_MODE_DIRECT))
		return IL_SIM_ICE_DIRECT;
	switch (mode) {
	case IL_SIM_ICE_TURN_UDP:
		return preset_udp(left) && preset_udp(right) ? IL_SIM_ICE_RELAY : IL_SIM_ICE_FAILED;
	case IL_SIM_ICE_TURN_TCP:
		return IL_SIM_ICE_RELAY;
	default:
		return IL_SIM_ICE_FAILED;
	}
}

/* ---- one cell ---- */

typedef struct cell_run {
	sim_ice *ice[2];
	bool media_sent;
} cell_run;

static bool finished(const sim_ice_state *s)
{
	return s->failed || s->state == IL_ICE_STATE_COMPLETED;
}

static void cell_tick(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	cell_run *r = arg;
	const sim_ice_state *a = sim_ice_get_state(r->ice[0]);
	const sim_ice_state *b = sim_ice_get_state(r->ice[1]);
	if (a->connected && b->connected && !r->media_sent) {
		r->media_sent = true;
		sim_ice_send_media(r->ice[0]);
		sim_ice_send_media(r->ice[1]);
	}
	bool media_done = a->media_received && b->media_received;
	if ((finished(a) && finished(b) && (media_done || a->failed || b->failed)) ||
	    (a->failed && b->failed)) {
		il_sim_stop(sim);
		return;
	}
	il_sim_schedule(sim, il_sim_now(sim) + TICK_US, cell_tick, r, 0);
}

static int outcome_of(const il_ice_pair_stats *p)
{
	if (p->local.type == IL_ICE_CAND_RELAY || p->remote.type == IL_ICE_CAND_RELAY)
		return IL_SIM_ICE_RELAY;
	if (p->local.type == IL_ICE_CAND_HOST && p->remote.type == IL_ICE_CAND_HOST)
		return IL_SIM_ICE_HOST;
	return IL_SIM_ICE_DIRECT;
}

static void fill_result(cell_run *r, il_sim *sim, il_sim_ice_result *out)
{
	const sim_ice_state *a = sim_ice_get_state(r->ice[0]);
	const sim_ice_state *b = sim_ice_get_state(r->ice[1]);
	il_sim_stats ss;
	il_sim_get_stats(sim, &ss);
	out->packets = (uint32_t)ss.packets_sent;
	out->checks = (uint32_t)(a->counters.requests_sent + b->counters.requests_sent);
	out->media = a->media_received && b->media_received;
	il_ice_pair_stats sel;
	bool both = a->connected && b->connected &&
		    il_ice_agent_get_selected_pair(sim_ice_agent(r->ice[0]), 0, 1, &sel) == IL_ICE_OK;
	if (!both) {
		out->outcome = IL_SIM_ICE_FAILED;
		out->local_type = out->remote_type = -1;
		snprintf(out->detail, sizeof out->detail, "alice %s, bob %s (gathered %u/%u/%u, %u/%u/%u)",
			 il_ice_state_name(a->state), il_ice_state_name(b->state), a->gather.host,
			 a->gather.srflx, a->gather.relay, b->gather.host, b->gather.srflx,
			 b->gather.relay);
		return;
	}
	out->outcome = outcome_of(&sel);
	out->local_type = sel.local.type;
	out->remote_type = sel.remote.type;
	uint64_t t = a->connected_us > b->connected_us ? a->connected_us : b->connected_us;
	out->time_ms = t / 1000;
	if (!out->media)
		snprintf(out->detail, sizeof out->detail, "connected but media did not cross");
}

/* The topology of matrix.c, a server on each side, two ICE endpoints
 * paired by signalling. 0, or -1 with err (the caller frees). */
static int cell_setup(il_sim *sim, cell_run *r, sim_server *srv[2], const char *left,
		      const char *right, const il_sim_ice_opts *o, bool restart_on_loss,
		      char *err, size_t err_len)
{
	int inet = il_sim_add_router(sim, "internet");
	int shost[2] = {il_sim_add_host(sim, "server"), il_sim_add_host(sim, "server-b")};
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 5000;
	int hosts[2];
	if (il_sim_connect(sim, shost[0], "192.0.2.1/25", inet, "192.0.2.126/25", &lc, NULL) < 0 ||
	    il_sim_connect(sim, shost[1], "192.0.2.129/25", inet, "192.0.2.254/25", &lc, NULL) < 0 ||
	    (hosts[0] = sim_matrix_build_side(sim, inet, 0, left, err, err_len)) < 0 ||
	    (hosts[1] = sim_matrix_build_side(sim, inet, 1, right, err, err_len)) < 0)
		return -1;
	if (o->pcap_path && il_sim_pcap_open(sim, o->pcap_path, false) < 0) {
		snprintf(err, err_len, "%s", il_sim_error(sim));
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		srv[i] = sim_server_new(sim, shost[i]);
		if (!srv[i]) {
			snprintf(err, err_len, "cannot start the servers");
			return -1;
		}
		sim_ice_opts io;
		sim_ice_opts_defaults(&io);
		io.name = i ? "bob" : "alice";
		io.controlling = i == 0;
		io.policy = o->policy[i];
		io.restart_on_consent_loss = restart_on_loss;
		if (o->signal_delay_ms)
			io.signal_delay_ms = o->signal_delay_ms;
		io.has_stun = true;
		io.stun = *sim_server_addr(srv[i]);
		io.stun.port = 3478;
		io.turn = io.stun;
		io.has_turn = o->mode != IL_SIM_ICE_NO_TURN;
		io.turn_transport = o->mode == IL_SIM_ICE_TURN_TCP ? IL_ICE_SERVER_TCP
								   : IL_ICE_SERVER_UDP;
		r->ice[i] = sim_ice_new(sim, hosts[i], &io);
		if (!r->ice[i]) {
			snprintf(err, err_len, "cannot start the ICE agents");
			return -1;
		}
	}
	sim_ice_pair_with(r->ice[0], r->ice[1]);
	sim_ice_start(r->ice[0]);
	sim_ice_start(r->ice[1]);
	return 0;
}

static void cell_teardown(il_sim *sim, cell_run *r, sim_server *srv[2])
{
	il_sim_pcap_close(sim);
	sim_ice_free(r->ice[0]);
	sim_ice_free(r->ice[1]);
	sim_server_free(srv[0]);
	sim_server_free(srv[1]);
	il_sim_free(sim);
}

int il_sim_ice_pair_run(const char *left, const char *right, const il_sim_ice_opts *o,
			uint64_t seed, il_sim_ice_result *out, char *err, size_t err_len)
{
	memset(out, 0, sizeof *out);
	out->expected = il_sim_ice_pair_expected(left, right, o->mode);
	il_sim *sim = il_sim_new(seed);
	if (!sim) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	sim_server *srv[2] = {NULL, NULL};
	cell_run r;
	memset(&r, 0, sizeof r);
	int rc = cell_setup(sim, &r, srv, left, right, o, false, err, err_len);
	if (rc == 0) {
		il_sim_schedule(sim, TICK_US, cell_tick, &r, 0);
		il_sim_run_until(sim, CELL_DEADLINE_US);
		fill_result(&r, sim, out);
	}
	cell_teardown(sim, &r, srv);
	return rc;
}

/* ---- ICE restart after a NAT reboot ---- */

typedef struct restart_run {
	cell_run cell;
	int nat;
	uint64_t flush_us;
	uint32_t media_before[2];
} restart_run;

static void restart_flush(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	restart_run *rr = arg;
	il_sim_nat_flush(sim, rr->nat);
}

/* Media every 100 ms both ways: a call in progress. */
static void restart_media(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	restart_run *rr = arg;
	for (int i = 0; i < 2; i++)
		sim_ice_send_media(rr->cell.ice[i]);
	il_sim_schedule(sim, il_sim_now(sim) + 100000, restart_media, rr, 0);
}

int il_sim_ice_restart_run(const char *left, const char *right, int mode, uint64_t seed,
			   uint64_t flush_at_ms, il_sim_ice_restart_result *out, char *err,
			   size_t err_len)
{
	memset(out, 0, sizeof *out);
	il_sim *sim = il_sim_new(seed);
	if (!sim) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	sim_server *srv[2] = {NULL, NULL};
	restart_run rr;
	memset(&rr, 0, sizeof rr);
	il_sim_ice_opts o = {.mode = mode};
	int rc = cell_setup(sim, &rr.cell, srv, left, right, &o, true, err, err_len);
	if (rc == 0 && (rr.nat = il_sim_find_node(sim, "nat-alice")) < 0) {
		snprintf(err, err_len, "alice is not behind a NAT ('%s')", left);
		rc = -1;
	}
	if (rc < 0) {
		cell_teardown(sim, &rr.cell, srv);
		return -1;
	}
	rr.flush_us = flush_at_ms * 1000;
	il_sim_schedule(sim, rr.flush_us, restart_flush, &rr, 0);
	il_sim_schedule(sim, 1000000, restart_media, &rr, 0);
	il_sim_run_until(sim, rr.flush_us - 1);
	il_ice_pair_stats before, after;
	il_ice_agent *alice = sim_ice_agent(rr.cell.ice[0]);
	out->connected = il_ice_agent_get_selected_pair(alice, 0, 1, &before) == IL_ICE_OK;
	out->before_local = out->connected ? before.local.type : -1;
	out->before_remote = out->connected ? before.remote.type : -1;
	for (int i = 0; i < 2; i++)
		rr.media_before[i] = sim_ice_get_state(rr.cell.ice[i])->media_received;
	il_sim_run_until(sim, rr.flush_us + 90ull * 1000000);
	const sim_ice_state *a = sim_ice_get_state(rr.cell.ice[0]);
	const sim_ice_state *b = sim_ice_get_state(rr.cell.ice[1]);
	out->checks = (uint32_t)(a->counters.requests_sent + b->counters.requests_sent);
	out->consent_lost = a->consent_lost && a->consent_lost_us > rr.flush_us;
	if (out->consent_lost)
		out->consent_lost_ms = (a->consent_lost_us - rr.flush_us) / 1000;
	out->restarted = a->restarts > 0 && b->restarts > 0;
	uint64_t done = a->restart_done_us > b->restart_done_us ? a->restart_done_us
								: b->restart_done_us;
	/* Media kept flowing after the new pair: at least 10 more packets
	 * each way than before the flush (one a 100 ms). */
	bool media = a->media_received > rr.media_before[0] + 10 &&
		     b->media_received > rr.media_before[1] + 10;
	out->recovered = out->restarted && a->restart_done_us && b->restart_done_us && media &&
			 il_ice_agent_get_selected_pair(alice, 0, 1, &after) == IL_ICE_OK;
	if (out->recovered) {
		out->recovery_ms = (done - rr.flush_us) / 1000;
		out->after_local = after.local.type;
		out->after_remote = after.remote.type;
		out->new_pair = !il_addr_equal(&after.local.addr, &before.local.addr);
	}
	cell_teardown(sim, &rr.cell, srv);
	return 0;
}

/* ---- the whole matrix ---- */

il_sim_ice_result *il_sim_ice_matrix_cell(const il_sim_ice_matrix *m, int mode, size_t l,
					  size_t r)
{
	size_t n = m->preset_count;
	return &m->cells[((size_t)mode * n + l) * n + r];
}

int il_sim_ice_matrix_run(uint64_t seed, il_sim_ice_matrix *m)
{
	memset(m, 0, sizeof *m);
	m->presets = il_sim_preset_names();
	while (m->presets[m->preset_count])
		m->preset_count++;
	size_t n = m->preset_count;
	m->cells = calloc(IL_SIM_ICE_MODE_COUNT * n * n, sizeof *m->cells);
	if (!m->cells)
		return -1;
	uint64_t t0 = sim_wall_clock_us();
	for (int mode = 0; mode < IL_SIM_ICE_MODE_COUNT; mode++)
		for (size_t l = 0; l < n; l++)
			for (size_t r = 0; r < n; r++) {
				il_sim_ice_result *c = il_sim_ice_matrix_cell(m, mode, l, r);
				il_sim_ice_opts o = {.mode = mode};
				char err[160];
				if (il_sim_ice_pair_run(m->presets[l], m->presets[r], &o, seed, c, err,
							sizeof err) < 0)
					snprintf(c->detail, sizeof c->detail, "%.95s", err);
				if (c->outcome != c->expected ||
				    (c->outcome != IL_SIM_ICE_FAILED && !c->media))
					m->mismatches++;
			}
	m->wall_us = sim_wall_clock_us() - t0;
	return 0;
}

void il_sim_ice_matrix_free(il_sim_ice_matrix *m)
{
	free(m->cells);
	m->cells = NULL;
}

static char type_letter(int type)
{
	return type >= 0 && type <= IL_ICE_CAND_RELAY ? "hspr"[type] : '?';
}

void il_sim_ice_matrix_print(const il_sim_ice_matrix *m, FILE *out)
{
	size_t n = m->preset_count;
	for (int mode = 0; mode < IL_SIM_ICE_MODE_COUNT; mode++) {
		fprintf(out, "ICE %s: alice (rows, controlling) to bob (columns); LOCAL/REMOTE type "
			     "(h host, s srflx, p prflx, r relay) MS/CHECKS, -- failed, ! not as "
			     "expected\n",
			il_sim_ice_mode_name(mode));
		fprintf(out, "%-8s", "");
		for (size_t r = 0; r < n; r++)
			fprintf(out, " %-13s", sim_preset_short_name(m->presets[r]));
		fputc('\n', out);
		for (size_t l = 0; l < n; l++) {
			fprintf(out, "%-8s", sim_preset_short_name(m->presets[l]));
			for (size_t r = 0; r < n; r++) {
				const il_sim_ice_result *c = il_sim_ice_matrix_cell(m, mode, l, r);
				char cell[40];
				if (c->outcome != IL_SIM_ICE_FAILED)
					snprintf(cell, sizeof cell, "%c/%c %" PRIu64 "/%u",
						 type_letter(c->local_type), type_letter(c->remote_type),
						 c->time_ms, c->checks);
				else
					snprintf(cell, sizeof cell, "--");
				bool bad = c->outcome != c->expected ||
					   (c->outcome != IL_SIM_ICE_FAILED && !c->media);
				fprintf(out, " %s%-12s", bad ? "!" : " ", cell);
			}
			fputc('\n', out);
		}
		fputc('\n', out);
	}
	fprintf(out, "%zu cells, %zu not as expected, %.3f s wall (ICE)\n",
		IL_SIM_ICE_MODE_COUNT * n * n, m->mismatches, (double)m->wall_us / 1e6);
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

static void json_cell(FILE *f, const il_sim_ice_matrix *m, int mode, size_t l, size_t r)
{
	const il_sim_ice_result *c = il_sim_ice_matrix_cell(m, mode, l, r);
	fputs("    {\"left\": ", f);
	json_str(f, m->presets[l]);
	fputs(", \"right\": ", f);
	json_str(f, m->presets[r]);
	fprintf(f, ", \"mode\": \"%s\", \"outcome\": \"%s\", \"expected\": \"%s\", ",
		il_sim_ice_mode_name(mode), il_sim_ice_outcome_name(c->outcome),
		il_sim_ice_outcome_name(c->expected));
	if (c->outcome != IL_SIM_ICE_FAILED)
		fprintf(f, "\"local\": \"%s\", \"remote\": \"%s\", \"time_ms\": %" PRIu64 ", ",
			il_ice_candidate_type_name(c->local_type),
			il_ice_candidate_type_name(c->remote_type), c->time_ms);
	else
		fputs("\"local\": null, \"remote\": null, \"time_ms\": null, ", f);
	fprintf(f, "\"checks\": %u, \"packets\": %u, \"media\": %s, \"detail\": ", c->checks,
		c->packets, c->media ? "true" : "false");
	json_str(f, c->detail);
	fputc('}', f);
}

int il_sim_ice_matrix_write_json(const il_sim_ice_matrix *m, uint64_t seed, const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	size_t n = m->preset_count;
	fprintf(f, "{\n  \"seed\": %" PRIu64 ",\n  \"form\": \"ICE\",\n", seed);
	fprintf(f, "  \"wall_ms\": %.3f,\n  \"mismatches\": %zu,\n  \"presets\": [",
		(double)m->wall_us / 1000, m->mismatches);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, m->presets[i]);
	}
	fputs("],\n  \"cells\": [\n", f);
	bool first = true;
	for (int mode = 0; mode < IL_SIM_ICE_MODE_COUNT; mode++)
		for (size_t l = 0; l < n; l++)
			for (size_t r = 0; r < n; r++) {
				fputs(first ? "" : ",\n", f);
				first = false;
				json_cell(f, m, mode, l, r);
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
