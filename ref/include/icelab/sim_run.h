/* Running the simulator: scenario files and the preset matrix (issue #4
 * §2). `icelab sim` (cli/sim_cmd.c) is a thin layer over these. */
#ifndef ICELAB_SIM_RUN_H
#define ICELAB_SIM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "icelab/nat_discovery.h"

/* ---- The matrix: two endpoints, one behind each preset. ---- */

enum il_sim_matrix_mode {
	IL_SIM_MODE_DIRECT = 0, /* STUN Binding, exchange srflx, both probe (hole punching) */
	IL_SIM_MODE_TURN_UDP,   /* both allocate over UDP and probe relay to relay */
	IL_SIM_MODE_TURN_TCP,   /* both allocate over TCP (port 443) */
	IL_SIM_MODE_COUNT,
};
const char *il_sim_mode_name(int mode);

typedef struct il_sim_pair_result {
	bool ok;               /* both sides got an answer to a probe */
	bool expected;         /* what RFC 4787 says should happen */
	uint64_t time_ms;      /* virtual time until both sides had an answer */
	uint32_t packets;      /* datagrams (and stream writes) the two sent */
	char detail[96];       /* why not, when not */
} il_sim_pair_result;

/* One cell: left and right are preset names or custom descriptions.
 * pcap_path non-NULL writes the merged capture. 0, or -1 with err. */
int il_sim_pair_run(const char *left, const char *right, int mode, uint64_t seed,
		    const char *pcap_path, il_sim_pair_result *out, char *err, size_t err_len);

/* The expected outcome, from RFC 4787 reasoning on the presets' mapping
 * and filtering (sim/matrix.c explains it). */
bool il_sim_pair_expected(const char *left, const char *right, int mode);

typedef struct il_sim_matrix {
	size_t preset_count;
	const char *const *presets;
	il_sim_pair_result *cells; /* [mode][left][right] */
	size_t mismatches;
	uint64_t wall_us;
} il_sim_matrix;

/* Runs every preset pair in every mode. 0 or -1. */
int il_sim_matrix_run(uint64_t seed, il_sim_matrix *m);
void il_sim_matrix_free(il_sim_matrix *m);
il_sim_pair_result *il_sim_matrix_cell(const il_sim_matrix *m, int mode, size_t l, size_t r);
void il_sim_matrix_print(const il_sim_matrix *m, FILE *out);
/* Writes the JSON (temp file + rename). 0, or -1 with errno. */
int il_sim_matrix_write_json(const il_sim_matrix *m, uint64_t seed, const char *path);
/* matrix.html from a matrix.json of either form (reachability or ICE):
 * one self-contained page (sim/matrix_html.c), temp file and rename.
 * 0, or -1 with errno. */
int il_sim_matrix_write_html(const char *json_path, const char *html_path);

/* ---- RFC 5780 behaviour discovery behind a NAT (sim/discovery.c). ---- */

typedef struct il_sim_discovery_opts {
	uint64_t seed;
	bool hairpin;                   /* run the hairpinning test (default) */
	bool no_rfc5780;                /* the server without OTHER-ADDRESS */
	uint32_t lifetime_max_ms;       /* §4.6 search up to this; 0: skip */
	uint32_t lifetime_resolution_ms;/* 0: 1 s */
	const char *pcap_path;          /* NULL: no capture */
} il_sim_discovery_opts;

void il_sim_discovery_opts_defaults(il_sim_discovery_opts *o);

/* Runs the discovery core on a host behind nat_desc (a preset or knob
 * list, as for the matrix) against the simulated server with A1
 * 192.0.2.1:3478 and A2 192.0.2.129:3479. opts NULL: defaults. 0 with
 * *out filled, or -1 with err. */
int il_sim_discover(const char *nat_desc, const il_sim_discovery_opts *opts,
		    il_natd_result *out, char *err, size_t err_len);

/* ---- Scenario files (sim/README.md). ---- */

typedef struct il_sim_scenario_opts {
	uint64_t seed;         /* used when has_seed, else the file's, else 1 */
	bool has_seed;
	const char *pcap_path; /* NULL: none (or the file's "pcap") */
	bool pcap_per_link;
	FILE *log;             /* what happened, line by line; NULL: silent */
} il_sim_scenario_opts;

typedef struct il_sim_scenario_result {
	size_t expectations, failed;
	uint64_t packets, virtual_ms;
} il_sim_scenario_result;

/* Loads and runs a scenario. Returns 0 when it ran (result says whether
 * the expectations held), -1 on a bad file with one line in err:
 * "FILE:LINE:COL: ..." for JSON syntax, "FILE: $.path: ..." otherwise. */
int il_sim_scenario_run(const char *path, const il_sim_scenario_opts *opts,
			il_sim_scenario_result *res, char *err, size_t err_len);

#endif
