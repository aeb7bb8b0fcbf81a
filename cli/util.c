/* Small helpers the verbs share: errors, files, hex. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *what, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "icelab %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_bad_option(const char *what, int opt, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (opt == ':')
		cli_error(what, "option '%s' needs a value (see --help)", arg);
	else if (optopt && optopt != '?')
		cli_error(what, "unknown option '-%c' (see --help)", optopt);
	else
		cli_error(what, "unknown option '%s' (see --help)", arg);
	return CLI_USAGE;
}

uint8_t *cli_read_all(const char *path, size_t limit, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			if (cap > limit) {
				free(buf);
				buf = NULL;
				errno = EFBIG;
				break;
			}
			uint8_t *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				free(buf);
				buf = NULL;
				errno = EIO;
			}
			break;
		}
	}
	if (buf && n > limit) {
		free(buf);
		buf = NULL;
		errno = EFBIG;
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

static int nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

long cli_hex_decode(const char *text, size_t len, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (size_t i = 0; i < len; i++) {
		if (is_space((unsigned char)text[i]))
			continue;
		int v = nibble((unsigned char)text[i]);
		if (v < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (long)n : -1;
}

bool cli_looks_like_hex(const uint8_t *buf, size_t len)
{
	bool digit = false;
	for (size_t i = 0; i < len; i++) {
		if (is_space(buf[i]))
			continue;
		if (nibble(buf[i]) < 0)
			return false;
		digit = true;
	}
	return digit;
}

void cli_hex_print(FILE *f, const uint8_t *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		fputc(digits[buf[i] >> 4], f);
		fputc(digits[buf[i] & 15], f);
	}
}
