/* A tool, declared once: its parameters (name, type, default, bounds,
 * description) and its result fields.  Both the inputSchema/outputSchema
 * JSON of tools/list and the checking of a call's arguments come from
 * that one declaration, so the two cannot drift; a handler reads checked
 * values by name.
 *
 * A tool answers through a tool_call, which the layer above (the
 * protocol) implements: this layer shapes results, it never builds a
 * protocol message. */
#ifndef PYMCP_TOOL_H
#define PYMCP_TOOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct tool_call;

struct tool_call_ops {
	/* The answer (structured_new stolen); exactly once per call.
	 * is_error: a failure the model should read ({"error": ...}). */
	void (*reply)(struct tool_call *call, json_t *structured_new, bool is_error);
	/* cb runs if the client gives up before the answer; once it
	 * returns, the call is gone (answering inside cb is allowed and
	 * dropped).  One callback per call; NULL clears it. */
	void (*on_cancel)(struct tool_call *call, void (*cb)(struct tool_call *call, void *data),
			  void *data);
	/* Progress of a long call, when the client asked for it. */
	void (*progress)(struct tool_call *call, double progress, double total,
			 const char *message);
	/* A log notification about the call (RFC 5424 level name), sent only
	 * where the client asked for that level. */
	void (*log)(struct tool_call *call, const char *level, const char *message);
	/* The answer is the task of job `job_id` (call->task != NONE), which
	 * is in jobs.json already: the protocol writes its task form. */
	void (*reply_task)(struct tool_call *call, const char *job_id);
};

/* How the client asked for a call to become a task (set by the protocol
 * before the handler runs; only tools with task_support see anything but
 * NONE). */
enum tool_task {
	TOOL_TASK_NONE,
	TOOL_TASK_NOW,	 /* 2025-11-25 `task`: answer with the task at once */
	TOOL_TASK_LATER, /* 2026-07-28 tasks extension: a task if the budget runs out */
};

struct tool_call {
	const struct tool_call_ops *ops;
	const char *tool;    /* the tool's name */
	const char *tenant;  /* whose call it is; NULL: the one tenant */
	bool wants_progress; /* the request carried a progress token */
	enum tool_task task;
};

void tool_reply_new(struct tool_call *call, json_t *structured_new, bool is_error);
/* {"error": "<message>"} with isError. */
void tool_fail(struct tool_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with an error's message and hint. */
void tool_fail_error(struct tool_call *call, const struct pm_error *err);
void tool_on_cancel(struct tool_call *call, void (*cb)(struct tool_call *call, void *data),
		    void *data);
void tool_progress(struct tool_call *call, double progress, double total, const char *message);
void tool_log(struct tool_call *call, const char *level, const char *message);

enum tool_type {
	TOOL_STRING,
	TOOL_BOOL,
	TOOL_INT,
	TOOL_NUMBER,
	TOOL_ENUM,	 /* a string among `values` */
	TOOL_STRINGS,	 /* an array of strings */
	TOOL_STRING_MAP, /* an object whose values are strings */
	TOOL_JSON,	 /* any JSON value */
};

struct tool_param {
	const char *name;
	enum tool_type type;
	bool required;
	const char *description;   /* may be NULL */
	double min, max;	   /* TOOL_INT, TOOL_NUMBER: bounds */
	double def;		   /* TOOL_INT, TOOL_NUMBER, TOOL_BOOL: default */
	bool has_def;		   /* the default is stated (and shown in the schema) */
	const char *const *values; /* TOOL_ENUM */
	const char *pattern;	   /* TOOL_STRING: a POSIX extended regex it must match */
	size_t max_length;	   /* TOOL_STRING: bytes, 0 = any */
};

/* Declarations read best with these. */
#define TOOL_P_STRING(n, req, doc)                                                                 \
	{                                                                                          \
		.name = (n), .type = TOOL_STRING, .required = (req), .description = (doc)          \
	}
#define TOOL_P_BOOL(n, d, doc)                                                                     \
	{                                                                                          \
		.name = (n), .type = TOOL_BOOL, .def = (d), .has_def = true, .description = (doc)  \
	}
#define TOOL_P_INT(n, lo, hi, d, doc)                                                              \
	{                                                                                          \
		.name = (n), .type = TOOL_INT, .min = (lo), .max = (hi), .def = (d),               \
		.has_def = true, .description = (doc)                                              \
	}
#define TOOL_P_NUMBER(n, lo, hi, d, doc)                                                           \
	{                                                                                          \
		.name = (n), .type = TOOL_NUMBER, .min = (lo), .max = (hi), .def = (d),            \
		.has_def = true, .description = (doc)                                              \
	}
#define TOOL_P_STRINGS(n, doc)                                                                     \
	{                                                                                          \
		.name = (n), .type = TOOL_STRINGS, .description = (doc)                            \
	}
#define TOOL_P_END                                                                                 \
	{                                                                                          \
		.name = NULL                                                                       \
	}

/* A member of the result: its name and its JSON Schema as text. */
struct tool_field {
	const char *name;
	const char *schema;
};

struct tool_args;

struct tool_decl {
	const char *name;
	const char *title;
	const char *description;
	const struct tool_param *params; /* ended by TOOL_P_END */
	const struct tool_field *result; /* ended by {NULL}; NULL: no output schema */
	/* Space-separated member lists, ended by NULL: the result holds all
	 * members of one of them (anyOf); NULL when there is no such rule. */
	const char *const *shapes;
	/* A client capability the tool cannot work without ("sampling",
	 * "elicitation"), or NULL: a client that did not declare it gets
	 * MissingRequiredClientCapability (-32021) before the handler runs. */
	const char *requires_client_capability;
	/* It reads or manages jobs (OAuth scope python-mcp:jobs); every
	 * other tool runs or stores code (python-mcp:run). */
	bool manages_jobs;
	/* Its runs may become tasks (2025-11-25 execution.taskSupport
	 * "optional"; the 2026-07-28 extension). */
	bool task_support;
	/* It runs only as a task (taskSupport "required"): a call that is
	 * not one is refused before the handler runs. */
	bool task_required;
	/* It runs a script in the sandbox: its description ends with what
	 * the policy in force allows (mcp_server_set_limits_note). */
	bool shows_limits;
	void (*handler)(struct tool_call *call, const struct tool_args *args, void *ctx);
};

/* inputSchema and outputSchema (new references; output NULL when the
 * declaration has no result fields). */
json_t *tool_input_schema(const struct tool_decl *d);
json_t *tool_output_schema(const struct tool_decl *d);

/* Checks `args` (the call's arguments object) against d and runs the
 * handler with the checked values; a bad argument answers the call with
 * an error naming it and what was expected. */
void tool_invoke(const struct tool_decl *d, void *ctx, struct tool_call *call, json_t *args);

/* Checked values, by parameter name.  Absent optional parameters give
 * NULL, false, -1 (enum) or their declared default. */
/* A copy of a call's checked arguments that outlives the handler, for a
 * handler that answers later (NULL without memory). */
struct tool_args *tool_args_keep(const struct tool_args *a);
void tool_args_release(struct tool_args *a);

bool tool_given(const struct tool_args *a, const char *name);
const char *tool_str(const struct tool_args *a, const char *name);
bool tool_bool(const struct tool_args *a, const char *name);
int64_t tool_int(const struct tool_args *a, const char *name);
double tool_num(const struct tool_args *a, const char *name);
int tool_enum(const struct tool_args *a, const char *name);
json_t *tool_json(const struct tool_args *a, const char *name); /* borrowed */

#endif
