/* A scanner that follows a JSON path through raw text to report line
 * numbers.  It only ever reads forward and skips nested values with a depth
 * counter instead of recursion, so hostile input (the fuzz target feeds it
 * anything) can neither overflow the stack nor make it loop: every step of
 * every loop consumes at least one byte or returns.
 */
#include "json_locate.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

void sb_json_path_init(struct sb_json_path *path)
{
	path->depth = 0;
}

void sb_json_path_push_key(struct sb_json_path *path, const char *key)
{
	if (path->depth < SB_JSON_PATH_MAX) {
		path->steps[path->depth].kind = SB_JSON_STEP_KEY;
		path->steps[path->depth].key = key;
		path->steps[path->depth].index = 0;
	}
	path->depth++;
}

void sb_json_path_push_index(struct sb_json_path *path, size_t index)
{
	if (path->depth < SB_JSON_PATH_MAX) {
		path->steps[path->depth].kind = SB_JSON_STEP_INDEX;
		path->steps[path->depth].key = NULL;
		path->steps[path->depth].index = index;
	}
	path->depth++;
}

void sb_json_path_pop(struct sb_json_path *path)
{
	if (path->depth > 0)
		path->depth--;
}

static size_t stored_depth(const struct sb_json_path *path)
{
	return path->depth < SB_JSON_PATH_MAX ? path->depth : SB_JSON_PATH_MAX;
}

/* Appends to buf without ever overflowing it; *used may pass size, in which
 * case the output is simply truncated. */
static void append(char *buf, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*used += (size_t)n < size - *used ? (size_t)n : size - *used;
}

static bool is_identifier(const char *key)
{
	if (!((*key >= 'A' && *key <= 'Z') || (*key >= 'a' && *key <= 'z') || *key == '_'))
		return false;
	for (const char *p = key + 1; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	}
	return true;
}

void sb_json_path_format(const struct sb_json_path *path, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	append(buf, size, &used, "$");
	for (size_t d = 0; d < stored_depth(path); d++) {
		const struct sb_json_step *step = &path->steps[d];

		if (step->kind == SB_JSON_STEP_INDEX) {
			append(buf, size, &used, "[%zu]", step->index);
		} else if (is_identifier(step->key)) {
			append(buf, size, &used, ".%s", step->key);
		} else {
			append(buf, size, &used, "[\"");
			for (const unsigned char *p = (const unsigned char *)step->key; *p; p++) {
				if (*p == '"' || *p == '\\')
					append(buf, size, &used, "\\%c", *p);
				else if (*p < 0x20)
					append(buf, size, &used, "\\u%04x", *p);
				else
					append(buf, size, &used, "%c", *p);
			}
			append(buf, size, &used, "\"]");
		}
	}
	if (path->depth > SB_JSON_PATH_MAX)
		append(buf, size, &used, "...");
}

struct cursor {
	const char *s;
	size_t len;
	size_t i;
	unsigned line;
};

#define END (-1)

static int peek(const struct cursor *c)
{
	return c->i < c->len ? (unsigned char)c->s[c->i] : END;
}

static void advance(struct cursor *c)
{
	if (c->i < c->len) {
		if (c->s[c->i] == '\n')
			c->line++;
		c->i++;
	}
}

static void skip_ws(struct cursor *c)
{
	for (;;) {
		int ch = peek(c);

		if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
			return;
		advance(c);
	}
}

/* The cursor is on the opening quote. */
static void skip_string(struct cursor *c)
{
	advance(c);
	for (;;) {
		int ch = peek(c);

		if (ch == END)
			return;
		advance(c);
		if (ch == '"')
			return;
		if (ch == '\\')
			advance(c);
	}
}

static void skip_value(struct cursor *c)
{
	int ch = peek(c);
	size_t depth = 0;

	if (ch == '"') {
		skip_string(c);
		return;
	}
	if (ch != '{' && ch != '[') {
		/* A literal or a number: up to the next delimiter. */
		while ((ch = peek(c)) != END && ch != ',' && ch != ']' && ch != '}' && ch != ' ' &&
		       ch != '\t' && ch != '\r' && ch != '\n')
			advance(c);
		return;
	}
	while ((ch = peek(c)) != END) {
		if (ch == '"') {
			skip_string(c);
			continue;
		}
		if (ch == '{' || ch == '[')
			depth++;
		else if ((ch == '}' || ch == ']') && depth > 0)
			depth--;
		advance(c);
		if (depth == 0)
			return;
	}
}

static int hex_digit(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Reads the XXXX of a \uXXXX escape; -1 when malformed. */
static long read_hex4(struct cursor *c)
{
	long v = 0;

	for (int k = 0; k < 4; k++) {
		int d = hex_digit(peek(c));

		if (d < 0)
			return -1;
		v = v * 16 + d;
		advance(c);
	}
	return v;
}

static size_t utf8_encode(uint32_t cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decodes one escape after the backslash into UTF-8 bytes; 0 bytes when
 * the escape is malformed (which makes the key compare unequal). */
static size_t decode_escape(struct cursor *c, unsigned char out[4])
{
	int e = peek(c);
	long cp, lo;

	if (e == END)
		return 0;
	advance(c);
	/* The one-character escapes, as pairs: escape letter, byte. */
	static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	for (const char *p = simple; *p != '\0'; p += 2) {
		if (*p == e) {
			out[0] = (unsigned char)p[1];
			return 1;
		}
	}
	if (e != 'u')
		return 0;
	cp = read_hex4(c);
	if (cp < 0)
		return 0;
	if (cp >= 0xD800 && cp <= 0xDBFF && peek(c) == '\\' && c->i + 1 < c->len &&
	    c->s[c->i + 1] == 'u') {
		advance(c);
		advance(c);
		lo = read_hex4(c);
		if (lo < 0xDC00 || lo > 0xDFFF)
			return 0;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	return utf8_encode((uint32_t)cp, out);
}

/* The cursor is on the opening quote of a key; consumes the string and
 * tells whether its decoded value equals `key`. */
static bool match_key(struct cursor *c, const char *key)
{
	const unsigned char *k = (const unsigned char *)key;
	bool equal = true;

	advance(c);
	for (;;) {
		unsigned char bytes[4];
		size_t n;
		int ch = peek(c);

		if (ch == END)
			return false;
		advance(c);
		if (ch == '"')
			return equal && *k == '\0';
		if (ch == '\\') {
			n = decode_escape(c, bytes);
			if (n == 0)
				equal = false;
		} else {
			bytes[0] = (unsigned char)ch;
			n = 1;
		}
		for (size_t b = 0; b < n && equal; b++) {
			if (*k == '\0' || *k != bytes[b])
				equal = false;
			else
				k++;
		}
	}
}

/* Moves the cursor onto the value of `key` in the object under the cursor.
 * *key_line receives the line of the key.  False when there is no such
 * key or the text is not an object. */
static bool enter_key(struct cursor *c, const char *key, unsigned *key_line)
{
	if (peek(c) != '{')
		return false;
	advance(c);
	for (;;) {
		bool found;

		skip_ws(c);
		if (peek(c) != '"')
			return false;
		*key_line = c->line;
		found = match_key(c, key);
		skip_ws(c);
		if (peek(c) != ':')
			return false;
		advance(c);
		skip_ws(c);
		if (found)
			return true;
		skip_value(c);
		skip_ws(c);
		if (peek(c) != ',')
			return false;
		advance(c);
	}
}

/* Moves the cursor onto element `index` of the array under the cursor. */
static bool enter_index(struct cursor *c, size_t index)
{
	if (peek(c) != '[')
		return false;
	advance(c);
	for (size_t i = 0;; i++) {
		skip_ws(c);
		if (peek(c) == ']' || peek(c) == END)
			return false;
		if (i == index)
			return true;
		skip_value(c);
		skip_ws(c);
		if (peek(c) != ',')
			return false;
		advance(c);
	}
}

unsigned sb_json_locate(const char *text, size_t len, const struct sb_json_path *path,
			enum sb_json_target target)
{
	struct cursor c = {.s = text, .len = text != NULL ? len : 0, .i = 0, .line = 1};
	size_t depth = stored_depth(path);
	unsigned best;

	skip_ws(&c);
	best = c.line;
	for (size_t d = 0; d < depth; d++) {
		const struct sb_json_step *step = &path->steps[d];
		unsigned key_line = 0;

		if (step->kind == SB_JSON_STEP_KEY) {
			if (!enter_key(&c, step->key, &key_line))
				return best;
			if (d + 1 == depth && target == SB_JSON_KEY)
				return key_line;
		} else if (!enter_index(&c, step->index)) {
			return best;
		}
		best = c.line;
	}
	return best;
}
