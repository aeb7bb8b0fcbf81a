/* ICE across the simulator's NAT presets (issue #4 §2, issue #5 §4): two
 * full ICE agents with gathering (ice_gather.h), alice controlling behind
 * the left preset and bob controlled behind the right one, each with its
 * own STUN/TURN server, candidates trickled over a signalling channel.
 * `icelab sim matrix` prints this matrix (sim/matrix_ice.c). */
#ifndef ICELAB_SIM_ICE_H
#define ICELAB_SIM_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum il_sim_ice_mode {
	IL_SIM_ICE_NO_TURN = 0,  /* host and server-reflexive candidates */
	IL_SIM_ICE_TURN_UDP,     /* ... and relayed, TURN over UDP 3478 */
	IL_SIM_ICE_TURN_TCP,     /* ... and relayed, TURN over TCP 443 */
	IL_SIM_ICE_MODE_COUNT,
};
const char *il_sim_ice_mode_name(int mode); /* "no-turn", "turn-udp", "turn-tcp" */

/* What a cell connects through, by the controlling agent's selected pair. */
enum il_sim_ice_outcome {
	IL_SIM_ICE_FAILED = 0,   /* no pair selected on both sides */
	IL_SIM_ICE_HOST,         /* host to host */
	IL_SIM_ICE_DIRECT,       /* no relay: srflx or prflx on one side at least */
	IL_SIM_ICE_RELAY,        /* a relayed candidate on one side at least */
};
const char *il_sim_ice_outcome_name(int outcome); /* "failed", "host", "direct", "relay" */

typedef struct il_sim_ice_opts {
	int mode;                /* enum il_sim_ice_mode */
	int policy[2];           /* enum il_ice_gather_policy, alice and bob */
	uint32_t signal_delay_ms;/* one way; 0: 50 */
	const char *pcap_path;   /* merged capture, or NULL */
} il_sim_ice_opts;

typedef struct il_sim_ice_result {
	int outcome, expected;   /* enum il_sim_ice_outcome */
	int local_type, remote_type; /* alice's selected pair (enum il_ice_candidate_type) */
	uint64_t time_ms;        /* virtual ms until both agents were connected */
	uint32_t checks;         /* connectivity check requests both agents sent */
	uint32_t packets;        /* datagrams on every link (pcap view) */
	bool media;              /* media went both ways on the selected pair */
	char detail[96];
} il_sim_ice_result;

/* One cell. 0, or -1 with err (bad preset, cannot build). */
int il_sim_ice_pair_run(const char *left, const char *right, const il_sim_ice_opts *o,
			uint64_t seed, il_sim_ice_result *out, char *err, size_t err_len);
/* The expected outcome from RFC 8445 and RFC 4787 (sim/matrix_ice.c). */
int il_sim_ice_pair_expected(const char *left, const char *right, int mode);

/* ICE restart after a NAT reboot (issue #5 §4): the cell connects, alice's
 * NAT drops every mapping at flush_at_ms, both sides lose consent
 * (RFC 7675 §5.1: no response for 30 s), alice restarts ICE (RFC 8445 §9)
 * and gathers again, bob answers, a new pair is selected. */
typedef struct il_sim_ice_restart_result {
	bool connected;              /* before the flush */
	int before_local, before_remote;   /* alice's selected pair types */
	bool consent_lost;
	uint64_t consent_lost_ms;    /* after the flush */
	bool restarted, recovered;   /* RESTART_DONE on both sides, media both ways */
	uint64_t recovery_ms;        /* flush to both RESTART_DONE */
	int after_local, after_remote;
	bool new_pair;               /* alice's local address changed */
	uint32_t checks;             /* check requests both sent, whole run */
} il_sim_ice_restart_result;

int il_sim_ice_restart_run(const char *left, const char *right, int mode, uint64_t seed,
			   uint64_t flush_at_ms, il_sim_ice_restart_result *out, char *err,
			   size_t err_len);

typedef struct il_sim_ice_matrix {
	size_t preset_count;
	const char *const *presets;
	il_sim_ice_result *cells; /* [mode][left][right] */
	size_t mismatches;
	uint64_t wall_us;
} il_sim_ice_matrix;

int il_sim_ice_matrix_run(uint64_t seed, il_sim_ice_matrix *m);
void il_sim_ice_matrix_free(il_sim_ice_matrix *m);
il_sim_ice_result *il_sim_ice_matrix_cell(const il_sim_ice_matrix *m, int mode, size_t l,
					  size_t r);
void il_sim_ice_matrix_print(const il_sim_ice_matrix *m, FILE *out);
/* JSON, temp file + rename. 0, or -1 with errno. */
int il_sim_ice_matrix_write_json(const il_sim_ice_matrix *m, uint64_t seed, const char *path);

#endif
