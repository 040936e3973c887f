#include "dotenv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "env_name.h"

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static int line_error(struct pm_error *err, const char *name, int line, const char *what)
{
	pm_error_set(err, "env_file", 0, "env_file `%s` line %d: %s", name, line, what);
	return pm_error_hint(err, "write KEY=VALUE, `export KEY=VALUE`, KEY=\"with \\n escapes\" "
				  "or KEY='literal'; lines starting with # are comments");
}

/* Parses the value starting at p; the end of the line is `end`.  Writes
 * the decoded value to out (at most end - p bytes plus NUL). */
static int parse_value(const char *p, const char *end, char *out, const char **error)
{
	size_t n = 0;

	if (p < end && (*p == '"' || *p == '\'')) {
		char q = *p++;
		for (;;) {
			if (p >= end) {
				*error = q == '"' ? "missing closing \"" : "missing closing '";
				return -1;
			}
			if (*p == q)
				break;
			if (q == '"' && *p == '\\' && p + 1 < end) {
				static const char from[] = "ntr\"\\$", to[] = "\n\t\r\"\\$";
				const char *k = strchr(from, p[1]);
				if (k != NULL) {
					out[n++] = to[k - from];
					p += 2;
					continue;
				}
			}
			out[n++] = *p++;
		}
		p = skip_blanks(p + 1, end);
		if (p < end && *p != '#') {
			*error = "text after the closing quote";
			return -1;
		}
	} else {
		const char *stop = p;
		/* An unquoted value ends at " #" (a comment) or the line end. */
		while (stop < end &&
		       !(*stop == '#' && (stop == p || stop[-1] == ' ' || stop[-1] == '\t')))
			stop++;
		while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t'))
			stop--;
		memcpy(out, p, (size_t)(stop - p));
		n = (size_t)(stop - p);
	}
	out[n] = '\0';
	return 0;
}

int dotenv_parse(const char *text, size_t len, const char *name, json_t *env, struct pm_error *err)
{
	const char *p = text, *end = text + len;
	int line = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *stop = eol ? eol : end, *key, *key_end, *why = NULL;
		_cleanup_free_ char *value = NULL;
		char keybuf[256];

		line++;
		if (stop > p && stop[-1] == '\r')
			stop--;
		p = skip_blanks(p, stop);
		if (p == stop || *p == '#')
			goto next;
		if (stop - p > 7 && strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
			p = skip_blanks(p + 6, stop);
		key = p;
		while (p < stop && pm_env_name_char(*p, p == key))
			p++;
		key_end = p;
		p = skip_blanks(p, stop);
		if (key_end == key || p >= stop || *p != '=')
			return line_error(err, name, line, "expected KEY=VALUE");
		if ((size_t)(key_end - key) >= sizeof(keybuf))
			return line_error(err, name, line,
					  "the name is longer than 255 characters");
		memcpy(keybuf, key, (size_t)(key_end - key));
		keybuf[key_end - key] = '\0';
		p = skip_blanks(p + 1, stop);
		value = malloc((size_t)(stop - p) + 1);
		if (value == NULL)
			return pm_error_set(err, "env_file", ENOMEM, "env_file `%s`", name);
		if (parse_value(p, stop, value, &why) < 0)
			return line_error(err, name, line, why);
		json_object_set_new(env, keybuf, json_string(value));
	next:
		p = eol ? eol + 1 : end;
	}
	return 0;
}
