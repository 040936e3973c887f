#include "json_text.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

const char *pm_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
	size_t n = p[0] < 0x80		   ? 1
		   : (p[0] & 0xE0) == 0xC0 ? 2
		   : (p[0] & 0xF0) == 0xE0 ? 3
		   : (p[0] & 0xF8) == 0xF0 ? 4
					   : 0;

	if (n == 2 && p[0] < 0xC2)
		return 0; /* overlong */
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

json_t *pm_json_string_lossy(const char *s)
{
	size_t len = strlen(s);
	_cleanup_free_ char *copy = NULL;
	json_t *valid = json_string(s);

	if (valid != NULL) /* the common case */
		return valid;
	copy = malloc(len + 1);
	if (copy == NULL)
		return json_string("?");
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)s + i);
		if (n == 0) {
			copy[i++] = '?';
			continue;
		}
		memcpy(copy + i, s + i, n);
		i += n;
	}
	copy[len] = '\0';
	json_t *j = json_string(copy);
	return j ? j : json_string("?");
}
