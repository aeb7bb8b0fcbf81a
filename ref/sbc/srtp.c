/* SRTP and SRTCP for the SBC (RFC 3711) with libsrtp2: the suites we
 * speak, one libsrtp2 session per leg and direction, and the SDES
 * a=crypto line (RFC 4568 §9.1) that carries a key in SDP. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sbc_crypto.h"

static const struct {
	const char *name;
	size_t key_len;              /* master key || master salt */
} suites[SBC_SUITE_COUNT] = {
	[SBC_SUITE_AES_CM_80] = {"AES_CM_128_HMAC_SHA1_80", 30},
	[SBC_SUITE_AES_CM_32] = {"AES_CM_128_HMAC_SHA1_32", 30},
	[SBC_SUITE_GCM_128] = {"AEAD_AES_128_GCM", 28},  /* RFC 7714 §12: 16 + 12 */
};

const char *sbc_suite_name(int suite)
{
	return suite > SBC_SUITE_NONE && suite < SBC_SUITE_COUNT ? suites[suite].name : NULL;
}

size_t sbc_suite_key_len(int suite)
{
	return suite > SBC_SUITE_NONE && suite < SBC_SUITE_COUNT ? suites[suite].key_len : 0;
}

int sbc_suite_from_name(const char *name, size_t len)
{
	for (int i = 1; i < SBC_SUITE_COUNT; i++)
		if (strlen(suites[i].name) == len && memcmp(suites[i].name, name, len) == 0)
			return i;
	return SBC_SUITE_NONE;
}

/* libsrtp2 wants srtp_init once per process before anything else. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool init_ok, gcm_ok;

static bool policy_for(srtp_policy_t *p, int suite, const uint8_t *key, bool inbound);

static bool suite_runs(int suite)
{
	uint8_t key[SBC_KEY_MAX] = {0};
	srtp_policy_t p;
	srtp_t ctx;
	if (!policy_for(&p, suite, key, true) || srtp_create(&ctx, &p) != srtp_err_status_ok)
		return false;
	srtp_dealloc(ctx);
	return true;
}

/* srtp_init refuses a second call in the process (someone else in it
 * may have made the first): whether a context can be made is what
 * counts. GCM needs libsrtp2 built against a crypto library. */
static void srtp_init_once(void)
{
	(void)srtp_init();
	init_ok = suite_runs(SBC_SUITE_AES_CM_80);
	gcm_ok = init_ok && suite_runs(SBC_SUITE_GCM_128);
}

bool sbc_suite_available(int suite)
{
	pthread_once(&init_once, srtp_init_once);
	if (!init_ok || !sbc_suite_name(suite))
		return false;
	return suite != SBC_SUITE_GCM_128 || gcm_ok;
}

static bool policy_for(srtp_policy_t *p, int suite, const uint8_t *key, bool inbound)
{
	memset(p, 0, sizeof *p);
	switch (suite) {
	case SBC_SUITE_AES_CM_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case SBC_SUITE_AES_CM_32:
		/* The 32-bit tag is for RTP only: SRTCP keeps 80 bits
		 * (RFC 4568 §6.2.2, RFC 5764 §4.1.2). */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case SBC_SUITE_GCM_128:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		break;
	default:
		return false;
	}
	p->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p->key = (unsigned char *)key;
	p->window_size = 128; /* RFC 3711 §3.3.2: at least 64 */
	/* We forward what the peer sent; a packet it sent twice goes out
	 * twice, identical, which reveals nothing. */
	p->allow_repeat_tx = 1;
	return true;
}

void sbc_srtp_clear(sbc_srtp *x)
{
	if (x->ctx)
		srtp_dealloc(x->ctx);
	memset(x, 0, sizeof *x);
}

int sbc_srtp_set(sbc_srtp *x, int suite, const uint8_t *key, bool inbound)
{
	size_t n = sbc_suite_key_len(suite);
	if (!sbc_suite_available(suite))
		return -1;
	if (x->keyed && x->suite == suite && memcmp(x->key, key, n) == 0)
		return 0;
	sbc_srtp_clear(x);
	x->keyed = true;
	x->inbound = inbound;
	x->suite = suite;
	memcpy(x->key, key, n);
	return 0;
}

/* The libsrtp2 context, made on first use. */
static bool srtp_ready(sbc_srtp *x)
{
	if (x->ctx || !x->keyed)
		return x->ctx != NULL;
	srtp_policy_t p;
	uint8_t k[SBC_KEY_MAX];
	memcpy(k, x->key, sizeof k);
	if (!policy_for(&p, x->suite, k, x->inbound) || srtp_create(&x->ctx, &p) != srtp_err_status_ok)
		x->ctx = NULL;
	return x->ctx != NULL;
}

int sbc_srtp_protect(sbc_srtp *x, bool rtcp, uint8_t *buf, size_t *len, size_t cap)
{
	if (*len > cap - SRTP_MAX_TRAILER_LEN || *len > INT32_MAX || !srtp_ready(x))
		return srtp_err_status_bad_param;
	int n = (int)*len;
	srtp_err_status_t st = rtcp ? srtp_protect_rtcp(x->ctx, buf, &n) : srtp_protect(x->ctx, buf, &n);
	if (st == srtp_err_status_ok)
		*len = (size_t)n;
	return st;
}

int sbc_srtp_unprotect(sbc_srtp *x, bool rtcp, uint8_t *buf, size_t *len)
{
	if (*len > INT32_MAX || !srtp_ready(x))
		return srtp_err_status_bad_param;
	int n = (int)*len;
	srtp_err_status_t st = rtcp ? srtp_unprotect_rtcp(x->ctx, buf, &n)
				    : srtp_unprotect(x->ctx, buf, &n);
	if (st == srtp_err_status_ok)
		*len = (size_t)n;
	return st;
}

/* ---- the public wrapper (sbc.h) ---- */

_Static_assert(IL_SBC_SRTP_MAX_TRAILER == SRTP_MAX_TRAILER_LEN, "trailer size");

struct il_sbc_srtp {
	sbc_srtp x;
};

il_sbc_srtp *il_sbc_srtp_new(const char *suite, const uint8_t *key, bool inbound)
{
	int id = suite ? sbc_suite_from_name(suite, strlen(suite)) : SBC_SUITE_NONE;
	il_sbc_srtp *p = id != SBC_SUITE_NONE && key ? calloc(1, sizeof *p) : NULL;
	if (p && sbc_srtp_set(&p->x, id, key, inbound) != 0) {
		free(p);
		p = NULL;
	}
	return p;
}

void il_sbc_srtp_free(il_sbc_srtp *p)
{
	if (!p)
		return;
	sbc_srtp_clear(&p->x);
	free(p);
}

static int result_of(int st)
{
	if (st == srtp_err_status_ok)
		return IL_SBC_SRTP_OK;
	if (st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old)
		return IL_SBC_SRTP_REPLAY;
	return st == srtp_err_status_auth_fail ? IL_SBC_SRTP_AUTH : IL_SBC_SRTP_ERROR;
}

int il_sbc_srtp_protect(il_sbc_srtp *p, bool rtcp, uint8_t *buf, size_t *len, size_t cap)
{
	return result_of(sbc_srtp_protect(&p->x, rtcp, buf, len, cap));
}

int il_sbc_srtp_unprotect(il_sbc_srtp *p, bool rtcp, uint8_t *buf, size_t *len)
{
	return result_of(sbc_srtp_unprotect(&p->x, rtcp, buf, len));
}

/* ---- a=crypto (RFC 4568 §9.1) ----
 *   a=crypto:<tag> <crypto-suite> inline:<key||salt base64>[|<lifetime>][|<MKI>:<len>]
 *           [;inline:...] [<session-params>] */

static size_t span(const char *p, const char *end, const char *stop)
{
	size_t n = 0;
	while (p + n < end && !strchr(stop, p[n]))
		n++;
	return n;
}

int sbc_sdes_parse(const char *line, size_t len, sbc_sdes *out)
{
	const char *p = line, *end = line + len;
	if (len >= 2 && memcmp(p, "a=", 2) == 0)
		p += 2;
	if ((size_t)(end - p) < 7 || memcmp(p, "crypto:", 7) != 0)
		return -1;
	p += 7;
	/* tag: 1*9DIGIT */
	size_t n = span(p, end, " ");
	if (n == 0 || n > 9)
		return -1;
	unsigned long tag = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		tag = tag * 10 + (unsigned long)(p[i] - '0');
	}
	p += n;
	if (p == end || *p++ != ' ')
		return -1;
	n = span(p, end, " ");
	int suite = sbc_suite_from_name(p, n);
	if (suite == SBC_SUITE_NONE || !sbc_suite_available(suite))
		return -1;
	p += n;
	if (p == end || *p++ != ' ')
		return -1;
	if ((size_t)(end - p) < 7 || memcmp(p, "inline:", 7) != 0)
		return -1;
	p += 7;
	size_t klen = sbc_suite_key_len(suite);
	size_t b64 = (klen + 2) / 3 * 4;
	n = span(p, end, "| ;");
	if (n != b64)
		return -1;
	uint8_t raw[SBC_KEY_MAX + 3];
	char text[64];
	memcpy(text, p, n);
	text[n] = '\0';
	int got = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)n);
	/* EVP_DecodeBlock counts '=' padding as zero bytes. */
	size_t pad = (n >= 1 && text[n - 1] == '=') + (n >= 2 && text[n - 2] == '=');
	if (got < 0 || (size_t)got - pad != klen)
		return -1;
	p += n;
	/* A lifetime alone is fine (we rekey never: it is far beyond a
	 * call); an MKI, a second key or session parameters we do not do. */
	if (p < end && *p == '|') {
		p++;
		n = span(p, end, "| ;");
		if (memchr(p, ':', n))
			return -1; /* that was an MKI */
		p += n;
		if (p < end && *p == '|')
			return -1; /* an MKI after the lifetime */
	}
	if (p != end)
		return -1;
	out->tag = (unsigned)tag;
	out->suite = suite;
	memcpy(out->key, raw, klen);
	return 0;
}

int sbc_sdes_format(const sbc_sdes *c, char *out, size_t cap)
{
	size_t klen = sbc_suite_key_len(c->suite);
	if (!klen)
		return -1;
	unsigned char b64[64];
	EVP_EncodeBlock(b64, c->key, (int)klen);
	int n = snprintf(out, cap, "a=crypto:%u %s inline:%s", c->tag, sbc_suite_name(c->suite),
			 (const char *)b64);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
