/* Unit tests of the STUN client transaction table (RFC 8489 §6.2.1,
 * §6.2.2, §9.2.5): the retransmission schedule over UDP, the Ti timeout
 * over TCP, matching by transaction id, discarded responses, and the RTO
 * cached between transactions (RFC 6298, Karn). Virtual time only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/stun_client.h"

#define MAX_SENDS 32

typedef struct fixture {
	il_stun_txn_table table;
	il_stun_txn slots[4];
	uint64_t now;
	uint64_t send_times[MAX_SENDS];
	unsigned sends;
	unsigned failures;
	uint32_t failed_tag;
	enum il_stun_txn_failure failed_why;
	uint64_t failed_at;
	bool restart_on_failure;   /* the failed callback starts another */
} fixture;

static fixture fx;

static void on_send(void *user, const uint8_t *data, size_t len)
{
	fixture *f = user;
	(void)data;
	assert_true(len >= 20);
	if (f->sends < MAX_SENDS)
		f->send_times[f->sends] = f->now;
	f->sends++;
}

static size_t build_request(uint8_t *buf, size_t cap, uint8_t tid_byte, uint16_t method);

static void on_failed(void *user, uint32_t tag, enum il_stun_txn_failure why, uint64_t now_ms)
{
	fixture *f = user;
	f->failures++;
	f->failed_tag = tag;
	f->failed_why = why;
	f->failed_at = now_ms;
	if (f->restart_on_failure) {
		f->restart_on_failure = false;
		uint8_t req[64];
		size_t len = build_request(req, sizeof req, 0x77, IL_STUN_BINDING);
		assert_non_null(il_stun_txn_start(&f->table, req, len, 99, now_ms));
	}
}

static void setup_table(bool reliable)
{
	memset(&fx, 0, sizeof fx);
	il_stun_txn_config cfg;
	il_stun_txn_config_defaults(&cfg, reliable);
	il_stun_txn_callbacks cb = {.user = &fx, .send = on_send, .failed = on_failed};
	il_stun_txn_table_init(&fx.table, fx.slots, 4, &cfg, &cb);
}

static size_t build_request(uint8_t *buf, size_t cap, uint8_t tid_byte, uint16_t method)
{
	uint8_t tid[IL_STUN_TID_LEN];
	memset(tid, tid_byte, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, cap, method, IL_STUN_REQUEST, tid);
	return il_stun_builder_finish(&b, NULL);
}

static il_stun_txn *start(uint8_t tid_byte, uint32_t tag)
{
	uint8_t req[64];
	size_t len = build_request(req, sizeof req, tid_byte, IL_STUN_BINDING);
	return il_stun_txn_start(&fx.table, req, len, tag, fx.now);
}

/* Builds a response for tid_byte and decodes it into *msg (view over buf). */
static void response(uint8_t *buf, size_t cap, uint8_t tid_byte, uint16_t method, uint8_t cls,
		     il_stun_msg *msg)
{
	uint8_t tid[IL_STUN_TID_LEN];
	memset(tid, tid_byte, sizeof tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, cap, method, cls, tid);
	size_t len = il_stun_builder_finish(&b, NULL);
	assert_int_equal(il_stun_decode(buf, len, msg, NULL), IL_STUN_OK);
}

/* Steps virtual time to each deadline until the table is idle or limit. */
static void run_until(uint64_t limit)
{
	for (;;) {
		uint64_t d = il_stun_txn_next_deadline(&fx.table);
		if (d == UINT64_MAX || d > limit)
			break;
		fx.now = d;
		il_stun_txn_timer(&fx.table, fx.now);
	}
	fx.now = limit;
}

/* "assuming an RTO of 500 ms, requests would be sent at times 0 ms,
 * 500 ms, 1500 ms, 3500 ms, 7500 ms, 15500 ms, and 31500 ms." (§6.2.1) */
static void test_udp_request_retransmits_with_doubling_rto(void **state)
{
	(void)state;
	setup_table(false);
	assert_non_null(start(1, 7));
	run_until(39499);
	static const uint64_t expected[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
	assert_int_equal(fx.sends, 7);
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(fx.send_times[i], expected[i]);
	assert_int_equal(fx.failures, 0);
}

/* "If the client has not received a response after 39500 ms, the client
 * will consider the transaction to have timed out." Rc = 7, Rm = 16. */
static void test_udp_transaction_times_out_after_rc_transmissions(void **state)
{
	(void)state;
	setup_table(false);
	assert_non_null(start(1, 7));
	run_until(100000);
	assert_int_equal(fx.sends, 7);
	assert_int_equal(fx.failures, 1);
	assert_int_equal(fx.failed_tag, 7);
	assert_int_equal(fx.failed_why, IL_STUN_TXN_TIMEOUT);
	assert_int_equal(fx.failed_at, 39500);
	assert_int_equal(il_stun_txn_active_count(&fx.table), 0);
	assert_true(il_stun_txn_next_deadline(&fx.table) == UINT64_MAX);
}

/* "Reliability of STUN over TCP and TLS-over-TCP is handled by TCP itself,
 * and there are no retransmissions at the STUN protocol level." Ti =
 * 39.5 s (§6.2.2). */
static void test_tcp_transaction_does_not_retransmit(void **state)
{
	(void)state;
	setup_table(true);
	assert_non_null(start(1, 3));
	run_until(100000);
	assert_int_equal(fx.sends, 1);
	assert_int_equal(fx.failures, 1);
	assert_int_equal(fx.failed_why, IL_STUN_TXN_TIMEOUT);
	assert_int_equal(fx.failed_at, 39500);
}

static void test_response_matched_by_transaction_id_and_method(void **state)
{
	(void)state;
	setup_table(false);
	il_stun_txn *txn = start(1, 5);
	assert_non_null(txn);
	assert_non_null(start(2, 6));
	uint8_t buf[64];
	il_stun_msg msg;
	response(buf, sizeof buf, 3, IL_STUN_BINDING, IL_STUN_SUCCESS, &msg);
	assert_null(il_stun_txn_match(&fx.table, &msg));
	response(buf, sizeof buf, 1, IL_STUN_ALLOCATE, IL_STUN_SUCCESS, &msg);
	assert_null(il_stun_txn_match(&fx.table, &msg));
	response(buf, sizeof buf, 1, IL_STUN_BINDING, IL_STUN_ERROR, &msg);
	assert_ptr_equal(il_stun_txn_match(&fx.table, &msg), txn);
	il_stun_txn_complete(&fx.table, txn, 10);
	assert_null(il_stun_txn_match(&fx.table, &msg));
	assert_int_equal(il_stun_txn_active_count(&fx.table), 1);
}

/* A response discarded for integrity keeps the retransmissions going, and
 * the end is reported as an integrity violation, not a timeout (§9.2.5). */
static void test_discarded_response_over_udp_reports_integrity_at_the_end(void **state)
{
	(void)state;
	setup_table(false);
	il_stun_txn *txn = start(1, 4);
	fx.now = 100;
	il_stun_txn_discard_response(&fx.table, txn, fx.now);
	assert_true(txn->active);
	run_until(100000);
	assert_int_equal(fx.sends, 7);
	assert_int_equal(fx.failures, 1);
	assert_int_equal(fx.failed_why, IL_STUN_TXN_INTEGRITY_VIOLATED);
}

/* "If the request was sent over a reliable transport, the response MUST be
 * discarded, and the layer MUST immediately end the transaction" */
static void test_discarded_response_over_tcp_ends_transaction_at_once(void **state)
{
	(void)state;
	setup_table(true);
	il_stun_txn *txn = start(1, 4);
	fx.now = 100;
	il_stun_txn_discard_response(&fx.table, txn, fx.now);
	assert_int_equal(fx.failures, 1);
	assert_int_equal(fx.failed_why, IL_STUN_TXN_INTEGRITY_VIOLATED);
	assert_int_equal(fx.failed_at, 100);
	assert_int_equal(il_stun_txn_active_count(&fx.table), 0);
}

/* The RTO is cached (§6.2.1) from RFC 6298's estimate: after one clean
 * 100 ms sample, SRTT = 100, RTTVAR = 50, RTO = 100 + 4 * 50 = 300. */
static void test_rto_cached_from_a_transaction_sent_once(void **state)
{
	(void)state;
	setup_table(false);
	il_stun_txn *txn = start(1, 1);
	fx.now = 100;
	il_stun_txn_complete(&fx.table, txn, fx.now);
	assert_int_equal(il_stun_txn_current_rto(&fx.table, fx.now), 300);
	txn = start(2, 2);
	assert_int_equal(txn->rto_ms, 300);
	run_until(fx.now + 300);
	assert_int_equal(fx.sends, 3);
	assert_int_equal(fx.send_times[2], 400);
}

/* Karn: "RTT estimates SHOULD NOT be computed from STUN transactions that
 * result in the retransmission of a request." */
static void test_rto_not_sampled_from_retransmitted_transaction(void **state)
{
	(void)state;
	setup_table(false);
	il_stun_txn *txn = start(1, 1);
	run_until(600);
	assert_int_equal(fx.sends, 2);
	il_stun_txn_complete(&fx.table, txn, fx.now);
	assert_int_equal(il_stun_txn_current_rto(&fx.table, fx.now), 500);
}

/* "The value SHOULD be considered stale and discarded if no transactions
 * have occurred to the same server in the last 10 minutes." */
static void test_cached_rto_stale_after_ten_minutes(void **state)
{
	(void)state;
	setup_table(false);
	il_stun_txn *txn = start(1, 1);
	fx.now = 100;
	il_stun_txn_complete(&fx.table, txn, fx.now);
	fx.now += 10 * 60 * 1000 + 1;
	assert_int_equal(il_stun_txn_current_rto(&fx.table, fx.now), 500);
	txn = start(2, 2);
	assert_int_equal(txn->rto_ms, 500);
}

static void test_full_table_and_non_requests_refused(void **state)
{
	(void)state;
	setup_table(false);
	for (uint8_t i = 1; i <= 4; i++)
		assert_non_null(start(i, i));
	assert_null(start(9, 9));
	setup_table(false);
	uint8_t buf[64];
	il_stun_msg msg;
	response(buf, sizeof buf, 1, IL_STUN_BINDING, IL_STUN_SUCCESS, &msg);
	assert_null(il_stun_txn_start(&fx.table, buf, msg.len, 1, 0));
	assert_null(il_stun_txn_start(&fx.table, buf, 10, 1, 0));
	assert_int_equal(fx.sends, 0);
}

/* The failed callback runs with the slot already free, so it may start the
 * next transaction (a client retrying, the TURN client's refresh). */
static void test_failed_callback_may_start_another_transaction(void **state)
{
	(void)state;
	setup_table(true);
	for (uint8_t i = 1; i <= 4; i++)
		assert_non_null(start(i, i));
	fx.restart_on_failure = true;
	run_until(39500);
	assert_int_equal(fx.failures, 4);
	assert_int_equal(il_stun_txn_active_count(&fx.table), 1);
	assert_int_equal(fx.sends, 5);
}

static void test_end_all_reports_connection_failure(void **state)
{
	(void)state;
	setup_table(true);
	assert_non_null(start(1, 1));
	assert_non_null(start(2, 2));
	il_stun_txn_end_all(&fx.table, IL_STUN_TXN_CONNECTION_FAILED, 5);
	assert_int_equal(fx.failures, 2);
	assert_int_equal(fx.failed_why, IL_STUN_TXN_CONNECTION_FAILED);
	assert_string_equal(il_stun_txn_failure_name(IL_STUN_TXN_CONNECTION_FAILED),
			    "connection-failed");
	assert_int_equal(il_stun_txn_active_count(&fx.table), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_request_retransmits_with_doubling_rto),
		cmocka_unit_test(test_udp_transaction_times_out_after_rc_transmissions),
		cmocka_unit_test(test_tcp_transaction_does_not_retransmit),
		cmocka_unit_test(test_response_matched_by_transaction_id_and_method),
		cmocka_unit_test(test_discarded_response_over_udp_reports_integrity_at_the_end),
		cmocka_unit_test(test_discarded_response_over_tcp_ends_transaction_at_once),
		cmocka_unit_test(test_rto_cached_from_a_transaction_sent_once),
		cmocka_unit_test(test_rto_not_sampled_from_retransmitted_transaction),
		cmocka_unit_test(test_cached_rto_stale_after_ten_minutes),
		cmocka_unit_test(test_full_table_and_non_requests_refused),
		cmocka_unit_test(test_failed_callback_may_start_another_transaction),
		cmocka_unit_test(test_end_all_reports_connection_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
