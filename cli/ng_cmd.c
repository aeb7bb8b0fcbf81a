/* `icelab ng`: sends one command of rtpengine's ng protocol (bencode over
 * UDP) and prints the reply as JSON. For newcomers driving `icelab serve
 * --sbc` by hand, for tests, and against rtpengine itself. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "icelab/addr.h"
#include "icelab/bencode.h"

#define REQ_MAX (128 * 1024)
#define REPLY_MAX (256 * 1024)
#define NODES 8192

static void usage(FILE *f)
{
	fputs("usage: icelab ng HOST:PORT COMMAND [key=value ...] [--sdp FILE] [--flag F]...\n"
	      "\n"
	      "Sends one ng command (rtpengine's control protocol: \"COOKIE bencoded-dict\"\n"
	      "over UDP) and prints the reply dictionary as JSON.\n"
	      "COMMAND: ping, offer, answer, delete, query, list, statistics (or any other).\n"
	      "key=value adds a string; for the list keys flags, replace, rtcp-mux,\n"
	      "direction, SDES and supports the value is split at commas.\n"
	      "\n"
	      "options:\n"
	      "  --sdp FILE       the \"sdp\" key from FILE (\"-\": stdin)\n"
	      "  --flag F         add F to the \"flags\" list (repeatable)\n"
	      "  --sdp-only       print only the reply's \"sdp\" (raw), not JSON\n"
	      "  --timeout MS     give up after MS milliseconds (default 3000; the command\n"
	      "                   is sent again every 500 ms with the same cookie)\n"
	      "\n"
	      "example:\n"
	      "  icelab ng 127.0.0.1:2223 offer call-id=c1 from-tag=a ICE=force --sdp offer.sdp\n"
	      "\n"
	      "exit status: 0 result ok (or pong), 1 result error, 2 bad usage or no reply.\n",
	      f);
}

static bool is_list_key(const char *k)
{
	static const char *const lists[] = {"flags", "replace", "rtcp-mux", "direction", "SDES",
					    "supports"};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		if (!strcmp(k, lists[i]))
			return true;
	return false;
}

/* ---- the reply as JSON ---- */

static json_t *to_json(const il_benc_node *n, int i)
{
	const il_benc_node *nd = &n[i];
	if (nd->type == IL_BENC_INT)
		return json_integer(nd->num);
	if (nd->type == IL_BENC_STR) {
		json_t *s = json_stringn(nd->str, nd->len);
		return s ? s : json_sprintf("<%zu bytes, not UTF-8>", nd->len);
	}
	json_t *out = nd->type == IL_BENC_LIST ? json_array() : json_object();
	int c = i + 1;
	for (uint32_t k = 0; k < nd->count; k++) {
		if (nd->type == IL_BENC_LIST) {
			json_array_append_new(out, to_json(n, c));
			c = (int)n[c].end;
			continue;
		}
		int v = (int)n[c].end;
		char key[512];
		size_t kl = n[c].len < sizeof key - 1 ? n[c].len : sizeof key - 1;
		memcpy(key, n[c].str, kl);
		key[kl] = '\0';
		json_object_set_new(out, key, to_json(n, v));
		c = (int)n[v].end;
		k++;
	}
	return out;
}

/* ---- the exchange ---- */

static int open_socket(const char *target, struct sockaddr_storage *ss, socklen_t *sl)
{
	char text[300];
	il_addr a;
	if (!strncmp(target, "localhost:", 10))
		snprintf(text, sizeof text, "127.0.0.1:%s", target + 10);
	else
		snprintf(text, sizeof text, "%s", target);
	if (il_addr_parse(text, &a) != 0 || a.port == 0)
		return -1;
	memset(ss, 0, sizeof *ss);
	if (a.family == IL_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a.port);
		memcpy(&s4->sin_addr, a.ip, 4);
		*sl = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a.port);
		memcpy(&s6->sin6_addr, a.ip, 16);
		*sl = sizeof *s6;
	}
	return socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sends req and waits for a reply carrying cookie; its length or -1. */
static long exchange(int fd, const struct sockaddr_storage *ss, socklen_t sl, const char *req,
		     size_t len, const char *cookie, char *reply, size_t cap, unsigned timeout_ms)
{
	uint64_t end = mono_ms() + timeout_ms, next_send = 0;
	size_t cl = strlen(cookie);
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= end)
			return -1;
		if (now >= next_send) {
			sendto(fd, req, len, 0, (const struct sockaddr *)ss, sl);
			next_send = now + 500;
		}
		uint64_t until = next_send < end ? next_send : end;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(until - now)) <= 0)
			continue;
		ssize_t n = recv(fd, reply, cap, 0);
		if (n > (ssize_t)cl && memcmp(reply, cookie, cl) == 0 && reply[cl] == ' ')
			return n;
	}
}

int il_cmd_ng(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"sdp", required_argument, NULL, 's'},	{"flag", required_argument, NULL, 'f'},
		{"sdp-only", no_argument, NULL, 'o'},	{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},	{NULL, 0, NULL, 0}};
	const char *sdp_path = NULL;
	const char *flags[64];
	size_t nflags = 0;
	bool sdp_only = false;
	unsigned timeout_ms = 3000;
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return CLI_OK;
		} else if (c == 's') {
			sdp_path = optarg;
		} else if (c == 'f') {
			if (nflags == sizeof flags / sizeof flags[0]) {
				cli_error("ng", "too many --flag");
				return CLI_USAGE;
			}
			flags[nflags++] = optarg;
		} else if (c == 'o') {
			sdp_only = true;
		} else if (c == 't') {
			char *e;
			long v = strtol(optarg, &e, 10);
			if (*e || v <= 0 || v > 600000) {
				cli_error("ng", "--timeout: expected milliseconds 1-600000, got '%s'",
					  optarg);
				return CLI_USAGE;
			}
			timeout_ms = (unsigned)v;
		} else {
			return cli_bad_option("ng", c, argv);
		}
	}
	/* Positional arguments and options mixed: collect the rest by hand. */
	const char *pos[256];
	size_t npos = 0;
	for (int i = optind; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--sdp") || !strcmp(a, "--flag") || !strcmp(a, "--timeout")) {
			if (i + 1 >= argc) {
				cli_error("ng", "option '%s' needs a value (see --help)", a);
				return CLI_USAGE;
			}
			const char *v = argv[++i];
			if (a[2] == 's')
				sdp_path = v;
			else if (a[2] == 'f' && nflags < sizeof flags / sizeof flags[0])
				flags[nflags++] = v;
			else if (a[2] == 't')
				timeout_ms = (unsigned)atoi(v) > 0 ? (unsigned)atoi(v) : timeout_ms;
		} else if (!strcmp(a, "--sdp-only")) {
			sdp_only = true;
		} else if (a[0] == '-' && a[1]) {
			cli_error("ng", "unknown option '%s' (see --help)", a);
			return CLI_USAGE;
		} else if (npos < sizeof pos / sizeof pos[0]) {
			pos[npos++] = a;
		}
	}
	if (npos < 2) {
		cli_error("ng", "expected HOST:PORT COMMAND (see --help)");
		return CLI_USAGE;
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = open_socket(pos[0], &ss, &sl);
	if (fd < 0) {
		cli_error("ng", "bad target '%s' (expected IP:PORT)", pos[0]);
		return CLI_USAGE;
	}
	static char req[REQ_MAX], reply[REPLY_MAX];
	char cookie[32];
	snprintf(cookie, sizeof cookie, "%lx_%x", (unsigned long)mono_ms(), (unsigned)getpid());
	il_benc_writer w;
	il_benc_writer_init(&w, req, sizeof req);
	il_benc_put_raw(&w, cookie, strlen(cookie));
	il_benc_put_raw(&w, " ", 1);
	il_benc_begin_dict(&w);
	il_benc_kv_str(&w, "command", pos[1]);
	int rc = CLI_USAGE;
	uint8_t *sdp = NULL;
	for (size_t i = 2; i < npos; i++) {
		const char *eq = strchr(pos[i], '=');
		if (!eq || eq == pos[i]) {
			cli_error("ng", "expected key=value, got '%s'", pos[i]);
			goto out;
		}
		char key[128];
		size_t kl = (size_t)(eq - pos[i]);
		if (kl >= sizeof key) {
			cli_error("ng", "key too long in '%s'", pos[i]);
			goto out;
		}
		memcpy(key, pos[i], kl);
		key[kl] = '\0';
		il_benc_put_cstr(&w, key);
		if (!is_list_key(key)) {
			il_benc_put_cstr(&w, eq + 1);
			continue;
		}
		il_benc_begin_list(&w);
		for (const char *p = eq + 1; *p;) {
			const char *comma = strchr(p, ',');
			size_t l = comma ? (size_t)(comma - p) : strlen(p);
			if (l)
				il_benc_put_str(&w, p, l);
			p += l + (comma ? 1 : 0);
		}
		il_benc_end(&w);
	}
	if (nflags) {
		il_benc_put_cstr(&w, "flags");
		il_benc_begin_list(&w);
		for (size_t i = 0; i < nflags; i++)
			il_benc_put_cstr(&w, flags[i]);
		il_benc_end(&w);
	}
	if (sdp_path) {
		size_t len;
		sdp = cli_read_all(sdp_path, 64 * 1024, &len);
		if (!sdp) {
			cli_error("ng", "--sdp %s: %s", sdp_path, strerror(errno));
			goto out;
		}
		il_benc_put_cstr(&w, "sdp");
		il_benc_put_str(&w, sdp, len);
	}
	il_benc_end(&w);
	if (w.overflow) {
		cli_error("ng", "the command is longer than %d bytes", REQ_MAX);
		goto out;
	}
	long n = exchange(fd, &ss, sl, req, w.len, cookie, reply, sizeof reply, timeout_ms);
	if (n < 0) {
		cli_error("ng", "no reply from %s within %u ms", pos[0], timeout_ms);
		goto out;
	}
	static il_benc_node nodes[NODES];
	size_t cl = strlen(cookie) + 1;
	int count = il_benc_parse(reply + cl, (size_t)n - cl, nodes, NODES, NULL);
	if (count < 0 || nodes[0].type != IL_BENC_DICT) {
		cli_error("ng", "the reply is not a bencoded dictionary (%s)",
			  il_benc_strerror(count < 0 ? count : IL_BENC_ERR_SYNTAX));
		goto out;
	}
	bool ok = il_benc_str_is(nodes, il_benc_dict_get(nodes, 0, "result"), "ok") ||
		  il_benc_str_is(nodes, il_benc_dict_get(nodes, 0, "result"), "pong");
	size_t sl2;
	const char *out_sdp = il_benc_dict_str(nodes, 0, "sdp", &sl2);
	if (sdp_only && out_sdp) {
		fwrite(out_sdp, 1, sl2, stdout);
	} else {
		json_t *j = to_json(nodes, 0);
		char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(j);
	}
	rc = ok ? CLI_OK : CLI_FAILED;
out:
	free(sdp);
	close(fd);
	return rc;
}
