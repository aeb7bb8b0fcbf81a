/* `icelab probe ice` (issue #5 §5): our agent, on real UDP sockets
 * (ice_driver.c), against a peer known by its SDP: gather (host, and
 * relayed through TURN servers over UDP or TCP; the relay-only policy
 * too), print our SDP, wait for the peer's, run the checks, optionally
 * send and count media packets, print the selected pair and the pair
 * statistics. */
#include "icelab/probe_ice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "icelab/ice_driver.h"
#include "icelab/probe.h"
#include "icelab/sdp.h"

#define WHAT "icelab probe ice"
#define SDP_FILE_MAX (256 * 1024)
#define POLL_MS 100
#define PACKET_INTERVAL_MS 20

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

typedef struct probe_opts {
	const char *remote_sdp;
	const char *local_sdp_out;
	bool controlling, role_given, lite, json;
	double timeout_s, wait_remote_s;
	unsigned packets;
	unsigned linger_ms;
	il_addr local[IL_ICE_DRIVER_MAX_LOCAL];
	size_t local_count;
	bool relay_only;
	il_probe_target turn[IL_ICE_GATHER_MAX_SERVERS];
	size_t turn_count;
	const char *user, *password;
	bool rtp;                    /* --rtp: the packets are RTP */
} probe_opts;

typedef struct probe {
	probe_opts o;
	struct event_base *base;
	il_ice_driver *d;
	struct event *poll_ev, *tick_ev, *deadline_ev, *linger_ev;
	char *local_sdp;
	il_sdp_session *remote;
	char *remote_text;
	size_t skipped;
	bool remote_applied, lingering, timed_out, published;
	char remote_error[256];
	uint64_t started_ms, remote_ms, connected_ms, completed_ms;
	int state;
	unsigned sent, received;
	int exit_code;
} probe;

static const char usage_text[] =
	"usage: icelab probe ice --remote-sdp FILE [options]\n"
	"\n"
	"Runs our ICE agent (RFC 8445) on UDP host candidates (and relayed ones\n"
	"with --turn) against the peer described in FILE (its first media\n"
	"section: a=ice-ufrag, a=ice-pwd, a=candidate, a=ice-lite). Once\n"
	"gathering is over it prints our own SDP, to hand to the peer, then the\n"
	"checks' outcome: state, selected pair, pair statistics.\n"
	"\n"
	"options:\n"
	"  --remote-sdp FILE     the peer's SDP (required)\n"
	"  --wait-remote S       poll up to S seconds (every 100 ms) for FILE to\n"
	"                        exist and parse; meanwhile our sockets answer\n"
	"                        checks. Writers should write a temporary file\n"
	"                        and rename it. Default 0: FILE must be there.\n"
	"  --local-sdp-out FILE  also write our SDP to FILE (temporary + rename)\n"
	"  --controlling         take the controlling role (default, unless --lite)\n"
	"  --controlled          take the controlled role\n"
	"  --lite                be an ICE-lite agent (RFC 8445 §2.7): answer only\n"
	"  --local ADDR          a host address to gather on, e.g. 127.0.0.1 or\n"
	"                        127.0.0.1:40000 (repeatable; default: the\n"
	"                        addresses of the interfaces that are up,\n"
	"                        loopback when there is none)\n"
	"  --turn URI            a TURN server for relayed candidates (RFC 8656):\n"
	"                        turn:HOST[:PORT][?transport=udp|tcp] (repeatable,\n"
	"                        up to 4; TLS, turns:, is not supported here yet)\n"
	"  --user U              the TURN username (long-term credentials)\n"
	"  --password P          the TURN password\n"
	"  --rtp                 the --packets are RTP (PCMU, 20 ms each), e.g.\n"
	"                        toward an SBC that forwards only media\n"
	"  --relay-only          the relay-only policy (issue #5 §2): only relayed\n"
	"                        candidates are offered and used; needs --turn\n"
	"  --packets N           once connected, send N packets on the selected\n"
	"                        pair and wait for N from the peer (default 0)\n"
	"  --linger MS           keep answering MS ms after success (default 500)\n"
	"  --timeout S           give up S seconds after the start, the wait for\n"
	"                        the remote SDP included (default 30)\n"
	"  --json                one JSON object on stdout (our SDP goes to stderr)\n"
	"  -h, --help            this text\n"
	"\n"
	"Exit status: 0 connected (and the packets went both ways), 1 the checks\n"
	"failed or timed out, 2 bad usage or a harness error.\n";

/* ---- options ---- */

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, WHAT ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	return EXIT_USAGE;
}

static bool parse_seconds(const char *text, double *out)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !(v >= 0) || v > 86400)
		return false;
	*out = v;
	return true;
}

static bool parse_uint(const char *text, unsigned max, unsigned *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

/* "127.0.0.1", "127.0.0.1:4000", "::1", "[::1]:4000". */
static bool parse_local(const char *text, il_addr *out)
{
	if (il_addr_parse(text, out) == 0)
		return true;
	char buf[IL_ADDR_STRLEN + 8];
	if (strchr(text, ':'))
		snprintf(buf, sizeof buf, "[%s]:0", text);
	else
		snprintf(buf, sizeof buf, "%s:0", text);
	return il_addr_parse(buf, out) == 0;
}

static void default_locals(probe_opts *o)
{
	struct ifaddrs *list = NULL;
	if (getifaddrs(&list) == 0) {
		for (struct ifaddrs *i = list; i && o->local_count < IL_ICE_DRIVER_MAX_LOCAL;
		     i = i->ifa_next) {
			if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
				continue;
			if (i->ifa_addr->sa_family != AF_INET)
				continue; /* IPv6 needs scopes and RFC 8421 care: --local for those */
			char host[64];
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)i->ifa_addr;
			const uint8_t *ip = (const uint8_t *)&s4->sin_addr;
			snprintf(host, sizeof host, "%u.%u.%u.%u:0", ip[0], ip[1], ip[2], ip[3]);
			if (il_addr_parse(host, &o->local[o->local_count]) == 0)
				o->local_count++;
		}
		freeifaddrs(list);
	}
	if (o->local_count == 0 && il_addr_parse("127.0.0.1:0", &o->local[0]) == 0)
		o->local_count = 1;
}

static int parse_options(int argc, char **argv, probe_opts *o, bool *help)
{
	enum { O_REMOTE = 256, O_WAIT, O_OUT, O_CTRL, O_CTRLD, O_LITE, O_LOCAL, O_PACKETS, O_LINGER,
	       O_TIMEOUT, O_JSON, O_TURN, O_USER, O_PASSWORD, O_RELAY_ONLY, O_RTP };
	static const struct option longopts[] = {
		{"remote-sdp", required_argument, NULL, O_REMOTE},
		{"wait-remote", required_argument, NULL, O_WAIT},
		{"local-sdp-out", required_argument, NULL, O_OUT},
		{"controlling", no_argument, NULL, O_CTRL},
		{"controlled", no_argument, NULL, O_CTRLD},
		{"lite", no_argument, NULL, O_LITE},
		{"local", required_argument, NULL, O_LOCAL},
		{"packets", required_argument, NULL, O_PACKETS},
		{"linger", required_argument, NULL, O_LINGER},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"json", no_argument, NULL, O_JSON},
		{"turn", required_argument, NULL, O_TURN},
		{"user", required_argument, NULL, O_USER},
		{"password", required_argument, NULL, O_PASSWORD},
		{"relay-only", no_argument, NULL, O_RELAY_ONLY},
		{"rtp", no_argument, NULL, O_RTP},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	o->timeout_s = 30;
	o->linger_ms = 500;
	o->controlling = true;
	optind = 0; /* glibc: start afresh, argv[0] is the sub-verb */
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case O_REMOTE: o->remote_sdp = optarg; break;
		case O_WAIT:
			if (!parse_seconds(optarg, &o->wait_remote_s))
				return usage_error("--wait-remote: \"%s\" is not a number of seconds", optarg);
			break;
		case O_OUT: o->local_sdp_out = optarg; break;
		case O_CTRL:
		case O_CTRLD:
			if (o->role_given && o->controlling != (opt == O_CTRL))
				return usage_error("%s", "--controlling and --controlled both given");
			o->controlling = opt == O_CTRL;
			o->role_given = true;
			break;
		case O_LITE: o->lite = true; break;
		case O_LOCAL:
			if (o->local_count == IL_ICE_DRIVER_MAX_LOCAL)
				return usage_error("--local: more than 8 addresses (at \"%s\")", optarg);
			if (!parse_local(optarg, &o->local[o->local_count]))
				return usage_error("--local: \"%s\" is not an IP address", optarg);
			o->local_count++;
			break;
		case O_PACKETS:
			if (!parse_uint(optarg, 100000, &o->packets))
				return usage_error("--packets: \"%s\" is not a count (0..100000)", optarg);
			break;
		case O_LINGER:
			if (!parse_uint(optarg, 60000, &o->linger_ms))
				return usage_error("--linger: \"%s\" is not 0..60000 ms", optarg);
			break;
		case O_TIMEOUT:
			if (!parse_seconds(optarg, &o->timeout_s) || o->timeout_s <= 0)
				return usage_error("--timeout: \"%s\" is not a number of seconds", optarg);
			break;
		case O_JSON: o->json = true; break;
		case O_TURN: {
			char err[256];
			if (o->turn_count == IL_ICE_GATHER_MAX_SERVERS)
				return usage_error("--turn: more than 4 servers (at \"%s\")", optarg);
			il_probe_target *t = &o->turn[o->turn_count];
			if (il_probe_parse_turn_uri(optarg, t, err, sizeof err) != 0)
				return usage_error("--turn: %s", err);
			if (t->transport == IL_PROBE_TLS)
				return usage_error("--turn %s: TURN over TLS is not supported by probe ice yet",
						   optarg);
			o->turn_count++;
			break;
		}
		case O_USER: o->user = optarg; break;
		case O_PASSWORD: o->password = optarg; break;
		case O_RELAY_ONLY: o->relay_only = true; break;
		case O_RTP: o->rtp = true; break;
		case 'h': *help = true; return EXIT_OK;
		default:
			return usage_error("unknown or incomplete option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	if (!o->remote_sdp)
		return usage_error("%s", "--remote-sdp FILE is required");
	if (o->lite && o->role_given && o->controlling)
		return usage_error("%s", "--lite with --controlling: a lite agent facing a full one is "
					 "controlled (RFC 8445 §6.1.1)");
	if (o->relay_only && o->turn_count == 0)
		return usage_error("%s", "--relay-only needs a TURN server (--turn URI)");
	if (!o->user != !o->password)
		return usage_error("%s", "--user and --password go together");
	if (o->lite)
		o->controlling = false;
	if (o->local_count == 0)
		default_locals(o);
	return -1; /* go on */
}

/* A TURN target to an address: an IP literal, or the first address of
 * the family our host candidates have (getaddrinfo). */
static int resolve_turn(const il_probe_target *t, int family, il_addr *out, char *err,
			size_t err_len)
{
	char port[8];
	snprintf(port, sizeof port, "%u", t->port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = t->transport == IL_PROBE_UDP ? SOCK_DGRAM : SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *list = NULL;
	int rc = getaddrinfo(t->host, port, &hints, &list);
	if (rc != 0) {
		snprintf(err, err_len, "--turn %s: %s", t->host, gai_strerror(rc));
		return -1;
	}
	const struct addrinfo *pick = NULL;
	for (const struct addrinfo *i = list; i; i = i->ai_next)
		if (!pick || (i->ai_family == family && pick->ai_family != family))
			pick = i;
	char text[IL_ADDR_STRLEN + 8];
	char host[INET6_ADDRSTRLEN] = "";
	getnameinfo(pick->ai_addr, pick->ai_addrlen, host, sizeof host, NULL, 0, NI_NUMERICHOST);
	snprintf(text, sizeof text, pick->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
	freeaddrinfo(list);
	if (il_addr_parse(text, out) != 0) {
		snprintf(err, err_len, "--turn %s: no usable address", t->host);
		return -1;
	}
	return 0;
}

/* ---- files ---- */

static int write_file_atomic(const char *path, const char *text, size_t len, char *err,
			     size_t err_len)
{
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	if (!tmp) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	bool ok = f && fwrite(text, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* 1: read and parsed; 0: not there yet (or not whole); -1: unusable,
 * with the reason in p->remote_error. */
static int try_read_remote(probe *p)
{
	FILE *f = fopen(p->o.remote_sdp, "r");
	if (!f) {
		snprintf(p->remote_error, sizeof p->remote_error, "%s: %s", p->o.remote_sdp,
			 strerror(errno));
		return errno == ENOENT ? 0 : -1;
	}
	char *text = malloc(SDP_FILE_MAX + 1);
	size_t len = text ? fread(text, 1, SDP_FILE_MAX + 1, f) : 0;
	fclose(f);
	if (!text || len > SDP_FILE_MAX) {
		snprintf(p->remote_error, sizeof p->remote_error, "%s: %s", p->o.remote_sdp,
			 text ? "larger than 256 kB" : "out of memory");
		free(text);
		return -1;
	}
	text[len] = '\0';
	il_sdp_error perr = {0};
	if (len == 0 || il_sdp_parse(text, len, p->remote, &perr) != IL_SDP_OK) {
		snprintf(p->remote_error, sizeof p->remote_error, "%s: %s", p->o.remote_sdp,
			 len ? perr.message : "empty");
		free(text);
		return 0; /* maybe half written: poll again while allowed */
	}
	free(p->remote_text);
	p->remote_text = text; /* the parsed view points into it */
	return 1;
}

/* ---- the run ---- */

/* Gathering is over: write our SDP (file and stdout), then look for the
 * peer's. 0, or -1 with p->exit_code set and the loop told to stop. */
static int publish_local(probe *p)
{
	if (p->published)
		return 0;
	p->published = true;
	char err[256];
	int len = il_ice_driver_local_sdp(p->d, p->local_sdp, 16384);
	if (len < 0) {
		fprintf(stderr, WHAT ": could not write our SDP\n");
		p->exit_code = EXIT_USAGE;
		event_base_loopbreak(p->base);
		return -1;
	}
	il_ice_gather_stats gs;
	il_ice_driver_get_gather_stats(p->d, &gs);
	if (p->o.relay_only && gs.relay == 0) {
		fprintf(stderr, WHAT ": relay-only, and no relayed candidate: every allocation failed\n");
		p->exit_code = EXIT_FAILED;
		event_base_loopbreak(p->base);
		return -1;
	}
	if (p->o.local_sdp_out &&
	    write_file_atomic(p->o.local_sdp_out, p->local_sdp, (size_t)len, err, sizeof err) != 0) {
		fprintf(stderr, WHAT ": --local-sdp-out %s\n", err);
		p->exit_code = EXIT_USAGE;
		event_base_loopbreak(p->base);
		return -1;
	}
	FILE *sdp_to = p->o.json ? stderr : stdout;
	fputs(p->local_sdp, sdp_to);
	if (!p->o.json)
		fputs("\n", stdout);
	fflush(sdp_to);
	struct timeval now_tv = {0, 0};
	evtimer_add(p->poll_ev, &now_tv);
	return 0;
}

static void on_gathered(void *user)
{
	probe *p = user;
	if (p->d) /* else il_ice_driver_new is still running: probe_setup publishes */
		(void)publish_local(p);
}

static void finish(probe *p, int code)
{
	p->exit_code = code;
	if (code == EXIT_OK && p->o.linger_ms && !p->lingering) {
		p->lingering = true;
		struct timeval tv = {.tv_sec = p->o.linger_ms / 1000,
				     .tv_usec = (suseconds_t)(p->o.linger_ms % 1000) * 1000};
		evtimer_add(p->linger_ev, &tv);
		return;
	}
	event_base_loopbreak(p->base);
}

static bool is_up(int state)
{
	return state == IL_ICE_STATE_CONNECTED || state == IL_ICE_STATE_COMPLETED;
}

static void check_done(probe *p)
{
	if (p->lingering)
		return;
	if (p->state == IL_ICE_STATE_FAILED || p->state == IL_ICE_STATE_CLOSED) {
		finish(p, EXIT_FAILED);
		return;
	}
	if (p->state == IL_ICE_STATE_COMPLETED && p->sent >= p->o.packets &&
	    p->received >= p->o.packets)
		finish(p, EXIT_OK);
}

static void on_event(void *user, const il_ice_event *ev)
{
	probe *p = user;
	if (ev->type != IL_ICE_EV_STATE)
		return;
	p->state = ev->state;
	uint64_t now = il_ice_driver_now_ms();
	if (is_up(ev->state) && !p->connected_ms)
		p->connected_ms = now;
	if (ev->state == IL_ICE_STATE_COMPLETED && !p->completed_ms)
		p->completed_ms = now;
	if (!p->o.json && isatty(STDERR_FILENO))
		fprintf(stderr, WHAT ": %s\n", il_ice_state_name(ev->state));
}

static void on_data(void *user, unsigned component, const uint8_t *data, size_t len)
{
	(void)data;
	(void)len;
	probe *p = user;
	if (component == 1)
		p->received++;
}

/* RTP (RFC 3550 §5.1): V=2, PT 0 (PCMU), sequence n, timestamp 160 n,
 * our SSRC, 20 ms of silence: media an SBC forwards. */
#define RTP_PACKET_LEN 172
static int rtp_packet(uint8_t *buf, unsigned n)
{
	uint32_t w[3] = {htonl(0x80000000u | (n & 0xFFFFu)), htonl(n * 160u), htonl(0x1CE1AB01u)};
	memcpy(buf, w, sizeof w);
	memset(buf + sizeof w, 0xFF, RTP_PACKET_LEN - sizeof w);
	return RTP_PACKET_LEN;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	probe *p = arg;
	if (is_up(p->state) && p->sent < p->o.packets) {
		char msg[RTP_PACKET_LEN];
		int n = p->o.rtp ? rtp_packet((uint8_t *)msg, p->sent + 1)
				 : snprintf(msg, sizeof msg, "icelab probe ice packet %u", p->sent + 1);
		if (il_ice_driver_send(p->d, 1, (const uint8_t *)msg, (size_t)n) == IL_ICE_OK)
			p->sent++;
	}
	check_done(p);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	probe *p = arg;
	int r = try_read_remote(p);
	uint64_t now = il_ice_driver_now_ms();
	bool waited_enough = now - p->started_ms >= (uint64_t)(p->o.wait_remote_s * 1000);
	if (r == 0 && !waited_enough) {
		struct timeval tv = {0, POLL_MS * 1000};
		evtimer_add(p->poll_ev, &tv);
		return;
	}
	if (r != 1) {
		fprintf(stderr, WHAT ": %s\n", p->remote_error);
		p->exit_code = EXIT_USAGE;
		event_base_loopbreak(p->base);
		return;
	}
	char err[256];
	if (il_ice_driver_set_remote_sdp(p->d, p->remote, 0, &p->skipped, err, sizeof err) != 0) {
		fprintf(stderr, WHAT ": %s: %s\n", p->o.remote_sdp, err);
		p->exit_code = EXIT_USAGE;
		event_base_loopbreak(p->base);
		return;
	}
	p->remote_applied = true;
	p->remote_ms = now;
	if (il_ice_driver_start(p->d) != 0) {
		fprintf(stderr, WHAT ": the agent did not start\n");
		p->exit_code = EXIT_USAGE;
		event_base_loopbreak(p->base);
		return;
	}
	struct timeval tv = {0, PACKET_INTERVAL_MS * 1000};
	event_add(p->tick_ev, &tv);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	probe *p = arg;
	if (p->lingering) {
		event_base_loopbreak(p->base);
		return;
	}
	p->timed_out = true;
	/* Connected but never completed (a peer that does not nominate):
	 * still a success when the packets went both ways. */
	bool ok = is_up(p->state) && p->sent >= p->o.packets && p->received >= p->o.packets;
	p->exit_code = ok ? EXIT_OK : EXIT_FAILED;
	event_base_loopbreak(p->base);
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	probe *p = arg;
	event_base_loopbreak(p->base);
}

/* ---- the report ---- */

static json_t *candidate_json(const il_ice_candidate *c)
{
	char addr[IL_ADDR_STRLEN];
	il_addr_format(&c->addr, addr, sizeof addr);
	return json_pack("{s:s, s:s, s:I, s:s}", "type", il_ice_candidate_type_name(c->type),
			 "address", addr, "priority", (json_int_t)c->priority, "foundation",
			 c->foundation);
}

static json_t *pair_json(const il_ice_pair_stats *s)
{
	json_t *j = json_object();
	json_object_set_new(j, "component", json_integer(s->component));
	json_object_set_new(j, "local", candidate_json(&s->local));
	json_object_set_new(j, "remote", candidate_json(&s->remote));
	json_object_set_new(j, "state", json_string(il_ice_pair_state_name(s->state)));
	json_object_set_new(j, "valid", json_boolean(s->valid));
	json_object_set_new(j, "nominated", json_boolean(s->nominated));
	json_object_set_new(j, "selected", json_boolean(s->selected));
	json_object_set_new(j, "rtt_ms", json_integer(s->rtt_ms));
	json_object_set_new(j, "requests_sent", json_integer(s->requests_sent));
	json_object_set_new(j, "requests_received", json_integer(s->requests_received));
	json_object_set_new(j, "responses_sent", json_integer(s->responses_sent));
	json_object_set_new(j, "responses_received", json_integer(s->responses_received));
	json_object_set_new(j, "consent_requests_sent", json_integer(s->consent_requests_sent));
	json_object_set_new(j, "packets_sent", json_integer((json_int_t)s->packets_sent));
	json_object_set_new(j, "packets_received", json_integer((json_int_t)s->packets_received));
	json_object_set_new(j, "bytes_sent", json_integer((json_int_t)s->bytes_sent));
	json_object_set_new(j, "bytes_received", json_integer((json_int_t)s->bytes_received));
	return j;
}

static json_t *ms_or_null(uint64_t at, uint64_t since)
{
	return at ? json_integer((json_int_t)(at - since)) : json_null();
}

static const char *outcome(const probe *p)
{
	if (p->exit_code == EXIT_OK)
		return "ok";
	if (p->state == IL_ICE_STATE_FAILED)
		return "ice failed";
	if (p->timed_out && is_up(p->state))
		return "timeout: connected, packets missing";
	return p->timed_out ? "timeout" : "failed";
}

static void report_json(const probe *p, il_ice_agent *a)
{
	json_t *j = json_object();
	json_object_set_new(j, "result", json_string(outcome(p)));
	json_object_set_new(j, "state", json_string(il_ice_state_name(p->state)));
	json_object_set_new(j, "role",
			    json_string(il_ice_agent_is_controlling(a) ? "controlling" : "controlled"));
	json_object_set_new(j, "lite", json_boolean(p->o.lite));
	json_object_set_new(j, "policy", json_string(il_ice_gather_policy_name(
						 p->o.relay_only ? IL_ICE_GATHER_RELAY_ONLY
								 : IL_ICE_GATHER_ALL)));
	il_ice_gather_stats gs;
	il_ice_driver_get_gather_stats(p->d, &gs);
	json_object_set_new(
		j, "gathering",
		json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "host", (json_int_t)gs.host,
			  "srflx", (json_int_t)gs.srflx, "relay", (json_int_t)gs.relay, "relay_failed",
			  (json_int_t)gs.relay_failed, "relay_sends", (json_int_t)gs.relay_sends,
			  "relay_dropped", (json_int_t)gs.relay_dropped, "refused_sends",
			  (json_int_t)gs.refused_sends, "host_sends", (json_int_t)gs.host_sends));
	json_object_set_new(j, "remote_lite", json_boolean(p->remote->ice_lite));
	json_object_set_new(j, "local_sdp", json_string(p->local_sdp));
	json_object_set_new(j, "remote_candidates_skipped", json_integer((json_int_t)p->skipped));
	json_object_set_new(j, "ms_to_connected", ms_or_null(p->connected_ms, p->remote_ms));
	json_object_set_new(j, "ms_to_completed", ms_or_null(p->completed_ms, p->remote_ms));
	il_ice_pair_stats st;
	json_object_set_new(j, "selected_pair", il_ice_agent_get_selected_pair(a, 0, 1, &st) == 0
							? pair_json(&st)
							: json_null());
	json_t *pairs = json_array();
	for (size_t i = 0; i < il_ice_agent_pair_count(a, 0); i++)
		if (il_ice_agent_get_pair(a, 0, i, &st) == 0)
			json_array_append_new(pairs, pair_json(&st));
	json_object_set_new(j, "pairs", pairs);
	json_object_set_new(j, "packets", json_pack("{s:I, s:I, s:I}", "expected",
						    (json_int_t)p->o.packets, "sent",
						    (json_int_t)p->sent, "received",
						    (json_int_t)p->received));
	il_ice_counters c;
	il_ice_agent_get_counters(a, &c);
	json_object_set_new(
		j, "counters",
		json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "requests_received",
			  (json_int_t)c.requests_received, "responses_sent",
			  (json_int_t)c.responses_sent, "errors_sent", (json_int_t)c.errors_sent,
			  "requests_sent", (json_int_t)c.requests_sent, "responses_received",
			  (json_int_t)c.responses_received, "dropped", (json_int_t)c.dropped,
			  "role_conflicts", (json_int_t)c.role_conflicts));
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(j);
}

static void print_pair(const il_ice_pair_stats *s)
{
	char l[IL_ADDR_STRLEN], r[IL_ADDR_STRLEN];
	il_addr_format(&s->local.addr, l, sizeof l);
	il_addr_format(&s->remote.addr, r, sizeof r);
	printf("  %u %-5s %-22s -> %-5s %-22s %-11s%s%s%s rtt %u ms, requests %u/%u, responses "
	       "%u/%u, packets %llu/%llu\n",
	       s->component, il_ice_candidate_type_name(s->local.type), l,
	       il_ice_candidate_type_name(s->remote.type), r, il_ice_pair_state_name(s->state),
	       s->valid ? " valid" : "", s->nominated ? " nominated" : "",
	       s->selected ? " selected" : "", s->rtt_ms, s->requests_sent, s->requests_received,
	       s->responses_sent, s->responses_received, (unsigned long long)s->packets_sent,
	       (unsigned long long)s->packets_received);
}

static void report_text(const probe *p, il_ice_agent *a)
{
	printf("result: %s\n", outcome(p));
	printf("state: %s", il_ice_state_name(p->state));
	if (p->completed_ms)
		printf(" (completed %llu ms after the remote SDP)",
		       (unsigned long long)(p->completed_ms - p->remote_ms));
	else if (p->connected_ms)
		printf(" (connected %llu ms after the remote SDP)",
		       (unsigned long long)(p->connected_ms - p->remote_ms));
	il_ice_gather_stats gs;
	il_ice_driver_get_gather_stats(p->d, &gs);
	printf("\ngathered: host %u, srflx %u, relay %u (relay-only: %s; relayed sends %llu, "
	       "refused %llu)",
	       gs.host, gs.srflx, gs.relay, p->o.relay_only ? "yes" : "no",
	       (unsigned long long)gs.relay_sends, (unsigned long long)gs.refused_sends);
	printf("\nrole: %s%s, peer %s\n", il_ice_agent_is_controlling(a) ? "controlling" : "controlled",
	       p->o.lite ? " (lite)" : "", p->remote->ice_lite ? "lite" : "full");
	il_ice_pair_stats st;
	if (il_ice_agent_get_selected_pair(a, 0, 1, &st) == 0) {
		char l[IL_ADDR_STRLEN], r[IL_ADDR_STRLEN];
		il_addr_format(&st.local.addr, l, sizeof l);
		il_addr_format(&st.remote.addr, r, sizeof r);
		printf("selected: %s %s -> %s %s (rtt %u ms)\n", il_ice_candidate_type_name(st.local.type),
		       l, il_ice_candidate_type_name(st.remote.type), r, st.rtt_ms);
	} else {
		printf("selected: none\n");
	}
	if (p->o.packets)
		printf("packets: sent %u, received %u of %u\n", p->sent, p->received, p->o.packets);
	if (p->skipped)
		printf("remote candidates skipped (TCP, FQDN or unknown component): %zu\n", p->skipped);
	printf("pairs:\n");
	for (size_t i = 0; i < il_ice_agent_pair_count(a, 0); i++)
		if (il_ice_agent_get_pair(a, 0, i, &st) == 0)
			print_pair(&st);
}

/* ---- entry ---- */

static void probe_free(probe *p)
{
	struct event *evs[] = {p->poll_ev, p->tick_ev, p->deadline_ev, p->linger_ev};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_free(evs[i]);
	il_ice_driver_free(p->d);
	if (p->base)
		event_base_free(p->base);
	free(p->local_sdp);
	free(p->remote);
	free(p->remote_text);
	free(p);
}

static int probe_setup(probe *p)
{
	p->base = event_base_new();
	p->remote = calloc(1, sizeof *p->remote);
	p->local_sdp = malloc(16384);
	if (!p->base || !p->remote || !p->local_sdp) {
		fprintf(stderr, WHAT ": out of memory\n");
		return EXIT_USAGE;
	}
	il_ice_driver_config cfg;
	il_ice_driver_config_defaults(&cfg);
	cfg.ice.lite = p->o.lite;
	cfg.ice.controlling = p->o.controlling;
	cfg.ice.software = "icelab";
	memcpy(cfg.local, p->o.local, sizeof cfg.local);
	cfg.local_count = p->o.local_count;
	cfg.policy = p->o.relay_only ? IL_ICE_GATHER_RELAY_ONLY : IL_ICE_GATHER_ALL;
	char err[256];
	for (size_t i = 0; i < p->o.turn_count; i++) {
		il_ice_driver_turn *t = &cfg.turn[i];
		if (resolve_turn(&p->o.turn[i], p->o.local[0].family == IL_AF_INET6 ? AF_INET6 : AF_INET,
				 &t->server, err, sizeof err) != 0) {
			fprintf(stderr, WHAT ": %s\n", err);
			return EXIT_USAGE;
		}
		t->transport = p->o.turn[i].transport == IL_PROBE_TCP ? IL_ICE_SERVER_TCP
								       : IL_ICE_SERVER_UDP;
		t->username = p->o.user;
		t->password = p->o.password;
	}
	cfg.turn_count = p->o.turn_count;
	il_ice_driver_callbacks cb = {
		.user = p, .event = on_event, .data = on_data, .gathered = on_gathered};
	p->poll_ev = evtimer_new(p->base, on_poll, p);
	p->tick_ev = event_new(p->base, -1, EV_PERSIST, on_tick, p);
	p->deadline_ev = evtimer_new(p->base, on_deadline, p);
	p->linger_ev = evtimer_new(p->base, on_linger, p);
	if (!p->poll_ev || !p->tick_ev || !p->deadline_ev || !p->linger_ev) {
		fprintf(stderr, WHAT ": out of memory\n");
		return EXIT_USAGE;
	}
	p->d = il_ice_driver_new(p->base, &cfg, &cb, err, sizeof err);
	if (!p->d) {
		fprintf(stderr, WHAT ": %s\n", err);
		return EXIT_USAGE;
	}
	if (il_ice_driver_gathering_done(p->d) && publish_local(p) != 0)
		return p->exit_code;
	return EXIT_OK;
}

int il_probe_ice_main(int argc, char **argv)
{
	probe *p = calloc(1, sizeof *p);
	if (!p) {
		fprintf(stderr, WHAT ": out of memory\n");
		return EXIT_USAGE;
	}
	bool help = false;
	int rc = parse_options(argc, argv, &p->o, &help);
	if (rc >= 0 || help) {
		if (help)
			fputs(usage_text, stdout);
		free(p);
		return help ? EXIT_OK : rc;
	}
	p->started_ms = il_ice_driver_now_ms();
	p->state = IL_ICE_STATE_NEW;
	p->exit_code = EXIT_FAILED;
	rc = probe_setup(p);
	if (rc != EXIT_OK) {
		probe_free(p);
		return rc;
	}
	uint64_t total_ms = (uint64_t)(p->o.timeout_s * 1000);
	struct timeval dl = {.tv_sec = (time_t)(total_ms / 1000),
			     .tv_usec = (suseconds_t)(total_ms % 1000) * 1000};
	evtimer_add(p->deadline_ev, &dl);
	event_base_dispatch(p->base);
	if (p->remote_applied) {
		il_ice_agent *a = il_ice_driver_agent(p->d);
		if (p->o.json)
			report_json(p, a);
		else
			report_text(p, a);
		fflush(stdout);
	} else if (p->exit_code == EXIT_FAILED && p->timed_out && !p->published) {
		fprintf(stderr, WHAT ": timed out while gathering (TURN server unanswered?)\n");
	} else if (p->exit_code == EXIT_FAILED && p->timed_out) {
		fprintf(stderr, WHAT ": timed out before the remote SDP could be read: %s\n",
			p->remote_error);
	}
	rc = p->exit_code;
	probe_free(p);
	return rc;
}
