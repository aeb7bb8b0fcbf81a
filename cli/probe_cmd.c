/* `icelab probe binding URL` and `icelab probe allocate TURN-URI`: flags
 * into il_probe_*_options, the run (ref/io/probe_*.c), then the result as
 * text or JSON. Also turns a TURN REST secret into a credential
 * (draft-uberti-behave-turn-rest-00). */
#include "probe_cmd.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "icelab/probe.h"
#include "icelab/natprobe.h"
#include "icelab/probe_ice.h"
#include "icelab/rest_credentials.h"

#define SECRET_FILE_MAX 4096

static void usage(FILE *f)
{
	fputs("usage: icelab probe binding URL [options]\n"
	      "       icelab probe allocate TURN-URI --user U (--password P | --rest-secret FILE) [options]\n"
	      "       icelab probe ice [options]   (icelab probe ice --help)\n"
	      "\n"
	      "binding: one STUN Binding request (RFC 8489): the mapped address, the RTT,\n"
	      "the server's SOFTWARE. URL is udp://HOST[:PORT], tcp://..., tls://..., or a\n"
	      "stun:/stuns: URI (RFC 7064); ports default to 3478, 5349 for TLS.\n"
	      "\n"
	      "allocate: a TURN allocation (RFC 8656) with the long-term credential\n"
	      "challenge: relayed and mapped addresses, lifetime, password algorithm. With\n"
	      "--peer: CreatePermission and ChannelBind, --count datagrams through the relay\n"
	      "to a UDP echo peer and back, then the release. TURN-URI (RFC 7065) is\n"
	      "turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT] (TLS).\n"
	      "\n"
	      "options (both):\n"
	      "  --json                 the result as one JSON object\n"
	      "  --timeout SECONDS      binding: the whole run (default 10); allocate: each\n"
	      "                         wait (allocation, echoes, release; default 5)\n"
	      "  --ca FILE              TLS: trust these PEM CAs instead of the system's\n"
	      "  --insecure             TLS: do not check the certificate (labs only)\n"
	      "  --software TEXT        SOFTWARE attribute in requests (default: none)\n"
	      "options (allocate):\n"
	      "  --user U               user name (with --rest-secret: the user part)\n"
	      "  --password P           password\n"
	      "  --rest-secret FILE     TURN REST shared secret (its first line); the\n"
	      "                         credential is EXPIRY:U and base64(HMAC-SHA1)\n"
	      "  --rest-ttl SECONDS     lifetime of that credential (default 3600)\n"
	      "  --realm R              the realm expected; credentials are never sent\n"
	      "                         for another (default: the server's)\n"
	      "  --no-md5               refuse MD5 keys: SHA-256 only (RFC 8489 §9.2.5)\n"
	      "  --lifetime SECONDS     LIFETIME asked for (default: the server's)\n"
	      "  --peer ADDR:PORT       a UDP echo peer, reached through the relay (an\n"
	      "                         IPv6 peer asks for an IPv6 relay)\n"
	      "  --count N              datagrams to the peer (default 10)\n"
	      "  --interval MS          between two datagrams (default 20)\n"
	      "  --size BYTES           payload bytes, 16-1200 (default 100)\n"
	      "  --send-indications     Send/Data indications instead of a channel\n"
	      "\n"
	      "examples:\n"
	      "  icelab probe binding udp://127.0.0.1:3478\n"
	      "  icelab probe allocate 'turn:127.0.0.1:3478?transport=tcp' --user alice \\\n"
	      "               --password secret --peer 127.0.0.1:5000 --count 20\n"
	      "\n"
	      "exit status: 0 success (allocate: allocated, every echo back, released),\n"
	      "1 no answer, an error response or a failed step, 2 bad usage or a local\n"
	      "error (name resolution, TLS setup).\n",
	      f);
}

enum {
	OPT_JSON = 0x100,
	OPT_TIMEOUT,
	OPT_CA,
	OPT_INSECURE,
	OPT_SOFTWARE,
	OPT_USER,
	OPT_PASSWORD,
	OPT_REST_SECRET,
	OPT_REST_TTL,
	OPT_REALM,
	OPT_NO_MD5,
	OPT_LIFETIME,
	OPT_PEER,
	OPT_COUNT,
	OPT_INTERVAL,
	OPT_SIZE,
	OPT_SEND_INDICATIONS,
	OPT_HELP,
};

static const struct option longopts[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"ca", required_argument, NULL, OPT_CA},
	{"insecure", no_argument, NULL, OPT_INSECURE},
	{"software", required_argument, NULL, OPT_SOFTWARE},
	{"user", required_argument, NULL, OPT_USER},
	{"password", required_argument, NULL, OPT_PASSWORD},
	{"rest-secret", required_argument, NULL, OPT_REST_SECRET},
	{"rest-ttl", required_argument, NULL, OPT_REST_TTL},
	{"realm", required_argument, NULL, OPT_REALM},
	{"no-md5", no_argument, NULL, OPT_NO_MD5},
	{"lifetime", required_argument, NULL, OPT_LIFETIME},
	{"peer", required_argument, NULL, OPT_PEER},
	{"count", required_argument, NULL, OPT_COUNT},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"size", required_argument, NULL, OPT_SIZE},
	{"send-indications", no_argument, NULL, OPT_SEND_INDICATIONS},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

typedef struct probe_args {
	const char *verb;  /* "binding" or "allocate" */
	const char *target;
	bool json;
	double timeout_s;
	il_probe_tls tls;
	const char *software;
	const char *user, *password, *rest_secret, *realm;
	uint64_t rest_ttl;
	bool no_md5;
	const char *peer;
	uint32_t lifetime, count, interval, size;
	bool send_indications;
	bool allocate_only_given; /* a flag of allocate was given */
} probe_args;

/* Whole decimal in [min, max]; -1 otherwise. */
static int parse_u32(const char *flag, const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
		cli_error("probe", "%s: '%s' is not a number in %u..%u", flag, text, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_flag(probe_args *a, int c)
{
	uint32_t v;
	switch (c) {
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_TIMEOUT: {
		char *end;
		a->timeout_s = strtod(optarg, &end);
		if (end == optarg || *end || !(a->timeout_s >= 0.05 && a->timeout_s <= 3600)) {
			cli_error("probe", "--timeout: '%s' is not a number of seconds in 0.05..3600",
				  optarg);
			return -1;
		}
		return 0;
	}
	case OPT_CA:
		a->tls.ca_file = optarg;
		return 0;
	case OPT_INSECURE:
		a->tls.insecure = true;
		return 0;
	case OPT_SOFTWARE:
		a->software = optarg;
		return 0;
	case OPT_HELP:
		return 1;
	default:
		break;
	}
	a->allocate_only_given = true;
	switch (c) {
	case OPT_USER:
		a->user = optarg;
		return 0;
	case OPT_PASSWORD:
		a->password = optarg;
		return 0;
	case OPT_REST_SECRET:
		a->rest_secret = optarg;
		return 0;
	case OPT_REST_TTL:
		if (parse_u32("--rest-ttl", optarg, 1, 365u * 86400u, &v) < 0)
			return -1;
		a->rest_ttl = v;
		return 0;
	case OPT_REALM:
		a->realm = optarg;
		return 0;
	case OPT_NO_MD5:
		a->no_md5 = true;
		return 0;
	case OPT_LIFETIME:
		return parse_u32("--lifetime", optarg, 1, 86400, &a->lifetime);
	case OPT_PEER:
		a->peer = optarg;
		return 0;
	case OPT_COUNT:
		return parse_u32("--count", optarg, 1, IL_PROBE_MAX_COUNT, &a->count);
	case OPT_INTERVAL:
		return parse_u32("--interval", optarg, 1, 60000, &a->interval);
	case OPT_SIZE:
		return parse_u32("--size", optarg, 16, 1200, &a->size);
	case OPT_SEND_INDICATIONS:
		a->send_indications = true;
		return 0;
	default:
		return -2;
	}
}

/* 0 ok, 1 --help, 2 bad usage. */
static int parse_args(int argc, char **argv, probe_args *a)
{
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		int rc = parse_flag(a, c);
		if (rc == 1)
			return 1;
		if (rc == -2)
			return cli_bad_option("probe", c, argv);
		if (rc < 0)
			return CLI_USAGE;
	}
	int rest = argc - optind;
	if (rest < 1) {
		cli_error("probe", "which probe? binding or allocate (see --help)");
		return CLI_USAGE;
	}
	a->verb = argv[optind];
	if (strcmp(a->verb, "binding") && strcmp(a->verb, "allocate")) {
		cli_error("probe", "unknown probe '%s': binding or allocate (see --help)", a->verb);
		return CLI_USAGE;
	}
	if (rest != 2) {
		cli_error("probe", "%s wants one target (see --help)", a->verb);
		return CLI_USAGE;
	}
	a->target = argv[optind + 1];
	return 0;
}

/* ---- output ---- */

static json_t *addr_json(const il_addr *a)
{
	char text[IL_ADDR_STRLEN];
	if (a->family == IL_AF_NONE || il_addr_format(a, text, sizeof text) < 0)
		return json_null();
	return json_string(text);
}

static const char *addr_text(const il_addr *a, char *buf, size_t len)
{
	if (a->family == IL_AF_NONE || il_addr_format(a, buf, len) < 0)
		return "-";
	return buf;
}

static json_t *conn_json(const probe_args *a, const il_probe_target *t,
			 const il_probe_conn_info *ci)
{
	json_t *j = json_object();
	json_object_set_new(j, "probe", json_string(a->verb));
	json_object_set_new(j, "target", json_string(a->target));
	json_object_set_new(j, "transport", json_string(il_probe_transport_name(t->transport)));
	json_object_set_new(j, "server", addr_json(&ci->server));
	json_object_set_new(j, "local", addr_json(&ci->local));
	if (ci->tls_version[0])
		json_object_set_new(j, "tls", json_pack("{s:s,s:s}", "version", ci->tls_version,
							"cipher", ci->tls_cipher));
	return j;
}

/* Milliseconds to the microsecond. */
static json_t *ms_json(double ms)
{
	return json_real((double)(int64_t)(ms * 1000.0 + 0.5) / 1000.0);
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
	fputc('\n', stdout);
	json_decref(j);
}

static void print_conn(const probe_args *a, const il_probe_target *t,
		       const il_probe_conn_info *ci)
{
	char s[IL_ADDR_STRLEN], l[IL_ADDR_STRLEN];
	printf("%s %s\n", a->verb, a->target);
	printf("  server      %s (%s)\n", addr_text(&ci->server, s, sizeof s),
	       il_probe_transport_name(t->transport));
	printf("  local       %s\n", addr_text(&ci->local, l, sizeof l));
	if (ci->tls_version[0])
		printf("  tls         %s %s\n", ci->tls_version, ci->tls_cipher);
}

static void report_binding(const probe_args *a, const il_probe_binding_options *o,
			   const il_probe_binding_result *r, int status)
{
	char buf[IL_ADDR_STRLEN];
	if (a->json) {
		json_t *j = conn_json(a, &o->target, &r->conn);
		json_object_set_new(j, "ok", json_boolean(status == IL_PROBE_OK));
		json_object_set_new(j, "mapped", addr_json(&r->mapped));
		json_object_set_new(j, "mapped_attribute",
				    r->mapped.family == IL_AF_NONE ? json_null()
				    : json_string(r->mapped_xor ? "XOR-MAPPED-ADDRESS" : "MAPPED-ADDRESS"));
		json_object_set_new(j, "rtt_ms", r->transmissions && (r->answered || r->error_code)
							 ? ms_json(r->rtt_ms) : json_null());
		json_object_set_new(j, "transmissions", json_integer(r->transmissions));
		json_object_set_new(j, "software", r->software[0] ? json_string(r->software) : json_null());
		json_object_set_new(j, "fingerprint", json_boolean(r->fingerprint));
		json_object_set_new(j, "response_origin", addr_json(&r->response_origin));
		json_object_set_new(j, "other_address", addr_json(&r->other_address));
		json_object_set_new(j, "error", r->error_code ? json_pack("{s:i,s:s}", "code", r->error_code,
									   "reason", r->reason)
							      : json_null());
		json_object_set_new(j, "failure", r->failure[0] ? json_string(r->failure) : json_null());
		print_json(j);
	} else if (status != IL_PROBE_ERROR) {
		print_conn(a, &o->target, &r->conn);
		if (r->answered) {
			printf("  mapped      %s%s\n", addr_text(&r->mapped, buf, sizeof buf),
			       r->mapped_xor ? "" : " (MAPPED-ADDRESS: an RFC 3489 server)");
			printf("  rtt         %.3f ms (%u request%s)\n", r->rtt_ms, r->transmissions,
			       r->transmissions == 1 ? "" : "s");
			printf("  software    %s\n", r->software[0] ? r->software : "(none)");
			if (r->response_origin.family)
				printf("  origin      %s\n", addr_text(&r->response_origin, buf, sizeof buf));
			if (r->other_address.family)
				printf("  other       %s\n", addr_text(&r->other_address, buf, sizeof buf));
		}
	}
	if (r->failure[0])
		cli_error("probe", "binding %s: %s", a->target, r->failure);
}

static void report_allocate(const probe_args *a, const il_probe_allocate_options *o,
			    const il_probe_allocate_result *r, int status)
{
	char buf[IL_ADDR_STRLEN], buf2[IL_ADDR_STRLEN];
	if (a->json) {
		json_t *j = conn_json(a, &o->target, &r->conn);
		json_object_set_new(j, "ok", json_boolean(status == IL_PROBE_OK));
		json_object_set_new(j, "allocated", json_boolean(r->allocated));
		json_t *rel = json_array();
		for (unsigned i = 0; i < r->relayed_count; i++)
			json_array_append_new(rel, addr_json(&r->relayed[i]));
		json_object_set_new(j, "relayed", rel);
		json_object_set_new(j, "mapped", addr_json(&r->mapped));
		json_object_set_new(j, "lifetime_s", r->allocated ? json_integer(r->lifetime_s) : json_null());
		json_object_set_new(j, "realm", r->realm[0] ? json_string(r->realm) : json_null());
		json_object_set_new(j, "password_algorithm",
				    r->algorithm[0] ? json_string(r->algorithm) : json_null());
		json_object_set_new(j, "integrity", r->integrity[0] ? json_string(r->integrity) : json_null());
		json_object_set_new(j, "userhash", json_boolean(r->userhash));
		json_object_set_new(j, "allocate_ms", r->allocated ? ms_json(r->allocate_ms) : json_null());
		if (o->have_peer) {
			json_t *p = json_object();
			json_object_set_new(p, "address", addr_json(&o->peer));
			json_object_set_new(p, "mode", json_string(o->send_indications ? "send-indication"
										       : "channel"));
			json_object_set_new(p, "permission", json_boolean(r->permission));
			json_object_set_new(p, "channel", r->channel ? json_integer(r->channel) : json_null());
			json_object_set_new(p, "sent", json_integer(r->sent));
			json_object_set_new(p, "echoed", json_integer(r->echoed));
			json_object_set_new(p, "rtt_ms",
					    r->echoed ? json_pack("{s:o,s:o,s:o}", "min", ms_json(r->rtt_min_ms),
								  "avg", ms_json(r->rtt_avg_ms), "max",
								  ms_json(r->rtt_max_ms))
						      : json_null());
			json_object_set_new(j, "peer", p);
		}
		json_object_set_new(j, "released", json_boolean(r->released));
		json_object_set_new(j, "error", r->error_code ? json_pack("{s:i,s:s}", "code", r->error_code,
									   "reason", r->reason)
							      : json_null());
		json_object_set_new(j, "failure", r->failure[0] ? json_string(r->failure) : json_null());
		print_json(j);
	} else if (status != IL_PROBE_ERROR) {
		print_conn(a, &o->target, &r->conn);
		if (r->realm[0])
			printf("  realm       %s\n", r->realm);
		if (r->algorithm[0])
			printf("  auth        %s key, %s%s\n", r->algorithm, r->integrity,
			       r->userhash ? ", USERHASH" : "");
		if (r->allocated) {
			for (unsigned i = 0; i < r->relayed_count; i++)
				printf("  relayed     %s\n", addr_text(&r->relayed[i], buf, sizeof buf));
			printf("  mapped      %s\n", addr_text(&r->mapped, buf, sizeof buf));
			printf("  lifetime    %u s\n", r->lifetime_s);
			printf("  allocate    %.3f ms (with the challenge)\n", r->allocate_ms);
		}
		if (r->allocated && o->have_peer) {
			if (r->channel)
				printf("  peer        %s: permission %s, channel 0x%04X\n",
				       addr_text(&o->peer, buf2, sizeof buf2), r->permission ? "ok" : "no",
				       r->channel);
			else
				printf("  peer        %s: permission %s, Send indications\n",
				       addr_text(&o->peer, buf2, sizeof buf2), r->permission ? "ok" : "no");
			printf("  echoes      %u of %u sent", r->echoed, r->sent);
			if (r->echoed)
				printf(", rtt min/avg/max %.3f/%.3f/%.3f ms", r->rtt_min_ms, r->rtt_avg_ms,
				       r->rtt_max_ms);
			putchar('\n');
		}
		if (r->allocated)
			printf("  released    %s\n", r->released ? "yes" : "no");
	}
	if (r->failure[0])
		cli_error("probe", "allocate %s: %s", a->target, r->failure);
}

/* ---- the two probes ---- */

static uint32_t timeout_ms(const probe_args *a)
{
	return a->timeout_s > 0 ? (uint32_t)(a->timeout_s * 1000.0 + 0.5) : 0;
}

static int run_binding(probe_args *a)
{
	if (a->allocate_only_given) {
		cli_error("probe", "binding: --user, --password, --peer... are options of allocate");
		return CLI_USAGE;
	}
	il_probe_binding_options o = {.tls = a->tls, .timeout_ms = timeout_ms(a),
				      .software = a->software};
	char err[400];
	if (il_probe_parse_stun_target(a->target, &o.target, err, sizeof err) < 0) {
		cli_error("probe", "binding: %s", err);
		return CLI_USAGE;
	}
	il_probe_binding_result r;
	int status = il_probe_binding_run(&o, &r);
	report_binding(a, &o, &r, status);
	return status;
}

/* The REST credential: EXPIRY:user and its password, from the first line
 * of the secret file. */
static int rest_credential(const probe_args *a, char *username, size_t cap,
			   char password[IL_REST_PASSWORD_SIZE])
{
	size_t len;
	uint8_t *secret = cli_read_all(a->rest_secret, SECRET_FILE_MAX, &len);
	if (!secret) {
		cli_error("probe", "--rest-secret: %s: %s", a->rest_secret, strerror(errno));
		return -1;
	}
	size_t n = 0;
	while (n < len && secret[n] != '\n' && secret[n] != '\r')
		n++;
	while (n > 0 && (secret[n - 1] == ' ' || secret[n - 1] == '\t'))
		n--;
	enum il_rest_result rc = il_rest_credential_make(secret, n, a->user, (uint64_t)time(NULL),
						       a->rest_ttl ? a->rest_ttl : 3600, username,
						       cap, password);
	OPENSSL_cleanse(secret, len);
	free(secret);
	if (rc != IL_REST_OK) {
		cli_error("probe", "--rest-secret: %s", rc == IL_REST_NO_SECRET
								? "the file's first line is empty"
								: il_rest_result_name(rc));
		return -1;
	}
	return 0;
}

static int run_allocate(probe_args *a)
{
	il_probe_allocate_options o = {.tls = a->tls, .timeout_ms = timeout_ms(a),
				       .software = a->software, .realm = a->realm,
				       .allow_md5 = !a->no_md5, .lifetime_s = a->lifetime,
				       .send_indications = a->send_indications, .count = a->count,
				       .interval_ms = a->interval, .payload_len = a->size};
	char err[400];
	if (il_probe_parse_turn_uri(a->target, &o.target, err, sizeof err) < 0) {
		cli_error("probe", "allocate: %s", err);
		return CLI_USAGE;
	}
	if (!a->user || (!a->password == !a->rest_secret)) {
		cli_error("probe", "allocate needs --user and one of --password or --rest-secret");
		return CLI_USAGE;
	}
	if (a->peer) {
		if (il_addr_parse(a->peer, &o.peer) < 0) {
			cli_error("probe", "--peer: '%s' is not ADDR:PORT (IPv6 as [ADDR]:PORT)",
				  a->peer);
			return CLI_USAGE;
		}
		o.have_peer = true;
	} else if (a->count || a->interval || a->size || a->send_indications) {
		cli_error("probe", "--count, --interval, --size and --send-indications need --peer");
		return CLI_USAGE;
	}
	char username[IL_REST_USERNAME_MAX], password[IL_REST_PASSWORD_SIZE];
	o.username = a->user;
	o.password = a->password;
	if (a->rest_secret) {
		if (rest_credential(a, username, sizeof username, password) < 0)
			return CLI_USAGE;
		o.username = username;
		o.password = password;
	}
	il_probe_allocate_result r;
	int status = il_probe_allocate_run(&o, &r);
	OPENSSL_cleanse(password, sizeof password);
	report_allocate(a, &o, &r, status);
	return status;
}

int il_cmd_probe(int argc, char **argv)
{
	/* `icelab probe ice` has its own flags (ref/io/probe_ice.c). */
	if (argc >= 2 && !strcmp(argv[1], "ice"))
		return il_probe_ice_main(argc - 1, argv + 1);
	/* `icelab probe nat`: RFC 5780 discovery (ref/io/natprobe.c). */
	if (argc >= 2 && !strcmp(argv[1], "nat"))
		return il_probe_nat_main(argc - 1, argv + 1);
	probe_args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc == 1) {
		usage(stdout);
		return CLI_OK;
	}
	if (rc != 0)
		return rc;
	if (a.tls.insecure && a.tls.ca_file) {
		cli_error("probe", "--ca and --insecure exclude each other");
		return CLI_USAGE;
	}
	if (!strcmp(a.verb, "binding"))
		return run_binding(&a);
	return run_allocate(&a);
}
