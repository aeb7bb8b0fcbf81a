/* Socket helpers the real-network targets share (target_udp.c,
 * target_stream.c): address conversions, HOST:PORT resolution, waits. */
#ifndef ICELAB_CONFORMANCE_TARGET_NET_H
#define ICELAB_CONFORMANCE_TARGET_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conformance.h"
#include "icelab/addr.h"

void cf_net_to_il(const struct sockaddr *sa, il_addr *out);
socklen_t cf_net_from_il(const il_addr *a, struct sockaddr_storage *ss);
/* poll for POLLIN; 1 readable, 0 timeout, -1 error (EINTR retried). */
int cf_net_wait_readable(int fd, uint32_t timeout_ms);
/* "HOST:PORT" or "[V6]:PORT" of scheme://; host receives HOST (for SNI). */
int cf_net_resolve(const char *scheme, const char *hostport, int socktype,
		   struct sockaddr_storage *ss, socklen_t *len, char *host, size_t host_cap,
		   char *err, size_t err_len);
/* The local address (port 0) that routes to server: where peers bind. */
int cf_net_local_towards(const struct sockaddr_storage *server, socklen_t server_len,
			 struct sockaddr_storage *local, socklen_t *local_len);
void cf_net_sleep_ms(uint32_t ms);
/* The URI, users and realm of opts into a real-network target. */
void cf_net_take_identity(cf_target *t, const cf_target_options *opts);

#endif
