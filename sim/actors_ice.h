/* An ICE endpoint on a simulated host: the ICE agent core (ice.h) with its
 * gatherer (ice_gather.h) — host candidate from the host's socket,
 * server-reflexive through STUN, relayed through TURN over UDP or TCP —
 * and an out-of-band signalling channel to one peer with a one-way delay:
 * credentials first, then every candidate as it is gathered (trickle,
 * RFC 8838), then end-of-candidates. The agent starts its checks when the
 * peer's credentials arrive. */
#ifndef ICELAB_SIM_ACTORS_ICE_H
#define ICELAB_SIM_ACTORS_ICE_H

#include "icelab/ice.h"
#include "icelab/ice_gather.h"
#include "icelab/sim.h"

typedef struct sim_ice_opts {
	const char *name;
	bool controlling;
	int policy;                  /* enum il_ice_gather_policy */
	bool has_stun, has_turn;
	il_addr stun, turn;          /* servers (UDP port; TCP uses turn_tcp_port) */
	int turn_transport;          /* enum il_ice_server_transport */
	uint16_t turn_tcp_port;      /* 443 */
	uint32_t signal_delay_ms;    /* one way: 50 */
	/* ICE restart when the selected pair loses consent (RFC 7675 §5.1):
	 * the controlling side restarts and gathers again (RFC 8445 §9). */
	bool restart_on_consent_loss;
	bool lite;                   /* an ICE-lite agent (RFC 8445 §2.7): answers, never checks */
	bool remote_lite;            /* the peer is ICE-lite (its a=ice-lite): we control (§6.1.1) */
	/* Late trickle (RFC 8838): our server-reflexive candidates, and what
	 * we signal after them (FIFO kept), reach the peer this much later. */
	uint32_t srflx_signal_delay_ms;
} sim_ice_opts;

void sim_ice_opts_defaults(sim_ice_opts *o);

typedef struct sim_ice_state {
	int state;                   /* enum il_ice_state, last seen */
	bool connected, failed;
	uint64_t started_us, connected_us, completed_us, failed_us;
	bool has_selected;
	il_ice_pair_stats selected;  /* last selected pair (at the event) */
	uint32_t selected_changes;
	bool consent_lost;
	uint64_t consent_lost_us;
	uint32_t restarts;
	uint64_t restart_selected_us; /* a new pair selected after the last restart */
	uint64_t restart_done_us;     /* RESTART_DONE: media moved to the new pairs */
	uint32_t media_received;
	il_ice_counters counters;
	il_ice_gather_stats gather;
} sim_ice_state;

typedef struct sim_ice sim_ice;

sim_ice *sim_ice_new(il_sim *sim, int host, const sim_ice_opts *o);
void sim_ice_free(sim_ice *e);
/* The signalling channel between two endpoints (both ways). */
void sim_ice_pair_with(sim_ice *a, sim_ice *b);
/* Sends the offer (credentials), starts gathering. */
int sim_ice_start(sim_ice *e);
/* ICE restart now: new credentials to the peer, gathering again. */
int sim_ice_restart(sim_ice *e);
/* One datagram of media on the selected pair. */
int sim_ice_send_media(sim_ice *e);
/* Counters refreshed from the agent and gatherer. */
const sim_ice_state *sim_ice_get_state(sim_ice *e);
il_ice_agent *sim_ice_agent(sim_ice *e);
const il_addr *sim_ice_host_addr(const sim_ice *e);

#endif
