// SPDX-License-Identifier: GPL-2.0
/*
 * hints-map.c - "ilioctl hints": find the files of a device and map each
 * one's data to device sectors, in the three layouts of issue #12:
 *
 *  1. NTFS (or ext2/3/4) on the device itself or on an MBR or GPT
 *     partition of it.  libblkid reads the partition table, libfsntfs
 *     walks the NTFS directories and gives each file's data runs,
 *     libext2fs does the same for ext2/3/4.
 *  2. A raw disk image stored as a file in a filesystem on the device (an
 *     "image" rule matches it): the image file's extents (FIEMAP on a
 *     mounted filesystem, libext2fs on an unmounted ext4) are composed
 *     with the runs of the files inside the image, which is read as in 1.
 *  3. A mounted Linux filesystem on the device: FIEMAP on each file.
 *
 * Every filesystem is read through a source (struct ilio_hsrc): extents
 * that map its bytes to the device.  The device itself is one extent; a
 * partition is a slice of its parent; an image is its file's extents
 * mapped through the source they were found in.  The two libraries read a
 * source through an I/O layer of their own kind: a libbfio handle for
 * libfsntfs, an io_manager for libext2fs.  A run found in a source is
 * mapped through it the same way, so a file inside an image comes out in
 * device sectors.
 *
 * Only the default data stream of an NTFS file is mapped.  Resident and
 * compressed files, holes and inline ext4 data are skipped and counted
 * (enum ilio_hint_skip).  An NTFS file with several names is walked once,
 * under the first name found; an ext4 or FIEMAP one under each name.
 */
#include <blkid/blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/magic.h>

#include <ext2fs/ext2fs.h>
#include <libbfio.h>
#include <libfsntfs.h>

#include "ilioctl.h"
#include "hints.h"

#define ILIO_HPATH_MAX		4096
/* Directory depth walked at most (a loop in a damaged filesystem). */
#define ILIO_HDEPTH_MAX		128
/* Bytes of an image copied for libblkid to find its partition table. */
#define ILIO_HPROBE_BYTES	(1024 * 1024)

const char *const ilio_hint_skip_names[ILIO_SKIP_NR] = {
	[ILIO_SKIP_RESIDENT] = "resident",
	[ILIO_SKIP_COMPRESSED] = "compressed",
	[ILIO_SKIP_SPARSE] = "sparse",
	[ILIO_SKIP_EMPTY] = "empty",
	[ILIO_SKIP_UNREADABLE] = "unreadable",
	[ILIO_SKIP_IMAGE] = "image",
};

/*
 * struct ilio_hfile - one file as a walker found it: its data as extents
 * of its source (log: offset in the file; dev: offset in the source).
 */
struct ilio_hfile {
	const char *path;
	bool icase;
	int skip;
	bool sparse;
	struct ilio_hext *ext;
	size_t nr;
	size_t cap;
};

static int ilio_hwalk_source(struct ilio_hwalk *w, struct ilio_hsrc *src,
			     bool top);

/* --- extents ------------------------------------------------------------ */

/* Append (log, dev, len) to an extent array, merging it with the last. */
static int ilio_hext_add(struct ilio_hext **ext, size_t *nr, size_t *cap,
			 uint64_t log, uint64_t dev, uint64_t len)
{
	struct ilio_hext *e;

	if (!len)
		return 0;
	if (*nr) {
		e = &(*ext)[*nr - 1];
		if (e->log + e->len == log && e->dev + e->len == dev) {
			e->len += len;
			return 0;
		}
	}
	if (*nr == *cap) {
		size_t c = *cap ? *cap * 2 : 16;

		e = realloc(*ext, c * sizeof(*e));
		if (!e)
			return -ENOMEM;
		*ext = e;
		*cap = c;
	}
	(*ext)[(*nr)++] = (struct ilio_hext){ .log = log, .dev = dev, .len = len };
	return 0;
}

static int ilio_hext_cmp(const void *a, const void *b)
{
	const struct ilio_hext *x = a, *y = b;

	return x->log < y->log ? -1 : x->log > y->log;
}

/* The first extent of src that ends after off (binary search). */
static size_t ilio_hsrc_find(const struct ilio_hsrc *src, uint64_t off)
{
	size_t lo = 0, hi = src->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (src->ext[mid].log + src->ext[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * ilio_hsrc_map() - the device bytes that bytes [off, off + len) of src
 * are, appended to *out as (log: off + their offset in the range, dev).
 * Bytes in a hole of src are left out.
 */
static int ilio_hsrc_map(const struct ilio_hsrc *src, uint64_t off, uint64_t len,
			 uint64_t log, struct ilio_hext **out, size_t *nr, size_t *cap)
{
	size_t i = ilio_hsrc_find(src, off);
	uint64_t end = off + len;
	int r;

	for (; i < src->nr && src->ext[i].log < end; i++) {
		const struct ilio_hext *e = &src->ext[i];
		uint64_t s = off > e->log ? off : e->log;
		uint64_t t = end < e->log + e->len ? end : e->log + e->len;

		r = ilio_hext_add(out, nr, cap, log + (s - off), e->dev + (s - e->log),
				  t - s);
		if (r)
			return r;
	}
	return 0;
}

/* Read len bytes at off of src into buf; holes and the end read as zeros. */
static int ilio_hsrc_read(const struct ilio_hsrc *src, uint64_t off, void *buf,
			  size_t len)
{
	size_t i = ilio_hsrc_find(src, off);
	uint64_t end = off + len;
	char *b = buf;

	memset(buf, 0, len);
	for (; i < src->nr && src->ext[i].log < end; i++) {
		const struct ilio_hext *e = &src->ext[i];
		uint64_t s = off > e->log ? off : e->log;
		uint64_t t = end < e->log + e->len ? end : e->log + e->len;
		size_t done = 0;

		while (done < t - s) {
			ssize_t n = pread(src->fd, b + (s - off) + done, t - s - done,
					  e->dev + (s - e->log) + done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (!n)
				break;	/* past the end of the device: zeros */
			done += n;
		}
	}
	return 0;
}

/* A slice [off, off + len) of parent, labelled label. */
static int ilio_hsrc_slice(const struct ilio_hsrc *parent, uint64_t off, uint64_t len,
			   const char *label, struct ilio_hsrc *src)
{
	size_t cap = 0;

	memset(src, 0, sizeof(*src));
	src->fd = parent->fd;
	src->size = len;
	src->depth = parent->depth;
	if (snprintf(src->label, sizeof(src->label), "%s%s", parent->label, label) >=
	    (int)sizeof(src->label))
		return -ENAMETOOLONG;
	return ilio_hsrc_map(parent, off, len, 0, &src->ext, &src->nr, &cap);
}

/* src in messages: its label, or the device's name. */
static const char *ilio_hsrc_name(const struct ilio_hwalk *w, const struct ilio_hsrc *src)
{
	return src->label[0] ? src->label : w->dev;
}

/* First device sector of src, for the "fs" lines. */
static uint64_t ilio_hsrc_first(const struct ilio_hsrc *src)
{
	return src->nr ? src->ext[0].dev >> ILIO_SECTOR_SHIFT : 0;
}

/* --- what the walk found ----------------------------------------------- */

static void __printf(2, 3) ilio_hwalk_fs(struct ilio_hwalk *w, const char *fmt, ...)
{
	char line[ILIO_HPATH_MAX + 128];
	va_list ap;
	size_t n;
	char *p;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	p = realloc(w->fs, w->fs_len + n + 2);
	if (!p)
		return;
	w->fs = p;
	memcpy(w->fs + w->fs_len, line, n);
	w->fs[w->fs_len + n] = '\n';
	w->fs_len += n + 1;
	w->fs[w->fs_len] = '\0';
	w->nr_fs++;
}

static int ilio_hwalk_run(struct ilio_hwalk *w, uint64_t dev, uint64_t len, int cls,
			  int depth, size_t file)
{
	uint64_t start = dev >> ILIO_SECTOR_SHIFT;
	uint64_t end = (dev + len + (1 << ILIO_SECTOR_SHIFT) - 1) >> ILIO_SECTOR_SHIFT;
	struct ilio_hrun *r;

	if (w->nr_runs) {
		r = &w->runs[w->nr_runs - 1];
		if (r->file == file && r->start + r->nr == start) {
			r->nr += end - start;
			return 0;
		}
	}
	if (w->nr_runs == w->cap_runs) {
		size_t c = w->cap_runs ? w->cap_runs * 2 : 256;

		r = realloc(w->runs, c * sizeof(*r));
		if (!r)
			return -ENOMEM;
		w->runs = r;
		w->cap_runs = c;
	}
	w->runs[w->nr_runs++] = (struct ilio_hrun){
		.start = start, .nr = end - start, .cls = cls, .depth = depth,
		.file = file,
	};
	return 0;
}

static int ilio_hwalk_path(struct ilio_hwalk *w, const char *label, const char *path,
			   size_t *idx)
{
	char **p;

	if (w->nr_paths == w->cap_paths) {
		size_t c = w->cap_paths ? w->cap_paths * 2 : 64;

		p = realloc(w->paths, c * sizeof(*p));
		if (!p)
			return -ENOMEM;
		w->paths = p;
		w->cap_paths = c;
	}
	if (asprintf(&w->paths[w->nr_paths], "%s%s", label, path) < 0)
		return -ENOMEM;
	*idx = w->nr_paths++;
	return 0;
}

/* The class of a file's path, or -1: is it wanted at all? */
static int ilio_hwalk_class(struct ilio_hwalk *w, const char *path, bool icase)
{
	return ilio_hint_match(w->rules, path, icase);
}

/*
 * A file of src whose class is cls (>= 0) and whose data f describes:
 * record its runs in device sectors, or walk it as a disk image.
 */
static int ilio_hwalk_file(struct ilio_hwalk *w, const struct ilio_hsrc *src,
			   const struct ilio_hfile *f, int cls)
{
	size_t i, idx, nr = 0, cap = 0;
	struct ilio_hext *dev = NULL;
	struct ilio_hsrc img;
	uint64_t size = 0;
	int r;

	if (cls == ILIO_HINT_IMAGE) {
		if (src->depth || f->skip >= 0 || !f->nr) {
			/* An image in an image, or no data to read. */
			w->skipped[ILIO_SKIP_IMAGE]++;
			return 0;
		}
		memset(&img, 0, sizeof(img));
		img.fd = src->fd;
		img.depth = src->depth + 1;
		if (snprintf(img.label, sizeof(img.label), "%s%s::", src->label, f->path) >=
		    (int)sizeof(img.label)) {
			w->skipped[ILIO_SKIP_IMAGE]++;
			return 0;
		}
		for (i = 0; i < f->nr; i++) {
			r = ilio_hsrc_map(src, f->ext[i].dev, f->ext[i].len, f->ext[i].log,
					  &img.ext, &img.nr, &cap);
			if (r) {
				free(img.ext);
				return r;
			}
			if (f->ext[i].log + f->ext[i].len > size)
				size = f->ext[i].log + f->ext[i].len;
		}
		qsort(img.ext, img.nr, sizeof(*img.ext), ilio_hext_cmp);
		img.size = size;
		r = ilio_hwalk_source(w, &img, false);
		free(img.ext);
		if (r == -ENOMEM)
			return r;
		if (r)
			w->skipped[ILIO_SKIP_IMAGE]++;
		return 0;
	}

	r = ilio_hwalk_path(w, src->label, f->path, &idx);
	if (r)
		return r;
	if (f->skip >= 0) {
		w->skipped[f->skip]++;
		return 0;
	}
	if (f->sparse)
		w->skipped[ILIO_SKIP_SPARSE]++;
	for (i = 0; i < f->nr; i++) {
		r = ilio_hsrc_map(src, f->ext[i].dev, f->ext[i].len, f->ext[i].log,
				  &dev, &nr, &cap);
		if (r)
			break;
	}
	for (i = 0; !r && i < nr; i++)
		r = ilio_hwalk_run(w, dev[i].dev, dev[i].len, cls, src->depth, idx);
	free(dev);
	return r;
}

/* --- NTFS: libfsntfs through a libbfio handle over the source ------------ */

/* struct ilio_bfio - what the libbfio handle reads: src, at pos. */
struct ilio_bfio {
	const struct ilio_hsrc *src;
	off64_t pos;
};

static int ilio_bfio_free(intptr_t **h, libbfio_error_t **e)
{
	return 1;
}

static int ilio_bfio_clone(intptr_t **dst, intptr_t *h, libbfio_error_t **e)
{
	*dst = h;
	return 1;
}

static int ilio_bfio_open(intptr_t *h, int flags, libbfio_error_t **e)
{
	return flags & LIBBFIO_ACCESS_FLAG_WRITE ? -1 : 1;
}

static int ilio_bfio_close(intptr_t *h, libbfio_error_t **e)
{
	return 0;
}

static ssize_t ilio_bfio_read(intptr_t *h, uint8_t *buf, size_t size,
			      libbfio_error_t **e)
{
	struct ilio_bfio *b = (struct ilio_bfio *)h;
	uint64_t left;

	if ((uint64_t)b->pos >= b->src->size)
		return 0;
	left = b->src->size - b->pos;
	if (size > left)
		size = left;
	if (ilio_hsrc_read(b->src, b->pos, buf, size))
		return -1;
	b->pos += size;
	return size;
}

static ssize_t ilio_bfio_write(intptr_t *h, const uint8_t *buf, size_t size,
			       libbfio_error_t **e)
{
	return -1;
}

static off64_t ilio_bfio_seek(intptr_t *h, off64_t off, int whence,
			      libbfio_error_t **e)
{
	struct ilio_bfio *b = (struct ilio_bfio *)h;

	if (whence == SEEK_CUR)
		off += b->pos;
	else if (whence == SEEK_END)
		off += b->src->size;
	else if (whence != SEEK_SET)
		return -1;
	if (off < 0)
		return -1;
	b->pos = off;
	return off;
}

static int ilio_bfio_exists(intptr_t *h, libbfio_error_t **e)
{
	return 1;
}

static int ilio_bfio_is_open(intptr_t *h, libbfio_error_t **e)
{
	return 1;
}

static int ilio_bfio_size(intptr_t *h, size64_t *size, libbfio_error_t **e)
{
	*size = ((struct ilio_bfio *)h)->src->size;
	return 1;
}

static libbfio_handle_t *ilio_bfio_new(struct ilio_bfio *b)
{
	libbfio_handle_t *h = NULL;
	libbfio_error_t *e = NULL;

	if (libbfio_handle_initialize(&h, (intptr_t *)b, ilio_bfio_free, ilio_bfio_clone,
				      ilio_bfio_open, ilio_bfio_close, ilio_bfio_read,
				      ilio_bfio_write, ilio_bfio_seek, ilio_bfio_exists,
				      ilio_bfio_is_open, ilio_bfio_size,
				      LIBBFIO_FLAG_IO_HANDLE_NON_MANAGED |
				      LIBBFIO_FLAG_IO_HANDLE_CLONE_BY_REFERENCE, &e) != 1) {
		libbfio_error_free(&e);
		return NULL;
	}
	return h;
}

/* The first line of a libfsntfs error, which names what went wrong. */
static const char *ilio_ntfs_err(libfsntfs_error_t **e, char *buf, size_t size)
{
	char *nl;

	buf[0] = '\0';
	if (*e && libfsntfs_error_sprint(*e, buf, size) < 0)
		snprintf(buf, size, "unknown error");
	libfsntfs_error_free(e);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return buf[0] ? buf : "unknown error";
}

/* struct ilio_ntfs - one NTFS walk: its volume and the MFT entries seen. */
struct ilio_ntfs {
	struct ilio_hwalk *w;
	const struct ilio_hsrc *src;
	uint8_t *seen;
	uint64_t nr_entries;
};

/* Is MFT entry ref new?  Marks it seen. */
static bool ilio_ntfs_first(struct ilio_ntfs *n, uint64_t ref)
{
	uint64_t idx = ref & 0xffffffffffffULL;

	if (idx >= n->nr_entries)
		return true;
	if (n->seen[idx / 8] & (1 << (idx % 8)))
		return false;
	n->seen[idx / 8] |= 1 << (idx % 8);
	return true;
}

/* The data runs of NTFS file fe into f (offsets in the volume). */
static int ilio_ntfs_runs(libfsntfs_file_entry_t *fe, struct ilio_hfile *f)
{
	libfsntfs_error_t *e = NULL;
	uint32_t attr = 0, flags;
	uint64_t log = 0;
	size64_t size, len;
	int i, nr, r;
	off64_t off;

	r = libfsntfs_file_entry_has_default_data_stream(fe, &e);
	if (r != 1 || libfsntfs_file_entry_get_size(fe, &size, &e) != 1 ||
	    !size) {
		libfsntfs_error_free(&e);
		f->skip = ILIO_SKIP_EMPTY;
		return 0;
	}
	if (libfsntfs_file_entry_get_file_attribute_flags(fe, &attr, &e) != 1 ||
	    libfsntfs_file_entry_get_number_of_extents(fe, &nr, &e) != 1) {
		libfsntfs_error_free(&e);
		f->skip = ILIO_SKIP_UNREADABLE;
		return 0;
	}
	if (attr & LIBFSNTFS_FILE_ATTRIBUTE_FLAG_COMPRESSED) {
		f->skip = ILIO_SKIP_COMPRESSED;
		return 0;
	}
	if (!nr) {
		f->skip = ILIO_SKIP_RESIDENT;
		return 0;
	}
	for (i = 0; i < nr; i++) {
		if (libfsntfs_file_entry_get_extent_by_index(fe, i, &off, &len, &flags,
							     &e) != 1) {
			libfsntfs_error_free(&e);
			f->nr = 0;
			f->skip = ILIO_SKIP_UNREADABLE;
			return 0;
		}
		if (flags & LIBFSNTFS_EXTENT_FLAG_IS_COMPRESSED) {
			f->nr = 0;
			f->skip = ILIO_SKIP_COMPRESSED;
			return 0;
		}
		if (flags & LIBFSNTFS_EXTENT_FLAG_IS_SPARSE) {
			f->sparse = true;
		} else {
			r = ilio_hext_add(&f->ext, &f->nr, &f->cap, log, off, len);
			if (r)
				return r;
		}
		log += len;
	}
	return 0;
}

/* Walk the directory dir (path: its path, "" for the root). */
static int ilio_ntfs_dir(struct ilio_ntfs *n, libfsntfs_file_entry_t *dir,
			 const char *path, int depth)
{
	char name[1024], sub[ILIO_HPATH_MAX];
	libfsntfs_file_entry_t *fe;
	libfsntfs_error_t *e = NULL;
	int i, nr, r = 0, cls, isdir;
	struct ilio_hfile f;
	uint64_t ref;

	if (depth > ILIO_HDEPTH_MAX)
		return 0;
	if (libfsntfs_file_entry_get_number_of_sub_file_entries(dir, &nr, &e) != 1) {
		libfsntfs_error_free(&e);
		n->w->skipped[ILIO_SKIP_UNREADABLE]++;
		return 0;
	}
	for (i = 0; i < nr && !r; i++) {
		fe = NULL;
		if (libfsntfs_file_entry_get_sub_file_entry_by_index(dir, i, &fe, &e) != 1) {
			libfsntfs_error_free(&e);
			n->w->skipped[ILIO_SKIP_UNREADABLE]++;
			continue;
		}
		if (libfsntfs_file_entry_get_utf8_name(fe, (uint8_t *)name, sizeof(name),
						       &e) != 1 ||
		    libfsntfs_file_entry_get_file_reference(fe, &ref, &e) != 1) {
			libfsntfs_error_free(&e);
			libfsntfs_file_entry_free(&fe, NULL);
			n->w->skipped[ILIO_SKIP_UNREADABLE]++;
			continue;
		}
		if (!strcmp(name, ".") || !strcmp(name, "..") || !ilio_ntfs_first(n, ref) ||
		    snprintf(sub, sizeof(sub), "%s/%s", path, name) >= (int)sizeof(sub)) {
			libfsntfs_file_entry_free(&fe, NULL);
			continue;
		}
		isdir = libfsntfs_file_entry_has_directory_entries_index(fe, &e);
		libfsntfs_error_free(&e);
		if (isdir == 1) {
			r = ilio_ntfs_dir(n, fe, sub, depth + 1);
		} else {
			cls = ilio_hwalk_class(n->w, sub, true);
			if (cls >= 0) {
				memset(&f, 0, sizeof(f));
				f.path = sub;
				f.icase = true;
				f.skip = -1;
				r = ilio_ntfs_runs(fe, &f);
				if (!r)
					r = ilio_hwalk_file(n->w, n->src, &f, cls);
				free(f.ext);
			}
		}
		libfsntfs_file_entry_free(&fe, NULL);
	}
	return r;
}

/*
 * Walk src as NTFS.  Returns 0, -ENODEV when src holds no NTFS, -EIO
 * after printing why libfsntfs cannot read it, or -ENOMEM.
 */
static int ilio_hwalk_ntfs(struct ilio_hwalk *w, const struct ilio_hsrc *src)
{
	struct ilio_bfio b = { .src = src };
	libfsntfs_file_entry_t *root = NULL;
	libfsntfs_volume_t *vol = NULL;
	libfsntfs_error_t *e = NULL;
	struct ilio_ntfs n = { .w = w, .src = src };
	libbfio_handle_t *h;
	char msg[512];
	int r;

	h = ilio_bfio_new(&b);
	if (!h)
		return -ENOMEM;
	r = libfsntfs_check_volume_signature_file_io_handle(h, &e);
	libfsntfs_error_free(&e);
	if (r != 1) {
		libbfio_handle_free(&h, NULL);
		return -ENODEV;
	}
	b.pos = 0;
	if (libfsntfs_volume_initialize(&vol, &e) != 1 ||
	    libfsntfs_volume_open_file_io_handle(vol, h, LIBFSNTFS_OPEN_READ, &e) != 1) {
		ilio_msg("%s: cannot read the NTFS volume: %s",
			 ilio_hsrc_name(w, src),
			 ilio_ntfs_err(&e, msg, sizeof(msg)));
		libfsntfs_volume_free(&vol, NULL);
		libbfio_handle_free(&h, NULL);
		return -EIO;
	}
	r = 0;
	if (libfsntfs_volume_get_number_of_file_entries(vol, &n.nr_entries, &e) != 1 ||
	    libfsntfs_volume_get_root_directory(vol, &root, &e) != 1) {
		ilio_msg("%s: cannot read the NTFS volume's root directory: %s",
			 ilio_hsrc_name(w, src),
			 ilio_ntfs_err(&e, msg, sizeof(msg)));
		r = -EIO;
	}
	if (!r) {
		n.seen = calloc(n.nr_entries / 8 + 1, 1);
		if (!n.seen)
			r = -ENOMEM;
	}
	if (!r) {
		ilio_hwalk_fs(w, "fs\tntfs\t%llu\t%llu\t%s",
			      (unsigned long long)ilio_hsrc_first(src),
			      (unsigned long long)(src->size >> ILIO_SECTOR_SHIFT),
			      src->label[0] ? src->label : "-");
		r = ilio_ntfs_dir(&n, root, "", 0);
	}
	free(n.seen);
	libfsntfs_file_entry_free(&root, NULL);
	libfsntfs_volume_close(vol, NULL);
	libfsntfs_volume_free(&vol, NULL);
	libbfio_handle_free(&h, NULL);
	return r;
}

/* --- ext2/3/4: libext2fs through an io_manager over the source ---------- */

static struct struct_io_manager ilio_e2io;

/* The channel's source, and its block size. */
struct ilio_e2chan {
	const struct ilio_hsrc *src;
};

static errcode_t ilio_e2_open(const char *name, int flags, io_channel *channel)
{
	struct ilio_e2chan *c;
	io_channel ch;
	void *p = NULL;

	if (flags & IO_FLAG_RW)
		return EXT2_ET_RO_UNSUPP_FEATURE;
	if (sscanf(name, "ilio-src:%p", &p) != 1 || !p)
		return EXT2_ET_BAD_DEVICE_NAME;
	ch = calloc(1, sizeof(*ch));
	c = calloc(1, sizeof(*c));
	if (!ch || !c) {
		free(ch);
		free(c);
		return EXT2_ET_NO_MEMORY;
	}
	ch->name = strdup(name);
	if (!ch->name) {
		free(ch);
		free(c);
		return EXT2_ET_NO_MEMORY;
	}
	c->src = p;
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = &ilio_e2io;
	ch->block_size = 1024;
	ch->refcount = 1;
	ch->private_data = c;
	*channel = ch;
	return 0;
}

static errcode_t ilio_e2_close(io_channel ch)
{
	if (--ch->refcount > 0)
		return 0;
	free(ch->private_data);
	free(ch->name);
	free(ch);
	return 0;
}

static errcode_t ilio_e2_set_blksize(io_channel ch, int blksize)
{
	ch->block_size = blksize;
	return 0;
}

static errcode_t ilio_e2_read64(io_channel ch, unsigned long long block, int count,
				void *data)
{
	struct ilio_e2chan *c = ch->private_data;
	uint64_t off = block * ch->block_size;
	size_t len = count < 0 ? (size_t)-count : (size_t)count * ch->block_size;

	if (off + len > c->src->size + (uint64_t)ch->block_size)
		return EXT2_ET_SHORT_READ;
	return ilio_hsrc_read(c->src, off, data, len) ? EXT2_ET_SHORT_READ : 0;
}

static errcode_t ilio_e2_read(io_channel ch, unsigned long block, int count,
			      void *data)
{
	return ilio_e2_read64(ch, block, count, data);
}

static errcode_t ilio_e2_write(io_channel ch, unsigned long block, int count,
			       const void *data)
{
	return EXT2_ET_RO_UNSUPP_FEATURE;
}

static errcode_t ilio_e2_write64(io_channel ch, unsigned long long block, int count,
				 const void *data)
{
	return EXT2_ET_RO_UNSUPP_FEATURE;
}

static errcode_t ilio_e2_flush(io_channel ch)
{
	return 0;
}

static struct struct_io_manager ilio_e2io = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "ilio source",
	.open = ilio_e2_open,
	.close = ilio_e2_close,
	.set_blksize = ilio_e2_set_blksize,
	.read_blk = ilio_e2_read,
	.write_blk = ilio_e2_write,
	.flush = ilio_e2_flush,
	.read_blk64 = ilio_e2_read64,
	.write_blk64 = ilio_e2_write64,
};

/* struct ilio_e2 - one ext walk. */
struct ilio_e2 {
	struct ilio_hwalk *w;
	const struct ilio_hsrc *src;
	ext2_filsys fs;
	struct ilio_hfile *f;
	int err;
};

/* One child of a directory, collected before walking it. */
struct ilio_e2ent {
	ext2_ino_t ino;
	char name[EXT2_NAME_LEN + 1];
};

struct ilio_e2list {
	struct ilio_e2ent *e;
	size_t nr;
	size_t cap;
};

static int ilio_e2_dirent(ext2_ino_t dir, int entry, struct ext2_dir_entry *d,
			  int offset, int blocksize, char *buf, void *priv)
{
	struct ilio_e2list *l = priv;
	int len = ext2fs_dirent_name_len(d);
	struct ilio_e2ent *e;

	if (!d->inode || (len == 1 && d->name[0] == '.') ||
	    (len == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return 0;
	if (l->nr == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 32;

		e = realloc(l->e, c * sizeof(*e));
		if (!e)
			return DIRENT_ABORT;
		l->e = e;
		l->cap = c;
	}
	e = &l->e[l->nr++];
	e->ino = d->inode;
	memcpy(e->name, d->name, len);
	e->name[len] = '\0';
	return 0;
}

static int ilio_e2_block(ext2_filsys fs, blk64_t *blk, e2_blkcnt_t cnt, blk64_t ref,
			 int ref_off, void *priv)
{
	struct ilio_e2 *x = priv;
	uint64_t bs = fs->blocksize;

	if (cnt < 0)
		return 0;
	x->err = ilio_hext_add(&x->f->ext, &x->f->nr, &x->f->cap, cnt * bs, *blk * bs, bs);
	return x->err ? BLOCK_ABORT : 0;
}

static int ilio_e2_dir(struct ilio_e2 *x, ext2_ino_t ino, const char *path, int depth)
{
	struct ilio_e2list l = { 0 };
	struct ext2_inode inode;
	char sub[ILIO_HPATH_MAX];
	struct ilio_hfile f;
	int r = 0, cls;
	size_t i;

	if (depth > ILIO_HDEPTH_MAX)
		return 0;
	if (ext2fs_dir_iterate2(x->fs, ino, 0, NULL, ilio_e2_dirent, &l)) {
		x->w->skipped[ILIO_SKIP_UNREADABLE]++;
		free(l.e);
		return 0;
	}
	for (i = 0; i < l.nr && !r; i++) {
		if (snprintf(sub, sizeof(sub), "%s/%s", path, l.e[i].name) >= (int)sizeof(sub))
			continue;
		if (ext2fs_read_inode(x->fs, l.e[i].ino, &inode)) {
			x->w->skipped[ILIO_SKIP_UNREADABLE]++;
			continue;
		}
		if (LINUX_S_ISDIR(inode.i_mode)) {
			r = ilio_e2_dir(x, l.e[i].ino, sub, depth + 1);
			continue;
		}
		if (!LINUX_S_ISREG(inode.i_mode))
			continue;
		cls = ilio_hwalk_class(x->w, sub, false);
		if (cls < 0)
			continue;
		memset(&f, 0, sizeof(f));
		f.path = sub;
		f.skip = -1;
		if (inode.i_flags & EXT4_INLINE_DATA_FL) {
			f.skip = ILIO_SKIP_RESIDENT;
		} else {
			x->f = &f;
			x->err = 0;
			if (ext2fs_block_iterate3(x->fs, l.e[i].ino,
						  BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY,
						  NULL, ilio_e2_block, x) && !x->err) {
				f.nr = 0;
				f.skip = ILIO_SKIP_UNREADABLE;
			}
			r = x->err;
			if (!r && f.skip < 0 && !f.nr)
				f.skip = ILIO_SKIP_EMPTY;
		}
		if (!r)
			r = ilio_hwalk_file(x->w, x->src, &f, cls);
		free(f.ext);
	}
	free(l.e);
	return r;
}

/* Walk src as ext2/3/4: 0, -ENODEV (not one), -EIO (printed), -ENOMEM. */
static int ilio_hwalk_ext(struct ilio_hwalk *w, const struct ilio_hsrc *src)
{
	struct ilio_e2 x = { .w = w, .src = src };
	char name[64];
	errcode_t err;
	int r;

	snprintf(name, sizeof(name), "ilio-src:%p", (const void *)src);
	err = ext2fs_open2(name, NULL, EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP, 0, 0,
			   &ilio_e2io, &x.fs);
	if (err == EXT2_ET_BAD_MAGIC || err == EXT2_ET_SHORT_READ)
		return -ENODEV;
	if (err) {
		ilio_msg("%s: cannot read the ext2/3/4 filesystem: %s",
			 ilio_hsrc_name(w, src), error_message(err));
		return -EIO;
	}
	ilio_hwalk_fs(w, "fs\text4\t%llu\t%llu\t%s",
		      (unsigned long long)ilio_hsrc_first(src),
		      (unsigned long long)(src->size >> ILIO_SECTOR_SHIFT),
		      src->label[0] ? src->label : "-");
	r = ilio_e2_dir(&x, EXT2_ROOT_INO, "", 0);
	ext2fs_close_free(&x.fs);
	return r;
}

/* --- partitions (libblkid) ---------------------------------------------- */

/*
 * A file descriptor libblkid can probe for the partition table of src:
 * the device itself at the top, else a memory file of src's size holding
 * its first and last ILIO_HPROBE_BYTES.
 */
static int ilio_hprobe_fd(const struct ilio_hsrc *src, bool top)
{
	uint64_t n = src->size < ILIO_HPROBE_BYTES ? src->size : ILIO_HPROBE_BYTES;
	char *buf;
	int fd;

	if (top)
		return dup(src->fd);
	fd = memfd_create("ilio-probe", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	buf = malloc(n);
	if (!buf || ftruncate(fd, src->size) ||
	    ilio_hsrc_read(src, 0, buf, n) || pwrite(fd, buf, n, 0) != (ssize_t)n ||
	    ilio_hsrc_read(src, src->size - n, buf, n) ||
	    pwrite(fd, buf, n, src->size - n) != (ssize_t)n) {
		free(buf);
		close(fd);
		return -1;
	}
	free(buf);
	return fd;
}

/*
 * Walk the partitions of src: 0 when a table with at least one
 * filesystem walked was found, -ENODEV when none, -EIO (printed),
 * -ENOMEM.
 */
static int ilio_hwalk_parts(struct ilio_hwalk *w, struct ilio_hsrc *src, bool top)
{
	int fd, i, nr, r = -ENODEV, found = 0, failed = 0;
	blkid_partlist parts;
	blkid_probe pr;
	char label[32];

	fd = ilio_hprobe_fd(src, top);
	if (fd < 0)
		return errno ? -errno : -EIO;
	pr = blkid_new_probe();
	if (!pr || blkid_probe_set_device(pr, fd, 0, src->size)) {
		if (pr)
			blkid_free_probe(pr);
		close(fd);
		return -ENOMEM;
	}
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	parts = blkid_probe_get_partitions(pr);
	nr = parts ? blkid_partlist_numof_partitions(parts) : 0;
	for (i = 0; i < nr; i++) {
		blkid_partition p = blkid_partlist_get_partition(parts, i);
		uint64_t start, size;
		struct ilio_hsrc part;

		if (!p || blkid_partition_is_extended(p))
			continue;
		start = (uint64_t)blkid_partition_get_start(p) << ILIO_SECTOR_SHIFT;
		size = (uint64_t)blkid_partition_get_size(p) << ILIO_SECTOR_SHIFT;
		if (!size || start >= src->size || size > src->size - start)
			continue;
		snprintf(label, sizeof(label), "p%d:", blkid_partition_get_partno(p));
		r = ilio_hsrc_slice(src, start, size, label, &part);
		if (!r) {
			r = ilio_hwalk_ntfs(w, &part);
			if (r == -ENODEV)
				r = ilio_hwalk_ext(w, &part);
		}
		free(part.ext);
		if (r == -ENOMEM)
			break;
		if (!r)
			found++;
		if (r == -EIO)
			failed++;
		r = 0;
	}
	blkid_free_probe(pr);
	close(fd);
	if (r == -ENOMEM)
		return r;
	if (failed)
		return -EIO;
	return found ? 0 : -ENODEV;
}

/*
 * Walk src: NTFS, ext2/3/4, or a partition table holding them.  Returns
 * 0, -ENODEV when none is found, -EIO (printed), -ENOMEM.
 */
static int ilio_hwalk_source(struct ilio_hwalk *w, struct ilio_hsrc *src, bool top)
{
	int r;

	r = ilio_hwalk_ntfs(w, src);
	if (r == -ENODEV)
		r = ilio_hwalk_ext(w, src);
	if (r == -ENODEV)
		r = ilio_hwalk_parts(w, src, top);
	if (r == -ENODEV && !top)
		ilio_msg("%s: %s", src->label,
			 "no NTFS or ext2/3/4 filesystem in this image, nor a partition table with one");
	return r;
}

/* --- a mounted filesystem: FIEMAP ---------------------------------------- */

/* Decode mountinfo's octal escapes (\040 for a blank) in place. */
static void ilio_unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0');
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/*
 * Where the filesystem on rdev is mounted: 1 with mnt, root (the mount's
 * root inside the filesystem) and fstype, or 0 when it is not.
 */
static int ilio_mount_of(dev_t rdev, char *mnt, char *root, char *fstype, size_t size)
{
	char line[3 * ILIO_HPATH_MAX], r[ILIO_HPATH_MAX], m[ILIO_HPATH_MAX], t[256];
	unsigned int maj, min;
	int found = 0;
	const char *sep;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*u %*u %u:%u %4095s %4095s", &maj, &min, r, m) != 4 ||
		    makedev(maj, min) != rdev)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%255s", t) != 1)
			continue;
		ilio_unescape(r);
		ilio_unescape(m);
		if (found && strcmp(r, "/"))
			continue;	/* prefer a mount of the whole filesystem */
		snprintf(mnt, size, "%s", m);
		snprintf(root, size, "%s", r);
		snprintf(fstype, size, "%s", t);
		found = 1;
	}
	fclose(f);
	return found;
}

/* The FIEMAP extents of fd into f (dev: device offsets). */
static int ilio_fiemap(int fd, struct ilio_hfile *f)
{
	char buf[sizeof(struct fiemap) + 256 * sizeof(struct fiemap_extent)];
	struct fiemap *fm = (struct fiemap *)buf;
	uint64_t start = 0;
	unsigned int i;
	int r;

	for (;;) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = 256;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			f->skip = ILIO_SKIP_UNREADABLE;
			return 0;
		}
		if (!fm->fm_mapped_extents)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *e = &fm->fm_extents[i];

			if (e->fe_flags & (FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL |
					   FIEMAP_EXTENT_NOT_ALIGNED)) {
				f->nr = 0;
				f->skip = ILIO_SKIP_RESIDENT;
				return 0;
			}
			if (e->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
					   FIEMAP_EXTENT_ENCODED)) {
				f->nr = 0;
				f->skip = ILIO_SKIP_UNREADABLE;
				return 0;
			}
			r = ilio_hext_add(&f->ext, &f->nr, &f->cap, e->fe_logical,
					  e->fe_physical, e->fe_length);
			if (r)
				return r;
			start = e->fe_logical + e->fe_length;
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				return 0;
		}
	}
	return 0;
}

/* nftw() has no argument for its callback: the walk it serves. */
static struct ilio_hwalk *ilio_ftw_walk;
static struct ilio_hsrc *ilio_ftw_src;
static const char *ilio_ftw_root;
static size_t ilio_ftw_mnt_len;
static int ilio_ftw_err;

static int ilio_ftw_one(const char *fpath, const struct stat *st, int type,
			struct FTW *ftw)
{
	char path[ILIO_HPATH_MAX];
	struct ilio_hfile f;
	int fd, cls;

	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	/* fpath is the mount point, then "/" and the path below it. */
	if (snprintf(path, sizeof(path), "%s%s", strcmp(ilio_ftw_root, "/") ?
		     ilio_ftw_root : "", fpath + ilio_ftw_mnt_len) >= (int)sizeof(path))
		return 0;
	cls = ilio_hwalk_class(ilio_ftw_walk, path, false);
	if (cls < 0)
		return 0;
	memset(&f, 0, sizeof(f));
	f.path = path;
	f.skip = -1;
	fd = open(fpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		f.skip = ILIO_SKIP_UNREADABLE;
	} else {
		ilio_ftw_err = ilio_fiemap(fd, &f);
		close(fd);
		if (!ilio_ftw_err && f.skip < 0 && !f.nr)
			f.skip = ILIO_SKIP_EMPTY;
	}
	if (!ilio_ftw_err)
		ilio_ftw_err = ilio_hwalk_file(ilio_ftw_walk, ilio_ftw_src, &f, cls);
	free(f.ext);
	return ilio_ftw_err ? FTW_STOP : 0;
}

/*
 * Walk the mounted filesystem at mnt (root: the mount's root inside it)
 * with FIEMAP.  Only filesystems whose FIEMAP gives offsets on their one
 * device are taken.
 */
static int ilio_hwalk_mounted(struct ilio_hwalk *w, struct ilio_hsrc *src,
			      const char *dev, const char *mnt, const char *root,
			      const char *fstype)
{
	if (strcmp(fstype, "ext2") && strcmp(fstype, "ext3") && strcmp(fstype, "ext4") &&
	    strcmp(fstype, "xfs")) {
		ilio_msg("%s is mounted on %s as %s: hints read mounted ext2/3/4 and xfs only (%s)",
			 dev, mnt, fstype, "their FIEMAP offsets are offsets on the device");
		return -EIO;
	}
	ilio_hwalk_fs(w, "fs\t%s\t0\t%llu\tmounted on %s", fstype,
		      (unsigned long long)(src->size >> ILIO_SECTOR_SHIFT), mnt);
	ilio_ftw_walk = w;
	ilio_ftw_src = src;
	ilio_ftw_root = root;
	ilio_ftw_mnt_len = strcmp(mnt, "/") ? strlen(mnt) : 0;
	ilio_ftw_err = 0;
	if (nftw(mnt, ilio_ftw_one, 32, FTW_PHYS | FTW_MOUNT) < 0 && !ilio_ftw_err) {
		ilio_msg("cannot walk %s: %s", mnt, strerror(errno));
		return -EIO;
	}
	return ilio_ftw_err;
}

/**
 * ilio_hints_walk_device() - find the files of the device dev (open as
 * fd, size bytes; rdev when it is a block device) that the rules of w
 * match, and their runs in device sectors.
 *
 * Return: 0; -ENODEV after printing that no filesystem was found; -EIO
 * after printing why one could not be read; -ENOMEM.
 */
int ilio_hints_walk_device(struct ilio_hwalk *w, const char *dev, int fd,
			   uint64_t size, dev_t rdev, bool is_blk)
{
	char mnt[ILIO_HPATH_MAX], root[ILIO_HPATH_MAX], fstype[ILIO_HPATH_MAX];
	struct ilio_hext whole = { .log = 0, .dev = 0, .len = size };
	struct ilio_hsrc src;
	int r;

	w->dev = dev;
	memset(&src, 0, sizeof(src));
	src.fd = fd;
	src.size = size;
	src.ext = &whole;
	src.nr = 1;
	if (is_blk && ilio_mount_of(rdev, mnt, root, fstype, sizeof(mnt)))
		return ilio_hwalk_mounted(w, &src, dev, mnt, root, fstype);
	r = ilio_hwalk_source(w, &src, true);
	if (r == -ENODEV)
		ilio_msg("%s: %s", dev,
			 "no NTFS or ext2/3/4 filesystem found, nor a partition table with one");
	return r;
}

void ilio_hwalk_free(struct ilio_hwalk *w)
{
	size_t i;

	for (i = 0; i < w->nr_paths; i++)
		free(w->paths[i]);
	free(w->paths);
	free(w->runs);
	free(w->fs);
	memset(w, 0, sizeof(*w));
}
