/* records.c (classic pcap records parsed in a mapped window, or in blocks
 * read from a stream without a file descriptor) against libpcap's own
 * reader: the same records written in the other byte order are read by
 * libpcap alone (records.c takes only this machine's order), so both
 * must give the same frames, timestamps, counts and error text, whole,
 * cut at every byte, across block boundaries, and with records longer
 * than the snapshot length. (Not negative seconds: libpcap sign-extends
 * them in this machine's order only.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcaps.h"
#include "pcaps_internal.h"

typedef struct capture {
	uint8_t *data;
	size_t len, cap;
	bool swapped;
} capture;

static void put(capture *c, const void *p, size_t n)
{
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2;
		c->data = realloc(c->data, c->cap);
		assert_non_null(c->data);
	}
	memcpy(c->data + c->len, p, n);
	c->len += n;
}

static void put32(capture *c, uint32_t v)
{
	if (c->swapped)
		v = __builtin_bswap32(v);
	put(c, &v, 4);
}

static void put16(capture *c, uint16_t v)
{
	if (c->swapped)
		v = __builtin_bswap16(v);
	put(c, &v, 2);
}

static void header(capture *c, uint32_t snaplen)
{
	put32(c, 0xa1b2c3d4);
	put16(c, 2);
	put16(c, 4);
	put32(c, 0);
	put32(c, 0);
	put32(c, snaplen);
	put32(c, DLT_RAW);
}

/* One IPv4/UDP datagram of payload bytes (RTP-looking, sequence i) as a
 * record; caplen may claim more than is there (for the snapshot case). */
static void record(capture *c, int32_t sec, int32_t usec, size_t payload, uint32_t i)
{
	uint8_t pkt[2048] = {0};
	size_t len = 28 + payload;
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[8] = 64;
	pkt[9] = 17;
	const uint8_t ips[8] = {192, 0, 2, 1, 198, 51, 100, 2};
	memcpy(pkt + 12, ips, 8);
	pkt[20] = 0x0f, pkt[21] = 0xa0, pkt[22] = 0x13, pkt[23] = 0x88;
	pkt[24] = (uint8_t)((8 + payload) >> 8);
	pkt[25] = (uint8_t)(8 + payload);
	if (payload >= 12) {
		pkt[28] = 0x80;
		pkt[30] = (uint8_t)(i >> 8);
		pkt[31] = (uint8_t)i;
		pkt[39] = 0x42;
	}
	put32(c, (uint32_t)sec);
	put32(c, (uint32_t)usec);
	put32(c, (uint32_t)len);
	put32(c, (uint32_t)len);
	put(c, pkt, len);
}

/* Both orders of the same capture: n records, sizes varying. */
static void build(capture pair[2], size_t n, uint32_t snaplen)
{
	for (int s = 0; s < 2; s++) {
		memset(&pair[s], 0, sizeof pair[s]);
		pair[s].swapped = s == 1;
		header(&pair[s], snaplen);
		for (uint32_t i = 0; i < n; i++)
			record(&pair[s], 1700000000 + (int32_t)i, (int32_t)(i * 997 % 1000000),
			       i % 7 == 0 ? 0 : 12 + (i * 131) % 1200, i);
	}
}

static char *stats_text(il_pcap_analysis *a, int rc)
{
	il_pcap_finish(a);
	json_t *j = il_pcap_stats_json(a);
	json_object_set_new(j, "rc", json_integer(rc));
	char *text = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);
	il_pcap_analysis_free(a);
	return text;
}

/* The stats JSON and error text of a file read by il_pcap_read_file
 * (records.c maps it). */
static char *read_as_json(const uint8_t *data, size_t len, char *err, size_t errlen)
{
	char path[] = "/tmp/test_records.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	il_pcap_analysis *a = il_pcap_analysis_new();
	assert_non_null(a);
	err[0] = '\0';
	int rc = il_pcap_read_file(a, path, err, errlen);
	unlink(path);
	return stats_text(a, rc);
}

/* The same from memory (no file descriptor: records.c reads blocks). */
static char *read_mem_as_json(const uint8_t *data, size_t len, char *err, size_t errlen)
{
	static uint8_t empty[1];
	FILE *f = fmemopen(len ? (void *)data : empty, len ? len : 1, "rb");
	assert_non_null(f);
	if (!len)
		fgetc(f); /* an empty stream */
	il_pcap_analysis *a = il_pcap_analysis_new();
	assert_non_null(a);
	err[0] = '\0';
	int rc;
	pcap_t *p = pcap_fopen_offline(f, err);
	if (!p) {
		fclose(f);
		rc = -1;
	} else {
		rc = il_pcap_read(a, p, err, errlen);
		pcap_close(p);
	}
	return stats_text(a, rc);
}

static void assert_same(const capture pair[2], size_t len)
{
	char err[3][PCAP_ERRBUF_SIZE];
	char *ours = read_as_json(pair[0].data, len, err[0], sizeof err[0]);
	char *blocks = read_mem_as_json(pair[0].data, len, err[1], sizeof err[1]);
	char *libpcap = read_as_json(pair[1].data, len, err[2], sizeof err[2]);
	assert_string_equal(ours, libpcap);
	assert_string_equal(blocks, libpcap);
	assert_string_equal(err[0], err[2]);
	assert_string_equal(err[1], err[2]);
	free(ours);
	free(blocks);
	free(libpcap);
}

static void test_every_cut_reads_as_libpcap_does(void **state)
{
	(void)state;
	capture pair[2];
	build(pair, 12, 65535);
	assert_int_equal(pair[0].len, pair[1].len);
	for (size_t len = 0; len <= pair[0].len; len++)
		assert_same(pair, len);
	/* The whole file: every record read. */
	char err[PCAP_ERRBUF_SIZE];
	char *text = read_as_json(pair[0].data, pair[0].len, err, sizeof err);
	assert_non_null(strstr(text, "\"frames\": 12"));
	assert_null(strstr(text, "read_error"));
	free(text);
	free(pair[0].data);
	free(pair[1].data);
}

static void test_blocks_and_a_record_over_the_snapshot(void **state)
{
	(void)state;
	capture pair[2];
	/* About 2 MB: records straddle 2 MiB windows and 256 KiB blocks. */
	build(pair, 6000, 65535);
	assert_true(pair[0].len > 3000000);
	assert_same(pair, pair[0].len);
	assert_same(pair, pair[0].len - 5);
	free(pair[0].data);
	free(pair[1].data);
	/* Snapshot 200: from the first longer record on, libpcap reads (and
	 * keeps every record, as it does in the other order). */
	build(pair, 40, 200);
	assert_same(pair, pair[0].len);
	assert_same(pair, pair[0].len - 100);
	char err[PCAP_ERRBUF_SIZE];
	char *text = read_as_json(pair[0].data, pair[0].len, err, sizeof err);
	assert_non_null(strstr(text, "\"frames\": 40,"));
	free(text);
	free(pair[0].data);
	free(pair[1].data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_cut_reads_as_libpcap_does),
		cmocka_unit_test(test_blocks_and_a_record_over_the_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
