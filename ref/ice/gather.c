/* Candidate gathering and policy (RFC 8445 §5.1.1, §5.1.2, §5.1.3;
 * RFC 8421 local preferences; RFC 8838 trickle and end-of-candidates;
 * relayed candidates through the TURN client core, RFC 8656 §7, §9).
 * ice_gather.h says how a driver uses it. */
#include <stdlib.h>
#include <string.h>

#include "icelab/ice_gather.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"
#include "icelab/turn_client.h"

#define MAX_BINDINGS (IL_ICE_GATHER_MAX_HOSTS * IL_ICE_GATHER_MAX_SERVERS)
#define MAX_RELAYS (IL_ICE_GATHER_MAX_SERVERS * IL_ICE_MAX_COMPONENTS)
#define HELD_MAX 8        /* datagrams held per allocation until a permission */
#define HELD_LEN 600      /* checks are ~100 bytes; media larger is not held */
#define CRED_MAX 128

typedef struct host_base {
	unsigned component;
	il_addr addr;
	bool unreliable;
	uint16_t pref;            /* RFC 8421 local preference */
} host_base;

typedef struct binding {
	il_ice_gatherer *g;
	unsigned host;            /* index in hosts[] */
	il_addr server;
	bool active;
	il_stun_txn_table table;
	il_stun_txn slot;
} binding;

typedef struct turn_server {
	il_addr addr;
	int transport;
	char user[CRED_MAX], pwd[CRED_MAX];
	bool has_user;
} turn_server;

typedef struct held {
	bool used;
	il_addr peer;
	uint16_t len;
	uint8_t data[HELD_LEN];
} held;

typedef struct relay {
	il_ice_gatherer *g;
	unsigned id, host;        /* the base of UDP allocations; the IP of streams */
	const turn_server *srv;
	il_turn_client *turn;
	bool pending;             /* allocation not ended yet (counts for end-of-candidates) */
	bool allocated;
	il_addr relayed;
	held held[HELD_MAX];
} relay;

struct il_ice_gatherer {
	il_ice_gather_config cfg;
	il_ice_gather_callbacks cb;
	il_ice_agent *agent;
	unsigned stream;
	host_base hosts[IL_ICE_GATHER_MAX_HOSTS];
	size_t host_count;
	il_addr stun[IL_ICE_GATHER_MAX_SERVERS];
	size_t stun_count;
	turn_server turn[IL_ICE_GATHER_MAX_SERVERS];
	size_t turn_count;
	binding bindings[MAX_BINDINGS];
	size_t binding_count;
	relay relays[MAX_RELAYS];
	size_t relay_count;
	il_addr permits[IL_ICE_GATHER_MAX_PERMITS]; /* remote IPs (port 0) */
	size_t permit_count;
	bool started, eoc;
	/* `now` of the call in progress: TURN client events carry no time. */
	uint64_t now_ms;
	il_ice_gather_stats stats;
};

const char *il_ice_gather_policy_name(int policy)
{
	static const char *const names[] = {"all", "relay-only", "no-host"};
	return policy >= 0 && policy <= IL_ICE_GATHER_NO_HOST ? names[policy] : "?";
}

int il_ice_gather_policy_parse(const char *text)
{
	if (!strcmp(text, "all"))
		return IL_ICE_GATHER_ALL;
	if (!strcmp(text, "relay-only") || !strcmp(text, "relay"))
		return IL_ICE_GATHER_RELAY_ONLY;
	if (!strcmp(text, "no-host"))
		return IL_ICE_GATHER_NO_HOST;
	return -1;
}

void il_ice_gather_config_defaults(il_ice_gather_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->policy = IL_ICE_GATHER_ALL;
	il_stun_txn_config_defaults(&cfg->binding, false);
}

static bool ip_equal(const il_addr *x, const il_addr *y)
{
	return x->family == y->family &&
	       memcmp(x->ip, y->ip, x->family == IL_AF_INET ? 4 : 16) == 0;
}

static bool family_ok(const il_addr *a)
{
	return a->family == IL_AF_INET || a->family == IL_AF_INET6;
}

/* ---- end-of-candidates ---- */

static bool all_ended(const il_ice_gatherer *g)
{
	for (size_t i = 0; i < g->binding_count; i++)
		if (g->bindings[i].active)
			return false;
	for (size_t i = 0; i < g->relay_count; i++)
		if (g->relays[i].pending)
			return false;
	return true;
}

/* RFC 8838 §8.2: end-of-candidates once gathering is over. */
static void check_done(il_ice_gatherer *g, uint64_t now_ms)
{
	if (!g->started || g->eoc || !all_ended(g))
		return;
	g->eoc = true;
	il_ice_agent_local_end_of_candidates(g->agent, g->stream, now_ms);
	if (g->cb.candidate)
		g->cb.candidate(g->cb.user, g->stream, NULL);
}

/* A candidate to the agent and, by policy, to the signalling. */
static void offer(il_ice_gatherer *g, il_ice_candidate *c, uint64_t now_ms)
{
	int rc = il_ice_agent_add_local_candidate(g->agent, g->stream, c, now_ms);
	if (rc == IL_ICE_ERR_DUPLICATE) {
		g->stats.redundant++;
		return;
	}
	if (rc < 0)
		return;
	const il_ice_candidate *added = il_ice_agent_local_candidate(g->agent, g->stream,
								     (size_t)rc);
	if (c->type == IL_ICE_CAND_HOST)
		g->stats.host++;
	else if (c->type == IL_ICE_CAND_SRFLX)
		g->stats.srflx++;
	else
		g->stats.relay++;
	if (c->type == IL_ICE_CAND_HOST && g->cfg.policy == IL_ICE_GATHER_NO_HOST)
		return;
	g->stats.signalled++;
	if (g->cb.candidate)
		g->cb.candidate(g->cb.user, g->stream, added);
}

/* ---- setup ---- */

il_ice_gatherer *il_ice_gatherer_new(const il_ice_gather_config *cfg,
				     const il_ice_gather_callbacks *cb, il_ice_agent *agent,
				     unsigned stream)
{
	if (!cfg || !cb || !cb->random || !cb->send || !agent ||
	    cfg->policy < IL_ICE_GATHER_ALL || cfg->policy > IL_ICE_GATHER_NO_HOST)
		return NULL;
	il_ice_gatherer *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->cfg = *cfg;
	g->cb = *cb;
	g->agent = agent;
	g->stream = stream;
	return g;
}

void il_ice_gatherer_free(il_ice_gatherer *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->relay_count; i++)
		il_turn_client_free(g->relays[i].turn);
	free(g);
}

int il_ice_gatherer_add_host(il_ice_gatherer *g, unsigned component, const il_addr *addr,
			     bool unreliable)
{
	if (g->started || g->host_count == IL_ICE_GATHER_MAX_HOSTS || !family_ok(addr) ||
	    component < 1 || component > IL_ICE_MAX_COMPONENTS)
		return -1;
	host_base *h = &g->hosts[g->host_count++];
	h->component = component;
	h->addr = *addr;
	h->unreliable = unreliable;
	return 0;
}

int il_ice_gatherer_add_stun_server(il_ice_gatherer *g, const il_addr *server)
{
	if (g->started || g->stun_count == IL_ICE_GATHER_MAX_SERVERS || !family_ok(server))
		return -1;
	g->stun[g->stun_count++] = *server;
	return 0;
}

int il_ice_gatherer_add_turn_server(il_ice_gatherer *g, const il_addr *server, int transport,
				    const char *username, const char *password)
{
	if (g->started || g->turn_count == IL_ICE_GATHER_MAX_SERVERS || !family_ok(server) ||
	    transport < IL_ICE_SERVER_UDP || transport > IL_ICE_SERVER_TLS ||
	    (username && (strlen(username) >= CRED_MAX || !password ||
			  strlen(password) >= CRED_MAX)))
		return -1;
	turn_server *t = &g->turn[g->turn_count++];
	memset(t, 0, sizeof *t);
	t->addr = *server;
	t->transport = transport;
	if (username) {
		t->has_user = true;
		strcpy(t->user, username);
		strcpy(t->pwd, password);
	}
	return 0;
}

/* RFC 8421 §4 across the host bases of each component. */
static void assign_local_preferences(il_ice_gatherer *g)
{
	for (unsigned comp = 1; comp <= IL_ICE_MAX_COMPONENTS; comp++) {
		il_addr addrs[IL_ICE_GATHER_MAX_HOSTS];
		bool unrel[IL_ICE_GATHER_MAX_HOSTS];
		uint16_t prefs[IL_ICE_GATHER_MAX_HOSTS];
		size_t idx[IL_ICE_GATHER_MAX_HOSTS], n = 0;
		for (size_t i = 0; i < g->host_count; i++)
			if (g->hosts[i].component == comp) {
				addrs[n] = g->hosts[i].addr;
				unrel[n] = g->hosts[i].unreliable;
				idx[n++] = i;
			}
		if (!n)
			continue;
		il_ice_local_preferences(addrs, unrel, n, prefs);
		for (size_t k = 0; k < n; k++)
			g->hosts[idx[k]].pref = prefs[k];
	}
}

/* ---- server-reflexive: STUN Binding (RFC 8445 §5.1.1.2) ---- */

static void binding_send(void *user, const uint8_t *data, size_t len)
{
	binding *b = user;
	b->g->cb.send(b->g->cb.user, &b->g->hosts[b->host].addr, &b->server, data, len);
}

static void binding_failed(void *user, uint32_t tag, enum il_stun_txn_failure why, uint64_t now)
{
	(void)tag;
	(void)why;
	binding *b = user;
	b->active = false;
	b->g->stats.binding_failed++;
	check_done(b->g, now);
}

static void binding_start(il_ice_gatherer *g, binding *b, uint64_t now_ms)
{
	il_stun_txn_callbacks cb = {b, binding_send, binding_failed};
	il_stun_txn_table_init(&b->table, &b->slot, 1, &g->cfg.binding, &cb);
	uint8_t tid[IL_STUN_TID_LEN], buf[64];
	g->cb.random(g->cb.user, tid, sizeof tid);
	il_stun_builder sb;
	il_stun_builder_init(&sb, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	il_stun_add_fingerprint(&sb);
	size_t len = il_stun_builder_finish(&sb, NULL);
	b->active = true;
	if (!len || !il_stun_txn_start(&b->table, buf, len, 0, now_ms)) {
		b->active = false;
		g->stats.binding_failed++;
	}
}

static void srflx_found(il_ice_gatherer *g, const host_base *h, const il_addr *mapped,
			const il_addr *server, uint64_t now_ms)
{
	/* §5.1.3: a server-reflexive candidate equal to its base is redundant. */
	if (il_addr_equal(mapped, &h->addr)) {
		g->stats.redundant++;
		return;
	}
	il_ice_candidate c;
	memset(&c, 0, sizeof c);
	c.component = (uint16_t)h->component;
	c.type = IL_ICE_CAND_SRFLX;
	c.addr = *mapped;
	c.base = h->addr;
	c.related = h->addr;
	c.server = *server;
	c.priority = il_ice_candidate_priority(IL_ICE_TYPE_PREF_SRFLX, h->pref, h->component);
	offer(g, &c, now_ms);
}

/* A Binding response for one of our transactions on this base: used. */
static bool binding_input(il_ice_gatherer *g, const il_addr *base, const il_addr *from,
			  const uint8_t *data, size_t len, uint64_t now_ms)
{
	if (!il_stun_is_stun(data, len))
		return false;
	il_stun_msg msg;
	if (il_stun_decode(data, len, &msg, NULL) != IL_STUN_OK || msg.method != IL_STUN_BINDING ||
	    (msg.cls != IL_STUN_SUCCESS && msg.cls != IL_STUN_ERROR))
		return false;
	for (size_t i = 0; i < g->binding_count; i++) {
		binding *b = &g->bindings[i];
		if (!b->active || !il_addr_equal(&g->hosts[b->host].addr, base) ||
		    !il_addr_equal(&b->server, from))
			continue;
		il_stun_txn *t = il_stun_txn_match(&b->table, &msg);
		if (!t)
			continue;
		const il_stun_attr *a = il_stun_msg_find(&msg, IL_ATTR_XOR_MAPPED_ADDRESS);
		il_addr mapped;
		if (msg.cls != IL_STUN_SUCCESS || !a ||
		    il_stun_attr_get_addr(&msg, a, &mapped) != IL_STUN_OK) {
			il_stun_txn_discard_response(&b->table, t, now_ms);
			return true;
		}
		il_stun_txn_complete(&b->table, t, now_ms);
		b->active = false;
		srflx_found(g, &g->hosts[b->host], &mapped, &b->server, now_ms);
		check_done(g, now_ms);
		return true;
	}
	return false;
}

/* ---- relayed: the TURN client (RFC 8445 §5.1.1.2, RFC 8656) ---- */

static relay *relay_by_relayed(il_ice_gatherer *g, const il_addr *addr)
{
	for (size_t i = 0; i < g->relay_count; i++)
		if (g->relays[i].allocated && il_addr_equal(&g->relays[i].relayed, addr))
			return &g->relays[i];
	return NULL;
}

bool il_ice_gatherer_is_relayed(const il_ice_gatherer *g, const il_addr *addr)
{
	return relay_by_relayed((il_ice_gatherer *)g, addr) != NULL;
}

static void turn_random(void *user, uint8_t *out, size_t len)
{
	relay *r = user;
	r->g->cb.random(r->g->cb.user, out, len);
}

static void turn_send(void *user, const uint8_t *data, size_t len)
{
	relay *r = user;
	il_ice_gatherer *g = r->g;
	if (r->srv->transport == IL_ICE_SERVER_UDP)
		g->cb.send(g->cb.user, &g->hosts[r->host].addr, &r->srv->addr, data, len);
	else if (g->cb.stream_send)
		g->cb.stream_send(g->cb.user, r->id, data, len);
}

static void permit(relay *r, const il_addr *peer, uint64_t now_ms)
{
	if (!r->allocated || peer->family != r->relayed.family)
		return;
	/* One IP per request: a refused one (a private address the server's
	 * peer policy forbids) must not take the others down with it. */
	il_turn_client_create_permission(r->turn, peer, 1, now_ms);
}

/* RFC 8656 §7.1: the relayed candidate's priority; local preference:
 * UDP before TCP before TLS to the server, then the base's (RFC 8421). */
static uint16_t relay_pref(const relay *r)
{
	unsigned t = (unsigned)(2 - r->srv->transport);
	return (uint16_t)((t << 14) | (r->g->hosts[r->host].pref >> 2));
}

static void relay_allocated(relay *r, const il_turn_client_event *ev, uint64_t now_ms)
{
	il_ice_gatherer *g = r->g;
	const host_base *h = &g->hosts[r->host];
	r->allocated = true;
	r->pending = false;
	r->relayed = ev->relayed[0];
	/* §5.1.1.2: the Allocate response's XOR-MAPPED-ADDRESS is a
	 * server-reflexive candidate too (over UDP: a stream mapping is not). */
	if (r->srv->transport == IL_ICE_SERVER_UDP && ev->mapped.family &&
	    g->cfg.policy != IL_ICE_GATHER_RELAY_ONLY)
		srflx_found(g, h, &ev->mapped, &r->srv->addr, now_ms);
	il_ice_candidate c;
	memset(&c, 0, sizeof c);
	c.component = (uint16_t)h->component;
	c.type = IL_ICE_CAND_RELAY;
	c.addr = r->relayed;
	c.base = r->relayed;
	c.related = ev->mapped;
	c.server = r->srv->addr;
	c.priority = il_ice_candidate_priority(IL_ICE_TYPE_PREF_RELAY, relay_pref(r), h->component);
	offer(g, &c, now_ms);
	for (size_t i = 0; i < g->permit_count; i++)
		permit(r, &g->permits[i], now_ms);
}

static void held_flush(relay *r, const il_addr *peer, bool ok, uint64_t now_ms)
{
	for (int i = 0; i < HELD_MAX; i++) {
		held *h = &r->held[i];
		if (!h->used || !ip_equal(&h->peer, peer))
			continue;
		h->used = false;
		if (!ok) {
			r->g->stats.relay_dropped++;
			continue;
		}
		if (il_turn_client_send(r->turn, &h->peer, h->data, h->len, now_ms) == 0)
			r->g->stats.relay_sends++;
		else
			r->g->stats.relay_dropped++;
	}
}

static void relay_ended(relay *r, bool failed)
{
	if (!r->pending)
		return;
	r->pending = false;
	if (failed)
		r->g->stats.relay_failed++;
	check_done(r->g, r->g->now_ms);
}

static void turn_event(void *user, const il_turn_client_event *ev)
{
	relay *r = user;
	uint64_t now_ms = r->g->now_ms;
	switch (ev->type) {
	case IL_TURN_CLIENT_EV_ALLOCATED:
		relay_allocated(r, ev, now_ms);
		check_done(r->g, now_ms);
		break;
	case IL_TURN_CLIENT_EV_ALLOCATE_FAILED:
		relay_ended(r, true);
		break;
	case IL_TURN_CLIENT_EV_ALLOCATION_LOST:
		r->allocated = false;
		relay_ended(r, true);
		break;
	case IL_TURN_CLIENT_EV_PERMISSION_OK:
		held_flush(r, &ev->peer, true, now_ms);
		break;
	case IL_TURN_CLIENT_EV_PERMISSION_FAILED:
		held_flush(r, &ev->peer, false, now_ms);
		break;
	default:
		break;
	}
}

/* Data relayed from a peer: a datagram on the relayed candidate. */
static void turn_data(void *user, const il_addr *peer, const uint8_t *data, size_t len)
{
	relay *r = user;
	il_ice_agent_handle_datagram(r->g->agent, &r->relayed, peer, data, len, r->g->now_ms);
}

/* The preferred host base of a component and family (highest local
 * preference), or -1. */
static int preferred_host(const il_ice_gatherer *g, unsigned component, uint8_t family)
{
	int best = -1;
	for (size_t i = 0; i < g->host_count; i++) {
		const host_base *h = &g->hosts[i];
		if (h->component == component && h->addr.family == family &&
		    (best < 0 || h->pref > g->hosts[best].pref))
			best = (int)i;
	}
	return best;
}

static void relay_start(il_ice_gatherer *g, const turn_server *srv, unsigned component,
			uint64_t now_ms)
{
	int host = preferred_host(g, component, srv->addr.family);
	if (host < 0 || g->relay_count == MAX_RELAYS)
		return;
	relay *r = &g->relays[g->relay_count];
	memset(r, 0, sizeof *r);
	r->g = g;
	r->id = (unsigned)g->relay_count;
	r->host = (unsigned)host;
	r->srv = srv;
	il_turn_client_config cfg;
	il_turn_client_config_defaults(&cfg);
	cfg.username = srv->has_user ? srv->user : NULL;
	cfg.password = srv->has_user ? srv->pwd : NULL;
	cfg.software = g->cfg.software;
	cfg.stream = srv->transport != IL_ICE_SERVER_UDP;
	il_stun_txn_config_defaults(&cfg.txn, cfg.stream);
	il_turn_client_callbacks cb = {r, turn_random, turn_send, turn_event, turn_data};
	r->turn = il_turn_client_new(&cfg, &cb);
	if (!r->turn) {
		g->stats.relay_failed++;
		return;
	}
	g->relay_count++;
	r->pending = true;
	if (!cfg.stream) {
		if (il_turn_client_allocate(r->turn, now_ms) != IL_TURN_CLIENT_OK)
			relay_ended(r, true);
		return;
	}
	if (!g->cb.stream_open || !g->cb.stream_send ||
	    g->cb.stream_open(g->cb.user, r->id, &g->hosts[host].addr, &srv->addr,
			      srv->transport) < 0)
		relay_ended(r, true);
}

static relay *relay_by_id(il_ice_gatherer *g, unsigned id)
{
	return id < g->relay_count ? &g->relays[id] : NULL;
}

void il_ice_gatherer_stream_connected(il_ice_gatherer *g, unsigned id, uint64_t now_ms)
{
	relay *r = relay_by_id(g, id);
	if (!r)
		return;
	g->now_ms = now_ms;
	if (il_turn_client_allocate(r->turn, now_ms) != IL_TURN_CLIENT_OK)
		relay_ended(r, true);
}

void il_ice_gatherer_stream_data(il_ice_gatherer *g, unsigned id, const uint8_t *data, size_t len,
				 uint64_t now_ms)
{
	relay *r = relay_by_id(g, id);
	if (!r)
		return;
	g->now_ms = now_ms;
	il_turn_client_handle_stream(r->turn, data, len, now_ms);
}

void il_ice_gatherer_stream_closed(il_ice_gatherer *g, unsigned id, uint64_t now_ms)
{
	relay *r = relay_by_id(g, id);
	if (!r)
		return;
	g->now_ms = now_ms;
	il_turn_client_stream_closed(r->turn, now_ms);
	r->allocated = false;
	relay_ended(r, true);
}

/* ---- running ---- */

int il_ice_gatherer_start(il_ice_gatherer *g, uint64_t now_ms)
{
	if (g->started || (!g->host_count && !g->turn_count))
		return -1;
	g->started = true;
	g->now_ms = now_ms;
	assign_local_preferences(g);
	bool relay_only = g->cfg.policy == IL_ICE_GATHER_RELAY_ONLY;
	/* Host candidates first (§5.1.1.1); a relay-only agent keeps its
	 * host bases to itself: the agent never sees them. */
	for (size_t i = 0; i < g->host_count && !relay_only; i++) {
		const host_base *h = &g->hosts[i];
		il_ice_candidate c;
		memset(&c, 0, sizeof c);
		c.component = (uint16_t)h->component;
		c.type = IL_ICE_CAND_HOST;
		c.addr = h->addr;
		c.base = h->addr;
		c.priority = il_ice_candidate_priority(IL_ICE_TYPE_PREF_HOST, h->pref,
						       h->component);
		offer(g, &c, now_ms);
	}
	for (size_t i = 0; i < g->host_count && !relay_only; i++)
		for (size_t s = 0; s < g->stun_count; s++) {
			if (g->hosts[i].addr.family != g->stun[s].family ||
			    g->binding_count == MAX_BINDINGS)
				continue;
			binding *b = &g->bindings[g->binding_count++];
			memset(b, 0, sizeof *b);
			b->g = g;
			b->host = (unsigned)i;
			b->server = g->stun[s];
			binding_start(g, b, now_ms);
		}
	for (size_t t = 0; t < g->turn_count; t++)
		for (unsigned comp = 1; comp <= IL_ICE_MAX_COMPONENTS; comp++)
			relay_start(g, &g->turn[t], comp, now_ms);
	check_done(g, now_ms);
	return 0;
}

int il_ice_gatherer_restart(il_ice_gatherer *g, uint64_t now_ms)
{
	if (!g->started)
		return -1;
	g->now_ms = now_ms;
	g->eoc = false;
	size_t n = il_ice_agent_local_candidate_count(g->agent, g->stream);
	for (size_t i = 0; i < n; i++) {
		const il_ice_candidate *c = il_ice_agent_local_candidate(g->agent, g->stream, i);
		if (c->type == IL_ICE_CAND_PRFLX ||
		    (c->type == IL_ICE_CAND_HOST && g->cfg.policy == IL_ICE_GATHER_NO_HOST))
			continue;
		g->stats.signalled++;
		if (g->cb.candidate)
			g->cb.candidate(g->cb.user, g->stream, c);
	}
	for (size_t i = 0; i < g->binding_count; i++)
		if (!g->bindings[i].active)
			binding_start(g, &g->bindings[i], now_ms);
	check_done(g, now_ms);
	return 0;
}

int il_ice_gatherer_handle_datagram(il_ice_gatherer *g, const il_addr *base, const il_addr *from,
				    const uint8_t *data, size_t len, uint64_t now_ms)
{
	g->now_ms = now_ms;
	if (binding_input(g, base, from, data, len, now_ms))
		return IL_ICE_DGRAM_STUN;
	for (size_t i = 0; i < g->relay_count; i++) {
		relay *r = &g->relays[i];
		if (r->srv->transport == IL_ICE_SERVER_UDP && il_addr_equal(&r->srv->addr, from) &&
		    il_addr_equal(&g->hosts[r->host].addr, base) &&
		    il_turn_client_handle_datagram(r->turn, data, len, now_ms) == 1)
			return IL_ICE_DGRAM_STUN;
	}
	if (g->cfg.policy == IL_ICE_GATHER_RELAY_ONLY)
		return IL_ICE_DGRAM_DROPPED; /* nothing of the agent lives on a host base */
	return il_ice_agent_handle_datagram(g->agent, base, from, data, len, now_ms);
}

static int relay_send(relay *r, const il_addr *remote, const uint8_t *data, size_t len,
		      uint64_t now_ms)
{
	il_ice_gatherer *g = r->g;
	if (il_turn_client_has_permission(r->turn, remote)) {
		if (il_turn_client_send(r->turn, remote, data, len, now_ms) != 0)
			return IL_ICE_ERR_STATE;
		g->stats.relay_sends++;
		return IL_ICE_OK;
	}
	/* RFC 8656 §11.1: no Send indication without a permission: ask for
	 * one and hold the datagram until it is installed. */
	permit(r, remote, now_ms);
	for (int i = 0; i < HELD_MAX && len <= HELD_LEN; i++) {
		held *h = &r->held[i];
		if (h->used)
			continue;
		h->used = true;
		h->peer = *remote;
		h->len = (uint16_t)len;
		memcpy(h->data, data, len);
		g->stats.relay_queued++;
		return IL_ICE_OK;
	}
	g->stats.relay_dropped++;
	return IL_ICE_ERR_FULL;
}

int il_ice_gatherer_send(il_ice_gatherer *g, const il_ice_candidate *local, const il_addr *remote,
			 const uint8_t *data, size_t len, uint64_t now_ms)
{
	g->now_ms = now_ms;
	/* Relayed locals, and peer-reflexive ones learnt through a relay,
	 * have a relayed address as their base. */
	relay *r = relay_by_relayed(g, &local->base);
	if (r)
		return relay_send(r, remote, data, len, now_ms);
	if (g->cfg.policy == IL_ICE_GATHER_RELAY_ONLY) {
		g->stats.refused_sends++;
		return IL_ICE_ERR_STATE;
	}
	g->stats.host_sends++;
	g->cb.send(g->cb.user, &local->base, remote, data, len);
	return IL_ICE_OK;
}

int il_ice_gatherer_add_remote_candidate(il_ice_gatherer *g, const il_ice_candidate *c,
					 uint64_t now_ms)
{
	g->now_ms = now_ms;
	int rc = il_ice_agent_add_remote_candidate(g->agent, g->stream, c, now_ms);
	if (rc < 0 || c->transport != IL_ICE_TRANSPORT_UDP)
		return rc;
	il_addr ip = c->addr;
	ip.port = 0;
	bool known = false;
	for (size_t i = 0; i < g->permit_count && !known; i++)
		known = ip_equal(&g->permits[i], &ip);
	if (known)
		return rc;
	if (g->permit_count < IL_ICE_GATHER_MAX_PERMITS)
		g->permits[g->permit_count++] = ip;
	for (size_t i = 0; i < g->relay_count; i++)
		permit(&g->relays[i], &c->addr, now_ms);
	return rc;
}

void il_ice_gatherer_release(il_ice_gatherer *g, uint64_t now_ms)
{
	g->now_ms = now_ms;
	for (size_t i = 0; i < g->relay_count; i++)
		if (g->relays[i].allocated) {
			g->relays[i].allocated = false;
			il_turn_client_release(g->relays[i].turn, now_ms);
		}
}

void il_ice_gatherer_timer(il_ice_gatherer *g, uint64_t now_ms)
{
	g->now_ms = now_ms;
	for (size_t i = 0; i < g->binding_count; i++)
		if (g->bindings[i].active)
			il_stun_txn_timer(&g->bindings[i].table, now_ms);
	for (size_t i = 0; i < g->relay_count; i++)
		il_turn_client_timer(g->relays[i].turn, now_ms);
}

uint64_t il_ice_gatherer_next_deadline(const il_ice_gatherer *g)
{
	uint64_t d = UINT64_MAX;
	for (size_t i = 0; i < g->binding_count; i++)
		if (g->bindings[i].active) {
			uint64_t t = il_stun_txn_next_deadline(&g->bindings[i].table);
			d = t < d ? t : d;
		}
	for (size_t i = 0; i < g->relay_count; i++) {
		uint64_t t = il_turn_client_next_deadline(g->relays[i].turn);
		d = t < d ? t : d;
	}
	return d;
}

bool il_ice_gatherer_done(const il_ice_gatherer *g)
{
	return g->eoc;
}

void il_ice_gatherer_get_stats(const il_ice_gatherer *g, il_ice_gather_stats *out)
{
	*out = g->stats;
}
