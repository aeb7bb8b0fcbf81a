/* Fuzz target pcaps_sip_sdp: the SIP parser and its SDP bodies (pcaps/sip.c
 * over ref/sdp), the stream framing of SIP over TCP (Content-Length), the
 * call model (offer/answer, final responses, BYE) and, through RTP that
 * follows, the matching of media to the advertised addresses and the
 * call diagnoses. The input is one SIP message, sent as a request-side
 * datagram, then framed as a stream; the same bytes again from the other
 * side (a second message of the same call when the Call-ID parses); then
 * RTP to and from the addresses the fuzzer's SDP may have named
 * (192.0.2.1:4000, 198.51.100.2:5000). Invariants: no crash, no leak, no
 * out-of-bounds read, a frame length within the input, findings with
 * frames within the frames fed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_check.h"
#include "pcaps_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pa_pkt packet(il_pcap_analysis *a, const char *src, const char *dst)
{
	pa_pkt p;
	memset(&p, 0, sizeof p);
	p.frame = ++a->frames;
	p.ts_us = 1000000ull * a->frames;
	if (a->frames == 1)
		a->first_us = p.ts_us;
	a->last_us = p.ts_us;
	p.transport = 17;
	il_addr_parse(src, &p.src);
	il_addr_parse(dst, &p.dst);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	il_pcap_analysis *a = il_pcap_analysis_new();
	FUZZ_CHECK(a != NULL);
	pa_pkt p = packet(a, "192.0.2.1:5060", "198.51.100.2:5060");
	pa_classify_datagram(a, &p, data, size);
	long n = pa_sip_frame_length(data, size, 65536);
	FUZZ_CHECK(n <= (long)size);
	p = packet(a, "198.51.100.2:5060", "192.0.2.1:5060");
	pa_sip_message(a, &p, data, size);
	uint8_t rtp[172];
	memset(rtp, 0xd5, sizeof rtp);
	rtp[0] = 0x80;
	rtp[1] = 8;
	for (int i = 0; i < 12; i++) {
		rtp[3] = (uint8_t)i;
		p = packet(a, i % 2 ? "198.51.100.2:5000" : "192.0.2.1:4000",
			   i % 2 ? "192.0.2.1:4000" : "198.51.100.2:5000");
		pa_classify_datagram(a, &p, rtp, sizeof rtp);
	}
	il_pcap_finish(a);
	json_t *report = il_pcap_report_json(a);
	FUZZ_CHECK(report != NULL);
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(report, "findings"), i, f) {
		size_t k;
		json_t *fr;
		json_array_foreach(json_object_get(f, "frames"), k, fr) {
			json_int_t v = json_integer_value(fr);
			FUZZ_CHECK(v >= 1 && (uint64_t)v <= a->frames);
		}
	}
	char *text = json_dumps(report, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	free(text);
	json_decref(report);
	FILE *html = fopen("/dev/null", "w");
	if (html) {
		il_pcap_report_html(a, html, "fuzz");
		fclose(html);
	}
	il_pcap_analysis_free(a);
	return 0;
}
