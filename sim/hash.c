/* An open-addressing hash table for the NAT and socket tables: fixed
 * 48-byte keys, linear probing, backward-shift deletion so lookups never
 * wade through tombstones. Grows (doubling) at half full: allocation is
 * amortised, never per packet. */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

/* One multiply per word, then one full mix for the avalanche linear
 * probing needs (the keys are mostly zeros and small ports). */
static uint64_t key_hash(const sim_key *k)
{
	uint64_t h = 0x243f6a8885a308d3ull;
	for (int i = 0; i < 6; i++) {
		h = (h ^ k->w[i]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return sim_mix(h) | 1; /* 0 marks an empty slot */
}

int sim_hash_init(sim_hash *h, size_t cap)
{
	size_t c = 16;
	while (c < cap)
		c <<= 1;
	h->slots = calloc(c, sizeof *h->slots);
	h->cap = h->slots ? c : 0;
	h->count = 0;
	return h->slots ? 0 : -1;
}

void sim_hash_free(sim_hash *h)
{
	free(h->slots);
	h->slots = NULL;
	h->cap = h->count = 0;
}

void sim_hash_clear(sim_hash *h)
{
	memset(h->slots, 0, h->cap * sizeof *h->slots);
	h->count = 0;
}

static sim_hash_slot *probe(const sim_hash *h, const sim_key *k, uint64_t hv)
{
	size_t mask = h->cap - 1;
	for (size_t i = hv & mask;; i = (i + 1) & mask) {
		sim_hash_slot *s = &h->slots[i];
		if (s->hash == 0)
			return s;
		if (s->hash == hv && memcmp(&s->key, k, sizeof *k) == 0)
			return s;
	}
}

uint64_t *sim_hash_find(sim_hash *h, const sim_key *k)
{
	if (!h->cap)
		return NULL;
	sim_hash_slot *s = probe(h, k, key_hash(k));
	return s->hash ? &s->value : NULL;
}

static int grow(sim_hash *h)
{
	sim_hash n;
	if (sim_hash_init(&n, h->cap * 2) < 0)
		return -1;
	for (size_t i = 0; i < h->cap; i++) {
		sim_hash_slot *s = &h->slots[i];
		if (!s->hash)
			continue;
		*probe(&n, &s->key, s->hash) = *s;
		n.count++;
	}
	free(h->slots);
	*h = n;
	return 0;
}

int sim_hash_put(sim_hash *h, const sim_key *k, uint64_t value)
{
	if ((h->count + 1) * 2 > h->cap && grow(h) < 0)
		return -1;
	uint64_t hv = key_hash(k);
	sim_hash_slot *s = probe(h, k, hv);
	if (!s->hash) {
		s->hash = hv;
		s->key = *k;
		h->count++;
	}
	s->value = value;
	return 0;
}

bool sim_hash_del(sim_hash *h, const sim_key *k)
{
	if (!h->cap)
		return false;
	sim_hash_slot *s = probe(h, k, key_hash(k));
	if (!s->hash)
		return false;
	size_t mask = h->cap - 1;
	size_t i = (size_t)(s - h->slots);
	/* Backward shift: pull later members of the run into the hole when
	 * their home slot is at or before it. */
	for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
		sim_hash_slot *t = &h->slots[j];
		if (!t->hash)
			break;
		size_t home = t->hash & mask;
		bool movable = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			h->slots[i] = *t;
			i = j;
		}
	}
	memset(&h->slots[i], 0, sizeof h->slots[i]);
	h->count--;
	return true;
}
