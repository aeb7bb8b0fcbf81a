/* Force-relay (issue #8 §4, sbc_relay.h) against the real TURN server
 * core (ref/turn) in memory: the bridge's leg B allocates on it, offers
 * only the relayed candidate, hears checks and media through it and
 * sends nothing from its own port but TURN; an allocation that fails
 * fails the offer; refreshes are scheduled; the policy's precedence. */
#include "sbc_test_util.h"

#include "icelab/sbc_relay.h"

#define TURN_USER "relayuser"
#define TURN_PASS "relaypass"
#define TURN_REALM "icelab.test"
#include "sbc_turn_test_util.h"
#define MAX_PEER_RX 256

typedef struct peer_rx {
	il_addr from, to;
	size_t len;
	uint8_t data[600];
} peer_rx;

/* The test's world: the bridge (t), the TURN server core, and what the
 * server relayed to peers. */
typedef struct tw {
	t_ctx t;
	t_turn_srv ts;               /* the TURN server core */
	il_turn_server *srv;         /* ts.srv */
	il_addr turn, relayed, web;  /* server, its relayed address, the browser's srflx */
	peer_rx to_peer[MAX_PEER_RX];
	size_t to_peer_count;
	size_t pumped;               /* t.sent delivered so far */
} tw;

static tw W;
static uint32_t media_timeout_ms = 60000; /* the next world's */

/* The server answers the bridge: the datagram arrives on the leg's bind. */
static void srv_to_client(void *user, const il_five_tuple *ft, const uint8_t *data, size_t len)
{
	tw *w = user;
	il_sbc_session_handle_datagram(w->t.s, &ft->remote, &ft->local, data, len, w->t.now);
}

static void srv_to_peer(void *user, const il_addr *relayed, const il_addr *peer,
			const uint8_t *data, size_t len)
{
	tw *w = user;
	assert_true(w->to_peer_count < MAX_PEER_RX);
	peer_rx *p = &w->to_peer[w->to_peer_count++];
	p->from = *relayed;
	p->to = *peer;
	p->len = len < sizeof p->data ? len : sizeof p->data;
	memcpy(p->data, data, p->len);
}

/* Delivers what the bridge sent to the TURN server (and what that made
 * the bridge send in turn). */
static void pump(tw *w)
{
	t_turn_pump(&w->ts, &w->turn, &w->t, &w->pumped);
}

/* A datagram from peer to the relayed address. */
static void peer_send(tw *w, const il_addr *peer, const uint8_t *data, size_t len)
{
	il_turn_server_handle_peer(w->srv, &w->relayed, peer, data, len, w->t.now);
	pump(w);
}

/* Leg B (the ICE leg) force-relayed; password: the bridge's. */
static tw *world(const char *password, bool pump_now)
{
	tw *w = &W;
	memset(w, 0, sizeof *w);
	t_config(&w->t);
	w->turn = a4(198, 51, 100, 1, 3478);
	w->relayed = a4(198, 51, 100, 1, 49152);
	w->web = a4(198, 51, 100, 3, 61000); /* WEB_ANSWER's srflx */
	w->ts.relayed = w->relayed;
	w->ts.user = w;
	w->ts.to_client = srv_to_client;
	w->ts.to_peer = srv_to_peer;
	t_turn_srv_start(&w->ts, TURN_REALM, 7);
	w->srv = w->ts.srv;
	w->t.cfg.turn_server = w->turn;
	w->t.cfg.turn_username = TURN_USER;
	w->t.cfg.turn_password = password;
	w->t.cfg.media_timeout_ms = media_timeout_ms;
	w->t.leg[1].force_relay = true;
	w->t.leg[1].rtcp_mux = false; /* force-relay offers rtcp-mux anyway */
	t_new(&w->t);
	if (pump_now)
		pump(w);
	return w;
}

static void world_free(tw *w)
{
	t_free(&w->t);
	il_turn_server_free(w->srv);
}

static uint16_t stun_type(const uint8_t *d, size_t len)
{
	return len >= 20 && d[0] < 4 ? (uint16_t)(d[0] << 8 | d[1]) : 0;
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, prefix)) != NULL; p++)
		n++;
	return n;
}

/* The bridge never sends from the relayed leg's ports to anything but
 * the TURN server. */
static void assert_leg_b_sends_only_to_turn(const tw *w)
{
	il_addr rtcp = w->t.leg[1].bind;
	rtcp.port++;
	for (size_t i = 0; i < w->t.sent_count; i++) {
		const t_sent *p = &w->t.sent[i];
		assert_false(il_addr_equal(&p->local, &rtcp));
		if (il_addr_equal(&p->local, &w->t.leg[1].bind))
			assert_true(il_addr_equal(&p->remote, &w->turn));
	}
}

static void test_offer_toward_relayed_leg_has_only_the_relay_candidate(void **state)
{
	(void)state;
	tw *w = world(TURN_PASS, true);
	const il_sbc_event *ev = t_last_event(&w->t, IL_SBC_EV_RELAY_READY);
	assert_non_null(ev);
	assert_int_equal(ev->leg, 1);
	assert_true(il_addr_equal(&ev->addr, &w->relayed));
	il_sdp_error err;
	int n = il_sbc_session_offer(w->t.s, IL_SBC_LEG_A, PHONE_OFFER, strlen(PHONE_OFFER),
				     w->t.offer_out, sizeof w->t.offer_out, w->t.now, &err);
	assert_true(n > 0);
	const char *o = w->t.offer_out;
	assert_int_equal(count_lines(o, "a=candidate:"), 1);
	assert_non_null(strstr(o, " 198.51.100.1 49152 typ relay raddr 0.0.0.0 rport 0\r\n"));
	assert_null(strstr(o, "typ host"));
	assert_null(strstr(o, "typ srflx"));
	assert_non_null(strstr(o, "c=IN IP4 198.51.100.1\r\n"));
	assert_non_null(strstr(o, "m=audio 49152 "));
	assert_non_null(strstr(o, "a=rtcp-mux"));
	assert_non_null(strstr(o, "a=ice-lite"));
	/* Neither our public nor our private address is named. */
	assert_null(strstr(o, "203.0.113.10"));
	assert_null(strstr(o, "10.0.0.5"));
	il_sbc_leg_stats b = t_leg(&w->t, 1);
	assert_true(b.force_relay);
	assert_int_equal(b.relay_state, IL_SBC_RELAY_READY);
	assert_true(il_addr_equal(&b.advertised, &w->relayed));
	/* The agent's only local candidate is the relayed one. */
	il_ice_agent *ag = il_sbc_session_ice_agent(w->t.s, 1);
	assert_int_equal(il_ice_agent_local_candidate_count(ag, 0), 1);
	assert_int_equal(il_ice_agent_local_candidate(ag, 0, 0)->type, IL_ICE_CAND_RELAY);
	assert_leg_b_sends_only_to_turn(w);
	world_free(w);
}

static void test_offer_before_the_allocation_is_pending(void **state)
{
	(void)state;
	tw *w = world(TURN_PASS, false);
	int n = il_sbc_session_offer(w->t.s, IL_SBC_LEG_A, PHONE_OFFER, strlen(PHONE_OFFER),
				     w->t.offer_out, sizeof w->t.offer_out, w->t.now, NULL);
	assert_int_equal(n, IL_SBC_ERR_RELAY_PENDING);
	assert_int_equal(il_sbc_session_state(w->t.s), IL_SBC_STATE_NEW);
	pump(w);
	n = il_sbc_session_offer(w->t.s, IL_SBC_LEG_A, PHONE_OFFER, strlen(PHONE_OFFER),
				 w->t.offer_out, sizeof w->t.offer_out, w->t.now, NULL);
	assert_true(n > 0);
	assert_non_null(strstr(w->t.offer_out, "typ relay"));
	world_free(w);
}

static void assert_offer_fails_without_host(tw *w, const char *why)
{
	strcpy(w->t.offer_out, "untouched");
	int n = il_sbc_session_offer(w->t.s, IL_SBC_LEG_A, PHONE_OFFER, strlen(PHONE_OFFER),
				     w->t.offer_out, sizeof w->t.offer_out, w->t.now, NULL);
	assert_int_equal(n, IL_SBC_ERR_RELAY);
	assert_null(strstr(w->t.offer_out, "candidate"));
	assert_null(strstr(w->t.offer_out, "203.0.113.10"));
	const char *e = il_sbc_session_relay_error(w->t.s, 1);
	if (!strstr(e, why))
		print_error("relay error: %s\n", e);
	assert_non_null(strstr(e, why));
	assert_int_equal(t_leg(&w->t, 1).relay_state, IL_SBC_RELAY_FAILED);
	assert_int_equal(t_count_events(&w->t, IL_SBC_EV_RELAY_FAILED), 1);
	assert_null(il_sbc_session_ice_agent(w->t.s, 1)); /* no agent, no host candidate */
}

static void test_allocation_refused_fails_the_offer(void **state)
{
	(void)state;
	tw *w = world("wrong-password", true);
	assert_offer_fails_without_host(w, "401");
	world_free(w);
}

static void test_unreachable_turn_server_fails_the_offer(void **state)
{
	(void)state;
	tw *w = world(TURN_PASS, false); /* nothing ever reaches the server */
	for (int i = 0; i < 100 && t_leg(&w->t, 1).relay_state == IL_SBC_RELAY_ALLOCATING; i++) {
		uint64_t d = il_sbc_session_next_deadline(w->t.s);
		assert_true(d != UINT64_MAX);
		w->t.now = d;
		il_sbc_session_timer(w->t.s, w->t.now);
	}
	assert_true(w->t.now < 1000 + 60000); /* RFC 8489 §6.2.1: 39.5 s at the defaults */
	assert_offer_fails_without_host(w, "timeout");
	world_free(w);
}

/* Runs the bridge's and the server's timers up to `until`, delivering
 * what they send; returns the STUN types the bridge sent the server. */
static void run_until(tw *w, uint64_t until, uint16_t *types, size_t *ntypes, size_t cap)
{
	for (;;) {
		uint64_t d = il_sbc_session_next_deadline(w->t.s);
		uint64_t ds = il_turn_server_next_deadline(w->srv);
		if (ds < d)
			d = ds;
		if (d > until)
			break;
		w->t.now = d > w->t.now ? d : w->t.now;
		size_t from = w->t.sent_count;
		il_sbc_session_timer(w->t.s, w->t.now);
		il_turn_server_timer(w->srv, w->t.now);
		for (size_t i = from; i < w->t.sent_count; i++)
			if (il_addr_equal(&w->t.sent[i].remote, &w->turn) && *ntypes < cap)
				types[(*ntypes)++] = stun_type(w->t.sent[i].data, w->t.sent[i].len);
		pump(w);
	}
	w->t.now = until;
}

static bool has_type(const uint16_t *types, size_t n, uint16_t type)
{
	for (size_t i = 0; i < n; i++)
		if (types[i] == type)
			return true;
	return false;
}

static void test_refreshes_are_scheduled_on_the_session_timer(void **state)
{
	(void)state;
	media_timeout_ms = 0; /* a call without media: it must not end */
	tw *w = world(TURN_PASS, true);
	media_timeout_ms = 60000;
	uint64_t start = w->t.now;
	/* The allocation (600 s) is refreshed a minute before it expires. */
	uint64_t d = il_sbc_session_next_deadline(w->t.s);
	assert_true(d > start + 60000 && d <= start + 540000);
	t_negotiate(&w->t);
	pump(w);
	assert_true(t_leg(&w->t, 1).relay_permissions >= 1);
	/* Permissions last 300 s (§9): refreshed before that. */
	assert_true(il_sbc_session_next_deadline(w->t.s) <= start + 300000);
	uint16_t types[256];
	size_t n = 0;
	run_until(w, start + 700000, types, &n, 256); /* past the first lifetime */
	assert_true(has_type(types, n, 0x0004)); /* Refresh */
	assert_true(has_type(types, n, 0x0008)); /* CreatePermission */
	assert_int_equal(t_leg(&w->t, 1).relay_state, IL_SBC_RELAY_READY);
	assert_int_equal(t_count_events(&w->t, IL_SBC_EV_RELAY_FAILED), 0);
	/* The permission still lets the browser through: its check is
	 * answered through the relay. */
	uint8_t buf[512];
	char user[600];
	snprintf(user, sizeof user, "%s:%s", w->t.ufrag_b, WEB_UFRAG);
	size_t len = build_check(buf, sizeof buf, user, w->t.pwd_b, false, 9);
	size_t before = w->to_peer_count;
	peer_send(w, &w->web, buf, len);
	assert_int_equal(w->to_peer_count, before + 1);
	assert_int_equal(stun_type(w->to_peer[before].data, w->to_peer[before].len), 0x0101);
	world_free(w);
}

/* A call that dies (media timeout) gives its relayed address back. */
static void test_ended_call_releases_its_allocation(void **state)
{
	(void)state;
	tw *w = world(TURN_PASS, true);
	t_negotiate(&w->t);
	pump(w);
	uint16_t types[256];
	size_t n = 0;
	run_until(w, w->t.now + 61000, types, &n, 256); /* the 60 s media timeout, then more */
	assert_int_equal(il_sbc_session_state(w->t.s), IL_SBC_STATE_ENDED);
	assert_true(has_type(types, n, 0x0004)); /* Refresh with LIFETIME 0 */
	assert_int_equal(t_leg(&w->t, 1).relay_state, IL_SBC_RELAY_FAILED);
	assert_non_null(strstr(il_sbc_session_relay_error(w->t.s, 1), "released"));
	/* Nothing more is scheduled for the relay. */
	size_t sent = w->t.sent_count;
	run_until(w, w->t.now + 700000, types, &n, 256);
	assert_int_equal(w->t.sent_count, sent);
	world_free(w);
}

static void test_checks_and_media_go_only_through_the_relay(void **state)
{
	(void)state;
	tw *w = world(TURN_PASS, true);
	t_negotiate(&w->t);
	pump(w);
	/* The srflx IP got its permission; the private host IP was not
	 * asked for (the server would refuse it). */
	assert_int_equal(t_leg(&w->t, 1).relay_permissions, 1);
	size_t asked = 0;
	for (size_t i = 0; i < w->t.sent_count; i++) {
		il_stun_msg m;
		if (stun_type(w->t.sent[i].data, w->t.sent[i].len) != 0x0008 || /* CreatePermission */
		    il_stun_decode(w->t.sent[i].data, w->t.sent[i].len, &m, NULL) != IL_STUN_OK)
			continue;
		const il_stun_attr *pa = il_stun_msg_find(&m, IL_ATTR_XOR_PEER_ADDRESS);
		il_addr peer;
		assert_non_null(pa);
		assert_int_equal(il_stun_attr_get_addr(&m, pa, &peer), IL_STUN_OK);
		assert_memory_equal(peer.ip, w->web.ip, 4); /* never 192.168.2.20 */
		asked++;
	}
	assert_true(asked >= 1);
	uint8_t buf[512];
	char user[600];
	snprintf(user, sizeof user, "%s:%s", w->t.ufrag_b, WEB_UFRAG);
	size_t len = build_check(buf, sizeof buf, user, w->t.pwd_b, true, 3);
	peer_send(w, &w->web, buf, len);
	/* Answered through the relay, from the relayed address. */
	assert_int_equal(w->to_peer_count, 1);
	assert_true(il_addr_equal(&w->to_peer[0].from, &w->relayed));
	assert_true(il_addr_equal(&w->to_peer[0].to, &w->web));
	assert_int_equal(stun_type(w->to_peer[0].data, w->to_peer[0].len), 0x0101);
	il_sbc_leg_stats b = t_leg(&w->t, 1);
	assert_true(b.has_selected);
	assert_true(il_addr_equal(&b.selected_remote, &w->web));
	assert_int_equal(b.relay_channels, 1); /* ChannelBind for the selected pair */
	/* Phone -> browser: out of the relayed address. */
	il_addr phone = a4(198, 51, 100, 2, 5000);
	assert_int_equal(t_rtp(&w->t, 0, &phone, 0, 100, 0x11111111), IL_SBC_DGRAM_FORWARDED);
	pump(w);
	const peer_rx *last = &w->to_peer[w->to_peer_count - 1];
	assert_true(il_addr_equal(&last->from, &w->relayed));
	assert_true(il_addr_equal(&last->to, &w->web));
	assert_int_equal(last->len, 172);
	assert_int_equal(last->data[0], 0x80);
	/* ... and it went to the server as ChannelData (channels 0x4000-0x4FFF). */
	bool channeldata = false;
	for (size_t i = 0; i < w->t.sent_count; i++)
		if (il_addr_equal(&w->t.sent[i].remote, &w->turn) && w->t.sent[i].len == 176 &&
		    (w->t.sent[i].data[0] & 0xf0) == 0x40)
			channeldata = true;
	assert_true(channeldata);
	/* Browser -> phone: through the relay, to the phone's latched source. */
	uint8_t rtp[172];
	make_rtp(rtp, 0, 7, 0x22222222);
	peer_send(w, &w->web, rtp, sizeof rtp);
	const t_sent *out = t_last_sent(&w->t);
	assert_true(il_addr_equal(&out->remote, &phone));
	assert_true(il_addr_equal(&out->local, &w->t.leg[0].bind));
	assert_int_equal(il_sbc_session_state(w->t.s), IL_SBC_STATE_CONNECTED);
	assert_non_null(strstr(w->t.connected_line, " b=ice local=relay 198.51.100.1:49152 remote="));
	assert_leg_b_sends_only_to_turn(w);
	/* A clean goodbye: Refresh with LIFETIME 0 on free. */
	size_t before = w->t.sent_count;
	il_sbc_session_free(w->t.s);
	w->t.s = NULL;
	assert_int_equal(w->t.sent_count, before + 1);
	assert_int_equal(stun_type(w->t.sent[before].data, w->t.sent[before].len), 0x0004);
	il_turn_server_free(w->srv);
}

/* The browser offers: the answer toward it is the relayed one. */
static void test_answer_toward_a_relayed_offerer(void **state)
{
	(void)state;
	tw *w = world(TURN_PASS, true);
	int n = il_sbc_session_offer(w->t.s, IL_SBC_LEG_B, WEB_ANSWER, strlen(WEB_ANSWER),
				     w->t.offer_out, sizeof w->t.offer_out, w->t.now, NULL);
	assert_true(n > 0);
	assert_null(strstr(w->t.offer_out, "a=candidate")); /* toward the phone: no ICE */
	pump(w);
	assert_int_equal(t_leg(&w->t, 1).relay_permissions, 1);
	n = il_sbc_session_answer(w->t.s, IL_SBC_LEG_A, PHONE_OFFER, strlen(PHONE_OFFER),
				  w->t.answer_out, sizeof w->t.answer_out, w->t.now, NULL);
	assert_true(n > 0);
	const char *a = w->t.answer_out;
	assert_int_equal(count_lines(a, "a=candidate:"), 1);
	assert_non_null(strstr(a, " 198.51.100.1 49152 typ relay "));
	assert_non_null(strstr(a, "c=IN IP4 198.51.100.1\r\n"));
	assert_null(strstr(a, "typ host"));
	assert_null(strstr(a, "203.0.113.10"));
	assert_leg_b_sends_only_to_turn(w);
	world_free(w);
}

static void test_direct_traffic_on_the_relayed_leg_is_dropped(void **state)
{
	(void)state;
	tw *w = world(TURN_PASS, true);
	t_negotiate(&w->t);
	pump(w);
	size_t before = w->t.sent_count;
	/* A valid check straight to the leg's port: never answered from it. */
	assert_int_equal(t_check(&w->t, &w->web, true), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(t_rtp(&w->t, 1, &w->web, 0, 1, 0x22222222), IL_SBC_DGRAM_DROPPED);
	assert_int_equal(w->t.sent_count, before);
	il_sbc_leg_stats b = t_leg(&w->t, 1);
	assert_int_equal(b.dropped[IL_SBC_DROP_NOT_RELAYED], 2);
	assert_false(b.has_selected);
	assert_string_equal(il_sbc_drop_name(IL_SBC_DROP_NOT_RELAYED), "not-relayed");
	world_free(w);
}

static void test_relayed_leg_without_ice_is_refused(void **state)
{
	(void)state;
	tw *w = world(TURN_PASS, true);
	int n = il_sbc_session_offer(w->t.s, IL_SBC_LEG_A, PHONE_OFFER, strlen(PHONE_OFFER),
				     w->t.offer_out, sizeof w->t.offer_out, w->t.now, NULL);
	assert_true(n > 0);
	/* The far end answers as a plain phone: no ICE, no rtcp-mux. */
	n = il_sbc_session_answer(w->t.s, IL_SBC_LEG_B, PHONE_OFFER, strlen(PHONE_OFFER),
				  w->t.answer_out, sizeof w->t.answer_out, w->t.now, NULL);
	assert_int_equal(n, IL_SBC_ERR_RELAY);
	assert_non_null(strstr(il_sbc_session_relay_error(w->t.s, 1), "ICE"));
	world_free(w);
}

static void test_force_relay_needs_an_ice_leg_and_a_server(void **state)
{
	(void)state;
	t_ctx *t = &W.t;
	t_config(t);
	il_sbc_callbacks cb = {.user = t, .random = t_random, .send = t_send};
	t->leg[1].force_relay = true;
	int err = 0;
	assert_null(il_sbc_session_new(&t->cfg, &t->leg[0], &t->leg[1], &cb, 0, &err));
	assert_int_equal(err, IL_SBC_ERR_ARGUMENT); /* no TURN server */
	t->cfg.turn_server = a4(198, 51, 100, 1, 3478);
	t->leg[1].ice = false;
	assert_null(il_sbc_session_new(&t->cfg, &t->leg[0], &t->leg[1], &cb, 0, &err));
	assert_int_equal(err, IL_SBC_ERR_ARGUMENT); /* a legacy leg cannot be relayed */
}

static void test_policy_most_specific_wins(void **state)
{
	(void)state;
	il_sbc_policy *p = il_sbc_policy_new();
	char err[160];
	assert_int_equal(il_sbc_policy_load(p,
					    "# force-relay rules\n"
					    "force-relay tenant=acme\n"
					    "\n"
					    "no-force-relay user=bob   # bob's phone needs direct\n"
					    "force-relay user=carol\n",
					    err, sizeof err),
			 0);
	assert_int_equal(il_sbc_policy_rule_count(p), 3);
	const char *why;
	/* tenant */
	assert_true(il_sbc_policy_force_relay(p, "acme", "alice", IL_SBC_RELAY_FLAG_UNSET, &why));
	assert_string_equal(why, "tenant");
	/* user beats tenant */
	assert_false(il_sbc_policy_force_relay(p, "acme", "bob", IL_SBC_RELAY_FLAG_UNSET, &why));
	assert_string_equal(why, "user");
	assert_true(il_sbc_policy_force_relay(p, "other", "carol", IL_SBC_RELAY_FLAG_UNSET, &why));
	assert_string_equal(why, "user");
	/* session beats user and tenant, both ways */
	assert_true(il_sbc_policy_force_relay(p, "acme", "bob", IL_SBC_RELAY_FLAG_ON, &why));
	assert_string_equal(why, "session");
	assert_false(il_sbc_policy_force_relay(p, "acme", "carol", IL_SBC_RELAY_FLAG_OFF, &why));
	assert_string_equal(why, "session");
	/* nothing said: off */
	assert_false(il_sbc_policy_force_relay(p, "other", "dave", IL_SBC_RELAY_FLAG_UNSET, &why));
	assert_string_equal(why, "default");
	assert_false(il_sbc_policy_force_relay(NULL, NULL, NULL, IL_SBC_RELAY_FLAG_UNSET, &why));
	/* The ng protocol's ICE=force-relay is the session flag. */
	assert_int_equal(il_sbc_relay_flag_from_ng("force-relay"), IL_SBC_RELAY_FLAG_ON);
	assert_int_equal(il_sbc_relay_flag_from_ng("force"), IL_SBC_RELAY_FLAG_UNSET);
	assert_int_equal(il_sbc_relay_flag_from_ng(NULL), IL_SBC_RELAY_FLAG_UNSET);
	assert_true(il_sbc_policy_force_relay(p, "acme", "bob", il_sbc_relay_flag_from_ng("force-relay"),
					      NULL));
	/* A later rule for the same name replaces the earlier one. */
	assert_int_equal(il_sbc_policy_add_line(p, "no-force-relay tenant=acme", err, sizeof err), 0);
	assert_false(il_sbc_policy_force_relay(p, "acme", "alice", IL_SBC_RELAY_FLAG_UNSET, NULL));
	assert_int_equal(il_sbc_policy_rule_count(p), 3);
	il_sbc_policy_free(p);
}

static void test_policy_bad_lines_are_refused_whole(void **state)
{
	(void)state;
	il_sbc_policy *p = il_sbc_policy_new();
	char err[160];
	assert_int_equal(il_sbc_policy_load(p, "force-relay user=ok\nforce-relay team=x\n", err,
					    sizeof err),
			 -1);
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "user=NAME or tenant=NAME"));
	assert_int_equal(il_sbc_policy_rule_count(p), 0); /* nothing of the bad file kept */
	assert_int_equal(il_sbc_policy_add_line(p, "force-relay user=", err, sizeof err), -1);
	assert_int_equal(il_sbc_policy_add_line(p, "force-relay user=a b", err, sizeof err), -1);
	assert_int_equal(il_sbc_policy_add_line(p, "force-relay user=a;b", err, sizeof err), -1);
	assert_non_null(strstr(err, "bad character"));
	assert_int_equal(il_sbc_policy_add_line(p, "relay-please user=a", err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown rule"));
	assert_int_equal(il_sbc_policy_add_line(p, "   # only a comment", err, sizeof err), 0);
	assert_int_equal(il_sbc_policy_rule_count(p), 0);
	il_sbc_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_toward_relayed_leg_has_only_the_relay_candidate),
		cmocka_unit_test(test_offer_before_the_allocation_is_pending),
		cmocka_unit_test(test_allocation_refused_fails_the_offer),
		cmocka_unit_test(test_unreachable_turn_server_fails_the_offer),
		cmocka_unit_test(test_refreshes_are_scheduled_on_the_session_timer),
		cmocka_unit_test(test_ended_call_releases_its_allocation),
		cmocka_unit_test(test_checks_and_media_go_only_through_the_relay),
		cmocka_unit_test(test_answer_toward_a_relayed_offerer),
		cmocka_unit_test(test_direct_traffic_on_the_relayed_leg_is_dropped),
		cmocka_unit_test(test_relayed_leg_without_ice_is_refused),
		cmocka_unit_test(test_force_relay_needs_an_ice_leg_and_a_server),
		cmocka_unit_test(test_policy_most_specific_wins),
		cmocka_unit_test(test_policy_bad_lines_are_refused_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
