/* `icelab serve --sbc`: flags and the config file into il_sbc_serve_config,
 * then the SBC driver (ref/io/sbc_driver.c). On SIGHUP the configuration
 * is rebuilt the same way (the file again, then the same flags). */
#include "serve_cmd.h"

#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/sbc_serve.h"

#define OPT_BASE 0x100
#define OPT_CONFIG 0x80
#define OPT_SBC 0x81
#define OPT_CHECK 0x82

typedef struct sbc_args {
	int argc;
	char **argv;
	struct option *longopts;
	const char *config_path;
	bool check_config;
	bool help;
} sbc_args;

static void usage(FILE *f)
{
	fputs("usage: icelab serve --sbc --advertised IP [--ng HOST:PORT] [options]\n"
	      "\n"
	      "The SBC media bridge, driven by rtpengine's ng protocol (bencode over UDP),\n"
	      "so Kamailio's and OpenSIPS's rtpengine modules can use it unchanged.\n"
	      "Commands: ping, offer, answer, delete, query, list, statistics (`icelab ng`).\n"
	      "Every option is also a line \"name = value\" of the --config file; flags\n"
	      "override the file. SIGHUP reloads the advertised address (new calls use it;\n"
	      "a private or loopback one is refused unless allowed); SIGTERM stops.\n"
	      "\n"
	      "options:\n"
	      "  --sbc                      run the SBC bridge (instead of STUN/TURN)\n"
	      "  --config FILE              read options from FILE\n"
	      "  --check-config             check the configuration and exit\n",
	      f);
	size_t n;
	const il_sbc_serve_option *o = il_sbc_serve_options(&n);
	for (size_t i = 0; i < n; i++) {
		char left[64];
		snprintf(left, sizeof left, "--%s%s%s", o[i].name, o[i].has_value ? " " : "",
			 o[i].has_value ? o[i].value_name : "");
		fprintf(f, "  %-26s %s\n", left, o[i].help);
	}
	fputs("\n"
	      "example (a lab on loopback):\n"
	      "  icelab serve --sbc --ng 127.0.0.1:2223 --advertised 127.0.0.1 \\\n"
	      "               --allow-private-advertised --bind 127.0.0.1 \\\n"
	      "               --port-min 40000 --port-max 40999 --log-json -\n"
	      "\n"
	      "exit status: 0 after a clean stop, 2 on bad usage, a bad configuration or\n"
	      "sockets that cannot be set up.\n",
	      f);
}

static struct option *build_longopts(void)
{
	size_t n;
	const il_sbc_serve_option *o = il_sbc_serve_options(&n);
	struct option *lo = calloc(n + 5, sizeof *lo);
	if (!lo)
		return NULL;
	for (size_t i = 0; i < n; i++)
		lo[i] = (struct option){o[i].name, o[i].has_value ? required_argument : no_argument,
					NULL, OPT_BASE + (int)i};
	lo[n] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	lo[n + 1] = (struct option){"sbc", no_argument, NULL, OPT_SBC};
	lo[n + 2] = (struct option){"check-config", no_argument, NULL, OPT_CHECK};
	lo[n + 3] = (struct option){"help", no_argument, NULL, 'h'};
	return lo;
}

/* Pass 1: --config, --help, --check-config and bad flags. */
static int scan(sbc_args *a)
{
	size_t n;
	il_sbc_serve_options(&n);
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(a->argc, a->argv, ":h", a->longopts, NULL)) != -1) {
		if (c == 'h')
			a->help = true;
		else if (c == OPT_CONFIG)
			a->config_path = optarg;
		else if (c == OPT_CHECK)
			a->check_config = true;
		else if (c != OPT_SBC && (c < OPT_BASE || c >= OPT_BASE + (int)n))
			return cli_bad_option("serve", c, a->argv);
	}
	if (optind < a->argc) {
		cli_error("serve", "unexpected argument '%s' (see --sbc --help)", a->argv[optind]);
		return CLI_USAGE;
	}
	return 0;
}

static int build(sbc_args *a, il_sbc_serve_config *cfg, char *err, size_t err_len)
{
	il_sbc_serve_defaults(cfg);
	if (a->config_path && il_sbc_serve_load_file(cfg, a->config_path, err, err_len) < 0)
		return -1;
	size_t n;
	const il_sbc_serve_option *o = il_sbc_serve_options(&n);
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(a->argc, a->argv, ":h", a->longopts, NULL)) != -1) {
		if (c < OPT_BASE || c >= OPT_BASE + (int)n)
			continue;
		char msg[512];
		const char *name = o[c - OPT_BASE].name;
		if (il_sbc_serve_set(cfg, name, o[c - OPT_BASE].has_value ? optarg : NULL, msg,
				     sizeof msg) < 0) {
			snprintf(err, err_len, "--%s: %s", name, msg);
			return -1;
		}
	}
	return il_sbc_serve_finish(cfg, err, err_len);
}

static int reload(void *user, il_sbc_serve_config *cfg, char *err, size_t err_len)
{
	return build(user, cfg, err, err_len);
}

bool il_serve_wants_sbc(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--sbc"))
			return true;
	}
	return false;
}

int il_cmd_serve_sbc(int argc, char **argv)
{
	sbc_args a = {.argc = argc, .argv = argv, .longopts = build_longopts()};
	if (!a.longopts)
		return CLI_USAGE;
	int rc = scan(&a);
	if (rc != 0 || a.help) {
		if (a.help && rc == 0)
			usage(stdout);
		free(a.longopts);
		return a.help && rc == 0 ? CLI_OK : rc;
	}
	il_sbc_serve_config cfg;
	char err[600];
	if (build(&a, &cfg, err, sizeof err) < 0) {
		cli_error("serve", "%s", err);
		rc = CLI_USAGE;
	} else if (a.check_config) {
		printf("configuration ok\n");
		rc = CLI_OK;
	} else {
		rc = il_sbc_serve_run(&cfg, reload, &a);
	}
	free(a.longopts);
	return rc;
}
