/* Prometheus text metrics (exposition format 0.0.4) on --metrics
 * ADDR:PORT: allocations, permissions, channels, packets and bytes
 * relayed, authentication failures, drops by reason. Served by the main
 * thread from the snapshots each worker publishes once a second; any
 * request gets the page, and the connection is closed after it. */
#include "io_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

typedef struct metric {
	const char *name;
	const char *type; /* "counter" or "gauge" */
	const char *help;
} metric;

static void sum(io_server *s, io_counters *c, il_turn_server_stats *st)
{
	memset(c, 0, sizeof *c);
	memset(st, 0, sizeof *st);
	for (unsigned i = 0; i < s->nworkers; i++) {
		io_worker *w = &s->workers[i];
		pthread_mutex_lock(&w->snap_lock);
		const uint64_t *src = (const uint64_t *)&w->snap_counters;
		uint64_t *dst = (uint64_t *)c;
		for (size_t k = 0; k < sizeof *c / sizeof(uint64_t); k++)
			dst[k] += src[k];
		src = (const uint64_t *)&w->snap_stats;
		dst = (uint64_t *)st;
		for (size_t k = 0; k < sizeof *st / sizeof(uint64_t); k++)
			dst[k] += src[k];
		pthread_mutex_unlock(&w->snap_lock);
	}
}

static void put(struct evbuffer *out, const char *name, const char *type, const char *help,
		const char *labels, uint64_t value)
{
	if (help)
		evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	evbuffer_add_printf(out, "%s%s %llu\n", name, labels ? labels : "",
			    (unsigned long long)value);
}

static void render(io_server *s, struct evbuffer *out)
{
	io_counters c;
	il_turn_server_stats st;
	sum(s, &c, &st);
	put(out, "icelab_allocations", "gauge", "Current TURN allocations.", NULL, st.allocations);
	put(out, "icelab_permissions", "gauge", "Current permissions.", NULL, st.permissions);
	put(out, "icelab_channels", "gauge", "Current channel bindings.", NULL, st.channels);
	put(out, "icelab_allocations_created_total", "counter", "Allocations made.", NULL,
	    c.allocations_created);
	put(out, "icelab_allocations_ended_total", "counter", "Allocations ended, by reason.",
	    "{reason=\"deleted\"}", c.allocations_deleted);
	put(out, "icelab_allocations_ended_total", "counter", NULL, "{reason=\"expired\"}",
	    c.allocations_expired);
	put(out, "icelab_relayed_packets_total", "counter", "Datagrams relayed, by direction.",
	    "{direction=\"to_peer\"}", st.packets_to_peers);
	put(out, "icelab_relayed_packets_total", "counter", NULL, "{direction=\"from_peer\"}",
	    st.packets_from_peers);
	put(out, "icelab_relayed_bytes_total", "counter", "Bytes relayed, by direction.",
	    "{direction=\"to_peer\"}", st.bytes_to_peers);
	put(out, "icelab_relayed_bytes_total", "counter", NULL, "{direction=\"from_peer\"}",
	    st.bytes_from_peers);
	put(out, "icelab_auth_failures_total", "counter", "Requests refused with 401.", NULL,
	    st.auth_failures);
	put(out, "icelab_challenges_total", "counter", "401 and 438 challenges sent.", NULL,
	    st.challenges);
	put(out, "icelab_dropped_total", "counter", "Datagrams dropped, by reason.",
	    "{reason=\"malformed\"}", st.dropped_malformed);
	put(out, "icelab_dropped_total", "counter", NULL, "{reason=\"no_permission\"}",
	    st.dropped_no_permission);
	put(out, "icelab_dropped_total", "counter", NULL, "{reason=\"peer_denied\"}",
	    st.dropped_denied);
	put(out, "icelab_dropped_total", "counter", NULL, "{reason=\"no_allocation\"}",
	    st.dropped_no_allocation);
	put(out, "icelab_dropped_total", "counter", NULL, "{reason=\"truncated\"}",
	    c.udp_truncated);
	put(out, "icelab_dropped_total", "counter", NULL, "{reason=\"send_failed\"}",
	    c.udp_tx_dropped);
	put(out, "icelab_dropped_total", "counter", NULL, "{reason=\"tcp_backlog\"}",
	    c.tcp_backlog_dropped);
	put(out, "icelab_dropped_total", "counter", NULL, "{reason=\"bandwidth\"}",
	    st.dropped_bandwidth);
	put(out, "icelab_401_withheld_total", "counter",
	    "401 answers not sent: the source was over max-401-per-second.", NULL,
	    st.dropped_401_limited);
	put(out, "icelab_tcp_connections_refused_total", "counter",
	    "TCP/TLS connections closed at once: over max-connections-per-ip.", NULL,
	    c.tcp_refused_per_ip);
	put(out, "icelab_tcp_connections_closed_total", "counter",
	    "TCP/TLS and RFC 6062 connections closed, by reason.", "{reason=\"idle\"}",
	    c.tcp_idle_closed);
	put(out, "icelab_tcp_connections_closed_total", "counter", NULL,
	    "{reason=\"peer_denied_on_reload\"}", st.tcp_closed_by_policy);
	put(out, "icelab_udp_datagrams_total", "counter", "UDP datagrams, by direction.",
	    "{direction=\"in\"}", c.udp_rx + c.relay_rx);
	put(out, "icelab_udp_datagrams_total", "counter", NULL, "{direction=\"out\"}", c.udp_tx);
	put(out, "icelab_tcp_connections_total", "counter", "TCP and TLS connections accepted.",
	    NULL, c.tcp_accepted);
	put(out, "icelab_tcp_connections_broken_total", "counter",
	    "Connections closed for bytes that are not STUN or ChannelData.", NULL, c.tcp_broken);
	put(out, "icelab_relay_port_failures_total", "counter",
	    "Allocations refused for want of a relay port (508).", NULL, c.relay_bind_failed);
	put(out, "icelab_allocations_refused_total", "counter",
	    "Allocations refused with 508 (no relay port, private relay address).", NULL,
	    c.allocations_refused);
	put(out, "icelab_peers_denied_total", "counter", "Peer addresses refused by policy.",
	    NULL, c.peers_denied);
	put(out, "icelab_workers", "gauge", "Worker threads.", NULL, s->nworkers);
	put(out, "icelab_start_time_seconds", "gauge", "UNIX time the server started.", NULL,
	    s->started_s);
}

static void metrics_written(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void metrics_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void metrics_request(struct bufferevent *bev, void *arg)
{
	io_server *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	/* Wait for the end of the request head, bounded. */
	if (evbuffer_search(in, "\r\n\r\n", 4, NULL).pos < 0 &&
	    evbuffer_search(in, "\n\n", 2, NULL).pos < 0 && evbuffer_get_length(in) < 8192)
		return;
	evbuffer_drain(in, evbuffer_get_length(in));
	struct evbuffer *body = evbuffer_new();
	if (!body) {
		bufferevent_free(bev);
		return;
	}
	render(s, body);
	struct evbuffer *out = bufferevent_get_output(bev);
	evbuffer_add_printf(out,
			    "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			    evbuffer_get_length(body));
	evbuffer_add_buffer(out, body);
	evbuffer_free(body);
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, metrics_written, metrics_event, s);
}

static void metrics_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
			   int socklen, void *arg)
{
	(void)lev;
	(void)sa;
	(void)socklen;
	io_server *s = arg;
	struct bufferevent *bev = bufferevent_socket_new(s->main_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	struct timeval t = {.tv_sec = 5};
	bufferevent_set_timeouts(bev, &t, &t);
	bufferevent_setcb(bev, metrics_request, NULL, metrics_event, s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int io_metrics_start(io_server *s, char *err, size_t err_len)
{
	if (s->cfg->metrics.family == IL_AF_NONE)
		return 0;
	int fd = io_tcp_socket(&s->cfg->metrics, err, err_len);
	if (fd < 0)
		return -1;
	s->metrics = evconnlistener_new(s->main_base, metrics_accept, s, LEV_OPT_CLOSE_ON_FREE,
					-1, fd);
	if (!s->metrics) {
		close(fd);
		snprintf(err, err_len, "cannot listen");
		return -1;
	}
	return 0;
}

void io_metrics_stop(io_server *s)
{
	if (s->metrics)
		evconnlistener_free(s->metrics);
	s->metrics = NULL;
}
