/* `icelab probe binding`: one STUN Binding transaction (RFC 8489 §6.2,
 * §6.3.4) over UDP (retransmitted by the transaction layer), TCP or TLS
 * (one request, Ti), with the reflexive address, the RTT and the server's
 * SOFTWARE as the result. */
#include "probe_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/channeldata.h"
#include "icelab/stun_client.h"
#include "icelab/stun_integrity.h"

#define DEFAULT_TIMEOUT_MS 10000u

typedef struct binding_run {
	const il_probe_binding_options *opt;
	il_probe_binding_result *res;
	struct event_base *base;
	probe_conn *conn;
	struct event *timer;     /* the transaction layer's deadline */
	struct event *deadline;  /* the whole run */
	il_stun_txn_table txns;
	il_stun_txn slot;
	il_stream stream;
	uint8_t *stream_buf;
	uint64_t first_send_us;
	bool done;
} binding_run;

static void finish(binding_run *b, const char *failure)
{
	if (b->done)
		return;
	b->done = true;
	if (failure)
		snprintf(b->res->failure, sizeof b->res->failure, "%s", failure);
	event_base_loopbreak(b->base);
}

static void arm_timer(binding_run *b)
{
	uint64_t at = il_stun_txn_next_deadline(&b->txns);
	if (at == UINT64_MAX || b->done) {
		evtimer_del(b->timer);
		return;
	}
	uint64_t now = probe_now_ms();
	uint64_t wait = at > now ? at - now : 0;
	struct timeval tv = {.tv_sec = (time_t)(wait / 1000), .tv_usec = (suseconds_t)(wait % 1000) * 1000};
	evtimer_add(b->timer, &tv);
}

static void on_txn_send(void *user, const uint8_t *data, size_t len)
{
	binding_run *b = user;
	b->res->transmissions++;
	probe_conn_send(b->conn, data, len);
}

static void on_txn_failed(void *user, uint32_t tag, enum il_stun_txn_failure why, uint64_t now_ms)
{
	(void)tag;
	(void)now_ms;
	binding_run *b = user;
	char text[IL_PROBE_TEXT_MAX];
	const char *icmp = probe_conn_icmp_error(b->conn);
	if (why == IL_STUN_TXN_TIMEOUT)
		snprintf(text, sizeof text, "no answer after %u request%s%s%s",
			 b->res->transmissions, b->res->transmissions == 1 ? "" : "s",
			 icmp[0] ? "; the socket reported: " : "", icmp);
	else
		snprintf(text, sizeof text, "%s", il_stun_txn_failure_name(why));
	finish(b, text);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	binding_run *b = arg;
	il_stun_txn_timer(&b->txns, probe_now_ms());
	arm_timer(b);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	binding_run *b = arg;
	char text[IL_PROBE_TEXT_MAX];
	const char *icmp = probe_conn_icmp_error(b->conn);
	snprintf(text, sizeof text, "no answer within %u ms (%u request%s sent)%s%s",
		 b->opt->timeout_ms ? b->opt->timeout_ms : DEFAULT_TIMEOUT_MS, b->res->transmissions,
		 b->res->transmissions == 1 ? "" : "s", icmp[0] ? "; the socket reported: " : "",
		 icmp);
	finish(b, text);
}

static void on_connected(void *user)
{
	binding_run *b = user;
	uint8_t tid[IL_STUN_TID_LEN], msg[512];
	probe_random(NULL, tid, sizeof tid);
	il_stun_builder sb;
	il_stun_builder_init(&sb, msg, sizeof msg, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	if (b->opt->software && b->opt->software[0])
		il_stun_add_string(&sb, IL_ATTR_SOFTWARE, b->opt->software, strlen(b->opt->software));
	il_stun_add_fingerprint(&sb);
	size_t len = il_stun_builder_finish(&sb, NULL);
	b->res->conn = *probe_conn_info(b->conn);
	b->first_send_us = probe_now_us();
	if (!len || !il_stun_txn_start(&b->txns, msg, len, 1, probe_now_ms())) {
		finish(b, "cannot build the Binding request (--software too long?)");
		return;
	}
	arm_timer(b);
}

static void copy_text(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void get_addr(const il_stun_msg *m, uint16_t type, il_addr *out)
{
	const il_stun_attr *a = il_stun_msg_find(m, type);
	if (!a || il_stun_attr_get_addr(m, a, out) != IL_STUN_OK)
		memset(out, 0, sizeof *out);
}

/* A response: matched by transaction id, checked, then accepted. */
static void handle_message(binding_run *b, const uint8_t *data, size_t len)
{
	il_stun_msg m;
	if (il_stun_decode(data, len, &m, NULL) != IL_STUN_OK ||
	    (m.cls != IL_STUN_SUCCESS && m.cls != IL_STUN_ERROR))
		return;
	il_stun_txn *txn = il_stun_txn_match(&b->txns, &m);
	if (!txn)
		return;
	uint64_t now = probe_now_ms();
	enum il_stun_verdict fp = il_stun_check_fingerprint(&m);
	if (fp == IL_STUN_VERDICT_MISMATCH) {
		il_stun_txn_discard_response(&b->txns, txn, now);
		return;
	}
	il_probe_binding_result *r = b->res;
	const il_stun_attr *sw = il_stun_msg_find(&m, IL_ATTR_SOFTWARE);
	const char *text;
	size_t text_len;
	if (sw && il_stun_attr_get_string(&m, sw, &text, &text_len) == IL_STUN_OK)
		copy_text(r->software, sizeof r->software, text, text_len);
	r->fingerprint = fp == IL_STUN_VERDICT_OK;
	r->rtt_ms = (double)(probe_now_us() - b->first_send_us) / 1000.0;
	if (m.cls == IL_STUN_ERROR) {
		const il_stun_attr *ec = il_stun_msg_find(&m, IL_ATTR_ERROR_CODE);
		int code = 0;
		if (ec && il_stun_attr_get_error_code(&m, ec, &code, &text, &text_len) == IL_STUN_OK)
			copy_text(r->reason, sizeof r->reason, text, text_len);
		r->error_code = code ? code : 400;
		il_stun_txn_complete(&b->txns, txn, now);
		char why[IL_PROBE_TEXT_MAX];
		snprintf(why, sizeof why, "error response %d%s%.200s", r->error_code,
			 r->reason[0] ? " " : "", r->reason);
		finish(b, why);
		return;
	}
	/* "the client SHOULD check the response for a MAPPED-ADDRESS attribute"
	 * when it has no XOR-MAPPED-ADDRESS (RFC 8489 §14.1, backwards
	 * compatibility with RFC 3489 servers). */
	get_addr(&m, IL_ATTR_XOR_MAPPED_ADDRESS, &r->mapped);
	r->mapped_xor = r->mapped.family != IL_AF_NONE;
	if (!r->mapped_xor)
		get_addr(&m, IL_ATTR_MAPPED_ADDRESS, &r->mapped);
	get_addr(&m, IL_ATTR_RESPONSE_ORIGIN, &r->response_origin);
	get_addr(&m, IL_ATTR_OTHER_ADDRESS, &r->other_address);
	il_stun_txn_complete(&b->txns, txn, now);
	if (r->mapped.family == IL_AF_NONE) {
		finish(b, "the success response has no XOR-MAPPED-ADDRESS");
		return;
	}
	r->answered = true;
	finish(b, NULL);
}

static void on_data(void *user, const uint8_t *data, size_t len)
{
	binding_run *b = user;
	if (!b->stream_buf) {
		handle_message(b, data, len);
		return;
	}
	while (len > 0 && !b->done) {
		size_t taken = il_stream_push(&b->stream, data, len);
		data += taken;
		len -= taken;
		il_stream_frame f;
		int rc = 0;
		while (!b->done && (rc = il_stream_next(&b->stream, &f, NULL)) == 1)
			if (f.kind == IL_FRAME_STUN)
				handle_message(b, f.bytes, f.len);
		if (rc < 0) {
			finish(b, "the server's byte stream is not STUN");
			return;
		}
	}
}

static void on_closed(void *user, const char *why)
{
	binding_run *b = user;
	il_stun_txn_end_all(&b->txns, 0, probe_now_ms());
	b->res->conn = *probe_conn_info(b->conn);
	finish(b, why);
}

int il_probe_binding_run(const il_probe_binding_options *opt, il_probe_binding_result *res)
{
	memset(res, 0, sizeof *res);
	binding_run b = {.opt = opt, .res = res};
	bool reliable = opt->target.transport != IL_PROBE_UDP;
	il_stun_txn_config cfg;
	il_stun_txn_config_defaults(&cfg, reliable);
	il_stun_txn_callbacks cb = {.user = &b, .send = on_txn_send, .failed = on_txn_failed};
	il_stun_txn_table_init(&b.txns, &b.slot, 1, &cfg, &cb);
	int status = IL_PROBE_ERROR;
	b.base = event_base_new();
	if (!b.base) {
		snprintf(res->failure, sizeof res->failure, "no event base");
		return IL_PROBE_ERROR;
	}
	b.timer = evtimer_new(b.base, on_timer, &b);
	b.deadline = evtimer_new(b.base, on_deadline, &b);
	if (reliable)
		b.stream_buf = malloc(IL_STREAM_MIN_CAP);
	if (!b.timer || !b.deadline || (reliable && !b.stream_buf)) {
		snprintf(res->failure, sizeof res->failure, "no memory");
		goto out;
	}
	if (reliable)
		il_stream_init(&b.stream, b.stream_buf, IL_STREAM_MIN_CAP);
	probe_conn_callbacks ccb = {.user = &b, .connected = on_connected, .data = on_data,
				    .closed = on_closed};
	b.conn = probe_conn_open(b.base, &opt->target, &opt->tls, &ccb, res->failure,
				 sizeof res->failure);
	if (!b.conn)
		goto out;
	uint32_t timeout = opt->timeout_ms ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct timeval tv = {.tv_sec = timeout / 1000, .tv_usec = (suseconds_t)(timeout % 1000) * 1000};
	evtimer_add(b.deadline, &tv);
	event_base_dispatch(b.base);
	if (!res->conn.server.family)
		res->conn = *probe_conn_info(b.conn);
	status = res->answered ? IL_PROBE_OK : IL_PROBE_FAILED;
out:
	probe_conn_free(b.conn);
	if (b.timer)
		event_free(b.timer);
	if (b.deadline)
		event_free(b.deadline);
	free(b.stream_buf);
	event_base_free(b.base);
	return status;
}
