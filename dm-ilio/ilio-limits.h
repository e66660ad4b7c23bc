/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-limits: the user-visible bounds of the table line, defined once.
 *
 * The kernel's parser (ilio-args.c) enforces them and ilioctl (tools/)
 * checks its options against them before it builds a table line.  Plain
 * decimal literals without a suffix, so that ILIO_STR() can spell them in
 * the parser's static error strings.  The header includes nothing.
 */
#ifndef ILIO_LIMITS_H
#define ILIO_LIMITS_H

#define ILIO_STR_(x)		#x
/* ILIO_STR() - a bound as a string literal: ILIO_STR(ILIO_RAM_MB_MAX). */
#define ILIO_STR(x)		ILIO_STR_(x)

/* ram_mb: the RAM budget in MiB (16 TiB at most). */
#define ILIO_RAM_MB_MIN		4
#define ILIO_RAM_MB_MAX		16777216

/* block_size: the two logical block sizes, and the default. */
#define ILIO_BLOCK_SIZE_SMALL	512
#define ILIO_BLOCK_SIZE_DEFAULT	4096

/* flush_interval_ms: 0 .. one hour; 1000 when not given. */
#define ILIO_FLUSH_INTERVAL_MS_MAX	3600000
#define ILIO_FLUSH_INTERVAL_MS_DEFAULT	1000

/* Logical sizes (the table's length) are whole 4 KiB blocks. */
#define ILIO_LEN_ALIGN_BYTES	4096

/*
 * The segment size the constructor checks the RAM budget with
 * (ilio_check_budget(): the LBA map plus two segments), that of diskless
 * mode (ILIO_SEG_BYTES_DEFAULT); ilioctl's checks use it too.
 */
#define ILIO_SEG_BYTES_CTR	1048576

/*
 * The most ranges one hint message carries: "hint C S N [C S N ...]", 64
 * triples (about 3 KiB of text).  The module applies a message as one
 * change: all of its ranges or, on any error, none; ilioctl hints apply
 * sends its ranges this many at a time.
 */
#define ILIO_HINT_BATCH_MAX	64

#endif /* ILIO_LIMITS_H */
