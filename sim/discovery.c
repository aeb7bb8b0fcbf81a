/* RFC 5780 NAT behaviour discovery in the simulator (issue #4 §3): the
 * discovery core (ref/stun/nat_discovery.c) on a host behind a NAT
 * preset, against the simulated server with its second address, so that
 * each preset's classification can be checked against what it is.
 *
 *   client 192.168.1.10 -- [NAT(s)] -- internet -- server 192.0.2.1 (A1)
 *                                            \---- server 192.0.2.129 (A2)
 *
 * The server host has two links, one per address; its replies leave by
 * its first (default) link whatever their source, as a multihomed host's
 * would. */
#include "actors.h"
#include "sim_internal.h"

#include "icelab/sim_run.h"

#include <stdlib.h>
#include <string.h>

#define DISCOVERY_A1 "192.0.2.1"
#define DISCOVERY_A2 "192.0.2.129"

typedef struct disc_run disc_run;

typedef struct disc_sock {
	disc_run *run;
	int idx;
	int sock;
} disc_sock;

struct disc_run {
	il_sim *sim;
	int host;
	il_natd natd;
	disc_sock socks[IL_NATD_SOCKETS];
	uint64_t wake_at;
};

static uint64_t now_ms(const disc_run *r)
{
	return il_sim_now(r->sim) / 1000;
}

static void disc_wake(il_sim *sim, void *arg, uint64_t at);

static void reschedule(disc_run *r)
{
	if (il_natd_done(&r->natd)) {
		il_sim_stop(r->sim);
		return;
	}
	uint64_t d = il_natd_next_deadline(&r->natd);
	if (d == UINT64_MAX)
		return;
	uint64_t at = d * 1000;
	if (at < il_sim_now(r->sim))
		at = il_sim_now(r->sim);
	if (r->wake_at && r->wake_at <= at)
		return;
	r->wake_at = at;
	il_sim_schedule(r->sim, at, disc_wake, r, at);
}

static void disc_wake(il_sim *sim, void *arg, uint64_t at)
{
	(void)sim;
	disc_run *r = arg;
	if (r->wake_at != at)
		return;
	r->wake_at = 0;
	il_natd_timer(&r->natd, now_ms(r));
	reschedule(r);
}

static void sock_recv(void *user, il_sim *sim, int sock, const il_addr *from,
		      const uint8_t *data, size_t len)
{
	(void)sim;
	(void)sock;
	disc_sock *s = user;
	il_natd_handle_datagram(&s->run->natd, s->idx, from, data, len, now_ms(s->run));
	reschedule(s->run);
}

static int cb_bind(void *user, int idx, il_addr *local)
{
	disc_run *r = user;
	disc_sock *s = &r->socks[idx];
	if (s->sock >= 0)
		il_sim_udp_close(r->sim, s->sock);
	s->sock = il_sim_udp_bind(r->sim, r->host, NULL, sock_recv, NULL, s, local);
	return s->sock >= 0 ? 0 : -1;
}

static void cb_send(void *user, int idx, const il_addr *to, const uint8_t *data, size_t len)
{
	disc_run *r = user;
	il_sim_udp_send(r->sim, r->socks[idx].sock, to, data, len);
}

static void cb_random(void *user, uint8_t *out, size_t len)
{
	il_sim_rng_bytes(il_sim_get_rng(((disc_run *)user)->sim), out, len);
}

/* The client behind the description; returns the host or -1. */
static int build_client(il_sim *sim, int inet, const char *desc, char *err, size_t err_len)
{
	il_sim_nat_config cfg, outer;
	int layers;
	if (il_sim_preset_parse(desc, &cfg, &outer, &layers, err, err_len) < 0)
		return -1;
	il_sim_link_config lan, wan;
	il_sim_link_config_defaults(&lan);
	lan.latency_us = 1000;
	il_sim_link_config_defaults(&wan);
	wan.latency_us = 10000;
	int host = il_sim_add_host(sim, "client");
	if (layers == 0) {
		if (il_sim_connect(sim, host, "203.0.113.10/24", inet, "203.0.113.1/24", &wan,
				   NULL) < 0)
			goto fail;
		return host;
	}
	int nat = il_sim_add_router(sim, "nat");
	if (il_sim_connect(sim, host, "192.168.1.10/24", nat, "192.168.1.1/24", &lan, NULL) < 0)
		goto fail;
	int up, inner_out = -1, cgn = -1;
	if (layers == 1) {
		up = il_sim_connect(sim, nat, "203.0.113.2/24", inet, "203.0.113.1/24", &wan, NULL);
	} else {
		cgn = il_sim_add_router(sim, "cgn");
		inner_out = il_sim_connect(sim, nat, "100.64.1.2/24", cgn, "100.64.1.1/24", &lan,
					   NULL);
		up = il_sim_connect(sim, cgn, "203.0.113.2/24", inet, "203.0.113.1/24", &wan, NULL);
	}
	if (up < 0)
		goto fail;
	if (layers == 1) {
		if (il_sim_add_route(sim, nat, "0.0.0.0/0", up) < 0 ||
		    il_sim_set_nat(sim, nat, up, &cfg) < 0)
			goto fail;
		return host;
	}
	if (inner_out < 0 || il_sim_add_route(sim, nat, "0.0.0.0/0", inner_out) < 0 ||
	    il_sim_set_nat(sim, nat, inner_out, &cfg) < 0 ||
	    il_sim_add_route(sim, cgn, "0.0.0.0/0", up) < 0 ||
	    il_sim_set_nat(sim, cgn, up, &outer) < 0)
		goto fail;
	return host;
fail:
	snprintf(err, err_len, "%s", il_sim_error(sim));
	return -1;
}

void il_sim_discovery_opts_defaults(il_sim_discovery_opts *o)
{
	memset(o, 0, sizeof *o);
	o->seed = 1;
	o->hairpin = true;
}

int il_sim_discover(const char *nat_desc, const il_sim_discovery_opts *opts,
		    il_natd_result *out, char *err, size_t err_len)
{
	memset(out, 0, sizeof *out);
	il_sim_discovery_opts defaults;
	if (!opts) {
		il_sim_discovery_opts_defaults(&defaults);
		opts = &defaults;
	}
	disc_run *r = calloc(1, sizeof *r);
	il_sim *sim = il_sim_new(opts->seed);
	if (!r || !sim) {
		free(r);
		il_sim_free(sim);
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	int rc = -1;
	sim_server *srv = NULL;
	r->sim = sim;
	for (int i = 0; i < IL_NATD_SOCKETS; i++) {
		r->socks[i].run = r;
		r->socks[i].idx = i;
		r->socks[i].sock = -1;
	}
	int inet = il_sim_add_router(sim, "internet");
	int server = il_sim_add_host(sim, "server");
	il_sim_link_config lc;
	il_sim_link_config_defaults(&lc);
	lc.latency_us = 5000;
	if (il_sim_connect(sim, server, DISCOVERY_A1 "/25", inet, "192.0.2.126/25", &lc, "a1") < 0 ||
	    il_sim_connect(sim, server, DISCOVERY_A2 "/25", inet, "192.0.2.254/25", &lc, "a2") < 0) {
		snprintf(err, err_len, "%s", il_sim_error(sim));
		goto done;
	}
	if ((r->host = build_client(sim, inet, nat_desc, err, err_len)) < 0)
		goto done;
	if (opts->pcap_path && il_sim_pcap_open(sim, opts->pcap_path, false) < 0) {
		snprintf(err, err_len, "%s", il_sim_error(sim));
		goto done;
	}
	il_addr a1, a2;
	il_addr_parse(DISCOVERY_A1 ":3478", &a1);
	il_addr_parse(DISCOVERY_A2 ":3479", &a2);
	srv = sim_server_new_rfc5780(sim, server, opts->no_rfc5780 ? NULL : &a2);
	if (!srv && !opts->no_rfc5780) {
		snprintf(err, err_len, "cannot start the simulated server");
		goto done;
	}
	if (!srv)
		srv = sim_server_new(sim, server);
	il_natd_config cfg;
	il_natd_config_defaults(&cfg, &a1);
	cfg.hairpin = opts->hairpin;
	cfg.lifetime_max_ms = opts->lifetime_max_ms;
	if (opts->lifetime_resolution_ms)
		cfg.lifetime_resolution_ms = opts->lifetime_resolution_ms;
	il_natd_callbacks cb = {r, cb_bind, cb_send, cb_random};
	il_natd_init(&r->natd, &cfg, &cb);
	il_natd_start(&r->natd, now_ms(r));
	reschedule(r);
	/* Bounded: every test ends by its transaction timeout; the lifetime
	 * search by its rounds. */
	uint64_t limit_s = 600 + (uint64_t)opts->lifetime_max_ms / 1000 * 40;
	il_sim_run_until(sim, limit_s * 1000000);
	if (!il_natd_done(&r->natd)) {
		snprintf(err, err_len, "discovery did not finish in %llu virtual s",
			 (unsigned long long)limit_s);
		goto done;
	}
	*out = *il_natd_get_result(&r->natd);
	rc = 0;
done:
	sim_server_free(srv);
	il_sim_pcap_close(sim);
	il_sim_free(sim);
	free(r);
	return rc;
}
