/* Force-relay for the SBC media bridge (issue #8 §4): an ICE leg that
 * offers only a candidate relayed by our TURN server, so every packet of
 * the call toward that leg takes the auditable relay path; and the
 * policy that decides it per session, per user and per tenant.
 *
 * The mechanics (ref/sbc/relay.c), per leg with leg_config.force_relay:
 * - il_sbc_session_new starts an allocation (RFC 8656 §7, long-term
 *   credentials of RFC 8489 §9.2) on cfg.turn_server from the leg's bind
 *   address with the TURN client core (turn_client.h); IL_SBC_EV_RELAY_READY
 *   or IL_SBC_EV_RELAY_FAILED follows;
 * - an offer or answer toward the leg before then returns
 *   IL_SBC_ERR_RELAY_PENDING (offer again after RELAY_READY); after a
 *   failure, IL_SBC_ERR_RELAY: never a host candidate instead;
 * - the SDP toward the leg carries c=, o= and m= on the relayed address
 *   and one candidate, typ relay (raddr 0.0.0.0 rport 0: our own
 *   addresses stay private), ICE-lite, rtcp-mux;
 * - the peer's SDP candidates and c= address get permissions (§9), one
 *   request per IP so a refused one does not sink the others; private
 *   and loopback IPs are skipped (a public relay cannot reach them)
 *   unless cfg.allow_private_advertised (labs); the ICE-lite agent's only local candidate is the relayed
 *   one, so checks arrive through the relay (Data indications or
 *   ChannelData) and are answered through it; the selected pair gets a
 *   channel (§12) and media then flows as ChannelData;
 * - on the leg's port only our TURN server is heard (anything else is
 *   IL_SBC_DROP_NOT_RELAYED), and the bridge sends to nothing else from
 *   it; the allocation, permissions and channel are refreshed by the
 *   session's timer (il_sbc_session_next_deadline).
 *
 * The policy (ref/sbc/relay_policy.c) is a list of rules read from lines
 *     force-relay tenant=acme
 *     force-relay user=alice
 *     no-force-relay user=bob
 * ('#' starts a comment). The decision for a call: the session's own flag
 * when set (the ng protocol's ICE=force-relay), else the user's rule,
 * else the tenant's rule, else off: the most specific wins. A later rule
 * for the same user or tenant replaces an earlier one. */
#ifndef ICELAB_SBC_RELAY_H
#define ICELAB_SBC_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "icelab/sbc.h"

enum il_sbc_relay_state {
	IL_SBC_RELAY_OFF = 0,        /* not a force-relay leg */
	IL_SBC_RELAY_ALLOCATING,
	IL_SBC_RELAY_READY,
	IL_SBC_RELAY_FAILED,         /* failed or lost: the leg carries no media */
};
const char *il_sbc_relay_state_name(int state); /* "off", "allocating", "ready", "failed" */

/* Why a force-relay leg failed ("" when it did not): one line, e.g.
 * "TURN allocation failed: error-response 401 Unauthorized". */
const char *il_sbc_session_relay_error(const il_sbc_session *s, unsigned leg);

/* ---- policy ---- */

#define IL_SBC_POLICY_NAME_MAX 64    /* user and tenant names: [A-Za-z0-9._@+-] */

typedef struct il_sbc_policy il_sbc_policy;

il_sbc_policy *il_sbc_policy_new(void);
void il_sbc_policy_free(il_sbc_policy *p);
/* One line; blank and comment lines are accepted and ignored. 0, or -1
 * with err (may be NULL) saying what is wrong. */
int il_sbc_policy_add_line(il_sbc_policy *p, const char *line, char *err, size_t errlen);
/* Several lines (a config file's text). On error nothing is kept from
 * text, and err names the line ("line 3: ..."). */
int il_sbc_policy_load(il_sbc_policy *p, const char *text, char *err, size_t errlen);
size_t il_sbc_policy_rule_count(const il_sbc_policy *p);

enum il_sbc_relay_flag {
	IL_SBC_RELAY_FLAG_UNSET = -1, /* the session says nothing: the rules decide */
	IL_SBC_RELAY_FLAG_OFF = 0,
	IL_SBC_RELAY_FLAG_ON = 1,     /* e.g. ng "ICE": "force-relay" */
};

/* The session flag from the value of rtpengine's ng "ICE" key (what a
 * SIP proxy's rtpengine module sends): "force-relay" is ON; anything
 * else (NULL, "force", "remove", "default", "optional") says nothing
 * about relaying: UNSET. */
int il_sbc_relay_flag_from_ng(const char *ice_value);

/* Whether a call's ICE leg is force-relayed. tenant and user may be NULL
 * (unknown). why (may be NULL) gets "session", "user", "tenant" or
 * "default": which level decided. p may be NULL (no rules). */
bool il_sbc_policy_force_relay(const il_sbc_policy *p, const char *tenant, const char *user,
			       int session_flag, const char **why);

#endif
