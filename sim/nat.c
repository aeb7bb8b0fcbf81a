/* NAT and firewall routers (RFC 4787 for UDP, RFC 5382 for TCP, RFC 6888
 * for carrier-grade NAT): mapping and filtering as two independent axes,
 * port assignment, pooling, timeouts and refresh, hairpinning, ICMP.
 *
 * Tables are hash tables (hash.c): by internal endpoint (plus the remote
 * address, or address and port, when mapping depends on it), by external
 * endpoint, and the filter's permissions. One external port belongs to
 * one mapping at a time: RFC 4787 REQ-3 "A NAT MUST NOT have a 'Port
 * assignment' behavior of 'Port overloading'". Expiry is lazy: a mapping
 * found past its timeout is removed then, so no timer runs per mapping.
 * A firewall without NAT (translate false) is the same code with the
 * external endpoint equal to the internal one. */
#include "sim_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct nat_mapping {
	il_addr internal, external;
	il_addr remote;        /* masked by the mapping behaviour */
	uint8_t proto;
	uint8_t tcp_state;     /* TCP_NONE.. */
	bool live;
	uint32_t gen;
	uint64_t last_us, created_us;
	uint64_t packets_out, packets_in;
} nat_mapping;

enum { TCP_NONE = 0, TCP_SYN_SENT, TCP_ESTABLISHED, TCP_CLOSING };

struct sim_nat {
	il_sim_nat_config cfg;
	int outside_link;
	bool pool_from_iface;
	nat_mapping *maps;
	size_t map_count, map_cap;
	uint32_t *free_slots;
	size_t free_count;
	size_t live_count;
	sim_hash by_out, by_ext, perms, paired;
	uint32_t next_port[IL_SIM_NAT_MAX_EXTERNAL];
	uint32_t rr;
	il_sim_nat_stats stats;
};

enum { KEY_OUT = 1, KEY_EXT, KEY_PERM, KEY_PAIRED };

void il_sim_nat_config_defaults(il_sim_nat_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->translate = true;
	cfg->mapping = IL_SIM_MAP_EIM;
	cfg->filtering = IL_SIM_FILTER_APDF;
	cfg->ports = IL_SIM_PORTS_PRESERVE;
	cfg->pooling = IL_SIM_POOL_PAIRED;
	cfg->hairpin = true;
	cfg->icmp = true;
	cfg->inbound_refresh = false;
	cfg->udp_timeout_ms = 120000;
	cfg->tcp_established_ms = 7440000;
	cfg->tcp_transitory_ms = 240000;
	cfg->port_min = 1024;
	cfg->port_max = 65535;
}

/* ---- keys ---- */

static void put_addr(uint8_t *b, const il_addr *a)
{
	b[0] = a->family;
	memcpy(b + 1, &a->port, 2);
	memcpy(b + 3, a->ip, 16);
}

static sim_key key_out(uint8_t proto, const il_addr *internal, const il_addr *remote)
{
	sim_key k;
	memset(&k, 0, sizeof k);
	uint8_t *b = (uint8_t *)&k;
	b[0] = KEY_OUT;
	b[1] = proto;
	put_addr(b + 2, internal);
	put_addr(b + 21, remote);
	return k;
}

static sim_key key_ext(uint8_t proto, const il_addr *external)
{
	sim_key k;
	memset(&k, 0, sizeof k);
	uint8_t *b = (uint8_t *)&k;
	b[0] = KEY_EXT;
	b[1] = proto;
	put_addr(b + 2, external);
	return k;
}

static sim_key key_perm(uint32_t idx, uint32_t gen, const il_addr *remote)
{
	sim_key k;
	memset(&k, 0, sizeof k);
	uint8_t *b = (uint8_t *)&k;
	b[0] = KEY_PERM;
	memcpy(b + 4, &idx, 4);
	memcpy(b + 8, &gen, 4);
	put_addr(b + 12, remote);
	return k;
}

static sim_key key_paired(const il_addr *internal)
{
	il_addr ip = *internal;
	ip.port = 0;
	sim_key k;
	memset(&k, 0, sizeof k);
	uint8_t *b = (uint8_t *)&k;
	b[0] = KEY_PAIRED;
	put_addr(b + 2, &ip);
	return k;
}

/* The remote as the mapping (or filter) behaviour sees it: nothing,
 * the address, or the address and port. */
static il_addr mask_remote(const il_addr *remote, int behaviour)
{
	il_addr r;
	memset(&r, 0, sizeof r);
	if (behaviour == 0) /* EIM / EIF */
		return r;
	r.family = remote->family;
	memcpy(r.ip, remote->ip, 16);
	if (behaviour == 2) /* APDM / APDF */
		r.port = remote->port;
	return r;
}

/* ---- mappings ---- */

static uint64_t timeout_us(const struct sim_nat *nat, const nat_mapping *m)
{
	uint32_t ms;
	if (m->proto != IL_SIM_TCP)
		ms = nat->cfg.udp_timeout_ms;
	else if (m->tcp_state == TCP_ESTABLISHED)
		ms = nat->cfg.tcp_established_ms;
	else
		ms = nat->cfg.tcp_transitory_ms;
	return (uint64_t)ms * 1000;
}

static bool expired(const struct sim_nat *nat, const nat_mapping *m, uint64_t now)
{
	return now - m->last_us >= timeout_us(nat, m);
}

static void mapping_remove(struct sim_nat *nat, uint32_t idx)
{
	nat_mapping *m = &nat->maps[idx];
	sim_key k = key_out(m->proto, &m->internal, &m->remote);
	sim_hash_del(&nat->by_out, &k);
	k = key_ext(m->proto, &m->external);
	sim_hash_del(&nat->by_ext, &k);
	m->live = false;
	m->gen++;
	nat->free_slots[nat->free_count++] = idx;
	nat->live_count--;
}

/* The live mapping on an external endpoint, reclaiming an expired one. */
static nat_mapping *find_ext(struct sim_nat *nat, uint8_t proto, const il_addr *ext,
			     uint64_t now, uint32_t *idx_out)
{
	sim_key k = key_ext(proto, ext);
	uint64_t *v = sim_hash_find(&nat->by_ext, &k);
	if (!v)
		return NULL;
	uint32_t idx = (uint32_t)*v;
	if (expired(nat, &nat->maps[idx], now)) {
		nat->stats.mappings_expired++;
		mapping_remove(nat, idx);
		return NULL;
	}
	if (idx_out)
		*idx_out = idx;
	return &nat->maps[idx];
}

static bool port_free(struct sim_nat *nat, uint8_t proto, const il_addr *ip, uint16_t port,
		      uint64_t now)
{
	il_addr e = *ip;
	e.port = port;
	return find_ext(nat, proto, &e, now, NULL) == NULL;
}

static bool parity_ok(const struct sim_nat *nat, uint16_t port, uint16_t internal)
{
	return !nat->cfg.parity || (port & 1) == (internal & 1);
}

static int pick_port(il_sim *sim, struct sim_nat *nat, uint8_t proto, const il_addr *ip,
		     unsigned pool, uint16_t internal_port, uint16_t *out)
{
	const il_sim_nat_config *c = &nat->cfg;
	uint32_t lo = c->port_min, hi = c->port_max, span = hi - lo + 1;
	uint64_t now = sim->now;
	if (c->ports == IL_SIM_PORTS_PRESERVE && internal_port >= lo && internal_port <= hi &&
	    port_free(nat, proto, ip, internal_port, now)) {
		*out = internal_port;
		return 0;
	}
	if (c->ports == IL_SIM_PORTS_RANDOM) {
		for (int i = 0; i < 64; i++) {
			uint32_t p = lo + il_sim_rng_below(&sim->rng, span);
			if (c->parity)
				p = (p & ~1u) | (internal_port & 1u);
			if (p < lo || p > hi)
				continue;
			if (port_free(nat, proto, ip, (uint16_t)p, now)) {
				*out = (uint16_t)p;
				return 0;
			}
		}
	}
	/* Sequential (and the fallback of the others). */
	uint32_t p = nat->next_port[pool];
	if (p < lo || p > hi)
		p = lo;
	for (uint32_t i = 0; i < span; i++, p = (p >= hi) ? lo : p + 1) {
		if (!parity_ok(nat, (uint16_t)p, internal_port))
			continue;
		if (port_free(nat, proto, ip, (uint16_t)p, now)) {
			*out = (uint16_t)p;
			nat->next_port[pool] = p >= hi ? lo : p + 1;
			return 0;
		}
	}
	nat->stats.port_exhausted++;
	return -1;
}

static unsigned pick_pool(struct sim_nat *nat, const il_addr *internal)
{
	unsigned n = nat->cfg.external_count;
	if (n <= 1)
		return 0;
	if (nat->cfg.pooling == IL_SIM_POOL_ARBITRARY)
		return nat->rr++ % n;
	/* Paired: the first mapping of an internal IP chooses for all. */
	sim_key k = key_paired(internal);
	uint64_t *v = sim_hash_find(&nat->paired, &k);
	if (v)
		return (unsigned)*v;
	unsigned pool = nat->rr++ % n;
	sim_hash_put(&nat->paired, &k, pool);
	return pool;
}

static int slot_new(struct sim_nat *nat, uint32_t *idx)
{
	if (nat->free_count) {
		*idx = nat->free_slots[--nat->free_count];
		return 0;
	}
	if (nat->map_count == nat->map_cap) {
		size_t cap = nat->map_cap ? nat->map_cap * 2 : 256;
		nat_mapping *m = realloc(nat->maps, cap * sizeof *m);
		if (!m)
			return -1;
		nat->maps = m;
		uint32_t *f = realloc(nat->free_slots, cap * sizeof *f);
		if (!f)
			return -1;
		nat->free_slots = f;
		nat->map_cap = cap;
	}
	*idx = (uint32_t)nat->map_count++;
	memset(&nat->maps[*idx], 0, sizeof nat->maps[*idx]);
	return 0;
}

/* Permissions pile up with dead generations; sweep them now and then. */
static void perms_sweep(struct sim_nat *nat)
{
	if (nat->perms.count < 4 * nat->live_count + 4096)
		return;
	for (size_t i = 0; i < nat->perms.cap;) {
		sim_hash_slot *s = &nat->perms.slots[i];
		if (s->hash) {
			uint32_t idx, gen;
			memcpy(&idx, (uint8_t *)&s->key + 4, 4);
			memcpy(&gen, (uint8_t *)&s->key + 8, 4);
			if (idx >= nat->map_count || !nat->maps[idx].live ||
			    nat->maps[idx].gen != gen) {
				sim_key k = s->key;
				sim_hash_del(&nat->perms, &k);
				continue; /* the slot now holds a shifted entry */
			}
		}
		i++;
	}
}

static nat_mapping *mapping_get(il_sim *sim, struct sim_nat *nat, uint8_t proto,
				const il_addr *internal, const il_addr *remote, bool create,
				uint32_t *idx_out)
{
	il_addr r = mask_remote(remote, nat->cfg.mapping);
	sim_key k = key_out(proto, internal, &r);
	uint64_t *v = sim_hash_find(&nat->by_out, &k);
	if (v) {
		uint32_t idx = (uint32_t)*v;
		if (!expired(nat, &nat->maps[idx], sim->now)) {
			*idx_out = idx;
			return &nat->maps[idx];
		}
		nat->stats.mappings_expired++;
		mapping_remove(nat, idx);
	}
	if (!create)
		return NULL;
	il_addr ext;
	if (nat->cfg.translate) {
		unsigned pool = pick_pool(nat, internal);
		ext = nat->cfg.external[pool];
		if (pick_port(sim, nat, proto, &ext, pool, internal->port, &ext.port) < 0)
			return NULL;
	} else {
		ext = *internal;
		uint32_t old;
		if (find_ext(nat, proto, &ext, sim->now, &old))
			mapping_remove(nat, old); /* a firewall keeps one state per endpoint */
	}
	uint32_t idx;
	if (slot_new(nat, &idx) < 0)
		return NULL;
	nat_mapping *m = &nat->maps[idx];
	uint32_t gen = m->gen;
	memset(m, 0, sizeof *m);
	m->gen = gen;
	m->internal = *internal;
	m->external = ext;
	m->remote = r;
	m->proto = proto;
	m->live = true;
	m->created_us = m->last_us = sim->now;
	sim_key ke = key_ext(proto, &ext);
	if (sim_hash_put(&nat->by_out, &k, idx) < 0 || sim_hash_put(&nat->by_ext, &ke, idx) < 0)
		return NULL;
	nat->live_count++;
	nat->stats.mappings_created++;
	perms_sweep(nat);
	*idx_out = idx;
	return m;
}

static void tcp_track(nat_mapping *m, uint8_t flags, bool outbound)
{
	if (flags & (IL_SIM_TCP_RST | IL_SIM_TCP_FIN))
		m->tcp_state = TCP_CLOSING;
	else if (m->tcp_state == TCP_NONE && (flags & IL_SIM_TCP_SYN))
		m->tcp_state = TCP_SYN_SENT;
	else if (m->tcp_state == TCP_SYN_SENT && !outbound && (flags & IL_SIM_TCP_ACK))
		m->tcp_state = TCP_ESTABLISHED;
	else if (m->tcp_state == TCP_NONE)
		m->tcp_state = TCP_ESTABLISHED; /* mid-stream pick-up */
}

/* ---- the packet paths ---- */

static bool tcp_port_allowed(const il_sim_nat_config *c, uint16_t port)
{
	if (!c->tcp_port_count)
		return true;
	for (unsigned i = 0; i < c->tcp_port_count; i++)
		if (c->tcp_ports[i] == port)
			return true;
	return false;
}

/* Outbound: map the source. Returns false when the packet must die. */
static bool translate_out(il_sim *sim, struct sim_nat *nat, il_sim_packet *p)
{
	const il_sim_nat_config *c = &nat->cfg;
	if (p->proto == IL_SIM_ICMP) {
		/* An error from inside about an inbound packet: its inner
		 * destination is our internal endpoint. */
		uint32_t idx;
		nat_mapping *m = mapping_get(sim, nat, p->inner_proto, &p->inner_dst,
					     &p->inner_src, false, &idx);
		if (!m)
			return false;
		p->inner_dst = m->external;
		p->src = m->external;
		p->src.port = 0;
		return true;
	}
	if ((p->proto == IL_SIM_UDP && c->block_udp) ||
	    (p->proto == IL_SIM_TCP && !tcp_port_allowed(c, p->dst.port))) {
		nat->stats.blocked_out++;
		return false;
	}
	uint32_t idx;
	nat_mapping *m = mapping_get(sim, nat, p->proto, &p->src, &p->dst, true, &idx);
	if (!m)
		return false;
	m->last_us = sim->now; /* REQ-6: outbound refresh is always TRUE */
	m->packets_out++;
	if (p->proto == IL_SIM_TCP)
		tcp_track(m, p->tcp_flags, true);
	if (c->filtering != IL_SIM_FILTER_EIF) {
		il_addr r = mask_remote(&p->dst, c->filtering);
		sim_key k = key_perm(idx, m->gen, &r);
		if (!sim_hash_find(&nat->perms, &k))
			sim_hash_put(&nat->perms, &k, 1);
	}
	p->src = m->external;
	nat->stats.translated_out++;
	return true;
}

/* Inbound: find the mapping of the destination and filter. */
static bool translate_in(il_sim *sim, struct sim_nat *nat, il_sim_packet *p)
{
	const il_sim_nat_config *c = &nat->cfg;
	if (p->proto == IL_SIM_ICMP) {
		nat_mapping *m = find_ext(nat, p->inner_proto, &p->inner_src, sim->now, NULL);
		if (!m || !c->icmp) {
			nat->stats.filtered_in++;
			return false;
		}
		p->inner_src = m->internal;
		p->dst = m->internal;
		p->dst.port = 0;
		nat->stats.icmp_translated++;
		return true;
	}
	if (p->proto == IL_SIM_UDP && c->block_udp) {
		nat->stats.filtered_in++;
		return false;
	}
	uint32_t idx;
	nat_mapping *m = find_ext(nat, p->proto, &p->dst, sim->now, &idx);
	if (!m) {
		nat->stats.no_mapping_in++;
		return false;
	}
	if (c->filtering != IL_SIM_FILTER_EIF) {
		il_addr r = mask_remote(&p->src, c->filtering);
		sim_key k = key_perm(idx, m->gen, &r);
		if (!sim_hash_find(&nat->perms, &k)) {
			nat->stats.filtered_in++;
			return false;
		}
	}
	if (c->inbound_refresh)
		m->last_us = sim->now;
	m->packets_in++;
	if (p->proto == IL_SIM_TCP)
		tcp_track(m, p->tcp_flags, false);
	p->dst = m->internal;
	nat->stats.translated_in++;
	return true;
}

bool sim_nat_owns(const struct sim_nat *nat, const il_addr *ip)
{
	for (unsigned i = 0; i < nat->cfg.external_count; i++)
		if (sim_ip_equal(&nat->cfg.external[i], ip))
			return true;
	return false;
}

static void route_on(il_sim *sim, int node, il_sim_packet *p)
{
	int out = sim_route_lookup(sim, node, &p->dst);
	if (out < 0) {
		sim->stats.packets_dropped_no_route++;
		sim_packet_free(sim, p);
		return;
	}
	sim->stats.packets_forwarded++;
	sim_link_transmit(sim, out, node, p);
}

bool sim_nat_forward(il_sim *sim, int node, int in_link, il_sim_packet *p)
{
	struct sim_nat *nat = sim->nodes[node].nat;
	if (in_link == nat->outside_link) {
		bool ours = nat->cfg.translate ? sim_nat_owns(nat, &p->dst)
					       : !sim_node_owns(sim, node, &p->dst);
		if (!ours)
			return false;
		if (!translate_in(sim, nat, p))
			sim_packet_free(sim, p);
		else
			route_on(sim, node, p);
		return true;
	}
	if (nat->cfg.translate && sim_nat_owns(nat, &p->dst)) {
		/* Hairpinning (RFC 4787 §6, REQ-9): out through the mapping,
		 * in again as if from the outside, with the external source. */
		if (p->proto == IL_SIM_ICMP || !nat->cfg.hairpin) {
			nat->stats.hairpin_dropped++;
			sim_packet_free(sim, p);
			return true;
		}
		if (!translate_out(sim, nat, p) || !translate_in(sim, nat, p)) {
			sim_packet_free(sim, p);
			return true;
		}
		nat->stats.hairpinned++;
		route_on(sim, node, p);
		return true;
	}
	if (sim_node_owns(sim, node, &p->dst) ||
	    sim_route_lookup(sim, node, &p->dst) != nat->outside_link)
		return false; /* inside to inside, or to the router itself */
	if (!translate_out(sim, nat, p)) {
		sim_packet_free(sim, p);
		return true;
	}
	route_on(sim, node, p);
	return true;
}

/* ---- setup and inspection ---- */

int il_sim_set_nat(il_sim *sim, int router, int outside_link, const il_sim_nat_config *cfg)
{
	if (router < 0 || (size_t)router >= sim->node_count || !sim->nodes[router].router) {
		sim_set_error(sim, "NAT: node %d is not a router", router);
		return -1;
	}
	const il_addr *out_ip = il_sim_iface_addr(sim, router, outside_link);
	if (!out_ip) {
		sim_set_error(sim, "NAT '%s': the outside link is not one of its links",
			      sim->nodes[router].name);
		return -1;
	}
	if (cfg->port_min == 0 || cfg->port_min > cfg->port_max) {
		sim_set_error(sim, "NAT '%s': bad port range %u-%u", sim->nodes[router].name,
			      cfg->port_min, cfg->port_max);
		return -1;
	}
	struct sim_nat *nat = calloc(1, sizeof *nat);
	if (!nat)
		return -1;
	nat->cfg = *cfg;
	nat->outside_link = outside_link;
	if (!nat->cfg.external_count) {
		nat->cfg.external_count = 1;
		nat->pool_from_iface = true;
	}
	/* Pool entries left unset are the outside address, then the next
	 * ones up (IPv4: .2, .3 ...; they must lie in the outside subnet). */
	for (unsigned i = 0; i < nat->cfg.external_count; i++) {
		il_addr *e = &nat->cfg.external[i];
		if (e->family != IL_AF_NONE)
			continue;
		*e = *out_ip;
		unsigned last = e->family == IL_AF_INET ? 3 : 15;
		e->ip[last] = (uint8_t)(e->ip[last] + i);
	}
	for (unsigned i = 0; i < nat->cfg.external_count; i++)
		nat->cfg.external[i].port = 0;
	if (sim_hash_init(&nat->by_out, 256) < 0 || sim_hash_init(&nat->by_ext, 256) < 0 ||
	    sim_hash_init(&nat->perms, 256) < 0 || sim_hash_init(&nat->paired, 16) < 0) {
		sim_nat_free(nat);
		return -1;
	}
	sim_nat_free(sim->nodes[router].nat);
	sim->nodes[router].nat = nat;
	return 0;
}

void sim_nat_free(struct sim_nat *nat)
{
	if (!nat)
		return;
	sim_hash_free(&nat->by_out);
	sim_hash_free(&nat->by_ext);
	sim_hash_free(&nat->perms);
	sim_hash_free(&nat->paired);
	free(nat->maps);
	free(nat->free_slots);
	free(nat);
}

static struct sim_nat *nat_of(const il_sim *sim, int router)
{
	if (router < 0 || (size_t)router >= sim->node_count)
		return NULL;
	return sim->nodes[router].nat;
}

int il_sim_nat_get_stats(const il_sim *sim, int router, il_sim_nat_stats *out)
{
	struct sim_nat *nat = nat_of(sim, router);
	if (!nat)
		return -1;
	*out = nat->stats;
	return 0;
}

int il_sim_nat_flush(il_sim *sim, int router)
{
	struct sim_nat *nat = nat_of(sim, router);
	if (!nat)
		return -1;
	for (size_t i = 0; i < nat->map_count; i++)
		if (nat->maps[i].live)
			mapping_remove(nat, (uint32_t)i);
	sim_hash_clear(&nat->perms);
	sim_hash_clear(&nat->paired);
	return 0;
}

void sim_nat_renumber(struct sim_nat *nat, const il_addr *old_ip, const il_addr *new_ip)
{
	if (!nat->pool_from_iface)
		return;
	for (unsigned i = 0; i < nat->cfg.external_count; i++)
		if (sim_ip_equal(&nat->cfg.external[i], old_ip)) {
			nat->cfg.external[i] = *new_ip;
			nat->cfg.external[i].port = 0;
		}
	for (size_t i = 0; i < nat->map_count; i++)
		if (nat->maps[i].live)
			mapping_remove(nat, (uint32_t)i);
	sim_hash_clear(&nat->perms);
}

size_t il_sim_nat_mapping_count(const il_sim *sim, int router)
{
	struct sim_nat *nat = nat_of(sim, router);
	if (!nat)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < nat->map_count; i++)
		n += nat->maps[i].live && !expired(nat, &nat->maps[i], sim->now);
	return n;
}

void il_sim_nat_dump(const il_sim *sim, int router, FILE *out)
{
	struct sim_nat *nat = nat_of(sim, router);
	if (!nat)
		return;
	for (size_t i = 0; i < nat->map_count; i++) {
		const nat_mapping *m = &nat->maps[i];
		if (!m->live || expired(nat, m, sim->now))
			continue;
		char in[IL_ADDR_STRLEN], ex[IL_ADDR_STRLEN], re[IL_ADDR_STRLEN] = "*";
		il_addr_format(&m->internal, in, sizeof in);
		il_addr_format(&m->external, ex, sizeof ex);
		if (m->remote.family && nat->cfg.mapping == IL_SIM_MAP_APDM)
			il_addr_format(&m->remote, re, sizeof re);
		else if (m->remote.family)
			il_addr_format_ip(&m->remote, re, sizeof re);
		fprintf(out, "%s %s %s -> %s remote %s idle %" PRIu64 " ms out %" PRIu64
			     " in %" PRIu64 "\n",
			sim->nodes[router].name, m->proto == IL_SIM_TCP ? "tcp" : "udp", in, ex, re,
			(sim->now - m->last_us) / 1000, m->packets_out, m->packets_in);
	}
}

int il_sim_nat_lookup(const il_sim *sim, int router, uint8_t proto, const il_addr *internal,
		      const il_addr *remote, il_addr *external)
{
	struct sim_nat *nat = nat_of(sim, router);
	if (!nat)
		return -1;
	il_addr r = mask_remote(remote, nat->cfg.mapping);
	sim_key k = key_out(proto, internal, &r);
	uint64_t *v = sim_hash_find(&nat->by_out, &k);
	if (!v || expired(nat, &nat->maps[*v], sim->now))
		return -1;
	*external = nat->maps[*v].external;
	return 0;
}

const char *il_sim_mapping_name(int m)
{
	static const char *const names[] = {"eim", "adm", "apdm"};
	return m >= 0 && m < 3 ? names[m] : "?";
}

const char *il_sim_filtering_name(int f)
{
	static const char *const names[] = {"eif", "adf", "apdf"};
	return f >= 0 && f < 3 ? names[f] : "?";
}
