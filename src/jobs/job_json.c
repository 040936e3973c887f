/* The JSON forms of a job: the object the tools return (TOOLS.md) and the
 * entry saved in jobs.json, which adds what a restart needs. */
#include "jobs_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const status_names[] = {
    [JOB_PENDING] = "pending", [JOB_RUNNING] = "running",     [JOB_COMPLETED] = "completed",
    [JOB_FAILED] = "failed",   [JOB_CANCELLED] = "cancelled",
};

static const char *const stream_names[] = {[JOB_STDOUT] = "stdout", [JOB_STDERR] = "stderr"};

const char *job_status_name(enum job_status s)
{
	if ((unsigned)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "unknown";
}

int job_status_parse(const char *name, enum job_status *out)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum job_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool job_status_is_final(enum job_status s)
{
	return s == JOB_COMPLETED || s == JOB_FAILED || s == JOB_CANCELLED;
}

/* Ids become directory names under <state>/jobs, so an id read back from
 * jobs.json must not be able to name anything else ("..", "a/b"). */
bool job_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* Up to 9999-12-31T23:59:59: what four digits of year can say. */
#define TIME_MAX 253402300799.0

json_t *job_time_json(double t)
{
	time_t secs;
	struct tm tm;
	char buf[32];

	if (!(t > 0 && t <= TIME_MAX))
		return json_null();
	secs = (time_t)t; /* t > 0: truncating is flooring */
	if (gmtime_r(&secs, &tm) == NULL)
		return json_null();
	if (strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return json_null();
	return json_string(buf);
}

/* n decimal digits at *s, advancing it; -1 when they are not there. */
static int digits(const char **s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	return v;
}

/* "YYYY-MM-DDTHH:MM:SS" with optional fraction and zone ("Z", "+HH:MM"):
 * ours has neither, the original server's files may have both.  A time
 * without a zone is UTC, the convention of this server. */
static int iso_parse(const char *s, double *out)
{
	struct tm tm = {0};
	double frac = 0, scale = 0.1;
	int zone = 0;
	time_t secs;

	if ((tm.tm_year = digits(&s, 4)) < 0 || *s++ != '-' || (tm.tm_mon = digits(&s, 2)) < 1 ||
	    *s++ != '-' || (tm.tm_mday = digits(&s, 2)) < 1 || (*s != 'T' && *s != ' '))
		return -EINVAL;
	s++;
	if ((tm.tm_hour = digits(&s, 2)) < 0 || *s++ != ':' || (tm.tm_min = digits(&s, 2)) < 0 ||
	    *s++ != ':' || (tm.tm_sec = digits(&s, 2)) < 0)
		return -EINVAL;
	if (tm.tm_mon > 12 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -EINVAL;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, h, m;

		if ((h = digits(&s, 2)) < 0 || *s++ != ':' || (m = digits(&s, 2)) < 0)
			return -EINVAL;
		zone = sign * (h * 3600 + m * 60);
	}
	if (*s != '\0')
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	secs = timegm(&tm);
	if (secs == (time_t)-1)
		return -EINVAL;
	*out = (double)(secs - zone) + frac;
	return 0;
}

/* The fields both forms share; `result` is stolen (NULL: null). */
static json_t *job_object(const struct job *j, json_t *result)
{
	json_t *o = json_object();
	const char *label = j->label ? j->label : j->tool;

	json_object_set_new(o, "id", json_string(j->id));
	json_object_set_new(o, "label", label ? json_string(label) : json_null());
	json_object_set_new(o, "status", json_string(job_status_name(j->status)));
	json_object_set_new(o, "created_at", job_time_json(j->created_at));
	json_object_set_new(o, "started_at", job_time_json(j->started_at));
	json_object_set_new(o, "completed_at", job_time_json(j->completed_at));
	json_object_set_new(o, "result", result ? result : json_null());
	json_object_set_new(o, "error", j->error ? json_string(j->error) : json_null());
	json_object_set(o, "progress", j->progress ? j->progress : json_null());
	return o;
}

json_t *job_to_json(struct jobs *t, const struct job *j)
{
	return job_object(j, jobs_result(t, j));
}

json_t *job_to_record(const struct job *j)
{
	json_t *o = job_object(j, j->result ? json_loads(j->result, 0, NULL) : NULL);
	json_t *output = json_object();

	json_object_set_new(o, "tool", j->tool ? json_string(j->tool) : json_null());
	if (j->tenant)
		json_object_set_new(o, "tenant", json_string(j->tenant));
	json_object_set_new(o, "result_output", json_boolean(j->result_output));
	json_object_set_new(o, "evicted", json_boolean(j->evicted));
	for (int s = JOB_STDOUT; s <= JOB_STDERR; s++)
		json_object_set_new(output, stream_names[s],
				    json_pack("{s:I,s:I,s:I,s:b}", "produced",
					      (json_int_t)j->produced[s], "kept",
					      (json_int_t)j->kept[s], "cursor",
					      (json_int_t)j->cursor[s], "cut", j->cut[s]));
	if (j->kept_files > 0)
		json_object_set_new(output, "files",
				    json_pack("{s:I}", "kept", (json_int_t)j->kept_files));
	json_object_set_new(o, "output", output);
	if (j->task_ttl_ms > 0)
		json_object_set_new(o, "task",
				    json_pack("{s:I, s:I}", "ttl_ms", (json_int_t)j->task_ttl_ms,
					      "poll_interval_ms", (json_int_t)j->task_poll_ms));
	return o;
}

/* A member that must be a string (or null/absent when optional): *out is
 * a copy, or NULL. */
static int get_string(json_t *rec, const char *key, bool required, char **out, struct pm_error *err)
{
	json_t *v = json_object_get(rec, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return pm_error_set(err, "jobs", 0, "missing `%s`", key);
		return 0;
	}
	if (!json_is_string(v))
		return pm_error_set(err, "jobs", 0, "`%s` must be a string", key);
	*out = strdup(json_string_value(v));
	return *out ? 0 : pm_error_set(err, "jobs", ENOMEM, "`%s`", key);
}

static int get_time(json_t *rec, const char *key, double *out, struct pm_error *err)
{
	json_t *v = json_object_get(rec, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) <= TIME_MAX) {
		*out = json_number_value(v);
		return 0;
	}
	if (!json_is_string(v) || iso_parse(json_string_value(v), out) < 0)
		return pm_error_set(err, "jobs", 0, "`%s` must be an ISO 8601 time or null", key);
	return 0;
}

static int get_object(json_t *rec, const char *key, json_t **out, struct pm_error *err)
{
	json_t *v = json_object_get(rec, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return pm_error_set(err, "jobs", 0, "`%s` must be an object or null", key);
	*out = json_incref(v);
	return 0;
}

static int get_count(json_t *stream, const char *name, const char *key, uint64_t *out,
		     struct pm_error *err)
{
	json_t *v = json_object_get(stream, key);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return pm_error_set(err, "jobs", 0, "`output.%s.%s` must be a count of bytes", name,
				    key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Output counters are ours; files of the original server have none. */
static int get_output(json_t *rec, struct job *j, struct pm_error *err)
{
	json_t *output = json_object_get(rec, "output");
	int r;

	if (output == NULL || json_is_null(output))
		return 0;
	if (!json_is_object(output))
		return pm_error_set(err, "jobs", 0, "`output` must be an object");
	for (int s = JOB_STDOUT; s <= JOB_STDERR; s++) {
		json_t *st = json_object_get(output, stream_names[s]);

		if (st == NULL)
			continue;
		if (!json_is_object(st))
			return pm_error_set(err, "jobs", 0, "`output.%s` must be an object",
					    stream_names[s]);
		if ((r = get_count(st, stream_names[s], "produced", &j->produced[s], err)) < 0 ||
		    (r = get_count(st, stream_names[s], "kept", &j->kept[s], err)) < 0 ||
		    (r = get_count(st, stream_names[s], "cursor", &j->cursor[s], err)) < 0)
			return r;
		j->cut[s] = json_is_true(json_object_get(st, "cut"));
		if (j->produced[s] < j->kept[s])
			j->produced[s] = j->kept[s];
		if (j->cursor[s] > j->kept[s])
			j->cursor[s] = j->kept[s];
	}
	json_t *files = json_object_get(output, "files");
	if (files != NULL && !json_is_object(files))
		return pm_error_set(err, "jobs", 0, "`output.files` must be an object");
	return files ? get_count(files, "files", "kept", &j->kept_files, err) : 0;
}

int job_from_record(json_t *rec, struct job *j, struct pm_error *err)
{
	json_t *v;
	int r;

	if (!json_is_object(rec))
		return pm_error_set(err, "jobs", 0, "not an object");
	v = json_object_get(rec, "id");
	if (!json_is_string(v) || !job_id_valid(json_string_value(v)))
		return pm_error_set(err, "jobs", 0,
				    "`id` must be a string of 1 to 36 letters, digits, - or _");
	strcpy(j->id, json_string_value(v));
	v = json_object_get(rec, "status");
	if (!json_is_string(v) || job_status_parse(json_string_value(v), &j->status) < 0)
		return pm_error_set(err, "jobs", 0,
				    "`status` must be one of pending, running, completed, "
				    "failed, cancelled");
	json_t *result = NULL;
	if ((r = get_string(rec, "label", false, &j->label, err)) < 0 ||
	    (r = get_string(rec, "tool", false, &j->tool, err)) < 0 ||
	    (r = get_string(rec, "tenant", false, &j->tenant, err)) < 0 ||
	    (r = get_string(rec, "error", false, &j->error, err)) < 0 ||
	    (r = get_time(rec, "created_at", &j->created_at, err)) < 0 ||
	    (r = get_time(rec, "started_at", &j->started_at, err)) < 0 ||
	    (r = get_time(rec, "completed_at", &j->completed_at, err)) < 0 ||
	    (r = get_object(rec, "result", &result, err)) < 0 ||
	    (r = get_object(rec, "progress", &j->progress, err)) < 0)
		return r;
	/* Files of older servers keep stdout/stderr inside the result; they
	 * stay as they are (result_output false). */
	j->result_output = json_is_true(json_object_get(rec, "result_output"));
	j->evicted = json_is_true(json_object_get(rec, "evicted"));
	/* A task's retention and polling (absent: no task). */
	json_t *task = json_object_get(rec, "task");
	json_int_t ttl = json_integer_value(json_object_get(task, "ttl_ms"));
	json_int_t poll = json_integer_value(json_object_get(task, "poll_interval_ms"));
	if (ttl > 0 && poll >= 0) {
		j->task_ttl_ms = (int64_t)ttl;
		j->task_poll_ms = (int64_t)poll;
	}
	if (result != NULL) {
		j->result = json_dumps(result, JSON_COMPACT);
		json_decref(result);
		if (j->result == NULL)
			return pm_error_set(err, "jobs", ENOMEM, "`result`");
	}
	return get_output(rec, j, err);
}
