/* The vector runner: loads every *.json vector under a directory (the
 * format is in vectors/README.md), decodes its bytes with libicelab and
 * holds the result against the vector's "expect".
 *
 *   vector_runner DIR            failures, then "vectors: N passed, N failed"
 *   vector_runner --table DIR    one row per vector (make demo), then the same line
 *
 * Exit 0 when every vector meets its expectation, 1 when one does not, 2 on
 * a harness error (bad usage, an unreadable or invalid vector file). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "icelab/channeldata.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"
#include "icelab/stun_json.h"

enum { EXIT_ALL_PASSED = 0, EXIT_SOME_FAILED = 1, EXIT_HARNESS = 2 };

/* ---- growable text: cells and reasons are built piece by piece, and a
 * fixed buffer would cut off exactly the part that says why ---- */

struct text {
	char *s;
	size_t len, cap;
};

static void die_oom(void)
{
	fputs("vector_runner: out of memory\n", stderr);
	exit(EXIT_HARNESS);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die_oom();
	return p;
}

__attribute__((format(printf, 2, 3)))
static void text_addf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = (t->len + (size_t)n + 1) * 2;
		t->s = xrealloc(t->s, t->cap);
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* Appends piece, preceded by sep unless t is still empty. */
static void text_add_item(struct text *t, const char *sep, const char *piece)
{
	text_addf(t, "%s%s", t->len ? sep : "", piece);
}

static const char *text_str(const struct text *t)
{
	return t->s ? t->s : "";
}

static void text_free(struct text *t)
{
	free(t->s);
	*t = (struct text){0};
}

/* ---- vectors as loaded ---- */

struct vector {
	char *path;
	json_t *root;           /* owns the strings and objects below */
	const char *name, *rfc, *section;
	bool channeldata;       /* "kind": "channeldata" */
	json_t *creds;          /* NULL when the vector has none */
	json_t *expect;
	uint8_t *bytes;         /* exactly len bytes, so ASan sees over-reads */
	size_t len;
};

/* One vector's verdict: the two table cells and, on failure, why. */
struct outcome {
	bool passed;
	struct text expected, got, why;
};

static void outcome_fail(struct outcome *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void outcome_fail(struct outcome *o, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	o->passed = false;
	text_add_item(&o->why, "; ", buf);
}

/* Adds one check to both cells; a check that does not hold fails the
 * vector with both sides named. */
static void outcome_record(struct outcome *o, const char *label, const char *expected,
			   const char *got, bool holds)
{
	char cell[512];
	const char *sep = *label ? " " : "";
	snprintf(cell, sizeof cell, "%s%s%s", label, sep, expected);
	text_add_item(&o->expected, ", ", cell);
	snprintf(cell, sizeof cell, "%s%s%s", label, sep, got);
	text_add_item(&o->got, ", ", cell);
	if (!holds)
		outcome_fail(o, "%s: expected %s, got %s", *label ? label : "message", expected,
			     got);
}

/* ---- file discovery ---- */

struct path_list {
	char **paths;
	size_t count, cap;
};

static bool has_json_suffix(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static void path_list_add(struct path_list *l, char *path)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->paths = xrealloc(l->paths, l->cap * sizeof *l->paths);
	}
	l->paths[l->count++] = path;
}

/* Collects *.json files under dir, recursively (vectors are grouped in
 * subdirectories by origin). Hidden entries are skipped. Returns false
 * with a message when dir cannot be read. */
static bool collect_vector_files(const char *dir, struct path_list *out)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "vector_runner: %s: cannot open directory: %s\n", dir,
			strerror(errno));
		return false;
	}
	bool ok = true;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		size_t n = strlen(dir) + strlen(e->d_name) + 2;
		char *path = xrealloc(NULL, n);
		snprintf(path, n, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) != 0) {
			fprintf(stderr, "vector_runner: %s: cannot stat: %s\n", path, strerror(errno));
			ok = false;
			free(path);
		} else if (S_ISDIR(st.st_mode)) {
			ok = collect_vector_files(path, out) && ok;
			free(path);
		} else if (S_ISREG(st.st_mode) && has_json_suffix(e->d_name)) {
			path_list_add(out, path);
		} else {
			free(path);
		}
	}
	closedir(d);
	return ok;
}

/* ---- vector validation: a typo in a vector must be a harness error, not
 * a silently skipped check ---- */

static bool is_one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/* Every key of obj must be in allowed. */
static bool check_keys(const json_t *obj, const char *const *allowed, const char *where,
		       struct text *err)
{
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)obj, key, val) {
		if (!is_one_of(key, allowed)) {
			text_addf(err, "unknown key \"%s\" in %s", key, where);
			return false;
		}
	}
	return true;
}

static const char *string_member(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static bool require_string(const json_t *obj, const char *key, const char *where,
			   struct text *err)
{
	if (string_member(obj, key))
		return true;
	text_addf(err, "%s: \"%s\" must be a string", where, key);
	return false;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex text to bytes; whitespace between digits is allowed (README). The
 * result is malloc'ed at exactly the decoded size. */
static bool parse_hex(const char *hex, uint8_t **out, size_t *out_len, struct text *err)
{
	uint8_t *bytes = xrealloc(NULL, strlen(hex) / 2 + 1);
	size_t n = 0;
	int high = -1;
	for (const char *p = hex; *p; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
			continue;
		int d = hex_digit(*p);
		if (d < 0) {
			text_addf(err, "\"hex\": '%c' at character %zu is not a hex digit", *p,
				  (size_t)(p - hex));
			free(bytes);
			return false;
		}
		if (high < 0) {
			high = d;
		} else {
			bytes[n++] = (uint8_t)(high << 4 | d);
			high = -1;
		}
	}
	if (high >= 0) {
		text_addf(err, "\"hex\": odd number of hex digits");
		free(bytes);
		return false;
	}
	/* Shrink to the exact size: a decoder reading one byte too far must
	 * trip AddressSanitizer, not land in slack. */
	*out = xrealloc(bytes, n);
	*out_len = n;
	return true;
}

static bool is_decode_name(const char *s)
{
	for (int e = 0; e < IL_STUN_ERR__COUNT; e++)
		if (strcmp(s, il_stun_err_name((enum il_stun_err)e)) == 0)
			return true;
	return false;
}

/* Type of an expected attribute: "type" when given, else the registry
 * entry whose name is "name". */
static bool expected_attr_type(const json_t *entry, uint16_t *type)
{
	json_t *t = json_object_get(entry, "type");
	if (json_is_integer(t)) {
		json_int_t v = json_integer_value(t);
		if (v < 0 || v > 0xFFFF)
			return false;
		*type = (uint16_t)v;
		return true;
	}
	const char *name = string_member(entry, "name");
	if (!name)
		return false;
	/* The JSON form names a type unknown to the registry "0x" + 4 hex. */
	if (strlen(name) == 6 && name[0] == '0' && name[1] == 'x') {
		char *end;
		unsigned long v = strtoul(name + 2, &end, 16);
		*type = (uint16_t)v;
		return *end == '\0';
	}
	size_t count;
	const il_stun_attr_info *all = il_stun_attr_info_all(&count);
	for (size_t i = 0; i < count; i++) {
		if (strcmp(all[i].name, name) == 0) {
			*type = all[i].type;
			return true;
		}
	}
	return false;
}

static bool validate_credentials(const json_t *creds, struct text *err)
{
	static const char *const keys[] = {"password", "username", "realm",
					   "userhash_username", "password_algorithm", NULL};
	static const char *const algs[] = {"md5", "sha256", NULL};
	if (!json_is_object(creds)) {
		text_addf(err, "\"credentials\" must be an object");
		return false;
	}
	if (!check_keys(creds, keys, "credentials", err))
		return false;
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)creds, key, val) {
		if (!json_is_string(val)) {
			text_addf(err, "credentials: \"%s\" must be a string", key);
			return false;
		}
	}
	if (!require_string(creds, "password", "credentials", err))
		return false;
	const char *alg = string_member(creds, "password_algorithm");
	if (alg && !is_one_of(alg, algs)) {
		text_addf(err, "credentials: password_algorithm \"%s\" is not md5 or sha256", alg);
		return false;
	}
	if (string_member(creds, "realm") && !string_member(creds, "username") &&
	    !string_member(creds, "userhash_username")) {
		text_addf(err, "credentials: a realm needs \"username\" or \"userhash_username\"");
		return false;
	}
	return true;
}

static bool validate_expected_attributes(const json_t *attrs, struct text *err)
{
	static const char *const keys[] = {"name",   "type", "length", "value", "ignored",
					   "raw",    "code", "reason", "types", NULL};
	if (!json_is_array(attrs)) {
		text_addf(err, "expect.attributes must be an array");
		return false;
	}
	size_t i;
	json_t *entry;
	json_array_foreach(attrs, i, entry) {
		char where[64];
		snprintf(where, sizeof where, "expect.attributes[%zu]", i);
		if (!json_is_object(entry)) {
			text_addf(err, "%s must be an object", where);
			return false;
		}
		if (!check_keys(entry, keys, where, err))
			return false;
		uint16_t type;
		if (!expected_attr_type(entry, &type)) {
			text_addf(err, "%s: no known \"name\" and no \"type\" 0-65535", where);
			return false;
		}
		json_t *ign = json_object_get(entry, "ignored");
		json_t *raw = json_object_get(entry, "raw");
		if ((ign && !json_is_boolean(ign)) || (raw && !json_is_boolean(raw))) {
			text_addf(err, "%s: \"ignored\" and \"raw\" must be booleans", where);
			return false;
		}
	}
	return true;
}

/* The checks a vector may ask for once its message decodes. */
static bool validate_stun_expect(const json_t *expect, struct text *err)
{
	static const char *const verdicts[] = {"ok", "mismatch", "absent", "unchecked", NULL};
	static const char *const verdict_keys[] = {"message_integrity", "message_integrity_sha256",
						   "fingerprint", "userhash", NULL};
	for (const char *const *k = verdict_keys; *k; k++) {
		json_t *v = json_object_get(expect, *k);
		if (v && (!json_is_string(v) || !is_one_of(json_string_value(v), verdicts))) {
			text_addf(err, "expect.%s must be ok, mismatch, absent or unchecked", *k);
			return false;
		}
	}
	json_t *attrs = json_object_get(expect, "attributes");
	if (attrs && !validate_expected_attributes(attrs, err))
		return false;
	json_t *unknown = json_object_get(expect, "unknown_required");
	if (unknown) {
		size_t i;
		json_t *t;
		if (!json_is_array(unknown)) {
			text_addf(err, "expect.unknown_required must be an array of types");
			return false;
		}
		json_array_foreach(unknown, i, t) {
			if (!json_is_integer(t)) {
				text_addf(err, "expect.unknown_required[%zu] must be an integer", i);
				return false;
			}
		}
	}
	json_t *rt = json_object_get(expect, "roundtrip");
	json_t *classic = json_object_get(expect, "classic");
	if ((rt && !json_is_boolean(rt)) || (classic && !json_is_boolean(classic))) {
		text_addf(err, "expect.roundtrip and expect.classic must be booleans");
		return false;
	}
	const char *method = string_member(expect, "method");
	const char *cls = string_member(expect, "class");
	if ((json_object_get(expect, "method") && !method) ||
	    (json_object_get(expect, "class") && !cls)) {
		text_addf(err, "expect.method and expect.class must be strings");
		return false;
	}
	return true;
}

static bool validate_channeldata_expect(const json_t *expect, struct text *err)
{
	json_t *ch = json_object_get(expect, "channel");
	json_t *data = json_object_get(expect, "data");
	if (ch && !json_is_integer(ch)) {
		text_addf(err, "expect.channel must be an integer");
		return false;
	}
	if (data && !json_is_string(data)) {
		text_addf(err, "expect.data must be a hex string");
		return false;
	}
	if (data) {
		uint8_t *bytes;
		size_t len;
		if (!parse_hex(json_string_value(data), &bytes, &len, err))
			return false;
		free(bytes);
	}
	return true;
}

static bool validate_expect(const json_t *expect, bool channeldata, struct text *err)
{
	static const char *const stun_keys[] = {
		"decode", "offset", "message_integrity", "message_integrity_sha256",
		"fingerprint", "userhash", "attributes", "unknown_required", "method", "class",
		"classic", "roundtrip", NULL};
	static const char *const channeldata_keys[] = {"decode", "offset", "channel", "data",
						       NULL};
	if (!json_is_object(expect)) {
		text_addf(err, "\"expect\" must be an object");
		return false;
	}
	if (!check_keys(expect, channeldata ? channeldata_keys : stun_keys, "expect", err))
		return false;
	const char *decode = string_member(expect, "decode");
	if (!decode || !is_decode_name(decode)) {
		text_addf(err, "expect.decode must be \"ok\" or an il_stun_err_name() name");
		return false;
	}
	json_t *offset = json_object_get(expect, "offset");
	bool decodes = strcmp(decode, "ok") == 0;
	if (offset && (decodes || !json_is_integer(offset))) {
		text_addf(err, "expect.offset must be an integer, and only with a decode error");
		return false;
	}
	/* Checks of a message that must not decode could never run. */
	if (!decodes && json_object_size(expect) > (offset ? 2u : 1u)) {
		text_addf(err, "expect: a vector whose decode fails may only give decode and offset");
		return false;
	}
	return channeldata ? validate_channeldata_expect(expect, err)
			   : validate_stun_expect(expect, err);
}

/* Fills v from its parsed JSON; false with err filled when the file does
 * not follow vectors/README.md. */
static bool validate_vector(struct vector *v, struct text *err)
{
	static const char *const keys[] = {"name", "rfc", "section", "provenance", "description",
					   "hex", "kind", "credentials", "expect", NULL};
	static const char *const required[] = {"name", "rfc", "section", "provenance",
					       "description", "hex", NULL};
	if (!json_is_object(v->root)) {
		text_addf(err, "not a JSON object");
		return false;
	}
	if (!check_keys(v->root, keys, "the vector", err))
		return false;
	for (const char *const *k = required; *k; k++)
		if (!require_string(v->root, *k, "the vector", err))
			return false;
	v->name = string_member(v->root, "name");
	v->rfc = string_member(v->root, "rfc");
	v->section = string_member(v->root, "section");
	json_t *kind = json_object_get(v->root, "kind");
	if (kind) {
		const char *k = json_string_value(kind);
		if (!k || (strcmp(k, "stun") != 0 && strcmp(k, "channeldata") != 0)) {
			text_addf(err, "\"kind\" must be \"stun\" or \"channeldata\"");
			return false;
		}
		v->channeldata = strcmp(k, "channeldata") == 0;
	}
	v->creds = json_object_get(v->root, "credentials");
	if (v->creds && v->channeldata) {
		text_addf(err, "a channeldata vector has no credentials");
		return false;
	}
	if (v->creds && !validate_credentials(v->creds, err))
		return false;
	v->expect = json_object_get(v->root, "expect");
	if (!v->expect) {
		text_addf(err, "missing \"expect\"");
		return false;
	}
	if (!validate_expect(v->expect, v->channeldata, err))
		return false;
	return parse_hex(string_member(v->root, "hex"), &v->bytes, &v->len, err);
}

static bool load_vector(const char *path, struct vector *v, struct text *err)
{
	json_error_t jerr;
	*v = (struct vector){.path = strdup(path)};
	if (!v->path)
		die_oom();
	v->root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!v->root) {
		text_addf(err, "line %d: %s", jerr.line, jerr.text);
		return false;
	}
	return validate_vector(v, err);
}

static void vector_free(struct vector *v)
{
	free(v->path);
	free(v->bytes);
	json_decref(v->root);
	*v = (struct vector){0};
}

/* ---- STUN checks: one function per expectation ---- */

static void check_decode(const struct vector *v, enum il_stun_err rc, size_t offset,
			 struct outcome *o)
{
	const char *want = string_member(v->expect, "decode");
	json_t *want_offset = json_object_get(v->expect, "offset");
	char exp[128], got[128];
	/* The offset is part of the expectation only when the vector gives it. */
	if (want_offset)
		snprintf(exp, sizeof exp, "%s at %lld", want,
			 (long long)json_integer_value(want_offset));
	else
		snprintf(exp, sizeof exp, "%s", want);
	if (rc == IL_STUN_OK)
		snprintf(got, sizeof got, "ok");
	else
		snprintf(got, sizeof got, "%s at %zu", il_stun_err_name(rc), offset);
	bool holds = strcmp(want, il_stun_err_name(rc)) == 0 &&
		     (!want_offset || (json_int_t)offset == json_integer_value(want_offset));
	outcome_record(o, "decode", exp, got, holds);
}

static uint16_t message_password_algorithm(const il_stun_msg *msg)
{
	const il_stun_attr *a = il_stun_msg_find(msg, IL_ATTR_PASSWORD_ALGORITHM);
	uint16_t alg;
	if (a && il_stun_attr_get_password_algorithm(msg, a, &alg) == IL_STUN_OK)
		return alg;
	return IL_STUN_PWALG_MD5;
}

/* The key the credentials give: short-term when there is no realm, else
 * long-term with the algorithm the vector names, or the one the message's
 * PASSWORD-ALGORITHM names, or MD5 (RFC 8489 §9.2.2). Returns false when
 * the vector has no credentials or the key cannot be made (then o fails). */
static bool make_key(const struct vector *v, const il_stun_msg *msg, il_stun_key *key,
		     struct outcome *o)
{
	if (!v->creds)
		return false;
	const char *password = string_member(v->creds, "password");
	const char *realm = string_member(v->creds, "realm");
	enum il_stun_err rc;
	if (!realm) {
		rc = il_stun_key_short_term(key, password);
	} else {
		const char *user = string_member(v->creds, "username");
		if (!user)
			user = string_member(v->creds, "userhash_username");
		const char *alg_name = string_member(v->creds, "password_algorithm");
		uint16_t alg = alg_name ? (strcmp(alg_name, "sha256") == 0 ? IL_STUN_PWALG_SHA256
									   : IL_STUN_PWALG_MD5)
					: message_password_algorithm(msg);
		rc = il_stun_key_long_term(key, (enum il_stun_password_algorithm)alg, user, realm,
					   password);
	}
	if (rc != IL_STUN_OK) {
		outcome_fail(o, "credentials: cannot make the key: %s", il_stun_err_name(rc));
		return false;
	}
	return true;
}

static void check_verdict(const struct vector *v, const char *key, const char *label,
			  enum il_stun_verdict got, struct outcome *o)
{
	const char *want = string_member(v->expect, key);
	if (!want)
		return;
	const char *got_name = il_stun_verdict_name(got);
	outcome_record(o, label, want, got_name, strcmp(want, got_name) == 0);
}

/* USERHASH against SHA-256(username ":" realm) of the credentials
 * (RFC 8489 §14.4); unchecked when the vector gives no userhash_username. */
static enum il_stun_verdict userhash_verdict(const struct vector *v, const il_stun_msg *msg,
					     struct outcome *o)
{
	const il_stun_attr *a = il_stun_msg_find(msg, IL_ATTR_USERHASH);
	if (!a)
		return IL_STUN_VERDICT_ABSENT;
	const char *user = v->creds ? string_member(v->creds, "userhash_username") : NULL;
	const char *realm = v->creds ? string_member(v->creds, "realm") : NULL;
	if (!user || !realm)
		return IL_STUN_VERDICT_UNCHECKED;
	uint8_t hash[32];
	enum il_stun_err rc = il_stun_userhash(user, realm, hash);
	if (rc != IL_STUN_OK) {
		outcome_fail(o, "userhash: %s", il_stun_err_name(rc));
		return IL_STUN_VERDICT_MISMATCH;
	}
	bool same = a->length == sizeof hash &&
		    memcmp(il_stun_attr_value(msg, a), hash, sizeof hash) == 0;
	return same ? IL_STUN_VERDICT_OK : IL_STUN_VERDICT_MISMATCH;
}

/* Method and class as one cell item ("binding request"): what a reader
 * of the table calls the message. */
static void check_method_class(const struct vector *v, const il_stun_msg *msg,
			       struct outcome *o)
{
	const char *want_method = string_member(v->expect, "method");
	const char *want_class = string_member(v->expect, "class");
	if (!want_method && !want_class)
		return;
	char raw[16], exp[96], got[96];
	const char *method = il_stun_method_name(msg->method);
	const char *cls = il_stun_class_name(msg->cls);
	if (!method) {
		snprintf(raw, sizeof raw, "0x%03x", msg->method);
		method = raw;
	}
	cls = cls ? cls : "?";
	snprintf(exp, sizeof exp, "%s %s", want_method ? want_method : method,
		 want_class ? want_class : cls);
	snprintf(got, sizeof got, "%s %s", method, cls);
	outcome_record(o, "", exp, got, strcmp(exp, got) == 0);
}

static char *json_text(const json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (!s)
		s = strdup("(absent)");
	if (!s)
		die_oom();
	return s;
}

/* The attribute as `icelab stun decode --json` shows it must hold every
 * key the vector gives, with the same JSON value. The form leaves out
 * "ignored" and "raw" when false, so absent counts as false there. */
static bool attr_matches(const json_t *entry, const json_t *shown, const char *label,
			 struct outcome *o)
{
	bool ok = true;
	const char *key;
	json_t *want;
	json_object_foreach((json_t *)entry, key, want) {
		json_t *got = json_object_get(shown, key);
		if (!got && json_is_boolean(want))
			got = json_false();
		if (got && json_equal(got, want))
			continue;
		char *ws = json_text(want), *gs = json_text(got);
		outcome_fail(o, "%s: \"%s\" expected %s, got %s", label, key, ws, gs);
		free(ws);
		free(gs);
		ok = false;
	}
	return ok;
}

/* Listed attributes must appear in this order among themselves (README):
 * each is matched with the next attribute of its type after the previous
 * match, and compared with its JSON form (shown: the "attributes" array of
 * il_stun_msg_to_json, in wire order). */
static void check_attributes(const struct vector *v, const il_stun_msg *msg,
			     const json_t *shown, struct outcome *o)
{
	json_t *attrs = json_object_get(v->expect, "attributes");
	if (!attrs)
		return;
	size_t n = json_array_size(attrs), good = 0, next = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *entry = json_array_get(attrs, i);
		uint16_t type = 0;
		expected_attr_type(entry, &type); /* validated on load */
		char label[96];
		const il_stun_attr_info *info = il_stun_attr_info_find(type);
		snprintf(label, sizeof label, "attribute %zu (%s)", i,
			 info ? info->name : "unknown type");
		size_t k = next;
		while (k < msg->attr_count && msg->attrs[k].type != type)
			k++;
		if (k == msg->attr_count) {
			outcome_fail(o, "%s: 0x%04x not found from attribute %zu on", label, type,
				     next);
			continue;
		}
		next = k + 1;
		json_t *shown_attr = json_array_get(shown, k);
		if (!shown_attr) {
			outcome_fail(o, "%s: missing from the JSON form", label);
			continue;
		}
		if (attr_matches(entry, shown_attr, label, o))
			good++;
	}
	char exp[32], got[32];
	snprintf(exp, sizeof exp, "%zu", n);
	snprintf(got, sizeof got, good == n ? "%zu ok" : "%zu of %zu ok", good, n);
	outcome_record(o, "attrs", exp, got, true); /* mismatches failed above */
}

/* Comprehension-required attributes the codec does not know, for a 420
 * (RFC 8489 §6.3.1): the exact list, in order. */
static void check_unknown_required(const struct vector *v, const il_stun_msg *msg,
				   struct outcome *o)
{
	json_t *want = json_object_get(v->expect, "unknown_required");
	if (!want)
		return;
	struct text exp = {0}, got = {0};
	size_t i;
	json_t *t;
	json_array_foreach(want, i, t) {
		char item[16];
		snprintf(item, sizeof item, "0x%04llx", (unsigned long long)json_integer_value(t));
		text_add_item(&exp, " ", item);
	}
	for (i = 0; i < msg->unknown_required_count; i++) {
		char item[16];
		snprintf(item, sizeof item, "0x%04x", msg->unknown_required[i]);
		text_add_item(&got, " ", item);
	}
	const char *es = exp.len ? text_str(&exp) : "none";
	const char *gs = got.len ? text_str(&got) : "none";
	outcome_record(o, "unknown", es, gs, strcmp(es, gs) == 0);
	text_free(&exp);
	text_free(&got);
}

/* Decode -> JSON -> encode gives the same bytes: the JSON form loses
 * nothing (our own vectors pad with zeros, as the builder does). */
static void check_roundtrip(const struct vector *v, const json_t *view,
			    const il_stun_credentials *creds, struct outcome *o)
{
	if (!json_is_true(json_object_get(v->expect, "roundtrip")))
		return;
	size_t cap = IL_STUN_HEADER_LEN + 65536;
	uint8_t *out = xrealloc(NULL, cap);
	char errbuf[256] = "";
	size_t n = il_stun_msg_from_json(view, creds, out, cap, errbuf, sizeof errbuf);
	char got[320];
	if (n == 0) {
		snprintf(got, sizeof got, "encode failed: %s", errbuf);
	} else if (n != v->len || memcmp(out, v->bytes, n) != 0) {
		size_t at = 0;
		while (at < n && at < v->len && out[at] == v->bytes[at])
			at++;
		snprintf(got, sizeof got, "differs at byte %zu (%zu vs %zu bytes)", at, n, v->len);
	} else {
		snprintf(got, sizeof got, "ok");
	}
	outcome_record(o, "roundtrip", "ok", got, strcmp(got, "ok") == 0);
	free(out);
}

/* The credentials as stun_json.h takes them: long-term when there is a
 * realm, the USERHASH username standing in for the username. */
static il_stun_credentials json_credentials(const struct vector *v)
{
	il_stun_credentials c = {0};
	if (!v->creds)
		return c;
	c.password = string_member(v->creds, "password");
	c.realm = string_member(v->creds, "realm");
	if (c.realm) {
		c.username = string_member(v->creds, "username");
		if (!c.username)
			c.username = string_member(v->creds, "userhash_username");
	}
	return c;
}

static void check_classic(const struct vector *v, const il_stun_msg *msg, struct outcome *o)
{
	json_t *want = json_object_get(v->expect, "classic");
	if (!want)
		return;
	const char *ws = json_is_true(want) ? "yes" : "no";
	const char *gs = msg->classic ? "yes" : "no";
	outcome_record(o, "RFC 3489", ws, gs, json_is_true(want) == msg->classic);
}

static void run_stun_vector(const struct vector *v, struct outcome *o)
{
	il_stun_msg msg;
	il_stun_decode_error derr = {0};
	enum il_stun_err rc = il_stun_decode(v->bytes, v->len, &msg, &derr);
	check_decode(v, rc, derr.offset, o);
	if (rc != IL_STUN_OK)
		return;
	il_stun_key key;
	bool have_key = make_key(v, &msg, &key, o);
	check_method_class(v, &msg, o);
	check_verdict(v, "message_integrity", "MI",
		      il_stun_check_integrity(&msg, have_key ? &key : NULL), o);
	check_verdict(v, "message_integrity_sha256", "MI256",
		      il_stun_check_integrity_sha256(&msg, have_key ? &key : NULL), o);
	check_verdict(v, "fingerprint", "FP", il_stun_check_fingerprint(&msg), o);
	if (json_object_get(v->expect, "userhash"))
		check_verdict(v, "userhash", "USERHASH", userhash_verdict(v, &msg, o), o);
	check_classic(v, &msg, o);
	check_unknown_required(v, &msg, o);
	if (!json_object_get(v->expect, "attributes") &&
	    !json_object_get(v->expect, "roundtrip"))
		return;
	/* The JSON form, as `icelab stun decode --json` prints it. */
	il_stun_credentials creds = json_credentials(v);
	json_t *view = il_stun_msg_to_json(&msg, v->creds ? &creds : NULL);
	if (!view) {
		outcome_fail(o, "il_stun_msg_to_json gave nothing");
		return;
	}
	check_attributes(v, &msg, json_object_get(view, "attributes"), o);
	check_roundtrip(v, view, v->creds ? &creds : NULL, o);
	json_decref(view);
}

/* ---- ChannelData checks ---- */

static void run_channeldata_vector(const struct vector *v, struct outcome *o)
{
	il_channeldata cd;
	il_stun_decode_error derr = {0};
	enum il_stun_err rc = il_channeldata_decode(v->bytes, v->len, &cd, &derr);
	check_decode(v, rc, derr.offset, o);
	if (rc != IL_STUN_OK)
		return;
	json_t *want_ch = json_object_get(v->expect, "channel");
	if (want_ch) {
		char exp[16], got[16];
		snprintf(exp, sizeof exp, "0x%04llx", (unsigned long long)json_integer_value(want_ch));
		snprintf(got, sizeof got, "0x%04x", cd.channel);
		outcome_record(o, "channel", exp, got, strcmp(exp, got) == 0);
	}
	const char *want_data = string_member(v->expect, "data");
	if (want_data) {
		uint8_t *bytes = NULL;
		size_t len = 0;
		struct text err = {0};
		parse_hex(want_data, &bytes, &len, &err); /* validated on load */
		bool same = len == cd.length && (len == 0 || memcmp(bytes, cd.data, len) == 0);
		char exp[32], got[32];
		snprintf(exp, sizeof exp, "%zu bytes", len);
		snprintf(got, sizeof got, "%u bytes%s", cd.length,
			 same || len != cd.length ? "" : " (differ)");
		outcome_record(o, "data", exp, got, same);
		free(bytes);
		text_free(&err);
	}
}

static void run_vector(const struct vector *v, struct outcome *o)
{
	*o = (struct outcome){.passed = true};
	if (v->channeldata)
		run_channeldata_vector(v, o);
	else
		run_stun_vector(v, o);
}

/* ---- output ---- */

static int compare_vector_names(const void *a, const void *b)
{
	return strcmp(((const struct vector *)a)->name, ((const struct vector *)b)->name);
}

static size_t max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

static void print_table(const struct vector *vs, const struct outcome *os, size_t n)
{
	char section[96];
	size_t w_name = strlen("vector"), w_rfc = strlen("RFC section"),
	       w_exp = strlen("expected"), w_got = strlen("got");
	for (size_t i = 0; i < n; i++) {
		snprintf(section, sizeof section, "%s §%s", vs[i].rfc, vs[i].section);
		w_name = max_size(w_name, strlen(vs[i].name));
		/* "§" is two bytes but one column. */
		w_rfc = max_size(w_rfc, strlen(section) - 1);
		w_exp = max_size(w_exp, os[i].expected.len);
		w_got = max_size(w_got, os[i].got.len);
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)w_name, "vector", (int)w_rfc, "RFC section",
	       (int)w_exp, "expected", (int)w_got, "got", "result");
	for (size_t i = 0; i < n; i++) {
		snprintf(section, sizeof section, "%s §%s", vs[i].rfc, vs[i].section);
		printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)w_name, vs[i].name, (int)w_rfc + 1,
		       section, (int)w_exp, text_str(&os[i].expected), (int)w_got,
		       text_str(&os[i].got), os[i].passed ? "pass" : "FAIL");
	}
}

static void print_failures(const struct vector *vs, const struct outcome *os, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!os[i].passed)
			printf("FAIL %s (%s): %s\n", vs[i].name, vs[i].path, text_str(&os[i].why));
}

/* ---- main ---- */

static int usage(FILE *to, int code)
{
	fputs("usage: vector_runner [--table] DIR\n"
	      "Checks every *.json vector under DIR (format: vectors/README.md).\n"
	      "Exit 0 all passed, 1 a vector failed, 2 bad usage or an invalid vector file.\n",
	      to);
	return code;
}

/* Loads every file; invalid ones are reported and counted, not fatal, so
 * one broken file does not hide the verdicts of the others. */
static size_t load_vectors(const struct path_list *files, struct vector *vs, size_t *invalid)
{
	size_t n = 0;
	for (size_t i = 0; i < files->count; i++) {
		struct text err = {0};
		if (load_vector(files->paths[i], &vs[n], &err)) {
			n++;
		} else {
			fprintf(stderr, "vector_runner: %s: invalid vector: %s\n", files->paths[i],
				text_str(&err));
			vector_free(&vs[n]);
			(*invalid)++;
		}
		text_free(&err);
	}
	return n;
}

/* Two files with one name would make the table ambiguous. */
static size_t count_duplicate_names(const struct vector *vs, size_t n)
{
	size_t dups = 0;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(vs[i - 1].name, vs[i].name) == 0) {
			fprintf(stderr, "vector_runner: %s and %s: both named \"%s\"\n",
				vs[i - 1].path, vs[i].path, vs[i].name);
			dups++;
		}
	}
	return dups;
}

/* Everything main allocated: LeakSanitizer runs with the ASan build. */
static void free_run(struct path_list *files, struct vector *vs, struct outcome *os, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		text_free(&os[i].expected);
		text_free(&os[i].got);
		text_free(&os[i].why);
		vector_free(&vs[i]);
	}
	for (size_t i = 0; i < files->count; i++)
		free(files->paths[i]);
	free(files->paths);
	free(os);
	free(vs);
}

int main(int argc, char **argv)
{
	bool table = false;
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--table") == 0)
			table = true;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return usage(stdout, EXIT_ALL_PASSED);
		else if (argv[i][0] == '-' || dir)
			return usage(stderr, EXIT_HARNESS);
		else
			dir = argv[i];
	}
	if (!dir)
		return usage(stderr, EXIT_HARNESS);

	struct path_list files = {0};
	bool listed = collect_vector_files(dir, &files);
	size_t invalid = listed ? 0 : 1;
	if (listed && files.count == 0) {
		fprintf(stderr, "vector_runner: %s: no *.json vectors\n", dir);
		invalid++;
	}
	struct vector *vs = xrealloc(NULL, files.count * sizeof *vs);
	size_t n = load_vectors(&files, vs, &invalid);
	qsort(vs, n, sizeof *vs, compare_vector_names);
	invalid += count_duplicate_names(vs, n);

	struct outcome *os = xrealloc(NULL, n * sizeof *os);
	size_t passed = 0;
	for (size_t i = 0; i < n; i++) {
		run_vector(&vs[i], &os[i]);
		passed += os[i].passed;
	}
	if (table)
		print_table(vs, os, n);
	print_failures(vs, os, n);
	printf("vectors: %zu passed, %zu failed", passed, n - passed);
	if (invalid)
		printf(", %zu invalid vector files", invalid);
	printf("\n");

	free_run(&files, vs, os, n);
	if (invalid)
		return EXIT_HARNESS;
	return passed == n ? EXIT_ALL_PASSED : EXIT_SOME_FAILED;
}
