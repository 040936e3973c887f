/* Fuzz target: bytes through the line framer, JSON-RPC parsing and MCP
 * dispatch, with tools that answer at once, later, twice or with progress,
 * a resource template, and a sink that checks every message the server
 * emits (one line, a JSON object, JSON-RPC 2.0).  No I/O.
 *
 * The first byte picks the chunk size and the line limit, so the fuzzer
 * also explores how lines straddle reads and where the limit falls. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line_framer.h"
#include "log.h"
#include "jsonrpc.h"
#include "mcp.h"
#include "tool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HELD_MAX 4

static struct tool_call *held[HELD_MAX];

static void check_output(void *ctx, const char *msg, size_t len)
{
	json_t *request_id = mcp_server_sending_for(ctx);
	json_error_t jerr;
	json_t *m, *v;

	if (memchr(msg, '\n', len) != NULL)
		abort();
	m = json_loadb(msg, len, 0, &jerr);
	if (!json_is_object(m))
		abort();
	v = json_object_get(m, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
		abort();
	/* A response (with an id, null or not) or a notification. */
	if (json_object_get(m, "id") == NULL && !json_is_string(json_object_get(m, "method")))
		abort();
	if (json_object_get(m, "id") != NULL &&
	    (json_object_get(m, "result") != NULL) == (json_object_get(m, "error") != NULL))
		abort();
	/* Every error says what went wrong, even when the input was garbage. */
	v = json_object_get(m, "error");
	if (v && (!json_is_integer(json_object_get(v, "code")) ||
		  json_string_length(json_object_get(v, "message")) == 0))
		abort();
	/* A response names its request to the sink, unless its id is null. */
	if (json_object_get(m, "id") && !json_is_null(json_object_get(m, "id")) &&
	    !json_equal(json_object_get(m, "id"), request_id))
		abort();
	json_decref(m);
}

static void forget(struct tool_call *call)
{
	for (int i = 0; i < HELD_MAX; i++)
		if (held[i] == call)
			held[i] = NULL;
}

static void on_cancel(struct tool_call *call, void *data)
{
	(void)data;
	/* Answering after cancellation must be harmless: do it at once. */
	forget(call);
	tool_reply_new(call, json_object(), false);
}

static void tool_echo(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	(void)ctx;
	tool_reply_new(call, json_pack("{s:O?}", "v", tool_json(a, "v")), false);
}

static void tool_later(struct tool_call *call, const struct tool_args *args, void *ctx)
{
	(void)args;
	(void)ctx;
	if (held[0] != NULL) {
		struct tool_call *oldest = held[0];

		forget(oldest);
		tool_fail(oldest, "replaced by a newer call");
	}
	memmove(held, held + 1, sizeof(held) - sizeof(held[0]));
	held[HELD_MAX - 1] = call;
	tool_on_cancel(call, on_cancel, NULL);
	tool_progress(call, 1, 2, "started");
}

static void tool_chatty(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct mcp_server *s = ctx;

	mcp_notify_log(s, "info", "fuzz", json_pack("{s:s?}", "msg", tool_str(a, "msg")));
	tool_progress(call, 0.5, 0, NULL);
	tool_progress(call, 0.25, 1, "backwards");
	tool_fail(call, "%s", tool_str(a, "msg") ?: "(none)");
	tool_reply_new(call, json_string("second answer, a bug"), false);
}

static void tool_scalar(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	(void)ctx;
	tool_reply_new(call, json_incref(tool_json(a, "v")), false);
}

static int read_fuzz(const char *uri, const char *tenant, json_t **contents_new,
		     struct pm_error *err, void *ctx)
{
	(void)ctx;
	(void)tenant;
	if (strstr(uri, "missing"))
		return pm_error_set(err, "resource", ENOENT, "no `%s`", uri);
	if (strstr(uri, "broken"))
		return pm_error_set(err, "resource", EIO, "read `%s`", uri);
	if (strstr(uri, "bad"))
		return 0; /* a buggy reader: no contents */
	*contents_new = json_pack("[{s:s, s:s}]", "uri", uri, "text", "data");
	return 0;
}

static struct mcp_server *make_server(size_t max_line)
{
	const struct mcp_limits limits = {.max_message_bytes = max_line, .max_json_depth = 16};
	struct mcp_server *s = mcp_server_new(uv_default_loop(), &limits, "fuzz", "0");
	const struct mcp_sink sink = {.send = check_output, .ctx = s};
	static const struct tool_param any[] = {{.name = "v", .type = TOOL_JSON},
						TOOL_P_STRING("msg", false, NULL),
						TOOL_P_INT("n", -100, 100, 0, NULL),
						TOOL_P_BOOL("b", false, NULL),
						TOOL_P_END};
	static const struct tool_decl tools[] = {
	    {.name = "echo",
	     .title = "Echo",
	     .description = "Echoes.",
	     .params = any,
	     .handler = tool_echo},
	    {.name = "later",
	     .description = "Answers later.",
	     .params = any,
	     .handler = tool_later},
	    {.name = "chatty",
	     .description = "Logs, progresses, answers twice.",
	     .params = any,
	     .handler = tool_chatty},
	    {.name = "scalar",
	     .description = "Answers a non-object.",
	     .params = any,
	     .handler = tool_scalar},
	};
	const struct mcp_resource_template tpl = {
	    .uri_template = "fuzz://{x}",
	    .scheme = "fuzz://",
	    .name = "fuzz",
	    .read = read_fuzz,
	};

	if (s == NULL)
		abort();
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (mcp_register_tool(s, &tools[i], i == 2 ? (void *)s : NULL) < 0)
			abort();
	if (mcp_register_resource_template(s, &tpl) < 0)
		abort();
	mcp_server_attach(s, &sink);
	return s;
}

static void scan_skipped(void *ctx, const char *data, size_t n, bool first)
{
	if (first)
		jrpc_id_scan_init(ctx);
	jrpc_id_scan_feed(ctx, data, n);
}

static void handle(struct mcp_server *s, struct jrpc_id_scan *scan, enum framer_event ev,
		   const char *line, size_t len)
{
	switch (ev) {
	case FRAMER_LINE:
		mcp_server_receive(s, line, len);
		break;
	case FRAMER_OVERLONG:
		mcp_server_reject_oversized(s, jrpc_id_scan_result(scan));
		break;
	case FRAMER_DROPPED:
	case FRAMER_NEED_MORE:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[4] = {64, 512, 4096, 1 << 20};
	struct line_framer f;
	struct jrpc_id_scan scan;
	struct mcp_server *s;
	size_t step, max_line, off = 1;
	const char *line;
	size_t len;

	log_set_level(LOG_LEVEL_EMERGENCY);
	if (size == 0)
		return 0;
	step = (data[0] & 0x3f) + 1;
	if (step == 64)
		step = size; /* all at once */
	max_line = limits[data[0] >> 6];
	s = make_server(max_line);
	framer_init(&f, max_line);
	f.skipped = scan_skipped;
	f.skipped_ctx = &scan;
	while (off < size) {
		size_t chunk = size - off < step ? size - off : step;

		while (chunk > 0) {
			enum framer_event ev;
			size_t used =
			    framer_feed(&f, (const char *)data + off, chunk, &ev, &line, &len);

			handle(s, &scan, ev, line, len);
			off += used;
			chunk -= used;
		}
	}
	handle(s, &scan, framer_finish(&f, &line, &len), line, len);
	framer_free(&f);
	/* Answer half the held calls; the server frees the rest. */
	for (int i = 0; i < HELD_MAX; i += 2) {
		if (held[i]) {
			struct tool_call *call = held[i];

			forget(call);
			tool_reply_new(call, json_pack("{s:b}", "late", 1), false);
		}
	}
	mcp_server_free(s);
	memset(held, 0, sizeof(held));
	return 0;
}
