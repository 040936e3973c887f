/* py_cancel_job through the real protocol layer: with a runner that
 * finishes at once, later, refuses, or finds the job already ended, and
 * with calls that join a cancellation or give up on it.  With an
 * argument, the results are written to that file for check_schemas.py. */
#include "mcp_client.h"

struct fake_runner {
	int mode; /* 0: later, 1: at once, 2: refuse */
	int calls;
	struct job *job;
	tools_cancel_done_fn done;
	void *call;
	struct jobs *t;
};

static int fake_cancel(struct job *j, tools_cancel_done_fn done, void *call_data, void *data,
		       struct pm_error *err)
{
	struct fake_runner *f = data;

	f->calls++;
	if (f->mode == 2)
		return pm_error_set(err, "runner", EPERM, "the launcher said no");
	if (f->mode == 1) {
		jobs_set_status(f->t, j, JOB_CANCELLED, NULL, "Job cancelled");
		done(j, call_data);
		return 0;
	}
	f->job = j;
	f->done = done;
	f->call = call_data;
	return 0;
}

static void test_cancel_direct(struct client *c, struct jobs *t)
{
	struct pm_error err;
	struct job *p = jobs_create(t, "tool", NULL, NULL, &err);
	struct job *done = jobs_create(t, "tool", NULL, NULL, &err);
	bool e;
	json_t *r;

	r = call(c, "py_cancel_job", &e, "{\"job_id\": \"%s\"}", p->id);
	CHECK(!e);
	CHECK_STR(str(r, "job_id"), p->id);
	CHECK_STR(str(r, "status"), "cancelled");
	CHECK_STR(str(r, "message"), "Job cancelled");
	CHECK(p->status == JOB_CANCELLED);
	json_decref(r);
	char msg[200];
	snprintf(msg, sizeof(msg), "Job %s is not running (status: cancelled)", p->id);
	CHECK_FAILS(c, "py_cancel_job", msg, "{\"job_id\": \"%s\"}", p->id);
	jobs_set_status(t, done, JOB_COMPLETED, json_object(), NULL);
	snprintf(msg, sizeof(msg), "Job %s is not running (status: completed)", done->id);
	CHECK_FAILS(c, "py_cancel_job", msg, "{\"job_id\": \"%s\"}", done->id);
	CHECK_FAILS(c, "py_cancel_job", "Job nope not found", "{\"job_id\": \"nope\"}");
	CHECK_FAILS(c, "py_cancel_job", "missing required argument `job_id`", "{}");
}

static void test_cancel_runner(struct client *c, struct jobs *t, struct fake_runner *f)
{
	struct pm_error err;
	struct job *j = jobs_create(t, "tool", NULL, NULL, &err);
	json_t *r;
	int id1, id2, id3;
	bool e;

	/* Later: two calls wait for one cancellation; a third gives up. */
	f->mode = 0;
	f->calls = 0;
	jobs_set_status(t, j, JOB_RUNNING, NULL, NULL);
	char args[100];
	snprintf(args, sizeof(args), "{\"job_id\": \"%s\"}", j->id);
	id1 = send_call(c, "py_cancel_job", args);
	id2 = send_call(c, "py_cancel_job", args);
	id3 = send_call(c, "py_cancel_job", args);
	CHECK(f->calls == 1);
	CHECK(take_response(c, id1) == NULL && take_response(c, id2) == NULL);
	send_json(c, json_pack("{s:s,s:s,s:{s:i}}", "jsonrpc", "2.0", "method",
			       "notifications/cancelled", "params", "requestId", id3));
	jobs_set_status(t, j, JOB_CANCELLED, NULL, "Job cancelled");
	f->done(f->job, f->call);
	for (int i = 0; i < 2; i++) {
		json_t *resp = take_response(c, i == 0 ? id1 : id2);
		CHECK(resp != NULL);
		if (resp == NULL)
			continue;
		r = tool_result(resp, &e);
		CHECK(!e);
		CHECK_STR(str(r, "status"), "cancelled");
		CHECK_STR(str(r, "job_id"), j->id);
		json_decref(r);
		json_decref(resp);
	}
	CHECK(take_response(c, id3) == NULL);

	/* At once (a pending job the runner drops from its queue). */
	f->mode = 1;
	j = jobs_create(t, "tool", NULL, NULL, &err);
	r = call(c, "py_cancel_job", &e, "{\"job_id\": \"%s\"}", j->id);
	CHECK(!e);
	CHECK_STR(str(r, "message"), "Job cancelled");
	json_decref(r);

	/* The runner cannot. */
	f->mode = 2;
	j = jobs_create(t, "tool", NULL, NULL, &err);
	CHECK_FAILS(c, "py_cancel_job", "the launcher said no", "{\"job_id\": \"%s\"}", j->id);
	CHECK(j->status == JOB_PENDING);

	/* The job finished by itself before the kill landed. */
	f->mode = 0;
	jobs_set_status(t, j, JOB_RUNNING, NULL, NULL);
	snprintf(args, sizeof(args), "{\"job_id\": \"%s\"}", j->id);
	id1 = send_call(c, "py_cancel_job", args);
	jobs_set_status(t, j, JOB_COMPLETED, json_object(), NULL);
	f->done(f->job, f->call);
	json_t *resp = take_response(c, id1);
	CHECK(resp != NULL);
	if (resp) {
		r = tool_result(resp, &e);
		CHECK(e && strstr(str(r, "error"), "is not running (status: completed)") != NULL);
		json_decref(r);
		json_decref(resp);
	}
}

/* The tools go (the server stops) while the runner is still killing: the
 * call is answered with an error at once, and the runner's late done only
 * frees. */
static void test_cancel_at_close(struct client *c, struct jobs *t, struct fake_runner *f)
{
	struct pm_error err;
	struct job *j = jobs_create(t, "tool", NULL, NULL, &err);
	char args[100];
	json_t *resp, *r;
	bool e;
	int id;

	f->mode = 0;
	jobs_set_status(t, j, JOB_RUNNING, NULL, NULL);
	snprintf(args, sizeof(args), "{\"job_id\": \"%s\"}", j->id);
	id = send_call(c, "py_cancel_job", args);
	CHECK(take_response(c, id) == NULL);
	tools_free(c->tools);
	c->tools = NULL;
	resp = take_response(c, id);
	CHECK(resp != NULL);
	if (resp) {
		r = tool_result(resp, &e);
		CHECK(e && strstr(str(r, "error"), "shutting down") != NULL);
		json_decref(r);
		json_decref(resp);
	}
	f->done(f->job, f->call); /* the job is gone: only the record is freed */
}

int main(int argc, char **argv)
{
	uv_loop_t loop;
	char *dir = make_state_dir();
	char sub[2][600];
	struct client plain = {0}, hooked = {0};
	struct fake_runner runner = {0}, at_once = {.mode = 1};
	struct pm_error err;
	struct jobs *t1, *t2;
	int rc;

	uv_loop_init(&loop);
	for (int i = 0; i < 2; i++)
		snprintf(sub[i], sizeof(sub[i]), "%s/s%d", dir, i);
	t1 = open_table(&loop, sub[0], 1 << 20, 0.05, &rc, &err);
	t2 = open_table(&loop, sub[1], 1 << 20, 0.05, &rc, &err);
	if (t1 == NULL || t2 == NULL) {
		fprintf(stderr, "open: %s\n", err.message);
		return 1;
	}
	runner.t = t2;
	at_once.t = t1;
	client_open(&plain, &loop);
	client_open(&hooked, &loop);
	serve_tools(&plain, t1,
		    (struct tools_config){.cancel = fake_cancel, .cancel_data = &at_once});
	serve_tools(&hooked, t2,
		    (struct tools_config){.cancel = fake_cancel, .cancel_data = &runner});
	if (argc > 1)
		recorded = json_object();
	test_cancel_direct(&plain, t1);
	test_cancel_runner(&hooked, t2, &runner);
	if (recorded) {
		CHECK(json_dump_file(recorded, argv[1], JSON_INDENT(1)) == 0);
		json_decref(recorded);
	}
	test_cancel_at_close(&hooked, t2, &runner);
	client_close(&plain);
	client_close(&hooked);
	jobs_close(t1);
	jobs_close(t2);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(uv_loop_close(&loop) == 0);
	remove_tree(dir);
	free(dir);
	return check_done("jobs.tools_cancel");
}
