/* Fuzz target ng_bencode: rtpengine's ng protocol (ref/sbc/bencode.c,
 * ref/sbc/ng.c) over the bridge table (ref/sbc/bridge.c).
 *
 * The input is decoded as bencode: a refusal must be one of the known
 * errors; an accepted value is written back node by node, must decode
 * again to the same shape, and be written to the very same bytes (the
 * encoder's output is a fixed point). Then the input goes to the ng
 * handler as a control datagram, against one bridge kept across inputs
 * (calls made by one input meet the next: a stateful campaign), with a
 * small port range so the table fills and empties. Every reply must start
 * with the input's cookie and carry a bencoded dictionary with "result". */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "icelab/bencode.h"
#include "icelab/sbc_bridge.h"

#include "fuzz_check.h"

#define NODES 4096

static il_benc_node n1[NODES], n2[NODES];
static char out1[1 << 17], out2[1 << 17], reply[256 * 1024];
static il_sbc_bridge *bridge;
static il_sbc_ng *ng;
static uint64_t now_ms = 1000, rng = 1;
static unsigned inputs;

static void write_node(il_benc_writer *w, const il_benc_node *n, uint32_t i)
{
	/* Iterative: a stack of open containers and how many children are left. */
	uint32_t stack_left[IL_BENC_MAX_DEPTH + 1];
	int depth = 0;
	uint32_t end = n[i].end;
	for (uint32_t k = i; k < end; k++) {
		const il_benc_node *nd = &n[k];
		if (nd->type == IL_BENC_INT) {
			il_benc_put_int(w, nd->num);
		} else if (nd->type == IL_BENC_STR) {
			il_benc_put_str(w, nd->str, nd->len);
		} else {
			if (nd->type == IL_BENC_LIST)
				il_benc_begin_list(w);
			else
				il_benc_begin_dict(w);
			FUZZ_CHECK(depth <= IL_BENC_MAX_DEPTH);
			stack_left[depth++] = nd->count + 1; /* +1: this node itself, undone below */
		}
		/* Every node consumed one child of its parent; close finished ones. */
		while (depth > 0) {
			if (--stack_left[depth - 1] > 0)
				break;
			il_benc_end(w);
			depth--;
		}
	}
	FUZZ_CHECK(depth == 0);
}

static void check_bencode(const uint8_t *data, size_t size)
{
	size_t where = 0;
	int c1 = il_benc_parse((const char *)data, size, n1, NODES, &where);
	if (c1 < 0) {
		FUZZ_CHECK(c1 >= IL_BENC_ERR_NODES && where <= size);
		return;
	}
	FUZZ_CHECK(n1[0].end == (uint32_t)c1);
	il_benc_writer w;
	il_benc_writer_init(&w, out1, sizeof out1);
	write_node(&w, n1, 0);
	FUZZ_CHECK(!w.overflow);
	/* Strict decoding means the canonical writing is the input itself. */
	FUZZ_CHECK(w.len == size && memcmp(out1, data, size) == 0);
	int c2 = il_benc_parse(out1, w.len, n2, NODES, NULL);
	FUZZ_CHECK(c2 == c1);
	for (int k = 0; k < c1; k++)
		FUZZ_CHECK(n1[k].type == n2[k].type && n1[k].end == n2[k].end &&
			   n1[k].count == n2[k].count && n1[k].len == n2[k].len &&
			   n1[k].num == n2[k].num);
	il_benc_writer w2;
	il_benc_writer_init(&w2, out2, sizeof out2);
	write_node(&w2, n2, 0);
	FUZZ_CHECK(w2.len == w.len && memcmp(out1, out2, w.len) == 0);
}

static void f_random(void *user, uint8_t *out, size_t len)
{
	(void)user;
	for (size_t i = 0; i < len; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (uint8_t)(rng >> 33);
	}
}

static void f_send(void *user, const il_addr *l, const il_addr *r, const uint8_t *d, size_t n)
{
	(void)user, (void)l, (void)r, (void)d, (void)n;
}

static int f_open(void *user, const il_addr *local)
{
	(void)user;
	return local->port == 40010 ? -1 : 0; /* one port "taken" */
}

static void f_close(void *user, const il_addr *local)
{
	(void)user, (void)local;
}

static void f_event(void *user, const char *json)
{
	(void)user;
	FUZZ_CHECK(json[0] == '{' && json[strlen(json) - 1] == '}');
}

static void check_ng(const uint8_t *data, size_t size)
{
	if (!bridge || ++inputs % 5000 == 0) {
		il_sbc_ng_free(ng);
		il_sbc_bridge_free(bridge);
		il_sbc_bridge_config c;
		memset(&c, 0, sizeof c);
		il_sbc_config_defaults(&c.sbc);
		il_addr_set_ipv4(&c.sbc.advertised, 0xCB007101, 0); /* 203.0.113.1 */
		il_addr_set_ipv4(&c.bind, 0x0A000005, 0);
		c.port_min = 40000;
		c.port_max = 40031;
		il_sbc_bridge_callbacks cb = {.random = f_random, .send = f_send, .port_open = f_open,
					      .port_close = f_close, .event = f_event};
		bridge = il_sbc_bridge_new(&c, &cb, NULL);
		ng = il_sbc_ng_new(bridge);
		FUZZ_CHECK(bridge && ng);
	}
	now_ms += 7;
	size_t n = il_sbc_ng_handle(ng, data, size, reply, sizeof reply, now_ms);
	if (n == 0)
		return;
	const char *sp = memchr(reply, ' ', n);
	FUZZ_CHECK(sp && (size_t)(sp - reply) <= size && memcmp(reply, data, (size_t)(sp - reply)) == 0);
	size_t rest = n - (size_t)(sp + 1 - reply);
	int c = il_benc_parse(sp + 1, rest, n1, NODES, NULL);
	FUZZ_CHECK(c > 0 && n1[0].type == IL_BENC_DICT);
	FUZZ_CHECK(il_benc_dict_get(n1, 0, "result") > 0);
	/* Now and then, time passes: media timeouts end calls. */
	if (size && data[0] == 'T')
		il_sbc_bridge_timer(bridge, now_ms += 61000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_bencode(data, size);
	const uint8_t *sp = memchr(data, ' ', size);
	if (sp)
		check_bencode(sp + 1, size - (size_t)(sp + 1 - data));
	check_ng(data, size);
	return 0;
}
