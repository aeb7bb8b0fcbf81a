/* icelab sim: the NAT simulator's verb (issue #4 §2).
 *   icelab sim run FILE [--seed N] [--pcap OUT] [--per-link] [--json]
 *   icelab sim matrix [--seed N] [--json] [--out DIR] [--reachability]
 *   icelab sim presets
 *   icelab sim discover NAT [--seed N] [--lifetime MAX] [--pcap OUT] [--json]
 *   icelab sim netns up TOPOLOGY [NAME] | down NAME | list (sim/netns/netns.sh)
 * Thin: parse flags, call sim/ (sim_run.h). */
#include "sim_cmd.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "icelab/natprobe.h"
#include "icelab/sim.h"
#include "icelab/sim_ice.h"
#include "icelab/sim_run.h"

static void usage(FILE *f)
{
	fputs("usage: icelab sim run FILE [--seed N] [--pcap OUT] [--per-link] [--json]\n"
	      "       icelab sim matrix [--seed N] [--json] [--out DIR] [--reachability]\n"
	      "       icelab sim presets\n"
	      "\n"
	      "run      runs a scenario file (sim/README.md), prints what happened and\n"
	      "         whether its expectations held (exit 1 if not)\n"
	      "matrix   two ICE agents across every pair of NAT presets x {no TURN,\n"
	      "         TURN/UDP, TURN/TCP}: selected pair types, virtual ms to connected,\n"
	      "         checks sent; --reachability: the STUN/TURN probes instead; writes\n"
	      "         DIR/matrix.json and DIR/matrix.html (default reports/sim); exit 1\n"
	      "         if a cell differs\n"
	      "         from its RFC expectation\n"
	      "presets  the NAT presets and what they mean\n"
	      "\n"
	      "       icelab sim discover NAT [--seed N] [--lifetime MAX] [--no-hairpin]\n"
	      "                               [--pcap OUT] [--json]\n"
	      "       icelab sim netns up TOPOLOGY [NAME] | down NAME | list | topologies\n"
	      "\n"
	      "discover RFC 5780 behaviour discovery from behind NAT (a preset or knobs)\n"
	      "         against the simulated server; exit 1 if not classified\n"
	      "netns    kernel mode: namespaces, veth pairs and nftables for a host\n"
	      "         behind a real NAT (full-cone, port-restricted-cone, symmetric,\n"
	      "         udp-blocked, open); needs root, iproute2 and nftables\n",
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

static void cat_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[8192];
	size_t n;
	while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stdout);
	if (f)
		fclose(f);
}

/* The ICE matrix (sim_ice.h), the default. */
/* DIR/matrix.html beside DIR/matrix.json (issue #4 §2). */
static int write_html(const char *dir, const char *json_path)
{
	char html[4096];
	snprintf(html, sizeof html, "%s/matrix.html", dir);
	if (il_sim_matrix_write_html(json_path, html) < 0) {
		cli_error("sim matrix", "cannot write %s: %s", html, strerror(errno));
		return -1;
	}
	return 0;
}

static int cmd_matrix_ice(uint64_t seed, bool json, const char *out)
{
	il_sim_ice_matrix m;
	if (il_sim_ice_matrix_run(seed, &m) < 0) {
		cli_error("sim matrix", "out of memory");
		return CLI_USAGE;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/matrix.json", out);
	if (mkdirs(out) < 0 || il_sim_ice_matrix_write_json(&m, seed, path) < 0) {
		cli_error("sim matrix", "cannot write %s: %s", path, strerror(errno));
		il_sim_ice_matrix_free(&m);
		return CLI_USAGE;
	}
	if (write_html(out, path) < 0) {
		il_sim_ice_matrix_free(&m);
		return CLI_USAGE;
	}
	if (json) {
		cat_file(path);
	} else {
		il_sim_ice_matrix_print(&m, stdout);
		printf("wrote %s\n", path);
	}
	size_t bad = m.mismatches;
	il_sim_ice_matrix_free(&m);
	return bad ? CLI_FAILED : CLI_OK;
}

static int cmd_matrix(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seed", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"out", required_argument, NULL, 'o'},  {"help", no_argument, NULL, 'h'},
		{"reachability", no_argument, NULL, 'r'}, {NULL, 0, NULL, 0},
	};
	uint64_t seed = 1;
	bool json = false, reachability = false;
	const char *out = "reports/sim";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:jo:hr", opts, NULL)) != -1) {
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
		case 'r':
			reachability = true;
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
	if (!reachability)
		return cmd_matrix_ice(seed, json, out);
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
	if (write_html(out, path) < 0) {
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

static int parse_ms(const char *v, uint32_t *out)
{
	char *end;
	double n = strtod(v, &end);
	double mult = !strcmp(end, "ms") ? 1 : !strcmp(end, "m") ? 60000 : 1000;
	if (end == v || n < 0 || (*end && strcmp(end, "ms") && strcmp(end, "s") && strcmp(end, "m")) ||
	    n * mult > 86400000.0)
		return -1;
	*out = (uint32_t)(n * mult);
	return 0;
}

static int cmd_discover(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seed", required_argument, NULL, 's'},     {"lifetime", required_argument, NULL, 'l'},
		{"no-hairpin", no_argument, NULL, 'H'},     {"pcap", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},           {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	il_sim_discovery_opts o;
	il_sim_discovery_opts_defaults(&o);
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:p:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_seed(optarg, &o.seed) < 0) {
				cli_error("sim discover", "--seed: '%s' is not a number", optarg);
				return CLI_USAGE;
			}
			break;
		case 'l':
			if (parse_ms(optarg, &o.lifetime_max_ms) < 0) {
				cli_error("sim discover", "--lifetime: bad duration '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 'H':
			o.hairpin = false;
			break;
		case 'p':
			o.pcap_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		default:
			return cli_bad_option("sim discover", c, argv);
		}
	}
	if (optind != argc - 1) {
		cli_error("sim discover", "one NAT description expected (a preset or knobs)");
		return CLI_USAGE;
	}
	il_natd_result r;
	char err[256];
	if (il_sim_discover(argv[optind], &o, &r, err, sizeof err) < 0) {
		cli_error("sim discover", "%s", err);
		return CLI_USAGE;
	}
	il_addr server;
	il_addr_parse("192.0.2.1:3478", &server);
	il_natd_result_print(&r, &server, stdout, json);
	bool classified = r.udp_blocked || (r.mapping != IL_NATD_MAPPING_UNKNOWN &&
					    r.filtering != IL_NATD_FILTERING_UNKNOWN);
	return classified ? CLI_OK : CLI_FAILED;
}

/* sim/netns/netns.sh: $ICELAB_NETNS_SCRIPT, else beside the working
 * directory, else beside the binary (build/icelab -> sim/netns). */
static int cmd_netns(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	char path[4096];
	const char *env = getenv("ICELAB_NETNS_SCRIPT");
	if (env && *env) {
		snprintf(path, sizeof path, "%s", env);
	} else if (access("sim/netns/netns.sh", R_OK) == 0) {
		snprintf(path, sizeof path, "sim/netns/netns.sh");
	} else {
		ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
		path[n > 0 ? n : 0] = '\0';
		char *slash = strrchr(path, '/');
		if (slash)
			*slash = '\0';
		strcat(path, "/../sim/netns/netns.sh");
	}
	if (access(path, R_OK) != 0) {
		cli_error("sim netns", "cannot find netns.sh (set ICELAB_NETNS_SCRIPT)");
		return CLI_USAGE;
	}
	char *args[8];
	int n = 0;
	args[n++] = "bash";
	args[n++] = path;
	for (int i = 1; i < argc && n < 7; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(stdout);
	execvp("bash", args);
	cli_error("sim netns", "cannot run bash: %s", strerror(errno));
	return CLI_USAGE;
}

int il_cmd_sim(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "icelab sim: missing command: run, matrix, presets, discover or netns "
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
	if (!strcmp(argv[1], "discover"))
		return cmd_discover(argc - 1, argv + 1);
	if (!strcmp(argv[1], "netns"))
		return cmd_netns(argc - 1, argv + 1);
	cli_error("sim", "unknown subcommand '%s' (run, matrix, presets, discover, netns)",
		  argv[1]);
	return CLI_USAGE;
}
