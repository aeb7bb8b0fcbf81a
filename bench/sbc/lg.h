/* The SBC load generator's call setup (issue #8 §7): the rtpengine ng
 * protocol (bencode over UDP, "COOKIE d...e") as any SIP proxy drives it,
 * or the floor's one-line control. Shared by sbc_loadgen's traffic loop. */
#ifndef ICELAB_BENCH_SBC_LG_H
#define ICELAB_BENCH_SBC_LG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_KEY_B64 40 /* 30 bytes of SRTP master key + salt, base64 */

typedef struct lg_ctl {
	int fd;
	bool floor;               /* the floor's text control, not ng */
	struct sockaddr_in server;
	unsigned cookie;
	int timeout_ms;           /* per attempt; three attempts */
} lg_ctl;

/* One leg's media as the SDP from the target says: where to send. */
typedef struct lg_media {
	struct sockaddr_in addr;
	bool srtp;
	char key[LG_KEY_B64 + 1]; /* a=crypto inline key when srtp */
} lg_media;

/* Opens the control socket to server ("a.b.c.d:port"); 0 or -1. */
int lg_ctl_open(lg_ctl *c, const char *server, bool floor);
/* ng ping (or the floor's): true when "pong" comes back. */
bool lg_ctl_ping(lg_ctl *c);

/* Sets up one call between local ports pa (leg A, the offerer) and pb
 * (leg B). With srtp, leg A offers RTP/SAVP with a=crypto key_a and asks
 * for plain RTP/AVP toward B (transport-protocol). On success fills
 * to_a (where leg A sends: from the answer), to_b (where leg B sends:
 * from the offer) and floor_id; 0, or -1 with why[] filled. */
int lg_call_setup(lg_ctl *c, const char *call_id, uint16_t pa, uint16_t pb, bool srtp,
		  const char *key_a, lg_media *to_a, lg_media *to_b, int *floor_id,
		  char *why, size_t why_len);
/* ng delete (or the floor's del); 0 or -1. */
int lg_call_delete(lg_ctl *c, const char *call_id, int floor_id);

/* Parses the first c= (IPv4) and m=audio line of sdp and its a=crypto
 * AES_CM_128_HMAC_SHA1_80 key, if any; 0 or -1. Exposed for tests. */
int lg_sdp_media(const char *sdp, size_t len, lg_media *out);

#endif
