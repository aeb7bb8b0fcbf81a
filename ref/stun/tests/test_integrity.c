/* Unit tests of STUN integrity and credentials (RFC 8489 §9, §14.4-14.7,
 * §14.11-14.12): the RFC 5769 vectors byte for byte, tamper detection,
 * the pre-keyed HMAC against OpenSSL's one-shot HMAC(), MESSAGE-INTEGRITY-
 * SHA256 truncation, short- and long-term keys, the RFC 8489 B.1 vector as
 * corrected by erratum 6268, SASLprep (RFC 4013 §3), the nonce cookie,
 * PASSWORD-ALGORITHMS and constant-time MAC comparison. */
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>

#include "stun_test_util.h"

static uint8_t buf[RAW_MSG_CAP];
static il_stun_builder b;
static il_stun_msg msg;

static const uint8_t tid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
				0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

/* The RFC 8489 Appendix B.1 vector as corrected by RFC Errata ID 6268
 * (shared/errata/rfc8489-B1-errata-6268.txt). */
static const char b1_corrected_hex[] =
	"00 01 00 90  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e"
	"00 1e 00 20  4a 3c f3 8f  ef 69 92 bd  a9 52 c6 78  04 17 da 0f"
	"             24 81 94 15  56 9e 60 b2  05 c4 6e 41  40 7f 17 04"
	"00 15 00 29  6f 62 4d 61  74 4a 6f 73  32 41 41 41  43 66 2f 2f"
	"             34 39 39 6b  39 35 34 64  36 4f 4c 33  34 6f 4c 39"
	"             46 53 54 76  79 36 34 73  41 00 00 00"
	"00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00"
	"00 1d 00 04  00 02 00 00"
	"00 1c 00 20  b5 c7 bf 00  5b 6c 52 a2  1c 51 c5 e8  92 f8 19 24"
	"             13 62 96 cb  92 7c 43 14  93 09 27 8c  c6 51 8e 65";

/* The same appendix as printed in RFC 8489: wrong header length, no
 * PASSWORD-ALGORITHM, a MESSAGE-INTEGRITY-SHA256 that does not verify. */
static const char b1_printed_hex[] =
	"00 01 00 9c  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e"
	"00 1e 00 20  4a 3c f3 8f  ef 69 92 bd  a9 52 c6 78  04 17 da 0f"
	"             24 81 94 15  56 9e 60 b2  05 c4 6e 41  40 7f 17 04"
	"00 15 00 29  6f 62 4d 61  74 4a 6f 73  32 41 41 41  43 66 2f 2f"
	"             34 39 39 6b  39 35 34 64  36 4f 4c 33  34 6f 4c 39"
	"             46 53 54 76  79 36 34 73  41 00 00 00"
	"00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00"
	"00 1c 00 20  e4 68 6c 8f  0e de b5 90  13 e0 70 90  01 0a 93 ef"
	"             cc bc cc 54  4c 0a 45 d9  f8 30 aa 6d  6f 73 5a 01";

static size_t load(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = hex_decode(hex, out, cap);
	assert_int_equal(len, IL_STUN_HEADER_LEN + get16(out + 2));
	return len;
}

static void decode_ok(const uint8_t *bytes, size_t len)
{
	il_stun_decode_error derr = {0};
	enum il_stun_err rc = il_stun_decode(bytes, len, &msg, &derr);
	if (rc != IL_STUN_OK)
		fail_msg("decode: %s at %zu", il_stun_err_name(rc), derr.offset);
}

static void short_term_key(il_stun_key *key)
{
	assert_int_equal(il_stun_key_short_term(key, rfc5769_password), IL_STUN_OK);
}

/* ---- RFC 5769 ------------------------------------------------------------ */

/* RFC 5769 §2.1: MESSAGE-INTEGRITY with the short-term password and
 * FINGERPRINT both verify; the attributes read back as the RFC lists. */
static void test_rfc5769_2_1_request_verifies(void **state)
{
	(void)state;
	uint8_t v[256];
	size_t len = load(rfc5769_2_1_hex, v, sizeof v);
	assert_int_equal(len, 108);
	decode_ok(v, len);
	assert_int_equal(msg.method, IL_STUN_BINDING);
	assert_int_equal(msg.cls, IL_STUN_REQUEST);
	assert_memory_equal(msg.tid, rfc5769_tid, 12);
	il_stun_key key;
	short_term_key(&key);
	assert_int_equal(il_stun_check_integrity(&msg, &key), IL_STUN_VERDICT_OK);
	assert_int_equal(il_stun_check_fingerprint(&msg), IL_STUN_VERDICT_OK);
	assert_int_equal(il_stun_check_integrity_sha256(&msg, &key), IL_STUN_VERDICT_ABSENT);

	const char *text;
	size_t tlen;
	const il_stun_attr *a = il_stun_msg_find(&msg, IL_ATTR_SOFTWARE);
	assert_non_null(a);
	assert_int_equal(il_stun_attr_get_string(&msg, a, &text, &tlen), IL_STUN_OK);
	assert_int_equal(tlen, 16);
	assert_memory_equal(text, "STUN test client", 16);
	a = il_stun_msg_find(&msg, IL_ATTR_USERNAME);
	assert_non_null(a);
	assert_int_equal(il_stun_attr_get_string(&msg, a, &text, &tlen), IL_STUN_OK);
	assert_int_equal(tlen, 9);
	assert_memory_equal(text, "evtj:h6vY", 9);
	uint32_t prio;
	assert_int_equal(il_stun_attr_get_u32(&msg, il_stun_msg_find(&msg, IL_ATTR_PRIORITY), &prio),
			 IL_STUN_OK);
	assert_int_equal(prio, 0x6e0001ff);
	uint64_t tb;
	assert_int_equal(
		il_stun_attr_get_u64(&msg, il_stun_msg_find(&msg, IL_ATTR_ICE_CONTROLLED), &tb),
		IL_STUN_OK);
	assert_true(tb == 0x932ff9b151263b36ull);
}

static void test_rfc5769_2_2_and_2_3_responses_verify(void **state)
{
	(void)state;
	const char *hex[2] = {rfc5769_2_2_hex, rfc5769_2_3_hex};
	const size_t lens[2] = {80, 92};
	il_stun_key key;
	short_term_key(&key);
	for (int i = 0; i < 2; i++) {
		uint8_t v[256];
		size_t len = load(hex[i], v, sizeof v);
		assert_int_equal(len, lens[i]);
		decode_ok(v, len);
		assert_int_equal(msg.cls, IL_STUN_SUCCESS);
		assert_int_equal(il_stun_check_integrity(&msg, &key), IL_STUN_VERDICT_OK);
		assert_int_equal(il_stun_check_fingerprint(&msg), IL_STUN_VERDICT_OK);
	}
}

/* §2.4: key = MD5(username ":" realm ":" SASLprep(password)) with the
 * password "The<U+00AD>M<U+00AA>tr<U+2168>" becoming "TheMatrIX". */
static void test_rfc5769_2_4_long_term_request_verifies(void **state)
{
	(void)state;
	uint8_t v[256];
	size_t len = load(rfc5769_2_4_hex, v, sizeof v);
	assert_int_equal(len, 116);
	decode_ok(v, len);
	il_stun_key key;
	assert_int_equal(il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, rfc5769_2_4_username,
					       "example.org", rfc5769_2_4_password),
			 IL_STUN_OK);
	assert_int_equal(il_stun_check_integrity(&msg, &key), IL_STUN_VERDICT_OK);
	assert_int_equal(il_stun_check_fingerprint(&msg), IL_STUN_VERDICT_ABSENT);

	/* The key is the MD5 of the prepared string, computed independently. */
	char joined[128];
	int n = snprintf(joined, sizeof joined, "%s:example.org:TheMatrIX", rfc5769_2_4_username);
	uint8_t md5[16];
	unsigned mdlen = 0;
	assert_int_equal(EVP_Digest(joined, (size_t)n, md5, &mdlen, EVP_md5(), NULL), 1);
	assert_int_equal(key.raw_len, 16);
	assert_memory_equal(key.raw, md5, 16);

	/* The username is UTF-8 as sent: U+30DE U+30C8 ... (18 bytes). */
	const char *text;
	size_t tlen;
	assert_int_equal(il_stun_attr_get_string(&msg, il_stun_msg_find(&msg, IL_ATTR_USERNAME),
						 &text, &tlen),
			 IL_STUN_OK);
	assert_int_equal(tlen, 18);
	assert_memory_equal(text, rfc5769_2_4_username, 18);

	/* The unprepared password, or SHA-256, give another key. */
	il_stun_key other;
	assert_int_equal(il_stun_key_long_term(&other, IL_STUN_PWALG_SHA256, rfc5769_2_4_username,
					       "example.org", rfc5769_2_4_password),
			 IL_STUN_OK);
	assert_int_equal(il_stun_check_integrity(&msg, &other), IL_STUN_VERDICT_MISMATCH);
}

static void test_integrity_verdicts_absent_unchecked_mismatch(void **state)
{
	(void)state;
	uint8_t v[256];
	size_t len = load(rfc5769_2_2_hex, v, sizeof v);
	decode_ok(v, len);
	assert_int_equal(il_stun_check_integrity(&msg, NULL), IL_STUN_VERDICT_UNCHECKED);
	il_stun_key wrong;
	assert_int_equal(il_stun_key_short_term(&wrong, "VOkJxbRl1RmTxUk/WvJxBT"), IL_STUN_OK);
	assert_int_equal(il_stun_check_integrity(&msg, &wrong), IL_STUN_VERDICT_MISMATCH);

	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	decode_ok(buf, il_stun_builder_finish(&b, NULL));
	assert_int_equal(il_stun_check_integrity(&msg, &wrong), IL_STUN_VERDICT_ABSENT);
	assert_int_equal(il_stun_check_integrity_sha256(&msg, &wrong), IL_STUN_VERDICT_ABSENT);
	assert_int_equal(il_stun_check_fingerprint(&msg), IL_STUN_VERDICT_ABSENT);

	assert_string_equal(il_stun_verdict_name(IL_STUN_VERDICT_OK), "ok");
	assert_string_equal(il_stun_verdict_name(IL_STUN_VERDICT_MISMATCH), "mismatch");
	assert_string_equal(il_stun_verdict_name(IL_STUN_VERDICT_UNCHECKED), "unchecked");
	assert_string_equal(il_stun_verdict_name(IL_STUN_VERDICT_ABSENT), "absent");
}

/* True when the (possibly tampered) message still decodes and passes
 * every check the original passed. */
static bool still_accepted(const uint8_t *v, size_t len, const il_stun_key *key, bool has_fp)
{
	il_stun_msg tm;
	if (il_stun_decode(v, len, &tm, NULL) != IL_STUN_OK)
		return false;
	if (il_stun_check_integrity(&tm, key) != IL_STUN_VERDICT_OK)
		return false;
	return !has_fp || il_stun_check_fingerprint(&tm) == IL_STUN_VERDICT_OK;
}

/* Changing any single byte of a vector, header and padding included, is
 * caught by MESSAGE-INTEGRITY or FINGERPRINT (or breaks the framing). */
static void test_flipping_any_byte_fails_integrity_or_fingerprint(void **state)
{
	(void)state;
	il_stun_key st, lt;
	short_term_key(&st);
	assert_int_equal(il_stun_key_long_term(&lt, IL_STUN_PWALG_MD5, rfc5769_2_4_username,
					       "example.org", rfc5769_2_4_password),
			 IL_STUN_OK);
	const struct {
		const char *hex;
		const il_stun_key *key;
		bool has_fp;
	} vecs[] = {
		{rfc5769_2_1_hex, &st, true},
		{rfc5769_2_2_hex, &st, true},
		{rfc5769_2_3_hex, &st, true},
		{rfc5769_2_4_hex, &lt, false},
	};
	static const uint8_t masks[] = {0x01, 0x80, 0xFF};
	for (size_t k = 0; k < sizeof vecs / sizeof vecs[0]; k++) {
		uint8_t v[256];
		size_t len = load(vecs[k].hex, v, sizeof v);
		assert_true(still_accepted(v, len, vecs[k].key, vecs[k].has_fp));
		for (size_t i = 0; i < len; i++) {
			for (size_t mk = 0; mk < sizeof masks; mk++) {
				v[i] ^= masks[mk];
				if (still_accepted(v, len, vecs[k].key, vecs[k].has_fp))
					fail_msg("vector %zu: byte %zu ^ 0x%02x accepted", k, i,
						 masks[mk]);
				v[i] ^= masks[mk];
			}
		}
	}
}

/* FINGERPRINT is "the CRC-32 of the STUN message up to (but excluding)
 * the FINGERPRINT attribute itself, XOR'ed with the 32-bit value
 * 0x5354554e" (§14.7); the CRC is ITU V.42's, whose check value over
 * "123456789" is 0xCBF43926. */
static void test_fingerprint_value_is_crc32_xor_stun(void **state)
{
	(void)state;
	assert_int_equal(il_stun_fingerprint_value((const uint8_t *)"123456789", 9),
			 0xCBF43926u ^ 0x5354554Eu);
	uint8_t v[256];
	size_t len = load(rfc5769_2_1_hex, v, sizeof v);
	assert_int_equal(il_stun_fingerprint_value(v, len - 8), 0xe57a3bcfu);
}

static void test_fingerprint_rejects_flipped_bit(void **state)
{
	(void)state;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	il_stun_add_string(&b, IL_ATTR_SOFTWARE, "icelab", 6);
	il_stun_add_fingerprint(&b);
	size_t len = il_stun_builder_finish(&b, NULL);
	assert_int_equal(len, 20 + 12 + 8);
	decode_ok(buf, len);
	assert_int_equal(il_stun_check_fingerprint(&msg), IL_STUN_VERDICT_OK);
	for (size_t bit = 0; bit < 8 * len; bit++) {
		if (bit / 8 == 2 || bit / 8 == 3)
			continue; /* the header length: framing, tested elsewhere */
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		il_stun_msg tm;
		if (il_stun_decode(buf, len, &tm, NULL) == IL_STUN_OK &&
		    il_stun_check_fingerprint(&tm) == IL_STUN_VERDICT_OK)
			fail_msg("bit %zu flipped, fingerprint still ok", bit);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

/* ---- the pre-keyed HMAC ---------------------------------------------------- */

/* RFC 2104: keys longer than the 64-byte block are hashed first, shorter
 * ones zero padded. The pre-keyed states must give what HMAC() gives for
 * every case, including the empty key and the block boundary. */
static void test_prekeyed_hmac_equals_openssl_hmac(void **state)
{
	(void)state;
	static const size_t key_lens[] = {0, 1, 16, 20, 32, 63, 64, 65, 128, 200};
	for (size_t k = 0; k < sizeof key_lens / sizeof key_lens[0]; k++) {
		uint8_t keybytes[200 + 1];
		for (size_t i = 0; i < sizeof keybytes; i++)
			keybytes[i] = (uint8_t)(i * 7 + 3 + k);
		size_t klen = key_lens[k];
		il_stun_key key;
		assert_int_equal(il_stun_key_from_bytes(&key, keybytes, klen), IL_STUN_OK);

		/* HMAC-SHA1: MESSAGE-INTEGRITY over everything before it, with
		 * the header length already covering it (§14.5). */
		il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
		il_stun_add_string(&b, IL_ATTR_SOFTWARE, "key length test", 15);
		il_stun_add_u32(&b, IL_ATTR_PRIORITY, (uint32_t)klen);
		size_t mi_at = b.len;
		il_stun_add_message_integrity(&b, &key);
		size_t len = il_stun_builder_finish(&b, NULL);
		assert_int_equal(len, mi_at + 24);
		uint8_t want[EVP_MAX_MD_SIZE];
		unsigned wlen = 0;
		assert_non_null(HMAC(EVP_sha1(), keybytes, (int)klen, buf, mi_at, want, &wlen));
		assert_int_equal(wlen, 20);
		if (memcmp(buf + mi_at + 4, want, 20) != 0)
			fail_msg("HMAC-SHA1 differs for a %zu-byte key", klen);
		decode_ok(buf, len);
		assert_int_equal(il_stun_check_integrity(&msg, &key), IL_STUN_VERDICT_OK);

		/* HMAC-SHA256: MESSAGE-INTEGRITY-SHA256, untruncated (§14.6). */
		il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
		il_stun_add_string(&b, IL_ATTR_SOFTWARE, "key length test", 15);
		size_t mi256_at = b.len;
		il_stun_add_message_integrity_sha256(&b, &key, 32);
		len = il_stun_builder_finish(&b, NULL);
		assert_int_equal(len, mi256_at + 36);
		assert_non_null(HMAC(EVP_sha256(), keybytes, (int)klen, buf, mi256_at, want, &wlen));
		assert_int_equal(wlen, 32);
		if (memcmp(buf + mi256_at + 4, want, 32) != 0)
			fail_msg("HMAC-SHA256 differs for a %zu-byte key", klen);
		decode_ok(buf, len);
		assert_int_equal(il_stun_check_integrity_sha256(&msg, &key), IL_STUN_VERDICT_OK);
	}
}

/* With FINGERPRINT after MESSAGE-INTEGRITY, the MAC still covers the
 * message with its length "adjusted to point to the end of the
 * MESSAGE-INTEGRITY attribute" (§14.5), not the final length. */
static void test_integrity_length_excludes_following_fingerprint(void **state)
{
	(void)state;
	const uint8_t keybytes[16] = "0123456789abcdef";
	il_stun_key key;
	assert_int_equal(il_stun_key_from_bytes(&key, keybytes, 16), IL_STUN_OK);
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_SUCCESS, tid);
	il_stun_add_u32(&b, IL_ATTR_LIFETIME, 600);
	size_t mi_at = b.len;
	il_stun_add_message_integrity(&b, &key);
	il_stun_add_message_integrity_sha256(&b, &key, 32);
	il_stun_add_fingerprint(&b);
	size_t len = il_stun_builder_finish(&b, NULL);
	assert_int_equal(len, mi_at + 24 + 36 + 8);

	uint8_t copy[128];
	memcpy(copy, buf, mi_at);
	put16(copy + 2, (uint16_t)(mi_at + 24 - 20));
	uint8_t want[EVP_MAX_MD_SIZE];
	unsigned wlen = 0;
	assert_non_null(HMAC(EVP_sha1(), keybytes, 16, copy, mi_at, want, &wlen));
	assert_memory_equal(buf + mi_at + 4, want, 20);

	/* MI-SHA256 covers MI too, with the length ending after itself. */
	memcpy(copy, buf, mi_at + 24);
	put16(copy + 2, (uint16_t)(mi_at + 24 + 36 - 20));
	assert_non_null(HMAC(EVP_sha256(), keybytes, 16, copy, mi_at + 24, want, &wlen));
	assert_memory_equal(buf + mi_at + 24 + 4, want, 32);

	decode_ok(buf, len);
	assert_int_equal(il_stun_check_integrity(&msg, &key), IL_STUN_VERDICT_OK);
	assert_int_equal(il_stun_check_integrity_sha256(&msg, &key), IL_STUN_VERDICT_OK);
	assert_int_equal(il_stun_check_fingerprint(&msg), IL_STUN_VERDICT_OK);
}

/* "The value will be at most 32 bytes, but it MUST be at least 16 bytes
 * and MUST be a multiple of 4 bytes." The value is "an initial portion of
 * the HMAC-SHA-256" (§14.6). */
static void test_mi_sha256_truncates_to_16_through_32_bytes(void **state)
{
	(void)state;
	const uint8_t keybytes[32] = {1, 2, 3};
	il_stun_key key;
	assert_int_equal(il_stun_key_from_bytes(&key, keybytes, 32), IL_STUN_OK);
	for (size_t t = 16; t <= 32; t += 4) {
		il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
		il_stun_add_u32(&b, IL_ATTR_PRIORITY, 1);
		size_t at = b.len;
		il_stun_add_message_integrity_sha256(&b, &key, t);
		size_t len = il_stun_builder_finish(&b, NULL);
		assert_int_equal(len, at + 4 + t);
		uint8_t want[EVP_MAX_MD_SIZE];
		unsigned wlen = 0;
		assert_non_null(HMAC(EVP_sha256(), keybytes, 32, buf, at, want, &wlen));
		assert_memory_equal(buf + at + 4, want, t);
		decode_ok(buf, len);
		assert_int_equal(msg.attrs[msg.mi256_index].length, t);
		assert_int_equal(il_stun_check_integrity_sha256(&msg, &key), IL_STUN_VERDICT_OK);
		buf[len - 1] ^= 1;
		assert_int_equal(il_stun_check_integrity_sha256(&msg, &key), IL_STUN_VERDICT_MISMATCH);
	}
	static const size_t bad[] = {0, 12, 15, 18, 30, 33, 36};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
		il_stun_add_message_integrity_sha256(&b, &key, bad[i]);
		enum il_stun_err err = IL_STUN_OK;
		assert_int_equal(il_stun_builder_finish(&b, &err), 0);
		assert_int_equal(err, IL_STUN_ERR_INVALID_ARGUMENT);
	}
}

/* Integrity attributes at the very end of the largest message a stream can
 * carry (header length 65532, RFC 8489 §5 allows it over TCP): their
 * values start at or past byte 65535 and must still be found and checked. */
static const uint8_t big_key[20] = "twenty bytes of key!";

/* A SEND indication whose DATA attribute holds data_len bytes. */
static void begin_largest(size_t data_len)
{
	static uint8_t data[65520];
	memset(data, 0x33, sizeof data);
	assert_true(data_len <= sizeof data);
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_SEND, IL_STUN_INDICATION, tid);
	il_stun_add_raw(&b, IL_ATTR_DATA, data, data_len);
}

static void test_message_integrity_at_end_of_largest_message_verifies(void **state)
{
	(void)state;
	il_stun_key key;
	assert_int_equal(il_stun_key_from_bytes(&key, big_key, 20), IL_STUN_OK);
	begin_largest(65504);
	il_stun_add_message_integrity(&b, &key); /* value at 65532 */
	size_t len = il_stun_builder_finish(&b, NULL);
	assert_int_equal(len, 65552);
	decode_ok(buf, len);
	assert_ptr_equal(il_stun_attr_value(&msg, &msg.attrs[msg.mi_index]), buf + 65532);
	assert_int_equal(il_stun_check_integrity(&msg, &key), IL_STUN_VERDICT_OK);
}

static void test_fingerprint_at_end_of_largest_message_verifies(void **state)
{
	(void)state;
	begin_largest(65520);
	il_stun_add_fingerprint(&b); /* value at 65548 */
	size_t len = il_stun_builder_finish(&b, NULL);
	assert_int_equal(len, 65552);
	decode_ok(buf, len);
	assert_int_equal(il_stun_check_fingerprint(&msg), IL_STUN_VERDICT_OK);
}

/* The view is checked before verifying, so a wrapped offset fails here
 * rather than hashing from before the start of the buffer. */
static void test_mi_sha256_at_end_of_largest_message_verifies(void **state)
{
	(void)state;
	il_stun_key key;
	assert_int_equal(il_stun_key_from_bytes(&key, big_key, 20), IL_STUN_OK);
	begin_largest(65508);
	il_stun_add_message_integrity_sha256(&b, &key, 16); /* value at 65536 */
	size_t len = il_stun_builder_finish(&b, NULL);
	assert_int_equal(len, 65552);
	decode_ok(buf, len);
	assert_int_equal(msg.mi256_index, 1);
	assert_ptr_equal(il_stun_attr_value(&msg, &msg.attrs[1]), buf + 65536);
	assert_int_equal(il_stun_check_integrity_sha256(&msg, &key), IL_STUN_VERDICT_OK);
}

/* ---- keys and credentials ---------------------------------------------- */

/* "key = OpaqueString(password)" for short-term credentials (§9.1.1). */
static void test_short_term_key_is_the_prepared_password(void **state)
{
	(void)state;
	il_stun_key key;
	short_term_key(&key);
	assert_int_equal(key.raw_len, strlen(rfc5769_password));
	assert_memory_equal(key.raw, rfc5769_password, key.raw_len);
	/* U+00AD is mapped to nothing before keying. */
	assert_int_equal(il_stun_key_short_term(&key, "pa\xc2\xadss"), IL_STUN_OK);
	assert_int_equal(key.raw_len, 4);
	assert_memory_equal(key.raw, "pass", 4);
	assert_int_equal(il_stun_key_short_term(&key, "bell\x07"), IL_STUN_ERR_SASLPREP);
}

static void test_long_term_key_refuses_unknown_algorithm(void **state)
{
	(void)state;
	il_stun_key key;
	assert_int_equal(il_stun_key_long_term(&key, (enum il_stun_password_algorithm)3, "user",
					       "realm", "pass"),
			 IL_STUN_ERR_UNSUPPORTED_ALGORITHM);
	assert_int_equal(il_stun_key_long_term(&key, (enum il_stun_password_algorithm)0, "user",
					       "realm", "pass"),
			 IL_STUN_ERR_UNSUPPORTED_ALGORITHM);
	assert_int_equal(il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "user", "realm",
					       "\xd8\xa7" "1"),
			 IL_STUN_ERR_SASLPREP);
}

/* RFC 8489 B.1 as corrected by erratum 6268: USERHASH is
 * SHA-256(username ":" realm) (§14.4), the key SHA-256(username ":" realm
 * ":" password) (§9.2.2), and MESSAGE-INTEGRITY-SHA256 verifies with it. */
static void test_rfc8489_b1_corrected_vector_verifies_with_sha256_key(void **state)
{
	(void)state;
	uint8_t v[256];
	size_t len = load(b1_corrected_hex, v, sizeof v);
	assert_int_equal(len, 164);
	decode_ok(v, len);

	uint8_t want_hash[32], hash[32];
	hex_decode("4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704", want_hash,
		   32);
	assert_int_equal(il_stun_userhash(rfc5769_2_4_username, "example.org", hash), IL_STUN_OK);
	assert_memory_equal(hash, want_hash, 32);
	const il_stun_attr *a = il_stun_msg_find(&msg, IL_ATTR_USERHASH);
	assert_non_null(a);
	assert_int_equal(a->length, 32);
	assert_memory_equal(il_stun_attr_value(&msg, a), want_hash, 32);

	uint16_t alg = 0;
	a = il_stun_msg_find(&msg, IL_ATTR_PASSWORD_ALGORITHM);
	assert_non_null(a);
	assert_int_equal(il_stun_attr_get_password_algorithm(&msg, a, &alg), IL_STUN_OK);
	assert_int_equal(alg, IL_STUN_PWALG_SHA256);

	il_stun_key key;
	assert_int_equal(il_stun_key_long_term(&key, IL_STUN_PWALG_SHA256, rfc5769_2_4_username,
					       "example.org", rfc5769_2_4_password),
			 IL_STUN_OK);
	uint8_t want_key[32];
	hex_decode("dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1", want_key,
		   32);
	assert_int_equal(key.raw_len, 32);
	assert_memory_equal(key.raw, want_key, 32);
	assert_int_equal(il_stun_check_integrity_sha256(&msg, &key), IL_STUN_VERDICT_OK);
	assert_int_equal(il_stun_check_integrity(&msg, &key), IL_STUN_VERDICT_ABSENT);

	/* The MD5 key of the same credentials does not verify it. */
	il_stun_key md5;
	assert_int_equal(il_stun_key_long_term(&md5, IL_STUN_PWALG_MD5, rfc5769_2_4_username,
					       "example.org", rfc5769_2_4_password),
			 IL_STUN_OK);
	assert_int_equal(il_stun_check_integrity_sha256(&msg, &md5), IL_STUN_VERDICT_MISMATCH);

	/* NONCE starts with the nonce cookie "obMatJos2" + "AAAC". */
	const char *nonce;
	size_t nlen;
	assert_int_equal(il_stun_attr_get_string(&msg, il_stun_msg_find(&msg, IL_ATTR_NONCE),
						 &nonce, &nlen),
			 IL_STUN_OK);
	assert_int_equal(nlen, 41);
	uint32_t features = 0xFFFFFFFF;
	assert_true(il_stun_nonce_cookie_parse(nonce, nlen, &features));
	assert_int_equal(features, 0x000002);
}

/* The printed B.1 is refused: its header length 0x9c counts the header
 * (§5), and even with the length put right its MAC does not verify. */
static void test_rfc8489_b1_printed_vector_is_rejected(void **state)
{
	(void)state;
	uint8_t v[256];
	size_t len = hex_decode(b1_printed_hex, v, sizeof v);
	assert_int_equal(len, 156);
	il_stun_decode_error derr = {0};
	assert_int_equal(il_stun_decode(v, len, &msg, &derr), IL_STUN_ERR_LENGTH_MISMATCH);
	assert_int_equal(derr.offset, 2);

	put16(v + 2, (uint16_t)(len - 20));
	decode_ok(v, len);
	il_stun_key key;
	assert_int_equal(il_stun_key_long_term(&key, IL_STUN_PWALG_SHA256, rfc5769_2_4_username,
					       "example.org", rfc5769_2_4_password),
			 IL_STUN_OK);
	assert_int_equal(il_stun_check_integrity_sha256(&msg, &key), IL_STUN_VERDICT_MISMATCH);
	assert_null(il_stun_msg_find(&msg, IL_ATTR_PASSWORD_ALGORITHM));
}

/* RFC 4013 §3 examples. */
static void test_saslprep_rfc4013_examples(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} ok[] = {
		{"I\xc2\xad" "X", "IX"},   /* SOFT HYPHEN mapped to nothing */
		{"user", "user"},           /* no transformation */
		{"USER", "USER"},           /* case preserved */
		{"\xc2\xaa", "a"},          /* <U+00AA>: NFKC */
		{"\xe2\x85\xa8", "IX"},     /* <U+2168>: NFKC */
		{"The\xc2\xad" "M\xc2\xaa" "tr\xe2\x85\xa8", "TheMatrIX"}, /* RFC 5769 §2.4 */
		{"\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9",
		 "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"},
		{"a\xc2\xa0" "b", "a b"},  /* non-ASCII space mapped to SPACE (§2.1) */
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char out[64];
		memset(out, 'Z', sizeof out);
		assert_int_equal(il_stun_saslprep(ok[i].in, out, sizeof out), IL_STUN_OK);
		assert_string_equal(out, ok[i].out);
	}
	static const char *const refused[] = {
		"\x07",                  /* <U+0007>: prohibited character */
		"\xd8\xa7" "1",          /* <U+0627><U+0031>: bidirectional check */
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		char out[64];
		assert_int_equal(il_stun_saslprep(refused[i], out, sizeof out), IL_STUN_ERR_SASLPREP);
	}
	char small[4];
	assert_int_equal(il_stun_saslprep("user", small, sizeof small), IL_STUN_ERR_NO_SPACE);
	assert_int_equal(il_stun_saslprep("use", small, sizeof small), IL_STUN_OK);
	assert_string_equal(small, "use");
}

/* ---- nonce cookie (§9.2, §18.1) ------------------------------------------ */

/* "The 24-bit Security Feature set is encoded as 3 bytes, with bit 0 as
 * the most significant bit of the first byte" (§9.2): Password algorithms
 * (bit 0) is 0x800000, base64 "gAAA". */
static void test_nonce_cookie_write_encodes_feature_bits_msb_first(void **state)
{
	(void)state;
	static const struct {
		uint32_t features;
		const char *cookie;
	} cases[] = {
		{0, "obMatJos2AAAA"},
		{IL_STUN_FEATURE_PASSWORD_ALGORITHMS, "obMatJos2gAAA"},
		{IL_STUN_FEATURE_USERNAME_ANONYMITY, "obMatJos2QAAA"},
		{IL_STUN_FEATURE_PASSWORD_ALGORITHMS | IL_STUN_FEATURE_USERNAME_ANONYMITY,
		 "obMatJos2wAAA"},
		{0x000002, "obMatJos2AAAC"},
		{0xFFFFFF, "obMatJos2////"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[IL_STUN_NONCE_COOKIE_LEN + 1];
		memset(out, 0, sizeof out);
		il_stun_nonce_cookie_write(cases[i].features, out);
		assert_int_equal(out[IL_STUN_NONCE_COOKIE_LEN], 0); /* 13 bytes, no more */
		assert_string_equal(out, cases[i].cookie);
		uint32_t back = 0xDEADBEEF;
		assert_true(il_stun_nonce_cookie_parse(out, IL_STUN_NONCE_COOKIE_LEN, &back));
		assert_int_equal(back, cases[i].features);
	}
}

static void test_nonce_cookie_parse_reads_prefix_and_rejects_other_nonces(void **state)
{
	(void)state;
	const char with[] = "obMatJos2gAAAf//499k954d6OL34oL9FSTvy64sA";
	uint32_t f = 0;
	assert_true(il_stun_nonce_cookie_parse(with, sizeof with - 1, &f));
	assert_int_equal(f, IL_STUN_FEATURE_PASSWORD_ALGORITHMS);

	static const char *const not_cookies[] = {
		"f//499k954d6OL34oL9FSTvy64sA", /* the RFC 5769 §2.4 nonce */
		"obMatJos2gAA",                 /* 12 characters */
		"obMatJos3gAAA",
		"OBMATJOS2gAAA",
		"obMatJos2g!AA",
		"",
	};
	for (size_t i = 0; i < sizeof not_cookies / sizeof not_cookies[0]; i++) {
		f = 0x123;
		if (il_stun_nonce_cookie_parse(not_cookies[i], strlen(not_cookies[i]), &f))
			fail_msg("\"%s\" parsed as a nonce cookie", not_cookies[i]);
	}
	/* A length shorter than the string is honoured. */
	assert_false(il_stun_nonce_cookie_parse(with, 12, &f));
}

/* ---- PASSWORD-ALGORITHM(S) (§14.11, §14.12) -------------------------------- */

static void test_password_algorithms_round_trip(void **state)
{
	(void)state;
	const uint16_t algs[2] = {IL_STUN_PWALG_MD5, IL_STUN_PWALG_SHA256};
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_ERROR, tid);
	il_stun_add_password_algorithms(&b, algs, 2);
	il_stun_add_password_algorithm(&b, IL_STUN_PWALG_SHA256);
	size_t len = il_stun_builder_finish(&b, NULL);
	assert_int_equal(len, 20 + 4 + 8 + 4 + 4);
	/* Each entry: algorithm, parameters length 0 (§14.11). */
	const uint8_t wire[8] = {0, 1, 0, 0, 0, 2, 0, 0};
	assert_memory_equal(buf + 24, wire, 8);
	decode_ok(buf, len);

	uint16_t got[4] = {0};
	size_t count = 0;
	const il_stun_attr *a = il_stun_msg_find(&msg, IL_ATTR_PASSWORD_ALGORITHMS);
	assert_non_null(a);
	assert_int_equal(il_stun_attr_get_password_algorithms(&msg, a, got, 4, &count), IL_STUN_OK);
	assert_int_equal(count, 2);
	assert_int_equal(got[0], IL_STUN_PWALG_MD5);
	assert_int_equal(got[1], IL_STUN_PWALG_SHA256);
	/* Room for one: the count still says two. */
	memset(got, 0, sizeof got);
	assert_int_equal(il_stun_attr_get_password_algorithms(&msg, a, got, 1, &count), IL_STUN_OK);
	assert_int_equal(count, 2);
	assert_int_equal(got[0], IL_STUN_PWALG_MD5);
	assert_int_equal(got[1], 0);

	uint16_t alg = 0;
	a = il_stun_msg_find(&msg, IL_ATTR_PASSWORD_ALGORITHM);
	assert_non_null(a);
	assert_int_equal(il_stun_attr_get_password_algorithm(&msg, a, &alg), IL_STUN_OK);
	assert_int_equal(alg, IL_STUN_PWALG_SHA256);

	uint16_t many[17] = {0};
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_ERROR, tid);
	il_stun_add_password_algorithms(&b, many, 17);
	enum il_stun_err err = IL_STUN_OK;
	assert_int_equal(il_stun_builder_finish(&b, &err), 0);
	assert_int_equal(err, IL_STUN_ERR_INVALID_ARGUMENT);
}

static void test_mac_equal_compares_every_byte(void **state)
{
	(void)state;
	uint8_t x[32], y[32];
	for (int i = 0; i < 32; i++)
		x[i] = y[i] = (uint8_t)(i * 13);
	assert_true(il_stun_mac_equal(x, y, 32));
	for (int i = 0; i < 32; i++) {
		y[i] ^= 0x40;
		assert_false(il_stun_mac_equal(x, y, 32));
		assert_true(il_stun_mac_equal(x, y, (size_t)i)); /* prefix before the change */
		y[i] ^= 0x40;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5769_2_1_request_verifies),
		cmocka_unit_test(test_rfc5769_2_2_and_2_3_responses_verify),
		cmocka_unit_test(test_rfc5769_2_4_long_term_request_verifies),
		cmocka_unit_test(test_integrity_verdicts_absent_unchecked_mismatch),
		cmocka_unit_test(test_flipping_any_byte_fails_integrity_or_fingerprint),
		cmocka_unit_test(test_fingerprint_value_is_crc32_xor_stun),
		cmocka_unit_test(test_fingerprint_rejects_flipped_bit),
		cmocka_unit_test(test_prekeyed_hmac_equals_openssl_hmac),
		cmocka_unit_test(test_integrity_length_excludes_following_fingerprint),
		cmocka_unit_test(test_mi_sha256_truncates_to_16_through_32_bytes),
		cmocka_unit_test(test_message_integrity_at_end_of_largest_message_verifies),
		cmocka_unit_test(test_fingerprint_at_end_of_largest_message_verifies),
		cmocka_unit_test(test_mi_sha256_at_end_of_largest_message_verifies),
		cmocka_unit_test(test_short_term_key_is_the_prepared_password),
		cmocka_unit_test(test_long_term_key_refuses_unknown_algorithm),
		cmocka_unit_test(test_rfc8489_b1_corrected_vector_verifies_with_sha256_key),
		cmocka_unit_test(test_rfc8489_b1_printed_vector_is_rejected),
		cmocka_unit_test(test_saslprep_rfc4013_examples),
		cmocka_unit_test(test_nonce_cookie_write_encodes_feature_bits_msb_first),
		cmocka_unit_test(test_nonce_cookie_parse_reads_prefix_and_rejects_other_nonces),
		cmocka_unit_test(test_password_algorithms_round_trip),
		cmocka_unit_test(test_mac_equal_compares_every_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
