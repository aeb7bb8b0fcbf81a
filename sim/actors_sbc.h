/* The SBC media bridge in the simulator (issue #8 §6): the bridge core
 * (sbc.h) on a simulated host with a socket per leg port; a legacy SIP
 * phone that knows nothing of ICE (its SDP names its own, maybe private,
 * address; it sends RTP every 20 ms and an RTCP report every second from
 * a second port); and a browser-like endpoint running the full ICE agent
 * (ice.h) with its host candidate (and a server-reflexive one when asked),
 * answering or offering through SDP.
 * Signalling is the caller's: it carries the SDP text between the actors
 * and the bridge (il_sbc_session_offer / _answer through sim_sbc). */
#ifndef ICELAB_SIM_ACTORS_SBC_H
#define ICELAB_SIM_ACTORS_SBC_H

#include "icelab/ice.h"
#include "icelab/sbc.h"
#include "icelab/sim.h"

/* A payload byte the actors never send: media marked with it is a third
 * party's (sim_media_stats.foreign counts it). */
#define SIM_SBC_FOREIGN_MARK 0xEE

typedef struct sim_media_stats {
	uint32_t rtp_sent, rtp_received, rtcp_sent, rtcp_received;
	uint32_t foreign;        /* received media marked SIM_SBC_FOREIGN_MARK */
	il_addr last_from;
	uint32_t srtp_failed;    /* SDES phone: received packets that did not unprotect */
} sim_media_stats;

/* ---- the bridge ---- */

typedef struct sim_sbc sim_sbc;
/* legs[i].bind with family IL_AF_NONE: the host's first address, with
 * its port. NULL when a bind or the session fails. */
sim_sbc *sim_sbc_new(il_sim *sim, int host, const il_sbc_config *cfg,
		     const il_sbc_leg_config legs[2]);
void sim_sbc_free(sim_sbc *b);
int sim_sbc_offer(sim_sbc *b, unsigned from, const char *sdp, char *out, size_t cap);
int sim_sbc_answer(sim_sbc *b, unsigned from, const char *sdp, char *out, size_t cap);
il_sbc_session *sim_sbc_session(sim_sbc *b);
size_t sim_sbc_event_count(const sim_sbc *b, int type);
/* The pair@connected line, "" before media connected. */
const char *sim_sbc_connected_line(const sim_sbc *b);

/* ---- the legacy phone ---- */

typedef struct sim_phone sim_phone;
/* RTP on rtp_port, RTCP on rtp_port + 1, of the host's first address. */
sim_phone *sim_phone_new(il_sim *sim, int host, uint16_t rtp_port, uint32_t ssrc);
void sim_phone_free(sim_phone *p);
/* Its offer (or answer: the same description). */
int sim_phone_sdp(const sim_phone *p, char *out, size_t cap);
/* The far end's SDP: where its media goes (c= and m=). */
int sim_phone_set_remote_sdp(sim_phone *p, const char *sdp);
/* RTP every 20 ms and RTCP every second from now on. */
void sim_phone_start_media(sim_phone *p);
void sim_phone_stop_media(sim_phone *p);
const sim_media_stats *sim_phone_stats(const sim_phone *p);
/* SDES (RFC 4568) with AES_CM_128_HMAC_SHA1_80: the phone's SDP says
 * RTP/SAVP with sdp_key (key || salt, 30 bytes); it protects what it
 * sends with send_key (sdp_key, or another one to make a key mismatch)
 * and unprotects what it receives with the key of the far end's
 * a=crypto. Call before sim_phone_sdp. 0, or -1 when libsrtp2 fails. */
int sim_phone_use_sdes(sim_phone *p, const uint8_t sdp_key[30], const uint8_t send_key[30]);

/* ---- the ICE endpoint ---- */

typedef struct sim_ice_ua sim_ice_ua;
sim_ice_ua *sim_ice_ua_new(il_sim *sim, int host, uint16_t port, uint32_t ssrc);
void sim_ice_ua_free(sim_ice_ua *u);
/* A Binding request to server (a STUN or TURN server, UDP): the answer
 * adds a server-reflexive candidate, signalled in the next answer as a
 * browser does (force-relay needs it: the TURN permission is for the
 * NAT's address). Before sim_ice_ua_answer. 0 or -1. */
int sim_ice_ua_gather_srflx(sim_ice_ua *u, const il_addr *server);
/* Answers an offer that carries ICE (RFC 8839): the peer's credentials
 * and candidates in, our credentials and host candidate out, with
 * rtcp-mux; the checks start at once. */
int sim_ice_ua_answer(sim_ice_ua *u, const char *offer, char *out, size_t cap);
/* RTP every 20 ms on the selected pair (none sent before one is). */
void sim_ice_ua_start_media(sim_ice_ua *u);
void sim_ice_ua_stop_media(sim_ice_ua *u);
const sim_media_stats *sim_ice_ua_stats(const sim_ice_ua *u);
il_ice_agent *sim_ice_ua_agent(sim_ice_ua *u);

#endif
