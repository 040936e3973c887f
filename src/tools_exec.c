#include "tools_exec.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cleanup.h"
#include "exec_schemas.h"
#include "scripts.h"

static struct tools_exec_config config;

/* Parameters every execution tool takes (TOOLS.md, "Common parameters"). */
#define COMMON_NAMES                                                                               \
	"args", "timeout_seconds", "env_vars", "env_file", "async_mode", "job_label",              \
		"enable_streaming"

static int common_args(json_t *a, struct exec_request *req, struct sb_error *err)
{
	int64_t timeout;
	bool streaming;
	int r;

	if ((r = args_string_array(a, "args", false, &req->args, err)) < 0 ||
	    (r = args_int(a, "timeout_seconds", 0, 10000000, 300, &timeout, err)) < 0 ||
	    (r = args_string_map(a, "env_vars", false, &req->env_vars, err)) < 0 ||
	    (r = args_string(a, "env_file", false, &req->env_file, err)) < 0 ||
	    (r = args_bool(a, "async_mode", false, &req->async_mode, err)) < 0 ||
	    (r = args_string(a, "job_label", false, &req->label, err)) < 0 ||
	    (r = args_bool(a, "enable_streaming", false, &streaming, err)) < 0)
		return r;
	/* Labels live in jobs.json and every listing. */
	if (req->label && strlen(req->label) > 256)
		return sb_error_set(err, "arguments", 0, "argument `job_label` is longer than 256 "
				    "bytes");
	req->timeout_seconds = (double)timeout;
	return 0;
}

/* script_path XOR script_content. */
static int script_args(json_t *a, struct exec_request *req, struct sb_error *err)
{
	int r;

	if ((r = args_string(a, "script_path", false, &req->script_path, err)) < 0 ||
	    (r = args_string(a, "script_content", false, &req->script_content, err)) < 0)
		return r;
	if ((req->script_path == NULL) == (req->script_content == NULL))
		return sb_error_set(err, "arguments", 0, "give exactly one of `script_path` and "
				    "`script_content`");
	return 0;
}

static void fail_with(struct mcp_call *call, const struct sb_error *err)
{
	char msg[SB_ERROR_MESSAGE_MAX + SB_ERROR_HINT_MAX + 16];

	sb_error_format(err, msg, sizeof(msg));
	mcp_call_fail(call, "%s", msg);
}

static void run_in_dir(struct mcp_call *call, json_t *a, void *ctx)
{
	static const char *const known[] = {"directory", "script_path", "script_content", "use_uv",
					    "python_version", "auto_install_deps", COMMON_NAMES,
					    NULL};
	struct exec_request req = {.kind = EXEC_RUN, .tool = mcp_call_tool(call)};
	struct sb_error err = {0};
	bool use_uv, auto_deps;

	(void)ctx;
	if (args_check_known(a, known, &err) < 0 ||
	    args_string(a, "directory", true, &req.directory, &err) < 0 ||
	    script_args(a, &req, &err) < 0 || args_bool(a, "use_uv", true, &use_uv, &err) < 0 ||
	    args_string(a, "python_version", false, &req.python_version, &err) < 0 ||
	    args_bool(a, "auto_install_deps", true, &auto_deps, &err) < 0 ||
	    common_args(a, &req, &err) < 0) {
		fail_with(call, &err);
		return;
	}
	req.use_uv = use_uv;
	req.detect_imports = auto_deps;
	exec_start(&config.env, call, &req);
}

static int deps_args(json_t *a, struct exec_request *req, struct sb_error *err)
{
	bool ignore_project;
	int r;

	if ((r = script_args(a, req, err)) < 0 ||
	    (r = args_string(a, "python_version", false, &req->python_version, err)) < 0 ||
	    (r = args_string_array(a, "dependencies", false, &req->dependencies, err)) < 0 ||
	    (r = args_bool(a, "ignore_project_requirements", true, &ignore_project, err)) < 0)
		return r;
	return common_args(a, req, err);
}

static void with_deps(struct mcp_call *call, json_t *a, void *ctx)
{
	static const char *const known[] = {"script_path", "script_content", "python_version",
					    "dependencies", "ignore_project_requirements",
					    "auto_parse_imports", COMMON_NAMES, NULL};
	struct exec_request req = {.kind = EXEC_WITH_DEPS, .tool = mcp_call_tool(call)};
	struct sb_error err = {0};
	bool parse_imports;

	(void)ctx;
	if (args_check_known(a, known, &err) < 0 || deps_args(a, &req, &err) < 0 ||
	    args_bool(a, "auto_parse_imports", true, &parse_imports, &err) < 0) {
		fail_with(call, &err);
		return;
	}
	req.use_uv = true;
	req.detect_imports = parse_imports;
	exec_start(&config.env, call, &req);
}

static void benchmark(struct mcp_call *call, json_t *a, void *ctx)
{
	static const char *const known[] = {"script_path", "script_content", "python_version",
					    "dependencies", "ignore_project_requirements",
					    "sample_interval", COMMON_NAMES, NULL};
	struct exec_request req = {.kind = EXEC_BENCHMARK, .tool = mcp_call_tool(call)};
	struct sb_error err = {0};
	double interval;

	(void)ctx;
	if (args_check_known(a, known, &err) < 0 || deps_args(a, &req, &err) < 0 ||
	    args_number(a, "sample_interval", 0, 3600, 0.05, &interval, &err) < 0) {
		fail_with(call, &err);
		return;
	}
	req.use_uv = true;
	exec_start(&config.env, call, &req);
}

static void run_saved(struct mcp_call *call, json_t *a, void *ctx)
{
	static const char *const known[] = {"script_name", "auto_install_deps", COMMON_NAMES, NULL};
	struct exec_request req = {.kind = EXEC_RUN, .tool = mcp_call_tool(call)};
	struct sb_error err = {0};
	_cleanup_free_ char *name = NULL, *path = NULL, *source = NULL;
	const char *script_name;
	struct script_header h;
	bool auto_deps;

	(void)ctx;
	if (args_check_known(a, known, &err) < 0 ||
	    args_string(a, "script_name", true, &script_name, &err) < 0 ||
	    args_bool(a, "auto_install_deps", true, &auto_deps, &err) < 0 ||
	    common_args(a, &req, &err) < 0 || scripts_file_name(script_name, &name, &err) < 0) {
		fail_with(call, &err);
		return;
	}
	if (asprintf(&path, "%s/%s", config.scripts_dir, name) < 0) {
		path = NULL;
		mcp_call_fail(call, "out of memory");
		return;
	}
	if (scripts_read(path, &source, &err) < 0) {
		if (err.errnum == ENOENT)
			sb_error_hint(&err, "save it first with py_save_script, or see "
					    "py_list_scripts for the saved ones");
		fail_with(call, &err);
		return;
	}
	if (scripts_parse_header(source, &h, &err) < 0) {
		scripts_header_free(&h);
		sb_error_wrap(&err, "script `%s`'s PEP 723 header", name);
		fail_with(call, &err);
		return;
	}
	/* The script runs from the sandbox's /tmp, in a scratch workspace: the
	 * scripts folder lives in the state directory, which no sandbox sees.
	 * Its header says what it needs; without one, its imports do. */
	req.script_content = source;
	req.content_name = name;
	req.dependencies = h.dependencies;
	req.requires_python = h.requires_python;
	req.use_uv = true;
	req.detect_imports = auto_deps && !scripts_has_header(source);
	exec_start(&config.env, call, &req);
	scripts_header_free(&h);
}

static void save_script(struct mcp_call *call, json_t *a, void *ctx)
{
	static const char *const known[] = {"script_name", "source", "dependencies",
					    "requires_python", "overwrite", NULL};
	struct sb_error err = {0};
	_cleanup_free_ char *name = NULL, *header = NULL, *text = NULL, *path = NULL;
	const char *script_name, *source, *requires_python;
	json_t *deps;
	bool overwrite;
	int r;

	(void)ctx;
	if (args_check_known(a, known, &err) < 0 ||
	    args_string(a, "script_name", true, &script_name, &err) < 0 ||
	    args_string(a, "source", true, &source, &err) < 0 ||
	    args_string_array(a, "dependencies", false, &deps, &err) < 0 ||
	    args_string(a, "requires_python", false, &requires_python, &err) < 0 ||
	    args_bool(a, "overwrite", false, &overwrite, &err) < 0 ||
	    scripts_check_requires_python(requires_python, &err) < 0 ||
	    scripts_file_name(script_name, &name, &err) < 0)
		{
		fail_with(call, &err);
		return;
	}
	if (!scripts_has_header(source))
		header = scripts_header(deps, requires_python);
	if (asprintf(&text, "%s%s", header ? header : "", source) < 0 ||
	    asprintf(&path, "%s/%s", config.scripts_dir, name) < 0)
		{
		mcp_call_fail(call, "out of memory");
		return;
	}
	r = scripts_write(config.scripts_dir, name, text, overwrite, &err);
	if (r < 0)
		{
		fail_with(call, &err);
		return;
	}
	mcp_call_reply_new(call,
			   json_pack("{s:s, s:s, s:s}", "written", r ? "true" : "false", "path", path,
				     "message",
				     r ? "Script saved" : "File exists; set overwrite=True to replace"),
			   false);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

static json_t *describe(const char *name, const char *path)
{
	_cleanup_free_ char *source = NULL, *doc = NULL, *deps_text = NULL;
	struct sb_error err = {0};
	struct script_header h;
	json_t *o = json_pack("{s:s, s:s}", "name", name, "path", path);

	if (scripts_read(path, &source, &err) < 0) {
		json_object_set_new(o, "docstring", json_string(""));
		json_object_set_new(o, "header", json_string(""));
		json_object_set_new(o, "error", json_string(err.message));
		return o;
	}
	doc = scripts_docstring(source, 300);
	json_object_set_new(o, "docstring", json_string(doc ? doc : ""));
	if (scripts_parse_header(source, &h, &err) < 0) {
		json_object_set_new(o, "header", json_string(""));
		json_object_set_new(o, "parse_error", json_true());
		json_object_set_new(o, "parse_error_message", json_string(err.message));
		scripts_header_free(&h);
		return o;
	}
	/* "requires-python=>=3.11; dependencies=a, b", or "" without a header. */
	size_t i, len = 0;
	json_t *d;
	FILE *f = open_memstream(&deps_text, &len);
	if (h.requires_python)
		fprintf(f, "requires-python=%s", h.requires_python);
	if (json_array_size(h.dependencies)) {
		fprintf(f, "%sdependencies=", h.requires_python ? "; " : "");
		json_array_foreach(h.dependencies, i, d)
			fprintf(f, "%s%s", i ? ", " : "", json_string_value(d));
	}
	fclose(f);
	json_object_set_new(o, "header", json_string(deps_text ? deps_text : ""));
	scripts_header_free(&h);
	return o;
}

static void list_scripts(struct mcp_call *call, json_t *a, void *ctx)
{
	static const char *const known[] = {NULL};
	struct sb_error err = {0};
	json_t *list = json_array();
	DIR *d;
	struct dirent *e;

	(void)ctx;
	if (args_check_known(a, known, &err) < 0) {
		json_decref(list);
		{
		fail_with(call, &err);
		return;
	}
	}
	d = opendir(config.scripts_dir);
	while (d && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char path[4096];
		if (e->d_name[0] == '.' || n < 4 || strcmp(e->d_name + n - 3, ".py") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", config.scripts_dir, e->d_name);
		json_array_append_new(list, describe(e->d_name, path));
	}
	if (d)
		closedir(d);
	/* Stable order for people and tests. */
	size_t count = json_array_size(list);
	json_t **items = calloc(count ? count : 1, sizeof(*items));
	for (size_t i = 0; i < count; i++)
		items[i] = json_incref(json_array_get(list, i));
	qsort(items, count, sizeof(*items), compare_names);
	json_array_clear(list);
	for (size_t i = 0; i < count; i++)
		json_array_append_new(list, items[i]);
	free(items);
	/* The original server returned a bare list, which its framework
	 * wrapped as {"result": [...]}; clients read that shape. */
	mcp_call_reply_new(call, json_pack("{s:o}", "result", list), false);
}

struct tool_def {
	const char *name, *title, *description;
	const char *input;          /* JSON text */
	const char *output;         /* JSON text, or NULL */
	mcp_tool_fn handler;
};

static const char save_input[] =
	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"script_name\", \"source\"], \"properties\": {"
	"\"script_name\": {\"type\": \"string\", \"description\": \"Base name; .py is added when"
	" missing and any directory part is dropped\"},"
	"\"source\": {\"type\": \"string\"},"
	"\"dependencies\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
	"\"requires_python\": {\"type\": \"string\"},"
	"\"overwrite\": {\"type\": \"boolean\", \"default\": false}}}";
static const char save_output[] =
	"{\"type\": \"object\", \"anyOf\": [{\"required\": [\"written\", \"path\", \"message\"]},"
	" {\"required\": [\"error\"]}], \"properties\": {"
	"\"written\": {\"type\": \"string\", \"enum\": [\"true\", \"false\"]},"
	"\"path\": {\"type\": \"string\"}, \"message\": {\"type\": \"string\"},"
	"\"error\": {\"type\": \"string\"}}}";
static const char list_input[] = "{\"type\": \"object\", \"additionalProperties\": false}";
static const char list_output[] =
	"{\"type\": \"object\", \"anyOf\": [{\"required\": [\"result\"]},"
	" {\"required\": [\"error\"]}], \"properties\": {\"error\": {\"type\": \"string\"},"
	"\"result\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"required\":"
	" [\"name\", \"path\", \"docstring\", \"header\"], \"properties\": {"
	"\"name\": {\"type\": \"string\"}, \"path\": {\"type\": \"string\"},"
	"\"docstring\": {\"type\": \"string\"}, \"header\": {\"type\": \"string\"},"
	"\"parse_error\": {\"type\": \"boolean\"}}}}}}";

#define SMART_NOTE                                                                                 \
	" Answers inline when the script ends within the smart timeout (20 s by default);"         \
	" otherwise returns {job_id, status: \"running\"} and the job goes on: poll it with"        \
	" py_job_status. Every run is sandboxed: no network, a read-only system, the server's"     \
	" environment hidden."

static const struct tool_def tools[] = {
	{"py_run_script_in_dir", "Run a Python script in a directory",
	 "Run a Python script (script_path, or script_content written only inside the sandbox) with"
	 " `directory` as its working directory and only writable tree." SMART_NOTE,
	 exec_schema_run_in_dir, exec_output_schema, run_in_dir},
	{"py_run_script_with_dependencies", "Run a Python script with dependencies",
	 "Run a Python script with the given interpreter version and dependencies. A script given"
	 " by path runs in its own directory; script_content runs in a scratch directory."
	 SMART_NOTE,
	 exec_schema_with_deps, exec_output_schema, with_deps},
	{"py_benchmark_script", "Benchmark a Python script",
	 "Run a Python script and report wall time, CPU time (user+system of the whole process"
	 " tree) and peak memory from kernel accounting, with its output." SMART_NOTE,
	 exec_schema_benchmark, exec_output_schema, benchmark},
	{"py_run_saved_script", "Run a saved script",
	 "Run a script saved with py_save_script, honouring its PEP 723 header." SMART_NOTE,
	 exec_schema_run_saved, exec_output_schema, run_saved},
	{"py_save_script", "Save a script",
	 "Save a Python script in the scripts folder, adding a PEP 723 header for dependencies"
	 " and requires_python when the source has none. Refuses to replace an existing script"
	 " unless overwrite is true.",
	 save_input, save_output, save_script},
	{"py_list_scripts", "List saved scripts",
	 "List saved scripts with their docstring (first 300 characters) and PEP 723 header.",
	 list_input, list_output, list_scripts},
};

int tools_exec_register(struct mcp_server *s, const struct tools_exec_config *cfg,
			struct sb_error *err)
{
	config = *cfg;
	for (size_t i = 0; i < sizeof(tools) / sizeof(*tools); i++) {
		json_error_t jerr;
		struct mcp_tool t = {
			.name = tools[i].name,
			.title = tools[i].title,
			.description = tools[i].description,
			.input_schema = json_loads(tools[i].input, 0, &jerr),
			.output_schema = tools[i].output ? json_loads(tools[i].output, 0, &jerr) : NULL,
			.handler = tools[i].handler,
		};
		int r;
		if (t.input_schema == NULL || (tools[i].output && t.output_schema == NULL)) {
			json_decref(t.input_schema);
			json_decref(t.output_schema);
			return sb_error_set(err, "tools", EINVAL, "schema of %s: %s", tools[i].name,
					    jerr.text);
		}
		if ((r = mcp_register_tool(s, &t)) < 0)
			return sb_error_set(err, "tools", -r, "register %s", tools[i].name);
	}
	return 0;
}

void tools_exec_free(void)
{
	memset(&config, 0, sizeof(config));
}
