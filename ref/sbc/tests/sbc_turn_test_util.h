/* The TURN server core (ref/turn) in memory, for the SBC tests that
 * force-relay a leg: long-term credentials TURN_USER / TURN_PASS (the
 * including test defines them), every allocation on t->relayed, and what
 * the server sends to the client or to peers handed to the test's
 * to_client / to_peer with t->user. Header-only. */
#ifndef SBC_TURN_TEST_UTIL_H
#define SBC_TURN_TEST_UTIL_H

#include "icelab/peer_policy.h"
#include "icelab/turn_server.h"

typedef struct t_turn_srv {
	il_turn_server *srv;
	il_peer_policy peers;
	il_addr relayed;
	uint64_t rng;
	void *user;
	void (*to_client)(void *user, const il_five_tuple *ft, const uint8_t *data, size_t len);
	void (*to_peer)(void *user, const il_addr *relayed, const il_addr *peer,
			const uint8_t *data, size_t len);
} t_turn_srv;

static inline void t_turn_random(void *user, uint8_t *out, size_t len)
{
	t_turn_srv *t = user;
	for (size_t i = 0; i < len; i++) {
		t->rng = t->rng * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (uint8_t)(t->rng >> 33);
	}
}

static inline void t_turn_to_client(void *user, const il_five_tuple *ft, const uint8_t *data,
				    size_t len)
{
	t_turn_srv *t = user;
	t->to_client(t->user, ft, data, len);
}

static inline void t_turn_to_peer(void *user, const il_addr *relayed, const il_addr *peer,
				  const uint8_t *data, size_t len, bool df)
{
	(void)df;
	t_turn_srv *t = user;
	if (t->to_peer)
		t->to_peer(t->user, relayed, peer, data, len);
}

static inline int t_turn_relay_open(void *user, uint8_t family, uint8_t transport, bool even_port,
				    bool reserve_next, const uint8_t *token, il_addr *relayed,
				    uint8_t token_out[8])
{
	(void)family, (void)transport, (void)even_port, (void)reserve_next, (void)token,
		(void)token_out;
	*relayed = ((t_turn_srv *)user)->relayed;
	return 0;
}

static inline void t_turn_relay_close(void *user, const il_addr *relayed)
{
	(void)user, (void)relayed;
}

static inline bool t_turn_key(void *user, const char *realm, const char *username,
			      enum il_stun_password_algorithm alg, uint64_t now_s, il_stun_key *key)
{
	(void)user, (void)now_s;
	return !strcmp(username, TURN_USER) &&
	       il_stun_key_long_term(key, alg, username, realm, TURN_PASS) == IL_STUN_OK;
}

/* t->relayed, t->user, t->to_client (and to_peer) set before. */
static inline void t_turn_srv_start(t_turn_srv *t, const char *realm, uint64_t seed)
{
	t->rng = seed;
	il_peer_policy_init(&t->peers);
	il_turn_server_config sc;
	il_turn_server_config_defaults(&sc);
	sc.realm = realm;
	sc.peers = &t->peers;
	sc.key_lookup = t_turn_key;
	memset(sc.nonce_secret, 0x5a, sizeof sc.nonce_secret);
	il_turn_server_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.user = t;
	cb.random = t_turn_random;
	cb.send_to_client = t_turn_to_client;
	cb.send_to_peer = t_turn_to_peer;
	cb.relay_open = t_turn_relay_open;
	cb.relay_close = t_turn_relay_close;
	t->srv = il_turn_server_new(&sc, &cb);
	assert_non_null(t->srv);
}

/* Delivers to the server (at turn) what the bridge of t sent it since
 * *pumped, and what that made the bridge send in turn (sbc_test_util.h). */
static inline void t_turn_pump(t_turn_srv *ts, const il_addr *turn, const t_ctx *t,
			       size_t *pumped)
{
	while (*pumped < t->sent_count) {
		const t_sent *p = &t->sent[(*pumped)++];
		if (!il_addr_equal(&p->remote, turn))
			continue;
		il_five_tuple ft = {.local = *turn, .remote = p->local, .transport = IL_TRANSPORT_UDP};
		il_turn_server_handle_client(ts->srv, &ft, p->data, p->len, t->now);
	}
}

#endif
