/* Actors: the protocol cores of ref/ running unchanged on simulated hosts.
 * sim_server: the TURN server core (with its STUN Binding server) on UDP
 * 3478 and TCP 3478 and 443. sim_peer: an endpoint that learns its
 * server-reflexive address with a Binding transaction (stun_client.h),
 * allocates with the TURN client core (turn_client.h) over UDP or TCP,
 * and probes a remote address (direct or through its relay), answering
 * every probe to where it came from (the peer-reflexive path). */
#ifndef ICELAB_SIM_ACTORS_H
#define ICELAB_SIM_ACTORS_H

#include "icelab/sim.h"

#define SIM_TURN_USER "sim"
#define SIM_TURN_PASSWORD "sim"
#define SIM_TURN_REALM "icelab.sim"

typedef struct sim_server sim_server;
sim_server *sim_server_new(il_sim *sim, int host);
/* With RFC 5780 behaviour discovery: A1 is the host's first address,
 * other_ip (another address of the host) A2; ports 3478 and 3479. */
sim_server *sim_server_new_rfc5780(il_sim *sim, int host, const il_addr *other_ip);
void sim_server_free(sim_server *s);
const il_addr *sim_server_addr(const sim_server *s);

enum sim_peer_mode { SIM_PEER_DIRECT = 0, SIM_PEER_TURN_UDP, SIM_PEER_TURN_TCP };

typedef struct sim_peer_state {
	bool binding_done, have_srflx;
	il_addr host, srflx;
	bool allocated, alloc_failed, permitted;
	il_addr relayed;
	bool connected;          /* got an answer to one of its probes */
	uint64_t connected_us, first_rx_us;
	uint32_t sent, received; /* datagrams or stream writes sent / probes received */
} sim_peer_state;

typedef struct sim_peer sim_peer;
sim_peer *sim_peer_new(il_sim *sim, int host, const char *name);
void sim_peer_free(sim_peer *p);
/* Binding request to server (UDP 3478). */
void sim_peer_start_binding(sim_peer *p, const il_addr *server);
/* Allocation on server: UDP 3478, or TCP 443. */
void sim_peer_start_turn(sim_peer *p, const il_addr *server, bool tcp);
/* Permission for the remote's relayed address (TURN modes). */
void sim_peer_permit(sim_peer *p, const il_addr *remote);
/* Starts probing remote every interval_ms, at most count times. */
void sim_peer_probe(sim_peer *p, const il_addr *remote, uint32_t interval_ms, uint32_t count);
const sim_peer_state *sim_peer_get_state(const sim_peer *p);

#endif
