/* SPDX-License-Identifier: GPL-2.0 */
/*
 * membe: an in-memory backing device for the portable core in userspace
 * (struct ilio_backend_ops over a byte array), shared by the fuzz target
 * and the seed builder.
 *
 * Every access is bounds-checked against the device size: a core that
 * reads or writes outside its device trusted an unchecked offset, and the
 * backend aborts (a fuzzer finding) instead of returning an error.  A
 * read-only backend aborts on any write, flush or discard for the same
 * reason: a read-only open must never write.
 */
#ifndef ILIO_FUZZ_MEMBE_H
#define ILIO_FUZZ_MEMBE_H

#include <linux/types.h>

#include "ilio-core.h"

/**
 * struct membe - one in-memory device
 * @img: the bytes
 * @size: device size in bytes
 * @read_only: abort on any write, flush or discard
 * @reads: read calls
 * @writes: write calls
 */
struct membe {
	u8 *img;
	u64 size;
	bool read_only;
	unsigned long reads;
	unsigned long writes;
};

extern const struct ilio_backend_ops membe_ops;

#endif
