// SPDX-License-Identifier: GPL-2.0
/*
 * hints-rules.c - the rules of "ilioctl hints": which files get which
 * region class.
 *
 * A rules file has one rule a line, "CLASS PATTERN"; a line whose first
 * non-blank character is '#' is a comment.  CLASS is pin, nocache, temp or
 * normal (the classes of the "hint" message), or image: the file is a raw
 * disk image whose own filesystems are walked with the same rules.
 * PATTERN is the rest of the line, blanks inside included ("Program
 * Files"), with a backslash read as '/' (and "//" as one).  In a pattern '*' matches any
 * characters but '/', '?' one character but '/', two stars any characters,
 * '/' included, two stars and a '/' zero or more whole directories, and
 * "{a,b,c}" any of its comma-separated words.  There are no escapes.  A
 * pattern with a '/' (a leading or a trailing one included) is anchored at
 * the filesystem's root; one without matches a name in any directory.  A
 * pattern that matches a directory matches all that is below it.  NTFS
 * paths match without regard to ASCII case (as Windows opens them); the
 * paths of Linux filesystems match exactly.  The default rules below are
 * an example of each; ilioctl(8) documents the format with examples.
 * When several rules match a file, the last one wins.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ilioctl.h"
#include "hints.h"

/* Words of the classes, by enum ilio_hint_class; "image" only in rules. */
static const char *const ilio_hint_classes[] = {
	[ILIO_HINT_NORMAL] = "normal",
	[ILIO_HINT_PIN] = "pin",
	[ILIO_HINT_NOCACHE] = "nocache",
	[ILIO_HINT_TEMP] = "temp",
	[ILIO_HINT_IMAGE] = "image",
};

/* Bad lines reported before giving up on a rules file. */
#define ILIO_RULES_ERR_MAX	20
/* Patterns one line may expand to through braces. */
#define ILIO_RULES_EXPAND_MAX	64
#define ILIO_RULES_LINE_MAX	4096

/*
 * The default rules: Windows and Linux desktops (issue #12), and the
 * usual names of raw disk images.  "ilioctl hints rules" prints them.
 */
const char ilio_hint_default_rules[] =
"# ilioctl hints: the default rules (ilioctl hints rules prints them).\n"
"# One rule a line: CLASS PATTERN; the last rule that matches wins.\n"
"# Classes: pin, nocache, temp, normal; image walks a raw disk image.\n"
"\n"
"# Raw disk images stored as files (NFS datastores): walk their files.\n"
"image   **.img\n"
"image   **.raw\n"
"image   **-flat.vmdk\n"
"\n"
"# Windows and Linux system binaries stay in the RAM cache.\n"
"pin     Windows/System32/**.{dll,exe,sys}\n"
"pin     Program Files/**.{dll,exe}\n"
"pin     Program Files (x86)/**.{dll,exe}\n"
"pin     /usr/lib/**\n"
"\n"
"# Paging, swap and hibernation files are not kept in RAM.\n"
"nocache pagefile.sys\n"
"nocache swapfile.sys\n"
"nocache hiberfil.sys\n"
"nocache /swapfile\n"
"nocache /swap.img\n"
"\n"
"# Temporary files: written back late, cached at low priority.\n"
"temp    Windows/Temp\n"
"temp    Users/*/AppData/Local/Temp\n"
"temp    /tmp\n"
"temp    /var/tmp\n";

const char *ilio_hint_class_name(int cls)
{
	if (cls < 0 || cls >= (int)ARRAY_SIZE(ilio_hint_classes))
		return "?";
	return ilio_hint_classes[cls];
}

/* The class of word (exact, lower case), or -EINVAL. */
int ilio_hint_class_parse(const char *word)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ilio_hint_classes); i++)
		if (!strcmp(word, ilio_hint_classes[i]))
			return i;
	return -EINVAL;
}

static bool ilio_ceq(char a, char b, bool icase)
{
	if (icase)
		return tolower((unsigned char)a) == tolower((unsigned char)b);
	return a == b;
}

/*
 * ilio_hint_glob() - does pattern pat match all of s?  A star stops at
 * '/', two do not, two and a '/' are zero or more directories.  Brace
 * groups were expanded when the rules were read.
 */
bool ilio_hint_glob(const char *pat, const char *s, bool icase)
{
	const char *p;

	for (; *pat; pat++, s++) {
		if (pat[0] == '*' && pat[1] == '*') {
			pat += 2;
			if (*pat == '/') {
				/* zero or more whole directories */
				if (ilio_hint_glob(pat + 1, s, icase))
					return true;
				for (p = s; *p; p++)
					if (*p == '/' && ilio_hint_glob(pat + 1, p + 1, icase))
						return true;
				return false;
			}
			for (p = s; ; p++) {
				if (ilio_hint_glob(pat, p, icase))
					return true;
				if (!*p)
					return false;
			}
		}
		if (*pat == '*') {
			for (p = s; ; p++) {
				if (ilio_hint_glob(pat + 1, p, icase))
					return true;
				if (!*p || *p == '/')
					return false;
			}
		}
		if (!*s)
			return false;
		if (*pat == '?') {
			if (*s == '/')
				return false;
			continue;
		}
		if (!ilio_ceq(*pat, *s, icase))
			return false;
	}
	return !*s;
}

/*
 * Does rule r match path (relative to the root, no leading '/'), or a
 * directory above it?
 */
static bool ilio_rule_matches(const struct ilio_hint_rule *r, const char *path,
			      bool icase)
{
	char buf[ILIO_RULES_LINE_MAX * 2];
	const char *p, *comp = path;
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, path, n + 1);
	for (p = path; ; p++) {
		if (*p != '/' && *p)
			continue;
		if (r->anchored) {
			buf[p - path] = '\0';
			if (ilio_hint_glob(r->pat, buf, icase))
				return true;
			buf[p - path] = *p;
		} else {
			buf[p - path] = '\0';
			if (ilio_hint_glob(r->pat, buf + (comp - path), icase))
				return true;
			buf[p - path] = *p;
			comp = p + 1;
		}
		if (!*p)
			return false;
	}
}

/*
 * ilio_hint_match() - the class of the last rule that matches path
 * (leading '/' optional), or -1 when none does.
 */
int ilio_hint_match(const struct ilio_hint_rules *rules, const char *path,
		    bool icase)
{
	size_t i = rules->nr;

	while (*path == '/')
		path++;
	if (!*path)
		return -1;
	while (i--)
		if (ilio_rule_matches(&rules->r[i], path, icase))
			return rules->r[i].cls;
	return -1;
}

static int ilio_rule_add(struct ilio_hint_rules *rules, int cls, const char *pat,
			 bool anchored, unsigned int line)
{
	struct ilio_hint_rule *r;

	if (rules->nr == rules->cap) {
		size_t cap = rules->cap ? rules->cap * 2 : 32;

		r = realloc(rules->r, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		rules->r = r;
		rules->cap = cap;
	}
	r = &rules->r[rules->nr];
	r->pat = strdup(pat);
	if (!r->pat)
		return -ENOMEM;
	r->cls = cls;
	r->anchored = anchored;
	r->line = line;
	rules->nr++;
	return 0;
}

/*
 * Expand the first brace group of pat (and, recursively, the next ones)
 * into rules; *count counts the patterns made.  Returns 0, -ENOMEM, or
 * -E2BIG past ILIO_RULES_EXPAND_MAX.
 */
static int ilio_rule_expand(struct ilio_hint_rules *rules, int cls,
			    const char *pat, bool anchored, unsigned int line,
			    unsigned int *count)
{
	const char *open = strchr(pat, '{'), *close, *w, *e;
	char buf[ILIO_RULES_LINE_MAX];
	int r;

	if (!open) {
		if (++*count > ILIO_RULES_EXPAND_MAX)
			return -E2BIG;
		return ilio_rule_add(rules, cls, pat, anchored, line);
	}
	close = strchr(open, '}');
	for (w = open + 1; ; w = e + 1) {
		e = w + strcspn(w, ",}");
		snprintf(buf, sizeof(buf), "%.*s%.*s%s", (int)(open - pat), pat,
			 (int)(e - w), w, close + 1);
		r = ilio_rule_expand(rules, cls, buf, anchored, line, count);
		if (r)
			return r;
		if (e == close)
			return 0;
	}
}

/*
 * Check and add one rule line (without its newline); prints
 * "WHAT:LINE: why" and returns -EINVAL for a bad one.
 */
static int ilio_rule_line(struct ilio_hint_rules *rules, char *s, const char *what,
			  unsigned int line)
{
	char *word, *pat, *p, *q, *end;
	unsigned int count = 0;
	bool anchored;
	int cls, r, depth = 0;

	for (p = s; *p; p++)
		if (iscntrl((unsigned char)*p) && *p != '\t') {
			ilio_msg("%s:%u: a control character in the line", what, line);
			return -EINVAL;
		}
	while (isspace((unsigned char)*s))
		s++;
	if (!*s || *s == '#')
		return 0;
	word = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	if (*s)
		*s++ = '\0';
	cls = ilio_hint_class_parse(word);
	if (cls < 0) {
		ilio_msg("%s:%u: unknown class '%s' (pin, nocache, temp, normal or image)",
			 what, line, word);
		return -EINVAL;
	}
	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	/* Backslashes are slashes; runs of slashes are one. */
	for (p = s, q = s; *p; p++) {
		char c = *p == '\\' ? '/' : *p;

		if (c == '/' && q > s && q[-1] == '/')
			continue;
		*q++ = c;
	}
	*q = '\0';
	anchored = !!strchr(s, '/') && strcmp(s, "/");
	pat = s;
	while (*pat == '/')
		pat++;
	end = pat + strlen(pat);
	while (end > pat && end[-1] == '/')
		*--end = '\0';
	if (!*pat) {
		ilio_msg("%s:%u: '%s' needs a PATTERN (a file or directory name, or a path)",
			 what, line, word);
		return -EINVAL;
	}
	for (p = pat; *p; p++) {
		if (*p == '{' && depth++) {
			ilio_msg("%s:%u: nested '{' in '%s'", what, line, pat);
			return -EINVAL;
		}
		if (*p == '}' && depth-- != 1) {
			ilio_msg("%s:%u: '}' without '{' in '%s'", what, line, pat);
			return -EINVAL;
		}
		if (p[0] == '*' && p[1] == '*' && p[2] == '*') {
			ilio_msg("%s:%u: '***' in '%s' (use '*' or '**')", what, line, pat);
			return -EINVAL;
		}
	}
	if (depth) {
		ilio_msg("%s:%u: '{' without '}' in '%s'", what, line, pat);
		return -EINVAL;
	}
	r = ilio_rule_expand(rules, cls, pat, anchored, line, &count);
	if (r == -E2BIG)
		ilio_msg("%s:%u: '%s' makes more than %d patterns", what, line, pat,
			 ILIO_RULES_EXPAND_MAX);
	else if (r)
		ilio_msg("out of memory");
	return r;
}

/*
 * ilio_hint_rules_parse() - add the rules of text (named what in
 * messages) to rules.  Every bad line is reported, up to
 * ILIO_RULES_ERR_MAX.  Returns 0, -EINVAL (bad lines, none added) or
 * -ENOMEM.
 */
int ilio_hint_rules_parse(const char *text, const char *what,
			  struct ilio_hint_rules *rules)
{
	char line[ILIO_RULES_LINE_MAX];
	unsigned int no = 0, bad = 0;
	const char *s = text, *nl;
	size_t len;
	int r;

	while (*s) {
		nl = strchr(s, '\n');
		len = nl ? (size_t)(nl - s) : strlen(s);
		no++;
		if (len >= sizeof(line)) {
			ilio_msg("%s:%u: line too long (more than %d characters)", what, no,
				 ILIO_RULES_LINE_MAX - 1);
			r = -EINVAL;
		} else {
			memcpy(line, s, len);
			line[len] = '\0';
			r = ilio_rule_line(rules, line, what, no);
		}
		if (r == -ENOMEM)
			return r;
		if (r && ++bad == ILIO_RULES_ERR_MAX) {
			ilio_msg("%s: too many bad lines, stopping at line %u", what, no);
			break;
		}
		s += len + (nl ? 1 : 0);
	}
	if (bad) {
		ilio_hint_rules_free(rules);
		return -EINVAL;
	}
	return 0;
}

/*
 * ilio_hint_rules_load() - read the rules of path, or the default rules
 * when path is NULL.  Returns 0, or an exit code after printing why: 2
 * for bad lines, 1 for a file that cannot be read.
 */
int ilio_hint_rules_load(const char *path, struct ilio_hint_rules *rules)
{
	char *text = NULL;
	size_t size = 0, n;
	FILE *f;
	int r;

	memset(rules, 0, sizeof(*rules));
	if (!path)
		return ilio_hint_rules_parse(ilio_hint_default_rules, "(default rules)",
					     rules) ? ILIO_EXIT_FAIL : 0;
	f = fopen(path, "re");
	if (!f)
		return ilio_fail("cannot read the rules file '%s': %s", path,
				 strerror(errno));
	text = malloc(1 << 20);
	if (!text) {
		fclose(f);
		return ilio_fail("out of memory");
	}
	while ((n = fread(text + size, 1, (1 << 20) - 1 - size, f)) > 0)
		size += n;
	if (ferror(f) || !feof(f)) {
		r = ferror(f) ? ilio_fail("cannot read the rules file '%s': %s", path,
					  strerror(errno)) :
			ilio_fail("the rules file '%s' is larger than 1 MiB", path);
		fclose(f);
		free(text);
		return r;
	}
	fclose(f);
	if (memchr(text, '\0', size)) {
		free(text);
		return ilio_usage_err("the rules file '%s' is not text (it holds a NUL byte)",
				      path);
	}
	text[size] = '\0';
	r = ilio_hint_rules_parse(text, path, rules);
	free(text);
	if (r == -EINVAL)
		return ilio_usage_err("bad rules in '%s' (above)", path);
	if (r)
		return ilio_fail("out of memory");
	if (!rules->nr)
		return ilio_usage_err("the rules file '%s' has no rule", path);
	return 0;
}

void ilio_hint_rules_free(struct ilio_hint_rules *rules)
{
	size_t i;

	for (i = 0; i < rules->nr; i++)
		free(rules->r[i].pat);
	free(rules->r);
	memset(rules, 0, sizeof(*rules));
}
