/* The STUN codec benchmark (`make bench`, issue #2 §6): what the pieces of
 * bench/ share. stun_bench.c runs the cases and writes the report; each
 * other file owns one implementation under test:
 *
 *   icelab_cases.c   icelab: decode, decode + verify, encode
 *   peer_libnice.c   libnice's STUN agent: stun_agent_validate, encode
 *   floor.c          the floor: pre-keyed HMAC-SHA1 + CRC-32, nothing else
 *   alloc_count.c    counts every malloc-family call of the process
 *   rfc5769.c        the RFC 5769 messages, transcribed
 *
 * Every case is a loop that runs one operation n times and returns how
 * many of those n did not give the expected answer: the harness checks
 * that this is 0, so a fast failure path is never timed. */
#ifndef ICELAB_BENCH_H
#define ICELAB_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* rfc5769.c: RFC 5769 §2.1-2.4, byte for byte. */
extern const uint8_t rfc5769_request[108];
extern const uint8_t rfc5769_response_ipv4[80];
extern const uint8_t rfc5769_response_ipv6[92];
extern const uint8_t rfc5769_request_long_term[116];
#define RFC5769_USERNAME "evtj:h6vY"
#define RFC5769_PASSWORD "VOkJxbRl1RmTxUk/WvJxBt"
/* §2.4: the username is "マトリックス" (UTF-8); the password before
 * SASLprep is "The<U+00AD>M<U+00AA>tr<U+2168>", after it "TheMatrIX". */
#define RFC5769_LT_USERNAME "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"
#define RFC5769_LT_PASSWORD "The\xc2\xadM\xc2\xaatr\xe2\x85\xa8"
#define RFC5769_LT_PASSWORD_PREPPED "TheMatrIX"
#define RFC5769_LT_REALM "example.org"

/* One message under test and where its integrity attributes sit. */
typedef struct bench_msg {
	const char *name;        /* "rfc5769-2.1-request", ... */
	const char *title;       /* "RFC 5769 §2.1 request" */
	const uint8_t *buf;
	size_t len;
	bool is_request;
	bool long_term;          /* §2.4: MD5 long-term key, no FINGERPRINT */
	size_t mi_off;           /* MESSAGE-INTEGRITY attribute header */
	size_t fp_off;           /* FINGERPRINT attribute header; 0: none */
} bench_msg;

/* Finds MESSAGE-INTEGRITY and FINGERPRINT by walking the attributes
 * (independently of any implementation under test). False when the
 * message is not laid out as expected. */
bool bench_msg_locate(bench_msg *m);

/* The typical ICE exchange the encode cases build (RFC 8445 §7.1.1,
 * §7.3.1.1): a controlling agent's nominating Binding request and the
 * success response. Values are those of RFC 5769 §2.1 / §2.2. */
typedef struct bench_ice_params {
	uint8_t tid[12];
	const char *username;
	const char *password;
	uint32_t priority;
	uint64_t tie_breaker;
	uint8_t mapped_ip[4];    /* network order */
	uint16_t mapped_port;
} bench_ice_params;
extern const bench_ice_params bench_ice;

/* A case's loop: runs its operation n times, returns the failures. */
typedef size_t (*bench_run_fn)(void *ctx, size_t n);

/* Encode cases also say what they built (checked and cross-validated
 * once before timing). */
typedef struct bench_encoded {
	uint8_t buf[256];
	size_t len;
} bench_encoded;

/* icelab_cases.c. The contexts are set up once; set-up returns NULL and
 * fills why[] when a precondition fails (decode or verify not OK). */
void *icelab_decode_new(const bench_msg *m, char *why, size_t why_len);
void *icelab_verify_new(const bench_msg *m, char *why, size_t why_len);
void *icelab_encode_new(bool response, char *why, size_t why_len);
size_t icelab_run_decode(void *ctx, size_t n);
size_t icelab_run_verify(void *ctx, size_t n);
size_t icelab_run_encode(void *ctx, size_t n);
const bench_encoded *icelab_encode_output(const void *ctx);
/* Decode + full verification of any message (for cross-checks). */
bool icelab_verify_once(const uint8_t *buf, size_t len, char *why, size_t why_len);
void icelab_case_free(void *ctx);

/* peer_libnice.c */
void *libnice_validate_new(const bench_msg *m, char *why, size_t why_len);
void *libnice_encode_new(bool response, char *why, size_t why_len);
size_t libnice_run_validate(void *ctx, size_t n);
size_t libnice_run_encode(void *ctx, size_t n);
const bench_encoded *libnice_encode_output(const void *ctx);
/* stun_agent_validate of any short-term message (for cross-checks). */
bool libnice_validate_once(const uint8_t *buf, size_t len, char *why, size_t why_len);
void libnice_case_free(void *ctx);

/* floor.c. The key is the HMAC key itself (the password for short-term,
 * MD5(username:realm:password) for long-term). */
enum floor_kind {
	FLOOR_SHA_CTX,      /* precomputed inner/outer SHA_CTX, copied per message */
	FLOOR_SHA_CTX_SPAN, /* the same over the bytes as received: cost only */
	FLOOR_EVP_REINIT,   /* EVP_MAC_CTX keyed once, EVP_MAC_init(NULL key) per message */
	FLOOR_EVP_DUP,      /* EVP_MAC_CTX keyed once, EVP_MAC_CTX_dup per message */
};
void *floor_new(enum floor_kind kind, const bench_msg *m, const uint8_t *key, size_t key_len,
		char *why, size_t why_len);
size_t floor_run(void *ctx, size_t n);
void floor_free(void *ctx);
/* MD5(username ":" realm ":" password), the RFC 5389 long-term key. */
void floor_long_term_key(const char *username, const char *realm, const char *password,
			 uint8_t out[16]);
const char *floor_openssl_version(void);
const char *floor_zlib_version(void);

/* alloc_count.c: malloc, calloc, realloc, memalign, posix_memalign,
 * aligned_alloc calls since start, from any code in the process. */
uint64_t bench_alloc_count(void);
/* False in a sanitizer build, where the counts mean nothing. */
bool bench_alloc_counting(void);

/* ---- the harness (stun_bench.c runs, report.c prints and writes) ---- */

#define BENCH_MAX_RUNS 31

enum bench_role {
	ROLE_ICELAB_DECODE,
	ROLE_ICELAB_VERIFY,
	ROLE_ICELAB_ENCODE,
	ROLE_LIBNICE,            /* validate or encode, by group */
	ROLE_FLOOR_SHA_CTX,      /* the floor the ratios use */
	ROLE_FLOOR_SHA_CTX_SPAN,
	ROLE_FLOOR_EVP_REINIT,
	ROLE_FLOOR_EVP_DUP,
};

/* A group: one message, every implementation run on it. */
typedef struct bench_group {
	char id[48];             /* "rfc5769-2.1-request", "encode-ice-request" */
	char title[96];
	char detail[160];        /* what is in it */
	size_t bytes;
} bench_group;

typedef struct bench_case {
	const bench_group *group;
	enum bench_role role;
	char id[96];             /* group id "/" role name: JSON and callgrind */
	const char *label;
	bench_run_fn run;
	void *ctx;
	void (*free_ctx)(void *ctx);
	char skip[200];          /* why it was not run (a failed precondition) */
	size_t iters;            /* per run, calibrated */
	int runs;
	double ns[BENCH_MAX_RUNS];
	double median, lo, hi;   /* ns per message */
	uint64_t allocs;         /* malloc-family calls in the timed loops */
	uint64_t timed_iters;
	size_t failures;         /* wrong answers in the timed loops: must be 0 */
	double ir;               /* callgrind instructions per message; < 0: none */
} bench_case;

typedef struct bench_check {
	char name[96];
	bool ok;
	char detail[200];
} bench_check;

typedef struct bench_report {
	bench_group *groups;
	size_t group_count;
	bench_case *cases;
	size_t case_count;
	bench_check *checks;
	size_t check_count;
	int runs;
	double target_ms;
	int cpu;                 /* pinned CPU, -1 when not pinned */
	const char *callgrind;   /* "ok", "skipped: ..." or NULL (not asked) */
	double load_before[3];   /* /proc/loadavg; < 0: unknown */
	double load_after[3];
	double seconds;
} bench_report;

const char *bench_role_name(enum bench_role role);
/* The floor-sha-ctx and libnice cases of c's group (NULL when absent or
 * skipped). */
const bench_case *bench_find_ref(const bench_report *r, const bench_case *c,
				 enum bench_role role);
void bench_print_table(const bench_report *r);
/* Writes JSON to path.tmp then renames it to path; 0 or -1. */
int bench_write_json(const bench_report *r, const char *path);

#endif
