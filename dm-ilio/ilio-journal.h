/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-journal: the persistent store's optional NV journal device - a ring
 * of checksummed records, each the exact image of closed log units that
 * the backing device does not durably hold yet.  A flush writes one
 * record with FUA and completes: no partial segment and no device flush
 * on the backing LUN.  Recovery takes a unit from the journal where the
 * log's chain expects it and the LUN lacks it.  The format is in
 * ilio-format.h ("journal layout"), the argument in
 * Documentation/ilio-design.rst ("NV journal").
 *
 * Locking:
 *  - @mutex serialises journal writes (records and superblock) and the
 *    fields marked (J).  Taken before pl->wb_mutex and sp->lock.
 *  - Fields marked (L) are under sp->lock (read by write-back).
 *  - Recovery fields (R) are used before the store is shared.
 */
#ifndef ILIO_JOURNAL_H
#define ILIO_JOURNAL_H

#include <linux/types.h>
#include <linux/mutex.h>

#include "ilio-meta.h"
#include "ilio-store.h"

struct ilio_plog;

/**
 * struct ilio_jlive - a record the ring still holds for the LUN
 * @pos: ring block of its header
 * @blocks: its length in blocks
 * @seq: its record sequence number
 * @last_useq: the newest log unit in it: it is free once the LUN holds
 *	that unit durably
 */
struct ilio_jlive {
	u64 pos;
	u64 blocks;
	u64 seq;
	u64 last_useq;
};

/**
 * struct ilio_jx - recovery: one extent of a valid record found on the ring
 * @pos: byte position on the backing device
 * @len: bytes
 * @jblock: ring block of its first data block
 */
struct ilio_jx {
	u64 pos;
	u32 len;
	u64 jblock;
};

/**
 * struct ilio_jgather - what one journaled flush carries
 * @n: extents: a run of closed units of one segment each
 * @seg: their segments (pinned while the record is built)
 * @off: byte offset of each run in its segment
 * @len: its bytes
 * @bytes: the sum of @len
 */
struct ilio_jgather {
	u32 n;
	u32 seg[ILIO_JREC_MAX_EXT];
	u32 off[ILIO_JREC_MAX_EXT];
	u32 len[ILIO_JREC_MAX_EXT];
	u64 bytes;
};

/**
 * struct ilio_journal - the journal of a persistent store
 * @name: the device's name, for the kernel log
 * @ops: journal device access; @ops->write must return only once the
 *	data is durable (REQ_FUA); @ops->flush is not used
 * @priv: for @ops
 * @dev_bytes: the journal device's size
 * @sb: (J) the superblock as last written, slot @sb_slot
 * @sb_slot: (J) slot of @sb
 * @head: (J) ring block of the next record
 * @head_seq: (J) its sequence number
 * @fifo: (J) the live records, oldest first (a ring of @fifo_cap)
 * @fifo_cap: capacity of @fifo
 * @fifo_head: (J) index of the oldest
 * @fifo_len: (J) entries
 * @covered: (L) every log unit up to this one is durable in the journal
 *	or on the LUN
 * @pending: (L) the target of the journal write in progress (0: none):
 *	write-back defers its units as if covered, so that they do not leave
 *	as a partial segment meanwhile
 * @failed: (L) sticky: a journal write failed; flushes go to the LUN
 * @force: (L) write-back in progress that must not defer (the LUN path)
 * @jg: (J) the flush in progress
 * @buf: (J) a record of scratch: ILIO_BLOCK_SIZE + @max_data bytes
 * @max_data: unit bytes one record carries at most
 * @mutex: serialises journal writes (see Locking)
 * @jx: (R) the extents of the valid records recovery found, oldest first
 * @nr_jx: (R) entries in @jx
 * @jx_cap: (R) capacity of @jx
 * @used: (R) units recovery took from the journal
 */
struct ilio_journal {
	char name[32];
	const struct ilio_backend_ops *ops;
	void *priv;
	u64 dev_bytes;
	struct ilio_jsb_info sb;
	unsigned int sb_slot;
	u64 head;
	u64 head_seq;
	struct ilio_jlive *fifo;
	u32 fifo_cap;
	u32 fifo_head;
	u32 fifo_len;
	u64 covered;
	u64 pending;
	bool failed;
	int force;
	struct ilio_jgather jg;
	u8 *buf;
	u32 max_data;
	struct mutex mutex;	/* journal writes; see Locking */
	struct ilio_jx *jx;
	u32 nr_jx;
	u32 jx_cap;
	u64 used;
};

int ilio_journal_open(struct ilio_plog *pl, const struct ilio_core_params *p,
		      const char **why);
int ilio_journal_find(struct ilio_plog *pl, u32 seg, u32 off, u64 seq,
		      const char **why);
int ilio_journal_reset(struct ilio_plog *pl);
void ilio_journal_free(struct ilio_journal *jn);
u64 ilio_journal_mem_bytes(const struct ilio_journal *jn);
int ilio_journal_flush(struct ilio_plog *pl);
bool __ilio_journal_defer(struct ilio_plog *pl, u32 idx);
void ilio_journal_settle(struct ilio_plog *pl);

#endif /* ILIO_JOURNAL_H */
