/* The libevent driver (ARCHITECTURE.md, ref/io): gives the TURN server
 * core real sockets (UDP, TCP, TLS), the clock, randomness, signals and a
 * configuration. `icelab serve` is a thin layer over this header.
 *
 * The configuration is one struct filled from defaults, then a file, then
 * flags: the same option names everywhere (`--min-port 49152` on the
 * command line is `min-port = 49152` in the file). */
#ifndef ICELAB_IO_H
#define ICELAB_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"
#include "icelab/peer_policy.h"

#define IL_IO_MAX_LISTEN 16
#define IL_IO_MAX_TENANTS 16
#define IL_IO_NAME_MAX 64
#define IL_IO_REALM_MAX 128
#define IL_IO_PATH_MAX 1024
#define IL_IO_SECRET_LEN 32

enum il_io_listen_kind {
	IL_IO_LISTEN_PLAIN = 1, /* UDP and TCP on the address (unless disabled) */
	IL_IO_LISTEN_TLS = 2,   /* TLS over TCP (TURNS, RFC 8656 §3.1) */
};

typedef struct il_io_listen {
	il_addr addr;
	uint8_t kind;   /* enum il_io_listen_kind */
	uint8_t tenant; /* index in il_io_config.tenants */
} il_io_listen;

typedef struct il_io_user {
	char *name;
	char *password;
} il_io_user;

typedef struct il_io_tenant {
	char name[IL_IO_NAME_MAX];
	char realm[IL_IO_REALM_MAX];
	il_io_user *users; /* --user and the users file, malloc'd */
	size_t user_count, user_cap;
	char users_file[IL_IO_PATH_MAX];
	bool rest;                    /* accept TURN REST credentials */
	uint32_t max_allocations;     /* 0: the global value */
	uint32_t max_allocations_per_user;
} il_io_tenant;

enum il_io_log_level {
	IL_LOG_ERROR = 0,
	IL_LOG_WARN,
	IL_LOG_INFO,
	IL_LOG_DEBUG,
};

typedef struct il_io_config {
	il_io_listen listen[IL_IO_MAX_LISTEN];
	size_t listen_count;
	bool listen_given;     /* the first --listen replaces the defaults */
	bool udp, tcp;         /* transports on plain listeners */
	il_addr relay_v4, relay_v6;       /* family NONE: derived from listeners */
	il_addr external_v4, external_v6; /* advertised instead of the relay IP */
	/* RFC 5780 A2:P2; NONE: off. A1:P1 is the first plain listener of
	 * the same family with a specific address (il_io_config_primary). */
	il_addr other_address;
	bool allow_private_relay;
	uint16_t min_port, max_port;
	unsigned workers;      /* 0: the number of online CPUs */
	char cert_file[IL_IO_PATH_MAX], key_file[IL_IO_PATH_MAX];
	uint16_t tls_min_version; /* 0x0303 (1.2) or 0x0304 (1.3) */
	il_peer_policy peers;  /* --allow-peer / --deny-peer */
	uint32_t default_lifetime_s, max_lifetime_s, channel_lifetime_s, nonce_lifetime_s;
	uint32_t max_allocations, max_allocations_per_user;
	uint16_t max_permissions, max_channels;
	/* Close TCP/TLS clients, and RFC 6062 connections (both sides of a
	 * splice), after this long without a byte either way. */
	uint32_t tcp_idle_timeout_s;
	/* Per-source limit on 401 answers (turn_server.h), 0: none. */
	uint32_t max_401_per_second, max_401_burst;
	uint64_t max_bps_per_allocation;  /* bits a second each way, 0: unlimited */
	/* TCP/TLS client connections at once from one IPv4 address or IPv6
	 * /64, over all listeners and workers; beyond, accepted and closed
	 * at once (counted). 0: unlimited. */
	uint32_t max_connections_per_ip;
	bool rfc5766_channels; /* channels 0x4000-0x7FFF (RFC 5766) for legacy clients */
	bool allow_md5, allow_sha256;
	char software[IL_IO_NAME_MAX]; /* empty: no SOFTWARE attribute */
	il_addr metrics;       /* family NONE: no metrics listener */
	int log_level;         /* enum il_io_log_level */
	bool log_json;
	char state_dir[IL_IO_PATH_MAX];
	uint32_t rest_ttl_s;   /* lifetime of printed REST credentials */
	uint32_t secret_grace_s; /* old secret accepted this long after rotation */
	il_io_tenant tenants[IL_IO_MAX_TENANTS]; /* [0] is "default" */
	size_t tenant_count;
	int current_tenant;    /* file parsing: the [tenant NAME] section */
} il_io_config;

/* Every option with its default. */
void il_io_config_defaults(il_io_config *cfg);
/* Frees the users; the struct can then be reused after _defaults. */
void il_io_config_release(il_io_config *cfg);

/* One option of the table shared by flags and the file. */
typedef struct il_io_option {
	const char *name;     /* "min-port": --min-port and "min-port = ..." */
	bool has_value;       /* false: a switch (the file takes true/false) */
	const char *value_name; /* "PORT", for --help */
	const char *help;     /* one line, with the default */
	bool cli_only;        /* --config and the one-shot actions */
} il_io_option;

const il_io_option *il_io_config_options(size_t *count);
const il_io_option *il_io_config_option_find(const char *name);

/* Sets one option; value is NULL for a switch given as a flag. Returns 0,
 * or -1 with a message (without the place) in err. */
int il_io_config_set(il_io_config *cfg, const char *name, const char *value, char *err,
		     size_t err_len);
/* Reads a file of "name = value" lines, "#" comments and "[tenant NAME]"
 * sections. Returns 0, or -1 with "PATH:LINE: option: problem" in err. */
int il_io_config_load_file(il_io_config *cfg, const char *path, char *err, size_t err_len);
/* Checks what single options cannot (port range order, TLS needs a cert,
 * a tenant without a realm...) and fills derived values. 0 or -1 + err. */
int il_io_config_finish(il_io_config *cfg, char *err, size_t err_len);

/* RFC 5780: the index of the listener that is A1:P1 when other_address
 * is set (the first plain listener of its family, not a wildcard); -1
 * when there is none. */
int il_io_config_primary(const il_io_config *cfg);

/* A tenant by name; -1 when absent. */
int il_io_config_tenant_find(const il_io_config *cfg, const char *name);

/* Logging: one line per call to stderr, "LEVEL message" or a JSON object. */
void il_log_setup(int level, bool json);
bool il_log_enabled(int level);
void il_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* REST credentials and tenant secrets (draft-uberti-behave-turn-rest-00). */
/* Loads STATE_DIR/TENANT/secret, creating it (RAND_bytes, mode 0600, temp
 * file + rename) when absent. prev/prev_until get the secret being
 * retired and the UNIX time its grace ends (0: none). 0 or -1 + err. */
int il_io_secret_load(const char *state_dir, const char *tenant, bool create,
		      uint8_t secret[IL_IO_SECRET_LEN], uint8_t prev[IL_IO_SECRET_LEN],
		      uint64_t *prev_until, char *err, size_t err_len);
/* The HMAC key of REST credentials is the secret's text, the 64 hex
 * digits of the file, so a web service (or coturn's static-auth-secret,
 * or turnutils_uclient -W) can be given the file's content as is. */
void il_io_secret_text(const uint8_t secret[IL_IO_SECRET_LEN], char out[2 * IL_IO_SECRET_LEN + 1]);
/* Replaces the secret; the old one stays valid for grace_s seconds. */
int il_io_secret_rotate(const char *state_dir, const char *tenant, uint32_t grace_s,
			uint64_t now_s, char *err, size_t err_len);
/* Writes the iceServers JSON for a tenant to out (malloc'd, NUL-terminated). */
char *il_io_ice_servers_json(const il_io_config *cfg, int tenant, const uint8_t *secret,
			     uint64_t now_s, const char *user_id);

/* Runs the server until SIGTERM/SIGINT. reload, when given, rebuilds a
 * configuration on SIGHUP (file and flags again); returns 0 or -1.
 * Returns the exit status: 0 after a clean stop, 2 when the sockets or
 * TLS could not be set up. */
typedef int (*il_io_reload_fn)(void *user, il_io_config *cfg, char *err, size_t err_len);
int il_io_server_run(il_io_config *cfg, il_io_reload_fn reload, void *reload_user);

#endif
