/* py_save_script and py_list_scripts: the saved scripts folder, with PEP
 * 723 headers written for given dependencies and read back for listings. */
#include "tools_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "scripts.h"

static void save_script(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	struct sb_error err = {0};
	_cleanup_free_ char *name = NULL, *header = NULL, *text = NULL, *path = NULL;
	const char *source = tool_str(a, "source");
	const char *requires_python = tool_str(a, "requires_python");
	int r;

	if (scripts_check_requires_python(requires_python, &err) < 0 ||
	    scripts_file_name(tool_str(a, "script_name"), &name, &err) < 0) {
		tool_fail_error(call, &err);
		return;
	}
	if (!scripts_has_header(source))
		header = scripts_header(tool_json(a, "dependencies"), requires_python);
	if (asprintf(&text, "%s%s", header ? header : "", source) < 0 ||
	    asprintf(&path, "%s/%s", t->cfg.scripts_dir, name) < 0) {
		text = path = NULL;
		tool_fail(call, "out of memory");
		return;
	}
	if ((r = scripts_write(t->cfg.scripts_dir, name, text, tool_bool(a, "overwrite"), &err)) < 0) {
		tool_fail_error(call, &err);
		return;
	}
	tool_reply_new(call,
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
		json_array_foreach(h->dependencies, i, d)
			fprintf(f, "%s%s", i ? ", " : "", json_string_value(d));
	}
	fclose(f);
	return text;
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
	deps_text = header_text(&h);
	json_object_set_new(o, "header", json_string(deps_text ? deps_text : ""));
	scripts_header_free(&h);
	return o;
}

static void list_scripts(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	json_t *list = json_array();
	_cleanup_(closedir_p) DIR *d = opendir(t->cfg.scripts_dir);
	struct dirent *e;

	(void)a;
	while (d && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char path[4096];
		if (e->d_name[0] == '.' || n < 4 || strcmp(e->d_name + n - 3, ".py") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", t->cfg.scripts_dir, e->d_name);
		json_array_append_new(list, describe(e->d_name, path));
	}
	/* Stable order for people and tests. */
	size_t count = json_array_size(list);
	json_t **items = calloc(count ? count : 1, sizeof(*items));
	for (size_t i = 0; items && i < count; i++)
		items[i] = json_incref(json_array_get(list, i));
	if (items) {
		qsort(items, count, sizeof(*items), compare_names);
		json_array_clear(list);
		for (size_t i = 0; i < count; i++)
			json_array_append_new(list, items[i]);
		free(items);
	}
	/* The original server returned a bare list, which its framework
	 * wrapped as {"result": [...]}; clients read that shape. */
	tool_reply_new(call, json_pack("{s:o}", "result", list), false);
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
