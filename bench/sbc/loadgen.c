/* The SBC load generator (issue #8 §7). Sets up calls on a target (ng
 * offer/answer, or the floor's one-line control), then two endpoints per
 * call send RTP (12-byte header, 160-byte PCMU payload, 20 ms of
 * timestamp per packet, one SSRC per stream) to the target at a rate per
 * direction, paced with a per-stream phase so calls do not tick together.
 * Counts what comes back per stream; reads the target's CPU time
 * (utime+stime, /proc/PID/stat) over a window and its VmRSS.
 *
 * usage: sbc_loadgen (--ng | --floor) ADDR:PORT --calls C [--pid PID] [--srtp]
 *        [--warmup-ms W] [--label L] MODE
 * MODE is one of
 *   --idle                  set up C calls, RSS before/after, delete them
 *   --phase RATE:MS ...     phases on the same calls (RATE packets/s per
 *                           direction per call); the window of a phase is
 *                           the part after W ms. [--stall AT:MS] stops the
 *                           target (SIGSTOP) AT ms into phase 1 for MS ms
 *   --peak LO:HI --probes N [--loss F]  bisects (geometrically) the total
 *                           offered packets/s, fresh calls for every probe,
 *                           for the highest rate forwarded under F loss
 * One JSON object on stdout. Traffic goes to the target's address only. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../turn/bt_common.h"
#include "lg.h"

#define BATCH 64
#define PKT_MAX 2048
#define RTP_LEN (12 + 160)
#define PHASES_MAX 8
#define PROBES_MAX 12
#define SRTP_CHECK_EVERY 16 /* unprotect a sample of what arrives on SRTP legs */

typedef struct ep {
	int fd;
	struct sockaddr_in dst;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	double phase;            /* 0..1: this stream's offset within a period */
	uint64_t sent, recv;     /* since the counters were reset */
	uint64_t phase_sent;     /* sent in the current phase (pacing) */
	uint64_t recv_w0;        /* recv at the start of the window */
	srtp_t tx, rx;           /* SRTP leg only */
	uint64_t rx_seen, rx_checked, rx_bad;
} ep;

typedef struct phase_res {
	double rate, ms;
	uint64_t sent, recv;
	double win_s, fwd_pps, sent_pps, cpu_us_per_pkt, cpu_share, lg_cpu_share;
	int dead_a_to_b, dead_b_to_a; /* streams with nothing received in the window */
} phase_res;

static struct {
	lg_ctl ctl;
	int calls, pid, warmup_ms, probes;
	bool srtp, idle;
	double peak_lo, peak_hi, loss_max;
	const char *label;
	int nphases;
	int stall_at_ms, stall_ms;   /* SIGSTOP the target this far into phase 1 */
	double ph_rate[PHASES_MAX], ph_ms[PHASES_MAX];
} opt = {.warmup_ms = 300, .loss_max = 0.01, .label = ""};

static ep *eps;         /* 2 per call: A (the offerer) then B */
static int *floor_ids;
static int epfd;
static unsigned generation;  /* distinct call-ids for every set of calls */
static uint8_t rxbuf[BATCH][PKT_MAX], txbuf[BATCH][PKT_MAX];
static char failure[320];    /* why a run stopped, for the JSON too */

static long long self_cpu(void) { return bt_proc_cpu_ticks(getpid()); }

static void call_id(char *buf, size_t len, int i)
{
	snprintf(buf, len, "bench-%d-%u-%d", getpid(), generation, i);
}

static int srtp_ctx(srtp_t *ctx, const char *b64, bool outbound)
{
	unsigned char key[64];
	if (EVP_DecodeBlock(key, (const unsigned char *)b64, LG_KEY_B64) < 30)
		return -1;
	srtp_policy_t p;
	memset(&p, 0, sizeof p);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
	p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	p.key = key;
	p.window_size = 1024;
	return srtp_create(ctx, &p) == srtp_err_status_ok ? 0 : -1;
}

static int open_endpoint(ep *e, uint32_t ssrc)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	memset(e, 0, sizeof *e);
	e->fd = bt_udp_socket(AF_INET, (struct sockaddr *)&a, sizeof a, NULL, 0, false);
	if (e->fd < 0)
		return -1;
	/* A deep queue here, so what is lost is lost at the target. */
	int big = 4 << 20;
	setsockopt(e->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	e->ssrc = ssrc;
	e->seq = (uint16_t)(ssrc * 7);
	e->ts = ssrc * 13;
	return 0;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &l);
	return ntohs(a.sin_port);
}

static void teardown_calls(int n)
{
	char id[64];
	for (int i = 0; i < n; i++) {
		call_id(id, sizeof id, i);
		lg_call_delete(&opt.ctl, id, floor_ids[i]);
		for (int k = 0; k < 2; k++) {
			ep *e = &eps[2 * i + k];
			if (e->tx)
				srtp_dealloc(e->tx);
			if (e->rx)
				srtp_dealloc(e->rx);
			close(e->fd);  /* leaves epfd too */
		}
	}
}

/* Opens the endpoints and sets up every call; 0, or -1 after saying why. */
static int setup_calls(void)
{
	generation++;
	for (int i = 0; i < opt.calls; i++) {
		ep *a = &eps[2 * i], *b = &eps[2 * i + 1];
		char id[64], why[256], key_a[LG_KEY_B64 + 1] = "";
		if (open_endpoint(a, 0x10000u + 2u * (unsigned)i) < 0 ||
		    open_endpoint(b, 0x10001u + 2u * (unsigned)i) < 0) {
			snprintf(failure, sizeof failure, "socket: %s", strerror(errno));
			fprintf(stderr, "sbc_loadgen: %s\n", failure);
			teardown_calls(i);
			return -1;
		}
		unsigned char raw[30];
		RAND_bytes(raw, sizeof raw);
		EVP_EncodeBlock((unsigned char *)key_a, raw, sizeof raw);
		lg_media to_a, to_b;
		call_id(id, sizeof id, i);
		if (lg_call_setup(&opt.ctl, id, local_port(a->fd), local_port(b->fd), opt.srtp,
				  key_a, &to_a, &to_b, &floor_ids[i], why, sizeof why) < 0 ||
		    (opt.srtp && (srtp_ctx(&a->tx, key_a, true) < 0 ||
				  srtp_ctx(&a->rx, to_a.key, false) < 0))) {
			snprintf(failure, sizeof failure, "call %d of %d: %s", i + 1, opt.calls,
				 opt.srtp && !why[0] ? "SRTP context" : why);
			fprintf(stderr, "sbc_loadgen: %s\n", failure);
			close(a->fd);
			close(b->fd);
			teardown_calls(i);
			return -1;
		}
		a->dst = to_a.addr;
		b->dst = to_b.addr;
		for (int k = 0; k < 2; k++) {
			struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(2 * i + k)};
			epoll_ctl(epfd, EPOLL_CTL_ADD, eps[2 * i + k].fd, &ev);
			/* Even spread of the streams over one packet period. */
			eps[2 * i + k].phase = (double)(2 * i + k) / (2.0 * opt.calls);
		}
	}
	return 0;
}

/* Sends n (<= BATCH) packets of e's stream. */
static void send_packets(ep *e, int n)
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	for (int i = 0; i < n; i++) {
		uint8_t *p = txbuf[i];
		p[0] = 0x80;
		p[1] = 0;  /* PT 0, PCMU */
		p[2] = (uint8_t)(e->seq >> 8);
		p[3] = (uint8_t)e->seq;
		p[4] = (uint8_t)(e->ts >> 24);
		p[5] = (uint8_t)(e->ts >> 16);
		p[6] = (uint8_t)(e->ts >> 8);
		p[7] = (uint8_t)e->ts;
		p[8] = (uint8_t)(e->ssrc >> 24);
		p[9] = (uint8_t)(e->ssrc >> 16);
		p[10] = (uint8_t)(e->ssrc >> 8);
		p[11] = (uint8_t)e->ssrc;
		memset(p + 12, 0xff, 160);  /* PCMU silence */
		int len = RTP_LEN;
		if (e->tx && srtp_protect(e->tx, p, &len) != srtp_err_status_ok)
			len = RTP_LEN;  /* cannot happen with a fresh context; sent as is */
		e->seq++;
		e->ts += 160;
		iov[i] = (struct iovec){p, (size_t)len};
		m[i].msg_hdr = (struct msghdr){.msg_name = &e->dst, .msg_namelen = sizeof e->dst,
					       .msg_iov = &iov[i], .msg_iovlen = 1};
	}
	int s = sendmmsg(e->fd, m, (unsigned)n, MSG_DONTWAIT);
	if (s > 0) {
		e->sent += (uint64_t)s;
		e->phase_sent += (uint64_t)s;
	} else {
		e->phase_sent += (uint64_t)n;  /* dropped on our side: counts as offered */
	}
}

static void receive(ep *e)
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){rxbuf[i], PKT_MAX};
		m[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	int n = recvmmsg(e->fd, m, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		if (m[i].msg_len < 12 || (rxbuf[i][0] & 0xc0) != 0x80)
			continue;
		e->recv++;
		if (e->rx && e->rx_seen++ % SRTP_CHECK_EVERY == 0) {
			int len = (int)m[i].msg_len;
			e->rx_checked++;
			if (srtp_unprotect(e->rx, rxbuf[i], &len) != srtp_err_status_ok)
				e->rx_bad++;
		}
	}
}

/* Receives for up to ms, sending nothing. */
static void drain(int ms)
{
	struct epoll_event evs[256];
	uint64_t end = bt_now_ns() + (uint64_t)ms * 1000000u;
	while (bt_now_ns() < end) {
		int n = epoll_wait(epfd, evs, 256, 5);
		for (int i = 0; i < n; i++)
			receive(&eps[evs[i].data.u32]);
	}
}

static void reset_counters(void)
{
	for (int i = 0; i < 2 * opt.calls; i++)
		eps[i].sent = eps[i].recv = 0;
}

/* Each endpoint sends one packet so that every target has seen both
 * ends (the floor learns addresses only from packets); then counters
 * start from zero. */
static void prime(void)
{
	for (int i = 0; i < 2 * opt.calls; i++)
		send_packets(&eps[i], 1);
	drain(150);
	reset_counters();
}

static phase_res *stall_phase;  /* the phase during which to stall the target */

static void run_phase(double rate, double ms, phase_res *r)
{
	struct epoll_event evs[256];
	int n2 = 2 * opt.calls;
	memset(r, 0, sizeof *r);
	r->rate = rate;
	r->ms = ms;
	uint64_t sent0 = 0, recv0 = 0;
	for (int i = 0; i < n2; i++) {
		eps[i].phase_sent = 0;
		sent0 += eps[i].sent;
		recv0 += eps[i].recv;
	}
	uint64_t t0 = bt_now_ns(), end = t0 + (uint64_t)(ms * 1e6);
	/* Fast streams go out in bursts of up to 2 ms of packets, one sendmmsg
	 * each: fewer system calls for the generator, which shares its work
	 * (the kernel's delivery into the target's sockets) with the target. */
	double burst = rate / 500.0 < 1 ? 1 : rate / 500.0 > 16 ? 16 : floor(rate / 500.0);
	uint64_t w0 = opt.warmup_ms < ms ? t0 + (uint64_t)opt.warmup_ms * 1000000u : t0;
	bool in_window = false;
	/* A stalled target (descheduled, swapping, stopped): every receive
	 * queue overflows, whatever the machine's speed. Phase 1 only. */
	bool stall = opt.stall_ms > 0 && r == stall_phase, stalled = false;
	uint64_t st0 = t0 + (uint64_t)opt.stall_at_ms * 1000000u;
	uint64_t st1 = st0 + (uint64_t)opt.stall_ms * 1000000u;
	long long cpu0 = 0, lg0 = 0;
	uint64_t wt0 = 0, wrecv0 = 0, wsent0 = 0;
	for (;;) {
		uint64_t now = bt_now_ns();
		if (!in_window && now >= w0) {
			in_window = true;
			wt0 = now;
			cpu0 = opt.pid ? bt_proc_cpu_ticks(opt.pid) : -1;
			lg0 = self_cpu();
			for (int i = 0; i < n2; i++) {
				eps[i].recv_w0 = eps[i].recv;
				wrecv0 += eps[i].recv;
				wsent0 += eps[i].sent;
			}
		}
		if (stall && !stalled && now >= st0 && now < st1) {
			stalled = kill(opt.pid, SIGSTOP) == 0;
		} else if (stalled && now >= st1) {
			kill(opt.pid, SIGCONT);
			stalled = false;
			stall = false;
		}
		if (now >= end)
			break;
		double el = (double)(now - t0) * 1e-9;
		bool behind = false;
		for (int i = 0; i < n2; i++) {
			ep *e = &eps[i];
			double due = floor(rate * el + e->phase) - (double)e->phase_sent;
			if (due >= burst) {
				int k = due > BATCH ? BATCH : (int)due;
				behind |= due > BATCH;
				send_packets(e, k);
			}
		}
		int n = epoll_wait(epfd, evs, 256, behind ? 0 : 1);
		for (int i = 0; i < n; i++)
			receive(&eps[evs[i].data.u32]);
	}
	if (stalled)
		kill(opt.pid, SIGCONT);
	uint64_t wt1 = bt_now_ns();
	long long cpu1 = opt.pid ? bt_proc_cpu_ticks(opt.pid) : -1, lg1 = self_cpu();
	uint64_t wrecv1 = 0, wsent1 = 0;
	for (int i = 0; i < n2; i++) {
		wrecv1 += eps[i].recv;
		wsent1 += eps[i].sent;
		/* eps[2c] is A: what it receives went B -> A. */
		if (eps[i].recv == eps[i].recv_w0) {
			if (i % 2)
				r->dead_a_to_b++;
			else
				r->dead_b_to_a++;
		}
	}
	double tps = (double)bt_ticks_per_second();
	r->win_s = (double)(wt1 - wt0) * 1e-9;
	r->fwd_pps = (double)(wrecv1 - wrecv0) / r->win_s;
	r->sent_pps = (double)(wsent1 - wsent0) / r->win_s;
	if (cpu0 >= 0 && cpu1 >= 0 && wrecv1 > wrecv0) {
		double cpu_s = (double)(cpu1 - cpu0) / tps;
		r->cpu_us_per_pkt = cpu_s * 1e6 / (double)(wrecv1 - wrecv0);
		r->cpu_share = cpu_s / r->win_s;
	} else {
		r->cpu_us_per_pkt = -1;
	}
	r->lg_cpu_share = (double)(lg1 - lg0) / tps / r->win_s;
	for (int i = 0; i < n2; i++) {
		r->sent += eps[i].sent;
		r->recv += eps[i].recv;
	}
	r->sent -= sent0;
	r->recv -= recv0;
}

static void print_phase(const phase_res *r, bool last)
{
	double loss = r->sent ? 1.0 - (double)r->recv / (double)r->sent : 1.0;
	printf("{\"rate_per_stream\":%.1f,\"ms\":%.0f,\"sent\":%llu,\"recv\":%llu,\"loss\":%.5f,"
	       "\"window_s\":%.3f,\"sent_pps\":%.0f,\"fwd_pps\":%.0f,\"cpu_us_per_pkt\":%.3f,"
	       "\"cpu_share\":%.3f,\"loadgen_cpu_share\":%.3f,\"dead_a_to_b\":%d,"
	       "\"dead_b_to_a\":%d}%s",
	       r->rate, r->ms, (unsigned long long)r->sent, (unsigned long long)r->recv,
	       loss < 0 ? 0 : loss, r->win_s, r->sent_pps, r->fwd_pps, r->cpu_us_per_pkt,
	       r->cpu_share, r->lg_cpu_share, r->dead_a_to_b, r->dead_b_to_a, last ? "" : ",");
}

static void srtp_summary(void)
{
	uint64_t checked = 0, bad = 0;
	for (int i = 0; i < 2 * opt.calls; i++) {
		checked += eps[i].rx_checked;
		bad += eps[i].rx_bad;
	}
	printf(",\"srtp_checked\":%llu,\"srtp_auth_fail\":%llu", (unsigned long long)checked,
	       (unsigned long long)bad);
}

static int mode_phases(void)
{
	if (setup_calls() < 0)
		return 1;
	prime();
	phase_res r[PHASES_MAX];
	stall_phase = &r[0];
	for (int p = 0; p < opt.nphases; p++)
		run_phase(opt.ph_rate[p], opt.ph_ms[p], &r[p]);
	drain(200);
	/* The drained packets belong to the last phase. */
	uint64_t total = 0;
	for (int i = 0; i < 2 * opt.calls; i++)
		total += eps[i].recv;
	uint64_t before = 0;
	for (int p = 0; p + 1 < opt.nphases; p++)
		before += r[p].recv;
	r[opt.nphases - 1].recv = total - before;
	printf(",\"phases\":[");
	for (int p = 0; p < opt.nphases; p++)
		print_phase(&r[p], p + 1 == opt.nphases);
	printf("]");
	srtp_summary();
	bool ping = lg_ctl_ping(&opt.ctl);
	printf(",\"ping_after\":%s", ping ? "true" : "false");
	teardown_calls(opt.calls);
	return 0;
}

static int mode_peak(void)
{
	double lo = opt.peak_lo, hi = opt.peak_hi;
	phase_res best = {0}, probes[PROBES_MAX];
	int np = 0;
	bool any = false;
	printf(",\"probes\":[");
	for (int k = 0; k < opt.probes && k < PROBES_MAX; k++) {
		/* Geometric midpoint; the first probe at the top of the range, so
		 * a target that takes it all is not capped by the bisection. */
		double total = k == 0 ? hi : sqrt(lo * hi);
		if (setup_calls() < 0) {
			printf("{}]");
			return 1;
		}
		prime();
		phase_res *r = &probes[np++];
		run_phase(total / (2.0 * opt.calls), opt.warmup_ms + 500.0, r);
		drain(200);
		uint64_t recv = 0;
		for (int i = 0; i < 2 * opt.calls; i++)
			recv += eps[i].recv;
		r->recv = recv;
		teardown_calls(opt.calls);
		double loss = r->sent ? 1.0 - (double)r->recv / (double)r->sent : 1.0;
		print_phase(r, false);
		if (loss <= opt.loss_max) {
			if (!any || r->fwd_pps > best.fwd_pps)
				best = *r;
			any = true;
			lo = total;
			if (k == 0)
				break;
		} else {
			hi = total;
		}
	}
	printf("{}],\"peak_ok\":%s,\"peak_pps\":%.0f,\"peak_cpu_us_per_pkt\":%.3f,"
	       "\"peak_cpu_share\":%.3f,\"peak_loadgen_cpu_share\":%.3f,"
	       "\"peak_offered_pps\":%.0f,\"peak_sent_pps\":%.0f",
	       any ? "true" : "false", any ? best.fwd_pps : 0.0,
	       any ? best.cpu_us_per_pkt : -1.0, best.cpu_share, best.lg_cpu_share,
	       best.rate * 2.0 * opt.calls, best.sent_pps);
	return 0;
}

static int mode_idle(void)
{
	long long before = bt_proc_rss_kb(opt.pid);
	uint64_t t0 = bt_now_ns();
	if (setup_calls() < 0)
		return 1;
	double setup_s = (double)(bt_now_ns() - t0) * 1e-9;
	drain(300);
	long long after = bt_proc_rss_kb(opt.pid);
	printf(",\"rss_kb_before\":%lld,\"rss_kb_after\":%lld,\"rss_bytes_per_call\":%.0f,"
	       "\"setup_s\":%.3f,\"setups_per_s\":%.0f",
	       before, after, (double)(after - before) * 1024.0 / opt.calls, setup_s,
	       opt.calls / setup_s);
	teardown_calls(opt.calls);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: sbc_loadgen (--ng | --floor) ADDR:PORT --calls C [--pid PID] "
			"[--srtp] [--warmup-ms W] [--label L]\n"
			"       (--idle | --phase RATE:MS ... [--stall AT:MS] |\n"
			"        --peak LO:HI --probes N [--loss F])\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *server = NULL;
	bool floor_target = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if ((!strcmp(a, "--ng") || !strcmp(a, "--floor")) && v) {
			server = v;
			floor_target = !strcmp(a, "--floor");
			i++;
		} else if (!strcmp(a, "--calls") && v) {
			opt.calls = atoi(v), i++;
		} else if (!strcmp(a, "--pid") && v) {
			opt.pid = atoi(v), i++;
		} else if (!strcmp(a, "--warmup-ms") && v) {
			opt.warmup_ms = atoi(v), i++;
		} else if (!strcmp(a, "--label") && v) {
			opt.label = v, i++;
		} else if (!strcmp(a, "--srtp")) {
			opt.srtp = true;
		} else if (!strcmp(a, "--idle")) {
			opt.idle = true;
		} else if (!strcmp(a, "--phase") && v && opt.nphases < PHASES_MAX) {
			if (sscanf(v, "%lf:%lf", &opt.ph_rate[opt.nphases], &opt.ph_ms[opt.nphases]) != 2)
				return usage();
			opt.nphases++, i++;
		} else if (!strcmp(a, "--peak") && v) {
			if (sscanf(v, "%lf:%lf", &opt.peak_lo, &opt.peak_hi) != 2)
				return usage();
			i++;
		} else if (!strcmp(a, "--stall") && v) {
			if (sscanf(v, "%d:%d", &opt.stall_at_ms, &opt.stall_ms) != 2)
				return usage();
			i++;
		} else if (!strcmp(a, "--probes") && v) {
			opt.probes = atoi(v), i++;
		} else if (!strcmp(a, "--loss") && v) {
			opt.loss_max = atof(v), i++;
		} else {
			return usage();
		}
	}
	int modes = opt.idle + (opt.nphases > 0) + (opt.probes > 0);
	if (!server || opt.calls < 1 || modes != 1 || (opt.idle && !opt.pid) ||
	    (opt.probes && !(opt.peak_lo > 0 && opt.peak_hi >= opt.peak_lo)) ||
	    (opt.srtp && floor_target) || (opt.stall_ms && (!opt.pid || !opt.nphases)))
		return usage();
	if (bt_raise_nofile(4L * opt.calls + 64) < 2L * opt.calls + 32) {
		fprintf(stderr, "sbc_loadgen: not enough file descriptors for %d calls\n", opt.calls);
		return 1;
	}
	if (srtp_init() != srtp_err_status_ok || lg_ctl_open(&opt.ctl, server, floor_target) < 0 ||
	    (epfd = epoll_create1(0)) < 0) {
		fprintf(stderr, "sbc_loadgen: setup failed\n");
		return 1;
	}
	eps = calloc(2 * (size_t)opt.calls, sizeof *eps);
	floor_ids = calloc((size_t)opt.calls, sizeof *floor_ids);
	if (!eps || !floor_ids)
		return 1;
	if (!lg_ctl_ping(&opt.ctl)) {
		fprintf(stderr, "sbc_loadgen: %s does not answer ping\n", server);
		return 1;
	}
	printf("{\"label\":\"%s\",\"calls\":%d,\"srtp\":%s", opt.label, opt.calls,
	       opt.srtp ? "true" : "false");
	int rc = opt.idle ? mode_idle() : opt.probes ? mode_peak() : mode_phases();
	if (rc) {
		/* JSON string: the reason may quote the target's SDP or error text. */
		printf(",\"error\":\"");
		for (const char *p = failure[0] ? failure : "failed"; *p; p++)
			printf(*p == '"' || *p == '\\' ? "\\%c" : (unsigned char)*p < 0x20 ? " " : "%c", *p);
		printf("\"");
	}
	printf("}\n");
	return rc;
}
