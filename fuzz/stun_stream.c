/* Fuzz target stun_stream: the reassembler that cuts STUN messages and
 * ChannelData out of a byte stream (RFC 8489 §6.2.2, RFC 8656 §12.5).
 *
 * Input layout:
 *   byte 0      buffer size: low two bits 3 -> a small buffer of
 *               24 + 4 * (byte >> 2) bytes (exercises the overflow path),
 *               otherwise one that fits any frame;
 *   bytes 1..4  chunk sizes, cycled: b + 1 bytes, or all the rest when b = 0;
 *   the rest    the stream.
 * After every push all frames are pulled. Each frame must be the next bytes
 * of the stream (ChannelData then skips its padding to 4), lie within the
 * caller's buffer, carry the length its header says, and decode or fail
 * cleanly. A stream must never stall with a whole frame buffered, and a
 * broken stream stays broken. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "icelab/channeldata.h"
#include "icelab/stun.h"

#include "fuzz_check.h"

/* Largest frame: a STUN message of 20 + 65535 bytes (a ChannelData one is
 * at most 4 + 65535 + 1 of padding). */
#define FULL_CAP (IL_STUN_HEADER_LEN + 65535 + 1)
static uint8_t storage[FULL_CAP];

struct run {
	il_stream s;
	size_t cap;
	const uint8_t *stream;  /* the stream bytes of the input */
	size_t pushed;          /* stream bytes taken by il_stream_push */
	size_t expected;        /* stream offset where the next frame must start */
	bool broken;
};

static void check_bounds(const struct run *r)
{
	FUZZ_CHECK(r->s.buf == storage && r->s.cap == r->cap);
	FUZZ_CHECK(r->s.start <= r->s.end && r->s.end <= r->s.cap);
	FUZZ_CHECK(r->s.end - r->s.start <= r->pushed);
}

static void check_frame(struct run *r, const il_stream_frame *f)
{
	FUZZ_CHECK(f->bytes >= storage && f->len <= r->cap);
	FUZZ_CHECK(f->bytes + f->len <= storage + r->cap);
	FUZZ_CHECK(r->expected + f->len <= r->pushed);
	FUZZ_CHECK(memcmp(f->bytes, r->stream + r->expected, f->len) == 0);

	if (f->kind == IL_FRAME_STUN) {
		FUZZ_CHECK(f->len >= IL_STUN_HEADER_LEN);
		FUZZ_CHECK((f->bytes[0] & 0xC0) == 0);
		FUZZ_CHECK(f->len == IL_STUN_HEADER_LEN + (size_t)fuzz_be16(f->bytes + 2));
		static il_stun_msg msg;
		il_stun_decode_error err = {IL_STUN_OK, 0};
		enum il_stun_err ret = il_stun_decode(f->bytes, f->len, &msg, &err);
		if (ret == IL_STUN_OK) {
			FUZZ_CHECK(msg.len == f->len && msg.buf == f->bytes);
		} else {
			FUZZ_CHECK(ret < IL_STUN_ERR__COUNT && err.code == ret);
			FUZZ_CHECK(err.offset <= f->len);
		}
		r->expected += f->len;
		return;
	}

	FUZZ_CHECK(f->kind == IL_FRAME_CHANNELDATA);
	FUZZ_CHECK(f->len >= IL_CHANNELDATA_HEADER_LEN);
	FUZZ_CHECK((f->bytes[0] & 0xC0) == 0x40);
	FUZZ_CHECK(f->len == IL_CHANNELDATA_HEADER_LEN + (size_t)fuzz_be16(f->bytes + 2));
	il_channeldata cd;
	il_stun_decode_error err = {IL_STUN_OK, 0};
	enum il_stun_err ret = il_channeldata_decode(f->bytes, f->len, &cd, &err);
	if (ret == IL_STUN_OK) {
		FUZZ_CHECK(cd.channel == fuzz_be16(f->bytes));
		FUZZ_CHECK(il_channel_is_valid(cd.channel));
		FUZZ_CHECK(cd.length == f->len - IL_CHANNELDATA_HEADER_LEN);
		FUZZ_CHECK(cd.data == f->bytes + IL_CHANNELDATA_HEADER_LEN);
	} else {
		/* A reserved channel (0x5000-0x7FFF) may be framed, then refused. */
		FUZZ_CHECK(ret == IL_STUN_ERR_BAD_CHANNEL && err.code == ret);
	}
	/* §12.5: over a stream, ChannelData is padded to a multiple of 4. */
	r->expected += fuzz_round4(f->len);
}

/* Pulls every complete frame; returns how many, or -1 once broken. */
static int pull_frames(struct run *r)
{
	for (int frames = 0;; frames++) {
		il_stream_frame f;
		il_stun_decode_error err = {IL_STUN_OK, 0};
		int got = il_stream_next(&r->s, &f, &err);
		check_bounds(r);
		if (got == 1) {
			check_frame(r, &f);
			continue;
		}
		if (got == 0)
			return frames;
		FUZZ_CHECK(got == -1);
		FUZZ_CHECK(err.code != IL_STUN_OK && err.code < IL_STUN_ERR__COUNT);
		FUZZ_CHECK(err.offset <= r->pushed);
		FUZZ_CHECK(r->s.err != IL_STUN_OK);
		/* Sticky: the same stream never yields a frame again. */
		il_stream_frame again;
		FUZZ_CHECK(il_stream_next(&r->s, &again, &err) == -1);
		r->broken = true;
		return -1;
	}
}

/* With nothing more coming, no complete frame may be left buffered. */
static void check_nothing_complete_left(const struct run *r)
{
	if (r->expected > r->pushed)
		return; /* padding of the last ChannelData still to come */
	const uint8_t *p = r->stream + r->expected;
	size_t left = r->pushed - r->expected;
	if (left < 4)
		return;
	size_t need;
	if ((p[0] & 0xC0) == 0x40) {
		need = fuzz_round4(IL_CHANNELDATA_HEADER_LEN + (size_t)fuzz_be16(p + 2));
	} else if ((p[0] & 0xC0) == 0 && left >= IL_STUN_HEADER_LEN && fuzz_be16(p + 2) % 4 == 0) {
		need = IL_STUN_HEADER_LEN + (size_t)fuzz_be16(p + 2);
	} else {
		return;
	}
	FUZZ_CHECK(need > left || need > r->cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	static struct run r;
	memset(&r, 0, sizeof r);
	r.cap = (data[0] & 3) == 3 ? 24 + 4 * (size_t)(data[0] >> 2) : FULL_CAP;
	const uint8_t *chunks = data + 1;
	r.stream = data + 5;
	size_t len = size - 5;
	il_stream_init(&r.s, storage, r.cap);
	check_bounds(&r);

	size_t chunk_index = 0;
	size_t pending = 0; /* bytes of the current chunk not yet taken */
	while (r.pushed < len) {
		if (pending == 0) {
			uint8_t c = chunks[chunk_index++ % 4];
			pending = c == 0 ? len - r.pushed : (size_t)c + 1;
			if (pending > len - r.pushed)
				pending = len - r.pushed;
		}
		size_t taken = il_stream_push(&r.s, r.stream + r.pushed, pending);
		FUZZ_CHECK(taken <= pending);
		r.pushed += taken;
		pending -= taken;
		check_bounds(&r);
		int frames = pull_frames(&r);
		if (frames < 0)
			return 0;
		/* A full buffer with no frame to give is a stall: the reassembler
		 * must report the overflow instead. */
		FUZZ_CHECK(taken > 0 || frames > 0);
	}
	check_nothing_complete_left(&r);
	return 0;
}
