/* Socket helpers of the real-network targets (target_net.h). */
#include "target_net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cf_net_to_il(const struct sockaddr *sa, il_addr *out)
{
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		out->family = IL_AF_INET;
		out->port = ntohs(in->sin_port);
		memcpy(out->ip, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		out->family = IL_AF_INET6;
		out->port = ntohs(in6->sin6_port);
		memcpy(out->ip, &in6->sin6_addr, 16);
	}
}

socklen_t cf_net_from_il(const il_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (a->family == IL_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->ip, 4);
		return sizeof *in;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(a->port);
	memcpy(&in6->sin6_addr, a->ip, 16);
	return sizeof *in6;
}

int cf_net_wait_readable(int fd, uint32_t timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	for (;;) {
		int rc = poll(&pfd, 1, (int)timeout_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc;
	}
}

int cf_net_resolve(const char *scheme, const char *hostport, int socktype,
		   struct sockaddr_storage *ss, socklen_t *len, char *host, size_t host_cap,
		   char *err, size_t err_len)
{
	char port[16];
	const char *colon = strrchr(hostport, ':');
	if (!colon || colon == hostport || !colon[1]) {
		snprintf(err, err_len, "target '%s://%s': expected %s://HOST:PORT", scheme, hostport,
			 scheme);
		return -1;
	}
	const char *h = hostport;
	size_t hl = (size_t)(colon - hostport);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= host_cap || strlen(colon + 1) >= sizeof port) {
		snprintf(err, err_len, "target '%s://%s': too long", scheme, hostport);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, sizeof port, "%s", colon + 1);
	struct addrinfo hints = {.ai_socktype = socktype}, *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(err, err_len, "target '%s://%s': %s", scheme, hostport, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int cf_net_local_towards(const struct sockaddr_storage *server, socklen_t server_len,
			 struct sockaddr_storage *local, socklen_t *local_len)
{
	/* A connected UDP socket sends nothing: it only asks the routing
	 * table which source address reaches the server. */
	int probe = socket(server->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -1;
	*local_len = sizeof *local;
	if (connect(probe, (const struct sockaddr *)server, server_len) < 0 ||
	    getsockname(probe, (struct sockaddr *)local, local_len) < 0) {
		close(probe);
		return -1;
	}
	close(probe);
	if (local->ss_family == AF_INET)
		((struct sockaddr_in *)local)->sin_port = 0;
	else
		((struct sockaddr_in6 *)local)->sin6_port = 0;
	return 0;
}

void cf_net_sleep_ms(uint32_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void cf_net_take_identity(cf_target *t, const cf_target_options *opts)
{
	snprintf(t->uri, sizeof t->uri, "%s", opts->uri);
	if (opts->user && opts->password) {
		snprintf(t->user, sizeof t->user, "%s", opts->user);
		snprintf(t->password, sizeof t->password, "%s", opts->password);
		t->has_credentials = true;
	}
	if (opts->user2 && opts->password2) {
		snprintf(t->user2, sizeof t->user2, "%s", opts->user2);
		snprintf(t->password2, sizeof t->password2, "%s", opts->password2);
		t->has_user2 = true;
	}
	if (opts->realm)
		snprintf(t->realm, sizeof t->realm, "%s", opts->realm);
}
