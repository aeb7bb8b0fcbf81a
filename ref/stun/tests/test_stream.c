/* Unit tests of the STUN / ChannelData stream reassembler (RFC 8489
 * §6.2.2, RFC 8656 §12.5): frames cut from a byte stream whatever the
 * read boundaries, stream padding of ChannelData, the buffer bound, and a
 * broken stream staying broken. */
#include "icelab/channeldata.h"
#include "icelab/stun.h"

#include "stun_test_util.h"

static uint8_t storage[IL_STREAM_MIN_CAP + 64];
static il_stream s;

static const uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* A Binding request with a PRIORITY of value p into out[28]. */
static size_t stun_frame(uint8_t out[28], uint32_t p)
{
	il_stun_builder b;
	il_stun_builder_init(&b, out, 28, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	il_stun_add_u32(&b, IL_ATTR_PRIORITY, p);
	size_t len = il_stun_builder_finish(&b, NULL);
	assert_int_equal(len, 28);
	return len;
}

static void expect_frame(enum il_frame_kind kind, const uint8_t *bytes, size_t len)
{
	il_stream_frame f;
	il_stun_decode_error err = {0};
	int rc = il_stream_next(&s, &f, &err);
	if (rc != 1)
		fail_msg("expected a frame, got %d (%s at %zu)", rc, il_stun_err_name(err.code),
			 err.offset);
	assert_int_equal(f.kind, kind);
	assert_int_equal(f.len, len);
	assert_memory_equal(f.bytes, bytes, len);
}

static void expect_need_more(void)
{
	il_stream_frame f;
	assert_int_equal(il_stream_next(&s, &f, NULL), 0);
}

static void expect_broken(enum il_stun_err code, size_t offset)
{
	il_stream_frame f;
	il_stun_decode_error err = {0};
	assert_int_equal(il_stream_next(&s, &f, &err), -1);
	if (err.code != code)
		fail_msg("expected %s, got %s", il_stun_err_name(code), il_stun_err_name(err.code));
	assert_int_equal(err.offset, offset);
}

/* "the STUN messages are sent over the connection ... the receiver parses
 * them using the length field" (RFC 8489 §6.2.2): several frames of both
 * kinds arriving in one read come out one by one, STUN frames whole and
 * decodable, ChannelData without its stream padding. */
static void test_several_stun_and_channeldata_frames_in_one_push(void **state)
{
	(void)state;
	uint8_t in[128];
	size_t n = 0;
	uint8_t first[28], third[28];
	stun_frame(first, 1);
	stun_frame(third, 3);
	memcpy(in + n, first, 28);
	n += 28;
	const uint8_t cd[9] = {0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
	n += il_channeldata_encode(in + n, sizeof in - n, 0x4001, cd + 4, 5, true);
	memcpy(in + n, third, 28);
	n += 28;
	assert_int_equal(n, 28 + 12 + 28);

	il_stream_init(&s, storage, sizeof storage);
	assert_int_equal(il_stream_push(&s, in, n), n);
	il_stream_frame f;
	assert_int_equal(il_stream_next(&s, &f, NULL), 1);
	assert_int_equal(f.kind, IL_FRAME_STUN);
	assert_int_equal(f.len, 28);
	il_stun_msg msg;
	assert_int_equal(il_stun_decode(f.bytes, f.len, &msg, NULL), IL_STUN_OK);
	uint32_t p = 0;
	assert_int_equal(il_stun_attr_get_u32(&msg, &msg.attrs[0], &p), IL_STUN_OK);
	assert_int_equal(p, 1);
	expect_frame(IL_FRAME_CHANNELDATA, cd, 9);
	expect_frame(IL_FRAME_STUN, third, 28);
	expect_need_more();
}

/* TCP may deliver a message one byte at a time: nothing comes out until
 * the last byte, then exactly the message. */
static void test_message_split_across_pushes_byte_by_byte(void **state)
{
	(void)state;
	uint8_t msg[28];
	stun_frame(msg, 0xABCDEF);
	il_stream_init(&s, storage, sizeof storage);
	for (size_t i = 0; i < sizeof msg; i++) {
		expect_need_more();
		assert_int_equal(il_stream_push(&s, msg + i, 1), 1);
	}
	expect_frame(IL_FRAME_STUN, msg, 28);
	expect_need_more();

	/* ChannelData too, padding included: the frame is complete only
	 * when its padding has arrived. */
	uint8_t cd[12];
	assert_int_equal(il_channeldata_encode(cd, sizeof cd, 0x4FFF, (const uint8_t *)"abcde", 5,
					       true),
			 12);
	for (size_t i = 0; i < sizeof cd; i++) {
		expect_need_more();
		assert_int_equal(il_stream_push(&s, cd + i, 1), 1);
	}
	expect_frame(IL_FRAME_CHANNELDATA, cd, 9);
	expect_need_more();
}

/* "Over TCP and TLS-over-TCP, the ChannelData message MUST be padded to a
 * multiple of four bytes" (RFC 8656 §12.5): the padding is skipped, and
 * the next frame begins after it. */
static void test_channeldata_stream_padding_is_skipped(void **state)
{
	(void)state;
	static const size_t lens[] = {0, 1, 2, 3, 4, 7};
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
		uint8_t in[64];
		const uint8_t data[8] = {9, 8, 7, 6, 5, 4, 3, 2};
		size_t n = il_channeldata_encode(in, sizeof in, 0x4002, data, lens[k], true);
		assert_int_equal(n % 4, 0);
		uint8_t next[28];
		stun_frame(next, (uint32_t)k);
		memcpy(in + n, next, 28);
		il_stream_init(&s, storage, sizeof storage);
		assert_int_equal(il_stream_push(&s, in, n + 28), n + 28);
		il_stream_frame f;
		assert_int_equal(il_stream_next(&s, &f, NULL), 1);
		assert_int_equal(f.kind, IL_FRAME_CHANNELDATA);
		assert_int_equal(f.len, 4 + lens[k]);
		expect_frame(IL_FRAME_STUN, next, 28);
		expect_need_more();
	}
}

/* The buffer bounds what a peer can make us hold: a frame announcing more
 * than the buffer breaks the stream at its length field. */
static void test_frame_longer_than_buffer_is_stream_overflow(void **state)
{
	(void)state;
	uint8_t hdr[28];
	stun_frame(hdr, 0);
	put16(hdr + 2, 100); /* 120 bytes in a 64-byte buffer */
	il_stream_init(&s, storage, 64);
	assert_int_equal(il_stream_push(&s, hdr, 20), 20);
	expect_broken(IL_STUN_ERR_STREAM_OVERFLOW, 2);

	const uint8_t cd[4] = {0x40, 0x01, 0x00, 61}; /* 4 + 61 + 3 = 68 > 64 */
	il_stream_init(&s, storage, 64);
	assert_int_equal(il_stream_push(&s, cd, 4), 4);
	expect_broken(IL_STUN_ERR_STREAM_OVERFLOW, 2);

	const uint8_t fits[4] = {0x40, 0x01, 0x00, 60}; /* exactly 64 */
	il_stream_init(&s, storage, 64);
	assert_int_equal(il_stream_push(&s, fits, 4), 4);
	expect_need_more();
}

/* A first byte with its top bits 10 is neither STUN (00) nor ChannelData
 * (01): framing is lost, the stream is broken and stays broken. */
static void test_garbage_first_byte_is_not_stun_and_stream_stays_broken(void **state)
{
	(void)state;
	uint8_t good[28];
	stun_frame(good, 5);
	const uint8_t garbage[8] = {0x80, 0x60, 0, 1, 0, 0, 0, 0};
	il_stream_init(&s, storage, sizeof storage);
	assert_int_equal(il_stream_push(&s, good, 28), 28);
	assert_int_equal(il_stream_push(&s, garbage, 8), 8);
	expect_frame(IL_FRAME_STUN, good, 28);
	expect_broken(IL_STUN_ERR_NOT_STUN, 28); /* offset in the stream */
	/* More valid bytes do not revive it. */
	assert_int_equal(il_stream_push(&s, good, 28), 28);
	expect_broken(IL_STUN_ERR_NOT_STUN, 28);
	expect_broken(IL_STUN_ERR_NOT_STUN, 28);

	const uint8_t c0[4] = {0xC0, 0, 0, 0};
	il_stream_init(&s, storage, sizeof storage);
	il_stream_push(&s, c0, 4);
	expect_broken(IL_STUN_ERR_NOT_STUN, 0);
}

/* STUN lengths are multiples of 4 (RFC 8489 §5); ChannelData channels are
 * 0x4000-0x4FFF (RFC 8656 §12). Anything else means framing is lost. */
static void test_bad_stun_length_or_channel_breaks_stream(void **state)
{
	(void)state;
	uint8_t hdr[28];
	stun_frame(hdr, 0);
	put16(hdr + 2, 6);
	il_stream_init(&s, storage, sizeof storage);
	il_stream_push(&s, hdr, 20);
	expect_broken(IL_STUN_ERR_BAD_LENGTH, 2);

	const uint8_t cd[8] = {0x50, 0x00, 0x00, 0x04, 1, 2, 3, 4};
	il_stream_init(&s, storage, sizeof storage);
	il_stream_push(&s, cd, 8);
	expect_broken(IL_STUN_ERR_BAD_CHANNEL, 0);
}

/* With the RFC 5766 range a stream carries ChannelData on 0x5000-0x7FFF
 * (padded like any other); 0x80.. still breaks it, and a stream left at
 * the default still refuses 0x5000. */
static void test_rfc5766_channel_range_on_stream(void **state)
{
	(void)state;
	const uint8_t cd[16] = {0x7F, 0xFF, 0x00, 0x03, 1, 2, 3, 0,
				0x50, 0x00, 0x00, 0x04, 4, 5, 6, 7};
	il_stream_init(&s, storage, sizeof storage);
	il_stream_set_channel_range(&s, IL_CHANNELS_RFC5766);
	il_stream_push(&s, cd, sizeof cd);
	expect_frame(IL_FRAME_CHANNELDATA, cd, 7);
	expect_frame(IL_FRAME_CHANNELDATA, cd + 8, 8);
	expect_need_more();

	const uint8_t high[8] = {0x80, 0x00, 0x00, 0x04, 1, 2, 3, 4};
	il_stream_init(&s, storage, sizeof storage);
	il_stream_set_channel_range(&s, IL_CHANNELS_RFC5766);
	il_stream_push(&s, high, sizeof high);
	expect_broken(IL_STUN_ERR_NOT_STUN, 0);

	il_stream_init(&s, storage, sizeof storage); /* back to RFC 8656 */
	il_stream_push(&s, cd + 8, 8);
	expect_broken(IL_STUN_ERR_BAD_CHANNEL, 0);
}

/* "returns how many were taken (less than len when the buffer is full:
 * pull frames, then push the rest)". */
static void test_push_takes_less_when_full_and_rest_fits_after_pull(void **state)
{
	(void)state;
	uint8_t in[3 * 28];
	for (int i = 0; i < 3; i++)
		stun_frame(in + 28 * i, (uint32_t)(100 + i));
	il_stream_init(&s, storage, 64);
	size_t took = il_stream_push(&s, in, sizeof in);
	assert_int_equal(took, 64);
	expect_frame(IL_FRAME_STUN, in, 28);
	expect_frame(IL_FRAME_STUN, in + 28, 28);
	expect_need_more(); /* 8 bytes of the third */
	assert_int_equal(il_stream_push(&s, in + took, sizeof in - took), sizeof in - took);
	expect_frame(IL_FRAME_STUN, in + 56, 28);
	expect_need_more();

	/* A full buffer with nothing pulled takes nothing more. */
	il_stream_init(&s, storage, 64);
	assert_int_equal(il_stream_push(&s, in, sizeof in), 64);
	assert_int_equal(il_stream_push(&s, in + 64, 20), 0);
}

/* A 65552-byte STUN message (header length 65532, the largest multiple of
 * 4 the 16-bit field holds: RFC 8489 §5) passes through a buffer of the
 * documented minimum size. */
static void test_largest_stun_message_fits_recommended_buffer(void **state)
{
	(void)state;
	static uint8_t big[20 + 65532];
	static uint8_t data[65528];
	memset(data, 0x77, sizeof data);
	il_stun_builder b;
	il_stun_builder_init(&b, big, sizeof big, IL_STUN_SEND, IL_STUN_INDICATION, tid);
	il_stun_add_raw(&b, IL_ATTR_DATA, data, sizeof data);
	assert_int_equal(il_stun_builder_finish(&b, NULL), sizeof big);
	assert_int_equal(IL_STREAM_MIN_CAP, sizeof big);
	il_stream_init(&s, storage, IL_STREAM_MIN_CAP);
	assert_int_equal(il_stream_push(&s, big, sizeof big), sizeof big);
	expect_frame(IL_FRAME_STUN, big, sizeof big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_several_stun_and_channeldata_frames_in_one_push),
		cmocka_unit_test(test_message_split_across_pushes_byte_by_byte),
		cmocka_unit_test(test_channeldata_stream_padding_is_skipped),
		cmocka_unit_test(test_frame_longer_than_buffer_is_stream_overflow),
		cmocka_unit_test(test_garbage_first_byte_is_not_stun_and_stream_stays_broken),
		cmocka_unit_test(test_bad_stun_length_or_channel_breaks_stream),
		cmocka_unit_test(test_push_takes_less_when_full_and_rest_fits_after_pull),
		cmocka_unit_test(test_largest_stun_message_fits_recommended_buffer),
		cmocka_unit_test(test_rfc5766_channel_range_on_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
