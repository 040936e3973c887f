/* job-stream://{job_id} live: a subscription hears when the job's output
 * grows (at most every 1.5 s: "it changed, read it again" needs no more,
 * and a job that prints all the time must not cost a flood of
 * notifications) and at once when it ends or is removed; completion
 * offers job ids for the template's argument. */
#include "rate_gate.h"
#include "tools_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MIN_INTERVAL_MS 1500
#define HOLD_MS		3000

struct stream_watch {
	struct tools *t;
	struct jobs_watch *watch; /* NULL once the job is gone */
	void (*changed)(void *data, bool gone);
	void *data;
	struct rate_gate gate; /* its timer's close callback frees the watch */
};

static void notify_changed(void *data)
{
	struct stream_watch *w = data;

	w->changed(w->data, false);
}

static void on_event(struct job *j, enum job_event ev, void *data)
{
	struct stream_watch *w = data;

	switch (ev) {
	case JOB_EVENT_OUTPUT:
		rate_gate_changed(&w->gate);
		return;
	case JOB_EVENT_STATUS:
		if (job_status_is_final(j->status))
			rate_gate_fire(&w->gate);
		return;
	case JOB_EVENT_REMOVED:
		w->watch = NULL; /* the table drops it */
		rate_gate_stop(&w->gate);
		w->changed(w->data, true);
		return;
	case JOB_EVENT_PROGRESS:
		return;
	}
}

int tools_watch_job_stream(const char *uri, const char *tenant,
			   void (*changed)(void *data, bool gone), void *data, void **handle,
			   struct pm_error *err, void *ctx)
{
	static const char prefix[] = TOOLS_JOB_STREAM_SCHEME;
	struct tools *t = ctx;
	struct stream_watch *w;
	struct job *j = strncmp(uri, prefix, strlen(prefix)) == 0
			    ? tools_job_of(t, tenant, uri + strlen(prefix))
			    : NULL;

	if (j == NULL)
		return pm_error_set(err, "jobs", ENOENT, "no job `%.64s`", uri + strlen(prefix));
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return pm_error_set(err, "jobs", ENOMEM, "watch `%.64s`", uri);
	*w = (struct stream_watch){.t = t, .changed = changed, .data = data};
	if ((w->watch = jobs_watch(t->cfg.exec.jobs, j, on_event, w)) == NULL) {
		free(w);
		return pm_error_set(err, "jobs", ENOMEM, "watch `%.64s`", uri);
	}
	rate_gate_init(&w->gate, t->cfg.exec.loop, MIN_INTERVAL_MS, HOLD_MS, notify_changed, w);
	*handle = w;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

void tools_unwatch_job_stream(void *handle, void *ctx)
{
	struct stream_watch *w = handle;

	(void)ctx;
	if (w == NULL)
		return;
	jobs_unwatch(w->t->cfg.exec.jobs, w->watch);
	rate_gate_stop(&w->gate);
	uv_close((uv_handle_t *)&w->gate.timer, on_closed);
}

json_t *tools_complete_job_id(const char *name, const char *prefix, const char *tenant, size_t max,
			      size_t *total, void *ctx)
{
	struct tools *t = ctx;
	json_t *values = json_array();
	size_t n = strlen(prefix);

	*total = 0;
	if (values == NULL || strcmp(name, "job_id") != 0)
		return values;
	/* Newest first: the job a client is after is most often the last. */
	for (struct job *j = jobs_newest(t->cfg.exec.jobs); j; j = jobs_older(j)) {
		if (strncmp(j->id, prefix, n) != 0 || !jobs_visible(j, tenant))
			continue;
		if (json_array_size(values) < max)
			json_array_append_new(values, json_string(j->id));
		(*total)++;
	}
	return values;
}
