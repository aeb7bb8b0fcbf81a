/* ng keys of the media features (ng_media.c), for ng.c. */
#ifndef ICELAB_SBC_NG_MEDIA_H
#define ICELAB_SBC_NG_MEDIA_H

#include "icelab/bencode.h"
#include "icelab/sbc_bridge.h"
#include "icelab/sbc_relay.h"

/* Sets o->profile and o->force_relay (after o->ice) from the offer's keys.
 * why: which policy level decided ("session", "user", "tenant",
 * "default"). -1 with err for a bad value; warn gets a note. */
int sbc_ng_media_options(const il_benc_node *n, int r, const char *sdp, size_t len,
			 const il_sbc_policy *policy, il_sbc_call_options *o, const char **why,
			 char *warn, size_t warn_cap, char *err, size_t err_cap);
/* A leg's profile, SRTP counters, DTLS state and relay state, as members
 * of the leg's query dictionary. */
void sbc_ng_media_put_leg(il_benc_writer *w, il_sbc_session *s, unsigned leg,
			  const il_sbc_leg_stats *st);
/* The first leg's relay error, for an error reply. */
const char *sbc_ng_relay_error(const il_sbc_session *s);

#endif
