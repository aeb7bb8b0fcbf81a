/* Bencode (the BitTorrent encoding, BEP 3), as rtpengine's ng control
 * protocol carries it: byte strings "4:spam", integers "i42e", lists
 * "l...e" and dictionaries "d...e" whose keys are byte strings.
 *
 * The decoder is strict and bounded: it parses into a caller-given array
 * of nodes (no allocation), iteratively with a depth limit (no
 * recursion), and refuses leading zeros ("i03e", "03:abc"), "-0", a
 * non-string key, an unterminated container and bytes after the value.
 * Keys need not be sorted (Kamailio and OpenSIPS send them in their own
 * order); with a duplicate key, the first one wins on lookup.
 *
 * The encoder appends to a caller-given buffer and remembers an overflow,
 * so a whole reply is written and then checked once. */
#ifndef ICELAB_BENCODE_H
#define ICELAB_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IL_BENC_MAX_DEPTH 32

enum il_benc_type { IL_BENC_STR = 1, IL_BENC_INT, IL_BENC_LIST, IL_BENC_DICT };

enum il_benc_err {
	IL_BENC_OK = 0,
	IL_BENC_ERR_SYNTAX = -1,    /* not bencode, or bytes after the value */
	IL_BENC_ERR_TRUNCATED = -2, /* the input ends inside a value */
	IL_BENC_ERR_DEPTH = -3,     /* nested deeper than IL_BENC_MAX_DEPTH */
	IL_BENC_ERR_NODES = -4,     /* more values than the node array holds */
};

/* One value. A container's children follow it in the array, each child's
 * subtree contiguous: a child's `end` is the index of its next sibling.
 * A dictionary's children alternate key, value. */
typedef struct il_benc_node {
	uint8_t type;      /* enum il_benc_type */
	uint32_t end;      /* the index just after this node's subtree */
	uint32_t count;    /* children (a dict: 2 per entry) */
	const char *str;   /* IL_BENC_STR: points into the input (not NUL-terminated) */
	size_t len;
	int64_t num;       /* IL_BENC_INT */
} il_benc_node;

/* Parses exactly one value filling len bytes. Returns the number of nodes
 * (>= 1) or an enum il_benc_err; *where (may be NULL) gets the offset of
 * the error. */
int il_benc_parse(const char *buf, size_t len, il_benc_node *nodes, size_t cap, size_t *where);
const char *il_benc_strerror(int err);

/* Lookups on a parsed tree (node indexes). -1 when absent or not a dict. */
int il_benc_dict_get(const il_benc_node *nodes, int dict, const char *key);
/* The string value of key, NULL when absent or not a string. */
const char *il_benc_dict_str(const il_benc_node *nodes, int dict, const char *key, size_t *len);
/* True when node equals the NUL-terminated s (a string node). */
bool il_benc_str_is(const il_benc_node *nodes, int node, const char *s);
/* True when key is a string equal to s, or a list holding such a string. */
bool il_benc_dict_has_item(const il_benc_node *nodes, int dict, const char *key, const char *s);

typedef struct il_benc_writer {
	char *buf;
	size_t cap, len;
	bool overflow;
} il_benc_writer;

void il_benc_writer_init(il_benc_writer *w, char *buf, size_t cap);
void il_benc_put_raw(il_benc_writer *w, const void *data, size_t len);
void il_benc_put_str(il_benc_writer *w, const void *s, size_t len);
void il_benc_put_cstr(il_benc_writer *w, const char *s);
void il_benc_put_int(il_benc_writer *w, int64_t v);
void il_benc_begin_dict(il_benc_writer *w);
void il_benc_begin_list(il_benc_writer *w);
void il_benc_end(il_benc_writer *w);
/* key, then a string / integer value. */
void il_benc_kv_str(il_benc_writer *w, const char *key, const char *value);
void il_benc_kv_int(il_benc_writer *w, const char *key, int64_t value);

#endif
