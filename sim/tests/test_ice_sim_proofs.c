/* The ICE proofs of issue #5 §4, each two ICE agents (sim/actors_ice.h)
 * on simulated hosts with virtual time, judged on the wire where the
 * claim is about the wire:
 *   - consent expiry when the peer disappears (RFC 7675 §5.1);
 *   - role conflict, both controlling and both controlled (RFC 8445 §7.3.1.1);
 *   - ICE-lite against a full agent behind a NAT (RFC 8445 §2.7, §6.1.1);
 *   - trickle with late server-reflexive candidates (RFC 8838);
 *   - a relay-only agent never sends from its host or server-reflexive
 *     address (issue #5 §2), read back from per-link captures.
 *
 * Topology (each side either public on the internet router, or behind
 * its own NAT router):
 *
 *   alice 10.0.1.10 -- nat-alice 203.0.113.10 --+
 *                                               internet -- server 192.0.2.1 (STUN/TURN)
 *   bob   10.0.2.10 -- nat-bob   198.51.100.10 -+
 */
#include "sim_test_util.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../actors.h"
#include "../actors_ice.h"
#include "icelab/ice.h"
#include "icelab/ice_gather.h"
#include "icelab/stun.h"

/* ---- topology ---- */

typedef struct side_spec {
	const char *nat;             /* preset, or NULL: a public host */
	sim_ice_opts ice;            /* name, controlling, policy... (servers filled) */
	bool stun, turn;
} side_spec;

typedef struct world {
	il_sim *sim;
	int inet, server_host;
	sim_server *server;
	il_addr server_addr;         /* 192.0.2.1:3478 */
	int host[2], lan[2], wan[2]; /* lan: host-nat (-1 when public); wan: to the internet */
	il_addr host_ip[2], outside_ip[2]; /* port 0; outside = host_ip when public */
	sim_ice *ice[2];
	char pcap[128];              /* per-link capture stem, or "" */
} world;

static const char *const side_name[2] = {"alice", "bob"};

static il_addr ip_only(const char *text)
{
	il_addr a = ip4(text);
	a.port = 0;
	return a;
}

static bool same_ip(const il_addr *a, const il_addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, 4) == 0;
}

static void build_side(world *w, int i, const side_spec *s)
{
	static const char *const lan_host[2] = {"10.0.1.10/24", "10.0.2.10/24"};
	static const char *const lan_nat[2] = {"10.0.1.1/24", "10.0.2.1/24"};
	static const char *const wan_in[2] = {"203.0.113.10/24", "198.51.100.10/24"};
	static const char *const wan_out[2] = {"203.0.113.1/24", "198.51.100.1/24"};
	char name[32];
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 5000;
	w->host[i] = il_sim_add_host(w->sim, side_name[i]);
	assert_true(w->host[i] >= 0);
	snprintf(name, sizeof name, "%s-wan", side_name[i]);
	if (!s->nat) {
		w->lan[i] = -1;
		w->wan[i] = il_sim_connect(w->sim, w->host[i], wan_in[i], w->inet, wan_out[i], &lc,
					   name);
		assert_true(w->wan[i] >= 0);
		w->host_ip[i] = w->outside_ip[i] = ip_only(i ? "198.51.100.10:0" : "203.0.113.10:0");
		return;
	}
	char rname[32];
	snprintf(rname, sizeof rname, "nat-%s", side_name[i]);
	int router = il_sim_add_router(w->sim, rname);
	assert_true(router >= 0);
	snprintf(name, sizeof name, "%s-lan", side_name[i]);
	w->lan[i] = il_sim_connect(w->sim, w->host[i], lan_host[i], router, lan_nat[i], &lc, name);
	snprintf(name, sizeof name, "%s-wan", side_name[i]);
	w->wan[i] = il_sim_connect(w->sim, router, wan_in[i], w->inet, wan_out[i], &lc, name);
	assert_true(w->lan[i] >= 0 && w->wan[i] >= 0);
	assert_int_equal(il_sim_add_route(w->sim, router, "0.0.0.0/0", w->wan[i]), 0);
	il_sim_nat_config cfg, outer;
	int layers;
	char err[128];
	assert_int_equal(il_sim_preset_parse(s->nat, &cfg, &outer, &layers, err, sizeof err), 0);
	assert_int_equal(layers, 1);
	assert_int_equal(il_sim_set_nat(w->sim, router, w->wan[i], &cfg), 0);
	w->host_ip[i] = ip_only(i ? "10.0.2.10:0" : "10.0.1.10:0");
	w->outside_ip[i] = ip_only(i ? "198.51.100.10:0" : "203.0.113.10:0");
}

/* Builds both sides and the server; the agents are made but not started.
 * capture: per-link pcap files under /tmp (read back by wire_scan). */
static void world_build(world *w, const side_spec spec[2], uint64_t seed, bool capture)
{
	memset(w, 0, sizeof *w);
	w->sim = il_sim_new(seed);
	assert_non_null(w->sim);
	w->inet = il_sim_add_router(w->sim, "internet");
	w->server_host = il_sim_add_host(w->sim, "server");
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 5000;
	assert_true(il_sim_connect(w->sim, w->server_host, "192.0.2.1/24", w->inet,
				   "192.0.2.254/24", &lc, "server") >= 0);
	for (int i = 0; i < 2; i++)
		build_side(w, i, &spec[i]);
	w->server = sim_server_new(w->sim, w->server_host);
	assert_non_null(w->server);
	w->server_addr = *sim_server_addr(w->server);
	w->server_addr.port = 3478;
	if (capture) {
		snprintf(w->pcap, sizeof w->pcap, "/tmp/icelab_ice_proofs_%ld.pcap", (long)getpid());
		assert_int_equal(il_sim_pcap_open(w->sim, w->pcap, true), 0);
	}
	for (int i = 0; i < 2; i++) {
		sim_ice_opts o = spec[i].ice;
		o.name = side_name[i];
		o.has_stun = spec[i].stun;
		o.has_turn = spec[i].turn;
		o.stun = o.turn = w->server_addr;
		o.turn_transport = IL_ICE_SERVER_UDP;
		w->ice[i] = sim_ice_new(w->sim, w->host[i], &o);
		assert_non_null(w->ice[i]);
	}
	sim_ice_pair_with(w->ice[0], w->ice[1]);
}

static void world_start(world *w)
{
	assert_int_equal(sim_ice_start(w->ice[0]), 0);
	assert_int_equal(sim_ice_start(w->ice[1]), 0);
}

/* Per-link capture file of a link, as il_sim_pcap_open names it. */
static void link_pcap_path(const world *w, int link, char *out, size_t len)
{
	size_t n = strlen(w->pcap) - strlen(".pcap");
	snprintf(out, len, "%.*s.%s.pcap", (int)n, w->pcap, il_sim_link_name(w->sim, link));
}

static void world_free(world *w)
{
	if (w->pcap[0]) {
		il_sim_pcap_close(w->sim);
		for (size_t l = 0; l < il_sim_link_count(w->sim); l++) {
			char path[256];
			link_pcap_path(w, (int)l, path, sizeof path);
			remove(path);
		}
	}
	sim_ice_free(w->ice[0]);
	sim_ice_free(w->ice[1]);
	sim_server_free(w->server);
	il_sim_free(w->sim);
}

/* ---- the wire, read back from a per-link capture ---- */

typedef struct wire_pkt {
	il_addr src, dst;            /* IPs and UDP ports */
	uint8_t proto;
	const uint8_t *payload;
	size_t len;
} wire_pkt;

typedef void (*wire_fn)(void *user, const wire_pkt *p);

/* Every IPv4 packet of a link's capture; returns how many. */
static size_t wire_scan(world *w, int link, wire_fn fn, void *user)
{
	il_sim_pcap_close(w->sim); /* flushes every file */
	char path[256], err[PCAP_ERRBUF_SIZE];
	link_pcap_path(w, link, path, sizeof path);
	pcap_t *pc = pcap_open_offline(path, err);
	if (!pc)
		print_error("%s: %s\n", path, err);
	assert_non_null(pc);
	struct pcap_pkthdr *h;
	const u_char *b;
	size_t n = 0;
	while (pcap_next_ex(pc, &h, &b) == 1) {
		assert_true(h->caplen >= 20 && (b[0] >> 4) == 4);
		size_t ihl = (size_t)(b[0] & 0x0f) * 4;
		wire_pkt p;
		memset(&p, 0, sizeof p);
		p.proto = b[9];
		p.src.family = p.dst.family = IL_AF_INET;
		memcpy(p.src.ip, b + 12, 4);
		memcpy(p.dst.ip, b + 16, 4);
		if (p.proto == IL_SIM_UDP && h->caplen >= ihl + 8) {
			p.src.port = (uint16_t)(b[ihl] << 8 | b[ihl + 1]);
			p.dst.port = (uint16_t)(b[ihl + 2] << 8 | b[ihl + 3]);
			p.payload = b + ihl + 8;
			p.len = h->caplen - ihl - 8;
		}
		fn(user, &p);
		n++;
	}
	pcap_close(pc);
	return n;
}

static bool is_binding(const wire_pkt *p, int cls)
{
	if (!p->payload || !il_stun_is_stun(p->payload, p->len))
		return false;
	unsigned type = (unsigned)(p->payload[0] << 8 | p->payload[1]);
	/* RFC 8489 §5: class bits C1 (0x0100) and C0 (0x0010). */
	unsigned c = ((type >> 7) & 2) | ((type >> 4) & 1);
	return (type & 0x3eef) == IL_STUN_BINDING && (int)c == cls;
}

/* ---- driving a call ---- */

typedef struct call {
	world *w;
	uint64_t tick_us, media_every_us, next_media_us;
	uint32_t media_ok[2], media_refused[2];
	void (*probe)(struct call *c); /* per tick, after the media */
	void *user;
} call;

static void call_tick(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	call *c = arg;
	uint64_t now = il_sim_now(sim);
	if (c->media_every_us && now >= c->next_media_us) {
		c->next_media_us = now + c->media_every_us;
		for (int i = 0; i < 2; i++) {
			if (!sim_ice_get_state(c->w->ice[i])->has_selected)
				continue;
			int rc = sim_ice_send_media(c->w->ice[i]);
			if (rc == IL_ICE_OK)
				c->media_ok[i]++;
			else if (rc == IL_ICE_ERR_NO_CONSENT)
				c->media_refused[i]++;
		}
	}
	if (c->probe)
		c->probe(c);
	il_sim_schedule(sim, now + c->tick_us, call_tick, c, 0);
}

static void call_begin(call *c, world *w, uint64_t tick_us, uint64_t media_every_us)
{
	memset(c, 0, sizeof *c);
	c->w = w;
	c->tick_us = tick_us;
	c->media_every_us = media_every_us;
	il_sim_schedule(w->sim, il_sim_now(w->sim), call_tick, c, 0);
}

static void run_to(world *w, uint64_t at_us)
{
	il_sim_run_until(w->sim, at_us);
}

static il_ice_pair_stats selected(world *w, int i)
{
	il_ice_pair_stats p;
	assert_int_equal(il_ice_agent_get_selected_pair(sim_ice_agent(w->ice[i]), 0, 1, &p),
			 IL_ICE_OK);
	return p;
}

static void assert_connected_with_media(world *w)
{
	for (int i = 0; i < 2; i++) {
		const sim_ice_state *s = sim_ice_get_state(w->ice[i]);
		if (!s->connected || !s->media_received)
			print_error("%s: %s, %u media received\n", side_name[i],
				    il_ice_state_name(s->state), s->media_received);
		assert_true(s->connected);
		assert_true(s->media_received > 0);
	}
}

/* ---- 1. consent expiry when the peer disappears ---- */

typedef struct consent_watch {
	uint64_t last_response_ms;   /* alice's selected pair, while consent holds */
	bool expired_seen;
	uint64_t seen_us;
	il_sim_link_stats wire_at_expiry; /* alice's link, alice to internet */
} consent_watch;

static void consent_probe(call *c)
{
	consent_watch *cw = c->user;
	world *w = c->w;
	const sim_ice_state *a = sim_ice_get_state(w->ice[0]);
	if (cw->expired_seen)
		return;
	if (a->consent_lost) {
		cw->expired_seen = true;
		cw->seen_us = il_sim_now(w->sim);
		il_sim_link_get_stats(w->sim, w->wan[0], 0, &cw->wire_at_expiry);
		return;
	}
	il_ice_pair_stats p;
	if (il_ice_agent_get_selected_pair(sim_ice_agent(w->ice[0]), 0, 1, &p) == IL_ICE_OK)
		cw->last_response_ms = p.last_response_ms;
}

/* RFC 7675 §5.1: "Consent expires after 30 seconds. [...] if no
 * response has been received [...] the ICE agent MUST cease
 * transmission on that 5-tuple." The peer's link goes down mid-call; alice
 * (public, host candidate only, no server: everything she sends is to
 * bob) must stop at 30 s after her last consent response, go
 * disconnected then failed, and put nothing more on the wire. */
static void test_consent_expires_when_the_peer_disappears(void **state)
{
	(void)state;
	side_spec spec[2];
	memset(spec, 0, sizeof spec);
	sim_ice_opts_defaults(&spec[0].ice);
	sim_ice_opts_defaults(&spec[1].ice);
	spec[0].ice.controlling = true;
	world w;
	world_build(&w, spec, 7, false);
	world_start(&w);
	call c;
	consent_watch cw;
	memset(&cw, 0, sizeof cw);
	call_begin(&c, &w, 1 * MS, 100 * MS);
	c.probe = consent_probe;
	c.user = &cw;

	const uint64_t cut_us = 12 * SEC;
	run_to(&w, cut_us);
	assert_connected_with_media(&w);
	assert_false(sim_ice_get_state(w.ice[0])->consent_lost);
	uint32_t sent_before = c.media_ok[0];
	il_sim_link_set_up(w.sim, w.wan[1], false); /* bob is gone */

	/* RFC 7675 §5.1 leaves "disconnected" to the agent: 10 s here. */
	run_to(&w, cut_us + 20 * SEC);
	assert_int_equal(sim_ice_get_state(w.ice[0])->state, IL_ICE_STATE_DISCONNECTED);
	assert_false(cw.expired_seen);

	run_to(&w, cut_us + 60 * SEC);
	const sim_ice_state *a = sim_ice_get_state(w.ice[0]);
	assert_true(cw.expired_seen && a->consent_lost);
	/* The last response came before the cut, within one consent interval
	 * (5 s, jittered up to 6 s) of it; expiry exactly 30 s later. */
	assert_true(cw.last_response_ms * MS <= cut_us);
	assert_true(cw.last_response_ms * MS + 6 * SEC + 500 * MS >= cut_us);
	assert_int_equal(a->consent_lost_us, (cw.last_response_ms + 30000) * MS);
	assert_true(cw.seen_us - a->consent_lost_us <= 1 * MS);
	assert_int_equal(a->state, IL_ICE_STATE_FAILED);
	/* Media was sent until the expiry and refused after it. */
	assert_true(c.media_ok[0] > sent_before + 100);
	assert_true(c.media_refused[0] > 250);
	/* Nothing on the wire from alice after the expiry: no media, no
	 * consent request, no check. */
	il_sim_link_stats end;
	il_sim_link_get_stats(w.sim, w.wan[0], 0, &end);
	assert_true(end.sent > 0);
	if (end.sent != cw.wire_at_expiry.sent)
		print_error("alice sent %llu datagrams after consent expired\n",
			    (unsigned long long)(end.sent - cw.wire_at_expiry.sent));
	assert_int_equal(end.sent, cw.wire_at_expiry.sent);
	/* bob lost consent too (nothing reaches him). */
	assert_true(sim_ice_get_state(w.ice[1])->consent_lost);
	world_free(&w);
}

/* ---- 2. role conflict ---- */

/* RFC 8445 §7.3.1.1: with both agents in the same role the one with the
 * larger tie-breaker keeps (or takes) the controlling role, the other
 * answers 487 or switches; the session connects with exactly one
 * controlling agent, which nominated the pair both use. */
static void test_role_conflict_resolves_to_one_controlling_agent(void **state)
{
	(void)state;
	for (int both_controlling = 1; both_controlling >= 0; both_controlling--) {
		for (uint64_t seed = 1; seed <= 4; seed++) {
			side_spec spec[2];
			memset(spec, 0, sizeof spec);
			for (int i = 0; i < 2; i++) {
				sim_ice_opts_defaults(&spec[i].ice);
				spec[i].ice.controlling = both_controlling;
			}
			world w;
			world_build(&w, spec, seed, false);
			il_ice_agent *ag[2] = {sim_ice_agent(w.ice[0]), sim_ice_agent(w.ice[1])};
			uint64_t tb[2] = {il_ice_agent_tie_breaker(ag[0]),
					  il_ice_agent_tie_breaker(ag[1])};
			assert_true(tb[0] != tb[1]);
			assert_int_equal(il_ice_agent_is_controlling(ag[0]), both_controlling);
			assert_int_equal(il_ice_agent_is_controlling(ag[1]), both_controlling);
			world_start(&w);
			call c;
			call_begin(&c, &w, 10 * MS, 100 * MS);
			run_to(&w, 8 * SEC);
			assert_connected_with_media(&w);
			int winner = tb[0] > tb[1] ? 0 : 1;
			if (il_ice_agent_is_controlling(ag[winner]) == il_ice_agent_is_controlling(ag[!winner]) ||
			    !il_ice_agent_is_controlling(ag[winner]))
				print_error("seed %llu, both %s: alice %s, bob %s\n",
					    (unsigned long long)seed,
					    both_controlling ? "controlling" : "controlled",
					    il_ice_agent_is_controlling(ag[0]) ? "controlling" : "controlled",
					    il_ice_agent_is_controlling(ag[1]) ? "controlling" : "controlled");
			assert_true(il_ice_agent_is_controlling(ag[winner]));
			assert_false(il_ice_agent_is_controlling(ag[!winner]));
			const sim_ice_state *s[2] = {sim_ice_get_state(w.ice[0]),
						     sim_ice_get_state(w.ice[1])};
			assert_true(s[0]->counters.role_conflicts + s[1]->counters.role_conflicts > 0);
			/* Nominated by the controlling agent: the same pair on both sides. */
			assert_int_equal(s[0]->state, IL_ICE_STATE_COMPLETED);
			assert_int_equal(s[1]->state, IL_ICE_STATE_COMPLETED);
			il_ice_pair_stats p0 = selected(&w, 0), p1 = selected(&w, 1);
			assert_true(p0.nominated && p1.nominated);
			assert_true(il_addr_equal(&p0.local.addr, &p1.remote.addr));
			assert_true(il_addr_equal(&p0.remote.addr, &p1.local.addr));
			world_free(&w);
		}
	}
}

/* ---- 3. ICE-lite against a full agent ---- */

typedef struct lite_wire {
	il_addr lite_ip;
	size_t requests, responses, media;
} lite_wire;

static void count_lite(void *user, const wire_pkt *p)
{
	lite_wire *lw = user;
	if (!same_ip(&p->src, &lw->lite_ip))
		return;
	if (is_binding(p, IL_STUN_REQUEST))
		lw->requests++;
	else if (is_binding(p, IL_STUN_SUCCESS))
		lw->responses++;
	else if (p->payload && !il_stun_is_stun(p->payload, p->len))
		lw->media++;
}

/* RFC 8445 §2.7: a lite agent (public host) never sends a check; the full
 * agent (behind a port-restricted cone NAT) takes the controlling role
 * (§6.1.1, though it was given the controlled one), checks and nominates;
 * consent (RFC 7675) runs one way, answered by the lite agent, for 40 s. */
static void test_lite_agent_against_full_agent_behind_nat(void **state)
{
	(void)state;
	side_spec spec[2];
	memset(spec, 0, sizeof spec);
	sim_ice_opts_defaults(&spec[0].ice);
	sim_ice_opts_defaults(&spec[1].ice);
	spec[0].nat = "port-restricted-cone";
	spec[0].stun = true;
	spec[0].ice.controlling = false;
	spec[0].ice.remote_lite = true;
	spec[1].ice.lite = true;
	world w;
	world_build(&w, spec, 3, true);
	world_start(&w);
	call c;
	call_begin(&c, &w, 10 * MS, 100 * MS);
	run_to(&w, 40 * SEC);
	assert_connected_with_media(&w);
	il_ice_agent *full = sim_ice_agent(w.ice[0]), *lite = sim_ice_agent(w.ice[1]);
	assert_true(il_ice_agent_is_controlling(full));
	assert_false(il_ice_agent_is_controlling(lite));
	const sim_ice_state *a = sim_ice_get_state(w.ice[0]);
	const sim_ice_state *b = sim_ice_get_state(w.ice[1]);
	assert_true(a->counters.requests_sent > 0);
	assert_int_equal(b->counters.requests_sent, 0);
	assert_true(b->counters.responses_sent > 0);
	/* Consent kept alive by the lite agent's answers. */
	assert_false(a->consent_lost);
	il_ice_pair_stats p = selected(&w, 0);
	assert_true(p.nominated);
	assert_true(same_ip(&p.remote.addr, &w.host_ip[1]));
	assert_true(p.consent_requests_sent >= 5);
	/* On the lite agent's wire: answers and media, never a request. */
	lite_wire lw = {.lite_ip = w.host_ip[1]};
	assert_true(wire_scan(&w, w.wan[1], count_lite, &lw) > 0);
	if (lw.requests)
		print_error("the lite agent sent %zu Binding requests\n", lw.requests);
	assert_int_equal(lw.requests, 0);
	assert_true(lw.responses >= p.consent_requests_sent);
	assert_true(lw.media > 100);
	world_free(&w);
}

/* ---- 4. trickle with late candidates ---- */

typedef struct trickle_watch {
	uint64_t first_srflx_us;     /* alice first holds one of bob's srflx candidates */
} trickle_watch;

static void trickle_probe(call *c)
{
	trickle_watch *tw = c->user;
	if (tw->first_srflx_us)
		return;
	il_ice_agent *a = sim_ice_agent(c->w->ice[0]);
	for (size_t k = 0; k < il_ice_agent_remote_candidate_count(a, 0); k++)
		if (il_ice_agent_remote_candidate(a, 0, k)->type == IL_ICE_CAND_SRFLX)
			tw->first_srflx_us = il_sim_now(c->w->sim);
}

typedef struct trickle_result {
	uint64_t started_us, first_srflx_us, connected_us;
	il_ice_pair_stats pair;      /* alice's selected pair */
	il_addr bob_srflx;           /* as bob gathered it */
} trickle_result;

static trickle_result run_trickle(uint32_t late_ms)
{
	side_spec spec[2];
	memset(spec, 0, sizeof spec);
	for (int i = 0; i < 2; i++) {
		sim_ice_opts_defaults(&spec[i].ice);
		spec[i].nat = "port-restricted-cone";
		spec[i].stun = true;
	}
	spec[0].ice.controlling = true;
	spec[1].ice.srflx_signal_delay_ms = late_ms;
	world w;
	world_build(&w, spec, 11, false);
	world_start(&w);
	call c;
	trickle_watch tw = {0};
	call_begin(&c, &w, 1 * MS, 100 * MS);
	c.probe = trickle_probe;
	c.user = &tw;
	run_to(&w, 10 * SEC);
	assert_connected_with_media(&w);
	trickle_result r;
	memset(&r, 0, sizeof r);
	const sim_ice_state *a = sim_ice_get_state(w.ice[0]);
	r.started_us = a->started_us;
	r.connected_us = a->connected_us;
	r.first_srflx_us = tw.first_srflx_us;
	r.pair = selected(&w, 0);
	il_ice_agent *bob = sim_ice_agent(w.ice[1]);
	for (size_t k = 0; k < il_ice_agent_local_candidate_count(bob, 0); k++) {
		const il_ice_candidate *lc = il_ice_agent_local_candidate(bob, 0, k);
		if (lc->type == IL_ICE_CAND_SRFLX)
			r.bob_srflx = lc->addr;
	}
	assert_int_equal(r.bob_srflx.family, IL_AF_INET);
	assert_true(same_ip(&r.bob_srflx, &w.outside_ip[1]));
	world_free(&w);
	return r;
}

/* RFC 8838: candidates may come after the checks started. Both sides
 * behind port-restricted cone NATs, so alice needs bob's server-reflexive
 * candidate to open her NAT towards him: delivered 500 ms late, the
 * agents still connect, after it came, on the same pair as on time. */
static void test_trickle_with_late_srflx_candidates(void **state)
{
	(void)state;
	trickle_result on_time = run_trickle(0);
	trickle_result late = run_trickle(500);
	assert_true(on_time.first_srflx_us > 0 && late.first_srflx_us > 0);
	assert_true(on_time.first_srflx_us < on_time.started_us + 500 * MS);
	/* Checks started, then bob's srflx came at least 500 ms later. */
	assert_true(late.started_us > 0 && late.started_us < 200 * MS);
	assert_true(late.first_srflx_us >= late.started_us + 500 * MS);
	/* No path before it (the NATs filter), a connection after it. */
	assert_true(late.connected_us >= late.first_srflx_us);
	assert_true(late.connected_us > on_time.connected_us + 400 * MS);
	/* The expected pair: bob's server-reflexive address, as on time. */
	assert_true(il_addr_equal(&late.pair.remote.addr, &late.bob_srflx));
	assert_true(il_addr_equal(&on_time.pair.remote.addr, &on_time.bob_srflx));
	assert_true(il_addr_equal(&late.pair.local.addr, &on_time.pair.local.addr));
	assert_true(il_addr_equal(&late.pair.remote.addr, &on_time.pair.remote.addr));
}

/* ---- 5. relay-only on the wire ---- */

typedef struct relay_wire {
	il_addr from_ip;             /* alice's address on this link */
	il_addr turn;                /* the TURN server, ip and port */
	il_addr forbidden[2];        /* IPs alice must never appear from at bob */
	size_t from_alice, to_turn, elsewhere, at_bob_from_alice;
} relay_wire;

static void count_relay(void *user, const wire_pkt *p)
{
	relay_wire *rw = user;
	if (same_ip(&p->src, &rw->from_ip)) {
		rw->from_alice++;
		if (p->proto == IL_SIM_UDP && il_addr_equal(&p->dst, &rw->turn))
			rw->to_turn++;
		else
			rw->elsewhere++;
	}
	for (int k = 0; k < 2; k++)
		if (same_ip(&p->src, &rw->forbidden[k]))
			rw->at_bob_from_alice++;
}

/* Issue #5 §2, relay-only: alice (behind a port-restricted cone NAT, TURN
 * over UDP) checks and sends media through her relay only. Every datagram
 * she puts on her LAN link goes to the TURN server, every one her NAT
 * sends for her too, and bob (public, full) never sees her host or
 * server-reflexive address as a source. */
static void test_relay_only_agent_sends_to_the_turn_server_only(void **state)
{
	(void)state;
	side_spec spec[2];
	memset(spec, 0, sizeof spec);
	sim_ice_opts_defaults(&spec[0].ice);
	sim_ice_opts_defaults(&spec[1].ice);
	spec[0].nat = "port-restricted-cone";
	spec[0].stun = spec[0].turn = true;
	spec[0].ice.controlling = true;
	spec[0].ice.policy = IL_ICE_GATHER_RELAY_ONLY;
	spec[1].stun = true;
	world w;
	world_build(&w, spec, 5, true);
	world_start(&w);
	call c;
	call_begin(&c, &w, 10 * MS, 100 * MS);
	run_to(&w, 15 * SEC);
	assert_connected_with_media(&w);
	const sim_ice_state *a = sim_ice_get_state(w.ice[0]);
	il_ice_pair_stats p = selected(&w, 0);
	assert_int_equal(p.local.type, IL_ICE_CAND_RELAY);
	assert_true(a->counters.requests_sent > 0);
	assert_true(c.media_ok[0] > 50);
	assert_int_equal(a->gather.host_sends, 0);
	/* Alice's LAN link and her NAT's outside link: to the TURN server only. */
	relay_wire lan = {.from_ip = w.host_ip[0], .turn = w.server_addr,
			  .forbidden = {w.host_ip[0], w.outside_ip[0]}};
	relay_wire wan = lan;
	wan.from_ip = w.outside_ip[0];
	assert_true(wire_scan(&w, w.lan[0], count_relay, &lan) > 0);
	assert_true(wire_scan(&w, w.wan[0], count_relay, &wan) > 0);
	if (lan.elsewhere || wan.elsewhere)
		print_error("alice sent %zu (lan) / %zu (wan) datagrams not to the TURN server\n",
			    lan.elsewhere, wan.elsewhere);
	assert_int_equal(lan.elsewhere, 0);
	assert_int_equal(wan.elsewhere, 0);
	/* Checks and media went out: far more than the allocation's handful. */
	assert_true(lan.to_turn > 100);
	assert_true(wan.to_turn > 100); /* the last ones may still be on the LAN */
	if (getenv("ICELAB_PROOFS_VERBOSE"))
		print_message("relay-only: lan %zu/%zu, wan %zu/%zu to TURN, checks %llu\n",
			      lan.to_turn, lan.from_alice, wan.to_turn, wan.from_alice,
			      (unsigned long long)a->counters.requests_sent);
	/* Bob's link: nothing from alice's host or server-reflexive IP. */
	relay_wire bob = {.turn = w.server_addr, .forbidden = {w.host_ip[0], w.outside_ip[0]}};
	bob.from_ip = ip_only("0.0.0.0:0");
	assert_true(wire_scan(&w, w.wan[1], count_relay, &bob) > 0);
	assert_int_equal(bob.at_bob_from_alice, 0);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_consent_expires_when_the_peer_disappears),
		cmocka_unit_test(test_role_conflict_resolves_to_one_controlling_agent),
		cmocka_unit_test(test_lite_agent_against_full_agent_behind_nat),
		cmocka_unit_test(test_trickle_with_late_srflx_candidates),
		cmocka_unit_test(test_relay_only_agent_sends_to_the_turn_server_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
