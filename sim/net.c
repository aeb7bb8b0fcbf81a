/* The virtual network: hosts and routers, point-to-point links with
 * their impairments (latency, jitter, random and Gilbert-Elliott loss,
 * duplication, reordering, MTU, bandwidth with a tail-drop queue),
 * longest-prefix routing, UDP sockets and ICMP errors.
 *
 * A packet's life: a socket sends -> sim_node_output routes it ->
 * sim_link_transmit draws its fate and schedules its arrival -> the far
 * node's input hands it to its NAT, forwards it, or delivers it locally. */
#include "sim_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

bool sim_ip_equal(const il_addr *a, const il_addr *b)
{
	if (a->family != b->family)
		return false;
	return memcmp(a->ip, b->ip, a->family == IL_AF_INET ? 4 : 16) == 0;
}

static bool prefix_match(const il_addr *net, uint8_t len, const il_addr *a)
{
	if (net->family != a->family)
		return false;
	size_t full = len / 8;
	if (memcmp(net->ip, a->ip, full) != 0)
		return false;
	unsigned rest = len % 8;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (net->ip[full] & mask) == (a->ip[full] & mask);
}

/* "a.b.c.d/len" or "v6/len" (len optional: a host route). */
static int parse_prefix(const char *text, il_addr *out, uint8_t *len)
{
	char buf[64];
	size_t n = strlen(text);
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, text, n + 1);
	char *slash = strchr(buf, '/');
	long plen = -1;
	if (slash) {
		*slash = '\0';
		char *end;
		plen = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1)
			return -1;
	}
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, buf, out->ip) == 1) {
		out->family = IL_AF_INET;
		if (plen < 0)
			plen = 32;
		if (plen > 32)
			return -1;
	} else if (inet_pton(AF_INET6, buf, out->ip) == 1) {
		out->family = IL_AF_INET6;
		if (plen < 0)
			plen = 128;
		if (plen > 128)
			return -1;
	} else {
		return -1;
	}
	*len = (uint8_t)plen;
	return 0;
}

static int add_node(il_sim *sim, const char *name, bool router)
{
	if (!name || !*name || strlen(name) >= SIM_NAME_MAX) {
		sim_set_error(sim, "node name '%s' is empty or too long", name ? name : "");
		return -1;
	}
	if (il_sim_find_node(sim, name) >= 0) {
		sim_set_error(sim, "node '%s' defined twice", name);
		return -1;
	}
	sim_node *nodes = realloc(sim->nodes, (sim->node_count + 1) * sizeof *nodes);
	if (!nodes)
		return -1;
	sim->nodes = nodes;
	sim_node *n = &nodes[sim->node_count];
	memset(n, 0, sizeof *n);
	strcpy(n->name, name);
	n->router = router;
	n->next_ephemeral = 50000;
	return (int)sim->node_count++;
}

int il_sim_add_host(il_sim *sim, const char *name)
{
	return add_node(sim, name, false);
}

int il_sim_add_router(il_sim *sim, const char *name)
{
	return add_node(sim, name, true);
}

int il_sim_find_node(const il_sim *sim, const char *name)
{
	for (size_t i = 0; i < sim->node_count; i++)
		if (strcmp(sim->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *il_sim_node_name(const il_sim *sim, int node)
{
	return node >= 0 && (size_t)node < sim->node_count ? sim->nodes[node].name : "?";
}

size_t il_sim_node_count(const il_sim *sim)
{
	return sim->node_count;
}

size_t il_sim_link_count(const il_sim *sim)
{
	return sim->link_count;
}

void il_sim_link_config_defaults(il_sim_link_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->latency_us = 5000;
	cfg->mtu = 1500;
	cfg->queue_us = 200000;
}

static int add_route(il_sim *sim, int node, const il_addr *net, uint8_t len, int link)
{
	sim_node *n = &sim->nodes[node];
	sim_route *r = realloc(n->routes, (n->route_count + 1) * sizeof *r);
	if (!r)
		return -1;
	n->routes = r;
	sim_route *e = &r[n->route_count++];
	memset(e, 0, sizeof *e);
	e->prefix.base = *net;
	e->prefix.prefix_len = len;
	e->link = link;
	return 0;
}

static int add_iface(il_sim *sim, int node, int link, const char *text, size_t *index)
{
	il_addr a;
	uint8_t len;
	if (parse_prefix(text, &a, &len) < 0) {
		sim_set_error(sim, "node '%s': bad address '%s' (want a.b.c.d/len or v6/len)",
			      sim->nodes[node].name, text);
		return -1;
	}
	sim_node *n = &sim->nodes[node];
	sim_iface *f = realloc(n->ifaces, (n->iface_count + 1) * sizeof *f);
	if (!f)
		return -1;
	n->ifaces = f;
	*index = n->iface_count;
	sim_iface *e = &f[n->iface_count++];
	e->link = link;
	e->addr = a;
	e->prefix_len = len;
	/* The connected subnet; a host's first link is also its default. */
	if (add_route(sim, node, &a, len, link) < 0)
		return -1;
	if (!n->router && n->iface_count == 1) {
		il_addr any;
		memset(&any, 0, sizeof any);
		any.family = a.family;
		add_route(sim, node, &any, 0, link);
	}
	return 0;
}

int il_sim_connect(il_sim *sim, int a, const char *addr_a, int b, const char *addr_b,
		   const il_sim_link_config *cfg, const char *name)
{
	if (a < 0 || b < 0 || (size_t)a >= sim->node_count || (size_t)b >= sim->node_count ||
	    a == b) {
		sim_set_error(sim, "link '%s': bad nodes", name ? name : "");
		return -1;
	}
	sim_link *links = realloc(sim->links, (sim->link_count + 1) * sizeof *links);
	if (!links)
		return -1;
	sim->links = links;
	int id = (int)sim->link_count;
	sim_link *l = &links[id];
	memset(l, 0, sizeof *l);
	if (name && *name)
		snprintf(l->name, sizeof l->name, "%s", name);
	else
		snprintf(l->name, sizeof l->name, "%.14s-%.14s", sim->nodes[a].name,
			 sim->nodes[b].name);
	l->node[0] = a;
	l->node[1] = b;
	if (cfg)
		l->cfg = *cfg;
	else
		il_sim_link_config_defaults(&l->cfg);
	if (!l->cfg.mtu)
		l->cfg.mtu = 1500;
	if (!l->cfg.queue_us)
		l->cfg.queue_us = 200000;
	l->up = true;
	if (add_iface(sim, a, id, addr_a, &l->iface[0]) < 0 ||
	    add_iface(sim, b, id, addr_b, &l->iface[1]) < 0)
		return -1;
	sim->link_count++;
	return id;
}

int il_sim_find_link(const il_sim *sim, const char *name)
{
	for (size_t i = 0; i < sim->link_count; i++)
		if (strcmp(sim->links[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *il_sim_link_name(const il_sim *sim, int link)
{
	return link >= 0 && (size_t)link < sim->link_count ? sim->links[link].name : "?";
}

int il_sim_add_route(il_sim *sim, int node, const char *prefix, int link)
{
	il_addr a;
	uint8_t len;
	if (node < 0 || (size_t)node >= sim->node_count || link < 0 ||
	    (size_t)link >= sim->link_count) {
		sim_set_error(sim, "route '%s': bad node or link", prefix);
		return -1;
	}
	if (parse_prefix(prefix, &a, &len) < 0) {
		sim_set_error(sim, "route: bad prefix '%s'", prefix);
		return -1;
	}
	const sim_link *l = &sim->links[link];
	if (l->node[0] != node && l->node[1] != node) {
		sim_set_error(sim, "route '%s': link '%s' does not touch node '%s'", prefix,
			      l->name, sim->nodes[node].name);
		return -1;
	}
	return add_route(sim, node, &a, len, link);
}

void il_sim_link_set_up(il_sim *sim, int link, bool up)
{
	if (link >= 0 && (size_t)link < sim->link_count)
		sim->links[link].up = up;
}

void il_sim_link_get_stats(const il_sim *sim, int link, int dir, il_sim_link_stats *out)
{
	memset(out, 0, sizeof *out);
	if (link >= 0 && (size_t)link < sim->link_count && (dir == 0 || dir == 1))
		*out = sim->links[link].dir[dir].stats;
}

const il_addr *il_sim_iface_addr(const il_sim *sim, int node, int link)
{
	if (node < 0 || (size_t)node >= sim->node_count)
		return NULL;
	const sim_node *n = &sim->nodes[node];
	for (size_t i = 0; i < n->iface_count; i++)
		if (n->ifaces[i].link == link)
			return &n->ifaces[i].addr;
	return NULL;
}

const il_addr *il_sim_node_addr(const il_sim *sim, int node, uint8_t family)
{
	if (node < 0 || (size_t)node >= sim->node_count)
		return NULL;
	const sim_node *n = &sim->nodes[node];
	for (size_t i = 0; i < n->iface_count; i++)
		if (n->ifaces[i].addr.family == family)
			return &n->ifaces[i].addr;
	return NULL;
}

bool sim_node_owns(const il_sim *sim, int node, const il_addr *ip)
{
	const sim_node *n = &sim->nodes[node];
	for (size_t i = 0; i < n->iface_count; i++)
		if (sim_ip_equal(&n->ifaces[i].addr, ip))
			return true;
	return false;
}

int sim_route_lookup(const il_sim *sim, int node, const il_addr *dst)
{
	const sim_node *n = &sim->nodes[node];
	int best = -1, best_len = -1;
	for (size_t i = 0; i < n->route_count; i++) {
		const sim_route *r = &n->routes[i];
		if (r->prefix.prefix_len > best_len &&
		    prefix_match(&r->prefix.base, r->prefix.prefix_len, dst)) {
			best = r->link;
			best_len = r->prefix.prefix_len;
		}
	}
	return best;
}

/* ---- Packets on links. ---- */

size_t il_sim_packet_wire_len(const il_sim_packet *p)
{
	size_t ip = p->dst.family == IL_AF_INET6 ? 40 : 20;
	switch (p->proto) {
	case IL_SIM_UDP:
		return ip + 8 + p->len;
	case IL_SIM_TCP:
		return ip + 20 + p->len;
	default: /* ICMP: 8 + the offending IP header + 8 bytes */
		return ip + 8 + (p->inner_dst.family == IL_AF_INET6 ? 40 : 20) + 8;
	}
}

static void link_arrive(il_sim *sim, void *arg, uint64_t u);
static void link_fifo_arrive(il_sim *sim, void *arg, uint64_t u);

/* Appends to the direction's FIFO; the first in line gets the event. */
static void fifo_push(il_sim *sim, sim_link_dir *d, int link, int dir, il_sim_packet *p)
{
	p->next_free = NULL;
	if (d->fifo_tail) {
		d->fifo_tail->next_free = p;
		d->fifo_tail = p;
		return;
	}
	d->fifo_head = d->fifo_tail = p;
	il_sim_schedule(sim, p->arrive_us, link_fifo_arrive, NULL, (uint64_t)link << 1 | (uint64_t)dir);
}

static bool chance(il_sim *sim, double prob)
{
	return prob > 0 && il_sim_rng_unit(&sim->rng) < prob;
}

void sim_link_transmit(il_sim *sim, int link, int from_node, il_sim_packet *p)
{
	sim_link *l = &sim->links[link];
	int dir = l->node[0] == from_node ? 0 : 1;
	sim_link_dir *d = &l->dir[dir];
	const il_sim_link_config *c = &l->cfg;
	size_t wire = il_sim_packet_wire_len(p);
	d->stats.sent++;
	d->stats.bytes += wire;
	if (!l->up) {
		d->stats.dropped_down++;
		sim_packet_free(sim, p);
		return;
	}
	if (wire > c->mtu) {
		/* Everything is sent with DF set: no fragmentation is modelled. */
		d->stats.dropped_mtu++;
		if (p->proto != IL_SIM_ICMP)
			sim_send_icmp(sim, from_node, p, IL_SIM_ICMP_TOO_BIG, c->mtu);
		sim_packet_free(sim, p);
		return;
	}
	if (sim->pcap_merged || l->dump)
		sim_pcap_record(sim, l, p);
	if (chance(sim, c->loss)) {
		d->stats.lost_random++;
		sim_packet_free(sim, p);
		return;
	}
	if (c->ge_p > 0) {
		/* Gilbert-Elliott: lose by the current state, then move. */
		bool lost = chance(sim, d->ge_bad ? c->ge_loss_bad : c->ge_loss_good);
		if (d->ge_bad)
			d->ge_bad = !chance(sim, c->ge_r);
		else
			d->ge_bad = chance(sim, c->ge_p);
		if (lost) {
			d->stats.lost_burst++;
			sim_packet_free(sim, p);
			return;
		}
	}
	uint64_t arrive;
	if (c->bandwidth_bps) {
		uint64_t start = d->busy_until > sim->now ? d->busy_until : sim->now;
		if (start - sim->now > c->queue_us) {
			d->stats.dropped_queue++;
			sim_packet_free(sim, p);
			return;
		}
		d->busy_until = start + (wire * 8 * 1000000ull + c->bandwidth_bps - 1) /
						c->bandwidth_bps;
		arrive = d->busy_until + c->latency_us;
	} else {
		arrive = sim->now + c->latency_us;
	}
	if (c->jitter_us)
		arrive += il_sim_rng_below(&sim->rng, c->jitter_us + 1);
	if (arrive < d->last_arrival)
		arrive = d->last_arrival; /* a link is FIFO: jitter does not reorder */
	d->last_arrival = arrive;
	bool held = chance(sim, c->reorder);
	if (held) {
		arrive += c->reorder_delay_us;
		d->stats.reordered++;
	}
	p->link = (uint32_t)link;
	p->dir = (uint8_t)dir;
	p->arrive_us = arrive;
	if (chance(sim, c->duplicate)) {
		il_sim_packet *copy = sim_packet_alloc(sim);
		if (copy) {
			uint64_t id = copy->id;
			memcpy(copy, p, offsetof(il_sim_packet, data) + p->len);
			copy->id = id;
			d->stats.duplicated++;
			if (held)
				il_sim_schedule(sim, arrive, link_arrive, copy, 0);
			else
				fifo_push(sim, d, link, dir, copy);
		}
	}
	/* A packet held back leaves the line: later ones overtake it. */
	if (held)
		il_sim_schedule(sim, arrive, link_arrive, p, 0);
	else
		fifo_push(sim, d, link, dir, p);
}

static void node_input(il_sim *sim, int node, int in_link, il_sim_packet *p)
{
	sim_node *n = &sim->nodes[node];
	if (n->nat && sim_nat_forward(sim, node, in_link, p))
		return;
	if (sim_node_owns(sim, node, &p->dst)) {
		sim_node_local_deliver(sim, node, p);
		return;
	}
	if (!n->router) {
		sim->stats.packets_dropped_no_route++;
		sim_packet_free(sim, p);
		return;
	}
	int out = sim_route_lookup(sim, node, &p->dst);
	if (out < 0) {
		sim->stats.packets_dropped_no_route++;
		if (p->proto != IL_SIM_ICMP)
			sim_send_icmp(sim, node, p, IL_SIM_ICMP_HOST_UNREACH, 0);
		sim_packet_free(sim, p);
		return;
	}
	sim->stats.packets_forwarded++;
	sim_link_transmit(sim, out, node, p);
}

static void link_arrive(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	il_sim_packet *p = arg;
	sim_link *l = &sim->links[p->link];
	l->dir[p->dir].stats.delivered++;
	node_input(sim, l->node[1 - p->dir], (int)p->link, p);
}

static void link_fifo_arrive(il_sim *sim, void *arg, uint64_t u)
{
	(void)arg;
	sim_link *l = &sim->links[u >> 1];
	sim_link_dir *d = &l->dir[u & 1];
	il_sim_packet *p = d->fifo_head;
	d->fifo_head = p->next_free;
	if (!d->fifo_head)
		d->fifo_tail = NULL;
	else
		il_sim_schedule(sim, d->fifo_head->arrive_us, link_fifo_arrive, NULL, u);
	p->next_free = NULL;
	link_arrive(sim, p, 0);
}

static void local_arrive(il_sim *sim, void *arg, uint64_t node)
{
	sim_node_local_deliver(sim, (int)node, arg);
}

void sim_node_output(il_sim *sim, int node, il_sim_packet *p)
{
	sim->stats.packets_sent++;
	if (sim_node_owns(sim, node, &p->dst)) {
		il_sim_schedule(sim, sim->now, local_arrive, p, (uint64_t)node);
		return;
	}
	int out = sim_route_lookup(sim, node, &p->dst);
	if (out < 0) {
		sim->stats.packets_dropped_no_route++;
		sim_packet_free(sim, p);
		return;
	}
	sim_link_transmit(sim, out, node, p);
}

void sim_send_icmp(il_sim *sim, int node, const il_sim_packet *about, uint8_t kind,
		   uint16_t mtu)
{
	il_sim_packet *q = sim_packet_alloc(sim);
	if (!q)
		return;
	const il_addr *src = NULL;
	int out = sim_route_lookup(sim, node, &about->src);
	if (out >= 0)
		src = il_sim_iface_addr(sim, node, out);
	if (!src || src->family != about->src.family)
		src = il_sim_node_addr(sim, node, about->src.family);
	if (!src) {
		sim_packet_free(sim, q);
		return;
	}
	q->proto = IL_SIM_ICMP;
	q->src = *src;
	q->src.port = 0;
	q->dst = about->src;
	q->dst.port = 0;
	q->icmp_kind = kind;
	q->icmp_mtu = mtu;
	q->inner_proto = about->proto;
	q->inner_src = about->src;
	q->inner_dst = about->dst;
	q->inner_len = about->len;
	/* The first 8 bytes of the offending payload travel along. */
	q->len = about->len < 8 ? about->len : 8;
	memcpy(q->data, about->data, q->len);
	sim_node_output(sim, node, q);
}

/* ---- Sockets. ---- */

sim_key sim_sock_key(int node, uint8_t proto, const il_addr *local, const il_addr *remote)
{
	sim_key k;
	memset(&k, 0, sizeof k);
	uint8_t *b = (uint8_t *)&k;
	memcpy(b, &node, sizeof node);
	b[4] = proto;
	b[5] = local->family;
	memcpy(b + 6, &local->port, 2);
	memcpy(b + 8, local->ip, 16);
	if (remote) {
		b[24] = remote->family;
		memcpy(b + 26, &remote->port, 2);
		memcpy(b + 28, remote->ip, 16);
	}
	return k;
}

int sim_sock_alloc(il_sim *sim)
{
	for (size_t i = 0; i < sim->sock_count; i++)
		if (sim->socks[i].kind == SOCK_FREE)
			return (int)i;
	sim_sock *s = realloc(sim->socks, (sim->sock_count + 1) * sizeof *s);
	if (!s)
		return -1;
	sim->socks = s;
	memset(&s[sim->sock_count], 0, sizeof *s);
	return (int)sim->sock_count++;
}

static bool local_addr_ok(il_sim *sim, int host, const il_addr *local, il_addr *out)
{
	if (local && local->family != IL_AF_NONE) {
		if (!sim_node_owns(sim, host, local)) {
			sim_set_error(sim, "node '%s' has no address to bind", sim->nodes[host].name);
			return false;
		}
		*out = *local;
		return true;
	}
	const il_addr *a = il_sim_node_addr(sim, host, IL_AF_INET);
	if (!a)
		a = il_sim_node_addr(sim, host, IL_AF_INET6);
	if (!a) {
		sim_set_error(sim, "node '%s' has no address", sim->nodes[host].name);
		return false;
	}
	*out = *a;
	out->port = local ? local->port : 0;
	return true;
}

/* Picks a free ephemeral port of proto on node for address a. */
uint16_t sim_ephemeral_port(il_sim *sim, int node, uint8_t proto, const il_addr *a)
{
	sim_node *n = &sim->nodes[node];
	for (int tries = 0; tries < 15000; tries++) {
		uint16_t port = n->next_ephemeral++;
		if (n->next_ephemeral >= 65000)
			n->next_ephemeral = 50000;
		il_addr t = *a;
		t.port = port;
		sim_key k = sim_sock_key(node, proto, &t, NULL);
		if (!sim_hash_find(&sim->sock_index, &k))
			return port;
	}
	return 0;
}

int il_sim_udp_bind(il_sim *sim, int host, const il_addr *local, il_sim_udp_recv_fn recv,
		    il_sim_icmp_fn icmp, void *user, il_addr *bound)
{
	if (host < 0 || (size_t)host >= sim->node_count)
		return -1;
	il_addr a;
	if (!local_addr_ok(sim, host, local, &a))
		return -1;
	if (a.port == 0 && !(a.port = sim_ephemeral_port(sim, host, IL_SIM_UDP, &a)))
		return -1;
	sim_key k = sim_sock_key(host, IL_SIM_UDP, &a, NULL);
	if (sim_hash_find(&sim->sock_index, &k)) {
		sim_set_error(sim, "node '%s': UDP port %u in use", sim->nodes[host].name, a.port);
		return -1;
	}
	int id = sim_sock_alloc(sim);
	if (id < 0 || sim_hash_put(&sim->sock_index, &k, (uint64_t)id) < 0)
		return -1;
	sim_sock *s = &sim->socks[id];
	s->kind = SOCK_UDP;
	s->node = host;
	s->local = a;
	s->recv = recv;
	s->icmp = icmp;
	s->user = user;
	if (bound)
		*bound = a;
	return id;
}

int il_sim_udp_send(il_sim *sim, int sock, const il_addr *to, const uint8_t *data, size_t len)
{
	if (sock < 0 || (size_t)sock >= sim->sock_count || sim->socks[sock].kind != SOCK_UDP ||
	    len > IL_SIM_MAX_PAYLOAD || to->family != sim->socks[sock].local.family)
		return -1;
	il_sim_packet *p = sim_packet_alloc(sim);
	if (!p)
		return -1;
	sim_sock *s = &sim->socks[sock];
	p->proto = IL_SIM_UDP;
	p->src = s->local;
	p->dst = *to;
	p->len = (uint16_t)len;
	memcpy(p->data, data, len);
	sim_node_output(sim, s->node, p);
	return 0;
}

void il_sim_udp_close(il_sim *sim, int sock)
{
	if (sock < 0 || (size_t)sock >= sim->sock_count || sim->socks[sock].kind != SOCK_UDP)
		return;
	sim_sock *s = &sim->socks[sock];
	sim_key k = sim_sock_key(s->node, IL_SIM_UDP, &s->local, NULL);
	sim_hash_del(&sim->sock_index, &k);
	memset(s, 0, sizeof *s);
}

static void deliver_icmp(il_sim *sim, int node, il_sim_packet *p)
{
	if (p->inner_proto != IL_SIM_UDP)
		return;
	sim_key k = sim_sock_key(node, IL_SIM_UDP, &p->inner_src, NULL);
	uint64_t *v = sim_hash_find(&sim->sock_index, &k);
	if (!v)
		return;
	sim_sock *s = &sim->socks[*v];
	if (s->icmp)
		s->icmp(s->user, sim, (int)*v, p);
}

void sim_node_local_deliver(il_sim *sim, int node, il_sim_packet *p)
{
	sim->stats.packets_delivered++;
	switch (p->proto) {
	case IL_SIM_UDP: {
		sim_key k = sim_sock_key(node, IL_SIM_UDP, &p->dst, NULL);
		uint64_t *v = sim_hash_find(&sim->sock_index, &k);
		if (!v) {
			sim->stats.packets_dropped_no_socket++;
			if (!sim->nodes[node].router)
				sim_send_icmp(sim, node, p, IL_SIM_ICMP_PORT_UNREACH, 0);
			break;
		}
		sim_sock *s = &sim->socks[*v];
		if (s->recv)
			s->recv(s->user, sim, (int)*v, &p->src, p->data, p->len);
		break;
	}
	case IL_SIM_TCP:
		sim_tcp_input(sim, node, p);
		return; /* tcp.c frees */
	case IL_SIM_ICMP:
		deliver_icmp(sim, node, p);
		break;
	}
	sim_packet_free(sim, p);
}

int il_sim_set_iface_addr(il_sim *sim, int node, int link, const char *text)
{
	if (node < 0 || (size_t)node >= sim->node_count)
		return -1;
	sim_node *n = &sim->nodes[node];
	il_addr a;
	uint8_t len;
	if (parse_prefix(text, &a, &len) < 0) {
		sim_set_error(sim, "bad address '%s'", text);
		return -1;
	}
	for (size_t i = 0; i < n->iface_count; i++) {
		sim_iface *f = &n->ifaces[i];
		if (f->link != link)
			continue;
		il_addr old = f->addr;
		f->addr = a;
		f->prefix_len = len;
		/* The connected route follows. */
		for (size_t r = 0; r < n->route_count; r++)
			if (n->routes[r].link == link && n->routes[r].prefix.prefix_len != 0 &&
			    prefix_match(&n->routes[r].prefix.base, n->routes[r].prefix.prefix_len,
					 &old)) {
				n->routes[r].prefix.base = a;
				n->routes[r].prefix.prefix_len = len;
			}
		/* Sockets bound to the old IP move (UDP; TCP connections break). */
		for (size_t s = 0; s < sim->sock_count; s++) {
			sim_sock *so = &sim->socks[s];
			if (so->kind != SOCK_UDP || so->node != node || !sim_ip_equal(&so->local, &old))
				continue;
			sim_key k = sim_sock_key(node, IL_SIM_UDP, &so->local, NULL);
			sim_hash_del(&sim->sock_index, &k);
			uint16_t port = so->local.port;
			so->local = a;
			so->local.port = port;
			k = sim_sock_key(node, IL_SIM_UDP, &so->local, NULL);
			sim_hash_put(&sim->sock_index, &k, s);
		}
		if (n->nat)
			sim_nat_renumber(n->nat, &old, &a);
		return 0;
	}
	sim_set_error(sim, "node '%s' is not on link %d", n->name, link);
	return -1;
}
