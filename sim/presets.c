/* NAT presets by name and custom knob lists (sim/README.md lists them).
 * The classic cone names map onto RFC 4787's two axes as RFC 4787 §3 and
 * §5 describe: full cone = EIM + EIF, restricted cone = EIM + ADF, port-
 * restricted cone = EIM + APDF, symmetric = APDM + APDF. */
#include "sim_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const preset_names[] = {
	"open", "full-cone", "restricted-cone", "port-restricted-cone", "symmetric",
	"symmetric-random", "udp-blocked", "cgn", NULL,
};

static const char *const preset_summaries[] = {
	"no NAT, no firewall: the host has a public address",
	"EIM + EIF, ports preserved, hairpin (RFC 4787 REQ-1, REQ-8 transparency)",
	"EIM + ADF, ports preserved, hairpin",
	"EIM + APDF, ports preserved, hairpin",
	"APDM + APDF, sequential ports, hairpin off",
	"APDM + APDF, random ports, hairpin off",
	"NAT (EIM + APDF) and a firewall: UDP dropped, TCP out to port 443 only",
	("home NAT (EIM + ADF) behind a carrier-grade NAT (RFC 6888: EIM + EIF, "
	 "paired pool of 2, random ports)"),
};

const char *const *il_sim_preset_names(void)
{
	return preset_names;
}

const char *il_sim_preset_summary(const char *name)
{
	for (size_t i = 0; preset_names[i]; i++)
		if (strcmp(preset_names[i], name) == 0)
			return preset_summaries[i];
	return NULL;
}

static int apply_preset(const char *name, il_sim_nat_config *c, il_sim_nat_config *outer,
			int *layers)
{
	il_sim_nat_config_defaults(c);
	*layers = 1;
	if (strcmp(name, "open") == 0) {
		*layers = 0;
	} else if (strcmp(name, "full-cone") == 0) {
		c->filtering = IL_SIM_FILTER_EIF;
	} else if (strcmp(name, "restricted-cone") == 0) {
		c->filtering = IL_SIM_FILTER_ADF;
	} else if (strcmp(name, "port-restricted-cone") == 0) {
		c->filtering = IL_SIM_FILTER_APDF;
	} else if (strcmp(name, "symmetric") == 0 || strcmp(name, "symmetric-random") == 0) {
		c->mapping = IL_SIM_MAP_APDM;
		c->filtering = IL_SIM_FILTER_APDF;
		c->ports = name[9] ? IL_SIM_PORTS_RANDOM : IL_SIM_PORTS_SEQUENTIAL;
		c->hairpin = false;
	} else if (strcmp(name, "udp-blocked") == 0) {
		c->filtering = IL_SIM_FILTER_APDF;
		c->block_udp = true;
		c->tcp_ports[0] = 443;
		c->tcp_port_count = 1;
	} else if (strcmp(name, "cgn") == 0) {
		c->filtering = IL_SIM_FILTER_ADF;
		*layers = 2;
		if (outer) {
			il_sim_nat_config_defaults(outer);
			outer->filtering = IL_SIM_FILTER_EIF; /* RFC 6888 REQ-7 */
			outer->ports = IL_SIM_PORTS_RANDOM;   /* REQ-15: hard to guess */
			outer->pooling = IL_SIM_POOL_PAIRED;  /* REQ-2 */
			outer->external_count = 2;            /* addresses from the topology */
		}
	} else {
		return -1;
	}
	return 0;
}

static int on_off(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

/* "30s", "2m", "1500ms", "1h", or bare seconds; into ms. */
static int duration_ms(const char *v, uint32_t *out)
{
	char *end;
	double n = strtod(v, &end);
	if (end == v || n <= 0)
		return -1;
	double mult = 1000;
	if (!strcmp(end, "ms"))
		mult = 1;
	else if (!strcmp(end, "s") || !*end)
		mult = 1000;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mult = 60000;
	else if (!strcmp(end, "h"))
		mult = 3600000;
	else
		return -1;
	double ms = n * mult;
	if (ms < 1 || ms > 4e9)
		return -1;
	*out = (uint32_t)ms;
	return 0;
}

static int pick(const char *v, const char *const *names, int count)
{
	for (int i = 0; i < count; i++)
		if (!strcmp(v, names[i]))
			return i;
	return -1;
}

static int apply_knob(const char *key, const char *v, il_sim_nat_config *c)
{
	static const char *const maps[] = {"eim", "adm", "apdm"};
	static const char *const filters[] = {"eif", "adf", "apdf"};
	static const char *const ports[] = {"preserve", "sequential", "random"};
	static const char *const pools[] = {"paired", "arbitrary"};
	int i;
	if (!strcmp(key, "mapping")) {
		if ((i = pick(v, maps, 3)) < 0)
			return -1;
		c->mapping = (uint8_t)i;
	} else if (!strcmp(key, "filtering")) {
		if ((i = pick(v, filters, 3)) < 0)
			return -1;
		c->filtering = (uint8_t)i;
	} else if (!strcmp(key, "ports")) {
		if ((i = pick(v, ports, 3)) < 0)
			return -1;
		c->ports = (uint8_t)i;
	} else if (!strcmp(key, "pooling")) {
		if ((i = pick(v, pools, 2)) < 0)
			return -1;
		c->pooling = (uint8_t)i;
	} else if (!strcmp(key, "parity")) {
		return on_off(v, &c->parity);
	} else if (!strcmp(key, "hairpin")) {
		return on_off(v, &c->hairpin);
	} else if (!strcmp(key, "icmp")) {
		return on_off(v, &c->icmp);
	} else if (!strcmp(key, "inbound-refresh")) {
		return on_off(v, &c->inbound_refresh);
	} else if (!strcmp(key, "translate")) {
		return on_off(v, &c->translate);
	} else if (!strcmp(key, "udp")) {
		if (!strcmp(v, "blocked"))
			c->block_udp = true;
		else if (!strcmp(v, "allowed"))
			c->block_udp = false;
		else
			return -1;
	} else if (!strcmp(key, "timeout")) {
		return duration_ms(v, &c->udp_timeout_ms);
	} else if (!strcmp(key, "tcp-timeout")) {
		return duration_ms(v, &c->tcp_established_ms);
	} else if (!strcmp(key, "tcp-ports")) {
		/* "443" or "443+80"; "any" clears */
		c->tcp_port_count = 0;
		if (!strcmp(v, "any"))
			return 0;
		const char *s = v;
		while (*s) {
			char *end;
			long p = strtol(s, &end, 10);
			if (end == s || p < 1 || p > 65535 || c->tcp_port_count >= IL_SIM_NAT_MAX_TCP_PORTS)
				return -1;
			c->tcp_ports[c->tcp_port_count++] = (uint16_t)p;
			if (*end == '+')
				end++;
			else if (*end)
				return -1;
			s = end;
		}
	} else if (!strcmp(key, "port-range")) {
		unsigned lo, hi;
		char tail;
		if (sscanf(v, "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1 || hi > 65535 || lo > hi)
			return -1;
		c->port_min = (uint16_t)lo;
		c->port_max = (uint16_t)hi;
	} else if (!strcmp(key, "pool")) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || n < 1 || n > IL_SIM_NAT_MAX_EXTERNAL)
			return -1;
		c->external_count = (uint8_t)n; /* addresses from the topology */
	} else {
		return -2;
	}
	return 0;
}

int il_sim_preset_parse(const char *text, il_sim_nat_config *cfg, il_sim_nat_config *cgn_outer,
			int *layers, char *err, size_t err_len)
{
	char buf[512];
	if (!text || strlen(text) >= sizeof buf) {
		snprintf(err, err_len, "NAT description missing or too long");
		return -1;
	}
	strcpy(buf, text);
	il_sim_nat_config_defaults(cfg);
	if (cgn_outer)
		il_sim_nat_config_defaults(cgn_outer);
	*layers = 1;
	char *save = NULL;
	bool first = true;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), first = false) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			if (!first || apply_preset(tok, cfg, cgn_outer, layers) < 0) {
				snprintf(err, err_len,
					 first ? "unknown NAT preset '%s' (see icelab sim presets)"
					       : "'%s' is not key=value (a preset comes first)",
					 tok);
				return -1;
			}
			continue;
		}
		*eq = '\0';
		int rc = apply_knob(tok, eq + 1, cfg);
		if (rc == -2) {
			snprintf(err, err_len, "unknown NAT knob '%s' (see sim/README.md)", tok);
			return -1;
		}
		if (rc < 0) {
			snprintf(err, err_len, "bad value '%s' for NAT knob '%s'", eq + 1, tok);
			return -1;
		}
		if (*layers == 0)
			*layers = 1; /* "open,mapping=..." makes a NAT after all */
	}
	return 0;
}

/* The short column label of a preset in the matrix tables. */
const char *sim_preset_short_name(const char *p)
{
	static const struct {
		const char *name, *abbr;
	} abbr[] = {
		{"full-cone", "full"},        {"restricted-cone", "restr"},
		{"port-restricted-cone", "port-r"}, {"symmetric", "sym"},
		{"symmetric-random", "sym-rnd"}, {"udp-blocked", "udp-blk"},
	};
	for (size_t i = 0; i < sizeof abbr / sizeof abbr[0]; i++)
		if (!strcmp(abbr[i].name, p))
			return abbr[i].abbr;
	return p;
}

/* Wall-clock µs for reporting how long a matrix took: never a simulation
 * input, which runs on the virtual clock only. */
uint64_t sim_wall_clock_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}
