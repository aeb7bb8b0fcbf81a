/* Bencode (BEP 3) for the ng control protocol: a strict, bounded,
 * iterative decoder into a flat node array, and an appending encoder.
 * See icelab/bencode.h for the rules. */
#include "icelab/bencode.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char *const err_names[] = {"ok", "syntax error", "truncated", "nested too deep",
					"too many values"};

const char *il_benc_strerror(int err)
{
	return err <= 0 && err >= IL_BENC_ERR_NODES ? err_names[-err] : "?";
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal digits at buf[*pos..] up to the terminator: no leading zero
 * (except "0" itself), at most 18 digits so the value fits in int64. */
static int parse_digits(const char *buf, size_t len, size_t *pos, char term, int64_t *out)
{
	size_t p = *pos, start = p;
	int64_t v = 0;
	while (p < len && is_digit(buf[p])) {
		if (p - start == 18)
			return IL_BENC_ERR_SYNTAX;
		v = v * 10 + (buf[p] - '0');
		p++;
	}
	if (p == len)
		return IL_BENC_ERR_TRUNCATED;
	if (p == start || buf[p] != term || (buf[start] == '0' && p - start > 1)) {
		*pos = p;
		return IL_BENC_ERR_SYNTAX;
	}
	*out = v;
	*pos = p + 1;
	return IL_BENC_OK;
}

int il_benc_parse(const char *buf, size_t len, il_benc_node *nodes, size_t cap, size_t *where)
{
	uint32_t stack[IL_BENC_MAX_DEPTH];
	size_t depth = 0, pos = 0, n = 0, dummy;
	int rc = IL_BENC_OK;
	if (!where)
		where = &dummy;
	if (!buf || !nodes || cap == 0 || cap > INT_MAX)
		return IL_BENC_ERR_SYNTAX;
	for (;;) {
		if (pos >= len) {
			rc = IL_BENC_ERR_TRUNCATED;
			break;
		}
		char c = buf[pos];
		il_benc_node *parent = depth ? &nodes[stack[depth - 1]] : NULL;
		if (parent && c == 'e') {
			if (parent->type == IL_BENC_DICT && parent->count % 2) {
				rc = IL_BENC_ERR_SYNTAX; /* a key without its value */
				break;
			}
			parent->end = (uint32_t)n;
			depth--;
			pos++;
			if (depth == 0)
				break;
			continue;
		}
		if (parent && parent->type == IL_BENC_DICT && parent->count % 2 == 0 && !is_digit(c)) {
			rc = IL_BENC_ERR_SYNTAX; /* dictionary keys are strings */
			break;
		}
		if (n == cap) {
			rc = IL_BENC_ERR_NODES;
			break;
		}
		il_benc_node *nd = &nodes[n];
		memset(nd, 0, sizeof *nd);
		if (c == 'i') {
			pos++;
			bool neg = pos < len && buf[pos] == '-';
			if (neg)
				pos++;
			int64_t v;
			rc = parse_digits(buf, len, &pos, 'e', &v);
			if (rc != IL_BENC_OK)
				break;
			if (neg && v == 0) {
				rc = IL_BENC_ERR_SYNTAX; /* "i-0e" */
				pos--;
				break;
			}
			nd->type = IL_BENC_INT;
			nd->num = neg ? -v : v;
		} else if (is_digit(c)) {
			int64_t v;
			rc = parse_digits(buf, len, &pos, ':', &v);
			if (rc != IL_BENC_OK)
				break;
			if ((uint64_t)v > len - pos) {
				rc = IL_BENC_ERR_TRUNCATED;
				break;
			}
			nd->type = IL_BENC_STR;
			nd->str = buf + pos;
			nd->len = (size_t)v;
			pos += (size_t)v;
		} else if (c == 'l' || c == 'd') {
			if (depth == IL_BENC_MAX_DEPTH) {
				rc = IL_BENC_ERR_DEPTH;
				break;
			}
			nd->type = c == 'l' ? IL_BENC_LIST : IL_BENC_DICT;
			pos++;
		} else {
			rc = IL_BENC_ERR_SYNTAX;
			break;
		}
		if (parent)
			parent->count++;
		n++;
		if (nd->type == IL_BENC_LIST || nd->type == IL_BENC_DICT) {
			stack[depth++] = (uint32_t)(n - 1);
			continue;
		}
		nd->end = (uint32_t)n;
		if (depth == 0)
			break;
	}
	*where = pos;
	if (rc != IL_BENC_OK)
		return rc;
	if (pos != len)
		return IL_BENC_ERR_SYNTAX; /* bytes after the value */
	return (int)n;
}

/* ---- lookups ---- */

bool il_benc_str_is(const il_benc_node *nodes, int node, const char *s)
{
	if (node < 0 || nodes[node].type != IL_BENC_STR)
		return false;
	size_t n = strlen(s);
	return nodes[node].len == n && memcmp(nodes[node].str, s, n) == 0;
}

int il_benc_dict_get(const il_benc_node *nodes, int dict, const char *key)
{
	if (dict < 0 || nodes[dict].type != IL_BENC_DICT)
		return -1;
	uint32_t i = (uint32_t)dict + 1;
	for (uint32_t k = 0; k + 1 < nodes[dict].count; k += 2) {
		uint32_t v = nodes[i].end;
		if (il_benc_str_is(nodes, (int)i, key))
			return (int)v;
		i = nodes[v].end;
	}
	return -1;
}

const char *il_benc_dict_str(const il_benc_node *nodes, int dict, const char *key, size_t *len)
{
	int v = il_benc_dict_get(nodes, dict, key);
	if (v < 0 || nodes[v].type != IL_BENC_STR)
		return NULL;
	if (len)
		*len = nodes[v].len;
	return nodes[v].str;
}

bool il_benc_dict_has_item(const il_benc_node *nodes, int dict, const char *key, const char *s)
{
	int v = il_benc_dict_get(nodes, dict, key);
	if (v < 0)
		return false;
	if (nodes[v].type == IL_BENC_STR)
		return il_benc_str_is(nodes, v, s);
	if (nodes[v].type != IL_BENC_LIST)
		return false;
	uint32_t i = (uint32_t)v + 1;
	for (uint32_t k = 0; k < nodes[v].count; k++, i = nodes[i].end)
		if (il_benc_str_is(nodes, (int)i, s))
			return true;
	return false;
}

/* ---- the encoder ---- */

void il_benc_writer_init(il_benc_writer *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = cap == 0;
	if (cap)
		buf[0] = '\0';
}

void il_benc_put_raw(il_benc_writer *w, const void *data, size_t len)
{
	if (w->overflow || len >= w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
	w->buf[w->len] = '\0'; /* always a C string, for logs */
}

void il_benc_put_str(il_benc_writer *w, const void *s, size_t len)
{
	char head[24];
	int n = snprintf(head, sizeof head, "%zu:", len);
	il_benc_put_raw(w, head, (size_t)n);
	il_benc_put_raw(w, s, len);
}

void il_benc_put_cstr(il_benc_writer *w, const char *s)
{
	il_benc_put_str(w, s, strlen(s));
}

void il_benc_put_int(il_benc_writer *w, int64_t v)
{
	char text[32];
	int n = snprintf(text, sizeof text, "i%llde", (long long)v);
	il_benc_put_raw(w, text, (size_t)n);
}

void il_benc_begin_dict(il_benc_writer *w)
{
	il_benc_put_raw(w, "d", 1);
}

void il_benc_begin_list(il_benc_writer *w)
{
	il_benc_put_raw(w, "l", 1);
}

void il_benc_end(il_benc_writer *w)
{
	il_benc_put_raw(w, "e", 1);
}

void il_benc_kv_str(il_benc_writer *w, const char *key, const char *value)
{
	il_benc_put_cstr(w, key);
	il_benc_put_cstr(w, value);
}

void il_benc_kv_int(il_benc_writer *w, const char *key, int64_t value)
{
	il_benc_put_cstr(w, key);
	il_benc_put_int(w, value);
}
