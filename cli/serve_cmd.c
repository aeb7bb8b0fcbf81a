/* `icelab serve`: flags and the config file into il_io_config, then the
 * driver (ref/io). Thin: the option table, the file reader and the server
 * live in ref/io; this file parses argv, runs the one-shot actions
 * (--print-credentials, --rotate-secret, --check-config) and rebuilds the
 * configuration on SIGHUP (the file again, then the same flags). */
#include "serve_cmd.h"

#include "cli.h"

#include <getopt.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "icelab/io.h"

#define OPT_BASE 0x100

typedef struct serve_args {
	int argc;
	char **argv;
	struct option *longopts;
	const char *config_path;
	const char *print_credentials;
	const char *rotate_secret;
	bool check_config;
	bool help;
} serve_args;

static void usage(FILE *f)
{
	fputs("usage: icelab serve [--config FILE] [options]\n"
	      "\n"
	      "The reference STUN/TURN server (RFC 8489, RFC 8656) over UDP, TCP and TLS.\n"
	      "Every option is also a line \"name = value\" of the --config file\n"
	      "(conf/icelab-serve.conf documents them); flags override the file.\n"
	      "SIGHUP reloads users, secrets, peer policy, external addresses, quotas and\n"
	      "lifetimes without dropping allocations; SIGTERM stops.\n"
	      "`icelab serve --sbc --help`: the SBC media bridge (rtpengine's ng protocol).\n"
	      "\n"
	      "options:\n",
	      f);
	size_t n;
	const il_io_option *o = il_io_config_options(&n);
	for (size_t i = 0; i < n; i++) {
		char left[64];
		snprintf(left, sizeof left, "--%s%s%s", o[i].name, o[i].has_value ? " " : "",
			 o[i].has_value ? o[i].value_name : "");
		if (strlen(left) > 26)
			fprintf(f, "  %s\n  %-26s %s\n", left, "", o[i].help);
		else
			fprintf(f, "  %-26s %s\n", left, o[i].help);
	}
	fputs("\n"
	      "example (a lab on loopback):\n"
	      "  icelab serve --listen 127.0.0.1:3478 --user alice:secret --realm example.org \\\n"
	      "               --allow-peer 127.0.0.0/8 --allow-private-relay\n"
	      "\n"
	      "exit status: 0 after a clean stop or a done action, 2 on bad usage, a bad\n"
	      "configuration, or sockets and TLS that cannot be set up.\n",
	      f);
}

static struct option *build_longopts(void)
{
	size_t n;
	const il_io_option *o = il_io_config_options(&n);
	struct option *lo = calloc(n + 1, sizeof *lo);
	if (!lo)
		return NULL;
	for (size_t i = 0; i < n; i++)
		lo[i] = (struct option){o[i].name, o[i].has_value ? required_argument : no_argument,
					NULL, OPT_BASE + (int)i};
	return lo;
}

/* Pass 1: the one-shot options and --config; 2 on a bad flag, else 0. */
static int scan_actions(serve_args *a)
{
	size_t n;
	const il_io_option *o = il_io_config_options(&n);
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(a->argc, a->argv, ":h", a->longopts, NULL)) != -1) {
		if (c == 'h') {
			a->help = true;
			continue;
		}
		if (c < OPT_BASE || c >= OPT_BASE + (int)n)
			return cli_bad_option("serve", c, a->argv);
		const char *name = o[c - OPT_BASE].name;
		if (!strcmp(name, "config"))
			a->config_path = optarg;
		else if (!strcmp(name, "print-credentials"))
			a->print_credentials = optarg;
		else if (!strcmp(name, "rotate-secret"))
			a->rotate_secret = optarg;
		else if (!strcmp(name, "check-config"))
			a->check_config = true;
		else if (!strcmp(name, "help"))
			a->help = true;
	}
	if (optind < a->argc) {
		cli_error("serve", "unexpected argument '%s' (see --help)", a->argv[optind]);
		return CLI_USAGE;
	}
	return 0;
}

/* Defaults, the file, the flags, the checks: the whole configuration. */
static int build_config(serve_args *a, il_io_config *cfg, char *err, size_t err_len)
{
	il_io_config_defaults(cfg);
	if (a->config_path && il_io_config_load_file(cfg, a->config_path, err, err_len) < 0)
		return -1;
	size_t n;
	const il_io_option *o = il_io_config_options(&n);
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(a->argc, a->argv, ":h", a->longopts, NULL)) != -1) {
		if (c < OPT_BASE || c >= OPT_BASE + (int)n || o[c - OPT_BASE].cli_only)
			continue;
		char msg[512];
		const char *name = o[c - OPT_BASE].name;
		if (il_io_config_set(cfg, name, o[c - OPT_BASE].has_value ? optarg : NULL, msg,
				     sizeof msg) < 0) {
			snprintf(err, err_len, "--%s: %s", name, msg);
			return -1;
		}
	}
	return il_io_config_finish(cfg, err, err_len);
}

static int reload(void *user, il_io_config *cfg, char *err, size_t err_len)
{
	if (build_config(user, cfg, err, err_len) < 0) {
		il_io_config_release(cfg);
		return -1;
	}
	return 0;
}

static int print_credentials(const il_io_config *cfg, const char *tenant)
{
	int t = il_io_config_tenant_find(cfg, tenant);
	if (t < 0) {
		cli_error("serve", "--print-credentials: no tenant '%s'", tenant);
		return CLI_USAGE;
	}
	if (!cfg->tenants[t].rest) {
		cli_error("serve", "--print-credentials: tenant '%s' has no-rest set", tenant);
		return CLI_USAGE;
	}
	uint8_t secret[IL_IO_SECRET_LEN], prev[IL_IO_SECRET_LEN], id[6];
	uint64_t prev_until;
	char err[600];
	if (il_io_secret_load(cfg->state_dir, tenant, true, secret, prev, &prev_until, err,
			      sizeof err) < 0) {
		cli_error("serve", "%s", err);
		return CLI_USAGE;
	}
	if (RAND_bytes(id, sizeof id) != 1)
		return CLI_USAGE;
	char user[2 * sizeof id + 1];
	for (size_t i = 0; i < sizeof id; i++)
		snprintf(user + 2 * i, 3, "%02x", id[i]);
	char *json = il_io_ice_servers_json(cfg, t, secret, (uint64_t)time(NULL), user);
	if (!json)
		return CLI_USAGE;
	printf("%s\n", json);
	free(json);
	return CLI_OK;
}

static int rotate_secret(const il_io_config *cfg, const char *tenant)
{
	if (il_io_config_tenant_find(cfg, tenant) < 0) {
		cli_error("serve", "--rotate-secret: no tenant '%s'", tenant);
		return CLI_USAGE;
	}
	char err[600];
	uint64_t now = (uint64_t)time(NULL);
	if (il_io_secret_rotate(cfg->state_dir, tenant, cfg->secret_grace_s, now, err,
				sizeof err) < 0) {
		cli_error("serve", "%s", err);
		return CLI_USAGE;
	}
	printf("tenant %s: new REST secret; the previous one is accepted for %u s more.\n"
	       "Send SIGHUP to a running `icelab serve` to load it.\n",
	       tenant, cfg->secret_grace_s);
	return CLI_OK;
}

int il_cmd_serve(int argc, char **argv)
{
	if (il_serve_wants_sbc(argc, argv))
		return il_cmd_serve_sbc(argc, argv);
	serve_args a = {.argc = argc, .argv = argv, .longopts = build_longopts()};
	if (!a.longopts)
		return CLI_USAGE;
	int rc = scan_actions(&a);
	if (rc != 0 || a.help) {
		if (a.help)
			usage(stdout);
		free(a.longopts);
		return a.help && rc == 0 ? CLI_OK : rc;
	}
	il_io_config *cfg = malloc(sizeof *cfg);
	char err[600];
	if (!cfg) {
		free(a.longopts);
		return CLI_USAGE;
	}
	if (build_config(&a, cfg, err, sizeof err) < 0) {
		cli_error("serve", "%s", err);
		rc = CLI_USAGE;
	} else if (a.check_config) {
		printf("configuration ok\n");
		rc = CLI_OK;
	} else if (a.print_credentials) {
		rc = print_credentials(cfg, a.print_credentials);
	} else if (a.rotate_secret) {
		rc = rotate_secret(cfg, a.rotate_secret);
	} else {
		rc = il_io_server_run(cfg, reload, &a);
	}
	il_io_config_release(cfg);
	free(cfg);
	free(a.longopts);
	return rc;
}
