/* An ICE endpoint on a simulated host (actors_ice.h): the ICE agent core
 * and its gatherer driven exactly as a socket driver drives them —
 * datagrams in with `now`, cb->send out through the host's UDP socket or
 * the TURN client, timers at their next deadline — and a signalling
 * channel with a one-way delay to the peer endpoint (the SDP offer and
 * answer, then trickled candidates, RFC 8838 §4). */
#include "actors_ice.h"
#include "actors.h"
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define SIG_MAX 128          /* signalling messages in flight per direction */
#define MAX_STREAMS_TCP 4    /* TURN over TCP connections (one per allocation) */

enum sig_kind { SIG_CREDENTIALS = 1, SIG_CANDIDATE, SIG_END };

typedef struct sig_msg {
	int kind;
	char ufrag[IL_ICE_UFRAG_MAX + 1], pwd[IL_ICE_PWD_MAX + 1];
	il_ice_candidate cand;
} sig_msg;

struct sim_ice {
	il_sim *sim;
	int host;
	sim_ice_opts opts;
	char name[SIM_NAME_MAX];
	int sock;
	il_addr base;
	int tcp_conn[MAX_STREAMS_TCP];
	il_ice_agent *agent;
	il_ice_gatherer *gather;
	sim_ice *peer;
	sig_msg out[SIG_MAX];    /* to the peer, FIFO */
	size_t out_head, out_count;
	uint64_t out_last_us;    /* delivery time of the last message queued */
	bool agent_started, restarting;
	char rufrag[IL_ICE_UFRAG_MAX + 1]; /* the peer's credentials, last received */
	uint64_t wake_at;
	sim_ice_state st;
};

void sim_ice_opts_defaults(sim_ice_opts *o)
{
	memset(o, 0, sizeof *o);
	o->name = "ice";
	o->policy = IL_ICE_GATHER_ALL;
	o->turn_transport = IL_ICE_SERVER_UDP;
	o->turn_tcp_port = 443;
	o->signal_delay_ms = 50;
}

static uint64_t now_ms(const sim_ice *e)
{
	return il_sim_now(e->sim) / 1000;
}

/* ---- timers ---- */

static void ice_wake(il_sim *sim, void *arg, uint64_t at);

static void reschedule(sim_ice *e)
{
	uint64_t d = il_ice_agent_next_deadline(e->agent);
	uint64_t g = il_ice_gatherer_next_deadline(e->gather);
	if (g < d)
		d = g;
	if (d == UINT64_MAX)
		return;
	uint64_t at = d * 1000;
	if (at < il_sim_now(e->sim))
		at = il_sim_now(e->sim);
	if (e->wake_at && e->wake_at <= at)
		return;
	e->wake_at = at;
	il_sim_schedule(e->sim, at, ice_wake, e, at);
}

static void ice_wake(il_sim *sim, void *arg, uint64_t at)
{
	(void)sim;
	sim_ice *e = arg;
	if (e->wake_at != at)
		return;
	e->wake_at = 0;
	il_ice_gatherer_timer(e->gather, now_ms(e));
	il_ice_agent_timer(e->agent, now_ms(e));
	reschedule(e);
}

/* ---- signalling ---- */

static void sig_deliver(il_sim *sim, void *arg, uint64_t u);

/* extra_ms: a later delivery; messages queued after it wait for it, as
 * sig_deliver takes the head of the queue. */
static sig_msg *sig_push(sim_ice *e, int kind, uint32_t extra_ms)
{
	if (!e->peer || e->out_count == SIG_MAX)
		return NULL;
	sig_msg *m = &e->out[(e->out_head + e->out_count++) % SIG_MAX];
	memset(m, 0, sizeof *m);
	m->kind = kind;
	uint64_t at = il_sim_now(e->sim) + (e->opts.signal_delay_ms + (uint64_t)extra_ms) * 1000;
	if (at < e->out_last_us)
		at = e->out_last_us;
	e->out_last_us = at;
	il_sim_schedule(e->sim, at, sig_deliver, e, 0);
	return m;
}

static void send_credentials(sim_ice *e)
{
	sig_msg *m = sig_push(e, SIG_CREDENTIALS, 0);
	if (!m)
		return;
	snprintf(m->ufrag, sizeof m->ufrag, "%s", il_ice_agent_local_ufrag(e->agent, 0));
	snprintf(m->pwd, sizeof m->pwd, "%s", il_ice_agent_local_pwd(e->agent, 0));
}

static void start_agent(sim_ice *e)
{
	if (e->agent_started)
		return;
	e->agent_started = true;
	e->st.started_us = il_sim_now(e->sim);
	il_ice_agent_start(e->agent, now_ms(e));
}

/* The peer's credentials: the offer or answer, or an ICE restart. */
static void on_credentials(sim_ice *e, const sig_msg *m)
{
	uint64_t now = now_ms(e);
	bool peer_restarted = e->agent_started && !e->restarting && strcmp(m->ufrag, e->rufrag);
	snprintf(e->rufrag, sizeof e->rufrag, "%s", m->ufrag);
	if (peer_restarted) {
		/* We answer a restart with new credentials of our own (§9). */
		il_ice_agent_restart(e->agent, 0, NULL, NULL, now);
		e->st.restarts++;
		send_credentials(e);
	}
	il_ice_agent_set_remote_credentials(e->agent, 0, m->ufrag, m->pwd, now);
	if (peer_restarted)
		il_ice_gatherer_restart(e->gather, now);
	e->restarting = false;
	start_agent(e);
}

static void sig_deliver(il_sim *sim, void *arg, uint64_t u)
{
	(void)sim;
	(void)u;
	sim_ice *from = arg;
	if (!from->out_count)
		return;
	sig_msg *m = &from->out[from->out_head];
	from->out_head = (from->out_head + 1) % SIG_MAX;
	from->out_count--;
	sim_ice *e = from->peer;
	uint64_t now = now_ms(e);
	switch (m->kind) {
	case SIG_CREDENTIALS:
		on_credentials(e, m);
		break;
	case SIG_CANDIDATE:
		il_ice_gatherer_add_remote_candidate(e->gather, &m->cand, now);
		break;
	case SIG_END:
		il_ice_agent_remote_end_of_candidates(e->agent, 0, now);
		break;
	default:
		break;
	}
	reschedule(e);
}

/* ---- the gatherer's callbacks ---- */

static void cb_random(void *user, uint8_t *out, size_t len)
{
	il_sim_rng_bytes(il_sim_get_rng(((sim_ice *)user)->sim), out, len);
}

static void gather_send(void *user, const il_addr *base, const il_addr *to, const uint8_t *data,
			size_t len)
{
	(void)base; /* one base: the host's socket */
	sim_ice *e = user;
	il_sim_udp_send(e->sim, e->sock, to, data, len);
}

static int stream_index(const sim_ice *e, int conn)
{
	for (int i = 0; i < MAX_STREAMS_TCP; i++)
		if (e->tcp_conn[i] == conn)
			return i;
	return -1;
}

static void tcp_connected(void *user, il_sim *sim, int conn)
{
	(void)sim;
	sim_ice *e = user;
	int id = stream_index(e, conn);
	if (id >= 0)
		il_ice_gatherer_stream_connected(e->gather, (unsigned)id, now_ms(e));
	reschedule(e);
}

static void tcp_data(void *user, il_sim *sim, int conn, const uint8_t *data, size_t len)
{
	(void)sim;
	sim_ice *e = user;
	int id = stream_index(e, conn);
	if (id >= 0)
		il_ice_gatherer_stream_data(e->gather, (unsigned)id, data, len, now_ms(e));
	reschedule(e);
}

static void tcp_closed(void *user, il_sim *sim, int conn, bool reset)
{
	(void)sim;
	(void)reset;
	sim_ice *e = user;
	int id = stream_index(e, conn);
	if (id < 0)
		return;
	e->tcp_conn[id] = -1;
	il_ice_gatherer_stream_closed(e->gather, (unsigned)id, now_ms(e));
	reschedule(e);
}

static int gather_stream_open(void *user, unsigned id, const il_addr *base, const il_addr *server,
			      int transport)
{
	(void)base;
	(void)transport; /* TLS is not modelled: a TCP stream stands in for it */
	sim_ice *e = user;
	if (id >= MAX_STREAMS_TCP)
		return -1;
	il_addr to = *server;
	to.port = e->opts.turn_tcp_port;
	il_sim_tcp_callbacks cb = {e, tcp_connected, tcp_data, tcp_closed};
	e->tcp_conn[id] = il_sim_tcp_connect(e->sim, e->host, &to, &cb, NULL);
	return e->tcp_conn[id] < 0 ? -1 : 0;
}

static int gather_stream_send(void *user, unsigned id, const uint8_t *data, size_t len)
{
	sim_ice *e = user;
	if (id >= MAX_STREAMS_TCP || e->tcp_conn[id] < 0)
		return -1;
	return il_sim_tcp_send(e->sim, e->tcp_conn[id], data, len);
}

static void gather_candidate(void *user, unsigned stream, const il_ice_candidate *c)
{
	(void)stream;
	sim_ice *e = user;
	uint32_t extra = c && c->type == IL_ICE_CAND_SRFLX ? e->opts.srflx_signal_delay_ms : 0;
	sig_msg *m = sig_push(e, c ? SIG_CANDIDATE : SIG_END, extra);
	if (m && c)
		m->cand = *c;
}

/* ---- the agent's callbacks ---- */

static void agent_send(void *user, unsigned stream, unsigned component,
		       const il_ice_candidate *local, const il_addr *remote, const uint8_t *data,
		       size_t len)
{
	(void)stream;
	(void)component;
	sim_ice *e = user;
	il_ice_gatherer_send(e->gather, local, remote, data, len, now_ms(e));
}

static void restart_event(il_sim *sim, void *arg, uint64_t u)
{
	(void)sim;
	(void)u;
	sim_ice_restart(arg);
}

static void agent_event(void *user, const il_ice_event *ev)
{
	sim_ice *e = user;
	uint64_t now = il_sim_now(e->sim);
	switch (ev->type) {
	case IL_ICE_EV_STATE:
		e->st.state = ev->state;
		if ((ev->state == IL_ICE_STATE_CONNECTED || ev->state == IL_ICE_STATE_COMPLETED) &&
		    !e->st.connected) {
			e->st.connected = true;
			e->st.connected_us = now;
		}
		if (ev->state == IL_ICE_STATE_COMPLETED && !e->st.completed_us)
			e->st.completed_us = now;
		if (ev->state == IL_ICE_STATE_FAILED && !e->st.failed) {
			e->st.failed = true;
			e->st.failed_us = now;
		}
		break;
	case IL_ICE_EV_SELECTED_PAIR:
		if (!ev->pair)
			break;
		e->st.has_selected = true;
		e->st.selected = *ev->pair;
		e->st.selected_changes++;
		if (e->st.restarts && !e->st.restart_selected_us)
			e->st.restart_selected_us = now;
		break;
	case IL_ICE_EV_CONSENT_EXPIRED:
		if (!e->st.consent_lost) {
			e->st.consent_lost = true;
			e->st.consent_lost_us = now;
		}
		/* Not from inside the agent's callback: at once, as an event. */
		if (e->opts.restart_on_consent_loss && e->opts.controlling)
			il_sim_schedule(e->sim, now, restart_event, e, 0);
		break;
	case IL_ICE_EV_RESTART_DONE:
		e->st.restart_done_us = now;
		break;
	default:
		break;
	}
}

static void agent_data(void *user, unsigned stream, unsigned component, const uint8_t *data,
		       size_t len)
{
	(void)stream;
	(void)component;
	(void)data;
	(void)len;
	((sim_ice *)user)->st.media_received++;
}

static void udp_recv(void *user, il_sim *sim, int sock, const il_addr *from, const uint8_t *data,
		     size_t len)
{
	(void)sim;
	(void)sock;
	sim_ice *e = user;
	il_ice_gatherer_handle_datagram(e->gather, &e->base, from, data, len, now_ms(e));
	reschedule(e);
}

/* ---- public ---- */

sim_ice *sim_ice_new(il_sim *sim, int host, const sim_ice_opts *o)
{
	sim_ice *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->sim = sim;
	e->host = host;
	e->opts = *o;
	snprintf(e->name, sizeof e->name, "%s", o->name ? o->name : "ice");
	for (int i = 0; i < MAX_STREAMS_TCP; i++)
		e->tcp_conn[i] = -1;
	e->sock = il_sim_udp_bind(sim, host, NULL, udp_recv, NULL, e, &e->base);
	il_ice_config cfg;
	il_ice_config_defaults(&cfg);
	cfg.controlling = o->controlling;
	cfg.lite = o->lite;
	il_ice_callbacks cb = {.user = e, .random = cb_random, .send = agent_send,
			       .event = agent_event, .data = agent_data};
	e->agent = e->sock >= 0 ? il_ice_agent_new(&cfg, &cb) : NULL;
	if (!e->agent || il_ice_agent_add_stream(e->agent, 1, NULL, NULL) != 0) {
		sim_ice_free(e);
		return NULL;
	}
	il_ice_agent_set_remote_lite(e->agent, o->remote_lite);
	il_ice_gather_config gc;
	il_ice_gather_config_defaults(&gc);
	gc.policy = o->policy;
	gc.software = "icelab sim";
	il_ice_gather_callbacks gcb = {e, cb_random, gather_send, gather_stream_open,
				       gather_stream_send, gather_candidate};
	e->gather = il_ice_gatherer_new(&gc, &gcb, e->agent, 0);
	if (!e->gather || il_ice_gatherer_add_host(e->gather, 1, &e->base, false) < 0 ||
	    (o->has_stun && il_ice_gatherer_add_stun_server(e->gather, &o->stun) < 0) ||
	    (o->has_turn && il_ice_gatherer_add_turn_server(e->gather, &o->turn, o->turn_transport,
							     SIM_TURN_USER, SIM_TURN_PASSWORD) < 0)) {
		sim_ice_free(e);
		return NULL;
	}
	return e;
}

void sim_ice_free(sim_ice *e)
{
	if (!e)
		return;
	il_ice_gatherer_free(e->gather);
	il_ice_agent_free(e->agent);
	free(e);
}

void sim_ice_pair_with(sim_ice *a, sim_ice *b)
{
	a->peer = b;
	b->peer = a;
}

int sim_ice_start(sim_ice *e)
{
	send_credentials(e);
	int rc = il_ice_gatherer_start(e->gather, now_ms(e));
	reschedule(e);
	return rc;
}

int sim_ice_restart(sim_ice *e)
{
	uint64_t now = now_ms(e);
	if (il_ice_agent_restart(e->agent, 0, NULL, NULL, now) != IL_ICE_OK)
		return -1;
	e->st.restarts++;
	e->st.restart_selected_us = e->st.restart_done_us = 0;
	e->restarting = true;
	send_credentials(e);
	il_ice_gatherer_restart(e->gather, now);
	reschedule(e);
	return 0;
}

int sim_ice_send_media(sim_ice *e)
{
	static const uint8_t rtp[12] = {0x80, 0x60, 0, 1};
	int rc = il_ice_agent_send(e->agent, 0, 1, rtp, sizeof rtp, now_ms(e));
	reschedule(e);
	return rc;
}

const sim_ice_state *sim_ice_get_state(sim_ice *e)
{
	il_ice_agent_get_counters(e->agent, &e->st.counters);
	il_ice_gatherer_get_stats(e->gather, &e->st.gather);
	return &e->st;
}

il_ice_agent *sim_ice_agent(sim_ice *e)
{
	return e->agent;
}

const il_addr *sim_ice_host_addr(const sim_ice *e)
{
	return &e->base;
}
