/* Credentials of the tenants: static users with their long-term keys
 * computed once (RFC 8489 §9.2.2, MD5 and SHA-256), and the TURN REST API
 * (draft-uberti-behave-turn-rest-00 §2.2: username "expiry:user",
 * password base64(HMAC-SHA1(secret, username))), with the tenant's secret
 * kept under --state-dir/TENANT/ (mode 0600, written to a temporary file
 * and renamed) and the previous one honoured for a grace period. */
#include "io_internal.h"

#include "icelab/rest_credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct io_user_key {
	char *name;
	uint8_t userhash[32]; /* RFC 8489 §14.4 */
	il_stun_key md5, sha256;
	bool has_md5, has_sha256;
} io_user_key;

typedef struct io_tenant_creds {
	char realm[IL_IO_REALM_MAX];
	io_user_key *users; /* sorted by name */
	size_t count;
	bool rest;
	char secret[2 * IL_IO_SECRET_LEN + 1]; /* the HMAC key: hex text */
	char prev[2 * IL_IO_SECRET_LEN + 1];
	uint64_t prev_until;  /* UNIX s; 0: no previous secret */
	uint32_t rest_ttl_s;
} io_tenant_creds;

struct io_creds {
	pthread_rwlock_t lock;
	io_tenant_creds tenants[IL_IO_MAX_TENANTS];
	size_t count;
};

/* ---- secrets on disk ---- */

static int hex_decode(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

static int mkdir_0700(const char *path, char *err, size_t err_len)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return io_fail(err, err_len, "state-dir: %s: %s", path, strerror(errno));
}

/* Writes text to dir/name through dir/name.tmp.PID and rename(2). */
static int write_atomic(const char *dir, const char *name, const char *text, char *err,
			size_t err_len)
{
	char path[IL_IO_PATH_MAX + 64], tmp[IL_IO_PATH_MAX + 96];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return io_fail(err, err_len, "state-dir: %s: %s", tmp, strerror(errno));
	size_t len = strlen(text);
	bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return io_fail(err, err_len, "state-dir: %s: %s", path, strerror(e));
	}
	return 0;
}

static int read_small(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

int il_io_secret_load(const char *state_dir, const char *tenant, bool create,
		      uint8_t secret[IL_IO_SECRET_LEN], uint8_t prev[IL_IO_SECRET_LEN],
		      uint64_t *prev_until, char *err, size_t err_len)
{
	char dir[IL_IO_PATH_MAX + 80], path[IL_IO_PATH_MAX + 128], text[256];
	snprintf(dir, sizeof dir, "%s/%s", state_dir, tenant);
	snprintf(path, sizeof path, "%s/secret", dir);
	*prev_until = 0;
	if (read_small(path, text, sizeof text) == 0) {
		if (strlen(text) < 2 * IL_IO_SECRET_LEN || hex_decode(text, secret, IL_IO_SECRET_LEN))
			return io_fail(err, err_len, "state-dir: %s: not %d hex bytes", path,
				    IL_IO_SECRET_LEN);
	} else if (errno != ENOENT || !create) {
		return io_fail(err, err_len, "state-dir: %s: %s", path, strerror(errno));
	} else {
		if (mkdir_0700(state_dir, err, err_len) < 0 || mkdir_0700(dir, err, err_len) < 0)
			return -1;
		if (RAND_bytes(secret, IL_IO_SECRET_LEN) != 1)
			return io_fail(err, err_len, "state-dir: no randomness for a secret");
		char hex[2 * IL_IO_SECRET_LEN + 2];
		hex_encode(secret, IL_IO_SECRET_LEN, hex);
		strcat(hex, "\n");
		if (write_atomic(dir, "secret", hex, err, err_len) < 0)
			return -1;
		il_log(IL_LOG_INFO, "tenant %s: new REST secret in %s", tenant, path);
	}
	snprintf(path, sizeof path, "%s/secret.previous", dir);
	if (read_small(path, text, sizeof text) == 0) {
		unsigned long long until = 0;
		if (strlen(text) < 2 * IL_IO_SECRET_LEN + 2 ||
		    hex_decode(text, prev, IL_IO_SECRET_LEN) ||
		    sscanf(text + 2 * IL_IO_SECRET_LEN, " %llu", &until) != 1)
			return io_fail(err, err_len, "state-dir: %s: not \"HEX UNTIL\"", path);
		*prev_until = until;
	}
	return 0;
}

int il_io_secret_rotate(const char *state_dir, const char *tenant, uint32_t grace_s,
			uint64_t now_s, char *err, size_t err_len)
{
	uint8_t cur[IL_IO_SECRET_LEN], prev[IL_IO_SECRET_LEN], next[IL_IO_SECRET_LEN];
	uint64_t prev_until;
	if (il_io_secret_load(state_dir, tenant, true, cur, prev, &prev_until, err, err_len) < 0)
		return -1;
	if (RAND_bytes(next, sizeof next) != 1)
		return io_fail(err, err_len, "rotate-secret: no randomness");
	char dir[IL_IO_PATH_MAX + 80], text[2 * IL_IO_SECRET_LEN + 64];
	snprintf(dir, sizeof dir, "%s/%s", state_dir, tenant);
	/* The previous secret first: a crash between the two renames leaves
	 * the old secret both current and previous, which is harmless. */
	hex_encode(cur, IL_IO_SECRET_LEN, text);
	snprintf(text + 2 * IL_IO_SECRET_LEN, sizeof text - 2 * IL_IO_SECRET_LEN, " %llu %llu\n",
		 (unsigned long long)(now_s + grace_s), (unsigned long long)now_s);
	if (write_atomic(dir, "secret.previous", text, err, err_len) < 0)
		return -1;
	hex_encode(next, IL_IO_SECRET_LEN, text);
	strcat(text, "\n");
	return write_atomic(dir, "secret", text, err, err_len);
}

void il_io_secret_text(const uint8_t secret[IL_IO_SECRET_LEN], char out[2 * IL_IO_SECRET_LEN + 1])
{
	hex_encode(secret, IL_IO_SECRET_LEN, out);
}

/* ---- the store ---- */

static int user_cmp(const void *a, const void *b)
{
	return strcmp(((const io_user_key *)a)->name, ((const io_user_key *)b)->name);
}

static void tenant_creds_free(io_tenant_creds *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->users[i].name);
	free(t->users);
	OPENSSL_cleanse(t->secret, sizeof t->secret);
	OPENSSL_cleanse(t->prev, sizeof t->prev);
	memset(t, 0, sizeof *t);
}

io_creds *io_creds_new(const il_io_config *cfg, bool secrets, char *err, size_t err_len)
{
	io_creds *c = calloc(1, sizeof *c);
	if (!c) {
		io_fail(err, err_len, "out of memory");
		return NULL;
	}
	pthread_rwlock_init(&c->lock, NULL);
	c->count = cfg->tenant_count;
	for (size_t t = 0; t < cfg->tenant_count; t++) {
		const il_io_tenant *src = &cfg->tenants[t];
		io_tenant_creds *dst = &c->tenants[t];
		snprintf(dst->realm, sizeof dst->realm, "%s", src->realm);
		dst->rest_ttl_s = cfg->rest_ttl_s;
		dst->users = calloc(src->user_count ? src->user_count : 1, sizeof *dst->users);
		if (!dst->users)
			goto oom;
		for (size_t i = 0; i < src->user_count; i++) {
			io_user_key *u = &dst->users[dst->count];
			u->name = strdup(src->users[i].name);
			if (!u->name)
				goto oom;
			dst->count++;
			/* A name or password SASLprep refuses cannot log in. */
			u->has_md5 = il_stun_key_long_term(&u->md5, IL_STUN_PWALG_MD5, u->name,
							   src->realm,
							   src->users[i].password) == IL_STUN_OK;
			u->has_sha256 = il_stun_key_long_term(&u->sha256, IL_STUN_PWALG_SHA256,
							      u->name, src->realm,
							      src->users[i].password) == IL_STUN_OK;
			il_stun_userhash(u->name, src->realm, u->userhash);
			if (!u->has_md5 && !u->has_sha256)
				il_log(IL_LOG_WARN, "tenant %s: user '%s' refused by SASLprep",
				       src->name, u->name);
		}
		qsort(dst->users, dst->count, sizeof *dst->users, user_cmp);
		if (!src->rest || !secrets)
			continue;
		char msg[512];
		uint8_t secret[IL_IO_SECRET_LEN], prev[IL_IO_SECRET_LEN];
		if (il_io_secret_load(cfg->state_dir, src->name, true, secret, prev,
				      &dst->prev_until, msg, sizeof msg) < 0) {
			il_log(IL_LOG_WARN, "tenant %s: REST credentials off: %s", src->name, msg);
			continue;
		}
		il_io_secret_text(secret, dst->secret);
		il_io_secret_text(prev, dst->prev);
		OPENSSL_cleanse(secret, sizeof secret);
		OPENSSL_cleanse(prev, sizeof prev);
		dst->rest = true;
	}
	return c;
oom:
	io_creds_free(c);
	io_fail(err, err_len, "out of memory");
	return NULL;
}

void io_creds_free(io_creds *c)
{
	if (!c)
		return;
	for (size_t t = 0; t < IL_IO_MAX_TENANTS; t++)
		tenant_creds_free(&c->tenants[t]);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

void io_creds_replace(io_creds *c, io_creds *fresh)
{
	io_tenant_creds old[IL_IO_MAX_TENANTS];
	pthread_rwlock_wrlock(&c->lock);
	memcpy(old, c->tenants, sizeof old);
	memcpy(c->tenants, fresh->tenants, sizeof old);
	c->count = fresh->count;
	pthread_rwlock_unlock(&c->lock);
	memcpy(fresh->tenants, old, sizeof old);
	io_creds_free(fresh);
}

/* REST (draft §4.2, §5.2): il_rest_long_term_keys checks the username
 * (decimal EXPIRY, a colon, a user; EXPIRY still ahead) and gives the key
 * of the current secret and, while its grace lasts, of the previous one. */
static size_t rest_keys(const io_tenant_creds *t, const char *realm, const char *username,
			enum il_stun_password_algorithm alg, uint64_t now_s,
			il_stun_key keys[IL_TURN_MAX_KEYS])
{
	il_rest_verifier v = {
		.secret = (const uint8_t *)t->secret,
		.secret_len = strlen(t->secret),
		.previous = t->prev_until ? (const uint8_t *)t->prev : NULL,
		.previous_len = t->prev_until ? strlen(t->prev) : 0,
		.previous_until_s = t->prev_until,
	};
	size_t n = 0;
	if (il_rest_long_term_keys(&v, username, realm, alg, now_s, keys, &n) != IL_REST_OK)
		return 0;
	return n;
}

size_t io_creds_lookup(io_creds *c, int tenant, const char *realm, const char *username,
		       enum il_stun_password_algorithm alg, uint64_t now_s,
		       il_stun_key keys[IL_TURN_MAX_KEYS])
{
	size_t found = 0;
	pthread_rwlock_rdlock(&c->lock);
	if (tenant >= 0 && (size_t)tenant < c->count) {
		const io_tenant_creds *t = &c->tenants[tenant];
		if (strcmp(realm, t->realm) == 0) {
			io_user_key probe = {.name = (char *)username};
			const io_user_key *u = bsearch(&probe, t->users, t->count, sizeof *u, user_cmp);
			if (u && alg == IL_STUN_PWALG_SHA256 && u->has_sha256) {
				keys[0] = u->sha256;
				found = 1;
			} else if (u && alg == IL_STUN_PWALG_MD5 && u->has_md5) {
				keys[0] = u->md5;
				found = 1;
			} else if (!u && t->rest) {
				found = rest_keys(t, realm, username, alg, now_s, keys);
			}
		}
	}
	pthread_rwlock_unlock(&c->lock);
	return found;
}

/* USERHASH names static users only: a REST username is not known ahead. */
bool io_creds_lookup_userhash(io_creds *c, int tenant, const char *realm,
			      const uint8_t userhash[32], enum il_stun_password_algorithm alg,
			      il_stun_key *key, char *username, size_t username_cap)
{
	bool found = false;
	pthread_rwlock_rdlock(&c->lock);
	if (tenant >= 0 && (size_t)tenant < c->count && strcmp(realm, c->tenants[tenant].realm) == 0) {
		const io_tenant_creds *t = &c->tenants[tenant];
		for (size_t i = 0; i < t->count && !found; i++) {
			const io_user_key *u = &t->users[i];
			if (memcmp(u->userhash, userhash, 32) != 0 || strlen(u->name) >= username_cap)
				continue;
			if (alg == IL_STUN_PWALG_SHA256 && u->has_sha256)
				*key = u->sha256;
			else if (alg == IL_STUN_PWALG_MD5 && u->has_md5)
				*key = u->md5;
			else
				break;
			memcpy(username, u->name, strlen(u->name) + 1);
			found = true;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	return found;
}

/* ---- what a WebRTC client needs ---- */

static void url_host(const il_io_config *cfg, const il_addr *listen, char *out, size_t cap)
{
	il_addr a = *listen;
	if (a.family == IL_AF_INET && cfg->external_v4.family)
		a = cfg->external_v4;
	else if (a.family == IL_AF_INET6 && cfg->external_v6.family)
		a = cfg->external_v6;
	else if (io_addr_is_wildcard(&a))
		io_default_ip(a.family, &a);
	char ip[IL_ADDR_STRLEN];
	il_addr_format_ip(&a, ip, sizeof ip);
	if (a.family == IL_AF_INET6)
		snprintf(out, cap, "[%s]:%u", ip, listen->port);
	else
		snprintf(out, cap, "%s:%u", ip, listen->port);
}

char *il_io_ice_servers_json(const il_io_config *cfg, int tenant, const uint8_t *secret,
			     uint64_t now_s, const char *user_id)
{
	char username[IL_REST_USERNAME_MAX], password[IL_REST_PASSWORD_SIZE];
	char key[2 * IL_IO_SECRET_LEN + 1];
	il_io_secret_text(secret, key);
	if (il_rest_credential_make((const uint8_t *)key, strlen(key), user_id, now_s,
				    cfg->rest_ttl_s, username, sizeof username,
				    password) != IL_REST_OK)
		return NULL;
	size_t cap = 8192, n = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	n += (size_t)snprintf(out + n, cap - n, "{\"iceServers\":[{\"urls\":[");
	bool first = true;
	for (size_t i = 0; i < cfg->listen_count && n + 300 < cap; i++) {
		const il_io_listen *l = &cfg->listen[i];
		if (l->tenant != tenant)
			continue;
		char host[IL_ADDR_STRLEN + 16];
		url_host(cfg, &l->addr, host, sizeof host);
		if (l->kind == IL_IO_LISTEN_TLS) {
			n += (size_t)snprintf(out + n, cap - n, "%s\"turns:%s?transport=tcp\"",
					      first ? "" : ",", host);
			first = false;
			continue;
		}
		if (cfg->udp) {
			n += (size_t)snprintf(out + n, cap - n,
					      "%s\"stun:%s\",\"turn:%s?transport=udp\"",
					      first ? "" : ",", host, host);
			first = false;
		}
		if (cfg->tcp) {
			n += (size_t)snprintf(out + n, cap - n, "%s\"turn:%s?transport=tcp\"",
					      first ? "" : ",", host);
			first = false;
		}
	}
	snprintf(out + n, cap - n, "],\"username\":\"%s\",\"credential\":\"%s\"}],\"ttl\":%u}",
		 username, password, cfg->rest_ttl_s);
	return out;
}
