/* jobs.json: round trip, restart semantics, corrupt and foreign files,
 * coalescing of saves, and the cost of saving and loading 10,000 jobs. */
#include "jobs_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <time.h>

#include "jobs_internal.h"

static char *meta_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/meta/%s", dir, name) < 0)
		exit(2);
	return p;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_round_trip(uv_loop_t *loop, const char *dir)
{
	struct pm_error err;
	struct jobs *t;
	struct job *a, *b, *c;
	json_t *before = json_array(), *after = json_array();
	int rc;

	t = open_table(loop, dir, 1000, 0.05, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	a = jobs_create(t, "py_run_script_in_dir", "first", NULL, &err);
	b = jobs_create(t, "py_benchmark_script", NULL, NULL, &err);
	c = jobs_create(t, "py_run_saved_script", "caf\xC3\xA9", NULL, &err);
	jobs_set_status(t, a, JOB_RUNNING, NULL, NULL);
	jobs_append_output(t, a, JOB_STDOUT, "line\n", 5, &err);
	jobs_set_status(t, a, JOB_COMPLETED,
			json_pack("{s:s,s:s,s:i,s:f}", "stdout", "line\n", "stderr", "",
				  "exit_code", 0, "elapsed_seconds", 0.25),
			NULL);
	a->cursor[JOB_STDOUT] = 3;
	jobs_touch(t, a);
	jobs_set_status(t, b, JOB_RUNNING, NULL, NULL);
	jobs_set_progress(t, b, 3, 10, "step 3");
	jobs_set_status(t, b, JOB_FAILED, NULL, "exploded");
	jobs_set_status(t, c, JOB_CANCELLED, NULL, NULL);
	for (struct job *j = jobs_newest(t); j; j = jobs_older(j))
		json_array_append_new(before, job_to_record(j));
	CHECK(jobs_flush(t, &err) == 0);
	close_table(loop, t);

	t = open_table(loop, dir, 1000, 0.05, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	CHECK(rc == 0);
	CHECK(jobs_count(t) == 3);
	for (struct job *j = jobs_newest(t); j; j = jobs_older(j))
		json_array_append_new(after, job_to_record(j));
	CHECK(json_equal(before, after));
	if (!json_equal(before, after)) {
		char *x = json_dumps(before, JSON_INDENT(1)),
		     *y = json_dumps(after, JSON_INDENT(1));
		fprintf(stderr, "before: %s\nafter: %s\n", x, y);
		free(x);
		free(y);
	}
	/* The file itself: an array, one job per line, TOOLS.md fields. */
	{
		char *path = meta_path(dir, "jobs.json");
		json_error_t jerr;
		json_t *file = json_load_file(path, 0, &jerr);
		json_t *first = json_array_get(file, 0);

		CHECK(json_is_array(file) && json_array_size(file) == 3);
		CHECK_STR(json_string_value(json_object_get(first, "label")), "caf\xC3\xA9");
		CHECK_STR(json_string_value(json_object_get(first, "status")), "cancelled");
		CHECK(json_object_get(first, "created_at") != NULL);
		CHECK(json_object_get(first, "output") != NULL);
		json_decref(file);
		free(path);
	}
	close_table(loop, t);
	json_decref(before);
	json_decref(after);
}

static void test_restart(uv_loop_t *loop, const char *dir)
{
	struct pm_error err;
	struct jobs *t;
	char pending[37], running[37], done[37];
	int rc;

	t = open_table(loop, dir, 1000, 0.05, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	strcpy(pending, jobs_create(t, "tool", NULL, NULL, &err)->id);
	struct job *r = jobs_create(t, "tool", NULL, NULL, &err);
	jobs_set_status(t, r, JOB_RUNNING, NULL, NULL);
	strcpy(running, r->id);
	struct job *d = jobs_create(t, "tool", NULL, NULL, &err);
	jobs_set_status(t, d, JOB_COMPLETED, json_object(), NULL);
	strcpy(done, d->id);
	close_table(loop, t); /* as if killed: nobody finished the jobs */

	t = open_table(loop, dir, 1000, 0.01, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	CHECK(rc == 0);
	const char *ids[2] = {pending, running};
	for (int i = 0; i < 2; i++) {
		struct job *j = jobs_get(t, ids[i]);
		CHECK(j != NULL && j->status == JOB_FAILED);
		CHECK(j && j->error &&
		      strcmp(j->error, "Server restarted while job was running") == 0);
		CHECK(j && j->completed_at > 0);
	}
	CHECK(jobs_get(t, done)->status == JOB_COMPLETED);
	CHECK(jobs_get(t, done)->error == NULL);
	/* The change is saved by itself, without waiting for another one. */
	uv_run(loop, UV_RUN_DEFAULT);
	CHECK(t->saves == 1);
	{
		char *path = meta_path(dir, "jobs.json");
		json_t *file = json_load_file(path, 0, NULL);
		size_t i;
		json_t *rec;
		json_array_foreach (file, i, rec)
			CHECK(strcmp(json_string_value(json_object_get(rec, "status")),
				     "pending") != 0 &&
			      strcmp(json_string_value(json_object_get(rec, "status")),
				     "running") != 0);
		json_decref(file);
		free(path);
	}
	close_table(loop, t);
}

static size_t count_aside(const char *dir)
{
	char *pattern = meta_path(dir, "jobs.json.corrupt-*");
	glob_t g;
	size_t n = 0;

	if (glob(pattern, 0, NULL, &g) == 0)
		n = g.gl_pathc;
	globfree(&g);
	free(pattern);
	return n;
}

/* Opens a table on `content` as jobs.json and checks it recovers. */
static struct jobs *open_on(uv_loop_t *loop, const char *dir, const char *content, int expected_rc,
			    size_t expected_jobs, const char *what)
{
	char *path = meta_path(dir, "jobs.json");
	struct pm_error err = {0};
	struct jobs *t;
	size_t aside = count_aside(dir);
	int rc;

	mkdir(dir, 0700);
	{
		char *meta;
		if (asprintf(&meta, "%s/meta", dir) < 0)
			exit(2);
		mkdir(meta, 0700);
		free(meta);
	}
	write_file(path, content);
	free(path);
	t = open_table(loop, dir, 1000, 0.05, &rc, &err);
	if (t == NULL || rc != expected_rc || jobs_count(t) != expected_jobs) {
		fprintf(stderr, "%s: rc %d, %zu jobs, message: %s\n", what, rc,
			t ? jobs_count(t) : 0, err.message);
		failures++;
	}
	if (expected_rc == JOBS_OPEN_RECOVERED) {
		CHECK(strstr(err.message, "moved aside") != NULL);
		CHECK(count_aside(dir) == aside + 1);
	}
	return t;
}

static void test_corrupt(uv_loop_t *loop, const char *dir)
{
	struct jobs *t;
	char *path = meta_path(dir, "jobs.json");

	/* A torn or garbage file: set aside whole, start empty, save anew. */
	t = open_on(loop, dir, "[{\"id\": \"abc\", \"status\": \"compl", JOBS_OPEN_RECOVERED, 0,
		    "torn");
	if (t)
		close_table(loop, t);
	{
		json_t *file = json_load_file(path, 0, NULL);
		CHECK(json_is_array(file) && json_array_size(file) == 0);
		json_decref(file);
	}
	t = open_on(loop, dir, "", JOBS_OPEN_RECOVERED, 0, "empty");
	if (t)
		close_table(loop, t);
	t = open_on(loop, dir, "{\"jobs\": []}", JOBS_OPEN_RECOVERED, 0, "object");
	if (t)
		close_table(loop, t);
	/* Bad entries are skipped, the good ones kept, the file set aside. */
	t = open_on(
	    loop, dir,
	    "[{\"id\": \"good-1\", \"status\": \"completed\"},"
	    " {\"id\": \"bad-status\", \"status\": \"done\"},"
	    " {\"id\": \"../../etc\", \"status\": \"failed\"},"
	    " {\"id\": \"good-1\", \"status\": \"failed\"},"
	    " {\"id\": \"bad-time\", \"status\": \"failed\", \"created_at\": \"yesterday\"},"
	    " 42]",
	    JOBS_OPEN_RECOVERED, 1, "bad entries");
	if (t) {
		CHECK(jobs_get(t, "good-1") != NULL &&
		      jobs_get(t, "good-1")->status == JOB_COMPLETED);
		close_table(loop, t);
	}
	/* A file of the original server: no output counters, microseconds
	 * and zones in the times. */
	t = open_on(
	    loop, dir,
	    "[{\"id\": \"0f1e2d3c4b5a69788796a5b4c3d2e1f0\", \"label\": \"py_run_script_in_dir\","
	    " \"status\": \"completed\", \"created_at\": \"2025-12-17T14:30:00.123456\","
	    " \"started_at\": \"2025-12-17T14:30:01+00:00\", \"completed_at\": "
	    "\"2025-12-17T15:31:15Z\", \"result\": {\"stdout\": \"hi\\n\", \"exit_code\": 0},"
	    " \"error\": null, \"progress\": null}]",
	    0, 1, "original server's file");
	if (t) {
		struct job *j = jobs_get(t, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
		CHECK(j != NULL);
		if (j) {
			json_t *o = job_to_json(t, j);
			CHECK_STR(json_string_value(json_object_get(o, "created_at")),
				  "2025-12-17T14:30:00");
			CHECK_STR(json_string_value(json_object_get(o, "started_at")),
				  "2025-12-17T14:30:01");
			CHECK_STR(json_string_value(json_object_get(o, "completed_at")),
				  "2025-12-17T15:31:15");
			CHECK(j->kept[0] == 0 && j->produced[0] == 0);
			json_decref(o);
		}
		close_table(loop, t);
	}
	/* Temp files left by crashes mid-save are removed; that of a live
	 * process (another server on the same directory) is not. */
	{
		char *dead = meta_path(dir, "jobs.json.tmp.999999999");
		char *old = meta_path(dir, "jobs.json.tmp");
		char *live, name[64];

		snprintf(name, sizeof(name), "jobs.json.tmp.%ld", (long)getppid());
		live = meta_path(dir, name);
		write_file(dead, "[");
		write_file(old, "[");
		write_file(live, "[");
		t = open_on(loop, dir, "[]", 0, 0, "stale temp files");
		CHECK(access(dead, F_OK) != 0);
		CHECK(access(old, F_OK) != 0);
		CHECK(access(live, F_OK) == 0);
		if (t)
			close_table(loop, t);
		unlink(live);
		free(dead);
		free(old);
		free(live);
	}
	/* No file at all: empty, nothing to report. */
	unlink(path);
	{
		struct pm_error err;
		int rc;
		t = open_table(loop, dir, 1000, 0.05, &rc, &err);
		CHECK(t != NULL && rc == 0 && jobs_count(t) == 0);
		if (t)
			close_table(loop, t);
	}
	free(path);
}

static void test_unusable_dir(uv_loop_t *loop, const char *dir)
{
	struct pm_error err = {0};
	char *file;
	int rc;

	/* The state "directory" is a file: a clear error, no table. */
	if (asprintf(&file, "%s/not-a-dir", dir) < 0)
		exit(2);
	mkdir(dir, 0700);
	write_file(file, "x");
	CHECK(open_table(loop, file, 1000, 0.05, &rc, &err) == NULL);
	CHECK(rc < 0 && strstr(err.message, "not-a-dir") != NULL);
	free(file);
}

static void on_error(const struct pm_error *err, void *data)
{
	(void)err;
	(*(int *)data)++;
}

/* Many changes within one window cost one write. */
static void test_coalescing(uv_loop_t *loop, const char *dir)
{
	struct pm_error err;
	struct jobs *t;
	int rc, errors = 0;

	t = open_table(loop, dir, 1000, 0.2, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	jobs_set_error_handler(t, on_error, &errors);
	for (int i = 0; i < 1000; i++) {
		struct job *j = jobs_create(t, "tool", NULL, NULL, &err);
		jobs_set_status(t, j, JOB_RUNNING, NULL, NULL);
		jobs_set_progress(t, j, i, 1000, NULL);
		jobs_set_status(t, j, JOB_COMPLETED, json_object(), NULL);
	}
	/* Nothing written yet, and the one write waits for the window (200
	 * ms of loop time from the first change, not of the clock). */
	CHECK(t->saves == 0);
	CHECK(uv_timer_get_due_in(&t->save_timer) == 200);
	uv_run(loop, UV_RUN_DEFAULT);
	CHECK(t->saves == 1);
	CHECK(errors == 0);
	{
		char *path = meta_path(dir, "jobs.json");
		json_t *file = json_load_file(path, 0, NULL);
		CHECK(json_array_size(file) == 1000);
		json_decref(file);
		free(path);
	}
	close_table(loop, t);
}

/* 10,000 jobs: one save and one load, every job back (times printed, not judged). */
static void test_scale(uv_loop_t *loop, const char *dir)
{
	struct pm_error err;
	struct jobs *t;
	double t0, save, load;
	int rc;
	char probe[37];

	t = open_table(loop, dir, 1000, 0.2, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	for (int i = 0; i < 10000; i++) {
		struct job *j = jobs_create(t, "py_run_script_in_dir", NULL, NULL, &err);
		if (j == NULL) {
			CHECK(j != NULL);
			break;
		}
		jobs_set_status(t, j, JOB_COMPLETED,
				json_pack("{s:s,s:s,s:i,s:s,s:f}", "stdout", "hello world\n",
					  "stderr", "", "exit_code", 0, "execution_strategy",
					  "system-python", "elapsed_seconds", 0.05),
				NULL);
		if (i == 5000)
			strcpy(probe, j->id);
	}
	t0 = seconds();
	CHECK(jobs_flush(t, &err) == 0);
	save = seconds() - t0;
	close_table(loop, t);
	t0 = seconds();
	t = open_table(loop, dir, 1000, 0.2, &rc, &err);
	load = seconds() - t0;
	CHECK(t != NULL && jobs_count(t) == 10000);
	if (t == NULL)
		return;
	CHECK(jobs_get(t, probe) != NULL);
	/* Informational; bench/server.py measures against a baseline. */
	printf("10000 jobs: save %.1f ms, load %.1f ms\n", save * 1e3, load * 1e3);
	close_table(loop, t);
}

int main(void)
{
	uv_loop_t loop;
	char *dir = make_state_dir();
	char sub[6][600];

	uv_loop_init(&loop);
	for (int i = 0; i < 6; i++)
		snprintf(sub[i], sizeof(sub[i]), "%s/s%d", dir, i);
	test_round_trip(&loop, sub[0]);
	test_restart(&loop, sub[1]);
	test_corrupt(&loop, sub[2]);
	test_unusable_dir(&loop, sub[3]);
	test_coalescing(&loop, sub[4]);
	test_scale(&loop, sub[5]);
	CHECK(uv_loop_close(&loop) == 0);
	remove_tree(dir);
	free(dir);
	return check_done("jobs.persistence");
}
