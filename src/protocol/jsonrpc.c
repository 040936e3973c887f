#include "jsonrpc.h"
#include "json_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"

#define HINT_ONE_PER_LINE "Hint: send one JSON-RPC 2.0 object per line, UTF-8 encoded"

size_t utf8_prefix_len(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return n;
	n = max;
	/* Back off over continuation bytes to the start of the character that
	 * straddles the cut, and cut before it. */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

bool jrpc_too_deep(const char *text, size_t len, unsigned max_depth)
{
	bool in_string = false, escaped = false;
	size_t depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return true;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return false;
}

json_t *jrpc_result_new(json_t *id, json_t *result_new)
{
	json_t *msg = json_object();

	if (msg == NULL || result_new == NULL) {
		json_decref(msg);
		json_decref(result_new);
		return NULL;
	}
	json_object_set_new(msg, "jsonrpc", json_string("2.0"));
	json_object_set_new(msg, "id", id ? json_incref(id) : json_null());
	json_object_set_new(msg, "result", result_new);
	return msg;
}

json_t *jrpc_error_new(json_t *id, int code, json_t *data_new, const char *fmt, ...)
{
	char message[1024];
	json_t *msg, *error;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	msg = json_object();
	error = json_object();
	if (msg == NULL || error == NULL) {
		json_decref(msg);
		json_decref(error);
		json_decref(data_new);
		return NULL;
	}
	json_object_set_new(error, "code", json_integer(code));
	json_object_set_new(error, "message", pm_json_string_lossy(message));
	if (data_new != NULL)
		json_object_set_new(error, "data", data_new);
	json_object_set_new(msg, "jsonrpc", json_string("2.0"));
	json_object_set_new(msg, "id", id ? json_incref(id) : json_null());
	json_object_set_new(msg, "error", error);
	return msg;
}

json_t *jrpc_notification_new(const char *method, json_t *params_new)
{
	json_t *msg = json_object();

	if (msg == NULL) {
		json_decref(params_new);
		return NULL;
	}
	json_object_set_new(msg, "jsonrpc", json_string("2.0"));
	json_object_set_new(msg, "method", json_string(method));
	if (params_new != NULL)
		json_object_set_new(msg, "params", params_new);
	return msg;
}

void jrpc_message_clear(struct jrpc_message *msg)
{
	json_decref(msg->root);
	json_decref(msg->error_new);
	memset(msg, 0, sizeof(*msg));
}

static bool only_whitespace(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", text[i]) || text[i] == '\0')
			return false;
	return true;
}

/* An invalid message: answered when it carried an id (or could have: the
 * id is then null), ignored when it is a notification. */
static void invalid(struct jrpc_message *msg, bool answer, json_t *id, int code, const char *why,
		    const char *hint)
{
	msg->kind = JRPC_INVALID;
	msg->why = why;
	if (answer)
		msg->error_new = jrpc_error_new(id, code, NULL, "%s. %s", why, hint);
}

/* The envelope of an object: id, jsonrpc, method, in that order, so that
 * an error can echo the id whenever the id itself is fine. */
static void classify(struct jrpc_message *msg)
{
	json_t *root = msg->root;
	json_t *id = json_object_get(root, "id");
	json_t *jsonrpc = json_object_get(root, "jsonrpc");
	json_t *method = json_object_get(root, "method");
	bool has_id = id != NULL;

	if (has_id && !json_is_string(id) && !json_is_integer(id)) {
		invalid(msg, true, NULL, JRPC_INVALID_REQUEST,
			json_is_null(id) ? "Invalid request: `id` is null"
					 : "Invalid request: `id` must be a string or an integer",
			"Hint: give each request a unique string or integer id, or omit `id` "
			"to send a notification");
		return;
	}
	if (!json_is_string(jsonrpc) || strcmp(json_string_value(jsonrpc), "2.0") != 0) {
		invalid(msg, has_id, id, JRPC_INVALID_REQUEST,
			jsonrpc ? "Invalid request: `jsonrpc` must be the string \"2.0\""
				: "Invalid request: `jsonrpc` is missing",
			"Hint: add \"jsonrpc\":\"2.0\" to every message");
		return;
	}
	if (method == NULL) {
		if (json_object_get(root, "result") || json_object_get(root, "error")) {
			msg->kind = JRPC_RESPONSE;
			msg->id = id;
			return;
		}
		invalid(msg, has_id, id, JRPC_INVALID_REQUEST,
			"Invalid request: `method` is missing",
			"Hint: a request needs \"method\", a response \"result\" or \"error\"");
		return;
	}
	if (!json_is_string(method)) {
		invalid(msg, has_id, id, JRPC_INVALID_REQUEST,
			"Invalid request: `method` must be a string",
			"Hint: for example \"method\":\"tools/list\"");
		return;
	}
	msg->kind = has_id ? JRPC_REQUEST : JRPC_NOTIFICATION;
	msg->id = id;
	msg->method = json_string_value(method);
	msg->params = json_object_get(root, "params");
}

void jrpc_parse(const char *text, size_t len, unsigned max_depth, struct jrpc_message *msg)
{
	json_error_t jerr;

	memset(msg, 0, sizeof(*msg));
	if (only_whitespace(text, len)) {
		msg->kind = JRPC_EMPTY;
		return;
	}
	if (jrpc_too_deep(text, len, max_depth)) {
		_cleanup_json_ json_t *id = jrpc_salvage_id(text, len);
		msg->kind = JRPC_INVALID;
		msg->error_new =
		    jrpc_error_new(id, JRPC_INVALID_REQUEST,
				   json_pack("{s:I}", "max_depth", (json_int_t)max_depth),
				   "Invalid request: JSON nesting is deeper than the limit "
				   "of %u levels. Hint: flatten the arguments",
				   max_depth);
		return;
	}
	msg->root = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	if (msg->root == NULL) {
		/* Bad bytes, a NUL, a syntax error late in the text: when the
		 * id can still be read, the error goes to that request. */
		_cleanup_json_ json_t *id = jrpc_salvage_id(text, len);
		msg->kind = JRPC_INVALID;
		msg->error_new = jrpc_error_new(id, JRPC_PARSE_ERROR, NULL,
						"Parse error at byte %d: %s. " HINT_ONE_PER_LINE,
						jerr.position, jerr.text);
		return;
	}
	if (json_is_array(msg->root)) {
		invalid(msg, true, NULL, JRPC_INVALID_REQUEST,
			"Invalid request: batches (JSON arrays) are not supported since MCP "
			"2025-06-18",
			"Hint: send each message as its own line");
		return;
	}
	if (!json_is_object(msg->root)) {
		char why[96];

		snprintf(why, sizeof(why),
			 "Invalid request: a message must be a JSON object, not %s",
			 pm_json_type_name(msg->root));
		msg->kind = JRPC_INVALID;
		msg->error_new = jrpc_error_new(NULL, JRPC_INVALID_REQUEST, NULL, "%s. %s", why,
						HINT_ONE_PER_LINE);
		return;
	}
	classify(msg);
}

void jrpc_id_scan_init(struct jrpc_id_scan *s)
{
	memset(s, 0, sizeof(*s));
}

static void end_token(struct jrpc_id_scan *s)
{
	s->capturing = s->in_number = false;
	s->found = s->token_len > 0 && s->token_len <= JRPC_ID_TOKEN_MAX;
}

static void take(struct jrpc_id_scan *s, char c)
{
	if (s->token_len < JRPC_ID_TOKEN_MAX)
		s->token[s->token_len] = c;
	s->token_len++;
}

/* Only depth 1 (the members of the top-level object) matters; deeper
 * values are skipped by counting brackets outside strings. */
static void scan_byte(struct jrpc_id_scan *s, char c)
{
	if (s->in_string) {
		if (s->capturing)
			take(s, c);
		else if (s->in_key && !s->escaped && c != '"' && c != '\\') {
			if (s->key_len < sizeof(s->key))
				s->key[s->key_len] = c;
			s->key_len++;
		}
		if (s->escaped) {
			s->escaped = false;
		} else if (c == '\\') {
			s->escaped = true;
			s->key_len =
			    s->in_key ? sizeof(s->key) + 1 : s->key_len; /* escaped: not "id" */
		} else if (c == '"') {
			s->in_string = false;
			if (s->capturing)
				end_token(s);
			if (s->in_key) {
				s->in_key = false;
				s->after_key = true;
			}
		}
		return;
	}
	if (s->in_number) {
		if (strchr("0123456789+-.eE", c) && c != '\0') {
			take(s, c);
			return;
		}
		end_token(s);
	}
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
		return;
	if (!s->started) {
		s->started = true;
		s->bad = c != '{';
		if (!s->bad)
			s->depth = 1;
		return;
	}
	if (s->bad || s->depth == 0)
		return;
	if (c == '{' || c == '[') {
		s->depth++;
		s->want_value = false;
		return;
	}
	if (c == '}' || c == ']') {
		s->depth--;
		return;
	}
	if (s->depth != 1)
		return;
	if (c == '"') {
		s->in_string = true;
		if (s->want_value) {
			s->want_value = false;
			s->capturing = true;
			s->token_len = 0;
			take(s, c);
		} else if (!s->after_key) {
			s->in_key = true;
			s->key_len = 0;
		}
	} else if (c == ':' && s->after_key) {
		s->after_key = false;
		s->want_value = s->key_len == 2 && memcmp(s->key, "id", 2) == 0;
	} else if (s->want_value && (c == '-' || (c >= '0' && c <= '9'))) {
		s->want_value = false;
		s->in_number = s->capturing = true;
		s->token_len = 0;
		take(s, c);
	} else {
		s->want_value = s->after_key = false;
	}
}

void jrpc_id_scan_feed(struct jrpc_id_scan *s, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++)
		scan_byte(s, data[i]);
}

json_t *jrpc_id_scan_result(struct jrpc_id_scan *s)
{
	json_t *id;

	if (s->in_number)
		end_token(s);
	if (!s->found || s->token_len > JRPC_ID_TOKEN_MAX)
		return NULL;
	id = json_loadb(s->token, s->token_len, JSON_DECODE_ANY, NULL);
	if (id != NULL && !json_is_string(id) && !json_is_integer(id)) {
		json_decref(id);
		id = NULL;
	}
	return id;
}

json_t *jrpc_salvage_id(const char *text, size_t len)
{
	struct jrpc_id_scan s;

	jrpc_id_scan_init(&s);
	jrpc_id_scan_feed(&s, text, len);
	return jrpc_id_scan_result(&s);
}
