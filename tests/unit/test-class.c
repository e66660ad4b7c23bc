// SPDX-License-Identifier: GPL-2.0
/*
 * test-class: the region class map (ilio-class.c) against a model, one
 * class per sector, under random hints: the map always says what the
 * model says, stays sorted, non-overlapping and merged, and a refused
 * change (past the limit) changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/errno.h>

#include "ut.h"
#include "ilio-class.h"

#define NSECT 4096

static int check_map(const struct ilio_classmap *m, const u8 *model)
{
	int fails = 0;
	u64 s;
	u32 i;

	for (s = 0; s < NSECT; s++)
		CHECK_QUIET(ilio_classmap_get(m, s) == model[s], fails,
			    "sector %llu: class %d, model %d", (unsigned long long)s,
			    ilio_classmap_get(m, s), model[s]);
	for (i = 0; i < m->nr; i++) {
		CHECK_QUIET(m->r[i].start < m->r[i].end && m->r[i].cls != ILIO_CLASS_NORMAL &&
			    m->r[i].cls < ILIO_NR_CLASSES, fails, "range %u malformed", i);
		if (i)
			CHECK_QUIET(m->r[i - 1].end < m->r[i].start ||
				    (m->r[i - 1].end == m->r[i].start &&
				     m->r[i - 1].cls != m->r[i].cls), fails,
				    "ranges %u and %u overlap or should be merged", i - 1, i);
	}
	return fails;
}

static void t_model(void)
{
	static u8 model[NSECT];
	struct ilio_classmap m;
	u64 rs = 12345;
	int i, fails = 0, refused = 0;

	memset(model, 0, sizeof(model));
	ilio_classmap_init(&m, 64);
	for (i = 0; i < 20000; i++) {
		u64 start = ut_rand(&rs) % NSECT;
		u64 nr = 1 + ut_rand(&rs) % (ut_rand(&rs) % 4 ? 16 : 600);
		int cls = (int)(ut_rand(&rs) % ILIO_NR_CLASSES), ret;
		u32 before = m.nr;

		if (start + nr > NSECT)
			nr = NSECT - start;
		ret = ilio_classmap_set(&m, start, nr, cls);
		if (ret == -ENOSPC) {
			refused++;
			CHECK_QUIET(m.nr == before, fails, "a refused hint changed the map");
		} else {
			CHECK_QUIET(ret == 0, fails, "set: %d", ret);
			memset(model + start, cls, nr);
		}
		CHECK_QUIET(m.nr <= m.limit, fails, "%u ranges past the limit %u", m.nr,
			    m.limit);
		if (i % 97 == 0)
			fails += check_map(&m, model);
	}
	fails += check_map(&m, model);
	CHECK(fails == 0, "%d mismatches", fails);
	CHECK(refused > 0, "the limit never refused a hint");
	CHECK(ilio_classmap_bytes(&m) == m.nr * sizeof(struct ilio_crange), "bytes");
	/* Clearing everything empties the map. */
	CHECK(ilio_classmap_set(&m, 0, NSECT, ILIO_CLASS_NORMAL) == 0 && m.nr == 0,
	      "clear all: %u ranges left", m.nr);
	ilio_classmap_exit(&m);
}

static void t_edges(void)
{
	struct ilio_classmap m;

	ilio_classmap_init(&m, 8);
	CHECK(ilio_classmap_set(&m, 10, 0, ILIO_CLASS_PIN) == -EINVAL, "nr 0");
	CHECK(ilio_classmap_set(&m, ~0ULL - 1, 4, ILIO_CLASS_PIN) == -EINVAL, "wraps");
	CHECK(ilio_classmap_set(&m, 10, 5, 7) == -EINVAL, "class 7");
	CHECK(ilio_classmap_set(&m, 10, 5, -1) == -EINVAL, "class -1");
	CHECK(m.nr == 0, "refusals left %u ranges", m.nr);
	CHECK(!ilio_classmap_set(&m, 10, 10, ILIO_CLASS_PIN) &&
	      !ilio_classmap_set(&m, 20, 10, ILIO_CLASS_PIN) && m.nr == 1 &&
	      m.r[0].start == 10 && m.r[0].end == 30, "adjacent ranges merge");
	CHECK(!ilio_classmap_set(&m, 15, 5, ILIO_CLASS_TEMP) && m.nr == 3, "a split: %u", m.nr);
	CHECK(!ilio_classmap_set(&m, 15, 5, ILIO_CLASS_NORMAL) && m.nr == 2 &&
	      ilio_classmap_get(&m, 14) == ILIO_CLASS_PIN &&
	      ilio_classmap_get(&m, 15) == ILIO_CLASS_NORMAL &&
	      ilio_classmap_get(&m, 20) == ILIO_CLASS_PIN, "normal clears the middle");
	CHECK(!ilio_classmap_set(&m, ~0ULL - 10, 10, ILIO_CLASS_NOCACHE) &&
	      ilio_classmap_get(&m, ~0ULL - 1) == ILIO_CLASS_NOCACHE, "the top of the space");
	ilio_classmap_exit(&m);
}

int main(int argc, char **argv)
{
	static const struct ut_case cases[] = {
		{ "model", t_model },
		{ "edges", t_edges },
	};

	return ut_run(cases, ARRAY_SIZE(cases), argc, argv);
}
