/* The discrete-event core: a binary min-heap of events ordered by
 * (time, scheduling order), the virtual clock, and the packet pool.
 * Packets come from chunks of 1024 kept on a free list: no malloc per
 * packet, and the same order of reuse on every run. */
#include "sim_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_CHUNK 1024

static bool before(const sim_event *a, const sim_event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

void il_sim_schedule(il_sim *sim, uint64_t at_us, il_sim_event_fn fn, void *arg, uint64_t u)
{
	if (at_us < sim->now)
		at_us = sim->now;
	if (sim->heap_len == sim->heap_cap) {
		size_t cap = sim->heap_cap ? sim->heap_cap * 2 : 256;
		sim_event *h = realloc(sim->heap, cap * sizeof *h);
		if (!h)
			abort(); /* the run cannot continue without its events */
		sim->heap = h;
		sim->heap_cap = cap;
	}
	sim_event ev = {at_us, sim->next_seq++, fn, arg, u};
	size_t i = sim->heap_len++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(&ev, &sim->heap[parent]))
			break;
		sim->heap[i] = sim->heap[parent];
		i = parent;
	}
	sim->heap[i] = ev;
}

static sim_event heap_pop(il_sim *sim)
{
	sim_event top = sim->heap[0];
	sim_event last = sim->heap[--sim->heap_len];
	size_t n = sim->heap_len, i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(&sim->heap[c + 1], &sim->heap[c]))
			c++;
		if (!before(&sim->heap[c], &last))
			break;
		sim->heap[i] = sim->heap[c];
		i = c;
	}
	if (n)
		sim->heap[i] = last;
	return top;
}

uint64_t il_sim_run_until(il_sim *sim, uint64_t end_us)
{
	uint64_t ran = 0;
	sim->stopped = false;
	while (sim->heap_len && !sim->stopped && sim->heap[0].at <= end_us) {
		sim_event ev = heap_pop(sim);
		sim->now = ev.at;
		ev.fn(sim, ev.arg, ev.u);
		ran++;
	}
	if (!sim->stopped && sim->now < end_us)
		sim->now = end_us;
	sim->stats.events += ran;
	return ran;
}

void il_sim_stop(il_sim *sim)
{
	sim->stopped = true;
}

size_t il_sim_pending_events(const il_sim *sim)
{
	return sim->heap_len;
}

uint64_t il_sim_now(const il_sim *sim)
{
	return sim->now;
}

il_sim_rng *il_sim_get_rng(il_sim *sim)
{
	return &sim->rng;
}

il_sim_packet *sim_packet_alloc(il_sim *sim)
{
	if (!sim->free_packets) {
		il_sim_packet *chunk = malloc(POOL_CHUNK * sizeof *chunk);
		void **chunks = realloc(sim->chunks, (sim->chunk_count + 1) * sizeof *chunks);
		if (!chunk || !chunks) {
			free(chunk);
			if (chunks)
				sim->chunks = chunks;
			return NULL;
		}
		sim->chunks = chunks;
		sim->chunks[sim->chunk_count++] = chunk;
		for (size_t i = POOL_CHUNK; i-- > 0;) {
			chunk[i].next_free = sim->free_packets;
			sim->free_packets = &chunk[i];
		}
		sim->stats.pool_packets += POOL_CHUNK;
	}
	il_sim_packet *p = sim->free_packets;
	sim->free_packets = p->next_free;
	/* Headers only: the payload is written by the sender. */
	memset(p, 0, offsetof(il_sim_packet, data));
	p->id = sim->next_packet_id++;
	return p;
}

void sim_packet_free(il_sim *sim, il_sim_packet *p)
{
	p->next_free = sim->free_packets;
	sim->free_packets = p;
}

void sim_set_error(il_sim *sim, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sim->err, sizeof sim->err, fmt, ap);
	va_end(ap);
}

const char *il_sim_error(const il_sim *sim)
{
	return sim->err;
}

void il_sim_get_stats(const il_sim *sim, il_sim_stats *out)
{
	*out = sim->stats;
}

il_sim *il_sim_new(uint64_t seed)
{
	il_sim *sim = calloc(1, sizeof *sim);
	if (!sim)
		return NULL;
	il_sim_rng_seed(&sim->rng, seed);
	if (sim_hash_init(&sim->sock_index, 64) < 0) {
		free(sim);
		return NULL;
	}
	return sim;
}

void il_sim_free(il_sim *sim)
{
	if (!sim)
		return;
	il_sim_pcap_close(sim);
	sim_tcp_free_all(sim);
	for (size_t i = 0; i < sim->node_count; i++) {
		free(sim->nodes[i].ifaces);
		free(sim->nodes[i].routes);
		sim_nat_free(sim->nodes[i].nat);
	}
	free(sim->nodes);
	free(sim->links);
	free(sim->socks);
	sim_hash_free(&sim->sock_index);
	for (size_t i = 0; i < sim->chunk_count; i++)
		free(sim->chunks[i]);
	free(sim->chunks);
	free(sim->heap);
	free(sim);
}
