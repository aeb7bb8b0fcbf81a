/* Scenario files (sim/README.md): a JSON document with the topology
 * (nodes, links, routes, NATs), actors (TURN/STUN servers and peers),
 * timed events (mapping flush, link down/up, address change, table dump)
 * and expectations. A bad file gets one line naming the place: the
 * FILE:LINE:COL of a JSON syntax error, or the JSON path of a bad value. */
#include "actors.h"
#include "sim_internal.h"

#include "icelab/sim_run.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ACTORS 32

typedef struct scen_peer {
	char name[SIM_NAME_MAX];
	sim_peer *peer;
	int host;
	int mode;               /* enum il_sim_matrix_mode */
	int server;             /* index in servers, -1: none */
	int remote;             /* index in peers of whom to probe, -1: none */
	uint64_t start_us;
	uint32_t probe_count, probe_interval_ms;
	bool started, permitting, probing;
} scen_peer;

typedef struct scen {
	const char *file;
	char *err;
	size_t err_len;
	il_sim *sim;
	sim_server *servers[MAX_ACTORS];
	char server_host[MAX_ACTORS][SIM_NAME_MAX];
	size_t server_count;
	scen_peer peers[MAX_ACTORS];
	size_t peer_count;
	FILE *log;
} scen;

static int fail(scen *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(scen *s, const char *fmt, ...)
{
	int n = snprintf(s->err, s->err_len, "%s: ", s->file);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < s->err_len)
		vsnprintf(s->err + n, s->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* "5s", "250ms", "2m", or a number of milliseconds. */
static int get_duration(scen *s, json_t *v, const char *path, uint64_t *us)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*us = (uint64_t)json_integer_value(v) * 1000;
		return 0;
	}
	if (json_is_string(v)) {
		const char *t = json_string_value(v);
		char *end;
		double n = strtod(t, &end);
		double mult = !strcmp(end, "ms") ? 1e3 : !strcmp(end, "s") ? 1e6
			    : !strcmp(end, "us") ? 1 : !strcmp(end, "m") ? 6e7 : -1;
		if (end != t && n >= 0 && mult > 0 && n * mult < 1e15) {
			*us = (uint64_t)(n * mult);
			return 0;
		}
	}
	return fail(s, "%s: want a duration like \"250ms\", \"5s\" or milliseconds", path);
}

static const char *get_str(scen *s, json_t *obj, const char *key, const char *path,
			   bool required)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			fail(s, "%s.%s: missing", path, key);
		return NULL;
	}
	if (!json_is_string(v)) {
		fail(s, "%s.%s: want a string", path, key);
		return NULL;
	}
	return json_string_value(v);
}

static int node_ref(scen *s, json_t *obj, const char *key, const char *path)
{
	const char *name = get_str(s, obj, key, path, true);
	if (!name)
		return -1;
	int n = il_sim_find_node(s->sim, name);
	if (n < 0)
		fail(s, "%s.%s: no node named '%s'", path, key, name);
	return n;
}

static int link_ref(scen *s, json_t *obj, const char *key, const char *path)
{
	const char *name = get_str(s, obj, key, path, true);
	if (!name)
		return -1;
	int l = il_sim_find_link(s->sim, name);
	if (l < 0)
		fail(s, "%s.%s: no link named '%s'", path, key, name);
	return l;
}

static int get_prob(scen *s, json_t *obj, const char *key, const char *path, double *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
		return fail(s, "%s.%s: want a probability between 0 and 1", path, key);
	*out = json_number_value(v);
	return 0;
}

static int check_keys(scen *s, json_t *obj, const char *path, const char *const *keys)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		bool known = false;
		for (const char *const *p = keys; *p && !known; p++)
			known = !strcmp(*p, k);
		if (!known)
			return fail(s, "%s: unknown key '%s'", path, k);
	}
	return 0;
}

static int parse_link(scen *s, json_t *l, const char *path)
{
	static const char *const keys[] = {"name", "a", "a_addr", "b", "b_addr", "latency",
		"jitter", "loss", "burst", "duplicate", "reorder", "reorder_delay", "mtu",
		"bandwidth_kbps", "queue", NULL};
	if (!json_is_object(l))
		return fail(s, "%s: want an object", path);
	if (check_keys(s, l, path, keys) < 0)
		return -1;
	il_sim_link_config c;
	il_sim_link_config_defaults(&c);
	uint64_t us;
	json_t *v;
	if ((v = json_object_get(l, "latency"))) {
		if (get_duration(s, v, "latency", &us) < 0)
			return fail(s, "%s.latency: want a duration like \"10ms\"", path);
		c.latency_us = (uint32_t)us;
	}
	if ((v = json_object_get(l, "jitter"))) {
		if (get_duration(s, v, "jitter", &us) < 0)
			return fail(s, "%s.jitter: want a duration like \"2ms\"", path);
		c.jitter_us = (uint32_t)us;
	}
	if ((v = json_object_get(l, "reorder_delay"))) {
		if (get_duration(s, v, "reorder_delay", &us) < 0)
			return fail(s, "%s.reorder_delay: want a duration", path);
		c.reorder_delay_us = (uint32_t)us;
	}
	if ((v = json_object_get(l, "queue"))) {
		if (get_duration(s, v, "queue", &us) < 0)
			return fail(s, "%s.queue: want a duration", path);
		c.queue_us = (uint32_t)us;
	}
	if (get_prob(s, l, "loss", path, &c.loss) < 0 ||
	    get_prob(s, l, "duplicate", path, &c.duplicate) < 0 ||
	    get_prob(s, l, "reorder", path, &c.reorder) < 0)
		return -1;
	if ((v = json_object_get(l, "burst"))) {
		char p2[128];
		snprintf(p2, sizeof p2, "%s.burst", path);
		c.ge_loss_bad = 1;
		if (!json_is_object(v) || get_prob(s, v, "p", p2, &c.ge_p) < 0 ||
		    get_prob(s, v, "r", p2, &c.ge_r) < 0 ||
		    get_prob(s, v, "loss_good", p2, &c.ge_loss_good) < 0 ||
		    get_prob(s, v, "loss_bad", p2, &c.ge_loss_bad) < 0)
			return s->err[0] ? -1 : fail(s, "%s: want {\"p\":..,\"r\":..}", p2);
	}
	if ((v = json_object_get(l, "mtu"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 68 || json_integer_value(v) > 65535)
			return fail(s, "%s.mtu: want an integer from 68 to 65535", path);
		c.mtu = (uint16_t)json_integer_value(v);
	}
	if ((v = json_object_get(l, "bandwidth_kbps"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return fail(s, "%s.bandwidth_kbps: want a positive integer", path);
		c.bandwidth_bps = (uint64_t)json_integer_value(v) * 1000;
	}
	int a = node_ref(s, l, "a", path), b = a < 0 ? -1 : node_ref(s, l, "b", path);
	if (a < 0 || b < 0)
		return -1;
	const char *aa = get_str(s, l, "a_addr", path, true);
	const char *ba = aa ? get_str(s, l, "b_addr", path, true) : NULL;
	if (!aa || !ba)
		return -1;
	const char *name = get_str(s, l, "name", path, false);
	if (il_sim_connect(s->sim, a, aa, b, ba, &c, name) < 0)
		return fail(s, "%s: %s", path, il_sim_error(s->sim));
	return 0;
}

static int parse_nodes(scen *s, json_t *root)
{
	json_t *nodes = json_object_get(root, "nodes");
	if (!json_is_array(nodes))
		return fail(s, "$.nodes: missing or not an array");
	size_t i;
	json_t *n;
	json_array_foreach(nodes, i, n) {
		static const char *const keys[] = {"name", "type", "nat", "outside", NULL};
		char path[64];
		snprintf(path, sizeof path, "$.nodes[%zu]", i);
		if (!json_is_object(n))
			return fail(s, "%s: want an object", path);
		if (check_keys(s, n, path, keys) < 0)
			return -1;
		const char *name = get_str(s, n, "name", path, true);
		const char *type = name ? get_str(s, n, "type", path, true) : NULL;
		if (!type)
			return -1;
		int id;
		if (!strcmp(type, "host"))
			id = il_sim_add_host(s->sim, name);
		else if (!strcmp(type, "router"))
			id = il_sim_add_router(s->sim, name);
		else
			return fail(s, "%s.type: want \"host\" or \"router\", not '%s'", path, type);
		if (id < 0)
			return fail(s, "%s: %s", path, il_sim_error(s->sim));
	}
	return 0;
}

static int parse_nats(scen *s, json_t *root)
{
	json_t *nodes = json_object_get(root, "nodes");
	size_t i;
	json_t *n;
	json_array_foreach(nodes, i, n) {
		char path[64];
		snprintf(path, sizeof path, "$.nodes[%zu]", i);
		const char *desc = get_str(s, n, "nat", path, false);
		if (!desc)
			continue;
		int node = il_sim_find_node(s->sim, json_string_value(json_object_get(n, "name")));
		int out = link_ref(s, n, "outside", path);
		if (out < 0)
			return -1;
		il_sim_nat_config cfg, outer;
		int layers;
		char err[160];
		if (il_sim_preset_parse(desc, &cfg, &outer, &layers, err, sizeof err) < 0)
			return fail(s, "%s.nat: %s", path, err);
		if (layers == 2)
			return fail(s, "%s.nat: 'cgn' is two NATs: give each router its own", path);
		const char *prefix = il_sim_iface_addr(s->sim, node, out)->family == IL_AF_INET6
					     ? "::/0"
					     : "0.0.0.0/0";
		if (layers == 1 && (il_sim_add_route(s->sim, node, prefix, out) < 0 ||
				    il_sim_set_nat(s->sim, node, out, &cfg) < 0))
			return fail(s, "%s: %s", path, il_sim_error(s->sim));
		if (layers == 0 && il_sim_add_route(s->sim, node, prefix, out) < 0)
			return fail(s, "%s: %s", path, il_sim_error(s->sim));
	}
	return 0;
}

static int parse_routes(scen *s, json_t *root)
{
	json_t *routes = json_object_get(root, "routes");
	if (!routes)
		return 0;
	if (!json_is_array(routes))
		return fail(s, "$.routes: want an array");
	size_t i;
	json_t *r;
	json_array_foreach(routes, i, r) {
		char path[64];
		snprintf(path, sizeof path, "$.routes[%zu]", i);
		int node = node_ref(s, r, "node", path);
		int link = node < 0 ? -1 : link_ref(s, r, "link", path);
		const char *prefix = link < 0 ? NULL : get_str(s, r, "prefix", path, true);
		if (!prefix)
			return -1;
		if (il_sim_add_route(s->sim, node, prefix, link) < 0)
			return fail(s, "%s: %s", path, il_sim_error(s->sim));
	}
	return 0;
}

static int find_peer(scen *s, const char *name)
{
	for (size_t i = 0; i < s->peer_count; i++)
		if (!strcmp(s->peers[i].name, name))
			return (int)i;
	return -1;
}

static int parse_actors(scen *s, json_t *root)
{
	json_t *actors = json_object_get(root, "actors");
	if (!json_is_array(actors))
		return fail(s, "$.actors: missing or not an array");
	size_t i;
	json_t *a;
	json_array_foreach(actors, i, a) {
		char path[64];
		snprintf(path, sizeof path, "$.actors[%zu]", i);
		const char *type = get_str(s, a, "type", path, true);
		if (!type)
			return -1;
		int host = node_ref(s, a, "host", path);
		if (host < 0)
			return -1;
		if (!strcmp(type, "server")) {
			if (s->server_count == MAX_ACTORS)
				return fail(s, "%s: too many servers", path);
			sim_server *srv = sim_server_new(s->sim, host);
			if (!srv)
				return fail(s, "%s: cannot start a server on '%s'", path,
					    il_sim_node_name(s->sim, host));
			snprintf(s->server_host[s->server_count], SIM_NAME_MAX, "%s",
				 il_sim_node_name(s->sim, host));
			s->servers[s->server_count++] = srv;
			continue;
		}
		if (strcmp(type, "peer"))
			return fail(s, "%s.type: want \"server\" or \"peer\", not '%s'", path, type);
		static const char *const keys[] = {"type", "name", "host", "server", "mode",
			"probe", "start", "probes", "interval", NULL};
		if (check_keys(s, a, path, keys) < 0)
			return -1;
		if (s->peer_count == MAX_ACTORS)
			return fail(s, "%s: too many peers", path);
		scen_peer *p = &s->peers[s->peer_count];
		memset(p, 0, sizeof *p);
		const char *name = get_str(s, a, "name", path, true);
		if (!name)
			return -1;
		if (strlen(name) >= SIM_NAME_MAX || find_peer(s, name) >= 0)
			return fail(s, "%s.name: '%s' is too long or used twice", path, name);
		strcpy(p->name, name);
		p->host = host;
		p->server = p->remote = -1;
		const char *mode = get_str(s, a, "mode", path, false);
		p->mode = IL_SIM_MODE_DIRECT;
		if (mode) {
			int m;
			for (m = 0; m < IL_SIM_MODE_COUNT && strcmp(il_sim_mode_name(m), mode); m++)
				;
			if (m == IL_SIM_MODE_COUNT)
				return fail(s, "%s.mode: want direct, turn-udp or turn-tcp, not '%s'",
					    path, mode);
			p->mode = m;
		}
		json_t *v;
		if ((v = json_object_get(a, "start")) && get_duration(s, v, "start", &p->start_us) < 0)
			return fail(s, "%s.start: want a duration", path);
		uint64_t iv = 20000;
		if ((v = json_object_get(a, "interval")) && get_duration(s, v, "interval", &iv) < 0)
			return fail(s, "%s.interval: want a duration", path);
		p->probe_interval_ms = (uint32_t)(iv / 1000);
		p->probe_count = 100;
		if ((v = json_object_get(a, "probes"))) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return fail(s, "%s.probes: want a count", path);
			p->probe_count = (uint32_t)json_integer_value(v);
		}
		p->peer = sim_peer_new(s->sim, host, name);
		if (!p->peer)
			return fail(s, "%s: cannot start a peer on '%s'", path,
				    il_sim_node_name(s->sim, host));
		s->peer_count++;
	}
	/* Second pass: references to servers and peers. */
	json_array_foreach(actors, i, a) {
		char path[64];
		snprintf(path, sizeof path, "$.actors[%zu]", i);
		if (strcmp(json_string_value(json_object_get(a, "type")), "peer"))
			continue;
		scen_peer *p = &s->peers[find_peer(s, json_string_value(json_object_get(a, "name")))];
		const char *srv = get_str(s, a, "server", path, false);
		if (srv) {
			for (size_t k = 0; k < s->server_count; k++)
				if (!strcmp(s->server_host[k], srv))
					p->server = (int)k;
			if (p->server < 0)
				return fail(s, "%s.server: no server actor on host '%s'", path, srv);
		} else if (s->err[0]) {
			return -1;
		}
		const char *probe = get_str(s, a, "probe", path, false);
		if (probe && (p->remote = find_peer(s, probe)) < 0)
			return fail(s, "%s.probe: no peer named '%s'", path, probe);
		if (!probe && s->err[0])
			return -1;
		if (p->server < 0 && (p->mode != IL_SIM_MODE_DIRECT || probe))
			return fail(s, "%s: a peer that probes or relays needs a \"server\"", path);
	}
	return 0;
}

/* ---- running ---- */

static void peer_tick(il_sim *sim, void *arg, uint64_t u);

static void start_peer(scen *s, scen_peer *p)
{
	p->started = true;
	if (p->server < 0)
		return;
	il_addr sa = *sim_server_addr(s->servers[p->server]);
	sa.port = 3478;
	if (p->mode == IL_SIM_MODE_DIRECT)
		sim_peer_start_binding(p->peer, &sa);
	else
		sim_peer_start_turn(p->peer, &sa, p->mode == IL_SIM_MODE_TURN_TCP);
}

/* The coordinator: starts peers, exchanges addresses once known (the
 * signalling channel of a real call), starts probing. */
static void peer_tick(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	scen *s = arg;
	uint64_t now = il_sim_now(sim);
	for (size_t i = 0; i < s->peer_count; i++) {
		scen_peer *p = &s->peers[i];
		if (!p->started && now >= p->start_us)
			start_peer(s, p);
		if (!p->started || p->remote < 0 || p->probing)
			continue;
		scen_peer *r = &s->peers[p->remote];
		const sim_peer_state *ps = sim_peer_get_state(p->peer);
		const sim_peer_state *rs = sim_peer_get_state(r->peer);
		const il_addr *target = NULL;
		if (r->mode == IL_SIM_MODE_DIRECT)
			target = rs->have_srflx ? &rs->srflx : NULL;
		else
			target = rs->allocated ? &rs->relayed : NULL;
		if (!target)
			continue;
		if (p->mode != IL_SIM_MODE_DIRECT) {
			if (!ps->allocated)
				continue;
			if (!p->permitting) {
				p->permitting = true;
				sim_peer_permit(p->peer, target);
			}
			if (!ps->permitted)
				continue;
		} else if (!ps->binding_done) {
			continue;
		}
		p->probing = true;
		if (s->log)
			fprintf(s->log, "%8.3f s  %s probes %s\n", (double)now / 1e6, p->name, r->name);
		sim_peer_probe(p->peer, target, p->probe_interval_ms, p->probe_count);
	}
	il_sim_schedule(sim, now + 10000, peer_tick, s, 0);
}

typedef struct scen_event {
	scen *s;
	char what[16];
	int node, link, peer;
	char addr[64];
} scen_event;

static void run_event(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	scen_event *e = arg;
	FILE *log = e->s->log;
	if (log)
		fprintf(log, "%8.3f s  event %s\n", (double)il_sim_now(sim) / 1e6, e->what);
	if (!strcmp(e->what, "flush"))
		il_sim_nat_flush(sim, e->node);
	else if (!strcmp(e->what, "link-down"))
		il_sim_link_set_up(sim, e->link, false);
	else if (!strcmp(e->what, "link-up"))
		il_sim_link_set_up(sim, e->link, true);
	else if (!strcmp(e->what, "address"))
		il_sim_set_iface_addr(sim, e->node, e->link, e->addr);
	else if (!strcmp(e->what, "bind"))
		start_peer(e->s, &e->s->peers[e->peer]);
	else if (!strcmp(e->what, "dump") && log)
		il_sim_nat_dump(sim, e->node, log);
}

static int parse_events(scen *s, json_t *root, scen_event **out, size_t *count)
{
	json_t *events = json_object_get(root, "events");
	*out = NULL;
	*count = 0;
	if (!events)
		return 0;
	if (!json_is_array(events))
		return fail(s, "$.events: want an array");
	*out = calloc(json_array_size(events) + 1, sizeof **out);
	if (!*out)
		return fail(s, "out of memory");
	size_t i;
	json_t *ev;
	json_array_foreach(events, i, ev) {
		char path[64];
		snprintf(path, sizeof path, "$.events[%zu]", i);
		scen_event *e = &(*out)[i];
		e->s = s;
		e->node = e->link = e->peer = -1;
		uint64_t at;
		if (get_duration(s, json_object_get(ev, "at"), "at", &at) < 0)
			return fail(s, "%s.at: want a duration like \"5s\"", path);
		const char *what = get_str(s, ev, "do", path, true);
		if (!what)
			return -1;
		snprintf(e->what, sizeof e->what, "%s", what);
		if (!strcmp(what, "flush") || !strcmp(what, "dump")) {
			if ((e->node = node_ref(s, ev, "node", path)) < 0)
				return -1;
		} else if (!strcmp(what, "link-down") || !strcmp(what, "link-up")) {
			if ((e->link = link_ref(s, ev, "link", path)) < 0)
				return -1;
		} else if (!strcmp(what, "address")) {
			const char *a;
			if ((e->node = node_ref(s, ev, "node", path)) < 0 ||
			    (e->link = link_ref(s, ev, "link", path)) < 0 ||
			    !(a = get_str(s, ev, "addr", path, true)))
				return -1;
			snprintf(e->addr, sizeof e->addr, "%s", a);
		} else if (!strcmp(what, "bind")) {
			/* A new Binding request from a direct peer (a refresh after
			 * a move): its srflx becomes that request's outcome. */
			const char *name = get_str(s, ev, "peer", path, true);
			if (!name)
				return -1;
			if ((e->peer = find_peer(s, name)) < 0)
				return fail(s, "%s.peer: no peer named '%s'", path, name);
			const scen_peer *p = &s->peers[e->peer];
			if (p->mode != IL_SIM_MODE_DIRECT || p->server < 0)
				return fail(s, "%s.peer: '%s' is not a direct peer with a server", path,
					    name);
		} else {
			return fail(s, "%s.do: want flush, link-down, link-up, address, bind or dump, "
				       "not '%s'", path, what);
		}
		il_sim_schedule(s->sim, at, run_event, e, 0);
		(*count)++;
	}
	return 0;
}

static int check_expectations(scen *s, json_t *root, il_sim_scenario_result *res)
{
	json_t *exp = json_object_get(root, "expect");
	if (!exp)
		return 0;
	if (!json_is_array(exp))
		return fail(s, "$.expect: want an array");
	size_t i;
	json_t *x;
	json_array_foreach(exp, i, x) {
		char path[64];
		snprintf(path, sizeof path, "$.expect[%zu]", i);
		const char *name = get_str(s, x, "peer", path, true);
		if (!name)
			return -1;
		int pi = find_peer(s, name);
		if (pi < 0)
			return fail(s, "%s.peer: no peer named '%s'", path, name);
		const sim_peer_state *st = sim_peer_get_state(s->peers[pi].peer);
		static const char *const keys[] = {"connected", "srflx", "allocated"};
		const bool have[] = {st->connected, st->have_srflx, st->allocated};
		for (size_t k = 0; k < 3; k++) {
			json_t *v = json_object_get(x, keys[k]);
			if (!v)
				continue;
			if (!json_is_boolean(v))
				return fail(s, "%s.%s: want true or false", path, keys[k]);
			res->expectations++;
			bool ok = have[k] == json_boolean_value(v);
			if (!ok)
				res->failed++;
			if (s->log)
				fprintf(s->log, "expect %s %s=%s: %s\n", name, keys[k],
					json_boolean_value(v) ? "true" : "false", ok ? "ok" : "FAILED");
		}
		json_t *sa = json_object_get(x, "srflx_addr");
		if (sa) {
			if (!json_is_string(sa))
				return fail(s, "%s.srflx_addr: want \"IP\" or \"IP:port\"", path);
			/* "IP" checks the address, "IP:port" the port too. */
			char ip[IL_ADDR_STRLEN] = "-", full[IL_ADDR_STRLEN] = "-";
			if (st->have_srflx) {
				il_addr_format_ip(&st->srflx, ip, sizeof ip);
				il_addr_format(&st->srflx, full, sizeof full);
			}
			const char *want = json_string_value(sa);
			res->expectations++;
			bool ok = st->have_srflx && (!strcmp(ip, want) || !strcmp(full, want));
			res->failed += !ok;
			if (s->log)
				fprintf(s->log, "expect %s srflx_addr=%s: %s (%s)\n", name, want,
					ok ? "ok" : "FAILED", full);
		}
		json_t *w = json_object_get(x, "within");
		if (w) {
			uint64_t us;
			if (get_duration(s, w, "within", &us) < 0)
				return fail(s, "%s.within: want a duration", path);
			res->expectations++;
			bool ok = st->connected && st->connected_us <= us;
			res->failed += !ok;
			if (s->log)
				fprintf(s->log, "expect %s connected within %.3f s: %s\n", name,
					(double)us / 1e6, ok ? "ok" : "FAILED");
		}
	}
	return 0;
}

int il_sim_scenario_run(const char *path, const il_sim_scenario_opts *opts,
			il_sim_scenario_result *res, char *err, size_t err_len)
{
	memset(res, 0, sizeof *res);
	err[0] = '\0';
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (je.line > 0)
			snprintf(err, err_len, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		else
			snprintf(err, err_len, "%s: %s", path, je.text);
		return -1;
	}
	scen s;
	memset(&s, 0, sizeof s);
	s.file = path;
	s.err = err;
	s.err_len = err_len;
	s.log = opts->log;
	scen_event *events = NULL;
	size_t event_count = 0;
	int rc = -1;
	static const char *const keys[] = {"name", "seed", "duration", "nodes", "links", "routes",
		"actors", "events", "expect", "pcap", "description", NULL};
	if (!json_is_object(root)) {
		fail(&s, "$: want an object");
		goto done;
	}
	if (check_keys(&s, root, "$", keys) < 0)
		goto done;
	uint64_t seed = 1;
	json_t *v = json_object_get(root, "seed");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0)) {
		fail(&s, "$.seed: want a non-negative integer");
		goto done;
	}
	if (v)
		seed = (uint64_t)json_integer_value(v);
	if (opts->has_seed)
		seed = opts->seed;
	uint64_t duration = 30000000;
	if ((v = json_object_get(root, "duration")) && get_duration(&s, v, "$.duration", &duration) < 0)
		goto done;
	s.sim = il_sim_new(seed);
	if (!s.sim) {
		fail(&s, "out of memory");
		goto done;
	}
	json_t *links = json_object_get(root, "links");
	if (parse_nodes(&s, root) < 0)
		goto done;
	if (!json_is_array(links)) {
		fail(&s, "$.links: missing or not an array");
		goto done;
	}
	size_t i;
	json_t *l;
	json_array_foreach(links, i, l) {
		char lp[64];
		snprintf(lp, sizeof lp, "$.links[%zu]", i);
		if (parse_link(&s, l, lp) < 0)
			goto done;
	}
	if (parse_nats(&s, root) < 0 || parse_routes(&s, root) < 0)
		goto done;
	const char *pcap = opts->pcap_path;
	if (!pcap && json_is_string(json_object_get(root, "pcap")))
		pcap = json_string_value(json_object_get(root, "pcap"));
	if (pcap && il_sim_pcap_open(s.sim, pcap, opts->pcap_per_link) < 0) {
		fail(&s, "%s", il_sim_error(s.sim));
		goto done;
	}
	if (parse_actors(&s, root) < 0 || parse_events(&s, root, &events, &event_count) < 0)
		goto done;
	il_sim_schedule(s.sim, 0, peer_tick, &s, 0);
	il_sim_run_until(s.sim, duration);
	il_sim_stats st;
	il_sim_get_stats(s.sim, &st);
	res->packets = st.packets_sent;
	res->virtual_ms = il_sim_now(s.sim) / 1000;
	if (s.log)
		for (size_t k = 0; k < s.peer_count; k++) {
			const sim_peer_state *ps = sim_peer_get_state(s.peers[k].peer);
			char a[IL_ADDR_STRLEN] = "-", b[IL_ADDR_STRLEN] = "-";
			if (ps->have_srflx)
				il_addr_format(&ps->srflx, a, sizeof a);
			if (ps->allocated)
				il_addr_format(&ps->relayed, b, sizeof b);
			fprintf(s.log, "peer %s: srflx %s relayed %s connected %s", s.peers[k].name, a,
				b, ps->connected ? "yes" : "no");
			if (ps->connected)
				fprintf(s.log, " at %.3f s", (double)ps->connected_us / 1e6);
			fprintf(s.log, ", sent %u, probes received %u\n", ps->sent, ps->received);
		}
	if (check_expectations(&s, root, res) < 0)
		goto done;
	rc = 0;
done:
	if (s.sim)
		il_sim_pcap_close(s.sim);
	for (size_t k = 0; k < s.peer_count; k++)
		sim_peer_free(s.peers[k].peer);
	for (size_t k = 0; k < s.server_count; k++)
		sim_server_free(s.servers[k]);
	il_sim_free(s.sim);
	free(events);
	json_decref(root);
	return rc;
}
