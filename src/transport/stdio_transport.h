/* Newline-delimited messages over a pair of file descriptors (stdin and
 * stdout), with libuv.  Knows nothing of JSON-RPC: it frames lines in,
 * writes lines out, and applies back-pressure.
 *
 * Input: a pipe or socket is read with uv_pipe, a terminal with uv_tty and
 * anything else that is readable (a regular file: `python-mcp < in.jsonl`,
 * /dev/null) with uv_fs_read on the thread pool.  Output likewise, except
 * that files are written synchronously: writing a file never waits for a
 * peer.
 *
 * Back-pressure: when more than STDIO_HIGH_WATER bytes wait to be written
 * (the client stopped reading our stdout), no more input is read or framed
 * until the queue drains below STDIO_LOW_WATER, so memory stays bounded
 * whatever the client sends. */
#ifndef PYMCP_TRANSPORT_STDIO_H
#define PYMCP_TRANSPORT_STDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <uv.h>

#include "error.h"

#define STDIO_HIGH_WATER (1024 * 1024)
#define STDIO_LOW_WATER	 (256 * 1024)

struct stdio_callbacks {
	/* One message, without its line terminator; never empty. */
	void (*on_line)(void *ctx, const char *line, size_t len);
	/* A line longer than the limit was skipped; id_new is its request's
	 * id when that could be read, else NULL. */
	void (*on_overlong)(void *ctx, json_t *id_new);
	/* A line was skipped because memory ran out. */
	void (*on_dropped)(void *ctx);
	/* Input ended (or output broke) and every queued write finished, or
	 * STDIO_FLUSH_TIMEOUT_MS passed without stdout draining.  Runs once. */
	void (*on_eof)(void *ctx);
	void *ctx;
};

struct stdio_transport;

int stdio_transport_open(uv_loop_t *loop, int in_fd, int out_fd, size_t max_line,
			 const struct stdio_callbacks *cb, struct stdio_transport **out,
			 struct pm_error *err);

/* Queues msg (len bytes, no newline) followed by "\n". */
void stdio_transport_send(struct stdio_transport *t, const char *msg, size_t len);

/* True while the output queue is above the high-water mark. */
bool stdio_transport_congested(const struct stdio_transport *t);

/* Stops reading, runs no more callbacks, flushes what is queued (for at
 * most STDIO_FLUSH_TIMEOUT_MS: a client that stopped reading must not keep
 * the server alive) and closes the handles.  The memory is freed in the
 * last close callback, so uv_run() must go on until then. */
#define STDIO_FLUSH_TIMEOUT_MS 1000
void stdio_transport_close(struct stdio_transport *t);

#endif
