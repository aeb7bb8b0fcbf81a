/* Transport addresses as the cores see them: family, IP bytes, port.
 * No sockaddr here: cores never touch sockets (ARCHITECTURE.md). */
#ifndef ICELAB_ADDR_H
#define ICELAB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum il_addr_family {
	IL_AF_NONE = 0,
	IL_AF_INET = 1,  /* the STUN wire value of IPv4 (RFC 8489 §14.1) */
	IL_AF_INET6 = 2, /* the STUN wire value of IPv6 */
};

typedef struct il_addr {
	uint8_t family;  /* enum il_addr_family */
	uint16_t port;   /* host byte order */
	uint8_t ip[16];  /* network order; IPv4 uses the first 4 bytes */
} il_addr;

/* Longest "[ipv6]:port" text plus NUL. */
#define IL_ADDR_STRLEN 56

/* Writes "a.b.c.d:port" or "[v6]:port"; returns the length, or -1. */
int il_addr_format(const il_addr *addr, char *out, size_t out_len);
/* Writes the IP alone ("a.b.c.d" or "v6"); returns the length, or -1. */
int il_addr_format_ip(const il_addr *addr, char *out, size_t out_len);
/* Parses "a.b.c.d:port" or "[v6]:port"; returns 0 or -1. */
int il_addr_parse(const char *text, il_addr *out);
bool il_addr_equal(const il_addr *a, const il_addr *b);
void il_addr_set_ipv4(il_addr *addr, uint32_t ip_host_order, uint16_t port);

#endif
