// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-sysfs: /sys/block/dm-N/ilio/, one value per file.
 *
 * The directory lives as long as the device (struct ilio_dev), which
 * outlives table reloads, so monitoring sees one continuous set of files.
 *
 * Every file but mode and backend_write_size_hist is one row of
 * ilio-fields.h; ilio_stat_values() computes those rows for the status line
 * (ilio-target.c) as well.  A diskless device shows only the rows of scope
 * ANY (ilio_attr_visible()).  This file calls down only: into the core and
 * the leaf header ilio-fields.h, never back into ilio-target.c.
 *
 * Locking: show() takes the core lock through ilio_core_get_stats(),
 * except for the glue's own counters (FRONT), which are per-CPU.
 * kobject_del() drains running show() calls before the device is freed.
 */
#include <linux/kobject.h>
#include <linux/percpu.h>
#include <linux/sysfs.h>
#include <linux/device-mapper.h>
#include <linux/blkdev.h>

#include "ilio-target.h"

/* The mode words of ilio-fields.h are indexed by enum ilio_mode. */

/* The two files that are not an enum ilio_stat value. */
#define ILIO_A_MODE	(-1)
#define ILIO_A_WHIST	(-2)

/*
 * The sources of ilio-fields.h: CORE values come from the core's snapshot,
 * FRONT values from the glue's per-CPU counters, summed without a lock.
 */
static u64 ilio_stats_read(const struct ilio_stats *st, size_t off)
{
	return *(const u64 *)((const char *)st + off);
}

static u64 ilio_front_read(struct ilio_dev *d, size_t off)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*(u64 *)((char *)per_cpu_ptr(d->front, cpu) + off));
	return sum;
}

#define ILIO_SRC_CORE(d, st, mbr) \
	ilio_stats_read(st, offsetof(struct ilio_stats, mbr))
#define ILIO_SRC_FRONT(d, st, mbr) \
	ilio_front_read(d, offsetof(struct ilio_front_stats, mbr))

#define ILIO_FIELD_VALUE(ID, name, pos, src, scope, member, doc) \
	[ILIO_ST_##ID] = ILIO_SRC_##src(d, st, member),

/**
 * ilio_stat_values() - every numeric value of ilio-fields.h
 * @d: device
 * @st: the core's statistics (ilio_core_get_stats())
 * @v: ILIO_ST_ALL values, indexed by enum ilio_stat
 *
 * The status line (ilio_status()) and the sysfs files both read here.
 */
void ilio_stat_values(struct ilio_dev *d, const struct ilio_stats *st, u64 *v)
{
	const u64 all[ILIO_ST_ALL] = { ILIO_ALL_FIELDS(ILIO_FIELD_VALUE) };

	memcpy(v, all, sizeof(all));
}

/* Which values need the core's snapshot (and so its mutex). */
#define ILIO_SRC_IS_CORE_CORE		true
#define ILIO_SRC_IS_CORE_FRONT		false
#define ILIO_FIELD_IS_CORE(ID, name, pos, src, scope, member, doc) \
	[ILIO_ST_##ID] = ILIO_SRC_IS_CORE_##src,

static const bool ilio_stat_is_core[ILIO_ST_ALL] = {
	ILIO_ALL_FIELDS(ILIO_FIELD_IS_CORE)
};

/* Which files a diskless device does not show (scope PERSISTENT). */
#define ILIO_FIELD_IS_PERSISTENT(ID, name, pos, src, scope, member, doc) \
	[ILIO_ST_##ID] = ILIO_FIELD_PERSISTENT(scope),

static const bool ilio_stat_persistent[ILIO_ST_ALL] = {
	ILIO_ALL_FIELDS(ILIO_FIELD_IS_PERSISTENT)
};

/**
 * struct ilio_attr - one file of /sys/block/dm-N/ilio/
 * @attr: the sysfs attribute
 * @id: enum ilio_stat, or ILIO_A_MODE or ILIO_A_WHIST
 */
struct ilio_attr {
	struct attribute attr;
	int id;
};

#define ILIO_FIELD_ATTR(ID, _name, pos, src, scope, member, doc) \
	[ILIO_ST_##ID] = { .attr = { .name = #_name, .mode = 0444 }, .id = ILIO_ST_##ID },

static struct ilio_attr ilio_field_attrs[ILIO_ST_ALL] = {
	ILIO_ALL_FIELDS(ILIO_FIELD_ATTR)
};

static struct ilio_attr ilio_attr_mode = {
	.attr = { .name = ILIO_SYSFS_MODE, .mode = 0444 }, .id = ILIO_A_MODE
};

static struct ilio_attr ilio_attr_whist = {
	.attr = { .name = ILIO_SYSFS_WHIST, .mode = 0444 }, .id = ILIO_A_WHIST
};

#define ILIO_FIELD_ATTR_PTR(ID, name, pos, src, scope, member, doc) \
	(&ilio_field_attrs[ILIO_ST_##ID].attr),

static struct attribute *ilio_attrs[] = {
	&ilio_attr_mode.attr,
	&ilio_attr_whist.attr,
	ILIO_ALL_FIELDS(ILIO_FIELD_ATTR_PTR)
	NULL,
};

/*
 * A diskless device has no backing device: the files of scope PERSISTENT
 * (ilio-fields.h) would only ever read 0, so its directory leaves them
 * out.  Whether a device is persistent never changes (a table reload
 * cannot add or drop the backing device), so neither does the set.
 */
static umode_t ilio_attr_visible(struct kobject *kobj, struct attribute *attr,
				 int n)
{
	struct ilio_dev *d = container_of(kobj, struct ilio_dev, kobj);
	struct ilio_attr *a = container_of(attr, struct ilio_attr, attr);
	bool persistent = a->id == ILIO_A_WHIST ?
			  ILIO_FIELD_PERSISTENT(ILIO_SYSFS_WHIST_SCOPE) :
			  a->id >= 0 && ilio_stat_persistent[a->id];

	return persistent && !d->persistent ? 0 : attr->mode;
}

static const struct attribute_group ilio_group = {
	.attrs = ilio_attrs,
	.is_visible = ilio_attr_visible,
};
__ATTRIBUTE_GROUPS(ilio);

static ssize_t ilio_attr_show(struct kobject *kobj, struct attribute *attr,
			      char *buf)
{
	struct ilio_dev *d = container_of(kobj, struct ilio_dev, kobj);
	struct ilio_attr *a = container_of(attr, struct ilio_attr, attr);
	struct ilio_stats st = {};
	u64 v[ILIO_ST_ALL];
	int i, n = 0;

	if (a->id == ILIO_A_MODE)
		return sysfs_emit(buf, "%s\n", ilio_mode_word(ilio_core_mode(d->core)));
	if (a->id == ILIO_A_WHIST) {
		ilio_core_get_stats(d->core, &st);
		for (i = 0; i < ILIO_WHIST_BUCKETS; i++)
			n += sysfs_emit_at(buf, n, "%s%llu", i ? " " : "",
					   st.backend_write_hist[i]);
		return n + sysfs_emit_at(buf, n, "\n");
	}
	if (ilio_stat_is_core[a->id])
		ilio_core_get_stats(d->core, &st);
	ilio_stat_values(d, &st, v);
	return sysfs_emit(buf, "%llu\n", v[a->id]);
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
