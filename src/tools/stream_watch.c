/* job-stream://{job_id} live: a subscription hears when the job's output
 * grows (at most once a second: "it changed, read it again" needs no more,
 * and a job that prints all the time must not cost a flood of
 * notifications) and at once when it ends or is removed; completion
 * offers job ids for the template's argument. */
#include "tools_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MIN_INTERVAL_MS 1000

struct stream_watch {
	struct tools *t;
	struct jobs_watch *watch; /* NULL once the job is gone */
	void (*changed)(void *data, bool gone);
	void *data;
	uv_timer_t timer; /* freed in its close callback */
	uint64_t last_ms;
	bool pending;
};

static void notify(struct stream_watch *w, bool gone)
{
	w->pending = false;
	w->last_ms = uv_now(w->t->cfg.exec.loop);
	w->changed(w->data, gone);
}

static void on_timer(uv_timer_t *timer)
{
	notify(timer->data, false);
}

static void on_event(struct job *j, enum job_event ev, void *data)
{
	struct stream_watch *w = data;
	uint64_t since;

	switch (ev) {
	case JOB_EVENT_OUTPUT:
		if (w->pending)
			return;
		since = uv_now(w->t->cfg.exec.loop) - w->last_ms;
		if (since >= MIN_INTERVAL_MS) {
			notify(w, false);
		} else {
			w->pending = true;
			uv_timer_start(&w->timer, on_timer, MIN_INTERVAL_MS - since, 0);
		}
		return;
	case JOB_EVENT_STATUS:
		if (job_status_is_final(j->status)) {
			uv_timer_stop(&w->timer);
			notify(w, false);
		}
		return;
	case JOB_EVENT_REMOVED:
		w->watch = NULL; /* the table drops it */
		uv_timer_stop(&w->timer);
		notify(w, true);
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
	uv_timer_init(t->cfg.exec.loop, &w->timer);
	w->timer.data = w;
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
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, on_closed);
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
