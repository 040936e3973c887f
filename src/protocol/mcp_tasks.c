/* Tasks in both wire forms, over the tools layer's jobs-as-tasks
 * (task id = job id):
 *
 * - 2025-11-25 core tasks (legacy sessions that negotiated 2025-11-25):
 *   `capabilities.tasks`, a `task` param on tools/call answered at once
 *   with {"task": {...}}, tasks/get, tasks/result (waits), tasks/list
 *   (cursors), tasks/cancel, notifications/tasks/status on every change of
 *   a task the connection made; a failed job is `failed`.
 * - 2026-07-28 tasks extension (io.modelcontextprotocol/tasks): a request
 *   that declares it gets, past the smart-async budget, a flat
 *   CreateTaskResult (resultType "task"); tasks/get inlines the result or
 *   the error, tasks/update and tasks/cancel are acknowledged; each needs
 *   the extension declared on that request (-32021 otherwise).
 *
 * A task expires with its ttl: unknown from then on (-32602). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "jobs.h"
#include "log.h"
#include "mcp_internal.h"
#include "tools.h"

#define TASKS_EXT	 "io.modelcontextprotocol/tasks"
#define RELATED_TASK	 "io.modelcontextprotocol/related-task"
#define DEFAULT_TTL_MS	 86400000LL  /* a day */
#define MAX_TTL_MS	 604800000LL /* a week */
#define MIN_TTL_MS	 1000LL
#define POLL_INTERVAL_MS 2000LL
#define LIST_PAGE	 50

/* What a connection keeps about tasks: status notifications of the ones
 * it made (legacy), and tasks/result requests waiting for an end. */
struct mcp_task_watch {
	struct mcp_conn *conn;	  /* NULL once it ended (a cancel still pending) */
	struct jobs_watch *watch; /* NULL once the job is gone */
	char id[37];
	json_t *waiting_id; /* tasks/result, tasks/cancel: the request to answer */
	bool cancel;	    /* a legacy tasks/cancel waiting for the processes to go */
	LIST_ENTRY(mcp_task_watch) link;
};

static struct tools *tools_of(const struct mcp_conn *c)
{
	return c->server->task_source;
}

static json_t *iso(double t)
{
	char buf[40];
	time_t secs = (time_t)t;
	struct tm tm;

	if (!(t > 0) || gmtime_r(&secs, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static int64_t ttl_of(const struct job *j)
{
	return j->task_ttl_ms > 0 ? j->task_ttl_ms : DEFAULT_TTL_MS;
}

static int64_t poll_of(const struct job *j)
{
	return j->task_poll_ms > 0 ? j->task_poll_ms : POLL_INTERVAL_MS;
}

/* The 2025-11-25 Task object. */
static json_t *legacy_task(const struct tools_task *tk)
{
	const struct job *j = tk->job;
	json_t *o =
	    json_pack("{s:s, s:s, s:o, s:o, s:I, s:I}", "taskId", j->id, "status", tk->status,
		      "createdAt", iso(j->created_at), "lastUpdatedAt", iso(tk->updated_at), "ttl",
		      (json_int_t)ttl_of(j), "pollInterval", (json_int_t)poll_of(j));

	if (o && j->error && j->status != JOB_COMPLETED)
		json_object_set_new(o, "statusMessage", json_string(j->error));
	return o;
}

/* The 2026-07-28 Task fields (flat), without resultType. */
static json_t *modern_task(const struct tools_task *tk)
{
	const struct job *j = tk->job;

	return json_pack("{s:s, s:s, s:o, s:o, s:I, s:I}", "taskId", j->id, "status", tk->status,
			 "createdAt", iso(j->created_at), "lastUpdatedAt", iso(tk->updated_at),
			 "ttlMs", (json_int_t)ttl_of(j), "pollIntervalMs", (json_int_t)poll_of(j));
}

/* Task `id` that has not expired, or false after answering -32602. */
static bool find_task(struct mcp_conn *c, const struct mcp_req *rq, json_t *params,
		      struct tools_task *tk)
{
	const char *id = mcp_require_string(c, rq, params, "taskId",
					    "name the task, as the tools/call result gave it");

	if (id == NULL)
		return false;
	if (tools_of(c) && tools_task_get(tools_of(c), mcp_conn_tenant(c), id, tk) == 0 &&
	    !tk->expired)
		return true;
	mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, json_pack("{s:s}", "taskId", id),
			"Invalid params: no task `%.*s` (unknown, or past its ttl). Hint: tasks "
			"are the job ids tools/call returned; py_list_jobs lists the jobs",
			JRPC_Q(id));
	return false;
}

/* The legacy methods exist for sessions that negotiated 2025-11-25. */
static bool legacy_ok(struct mcp_conn *c, const struct mcp_req *rq, const char *method)
{
	if (rq->modern || mcp_tasks_legacy(c))
		return true;
	mcp_reply_error(c, rq, JRPC_METHOD_NOT_FOUND, NULL,
			"Method not found: `%s` needs protocol 2025-11-25 (this session "
			"negotiated %s) or 2026-07-28 with the tasks extension",
			method, c->protocol_version ? c->protocol_version : "none");
	return false;
}

bool mcp_tasks_capable(struct mcp_conn *c, const struct mcp_req *rq)
{
	json_t *ext = json_object_get(rq->client_caps, "extensions");

	if (!rq->modern || json_object_get(ext, TASKS_EXT) != NULL)
		return true;
	mcp_reply_error(
	    c, rq, MCP_MISSING_REQUIRED_CLIENT_CAPABILITY,
	    json_pack("{s:{s:{s:{}}}}", "requiredCapabilities", "extensions", TASKS_EXT),
	    "Missing required client capability: the tasks extension (`" TASKS_EXT
	    "`). Hint: declare it under clientCapabilities.extensions of the request");
	return false;
}

bool mcp_tasks_requested(const struct mcp_req *rq)
{
	return rq->modern &&
	       json_object_get(json_object_get(rq->client_caps, "extensions"), TASKS_EXT) != NULL;
}

bool mcp_tasks_legacy(const struct mcp_conn *c)
{
	return c->server->task_source != NULL && c->protocol_version != NULL &&
	       strcmp(c->protocol_version, "2025-11-25") == 0;
}

int64_t mcp_tasks_ttl_param(json_t *task_param)
{
	json_t *ttl = json_object_get(task_param, "ttl");
	double v = json_is_number(ttl) ? json_number_value(ttl) : (double)DEFAULT_TTL_MS;

	if (!(v >= (double)MIN_TTL_MS))
		v = (double)MIN_TTL_MS;
	return v > (double)MAX_TTL_MS ? MAX_TTL_MS : (int64_t)v;
}

/* ---- notifications/tasks/status and waiting tasks/result ---- */

static void drop(struct mcp_task_watch *w)
{
	LIST_REMOVE(w, link);
	if (w->watch)
		tools_task_unwatch(tools_of(w->conn), w->watch);
	json_decref(w->waiting_id);
	free(w);
}

/* Legacy tasks/cancel's answer, when the processes are gone: the task,
 * cancelled; nothing when the connection ended meanwhile. */
static void on_cancelled(void *data)
{
	struct mcp_task_watch *w = data;
	struct tools_task tk;

	if (w->conn != NULL) {
		if (tools_task_get(tools_of(w->conn), mcp_conn_tenant(w->conn), w->id, &tk) == 0) {
			const struct mcp_req rq = {.id = w->waiting_id};
			mcp_reply_new(w->conn, &rq, legacy_task(&tk));
		}
		LIST_REMOVE(w, link);
	}
	json_decref(w->waiting_id);
	free(w);
}

static void answer_result(struct mcp_conn *c, json_t *id, const struct tools_task *tk)
{
	bool is_error;
	json_t *structured = tools_final_result(tools_of(c), tk->job, &is_error);
	json_t *r = mcp_tool_result_new(c, structured, is_error);
	const struct mcp_req rq = {.id = id};

	if (r == NULL) {
		mcp_reply_error(c, &rq, JRPC_INTERNAL_ERROR, NULL,
				"Internal error: cannot build the task's result. Hint: retry");
		return;
	}
	json_object_set_new(r, "_meta",
			    json_pack("{s:{s:s}}", RELATED_TASK, "taskId", tk->job->id));
	mcp_reply_new(c, &rq, r);
}

static void on_task_event(struct job *j, enum job_event ev, void *data)
{
	struct mcp_task_watch *w = data;
	struct tools_task tk;

	if (ev == JOB_EVENT_REMOVED) {
		w->watch = NULL; /* the table drops it */
		if (w->waiting_id) {
			const struct mcp_req rq = {.id = w->waiting_id};
			mcp_reply_error(w->conn, &rq, JRPC_INVALID_PARAMS, NULL,
					"Invalid params: task `%s` was removed (py_prune_jobs)",
					w->id);
			drop(w);
		}
		return;
	}
	if (ev != JOB_EVENT_STATUS ||
	    tools_task_get(tools_of(w->conn), mcp_conn_tenant(w->conn), j->id, &tk) < 0)
		return;
	if (w->waiting_id == NULL) {
		mcp_send_notification_new(
		    w->conn, jrpc_notification_new("notifications/tasks/status", legacy_task(&tk)),
		    NULL);
		if (job_status_is_final(j->status))
			drop(w);
	} else if (job_status_is_final(j->status)) {
		answer_result(w->conn, w->waiting_id, &tk);
		drop(w);
	}
}

static int add_watch(struct mcp_conn *c, const char *id, json_t *waiting_id)
{
	struct mcp_task_watch *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return -ENOMEM;
	w->conn = c;
	snprintf(w->id, sizeof(w->id), "%s", id);
	w->waiting_id = json_incref(waiting_id);
	if ((w->watch = tools_task_watch(tools_of(c), mcp_conn_tenant(c), id, on_task_event, w)) ==
	    NULL) {
		json_decref(w->waiting_id);
		free(w);
		return -ENOMEM;
	}
	LIST_INSERT_HEAD(&c->task_watches, w, link);
	return 0;
}

void mcp_tasks_conn_free(struct mcp_conn *c)
{
	while (!LIST_EMPTY(&c->task_watches)) {
		struct mcp_task_watch *w = LIST_FIRST(&c->task_watches);

		if (w->cancel) {
			/* Its done callback frees it; it must not answer. */
			LIST_REMOVE(w, link);
			w->conn = NULL;
		} else {
			drop(w);
		}
	}
}

bool mcp_tasks_cancel_wait(struct mcp_conn *c, json_t *id)
{
	struct mcp_task_watch *w;

	LIST_FOREACH (w, &c->task_watches, link) {
		if (!w->cancel && w->waiting_id && json_equal(w->waiting_id, id)) {
			drop(w);
			return true;
		}
	}
	return false;
}

/* ---- a tools/call that became a task ---- */

json_t *mcp_tasks_created(struct mcp_conn *c, bool modern, const char *job_id, int64_t ttl_ms)
{
	struct tools_task tk;

	tools_task_mark(tools_of(c), job_id, ttl_ms > 0 ? ttl_ms : DEFAULT_TTL_MS,
			POLL_INTERVAL_MS);
	if (tools_task_get(tools_of(c), mcp_conn_tenant(c), job_id, &tk) < 0)
		return NULL;
	if (modern) {
		json_t *r = modern_task(&tk);
		if (r)
			json_object_set_new(r, "resultType", json_string("task"));
		return r;
	}
	/* The connection hears of every change of the task it made. */
	if (add_watch(c, job_id, NULL) < 0)
		log_msg(LOG_LEVEL_WARNING, "task %s: no status notifications (out of memory)",
			job_id);
	return json_pack("{s:o}", "task", legacy_task(&tk));
}

/* ---- the methods ---- */

void mcp_handle_tasks_get(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct tools_task tk;
	json_t *r;

	if (!legacy_ok(c, rq, "tasks/get") || !mcp_tasks_capable(c, rq) ||
	    !find_task(c, rq, params, &tk))
		return;
	if (!rq->modern) {
		mcp_reply_new(c, rq, legacy_task(&tk));
		return;
	}
	r = modern_task(&tk);
	if (r && tk.job->status == JOB_COMPLETED) {
		bool is_error;
		json_t *s = tools_final_result(tools_of(c), tk.job, &is_error);
		json_t *result = mcp_tool_result_new(c, s, is_error);
		/* Exactly what the call would have answered, and every
		 * 2026-07-28 result says its type. */
		if (result)
			json_object_set_new(result, "resultType", json_string("complete"));
		json_object_set_new(r, "result", result);
	} else if (r && tk.job->status == JOB_FAILED) {
		const char *why = tk.job->error ? tk.job->error : "the job failed";
		json_object_set_new(r, "statusMessage", json_string(why));
		json_object_set_new(
		    r, "error",
		    json_pack("{s:i, s:s}", "code", JRPC_INTERNAL_ERROR, "message", why));
	} else if (r && tk.job->status == JOB_CANCELLED) {
		json_object_set_new(r, "statusMessage", json_string("cancelled"));
	}
	mcp_reply_new(c, rq, r);
}

void mcp_handle_tasks_result(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct tools_task tk;

	if (!legacy_ok(c, rq, "tasks/result") || !find_task(c, rq, params, &tk))
		return;
	if (job_status_is_final(tk.job->status)) {
		answer_result(c, rq->id, &tk);
		return;
	}
	if (add_watch(c, tk.job->id, rq->id) < 0)
		mcp_reply_error(c, rq, JRPC_INTERNAL_ERROR, NULL,
				"Internal error: out of memory waiting for the task. Hint: retry");
}

void mcp_handle_tasks_list(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct tools_task page[LIST_PAGE];
	json_t *cursor = json_object_get(params, "cursor"), *list;
	const char *after = json_string_value(cursor);
	bool more;
	size_t n;

	if (!legacy_ok(c, rq, "tasks/list"))
		return;
	if (tools_of(c) == NULL) {
		mcp_reply_new(c, rq, json_pack("{s:[]}", "tasks"));
		return;
	}
	struct tools_task probe;

	if (cursor != NULL &&
	    (after == NULL || tools_task_get(tools_of(c), mcp_conn_tenant(c), after, &probe) < 0)) {
		mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL,
				"Invalid params: unknown `cursor`. Hint: pass the nextCursor of "
				"the previous page, or omit it for the first");
		return;
	}
	n = tools_task_list(tools_of(c), mcp_conn_tenant(c), after, page, LIST_PAGE, &more);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		if (!page[i].expired)
			json_array_append_new(list, legacy_task(&page[i]));
	json_t *r = json_pack("{s:o}", "tasks", list);
	if (r && more && n > 0)
		json_object_set_new(r, "nextCursor", json_string(page[n - 1].job->id));
	mcp_reply_new(c, rq, r);
}

void mcp_handle_tasks_cancel(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct tools_task tk;
	struct pm_error err = {0};
	struct mcp_task_watch *w;

	if (!legacy_ok(c, rq, "tasks/cancel") || !mcp_tasks_capable(c, rq) ||
	    !find_task(c, rq, params, &tk))
		return;
	if (rq->modern) {
		/* Cooperative and acknowledged at once, terminal tasks too. */
		tools_task_cancel(tools_of(c), tk.job->id, NULL, NULL, &err);
		mcp_reply_new(c, rq, json_object());
		return;
	}
	if (job_status_is_final(tk.job->status)) {
		mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL,
				"Invalid params: task `%s` has ended (%s) and cannot be cancelled",
				tk.job->id, tk.status);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		mcp_reply_error(c, rq, JRPC_INTERNAL_ERROR, NULL, "Internal error: out of memory");
		return;
	}
	*w = (struct mcp_task_watch){.conn = c, .waiting_id = json_incref(rq->id), .cancel = true};
	snprintf(w->id, sizeof(w->id), "%s", tk.job->id);
	LIST_INSERT_HEAD(&c->task_watches, w, link);
	if (tools_task_cancel(tools_of(c), tk.job->id, on_cancelled, w, &err) < 0) {
		LIST_REMOVE(w, link);
		json_decref(w->waiting_id);
		free(w);
		mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL, "Invalid params: %s",
				err.message);
	}
}

void mcp_handle_tasks_update(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct tools_task tk;

	/* No task of this server asks for input: any answers are ignored. */
	if (mcp_tasks_capable(c, rq) && find_task(c, rq, params, &tk))
		mcp_reply_new(c, rq, json_object());
}
