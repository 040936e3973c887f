/* Watching jobs live: who wants to know when a job's status, output or
 * progress changes (progress notifications, resource subscriptions, task
 * status notifications) registers a watch, on one job or on all.  A watch
 * may be removed from inside its own callback, or another's: removal only
 * marks it while events are being delivered, and the marks are swept when
 * the outermost delivery ends. */
#include "jobs_internal.h"

#include <stdlib.h>

struct jobs_watch {
	struct job *only; /* NULL: every job */
	jobs_watch_fn fn;
	void *data;
	bool removed;
	LIST_ENTRY(jobs_watch) link; /* t->watches, or only->watches */
};

struct jobs_watch *jobs_watch(struct jobs *t, struct job *only, jobs_watch_fn fn, void *data)
{
	struct jobs_watch *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	*w = (struct jobs_watch){.only = only, .fn = fn, .data = data};
	if (only)
		LIST_INSERT_HEAD(&only->watches, w, link);
	else
		LIST_INSERT_HEAD(&t->watches, w, link);
	return w;
}

void jobs_unwatch(struct jobs *t, struct jobs_watch *w)
{
	if (w == NULL || w->removed)
		return;
	w->removed = true;
	if (t->delivering == 0) {
		LIST_REMOVE(w, link);
		free(w);
	} else {
		t->swept_pending = true;
	}
}

static void sweep_list(struct jobs_watch *first)
{
	struct jobs_watch *w = first, *next;

	for (; w != NULL; w = next) {
		next = LIST_NEXT(w, link);
		if (w->removed) {
			LIST_REMOVE(w, link);
			free(w);
		}
	}
}

static void deliver(struct jobs_watch *first, struct job *j, enum job_event ev)
{
	for (struct jobs_watch *w = first; w != NULL; w = LIST_NEXT(w, link))
		if (!w->removed)
			w->fn(j, ev, w->data);
}

void jobs_emit(struct jobs *t, struct job *j, enum job_event ev)
{
	t->delivering++;
	deliver(LIST_FIRST(&j->watches), j, ev);
	deliver(LIST_FIRST(&t->watches), j, ev);
	if (--t->delivering == 0 && t->swept_pending) {
		t->swept_pending = false;
		sweep_list(LIST_FIRST(&t->watches));
		/* Watches of single jobs are swept with their job's next
		 * event or its removal. */
	}
	if (t->delivering == 0)
		sweep_list(LIST_FIRST(&j->watches));
}

void jobs_watch_free(struct jobs_watch *w)
{
	LIST_REMOVE(w, link);
	free(w);
}

void jobs_emit_removed(struct jobs *t, struct job *j)
{
	jobs_emit(t, j, JOB_EVENT_REMOVED);
	/* Whoever still watches this job was told; the watches go with it. */
	while (!LIST_EMPTY(&j->watches))
		jobs_watch_free(LIST_FIRST(&j->watches));
}

void jobs_unwatch_all(struct jobs *t)
{
	while (!LIST_EMPTY(&t->watches)) {
		struct jobs_watch *w = LIST_FIRST(&t->watches);

		LIST_REMOVE(w, link);
		free(w);
	}
}
