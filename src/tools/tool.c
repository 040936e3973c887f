#include "tool.h"

#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "json_text.h"
#include "log.h"

/* More than any tool needs; a declaration with more is refused. */
#define TOOL_PARAMS_MAX 32

struct tool_value {
	bool given;
	const char *s;
	bool b;
	int64_t i;
	double d;
	int e;
	json_t *json;
};

struct tool_args {
	const struct tool_decl *d;
	json_t *json; /* the arguments object every value points into */
	struct tool_value v[TOOL_PARAMS_MAX];
};

void tool_reply_new(struct tool_call *call, json_t *structured_new, bool is_error)
{
	call->ops->reply(call, structured_new, is_error);
}

static json_t *error_object(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static json_t *error_object(const char *fmt, va_list ap)
{
	char message[4096];

	vsnprintf(message, sizeof(message), fmt, ap);
	return json_pack("{s:o}", "error", pm_json_string_lossy(message));
}

void tool_fail(struct tool_call *call, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tool_reply_new(call, error_object(fmt, ap), true);
	va_end(ap);
}

void tool_fail_error(struct tool_call *call, const struct pm_error *err)
{
	char msg[PM_ERROR_MESSAGE_MAX + PM_ERROR_HINT_MAX + 16];

	pm_error_format(err, msg, sizeof(msg));
	tool_fail(call, "%s", msg);
}

void tool_on_cancel(struct tool_call *call, void (*cb)(struct tool_call *call, void *data),
		    void *data)
{
	call->ops->on_cancel(call, cb, data);
}

void tool_progress(struct tool_call *call, double progress, double total, const char *message)
{
	call->ops->progress(call, progress, total, message);
}

void tool_log(struct tool_call *call, const char *level, const char *message)
{
	if (call->ops->log)
		call->ops->log(call, level, message);
}

/* ---- schemas ---- */

static json_t *param_schema(const struct tool_param *p)
{
	json_t *o = json_object();

	switch (p->type) {
	case TOOL_STRING:
		json_object_set_new(o, "type", json_string("string"));
		if (p->pattern)
			json_object_set_new(o, "pattern", json_string(p->pattern));
		if (p->max_length)
			json_object_set_new(o, "maxLength",
					    json_integer((json_int_t)p->max_length));
		break;
	case TOOL_BOOL:
		json_object_set_new(o, "type", json_string("boolean"));
		json_object_set_new(o, "default", json_boolean(p->def != 0));
		break;
	case TOOL_INT:
	case TOOL_NUMBER:
		json_object_set_new(o, "type",
				    json_string(p->type == TOOL_INT ? "integer" : "number"));
		json_object_set_new(o, "minimum",
				    p->type == TOOL_INT ? json_integer((json_int_t)p->min)
							: json_real(p->min));
		json_object_set_new(o, "maximum",
				    p->type == TOOL_INT ? json_integer((json_int_t)p->max)
							: json_real(p->max));
		if (p->has_def)
			json_object_set_new(o, "default",
					    p->type == TOOL_INT ? json_integer((json_int_t)p->def)
								: json_real(p->def));
		break;
	case TOOL_ENUM: {
		json_t *values = json_array();
		for (const char *const *v = p->values; *v; v++)
			json_array_append_new(values, json_string(*v));
		json_object_set_new(o, "type", json_string("string"));
		json_object_set_new(o, "enum", values);
		break;
	}
	case TOOL_STRINGS:
		json_object_set_new(o, "type", json_string("array"));
		json_object_set_new(o, "items", json_pack("{s:s}", "type", "string"));
		break;
	case TOOL_STRING_MAP:
		json_object_set_new(o, "type", json_string("object"));
		json_object_set_new(o, "additionalProperties",
				    json_pack("{s:s}", "type", "string"));
		break;
	case TOOL_JSON:
		break;
	}
	if (p->description)
		json_object_set_new(o, "description", json_string(p->description));
	return o;
}

json_t *tool_input_schema(const struct tool_decl *d)
{
	json_t *props = json_object(), *required = json_array();

	for (const struct tool_param *p = d->params; p->name; p++) {
		json_object_set_new(props, p->name, param_schema(p));
		if (p->required)
			json_array_append_new(required, json_string(p->name));
	}
	return json_pack("{s:s, s:b, s:o, s:o}", "type", "object", "additionalProperties", 0,
			 "properties", props, "required", required);
}

json_t *tool_output_schema(const struct tool_decl *d)
{
	json_t *props, *o;

	if (d->result == NULL)
		return NULL;
	props = json_object();
	for (const struct tool_field *f = d->result; f->name; f++) {
		json_error_t jerr;
		json_t *s = json_loads(f->schema, 0, &jerr);
		if (s == NULL) {
			log_error("bug: the schema of `%s` in tool %s: %s", f->name, d->name,
				  jerr.text);
			s = json_object();
		}
		json_object_set_new(props, f->name, s);
	}
	o = json_pack("{s:s, s:o}", "type", "object", "properties", props);
	if (d->shapes) {
		json_t *any = json_array();
		for (const char *const *shape = d->shapes; *shape; shape++) {
			json_t *req = json_array();
			char buf[512], *save = NULL;
			snprintf(buf, sizeof(buf), "%s", *shape);
			for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
				json_array_append_new(req, json_string(w));
			json_array_append_new(any, json_pack("{s:o}", "required", req));
		}
		json_object_set_new(o, "anyOf", any);
	}
	return o;
}

/* ---- checking ---- */

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int check_string(const struct tool_param *p, const char *s, struct pm_error *err)
{
	if (p->max_length && utf8_chars(s) > p->max_length)
		return pm_error_set(err, "arguments", 0,
				    "argument `%s` is longer than %zu characters", p->name,
				    p->max_length);
	if (p->pattern) {
		regex_t re;
		int m;
		if (regcomp(&re, p->pattern, REG_EXTENDED | REG_NOSUB) != 0)
			return pm_error_set(err, "arguments", EINVAL, "bug: pattern of `%s`",
					    p->name);
		m = regexec(&re, s, 0, NULL, 0);
		regfree(&re);
		if (m != 0)
			return pm_error_set(err, "arguments", 0,
					    "argument `%s` must match %s, got `%.*s`", p->name,
					    p->pattern, (int)(strlen(s) < 64 ? strlen(s) : 64), s);
	}
	return 0;
}

static int check_one(const struct tool_param *p, json_t *args, struct tool_value *v,
		     struct pm_error *err)
{
	json_t *given = json_object_get(args, p->name);
	int r = 0;

	v->given = given != NULL && !json_is_null(given);
	switch (p->type) {
	case TOOL_STRING:
		if ((r = args_string(args, p->name, p->required, &v->s, err)) == 0 && v->s)
			r = check_string(p, v->s, err);
		break;
	case TOOL_BOOL:
		r = args_bool(args, p->name, p->def != 0, &v->b, err);
		break;
	case TOOL_INT:
		r = args_int(args, p->name, (int64_t)p->min, (int64_t)p->max, (int64_t)p->def,
			     &v->i, err);
		if (r == 0 && p->required && !v->given)
			r = pm_error_set(err, "arguments", 0,
					 "missing required argument `%s` "
					 "(an integer)",
					 p->name);
		break;
	case TOOL_NUMBER:
		r = args_number(args, p->name, p->min, p->max, p->def, &v->d, err);
		break;
	case TOOL_ENUM:
		r = args_enum(args, p->name, p->values, p->required, &v->e, err);
		if (r == 0 && v->e >= 0)
			v->s = p->values[v->e];
		break;
	case TOOL_STRINGS:
		r = args_string_array(args, p->name, p->required, &v->json, err);
		break;
	case TOOL_STRING_MAP:
		r = args_string_map(args, p->name, p->required, &v->json, err);
		break;
	case TOOL_JSON:
		v->json = v->given ? given : NULL;
		if (p->required && !v->given)
			r = pm_error_set(err, "arguments", 0, "missing required argument `%s`",
					 p->name);
		break;
	}
	return r;
}

void tool_invoke(const struct tool_decl *d, void *ctx, struct tool_call *call, json_t *args)
{
	const char *names[TOOL_PARAMS_MAX + 1];
	struct tool_args a = {.d = d, .json = args};
	struct pm_error err = {0};
	size_t n = 0;

	for (const struct tool_param *p = d->params; p->name; p++) {
		if (n == TOOL_PARAMS_MAX) {
			tool_fail(call, "bug: tool %s declares more than %d parameters", d->name,
				  TOOL_PARAMS_MAX);
			return;
		}
		names[n++] = p->name;
	}
	names[n] = NULL;
	if (args_check_known(args, names, &err) < 0) {
		tool_fail_error(call, &err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (check_one(&d->params[i], args, &a.v[i], &err) < 0) {
			tool_fail_error(call, &err);
			return;
		}
	}
	d->handler(call, &a, ctx);
}

struct tool_args *tool_args_keep(const struct tool_args *a)
{
	struct tool_args *kept = malloc(sizeof(*kept));

	if (kept == NULL)
		return NULL;
	*kept = *a;
	/* Strings and arrays are borrowed from the object: it stays. */
	json_incref(kept->json);
	return kept;
}

void tool_args_release(struct tool_args *a)
{
	if (a == NULL)
		return;
	json_decref(a->json);
	free(a);
}

static const struct tool_value *value(const struct tool_args *a, const char *name,
				      enum tool_type *type)
{
	size_t i = 0;

	for (const struct tool_param *p = a->d->params; p->name; p++, i++) {
		if (strcmp(p->name, name) == 0) {
			*type = p->type;
			return &a->v[i];
		}
	}
	log_error("bug: tool %s reads `%s`, which it does not declare", a->d->name, name);
	return NULL;
}

bool tool_given(const struct tool_args *a, const char *name)
{
	enum tool_type t;
	const struct tool_value *v = value(a, name, &t);

	return v && v->given;
}

const char *tool_str(const struct tool_args *a, const char *name)
{
	enum tool_type t;
	const struct tool_value *v = value(a, name, &t);

	return v ? v->s : NULL;
}

bool tool_bool(const struct tool_args *a, const char *name)
{
	enum tool_type t;
	const struct tool_value *v = value(a, name, &t);

	return v && v->b;
}

int64_t tool_int(const struct tool_args *a, const char *name)
{
	enum tool_type t;
	const struct tool_value *v = value(a, name, &t);

	return v ? v->i : 0;
}

double tool_num(const struct tool_args *a, const char *name)
{
	enum tool_type t;
	const struct tool_value *v = value(a, name, &t);

	return v ? v->d : 0;
}

int tool_enum(const struct tool_args *a, const char *name)
{
	enum tool_type t;
	const struct tool_value *v = value(a, name, &t);

	return v ? v->e : -1;
}

json_t *tool_json(const struct tool_args *a, const char *name)
{
	enum tool_type t;
	const struct tool_value *v = value(a, name, &t);

	return v ? v->json : NULL;
}
