/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-args: the table line grammar, parsed and printed.
 *
 * Usage (the constructor's arguments after "<start> <len> ilio"):
 *
 *   <backing_dev|-> <ram_mb> [<#feature_args> <feature_args>...]
 *
 *   backing_dev   block device that holds the persistent store;
 *                 "-" for diskless mode (everything in RAM)
 *   ram_mb        RAM budget in MiB: data, cache and metadata together
 *   feature_args  key/value pairs, each key at most once:
 *     dedup on|off            inline deduplication (default on)
 *     compress lz4|none       lz4 compression (default lz4)
 *     block_size 4096|512     advertised logical block size (default 4096);
 *                             512 is served by read-modify-write
 */
#ifndef ILIO_ARGS_H
#define ILIO_ARGS_H

#include <linux/types.h>

#define ILIO_RAM_MB_MIN		4U
#define ILIO_RAM_MB_MAX		16777216U

/**
 * struct ilio_params - a parsed table line
 * @backing: backing device path (points into argv); NULL when diskless
 * @ram_mb: RAM budget in MiB
 * @dedup: inline deduplication on
 * @compress: lz4 compression on
 * @block_size: advertised logical block size, 4096 or 512
 */
struct ilio_params {
	const char *backing;
	u32 ram_mb;
	bool dedup;
	bool compress;
	u32 block_size;
};

int ilio_parse_args(struct ilio_params *p, unsigned int argc, char **argv,
		    const char **error);
int ilio_format_table(const struct ilio_params *p, char *buf, size_t len);

#endif /* ILIO_ARGS_H */
