// SPDX-License-Identifier: GPL-2.0
/*
 * status.c - an ilio device's status: the INFO and TABLE lines parsed,
 * the derived ratios, and the device rendered as label/value rows or as
 * JSON (json-c).
 *
 * The INFO fields, their order and their JSON keys come from
 * dm-ilio/ilio-fields.h, which the module's status and sysfs code are
 * generated from as well.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "ilioctl.h"
#include "hints.h"

/* Every value's name (sysfs file, JSON key), from ilio-fields.h. */
const struct ilio_field ilio_fields[ILIO_ST_ALL] = {
	ILIO_ALL_FIELDS(ILIO_FIELD_INFO)
};

/**
 * struct ilio_derived - ratios computed from a status; a has_* flag is false
 * when the ratio is undefined (zero denominator).
 */
struct ilio_derived {
	bool has_dedup;
	double dedup_ratio;		/* logical / unique */
	bool has_compress;
	double compress_ratio;		/* unique / stored */
	bool has_savings;
	double savings_pct;		/* 100 * (1 - stored / logical) */
	bool has_ram;
	double ram_pct;			/* 100 * used / limit */
	bool has_offload;
	double offload_pct;		/* 100 * (1 - backend I/Os / front I/Os) */
	bool has_write_offload;
	double write_offload;		/* front write I/Os / backend write I/Os */
	bool has_read_offload;
	double read_offload_pct;	/* 100 * hits / (hits + misses) */
	bool has_ram_reads;
	double ram_reads_pct;		/* 100 * (1 - backend / front read I/Os) */
	bool has_avg_write;
	double avg_write;		/* backend bytes / I/O, writes */
	bool has_avg_read;
	double avg_read;		/* backend bytes / I/O, reads */
};

/*
 * ilio_token() - copy the next whitespace-separated word of *p into buf and
 * advance *p past it.  Returns the word length, 0 at end of string, or -1
 * if the word does not fit in buf.
 */
int ilio_token(const char **p, char *buf, size_t size)
{
	const char *s = *p, *start;
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	start = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	*p = s;
	len = s - start;
	if (len >= size)
		return -1;
	memcpy(buf, start, len);
	buf[len] = '\0';
	return (int)len;
}

/* Skip leading whitespace. */
const char *ilio_skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/*
 * ilio_parse_status() - parse an INFO status parameter string (what follows
 * the target type): the mode word, then ILIO_ST_NR_V1 counters (older
 * modules, 17 fields in all), ILIO_ST_NR_V2 (23) or ILIO_ST_NR (25), in
 * the order of ILIO_STATUS_FIELDS() (ilio-fields.h).  Fields after the
 * ones we know are ignored.  Returns 0, or -EPROTO if the line has fewer
 * than 17 fields, between 18 and 22, 24, or a malformed one.
 */
int ilio_parse_status(const char *params, struct ilio_status *st)
{
	const char *p = params;
	char tok[32];
	int i, n;

	memset(st->v, 0, sizeof(st->v));
	if (ilio_token(&p, st->mode, sizeof(st->mode)) <= 0)
		return -EPROTO;
	for (i = 0; i < ILIO_ST_NR; i++) {
		n = ilio_token(&p, tok, sizeof(tok));
		/* An older module ends after field 17, or 23. */
		if (n == 0 && (i == ILIO_ST_NR_V1 || i == ILIO_ST_NR_V2))
			break;
		if (n <= 0 || ilio_parse_u64(tok, &st->v[i]))
			return -EPROTO;
	}
	st->nr = i;
	return 0;
}

static void ilio_table_free(struct ilio_table *tb)
{
	free(tb->backing);
	free(tb->features);
	tb->backing = NULL;
	tb->features = NULL;
}

/*
 * ilio_parse_table() - parse a TABLE status parameter string:
 * "<backing|-> <ram_mb> [<#feature_args> <feature_args>...]".  Returns 0,
 * -EPROTO if malformed, or -ENOMEM.
 */
int ilio_parse_table(const char *params, struct ilio_table *tb)
{
	const char *p = params;
	char backing[ILIO_PARAMS_MAX], tok[32];
	unsigned long long nr;

	memset(tb, 0, sizeof(*tb));
	if (ilio_token(&p, backing, sizeof(backing)) <= 0 ||
	    ilio_token(&p, tok, sizeof(tok)) <= 0 ||
	    ilio_parse_u64(tok, &tb->ram_mb))
		return -EPROTO;
	/* The feature count is implied by the pairs that follow it. */
	if (ilio_token(&p, tok, sizeof(tok)) > 0 && ilio_parse_u64(tok, &nr))
		return -EPROTO;

	tb->backing = strdup(backing);
	tb->features = strdup(ilio_skip_space(p));
	if (!tb->backing || !tb->features) {
		ilio_table_free(tb);
		return -ENOMEM;
	}
	return 0;
}

void ilio_dev_release(struct ilio_dev *dev)
{
	if (dev->has_table)
		ilio_table_free(&dev->tb);
	dev->has_table = false;
}

/*
 * ilio_dev_add() - append a zeroed device slot to *devs.  Returns the
 * slot or NULL (out of memory).
 */
struct ilio_dev *ilio_dev_add(struct ilio_dev **devs, size_t *nr,
			      size_t *cap)
{
	struct ilio_dev *p;

	if (*nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;

		p = realloc(*devs, ncap * sizeof(*p));
		if (!p)
			return NULL;
		*devs = p;
		*cap = ncap;
	}
	p = &(*devs)[(*nr)++];
	memset(p, 0, sizeof(*p));
	return p;
}

static bool ilio_dev_diskless(const struct ilio_dev *dev)
{
	return dev->has_table && !strcmp(dev->tb.backing, "-");
}

/* Known to have a backing device (persistent mode)? */
static bool ilio_dev_persistent(const struct ilio_dev *dev)
{
	return dev->has_table && strcmp(dev->tb.backing, "-");
}

/* Known to have a backing device: a persistent device ("list"). */
bool ilio_dev_is_persistent(const struct ilio_dev *dev)
{
	return ilio_dev_persistent(dev);
}

static void ilio_derive(const struct ilio_dev *dev, struct ilio_derived *d);

/*
 * ilio_savings() - what dedup and compression saved together: *ratio =
 * logical / stored, *pct = 100 * (1 - stored / logical).  Returns false
 * (both undefined) while the device holds no data.
 */
bool ilio_savings(const struct ilio_dev *dev, double *ratio, double *pct)
{
	const unsigned long long *v = dev->st.v;
	struct ilio_derived d;

	ilio_derive(dev, &d);
	if (!d.has_savings || !v[ILIO_ST_STORED_BYTES])
		return false;
	*ratio = (double)v[ILIO_ST_LOGICAL_BYTES] / (double)v[ILIO_ST_STORED_BYTES];
	*pct = d.savings_pct;
	return true;
}

static void ilio_derive(const struct ilio_dev *dev, struct ilio_derived *d)
{
	const unsigned long long *v = dev->st.v;
	double front_ios, backend_ios;

	memset(d, 0, sizeof(*d));

	if (v[ILIO_ST_UNIQUE_BYTES]) {
		d->has_dedup = true;
		d->dedup_ratio = (double)v[ILIO_ST_LOGICAL_BYTES] /
				 (double)v[ILIO_ST_UNIQUE_BYTES];
	}
	if (v[ILIO_ST_STORED_BYTES]) {
		d->has_compress = true;
		d->compress_ratio = (double)v[ILIO_ST_UNIQUE_BYTES] /
				    (double)v[ILIO_ST_STORED_BYTES];
	}
	if (v[ILIO_ST_LOGICAL_BYTES]) {
		d->has_savings = true;
		d->savings_pct = 100.0 *
			((double)v[ILIO_ST_LOGICAL_BYTES] -
			 (double)v[ILIO_ST_STORED_BYTES]) /
			(double)v[ILIO_ST_LOGICAL_BYTES];
	}
	if (v[ILIO_ST_RAM_LIMIT_BYTES]) {
		d->has_ram = true;
		d->ram_pct = 100.0 * (double)v[ILIO_ST_RAM_USED_BYTES] /
			     (double)v[ILIO_ST_RAM_LIMIT_BYTES];
	}

	front_ios = (double)v[ILIO_ST_FRONT_READ_IOS] +
		    (double)v[ILIO_ST_FRONT_WRITE_IOS];
	backend_ios = (double)v[ILIO_ST_BACKEND_READ_IOS] +
		      (double)v[ILIO_ST_BACKEND_WRITE_IOS];
	if (ilio_dev_diskless(dev)) {
		/* Nothing can reach a backend that does not exist. */
		d->has_offload = true;
		d->offload_pct = 100.0;
	} else if (front_ios > 0) {
		d->has_offload = true;
		d->offload_pct = 100.0 * (front_ios - backend_ios) / front_ios;
	}

	/*
	 * Persistent mode: how much the RAM tier spares the backend.  Each
	 * is defined by its denominator alone, so a diskless device gets
	 * "RAM-served reads" 100% and the rest undefined.
	 */
	if (v[ILIO_ST_BACKEND_WRITE_IOS]) {
		d->has_write_offload = true;
		d->write_offload = (double)v[ILIO_ST_FRONT_WRITE_IOS] /
				   (double)v[ILIO_ST_BACKEND_WRITE_IOS];
		d->has_avg_write = true;
		d->avg_write = (double)v[ILIO_ST_BACKEND_WRITE_BYTES] /
			       (double)v[ILIO_ST_BACKEND_WRITE_IOS];
	}
	if (v[ILIO_ST_BACKEND_READ_IOS]) {
		d->has_avg_read = true;
		d->avg_read = (double)v[ILIO_ST_BACKEND_READ_BYTES] /
			      (double)v[ILIO_ST_BACKEND_READ_IOS];
	}
	if (v[ILIO_ST_CACHE_HITS] || v[ILIO_ST_CACHE_MISSES]) {
		d->has_read_offload = true;
		d->read_offload_pct = 100.0 * (double)v[ILIO_ST_CACHE_HITS] /
			((double)v[ILIO_ST_CACHE_HITS] +
			 (double)v[ILIO_ST_CACHE_MISSES]);
	}
	if (v[ILIO_ST_FRONT_READ_IOS]) {
		d->has_ram_reads = true;
		d->ram_reads_pct = 100.0 *
			((double)v[ILIO_ST_FRONT_READ_IOS] -
			 (double)v[ILIO_ST_BACKEND_READ_IOS]) /
			(double)v[ILIO_ST_FRONT_READ_IOS];
	}
}

static const char *ilio_fmt_ratio(bool valid, double r, char *buf, size_t size)
{
	if (!valid)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.2fx", r);
	return buf;
}

static const char *ilio_fmt_pct(bool valid, double pct, char *buf, size_t size)
{
	if (!valid)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f%%", pct);
	return buf;
}

/* Write offload: "12.5x". */
static const char *ilio_fmt_times(bool valid, double r, char *buf, size_t size)
{
	if (!valid)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1fx", r);
	return buf;
}

/* An average size in bytes, rounded to whole bytes; "-" if undefined. */
static const char *ilio_fmt_avg(bool valid, double bytes, char *buf, size_t size)
{
	if (!valid)
		snprintf(buf, size, "-");
	else
		ilio_human((unsigned long long)(bytes + 0.5), buf, size);
	return buf;
}

static void ilio_print_io_row(struct ilio_rows *r, const char *label,
			      unsigned long long ios, unsigned long long bytes)
{
	char h[32];

	ilio_row(r, label, "%llu I/Os, %s", ios, ilio_human(bytes, h, sizeof(h)));
}

/*
 * Show status field id in the human output?  Only if the line has it, and
 * not a persistent-only one (ilio-fields.h's scope) on a device known to
 * be diskless, where it is always 0.  JSON keeps every field.
 */
static bool ilio_shown(const struct ilio_dev *dev, int id)
{
	return id < dev->st.nr &&
	       !(ilio_fields[id].persistent && ilio_dev_diskless(dev));
}

/*
 * The per-class statistics table of "hints show" and "status": v holds the values of
 * ILIO_CLASS_FIELDS() in order (ILIO_ST_CLASS(cls, cst) - ILIO_ST_CLASS(0, 0)).
 */
void ilio_print_class_stats(const unsigned long long *v)
{
	char h1[32], h2[32], pct[16];
	int cls;

	printf("%-8s %12s %12s %7s %12s %12s\n", "CLASS", "HITS", "MISSES", "HIT%",
	       "CACHED", "DIRTY");
	for (cls = 0; cls < ILIO_ST_CLASSES; cls++) {
		const unsigned long long *c = v + cls * ILIO_CST_NR;
		unsigned long long reads = c[ILIO_CST_HITS] + c[ILIO_CST_MISSES];

		if (reads)
			snprintf(pct, sizeof(pct), "%.1f%%", 100.0 * c[ILIO_CST_HITS] / reads);
		else
			snprintf(pct, sizeof(pct), "-");
		printf("%-8s %12llu %12llu %7s %12s %12s\n", ilio_hint_class_name(cls),
		       c[ILIO_CST_HITS], c[ILIO_CST_MISSES], pct,
		       ilio_human_binary(c[ILIO_CST_CACHE_BYTES], h1, sizeof(h1)),
		       ilio_human_binary(c[ILIO_CST_DIRTY_BYTES], h2, sizeof(h2)));
	}
}

static void ilio_print_human(const struct ilio_dev *dev)
{
	const unsigned long long *v = dev->st.v;
	struct ilio_derived d;
	char a[32], b[32], c[32];
	struct ilio_rows *r;

	ilio_derive(dev, &d);

	printf("%s\n", dev->name);
	r = ilio_rows_new();
	ilio_row(r, "mode", "%s", dev->st.mode);
	if (dev->has_table) {
		ilio_row(r, "backing", "%s", ilio_dev_diskless(dev) ?
			 "none (diskless)" : dev->tb.backing);
		ilio_row(r, "features", "%s", *dev->tb.features ?
			 dev->tb.features : "-");
	}
	ilio_row(r, "logical size", "%s",
		 ilio_human(dev->len << ILIO_SECTOR_SHIFT, a, sizeof(a)));
	ilio_row(r, "logical data stored", "%s",
		 ilio_human(v[ILIO_ST_LOGICAL_BYTES], a, sizeof(a)));
	ilio_row(r, "unique", "%s", ilio_human(v[ILIO_ST_UNIQUE_BYTES], a, sizeof(a)));
	ilio_row(r, "stored (compressed)", "%s",
		 ilio_human(v[ILIO_ST_STORED_BYTES], a, sizeof(a)));
	ilio_row(r, "dedup ratio", "%s",
		 ilio_fmt_ratio(d.has_dedup, d.dedup_ratio, a, sizeof(a)));
	ilio_row(r, "compression ratio", "%s",
		 ilio_fmt_ratio(d.has_compress, d.compress_ratio, a, sizeof(a)));
	ilio_row(r, "total savings", "%s",
		 ilio_fmt_pct(d.has_savings, d.savings_pct, a, sizeof(a)));
	ilio_row(r, "RAM used / limit", "%s / %s (%s)",
		 ilio_human(v[ILIO_ST_RAM_USED_BYTES], a, sizeof(a)),
		 ilio_human(v[ILIO_ST_RAM_LIMIT_BYTES], b, sizeof(b)),
		 ilio_fmt_pct(d.has_ram, d.ram_pct, c, sizeof(c)));
	if (ilio_shown(dev, ILIO_ST_DIRTY_BYTES))
		ilio_row(r, "dirty", "%s",
			 ilio_human(v[ILIO_ST_DIRTY_BYTES], a, sizeof(a)));
	ilio_row(r, "dedup hits", "%llu", v[ILIO_ST_DEDUP_HITS]);
	if (dev->has_capped)
		ilio_row(r, "dedup capped", "%llu", dev->capped);
	ilio_row(r, "zero blocks", "%llu", v[ILIO_ST_ZERO_BLOCKS]);
	ilio_print_io_row(r, "front reads", v[ILIO_ST_FRONT_READ_IOS],
			  v[ILIO_ST_FRONT_READ_BYTES]);
	ilio_print_io_row(r, "front writes", v[ILIO_ST_FRONT_WRITE_IOS],
			  v[ILIO_ST_FRONT_WRITE_BYTES]);
	ilio_print_io_row(r, "backend reads", v[ILIO_ST_BACKEND_READ_IOS],
			  v[ILIO_ST_BACKEND_READ_BYTES]);
	ilio_print_io_row(r, "backend writes", v[ILIO_ST_BACKEND_WRITE_IOS],
			  v[ILIO_ST_BACKEND_WRITE_BYTES]);
	ilio_row(r, "I/O offload", "%s",
		 ilio_fmt_pct(d.has_offload, d.offload_pct, a, sizeof(a)));
	if (ilio_dev_persistent(dev)) {
		ilio_row(r, "write offload", "%s",
			 ilio_fmt_times(d.has_write_offload, d.write_offload,
					a, sizeof(a)));
		ilio_row(r, "read offload", "%s",
			 ilio_fmt_pct(d.has_read_offload, d.read_offload_pct,
				      a, sizeof(a)));
		ilio_row(r, "RAM-served reads", "%s",
			 ilio_fmt_pct(d.has_ram_reads, d.ram_reads_pct, a,
				      sizeof(a)));
		ilio_row(r, "avg backend write", "%s",
			 ilio_fmt_avg(d.has_avg_write, d.avg_write, a, sizeof(a)));
		ilio_row(r, "avg backend read", "%s",
			 ilio_fmt_avg(d.has_avg_read, d.avg_read, a, sizeof(a)));
	}
	if (ilio_shown(dev, ILIO_ST_CACHE_HITS))
		ilio_row(r, "cache hits / misses", "%llu / %llu",
			 v[ILIO_ST_CACHE_HITS], v[ILIO_ST_CACHE_MISSES]);
	if (ilio_shown(dev, ILIO_ST_FLUSHES))
		ilio_row(r, "flushes", "%llu", v[ILIO_ST_FLUSHES]);
	if (ilio_shown(dev, ILIO_ST_GC_MOVED_BYTES))
		ilio_row(r, "GC moved", "%s",
			 ilio_human(v[ILIO_ST_GC_MOVED_BYTES], a, sizeof(a)));
	if (ilio_shown(dev, ILIO_ST_GC_FREED_SEGMENTS))
		ilio_row(r, "GC freed segments", "%llu",
			 v[ILIO_ST_GC_FREED_SEGMENTS]);
	/* Fields 24 and 25 (zero in diskless mode). */
	if (ilio_shown(dev, ILIO_ST_BACKEND_FREE_BYTES) && v[ILIO_ST_BACKEND_BYTES]) {
		unsigned long long size = v[ILIO_ST_BACKEND_BYTES];
		unsigned long long free = v[ILIO_ST_BACKEND_FREE_BYTES];
		unsigned long long used = free < size ? size - free : 0;

		ilio_row(r, "backend fill", "%s of %s (%.1f%%)",
			 ilio_human(used, a, sizeof(a)), ilio_human(size, b, sizeof(b)),
			 100.0 * (double)used / (double)size);
	}
	ilio_row(r, "ENOSPC errors", "%llu", v[ILIO_ST_NOSPC_ERRORS]);
	ilio_rows_print(r);
	/* Region classes (ilioctl hints): a live persistent device's. */
	if (dev->has_classes)
		ilio_print_class_stats(dev->classes);
}

/*
 * ilio_json_utf8() - a copy of str that is valid UTF-8: each byte that is
 * not part of a valid UTF-8 sequence stands for itself read as Latin-1
 * (U+0080..U+00FF, two bytes).  NULL when out of memory.
 */
static char *ilio_json_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char *out = malloc(2 * strlen(str) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		unsigned char c = *s;
		int n = 0, i;

		if (c < 0x80) {
			*o++ = (char)c;
			s++;
			continue;
		}
		/* Multi-byte UTF-8: lead byte, then n continuation bytes. */
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		for (i = 1; n && i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				n = 0;
		}
		/* Reject overlong, surrogate and out-of-range forms. */
		if (n == 2 && ((c == 0xe0 && s[1] < 0xa0) ||
			       (c == 0xed && s[1] > 0x9f)))
			n = 0;
		if (n == 3 && ((c == 0xf0 && s[1] < 0x90) ||
			       (c == 0xf4 && s[1] > 0x8f)))
			n = 0;
		if (!n) {
			*o++ = (char)(0xc0 | (c >> 6));
			*o++ = (char)(0x80 | (c & 0x3f));
			s++;
			continue;
		}
		memcpy(o, s, n + 1);
		o += n + 1;
		s += n + 1;
	}
	*o = '\0';
	return out;
}

/* A JSON string (valid UTF-8 whatever str holds); NULL: out of memory. */
static json_object *ilio_json_str(const char *str)
{
	char *u = ilio_json_utf8(str);
	json_object *j;

	if (!u)
		return NULL;
	j = json_object_new_string(u);
	free(u);
	return j;
}

/*
 * ilio_json_add() - add key: val to obj.  A NULL val is JSON null.  Returns
 * false when out of memory (a value that could not be made counts as one).
 */
static bool ilio_json_add(json_object *obj, const char *key, json_object *val,
			  bool made)
{
	if (!made)
		return false;
	return !json_object_object_add(obj, key, val);
}

/* A derived figure: four decimals, or null when undefined. */
static bool ilio_json_num(json_object *obj, const char *key, bool valid,
			  double v)
{
	char buf[64];
	json_object *j;

	if (!valid)
		return ilio_json_add(obj, key, NULL, true);
	snprintf(buf, sizeof(buf), "%.4f", v);
	j = json_object_new_double_s(v, buf);
	return ilio_json_add(obj, key, j, j);
}

/* An unsigned counter. */
static bool ilio_json_u64(json_object *obj, const char *key,
			  unsigned long long v)
{
	json_object *j = json_object_new_uint64(v);

	return ilio_json_add(obj, key, j, j);
}

/* A string, or null when absent. */
static bool ilio_json_strkey(json_object *obj, const char *key, bool has,
			     const char *str)
{
	json_object *j = has ? ilio_json_str(str) : NULL;

	return ilio_json_add(obj, key, j, !has || j);
}

/*
 * ilio_json_dev() - the JSON object of one device: its identity, its table,
 * every status field by its ilio-fields.h name (null beyond what the line
 * had), and the derived figures.  NULL when out of memory.
 */
static json_object *ilio_json_dev(const struct ilio_dev *dev)
{
	json_object *o = json_object_new_object();
	const struct ilio_table *tb = &dev->tb;
	bool t = dev->has_table, ok;
	struct ilio_derived d;
	int i;

	if (!o)
		return NULL;
	ilio_derive(dev, &d);

	/*
	 * The JSON schema: bumped when a key goes or changes meaning; keys
	 * are only ever added otherwise (as status fields are).
	 */
	ok = ilio_json_u64(o, "schema_version", ILIO_JSON_SCHEMA) &&
	     ilio_json_strkey(o, "name", true, dev->name) &&
	     ilio_json_strkey(o, ILIO_SYSFS_MODE, true, dev->st.mode) &&
	     ilio_json_u64(o, "start_sector", dev->start) &&
	     ilio_json_u64(o, "length_sectors", dev->len) &&
	     ilio_json_u64(o, "size_bytes", dev->len << ILIO_SECTOR_SHIFT) &&
	     ilio_json_strkey(o, "backing", t, t ? tb->backing : NULL);
	ok = ok && (t ? ilio_json_add(o, "diskless",
				      json_object_new_boolean(ilio_dev_diskless(dev)),
				      true) :
		    ilio_json_add(o, "diskless", NULL, true));
	ok = ok && (t ? ilio_json_u64(o, "ram_mb", tb->ram_mb) :
		    ilio_json_add(o, "ram_mb", NULL, true));
	ok = ok && ilio_json_strkey(o, "features", t, t ? tb->features : NULL) &&
	     ilio_json_u64(o, "status_fields", dev->st.nr + 1);
	for (i = 0; ok && i < ILIO_ST_NR; i++) {
		if (i < dev->st.nr)
			ok = ilio_json_u64(o, ilio_fields[i].name, dev->st.v[i]);
		else
			ok = ilio_json_add(o, ilio_fields[i].name, NULL, true);
	}
	if (ok && dev->has_capped)
		ok = ilio_json_u64(o, ilio_fields[ILIO_ST_DEDUP_CANDIDATES_CAPPED].name,
				   dev->capped);
	else if (ok)
		ok = ilio_json_add(o, ilio_fields[ILIO_ST_DEDUP_CANDIDATES_CAPPED].name,
				   NULL, true);
	/* The per-class values: null unless read from a live persistent device. */
	for (i = 0; ok && i < ILIO_ST_CLASSES * ILIO_CST_NR; i++)
		ok = dev->has_classes ?
		     ilio_json_u64(o, ilio_fields[ILIO_ST_CLASS(0, 0) + i].name,
				   dev->classes[i]) :
		     ilio_json_add(o, ilio_fields[ILIO_ST_CLASS(0, 0) + i].name, NULL, true);

	ok = ok && ilio_json_num(o, "dedup_ratio", d.has_dedup, d.dedup_ratio) &&
	     ilio_json_num(o, "compression_ratio", d.has_compress,
			   d.compress_ratio) &&
	     ilio_json_num(o, "savings_percent", d.has_savings, d.savings_pct) &&
	     ilio_json_num(o, "ram_used_percent", d.has_ram, d.ram_pct) &&
	     ilio_json_num(o, "io_offload_percent", d.has_offload,
			   d.offload_pct) &&
	     ilio_json_num(o, "write_offload_ratio", d.has_write_offload,
			   d.write_offload) &&
	     ilio_json_num(o, "read_offload_percent", d.has_read_offload,
			   d.read_offload_pct) &&
	     ilio_json_num(o, "ram_served_reads_percent", d.has_ram_reads,
			   d.ram_reads_pct) &&
	     ilio_json_num(o, "avg_backend_write_bytes", d.has_avg_write,
			   d.avg_write) &&
	     ilio_json_num(o, "avg_backend_read_bytes", d.has_avg_read,
			   d.avg_read);
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The JSON array of the devices, printed; false when out of memory. */
static bool ilio_print_json(const struct ilio_dev *devs, size_t nr)
{
	json_object *a, *o;
	size_t i;

	if (!nr) {
		puts("[]");
		return true;
	}
	a = json_object_new_array();
	if (!a)
		return false;
	for (i = 0; i < nr; i++) {
		o = ilio_json_dev(&devs[i]);
		if (!o || json_object_array_add(a, o)) {
			json_object_put(o);
			json_object_put(a);
			return false;
		}
	}
	puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
	return true;
}

/* Print the devices: label/value rows, or a JSON array. */
void ilio_print_devs(const struct ilio_dev *devs, size_t nr, bool json)
{
	size_t i;

	if (json) {
		if (!ilio_print_json(devs, nr))
			ilio_msg("out of memory: no JSON output");
		return;
	}

	if (!nr) {
		puts("no ilio devices");
		return;
	}
	for (i = 0; i < nr; i++) {
		if (i)
			putchar('\n');
		ilio_print_human(&devs[i]);
	}
}
