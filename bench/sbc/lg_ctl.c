/* Call setup for the SBC load generator: ng requests (a bencoded
 * dictionary of strings after a cookie, rtpengine's ng protocol), the
 * answer's "result", "sdp" and "error-reason", and the c=/m=/a=crypto
 * lines of the returned SDP. Only what the benchmark needs. */
#include "lg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../turn/bt_common.h"

#define MSG_MAX 8192

int lg_ctl_open(lg_ctl *c, const char *server, bool floor)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(c, 0, sizeof *c);
	if (bt_parse_sockaddr(server, &ss, &len) < 0 || ss.ss_family != AF_INET)
		return -1;
	memcpy(&c->server, &ss, sizeof c->server);
	c->floor = floor;
	c->cookie = (unsigned)getpid() << 12;
	c->timeout_ms = 1000;
	c->fd = socket(AF_INET, SOCK_DGRAM, 0);
	return c->fd < 0 ? -1 : 0;
}

/* Sends req and waits for the datagram that starts with prefix (stale
 * answers to earlier attempts are skipped); three attempts. Returns the
 * length of the answer in rsp, or -1. */
static int exchange(lg_ctl *c, const char *req, size_t req_len, const char *prefix,
		    char *rsp, size_t rsp_max)
{
	size_t plen = strlen(prefix);
	for (int attempt = 0; attempt < 3; attempt++) {
		if (sendto(c->fd, req, req_len, 0, (struct sockaddr *)&c->server,
			   sizeof c->server) < 0)
			return -1;
		uint64_t deadline = bt_now_ns() + (uint64_t)c->timeout_ms * 1000000u;
		for (;;) {
			uint64_t now = bt_now_ns();
			if (now >= deadline)
				break;
			struct pollfd p = {.fd = c->fd, .events = POLLIN};
			if (poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
				continue;
			ssize_t n = recv(c->fd, rsp, rsp_max - 1, 0);
			if (n < 0)
				continue;
			rsp[n] = 0;
			if ((size_t)n >= plen && !memcmp(rsp, prefix, plen))
				return (int)n;
		}
	}
	return -1;
}

/* Appends "LEN:STR" to buf at *off; false when it does not fit. */
static bool put_str(char *buf, size_t max, size_t *off, const char *s, size_t len)
{
	int n = snprintf(buf + *off, max - *off, "%zu:", len);
	if (n < 0 || *off + (size_t)n + len >= max)
		return false;
	*off += (size_t)n;
	memcpy(buf + *off, s, len);
	*off += len;
	return true;
}

/* Skips one bencoded value at p; returns the end, or NULL if malformed. */
static const char *skip_value(const char *p, const char *end, int depth)
{
	if (p >= end || depth > 16)
		return NULL;
	if (*p == 'i') {
		const char *e = memchr(p, 'e', (size_t)(end - p));
		return e ? e + 1 : NULL;
	}
	if (*p == 'l' || *p == 'd') {
		p++;
		while (p < end && *p != 'e')
			if (!(p = skip_value(p, end, depth + 1)))
				return NULL;
		return p < end ? p + 1 : NULL;
	}
	size_t len = 0;
	while (p < end && *p >= '0' && *p <= '9')
		len = len * 10 + (size_t)(*p++ - '0');
	if (p >= end || *p != ':' || len > (size_t)(end - p - 1))
		return NULL;
	return p + 1 + len;
}

/* The string value of key in the top-level dictionary at p (its length
 * in *len), or NULL when absent or not a string. */
static const char *dict_str(const char *p, const char *end, const char *key, size_t *len)
{
	if (p >= end || *p != 'd')
		return NULL;
	p++;
	size_t klen = strlen(key);
	while (p < end && *p != 'e') {
		const char *kend = skip_value(p, end, 1);
		const char *colon = kend ? memchr(p, ':', (size_t)(kend - p)) : NULL;
		if (!colon)
			return NULL;
		bool match = (size_t)(kend - colon - 1) == klen && !memcmp(colon + 1, key, klen);
		const char *v = kend;
		const char *vend = skip_value(v, end, 1);
		if (!vend)
			return NULL;
		if (match && *v >= '0' && *v <= '9') {
			const char *vc = memchr(v, ':', (size_t)(vend - v));
			*len = (size_t)(vend - vc - 1);
			return vc + 1;
		}
		p = vend;
	}
	return NULL;
}

/* One ng request made of string pairs (keys in bencode order); the
 * answer's dictionary in rsp, its start in *dict. 0, or -1 with why. */
static int ng_request(lg_ctl *c, const char *const *kv, int pairs, char *rsp, size_t rsp_max,
		      const char **dict, char *why, size_t why_len)
{
	char req[MSG_MAX], cookie[24];
	snprintf(cookie, sizeof cookie, "%x_%u ", c->cookie >> 12, c->cookie & 0xfff);
	c->cookie++;
	size_t off = (size_t)snprintf(req, sizeof req, "%sd", cookie);
	for (int i = 0; i < pairs; i++)
		if (!put_str(req, sizeof req, &off, kv[2 * i], strlen(kv[2 * i])) ||
		    !put_str(req, sizeof req, &off, kv[2 * i + 1], strlen(kv[2 * i + 1]))) {
			snprintf(why, why_len, "request too long");
			return -1;
		}
	req[off++] = 'e';
	int n = exchange(c, req, off, cookie, rsp, rsp_max);
	if (n < 0) {
		snprintf(why, why_len, "no answer from %s:%u", inet_ntoa(c->server.sin_addr),
			 ntohs(c->server.sin_port));
		return -1;
	}
	const char *end = rsp + n;
	*dict = rsp + strlen(cookie);
	size_t rlen = 0;
	const char *result = dict_str(*dict, end, "result", &rlen);
	if (!result) {
		snprintf(why, why_len, "answer without a result: %.80s", rsp);
		return -1;
	}
	if (!((rlen == 2 && !memcmp(result, "ok", 2)) || (rlen == 4 && !memcmp(result, "pong", 4)))) {
		size_t elen = 0;
		const char *err = dict_str(*dict, end, "error-reason", &elen);
		snprintf(why, why_len, "result %.*s: %.*s", (int)rlen, result,
			 err ? (int)elen : 0, err ? err : "");
		return -1;
	}
	return n;
}

bool lg_ctl_ping(lg_ctl *c)
{
	char rsp[MSG_MAX], why[128];
	if (c->floor)
		return exchange(c, "ping", 4, "pong", rsp, sizeof rsp) > 0;
	const char *kv[] = {"command", "ping"};
	const char *dict;
	return ng_request(c, kv, 1, rsp, sizeof rsp, &dict, why, sizeof why) > 0;
}

int lg_sdp_media(const char *sdp, size_t len, lg_media *out)
{
	memset(out, 0, sizeof *out);
	bool have_c = false, have_m = false;
	const char *p = sdp, *end = sdp + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);
		char line[256];
		if (ll >= sizeof line)
			ll = sizeof line - 1;
		memcpy(line, p, ll);
		line[ll] = 0;
		line[strcspn(line, "\r")] = 0;
		char ip[64];
		unsigned port;
		char proto[32];
		if (!have_c && sscanf(line, "c=IN IP4 %63s", ip) == 1 &&
		    inet_pton(AF_INET, ip, &out->addr.sin_addr) == 1)
			have_c = true;
		else if (!have_m && sscanf(line, "m=audio %u %31s", &port, proto) == 2 && port < 65536) {
			out->addr.sin_port = htons((uint16_t)port);
			out->srtp = strstr(proto, "SAVP") != NULL;
			have_m = true;
		} else if (!out->key[0]) {
			const char *k = strstr(line, "AES_CM_128_HMAC_SHA1_80 inline:");
			if (!strncmp(line, "a=crypto:", 9) && k)
				snprintf(out->key, sizeof out->key, "%.40s", k + 31);
		}
		p = nl ? nl + 1 : end;
	}
	out->addr.sin_family = AF_INET;
	if (!have_c || !have_m)
		return -1;
	return out->srtp && strlen(out->key) != LG_KEY_B64 ? -1 : 0;
}

static void make_sdp(char *buf, size_t max, uint16_t port, bool srtp, const char *key)
{
	int n = snprintf(buf, max,
			 "v=0\r\no=- %u 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
			 "m=audio %u %s 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n",
			 port, port, srtp ? "RTP/SAVP" : "RTP/AVP");
	if (srtp && n > 0 && (size_t)n < max)
		snprintf(buf + n, max - (size_t)n, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n",
			 key);
}

static int floor_setup(lg_ctl *c, lg_media *to_a, lg_media *to_b, int *floor_id, char *why,
		       size_t why_len)
{
	char rsp[128];
	unsigned pa, pb;
	if (exchange(c, "new", 3, "", rsp, sizeof rsp) < 0 ||
	    sscanf(rsp, "%u %u", &pa, &pb) != 2 || pa > 65535 || pb > 65535) {
		snprintf(why, why_len, "floor: %s", rsp);
		return -1;
	}
	memset(to_a, 0, sizeof *to_a);
	memset(to_b, 0, sizeof *to_b);
	to_a->addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)pa),
					  .sin_addr = c->server.sin_addr};
	to_b->addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)pb),
					  .sin_addr = c->server.sin_addr};
	*floor_id = (int)pa;
	return 0;
}

int lg_call_setup(lg_ctl *c, const char *call_id, uint16_t pa, uint16_t pb, bool srtp,
		  const char *key_a, lg_media *to_a, lg_media *to_b, int *floor_id,
		  char *why, size_t why_len)
{
	if (c->floor)
		return floor_setup(c, to_a, to_b, floor_id, why, why_len);
	char sdp[1024], rsp[MSG_MAX];
	const char *dict, *s;
	size_t slen;
	make_sdp(sdp, sizeof sdp, pa, srtp, key_a);
	const char *offer[] = {"call-id", call_id, "command", "offer", "from-tag", "a",
			       "sdp", sdp, "transport-protocol", "RTP/AVP"};
	int n = ng_request(c, offer, srtp ? 5 : 4, rsp, sizeof rsp, &dict, why, why_len);
	if (n < 0)
		return -1;
	if (!(s = dict_str(dict, rsp + n, "sdp", &slen)) || lg_sdp_media(s, slen, to_b) < 0) {
		snprintf(why, why_len, "offer: no usable SDP in the answer");
		return -1;
	}
	if (to_b->srtp) {
		snprintf(why, why_len, "offer: leg B got %s, asked for plain RTP/AVP", "RTP/SAVP");
		return -1;
	}
	make_sdp(sdp, sizeof sdp, pb, false, NULL);
	const char *answer[] = {"call-id", call_id, "command", "answer", "from-tag", "a",
				"sdp", sdp, "to-tag", "b"};
	if ((n = ng_request(c, answer, 5, rsp, sizeof rsp, &dict, why, why_len)) < 0)
		return -1;
	if (!(s = dict_str(dict, rsp + n, "sdp", &slen)) || lg_sdp_media(s, slen, to_a) < 0) {
		snprintf(why, why_len, "answer: no usable SDP (or no a=crypto on the SRTP leg)");
		return -1;
	}
	if (to_a->srtp != srtp) {
		snprintf(why, why_len, "answer: leg A got %s", to_a->srtp ? "RTP/SAVP" : "RTP/AVP");
		return -1;
	}
	*floor_id = 0;
	return 0;
}

int lg_call_delete(lg_ctl *c, const char *call_id, int floor_id)
{
	char rsp[MSG_MAX], why[128];
	if (c->floor) {
		char req[32];
		int n = snprintf(req, sizeof req, "del %d", floor_id);
		return exchange(c, req, (size_t)n, "ok", rsp, sizeof rsp) < 0 ? -1 : 0;
	}
	const char *kv[] = {"call-id", call_id, "command", "delete", "from-tag", "a"};
	const char *dict;
	return ng_request(c, kv, 3, rsp, sizeof rsp, &dict, why, sizeof why) < 0 ? -1 : 0;
}
