/* `icelab stun`: decode, verify and encode single STUN messages (RFC 8489).
 * Thin: flags and I/O here, the codec in ref/stun/, the JSON form in
 * ref/stun/stun_json.c. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "icelab/stun.h"
#include "icelab/stun_integrity.h"
#include "icelab/stun_json.h"

/* The largest STUN message: a 16-bit length after the 20-byte header. */
#define MAX_MSG (IL_STUN_HEADER_LEN + 0xffff)
#define MAX_INPUT (16u << 20)

enum {
	OPT_HEX = 0x100,
	OPT_JSON,
	OPT_JSON_TEXT,
	OPT_PRETTY,
	OPT_EACH_LINE,
	OPT_USERNAME,
	OPT_REALM,
	OPT_PASSWORD,
	OPT_BINARY,
};

static const char stun_usage[] =
	"usage: icelab stun decode [--hex HEX | FILE | -] [--json] [credentials]\n"
	"       icelab stun encode [FILE | - | --json-text TEXT] [--binary] [credentials]\n"
	"\n"
	"Decode, verify and encode single STUN messages (RFC 8489, with the\n"
	"attributes of TURN, ICE, RFC 5780 and RFC 6062). `icelab stun decode\n"
	"--help` and `icelab stun encode --help` give the details.\n";

static const char decode_usage[] =
	"usage: icelab stun decode [--hex HEX | FILE | -] [options]\n"
	"\n"
	"Decodes one STUN message and checks its MESSAGE-INTEGRITY,\n"
	"MESSAGE-INTEGRITY-SHA256, FINGERPRINT and USERHASH.\n"
	"\n"
	"input (one of; default: standard input when it is not a terminal):\n"
	"  --hex HEX            the message as hex digits (whitespace allowed)\n"
	"  FILE | -             a file or standard input, binary or hex text\n"
	"                       (text made of hex digits and whitespace is hex)\n"
	"options:\n"
	"  --json               print the JSON form (one line) instead of a summary\n"
	"  --pretty             with --json: indented\n"
	"  --each-line          one hex message per input line, one result per\n"
	"                       line (batch mode; blank lines are skipped)\n"
	"  --password P         short-term credentials (key = SASLprep(P))\n"
	"  --username U --realm R --password P\n"
	"                       long-term credentials: key = MD5(U:R:P), or\n"
	"                       SHA-256 when the message's PASSWORD-ALGORITHM says\n"
	"                       so; USERHASH is checked against U and R\n"
	"  -h, --help           this help\n"
	"\n"
	"Without credentials a present MESSAGE-INTEGRITY(-SHA256) is \"unchecked\".\n"
	"Attributes after MESSAGE-INTEGRITY are shown with \"ignored\": true.\n"
	"\n"
	"exit status: 0 decoded and no check failed; 1 the message cannot be\n"
	"decoded (JSON: {\"error\":NAME,\"message\":TEXT,\"offset\":N}) or a check\n"
	"says \"mismatch\"; 2 bad usage or input that is not hex. With\n"
	"--each-line, the worst status of all lines.\n";

static const char encode_usage[] =
	"usage: icelab stun encode [FILE | - | --json-text TEXT] [options]\n"
	"\n"
	"Builds a STUN message from its JSON description, the shape `icelab stun\n"
	"decode --json` prints, and writes it as hex (one line) or binary:\n"
	"  {\"method\":\"binding\",\"class\":\"request\",\n"
	"   \"transaction_id\":\"b7e7a701bc34d686fa87dfae\",\n"
	"   \"attributes\":[{\"name\":\"SOFTWARE\",\"value\":\"icelab\"},\n"
	"                 {\"name\":\"XOR-MAPPED-ADDRESS\",\"value\":\"192.0.2.1:32853\"},\n"
	"                 {\"name\":\"ERROR-CODE\",\"code\":401,\"reason\":\"Unauthorized\"},\n"
	"                 {\"type\":32769,\"value\":\"00ff\"},\n"
	"                 {\"name\":\"MESSAGE-INTEGRITY\"},{\"name\":\"FINGERPRINT\"}]}\n"
	"\n"
	"  method       a name (binding, allocate, ...), \"0x\" + hex, or a number\n"
	"  class        request, indication, success or error\n"
	"  classic      true: an RFC 3489 message, 32 hex digits of transaction id\n"
	"  attributes   in wire order; each has \"type\" (a number) or \"name\"\n"
	"               (registry name or \"0x\" + 4 hex digits), and a \"value\":\n"
	"               addresses \"ip:port\" / \"[ipv6]:port\", text as a string,\n"
	"               32-bit integers as numbers, everything else hex;\n"
	"               \"raw\": true writes the value as hex whatever the type.\n"
	"               ERROR-CODE from \"code\" + \"reason\" and UNKNOWN-ATTRIBUTES\n"
	"               from \"types\" when there is no \"value\".\n"
	"               MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 (\"length\" 16..32,\n"
	"               default 32) and FINGERPRINT without a value are computed.\n"
	"  length       optional, for the message and for each attribute: when it\n"
	"               differs from the real length, the header says what is\n"
	"               given (to craft bad packets); the bytes stay the same\n"
	"\n"
	"options:\n"
	"  --json-text TEXT     the description on the command line\n"
	"  --binary             write the bytes (refused when stdout is a terminal)\n"
	"  --each-line          one JSON description per input line, one hex line\n"
	"                       out per message (\"error: ...\" lines on failure)\n"
	"  --password P         short-term key for MESSAGE-INTEGRITY(-SHA256)\n"
	"  --username U --realm R --password P\n"
	"                       long-term key: MD5(U:R:P), or SHA-256 when a\n"
	"                       PASSWORD-ALGORITHM SHA-256 precedes the integrity\n"
	"  -h, --help           this help\n"
	"\n"
	"exit status: 0 written; 2 bad usage or a description that cannot be built.\n";

static int bad_usage(const char *what, const char *problem)
{
	cli_error(what, "%s (see --help)", problem);
	return CLI_USAGE;
}

/* Credentials must come as a password alone, or username, realm and
 * password together; SASLprep must accept them. */
static int check_credentials(const char *what, const il_stun_credentials *c)
{
	il_stun_key key;
	enum il_stun_err e;
	if ((c->username || c->realm) && !(c->username && c->realm && c->password))
		return bad_usage(what, "long-term credentials need --username, --realm and "
				       "--password together");
	if (!c->password)
		return CLI_OK;
	if (c->username)
		e = il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, c->username, c->realm,
					  c->password);
	else
		e = il_stun_key_short_term(&key, c->password);
	if (e == IL_STUN_OK)
		return CLI_OK;
	/* Name the string SASLprep refused (RFC 4013 §2.3, §6). */
	const char *names[] = {"--username", "--realm", "--password"};
	const char *values[] = {c->username, c->realm, c->password};
	char prepped[1024];
	for (int i = 0; i < 3; i++) {
		if (values[i] && il_stun_saslprep(values[i], prepped, sizeof prepped) != IL_STUN_OK) {
			cli_error(what, "%s: refused by SASLprep (RFC 4013: a prohibited or "
					"unassigned character, or bad bidirectional text)", names[i]);
			return CLI_USAGE;
		}
	}
	cli_error(what, "credentials refused: %s", il_stun_err_message(e));
	return CLI_USAGE;
}

/* ------------------------------------------------------------- decode */

typedef struct decode_opts {
	const char *hex;
	const char *path;
	bool json, pretty, each_line;
	il_stun_credentials creds;
} decode_opts;

static void print_json(const json_t *j, bool pretty)
{
	size_t flags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	flags |= pretty ? JSON_INDENT(2) : JSON_COMPACT;
	json_dumpf(j, stdout, flags);
	fputc('\n', stdout);
}

static const char *verdict_of(const json_t *integrity, const char *key)
{
	const char *v = json_string_value(json_object_get(integrity, key));
	return v ? v : "absent";
}

static void print_value(const json_t *attr)
{
	const json_t *v = json_object_get(attr, "value");
	const json_t *code = json_object_get(attr, "code");
	const json_t *types = json_object_get(attr, "types");
	if (json_is_integer(code)) {
		const json_t *reason = json_object_get(attr, "reason");
		printf("%lld", (long long)json_integer_value(code));
		if (reason) {
			fputc(' ', stdout);
			json_dumpf(reason, stdout, JSON_ENCODE_ANY);
		}
		return;
	}
	if (json_is_array(types)) {
		for (size_t i = 0; i < json_array_size(types); i++)
			printf("%s0x%04llx", i ? " " : "",
			       (long long)json_integer_value(json_array_get(types, i)));
		return;
	}
	if (json_is_integer(v)) {
		printf("%lld", (long long)json_integer_value(v));
		return;
	}
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	bool is_text = false;
	const il_stun_attr_info *info =
		il_stun_attr_info_find((uint16_t)json_integer_value(json_object_get(attr, "type")));
	if (info && info->kind == IL_VAL_STRING && !json_is_true(json_object_get(attr, "raw")))
		is_text = true;
	if (len == 0 && !is_text) {
		fputs("(empty)", stdout);
	} else if (is_text) {
		json_dumpf(v, stdout, JSON_ENCODE_ANY);
	} else if (len > 128) {
		printf("%.128s... (%zu bytes)", s, len / 2);
	} else {
		fputs(s ? s : "", stdout);
	}
	if (json_is_true(json_object_get(attr, "raw")))
		fputs(" (raw: not in its type's form)", stdout);
}

/* A one-line header, then one line per attribute, then the verdicts. */
static void print_summary(const json_t *j)
{
	const json_t *attrs = json_object_get(j, "attributes");
	const json_t *integrity = json_object_get(j, "integrity");
	const char *cls = json_string_value(json_object_get(j, "class"));
	const char *cls_text = !cls ? "?" : strcmp(cls, "success") == 0 ? "success response"
				 : strcmp(cls, "error") == 0 ? "error response" : cls;

	printf("STUN %s %s%s, transaction id %s, length %lld, %zu attribute%s\n",
	       json_string_value(json_object_get(j, "method")), cls_text,
	       json_is_true(json_object_get(j, "classic")) ? " (classic RFC 3489)" : "",
	       json_string_value(json_object_get(j, "transaction_id")),
	       (long long)json_integer_value(json_object_get(j, "length")),
	       json_array_size(attrs), json_array_size(attrs) == 1 ? "" : "s");
	for (size_t i = 0; i < json_array_size(attrs); i++) {
		const json_t *a = json_array_get(attrs, i);
		long long type = json_integer_value(json_object_get(a, "type"));
		long long alen = json_integer_value(json_object_get(a, "length"));
		if (il_stun_attr_info_find((uint16_t)type))
			printf("  %s (0x%04llx, %lld bytes): ",
			       json_string_value(json_object_get(a, "name")), type, alen);
		else
			printf("  0x%04llx (unknown, comprehension-%s, %lld bytes): ", type,
			       type < 0x8000 ? "required" : "optional", alen);
		print_value(a);
		if (json_is_true(json_object_get(a, "ignored")))
			fputs(" [ignored: follows MESSAGE-INTEGRITY]", stdout);
		else if (type == IL_ATTR_MESSAGE_INTEGRITY)
			printf(" [%s]", verdict_of(integrity, "message_integrity"));
		else if (type == IL_ATTR_MESSAGE_INTEGRITY_SHA256)
			printf(" [%s]", verdict_of(integrity, "message_integrity_sha256"));
		else if (type == IL_ATTR_FINGERPRINT)
			printf(" [%s]", verdict_of(integrity, "fingerprint"));
		else if (type == IL_ATTR_USERHASH)
			printf(" [%s]", verdict_of(integrity, "userhash"));
		fputc('\n', stdout);
	}
	printf("integrity: message-integrity %s, message-integrity-sha256 %s, fingerprint %s",
	       verdict_of(integrity, "message_integrity"),
	       verdict_of(integrity, "message_integrity_sha256"),
	       verdict_of(integrity, "fingerprint"));
	if (json_object_get(integrity, "userhash"))
		printf(", userhash %s", verdict_of(integrity, "userhash"));
	fputc('\n', stdout);
}

/* The failed checks, "message_integrity mismatch, fingerprint mismatch";
 * empty when none failed. */
static void failed_checks(const json_t *integrity, char *out, size_t len)
{
	const char *key;
	json_t *v;
	size_t n = 0;
	out[0] = '\0';
	json_object_foreach((json_t *)integrity, key, v) {
		if (strcmp(json_string_value(v), "mismatch") != 0)
			continue;
		int w = snprintf(out + n, len - n, "%s%s mismatch", n ? ", " : "", key);
		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
}

static int decode_one(const decode_opts *o, const uint8_t *buf, size_t len, const char *where)
{
	il_stun_msg msg;
	il_stun_decode_error derr = {IL_STUN_OK, 0};
	const char *sep = where ? ": " : "";
	where = where ? where : "";

	enum il_stun_err e = il_stun_decode(buf, len, &msg, &derr);
	if (e != IL_STUN_OK) {
		if (o->json) {
			json_t *j = json_object();
			json_object_set_new(j, "error", json_string(il_stun_err_name(e)));
			json_object_set_new(j, "message", json_string(il_stun_err_message(e)));
			json_object_set_new(j, "offset", json_integer((json_int_t)derr.offset));
			print_json(j, o->pretty);
			json_decref(j);
		}
		cli_error("stun decode", "%s%scannot decode: %s at offset %zu: %s", where, sep,
			  il_stun_err_name(e), derr.offset, il_stun_err_message(e));
		return CLI_FAILED;
	}
	json_t *j = il_stun_msg_to_json(&msg, &o->creds);
	if (o->json)
		print_json(j, o->pretty);
	else
		print_summary(j);
	char failed[160];
	failed_checks(json_object_get(j, "integrity"), failed, sizeof failed);
	json_decref(j);
	if (failed[0]) {
		cli_error("stun decode", "%s%scheck failed: %s", where, sep, failed);
		return CLI_FAILED;
	}
	return CLI_OK;
}

static int worst(int a, int b)
{
	return a > b ? a : b;
}

static int decode_lines(const decode_opts *o)
{
	FILE *f = o->path && strcmp(o->path, "-") != 0 ? fopen(o->path, "r") : stdin;
	if (!f) {
		cli_error("stun decode", "%s: %s", o->path, strerror(errno));
		return CLI_USAGE;
	}
	uint8_t *buf = malloc(MAX_MSG + 1);
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = CLI_OK;
	while (buf && (n = getline(&line, &cap, f)) >= 0) {
		char where[32];
		lineno++;
		if (strspn(line, " \t\r\n") == (size_t)n)
			continue; /* blank */
		snprintf(where, sizeof where, "line %zu", lineno);
		long len = cli_hex_decode(line, (size_t)n, buf, MAX_MSG + 1);
		if (len < 0) {
			if (o->json)
				puts("{\"error\":\"bad-hex\",\"message\":\"not hex digits\",\"offset\":0}");
			cli_error("stun decode", "%s: not hex (a non-hex character, an odd digit count, or too long)",
				  where);
			rc = worst(rc, CLI_USAGE);
			continue;
		}
		rc = worst(rc, decode_one(o, buf, (size_t)len, where));
		if (!o->json)
			fputc('\n', stdout);
	}
	free(line);
	free(buf);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int decode_input(const decode_opts *o)
{
	uint8_t *buf;
	size_t len;
	long n;

	if (o->hex) {
		size_t tlen = strlen(o->hex);
		buf = malloc(tlen / 2 + 1);
		n = buf ? cli_hex_decode(o->hex, tlen, buf, tlen / 2 + 1) : -1;
		if (n < 0) {
			free(buf);
			return bad_usage("stun decode",
					 "--hex: not hex (odd digit count or a non-hex character)");
		}
		len = (size_t)n;
	} else {
		buf = cli_read_all(o->path, MAX_INPUT, &len);
		if (!buf) {
			cli_error("stun decode", "%s: %s", strcmp(o->path, "-") ? o->path : "stdin",
				  strerror(errno));
			return CLI_USAGE;
		}
		if (cli_looks_like_hex(buf, len)) {
			n = cli_hex_decode((const char *)buf, len, buf, len);
			if (n < 0) {
				free(buf);
				return bad_usage("stun decode", "input: an odd number of hex digits");
			}
			len = (size_t)n;
		}
	}
	int rc = decode_one(o, buf, len, NULL);
	free(buf);
	return rc;
}

#define CREDENTIAL_OPTIONS                                         \
	{"username", required_argument, NULL, OPT_USERNAME},       \
	{"realm", required_argument, NULL, OPT_REALM},             \
	{"password", required_argument, NULL, OPT_PASSWORD}

static bool credential_option(int opt, il_stun_credentials *c)
{
	switch (opt) {
	case OPT_USERNAME:
		c->username = optarg;
		return true;
	case OPT_REALM:
		c->realm = optarg;
		return true;
	case OPT_PASSWORD:
		c->password = optarg;
		return true;
	default:
		return false;
	}
}

static int stun_decode(int argc, char **argv)
{
	static const struct option opts[] = {
		{"hex", required_argument, NULL, OPT_HEX},
		{"json", no_argument, NULL, OPT_JSON},
		{"pretty", no_argument, NULL, OPT_PRETTY},
		{"each-line", no_argument, NULL, OPT_EACH_LINE},
		CREDENTIAL_OPTIONS,
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	decode_opts o = {0};
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (credential_option(opt, &o.creds))
			continue;
		switch (opt) {
		case OPT_HEX: o.hex = optarg; break;
		case OPT_JSON: o.json = true; break;
		case OPT_PRETTY: o.pretty = true; break;
		case OPT_EACH_LINE: o.each_line = true; break;
		case 'h': fputs(decode_usage, stdout); return CLI_OK;
		default: return cli_bad_option("stun decode", opt, argv);
		}
	}
	if (optind + 1 < argc)
		return bad_usage("stun decode", "more than one input file");
	if (optind < argc)
		o.path = argv[optind];
	if (o.hex && o.path)
		return bad_usage("stun decode", "give --hex or a FILE, not both");
	if (o.hex && o.each_line)
		return bad_usage("stun decode", "--each-line reads FILE or standard input, not --hex");
	if (o.pretty && !o.json)
		return bad_usage("stun decode", "--pretty goes with --json");
	if (!o.hex && !o.path) {
		if (isatty(STDIN_FILENO))
			return bad_usage("stun decode", "no input: give --hex HEX, FILE or -");
		o.path = "-";
	}
	int rc = check_credentials("stun decode", &o.creds);
	if (rc != CLI_OK)
		return rc;
	return o.each_line ? decode_lines(&o) : decode_input(&o);
}

/* ------------------------------------------------------------- encode */

typedef struct encode_opts {
	const char *path;
	const char *text;
	bool binary, each_line;
	il_stun_credentials creds;
} encode_opts;

/* Builds one description; prints the hex line or the bytes. where names
 * the input ("line 3", a file name) in messages. */
static int encode_one(const encode_opts *o, const char *text, size_t len, const char *where,
		      uint8_t *out)
{
	json_error_t jerr;
	char err[256];
	json_t *desc = json_loadb(text, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (!desc) {
		cli_error("stun encode", "%s:%d:%d: %s", where, jerr.line, jerr.column, jerr.text);
		if (o->each_line)
			printf("error: %s\n", jerr.text);
		return CLI_USAGE;
	}
	size_t n = il_stun_msg_from_json(desc, &o->creds, out, MAX_MSG, err, sizeof err);
	json_decref(desc);
	if (n == 0) {
		cli_error("stun encode", "%s: %s", where, err);
		if (o->each_line)
			printf("error: %s\n", err);
		return CLI_USAGE;
	}
	if (o->binary) {
		fwrite(out, 1, n, stdout);
	} else {
		cli_hex_print(stdout, out, n);
		fputc('\n', stdout);
	}
	return CLI_OK;
}

static int encode_lines(const encode_opts *o, uint8_t *out)
{
	FILE *f = o->path && strcmp(o->path, "-") != 0 ? fopen(o->path, "r") : stdin;
	if (!f) {
		cli_error("stun encode", "%s: %s", o->path, strerror(errno));
		return CLI_USAGE;
	}
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = CLI_OK;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char where[32];
		lineno++;
		if (strspn(line, " \t\r\n") == (size_t)n)
			continue;
		snprintf(where, sizeof where, "line %zu", lineno);
		rc = worst(rc, encode_one(o, line, (size_t)n, where, out));
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int stun_encode(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json-text", required_argument, NULL, OPT_JSON_TEXT},
		{"binary", no_argument, NULL, OPT_BINARY},
		{"each-line", no_argument, NULL, OPT_EACH_LINE},
		CREDENTIAL_OPTIONS,
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	encode_opts o = {0};
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (credential_option(opt, &o.creds))
			continue;
		switch (opt) {
		case OPT_JSON_TEXT: o.text = optarg; break;
		case OPT_BINARY: o.binary = true; break;
		case OPT_EACH_LINE: o.each_line = true; break;
		case 'h': fputs(encode_usage, stdout); return CLI_OK;
		default: return cli_bad_option("stun encode", opt, argv);
		}
	}
	if (optind + 1 < argc)
		return bad_usage("stun encode", "more than one input file");
	if (optind < argc)
		o.path = argv[optind];
	if (o.text && o.path)
		return bad_usage("stun encode", "give --json-text or a FILE, not both");
	if (o.text && o.each_line)
		return bad_usage("stun encode", "--each-line reads FILE or standard input");
	if (o.binary && o.each_line)
		return bad_usage("stun encode", "--binary and --each-line do not mix");
	if (o.binary && isatty(STDOUT_FILENO))
		return bad_usage("stun encode", "--binary: refusing to write bytes to a terminal");
	if (!o.text && !o.path) {
		if (isatty(STDIN_FILENO))
			return bad_usage("stun encode", "no input: give FILE, - or --json-text TEXT");
		o.path = "-";
	}
	int rc = check_credentials("stun encode", &o.creds);
	if (rc != CLI_OK)
		return rc;

	uint8_t *out = malloc(MAX_MSG);
	if (!out) {
		cli_error("stun encode", "out of memory");
		return CLI_USAGE;
	}
	if (o.each_line) {
		rc = encode_lines(&o, out);
	} else if (o.text) {
		rc = encode_one(&o, o.text, strlen(o.text), "--json-text", out);
	} else {
		size_t len;
		uint8_t *text = cli_read_all(o.path, MAX_INPUT, &len);
		if (!text) {
			cli_error("stun encode", "%s: %s", strcmp(o.path, "-") ? o.path : "stdin",
				  strerror(errno));
			rc = CLI_USAGE;
		} else {
			rc = encode_one(&o, (const char *)text, len,
					strcmp(o.path, "-") ? o.path : "stdin", out);
			free(text);
		}
	}
	free(out);
	return rc;
}

/* ---------------------------------------------------------- dispatch */

int cmd_stun(int argc, char **argv)
{
	if (argc < 2) {
		fputs(stun_usage, stderr);
		return CLI_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		fputs(stun_usage, stdout);
		return CLI_OK;
	}
	if (strcmp(sub, "decode") == 0)
		return stun_decode(argc - 1, argv + 1);
	if (strcmp(sub, "encode") == 0)
		return stun_encode(argc - 1, argv + 1);
	cli_error("stun", "unknown subcommand '%s' (decode, encode; see --help)", sub);
	return CLI_USAGE;
}
