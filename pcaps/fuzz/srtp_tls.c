/* Fuzz target pcaps_srtp_tls: the parsers added for SRTP and TLS.
 *   - the input as an a=crypto value (RFC 4568 §9.1), as base64, and as a
 *     --srtp-key selector:key (NUL-terminated copy);
 *   - the input as a TCP stream detected as TLS, cut at data[0] into two
 *     segments (records spanning segments, headers split anywhere);
 *   - the input as an RTP datagram of a stream with a key (libsrtp2
 *     unprotect on a copy: short packets, bad tags, replays).
 * Invariants: no crash, no out-of-bounds read; an accepted key has its
 * suite's length; decoded base64 fits its buffer; records counted are at
 * most one per 5 bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "pcaps_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pa_srtp_key k;
	if (pa_srtp_parse_crypto((const char *)data, size, &k) == 0)
		FUZZ_CHECK((k.len == 30 || k.len == 46) && k.suite > PA_SRTP_NONE &&
			   k.suite < PA_SRTP_SUITE_COUNT);
	uint8_t out[64];
	long n = pa_base64_decode((const char *)data, size, out, sizeof out);
	FUZZ_CHECK(n >= -1 && n <= (long)sizeof out);

	il_pcap_analysis *a = il_pcap_analysis_new();
	FUZZ_CHECK(a != NULL);
	char *spec = malloc(size + 1);
	FUZZ_CHECK(spec != NULL);
	memcpy(spec, data, size);
	spec[size] = '\0';
	char err[256];
	il_pcap_add_srtp_key(a, spec, err, sizeof err);
	free(spec);
	/* a key for every stream from 192.0.2.1:4000 */
	FUZZ_CHECK(il_pcap_add_srtp_key(a, "192.0.2.1:4000:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",
					err, sizeof err) == 0);
	pa_pkt p;
	memset(&p, 0, sizeof p);
	p.frame = 1;
	p.ts_us = 1000000;
	p.transport = 6;
	il_addr_parse("192.0.2.1:4000", &p.src);
	il_addr_parse("198.51.100.2:5061", &p.dst);
	a->first_us = p.ts_us;
	pa_tls_state st;
	memset(&st, 0, sizeof st);
	if (pa_tls_detect(data, size) || (size && data[0] % 2)) {
		size_t cut = size ? data[0] % (size + 1) : 0;
		pa_tls_stream(a, &p, &st, data, cut);
		p.frame = 2;
		pa_tls_stream(a, &p, &st, data + cut, size - cut);
	}
	for (size_t i = 0; i < a->tls_flows.cap; i++) {
		const pa_tls_flow *t = a->tls_flows.slots[i];
		if (t)
			FUZZ_CHECK(t->records <= size / 5 + 1);
	}
	p.transport = 17;
	p.frame = 3;
	pa_classify_datagram(a, &p, data, size);
	p.frame = 4;
	pa_classify_datagram(a, &p, data, size); /* a replay when the first passed */
	a->frames = 4;
	a->last_us = p.ts_us;
	il_pcap_finish(a);
	json_t *r = il_pcap_report_json(a);
	FUZZ_CHECK(r != NULL);
	json_decref(r);
	il_pcap_analysis_free(a);
	return 0;
}
