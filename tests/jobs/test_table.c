/* The job table in memory: ids, lookups, newest-first order, removal,
 * status transitions and their times, progress, pruning rules. */
#include "jobs_test.h"

#include "uuid.h"

static bool is_uuid_v4(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static void test_uuid(void)
{
	char a[37], b[37];
	struct pm_error err;

	CHECK(uuid_v4(a, &err) == 0);
	CHECK(uuid_v4(b, &err) == 0);
	CHECK(is_uuid_v4(a));
	CHECK(is_uuid_v4(b));
	CHECK(strcmp(a, b) != 0);
}

static void test_create_get_order_remove(uv_loop_t *loop, const char *dir)
{
	enum { N = 1000 };
	static struct job *made[N];
	struct pm_error err;
	struct job *j;
	struct jobs *t;
	size_t n;
	int rc;

	t = open_table(loop, dir, 1 << 20, 0.05, &rc, &err);
	CHECK(t != NULL && rc == 0);
	if (t == NULL)
		return;
	CHECK(jobs_count(t) == 0);
	CHECK(jobs_newest(t) == NULL);
	CHECK(jobs_get(t, "nope") == NULL);
	CHECK(jobs_get(t, NULL) == NULL);
	for (int i = 0; i < N; i++) {
		char label[32];

		snprintf(label, sizeof(label), "label-%d", i);
		made[i] = jobs_create(t, "py_run_script_in_dir", i % 2 ? label : NULL, NULL, &err);
		CHECK(made[i] != NULL);
		if (made[i] == NULL)
			return;
	}
	CHECK(jobs_count(t) == N);
	/* Every id is a v4 UUID, unique, found again by the index (which grew
	 * from 64 buckets on the way). */
	for (int i = 0; i < N; i++) {
		CHECK(is_uuid_v4(made[i]->id));
		CHECK(jobs_get(t, made[i]->id) == made[i]);
		CHECK(made[i]->status == JOB_PENDING);
		CHECK(made[i]->created_at > 1.6e9);
		CHECK(made[i]->started_at == 0 && made[i]->completed_at == 0);
		CHECK_STR(made[i]->tool, "py_run_script_in_dir");
		/* No label: the tool's name, as the original server did. */
		if (i % 2 == 0)
			CHECK_STR(made[i]->label, "py_run_script_in_dir");
	}
	/* Newest first, in creation order. */
	n = 0;
	for (j = jobs_newest(t); j != NULL; j = jobs_older(j), n++)
		CHECK(j == made[N - 1 - n]);
	CHECK(n == N);
	/* Removing from the middle, the ends, then looking up again. */
	char gone[3][37];
	strcpy(gone[0], made[500]->id);
	strcpy(gone[1], made[0]->id);
	strcpy(gone[2], made[N - 1]->id);
	jobs_remove(t, made[500]);
	jobs_remove(t, made[0]);
	jobs_remove(t, made[N - 1]);
	CHECK(jobs_count(t) == N - 3);
	for (int i = 0; i < 3; i++)
		CHECK(jobs_get(t, gone[i]) == NULL);
	CHECK(jobs_newest(t) == made[N - 2]);
	CHECK(jobs_older(made[501]) == made[499]);
	CHECK(jobs_older(made[1]) == NULL);
	CHECK(jobs_get(t, made[1]->id) == made[1]);
	/* The removed job's directory went with it. */
	{
		char path[512];
		snprintf(path, sizeof(path), "%s/jobs/%s", dir, gone[0]);
		CHECK(access(path, F_OK) != 0);
		snprintf(path, sizeof(path), "%s/jobs/%s", dir, made[1]->id);
		CHECK(access(path, F_OK) == 0);
	}
	close_table(loop, t);
}

static void test_status_and_progress(uv_loop_t *loop, const char *dir)
{
	struct pm_error err;
	struct jobs *t;
	struct job *j;
	json_t *o;
	int rc;

	t = open_table(loop, dir, 1 << 20, 0.05, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	j = jobs_create(t, "py_run_saved_script", "mine", NULL, &err);
	o = job_to_json(t, j);
	CHECK_STR(json_string_value(json_object_get(o, "status")), "pending");
	CHECK_STR(json_string_value(json_object_get(o, "label")), "mine");
	CHECK(json_is_null(json_object_get(o, "started_at")));
	CHECK(json_is_null(json_object_get(o, "completed_at")));
	CHECK(json_is_null(json_object_get(o, "result")));
	CHECK(json_is_null(json_object_get(o, "error")));
	CHECK(json_is_null(json_object_get(o, "progress")));
	CHECK(json_object_size(o) == 9);
	json_decref(o);

	jobs_set_status(t, j, JOB_RUNNING, NULL, NULL);
	CHECK(j->started_at >= j->created_at);
	CHECK(j->completed_at == 0);
	jobs_set_progress(t, j, 50, 100, "halfway");
	o = job_to_json(t, j);
	CHECK(json_integer_value(json_object_get(json_object_get(o, "progress"), "current")) == 50);
	CHECK(json_integer_value(json_object_get(json_object_get(o, "progress"), "total")) == 100);
	CHECK_STR(json_string_value(json_object_get(json_object_get(o, "progress"), "message")),
		  "halfway");
	json_decref(o);
	jobs_set_progress(t, j, 0.5, 1, NULL);
	CHECK(json_real_value(json_object_get(j->progress, "current")) == 0.5);

	jobs_set_status(t, j, JOB_COMPLETED, json_pack("{s:s,s:i}", "stdout", "hi", "exit_code", 0),
			NULL);
	CHECK(j->completed_at >= j->started_at);
	CHECK(job_status_is_final(j->status));
	o = job_to_json(t, j);
	CHECK_STR(json_string_value(json_object_get(json_object_get(o, "result"), "stdout")), "hi");
	/* "2025-12-17T14:30:00": 19 characters, no zone suffix. */
	CHECK(strlen(json_string_value(json_object_get(o, "created_at"))) == 19);
	CHECK(json_string_value(json_object_get(o, "created_at"))[10] == 'T');
	json_decref(o);

	{
		json_t *tm = job_time_json(1766068200.75); /* 2025-12-18T14:30:00.75Z */
		CHECK_STR(json_string_value(tm), "2025-12-18T14:30:00");
		json_decref(tm);
		tm = job_time_json(0);
		CHECK(json_is_null(tm));
		json_decref(tm);
	}
	{
		enum job_status s;
		CHECK(job_status_parse("cancelled", &s) == 0 && s == JOB_CANCELLED);
		CHECK(job_status_parse("finished", &s) < 0);
		CHECK_STR(job_status_name(JOB_FAILED), "failed");
		CHECK(!job_status_is_final(JOB_PENDING) && !job_status_is_final(JOB_RUNNING));
	}
	jobs_remove(t, j);
	close_table(loop, t);
}

/* Builds a job in a given state, finished `age` seconds before `now`. */
static struct job *aged(struct jobs *t, enum job_status s, double now, double age)
{
	struct pm_error err;
	struct job *j = jobs_create(t, "tool", NULL, NULL, &err);

	jobs_set_status(t, j, s, NULL, NULL);
	j->created_at = now - age - 10;
	if (job_status_is_final(s))
		j->completed_at = now - age;
	return j;
}

static void test_prune(uv_loop_t *loop, const char *dir)
{
	double now = jobs_now(), day = 86400;
	struct pm_error err;
	struct jobs *t;
	int rc;

	t = open_table(loop, dir, 1 << 20, 0.05, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	struct job *old_done = aged(t, JOB_COMPLETED, now, 2 * day);
	struct job *old_failed = aged(t, JOB_FAILED, now, 2 * day);
	struct job *old_cancelled = aged(t, JOB_CANCELLED, now, 2 * day);
	struct job *old_running = aged(t, JOB_RUNNING, now, 2 * day);
	struct job *old_pending = aged(t, JOB_PENDING, now, 2 * day);
	struct job *new_cancelled = aged(t, JOB_CANCELLED, now, 3600);
	char ids[6][37];
	strcpy(ids[0], old_done->id);
	strcpy(ids[1], old_failed->id);
	strcpy(ids[2], old_cancelled->id);
	strcpy(ids[3], old_running->id);
	strcpy(ids[4], old_pending->id);
	strcpy(ids[5], new_cancelled->id);
	/* Defaults: completed and failed kept, so only the old cancelled one. */
	CHECK(jobs_prune(t, NULL, true, true, day, now) == 1);
	CHECK(jobs_get(t, ids[2]) == NULL);
	CHECK(jobs_get(t, ids[5]) != NULL);
	CHECK(jobs_prune(t, NULL, false, true, day, now) == 1);
	CHECK(jobs_get(t, ids[0]) == NULL);
	CHECK(jobs_get(t, ids[1]) != NULL);
	/* A running job the age of the universe is still never pruned, nor a
	 * job the runner holds. */
	old_failed->run = (void *)1;
	CHECK(jobs_prune(t, NULL, false, false, 0, now) == 1); /* new_cancelled */
	CHECK(jobs_get(t, ids[1]) != NULL);
	old_failed->run = NULL;
	CHECK(jobs_prune(t, NULL, false, false, 0, now) == 1);
	CHECK(jobs_get(t, ids[3]) != NULL && jobs_get(t, ids[4]) != NULL);
	CHECK(jobs_count(t) == 2);
	close_table(loop, t);
}

int main(void)
{
	uv_loop_t loop;
	char *dir = make_state_dir();
	char sub[4][600];

	uv_loop_init(&loop);
	for (int i = 0; i < 4; i++)
		snprintf(sub[i], sizeof(sub[i]), "%s/state%d/nested", dir, i);
	test_uuid();
	test_create_get_order_remove(&loop, sub[0]);
	test_status_and_progress(&loop, sub[1]);
	test_prune(&loop, sub[2]);
	CHECK(uv_loop_close(&loop) == 0);
	remove_tree(dir);
	free(dir);
	return check_done("jobs.table");
}
