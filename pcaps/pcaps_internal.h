/* Internal state of the capture analyser, shared by the files of pcaps/.
 * Every table holds per-flow state; evidence is kept as frame numbers in
 * bounded arrays (EVIDENCE_MAX). */
#ifndef ICELAB_PCAPS_INTERNAL_H
#define ICELAB_PCAPS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"
#include "icelab/channeldata.h"
#include "icelab/stun.h"
#include "pcaps.h"
#include <jansson.h>

#define EVIDENCE_MAX 8
#define US_PER_S 1000000ull

/* ---- table.c: open-addressing hash table of entries owned by the table.
 * Each entry starts with its key (key_len bytes, compared with memcmp:
 * build keys with pa_key_* so padding is always zero). */
typedef struct pa_table {
	void **slots;
	uint32_t *tags;  /* per slot: the upper half of its key's hash */
	size_t cap;     /* a power of two, or 0 */
	size_t count;
	size_t key_len;
} pa_table;

void pa_table_init(pa_table *t, size_t key_len);
void *pa_table_find(const pa_table *t, const void *key);
/* Finds the entry with this key, or adds a zeroed one of entry_size bytes
 * with the key copied in; *created tells which. NULL when out of memory. */
void *pa_table_get(pa_table *t, const void *key, size_t entry_size, bool *created);
/* Removes (and frees) the entry with this key, if any. */
void pa_table_remove(pa_table *t, const void *key);
void pa_table_free(pa_table *t);
/* Iteration: for (size_t i = 0; i < t->cap; i++) if (t->slots[i]) ... */

/* A 5-tuple in key form: address bytes packed without padding. */
typedef struct pa_tuple_key {
	uint8_t transport; /* 17 UDP, 6 TCP */
	uint8_t relayed;   /* 1: unwrapped from TURN */
	uint8_t src[19];   /* family, port (2), ip (16) */
	uint8_t dst[19];
} pa_tuple_key;

void pa_key_addr(uint8_t out[19], const il_addr *a);
void pa_key_tuple(pa_tuple_key *k, uint8_t transport, bool relayed, const il_addr *src,
		  const il_addr *dst);

/* Frame numbers, at most EVIDENCE_MAX, no duplicates, in arrival order. */
typedef struct pa_evidence {
	uint64_t frames[EVIDENCE_MAX];
	uint8_t count;
} pa_evidence;
void pa_evidence_add(pa_evidence *e, uint64_t frame);

/* What a dissector knows about the packet in hand. */
typedef struct pa_pkt {
	uint64_t frame;
	uint64_t ts_us;
	uint8_t transport;  /* 17 or 6 */
	bool relayed;       /* unwrapped from TURN Send/Data or ChannelData */
	int depth;          /* TURN nesting depth (bounded) */
	il_addr src, dst;
} pa_pkt;

/* ---- classify.c: per-direction flows and DTLS. */
enum { KIND_STUN, KIND_CHANNELDATA, KIND_DTLS, KIND_RTP, KIND_RTCP, KIND_ZRTP, KIND_SIP, KIND_OTHER,
       KIND__COUNT };

typedef struct pa_flow {
	pa_tuple_key key;
	/* Per-packet lookups remembered, beside the key (one cache line):
	 * the last RTP stream of this flow, and the call_addrs entries of
	 * its source and destination (entries never move or go away; a
	 * missing one is looked for again when call_addrs_gen changed). */
	struct pa_rtp_stream *rtp_last;
	uint64_t call_gen;
	struct pa_call_addr *call_src, *call_dst;
	uint64_t rtp_first_frame, rtp_last_frame, rtp_first_us, rtp_last_us, rtp_packets;
	uint64_t first_frame, last_frame, first_us, last_us;
	il_addr src, dst;
	uint8_t transport;
	bool relayed;
	uint64_t packets[KIND__COUNT];
	/* DTLS (RFC 6347 record layer, RFC 9147 unified header) */
	uint32_t dtls_client_hello, dtls_server_hello, dtls_hello_verify, dtls_ccs,
		dtls_appdata, dtls_ciphertext;
	uint64_t dtls_first_frame, dtls_last_frame, dtls_first_us, dtls_last_us;
	uint64_t ch_first_frame, sh_first_frame;
	bool in_call;                /* RTP of it was matched to a SIP call's SDP */
	/* ICMP errors (RFC 792 type 3, RFC 4443 type 1) quoting this flow */
	uint64_t icmp_unreachable, icmp_first_frame, icmp_last_frame, icmp_first_us;
	uint8_t icmp_code, icmp_v6;
	il_addr icmp_from;           /* who sent the error */
} pa_flow;

void pa_classify_datagram(il_pcap_analysis *a, const pa_pkt *pkt, const uint8_t *buf,
			  size_t len);
pa_flow *pa_flow_get(il_pcap_analysis *a, const pa_pkt *pkt);
pa_flow *pa_flow_find(const il_pcap_analysis *a, uint8_t transport, bool relayed,
		      const il_addr *src, const il_addr *dst);

/* ---- tls.c: TLS records over TCP, per direction. */
typedef struct pa_tls_state {
	uint8_t hdr[5], hdr_len;     /* a record header split across segments */
	uint8_t type;                /* of the record being skipped */
	bool body_start, broken;
	size_t need;                 /* body bytes still to skip */
} pa_tls_state;

typedef struct pa_tls_flow {
	pa_tuple_key key;
	il_addr src, dst;
	bool sip;                    /* port 5061 (RFC 3261 §26.2) */
	bool broken;                 /* lost record sync */
	uint64_t records, handshake, ccs, alerts, appdata, other;
	uint64_t first_frame, first_us, last_frame, client_hello_frame;
} pa_tls_flow;

/* Whether bytes start a TLS record header (type 20..24, version 3.x,
 * length 1..2^14+2048). */
bool pa_tls_detect(const uint8_t *p, size_t len);
/* Stream bytes of a direction detected as TLS. */
void pa_tls_stream(il_pcap_analysis *a, const pa_pkt *pkt, pa_tls_state *st, const uint8_t *p,
		   size_t len);
void pa_tls_diagnose(il_pcap_analysis *a);
json_t *pa_tls_json(const il_pcap_analysis *a);

/* ---- tcp_reassembly.c */
void pa_tcp_segment(il_pcap_analysis *a, const pa_pkt *pkt, uint32_t seq, uint8_t flags,
		    const uint8_t *payload, size_t len);
void pa_tcp_free(il_pcap_analysis *a);

/* ---- records.c: classic pcap records parsed in blocks when libpcap would
 * pass them through unchanged. *done false: nothing read, or stopped at a
 * record libpcap must read (the FILE is back at its start); true: the
 * file is read (returns 0) or could not be put back (-1, read_error). */
int pa_records_read(il_pcap_analysis *a, pcap_t *p, bool *done, char *errbuf, size_t errlen);
/* The file (not yet read through fp) starts with the magic records.c
 * reads: its blocks then go from the file to its buffer directly, and a
 * large stdio buffer would only add a copy. */
bool pa_records_plain_file(FILE *fp);

/* ---- reader.c: IP fragment reassembly state */
typedef struct pa_frag pa_frag;
#define FRAG_MAX_SETS 64
#define FRAG_TIMEOUT_US (30 * US_PER_S)

/* ---- rtp_stats.c: RFC 3550 per SSRC and direction. */
#define ACTIVE_SECONDS 4096          /* the HTML timeline's resolution and reach */
typedef struct pa_rtp_stream {
	struct {
		pa_tuple_key tuple;
		uint32_t ssrc;
	} key;
	il_addr src, dst;
	uint8_t transport;
	bool relayed;
	uint8_t payload_type;
	bool pt_changed;
	uint64_t packets, bytes;           /* bytes: RTP payload */
	uint64_t duplicates, reordered;
	/* RFC 3550 A.1 */
	uint16_t max_seq;
	uint32_t cycles, base_seq;
	uint32_t window[4];                /* last 128 sequence numbers seen */
	/* RFC 3550 A.8 */
	uint32_t clock_rate;               /* 0: unknown (dynamic payload type) */
	bool have_transit;
	int64_t transit;
	double jitter, jitter_max, jitter_sum; /* in timestamp units */
	uint64_t jitter_n;
	uint64_t first_frame, last_frame, first_us, last_us;
	uint8_t active[ACTIVE_SECONDS / 8]; /* seconds from the capture start with packets */
	struct pa_srtp_ctx *srtp;          /* srtp.c: when a key is known */
	uint64_t srtp_gen;                 /* keys known when last looked for one, plus 1 */
} pa_rtp_stream;

void pa_rtp_packet(il_pcap_analysis *a, const pa_pkt *pkt, const uint8_t *buf, size_t len);
/* The same with the packet's flow (or NULL), whose last stream is tried
 * before the table. */
pa_rtp_stream *pa_rtp_packet_flow(il_pcap_analysis *a, const pa_pkt *pkt, pa_flow *f,
				  const uint8_t *buf, size_t len);

/* ---- srtp.c: SRTP authentication with keys from SDES or --srtp-key. */
enum { PA_SRTP_NONE = 0, PA_SRTP_AES_CM_128_HMAC_SHA1_80, PA_SRTP_AES_CM_128_HMAC_SHA1_32,
       PA_SRTP_AES_256_CM_HMAC_SHA1_80, PA_SRTP_AES_256_CM_HMAC_SHA1_32, PA_SRTP_SUITE_COUNT };
typedef struct pa_srtp_key {
	uint8_t suite, len;          /* len 0: none */
	uint8_t key[46];             /* master key || master salt */
} pa_srtp_key;
enum { PA_SRTP_BY_SSRC = 1, PA_SRTP_BY_SOURCE, PA_SRTP_BY_FLOW };
typedef struct pa_srtp_opt {
	int kind;
	uint32_t ssrc;
	il_addr src, dst;
	pa_srtp_key key;
} pa_srtp_opt;
typedef struct pa_srtp_ctx pa_srtp_ctx;
/* RFC 4648 base64 (padding optional); the length, or -1. */
long pa_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap);
/* The value of an a=crypto attribute (after "a=crypto:"); 0, or -1 when
 * malformed, an unsupported suite, or with an MKI. */
int pa_srtp_parse_crypto(const char *v, size_t len, pa_srtp_key *out);
int pa_srtp_suite(const char *name, size_t len);
void pa_srtp_packet(il_pcap_analysis *a, const pa_pkt *pkt, const pa_flow *f, pa_rtp_stream *s,
		    const uint8_t *buf, size_t len);
void pa_srtp_diagnose(il_pcap_analysis *a);
json_t *pa_srtp_stream_json(const pa_rtp_stream *s);
void pa_srtp_free(il_pcap_analysis *a);
/* RTP header length (fixed, CSRC, extension) and payload length without
 * padding; -1 when the header or padding overruns len (RFC 3550 §5.1). */
int pa_rtp_parse(const uint8_t *p, size_t len, size_t *hdr, size_t *payload);

/* ---- rtcp.c: what each side says it received (RFC 3550 §6.4 SR/RR
 * report blocks), BYE (§6.6), per reporter and reported SSRC. */
typedef struct pa_rtcp_report {
	struct {
		uint32_t reporter, source;
	} key;
	il_addr from, to;            /* the RTCP packet's 5-tuple */
	bool relayed;
	uint64_t reports, first_frame, last_frame, last_us;
	uint8_t fraction_lost;       /* last report, in 1/256 */
	int32_t cumulative_lost;     /* 24-bit signed */
	uint32_t highest_seq, jitter;
	uint8_t max_fraction_lost;
} pa_rtcp_report;

/* One UDP payload classified as RTCP (compound). Returns the number of
 * RTCP packets read, -1 when the first header is not RTCP. */
int pa_rtcp_packet(il_pcap_analysis *a, const pa_pkt *pkt, const uint8_t *buf, size_t len);
/* Expected = highest extended sequence - base + 1; lost = expected - received. */
int64_t pa_rtp_expected(const pa_rtp_stream *s);
int64_t pa_rtp_lost(const pa_rtp_stream *s);
uint32_t pa_rtp_clock_rate(uint8_t pt);

/* ---- stun_model.c: transactions, ICE pairs, TURN allocations. */
#define TURN_MAX_PEERS 64
#define TURN_MAX_CHANNELS 64
#define TURN_MAX_ERRORS 12
#define TRANSACTION_TIMEOUT_US (40 * US_PER_S)  /* RFC 8489 Ti = 39.5 s */
#define NO_RESPONSE_GRACE_US (3 * US_PER_S)

typedef struct pa_ice_pair {
	pa_tuple_key key;            /* of the requests: local -> remote */
	il_addr local, remote;
	uint8_t transport;
	bool relayed;
	char username[64];           /* "RFRAG:LFRAG", truncated */
	int role;                    /* 0 unknown, 1 controlling, 2 controlled */
	uint64_t requests, retransmits, successes, errors, no_response;
	int last_error;
	uint64_t error_counts[4];    /* 401, 487, other 4xx/5xx, 400 */
	bool nominated;
	uint64_t nominated_frame, nominated_us;
	uint64_t first_success_us;
	double rtt_min_ms, rtt_max_ms, rtt_sum_ms;
	uint64_t rtt_n;
	uint64_t first_frame, first_us;
	uint64_t last_success_frame, last_success_us;
	uint64_t unanswered_after_success;
	uint64_t first_unanswered_after_success_frame, last_unanswered_frame;
	uint64_t last_request_us;
	pa_evidence evidence;        /* first request, error responses */
} pa_ice_pair;

enum { PERM_NONE = 0, PERM_PENDING, PERM_GRANTED, PERM_REFUSED };

typedef struct pa_turn_peer {
	il_addr peer;                /* port kept for reports; permissions match the IP */
	int state;
	uint64_t request_frame, response_frame, granted_us;
	bool via_channel;
	uint64_t to_peer, from_peer;  /* Send + ChannelData, Data + ChannelData */
	uint64_t to_peer_first_frame, from_peer_first_frame;
	uint64_t unpermitted_sends;   /* sent while no permission was granted */
	pa_evidence unpermitted;
	uint64_t pending_sends;       /* sent while the request was unanswered */
	pa_evidence pending;
	bool ever_granted;
	pa_evidence grant;            /* request and success response frames */
} pa_turn_peer;

typedef struct pa_turn_channel {
	uint16_t number;
	il_addr peer;
	int state;                   /* PERM_* */
	uint64_t frame;
} pa_turn_channel;

typedef struct pa_turn_error {
	uint16_t method;
	int code;
	uint64_t count;
	bool retried_ok;             /* a later request of the method succeeded */
	pa_evidence evidence;
	bool with_integrity;         /* 401 to a request carrying credentials */
} pa_turn_error;

typedef struct pa_turn_alloc {
	pa_tuple_key key;            /* client -> server */
	il_addr client, server, relayed, mapped;
	uint8_t transport;
	bool have_relayed, created_seen, deleted;
	uint32_t lifetime;
	uint64_t first_frame, alloc_frame, last_frame;
	uint64_t send_ind, data_ind, cd_to_server, cd_from_server, cd_unknown_channel;
	pa_evidence unbound;         /* ChannelData on a channel never bound */
	pa_turn_peer peers[TURN_MAX_PEERS];
	size_t peer_count;
	pa_turn_channel channels[TURN_MAX_CHANNELS];
	size_t channel_count;
	pa_turn_error errors[TURN_MAX_ERRORS];
	size_t error_count;
	uint64_t last_ok_frame[16];  /* per method: last success response */
} pa_turn_alloc;

void pa_stun_message(il_pcap_analysis *a, const pa_pkt *pkt, const il_stun_msg *msg);
void pa_turn_channeldata(il_pcap_analysis *a, const pa_pkt *pkt, const il_channeldata *cd);
void pa_stun_expire(il_pcap_analysis *a, uint64_t now_us, bool at_end);

/* ---- sip.c: SIP (RFC 3261) on any port, over UDP, TCP and WebSocket
 * (RFC 7118); calls by Call-ID with offer/answer (RFC 3264) from the SDP
 * bodies (ref/sdp). */
#define CALL_ID_MAX 128
#define CALL_MAX_MEDIA 4
#define CALL_MAX_SDP 16
#define CALL_MAX_ADDRS 8             /* per side and media: c=/m= and candidates */
#define CALL_MAX_PEERS 4             /* observed sources and destinations */
#define CALL_MAX_EVENTS 96           /* SIP messages kept for the ladder */

enum { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

typedef struct pa_sdp_media_info {
	char media[16];
	il_addr addr;                /* c= (media, else session) and m= port */
	bool have_addr;
	uint8_t direction;
	bool ice, ice_public;        /* candidates; one of them public */
} pa_sdp_media_info;

typedef struct pa_sdp_rec {
	uint64_t frame, us;
	uint8_t side;                /* 0 caller, 1 callee */
	bool offer;
	il_addr sig_src, sig_dst;    /* the SIP message that carried it */
	il_addr origin;              /* o= address (port 0); family 0 when not an IP */
	il_addr session_conn;        /* session-level c=; family 0 when absent */
	pa_sdp_media_info media[CALL_MAX_MEDIA];
	uint8_t media_count;
} pa_sdp_rec;

typedef struct pa_peer_obs {
	il_addr addr;
	uint64_t packets, first_frame, last_frame;
} pa_peer_obs;

typedef struct pa_call_side {
	il_addr adv[CALL_MAX_ADDRS]; /* every address this side advertised */
	uint8_t adv_count;
	bool adv_private;            /* its latest c= is private */
	uint8_t direction;           /* from its latest SDP */
	uint64_t direction_frame, direction_us;
	pa_peer_obs sources[CALL_MAX_PEERS]; /* of RTP sent to its addresses */
	uint8_t source_count;
	pa_peer_obs dests[CALL_MAX_PEERS];   /* of RTP sent from its addresses */
	uint8_t dest_count;
	/* RTP towards this side */
	uint64_t rx, rx_first_frame, rx_last_frame, rx_first_us, rx_last_us;
	/* direction violations: this side's SDP forbids what was seen */
	uint64_t dir_violations;
	uint8_t violated_direction;
	uint64_t violated_sdp_frame;
	bool violation_by_self;      /* it sent while recvonly/inactive */
	pa_evidence dir_evidence;
	pa_srtp_key crypto;          /* its latest SDES key (RFC 4568), len 0 when none */
	uint64_t crypto_frame;
	uint8_t cand_types;          /* ICE candidate types it offered: 1 << il_ice_candidate_type */
	uint8_t cand_tcp;            /* of them over TCP (RFC 6544) */
	char ufrag[24];              /* its latest ice-ufrag, truncated */
} pa_call_side;

typedef struct pa_call_event {
	uint64_t frame, us;
	il_addr src, dst;
	char label[44];
	bool sdp;
} pa_call_event;

typedef struct pa_call {
	char call_id[CALL_ID_MAX];   /* the key, NUL-padded */
	size_t index;                /* order of first sight */
	uint64_t first_frame, first_us, last_frame, last_us;
	char caller_tag[64];
	il_addr caller_sig, callee_sig;
	uint32_t invite_cseq, last_invite_cseq;
	uint64_t invite_frame, invites, reinvites, messages;
	int final_code;              /* to the initial INVITE; 0 none */
	uint64_t final_frame, final_us;
	uint64_t bye_frame, bye_us, bye_ok_frame, cancel_frame;
	uint8_t bye_side;
	/* offer/answer (RFC 3264 §4): the offer waiting for its answer */
	bool offer_pending;
	uint32_t offer_cseq;
	uint8_t offer_side;
	uint64_t last_sdp_hash[2];   /* per side: a repeated body is not a new SDP */
	pa_sdp_rec sdps[CALL_MAX_SDP];
	size_t sdp_count, sdp_dropped, sdp_unparsed;
	uint8_t media_count;
	pa_call_side sides[CALL_MAX_MEDIA][2];
	/* RTP from side s (index) of media m */
	uint64_t dir_packets[CALL_MAX_MEDIA][2], dir_first_frame[CALL_MAX_MEDIA][2],
		dir_last_frame[CALL_MAX_MEDIA][2], dir_first_us[CALL_MAX_MEDIA][2],
		dir_last_us[CALL_MAX_MEDIA][2];
	/* RTP after the BYE, or after a final failure */
	uint64_t after_end, after_end_first_us;
	pa_evidence after_end_evidence;
	pa_call_event events[CALL_MAX_EVENTS];
	size_t event_count, events_dropped;
} pa_call;

/* call_addrs: an advertised media address and who advertised it (the
 * latest SDP that named it wins). */
typedef struct pa_call_addr {
	uint8_t key[19];
	pa_call *call;
	uint8_t media, side;
} pa_call_addr;

/* Whether a UDP payload or stream bytes start a SIP message. */
bool pa_sip_detect(const uint8_t *p, size_t len);
/* One whole SIP message (a datagram, a TCP-framed message, a WebSocket
 * message). Returns 0, -1 when it is not SIP, 1 when it belongs to
 * another call than the one analyze --call keeps (skipped). */
int pa_sip_message(il_pcap_analysis *a, const pa_pkt *pkt, const uint8_t *buf, size_t len);
/* Length of the first complete SIP message in a byte stream (headers and
 * Content-Length body), 0 when more bytes are needed, -1 when it cannot
 * be framed (no Content-Length, or larger than max). */
long pa_sip_frame_length(const uint8_t *p, size_t len, size_t max);
/* An RTP packet: matched against the calls' advertised addresses. */
void pa_call_media_packet(il_pcap_analysis *a, const pa_pkt *pkt, pa_flow *f);
void pa_calls_diagnose(il_pcap_analysis *a);
json_t *pa_calls_json(const il_pcap_analysis *a);
void pa_calls_free(il_pcap_analysis *a);
/* The calls in order of first sight (caller frees the array). */
pa_call **pa_calls_sorted(const il_pcap_analysis *a, size_t *n);
const char *pa_sdp_direction_name(uint8_t d);

/* ---- events.c: a bounded log of STUN/TURN/DTLS signalling for the HTML
 * ladder (constant memory: the first EVENT_LOG_MAX events). */
#define EVENT_LOG_MAX 4000
typedef struct pa_event {
	uint64_t frame, us;
	il_addr src, dst;
	bool relayed;
	char label[40];
} pa_event;
void pa_event_log(il_pcap_analysis *a, const pa_pkt *pkt, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- icmp.c: ICMP/ICMPv6 errors matched to the flow they quote. */
void pa_icmp_packet(il_pcap_analysis *a, const pa_pkt *pkt, bool v6, const uint8_t *p,
		    size_t len);

/* ---- diagnose.c */
typedef struct pa_finding {
	const char *code;
	enum il_pcap_severity severity;
	char message[512];
	pa_evidence evidence;
	uint64_t first_us;           /* when it started, or 0 */
} pa_finding;

void pa_diagnose(il_pcap_analysis *a);
pa_finding *pa_finding_add(il_pcap_analysis *a, const char *code, enum il_pcap_severity sev,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- scope.c: whether a UDP/TCP packet belongs to the --call scope. */
bool pa_scope_pass(const il_pcap_analysis *a, const pa_pkt *pkt);

/* ---- the analysis */
struct il_pcap_analysis {
	uint64_t frames, bytes;
	uint64_t first_us, last_us;
	int dlt;
	char read_error[160];
	/* link and network layer */
	uint64_t ipv4, ipv6, udp, tcp, icmp, other_link, other_ip, truncated, malformed_ip;
	uint64_t fragments, reassembled, fragments_dropped;
	pa_frag *frags;              /* FRAG_MAX_SETS slots, lazily allocated */
	/* TCP */
	pa_table tcp_flows;
	uint64_t tcp_gaps, tcp_retransmitted, tcp_stun_frames, tls_streams, tcp_broken;
	pa_table tls_flows;          /* pa_tls_flow per direction */
	/* datagram kinds */
	uint64_t kinds[KIND__COUNT];          /* on the wire */
	uint64_t relayed_kinds[KIND__COUNT];  /* inside TURN */
	uint64_t stun_malformed, channeldata_malformed;
	uint64_t stun_counts[16][4];          /* method 0..15 x class, on the wire */
	uint64_t stun_other_method;
	uint64_t relayed_stun_counts[16][4];
	pa_table flows;
	pa_table rtp_streams;
	/* STUN model */
	pa_table transactions;
	uint64_t unmatched_responses, pending_at_end, stun_retransmits;
	uint64_t next_expire_us;
	pa_table ice_pairs;
	pa_table allocations;
	/* SIP */
	pa_table calls;              /* by Call-ID */
	pa_table call_addrs;         /* advertised media address -> call, media, side */
	uint64_t call_addrs_gen;     /* bumped whenever call_addrs changes (flow caches) */
	uint64_t sip_messages, sip_requests, sip_responses, sip_malformed, sip_sdp,
		sip_sdp_unparsed, sip_tcp_messages, sip_ws_messages;
	void *sdp_scratch;           /* one il_sdp_session, allocated on first use */
	/* RTCP */
	pa_table rtcp_reports;
	uint64_t rtcp_packets, rtcp_sr, rtcp_rr, rtcp_bye, rtcp_sdes, rtcp_app, rtcp_xr,
		rtcp_other, rtcp_malformed;
	/* ICMP */
	uint64_t icmp_errors, icmp_unmatched;
	/* the ladder's event log */
	pa_event *events;
	size_t event_count, events_dropped;
	/* findings */
	pa_finding *findings;
	size_t finding_count, finding_cap;
	bool finished;
	/* scope.c: --call */
	pa_table scope;              /* addresses (pa_key_addr) whose packets are read */
	char scope_call_id[CALL_ID_MAX]; /* "" when not restricted */
	/* srtp.c */
	pa_srtp_opt srtp_opts[16];
	size_t srtp_opt_count;
	uint64_t srtp_keys_gen;      /* bumped when a key becomes known */
	bool srtp_initialised;
	/* il_pcap_set_stun_hook */
	il_pcap_stun_hook stun_hook;
	void *stun_hook_ctx;
};

/* Helpers */
static inline uint16_t pa_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t pa_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
/* "a.b.c.d:port" into a static-free caller buffer of IL_ADDR_STRLEN. */
const char *pa_addr_str(const il_addr *a, char *buf);
/* Seconds from the capture start, for messages. */
double pa_rel_s(const il_pcap_analysis *a, uint64_t us);

#endif
