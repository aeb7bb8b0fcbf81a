/* A simulated endpoint built from the client cores: the STUN transaction
 * layer (stun_client.h) for a Binding request, the TURN client core
 * (turn_client.h) over UDP or TCP, and a prober that stands in for ICE
 * connectivity checks until the ICE agent runs here: it sends PING to the
 * remote every interval and answers every PING with a PONG to where the
 * PING came from (RFC 8445 §7.3.1.4 triggered checks to a peer-reflexive
 * source). A PONG back means the path works both ways. */
#include "actors.h"
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

#include "icelab/stun.h"
#include "icelab/stun_client.h"
#include "icelab/turn_client.h"

#define PROBE_LEN 32

struct sim_peer {
	il_sim *sim;
	int host;
	char name[SIM_NAME_MAX];
	int sock, turn_sock, tcp_conn;
	il_addr server;
	il_stun_txn_table txn;
	il_stun_txn slots[2];
	il_turn_client *turn;
	bool turn_mode;
	il_addr remote, triggered;
	uint32_t probe_interval_ms, probes_left;
	uint64_t wake_at;
	sim_peer_state st;
};

static uint64_t now_ms(const sim_peer *p)
{
	return il_sim_now(p->sim) / 1000;
}

static void peer_wake(il_sim *sim, void *arg, uint64_t at);

static void reschedule(sim_peer *p)
{
	uint64_t d = il_stun_txn_next_deadline(&p->txn);
	if (p->turn) {
		uint64_t t = il_turn_client_next_deadline(p->turn);
		if (t < d)
			d = t;
	}
	if (d == UINT64_MAX)
		return;
	uint64_t at = d * 1000;
	if (p->wake_at && p->wake_at <= at)
		return;
	p->wake_at = at;
	il_sim_schedule(p->sim, at, peer_wake, p, at);
}

static void peer_wake(il_sim *sim, void *arg, uint64_t at)
{
	(void)sim;
	sim_peer *p = arg;
	if (p->wake_at != at)
		return;
	p->wake_at = 0;
	il_stun_txn_timer(&p->txn, now_ms(p));
	if (p->turn)
		il_turn_client_timer(p->turn, now_ms(p));
	reschedule(p);
}

/* ---- probes ---- */

static void send_probe(sim_peer *p, const il_addr *to, bool pong)
{
	uint8_t msg[PROBE_LEN];
	memset(msg, 0, sizeof msg);
	memcpy(msg, pong ? "PONG" : "PING", 4);
	memcpy(msg + 4, p->name, strnlen(p->name, sizeof msg - 4));
	int rc;
	if (p->turn_mode)
		rc = il_turn_client_send(p->turn, to, msg, sizeof msg, now_ms(p));
	else
		rc = il_sim_udp_send(p->sim, p->sock, to, msg, sizeof msg);
	if (rc == 0)
		p->st.sent++;
	if (p->turn_mode)
		reschedule(p);
}

static void on_probe(sim_peer *p, const il_addr *from, const uint8_t *data, size_t len)
{
	if (len != PROBE_LEN)
		return;
	uint64_t now = il_sim_now(p->sim);
	p->st.received++;
	if (!p->st.first_rx_us)
		p->st.first_rx_us = now;
	if (memcmp(data, "PING", 4) == 0) {
		send_probe(p, from, true);
		/* A triggered check back to the source, once per source. */
		if (!p->st.connected && !il_addr_equal(from, &p->triggered)) {
			p->triggered = *from;
			send_probe(p, from, false);
		}
	} else if (memcmp(data, "PONG", 4) == 0 && !p->st.connected) {
		p->st.connected = true;
		p->st.connected_us = now;
	}
}

static void probe_tick(il_sim *sim, void *arg, uint64_t u)
{
	(void)u;
	sim_peer *p = arg;
	if (!p->probes_left || p->st.connected)
		return;
	p->probes_left--;
	send_probe(p, &p->remote, false);
	il_sim_schedule(sim, il_sim_now(sim) + p->probe_interval_ms * 1000ull, probe_tick, p, 0);
}

void sim_peer_probe(sim_peer *p, const il_addr *remote, uint32_t interval_ms, uint32_t count)
{
	p->remote = *remote;
	p->probe_interval_ms = interval_ms ? interval_ms : 20;
	p->probes_left = count;
	il_sim_schedule(p->sim, il_sim_now(p->sim), probe_tick, p, 0);
}

/* ---- the base socket: Binding responses and direct probes ---- */

static void base_recv(void *user, il_sim *sim, int sock, const il_addr *from,
		      const uint8_t *data, size_t len)
{
	(void)sim;
	(void)sock;
	sim_peer *p = user;
	if (!il_stun_is_stun(data, len)) {
		on_probe(p, from, data, len);
		return;
	}
	il_stun_msg msg;
	if (il_stun_decode(data, len, &msg, NULL) != IL_STUN_OK)
		return;
	il_stun_txn *t = il_stun_txn_match(&p->txn, &msg);
	if (!t)
		return;
	const il_stun_attr *a = il_stun_msg_find(&msg, IL_ATTR_XOR_MAPPED_ADDRESS);
	if (msg.cls != IL_STUN_SUCCESS || !a ||
	    il_stun_attr_get_addr(&msg, a, &p->st.srflx) != IL_STUN_OK) {
		il_stun_txn_discard_response(&p->txn, t, now_ms(p));
		reschedule(p);
		return;
	}
	il_stun_txn_complete(&p->txn, t, now_ms(p));
	p->st.binding_done = p->st.have_srflx = true;
}

static void txn_send(void *user, const uint8_t *data, size_t len)
{
	sim_peer *p = user;
	if (il_sim_udp_send(p->sim, p->sock, &p->server, data, len) == 0)
		p->st.sent++;
}

static void txn_failed(void *user, uint32_t tag, enum il_stun_txn_failure why, uint64_t now)
{
	(void)tag;
	(void)why;
	(void)now;
	((sim_peer *)user)->st.binding_done = true;
}

void sim_peer_start_binding(sim_peer *p, const il_addr *server)
{
	/* A new request (a refresh after a move or an outage): the state
	 * reflects its outcome, not the previous one's. */
	p->st.binding_done = p->st.have_srflx = false;
	p->server = *server;
	uint8_t tid[IL_STUN_TID_LEN], buf[64];
	il_sim_rng_bytes(il_sim_get_rng(p->sim), tid, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	size_t len = il_stun_builder_finish(&b, NULL);
	if (!len || !il_stun_txn_start(&p->txn, buf, len, 1, now_ms(p)))
		p->st.binding_done = true;
	reschedule(p);
}

/* ---- TURN ---- */

static void turn_random(void *user, uint8_t *out, size_t len)
{
	il_sim_rng_bytes(il_sim_get_rng(((sim_peer *)user)->sim), out, len);
}

static void turn_send(void *user, const uint8_t *data, size_t len)
{
	sim_peer *p = user;
	int rc = p->tcp_conn >= 0 ? il_sim_tcp_send(p->sim, p->tcp_conn, data, len)
				  : il_sim_udp_send(p->sim, p->turn_sock, &p->server, data, len);
	if (rc == 0)
		p->st.sent++;
}

static void turn_event(void *user, const il_turn_client_event *ev)
{
	sim_peer *p = user;
	switch (ev->type) {
	case IL_TURN_CLIENT_EV_ALLOCATED:
		p->st.allocated = true;
		p->st.relayed = ev->relayed[0];
		if (ev->mapped.family && !p->st.have_srflx) {
			p->st.srflx = ev->mapped;
			p->st.have_srflx = true;
		}
		break;
	case IL_TURN_CLIENT_EV_ALLOCATE_FAILED:
	case IL_TURN_CLIENT_EV_ALLOCATION_LOST:
		p->st.alloc_failed = true;
		break;
	case IL_TURN_CLIENT_EV_PERMISSION_OK:
		p->st.permitted = true;
		break;
	default:
		break;
	}
}

static void turn_data(void *user, const il_addr *peer, const uint8_t *data, size_t len)
{
	on_probe(user, peer, data, len);
}

static void turn_udp_recv(void *user, il_sim *sim, int sock, const il_addr *from,
			  const uint8_t *data, size_t len)
{
	(void)sock;
	(void)from;
	sim_peer *p = user;
	il_turn_client_handle_datagram(p->turn, data, len, il_sim_now(sim) / 1000);
	reschedule(p);
}

static void tcp_connected(void *user, il_sim *sim, int conn)
{
	(void)conn;
	sim_peer *p = user;
	il_turn_client_allocate(p->turn, il_sim_now(sim) / 1000);
	reschedule(p);
}

static void tcp_data(void *user, il_sim *sim, int conn, const uint8_t *data, size_t len)
{
	(void)conn;
	sim_peer *p = user;
	il_turn_client_handle_stream(p->turn, data, len, il_sim_now(sim) / 1000);
	reschedule(p);
}

static void tcp_closed(void *user, il_sim *sim, int conn, bool reset)
{
	(void)conn;
	(void)reset;
	sim_peer *p = user;
	p->tcp_conn = -1;
	p->st.alloc_failed = !p->st.allocated || p->st.alloc_failed;
	il_turn_client_stream_closed(p->turn, il_sim_now(sim) / 1000);
}

void sim_peer_start_turn(sim_peer *p, const il_addr *server, bool tcp)
{
	p->server = *server;
	p->server.port = tcp ? 443 : 3478;
	p->turn_mode = true;
	il_turn_client_config cfg;
	il_turn_client_config_defaults(&cfg);
	cfg.username = SIM_TURN_USER;
	cfg.password = SIM_TURN_PASSWORD;
	cfg.stream = tcp;
	il_stun_txn_config_defaults(&cfg.txn, tcp);
	il_turn_client_callbacks cb = {p, turn_random, turn_send, turn_event, turn_data};
	p->turn = il_turn_client_new(&cfg, &cb);
	if (!p->turn) {
		p->st.alloc_failed = true;
		return;
	}
	if (tcp) {
		il_sim_tcp_callbacks tcb = {p, tcp_connected, tcp_data, tcp_closed};
		p->tcp_conn = il_sim_tcp_connect(p->sim, p->host, &p->server, &tcb, NULL);
		if (p->tcp_conn < 0)
			p->st.alloc_failed = true;
		else
			p->st.sent++; /* the SYN */
		return;
	}
	p->turn_sock = il_sim_udp_bind(p->sim, p->host, NULL, turn_udp_recv, NULL, p, NULL);
	if (p->turn_sock < 0) {
		p->st.alloc_failed = true;
		return;
	}
	il_turn_client_allocate(p->turn, now_ms(p));
	reschedule(p);
}

void sim_peer_permit(sim_peer *p, const il_addr *remote)
{
	if (!p->turn)
		return;
	il_turn_client_create_permission(p->turn, remote, 1, now_ms(p));
	reschedule(p);
}

sim_peer *sim_peer_new(il_sim *sim, int host, const char *name)
{
	sim_peer *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->sim = sim;
	p->host = host;
	p->tcp_conn = p->turn_sock = -1;
	snprintf(p->name, sizeof p->name, "%s", name);
	p->sock = il_sim_udp_bind(sim, host, NULL, base_recv, NULL, p, &p->st.host);
	if (p->sock < 0) {
		free(p);
		return NULL;
	}
	il_stun_txn_config tc;
	il_stun_txn_config_defaults(&tc, false);
	il_stun_txn_callbacks cb = {p, txn_send, txn_failed};
	il_stun_txn_table_init(&p->txn, p->slots, 2, &tc, &cb);
	return p;
}

void sim_peer_free(sim_peer *p)
{
	if (!p)
		return;
	il_turn_client_free(p->turn);
	free(p);
}

const sim_peer_state *sim_peer_get_state(const sim_peer *p)
{
	return &p->st;
}
