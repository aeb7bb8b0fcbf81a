/* Unit tests of the STUN builder (RFC 8489 §5, §14): message type
 * encoding, every typed adder round-tripped through il_stun_decode, the
 * RFC 5769 XOR-MAPPED-ADDRESS values, zero padding, the header length kept
 * current, sticky errors and argument checks, and the RFC 3489 builder. */
#include "icelab/stun.h"

#include "stun_test_util.h"

static uint8_t buf[RAW_MSG_CAP];
static il_stun_builder b;
static il_stun_msg msg;

static const uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* Finishes the builder and decodes the result; returns its length. */
static size_t finish_and_decode(void)
{
	enum il_stun_err err = IL_STUN_ERR__COUNT;
	size_t len = il_stun_builder_finish(&b, &err);
	if (err != IL_STUN_OK)
		fail_msg("builder failed: %s", il_stun_err_name(err));
	assert_true(len >= IL_STUN_HEADER_LEN);
	il_stun_decode_error derr = {0};
	enum il_stun_err rc = il_stun_decode(buf, len, &msg, &derr);
	if (rc != IL_STUN_OK)
		fail_msg("decode failed: %s at %zu", il_stun_err_name(rc), derr.offset);
	return len;
}

static il_addr addr_of(const char *text)
{
	il_addr a;
	assert_int_equal(il_addr_parse(text, &a), 0);
	return a;
}

/* §5: the type interleaves method and class bits; the header carries the
 * magic cookie and the caller's transaction id. */
static void test_header_carries_type_cookie_and_tid(void **state)
{
	(void)state;
	static const struct {
		uint16_t method;
		uint8_t cls;
		uint16_t type;
	} cases[] = {
		{IL_STUN_BINDING, IL_STUN_REQUEST, 0x0001},
		{IL_STUN_BINDING, IL_STUN_INDICATION, 0x0011},
		{IL_STUN_BINDING, IL_STUN_SUCCESS, 0x0101},
		{IL_STUN_BINDING, IL_STUN_ERROR, 0x0111},
		{IL_STUN_ALLOCATE, IL_STUN_ERROR, 0x0113},
		{IL_STUN_SEND, IL_STUN_INDICATION, 0x0016},
		{IL_STUN_CONNECTIONATTEMPT, IL_STUN_INDICATION, 0x001C},
		{0x080, IL_STUN_REQUEST, 0x0200},
		{0x800, IL_STUN_REQUEST, 0x2000},
		{0xFFF, IL_STUN_REQUEST, 0x3EEF},
		{0xFFF, IL_STUN_ERROR, 0x3FFF},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(buf, 0xEE, 64);
		il_stun_builder_init(&b, buf, sizeof buf, cases[i].method, cases[i].cls, tid);
		assert_int_equal(finish_and_decode(), 20);
		assert_int_equal(get16(buf), cases[i].type);
		assert_int_equal(get16(buf + 2), 0);
		assert_int_equal(msg.method, cases[i].method);
		assert_int_equal(msg.cls, cases[i].cls);
		assert_false(msg.classic);
		const uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
		assert_memory_equal(buf + 4, cookie, 4);
		assert_memory_equal(msg.tid, tid, 12);
	}
}

/* RFC 5769 §2.2: 192.0.2.1 port 32853 with the vector's transaction id is
 * "00 01 a1 47 e1 12 a6 43". */
static void test_xor_mapped_ipv4_matches_rfc5769_2_2(void **state)
{
	(void)state;
	uint8_t vec[128];
	size_t vlen = hex_decode(rfc5769_2_2_hex, vec, sizeof vec);
	il_stun_msg vmsg;
	assert_int_equal(il_stun_decode(vec, vlen, &vmsg, NULL), IL_STUN_OK);
	const il_stun_attr *a = il_stun_msg_find(&vmsg, IL_ATTR_XOR_MAPPED_ADDRESS);
	assert_non_null(a);
	il_addr got;
	assert_int_equal(il_stun_attr_get_addr(&vmsg, a, &got), IL_STUN_OK);
	il_addr want = addr_of("192.0.2.1:32853");
	assert_true(il_addr_equal(&got, &want));

	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_SUCCESS, rfc5769_tid);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, &want);
	assert_int_equal(finish_and_decode(), 32);
	const uint8_t expect[12] = {0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
				    0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
	assert_memory_equal(buf + 20, expect, sizeof expect);
}

/* RFC 5769 §2.3: [2001:db8:1234:5678:11:2233:4455:6677]:32853; the last
 * 96 bits are XORed with the transaction id (RFC 8489 §14.2). */
static void test_xor_mapped_ipv6_matches_rfc5769_2_3(void **state)
{
	(void)state;
	uint8_t vec[128];
	size_t vlen = hex_decode(rfc5769_2_3_hex, vec, sizeof vec);
	il_stun_msg vmsg;
	assert_int_equal(il_stun_decode(vec, vlen, &vmsg, NULL), IL_STUN_OK);
	const il_stun_attr *a = il_stun_msg_find(&vmsg, IL_ATTR_XOR_MAPPED_ADDRESS);
	assert_non_null(a);
	il_addr got;
	assert_int_equal(il_stun_attr_get_addr(&vmsg, a, &got), IL_STUN_OK);
	il_addr want = addr_of("[2001:db8:1234:5678:11:2233:4455:6677]:32853");
	assert_true(il_addr_equal(&got, &want));

	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_SUCCESS, rfc5769_tid);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, &want);
	assert_int_equal(finish_and_decode(), 44);
	uint8_t expect[24];
	hex_decode("00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9",
		   expect, sizeof expect);
	assert_memory_equal(buf + 20, expect, sizeof expect);
}

/* MAPPED-ADDRESS is not obfuscated: family, port and address as they are
 * (§14.1); XOR types decode back to the same address. */
static void test_addresses_round_trip_plain_and_xor(void **state)
{
	(void)state;
	il_addr v4 = addr_of("203.0.113.7:3478");
	il_addr v6 = addr_of("[2001:db8::1]:65535");
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_SUCCESS, tid);
	il_stun_add_addr(&b, IL_ATTR_MAPPED_ADDRESS, &v4);
	il_stun_add_addr(&b, IL_ATTR_OTHER_ADDRESS, &v6);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, &v4);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_RELAYED_ADDRESS, &v6);
	il_stun_add_xor_addr(&b, IL_ATTR_XOR_PEER_ADDRESS, &v6);
	assert_int_equal(finish_and_decode(), 20 + 12 + 24 + 12 + 24 + 24);
	const uint8_t plain4[8] = {0x00, 0x01, 0x0D, 0x96, 203, 0, 113, 7};
	assert_memory_equal(buf + 24, plain4, 8);
	assert_int_equal(msg.attr_count, 5);
	const il_addr *want[5] = {&v4, &v6, &v4, &v6, &v6};
	for (int i = 0; i < 5; i++) {
		il_addr got;
		assert_int_equal(il_stun_attr_get_addr(&msg, &msg.attrs[i], &got), IL_STUN_OK);
		assert_true(il_addr_equal(&got, want[i]));
	}
	/* The XOR form differs from the plain one on the wire. */
	assert_memory_not_equal(buf + 20 + 12 + 24 + 4, plain4, 8);
}

static void test_scalar_adders_round_trip(void **state)
{
	(void)state;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	il_stun_add_u32(&b, IL_ATTR_PRIORITY, 0x6e0001ff);
	il_stun_add_u64(&b, IL_ATTR_ICE_CONTROLLING, 0x0102030405060708ull);
	il_stun_add_empty(&b, IL_ATTR_USE_CANDIDATE);
	il_stun_add_string(&b, IL_ATTR_USERNAME, "evtj:h6vY", 9);
	il_stun_add_channel_number(&b, 0x4ABC);
	il_stun_add_raw(&b, 0x8FFF, "\x01\x02\x03\x04\x05", 5);
	finish_and_decode();
	assert_int_equal(msg.attr_count, 6);

	uint32_t u32;
	assert_int_equal(il_stun_attr_get_u32(&msg, &msg.attrs[0], &u32), IL_STUN_OK);
	assert_int_equal(u32, 0x6e0001ff);
	uint64_t u64;
	assert_int_equal(il_stun_attr_get_u64(&msg, &msg.attrs[1], &u64), IL_STUN_OK);
	assert_true(u64 == 0x0102030405060708ull);
	assert_int_equal(msg.attrs[2].type, IL_ATTR_USE_CANDIDATE);
	assert_int_equal(msg.attrs[2].length, 0);
	const char *text;
	size_t len;
	assert_int_equal(il_stun_attr_get_string(&msg, &msg.attrs[3], &text, &len), IL_STUN_OK);
	assert_int_equal(len, 9);
	assert_memory_equal(text, "evtj:h6vY", 9);
	uint16_t ch;
	assert_int_equal(il_stun_attr_get_channel(&msg, &msg.attrs[4], &ch), IL_STUN_OK);
	assert_int_equal(ch, 0x4ABC);
	/* RFFU: "MUST be set to 0 on transmission" (RFC 8656 §18.1) */
	const uint8_t *cv = il_stun_attr_value(&msg, &msg.attrs[4]);
	assert_int_equal(cv[2], 0);
	assert_int_equal(cv[3], 0);
	assert_int_equal(msg.attrs[5].type, 0x8FFF);
	assert_int_equal(msg.attrs[5].length, 5);
	assert_memory_equal(il_stun_attr_value(&msg, &msg.attrs[5]), "\x01\x02\x03\x04\x05", 5);
}

/* "the Class ... hundreds digit ... the Number ... modulo 100" (§14.8) */
static void test_error_code_and_unknown_attributes_round_trip(void **state)
{
	(void)state;
	const uint16_t unknown[3] = {0x0030, 0x7FFF, 0x0031};
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_ERROR, tid);
	il_stun_add_error_code(&b, 420, "Unknown Attribute");
	il_stun_add_unknown_attributes(&b, unknown, 3);
	finish_and_decode();
	const uint8_t head[4] = {0, 0, 4, 20};
	assert_memory_equal(il_stun_attr_value(&msg, &msg.attrs[0]), head, 4);
	int code;
	const char *reason;
	size_t rlen;
	assert_int_equal(il_stun_attr_get_error_code(&msg, &msg.attrs[0], &code, &reason, &rlen),
			 IL_STUN_OK);
	assert_int_equal(code, 420);
	assert_int_equal(rlen, strlen("Unknown Attribute"));
	assert_memory_equal(reason, "Unknown Attribute", rlen);
	uint16_t got[4] = {0};
	size_t count = 0;
	assert_int_equal(il_stun_attr_get_unknown(&msg, &msg.attrs[1], got, 4, &count),
			 IL_STUN_OK);
	assert_int_equal(count, 3);
	assert_memory_equal(got, unknown, sizeof unknown);

	/* The ends of the range: 300 and 699, and no reason at all. */
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_ERROR, tid);
	il_stun_add_error_code(&b, 300, NULL);
	il_stun_add_error_code(&b, 699, "");
	finish_and_decode();
	assert_int_equal(il_stun_attr_get_error_code(&msg, &msg.attrs[0], &code, &reason, &rlen),
			 IL_STUN_OK);
	assert_int_equal(code, 300);
	assert_int_equal(rlen, 0);
	assert_int_equal(il_stun_attr_get_error_code(&msg, &msg.attrs[1], &code, &reason, &rlen),
			 IL_STUN_OK);
	assert_int_equal(code, 699);
}

/* "the attribute MUST be padded ... The padding bits MUST be set to zero
 * on sending" (§14): even in a buffer full of garbage. */
static void test_padding_bytes_are_zero(void **state)
{
	(void)state;
	const uint16_t unknown[1] = {0x0030};
	for (size_t n = 1; n <= 3; n++) {
		memset(buf, 0xAA, 256);
		il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_ERROR, tid);
		il_stun_add_string(&b, IL_ATTR_SOFTWARE, "xyz", n);
		il_stun_add_raw(&b, 0x8FFF, "xyz", n);
		il_stun_add_error_code(&b, 438, n == 1 ? "S" : n == 2 ? "St" : "Sta");
		il_stun_add_unknown_attributes(&b, unknown, 1);
		size_t len = finish_and_decode();
		assert_int_equal(len % 4, 0);
		for (unsigned i = 0; i < msg.attr_count; i++) {
			const il_stun_attr *a = &msg.attrs[i];
			size_t end = (size_t)a->offset + a->length;
			size_t padded = (size_t)a->offset + ((a->length + 3u) & ~3u);
			for (size_t k = end; k < padded; k++)
				if (buf[k] != 0)
					fail_msg("attr %u padding byte %zu is 0x%02x", i, k, buf[k]);
		}
	}
}

/* The header length is current after every attribute, so integrity can
 * be computed at any point (§14.5 needs the length adjusted to cover it). */
static void test_header_length_is_kept_current(void **state)
{
	(void)state;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	assert_int_equal(get16(buf + 2), 0);
	il_stun_add_u32(&b, IL_ATTR_PRIORITY, 1);
	assert_int_equal(get16(buf + 2), 8);
	assert_int_equal(b.len, 28);
	il_stun_add_string(&b, IL_ATTR_USERNAME, "abcde", 5);
	assert_int_equal(get16(buf + 2), 8 + 12);
	il_stun_add_empty(&b, IL_ATTR_USE_CANDIDATE);
	assert_int_equal(get16(buf + 2), 8 + 12 + 4);
	assert_int_equal(b.len, 20 + 8 + 12 + 4);
}

/* A builder that ran out of room stays failed: a later, smaller attribute
 * that would fit is not written, and finish reports the first error. */
static void test_no_space_error_is_sticky(void **state)
{
	(void)state;
	il_stun_builder_init(&b, buf, 24, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	il_stun_add_u32(&b, IL_ATTR_PRIORITY, 1); /* needs 8, 4 left */
	assert_int_equal(b.err, IL_STUN_ERR_NO_SPACE);
	il_stun_add_empty(&b, IL_ATTR_USE_CANDIDATE); /* would fit */
	il_stun_add_error_code(&b, 200, NULL);        /* would be invalid */
	assert_int_equal(b.len, 20);
	assert_int_equal(get16(buf + 2), 0);
	enum il_stun_err err = IL_STUN_OK;
	assert_int_equal(il_stun_builder_finish(&b, &err), 0);
	assert_int_equal(err, IL_STUN_ERR_NO_SPACE);
	assert_int_equal(il_stun_builder_finish(&b, NULL), 0);
}

static void test_buffer_smaller_than_header_is_no_space(void **state)
{
	(void)state;
	il_stun_builder_init(&b, buf, 19, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	enum il_stun_err err = IL_STUN_OK;
	assert_int_equal(il_stun_builder_finish(&b, &err), 0);
	assert_int_equal(err, IL_STUN_ERR_NO_SPACE);
}

/* The first error wins: an invalid argument stays the reported error even
 * when the buffer later runs out. */
static void test_first_error_is_reported(void **state)
{
	(void)state;
	il_stun_builder_init(&b, buf, 28, IL_STUN_BINDING, IL_STUN_ERROR, tid);
	il_stun_add_error_code(&b, 700, "nope");
	il_stun_add_raw(&b, 0x8FFF, buf, 100);
	enum il_stun_err err = IL_STUN_OK;
	assert_int_equal(il_stun_builder_finish(&b, &err), 0);
	assert_int_equal(err, IL_STUN_ERR_INVALID_ARGUMENT);
}

/* "The Class ... MUST be between 3 and 6" and the number 0..99 (§14.8). */
static void test_error_code_outside_300_to_699_is_invalid(void **state)
{
	(void)state;
	static const int bad[] = {0, 200, 299, 700, 999, -420};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_ERROR, tid);
		il_stun_add_error_code(&b, bad[i], "x");
		enum il_stun_err err = IL_STUN_OK;
		assert_int_equal(il_stun_builder_finish(&b, &err), 0);
		assert_int_equal(err, IL_STUN_ERR_INVALID_ARGUMENT);
	}
}

static void test_address_with_bad_family_is_invalid(void **state)
{
	(void)state;
	static const uint8_t families[] = {IL_AF_NONE, 3, 0xFF};
	for (size_t i = 0; i < sizeof families; i++) {
		il_addr a = {.family = families[i], .port = 1};
		il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_SUCCESS, tid);
		il_stun_add_addr(&b, IL_ATTR_MAPPED_ADDRESS, &a);
		enum il_stun_err err = IL_STUN_OK;
		assert_int_equal(il_stun_builder_finish(&b, &err), 0);
		assert_int_equal(err, IL_STUN_ERR_INVALID_ARGUMENT);
		il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_SUCCESS, tid);
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, &a);
		assert_int_equal(il_stun_builder_finish(&b, &err), 0);
		assert_int_equal(err, IL_STUN_ERR_INVALID_ARGUMENT);
	}
}

/* A method has 12 bits and a class 2 (§5). */
static void test_method_over_12_bits_or_class_over_3_is_invalid(void **state)
{
	(void)state;
	enum il_stun_err err = IL_STUN_OK;
	il_stun_builder_init(&b, buf, sizeof buf, 0x1000, IL_STUN_REQUEST, tid);
	assert_int_equal(il_stun_builder_finish(&b, &err), 0);
	assert_int_equal(err, IL_STUN_ERR_INVALID_ARGUMENT);
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, 4, tid);
	assert_int_equal(il_stun_builder_finish(&b, &err), 0);
	assert_int_equal(err, IL_STUN_ERR_INVALID_ARGUMENT);
}

/* The 16-bit length fields bound a value to 65535 bytes and a message body
 * to 65535 (in practice 65532) bytes, whatever the buffer. */
static void test_oversized_value_or_body_is_refused(void **state)
{
	(void)state;
	enum il_stun_err err = IL_STUN_OK;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_SEND, IL_STUN_INDICATION, tid);
	il_stun_add_raw(&b, IL_ATTR_DATA, buf, 0x10000);
	assert_int_equal(il_stun_builder_finish(&b, &err), 0);
	assert_int_equal(err, IL_STUN_ERR_INVALID_ARGUMENT);

	static uint8_t data[65528];
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_SEND, IL_STUN_INDICATION, tid);
	il_stun_add_raw(&b, IL_ATTR_DATA, data, sizeof data); /* body 65532 */
	assert_int_equal(b.err, IL_STUN_OK);
	assert_int_equal(get16(buf + 2), 65532);
	il_stun_add_empty(&b, IL_ATTR_DONT_FRAGMENT); /* body would be 65536 */
	assert_int_equal(il_stun_builder_finish(&b, &err), 0);
	assert_int_equal(err, IL_STUN_ERR_NO_SPACE);
}

/* RFC 3489 messages have no magic cookie: 128 bits of transaction id
 * follow the length (RFC 3489 §11.1). */
static void test_classic_builder_writes_16_byte_tid(void **state)
{
	(void)state;
	const uint8_t tid16[16] = {0xde, 0xad, 0xbe, 0xef, 5, 6, 7, 8,
				   9, 10, 11, 12, 13, 14, 15, 16};
	il_addr a = addr_of("198.51.100.2:5000");
	il_stun_builder_init_classic(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_SUCCESS, tid16);
	il_stun_add_addr(&b, IL_ATTR_MAPPED_ADDRESS, &a);
	il_stun_add_addr(&b, IL_ATTR_SOURCE_ADDRESS, &a);
	assert_int_equal(finish_and_decode(), 20 + 12 + 12);
	assert_true(b.classic);
	assert_int_equal(get16(buf), 0x0101);
	assert_memory_equal(buf + 4, tid16, 16);
	assert_true(msg.classic);
	assert_ptr_equal(msg.tid, buf + 4);
	assert_int_equal(msg.method, IL_STUN_BINDING);
	assert_int_equal(msg.cls, IL_STUN_SUCCESS);
	il_addr got;
	assert_int_equal(il_stun_attr_get_addr(&msg, &msg.attrs[0], &got), IL_STUN_OK);
	assert_true(il_addr_equal(&got, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_carries_type_cookie_and_tid),
		cmocka_unit_test(test_xor_mapped_ipv4_matches_rfc5769_2_2),
		cmocka_unit_test(test_xor_mapped_ipv6_matches_rfc5769_2_3),
		cmocka_unit_test(test_addresses_round_trip_plain_and_xor),
		cmocka_unit_test(test_scalar_adders_round_trip),
		cmocka_unit_test(test_error_code_and_unknown_attributes_round_trip),
		cmocka_unit_test(test_padding_bytes_are_zero),
		cmocka_unit_test(test_header_length_is_kept_current),
		cmocka_unit_test(test_no_space_error_is_sticky),
		cmocka_unit_test(test_buffer_smaller_than_header_is_no_space),
		cmocka_unit_test(test_first_error_is_reported),
		cmocka_unit_test(test_error_code_outside_300_to_699_is_invalid),
		cmocka_unit_test(test_address_with_bad_family_is_invalid),
		cmocka_unit_test(test_method_over_12_bits_or_class_over_3_is_invalid),
		cmocka_unit_test(test_oversized_value_or_body_is_refused),
		cmocka_unit_test(test_classic_builder_writes_16_byte_tid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
