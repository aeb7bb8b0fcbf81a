/* End to end in memory: the TURN client core against the TURN server core,
 * over UDP and over TCP, with virtual time. Allocate (401 challenge,
 * whatever algorithm the server offers), permission, Send/Data
 * indications, channel, ChannelData both ways, twenty minutes of refreshes
 * (nonces going stale on the way: 438), release. Nothing is scripted: each
 * side only sees the other's bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/channeldata.h"
#include "icelab/peer_policy.h"
#include "icelab/stun_integrity.h"
#include "icelab/turn_client.h"
#include "icelab/turn_server.h"

#define QUEUE_MAX 32
#define PKT_MAX 2048

typedef struct packet {
	uint8_t data[PKT_MAX];
	size_t len;
} packet;

typedef struct queue {
	packet pkts[QUEUE_MAX];
	unsigned head, count;
} queue;

typedef struct world {
	il_turn_client *client;
	il_turn_server *server;
	il_peer_policy policy;
	il_five_tuple ft;
	bool stream;
	uint64_t now;
	uint32_t rng;
	queue to_server, to_client;
	il_stream server_in;     /* TCP: the server's framing of client bytes */
	uint8_t server_in_buf[65536 + 8];
	/* what happened */
	int events[16];
	il_turn_client_event last_event;
	packet at_peer;          /* last datagram the relay sent to the peer */
	unsigned peer_packets;
	packet at_client;        /* last data the client got from the peer */
	il_addr at_client_from;
	unsigned client_data;
	int relay_closes;
} world;

static world *W;

static const char *const RELAY = "198.51.100.1:50000";
static const char *const PEER = "192.0.2.10:7000";

static il_addr addr(const char *text)
{
	il_addr a;
	assert_int_equal(il_addr_parse(text, &a), 0);
	return a;
}

static void push(queue *q, const uint8_t *data, size_t len)
{
	assert_true(q->count < QUEUE_MAX);
	assert_true(len <= PKT_MAX);
	packet *p = &q->pkts[(q->head + q->count++) % QUEUE_MAX];
	memcpy(p->data, data, len);
	p->len = len;
}

static void det_random(uint32_t *state, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		*state = *state * 1664525u + 1013904223u;
		out[i] = (uint8_t)(*state >> 24);
	}
}

/* ---- client side ---- */

static void c_random(void *user, uint8_t *out, size_t len)
{
	det_random(&((world *)user)->rng, out, len);
}

static void c_send(void *user, const uint8_t *data, size_t len)
{
	push(&((world *)user)->to_server, data, len);
}

static void c_event(void *user, const il_turn_client_event *ev)
{
	world *w = user;
	if (ev->type >= 0 && ev->type < 16)
		w->events[ev->type]++;
	w->last_event = *ev;
	w->last_event.reason = "";
}

static void c_data(void *user, const il_addr *peer, const uint8_t *data, size_t len)
{
	world *w = user;
	assert_true(len <= PKT_MAX);
	memcpy(w->at_client.data, data, len);
	w->at_client.len = len;
	w->at_client_from = *peer;
	w->client_data++;
}

/* ---- server side ---- */

static void s_random(void *user, uint8_t *out, size_t len)
{
	static uint32_t state = 7;
	(void)user;
	det_random(&state, out, len);
}

static void s_send_to_client(void *user, const il_five_tuple *ft, const uint8_t *data,
			     size_t len)
{
	(void)ft;
	push(&((world *)user)->to_client, data, len);
}

static void s_send_to_peer(void *user, const il_addr *relayed, const il_addr *peer,
			   const uint8_t *data, size_t len, bool df)
{
	world *w = user;
	(void)relayed;
	(void)df;
	il_addr expected = addr(PEER);
	assert_true(il_addr_equal(peer, &expected));
	assert_true(len <= PKT_MAX);
	memcpy(w->at_peer.data, data, len);
	w->at_peer.len = len;
	w->peer_packets++;
}

static int s_relay_open(void *user, uint8_t family, uint8_t transport, bool even_port,
			bool reserve_next, const uint8_t *token, il_addr *relayed,
			uint8_t token_out[8])
{
	(void)user, (void)transport, (void)even_port, (void)reserve_next, (void)token;
	(void)token_out;
	if (family != IL_AF_INET)
		return -1;
	*relayed = addr(RELAY);
	return 0;
}

static void s_relay_close(void *user, const il_addr *relayed)
{
	(void)relayed;
	((world *)user)->relay_closes++;
}

static bool s_key_lookup(void *user, const char *realm, const char *username,
			 enum il_stun_password_algorithm alg, uint64_t now_s, il_stun_key *key)
{
	(void)user, (void)now_s;
	return strcmp(username, "alice") == 0 &&
	       il_stun_key_long_term(key, alg, username, realm, "secret") == IL_STUN_OK;
}

/* ---- the world ---- */

static void deliver_to_server(world *w, const packet *p)
{
	if (!w->stream) {
		il_turn_server_handle_client(w->server, &w->ft, p->data, p->len, w->now);
		return;
	}
	assert_int_equal(il_stream_push(&w->server_in, p->data, p->len), p->len);
	il_stream_frame f;
	while (il_stream_next(&w->server_in, &f, NULL) == 1)
		il_turn_server_handle_client(w->server, &w->ft, f.bytes, f.len, w->now);
}

/* Delivers queued messages both ways until nothing moves. */
static void pump(world *w)
{
	while (w->to_server.count || w->to_client.count) {
		while (w->to_server.count) {
			packet p = w->to_server.pkts[w->to_server.head];
			w->to_server.head = (w->to_server.head + 1) % QUEUE_MAX;
			w->to_server.count--;
			deliver_to_server(w, &p);
		}
		while (w->to_client.count) {
			packet p = w->to_client.pkts[w->to_client.head];
			w->to_client.head = (w->to_client.head + 1) % QUEUE_MAX;
			w->to_client.count--;
			if (w->stream)
				il_turn_client_handle_stream(w->client, p.data, p.len, w->now);
			else
				il_turn_client_handle_datagram(w->client, p.data, p.len, w->now);
		}
	}
}

/* Runs both cores' timers in deadline order up to t. */
static void run_until(world *w, uint64_t t)
{
	pump(w);
	for (;;) {
		uint64_t dc = il_turn_client_next_deadline(w->client);
		uint64_t ds = il_turn_server_next_deadline(w->server);
		uint64_t d = dc < ds ? dc : ds;
		if (d > t)
			break;
		if (d > w->now)
			w->now = d;
		if (dc <= w->now)
			il_turn_client_timer(w->client, w->now);
		if (ds <= w->now)
			il_turn_server_timer(w->server, w->now);
		pump(w);
	}
	w->now = t;
}

static int setup_world(void **state, bool stream, bool offer_md5)
{
	world *w = test_calloc(1, sizeof *w);
	W = w;
	w->stream = stream;
	w->now = 5000;
	w->rng = 99;
	w->ft.local = addr("198.51.100.1:3478");
	w->ft.remote = addr("203.0.113.5:40000");
	w->ft.transport = stream ? IL_TRANSPORT_TCP : IL_TRANSPORT_UDP;
	il_stream_init(&w->server_in, w->server_in_buf, sizeof w->server_in_buf);

	il_peer_policy_init(&w->policy);
	il_cidr lab;
	assert_int_equal(il_cidr_parse("192.0.2.0/24", &lab), 0);
	il_peer_policy_allow(&w->policy, &lab);
	il_turn_server_config scfg;
	il_turn_server_config_defaults(&scfg);
	scfg.realm = "example.org";
	scfg.allow_md5 = offer_md5;
	scfg.peers = &w->policy;
	scfg.key_lookup = s_key_lookup;
	for (int i = 0; i < 32; i++)
		scfg.nonce_secret[i] = (uint8_t)(i + 1);
	il_turn_server_callbacks scb = {.user = w, .random = s_random,
					.send_to_client = s_send_to_client,
					.send_to_peer = s_send_to_peer, .relay_open = s_relay_open,
					.relay_close = s_relay_close};
	w->server = il_turn_server_new(&scfg, &scb);
	assert_non_null(w->server);

	il_turn_client_config ccfg;
	il_turn_client_config_defaults(&ccfg);
	ccfg.username = "alice";
	ccfg.password = "secret";
	ccfg.software = "icelab-e2e";
	ccfg.stream = stream;
	il_turn_client_callbacks ccb = {.user = w, .random = c_random, .send = c_send,
					.event = c_event, .data = c_data};
	w->client = il_turn_client_new(&ccfg, &ccb);
	assert_non_null(w->client);
	*state = w;
	return 0;
}

static int setup_udp(void **state)
{
	return setup_world(state, false, true);
}

static int setup_tcp(void **state)
{
	return setup_world(state, true, true);
}

static int setup_udp_sha256_only(void **state)
{
	return setup_world(state, false, false);
}

static int teardown_world(void **state)
{
	world *w = *state;
	il_turn_client_free(w->client);
	il_turn_server_free(w->server);
	test_free(w);
	return 0;
}

/* ---- the scenario ---- */

static void peer_sends(world *w, const char *text)
{
	il_addr relayed = addr(RELAY), peer = addr(PEER);
	il_turn_server_handle_peer(w->server, &relayed, &peer, (const uint8_t *)text, strlen(text),
				   w->now);
	pump(w);
}

static void client_sends(world *w, const char *text)
{
	il_addr peer = addr(PEER);
	assert_int_equal(il_turn_client_send(w->client, &peer, (const uint8_t *)text, strlen(text),
					     w->now),
			 IL_TURN_CLIENT_OK);
	pump(w);
}

static void assert_at_peer(world *w, const char *text)
{
	assert_int_equal(w->at_peer.len, strlen(text));
	assert_memory_equal(w->at_peer.data, text, strlen(text));
}

static void assert_at_client(world *w, const char *text)
{
	il_addr peer = addr(PEER);
	assert_int_equal(w->at_client.len, strlen(text));
	assert_memory_equal(w->at_client.data, text, strlen(text));
	assert_true(il_addr_equal(&w->at_client_from, &peer));
}

static void test_allocate_permission_channel_data_both_ways(void **state)
{
	world *w = *state;
	il_addr peer = addr(PEER), relay = addr(RELAY);

	assert_int_equal(il_turn_client_allocate(w->client, w->now), IL_TURN_CLIENT_OK);
	pump(w);
	assert_int_equal(w->events[IL_TURN_CLIENT_EV_ALLOCATED], 1);
	assert_true(il_addr_equal(&w->last_event.relayed[0], &relay));
	assert_true(il_addr_equal(&w->last_event.mapped, &w->ft.remote));
	assert_int_equal(w->last_event.lifetime_s, 600);

	assert_int_equal(il_turn_client_create_permission(w->client, &peer, 1, w->now),
			 IL_TURN_CLIENT_OK);
	pump(w);
	assert_int_equal(w->events[IL_TURN_CLIENT_EV_PERMISSION_OK], 1);

	/* Send and Data indications. */
	client_sends(w, "ping");
	assert_int_equal(w->peer_packets, 1);
	assert_at_peer(w, "ping");
	peer_sends(w, "pong");
	assert_int_equal(w->client_data, 1);
	assert_at_client(w, "pong");

	/* ChannelData, odd lengths to exercise stream padding. */
	uint16_t ch = 0;
	assert_int_equal(il_turn_client_bind_channel(w->client, &peer, &ch, w->now),
			 IL_TURN_CLIENT_OK);
	pump(w);
	assert_int_equal(w->events[IL_TURN_CLIENT_EV_CHANNEL_BOUND], 1);
	assert_int_equal(il_turn_client_channel(w->client, &peer), ch);
	client_sends(w, "ping2");
	assert_int_equal(w->peer_packets, 2);
	assert_at_peer(w, "ping2");
	peer_sends(w, "pong-2!");
	assert_int_equal(w->client_data, 2);
	assert_at_client(w, "pong-2!");

	/* Twenty minutes: allocation, permission and channel refreshed by
	 * the client's own timers; nonces go stale (438) and are renewed. */
	run_until(w, w->now + 20 * 60 * 1000);
	assert_int_equal(w->events[IL_TURN_CLIENT_EV_ALLOCATION_LOST], 0);
	assert_int_equal(w->events[IL_TURN_CLIENT_EV_REFRESH_FAILED], 0);
	assert_int_equal(w->events[IL_TURN_CLIENT_EV_PERMISSION_FAILED], 0);
	assert_int_equal(w->events[IL_TURN_CLIENT_EV_CHANNEL_FAILED], 0);
	assert_true(w->events[IL_TURN_CLIENT_EV_REFRESHED] >= 2);
	client_sends(w, "still here");
	assert_at_peer(w, "still here");
	peer_sends(w, "me too");
	assert_at_client(w, "me too");

	assert_int_equal(il_turn_client_release(w->client, w->now), IL_TURN_CLIENT_OK);
	pump(w);
	assert_int_equal(w->events[IL_TURN_CLIENT_EV_RELEASED], 1);
	assert_int_equal(w->last_event.failure, IL_TURN_CLIENT_FAIL_NONE);
	assert_int_equal(w->relay_closes, 1);
	il_turn_server_stats st;
	il_turn_server_get_stats(w->server, &st);
	assert_int_equal(st.allocations, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{"test_end_to_end_over_udp", test_allocate_permission_channel_data_both_ways,
		 setup_udp, teardown_world, NULL},
		{"test_end_to_end_over_tcp", test_allocate_permission_channel_data_both_ways,
		 setup_tcp, teardown_world, NULL},
		{"test_end_to_end_with_sha256_only_server",
		 test_allocate_permission_channel_data_both_ways, setup_udp_sha256_only,
		 teardown_world, NULL},
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
