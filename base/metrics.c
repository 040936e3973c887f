#include "metrics.h"

#include <string.h>

/* The counters this server has: name, help, and their series. */
struct series {
	char labels[160]; /* rendered: `a="x",b="y"`, or "" */
	unsigned long long count;
};

struct counter {
	const char *name, *help;
	struct series series[PM_METRIC_SERIES + 1]; /* the last: "other" */
	unsigned n;
};

static struct counter counters[] = {
    {"python_mcp_runs_total", "Runs that ended, by outcome and the limit that ended them", {}, 0},
    {"python_mcp_sandbox_setup_failures_total", "Sandboxes that could not start, by stage", {}, 0},
    {"python_mcp_env_builds_total", "Dependency environment builds, by result", {}, 0},
    {"python_mcp_http_requests_total", "HTTP responses, by status", {}, 0},
};

static const double bounds[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};
#define N_BOUNDS (sizeof(bounds) / sizeof(*bounds))
static struct {
	unsigned long long buckets[N_BOUNDS], count;
	double sum;
} run_seconds;

/* Label values are the server's own strings, but may echo what a sandbox
 * said (a stage name): anything but a plain character goes. */
static void label_value(char *out, size_t size, const char *v)
{
	size_t n = 0;

	for (; v && *v && n + 1 < size; v++)
		if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		    (*v >= '0' && *v <= '9') || *v == '_' || *v == '-' || *v == '.' || *v == ' ')
			out[n++] = *v;
	out[n] = '\0';
}

static void count(const char *name, const char *labels)
{
	for (size_t i = 0; i < sizeof(counters) / sizeof(*counters); i++) {
		struct counter *c = &counters[i];
		if (strcmp(c->name, name) != 0)
			continue;
		for (unsigned k = 0; k < c->n; k++)
			if (strcmp(c->series[k].labels, labels) == 0) {
				c->series[k].count++;
				return;
			}
		struct series *s = c->n < PM_METRIC_SERIES ? &c->series[c->n++] : NULL;
		if (s == NULL) {
			s = &c->series[PM_METRIC_SERIES];
			snprintf(s->labels, sizeof(s->labels), "overflow=\"other\"");
		} else {
			snprintf(s->labels, sizeof(s->labels), "%s", labels);
		}
		s->count++;
		return;
	}
}

void pm_metric_inc2(const char *name, const char *label1, const char *value1, const char *label2,
		    const char *value2)
{
	char labels[160] = "", v1[48], v2[48];

	label_value(v1, sizeof(v1), value1);
	label_value(v2, sizeof(v2), value2);
	if (label1 && label2)
		snprintf(labels, sizeof(labels), "%s=\"%s\",%s=\"%s\"", label1, v1, label2, v2);
	else if (label1)
		snprintf(labels, sizeof(labels), "%s=\"%s\"", label1, v1);
	count(name, labels);
}

void pm_metric_inc(const char *name, const char *label, const char *value)
{
	pm_metric_inc2(name, label, value, NULL, NULL);
}

void pm_metric_observe_run_seconds(double seconds)
{
	for (size_t i = 0; i < N_BOUNDS; i++)
		if (seconds <= bounds[i])
			run_seconds.buckets[i]++;
	run_seconds.count++;
	run_seconds.sum += seconds;
}

void pm_metric_gauge(FILE *out, const char *name, const char *help, const char *label,
		     const char *value, double v)
{
	char lv[48];

	if (help)
		fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	if (label) {
		label_value(lv, sizeof(lv), value);
		fprintf(out, "%s{%s=\"%s\"} %.17g\n", name, label, lv, v);
	} else {
		fprintf(out, "%s %.17g\n", name, v);
	}
}

void pm_metrics_write(FILE *out)
{
	for (size_t i = 0; i < sizeof(counters) / sizeof(*counters); i++) {
		const struct counter *c = &counters[i];
		fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", c->name, c->help, c->name);
		for (unsigned k = 0; k <= PM_METRIC_SERIES; k++) {
			const struct series *s = &c->series[k];
			if (k == PM_METRIC_SERIES ? s->count == 0 : k >= c->n)
				continue;
			if (s->labels[0])
				fprintf(out, "%s{%s} %llu\n", c->name, s->labels, s->count);
			else
				fprintf(out, "%s %llu\n", c->name, s->count);
		}
	}
	fputs("# HELP python_mcp_run_seconds Wall time of runs that ended\n"
	      "# TYPE python_mcp_run_seconds histogram\n",
	      out);
	for (size_t i = 0; i < N_BOUNDS; i++)
		fprintf(out, "python_mcp_run_seconds_bucket{le=\"%g\"} %llu\n", bounds[i],
			run_seconds.buckets[i]);
	fprintf(out, "python_mcp_run_seconds_bucket{le=\"+Inf\"} %llu\n", run_seconds.count);
	fprintf(out, "python_mcp_run_seconds_sum %.17g\npython_mcp_run_seconds_count %llu\n",
		run_seconds.sum, run_seconds.count);
}
