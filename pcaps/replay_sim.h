/* `icelab pcap replay FILE --sim PRESET-A,PRESET-B` (issue #7 §5): the ICE
 * negotiation of a capture, re-run through the NAT simulator with two
 * reference ICE agents (sim/matrix_ice.c) behind other NAT presets,
 * answering "would this call have connected behind these NATs?".
 *
 * From the capture (pcaps/ analysis): the first ICE session (the ufrag
 * pair of its first connectivity check), its controlling and controlled
 * transport addresses, the pairs checked and how they ended, the pair
 * selected (nominated, else the first that succeeded) and the time from
 * the first check to it; from the SDP of a SIP call naming those
 * addresses, each side's ice-ufrag and candidate types. What the sim is
 * given: the controlling side behind PRESET-A, the controlled one behind
 * PRESET-B; TURN when the capture relayed (a TURN allocation, a relayed
 * pair or a relay candidate; over TCP when that was TCP); relay-only
 * gathering for a side that offered relay candidates only; the one-way
 * signalling delay as half the offer-to-answer time (else 50 ms). */
#ifndef ICELAB_PCAPS_REPLAY_SIM_H
#define ICELAB_PCAPS_REPLAY_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "icelab/addr.h"
#include "pcaps.h"

#define IL_SIM_REPLAY_MAX_CELLS 100  /* --sim all: presets x presets, bounded */

typedef struct il_sim_replay_capture {
	char username[64];          /* of the controlling side's checks, "RFRAG:LFRAG" */
	il_addr controlling, controlled;
	bool roles_known;           /* ICE-CONTROLLING/-CONTROLLED seen */
	uint64_t first_check_frame;
	size_t pairs, succeeded, no_response, err401, err487, err_other, pending;
	bool connected, nominated, relayed;
	il_addr sel_local, sel_remote;
	double connect_ms;          /* first check to the selected pair's success */
	char cand[2][40];           /* candidate types per side: "host+srflx (SDP)", ... */
	char ufrag[2][24];          /* from SDP, "" when none */
	int mode;                   /* enum il_sim_ice_mode given to the sim */
	int policy[2];              /* enum il_ice_gather_policy */
	uint32_t signal_delay_ms;
	bool delay_from_sdp;
} il_sim_replay_capture;

/* The ICE negotiation of a finished analysis; -1 when it has none. */
int il_sim_replay_extract(const il_pcap_analysis *a, il_sim_replay_capture *out);

/* "A,B" (a preset may carry knobs: "symmetric,hairpin=off,full-cone")
 * or "all": the pairs to run, as presets[2*i], presets[2*i+1] in
 * caller-freed strings; the count, or -1 with err. */
int il_sim_replay_parse_presets(const char *spec, char ***pairs, char *err, size_t errlen);
void il_sim_replay_free_presets(char **pairs, int n);

/* Runs every pair and writes the comparison, text or JSON (json non-NULL:
 * filled, nothing printed). 0, or -1 with err (a preset the simulator
 * refuses). */
int il_sim_replay_run(const il_sim_replay_capture *cap, char **pairs, int n, uint64_t seed,
		      FILE *out, json_t *json, char *err, size_t errlen);

#endif
