/* Helpers shared by the fuzz targets: an invariant check that aborts (so
 * libFuzzer and AFL++ both record a crash even without sanitizers) and
 * big-endian readers. */
#ifndef ICELAB_FUZZ_CHECK_H
#define ICELAB_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,    \
				__LINE__, #cond);                                     \
			abort();                                                      \
		}                                                                     \
	} while (0)

static inline uint16_t fuzz_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t fuzz_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline size_t fuzz_round4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

#endif
