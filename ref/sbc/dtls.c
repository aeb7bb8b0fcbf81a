/* DTLS-SRTP endpoints for the SBC (RFC 5763, RFC 5764) with OpenSSL,
 * sans-I/O: records in through a memory BIO, records out through a
 * write-only BIO that hands each record to a callback as one datagram.
 *
 * - The certificate is self-signed (P-256, SHA-256): RFC 5763 §5 binds
 *   it to the call through the a=fingerprint in the signalled SDP.
 * - Both sides present a certificate (RFC 5763 §5: the server MUST
 *   request the client's) and each checks the peer's against the
 *   fingerprint from the peer's SDP; a mismatch fails the handshake with
 *   an alert, and the leg gets no keys.
 * - SRTP profiles (RFC 5764 §4.1.2, RFC 7714 §14.2): AEAD_AES_128_GCM,
 *   AES128_CM_SHA1_80, AES128_CM_SHA1_32; keys from the exporter label
 *   "EXTRACTOR-dtls_srtp" (RFC 5764 §4.2).
 * - Retransmission: OpenSSL's own timer (DTLSv1_get_timeout), turned
 *   into a deadline on the caller's clock. OpenSSL measures the elapsed
 *   time itself on the wall clock, so under a virtual clock a flight is
 *   resent only once that much real time passed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sbc_crypto.h"

#define DTLS_MTU 1200
#define FP_MAX 64                    /* SHA-512 */

struct sbc_dtls_ctx {
	SSL_CTX *ssl_ctx;
	char fingerprint[16 + 3 * 32];   /* "sha-256 " + 32 bytes as hex pairs */
};

struct sbc_dtls {
	sbc_dtls_ctx *ctx;
	SSL *ssl;                /* made by the first flight (ssl_make) */
	BIO *rbio;
	bool client, started;
	int state;
	const EVP_MD *md;
	uint8_t fp[FP_MAX];
	unsigned fp_len;
	char peer_fp[200];
	sbc_dtls_send_fn send;
	void *user;
	uint64_t deadline;
	char error[160];
	int suite;
	uint8_t local_key[SBC_KEY_MAX], remote_key[SBC_KEY_MAX];
};

/* ---- the certificate ---- */

/* "sha-256 AB:CD:..." (RFC 8122 §5: uppercase hex pairs, colons). */
static bool format_fingerprint(const uint8_t *md, unsigned n, char *out, size_t cap)
{
	int at = snprintf(out, cap, "sha-256 ");
	return at > 0 && (size_t)at < cap &&
	       OPENSSL_buf2hexstr_ex(out + at, cap - (size_t)at, NULL, md, n, ':') == 1;
}

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	uint8_t serial[8];
	BIGNUM *bn = NULL;
	bool ok = x && name && RAND_bytes(serial, sizeof serial) == 1 &&
		  (bn = BN_bin2bn(serial, sizeof serial, NULL)) != NULL &&
		  X509_set_version(x, 2) == 1 &&
		  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
		  X509_gmtime_adj(X509_getm_notBefore(x), -86400) != NULL &&
		  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) != NULL &&
		  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					     (const unsigned char *)"icelab-sbc", -1, -1, 0) == 1 &&
		  X509_set_subject_name(x, name) == 1 && X509_set_issuer_name(x, name) == 1 &&
		  X509_set_pubkey(x, key) == 1 && X509_sign(x, key, EVP_sha256()) > 0;
	BN_free(bn);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int verify_peer(int preverify, X509_STORE_CTX *store);

sbc_dtls_ctx *sbc_dtls_ctx_new(void)
{
	sbc_dtls_ctx *c = calloc(1, sizeof *c);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key ? self_signed(key) : NULL;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (!c || !cert || X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 ||
	    !format_fingerprint(md, mdlen, c->fingerprint, sizeof c->fingerprint))
		goto fail;
	c->ssl_ctx = SSL_CTX_new(DTLS_method());
	if (!c->ssl_ctx || SSL_CTX_use_certificate(c->ssl_ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(c->ssl_ctx, key) != 1 ||
	    SSL_CTX_set_min_proto_version(c->ssl_ctx, DTLS1_2_VERSION) != 1 ||
	    /* returns 0 on success */
	    SSL_CTX_set_tlsext_use_srtp(c->ssl_ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80:"
						    "SRTP_AES128_CM_SHA1_32") != 0)
		goto fail;
	SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   verify_peer);
	X509_free(cert);
	EVP_PKEY_free(key);
	return c;
fail:
	X509_free(cert);
	EVP_PKEY_free(key);
	sbc_dtls_ctx_free(c);
	return NULL;
}

static sbc_dtls_ctx *shared_ctx;
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

static void shared_init(void)
{
	shared_ctx = sbc_dtls_ctx_new();
}

sbc_dtls_ctx *sbc_dtls_ctx_shared(void)
{
	pthread_once(&shared_once, shared_init);
	return shared_ctx;
}

void sbc_dtls_ctx_free(sbc_dtls_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ssl_ctx);
	free(c);
}

const char *sbc_dtls_ctx_fingerprint(const sbc_dtls_ctx *c)
{
	return c->fingerprint;
}

/* ---- the peer's fingerprint (RFC 8122 §5) ---- */

static const EVP_MD *hash_by_name(const char *name, size_t n)
{
	static const struct {
		const char *name;
		const EVP_MD *(*md)(void);
	} hashes[] = {{"sha-1", EVP_sha1},     {"sha-224", EVP_sha224}, {"sha-256", EVP_sha256},
		      {"sha-384", EVP_sha384}, {"sha-512", EVP_sha512}};
	for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++)
		if (strlen(hashes[i].name) == n && strncasecmp(hashes[i].name, name, n) == 0)
			return hashes[i].md();
	return NULL;
}

static bool parse_fingerprint(sbc_dtls *d, const char *text)
{
	const char *sp = strchr(text, ' ');
	size_t n = 0;
	if (!sp || !(d->md = hash_by_name(text, (size_t)(sp - text))) ||
	    OPENSSL_hexstr2buf_ex(d->fp, sizeof d->fp, &n, sp + 1, ':') != 1) {
		ERR_clear_error();
		return false;
	}
	return n == (size_t)EVP_MD_get_size(d->md);
}

static bool cert_matches(const sbc_dtls *d, X509 *cert)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	return cert && X509_digest(cert, d->md, md, &n) == 1 && n == d->fp_len &&
	       CRYPTO_memcmp(md, d->fp, n) == 0;
}

/* The chain does not matter (self-signed is the norm): the leaf must
 * hash to the a=fingerprint the peer signalled (RFC 5763 §5). */
static int verify_peer(int preverify, X509_STORE_CTX *store)
{
	(void)preverify;
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	sbc_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
	if (!d)
		return 0;
	if (X509_STORE_CTX_get_error_depth(store) != 0)
		return 1;
	if (cert_matches(d, X509_STORE_CTX_get_current_cert(store)))
		return 1;
	snprintf(d->error, sizeof d->error, "certificate does not match a=fingerprint");
	return 0;
}

/* ---- records out: one BIO_write, one datagram ---- */

static int out_write(BIO *b, const char *data, int len)
{
	sbc_dtls *d = BIO_get_data(b);
	if (d && len > 0)
		d->send(d->user, (const uint8_t *)data, (size_t)len);
	return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_MTU:
		return DTLS_MTU;
	default:
		return 0;
	}
}

static BIO_METHOD *out_method;
static pthread_once_t out_once = PTHREAD_ONCE_INIT;

static void out_method_init(void)
{
	out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "icelab-dtls-out");
	if (out_method) {
		BIO_meth_set_write(out_method, out_write);
		BIO_meth_set_ctrl(out_method, out_ctrl);
	}
}

/* ---- an endpoint ---- */

sbc_dtls *sbc_dtls_new(sbc_dtls_ctx *c, bool client, const char *peer_fingerprint,
		       sbc_dtls_send_fn send, void *user)
{
	pthread_once(&out_once, out_method_init);
	sbc_dtls *d = calloc(1, sizeof *d);
	if (!d || !out_method || !peer_fingerprint || !parse_fingerprint(d, peer_fingerprint))
		goto fail;
	d->fp_len = (unsigned)EVP_MD_get_size(d->md);
	snprintf(d->peer_fp, sizeof d->peer_fp, "%s", peer_fingerprint);
	d->client = client;
	d->send = send;
	d->user = user;
	d->deadline = UINT64_MAX;
	d->state = client ? IL_SBC_DTLS_WAITING : IL_SBC_DTLS_HANDSHAKING;
	d->ctx = c;
	return d;
fail:
	sbc_dtls_free(d);
	return NULL;
}

/* The OpenSSL connection, when the handshake begins (our ClientHello,
 * or the peer's first datagram): about 12 KB that a call which never
 * carries media does not pay (RSS per idle call, issue #8 §7). */
static bool ssl_make(sbc_dtls *d)
{
	if (d->ssl)
		return true;
	d->ssl = SSL_new(d->ctx->ssl_ctx);
	d->rbio = BIO_new(BIO_s_mem());
	BIO *wbio = BIO_new(out_method);
	if (!d->ssl || !d->rbio || !wbio) {
		BIO_free(wbio);
		SSL_free(d->ssl);
		BIO_free(d->rbio);
		d->ssl = NULL;
		d->rbio = NULL;
		return false;
	}
	BIO_set_data(wbio, d);
	BIO_set_init(wbio, 1);
	BIO_up_ref(d->rbio); /* we keep a reference to feed it */
	SSL_set_bio(d->ssl, d->rbio, wbio);
	SSL_set_app_data(d->ssl, d);
	SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(d->ssl, DTLS_MTU);
	if (d->client)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	return true;
}

void sbc_dtls_free(sbc_dtls *d)
{
	if (!d)
		return;
	SSL_free(d->ssl);
	BIO_free(d->rbio);
	free(d);
}

bool sbc_dtls_is_client(const sbc_dtls *d)
{
	return d->client;
}

const char *sbc_dtls_peer_fingerprint(const sbc_dtls *d)
{
	return d->peer_fp;
}

static void set_deadline(sbc_dtls *d, uint64_t now_ms)
{
	struct timeval tv;
	d->deadline = UINT64_MAX;
	if (d->state == IL_SBC_DTLS_HANDSHAKING && DTLSv1_get_timeout(d->ssl, &tv) == 1)
		d->deadline = now_ms + (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
}

static void fail(sbc_dtls *d, const char *why)
{
	if (!d->error[0]) {
		unsigned long e = ERR_peek_last_error();
		if (e)
			ERR_error_string_n(e, d->error, sizeof d->error);
		else
			snprintf(d->error, sizeof d->error, "%s", why);
	}
	ERR_clear_error();
	d->state = IL_SBC_DTLS_FAILED;
	d->deadline = UINT64_MAX;
}

/* RFC 5764 §4.2: client key, server key, client salt, server salt. */
static void export_keys(sbc_dtls *d)
{
	const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
	X509 *peer = SSL_get1_peer_certificate(d->ssl);
	bool match = cert_matches(d, peer);
	X509_free(peer);
	if (!match) { /* the callback saw it; never trust one path alone */
		fail(d, "certificate does not match a=fingerprint");
		return;
	}
	size_t k = 16, s;
	switch (p ? p->id : 0) {
	case SRTP_AES128_CM_SHA1_80:
		d->suite = SBC_SUITE_AES_CM_80, s = 14;
		break;
	case SRTP_AES128_CM_SHA1_32:
		d->suite = SBC_SUITE_AES_CM_32, s = 14;
		break;
	case SRTP_AEAD_AES_128_GCM:
		d->suite = SBC_SUITE_GCM_128, s = 12;
		break;
	default:
		fail(d, "no SRTP profile negotiated (use_srtp)");
		return;
	}
	uint8_t km[2 * (16 + 14)];
	if (SSL_export_keying_material(d->ssl, km, 2 * (k + s), "EXTRACTOR-dtls_srtp", 19, NULL, 0,
				       0) != 1) {
		fail(d, "keying material export failed");
		return;
	}
	const uint8_t *ck = km, *sk = km + k, *cs = km + 2 * k, *ss = km + 2 * k + s;
	memcpy(d->local_key, d->client ? ck : sk, k);
	memcpy(d->local_key + k, d->client ? cs : ss, s);
	memcpy(d->remote_key, d->client ? sk : ck, k);
	memcpy(d->remote_key + k, d->client ? ss : cs, s);
	OPENSSL_cleanse(km, sizeof km);
	d->state = IL_SBC_DTLS_CONNECTED;
}

static void advance(sbc_dtls *d, uint64_t now_ms)
{
	if (d->state == IL_SBC_DTLS_HANDSHAKING) {
		int r = SSL_do_handshake(d->ssl);
		if (r == 1) {
			export_keys(d);
		} else {
			int e = SSL_get_error(d->ssl, r);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				fail(d, "handshake failed");
		}
	} else if (d->state == IL_SBC_DTLS_CONNECTED) {
		/* Records after the handshake: a retransmitted Finished we
		 * answer again, alerts. No application data is expected. */
		uint8_t sink[256];
		int r;
		while ((r = SSL_read(d->ssl, sink, sizeof sink)) > 0)
			;
		int e = SSL_get_error(d->ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN) {
			/* close_notify: the keys stay; SRTP does not depend on
			 * the DTLS connection once they are exported. */
			ERR_clear_error();
		} else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			ERR_clear_error();
		}
	}
	set_deadline(d, now_ms);
}

void sbc_dtls_start(sbc_dtls *d, uint64_t now_ms)
{
	if (!d->client || d->started)
		return;
	d->started = true;
	d->state = IL_SBC_DTLS_HANDSHAKING;
	if (!ssl_make(d)) {
		fail(d, "out of memory");
		return;
	}
	advance(d, now_ms);
}

void sbc_dtls_handle(sbc_dtls *d, const uint8_t *data, size_t len, uint64_t now_ms)
{
	if (d->state == IL_SBC_DTLS_FAILED || len > INT32_MAX)
		return;
	if (d->client && !d->started)
		return; /* RFC 5763 §5: a client sends first */
	if (!ssl_make(d)) {
		fail(d, "out of memory");
		return;
	}
	(void)BIO_reset(d->rbio); /* one datagram at a time: nothing left from the last */
	if (BIO_write(d->rbio, data, (int)len) != (int)len)
		return;
	advance(d, now_ms);
}

void sbc_dtls_timer(sbc_dtls *d, uint64_t now_ms)
{
	if (d->state != IL_SBC_DTLS_HANDSHAKING || now_ms < d->deadline || !d->ssl)
		return;
	if (DTLSv1_handle_timeout(d->ssl) < 0)
		fail(d, "retransmission failed");
	set_deadline(d, now_ms);
}

uint64_t sbc_dtls_deadline(const sbc_dtls *d)
{
	return d->deadline;
}

int sbc_dtls_state(const sbc_dtls *d)
{
	return d->state;
}

const char *sbc_dtls_error(const sbc_dtls *d)
{
	return d->error;
}

int sbc_dtls_keys(const sbc_dtls *d, uint8_t local[SBC_KEY_MAX], uint8_t remote[SBC_KEY_MAX])
{
	if (d->state != IL_SBC_DTLS_CONNECTED)
		return SBC_SUITE_NONE;
	memcpy(local, d->local_key, SBC_KEY_MAX);
	memcpy(remote, d->remote_key, SBC_KEY_MAX);
	return d->suite;
}
