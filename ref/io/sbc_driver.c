/* `icelab serve --sbc` (issue #8 §5, §7): the bridge table and the ng
 * control socket on real UDP sockets.
 *
 * One thread, one epoll loop. The media path is built for packet rate:
 * a readable media socket is drained with recvmmsg (RX_BATCH datagrams a
 * call, a few calls per wake-up so one busy socket cannot starve the
 * others), every datagram goes through the bridge, and what it forwards
 * is queued and written with one sendmmsg per run of datagrams leaving
 * from the same socket. Forwarded RTP is sent from the receive buffer
 * itself (the queue is flushed before the buffers are reused): no copy,
 * no allocation per packet. Only datagrams made here (STUN answers) are
 * copied into the queue's own slots.
 *
 * Overload: a socket is never paused or closed for being busy. The
 * kernel drops what does not fit its receive queue, a send that would
 * block is dropped (counted), and every stream keeps flowing when the
 * load falls. (rtpengine stops reading a socket after repeated overflows,
 * issue #8 §7.)
 *
 * Signals come through a signalfd: SIGHUP reloads (the advertised
 * address for new calls, the log file reopened), SIGTERM and SIGINT stop.
 * A 100 ms tick runs the calls' timers (ICE-lite, media timeout).
 *
 * Wake-ups, not copies, dominate the cost at realistic loads (a call
 * sends 50 packets a second each way): after a wake-up that found work
 * the loop sleeps coalesce_us (1 ms by default) so the next epoll_wait
 * returns many sockets' packets at once. Idle, it blocks in epoll_wait. */
#include "icelab/sbc_serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "icelab/bencode.h"
#include "icelab/io.h"
#include "icelab/sbc_bridge.h"
#include "icelab/sbc_relay.h"

#define RX_BATCH 64
#define RX_SLOT 2048          /* larger datagrams are truncated and dropped */
#define RX_ROUNDS 4           /* recvmmsg calls per socket per wake-up */
#define TX_SLOTS 128
#define EP_EVENTS 256
#define TICK_MS 100
#define NG_MAX 65536
#define NG_REPLY_MAX (192 * 1024)
#define SOCK_BUF (1 << 20)

enum { EV_NG = 0, EV_SIGNAL = 1, EV_MEDIA = 2 };

typedef struct msock {
	int fd;               /* -1: not bound */
	il_addr local;
} msock;

typedef struct driver {
	il_sbc_serve_config cfg;
	il_sbc_serve_reload_fn reload;
	void *reload_user;
	il_sbc_bridge *bridge;
	il_sbc_ng *ng;
	int epfd, ngfd, sigfd, json_fd;
	msock *socks;         /* index: port - cfg.port_min */
	uint32_t nsocks;
	uint64_t now_ms;
	bool stop;
	/* receive batch */
	struct mmsghdr rmsg[RX_BATCH];
	struct iovec riov[RX_BATCH];
	struct sockaddr_storage rfrom[RX_BATCH];
	uint8_t *rbuf;        /* RX_BATCH * RX_SLOT */
	/* send queue */
	struct mmsghdr tmsg[TX_SLOTS];
	struct iovec tiov[TX_SLOTS];
	struct sockaddr_storage tto[TX_SLOTS];
	int tfd[TX_SLOTS];
	size_t tcount;
	uint8_t *tarena;      /* TX_SLOTS * RX_SLOT */
	uint64_t rx, tx, tx_dropped, truncated;
	uint8_t ngbuf[NG_MAX];
	char ngout[NG_REPLY_MAX];
	il_sbc_policy *policy;   /* --relay-policy, replaced whole on SIGHUP */
} driver;

/* ---- small helpers ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static socklen_t to_sockaddr(const il_addr *a, struct sockaddr_storage *ss)
{
	if (a->family == IL_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->ip, 4);
		memset(s4->sin_zero, 0, sizeof s4->sin_zero);
		return sizeof *s4;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	memset(s6, 0, sizeof *s6);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(a->port);
	memcpy(&s6->sin6_addr, a->ip, 16);
	return sizeof *s6;
}

static void from_sockaddr(const struct sockaddr_storage *ss, il_addr *out)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		out->family = IL_AF_INET;
		out->port = ntohs(s4->sin_port);
		memcpy(out->ip, &s4->sin_addr, 4);
		memset(out->ip + 4, 0, 12);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		out->family = IL_AF_INET6;
		out->port = ntohs(s6->sin6_port);
		memcpy(out->ip, &s6->sin6_addr, 16);
	}
}

static int udp_socket(const il_addr *local, bool buffers)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(local, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (buffers) {
		/* Room for bursts: the kernel caps this at net.core.rmem_max. */
		int v = SOCK_BUF;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- JSON events ---- */

static void open_json(driver *d)
{
	if (d->json_fd > STDERR_FILENO)
		close(d->json_fd);
	d->json_fd = -1;
	if (!d->cfg.log_json[0])
		return;
	if (!strcmp(d->cfg.log_json, "-")) {
		d->json_fd = STDERR_FILENO;
		return;
	}
	d->json_fd = open(d->cfg.log_json, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (d->json_fd < 0)
		il_log(IL_LOG_ERROR, "log-json %s: %s", d->cfg.log_json, strerror(errno));
}

/* One line, one write(2): {"ts":"...", then the event's members. */
static void drv_event(void *user, const char *json)
{
	driver *d = user;
	if (d->json_fd < 0 || json[0] != '{')
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char line[4096];
	int n = snprintf(line, sizeof line,
			 "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",%s\n", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(ts.tv_nsec / 1000000), json + 1);
	if (n <= 0 || (size_t)n >= sizeof line)
		return;
	ssize_t w = write(d->json_fd, line, (size_t)n);
	(void)w;
}

static void drv_log(void *user, const char *line)
{
	(void)user;
	il_log(IL_LOG_INFO, "%s", line);
}

/* ---- the send queue ---- */

static void tx_flush(driver *d)
{
	size_t i = 0;
	while (i < d->tcount) {
		size_t j = i + 1;
		while (j < d->tcount && d->tfd[j] == d->tfd[i])
			j++;
		size_t k = i;
		while (k < j) {
			int r = sendmmsg(d->tfd[i], &d->tmsg[k], (unsigned)(j - k), MSG_DONTWAIT);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				d->tx_dropped++; /* full send buffer, ICMP error: drop this one */
				k++;
				continue;
			}
			d->tx += (uint64_t)r;
			k += (size_t)r;
		}
		i = j;
	}
	d->tcount = 0;
}

static void drv_send(void *user, const il_addr *local, const il_addr *remote,
		     const uint8_t *data, size_t len)
{
	driver *d = user;
	uint32_t idx = (uint32_t)local->port - d->cfg.port_min;
	if (local->port < d->cfg.port_min || idx >= d->nsocks || d->socks[idx].fd < 0 ||
	    remote->family != d->cfg.bind.family) {
		d->tx_dropped++;
		return;
	}
	if (d->tcount == TX_SLOTS)
		tx_flush(d);
	size_t k = d->tcount;
	if (data >= d->rbuf && data < d->rbuf + RX_BATCH * RX_SLOT) {
		d->tiov[k].iov_base = (void *)data; /* flushed before the buffer is reused */
	} else if (len <= RX_SLOT) {
		memcpy(d->tarena + k * RX_SLOT, data, len);
		d->tiov[k].iov_base = d->tarena + k * RX_SLOT;
	} else {
		d->tx_dropped++;
		return;
	}
	d->tiov[k].iov_len = len;
	d->tmsg[k].msg_hdr.msg_namelen = to_sockaddr(remote, &d->tto[k]);
	d->tfd[k] = d->socks[idx].fd;
	d->tcount++;
}

/* ---- media ports ---- */

static int drv_port_open(void *user, const il_addr *local)
{
	driver *d = user;
	uint32_t idx = (uint32_t)local->port - d->cfg.port_min;
	if (local->port < d->cfg.port_min || idx >= d->nsocks || d->socks[idx].fd >= 0)
		return -1;
	int fd = udp_socket(local, true);
	if (fd < 0)
		return -1; /* taken by another process: the bridge tries the next pair */
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_MEDIA + (uint64_t)idx};
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return -1;
	}
	d->socks[idx].fd = fd;
	d->socks[idx].local = *local;
	return 0;
}

static void drv_port_close(void *user, const il_addr *local)
{
	driver *d = user;
	uint32_t idx = (uint32_t)local->port - d->cfg.port_min;
	if (local->port < d->cfg.port_min || idx >= d->nsocks || d->socks[idx].fd < 0)
		return;
	/* Datagrams of this socket still queued go out first. */
	tx_flush(d);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->socks[idx].fd, NULL);
	close(d->socks[idx].fd);
	d->socks[idx].fd = -1;
}

static void drv_random(void *user, uint8_t *out, size_t len)
{
	(void)user;
	if (RAND_bytes(out, (int)len) != 1) {
		il_log(IL_LOG_ERROR, "RAND_bytes failed");
		abort(); /* ICE credentials must not be predictable */
	}
}

static void media_read(driver *d, uint32_t idx)
{
	msock *m = &d->socks[idx];
	for (int round = 0; round < RX_ROUNDS && m->fd >= 0; round++) {
		for (int i = 0; i < RX_BATCH; i++)
			d->rmsg[i].msg_hdr.msg_namelen = sizeof d->rfrom[i];
		int n = recvmmsg(m->fd, d->rmsg, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		d->rx += (uint64_t)n;
		for (int i = 0; i < n; i++) {
			if (d->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				d->truncated++;
				continue;
			}
			il_addr from;
			from_sockaddr(&d->rfrom[i], &from);
			il_sbc_bridge_handle_datagram(d->bridge, &m->local, &from,
						      d->rbuf + (size_t)i * RX_SLOT,
						      d->rmsg[i].msg_len, d->now_ms);
		}
		tx_flush(d);
		if (n < RX_BATCH)
			break;
	}
}

/* ---- the control socket ---- */

/* The driver's counters in the ng `statistics` reply. */
static void drv_statistics(void *user, il_benc_writer *w)
{
	driver *d = user;
	il_benc_kv_int(w, "datagrams in", (int64_t)d->rx);
	il_benc_kv_int(w, "datagrams out", (int64_t)d->tx);
	il_benc_kv_int(w, "send drops", (int64_t)d->tx_dropped);
	il_benc_kv_int(w, "truncated", (int64_t)d->truncated);
	uint32_t open = 0;
	for (uint32_t i = 0; i < d->nsocks; i++)
		open += d->socks[i].fd >= 0;
	il_benc_kv_int(w, "media sockets", open);
}

/* The reply to a command held for a TURN allocation (il_sbc_ng_poll). */
static void ng_reply_held(void *user, const il_addr *to, const char *reply, size_t len)
{
	driver *d = user;
	struct sockaddr_storage ss;
	if (to->family == IL_AF_NONE)
		return;
	socklen_t sl = to_sockaddr(to, &ss);
	if (sendto(d->ngfd, reply, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0)
		il_log(IL_LOG_WARN, "ng: held reply not sent: %s", strerror(errno));
}

static void ng_poll(driver *d)
{
	if (il_sbc_ng_held_count(d->ng) == 0)
		return;
	il_sbc_ng_poll(d->ng, d->ngout, sizeof d->ngout, d->now_ms, ng_reply_held, d);
	tx_flush(d);
}

/* The force-relay rules: the whole file or nothing (a bad file keeps the
 * rules in force). 0, or -1 with err. */
static int policy_load(driver *d, char *err, size_t err_len)
{
	if (!d->cfg.relay_policy[0]) {
		il_sbc_ng_set_policy(d->ng, NULL);
		il_sbc_policy_free(d->policy);
		d->policy = NULL;
		return 0;
	}
	FILE *f = fopen(d->cfg.relay_policy, "r");
	if (!f) {
		snprintf(err, err_len, "relay-policy %.300s: %s", d->cfg.relay_policy, strerror(errno));
		return -1;
	}
	static char text[256 * 1024];
	size_t n = fread(text, 1, sizeof text - 1, f);
	bool big = !feof(f);
	fclose(f);
	text[n] = '\0';
	il_sbc_policy *p = il_sbc_policy_new();
	char why[256] = "";
	if (big || !p || il_sbc_policy_load(p, text, why, sizeof why) < 0) {
		snprintf(err, err_len, "relay-policy %.300s: %s", d->cfg.relay_policy,
			 big ? "larger than 256 KiB" : p ? why : "out of memory");
		il_sbc_policy_free(p);
		return -1;
	}
	il_sbc_ng_set_policy(d->ng, p);
	il_sbc_policy_free(d->policy);
	d->policy = p;
	il_log(IL_LOG_INFO, "relay-policy %s: %zu rules", d->cfg.relay_policy,
	       il_sbc_policy_rule_count(p));
	return 0;
}

static void ng_read(driver *d)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(d->ngfd, d->ngbuf, sizeof d->ngbuf, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		il_addr peer;
		from_sockaddr(&from, &peer);
		size_t held = il_sbc_ng_held_count(d->ng);
		size_t out = il_sbc_ng_handle_from(d->ng, &peer, d->ngbuf, (size_t)n, d->ngout,
						   sizeof d->ngout, d->now_ms);
		if (out == 0) {
			if (il_sbc_ng_held_count(d->ng) > held)
				il_log(IL_LOG_DEBUG, "ng: command held for a TURN allocation");
			else
				il_log(IL_LOG_DEBUG, "ng: no reply to a datagram of %zd bytes", n);
			tx_flush(d); /* the allocation requests */
			continue;
		}
		if (sendto(d->ngfd, d->ngout, out, MSG_DONTWAIT, (struct sockaddr *)&from, fl) < 0)
			il_log(IL_LOG_WARN, "ng: reply not sent: %s", strerror(errno));
		tx_flush(d); /* what the command made (none today) goes out now */
	}
}

/* ---- reload ---- */

static void do_reload(driver *d)
{
	if (!d->reload) {
		il_log(IL_LOG_INFO, "SIGHUP: nothing to reload (no --config)");
		return;
	}
	il_sbc_serve_config fresh;
	char err[600];
	if (d->reload(d->reload_user, &fresh, err, sizeof err) < 0) {
		il_log(IL_LOG_ERROR, "reload: %s; keeping the running configuration", err);
		drv_event(d, "{\"event\":\"reload-failed\"}");
		return;
	}
	char was[IL_ADDR_STRLEN], now[IL_ADDR_STRLEN];
	il_addr_format_ip(il_sbc_bridge_advertised(d->bridge), was, sizeof was);
	il_addr_format_ip(&fresh.advertised, now, sizeof now);
	char json[256];
	int rc = il_sbc_bridge_set_advertised(d->bridge, &fresh.advertised,
					      fresh.allow_private_advertised);
	if (rc == IL_SBC_ERR_PRIVATE) {
		il_log(IL_LOG_ERROR,
		       "reload: advertised %s refused: private or loopback and "
		       "allow-private-advertised is off; new calls keep advertising %s",
		       now, was);
		snprintf(json, sizeof json,
			 "{\"event\":\"advertised-refused\",\"refused\":\"%s\",\"kept\":\"%s\"}", now,
			 was);
		drv_event(d, json);
	} else if (rc != IL_SBC_OK) {
		il_log(IL_LOG_ERROR, "reload: advertised %s refused; keeping %s", now, was);
	} else if (strcmp(was, now) != 0) {
		il_log(IL_LOG_INFO, "reload: new calls advertise %s (was %s)", now, was);
		snprintf(json, sizeof json,
			 "{\"event\":\"advertised-changed\",\"advertised\":\"%s\",\"previous\":\"%s\"}",
			 now, was);
		drv_event(d, json);
	}
	d->cfg.advertised = *il_sbc_bridge_advertised(d->bridge);
	d->cfg.allow_private_advertised = fresh.allow_private_advertised;
	if (!il_addr_equal(&fresh.ng, &d->cfg.ng) || !il_addr_equal(&fresh.bind, &d->cfg.bind) ||
	    fresh.port_min != d->cfg.port_min || fresh.port_max != d->cfg.port_max)
		il_log(IL_LOG_WARN, "reload: ng, bind and the port range change only on a restart");
	if (!il_addr_equal(&fresh.turn_server, &d->cfg.turn_server) ||
	    strcmp(fresh.turn_user, d->cfg.turn_user) ||
	    strcmp(fresh.turn_password, d->cfg.turn_password))
		il_log(IL_LOG_WARN, "reload: the TURN server and its credentials change only on a restart");
	memcpy(d->cfg.relay_policy, fresh.relay_policy, sizeof d->cfg.relay_policy);
	if (policy_load(d, err, sizeof err) < 0) {
		il_log(IL_LOG_ERROR, "reload: %s; keeping the rules in force", err);
		drv_event(d, "{\"event\":\"relay-policy-refused\"}");
	}
	d->cfg.log_level = fresh.log_level;
	il_log_setup(d->cfg.log_level, false);
	memcpy(d->cfg.log_json, fresh.log_json, sizeof d->cfg.log_json);
	open_json(d); /* reopened: log rotation */
	drv_event(d, "{\"event\":\"reloaded\"}");
}

static void signal_read(driver *d)
{
	struct signalfd_siginfo si;
	while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP)
			do_reload(d);
		else
			d->stop = true;
	}
}

/* ---- setup ---- */

static int setup(driver *d, char *err, size_t err_len)
{
	/* Four sockets a call: use every descriptor we may. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	d->rbuf = malloc((size_t)RX_BATCH * RX_SLOT);
	d->tarena = malloc((size_t)TX_SLOTS * RX_SLOT);
	d->nsocks = (uint32_t)d->cfg.port_max - d->cfg.port_min + 1;
	d->socks = malloc(d->nsocks * sizeof *d->socks);
	if (!d->rbuf || !d->tarena || !d->socks) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < d->nsocks; i++)
		d->socks[i].fd = -1;
	for (int i = 0; i < RX_BATCH; i++) {
		d->riov[i] = (struct iovec){d->rbuf + (size_t)i * RX_SLOT, RX_SLOT};
		d->rmsg[i].msg_hdr = (struct msghdr){.msg_name = &d->rfrom[i],
						     .msg_iov = &d->riov[i],
						     .msg_iovlen = 1};
	}
	for (int i = 0; i < TX_SLOTS; i++)
		d->tmsg[i].msg_hdr = (struct msghdr){.msg_name = &d->tto[i],
						     .msg_iov = &d->tiov[i],
						     .msg_iovlen = 1};
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0) {
		snprintf(err, err_len, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	char text[IL_ADDR_STRLEN];
	il_addr_format(&d->cfg.ng, text, sizeof text);
	d->ngfd = udp_socket(&d->cfg.ng, false);
	if (d->ngfd < 0) {
		snprintf(err, err_len, "ng socket %s: %s", text, strerror(errno));
		return -1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_NG};
	struct epoll_event sev = {.events = EPOLLIN, .data.u64 = EV_SIGNAL};
	if (d->sigfd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->ngfd, &ev) != 0 ||
	    epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &sev) != 0) {
		snprintf(err, err_len, "signalfd/epoll: %s", strerror(errno));
		return -1;
	}
	il_sbc_bridge_config bc;
	memset(&bc, 0, sizeof bc);
	il_sbc_config_defaults(&bc.sbc);
	bc.sbc.advertised = d->cfg.advertised;
	bc.sbc.allow_private_advertised = d->cfg.allow_private_advertised;
	bc.sbc.strict_source = d->cfg.strict_source;
	bc.sbc.media_timeout_ms = d->cfg.media_timeout_s * 1000u;
	bc.sbc.software = "icelab sbc";
	if (d->cfg.turn_server.family != IL_AF_NONE) { /* force-relay legs allocate here */
		bc.sbc.turn_server = d->cfg.turn_server;
		bc.sbc.turn_username = d->cfg.turn_user;
		bc.sbc.turn_password = d->cfg.turn_password;
	}
	/* Loopback and private peers are what a lab has; the advertised
	 * check above is the guard against leaking them. */
	bc.sbc.send_to_private_sdp = d->cfg.allow_private_advertised;
	bc.bind = d->cfg.bind;
	bc.port_min = d->cfg.port_min;
	bc.port_max = d->cfg.port_max;
	bc.max_sessions = d->cfg.max_sessions;
	il_sbc_bridge_callbacks cb = {.user = d, .random = drv_random, .send = drv_send,
				      .port_open = drv_port_open, .port_close = drv_port_close,
				      .log = drv_log, .event = drv_event};
	int rc;
	d->bridge = il_sbc_bridge_new(&bc, &cb, &rc);
	if (!d->bridge) {
		il_addr_format_ip(&d->cfg.advertised, text, sizeof text);
		if (rc == IL_SBC_ERR_PRIVATE)
			snprintf(err, err_len,
				 "advertised %s is private or loopback (give "
				 "--allow-private-advertised for a lab)",
				 text);
		else
			snprintf(err, err_len, "bridge: bad configuration");
		return -1;
	}
	d->ng = il_sbc_ng_new(d->bridge);
	if (!d->ng) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	il_sbc_ng_set_statistics(d->ng, drv_statistics, d);
	return policy_load(d, err, err_len);
}

static void teardown(driver *d)
{
	il_sbc_ng_free(d->ng);
	il_sbc_policy_free(d->policy);
	il_sbc_bridge_free(d->bridge); /* closes the media sockets */
	if (d->ngfd >= 0)
		close(d->ngfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->json_fd > STDERR_FILENO)
		close(d->json_fd);
	free(d->socks);
	free(d->rbuf);
	free(d->tarena);
	free(d);
}

int il_sbc_serve_run(const il_sbc_serve_config *cfg, il_sbc_serve_reload_fn reload, void *user)
{
	driver *d = calloc(1, sizeof *d);
	if (!d)
		return 2;
	d->cfg = *cfg;
	d->reload = reload;
	d->reload_user = user;
	d->epfd = d->ngfd = d->sigfd = d->json_fd = -1;
	il_log_setup(cfg->log_level, false);
	open_json(d);
	char err[600];
	if (setup(d, err, sizeof err) < 0) {
		fprintf(stderr, "icelab serve: %s\n", err); /* one line, exit 2 */
		teardown(d);
		return 2;
	}
	char ng[IL_ADDR_STRLEN], bind[IL_ADDR_STRLEN], adv[IL_ADDR_STRLEN];
	il_addr_format(&cfg->ng, ng, sizeof ng);
	il_addr_format_ip(&cfg->bind, bind, sizeof bind);
	il_addr_format_ip(&cfg->advertised, adv, sizeof adv);
	il_log(IL_LOG_INFO, "sbc: ng on udp %s, media on %s ports %u-%u, advertising %s", ng, bind,
	       cfg->port_min, cfg->port_max, adv);
	char json[512];
	snprintf(json, sizeof json,
		 "{\"event\":\"started\",\"ng\":\"%s\",\"bind\":\"%s\",\"ports\":[%u,%u],"
		 "\"advertised\":\"%s\"}",
		 ng, bind, cfg->port_min, cfg->port_max, adv);
	drv_event(d, json);
	struct epoll_event evs[EP_EVENTS];
	d->now_ms = now_ms();
	uint64_t next_tick = d->now_ms + TICK_MS;
	while (!d->stop) {
		int timeout = next_tick > d->now_ms ? (int)(next_tick - d->now_ms) : 0;
		int n = epoll_wait(d->epfd, evs, EP_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			il_log(IL_LOG_ERROR, "epoll_wait: %s", strerror(errno));
			break;
		}
		d->now_ms = now_ms();
		for (int i = 0; i < n; i++) {
			uint64_t k = evs[i].data.u64;
			if (k == EV_NG)
				ng_read(d);
			else if (k == EV_SIGNAL)
				signal_read(d);
			else if (k - EV_MEDIA < d->nsocks)
				media_read(d, (uint32_t)(k - EV_MEDIA));
		}
		if (d->now_ms >= next_tick) {
			il_sbc_bridge_timer(d->bridge, d->now_ms);
			next_tick = d->now_ms + TICK_MS;
		}
		tx_flush(d);
		ng_poll(d); /* answers what waited for a TURN allocation */
		if (n > 0 && n < EP_EVENTS && d->cfg.coalesce_us) {
			/* Let packets gather: the next wake-up reads them all. */
			struct timespec ts = {0, (long)d->cfg.coalesce_us * 1000};
			nanosleep(&ts, NULL);
		}
	}
	size_t calls = il_sbc_bridge_call_count(d->bridge);
	il_sbc_call *c;
	while ((c = il_sbc_bridge_first(d->bridge)) != NULL)
		il_sbc_bridge_delete(d->bridge, c, "shutdown", d->now_ms);
	il_log(IL_LOG_INFO,
	       "sbc: stopping; %zu calls ended, %llu datagrams in, %llu out, %llu send drops, "
	       "%llu truncated",
	       calls, (unsigned long long)d->rx, (unsigned long long)d->tx,
	       (unsigned long long)d->tx_dropped, (unsigned long long)d->truncated);
	drv_event(d, "{\"event\":\"stopped\"}");
	teardown(d);
	return 0;
}
