/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-common: what every layer of the portable core shares, and nothing
 * else - the allocation flags of the I/O path.
 */
#ifndef ILIO_COMMON_H
#define ILIO_COMMON_H

#include <linux/gfp.h>

/*
 * Allocations on the I/O path, under the store lock: no I/O recursion (we
 * may be the swap device), no retry loops and no warnings.  A failure
 * falls back to a reserve (segment buffer, map and chunk leaf), and else
 * is -ENOMEM to the write path, which drops the lock, refills the reserve
 * with ILIO_GFP_WAIT (the allocator may reclaim and retry), or waits, and
 * tries again: transient pressure delays a write, it never fails it.
 */
#define ILIO_GFP		(GFP_NOIO | __GFP_NORETRY | __GFP_NOWARN)
#define ILIO_GFP_WAIT		(GFP_NOIO | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

#endif /* ILIO_COMMON_H */
