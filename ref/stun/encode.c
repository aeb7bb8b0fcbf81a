/* STUN message encoding (RFC 8489 §5, §14) into a caller's buffer. The
 * header length is kept current after every attribute, so integrity and
 * fingerprint can be computed at any point. Padding is always zero. */
#include "icelab/stun.h"

#include <string.h>

#include "stun_internal.h"

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t message_type(uint16_t method, uint8_t cls)
{
	return (uint16_t)((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
			  ((cls & 0x1) << 4) | ((cls & 0x2) << 7));
}

static void init_common(il_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
			uint8_t cls)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->err = IL_STUN_OK;
	b->classic = false;
	if (cap < IL_STUN_HEADER_LEN) {
		b->err = IL_STUN_ERR_NO_SPACE;
		return;
	}
	if (method > 0x0FFF || cls > 3) {
		b->err = IL_STUN_ERR_INVALID_ARGUMENT;
		return;
	}
	wr16(buf, message_type(method, cls));
	wr16(buf + 2, 0);
	b->len = IL_STUN_HEADER_LEN;
}

void il_stun_builder_init(il_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
			  uint8_t cls, const uint8_t tid[IL_STUN_TID_LEN])
{
	init_common(b, buf, cap, method, cls);
	if (b->err != IL_STUN_OK)
		return;
	wr32(buf + 4, IL_STUN_MAGIC_COOKIE);
	memcpy(buf + 8, tid, IL_STUN_TID_LEN);
}

void il_stun_builder_init_classic(il_stun_builder *b, uint8_t *buf, size_t cap,
				  uint16_t method, uint8_t cls,
				  const uint8_t tid[IL_STUN_CLASSIC_TID_LEN])
{
	init_common(b, buf, cap, method, cls);
	if (b->err != IL_STUN_OK)
		return;
	b->classic = true;
	memcpy(buf + 4, tid, IL_STUN_CLASSIC_TID_LEN);
}

/* Reserves an attribute of value length len; returns the value pointer
 * or NULL (error recorded). */
static uint8_t *reserve(il_stun_builder *b, uint16_t type, size_t len)
{
	if (b->err != IL_STUN_OK)
		return NULL;
	size_t padded = (len + 3) & ~(size_t)3;
	if (len > 0xFFFF || b->len + 4 + padded > b->cap ||
	    b->len + 4 + padded - IL_STUN_HEADER_LEN > 0xFFFF) {
		b->err = len > 0xFFFF ? IL_STUN_ERR_INVALID_ARGUMENT : IL_STUN_ERR_NO_SPACE;
		return NULL;
	}
	uint8_t *p = b->buf + b->len;
	wr16(p, type);
	wr16(p + 2, (uint16_t)len);
	memset(p + 4 + len, 0, padded - len);
	b->len += 4 + padded;
	wr16(b->buf + 2, (uint16_t)(b->len - IL_STUN_HEADER_LEN));
	return p + 4;
}

void il_stun_add_raw(il_stun_builder *b, uint16_t type, const void *value, size_t len)
{
	uint8_t *v = reserve(b, type, len);
	if (v && len)
		memcpy(v, value, len);
}

void il_stun_add_empty(il_stun_builder *b, uint16_t type)
{
	reserve(b, type, 0);
}

void il_stun_add_u32(il_stun_builder *b, uint16_t type, uint32_t value)
{
	uint8_t *v = reserve(b, type, 4);
	if (v)
		wr32(v, value);
}

void il_stun_add_u64(il_stun_builder *b, uint16_t type, uint64_t value)
{
	uint8_t *v = reserve(b, type, 8);
	if (v) {
		wr32(v, (uint32_t)(value >> 32));
		wr32(v + 4, (uint32_t)value);
	}
}

/* True when text fits the RFC's limits for a text attribute of this
 * type; il_stun_add_raw stays available for crafting bad ones. */
static bool text_fits(uint16_t type, const char *text, size_t len)
{
	size_t max_bytes = 65535, max_chars = 0;
	const il_stun_attr_info *info = il_stun_attr_info_find(type);
	if (info && info->kind == IL_VAL_STRING) {
		max_bytes = info->max_len;
		max_chars = info->max_chars;
	} else if (type == IL_ATTR_ERROR_CODE) {
		max_bytes = 763; /* reason phrase: fewer than 128 characters (§14.8) */
		max_chars = 128;
	}
	long chars = il_utf8_chars((const uint8_t *)text, len);
	return len <= max_bytes && chars >= 0 && (!max_chars || (size_t)chars < max_chars);
}

void il_stun_add_string(il_stun_builder *b, uint16_t type, const char *text, size_t len)
{
	if (b->err == IL_STUN_OK && !text_fits(type, text, len)) {
		b->err = IL_STUN_ERR_INVALID_ARGUMENT;
		return;
	}
	il_stun_add_raw(b, type, text, len);
}

static void add_address(il_stun_builder *b, uint16_t type, const il_addr *addr, bool xor)
{
	if (b->err == IL_STUN_OK && addr->family != IL_AF_INET && addr->family != IL_AF_INET6) {
		b->err = IL_STUN_ERR_INVALID_ARGUMENT;
		return;
	}
	size_t iplen = addr->family == IL_AF_INET ? 4 : 16;
	uint8_t *v = reserve(b, type, 4 + iplen);
	if (!v)
		return;
	v[0] = 0;
	v[1] = addr->family;
	uint16_t port = addr->port;
	memcpy(v + 4, addr->ip, iplen);
	if (xor) {
		/* §14.2: XOR with the magic cookie, then the transaction id. */
		port ^= (uint16_t)(IL_STUN_MAGIC_COOKIE >> 16);
		static const uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
		for (size_t i = 0; i < iplen; i++)
			v[4 + i] ^= i < 4 ? cookie[i] : b->buf[4 + i];
	}
	wr16(v + 2, port);
}

void il_stun_add_addr(il_stun_builder *b, uint16_t type, const il_addr *addr)
{
	add_address(b, type, addr, false);
}

void il_stun_add_xor_addr(il_stun_builder *b, uint16_t type, const il_addr *addr)
{
	add_address(b, type, addr, true);
}

void il_stun_add_error_code(il_stun_builder *b, int code, const char *reason)
{
	/* Class 3..6 and number 0..99 (§14.8). */
	if (b->err == IL_STUN_OK && (code < 300 || code > 699)) {
		b->err = IL_STUN_ERR_INVALID_ARGUMENT;
		return;
	}
	size_t rlen = reason ? strlen(reason) : 0;
	if (b->err == IL_STUN_OK && rlen && !text_fits(IL_ATTR_ERROR_CODE, reason, rlen)) {
		b->err = IL_STUN_ERR_INVALID_ARGUMENT;
		return;
	}
	uint8_t *v = reserve(b, IL_ATTR_ERROR_CODE, 4 + rlen);
	if (!v)
		return;
	v[0] = v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	if (rlen)
		memcpy(v + 4, reason, rlen);
}

void il_stun_add_unknown_attributes(il_stun_builder *b, const uint16_t *types, size_t count)
{
	uint8_t *v = reserve(b, IL_ATTR_UNKNOWN_ATTRIBUTES, 2 * count);
	if (!v)
		return;
	for (size_t i = 0; i < count; i++)
		wr16(v + 2 * i, types[i]);
}

void il_stun_add_channel_number(il_stun_builder *b, uint16_t channel)
{
	uint8_t *v = reserve(b, IL_ATTR_CHANNEL_NUMBER, 4);
	if (!v)
		return;
	wr16(v, channel);
	wr16(v + 2, 0); /* RFFU: "MUST be set to 0 on transmission" (RFC 8656 §18.1) */
}

size_t il_stun_builder_finish(il_stun_builder *b, enum il_stun_err *err)
{
	if (err)
		*err = b->err;
	return b->err == IL_STUN_OK ? b->len : 0;
}
