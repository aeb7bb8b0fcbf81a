/* `icelab pcap stats|analyze|replay FILE`: thin: flags here, the
 * analyser and the replayer in pcaps/ (issue #7). */
#include "pcap_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "pcaps.h"
#include "replay.h"
#include "replay_sim.h"

static const char pcap_usage[] =
	"usage: icelab pcap stats FILE [--json]\n"
	"       icelab pcap analyze FILE [--json] [--html OUT] [--call ID] [--srtp-key SEL:KEY]...\n"
	"       icelab pcap replay FILE --target udp://HOST:PORT [--user U --password P]\n"
	"       icelab pcap replay FILE --sim PRESET-A,PRESET-B|all [--seed N] [--json]\n"
	"\n"
	"Reads a capture (pcap or pcapng; Ethernet, 802.1Q, Linux cooked SLL/SLL2,\n"
	"raw IP, loopback), reassembles IP fragments and STUN/TURN over TCP, and\n"
	"demultiplexes STUN, ChannelData, DTLS, RTP and RTCP (RFC 7983), and SIP\n"
	"with SDP bodies on any port (UDP, TCP, WebSocket); TURN\n"
	"Send/Data indications and ChannelData are unwrapped so relayed media is\n"
	"seen between the relayed address and the peer.\n"
	"\n"
	"  stats     counts per protocol: STUN by method and class, ChannelData,\n"
	"            RTP streams (SSRC, payload type, packets, loss, jitter)\n"
	"  analyze   the stats, ICE candidate pairs, TURN allocations, DTLS\n"
	"            handshakes and ranked findings (code, severity, sentence,\n"
	"            evidence frame numbers): one-way media, ICE failed, consent\n"
	"            lost, TURN errors, data without permission, relay imbalance,\n"
	"            DTLS never completed, permissions to loopback/private peers;\n"
	"            with SIP: one-way media per call, private/CGN addresses in SDP,\n"
	"            RTP from other than the advertised address (latching), media\n"
	"            to unadvertised addresses, SDP direction conflicts, media after\n"
	"            BYE or failure; ICMP unreachable on a media flow\n"
	"  replay    resend the client side of the captured STUN/TURN exchanges\n"
	"            with one server to a live target, one at a time: a local UDP\n"
	"            socket per captured client, fresh transaction ids, peers\n"
	"            rewritten, USERNAME/REALM/NONCE and MESSAGE-INTEGRITY\n"
	"            recomputed with --user/--password (the target's 401\n"
	"            challenge and a 438 answered with its fresh nonce); each\n"
	"            response compared with the captured one: method, class,\n"
	"            error code, attribute types (SOFTWARE, FINGERPRINT aside)\n"
	"\n"
	"options:\n"
	"  --json      JSON (schema in pcaps/README.md), one document on stdout\n"
	"  --pretty    with --json: indented\n"
	"  --call ID   analyze: only that SIP Call-ID, its signalling, the media\n"
	"              addresses either side advertised or used, and the ICE pairs\n"
	"              and TURN allocations that reach them (frame numbers kept)\n"
	"  --html OUT  analyze: also write a self-contained HTML page (ladder per\n"
	"              call, RTP timeline, findings linked to frames) to OUT\n"
	"  --srtp-key SELECTOR:BASE64\n"
	"              an SRTP master key||salt (30 bytes: AES_CM_128_HMAC_SHA1_80,\n"
	"              46: AES_256_CM_HMAC_SHA1_80) for the streams of SELECTOR: an\n"
	"              SSRC (0x1234abcd), a source IP:PORT, or SRC>DST; before the\n"
	"              SDP's a=crypto keys (RFC 4568), which are used otherwise.\n"
	"              Streams with a key are checked: authentication failures\n"
	"              (finding srtp-auth-failed) and replays. Repeatable (16)\n"
	"  -h, --help  this help\n"
	"replay options:\n"
	"  --target udp://HOST:PORT  the live STUN/TURN server\n"
	"  --user U, --password P    long-term credentials (needed when captured\n"
	"                            requests carried MESSAGE-INTEGRITY)\n"
	"  --server IP:PORT          the captured server whose clients are replayed\n"
	"                            (default: where the first TURN request went)\n"
	"  --peer-host IP|keep       XOR-PEER-ADDRESS becomes IP with the captured\n"
	"                            port (default: the target's IP); keep: as captured\n"
	"  --timeout MS              per request, retransmissions included (default 2000)\n"
	"  --strict                  attributes the live response adds are differences too\n"
	"  --sim A,B | all           instead of a target: the capture's ICE negotiation\n"
	"                            re-run in the NAT simulator with two reference ICE\n"
	"                            agents, the controlling side behind preset A, the\n"
	"                            controlled one behind B (presets of `icelab sim\n"
	"                            presets`, knobs allowed: symmetric,hairpin=off);\n"
	"                            TURN, relay-only gathering and the signalling delay\n"
	"                            as in the capture; per pair: connected or failed,\n"
	"                            the selected pair's types, time to connect, next to\n"
	"                            what the capture shows. all: every preset pair\n"
	"  --seed N                  the simulator's seed (default 1)\n"
	"\n"
	"exit status: 0 read (analyze: no finding of severity error; replay:\n"
	"every response matched); 1 analyze reported at least one error finding,\n"
	"or replay found a difference; 2 bad usage, a file that is not a readable\n"
	"capture, or nothing to replay. A capture damaged part-way is analysed up\n"
	"to the damage, with a warning on stderr.\n";

enum {
	OPT_JSON = 0x100,
	OPT_PRETTY,
	OPT_HTML,
	OPT_TARGET,
	OPT_USER,
	OPT_PASSWORD,
	OPT_SERVER,
	OPT_PEER_HOST,
	OPT_TIMEOUT,
	OPT_STRICT,
	OPT_SRTP_KEY,
	OPT_CALL,
	OPT_SIM,
	OPT_SEED,
};

typedef struct replay_flags {
	const char *target, *user, *password, *server, *peer_host, *timeout;
	bool strict;
} replay_flags;

static int cmd_replay(const char *path, const replay_flags *f)
{
	il_replay_options o = {.timeout_ms = 2000, .strict = f->strict};
	char err[512];
	if (!f->target) {
		cli_error("pcap", "replay needs --target udp://HOST:PORT (see --help)");
		return CLI_USAGE;
	}
	if (il_replay_parse_target(f->target, &o.target, err, sizeof err) < 0) {
		cli_error("pcap", "%s", err);
		return CLI_USAGE;
	}
	if (!f->user != !f->password) {
		cli_error("pcap", "--user and --password go together");
		return CLI_USAGE;
	}
	o.user = f->user;
	o.password = f->password;
	if (f->server) {
		if (il_addr_parse(f->server, &o.server) != 0) {
			cli_error("pcap", "--server '%s': expected IP:PORT", f->server);
			return CLI_USAGE;
		}
		o.have_server = true;
	}
	if (f->peer_host && strcmp(f->peer_host, "keep") == 0) {
		o.peer_keep = true;
	} else if (f->peer_host) {
		char text[80];
		bool v6 = strchr(f->peer_host, ':') != NULL;
		snprintf(text, sizeof text, v6 ? "[%s]:1" : "%s:1", f->peer_host);
		if (strlen(f->peer_host) > 64 || il_addr_parse(text, &o.peer_host) != 0) {
			cli_error("pcap", "--peer-host '%s': expected an IP address or keep",
				  f->peer_host);
			return CLI_USAGE;
		}
	}
	if (f->timeout) {
		char *end;
		long ms = strtol(f->timeout, &end, 10);
		if (*end || ms < 10 || ms > 60000) {
			cli_error("pcap", "--timeout '%s': milliseconds, 10 to 60000", f->timeout);
			return CLI_USAGE;
		}
		o.timeout_ms = (int)ms;
	}
	FILE *probe = fopen(path, "rb");
	if (!probe) {
		cli_error("pcap", "%s: %s", path, strerror(errno));
		return CLI_USAGE;
	}
	fclose(probe);
	il_replay *r = il_replay_load(path, err, sizeof err);
	if (!r) {
		cli_error("pcap", "%s: %s", path, err);
		return CLI_USAGE;
	}
	if (!o.user && il_replay_needs_credentials(r, &o)) {
		cli_error("pcap", "%s: captured requests carry MESSAGE-INTEGRITY: give --user and "
			  "--password", path);
		il_replay_free(r);
		return CLI_USAGE;
	}
	int rc = il_replay_run(r, &o, stdout, err, sizeof err);
	il_replay_free(r);
	fflush(stdout);
	if (rc < 0) {
		cli_error("pcap", "%s: %s", path, err);
		return CLI_USAGE;
	}
	return rc ? CLI_FAILED : CLI_OK;
}

static int cmd_replay_sim(const char *path, const char *sim, const char *seed_text, bool json,
			  bool pretty)
{
	uint64_t seed = 1;
	if (seed_text) {
		char *end;
		unsigned long long v = strtoull(seed_text, &end, 10);
		if (*end || !*seed_text || seed_text[0] == '-') {
			cli_error("pcap", "--seed '%s': a non-negative integer", seed_text);
			return CLI_USAGE;
		}
		seed = v;
	}
	char err[PCAP_ERRBUF_SIZE + 256];
	char **pairs;
	int n = il_sim_replay_parse_presets(sim, &pairs, err, sizeof err);
	if (n < 0) {
		cli_error("pcap", "%s", err);
		return CLI_USAGE;
	}
	il_pcap_analysis *a = il_pcap_analysis_new();
	int rc = CLI_USAGE;
	il_sim_replay_capture cap;
	if (!a) {
		cli_error("pcap", "out of memory");
	} else if (il_pcap_read_file(a, path, err, sizeof err) < 0 && il_pcap_frame_count(a) == 0) {
		cli_error("pcap", "%s: not a readable capture: %s", path, err);
	} else {
		il_pcap_finish(a);
		if (il_sim_replay_extract(a, &cap) < 0) {
			cli_error("pcap", "%s: no ICE connectivity check in the capture: nothing to "
				  "replay", path);
		} else {
			json_t *o = json ? json_object() : NULL;
			if (il_sim_replay_run(&cap, pairs, n, seed, stdout, o, err, sizeof err) < 0) {
				cli_error("pcap", "%s", err);
			} else {
				rc = CLI_OK;
				if (o) {
					json_object_set_new(o, "file", json_string(path));
					json_dumpf(o, stdout, (pretty ? JSON_INDENT(2) : JSON_COMPACT) |
							       JSON_REAL_PRECISION(9));
					fputc('\n', stdout);
				}
			}
			json_decref(o);
		}
	}
	il_pcap_analysis_free(a);
	il_sim_replay_free_presets(pairs, n);
	return rc;
}

/* OUT.XXXXXX beside OUT, then rename: a reader never sees half a page. */
static int write_html(const il_pcap_analysis *a, const char *out, const char *title)
{
	size_t len = strlen(out);
	char *tmp = malloc(len + 8);
	if (!tmp)
		return -1;
	memcpy(tmp, out, len);
	memcpy(tmp + len, ".XXXXXX", 8);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		cli_error("pcap", "%s: %s", out, strerror(errno));
		free(tmp);
		return -1;
	}
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask); /* as a plain fopen would have made it */
	FILE *f = fdopen(fd, "w");
	int r = f ? il_pcap_report_html(a, f, title) : -1;
	if (f && fclose(f) != 0)
		r = -1;
	else if (!f)
		close(fd);
	if (r == 0 && rename(tmp, out) == 0) {
		free(tmp);
		return 0;
	}
	cli_error("pcap", "%s: cannot write: %s", out, strerror(errno));
	unlink(tmp);
	free(tmp);
	return -1;
}

int il_cmd_pcap(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"pretty", no_argument, NULL, OPT_PRETTY},
		{"html", required_argument, NULL, OPT_HTML},
		{"target", required_argument, NULL, OPT_TARGET},
		{"user", required_argument, NULL, OPT_USER},
		{"password", required_argument, NULL, OPT_PASSWORD},
		{"server", required_argument, NULL, OPT_SERVER},
		{"peer-host", required_argument, NULL, OPT_PEER_HOST},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"strict", no_argument, NULL, OPT_STRICT},
		{"srtp-key", required_argument, NULL, OPT_SRTP_KEY},
		{"call", required_argument, NULL, OPT_CALL},
		{"sim", required_argument, NULL, OPT_SIM},
		{"seed", required_argument, NULL, OPT_SEED},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, pretty = false;
	const char *html = NULL;
	replay_flags rf = {0};
	bool replay_opt = false;
	const char *srtp_keys[16];
	size_t srtp_key_count = 0;
	const char *call_id = NULL, *sim = NULL, *seed = NULL;
	int c;
	optind = 1;
	opterr = 0;
	/* Options may come before or after the sub-verb and file. */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: json = true; break;
		case OPT_PRETTY: pretty = true; break;
		case OPT_HTML: html = optarg; break;
		case OPT_TARGET: rf.target = optarg; replay_opt = true; break;
		case OPT_USER: rf.user = optarg; replay_opt = true; break;
		case OPT_PASSWORD: rf.password = optarg; replay_opt = true; break;
		case OPT_SERVER: rf.server = optarg; replay_opt = true; break;
		case OPT_PEER_HOST: rf.peer_host = optarg; replay_opt = true; break;
		case OPT_TIMEOUT: rf.timeout = optarg; replay_opt = true; break;
		case OPT_STRICT: rf.strict = true; replay_opt = true; break;
		case OPT_SRTP_KEY:
			if (srtp_key_count == 16) {
				cli_error("pcap", "--srtp-key: at most 16 keys");
				return CLI_USAGE;
			}
			srtp_keys[srtp_key_count++] = optarg;
			break;
		case OPT_CALL: call_id = optarg; break;
		case OPT_SIM: sim = optarg; break;
		case OPT_SEED: seed = optarg; break;
		case 'h': fputs(pcap_usage, stdout); return CLI_OK;
		default: return cli_bad_option("pcap", c, argv);
		}
	}
	if (argc - optind != 2) {
		cli_error("pcap", "%s (see --help)",
			  argc - optind < 1 ? "missing sub-command: stats, analyze or replay"
			  : argc - optind < 2 ? "missing capture file"
					      : "too many arguments");
		return CLI_USAGE;
	}
	const char *sub = argv[optind], *path = argv[optind + 1];
	bool analyze = strcmp(sub, "analyze") == 0;
	if (strcmp(sub, "replay") == 0 && (sim || seed)) {
		if (replay_opt || html || call_id || srtp_key_count) {
			cli_error("pcap", "--sim takes --seed and --json only (see --help)");
			return CLI_USAGE;
		}
		if (!sim) {
			cli_error("pcap", "--seed goes with --sim (see --help)");
			return CLI_USAGE;
		}
		return cmd_replay_sim(path, sim, seed, json, pretty);
	}
	if (strcmp(sub, "replay") == 0) {
		if (json || html || call_id || srtp_key_count) {
			cli_error("pcap", "--json and --html go with stats and analyze (see --help)");
			return CLI_USAGE;
		}
		return cmd_replay(path, &rf);
	}
	if (!analyze && strcmp(sub, "stats") != 0) {
		cli_error("pcap", "unknown sub-command '%s': stats, analyze or replay (see --help)",
			  sub);
		return CLI_USAGE;
	}
	if (replay_opt) {
		cli_error("pcap", "--target, --user, --password, --server, --peer-host, --timeout "
			  "and --strict go with replay (see --help)");
		return CLI_USAGE;
	}
	if (html && !analyze) {
		cli_error("pcap", "--html goes with analyze (see --help)");
		return CLI_USAGE;
	}
	if ((call_id && !analyze) || sim || seed) {
		cli_error("pcap", "%s (see --help)",
			  call_id && !analyze ? "--call goes with analyze"
					      : "--sim and --seed go with replay");
		return CLI_USAGE;
	}
	il_pcap_analysis *a = il_pcap_analysis_new();
	if (!a) {
		cli_error("pcap", "out of memory");
		return CLI_USAGE;
	}
	for (size_t i = 0; i < srtp_key_count; i++) {
		char kerr[256];
		if (il_pcap_add_srtp_key(a, srtp_keys[i], kerr, sizeof kerr) < 0) {
			cli_error("pcap", "%s", kerr);
			il_pcap_analysis_free(a);
			return CLI_USAGE;
		}
	}
	char err[PCAP_ERRBUF_SIZE + 64] = "";
	FILE *probe = fopen(path, "rb");
	if (!probe) {
		cli_error("pcap", "%s: %s", path, strerror(errno));
		il_pcap_analysis_free(a);
		return CLI_USAGE;
	}
	fclose(probe);
	if (il_pcap_read_file(a, path, err, sizeof err) < 0) {
		if (il_pcap_frame_count(a) == 0) {
			cli_error("pcap", "%s: not a readable capture: %s", path, err);
			il_pcap_analysis_free(a);
			return CLI_USAGE;
		}
		cli_error("pcap", "%s: damaged after frame %llu (%s); analysing what was read",
			  path, (unsigned long long)il_pcap_frame_count(a), err);
	}
	if (call_id) {
		/* Second pass: the same capture restricted to that call. */
		il_pcap_finish(a);
		il_pcap_analysis *scoped = il_pcap_analysis_new();
		char serr[512];
		if (!scoped || il_pcap_scope_to_call(scoped, a, call_id, serr, sizeof serr) < 0) {
			cli_error("pcap", "%s: %s", path, scoped ? serr : "out of memory");
			il_pcap_analysis_free(scoped);
			il_pcap_analysis_free(a);
			return CLI_USAGE;
		}
		il_pcap_analysis_free(a);
		a = scoped;
		for (size_t i = 0; i < srtp_key_count; i++)
			il_pcap_add_srtp_key(a, srtp_keys[i], serr, sizeof serr); /* checked above */
		il_pcap_read_file(a, path, err, sizeof err);
	}
	il_pcap_finish(a);
	int rc = CLI_OK;
	if (json) {
		json_t *o = analyze ? il_pcap_report_json(a) : il_pcap_stats_json(a);
		json_object_set_new(o, "file", json_string(path));
		json_dumpf(o, stdout, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_REAL_PRECISION(9));
		fputc('\n', stdout);
		json_decref(o);
	} else if (analyze) {
		il_pcap_report_print(a, stdout);
	} else {
		il_pcap_stats_print(a, stdout);
	}
	if (analyze && il_pcap_finding_count(a, IL_PCAP_ERROR) > 0)
		rc = CLI_FAILED;
	if (html && write_html(a, html, path) < 0)
		rc = CLI_USAGE;
	il_pcap_analysis_free(a);
	return rc;
}
