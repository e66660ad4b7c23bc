/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal unit test harness: CHECK() counts, the runner prints the
 * closing line "N passed, N failed" and exits non-zero on any failure.
 */
#ifndef ILIO_UT_H
#define ILIO_UT_H

#include <stdio.h>
#include <stdint.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <string.h>

extern unsigned long ut_passed, ut_failed;
extern const char *ut_current;

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		ut_passed++;						\
	} else {							\
		ut_failed++;						\
		fprintf(stderr, "FAIL %s (%s:%d): %s: ", ut_current,	\
			__FILE__, __LINE__, #cond);			\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

/* Like CHECK, but counts once per scenario: for checks inside loops. */
#define CHECK_QUIET(cond, fails, ...) do {				\
	if (!(cond) && (fails)++ < 5) {					\
		fprintf(stderr, "FAIL %s (%s:%d): %s: ", ut_current,	\
			__FILE__, __LINE__, #cond);			\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

struct ut_case {
	const char *name;
	void (*fn)(void);
};

static inline uint64_t ut_rand(uint64_t *s)
{
	/* xorshift64*: deterministic for a given seed */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static inline void ut_fill_random(void *buf, size_t n, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1, v;
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < n; i += 8) {
		v = ut_rand(&s);
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* Half random, half a repeated phrase: compresses to about half. */
static inline void ut_fill_compressible(void *buf, size_t n, uint64_t seed)
{
	static const char phrase[] = "dm-ilio compressible filler text ";
	uint8_t *p = buf;
	size_t i;

	ut_fill_random(buf, n / 2, seed);
	for (i = n / 2; i < n; i++)
		p[i] = phrase[i % (sizeof(phrase) - 1)];
}

int ut_run(const struct ut_case *cases, size_t n, int argc, char **argv);

#endif
