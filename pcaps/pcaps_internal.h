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

#define EVIDENCE_MAX 8
#define US_PER_S 1000000ull

/* ---- table.c: open-addressing hash table of entries owned by the table.
 * Each entry starts with its key (key_len bytes, compared with memcmp:
 * build keys with pa_key_* so padding is always zero). */
typedef struct pa_table {
	void **slots;
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
enum { KIND_STUN, KIND_CHANNELDATA, KIND_DTLS, KIND_RTP, KIND_RTCP, KIND_ZRTP, KIND_OTHER,
       KIND__COUNT };

typedef struct pa_flow {
	pa_tuple_key key;
	il_addr src, dst;
	uint8_t transport;
	bool relayed;
	uint64_t packets[KIND__COUNT];
	uint64_t first_frame, last_frame, first_us, last_us;
	uint64_t rtp_first_frame, rtp_last_frame, rtp_first_us, rtp_last_us, rtp_packets;
	/* DTLS (RFC 6347 record layer, RFC 9147 unified header) */
	uint32_t dtls_client_hello, dtls_server_hello, dtls_hello_verify, dtls_ccs,
		dtls_appdata, dtls_ciphertext;
	uint64_t dtls_first_frame, dtls_last_frame, dtls_first_us, dtls_last_us;
	uint64_t ch_first_frame, sh_first_frame;
} pa_flow;

void pa_classify_datagram(il_pcap_analysis *a, const pa_pkt *pkt, const uint8_t *buf,
			  size_t len);
pa_flow *pa_flow_get(il_pcap_analysis *a, const pa_pkt *pkt);
pa_flow *pa_flow_find(const il_pcap_analysis *a, uint8_t transport, bool relayed,
		      const il_addr *src, const il_addr *dst);

/* ---- tcp_reassembly.c */
void pa_tcp_segment(il_pcap_analysis *a, const pa_pkt *pkt, uint32_t seq, uint8_t flags,
		    const uint8_t *payload, size_t len);
void pa_tcp_free(il_pcap_analysis *a);

/* ---- reader.c: IP fragment reassembly state */
typedef struct pa_frag pa_frag;
#define FRAG_MAX_SETS 64
#define FRAG_TIMEOUT_US (30 * US_PER_S)

/* ---- rtp_stats.c: RFC 3550 per SSRC and direction. */
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
} pa_rtp_stream;

void pa_rtp_packet(il_pcap_analysis *a, const pa_pkt *pkt, const uint8_t *buf, size_t len);
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
	uint64_t nominated_frame;
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

/* ---- diagnose.c */
typedef struct pa_finding {
	const char *code;
	enum il_pcap_severity severity;
	char message[320];
	pa_evidence evidence;
	uint64_t first_us;           /* when it started, or 0 */
} pa_finding;

void pa_diagnose(il_pcap_analysis *a);
pa_finding *pa_finding_add(il_pcap_analysis *a, const char *code, enum il_pcap_severity sev,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

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
	/* findings */
	pa_finding *findings;
	size_t finding_count, finding_cap;
	bool finished;
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
