/* Suite ice-agent: two reference ICE agents (ref/ice) talking through the
 * simulator (sim/), judged on the RFC 8445 and RFC 7675 outcomes: roles,
 * checks answered, nomination, one selected pair on both sides, media on
 * it, role conflicts repaired, consent expiry. Builtin target only (it
 * needs virtual time and the implementation in process); elsewhere every
 * test is not-applicable. Evidence is the agents' own counters and
 * selected pairs, in the test's notes, and the first packets of the
 * simulator's capture (each datagram once, though it crosses two links).
 *
 *   alice 203.0.113.10 --- internet --- bob 198.51.100.10   (both public)
 * full-full-nat uses the NAT matrix's cell runner (sim_ice.h). */
#include "conformance.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sim/actors_ice.h"
#include "icelab/ice.h"
#include "icelab/sim_ice.h"

#define MS 1000ull
#define SEC 1000000ull
#define EVIDENCE_MAX 40

/* A capture file for one simulation; "" when none could be made. */
static void capture_path(char *out, size_t cap)
{
	snprintf(out, cap, "/tmp/icelab-cf-ice-XXXXXX.pcap");
	int fd = mkstemps(out, 5);
	if (fd < 0)
		out[0] = '\0';
	else
		close(fd);
}

/* The capture's first UDP datagrams as evidence, then the file goes. */
static void capture_to_evidence(cf_ctx *ctx, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = path[0] ? pcap_open_offline(path, err) : NULL;
	if (!pc) {
		if (path[0])
			unlink(path);
		return;
	}
	struct pcap_pkthdr *h;
	const u_char *b;
	uint8_t last[64];
	size_t last_len = 0, kept = 0;
	while (kept < EVIDENCE_MAX && pcap_next_ex(pc, &h, &b) == 1) {
		if (h->caplen < 28 || (b[0] >> 4) != 4 || b[9] != 17)
			continue;
		size_t ihl = (size_t)(b[0] & 0x0f) * 4;
		if (h->caplen < ihl + 8)
			continue;
		/* The same datagram on the next link: the NAT may rewrite the
		 * addresses, so compare the UDP payload's start and length. */
		size_t plen = h->caplen - ihl - 8, cmp = plen < sizeof last ? plen : sizeof last;
		if (cmp == last_len && memcmp(last, b + ihl + 8, cmp) == 0)
			continue;
		memcpy(last, b + ihl + 8, cmp);
		last_len = cmp;
		il_addr from = {.family = IL_AF_INET}, to = {.family = IL_AF_INET};
		memcpy(from.ip, b + 12, 4);
		memcpy(to.ip, b + 16, 4);
		from.port = (uint16_t)(b[ihl] << 8 | b[ihl + 1]);
		to.port = (uint16_t)(b[ihl + 2] << 8 | b[ihl + 3]);
		cf_evidence(ctx, true, "sim", &from, &to, b + ihl + 8, plen);
		kept++;
	}
	pcap_close(pc);
	unlink(path);
}

typedef struct world {
	cf_ctx *ctx;
	char pcap[64];
	il_sim *sim;
	int host[2];
	sim_ice *ice[2];
	uint32_t media_ok[2], media_after_consent_lost[2];
	bool ticking;
} world;

static bool need_builtin(cf_ctx *ctx)
{
	if (strcmp(cf_ctx_target(ctx)->kind, "builtin") != 0) {
		cf_not_applicable(ctx, "two agents of the same implementation in the simulator: "
				       "builtin target only");
		return false;
	}
	return true;
}

static bool world_build(cf_ctx *ctx, world *w, const sim_ice_opts o[2], uint64_t seed)
{
	static const char *const names[2] = {"alice", "bob"};
	static const char *const ifs[2] = {"203.0.113.10/24", "198.51.100.10/24"};
	static const char *const gws[2] = {"203.0.113.1/24", "198.51.100.1/24"};
	memset(w, 0, sizeof *w);
	w->ctx = ctx;
	w->sim = il_sim_new(seed);
	if (!w->sim) {
		cf_error(ctx, "out of memory");
		return false;
	}
	capture_path(w->pcap, sizeof w->pcap);
	if (w->pcap[0] && il_sim_pcap_open(w->sim, w->pcap, false) != 0) {
		unlink(w->pcap);
		w->pcap[0] = '\0';
	}
	int inet = il_sim_add_router(w->sim, "internet");
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 5000;
	for (int i = 0; i < 2; i++) {
		w->host[i] = il_sim_add_host(w->sim, names[i]);
		if (w->host[i] < 0 ||
		    il_sim_connect(w->sim, w->host[i], ifs[i], inet, gws[i], &lc, names[i]) < 0) {
			cf_error(ctx, "harness bug: simulator topology: %s", il_sim_error(w->sim));
			return false;
		}
		sim_ice_opts oi = o[i];
		oi.name = names[i];
		w->ice[i] = sim_ice_new(w->sim, w->host[i], &oi);
		if (!w->ice[i]) {
			cf_error(ctx, "harness bug: could not create agent %s", names[i]);
			return false;
		}
	}
	sim_ice_pair_with(w->ice[0], w->ice[1]);
	if (sim_ice_start(w->ice[0]) != 0 || sim_ice_start(w->ice[1]) != 0) {
		cf_error(ctx, "harness bug: the agents did not start");
		return false;
	}
	return true;
}

static void world_free(world *w)
{
	for (int i = 0; i < 2; i++)
		if (w->ice[i])
			sim_ice_free(w->ice[i]);
	w->ticking = false;
	if (w->sim) {
		il_sim_pcap_close(w->sim);
		il_sim_free(w->sim);
	}
	if (w->ctx)
		capture_to_evidence(w->ctx, w->pcap);
}

/* Media every 100 ms on each side's selected pair; a send the agent lets
 * through after it declared consent lost is counted against it. */
static void tick(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	world *w = arg;
	for (int i = 0; i < 2; i++) {
		const sim_ice_state *s = sim_ice_get_state(w->ice[i]);
		if (!s->has_selected)
			continue;
		bool lost = s->consent_lost;
		if (sim_ice_send_media(w->ice[i]) == IL_ICE_OK) {
			w->media_ok[i]++;
			w->media_after_consent_lost[i] += lost;
		}
	}
	il_sim_schedule(sim, il_sim_now(sim) + 100 * MS, tick, w, 0);
}

static void run_to(world *w, uint64_t at_us)
{
	if (!w->ticking) {
		w->ticking = true;
		il_sim_schedule(w->sim, il_sim_now(w->sim), tick, w, 0);
	}
	il_sim_run_until(w->sim, at_us);
}

static bool sel(world *w, int i, il_ice_pair_stats *p)
{
	return il_ice_agent_get_selected_pair(sim_ice_agent(w->ice[i]), 0, 1, p) == IL_ICE_OK;
}

/* Both sides selected the same pair (seen from either end), nominated. */
static bool same_pair(cf_ctx *ctx, world *w, const char *req)
{
	il_ice_pair_stats p[2];
	bool have = sel(w, 0, &p[0]) && sel(w, 1, &p[1]);
	char a[2][IL_ADDR_STRLEN] = {"-", "-"}, b[2][IL_ADDR_STRLEN] = {"-", "-"};
	if (have)
		for (int i = 0; i < 2; i++) {
			il_addr_format(&p[i].local.addr, a[i], sizeof a[i]);
			il_addr_format(&p[i].remote.addr, b[i], sizeof b[i]);
		}
	bool ok = have && p[0].nominated && p[1].nominated &&
		  il_addr_equal(&p[0].remote.addr, &p[1].local.addr) &&
		  il_addr_equal(&p[1].remote.addr, &p[0].local.addr);
	return cf_check_req(ctx, req, ok,
			    "selected: alice %s -> %s%s, bob %s -> %s%s", a[0], b[0],
			    have && p[0].nominated ? " (nominated)" : "", a[1], b[1],
			    have && p[1].nominated ? " (nominated)" : "");
}

static void note_counters(cf_ctx *ctx, world *w)
{
	for (int i = 0; i < 2; i++) {
		il_ice_counters c;
		il_ice_agent_get_counters(sim_ice_agent(w->ice[i]), &c);
		cf_note(ctx,
			"%s: %s, requests sent %llu / received %llu, responses sent %llu / received "
			"%llu, errors sent %llu, dropped %llu, role conflicts %llu, media sent %u",
			i ? "bob" : "alice", il_ice_state_name(sim_ice_get_state(w->ice[i])->state),
			(unsigned long long)c.requests_sent, (unsigned long long)c.requests_received,
			(unsigned long long)c.responses_sent, (unsigned long long)c.responses_received,
			(unsigned long long)c.errors_sent, (unsigned long long)c.dropped,
			(unsigned long long)c.role_conflicts, w->media_ok[i]);
	}
}

static void t_full_full_host(cf_ctx *ctx)
{
	if (!need_builtin(ctx))
		return;
	sim_ice_opts o[2];
	sim_ice_opts_defaults(&o[0]);
	sim_ice_opts_defaults(&o[1]);
	o[0].controlling = true;
	world w;
	if (!world_build(ctx, &w, o, 11)) {
		world_free(&w);
		return;
	}
	run_to(&w, 5 * SEC);
	note_counters(ctx, &w);
	il_ice_agent *a = sim_ice_agent(w.ice[0]), *b = sim_ice_agent(w.ice[1]);
	cf_check_req(ctx, "RFC8445-6.1.1-1",
		     il_ice_agent_is_controlling(a) && !il_ice_agent_is_controlling(b),
		     "the offerer alice is %s, bob %s",
		     il_ice_agent_is_controlling(a) ? "controlling" : "controlled",
		     il_ice_agent_is_controlling(b) ? "controlling" : "controlled");
	il_ice_counters ca, cb;
	il_ice_agent_get_counters(a, &ca);
	il_ice_agent_get_counters(b, &cb);
	cf_check_req(ctx, "RFC8445-7.2.2-1",
		     ca.requests_sent > 0 && cb.requests_received > 0 && cb.dropped == 0 &&
			     cb.responses_sent > 0,
		     "bob accepted alice's checks (short-term credentials): %llu received, %llu "
		     "answered, %llu dropped",
		     (unsigned long long)cb.requests_received, (unsigned long long)cb.responses_sent,
		     (unsigned long long)cb.dropped);
	cf_check_req(ctx, "RFC8445-7.2.2-2", ca.role_conflicts == 0 && cb.role_conflicts == 0,
		     "roles carried in the checks caused no conflict (%llu, %llu)",
		     (unsigned long long)ca.role_conflicts, (unsigned long long)cb.role_conflicts);
	cf_check_req(ctx, "RFC8445-7.3.1.4-1", cb.requests_sent > 0,
		     "the controlled bob sent %llu checks of his own (triggered or ordinary)",
		     (unsigned long long)cb.requests_sent);
	il_ice_pair_stats p;
	bool ok = sel(&w, 0, &p) && p.state == IL_ICE_PAIR_SUCCEEDED && p.valid;
	cf_check_req(ctx, "RFC8445-7.2.5.3-1", ok, "alice's selected pair is %s",
		     ok ? "Succeeded and valid" : "missing or not Succeeded");
	ok = sel(&w, 1, &p) && p.nominated;
	cf_check_req(ctx, "RFC8445-7.3.1.5-1", ok, "bob's selected pair %s nominated",
		     ok ? "is" : "is not");
	same_pair(ctx, &w, "RFC8445-8.1.1-1");
	il_ice_pair_stats pa;
	bool media = sel(&w, 0, &pa) && sel(&w, 1, &p) && pa.packets_sent > 0 &&
		     p.packets_received > 0 && sim_ice_get_state(w.ice[1])->media_received > 0;
	cf_check_req(ctx, "RFC8445-12.1-1", media,
		     "media on the selected pair: alice sent %llu, bob received %u",
		     (unsigned long long)pa.packets_sent, sim_ice_get_state(w.ice[1])->media_received);
	world_free(&w);
}

static void t_full_full_nat(cf_ctx *ctx)
{
	if (!need_builtin(ctx))
		return;
	il_sim_ice_opts o;
	memset(&o, 0, sizeof o);
	o.mode = IL_SIM_ICE_NO_TURN;
	char pcap[64];
	capture_path(pcap, sizeof pcap);
	o.pcap_path = pcap[0] ? pcap : NULL;
	il_sim_ice_result r;
	char err[128];
	/* A symmetric NAT on bob's side: alice learns him as peer-reflexive. */
	int rc = il_sim_ice_pair_run("full-cone", "symmetric", &o, 5, &r, err, sizeof err);
	capture_to_evidence(ctx, pcap);
	if (rc < 0) {
		cf_error(ctx, "harness bug: %s", err);
		return;
	}
	cf_note(ctx, "full-cone vs symmetric: %s (expected %s), alice's pair %s -> %s, %u checks, "
		     "%llu ms, %s",
		il_sim_ice_outcome_name(r.outcome), il_sim_ice_outcome_name(r.expected),
		il_ice_candidate_type_name(r.local_type), il_ice_candidate_type_name(r.remote_type),
		r.checks, (unsigned long long)r.time_ms, r.detail);
	cf_check_req(ctx, "RFC8445-7.2.5.3-1", r.outcome != IL_SIM_ICE_FAILED,
		     "connectivity through the NATs: %s", il_sim_ice_outcome_name(r.outcome));
	cf_check_req(ctx, "RFC8445-8.1.1-1", r.outcome == r.expected && r.media,
		     "outcome %s (RFC 4787 predicts %s), media both ways: %s",
		     il_sim_ice_outcome_name(r.outcome), il_sim_ice_outcome_name(r.expected),
		     r.media ? "yes" : "no");
	cf_check_req(ctx, "RFC8445-7.3.1.3-1",
		     r.local_type == IL_ICE_CAND_PRFLX || r.remote_type == IL_ICE_CAND_PRFLX,
		     "the selected pair involves a peer-reflexive candidate (%s -> %s)",
		     il_ice_candidate_type_name(r.local_type),
		     il_ice_candidate_type_name(r.remote_type));
}

static void t_full_lite(cf_ctx *ctx)
{
	if (!need_builtin(ctx))
		return;
	sim_ice_opts o[2];
	sim_ice_opts_defaults(&o[0]);
	sim_ice_opts_defaults(&o[1]);
	o[0].remote_lite = true; /* a=ice-lite in bob's SDP */
	o[1].lite = true;
	world w;
	if (!world_build(ctx, &w, o, 12)) {
		world_free(&w);
		return;
	}
	run_to(&w, 20 * SEC);
	note_counters(ctx, &w);
	il_ice_agent *full = sim_ice_agent(w.ice[0]), *lite = sim_ice_agent(w.ice[1]);
	cf_check_req(ctx, "RFC8445-6.1.1-3",
		     il_ice_agent_is_controlling(full) && !il_ice_agent_is_controlling(lite),
		     "facing a lite peer the full agent is %s, the lite one %s",
		     il_ice_agent_is_controlling(full) ? "controlling" : "controlled",
		     il_ice_agent_is_controlling(lite) ? "controlling" : "controlled");
	il_ice_counters c;
	il_ice_agent_get_counters(lite, &c);
	cf_check_req(ctx, "RFC8445-2.5-1", c.requests_sent == 0 && c.responses_sent > 0,
		     "the lite agent sent %llu checks and %llu responses (consent included)",
		     (unsigned long long)c.requests_sent, (unsigned long long)c.responses_sent);
	il_ice_pair_stats p;
	bool ok = sel(&w, 1, &p) && p.nominated;
	cf_check_req(ctx, "RFC8445-7.3.2-1", ok, "the lite agent %s a nominated pair",
		     ok ? "selected" : "did not select");
	same_pair(ctx, &w, "RFC8445-8.1.1-1");
	world_free(&w);
}

static void t_consent_expiry(cf_ctx *ctx)
{
	if (!need_builtin(ctx))
		return;
	sim_ice_opts o[2];
	sim_ice_opts_defaults(&o[0]);
	sim_ice_opts_defaults(&o[1]);
	o[0].controlling = true;
	world w;
	if (!world_build(ctx, &w, o, 13)) {
		world_free(&w);
		return;
	}
	run_to(&w, 5 * SEC);
	const sim_ice_state *a = sim_ice_get_state(w.ice[0]);
	if (!a->connected) {
		cf_error(ctx, "precondition failed: the agents did not connect");
		world_free(&w);
		return;
	}
	il_ice_pair_stats p;
	sel(&w, 0, &p);
	/* bob disappears: his link goes down, nothing answers alice. */
	il_sim_link_set_up(w.sim, il_sim_find_link(w.sim, "bob"), false);
	uint64_t cut_ms = il_sim_now(w.sim) / 1000;
	run_to(&w, 5 * SEC + 45 * SEC);
	a = sim_ice_get_state(w.ice[0]);
	note_counters(ctx, &w);
	uint64_t lost_ms = a->consent_lost_us / 1000;
	cf_check_req(ctx, "RFC7675-5.1-3",
		     a->consent_lost && lost_ms <= p.last_response_ms + 30000 + 100 &&
			     w.media_after_consent_lost[0] == 0,
		     "alice %s consent %llu ms after bob vanished, its last consent response "
		     "%llu ms before that (30 s allowed, a 100 ms tick of slack); media sent "
		     "after: %u",
		     a->consent_lost ? "lost" : "kept",
		     (unsigned long long)(a->consent_lost ? lost_ms - cut_ms : 0),
		     (unsigned long long)(cut_ms - p.last_response_ms), w.media_after_consent_lost[0]);
	world_free(&w);
}

static void t_role_conflict(cf_ctx *ctx)
{
	if (!need_builtin(ctx))
		return;
	static const char *const req[2] = {"RFC8445-7.3.1.1-1", "RFC8445-7.3.1.1-2"};
	for (int both = 0; both < 2 && !cf_stopped(ctx); both++) {
		sim_ice_opts o[2];
		sim_ice_opts_defaults(&o[0]);
		sim_ice_opts_defaults(&o[1]);
		o[0].controlling = o[1].controlling = both;
		world w;
		if (!world_build(ctx, &w, o, 14 + (uint64_t)both)) {
			world_free(&w);
			return;
		}
		run_to(&w, 5 * SEC);
		note_counters(ctx, &w);
		il_ice_agent *ag[2] = {sim_ice_agent(w.ice[0]), sim_ice_agent(w.ice[1])};
		il_ice_counters c[2];
		il_ice_agent_get_counters(ag[0], &c[0]);
		il_ice_agent_get_counters(ag[1], &c[1]);
		int larger = il_ice_agent_tie_breaker(ag[1]) > il_ice_agent_tie_breaker(ag[0]);
		bool one = il_ice_agent_is_controlling(ag[larger]) &&
			   !il_ice_agent_is_controlling(ag[!larger]);
		cf_check_req(ctx, req[both], one && c[0].role_conflicts + c[1].role_conflicts > 0,
			     "both %s: after %llu role conflicts the larger tie-breaker (%s) is %s, "
			     "the other %s",
			     both ? "controlling" : "controlled",
			     (unsigned long long)(c[0].role_conflicts + c[1].role_conflicts),
			     larger ? "bob" : "alice",
			     il_ice_agent_is_controlling(ag[larger]) ? "controlling" : "controlled",
			     il_ice_agent_is_controlling(ag[!larger]) ? "controlling" : "controlled");
		world_free(&w);
	}
}

static const cf_test tests[] = {
	{"ice-agent", "full-full-host",
	 "Two full agents: roles, checks answered, nomination, one selected pair, media", 0,
	 t_full_full_host},
	{"ice-agent", "full-full-nat",
	 "Two full agents through a full-cone and a symmetric NAT: connect via peer-reflexive", 0,
	 t_full_full_nat},
	{"ice-agent", "full-lite",
	 "Full against lite: the full agent controls, the lite one never checks, same pair", 0,
	 t_full_lite},
	{"ice-agent", "consent-expiry",
	 "The peer vanishes: consent lost within 30 s and no media after (RFC 7675)", 0,
	 t_consent_expiry},
	{"ice-agent", "role-conflict",
	 "Both controlled, then both controlling: the larger tie-breaker controls", 0,
	 t_role_conflict},
};

const cf_test *cf_suite_ice_agent(size_t *count)
{
	*count = sizeof tests / sizeof tests[0];
	return tests;
}
