#include "smart.h"

#include <stdlib.h>
#include <sys/queue.h>

struct smart_wait {
	struct job *job;
	smart_fn fn;
	void *data;
	uv_timer_t timer; /* freed in its close callback */
	LIST_ENTRY(smart_wait) link;
};

struct smart {
	uv_loop_t *loop;
	double budget;
	LIST_HEAD(, smart_wait) waits;
};

struct smart *smart_new(uv_loop_t *loop, double budget_seconds)
{
	struct smart *s = calloc(1, sizeof(*s));

	if (s) {
		LIST_INIT(&s->waits);
		s->loop = loop;
		s->budget = budget_seconds;
	}
	return s;
}

void smart_free(struct smart *s)
{
	free(s);
}

double smart_budget(const struct smart *s)
{
	return s->budget;
}

static void on_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void drop(struct smart_wait *w)
{
	LIST_REMOVE(w, link);
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

/* The wait leaves the list before its callback runs: the callback may
 * cancel the job, which ends it and calls smart_job_ended() at once. */
static void finish(struct smart_wait *w, enum smart_event ev)
{
	smart_fn fn = w->fn;
	struct job *j = w->job;
	void *data = w->data;

	drop(w);
	fn(j, ev, data);
}

static void on_budget(uv_timer_t *t)
{
	finish(t->data, SMART_BUDGET);
}

struct smart_wait *smart_wait(struct smart *s, struct job *j, smart_fn fn, void *data)
{
	struct smart_wait *w;

	if (job_status_is_final(j->status) || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	*w = (struct smart_wait){.job = j, .fn = fn, .data = data};
	LIST_INSERT_HEAD(&s->waits, w, link);
	uv_timer_init(s->loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, on_budget, (uint64_t)(s->budget * 1000), 0);
	return w;
}

void smart_wait_cancel(struct smart_wait *w)
{
	if (w != NULL)
		drop(w);
}

/* From the head after each callback: a callback may cancel any wait. */
void smart_job_ended(struct smart *s, struct job *j)
{
	for (;;) {
		struct smart_wait *w;

		LIST_FOREACH (w, &s->waits, link)
			if (w->job == j)
				break;
		if (w == NULL)
			return;
		finish(w, SMART_ENDED);
	}
}

void smart_stop(struct smart *s)
{
	while (!LIST_EMPTY(&s->waits))
		drop(LIST_FIRST(&s->waits));
}
