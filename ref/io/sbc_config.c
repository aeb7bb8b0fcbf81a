/* The configuration of `icelab serve --sbc`: one option table shared by
 * the flags and the "name = value" file, as for the TURN server
 * (io_config.c), whose options do not apply here. */
#include "icelab/sbc_serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/io.h"
#include "io_internal.h"

static const il_sbc_serve_option options[] = {
	{"ng", true, "HOST:PORT", "the ng control socket, UDP (default 127.0.0.1:2223)"},
	{"advertised", true, "IP", "the public IP written in SDP (required)"},
	{"bind", true, "IP", "the media bind IP (default 0.0.0.0)"},
	{"port-min", true, "PORT", "the first media port (default 30000)"},
	{"port-max", true, "PORT", "the last media port (default 39999)"},
	{"allow-private-advertised", false, NULL,
	 "accept a private or loopback advertised IP (labs only)"},
	{"strict-source", false, NULL, "legacy legs latch only on the SDP address"},
	{"max-sessions", true, "N", "calls at once (default 0: as many as the ports allow)"},
	{"media-timeout", true, "SECONDS", "no media either way ends a call (default 60)"},
	{"log-level", true, "LEVEL", "error, warn, info or debug (default info)"},
	{"log-json", true, "FILE", "JSON events, one object a line (\"-\": stderr)"},
	{"coalesce-us", true, "MICROSECONDS",
	 "gather packets this long after a busy wake-up (default 1000; 0: off)"},
	{"turn-server", true, "HOST:PORT", "our TURN server (UDP) for force-relay legs"},
	{"turn-user", true, "NAME", "its long-term credentials: the user name"},
	{"turn-password", true, "PASSWORD", "and the password"},
	{"relay-policy", true, "FILE",
	 "force-relay rules by user and tenant (reloaded on SIGHUP)"},
};

const il_sbc_serve_option *il_sbc_serve_options(size_t *count)
{
	*count = sizeof options / sizeof options[0];
	return options;
}

void il_sbc_serve_defaults(il_sbc_serve_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	il_addr_set_ipv4(&cfg->ng, 0x7f000001, 2223);
	il_addr_set_ipv4(&cfg->bind, 0, 0);
	cfg->port_min = 30000;
	cfg->port_max = 39999;
	cfg->media_timeout_s = 60;
	cfg->log_level = IL_LOG_INFO;
	cfg->coalesce_us = 1000;
}

static int parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

int il_sbc_serve_set(il_sbc_serve_config *cfg, const char *name, const char *value, char *err,
		     size_t err_len)
{
	unsigned long v;
	if (!strcmp(name, "allow-private-advertised") || !strcmp(name, "strict-source")) {
		bool *b = name[0] == 'a' ? &cfg->allow_private_advertised : &cfg->strict_source;
		if (io_parse_bool(value, b) < 0)
			return io_fail(err, err_len, "expected true or false, got '%s'", value);
		return 0;
	}
	if (!value)
		return io_fail(err, err_len, "needs a value");
	if (!strcmp(name, "ng")) {
		if (il_addr_parse(value, &cfg->ng) != 0 || cfg->ng.port == 0)
			return io_fail(err, err_len, "expected HOST:PORT, got '%s'", value);
	} else if (!strcmp(name, "advertised") || !strcmp(name, "bind")) {
		il_addr *a = name[0] == 'a' ? &cfg->advertised : &cfg->bind;
		if (io_parse_ip(value, a) < 0)
			return io_fail(err, err_len, "expected an IP address, got '%s'", value);
	} else if (!strcmp(name, "port-min") || !strcmp(name, "port-max")) {
		if (parse_uint(value, 65535, &v) < 0 || v == 0)
			return io_fail(err, err_len, "expected a port 1-65535, got '%s'", value);
		*(name[6] == 'i' ? &cfg->port_min : &cfg->port_max) = (uint16_t)v;
	} else if (!strcmp(name, "max-sessions")) {
		if (parse_uint(value, 1000000, &v) < 0)
			return io_fail(err, err_len, "expected a number 0-1000000, got '%s'", value);
		cfg->max_sessions = (uint32_t)v;
	} else if (!strcmp(name, "media-timeout")) {
		if (parse_uint(value, 86400, &v) < 0)
			return io_fail(err, err_len, "expected seconds 0-86400, got '%s'", value);
		cfg->media_timeout_s = (uint32_t)v;
	} else if (!strcmp(name, "coalesce-us")) {
		if (parse_uint(value, 10000, &v) < 0)
			return io_fail(err, err_len, "expected microseconds 0-10000, got '%s'", value);
		cfg->coalesce_us = (uint32_t)v;
	} else if (!strcmp(name, "log-level")) {
		static const char *const levels[] = {"error", "warn", "info", "debug"};
		for (int i = 0; i < 4; i++)
			if (!strcmp(value, levels[i])) {
				cfg->log_level = i;
				return 0;
			}
		return io_fail(err, err_len, "expected error, warn, info or debug, got '%s'", value);
	} else if (!strcmp(name, "turn-server")) {
		if (il_addr_parse(value, &cfg->turn_server) != 0 || cfg->turn_server.port == 0)
			return io_fail(err, err_len, "expected HOST:PORT, got '%s'", value);
	} else if (!strcmp(name, "turn-user") || !strcmp(name, "turn-password")) {
		char *dst = name[5] == 'u' ? cfg->turn_user : cfg->turn_password;
		if (strlen(value) >= sizeof cfg->turn_user)
			return io_fail(err, err_len, "longer than %zu bytes",
				       sizeof cfg->turn_user - 1);
		snprintf(dst, sizeof cfg->turn_user, "%s", value);
	} else if (!strcmp(name, "relay-policy")) {
		if (strlen(value) >= sizeof cfg->relay_policy)
			return io_fail(err, err_len, "path too long");
		snprintf(cfg->relay_policy, sizeof cfg->relay_policy, "%s", value);
	} else if (!strcmp(name, "log-json")) {
		if (strlen(value) >= sizeof cfg->log_json)
			return io_fail(err, err_len, "path too long");
		snprintf(cfg->log_json, sizeof cfg->log_json, "%s", value);
	} else {
		return io_fail(err, err_len, "unknown option");
	}
	return 0;
}

int il_sbc_serve_load_file(il_sbc_serve_config *cfg, const char *path, char *err,
			   size_t err_len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return io_fail(err, err_len, "%s: %s", path, strerror(errno));
	char line[2048], msg[512];
	unsigned lineno = 0;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = io_fail(err, err_len, "%s:%u: line too long", path, lineno);
			break;
		}
		char *s = io_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = io_fail(err, err_len, "%s:%u: expected \"name = value\"", path, lineno);
			break;
		}
		*eq = '\0';
		char *name = io_trim(s), *value = io_trim(eq + 1);
		if (il_sbc_serve_set(cfg, name, value, msg, sizeof msg) < 0)
			rc = io_fail(err, err_len, "%s:%u: %s: %s", path, lineno, name, msg);
	}
	fclose(f);
	return rc;
}

int il_sbc_serve_finish(il_sbc_serve_config *cfg, char *err, size_t err_len)
{
	if (cfg->advertised.family == IL_AF_NONE)
		return io_fail(err, err_len, "--advertised IP is required (the public IP written in SDP)");
	if (cfg->port_min > cfg->port_max || (unsigned)cfg->port_max - cfg->port_min < 3)
		return io_fail(err, err_len,
			    "port-min %u and port-max %u: the range must hold at least 4 ports",
			    cfg->port_min, cfg->port_max);
	if (cfg->bind.family != cfg->advertised.family && cfg->bind.family == IL_AF_INET &&
	    !memcmp(cfg->bind.ip, "\0\0\0\0", 4)) {
		/* the default wildcard follows an IPv6 advertised address */
		memset(&cfg->bind, 0, sizeof cfg->bind);
		cfg->bind.family = IL_AF_INET6;
	}
	if (cfg->bind.family != cfg->advertised.family)
		return io_fail(err, err_len, "bind and advertised addresses are of different families");
	if (cfg->turn_server.family != IL_AF_NONE && cfg->turn_server.family != cfg->bind.family)
		return io_fail(err, err_len, "turn-server and bind addresses are of different families");
	if (cfg->turn_server.family != IL_AF_NONE && (!cfg->turn_user[0] || !cfg->turn_password[0]))
		return io_fail(err, err_len, "turn-server needs turn-user and turn-password");
	return 0;
}
