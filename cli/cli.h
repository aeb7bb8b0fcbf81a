/* The icelab command: shared pieces of the verbs (main.c dispatches). */
#ifndef ICELAB_CLI_H
#define ICELAB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ICELAB_VERSION "0.1.0-dev"

/* Exit codes (ARCHITECTURE.md): success, a failed check, bad usage or a
 * harness error. */
enum {
	CLI_OK = 0,
	CLI_FAILED = 1,
	CLI_USAGE = 2,
};

/* Verbs: argv[0] is the verb's name. */
int cmd_stun(int argc, char **argv);
int il_cmd_ng(int argc, char **argv); /* cli/ng_cmd.c */

/* One line "icelab <what>: <message>" on stderr. */
void cli_error(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long's complaint about argv[optind-1], in our words; returns 2. */
int cli_bad_option(const char *what, int opt, char **argv);

/* Reads a whole file ("-" is stdin) into a malloc'd buffer; NULL with
 * errno set on failure. Files over limit bytes are refused (EFBIG). */
uint8_t *cli_read_all(const char *path, size_t limit, size_t *len);

/* Hex digits with any whitespace between them into out (cap bytes);
 * returns the byte count, or -1 for a non-hex character, an odd digit
 * count or overflow. */
long cli_hex_decode(const char *text, size_t len, uint8_t *out, size_t cap);

/* True when the bytes are hex digits and whitespace only, with at least
 * one digit: input given as text rather than binary. */
bool cli_looks_like_hex(const uint8_t *buf, size_t len);

/* Writes len bytes as lowercase hex. */
void cli_hex_print(FILE *f, const uint8_t *buf, size_t len);

#endif
