/* nice_peer: libnice (Debian libnice-dev), an ICE agent we did not write,
 * as the remote side of our agent in the interop tests (issue #5 §4).
 * Linked, never copied.
 *
 *   nice_peer --local-sdp-out FILE --remote-sdp FILE [--controlling |
 *             --controlled] [--lite] [--aggressive] [--packets N]
 *             [--wait-remote S] [--timeout S] [--local IP]
 *             [--stun IP:PORT] [--rtp]
 *
 * One stream, one component, UDP host candidates on --local (default
 * 127.0.0.1), and a server-reflexive one when --stun names a STUN server
 * (libnice's "stun-server" property); no TCP candidates, no UPnP. It writes its
 * SDP (nice_agent_generate_local_sdp, with v=/o=/s=/t= in front,
 * a=ice-lite when --lite, and a <fmt> on its "m=audio PORT ICE/SDP" line:
 * libnice writes none of them) to a temporary file
 * renamed into place, polls every 100 ms for the peer's SDP and gives it
 * to nice_agent_parse_remote_sdp (line ends made LF: libnice's parser
 * does not take CRLF). Once the component is READY it sends N packets,
 * one every 20 ms, and counts what arrives. Exit 0 when READY and N went
 * each way; 1 on failure or timeout; 2 on bad usage. One summary line
 * on stdout: "nice_peer: ready ... sent N received M". With --rtp the
 * packets are RTP (PCMU, 20 ms each): media an SBC forwards. */
#include <agent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct peer {
	GMainLoop *loop;
	NiceAgent *agent;
	guint stream;
	const char *local_sdp_out, *remote_sdp;
	gboolean controlling, lite, aggressive, rtp;
	unsigned packets, sent, received;
	double wait_remote_s, timeout_s;
	gint64 started_us;
	gboolean gathered, remote_set, ready, failed, finishing;
	int exit_code;
	char state_name[32];
} peer;

static void usage(void)
{
	fputs("usage: nice_peer --local-sdp-out FILE --remote-sdp FILE [--controlling|--controlled]\n"
	      "                 [--lite] [--aggressive] [--packets N] [--wait-remote S]\n"
	      "                 [--timeout S] [--local IP] [--stun IP:PORT] [--rtp]\n",
	      stderr);
}

static gboolean write_local_sdp(peer *p)
{
	gchar *sdp = nice_agent_generate_local_sdp(p->agent);
	if (!sdp)
		return FALSE;
	GString *text = g_string_new("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n");
	if (p->lite)
		g_string_append(text, "a=ice-lite\n");
	/* libnice writes "m=audio PORT ICE/SDP": no <fmt>, which RFC 8866
	 * §5.14 requires and our parser insists on. Add one. */
	gchar **lines = g_strsplit(sdp, "\n", -1);
	g_free(sdp);
	for (gchar **l = lines; *l; l++) {
		if (!**l)
			continue;
		g_string_append(text, *l);
		if (g_str_has_prefix(*l, "m=") && g_str_has_suffix(*l, " ICE/SDP"))
			g_string_append(text, " 0");
		g_string_append_c(text, '\n');
	}
	g_strfreev(lines);
	gchar *tmp = g_strdup_printf("%s.tmp.%ld", p->local_sdp_out, (long)getpid());
	gboolean ok = g_file_set_contents(tmp, text->str, (gssize)text->len, NULL) &&
		      rename(tmp, p->local_sdp_out) == 0;
	g_free(tmp);
	g_string_free(text, TRUE);
	return ok;
}

static gboolean quit_loop(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void finish(peer *p, int code)
{
	if (p->finishing)
		return;
	p->finishing = TRUE;
	p->exit_code = code;
	NiceCandidate *l = NULL, *r = NULL;
	char ls[NICE_ADDRESS_STRING_LEN] = "-", rs[NICE_ADDRESS_STRING_LEN] = "-";
	static const char *const types[] = {"host", "srflx", "prflx", "relay"};
	const char *lt = "-", *rt = "-";
	unsigned lp = 0, rp = 0;
	if (nice_agent_get_selected_pair(p->agent, p->stream, 1, &l, &r)) {
		nice_address_to_string(&l->addr, ls);
		nice_address_to_string(&r->addr, rs);
		lp = nice_address_get_port(&l->addr);
		rp = nice_address_get_port(&r->addr);
		lt = l->type <= NICE_CANDIDATE_TYPE_RELAYED ? types[l->type] : "?";
		rt = r->type <= NICE_CANDIDATE_TYPE_RELAYED ? types[r->type] : "?";
	}
	printf("nice_peer: %s %s%s, state %s, selected %s %s:%u -> %s %s:%u, sent %u received %u\n",
	       code == 0 ? "ready" : "FAILED", p->controlling ? "controlling" : "controlled",
	       p->lite ? " lite" : "", p->state_name, lt, ls, lp, rt, rs, rp, p->sent, p->received);
	fflush(stdout);
	/* Linger so the last packets and check responses reach the peer. */
	g_timeout_add(code == 0 ? 500 : 0, quit_loop, p->loop);
}

static void check_done(peer *p)
{
	if (p->ready && p->sent >= p->packets && p->received >= p->packets)
		finish(p, 0);
}

/* RTP (RFC 3550 §5.1): V=2, PT 0 (PCMU), sequence n, timestamp 160 n,
 * our SSRC, 20 ms of silence. */
#define RTP_PACKET_LEN 172
static int rtp_packet(guint8 *buf, unsigned n)
{
	guint32 w[3] = {g_htonl(0x80000000u | (n & 0xFFFFu)), g_htonl(n * 160u), g_htonl(0x0417CE01u)};
	memcpy(buf, w, sizeof w);
	memset(buf + sizeof w, 0xFF, RTP_PACKET_LEN - sizeof w);
	return RTP_PACKET_LEN;
}

static gboolean on_send_tick(gpointer data)
{
	peer *p = data;
	if (p->finishing)
		return G_SOURCE_REMOVE;
	if (p->ready && p->sent < p->packets) {
		char msg[RTP_PACKET_LEN];
		int n = p->rtp ? rtp_packet((guint8 *)msg, p->sent + 1)
			       : snprintf(msg, sizeof msg, "nice_peer packet %u", p->sent + 1);
		if (nice_agent_send(p->agent, p->stream, 1, (guint)n, msg) == n)
			p->sent++;
	}
	check_done(p);
	return G_SOURCE_CONTINUE;
}

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
		    gpointer data)
{
	(void)agent;
	(void)stream;
	(void)component;
	(void)buf;
	peer *p = data;
	if (len > 0)
		p->received++;
	check_done(p);
}

static void on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
	(void)agent;
	(void)stream;
	(void)component;
	peer *p = data;
	snprintf(p->state_name, sizeof p->state_name, "%s", nice_component_state_to_string(state));
	if (state == NICE_COMPONENT_STATE_READY)
		p->ready = TRUE;
	if (state == NICE_COMPONENT_STATE_FAILED) {
		p->failed = TRUE;
		finish(p, 1);
	}
	check_done(p);
}

/* Every 100 ms until the peer's SDP is there and libnice takes it. */
static gboolean on_poll_remote(gpointer data)
{
	peer *p = data;
	gchar *text = NULL;
	gsize len = 0;
	gdouble waited = (gdouble)(g_get_monotonic_time() - p->started_us) / 1e6;
	if (!g_file_get_contents(p->remote_sdp, &text, &len, NULL) || len == 0) {
		g_free(text);
		if (waited < p->wait_remote_s)
			return G_SOURCE_CONTINUE;
		fprintf(stderr, "nice_peer: %s: not there after %.1f s\n", p->remote_sdp, waited);
		finish(p, 1);
		return G_SOURCE_REMOVE;
	}
	gchar **lines = g_strsplit(text, "\r\n", -1);
	gchar *lf = g_strjoinv("\n", lines);
	g_strfreev(lines);
	g_free(text);
	int n = nice_agent_parse_remote_sdp(p->agent, lf);
	g_free(lf);
	if (n <= 0) {
		fprintf(stderr, "nice_peer: %s: nice_agent_parse_remote_sdp returned %d\n",
			p->remote_sdp, n);
		finish(p, 1);
		return G_SOURCE_REMOVE;
	}
	p->remote_set = TRUE;
	g_timeout_add(20, on_send_tick, p);
	return G_SOURCE_REMOVE;
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer data)
{
	(void)agent;
	(void)stream;
	peer *p = data;
	if (p->gathered)
		return;
	p->gathered = TRUE;
	if (!write_local_sdp(p)) {
		fprintf(stderr, "nice_peer: %s: could not write the local SDP\n", p->local_sdp_out);
		finish(p, 2);
		return;
	}
	g_timeout_add(100, on_poll_remote, p);
}

static gboolean on_timeout(gpointer data)
{
	peer *p = data;
	fprintf(stderr, "nice_peer: timeout after %.1f s\n", p->timeout_s);
	finish(p, 1);
	return G_SOURCE_REMOVE;
}

static int parse_args(int argc, char **argv, peer *p, const char **local, const char **stun)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--controlling")) {
			p->controlling = TRUE;
		} else if (!strcmp(a, "--controlled")) {
			p->controlling = FALSE;
		} else if (!strcmp(a, "--lite")) {
			p->lite = TRUE;
		} else if (!strcmp(a, "--rtp")) {
			p->rtp = TRUE;
		} else if (!strcmp(a, "--aggressive")) {
			p->aggressive = TRUE;
		} else if (v && !strcmp(a, "--local-sdp-out")) {
			p->local_sdp_out = v, i++;
		} else if (v && !strcmp(a, "--remote-sdp")) {
			p->remote_sdp = v, i++;
		} else if (v && !strcmp(a, "--local")) {
			*local = v, i++;
		} else if (v && !strcmp(a, "--stun")) {
			*stun = v, i++;
		} else if (v && !strcmp(a, "--packets")) {
			p->packets = (unsigned)strtoul(v, NULL, 10), i++;
		} else if (v && !strcmp(a, "--wait-remote")) {
			p->wait_remote_s = strtod(v, NULL), i++;
		} else if (v && !strcmp(a, "--timeout")) {
			p->timeout_s = strtod(v, NULL), i++;
		} else {
			fprintf(stderr, "nice_peer: bad argument \"%s\"\n", a);
			return -1;
		}
	}
	if (!p->local_sdp_out || !p->remote_sdp || p->timeout_s <= 0) {
		usage();
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	peer p;
	memset(&p, 0, sizeof p);
	p.controlling = TRUE;
	p.wait_remote_s = 10;
	p.timeout_s = 30;
	p.exit_code = 1;
	snprintf(p.state_name, sizeof p.state_name, "none");
	const char *local = "127.0.0.1", *stun = NULL;
	if (parse_args(argc, argv, &p, &local, &stun) != 0)
		return 2;
	char stun_ip[64] = "";
	unsigned stun_port = 0;
	if (stun) { /* IPv4 "IP:PORT": enough for the tests */
		const char *colon = strrchr(stun, ':');
		if (!colon || colon == stun || (size_t)(colon - stun) >= sizeof stun_ip ||
		    (stun_port = (unsigned)strtoul(colon + 1, NULL, 10)) == 0 || stun_port > 65535) {
			fprintf(stderr, "nice_peer: --stun %s: not IP:PORT\n", stun);
			return 2;
		}
		memcpy(stun_ip, stun, (size_t)(colon - stun));
	}
	p.loop = g_main_loop_new(NULL, FALSE);
	NiceAgentOption opts = p.aggressive ? 0 : NICE_AGENT_OPTION_REGULAR_NOMINATION;
	if (p.lite)
		opts |= NICE_AGENT_OPTION_LITE_MODE;
	p.agent = nice_agent_new_full(g_main_loop_get_context(p.loop), NICE_COMPATIBILITY_RFC5245,
				      opts);
	g_object_set(p.agent, "controlling-mode", p.controlling, "upnp", FALSE, "ice-tcp", FALSE,
		     NULL);
	if (stun)
		g_object_set(p.agent, "stun-server", stun_ip, "stun-server-port", stun_port, NULL);
	NiceAddress addr;
	nice_address_init(&addr);
	if (!nice_address_set_from_string(&addr, local)) {
		fprintf(stderr, "nice_peer: --local %s: not an IP address\n", local);
		return 2;
	}
	nice_agent_add_local_address(p.agent, &addr);
	g_signal_connect(p.agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), &p);
	g_signal_connect(p.agent, "component-state-changed", G_CALLBACK(on_state), &p);
	p.stream = nice_agent_add_stream(p.agent, 1);
	nice_agent_set_stream_name(p.agent, p.stream, "audio");
	nice_agent_attach_recv(p.agent, p.stream, 1, g_main_loop_get_context(p.loop), on_recv, &p);
	p.started_us = g_get_monotonic_time();
	if (!nice_agent_gather_candidates(p.agent, p.stream)) {
		fprintf(stderr, "nice_peer: gathering did not start\n");
		return 2;
	}
	g_timeout_add((guint)(p.timeout_s * 1000), on_timeout, &p);
	g_main_loop_run(p.loop);
	g_object_unref(p.agent);
	g_main_loop_unref(p.loop);
	return p.exit_code;
}
