/*
 * prom.h - a host's metrics in Prometheus's text exposition format,
 * version 0.0.4: what m365ctl metrics prints and serves.
 *
 * The view and the run record come from files other processes write:
 * every label value is escaped (backslash, double quote, newline) and any
 * other control byte or byte that is not UTF-8 becomes U+FFFD.
 */
#ifndef M365CTL_PROM_H
#define M365CTL_PROM_H

#include <stddef.h>
#include <stdio.h>

#include "m365_metrics.h"
#include "runlog.h"

/* The Content-Type of the format. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Writes to out, with # HELP and # TYPE lines: m365_bypass_metrics_up
 * (1 when view is not NULL), the counters and gauges of view (none when
 * NULL: the counters could not be read) and the updater's last run (none
 * when run is NULL).  Returns 0, or -1 when out has an error.
 */
int prom_write(FILE *out, const struct m365_metrics_view *view,
               const struct run_record *run);

/*
 * The same as prom_write() into a NUL-terminated buffer that the caller
 * frees, its length in *len.  NULL when memory runs out.
 */
char *prom_render(const struct m365_metrics_view *view,
                  const struct run_record *run, size_t *len);

#endif
