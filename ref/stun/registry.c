/* Names and layouts of STUN methods, classes, attributes and error codes:
 * the IANA registries of RFC 8489 §18, RFC 8656 §17, RFC 5780 §9,
 * RFC 8445 §20, RFC 6062 §6, RFC 8016 §5 and RFC 7635 §9. */
#include "icelab/stun.h"

#include <stdio.h>
#include <string.h>

/* Sorted by type. Lengths are value lengths without padding. */
static const il_stun_attr_info attrs[] = {
	{0x0001, "MAPPED-ADDRESS", IL_VAL_ADDR, 8, 20, 0, 0, "RFC 8489 §14.1"},
	{0x0002, "RESPONSE-ADDRESS", IL_VAL_ADDR, 8, 20, 0, 0, "RFC 3489 §11.2.2"},
	{0x0003, "CHANGE-REQUEST", IL_VAL_U32, 4, 4, 0, 0, "RFC 5780 §7.2"},
	{0x0004, "SOURCE-ADDRESS", IL_VAL_ADDR, 8, 20, 0, 0, "RFC 3489 §11.2.5"},
	{0x0005, "CHANGED-ADDRESS", IL_VAL_ADDR, 8, 20, 0, 0, "RFC 3489 §11.2.3"},
	/* "A compliant implementation MUST be able to parse a UTF-8-encoded
	 * sequence of 763 or fewer octets" (RFC 8489 §14.3). */
	{0x0006, "USERNAME", IL_VAL_STRING, 0, 763, 0, 0, "RFC 8489 §14.3"},
	{0x0007, "PASSWORD", IL_VAL_OPAQUE, 0, 65535, 0, 0, "RFC 3489 §11.2.7"},
	{0x0008, "MESSAGE-INTEGRITY", IL_VAL_OPAQUE, 20, 20, 0, 0, "RFC 8489 §14.5"},
	{0x0009, "ERROR-CODE", IL_VAL_ERROR_CODE, 4, 4 + 763, 0, 128, "RFC 8489 §14.8"},
	{0x000A, "UNKNOWN-ATTRIBUTES", IL_VAL_UNKNOWN_ATTRS, 0, 65535, 2, 0, "RFC 8489 §14.13"},
	{0x000B, "REFLECTED-FROM", IL_VAL_ADDR, 8, 20, 0, 0, "RFC 3489 §11.2.11"},
	{0x000C, "CHANNEL-NUMBER", IL_VAL_CHANNEL, 4, 4, 0, 0, "RFC 8656 §18.1"},
	{0x000D, "LIFETIME", IL_VAL_U32, 4, 4, 0, 0, "RFC 8656 §18.2"},
	{0x0012, "XOR-PEER-ADDRESS", IL_VAL_XOR_ADDR, 8, 20, 0, 0, "RFC 8656 §18.3"},
	{0x0013, "DATA", IL_VAL_OPAQUE, 0, 65535, 0, 0, "RFC 8656 §18.4"},
	{0x0014, "REALM", IL_VAL_STRING, 0, 763, 0, 128, "RFC 8489 §14.9"},
	{0x0015, "NONCE", IL_VAL_STRING, 0, 763, 0, 128, "RFC 8489 §14.10"},
	{0x0016, "XOR-RELAYED-ADDRESS", IL_VAL_XOR_ADDR, 8, 20, 0, 0, "RFC 8656 §18.5"},
	{0x0017, "REQUESTED-ADDRESS-FAMILY", IL_VAL_U8_RFFU, 4, 4, 0, 0, "RFC 8656 §18.6"},
	{0x0018, "EVEN-PORT", IL_VAL_EVEN_PORT, 1, 1, 0, 0, "RFC 8656 §18.7"},
	{0x0019, "REQUESTED-TRANSPORT", IL_VAL_U8_RFFU, 4, 4, 0, 0, "RFC 8656 §18.8"},
	{0x001A, "DONT-FRAGMENT", IL_VAL_EMPTY, 0, 0, 0, 0, "RFC 8656 §18.9"},
	{0x001B, "ACCESS-TOKEN", IL_VAL_OPAQUE, 0, 65535, 0, 0, "RFC 7635 §6.2"},
	/* "The MESSAGE-INTEGRITY-SHA256 attribute can be present in any STUN
	 * message type. The MESSAGE-INTEGRITY-SHA256 attribute contains an
	 * initial portion of the HMAC-SHA-256 ... The value will be at most 32
	 * bytes, but it MUST be at least 16 bytes and MUST be a multiple of 4
	 * bytes." (RFC 8489 §14.6) */
	{0x001C, "MESSAGE-INTEGRITY-SHA256", IL_VAL_OPAQUE, 16, 32, 4, 0, "RFC 8489 §14.6"},
	{0x001D, "PASSWORD-ALGORITHM", IL_VAL_PASSWORD_ALGORITHM, 4, 65535, 0, 0, "RFC 8489 §14.12"},
	{0x001E, "USERHASH", IL_VAL_OPAQUE, 32, 32, 0, 0, "RFC 8489 §14.4"},
	{0x0020, "XOR-MAPPED-ADDRESS", IL_VAL_XOR_ADDR, 8, 20, 0, 0, "RFC 8489 §14.2"},
	{0x0022, "RESERVATION-TOKEN", IL_VAL_OPAQUE, 8, 8, 0, 0, "RFC 8656 §18.10"},
	{0x0024, "PRIORITY", IL_VAL_U32, 4, 4, 0, 0, "RFC 8445 §7.1.1"},
	{0x0025, "USE-CANDIDATE", IL_VAL_EMPTY, 0, 0, 0, 0, "RFC 8445 §7.1.2"},
	{0x0026, "PADDING", IL_VAL_OPAQUE, 0, 65535, 0, 0, "RFC 5780 §7.6"},
	{0x0027, "RESPONSE-PORT", IL_VAL_PORT_RFFU, 4, 4, 0, 0, "RFC 5780 §7.5"},
	{0x002A, "CONNECTION-ID", IL_VAL_U32, 4, 4, 0, 0, "RFC 6062 §6.2.1"},
	{0x8000, "ADDITIONAL-ADDRESS-FAMILY", IL_VAL_U8_RFFU, 4, 4, 0, 0, "RFC 8656 §18.11"},
	{0x8001, "ADDRESS-ERROR-CODE", IL_VAL_ADDRESS_ERROR_CODE, 4, 4 + 763, 0, 128, "RFC 8656 §18.12"},
	{0x8002, "PASSWORD-ALGORITHMS", IL_VAL_PASSWORD_ALGORITHMS, 0, 65535, 0, 0, "RFC 8489 §14.11"},
	/* "It MUST be a valid DNS name ... of 255 or fewer ASCII characters"
	 * (RFC 8489 §14.16). */
	{0x8003, "ALTERNATE-DOMAIN", IL_VAL_STRING, 0, 255, 0, 0, "RFC 8489 §14.16"},
	{0x8004, "ICMP", IL_VAL_ICMP, 8, 8, 0, 0, "RFC 8656 §18.13"},
	{0x8022, "SOFTWARE", IL_VAL_STRING, 0, 763, 0, 128, "RFC 8489 §14.14"},
	{0x8023, "ALTERNATE-SERVER", IL_VAL_ADDR, 8, 20, 0, 0, "RFC 8489 §14.15"},
	{0x8027, "CACHE-TIMEOUT", IL_VAL_U32, 4, 4, 0, 0, "RFC 5780 §9"},
	{0x8028, "FINGERPRINT", IL_VAL_U32, 4, 4, 0, 0, "RFC 8489 §14.7"},
	{0x8029, "ICE-CONTROLLED", IL_VAL_U64, 8, 8, 0, 0, "RFC 8445 §7.1.3"},
	{0x802A, "ICE-CONTROLLING", IL_VAL_U64, 8, 8, 0, 0, "RFC 8445 §7.1.3"},
	{0x802B, "RESPONSE-ORIGIN", IL_VAL_ADDR, 8, 20, 0, 0, "RFC 5780 §7.3"},
	{0x802C, "OTHER-ADDRESS", IL_VAL_ADDR, 8, 20, 0, 0, "RFC 5780 §7.4"},
	{0x802E, "THIRD-PARTY-AUTHORIZATION", IL_VAL_STRING, 0, 65535, 0, 0, "RFC 7635 §6.1"},
	{0x8030, "MOBILITY-TICKET", IL_VAL_OPAQUE, 0, 65535, 0, 0, "RFC 8016 §3.1"},
};

/* 1-based positions in attrs[] by type, for a lookup without search:
 * every registered type is below 0x0040 or in 0x8000-0x803F. */
static const uint8_t low_index[0x40] = {
	[0x01] = 1, [0x02] = 2, [0x03] = 3, [0x04] = 4, [0x05] = 5, [0x06] = 6, [0x07] = 7,
	[0x08] = 8, [0x09] = 9, [0x0A] = 10, [0x0B] = 11, [0x0C] = 12, [0x0D] = 13, [0x12] = 14,
	[0x13] = 15, [0x14] = 16, [0x15] = 17, [0x16] = 18, [0x17] = 19, [0x18] = 20, [0x19] = 21,
	[0x1A] = 22, [0x1B] = 23, [0x1C] = 24, [0x1D] = 25, [0x1E] = 26, [0x20] = 27, [0x22] = 28,
	[0x24] = 29, [0x25] = 30, [0x26] = 31, [0x27] = 32, [0x2A] = 33,
};
static const uint8_t high_index[0x40] = {
	[0x00] = 34, [0x01] = 35, [0x02] = 36, [0x03] = 37, [0x04] = 38, [0x22] = 39, [0x23] = 40,
	[0x27] = 41, [0x28] = 42, [0x29] = 43, [0x2A] = 44, [0x2B] = 45, [0x2C] = 46, [0x2E] = 47,
	[0x30] = 48,
};

const il_stun_attr_info *il_stun_attr_info_find(uint16_t type)
{
	uint8_t i = 0;
	if (type < 0x40)
		i = low_index[type];
	else if (type >= 0x8000 && type < 0x8040)
		i = high_index[type - 0x8000];
	return i ? &attrs[i - 1] : NULL;
}

const il_stun_attr_info *il_stun_attr_info_all(size_t *count)
{
	*count = sizeof attrs / sizeof attrs[0];
	return attrs;
}

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

const char *il_stun_method_name(uint16_t method)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (methods[i].method == method)
			return methods[i].name;
	return NULL;
}

int il_stun_method_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(methods[i].name, name) == 0)
			return methods[i].method;
	return -1;
}

static const char *const class_names[] = {"request", "indication", "success", "error"};

const char *il_stun_class_name(uint8_t cls)
{
	return cls < 4 ? class_names[cls] : NULL;
}

int il_stun_class_from_name(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(class_names[i], name) == 0)
			return i;
	return -1;
}

static const struct {
	int code;
	const char *reason;
} reasons[] = {
	{300, "Try Alternate"},
	{400, "Bad Request"},
	{401, "Unauthenticated"},
	{403, "Forbidden"},
	{405, "Mobility Forbidden"},
	{420, "Unknown Attribute"},
	{437, "Allocation Mismatch"},
	{438, "Stale Nonce"},
	{440, "Address Family not Supported"},
	{441, "Wrong Credentials"},
	{442, "Unsupported Transport Protocol"},
	{443, "Peer Address Family Mismatch"},
	{446, "Connection Already Exists"},
	{447, "Connection Timeout or Failure"},
	{486, "Allocation Quota Reached"},
	{487, "Role Conflict"},
	{500, "Server Error"},
	{508, "Insufficient Capacity"},
};

const char *il_stun_error_reason(int code)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].code == code)
			return reasons[i].reason;
	return NULL;
}

static const struct {
	const char *name;
	const char *message;
} errs[IL_STUN_ERR__COUNT] = {
	[IL_STUN_OK] = {"ok", "no error"},
	[IL_STUN_ERR_TRUNCATED] = {"truncated", "shorter than a 20-byte STUN header"},
	[IL_STUN_ERR_NOT_STUN] = {"not-stun", "the first two bits are not zero: not a STUN message"},
	[IL_STUN_ERR_BAD_LENGTH] = {"bad-length", "message length is not a multiple of 4"},
	[IL_STUN_ERR_LENGTH_MISMATCH] = {"length-mismatch",
					 "message length does not match the bytes received"},
	[IL_STUN_ERR_ATTR_TRUNCATED] = {"attr-truncated",
					"attribute runs past the end of the message"},
	[IL_STUN_ERR_ATTR_BAD_LENGTH] = {"attr-bad-length",
					 "attribute length is wrong for its type"},
	[IL_STUN_ERR_ATTR_BAD_VALUE] = {"attr-bad-value", "attribute value is invalid"},
	[IL_STUN_ERR_STRING_TOO_LONG] = {"string-too-long",
					 "text attribute exceeds the RFC's limit"},
	[IL_STUN_ERR_BAD_UTF8] = {"bad-utf8", "text attribute is not valid UTF-8"},
	[IL_STUN_ERR_TOO_MANY_ATTRIBUTES] = {"too-many-attributes",
					     "more attributes than a message may hold"},
	[IL_STUN_ERR_FINGERPRINT_NOT_LAST] = {"fingerprint-not-last",
					      "FINGERPRINT is not the last attribute"},
	[IL_STUN_ERR_FINGERPRINT_MISMATCH] = {"fingerprint-mismatch", "FINGERPRINT does not match"},
	[IL_STUN_ERR_INTEGRITY_MISMATCH] = {"integrity-mismatch",
					    "MESSAGE-INTEGRITY does not match"},
	[IL_STUN_ERR_NO_SPACE] = {"no-space", "output buffer too small"},
	[IL_STUN_ERR_INVALID_ARGUMENT] = {"invalid-argument", "value out of range"},
	[IL_STUN_ERR_SASLPREP] = {"saslprep", "credential refused by SASLprep"},
	[IL_STUN_ERR_UNSUPPORTED_ALGORITHM] = {"unsupported-algorithm",
					       "unsupported password algorithm"},
	[IL_STUN_ERR_BAD_CHANNEL] = {"bad-channel", "channel number outside 0x4000-0x4FFF"},
	[IL_STUN_ERR_STREAM_OVERFLOW] = {"stream-overflow",
					 "framed message longer than the stream buffer"},
};

const char *il_stun_err_name(enum il_stun_err err)
{
	return (unsigned)err < IL_STUN_ERR__COUNT ? errs[err].name : "unknown";
}

const char *il_stun_err_message(enum il_stun_err err)
{
	return (unsigned)err < IL_STUN_ERR__COUNT ? errs[err].message : "unknown error";
}
