// SPDX-License-Identifier: GPL-2.0
/*
 * bdev.c - offline access to a backing device or image file: open it
 * (exclusively when it will be written, and say who holds it when that
 * fails), read and write it raw, find an ilio store on it with the
 * module's validators, and probe and wipe foreign signatures with
 * libblkid.  Used by "format" and "info"; nothing here talks to
 * device-mapper.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <blkid/blkid.h>
#include <linux/fs.h>

#include "bdev.h"

/* Signatures wiped by "format --force" before giving up (a loop guard). */
#define ILIO_WIPE_MAX		32

/*
 * ilio_bdev_users() - say why a block device is busy, as far as this
 * process can see: its holders (/sys/dev/block/M:m/holders: dm-N, md...)
 * and where it is mounted (/proc/self/mountinfo).  buf is "" when nothing
 * is found (an active swap area, for one, shows in neither).
 */
void ilio_bdev_users(dev_t rdev, char *buf, size_t size)
{
	char path[64], line[4096], mnt[4096];
	unsigned int ma, mi;
	struct dirent *de;
	size_t len = 0;
	DIR *dir;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders",
		 major(rdev), minor(rdev));
	dir = opendir(path);
	if (dir) {
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			ilio_append(buf, size, &len, "%sheld by %s",
				    len ? ", " : "", de->d_name);
		}
		closedir(dir);
	}
	f = fopen("/proc/self/mountinfo", "re");
	if (f) {
		/* "<id> <parent id> <major>:<minor> <root> <mount point> ..." */
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &ma, &mi,
				   mnt) == 3 && makedev(ma, mi) == rdev)
				ilio_append(buf, size, &len, "%smounted on %s",
					    len ? ", " : "", mnt);
		}
		fclose(f);
	}
}

/*
 * ilio_bdev_open() - open path (a block device or a regular file) and find
 * its size.  A block device opened exclusively (O_EXCL) cannot be mounted,
 * in a device-mapper table or otherwise claimed, and is refused when it
 * already is.  Returns 0, or ILIO_EXIT_FAIL after printing why.
 */
int ilio_bdev_open(struct ilio_bdev *b, const char *path,
		   enum ilio_open_mode mode)
{
	int flags = O_CLOEXEC, err;
	char users[512];
	struct stat st;
	uint64_t bytes;

	memset(b, 0, sizeof(*b));
	b->path = path;
	b->fd = -1;
	if (stat(path, &st))
		return ilio_fail("cannot open %s: %s", path, strerror(errno));
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return ilio_fail("%s is neither a block device nor a regular file",
				 path);
	b->is_blk = S_ISBLK(st.st_mode);
	flags |= mode == ILIO_OPEN_EXCL_WRITE ? O_RDWR : O_RDONLY;
	/* Without O_CREAT, O_EXCL is defined for block devices only. */
	if (b->is_blk && mode != ILIO_OPEN_READ)
		flags |= O_EXCL;

	b->fd = open(path, flags);
	if (b->fd < 0) {
		err = errno;
		if (err == EBUSY && b->is_blk) {
			ilio_bdev_users(st.st_rdev, users, sizeof(users));
			return ilio_fail("%s is in use (%s)", path, *users ? users :
					 "mounted, an active swap area, or held by device-mapper, md or another driver");
		}
		if (err == EACCES || err == EPERM)
			return ilio_fail("cannot open %s%s: %s (run as root?)", path,
					 mode == ILIO_OPEN_EXCL_WRITE ? " for writing" : "",
					 strerror(err));
		return ilio_fail("cannot open %s%s: %s", path,
				 mode == ILIO_OPEN_EXCL_WRITE ? " for writing" : "",
				 strerror(err));
	}

	if (fstat(b->fd, &st) || !!S_ISBLK(st.st_mode) != b->is_blk) {
		close(b->fd);
		b->fd = -1;
		return ilio_fail("%s changed while it was being opened", path);
	}
	if (b->is_blk) {
		if (ioctl(b->fd, BLKGETSIZE64, &bytes)) {
			err = errno;
			close(b->fd);
			b->fd = -1;
			return ilio_fail("cannot get the size of %s: %s", path,
					 strerror(err));
		}
		b->bytes = bytes;
	} else {
		b->bytes = st.st_size;
	}
	return 0;
}

void ilio_bdev_close(struct ilio_bdev *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

/*
 * ilio_bdev_read() - read len bytes at off.  What lies past the end of the
 * device reads as zeros.  Returns 0 or -errno.
 */
int ilio_bdev_read(const struct ilio_bdev *b, void *buf, size_t len,
		   unsigned long long off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(b->fd, (char *)buf + done, len - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n) {
			memset((char *)buf + done, 0, len - done);
			break;
		}
		done += n;
	}
	return 0;
}

/* Write len bytes at off.  Returns 0 or -errno. */
int ilio_bdev_write(const struct ilio_bdev *b, const void *buf,
		    size_t len, unsigned long long off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(b->fd, (const char *)buf + done, len - done,
			   off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ENOSPC;
		done += n;
	}
	return 0;
}

/*
 * ilio_bdev_forget() - drop the clean cached pages of the first len bytes,
 * so that the next read comes from the device, not from what this or an
 * earlier process left in the page cache (dm-ilio writes past that cache).
 */
void ilio_bdev_forget(const struct ilio_bdev *b, unsigned long long len)
{
	(void)posix_fadvise(b->fd, 0, len, POSIX_FADV_DONTNEED);
}

bool ilio_geom_equal(const struct ilio_geom *a, const struct ilio_geom *b)
{
	return a->dev_blocks == b->dev_blocks && a->seg_bytes == b->seg_bytes &&
	       a->nr_segs == b->nr_segs && a->seg_start == b->seg_start &&
	       !memcmp(a->uuid, b->uuid, sizeof(a->uuid)) &&
	       a->keyed_hash == b->keyed_hash && a->hash_seed == b->hash_seed &&
	       a->journal_gen == b->journal_gen && a->multihost == b->multihost;
}

bool ilio_all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
const char *ilio_fmt_uuid(const u8 *u, char *buf, size_t size)
{
	snprintf(buf, size,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
	return buf;
}

/*
 * ilio_find_store() - look for an ilio superblock in a device's first two
 * blocks (head).  Returns 0 with *g from the first valid copy; -ENOENT when
 * neither copy has the ilio magic; -EINVAL when one has it but neither is
 * valid (*why says why, copy 0's reason first).
 */
int ilio_find_store(const u8 *head, unsigned long long dev_bytes,
		    struct ilio_geom *g, const char **why)
{
	const char *why1 = NULL;
	int r0, r1;

	r0 = ilio_sb_check(head, ILIO_SB_BLOCK, dev_bytes, g, why);
	if (!r0)
		return 0;
	r1 = ilio_sb_check(head + ILIO_BLOCK_SIZE, ILIO_SB_BLOCK + 1,
			   dev_bytes, g, &why1);
	if (!r1)
		return 0;
	if (r0 == -ENOENT && r1 == -ENOENT)
		return -ENOENT;
	if (r0 == -ENOENT)
		*why = why1;
	return -EINVAL;
}

/*
 * ilio_article() - "a" or "an" before a signature's name, as it is read
 * aloud: "an ext4", "an xfs", "an LVM2_member", "a gpt", "a swap".
 */
static const char *ilio_article(const char *name)
{
	char c = name[0], n = name[0] ? name[1] : '\0';

	if (strchr("aeiouAEIOU", c) && c)
		return "an";
	/* xfs; and acronyms whose first letter's name starts with a vowel. */
	if (c == 'x' || (strchr("FHLMNRSX", c) && c && isupper((unsigned char)n)))
		return "an";
	return "a";
}

/*
 * ilio_blkid_describe() - what the probe found: "an ext4 filesystem", "a
 * gpt partition table", "an LVM2_member signature (RAID or volume-manager
 * member)"...
 */
static void ilio_blkid_describe(blkid_probe pr, char *buf, size_t size)
{
	const char *type = NULL, *usage = NULL, *pttype = NULL;
	size_t len = 0;

	buf[0] = '\0';
	if (!blkid_probe_lookup_value(pr, "TYPE", &type, NULL)) {
		if (blkid_probe_lookup_value(pr, "USAGE", &usage, NULL))
			usage = "";
		if (!strcmp(usage, "filesystem"))
			ilio_append(buf, size, &len, "%s %s filesystem",
				    ilio_article(type), type);
		else if (!strcmp(usage, "raid"))
			ilio_append(buf, size, &len,
				    "%s %s signature (RAID or volume-manager member)",
				    ilio_article(type), type);
		else if (!strcmp(usage, "crypto"))
			ilio_append(buf, size, &len, "%s %s encrypted volume",
				    ilio_article(type), type);
		else
			ilio_append(buf, size, &len, "%s %s signature",
				    ilio_article(type), type);
	}
	if (!blkid_probe_lookup_value(pr, "PTTYPE", &pttype, NULL))
		ilio_append(buf, size, &len, "%s%s %s partition table",
			    len ? " and " : "", ilio_article(pttype), pttype);
	if (!len)
		ilio_append(buf, size, &len, "an unnamed signature");
}

/* A prober over fd with superblock and partition-table probing on. */
static blkid_probe ilio_blkid_new(int fd, bool magic)
{
	blkid_probe pr = blkid_new_probe();

	if (!pr)
		return NULL;
	if (blkid_probe_set_device(pr, fd, 0, 0) ||
	    blkid_probe_enable_superblocks(pr, 1) ||
	    blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
					      BLKID_SUBLKS_USAGE |
					      (magic ? BLKID_SUBLKS_MAGIC |
					       BLKID_SUBLKS_BADCSUM : 0)) ||
	    blkid_probe_enable_partitions(pr, 1) ||
	    blkid_probe_set_partitions_flags(pr, magic ? BLKID_PARTS_MAGIC : 0)) {
		blkid_free_probe(pr);
		return NULL;
	}
	return pr;
}

/*
 * ilio_blkid_each() - list every signature libblkid finds, one by one
 * (wipefs's loop), into buf ("a, b"); erase each one if wipe.  Returns the
 * number found, or -EIO.
 */
int ilio_blkid_each(int fd, bool wipe, char *buf, size_t size)
{
	char one[256];
	size_t len = 0;
	blkid_probe pr;
	int nr = 0;

	buf[0] = '\0';
	pr = ilio_blkid_new(fd, true);
	if (!pr)
		return -EIO;
	while (nr < ILIO_WIPE_MAX && !blkid_do_probe(pr)) {
		ilio_blkid_describe(pr, one, sizeof(one));
		ilio_append(buf, size, &len, "%s%s", len ? ", " : "", one);
		nr++;
		/* On success the prober steps back to look at the spot again. */
		if (wipe && blkid_do_wipe(pr, 0)) {
			blkid_free_probe(pr);
			return -EIO;
		}
		if (wipe && ilio_verbose)
			printf("wiped %s\n", one);
	}
	blkid_free_probe(pr);
	return nr;
}

/*
 * ilio_blkid_find() - does libblkid recognise anything on fd (a
 * filesystem, LVM or RAID member, swap, a partition table...)?  Returns 1
 * with buf describing it, 0 for nothing, or -EIO.
 */
int ilio_blkid_find(int fd, char *buf, size_t size)
{
	char list[512];
	size_t len = 0;
	blkid_probe pr;
	int r;

	buf[0] = '\0';
	pr = ilio_blkid_new(fd, false);
	if (!pr)
		return -EIO;
	r = blkid_do_safeprobe(pr);
	if (!r)
		ilio_blkid_describe(pr, buf, size);
	blkid_free_probe(pr);
	if (r == 1)
		return 0;
	if (!r)
		return 1;
	if (r != -2)
		return -EIO;
	/* Ambivalent: several signatures; name them all. */
	r = ilio_blkid_each(fd, false, list, sizeof(list));
	if (r < 0)
		return r;
	ilio_append(buf, size, &len, "more than one signature (%s)",
		    r ? list : "conflicting, unnamed");
	return 1;
}

/* Fill buf with len random bytes from the kernel.  Returns 0 or -EIO. */
int ilio_random(void *buf, size_t len)
{
	ssize_t n;

	do {
		n = getrandom(buf, len, 0);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* A random UUID, RFC 4122 version 4. */
int ilio_new_uuid(u8 *uuid)
{
	if (ilio_random(uuid, 16))
		return -EIO;
	uuid[6] = (uuid[6] & 0x0f) | 0x40;	/* version 4 */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;	/* variant 10 */
	return 0;
}

/* The row "label <human size> (<bytes> bytes)". */
void ilio_row_size(struct ilio_rows *r, const char *label,
		   unsigned long long bytes)
{
	char h[32];

	ilio_row(r, label, "%s (%llu bytes)", ilio_human(bytes, h, sizeof(h)),
		 bytes);
}

/* The rows format and info share: what the geometry offers. */
void ilio_rows_geom(struct ilio_rows *r, const struct ilio_geom *g)
{
	char h[32];

	ilio_row(r, "segment size", "%s",
		 ilio_human(g->seg_bytes, h, sizeof(h)));
	ilio_row(r, "segments", "%u", g->nr_segs);
	ilio_row(r, "usable capacity", "%s",
		 ilio_human((unsigned long long)g->nr_segs * g->seg_bytes, h,
			    sizeof(h)));
}

/*
 * ilio_read_store() - find the ilio store on path without claiming it:
 * open it shared and read-only (it may be in use, by udev's probe or a live
 * ilio device), read both superblock copies and validate them as
 * ilio_find_store() does.  Prints nothing.  Returns 0 with *g; 1 when path
 * holds no ilio superblock (or is shorter than two blocks); -EINVAL when it
 * holds one but no copy is valid (*why says why); another negative errno
 * when path cannot be opened, sized or read.
 */
int ilio_read_store(const char *path, struct ilio_geom *g, const char **why)
{
	static u8 head[2 * ILIO_BLOCK_SIZE];
	unsigned long long bytes;
	struct stat st;
	uint64_t sz;
	ssize_t n;
	int fd, r;

	*why = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		r = -errno;
		goto out;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &sz)) {
			r = -errno;
			goto out;
		}
		bytes = sz;
	} else if (S_ISREG(st.st_mode)) {
		bytes = st.st_size;
	} else {
		r = -ENOTBLK;
		goto out;
	}
	n = pread(fd, head, sizeof(head), 0);
	if (n != (ssize_t)sizeof(head)) {
		/* A device shorter than two blocks holds no store. */
		r = n < 0 ? -errno : 1;
		goto out;
	}
	r = ilio_find_store(head, bytes, g, why);
	if (r == -ENOENT)
		r = 1;
out:
	close(fd);
	return r;
}

/*
 * ilio_majmin_node() - the /dev node of "MAJOR:MINOR" (the kernel takes a
 * device that way too): /sys/dev/block/M:m links to the device's sysfs
 * directory, whose name is the node's in /dev.  Returns true with node
 * set, false when s is not MAJOR:MINOR or no such block device exists.
 */
bool ilio_majmin_node(const char *s, char *node, size_t size)
{
	char sys[64], link[PATH_MAX];
	const char *name;
	unsigned int ma, mi;
	ssize_t n;
	char c;

	if (sscanf(s, "%u:%u%c", &ma, &mi, &c) != 2)
		return false;
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", ma, mi);
	n = readlink(sys, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	name = strrchr(link, '/');
	snprintf(node, size, "/dev/%s", name ? name + 1 : link);
	return true;
}

/*
 * ilio_blk_check() - what (the "backing device", the "journal device")
 * at path must be an existing block device, as the kernel's
 * dm_get_device() needs (which also takes MAJOR:MINOR).  real gets the
 * path with its symbolic links resolved (the node, for MAJOR:MINOR).
 * Returns 0, or ILIO_EXIT_FAIL after printing why.
 */
int ilio_blk_check(const char *what, const char *path, char *real,
		   size_t size)
{
	char buf[PATH_MAX], node[PATH_MAX + 8];
	struct stat st;

	if (stat(path, &st) && errno == ENOENT &&
	    ilio_majmin_node(path, node, sizeof(node)))
		path = node;
	if (stat(path, &st)) {
		if (errno == ENOENT)
			return ilio_fail("%s %s does not exist", what, path);
		return ilio_fail("cannot use %s %s: %s", what, path,
				 strerror(errno));
	}
	if (S_ISREG(st.st_mode))
		return ilio_fail("%s %s is a regular file, not a block device (%s %s)",
				 what, path,
				 "attach it first: losetup --find --show", path);
	if (!S_ISBLK(st.st_mode))
		return ilio_fail("%s %s is not a block device", what, path);
	snprintf(real, size, "%s", realpath(path, buf) ? buf : path);
	return 0;
}

/*
 * ilio_store_read() - find the ilio store on the block device at path:
 * a valid superblock copy and a valid anchor, read with the module's
 * validators past the page cache.  excl opens the device with O_EXCL, so
 * that a device in use (mounted, held by device-mapper) is refused as the
 * kernel would refuse it.  Returns 0 with *si filled in, or
 * ILIO_EXIT_FAIL after printing why.
 */
int ilio_store_read(const char *path, bool excl, struct ilio_store_info *si)
{
	static u8 head[ILIO_HEAD_BYTES];
	struct ilio_anchor_info ai;
	unsigned long long seq = 0;
	const char *why, *real;
	char what[512];
	struct ilio_bdev b;
	bool found = false;
	int r, i;

	memset(si, 0, sizeof(*si));
	si->path = path;
	r = ilio_blk_check("backing device", path, si->real, sizeof(si->real));
	if (r)
		return r;
	real = strcmp(path, si->real) ? si->real : NULL;
	r = ilio_bdev_open(&b, si->real, excl ? ILIO_OPEN_EXCL_READ : ILIO_OPEN_READ);
	if (r)
		return r;
	si->dev_bytes = b.bytes;
	ilio_bdev_forget(&b, sizeof(head));
	r = ilio_bdev_read(&b, head, sizeof(head), 0);
	if (r) {
		ilio_bdev_close(&b);
		return ilio_fail("cannot read %s: %s", path, strerror(-r));
	}
	r = ilio_find_store(head, b.bytes, &si->g, &why);
	if (r == -ENOENT) {
		if (ilio_blkid_find(b.fd, what, sizeof(what)) == 1)
			r = ilio_fail("%s%s%s%s is not an ilio store (it contains %s)",
				      path, real ? " (" : "", real ?: "",
				      real ? ")" : "", what);
		else
			r = ilio_fail("%s%s%s%s is not an ilio store (%s %s)",
				      path, real ? " (" : "", real ?: "",
				      real ? ")" : "",
				      "format it with: ilioctl format", path);
		ilio_bdev_close(&b);
		return r;
	}
	ilio_bdev_close(&b);
	if (r)
		return ilio_fail("%s holds a damaged ilio store: %s (see ilioctl info %s)",
				 path, why, path);
	for (i = 0; i < 2; i++) {
		if (ilio_anchor_check(head + (ILIO_ANCHOR_BLOCK + i) * ILIO_BLOCK_SIZE,
				      ILIO_ANCHOR_BLOCK + i, &si->g, &ai, &why))
			continue;
		/*
		 * The logical size: the newest valid slot's, or the other's
		 * when the newest records none.  The kernel refuses a table
		 * whose length differs from the newest slot's size (the other
		 * may record a smaller one: an interrupted online grow).
		 */
		if (!found || (ai.seq > seq && ai.nr_blocks) || !si->nr_blocks)
			si->nr_blocks = ai.nr_blocks ?: si->nr_blocks;
		if (!found || ai.seq > seq)
			seq = ai.seq;
		found = true;
	}
	if (!found)
		return ilio_fail("%s holds an ilio store without a valid anchor (%s %s)",
				 path, "see ilioctl info", path);
	return 0;
}
