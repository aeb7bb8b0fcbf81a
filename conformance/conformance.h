/* The conformance harness (issue #6): requirement catalogue, targets,
 * tests, runner and report writers. conformance/README.md describes the
 * catalogue format, the verdicts and the report schema.
 *
 * A test talks to a target only through a cf_ctx: it opens clients (one
 * 5-tuple each) and peers, sends bytes and waits for bytes. Every packet
 * that crosses the ctx is kept as evidence; every check names the
 * requirement it judges, and the requirement's level (MUST, SHOULD...)
 * decides whether a failed check fails the run. */
#ifndef ICELAB_CONFORMANCE_H
#define ICELAB_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "icelab/addr.h"
#include "icelab/stun.h"

/* ---- requirement catalogue (catalogue.c) ---- */

enum cf_level {
	CF_MUST = 0, /* MUST, MUST NOT, REQUIRED, SHALL, and the RFC's imperative procedures */
	CF_SHOULD,   /* SHOULD, SHOULD NOT, RECOMMENDED */
	CF_MAY,
};

typedef struct cf_requirement {
	char id[48];        /* RFC8489-6.3.1-2 */
	char rfc[8];        /* "8489" */
	char section[24];   /* "6.3.1" */
	char level_text[16];/* "MUST NOT" as written in the catalogue */
	enum cf_level level;
	char role[16];      /* server, client, agent, SBC */
	char *text;         /* our paraphrase */
	char *tests;        /* "suite/test suite/test", or NULL */
	char *untestable;   /* why it cannot be seen on the wire, or NULL */
} cf_requirement;

typedef struct cf_catalogue {
	cf_requirement *reqs;
	size_t count, cap;
} cf_catalogue;

/* The catalogue compiled into the binary (conformance/requirements/ *.req). */
int cf_catalogue_load_builtin(cf_catalogue *cat, char *err, size_t err_len);
/* Parses one .req text (name is for error messages); appends to cat. */
int cf_catalogue_parse(cf_catalogue *cat, const char *name, const char *text, char *err,
		       size_t err_len);
void cf_catalogue_free(cf_catalogue *cat);
const cf_requirement *cf_catalogue_find(const cf_catalogue *cat, const char *id);
/* True when the requirement's test list names suite/test. */
bool cf_requirement_names_test(const cf_requirement *r, const char *test_id);
const char *cf_level_name(enum cf_level l);

/* ---- targets ---- */

enum cf_transport {
	CF_UDP = 1,
	CF_TCP = 2,
	CF_TLS = 3, /* TLS over TCP (evidence only: tests ask for CF_TCP) */
};

typedef struct cf_target cf_target;

typedef struct cf_target_options {
	const char *uri;       /* "builtin", "udp://127.0.0.1:3478" */
	const char *user, *password, *realm;
	/* A second user, for the tests of another user's credentials (441). */
	const char *user2, *password2;
	uint64_t seed;
	/* builtin only, for the harness's own tests: rewrites each message
	 * the server sends to a client (may change *len, up to cap). */
	void (*mangle)(void *arg, uint8_t *data, size_t *len, size_t cap);
	void *mangle_arg;
	/* builtin only: the core's config is adjusted by this hook. */
	void (*configure)(void *arg, void *il_turn_server_config);
	void *configure_arg;
	/* tls:// only: CA file to verify the server with (default: the
	 * system's), or no verification at all. */
	const char *ca_file;
	bool insecure;
	/* builtin only, the harness's own tests of the ice-lite suite: the
	 * SBC's config is adjusted by this hook, and with sbc_follow_source
	 * the target sends ICE-leg media to the last source it received
	 * media from (the fault the suite must catch). */
	void (*configure_sbc)(void *arg, void *il_sbc_config);
	bool sbc_follow_source;
} cf_target_options;

struct cf_target {
	const char *kind;      /* "builtin", "udp" */
	char uri[256];
	bool virtual_time;     /* sleeps cost nothing: long timers are testable */
	il_addr server;        /* where clients send */
	char user[128], password[128], realm[128];
	bool has_credentials;
	char user2[128], password2[128];
	bool has_user2;
	/* A test's endpoints; each returns an index >= 0 or -1. */
	int (*client_open)(cf_target *t, int transport, il_addr *local);
	int (*client_send)(cf_target *t, int client, const uint8_t *data, size_t len);
	/* 1 with a packet, 0 on timeout, -1 on error. */
	int (*client_recv)(cf_target *t, int client, uint8_t *buf, size_t cap, size_t *len,
			   uint32_t timeout_ms);
	int (*peer_open)(cf_target *t, il_addr *addr);
	int (*peer_send)(cf_target *t, int peer, const il_addr *to, const uint8_t *data,
			 size_t len);
	int (*peer_recv)(cf_target *t, int peer, uint8_t *buf, size_t cap, size_t *len,
			 il_addr *from, uint32_t timeout_ms);
	void (*sleep_ms)(cf_target *t, uint32_t ms);
	/* Before each test: closes the endpoints (builtin: a fresh core). */
	int (*reset)(cf_target *t, uint64_t test_seed);
	void (*destroy)(cf_target *t);
	void *impl;
	/* RFC 5780 (nat-behaviour); NULL when the target cannot. A client
	 * that receives from any of the target's addresses (near >= 0: on
	 * the IP of client near, another port, for RESPONSE-PORT); sending
	 * to another of the target's addresses; receiving with the source
	 * address and port of each packet. */
	int (*client_open_any)(cf_target *t, int near, il_addr *local);
	int (*client_send_to)(cf_target *t, int client, const il_addr *to, const uint8_t *data,
			      size_t len);
	int (*client_recv_from)(cf_target *t, int client, uint8_t *buf, size_t cap, size_t *len,
				il_addr *from, uint32_t timeout_ms);
	/* Stream targets (tcp://, tls://): CF_TCP or CF_TLS, 0 for datagram
	 * targets. On a stream target a CF_UDP client (what most tests ask
	 * for) is a connection of the target's transport: the test runs
	 * over TCP/TLS; tests needing datagrams say CF_NEEDS_UDP. */
	int stream;
	/* Stream targets: the client's connection carries raw bytes from now
	 * on (RFC 6062 §5.4, after ConnectionBind). */
	int (*client_raw)(cf_target *t, int client);
	/* TCP peers (RFC 6062), NULL when the target has none: a listener;
	 * its next connection within timeout_ms (a new peer index, -1 when
	 * none); a connection to an address. Connected TCP peers use
	 * peer_send (to ignored) and peer_recv (any bytes, 0 bytes: closed). */
	int (*peer_tcp_listen)(cf_target *t, il_addr *addr);
	int (*peer_tcp_accept)(cf_target *t, int listener, il_addr *remote, uint32_t timeout_ms);
	int (*peer_tcp_connect)(cf_target *t, const il_addr *to, il_addr *local);
	/* Stream targets: close a client's or a TCP peer's connection; ask
	 * whether the server closed a client's connection. */
	void (*client_close)(cf_target *t, int client);
	bool (*client_closed)(cf_target *t, int client);
	void (*peer_close)(cf_target *t, int peer);
	/* What the target was opened with: --jobs opens one per worker. */
	cf_target_options opts;
	/* An SBC's media endpoints (the ice-lite suite; conformance/README.md
	 * "Target sdp:"): its ICE leg, the credentials on both sides, and
	 * optionally its legacy (non-ICE) leg. */
	bool has_ice;
	il_addr ice_leg;               /* where the harness's checks go */
	char ice_ufrag[257], ice_pwd[257];           /* the target's, from its SDP */
	char ice_peer_ufrag[257], ice_peer_pwd[257]; /* the harness's, as the target got them */
	bool ice_lite;                 /* the target's SDP carries a=ice-lite */
	bool has_legacy;
	il_addr legacy_leg;            /* where the harness's legacy phone sends RTP */
	/* A client talking to `to` rather than server; NULL: server only. */
	int (*client_open_to)(cf_target *t, int transport, const il_addr *to, il_addr *local);
};

/* Parses opts->uri and opens the target; NULL with err filled. */
cf_target *cf_target_open(const cf_target_options *opts, char *err, size_t err_len);
void cf_target_close(cf_target *t);
cf_target *cf_target_builtin_open(const cf_target_options *opts, char *err, size_t err_len);
cf_target *cf_target_udp_open(const cf_target_options *opts, const char *hostport, char *err,
			      size_t err_len);
/* tcp://HOST:PORT (tls false) and tls://HOST:PORT (target_stream.c). */
cf_target *cf_target_stream_open(const cf_target_options *opts, const char *hostport, bool tls,
				 char *err, size_t err_len);
/* sdp:ICE[,PEER[,LEGACY]] (target_sdp.c, conformance/README.md). */
cf_target *cf_target_sdp_open(const cf_target_options *opts, const char *spec, char *err,
			      size_t err_len);

/* The builtin target's test user (README: what the builtin target is). */
#define CF_BUILTIN_USER "alice"
#define CF_BUILTIN_PASSWORD "conformance-secret"
#define CF_BUILTIN_REALM "icelab.test"
#define CF_BUILTIN_USER2 "bob"
#define CF_BUILTIN_PASSWORD2 "conformance-secret-2"

/* ---- tests ---- */

enum cf_verdict {
	CF_PASS = 0,
	CF_FAIL,
	CF_ERROR,
	CF_SKIP,
	CF_NOT_APPLICABLE,
	CF_VERDICT__COUNT
};
const char *cf_verdict_name(enum cf_verdict v);

/* What a test needs from the target; missing needs make it skip. */
enum {
	CF_NEEDS_CREDENTIALS = 1 << 0, /* a TURN user */
	CF_NEEDS_PEER = 1 << 1,        /* peers the harness runs, reachable from the relay */
	CF_NEEDS_VIRTUAL_TIME = 1 << 2,/* waits of minutes */
	CF_NEEDS_USER2 = 1 << 3,       /* a second TURN user (--user2, --password2) */
	/* Transport needs: unmet, the test is not-applicable (not skipped). */
	CF_NEEDS_UDP = 1 << 12,        /* datagrams to the target (udp://, builtin) */
	CF_NEEDS_STREAM = 1 << 13,     /* TCP or TLS to the target (tcp://, tls://) */
};

typedef struct cf_ctx cf_ctx;

typedef struct cf_test {
	const char *suite;   /* "stun-server" */
	const char *name;    /* "binding-xor-mapped-address" */
	const char *title;   /* one line */
	unsigned needs;
	void (*run)(cf_ctx *ctx);
} cf_test;

/* Every test of every suite, in run order; *count receives how many. */
const cf_test *cf_tests_all(size_t *count);
const cf_test *cf_suite_stun_server(size_t *count);
const cf_test *cf_suite_turn_server(size_t *count);
const cf_test *cf_suite_turn_security(size_t *count);
/* turn-security's robustness and exhaustion tests (suite_turn_robustness.c). */
const cf_test *cf_suite_turn_robustness(size_t *count);
const cf_test *cf_suite_nat_behaviour(size_t *count);
/* Stream-only tests of stun-server and turn-server (RFC 8489 §6.2.2,
 * RFC 8656 §12.5, RFC 6062), run right after their suite's others. */
const cf_test *cf_suite_stun_stream(size_t *count);
const cf_test *cf_suite_turn_tcp(size_t *count);
const cf_test *cf_suite_ice_lite(size_t *count);
const cf_test *cf_suite_ice_agent(size_t *count);
/* "stun-server", ... NULL-terminated. */
const char *const *cf_suite_names(void);

/* One piece of evidence: a packet seen at the harness's side. */
typedef struct cf_packet {
	uint32_t seq;
	uint64_t t_ms;       /* since the test started (virtual on builtin) */
	bool sent;           /* by the harness; false: received */
	char endpoint[16];   /* "client1", "peer2" */
	il_addr from, to;
	uint8_t transport;
	uint8_t *data;
	size_t len;
	bool truncated;
} cf_packet;

typedef struct cf_check {
	char req[48];
	enum cf_level level;
	bool ok;
	char *message;
} cf_check;

/* A test's outcome, owned by the run. */
typedef struct cf_result {
	const cf_test *test;
	char id[96];             /* suite/name */
	enum cf_verdict verdict;
	bool blocking;           /* fails the run (a MUST failed, or SHOULD with --strict) */
	bool warning;            /* a SHOULD or MAY failed without --strict */
	char *reason;            /* skip, n/a and error: why; fail: first failed check */
	uint64_t duration_ms;
	cf_check *checks;
	size_t check_count, check_cap;
	cf_packet *packets;
	size_t packet_count, packet_cap;
	char *notes;             /* free text the test logged */
	bool waived;             /* its failures or error are known deviations (--baseline) */
	char *waiver;            /* the baseline's reasons, when waived */
} cf_result;

/* ---- the ctx API tests use (ctx.c) ---- */

cf_target *cf_ctx_target(cf_ctx *ctx);
/* Deterministic randomness for this test (from --seed and the test id). */
void cf_random(cf_ctx *ctx, uint8_t *out, size_t len);
void cf_new_tid(cf_ctx *ctx, uint8_t tid[IL_STUN_TID_LEN]);

int cf_client(cf_ctx *ctx, int transport);          /* -1: error already recorded */
/* A client whose datagrams go to `to` (an SBC leg) instead of the
 * target's server address. -1: error already recorded. */
int cf_client_to(cf_ctx *ctx, int transport, const il_addr *to);
il_addr cf_client_addr(cf_ctx *ctx, int client);
int cf_send(cf_ctx *ctx, int client, const uint8_t *data, size_t len);
/* Next packet to the client within timeout_ms (0: the default); returns
 * its length, 0 on timeout. Packets a transaction skipped come first. */
size_t cf_recv(cf_ctx *ctx, int client, uint8_t *buf, size_t cap, uint32_t timeout_ms);
/* Sends a request and waits for the response with its transaction id,
 * retransmitting over UDP (RFC 8489 §6.2.1, shortened); returns the
 * response length (decoded into *resp) or 0 when none came. Other
 * packets received meanwhile are kept for cf_recv. */
size_t cf_transact(cf_ctx *ctx, int client, const uint8_t *req, size_t len, uint8_t *buf,
		   size_t cap, il_stun_msg *resp);
/* Waits the silence window and returns true when nothing arrived. */
bool cf_expect_silence(cf_ctx *ctx, int client);

int cf_peer(cf_ctx *ctx);
il_addr cf_peer_addr(cf_ctx *ctx, int peer);
int cf_peer_send(cf_ctx *ctx, int peer, const il_addr *to, const uint8_t *data, size_t len);
/* 1 with a datagram (*len may be 0: an empty datagram), 0 on timeout. */
int cf_peer_recv(cf_ctx *ctx, int peer, uint8_t *buf, size_t cap, size_t *len, il_addr *from,
		 uint32_t timeout_ms);
void cf_sleep(cf_ctx *ctx, uint32_t ms);
/* Stream targets: CF_TCP or CF_TLS; 0 for datagram targets. */
int cf_stream_transport(cf_ctx *ctx);
/* After ConnectionBind: the client's connection is raw data (RFC 6062). */
int cf_client_raw(cf_ctx *ctx, int client);
/* TCP peers (RFC 6062): a listener (its address in cf_peer_addr); the
 * next connection it accepts within timeout_ms (-1: none, no error
 * recorded; *remote: who connected); a connection from the harness to `to` (-1: failed, no error
 * recorded). Connected peers then use cf_peer_send/cf_peer_recv. */
int cf_peer_tcp_listen(cf_ctx *ctx);
int cf_peer_tcp_accept(cf_ctx *ctx, int listener, il_addr *remote, uint32_t timeout_ms);
int cf_peer_tcp_connect(cf_ctx *ctx, const il_addr *to);
/* Closes the client's connection (stream targets; no-op on datagrams). */
void cf_client_close(cf_ctx *ctx, int client);
/* True once the server closed the client's connection (stream targets). */
bool cf_client_closed(cf_ctx *ctx, int client);
void cf_peer_close(cf_ctx *ctx, int peer);
/* Evidence a test gathered itself rather than through its endpoints
 * (the ice-agent suite: packets read back from the simulator's capture). */
void cf_evidence(cf_ctx *ctx, bool sent, const char *endpoint, const il_addr *from,
		 const il_addr *to, const uint8_t *data, size_t len);

/* Records a check of requirement req; returns ok. The message says what
 * was seen (printf format). */
bool cf_check_req(cf_ctx *ctx, const char *req, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Ends the test without a pass/fail verdict. */
void cf_skip(cf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cf_not_applicable(cf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cf_error(cf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cf_note(cf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True once the test has an error, skip or n/a: tests return early. */
bool cf_stopped(const cf_ctx *ctx);

/* RFC 5780 (runner.c): a client of client_open_any (near as there; -1
 * records an error, or skips when the target has none); a request to
 * `to` (NULL: the target's address) whose response's source address is
 * given in *from; the next packet and its source (0: none). */
int cf_client_any(cf_ctx *ctx, int near);
size_t cf_transact_to(cf_ctx *ctx, int client, const il_addr *to, const uint8_t *req, size_t len,
		      uint8_t *buf, size_t cap, il_stun_msg *resp, il_addr *from);
size_t cf_recv_from(cf_ctx *ctx, int client, uint8_t *buf, size_t cap, il_addr *from,
		    uint32_t timeout_ms);
int cf_send_to(cf_ctx *ctx, int client, const il_addr *to, const uint8_t *data, size_t len);

/* ---- the run (runner.c) ---- */

typedef struct cf_run_options {
	const char *const *suites; /* NULL: every suite */
	size_t suite_count;
	const char *test_glob;     /* fnmatch on "suite/name" or "name"; NULL: all */
	uint64_t seed;
	bool strict;
	uint32_t recv_timeout_ms;  /* one wait for a response (default 500) */
	uint32_t silence_ms;       /* how long "no answer" is waited for (default 300) */
	uint32_t test_timeout_ms;  /* a whole test (default 20000) */
	bool progress;             /* a line per test on stderr */
	bool isolate;              /* each test in a child process (isolate.c) */
	unsigned jobs;             /* tests run in parallel, each worker its own target (0, 1: serial) */
	unsigned repeat;           /* runs of each test (0, 1: once); mixed pass/fail: flaky = fail */
} cf_run_options;

typedef struct cf_run {
	char run_id[64];
	char started_at[32];       /* UTC, ISO 8601 */
	uint64_t duration_ms;
	cf_run_options opts;
	char target_uri[256];
	char target_kind[16];
	char target_user[128], target_realm[128];
	char target_password[128]; /* to verify evidence; never written out */
	const cf_catalogue *cat;
	cf_result *results;
	size_t result_count;
	size_t counts[CF_VERDICT__COUNT];
	size_t warnings, blocking;
	size_t waived;             /* tests whose failures or error the baseline waived */
	char baseline[256];        /* the --baseline file, or "" */
	int exit_code;             /* 0 pass, 1 failures or errors */
} cf_run;

/* Runs the selected tests in catalogue order against t. Returns 0, or -1
 * (err filled) when nothing could be run (e.g. an unknown suite). */
int cf_run_tests(cf_run *run, cf_target *t, const cf_catalogue *cat, const cf_run_options *o,
		 char *err, size_t err_len);
void cf_run_free(cf_run *run);

/* --isolate (isolate.c): runs fn (the runner's one-test step) in a forked
 * child and copies its result into r; a child that crashes, hangs past
 * the test timeout or exits early gives r an error verdict saying so. */
typedef void (*cf_run_one_fn)(cf_run *run, cf_target *t, const cf_test *test, cf_result *r,
			      unsigned repetition);
void cf_run_one_isolated(cf_run *run, cf_target *t, const cf_test *test, cf_result *r,
			 cf_run_one_fn fn, unsigned repetition);

/* ---- known deviations and run comparison (baseline.c) ---- */

/* A baseline file (conformance/README.md): waivers, each with a reason.
 * A waiver names a test and optionally one requirement: with a
 * requirement it waives that requirement's failed checks in that test;
 * without, the whole test (failures and error). */
typedef struct cf_waiver {
	char test[96];
	char req[48];      /* "" : the whole test */
	char *reason;
	bool used;
} cf_waiver;

typedef struct cf_baseline {
	char path[256];
	char target[128];  /* what the baseline describes, free text */
	cf_waiver *waivers;
	size_t count;
} cf_baseline;

int cf_baseline_load(cf_baseline *b, const char *path, char *err, size_t err_len);
void cf_baseline_free(cf_baseline *b);
/* Marks the results whose every blocking failure (or error) a waiver
 * covers as waived, and recomputes the run's counts and exit code. */
void cf_run_apply_baseline(cf_run *run, cf_baseline *b);
/* Compares two report.json files: prints what changed to out. Returns
 * the number of regressions (a test newly blocking or erring, unwaived),
 * or -1 with err. */
int cf_report_diff(const char *old_path, const char *new_path, bool json, FILE *out, char *err,
		   size_t err_len);

/* ---- reports (report_*.c) ---- */

/* The report.json document (schema in README.md). */
json_t *cf_report_json(const cf_run *run);
/* Writes report.json, junit.xml and report.html into dir (temp file +
 * rename each). 0 or -1 with err. */
int cf_report_write_all(const cf_run *run, const char *dir, char *err, size_t err_len);
int cf_report_write_junit(const cf_run *run, const char *path, char *err, size_t err_len);
int cf_report_write_html(const cf_run *run, const char *path, char *err, size_t err_len);
/* Writes through path.tmp then rename. */
int cf_write_file_atomic(const char *path, const char *data, size_t len, char *err,
			 size_t err_len);

/* A packet's decoded form for evidence: STUN as il_stun_msg_to_json (with
 * the run's credentials when given), ChannelData, or raw data. */
json_t *cf_packet_decode(const cf_packet *p, const char *user, const char *realm,
			 const char *password);

/* --list-requirements: coverage per RFC and section. */
void cf_print_coverage(const cf_catalogue *cat, const char *rfc_filter, bool verbose,
		       FILE *out);

#endif
