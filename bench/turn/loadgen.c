/* The load generator of the TURN benchmark (issue #3 §7). One process
 * drives many clients over plain non-blocking UDP sockets and epoll: the
 * control plane (Allocate with its 401 challenge, ChannelBind, Refresh 0)
 * through the sans-I/O TURN client core, the data plane (Binding requests,
 * ChannelData) built and counted here directly.
 *
 * Modes (one measurement per run, one JSON object on stdout):
 *   binding   Binding requests, --flows sockets with --window in flight each
 *   relay     ChannelData through --flows allocations to the echo peer,
 *             --window in flight each: echoes/s, loss
 *   paced     ChannelData at --rate datagrams/s per allocation each way
 *   alloc     --flows allocations (Allocate + ChannelBind), --window at once:
 *             rate, then RSS held, then Refresh 0 for all and RSS after
 *   latency   --count round trips, one at a time, through one allocation
 *   direct    the same straight to the echo peer: the baseline of latency
 * With --pid, the server's CPU time (utime+stime, /proc/PID/stat) is read
 * at the edges of the measured window, and its VmRSS for alloc.
 * --raw: the server is the floor forwarder, which needs no allocation. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bt_common.h"
#include "icelab/channeldata.h"
#include "icelab/turn_client.h"

#define BATCH 64
#define DGRAM_MAX 2048
#define STALL_NS 200000000ull    /* a flow silent this long re-arms its window */

enum mode { MODE_BINDING, MODE_RELAY, MODE_PACED, MODE_ALLOC, MODE_LATENCY, MODE_DIRECT };

enum flow_state {
	FLOW_IDLE = 0,
	FLOW_ALLOCATING,
	FLOW_BINDING,
	FLOW_READY,
	FLOW_RELEASING,
	FLOW_RELEASED,
	FLOW_FAILED,
};

typedef struct flow {
	int fd;
	il_turn_client *tc;
	enum flow_state state;
	uint16_t channel;       /* host order */
	uint32_t in_flight;
	uint64_t last_rx_ns;
	uint64_t next_send_ns;  /* paced */
} flow;

typedef struct options {
	enum mode mode;
	struct sockaddr_storage server, peer;
	socklen_t server_len, peer_len;
	il_addr peer_addr;
	char user[128], password[128];
	int pid;
	int flows, window, size, count;
	double rate;
	int warmup_ms, ms;
	bool raw;
} options;

typedef struct loadgen {
	options o;
	int epoll_fd;
	flow *flows;
	int started, active, ready, failed, released, release_failed;
	uint64_t sent, received;
	uint64_t rng;
	char fail_reason[160];
} loadgen;

static loadgen G;

static uint64_t now_ms(void)
{
	return bt_now_ns() / 1000000u;
}

/* ---- the TURN client core's callbacks ---- */

static void cb_random(void *user, uint8_t *out, size_t len)
{
	(void)user;
	for (size_t i = 0; i < len; i++) {
		G.rng ^= G.rng << 13;
		G.rng ^= G.rng >> 7;
		G.rng ^= G.rng << 17;
		out[i] = (uint8_t)G.rng;
	}
}

static void cb_send(void *user, const uint8_t *data, size_t len)
{
	flow *f = user;
	(void)!send(f->fd, data, len, 0);
}

static void cb_event(void *user, const il_turn_client_event *ev)
{
	flow *f = user;
	switch (ev->type) {
	case IL_TURN_CLIENT_EV_ALLOCATED: {
		uint16_t ch = 0;
		if (il_turn_client_bind_channel(f->tc, &G.o.peer_addr, &ch, now_ms()) == 0) {
			f->state = FLOW_BINDING;
			f->channel = ch;
			return;
		}
		f->state = FLOW_FAILED;
		break;
	}
	case IL_TURN_CLIENT_EV_CHANNEL_BOUND:
		if (f->state == FLOW_BINDING) {
			f->channel = ev->channel;
			f->state = FLOW_READY;
			G.active--;
			G.ready++;
		}
		return;
	case IL_TURN_CLIENT_EV_RELEASED:
		if (f->state == FLOW_RELEASING) {
			f->state = FLOW_RELEASED;
			G.active--;
			G.released++;
		}
		return;
	case IL_TURN_CLIENT_EV_ALLOCATE_FAILED:
	case IL_TURN_CLIENT_EV_CHANNEL_FAILED:
	case IL_TURN_CLIENT_EV_ALLOCATION_LOST:
		break;
	default:
		return;
	}
	if (!G.fail_reason[0])
		snprintf(G.fail_reason, sizeof G.fail_reason, "%s: %s %d %s",
			 il_turn_client_event_name(ev->type), il_turn_client_failure_name(ev->failure),
			 ev->error_code, ev->reason);
	if (f->state == FLOW_RELEASING) {
		G.release_failed++;
		G.active--;
		f->state = FLOW_RELEASED;
		return;
	}
	if (f->state == FLOW_ALLOCATING || f->state == FLOW_BINDING) {
		G.active--;
		G.failed++;
	}
	f->state = FLOW_FAILED;
}

/* ---- flows ---- */

static int flow_open(flow *f, int index, const struct sockaddr *to, socklen_t to_len)
{
	struct sockaddr_storage local;
	memset(&local, 0, sizeof local);
	local.ss_family = to->sa_family;
	if (to->sa_family == AF_INET)
		((struct sockaddr_in *)&local)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&local)->sin6_addr = in6addr_loopback;
	f->fd = bt_udp_socket(to->sa_family, (struct sockaddr *)&local,
			      to->sa_family == AF_INET ? sizeof(struct sockaddr_in)
						       : sizeof(struct sockaddr_in6),
			      to, to_len, false);
	if (f->fd < 0)
		return -1;
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)index};
	return epoll_ctl(G.epoll_fd, EPOLL_CTL_ADD, f->fd, &ev);
}

static int flow_start_allocation(flow *f)
{
	il_turn_client_config cfg;
	il_turn_client_config_defaults(&cfg);
	cfg.username = G.o.user;
	cfg.password = G.o.password;
	il_turn_client_callbacks cb = {.user = f, .random = cb_random, .send = cb_send,
				       .event = cb_event};
	f->tc = il_turn_client_new(&cfg, &cb);
	if (!f->tc)
		return -1;
	f->state = FLOW_ALLOCATING;
	return il_turn_client_allocate(f->tc, now_ms());
}

static void flow_close(flow *f)
{
	if (f->tc)
		il_turn_client_free(f->tc);
	f->tc = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* ---- the data plane ---- */

static uint8_t tx_bufs[BATCH][DGRAM_MAX];
static uint8_t rx_bufs[BATCH][DGRAM_MAX];
static uint64_t tx_seq;

/* Fills tx_bufs[i] with the datagram this mode sends on f; its length. */
static size_t build_datagram(const flow *f, int i)
{
	uint8_t *b = tx_bufs[i];
	uint64_t seq = ++tx_seq;
	if (G.o.mode == MODE_BINDING) {
		static const uint8_t head[8] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
		memcpy(b, head, 8);
		memcpy(b + 8, &seq, 8);
		memcpy(b + 16, &G.rng, 4);
		return 20;
	}
	size_t n = (size_t)G.o.size;
	if (G.o.mode == MODE_DIRECT) {
		memset(b, 0xA5, n);
		memcpy(b, &seq, sizeof seq);
		return n;
	}
	b[0] = (uint8_t)(f->channel >> 8);
	b[1] = (uint8_t)f->channel;
	b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	memset(b + 4, 0xA5, n);
	memcpy(b + 4, &seq, sizeof seq);
	return 4 + n;  /* sizes are multiples of 4 here: no padding */
}

static void flow_send(flow *f, int count)
{
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	while (count > 0) {
		int n = count < BATCH ? count : BATCH;
		for (int i = 0; i < n; i++) {
			iov[i] = (struct iovec){tx_bufs[i], build_datagram(f, i)};
			msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
		}
		int s = sendmmsg(f->fd, msgs, (unsigned)n, 0);
		if (s <= 0)
			return;
		G.sent += (uint64_t)s;
		f->in_flight += (uint32_t)s;
		count -= s;
		if (s < n)
			return;
	}
}

/* True when b is an answer this mode counts. */
static bool is_answer(const uint8_t *b, size_t len)
{
	if (G.o.mode == MODE_BINDING)
		return len >= 20 && b[0] == 0x01 && b[1] == 0x01;
	if (G.o.mode == MODE_DIRECT)
		return true;
	return len >= 4 && (b[0] & 0xF0) == 0x40;
}

/* Reads what f's socket holds; returns the answers counted. Control
 * messages go to the TURN client core. */
static int flow_receive(flow *f)
{
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	int answers = 0;
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){rx_bufs[i], DGRAM_MAX};
			msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
		}
		int n = recvmmsg(f->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if (is_answer(rx_bufs[i], msgs[i].msg_len))
				answers++;
			else if (f->tc)
				il_turn_client_handle_datagram(f->tc, rx_bufs[i], msgs[i].msg_len,
							       now_ms());
		}
		if (n < BATCH)
			break;
	}
	if (answers) {
		G.received += (uint64_t)answers;
		f->in_flight = f->in_flight > (uint32_t)answers ? f->in_flight - (uint32_t)answers : 0;
		f->last_rx_ns = bt_now_ns();
	}
	return answers;
}

/* One pass of the event loop: waits up to timeout_ms, reads, and in
 * closed-loop modes (refill) sends one datagram per answer. */
static void poll_once(int timeout_ms, bool refill)
{
	struct epoll_event evs[256];
	int n = epoll_wait(G.epoll_fd, evs, 256, timeout_ms);
	for (int i = 0; i < n; i++) {
		flow *f = &G.flows[evs[i].data.u32];
		int answers = flow_receive(f);
		if (refill && answers && f->state == FLOW_READY)
			flow_send(f, answers);
	}
}

/* ---- measurement windows ---- */

typedef struct window {
	uint64_t t0_ns, t1_ns;
	uint64_t rx0, rx1, tx0, tx1;
	long long cpu0, cpu1;
	long long machine0, machine1;
	long long self0, self1;
} window;

static void window_open(window *w)
{
	w->cpu0 = G.o.pid ? bt_proc_cpu_ticks(G.o.pid) : -1;
	w->machine0 = bt_machine_busy_ticks();
	w->self0 = bt_proc_cpu_ticks(getpid());
	w->t0_ns = bt_now_ns();
	w->rx0 = G.received;
	w->tx0 = G.sent;
}

static void window_close(window *w)
{
	w->t1_ns = bt_now_ns();
	w->rx1 = G.received;
	w->tx1 = G.sent;
	w->cpu1 = G.o.pid ? bt_proc_cpu_ticks(G.o.pid) : -1;
	w->machine1 = bt_machine_busy_ticks();
	w->self1 = bt_proc_cpu_ticks(getpid());
}

static double window_seconds(const window *w)
{
	return (double)(w->t1_ns - w->t0_ns) / 1e9;
}

/* Server CPU in seconds over the window, or -1. */
static double window_cpu(const window *w)
{
	if (w->cpu0 < 0 || w->cpu1 < 0)
		return -1;
	return (double)(w->cpu1 - w->cpu0) / (double)bt_ticks_per_second();
}

/* ---- setting up ---- */

/* Opens flows [0, count): plain sockets, or allocations with a channel to
 * the peer, at most `concurrency` being set up at once. Returns the number
 * ready; *seconds gets the time it took. */
static int setup_flows(int count, int concurrency, double *seconds)
{
	uint64_t t0 = bt_now_ns();
	bool turn = G.o.mode != MODE_BINDING && G.o.mode != MODE_DIRECT && !G.o.raw;
	const struct sockaddr *to = (const struct sockaddr *)(G.o.mode == MODE_DIRECT
								     ? &G.o.peer
								     : &G.o.server);
	socklen_t to_len = G.o.mode == MODE_DIRECT ? G.o.peer_len : G.o.server_len;
	if (!turn) {
		for (int i = 0; i < count; i++) {
			if (flow_open(&G.flows[i], i, to, to_len) < 0) {
				perror("turn_loadgen: socket");
				return i;
			}
			G.flows[i].state = FLOW_READY;
			G.flows[i].channel = IL_CHANNEL_MIN;
			G.ready++;
		}
		*seconds = (double)(bt_now_ns() - t0) / 1e9;
		return count;
	}
	uint64_t deadline = t0 + 60ull * 1000000000u;
	uint64_t next_timer = 0;
	while (G.ready + G.failed < count && bt_now_ns() < deadline) {
		while (G.active < concurrency && G.started < count) {
			flow *f = &G.flows[G.started];
			if (flow_open(f, G.started, to, to_len) < 0 || flow_start_allocation(f) < 0) {
				snprintf(G.fail_reason, sizeof G.fail_reason, "socket %d: %s",
					 G.started, strerror(errno));
				f->state = FLOW_FAILED;
				G.failed++;
				G.started++;
				continue;
			}
			G.active++;
			G.started++;
		}
		poll_once(5, false);
		uint64_t ms = now_ms();
		if (ms >= next_timer) {
			for (int i = 0; i < G.started; i++) {
				flow *f = &G.flows[i];
				if ((f->state == FLOW_ALLOCATING || f->state == FLOW_BINDING) &&
				    il_turn_client_next_deadline(f->tc) <= ms)
					il_turn_client_timer(f->tc, ms);
			}
			next_timer = ms + 20;
		}
	}
	*seconds = (double)(bt_now_ns() - t0) / 1e9;
	return G.ready;
}

/* Refresh 0 on every ready allocation, `concurrency` at once; returns the
 * number released. */
static int release_flows(int count, int concurrency)
{
	uint64_t deadline = bt_now_ns() + 30ull * 1000000000u;
	int next = 0, done_before = G.released + G.release_failed;
	int released_before = G.released;
	int to_release = 0;
	for (int i = 0; i < count; i++)
		to_release += G.flows[i].state == FLOW_READY && G.flows[i].tc;
	G.active = 0;
	uint64_t next_timer = 0;
	while (G.released + G.release_failed - done_before < to_release && bt_now_ns() < deadline) {
		while (G.active < concurrency && next < count) {
			flow *f = &G.flows[next++];
			if (f->state != FLOW_READY || !f->tc)
				continue;
			f->state = FLOW_RELEASING;
			G.active++;
			if (il_turn_client_release(f->tc, now_ms()) < 0) {
				f->state = FLOW_RELEASED;
				G.active--;
				G.release_failed++;
			}
		}
		poll_once(5, false);
		uint64_t ms = now_ms();
		if (ms >= next_timer) {
			for (int i = 0; i < next; i++) {
				flow *f = &G.flows[i];
				if (f->state == FLOW_RELEASING && il_turn_client_next_deadline(f->tc) <= ms)
					il_turn_client_timer(f->tc, ms);
			}
			next_timer = ms + 20;
		}
	}
	return G.released - released_before;
}

/* ---- the modes ---- */

/* Re-arms the window of flows silent for STALL_NS (their datagrams were
 * lost: the loss stays counted as sent minus received). */
static void rearm_stalled(uint64_t now)
{
	for (int i = 0; i < G.o.flows; i++) {
		flow *f = &G.flows[i];
		if (f->state == FLOW_READY && now - f->last_rx_ns > STALL_NS) {
			f->in_flight = 0;
			f->last_rx_ns = now;
			flow_send(f, G.o.window);
		}
	}
}

static void drain(int ms)
{
	uint64_t end = bt_now_ns() + (uint64_t)ms * 1000000u;
	while (bt_now_ns() < end)
		poll_once(5, false);
}

static void run_closed_loop(window *w)
{
	uint64_t now = bt_now_ns();
	for (int i = 0; i < G.o.flows; i++) {
		G.flows[i].last_rx_ns = now;
		flow_send(&G.flows[i], G.o.window);
	}
	uint64_t open_at = now + (uint64_t)G.o.warmup_ms * 1000000u;
	uint64_t close_at = open_at + (uint64_t)G.o.ms * 1000000u;
	uint64_t next_check = now + 10000000u;
	bool open = false;
	for (;;) {
		poll_once(1, true);
		now = bt_now_ns();
		if (!open && now >= open_at) {
			window_open(w);
			open = true;
		}
		if (now >= close_at) {
			window_close(w);
			break;
		}
		if (now >= next_check) {
			rearm_stalled(now);
			next_check = now + 10000000u;
		}
	}
	drain(300);
}

static void run_paced(window *w)
{
	uint64_t now = bt_now_ns();
	uint64_t period = (uint64_t)(1e9 / G.o.rate);
	for (int i = 0; i < G.o.flows; i++)
		G.flows[i].next_send_ns = now + period * (uint64_t)i / (uint64_t)G.o.flows;
	uint64_t open_at = now + (uint64_t)G.o.warmup_ms * 1000000u;
	uint64_t close_at = open_at + (uint64_t)G.o.ms * 1000000u;
	bool open = false;
	for (;;) {
		poll_once(1, false);
		now = bt_now_ns();
		for (int i = 0; i < G.o.flows; i++) {
			flow *f = &G.flows[i];
			if (f->next_send_ns > now)
				continue;
			/* Every period elapsed since the last send is a datagram
			 * due; more than 10 ms behind is forgiven, not burst. */
			uint64_t due = (now - f->next_send_ns) / period + 1;
			if (now - f->next_send_ns > 10000000u) {
				due = 1;
				f->next_send_ns = now;
			}
			flow_send(f, (int)(due < BATCH ? due : BATCH));
			f->next_send_ns += due * period;
		}
		if (!open && now >= open_at) {
			window_open(w);
			open = true;
		}
		if (now >= close_at) {
			window_close(w);
			break;
		}
	}
	drain(300);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One datagram at a time; prints RTT percentiles in microseconds. */
static void run_latency(void)
{
	flow *f = &G.flows[0];
	bt_set_blocking(f->fd);
	int n = G.o.count;
	uint64_t *rtt = calloc((size_t)n, sizeof *rtt);
	int got = 0, lost = 0;
	for (int i = 0; i < n + 100; i++) { /* the first 100: warm-up, not kept */
		size_t len = build_datagram(f, 0);
		uint64_t t0 = bt_now_ns();
		if (send(f->fd, tx_bufs[0], len, 0) < 0)
			continue;
		G.sent++;
		for (;;) {
			struct pollfd p = {.fd = f->fd, .events = POLLIN};
			if (poll(&p, 1, 100) <= 0) {
				lost++;
				break;
			}
			ssize_t r = recv(f->fd, rx_bufs[0], DGRAM_MAX, 0);
			if (r > 0 && is_answer(rx_bufs[0], (size_t)r) &&
			    memcmp(rx_bufs[0] + (G.o.mode == MODE_DIRECT ? 0 : 4),
				   tx_bufs[0] + (G.o.mode == MODE_DIRECT ? 0 : 4), 8) == 0) {
				G.received++;
				if (i >= 100)
					rtt[got++] = bt_now_ns() - t0;
				break;
			}
		}
	}
	qsort(rtt, (size_t)got, sizeof *rtt, cmp_u64);
	double p50 = got ? (double)rtt[got / 2] / 1e3 : -1;
	double p10 = got ? (double)rtt[got / 10] / 1e3 : -1;
	double p90 = got ? (double)rtt[got * 9 / 10] / 1e3 : -1;
	double p99 = got ? (double)rtt[got * 99 / 100] / 1e3 : -1;
	printf("{\"mode\":\"%s\",\"size\":%d,\"round_trips\":%d,\"lost\":%d,"
	       "\"rtt_us_p10\":%.2f,\"rtt_us_p50\":%.2f,\"rtt_us_p90\":%.2f,\"rtt_us_p99\":%.2f}\n",
	       G.o.mode == MODE_DIRECT ? "direct" : "latency", G.o.size, got, lost, p10, p50, p90,
	       p99);
	free(rtt);
}

static void print_traffic(const char *mode, const window *w)
{
	double s = window_seconds(w);
	double cpu = window_cpu(w);
	uint64_t rx = w->rx1 - w->rx0;
	/* Relay: every echo is two relayed datagrams (client to peer, peer
	 * to client). Binding: one request answered. */
	double per = G.o.mode == MODE_BINDING ? (double)rx : 2.0 * (double)rx;
	double machine = w->machine0 >= 0 && w->machine1 >= 0
				 ? (double)(w->machine1 - w->machine0) / (double)bt_ticks_per_second()
				 : -1;
	double lost = G.sent > G.received ? (double)(G.sent - G.received) : 0;
	printf("{\"mode\":\"%s\",\"flows\":%d,\"window\":%d,\"size\":%d,\"rate\":%.1f,"
	       "\"seconds\":%.4f,\"answers\":%llu,\"answers_per_s\":%.1f,\"sent_in_window\":%llu,"
	       "\"server_cpu_s\":%.4f,\"server_cpu_us_per_dgram\":%.4f,\"server_cpu_share\":%.4f,"
	       "\"machine_cpu_us_per_dgram\":%.4f,\"loadgen_cpu_share\":%.4f,"
	       "\"sent\":%llu,\"received\":%llu,\"loss\":%.6f}\n",
	       mode, G.o.flows, G.o.window, G.o.size, G.o.rate, s, (unsigned long long)rx,
	       (double)rx / s, (unsigned long long)(w->tx1 - w->tx0), cpu,
	       cpu >= 0 && per > 0 ? cpu * 1e6 / per : -1, cpu >= 0 ? cpu / s : -1,
	       machine >= 0 && per > 0 ? machine * 1e6 / per : -1,
	       (double)(w->self1 - w->self0) / (double)bt_ticks_per_second() / s,
	       (unsigned long long)G.sent, (unsigned long long)G.received,
	       G.sent ? lost / (double)G.sent : 0);
}

static int run_alloc(void)
{
	int pid = G.o.pid;
	long long rss0 = pid ? bt_proc_rss_kb(pid) : -1;
	long long cpu0 = pid ? bt_proc_cpu_ticks(pid) : -1;
	double secs = 0;
	int ready = setup_flows(G.o.flows, G.o.window, &secs);
	long long cpu1 = pid ? bt_proc_cpu_ticks(pid) : -1;
	usleep(300000); /* let the server settle before reading its memory */
	long long rss1 = pid ? bt_proc_rss_kb(pid) : -1;
	int released = release_flows(G.o.flows, G.o.window);
	for (int i = 0; i < G.o.flows; i++)
		flow_close(&G.flows[i]);
	usleep(1000000);
	long long rss2 = pid ? bt_proc_rss_kb(pid) : -1;
	double cpu = cpu0 >= 0 && cpu1 >= 0 ? (double)(cpu1 - cpu0) / (double)bt_ticks_per_second()
					    : -1;
	printf("{\"mode\":\"alloc\",\"allocations\":%d,\"ready\":%d,\"failed\":%d,"
	       "\"seconds\":%.4f,\"allocs_per_s\":%.1f,\"server_cpu_s\":%.4f,"
	       "\"server_cpu_us_per_alloc\":%.2f,\"rss_kb_before\":%lld,\"rss_kb_held\":%lld,"
	       "\"rss_kb_after_release\":%lld,\"rss_bytes_per_alloc\":%.1f,\"released\":%d,"
	       "\"release_failed\":%d,\"first_failure\":\"%s\"}\n",
	       G.o.flows, ready, G.failed, secs, ready / secs, cpu,
	       cpu >= 0 && ready ? cpu * 1e6 / ready : -1, rss0, rss1, rss2,
	       ready && rss0 >= 0 ? (double)(rss1 - rss0) * 1024.0 / ready : -1, released,
	       G.release_failed, G.fail_reason);
	return ready == G.o.flows ? 0 : 1;
}

/* ---- options ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: turn_loadgen MODE --server ADDR:PORT [options]\n"
		"modes: binding relay paced alloc latency direct\n"
		"  --server ADDR:PORT  the server (or floor) under test\n"
		"  --peer ADDR:PORT    the echo peer (relay, paced, alloc, latency, direct)\n"
		"  --user NAME:PASS    long-term credentials (default alice:secret)\n"
		"  --pid PID           the server's process, for CPU time and RSS\n"
		"  --flows N           sockets or allocations (default 16)\n"
		"  --window N          datagrams in flight per flow; alloc: setups at once (16)\n"
		"  --size BYTES        ChannelData payload, a multiple of 4 (default 100)\n"
		"  --rate PPS          paced: datagrams/s per allocation each way (default 50)\n"
		"  --count N           latency, direct: round trips (default 2000)\n"
		"  --warmup-ms MS      before the measured window (default 200)\n"
		"  --ms MS             the measured window (default 1000)\n"
		"  --raw               no allocation: the server is the floor forwarder\n");
}

static int parse_options(int argc, char **argv, options *o)
{
	static const struct option longs[] = {
		{"server", required_argument, NULL, 's'}, {"peer", required_argument, NULL, 'p'},
		{"user", required_argument, NULL, 'u'},   {"pid", required_argument, NULL, 'P'},
		{"flows", required_argument, NULL, 'f'},  {"window", required_argument, NULL, 'w'},
		{"size", required_argument, NULL, 'z'},   {"rate", required_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'c'},  {"warmup-ms", required_argument, NULL, 'W'},
		{"ms", required_argument, NULL, 'm'},     {"raw", no_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	static const char *const modes[] = {"binding", "relay", "paced", "alloc", "latency",
					    "direct"};
	*o = (options){.flows = 16, .window = 16, .size = 100, .count = 2000, .rate = 50,
		       .warmup_ms = 200, .ms = 1000};
	snprintf(o->user, sizeof o->user, "alice");
	snprintf(o->password, sizeof o->password, "secret");
	if (argc < 2) {
		usage(stderr);
		return -1;
	}
	if (strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		exit(0);
	}
	o->mode = (enum mode)-1;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(argv[1], modes[i]) == 0)
			o->mode = (enum mode)i;
	if ((int)o->mode < 0) {
		fprintf(stderr, "turn_loadgen: unknown mode %s\n", argv[1]);
		return -1;
	}
	bool have_server = false, have_peer = false;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 's':
			have_server = bt_parse_sockaddr(optarg, &o->server, &o->server_len) == 0;
			break;
		case 'p':
			have_peer = bt_parse_sockaddr(optarg, &o->peer, &o->peer_len) == 0 &&
				    il_addr_parse(optarg, &o->peer_addr) == 0;
			break;
		case 'u': {
			const char *colon = strchr(optarg, ':');
			if (!colon || (size_t)(colon - optarg) >= sizeof o->user)
				return -1;
			snprintf(o->user, sizeof o->user, "%.*s", (int)(colon - optarg), optarg);
			snprintf(o->password, sizeof o->password, "%s", colon + 1);
			break;
		}
		case 'P': o->pid = atoi(optarg); break;
		case 'f': o->flows = atoi(optarg); break;
		case 'w': o->window = atoi(optarg); break;
		case 'z': o->size = atoi(optarg); break;
		case 'r': o->rate = atof(optarg); break;
		case 'c': o->count = atoi(optarg); break;
		case 'W': o->warmup_ms = atoi(optarg); break;
		case 'm': o->ms = atoi(optarg); break;
		case 'R': o->raw = true; break;
		default: usage(stderr); return -1;
		}
	}
	bool needs_peer = o->mode != MODE_BINDING;
	if ((!have_server && o->mode != MODE_DIRECT) || (needs_peer && !have_peer)) {
		fprintf(stderr, "turn_loadgen: --server%s missing or not an address\n",
			needs_peer ? " or --peer" : "");
		return -1;
	}
	if (o->mode == MODE_LATENCY || o->mode == MODE_DIRECT)
		o->flows = 1;
	if (o->flows < 1 || o->window < 1 || o->size < 8 || o->size > 1400 || o->size % 4 ||
	    o->rate <= 0 || o->count < 1 || o->ms < 1 || o->warmup_ms < 0) {
		fprintf(stderr, "turn_loadgen: a count, size or rate is out of range\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (parse_options(argc, argv, &G.o) < 0)
		return 2;
	G.rng = bt_now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
	if (bt_raise_nofile((long)G.o.flows + 256) < (long)G.o.flows + 64) {
		fprintf(stderr, "turn_loadgen: cannot open %d sockets (ulimit -n)\n", G.o.flows);
		return 2;
	}
	G.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	G.flows = calloc((size_t)G.o.flows, sizeof *G.flows);
	if (G.epoll_fd < 0 || !G.flows)
		return 2;
	for (int i = 0; i < G.o.flows; i++)
		G.flows[i].fd = -1;
	if (G.o.mode == MODE_ALLOC)
		return run_alloc();
	double setup_s = 0;
	int ready = setup_flows(G.o.flows, 64, &setup_s);
	if (ready < G.o.flows) {
		fprintf(stderr, "turn_loadgen: %d of %d flows ready (%s)\n", ready, G.o.flows,
			G.fail_reason);
		return 1;
	}
	window w = {0};
	switch (G.o.mode) {
	case MODE_BINDING: run_closed_loop(&w); print_traffic("binding", &w); break;
	case MODE_RELAY: run_closed_loop(&w); print_traffic("relay", &w); break;
	case MODE_PACED: run_paced(&w); print_traffic("paced", &w); break;
	case MODE_LATENCY:
	case MODE_DIRECT: run_latency(); break;
	case MODE_ALLOC: break;
	}
	release_flows(G.o.flows, 64);
	for (int i = 0; i < G.o.flows; i++)
		flow_close(&G.flows[i]);
	return 0;
}
