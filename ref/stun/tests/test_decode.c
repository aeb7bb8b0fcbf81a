/* Unit tests of il_stun_decode (RFC 8489 §5, §6, §14, §15): header and
 * framing, attribute layout, the rules on MESSAGE-INTEGRITY(-SHA256) and
 * FINGERPRINT placement, per-type value checks, accessors and error
 * names. Messages are laid out by hand (stun_test_util.h). */
#include "icelab/stun.h"

#include "stun_test_util.h"

static raw_msg m; /* 64 KiB: static, not on the stack */
static il_stun_msg msg;
static il_stun_decode_error derr;

static enum il_stun_err decode_raw(void)
{
	memset(&derr, 0, sizeof derr);
	return il_stun_decode(m.buf, m.len, &msg, &derr);
}

/* Decodes the message and expects code at byte offset. */
static void expect_error_at(enum il_stun_err code, size_t offset)
{
	enum il_stun_err rc = decode_raw();
	if (rc != code)
		fail_msg("expected %s, got %s", il_stun_err_name(code), il_stun_err_name(rc));
	assert_int_equal(derr.code, code);
	assert_int_equal(derr.offset, offset);
}

static void expect_ok(void)
{
	enum il_stun_err rc = decode_raw();
	if (rc != IL_STUN_OK)
		fail_msg("expected ok, got %s at %zu", il_stun_err_name(rc), derr.offset);
}

/* ---- header ---------------------------------------------------------- */

/* RFC 8489 §5 Figure 3: the class bits C1 (bit 8) and C0 (bit 4) sit
 * between the method bits M11..M0. Types from §6 and RFC 8656 §17. */
static void test_message_type_decodes_method_and_class(void **state)
{
	(void)state;
	static const struct {
		uint16_t type, method;
		uint8_t cls;
	} cases[] = {
		{0x0001, IL_STUN_BINDING, IL_STUN_REQUEST},
		{0x0011, IL_STUN_BINDING, IL_STUN_INDICATION},
		{0x0101, IL_STUN_BINDING, IL_STUN_SUCCESS},
		{0x0111, IL_STUN_BINDING, IL_STUN_ERROR},
		{0x0003, IL_STUN_ALLOCATE, IL_STUN_REQUEST},
		{0x0103, IL_STUN_ALLOCATE, IL_STUN_SUCCESS},
		{0x0113, IL_STUN_ALLOCATE, IL_STUN_ERROR},
		{0x0004, IL_STUN_REFRESH, IL_STUN_REQUEST},
		{0x0016, IL_STUN_SEND, IL_STUN_INDICATION},
		{0x0017, IL_STUN_DATA, IL_STUN_INDICATION},
		{0x0008, IL_STUN_CREATEPERMISSION, IL_STUN_REQUEST},
		{0x0109, IL_STUN_CHANNELBIND, IL_STUN_SUCCESS},
		{0x000A, IL_STUN_CONNECT, IL_STUN_REQUEST},
		{0x001C, IL_STUN_CONNECTIONATTEMPT, IL_STUN_INDICATION},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		raw_begin(&m, cases[i].type);
		expect_ok();
		assert_int_equal(msg.type, cases[i].type);
		assert_int_equal(msg.method, cases[i].method);
		assert_int_equal(msg.cls, cases[i].cls);
	}
}

/* Each of the 12 method bits lands where Figure 3 puts it: M0-M3 in bits
 * 0-3, M4-M6 in bits 5-7, M7-M11 in bits 9-13. */
static void test_message_type_decodes_every_method_bit(void **state)
{
	(void)state;
	static const struct {
		uint16_t type, method;
		uint8_t cls;
	} cases[] = {
		{0x0001, 0x001, 0}, {0x0002, 0x002, 0}, {0x0004, 0x004, 0},
		{0x0008, 0x008, 0}, {0x0020, 0x010, 0}, {0x0040, 0x020, 0},
		{0x0080, 0x040, 0}, {0x0200, 0x080, 0}, {0x0400, 0x100, 0},
		{0x0800, 0x200, 0}, {0x1000, 0x400, 0}, {0x2000, 0x800, 0},
		{0x3EEF, 0xFFF, IL_STUN_REQUEST}, {0x3EFF, 0xFFF, IL_STUN_INDICATION},
		{0x3FEF, 0xFFF, IL_STUN_SUCCESS}, {0x3FFF, 0xFFF, IL_STUN_ERROR},
		{0x0000, 0x000, IL_STUN_REQUEST},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		raw_begin(&m, cases[i].type);
		expect_ok();
		assert_int_equal(msg.method, cases[i].method);
		assert_int_equal(msg.cls, cases[i].cls);
	}
}

static void test_message_with_magic_cookie_has_12_byte_tid_after_cookie(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	expect_ok();
	assert_false(msg.classic);
	assert_ptr_equal(msg.tid, m.buf + 8);
	assert_int_equal(msg.len, 20);
	assert_int_equal(msg.attr_count, 0);
	assert_int_equal(msg.mi_index, -1);
	assert_int_equal(msg.mi256_index, -1);
	assert_int_equal(msg.fingerprint_index, -1);
	assert_true(il_stun_is_stun(m.buf, m.len));
}

/* "The magic cookie field MUST contain the fixed value 0x2112A442" (§5);
 * an RFC 3489 client puts 128 bits of transaction id there (§6, §12). */
static void test_message_without_magic_cookie_is_classic_with_16_byte_tid(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	put32(m.buf + 4, 0x2112A443);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 7);
	expect_ok();
	assert_true(msg.classic);
	assert_ptr_equal(msg.tid, m.buf + 4);
	assert_int_equal(msg.attr_count, 1);
	/* Demultiplexing by cookie says it is not (RFC 8489) STUN. */
	assert_false(il_stun_is_stun(m.buf, m.len));
}

static void test_datagram_shorter_than_header_is_truncated(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	static const size_t lens[] = {0, 1, 4, 19};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		m.len = lens[i];
		expect_error_at(IL_STUN_ERR_TRUNCATED, lens[i]);
	}
}

/* "The most significant 2 bits of every STUN message MUST be zeroes."
 * (§5) */
static void test_top_two_bits_set_is_not_stun(void **state)
{
	(void)state;
	static const uint8_t first[] = {0x40, 0x80, 0xC0, 0x7F, 0xFF};
	for (size_t i = 0; i < sizeof first; i++) {
		raw_begin(&m, 0x0001);
		m.buf[0] = first[i];
		expect_error_at(IL_STUN_ERR_NOT_STUN, 0);
		assert_false(il_stun_is_stun(m.buf, m.len));
	}
}

/* "the last 2 bits of this field are always zero" (§5) */
static void test_header_length_not_multiple_of_4_is_bad_length(void **state)
{
	(void)state;
	for (uint16_t body = 1; body <= 7; body++) {
		if (body % 4 == 0)
			continue;
		raw_begin(&m, 0x0001);
		put16(m.buf + 2, body);
		memset(m.buf + 20, 0, 8);
		m.len = 20 + body; /* even when the datagram agrees */
		expect_error_at(IL_STUN_ERR_BAD_LENGTH, 2);
	}
}

/* "The message length MUST contain the size of the message in bytes, not
 * including the 20-byte STUN header" (§5): one datagram, one message. */
static void test_trailing_bytes_after_message_are_length_mismatch(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 1);
	put16(m.buf + 2, 0); /* header says no attributes */
	expect_error_at(IL_STUN_ERR_LENGTH_MISMATCH, 2);
}

static void test_datagram_shorter_than_header_length_is_length_mismatch(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 1);
	m.len -= 4; /* header says 8, 4 arrived */
	expect_error_at(IL_STUN_ERR_LENGTH_MISMATCH, 2);
}

/* An attribute whose value runs past the message (CVE-2022-23537 class)
 * is refused at its length field. */
static void test_attribute_value_past_end_is_attr_truncated(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 1);
	uint8_t v[4] = {0};
	raw_attr_declared(&m, IL_ATTR_DATA, 8, v, 4); /* claims 8, has 4 */
	expect_error_at(IL_STUN_ERR_ATTR_TRUNCATED, 28 + 2);

	raw_begin(&m, 0x0001);
	raw_attr_declared(&m, 0x8FFF, 0xFFFF, v, 4);
	expect_error_at(IL_STUN_ERR_ATTR_TRUNCATED, 20 + 2);
}

static void test_attribute_padding_is_skipped(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_USERNAME, "abcde", 5); /* 3 bytes of padding */
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 0x01020304);
	expect_ok();
	assert_int_equal(msg.attr_count, 2);
	assert_int_equal(msg.attrs[0].length, 5);
	assert_int_equal(msg.attrs[0].offset, 24);
	assert_int_equal(msg.attrs[1].type, IL_ATTR_PRIORITY);
	assert_int_equal(msg.attrs[1].offset, 24 + 8 + 4);
}

/* A view holds IL_STUN_MAX_ATTRS attributes; one more is refused rather
 * than written past the array (CVE-2022-31031 class). */
static void test_48_attributes_decode(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	for (int i = 0; i < IL_STUN_MAX_ATTRS; i++)
		raw_attr(&m, 0x8FFF, NULL, 0);
	expect_ok();
	assert_int_equal(msg.attr_count, IL_STUN_MAX_ATTRS);
}

static void test_49_attributes_are_too_many(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	for (int i = 0; i < IL_STUN_MAX_ATTRS + 1; i++)
		raw_attr(&m, 0x8FFF, NULL, 0);
	expect_error_at(IL_STUN_ERR_TOO_MANY_ATTRIBUTES, 20 + 4 * IL_STUN_MAX_ATTRS);
}

/* The value of an attribute that starts past byte 65535 of a (TCP-sized)
 * message must still be found: a 16-bit offset would wrap to the header. */
static void test_attribute_value_beyond_offset_65535_is_located(void **state)
{
	(void)state;
	static uint8_t data[65508];
	memset(data, 0x5A, sizeof data);
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_DATA, data, sizeof data); /* next header at 65532 */
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 0xCAFEF00D); /* value at 65536 */
	assert_int_equal(m.len, 65540);
	expect_ok();
	const il_stun_attr *a = il_stun_msg_find(&msg, IL_ATTR_PRIORITY);
	assert_non_null(a);
	assert_ptr_equal(il_stun_attr_value(&msg, a), m.buf + 65536);
	uint32_t v = 0;
	assert_int_equal(il_stun_attr_get_u32(&msg, a, &v), IL_STUN_OK);
	assert_int_equal(v, 0xCAFEF00D);
}

/* ---- unknown attributes (§6.3.1.1, §14) --------------------------------- */

/* "If the message contains any comprehension-required attributes that are
 * unknown, ... the server MUST reply with an error response with an error
 * code of 420" and list them in UNKNOWN-ATTRIBUTES. */
static void test_unknown_comprehension_required_attribute_is_recorded(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	raw_attr(&m, 0x0030, "x", 1);
	raw_attr(&m, 0x7FFF, NULL, 0);
	raw_attr(&m, 0x0030, "y", 1); /* listed once */
	expect_ok();
	assert_int_equal(msg.attr_count, 3);
	assert_int_equal(msg.unknown_required_count, 2);
	assert_int_equal(msg.unknown_required[0], 0x0030);
	assert_int_equal(msg.unknown_required[1], 0x7FFF);
}

/* "Attributes with values between 0x8000 and 0xFFFF are
 * comprehension-optional attributes, which means that those attributes
 * can be ignored by the STUN agent if it does not understand them." */
static void test_unknown_comprehension_optional_attribute_is_not_recorded(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	raw_attr(&m, 0x8000 + 0x7F00, "x", 1);
	raw_attr(&m, 0xFFFF, NULL, 0);
	expect_ok();
	assert_int_equal(msg.attr_count, 2);
	assert_int_equal(msg.unknown_required_count, 0);
	assert_true(il_stun_attr_is_comprehension_required(0x7FFF));
	assert_false(il_stun_attr_is_comprehension_required(0x8000));
}

static void test_unknown_required_list_is_bounded(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	for (uint16_t t = 0; t < IL_STUN_MAX_UNKNOWN + 8; t++)
		raw_attr(&m, (uint16_t)(0x7000 + t), NULL, 0);
	expect_ok();
	assert_int_equal(msg.unknown_required_count, IL_STUN_MAX_UNKNOWN);
	assert_int_equal(msg.unknown_required[IL_STUN_MAX_UNKNOWN - 1],
			 0x7000 + IL_STUN_MAX_UNKNOWN - 1);
}

/* ---- duplicates and placement -------------------------------------------- */

/* "Any attribute type MAY appear more than once in a STUN message. Unless
 * specified otherwise, the order of appearance is significant: only the
 * first occurrence needs to be processed by a receiver" (§14). */
static void test_duplicate_attribute_first_wins(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 111);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 222);
	expect_ok();
	assert_int_equal(msg.attr_count, 2);
	const il_stun_attr *a = il_stun_msg_find(&msg, IL_ATTR_PRIORITY);
	assert_ptr_equal(a, &msg.attrs[0]);
	uint32_t v = 0;
	assert_int_equal(il_stun_attr_get_u32(&msg, a, &v), IL_STUN_OK);
	assert_int_equal(v, 111);
	assert_null(il_stun_msg_find(&msg, IL_ATTR_LIFETIME));
}

/* "agents MUST ignore all attributes that follow MESSAGE-INTEGRITY, with
 * the exception of the MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
 * attributes." (RFC 8489 §9) */
static void test_attributes_after_message_integrity_are_ignored(void **state)
{
	(void)state;
	uint8_t mac[20] = {0};
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY, mac, 20);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 1);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY, mac, 20); /* a second MI too */
	raw_attr(&m, 0x0030, NULL, 0);                    /* unknown, required */
	expect_ok();
	assert_int_equal(msg.attr_count, 4);
	assert_int_equal(msg.mi_index, 0);
	assert_false(msg.attrs[0].ignored);
	assert_true(msg.attrs[1].ignored);
	assert_true(msg.attrs[2].ignored);
	assert_true(msg.attrs[3].ignored);
	assert_null(il_stun_msg_find(&msg, IL_ATTR_PRIORITY));
	assert_ptr_equal(il_stun_msg_find(&msg, IL_ATTR_MESSAGE_INTEGRITY), &msg.attrs[0]);
	/* An ignored attribute is not reported for a 420 either. */
	assert_int_equal(msg.unknown_required_count, 0);
}

static void test_mi_sha256_and_fingerprint_after_mi_are_not_ignored(void **state)
{
	(void)state;
	uint8_t mac[32] = {0};
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY, mac, 20);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY_SHA256, mac, 32);
	raw_attr_u32(&m, IL_ATTR_FINGERPRINT, 0);
	expect_ok();
	assert_int_equal(msg.mi_index, 0);
	assert_int_equal(msg.mi256_index, 1);
	assert_int_equal(msg.fingerprint_index, 2);
	assert_false(msg.attrs[1].ignored);
	assert_false(msg.attrs[2].ignored);
	assert_non_null(il_stun_msg_find(&msg, IL_ATTR_MESSAGE_INTEGRITY_SHA256));
	assert_non_null(il_stun_msg_find(&msg, IL_ATTR_FINGERPRINT));
}

/* "Similarly, agents MUST ignore all attributes that follow the
 * MESSAGE-INTEGRITY-SHA256 attribute if the MESSAGE-INTEGRITY attribute is
 * not present, with the exception of the FINGERPRINT attribute." (RFC 8489
 * §9) */
static void test_attributes_after_mi_sha256_are_ignored_except_fingerprint(void **state)
{
	(void)state;
	uint8_t mac[32] = {0};
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY_SHA256, mac, 32);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 1);
	raw_attr(&m, 0x0030, NULL, 0);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY_SHA256, mac, 16);
	raw_attr_u32(&m, IL_ATTR_FINGERPRINT, 0);
	expect_ok();
	assert_int_equal(msg.mi256_index, 0);
	assert_int_equal(msg.mi_index, -1);
	assert_false(msg.attrs[0].ignored);
	assert_true(msg.attrs[1].ignored);
	assert_true(msg.attrs[2].ignored);
	assert_true(msg.attrs[3].ignored);
	assert_false(msg.attrs[4].ignored);
	assert_int_equal(msg.fingerprint_index, 4);
	assert_null(il_stun_msg_find(&msg, IL_ATTR_PRIORITY));
	assert_ptr_equal(il_stun_msg_find(&msg, IL_ATTR_MESSAGE_INTEGRITY_SHA256), &msg.attrs[0]);
	assert_int_equal(msg.unknown_required_count, 0);
}

/* The same §9 sentence does not apply when MESSAGE-INTEGRITY is present:
 * then the MESSAGE-INTEGRITY rule governs, and what follows it is ignored. */
static void test_message_integrity_after_mi_sha256_is_honoured(void **state)
{
	(void)state;
	uint8_t mac[32] = {0};
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY_SHA256, mac, 32);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY, mac, 20);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 1);
	raw_attr_u32(&m, IL_ATTR_FINGERPRINT, 0);
	expect_ok();
	assert_int_equal(msg.mi256_index, 0);
	assert_int_equal(msg.mi_index, 1);
	assert_false(msg.attrs[1].ignored);
	assert_true(msg.attrs[2].ignored);
	assert_false(msg.attrs[3].ignored);
	assert_int_equal(msg.fingerprint_index, 3);
}

/* Ignored attributes are not interpreted, so their format is not judged. */
static void test_ignored_attribute_is_not_format_checked(void **state)
{
	(void)state;
	uint8_t mac[20] = {0};
	const uint8_t bad_family[8] = {0, 0x07, 0, 1, 1, 2, 3, 4};
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY, mac, 20);
	raw_attr(&m, IL_ATTR_XOR_MAPPED_ADDRESS, bad_family, 8);
	raw_attr(&m, IL_ATTR_PRIORITY, "abc", 3);
	expect_ok();
	assert_true(msg.attrs[1].ignored);
	assert_true(msg.attrs[2].ignored);
}

/* "When present, the FINGERPRINT attribute MUST be the last attribute in
 * the message" (§14.7). */
static void test_fingerprint_not_last_is_error(void **state)
{
	(void)state;
	raw_begin(&m, 0x0001);
	raw_attr_u32(&m, IL_ATTR_FINGERPRINT, 0);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 1);
	expect_error_at(IL_STUN_ERR_FINGERPRINT_NOT_LAST, 28);

	/* Even an attribute that would be ignored may not follow it. */
	uint8_t mac[20] = {0};
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY, mac, 20);
	raw_attr_u32(&m, IL_ATTR_FINGERPRINT, 0);
	raw_attr(&m, 0x8FFF, NULL, 0);
	expect_error_at(IL_STUN_ERR_FINGERPRINT_NOT_LAST, 20 + 24 + 8);
}

/* ---- value formats ------------------------------------------------------ */

/* "The address family can take on the following values: 0x01:IPv4
 * 0x02:IPv6" (§14.1); the problem byte is the family, value byte 1. */
static void test_address_family_other_than_ipv4_or_ipv6_is_bad_value(void **state)
{
	(void)state;
	static const uint16_t types[] = {IL_ATTR_MAPPED_ADDRESS, IL_ATTR_XOR_MAPPED_ADDRESS,
					 IL_ATTR_XOR_PEER_ADDRESS, IL_ATTR_ALTERNATE_SERVER};
	static const uint8_t families[] = {0x00, 0x03, 0xFF};
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		for (size_t f = 0; f < sizeof families; f++) {
			uint8_t v[8] = {0, families[f], 0x12, 0x34, 10, 0, 0, 1};
			raw_begin(&m, 0x0101);
			raw_attr(&m, types[t], v, 8);
			expect_error_at(IL_STUN_ERR_ATTR_BAD_VALUE, 20 + 5);
		}
	}
}

/* IPv4 carries 32 bits of address, IPv6 128 (§14.1). */
static void test_address_length_must_match_family(void **state)
{
	(void)state;
	uint8_t v[20] = {0, 0x01, 0x12, 0x34};
	raw_begin(&m, 0x0101);
	raw_attr(&m, IL_ATTR_MAPPED_ADDRESS, v, 20); /* IPv4 with 16 bytes */
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);

	v[1] = 0x02;
	raw_begin(&m, 0x0101);
	raw_attr(&m, IL_ATTR_XOR_MAPPED_ADDRESS, v, 8); /* IPv6 with 4 bytes */
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);

	raw_begin(&m, 0x0101);
	raw_attr(&m, IL_ATTR_XOR_MAPPED_ADDRESS, v, 12);
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);

	raw_begin(&m, 0x0101);
	raw_attr(&m, IL_ATTR_MAPPED_ADDRESS, v, 4); /* no address at all */
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);

	raw_begin(&m, 0x0101);
	raw_attr(&m, IL_ATTR_MAPPED_ADDRESS, v, 20); /* IPv6, 16 bytes: fine */
	expect_ok();
}

/* ERROR-CODE has a 4-byte header before its reason (§14.8); a shorter
 * value is the pjnath CVE-2021-37706 class. */
static void test_error_code_shorter_than_4_bytes_is_bad_length(void **state)
{
	(void)state;
	const uint8_t v[3] = {0, 0, 4};
	for (size_t len = 0; len < 4; len++) {
		raw_begin(&m, 0x0111);
		raw_attr(&m, IL_ATTR_ERROR_CODE, v, len);
		expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
	}
}

/* "The Class represents the hundreds digit of the error code. The value
 * MUST be between 3 and 6." (§14.8) */
static void test_error_code_class_outside_3_to_6_is_bad_value(void **state)
{
	(void)state;
	for (uint8_t cls = 0; cls < 8; cls++) {
		const uint8_t v[4] = {0, 0, cls, 20};
		raw_begin(&m, 0x0111);
		raw_attr(&m, IL_ATTR_ERROR_CODE, v, 4);
		if (cls >= 3 && cls <= 6) {
			expect_ok();
		} else {
			expect_error_at(IL_STUN_ERR_ATTR_BAD_VALUE, 20 + 6);
		}
	}
}

/* "The Number represents the binary encoding of the error code modulo
 * 100, and its value MUST be between 0 and 99." (§14.8) */
static void test_error_code_number_over_99_is_bad_value(void **state)
{
	(void)state;
	const uint8_t v99[4] = {0, 0, 4, 99};
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_ERROR_CODE, v99, 4);
	expect_ok();

	const uint8_t v100[4] = {0, 0, 4, 100};
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_ERROR_CODE, v100, 4);
	assert_int_equal(decode_raw(), IL_STUN_ERR_ATTR_BAD_VALUE);

	const uint8_t v255[4] = {0, 0, 4, 255};
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_ERROR_CODE, v255, 4);
	assert_int_equal(decode_raw(), IL_STUN_ERR_ATTR_BAD_VALUE);
}

/* The reason phrase is "a UTF-8-encoded [RFC3629] sequence of fewer than
 * 128 characters (which can be as long as 509 bytes when encoding them or
 * 763 bytes when decoding them)" (§14.8). */
static void test_error_code_reason_of_128_characters_is_too_long(void **state)
{
	(void)state;
	uint8_t v[4 + 128];
	v[0] = v[1] = 0;
	v[2] = 4;
	v[3] = 20;
	memset(v + 4, 'r', 128);
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_ERROR_CODE, v, 4 + 127);
	expect_ok();
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_ERROR_CODE, v, 4 + 128);
	assert_int_equal(decode_raw(), IL_STUN_ERR_STRING_TOO_LONG);
}

static void test_32_bit_attribute_with_other_length_is_bad_length(void **state)
{
	(void)state;
	static const uint16_t types[] = {IL_ATTR_PRIORITY, IL_ATTR_LIFETIME, IL_ATTR_FINGERPRINT,
					 IL_ATTR_CHANGE_REQUEST, IL_ATTR_CHANNEL_NUMBER,
					 IL_ATTR_REQUESTED_TRANSPORT};
	static const size_t lens[] = {0, 3, 5, 8};
	const uint8_t v[8] = {0x40, 0, 0, 0, 0, 0, 0, 0};
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
			raw_begin(&m, 0x0001);
			raw_attr(&m, types[t], v, lens[l]);
			expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
		}
		raw_begin(&m, 0x0001);
		raw_attr(&m, types[t], v, 4);
		expect_ok();
	}
}

/* ICE-CONTROLLED / ICE-CONTROLLING carry a 64-bit tie-breaker (RFC 8445
 * §7.1.3). */
static void test_u64_attribute_with_other_length_is_bad_length(void **state)
{
	(void)state;
	const uint8_t v[16] = {0};
	static const size_t lens[] = {0, 4, 7, 9, 12, 16};
	for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
		raw_begin(&m, 0x0001);
		raw_attr(&m, IL_ATTR_ICE_CONTROLLING, v, lens[l]);
		expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
		raw_begin(&m, 0x0001);
		raw_attr(&m, IL_ATTR_ICE_CONTROLLED, v, lens[l]);
		expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
	}
}

/* USE-CANDIDATE and DONT-FRAGMENT have no value (RFC 8445 §7.1.2, RFC 8656
 * §18.9); EVEN-PORT one byte (§18.7). */
static void test_fixed_size_attributes_with_other_length_are_bad_length(void **state)
{
	(void)state;
	const uint8_t v[8] = {0x80};
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_USE_CANDIDATE, v, 4);
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
	raw_begin(&m, 0x0003);
	raw_attr(&m, IL_ATTR_DONT_FRAGMENT, v, 1);
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
	raw_begin(&m, 0x0003);
	raw_attr(&m, IL_ATTR_EVEN_PORT, v, 4);
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
	raw_begin(&m, 0x0003);
	raw_attr(&m, IL_ATTR_EVEN_PORT, v, 1);
	raw_attr(&m, IL_ATTR_DONT_FRAGMENT, NULL, 0);
	raw_attr(&m, IL_ATTR_RESERVATION_TOKEN, v, 8);
	expect_ok();
	raw_begin(&m, 0x0003);
	raw_attr(&m, IL_ATTR_RESERVATION_TOKEN, v, 4);
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
	/* UNKNOWN-ATTRIBUTES is a list of 16-bit types (§14.9). */
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_UNKNOWN_ATTRIBUTES, v, 3);
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
}

/* "It MUST contain a UTF-8-encoded [RFC3629] sequence of fewer than 509
 * bytes when encoding it and MUST be able to parse a UTF-8-encoded
 * sequence of 763 or fewer octets" (USERNAME, §14.3). */
static void test_username_over_763_bytes_is_too_long(void **state)
{
	(void)state;
	static uint8_t v[764];
	memset(v, 'u', sizeof v);
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_USERNAME, v, 763);
	expect_ok();
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_USERNAME, v, 764);
	expect_error_at(IL_STUN_ERR_STRING_TOO_LONG, 22);
}

/* REALM: "a sequence of fewer than 128 characters (which can be as long
 * as 509 bytes when encoding them and as long as 763 bytes when decoding
 * them)" (§14.9). Characters, not bytes: 128 two-byte characters are 256
 * bytes and still too many. */
static void test_realm_of_128_characters_is_too_long_even_under_763_bytes(void **state)
{
	(void)state;
	uint8_t v[2 * 128];
	for (int i = 0; i < 128; i++) {
		v[2 * i] = 0xC3; /* U+00E9 */
		v[2 * i + 1] = 0xA9;
	}
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_REALM, v, 2 * 127);
	expect_ok();
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_REALM, v, 2 * 128);
	expect_error_at(IL_STUN_ERR_STRING_TOO_LONG, 22);

	memset(v, 'r', sizeof v);
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_REALM, v, 127);
	expect_ok();
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_REALM, v, 128);
	expect_error_at(IL_STUN_ERR_STRING_TOO_LONG, 22);
}

/* NONCE and SOFTWARE have the same "fewer than 128 characters" rule
 * (§14.10, §14.14). */
static void test_nonce_and_software_of_128_characters_are_too_long(void **state)
{
	(void)state;
	uint8_t v[3 * 128];
	for (int i = 0; i < 128; i++) { /* U+30DE, three bytes */
		v[3 * i] = 0xE3;
		v[3 * i + 1] = 0x83;
		v[3 * i + 2] = 0x9E;
	}
	static const uint16_t types[] = {IL_ATTR_NONCE, IL_ATTR_SOFTWARE};
	for (size_t t = 0; t < 2; t++) {
		raw_begin(&m, 0x0001);
		raw_attr(&m, types[t], v, 3 * 127);
		expect_ok();
		raw_begin(&m, 0x0001);
		raw_attr(&m, types[t], v, 3 * 128);
		expect_error_at(IL_STUN_ERR_STRING_TOO_LONG, 22);
	}
}

/* Text attributes are UTF-8 (RFC 3629): no overlong forms, no surrogates,
 * nothing past U+10FFFF, no stray or missing continuation bytes. */
static void test_bad_utf8_is_refused(void **state)
{
	(void)state;
	static const struct {
		const char *bytes;
		size_t len;
	} bad[] = {
		{"\x80", 1},             /* lone continuation */
		{"a\xC0\xAF", 3},        /* overlong '/' */
		{"\xE0\x80\xAF", 3},     /* overlong, three bytes */
		{"\xF0\x80\x80\xAF", 4}, /* overlong, four bytes */
		{"\xED\xA0\x80", 3},     /* U+D800, a surrogate */
		{"\xF4\x90\x80\x80", 4}, /* U+110000 */
		{"\xE3\x83", 2},         /* cut short at the end */
		{"\xE3\x41\x41", 3},     /* continuation missing */
		{"\xFF", 1},
		{"\xF8\x88\x80\x80\x80", 5},
	};
	static const uint16_t types[] = {IL_ATTR_USERNAME, IL_ATTR_REALM, IL_ATTR_NONCE,
					 IL_ATTR_SOFTWARE};
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			raw_begin(&m, 0x0001);
			raw_attr_u32(&m, IL_ATTR_PRIORITY, 1);
			raw_attr(&m, types[t], bad[i].bytes, bad[i].len);
			if (decode_raw() != IL_STUN_ERR_BAD_UTF8)
				fail_msg("type 0x%04x case %zu accepted", types[t], i);
			assert_int_equal(derr.offset, 28 + 4); /* the value */
		}
	}
	/* Reason phrases too. */
	const uint8_t v[6] = {0, 0, 4, 0, 0xC0, 0x80};
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_ERROR_CODE, v, 6);
	assert_int_equal(decode_raw(), IL_STUN_ERR_BAD_UTF8);
}

/* Long ASCII runs are counted and checked like any other text: a bad
 * sequence after them is still refused, and characters are still counted
 * across the boundary between ASCII and multi-byte text. */
static void test_utf8_after_ascii_run_is_still_checked(void **state)
{
	(void)state;
	uint8_t v[160];
	for (size_t run = 0; run <= 24; run++) {
		memset(v, 'a', run);
		v[run] = 0xC0; /* overlong */
		v[run + 1] = 0xAF;
		memset(v + run + 2, 'b', 9);
		raw_begin(&m, 0x0001);
		raw_attr(&m, IL_ATTR_SOFTWARE, v, run + 11);
		if (decode_raw() != IL_STUN_ERR_BAD_UTF8)
			fail_msg("bad sequence after %zu ASCII bytes accepted", run);
	}
	/* 120 ASCII + 7 two-byte characters = 127 characters: ok; one more
	 * two-byte character makes 128: too long (§14.9). */
	memset(v, 'r', 120);
	for (int i = 0; i < 8; i++) {
		v[120 + 2 * i] = 0xC3;
		v[121 + 2 * i] = 0xA9;
	}
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_REALM, v, 120 + 14);
	expect_ok();
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_REALM, v, 120 + 16);
	expect_error_at(IL_STUN_ERR_STRING_TOO_LONG, 22);
	/* A high bit in the last byte of an 8-byte word. */
	memset(v, 'x', 16);
	v[7] = 0x80;
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_USERNAME, v, 16);
	assert_int_equal(decode_raw(), IL_STUN_ERR_BAD_UTF8);
}

static void test_good_utf8_of_every_width_is_accepted(void **state)
{
	(void)state;
	/* 'a', U+00E9, U+30DE, U+1F600, U+10FFFF */
	const char text[] = "a\xC3\xA9\xE3\x83\x9E\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF";
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_USERNAME, text, sizeof text - 1);
	expect_ok();
	const char *got;
	size_t len;
	assert_int_equal(il_stun_attr_get_string(&msg, &msg.attrs[0], &got, &len), IL_STUN_OK);
	assert_int_equal(len, sizeof text - 1);
	assert_memory_equal(got, text, len);
}

/* MESSAGE-INTEGRITY is an HMAC-SHA1: 20 bytes (§14.5). */
static void test_message_integrity_of_19_or_21_bytes_is_bad_length(void **state)
{
	(void)state;
	uint8_t mac[21] = {0};
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY, mac, 19);
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY, mac, 21);
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
	assert_int_equal(msg.mi_index, -1);
}

/* "The value will be at most 32 bytes, but it MUST be at least 16 bytes
 * and MUST be a multiple of 4 bytes." (§14.6) */
static void test_mi_sha256_length_must_be_16_to_32_in_steps_of_4(void **state)
{
	(void)state;
	uint8_t mac[36] = {0};
	for (size_t len = 0; len <= 36; len++) {
		raw_begin(&m, 0x0001);
		raw_attr(&m, IL_ATTR_MESSAGE_INTEGRITY_SHA256, mac, len);
		enum il_stun_err rc = decode_raw();
		bool valid = len >= 16 && len <= 32 && len % 4 == 0;
		if (valid && rc != IL_STUN_OK)
			fail_msg("length %zu refused: %s", len, il_stun_err_name(rc));
		if (!valid && rc != IL_STUN_ERR_ATTR_BAD_LENGTH)
			fail_msg("length %zu: %s", len, il_stun_err_name(rc));
	}
}

/* USERHASH is a SHA-256 digest (§14.4). */
static void test_userhash_must_be_32_bytes(void **state)
{
	(void)state;
	uint8_t h[33] = {0};
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_USERHASH, h, 31);
	expect_error_at(IL_STUN_ERR_ATTR_BAD_LENGTH, 22);
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_USERHASH, h, 32);
	expect_ok();
}

/* PASSWORD-ALGORITHMS: a list of (algorithm 16 bits, parameters length 16
 * bits, parameters padded to 32 bits) (§14.11). */
static void test_password_algorithms_malformed_is_bad_length(void **state)
{
	(void)state;
	const uint8_t good[] = {0, 2, 0, 0, 0, 1, 0, 0};
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_PASSWORD_ALGORITHMS, good, sizeof good);
	expect_ok();

	/* trailing half entry */
	const uint8_t half[] = {0, 2, 0, 0, 0, 1};
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_PASSWORD_ALGORITHMS, half, sizeof half);
	assert_int_equal(decode_raw(), IL_STUN_ERR_ATTR_BAD_LENGTH);

	/* parameters length runs past the value */
	const uint8_t over[] = {0, 2, 0, 0, 0, 1, 0, 8, 1, 2, 3, 4};
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_PASSWORD_ALGORITHMS, over, sizeof over);
	assert_int_equal(decode_raw(), IL_STUN_ERR_ATTR_BAD_LENGTH);

	/* parameters of 1 byte padded to 4 fill the value exactly */
	const uint8_t padded[] = {0, 9, 0, 1, 0xAA, 0, 0, 0, 0, 2, 0, 0};
	raw_begin(&m, 0x0111);
	raw_attr(&m, IL_ATTR_PASSWORD_ALGORITHMS, padded, sizeof padded);
	expect_ok();

	/* PASSWORD-ALGORITHM (singular) with parameters past its value */
	const uint8_t one[] = {0, 2, 0, 4};
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_PASSWORD_ALGORITHM, one, sizeof one);
	assert_int_equal(decode_raw(), IL_STUN_ERR_ATTR_BAD_LENGTH);
	raw_begin(&m, 0x0001);
	raw_attr(&m, IL_ATTR_PASSWORD_ALGORITHM, one, 2);
	assert_int_equal(decode_raw(), IL_STUN_ERR_ATTR_BAD_LENGTH);
}

/* ---- accessors ------------------------------------------------------------ */

static void test_accessors_read_values(void **state)
{
	(void)state;
	const uint8_t tb[8] = {0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36};
	const uint8_t err[4 + 12] = {0, 0, 4, 20, 'U', 'n', 'k', 'n', 'o', 'w', 'n', ' ',
				     'A', 't', 't', 'r'};
	const uint8_t unknown[6] = {0x00, 0x30, 0x7F, 0xFF, 0x00, 0x31};
	const uint8_t chan[4] = {0x40, 0x01, 0, 0};
	raw_begin(&m, 0x0111);
	raw_attr_u32(&m, IL_ATTR_PRIORITY, 0x6e0001ff);
	raw_attr(&m, IL_ATTR_ICE_CONTROLLED, tb, 8);
	raw_attr(&m, IL_ATTR_ERROR_CODE, err, sizeof err);
	raw_attr(&m, IL_ATTR_UNKNOWN_ATTRIBUTES, unknown, sizeof unknown);
	raw_attr(&m, IL_ATTR_CHANNEL_NUMBER, chan, 4);
	expect_ok();

	uint32_t u32 = 0;
	assert_int_equal(il_stun_attr_get_u32(&msg, &msg.attrs[0], &u32), IL_STUN_OK);
	assert_int_equal(u32, 0x6e0001ff);
	uint64_t u64 = 0;
	assert_int_equal(il_stun_attr_get_u64(&msg, &msg.attrs[1], &u64), IL_STUN_OK);
	assert_true(u64 == 0x932ff9b151263b36ull);
	assert_int_equal(il_stun_attr_get_u64(&msg, &msg.attrs[0], &u64),
			 IL_STUN_ERR_ATTR_BAD_LENGTH);
	assert_int_equal(il_stun_attr_get_u32(&msg, &msg.attrs[1], &u32),
			 IL_STUN_ERR_ATTR_BAD_LENGTH);

	int code = 0;
	const char *reason = NULL;
	size_t reason_len = 0;
	assert_int_equal(il_stun_attr_get_error_code(&msg, &msg.attrs[2], &code, &reason,
						     &reason_len),
			 IL_STUN_OK);
	assert_int_equal(code, 420);
	assert_int_equal(reason_len, 12);
	assert_memory_equal(reason, "Unknown Attr", 12);

	uint16_t types[2] = {0};
	size_t count = 0;
	assert_int_equal(il_stun_attr_get_unknown(&msg, &msg.attrs[3], types, 2, &count),
			 IL_STUN_OK);
	assert_int_equal(count, 3); /* all of them counted, two stored */
	assert_int_equal(types[0], 0x0030);
	assert_int_equal(types[1], 0x7FFF);

	uint16_t channel = 0;
	assert_int_equal(il_stun_attr_get_channel(&msg, &msg.attrs[4], &channel), IL_STUN_OK);
	assert_int_equal(channel, 0x4001);
}

/* A truncated ERROR-CODE handed to the accessor directly (the decoder
 * refuses it; an unknown-type view could still reach here) is refused
 * before reading. */
static void test_error_code_accessor_refuses_short_value(void **state)
{
	(void)state;
	raw_begin(&m, 0x0111);
	raw_attr(&m, 0x8FFE, "ab", 2);
	expect_ok();
	il_stun_attr a = msg.attrs[0];
	a.type = IL_ATTR_ERROR_CODE;
	int code = -1;
	const char *reason = NULL;
	size_t len = 0;
	assert_int_equal(il_stun_attr_get_error_code(&msg, &a, &code, &reason, &len),
			 IL_STUN_ERR_ATTR_BAD_LENGTH);
	assert_int_equal(code, -1);
}

/* ---- error names -------------------------------------------------------- */

static void test_every_error_has_a_distinct_name_and_a_message(void **state)
{
	(void)state;
	for (int e = 0; e < IL_STUN_ERR__COUNT; e++) {
		const char *name = il_stun_err_name((enum il_stun_err)e);
		const char *text = il_stun_err_message((enum il_stun_err)e);
		assert_non_null(name);
		assert_non_null(text);
		assert_true(strlen(name) > 0);
		assert_true(strlen(text) > 0);
		assert_string_not_equal(name, "unknown");
		for (int o = 0; o < e; o++)
			assert_string_not_equal(name, il_stun_err_name((enum il_stun_err)o));
	}
	assert_string_equal(il_stun_err_name(IL_STUN_OK), "ok");
	assert_string_equal(il_stun_err_name(IL_STUN_ERR_LENGTH_MISMATCH), "length-mismatch");
	assert_string_equal(il_stun_err_name(IL_STUN_ERR__COUNT), "unknown");
	assert_non_null(il_stun_err_message(IL_STUN_ERR__COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_type_decodes_method_and_class),
		cmocka_unit_test(test_message_type_decodes_every_method_bit),
		cmocka_unit_test(test_message_with_magic_cookie_has_12_byte_tid_after_cookie),
		cmocka_unit_test(test_message_without_magic_cookie_is_classic_with_16_byte_tid),
		cmocka_unit_test(test_datagram_shorter_than_header_is_truncated),
		cmocka_unit_test(test_top_two_bits_set_is_not_stun),
		cmocka_unit_test(test_header_length_not_multiple_of_4_is_bad_length),
		cmocka_unit_test(test_trailing_bytes_after_message_are_length_mismatch),
		cmocka_unit_test(test_datagram_shorter_than_header_length_is_length_mismatch),
		cmocka_unit_test(test_attribute_value_past_end_is_attr_truncated),
		cmocka_unit_test(test_attribute_padding_is_skipped),
		cmocka_unit_test(test_48_attributes_decode),
		cmocka_unit_test(test_49_attributes_are_too_many),
		cmocka_unit_test(test_attribute_value_beyond_offset_65535_is_located),
		cmocka_unit_test(test_unknown_comprehension_required_attribute_is_recorded),
		cmocka_unit_test(test_unknown_comprehension_optional_attribute_is_not_recorded),
		cmocka_unit_test(test_unknown_required_list_is_bounded),
		cmocka_unit_test(test_duplicate_attribute_first_wins),
		cmocka_unit_test(test_attributes_after_message_integrity_are_ignored),
		cmocka_unit_test(test_mi_sha256_and_fingerprint_after_mi_are_not_ignored),
		cmocka_unit_test(test_attributes_after_mi_sha256_are_ignored_except_fingerprint),
		cmocka_unit_test(test_message_integrity_after_mi_sha256_is_honoured),
		cmocka_unit_test(test_ignored_attribute_is_not_format_checked),
		cmocka_unit_test(test_fingerprint_not_last_is_error),
		cmocka_unit_test(test_address_family_other_than_ipv4_or_ipv6_is_bad_value),
		cmocka_unit_test(test_address_length_must_match_family),
		cmocka_unit_test(test_error_code_shorter_than_4_bytes_is_bad_length),
		cmocka_unit_test(test_error_code_class_outside_3_to_6_is_bad_value),
		cmocka_unit_test(test_error_code_number_over_99_is_bad_value),
		cmocka_unit_test(test_error_code_reason_of_128_characters_is_too_long),
		cmocka_unit_test(test_32_bit_attribute_with_other_length_is_bad_length),
		cmocka_unit_test(test_u64_attribute_with_other_length_is_bad_length),
		cmocka_unit_test(test_fixed_size_attributes_with_other_length_are_bad_length),
		cmocka_unit_test(test_username_over_763_bytes_is_too_long),
		cmocka_unit_test(test_realm_of_128_characters_is_too_long_even_under_763_bytes),
		cmocka_unit_test(test_nonce_and_software_of_128_characters_are_too_long),
		cmocka_unit_test(test_bad_utf8_is_refused),
		cmocka_unit_test(test_utf8_after_ascii_run_is_still_checked),
		cmocka_unit_test(test_good_utf8_of_every_width_is_accepted),
		cmocka_unit_test(test_message_integrity_of_19_or_21_bytes_is_bad_length),
		cmocka_unit_test(test_mi_sha256_length_must_be_16_to_32_in_steps_of_4),
		cmocka_unit_test(test_userhash_must_be_32_bytes),
		cmocka_unit_test(test_password_algorithms_malformed_is_bad_length),
		cmocka_unit_test(test_accessors_read_values),
		cmocka_unit_test(test_error_code_accessor_refuses_short_value),
		cmocka_unit_test(test_every_error_has_a_distinct_name_and_a_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
