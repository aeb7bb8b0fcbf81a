/* Transport address text forms: "a.b.c.d:port" and "[v6]:port". */
#include "icelab/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int il_addr_format_ip(const il_addr *addr, char *out, size_t out_len)
{
	char ip[INET6_ADDRSTRLEN];
	int af = addr->family == IL_AF_INET ? AF_INET : addr->family == IL_AF_INET6 ? AF_INET6 : -1;
	if (af < 0 || !inet_ntop(af, addr->ip, ip, sizeof ip))
		return -1;
	int n = snprintf(out, out_len, "%s", ip);
	return n < 0 || (size_t)n >= out_len ? -1 : n;
}

int il_addr_format(const il_addr *addr, char *out, size_t out_len)
{
	char ip[INET6_ADDRSTRLEN];
	if (il_addr_format_ip(addr, ip, sizeof ip) < 0)
		return -1;
	int n = addr->family == IL_AF_INET6 ? snprintf(out, out_len, "[%s]:%u", ip, addr->port)
					    : snprintf(out, out_len, "%s:%u", ip, addr->port);
	return n < 0 || (size_t)n >= out_len ? -1 : n;
}

static int parse_port(const char *text, uint16_t *port)
{
	char *end;
	if (*text < '0' || *text > '9')
		return -1;
	unsigned long v = strtoul(text, &end, 10);
	if (*end != '\0' || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int il_addr_parse(const char *text, il_addr *out)
{
	char ip[INET6_ADDRSTRLEN];
	const char *port;
	memset(out, 0, sizeof *out);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof ip)
			return -1;
		memcpy(ip, text + 1, (size_t)(close - text - 1));
		ip[close - text - 1] = '\0';
		port = close + 2;
		if (inet_pton(AF_INET6, ip, out->ip) != 1)
			return -1;
		out->family = IL_AF_INET6;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof ip)
			return -1;
		memcpy(ip, text, (size_t)(colon - text));
		ip[colon - text] = '\0';
		port = colon + 1;
		if (inet_pton(AF_INET, ip, out->ip) != 1)
			return -1;
		out->family = IL_AF_INET;
	}
	return parse_port(port, &out->port);
}

bool il_addr_equal(const il_addr *a, const il_addr *b)
{
	size_t n = a->family == IL_AF_INET ? 4 : 16;
	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, n) == 0;
}

void il_addr_set_ipv4(il_addr *addr, uint32_t ip_host_order, uint16_t port)
{
	memset(addr, 0, sizeof *addr);
	addr->family = IL_AF_INET;
	addr->port = port;
	addr->ip[0] = (uint8_t)(ip_host_order >> 24);
	addr->ip[1] = (uint8_t)(ip_host_order >> 16);
	addr->ip[2] = (uint8_t)(ip_host_order >> 8);
	addr->ip[3] = (uint8_t)ip_host_order;
}
