/* Fuzz target stun_decode: the STUN codec (RFC 8489 §5, §14) and its
 * integrity checks (§9, §14.5-14.7).
 *
 * Every input is decoded. A refused input must carry a sane error. An
 * accepted one must give a view whose attributes tile the message exactly;
 * its MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT verdicts, under fixed
 * credentials, must agree with an independent computation (OpenSSL, zlib);
 * the typed accessors must accept every known attribute the decoder let
 * through; and re-encoding every non-ignored attribute raw with the builder
 * (same method, class, transaction id) must decode to the same view. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "icelab/stun.h"
#include "icelab/stun_integrity.h"
#include "icelab/stun_json.h"

#include "fuzz_check.h"

/* RFC 5769 §2.1-2.3 (short-term) and §2.4 / RFC 8489 B.1 (long-term)
 * credentials: the vectors seeded from vectors/ then verify, and the
 * fuzzer starts from messages whose integrity is good. */
#define SHORT_PASSWORD "VOkJxbRl1RmTxUk/WvJxBt"
#define LT_USERNAME "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"
#define LT_REALM "example.org"
#define LT_PASSWORD "TheMatrIX"

enum { KEY_SHORT, KEY_LT_MD5, KEY_LT_SHA256, KEY_COUNT };

static il_stun_key lib_keys[KEY_COUNT];
static uint8_t raw_keys[KEY_COUNT][32];
static unsigned raw_key_lens[KEY_COUNT];

/* Big enough for the largest STUN message (20 + 65535) and a bit more. */
#define MAX_MSG (IL_STUN_HEADER_LEN + 65536 + 64)
static uint8_t scratch[MAX_MSG];
static uint8_t rebuilt[MAX_MSG];
static uint8_t typed_buf[1024];

static void keys_init(void)
{
	static bool ready;
	if (ready)
		return;
	FUZZ_CHECK(il_stun_key_short_term(&lib_keys[KEY_SHORT], SHORT_PASSWORD) == IL_STUN_OK);
	FUZZ_CHECK(il_stun_key_long_term(&lib_keys[KEY_LT_MD5], IL_STUN_PWALG_MD5, LT_USERNAME,
					 LT_REALM, LT_PASSWORD) == IL_STUN_OK);
	FUZZ_CHECK(il_stun_key_long_term(&lib_keys[KEY_LT_SHA256], IL_STUN_PWALG_SHA256,
					 LT_USERNAME, LT_REALM, LT_PASSWORD) == IL_STUN_OK);

	/* The oracle's keys, from the RFC formulas; every string is already
	 * in SASLprep form, so OpaqueString is the identity here. */
	memcpy(raw_keys[KEY_SHORT], SHORT_PASSWORD, strlen(SHORT_PASSWORD));
	raw_key_lens[KEY_SHORT] = (unsigned)strlen(SHORT_PASSWORD);
	const char *lt = LT_USERNAME ":" LT_REALM ":" LT_PASSWORD;
	FUZZ_CHECK(EVP_Digest(lt, strlen(lt), raw_keys[KEY_LT_MD5], &raw_key_lens[KEY_LT_MD5],
			      EVP_md5(), NULL) == 1);
	FUZZ_CHECK(EVP_Digest(lt, strlen(lt), raw_keys[KEY_LT_SHA256],
			      &raw_key_lens[KEY_LT_SHA256], EVP_sha256(), NULL) == 1);
	ready = true;
}

/* §5: M11..M0 and C1 C0 interleaved in the 14-bit type. */
static uint16_t type_method(uint16_t t)
{
	return (uint16_t)((t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2));
}

static uint8_t type_class(uint16_t t)
{
	return (uint8_t)(((t >> 4) & 1) | ((t >> 7) & 2));
}

static void check_error(enum il_stun_err ret, const il_stun_decode_error *err, size_t len)
{
	FUZZ_CHECK(ret > IL_STUN_OK && ret < IL_STUN_ERR__COUNT);
	FUZZ_CHECK(err->code == ret);
	FUZZ_CHECK(err->offset <= len);
	FUZZ_CHECK(il_stun_err_name(ret) != NULL);
	FUZZ_CHECK(il_stun_err_message(ret) != NULL);
}

static void check_layout(const il_stun_msg *msg, const uint8_t *buf, size_t len)
{
	FUZZ_CHECK(msg->buf == buf);
	FUZZ_CHECK(msg->len == len);
	FUZZ_CHECK(len >= IL_STUN_HEADER_LEN && len % 4 == 0);
	FUZZ_CHECK(len == IL_STUN_HEADER_LEN + (size_t)fuzz_be16(buf + 2));
	FUZZ_CHECK((buf[0] & 0xC0) == 0);
	FUZZ_CHECK(msg->type == fuzz_be16(buf));
	FUZZ_CHECK(msg->method == type_method(msg->type));
	FUZZ_CHECK(msg->cls == type_class(msg->type));
	FUZZ_CHECK(msg->classic == (fuzz_be32(buf + 4) != IL_STUN_MAGIC_COOKIE));
	FUZZ_CHECK(msg->tid == buf + (msg->classic ? 4 : 8));
	if (!msg->classic)
		FUZZ_CHECK(il_stun_is_stun(buf, len));

	/* The attributes tile the body: each starts where the previous one's
	 * padding ends, and the last one's padding ends the message. */
	FUZZ_CHECK(msg->attr_count <= IL_STUN_MAX_ATTRS);
	size_t at = IL_STUN_HEADER_LEN;
	for (size_t i = 0; i < msg->attr_count; i++) {
		const il_stun_attr *a = &msg->attrs[i];
		FUZZ_CHECK(a->offset == at + 4);
		FUZZ_CHECK(a->type == fuzz_be16(buf + at));
		FUZZ_CHECK(a->length == fuzz_be16(buf + at + 2));
		at = a->offset + fuzz_round4(a->length);
		FUZZ_CHECK(at <= len);
	}
	FUZZ_CHECK(at == len);

	const struct {
		int16_t index;
		uint16_t type;
	} special[] = {
		{msg->mi_index, IL_ATTR_MESSAGE_INTEGRITY},
		{msg->mi256_index, IL_ATTR_MESSAGE_INTEGRITY_SHA256},
		{msg->fingerprint_index, IL_ATTR_FINGERPRINT},
	};
	for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
		FUZZ_CHECK(special[i].index >= -1 && special[i].index < (int)msg->attr_count);
		if (special[i].index < 0)
			continue;
		FUZZ_CHECK(msg->attrs[special[i].index].type == special[i].type);
		FUZZ_CHECK(!msg->attrs[special[i].index].ignored);
	}
	/* §14.7: FINGERPRINT is last. */
	if (msg->fingerprint_index >= 0)
		FUZZ_CHECK(msg->fingerprint_index == (int)msg->attr_count - 1);
	/* Only what follows an integrity attribute may be ignored. */
	int16_t first_integrity = msg->mi_index;
	if (first_integrity < 0 || (msg->mi256_index >= 0 && msg->mi256_index < first_integrity))
		first_integrity = msg->mi256_index;
	for (size_t i = 0; i < msg->attr_count; i++)
		if (first_integrity < 0 || (int)i <= first_integrity)
			FUZZ_CHECK(!msg->attrs[i].ignored);

	FUZZ_CHECK(msg->unknown_required_count <= IL_STUN_MAX_UNKNOWN);
	for (size_t i = 0; i < msg->unknown_required_count; i++) {
		FUZZ_CHECK(il_stun_attr_is_comprehension_required(msg->unknown_required[i]));
		FUZZ_CHECK(il_stun_attr_info_find(msg->unknown_required[i]) == NULL);
	}
}

static void check_fingerprint(const il_stun_msg *msg)
{
	enum il_stun_verdict v = il_stun_check_fingerprint(msg);
	FUZZ_CHECK(il_stun_verdict_name(v) != NULL);
	if (msg->fingerprint_index < 0) {
		FUZZ_CHECK(v == IL_STUN_VERDICT_ABSENT);
		return;
	}
	const il_stun_attr *fp = &msg->attrs[msg->fingerprint_index];
	size_t covered = (size_t)fp->offset - 4;
	uint32_t crc = (uint32_t)crc32(0L, msg->buf, (uInt)covered) ^ 0x5354554Eu;
	FUZZ_CHECK(il_stun_fingerprint_value(msg->buf, covered) == crc);
	bool match = fp->length == 4 && fuzz_be32(msg->buf + fp->offset) == crc;
	FUZZ_CHECK(v == (match ? IL_STUN_VERDICT_OK : IL_STUN_VERDICT_MISMATCH));
}

/* §14.5/§14.6: HMAC over the message up to the integrity attribute, with
 * the header length rewritten to end at that attribute's value. */
static bool oracle_hmac_matches(const il_stun_msg *msg, const il_stun_attr *a, int key,
				bool sha256)
{
	size_t attr_start = (size_t)a->offset - 4;
	size_t end = (size_t)a->offset + fuzz_round4(a->length);
	memcpy(scratch, msg->buf, attr_start);
	scratch[2] = (uint8_t)((end - IL_STUN_HEADER_LEN) >> 8);
	scratch[3] = (uint8_t)(end - IL_STUN_HEADER_LEN);
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	FUZZ_CHECK(HMAC(sha256 ? EVP_sha256() : EVP_sha1(), raw_keys[key], (int)raw_key_lens[key],
			scratch, attr_start, mac, &mac_len) != NULL);
	if (sha256) {
		if (a->length < 16 || a->length > 32 || a->length % 4 != 0)
			return false;
	} else if (a->length != 20) {
		return false;
	}
	return memcmp(mac, msg->buf + a->offset, a->length) == 0;
}

static void check_integrity(const il_stun_msg *msg)
{
	enum il_stun_verdict v = il_stun_check_integrity(msg, NULL);
	FUZZ_CHECK(v == (msg->mi_index < 0 ? IL_STUN_VERDICT_ABSENT : IL_STUN_VERDICT_UNCHECKED));
	v = il_stun_check_integrity_sha256(msg, NULL);
	FUZZ_CHECK(v == (msg->mi256_index < 0 ? IL_STUN_VERDICT_ABSENT : IL_STUN_VERDICT_UNCHECKED));

	for (int k = 0; k < KEY_COUNT; k++) {
		v = il_stun_check_integrity(msg, &lib_keys[k]);
		if (msg->mi_index < 0) {
			FUZZ_CHECK(v == IL_STUN_VERDICT_ABSENT);
		} else if (!msg->classic) {
			/* RFC 3489 hashed differently; only RFC 5389+ has an oracle. */
			bool ok = oracle_hmac_matches(msg, &msg->attrs[msg->mi_index], k, false);
			FUZZ_CHECK(v == (ok ? IL_STUN_VERDICT_OK : IL_STUN_VERDICT_MISMATCH));
		} else {
			FUZZ_CHECK(v == IL_STUN_VERDICT_OK || v == IL_STUN_VERDICT_MISMATCH);
		}

		v = il_stun_check_integrity_sha256(msg, &lib_keys[k]);
		if (msg->mi256_index < 0) {
			FUZZ_CHECK(v == IL_STUN_VERDICT_ABSENT);
		} else if (!msg->classic) {
			bool ok = oracle_hmac_matches(msg, &msg->attrs[msg->mi256_index], k, true);
			FUZZ_CHECK(v == (ok ? IL_STUN_VERDICT_OK : IL_STUN_VERDICT_MISMATCH));
		} else {
			FUZZ_CHECK(v == IL_STUN_VERDICT_OK || v == IL_STUN_VERDICT_MISMATCH);
		}
	}
}

/* An address re-encoded with the typed builder must give the same value
 * bytes (the first, reserved byte aside). */
static void check_addr_round_trip(const il_stun_msg *msg, const il_stun_attr *a,
				  const il_addr *addr, bool xor)
{
	il_stun_builder b;
	il_stun_builder_init(&b, typed_buf, sizeof typed_buf, msg->method, msg->cls, msg->tid);
	if (xor)
		il_stun_add_xor_addr(&b, a->type, addr);
	else
		il_stun_add_addr(&b, a->type, addr);
	enum il_stun_err err;
	size_t n = il_stun_builder_finish(&b, &err);
	FUZZ_CHECK(n == IL_STUN_HEADER_LEN + 4 + (size_t)a->length);
	FUZZ_CHECK(fuzz_be16(typed_buf + 20) == a->type);
	FUZZ_CHECK(fuzz_be16(typed_buf + 22) == a->length);
	FUZZ_CHECK(memcmp(typed_buf + 25, msg->buf + a->offset + 1, a->length - 1u) == 0);
}

static void check_error_code_round_trip(const il_stun_msg *msg, int code, const char *reason,
					size_t reason_len)
{
	/* The builder takes a C string: only reasons without NUL survive. */
	char text[800];
	if (reason_len >= sizeof text || memchr(reason, 0, reason_len) != NULL)
		return;
	memcpy(text, reason, reason_len);
	text[reason_len] = '\0';
	il_stun_builder b;
	il_stun_builder_init(&b, typed_buf, sizeof typed_buf, msg->method, msg->cls, msg->tid);
	il_stun_add_error_code(&b, code, text);
	enum il_stun_err err;
	size_t n = il_stun_builder_finish(&b, &err);
	FUZZ_CHECK(n > 0);
	il_stun_msg again;
	FUZZ_CHECK(il_stun_decode(typed_buf, n, &again, NULL) == IL_STUN_OK);
	FUZZ_CHECK(again.attr_count == 1);
	int code2;
	const char *reason2;
	size_t reason2_len;
	FUZZ_CHECK(il_stun_attr_get_error_code(&again, &again.attrs[0], &code2, &reason2,
					       &reason2_len) == IL_STUN_OK);
	FUZZ_CHECK(code2 == code && reason2_len == reason_len);
	FUZZ_CHECK(memcmp(reason2, reason, reason_len) == 0);
}

/* The decoder validated every known attribute, so the accessor for its
 * kind must accept it and agree with the raw bytes. */
static void check_accessors(const il_stun_msg *msg)
{
	for (size_t i = 0; i < msg->attr_count; i++) {
		const il_stun_attr *a = &msg->attrs[i];
		const uint8_t *v = il_stun_attr_value(msg, a);
		FUZZ_CHECK(il_stun_msg_find(msg, a->type) != NULL || a->ignored);
		const il_stun_attr_info *info = il_stun_attr_info_find(a->type);
		if (info == NULL || a->ignored)
			continue;
		FUZZ_CHECK(info->type == a->type && info->name != NULL);
		FUZZ_CHECK(a->length >= info->min_len && a->length <= info->max_len);
		if (info->len_multiple)
			FUZZ_CHECK(a->length % info->len_multiple == 0);

		switch (info->kind) {
		case IL_VAL_ADDR:
		case IL_VAL_XOR_ADDR: {
			il_addr addr;
			FUZZ_CHECK(il_stun_attr_get_addr(msg, a, &addr) == IL_STUN_OK);
			FUZZ_CHECK(addr.family == IL_AF_INET || addr.family == IL_AF_INET6);
			char text[IL_ADDR_STRLEN];
			FUZZ_CHECK(il_addr_format(&addr, text, sizeof text) > 0);
			if (!msg->classic)
				check_addr_round_trip(msg, a, &addr, info->kind == IL_VAL_XOR_ADDR);
			break;
		}
		case IL_VAL_U32: {
			uint32_t x;
			FUZZ_CHECK(il_stun_attr_get_u32(msg, a, &x) == IL_STUN_OK);
			FUZZ_CHECK(x == fuzz_be32(v));
			break;
		}
		case IL_VAL_U64: {
			uint64_t x;
			FUZZ_CHECK(il_stun_attr_get_u64(msg, a, &x) == IL_STUN_OK);
			FUZZ_CHECK(x == (((uint64_t)fuzz_be32(v) << 32) | fuzz_be32(v + 4)));
			break;
		}
		case IL_VAL_STRING: {
			const char *text;
			size_t len;
			FUZZ_CHECK(il_stun_attr_get_string(msg, a, &text, &len) == IL_STUN_OK);
			FUZZ_CHECK((const uint8_t *)text == v && len == a->length);
			uint32_t features;
			if (a->type == IL_ATTR_NONCE)
				(void)il_stun_nonce_cookie_parse(text, len, &features);
			break;
		}
		case IL_VAL_ERROR_CODE: {
			int code;
			const char *reason;
			size_t reason_len;
			FUZZ_CHECK(il_stun_attr_get_error_code(msg, a, &code, &reason,
							       &reason_len) == IL_STUN_OK);
			FUZZ_CHECK((const uint8_t *)reason == v + 4 && reason_len == a->length - 4u);
			FUZZ_CHECK(code == (v[2] & 7) * 100 + v[3]);
			(void)il_stun_error_reason(code);
			if (code >= 300 && code <= 699)
				check_error_code_round_trip(msg, code, reason, reason_len);
			break;
		}
		case IL_VAL_UNKNOWN_ATTRS: {
			uint16_t types[64];
			size_t count;
			FUZZ_CHECK(il_stun_attr_get_unknown(msg, a, types, 64, &count) ==
				   IL_STUN_OK);
			FUZZ_CHECK(count == a->length / 2u);
			for (size_t j = 0; j < count && j < 64; j++)
				FUZZ_CHECK(types[j] == fuzz_be16(v + 2 * j));
			break;
		}
		case IL_VAL_CHANNEL: {
			uint16_t ch;
			FUZZ_CHECK(il_stun_attr_get_channel(msg, a, &ch) == IL_STUN_OK);
			FUZZ_CHECK(ch == fuzz_be16(v));
			break;
		}
		case IL_VAL_PASSWORD_ALGORITHM: {
			uint16_t alg;
			FUZZ_CHECK(il_stun_attr_get_password_algorithm(msg, a, &alg) == IL_STUN_OK);
			FUZZ_CHECK(alg == fuzz_be16(v));
			break;
		}
		case IL_VAL_PASSWORD_ALGORITHMS: {
			uint16_t algs[32];
			size_t count;
			FUZZ_CHECK(il_stun_attr_get_password_algorithms(msg, a, algs, 32, &count) ==
				   IL_STUN_OK);
			break;
		}
		default:
			break;
		}
	}
}

/* The JSON form walks every value printer; run it under the sanitizers
 * (and LeakSanitizer) on whatever the decoder accepts. */
static void check_json(const il_stun_msg *msg)
{
	const il_stun_credentials creds = {.password = SHORT_PASSWORD};
	json_t *j = il_stun_msg_to_json(msg, &creds);
	FUZZ_CHECK(j != NULL);
	char *text = json_dumps(j, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	free(text);
	json_decref(j);
}

static bool padding_is_zero(const il_stun_msg *msg, const il_stun_attr *a)
{
	for (size_t p = a->length; p < fuzz_round4(a->length); p++)
		if (msg->buf[a->offset + p] != 0)
			return false;
	return true;
}

/* The first fixed key that verifies this integrity attribute, or -1. */
static int verifying_key(const il_stun_msg *msg, bool sha256)
{
	for (int k = 0; k < KEY_COUNT; k++) {
		enum il_stun_verdict v = sha256 ? il_stun_check_integrity_sha256(msg, &lib_keys[k])
						: il_stun_check_integrity(msg, &lib_keys[k]);
		if (v == IL_STUN_VERDICT_OK)
			return k;
	}
	return -1;
}

/* Re-encodes msg's non-ignored attributes raw, decodes the result and
 * compares the two views. FINGERPRINT is recomputed (so a decoder that
 * checks it still accepts), and so is an integrity attribute that verified
 * when every byte before it will be the same: the builder must then
 * produce the very same MAC. */
static void check_rebuild(const il_stun_msg *msg)
{
	il_stun_builder b;
	if (msg->classic)
		il_stun_builder_init_classic(&b, rebuilt, sizeof rebuilt, msg->method, msg->cls,
					     msg->tid);
	else
		il_stun_builder_init(&b, rebuilt, sizeof rebuilt, msg->method, msg->cls, msg->tid);
	int mi_key = msg->classic ? -1 : verifying_key(msg, false);
	int mi256_key = msg->classic ? -1 : verifying_key(msg, true);
	bool same_bytes = true; /* so far nothing dropped or normalised */
	for (size_t i = 0; i < msg->attr_count; i++) {
		const il_stun_attr *a = &msg->attrs[i];
		if (a->ignored) {
			same_bytes = false;
			continue;
		}
		if ((int)i == msg->fingerprint_index)
			il_stun_add_fingerprint(&b);
		else if ((int)i == msg->mi_index && same_bytes && mi_key >= 0)
			il_stun_add_message_integrity(&b, &lib_keys[mi_key]);
		else if ((int)i == msg->mi256_index && same_bytes && mi256_key >= 0)
			il_stun_add_message_integrity_sha256(&b, &lib_keys[mi256_key], a->length);
		else
			il_stun_add_raw(&b, a->type, il_stun_attr_value(msg, a), a->length);
		if (!padding_is_zero(msg, a))
			same_bytes = false;
	}
	if (msg->fingerprint_index >= 0 && il_stun_check_fingerprint(msg) != IL_STUN_VERDICT_OK)
		same_bytes = false;
	enum il_stun_err err = IL_STUN_OK;
	size_t n = il_stun_builder_finish(&b, &err);
	FUZZ_CHECK(n > 0 && err == IL_STUN_OK);
	FUZZ_CHECK(n <= msg->len);
	if (same_bytes)
		FUZZ_CHECK(n == msg->len && memcmp(rebuilt, msg->buf, n) == 0);

	il_stun_msg again;
	il_stun_decode_error derr;
	FUZZ_CHECK(il_stun_decode(rebuilt, n, &again, &derr) == IL_STUN_OK);
	check_layout(&again, rebuilt, n);
	FUZZ_CHECK(again.type == msg->type && again.method == msg->method);
	FUZZ_CHECK(again.cls == msg->cls && again.classic == msg->classic);
	FUZZ_CHECK(memcmp(again.tid, msg->tid,
			  msg->classic ? IL_STUN_CLASSIC_TID_LEN : IL_STUN_TID_LEN) == 0);
	size_t j = 0;
	for (size_t i = 0; i < msg->attr_count; i++) {
		const il_stun_attr *a = &msg->attrs[i];
		if (a->ignored)
			continue;
		FUZZ_CHECK(j < again.attr_count);
		const il_stun_attr *c = &again.attrs[j];
		FUZZ_CHECK(c->type == a->type && c->length == a->length && !c->ignored);
		if ((int)i != msg->fingerprint_index)
			FUZZ_CHECK(memcmp(il_stun_attr_value(&again, c), il_stun_attr_value(msg, a),
					  a->length) == 0);
		FUZZ_CHECK(((int)i == msg->mi_index) == ((int)j == again.mi_index));
		FUZZ_CHECK(((int)i == msg->mi256_index) == ((int)j == again.mi256_index));
		FUZZ_CHECK(((int)i == msg->fingerprint_index) == ((int)j == again.fingerprint_index));
		j++;
	}
	FUZZ_CHECK(j == again.attr_count);
	FUZZ_CHECK(again.unknown_required_count == msg->unknown_required_count);
	FUZZ_CHECK(memcmp(again.unknown_required, msg->unknown_required,
			  msg->unknown_required_count * sizeof msg->unknown_required[0]) == 0);
	if (again.fingerprint_index >= 0)
		FUZZ_CHECK(il_stun_check_fingerprint(&again) == IL_STUN_VERDICT_OK);
	check_integrity(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	keys_init();
	static il_stun_msg msg, msg2;
	il_stun_decode_error err = {IL_STUN_OK, 0};
	enum il_stun_err ret = il_stun_decode(data, size, &msg, &err);
	FUZZ_CHECK(il_stun_decode(data, size, &msg2, NULL) == ret);
	if (ret != IL_STUN_OK) {
		check_error(ret, &err, size);
		return 0;
	}
	check_layout(&msg, data, size);
	check_fingerprint(&msg);
	check_integrity(&msg);
	check_accessors(&msg);
	check_json(&msg);
	check_rebuild(&msg);
	return 0;
}
