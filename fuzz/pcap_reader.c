/* Fuzz target pcap_reader: the capture analyser (pcaps/) on a whole file.
 * The input is read as a pcap or pcapng file through fmemopen and
 * pcap_fopen_offline, so libpcap's own file parser runs first; every
 * packet then goes through the link layers, IPv4/IPv6 fragment
 * reassembly, TCP stream reassembly, RFC 7983 demultiplexing, the STUN,
 * TURN, RTP and DTLS models and the diagnosis, and both JSON reports are
 * built. Invariants: no crash, no leak, findings ranked, evidence frame
 * numbers within the frames read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "fuzz_check.h"
#include "pcaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_fopen_offline(f, err); /* owns f from here */
	if (!p) {
		fclose(f);
		return 0;
	}
	il_pcap_analysis *a = il_pcap_analysis_new();
	FUZZ_CHECK(a != NULL);
	il_pcap_read(a, p, NULL, 0);
	pcap_close(p);
	il_pcap_finish(a);
	uint64_t frames = il_pcap_frame_count(a);
	json_t *report = il_pcap_report_json(a);
	FUZZ_CHECK(report != NULL);
	json_t *findings = json_object_get(report, "findings");
	size_t i;
	json_t *fnd;
	int last_sev = 3;
	json_array_foreach(findings, i, fnd) {
		const char *sev = json_string_value(json_object_get(fnd, "severity"));
		int s = sev[0] == 'e' ? 2 : sev[0] == 'w' ? 1 : 0;
		FUZZ_CHECK(s <= last_sev);
		last_sev = s;
		size_t k;
		json_t *fr;
		json_array_foreach(json_object_get(fnd, "frames"), k, fr) {
			json_int_t n = json_integer_value(fr);
			FUZZ_CHECK(n >= 1 && (uint64_t)n <= frames);
		}
	}
	char *text = json_dumps(report, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	free(text);
	json_decref(report);
	json_t *stats = il_pcap_stats_json(a);
	FUZZ_CHECK(stats != NULL);
	json_decref(stats);
	il_pcap_analysis_free(a);
	return 0;
}
