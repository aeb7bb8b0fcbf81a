/* Helpers shared by the STUN codec unit tests: hex transcription of RFC
 * vectors and a tiny raw message writer that lays bytes out by hand, so
 * decoder tests do not depend on the encoder they would otherwise share
 * bugs with. Everything is static inline: each test file uses a subset. */
#ifndef ICELAB_STUN_TEST_UTIL_H
#define ICELAB_STUN_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/stun.h"

/* Room for the largest STUN message: 20 + 65532 bytes, and some slack. */
#define RAW_MSG_CAP (IL_STUN_HEADER_LEN + 65536 + 64)

/* The transaction id of the RFC 5769 §2.1-2.3 vectors. */
static const uint8_t rfc5769_tid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
					0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

/* Decodes hex digits into out, skipping whitespace; fails the test on any
 * other character, on an odd digit count or when out is too small. */
static inline size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (const char *p = hex; *p; p++) {
		int d = 0;
		if (*p == ' ' || *p == '\n' || *p == '\t')
			continue;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			fail_msg("bad hex character '%c'", *p);
		if (hi < 0) {
			hi = d;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | d);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A message written byte by byte. */
typedef struct raw_msg {
	uint8_t buf[RAW_MSG_CAP];
	size_t len;
} raw_msg;

/* Header with the magic cookie and transaction id 01 02 .. 0c. */
static inline void raw_begin(raw_msg *m, uint16_t type)
{
	memset(m->buf, 0, IL_STUN_HEADER_LEN);
	put16(m->buf, type);
	put32(m->buf + 4, IL_STUN_MAGIC_COOKIE);
	for (int i = 0; i < 12; i++)
		m->buf[8 + i] = (uint8_t)(i + 1);
	m->len = IL_STUN_HEADER_LEN;
}

/* Appends an attribute whose length field says declared_len while vlen
 * bytes of value follow, zero padded to 4; updates the header length. */
static inline void raw_attr_declared(raw_msg *m, uint16_t type, uint16_t declared_len,
				     const void *value, size_t vlen)
{
	size_t padded = (vlen + 3) & ~(size_t)3;
	assert_true(m->len + 4 + padded <= sizeof m->buf);
	put16(m->buf + m->len, type);
	put16(m->buf + m->len + 2, declared_len);
	memset(m->buf + m->len + 4, 0, padded);
	if (vlen)
		memcpy(m->buf + m->len + 4, value, vlen);
	m->len += 4 + padded;
	put16(m->buf + 2, (uint16_t)(m->len - IL_STUN_HEADER_LEN));
}

static inline void raw_attr(raw_msg *m, uint16_t type, const void *value, size_t vlen)
{
	raw_attr_declared(m, type, (uint16_t)vlen, value, vlen);
}

static inline void raw_attr_u32(raw_msg *m, uint16_t type, uint32_t v)
{
	uint8_t b[4];
	put32(b, v);
	raw_attr(m, type, b, 4);
}

/* The RFC 5769 §2.1 Sample Request, transcribed from
 * shared/rfc/rfc5769.txt. SOFTWARE and USERNAME are padded with spaces,
 * as the RFC does. Short-term password "VOkJxbRl1RmTxUk/WvJxBt". */
static const char rfc5769_2_1_hex[] =
	"00 01 00 58  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae"
	"80 22 00 10  53 54 55 4e  20 74 65 73  74 20 63 6c  69 65 6e 74"
	"00 24 00 04  6e 00 01 ff"
	"80 29 00 08  93 2f f9 b1  51 26 3b 36"
	"00 06 00 09  65 76 74 6a  3a 68 36 76  59 20 20 20"
	"00 08 00 14  9a ea a7 0c  bf d8 cb 56  78 1e f2 b5  b2 d3 f2 49  c1 b5 71 a2"
	"80 28 00 04  e5 7a 3b cf";

/* §2.2 Sample IPv4 Response: XOR-MAPPED-ADDRESS 192.0.2.1 port 32853. */
static const char rfc5769_2_2_hex[] =
	"01 01 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae"
	"80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20"
	"00 20 00 08  00 01 a1 47  e1 12 a6 43"
	"00 08 00 14  2b 91 f5 99  fd 9e 90 c3  8c 74 89 f9  2a f9 ba 53  f0 6b e7 d7"
	"80 28 00 04  c0 7d 4c 96";

/* §2.3 Sample IPv6 Response: XOR-MAPPED-ADDRESS
 * 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const char rfc5769_2_3_hex[] =
	"01 01 00 48  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae"
	"80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20"
	"00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9"
	"00 08 00 14  a3 82 95 4e  4b e6 7b f1  17 84 c9 7c  82 92 c2 75  bf e3 ed 41"
	"80 28 00 04  c8 fb 0b 4c";

/* §2.4 Sample Request with Long-Term Authentication. */
static const char rfc5769_2_4_hex[] =
	"00 01 00 60  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e"
	"00 06 00 12  e3 83 9e e3  83 88 e3 83  aa e3 83 83  e3 82 af e3  82 b9 00 00"
	"00 15 00 1c  66 2f 2f 34  39 39 6b 39  35 34 64 36  4f 4c 33 34  6f 4c 39 46"
	"             53 54 76 79  36 34 73 41"
	"00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00"
	"00 08 00 14  f6 70 24 65  6d d6 4a 3e  02 b8 e0 71  2e 85 c9 a2  8c a8 96 66";

static const char rfc5769_password[] = "VOkJxbRl1RmTxUk/WvJxBt";
/* U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 */
static const char rfc5769_2_4_username[] =
	"\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
/* "The<U+00AD>M<U+00AA>tr<U+2168>", "TheMatrIX" after SASLprep */
static const char rfc5769_2_4_password[] = "The\xc2\xad" "M\xc2\xaa" "tr\xe2\x85\xa8";

#endif
