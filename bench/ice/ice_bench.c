/* The ICE benchmark (issue #5 §6):
 *   1. connectivity checks processed per second by the agent core: one
 *      real check request (captured from a controlling agent's cb->send)
 *      fed again and again to the controlled agent, which verifies its
 *      MESSAGE-INTEGRITY and FINGERPRINT and answers it (integrity and
 *      fingerprint on the response) — the whole server side of a check;
 *   2. time to connected (virtual ms) in the simulator (sim_ice.h) for a
 *      host, a server-reflexive and two relayed topologies, against the
 *      theoretical minimum of that topology; the target: within one RTT
 *      plus one Ta (50 ms) of it.
 * Usage: ice_bench [--ms N] [--json FILE]. Exit 1 when a target is missed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "icelab/ice.h"
#include "icelab/sim_ice.h"

/* ---- 1. checks per second ---- */

typedef struct bench_peer {
	uint64_t rng;
	uint8_t captured[600];
	size_t captured_len;
	uint64_t sent;
} bench_peer;

static void b_random(void *user, uint8_t *out, size_t len)
{
	bench_peer *p = user;
	for (size_t i = 0; i < len; i++) {
		p->rng ^= p->rng << 13;
		p->rng ^= p->rng >> 7;
		p->rng ^= p->rng << 17;
		out[i] = (uint8_t)(p->rng >> 24);
	}
}

static void b_send(void *user, unsigned stream, unsigned component, const il_ice_candidate *local,
		   const il_addr *remote, const uint8_t *data, size_t len)
{
	(void)stream;
	(void)component;
	(void)local;
	(void)remote;
	bench_peer *p = user;
	p->sent++;
	if (!p->captured_len && len <= sizeof p->captured) {
		memcpy(p->captured, data, len);
		p->captured_len = len;
	}
}

static il_ice_agent *b_agent(bench_peer *p, bool controlling, const il_addr *host)
{
	il_ice_config cfg;
	il_ice_config_defaults(&cfg);
	cfg.controlling = controlling;
	il_ice_callbacks cb = {.user = p, .random = b_random, .send = b_send};
	il_ice_agent *a = il_ice_agent_new(&cfg, &cb);
	if (!a || il_ice_agent_add_stream(a, 1, NULL, NULL) != 0)
		return NULL;
	il_ice_candidate c;
	memset(&c, 0, sizeof c);
	c.component = 1;
	c.type = IL_ICE_CAND_HOST;
	c.addr = *host;
	il_ice_agent_add_local_candidate(a, 0, &c, 0);
	return a;
}

static void b_exchange(il_ice_agent *from, il_ice_agent *to)
{
	il_ice_agent_set_remote_credentials(to, 0, il_ice_agent_local_ufrag(from, 0),
					    il_ice_agent_local_pwd(from, 0), 0);
	il_ice_agent_add_remote_candidate(to, 0, il_ice_agent_local_candidate(from, 0, 0), 0);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Returns checks per second, or -1. */
static double bench_checks(unsigned ms, uint64_t *processed)
{
	bench_peer pa = {.rng = 0x1234567}, pb = {.rng = 0x7654321};
	il_addr ha, hb;
	il_addr_parse("10.0.0.1:5000", &ha);
	il_addr_parse("10.0.0.2:6000", &hb);
	il_ice_agent *a = b_agent(&pa, true, &ha), *b = b_agent(&pb, false, &hb);
	double rate = -1;
	if (!a || !b)
		goto out;
	b_exchange(a, b);
	b_exchange(b, a);
	il_ice_agent_start(a, 0);
	il_ice_agent_start(b, 0);
	il_ice_agent_timer(a, 0);
	if (!pa.captured_len)
		goto out;
	uint64_t n = 0, before = pb.sent;
	double t0 = now_s(), t1;
	do {
		for (int i = 0; i < 4096; i++)
			il_ice_agent_handle_datagram(b, &hb, &ha, pa.captured, pa.captured_len, 1);
		n += 4096;
		t1 = now_s();
	} while (t1 - t0 < ms / 1000.0);
	/* Every check must have been answered, or the figure means nothing. */
	if (pb.sent - before < n)
		goto out;
	*processed = n;
	rate = (double)n / (t1 - t0);
out:
	il_ice_agent_free(a);
	il_ice_agent_free(b);
	return rate;
}

/* ---- 2. time to connected ---- */

/* The matrix topology (sim/matrix.c): one way, ms. */
#define L_WAN 10      /* a side's router or host to the internet */
#define L_ACCESS 1    /* host to its NAT */
#define L_SRV 5       /* a server to the internet */
#define D_SIG 50      /* signalling, one way (sim_ice_opts default) */
#define TA 50         /* pacing (RFC 8445 §14.2) */

typedef struct ttc_case {
	const char *name, *left, *right;
	int mode;
	int want;        /* enum il_sim_ice_outcome */
	unsigned min_ms; /* theoretical minimum */
	unsigned rtt_ms; /* the selected path's round trip */
	const char *why;
} ttc_case;

static void fill_cases(ttc_case *c)
{
	const unsigned L = L_ACCESS + L_WAN; /* a NATed host to the internet */
	/* host: the peer's host candidate comes with the offer (D), then one
	 * check round trip between two public hosts. */
	c[0] = (ttc_case){"host", "open", "open", IL_SIM_ICE_NO_TURN, IL_SIM_ICE_HOST,
			  D_SIG + 2 * (2 * L_WAN), 2 * (2 * L_WAN),
			  "D + RTT(host,host)"};
	/* srflx: the peer's Binding round trip to its server, D, one check
	 * round trip between the two NATs (EIM/EIF: the first check gets in). */
	c[1] = (ttc_case){"srflx", "full-cone", "full-cone", IL_SIM_ICE_NO_TURN, IL_SIM_ICE_DIRECT,
			  2 * (L + L_SRV) + D_SIG + 2 * (2 * L), 2 * (2 * L),
			  "RTT(server) + D + RTT(nat,nat)"};
	/* relay over UDP: Allocate twice (401 then with credentials), D, a
	 * check through the peer's relay: to server-b and on to the peer. */
	c[2] = (ttc_case){"relay-udp", "symmetric", "symmetric", IL_SIM_ICE_TURN_UDP,
			  IL_SIM_ICE_RELAY, 4 * (L + L_SRV) + D_SIG + 2 * (2 * L + 2 * L_SRV),
			  2 * (2 * L + 2 * L_SRV), "2 RTT(server) + D + RTT(via relay)"};
	/* relay over TCP, both sides UDP-blocked: a TCP handshake, Allocate
	 * twice, D, a check relay to relay (server to server-b: 2 L_SRV). */
	c[3] = (ttc_case){"relay-tcp", "udp-blocked", "udp-blocked", IL_SIM_ICE_TURN_TCP,
			  IL_SIM_ICE_RELAY, 6 * (L + L_SRV) + D_SIG + 2 * (2 * L + 4 * L_SRV),
			  2 * (2 * L + 4 * L_SRV), "3 RTT(server) + D + RTT(relay,relay)"};
}

int main(int argc, char **argv)
{
	unsigned ms = 500;
	const char *json = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ms") && i + 1 < argc)
			ms = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else {
			fprintf(stderr, "usage: ice_bench [--ms N] [--json FILE]\n");
			return 2;
		}
	}
	int failed = 0;
	uint64_t processed = 0;
	double rate = bench_checks(ms ? ms : 1, &processed);
	printf("checks processed by the core: %.0f /s (%" PRIu64 " in %u ms; target 1000000)%s\n",
	       rate, processed, ms, rate >= 1e6 ? "" : "  MISSED");
	if (rate < 1e6)
		failed = 1;
	ttc_case cases[4];
	fill_cases(cases);
	il_sim_ice_result res[4];
	printf("\n%-10s %-26s %-9s %8s %8s %8s %7s  %s\n", "case", "topology", "mode", "ms",
	       "min", "target", "checks", "pair");
	for (int i = 0; i < 4; i++) {
		ttc_case *c = &cases[i];
		il_sim_ice_opts o = {.mode = c->mode};
		char err[160];
		char topo[64];
		snprintf(topo, sizeof topo, "%s/%s", c->left, c->right);
		if (il_sim_ice_pair_run(c->left, c->right, &o, 1, &res[i], err, sizeof err) < 0) {
			fprintf(stderr, "ice_bench: %s: %s\n", c->name, err);
			return 2;
		}
		unsigned target = c->min_ms + c->rtt_ms + TA;
		bool ok = res[i].outcome == c->want && res[i].time_ms >= c->min_ms &&
			  res[i].time_ms <= target;
		failed |= !ok;
		printf("%-10s %-26s %-9s %8" PRIu64 " %8u %8u %7u  %s/%s%s\n", c->name, topo,
		       il_sim_ice_mode_name(c->mode), res[i].time_ms, c->min_ms, target,
		       res[i].checks, il_ice_candidate_type_name(res[i].local_type),
		       il_ice_candidate_type_name(res[i].remote_type), ok ? "" : "  MISSED");
	}
	printf("(min: host %s; srflx %s; relay-udp %s; relay-tcp %s. Target: min + RTT + Ta.)\n",
	       cases[0].why, cases[1].why, cases[2].why, cases[3].why);
	if (json) {
		FILE *f = fopen(json, "w");
		if (!f) {
			perror(json);
			return 2;
		}
		fprintf(f, "{\n  \"checks_per_second\": %.0f,\n  \"time_to_connected\": [\n", rate);
		for (int i = 0; i < 4; i++)
			fprintf(f,
				"    {\"case\": \"%s\", \"left\": \"%s\", \"right\": \"%s\", \"mode\": "
				"\"%s\", \"ms\": %" PRIu64 ", \"min_ms\": %u, \"target_ms\": %u, "
				"\"checks\": %u}%s\n",
				cases[i].name, cases[i].left, cases[i].right,
				il_sim_ice_mode_name(cases[i].mode), res[i].time_ms, cases[i].min_ms,
				cases[i].min_ms + cases[i].rtt_ms + TA, res[i].checks, i < 3 ? "," : "");
		fputs("  ]\n}\n", f);
		fclose(f);
	}
	return failed;
}
