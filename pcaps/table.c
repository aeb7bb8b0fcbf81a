/* A small open-addressing hash table (linear probing, backward-shift
 * deletion) for the analyser's per-flow state, and the key helpers. */
#include <stdlib.h>
#include <string.h>

#include "pcaps_internal.h"

/* Eight key bytes at a time, multiplied and rotated, then the
 * murmur3 64-bit finaliser: every key bit reaches the low bits the table
 * masks with. (FNV-1a's low bits depend only on the inputs' low bits, so
 * 5-tuples differing in a port's high byte collided into long runs.) */
static uint64_t key_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h = (h << 31) | (h >> 33);
	}
	if (i < len) {
		uint64_t w = 0;
		memcpy(&w, p + i, len - i);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

void pa_table_init(pa_table *t, size_t key_len)
{
	memset(t, 0, sizeof *t);
	t->key_len = key_len;
}

/* Keys compared eight bytes at a time (no libc call for 19 to 128 bytes);
 * a tail shorter than eight is compared as the key's last eight bytes. */
static bool key_equal(const void *x, const void *y, size_t len)
{
	const uint8_t *a = x, *b = y;
	if (len < 8)
		return memcmp(a, b, len) == 0;
	size_t i = 0;
	uint64_t u, v;
	for (; i + 8 <= len; i += 8) {
		memcpy(&u, a + i, 8);
		memcpy(&v, b + i, 8);
		if (u != v)
			return false;
	}
	if (i == len)
		return true;
	memcpy(&u, a + len - 8, 8);
	memcpy(&v, b + len - 8, 8);
	return u == v;
}

/* The slot index of key, or of the empty slot ending its run; *hash
 * gets the key's hash (the upper 32 bits are kept beside each slot so a
 * probe compares keys only when they agree). */
static size_t slot_of(const pa_table *t, const void *key, uint64_t *hash)
{
	uint64_t h = key_hash(key, t->key_len);
	uint32_t tag = (uint32_t)(h >> 32);
	*hash = h;
	size_t mask = t->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		void *e = t->slots[i];
		if (!e || (t->tags[i] == tag && key_equal(e, key, t->key_len)))
			return i;
	}
}

void *pa_table_find(const pa_table *t, const void *key)
{
	if (t->cap == 0)
		return NULL;
	uint64_t h;
	return t->slots[slot_of(t, key, &h)];
}

static int grow(pa_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	void **slots = calloc(cap, sizeof *slots);
	uint32_t *tags = calloc(cap, sizeof *tags);
	if (!slots || !tags) {
		free(slots);
		free(tags);
		return -1;
	}
	void **old = t->slots;
	uint32_t *old_tags = t->tags;
	size_t old_cap = t->cap;
	t->slots = slots;
	t->tags = tags;
	t->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i])
			continue;
		uint64_t h = key_hash(old[i], t->key_len);
		size_t j = (size_t)h & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = old[i];
		tags[j] = (uint32_t)(h >> 32);
	}
	free(old);
	free(old_tags);
	return 0;
}

void *pa_table_get(pa_table *t, const void *key, size_t entry_size, bool *created)
{
	if (created)
		*created = false;
	uint64_t h = 0;
	size_t i = 0;
	if (t->cap) {
		i = slot_of(t, key, &h);
		if (t->slots[i])
			return t->slots[i];
	}
	if ((t->count + 1) * 2 > t->cap) {
		if (grow(t) < 0)
			return NULL;
		i = slot_of(t, key, &h);
	}
	void *e = calloc(1, entry_size);
	if (!e)
		return NULL;
	memcpy(e, key, t->key_len);
	t->slots[i] = e;
	t->tags[i] = (uint32_t)(h >> 32);
	t->count++;
	if (created)
		*created = true;
	return e;
}

void pa_table_remove(pa_table *t, const void *key)
{
	if (t->cap == 0)
		return;
	size_t mask = t->cap - 1;
	uint64_t h;
	size_t i = slot_of(t, key, &h);
	if (!t->slots[i])
		return;
	free(t->slots[i]);
	t->slots[i] = NULL;
	t->count--;
	/* Backward shift: move later entries of the run into the hole when
	 * their home slot does not lie cyclically between the hole and them. */
	for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		size_t home = (size_t)key_hash(t->slots[j], t->key_len) & mask;
		bool between = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (between)
			continue;
		t->slots[i] = t->slots[j];
		t->tags[i] = t->tags[j];
		t->slots[j] = NULL;
		i = j;
	}
}

void pa_table_free(pa_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
	free(t->tags);
	size_t key_len = t->key_len;
	pa_table_init(t, key_len);
}

void pa_key_addr(uint8_t out[19], const il_addr *a)
{
	out[0] = a->family;
	out[1] = (uint8_t)(a->port >> 8);
	out[2] = (uint8_t)a->port;
	/* IPv4: the first 4 bytes, then zeros (an il_addr may carry stale
	 * bytes past them) */
	if (a->family == IL_AF_INET) {
		memcpy(out + 3, a->ip, 4);
		memset(out + 7, 0, 12);
	} else {
		memcpy(out + 3, a->ip, 16);
	}
}

void pa_key_tuple(pa_tuple_key *k, uint8_t transport, bool relayed, const il_addr *src,
		  const il_addr *dst)
{
	k->transport = transport;
	k->relayed = relayed;
	pa_key_addr(k->src, src);
	pa_key_addr(k->dst, dst);
}

void pa_evidence_add(pa_evidence *e, uint64_t frame)
{
	for (uint8_t i = 0; i < e->count; i++)
		if (e->frames[i] == frame)
			return;
	if (e->count < EVIDENCE_MAX)
		e->frames[e->count++] = frame;
}

const char *pa_addr_str(const il_addr *a, char *buf)
{
	if (il_addr_format(a, buf, IL_ADDR_STRLEN) < 0)
		strcpy(buf, "?");
	return buf;
}

double pa_rel_s(const il_pcap_analysis *a, uint64_t us)
{
	return us >= a->first_us ? (double)(us - a->first_us) / 1e6 : 0.0;
}
