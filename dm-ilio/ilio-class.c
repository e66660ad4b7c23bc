// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-class: the region class map.  See ilio-class.h.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "ilio-class.h"

/**
 * ilio_classmap_init() - an empty map
 * @m: map
 * @limit: the most ranges it may hold, 1..ILIO_CLASS_RANGES_MAX
 */
void ilio_classmap_init(struct ilio_classmap *m, u32 limit)
{
	m->r = NULL;
	m->nr = 0;
	m->limit = limit < 1 ? 1 : min_t(u32, limit, ILIO_CLASS_RANGES_MAX);
}

/**
 * ilio_classmap_exit() - free the map's ranges
 * @m: map
 */
void ilio_classmap_exit(struct ilio_classmap *m)
{
	kvfree(m->r);
	m->r = NULL;
	m->nr = 0;
}

/**
 * ilio_classmap_copy() - a copy of a map, to change apart from it
 * @dst: set to the copy (same ranges and limit)
 * @src: map
 *
 * Return: 0, or -ENOMEM (@dst is then an empty map of @src's limit).
 */
int ilio_classmap_copy(struct ilio_classmap *dst, const struct ilio_classmap *src)
{
	ilio_classmap_init(dst, src->limit);
	if (!src->nr)
		return 0;
	dst->r = kvmalloc_array(src->nr, sizeof(*dst->r), GFP_KERNEL);
	if (!dst->r)
		return -ENOMEM;
	memcpy(dst->r, src->r, (size_t)src->nr * sizeof(*dst->r));
	dst->nr = src->nr;
	return 0;
}

/* Append @r to @out (@n entries), merged with the last one if it touches. */
static void ilio_crange_push(struct ilio_crange *out, u32 *n, u64 start,
			     u64 end, u32 cls)
{
	if (start >= end)
		return;
	if (*n && out[*n - 1].end == start && out[*n - 1].cls == cls) {
		out[*n - 1].end = end;
		return;
	}
	out[*n].start = start;
	out[*n].end = end;
	out[*n].cls = cls;
	(*n)++;
}

/**
 * ilio_classmap_set() - give a range a class (the latest call wins)
 * @m: map
 * @start: first sector
 * @nr: sectors, at least 1, @start + @nr not past 2^64
 * @cls: enum ilio_class; ILIO_CLASS_NORMAL clears the range
 *
 * Ranges that straddle the new one's ends are split; the parts it covers
 * take its class.  Adjacent ranges of one class are merged.
 *
 * Return: 0; -EINVAL for a bad class or range; -ENOSPC when the map would
 * hold more than @limit ranges; -ENOMEM.  On error nothing changed.
 */
int ilio_classmap_set(struct ilio_classmap *m, u64 start, u64 nr, int cls)
{
	u64 end = start + nr, rs = 0, re = 0;
	struct ilio_crange *out;
	u32 i = 0, n = 0, rcls = 0;

	if (cls < 0 || cls >= ILIO_NR_CLASSES || !nr || end < start)
		return -EINVAL;
	/* A message's context: it may sleep, and it is not in the I/O path. */
	out = kvmalloc((size_t)(m->nr + 2) * sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	for (; i < m->nr && m->r[i].end <= start; i++)
		ilio_crange_push(out, &n, m->r[i].start, m->r[i].end, m->r[i].cls);
	for (; i < m->nr && m->r[i].start < end; i++) {
		ilio_crange_push(out, &n, m->r[i].start, min(m->r[i].end, start),
				 m->r[i].cls);
		if (m->r[i].end > end) {
			rs = end;
			re = m->r[i].end;
			rcls = m->r[i].cls;
		}
	}
	if (cls != ILIO_CLASS_NORMAL)
		ilio_crange_push(out, &n, start, end, cls);
	ilio_crange_push(out, &n, rs, re, rcls);
	for (; i < m->nr; i++)
		ilio_crange_push(out, &n, m->r[i].start, m->r[i].end, m->r[i].cls);
	if (n > m->limit) {
		kvfree(out);
		return -ENOSPC;
	}
	kvfree(m->r);
	m->r = out;
	m->nr = n;
	return 0;
}

/**
 * ilio_classmap_get() - the class of a sector
 * @m: map
 * @sector: sector
 *
 * Return: enum ilio_class (ILIO_CLASS_NORMAL outside every range).
 */
int ilio_classmap_get(const struct ilio_classmap *m, u64 sector)
{
	u32 lo = 0, hi = m->nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (m->r[mid].end <= sector)
			lo = mid + 1;
		else if (m->r[mid].start > sector)
			hi = mid;
		else
			return m->r[mid].cls;
	}
	return ILIO_CLASS_NORMAL;
}

/**
 * ilio_classmap_bytes() - memory the map takes
 * @m: map
 *
 * Return: bytes (its ranges; a change briefly holds a second copy).
 */
u64 ilio_classmap_bytes(const struct ilio_classmap *m)
{
	return (u64)m->nr * sizeof(*m->r);
}
