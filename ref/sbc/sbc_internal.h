/* Internals of the SBC media bridge core, shared by the files of ref/sbc/. */
#ifndef ICELAB_SBC_INTERNAL_H
#define ICELAB_SBC_INTERNAL_H

#include "icelab/sbc.h"

#define RTP_MAX_DROPOUT 3000 /* RFC 3550 A.1: a forward jump still in sequence */

/* What a leg's peer declared in its SDP. */
typedef struct sbc_peer_sdp {
	bool present;
	il_addr rtp, rtcp;       /* family IL_AF_NONE when not usable (FQDN) */
	bool rtcp_mux;
	bool ice;                /* ufrag and pwd present */
	char ufrag[IL_ICE_UFRAG_MAX + 1], pwd[IL_ICE_PWD_MAX + 1];
	uint8_t pt[16];          /* bitmap of the payload types of the m= line */
} sbc_peer_sdp;

typedef struct sbc_leg {
	struct il_sbc_session *s;
	unsigned index;
	il_sbc_leg_config cfg;
	il_addr rtcp_bind;       /* cfg.bind with port + 1 */
	il_addr advertised;      /* the public IP with cfg.bind's port */
	sbc_peer_sdp peer;
	/* Negotiated: ICE and rtcp-mux as offered toward the leg (offered_*)
	 * and as agreed once its answer or offer is known. */
	bool offered_ice, offered_mux;
	bool ice, rtcp_mux;
	il_ice_agent *agent;     /* ICE-lite, when ice (or offered_ice) */
	unsigned components;
	/* The pair media is on, per component, from the agent's
	 * SELECTED_PAIR events: it stays through an ICE restart until the
	 * new check list selects its pair (RFC 8445 §9), as in the agent. */
	bool has_media_pair[IL_ICE_MAX_COMPONENTS];
	il_addr media_remote[IL_ICE_MAX_COMPONENTS];
	/* Latching (legacy legs): [0] RTP, [1] RTCP on its own port. */
	bool latched[2];
	il_addr source[2];
	bool provisional;        /* the RTP latch is not the SDP address */
	uint64_t latched_ms;
	uint32_t ssrc;
	uint16_t last_seq;
	/* A new source under the adoption policy. */
	bool cand_active;
	il_addr cand;
	uint32_t cand_count;
	uint16_t cand_seq;
	il_sbc_leg_stats st;     /* counters (the rest is filled on query) */
	struct sbc_leg_crypto *crypto; /* SRTP / DTLS-SRTP (sbc_crypto.h); NULL: plain */
	struct sbc_relay *relay; /* force-relay (relay.c); NULL when off */
} sbc_leg;

struct il_sbc_session {
	il_sbc_config cfg;
	il_sbc_callbacks cb;
	sbc_leg leg[2];
	int state;
	bool offer_pending;
	unsigned offerer;
	uint64_t last_media_ms;  /* the media timeout counts from here */
	il_sdp_session *sdp;     /* scratch for parse + rewrite: only during an offer/answer */
};

/* media.c */
void sbc_emit(il_sbc_session *s, const il_sbc_event *ev);

/* relay.c: force-relay (sbc_relay.h). Every function does nothing (or
 * says OK) on a leg without force_relay. */
typedef struct sbc_relay sbc_relay;
int sbc_relay_start(sbc_leg *l, uint64_t now_ms);
void sbc_relay_free(sbc_leg *l);
/* Before the leg's agent is made: ICE, rtcp-mux, a ready allocation. */
int sbc_relay_check(sbc_leg *l, bool ice, bool mux);
/* Before an offer toward the leg (forces offered_mux). */
int sbc_relay_check_offer(sbc_leg *l);
void sbc_relay_candidate(const sbc_leg *l, il_ice_candidate *c);
void sbc_relay_sdp(const sbc_leg *l, il_sbc_sdp_params *rw);
void sbc_relay_permit_sdp(sbc_leg *l, const il_sdp_session *sdp, int mi, uint64_t now_ms);
bool sbc_relay_owns(const sbc_leg *l, const il_addr *local);
/* A datagram on the leg's own port: TURN traffic (enum il_sbc_datagram),
 * or -1 when it is not from the TURN server (drop it). */
int sbc_relay_datagram(sbc_leg *l, unsigned component, const il_addr *remote, const uint8_t *data,
		       size_t len, uint64_t now_ms);
void sbc_relay_send(sbc_leg *l, const il_addr *remote, const uint8_t *data, size_t len);
void sbc_relay_selected(sbc_leg *l, const il_addr *remote);
void sbc_relay_timer(il_sbc_session *s, uint64_t now_ms);
uint64_t sbc_relay_next_deadline(const il_sbc_session *s);
void sbc_relay_stats(const sbc_leg *l, il_sbc_leg_stats *out);

#endif
