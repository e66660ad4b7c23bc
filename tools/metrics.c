// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - "ilioctl status --prometheus": every status field of every
 * ilio device in the Prometheus text exposition format (version 0.0.4),
 * for node_exporter's textfile collector or any scraper that runs a
 * command.
 *
 * One metric family per field of dm-ilio/ilio-fields.h, named
 * ilio_<field> for a gauge and ilio_<field>_total for a counter (the
 * admin guide's Status section says which fields are gauges), each with
 * one sample per device labelled device="<dm name>"; then the mode as
 * ilio_mode{device=...,mode="write"} 1, and the logical size.  A field
 * that an older module does not report has no sample for that device.
 */
#include <stdio.h>
#include <string.h>

#include "ilioctl.h"

/* The gauges: fields 2 to 6, 18, 24 and 25 (see the admin guide). */
static bool ilio_field_is_gauge(int i)
{
	switch (i) {
	case ILIO_ST_LOGICAL_BYTES:
	case ILIO_ST_UNIQUE_BYTES:
	case ILIO_ST_STORED_BYTES:
	case ILIO_ST_RAM_USED_BYTES:
	case ILIO_ST_RAM_LIMIT_BYTES:
	case ILIO_ST_DIRTY_BYTES:
	case ILIO_ST_BACKEND_BYTES:
	case ILIO_ST_BACKEND_FREE_BYTES:
		return true;
	default:
		return false;
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void ilio_prom_label(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

static void ilio_prom_sample(const char *metric, const struct ilio_dev *dev,
			     unsigned long long v)
{
	printf("%s{device=\"", metric);
	ilio_prom_label(dev->name);
	printf("\"} %llu\n", v);
}

/**
 * ilio_print_prometheus() - print the devices as Prometheus metrics
 * @devs: devices
 * @nr: how many
 */
void ilio_print_prometheus(const struct ilio_dev *devs, size_t nr)
{
	char metric[96];
	size_t d;
	int i;

	for (i = 0; i < ILIO_ST_NR; i++) {
		bool gauge = ilio_field_is_gauge(i);

		snprintf(metric, sizeof(metric), "ilio_%s%s", ilio_fields[i].name,
			 gauge ? "" : "_total");
		printf("# HELP %s %s\n", metric, ilio_fields[i].doc);
		printf("# TYPE %s %s\n", metric, gauge ? "gauge" : "counter");
		for (d = 0; d < nr; d++)
			if (i < (int)devs[d].st.nr)
				ilio_prom_sample(metric, &devs[d], devs[d].st.v[i]);
	}
	puts("# HELP ilio_mode the device's mode (1 for the current one)");
	puts("# TYPE ilio_mode gauge");
	for (d = 0; d < nr; d++) {
		fputs("ilio_mode{device=\"", stdout);
		ilio_prom_label(devs[d].name);
		fputs("\",mode=\"", stdout);
		ilio_prom_label(devs[d].st.mode);
		puts("\"} 1");
	}
	puts("# HELP ilio_size_bytes logical size of the device");
	puts("# TYPE ilio_size_bytes gauge");
	for (d = 0; d < nr; d++)
		ilio_prom_sample("ilio_size_bytes", &devs[d],
				 devs[d].len << ILIO_SECTOR_SHIFT);
}
