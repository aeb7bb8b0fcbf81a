/* Framing of STUN and ChannelData over a byte stream (TCP, TLS): RFC 8489
 * §6.2.2 ("the STUN messages are sent over the connection ... the
 * receiver parses them using the length field"), and RFC 8656 §12.5
 * ("Over TCP and TLS-over-TCP, the ChannelData message MUST be padded to a
 * multiple of four bytes"). Buffered bytes are bounded by the caller's
 * buffer: a peer cannot make us hold more. */
#include "icelab/channeldata.h"

#include <string.h>

void il_stream_init(il_stream *s, uint8_t *buf, size_t cap)
{
	s->buf = buf;
	s->cap = cap;
	s->start = s->end = 0;
	s->err = IL_STUN_OK;
	s->consumed = 0;
	s->channels = IL_CHANNELS_RFC8656;
}

void il_stream_set_channel_range(il_stream *s, enum il_channel_range range)
{
	s->channels = range;
}

size_t il_stream_push(il_stream *s, const uint8_t *data, size_t len)
{
	if (s->err != IL_STUN_OK)
		return len; /* a broken stream swallows input; the caller closes it */
	if (s->start > 0 && s->cap - s->end < len) {
		memmove(s->buf, s->buf + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	size_t take = s->cap - s->end < len ? s->cap - s->end : len;
	memcpy(s->buf + s->end, data, take);
	s->end += take;
	return take;
}

static int broken(il_stream *s, enum il_stun_err code, size_t at, il_stun_decode_error *err)
{
	s->err = code;
	if (err) {
		err->code = code;
		err->offset = (size_t)s->consumed + at;
	}
	return -1;
}

int il_stream_next(il_stream *s, il_stream_frame *frame, il_stun_decode_error *err)
{
	if (s->err != IL_STUN_OK)
		return broken(s, s->err, 0, err);
	size_t avail = s->end - s->start;
	if (avail < 4)
		return 0;
	const uint8_t *p = s->buf + s->start;
	size_t length = (size_t)(p[2] << 8 | p[3]);
	size_t total, frame_len;
	enum il_frame_kind kind;
	if ((p[0] & 0xC0) == 0x00) {
		/* STUN lengths are multiples of 4 (§5); anything else means we
		 * have lost the framing. */
		if (length % 4)
			return broken(s, IL_STUN_ERR_BAD_LENGTH, 2, err);
		kind = IL_FRAME_STUN;
		total = frame_len = IL_STUN_HEADER_LEN + length;
	} else if ((p[0] & 0xC0) == 0x40) {
		/* 0x40-0x4F are ChannelData (RFC 7983); 0x50-0x7F too for
		 * RFC 5766 numbers when asked, else a broken stream. */
		uint16_t channel = (uint16_t)(p[0] << 8 | p[1]);
		if (!il_channel_in_range(channel, s->channels))
			return broken(s, IL_STUN_ERR_BAD_CHANNEL, 0, err);
		kind = IL_FRAME_CHANNELDATA;
		frame_len = IL_CHANNELDATA_HEADER_LEN + length;
		total = (frame_len + 3) & ~(size_t)3;
	} else {
		return broken(s, IL_STUN_ERR_NOT_STUN, 0, err);
	}
	if (total > s->cap)
		return broken(s, IL_STUN_ERR_STREAM_OVERFLOW, 2, err);
	if (avail < total)
		return 0;
	frame->kind = kind;
	frame->bytes = p;
	frame->len = frame_len;
	s->start += total;
	s->consumed += total;
	if (s->start == s->end)
		s->start = s->end = 0;
	return 1;
}
