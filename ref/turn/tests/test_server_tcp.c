/* RFC 6062 in the TURN server core: TCP allocations, Connect (446, 447),
 * ConnectionBind on a new client connection, ConnectionAttempt for
 * inbound peers, the 30 s bind timeout and cleanup with the allocation. */
#include "test_server_util.h"

#define PEER "93.184.216.34:80"

static il_five_tuple ctl;
static creds c;
static il_addr relayed;

static int setup_tcp_allocation(void **state)
{
	setup(state);
	ctl = FT("203.0.113.7:40000", IL_TRANSPORT_TCP);
	c = user_creds("alice", "secret");
	relayed = allocate_as(&ctl, &c, add_tcp_transport);
	assert_int_equal(F->last_transport, IL_TRANSPORT_TCP);
	return 0;
}

static int connect_to(const char *peer)
{
	il_addr p = A(peer);
	return request(&ctl, IL_STUN_CONNECT, add_peer, &p, &c);
}

static void add_conn_id(il_stun_builder *b, const void *arg)
{
	il_stun_add_u32(b, IL_ATTR_CONNECTION_ID, *(const uint32_t *)arg);
}

static void test_tcp_allocation_has_no_reservation_token_and_rejects_even_port(void **state)
{
	(void)state;
	assert_null(il_stun_msg_find(last(), IL_ATTR_RESERVATION_TOKEN));
	il_five_tuple other = FT("203.0.113.7:40001", IL_TRANSPORT_TCP);
	creds d = user_creds("alice", "secret");
	challenge_for(&other, IL_STUN_ALLOCATE, &d);
	uint8_t buf[512], tid[12];
	next_tid(tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_ALLOCATE, IL_STUN_REQUEST, tid);
	add_tcp_transport(&b, NULL);
	uint8_t r = 0;
	il_stun_add_raw(&b, IL_ATTR_EVEN_PORT, &r, 1);
	il_stun_add_string(&b, IL_ATTR_USERNAME, "alice", 5);
	il_stun_add_string(&b, IL_ATTR_REALM, REALM, strlen(REALM));
	il_stun_add_string(&b, IL_ATTR_NONCE, d.nonce, d.nonce_len);
	il_stun_key key;
	il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "alice", REALM, "secret");
	il_stun_add_message_integrity(&b, &key);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_turn_server_handle_client(F->srv, &other, buf, len, F->now);
	assert_int_equal(error_code_of(last()), 400);
}

static void test_connect_then_connection_bind_splices(void **state)
{
	(void)state;
	size_t before = F->n_client;
	il_addr p = A(PEER);
	uint8_t tid[12];
	next_tid(tid);
	send_request(&ctl, IL_STUN_CONNECT, tid, add_peer, &p, &c);
	assert_int_equal(F->n_client, before); /* waits for the outcome */
	assert_int_equal(F->tcp_connects, 1);
	uint32_t id = F->last_conn_id;
	assert_true(id != 0);
	il_turn_server_tcp_connected(F->srv, id, true, F->now);
	const il_stun_msg *m = last();
	assert_int_equal(m->method, IL_STUN_CONNECT);
	assert_int_equal(m->cls, IL_STUN_SUCCESS);
	assert_memory_equal(m->tid, tid, 12);
	il_stun_key key;
	il_stun_key_long_term(&key, IL_STUN_PWALG_MD5, "alice", REALM, "secret");
	assert_int_equal(il_stun_check_integrity(m, &key), IL_STUN_VERDICT_OK);
	uint32_t got = 0;
	il_stun_attr_get_u32(m, il_stun_msg_find(m, IL_ATTR_CONNECTION_ID), &got);
	assert_int_equal(got, id);
	/* ConnectionBind on a new connection, with the control connection's
	 * nonce. */
	il_five_tuple data = FT("203.0.113.7:40002", IL_TRANSPORT_TCP);
	assert_int_equal(request(&data, IL_STUN_CONNECTIONBIND, add_conn_id, &id, &c), 0);
	assert_int_equal(F->tcp_binds, 1);
	assert_int_equal(F->last_conn_id, id);
	/* a second Connect to the same peer while that one is active: 446 */
	assert_int_equal(connect_to(PEER), 446);
	/* the data connection closes; then a new Connect is fine */
	il_turn_server_tcp_closed(F->srv, id, F->now);
	next_tid(tid);
	send_request(&ctl, IL_STUN_CONNECT, tid, add_peer, &p, &c);
	assert_int_equal(F->tcp_connects, 2);
}

static void test_connect_twice_same_peer_gets_446(void **state)
{
	(void)state;
	uint8_t tid[12];
	next_tid(tid);
	il_addr p = A(PEER);
	send_request(&ctl, IL_STUN_CONNECT, tid, add_peer, &p, &c);
	assert_int_equal(connect_to(PEER), 446);
	assert_int_equal(F->tcp_connects, 1);
}

static void test_connect_failure_gets_447(void **state)
{
	(void)state;
	uint8_t tid[12];
	next_tid(tid);
	il_addr p = A(PEER);
	send_request(&ctl, IL_STUN_CONNECT, tid, add_peer, &p, &c);
	il_turn_server_tcp_connected(F->srv, F->last_conn_id, false, F->now);
	assert_int_equal(error_code_of(last()), 447);
	F->tcp_connect_result = -1; /* cannot even start */
	assert_int_equal(connect_to(PEER), 447);
}

static void test_connect_to_denied_peer_gets_403(void **state)
{
	(void)state;
	assert_int_equal(connect_to("10.0.0.1:80"), 403);
	assert_int_equal(F->tcp_connects, 0);
}

static void test_connect_on_udp_allocation_gets_400(void **state)
{
	(void)state;
	il_five_tuple u = FT("203.0.113.7:40005", IL_TRANSPORT_UDP);
	creds d;
	allocate_alice(&u, &d);
	il_addr p = A(PEER);
	assert_int_equal(request(&u, IL_STUN_CONNECT, add_peer, &p, &d), 400);
}

static void test_connection_bind_over_udp_or_unknown_id_gets_400(void **state)
{
	(void)state;
	uint32_t id = 12345;
	il_five_tuple u = FT("203.0.113.7:40003", IL_TRANSPORT_UDP);
	assert_int_equal(request(&u, IL_STUN_CONNECTIONBIND, add_conn_id, &id, &c), 400);
	il_five_tuple data = FT("203.0.113.7:40004", IL_TRANSPORT_TCP);
	creds d = user_creds("alice", "secret");
	challenge_for(&data, IL_STUN_CONNECTIONBIND, &d);
	assert_int_equal(request(&data, IL_STUN_CONNECTIONBIND, add_conn_id, &id, &d), 400);
	assert_int_equal(F->tcp_binds, 0);
}

static void test_inbound_peer_without_permission_is_closed(void **state)
{
	(void)state;
	il_addr p = A(PEER);
	assert_int_equal(il_turn_server_tcp_peer_accepted(F->srv, &relayed, &p, F->now), 0);
}

static void test_inbound_peer_gets_connection_attempt_and_times_out(void **state)
{
	(void)state;
	assert_int_equal(create_permission(&ctl, &c, PEER), 0);
	il_addr p = A(PEER);
	uint32_t id = il_turn_server_tcp_peer_accepted(F->srv, &relayed, &p, F->now);
	assert_true(id != 0);
	const il_stun_msg *m = last();
	assert_int_equal(m->method, IL_STUN_CONNECTIONATTEMPT);
	assert_int_equal(m->cls, IL_STUN_INDICATION);
	uint32_t got = 0;
	il_stun_attr_get_u32(m, il_stun_msg_find(m, IL_ATTR_CONNECTION_ID), &got);
	assert_int_equal(got, id);
	il_addr xp;
	il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_XOR_PEER_ADDRESS), &xp);
	assert_true(il_addr_equal(&xp, &p));
	/* "If no ConnectionBind request ... after 30 seconds, the peer data
	 * connection MUST be closed." */
	assert_int_equal(il_turn_server_next_deadline(F->srv), F->now + 30000);
	advance(29999);
	assert_int_equal(F->tcp_closes, 0);
	advance(1);
	assert_int_equal(F->tcp_closes, 1);
	assert_int_equal(F->last_closed_id, id);
}

static void test_allocation_gone_closes_data_connections(void **state)
{
	(void)state;
	assert_int_equal(create_permission(&ctl, &c, PEER), 0);
	il_addr p = A(PEER);
	uint32_t id = il_turn_server_tcp_peer_accepted(F->srv, &relayed, &p, F->now);
	il_five_tuple data = FT("203.0.113.7:40002", IL_TRANSPORT_TCP);
	assert_int_equal(request(&data, IL_STUN_CONNECTIONBIND, add_conn_id, &id, &c), 0);
	il_turn_server_client_closed(F->srv, &ctl, F->now);
	assert_int_equal(F->tcp_closes, 1);
	assert_int_equal(F->last_closed_id, id);
	assert_int_equal(F->srv->heap_bytes, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup_tcp_allocation, teardown)
	const struct CMUnitTest tests[] = {
		T(test_tcp_allocation_has_no_reservation_token_and_rejects_even_port),
		T(test_connect_then_connection_bind_splices),
		T(test_connect_twice_same_peer_gets_446),
		T(test_connect_failure_gets_447),
		T(test_connect_to_denied_peer_gets_403),
		T(test_connect_on_udp_allocation_gets_400),
		T(test_connection_bind_over_udp_or_unknown_id_gets_400),
		T(test_inbound_peer_without_permission_is_closed),
		T(test_inbound_peer_gets_connection_attempt_and_times_out),
		T(test_allocation_gone_closes_data_connections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
