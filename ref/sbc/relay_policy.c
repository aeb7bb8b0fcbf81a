/* The force-relay policy (sbc_relay.h): per-user and per-tenant rules read
 * from config lines, and the decision for one call, where the most
 * specific level that says something wins: session, user, tenant. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/sbc_relay.h"

enum rule_scope { SCOPE_USER = 0, SCOPE_TENANT = 1 };

typedef struct rule {
	int scope;
	bool on;
	char name[IL_SBC_POLICY_NAME_MAX + 1];
} rule;

struct il_sbc_policy {
	rule *rules;
	size_t count, cap;
};

il_sbc_policy *il_sbc_policy_new(void)
{
	return calloc(1, sizeof(il_sbc_policy));
}

void il_sbc_policy_free(il_sbc_policy *p)
{
	if (!p)
		return;
	free(p->rules);
	free(p);
}

size_t il_sbc_policy_rule_count(const il_sbc_policy *p)
{
	return p ? p->count : 0;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '@' || c == '+' || c == '-';
}

/* Replaces the rule for the same scope and name (a reload's later line
 * wins), or appends one. */
static int put_rule(il_sbc_policy *p, const rule *r)
{
	for (size_t i = 0; i < p->count; i++)
		if (p->rules[i].scope == r->scope && !strcmp(p->rules[i].name, r->name)) {
			p->rules[i] = *r;
			return 0;
		}
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		rule *n = realloc(p->rules, cap * sizeof *n);
		if (!n)
			return -1;
		p->rules = n;
		p->cap = cap;
	}
	p->rules[p->count++] = *r;
	return 0;
}

/* "[no-]force-relay user=NAME" or "... tenant=NAME": 1 with *r filled, 0
 * for a blank or comment line, -1 with err. */
static int parse_line(const char *line, size_t len, rule *r, char *err, size_t errlen)
{
	char buf[256];
	const char *hash = memchr(line, '#', len);
	if (hash)
		len = (size_t)(hash - line);
	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	while (len && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	if (len == 0)
		return 0;
	if (len >= sizeof buf)
		return fail(err, errlen, "line too long (%zu bytes)", len);
	memcpy(buf, line, len);
	buf[len] = '\0';
	char *save = NULL, *verb = strtok_r(buf, " \t", &save), *arg = strtok_r(NULL, " \t", &save);
	memset(r, 0, sizeof *r);
	if (!strcmp(verb, "force-relay"))
		r->on = true;
	else if (strcmp(verb, "no-force-relay") != 0)
		return fail(err, errlen, "unknown rule \"%.40s\" (force-relay, no-force-relay)", verb);
	if (!arg)
		return fail(err, errlen, "%s needs user=NAME or tenant=NAME", verb);
	if (strtok_r(NULL, " \t", &save))
		return fail(err, errlen, "%s takes one user=NAME or tenant=NAME", verb);
	const char *name;
	if (!strncmp(arg, "user=", 5)) {
		r->scope = SCOPE_USER;
		name = arg + 5;
	} else if (!strncmp(arg, "tenant=", 7)) {
		r->scope = SCOPE_TENANT;
		name = arg + 7;
	} else {
		return fail(err, errlen, "\"%.40s\": say user=NAME or tenant=NAME", arg);
	}
	size_t n = strlen(name);
	if (n == 0 || n > IL_SBC_POLICY_NAME_MAX)
		return fail(err, errlen, "%s name must be 1-%d characters", r->scope ? "tenant" : "user",
			    IL_SBC_POLICY_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i]))
			return fail(err, errlen, "bad character '%c' in \"%.40s\"", name[i], name);
	memcpy(r->name, name, n + 1);
	return 1;
}

int il_sbc_policy_add_line(il_sbc_policy *p, const char *line, char *err, size_t errlen)
{
	if (!p || !line)
		return fail(err, errlen, "no policy or line");
	rule r;
	int rc = parse_line(line, strlen(line), &r, err, errlen);
	if (rc <= 0)
		return rc;
	return put_rule(p, &r) == 0 ? 0 : fail(err, errlen, "out of memory");
}

int il_sbc_policy_load(il_sbc_policy *p, const char *text, char *err, size_t errlen)
{
	if (!p || !text)
		return fail(err, errlen, "no policy or text");
	/* Check every line first: a bad file changes nothing. */
	for (int pass = 0; pass < 2; pass++) {
		const char *at = text;
		unsigned lineno = 0;
		while (*at) {
			const char *nl = strchr(at, '\n');
			size_t len = nl ? (size_t)(nl - at) : strlen(at);
			lineno++;
			rule r;
			char why[160];
			int rc = parse_line(at, len, &r, why, sizeof why);
			if (rc < 0)
				return fail(err, errlen, "line %u: %s", lineno, why);
			if (rc > 0 && pass == 1 && put_rule(p, &r) != 0)
				return fail(err, errlen, "line %u: out of memory", lineno);
			at += len + (nl ? 1 : 0);
		}
	}
	return 0;
}

static const rule *find(const il_sbc_policy *p, int scope, const char *name)
{
	if (!p || !name || !*name)
		return NULL;
	for (size_t i = 0; i < p->count; i++)
		if (p->rules[i].scope == scope && !strcmp(p->rules[i].name, name))
			return &p->rules[i];
	return NULL;
}

int il_sbc_relay_flag_from_ng(const char *ice_value)
{
	return ice_value && !strcmp(ice_value, "force-relay") ? IL_SBC_RELAY_FLAG_ON
							       : IL_SBC_RELAY_FLAG_UNSET;
}

bool il_sbc_policy_force_relay(const il_sbc_policy *p, const char *tenant, const char *user,
			       int session_flag, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	if (session_flag == IL_SBC_RELAY_FLAG_ON || session_flag == IL_SBC_RELAY_FLAG_OFF) {
		*why = "session";
		return session_flag == IL_SBC_RELAY_FLAG_ON;
	}
	const rule *r = find(p, SCOPE_USER, user);
	if (r) {
		*why = "user";
		return r->on;
	}
	r = find(p, SCOPE_TENANT, tenant);
	if (r) {
		*why = "tenant";
		return r->on;
	}
	*why = "default";
	return false;
}
