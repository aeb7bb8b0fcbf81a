/* Rate limits of the TURN server core (issue #3 §4): a per-source limit on
 * 401 answers and the bandwidth of each allocation. Both are token
 * buckets refilled from the caller's now_ms, so virtual time drives them
 * like everything else in the core (ARCHITECTURE.md).
 *
 * Why limit 401s: an unauthenticated Allocate costs an attacker one small
 * datagram and gets a larger answer (REALM, NONCE, PASSWORD-ALGORITHMS)
 * sent to whatever source address it forged. RFC 8656 §21.1.4 notes that
 * the 401 is what a server can be made to reflect. Past the rate, a
 * source gets silence; a legitimate client needs one 401 per allocation
 * (plus one per nonce expiry), far below the default of 50 a second.
 *
 * Sources are keyed by IPv4 address or IPv6 /64 (one host usually holds a
 * whole /64, so counting by /128 would let it rotate addresses), in a
 * fixed set-associative table: no allocation after il_turn_server_new,
 * whatever the number of sources. */
#include "server_internal.h"

#include <string.h>

/* ---- per-source 401 limit ---- */

static void source_key(const il_addr *a, uint8_t key[8])
{
	memset(key, 0, 8);
	memcpy(key, a->ip, a->family == IL_AF_INET ? 4 : 8);
}

static uint32_t refill_tokens(uint32_t tokens, uint64_t last_ms, uint64_t now_ms,
			      uint32_t rate, uint32_t cap)
{
	uint64_t elapsed = now_ms > last_ms ? now_ms - last_ms : 0;
	uint64_t add = elapsed * rate; /* rate/s = rate milli-tokens a ms */
	if (tokens >= cap || add >= (uint64_t)(cap - tokens))
		return cap;
	return tokens + (uint32_t)add;
}

bool turn_limit_401(il_turn_server *srv, const il_five_tuple *ft, uint64_t now_ms)
{
	uint32_t rate = srv->cfg.max_401_per_second;
	if (rate == 0 || !srv->limits)
		return true;
	uint32_t burst = srv->cfg.burst_401 ? srv->cfg.burst_401 : rate;
	uint32_t cap = burst * TURN_MILLI;
	il_addr src;
	memset(&src, 0, sizeof src);
	src.family = ft->remote.family;
	source_key(&ft->remote, src.ip);
	uint8_t key[8];
	memcpy(key, src.ip, 8);
	uint32_t set = turn_hash_addr(srv, &src, 0x401) & (TURN_LIMIT_SETS - 1);
	turn_source_limit *ways = &srv->limits[set * TURN_LIMIT_WAYS];
	turn_source_limit *e = NULL, *victim = NULL;
	uint32_t victim_tokens = 0;
	for (int i = 0; i < TURN_LIMIT_WAYS && !e; i++) {
		turn_source_limit *w = &ways[i];
		if (w->family == src.family && memcmp(w->key, key, 8) == 0) {
			e = w;
			break;
		}
		/* The entry to give a new source: a free one, else the one that
		 * has recovered most (a full bucket forgets nothing). */
		uint32_t t = w->family == IL_AF_NONE
				     ? UINT32_MAX
				     : refill_tokens(w->milli_tokens, w->last_ms, now_ms, rate, cap);
		if (!victim || t > victim_tokens) {
			victim = w;
			victim_tokens = t;
		}
	}
	if (!e) {
		e = victim;
		e->family = src.family;
		memcpy(e->key, key, 8);
		e->milli_tokens = cap;
		e->last_ms = now_ms;
	}
	e->milli_tokens = refill_tokens(e->milli_tokens, e->last_ms, now_ms, rate, cap);
	e->last_ms = now_ms;
	if (e->milli_tokens >= TURN_MILLI) {
		e->milli_tokens -= TURN_MILLI;
		return true;
	}
	srv->stats.dropped_401_limited++;
	turn_event(srv, IL_TURN_EV_401_LIMITED, ft, NULL);
	return false;
}

/* ---- bandwidth per allocation ---- */

/* Bytes a second, and the bucket's size in milli-bytes: one second's
 * worth, at least 64 KiB so that the largest datagram can pass. */
static uint64_t rate_bytes(const il_turn_server *srv)
{
	return srv->cfg.max_bps_per_allocation / 8u;
}

static uint64_t rate_cap(uint64_t bytes_per_s)
{
	uint64_t b = bytes_per_s < 65536u ? 65536u : bytes_per_s;
	return b * TURN_MILLI;
}

void turn_rate_init(const il_turn_server *srv, turn_alloc *a, uint64_t now_ms)
{
	uint64_t cap = rate_cap(rate_bytes(srv));
	for (int d = 0; d < 2; d++) {
		a->rate[d].milli_bytes = cap;
		a->rate[d].last_ms = now_ms;
	}
}

bool turn_rate_take(il_turn_server *srv, turn_alloc *a, enum turn_direction dir, size_t len,
		    uint64_t now_ms)
{
	uint64_t bytes_per_s = rate_bytes(srv);
	if (bytes_per_s == 0)
		return true;
	uint64_t cap = rate_cap(bytes_per_s);
	turn_rate *r = &a->rate[dir];
	uint64_t elapsed = now_ms > r->last_ms ? now_ms - r->last_ms : 0;
	/* bytes/s times ms is milli-bytes; no overflow below 2^64 / 2^40
	 * bytes a second for elapsed times under 34 years. */
	uint64_t add = elapsed * bytes_per_s;
	if (r->milli_bytes >= cap || add >= cap - r->milli_bytes)
		r->milli_bytes = cap;
	else
		r->milli_bytes += add;
	r->last_ms = now_ms;
	uint64_t cost = (uint64_t)len * TURN_MILLI;
	if (r->milli_bytes >= cost) {
		r->milli_bytes -= cost;
		return true;
	}
	srv->stats.dropped_bandwidth++;
	turn_event(srv, IL_TURN_EV_DROPPED_BANDWIDTH, &a->ft,
		   dir == TURN_TO_PEER ? "to peer" : "from peer");
	return false;
}
