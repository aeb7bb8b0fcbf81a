/* TURN ChannelData messages (RFC 8656 §12.4-12.5) and a reassembler for
 * STUN and ChannelData framed over a byte stream (TCP, TLS: RFC 8656 §12.5,
 * RFC 8489 §6.2.2). Zero-copy over datagrams; the reassembler owns a
 * bounded buffer the caller provides. */
#ifndef ICELAB_CHANNELDATA_H
#define ICELAB_CHANNELDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/stun.h"

#define IL_CHANNEL_MIN 0x4000
#define IL_CHANNEL_MAX 0x4FFF
/* RFC 5766 §11 allowed 0x4000-0x7FFF; RFC 8656 §12 narrowed the range to
 * 0x4000-0x4FFF. Legacy clients (coturn's turnutils_uclient among them)
 * still pick numbers up to 0x7FFF: a server may accept them on request
 * (il_channel_range). RFC 7983 §7 leaves first bytes 80-127 (0x50-0x7F)
 * unassigned, so accepting them cannot be mistaken for another protocol
 * multiplexed on the same port (STUN 0-3, ZRTP 16-19, DTLS 20-63, TURN
 * channels 64-79, RTP/RTCP 128-191). */
#define IL_CHANNEL_MAX_RFC5766 0x7FFF
#define IL_CHANNELDATA_HEADER_LEN 4

/* Which channel numbers a decoder, encoder or server accepts. */
enum il_channel_range {
	IL_CHANNELS_RFC8656 = 0, /* 0x4000-0x4FFF: the default */
	IL_CHANNELS_RFC5766 = 1, /* 0x4000-0x7FFF: for legacy clients */
};

typedef struct il_channeldata {
	uint16_t channel;
	uint16_t length;         /* application data length */
	const uint8_t *data;     /* points into the caller's buffer */
} il_channeldata;

/* True when channel is in 0x4000-0x4FFF (RFC 8656 §12). */
static inline bool il_channel_is_valid(uint16_t channel)
{
	return channel >= IL_CHANNEL_MIN && channel <= IL_CHANNEL_MAX;
}

/* True when channel is valid in the range: 0x4000-0x4FFF, or 0x4000-0x7FFF
 * for IL_CHANNELS_RFC5766. */
static inline bool il_channel_in_range(uint16_t channel, enum il_channel_range range)
{
	uint16_t max = range == IL_CHANNELS_RFC5766 ? IL_CHANNEL_MAX_RFC5766 : IL_CHANNEL_MAX;
	return channel >= IL_CHANNEL_MIN && channel <= max;
}

/* Decodes a ChannelData message from a datagram. Over UDP the datagram
 * may be longer than 4 + length (padding); the data is the first length
 * bytes. Errors: TRUNCATED, BAD_CHANNEL, LENGTH_MISMATCH (length overruns
 * the datagram). */
enum il_stun_err il_channeldata_decode(const uint8_t *buf, size_t len, il_channeldata *out,
				       il_stun_decode_error *err);
/* The same, with the channel numbers of range (BAD_CHANNEL outside it). */
enum il_stun_err il_channeldata_decode_range(const uint8_t *buf, size_t len,
					     enum il_channel_range range, il_channeldata *out,
					     il_stun_decode_error *err);
/* Writes header + data (+ zero padding to 4 when pad_to_4, as streams
 * need); returns bytes written, or 0 when it does not fit or the channel
 * is invalid. */
size_t il_channeldata_encode(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data,
			     size_t len, bool pad_to_4);
/* The same, accepting the channel numbers of range. */
size_t il_channeldata_encode_range(uint8_t *buf, size_t cap, enum il_channel_range range,
				   uint16_t channel, const uint8_t *data, size_t len,
				   bool pad_to_4);

enum il_frame_kind {
	IL_FRAME_STUN = 1,
	IL_FRAME_CHANNELDATA = 2,
};

/* One complete frame cut from the stream. For STUN, bytes..bytes+len is
 * the whole message; for ChannelData, the header and data without the
 * stream padding. Valid until the next il_stream_* call. */
typedef struct il_stream_frame {
	enum il_frame_kind kind;
	const uint8_t *bytes;
	size_t len;
} il_stream_frame;

typedef struct il_stream {
	uint8_t *buf;        /* caller's storage: the bound on buffered bytes */
	size_t cap;
	size_t start, end;   /* unread bytes are buf[start..end) */
	enum il_stun_err err;/* sticky: a broken stream stays broken */
	uint64_t consumed;   /* stream offset of buf[start], for error offsets */
	/* ChannelData numbers accepted: IL_CHANNELS_RFC8656 after init; set
	 * it with il_stream_set_channel_range. */
	enum il_channel_range channels;
} il_stream;

/* The largest frame: a STUN message of header length 65532 (the largest
 * multiple of 4). ChannelData peaks at 4 + 65535 + 1 padding = 65540. */
#define IL_STREAM_MIN_CAP (IL_STUN_HEADER_LEN + 65532)

/* cap bounds what is buffered; a frame longer than cap is an error
 * (IL_STUN_ERR_STREAM_OVERFLOW), so cap should be IL_STREAM_MIN_CAP or
 * more to accept every legal frame. */
void il_stream_init(il_stream *s, uint8_t *buf, size_t cap);
/* Accepts ChannelData with the numbers of range (first byte 0x40-0x7F for
 * IL_CHANNELS_RFC5766) instead of 0x4000-0x4FFF only. */
void il_stream_set_channel_range(il_stream *s, enum il_channel_range range);
/* Appends bytes read from the socket; returns how many were taken (less
 * than len when the buffer is full: pull frames, then push the rest). */
size_t il_stream_push(il_stream *s, const uint8_t *data, size_t len);
/* Next complete frame: 1 with *frame set, 0 when more bytes are needed,
 * -1 when the stream is broken (not STUN or ChannelData, or a frame
 * longer than the buffer); then *err tells why and where. */
int il_stream_next(il_stream *s, il_stream_frame *frame, il_stun_decode_error *err);

#endif
