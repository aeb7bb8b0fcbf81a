/* The server: N workers, each a thread with its own event_base, its own
 * sockets (SO_REUSEPORT spreads clients over them by 5-tuple hash) and
 * its own TURN core per tenant, so no lock is taken on the packet path.
 * The main thread owns signals (SIGHUP reloads, SIGTERM/SIGINT stop) and
 * the metrics listener. This file is the glue from the core's callbacks
 * (turn_server.h) to sockets, and from next_deadline to timers. */
#include "io_internal.h"

#include <errno.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/thread.h>

/* ---- the core's callbacks ---- */

static void cb_random(void *user, uint8_t *out, size_t len)
{
	(void)user;
	if (RAND_bytes(out, (int)len) != 1) {
		il_log(IL_LOG_ERROR, "RAND_bytes failed; stopping");
		abort(); /* never run with predictable nonces or tokens */
	}
}

static const io_udp_listener *udp_listener_for(io_worker *w, const il_addr *local)
{
	for (size_t i = 0; i < w->udp_count; i++) {
		const io_udp_listener *l = &w->udp[i];
		if (l->local.family != local->family || l->local.port != local->port)
			continue;
		if (l->wildcard || il_addr_equal(&l->local, local))
			return l;
	}
	return NULL;
}

static void cb_send_to_client(void *user, const il_five_tuple *ft, const uint8_t *data,
			      size_t len)
{
	io_core *c = user;
	io_worker *w = c->w;
	if (ft->transport != IL_TRANSPORT_UDP) {
		io_stream_send(w, ft, data, len);
		return;
	}
	const io_udp_listener *l = udp_listener_for(w, &ft->local);
	if (!l) {
		w->counters.udp_tx_dropped++;
		return;
	}
	io_tx_push(w, l->fd, &ft->remote, l->wildcard ? &ft->local : NULL, data, len);
}

static void cb_send_to_peer(void *user, const il_addr *relayed, const il_addr *peer,
			    const uint8_t *data, size_t len, bool dont_fragment)
{
	io_core *c = user;
	io_worker *w = c->w;
	io_relay *r = io_relay_find(w, relayed);
	if (!r) {
		w->counters.udp_tx_dropped++;
		return;
	}
	if (dont_fragment && !r->df) {
		/* RFC 8656 §14.1: set DF; once set on the socket it stays. */
		int v = IP_PMTUDISC_DO;
		if (r->addr.family == IL_AF_INET)
			setsockopt(r->fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v);
		else
			setsockopt(r->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v);
		r->df = true;
	}
	w->counters.relay_tx++;
	io_tx_push(w, r->fd, peer, NULL, data, len);
}

static int cb_relay_open(void *user, uint8_t family, uint8_t transport, bool even_port,
			 bool reserve_next, const uint8_t *token, il_addr *relayed,
			 uint8_t token_out[8])
{
	if (transport == IL_TRANSPORT_TCP) /* RFC 6062 §5.1 */
		return io_relay_open_tcp(user, family, relayed);
	return io_relay_open(user, family, even_port, reserve_next, token, relayed, token_out);
}

static void cb_relay_close(void *user, const il_addr *relayed)
{
	io_relay_close(user, relayed);
}

static int cb_tcp_connect(void *user, const il_addr *relayed, const il_addr *peer,
			  uint32_t connection_id)
{
	return io_tcp_peer_connect(user, relayed, peer, connection_id);
}

static void cb_tcp_bind(void *user, const il_five_tuple *ft, uint32_t connection_id)
{
	io_tcp_peer_bind(user, ft, connection_id);
}

static void cb_tcp_close(void *user, uint32_t connection_id)
{
	io_tcp_peer_close(user, connection_id);
}

static void cb_event(void *user, int event, const il_five_tuple *ft, const char *detail)
{
	io_core *c = user;
	io_counters *k = &c->w->counters;
	switch (event) {
	case IL_TURN_EV_ALLOCATION_CREATED: k->allocations_created++; break;
	case IL_TURN_EV_ALLOCATION_DELETED: k->allocations_deleted++; break;
	case IL_TURN_EV_ALLOCATION_EXPIRED: k->allocations_expired++; break;
	case IL_TURN_EV_PERMISSION_CREATED: k->permissions_created++; break;
	case IL_TURN_EV_CHANNEL_BOUND: k->channels_bound++; break;
	case IL_TURN_EV_AUTH_FAILED: k->auth_failures++; break;
	case IL_TURN_EV_PEER_DENIED: k->peers_denied++; break;
	case IL_TURN_EV_DROPPED_MALFORMED: k->dropped_malformed++; break;
	case IL_TURN_EV_DROPPED_NO_PERMISSION: k->dropped_no_permission++; break;
	case IL_TURN_EV_DROPPED_NO_ALLOCATION: k->dropped_no_allocation++; break;
	case IL_TURN_EV_ALLOCATION_REFUSED: k->allocations_refused++; break;
	default: break;
	}
	int level = IL_LOG_DEBUG;
	if (event == IL_TURN_EV_ALLOCATION_REFUSED) {
		/* One line a second at most: exhaustion must not flood the log. */
		uint64_t now_s = c->w->now_ms / 1000;
		level = now_s != c->w->last_refusal_log_s ? IL_LOG_WARN : IL_LOG_DEBUG;
		c->w->last_refusal_log_s = now_s;
	} else if (event == IL_TURN_EV_401_LIMITED || event == IL_TURN_EV_DROPPED_BANDWIDTH) {
		level = IL_LOG_DEBUG; /* a flood: counted, never one line each */
	} else if (event == IL_TURN_EV_ALLOCATION_CREATED || event == IL_TURN_EV_PEER_DENIED ||
		   event == IL_TURN_EV_TCP_CLOSED_BY_POLICY ||
		   event == IL_TURN_EV_ALLOCATION_DELETED || event == IL_TURN_EV_ALLOCATION_EXPIRED) {
		level = IL_LOG_INFO;
	}
	if (!il_log_enabled(level))
		return;
	static const char *const names[] = {
		"?", "allocation created", "allocation deleted", "allocation expired",
		"permission created", "channel bound", "auth failed", "peer denied",
		"dropped malformed", "dropped no permission", "dropped no allocation",
		"allocation refused", "tcp connection", "401 withheld (rate)",
		"dropped over bandwidth", "tcp connection closed by policy"};
	const char *name = event > 0 && event <= IL_TURN_EV_TCP_CLOSED_BY_POLICY ? names[event] : names[0];
	char remote[IL_ADDR_STRLEN] = "-";
	if (ft)
		il_addr_format(&ft->remote, remote, sizeof remote);
	il_log(level, "w%d %s: %s%s%s", c->w->index, name, remote, detail ? " " : "",
	       detail ? detail : "");
}

static size_t keys_lookup(void *user, const char *realm, const char *username,
			  enum il_stun_password_algorithm alg, uint64_t now_s,
			  il_stun_key keys[IL_TURN_MAX_KEYS])
{
	io_core *c = user;
	return io_creds_lookup(c->w->server->creds, c->tenant, realm, username, alg, now_s, keys);
}

static bool userhash_lookup(void *user, const char *realm, const uint8_t userhash[32],
			    enum il_stun_password_algorithm alg, uint64_t now_s, il_stun_key *key,
			    char *username, size_t username_cap)
{
	(void)now_s;
	io_core *c = user;
	return io_creds_lookup_userhash(c->w->server->creds, c->tenant, realm, userhash, alg, key,
					username, username_cap);
}

/* ---- connections per source IP (max-connections-per-ip) ---- */

static void conn_ip_key(const il_addr *a, uint8_t key[8])
{
	memset(key, 0, 8);
	memcpy(key, a->ip, a->family == IL_AF_INET ? 4 : 8); /* IPv6: the /64 */
}

static io_conn_ip *conn_ip_set(io_server *s, const il_addr *a, uint8_t key[8])
{
	conn_ip_key(a, key);
	uint64_t h = s->conn_ip_seed ^ a->family;
	for (int i = 0; i < 8; i++)
		h = (h ^ key[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	return &s->conn_ip[(h % IO_CONN_IP_SETS) * IO_CONN_IP_WAYS];
}

bool io_conn_ip_acquire(io_server *s, const il_addr *remote, uint32_t limit, bool *counted)
{
	*counted = false;
	if (limit == 0 || !s->conn_ip)
		return true;
	uint8_t key[8];
	pthread_mutex_lock(&s->conn_ip_lock);
	io_conn_ip *set = conn_ip_set(s, remote, key), *e = NULL, *free_e = NULL;
	for (int i = 0; i < IO_CONN_IP_WAYS && !e; i++) {
		if (set[i].count && set[i].family == remote->family && !memcmp(set[i].key, key, 8))
			e = &set[i];
		else if (!set[i].count && !free_e)
			free_e = &set[i];
	}
	bool ok = true;
	if (!e && free_e) {
		e = free_e;
		e->family = remote->family;
		memcpy(e->key, key, 8);
	}
	if (e && e->count >= limit) {
		ok = false;
	} else if (e) {
		e->count++;
		*counted = true;
	}
	/* A full set (8 other sources, each with connections open): let the
	 * connection in uncounted rather than refuse a source we cannot
	 * track. */
	pthread_mutex_unlock(&s->conn_ip_lock);
	return ok;
}

void io_conn_ip_release(io_server *s, const il_addr *remote)
{
	if (!s->conn_ip)
		return;
	uint8_t key[8];
	pthread_mutex_lock(&s->conn_ip_lock);
	io_conn_ip *set = conn_ip_set(s, remote, key);
	for (int i = 0; i < IO_CONN_IP_WAYS; i++) {
		if (set[i].count && set[i].family == remote->family && !memcmp(set[i].key, key, 8)) {
			set[i].count--;
			break;
		}
	}
	pthread_mutex_unlock(&s->conn_ip_lock);
}

/* ---- the core's configuration from ours ---- */

static void build_policy(io_server *s, const il_io_config *cfg, il_peer_policy *p)
{
	*p = cfg->peers;
	for (size_t i = 0; i < cfg->listen_count; i++) {
		il_addr a = cfg->listen[i].addr;
		if (io_addr_is_wildcard(&a)) {
			uint16_t port = a.port;
			a = a.family == IL_AF_INET ? s->relay_v4 : s->relay_v6;
			a.port = port;
		}
		il_peer_policy_add_own(p, &a);
	}
	if (cfg->other_address.family)
		il_peer_policy_add_own(p, &cfg->other_address);
	if (cfg->metrics.family)
		il_peer_policy_add_own(p, &cfg->metrics);
}

static void build_core_config(io_server *s, const il_io_config *cfg, int tenant,
			      const il_peer_policy *policy, il_turn_server_config *tc)
{
	il_turn_server_config_defaults(tc);
	const il_io_tenant *t = &cfg->tenants[tenant];
	tc->realm = t->realm;
	tc->software = cfg->software[0] ? cfg->software : NULL;
	tc->default_lifetime_s = cfg->default_lifetime_s;
	tc->max_lifetime_s = cfg->max_lifetime_s;
	tc->channel_lifetime_s = cfg->channel_lifetime_s;
	tc->nonce_lifetime_s = cfg->nonce_lifetime_s;
	/* Quotas are per core: split the totals over the workers. */
	uint32_t total = t->max_allocations ? t->max_allocations : cfg->max_allocations;
	tc->max_allocations = total / s->nworkers ? total / s->nworkers : 1;
	tc->max_allocations_per_user =
		t->max_allocations_per_user ? t->max_allocations_per_user
					    : cfg->max_allocations_per_user;
	tc->max_permissions = cfg->max_permissions;
	tc->max_channels = cfg->max_channels;
	tc->rfc5766_channels = cfg->rfc5766_channels;
	tc->allow_md5 = cfg->allow_md5;
	tc->allow_sha256 = cfg->allow_sha256;
	tc->external_v4 = cfg->external_v4;
	tc->external_v6 = cfg->external_v6;
	tc->allow_private_relay = cfg->allow_private_relay;
	memcpy(tc->nonce_secret, s->nonce_secret, sizeof tc->nonce_secret);
	tc->peers = policy;
	tc->keys_lookup = keys_lookup;
	/* USERHASH (RFC 8489 §9.2.4, §14.4) only for tenants that refuse TURN
	 * REST credentials. With a userhash_lookup the core sets the "Username
	 * anonymity" bit of the nonce cookie, and a client that supports it
	 * (icelab probe, browsers following RFC 8489) then MUST send USERHASH
	 * instead of USERNAME. A REST username ("expiry:user") is made by a
	 * web service, not stored here, so it cannot be found from its hash:
	 * every REST client supporting USERHASH would get 401. So a tenant
	 * that accepts REST does not offer anonymity (clients send USERNAME,
	 * static users included); with no-rest, its static users are all
	 * known and USERHASH works. */
	tc->userhash_lookup = t->rest ? NULL : userhash_lookup;
	/* The 401 limit is per core and SO_REUSEPORT spreads one source's
	 * ports over the workers: split the rate and burst like the quotas. */
	if (cfg->max_401_per_second) {
		uint32_t n = s->nworkers ? s->nworkers : 1;
		tc->max_401_per_second = (cfg->max_401_per_second + n - 1) / n;
		tc->burst_401 = (cfg->max_401_burst + n - 1) / n;
	}
	tc->max_bps_per_allocation = cfg->max_bps_per_allocation;
	tc->wall_clock_offset_ms = s->wall_clock_offset_ms;
	/* RFC 5780 for the tenant of A1:P1 only: its four sockets are its. */
	int primary = il_io_config_primary(cfg);
	if (primary >= 0 && cfg->listen[primary].tenant == tenant) {
		tc->primary_address = cfg->listen[primary].addr;
		tc->other_address = cfg->other_address;
	}
}

/* ---- timers ---- */

static void core_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	io_core *c = arg;
	c->timer_at = UINT64_MAX;
	c->w->now_ms = io_now_ms();
	il_turn_server_timer(c->srv, c->w->now_ms);
	io_tx_flush(c->w);
	io_core_update_timer(c);
}

void io_core_update_timer(io_core *c)
{
	uint64_t at = il_turn_server_next_deadline(c->srv);
	/* An earlier armed timer re-evaluates when it fires. */
	if (at == UINT64_MAX || at >= c->timer_at)
		return;
	uint64_t now = io_now_ms();
	uint64_t delay = at > now ? at - now : 0;
	struct timeval tv = {.tv_sec = (time_t)(delay / 1000),
			     .tv_usec = (suseconds_t)(delay % 1000) * 1000};
	evtimer_add(c->timer, &tv);
	c->timer_at = at;
}

static void worker_stats(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	io_worker *w = arg;
	il_turn_server_stats total = {0};
	for (size_t i = 0; i < w->core_count; i++) {
		il_turn_server_stats st;
		il_turn_server_get_stats(w->cores[i].srv, &st);
		const uint64_t *src = (const uint64_t *)&st;
		uint64_t *dst = (uint64_t *)&total;
		for (size_t k = 0; k < sizeof st / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
	pthread_mutex_lock(&w->snap_lock);
	w->snap_counters = w->counters;
	w->snap_stats = total;
	pthread_mutex_unlock(&w->snap_lock);
	if (w->index == 0)
		io_reservations_expire(w->server, io_now_ms());
}

/* ---- reload (runs in the worker, activated by the main thread) ---- */

static void worker_reload(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	io_worker *w = arg;
	io_server *s = w->server;
	pthread_mutex_lock(&s->cfg_lock);
	w->cfg = s->cfg;
	pthread_mutex_unlock(&s->cfg_lock);
	for (size_t i = 0; i < w->core_count; i++) {
		io_core *c = &w->cores[i];
		if ((size_t)c->tenant >= w->cfg->tenant_count)
			continue; /* tenants added or removed: needs a restart */
		int next = 1 - c->policy_idx;
		build_policy(s, w->cfg, &c->policy[next]);
		il_turn_server_config tc;
		build_core_config(s, w->cfg, c->tenant, &c->policy[next], &tc);
		if (il_turn_server_reconfigure(c->srv, &tc) == 0)
			c->policy_idx = next;
		else
			il_log(IL_LOG_ERROR, "worker %d: tenant %s: the core refused the new "
			       "configuration; keeping the old one", w->index,
			       w->cfg->tenants[c->tenant].name);
	}
}

/* ---- workers ---- */

static int udp_listener_add(io_worker *w, const il_addr *addr, io_core *core, char *err,
			    size_t err_len)
{
	char a[IL_ADDR_STRLEN], msg[160];
	il_addr_format(addr, a, sizeof a);
	io_udp_listener *l = &w->udp[w->udp_count];
	l->fd = io_udp_socket(addr, true, msg, sizeof msg);
	if (l->fd < 0) {
		snprintf(err, err_len, "listen: udp %s: %s", a, msg);
		return -1;
	}
	w->udp_count++;
	l->local = *addr;
	l->wildcard = io_addr_is_wildcard(addr);
	l->core = core;
	l->ev = event_new(w->base, l->fd, EV_READ | EV_PERSIST, io_udp_listener_read, l);
	if (!l->ev || event_add(l->ev, NULL) < 0) {
		snprintf(err, err_len, "listen: udp %s: event setup failed", a);
		return -1;
	}
	return 0;
}

/* RFC 5780 §6.1: besides A1:P1 (a listener) the server receives on A1:P2,
 * A2:P1 and A2:P2, so a response can leave from any of the four
 * (CHANGE-REQUEST) through udp_listener_for. */
static int rfc5780_listeners(io_worker *w, char *err, size_t err_len)
{
	int primary = il_io_config_primary(w->cfg);
	if (primary < 0)
		return 0;
	const il_addr *a1p1 = &w->cfg->listen[primary].addr, *a2p2 = &w->cfg->other_address;
	io_core *core = &w->cores[w->cfg->listen[primary].tenant];
	il_addr extra[3] = {*a1p1, *a2p2, *a2p2};
	extra[0].port = a2p2->port; /* A1:P2 */
	extra[1].port = a1p1->port; /* A2:P1 */
	for (int i = 0; i < 3; i++)
		if (udp_listener_add(w, &extra[i], core, err, err_len) < 0)
			return -1;
	return 0;
}

static int worker_init(io_server *s, io_worker *w, int index, char *err, size_t err_len)
{
	const il_io_config *cfg = s->cfg;
	w->index = index;
	w->server = s;
	w->cfg = cfg;
	pthread_mutex_init(&w->snap_lock, NULL);
	w->base = event_base_new();
	if (!w->base || io_rxq_init(&w->rx) < 0 || io_txq_init(&w->tx) < 0) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	static const il_turn_server_callbacks proto = {
		.random = cb_random,
		.send_to_client = cb_send_to_client,
		.send_to_peer = cb_send_to_peer,
		.relay_open = cb_relay_open,
		.relay_close = cb_relay_close,
		.tcp_connect = cb_tcp_connect,
		.tcp_bind = cb_tcp_bind,
		.tcp_close = cb_tcp_close,
		.event = cb_event,
	};
	for (size_t t = 0; t < cfg->tenant_count; t++) {
		io_core *c = &w->cores[t];
		c->w = w;
		c->tenant = (int)t;
		c->timer_at = UINT64_MAX;
		build_policy(s, cfg, &c->policy[0]);
		il_turn_server_config tc;
		build_core_config(s, cfg, (int)t, &c->policy[0], &tc);
		il_turn_server_callbacks cb = proto;
		cb.user = c;
		c->srv = il_turn_server_new(&tc, &cb);
		c->timer = evtimer_new(w->base, core_timer, c);
		w->core_count++; /* worker_free frees what was made */
		if (!c->srv || !c->timer) {
			snprintf(err, err_len, "tenant %s: the TURN core refused its configuration",
				 cfg->tenants[t].name);
			return -1;
		}
	}
	for (size_t i = 0; i < cfg->listen_count; i++) {
		const il_io_listen *ls = &cfg->listen[i];
		io_core *core = &w->cores[ls->tenant];
		char a[IL_ADDR_STRLEN], msg[160];
		il_addr_format(&ls->addr, a, sizeof a);
		if (ls->kind == IL_IO_LISTEN_PLAIN && cfg->udp &&
		    udp_listener_add(w, &ls->addr, core, err, err_len) < 0)
			return -1;
		if (ls->kind == IL_IO_LISTEN_TLS || cfg->tcp) {
			io_tcp_listener *l = &w->tcp[w->tcp_count];
			l->fd = io_tcp_socket(&ls->addr, msg, sizeof msg);
			if (l->fd < 0) {
				snprintf(err, err_len, "%s: %s %s: %s",
					 ls->kind == IL_IO_LISTEN_TLS ? "tls-listen" : "listen",
					 ls->kind == IL_IO_LISTEN_TLS ? "tls" : "tcp", a, msg);
				return -1;
			}
			w->tcp_count++;
			l->local = ls->addr;
			l->tls = ls->kind == IL_IO_LISTEN_TLS;
			l->core = core;
			if (io_tcp_listener_start(w, l) < 0) {
				snprintf(err, err_len, "listen: tcp %s: listener setup failed", a);
				return -1;
			}
		}
	}
	if (rfc5780_listeners(w, err, err_len) < 0)
		return -1;
	w->reload_ev = event_new(w->base, -1, 0, worker_reload, w);
	w->stats_ev = event_new(w->base, -1, EV_PERSIST, worker_stats, w);
	struct timeval one_s = {.tv_sec = 1};
	if (!w->reload_ev || !w->stats_ev || event_add(w->stats_ev, &one_s) < 0) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	return 0;
}

static void worker_free(io_worker *w)
{
	if (!w->base)
		return;
	io_stream_close_all(w);
	for (size_t i = 0; i < w->core_count; i++) {
		if (w->cores[i].srv)
			il_turn_server_free(w->cores[i].srv); /* may close relays */
		if (w->cores[i].timer)
			event_free(w->cores[i].timer);
	}
	io_tx_flush(w);
	io_relay_close_all(w);
	for (size_t i = 0; i < w->udp_count; i++) {
		if (w->udp[i].ev)
			event_free(w->udp[i].ev);
		close(w->udp[i].fd);
	}
	for (size_t i = 0; i < w->tcp_count; i++) {
		if (w->tcp[i].lev)
			evconnlistener_free(w->tcp[i].lev);
		else
			close(w->tcp[i].fd);
	}
	if (w->reload_ev)
		event_free(w->reload_ev);
	if (w->stats_ev)
		event_free(w->stats_ev);
	io_rxq_free(&w->rx);
	io_txq_free(&w->tx);
	event_base_free(w->base);
	pthread_mutex_destroy(&w->snap_lock);
	w->base = NULL;
}

static void *worker_main(void *arg)
{
	io_worker *w = arg;
	event_base_dispatch(w->base);
	return NULL;
}

/* ---- signals (main thread) ---- */

static bool restart_needed(const il_io_config *a, const il_io_config *b)
{
	if (a->listen_count != b->listen_count || a->tenant_count != b->tenant_count ||
	    a->udp != b->udp || a->tcp != b->tcp || a->workers != b->workers ||
	    strcmp(a->cert_file, b->cert_file) || strcmp(a->key_file, b->key_file) ||
	    !il_addr_equal(&a->metrics, &b->metrics) || !il_addr_equal(&a->relay_v4, &b->relay_v4) ||
	    !il_addr_equal(&a->other_address, &b->other_address) ||
	    !il_addr_equal(&a->relay_v6, &b->relay_v6))
		return true;
	for (size_t i = 0; i < a->listen_count; i++)
		if (!il_addr_equal(&a->listen[i].addr, &b->listen[i].addr) ||
		    a->listen[i].kind != b->listen[i].kind || a->listen[i].tenant != b->listen[i].tenant)
			return true;
	return false;
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	io_server *s = arg;
	if (!s->reload) {
		il_log(IL_LOG_WARN, "SIGHUP: nothing to reload from");
		return;
	}
	if (s->retired_count == sizeof s->retired / sizeof s->retired[0]) {
		il_log(IL_LOG_ERROR, "SIGHUP: too many reloads in this run; restart to reload");
		return;
	}
	char err[512];
	il_io_config *fresh = malloc(sizeof *fresh);
	if (!fresh)
		return;
	if (s->reload(s->reload_user, fresh, err, sizeof err) < 0) {
		il_log(IL_LOG_ERROR, "reload refused, keeping the running configuration: %s", err);
		free(fresh);
		return;
	}
	if (restart_needed(s->cfg, fresh))
		il_log(IL_LOG_WARN, "reload: listeners, tenants, workers, TLS files, relay "
		       "addresses and metrics change only on restart");
	io_creds *creds = io_creds_new(fresh, true, err, sizeof err);
	if (!creds) {
		il_log(IL_LOG_ERROR, "reload refused: %s", err);
		il_io_config_release(fresh);
		free(fresh);
		return;
	}
	io_creds_replace(s->creds, creds);
	il_log_setup(fresh->log_level, fresh->log_json);
	pthread_mutex_lock(&s->cfg_lock);
	s->retired[s->retired_count++] = s->cfg;
	s->cfg = fresh;
	pthread_mutex_unlock(&s->cfg_lock);
	for (unsigned i = 0; i < s->nworkers; i++)
		event_active(s->workers[i].reload_ev, EV_READ, 0);
	il_log(IL_LOG_INFO, "configuration reloaded (users, secrets, peer policy, external "
	       "addresses, quotas, lifetimes, log level); allocations kept");
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	io_server *s = arg;
	il_log(IL_LOG_INFO, "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	event_base_loopbreak(s->main_base);
}

/* ---- run ---- */

static void resolve_relay(const il_io_config *cfg, uint8_t family, const il_addr *given,
			  il_addr *out)
{
	if (given->family == family) {
		*out = *given;
		out->port = 0;
		return;
	}
	for (size_t i = 0; i < cfg->listen_count; i++) {
		const il_addr *a = &cfg->listen[i].addr;
		if (a->family == family && !io_addr_is_wildcard(a)) {
			*out = *a;
			out->port = 0;
			return;
		}
	}
	io_default_ip(family, out);
}

static void log_start(io_server *s)
{
	const il_io_config *cfg = s->cfg;
	for (size_t i = 0; i < cfg->listen_count; i++) {
		char a[IL_ADDR_STRLEN];
		il_addr_format(&cfg->listen[i].addr, a, sizeof a);
		const char *what = cfg->listen[i].kind == IL_IO_LISTEN_TLS ? "tls"
				   : cfg->udp && cfg->tcp                 ? "udp+tcp"
				   : cfg->udp                             ? "udp"
									  : "tcp";
		il_log(IL_LOG_INFO, "listening on %s %s (tenant %s, realm %s)", what, a,
		       cfg->tenants[cfg->listen[i].tenant].name,
		       cfg->tenants[cfg->listen[i].tenant].realm);
	}
	int primary = il_io_config_primary(cfg);
	if (primary >= 0) {
		char a1[IL_ADDR_STRLEN], a2[IL_ADDR_STRLEN];
		il_addr_format(&cfg->listen[primary].addr, a1, sizeof a1);
		il_addr_format(&cfg->other_address, a2, sizeof a2);
		il_log(IL_LOG_INFO, "RFC 5780 behaviour discovery on udp: A1:P1 %s, A2:P2 %s "
		       "(and the crossed pairs)", a1, a2);
	}
	char v4[IL_ADDR_STRLEN], v6[IL_ADDR_STRLEN];
	il_addr_format_ip(&s->relay_v4, v4, sizeof v4);
	il_addr_format_ip(&s->relay_v6, v6, sizeof v6);
	il_log(IL_LOG_INFO, "relay addresses %s and %s, ports %u-%u, %u worker%s", v4, v6,
	       cfg->min_port, cfg->max_port, s->nworkers, s->nworkers == 1 ? "" : "s");
	for (int f = 0; f < 2; f++) {
		const il_addr *ext = f ? &cfg->external_v6 : &cfg->external_v4;
		const il_addr *adv = ext->family ? ext : f ? &s->relay_v6 : &s->relay_v4;
		if (!cfg->allow_private_relay && il_addr_is_private(adv)) {
			char a[IL_ADDR_STRLEN];
			il_addr_format_ip(adv, a, sizeof a);
			il_log(IL_LOG_WARN,
			       "relay address %s is private or loopback: IPv%c allocations will be "
			       "refused (set --external-ip, or --allow-private-relay for a lab)",
			       a, f ? '6' : '4');
		}
	}
}

static void server_free(io_server *s)
{
	io_metrics_stop(s);
	for (unsigned i = 0; s->workers && i < s->nworkers; i++)
		worker_free(&s->workers[i]);
	free(s->workers);
	io_reservations_free(s);
	io_creds_free(s->creds);
	if (s->ssl)
		SSL_CTX_free(s->ssl);
	if (s->main_base)
		event_base_free(s->main_base);
	for (size_t i = 0; i < s->retired_count; i++) {
		if (i == 0)
			continue; /* the caller's own config */
		il_io_config_release(s->retired[i]);
		free(s->retired[i]);
	}
	pthread_mutex_destroy(&s->cfg_lock);
	pthread_mutex_destroy(&s->resv_lock);
	pthread_mutex_destroy(&s->conn_ip_lock);
	free(s->conn_ip);
	OPENSSL_cleanse(s->nonce_secret, sizeof s->nonce_secret);
	free(s);
}

int il_io_server_run(il_io_config *cfg, il_io_reload_fn reload, void *reload_user)
{
	char err[512] = "";
	if (evthread_use_pthreads() < 0) {
		il_log(IL_LOG_ERROR, "libevent without thread support");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	il_log_setup(cfg->log_level, cfg->log_json);
	io_server *s = calloc(1, sizeof *s);
	if (!s)
		return 2;
	s->cfg = cfg;
	s->reload = reload;
	s->reload_user = reload_user;
	s->started_s = io_unix_s();
	s->wall_clock_offset_ms = (int64_t)(s->started_s * 1000) - (int64_t)io_now_ms();
	pthread_mutex_init(&s->cfg_lock, NULL);
	pthread_mutex_init(&s->resv_lock, NULL);
	pthread_mutex_init(&s->conn_ip_lock, NULL);
	s->conn_ip = calloc(IO_CONN_IP_SLOTS, sizeof *s->conn_ip);
	for (size_t i = 0; i < IO_RESERVATIONS; i++)
		s->resv[i].fd = -1;
	int rc = 2;
	uint32_t cursor;
	struct event *sig_events[3] = {NULL, NULL, NULL};
	if (!s->conn_ip || RAND_bytes(s->nonce_secret, sizeof s->nonce_secret) != 1 ||
	    RAND_bytes((uint8_t *)&s->conn_ip_seed, sizeof s->conn_ip_seed) != 1 ||
	    RAND_bytes((uint8_t *)&cursor, sizeof cursor) != 1) {
		il_log(IL_LOG_ERROR, "no randomness");
		goto out;
	}
	atomic_store(&s->port_cursor, cursor);
	resolve_relay(cfg, IL_AF_INET, &cfg->relay_v4, &s->relay_v4);
	resolve_relay(cfg, IL_AF_INET6, &cfg->relay_v6, &s->relay_v6);
	s->creds = io_creds_new(cfg, true, err, sizeof err);
	if (!s->creds)
		goto fail;
	for (size_t i = 0; i < cfg->listen_count; i++) {
		if (cfg->listen[i].kind == IL_IO_LISTEN_TLS && !s->ssl) {
			s->ssl = io_tls_context(cfg, err, sizeof err);
			if (!s->ssl)
				goto fail;
		}
	}
	s->main_base = event_base_new();
	s->nworkers = cfg->workers ? cfg->workers : 1;
	s->workers = calloc(s->nworkers, sizeof *s->workers);
	if (!s->main_base || !s->workers) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < s->nworkers; i++)
		if (worker_init(s, &s->workers[i], (int)i, err, sizeof err) < 0)
			goto fail;
	if (io_metrics_start(s, err, sizeof err) < 0) {
		char m[IL_ADDR_STRLEN];
		il_addr_format(&cfg->metrics, m, sizeof m);
		il_log(IL_LOG_ERROR, "metrics: %s: %s", m, err);
		goto out;
	}
	sig_events[0] = evsignal_new(s->main_base, SIGHUP, on_sighup, s);
	sig_events[1] = evsignal_new(s->main_base, SIGTERM, on_stop, s);
	sig_events[2] = evsignal_new(s->main_base, SIGINT, on_stop, s);
	for (int i = 0; i < 3; i++) {
		if (!sig_events[i] || event_add(sig_events[i], NULL) < 0) {
			snprintf(err, sizeof err, "cannot handle signals");
			goto fail;
		}
	}
	/* Workers never take signals: the main thread's event loop does. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < s->nworkers; i++) {
		if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]) != 0)
			break;
		s->workers[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	log_start(s);
	il_log(IL_LOG_INFO, "icelab serve ready (pid %ld)", (long)getpid());
	event_base_dispatch(s->main_base);

	/* Graceful stop: no new work, then each worker finishes its loop. */
	for (unsigned i = 0; i < s->nworkers; i++)
		if (s->workers[i].started)
			event_base_loopexit(s->workers[i].base, NULL);
	for (unsigned i = 0; i < s->nworkers; i++)
		if (s->workers[i].started)
			pthread_join(s->workers[i].thread, NULL);
	il_log(IL_LOG_INFO, "stopped");
	rc = 0;
	goto out;
fail:
	il_log(IL_LOG_ERROR, "%s", err);
out:
	for (int i = 0; i < 3; i++)
		if (sig_events[i])
			event_free(sig_events[i]);
	if (s->cfg != cfg) { /* a reloaded one: ours */
		il_io_config_release(s->cfg);
		free(s->cfg);
	}
	server_free(s);
	return rc;
}
