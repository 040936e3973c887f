/* The job tools and job-stream:// through the real protocol layer:
 * listings, status with incremental output and truncation markers, list,
 * prune, argument errors, and the speed of py_job_status with 10,000
 * jobs.  Cancellation is in test_tools_cancel.c.
 *
 * With an argument, the speed test is skipped and tools/list plus every
 * result are written to that file for check_schemas.py. */
#include "mcp_client.h"

static void test_listing(struct client *c)
{
	json_t *r = request(c, "tools/list", json_object());
	json_t *tools = json_object_get(json_object_get(r, "result"), "tools"), *tool;
	const char *names[] = {"py_job_status", "py_list_jobs", "py_cancel_job", "py_prune_jobs"};
	size_t i;
	int found = 0;

	json_array_foreach (tools, i, tool) {
		for (int k = 0; k < 4; k++) {
			if (strcmp(str(tool, "name"), names[k]) != 0)
				continue;
			found++;
			CHECK(strlen(str(tool, "description")) > 40);
			CHECK_STR(str(tool, "inputSchema.type"), "object");
			CHECK(json_is_false(json_object_get(json_object_get(tool, "inputSchema"),
							    "additionalProperties")));
			CHECK_STR(str(tool, "outputSchema.type"), "object");
		}
	}
	CHECK(found == 4);
	json_decref(r);
	r = request(c, "resources/templates/list", json_object());
	tools = json_object_get(json_object_get(r, "result"), "resourceTemplates");
	CHECK_STR(str(json_array_get(tools, 0), "uriTemplate"), "job-stream://{job_id}");
	CHECK_STR(str(json_array_get(tools, 0), "mimeType"), "text/plain");
	json_decref(r);
}

static void test_status(struct client *c, struct jobs *t)
{
	struct pm_error err;
	struct job *j = jobs_create(t, "py_run_script_in_dir", "demo", NULL, &err);
	bool e;
	json_t *r;

	r = call(c, "py_job_status", &e, "{\"job_id\": \"%s\"}", j->id);
	CHECK(!e);
	CHECK_STR(str(r, "job.id"), j->id);
	CHECK_STR(str(r, "job.label"), "demo");
	CHECK_STR(str(r, "job.status"), "pending");
	CHECK(strlen(str(r, "job.created_at")) == 19);
	CHECK(json_is_null(json_object_get(json_object_get(r, "job"), "started_at")));
	CHECK_STR(str(r, "job.partial_stdout"), "");
	CHECK_STR(str(r, "job.new_stderr"), "");
	CHECK(json_is_true(json_object_get(r, "incremental")));
	json_decref(r);

	jobs_set_status(t, j, JOB_RUNNING, NULL, NULL);
	append(t, j, JOB_STDOUT, "line1\n");
	append(t, j, JOB_STDERR, "warn\n");
	r = call(c, "py_job_status", &e, "{\"job_id\": \"%s\"}", j->id);
	CHECK_STR(str(r, "job.status"), "running");
	CHECK_STR(str(r, "job.partial_stdout"), "line1\n");
	CHECK_STR(str(r, "job.new_stdout"), "line1\n");
	CHECK_STR(str(r, "job.new_stderr"), "warn\n");
	json_decref(r);
	/* Read once: gone from new_*, still in partial_*. */
	append(t, j, JOB_STDOUT, "line2\n");
	r = call(c, "py_job_status", &e, "{\"job_id\": \"%s\", \"incremental\": true}", j->id);
	CHECK_STR(str(r, "job.partial_stdout"), "line1\nline2\n");
	CHECK_STR(str(r, "job.new_stdout"), "line2\n");
	CHECK_STR(str(r, "job.new_stderr"), "");
	json_decref(r);
	/* incremental=false looks without moving on. */
	append(t, j, JOB_STDOUT, "line3\n");
	for (int i = 0; i < 2; i++) {
		r = call(c, "py_job_status", &e, "{\"job_id\": \"%s\", \"incremental\": false}",
			 j->id);
		CHECK_STR(str(r, "job.new_stdout"), "line3\n");
		CHECK(json_is_false(json_object_get(r, "incremental")));
		json_decref(r);
	}
	CHECK(j->cursor[JOB_STDOUT] == 12);
	/* job-stream:// shows everything and moves nothing. */
	char uri[128];
	snprintf(uri, sizeof(uri), "job-stream://%s", j->id);
	r = request(c, "resources/read", json_pack("{s:s}", "uri", uri));
	json_t *content =
	    json_array_get(json_object_get(json_object_get(r, "result"), "contents"), 0);
	CHECK_STR(str(content, "text"),
		  "---STDOUT---\nline1\nline2\nline3\n\n---STDERR---\nwarn\n");
	CHECK_STR(str(content, "mimeType"), "text/plain");
	CHECK_STR(str(content, "uri"), uri);
	json_decref(r);
	CHECK(j->cursor[JOB_STDOUT] == 12);
	r = request(c, "resources/read", json_pack("{s:s}", "uri", "job-stream://nope"));
	CHECK(json_integer_value(json_object_get(json_object_get(r, "error"), "code")) == -32002);
	json_decref(r);

	jobs_set_status(t, j, JOB_COMPLETED, json_pack("{s:s,s:i}", "stdout", "x", "exit_code", 0),
			NULL);
	r = call(c, "py_job_status", &e, "{\"job_id\": \"%s\"}", j->id);
	CHECK_STR(str(r, "job.status"), "completed");
	CHECK_STR(str(r, "job.result.stdout"), "x");
	CHECK(strlen(str(r, "job.completed_at")) == 19);
	CHECK(json_is_null(json_object_get(json_object_get(r, "job"), "error")));
	json_decref(r);

	/* Errors the model can act on. */
	CHECK_FAILS(c, "py_job_status", "Job nope not found", "{\"job_id\": \"nope\"}");
	CHECK_FAILS(
	    c, "py_job_status", "Job 0123456789012345678901234567890123456789",
	    "{\"job_id\": \"%s\"}",
	    "01234567890123456789012345678901234567890123456789012345678901234567890123456789"
	    "0123456789");
	CHECK_FAILS(c, "py_job_status", "...", "{\"job_id\": \"%0100d\"}", 0);
	CHECK_FAILS(c, "py_job_status", "argument `job_id` must be a string, got an integer",
		    "{\"job_id\": 5}");
	CHECK_FAILS(c, "py_job_status", "missing required argument `job_id`", "{}");
	CHECK_FAILS(c, "py_job_status", "unknown argument `jobid`", "{\"jobid\": \"x\"}");
	CHECK_FAILS(c, "py_job_status", "argument `incremental` must be a boolean",
		    "{\"job_id\": \"%s\", \"incremental\": \"yes\"}", j->id);
}

static void test_truncation(struct client *c, struct jobs *t)
{
	struct pm_error err;
	struct job *j = jobs_create(t, "tool", NULL, NULL, &err);
	char path[700], expect[1200];
	bool e;
	json_t *r;

	snprintf(path, sizeof(path), "%s/jobs/%s/stdout", jobs_state_dir(t), j->id);
	jobs_set_status(t, j, JOB_RUNNING, NULL, NULL);
	append(t, j, JOB_STDOUT, "0123456789abcdefghijklmnopqrstuvwxyzABCD"); /* 40; inline 16 */
	r = call(c, "py_job_status", &e, "{\"job_id\": \"%s\"}", j->id);
	snprintf(expect, sizeof(expect),
		 "0123456789abcdef\n[... 24 bytes not shown; full output in %s]", path);
	CHECK_STR(str(r, "job.partial_stdout"), expect);
	snprintf(expect, sizeof(expect),
		 "0123456789abcdef\n[... 24 more bytes not shown yet; call py_job_status again "
		 "to continue, or read %s]",
		 path);
	CHECK_STR(str(r, "job.new_stdout"), expect);
	json_decref(r);
	r = call(c, "py_job_status", &e, "{\"job_id\": \"%s\"}", j->id);
	CHECK(strncmp(str(r, "job.new_stdout"), "ghijklmnopqrstuv\n[... 8 more", 28) == 0);
	json_decref(r);
	r = call(c, "py_job_status", &e, "{\"job_id\": \"%s\"}", j->id);
	CHECK_STR(str(r, "job.new_stdout"), "wxyzABCD");
	json_decref(r);
	/* Past the disk cap (100 in this table). */
	append(t, j, JOB_STDERR,
	       "0123456789012345678901234567890123456789012345678901234567890123"
	       "456789012345678901234567890123456789012345678901234567890123");
	jobs_set_status(t, j, JOB_FAILED, NULL, "too chatty");
	r = call(c, "py_job_status", &e, "{\"job_id\": \"%s\"}", j->id);
	CHECK(strstr(str(r, "job.partial_stderr"), "[... 84 bytes not shown") != NULL);
	CHECK(strstr(str(r, "job.partial_stderr"),
		     "[... 24 further bytes exceeded the disk cap and were not kept]") != NULL);
	CHECK_STR(str(r, "job.error"), "too chatty");
	json_decref(r);
}

static void test_list(struct client *c, struct jobs *t)
{
	struct pm_error err;
	struct job *a = jobs_create(t, "tool", "a", NULL, &err);
	struct job *b = jobs_create(t, "tool", "b", NULL, &err);
	struct job *d = jobs_create(t, "tool", "d", NULL, &err);
	json_t *r, *list;
	size_t total = jobs_count(t);
	bool e;

	jobs_set_status(t, a, JOB_COMPLETED, json_object(), NULL);
	jobs_set_status(t, b, JOB_FAILED, NULL, "x");
	r = call(c, "py_list_jobs", &e, "{}");
	list = json_object_get(r, "jobs");
	CHECK(!e);
	CHECK(json_array_size(list) == total);
	CHECK(json_integer_value(json_object_get(r, "total")) == (json_int_t)total);
	CHECK_STR(str(json_array_get(list, 0), "id"), d->id);
	CHECK_STR(str(json_array_get(list, 1), "id"), b->id);
	CHECK_STR(str(json_array_get(list, 2), "id"), a->id);
	CHECK(json_object_get(json_array_get(list, 0), "partial_stdout") == NULL);
	CHECK(json_object_size(json_array_get(list, 0)) == 9);
	json_decref(r);
	r = call(c, "py_list_jobs", &e, "{\"status_filter\": \"failed\", \"limit\": 1}");
	list = json_object_get(r, "jobs");
	CHECK(json_array_size(list) == 1 && strcmp(str(json_array_get(list, 0), "id"), b->id) == 0);
	CHECK(json_integer_value(json_object_get(r, "total")) == 1);
	json_decref(r);
	r = call(c, "py_list_jobs", &e, "{\"limit\": 2, \"status_filter\": null}");
	CHECK(json_array_size(json_object_get(r, "jobs")) == 2);
	json_decref(r);
	CHECK_FAILS(c, "py_list_jobs", "argument `limit` must be an integer from 1 to 1000, got 0",
		    "{\"limit\": 0}");
	CHECK_FAILS(c, "py_list_jobs", "argument `status_filter` must be one of pending, running",
		    "{\"status_filter\": \"done\"}");
	CHECK_FAILS(c, "py_list_jobs", "unknown argument `status`", "{\"status\": \"failed\"}");
}

static void test_prune(struct client *c, struct jobs *t)
{
	struct pm_error err;
	double now = jobs_now();
	struct job *old = jobs_create(t, "tool", NULL, NULL, &err);
	struct job *cancelled = jobs_create(t, "tool", NULL, NULL, &err);
	bool e;
	json_t *r;

	jobs_set_status(t, old, JOB_COMPLETED, json_object(), NULL);
	old->completed_at = now - 48 * 3600;
	jobs_set_status(t, cancelled, JOB_CANCELLED, NULL, NULL);
	cancelled->completed_at = now - 25 * 3600;
	size_t before = jobs_count(t);
	r = call(c, "py_prune_jobs", &e, "{}");
	CHECK(!e);
	CHECK(json_integer_value(json_object_get(r, "removed")) == 1);
	CHECK(json_integer_value(json_object_get(r, "remaining")) == (json_int_t)(before - 1));
	json_decref(r);
	r = call(c, "py_prune_jobs", &e, "{\"keep_completed\": false, \"max_age_hours\": 47.5}");
	CHECK(json_integer_value(json_object_get(r, "removed")) == 1);
	json_decref(r);
	CHECK_FAILS(c, "py_prune_jobs", "argument `max_age_hours` must be a number from 0",
		    "{\"max_age_hours\": -1}");
	CHECK_FAILS(c, "py_prune_jobs", "argument `keep_failed` must be a boolean",
		    "{\"keep_failed\": 1}");
}

/* py_job_status with 10,000 jobs stored, end to end through JSON-RPC:
 * every call finds its job.  How long it takes is bench/server.py's
 * business, not a test's. */
static void test_many_jobs(struct client *c, struct jobs *t)
{
	enum { N = 10000, CALLS = 2000 };
	static char ids[N][37];
	struct pm_error err;

	for (int i = 0; i < N; i++) {
		struct job *j = jobs_create(t, "py_run_script_in_dir", NULL, NULL, &err);
		if (j == NULL) {
			CHECK(j != NULL);
			return;
		}
		strcpy(ids[i], j->id);
		jobs_set_status(t, j, JOB_RUNNING, NULL, NULL);
		append(t, j, JOB_STDOUT, "some output of a script\nand another line\n");
		jobs_set_status(t, j, JOB_COMPLETED,
				json_pack("{s:s,s:s,s:i}", "stdout", "some output", "stderr", "",
					  "exit_code", 0),
				NULL);
	}
	CHECK(jobs_count(t) >= N);
	for (int i = 0; i < CALLS; i++) {
		const char *id = ids[(i * 7919) % N];
		bool e;
		json_t *r = call(c, "py_job_status", &e, "{\"job_id\": \"%s\"}", id);
		CHECK(!e);
		CHECK_STR(str(r, "job.id"), id);
		CHECK_STR(str(r, "job.status"), "completed");
		json_decref(r);
	}
}

int main(int argc, char **argv)
{
	uv_loop_t loop;
	char *dir = make_state_dir();
	char sub[3][600];
	struct client plain = {0}, small = {0};
	struct pm_error err;
	struct jobs *t1, *t2, *t3;
	int rc;

	uv_loop_init(&loop);
	for (int i = 0; i < 3; i++)
		snprintf(sub[i], sizeof(sub[i]), "%s/s%d", dir, i);
	t1 = open_table(&loop, sub[0], 1 << 20, 0.05, &rc, &err);
	t2 = open_table(&loop, sub[1], 100, 0.05, &rc, &err);
	t3 = open_table(&loop, sub[2], 1 << 20, 0.2, &rc, &err);
	if (t1 == NULL || t2 == NULL || t3 == NULL) {
		fprintf(stderr, "open: %s\n", err.message);
		return 1;
	}
	client_open(&plain, &loop);
	client_open(&small, &loop);
	serve_tools(&plain, t1, (struct tools_config){0});
	serve_tools(&small, t2, (struct tools_config){.inline_output_bytes = 16});

	if (argc > 1)
		recorded = json_object();
	test_listing(&plain);
	test_status(&plain, t1);
	test_truncation(&small, t2);
	test_list(&plain, t1);
	test_prune(&plain, t1);
	if (recorded) {
		json_t *r = request(&plain, "tools/list", json_object());

		json_object_set(recorded, "tools",
				json_object_get(json_object_get(r, "result"), "tools"));
		CHECK(json_dump_file(recorded, argv[1], JSON_INDENT(1)) == 0);
		json_decref(r);
		json_decref(recorded);
		recorded = NULL;
	} else {
		struct client fast = {0};
		client_open(&fast, &loop);
		serve_tools(&fast, t3, (struct tools_config){0});
		test_many_jobs(&fast, t3);
		client_close(&fast);
	}

	client_close(&plain);
	client_close(&small);
	jobs_close(t1);
	jobs_close(t2);
	jobs_close(t3);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(uv_loop_close(&loop) == 0);
	remove_tree(dir);
	free(dir);
	return check_done("jobs.tools");
}
