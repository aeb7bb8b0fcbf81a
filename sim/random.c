/* The simulator's one source of randomness: xoshiro256** (Blackman and
 * Vigna, 2018) seeded through splitmix64, written from the published
 * algorithm. One seed gives one sequence on every platform. */
#include "sim_internal.h"

#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void il_sim_rng_seed(il_sim_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t il_sim_rng_next(il_sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint32_t il_sim_rng_below(il_sim_rng *r, uint32_t n)
{
	if (n == 0)
		return 0;
	/* Lemire's multiply-shift: unbiased enough at 32 bits out of 64. */
	return (uint32_t)(((il_sim_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

double il_sim_rng_unit(il_sim_rng *r)
{
	return (double)(il_sim_rng_next(r) >> 11) * 0x1.0p-53;
}

void il_sim_rng_bytes(il_sim_rng *r, uint8_t *out, size_t len)
{
	while (len) {
		uint64_t v = il_sim_rng_next(r);
		size_t n = len < 8 ? len : 8;
		memcpy(out, &v, n);
		out += n;
		len -= n;
	}
}
