/* icelab pcap: read a capture (libpcap, pcap and pcapng), dissect STUN,
 * TURN, ChannelData, DTLS, RTP and RTCP (RFC 7983 demultiplexing), model
 * ICE checks, TURN allocations and RTP streams, and diagnose what went
 * wrong, with the frame numbers that prove it. Issue #7, pcaps/README.md.
 *
 * Streaming: the analysis keeps per-flow state only (flows, streams,
 * candidate pairs, allocations, pending transactions, bounded evidence
 * lists of frame numbers); no packet is retained once processed. */
#ifndef ICELAB_PCAPS_H
#define ICELAB_PCAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "icelab/addr.h"

typedef struct il_pcap_analysis il_pcap_analysis;

enum il_pcap_severity {
	IL_PCAP_INFO = 0,
	IL_PCAP_WARNING = 1,
	IL_PCAP_ERROR = 2,
};

il_pcap_analysis *il_pcap_analysis_new(void);
void il_pcap_analysis_free(il_pcap_analysis *a);

/* Reads every packet of an open capture. Returns 0, or -1 when the file
 * is damaged part-way (what was read before stays analysed; errbuf says
 * what happened). */
int il_pcap_read(il_pcap_analysis *a, pcap_t *p, char *errbuf, size_t errlen);
/* Opens path (pcap or pcapng) and reads it; -1 with errbuf filled when
 * the file cannot be opened or is not a capture. */
int il_pcap_read_file(il_pcap_analysis *a, const char *path, char *errbuf, size_t errlen);

/* One frame of a given DLT_* link type (pcap_datalink()), as the reader
 * feeds it; exposed for tests. Frame numbers count from 1. */
void il_pcap_feed_frame(il_pcap_analysis *a, int dlt, uint64_t ts_us, const uint8_t *data,
			size_t caplen);

/* End of capture: times out pending transactions and runs the diagnosis.
 * Call once, after the last frame. */
void il_pcap_finish(il_pcap_analysis *a);

/* Frames read so far. */
uint64_t il_pcap_frame_count(const il_pcap_analysis *a);

/* Findings, ranked (most severe first, then by first evidence frame). */
size_t il_pcap_finding_count(const il_pcap_analysis *a, enum il_pcap_severity at_least);

/* JSON (pcaps/README.md documents the shape); caller owns the result.
 * stats: counts and RTP streams; report: everything with findings. */
json_t *il_pcap_stats_json(const il_pcap_analysis *a);
json_t *il_pcap_report_json(const il_pcap_analysis *a);
/* The same for people. */
void il_pcap_stats_print(const il_pcap_analysis *a, FILE *out);
void il_pcap_report_print(const il_pcap_analysis *a, FILE *out);

/* One self-contained HTML page (findings linked to frames, SVG ladders
 * per SIP call and for ICE/TURN, the RTP timeline); 0, or -1 on a write
 * error. The caller writes it to a temporary file and renames it. */
int il_pcap_report_html(const il_pcap_analysis *a, FILE *out, const char *title);

const char *il_pcap_severity_name(enum il_pcap_severity s);

/* An SRTP key for streams whose SDP has none (before reading): spec is
 * SELECTOR:BASE64, the selector an SSRC ("0x1234abcd" or decimal), a
 * source "IP:PORT" (every stream from it) or "SRC>DST"; the key base64 of
 * key||salt, 30 bytes (AES_CM_128_HMAC_SHA1_80) or 46 (AES_256_CM_HMAC_SHA1_80).
 * 0, or -1 with err. */
/* Restricts a (fresh, before reading) to one SIP call of full (an
 * analysis of the same capture): only packets from or to the call's
 * addresses, and SIP messages of that Call-ID, are analysed. 0, or -1
 * with err when full has no such call. */
int il_pcap_scope_to_call(il_pcap_analysis *a, const il_pcap_analysis *full, const char *call_id,
			  char *err, size_t errlen);
/* The Call-ID a is restricted to, or NULL. */
const char *il_pcap_scope_call(const il_pcap_analysis *a);

int il_pcap_add_srtp_key(il_pcap_analysis *a, const char *spec, char *err, size_t errlen);

/* Called for every well-formed STUN message seen on the wire (UDP, or
 * framed out of TCP; not the messages unwrapped from TURN), in capture
 * order, before the model sees it: the replayer (replay.h) collects the
 * exchanges with it. transport is 17 or 6; msg is valid during the call. */
typedef void (*il_pcap_stun_hook)(void *ctx, uint64_t frame, uint8_t transport,
				  const il_addr *src, const il_addr *dst, const uint8_t *msg,
				  size_t len);
void il_pcap_set_stun_hook(il_pcap_analysis *a, il_pcap_stun_hook fn, void *ctx);

#endif
