/* MCP over stdio: newline-delimited JSON-RPC on fds 0/1, logs only on
 * stderr.  Frames lines in (stdio_transport.h), hands each message to the
 * protocol layer, and writes the protocol's messages out through a sink. */
#ifndef PYMCP_MCP_STDIO_H
#define PYMCP_MCP_STDIO_H

#include <stddef.h>
#include <uv.h>

#include "error.h"
#include "mcp.h"

struct mcp_stdio;

/* Serves s on fds 0/1, refusing lines longer than max_line.  on_eof runs
 * once when stdin reaches EOF (the client is gone), after pending writes
 * flushed (or after a second, if stdout does not drain); without it the
 * transport stops itself. */
int mcp_stdio_start(uv_loop_t *loop, struct mcp_server *s, size_t max_line,
		    void (*on_eof)(void *data), void *data, struct mcp_stdio **out,
		    struct pm_error *err);

/* Stops reading, detaches the server (pending calls are dropped),
 * flushes what is queued and closes the handles; the memory goes with
 * the last close callback. */
void mcp_stdio_stop(struct mcp_stdio *io);

#endif
