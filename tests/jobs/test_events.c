/* Watching jobs live (job_events.c): watches of one job and of all, the
 * events each change makes, unwatching from inside a callback (one's own
 * and another's), a removed job telling its watchers and taking its
 * watches with it. */
#include "jobs_test.h"

struct seen {
	int status, output, progress, removed;
	struct jobs *t;
	struct jobs_watch *self, *other; /* unwatched from the callback */
};

static void count(struct job *j, enum job_event ev, void *data)
{
	struct seen *s = data;

	(void)j;
	s->status += ev == JOB_EVENT_STATUS;
	s->output += ev == JOB_EVENT_OUTPUT;
	s->progress += ev == JOB_EVENT_PROGRESS;
	s->removed += ev == JOB_EVENT_REMOVED;
	if (s->self) {
		jobs_unwatch(s->t, s->self);
		s->self = NULL;
	}
	if (s->other) {
		jobs_unwatch(s->t, s->other);
		s->other = NULL;
	}
}

int main(void)
{
	uv_loop_t loop;
	char *dir = make_state_dir();
	struct pm_error err;
	int rc;
	struct seen all = {0}, one = {0}, quitter = {0}, victim = {0}, killer = {0};

	uv_loop_init(&loop);
	struct jobs *t = open_table(&loop, dir, 1 << 20, 0.05, &rc, &err);
	CHECK(t != NULL);
	struct job *a = jobs_create(t, "py_run_script_in_dir", NULL, NULL, &err);
	struct job *b = jobs_create(t, "py_run_script_in_dir", NULL, NULL, &err);
	CHECK(a && b);

	CHECK(jobs_watch(t, NULL, count, &all) != NULL);
	CHECK(jobs_watch(t, a, count, &one) != NULL);
	quitter.t = t;
	quitter.self = jobs_watch(t, a, count, &quitter);
	/* killer removes victim's watch, both on b, whichever runs first. */
	struct jobs_watch *vw = jobs_watch(t, b, count, &victim);
	killer.t = t;
	killer.other = vw;
	CHECK(jobs_watch(t, b, count, &killer) != NULL);

	jobs_set_status(t, a, JOB_RUNNING, NULL, NULL);
	CHECK(jobs_append_output(t, a, JOB_STDOUT, "hi\n", 3, &err) == 0);
	jobs_set_progress(t, a, 1, 2, "half");
	jobs_set_status(t, b, JOB_RUNNING, NULL, NULL);
	jobs_set_status(t, b, JOB_COMPLETED, NULL, NULL);
	CHECK(all.status == 3 && all.output == 1 && all.progress == 1);
	CHECK(one.status == 1 && one.output == 1 && one.progress == 1);
	CHECK(quitter.status == 1 && quitter.output == 0); /* gone after its first event */
	CHECK(killer.status == 2);
	CHECK(victim.status <= 1); /* at most the event it shared with killer */

	/* A removed job tells its watchers once, then its watches go. */
	jobs_set_status(t, a, JOB_COMPLETED, NULL, NULL);
	jobs_remove(t, a);
	CHECK(one.removed == 1 && all.removed == 1);
	CHECK(one.status == 2);

	close_table(&loop, t);
	CHECK(uv_loop_close(&loop) == 0);
	remove_tree(dir);
	free(dir);
	return check_done("jobs.events");
}
