/* icelab sim: the NAT simulator's verb (issue #4 §2).
 *   icelab sim run FILE [--seed N] [--pcap OUT] [--per-link] [--json]
 *   icelab sim matrix [--seed N] [--json] [--out DIR]
 *   icelab sim presets
 * Thin: parse flags, call sim/ (sim_run.h). */
#include "sim_cmd.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "icelab/sim.h"
#include "icelab/sim_run.h"

static void usage(FILE *f)
{
	fputs("usage: icelab sim run FILE [--seed N] [--pcap OUT] [--per-link] [--json]\n"
	      "       icelab sim matrix [--seed N] [--json] [--out DIR]\n"
	      "       icelab sim presets\n"
	      "\n"
	      "run      runs a scenario file (sim/README.md), prints what happened and\n"
	      "         whether its expectations held (exit 1 if not)\n"
	      "matrix   every pair of NAT presets x {direct, TURN/UDP, TURN/TCP}; writes\n"
	      "         DIR/matrix.json (default reports/sim); exit 1 if a cell differs\n"
	      "         from its RFC 4787 expectation\n"
	      "presets  the NAT presets and what they mean\n",
	      f);
}

static int parse_seed(const char *text, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || end == text || *end || text[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int cmd_presets(void)
{
	for (const char *const *n = il_sim_preset_names(); *n; n++)
		printf("%-22s %s\n", *n, il_sim_preset_summary(*n));
	puts("\ncustom: a preset and/or knobs, e.g. mapping=eim,filtering=apdf,hairpin=on,timeout=30s\n"
	     "knobs: mapping=eim|adm|apdm filtering=eif|adf|apdf ports=preserve|sequential|random\n"
	     "       parity=on|off pooling=paired|arbitrary pool=N hairpin=on|off icmp=on|off\n"
	     "       inbound-refresh=on|off timeout=DUR tcp-timeout=DUR udp=blocked|allowed\n"
	     "       tcp-ports=443+80|any port-range=LO-HI translate=on|off");
	return CLI_OK;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seed", required_argument, NULL, 's'}, {"pcap", required_argument, NULL, 'p'},
		{"per-link", no_argument, NULL, 'l'},   {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	il_sim_scenario_opts o;
	memset(&o, 0, sizeof o);
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:p:ljh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_seed(optarg, &o.seed) < 0) {
				cli_error("sim run", "--seed: '%s' is not a number", optarg);
				return CLI_USAGE;
			}
			o.has_seed = true;
			break;
		case 'p':
			o.pcap_path = optarg;
			break;
		case 'l':
			o.pcap_per_link = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		default:
			return cli_bad_option("sim run", c, argv);
		}
	}
	if (optind != argc - 1) {
		cli_error("sim run", "one scenario file expected (see icelab sim --help)");
		return CLI_USAGE;
	}
	o.log = json ? NULL : stdout;
	il_sim_scenario_result res;
	char err[512];
	if (il_sim_scenario_run(argv[optind], &o, &res, err, sizeof err) < 0) {
		fprintf(stderr, "icelab sim run: %s\n", err);
		return CLI_USAGE;
	}
	if (json)
		printf("{\"file\": \"%s\", \"expectations\": %zu, \"failed\": %zu, \"packets\": %" PRIu64
		       ", \"virtual_ms\": %" PRIu64 "}\n",
		       argv[optind], res.expectations, res.failed, res.packets, res.virtual_ms);
	else
		printf("%zu expectations, %zu failed; %" PRIu64 " packets in %" PRIu64
		       " virtual ms\n",
		       res.expectations, res.failed, res.packets, res.virtual_ms);
	return res.failed ? CLI_FAILED : CLI_OK;
}

static int mkdirs(const char *dir)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", dir);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int cmd_matrix(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seed", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"out", required_argument, NULL, 'o'},  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t seed = 1;
	bool json = false;
	const char *out = "reports/sim";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:jo:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_seed(optarg, &seed) < 0) {
				cli_error("sim matrix", "--seed: '%s' is not a number", optarg);
				return CLI_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		default:
			return cli_bad_option("sim matrix", c, argv);
		}
	}
	if (optind != argc) {
		cli_error("sim matrix", "unexpected argument '%s'", argv[optind]);
		return CLI_USAGE;
	}
	il_sim_matrix m;
	if (il_sim_matrix_run(seed, &m) < 0) {
		cli_error("sim matrix", "out of memory");
		return CLI_USAGE;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/matrix.json", out);
	if (mkdirs(out) < 0 || il_sim_matrix_write_json(&m, seed, path) < 0) {
		cli_error("sim matrix", "cannot write %s: %s", path, strerror(errno));
		il_sim_matrix_free(&m);
		return CLI_USAGE;
	}
	if (json) {
		FILE *f = fopen(path, "r");
		char buf[8192];
		size_t n;
		while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
			fwrite(buf, 1, n, stdout);
		if (f)
			fclose(f);
	} else {
		il_sim_matrix_print(&m, stdout);
		printf("wrote %s\n", path);
	}
	size_t bad = m.mismatches;
	il_sim_matrix_free(&m);
	return bad ? CLI_FAILED : CLI_OK;
}

int il_cmd_sim(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "icelab sim: missing command: run, matrix or presets "
				"(icelab sim --help)\n");
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "matrix"))
		return cmd_matrix(argc - 1, argv + 1);
	if (!strcmp(argv[1], "presets"))
		return cmd_presets();
	cli_error("sim", "unknown subcommand '%s' (run, matrix, presets)", argv[1]);
	return CLI_USAGE;
}
