/* Fuzz target sim_session: a stateful target driven by the simulator
 * (issue #4 §5). The fuzzer's bytes choose a NAT (mapping, filtering,
 * ports, hairpin, timeout, UDP blocked, allowed TCP ports), the access
 * and WAN links' impairments (latency, jitter, loss, Gilbert-Elliott
 * bursts, duplication, reordering: the packet order), a NAT flush and a
 * link outage, the session (a STUN Binding, a TURN allocation over UDP,
 * or over TCP to port 443) and the seed; the cores of ref/ (STUN client
 * transactions, TURN client and server) then run unchanged.
 *
 * Invariants, beyond "no crash, no sanitizer report":
 *   - every session ends, connected or failed, within the RFC timeouts:
 *     a Binding by Rc/Rm (RFC 8489 §6.2.1: 39.5 s), an allocation by
 *     five such transactions (the 401 challenge and 438 retries, RFC 8656
 *     §7.1 / RFC 8489 §9.2.5), over TCP after the connection attempt
 *     (SYN retries, R2 of RFC 1122 §4.2.3.5 being at least 3 minutes);
 *   - nothing reported that was never seen: a server-reflexive address is
 *     the NAT's live mapping, a relayed address is the server's;
 *   - liveness on a clean path: no loss, no outage and the traffic
 *     allowed, the session must succeed whatever the reordering;
 *   - the same input gives the same session, packet for packet. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../sim/actors.h"
#include "icelab/sim.h"

#include "fuzz_check.h"

#define US 1000000ull

typedef struct bytes {
	const uint8_t *p;
	size_t n;
} bytes;

static uint8_t take(bytes *b)
{
	if (!b->n)
		return 0;
	b->n--;
	return *b->p++;
}

static double prob(bytes *b, double max)
{
	return max * take(b) / 255.0;
}

typedef struct plan {
	int mode;                 /* 0 Binding, 1 TURN UDP, 2 TURN TCP */
	il_sim_nat_config nat;
	il_sim_link_config lan, wan;
	uint64_t flush_at, down_at, up_at; /* 0: none */
	uint64_t seed;
	bool clean;
} plan;

static void make_plan(const uint8_t *data, size_t size, plan *pl)
{
	bytes b = {data, size};
	memset(pl, 0, sizeof *pl);
	pl->mode = take(&b) % 3;
	il_sim_nat_config *n = &pl->nat;
	il_sim_nat_config_defaults(n);
	uint8_t k = take(&b);
	n->mapping = (uint8_t)(k % 3);
	n->filtering = (uint8_t)(k / 3 % 3);
	n->ports = (uint8_t)(k / 9 % 3);
	uint8_t f = take(&b);
	n->hairpin = f & 1;
	n->parity = f & 2;
	n->inbound_refresh = f & 4;
	n->block_udp = (f & 0x18) == 0x18; /* a quarter of the inputs */
	if (f & 0x20) {
		n->tcp_ports[0] = 443;
		n->tcp_port_count = 1;
	}
	if ((f & 0xc0) == 0xc0) {
		n->tcp_ports[0] = 80; /* TCP 443 refused too */
		n->tcp_port_count = 1;
	}
	n->udp_timeout_ms = 1000u * (1 + take(&b)); /* 1 s .. 256 s */
	il_sim_link_config *links[2] = {&pl->lan, &pl->wan};
	for (int i = 0; i < 2; i++) {
		il_sim_link_config *c = links[i];
		il_sim_link_config_defaults(c);
		c->latency_us = 1000u * take(&b);
		c->jitter_us = 500u * take(&b);
		c->loss = prob(&b, 0.6);
		if (take(&b) & 1) {
			c->ge_p = prob(&b, 0.3);
			c->ge_r = 0.05 + prob(&b, 0.9);
			c->ge_loss_bad = 1;
		}
		c->duplicate = prob(&b, 0.5);
		c->reorder = prob(&b, 0.5);
		c->reorder_delay_us = 1000u * take(&b);
	}
	uint8_t ev = take(&b);
	if (ev & 1)
		pl->flush_at = 1 + take(&b) * 250000ull; /* up to ~64 s */
	if (ev & 2) {
		pl->down_at = 1 + take(&b) * 250000ull;
		pl->up_at = pl->down_at + 1 + take(&b) * 250000ull;
	}
	for (int i = 0; i < 8; i++)
		pl->seed = pl->seed << 8 | take(&b);
	bool lossless = pl->lan.loss == 0 && pl->wan.loss == 0 && pl->lan.ge_p == 0 &&
			pl->wan.ge_p == 0 && !pl->down_at;
	bool tcp_ok = !n->tcp_port_count || n->tcp_ports[0] == 443;
	pl->clean = lossless && (pl->mode == 2 ? tcp_ok : !n->block_udp);
}

typedef struct outcome {
	sim_peer_state st;
	il_sim_stats stats;
	bool srflx_real;
	uint64_t ended_us;
} outcome;

static void ev_flush(il_sim *sim, void *arg, uint64_t router)
{
	(void)arg;
	il_sim_nat_flush(sim, (int)router);
}

static void ev_link(il_sim *sim, void *arg, uint64_t u)
{
	(void)arg;
	il_sim_link_set_up(sim, (int)(u >> 1), u & 1);
}

static bool ended(const plan *pl, const sim_peer_state *st)
{
	if (pl->mode == 0)
		return st->binding_done;
	return st->allocated || st->alloc_failed;
}

static void run(const plan *pl, outcome *out)
{
	memset(out, 0, sizeof *out);
	il_sim *sim = il_sim_new(pl->seed);
	FUZZ_CHECK(sim);
	int host = il_sim_add_host(sim, "alice");
	int nat = il_sim_add_router(sim, "nat");
	int inet = il_sim_add_router(sim, "internet");
	int srv_host = il_sim_add_host(sim, "server");
	FUZZ_CHECK(il_sim_connect(sim, host, "192.168.1.10/24", nat, "192.168.1.1/24", &pl->lan,
				  "lan") >= 0);
	int wan = il_sim_connect(sim, nat, "203.0.113.2/24", inet, "203.0.113.1/24", &pl->wan,
				 "wan");
	FUZZ_CHECK(wan >= 0);
	FUZZ_CHECK(il_sim_connect(sim, srv_host, "192.0.2.1/24", inet, "192.0.2.254/24", NULL,
				  "srv") >= 0);
	FUZZ_CHECK(il_sim_add_route(sim, nat, "0.0.0.0/0", wan) == 0);
	FUZZ_CHECK(il_sim_set_nat(sim, nat, wan, &pl->nat) == 0);
	sim_server *srv = sim_server_new(sim, srv_host);
	sim_peer *peer = sim_peer_new(sim, host, "alice");
	FUZZ_CHECK(srv && peer);
	if (pl->flush_at)
		il_sim_schedule(sim, pl->flush_at, ev_flush, NULL, (uint64_t)nat);
	if (pl->down_at) {
		il_sim_schedule(sim, pl->down_at, ev_link, NULL, (uint64_t)wan << 1);
		il_sim_schedule(sim, pl->up_at, ev_link, NULL, (uint64_t)wan << 1 | 1);
	}
	const il_addr *server = sim_server_addr(srv);
	il_addr stun = *server;
	stun.port = 3478;
	if (pl->mode == 0)
		sim_peer_start_binding(peer, &stun);
	else
		sim_peer_start_turn(peer, server, pl->mode == 2);
	/* The RFC bounds (file comment), plus the path's worst delays. */
	uint64_t bound = pl->mode == 0 ? 39500000ull : pl->mode == 1 ? 5 * 39500000ull
									 : 511 * US + 5 * 39500000ull;
	bound += 4 * (255000ull + 127500ull + 255000ull) + US;
	const sim_peer_state *st = sim_peer_get_state(peer);
	for (uint64_t t = 0; t <= bound && !ended(pl, st); t += 100000)
		il_sim_run_until(sim, t);
	out->ended_us = il_sim_now(sim);
	out->st = *st;
	il_sim_get_stats(sim, &out->stats);
	if (st->have_srflx && pl->mode == 0) {
		/* The mapping may have expired since; it must have been the NAT's. */
		il_addr ext = {0};
		il_addr_parse("203.0.113.2:0", &ext);
		out->srflx_real = st->srflx.family == IL_AF_INET &&
				  memcmp(st->srflx.ip, ext.ip, 4) == 0 && st->srflx.port >= 1024;
	}
	if (st->allocated)
		FUZZ_CHECK(st->relayed.family == IL_AF_INET &&
			   memcmp(st->relayed.ip, server->ip, 4) == 0);
	sim_peer_free(peer);
	sim_server_free(srv);
	il_sim_free(sim);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64)
		return 0; /* every choice fits in the first 40-odd bytes */
	plan pl;
	make_plan(data, size, &pl);
	outcome a, b;
	run(&pl, &a);
	/* It ended, within the RFC timeouts. */
	FUZZ_CHECK(ended(&pl, &a.st));
	if (pl.mode == 0 && a.st.have_srflx)
		FUZZ_CHECK(a.srflx_real);
	if (pl.nat.block_udp && pl.mode != 2)
		FUZZ_CHECK(!a.st.have_srflx && !a.st.allocated);
	if (pl.clean)
		FUZZ_CHECK(pl.mode == 0 ? a.st.have_srflx : a.st.allocated);
	/* Determinism: the same plan, the same packets. */
	run(&pl, &b);
	FUZZ_CHECK(memcmp(&a.stats, &b.stats, sizeof a.stats) == 0);
	FUZZ_CHECK(a.ended_us == b.ended_us && a.st.sent == b.st.sent &&
		   a.st.allocated == b.st.allocated && a.st.have_srflx == b.st.have_srflx);
	return 0;
}
