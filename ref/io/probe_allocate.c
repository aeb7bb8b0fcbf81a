/* `icelab probe allocate`: the TURN client core (turn_client.h) on a real
 * socket. Allocate (the 401 challenge and 438 retries are the core's),
 * then with a peer: CreatePermission and ChannelBind (RFC 8656 §9, §12),
 * N datagrams through the relay to an echo peer and back (ChannelData, or
 * Send and Data indications), and the release (Refresh with LIFETIME 0,
 * §8). Each wait is bounded by the timeout; the run is phases:
 *
 *   connecting -> allocating -> installing -> echoing -> draining
 *              -> releasing -> done
 *
 * What the core negotiated (realm, password algorithm, integrity) is read
 * from the requests it sends, so the driver learns it without the core
 * exporting it; credentials for a realm other than --realm are never sent. */
#include "probe_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/stun_integrity.h"
#include "icelab/turn_client.h"

#define DEFAULT_TIMEOUT_MS 5000u
#define DEFAULT_COUNT 10u
#define DEFAULT_INTERVAL_MS 20u
#define DEFAULT_PAYLOAD 100u
#define PAYLOAD_MIN 16u
#define PAYLOAD_MAX 1200u
#define MAGIC_LEN 4
static const uint8_t magic[MAGIC_LEN] = {'I', 'L', 'P', 'R'};

enum phase {
	PH_CONNECTING,
	PH_ALLOCATING,
	PH_INSTALLING,  /* CreatePermission and ChannelBind in flight */
	PH_ECHOING,     /* sending every interval */
	PH_DRAINING,    /* all sent, waiting for the last echoes */
	PH_RELEASING,
	PH_DONE,
};

typedef struct alloc_run {
	const il_probe_allocate_options *opt;
	il_probe_allocate_result *res;
	struct event_base *base;
	probe_conn *conn;
	il_turn_client *tc;
	struct event *core_timer, *phase_timer, *send_timer;
	enum phase phase;
	uint32_t count, interval_ms, payload_len, timeout_ms;
	uint64_t alloc_start_us;
	uint64_t *sent_us;       /* per sequence number: when it left */
	uint8_t *echoed;         /* per sequence number: came back */
	uint8_t nonce[8];        /* this run's, in every payload */
	double rtt_sum_ms;
	uint8_t payload[PAYLOAD_MAX];
} alloc_run;

static void set_failure(alloc_run *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_failure(alloc_run *a, const char *fmt, ...)
{
	if (a->res->failure[0])
		return; /* the first failure is the one that matters */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->res->failure, sizeof a->res->failure, fmt, ap);
	va_end(ap);
}

static void arm_ms(struct event *ev, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(ev, &tv);
}

static void finish(alloc_run *a)
{
	a->phase = PH_DONE;
	evtimer_del(a->phase_timer);
	evtimer_del(a->send_timer);
	evtimer_del(a->core_timer);
	event_base_loopbreak(a->base);
}

/* The core's next deadline, after anything that may have changed it. */
static void update_core_timer(alloc_run *a)
{
	if (a->phase == PH_DONE)
		return;
	uint64_t at = il_turn_client_next_deadline(a->tc);
	if (at == UINT64_MAX) {
		evtimer_del(a->core_timer);
		return;
	}
	uint64_t now = probe_now_ms();
	arm_ms(a->core_timer, at > now ? at - now : 0);
}

static void enter(alloc_run *a, enum phase ph)
{
	a->phase = ph;
	evtimer_del(a->phase_timer);
	if (ph != PH_ECHOING && ph != PH_DONE)
		arm_ms(a->phase_timer, a->timeout_ms);
}

static void start_release(alloc_run *a)
{
	evtimer_del(a->send_timer);
	if (il_turn_client_release(a->tc, probe_now_ms()) != IL_TURN_CLIENT_OK) {
		set_failure(a, "cannot send the release");
		finish(a);
		return;
	}
	enter(a, PH_RELEASING);
}

/* ---- the echoes ---- */

static void send_one(alloc_run *a)
{
	uint32_t seq = a->res->sent;
	uint8_t *p = a->payload;
	memcpy(p, magic, MAGIC_LEN);
	memcpy(p + MAGIC_LEN, a->nonce, sizeof a->nonce);
	p[12] = (uint8_t)(seq >> 24);
	p[13] = (uint8_t)(seq >> 16);
	p[14] = (uint8_t)(seq >> 8);
	p[15] = (uint8_t)seq;
	for (uint32_t i = PAYLOAD_MIN; i < a->payload_len; i++)
		p[i] = (uint8_t)(i + seq);
	a->sent_us[seq] = probe_now_us();
	int rc = il_turn_client_send(a->tc, &a->opt->peer, p, a->payload_len, probe_now_ms());
	if (rc != IL_TURN_CLIENT_OK) {
		set_failure(a, "cannot send to the peer (error %d)", rc);
		start_release(a);
		return;
	}
	a->res->sent++;
}

static void on_send_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	alloc_run *a = arg;
	if (a->phase != PH_ECHOING)
		return;
	send_one(a);
	if (a->phase != PH_ECHOING)
		return;
	if (a->res->sent < a->count)
		arm_ms(a->send_timer, a->interval_ms);
	else if (a->res->echoed < a->count)
		enter(a, PH_DRAINING);
	update_core_timer(a);
}

static void start_echoes(alloc_run *a)
{
	if (a->phase != PH_INSTALLING || !a->res->permission ||
	    (!a->opt->send_indications && !a->res->channel))
		return;
	enter(a, PH_ECHOING);
	arm_ms(a->send_timer, 0);
}

static void on_core_data(void *user, const il_addr *peer, const uint8_t *data, size_t len)
{
	alloc_run *a = user;
	if (!il_addr_equal(peer, &a->opt->peer) || len < PAYLOAD_MIN ||
	    memcmp(data, magic, MAGIC_LEN) || memcmp(data + MAGIC_LEN, a->nonce, sizeof a->nonce))
		return;
	uint32_t seq = (uint32_t)data[12] << 24 | (uint32_t)data[13] << 16 |
		       (uint32_t)data[14] << 8 | data[15];
	if (seq >= a->res->sent || a->echoed[seq])
		return;
	a->echoed[seq] = 1;
	double rtt = (double)(probe_now_us() - a->sent_us[seq]) / 1000.0;
	il_probe_allocate_result *r = a->res;
	if (r->echoed == 0 || rtt < r->rtt_min_ms)
		r->rtt_min_ms = rtt;
	if (rtt > r->rtt_max_ms)
		r->rtt_max_ms = rtt;
	a->rtt_sum_ms += rtt;
	r->echoed++;
	r->rtt_avg_ms = a->rtt_sum_ms / r->echoed;
	if (r->echoed == a->count && (a->phase == PH_ECHOING || a->phase == PH_DRAINING))
		start_release(a);
}

/* ---- what the core tells ---- */

static void copy_text(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Reads the credentials of an authenticated request on its way out.
 * Returns false when it must not leave: its realm is not the expected one. */
static bool observe_request(alloc_run *a, const uint8_t *data, size_t len)
{
	il_stun_msg m;
	if (!il_stun_is_stun(data, len) || il_stun_decode(data, len, &m, NULL) != IL_STUN_OK ||
	    m.cls != IL_STUN_REQUEST)
		return true;
	const il_stun_attr *realm = il_stun_msg_find(&m, IL_ATTR_REALM);
	if (!realm || (m.mi_index < 0 && m.mi256_index < 0))
		return true;
	il_probe_allocate_result *r = a->res;
	const char *text;
	size_t text_len;
	if (il_stun_attr_get_string(&m, realm, &text, &text_len) == IL_STUN_OK)
		copy_text(r->realm, sizeof r->realm, text, text_len);
	if (a->opt->realm && strcmp(a->opt->realm, r->realm) != 0)
		return false;
	uint16_t alg = IL_STUN_PWALG_MD5; /* RFC 5389 servers: no list, MD5 keys */
	const il_stun_attr *pa = il_stun_msg_find(&m, IL_ATTR_PASSWORD_ALGORITHM);
	if (pa)
		il_stun_attr_get_password_algorithm(&m, pa, &alg);
	snprintf(r->algorithm, sizeof r->algorithm, "%s",
		 alg == IL_STUN_PWALG_SHA256 ? "SHA-256" : alg == IL_STUN_PWALG_MD5 ? "MD5" : "?");
	snprintf(r->integrity, sizeof r->integrity, "%s",
		 m.mi256_index >= 0 ? "MESSAGE-INTEGRITY-SHA256" : "MESSAGE-INTEGRITY");
	r->userhash = il_stun_msg_find(&m, IL_ATTR_USERHASH) != NULL;
	return true;
}

static void on_core_send(void *user, const uint8_t *data, size_t len)
{
	alloc_run *a = user;
	if (a->phase == PH_DONE)
		return;
	if (!observe_request(a, data, len)) {
		set_failure(a, "the server's realm is '%s', not '%s': credentials not sent",
			    a->res->realm, a->opt->realm);
		finish(a);
		return;
	}
	probe_conn_send(a->conn, data, len);
}

static void fail_event(alloc_run *a, const char *what, const il_turn_client_event *ev)
{
	if (ev->error_code) {
		a->res->error_code = ev->error_code;
		copy_text(a->res->reason, sizeof a->res->reason, ev->reason, strlen(ev->reason));
		set_failure(a, "%s: error %d%s%s", what, ev->error_code, ev->reason[0] ? " " : "",
			    ev->reason);
	} else {
		set_failure(a, "%s: %s", what, il_turn_client_failure_name(ev->failure));
	}
}

static void allocated(alloc_run *a, const il_turn_client_event *ev)
{
	il_probe_allocate_result *r = a->res;
	r->allocated = true;
	r->allocate_ms = (double)(probe_now_us() - a->alloc_start_us) / 1000.0;
	r->relayed_count = ev->relayed_count > 2 ? 2 : ev->relayed_count;
	memcpy(r->relayed, ev->relayed, sizeof r->relayed);
	r->mapped = ev->mapped;
	r->lifetime_s = ev->lifetime_s;
	if (!a->opt->have_peer) {
		start_release(a);
		return;
	}
	uint64_t now = probe_now_ms();
	enter(a, PH_INSTALLING);
	int rc = il_turn_client_create_permission(a->tc, &a->opt->peer, 1, now);
	if (rc == IL_TURN_CLIENT_OK && !a->opt->send_indications)
		rc = il_turn_client_bind_channel(a->tc, &a->opt->peer, NULL, now);
	if (rc != IL_TURN_CLIENT_OK) {
		set_failure(a, "cannot ask for a permission or a channel for the peer (%s)",
			    rc == IL_TURN_CLIENT_ERR_ARGUMENT ? "its family is not the relay's"
							      : "client error");
		start_release(a);
	}
}

static void on_core_event(void *user, const il_turn_client_event *ev)
{
	alloc_run *a = user;
	if (a->phase == PH_DONE)
		return;
	switch (ev->type) {
	case IL_TURN_CLIENT_EV_ALLOCATED:
		allocated(a, ev);
		break;
	case IL_TURN_CLIENT_EV_ALLOCATE_FAILED:
		fail_event(a, "Allocate", ev);
		finish(a);
		break;
	case IL_TURN_CLIENT_EV_PERMISSION_OK:
		a->res->permission = true;
		start_echoes(a);
		break;
	case IL_TURN_CLIENT_EV_CHANNEL_BOUND:
		a->res->channel = ev->channel;
		start_echoes(a);
		break;
	case IL_TURN_CLIENT_EV_PERMISSION_FAILED:
		fail_event(a, "CreatePermission", ev);
		start_release(a);
		break;
	case IL_TURN_CLIENT_EV_CHANNEL_FAILED:
		fail_event(a, "ChannelBind", ev);
		start_release(a);
		break;
	case IL_TURN_CLIENT_EV_RELEASED:
		if (ev->failure == IL_TURN_CLIENT_FAIL_NONE)
			a->res->released = true;
		else
			fail_event(a, "release", ev);
		finish(a);
		break;
	case IL_TURN_CLIENT_EV_ALLOCATION_LOST:
		fail_event(a, "allocation lost", ev);
		finish(a);
		break;
	default: /* REFRESHED, REFRESH_FAILED: the run is shorter than a lifetime */
		break;
	}
}

/* ---- the loop ---- */

static void on_core_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	alloc_run *a = arg;
	il_turn_client_timer(a->tc, probe_now_ms());
	update_core_timer(a);
}

static void on_phase_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	alloc_run *a = arg;
	switch (a->phase) {
	case PH_CONNECTING:
		set_failure(a, "no connection within %u ms", a->timeout_ms);
		finish(a);
		break;
	case PH_ALLOCATING:
		set_failure(a, "no answer to Allocate within %u ms%s%s", a->timeout_ms,
			    probe_conn_icmp_error(a->conn)[0] ? "; the socket reported: " : "",
			    probe_conn_icmp_error(a->conn));
		finish(a);
		break;
	case PH_INSTALLING:
		set_failure(a, "no answer to CreatePermission/ChannelBind within %u ms", a->timeout_ms);
		start_release(a);
		break;
	case PH_DRAINING:
		start_release(a); /* the missing echoes are counted at the end */
		break;
	case PH_RELEASING:
		set_failure(a, "no answer to the release within %u ms", a->timeout_ms);
		finish(a);
		break;
	default:
		break;
	}
	update_core_timer(a);
}

static void on_connected(void *user)
{
	alloc_run *a = user;
	a->res->conn = *probe_conn_info(a->conn);
	a->alloc_start_us = probe_now_us();
	enter(a, PH_ALLOCATING);
	if (il_turn_client_allocate(a->tc, probe_now_ms()) != IL_TURN_CLIENT_OK) {
		set_failure(a, "cannot send the Allocate");
		finish(a);
	}
	update_core_timer(a);
}

static void on_conn_data(void *user, const uint8_t *data, size_t len)
{
	alloc_run *a = user;
	if (a->phase == PH_DONE)
		return;
	uint64_t now = probe_now_ms();
	if (a->opt->target.transport == IL_PROBE_UDP) {
		il_turn_client_handle_datagram(a->tc, data, len, now);
	} else if (il_turn_client_handle_stream(a->tc, data, len, now) ==
		   IL_TURN_CLIENT_ERR_STREAM) {
		set_failure(a, "the server's byte stream is not STUN or ChannelData");
		il_turn_client_stream_closed(a->tc, now);
		finish(a);
		return;
	}
	update_core_timer(a);
}

static void on_conn_closed(void *user, const char *why)
{
	alloc_run *a = user;
	if (a->phase == PH_DONE)
		return;
	set_failure(a, "%s", why);
	il_turn_client_stream_closed(a->tc, probe_now_ms());
	finish(a);
}

static int setup(alloc_run *a, char *err, size_t err_len)
{
	const il_probe_allocate_options *o = a->opt;
	a->count = o->have_peer ? (o->count ? o->count : DEFAULT_COUNT) : 0;
	a->interval_ms = o->interval_ms ? o->interval_ms : DEFAULT_INTERVAL_MS;
	a->payload_len = o->payload_len ? o->payload_len : DEFAULT_PAYLOAD;
	a->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (a->count > IL_PROBE_MAX_COUNT || a->payload_len < PAYLOAD_MIN ||
	    a->payload_len > PAYLOAD_MAX) {
		snprintf(err, err_len, "count over %u or payload outside %u..%u bytes",
			 IL_PROBE_MAX_COUNT, PAYLOAD_MIN, PAYLOAD_MAX);
		return -1;
	}
	probe_random(NULL, a->nonce, sizeof a->nonce);
	a->sent_us = calloc(a->count + 1, sizeof *a->sent_us);
	a->echoed = calloc(a->count + 1, 1);
	a->base = event_base_new();
	if (!a->sent_us || !a->echoed || !a->base) {
		snprintf(err, err_len, "no memory");
		return -1;
	}
	a->core_timer = evtimer_new(a->base, on_core_timer, a);
	a->phase_timer = evtimer_new(a->base, on_phase_timer, a);
	a->send_timer = evtimer_new(a->base, on_send_timer, a);
	il_turn_client_config cfg;
	il_turn_client_config_defaults(&cfg);
	cfg.username = o->username;
	cfg.password = o->password;
	cfg.software = o->software;
	cfg.stream = o->target.transport != IL_PROBE_UDP;
	il_stun_txn_config_defaults(&cfg.txn, cfg.stream);
	cfg.lifetime_s = o->lifetime_s;
	cfg.allow_md5 = o->allow_md5;
	/* The relay's family is IPv4 unless asked otherwise (RFC 8656 §7.1):
	 * an IPv6 peer needs REQUESTED-ADDRESS-FAMILY IPv6. */
	if (o->have_peer && o->peer.family == IL_AF_INET6)
		cfg.requested_family = IL_AF_INET6;
	il_turn_client_callbacks cb = {.user = a, .random = probe_random, .send = on_core_send,
				       .event = on_core_event, .data = on_core_data};
	a->tc = il_turn_client_new(&cfg, &cb);
	if (!a->core_timer || !a->phase_timer || !a->send_timer || !a->tc) {
		snprintf(err, err_len, "cannot create the TURN client (credentials too long?)");
		return -1;
	}
	return 0;
}

int il_probe_allocate_run(const il_probe_allocate_options *opt, il_probe_allocate_result *res)
{
	memset(res, 0, sizeof *res);
	alloc_run *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(res->failure, sizeof res->failure, "no memory");
		return IL_PROBE_ERROR;
	}
	a->opt = opt;
	a->res = res;
	int status = IL_PROBE_ERROR;
	if (setup(a, res->failure, sizeof res->failure) < 0)
		goto out;
	probe_conn_callbacks ccb = {.user = a, .connected = on_connected, .data = on_conn_data,
				    .closed = on_conn_closed};
	a->conn = probe_conn_open(a->base, &opt->target, &opt->tls, &ccb, res->failure,
				  sizeof res->failure);
	if (!a->conn)
		goto out;
	enter(a, PH_CONNECTING);
	event_base_dispatch(a->base);
	if (!res->conn.server.family)
		res->conn = *probe_conn_info(a->conn);
	if (res->allocated && a->count && res->echoed < a->count)
		set_failure(a, "%u of %u echoes missing", a->count - res->echoed, a->count);
	status = res->allocated && res->released && !res->failure[0] ? IL_PROBE_OK : IL_PROBE_FAILED;
out:
	if (a->tc)
		il_turn_client_free(a->tc);
	probe_conn_free(a->conn);
	if (a->core_timer)
		event_free(a->core_timer);
	if (a->phase_timer)
		event_free(a->phase_timer);
	if (a->send_timer)
		event_free(a->send_timer);
	if (a->base)
		event_base_free(a->base);
	free(a->sent_us);
	free(a->echoed);
	free(a);
	return status;
}
