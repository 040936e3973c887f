/* Process-wide counters and one latency histogram for /metrics, in the
 * Prometheus text format (version 0.0.4).  Every layer may count (this is
 * base code); the transport renders.  Labels are bounded: each metric
 * keeps at most PM_METRIC_SERIES label values, later new ones are counted
 * under "other", so a client cannot grow the table. */
#ifndef PM_METRICS_H
#define PM_METRICS_H

#include <stdio.h>

#define PM_METRIC_SERIES 32

/* Adds 1 to counter `name` (one of those metrics.c declares) with one
 * label (label may be NULL: none). */
void pm_metric_inc(const char *name, const char *label, const char *value);
/* The same with two labels. */
void pm_metric_inc2(const char *name, const char *label1, const char *value1, const char *label2,
		    const char *value2);
/* One observation of the run latency histogram, in seconds. */
void pm_metric_observe_run_seconds(double seconds);

/* Writes every counter and the histogram, with HELP and TYPE lines. */
void pm_metrics_write(FILE *out);
/* A gauge line (with HELP and TYPE when help is not NULL). */
void pm_metric_gauge(FILE *out, const char *name, const char *help, const char *label,
		     const char *value, double v);

#endif
