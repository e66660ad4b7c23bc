/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-store: the seam between the dedup core and the stores that hold
 * its records.
 *
 * The core (ilio-core.c) decides what is stored: zero blocks, duplicates,
 * new chunks, and which LBA maps to which chunk.  A store decides where
 * and how records live: the RAM store (ilio-ram.c) keeps them in RAM
 * segments and compacts them; the persistent store (ilio-log.c,
 * ilio-ckpt.c, ilio-gc.c, ilio-recover.c) logs them to a backing device,
 * checkpoints and cleans it, and recovers it.  Both work on the shared
 * struct ilio_space (ilio-space.h) through the leaf APIs; neither sees
 * struct ilio_core.  Edges point down only: the core calls a store
 * through struct ilio_store_ops, a store calls the leaves and, for its
 * device, struct ilio_backend_ops.
 *
 * Locking: "lock held" below means the space lock (struct ilio_space
 * @lock).  Ops documented as unlocked take it themselves and may sleep.
 */
#ifndef ILIO_STORE_H
#define ILIO_STORE_H

#include <linux/types.h>

#include "ilio-limits.h"
#include "ilio-space.h"

/* Coalescing policies of persistent mode (table feature "coalesce"). */
enum ilio_coalesce {
	ILIO_COALESCE_AUTO = 0,
	ILIO_COALESCE_ALWAYS,
	ILIO_COALESCE_OFF,
};

/* Segment size of diskless mode, and of the constructor's budget check. */
#define ILIO_SEG_BYTES_DEFAULT	((u32)ILIO_SEG_BYTES_CTR)

/* How many compaction passes one store may run before giving up. */
#define ILIO_COMPACT_TRIES	8

/**
 * struct ilio_backend_io - one asynchronous backend write (write_async)
 * @done: called exactly once when the write completed, with 0 or a
 *	negative errno.  It may run before write_async() returns and it may
 *	run in interrupt context: it must not sleep, take a mutex or
 *	allocate; it records the result and wakes whoever waits for it.
 *
 * Embedded in the caller's own state, which it finds with container_of().
 */
struct ilio_backend_io {
	void (*done)(struct ilio_backend_io *io, int err);
};

/**
 * struct ilio_backend_ops - how a persistent store reaches its device
 * @read: read @len bytes at byte @pos into @buf; may sleep
 * @write: write @len bytes from @buf at byte @pos; may sleep; returns when
 *	the device completed the write (not necessarily durable)
 * @write_async: optional; start writing @len bytes from @buf at byte @pos
 *	and return; @io->done() reports the completion (not necessarily
 *	durable).  @buf must stay unchanged until then.  Writes in flight
 *	together may complete in any order.  May sleep to allocate
 *	(GFP_NOIO), never to wait for I/O.  Without it the store uses @write,
 *	one write at a time.
 * @flush: make every completed write durable
 * @discard: optional; tell the device that a byte range is unused
 * @kick: optional; ask for ilio_core_writeback() to run soon in another
 *	context.  Without it the core writes back synchronously.
 *
 * Each returns 0 or a negative errno; positions and lengths are 4 KiB
 * multiples.
 */
struct ilio_backend_ops {
	int (*read)(void *priv, u64 pos, void *buf, u32 len);
	int (*write)(void *priv, u64 pos, const void *buf, u32 len);
	void (*write_async)(void *priv, u64 pos, const void *buf, u32 len,
			    struct ilio_backend_io *io);
	int (*flush)(void *priv);
	int (*discard)(void *priv, u64 pos, u64 len);
	void (*kick)(void *priv);
};

struct ilio_store_type;
struct ilio_classmap;

/**
 * struct ilio_core_params - what a core is created with
 * @name: the device's name, for the kernel log (may be NULL)
 * @nr_blocks: logical size in 4 KiB blocks
 * @ram_limit: RAM budget in bytes (segments and metadata together)
 * @seg_bytes: segment size in bytes
 * @dedup: look duplicates up in the content index
 * @compress: lz4-compress new chunks
 * @store: the store to open (ilio_core_open()); ilio_core_create() always
 *	makes a RAM store
 * @bops: persistent mode: backing device access
 * @bpriv: passed to @bops
 * @dev_bytes: persistent mode: size of the backing device
 * @read_only: persistent mode: recover without writing, serve reads only
 * @coalesce: persistent mode: enum ilio_coalesce
 * @flush_interval_ms: persistent mode: longest time dirty data waits
 *	(coalesce auto)
 * @max_dirty: persistent mode: bytes of unwritten data before writers
 *	wait for the backing device
 * @jops: persistent mode, optional: the journal device's access; its
 *	@write returns only once the data is durable (FUA); NULL: no journal
 * @jpriv: passed to @jops
 * @jdev_bytes: size of the journal device
 * @event: optional: called when the device's mode changes (read-only,
 *	fail), in whatever context changed it (it may be atomic): the dm
 *	glue raises a dm event from a work item
 * @event_priv: passed to @event
 */
struct ilio_core_params {
	const char *name;
	u64 nr_blocks;
	u64 ram_limit;
	u32 seg_bytes;
	bool dedup;
	bool compress;
	const struct ilio_store_type *store;
	const struct ilio_backend_ops *bops;
	void *bpriv;
	u64 dev_bytes;
	bool read_only;
	int coalesce;
	u32 flush_interval_ms;
	u64 max_dirty;
	const struct ilio_backend_ops *jops;
	void *jpriv;
	u64 jdev_bytes;
	void (*event)(void *priv);
	void *event_priv;
};

/* How deep into the free-segment reserve a log writer may go. */
#define ILIO_LEVEL_USER	0	/* front-end writes */
#define ILIO_LEVEL_GC	1	/* GC moves, compaction and discards: they free space */
#define ILIO_LEVEL_CKPT	2	/* checkpoints: they make freed space usable */

struct ilio_store;

/* Chunks one prefetch reads at most: the blocks of a 64 KiB bio. */
#define ILIO_FETCH_MAX		16
/* Bytes one prefetch reads at most. */
#define ILIO_FETCH_SPAN		(128U << 10)

/**
 * struct ilio_fetch - one chunk for &ilio_store_ops.prefetch
 * @loc: its location
 * @cid: its id
 * @hash: its content hash, to check what is read
 */
struct ilio_fetch {
	ilio_loc_t loc;
	ilio_cid_t cid;
	u64 hash;
};

/**
 * struct ilio_store_ops - what a store does for the core
 *
 * Write path, in this order, all with the lock held and without dropping
 * it in between:
 *
 * @reserve: make room for a record of @len payload bytes (0: none) and
 *	@nents map changes, at reserve @level (ILIO_LEVEL_*).  The only
 *	write-path op that may fail: afterwards @append and @log_map for
 *	that much cannot.  Must not sleep on I/O.  Returns 0; -ENOSPC (the
 *	store is full of live data); -EAGAIN (unwritten data must be
 *	written back first) or -ENOMEM (memory must be waited for): the
 *	caller drops the lock and relieves (ilio_core_relieve()); -EIO after
 *	a backend error or after the store found its state corrupt;
 *	-EROFS read-only.
 * @append: store @payload for @cid; returns its location.
 * @log_map: optional; record that @lba now maps to @cid (0: unmapped).
 * @after_write: optional; after an update, set *@sync when the writer must
 *	write back itself (unlocked, through @writeback), *@kick when
 *	write-back should start in another context (through @kick).
 *
 * Space and memory, lock held:
 *
 * @make_room: make @bytes of metadata allocation fit the RAM budget
 *	(compaction, cache eviction, sealing for write-back).  Returns 0,
 *	-ENOSPC, or -EAGAIN/-ENOMEM as @reserve.
 * @release: a reader or comparer unpinned segment @seg: the store may
 *	now drop what it kept for it.  Must not block.
 * @set_ram_limit: change the budget to @bytes; on success the space's
 *	ram_limit is @bytes.  Returns 0, -ENOSPC (below what is in use),
 *	-EINVAL, -ENOMEM.
 * @grow: optional, unlocked, may sleep and write; no I/O is in flight.
 *	Grow the logical size to @nr_blocks (through
 *	__ilio_store_grow_map()) and join whole segments of a backing
 *	device of @dev_bytes that lie beyond the store; make both durable.
 *	Returns 0 or a negative errno with *@why set.  Without it the core
 *	grows the map alone.
 * @stats: fill the store's gauges into @out.
 *
 * The RAM a store holds for itself is charged through the space's
 * store_bytes, which the store keeps equal to what it holds (the
 * persistent store sets it when it allocates its tables at open).
 *
 * Reading a chunk whose segment has no RAM buffer - required of a store
 * whose segments can lack one (the persistent store); a RAM store has
 * none, and the core treats a call it would need as an inconsistency:
 *
 * @peek: lock held, shared or not, must not block: the clean cached
 *	payload of @cid, or NULL.  It changes nothing but the entry's
 *	reference bit (the hit is applied to the cache's queues later).
 * @load: unlocked, the caller pinned @loc's segment; may sleep (reads
 *	the device), and checks what it read against @cid and @hash.
 *	Returns 0 or -EIO.  What @peek finds is served from it instead.
 * @load_locked: for the consistency check only: like @load, but with the
 *	lock held, and it may read the device under it.
 * @prefetch: optional; unlocked, the caller pinned the one segment that
 *	holds all @n chunks of @f; may sleep.  Reads the blocks that hold
 *	them with one device read when they lie close together (at most
 *	ILIO_FETCH_SPAN bytes), checks each record as @load does, and caches
 *	those still live there.  Returns how many it cached (0 when it did
 *	not read), or -EIO when the read failed; a chunk it did not cache is
 *	left to @load.
 *
 * Background and control, unlocked, may sleep; each optional (a RAM store
 * has nothing to write back or flush):
 *
 * @writeback: write every closed unit to the device; returns 0 or the
 *	sticky error.
 * @kick: lockless, must not block; ask for @writeback to run soon in
 *	another context (the backend's kick).
 * @flush: make every completed update durable; returns 0 or -EIO.
 * @reclaim: a writer found the store full: clean some now; 0 when space
 *	was freed.
 * @compact: reclaim up to @max mostly dead segments now; returns how many.
 * @gc: clean up to @max segments; returns how many, or a negative errno.
 * @checkpoint: write a checkpoint; 0 or a negative errno.
 * @tick: periodic background work.
 * @quiesce: write everything back and checkpoint if needed (suspend).
 * @error: lockless; the store's sticky error, 0 while healthy:
 *	-EUCLEAN when it found its own state corrupt (nothing it holds can
 *	be trusted: the core enters fail mode), any other errno for a
 *	backend write failure (reads are still served: read-only mode).
 * @read_only: lockless; the store was opened read-only.
 * @used_fallback: lockless; recovery used the older anchor.
 * @set_coalesce: change the coalescing policy (lock held).
 * @load_classes: optional (persistent stores); called once by the core
 *	right after open, before the store is shared: fill the empty map
 *	@m from the device, lowering its limit to what the store can save.
 *	Returns 0 (a damaged or absent saved map is an empty one, with the
 *	reason in *@why, else NULL) or -ENOMEM.
 * @pack_classes: optional, with @load_classes; lock held for writing:
 *	encode @m for the next @save_classes.
 * @save_classes: optional, with @load_classes; no lock held, may sleep,
 *	serialised by the caller: write what @pack_classes encoded so that
 *	it is durable.  Returns 0, -EROFS (store opened read-only) or -EIO
 *	(the saved map is the previous one).
 *
 * @destroy: free the store's own state (no I/O; no call may be in
 *	progress); the leaves in the space are the core's to free
 *	(ilio_space_exit()).
 */
struct ilio_store_ops {
	int (*reserve)(struct ilio_store *st, u32 len, u32 nents, int level);
	ilio_loc_t (*append)(struct ilio_store *st, ilio_cid_t cid,
			     const void *payload, u32 len, bool lz4);
	void (*log_map)(struct ilio_store *st, ilio_lba_t lba, ilio_cid_t cid);
	void (*after_write)(struct ilio_store *st, bool *sync, bool *kick);

	int (*make_room)(struct ilio_store *st, u64 bytes);
	void (*release)(struct ilio_store *st, u32 seg);
	int (*set_ram_limit)(struct ilio_store *st, u64 bytes);
	int (*grow)(struct ilio_store *st, u64 nr_blocks, u64 dev_bytes,
		    const char **why);
	void (*stats)(struct ilio_store *st, struct ilio_stats *out);

	const u8 *(*peek)(struct ilio_store *st, ilio_cid_t cid);
	int (*load)(struct ilio_store *st, ilio_loc_t loc, ilio_cid_t cid,
		    u64 hash, void *block);
	int (*load_locked)(struct ilio_store *st, ilio_loc_t loc,
			   ilio_cid_t cid, void *block);
	int (*prefetch)(struct ilio_store *st, const struct ilio_fetch *f,
			unsigned int n);

	int (*writeback)(struct ilio_store *st);
	void (*kick)(struct ilio_store *st);
	int (*flush)(struct ilio_store *st);
	int (*reclaim)(struct ilio_store *st);
	int (*compact)(struct ilio_store *st, unsigned int max);
	int (*gc)(struct ilio_store *st, unsigned int max);
	int (*checkpoint)(struct ilio_store *st);
	void (*tick)(struct ilio_store *st);
	int (*quiesce)(struct ilio_store *st);
	int (*error)(struct ilio_store *st);
	bool (*read_only)(struct ilio_store *st);
	bool (*used_fallback)(struct ilio_store *st);
	void (*set_coalesce)(struct ilio_store *st, int coalesce,
			     u32 flush_interval_ms, u64 max_dirty);
	int (*load_classes)(struct ilio_store *st, struct ilio_classmap *m,
			    const char **why);
	void (*pack_classes)(struct ilio_store *st,
			     const struct ilio_classmap *m);
	int (*save_classes)(struct ilio_store *st);

	void (*destroy)(struct ilio_store *st);
};

/**
 * struct ilio_store - the part of every store that the core sees
 * @ops: what it does
 * @sp: the space it works on (the core's)
 * @persistent: it has a backing device
 */
struct ilio_store {
	const struct ilio_store_ops *ops;
	struct ilio_space *sp;
	bool persistent;
};

/**
 * struct ilio_store_type - how a store comes to be
 * @name: for messages
 * @open: build the store on @sp, which ilio_space_init() set up for @p;
 *	a persistent store recovers into it (and may re-initialise it to
 *	try an older anchor).  Returns the store, or NULL with *@err set
 *	and *@why a static string for the admin, or NULL when the errno says
 *	it all; @sp is then still initialised and the caller exits it.
 */
struct ilio_store_type {
	const char *name;
	struct ilio_store *(*open)(struct ilio_space *sp,
				   const struct ilio_core_params *p, int *err,
				   const char **why);
	int (*precheck)(const struct ilio_core_params *p, const char **why);
};

int __ilio_store_grow_map(struct ilio_store *st, u64 nr_blocks,
			  const char **why);

extern const struct ilio_store_type ilio_ram_store;
extern const struct ilio_store_type ilio_log_store;

#endif /* ILIO_STORE_H */
