/* Fuzz target pcaps_rtp_rtcp: the RTP header walk (RFC 3550 §5.1: CSRC
 * count, extension length, padding; overruns are a known bug class) and
 * the statistics behind it, and the compound RTCP walk (§6: SR/RR report
 * blocks, BYE with its reason, SDES, APP, XR blocks of RFC 3611). The
 * input is taken whole as RTP, whole as RTCP, then cut at its first byte
 * into two datagrams of one stream (loss, duplicates, reordering and
 * jitter see a second packet). Invariants: no crash, no out-of-bounds
 * read; an accepted RTP header and payload fit in the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "pcaps_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	il_pcap_analysis *a = il_pcap_analysis_new();
	FUZZ_CHECK(a != NULL);
	pa_pkt p;
	memset(&p, 0, sizeof p);
	p.frame = 1;
	p.ts_us = 1000000;
	p.transport = 17;
	il_addr_parse("192.0.2.1:4000", &p.src);
	il_addr_parse("198.51.100.2:5000", &p.dst);
	a->frames = 3;
	a->first_us = p.ts_us;
	size_t hdr, payload;
	if (pa_rtp_parse(data, size, &hdr, &payload) == 0)
		FUZZ_CHECK(hdr <= size && payload <= size - hdr);
	pa_rtp_packet(a, &p, data, size);
	int n = pa_rtcp_packet(a, &p, data, size);
	FUZZ_CHECK(n >= -1 && (size_t)(n < 0 ? 0 : n) <= size / 4);
	pa_classify_datagram(a, &p, data, size);
	if (size > 1) {
		size_t cut = 1 + data[0] % (size - 1);
		p.frame = 2;
		p.ts_us += 20000;
		pa_rtp_packet(a, &p, data, cut);
		p.frame = 3;
		p.ts_us += 20000;
		pa_rtp_packet(a, &p, data + cut, size - cut);
		pa_rtcp_packet(a, &p, data + cut, size - cut);
	}
	a->last_us = p.ts_us;
	il_pcap_finish(a);
	json_t *stats = il_pcap_report_json(a);
	FUZZ_CHECK(stats != NULL);
	json_decref(stats);
	il_pcap_analysis_free(a);
	return 0;
}
