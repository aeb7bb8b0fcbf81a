/* The ICE driver on real loopback sockets: two drivers in one event loop
 * exchange their SDP, connect, and carry media both ways; a lite one
 * against a full one; the SDP we write reads back; bad input is refused;
 * gathering through the gatherer: at once without servers, relay-only
 * never offers a host candidate and needs a TURN server.
 * Every run is bounded by a 10 s guard timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "icelab/ice_driver.h"
#include "icelab/sdp.h"

#define PACKETS 20

typedef struct side {
	il_ice_driver *d;
	int state;
	bool selected;
	unsigned received;
	unsigned sent;
	struct event_base *base;
} side;

static side sides[2];
static struct event_base *loop_base;
static bool guard_fired;

static void on_event(void *user, const il_ice_event *ev)
{
	side *s = user;
	if (ev->type == IL_ICE_EV_STATE)
		s->state = ev->state;
	if (ev->type == IL_ICE_EV_SELECTED_PAIR && ev->pair)
		s->selected = true;
}

static void on_data(void *user, unsigned component, const uint8_t *data, size_t len)
{
	side *s = user;
	if (component == 1 && len >= 4 && memcmp(data, "ping", 4) == 0)
		s->received++;
}

static bool done(void)
{
	for (int i = 0; i < 2; i++)
		if (sides[i].received < PACKETS || sides[i].sent < PACKETS)
			return false;
	return true;
}

/* Every 10 ms: each connected side sends one packet until PACKETS. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	for (int i = 0; i < 2; i++) {
		side *s = &sides[i];
		bool up = s->state == IL_ICE_STATE_CONNECTED || s->state == IL_ICE_STATE_COMPLETED;
		if (up && s->sent < PACKETS && il_ice_driver_send(s->d, 1, (const uint8_t *)"ping", 4) == 0)
			s->sent++;
	}
	if (done())
		event_base_loopbreak(loop_base);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	guard_fired = true;
	event_base_loopbreak(loop_base);
}

static il_ice_driver *make_driver(side *s, bool controlling, bool lite)
{
	il_ice_driver_config cfg;
	il_ice_driver_config_defaults(&cfg);
	cfg.ice.controlling = controlling;
	cfg.ice.lite = lite;
	cfg.ice.nomination_wait_ms = 200;
	il_addr_parse("127.0.0.1:0", &cfg.local[0]);
	cfg.local_count = 1;
	il_ice_driver_callbacks cb = {.user = s, .event = on_event, .data = on_data};
	char err[200] = "";
	il_ice_driver *d = il_ice_driver_new(loop_base, &cfg, &cb, err, sizeof err);
	if (!d)
		fail_msg("il_ice_driver_new: %s", err);
	return d;
}

/* Writes a's SDP, parses it, gives it to b. */
static void introduce(il_ice_driver *a, il_ice_driver *b)
{
	char text[4096];
	int len = il_ice_driver_local_sdp(a, text, sizeof text);
	assert_true(len > 0);
	il_sdp_session *sdp = calloc(1, sizeof *sdp);
	assert_non_null(sdp);
	il_sdp_error perr;
	assert_int_equal(il_sdp_parse(text, (size_t)len, sdp, &perr), IL_SDP_OK);
	char err[200] = "";
	size_t skipped = 99;
	assert_int_equal(il_ice_driver_set_remote_sdp(b, sdp, 0, &skipped, err, sizeof err), 0);
	assert_int_equal(skipped, 0);
	free(sdp);
}

static void run_pair(bool lite_b)
{
	memset(sides, 0, sizeof sides);
	guard_fired = false;
	loop_base = event_base_new();
	assert_non_null(loop_base);
	sides[0].d = make_driver(&sides[0], true, false);
	sides[1].d = make_driver(&sides[1], false, lite_b);
	introduce(sides[0].d, sides[1].d);
	introduce(sides[1].d, sides[0].d);
	assert_int_equal(il_ice_driver_start(sides[0].d), 0);
	assert_int_equal(il_ice_driver_start(sides[1].d), 0);
	struct event *tick = event_new(loop_base, -1, EV_PERSIST, on_tick, NULL);
	struct event *guard = evtimer_new(loop_base, on_guard, NULL);
	struct timeval ten_ms = {0, 10000}, ten_s = {10, 0};
	event_add(tick, &ten_ms);
	evtimer_add(guard, &ten_s);
	event_base_dispatch(loop_base);

	assert_false(guard_fired);
	for (int i = 0; i < 2; i++) {
		assert_true(sides[i].selected);
		assert_int_equal(sides[i].sent, PACKETS);
		assert_int_equal(sides[i].received, PACKETS);
		il_ice_pair_stats st;
		assert_int_equal(il_ice_agent_get_selected_pair(il_ice_driver_agent(sides[i].d), 0, 1, &st),
				 0);
		assert_int_equal(st.local.type, IL_ICE_CAND_HOST);
		assert_int_equal(st.remote.type, IL_ICE_CAND_HOST);
		assert_true(st.packets_received >= PACKETS);
		il_ice_driver_counters c;
		il_ice_driver_get_counters(sides[i].d, &c);
		assert_int_equal(c.send_errors, 0);
	}
	assert_true(il_ice_agent_is_controlling(il_ice_driver_agent(sides[0].d)));
	assert_false(il_ice_agent_is_controlling(il_ice_driver_agent(sides[1].d)));
	event_free(tick);
	event_free(guard);
	il_ice_driver_free(sides[0].d);
	il_ice_driver_free(sides[1].d);
	event_base_free(loop_base);
}

static void test_two_full_drivers_connect_on_loopback_and_carry_media_both_ways(void **state)
{
	(void)state;
	run_pair(false);
}

static void test_full_driver_connects_to_lite_driver(void **state)
{
	(void)state;
	run_pair(true);
}

static void test_local_sdp_reads_back_with_credentials_candidate_and_lite(void **state)
{
	(void)state;
	loop_base = event_base_new();
	side s = {0};
	il_ice_driver *d = make_driver(&s, false, true);
	char text[4096];
	int len = il_ice_driver_local_sdp(d, text, sizeof text);
	assert_true(len > 0);
	il_sdp_session *sdp = calloc(1, sizeof *sdp);
	il_sdp_error perr;
	assert_int_equal(il_sdp_parse(text, (size_t)len, sdp, &perr), IL_SDP_OK);
	il_ice_agent *a = il_ice_driver_agent(d);
	assert_true(sdp->ice_lite);
	assert_int_equal(sdp->media_count, 1);
	assert_string_equal(il_sdp_media_ufrag(sdp, &sdp->media[0]), il_ice_agent_local_ufrag(a, 0));
	assert_string_equal(il_sdp_media_pwd(sdp, &sdp->media[0]), il_ice_agent_local_pwd(a, 0));
	assert_int_equal(sdp->media[0].candidate_count, 1);
	const il_ice_candidate *c = &sdp->media[0].candidates[0].cand;
	assert_true(il_addr_equal(&c->addr, &il_ice_agent_local_candidate(a, 0, 0)->addr));
	assert_int_not_equal(c->addr.port, 0);
	assert_int_equal(c->type, IL_ICE_CAND_HOST);
	assert_true(sdp->media[0].ice.end_of_candidates);
	assert_true(sdp->media[0].rtcp_mux);
	free(sdp);
	il_ice_driver_free(d);
	event_base_free(loop_base);
}

static void test_wildcard_local_address_is_refused(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	il_ice_driver_config cfg;
	il_ice_driver_config_defaults(&cfg);
	il_addr_parse("0.0.0.0:0", &cfg.local[0]);
	cfg.local_count = 1;
	char err[200] = "";
	assert_null(il_ice_driver_new(base, &cfg, NULL, err, sizeof err));
	assert_non_null(strstr(err, "wildcard"));
	cfg.local_count = 0;
	assert_null(il_ice_driver_new(base, &cfg, NULL, err, sizeof err));
	event_base_free(base);
}

static void count_gathered(void *user)
{
	(*(int *)user)++;
}

static void test_gathering_ends_inside_new_without_servers(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	il_ice_driver_config cfg;
	il_ice_driver_config_defaults(&cfg);
	il_addr_parse("127.0.0.1:0", &cfg.local[0]);
	cfg.local_count = 1;
	int gathered = 0;
	il_ice_driver_callbacks cb = {.user = &gathered, .gathered = count_gathered};
	char err[200] = "";
	il_ice_driver *d = il_ice_driver_new(base, &cfg, &cb, err, sizeof err);
	assert_non_null(d);
	assert_int_equal(gathered, 1);
	assert_true(il_ice_driver_gathering_done(d));
	il_ice_gather_stats gs;
	il_ice_driver_get_gather_stats(d, &gs);
	assert_int_equal(gs.host, 1);
	assert_int_equal(gs.relay, 0);
	char sdp[4096];
	assert_true(il_ice_driver_local_sdp(d, sdp, sizeof sdp) > 0);
	assert_non_null(strstr(sdp, "typ host"));
	assert_non_null(strstr(sdp, "a=end-of-candidates"));
	il_ice_driver_free(d);
	event_base_free(base);
}

static void test_relay_only_policy_without_turn_server_is_refused(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	il_ice_driver_config cfg;
	il_ice_driver_config_defaults(&cfg);
	il_addr_parse("127.0.0.1:0", &cfg.local[0]);
	cfg.local_count = 1;
	cfg.policy = IL_ICE_GATHER_RELAY_ONLY;
	char err[200] = "";
	assert_null(il_ice_driver_new(base, &cfg, NULL, err, sizeof err));
	assert_non_null(strstr(err, "TURN server"));
	event_base_free(base);
}

/* Relay-only while the allocation is pending: the agent has no candidate
 * at all, the SDP offers no host one and does not claim the end. */
static void test_relay_only_offers_no_host_candidate_while_allocating(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	il_ice_driver_config cfg;
	il_ice_driver_config_defaults(&cfg);
	il_addr_parse("127.0.0.1:0", &cfg.local[0]);
	cfg.local_count = 1;
	cfg.policy = IL_ICE_GATHER_RELAY_ONLY;
	il_addr_parse("127.0.0.1:9", &cfg.turn[0].server); /* discard: nobody answers */
	cfg.turn[0].transport = IL_ICE_SERVER_UDP;
	cfg.turn[0].username = "alice";
	cfg.turn[0].password = "secret";
	cfg.turn_count = 1;
	int gathered = 0;
	il_ice_driver_callbacks cb = {.user = &gathered, .gathered = count_gathered};
	char err[200] = "";
	il_ice_driver *d = il_ice_driver_new(base, &cfg, &cb, err, sizeof err);
	assert_non_null(d);
	assert_int_equal(gathered, 0);
	assert_false(il_ice_driver_gathering_done(d));
	assert_int_equal(il_ice_agent_local_candidate_count(il_ice_driver_agent(d), 0), 0);
	char sdp[4096];
	assert_true(il_ice_driver_local_sdp(d, sdp, sizeof sdp) > 0);
	assert_null(strstr(sdp, "a=candidate"));
	assert_null(strstr(sdp, "a=end-of-candidates"));
	il_ice_driver_counters c;
	il_ice_driver_get_counters(d, &c);
	assert_int_equal(c.datagrams_sent, 1); /* the Allocate request, from the host socket */
	il_ice_driver_free(d);
	event_base_free(base);
}

static void test_remote_sdp_with_only_tcp_candidates_is_refused(void **state)
{
	(void)state;
	loop_base = event_base_new();
	side s = {0};
	il_ice_driver *d = make_driver(&s, true, false);
	static const char text[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
				   "m=audio 9 RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\n"
				   "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwxyz\r\n"
				   "a=candidate:2 1 TCP 1015022591 127.0.0.1 9 typ host tcptype active\r\n";
	il_sdp_session *sdp = calloc(1, sizeof *sdp);
	il_sdp_error perr;
	assert_int_equal(il_sdp_parse(text, sizeof text - 1, sdp, &perr), IL_SDP_OK);
	char err[200] = "";
	size_t skipped = 0;
	assert_int_equal(il_ice_driver_set_remote_sdp(d, sdp, 0, &skipped, err, sizeof err), -1);
	assert_int_equal(skipped, 1);
	assert_non_null(strstr(err, "no usable UDP candidate"));
	assert_int_equal(il_ice_driver_set_remote_sdp(d, sdp, 1, NULL, err, sizeof err), -1);
	free(sdp);
	il_ice_driver_free(d);
	event_base_free(loop_base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_full_drivers_connect_on_loopback_and_carry_media_both_ways),
		cmocka_unit_test(test_full_driver_connects_to_lite_driver),
		cmocka_unit_test(test_local_sdp_reads_back_with_credentials_candidate_and_lite),
		cmocka_unit_test(test_wildcard_local_address_is_refused),
		cmocka_unit_test(test_remote_sdp_with_only_tcp_candidates_is_refused),
		cmocka_unit_test(test_gathering_ends_inside_new_without_servers),
		cmocka_unit_test(test_relay_only_policy_without_turn_server_is_refused),
		cmocka_unit_test(test_relay_only_offers_no_host_candidate_while_allocating),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
