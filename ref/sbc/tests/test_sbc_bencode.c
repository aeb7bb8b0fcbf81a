/* Bencode (ref/sbc/bencode.c): round trips, the strict refusals, the
 * depth and node limits, lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "icelab/bencode.h"

static il_benc_node nodes[256];

static int parse(const char *s)
{
	return il_benc_parse(s, strlen(s), nodes, 256, NULL);
}

static void test_scalars(void **state)
{
	(void)state;
	assert_int_equal(parse("i42e"), 1);
	assert_int_equal(nodes[0].type, IL_BENC_INT);
	assert_int_equal(nodes[0].num, 42);
	assert_int_equal(parse("i-7e"), 1);
	assert_int_equal(nodes[0].num, -7);
	assert_int_equal(parse("i0e"), 1);
	assert_int_equal(parse("4:spam"), 1);
	assert_int_equal(nodes[0].type, IL_BENC_STR);
	assert_int_equal(nodes[0].len, 4);
	assert_memory_equal(nodes[0].str, "spam", 4);
	assert_int_equal(parse("0:"), 1);
	assert_int_equal(nodes[0].len, 0);
	/* A string may hold any byte, NUL included. */
	assert_int_equal(il_benc_parse("3:a\0b", 5, nodes, 256, NULL), 1);
	assert_int_equal(nodes[0].len, 3);
	assert_int_equal(parse("i999999999999999999e"), 1);
}

static void test_containers_and_lookup(void **state)
{
	(void)state;
	const char *msg = "d7:command5:offer7:call-id3:c-15:flagsl13:strict-source4:SDESe"
			  "5:depthi3e4:nestd1:ali1ei2eeee";
	int n = parse(msg);
	assert_true(n > 0);
	assert_int_equal(nodes[0].type, IL_BENC_DICT);
	assert_int_equal(nodes[0].count, 10);
	assert_int_equal(nodes[0].end, (uint32_t)n);
	size_t len;
	const char *cmd = il_benc_dict_str(nodes, 0, "command", &len);
	assert_non_null(cmd);
	assert_int_equal(len, 5);
	assert_memory_equal(cmd, "offer", 5);
	assert_true(il_benc_dict_has_item(nodes, 0, "flags", "strict-source"));
	assert_true(il_benc_dict_has_item(nodes, 0, "flags", "SDES"));
	assert_false(il_benc_dict_has_item(nodes, 0, "flags", "strict"));
	assert_true(il_benc_dict_has_item(nodes, 0, "command", "offer"));
	int d = il_benc_dict_get(nodes, 0, "depth");
	assert_true(d > 0);
	assert_int_equal(nodes[d].num, 3);
	int nest = il_benc_dict_get(nodes, 0, "nest");
	assert_int_equal(nodes[nest].type, IL_BENC_DICT);
	int a = il_benc_dict_get(nodes, nest, "a");
	assert_int_equal(nodes[a].type, IL_BENC_LIST);
	assert_int_equal(nodes[a].count, 2);
	assert_int_equal(il_benc_dict_get(nodes, 0, "missing"), -1);
	assert_null(il_benc_dict_str(nodes, 0, "depth", NULL)); /* not a string */
	assert_int_equal(il_benc_dict_get(nodes, a, "x"), -1); /* not a dict */
	/* Unsorted keys (as Kamailio sends them) are accepted; the first
	 * of two equal keys wins. */
	assert_true(parse("d1:bi1e1:ai2e1:bi3ee") > 0);
	assert_int_equal(nodes[il_benc_dict_get(nodes, 0, "b")].num, 1);
}

static void test_round_trip(void **state)
{
	(void)state;
	char buf[512];
	il_benc_writer w;
	il_benc_writer_init(&w, buf, sizeof buf);
	il_benc_begin_dict(&w);
	il_benc_kv_str(&w, "result", "ok");
	il_benc_kv_int(&w, "n", -12345);
	il_benc_put_cstr(&w, "list");
	il_benc_begin_list(&w);
	il_benc_put_str(&w, "a\0b", 3);
	il_benc_put_int(&w, 0);
	il_benc_begin_dict(&w);
	il_benc_end(&w);
	il_benc_end(&w);
	il_benc_end(&w);
	assert_false(w.overflow);
	assert_string_equal(buf, "d6:result2:ok1:ni-12345e4:listl3:a");
	int n = il_benc_parse(buf, w.len, nodes, 256, NULL);
	assert_int_equal(n, 10);
	int l = il_benc_dict_get(nodes, 0, "list");
	assert_int_equal(nodes[l].count, 3);
	assert_int_equal(nodes[l + 1].len, 3);
	assert_memory_equal(nodes[l + 1].str, "a\0b", 3);
	assert_int_equal(nodes[nodes[l + 1].end].num, 0);
	assert_int_equal(nodes[il_benc_dict_get(nodes, 0, "n")].num, -12345);
}

static void test_writer_overflow(void **state)
{
	(void)state;
	char buf[8];
	il_benc_writer w;
	il_benc_writer_init(&w, buf, sizeof buf);
	il_benc_kv_str(&w, "result", "ok");
	assert_true(w.overflow);
	assert_true(w.len < sizeof buf);
	assert_int_equal(buf[w.len], '\0');
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int err;
	} bad[] = {
		{"", IL_BENC_ERR_TRUNCATED},
		{"i03e", IL_BENC_ERR_SYNTAX},        /* leading zero */
		{"i-0e", IL_BENC_ERR_SYNTAX},        /* negative zero */
		{"ie", IL_BENC_ERR_SYNTAX},
		{"i1x", IL_BENC_ERR_SYNTAX},
		{"i12", IL_BENC_ERR_TRUNCATED},
		{"i9999999999999999999e", IL_BENC_ERR_SYNTAX}, /* beyond 18 digits */
		{"03:abc", IL_BENC_ERR_SYNTAX},      /* leading zero in a length */
		{"5:abc", IL_BENC_ERR_TRUNCATED},
		{"3abc", IL_BENC_ERR_SYNTAX},
		{"d", IL_BENC_ERR_TRUNCATED},
		{"l1:a", IL_BENC_ERR_TRUNCATED},
		{"di1ei2ee", IL_BENC_ERR_SYNTAX},    /* a key that is not a string */
		{"d1:ae", IL_BENC_ERR_SYNTAX},       /* a key without a value */
		{"e", IL_BENC_ERR_SYNTAX},
		{"i1ei2e", IL_BENC_ERR_SYNTAX},      /* bytes after the value */
		{"de ", IL_BENC_ERR_SYNTAX},
		{"x", IL_BENC_ERR_SYNTAX},
		{"-1:a", IL_BENC_ERR_SYNTAX},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(bad[i].in);
		if (rc != bad[i].err)
			fail_msg("'%s': got %d, expected %d", bad[i].in, rc, bad[i].err);
		assert_non_null(il_benc_strerror(rc));
	}
	size_t where = 99;
	assert_int_equal(il_benc_parse("d1:a", 4, nodes, 256, &where), IL_BENC_ERR_TRUNCATED);
	assert_int_equal(where, 4);
}

static void test_limits(void **state)
{
	(void)state;
	char deep[2 * IL_BENC_MAX_DEPTH + 8];
	size_t n = 0;
	for (int i = 0; i < IL_BENC_MAX_DEPTH; i++)
		deep[n++] = 'l';
	for (int i = 0; i < IL_BENC_MAX_DEPTH; i++)
		deep[n++] = 'e';
	assert_int_equal(il_benc_parse(deep, n, nodes, 256, NULL), IL_BENC_MAX_DEPTH);
	/* One level more is refused, without recursion. */
	char deeper[2 * IL_BENC_MAX_DEPTH + 8];
	n = 0;
	for (int i = 0; i <= IL_BENC_MAX_DEPTH; i++)
		deeper[n++] = 'l';
	for (int i = 0; i <= IL_BENC_MAX_DEPTH; i++)
		deeper[n++] = 'e';
	assert_int_equal(il_benc_parse(deeper, n, nodes, 256, NULL), IL_BENC_ERR_DEPTH);
	/* A million opening brackets: refused at the limit, not a crash. */
	static char huge[1 << 20];
	memset(huge, 'l', sizeof huge);
	assert_int_equal(il_benc_parse(huge, sizeof huge, nodes, 256, NULL), IL_BENC_ERR_DEPTH);
	/* More values than nodes. */
	assert_int_equal(il_benc_parse("li1ei2ei3ee", 11, nodes, 3, NULL), IL_BENC_ERR_NODES);
	assert_int_equal(il_benc_parse("li1ei2ei3ee", 11, nodes, 4, NULL), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),	      cmocka_unit_test(test_containers_and_lookup),
		cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_writer_overflow),
		cmocka_unit_test(test_malformed),      cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
