/* TURN ChannelData messages (RFC 8656 §12.4, §12.5). */
#include "icelab/channeldata.h"

#include <string.h>

enum il_stun_err il_channeldata_decode(const uint8_t *buf, size_t len, il_channeldata *out,
				       il_stun_decode_error *err)
{
	return il_channeldata_decode_range(buf, len, IL_CHANNELS_RFC8656, out, err);
}

enum il_stun_err il_channeldata_decode_range(const uint8_t *buf, size_t len,
					     enum il_channel_range range, il_channeldata *out,
					     il_stun_decode_error *err)
{
	enum il_stun_err code = IL_STUN_OK;
	size_t offset = 0;
	if (len < IL_CHANNELDATA_HEADER_LEN) {
		code = IL_STUN_ERR_TRUNCATED;
		offset = len;
	} else {
		out->channel = (uint16_t)(buf[0] << 8 | buf[1]);
		out->length = (uint16_t)(buf[2] << 8 | buf[3]);
		out->data = buf + IL_CHANNELDATA_HEADER_LEN;
		/* RFC 8656 §12: channel numbers 0x4000-0x4FFF are for
		 * ChannelData; 0x5000-0xFFFF are reserved. RFC 5766 §11 had
		 * 0x4000-0x7FFF: accepted when the caller asks. */
		if (!il_channel_in_range(out->channel, range)) {
			code = IL_STUN_ERR_BAD_CHANNEL;
		/* "If the UDP datagram is too short to contain the claimed
		 * length of the ChannelData message ... then the message is
		 * silently discarded." (§12.6) Longer is fine: padding. */
		} else if ((size_t)out->length > len - IL_CHANNELDATA_HEADER_LEN) {
			code = IL_STUN_ERR_LENGTH_MISMATCH;
			offset = 2;
		}
	}
	if (code != IL_STUN_OK && err) {
		err->code = code;
		err->offset = offset;
	}
	return code;
}

size_t il_channeldata_encode(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data,
			     size_t len, bool pad_to_4)
{
	return il_channeldata_encode_range(buf, cap, IL_CHANNELS_RFC8656, channel, data, len,
					   pad_to_4);
}

size_t il_channeldata_encode_range(uint8_t *buf, size_t cap, enum il_channel_range range,
				   uint16_t channel, const uint8_t *data, size_t len,
				   bool pad_to_4)
{
	size_t total = IL_CHANNELDATA_HEADER_LEN + len;
	size_t padded = pad_to_4 ? (total + 3) & ~(size_t)3 : total;
	if (!il_channel_in_range(channel, range) || len > 0xFFFF || padded > cap)
		return 0;
	buf[0] = (uint8_t)(channel >> 8);
	buf[1] = (uint8_t)channel;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	if (len)
		memmove(buf + IL_CHANNELDATA_HEADER_LEN, data, len);
	memset(buf + total, 0, padded - total);
	return padded;
}
