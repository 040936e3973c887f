#include "args.h"
#include "json_text.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* "a, b, c" into buf, cut (never overrun) when it does not fit. */
static void join(char *buf, size_t size, const char *const *names)
{
	size_t n = strlen(buf);

	for (const char *const *p = names; *p != NULL && n + 1 < size; p++) {
		int w = snprintf(buf + n, size - n, "%s%s", p == names ? "" : ", ", *p);

		if (w < 0)
			break;
		n += (size_t)w < size - n ? (size_t)w : size - n - 1;
	}
}

/* The member, or NULL when not given. */
static json_t *member(json_t *args, const char *name)
{
	json_t *v = json_is_object(args) ? json_object_get(args, name) : NULL;

	return json_is_null(v) ? NULL : v;
}

static int missing(const char *name, const char *expected, struct pm_error *err)
{
	return pm_error_set(err, "arguments", 0, "missing required argument `%s` (%s)", name,
			    expected);
}

static int wrong_type(const char *name, const char *expected, const json_t *v, struct pm_error *err)
{
	return pm_error_set(err, "arguments", 0, "argument `%s` must be %s, got %s", name, expected,
			    pm_json_type_name(v));
}

int args_check_known(json_t *args, const char *const *names, struct pm_error *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(args))
		return pm_error_set(err, "arguments", 0, "arguments must be an object, got %s",
				    pm_json_type_name(args));
	json_object_foreach (args, key, v) {
		char known[512] = "";
		bool found = false;

		for (const char *const *p = names; *p != NULL; p++)
			if (strcmp(*p, key) == 0)
				found = true;
		if (found)
			continue;
		join(known, sizeof(known), names);
		return pm_error_set(err, "arguments", 0,
				    "unknown argument `%s`; this tool accepts: %s", key,
				    names[0] ? known : "no arguments");
	}
	return 0;
}

int args_string(json_t *args, const char *name, bool required, const char **out,
		struct pm_error *err)
{
	json_t *v = member(args, name);

	*out = NULL;
	if (v == NULL)
		return required ? missing(name, "a string", err) : 0;
	if (!json_is_string(v))
		return wrong_type(name, "a string", v, err);
	*out = json_string_value(v);
	return 0;
}

int args_enum(json_t *args, const char *name, const char *const *values, bool required, int *index,
	      struct pm_error *err)
{
	char expected[512] = "one of ";
	const char *s;
	int r;

	join(expected, sizeof(expected), values);
	*index = -1;
	r = args_string(args, name, false, &s, err);
	if (r < 0 || (s == NULL && required)) {
		json_t *v = member(args, name);

		return v ? wrong_type(name, expected, v, err) : missing(name, expected, err);
	}
	if (s == NULL)
		return 0;
	for (int i = 0; values[i] != NULL; i++) {
		if (strcmp(values[i], s) == 0) {
			*index = i;
			return 0;
		}
	}
	return pm_error_set(err, "arguments", 0, "argument `%s` must be %s, got `%s`", name,
			    expected, s);
}

int args_bool(json_t *args, const char *name, bool def, bool *out, struct pm_error *err)
{
	json_t *v = member(args, name);

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return wrong_type(name, "a boolean (true or false)", v, err);
	*out = json_is_true(v);
	return 0;
}

int args_int(json_t *args, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out,
	     struct pm_error *err)
{
	json_t *v = member(args, name);
	char expected[96];
	int64_t x;

	snprintf(expected, sizeof(expected), "an integer from %lld to %lld", (long long)min,
		 (long long)max);
	*out = def;
	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		x = (int64_t)json_integer_value(v);
	} else if (json_is_real(v) && json_real_value(v) > -9e18 && json_real_value(v) < 9e18 &&
		   json_real_value(v) == (double)(int64_t)json_real_value(v)) {
		x = (int64_t)json_real_value(v);
	} else if (json_is_real(v)) {
		return pm_error_set(err, "arguments", 0, "argument `%s` must be %s, got %g", name,
				    expected, json_real_value(v));
	} else {
		return wrong_type(name, expected, v, err);
	}
	if (x < min || x > max)
		return pm_error_set(err, "arguments", 0, "argument `%s` must be %s, got %lld", name,
				    expected, (long long)x);
	*out = x;
	return 0;
}

int args_number(json_t *args, const char *name, double min, double max, double def, double *out,
		struct pm_error *err)
{
	json_t *v = member(args, name);
	char expected[96];
	double x;

	snprintf(expected, sizeof(expected), "a number from %g to %g", min, max);
	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_number(v))
		return wrong_type(name, expected, v, err);
	x = json_number_value(v);
	if (!(x >= min && x <= max))
		return pm_error_set(err, "arguments", 0, "argument `%s` must be %s, got %g", name,
				    expected, x);
	*out = x;
	return 0;
}

int args_string_array(json_t *args, const char *name, bool required, json_t **out,
		      struct pm_error *err)
{
	json_t *v = member(args, name), *item;
	size_t i;

	*out = NULL;
	if (v == NULL)
		return required ? missing(name, "an array of strings", err) : 0;
	if (!json_is_array(v))
		return wrong_type(name, "an array of strings", v, err);
	json_array_foreach (v, i, item) {
		if (!json_is_string(item))
			return pm_error_set(err, "arguments", 0,
					    "argument `%s` must be an array of strings, but item "
					    "%zu is %s",
					    name, i, pm_json_type_name(item));
	}
	*out = v;
	return 0;
}

int args_string_map(json_t *args, const char *name, bool required, json_t **out,
		    struct pm_error *err)
{
	json_t *v = member(args, name), *item;
	const char *key;

	*out = NULL;
	if (v == NULL)
		return required ? missing(name, "an object of strings", err) : 0;
	if (!json_is_object(v))
		return wrong_type(name, "an object whose values are strings", v, err);
	json_object_foreach (v, key, item) {
		if (!json_is_string(item))
			return pm_error_set(err, "arguments", 0,
					    "argument `%s` must be an object whose values are "
					    "strings, but `%s` is %s",
					    name, key, pm_json_type_name(item));
	}
	*out = v;
	return 0;
}
