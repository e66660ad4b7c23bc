// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-sysfs: /sys/block/dm-N/ilio/, one value per file.
 *
 * The directory lives as long as the device (struct ilio_dev), which
 * outlives table reloads, so monitoring sees one continuous set of files.
 *
 * Locking: show() takes the core mutex through ilio_core_get_stats().
 * kobject_del() drains running show() calls before the device is freed.
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/device-mapper.h>
#include <linux/blkdev.h>

#include "ilio-target.h"

enum ilio_attr_id {
	ILIO_A_MODE,
	ILIO_A_LOGICAL,
	ILIO_A_UNIQUE,
	ILIO_A_STORED,
	ILIO_A_UNIQUE_CHUNKS,
	ILIO_A_RAM_USED,
	ILIO_A_RAM_LIMIT,
	ILIO_A_META,
	ILIO_A_DEDUP_HITS,
	ILIO_A_DEDUP_CAPPED,
	ILIO_A_ZERO_BLOCKS,
	ILIO_A_FRONT_READ_IOS,
	ILIO_A_FRONT_READ_BYTES,
	ILIO_A_FRONT_WRITE_IOS,
	ILIO_A_FRONT_WRITE_BYTES,
	ILIO_A_BACKEND_READ_IOS,
	ILIO_A_BACKEND_READ_BYTES,
	ILIO_A_BACKEND_WRITE_IOS,
	ILIO_A_BACKEND_WRITE_BYTES,
	ILIO_A_NOSPC,
	ILIO_A_COMPACTIONS,
	ILIO_A_COMPACT_MOVED,
	ILIO_A_INLINE_READS,
	ILIO_A_DIRTY,
	ILIO_A_CACHE_BYTES,
	ILIO_A_CACHE_HITS,
	ILIO_A_CACHE_MISSES,
	ILIO_A_FLUSHES,
	ILIO_A_BACKEND_FLUSHES,
	ILIO_A_GC_MOVED,
	ILIO_A_GC_FREED,
	ILIO_A_CHECKPOINTS,
	ILIO_A_FREE_SEGS,
	ILIO_A_NR_SEGS,
	ILIO_A_WHIST,
	ILIO_A_CHUNKS_DAMAGED,
};

struct ilio_attr {
	struct attribute attr;
	enum ilio_attr_id id;
};

#define ILIO_ATTR(_name, _id) \
	static struct ilio_attr ilio_attr_##_name = { \
		.attr = { .name = #_name, .mode = 0444 }, .id = _id }

ILIO_ATTR(mode, ILIO_A_MODE);
ILIO_ATTR(logical_bytes, ILIO_A_LOGICAL);
ILIO_ATTR(unique_bytes, ILIO_A_UNIQUE);
ILIO_ATTR(stored_bytes, ILIO_A_STORED);
ILIO_ATTR(unique_chunks, ILIO_A_UNIQUE_CHUNKS);
ILIO_ATTR(ram_used_bytes, ILIO_A_RAM_USED);
ILIO_ATTR(ram_limit_bytes, ILIO_A_RAM_LIMIT);
ILIO_ATTR(metadata_bytes, ILIO_A_META);
ILIO_ATTR(dedup_hits, ILIO_A_DEDUP_HITS);
ILIO_ATTR(dedup_candidates_capped, ILIO_A_DEDUP_CAPPED);
ILIO_ATTR(zero_blocks, ILIO_A_ZERO_BLOCKS);
ILIO_ATTR(front_read_ios, ILIO_A_FRONT_READ_IOS);
ILIO_ATTR(front_read_bytes, ILIO_A_FRONT_READ_BYTES);
ILIO_ATTR(front_write_ios, ILIO_A_FRONT_WRITE_IOS);
ILIO_ATTR(front_write_bytes, ILIO_A_FRONT_WRITE_BYTES);
ILIO_ATTR(backend_read_ios, ILIO_A_BACKEND_READ_IOS);
ILIO_ATTR(backend_read_bytes, ILIO_A_BACKEND_READ_BYTES);
ILIO_ATTR(backend_write_ios, ILIO_A_BACKEND_WRITE_IOS);
ILIO_ATTR(backend_write_bytes, ILIO_A_BACKEND_WRITE_BYTES);
ILIO_ATTR(nospc_errors, ILIO_A_NOSPC);
ILIO_ATTR(compactions, ILIO_A_COMPACTIONS);
ILIO_ATTR(compact_moved_bytes, ILIO_A_COMPACT_MOVED);
ILIO_ATTR(inline_reads, ILIO_A_INLINE_READS);
ILIO_ATTR(dirty_bytes, ILIO_A_DIRTY);
ILIO_ATTR(cache_bytes, ILIO_A_CACHE_BYTES);
ILIO_ATTR(cache_hits, ILIO_A_CACHE_HITS);
ILIO_ATTR(cache_misses, ILIO_A_CACHE_MISSES);
ILIO_ATTR(flushes, ILIO_A_FLUSHES);
ILIO_ATTR(backend_flushes, ILIO_A_BACKEND_FLUSHES);
ILIO_ATTR(gc_moved_bytes, ILIO_A_GC_MOVED);
ILIO_ATTR(gc_freed_segments, ILIO_A_GC_FREED);
ILIO_ATTR(checkpoints, ILIO_A_CHECKPOINTS);
ILIO_ATTR(free_segments, ILIO_A_FREE_SEGS);
ILIO_ATTR(nr_segments, ILIO_A_NR_SEGS);
ILIO_ATTR(backend_write_size_hist, ILIO_A_WHIST);
ILIO_ATTR(chunks_damaged, ILIO_A_CHUNKS_DAMAGED);

static struct attribute *ilio_attrs[] = {
	&ilio_attr_mode.attr,
	&ilio_attr_logical_bytes.attr,
	&ilio_attr_unique_bytes.attr,
	&ilio_attr_stored_bytes.attr,
	&ilio_attr_unique_chunks.attr,
	&ilio_attr_ram_used_bytes.attr,
	&ilio_attr_ram_limit_bytes.attr,
	&ilio_attr_metadata_bytes.attr,
	&ilio_attr_dedup_hits.attr,
	&ilio_attr_dedup_candidates_capped.attr,
	&ilio_attr_zero_blocks.attr,
	&ilio_attr_front_read_ios.attr,
	&ilio_attr_front_read_bytes.attr,
	&ilio_attr_front_write_ios.attr,
	&ilio_attr_front_write_bytes.attr,
	&ilio_attr_backend_read_ios.attr,
	&ilio_attr_backend_read_bytes.attr,
	&ilio_attr_backend_write_ios.attr,
	&ilio_attr_backend_write_bytes.attr,
	&ilio_attr_nospc_errors.attr,
	&ilio_attr_compactions.attr,
	&ilio_attr_compact_moved_bytes.attr,
	&ilio_attr_inline_reads.attr,
	&ilio_attr_dirty_bytes.attr,
	&ilio_attr_cache_bytes.attr,
	&ilio_attr_cache_hits.attr,
	&ilio_attr_cache_misses.attr,
	&ilio_attr_flushes.attr,
	&ilio_attr_backend_flushes.attr,
	&ilio_attr_gc_moved_bytes.attr,
	&ilio_attr_gc_freed_segments.attr,
	&ilio_attr_checkpoints.attr,
	&ilio_attr_free_segments.attr,
	&ilio_attr_nr_segments.attr,
	&ilio_attr_backend_write_size_hist.attr,
	&ilio_attr_chunks_damaged.attr,
	NULL,
};
ATTRIBUTE_GROUPS(ilio);

static u64 ilio_attr_value(struct ilio_dev *d, enum ilio_attr_id id)
{
	struct ilio_stats st;

	switch (id) {
	case ILIO_A_FRONT_READ_IOS:
		return atomic64_read(&d->front.read_ios);
	case ILIO_A_FRONT_READ_BYTES:
		return atomic64_read(&d->front.read_bytes);
	case ILIO_A_FRONT_WRITE_IOS:
		return atomic64_read(&d->front.write_ios);
	case ILIO_A_FRONT_WRITE_BYTES:
		return atomic64_read(&d->front.write_bytes);
	case ILIO_A_INLINE_READS:
		return atomic64_read(&d->front.inline_reads);
	default:
		break;
	}
	ilio_core_get_stats(d->core, &st);
	switch (id) {
	case ILIO_A_LOGICAL:
		return st.logical_bytes;
	case ILIO_A_UNIQUE:
		return st.unique_bytes;
	case ILIO_A_STORED:
		return st.stored_bytes;
	case ILIO_A_UNIQUE_CHUNKS:
		return st.unique_chunks;
	case ILIO_A_RAM_USED:
		return st.ram_used_bytes;
	case ILIO_A_RAM_LIMIT:
		return st.ram_limit_bytes;
	case ILIO_A_META:
		return st.meta_bytes;
	case ILIO_A_DEDUP_HITS:
		return st.dedup_hits;
	case ILIO_A_DEDUP_CAPPED:
		return st.dedup_candidates_capped;
	case ILIO_A_ZERO_BLOCKS:
		return st.zero_blocks;
	case ILIO_A_NOSPC:
		return st.nospc_errors;
	case ILIO_A_COMPACTIONS:
		return st.compactions;
	case ILIO_A_COMPACT_MOVED:
		return st.compact_moved_bytes;
	case ILIO_A_BACKEND_READ_IOS:
		return st.backend_read_ios;
	case ILIO_A_BACKEND_READ_BYTES:
		return st.backend_read_bytes;
	case ILIO_A_BACKEND_WRITE_IOS:
		return st.backend_write_ios;
	case ILIO_A_BACKEND_WRITE_BYTES:
		return st.backend_write_bytes;
	case ILIO_A_DIRTY:
		return st.dirty_bytes;
	case ILIO_A_CACHE_BYTES:
		return st.cache_bytes;
	case ILIO_A_CACHE_HITS:
		return st.cache_hits;
	case ILIO_A_CACHE_MISSES:
		return st.cache_misses;
	case ILIO_A_CHUNKS_DAMAGED:
		return st.chunks_damaged;
	case ILIO_A_FLUSHES:
		return st.flushes;
	case ILIO_A_BACKEND_FLUSHES:
		return st.backend_flushes;
	case ILIO_A_GC_MOVED:
		return st.gc_moved_bytes;
	case ILIO_A_GC_FREED:
		return st.gc_freed_segments;
	case ILIO_A_CHECKPOINTS:
		return st.checkpoints;
	case ILIO_A_FREE_SEGS:
		return st.free_segments;
	case ILIO_A_NR_SEGS:
		return st.nr_segments;
	default:
		return 0;
	}
}

static ssize_t ilio_attr_show(struct kobject *kobj, struct attribute *attr,
			      char *buf)
{
	struct ilio_dev *d = container_of(kobj, struct ilio_dev, kobj);
	struct ilio_attr *a = container_of(attr, struct ilio_attr, attr);

	if (a->id == ILIO_A_MODE)
		return sysfs_emit(buf, "%s\n", ilio_mode_name(ilio_core_mode(d->core)));
	if (a->id == ILIO_A_WHIST) {
		struct ilio_stats st;
		int i, n = 0;

		ilio_core_get_stats(d->core, &st);
		for (i = 0; i < ILIO_WHIST_BUCKETS; i++)
			n += sysfs_emit_at(buf, n, "%s%llu", i ? " " : "",
					   st.backend_write_hist[i]);
		return n + sysfs_emit_at(buf, n, "\n");
	}
	return sysfs_emit(buf, "%llu\n", ilio_attr_value(d, a->id));
}

static const struct sysfs_ops ilio_sysfs_ops = {
	.show = ilio_attr_show,
};

static void ilio_kobj_release(struct kobject *kobj)
{
	struct ilio_dev *d = container_of(kobj, struct ilio_dev, kobj);

	complete(&d->kobj_released);
}

static struct kobj_type ilio_ktype = {
	.sysfs_ops = &ilio_sysfs_ops,
	.default_groups = ilio_groups,
	.release = ilio_kobj_release,
};

/**
 * ilio_sysfs_add() - create /sys/block/dm-N/ilio
 * @d: device
 *
 * Return: 0 or a negative errno.
 */
int ilio_sysfs_add(struct ilio_dev *d)
{
	struct kobject *parent = &disk_to_dev(dm_disk(d->md))->kobj;
	int ret;

	init_completion(&d->kobj_released);
	ret = kobject_init_and_add(&d->kobj, &ilio_ktype, parent, "ilio");
	if (ret) {
		kobject_put(&d->kobj);
		wait_for_completion(&d->kobj_released);
		return ret;
	}
	d->sysfs_ok = true;
	return 0;
}

/**
 * ilio_sysfs_del() - remove /sys/block/dm-N/ilio and wait for its release
 * @d: device
 */
void ilio_sysfs_del(struct ilio_dev *d)
{
	if (!d->sysfs_ok)
		return;
	kobject_del(&d->kobj);
	kobject_put(&d->kobj);
	wait_for_completion(&d->kobj_released);
	d->sysfs_ok = false;
}
