/* Unit tests of first-byte demultiplexing (RFC 7983 §7, with TURN
 * ChannelData at 64..79 and RTP/RTCP told apart by the second byte as RFC
 * 5761 §4 says). */
#include "icelab/demux.h"

#include "stun_test_util.h"

/* "+----------------+
 *  |        [0..3] -+--> forward to STUN
 *  |      [16..19] -+--> forward to ZRTP
 *  |      [20..63] -+--> forward to DTLS
 *  |      [64..79] -+--> forward to TURN Channel
 *  |    [128..191] -+--> forward to RTP/RTCP
 *  ... if the value of the first byte is not in any of the ranges, the
 *  packet MUST be dropped" (RFC 7983 §7). Each boundary, both sides. */
static void test_first_byte_ranges_at_every_boundary(void **state)
{
	(void)state;
	static const struct {
		uint8_t first;
		enum il_demux_kind kind;
	} cases[] = {
		{0, IL_DEMUX_STUN},          {3, IL_DEMUX_STUN},
		{4, IL_DEMUX_UNKNOWN},       {15, IL_DEMUX_UNKNOWN},
		{16, IL_DEMUX_ZRTP},         {19, IL_DEMUX_ZRTP},
		{20, IL_DEMUX_DTLS},         {63, IL_DEMUX_DTLS},
		{64, IL_DEMUX_CHANNELDATA},  {79, IL_DEMUX_CHANNELDATA},
		{80, IL_DEMUX_UNKNOWN},      {127, IL_DEMUX_UNKNOWN},
		{128, IL_DEMUX_RTP},         {191, IL_DEMUX_RTP},
		{192, IL_DEMUX_UNKNOWN},     {255, IL_DEMUX_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const uint8_t pkt[12] = {cases[i].first, 0x60}; /* second byte: PT 96 */
		enum il_demux_kind got = il_demux_classify(pkt, sizeof pkt);
		if (got != cases[i].kind)
			fail_msg("first byte %u: expected %s, got %s", cases[i].first,
				 il_demux_kind_name(cases[i].kind), il_demux_kind_name(got));
	}
}

/* "RTCP packet types in the range 192-223 (with the marker bit forming
 * the top bit of the second byte)" (RFC 5761 §4): SR 200, RR 201 are
 * RTCP; payload types 0..127 with or without the marker are RTP. */
static void test_rtcp_by_second_byte_192_to_223(void **state)
{
	(void)state;
	for (unsigned second = 0; second < 256; second++) {
		const uint8_t pkt[8] = {0x80, (uint8_t)second};
		enum il_demux_kind want =
			second >= 192 && second <= 223 ? IL_DEMUX_RTCP : IL_DEMUX_RTP;
		if (il_demux_classify(pkt, sizeof pkt) != want)
			fail_msg("second byte %u misclassified", second);
	}
	const uint8_t sr[8] = {0x81, 200};
	assert_int_equal(il_demux_classify(sr, sizeof sr), IL_DEMUX_RTCP);
	const uint8_t rr[8] = {0xBF, 201};
	assert_int_equal(il_demux_classify(rr, sizeof rr), IL_DEMUX_RTCP);
}

static void test_empty_datagram_is_unknown(void **state)
{
	(void)state;
	const uint8_t one = 0;
	assert_int_equal(il_demux_classify(&one, 0), IL_DEMUX_UNKNOWN);
	assert_int_equal(il_demux_classify(&one, 1), IL_DEMUX_STUN);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(il_demux_kind_name(IL_DEMUX_STUN), "stun");
	assert_string_equal(il_demux_kind_name(IL_DEMUX_ZRTP), "zrtp");
	assert_string_equal(il_demux_kind_name(IL_DEMUX_DTLS), "dtls");
	assert_string_equal(il_demux_kind_name(IL_DEMUX_CHANNELDATA), "channeldata");
	assert_string_equal(il_demux_kind_name(IL_DEMUX_RTP), "rtp");
	assert_string_equal(il_demux_kind_name(IL_DEMUX_RTCP), "rtcp");
	assert_string_equal(il_demux_kind_name(IL_DEMUX_UNKNOWN), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_byte_ranges_at_every_boundary),
		cmocka_unit_test(test_rtcp_by_second_byte_192_to_223),
		cmocka_unit_test(test_empty_datagram_is_unknown),
		cmocka_unit_test(test_kind_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
