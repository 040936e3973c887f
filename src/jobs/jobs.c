/* The job table: an id index (chained hash) for constant-time lookups
 * whatever the number of jobs, and a tail queue (sys/queue.h), newest first,
 * for listings.  Opening loads jobs.json; every change schedules a save
 * (jobs_save.c). */
#include "jobs_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cleanup.h"
#include "fileio.h"
#include "job_store.h"
#include "uuid.h"

#define INITIAL_BUCKETS 64

static const char restarted[] = "Server restarted while job was running";

double jobs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* FNV-1a: ids are random already; this only has to spread them. */
static uint64_t hash_id(const char *id)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ULL;
	return h;
}

static struct job **bucket_of(const struct jobs *t, const char *id)
{
	return &t->buckets[hash_id(id) & (t->nbuckets - 1)];
}

/* Doubles the buckets.  Failing to is harmless: chains grow longer. */
static void index_grow(struct jobs *t)
{
	size_t n = t->nbuckets * 2;
	struct job **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
	struct job *j;

	TAILQ_FOREACH (j, &t->list, age) {
		struct job **head = bucket_of(t, j->id);

		j->hash_next = *head;
		*head = j;
	}
}

/* Call before linking j into the list (index_grow rehashes the list). */
static void index_add(struct jobs *t, struct job *j)
{
	struct job **head;

	if (t->count + 1 > t->nbuckets)
		index_grow(t);
	head = bucket_of(t, j->id);
	j->hash_next = *head;
	*head = j;
}

static void index_del(struct jobs *t, struct job *j)
{
	for (struct job **p = bucket_of(t, j->id); *p != NULL; p = &(*p)->hash_next) {
		if (*p == j) {
			*p = j->hash_next;
			j->hash_next = NULL;
			return;
		}
	}
}

struct job *jobs_get(struct jobs *t, const char *id)
{
	if (id == NULL)
		return NULL;
	for (struct job *j = *bucket_of(t, id); j != NULL; j = j->hash_next)
		if (strcmp(j->id, id) == 0)
			return j;
	return NULL;
}

static void link_newest(struct jobs *t, struct job *j)
{
	TAILQ_INSERT_HEAD(&t->list, j, age);
	t->count++;
}

static void link_oldest(struct jobs *t, struct job *j)
{
	TAILQ_INSERT_TAIL(&t->list, j, age);
	t->count++;
}

static void unlink_job(struct jobs *t, struct job *j)
{
	TAILQ_REMOVE(&t->list, j, age);
	t->count--;
}

struct job *jobs_newest(struct jobs *t)
{
	return TAILQ_FIRST(&t->list);
}

struct job *jobs_older(const struct job *j)
{
	return TAILQ_NEXT(j, age);
}

size_t jobs_count(const struct jobs *t)
{
	return t->count;
}

const char *jobs_state_dir(const struct jobs *t)
{
	return t->state_dir;
}

struct job *job_new(void)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j != NULL)
		j->fd[0] = j->fd[1] = -1;
	return j;
}

void job_free(struct job *j)
{
	if (j == NULL)
		return;
	/* Watches still on it at shutdown go without being called. */
	while (!LIST_EMPTY(&j->watches)) {
		struct jobs_watch *w = LIST_FIRST(&j->watches);

		jobs_watch_free(w);
	}
	job_output_close(j);
	job_forget_saved(j);
	job_output_tail_free(j);
	free(j->tenant);
	free(j->label);
	free(j->tool);
	free(j->error);
	free(j->result);
	json_decref(j->progress);
	free(j);
}

/* Loads jobs.json into the (empty) table.  Entries that do not make sense
 * are skipped, and the file is then set aside so that nothing is lost when
 * the next save rewrites it without them. */
static int load(struct jobs *t, struct pm_error *err)
{
	_cleanup_json_ json_t *array = NULL;
	_cleanup_free_ char *aside = NULL;
	struct pm_error first = {0};
	size_t i, skipped = 0, first_index = 0;
	double now = jobs_now();
	json_t *rec;
	int r, recovered;

	recovered = job_store_load(t->store, &array, err);
	if (recovered < 0)
		return recovered;
	json_array_foreach (array, i, rec) {
		struct job *j = job_new();
		struct pm_error e;

		if (j == NULL)
			return pm_error_set(err, "jobs", ENOMEM, "load `%s`",
					    job_store_path(t->store));
		r = job_from_record(rec, j, &e);
		if (r == 0 && jobs_get(t, j->id) != NULL)
			r = pm_error_set(&e, "jobs", 0, "duplicate id `%s`", j->id);
		if (r < 0) {
			if (skipped++ == 0) {
				first = e;
				first_index = i;
			}
			job_free(j);
			continue;
		}
		if (!job_status_is_final(j->status)) {
			j->status = JOB_FAILED;
			free(j->error);
			j->error = strdup(restarted);
			j->completed_at = now;
			job_output_recount(t, j);
			t->dirty = true;
		}
		index_add(t, j);
		link_oldest(t, j);
		t->stored_bytes += j->kept[JOB_STDOUT] + j->kept[JOB_STDERR] + j->kept_files;
	}
	if (skipped == 0)
		return recovered;
	r = job_store_move_aside(t->store, &aside, err);
	if (r < 0)
		return pm_error_wrap(err, "`%s` has invalid entries", job_store_path(t->store));
	t->dirty = true;
	pm_error_set(err, "jobs", 0,
		     "`%s`: skipped %zu invalid entries (entry %zu: %s); the file was moved aside "
		     "to `%s`",
		     job_store_path(t->store), skipped, first_index, first.message, aside);
	return JOBS_OPEN_RECOVERED;
}

static void free_contents(struct jobs *t)
{
	while (!TAILQ_EMPTY(&t->list)) {
		struct job *j = TAILQ_FIRST(&t->list);

		TAILQ_REMOVE(&t->list, j, age);
		job_free(j);
	}
	t->count = 0;
	free(t->buckets);
	job_store_unref(t->store);
	free(t->state_dir);
	free(t->jobs_dir);
}

int jobs_open(uv_loop_t *loop, const char *state_dir, const struct jobs_limits *limits,
	      struct jobs **out, struct pm_error *err)
{
	_cleanup_free_ char *meta = NULL;
	struct jobs *t = calloc(1, sizeof(*t));
	int r;

	if (t == NULL)
		return pm_error_set(err, "jobs", ENOMEM, "job table");
	TAILQ_INIT(&t->list);
	SLIST_INIT(&t->hooks);
	t->loop = loop;
	t->limits = *limits;
	t->nbuckets = INITIAL_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->state_dir = strdup(state_dir);
	if (t->buckets == NULL || t->state_dir == NULL ||
	    asprintf(&t->jobs_dir, "%s/jobs", state_dir) < 0 ||
	    asprintf(&meta, "%s/meta", state_dir) < 0) {
		r = pm_error_set(err, "jobs", ENOMEM, "job table");
		goto fail;
	}
	if ((r = pm_mkdirs(state_dir, 0700, "jobs", err)) < 0 ||
	    (r = pm_mkdir(meta, 0700, "jobs", err)) < 0 ||
	    (r = pm_mkdir(t->jobs_dir, 0700, "jobs", err)) < 0 ||
	    (r = job_store_new(meta, &t->store, err)) < 0)
		goto fail;
	r = load(t, err);
	if (r < 0)
		goto fail;
	/* From here on the table holds a handle: it is freed in its close
	 * callback only. */
	jobs_save_init(t);
	if (t->dirty)
		jobs_schedule_save(t); /* persist what the load changed */
	*out = t;
	return r;
fail:
	free_contents(t);
	free(t);
	return r;
}

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

void jobs_close(struct jobs *t)
{
	if (t == NULL)
		return;
	while (!SLIST_EMPTY(&t->hooks)) {
		struct jobs_hook *h = SLIST_FIRST(&t->hooks);

		SLIST_REMOVE_HEAD(&t->hooks, link);
		h->fn(h->data);
		free(h);
	}
	jobs_save_shutdown(t);
	jobs_unwatch_all(t);
	free_contents(t);
	uv_close((uv_handle_t *)&t->save_timer, on_closed);
}

void jobs_set_error_handler(struct jobs *t, void (*fn)(const struct pm_error *err, void *data),
			    void *data)
{
	t->on_error = fn;
	t->on_error_data = data;
}

int jobs_at_close(struct jobs *t, void (*fn)(void *data), void *data)
{
	struct jobs_hook *h = malloc(sizeof(*h));

	if (h == NULL)
		return -ENOMEM;
	*h = (struct jobs_hook){.fn = fn, .data = data};
	SLIST_INSERT_HEAD(&t->hooks, h, link);
	return 0;
}

static bool forgettable(const struct job *j, const struct job *self)
{
	(void)self;
	return job_status_is_final(j->status) && j->run == NULL;
}

/* Past max_kept, a finished job that nothing holds is forgotten, as
 * py_prune_jobs would: history is bounded like output.  It is the oldest
 * of the tenant that keeps the most (job_fair.c). */
static int make_room(struct jobs *t, struct pm_error *err)
{
	if (t->limits.max_kept == 0 || t->count < t->limits.max_kept)
		return 0;
	struct job *j = jobs_fair_victim(t, JOBS_FAIR_BY_COUNT, NULL, forgettable);

	if (j != NULL) {
		jobs_remove(t, j);
		return 0;
	}
	pm_error_set(err, "jobs", EAGAIN, "the server keeps %zu jobs and none of them has ended",
		     t->count);
	return pm_error_hint(err, "wait for jobs to end, or cancel some with py_cancel_job");
}

/* One tenant's history is bounded by its own cap, so that it never
 * pushes out another's: its own oldest finished job goes. */
static int make_room_tenant(struct jobs *t, const char *tenant, struct pm_error *err)
{
	size_t stored = 0, cap = t->limits.max_kept_per_tenant;
	struct job *j, *oldest = NULL;

	if (tenant == NULL || tenant[0] == '\0' || cap == 0)
		return 0;
	TAILQ_FOREACH (j, &t->list, age) {
		if (!jobs_visible(j, tenant))
			continue;
		stored++;
		if (job_status_is_final(j->status) && j->run == NULL)
			oldest = j;
	}
	if (stored < cap)
		return 0;
	if (oldest != NULL) {
		jobs_remove(t, oldest);
		return 0;
	}
	pm_error_set(err, "jobs", EAGAIN,
		     "tenant `%s` has %zu jobs kept, the most one tenant may "
		     "(--tenant-max-stored-jobs), and none of them has ended",
		     tenant, stored);
	return pm_error_hint(err, "wait for jobs to end, or cancel some with py_cancel_job");
}

bool jobs_visible(const struct job *j, const char *tenant)
{
	const char *mine = j->tenant ? j->tenant : "";

	return strcmp(mine, tenant ? tenant : "") == 0;
}

void jobs_count_tenant(const struct jobs *t, const char *tenant, size_t *stored, size_t *live)
{
	const struct job *j;

	*stored = *live = 0;
	TAILQ_FOREACH (j, &t->list, age) {
		if (!jobs_visible(j, tenant))
			continue;
		(*stored)++;
		if (!job_status_is_final(j->status))
			(*live)++;
	}
}

struct job *jobs_create(struct jobs *t, const char *tool, const char *label, const char *tenant,
			struct pm_error *err)
{
	struct job *j;

	if (make_room_tenant(t, tenant, err) < 0 || make_room(t, err) < 0)
		return NULL;
	j = job_new();

	if (j == NULL || (j->tool = strdup(tool)) == NULL ||
	    (j->label = strdup(label ? label : tool)) == NULL ||
	    (tenant && tenant[0] && (j->tenant = strdup(tenant)) == NULL)) {
		pm_error_set(err, "jobs", ENOMEM, "new job");
		job_free(j);
		return NULL;
	}
	/* 122 random bits make a collision absurdly unlikely; checking costs
	 * one lookup and makes it impossible. */
	do {
		if (uuid_v4(j->id, err) < 0) {
			job_free(j);
			return NULL;
		}
	} while (jobs_get(t, j->id) != NULL);
	j->status = JOB_PENDING;
	j->created_at = jobs_now();
	if (job_output_mkdir(t, j, err) < 0) {
		job_free(j);
		return NULL;
	}
	index_add(t, j);
	link_newest(t, j);
	jobs_schedule_save(t);
	return j;
}

/* Kept as text: a parsed object costs several times its text. */
static void store_result(struct job *j, json_t *result_new, bool with_output)
{
	char *text = result_new ? json_dumps(result_new, JSON_COMPACT) : NULL;

	json_decref(result_new);
	if (text != NULL) {
		free(j->result);
		j->result = text;
		j->result_output = with_output;
	}
}

void jobs_end(struct jobs *t, struct job *j, enum job_status status, json_t *result_new,
	      bool with_output, const char *error)
{
	store_result(j, result_new, with_output);
	jobs_set_status(t, j, status, NULL, error);
}

void jobs_set_status(struct jobs *t, struct job *j, enum job_status status, json_t *result_new,
		     const char *error)
{
	double now = jobs_now();

	store_result(j, result_new, false);
	j->status = status;
	if (status == JOB_RUNNING && j->started_at == 0)
		j->started_at = now;
	if (job_status_is_final(status)) {
		if (j->completed_at == 0)
			j->completed_at = now;
		/* No more output is coming; do not hold descriptors for it. */
		job_output_close(j);
	}
	if (error != NULL) {
		char *copy = strdup(error);

		if (copy != NULL) {
			free(j->error);
			j->error = copy;
		}
	}
	job_forget_saved(j);
	jobs_schedule_save(t);
	jobs_emit(t, j, JOB_EVENT_STATUS);
	/* Those told of the end have read the newest output. */
	if (job_status_is_final(status))
		job_output_tail_free(j);
}

void jobs_touch(struct jobs *t, struct job *j)
{
	job_forget_saved(j);
	jobs_schedule_save(t);
}

/* Whole numbers stay integers in JSON, as the original server wrote them. */
static json_t *number(double v)
{
	if (v > -9e15 && v < 9e15 && v == (double)(json_int_t)v)
		return json_integer((json_int_t)v);
	/* NaN and infinities have no JSON form. */
	return json_real(v == v && v > -1e308 && v < 1e308 ? v : 0);
}

void jobs_set_progress(struct jobs *t, struct job *j, double current, double total,
		       const char *message)
{
	json_t *p = json_object();

	json_object_set_new(p, "current", number(current));
	json_object_set_new(p, "total", total < 0 ? json_null() : number(total));
	json_object_set_new(p, "message", message ? json_string(message) : json_null());
	json_decref(j->progress);
	j->progress = p;
	job_forget_saved(j);
	jobs_schedule_save(t);
	jobs_emit(t, j, JOB_EVENT_PROGRESS);
}

void jobs_remove(struct jobs *t, struct job *j)
{
	jobs_emit_removed(t, j);
	index_del(t, j);
	unlink_job(t, j);
	job_output_remove(t, j);
	job_free(j);
	jobs_schedule_save(t);
}

size_t jobs_prune(struct jobs *t, const char *tenant, bool keep_completed, bool keep_failed,
		  double max_age_seconds, double now)
{
	size_t removed = 0;
	struct job *j = TAILQ_LAST(&t->list, job_list);

	while (j != NULL) {
		struct job *newer = TAILQ_PREV(j, job_list, age);
		double since = j->completed_at > 0 ? j->completed_at : j->created_at;
		bool kept = !job_status_is_final(j->status) || j->run != NULL ||
			    (j->status == JOB_COMPLETED && keep_completed) ||
			    (j->status == JOB_FAILED && keep_failed);

		if (!kept && jobs_visible(j, tenant) && now - since > max_age_seconds) {
			jobs_remove(t, j);
			removed++;
		}
		j = newer;
	}
	return removed;
}
