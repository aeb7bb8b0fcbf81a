/* The capture generator's helpers, shared by gen_captures.c (the first
 * corpus) and gen_more.c (SIP over TLS, SRTP, ICE with SDP for replay
 * --sim): frames queued and written in time order, IP/UDP/TCP headers,
 * STUN checks, SIP calls. */
#ifndef ICELAB_PCAPS_GEN_H
#define ICELAB_PCAPS_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

#include "icelab/addr.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

#define MS 1000ull
#define S 1000000ull
#define T0 (1700000000ull * S)

typedef struct gen {
	pcap_dumper_t *dumper;
	pcap_t *dead;
	FILE *pcapng;
	int dlt;
	uint64_t frame;
	uint32_t tid_counter;
	uint16_t ip_id;
	uint32_t tcp_seq[8];
	FILE *expected;
	char name[256];
	const char *dir;
	/* Frames are collected, then written in timestamp order (stable), so
	 * scenarios may be written one actor at a time. Ids are the order of
	 * emission; expectations name ids and are mapped at close. */
	struct frame {
		uint64_t ts, id;
		size_t len;
		uint8_t *data;
	} *frames;
	size_t nframes, cap;
	struct expectation {
		const char *code, *severity;
		int n;
		uint64_t ids[8];
	} exps[16];
	int nexp;
} gen;

typedef struct msg {
	uint8_t buf[4096];
	size_t len;
	uint8_t tid[12];
} msg;

typedef struct call_frames {
	uint64_t invite, ok, ack;
} call_frames;

extern il_stun_key ice_key, turn_key;
extern const char *dir_;

il_addr A(const char *text);
void gen_open(gen *g, const char *dir, const char *name, int dlt, bool pcapng);
void expect(gen *g, const char *code, const char *severity, int n, ...);
void gen_close(gen *g);
void put16(uint8_t *p, uint16_t v);
void put32(uint8_t *p, uint32_t v);
uint64_t udp(gen *g, uint64_t ts, const il_addr *src, const il_addr *dst,
		    const uint8_t *data, size_t len, size_t mtu);
uint64_t tcp(gen *g, uint64_t ts, const il_addr *src, const il_addr *dst, int slot,
		    uint8_t flags, const uint8_t *data, size_t len);
void ice_check(gen *g, msg *m, const char *user, bool controlling, bool use_candidate);
void response(msg *out, const msg *req, uint16_t method, int code,
		     const il_addr *mapped, const il_stun_key *key);
uint64_t ice_exchange(gen *g, uint64_t ts, const il_addr *from, const il_addr *to,
			     const char *user, bool controlling, bool use_candidate, int code,
			     uint64_t *req_frame);
void ice_connect(gen *g, uint64_t ts, const il_addr *a, const il_addr *b);
uint64_t rtp(gen *g, uint64_t ts, const il_addr *from, const il_addr *to, uint32_t ssrc,
		    uint16_t seq, uint32_t rtp_ts);
size_t sip_text(char *out, size_t cap, const char *first_line, const il_addr *via,
		       const char *call_id, unsigned cseq, const char *method, const char *from_tag,
		       const char *to_tag, const char *sdp);
uint64_t sip_udp(gen *g, uint64_t ts, const il_addr *src, const il_addr *dst,
			const char *first_line, const char *call_id, unsigned cseq,
			const char *method, const char *from_tag, const char *to_tag, const char *sdp);
call_frames call_setup(gen *g, uint64_t ts, const il_addr *c, const il_addr *e,
			      const char *id, const char *offer, const char *answer);
uint64_t call_bye(gen *g, uint64_t ts, const il_addr *c, const il_addr *e,
			 const char *id);
void rtp_run(gen *g, uint64_t t0, uint64_t dur, const il_addr *from, const il_addr *to,
		    uint32_t ssrc, uint64_t *first, uint64_t *last);
const char *sdp_body(char *buf, size_t cap, const char *origin, const char *conn, int port,
			    const char *direction);
void media(gen *g, uint64_t t0, const il_addr *a, const il_addr *b, uint64_t a_for,
		  uint64_t b_for, uint64_t last[2]);
void tid_next(gen *g, uint8_t tid[12]);
void finish(il_stun_builder *b, msg *m, const il_stun_key *key);

/* gen_more.c: the captures added after the first corpus. */
void gen_more_captures(void);

#endif
