/* Small JSON helpers shared by the launcher and the server: how a value's
 * type is named in error messages, and JSON strings from bytes that may
 * not be UTF-8. */
#ifndef PM_JSON_TEXT_H
#define PM_JSON_TEXT_H

#include <jansson.h>

/* "an object", "an array", "a string", "an integer", "a real number",
 * "a boolean", "null": for messages such as "expected X, got Y". */
const char *pm_json_type_name(const json_t *v);

/* A JSON string of s with every byte that is not valid UTF-8 replaced by
 * '?': host paths and messages are bytes, JSON text is not. */
json_t *pm_json_string_lossy(const char *s);

#endif
