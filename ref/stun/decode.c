/* STUN message decoding (RFC 8489 §5, §6, §14, §15): a zero-copy view over
 * the caller's buffer, framing and attribute-format checks, typed
 * accessors. No allocation, no I/O. */
#include "icelab/stun.h"

#include <string.h>

#include "stun_internal.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum il_stun_err fail(il_stun_decode_error *err, enum il_stun_err code, size_t offset)
{
	if (err) {
		err->code = code;
		err->offset = offset;
	}
	return code;
}

bool il_stun_is_stun(const uint8_t *buf, size_t len)
{
	return len >= IL_STUN_HEADER_LEN && (buf[0] & 0xC0) == 0 &&
	       rd32(buf + 4) == IL_STUN_MAGIC_COOKIE;
}

/* Text with a byte limit and, for some attributes, "fewer than 128
 * characters" (RFC 8489 §14.8-14.10, §14.14). */
static enum il_stun_err check_text(const uint8_t *s, size_t len, size_t max_bytes,
				   unsigned max_chars, size_t *bad)
{
	if (len > max_bytes)
		return IL_STUN_ERR_STRING_TOO_LONG;
	long chars = il_utf8_chars(s, len);
	if (chars < 0) {
		*bad += 2;
		return IL_STUN_ERR_BAD_UTF8;
	}
	if (max_chars && chars >= (long)max_chars)
		return IL_STUN_ERR_STRING_TOO_LONG;
	return IL_STUN_OK;
}

/* "The Class represents the hundreds digit of the error code. The value
 * MUST be between 3 and 6. The Number represents the binary encoding of
 * the error code modulo 100, and its value MUST be between 0 and 99."
 * (RFC 8489 §14.8) */
/* Returns 0 when valid, else the value offset of the faulty byte. */
static size_t error_code_fault(const uint8_t *v)
{
	uint8_t cls = v[2] & 0x07;
	if (cls < 3 || cls > 6)
		return 2;
	return v[3] <= 99 ? 0 : 3;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Checks one known attribute's value; *at receives the offset of the
 * problem from the attribute's header: 2 for its length, 4 + n for byte n
 * of the value. */
static enum il_stun_err check_value(const il_stun_attr_info *info, const uint8_t *v, size_t len,
				    size_t *at)
{
	*at = 2;
	if (info->kind == IL_VAL_STRING)
		return check_text(v, len, info->max_len, info->max_chars, at);
	if (len < info->min_len || len > info->max_len ||
	    (info->len_multiple && len % info->len_multiple))
		return IL_STUN_ERR_ATTR_BAD_LENGTH;
	switch (info->kind) {
	case IL_VAL_ADDR:
	case IL_VAL_XOR_ADDR:
		/* "The address family can take on the following values: 0x01:IPv4
		 * 0x02:IPv6" (§14.1); the address is 32 or 128 bits. */
		if (v[1] != 0x01 && v[1] != 0x02) {
			*at = 5;
			return IL_STUN_ERR_ATTR_BAD_VALUE;
		}
		if (len != (v[1] == 0x01 ? 8u : 20u))
			return IL_STUN_ERR_ATTR_BAD_LENGTH;
		return IL_STUN_OK;
	case IL_VAL_ERROR_CODE:
		if (error_code_fault(v)) {
			*at = 4 + error_code_fault(v);
			return IL_STUN_ERR_ATTR_BAD_VALUE;
		}
		*at = 6;
		return check_text(v + 4, len - 4, 763, 128, at);
	case IL_VAL_ADDRESS_ERROR_CODE:
		if (v[0] != 0x01 && v[0] != 0x02) {
			*at = 4;
			return IL_STUN_ERR_ATTR_BAD_VALUE;
		}
		if (error_code_fault(v)) {
			*at = 4 + error_code_fault(v);
			return IL_STUN_ERR_ATTR_BAD_VALUE;
		}
		*at = 6;
		return check_text(v + 4, len - 4, 763, 128, at);
	case IL_VAL_PASSWORD_ALGORITHM: {
		size_t params = rd16(v + 2);
		if (4 + params > len || len > 4 + pad4(params))
			return IL_STUN_ERR_ATTR_BAD_LENGTH;
		return IL_STUN_OK;
	}
	case IL_VAL_PASSWORD_ALGORITHMS: {
		/* A list of (algorithm, parameters length, parameters padded to
		 * 32 bits) that fills the value exactly (§14.11). */
		size_t pos = 0;
		while (pos < len) {
			if (len - pos < 4) {
				*at = 4 + pos;
				return IL_STUN_ERR_ATTR_BAD_LENGTH;
			}
			size_t step = 4 + pad4(rd16(v + pos + 2));
			if (step > len - pos) {
				*at = 4 + pos + 2;
				return IL_STUN_ERR_ATTR_BAD_LENGTH;
			}
			pos += step;
		}
		return IL_STUN_OK;
	}
	default:
		return IL_STUN_OK;
	}
}

static void note_unknown(il_stun_msg *msg, uint16_t type)
{
	for (unsigned i = 0; i < msg->unknown_required_count; i++)
		if (msg->unknown_required[i] == type)
			return;
	if (msg->unknown_required_count < IL_STUN_MAX_UNKNOWN)
		msg->unknown_required[msg->unknown_required_count++] = type;
}

static enum il_stun_err decode_header(const uint8_t *buf, size_t len, il_stun_msg *msg,
				      il_stun_decode_error *err)
{
	if (len < IL_STUN_HEADER_LEN)
		return fail(err, IL_STUN_ERR_TRUNCATED, len);
	/* "The most significant 2 bits of every STUN message MUST be zeroes."
	 * (RFC 8489 §5) */
	if (buf[0] & 0xC0)
		return fail(err, IL_STUN_ERR_NOT_STUN, 0);
	size_t body = rd16(buf + 2);
	/* "Since all STUN attributes are padded to a multiple of 4 bytes, the
	 * last 2 bits of this field are always zero." (§5) */
	if (body % 4)
		return fail(err, IL_STUN_ERR_BAD_LENGTH, 2);
	/* "The message length MUST contain the size of the message in bytes,
	 * not including the 20-byte STUN header." (§5): a datagram holds one
	 * message exactly, so trailing or missing bytes are an error. */
	if (IL_STUN_HEADER_LEN + body != len)
		return fail(err, IL_STUN_ERR_LENGTH_MISMATCH, 2);
	uint16_t t = rd16(buf);
	msg->buf = buf;
	msg->len = len;
	msg->type = t;
	/* §5 Figure 3: M11..M0 interleaved with the class bits C1 (bit 8)
	 * and C0 (bit 4). */
	msg->method = (uint16_t)((t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2));
	msg->cls = (uint8_t)(((t >> 4) & 0x1) | ((t >> 7) & 0x2));
	/* A message without the magic cookie is an RFC 3489 one whose
	 * transaction id is 128 bits (§6, §12). */
	msg->classic = rd32(buf + 4) != IL_STUN_MAGIC_COOKIE;
	msg->tid = msg->classic ? buf + 4 : buf + 8;
	msg->attr_count = 0;
	msg->mi_index = msg->mi256_index = msg->fingerprint_index = -1;
	msg->unknown_required_count = 0;
	return IL_STUN_OK;
}

/* Walks the attribute headers: every value and its padding inside the
 * message (the class of CVE-2022-23537), at most IL_STUN_MAX_ATTRS of them
 * (CVE-2022-31031), FINGERPRINT last. *has_mi tells whether a
 * MESSAGE-INTEGRITY appears anywhere, which the ignore rule needs. */
static enum il_stun_err walk_attributes(const uint8_t *buf, size_t len, il_stun_msg *msg,
					bool *has_mi, il_stun_decode_error *err)
{
	size_t pos = IL_STUN_HEADER_LEN;
	bool seen_fingerprint = false;
	*has_mi = false;
	while (pos < len) {
		if (len - pos < 4)
			return fail(err, IL_STUN_ERR_ATTR_TRUNCATED, pos);
		uint16_t type = rd16(buf + pos);
		size_t alen = rd16(buf + pos + 2);
		if (alen > len - pos - 4)
			return fail(err, IL_STUN_ERR_ATTR_TRUNCATED, pos + 2);
		/* "When present, the FINGERPRINT attribute MUST be the last
		 * attribute in the message" (§14.7). */
		if (seen_fingerprint)
			return fail(err, IL_STUN_ERR_FINGERPRINT_NOT_LAST, pos);
		if (msg->attr_count == IL_STUN_MAX_ATTRS)
			return fail(err, IL_STUN_ERR_TOO_MANY_ATTRIBUTES, pos);
		il_stun_attr *a = &msg->attrs[msg->attr_count++];
		a->type = type;
		a->length = (uint16_t)alen;
		a->offset = (uint32_t)(pos + 4);
		a->ignored = false;
		seen_fingerprint = type == IL_ATTR_FINGERPRINT;
		*has_mi |= type == IL_ATTR_MESSAGE_INTEGRITY;
		pos += 4 + pad4(alen);
	}
	return IL_STUN_OK;
}

enum il_stun_err il_stun_decode(const uint8_t *buf, size_t len, il_stun_msg *msg,
				il_stun_decode_error *err)
{
	enum il_stun_err rc = decode_header(buf, len, msg, err);
	bool has_mi;
	if (rc == IL_STUN_OK)
		rc = walk_attributes(buf, len, msg, &has_mi, err);
	if (rc != IL_STUN_OK)
		return rc;
	for (unsigned i = 0; i < msg->attr_count; i++) {
		il_stun_attr *a = &msg->attrs[i];
		/* "agents MUST ignore all attributes that follow
		 * MESSAGE-INTEGRITY, with the exception of the
		 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT attributes. Similarly,
		 * agents MUST ignore all attributes that follow the
		 * MESSAGE-INTEGRITY-SHA256 attribute if the MESSAGE-INTEGRITY
		 * attribute is not present, with the exception of the
		 * FINGERPRINT attribute." (RFC 8489 §9) */
		a->ignored = (msg->mi_index >= 0 && a->type != IL_ATTR_FINGERPRINT &&
			      a->type != IL_ATTR_MESSAGE_INTEGRITY_SHA256) ||
			     (msg->mi256_index >= 0 && !has_mi && a->type != IL_ATTR_FINGERPRINT);
		if (a->ignored)
			continue;
		const il_stun_attr_info *info = il_stun_attr_info_find(a->type);
		if (info) {
			size_t at;
			rc = check_value(info, buf + a->offset, a->length, &at);
			if (rc != IL_STUN_OK)
				return fail(err, rc, a->offset - 4 + at);
		} else if (il_stun_attr_is_comprehension_required(a->type)) {
			note_unknown(msg, a->type);
		}
		if (a->type == IL_ATTR_MESSAGE_INTEGRITY && msg->mi_index < 0)
			msg->mi_index = (int16_t)i;
		else if (a->type == IL_ATTR_MESSAGE_INTEGRITY_SHA256 && msg->mi256_index < 0)
			msg->mi256_index = (int16_t)i;
		else if (a->type == IL_ATTR_FINGERPRINT)
			msg->fingerprint_index = (int16_t)i;
	}
	return IL_STUN_OK;
}

const il_stun_attr *il_stun_msg_find(const il_stun_msg *msg, uint16_t type)
{
	for (unsigned i = 0; i < msg->attr_count; i++)
		if (msg->attrs[i].type == type && !msg->attrs[i].ignored)
			return &msg->attrs[i];
	return NULL;
}

static const il_stun_attr_info *kind_of(const il_stun_attr *a)
{
	return il_stun_attr_info_find(a->type);
}

enum il_stun_err il_stun_attr_get_addr(const il_stun_msg *msg, const il_stun_attr *a,
				       il_addr *out)
{
	const uint8_t *v = il_stun_attr_value(msg, a);
	if (a->length < 8 || (v[1] != 0x01 && v[1] != 0x02))
		return IL_STUN_ERR_ATTR_BAD_VALUE;
	size_t iplen = v[1] == 0x01 ? 4 : 16;
	if (a->length != 4 + iplen)
		return IL_STUN_ERR_ATTR_BAD_LENGTH;
	memset(out, 0, sizeof *out);
	out->family = v[1];
	out->port = rd16(v + 2);
	memcpy(out->ip, v + 4, iplen);
	const il_stun_attr_info *info = kind_of(a);
	if (info && info->kind == IL_VAL_XOR_ADDR) {
		/* "X-Port is computed by XOR'ing the mapped port with the most
		 * significant 16 bits of the magic cookie"; the address with the
		 * cookie, and for IPv6 with the cookie then the transaction id
		 * (§14.2). */
		static const uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
		out->port ^= (uint16_t)(IL_STUN_MAGIC_COOKIE >> 16);
		for (size_t i = 0; i < iplen; i++)
			out->ip[i] ^= i < 4 ? cookie[i] : msg->buf[4 + i];
	}
	return IL_STUN_OK;
}

enum il_stun_err il_stun_attr_get_u32(const il_stun_msg *msg, const il_stun_attr *a,
				      uint32_t *out)
{
	if (a->length != 4)
		return IL_STUN_ERR_ATTR_BAD_LENGTH;
	*out = rd32(il_stun_attr_value(msg, a));
	return IL_STUN_OK;
}

enum il_stun_err il_stun_attr_get_u64(const il_stun_msg *msg, const il_stun_attr *a,
				      uint64_t *out)
{
	if (a->length != 8)
		return IL_STUN_ERR_ATTR_BAD_LENGTH;
	const uint8_t *v = il_stun_attr_value(msg, a);
	*out = (uint64_t)rd32(v) << 32 | rd32(v + 4);
	return IL_STUN_OK;
}

enum il_stun_err il_stun_attr_get_string(const il_stun_msg *msg, const il_stun_attr *a,
					 const char **text, size_t *len)
{
	*text = (const char *)il_stun_attr_value(msg, a);
	*len = a->length;
	return IL_STUN_OK;
}

enum il_stun_err il_stun_attr_get_error_code(const il_stun_msg *msg, const il_stun_attr *a,
					     int *code, const char **reason,
					     size_t *reason_len)
{
	/* An ERROR-CODE shorter than its 4-byte header is the pjnath
	 * CVE-2021-37706 class: refuse before reading. */
	if (a->length < 4)
		return IL_STUN_ERR_ATTR_BAD_LENGTH;
	const uint8_t *v = il_stun_attr_value(msg, a);
	*code = (v[2] & 0x07) * 100 + v[3];
	*reason = (const char *)v + 4;
	*reason_len = a->length - 4u;
	return IL_STUN_OK;
}

enum il_stun_err il_stun_attr_get_unknown(const il_stun_msg *msg, const il_stun_attr *a,
					  uint16_t *types, size_t max, size_t *count)
{
	if (a->length % 2)
		return IL_STUN_ERR_ATTR_BAD_LENGTH;
	const uint8_t *v = il_stun_attr_value(msg, a);
	*count = a->length / 2u;
	for (size_t i = 0; i < *count && i < max; i++)
		types[i] = rd16(v + 2 * i);
	return IL_STUN_OK;
}

enum il_stun_err il_stun_attr_get_channel(const il_stun_msg *msg, const il_stun_attr *a,
					  uint16_t *channel)
{
	if (a->length != 4)
		return IL_STUN_ERR_ATTR_BAD_LENGTH;
	*channel = rd16(il_stun_attr_value(msg, a));
	return IL_STUN_OK;
}
