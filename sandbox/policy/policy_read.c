#include "policy_read.h"

#include "json_text.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "policy.h"
#include "policy_chain.h"

int sb_rd_oom(struct sb_reader *r)
{
	return pm_error_set(r->err, "policy", ENOMEM, "policy `%s`", r->file);
}

int sb_rd_fail(struct sb_reader *r, enum sb_json_target target, const char *fmt, ...)
{
	char where[256];
	char what[PM_ERROR_MESSAGE_MAX];
	const char *text = r->text, *file = r->file, *top = r->top;
	size_t len = r->len;
	struct sb_json_path in_file = r->path;
	unsigned line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (r->chain != NULL && r->chain->n > 1) {
		size_t f = sb_policy_chain_locate(r->chain, &r->path, &in_file);

		text = r->chain->files[f].text;
		len = r->chain->files[f].len;
		file = r->chain->files[f].name;
		top = f > 0 ? r->chain->files[0].name : NULL;
	}
	sb_json_path_format(&in_file, where, sizeof(where));
	line = sb_json_locate(text, len, &in_file, target);
	if (top != NULL)
		return pm_error_set(r->err, "policy", 0,
				    "policy `%s`, in its base `%s` line %u, at %s: %s", top, file,
				    line, where, what);
	return pm_error_set(r->err, "policy", 0, "policy `%s` line %u, at %s: %s", file, line,
			    where, what);
}

const char *sb_rd_quote(const char *s, char *buf, size_t size)
{
	size_t out = 0;
	const size_t limit = 80;

	if (size == 0)
		return "";
	for (size_t i = 0; s[i] != '\0' && out + 1 < size; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == limit) {
			if (out + 4 <= size) {
				memcpy(buf + out, "...", 3);
				out += 3;
			}
			break;
		}
		buf[out++] = (ch < 0x20 || ch == 0x7f || ch == '`') ? '?' : (char)ch;
	}
	buf[out] = '\0';
	return buf;
}

int sb_rd_type_error(struct sb_reader *r, const json_t *v, const char *what)
{
	return sb_rd_fail(r, SB_JSON_VALUE, "expected %s, got %s", what, pm_json_type_name(v));
}

/* Edit distance, for "did you mean" hints; keys are short, so the classic
 * two-row table on the stack is enough.  Longer strings count as far. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t prev[65], cur[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

static int unknown_key(struct sb_reader *r, const char *key, const char *const *allowed)
{
	char hint[PM_ERROR_HINT_MAX];
	char quoted[96];
	const char *closest = NULL;
	size_t best = 3; /* suggest only near misses */
	size_t used = 0;
	int rc;

	sb_json_path_push_key(&r->path, key);
	rc = sb_rd_fail(r, SB_JSON_KEY, "unknown key `%s`",
			sb_rd_quote(key, quoted, sizeof(quoted)));
	sb_json_path_pop(&r->path);

	for (const char *const *a = allowed; *a != NULL; a++) {
		size_t d = edit_distance(key, *a);

		if (d < best) {
			best = d;
			closest = *a;
		}
	}
	hint[0] = '\0';
	if (closest != NULL)
		used = (size_t)snprintf(hint, sizeof(hint), "did you mean `%s`? ", closest);
	for (const char *const *a = allowed; *a != NULL && used < sizeof(hint); a++)
		used += (size_t)snprintf(hint + used, sizeof(hint) - used, "%s`%s`",
					 a == allowed ? "allowed keys here: " : ", ", *a);
	pm_error_hint(r->err, "%s", hint);
	return rc;
}

int sb_rd_object(struct sb_reader *r, const json_t *v, const char *const *allowed)
{
	const char *key;
	json_t *member;

	if (!json_is_object(v))
		return sb_rd_type_error(r, v, "an object");
	/* The cast is jansson's: its iteration macro takes a non-const object
	 * but does not modify it. */
	json_object_foreach ((json_t *)v, key, member) {
		bool known = false;

		for (const char *const *a = allowed; *a != NULL && !known; a++)
			known = strcmp(key, *a) == 0;
		if (!known)
			return unknown_key(r, key, allowed);
	}
	return 0;
}

int sb_rd_require(struct sb_reader *r, const json_t *obj, const char *key, json_t **out)
{
	*out = json_object_get(obj, key);
	if (*out == NULL)
		return sb_rd_fail(r, SB_JSON_VALUE, "missing required key `%s`", key);
	return 0;
}

int sb_rd_int_value(struct sb_reader *r, const json_t *v, int64_t min, int64_t max, int64_t *out)
{
	char what[96];
	int64_t n;

	if (min == INT64_MIN && max == INT64_MAX)
		snprintf(what, sizeof(what), "an integer");
	else if (min == max)
		snprintf(what, sizeof(what), "the integer %lld", (long long)min);
	else if (max == INT64_MAX)
		snprintf(what, sizeof(what), "an integer >= %lld", (long long)min);
	else
		snprintf(what, sizeof(what), "an integer between %lld and %lld", (long long)min,
			 (long long)max);
	if (!json_is_integer(v))
		return sb_rd_type_error(r, v, what);
	n = json_integer_value(v);
	if (n < min || n > max)
		return sb_rd_fail(r, SB_JSON_VALUE, "expected %s, got %lld", what, (long long)n);
	*out = n;
	return 0;
}

int sb_rd_string_value(struct sb_reader *r, const json_t *v, const char **out)
{
	if (!json_is_string(v))
		return sb_rd_type_error(r, v, "a string");
	*out = json_string_value(v);
	return 0;
}

/* Writes the canonical spelling of an absolute path into `canon` (same
 * size as the input plus one); false when it has a ".." component. */
static bool canonicalize(const char *path, char *canon)
{
	size_t out = 0;
	const char *p = path;

	while (*p != '\0') {
		const char *start, *end;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != '/')
			p++;
		end = p;
		if (end - start == 1 && start[0] == '.')
			continue;
		if (end - start == 2 && start[0] == '.' && start[1] == '.')
			return false;
		canon[out++] = '/';
		memcpy(canon + out, start, (size_t)(end - start));
		out += (size_t)(end - start);
	}
	if (out == 0)
		canon[out++] = '/';
	canon[out] = '\0';
	return true;
}

int sb_rd_path_value(struct sb_reader *r, const json_t *v, bool allow_root, char **out)
{
	_cleanup_free_ char *canon = NULL;
	char quoted[96];
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return sb_rd_type_error(r, v, "an absolute path");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len != strlen(s))
		return sb_rd_fail(r, SB_JSON_VALUE, "a path cannot contain a NUL character");
	if (s[0] != '/') {
		sb_rd_fail(r, SB_JSON_VALUE, "expected an absolute path, got `%s`",
			   sb_rd_quote(s, quoted, sizeof(quoted)));
		return pm_error_hint(r->err, "paths in policies start with `/`");
	}
	if (len >= PATH_MAX)
		return sb_rd_fail(r, SB_JSON_VALUE, "path is longer than %d bytes", PATH_MAX - 1);
	canon = malloc(len + 2);
	if (canon == NULL)
		return pm_error_set(r->err, "policy", ENOMEM, "policy `%s`", r->file);
	if (!canonicalize(s, canon))
		return sb_rd_fail(r, SB_JSON_VALUE, "path `%s` must not contain `..`",
				  sb_rd_quote(s, quoted, sizeof(quoted)));
	if (strcmp(canon, s) != 0) {
		sb_rd_fail(r, SB_JSON_VALUE, "path `%s` is not canonical",
			   sb_rd_quote(s, quoted, sizeof(quoted)));
		return pm_error_hint(r->err, "write `%s`",
				     sb_rd_quote(canon, quoted, sizeof(quoted)));
	}
	if (!allow_root && strcmp(canon, "/") == 0)
		return sb_rd_fail(r, SB_JSON_VALUE, "`/` is not allowed here");
	*out = TAKE_PTR(canon);
	return 0;
}

int sb_rd_bool(struct sb_reader *r, const json_t *obj, const char *key, bool def, bool *out)
{
	json_t *v = json_object_get(obj, key);
	int rc = 0;

	*out = def;
	if (v == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	if (json_is_boolean(v))
		*out = json_is_true(v);
	else
		rc = sb_rd_type_error(r, v, "a boolean");
	sb_json_path_pop(&r->path);
	return rc;
}

int sb_rd_int(struct sb_reader *r, const json_t *obj, const char *key, int64_t min, int64_t max,
	      int64_t def, bool nullable, int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	int rc = 0;

	*out = def;
	if (v == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	if (nullable && json_is_null(v))
		*out = SB_UNSET;
	else
		rc = sb_rd_int_value(r, v, min, max, out);
	sb_json_path_pop(&r->path);
	return rc;
}

int sb_rd_number(struct sb_reader *r, const json_t *obj, const char *key, double min, double max,
		 double def, double *out)
{
	json_t *v = json_object_get(obj, key);
	int rc = 0;

	*out = def;
	if (v == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	if (!json_is_number(v)) {
		rc = sb_rd_type_error(r, v, "a number");
	} else {
		double d = json_number_value(v);

		if (!(d >= min && d <= max))
			rc = sb_rd_fail(r, SB_JSON_VALUE,
					"expected a number between %.10g and %.10g, got %.10g", min,
					max, d);
		else
			*out = d;
	}
	sb_json_path_pop(&r->path);
	return rc;
}

int sb_rd_string(struct sb_reader *r, const json_t *obj, const char *key, const char **out)
{
	json_t *v = json_object_get(obj, key);
	int rc;

	*out = NULL;
	if (v == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	rc = sb_rd_string_value(r, v, out);
	sb_json_path_pop(&r->path);
	return rc;
}

void sb_rd_free_strv(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int path_list_items(struct sb_reader *r, const json_t *arr, bool allow_root, char **v,
			   size_t *n)
{
	char quoted[96];
	size_t i;
	json_t *item;

	json_array_foreach (arr, i, item) {
		int rc;

		sb_json_path_push_index(&r->path, i);
		rc = sb_rd_path_value(r, item, allow_root, &v[i]);
		if (rc == 0)
			*n = i + 1;
		for (size_t j = 0; rc == 0 && j < i; j++) {
			if (strcmp(v[j], v[i]) == 0)
				rc = sb_rd_fail(r, SB_JSON_VALUE, "`%s` is listed twice",
						sb_rd_quote(v[i], quoted, sizeof(quoted)));
		}
		sb_json_path_pop(&r->path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sb_rd_path_list(struct sb_reader *r, const json_t *obj, const char *key, bool allow_root,
		    char ***out, size_t *n)
{
	json_t *arr = json_object_get(obj, key);
	char **v;
	int rc;

	*out = NULL;
	*n = 0;
	if (arr == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	if (!json_is_array(arr)) {
		rc = sb_rd_type_error(r, arr, "an array of absolute paths");
		sb_json_path_pop(&r->path);
		return rc;
	}
	v = calloc(json_array_size(arr) + 1, sizeof(*v));
	if (v == NULL) {
		sb_json_path_pop(&r->path);
		return pm_error_set(r->err, "policy", ENOMEM, "policy `%s`", r->file);
	}
	rc = path_list_items(r, arr, allow_root, v, n);
	sb_json_path_pop(&r->path);
	if (rc < 0) {
		sb_rd_free_strv(v, *n);
		*n = 0;
		return rc;
	}
	*out = v;
	return 0;
}
