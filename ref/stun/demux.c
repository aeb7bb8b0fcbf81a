/* RFC 7983 §7 demultiplexing of a datagram by its first byte, with RTP and
 * RTCP told apart by the second byte as RFC 5761 §4 says. */
#include "icelab/demux.h"

enum il_demux_kind il_demux_classify(const uint8_t *buf, size_t len)
{
	if (len == 0)
		return IL_DEMUX_UNKNOWN;
	uint8_t b = buf[0];
	if (b <= 3)
		return IL_DEMUX_STUN;
	if (b >= 16 && b <= 19)
		return IL_DEMUX_ZRTP;
	if (b >= 20 && b <= 63)
		return IL_DEMUX_DTLS;
	if (b >= 64 && b <= 79)
		return IL_DEMUX_CHANNELDATA;
	if (b >= 128 && b <= 191) {
		/* "RTCP packet types in the range 192-223 (with the marker bit
		 * forming the top bit of the second byte)" (RFC 5761 §4). */
		if (len >= 2 && buf[1] >= 192 && buf[1] <= 223)
			return IL_DEMUX_RTCP;
		return IL_DEMUX_RTP;
	}
	return IL_DEMUX_UNKNOWN;
}

const char *il_demux_kind_name(enum il_demux_kind kind)
{
	switch (kind) {
	case IL_DEMUX_STUN:
		return "stun";
	case IL_DEMUX_ZRTP:
		return "zrtp";
	case IL_DEMUX_DTLS:
		return "dtls";
	case IL_DEMUX_CHANNELDATA:
		return "channeldata";
	case IL_DEMUX_RTP:
		return "rtp";
	case IL_DEMUX_RTCP:
		return "rtcp";
	default:
		return "unknown";
	}
}
