// SPDX-License-Identifier: GPL-2.0
/* membe: in-memory backing device for the userspace core (see membe.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membe.h"

static void membe_bug(const char *what, u64 pos, u64 len, u64 size)
{
	fprintf(stderr, "membe: %s at %llu len %llu outside a %llu-byte device\n",
		what, (unsigned long long)pos, (unsigned long long)len,
		(unsigned long long)size);
	abort();
}

static int membe_read(void *priv, u64 pos, void *buf, u32 len)
{
	struct membe *m = priv;

	if (pos > m->size || len > m->size - pos)
		membe_bug("read", pos, len, m->size);
	m->reads++;
	memcpy(buf, m->img + pos, len);
	return 0;
}

static int membe_write(void *priv, u64 pos, const void *buf, u32 len)
{
	struct membe *m = priv;

	if (m->read_only)
		membe_bug("write on a read-only open", pos, len, m->size);
	if (pos > m->size || len > m->size - pos)
		membe_bug("write", pos, len, m->size);
	m->writes++;
	memcpy(m->img + pos, buf, len);
	return 0;
}

static int membe_flush(void *priv)
{
	struct membe *m = priv;

	if (m->read_only)
		membe_bug("flush on a read-only open", 0, 0, m->size);
	return 0;
}

static int membe_discard(void *priv, u64 pos, u64 len)
{
	struct membe *m = priv;

	if (m->read_only)
		membe_bug("discard on a read-only open", pos, len, m->size);
	if (pos > m->size || len > m->size - pos)
		membe_bug("discard", pos, len, m->size);
	return 0;	/* like a device that ignores discards: data stays */
}

const struct ilio_backend_ops membe_ops = {
	.read = membe_read,
	.write = membe_write,
	.flush = membe_flush,
	.discard = membe_discard,
};
