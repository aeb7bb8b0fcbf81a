/* Unit tests of the SRTP and TLS parts of the analyser: base64 (RFC 4648
 * §4, §10 vectors), the a=crypto attribute (RFC 4568 §9.1), --srtp-key
 * selectors, SRTP authentication counts with libsrtp2 (authenticated,
 * failed, replayed; RFC 3711 §3.3, §3.4), and the TLS record walk across
 * arbitrary segment cuts (RFC 8446 §5.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <srtp2/srtp.h>

#include "pcaps.h"
#include "pcaps_internal.h"

/* 30 bytes 0x00..0x1d */
static const char key30[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";

static void test_base64_rfc4648_vectors(void **state)
{
	(void)state;
	uint8_t out[16];
	assert_int_equal(pa_base64_decode("Zm9vYmFy", 8, out, sizeof out), 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(pa_base64_decode("Zm9vYg==", 8, out, sizeof out), 4);
	assert_memory_equal(out, "foob", 4);
	assert_int_equal(pa_base64_decode("Zm9vYg", 6, out, sizeof out), 4); /* padding optional */
	assert_int_equal(pa_base64_decode("Zg==", 4, out, sizeof out), 1);
	assert_int_equal(pa_base64_decode("Zm9v!mFy", 8, out, sizeof out), -1);
	assert_int_equal(pa_base64_decode("Zm9vY", 5, out, sizeof out), -1); /* 6 bits left over */
	assert_int_equal(pa_base64_decode("Zm9vYmFy", 8, out, 5), -1);       /* does not fit */
	assert_int_equal(pa_base64_decode("", 0, out, sizeof out), 0);
}

static void test_crypto_attribute_suites_lengths_and_mki(void **state)
{
	(void)state;
	pa_srtp_key k;
	char v[200];
	snprintf(v, sizeof v, "1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^31", key30);
	assert_int_equal(pa_srtp_parse_crypto(v, strlen(v), &k), 0);
	assert_int_equal(k.suite, PA_SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(k.len, 30);
	assert_int_equal(k.key[0], 0);
	assert_int_equal(k.key[29], 0x1d);
	snprintf(v, sizeof v, "2 AES_CM_128_HMAC_SHA1_32 inline:%s", key30);
	assert_int_equal(pa_srtp_parse_crypto(v, strlen(v), &k), 0);
	assert_int_equal(k.suite, PA_SRTP_AES_CM_128_HMAC_SHA1_32);
	/* AES-256 needs 46 bytes (RFC 6188): 30 is refused */
	snprintf(v, sizeof v, "1 AES_256_CM_HMAC_SHA1_80 inline:%s", key30);
	assert_int_equal(pa_srtp_parse_crypto(v, strlen(v), &k), -1);
	/* an MKI ("|1:4") is not supported; an unknown suite; no inline: */
	snprintf(v, sizeof v, "1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^20|1:4", key30);
	assert_int_equal(pa_srtp_parse_crypto(v, strlen(v), &k), -1);
	snprintf(v, sizeof v, "1 F8_128_HMAC_SHA1_80 inline:%s", key30);
	assert_int_equal(pa_srtp_parse_crypto(v, strlen(v), &k), -1);
	snprintf(v, sizeof v, "1 AES_CM_128_HMAC_SHA1_80 %s", key30);
	assert_int_equal(pa_srtp_parse_crypto(v, strlen(v), &k), -1);
	assert_int_equal(pa_srtp_parse_crypto("x", 1, &k), -1);
}

static void test_srtp_key_option_selectors(void **state)
{
	(void)state;
	il_pcap_analysis *a = il_pcap_analysis_new();
	char spec[200], err[256];
	snprintf(spec, sizeof spec, "0x11110007:%s", key30);
	assert_int_equal(il_pcap_add_srtp_key(a, spec, err, sizeof err), 0);
	assert_int_equal(a->srtp_opts[0].kind, PA_SRTP_BY_SSRC);
	assert_int_equal(a->srtp_opts[0].ssrc, 0x11110007u);
	snprintf(spec, sizeof spec, "4660:%s", key30);
	assert_int_equal(il_pcap_add_srtp_key(a, spec, err, sizeof err), 0);
	assert_int_equal(a->srtp_opts[1].ssrc, 4660u);
	snprintf(spec, sizeof spec, "[2001:db8::1]:4000:%s", key30);
	assert_int_equal(il_pcap_add_srtp_key(a, spec, err, sizeof err), 0);
	assert_int_equal(a->srtp_opts[2].kind, PA_SRTP_BY_SOURCE);
	assert_int_equal(a->srtp_opts[2].src.port, 4000);
	snprintf(spec, sizeof spec, "192.0.2.1:4000>198.51.100.2:5000:%s", key30);
	assert_int_equal(il_pcap_add_srtp_key(a, spec, err, sizeof err), 0);
	assert_int_equal(a->srtp_opts[3].kind, PA_SRTP_BY_FLOW);
	assert_int_equal(a->srtp_opts[3].dst.port, 5000);
	assert_int_equal(il_pcap_add_srtp_key(a, "0x1:AAAA", err, sizeof err), -1);
	assert_non_null(strstr(err, "30 bytes"));
	assert_int_equal(il_pcap_add_srtp_key(a, key30, err, sizeof err), -1);
	snprintf(spec, sizeof spec, "not-an-address:%s", key30);
	assert_int_equal(il_pcap_add_srtp_key(a, spec, err, sizeof err), -1);
	assert_int_equal(a->srtp_opt_count, 4);
	il_pcap_analysis_free(a);
}

static size_t srtp_packet(srtp_t s, uint16_t seq, uint8_t *p)
{
	memset(p, 0xd5, 172);
	p[0] = 0x80;
	p[1] = 8;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	memset(p + 4, 0, 4);
	p[8] = 0x11;
	p[9] = 0x11;
	p[10] = 0;
	p[11] = 7;
	int len = 172;
	assert_int_equal(srtp_protect(s, p, &len), srtp_err_status_ok);
	return (size_t)len;
}

static void test_srtp_counts_authenticated_replayed_failed(void **state)
{
	(void)state;
	assert_int_equal(srtp_init(), srtp_err_status_ok);
	uint8_t key[30];
	for (int i = 0; i < 30; i++)
		key[i] = (uint8_t)i;
	srtp_policy_t pol;
	memset(&pol, 0, sizeof pol);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	pol.ssrc.type = ssrc_any_outbound;
	pol.key = key;
	srtp_t tx;
	assert_int_equal(srtp_create(&tx, &pol), srtp_err_status_ok);

	il_pcap_analysis *a = il_pcap_analysis_new();
	char spec[200], err[256];
	snprintf(spec, sizeof spec, "0x11110007:%s", key30);
	assert_int_equal(il_pcap_add_srtp_key(a, spec, err, sizeof err), 0);
	pa_pkt p;
	memset(&p, 0, sizeof p);
	p.transport = 17;
	il_addr_parse("192.0.2.1:4000", &p.src);
	il_addr_parse("198.51.100.2:5000", &p.dst);
	uint8_t pkt[256];
	for (uint16_t seq = 1; seq <= 10; seq++) {
		size_t n = srtp_packet(tx, seq, pkt);
		p.frame = seq;
		p.ts_us = 1000000 + seq * 20000ull;
		pa_classify_datagram(a, &p, pkt, n);
		if (seq == 5) { /* the same packet again: a replay */
			p.frame = 100;
			pa_classify_datagram(a, &p, pkt, n);
		}
		if (seq == 10) { /* a flipped payload bit: the tag fails */
			pkt[20] ^= 1;
			p.frame = 101;
			pkt[3] = 11; /* a new index, so not a replay */
			pa_classify_datagram(a, &p, pkt, n);
		}
	}
	a->frames = 101;
	il_pcap_finish(a);
	json_t *r = il_pcap_report_json(a);
	json_t *s = json_object_get(json_array_get(json_object_get(json_object_get(r, "stats"),
								   "rtp_streams"), 0), "srtp");
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(s, "authenticated")), 10);
	assert_int_equal(json_integer_value(json_object_get(s, "replayed")), 1);
	assert_int_equal(json_integer_value(json_object_get(s, "auth_failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(s, "first_failed_frame")), 101);
	/* one failure in eleven: a warning, not an error */
	assert_int_equal(il_pcap_finding_count(a, IL_PCAP_WARNING), 1);
	assert_int_equal(il_pcap_finding_count(a, IL_PCAP_ERROR), 0);
	json_decref(r);
	il_pcap_analysis_free(a);
	srtp_dealloc(tx);
	srtp_shutdown();
}

/* Handshake, ChangeCipherSpec, two application data records, an alert:
 * the same counts whatever two segments the bytes arrive in. */
static void test_tls_records_counted_across_any_cut(void **state)
{
	(void)state;
	static const uint8_t s[] = {22, 3, 1, 0, 4, 1, 0, 0, 0,  20, 3, 3, 0, 1, 1,
				    23, 3, 3, 0, 3, 9, 9, 9,     23, 3, 3, 0, 1, 7,
				    21, 3, 3, 0, 2, 1, 0};
	assert_true(pa_tls_detect(s, sizeof s));
	assert_false(pa_tls_detect((const uint8_t *)"\x16\x03\x05\x00\x01", 5)); /* 3.5 */
	assert_false(pa_tls_detect((const uint8_t *)"\x17\x03\x03\x00\x00", 5)); /* empty */
	assert_false(pa_tls_detect((const uint8_t *)"\x17\x03\x03\x48\x01", 5)); /* > 2^14+2048 */
	for (size_t cut = 0; cut <= sizeof s; cut++) {
		il_pcap_analysis *a = il_pcap_analysis_new();
		pa_pkt p;
		memset(&p, 0, sizeof p);
		p.transport = 6;
		p.frame = 1;
		il_addr_parse("192.0.2.1:40000", &p.src);
		il_addr_parse("198.51.100.2:5061", &p.dst);
		pa_tls_state st;
		memset(&st, 0, sizeof st);
		pa_tls_stream(a, &p, &st, s, cut);
		p.frame = 2;
		pa_tls_stream(a, &p, &st, s + cut, sizeof s - cut);
		assert_int_equal(a->tls_flows.count, 1);
		const pa_tls_flow *t = NULL;
		for (size_t i = 0; i < a->tls_flows.cap; i++)
			if (a->tls_flows.slots[i])
				t = a->tls_flows.slots[i];
		assert_int_equal(t->records, 5);
		assert_int_equal(t->handshake, 1);
		assert_int_equal(t->ccs, 1);
		assert_int_equal(t->appdata, 2);
		assert_int_equal(t->alerts, 1);
		assert_true(t->sip);
		assert_false(t->broken);
		assert_int_equal(t->client_hello_frame, cut > 5 ? 1 : 2);
		/* then bytes that are not a record: the walk stops */
		pa_tls_stream(a, &p, &st, (const uint8_t *)"GARBAGE!", 8);
		assert_true(t->broken);
		il_pcap_analysis_free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_rfc4648_vectors),
		cmocka_unit_test(test_crypto_attribute_suites_lengths_and_mki),
		cmocka_unit_test(test_srtp_key_option_selectors),
		cmocka_unit_test(test_srtp_counts_authenticated_replayed_failed),
		cmocka_unit_test(test_tls_records_counted_across_any_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
