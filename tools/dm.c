// SPDX-License-Identifier: GPL-2.0
/*
 * dm.c - the dm control plane: ilioctl's only talk with the kernel's
 * device-mapper, through libdevmapper.  Creates, removes and messages
 * devices, reads their INFO and TABLE status, and lists the ilio ones.
 * The kernel's reason for a refused table or message only reaches the
 * kernel log, so it is read back from /dev/kmsg; one counter that the
 * status line lacks is read from sysfs.
 *
 * libdevmapper logs through ilio_dm_log(): errors are noted for the next
 * ilio_fail() (cli.c), everything else is dropped unless ILIOCTL_DEBUG is
 * set in the environment.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysmacros.h>

#include <libdevmapper.h>

#include "ilioctl.h"
#include "bdev.h"

/* "ILIO-DISKLESS-" and a UUID: the longest dm UUID ilioctl sets. */
#define ILIO_DM_UUID_LEN	64

/* libdevmapper log levels (lib/log/log.h); the level is in the low bits. */
#define ILIO_DM_LOG_LEVEL_MASK	0x0f
#define ILIO_DM_LOG_ERR		3
#define ILIO_DM_LOG_LINE_LEN	512

static bool ilio_dm_debug;

static void __printf(5, 6)
ilio_dm_log(int level, const char *file, int line, int dm_errno_or_class,
	    const char *f, ...)
{
	char line_buf[ILIO_DM_LOG_LINE_LEN];
	va_list ap;

	(void)dm_errno_or_class;
	level &= ILIO_DM_LOG_LEVEL_MASK;

	if (ilio_dm_debug) {
		fprintf(stderr, "ilioctl: libdevmapper[%d] %s:%d: ", level, file,
			line);
		va_start(ap, f);
		vfprintf(stderr, f, ap);
		va_end(ap);
		fputc('\n', stderr);
		return;
	}
	if (level > ILIO_DM_LOG_ERR)
		return;

	va_start(ap, f);
	vsnprintf(line_buf, sizeof(line_buf), f, ap);
	va_end(ap);
	ilio_lib_error(line_buf);
}

/* Route libdevmapper's log to ilio_dm_log(); call before anything else. */
void ilio_dm_init(void)
{
	dm_log_with_errno_init(ilio_dm_log);
	ilio_dm_debug = !!getenv("ILIOCTL_DEBUG");
	if (ilio_dm_debug)
		dm_log_init_verbose(7);
}

/* libdevmapper's version, for "ilioctl --version". */
const char *ilio_dm_library_version(char *buf, size_t size)
{
	if (!dm_get_library_version(buf, size))
		snprintf(buf, size, "unknown");
	return buf;
}

/*
 * Kernel log capture.  A target reports why it refused a table or a message
 * only through DMERR(), i.e. the kernel log.  ilio_kmsg_begin() positions a
 * /dev/kmsg reader at the end of the log before the operation, and
 * ilio_kmsg_report() prints the device-mapper records logged since.
 */
static int ilio_kmsg_fd = -1;

void ilio_kmsg_begin(void)
{
	ilio_kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (ilio_kmsg_fd >= 0 && lseek(ilio_kmsg_fd, 0, SEEK_END) < 0) {
		close(ilio_kmsg_fd);
		ilio_kmsg_fd = -1;
	}
}

void ilio_kmsg_end(void)
{
	if (ilio_kmsg_fd >= 0)
		close(ilio_kmsg_fd);
	ilio_kmsg_fd = -1;
}

void ilio_kmsg_report(void)
{
	char rec[8192];
	ssize_t n;

	if (ilio_kmsg_fd < 0) {
		ilio_msg("(the kernel's reason, if any, is in the kernel log: dmesg)");
		return;
	}
	for (;;) {
		char *msg, *nl;

		n = read(ilio_kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && (errno == EINTR || errno == EPIPE))
			continue;	/* EPIPE: a record was overwritten */
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "<prio>,<seq>,<usec>,<flags>;<text>\n[ KEY=value\n...]" */
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (strstr(msg, "device-mapper") || strstr(msg, ILIO_TARGET))
			ilio_msg("kernel: %s", msg);
	}
	ilio_kmsg_end();
}

/*
 * ilio_dm_available() - check that the device-mapper control node can be
 * opened, before libdevmapper tries (and, with no device-mapper in the
 * kernel, creates a useless /dev/mapper/control node).  Opening the node
 * also lets the kernel autoload dm_mod.  Returns 0, or ILIO_EXIT_FAIL after
 * printing why.
 */
int ilio_dm_available(void)
{
	char path[4096];
	int fd, err;
	FILE *f;

	snprintf(path, sizeof(path), "%s/control", dm_dir());
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	err = errno;

	switch (err) {
	case ENOENT:
		/* libdevmapper creates the node if the kernel has the driver. */
		f = fopen("/proc/misc", "re");
		if (f) {
			char line[256];
			bool found = false;

			while (!found && fgets(line, sizeof(line), f))
				found = !!strstr(line, " device-mapper");
			fclose(f);
			if (found)
				return 0;
		}
		return ilio_fail("device-mapper is not available: %s is missing (modprobe dm_mod)",
				 path);
	case ENODEV:
	case ENXIO:
		return ilio_fail("device-mapper is not available (modprobe dm_mod): %s: %s",
				 path, strerror(err));
	case EACCES:
	case EPERM:
		return ilio_fail("cannot open %s: %s (ilioctl needs root)", path,
				 strerror(err));
	default:
		return ilio_fail("cannot open %s: %s", path, strerror(err));
	}
}

/*
 * ilio_dm_target_loaded() - is the "ilio" target registered with the
 * kernel?  Returns 1, 0, or -EIO if the target list cannot be read.
 */
int ilio_dm_target_loaded(void)
{
	struct dm_versions *t, *last;
	struct dm_task *dmt;
	int found = 0;

	dmt = dm_task_create(DM_DEVICE_LIST_VERSIONS);
	if (!dmt)
		return -EIO;
	if (!dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	t = dm_task_get_versions(dmt);
	if (!t) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	do {
		last = t;
		if (!strcmp(t->name, ILIO_TARGET))
			found = 1;
		t = (struct dm_versions *)((char *)t + t->next);
	} while (last != t && !found);
	dm_task_destroy(dmt);
	return found;
}

int ilio_module_missing(void)
{
	return ilio_fail("dm-ilio kernel module is not loaded (modprobe dm-ilio)");
}

/*
 * ilio_dm_info() - DM_DEVICE_INFO on name.  Returns 0 with *info filled
 * (info->exists is 0 for an unknown name), or -EIO.
 */
static int ilio_dm_info(const char *name, struct dm_info *info)
{
	struct dm_task *dmt;
	int r = -EIO;

	dmt = dm_task_create(DM_DEVICE_INFO);
	if (!dmt)
		return -EIO;
	if (dm_task_set_name(dmt, name) && dm_task_run(dmt) &&
	    dm_task_get_info(dmt, info))
		r = 0;
	dm_task_destroy(dmt);
	return r;
}

/*
 * ilio_dm_fetch() - read the STATUS or TABLE line of name into dev.
 * Returns 0; -ENOENT if the device vanished; -EMEDIUMTYPE if its table is
 * not exactly one ilio target; -EPROTO if the line cannot be parsed (the
 * line is then in raw); -ENOMEM; or -EIO (libdevmapper error logged).
 */
static int ilio_dm_fetch(const char *name, int type, struct ilio_dev *dev,
			 char *raw, size_t raw_size)
{
	uint64_t start, len;
	char *target, *params;
	struct dm_task *dmt;
	void *next;
	int r, nr = 0;

	dmt = dm_task_create(type);
	if (!dmt)
		return -EIO;
	if (!dm_task_set_name(dmt, name)) {
		r = -EIO;
		goto out;
	}
	if (!dm_task_run(dmt)) {
		r = dm_task_get_errno(dmt) == ENXIO ? -ENOENT : -EIO;
		goto out;
	}

	r = -EMEDIUMTYPE;
	next = NULL;
	do {
		next = dm_get_next_target(dmt, next, &start, &len, &target,
					  &params);
		if (!target)
			break;
		if (nr++ || strcmp(target, ILIO_TARGET))
			goto out;
		dev->start = start;
		dev->len = len;
		snprintf(raw, raw_size, "%s", params ? params : "");
		r = 0;
	} while (next);
	if (r)
		goto out;

	if (type == DM_DEVICE_STATUS) {
		r = ilio_parse_status(raw, &dev->st);
	} else {
		r = ilio_parse_table(raw, &dev->tb);
		dev->has_table = !r;
	}
out:
	dm_task_destroy(dmt);
	return r;
}

/*
 * ilio_read_sysfs() - read the counter /sys/dev/block/MAJ:MIN/ilio/NAME.
 * Returns 0 with *v set, or -ENOENT when there is no such file (an older
 * module) or it does not hold a number.
 */
static int ilio_read_sysfs(unsigned int maj, unsigned int min, const char *name,
			   unsigned long long *v)
{
	char path[128], buf[32];
	int r = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/ilio/%s", maj, min,
		 name);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (!ilio_parse_u64(buf, v))
			r = 0;
	}
	fclose(f);
	return r;
}

/*
 * ilio_dm_lookup() - find ilio device name and read its status and table.
 * Returns 0; -ENOENT (no such device); -EMEDIUMTYPE (not an ilio device);
 * -EPROTO (unparsable line, copied to raw); -ENOMEM; or -EIO.
 */
int ilio_dm_lookup(const char *name, struct ilio_dev *dev, char *raw,
		   size_t raw_size)
{
	struct dm_info info;
	int r, i;

	memset(dev, 0, sizeof(*dev));
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	*raw = '\0';

	r = ilio_dm_info(name, &info);
	if (r)
		return r;
	if (!info.exists)
		return -ENOENT;
	if (!info.live_table)
		return -EMEDIUMTYPE;

	r = ilio_dm_fetch(name, DM_DEVICE_STATUS, dev, raw, raw_size);
	if (r)
		return r;
	r = ilio_dm_fetch(name, DM_DEVICE_TABLE, dev, raw, raw_size);
	if (r) {
		ilio_dev_release(dev);
		return r;
	}
	dev->has_capped = !ilio_read_sysfs(info.major, info.minor,
					   ilio_fields[ILIO_ST_DEDUP_CANDIDATES_CAPPED].name,
					   &dev->capped);
	/* The backing device's fill (persistent mode; "list"). */
	dev->has_segs = !ilio_read_sysfs(info.major, info.minor,
					 ilio_fields[ILIO_ST_NR_SEGMENTS].name,
					 &dev->nr_segments) &&
			!ilio_read_sysfs(info.major, info.minor,
					 ilio_fields[ILIO_ST_FREE_SEGMENTS].name,
					 &dev->free_segments) &&
			dev->nr_segments;
	/* Per-class statistics (persistent mode; "status --json", "hints show"). */
	dev->has_classes = true;
	for (i = 0; i < ILIO_ST_CLASSES * ILIO_CST_NR && dev->has_classes; i++)
		dev->has_classes = !ilio_read_sysfs(info.major, info.minor,
						    ilio_fields[ILIO_ST_CLASS(0, 0) + i].name,
						    &dev->classes[i]);
	return 0;
}

/* Explain an ilio_dm_lookup() error; returns ILIO_EXIT_FAIL. */
int ilio_lookup_fail(const char *name, int err, const char *raw)
{
	switch (err) {
	case -ENOENT:
		return ilio_fail("device '%s' not found", name);
	case -EMEDIUMTYPE:
		return ilio_fail("device '%s' is not an ilio device", name);
	case -EPROTO:
		return ilio_fail("device '%s': unexpected status format: '%s'",
				 name, raw);
	case -ENOMEM:
		return ilio_fail("out of memory");
	default:
		return ilio_fail("cannot query device '%s'", name);
	}
}

/*
 * ilio_dm_name_of() - the device-mapper name of block device rdev
 * (/dev/dm-N, /dev/mapper/NAME).  Returns 0, -ENOENT when rdev is no
 * device-mapper device, or -EIO.
 */
int ilio_dm_name_of(dev_t rdev, char *name, size_t size)
{
	struct dm_task *dmt;
	struct dm_info info;
	int r = -EIO;

	dmt = dm_task_create(DM_DEVICE_INFO);
	if (!dmt)
		return -EIO;
	if (dm_task_set_major(dmt, major(rdev)) && dm_task_set_minor(dmt, minor(rdev)) &&
	    dm_task_run(dmt) && dm_task_get_info(dmt, &info)) {
		r = -ENOENT;
		if (info.exists && dm_task_get_name(dmt)) {
			snprintf(name, size, "%s", dm_task_get_name(dmt));
			r = 0;
		}
	}
	dm_task_destroy(dmt);
	return r;
}

/* Is there a device called name?  1, 0, or -EIO. */
int ilio_dm_exists(const char *name)
{
	struct dm_info info;
	int r = ilio_dm_info(name, &info);

	return r ? r : !!info.exists;
}

/*
 * The common start of the commands that act on one existing ilio device:
 * parse NAME, check device-mapper, and refuse anything that is not an
 * ilio device.  Returns 0 with *name set, -1 for --help (exit 0), or an
 * exit code.
 */
int ilio_named_ilio_dev(const char *cmd, int argc, char **argv,
			const char **name)
{
	char raw[ILIO_PARAMS_MAX];
	struct ilio_dev dev;
	int r;

	r = ilio_name_parse(cmd, argc, argv, name);
	if (r)
		return r;
	r = ilio_dm_available();
	if (r)
		return r;
	r = ilio_dm_lookup(*name, &dev, raw, sizeof(raw));
	if (r && r != -EPROTO)
		return ilio_lookup_fail(*name, r, raw);
	ilio_dev_release(&dev);
	ilio_lib_errors_discard();
	return 0;
}

/*
 * ilio_dm_uuid() - the dm UUID of a new device with table parameters
 * params (from "<backing|-> <ram_mb> ...").  A persistent device is
 * "ILIO-<store uuid>", the UUID in the backing device's superblock, so that
 * /dev/disk/by-id/dm-uuid-ILIO-<uuid> names the same store whatever the
 * device is called and wherever it is activated.  A diskless device has no
 * identity beyond its life: "ILIO-DISKLESS-<random UUID>".  Returns false
 * (no UUID) when the backing device holds no readable, valid superblock:
 * the kernel then refuses the table and says why.
 */
static bool ilio_dm_uuid(const char *params, char *buf, size_t size)
{
	char backing[4096], node[PATH_MAX + 8], text[40];
	const char *p = params, *dev = backing, *why;
	struct ilio_geom g;
	u8 uuid[16];

	if (ilio_token(&p, backing, sizeof(backing)) <= 0)
		return false;
	if (!strcmp(backing, "-")) {
		if (ilio_new_uuid(uuid))
			return false;
		snprintf(buf, size, "ILIO-DISKLESS-%s",
			 ilio_fmt_uuid(uuid, text, sizeof(text)));
		return true;
	}
	/* The kernel also takes MAJOR:MINOR. */
	if (ilio_majmin_node(backing, node, sizeof(node)))
		dev = node;
	if (ilio_read_store(dev, &g, &why))
		return false;
	snprintf(buf, size, "ILIO-%s", ilio_fmt_uuid(g.uuid, text, sizeof(text)));
	return true;
}

/* ilio_dm_uuid_owner() - the name of the device with dm UUID uuid, if any. */
static bool ilio_dm_uuid_owner(const char *uuid, char *name, size_t size)
{
	struct dm_task *dmt;
	struct dm_info info;
	bool found = false;

	dmt = dm_task_create(DM_DEVICE_INFO);
	if (!dmt)
		return false;
	if (dm_task_set_uuid(dmt, uuid) && dm_task_run(dmt) &&
	    dm_task_get_info(dmt, &info) && info.exists) {
		snprintf(name, size, "%s", dm_task_get_name(dmt));
		found = true;
	}
	dm_task_destroy(dmt);
	ilio_lib_errors_discard();
	return found;
}

/*
 * ilio_dm_create() - create device name with one ilio target, with the dm
 * UUID of ilio_dm_uuid(), read-only when read_only (the kernel then opens
 * the backing device read-only and recovers without writing).  Returns
 * ILIO_EXIT_OK, or ILIO_EXIT_FAIL after printing why (with the kernel's
 * reason when it refused the table).
 */
int ilio_dm_create(const char *name, unsigned long long len_sectors,
		   const char *params, bool read_only)
{
	char uuid[ILIO_DM_UUID_LEN], owner[DM_NAME_LEN];
	uint32_t cookie = 0;
	struct dm_task *dmt;
	bool has_uuid;
	int r, err;

	r = ilio_dm_available();
	if (r)
		return r;
	r = ilio_dm_exists(name);
	if (r < 0)
		return ilio_fail("cannot query device '%s'", name);
	if (r)
		return ilio_fail("device '%s' already exists", name);

	has_uuid = ilio_dm_uuid(params, uuid, sizeof(uuid));
	if (has_uuid && ilio_dm_uuid_owner(uuid, owner, sizeof(owner)))
		return ilio_fail("the store on %s is already active as device '%s' (dm uuid %s)",
				 "this backing device", owner, uuid);

	dmt = dm_task_create(DM_DEVICE_CREATE);
	if (!dmt)
		return ilio_fail("out of memory");
	if (!dm_task_set_name(dmt, name) ||
	    (has_uuid && !dm_task_set_uuid(dmt, uuid)) ||
	    (read_only && !dm_task_set_ro(dmt)) ||
	    !dm_task_add_target(dmt, 0, len_sectors, ILIO_TARGET, params) ||
	    !dm_task_set_cookie(dmt, &cookie, 0)) {
		dm_task_destroy(dmt);
		dm_udev_wait(cookie);
		return ilio_fail("cannot set up the create request for '%s'", name);
	}

	ilio_kmsg_begin();
	if (dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		/* Waits for udev, or creates the node itself without udev. */
		dm_udev_wait(cookie);
		ilio_kmsg_end();
		ilio_lib_errors_discard();
		if (ilio_verbose)
			printf("created %s/%s\n", dm_dir(), name);
		return ILIO_EXIT_OK;
	}
	err = dm_task_get_errno(dmt);
	dm_task_destroy(dmt);
	dm_udev_wait(cookie);

	if (err == EBUSY && ilio_dm_exists(name) == 1) {
		ilio_kmsg_end();
		return ilio_fail("device '%s' already exists", name);
	}
	if (ilio_dm_target_loaded() == 0) {
		ilio_kmsg_end();
		ilio_lib_errors_discard();
		return ilio_module_missing();
	}
	ilio_fail("cannot create device '%s'%s%s", name, err ? ": " : "",
		  err ? strerror(err) : "");
	ilio_kmsg_report();
	return ILIO_EXIT_FAIL;
}

/*
 * ilio_dm_reload() - load len sectors of params as name's inactive table
 * (grow).  Returns 0, -ENOMEM or -EIO (the kernel's reason is in its log).
 */
int ilio_dm_reload(const char *name, unsigned long long len, const char *params,
		   bool read_only)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_RELOAD);
	int ok;

	if (!dmt)
		return -ENOMEM;
	ok = dm_task_set_name(dmt, name) &&
	     (!read_only || dm_task_set_ro(dmt)) &&
	     dm_task_add_target(dmt, 0, len, ILIO_TARGET, params) &&
	     dm_task_run(dmt);
	dm_task_destroy(dmt);
	return ok ? 0 : -EIO;
}

/* ilio_dm_resume() - resume name, swapping in its inactive table; waits for udev. */
int ilio_dm_resume(const char *name)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_RESUME);
	uint32_t cookie = 0;
	int ok;

	if (!dmt)
		return -ENOMEM;
	ok = dm_task_set_name(dmt, name) && dm_task_set_cookie(dmt, &cookie, 0) &&
	     dm_task_run(dmt);
	dm_task_destroy(dmt);
	dm_udev_wait(cookie);
	return ok ? 0 : -EIO;
}

/* ilio_dm_read_only() - is name's live table read-only?  -1: cannot tell. */
int ilio_dm_read_only(const char *name)
{
	struct dm_info info;

	if (ilio_dm_info(name, &info) || !info.exists)
		return -1;
	return info.read_only;
}

/*
 * ilio_dm_swap_table() - load len sectors of params on the live device name
 * (keeping its read-only flag) and resume it, printing the kernel's reason
 * if it refuses.  Either failure is printed with refused (the load) or
 * failed (the resume), ilioctl's own words.  When the resume fails, the old
 * table (old_len sectors of old_params) is loaded and resumed again, and
 * back is printed: the device is as it was.  Returns ILIO_EXIT_OK or
 * ILIO_EXIT_FAIL (grow, path).
 */
int ilio_dm_swap_table(const char *name, unsigned long long len,
		       const char *params, unsigned long long old_len,
		       const char *old_params, const char *refused,
		       const char *failed, const char *back)
{
	int ro = ilio_dm_read_only(name);

	if (ro < 0)
		return ilio_fail("cannot query device '%s'", name);
	ilio_kmsg_begin();
	if (ilio_dm_reload(name, len, params, ro)) {
		ilio_fail("%s: %s", name, refused);
		ilio_kmsg_report();
		return ILIO_EXIT_FAIL;
	}
	if (ilio_dm_resume(name)) {
		ilio_fail("%s: %s", name, failed);
		ilio_kmsg_report();
		/* Back to the table it had: the store did not change. */
		ilio_lib_errors_discard();
		if (ilio_dm_reload(name, old_len, old_params, ro) ||
		    ilio_dm_resume(name))
			return ilio_fail("%s: cannot resume it with its old table either (%s)",
					 name, "see dmsetup info and the kernel log");
		ilio_msg("%s is back %s", name, back);
		return ILIO_EXIT_FAIL;
	}
	ilio_kmsg_end();
	return ILIO_EXIT_OK;
}

/*
 * ilio_dm_remove() - remove device name (retrying while it is briefly
 * busy).  Returns ILIO_EXIT_OK, or ILIO_EXIT_FAIL after printing why.
 */
int ilio_dm_remove(const char *name)
{
	struct dm_info info;
	uint32_t cookie = 0;
	struct dm_task *dmt;
	int err;

	dmt = dm_task_create(DM_DEVICE_REMOVE);
	if (!dmt)
		return ilio_fail("out of memory");
	if (!dm_task_set_name(dmt, name) || !dm_task_retry_remove(dmt) ||
	    !dm_task_set_cookie(dmt, &cookie, 0)) {
		dm_task_destroy(dmt);
		dm_udev_wait(cookie);
		return ilio_fail("cannot set up the remove request for '%s'", name);
	}

	ilio_kmsg_begin();
	if (dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		dm_udev_wait(cookie);
		ilio_kmsg_end();
		ilio_lib_errors_discard();
		if (ilio_verbose)
			printf("removed %s\n", name);
		return ILIO_EXIT_OK;
	}
	err = dm_task_get_errno(dmt);
	dm_task_destroy(dmt);
	dm_udev_wait(cookie);

	if (err == ENXIO) {
		ilio_kmsg_end();
		return ilio_fail("device '%s' not found", name);
	}
	if (err == EBUSY) {
		ilio_kmsg_end();
		if (!ilio_dm_info(name, &info) && info.exists) {
			char users[512];

			ilio_bdev_users(makedev(info.major, info.minor), users,
					sizeof(users));
			if (!*users)
				snprintf(users, sizeof(users),
					 "open by a process: see fuser -vm %s/%s",
					 dm_dir(), name);
			return ilio_fail("device '%s' is busy (open count %d: %s)",
					 name, info.open_count, users);
		}
		return ilio_fail("device '%s' is busy", name);
	}
	ilio_fail("cannot remove device '%s'%s%s", name, err ? ": " : "",
		  err ? strerror(err) : "");
	ilio_kmsg_report();
	return ILIO_EXIT_FAIL;
}

/*
 * ilio_dm_message() - send msg to sector 0 of device name.  what names the
 * action in a failure ("clear statistics of").  Returns ILIO_EXIT_OK, or
 * ILIO_EXIT_FAIL after printing why (with the kernel's reason).
 */
int ilio_dm_message(const char *name, const char *msg, const char *what)
{
	struct dm_task *dmt;
	int err;

	dmt = dm_task_create(DM_DEVICE_TARGET_MSG);
	if (!dmt)
		return ilio_fail("out of memory");
	if (!dm_task_set_name(dmt, name) || !dm_task_set_sector(dmt, 0) ||
	    !dm_task_set_message(dmt, msg)) {
		dm_task_destroy(dmt);
		return ilio_fail("cannot set up the message for '%s'", name);
	}

	ilio_kmsg_begin();
	if (dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		ilio_kmsg_end();
		ilio_lib_errors_discard();
		return ILIO_EXIT_OK;
	}
	err = dm_task_get_errno(dmt);
	dm_task_destroy(dmt);
	ilio_fail("cannot %s '%s'%s%s", what, name, err ? ": " : "",
		  err ? strerror(err) : "");
	ilio_kmsg_report();
	return ILIO_EXIT_FAIL;
}

/*
 * ilio_dm_message_reply() - send msg to sector 0 of device name and keep
 * the target's answer (the result buffer: "ok" for check).  Returns 0
 * with *reply a copy of the answer ("" when the target gave none; free
 * it), or -1 with *err the errno of the failure (0 when unknown) and the
 * kernel's reason captured for ilio_kmsg_report().
 */
int ilio_dm_message_reply(const char *name, const char *msg, char **reply,
			  int *err)
{
	const char *resp;
	struct dm_task *dmt;

	*reply = NULL;
	*err = ENOMEM;
	dmt = dm_task_create(DM_DEVICE_TARGET_MSG);
	if (!dmt)
		return -1;
	if (!dm_task_set_name(dmt, name) || !dm_task_set_sector(dmt, 0) ||
	    !dm_task_set_message(dmt, msg)) {
		dm_task_destroy(dmt);
		return -1;
	}
	ilio_kmsg_begin();
	if (!dm_task_run(dmt)) {
		*err = dm_task_get_errno(dmt);
		dm_task_destroy(dmt);
		return -1;
	}
	ilio_kmsg_end();
	ilio_lib_errors_discard();
	resp = dm_task_get_message_response(dmt);
	*reply = strdup(resp ? resp : "");
	dm_task_destroy(dmt);
	if (!*reply) {
		*err = ENOMEM;
		return -1;
	}
	*err = 0;
	return 0;
}

/*
 * ilio_dm_list() - append every ilio device to *devs (*nr of them), as
 * ilio_dm_lookup() reads it.  Other targets and devices removed meanwhile
 * are skipped.  Returns 0, or an exit code after printing why; what was
 * read is in *devs either way.
 */
int ilio_dm_list(struct ilio_dev **devs, size_t *nr)
{
	struct dm_names *names, *last;
	char raw[ILIO_PARAMS_MAX];
	int r, ret = 0, loaded;
	struct ilio_dev *dev;
	struct dm_task *dmt;
	size_t cap = *nr;

	loaded = ilio_dm_target_loaded();
	if (loaded < 0)
		return ilio_fail("cannot read the device-mapper target list");
	if (!loaded)
		return ilio_module_missing();

	dmt = dm_task_create(DM_DEVICE_LIST);
	if (!dmt)
		return ilio_fail("out of memory");
	if (!dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		return ilio_fail("cannot list device-mapper devices");
	}
	names = dm_task_get_names(dmt);
	if (!names || !names->dev) {
		dm_task_destroy(dmt);
		return 0;
	}
	do {
		last = names;
		dev = ilio_dev_add(devs, nr, &cap);
		if (!dev) {
			ret = ilio_fail("out of memory");
			break;
		}
		r = ilio_dm_lookup(names->name, dev, raw, sizeof(raw));
		if (r) {
			(*nr)--;
			if (r == -EMEDIUMTYPE || r == -ENOENT)
				ilio_lib_errors_discard();
			else
				ret = ilio_lookup_fail(names->name, r, raw);
		}
		names = (struct dm_names *)((char *)names + names->next);
	} while (names != last);
	dm_task_destroy(dmt);
	return ret;
}

/* Where device-mapper's nodes are (/dev/mapper). */
const char *ilio_dm_dir(void)
{
	return dm_dir();
}
