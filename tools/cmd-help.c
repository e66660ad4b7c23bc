// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-help.c - "ilioctl help" (also --help, and -h of every command) and
 * "ilioctl --version".  The same text, in more words, is ilioctl(8)
 * (Documentation/man/ilioctl.8) and tools/README.ilioctl.
 */
#include "ilioctl.h"

static const char ilio_help_text[] =
"Usage: ilioctl COMMAND [ARGS]\n"
"\n"
"Manage dm-ilio devices (device-mapper target \"ilio\": RAM cache with\n"
"deduplication and compression) and their backing devices.\n"
"\n"
"Commands:\n"
"  create NAME (--diskless | --backing DEV) --size SIZE --ram SIZE [OPTIONS]\n"
"      Create /dev/mapper/NAME.\n"
"        --diskless           no backing device: data lives in RAM only\n"
"        --backing DEV        backing block device (persistent mode),\n"
"                             prepared with \"ilioctl format DEV\"\n"
"        --size SIZE          logical size, a multiple of 4 KiB\n"
"        --ram SIZE           RAM budget, a whole number of MiB (>= "
	ILIO_STR(ILIO_RAM_MB_MIN) "M)\n"
"        --no-dedup           disable deduplication (default: on)\n"
"        --no-compress        disable compression (default: lz4)\n"
"        --block-size N       " ILIO_STR(ILIO_BLOCK_SIZE_DEFAULT) " (default) or "
	ILIO_STR(ILIO_BLOCK_SIZE_SMALL) "\n"
"        --coalesce MODE      persistent: auto (default), always or off\n"
"        --flush-interval-ms N\n"
"                             persistent: write-back interval in ms,\n"
"                             0.." ILIO_STR(ILIO_FLUSH_INTERVAL_MS_MAX) " (kernel default "
	ILIO_STR(ILIO_FLUSH_INTERVAL_MS_DEFAULT) ")\n"
"        --max-dirty SIZE     persistent: bound on dirty data, whole MiB,\n"
"                             at most --ram (kernel default: --ram / 4)\n"
"        --journal JDEV       persistent: the store's journal device\n"
"        --readonly           persistent: a read-only table (recovers\n"
"                             without writing; writes fail)\n"
"        --overcommit-warn N  persistent: warn when --size is more than N\n"
"                             times the store's capacity (default "
	ILIO_STR(ILIO_OVERCOMMIT_WARN_DEFAULT) ", 0: never)\n"
"        -n, --dry-run        check everything the kernel would (table,\n"
"                             RAM budget, backing device), print the\n"
"                             table line, change nothing\n"
"        -v, --verbose        print the table line that is loaded\n"
"        --table-params PARAMS\n"
"                             (testing) the parameters after \"ilio\", given\n"
"                             whole; checked by the kernel's table parser\n"
"  activate DEV [--name NAME] [--ram SIZE] [--readonly] [OPTIONS]\n"
"      Create a device over the ilio store on DEV with the logical size the\n"
"      store records (--size only at its first activation).  NAME defaults\n"
"      to ilio-<first 8 hex digits of the store's uuid>, --ram to 256M (more\n"
"      when the size needs it); the other options are create's.  Prints\n"
"      /dev/mapper/NAME.\n"
"  grow NAME [--size SIZE] [--ram SIZE] [-n|--dry-run]\n"
"      Grow NAME online to --size (shrinking is refused), with a new RAM\n"
"      budget if --ram; without --size, join the new space of a backing\n"
"      device that was extended.  Reloads the table and resumes NAME; if\n"
"      the kernel refuses, NAME is resumed with its old table.\n"
"  message NAME gc|compact|checkpoint|check|clear_stats\n"
"      Send a message to NAME and print the kernel's answer (check: \"ok\",\n"
"      or the problem found, exit 1).\n"
"  hints apply NAME|DEV [--rules FILE] [-n|--dry-run]\n"
"      Give the device's files region classes (pin, nocache, temp, normal)\n"
"      by the rules in FILE (default: \"ilioctl hints rules\"): walk NTFS\n"
"      or ext2/3/4 on NAME, on its MBR/GPT partitions and in disk image\n"
"      files stored on it (or a mounted ext4/xfs, with FIEMAP), and send\n"
"      each file's sectors as \"hint\" messages.  --dry-run sends nothing\n"
"      and prints every range (DEV: any block device or image file).\n"
"  hints show NAME\n"
"      Print the ranges and classes NAME holds (the \"hints\" message),\n"
"      and per class how many ranges and how much; then, for a persistent\n"
"      device, per class its cache hits, misses, hit rate, cached and\n"
"      dirty bytes (the <class>_* files of sysfs).\n"
"        --parse-reply TEXT   (testing) render TEXT as the kernel's reply\n"
"        --parse-stats TEXT   (testing, with --parse-reply) render TEXT, the\n"
"                             16 per-class values, as the statistics\n"
"  hints rules\n"
"      Print the default rules.\n"
"  hints match [--rules FILE] [--ntfs] PATH...\n"
"      (testing) print the class the rules give each PATH (--ntfs: as on\n"
"      NTFS, ASCII case ignored), \"-\" for none.\n"
"  list [--bytes|--si] [--json] [--noheadings]\n"
"      One line per ilio device: name, mode, logical size, data, stored,\n"
"      savings, RAM used/limit, backing device fill.\n"
"  remove NAME\n"
"      Remove ilio device NAME.\n"
"  iostat [NAME] [--interval S] [--count N]\n"
"      Live view: I/O rates, dedup and RAM-served shares, every S seconds.\n"
"  status [NAME] [--json | --prometheus] [--bytes|--si]\n"
"      Show statistics of NAME, or of every ilio device.\n"
"        -j, --json           JSON array, one object per device\n"
"        --prometheus         Prometheus text format (node_exporter textfile)\n"
"        -b, --bytes          sizes in bytes (status, list)\n"
"        --si                 sizes in powers of 1000 (status, list)\n"
"        --parse-status LINE  (testing) render LINE, \"NAME <start> <len> ilio\n"
"                             <info fields>...\", instead of asking the\n"
"                             kernel; may be repeated\n"
"        --parse-table LINE   (testing) TABLE status for a --parse-status\n"
"                             device, \"NAME <start> <len> ilio <table>...\"\n"
"  clear-stats NAME\n"
"      Reset the I/O and dedup counters of NAME.\n"
"  format DEV [--segment-kb N] [--journal JDEV] [--force] [--dry-run]\n"
"      Write an empty ilio store (persistent mode) to DEV, a block device\n"
"      or an image file.  Refuses a device in use, and one that holds a\n"
"      filesystem, partition table, LVM/RAID member, swap or ilio store.\n"
"        --segment-kb N       segment size in KiB, a power of two from 64\n"
"                             to 32768 (default 1024)\n"
"        -f, --force          overwrite (and wipe) whatever DEV holds\n"
"        -n, --dry-run        check and report, write nothing\n"
"  info DEV\n"
"      Show DEV's ilio superblocks and anchor slots (read-only).\n"
"  probe DEV\n"
"      For udev (69-ilio.rules): print ID_FS_TYPE=ilio, ID_FS_UUID=... when\n"
"      DEV holds an ilio store; exit 1, printing nothing, when it does not.\n"
"  help\n"
"      Show this help.\n"
"\n"
"Options: -h, --help (this help), -V, --version (version).\n"
"\n"
"SIZE is a number of bytes with an optional binary suffix K, M, G or T,\n"
"optionally followed by B or iB, any case: 4096, 512M, 8G, 1TiB.\n"
"\n"
"Exit status: 0 success, 1 failure, 2 bad usage.\n";

int ilio_cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(ilio_help_text, stdout);
	return ILIO_EXIT_OK;
}

int ilio_cmd_version(int argc, char **argv)
{
	char lib[64];

	(void)argc;
	(void)argv;
	printf("ilioctl %s (libdevmapper %s)\n", ILIOCTL_VERSION,
	       ilio_dm_library_version(lib, sizeof(lib)));
	return ILIO_EXIT_OK;
}
