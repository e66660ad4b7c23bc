/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hints.h - what the parts of "ilioctl hints" share: region classes, the
 * rules file (hints-rules.c), the sources and the walkers that map files
 * to device sectors (hints-map.c), and the command (cmd-hints.c).
 *
 * The message protocol these hints are sent with is the contract the
 * kernel side must meet: Documentation/ilio-design.rst, "Region classes:
 * the message protocol (userspace side)".
 */
#ifndef ILIO_HINTS_H
#define ILIO_HINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * enum ilio_hint_class - a region class, as the "hint" message names it.
 * @ILIO_HINT_NORMAL: the default.
 * @ILIO_HINT_PIN: kept in the RAM cache, evicted last (binaries, DLLs).
 * @ILIO_HINT_NOCACHE: not kept after write-back (pagefile, swap).
 * @ILIO_HINT_TEMP: written back late, cached at low priority.
 * @ILIO_HINT_NR: number of classes.
 * @ILIO_HINT_IMAGE: (rules only) the file is a raw disk image whose
 *	files are walked with the same rules; never sent.
 */
enum ilio_hint_class {
	ILIO_HINT_NORMAL,
	ILIO_HINT_PIN,
	ILIO_HINT_NOCACHE,
	ILIO_HINT_TEMP,
	ILIO_HINT_NR,
	ILIO_HINT_IMAGE = ILIO_HINT_NR,
};

const char *ilio_hint_class_name(int cls);
int ilio_hint_class_parse(const char *word);

/**
 * struct ilio_hint_rule - one line of a rules file.
 * @cls: &enum ilio_hint_class.
 * @pat: the pattern, '\\' turned into '/', without a leading '/', one
 *	brace alternative chosen (a line with "{a,b}" gives one rule each).
 * @anchored: the pattern had a '/' (a leading one included): it matches
 *	from the filesystem's root; otherwise a name in any directory.
 * @line: line number in the file, for messages.
 */
struct ilio_hint_rule {
	int cls;
	char *pat;
	bool anchored;
	unsigned int line;
};

/**
 * struct ilio_hint_rules - a rules file, in order (the last match wins).
 * @r: the rules.
 * @nr: how many.
 * @cap: allocated.
 */
struct ilio_hint_rules {
	struct ilio_hint_rule *r;
	size_t nr;
	size_t cap;
};

extern const char ilio_hint_default_rules[];
int ilio_hint_rules_parse(const char *text, const char *what,
			  struct ilio_hint_rules *rules);
int ilio_hint_rules_load(const char *path, struct ilio_hint_rules *rules);
void ilio_hint_rules_free(struct ilio_hint_rules *rules);
int ilio_hint_match(const struct ilio_hint_rules *rules, const char *path,
		    bool icase);
bool ilio_hint_glob(const char *pat, const char *s, bool icase);

/**
 * struct ilio_hext - one piece of a source: @len bytes at @log in the
 * source are at @dev on the device.
 */
struct ilio_hext {
	uint64_t log;
	uint64_t dev;
	uint64_t len;
};

/**
 * struct ilio_hsrc - bytes to read a filesystem from: a device (or image
 * file given as DEV), a partition of it, or a disk image file stored in a
 * filesystem on it.  Every byte is reached through @ext, which maps it to
 * the device; bytes in no extent (holes) read as zeros.
 * @fd: the device, open read-only.
 * @size: the source's size in bytes.
 * @ext: sorted by @log, not overlapping.
 * @nr: extents in @ext.
 * @label: how paths in it are prefixed ("" on the device itself,
 *	"p2:", "/vm/win.img::", "/vm/win.img::p2:").
 * @depth: 0 on the device, 1 inside a disk image.
 */
struct ilio_hsrc {
	int fd;
	uint64_t size;
	struct ilio_hext *ext;
	size_t nr;
	char label[4096];
	int depth;
};

/* Skipped files, by reason (counted, printed by --dry-run). */
enum ilio_hint_skip {
	ILIO_SKIP_RESIDENT,	/* NTFS resident data, ext4 inline data */
	ILIO_SKIP_COMPRESSED,	/* NTFS compressed */
	ILIO_SKIP_SPARSE,	/* holes skipped (the file's data is kept) */
	ILIO_SKIP_EMPTY,	/* no data at all */
	ILIO_SKIP_UNREADABLE,	/* the library could not read it */
	ILIO_SKIP_IMAGE,	/* an image rule's file with nothing to walk */
	ILIO_SKIP_NR,
};

extern const char *const ilio_hint_skip_names[ILIO_SKIP_NR];

/**
 * struct ilio_hrun - one run of one file, in device sectors.
 * @start: first sector.
 * @nr: sectors.
 * @cls: &enum ilio_hint_class.
 * @depth: 0 for a file on the device, 1 for one inside a disk image
 *	(sent after depth 0, so that it wins where they overlap).
 * @file: index in &struct ilio_hwalk.paths.
 */
struct ilio_hrun {
	uint64_t start;
	uint64_t nr;
	int cls;
	int depth;
	size_t file;
};

/**
 * struct ilio_hwalk - what a walk found.
 * @rules: the rules matched against every path.
 * @dev: the device's name, for messages.
 * @runs: the runs, in the order found.
 * @nr_runs: how many.
 * @cap_runs: allocated.
 * @paths: the matched files' paths (with their source's label).
 * @nr_paths: files matched (with at least one run, or skipped).
 * @cap_paths: allocated.
 * @skipped: matched files skipped, by &enum ilio_hint_skip.
 * @fs: one line per filesystem walked ("ntfs\t<start>\t<nr>\t<label>").
 * @fs_len: bytes used in @fs.
 * @nr_fs: filesystems walked.
 */
struct ilio_hwalk {
	const struct ilio_hint_rules *rules;
	const char *dev;
	struct ilio_hrun *runs;
	size_t nr_runs;
	size_t cap_runs;
	char **paths;
	size_t nr_paths;
	size_t cap_paths;
	unsigned long long skipped[ILIO_SKIP_NR];
	char *fs;
	size_t fs_len;
	unsigned int nr_fs;
};

int ilio_hints_walk_device(struct ilio_hwalk *w, const char *dev, int fd,
			   uint64_t size, dev_t rdev, bool is_blk);
void ilio_hwalk_free(struct ilio_hwalk *w);

#endif /* ILIO_HINTS_H */
