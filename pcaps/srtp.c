/* SRTP authentication (RFC 3711 §3.4, §4.2) of captured RTP when keys are
 * known: from SDES in the calls' SDP (RFC 4568 §6.1: "a=crypto:TAG SUITE
 * inline:KEY||SALT[|LIFETIME][|MKI:LEN]", the key an SDP names is the one
 * its sender encrypts with), or given with --srtp-key. Each RTP stream with
 * a key gets a libsrtp2 receiver session; every packet is unprotected on a
 * copy and counted: authenticated, authentication failed, replayed
 * (RFC 3711 §3.3.2: an index already seen or behind the window).
 * SRTCP is not checked; MKI keys are not supported (skipped). */
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "pcaps_internal.h"

#define SRTP_PACKET_MAX 4096
#define SRTP_OPT_MAX 16

struct pa_srtp_ctx {
	srtp_t session;
	uint8_t source;              /* 0 SDP, 1 --srtp-key */
	uint8_t suite;
	uint64_t key_frame;          /* the SDP's frame, or 0 */
	uint64_t authenticated, failed, replayed;
	uint64_t first_failed_frame, last_failed_frame, first_failed_us;
	pa_evidence evidence;
};

static const struct {
	const char *name;
	uint8_t key_len;             /* master key + salt (RFC 3711 §8.2, RFC 6188) */
} suites[] = {
	[PA_SRTP_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 30},
	[PA_SRTP_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 30},
	[PA_SRTP_AES_256_CM_HMAC_SHA1_80] = {"AES_256_CM_HMAC_SHA1_80", 46},
	[PA_SRTP_AES_256_CM_HMAC_SHA1_32] = {"AES_256_CM_HMAC_SHA1_32", 46},
};

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long pa_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	/* RFC 4648 §4, padding optional at the end only. */
	while (len && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)n;
}

int pa_srtp_suite(const char *name, size_t len)
{
	for (int i = 1; i < PA_SRTP_SUITE_COUNT; i++)
		if (strlen(suites[i].name) == len && memcmp(suites[i].name, name, len) == 0)
			return i;
	return -1;
}

int pa_srtp_parse_crypto(const char *v, size_t len, pa_srtp_key *out)
{
	memset(out, 0, sizeof *out);
	size_t i = 0;
	while (i < len && v[i] >= '0' && v[i] <= '9') /* tag */
		i++;
	if (i == 0 || i >= len || v[i] != ' ')
		return -1;
	while (i < len && v[i] == ' ')
		i++;
	size_t s0 = i;
	while (i < len && v[i] != ' ')
		i++;
	int suite = pa_srtp_suite(v + s0, i - s0);
	if (suite < 0)
		return -1;
	while (i < len && v[i] == ' ')
		i++;
	if (len - i < 7 || memcmp(v + i, "inline:", 7) != 0)
		return -1;
	i += 7;
	size_t k0 = i;
	while (i < len && v[i] != '|' && v[i] != ';' && v[i] != ' ')
		i++;
	/* "|lifetime" may follow; "|MKI:length" (two bars, or one with a
	 * colon) means an MKI in every packet: not supported here. */
	for (size_t j = i; j < len && v[j] != ';' && v[j] != ' '; j++)
		if (v[j] == ':')
			return -1;
	long n = pa_base64_decode(v + k0, i - k0, out->key, sizeof out->key);
	if (n != suites[suite].key_len)
		return -1;
	out->suite = (uint8_t)suite;
	out->len = (uint8_t)n;
	return 0;
}

int il_pcap_add_srtp_key(il_pcap_analysis *a, const char *spec, char *err, size_t errlen)
{
	const char *colon = strrchr(spec, ':');
	if (!colon || colon == spec) {
		snprintf(err, errlen, "--srtp-key '%s': expected SSRC:KEY, SRC:KEY or SRC>DST:KEY",
			 spec);
		return -1;
	}
	if (a->srtp_opt_count == SRTP_OPT_MAX) {
		snprintf(err, errlen, "--srtp-key: at most %d keys", SRTP_OPT_MAX);
		return -1;
	}
	pa_srtp_opt *o = &a->srtp_opts[a->srtp_opt_count];
	memset(o, 0, sizeof *o);
	long n = pa_base64_decode(colon + 1, strlen(colon + 1), o->key.key, sizeof o->key.key);
	if (n != 30 && n != 46) {
		snprintf(err, errlen, "--srtp-key '%s': the key is base64 of 30 bytes (AES-128 "
			 "key and salt) or 46 (AES-256)", spec);
		return -1;
	}
	o->key.len = (uint8_t)n;
	o->key.suite = n == 30 ? PA_SRTP_AES_CM_128_HMAC_SHA1_80 : PA_SRTP_AES_256_CM_HMAC_SHA1_80;
	char who[128];
	size_t wlen = (size_t)(colon - spec);
	if (wlen >= sizeof who) {
		snprintf(err, errlen, "--srtp-key '%s': selector too long", spec);
		return -1;
	}
	memcpy(who, spec, wlen);
	who[wlen] = '\0';
	char *gt = strchr(who, '>');
	char *end;
	unsigned long ssrc = strtoul(who, &end, 0);
	if (!gt && *end == '\0' && who[0] >= '0' && who[0] <= '9' && ssrc <= 0xffffffffu) {
		o->kind = PA_SRTP_BY_SSRC;
		o->ssrc = (uint32_t)ssrc;
	} else {
		if (gt)
			*gt = '\0';
		if (il_addr_parse(who, &o->src) != 0 || (gt && il_addr_parse(gt + 1, &o->dst) != 0)) {
			snprintf(err, errlen, "--srtp-key '%s': the selector is an SSRC (0x1234abcd), "
				 "a source IP:PORT, or SRC>DST", spec);
			return -1;
		}
		o->kind = gt ? PA_SRTP_BY_FLOW : PA_SRTP_BY_SOURCE;
	}
	a->srtp_opt_count++;
	a->srtp_keys_gen++;
	return 0;
}

/* ---- per stream */

static const pa_srtp_key *key_for(il_pcap_analysis *a, const pa_rtp_stream *s, const pa_flow *f,
				  uint8_t *source, uint64_t *key_frame)
{
	for (size_t i = 0; i < a->srtp_opt_count; i++) {
		const pa_srtp_opt *o = &a->srtp_opts[i];
		if ((o->kind == PA_SRTP_BY_SSRC && o->ssrc == s->key.ssrc) ||
		    (o->kind == PA_SRTP_BY_SOURCE && il_addr_equal(&o->src, &s->src)) ||
		    (o->kind == PA_SRTP_BY_FLOW && il_addr_equal(&o->src, &s->src) &&
		     il_addr_equal(&o->dst, &s->dst))) {
			*source = 1;
			*key_frame = 0;
			return &o->key;
		}
	}
	if (!f || f->call_gen != a->call_addrs_gen || (!f->call_dst && !f->call_src))
		return NULL;
	/* The sender's own SDP names the key it encrypts with (RFC 4568
	 * §6.1): the destination decides the call, as in calls.c. */
	const pa_call_addr *d = f->call_dst, *x = f->call_src;
	const pa_call *c = d ? d->call : x->call;
	uint8_t m = d ? d->media : x->media;
	uint8_t from = d ? (uint8_t)(1 - d->side) : x->side;
	const pa_call_side *side = &c->sides[m][from];
	if (!side->crypto.len)
		return NULL;
	*source = 0;
	*key_frame = side->crypto_frame;
	return &side->crypto;
}

static void policy_suite(srtp_crypto_policy_t *p, uint8_t suite)
{
	switch (suite) {
	case PA_SRTP_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(p);
		break;
	case PA_SRTP_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(p);
		break;
	case PA_SRTP_AES_256_CM_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(p);
		break;
	default:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(p);
		break;
	}
}

/* libsrtp2's crypto kernel is process-wide: initialised by the first
 * analysis that needs it, shut down when the last one is freed, unless
 * the program had initialised it before us (srtp_init then fails: its
 * modules are loaded already; sessions can be created all the same). */
static unsigned srtp_users;
static bool srtp_ours;

static pa_srtp_ctx *ctx_new(il_pcap_analysis *a, const pa_rtp_stream *s, const pa_srtp_key *k)
{
	if (!a->srtp_initialised) {
		if (!srtp_users)
			srtp_ours = srtp_init() == srtp_err_status_ok;
		srtp_users++;
		a->srtp_initialised = true;
	}
	pa_srtp_ctx *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	srtp_policy_t pol;
	memset(&pol, 0, sizeof pol);
	policy_suite(&pol.rtp, k->suite);
	policy_suite(&pol.rtcp, k->suite);
	pol.ssrc.type = ssrc_specific;
	pol.ssrc.value = s->key.ssrc;
	pol.key = (unsigned char *)k->key;
	pol.window_size = 128;
	if (srtp_create(&x->session, &pol) != srtp_err_status_ok) {
		free(x);
		return NULL;
	}
	x->suite = k->suite;
	return x;
}

void pa_srtp_packet(il_pcap_analysis *a, const pa_pkt *pkt, const pa_flow *f, pa_rtp_stream *s,
		    const uint8_t *buf, size_t len)
{
	if (!s->srtp) {
		uint64_t gen = a->srtp_keys_gen + a->call_addrs_gen;
		if (s->srtp_gen == gen + 1)
			return; /* looked for a key with what is known: none */
		s->srtp_gen = gen + 1;
		uint8_t source;
		uint64_t key_frame;
		const pa_srtp_key *k = key_for(a, s, f, &source, &key_frame);
		if (!k || !(s->srtp = ctx_new(a, s, k)))
			return;
		s->srtp->source = source;
		s->srtp->key_frame = key_frame;
	}
	uint8_t copy[SRTP_PACKET_MAX];
	if (len > sizeof copy)
		return;
	memcpy(copy, buf, len);
	int n = (int)len;
	pa_srtp_ctx *x = s->srtp;
	switch (srtp_unprotect(x->session, copy, &n)) {
	case srtp_err_status_ok:
		x->authenticated++;
		break;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		x->replayed++;
		break;
	default:
		/* auth_fail, or a packet too short to carry the tag */
		if (!x->failed++) {
			x->first_failed_frame = pkt->frame;
			x->first_failed_us = pkt->ts_us;
		}
		x->last_failed_frame = pkt->frame;
		pa_evidence_add(&x->evidence, pkt->frame);
		break;
	}
}

void pa_srtp_free(il_pcap_analysis *a)
{
	for (size_t i = 0; i < a->rtp_streams.cap; i++) {
		pa_rtp_stream *s = a->rtp_streams.slots[i];
		if (s && s->srtp) {
			srtp_dealloc(s->srtp->session);
			free(s->srtp);
			s->srtp = NULL;
		}
	}
	if (a->srtp_initialised && --srtp_users == 0 && srtp_ours)
		srtp_shutdown();
	a->srtp_initialised = false;
}

void pa_srtp_diagnose(il_pcap_analysis *a)
{
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
	for (size_t i = 0; i < a->rtp_streams.cap; i++) {
		const pa_rtp_stream *s = a->rtp_streams.slots[i];
		if (!s || !s->srtp || !s->srtp->failed)
			continue;
		const pa_srtp_ctx *x = s->srtp;
		uint64_t checked = x->authenticated + x->failed;
		/* Mostly failing: the key is wrong (or changed without a new
		 * SDP); a few: damaged or injected packets. */
		bool most = x->failed * 2 >= checked;
		pa_finding *fd = pa_finding_add(
			a, "srtp-auth-failed", most ? IL_PCAP_ERROR : IL_PCAP_WARNING,
			"SRTP authentication fails for %llu of %llu packets of SSRC 0x%08x from %s to "
			"%s (%s, key from %s): %s",
			(unsigned long long)x->failed, (unsigned long long)checked, s->key.ssrc,
			pa_addr_str(&s->src, s1), pa_addr_str(&s->dst, s2), suites[x->suite].name,
			x->source ? "--srtp-key" : "the sender's SDP a=crypto",
			most ? "the sender encrypts with another key than the one it signalled, so "
			       "the receiver discards its media."
			     : "some packets were damaged or not from the sender.");
		if (!fd)
			continue;
		fd->first_us = x->first_failed_us;
		if (x->key_frame)
			pa_evidence_add(&fd->evidence, x->key_frame);
		for (uint8_t k = 0; k < x->evidence.count && fd->evidence.count < EVIDENCE_MAX - 1; k++)
			pa_evidence_add(&fd->evidence, x->evidence.frames[k]);
		pa_evidence_add(&fd->evidence, x->last_failed_frame);
	}
}

json_t *pa_srtp_stream_json(const pa_rtp_stream *s)
{
	const pa_srtp_ctx *x = s->srtp;
	if (!x)
		return NULL;
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "suite", suites[x->suite].name, "key",
			 x->source ? "option" : "sdp", "authenticated",
			 (json_int_t)x->authenticated, "auth_failed", (json_int_t)x->failed,
			 "replayed", (json_int_t)x->replayed, "first_failed_frame",
			 (json_int_t)x->first_failed_frame);
}
