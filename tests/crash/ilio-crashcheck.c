// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-crashcheck - crash-consistency checker for dm-ilio (tests/crash/).
 *
 * A workload writes 4 KiB blocks whose content names where and when they
 * were written, and keeps an append-only record of every operation and of
 * every completed flush. dm-log-writes under ilio's backing device logs what
 * reached that device; replaying the log to any point gives a disk image a
 * power cut could have left. The verifier then checks the device that ilio
 * recovers from that image against the record.
 *
 * Subcommands (run without arguments for the full usage):
 *   workload DEV ...    write, flush, mark; write the record
 *   verify DEV ...      check a device against the record at flush K
 *   list LOGDEV         print a dm-log-writes log
 *   replay LOGDEV TGT   replay (part of) a log onto TGT
 *   plan LOGDEV ...     the replay points of a log, with flush and op bounds
 *   step LOGDEV TGT ... replay + create a dm device + verify + remove, at once
 *   inject DEV ...      write one stale block (negative control)
 *
 * DOC: block content
 * Every data block starts with a 64-byte header {magic, lba, version, seed,
 * crc32 of the whole block with the crc field zero}; the 4032 bytes after it
 * are generated from (lba, version, seed): 64-byte random runs alternating
 * with 64-byte runs of one repeated 8-byte word, so lz4 saves about half.
 * A unique write of op i at lba L has version i. A "pool" write copies one of
 * a few shared blocks (header lba = ILIO_CC_POOL_LBA, version = pool index)
 * exactly, so that dedup sees whole-block duplicates; the record says which
 * pool block went where. Zero writes write zeroes; discards (BLKDISCARD,
 * 4 KiB) read back as zeroes. Never-written blocks are zero.
 *
 * DOC: record file (text, append-only, one line per event)
 *   ilio-crashcheck-record 1 blocks=N seed=S pool=P
 *   o IDX LBA KIND     op IDX (0, 1, ...) issued at LBA; KIND is U (unique,
 *                      version IDX), P<i> (pool block i), Z (zeroes) or D
 *                      (discard). Written before the op is issued.
 *   f K NOPS           flush K (1, 2, ...) returned: ops < NOPS are durable.
 *                      Written after fdatasync() returned, before the mark.
 *   h NOPS CMD         a hook command ran after NOPS ops; a --durable-at
 *                      hook is followed by an f line (it counts as a flush)
 *
 * DOC: what verify accepts
 * With D = NOPS of flush K (0 for K = 0) and J = --upto-op (default: every
 * op in the record), each LBA < N must hold either the value of the last op
 * on it below D (zeroes when there is none), or the value of any op on it in
 * [D, J). Anything else - a stale version, a block written elsewhere, bytes
 * nobody wrote - is a mismatch.
 *
 * Exit status: 0 success (verify: all blocks allowed), 1 failure (verify:
 * some block is not), 2 bad usage.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* Kernel spellings that checkpatch asks for; userspace headers lack them. */
#define cc_attr(x)		__attribute__(x)
#define __printf(a, b)		cc_attr((format(printf, a, b)))
#define __noreturn		cc_attr((noreturn))
#define BIT(n)			(1u << (n))
#define U64_MAX			(~0ULL)
typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;

#define CC_BS		4096u
#define CC_HDR_BYTES	64u
#define CC_MAGIC	0x6b63686373617263ULL	/* "crashchk" little-endian */
#define CC_POOL_LBA	U64_MAX
#define CC_POOL_MAX	64u
#define CC_IO_BYTES	BIT(20)

/* dm-log-writes on-disk format (drivers/md/dm-log-writes.c, version 1) */
#define LW_MAGIC	0x6a736677736872ULL
#define LW_VERSION	1ULL
#define LW_FLUSH	BIT(0)
#define LW_FUA		BIT(1)
#define LW_DISCARD	BIT(2)
#define LW_MARK		BIT(3)
#define LW_METADATA	BIT(4)
#define LW_MARK_MAX	512u

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* ------------------------------------------------------------------------ */
/* small helpers */

static const char *cc_prog = "ilio-crashcheck";

static void __printf(1, 2) __noreturn die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cc_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAIL);
}

static void __printf(1, 2) __noreturn usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cc_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun '%s' without arguments for usage.\n", cc_prog);
	exit(EXIT_USAGE);
}

static u64 parse_u64(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || !isdigit((unsigned char)*s))
		usage_err("%s: '%s' is not a number", opt, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		usage_err("%s: '%s' is not a number", opt, s);
	return v;
}

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

static void *xalloc_aligned(size_t n)
{
	void *p;

	if (posix_memalign(&p, 4096, n))
		die("out of memory (%zu bytes)", n);
	memset(p, 0, n);
	return p;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put_le64(u8 *p, u64 v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static u64 get_le64(const u8 *p)
{
	u64 v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void put_le32(u8 *p, u32 v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static u32 get_le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static u64 splitmix64(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u32 crc32_table[256];

static void crc32_init(void)
{
	u32 c, i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc32_table[i] = c;
	}
}

static u32 crc32_buf(const u8 *p, size_t n)
{
	u32 c = 0xffffffffu;

	while (n--)
		c = crc32_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* pread/pwrite the whole range or die */
static void xpread(int fd, void *buf, size_t n, u64 off, const char *what)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pread(fd, (char *)buf + done, n - done, off + done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("%s: read of %zu bytes at %llu failed: %s",
			    what, n - done, off + done, strerror(errno));
		if (r == 0)
			die("%s: unexpected end of device at %llu", what, off + done);
		done += r;
	}
}

static void xpwrite(int fd, const void *buf, size_t n, u64 off, const char *what)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pwrite(fd, (const char *)buf + done, n - done, off + done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("%s: write of %zu bytes at %llu failed: %s",
			    what, n - done, off + done, r < 0 ? strerror(errno) : "short write");
		done += r;
	}
}

/* Size in bytes of a block device or regular file. */
static u64 fd_size(int fd, const char *what)
{
	struct stat st;
	u64 sz;

	if (fstat(fd, &st))
		die("%s: stat: %s", what, strerror(errno));
	if (S_ISREG(st.st_mode))
		return st.st_size;
	if (!S_ISBLK(st.st_mode))
		die("%s: not a block device or regular file", what);
	if (ioctl(fd, BLKGETSIZE64, &sz))
		die("%s: BLKGETSIZE64: %s", what, strerror(errno));
	return sz;
}

/*
 * Open with O_DIRECT when the file system allows it (block devices always
 * do; tmpfs files do not, and then page-cache I/O plus fsync is used).
 */
static int open_dev(const char *path, int flags)
{
	int fd = open(path, flags | O_DIRECT | O_CLOEXEC);

	if (fd < 0 && errno == EINVAL)
		fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		die("%s: open: %s", path, strerror(errno));
	return fd;
}

/* ------------------------------------------------------------------------ */
/* block content */

/* Fill buf (CC_BS bytes) with the content of (lba, version, seed). */
static void gen_block(u8 *buf, u64 lba, u64 version, u64 seed)
{
	u64 s = seed ^ (lba * 0xd1342543de82ef95ULL) ^ (version * 0x9fb21c651e98df25ULL);
	u64 w;
	unsigned int off, i;

	memset(buf, 0, CC_HDR_BYTES);
	put_le64(buf + 0, CC_MAGIC);
	put_le64(buf + 8, lba);
	put_le64(buf + 16, version);
	put_le64(buf + 24, seed);
	for (off = CC_HDR_BYTES; off < CC_BS; off += 64) {
		if ((off / 64) & 1) {
			for (i = 0; i < 64; i += 8)
				put_le64(buf + off + i, splitmix64(&s));
		} else {
			w = splitmix64(&s);
			for (i = 0; i < 64; i += 8)
				put_le64(buf + off + i, w);
		}
	}
	put_le32(buf + 32, crc32_buf(buf, CC_BS));
}

enum cc_class {
	CC_ZERO,	/* all zeroes */
	CC_DATA,	/* a block this tool generated, byte for byte */
	CC_BADDATA,	/* our header, but the block is not what it says */
	CC_GARBAGE,	/* nothing we wrote */
};

struct cc_found {
	enum cc_class cls;
	u64 lba;		/* from the header (CC_DATA/CC_BADDATA) */
	u64 version;
	u64 seed;
};

static bool all_zero(const u8 *p, size_t n)
{
	const u64 *q = (const u64 *)p;
	size_t i;

	for (i = 0; i < n / 8; i++)
		if (q[i])
			return false;
	return true;
}

static void classify(const u8 *buf, struct cc_found *f, u8 *scratch)
{
	memset(f, 0, sizeof(*f));
	if (all_zero(buf, CC_BS)) {
		f->cls = CC_ZERO;
		return;
	}
	if (get_le64(buf) != CC_MAGIC) {
		f->cls = CC_GARBAGE;
		return;
	}
	f->lba = get_le64(buf + 8);
	f->version = get_le64(buf + 16);
	f->seed = get_le64(buf + 24);
	gen_block(scratch, f->lba, f->version, f->seed);
	f->cls = memcmp(scratch, buf, CC_BS) ? CC_BADDATA : CC_DATA;
}

/* ------------------------------------------------------------------------ */
/* the record */

enum { K_UNIQUE, K_POOL, K_ZERO, K_DISCARD };

struct cc_op {
	u64 lba;
	u8 kind;
	u8 pool;
};

struct cc_record {
	u64 blocks, seed;
	unsigned int pool;
	struct cc_op *ops;
	u64 nops, ops_cap;
	u64 *flush;	/* flush[k] = NOPS of flush k; flush[0] = 0 */
	u64 nflush;	/* flushes 1..nflush */
	u64 flush_cap;
};

static const char *kind_name(const struct cc_op *op, char *buf, size_t n)
{
	switch (op->kind) {
	case K_UNIQUE:
		return "unique";
	case K_POOL:
		snprintf(buf, n, "pool#%u", op->pool);
		return buf;
	case K_ZERO:
		return "zeroes";
	default:
		return "discard";
	}
}

static void rec_load(struct cc_record *r, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096], kind[32];
	unsigned long long a, b, c;
	unsigned int pool;
	u64 lineno = 1;
	struct cc_op *op;

	if (!f)
		die("%s: %s", path, strerror(errno));
	memset(r, 0, sizeof(*r));
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "ilio-crashcheck-record 1 blocks=%llu seed=%llu pool=%u",
		   &a, &b, &pool) != 3)
		die("%s: not an ilio-crashcheck record (bad first line)", path);
	r->blocks = a;
	r->seed = b;
	r->pool = pool;
	if (!r->blocks || r->pool > CC_POOL_MAX)
		die("%s: bad header", path);
	r->flush_cap = 64;
	r->flush = xmalloc(r->flush_cap * sizeof(*r->flush));
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		switch (line[0]) {
		case 'o':
			if (sscanf(line, "o %llu %llu %31s", &a, &b, kind) != 3 || a != r->nops ||
			    b >= r->blocks)
				die("%s:%llu: bad op line", path, lineno);
			if (r->nops == r->ops_cap) {
				r->ops_cap = r->ops_cap ? 2 * r->ops_cap : 1024;
				r->ops = realloc(r->ops, r->ops_cap * sizeof(*r->ops));
				if (!r->ops)
					die("out of memory");
			}
			op = &r->ops[r->nops++];
			op->lba = b;
			op->pool = 0;
			if (!strcmp(kind, "U")) {
				op->kind = K_UNIQUE;
			} else if (!strcmp(kind, "Z")) {
				op->kind = K_ZERO;
			} else if (!strcmp(kind, "D")) {
				op->kind = K_DISCARD;
			} else if (kind[0] == 'P' && sscanf(kind + 1, "%u", &pool) == 1 &&
				   pool < r->pool) {
				op->kind = K_POOL;
				op->pool = pool;
			} else {
				die("%s:%llu: bad op kind '%s'", path, lineno, kind);
			}
			break;
		case 'f':
			if (sscanf(line, "f %llu %llu", &a, &c) != 2 || a != r->nflush + 1 ||
			    c > r->nops || c < r->flush[r->nflush])
				die("%s:%llu: bad flush line", path, lineno);
			if (a >= r->flush_cap) {
				r->flush_cap *= 2;
				r->flush = realloc(r->flush, r->flush_cap * sizeof(*r->flush));
				if (!r->flush)
					die("out of memory");
			}
			r->flush[++r->nflush] = c;
			break;
		case 'h':
		case '#':
		case '\n':
			break;
		default:
			die("%s:%llu: unknown line", path, lineno);
		}
	}
	fclose(f);
}

/* ------------------------------------------------------------------------ */
/*
 * dm devices and messages by ioctl, as dmsetup does without udev: in the
 * guest every exec costs ~0.1-0.3 s, and a replay point would otherwise take
 * four of them.
 */

struct dm_req {
	struct dm_ioctl io;
	char data[8192];
};

static int dm_call(unsigned long cmd, const char *name, u32 flags, struct dm_req *req)
{
	int fd, r, err;

	if (strlen(name) >= sizeof(req->io.name))
		die("dm device name too long: %s", name);
	req->io.version[0] = DM_VERSION_MAJOR;
	req->io.version[1] = 0;
	req->io.version[2] = 0;
	req->io.data_size = sizeof(*req);
	req->io.data_start = sizeof(req->io);
	req->io.flags = flags;
	snprintf(req->io.name, sizeof(req->io.name), "%s", name);
	fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/mapper/control: %s", strerror(errno));
	r = ioctl(fd, cmd, req);
	err = errno;
	close(fd);
	errno = err;
	return r;
}

static void dm_node_path(const char *name, char *path, size_t n)
{
	snprintf(path, n, "/dev/mapper/%s", name);
}

/* Remove dm device name (and its node); retries while it is busy. */
static void dm_remove(const char *name)
{
	struct dm_req req;
	char path[300];
	int i;

	for (i = 0; i < 100; i++) {
		memset(&req, 0, sizeof(req));
		if (!dm_call(DM_DEV_REMOVE, name, 0, &req))
			break;
		if (errno != EBUSY)
			die("remove dm device %s: %s", name, strerror(errno));
		usleep(20000);
	}
	if (i == 100)
		die("remove dm device %s: still busy", name);
	dm_node_path(name, path, sizeof(path));
	unlink(path);
}

/*
 * Create dm device name with the one-target table line
 * "START LEN TYPE PARAMS" and make its node /dev/mapper/NAME. Returns 0, or
 * -errno when the kernel refused the table (the device is then removed).
 */
static int dm_create(const char *name, const char *table, bool readonly)
{
	struct dm_target_spec *spec;
	struct dm_req req;
	unsigned long long start, len;
	char type[sizeof(spec->target_type)], path[300];
	u64 dev;
	int used = 0, err;

	if (sscanf(table, "%llu %llu %15s %n", &start, &len, type, &used) != 3 || !used)
		usage_err("--table: expected 'START LEN TYPE ARGS...', got '%s'", table);
	if (strlen(table + used) + 1 > sizeof(req.data) - sizeof(*spec))
		usage_err("--table: too long");
	memset(&req, 0, sizeof(req));
	if (dm_call(DM_DEV_CREATE, name, 0, &req))
		die("create dm device %s: %s", name, strerror(errno));
	dev = req.io.dev;

	memset(&req, 0, sizeof(req));
	spec = (struct dm_target_spec *)req.data;
	spec->sector_start = start;
	spec->length = len;
	snprintf(spec->target_type, sizeof(spec->target_type), "%s", type);
	strcpy((char *)(spec + 1), table + used);
	spec->next = 0;
	req.io.target_count = 1;
	if (dm_call(DM_TABLE_LOAD, name, readonly ? DM_READONLY_FLAG : 0, &req))
		goto refused;
	memset(&req, 0, sizeof(req));
	if (dm_call(DM_DEV_SUSPEND, name, 0, &req))	/* no SUSPEND flag: resume */
		goto refused;

	dm_node_path(name, path, sizeof(path));
	unlink(path);
	if (mknod(path, S_IFBLK | 0600, makedev(major(dev), minor(dev))))
		die("mknod %s: %s", path, strerror(errno));
	return 0;
refused:
	err = errno;
	memset(&req, 0, sizeof(req));
	dm_call(DM_DEV_REMOVE, name, 0, &req);
	return -err;
}

/* Send a target message (e.g. "mark f3") to dm device name. */
static void dm_message(const char *name, const char *msg)
{
	struct dm_req req;
	struct dm_target_msg *tm = (struct dm_target_msg *)req.data;

	memset(&req, 0, sizeof(req));
	if (strlen(msg) + 1 > sizeof(req.data) - sizeof(*tm))
		die("dm message too long");
	tm->sector = 0;
	strcpy(tm->message, msg);
	if (dm_call(DM_TARGET_MSG, name, 0, &req))
		die("dm message '%s' to %s failed: %s", msg, name, strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* workload */

struct hook {
	u64 at;
	const char *cmd;
	bool durable;	/* the command makes every acknowledged write durable */
};

static void run_shell(const char *cmd)
{
	int st = system(cmd);

	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st))
		die("command failed (status %d): %s", st, cmd);
}

static void mark_flush(u64 k, const char *mark_cmd, const char *mark_dm)
{
	char name[32], msg[64], cmd[1024];
	const char *p;
	size_t n = 0;

	snprintf(name, sizeof(name), "f%llu", k);
	if (mark_dm) {
		snprintf(msg, sizeof(msg), "mark %s", name);
		dm_message(mark_dm, msg);
	}
	if (!mark_cmd)
		return;
	/* every "%s" becomes the mark name */
	for (p = mark_cmd; *p && n < sizeof(cmd) - sizeof(name); p++) {
		if (p[0] == '%' && p[1] == 's') {
			n += snprintf(cmd + n, sizeof(cmd) - n, "%s", name);
			p++;
		} else {
			cmd[n++] = *p;
		}
	}
	cmd[n] = 0;
	run_shell(cmd);
}

static const char workload_usage[] =
"  workload DEV --blocks N --ops M --seed S --flush-every K --record FILE\n"
"           [--pool P] [--mark-cmd 'CMD %s'] [--mark-dm NAME] [--at OP:CMD]...\n"
"      Write M ops of 4 KiB at LBAs < N of DEV (O_DIRECT): ~63% unique blocks,\n"
"      27% copies of P (default 8) shared pool blocks, 6% zero blocks, 4%\n"
"      discards; half the ops go to the first N/8 blocks. After every K ops\n"
"      (and after the last) fdatasync(), then record the flush and mark it:\n"
"      --mark-cmd runs CMD with %s replaced by the mark name f<k> (k = 1, 2,\n"
"      ...); --mark-dm sends 'mark f<k>' to dm device NAME by ioctl (no fork).\n"
"      --at OP:CMD runs the shell command CMD before op OP (no flush).\n"
"      --durable-at OP:CMD likewise, for a command after which every write\n"
"      acknowledged so far must be durable (dmsetup suspend): it is recorded\n"
"      and marked as the next flush.\n";

static int cmd_workload(int argc, char **argv)
{
	const char *dev = NULL, *recpath = NULL, *mark_cmd = NULL, *mark_dm = NULL;
	u64 blocks = 0, nops = 0, seed = 1, every = 0, pool = 8;
	u64 i, lba, k = 0, cnt[4] = { 0 }, rng, r;
	struct hook hooks[16];
	unsigned int nhooks = 0, h;
	u8 *buf, *zero;
	u64 range[2];
	double t0;
	FILE *rec;
	char *colon;
	int fd, a;
	bool is_file;
	struct stat st;

	for (a = 0; a < argc; a++) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (o[0] != '-') {
			if (dev)
				usage_err("workload: extra argument '%s'", o);
			dev = o;
			continue;
		}
		if (!v)
			usage_err("workload: %s needs a value", o);
		a++;
		if (!strcmp(o, "--blocks")) {
			blocks = parse_u64(o, v);
		} else if (!strcmp(o, "--ops")) {
			nops = parse_u64(o, v);
		} else if (!strcmp(o, "--seed")) {
			seed = parse_u64(o, v);
		} else if (!strcmp(o, "--flush-every")) {
			every = parse_u64(o, v);
		} else if (!strcmp(o, "--pool")) {
			pool = parse_u64(o, v);
		} else if (!strcmp(o, "--record")) {
			recpath = v;
		} else if (!strcmp(o, "--mark-cmd")) {
			mark_cmd = v;
		} else if (!strcmp(o, "--mark-dm")) {
			mark_dm = v;
		} else if (!strcmp(o, "--at") || !strcmp(o, "--durable-at")) {
			colon = strchr(v, ':');
			if (!colon || nhooks == 16)
				usage_err("%s: expected OP:CMD (at most 16 hooks)", o);
			*colon = 0;
			hooks[nhooks].at = parse_u64(o, v);
			hooks[nhooks].durable = !strcmp(o, "--durable-at");
			hooks[nhooks++].cmd = colon + 1;
		} else {
			usage_err("workload: unknown option '%s'", o);
		}
	}
	if (!dev || !recpath || !blocks || !nops || !every)
		usage_err("workload: DEV, --blocks, --ops, --flush-every and --record are required");
	if (pool < 1 || pool > CC_POOL_MAX)
		usage_err("workload: --pool must be 1..%u", CC_POOL_MAX);

	fd = open_dev(dev, O_RDWR);
	if (fd_size(fd, dev) < blocks * CC_BS)
		die("%s: smaller than %llu blocks", dev, blocks);
	if (fstat(fd, &st))
		die("%s: stat: %s", dev, strerror(errno));
	is_file = S_ISREG(st.st_mode);
	rec = fopen(recpath, "w");
	if (!rec)
		die("%s: %s", recpath, strerror(errno));
	fprintf(rec, "ilio-crashcheck-record 1 blocks=%llu seed=%llu pool=%llu\n",
		blocks, seed, pool);
	fflush(rec);

	buf = xalloc_aligned(CC_BS);
	zero = xalloc_aligned(CC_BS);
	rng = seed * 0x2545f4914f6cdd1dULL + 17;
	t0 = now_s();
	for (i = 0; i < nops; i++) {
		for (h = 0; h < nhooks; h++) {
			if (hooks[h].at != i)
				continue;
			fprintf(rec, "h %llu %s\n", i, hooks[h].cmd);
			fflush(rec);
			run_shell(hooks[h].cmd);
			if (!hooks[h].durable)
				continue;
			k++;
			fprintf(rec, "f %llu %llu\n", k, i);
			fflush(rec);
			mark_flush(k, mark_cmd, mark_dm);
		}
		r = splitmix64(&rng);
		lba = (r & 1) ? (r >> 8) % (blocks / 8 ? blocks / 8 : 1) : (r >> 8) % blocks;
		r = splitmix64(&rng) % 100;
		if (r < 4) {
			fprintf(rec, "o %llu %llu D\n", i, lba);
			fflush(rec);
			if (is_file) {
				if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					      lba * CC_BS, CC_BS))
					die("%s: punch hole: %s", dev, strerror(errno));
			} else {
				range[0] = lba * CC_BS;
				range[1] = CC_BS;
				if (ioctl(fd, BLKDISCARD, range))
					die("%s: BLKDISCARD at lba %llu: %s", dev, lba,
					    strerror(errno));
			}
			cnt[K_DISCARD]++;
			goto flush;
		}
		if (r < 10) {
			fprintf(rec, "o %llu %llu Z\n", i, lba);
			memcpy(buf, zero, CC_BS);
			cnt[K_ZERO]++;
		} else if (r < 37) {
			unsigned int p = splitmix64(&rng) % pool;

			fprintf(rec, "o %llu %llu P%u\n", i, lba, p);
			gen_block(buf, CC_POOL_LBA, p, seed);
			cnt[K_POOL]++;
		} else {
			fprintf(rec, "o %llu %llu U\n", i, lba);
			gen_block(buf, lba, i, seed);
			cnt[K_UNIQUE]++;
		}
		fflush(rec);
		xpwrite(fd, buf, CC_BS, lba * CC_BS, dev);
flush:
		if ((i + 1) % every && i + 1 != nops)
			continue;
		if (fdatasync(fd))
			die("%s: fdatasync after op %llu: %s", dev, i, strerror(errno));
		k++;
		fprintf(rec, "f %llu %llu\n", k, i + 1);
		if (fflush(rec))
			die("%s: %s", recpath, strerror(errno));
		mark_flush(k, mark_cmd, mark_dm);
	}
	if (fclose(rec))
		die("%s: %s", recpath, strerror(errno));
	close(fd);
	printf("workload: %llu ops (%llu unique, %llu pool, %llu zero, %llu discard), ",
	       nops, cnt[K_UNIQUE], cnt[K_POOL], cnt[K_ZERO], cnt[K_DISCARD]);
	printf("%llu flushes, %u hooks, %.1f s\n", k, nhooks, now_s() - t0);
	free(buf);
	free(zero);
	return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* verify */

/* Per-LBA view of the record for one (flush, upto) pair. */
struct cc_view {
	const struct cc_record *r;
	u64 durable;	/* ops < durable are covered by the flush */
	u64 upto;		/* ops >= upto were not issued */
	s64 *last;		/* last op below durable per LBA, -1: none */
	s64 *first_later;	/* first op in [durable, upto) per LBA, -1: none */
	s64 *next;		/* next op on the same LBA, -1: none */
};

static void view_build(struct cc_view *v, const struct cc_record *r, u64 durable,
		       u64 upto)
{
	s64 *tail;
	u64 i, lba;

	v->r = r;
	v->durable = durable;
	v->upto = upto;
	v->last = xmalloc(r->blocks * sizeof(s64));
	v->first_later = xmalloc(r->blocks * sizeof(s64));
	v->next = xmalloc((r->nops + 1) * sizeof(s64));
	tail = xmalloc(r->blocks * sizeof(s64));
	for (lba = 0; lba < r->blocks; lba++) {
		v->last[lba] = -1;
		v->first_later[lba] = -1;
		tail[lba] = -1;
	}
	for (i = 0; i < upto; i++) {
		lba = r->ops[i].lba;
		v->next[i] = -1;
		if (i < durable) {
			v->last[lba] = i;
			continue;
		}
		if (tail[lba] < 0)
			v->first_later[lba] = i;
		else
			v->next[tail[lba]] = i;
		tail[lba] = i;
	}
	free(tail);
}

static void view_free(struct cc_view *v)
{
	free(v->last);
	free(v->first_later);
	free(v->next);
}

/* Does op i's value equal what was found? */
static bool op_matches(const struct cc_record *r, u64 i, const struct cc_found *f,
		       u64 lba)
{
	const struct cc_op *op = &r->ops[i];

	switch (op->kind) {
	case K_ZERO:
	case K_DISCARD:
		return f->cls == CC_ZERO;
	case K_POOL:
		return f->cls == CC_DATA && f->seed == r->seed && f->lba == CC_POOL_LBA &&
		       f->version == op->pool;
	default:
		return f->cls == CC_DATA && f->seed == r->seed && f->lba == lba &&
		       f->version == i;
	}
}

static bool view_allows(const struct cc_view *v, u64 lba, const struct cc_found *f)
{
	s64 i = v->last[lba];

	if (i < 0) {
		if (f->cls == CC_ZERO)
			return true;
	} else if (op_matches(v->r, i, f, lba)) {
		return true;
	}
	for (i = v->first_later[lba]; i >= 0; i = v->next[i])
		if (op_matches(v->r, i, f, lba))
			return true;
	return false;
}

static void describe_found(const struct cc_view *v, u64 lba, const struct cc_found *f,
			   char *out, size_t n)
{
	const struct cc_record *r = v->r;
	const struct cc_op *op;

	switch (f->cls) {
	case CC_ZERO:
		snprintf(out, n, "zeroes");
		return;
	case CC_GARBAGE:
		snprintf(out, n, "bytes this tool never writes (no header)");
		return;
	case CC_BADDATA:
		snprintf(out, n, "a damaged block (header: lba %llu version %llu; body differs)",
			 f->lba, f->version);
		return;
	default:
		break;
	}
	if (f->seed != r->seed) {
		snprintf(out, n, "a block from another run (seed %llu)", f->seed);
		return;
	}
	if (f->lba == CC_POOL_LBA) {
		snprintf(out, n, "pool#%llu (never written at this lba in the allowed window)",
			 f->version);
		return;
	}
	if (f->version >= r->nops) {
		snprintf(out, n, "lba %llu op %llu (no such op in the record)",
			 f->lba, f->version);
		return;
	}
	op = &r->ops[f->version];
	if (op->lba != f->lba || op->kind != K_UNIQUE)
		snprintf(out, n, "lba %llu op %llu (the record has no such write)",
			 f->lba, f->version);
	else if (f->lba != lba)
		snprintf(out, n, "the block op %llu wrote to lba %llu (misplaced)",
			 f->version, f->lba);
	else if (f->version < v->durable)
		snprintf(out, n, "op %llu (stale: superseded before the flush)", f->version);
	else
		snprintf(out, n, "op %llu (not issued before op %llu)", f->version,
			 v->upto);
}

static void describe_allowed(const struct cc_view *v, u64 lba, char *out, size_t n)
{
	char kb[32];
	size_t len = 0;
	s64 i = v->last[lba];
	int shown = 0;

	if (i < 0)
		len += snprintf(out + len, n - len, "zeroes (never written before the flush)");
	else
		len += snprintf(out + len, n - len, "op %lld %s (durable)", i,
				kind_name(&v->r->ops[i], kb, sizeof(kb)));
	for (i = v->first_later[lba]; i >= 0 && len < n; i = v->next[i]) {
		if (++shown > 6) {
			len += snprintf(out + len, n - len, ", ...");
			break;
		}
		len += snprintf(out + len, n - len, ", op %lld %s", i,
				kind_name(&v->r->ops[i], kb, sizeof(kb)));
	}
}

static const char verify_usage[] =
"  verify DEV --record FILE --flush K [--upto-op J] [--max-report R]\n"
"      Every LBA < N of DEV must hold the value of the last op on it before\n"
"      flush K (zeroes if none; K = 0: nothing is durable), or the value of\n"
"      any later op below J (default: all ops in the record). Prints the\n"
"      first R (default 8) mismatches; exit 1 if there is any.\n";

/*
 * Check dev against the record at flush (ops < upto issued); print the first
 * maxrep mismatches and a summary line. Returns the number of mismatches.
 */
static u64 verify_dev(const char *dev, const struct cc_record *r, u64 flush, u64 upto,
		      u64 maxrep)
{
	u64 lba, off, chunk, bad = 0, nzero = 0, ndata = 0, fixed = 0;
	struct cc_view v;
	struct cc_found f;
	u8 *buf, *scratch;
	char fdesc[256], adesc[512];
	double t0 = now_s();
	int fd;

	view_build(&v, r, r->flush[flush], upto);
	fd = open_dev(dev, O_RDONLY);
	if (fd_size(fd, dev) < r->blocks * CC_BS)
		die("%s: smaller than %llu blocks", dev, r->blocks);
	buf = xalloc_aligned(CC_IO_BYTES);
	scratch = xalloc_aligned(CC_BS);
	for (off = 0; off < r->blocks * CC_BS; off += chunk) {
		chunk = r->blocks * CC_BS - off;
		if (chunk > CC_IO_BYTES)
			chunk = CC_IO_BYTES;
		xpread(fd, buf, chunk, off, dev);
		for (lba = off / CC_BS; lba < (off + chunk) / CC_BS; lba++) {
			classify(buf + (lba * CC_BS - off), &f, scratch);
			if (f.cls == CC_ZERO)
				nzero++;
			else if (f.cls == CC_DATA)
				ndata++;
			if (v.first_later[lba] < 0)
				fixed++;
			if (view_allows(&v, lba, &f))
				continue;
			if (bad++ < maxrep) {
				describe_found(&v, lba, &f, fdesc, sizeof(fdesc));
				describe_allowed(&v, lba, adesc, sizeof(adesc));
				printf("MISMATCH lba %llu: found %s; allowed: %s\n", lba,
				       fdesc, adesc);
			}
		}
	}
	close(fd);
	printf("verify %s: flush %llu (ops < %llu durable), ops < %llu issued: ",
	       bad ? "FAIL" : "ok", flush, v.durable, upto);
	printf("%llu blocks (%llu zero, %llu data, %llu with one allowed value), ",
	       r->blocks, nzero, ndata, fixed);
	printf("%llu mismatches, %.2f s\n", bad, now_s() - t0);
	view_free(&v);
	free(buf);
	free(scratch);
	return bad;
}

/* Range checks of --flush/--upto-op against the record; fills in upto. */
static void check_bounds(const char *sub, const struct cc_record *r, u64 flush, u64 *upto)
{
	if (flush > r->nflush)
		usage_err("%s: --flush %llu: the record has %llu flushes", sub, flush, r->nflush);
	if (*upto == U64_MAX)
		*upto = r->nops;
	if (*upto > r->nops || *upto < r->flush[flush])
		usage_err("%s: --upto-op %llu must be in [%llu, %llu]", sub, *upto,
			  r->flush[flush], r->nops);
}

static int cmd_verify(int argc, char **argv)
{
	const char *dev = NULL, *recpath = NULL;
	u64 flush = U64_MAX, upto = U64_MAX, maxrep = 8;
	struct cc_record r;
	int a;

	for (a = 0; a < argc; a++) {
		const char *o = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (o[0] != '-') {
			if (dev)
				usage_err("verify: extra argument '%s'", o);
			dev = o;
			continue;
		}
		if (!val)
			usage_err("verify: %s needs a value", o);
		a++;
		if (!strcmp(o, "--record"))
			recpath = val;
		else if (!strcmp(o, "--flush"))
			flush = parse_u64(o, val);
		else if (!strcmp(o, "--upto-op"))
			upto = parse_u64(o, val);
		else if (!strcmp(o, "--max-report"))
			maxrep = parse_u64(o, val);
		else
			usage_err("verify: unknown option '%s'", o);
	}
	if (!dev || !recpath || flush == U64_MAX)
		usage_err("verify: DEV, --record and --flush are required");
	rec_load(&r, recpath);
	check_bounds("verify", &r, flush, &upto);
	return verify_dev(dev, &r, flush, upto, maxrep) ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* inject: a lost write, for a negative control */

static const char inject_usage[] =
"  inject DEV --record FILE --flush K\n"
"      Negative control: find the highest LBA with a unique write that a\n"
"      later op overwrote before flush K, and write that stale block back.\n"
"      Prints the LBA; verify at flush K must then fail on it.\n";

static int cmd_inject(int argc, char **argv)
{
	const char *dev = NULL, *recpath = NULL;
	u64 flush = U64_MAX, i, lba;
	struct cc_record r;
	s64 *last, *stale;
	u8 *buf;
	int fd, a;

	for (a = 0; a < argc; a++) {
		const char *o = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (o[0] != '-') {
			if (dev)
				usage_err("inject: extra argument '%s'", o);
			dev = o;
			continue;
		}
		if (!val)
			usage_err("inject: %s needs a value", o);
		a++;
		if (!strcmp(o, "--record"))
			recpath = val;
		else if (!strcmp(o, "--flush"))
			flush = parse_u64(o, val);
		else
			usage_err("inject: unknown option '%s'", o);
	}
	if (!dev || !recpath || flush == U64_MAX)
		usage_err("inject: DEV, --record and --flush are required");
	rec_load(&r, recpath);
	if (flush > r.nflush)
		usage_err("inject: --flush %llu: the record has %llu flushes",
			  flush, r.nflush);
	last = xmalloc(r.blocks * sizeof(s64));
	stale = xmalloc(r.blocks * sizeof(s64));
	for (lba = 0; lba < r.blocks; lba++) {
		last[lba] = -1;
		stale[lba] = -1;
	}
	for (i = 0; i < r.flush[flush]; i++) {
		lba = r.ops[i].lba;
		/* a unique block overwritten by anything is stale from then on */
		if (last[lba] >= 0 && r.ops[last[lba]].kind == K_UNIQUE)
			stale[lba] = last[lba];
		last[lba] = i;
	}
	for (lba = r.blocks; lba-- > 0;)
		if (stale[lba] >= 0 && stale[lba] != last[lba])
			break;
	if (lba == U64_MAX)
		die("inject: no overwritten unique block before flush %llu", flush);
	buf = xalloc_aligned(CC_BS);
	gen_block(buf, lba, stale[lba], r.seed);
	fd = open_dev(dev, O_RDWR);
	xpwrite(fd, buf, CC_BS, lba * CC_BS, dev);
	if (fsync(fd))
		die("%s: fsync: %s", dev, strerror(errno));
	close(fd);
	printf("%llu\n", lba);
	fprintf(stderr, "inject: lba %llu <- stale op %lld (overwritten by op %lld",
		lba, stale[lba], last[lba]);
	fprintf(stderr, " before flush %llu)\n", flush);
	free(buf);
	free(last);
	free(stale);
	return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* dm-log-writes log */

struct lw_entry {
	u64 index;
	u64 offset;	/* byte offset of the entry header in the log */
	u64 sector;	/* in units of the log's sectorsize */
	u64 nr_sectors;
	u64 flags;
	u64 data_len;
	char mark[LW_MARK_MAX];
};

struct lw_log {
	const char *path;
	int fd;
	u64 size;
	u64 nr_entries;
	u32 sectorsize;
	u8 *hdr;		/* one sectorsize block, aligned */
	u64 next_index;
	u64 next_offset;
};

static void lw_open(struct lw_log *l, const char *path)
{
	u8 *sb;

	memset(l, 0, sizeof(*l));
	l->path = path;
	l->fd = open_dev(path, O_RDONLY);
	l->size = fd_size(l->fd, path);
	sb = xalloc_aligned(4096);
	if (l->size < 4096)
		die("%s: too small for a dm-log-writes log", path);
	xpread(l->fd, sb, 4096, 0, path);
	if (get_le64(sb) != LW_MAGIC)
		die("%s: no dm-log-writes superblock (magic %#llx)", path, get_le64(sb));
	if (get_le64(sb + 8) != LW_VERSION)
		die("%s: dm-log-writes version %llu unsupported", path, get_le64(sb + 8));
	l->nr_entries = get_le64(sb + 16);
	l->sectorsize = get_le32(sb + 24);
	if (l->sectorsize < 512 || l->sectorsize > 4096 || (l->sectorsize & (l->sectorsize - 1)))
		die("%s: bad sectorsize %u", path, l->sectorsize);
	free(sb);
	l->hdr = xalloc_aligned(l->sectorsize);
	l->next_index = 0;
	l->next_offset = l->sectorsize;
}

/* Position the reader at entry index (its header at byte offset). */
static void lw_seek(struct lw_log *l, u64 index, u64 offset)
{
	if (offset % l->sectorsize || offset < l->sectorsize)
		usage_err("%s: offset %llu is not an entry boundary", l->path, offset);
	l->next_index = index;
	l->next_offset = offset;
}

/* Read the next entry header; false at the end of the log. */
static bool lw_next(struct lw_log *l, struct lw_entry *e)
{
	u64 len;

	if (l->next_index >= l->nr_entries)
		return false;
	if (l->next_offset + l->sectorsize > l->size)
		die("%s: entry %llu starts past the end of the log", l->path,
		    l->next_index);
	xpread(l->fd, l->hdr, l->sectorsize, l->next_offset, l->path);
	memset(e, 0, sizeof(*e));
	e->index = l->next_index;
	e->offset = l->next_offset;
	e->sector = get_le64(l->hdr);
	e->nr_sectors = get_le64(l->hdr + 8);
	e->flags = get_le64(l->hdr + 16);
	e->data_len = get_le64(l->hdr + 24);
	if (e->flags & ~(u64)(LW_FLUSH | LW_FUA | LW_DISCARD | LW_MARK | LW_METADATA))
		die("%s: entry %llu at %llu: unknown flags %#llx (not an entry?)",
		    l->path, e->index, e->offset, e->flags);
	if (e->flags & LW_MARK) {
		if (e->data_len >= l->sectorsize - 32 || e->data_len >= LW_MARK_MAX)
			die("%s: entry %llu: mark too long", l->path, e->index);
		memcpy(e->mark, l->hdr + 32, e->data_len);
		e->mark[e->data_len] = 0;
	} else if (e->data_len) {
		die("%s: entry %llu: inline data without a mark is unsupported", l->path,
		    e->index);
	}
	len = l->sectorsize;
	if (!(e->flags & LW_DISCARD)) {
		if (e->nr_sectors > l->size / l->sectorsize)
			die("%s: entry %llu: absurd nr_sectors %llu", l->path, e->index,
			    e->nr_sectors);
		len += e->nr_sectors * l->sectorsize;
	}
	l->next_index++;
	l->next_offset += len;
	return true;
}

static void lw_flags_str(u64 flags, char *out, size_t n)
{
	static const char *const names[] = { "FLUSH", "FUA", "DISCARD", "MARK", "META" };
	size_t len = 0;
	unsigned int b;

	out[0] = 0;
	for (b = 0; b < 5; b++)
		if (flags & BIT(b))
			len += snprintf(out + len, n - len, "%s%s", len ? "|" : "", names[b]);
	if (!len)
		snprintf(out, n, "WRITE");
}

static const char list_usage[] =
"  list LOGDEV\n"
"      Print the log: entry index, byte offset of its header, sector,\n"
"      nr_sectors (in the log's sectorsize), flags, mark name.\n";

static int cmd_list(int argc, char **argv)
{
	struct lw_log l;
	struct lw_entry e;
	u64 cnt[5] = { 0 }, bytes = 0;
	char fl[64];
	unsigned int b;

	if (argc != 1 || argv[0][0] == '-')
		usage_err("list: expected LOGDEV");
	lw_open(&l, argv[0]);
	printf("# log %s: %llu entries, sectorsize %u\n", l.path, l.nr_entries,
	       l.sectorsize);
	printf("# entry offset sector nr_sectors flags [mark]\n");
	while (lw_next(&l, &e)) {
		lw_flags_str(e.flags, fl, sizeof(fl));
		printf("%llu %llu %llu %llu %s%s%s\n", e.index,
		       e.offset, e.sector, e.nr_sectors, fl, e.flags & LW_MARK ? " " : "", e.mark);
		for (b = 0; b < 5; b++)
			if (e.flags & BIT(b))
				cnt[b]++;
		if (!(e.flags & (LW_DISCARD | LW_MARK)))
			bytes += e.nr_sectors * l.sectorsize;
	}
	printf("# %llu entries: %llu flush, %llu fua, %llu discard, %llu mark; ",
	       l.nr_entries, cnt[0], cnt[1], cnt[2], cnt[3]);
	printf("%llu bytes of data, log ends at %llu\n", bytes, l.next_offset);
	return EXIT_OK;
}

static const char replay_usage[] =
"  replay LOGDEV TARGET (--to-entry N | --to-mark NAME)\n"
"         [--from-entry M [--from-offset B]]\n"
"      Apply entries M..N-1 (M default 0) to TARGET: after it, TARGET holds\n"
"      what the logged device held after N entries, provided it held the\n"
"      state after M entries before (a fresh zeroed TARGET for M = 0).\n"
"      --to-mark: N = (index of the first mark NAME at or after M) + 1.\n"
"      Discards are replayed as zeroes. --from-offset (the byte offset of\n"
"      entry M, as 'list', 'plan' and 'replay' print it) skips reading the\n"
"      headers before M. Prints 'next N OFFSET' for the next call.\n";

struct replay_args {
	const char *logp, *tgtp, *to_mark;
	u64 to, from, from_off;
};

/* One replay option at argv[a]; returns 1 if it was one (its value used). */
static int replay_opt(struct replay_args *ra, const char *o, const char *val)
{
	if (!strcmp(o, "--to-entry"))
		ra->to = parse_u64(o, val);
	else if (!strcmp(o, "--to-mark"))
		ra->to_mark = val;
	else if (!strcmp(o, "--from-entry"))
		ra->from = parse_u64(o, val);
	else if (!strcmp(o, "--from-offset"))
		ra->from_off = parse_u64(o, val);
	else
		return 0;
	return 1;
}

/*
 * Apply entries from..to-1 of the log to the target; prints "next N OFFSET"
 * on stdout and a summary on stderr.
 */
static void replay_run(struct replay_args *ra)
{
	u64 nwr = 0, ndisc = 0, bytes = 0, tsize, pos, len, n, data_off;
	const char *tgtp = ra->tgtp;
	struct lw_log l;
	struct lw_entry e;
	u8 *buf;
	double t0 = now_s();
	bool found = false;
	int tfd;

	if (!ra->logp || !tgtp || !(ra->to == U64_MAX) == !!ra->to_mark)
		usage_err("replay: LOGDEV, TARGET and one of --to-entry/--to-mark are required");
	lw_open(&l, ra->logp);
	if (ra->from > l.nr_entries ||
	    (!ra->to_mark && (ra->to > l.nr_entries || ra->to < ra->from)))
		usage_err("replay: entries %llu..%llu not within the log's %llu",
			  ra->from, ra->to, l.nr_entries);
	if (ra->from_off != U64_MAX) {
		lw_seek(&l, ra->from, ra->from_off);
	} else {
		while (l.next_index < ra->from && lw_next(&l, &e))
			;
	}
	tfd = open_dev(tgtp, O_RDWR);
	tsize = fd_size(tfd, tgtp);
	buf = xalloc_aligned(CC_IO_BYTES);
	while (l.next_index < ra->to && lw_next(&l, &e)) {
		if (e.flags & LW_MARK) {
			if (ra->to_mark && !strcmp(e.mark, ra->to_mark)) {
				ra->to = e.index + 1;
				found = true;
			}
			continue;
		}
		if (!e.nr_sectors)
			continue;
		pos = e.sector * l.sectorsize;
		len = e.nr_sectors * l.sectorsize;
		if (pos + len > tsize || pos + len < pos)
			die("entry %llu: sectors %llu+%llu beyond %s", e.index,
			    e.sector, e.nr_sectors, tgtp);
		if (e.flags & LW_DISCARD) {
			memset(buf, 0, CC_IO_BYTES);
			for (n = 0; n < len; n += CC_IO_BYTES)
				xpwrite(tfd, buf, len - n < CC_IO_BYTES ? len - n : CC_IO_BYTES,
					pos + n, tgtp);
			ndisc++;
			continue;
		}
		data_off = e.offset + l.sectorsize;
		for (n = 0; n < len; n += CC_IO_BYTES) {
			u64 c = len - n < CC_IO_BYTES ? len - n : CC_IO_BYTES;

			xpread(l.fd, buf, c, data_off + n, ra->logp);
			xpwrite(tfd, buf, c, pos + n, tgtp);
		}
		nwr++;
		bytes += len;
	}
	if (ra->to_mark && !found)
		die("replay: no mark '%s' after entry %llu", ra->to_mark, ra->from);
	if (fsync(tfd))
		die("%s: fsync: %s", tgtp, strerror(errno));
	close(tfd);
	close(l.fd);
	free(l.hdr);
	fprintf(stderr, "replay: entries %llu..%llu: %llu writes (%llu bytes), ",
		ra->from, l.next_index, nwr, bytes);
	fprintf(stderr, "%llu discards, %.2f s\n", ndisc, now_s() - t0);
	printf("next %llu %llu\n", l.next_index, l.next_offset);
	free(buf);
}

static int cmd_replay(int argc, char **argv)
{
	struct replay_args ra = { .to = U64_MAX, .from_off = U64_MAX };
	int a;

	for (a = 0; a < argc; a++) {
		const char *o = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (o[0] != '-') {
			if (!ra.logp)
				ra.logp = o;
			else if (!ra.tgtp)
				ra.tgtp = o;
			else
				usage_err("replay: extra argument '%s'", o);
			continue;
		}
		if (!val)
			usage_err("replay: %s needs a value", o);
		a++;
		if (!replay_opt(&ra, o, val))
			usage_err("replay: unknown option '%s'", o);
	}
	replay_run(&ra);
	return EXIT_OK;
}

static const char step_usage[] =
"  step LOGDEV TARGET --from-entry M [--from-offset B] --to-entry N\n"
"       --record FILE --flush K [--upto-op J] --name NAME --table LINE\n"
"       [--readonly] [--keep] [--max-report R]\n"
"      One replay point in one process: replay (as 'replay'), create dm\n"
"      device NAME from the table LINE ('START LEN TYPE ARGS', e.g. '0 32768\n"
"      ilio TARGET 16'), verify /dev/mapper/NAME (as 'verify'), and remove\n"
"      it unless --keep. Exit 0 ok, 1 mismatch, 3 the table was refused.\n";

static int cmd_step(int argc, char **argv)
{
	struct replay_args ra = { .to = U64_MAX, .from_off = U64_MAX };
	const char *recpath = NULL, *name = NULL, *table = NULL;
	u64 flush = U64_MAX, upto = U64_MAX, maxrep = 8, bad;
	bool readonly = false, keep = false;
	struct cc_record r;
	char path[300];
	double t0, t1, t2, t3;
	int a, err;

	for (a = 0; a < argc; a++) {
		const char *o = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (o[0] != '-') {
			if (!ra.logp)
				ra.logp = o;
			else if (!ra.tgtp)
				ra.tgtp = o;
			else
				usage_err("step: extra argument '%s'", o);
			continue;
		}
		if (!strcmp(o, "--readonly")) {
			readonly = true;
			continue;
		}
		if (!strcmp(o, "--keep")) {
			keep = true;
			continue;
		}
		if (!val)
			usage_err("step: %s needs a value", o);
		a++;
		if (replay_opt(&ra, o, val))
			continue;
		if (!strcmp(o, "--record"))
			recpath = val;
		else if (!strcmp(o, "--flush"))
			flush = parse_u64(o, val);
		else if (!strcmp(o, "--upto-op"))
			upto = parse_u64(o, val);
		else if (!strcmp(o, "--max-report"))
			maxrep = parse_u64(o, val);
		else if (!strcmp(o, "--name"))
			name = val;
		else if (!strcmp(o, "--table"))
			table = val;
		else
			usage_err("step: unknown option '%s'", o);
	}
	if (!recpath || flush == U64_MAX || !name || !table || ra.to_mark)
		usage_err("step: --record, --flush, --name, --table and --to-entry are required");
	if (strlen(name) >= DM_NAME_LEN || strchr(name, '/'))
		usage_err("step: bad --name '%s'", name);
	rec_load(&r, recpath);
	check_bounds("step", &r, flush, &upto);

	t0 = now_s();
	replay_run(&ra);
	t1 = now_s();
	err = dm_create(name, table, readonly);
	t2 = now_s();
	if (err) {
		printf("step: entry %llu: the kernel refused the table '%s': %s (see dmesg)\n",
		       ra.to, table, strerror(-err));
		return 3;
	}
	dm_node_path(name, path, sizeof(path));
	bad = verify_dev(path, &r, flush, upto, maxrep);
	t3 = now_s();
	if (!keep)
		dm_remove(name);
	printf("step: %llu entries: replay %.2f s, activate %.2f s, verify %.2f s\n", ra.to,
	       t1 - t0, t2 - t1, t3 - t2);
	return bad ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* plan */

static bool flush_mark(const char *name, u64 *k)
{
	const char *p = name + 1;

	if (name[0] != 'f' || !*p)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	*k = strtoull(name + 1, NULL, 10);
	return true;
}

static const char plan_usage[] =
"  plan LOGDEV --record FILE [--every E] [--start-mark NAME]\n"
"      Print the replay points of the log, one per line:\n"
"        N OFFSET FLUSH UPTO LABEL\n"
"      N entries replayed (OFFSET: where entry N starts), FLUSH: the last\n"
"      mark f<k> among them (0 if none), UPTO: the op count of flush k+1 (all\n"
"      ops if none): nothing later can be in the image. Points: after every\n"
"      mark, every E (default 10) entries, and at the end of the log; from\n"
"      the mark NAME on (default: from the start).\n";

static int cmd_plan(int argc, char **argv)
{
	const char *logp = NULL, *recpath = NULL, *start_mark = NULL;
	u64 every = 10, k = 0, fk, last_point = U64_MAX, npoints = 0, nmarks = 0;
	struct cc_record r;
	struct lw_log l;
	struct lw_entry e;
	bool started;
	int a;

	for (a = 0; a < argc; a++) {
		const char *o = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (o[0] != '-') {
			if (logp)
				usage_err("plan: extra argument '%s'", o);
			logp = o;
			continue;
		}
		if (!val)
			usage_err("plan: %s needs a value", o);
		a++;
		if (!strcmp(o, "--record"))
			recpath = val;
		else if (!strcmp(o, "--every"))
			every = parse_u64(o, val);
		else if (!strcmp(o, "--start-mark"))
			start_mark = val;
		else
			usage_err("plan: unknown option '%s'", o);
	}
	if (!logp || !recpath || !every)
		usage_err("plan: LOGDEV and --record are required; --every must be > 0");
	rec_load(&r, recpath);
	lw_open(&l, logp);
	started = !start_mark;

#define PLAN_POINT(label) do {							\
		if (started && last_point != l.next_index) {			\
			printf("%llu %llu %llu %llu %s\n", \
			       l.next_index, l.next_offset, k,			\
			       k < r.nflush ? r.flush[k + 1] : r.nops, label);	\
			last_point = l.next_index;				\
			npoints++;						\
		}								\
	} while (0)

	while (lw_next(&l, &e)) {
		if (e.flags & LW_MARK) {
			if (flush_mark(e.mark, &fk)) {
				if (fk != k + 1 || fk > r.nflush)
					die("plan: mark %s after f%llu: record has %llu flushes",
					    e.mark, k, r.nflush);
				k = fk;
				nmarks++;
			}
			if (start_mark && !started && !strcmp(e.mark, start_mark))
				started = true;
			PLAN_POINT(e.mark);
			continue;
		}
		if (started && l.next_index % every == 0)
			PLAN_POINT("entry");
	}
	PLAN_POINT("end");
#undef PLAN_POINT
	if (!started)
		die("plan: no mark '%s' in the log", start_mark);
	if (nmarks != r.nflush)
		die("plan: the log has %llu flush marks, the record %llu flushes",
		    nmarks, r.nflush);
	fprintf(stderr, "plan: %llu points over %llu entries, %llu flush marks\n",
		npoints, l.nr_entries, nmarks);
	return EXIT_OK;
}

/* ------------------------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out, "Usage: %s SUBCOMMAND ...\n\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n"
		"Exit status: 0 ok, 1 failure (verify: a mismatch), 2 bad arguments.\n",
		cc_prog, workload_usage, verify_usage, list_usage, replay_usage, plan_usage,
		step_usage, inject_usage);
}

int main(int argc, char **argv)
{
	const char *sub;

	crc32_init();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(sub, "workload"))
		return cmd_workload(argc - 2, argv + 2);
	if (!strcmp(sub, "verify"))
		return cmd_verify(argc - 2, argv + 2);
	if (!strcmp(sub, "list"))
		return cmd_list(argc - 2, argv + 2);
	if (!strcmp(sub, "replay"))
		return cmd_replay(argc - 2, argv + 2);
	if (!strcmp(sub, "plan"))
		return cmd_plan(argc - 2, argv + 2);
	if (!strcmp(sub, "inject"))
		return cmd_inject(argc - 2, argv + 2);
	if (!strcmp(sub, "step"))
		return cmd_step(argc - 2, argv + 2);
	usage_err("unknown subcommand '%s'", sub);
}
