/* STUN client transactions (RFC 8489 §6.2.1, §6.2.2, §6.3): a fixed table
 * of requests in flight, retransmitted over UDP with a doubling RTO and
 * timed out over TCP/TLS after Ti. Time is the caller's `now`. */
#include "icelab/stun_client.h"

#include <string.h>

/* "The value SHOULD be considered stale and discarded if no transactions
 * have occurred to the same server in the last 10 minutes." (§6.2.1) */
#define RTO_STALE_MS (10u * 60u * 1000u)

void il_stun_txn_config_defaults(il_stun_txn_config *cfg, bool reliable)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->reliable = reliable;
	/* "In fixed-line access links, a value of 500 ms is RECOMMENDED." */
	cfg->rto_ms = 500;
	cfg->rto_min_ms = 100;
	cfg->rto_max_ms = 60000;
	/* "Rc SHOULD be configurable and SHOULD have a default of 7."
	 * "Rm SHOULD be configurable and SHOULD have a default of 16." */
	cfg->rc = 7;
	cfg->rm = 16;
	/* "Ti SHOULD be configurable and SHOULD have a default of 39.5 s." */
	cfg->ti_ms = 39500;
}

const char *il_stun_txn_failure_name(enum il_stun_txn_failure why)
{
	switch (why) {
	case IL_STUN_TXN_TIMEOUT:
		return "timeout";
	case IL_STUN_TXN_INTEGRITY_VIOLATED:
		return "integrity-violated";
	case IL_STUN_TXN_CONNECTION_FAILED:
		return "connection-failed";
	}
	return "unknown";
}

void il_stun_txn_table_init(il_stun_txn_table *t, il_stun_txn *slots, size_t count,
			    const il_stun_txn_config *cfg, const il_stun_txn_callbacks *cb)
{
	memset(t, 0, sizeof *t);
	t->cfg = *cfg;
	if (t->cfg.rc == 0)
		t->cfg.rc = 1;
	if (t->cfg.rto_ms == 0)
		t->cfg.rto_ms = 500;
	t->cb = *cb;
	t->slots = slots;
	t->count = count;
	t->rto_ms = t->cfg.rto_ms;
	for (size_t i = 0; i < count; i++)
		slots[i].active = false;
}

uint32_t il_stun_txn_current_rto(const il_stun_txn_table *t, uint64_t now_ms)
{
	if (t->have_rtt && now_ms - t->last_done_ms > RTO_STALE_MS)
		return t->cfg.rto_ms;
	return t->rto_ms;
}

/* The wait after the last transmission: the doubled interval while sends
 * remain, Rm times the initial RTO after the last one ("If, after the last
 * request, a duration equal to Rm times the RTO has passed without a
 * response ... the client SHOULD consider the transaction to have
 * failed"), Ti over a reliable transport. */
static void arm(const il_stun_txn_table *t, il_stun_txn *txn, uint64_t now_ms)
{
	if (t->cfg.reliable)
		txn->deadline_ms = txn->started_ms + t->cfg.ti_ms;
	else if (txn->sends >= t->cfg.rc)
		txn->deadline_ms = now_ms + (uint64_t)t->cfg.rm * txn->rto_ms;
	else
		txn->deadline_ms = now_ms + txn->interval_ms;
}

il_stun_txn *il_stun_txn_start(il_stun_txn_table *t, const uint8_t *req, size_t len,
			       uint32_t tag, uint64_t now_ms)
{
	il_stun_msg msg;
	if (len > IL_STUN_TXN_MSG_MAX || il_stun_decode(req, len, &msg, NULL) != IL_STUN_OK ||
	    msg.cls != IL_STUN_REQUEST || msg.classic)
		return NULL;
	il_stun_txn *txn = NULL;
	for (size_t i = 0; i < t->count && !txn; i++)
		if (!t->slots[i].active)
			txn = &t->slots[i];
	if (!txn)
		return NULL;
	if (t->have_rtt && now_ms - t->last_done_ms > RTO_STALE_MS) {
		t->have_rtt = false;
		t->rto_ms = t->cfg.rto_ms;
	}
	txn->active = true;
	txn->discarded = false;
	txn->method = msg.method;
	memcpy(txn->tid, msg.tid, IL_STUN_TID_LEN);
	txn->tag = tag;
	txn->sends = 1;
	txn->rto_ms = t->rto_ms;
	txn->interval_ms = t->rto_ms;
	txn->started_ms = now_ms;
	txn->len = (uint16_t)len;
	memcpy(txn->msg, req, len);
	arm(t, txn, now_ms);
	t->cb.send(t->cb.user, txn->msg, txn->len);
	return txn;
}

il_stun_txn *il_stun_txn_match(il_stun_txn_table *t, const il_stun_msg *resp)
{
	if (resp->classic || (resp->cls != IL_STUN_SUCCESS && resp->cls != IL_STUN_ERROR))
		return NULL;
	for (size_t i = 0; i < t->count; i++) {
		il_stun_txn *txn = &t->slots[i];
		if (txn->active && txn->method == resp->method &&
		    memcmp(txn->tid, resp->tid, IL_STUN_TID_LEN) == 0)
			return txn;
	}
	return NULL;
}

static uint32_t clamp_rto(const il_stun_txn_table *t, uint64_t rto)
{
	if (rto < t->cfg.rto_min_ms)
		rto = t->cfg.rto_min_ms;
	if (t->cfg.rto_max_ms && rto > t->cfg.rto_max_ms)
		rto = t->cfg.rto_max_ms;
	return (uint32_t)rto;
}

/* RFC 6298 §2.2-2.3 with G = 1 ms: "a 1 ms accuracy SHOULD be maintained"
 * and no rounding up to a second (RFC 8489 §6.2.1). */
static void sample_rtt(il_stun_txn_table *t, uint64_t rtt64)
{
	uint32_t r = rtt64 > 600000 ? 600000 : (uint32_t)rtt64;
	if (!t->have_rtt) {
		t->srtt_ms = r;
		t->rttvar_ms = r / 2;
		t->have_rtt = true;
	} else {
		uint32_t diff = t->srtt_ms > r ? t->srtt_ms - r : r - t->srtt_ms;
		t->rttvar_ms = (3 * t->rttvar_ms + diff) / 4;
		t->srtt_ms = (7 * t->srtt_ms + r) / 8;
	}
	uint32_t var4 = 4 * t->rttvar_ms;
	t->rto_ms = clamp_rto(t, (uint64_t)t->srtt_ms + (var4 > 1 ? var4 : 1));
}

void il_stun_txn_complete(il_stun_txn_table *t, il_stun_txn *txn, uint64_t now_ms)
{
	if (!txn->active)
		return;
	/* Karn: "RTT estimates SHOULD NOT be computed from STUN transactions
	 * that result in the retransmission of a request." */
	if (!t->cfg.reliable && txn->sends == 1 && now_ms >= txn->started_ms)
		sample_rtt(t, now_ms - txn->started_ms);
	t->last_done_ms = now_ms;
	txn->active = false;
}

static void end_failed(il_stun_txn_table *t, il_stun_txn *txn, enum il_stun_txn_failure why,
		       uint64_t now_ms)
{
	uint32_t tag = txn->tag;
	txn->active = false;
	if (t->cb.failed)
		t->cb.failed(t->cb.user, tag, why, now_ms);
}

void il_stun_txn_discard_response(il_stun_txn_table *t, il_stun_txn *txn, uint64_t now_ms)
{
	if (!txn->active)
		return;
	txn->discarded = true;
	/* "If the request was sent over a reliable transport, the response
	 * MUST be discarded, and the layer MUST immediately end the
	 * transaction and signal that the integrity protection was
	 * violated." (§9.2.5) */
	if (t->cfg.reliable)
		end_failed(t, txn, IL_STUN_TXN_INTEGRITY_VIOLATED, now_ms);
}

void il_stun_txn_cancel(il_stun_txn_table *t, il_stun_txn *txn)
{
	(void)t;
	txn->active = false;
}

void il_stun_txn_end_all(il_stun_txn_table *t, enum il_stun_txn_failure why, uint64_t now_ms)
{
	for (size_t i = 0; i < t->count; i++) {
		il_stun_txn *txn = &t->slots[i];
		if (!txn->active)
			continue;
		if (why)
			end_failed(t, txn, why, now_ms);
		else
			txn->active = false;
	}
}

void il_stun_txn_timer(il_stun_txn_table *t, uint64_t now_ms)
{
	for (size_t i = 0; i < t->count; i++) {
		il_stun_txn *txn = &t->slots[i];
		if (!txn->active || now_ms < txn->deadline_ms)
			continue;
		if (t->cfg.reliable || txn->sends >= t->cfg.rc) {
			/* "If all the responses received are discarded, then
			 * instead of signaling a timeout after ending the
			 * transaction, the layer MUST signal that the integrity
			 * protection was violated." (§9.2.5) */
			end_failed(t, txn,
				   txn->discarded ? IL_STUN_TXN_INTEGRITY_VIOLATED
						  : IL_STUN_TXN_TIMEOUT,
				   now_ms);
			continue;
		}
		/* "starting with an interval of RTO ..., doubling after each
		 * retransmission" (§6.2.1). Retransmissions are scheduled from
		 * the deadline, not from a late timer call, so a slow caller
		 * does not stretch the schedule. */
		uint64_t sent_at = txn->deadline_ms;
		txn->sends++;
		txn->interval_ms = txn->interval_ms > UINT32_MAX / 2 ? UINT32_MAX
								      : txn->interval_ms * 2;
		arm(t, txn, sent_at);
		t->cb.send(t->cb.user, txn->msg, txn->len);
	}
}

uint64_t il_stun_txn_next_deadline(const il_stun_txn_table *t)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < t->count; i++)
		if (t->slots[i].active && t->slots[i].deadline_ms < next)
			next = t->slots[i].deadline_ms;
	return next;
}

size_t il_stun_txn_active_count(const il_stun_txn_table *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->count; i++)
		n += t->slots[i].active;
	return n;
}
