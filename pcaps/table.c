/* A small open-addressing hash table (linear probing, backward-shift
 * deletion) for the analyser's per-flow state, and the key helpers. */
#include <stdlib.h>
#include <string.h>

#include "pcaps_internal.h"

/* FNV-1a over the key bytes. */
static size_t key_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29));
}

void pa_table_init(pa_table *t, size_t key_len)
{
	memset(t, 0, sizeof *t);
	t->key_len = key_len;
}

static size_t probe_start(const pa_table *t, const void *key)
{
	return key_hash(key, t->key_len) & (t->cap - 1);
}

void *pa_table_find(const pa_table *t, const void *key)
{
	if (t->cap == 0)
		return NULL;
	for (size_t i = probe_start(t, key);; i = (i + 1) & (t->cap - 1)) {
		void *e = t->slots[i];
		if (!e)
			return NULL;
		if (memcmp(e, key, t->key_len) == 0)
			return e;
	}
}

static int grow(pa_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	void **slots = calloc(cap, sizeof *slots);
	if (!slots)
		return -1;
	void **old = t->slots;
	size_t old_cap = t->cap;
	t->slots = slots;
	t->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i])
			continue;
		size_t j = probe_start(t, old[i]);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

void *pa_table_get(pa_table *t, const void *key, size_t entry_size, bool *created)
{
	void *e = pa_table_find(t, key);
	if (created)
		*created = false;
	if (e)
		return e;
	if ((t->count + 1) * 2 > t->cap && grow(t) < 0)
		return NULL;
	e = calloc(1, entry_size);
	if (!e)
		return NULL;
	memcpy(e, key, t->key_len);
	size_t i = probe_start(t, key);
	while (t->slots[i])
		i = (i + 1) & (t->cap - 1);
	t->slots[i] = e;
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
	size_t i = probe_start(t, key);
	for (;; i = (i + 1) & mask) {
		if (!t->slots[i])
			return;
		if (memcmp(t->slots[i], key, t->key_len) == 0)
			break;
	}
	free(t->slots[i]);
	t->slots[i] = NULL;
	t->count--;
	/* Backward shift: move later entries of the run into the hole when
	 * their home slot does not lie cyclically between the hole and them. */
	for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		size_t home = probe_start(t, t->slots[j]);
		bool between = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (between)
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j] = NULL;
		i = j;
	}
}

void pa_table_free(pa_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
	size_t key_len = t->key_len;
	pa_table_init(t, key_len);
}

void pa_key_addr(uint8_t out[19], const il_addr *a)
{
	memset(out, 0, 19);
	out[0] = a->family;
	out[1] = (uint8_t)(a->port >> 8);
	out[2] = (uint8_t)a->port;
	memcpy(out + 3, a->ip, a->family == IL_AF_INET ? 4 : 16);
}

void pa_key_tuple(pa_tuple_key *k, uint8_t transport, bool relayed, const il_addr *src,
		  const il_addr *dst)
{
	memset(k, 0, sizeof *k);
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
