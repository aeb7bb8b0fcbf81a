/* The bridge table (issue #8 §5): the calls of an SBC by call-id, their
 * media ports, the datagram dispatch, timers, and per-call log lines and
 * JSON events. Sans-I/O: ports are bound by the caller (cb.port_open).
 *
 * Ports come in pairs (an even RTP port, RTCP on the next, RFC 3550
 * §11) from the configured range; a call takes one pair per leg. The
 * dispatch is an array indexed by pair: O(1) per datagram, no hashing
 * on the media path. Calls are found by call-id in a chained hash table
 * (signalling only). */
#include "icelab/sbc_bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc_internal.h"

#define CALL_BUCKETS 4096

typedef struct loss_track {
	bool init;
	uint32_t ssrc;
	uint16_t base, max;
	uint64_t cycles, received;
	uint64_t done_expected, done_received; /* earlier SSRCs */
} loss_track;

struct il_sbc_call {
	il_sbc_bridge *b;
	il_sbc_session *s;
	size_t id_len;
	char *tag[2];                 /* malloc'd; NULL: not known yet */
	uint32_t pair[2];             /* port pair index per leg */
	uint64_t created_ms;
	loss_track loss[2];
	uint32_t drop_seen[2];        /* bit per drop reason: one event each */
	bool ended;
	struct il_sbc_call *hnext;    /* hash chain */
	struct il_sbc_call *prev, *next; /* all calls, creation order */
	char id[];                    /* id_len bytes and a NUL: an idle call stays small */
};

typedef struct port_slot {
	il_sbc_call *call;            /* NULL: free */
} port_slot;

struct il_sbc_bridge {
	il_sbc_bridge_config cfg;
	il_sbc_bridge_callbacks cb;
	uint16_t base;                /* the first even port */
	uint32_t pairs;               /* pair i: base + 2i, base + 2i + 1 */
	uint32_t cursor;
	port_slot *slots;
	il_sbc_call *buckets[CALL_BUCKETS];
	il_sbc_call *head, *tail;
	size_t count;
	char json[2048];
	char line[2560];
};

/* ---- JSON helpers ---- */

static size_t json_escape(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 7 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

void il_sbc_call_event(il_sbc_call *c, const char *name, const char *extra)
{
	il_sbc_bridge *b = c->b;
	if (!b->cb.event)
		return;
	char id[IL_SBC_CALL_ID_MAX * 6 + 1];
	json_escape(id, sizeof id, c->id, c->id_len);
	int n = snprintf(b->json, sizeof b->json, "{\"event\":\"%s\",\"call-id\":\"%s\"%s%s}", name,
			 id, extra && *extra ? "," : "", extra ? extra : "");
	if (n > 0 && (size_t)n < sizeof b->json)
		b->cb.event(b->cb.user, b->json);
}

/* ---- the table ---- */

static uint32_t hash_id(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h % CALL_BUCKETS;
}

il_sbc_bridge *il_sbc_bridge_new(const il_sbc_bridge_config *cfg,
				 const il_sbc_bridge_callbacks *cb, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	*err = IL_SBC_ERR_ARGUMENT;
	if (!cfg || !cb || !cb->send || !cb->random || !cb->port_open || !cb->port_close)
		return NULL;
	if (cfg->bind.family != IL_AF_INET && cfg->bind.family != IL_AF_INET6)
		return NULL;
	uint32_t base = (cfg->port_min + 1u) & ~1u;
	if (cfg->port_min == 0 || base + 1 > cfg->port_max)
		return NULL;
	if (!il_sbc_advertised_ok(&cfg->sbc.advertised, cfg->sbc.allow_private_advertised)) {
		*err = IL_SBC_ERR_PRIVATE;
		return NULL;
	}
	il_sbc_bridge *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->cfg = *cfg;
	b->cb = *cb;
	b->base = (uint16_t)base;
	b->pairs = (cfg->port_max - base + 1) / 2;
	b->slots = calloc(b->pairs, sizeof *b->slots);
	if (!b->slots) {
		free(b);
		return NULL;
	}
	*err = IL_SBC_OK;
	return b;
}

void il_sbc_bridge_free(il_sbc_bridge *b)
{
	if (!b)
		return;
	while (b->head)
		il_sbc_bridge_delete(b, b->head, "shutdown", 0);
	free(b->slots);
	free(b);
}

int il_sbc_bridge_set_advertised(il_sbc_bridge *b, const il_addr *ip, bool allow_private)
{
	if (!ip || (ip->family != IL_AF_INET && ip->family != IL_AF_INET6))
		return IL_SBC_ERR_ARGUMENT;
	if (!il_sbc_advertised_ok(ip, allow_private))
		return IL_SBC_ERR_PRIVATE;
	b->cfg.sbc.advertised = *ip;
	b->cfg.sbc.advertised.port = 0;
	b->cfg.sbc.allow_private_advertised = allow_private;
	return IL_SBC_OK;
}

const il_addr *il_sbc_bridge_advertised(const il_sbc_bridge *b)
{
	return &b->cfg.sbc.advertised;
}

size_t il_sbc_bridge_call_count(const il_sbc_bridge *b)
{
	return b->count;
}

il_sbc_call *il_sbc_bridge_find(il_sbc_bridge *b, const char *call_id, size_t len)
{
	for (il_sbc_call *c = b->buckets[hash_id(call_id, len)]; c; c = c->hnext)
		if (c->id_len == len && memcmp(c->id, call_id, len) == 0)
			return c;
	return NULL;
}

il_sbc_call *il_sbc_bridge_first(il_sbc_bridge *b)
{
	return b->head;
}

il_sbc_call *il_sbc_bridge_next(il_sbc_call *c)
{
	return c->next;
}

/* ---- ports ---- */

static il_addr pair_addr(const il_sbc_bridge *b, uint32_t pair, unsigned rtcp)
{
	il_addr a = b->cfg.bind;
	a.port = (uint16_t)(b->base + 2 * pair + rtcp);
	return a;
}

static void pair_release(il_sbc_bridge *b, uint32_t pair)
{
	il_addr rtp = pair_addr(b, pair, 0), rtcp = pair_addr(b, pair, 1);
	b->cb.port_close(b->cb.user, &rtp);
	b->cb.port_close(b->cb.user, &rtcp);
	b->slots[pair].call = NULL;
}

/* The next free pair from the cursor that the caller can bind: its index,
 * or -1 when none is left. */
static int64_t pair_take(il_sbc_bridge *b, il_sbc_call *c)
{
	for (uint32_t tries = 0; tries < b->pairs; tries++) {
		uint32_t p = b->cursor;
		b->cursor = (b->cursor + 1) % b->pairs;
		if (b->slots[p].call)
			continue;
		il_addr rtp = pair_addr(b, p, 0), rtcp = pair_addr(b, p, 1);
		if (b->cb.port_open(b->cb.user, &rtp) != 0)
			continue;
		if (b->cb.port_open(b->cb.user, &rtcp) != 0) {
			b->cb.port_close(b->cb.user, &rtp);
			continue;
		}
		b->slots[p].call = c;
		return p;
	}
	return -1;
}

/* ---- session callbacks ---- */

static void call_random(void *user, uint8_t *out, size_t len)
{
	il_sbc_call *c = user;
	c->b->cb.random(c->b->cb.user, out, len);
}

static void call_send(void *user, const il_addr *local, const il_addr *remote,
		      const uint8_t *data, size_t len)
{
	il_sbc_call *c = user;
	c->b->cb.send(c->b->cb.user, local, remote, data, len);
}

static void call_session_event(void *user, const il_sbc_event *ev)
{
	il_sbc_call *c = user;
	il_sbc_bridge *b = c->b;
	char addr[IL_ADDR_STRLEN], prev[IL_ADDR_STRLEN], extra[768];
	il_addr_format(&ev->addr, addr, sizeof addr);
	il_addr_format(&ev->previous, prev, sizeof prev);
	const char *leg = ev->leg ? "B" : "A";
	switch (ev->type) {
	case IL_SBC_EV_DROPPED:
		/* One event per leg and reason: a flood of foreign packets
		 * must not become a flood of log lines. */
		if (ev->leg > 1 || ev->reason < 0 || ev->reason >= 32 ||
		    (c->drop_seen[ev->leg] & (1u << ev->reason)))
			return;
		c->drop_seen[ev->leg] |= 1u << ev->reason;
		snprintf(extra, sizeof extra,
			 "\"leg\":\"%s\",\"component\":%u,\"reason\":\"%s\",\"from\":\"%s\",\"first\":true",
			 leg, ev->component, il_sbc_drop_name(ev->reason), addr);
		break;
	case IL_SBC_EV_LATCHED:
	case IL_SBC_EV_SOURCE_ADOPTED:
		snprintf(extra, sizeof extra,
			 "\"leg\":\"%s\",\"component\":%u,\"address\":\"%s\",\"previous\":\"%s\","
			 "\"ssrc\":%u",
			 leg, ev->component, addr, ev->previous.family ? prev : "", ev->ssrc);
		break;
	case IL_SBC_EV_ICE_SELECTED:
		snprintf(extra, sizeof extra,
			 "\"leg\":\"%s\",\"component\":%u,\"remote\":\"%s\",\"local-type\":\"%s\","
			 "\"remote-type\":\"%s\"",
			 leg, ev->component, addr, il_ice_candidate_type_name(ev->local_type),
			 il_ice_candidate_type_name(ev->remote_type));
		break;
	case IL_SBC_EV_MEDIA_CONNECTED: {
		char text[600];
		json_escape(text, sizeof text, ev->text ? ev->text : "",
			    ev->text ? strlen(ev->text) : 0);
		snprintf(extra, sizeof extra, "\"line\":\"%s\"", text);
		if (b->cb.log) {
			char id[IL_SBC_CALL_ID_MAX * 6 + 1];
			json_escape(id, sizeof id, c->id, c->id_len);
			snprintf(b->line, sizeof b->line, "call %s %s", id, ev->text ? ev->text : "");
			b->cb.log(b->cb.user, b->line);
		}
		break;
	}
	case IL_SBC_EV_TIMEOUT:
		c->ended = true;
		extra[0] = '\0';
		break;
	case IL_SBC_EV_RELAY_READY:     /* addr: the relayed address */
	case IL_SBC_EV_RELAY_FAILED:    /* text: why */
	case IL_SBC_EV_DTLS_CONNECTED:  /* text: role and profile */
	case IL_SBC_EV_DTLS_FAILED:     /* addr, text */
	case IL_SBC_EV_SRTP_MISMATCH: { /* addr: the sender */
		char text[400];
		json_escape(text, sizeof text, ev->text ? ev->text : "",
			    ev->text ? strlen(ev->text) : 0);
		snprintf(extra, sizeof extra, "\"leg\":\"%s\",\"address\":\"%s\",\"text\":\"%s\"",
			 leg, ev->addr.family ? addr : "", text);
		break;
	}
	default:
		extra[0] = '\0';
		break;
	}
	il_sbc_call_event(c, il_sbc_event_name(ev->type), extra);
}

/* ---- calls ---- */

il_sbc_call *il_sbc_bridge_create(il_sbc_bridge *b, const char *call_id, size_t len,
				  const il_sbc_call_options *opt, uint64_t now_ms, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	*err = IL_SBC_ERR_ARGUMENT;
	if (!call_id || len == 0 || len > IL_SBC_CALL_ID_MAX || !opt)
		return NULL;
	if (il_sbc_bridge_find(b, call_id, len)) {
		*err = IL_SBC_BRIDGE_ERR_EXISTS;
		return NULL;
	}
	if ((opt->force_relay[0] || opt->force_relay[1]) && !b->cfg.sbc.turn_server.port) {
		*err = IL_SBC_ERR_RELAY; /* force-relay without a TURN server: no fall-back */
		return NULL;
	}
	if ((b->cfg.max_sessions && b->count >= b->cfg.max_sessions) || b->count >= b->pairs / 2) {
		*err = b->count >= b->pairs / 2 ? IL_SBC_BRIDGE_ERR_PORTS : IL_SBC_BRIDGE_ERR_FULL;
		return NULL;
	}
	il_sbc_call *c = calloc(1, sizeof *c + len + 1);
	if (!c)
		return NULL;
	c->b = b;
	memcpy(c->id, call_id, len);
	c->id_len = len;
	c->created_ms = now_ms;
	int64_t pa = pair_take(b, c), pb = pa >= 0 ? pair_take(b, c) : -1;
	if (pb < 0) {
		if (pa >= 0)
			pair_release(b, (uint32_t)pa);
		free(c);
		*err = IL_SBC_BRIDGE_ERR_PORTS;
		return NULL;
	}
	c->pair[0] = (uint32_t)pa;
	c->pair[1] = (uint32_t)pb;
	il_sbc_config scfg = b->cfg.sbc;
	scfg.strict_source = scfg.strict_source || opt->strict_source;
	scfg.adopt_new_source = scfg.adopt_new_source || opt->adopt_new_source;
	il_sbc_leg_config la = {.bind = pair_addr(b, c->pair[0], 0),
				.ice = opt->ice[0],
				.rtcp_mux = opt->rtcp_mux[0],
				.profile = opt->profile[0],
				.force_relay = opt->force_relay[0]};
	il_sbc_leg_config lb = {.bind = pair_addr(b, c->pair[1], 0),
				.ice = opt->ice[1],
				.rtcp_mux = opt->rtcp_mux[1],
				.profile = opt->profile[1],
				.force_relay = opt->force_relay[1]};
	il_sbc_callbacks scb = {.user = c, .random = call_random, .send = call_send,
				.event = call_session_event};
	c->s = il_sbc_session_new(&scfg, &la, &lb, &scb, now_ms, err);
	if (!c->s) {
		pair_release(b, c->pair[0]);
		pair_release(b, c->pair[1]);
		free(c);
		return NULL;
	}
	uint32_t h = hash_id(call_id, len);
	c->hnext = b->buckets[h];
	b->buckets[h] = c;
	c->prev = b->tail;
	if (b->tail)
		b->tail->next = c;
	else
		b->head = c;
	b->tail = c;
	b->count++;
	char extra[160];
	snprintf(extra, sizeof extra, "\"ports\":[%u,%u],\"ice\":[%s,%s]",
		 b->base + 2 * c->pair[0], b->base + 2 * c->pair[1], opt->ice[0] ? "true" : "false",
		 opt->ice[1] ? "true" : "false");
	il_sbc_call_event(c, "call-created", extra);
	*err = IL_SBC_OK;
	return c;
}

void il_sbc_bridge_delete(il_sbc_bridge *b, il_sbc_call *c, const char *reason, uint64_t now_ms)
{
	char extra[512];
	il_sbc_call_leg_info a, bb;
	il_sbc_call_get_leg(c, 0, &a);
	il_sbc_call_get_leg(c, 1, &bb);
	snprintf(extra, sizeof extra,
		 "\"reason\":\"%s\",\"duration-ms\":%llu,\"state\":\"%s\","
		 "\"a->b\":{\"packets\":%llu,\"bytes\":%llu},\"b->a\":{\"packets\":%llu,\"bytes\":%llu}",
		 reason, (unsigned long long)(now_ms > c->created_ms ? now_ms - c->created_ms : 0),
		 il_sbc_state_name(il_sbc_session_state(c->s)),
		 (unsigned long long)bb.st.tx_packets, (unsigned long long)bb.st.tx_bytes,
		 (unsigned long long)a.st.tx_packets, (unsigned long long)a.st.tx_bytes);
	il_sbc_call_event(c, "call-deleted", extra);
	il_sbc_call **pp = &b->buckets[hash_id(c->id, c->id_len)];
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	if (c->prev)
		c->prev->next = c->next;
	else
		b->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		b->tail = c->prev;
	b->count--;
	/* The session first: a force-relay leg's goodbye to the TURN server
	 * (a Refresh with lifetime 0) leaves from its port before it closes. */
	il_sbc_session_free(c->s);
	pair_release(b, c->pair[0]);
	pair_release(b, c->pair[1]);
	free(c->tag[0]);
	free(c->tag[1]);
	free(c);
}

/* ---- the media path ---- */

/* RFC 3550 A.1/A.3, reduced: the highest extended sequence number seen
 * and the packets counted; a new SSRC starts a new count. */
static void loss_update(loss_track *t, const uint8_t *d, size_t len)
{
	if (len < 12 || d[0] >> 6 != 2 || (d[1] >= 192 && d[1] <= 223))
		return; /* not RTP (RTCP multiplexed on the port) */
	uint16_t seq = (uint16_t)(d[2] << 8 | d[3]);
	uint32_t ssrc = (uint32_t)d[8] << 24 | (uint32_t)d[9] << 16 | (uint32_t)d[10] << 8 | d[11];
	if (t->init && ssrc != t->ssrc) {
		t->done_expected += t->cycles + (uint16_t)(t->max - t->base) + 1;
		t->done_received += t->received;
		t->init = false;
	}
	if (!t->init) {
		t->init = true;
		t->ssrc = ssrc;
		t->base = t->max = seq;
		t->cycles = 0;
		t->received = 1;
		return;
	}
	uint16_t delta = (uint16_t)(seq - t->max);
	if (delta != 0 && delta < RTP_MAX_DROPOUT) {
		if (seq < t->max)
			t->cycles += 65536;
		t->max = seq;
	}
	t->received++;
}

int il_sbc_bridge_handle_datagram(il_sbc_bridge *b, const il_addr *local, const il_addr *remote,
				  const uint8_t *data, size_t len, uint64_t now_ms)
{
	uint32_t off = (uint32_t)local->port - b->base;
	if (local->port < b->base || off / 2 >= b->pairs)
		return IL_SBC_DGRAM_DROPPED;
	il_sbc_call *c = b->slots[off / 2].call;
	if (!c)
		return IL_SBC_DGRAM_DROPPED;
	int rc = il_sbc_session_handle_datagram(c->s, local, remote, data, len, now_ms);
	if (rc == IL_SBC_DGRAM_FORWARDED && (off & 1) == 0)
		loss_update(&c->loss[c->pair[0] == off / 2 ? 0 : 1], data, len);
	return rc;
}

uint64_t il_sbc_bridge_timer(il_sbc_bridge *b, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;
	il_sbc_call *c = b->head;
	while (c) {
		il_sbc_call *n = c->next;
		if (il_sbc_session_next_deadline(c->s) <= now_ms)
			il_sbc_session_timer(c->s, now_ms);
		if (c->ended || il_sbc_session_state(c->s) == IL_SBC_STATE_ENDED) {
			il_sbc_bridge_delete(b, c, "media-timeout", now_ms);
		} else {
			uint64_t d = il_sbc_session_next_deadline(c->s);
			if (d < next)
				next = d;
		}
		c = n;
	}
	return next;
}

/* ---- accessors ---- */

il_sbc_session *il_sbc_call_session(il_sbc_call *c)
{
	return c->s;
}

const char *il_sbc_call_id(const il_sbc_call *c)
{
	return c->id;
}

uint64_t il_sbc_call_created_ms(const il_sbc_call *c)
{
	return c->created_ms;
}

const char *il_sbc_call_tag(const il_sbc_call *c, unsigned leg)
{
	return leg <= 1 && c->tag[leg] ? c->tag[leg] : "";
}

void il_sbc_call_set_tag(il_sbc_call *c, unsigned leg, const char *tag, size_t len)
{
	if (leg > 1)
		return;
	if (len > IL_SBC_TAG_MAX)
		len = IL_SBC_TAG_MAX;
	char *copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, tag, len);
	copy[len] = '\0';
	free(c->tag[leg]);
	c->tag[leg] = copy;
}

int il_sbc_call_leg_of(const il_sbc_call *c, const char *tag, size_t len)
{
	for (int i = 0; i < 2; i++)
		if (c->tag[i] && c->tag[i][0] && strlen(c->tag[i]) == len &&
		    memcmp(c->tag[i], tag, len) == 0)
			return i;
	return -1;
}

int il_sbc_call_get_leg(const il_sbc_call *c, unsigned leg, il_sbc_call_leg_info *out)
{
	if (leg > 1)
		return IL_SBC_ERR_ARGUMENT;
	memset(out, 0, sizeof *out);
	snprintf(out->tag, sizeof out->tag, "%s", il_sbc_call_tag(c, leg));
	out->port = (uint16_t)(c->b->base + 2 * c->pair[leg]);
	const loss_track *t = &c->loss[leg];
	out->rtp_expected = t->done_expected;
	out->rtp_received = t->done_received;
	if (t->init) {
		out->rtp_expected += t->cycles + (uint16_t)(t->max - t->base) + 1;
		out->rtp_received += t->received;
	}
	return il_sbc_session_get_leg(c->s, leg, &out->st);
}
