/* `icelab probe nat`: the RFC 5780 discovery core (nat_discovery.h) on
 * real UDP sockets. A small poll(2) loop is the whole driver: five UDP
 * sockets at most, one deadline, nothing else to wait for. The local
 * address each socket reports is the one the kernel picks toward the
 * server (a connected probe socket's name), so that "no NAT" (§4.3: the
 * mapped address is the local one) can be recognised; sockets are bound
 * to it with an ephemeral port. */
#include "icelab/natprobe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "icelab/nat_discovery.h"

#define WHAT "probe nat"

typedef struct natprobe {
	il_natd natd;
	int fd[IL_NATD_SOCKETS];
	il_addr local_ip; /* port 0 */
	int family;       /* AF_INET or AF_INET6 */
} natprobe;

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void err_line(const char *fmt, const char *arg)
{
	fprintf(stderr, "icelab " WHAT ": ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

/* ---- addresses ---- */

static socklen_t to_sockaddr(const il_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (a->family == IL_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->ip, 4);
		return sizeof *s4;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(a->port);
	memcpy(&s6->sin6_addr, a->ip, 16);
	return sizeof *s6;
}

static void from_sockaddr(const struct sockaddr_storage *ss, il_addr *a)
{
	memset(a, 0, sizeof *a);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->family = IL_AF_INET;
		a->port = ntohs(s4->sin_port);
		memcpy(a->ip, &s4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		a->family = IL_AF_INET6;
		a->port = ntohs(s6->sin6_port);
		memcpy(a->ip, &s6->sin6_addr, 16);
	}
}

/* udp://HOST[:PORT], stun:HOST[:PORT] or HOST[:PORT]; [v6] in brackets.
 * Resolves to the first UDP address. 0, or -1 with a reason. */
static int parse_target(const char *text, il_addr *out, char *why, size_t why_len)
{
	const char *p = text;
	if (strncmp(p, "udp://", 6) == 0)
		p += 6;
	else if (strncmp(p, "stun:", 5) == 0)
		p += 5;
	else if (strstr(p, "://")) {
		snprintf(why, why_len, "'%s': only udp:// targets (RFC 5780 is UDP only)", text);
		return -1;
	}
	char host[256], port[8] = "3478";
	const char *colon;
	size_t hl;
	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (!end) {
			snprintf(why, why_len, "'%s': missing ']'", text);
			return -1;
		}
		hl = (size_t)(end - p - 1);
		p++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon) {
			snprintf(why, why_len, "'%s': junk after ']'", text);
			return -1;
		}
	} else {
		colon = strrchr(p, ':');
		if (colon && strchr(p, ':') != colon)
			colon = NULL; /* a bare IPv6 literal */
		hl = colon ? (size_t)(colon - p) : strlen(p);
	}
	if (hl == 0 || hl >= sizeof host) {
		snprintf(why, why_len, "'%s': no host", text);
		return -1;
	}
	memcpy(host, p, hl);
	host[hl] = '\0';
	if (colon) {
		char *end;
		long n = strtol(colon + 1, &end, 10);
		if (*end || end == colon + 1 || n < 1 || n > 65535) {
			snprintf(why, why_len, "'%s': bad port", text);
			return -1;
		}
		snprintf(port, sizeof port, "%ld", n);
	}
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_DGRAM;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(why, why_len, "'%s': %s", host, gai_strerror(rc));
		return -1;
	}
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	memcpy(&ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	from_sockaddr(&ss, out);
	return 0;
}

/* The local IP the kernel would use toward server. */
static int local_ip_toward(const il_addr *server, il_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(server, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	int rc = connect(fd, (struct sockaddr *)&ss, len);
	socklen_t sl = sizeof ss;
	if (rc == 0)
		rc = getsockname(fd, (struct sockaddr *)&ss, &sl);
	close(fd);
	if (rc < 0)
		return -1;
	from_sockaddr(&ss, out);
	out->port = 0;
	return 0;
}

/* ---- callbacks ---- */

static int cb_bind(void *user, int sock, il_addr *local)
{
	natprobe *np = user;
	if (np->fd[sock] >= 0)
		close(np->fd[sock]);
	np->fd[sock] = socket(np->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (np->fd[sock] < 0)
		return -1;
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(&np->local_ip, &ss);
	if (bind(np->fd[sock], (struct sockaddr *)&ss, len) < 0)
		return -1;
	socklen_t sl = sizeof ss;
	if (getsockname(np->fd[sock], (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	from_sockaddr(&ss, local);
	return 0;
}

static void cb_send(void *user, int sock, const il_addr *to, const uint8_t *data, size_t len)
{
	natprobe *np = user;
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(to, &ss);
	if (np->fd[sock] >= 0)
		(void)sendto(np->fd[sock], data, len, 0, (struct sockaddr *)&ss, sl);
}

static void cb_random(void *user, uint8_t *out, size_t len)
{
	(void)user;
	while (len) {
		ssize_t n = getrandom(out, len, 0);
		if (n <= 0)
			abort(); /* no randomness: never send a guessable tid */
		out += n;
		len -= (size_t)n;
	}
}

/* ---- the loop ---- */

static void drain(natprobe *np, int sock)
{
	uint8_t buf[1600];
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		ssize_t n = recvfrom(np->fd[sock], buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl);
		if (n < 0)
			return;
		il_addr from;
		from_sockaddr(&ss, &from);
		il_natd_handle_datagram(&np->natd, sock, &from, buf, (size_t)n, mono_ms());
	}
}

static int run_loop(natprobe *np, uint64_t limit_ms)
{
	uint64_t start = mono_ms();
	while (!il_natd_done(&np->natd)) {
		uint64_t now = mono_ms();
		if (now - start > limit_ms)
			return -1;
		uint64_t dl = il_natd_next_deadline(&np->natd);
		int timeout = dl <= now ? 0 : (dl - now > 1000 ? 1000 : (int)(dl - now));
		struct pollfd pfd[IL_NATD_SOCKETS];
		int map[IL_NATD_SOCKETS], n = 0;
		for (int i = 0; i < IL_NATD_SOCKETS; i++)
			if (np->fd[i] >= 0) {
				pfd[n].fd = np->fd[i];
				pfd[n].events = POLLIN;
				map[n++] = i;
			}
		int rc = poll(pfd, (nfds_t)n, timeout);
		if (rc < 0 && errno != EINTR)
			return -1;
		for (int i = 0; rc > 0 && i < n; i++)
			if (pfd[i].revents & POLLIN)
				drain(np, map[i]);
		il_natd_timer(&np->natd, mono_ms());
	}
	return 0;
}

/* ---- output ---- */

static void fmt(const il_addr *a, char *buf, size_t len)
{
	if (a->family == IL_AF_NONE)
		snprintf(buf, len, "-");
	else
		il_addr_format(a, buf, len);
}

void il_natd_result_print(const il_natd_result *r, const il_addr *server, FILE *out,
			  bool json)
{
	char sv[IL_ADDR_STRLEN], lo[IL_ADDR_STRLEN], ma[IL_ADDR_STRLEN], ot[IL_ADDR_STRLEN];
	fmt(server, sv, sizeof sv);
	fmt(&r->local, lo, sizeof lo);
	fmt(&r->mapped, ma, sizeof ma);
	fmt(&r->other, ot, sizeof ot);
	if (json) {
		fprintf(out,
			"{\"server\": \"%s\", \"other_address\": \"%s\", \"rfc5780\": %s, "
			"\"udp_blocked\": %s, \"local\": \"%s\", \"mapped\": \"%s\", "
			"\"port_preserved\": %s, \"mapping\": \"%s\", \"filtering\": \"%s\", "
			"\"hairpinning\": \"%s\", \"nat_type\": \"%s\"",
			sv, ot, r->rfc5780 ? "true" : "false", r->udp_blocked ? "true" : "false",
			lo, ma, r->port_preserved ? "true" : "false",
			il_natd_mapping_name(r->mapping, true),
			il_natd_filtering_name(r->filtering, true), il_natd_tristate_name(r->hairpin),
			il_natd_classic_name(r));
		if (r->lifetime_tested == IL_NATD_YES)
			fprintf(out, ", \"lifetime\": {\"alive_ms\": %u, \"gone_ms\": %u, \"rounds\": %u}",
				r->lifetime_lo_ms, r->lifetime_hi_ms, r->lifetime_rounds);
		fprintf(out, ", \"requests\": %u, \"error\": \"%s\"}\n", r->requests_sent,
			r->error);
		return;
	}
	fprintf(out, "server       %s (other address %s)\n", sv, ot);
	if (r->udp_blocked) {
		fprintf(out, "udp          blocked: no answer to a Binding request (RFC 5780 §4.2)\n");
		fprintf(out, "nat type     udp-blocked\n");
		return;
	}
	fprintf(out, "local        %s\n", lo);
	fprintf(out, "mapped       %s%s\n", ma, r->port_preserved ? " (port preserved)" : "");
	fprintf(out, "mapping      %s\n", il_natd_mapping_name(r->mapping, false));
	fprintf(out, "filtering    %s\n", il_natd_filtering_name(r->filtering, false));
	fprintf(out, "hairpinning  %s\n", il_natd_tristate_name(r->hairpin));
	if (r->lifetime_tested == IL_NATD_YES) {
		if (r->lifetime_hi_ms)
			fprintf(out, "lifetime     over %u ms, under %u ms (%u rounds)\n",
				r->lifetime_lo_ms, r->lifetime_hi_ms, r->lifetime_rounds);
		else
			fprintf(out, "lifetime     at least %u ms (%u rounds)\n", r->lifetime_lo_ms,
				r->lifetime_rounds);
	}
	fprintf(out, "nat type     %s\n", il_natd_classic_name(r));
	if (r->error[0])
		fprintf(out, "note         %s\n", r->error);
}

/* ---- flags ---- */

static int parse_duration_ms(const char *v, uint32_t *out)
{
	char *end;
	double n = strtod(v, &end);
	if (end == v || n < 0)
		return -1;
	double mult;
	if (!strcmp(end, "ms"))
		mult = 1;
	else if (!strcmp(end, "s") || !*end)
		mult = 1000;
	else if (!strcmp(end, "m"))
		mult = 60000;
	else
		return -1;
	if (n * mult > 24.0 * 3600 * 1000)
		return -1;
	*out = (uint32_t)(n * mult);
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: icelab probe nat udp://HOST[:PORT] [options]\n"
	      "\n"
	      "RFC 5780 NAT behaviour discovery against a server with OTHER-ADDRESS\n"
	      "(icelab serve --other-address, coturn with two addresses, stuntman):\n"
	      "mapping (§4.3), filtering (§4.4), hairpinning, binding lifetime (§4.6).\n"
	      "\n"
	      "  --lifetime MAX        search the binding lifetime up to MAX (90s, 5m)\n"
	      "  --resolution D        lifetime precision (default 1s)\n"
	      "  --no-hairpin          skip the hairpinning test\n"
	      "  --rto MS              initial retransmission timeout (default 500)\n"
	      "  --rc N                transmissions per request (default 7)\n"
	      "  --expect NAME         exit 1 unless the NAT type is NAME\n"
	      "  --expect-mapping M    no-nat, eim, adm or apdm\n"
	      "  --expect-filtering F  eif, adf or apdf\n"
	      "  --json                print the result as JSON\n"
	      "  -h, --help            this text\n"
	      "\n"
	      "Exit: 0 classified, 1 not classified or not as expected, 2 usage or local error.\n",
	      f);
}

int il_probe_nat_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"lifetime", required_argument, NULL, 'l'},
		{"resolution", required_argument, NULL, 'r'},
		{"no-hairpin", no_argument, NULL, 'H'},
		{"rto", required_argument, NULL, 'R'},
		{"rc", required_argument, NULL, 'c'},
		{"expect", required_argument, NULL, 'e'},
		{"expect-mapping", required_argument, NULL, 'm'},
		{"expect-filtering", required_argument, NULL, 'f'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint32_t lifetime = 0, resolution = 1000, rto = 500, rc_count = 7;
	bool hairpin = true, json = false;
	const char *expect = NULL, *expect_m = NULL, *expect_f = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'l':
		case 'r':
			if (parse_duration_ms(optarg, c == 'l' ? &lifetime : &resolution) < 0) {
				err_line("bad duration '%s' (90s, 5m, 500ms)", optarg);
				return 2;
			}
			break;
		case 'R':
		case 'c': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v < 1 || v > 60000) {
				err_line("bad number '%s'", optarg);
				return 2;
			}
			*(c == 'R' ? &rto : &rc_count) = (uint32_t)v;
			break;
		}
		case 'H':
			hairpin = false;
			break;
		case 'e':
			expect = optarg;
			break;
		case 'm':
			expect_m = optarg;
			break;
		case 'f':
			expect_f = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			err_line("%s (see icelab probe nat --help)", "bad option");
			return 2;
		}
	}
	if (optind != argc - 1) {
		err_line("%s", optind < argc ? "one target only" : "a target udp://HOST[:PORT] is needed");
		return 2;
	}
	natprobe np;
	memset(&np, 0, sizeof np);
	for (int i = 0; i < IL_NATD_SOCKETS; i++)
		np.fd[i] = -1;
	il_addr server;
	char why[320];
	if (parse_target(argv[optind], &server, why, sizeof why) < 0) {
		err_line("%s", why);
		return 2;
	}
	np.family = server.family == IL_AF_INET6 ? AF_INET6 : AF_INET;
	if (local_ip_toward(&server, &np.local_ip) < 0) {
		err_line("no route to %s", argv[optind]);
		return 2;
	}
	il_natd_config cfg;
	il_natd_config_defaults(&cfg, &server);
	cfg.hairpin = hairpin;
	cfg.lifetime_max_ms = lifetime;
	cfg.lifetime_resolution_ms = resolution;
	cfg.txn.rto_ms = rto;
	cfg.txn.rc = rc_count;
	il_natd_callbacks cb = {&np, cb_bind, cb_send, cb_random};
	il_natd_init(&np.natd, &cfg, &cb);
	int status = 0;
	if (il_natd_start(&np.natd, mono_ms()) < 0) {
		err_line("%s", il_natd_get_result(&np.natd)->error);
		status = 2;
		goto out;
	}
	/* Each round of the lifetime search lasts its wait plus one
	 * transaction; everything else one or two transactions. */
	uint64_t txn_ms = (uint64_t)rto * ((1ull << (rc_count > 20 ? 20 : rc_count)) + 16);
	uint64_t limit = 4 * txn_ms + (lifetime ? 32 * ((uint64_t)lifetime + txn_ms) : 0);
	if (run_loop(&np, limit) < 0) {
		err_line("%s", "gave up: the discovery did not finish in time");
		status = 2;
		goto out;
	}
	const il_natd_result *r = il_natd_get_result(&np.natd);
	il_natd_result_print(r, &server, stdout, json);
	bool classified = r->udp_blocked || (r->mapping != IL_NATD_MAPPING_UNKNOWN &&
					     r->filtering != IL_NATD_FILTERING_UNKNOWN);
	status = classified ? 0 : 1;
	if (expect && strcmp(expect, il_natd_classic_name(r)) != 0)
		status = 1;
	if (expect_m && strcmp(expect_m, il_natd_mapping_name(r->mapping, true)) != 0)
		status = 1;
	if (expect_f && strcmp(expect_f, il_natd_filtering_name(r->filtering, true)) != 0)
		status = 1;
	if (status == 1 && (expect || expect_m || expect_f))
		fprintf(stderr, "icelab " WHAT ": not as expected\n");
out:
	for (int i = 0; i < IL_NATD_SOCKETS; i++)
		if (np.fd[i] >= 0)
			close(np.fd[i]);
	return status;
}
