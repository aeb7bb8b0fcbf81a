/* The configuration of `icelab serve`: one table of options shared by the
 * command line (--name value) and the file (name = value), defaults, the
 * file reader with [tenant NAME] sections, and the checks that need the
 * whole picture. Bad values get one line naming the option and the place
 * (ARCHITECTURE.md "Errors and bad input"). */
#include "icelab/io.h"

#include "io_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_id {
	O_CONFIG, O_LISTEN, O_TLS_LISTEN, O_NO_UDP, O_NO_TCP, O_RELAY_IP, O_EXTERNAL_IP,
	O_OTHER_ADDRESS, O_ALLOW_PRIVATE_RELAY, O_MIN_PORT, O_MAX_PORT, O_WORKERS, O_CERT,
	O_KEY, O_TLS_MIN_VERSION, O_ALLOW_PEER, O_DENY_PEER, O_REALM, O_USER, O_USERS_FILE,
	O_NO_REST, O_LIFETIME, O_MAX_LIFETIME, O_CHANNEL_LIFETIME, O_NONCE_LIFETIME,
	O_MAX_ALLOCATIONS, O_MAX_ALLOCATIONS_PER_USER, O_MAX_PERMISSIONS, O_MAX_CHANNELS,
	O_TCP_IDLE_TIMEOUT, O_MAX_401_PER_SECOND, O_MAX_401_BURST, O_MAX_BPS_PER_ALLOCATION,
	O_MAX_CONNECTIONS_PER_IP, O_RFC5766_CHANNELS, O_NO_MD5, O_NO_SHA256, O_SOFTWARE, O_METRICS, O_LOG_LEVEL,
	O_LOG_JSON, O_STATE_DIR, O_REST_TTL, O_SECRET_GRACE, O_PRINT_CREDENTIALS,
	O_ROTATE_SECRET, O_CHECK_CONFIG, O_HELP,
	O__COUNT
};

/* In the same order as enum opt_id. */
static const il_io_option options[O__COUNT] = {
	{"config", true, "FILE", "read options from FILE first (flags override it)", true},
	{"listen", true, "ADDR:PORT",
	 "UDP and TCP listener, repeatable (default 0.0.0.0:3478 and [::]:3478)", false},
	{"tls-listen", true, "ADDR:PORT", "TLS listener, repeatable (needs --cert, --key)", false},
	{"no-udp", false, NULL, "no UDP on --listen addresses (default: UDP on)", false},
	{"no-tcp", false, NULL, "no TCP on --listen addresses (default: TCP on)", false},
	{"relay-ip", true, "IP",
	 "relay address, one per family (default: the listener's, else the first interface's)",
	 false},
	{"external-ip", true, "IP",
	 "address advertised in XOR-RELAYED-ADDRESS behind 1:1 NAT, one per family", false},
	{"other-address", true, "ADDR:PORT",
	 "RFC 5780 A2:P2 beside the first specific listen address A1:P1 (default: off)", false},
	{"allow-private-relay", false, NULL,
	 "allow a private or loopback relay address (default: refused, for labs only)", false},
	{"min-port", true, "PORT", "lowest relay port (default 49152)", false},
	{"max-port", true, "PORT", "highest relay port (default 65535)", false},
	{"workers", true, "N", "worker threads (default: the number of CPUs)", false},
	{"cert", true, "FILE", "TLS certificate chain, PEM", false},
	{"key", true, "FILE", "TLS private key, PEM", false},
	{"tls-min-version", true, "1.2|1.3", "lowest TLS version accepted (default 1.2)", false},
	{"allow-peer", true, "CIDR", "let relays reach this range, repeatable (default: none)",
	 false},
	{"deny-peer", true, "CIDR", "never relay to this range, repeatable", false},
	{"realm", true, "REALM", "the realm (default \"icelab\")", false},
	{"user", true, "NAME:PASSWORD", "a static user, repeatable", false},
	{"users-file", true, "FILE", "static users, one NAME:PASSWORD a line", false},
	{"no-rest", false, NULL, "refuse TURN REST credentials (default: accepted)", false},
	{"lifetime", true, "SECONDS", "default allocation lifetime (default 600)", false},
	{"max-lifetime", true, "SECONDS", "lifetime cap (default 3600)", false},
	{"channel-lifetime", true, "SECONDS", "channel binding lifetime (default 600)", false},
	{"nonce-lifetime", true, "SECONDS", "after this a nonce is stale: 438 (default 3600)",
	 false},
	{"max-allocations", true, "N", "allocations in total, 508 beyond (default 100000)", false},
	{"max-allocations-per-user", true, "N", "allocations per user, 486 beyond (default 100)",
	 false},
	{"max-permissions", true, "N", "permissions per allocation (default 64)", false},
	{"max-channels", true, "N", "channels per allocation (default 64)", false},
	{"tcp-idle-timeout", true, "SECONDS",
	 "close silent TCP/TLS clients and RFC 6062 connections (default 900)", false},
	{"max-401-per-second", true, "N",
	 "401 answers a second to one source IP (IPv6: /64), silence beyond (default 50; 0: "
	 "unlimited)",
	 false},
	{"max-401-burst", true, "N", "burst of 401 answers to one source (default 100)", false},
	{"max-bps-per-allocation", true, "BITS",
	 "relayed bits a second per allocation each way, dropped beyond (default 0: unlimited)",
	 false},
	{"max-connections-per-ip", true, "N",
	 "TCP/TLS connections at once from one IP (IPv6: /64), closed beyond (default 256; 0: "
	 "unlimited)",
	 false},
	{"rfc5766-channels", false, NULL,
	 "accept channels 0x4000-0x7FFF of RFC 5766 for legacy clients (default: RFC 8656, "
	 "0x4000-0x4FFF)",
	 false},
	{"no-md5", false, NULL, "do not offer MD5 in PASSWORD-ALGORITHMS", false},
	{"no-sha256", false, NULL, "do not offer SHA-256 in PASSWORD-ALGORITHMS", false},
	{"software", true, "TEXT", "SOFTWARE attribute (default \"icelab\"; empty: none)", false},
	{"metrics", true, "ADDR:PORT", "Prometheus text metrics listener (default: off)", false},
	{"log-level", true, "LEVEL", "error, warn, info or debug (default info)", false},
	{"log-json", false, NULL, "log JSON lines (default: text)", false},
	{"state-dir", true, "DIR", "tenant secrets live here (default /var/lib/icelab)", false},
	{"rest-ttl", true, "SECONDS", "lifetime of printed REST credentials (default 3600)",
	 false},
	{"secret-grace", true, "SECONDS",
	 "old secret still accepted after --rotate-secret (default 86400)", false},
	{"print-credentials", true, "TENANT", "print an iceServers JSON with a REST credential",
	 true},
	{"rotate-secret", true, "TENANT", "replace a tenant's REST secret (old one: grace)",
	 true},
	{"check-config", false, NULL, "check the configuration and exit", true},
	{"help", false, NULL, "this help", true},
};

const il_io_option *il_io_config_options(size_t *count)
{
	*count = O__COUNT;
	return options;
}

static int option_id(const char *name)
{
	for (int i = 0; i < O__COUNT; i++)
		if (strcmp(options[i].name, name) == 0)
			return i;
	return -1;
}

const il_io_option *il_io_config_option_find(const char *name)
{
	int id = option_id(name);
	return id < 0 ? NULL : &options[id];
}

/* Shared by the driver's configuration readers (io_internal.h). */
int io_fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return -1;
}

static void tenant_init(il_io_tenant *t, const char *name)
{
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", name);
	t->rest = true;
}

void il_io_config_defaults(il_io_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->udp = cfg->tcp = true;
	cfg->min_port = 49152;
	cfg->max_port = 65535;
	cfg->tls_min_version = 0x0303;
	il_peer_policy_init(&cfg->peers);
	cfg->default_lifetime_s = 600;
	cfg->max_lifetime_s = 3600;
	cfg->channel_lifetime_s = 600;
	cfg->nonce_lifetime_s = 3600;
	cfg->max_allocations = 100000;
	cfg->max_allocations_per_user = 100;
	cfg->max_permissions = 64;
	cfg->max_channels = 64;
	cfg->tcp_idle_timeout_s = 900;
	cfg->max_401_per_second = 50;
	cfg->max_401_burst = 100;
	cfg->max_connections_per_ip = 256;
	cfg->allow_md5 = cfg->allow_sha256 = true;
	snprintf(cfg->software, sizeof cfg->software, "icelab");
	cfg->log_level = IL_LOG_INFO;
	snprintf(cfg->state_dir, sizeof cfg->state_dir, "/var/lib/icelab");
	cfg->rest_ttl_s = 3600;
	cfg->secret_grace_s = 86400;
	cfg->tenant_count = 1;
	tenant_init(&cfg->tenants[0], "default");
	snprintf(cfg->tenants[0].realm, sizeof cfg->tenants[0].realm, "icelab");
}

void il_io_config_release(il_io_config *cfg)
{
	for (size_t t = 0; t < cfg->tenant_count; t++) {
		il_io_tenant *tn = &cfg->tenants[t];
		for (size_t i = 0; i < tn->user_count; i++) {
			free(tn->users[i].name);
			free(tn->users[i].password);
		}
		free(tn->users);
		tn->users = NULL;
		tn->user_count = tn->user_cap = 0;
	}
}

static bool io_wildcard(const il_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->ip, zero, a->family == IL_AF_INET ? 4 : 16) == 0;
}

int il_io_config_primary(const il_io_config *cfg)
{
	if (!cfg->other_address.family)
		return -1;
	for (size_t i = 0; i < cfg->listen_count; i++) {
		const il_io_listen *l = &cfg->listen[i];
		if (l->kind == IL_IO_LISTEN_PLAIN && l->addr.family == cfg->other_address.family &&
		    !io_wildcard(&l->addr))
			return (int)i;
	}
	return -1;
}

int il_io_config_tenant_find(const il_io_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->tenant_count; i++)
		if (strcmp(cfg->tenants[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- value parsers ---- */

static int parse_uint(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	if (!v || !*v || *v == '-' || *v == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int io_parse_ip(const char *v, il_addr *out)
{
	memset(out, 0, sizeof *out);
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(v);
	if (len >= sizeof buf)
		return -1;
	if (len > 2 && v[0] == '[' && v[len - 1] == ']') { /* "[::1]" */
		memcpy(buf, v + 1, len - 2);
		buf[len - 2] = '\0';
	} else {
		memcpy(buf, v, len + 1);
	}
	if (inet_pton(AF_INET, buf, out->ip) == 1) {
		out->family = IL_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->ip) == 1) {
		out->family = IL_AF_INET6;
		return 0;
	}
	return -1;
}

int io_parse_bool(const char *v, bool *out)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

static int set_string(char *dst, size_t cap, const char *v, char *err, size_t err_len)
{
	if (strlen(v) >= cap)
		return io_fail(err, err_len, "value longer than %zu bytes", cap - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int add_user(il_io_tenant *t, const char *name, size_t name_len, const char *password)
{
	for (size_t i = 0; i < t->user_count; i++) {
		if (strlen(t->users[i].name) == name_len &&
		    memcmp(t->users[i].name, name, name_len) == 0) {
			char *p = strdup(password);
			if (!p)
				return -1;
			free(t->users[i].password);
			t->users[i].password = p;
			return 0;
		}
	}
	if (t->user_count == t->user_cap) {
		size_t cap = t->user_cap ? t->user_cap * 2 : 8;
		il_io_user *u = realloc(t->users, cap * sizeof *u);
		if (!u)
			return -1;
		t->users = u;
		t->user_cap = cap;
	}
	il_io_user *u = &t->users[t->user_count];
	u->name = strndup(name, name_len);
	u->password = strdup(password);
	if (!u->name || !u->password) {
		free(u->name);
		free(u->password);
		return -1;
	}
	t->user_count++;
	return 0;
}

/* "alice:secret": the name stops at the first colon. */
static int parse_user(il_io_tenant *t, const char *v, char *err, size_t err_len)
{
	const char *colon = strchr(v, ':');
	if (!colon || colon == v || !colon[1])
		return io_fail(err, err_len, "'%s' is not NAME:PASSWORD", v);
	if (colon - v > 512 || strlen(colon + 1) > 512)
		return io_fail(err, err_len, "name or password longer than 512 bytes");
	if (add_user(t, v, (size_t)(colon - v), colon + 1) < 0)
		return io_fail(err, err_len, "out of memory");
	return 0;
}

static int add_listen(il_io_config *cfg, const char *v, uint8_t kind, char *err,
		      size_t err_len)
{
	il_addr a;
	if (il_addr_parse(v, &a) < 0 || a.port == 0)
		return io_fail(err, err_len, "'%s' is not ADDR:PORT (\"127.0.0.1:3478\", \"[::1]:3478\")",
			    v);
	if (!cfg->listen_given) { /* the first one replaces the defaults */
		cfg->listen_given = true;
		cfg->listen_count = 0;
	}
	if (cfg->listen_count == IL_IO_MAX_LISTEN)
		return io_fail(err, err_len, "more than %d listeners", IL_IO_MAX_LISTEN);
	cfg->listen[cfg->listen_count++] =
		(il_io_listen){.addr = a, .kind = kind, .tenant = (uint8_t)cfg->current_tenant};
	return 0;
}

static int set_family_ip(il_addr *v4, il_addr *v6, const char *v, char *err, size_t err_len)
{
	il_addr a;
	if (io_parse_ip(v, &a) < 0)
		return io_fail(err, err_len, "'%s' is not an IP address", v);
	*(a.family == IL_AF_INET ? v4 : v6) = a;
	return 0;
}

static int set_u32(uint32_t *dst, const char *v, unsigned long min, unsigned long max,
		   char *err, size_t err_len)
{
	unsigned long n;
	if (parse_uint(v, min, max, &n) < 0)
		return io_fail(err, err_len, "'%s' is not a number from %lu to %lu", v ? v : "", min,
			    max);
	*dst = (uint32_t)n;
	return 0;
}

static int set_u16(uint16_t *dst, const char *v, unsigned long min, unsigned long max,
		   char *err, size_t err_len)
{
	uint32_t n;
	if (set_u32(&n, v, min, max, err, err_len) < 0)
		return -1;
	*dst = (uint16_t)n;
	return 0;
}

static bool tenant_scoped(int id)
{
	return id == O_LISTEN || id == O_TLS_LISTEN || id == O_REALM || id == O_USER ||
	       id == O_USERS_FILE || id == O_NO_REST || id == O_MAX_ALLOCATIONS ||
	       id == O_MAX_ALLOCATIONS_PER_USER;
}

int il_io_config_set(il_io_config *cfg, const char *name, const char *value, char *err,
		     size_t err_len)
{
	int id = option_id(name);
	if (id < 0)
		return io_fail(err, err_len, "unknown option");
	const il_io_option *o = &options[id];
	if (o->cli_only)
		return io_fail(err, err_len, "only on the command line");
	if (o->has_value && !value)
		return io_fail(err, err_len, "needs a value");
	if (cfg->current_tenant > 0 && !tenant_scoped(id))
		return io_fail(err, err_len, "not a per-tenant option (put it before any [tenant])");
	il_io_tenant *t = &cfg->tenants[cfg->current_tenant];
	bool b = false;
	if (!o->has_value && io_parse_bool(value, &b) < 0)
		return io_fail(err, err_len, "'%s' is not true or false", value);

	switch (id) {
	case O_LISTEN:
		return add_listen(cfg, value, IL_IO_LISTEN_PLAIN, err, err_len);
	case O_TLS_LISTEN:
		return add_listen(cfg, value, IL_IO_LISTEN_TLS, err, err_len);
	case O_NO_UDP:
		cfg->udp = !b;
		return 0;
	case O_NO_TCP:
		cfg->tcp = !b;
		return 0;
	case O_RELAY_IP:
		return set_family_ip(&cfg->relay_v4, &cfg->relay_v6, value, err, err_len);
	case O_EXTERNAL_IP:
		return set_family_ip(&cfg->external_v4, &cfg->external_v6, value, err, err_len);
	case O_OTHER_ADDRESS:
		if (il_addr_parse(value, &cfg->other_address) < 0)
			return io_fail(err, err_len, "'%s' is not ADDR:PORT", value);
		return 0;
	case O_ALLOW_PRIVATE_RELAY:
		cfg->allow_private_relay = b;
		return 0;
	case O_MIN_PORT:
		return set_u16(&cfg->min_port, value, 1, 65535, err, err_len);
	case O_MAX_PORT:
		return set_u16(&cfg->max_port, value, 1, 65535, err, err_len);
	case O_WORKERS: {
		uint32_t n;
		if (set_u32(&n, value, 1, 256, err, err_len) < 0)
			return -1;
		cfg->workers = n;
		return 0;
	}
	case O_CERT:
		return set_string(cfg->cert_file, sizeof cfg->cert_file, value, err, err_len);
	case O_KEY:
		return set_string(cfg->key_file, sizeof cfg->key_file, value, err, err_len);
	case O_TLS_MIN_VERSION:
		if (!strcmp(value, "1.2"))
			cfg->tls_min_version = 0x0303;
		else if (!strcmp(value, "1.3"))
			cfg->tls_min_version = 0x0304;
		else
			return io_fail(err, err_len, "'%s' is not 1.2 or 1.3", value);
		return 0;
	case O_ALLOW_PEER:
	case O_DENY_PEER: {
		il_cidr c;
		if (il_cidr_parse(value, &c) < 0)
			return io_fail(err, err_len, "'%s' is not an address range (\"10.0.0.0/8\")",
				    value);
		int rc = id == O_ALLOW_PEER ? il_peer_policy_allow(&cfg->peers, &c)
					    : il_peer_policy_deny(&cfg->peers, &c);
		if (rc < 0)
			return io_fail(err, err_len, "more than %d ranges", IL_PEER_POLICY_MAX_RANGES);
		return 0;
	}
	case O_REALM:
		if (!*value)
			return io_fail(err, err_len, "empty realm");
		return set_string(t->realm, sizeof t->realm, value, err, err_len);
	case O_USER:
		return parse_user(t, value, err, err_len);
	case O_USERS_FILE:
		return set_string(t->users_file, sizeof t->users_file, value, err, err_len);
	case O_NO_REST:
		t->rest = !b;
		return 0;
	case O_LIFETIME:
		return set_u32(&cfg->default_lifetime_s, value, 60, 86400, err, err_len);
	case O_MAX_LIFETIME:
		return set_u32(&cfg->max_lifetime_s, value, 60, 86400, err, err_len);
	case O_CHANNEL_LIFETIME:
		return set_u32(&cfg->channel_lifetime_s, value, 60, 86400, err, err_len);
	case O_NONCE_LIFETIME:
		return set_u32(&cfg->nonce_lifetime_s, value, 10, 86400, err, err_len);
	case O_MAX_ALLOCATIONS:
		return set_u32(cfg->current_tenant ? &t->max_allocations : &cfg->max_allocations,
			       value, 1, 10000000, err, err_len);
	case O_MAX_ALLOCATIONS_PER_USER:
		return set_u32(cfg->current_tenant ? &t->max_allocations_per_user
						   : &cfg->max_allocations_per_user,
			       value, 1, 10000000, err, err_len);
	case O_MAX_PERMISSIONS:
		return set_u16(&cfg->max_permissions, value, 1, 65535, err, err_len);
	case O_MAX_CHANNELS:
		return set_u16(&cfg->max_channels, value, 1, 4096, err, err_len);
	case O_TCP_IDLE_TIMEOUT:
		return set_u32(&cfg->tcp_idle_timeout_s, value, 2, 86400, err, err_len);
	case O_MAX_401_PER_SECOND:
		return set_u32(&cfg->max_401_per_second, value, 0, 1000000, err, err_len);
	case O_MAX_401_BURST:
		return set_u32(&cfg->max_401_burst, value, 1, 1000000, err, err_len);
	case O_MAX_BPS_PER_ALLOCATION: {
		/* 0, or from 8 kbit/s to 1 Tbit/s */
		unsigned long long n = 0;
		char *end = NULL;
		errno = 0;
		bool sign = !*value || *value == '-' || *value == '+';
		if (!sign)
			n = strtoull(value, &end, 10);
		if (sign || errno || *end || (n != 0 && (n < 8000 || n > (1ull << 40))))
			return io_fail(err, err_len, "'%s' is not 0 or a number of bits a second from "
				    "8000 to %llu", value, 1ull << 40);
		cfg->max_bps_per_allocation = n;
		return 0;
	}
	case O_MAX_CONNECTIONS_PER_IP:
		return set_u32(&cfg->max_connections_per_ip, value, 0, 1000000, err, err_len);
	case O_RFC5766_CHANNELS:
		cfg->rfc5766_channels = b;
		return 0;
	case O_NO_MD5:
		cfg->allow_md5 = !b;
		return 0;
	case O_NO_SHA256:
		cfg->allow_sha256 = !b;
		return 0;
	case O_SOFTWARE:
		return set_string(cfg->software, sizeof cfg->software, value, err, err_len);
	case O_METRICS:
		if (il_addr_parse(value, &cfg->metrics) < 0 || cfg->metrics.port == 0)
			return io_fail(err, err_len, "'%s' is not ADDR:PORT", value);
		return 0;
	case O_LOG_LEVEL: {
		static const char *const names[] = {"error", "warn", "info", "debug"};
		for (int i = 0; i < 4; i++) {
			if (!strcmp(value, names[i])) {
				cfg->log_level = i;
				return 0;
			}
		}
		return io_fail(err, err_len, "'%s' is not error, warn, info or debug", value);
	}
	case O_LOG_JSON:
		cfg->log_json = b;
		return 0;
	case O_STATE_DIR:
		if (!*value)
			return io_fail(err, err_len, "empty directory name");
		return set_string(cfg->state_dir, sizeof cfg->state_dir, value, err, err_len);
	case O_REST_TTL:
		return set_u32(&cfg->rest_ttl_s, value, 60, 30 * 86400, err, err_len);
	case O_SECRET_GRACE:
		return set_u32(&cfg->secret_grace_s, value, 0, 365 * 86400, err, err_len);
	}
	return io_fail(err, err_len, "unknown option");
}

/* ---- the file ---- */

char *io_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static int open_tenant(il_io_config *cfg, const char *name, char *err, size_t err_len)
{
	size_t n = strlen(name);
	if (n == 0 || n >= IL_IO_NAME_MAX)
		return io_fail(err, err_len, "tenant name empty or longer than %d bytes",
			    IL_IO_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.') ||
		    (i == 0 && c == '.'))
			return io_fail(err, err_len, "tenant name '%s': use letters, digits, '-', '_', '.'",
				    name);
	}
	int idx = il_io_config_tenant_find(cfg, name);
	if (idx < 0) {
		if (cfg->tenant_count == IL_IO_MAX_TENANTS)
			return io_fail(err, err_len, "more than %d tenants", IL_IO_MAX_TENANTS);
		idx = (int)cfg->tenant_count++;
		tenant_init(&cfg->tenants[idx], name);
	}
	cfg->current_tenant = idx;
	return 0;
}

int il_io_config_load_file(il_io_config *cfg, const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return io_fail(err, err_len, "%s: %s", path, strerror(errno));
	char line[2048], msg[512];
	unsigned lineno = 0;
	int rc = 0;
	cfg->current_tenant = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = io_fail(err, err_len, "%s:%u: line longer than %zu bytes", path, lineno,
				  sizeof line - 2);
			break;
		}
		char *s = io_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || strncmp(s, "[tenant ", 8) != 0 || *io_trim(close + 1)) {
				rc = io_fail(err, err_len, "%s:%u: expected \"[tenant NAME]\"", path, lineno);
				break;
			}
			*close = '\0';
			if (open_tenant(cfg, io_trim(s + 8), msg, sizeof msg) < 0)
				rc = io_fail(err, err_len, "%s:%u: %s", path, lineno, msg);
			continue;
		}
		char *eq = strchr(s, '=');
		char *name = s, *value = NULL;
		if (eq) {
			*eq = '\0';
			value = io_trim(eq + 1);
			name = io_trim(name);
		}
		const il_io_option *o = il_io_config_option_find(name);
		if (!o) {
			rc = io_fail(err, err_len, "%s:%u: unknown option '%s'", path, lineno, name);
			break;
		}
		if (!value || (o->has_value && !*value)) {
			rc = io_fail(err, err_len, "%s:%u: %s: needs \"= VALUE\"", path, lineno, name);
			break;
		}
		if (il_io_config_set(cfg, name, value, msg, sizeof msg) < 0)
			rc = io_fail(err, err_len, "%s:%u: %s: %s", path, lineno, name, msg);
	}
	if (rc == 0 && ferror(f))
		rc = io_fail(err, err_len, "%s: read error", path);
	fclose(f);
	cfg->current_tenant = 0;
	return rc;
}

static int load_users_file(il_io_tenant *t, char *err, size_t err_len)
{
	FILE *f = fopen(t->users_file, "r");
	if (!f)
		return io_fail(err, err_len, "users-file: %s: %s", t->users_file, strerror(errno));
	char line[1200], msg[256];
	unsigned lineno = 0;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		char *s = io_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (parse_user(t, s, msg, sizeof msg) < 0)
			rc = io_fail(err, err_len, "%s:%u: users-file: %s", t->users_file, lineno, msg);
	}
	fclose(f);
	return rc;
}

int il_io_config_finish(il_io_config *cfg, char *err, size_t err_len)
{
	if (!cfg->listen_given) {
		il_addr v4, v6;
		il_addr_parse("0.0.0.0:3478", &v4);
		il_addr_parse("[::]:3478", &v6);
		cfg->listen[0] = (il_io_listen){.addr = v4, .kind = IL_IO_LISTEN_PLAIN};
		cfg->listen[1] = (il_io_listen){.addr = v6, .kind = IL_IO_LISTEN_PLAIN};
		cfg->listen_count = 2;
	}
	if (cfg->other_address.family) {
		/* RFC 5780 §6.1: "the server needs two IP addresses (A1 and A2)
		 * and two ports (P1 and P2)"; we listen on the four pairs. */
		const il_addr *a2 = &cfg->other_address;
		int primary = il_io_config_primary(cfg);
		if (!cfg->udp)
			return io_fail(err, err_len, "other-address: RFC 5780 runs over UDP (no-udp is set)");
		if (a2->port == 0 || io_wildcard(a2))
			return io_fail(err, err_len, "other-address: needs a specific ADDR:PORT");
		if (primary < 0)
			return io_fail(err, err_len, "other-address: needs a listen address of the same "
				    "family that is not a wildcard (A1:P1)");
		const il_addr *a1 = &cfg->listen[primary].addr;
		if (memcmp(a1->ip, a2->ip, sizeof a1->ip) == 0 || a1->port == a2->port)
			return io_fail(err, err_len, "other-address: IP and port must both differ from "
				    "the listen address (RFC 5780 §6.1)");
	}
	if (cfg->min_port > cfg->max_port)
		return io_fail(err, err_len, "min-port: %u is above max-port %u", cfg->min_port,
			    cfg->max_port);
	if (cfg->default_lifetime_s > cfg->max_lifetime_s)
		return io_fail(err, err_len, "lifetime: %u is above max-lifetime %u",
			    cfg->default_lifetime_s, cfg->max_lifetime_s);
	if (!cfg->allow_md5 && !cfg->allow_sha256)
		return io_fail(err, err_len, "no-md5: with no-sha256 no client could authenticate");
	if (!cfg->udp && !cfg->tcp) {
		bool tls = false;
		for (size_t i = 0; i < cfg->listen_count; i++)
			tls |= cfg->listen[i].kind == IL_IO_LISTEN_TLS;
		if (!tls)
			return io_fail(err, err_len, "no-udp: with no-tcp and no tls-listen nothing listens");
	}
	bool has_tls = false;
	for (size_t i = 0; i < cfg->listen_count; i++)
		has_tls |= cfg->listen[i].kind == IL_IO_LISTEN_TLS;
	if (has_tls && (!cfg->cert_file[0] || !cfg->key_file[0]))
		return io_fail(err, err_len, "tls-listen: needs --cert and --key");
	if ((cfg->cert_file[0] || cfg->key_file[0]) && (!cfg->cert_file[0] || !cfg->key_file[0]))
		return io_fail(err, err_len, "%s: needs --%s too", cfg->cert_file[0] ? "cert" : "key",
			    cfg->cert_file[0] ? "key" : "cert");
	for (size_t t = 0; t < cfg->tenant_count; t++) {
		il_io_tenant *tn = &cfg->tenants[t];
		if (!tn->realm[0])
			return io_fail(err, err_len, "[tenant %s]: realm: missing", tn->name);
		bool listens = t == 0;
		for (size_t i = 0; i < cfg->listen_count; i++)
			listens |= cfg->listen[i].tenant == t;
		if (!listens)
			return io_fail(err, err_len, "[tenant %s]: listen: the tenant has no listener",
				    tn->name);
		if (tn->users_file[0] && load_users_file(tn, err, err_len) < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->listen_count; i++) {
		for (size_t j = 0; j < i; j++) {
			if (il_addr_equal(&cfg->listen[i].addr, &cfg->listen[j].addr)) {
				char a[IL_ADDR_STRLEN];
				il_addr_format(&cfg->listen[i].addr, a, sizeof a);
				return io_fail(err, err_len, "listen: %s given twice", a);
			}
		}
	}
	if (cfg->workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->workers = n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
	}
	return 0;
}
