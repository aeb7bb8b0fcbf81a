/* `icelab serve --sbc`: the SBC media bridge on real sockets (ref/io).
 *
 * An ng control socket (rtpengine's protocol, UDP) drives the bridge
 * table of icelab/sbc_bridge.h; each call gets four UDP media sockets
 * (RTP and RTCP per leg) from the port range. Media sockets are read with
 * recvmmsg in batches and written with sendmmsg, from one epoll loop,
 * with no allocation per packet; a socket is never paused, so under
 * overload the kernel drops the excess and every stream keeps flowing
 * once the load falls.
 *
 * Configuration: defaults, then a file of "name = value" lines (the
 * option names below, "#" comments), then flags. SIGHUP reads the file
 * and flags again and applies the advertised address to new calls; a
 * private or loopback one is refused (and logged) unless
 * allow-private-advertised is on, keeping the old one. SIGTERM and
 * SIGINT stop. */
#ifndef ICELAB_SBC_SERVE_H
#define ICELAB_SBC_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"

#define IL_SBC_SERVE_PATH_MAX 1024

typedef struct il_sbc_serve_config {
	il_addr ng;                  /* the control socket: 127.0.0.1:2223 */
	il_addr advertised;          /* the public IP in SDP (required) */
	il_addr bind;                /* the media bind IP: 0.0.0.0 */
	uint16_t port_min, port_max; /* media ports: 30000-39999 */
	bool allow_private_advertised;
	bool strict_source;          /* legacy legs latch only on the SDP address */
	uint32_t max_sessions;       /* 0: as many as the ports allow */
	uint32_t media_timeout_s;    /* no media either way ends a call: 60 */
	int log_level;               /* enum il_io_log_level */
	char log_json[IL_SBC_SERVE_PATH_MAX]; /* JSON events: a file, "-" stderr, "" none */
	/* After a wake-up that found work, wait this long before the next
	 * epoll_wait, so one wake-up reads many sockets' packets (the
	 * kernel queues them meanwhile): fewer wake-ups per packet at
	 * realistic loads, at most this much added latency. 0: off. */
	uint32_t coalesce_us;
	/* Force-relay (issue #8 §4): our TURN server (UDP) and its long-term
	 * credentials for the relayed legs' allocations (restart to change);
	 * the per user/tenant rules (sbc_relay.h), read again on SIGHUP. */
	il_addr turn_server;         /* family NONE: no force-relay */
	char turn_user[128], turn_password[128];
	char relay_policy[IL_SBC_SERVE_PATH_MAX]; /* "": no rules */
} il_sbc_serve_config;

typedef struct il_sbc_serve_option {
	const char *name;
	bool has_value;
	const char *value_name;
	const char *help;
} il_sbc_serve_option;

void il_sbc_serve_defaults(il_sbc_serve_config *cfg);
const il_sbc_serve_option *il_sbc_serve_options(size_t *count);
/* One option (value NULL for a switch given as a flag): 0, or -1 + err. */
int il_sbc_serve_set(il_sbc_serve_config *cfg, const char *name, const char *value, char *err,
		     size_t err_len);
/* "name = value" lines; -1 with "PATH:LINE: problem" in err. */
int il_sbc_serve_load_file(il_sbc_serve_config *cfg, const char *path, char *err,
			   size_t err_len);
/* Cross-option checks (advertised given, port range). 0 or -1 + err. */
int il_sbc_serve_finish(il_sbc_serve_config *cfg, char *err, size_t err_len);

/* Rebuilds the configuration on SIGHUP: 0, or -1 + err. */
typedef int (*il_sbc_serve_reload_fn)(void *user, il_sbc_serve_config *cfg, char *err,
				      size_t err_len);
/* Runs until SIGTERM/SIGINT. Exit status: 0 after a clean stop, 2 when
 * the configuration is refused or the sockets cannot be set up. */
int il_sbc_serve_run(const il_sbc_serve_config *cfg, il_sbc_serve_reload_fn reload, void *user);

#endif
