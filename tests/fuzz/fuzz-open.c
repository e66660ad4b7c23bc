// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-open: libFuzzer target that treats its input as a backing device
 * (see fuzzimg.h for the encoding) and opens it with the portable core, the
 * module's own code built against tests/shim.  Proves that no image - a
 * damaged one, a malicious one - makes ilio_core_open() or what follows read
 * or write outside the device (the in-memory backend aborts), touch memory
 * it does not own (ASan), hit undefined behaviour (UBSan), leak (LSan), or
 * write anything when opened read-only; and that an image it accepts is
 * consistent: every LBA reads back (data or an error, never a crash) and
 * ilio_core_check() passes.
 *
 * With FUZZ_MODE_RW in the mode byte it opens read-write instead and keeps
 * going: writes, overwrites, discards, a flush, a checkpoint, checks again
 * and closes - recovery followed by new writes at the recovered log end.
 * With FUZZ_MODE_ENOMEM one allocation inside the open fails.
 *
 * Its custom mutator makes two mutations in three structure-aware
 * (fuzzimg_mutate(): an id, index, length or count of a checkpoint, a
 * summary or an anchor pushed to a bound, the unit re-sealed) and leaves
 * the rest to libFuzzer's byte-level mutations.  Run with -rss_limit_mb
 * (run.sh does): an image that makes recovery allocate without bound is a
 * finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilio-core.h"
#include "membe.h"
#include "fuzzimg.h"

extern long ilio_shim_fail_alloc_after;

static u8 *img;
static struct ilio_ctx ctx;

static void finding(const char *what, const char *why, int ret)
{
	fprintf(stderr, "fuzz-open: %s (ret %d%s%s)\n", what, ret,
		why ? ": " : "", why ? why : "");
	abort();
}

/*
 * ilio_core_check() also loads every chunk: data that fails its hash (the
 * fuzzer damaged a record) makes it fail, as it should.  That is only a
 * finding when every LBA read back fine.
 */
static void check_consistent(struct ilio_core *ic, int read_errors, const char *when)
{
	char why[256] = "";
	int ret = ilio_core_check(ic, why, sizeof(why));

	if (ret && !read_errors)
		finding(when, why, ret);
}

/* Read every LBA; return how many reads failed. */
static int read_all(struct ilio_core *ic, u8 *buf)
{
	int ret, errors = 0;
	u64 lba;

	for (lba = 0; lba < FUZZ_NR_BLOCKS; lba++) {
		ret = ilio_core_read(ic, lba, buf);
		if (ret > 0)
			finding("ilio_core_read returned a positive value", NULL, ret);
		errors += ret < 0;
	}
	return errors;
}

size_t LLVMFuzzerMutate(u8 *data, size_t size, size_t max_size);

size_t LLVMFuzzerCustomMutator(u8 *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	static u8 *mimg, *out;
	static size_t out_cap;
	size_t n;

	if (size < 2 || seed % 3 == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	if (!mimg)
		mimg = malloc(FUZZ_IMG_BYTES);
	if (out_cap < max_size) {
		free(out);
		out = malloc(max_size);
		out_cap = out ? max_size : 0;
	}
	if (!mimg || !out)
		return LLVMFuzzerMutate(data, size, max_size);
	fuzzimg_decode(mimg, data + 1, size - 1);
	if (!fuzzimg_mutate(mimg, seed))
		return LLVMFuzzerMutate(data, size, max_size);
	n = fuzzimg_encode_mem(out, max_size, mimg, data[0]);
	if (!n)
		return LLVMFuzzerMutate(data, size, max_size);
	memcpy(data, out, n);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	img = malloc(FUZZ_IMG_BYTES);
	if (!img || ilio_ctx_init(&ctx))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct membe m = { .size = FUZZ_IMG_BYTES };
	struct ilio_core_params p = {
		.nr_blocks = FUZZ_NR_BLOCKS,
		.ram_limit = FUZZ_RAM,
		.dedup = true,
		.compress = true,
		.store = &ilio_log_store, .bops = &membe_ops,
		.dev_bytes = FUZZ_IMG_BYTES,
		.coalesce = ILIO_COALESCE_AUTO,
		.flush_interval_ms = 1000,
		.max_dirty = FUZZ_MAX_DIRTY,
	};
	static u8 buf[ILIO_BLOCK_SIZE];
	struct ilio_core *ic;
	const char *why = NULL;
	int err = 0, ret;
	u8 mode;
	u64 i;

	if (!size)
		return 0;
	mode = data[0];
	fuzzimg_decode(img, data + 1, size - 1);
	m.img = img;
	m.read_only = !(mode & FUZZ_MODE_RW);
	p.bpriv = &m;
	p.read_only = m.read_only;

	if (mode & FUZZ_MODE_ENOMEM)
		ilio_shim_fail_alloc_after = FUZZ_MODE_ENOMEM_AT(mode);
	ic = ilio_core_open(&p, &err, &why);
	ilio_shim_fail_alloc_after = -1;
	if (!ic) {
		if (err >= 0)
			finding("open failed without a negative errno", why, err);
		if (!why)
			finding("open failed without saying why", NULL, err);
		return 0;
	}
	ret = read_all(ic, buf);
	check_consistent(ic, ret, "an accepted image fails ilio_core_check (all reads worked)");
	if (m.read_only) {
		ilio_core_destroy(ic);
		return 0;
	}

	/* Read-write: new data on top of whatever was recovered. */
	for (i = 0; i < 64; i++) {
		u64 lba = (i * 37 + mode) % FUZZ_NR_BLOCKS;

		memset(buf, (int)(i & 3), sizeof(buf));	/* zero and duplicates */
		if (i & 4)
			memcpy(buf, &lba, sizeof(lba));
		ret = ilio_core_write(ic, lba, buf, &ctx);
		if (ret > 0)
			finding("ilio_core_write returned a positive value", NULL, ret);
		if ((i & 15) == 15) {
			ilio_core_discard(ic, (lba + 1) % FUZZ_NR_BLOCKS);
			ilio_core_tick(ic);	/* writeback, GC, checkpoint */
		}
	}
	ret = ilio_core_flush(ic);
	if (ret > 0)
		finding("ilio_core_flush returned a positive value", NULL, ret);
	ret = ilio_core_checkpoint(ic);
	if (ret > 0)
		finding("ilio_core_checkpoint returned a positive value", NULL, ret);
	ret = read_all(ic, buf);
	check_consistent(ic, ret, "after writes on a recovered image (all reads worked)");
	ilio_core_close(ic);
	return 0;
}
