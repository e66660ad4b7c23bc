/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xxh64-forge: build any number of distinct 4 KiB blocks with one xxh64
 * value, for a seed the forger knows.  This is the attack of issue #7
 * item 3 ("the dedup hash is forgeable"), used by test-core, test-plog and
 * bench-core against the core's own hashing.
 *
 * Why it works: for a 4096-byte input xxh64 runs four independent 64-bit
 * lanes over 128 stripes of 32 bytes, lane i taking bytes 8i..8i+7 of each
 * stripe:
 *
 *	v = rotl64(v + in * P2, 31) * P1
 *
 * and the final value depends on the four lane states alone (4096 is a
 * multiple of 32: no tail bytes).  One round is a bijection of its input
 * for a given state (P1 and P2 are odd, so invertible mod 2^64), so for
 * any first 127 stripes the last stripe can be solved for, lane by lane,
 * to land on the lane states of a reference block: same states, same
 * hash.  The lane start values are the seed plus constants, so the forger
 * must know the seed; with a random per-store seed it does not.
 */
#ifndef ILIO_XXH64_FORGE_H
#define ILIO_XXH64_FORGE_H

#include <stdint.h>
#include <string.h>

#define XF_P1		0x9E3779B185EBCA87ULL
#define XF_P2		0xC2B2AE3D27D4EB4FULL
#define XF_BLOCK	4096U
#define XF_STRIPES	(XF_BLOCK / 32)

static inline uint64_t xf_rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t xf_round(uint64_t acc, uint64_t in)
{
	return xf_rotl(acc + in * XF_P2, 31) * XF_P1;
}

/* Inverse of an odd number mod 2^64 (Newton: each step doubles the bits). */
static inline uint64_t xf_inv(uint64_t a)
{
	uint64_t x = a;
	int i;

	for (i = 0; i < 6; i++)
		x *= 2 - a * x;
	return x;
}

static inline uint64_t xf_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void xf_put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The four lane states after the first @stripes stripes of @p. */
static inline void xf_lanes(const uint8_t *p, unsigned int stripes,
			    uint64_t seed, uint64_t v[4])
{
	unsigned int s, i;

	v[0] = seed + XF_P1 + XF_P2;
	v[1] = seed + XF_P2;
	v[2] = seed;
	v[3] = seed - XF_P1;
	for (s = 0; s < stripes; s++)
		for (i = 0; i < 4; i++)
			v[i] = xf_round(v[i], xf_le64(p + 32 * s + 8 * i));
}

/*
 * xf_forge() - overwrite the last 32 bytes of @block so that
 * xxh64(@block, 4096, @seed) equals the hash of any block whose lanes end
 * at @target (see xf_lanes() with XF_STRIPES).
 */
static inline void xf_forge(uint8_t *block, uint64_t seed,
			    const uint64_t target[4])
{
	const uint64_t ip1 = xf_inv(XF_P1), ip2 = xf_inv(XF_P2);
	uint64_t v[4], want;
	int i;

	xf_lanes(block, XF_STRIPES - 1, seed, v);
	for (i = 0; i < 4; i++) {
		/* rotl(v + in * P2, 31) * P1 == target */
		want = xf_rotl(target[i] * ip1, 64 - 31);
		xf_put_le64(block + XF_BLOCK - 32 + 8 * i, (want - v[i]) * ip2);
	}
}

#endif /* ILIO_XXH64_FORGE_H */
