/* When jobs.json is written.  Every change schedules a save; the first one
 * arms a timer (the coalescing window) and the timer writes one snapshot
 * of the whole table, in libuv's thread pool so that fsync never stalls
 * the loop.  A failed save is reported and retried with a backoff. */
#include "jobs_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_store.h"

#define RETRY_MIN_SECONDS 1.0
#define RETRY_MAX_SECONDS 60.0

void job_forget_saved(struct job *j)
{
	free(j->saved);
	j->saved = NULL;
	j->saved_len = 0;
}

/* A job's line of jobs.json, serialized again only when it changed: with
 * 10,000 jobs that is the difference between milliseconds and a tenth of
 * a second of the loop's time per save. */
static int saved_form(struct job *j)
{
	json_t *rec;

	if (j->saved != NULL)
		return 0;
	rec = job_to_record(j);
	j->saved = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	if (j->saved == NULL)
		return -ENOMEM;
	j->saved_len = strlen(j->saved);
	return 0;
}

/* The text of jobs.json: an array with one job per line, newest first
 * (the order of the table, which a load restores as is). */
static int snapshot(struct jobs *t, char **out, size_t *len, struct pm_error *err)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	bool failed = f == NULL;

	if (f != NULL) {
		fputs("[\n", f);
		struct job *j;

		TAILQ_FOREACH (j, &t->list, age) {
			if ((failed = saved_form(j) < 0))
				break;
			fwrite(j->saved, 1, j->saved_len, f);
			fputs(TAILQ_NEXT(j, age) ? ",\n" : "\n", f);
		}
		fputs("]\n", f);
		failed = ferror(f) || failed;
		failed = fclose(f) != 0 || failed;
	}
	if (failed) {
		free(buf);
		return pm_error_set(err, "jobs", ENOMEM, "serialize %zu jobs", t->count);
	}
	*out = buf;
	*len = size;
	return 0;
}

void jobs_report(struct jobs *t, const struct pm_error *err)
{
	if (t->on_error)
		t->on_error(err, t->on_error_data);
}

static void on_timer(uv_timer_t *h);

static void arm(struct jobs *t)
{
	double s = t->retry_seconds > 0 ? t->retry_seconds : t->limits.save_delay_seconds;

	uv_timer_start(&t->save_timer, on_timer, s > 0 ? (uint64_t)(s * 1000 + 0.5) : 0, 0);
}

void jobs_schedule_save(struct jobs *t)
{
	t->dirty = true;
	if (t->store != NULL && t->inflight == NULL &&
	    !uv_is_active((uv_handle_t *)&t->save_timer) &&
	    !uv_is_closing((uv_handle_t *)&t->save_timer))
		arm(t);
}

static void after_write(struct jobs *t, int r, const struct pm_error *err)
{
	if (r < 0) {
		jobs_report(t, err);
		t->dirty = true;
		t->retry_seconds = t->retry_seconds * 2;
		if (t->retry_seconds < RETRY_MIN_SECONDS)
			t->retry_seconds = RETRY_MIN_SECONDS;
		if (t->retry_seconds > RETRY_MAX_SECONDS)
			t->retry_seconds = RETRY_MAX_SECONDS;
	} else {
		t->retry_seconds = 0;
		t->saves++;
	}
	if (t->dirty)
		jobs_schedule_save(t);
}

static void on_written(void *data, int r, const struct pm_error *err)
{
	struct jobs *t = data;

	t->inflight = NULL;
	after_write(t, r, err);
}

static void on_timer(uv_timer_t *h)
{
	struct jobs *t = h->data;
	struct pm_error err;
	uint64_t gen;
	size_t len;
	char *text;
	int r;

	if (!t->dirty)
		return;
	if (snapshot(t, &text, &len, &err) < 0) {
		after_write(t, -ENOMEM, &err);
		return;
	}
	/* Changes from now on belong to the next snapshot. */
	t->dirty = false;
	gen = ++t->save_gen;
	if (job_store_write_async(t->store, t->loop, gen, text, len, on_written, t, &t->inflight,
				  &err) == 0)
		return;
	/* No thread pool to be had: write here rather than not at all. */
	r = job_store_write(t->store, gen, text, len, &err);
	free(text);
	after_write(t, r, &err);
}

void jobs_save_init(struct jobs *t)
{
	uv_timer_init(t->loop, &t->save_timer);
	t->save_timer.data = t;
}

int jobs_flush(struct jobs *t, struct pm_error *err)
{
	size_t len;
	char *text;
	int r;

	uv_timer_stop(&t->save_timer);
	r = snapshot(t, &text, &len, err);
	if (r < 0)
		return r;
	t->dirty = false;
	/* A newer generation than any write in flight, which will therefore
	 * be skipped if it has not reached the disk yet. */
	r = job_store_write(t->store, ++t->save_gen, text, len, err);
	free(text);
	if (r < 0) {
		jobs_schedule_save(t); /* the timer tries again later */
		return r;
	}
	t->retry_seconds = 0;
	t->saves++;
	return 0;
}

void jobs_save_shutdown(struct jobs *t)
{
	struct pm_error err;

	uv_timer_stop(&t->save_timer);
	if (jobs_flush(t, &err) < 0)
		jobs_report(t, &err);
	/* The pool thread may still be writing an older snapshot; it will be
	 * skipped or overwritten already, and must not call back into t. */
	if (t->inflight != NULL) {
		job_store_write_detach(t->inflight);
		t->inflight = NULL;
	}
}
