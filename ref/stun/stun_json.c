/* The JSON form of a STUN message (stun_json.h): a decoded view to JSON for
 * `icelab stun decode --json`, the vector runner and the harness, and a
 * JSON description back to bytes for `icelab stun encode`.
 *
 * Value forms, by the attribute's kind in the registry (RFC 8489 §14 and
 * the RFCs named in stun.h):
 *   addresses (plain and XOR)  "192.0.2.1:32853", "[2001:db8::1]:443"
 *   text                       a JSON string (the UTF-8 as sent)
 *   32-bit integers            a JSON number (LIFETIME, PRIORITY, ...)
 *   empty values               ""
 *   everything else            lowercase hex of the value bytes, including
 *                              64-bit integers (ICE-CONTROLLING: JSON
 *                              numbers lose precision past 2^53),
 *                              FINGERPRINT and MESSAGE-INTEGRITY(-SHA256)
 * ERROR-CODE adds "code" and "reason", UNKNOWN-ATTRIBUTES adds "types";
 * the encoder builds those two from "code"/"reason" or "types" when there is
 * no "value" (a "value" always wins, so a decoded message re-encodes
 * byte for byte).
 * A value that cannot be shown in its kind's form (say, text that is not
 * UTF-8 in an ignored attribute) is shown as hex with "raw": true. The
 * encoder reads all of these forms back, so decode then encode gives the
 * same bytes. */
#include "icelab/stun_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- helpers */

static json_t *hex_json(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	json_t *j = json_stringn(s, 2 * n);
	free(s);
	return j;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Strict hex (even length, no separators) into out; returns the byte
 * count, or -1. */
static long hex_parse(const char *s, size_t slen, uint8_t *out, size_t cap)
{
	if (slen % 2 != 0 || slen / 2 > cap)
		return -1;
	for (size_t i = 0; i < slen; i += 2) {
		int hi = hex_nibble(s[i]);
		int lo = hex_nibble(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(slen / 2);
}

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	if (!errbuf || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ------------------------------------------------------ decode: to JSON */

/* The kind's form of a value, or NULL when the value has no such form
 * (or the kind is shown as hex). */
static json_t *typed_value(const il_stun_msg *msg, const il_stun_attr *a, uint8_t kind)
{
	const uint8_t *v = il_stun_attr_value(msg, a);
	switch (kind) {
	case IL_VAL_ADDR:
	case IL_VAL_XOR_ADDR: {
		il_addr addr;
		char text[IL_ADDR_STRLEN];
		/* The first byte is reserved: a non-zero one would be lost by
		 * the "ip:port" form, so such a value is shown raw. */
		if (a->length < 1 || v[0] != 0)
			return NULL;
		if (il_stun_attr_get_addr(msg, a, &addr) != IL_STUN_OK)
			return NULL;
		size_t want = addr.family == IL_AF_INET ? 8 : addr.family == IL_AF_INET6 ? 20 : 0;
		if (a->length != want || il_addr_format(&addr, text, sizeof text) < 0)
			return NULL;
		return json_string(text);
	}
	case IL_VAL_STRING: {
		const char *text;
		size_t len;
		if (il_stun_attr_get_string(msg, a, &text, &len) != IL_STUN_OK)
			return NULL;
		return json_stringn(text, len); /* NULL when not UTF-8 */
	}
	case IL_VAL_U32: {
		uint32_t u;
		if (a->length != 4 || il_stun_attr_get_u32(msg, a, &u) != IL_STUN_OK)
			return NULL;
		return json_integer((json_int_t)u);
	}
	case IL_VAL_EMPTY:
		return a->length == 0 ? json_string("") : NULL;
	default:
		return NULL;
	}
}

static bool kind_has_typed_form(uint8_t kind)
{
	return kind == IL_VAL_ADDR || kind == IL_VAL_XOR_ADDR || kind == IL_VAL_STRING ||
	       kind == IL_VAL_U32 || kind == IL_VAL_EMPTY;
}

/* FINGERPRINT is a 32-bit value in the registry, but a checksum reads
 * better as hex, next to the MACs. */
static uint8_t shown_kind(uint16_t type)
{
	const il_stun_attr_info *info = il_stun_attr_info_find(type);
	if (!info || type == IL_ATTR_FINGERPRINT)
		return IL_VAL_OPAQUE;
	return info->kind;
}

static json_t *value_json(const il_stun_msg *msg, const il_stun_attr *a, bool *raw)
{
	uint8_t kind = shown_kind(a->type);
	*raw = false;
	if (kind_has_typed_form(kind)) {
		json_t *j = typed_value(msg, a, kind);
		if (j)
			return j;
		*raw = true;
	}
	return hex_json(il_stun_attr_value(msg, a), a->length);
}

json_t *il_stun_attr_value_to_json(const il_stun_msg *msg, const il_stun_attr *a)
{
	bool raw;
	return value_json(msg, a, &raw);
}

/* "code"/"reason" of ERROR-CODE, "types" of UNKNOWN-ATTRIBUTES. */
static void add_decoded_extras(json_t *o, const il_stun_msg *msg, const il_stun_attr *a)
{
	if (a->type == IL_ATTR_ERROR_CODE) {
		int code;
		const char *reason;
		size_t reason_len;
		if (il_stun_attr_get_error_code(msg, a, &code, &reason, &reason_len) != IL_STUN_OK)
			return;
		json_object_set_new(o, "code", json_integer(code));
		json_t *r = json_stringn(reason, reason_len);
		if (r)
			json_object_set_new(o, "reason", r);
	} else if (a->type == IL_ATTR_UNKNOWN_ATTRIBUTES) {
		size_t max = a->length / 2u, count = 0;
		uint16_t *types = malloc((max ? max : 1) * sizeof *types);
		if (types && il_stun_attr_get_unknown(msg, a, types, max, &count) == IL_STUN_OK &&
		    count <= max) {
			json_t *arr = json_array();
			for (size_t i = 0; i < count; i++)
				json_array_append_new(arr, json_integer(types[i]));
			json_object_set_new(o, "types", arr);
		}
		free(types);
	}
}

static json_t *attr_json(const il_stun_msg *msg, const il_stun_attr *a)
{
	json_t *o = json_object();
	const il_stun_attr_info *info = il_stun_attr_info_find(a->type);
	char name[8];
	bool raw;

	json_object_set_new(o, "type", json_integer(a->type));
	if (info) {
		json_object_set_new(o, "name", json_string(info->name));
	} else {
		snprintf(name, sizeof name, "0x%04x", a->type);
		json_object_set_new(o, "name", json_string(name));
	}
	json_object_set_new(o, "length", json_integer(a->length));
	json_object_set_new(o, "value", value_json(msg, a, &raw));
	if (raw)
		json_object_set_new(o, "raw", json_true());
	add_decoded_extras(o, msg, a);
	if (a->ignored)
		json_object_set_new(o, "ignored", json_true());
	return o;
}

/* The password algorithm the long-term key uses (RFC 8489 §9.2.2, §14.12):
 * PASSWORD-ALGORITHM when present, MD5 otherwise; 0 when unsupported. */
static uint16_t msg_password_algorithm(const il_stun_msg *msg)
{
	const il_stun_attr *pa = il_stun_msg_find(msg, IL_ATTR_PASSWORD_ALGORITHM);
	uint16_t alg;
	if (!pa)
		return IL_STUN_PWALG_MD5;
	if (il_stun_attr_get_password_algorithm(msg, pa, &alg) != IL_STUN_OK)
		return 0;
	return alg == IL_STUN_PWALG_MD5 || alg == IL_STUN_PWALG_SHA256 ? alg : 0;
}

static bool creds_long_term(const il_stun_credentials *c)
{
	return c && c->username && c->realm && c->password;
}

/* The key a receiver would use; false when there is none to use. */
static bool verify_key(const il_stun_msg *msg, const il_stun_credentials *creds,
		       il_stun_key *key)
{
	if (!creds || !creds->password)
		return false;
	if (creds_long_term(creds)) {
		uint16_t alg = msg_password_algorithm(msg);
		if (alg == 0)
			return false;
		return il_stun_key_long_term(key, (enum il_stun_password_algorithm)alg,
					     creds->username, creds->realm,
					     creds->password) == IL_STUN_OK;
	}
	return il_stun_key_short_term(key, creds->password) == IL_STUN_OK;
}

/* USERHASH (§14.4) against the given username and realm. */
static enum il_stun_verdict check_userhash(const il_stun_msg *msg,
					   const il_stun_credentials *creds)
{
	const il_stun_attr *uh = il_stun_msg_find(msg, IL_ATTR_USERHASH);
	uint8_t want[32];
	if (!uh)
		return IL_STUN_VERDICT_ABSENT;
	if (!creds || !creds->username || !creds->realm ||
	    il_stun_userhash(creds->username, creds->realm, want) != IL_STUN_OK)
		return IL_STUN_VERDICT_UNCHECKED;
	if (uh->length != 32)
		return IL_STUN_VERDICT_MISMATCH;
	return il_stun_mac_equal(il_stun_attr_value(msg, uh), want, 32) ? IL_STUN_VERDICT_OK
									  : IL_STUN_VERDICT_MISMATCH;
}

static json_t *integrity_json(const il_stun_msg *msg, const il_stun_credentials *creds)
{
	il_stun_key key;
	const il_stun_key *k = verify_key(msg, creds, &key) ? &key : NULL;
	json_t *o = json_object();

	json_object_set_new(o, "message_integrity",
			    json_string(il_stun_verdict_name(il_stun_check_integrity(msg, k))));
	json_object_set_new(o, "message_integrity_sha256",
			    json_string(il_stun_verdict_name(il_stun_check_integrity_sha256(msg, k))));
	json_object_set_new(o, "fingerprint",
			    json_string(il_stun_verdict_name(il_stun_check_fingerprint(msg))));
	enum il_stun_verdict uh = check_userhash(msg, creds);
	if (uh != IL_STUN_VERDICT_ABSENT)
		json_object_set_new(o, "userhash", json_string(il_stun_verdict_name(uh)));
	return o;
}

json_t *il_stun_msg_to_json(const il_stun_msg *msg, const il_stun_credentials *creds)
{
	json_t *o = json_object();
	const char *method = il_stun_method_name(msg->method);
	const char *cls = il_stun_class_name(msg->cls);
	char buf[8];

	if (method) {
		json_object_set_new(o, "method", json_string(method));
	} else {
		snprintf(buf, sizeof buf, "0x%03x", (unsigned)(msg->method & 0xfff));
		json_object_set_new(o, "method", json_string(buf));
	}
	json_object_set_new(o, "class", json_string(cls ? cls : "?"));
	json_object_set_new(o, "transaction_id",
			    hex_json(msg->tid, msg->classic ? IL_STUN_CLASSIC_TID_LEN
							    : IL_STUN_TID_LEN));
	if (msg->classic)
		json_object_set_new(o, "classic", json_true());
	json_object_set_new(o, "length", json_integer((json_int_t)(msg->len - IL_STUN_HEADER_LEN)));

	json_t *attrs = json_array();
	for (uint16_t i = 0; i < msg->attr_count; i++)
		json_array_append_new(attrs, attr_json(msg, &msg->attrs[i]));
	json_object_set_new(o, "attributes", attrs);
	json_object_set_new(o, "integrity", integrity_json(msg, creds));
	return o;
}

/* -------------------------------------------------- encode: from JSON */

typedef struct encode_ctx {
	il_stun_builder b;
	const il_stun_credentials *creds;
	uint16_t password_alg;   /* from a PASSWORD-ALGORITHM written so far */
	il_stun_key key;
	bool have_key;
	char *errbuf;
	size_t errlen;
	size_t index;            /* of the attribute being written */
	char what[48];           /* "attribute 3 (USERNAME)" */
} encode_ctx;

static bool parse_method(const json_t *j, uint16_t *out)
{
	json_int_t v;
	if (json_is_integer(j)) {
		v = json_integer_value(j);
	} else if (json_is_string(j)) {
		const char *s = json_string_value(j);
		int m = il_stun_method_from_name(s);
		if (m >= 0) {
			*out = (uint16_t)m;
			return true;
		}
		char *end;
		errno = 0;
		v = strtoll(s, &end, 16);
		if (strncmp(s, "0x", 2) != 0 || errno || *end || end == s + 2)
			return false;
	} else {
		return false;
	}
	if (v < 0 || v > 0xfff)
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool parse_class(const json_t *j, uint8_t *out)
{
	int c = -1;
	if (json_is_integer(j))
		c = json_integer_value(j) >= 0 && json_integer_value(j) <= 3
			    ? (int)json_integer_value(j) : -1;
	else if (json_is_string(j))
		c = il_stun_class_from_name(json_string_value(j));
	if (c < 0 || c > 3)
		return false;
	*out = (uint8_t)c;
	return true;
}

static const il_stun_attr_info *info_by_name(const char *name)
{
	size_t count;
	const il_stun_attr_info *all = il_stun_attr_info_all(&count);
	for (size_t i = 0; i < count; i++)
		if (strcasecmp(all[i].name, name) == 0)
			return &all[i];
	return NULL;
}

/* The attribute's type from "type" (a number) or "name" (a registry name
 * or "0x" and hex digits). */
static bool attr_type(encode_ctx *c, const json_t *a, uint16_t *type)
{
	const json_t *t = json_object_get(a, "type");
	const json_t *n = json_object_get(a, "name");
	if (json_is_integer(t)) {
		json_int_t v = json_integer_value(t);
		if (v < 0 || v > 0xffff) {
			set_err(c->errbuf, c->errlen, "attribute %zu: type %lld out of range",
				c->index, (long long)v);
			return false;
		}
		const il_stun_attr_info *named = json_is_string(n) ? info_by_name(json_string_value(n))
								   : NULL;
		if (named && named->type != v) {
			set_err(c->errbuf, c->errlen, "attribute %zu: type %lld is not %s (0x%04x)",
				c->index, (long long)v, named->name, named->type);
			return false;
		}
		*type = (uint16_t)v;
		return true;
	}
	if (t) {
		set_err(c->errbuf, c->errlen, "attribute %zu: \"type\" must be a number", c->index);
		return false;
	}
	if (json_is_string(n)) {
		const char *s = json_string_value(n);
		const il_stun_attr_info *info = info_by_name(s);
		if (info) {
			*type = info->type;
			return true;
		}
		char *end;
		errno = 0;
		long v = strtol(s, &end, 16);
		if (strncmp(s, "0x", 2) == 0 && end != s + 2 && !*end && !errno && v >= 0 &&
		    v <= 0xffff) {
			*type = (uint16_t)v;
			return true;
		}
		set_err(c->errbuf, c->errlen, "attribute %zu: unknown name \"%s\" (use \"type\")",
			c->index, s);
		return false;
	}
	set_err(c->errbuf, c->errlen, "attribute %zu: needs a \"type\" or a \"name\"", c->index);
	return false;
}

static bool need_key(encode_ctx *c)
{
	const il_stun_credentials *cr = c->creds;
	enum il_stun_err e;
	if (c->have_key)
		return true;
	if (!cr || !cr->password) {
		set_err(c->errbuf, c->errlen,
			"%s: computing it needs a password (short-term) or a username, "
			"realm and password (long-term)", c->what);
		return false;
	}
	if (creds_long_term(cr)) {
		if (c->password_alg != IL_STUN_PWALG_MD5 && c->password_alg != IL_STUN_PWALG_SHA256) {
			set_err(c->errbuf, c->errlen,
				"%s: PASSWORD-ALGORITHM 0x%04x has no key derivation", c->what,
				c->password_alg);
			return false;
		}
		e = il_stun_key_long_term(&c->key, (enum il_stun_password_algorithm)c->password_alg,
					  cr->username, cr->realm, cr->password);
	} else {
		e = il_stun_key_short_term(&c->key, cr->password);
	}
	if (e != IL_STUN_OK) {
		set_err(c->errbuf, c->errlen, "%s: key: %s", c->what, il_stun_err_message(e));
		return false;
	}
	c->have_key = true;
	return true;
}

/* Hex value bytes written raw. */
static bool add_hex(encode_ctx *c, uint16_t type, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t slen = json_string_length(v);
	uint8_t *bytes = malloc(slen / 2 + 1);
	if (!bytes) {
		set_err(c->errbuf, c->errlen, "%s: out of memory", c->what);
		return false;
	}
	long n = hex_parse(s, slen, bytes, slen / 2 + 1);
	if (n < 0) {
		free(bytes);
		set_err(c->errbuf, c->errlen, "%s: value is not hex: \"%.40s\"", c->what, s);
		return false;
	}
	il_stun_add_raw(&c->b, type, bytes, (size_t)n);
	free(bytes);
	return true;
}

/* MESSAGE-INTEGRITY, -SHA256, FINGERPRINT given without a value. */
static bool add_computed(encode_ctx *c, uint16_t type, const json_t *a)
{
	if (type == IL_ATTR_FINGERPRINT) {
		il_stun_add_fingerprint(&c->b);
		return true;
	}
	if (!need_key(c))
		return false;
	if (type == IL_ATTR_MESSAGE_INTEGRITY) {
		il_stun_add_message_integrity(&c->b, &c->key);
		return true;
	}
	const json_t *len = json_object_get(a, "length");
	json_int_t n = json_is_integer(len) ? json_integer_value(len) : 32;
	if (n < 16 || n > 32 || n % 4 != 0) {
		set_err(c->errbuf, c->errlen, "%s: length %lld: must be 16..32, a multiple of 4",
			c->what, (long long)n);
		return false;
	}
	il_stun_add_message_integrity_sha256(&c->b, &c->key, (size_t)n);
	return true;
}

static bool add_integer(encode_ctx *c, uint16_t type, uint8_t kind, bool known, json_int_t v)
{
	uint8_t bytes[4] = {0};
	if (kind == IL_VAL_U64) {
		if (v < 0) {
			set_err(c->errbuf, c->errlen, "%s: negative value", c->what);
			return false;
		}
		il_stun_add_u64(&c->b, type, (uint64_t)v);
		return true;
	}
	if (v < 0 || v > 0xffffffffll) {
		set_err(c->errbuf, c->errlen, "%s: %lld does not fit 32 bits", c->what, (long long)v);
		return false;
	}
	switch (known ? kind : IL_VAL_U32) {
	case IL_VAL_U32:
		il_stun_add_u32(&c->b, type, (uint32_t)v);
		return true;
	case IL_VAL_CHANNEL:
	case IL_VAL_PORT_RFFU:
	case IL_VAL_PASSWORD_ALGORITHM:
		if (v > 0xffff)
			break;
		put16(bytes, (uint16_t)v);
		il_stun_add_raw(&c->b, type, bytes, 4);
		return true;
	case IL_VAL_U8_RFFU:
		if (v > 0xff)
			break;
		bytes[0] = (uint8_t)v;
		il_stun_add_raw(&c->b, type, bytes, 4);
		return true;
	case IL_VAL_EVEN_PORT:
		if (v > 0xff)
			break;
		bytes[0] = (uint8_t)v;
		il_stun_add_raw(&c->b, type, bytes, 1);
		return true;
	default:
		set_err(c->errbuf, c->errlen, "%s: takes a hex string, not a number", c->what);
		return false;
	}
	set_err(c->errbuf, c->errlen, "%s: %lld out of range", c->what, (long long)v);
	return false;
}

static bool add_error_code(encode_ctx *c, const json_t *a)
{
	json_int_t code = json_integer_value(json_object_get(a, "code"));
	const json_t *r = json_object_get(a, "reason");
	const char *reason = json_is_string(r) ? json_string_value(r) : NULL;
	if (r && !json_is_string(r)) {
		set_err(c->errbuf, c->errlen, "%s: \"reason\" must be a string", c->what);
		return false;
	}
	if (code < 300 || code > 699) {
		set_err(c->errbuf, c->errlen, "%s: code %lld outside 300..699", c->what,
			(long long)code);
		return false;
	}
	if (!reason)
		reason = il_stun_error_reason((int)code);
	if (r && strlen(reason) != json_string_length(r)) {
		/* A reason with a NUL in it (crafting): the builder takes C
		 * strings, so write the §14.8 layout by hand. */
		size_t rlen = json_string_length(r);
		uint8_t *v = malloc(4 + rlen);
		if (!v) {
			set_err(c->errbuf, c->errlen, "%s: out of memory", c->what);
			return false;
		}
		v[0] = v[1] = 0;
		v[2] = (uint8_t)(code / 100);
		v[3] = (uint8_t)(code % 100);
		memcpy(v + 4, reason, rlen);
		il_stun_add_raw(&c->b, IL_ATTR_ERROR_CODE, v, 4 + rlen);
		free(v);
		return true;
	}
	il_stun_add_error_code(&c->b, (int)code, reason ? reason : "");
	return true;
}

static bool add_unknown_list(encode_ctx *c, const json_t *types)
{
	uint16_t list[256];
	size_t n = json_array_size(types);
	if (n > 256) {
		set_err(c->errbuf, c->errlen, "%s: more than 256 types", c->what);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *t = json_array_get(types, i);
		if (!json_is_integer(t) || json_integer_value(t) < 0 ||
		    json_integer_value(t) > 0xffff) {
			set_err(c->errbuf, c->errlen, "%s: \"types\" must hold 16-bit numbers",
				c->what);
			return false;
		}
		list[i] = (uint16_t)json_integer_value(t);
	}
	il_stun_add_unknown_attributes(&c->b, list, n);
	return true;
}

static bool add_string_value(encode_ctx *c, uint16_t type, uint8_t kind, const json_t *v)
{
	if (kind == IL_VAL_STRING) {
		il_stun_add_string(&c->b, type, json_string_value(v), json_string_length(v));
		return true;
	}
	if (kind == IL_VAL_ADDR || kind == IL_VAL_XOR_ADDR) {
		il_addr addr;
		if (il_addr_parse(json_string_value(v), &addr) == 0) {
			if (kind == IL_VAL_ADDR)
				il_stun_add_addr(&c->b, type, &addr);
			else
				il_stun_add_xor_addr(&c->b, type, &addr);
			return true;
		}
	}
	return add_hex(c, type, v);
}

/* One attribute object. */
static bool add_attr(encode_ctx *c, const json_t *a)
{
	uint16_t type;
	if (!json_is_object(a)) {
		set_err(c->errbuf, c->errlen, "attribute %zu: not an object", c->index);
		return false;
	}
	if (!attr_type(c, a, &type))
		return false;
	const il_stun_attr_info *info = il_stun_attr_info_find(type);
	if (info)
		snprintf(c->what, sizeof c->what, "attribute %zu (%s)", c->index, info->name);
	else
		snprintf(c->what, sizeof c->what, "attribute %zu (0x%04x)", c->index, type);
	uint8_t kind = shown_kind(type);
	const json_t *v = json_object_get(a, "value");

	if (type == IL_ATTR_ERROR_CODE && !v && json_is_integer(json_object_get(a, "code")))
		return add_error_code(c, a);
	if (type == IL_ATTR_UNKNOWN_ATTRIBUTES && !v && json_is_array(json_object_get(a, "types")))
		return add_unknown_list(c, json_object_get(a, "types"));
	if (!v && (type == IL_ATTR_MESSAGE_INTEGRITY || type == IL_ATTR_MESSAGE_INTEGRITY_SHA256 ||
		   type == IL_ATTR_FINGERPRINT))
		return add_computed(c, type, a);
	if (!v || json_is_null(v)) {
		if (kind == IL_VAL_EMPTY || !info) {
			il_stun_add_empty(&c->b, type);
			return true;
		}
		set_err(c->errbuf, c->errlen, "%s: needs a \"value\"", c->what);
		return false;
	}
	if (json_is_true(json_object_get(a, "raw"))) {
		if (!json_is_string(v)) {
			set_err(c->errbuf, c->errlen, "%s: \"raw\" needs a hex string value", c->what);
			return false;
		}
		return add_hex(c, type, v);
	}
	if (json_is_integer(v))
		return add_integer(c, type, kind, info != NULL, json_integer_value(v));
	if (json_is_string(v))
		return add_string_value(c, type, kind, v);
	set_err(c->errbuf, c->errlen, "%s: \"value\" must be a string or a number", c->what);
	return false;
}

static bool read_tid(const json_t *desc, bool classic, uint8_t *tid, char *errbuf,
		     size_t errlen)
{
	const json_t *t = json_object_get(desc, "transaction_id");
	size_t want = classic ? IL_STUN_CLASSIC_TID_LEN : IL_STUN_TID_LEN;
	if (!json_is_string(t)) {
		set_err(errbuf, errlen, "\"transaction_id\" missing (%zu bytes as hex)", want);
		return false;
	}
	if (json_string_length(t) != 2 * want ||
	    hex_parse(json_string_value(t), 2 * want, tid, want) != (long)want) {
		set_err(errbuf, errlen, "\"transaction_id\" must be %zu hex digits%s", 2 * want,
			classic ? " (classic)" : "");
		return false;
	}
	return true;
}

size_t il_stun_msg_from_json(const json_t *desc, const il_stun_credentials *creds,
			     uint8_t *buf, size_t cap, char *errbuf, size_t errlen)
{
	uint16_t method;
	uint8_t cls;
	uint8_t tid[IL_STUN_CLASSIC_TID_LEN];

	if (!json_is_object(desc)) {
		set_err(errbuf, errlen, "the description must be a JSON object");
		return 0;
	}
	if (!parse_method(json_object_get(desc, "method"), &method)) {
		set_err(errbuf, errlen, "\"method\": a method name, \"0x\" + hex, or 0..4095");
		return 0;
	}
	if (!parse_class(json_object_get(desc, "class"), &cls)) {
		set_err(errbuf, errlen, "\"class\": request, indication, success or error");
		return 0;
	}
	bool classic = json_is_true(json_object_get(desc, "classic"));
	if (!read_tid(desc, classic, tid, errbuf, errlen))
		return 0;
	const json_t *attrs = json_object_get(desc, "attributes");
	if (attrs && !json_is_array(attrs)) {
		set_err(errbuf, errlen, "\"attributes\" must be an array");
		return 0;
	}

	encode_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		set_err(errbuf, errlen, "out of memory");
		return 0;
	}
	c->creds = creds;
	c->password_alg = IL_STUN_PWALG_MD5;
	c->errbuf = errbuf;
	c->errlen = errlen;
	if (classic)
		il_stun_builder_init_classic(&c->b, buf, cap, method, cls, tid);
	else
		il_stun_builder_init(&c->b, buf, cap, method, cls, tid);

	size_t len = 0;
	for (size_t i = 0; i < json_array_size(attrs); i++) {
		const json_t *a = json_array_get(attrs, i);
		size_t start = c->b.len;
		c->index = i;
		if (!add_attr(c, a))
			goto out;
		if (c->b.err != IL_STUN_OK) {
			set_err(errbuf, errlen, "%s: %s", c->what, il_stun_err_message(c->b.err));
			goto out;
		}
		uint16_t type = get16(buf + start);
		uint16_t real = get16(buf + start + 2);
		if (type == IL_ATTR_PASSWORD_ALGORITHM && real >= 2 && !c->have_key)
			c->password_alg = get16(buf + start + 4);
		/* A "length" unlike the value's writes a lying header (crafting);
		 * for a computed MESSAGE-INTEGRITY-SHA256 it chose the size. */
		const json_t *l = json_object_get(a, "length");
		if (json_is_integer(l) && json_integer_value(l) != real) {
			if (json_integer_value(l) < 0 || json_integer_value(l) > 0xffff) {
				set_err(errbuf, errlen, "%s: length out of range", c->what);
				goto out;
			}
			put16(buf + start + 2, (uint16_t)json_integer_value(l));
		}
	}
	enum il_stun_err e;
	len = il_stun_builder_finish(&c->b, &e);
	if (len == 0) {
		set_err(errbuf, errlen, "%s", il_stun_err_message(e));
		goto out;
	}
	const json_t *ml = json_object_get(desc, "length");
	if (json_is_integer(ml) && json_integer_value(ml) != (json_int_t)(len - IL_STUN_HEADER_LEN)) {
		if (json_integer_value(ml) < 0 || json_integer_value(ml) > 0xffff) {
			set_err(errbuf, errlen, "\"length\" out of range");
			len = 0;
			goto out;
		}
		put16(buf + 2, (uint16_t)json_integer_value(ml));
	}
out:
	free(c);
	return len;
}
