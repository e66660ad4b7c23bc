/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bdev.h - offline access to a backing device or image, for "format" and
 * "info": raw reads and writes, signature probing (libblkid), and the
 * module's own on-disk builders and validators (dm-ilio/ilio-meta.h).
 * Nothing here talks to device-mapper.
 */
#ifndef ILIOCTL_BDEV_H
#define ILIOCTL_BDEV_H

#include "ilioctl.h"
#include "ilio-meta.h"

/* Blocks 0..3: both superblock copies and both anchor slots. */
#define ILIO_HEAD_BYTES		(ILIO_META_BLOCKS * ILIO_BLOCK_SIZE)

/**
 * struct ilio_bdev - an open backing device or image file
 * @path: as given on the command line
 * @fd: open descriptor
 * @is_blk: a block device (else a regular file)
 * @bytes: size in bytes
 */
struct ilio_bdev {
	const char *path;
	int fd;
	bool is_blk;
	unsigned long long bytes;
};

/**
 * enum ilio_open_mode - how ilio_bdev_open() opens a device
 * @ILIO_OPEN_READ: read-only, shared (info)
 * @ILIO_OPEN_EXCL_READ: read-only, exclusive for a block device
 *	(format --dry-run: refuses a device in use, like format)
 * @ILIO_OPEN_EXCL_WRITE: read-write, exclusive for a block device (format)
 */
enum ilio_open_mode {
	ILIO_OPEN_READ,
	ILIO_OPEN_EXCL_READ,
	ILIO_OPEN_EXCL_WRITE,
};

/**
 * struct ilio_store_info - what an ilio store says about itself, for
 * "activate" and the checks of "create"
 * @path: the device as given
 * @real: the device the path resolves to (symbolic links followed)
 * @dev_bytes: size of the device
 * @g: geometry of the first valid superblock copy
 * @nr_blocks: logical size in 4 KiB blocks that the anchors record (the
 *	newest valid one that records one); 0: never activated
 */
struct ilio_store_info {
	const char *path;
	char real[4096];
	unsigned long long dev_bytes;
	struct ilio_geom g;
	unsigned long long nr_blocks;
};

int ilio_store_read(const char *path, bool excl, struct ilio_store_info *si);
bool ilio_majmin_node(const char *s, char *node, size_t size);
int ilio_blk_check(const char *what, const char *path, char *real,
		   size_t size);
int ilio_bdev_open(struct ilio_bdev *b, const char *path,
		   enum ilio_open_mode mode);
void ilio_bdev_close(struct ilio_bdev *b);
int ilio_bdev_read(const struct ilio_bdev *b, void *buf, size_t len,
		   unsigned long long off);
int ilio_bdev_write(const struct ilio_bdev *b, const void *buf, size_t len,
		    unsigned long long off);
void ilio_bdev_forget(const struct ilio_bdev *b, unsigned long long len);
int ilio_blkid_each(int fd, bool wipe, char *buf, size_t size);
int ilio_blkid_find(int fd, char *buf, size_t size);
int ilio_random(void *buf, size_t len);
int ilio_new_uuid(u8 *uuid);
bool ilio_geom_equal(const struct ilio_geom *a, const struct ilio_geom *b);
void ilio_format_mmp(void *blk, const struct ilio_geom *g);
bool ilio_all_zero(const void *buf, size_t len);
const char *ilio_fmt_uuid(const u8 *u, char *buf, size_t size);
int ilio_find_store(const u8 *head, unsigned long long dev_bytes,
		    struct ilio_geom *g, const char **why);
int ilio_read_store(const char *path, struct ilio_geom *g, const char **why);
void ilio_row_size(struct ilio_rows *r, const char *label,
		   unsigned long long bytes);
void ilio_rows_geom(struct ilio_rows *r, const struct ilio_geom *g);

#endif /* ILIOCTL_BDEV_H */
