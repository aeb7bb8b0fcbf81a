/* icelab: one binary, many verbs (ARCHITECTURE.md "One command, many
 * verbs"). main() only dispatches; each verb parses its own flags. */
#include "check_cmd.h"
#include "cli.h"
#include "pcap_cmd.h"
#include "probe_cmd.h"
#include "serve_cmd.h"
#include "sim_cmd.h"

#include <string.h>

typedef struct verb {
	const char *name;
	int (*run)(int argc, char **argv); /* NULL: not implemented yet */
	const char *summary;
} verb;

static const verb verbs[] = {
	{"serve", il_cmd_serve, "the reference STUN/TURN server"},
	{"probe", il_cmd_probe, "STUN client: binding, NAT behaviour discovery, TURN allocate"},
	{"check", il_cmd_check, "run conformance suites against a target, write reports"},
	{"sim", il_cmd_sim, "run NAT-simulator scenarios and matrices"},
	{"pcap", il_cmd_pcap, "analyse and replay captures"},
	{"stun", cmd_stun, "decode / encode / verify single STUN messages"},
	{"ng", il_cmd_ng, "send one rtpengine ng command (to serve --sbc) and print the reply"},
};

static void usage(FILE *f)
{
	fputs("usage: icelab <verb> [options]\n"
	      "       icelab --help | --version\n"
	      "\n"
	      "A reference STUN/ICE/TURN implementation and conformance harness.\n"
	      "\n"
	      "verbs:\n",
	      f);
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		fprintf(f, "  %-7s %s%s\n", verbs[i].name, verbs[i].summary,
			verbs[i].run ? "" : " (not implemented yet)");
	fputs("\n"
	      "`icelab <verb> --help` describes a verb. Exit status: 0 success,\n"
	      "1 a failed check, 2 bad usage or a harness error.\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0 ||
	    strcmp(name, "version") == 0) {
		printf("icelab %s\n", ICELAB_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strcmp(name, verbs[i].name) != 0)
			continue;
		if (!verbs[i].run) {
			fprintf(stderr, "icelab %s: not implemented yet\n", name);
			return CLI_USAGE;
		}
		return verbs[i].run(argc - 1, argv + 1);
	}
	if (name[0] == '-')
		fprintf(stderr, "icelab: unknown option '%s' (see icelab --help)\n", name);
	else
		fprintf(stderr, "icelab: unknown verb '%s' (see icelab --help)\n", name);
	return CLI_USAGE;
}
