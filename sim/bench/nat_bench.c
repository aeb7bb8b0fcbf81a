/* Packets per second forwarded through one NAT router on one core
 * (issue #4 §5 target: 2 million). 1024 inside flows to one server and
 * back: every packet crosses two links and one translation, on the same
 * event queue, packet pool and hash tables as every simulation.
 *   nat_bench [SECONDS] [PRESET] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "icelab/sim.h"

#define FLOWS 1024

static uint64_t replies;

static void server_recv(void *user, il_sim *sim, int sock, const il_addr *from,
			const uint8_t *data, size_t len)
{
	(void)user;
	il_sim_udp_send(sim, sock, from, data, len); /* back through the NAT */
}

static void client_recv(void *user, il_sim *sim, int sock, const il_addr *from,
			const uint8_t *data, size_t len)
{
	(void)user;
	(void)sim;
	(void)sock;
	(void)from;
	(void)data;
	(void)len;
	replies++;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	const char *preset = argc > 2 ? argv[2] : "port-restricted-cone";
	il_sim *sim = il_sim_new(1);
	int in = il_sim_add_host(sim, "in"), nat = il_sim_add_router(sim, "nat");
	int inet = il_sim_add_router(sim, "internet"), srv = il_sim_add_host(sim, "srv");
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 100;
	il_sim_connect(sim, in, "192.168.1.10/24", nat, "192.168.1.1/24", &lc, NULL);
	int up = il_sim_connect(sim, nat, "203.0.113.2/24", inet, "203.0.113.1/24", &lc, NULL);
	il_sim_connect(sim, srv, "198.51.100.1/24", inet, "198.51.100.254/24", &lc, NULL);
	il_sim_add_route(sim, nat, "0.0.0.0/0", up);
	il_sim_nat_config cfg, outer;
	int layers;
	char err[128];
	if (il_sim_preset_parse(preset, &cfg, &outer, &layers, err, sizeof err) < 0 || layers != 1) {
		fprintf(stderr, "nat_bench: %s\n", layers != 1 ? "one NAT layer please" : err);
		return 2;
	}
	il_sim_set_nat(sim, nat, up, &cfg);
	il_addr sa;
	il_addr_parse("198.51.100.1:3478", &sa);
	int ss = il_sim_udp_bind(sim, srv, &sa, server_recv, NULL, NULL, NULL);
	int socks[FLOWS];
	for (int i = 0; i < FLOWS; i++)
		socks[i] = il_sim_udp_bind(sim, in, NULL, client_recv, NULL, NULL, NULL);
	if (ss < 0 || socks[FLOWS - 1] < 0)
		return 2;
	uint8_t payload[100];
	memset(payload, 0xab, sizeof payload);
	il_sim_nat_stats st0;
	il_sim_nat_get_stats(sim, nat, &st0);
	double t0 = now_s(), t1;
	uint64_t rounds = 0;
	do {
		for (int k = 0; k < 1; k++)
			for (int i = 0; i < FLOWS; i++)
				il_sim_udp_send(sim, socks[i], &sa, payload, sizeof payload);
		il_sim_run_until(sim, il_sim_now(sim) + 500);
		rounds++;
		t1 = now_s();
	} while (t1 - t0 < seconds);
	il_sim_run_until(sim, il_sim_now(sim) + 1000000);
	il_sim_nat_stats st;
	il_sim_nat_get_stats(sim, nat, &st);
	il_sim_stats ss2;
	il_sim_get_stats(sim, &ss2);
	uint64_t through = st.translated_out + st.translated_in;
	printf("nat_bench: preset %s, %d flows, %.2f s wall\n", preset, FLOWS, t1 - t0);
	printf("  packets through the NAT: %llu (%llu out, %llu in), replies %llu\n",
	       (unsigned long long)through, (unsigned long long)st.translated_out,
	       (unsigned long long)st.translated_in, (unsigned long long)replies);
	printf("  %.2f million packets/s through the NAT (each also crossed 2 links and "
	       "reached a socket)\n", (double)through / (t1 - t0) / 1e6);
	printf("  events %llu, pool %llu packets, mappings %llu\n",
	       (unsigned long long)ss2.events, (unsigned long long)ss2.pool_packets,
	       (unsigned long long)st.mappings_created);
	(void)rounds;
	il_sim_free(sim);
	return 0;
}
