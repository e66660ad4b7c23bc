/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-class: the region class map (issue 12).  Which sector ranges of the
 * device hold system binaries (pin), pagefile and swap (nocache) or temp
 * files (temp); everything else is normal.  Hints are advisory: the map
 * changes how data is cached and written back, never what is read.
 *
 * The map is a sorted array of non-overlapping ranges, adjacent ranges of
 * one class merged, with at most @limit entries: its memory is bounded
 * (24 bytes a range) and reported.  A change builds the new array first
 * and swaps it in, so a refused change (-ENOSPC, -ENOMEM) changes nothing.
 *
 * Locking: none of its own.  The caller serialises changes and lookups
 * (the device's message lock for changes; readers of a map being changed
 * must hold the same lock).
 */
#ifndef ILIO_CLASS_H
#define ILIO_CLASS_H

#include <linux/types.h>

enum ilio_class {
	ILIO_CLASS_NORMAL = 0,
	ILIO_CLASS_PIN,
	ILIO_CLASS_NOCACHE,
	ILIO_CLASS_TEMP,
	ILIO_NR_CLASSES,
};

/* Ranges a map may hold unless the table says otherwise. */
#define ILIO_CLASS_RANGES_DEFAULT	4096U
#define ILIO_CLASS_RANGES_MAX		65536U

/**
 * struct ilio_crange - one range of a class
 * @start: first sector
 * @end: one past the last sector
 * @cls: enum ilio_class, never ILIO_CLASS_NORMAL
 */
struct ilio_crange {
	u64 start;
	u64 end;
	u32 cls;
};

/**
 * struct ilio_classmap - the map
 * @r: @nr ranges, sorted by @start, not overlapping
 * @nr: ranges held
 * @limit: the most it may hold
 */
struct ilio_classmap {
	struct ilio_crange *r;
	u32 nr;
	u32 limit;
};

/**
 * struct ilio_hint - one range of a hint message
 * @start: first sector
 * @nr: sectors, at least 1
 * @cls: enum ilio_class (ILIO_CLASS_NORMAL clears)
 */
struct ilio_hint {
	u64 start;
	u64 nr;
	int cls;
};

void ilio_classmap_init(struct ilio_classmap *m, u32 limit);
void ilio_classmap_exit(struct ilio_classmap *m);
int ilio_classmap_copy(struct ilio_classmap *dst, const struct ilio_classmap *src);
int ilio_classmap_set(struct ilio_classmap *m, u64 start, u64 nr, int cls);
int ilio_classmap_get(const struct ilio_classmap *m, u64 sector);
u64 ilio_classmap_bytes(const struct ilio_classmap *m);
/* The class names (ilio-args.c: linked into ilioctl too, without this file). */
const char *ilio_class_name(int cls);
int ilio_class_parse(const char *s);

#endif /* ILIO_CLASS_H */
