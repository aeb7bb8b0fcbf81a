/* The STUN message codec (RFC 8489), with the attributes of RFC 8656 (TURN),
 * 8445 (ICE), 5780 (NAT behaviour discovery), 6062 (TURN-TCP), 8016
 * (mobility) and 7635 (third-party authorization).
 *
 * Decoding is zero-copy: il_stun_decode() fills a view (il_stun_msg) that
 * points into the caller's buffer, which must outlive the view. Encoding
 * writes into a caller's buffer through il_stun_builder. Neither allocates.
 * Integrity (MESSAGE-INTEGRITY, -SHA256, FINGERPRINT, keys) is in
 * stun_integrity.h. */
#ifndef ICELAB_STUN_H
#define ICELAB_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"

#define IL_STUN_MAGIC_COOKIE 0x2112A442u
#define IL_STUN_HEADER_LEN 20
#define IL_STUN_TID_LEN 12
#define IL_STUN_CLASSIC_TID_LEN 16
/* A view holds at most this many attributes; a message with more is
 * rejected with IL_STUN_ERR_TOO_MANY_ATTRIBUTES (the class of
 * CVE-2022-31031: never write past a fixed array). */
#define IL_STUN_MAX_ATTRS 48
#define IL_STUN_MAX_UNKNOWN 16

enum il_stun_class {
	IL_STUN_REQUEST = 0,
	IL_STUN_INDICATION = 1,
	IL_STUN_SUCCESS = 2,
	IL_STUN_ERROR = 3,
};

enum il_stun_method {
	IL_STUN_BINDING = 0x001,
	IL_STUN_ALLOCATE = 0x003,          /* RFC 8656 */
	IL_STUN_REFRESH = 0x004,
	IL_STUN_SEND = 0x006,
	IL_STUN_DATA = 0x007,
	IL_STUN_CREATEPERMISSION = 0x008,
	IL_STUN_CHANNELBIND = 0x009,
	IL_STUN_CONNECT = 0x00A,           /* RFC 6062 */
	IL_STUN_CONNECTIONBIND = 0x00B,
	IL_STUN_CONNECTIONATTEMPT = 0x00C,
};

enum il_stun_attr_type {
	IL_ATTR_MAPPED_ADDRESS = 0x0001,
	IL_ATTR_RESPONSE_ADDRESS = 0x0002,    /* RFC 3489, reserved since 5389 */
	IL_ATTR_CHANGE_REQUEST = 0x0003,      /* RFC 5780 */
	IL_ATTR_SOURCE_ADDRESS = 0x0004,      /* RFC 3489 */
	IL_ATTR_CHANGED_ADDRESS = 0x0005,     /* RFC 3489 */
	IL_ATTR_USERNAME = 0x0006,
	IL_ATTR_PASSWORD = 0x0007,            /* RFC 3489 */
	IL_ATTR_MESSAGE_INTEGRITY = 0x0008,
	IL_ATTR_ERROR_CODE = 0x0009,
	IL_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	IL_ATTR_REFLECTED_FROM = 0x000B,      /* RFC 3489 */
	IL_ATTR_CHANNEL_NUMBER = 0x000C,      /* RFC 8656 */
	IL_ATTR_LIFETIME = 0x000D,
	IL_ATTR_XOR_PEER_ADDRESS = 0x0012,
	IL_ATTR_DATA = 0x0013,
	IL_ATTR_REALM = 0x0014,
	IL_ATTR_NONCE = 0x0015,
	IL_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
	IL_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
	IL_ATTR_EVEN_PORT = 0x0018,
	IL_ATTR_REQUESTED_TRANSPORT = 0x0019,
	IL_ATTR_DONT_FRAGMENT = 0x001A,
	IL_ATTR_ACCESS_TOKEN = 0x001B,        /* RFC 7635 */
	IL_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	IL_ATTR_PASSWORD_ALGORITHM = 0x001D,
	IL_ATTR_USERHASH = 0x001E,
	IL_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	IL_ATTR_RESERVATION_TOKEN = 0x0022,
	IL_ATTR_PRIORITY = 0x0024,            /* RFC 8445 */
	IL_ATTR_USE_CANDIDATE = 0x0025,
	IL_ATTR_PADDING = 0x0026,             /* RFC 5780 */
	IL_ATTR_RESPONSE_PORT = 0x0027,
	IL_ATTR_CONNECTION_ID = 0x002A,       /* RFC 6062 */
	IL_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
	IL_ATTR_ADDRESS_ERROR_CODE = 0x8001,
	IL_ATTR_PASSWORD_ALGORITHMS = 0x8002,
	IL_ATTR_ALTERNATE_DOMAIN = 0x8003,
	IL_ATTR_ICMP = 0x8004,
	IL_ATTR_SOFTWARE = 0x8022,
	IL_ATTR_ALTERNATE_SERVER = 0x8023,
	IL_ATTR_CACHE_TIMEOUT = 0x8027,       /* RFC 5780 */
	IL_ATTR_FINGERPRINT = 0x8028,
	IL_ATTR_ICE_CONTROLLED = 0x8029,
	IL_ATTR_ICE_CONTROLLING = 0x802A,
	IL_ATTR_RESPONSE_ORIGIN = 0x802B,
	IL_ATTR_OTHER_ADDRESS = 0x802C,
	IL_ATTR_THIRD_PARTY_AUTHORIZATION = 0x802E, /* RFC 7635 */
	IL_ATTR_MOBILITY_TICKET = 0x8030,     /* RFC 8016 */
};

/* How an attribute's value is laid out; drives validation, accessors and
 * the JSON form used by `icelab stun`. */
enum il_stun_value_kind {
	IL_VAL_OPAQUE = 0,  /* bytes, shown as hex */
	IL_VAL_ADDR,        /* family, port, address */
	IL_VAL_XOR_ADDR,    /* the same, XORed with cookie and transaction id */
	IL_VAL_STRING,      /* UTF-8 text with a byte limit */
	IL_VAL_U32,
	IL_VAL_U64,
	IL_VAL_EMPTY,       /* no value (USE-CANDIDATE, DONT-FRAGMENT) */
	IL_VAL_ERROR_CODE,
	IL_VAL_UNKNOWN_ATTRS,
	IL_VAL_CHANNEL,     /* 16-bit channel number + RFFU */
	IL_VAL_U8_RFFU,     /* 8-bit value + 24 RFFU bits (REQUESTED-TRANSPORT,
	                       REQUESTED-/ADDITIONAL-ADDRESS-FAMILY) */
	IL_VAL_EVEN_PORT,   /* 1 byte: R bit */
	IL_VAL_PORT_RFFU,   /* 16-bit port + 16 RFFU (RESPONSE-PORT) */
	IL_VAL_PASSWORD_ALGORITHM,
	IL_VAL_PASSWORD_ALGORITHMS,
	IL_VAL_ADDRESS_ERROR_CODE,
	IL_VAL_ICMP,
};

typedef struct il_stun_attr_info {
	uint16_t type;
	const char *name;           /* IANA registry name, e.g. "XOR-MAPPED-ADDRESS" */
	uint8_t kind;               /* enum il_stun_value_kind */
	uint16_t min_len, max_len;  /* value length bounds in bytes */
	uint16_t len_multiple;      /* value length must be a multiple (0: any) */
	uint16_t max_chars;         /* strings: fewer than this many characters (0: no limit) */
	const char *rfc;            /* where it is defined, e.g. "RFC 8489 §14.2" */
} il_stun_attr_info;

/* Registry entry for a type, or NULL when the type is unknown to us. */
const il_stun_attr_info *il_stun_attr_info_find(uint16_t type);
/* Every known attribute, in type order; *count receives the number. */
const il_stun_attr_info *il_stun_attr_info_all(size_t *count);
/* "binding", "allocate", ...; NULL for an unknown method. */
const char *il_stun_method_name(uint16_t method);
/* Reverse of il_stun_method_name; -1 when unknown. */
int il_stun_method_from_name(const char *name);
const char *il_stun_class_name(uint8_t cls);
int il_stun_class_from_name(const char *name);
/* "Bad Request", ... the RFC reason phrase for a code, or NULL. */
const char *il_stun_error_reason(int code);
/* Comprehension-required attributes have types 0x0000-0x7FFF (§14). */
static inline bool il_stun_attr_is_comprehension_required(uint16_t type)
{
	return type < 0x8000;
}

enum il_stun_err {
	IL_STUN_OK = 0,
	IL_STUN_ERR_TRUNCATED,           /* shorter than a STUN header */
	IL_STUN_ERR_NOT_STUN,            /* first two bits not zero */
	IL_STUN_ERR_BAD_LENGTH,          /* header length not a multiple of 4 */
	IL_STUN_ERR_LENGTH_MISMATCH,     /* header length != bytes after header */
	IL_STUN_ERR_ATTR_TRUNCATED,      /* attribute header or value past end */
	IL_STUN_ERR_ATTR_BAD_LENGTH,     /* value length wrong for its type */
	IL_STUN_ERR_ATTR_BAD_VALUE,      /* e.g. unknown address family */
	IL_STUN_ERR_STRING_TOO_LONG,     /* over the RFC's byte or character limit */
	IL_STUN_ERR_BAD_UTF8,
	IL_STUN_ERR_TOO_MANY_ATTRIBUTES,
	IL_STUN_ERR_FINGERPRINT_NOT_LAST,
	IL_STUN_ERR_FINGERPRINT_MISMATCH,
	IL_STUN_ERR_INTEGRITY_MISMATCH,
	IL_STUN_ERR_NO_SPACE,            /* encode: buffer too small */
	IL_STUN_ERR_INVALID_ARGUMENT,    /* encode: value out of range */
	IL_STUN_ERR_SASLPREP,            /* credential string refused */
	IL_STUN_ERR_UNSUPPORTED_ALGORITHM,
	IL_STUN_ERR_BAD_CHANNEL,         /* ChannelData number outside 0x4000-0x4FFF */
	IL_STUN_ERR_STREAM_OVERFLOW,     /* stream reassembler bound exceeded */
	IL_STUN_ERR__COUNT
};

/* Short stable identifier ("truncated", "length-mismatch", ...). */
const char *il_stun_err_name(enum il_stun_err err);
/* One human sentence. */
const char *il_stun_err_message(enum il_stun_err err);

/* One attribute in a decoded view. The value is msg->buf + offset. */
typedef struct il_stun_attr {
	uint16_t type;
	uint16_t length;    /* value length, without padding */
	uint32_t offset;    /* of the value from the start of the message */
	bool ignored;       /* follows MESSAGE-INTEGRITY(-SHA256): must be ignored */
} il_stun_attr;

typedef struct il_stun_msg {
	const uint8_t *buf;      /* the whole message, in the caller's buffer */
	size_t len;              /* 20 + header length */
	uint16_t type;           /* raw message type */
	uint16_t method;         /* 12 bits */
	uint8_t cls;             /* enum il_stun_class */
	bool classic;            /* RFC 3489: no magic cookie, 128-bit tid */
	const uint8_t *tid;      /* 12 bytes (16 bytes from buf+4 when classic) */
	uint16_t attr_count;
	il_stun_attr attrs[IL_STUN_MAX_ATTRS];
	int16_t mi_index;        /* MESSAGE-INTEGRITY, -1 when absent */
	int16_t mi256_index;     /* MESSAGE-INTEGRITY-SHA256, -1 when absent */
	int16_t fingerprint_index;
	/* Comprehension-required attributes we do not know, for a 420 with
	 * UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1). */
	uint8_t unknown_required_count;
	uint16_t unknown_required[IL_STUN_MAX_UNKNOWN];
} il_stun_msg;

typedef struct il_stun_decode_error {
	enum il_stun_err code;
	size_t offset;           /* byte offset of the problem in the input */
} il_stun_decode_error;

/* True when the first bytes look like a STUN message with the magic
 * cookie: top two bits zero and the cookie in place (RFC 8489 §5, §6).
 * On a port shared with DTLS and media, classify by RFC 7983 first
 * (demux.h), which narrows STUN's first byte to 0..3. */
bool il_stun_is_stun(const uint8_t *buf, size_t len);

/* Decodes one STUN message occupying exactly buf[0..len). Checks framing,
 * attribute layout and each known attribute's format; does not check
 * integrity. Returns IL_STUN_OK or an error with *err filled (err may be
 * NULL). The view points into buf. */
enum il_stun_err il_stun_decode(const uint8_t *buf, size_t len, il_stun_msg *msg,
				il_stun_decode_error *err);

/* First attribute of this type not ignored (duplicates: first wins, §14). */
const il_stun_attr *il_stun_msg_find(const il_stun_msg *msg, uint16_t type);
static inline const uint8_t *il_stun_attr_value(const il_stun_msg *msg,
						const il_stun_attr *a)
{
	return msg->buf + a->offset;
}

/* Typed accessors. Each returns IL_STUN_OK or an error when the attribute
 * has the wrong shape (already refused by il_stun_decode for known types). */
enum il_stun_err il_stun_attr_get_addr(const il_stun_msg *msg, const il_stun_attr *a,
				       il_addr *out);   /* plain or XOR by kind */
enum il_stun_err il_stun_attr_get_u32(const il_stun_msg *msg, const il_stun_attr *a,
				      uint32_t *out);
enum il_stun_err il_stun_attr_get_u64(const il_stun_msg *msg, const il_stun_attr *a,
				      uint64_t *out);
/* Text value (not NUL-terminated) and its length. */
enum il_stun_err il_stun_attr_get_string(const il_stun_msg *msg, const il_stun_attr *a,
					 const char **text, size_t *len);
enum il_stun_err il_stun_attr_get_error_code(const il_stun_msg *msg, const il_stun_attr *a,
					     int *code, const char **reason,
					     size_t *reason_len);
/* Fills up to max types; *count receives how many the attribute holds. */
enum il_stun_err il_stun_attr_get_unknown(const il_stun_msg *msg, const il_stun_attr *a,
					  uint16_t *types, size_t max, size_t *count);
/* Channel number of CHANNEL-NUMBER. */
enum il_stun_err il_stun_attr_get_channel(const il_stun_msg *msg, const il_stun_attr *a,
					  uint16_t *channel);

/* The builder. Errors are sticky: calls after a failure do nothing and
 * il_stun_builder_finish() reports the first error. */
typedef struct il_stun_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	enum il_stun_err err;
	bool classic;
} il_stun_builder;

/* Writes the header; tid is 12 bytes chosen by the caller (the caller's
 * random source: ARCHITECTURE.md). */
void il_stun_builder_init(il_stun_builder *b, uint8_t *buf, size_t cap,
			  uint16_t method, uint8_t cls, const uint8_t tid[IL_STUN_TID_LEN]);
/* An RFC 3489 message: no magic cookie, 16-byte transaction id. */
void il_stun_builder_init_classic(il_stun_builder *b, uint8_t *buf, size_t cap,
				  uint16_t method, uint8_t cls,
				  const uint8_t tid[IL_STUN_CLASSIC_TID_LEN]);
/* Raw attribute: any type, any bytes; padding written as zeros. */
void il_stun_add_raw(il_stun_builder *b, uint16_t type, const void *value, size_t len);
void il_stun_add_empty(il_stun_builder *b, uint16_t type);
void il_stun_add_u32(il_stun_builder *b, uint16_t type, uint32_t value);
void il_stun_add_u64(il_stun_builder *b, uint16_t type, uint64_t value);
void il_stun_add_string(il_stun_builder *b, uint16_t type, const char *text, size_t len);
void il_stun_add_addr(il_stun_builder *b, uint16_t type, const il_addr *addr);
void il_stun_add_xor_addr(il_stun_builder *b, uint16_t type, const il_addr *addr);
void il_stun_add_error_code(il_stun_builder *b, int code, const char *reason);
void il_stun_add_unknown_attributes(il_stun_builder *b, const uint16_t *types, size_t count);
void il_stun_add_channel_number(il_stun_builder *b, uint16_t channel);
/* Bytes written so far, or 0 with *err set (err may be NULL). */
size_t il_stun_builder_finish(il_stun_builder *b, enum il_stun_err *err);

#endif
