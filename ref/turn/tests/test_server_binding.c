/* The STUN Binding server (RFC 8489) and RFC 5780 behaviour discovery in
 * the TURN server core; bad input: 420, 400, silence. */
#include "test_server_util.h"

static il_five_tuple ft;

static int setup_binding(void **state)
{
	setup(state);
	ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	return 0;
}

/* RFC 5780 on: A1 = 198.51.100.1:3478 (where FT() arrives), A2 = 198.51.100.2:3479. */
static int setup_5780(void **state)
{
	setup_config(state);
	F->cfg.primary_address = A("198.51.100.1:3478");
	F->cfg.other_address = A("198.51.100.2:3479");
	fixture_start(F);
	ft = FT("203.0.113.7:40000", IL_TRANSPORT_UDP);
	return 0;
}

static size_t send_binding(add_attrs_fn add, const void *arg, bool fingerprint)
{
	uint8_t buf[2048], tid[12];
	next_tid(tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	if (add)
		add(&b, arg);
	if (fingerprint)
		il_stun_add_fingerprint(&b);
	size_t len = il_stun_builder_finish(&b, NULL);
	size_t first = F->n_client;
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	return first;
}

static void test_binding_response_has_xor_mapped_address(void **state)
{
	(void)state;
	send_binding(NULL, NULL, true);
	assert_int_equal(F->n_client, 1);
	const il_stun_msg *m = last();
	assert_int_equal(m->method, IL_STUN_BINDING);
	assert_int_equal(m->cls, IL_STUN_SUCCESS);
	il_addr mapped;
	assert_int_equal(il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_XOR_MAPPED_ADDRESS),
					       &mapped),
			 IL_STUN_OK);
	assert_true(il_addr_equal(&mapped, &ft.remote));
	assert_non_null(il_stun_msg_find(m, IL_ATTR_SOFTWARE));
	assert_int_equal(il_stun_check_fingerprint(m), IL_STUN_VERDICT_OK);
	assert_null(il_stun_msg_find(m, IL_ATTR_OTHER_ADDRESS)); /* RFC 5780 off */
	assert_true(turn_ft_equal(&F->to_client[0].ft, &ft));
}

static void test_binding_fingerprint_only_when_request_had_it(void **state)
{
	(void)state;
	send_binding(NULL, NULL, false);
	assert_int_equal(last()->fingerprint_index, -1);
}

static void test_binding_over_tcp_and_ipv6(void **state)
{
	(void)state;
	ft = FT("[2001:db8::7]:40000", IL_TRANSPORT_TCP);
	ft.local = A("[2001:db8::1]:3478");
	send_binding(NULL, NULL, true);
	il_addr mapped;
	il_stun_attr_get_addr(last(), il_stun_msg_find(last(), IL_ATTR_XOR_MAPPED_ADDRESS),
			      &mapped);
	assert_true(il_addr_equal(&mapped, &ft.remote));
}

static void add_unknown_required(il_stun_builder *b, const void *arg)
{
	(void)arg;
	il_stun_add_u32(b, 0x7F01, 1);
	il_stun_add_u32(b, 0xC001, 1); /* comprehension-optional: ignored */
}

static void test_unknown_comprehension_required_gets_420(void **state)
{
	(void)state;
	send_binding(add_unknown_required, NULL, true);
	const il_stun_msg *m = last();
	assert_int_equal(error_code_of(m), 420);
	const il_stun_attr *ua = il_stun_msg_find(m, IL_ATTR_UNKNOWN_ATTRIBUTES);
	assert_non_null(ua);
	uint16_t types[4];
	size_t n = 0;
	il_stun_attr_get_unknown(m, ua, types, 4, &n);
	assert_int_equal(n, 1);
	assert_int_equal(types[0], 0x7F01);
}

static void test_unknown_comprehension_required_in_allocate_gets_420(void **state)
{
	(void)state;
	creds c = user_creds("alice", "secret");
	challenge_for(&ft, IL_STUN_ALLOCATE, &c);
	assert_int_equal(request(&ft, IL_STUN_ALLOCATE, add_unknown_required, NULL, &c), 420);
	assert_int_equal(F->relay_opens, 0);
}

static void add_change_request(il_stun_builder *b, const void *arg)
{
	il_stun_add_u32(b, IL_ATTR_CHANGE_REQUEST, *(const uint32_t *)arg);
}

static void test_rfc5780_attributes_get_420_when_disabled(void **state)
{
	(void)state;
	uint32_t flags = 0x6;
	send_binding(add_change_request, &flags, true);
	assert_int_equal(error_code_of(last()), 420);
	assert_int_equal(F->n_client, 1);
	assert_true(turn_ft_equal(&F->to_client[0].ft, &ft));
}

static void test_malformed_and_non_requests_are_silently_dropped(void **state)
{
	(void)state;
	static const uint8_t junk[] = {0x00, 0x01, 0x00, 0x05, 0x21, 0x12, 0xa4, 0x42, 1, 2,
				       3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0, 0};
	il_turn_server_handle_client(F->srv, &ft, junk, sizeof junk, F->now);
	il_turn_server_handle_client(F->srv, &ft, junk, 3, F->now);
	static const uint8_t rtp[] = {0x80, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
	il_turn_server_handle_client(F->srv, &ft, rtp, sizeof rtp, F->now);
	/* An error response from a "client": never answered */
	uint8_t buf[256], tid[12];
	next_tid(tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_ERROR, tid);
	il_stun_add_error_code(&b, 400, "Bad Request");
	il_stun_add_u32(&b, 0x7F01, 1);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	/* A Binding request with a wrong FINGERPRINT: discarded */
	il_stun_builder_init(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	il_stun_add_fingerprint(&b);
	len = il_stun_builder_finish(&b, NULL);
	buf[len - 1] ^= 1;
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	assert_int_equal(F->n_client, 0);
	assert_true(F->srv->stats.dropped_malformed >= 4);
}

static void test_unknown_method_request_gets_400(void **state)
{
	(void)state;
	uint8_t buf[64], tid[12];
	next_tid(tid);
	il_stun_builder b;
	il_stun_builder_init(&b, buf, sizeof buf, 0x0FF, IL_STUN_REQUEST, tid);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	assert_int_equal(error_code_of(last()), 400);
}

static void test_classic_rfc3489_binding_gets_mapped_address(void **state)
{
	(void)state;
	uint8_t buf[64], tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	il_stun_builder b;
	il_stun_builder_init_classic(&b, buf, sizeof buf, IL_STUN_BINDING, IL_STUN_REQUEST, tid);
	size_t len = il_stun_builder_finish(&b, NULL);
	il_turn_server_handle_client(F->srv, &ft, buf, len, F->now);
	const il_stun_msg *m = last();
	assert_true(m->classic);
	il_addr mapped;
	assert_int_equal(il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_MAPPED_ADDRESS),
					       &mapped),
			 IL_STUN_OK);
	assert_true(il_addr_equal(&mapped, &ft.remote));
}

static void test_rfc5780_response_has_other_address_and_response_origin(void **state)
{
	(void)state;
	send_binding(NULL, NULL, true);
	const il_stun_msg *m = last();
	assert_int_equal(m->cls, IL_STUN_SUCCESS);
	il_addr other, origin, mapped;
	il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_OTHER_ADDRESS), &other);
	il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_RESPONSE_ORIGIN), &origin);
	il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_MAPPED_ADDRESS), &mapped);
	il_addr a2 = A("198.51.100.2:3479");
	assert_true(il_addr_equal(&other, &a2));
	assert_true(il_addr_equal(&origin, &ft.local));
	assert_true(il_addr_equal(&mapped, &ft.remote));
	assert_non_null(il_stun_msg_find(m, IL_ATTR_XOR_MAPPED_ADDRESS));
}

static void test_rfc5780_change_request_answers_from_other_address(void **state)
{
	(void)state;
	uint32_t both = 0x6, ip = 0x4, port = 0x2;
	send_binding(add_change_request, &both, true);
	il_addr want = A("198.51.100.2:3479");
	assert_true(il_addr_equal(&F->to_client[0].ft.local, &want));
	assert_true(il_addr_equal(&F->to_client[0].ft.remote, &ft.remote));
	il_addr origin;
	const il_stun_msg *m = reply_at(0);
	il_stun_attr_get_addr(m, il_stun_msg_find(m, IL_ATTR_RESPONSE_ORIGIN), &origin);
	assert_true(il_addr_equal(&origin, &want));
	send_binding(add_change_request, &ip, true);
	want = A("198.51.100.2:3478");
	assert_true(il_addr_equal(&F->to_client[1].ft.local, &want));
	send_binding(add_change_request, &port, true);
	want = A("198.51.100.1:3479");
	assert_true(il_addr_equal(&F->to_client[2].ft.local, &want));
	/* arriving on A2:P2, "change both" answers from A1:P1 */
	ft.local = A("198.51.100.2:3479");
	send_binding(add_change_request, &both, true);
	want = A("198.51.100.1:3478");
	assert_true(il_addr_equal(&F->to_client[3].ft.local, &want));
}

static void add_response_port(il_stun_builder *b, const void *arg)
{
	uint8_t v[4] = {0, 0, 0, 0};
	uint16_t p = *(const uint16_t *)arg;
	v[0] = (uint8_t)(p >> 8);
	v[1] = (uint8_t)p;
	il_stun_add_raw(b, IL_ATTR_RESPONSE_PORT, v, 4);
}

static void test_rfc5780_response_port_redirects(void **state)
{
	(void)state;
	uint16_t port = 41000;
	send_binding(add_response_port, &port, true);
	assert_int_equal(F->to_client[0].ft.remote.port, 41000);
	assert_true(turn_ip_equal(&F->to_client[0].ft.remote, &ft.remote));
}

static void add_response_port_and_padding(il_stun_builder *b, const void *arg)
{
	add_response_port(b, arg);
	uint8_t pad[64] = {0};
	il_stun_add_raw(b, IL_ATTR_PADDING, pad, sizeof pad);
}

static void test_rfc5780_padding_with_response_port_gets_400(void **state)
{
	(void)state;
	uint16_t port = 41000;
	send_binding(add_response_port_and_padding, &port, true);
	assert_int_equal(error_code_of(last()), 400);
	assert_int_equal(F->to_client[0].ft.remote.port, ft.remote.port);
}

static void add_padding(il_stun_builder *b, const void *arg)
{
	(void)arg;
	uint8_t pad[256] = {0};
	il_stun_add_raw(b, IL_ATTR_PADDING, pad, sizeof pad);
}

static void test_rfc5780_padding_echoed_no_longer_than_request(void **state)
{
	(void)state;
	send_binding(add_padding, NULL, true);
	const il_stun_attr *p = il_stun_msg_find(last(), IL_ATTR_PADDING);
	assert_non_null(p);
	assert_int_equal(p->length, 256);
}

static void test_rfc5780_off_over_tcp(void **state)
{
	(void)state;
	ft.transport = IL_TRANSPORT_TCP;
	uint32_t both = 0x6;
	send_binding(add_change_request, &both, true);
	assert_int_equal(error_code_of(last()), 420);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup_binding, teardown)
#define T5780(name) cmocka_unit_test_setup_teardown(name, setup_5780, teardown)
	const struct CMUnitTest tests[] = {
		T(test_binding_response_has_xor_mapped_address),
		T(test_binding_fingerprint_only_when_request_had_it),
		T(test_binding_over_tcp_and_ipv6),
		T(test_unknown_comprehension_required_gets_420),
		T(test_unknown_comprehension_required_in_allocate_gets_420),
		T(test_rfc5780_attributes_get_420_when_disabled),
		T(test_malformed_and_non_requests_are_silently_dropped),
		T(test_unknown_method_request_gets_400),
		T(test_classic_rfc3489_binding_gets_mapped_address),
		T5780(test_rfc5780_response_has_other_address_and_response_origin),
		T5780(test_rfc5780_change_request_answers_from_other_address),
		T5780(test_rfc5780_response_port_redirects),
		T5780(test_rfc5780_padding_with_response_port_gets_400),
		T5780(test_rfc5780_padding_echoed_no_longer_than_request),
		T5780(test_rfc5780_off_over_tcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
