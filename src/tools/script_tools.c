/* py_save_script and py_list_scripts: the saved scripts folder, with PEP
 * 723 headers written for given dependencies and read back for listings. */
#include "tools_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "pep723.h"
#include "scripts.h"

int tools_scripts_dir(struct tools *t, const struct tool_call *call, char *buf, size_t size,
		      struct pm_error *err)
{
	/* A tenant's scripts are its own: a folder of its own, and the
	 * --max-scripts cap counts each folder. */
	if (call->tenant == NULL) {
		snprintf(buf, size, "%s", t->cfg.scripts_dir);
		return 0;
	}
	if ((size_t)snprintf(buf, size, "%s/tenants/%s", t->cfg.scripts_dir, call->tenant) >= size)
		return pm_error_set(err, "scripts", ENAMETOOLONG, "scripts folder of `%s`",
				    call->tenant);
	return pm_mkdirs(buf, 0700, "scripts", err);
}

static void save_script(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	struct pm_error err = {0};
	_cleanup_free_ char *name = NULL, *header = NULL, *text = NULL, *path = NULL;
	const char *source = tool_str(a, "source");
	const char *requires_python = tool_str(a, "requires_python");
	int r;

	if (scripts_check_requires_python(requires_python, &err) < 0 ||
	    scripts_file_name(tool_str(a, "script_name"), &name, &err) < 0) {
		tool_fail_error(call, &err);
		return;
	}
	if (strlen(source) > SCRIPTS_MAX_BYTES) {
		tool_fail(call, "source is %zu bytes; a saved script is at most %d (4 MiB)",
			  strlen(source), SCRIPTS_MAX_BYTES);
		return;
	}
	char dir[PATH_MAX];
	if (tools_scripts_dir(t, call, dir, sizeof(dir), &err) < 0) {
		tool_fail_error(call, &err);
		return;
	}
	/* Replacing one keeps the count; a new one must fit. */
	if (t->cfg.max_scripts > 0 && scripts_count(dir) >= t->cfg.max_scripts &&
	    !scripts_exists(dir, name)) {
		tool_fail(call,
			  "%zu scripts are saved, the most this server keeps "
			  "(--max-scripts). Hint: replace one (overwrite=true), or ask the "
			  "admin to remove old ones from `%s` or raise --max-scripts",
			  t->cfg.max_scripts, dir);
		return;
	}
	if (!scripts_has_header(source))
		header = scripts_header(tool_json(a, "dependencies"), requires_python);
	if (asprintf(&text, "%s%s", header ? header : "", source) < 0 ||
	    asprintf(&path, "%s/%s", dir, name) < 0) {
		text = path = NULL;
		tool_fail(call, "out of memory");
		return;
	}
	if ((r = scripts_write(dir, name, text, tool_bool(a, "overwrite"), &err)) < 0) {
		tool_fail_error(call, &err);
		return;
	}
	tool_reply_new(call,
		       json_pack("{s:s, s:s, s:s}", "written", r ? "true" : "false", "path", path,
				 "message",
				 r ? "Script saved" : "File exists; set overwrite=True to replace"),
		       false);
}

/* "requires-python=>=3.11; dependencies=a, b", or "" without a header. */
static char *header_text(const struct script_header *h)
{
	char *text = NULL;
	size_t len = 0, i;
	json_t *d;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	if (h->requires_python)
		fprintf(f, "requires-python=%s", h->requires_python);
	if (json_array_size(h->dependencies)) {
		fprintf(f, "%sdependencies=", h->requires_python ? "; " : "");
		json_array_foreach (h->dependencies, i, d)
			fprintf(f, "%s%s", i ? ", " : "", json_string_value(d));
	}
	fclose(f);
	return text;
}

/* py_list_scripts while the headers are parsed (in the sandbox). */
struct listing {
	struct tool_call *call; /* NULL once the client gave up */
	json_t *list;		/* {name, path, docstring[, error]} per script */
};

static void on_list_gone(struct tool_call *call, void *data)
{
	(void)call;
	((struct listing *)data)->call = NULL;
}

static void on_headers(void *data, const struct pep723_result *res, size_t n)
{
	struct listing *l = data;
	json_t *o;
	size_t i;

	if (l->call != NULL) {
		tool_on_cancel(l->call, NULL, NULL);
		json_array_foreach (l->list, i, o) {
			_cleanup_free_ char *text = NULL;

			if (json_object_get(o, "header"))
				continue; /* its block was malformed, or it was unreadable */
			if (i < n && res[i].ok) {
				text = header_text(&res[i].header);
			} else {
				json_object_set_new(o, "parse_error", json_true());
				json_object_set_new(
				    o, "parse_error_message",
				    json_string(i < n ? res[i].err.message : "out of memory"));
			}
			json_object_set_new(o, "header", json_string(text ? text : ""));
		}
		/* The original server returned a bare list, which its framework
		 * wrapped as {"result": [...]}; clients read that shape. */
		tool_reply_new(l->call, json_pack("{s:O}", "result", l->list), false);
	}
	json_decref(l->list);
	free(l);
}

/* {name, path, docstring} of one saved script, and its block; "header"
 * and the error already set when the script or its block is unusable. */
static json_t *describe(const char *name, const char *path, struct pep723_block *block)
{
	_cleanup_free_ char *source = NULL, *doc = NULL;
	struct pm_error err = {0};
	json_t *o = json_pack("{s:s, s:s}", "name", name, "path", path);

	if (o == NULL)
		return NULL;
	if (scripts_read(path, &source, &err) < 0) {
		json_object_set_new(o, "docstring", json_string(""));
		json_object_set_new(o, "header", json_string(""));
		json_object_set_new(o, "error", json_string(err.message));
		return o;
	}
	doc = scripts_docstring(source, 300);
	json_object_set_new(o, "docstring", json_string(doc ? doc : ""));
	if (pep723_find(source, block, &err) < 0) {
		json_object_set_new(o, "header", json_string(""));
		json_object_set_new(o, "parse_error", json_true());
		json_object_set_new(o, "parse_error_message", json_string(err.message));
	}
	return o;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .py file names of the folder, sorted (stable for people and tests). */
static char **script_names(const char *dir, size_t *n)
{
	_cleanup_(closedir_p) DIR *d = opendir(dir);
	char **names = NULL;
	size_t cap = 0;
	struct dirent *e;

	*n = 0;
	while (d && (e = readdir(d)) != NULL) {
		if (!scripts_is_script_name(e->d_name))
			continue;
		if (*n == cap) {
			char **grown = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));
			if (grown == NULL)
				break;
			names = grown;
		}
		if ((names[*n] = strdup(e->d_name)) != NULL)
			(*n)++;
	}
	if (*n > 0)
		qsort(names, *n, sizeof(*names), compare_strings);
	return names;
}

static void list_scripts(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	size_t n = 0;
	char dir[PATH_MAX];
	struct pm_error err = {0};

	if (tools_scripts_dir(t, call, dir, sizeof(dir), &err) < 0) {
		tool_fail_error(call, &err);
		return;
	}
	char **names = script_names(dir, &n);
	struct pep723_block *blocks = calloc(n ? n : 1, sizeof(*blocks));
	struct listing *l = calloc(1, sizeof(*l));
	bool ok = blocks && l && (l->list = json_array()) != NULL;

	(void)a;
	for (size_t i = 0; i < n; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (ok && json_array_append_new(l->list, describe(names[i], path, &blocks[i])) < 0)
			ok = false;
		free(names[i]);
	}
	free(names);
	if (!ok) {
		for (size_t i = 0; blocks && i < n; i++)
			free(blocks[i].toml);
		free(blocks);
		if (l)
			json_decref(l->list);
		free(l);
		tool_fail(call, "out of memory while listing the saved scripts");
		return;
	}
	l->call = call;
	tool_on_cancel(call, on_list_gone, l);
	pep723_parse(t->cfg.pep723, blocks, n, on_headers, l);
	free(blocks);
}

static const struct tool_param save_params[] = {
    TOOL_P_STRING("script_name", true,
		  "Base name; .py is added when missing and any directory part is dropped"),
    TOOL_P_STRING("source", true, NULL),
    TOOL_P_STRINGS("dependencies", NULL),
    TOOL_P_STRING("requires_python", false, NULL),
    TOOL_P_BOOL("overwrite", false, NULL),
    TOOL_P_END,
};

static const struct tool_field save_result[] = {
    {"written", "{\"type\": \"string\", \"enum\": [\"true\", \"false\"]}"},
    {"path", "{\"type\": \"string\"}"},
    {"message", "{\"type\": \"string\"}"},
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

static const char *const save_shapes[] = {"written path message", "error", NULL};

const struct tool_decl tool_save_script = {
    .name = "py_save_script",
    .title = "Save a script",
    .description = "Save a Python script in the scripts folder, adding a PEP 723 header for"
		   " dependencies and requires_python when the source has none. Refuses to"
		   " replace an existing script unless overwrite is true.",
    .params = save_params,
    .result = save_result,
    .shapes = save_shapes,
    .handler = save_script,
};

static const struct tool_param list_params[] = {TOOL_P_END};

static const struct tool_field list_result[] = {
    {"result", "{\"type\": \"array\", \"items\": {\"type\": \"object\", \"required\": [\"name\","
	       " \"path\", \"docstring\", \"header\"], \"properties\": {\"name\": {\"type\":"
	       " \"string\"}, \"path\": {\"type\": \"string\"}, \"docstring\": {\"type\":"
	       " \"string\"}, \"header\": {\"type\": \"string\"}, \"parse_error\": {\"type\":"
	       " \"boolean\"}}}}"},
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

static const char *const list_shapes[] = {"result", "error", NULL};

const struct tool_decl tool_list_scripts = {
    .name = "py_list_scripts",
    .title = "List saved scripts",
    .description = "List saved scripts with their docstring (first 300 characters) and PEP 723"
		   " header.",
    .params = list_params,
    .result = list_result,
    .shapes = list_shapes,
    .handler = list_scripts,
};
