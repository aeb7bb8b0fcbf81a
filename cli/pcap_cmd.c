/* `icelab pcap stats|analyze FILE [--json]`: thin: flags here, the
 * analyser in pcaps/ (issue #7). */
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

static const char pcap_usage[] =
	"usage: icelab pcap stats FILE [--json]\n"
	"       icelab pcap analyze FILE [--json] [--html OUT]\n"
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
	"\n"
	"options:\n"
	"  --json      JSON (schema in pcaps/README.md), one document on stdout\n"
	"  --pretty    with --json: indented\n"
	"  --html OUT  analyze: also write a self-contained HTML page (ladder per\n"
	"              call, RTP timeline, findings linked to frames) to OUT\n"
	"  -h, --help  this help\n"
	"\n"
	"exit status: 0 read (analyze: no finding of severity error); 1 analyze\n"
	"reported at least one error finding; 2 bad usage or a file that is not\n"
	"a readable capture. A capture damaged part-way is analysed up to the\n"
	"damage, with a warning on stderr.\n";

enum { OPT_JSON = 0x100, OPT_PRETTY, OPT_HTML };

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
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, pretty = false;
	const char *html = NULL;
	int c;
	optind = 1;
	opterr = 0;
	/* Options may come before or after the sub-verb and file. */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: json = true; break;
		case OPT_PRETTY: pretty = true; break;
		case OPT_HTML: html = optarg; break;
		case 'h': fputs(pcap_usage, stdout); return CLI_OK;
		default: return cli_bad_option("pcap", c, argv);
		}
	}
	if (argc - optind != 2) {
		cli_error("pcap", "%s (see --help)",
			  argc - optind < 1 ? "missing sub-command: stats or analyze"
			  : argc - optind < 2 ? "missing capture file"
					      : "too many arguments");
		return CLI_USAGE;
	}
	const char *sub = argv[optind], *path = argv[optind + 1];
	bool analyze = strcmp(sub, "analyze") == 0;
	if (!analyze && strcmp(sub, "stats") != 0) {
		cli_error("pcap", "unknown sub-command '%s': stats or analyze (see --help)", sub);
		return CLI_USAGE;
	}
	if (html && !analyze) {
		cli_error("pcap", "--html goes with analyze (see --help)");
		return CLI_USAGE;
	}
	il_pcap_analysis *a = il_pcap_analysis_new();
	if (!a) {
		cli_error("pcap", "out of memory");
		return CLI_USAGE;
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
