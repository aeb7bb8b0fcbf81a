/* Unit tests of the STUN registries (RFC 8489 §18, RFC 8656 §17, RFC 8445
 * §20, RFC 5780 §9): attribute table order and contents, method and class
 * names, error reason phrases. */
#include "icelab/stun.h"

#include "stun_test_util.h"

/* The table is sorted and every entry is found by its type, with sane
 * bounds: a binary search over an unsorted table would miss types. */
static void test_attribute_table_is_sorted_and_consistent(void **state)
{
	(void)state;
	size_t count = 0;
	const il_stun_attr_info *all = il_stun_attr_info_all(&count);
	assert_true(count > 40);
	for (size_t i = 0; i < count; i++) {
		if (i > 0 && all[i - 1].type >= all[i].type)
			fail_msg("entry %zu (0x%04x) out of order", i, all[i].type);
		assert_ptr_equal(il_stun_attr_info_find(all[i].type), &all[i]);
		assert_non_null(all[i].name);
		assert_non_null(all[i].rfc);
		assert_true(all[i].min_len <= all[i].max_len);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(all[i].name, all[j].name);
		switch (all[i].kind) {
		case IL_VAL_ADDR:
		case IL_VAL_XOR_ADDR:
			assert_int_equal(all[i].min_len, 8);
			assert_int_equal(all[i].max_len, 20);
			break;
		case IL_VAL_U32:
			assert_int_equal(all[i].min_len, 4);
			assert_int_equal(all[i].max_len, 4);
			break;
		case IL_VAL_U64:
			assert_int_equal(all[i].min_len, 8);
			assert_int_equal(all[i].max_len, 8);
			break;
		case IL_VAL_EMPTY:
			assert_int_equal(all[i].max_len, 0);
			break;
		default:
			break;
		}
	}
	assert_null(il_stun_attr_info_find(0x0000));
	assert_null(il_stun_attr_info_find(0x0030));
	assert_null(il_stun_attr_info_find(0xFFFF));
}

/* Code points and names from the IANA registrations in the RFCs. */
static void test_attribute_types_match_rfc_registrations(void **state)
{
	(void)state;
	static const struct {
		uint16_t type;
		const char *name;
		uint8_t kind;
	} regs[] = {
		{0x0001, "MAPPED-ADDRESS", IL_VAL_ADDR},          /* RFC 8489 §18.3 */
		{0x0006, "USERNAME", IL_VAL_STRING},
		{0x0008, "MESSAGE-INTEGRITY", IL_VAL_OPAQUE},
		{0x0009, "ERROR-CODE", IL_VAL_ERROR_CODE},
		{0x000A, "UNKNOWN-ATTRIBUTES", IL_VAL_UNKNOWN_ATTRS},
		{0x0014, "REALM", IL_VAL_STRING},
		{0x0015, "NONCE", IL_VAL_STRING},
		{0x001C, "MESSAGE-INTEGRITY-SHA256", IL_VAL_OPAQUE},
		{0x001D, "PASSWORD-ALGORITHM", IL_VAL_PASSWORD_ALGORITHM},
		{0x001E, "USERHASH", IL_VAL_OPAQUE},
		{0x0020, "XOR-MAPPED-ADDRESS", IL_VAL_XOR_ADDR},
		{0x8002, "PASSWORD-ALGORITHMS", IL_VAL_PASSWORD_ALGORITHMS},
		{0x8003, "ALTERNATE-DOMAIN", IL_VAL_STRING},
		{0x8022, "SOFTWARE", IL_VAL_STRING},
		{0x8023, "ALTERNATE-SERVER", IL_VAL_ADDR},
		{0x8028, "FINGERPRINT", IL_VAL_U32},
		{0x000C, "CHANNEL-NUMBER", IL_VAL_CHANNEL},       /* RFC 8656 Table 5 */
		{0x000D, "LIFETIME", IL_VAL_U32},
		{0x0012, "XOR-PEER-ADDRESS", IL_VAL_XOR_ADDR},
		{0x0013, "DATA", IL_VAL_OPAQUE},
		{0x0016, "XOR-RELAYED-ADDRESS", IL_VAL_XOR_ADDR},
		{0x0017, "REQUESTED-ADDRESS-FAMILY", IL_VAL_U8_RFFU},
		{0x0018, "EVEN-PORT", IL_VAL_EVEN_PORT},
		{0x0019, "REQUESTED-TRANSPORT", IL_VAL_U8_RFFU},
		{0x001A, "DONT-FRAGMENT", IL_VAL_EMPTY},
		{0x0022, "RESERVATION-TOKEN", IL_VAL_OPAQUE},
		{0x8000, "ADDITIONAL-ADDRESS-FAMILY", IL_VAL_U8_RFFU},
		{0x8001, "ADDRESS-ERROR-CODE", IL_VAL_ADDRESS_ERROR_CODE},
		{0x8004, "ICMP", IL_VAL_ICMP},
		{0x0024, "PRIORITY", IL_VAL_U32},                 /* RFC 8445 §20.1 */
		{0x0025, "USE-CANDIDATE", IL_VAL_EMPTY},
		{0x8029, "ICE-CONTROLLED", IL_VAL_U64},
		{0x802A, "ICE-CONTROLLING", IL_VAL_U64},
		{0x0003, "CHANGE-REQUEST", IL_VAL_U32},           /* RFC 5780 §9.1 */
		{0x0026, "PADDING", IL_VAL_OPAQUE},
		{0x0027, "RESPONSE-PORT", IL_VAL_PORT_RFFU},
		{0x8027, "CACHE-TIMEOUT", IL_VAL_U32},
		{0x802B, "RESPONSE-ORIGIN", IL_VAL_ADDR},
		{0x802C, "OTHER-ADDRESS", IL_VAL_ADDR},
		{0x002A, "CONNECTION-ID", IL_VAL_U32},            /* RFC 6062 §6.2 */
	};
	for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
		const il_stun_attr_info *info = il_stun_attr_info_find(regs[i].type);
		if (!info)
			fail_msg("0x%04x (%s) missing", regs[i].type, regs[i].name);
		assert_string_equal(info->name, regs[i].name);
		assert_int_equal(info->kind, regs[i].kind);
	}
}

static void test_method_names_round_trip(void **state)
{
	(void)state;
	static const struct {
		uint16_t method;
		const char *name;
	} methods[] = {
		{IL_STUN_BINDING, "binding"},
		{IL_STUN_ALLOCATE, "allocate"},
		{IL_STUN_REFRESH, "refresh"},
		{IL_STUN_SEND, "send"},
		{IL_STUN_DATA, "data"},
		{IL_STUN_CREATEPERMISSION, "createpermission"},
		{IL_STUN_CHANNELBIND, "channelbind"},
		{IL_STUN_CONNECT, "connect"},
		{IL_STUN_CONNECTIONBIND, "connectionbind"},
		{IL_STUN_CONNECTIONATTEMPT, "connectionattempt"},
	};
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		assert_string_equal(il_stun_method_name(methods[i].method), methods[i].name);
		assert_int_equal(il_stun_method_from_name(methods[i].name), methods[i].method);
	}
	assert_null(il_stun_method_name(0x000));
	assert_null(il_stun_method_name(0x002)); /* reserved, was SharedSecret */
	assert_null(il_stun_method_name(0xFFF));
	assert_int_equal(il_stun_method_from_name("sharedsecret"), -1);
	assert_int_equal(il_stun_method_from_name(""), -1);
}

static void test_class_names_round_trip(void **state)
{
	(void)state;
	static const char *const names[4] = {"request", "indication", "success", "error"};
	for (int c = 0; c < 4; c++) {
		assert_string_equal(il_stun_class_name((uint8_t)c), names[c]);
		assert_int_equal(il_stun_class_from_name(names[c]), c);
	}
	assert_null(il_stun_class_name(4));
	assert_int_equal(il_stun_class_from_name("response"), -1);
}

/* Reason phrases as RFC 8489 §14.8, RFC 8656 §19 and RFC 8445 §7.2.5.1
 * give them. */
static void test_error_reasons_match_rfcs(void **state)
{
	(void)state;
	static const struct {
		int code;
		const char *reason;
	} reasons[] = {
		{300, "Try Alternate"},
		{400, "Bad Request"},
		{401, "Unauthenticated"},
		{420, "Unknown Attribute"},
		{438, "Stale Nonce"},
		{500, "Server Error"},
		{403, "Forbidden"},
		{437, "Allocation Mismatch"},
		{440, "Address Family not Supported"},
		{441, "Wrong Credentials"},
		{442, "Unsupported Transport Protocol"},
		{443, "Peer Address Family Mismatch"},
		{486, "Allocation Quota Reached"},
		{508, "Insufficient Capacity"},
		{487, "Role Conflict"},
	};
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		const char *r = il_stun_error_reason(reasons[i].code);
		if (!r)
			fail_msg("no reason for %d", reasons[i].code);
		assert_string_equal(r, reasons[i].reason);
	}
	assert_null(il_stun_error_reason(0));
	assert_null(il_stun_error_reason(499));
	assert_null(il_stun_error_reason(700));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attribute_table_is_sorted_and_consistent),
		cmocka_unit_test(test_attribute_types_match_rfc_registrations),
		cmocka_unit_test(test_method_names_round_trip),
		cmocka_unit_test(test_class_names_round_trip),
		cmocka_unit_test(test_error_reasons_match_rfcs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
