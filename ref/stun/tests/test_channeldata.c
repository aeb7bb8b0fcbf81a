/* Unit tests of TURN ChannelData messages over datagrams (RFC 8656 §12.4,
 * §12.5): decode, padding, length and channel checks, and encoding with
 * and without the stream padding. */
#include "icelab/channeldata.h"

#include "stun_test_util.h"

static const uint8_t payload[5] = {'h', 'e', 'l', 'l', 'o'};

static void test_decode_valid_channeldata(void **state)
{
	(void)state;
	const uint8_t d[9] = {0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
	il_channeldata cd;
	il_stun_decode_error err = {0};
	assert_int_equal(il_channeldata_decode(d, sizeof d, &cd, &err), IL_STUN_OK);
	assert_int_equal(cd.channel, 0x4001);
	assert_int_equal(cd.length, 5);
	assert_ptr_equal(cd.data, d + 4);
	assert_memory_equal(cd.data, payload, 5);
}

/* "The channel number MUST be in the range 0x4000 through 0x4FFF" (RFC
 * 8656 §12): both ends accepted, empty application data allowed. */
static void test_decode_accepts_both_ends_of_channel_range(void **state)
{
	(void)state;
	const uint16_t ok[2] = {0x4000, 0x4FFF};
	for (int i = 0; i < 2; i++) {
		uint8_t d[4];
		put16(d, ok[i]);
		put16(d + 2, 0);
		il_channeldata cd;
		assert_int_equal(il_channeldata_decode(d, sizeof d, &cd, NULL), IL_STUN_OK);
		assert_int_equal(cd.channel, ok[i]);
		assert_int_equal(cd.length, 0);
	}
}

/* Over UDP "the ChannelData message MAY be padded" (§12.5): a datagram
 * longer than 4 + Length is fine; the data is the first Length bytes. */
static void test_padding_over_udp_is_tolerated(void **state)
{
	(void)state;
	const uint8_t d[12] = {0x4A, 0xBC, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
	il_channeldata cd;
	assert_int_equal(il_channeldata_decode(d, sizeof d, &cd, NULL), IL_STUN_OK);
	assert_int_equal(cd.channel, 0x4ABC);
	assert_int_equal(cd.length, 5);
	assert_memory_equal(cd.data, payload, 5);
}

/* "If the UDP datagram is too short to contain the claimed length of the
 * ChannelData message ... then the message is silently discarded." */
static void test_length_overrunning_datagram_is_length_mismatch(void **state)
{
	(void)state;
	const uint8_t d[8] = {0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l'};
	il_channeldata cd;
	il_stun_decode_error err = {0};
	assert_int_equal(il_channeldata_decode(d, sizeof d, &cd, &err),
			 IL_STUN_ERR_LENGTH_MISMATCH);
	assert_int_equal(err.code, IL_STUN_ERR_LENGTH_MISMATCH);
	assert_int_equal(err.offset, 2);

	const uint8_t big[4] = {0x40, 0x01, 0xFF, 0xFF};
	assert_int_equal(il_channeldata_decode(big, sizeof big, &cd, &err),
			 IL_STUN_ERR_LENGTH_MISMATCH);
}

static void test_channel_outside_0x4000_to_0x4fff_is_bad_channel(void **state)
{
	(void)state;
	const uint16_t bad[] = {0x3FFF, 0x5000, 0x0000, 0x7FFF, 0xFFFF};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t d[8] = {0, 0, 0x00, 0x04, 1, 2, 3, 4};
		put16(d, bad[i]);
		il_channeldata cd;
		il_stun_decode_error err = {0};
		assert_int_equal(il_channeldata_decode(d, sizeof d, &cd, &err),
				 IL_STUN_ERR_BAD_CHANNEL);
		assert_int_equal(err.code, IL_STUN_ERR_BAD_CHANNEL);
		assert_int_equal(err.offset, 0);
		assert_false(il_channel_is_valid(bad[i]));
	}
	assert_true(il_channel_is_valid(0x4000));
	assert_true(il_channel_is_valid(0x4FFF));
}

static void test_shorter_than_header_is_truncated(void **state)
{
	(void)state;
	const uint8_t d[3] = {0x40, 0x01, 0x00};
	for (size_t len = 0; len < 4; len++) {
		il_channeldata cd;
		il_stun_decode_error err = {0};
		assert_int_equal(il_channeldata_decode(d, len, &cd, &err), IL_STUN_ERR_TRUNCATED);
		assert_int_equal(err.offset, len);
	}
}

/* Over UDP no padding is needed; over TCP and TLS "the ChannelData message
 * MUST be padded to a multiple of four bytes" (§12.5), with zeros. */
static void test_encode_with_and_without_stream_padding(void **state)
{
	(void)state;
	uint8_t out[16];
	memset(out, 0xAA, sizeof out);
	assert_int_equal(il_channeldata_encode(out, sizeof out, 0x4001, payload, 5, false), 9);
	const uint8_t want[9] = {0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
	assert_memory_equal(out, want, 9);
	assert_int_equal(out[9], 0xAA); /* nothing written past the message */

	memset(out, 0xAA, sizeof out);
	assert_int_equal(il_channeldata_encode(out, sizeof out, 0x4001, payload, 5, true), 12);
	assert_memory_equal(out, want, 9);
	assert_int_equal(out[9], 0);
	assert_int_equal(out[10], 0);
	assert_int_equal(out[11], 0);
	assert_int_equal(out[12], 0xAA);

	/* Already a multiple of 4: no padding added. */
	assert_int_equal(il_channeldata_encode(out, sizeof out, 0x4FFF, payload, 4, true), 8);
	/* Empty data. */
	assert_int_equal(il_channeldata_encode(out, sizeof out, 0x4000, NULL, 0, true), 4);
	assert_int_equal(get16(out + 2), 0);

	il_channeldata cd;
	assert_int_equal(il_channeldata_encode(out, sizeof out, 0x4ABC, payload, 5, true), 12);
	assert_int_equal(il_channeldata_decode(out, 12, &cd, NULL), IL_STUN_OK);
	assert_int_equal(cd.channel, 0x4ABC);
	assert_int_equal(cd.length, 5);
}

static void test_encode_rejects_invalid_channel_or_small_buffer(void **state)
{
	(void)state;
	uint8_t out[16];
	const uint16_t bad[] = {0x3FFF, 0x5000, 0x0000, 0xFFFF};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(il_channeldata_encode(out, sizeof out, bad[i], payload, 5, false),
				 0);
	assert_int_equal(il_channeldata_encode(out, 8, 0x4001, payload, 5, false), 0);
	assert_int_equal(il_channeldata_encode(out, 9, 0x4001, payload, 5, false), 9);
	assert_int_equal(il_channeldata_encode(out, 11, 0x4001, payload, 5, true), 0);
}

/* RFC 5766 §11 numbers (0x4000-0x7FFF) only when asked; the strict
 * default refuses 0x5000-0x7FFF, and 0x8000 and above stay invalid. */
static void test_rfc5766_range_accepts_0x5000_to_0x7fff_only_when_asked(void **state)
{
	(void)state;
	const uint16_t legacy[] = {0x5000, 0x6ABC, 0x7FFF};
	for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++) {
		uint8_t d[8] = {0, 0, 0x00, 0x04, 1, 2, 3, 4};
		put16(d, legacy[i]);
		il_channeldata cd;
		assert_int_equal(il_channeldata_decode(d, sizeof d, &cd, NULL),
				 IL_STUN_ERR_BAD_CHANNEL);
		assert_int_equal(il_channeldata_decode_range(d, sizeof d, IL_CHANNELS_RFC8656, &cd,
							     NULL),
				 IL_STUN_ERR_BAD_CHANNEL);
		assert_int_equal(il_channeldata_decode_range(d, sizeof d, IL_CHANNELS_RFC5766, &cd,
							     NULL),
				 IL_STUN_OK);
		assert_int_equal(cd.channel, legacy[i]);
		assert_int_equal(cd.length, 4);
		assert_true(il_channel_in_range(legacy[i], IL_CHANNELS_RFC5766));
		assert_false(il_channel_in_range(legacy[i], IL_CHANNELS_RFC8656));
	}
	const uint16_t bad[] = {0x3FFF, 0x8000, 0xFFFF, 0x0000};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t d[8] = {0, 0, 0x00, 0x04, 1, 2, 3, 4};
		put16(d, bad[i]);
		il_channeldata cd;
		assert_int_equal(il_channeldata_decode_range(d, sizeof d, IL_CHANNELS_RFC5766, &cd,
							     NULL),
				 IL_STUN_ERR_BAD_CHANNEL);
	}
}

static void test_encode_legacy_channel_only_in_rfc5766_range(void **state)
{
	(void)state;
	uint8_t out[16];
	assert_int_equal(il_channeldata_encode(out, sizeof out, 0x7FFF, payload, 5, false), 0);
	assert_int_equal(il_channeldata_encode_range(out, sizeof out, IL_CHANNELS_RFC8656, 0x7FFF,
						     payload, 5, false),
			 0);
	assert_int_equal(il_channeldata_encode_range(out, sizeof out, IL_CHANNELS_RFC5766, 0x7FFF,
						     payload, 5, true),
			 12);
	assert_int_equal(out[0], 0x7F);
	assert_int_equal(out[1], 0xFF);
	assert_int_equal(il_channeldata_encode_range(out, sizeof out, IL_CHANNELS_RFC5766, 0x8000,
						     payload, 5, false),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid_channeldata),
		cmocka_unit_test(test_decode_accepts_both_ends_of_channel_range),
		cmocka_unit_test(test_padding_over_udp_is_tolerated),
		cmocka_unit_test(test_length_overrunning_datagram_is_length_mismatch),
		cmocka_unit_test(test_channel_outside_0x4000_to_0x4fff_is_bad_channel),
		cmocka_unit_test(test_shorter_than_header_is_truncated),
		cmocka_unit_test(test_encode_with_and_without_stream_padding),
		cmocka_unit_test(test_encode_rejects_invalid_channel_or_small_buffer),
		cmocka_unit_test(test_rfc5766_range_accepts_0x5000_to_0x7fff_only_when_asked),
		cmocka_unit_test(test_encode_legacy_channel_only_in_rfc5766_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
