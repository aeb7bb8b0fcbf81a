/* Fuzz target channeldata: TURN ChannelData over datagrams (RFC 8656
 * §12.4) and the RFC 7983 first-byte demultiplexer.
 *
 * The input is classified and decoded as a datagram; a decoded message is
 * re-encoded (with and without stream padding) and must come back
 * identical. The input is also read as channel (2 bytes) + application
 * data and encoded, which must succeed exactly for valid channels and
 * round-trip through the decoder. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "icelab/channeldata.h"
#include "icelab/demux.h"
#include "icelab/stun.h"

#include "fuzz_check.h"

#define MAX_CD (IL_CHANNELDATA_HEADER_LEN + 65535 + 3)
static uint8_t out[MAX_CD];

static void check_demux(const uint8_t *data, size_t size)
{
	enum il_demux_kind kind = il_demux_classify(data, size);
	FUZZ_CHECK(kind >= IL_DEMUX_UNKNOWN && kind <= IL_DEMUX_RTCP);
	FUZZ_CHECK(il_demux_kind_name(kind) != NULL);
	if (size == 0) {
		FUZZ_CHECK(kind == IL_DEMUX_UNKNOWN);
		return;
	}
	/* RFC 7983 goes by the first byte alone: a message with the magic
	 * cookie but a first byte above 3 (a method over 0x0FF) is not STUN
	 * on a multiplexed port. */
	if (data[0] <= 3)
		FUZZ_CHECK(kind == IL_DEMUX_STUN);
	if (data[0] >= 64 && data[0] <= 79)
		FUZZ_CHECK(kind == IL_DEMUX_CHANNELDATA);
	if (data[0] >= 128 && data[0] <= 191)
		FUZZ_CHECK(kind == IL_DEMUX_RTP || kind == IL_DEMUX_RTCP);
}

/* Encodes channel + payload both ways and decodes the result back. */
static void check_encode(uint16_t channel, const uint8_t *payload, size_t len)
{
	for (int pad = 0; pad < 2; pad++) {
		size_t n = il_channeldata_encode(out, sizeof out, channel, payload, len, pad);
		if (!il_channel_is_valid(channel) || len > 65535) {
			FUZZ_CHECK(n == 0);
			continue;
		}
		size_t whole = IL_CHANNELDATA_HEADER_LEN + len;
		FUZZ_CHECK(n == (pad ? fuzz_round4(whole) : whole));
		FUZZ_CHECK(fuzz_be16(out) == channel && fuzz_be16(out + 2) == len);
		FUZZ_CHECK(len == 0 || memcmp(out + 4, payload, len) == 0);
		for (size_t i = whole; i < n; i++)
			FUZZ_CHECK(out[i] == 0);

		il_channeldata cd;
		FUZZ_CHECK(il_channeldata_decode(out, n, &cd, NULL) == IL_STUN_OK);
		FUZZ_CHECK(cd.channel == channel && cd.length == len && cd.data == out + 4);
		FUZZ_CHECK(il_demux_classify(out, n) == IL_DEMUX_CHANNELDATA);

		/* One byte short of the message must not fit. */
		FUZZ_CHECK(il_channeldata_encode(out, n - 1, channel, payload, len, pad) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_demux(data, size);

	il_channeldata cd;
	il_stun_decode_error err = {IL_STUN_OK, 0};
	enum il_stun_err ret = il_channeldata_decode(data, size, &cd, &err);
	if (ret == IL_STUN_OK) {
		FUZZ_CHECK(size >= IL_CHANNELDATA_HEADER_LEN);
		FUZZ_CHECK(cd.channel == fuzz_be16(data) && il_channel_is_valid(cd.channel));
		FUZZ_CHECK(cd.length == fuzz_be16(data + 2));
		FUZZ_CHECK(IL_CHANNELDATA_HEADER_LEN + (size_t)cd.length <= size);
		FUZZ_CHECK(cd.data == data + IL_CHANNELDATA_HEADER_LEN);
		FUZZ_CHECK(il_demux_classify(data, size) == IL_DEMUX_CHANNELDATA);
		check_encode(cd.channel, cd.data, cd.length);
	} else {
		FUZZ_CHECK(ret == IL_STUN_ERR_TRUNCATED || ret == IL_STUN_ERR_BAD_CHANNEL ||
			   ret == IL_STUN_ERR_LENGTH_MISMATCH);
		FUZZ_CHECK(err.code == ret && err.offset <= size);
		if (ret == IL_STUN_ERR_TRUNCATED)
			FUZZ_CHECK(size < IL_CHANNELDATA_HEADER_LEN);
		if (ret == IL_STUN_ERR_BAD_CHANNEL)
			FUZZ_CHECK(!il_channel_is_valid(fuzz_be16(data)));
	}
	FUZZ_CHECK(il_channeldata_decode(data, size, &cd, NULL) == ret);

	if (size >= 2)
		check_encode(fuzz_be16(data), data + 2, size - 2);
	return 0;
}
