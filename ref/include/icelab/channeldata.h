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
#define IL_CHANNELDATA_HEADER_LEN 4

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

/* Decodes a ChannelData message from a datagram. Over UDP the datagram
 * may be longer than 4 + length (padding); the data is the first length
 * bytes. Errors: TRUNCATED, BAD_CHANNEL, LENGTH_MISMATCH (length overruns
 * the datagram). */
enum il_stun_err il_channeldata_decode(const uint8_t *buf, size_t len, il_channeldata *out,
				       il_stun_decode_error *err);
/* Writes header + data (+ zero padding to 4 when pad_to_4, as streams
 * need); returns bytes written, or 0 when it does not fit or the channel
 * is invalid. */
size_t il_channeldata_encode(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data,
			     size_t len, bool pad_to_4);

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
} il_stream;

/* The largest frame: a STUN message of header length 65532 (the largest
 * multiple of 4). ChannelData peaks at 4 + 65535 + 1 padding = 65540. */
#define IL_STREAM_MIN_CAP (IL_STUN_HEADER_LEN + 65532)

/* cap bounds what is buffered; a frame longer than cap is an error
 * (IL_STUN_ERR_STREAM_OVERFLOW), so cap should be IL_STREAM_MIN_CAP or
 * more to accept every legal frame. */
void il_stream_init(il_stream *s, uint8_t *buf, size_t cap);
/* Appends bytes read from the socket; returns how many were taken (less
 * than len when the buffer is full: pull frames, then push the rest). */
size_t il_stream_push(il_stream *s, const uint8_t *data, size_t len);
/* Next complete frame: 1 with *frame set, 0 when more bytes are needed,
 * -1 when the stream is broken (not STUN or ChannelData, or a frame
 * longer than the buffer); then *err tells why and where. */
int il_stream_next(il_stream *s, il_stream_frame *frame, il_stun_decode_error *err);

#endif
