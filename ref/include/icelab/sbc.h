/* The SBC media bridge core (issue #8 §1-§3): one media session with two
 * legs, A and B, and the rules that keep its media plane safe.
 *
 * Each leg has the peer's SDP (offer or answer), the bridge's local RTP
 * port (RTCP on port + 1 unless rtcp-mux), an ICE state (an ICE-lite
 * il_ice_agent when the leg speaks ICE) and a crypto context (SDES SRTP
 * or DTLS-SRTP, see the end of this file; none for plain RTP). RTP and
 * RTCP received on one leg go out on the other,
 * with per-direction counters. The rules:
 *
 * - STUN on an ICE leg goes to the ICE-lite agent (RFC 8445 §2.7): valid
 *   short-term credentials are answered and signed with our password,
 *   USE-CANDIDATE selects the pair; anything else is answered as RFC 8445
 *   says (400, 401) or dropped. STUN on a legacy leg is dropped.
 * - Symmetric RTP (RFC 4961): we send to where the peer's media comes from.
 * - A legacy (non-ICE) leg latches: the first packet that fits the
 *   negotiated stream (RTP version 2, payload type in the SDP's list)
 *   teaches the source and the SSRC. A source other than the SDP address
 *   is provisional for cfg.prefer_sdp_ms: a fitting packet from the SDP
 *   address in that window takes over. cfg.strict_source accepts only
 *   the SDP address.
 * - After latching, another source is dropped (RTP Bleed). With
 *   cfg.adopt_new_source (off by default) it is adopted after
 *   cfg.adopt_packets consecutive packets carrying the learnt SSRC with
 *   sequence numbers continuing the latched stream's; a packet from the
 *   latched source in between starts the count again.
 * - On an ICE leg media goes only to the selected pair; media is accepted
 *   only from the selected pair's remote address, or from an address that
 *   sent us a check with valid credentials.
 * - No media from either leg for cfg.media_timeout_ms ends the session.
 *
 * Sans-I/O (ARCHITECTURE.md): the caller binds the sockets, feeds every
 * datagram with il_sbc_session_handle_datagram and `now`, calls
 * il_sbc_session_timer at il_sbc_session_next_deadline, and gets datagrams
 * to send (cb->send, from `local`) and events (cb->event). Randomness
 * (ICE credentials) comes from cb->random.
 *
 * The offer/answer rewrite (§2) is il_sbc_sdp_rewrite (ref/sbc/sdp_rewrite.c):
 * c=, o= and m= on the advertised public address, ICE-lite added toward
 * an ICE leg and stripped toward a legacy one, rtcp-mux added or
 * stripped. The session bridges the first RTP media section; the others
 * are rejected (port 0) in what it writes. */
#ifndef ICELAB_SBC_H
#define ICELAB_SBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"
#include "icelab/ice.h"
#include "icelab/sdp.h"

enum il_sbc_leg { IL_SBC_LEG_A = 0, IL_SBC_LEG_B = 1 };

enum il_sbc_err {
	IL_SBC_OK = 0,
	IL_SBC_ERR_ARGUMENT = -1,  /* bad leg, address, buffer */
	IL_SBC_ERR_PRIVATE = -2,   /* the advertised address is private or loopback */
	IL_SBC_ERR_SDP = -3,       /* the SDP does not parse (il_sdp_error says why) */
	IL_SBC_ERR_STATE = -4,     /* an answer without an offer, a call that ended */
	IL_SBC_ERR_SPACE = -5,     /* the output buffer is too small */
	IL_SBC_ERR_NO_MEDIA = -6,  /* no RTP media section to bridge */
	IL_SBC_ERR_LEAK = -7,      /* a private bind address would appear in the SDP */
	IL_SBC_ERR_ICE = -8,       /* the ICE-lite agent could not be set up */
	IL_SBC_ERR_CRYPTO = -9,    /* SRTP: no usable a=crypto, a=fingerprint or a=setup */
	/* Force-relay (ref/sbc/relay.c, sbc_relay.h); a block of their own so
	 * other additions above do not collide. */
	IL_SBC_ERR_RELAY = -20,    /* force-relay leg: the TURN allocation failed, or the leg
	                              cannot be relayed (no ICE, no rtcp-mux):
	                              il_sbc_session_relay_error says why */
	IL_SBC_ERR_RELAY_PENDING = -21, /* the allocation is under way: offer again after
	                                   IL_SBC_EV_RELAY_READY */
};

/* Why a datagram was dropped (counted per leg, and an event). */
enum il_sbc_drop {
	IL_SBC_DROP_NOT_MEDIA = 0,   /* not STUN, RTP or RTCP (RFC 7983), or malformed */
	IL_SBC_DROP_STUN_NOT_ICE,    /* STUN on a leg that does not speak ICE */
	IL_SBC_DROP_STUN_INVALID,    /* the ICE agent dropped it (malformed, unknown base) */
	IL_SBC_DROP_DTLS,            /* DTLS on a leg that is not DTLS-SRTP, or whose handshake failed */
	IL_SBC_DROP_NOT_NEGOTIATED,  /* no SDP from this leg yet */
	IL_SBC_DROP_NOT_FITTING,     /* before latching: payload type not in the SDP, bad RTCP */
	IL_SBC_DROP_STRICT_SOURCE,   /* strict mode: not the SDP address */
	IL_SBC_DROP_FOREIGN_SOURCE,  /* after latching: not the latched source (RTP Bleed) */
	IL_SBC_DROP_UNCHECKED_SOURCE,/* ICE leg: no valid check from this source */
	IL_SBC_DROP_NO_DESTINATION,  /* the other leg has nowhere to send yet */
	IL_SBC_DROP_ENDED,           /* the session ended */
	IL_SBC_DROP_SRTP_AUTH,       /* SRTP/SRTCP authentication failed (RFC 3711 §3.3) */
	IL_SBC_DROP_SRTP_REPLAY,     /* SRTP/SRTCP replayed or too old (RFC 3711 §3.3.2) */
	IL_SBC_DROP_SRTP_NO_KEY,     /* an SRTP leg without keys yet (DTLS not done) */
	IL_SBC_DROP_NOT_RELAYED,     /* force-relay leg: not from our TURN server */
	IL_SBC_DROP_COUNT
};
/* "not-media", "stun-not-ice", ... */
const char *il_sbc_drop_name(int reason);

typedef struct il_sbc_config {
	il_addr advertised;          /* the public IP written in SDP (port ignored) */
	bool allow_private_advertised; /* a private or loopback advertised IP (labs only) */
	bool strict_source;          /* legacy legs: latch only on the SDP address */
	bool adopt_new_source;       /* after latching, follow a new source: false */
	uint32_t adopt_packets;      /* consecutive in-sequence packets to adopt: 5 */
	uint16_t adopt_max_seq_gap;  /* "continuing": 1 <= seq - previous <= this: 3 */
	uint32_t prefer_sdp_ms;      /* a latch off the SDP address is provisional: 2000 */
	uint32_t media_timeout_ms;   /* no media from either leg: 60000 */
	bool send_to_private_sdp;    /* before latching, send to a private SDP address: false */
	const char *software;        /* SOFTWARE in ICE responses; NULL: none */
	/* Force-relay (issue #8 §4): our TURN server (UDP) and its long-term
	 * credentials, used by every leg with leg_config.force_relay. The
	 * strings must outlive the session. */
	il_addr turn_server;
	const char *turn_username, *turn_password;
} il_sbc_config;

void il_sbc_config_defaults(il_sbc_config *cfg);

/* The bridge's side of one leg. */
typedef struct il_sbc_leg_config {
	il_addr bind;                /* the local RTP address (IP and port); RTCP on port + 1 */
	bool ice;                    /* offers toward this leg carry ICE-lite */
	bool rtcp_mux;               /* offers toward this leg carry a=rtcp-mux */
	int profile;                 /* enum il_sbc_profile offered toward this leg */
	/* Force-relay (sbc_relay.h): this ICE leg offers only a candidate
	 * relayed by cfg.turn_server, all its traffic goes through it; needs
	 * ice, and forces rtcp-mux. Set it from il_sbc_policy_force_relay. */
	bool force_relay;
} il_sbc_leg_config;

enum il_sbc_event_type {
	IL_SBC_EV_LATCHED = 1,       /* leg, component, addr (learnt), ssrc; previous: a
	                                provisional latch replaced by the SDP address */
	IL_SBC_EV_SOURCE_ADOPTED,    /* leg, component, addr (new), previous, ssrc */
	IL_SBC_EV_ICE_SELECTED,      /* leg, component, addr (the pair's remote), types */
	IL_SBC_EV_MEDIA_CONNECTED,   /* media forwarded both ways; text: the pair@connected line */
	IL_SBC_EV_DROPPED,           /* leg, component, reason, addr (the sender) */
	IL_SBC_EV_TIMEOUT,           /* no media for media_timeout_ms: the session ended */
	IL_SBC_EV_DTLS_CONNECTED,    /* leg; text: role and SRTP profile (RFC 5764 §4.1.2) */
	IL_SBC_EV_DTLS_FAILED,       /* leg, addr; text: why (fingerprint mismatch, alert) */
	IL_SBC_EV_SRTP_MISMATCH,     /* leg, addr: many packets failed authentication and
	                                none passed: the keys differ (reported once) */
	IL_SBC_EV_RELAY_READY,       /* leg, addr (the relayed address): offers may go */
	IL_SBC_EV_RELAY_FAILED,      /* leg, text: allocation failed or lost (no fall-back) */
};
const char *il_sbc_event_name(int type);

typedef struct il_sbc_event {
	int type;
	unsigned leg;
	unsigned component;          /* 1 RTP, 2 RTCP (on its own port) */
	int reason;                  /* DROPPED: enum il_sbc_drop */
	il_addr addr, previous;
	uint32_t ssrc;
	int local_type, remote_type; /* ICE_SELECTED: enum il_ice_candidate_type */
	const char *text;            /* MEDIA_CONNECTED; valid during the callback only */
} il_sbc_event;

typedef struct il_sbc_callbacks {
	void *user;
	void (*random)(void *user, uint8_t *out, size_t len);
	/* A datagram to remote, from the local address (one of the legs' binds). */
	void (*send)(void *user, const il_addr *local, const il_addr *remote, const uint8_t *data,
		     size_t len);
	void (*event)(void *user, const il_sbc_event *ev);  /* may be NULL */
} il_sbc_callbacks;

enum il_sbc_state {
	IL_SBC_STATE_NEW = 0,
	IL_SBC_STATE_OFFERED,        /* an offer went through */
	IL_SBC_STATE_ANSWERED,       /* the answer came back: media may flow */
	IL_SBC_STATE_CONNECTED,      /* media forwarded both ways */
	IL_SBC_STATE_ENDED,          /* media timeout */
};
const char *il_sbc_state_name(int state);

/* What il_sbc_session_handle_datagram did. */
enum il_sbc_datagram {
	IL_SBC_DGRAM_DROPPED = 0,
	IL_SBC_DGRAM_STUN = 1,       /* handled by the ICE-lite agent */
	IL_SBC_DGRAM_FORWARDED = 2,  /* RTP or RTCP sent on the other leg */
	IL_SBC_DGRAM_DTLS = 3,       /* handled by the leg's DTLS-SRTP endpoint */
	IL_SBC_DGRAM_RELAY = 4,      /* TURN traffic of a force-relay leg's allocation */
};

/* One leg's view (the `query` of issue #8 §5). rx: from the leg's peer
 * into the bridge; tx: from the bridge to the leg's peer. */
typedef struct il_sbc_leg_stats {
	bool negotiated;             /* the peer's SDP is known */
	bool ice;                    /* the leg speaks ICE (ICE-lite on our side) */
	int ice_state;               /* enum il_ice_state when ice */
	bool rtcp_mux;
	il_addr advertised;          /* our public RTP address toward this leg */
	il_addr sdp_rtp, sdp_rtcp;   /* the peer's, from its SDP */
	bool latched[2];             /* legacy: RTP, RTCP sources learnt */
	il_addr source[2];           /* legacy: the latched sources */
	uint32_t ssrc;               /* legacy: the learnt SSRC */
	bool has_selected;           /* ICE: a selected pair for RTP */
	il_addr selected_remote;
	int selected_remote_type;
	uint64_t rx_packets, rx_bytes, rx_rtcp;
	uint64_t tx_packets, tx_bytes, tx_rtcp;
	uint64_t stun_in;
	uint64_t adoptions;
	uint64_t dropped[IL_SBC_DROP_COUNT];
	uint64_t last_rx_ms;         /* last accepted media; 0 when none */
	int profile;                 /* enum il_sbc_profile negotiated on this leg */
	bool srtp_rx, srtp_tx;       /* SRTP keys in place for each direction */
	int dtls_state;              /* enum il_sbc_dtls_state */
	uint64_t srtp_unprotected, srtp_protected;
	/* Force-relay: advertised is then the relayed address. */
	bool force_relay;
	int relay_state;             /* enum il_sbc_relay_state (sbc_relay.h) */
	il_addr relayed;
	uint64_t relay_permissions, relay_channels; /* installed (confirmed) */
	uint64_t relay_unsent;       /* to a peer without a permission yet */
} il_sbc_leg_stats;

typedef struct il_sbc_session il_sbc_session;

/* A session with its two legs' local ports. NULL with *err set: a private
 * or loopback advertised address without allow_private_advertised
 * (IL_SBC_ERR_PRIVATE), a missing callback or bind (IL_SBC_ERR_ARGUMENT). */
il_sbc_session *il_sbc_session_new(const il_sbc_config *cfg, const il_sbc_leg_config *leg_a,
				   const il_sbc_leg_config *leg_b, const il_sbc_callbacks *cb,
				   uint64_t now_ms, int *err);
void il_sbc_session_free(il_sbc_session *s);

/* An offer from leg `from`: becomes that leg's remote SDP; writes the
 * offer for the other leg into out (NUL-terminated). Returns its length
 * or an enum il_sbc_err (err, may be NULL, says why for IL_SBC_ERR_SDP).
 * A new offer from the same leg is a re-offer (an ICE restart when the
 * credentials changed). */
int il_sbc_session_offer(il_sbc_session *s, unsigned from, const char *sdp, size_t len, char *out,
			 size_t cap, uint64_t now_ms, il_sdp_error *err);
/* The answer from leg `from` (the leg the last offer went to): writes the
 * answer for the offerer's leg. */
int il_sbc_session_answer(il_sbc_session *s, unsigned from, const char *sdp, size_t len,
			  char *out, size_t cap, uint64_t now_ms, il_sdp_error *err);

/* True when local is one of the session's bound addresses. */
bool il_sbc_session_owns(const il_sbc_session *s, const il_addr *local);
/* A datagram that arrived on local (a leg's RTP or RTCP bind) from remote.
 * Returns enum il_sbc_datagram. */
int il_sbc_session_handle_datagram(il_sbc_session *s, const il_addr *local, const il_addr *remote,
				   const uint8_t *data, size_t len, uint64_t now_ms);
void il_sbc_session_timer(il_sbc_session *s, uint64_t now_ms);
/* UINT64_MAX when nothing is scheduled. */
uint64_t il_sbc_session_next_deadline(const il_sbc_session *s);

int il_sbc_session_state(const il_sbc_session *s);
int il_sbc_session_get_leg(const il_sbc_session *s, unsigned leg, il_sbc_leg_stats *out);
/* The ICE-lite agent of a leg, NULL on a legacy leg (tests, statistics). */
il_ice_agent *il_sbc_session_ice_agent(il_sbc_session *s, unsigned leg);
/* The "pair@connected ..." line: per leg the local and remote candidate
 * types and addresses, then packets and bytes per direction. Returns the
 * length, or -1 when out is too small. */
int il_sbc_session_format_connected(const il_sbc_session *s, char *out, size_t cap);

/* ---- Offer/answer rewrite (ref/sbc/sdp_rewrite.c) ---- */

#define IL_SBC_MAX_FORBIDDEN 16

typedef struct il_sbc_sdp_params {
	il_addr advertised;          /* the public IP (port ignored) */
	bool allow_private;          /* allow a private or loopback advertised IP */
	uint16_t port;               /* our RTP port for the bridged section; RTCP port + 1 */
	int media;                   /* the bridged section (index); every other gets port 0 */
	bool ice;                    /* add ICE-lite (else strip every ICE attribute) */
	const char *ufrag, *pwd;     /* ice: our credentials */
	bool rtcp_mux;               /* add a=rtcp-mux (else strip it) */
	/* IPs that must not cross (the peer's own addresses, our binds):
	 * an attribute line naming one is dropped (s= becomes "s=-"). */
	il_addr forbidden[IL_SBC_MAX_FORBIDDEN];
	size_t forbidden_count;
	/* ice: the candidate is typ relay on advertised:port (force-relay),
	 * raddr 0.0.0.0 rport 0, instead of typ host. */
	bool relay;
} il_sbc_sdp_params;

/* True when ip may be advertised: public, or allow_private. */
bool il_sbc_advertised_ok(const il_addr *ip, bool allow_private);
/* The first media section an SBC bridges (RTP over UDP, port not 0), or -1. */
int il_sbc_sdp_bridged_media(const il_sdp_session *s);
/* Rewrites s in place for the other leg. IL_SBC_OK, IL_SBC_ERR_PRIVATE,
 * IL_SBC_ERR_ARGUMENT. */
int il_sbc_sdp_rewrite(il_sdp_session *s, const il_sbc_sdp_params *rw);
/* The 1-based line of text (SDP, len bytes) that names ip as a token,
 * or 0 when none does. */
unsigned il_sbc_sdp_find_ip(const char *text, size_t len, const il_addr *ip);

/* ---- SRTP, DTLS-SRTP and the SDP crypto translation (ref/sbc/srtp.c,
 * dtls.c, sdp_crypto.c) ----
 *
 * Each leg has its own media profile and its own keys: the bridge
 * terminates SRTP on every leg that speaks it and the peer's a=crypto or
 * a=fingerprint never crosses to the other leg (each leg gets ours).
 * SDES (RFC 4568): AES_CM_128_HMAC_SHA1_80 and _32 (offered, in that
 * order) and AEAD_AES_128_GCM (RFC 7714, accepted); our keys come from
 * cb->random. DTLS-SRTP (RFC 5763, 5764): a self-signed P-256
 * certificate per session, a=fingerprint sha-256, the peer's certificate
 * checked against its a=fingerprint, keys from "EXTRACTOR-dtls_srtp".
 * An SRTP leg authenticates every packet before any latching or source
 * decision: a packet that fails is dropped (srtp-auth, srtp-replay). */
enum il_sbc_profile {
	IL_SBC_PROFILE_SAME = 0,     /* offer what the offering leg speaks */
	IL_SBC_PROFILE_RTP,          /* RTP/AVP, plain */
	IL_SBC_PROFILE_SDES,         /* RTP/SAVP with a=crypto */
	IL_SBC_PROFILE_DTLS,         /* UDP/TLS/RTP/SAVPF with a=fingerprint, a=setup */
};
/* "same", "rtp", "sdes", "dtls" */
const char *il_sbc_profile_name(int profile);
/* From the names above, or rtpengine's transport-protocol values
 * ("RTP/AVP", "RTP/SAVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVP",
 * "UDP/TLS/RTP/SAVPF", "RTP/AVPF"); -1 when unknown. */
int il_sbc_profile_parse(const char *text);

enum il_sbc_dtls_state {
	IL_SBC_DTLS_NONE = 0,        /* not a DTLS-SRTP leg */
	IL_SBC_DTLS_WAITING,         /* client: waiting for somewhere to send */
	IL_SBC_DTLS_HANDSHAKING,
	IL_SBC_DTLS_CONNECTED,       /* SRTP keys exported */
	IL_SBC_DTLS_FAILED,          /* no media on this leg */
};
const char *il_sbc_dtls_state_name(int state);

/* One direction of SRTP and SRTCP (RFC 3711) as the bridge runs it
 * (libsrtp2), for the far ends that the simulator and the fuzzers play.
 * suite: the SDES name ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32",
 * "AEAD_AES_128_GCM"); key: master key || salt (30 or 28 bytes). NULL
 * when the suite is unknown or this libsrtp2 cannot run it. */
typedef struct il_sbc_srtp il_sbc_srtp;
#define IL_SBC_SRTP_MAX_TRAILER 144 /* what protect may add (tag and MKI) */
enum il_sbc_srtp_result { IL_SBC_SRTP_OK = 0, IL_SBC_SRTP_AUTH, IL_SBC_SRTP_REPLAY, IL_SBC_SRTP_ERROR };
il_sbc_srtp *il_sbc_srtp_new(const char *suite, const uint8_t *key, bool inbound);
void il_sbc_srtp_free(il_sbc_srtp *x);
/* In place; protect needs cap >= *len + IL_SBC_SRTP_MAX_TRAILER. */
int il_sbc_srtp_protect(il_sbc_srtp *x, bool rtcp, uint8_t *buf, size_t *len, size_t cap);
int il_sbc_srtp_unprotect(il_sbc_srtp *x, bool rtcp, uint8_t *buf, size_t *len);

#endif
