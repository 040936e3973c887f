/* Unit tests of the layers under the MCP server: the line framer (every
 * way a stream can be cut into reads gives the same lines, and memory stays
 * within the limit) and the JSON-RPC envelope. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "jsonrpc.h"
#include "line_framer.h"

/* ---- the framer ---- */

struct collected {
	char lines[16][128];
	int n_lines, n_overlong;
};

static void feed_all(struct line_framer *f, const char *data, size_t n, size_t step,
		     struct collected *c)
{
	for (size_t off = 0; off < n;) {
		size_t chunk = n - off < step ? n - off : step;

		while (chunk > 0) {
			enum framer_event ev;
			const char *line;
			size_t len, used = framer_feed(f, data + off, chunk, &ev, &line, &len);

			CHECK(used > 0 && used <= chunk);
			CHECK(f->len <= f->max_line + 1 && f->cap <= f->max_line + 1);
			if (ev == FRAMER_LINE && c->n_lines < 16)
				snprintf(c->lines[c->n_lines++], 128, "%.*s", (int)len, line);
			if (ev == FRAMER_OVERLONG)
				c->n_overlong++;
			off += used;
			chunk -= used;
		}
	}
}

static void finish(struct line_framer *f, struct collected *c)
{
	const char *line;
	size_t len;

	enum framer_event ev = framer_finish(f, &line, &len);

	if (ev == FRAMER_LINE && c->n_lines < 16)
		snprintf(c->lines[c->n_lines++], 128, "%.*s", (int)len, line);
	if (ev == FRAMER_OVERLONG)
		c->n_overlong++;
}

static void test_framer(void)
{
	static const char input[] =
	    "abcd\nab\r\n\n\r\nabcd\r\nabcde\nabcd\rx\nxxxxxxxxxxxxxxxxxx\nz";

	/* Every chunk size gives the same result: the split never matters. */
	for (size_t step = 1; step <= sizeof(input); step++) {
		struct line_framer f;
		struct collected c = {0};

		framer_init(&f, 4);
		feed_all(&f, input, sizeof(input) - 1, step, &c);
		finish(&f, &c);
		CHECK(c.n_lines == 4);
		CHECK(strcmp(c.lines[0], "abcd") == 0);
		CHECK(strcmp(c.lines[1], "ab") == 0);
		CHECK(strcmp(c.lines[2], "abcd") == 0); /* 4 bytes and "\r": fits */
		CHECK(strcmp(c.lines[3], "z") == 0);
		/* "abcde", "abcd\rx" and the long run of x. */
		CHECK(c.n_overlong == 3);
		framer_free(&f);
	}
}

static void test_framer_unterminated_overlong(void)
{
	struct line_framer f;
	struct collected c = {0};
	char big[10000];

	memset(big, 'y', sizeof(big));
	framer_init(&f, 100);
	feed_all(&f, big, sizeof(big), 333, &c);
	finish(&f, &c);
	CHECK(c.n_overlong == 1 && c.n_lines == 0);
	feed_all(&f, "ok\n", 3, 3, &c);
	CHECK(c.n_lines == 1 && strcmp(c.lines[0], "ok") == 0);
	framer_free(&f);
}

/* ---- JSON-RPC ---- */

static void test_depth_scan(void)
{
	CHECK(!jrpc_too_deep("{\"a\":\"[[[[\"}", 12, 1));
	CHECK(jrpc_too_deep("[[1]]", 5, 1));
	CHECK(!jrpc_too_deep("[[1]]", 5, 2));
	CHECK(!jrpc_too_deep("[\"\\\"[[[\"]", 10, 1));
	CHECK(!jrpc_too_deep("[][][][]", 8, 1));
}

static void test_utf8_prefix(void)
{
	const char *s = "a\xc3\xa9\xe2\x82\xac"; /* a, e-acute, euro */

	CHECK(utf8_prefix_len(s, 10) == 6);
	CHECK(utf8_prefix_len(s, 2) == 1);
	CHECK(utf8_prefix_len(s, 3) == 3);
	CHECK(utf8_prefix_len(s, 5) == 3);
}

static void test_classify(void)
{
	static const struct {
		const char *text;
		enum jrpc_kind kind;
		bool answered;
	} cases[] = {
	    {"  \t ", JRPC_EMPTY, false},
	    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", JRPC_REQUEST, false},
	    {"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}", JRPC_NOTIFICATION, false},
	    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", JRPC_RESPONSE, false},
	    {"{\"jsonrpc\":\"2.0\",\"id\":false,\"method\":\"ping\"}", JRPC_INVALID, true},
	    {"{\"method\":\"ping\"}", JRPC_INVALID, false},
	    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":[]}", JRPC_INVALID, true},
	    {"[{}]", JRPC_INVALID, true},
	    {"{", JRPC_INVALID, true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jrpc_message m;

		jrpc_parse(cases[i].text, strlen(cases[i].text), 64, &m);
		CHECK(m.kind == cases[i].kind);
		CHECK((m.error_new != NULL) == cases[i].answered);
		jrpc_message_clear(&m);
	}
}

int main(void)
{
	test_framer();
	test_framer_unterminated_overlong();
	test_depth_scan();
	test_utf8_prefix();
	test_classify();
	return check_done("framer and JSON-RPC");
}
