/* The builtin target's SBC (target_builtin_sbc.c): one in-process
 * il_sbc_session (ref/sbc) with a legacy leg and an ICE-lite leg, for the
 * ice-lite suite. Sans-I/O like the rest of the builtin target: what the
 * bridge sends is handed to deliver(), which queues it for the harness's
 * client or peer at that address. */
#ifndef ICELAB_CONFORMANCE_BUILTIN_SBC_H
#define ICELAB_CONFORMANCE_BUILTIN_SBC_H

#include "conformance.h"

/* The bridge's binds: legacy leg A, ICE leg B (RTCP multiplexed). */
#define CF_BUILTIN_SBC_LEGACY "192.0.2.1:20000"
#define CF_BUILTIN_SBC_ICE "192.0.2.1:30000"
/* The harness's credentials, as its answer gives them to the bridge. */
#define CF_BUILTIN_SBC_PEER_UFRAG "cfharness"
#define CF_BUILTIN_SBC_PEER_PWD "conformanceIcePassword0123"

typedef struct cf_builtin_sbc cf_builtin_sbc;
typedef void (*cf_builtin_sbc_deliver)(void *user, const il_addr *from, const il_addr *to,
				       const uint8_t *data, size_t len);

cf_builtin_sbc *cf_builtin_sbc_new(const cf_target_options *opts, cf_builtin_sbc_deliver deliver,
				   void *user);
void cf_builtin_sbc_free(cf_builtin_sbc *s);
/* A fresh session: the phone (legacy leg) offers from `phone`, the
 * harness answers from `harness`; fills t's ICE fields. 0 or -1. */
int cf_builtin_sbc_reset(cf_builtin_sbc *s, cf_target *t, uint64_t seed, const il_addr *phone,
			 const il_addr *harness, uint64_t now_ms);
/* True when `to` is one of the bridge's addresses. */
bool cf_builtin_sbc_owns(const cf_builtin_sbc *s, const il_addr *to);
void cf_builtin_sbc_input(cf_builtin_sbc *s, const il_addr *to, const il_addr *from,
			  const uint8_t *data, size_t len, uint64_t now_ms);
void cf_builtin_sbc_timer(cf_builtin_sbc *s, uint64_t now_ms);

#endif
