/* RFC 7983 §7: what a datagram on a multiplexed media port is, from its
 * first byte. RFC 8656 §12 adds TURN ChannelData at 64..79. */
#ifndef ICELAB_DEMUX_H
#define ICELAB_DEMUX_H

#include <stddef.h>
#include <stdint.h>

enum il_demux_kind {
	IL_DEMUX_UNKNOWN = 0, /* drop: RFC 7983 says so for unmatched bytes */
	IL_DEMUX_STUN,        /* 0..3 */
	IL_DEMUX_ZRTP,        /* 16..19 */
	IL_DEMUX_DTLS,        /* 20..63 */
	IL_DEMUX_CHANNELDATA, /* 64..79 */
	IL_DEMUX_RTP,         /* 128..191, payload type outside 64..95 */
	IL_DEMUX_RTCP,        /* 128..191, second byte 192..223 (RFC 5761) */
};

enum il_demux_kind il_demux_classify(const uint8_t *buf, size_t len);
const char *il_demux_kind_name(enum il_demux_kind kind);

#endif
