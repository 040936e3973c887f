#include "mcp_stdio.h"

#include <errno.h>
#include <stdlib.h>

#include "stdio_transport.h"

struct mcp_stdio {
	struct mcp_server *server;
	struct stdio_transport *t;
	void (*on_eof)(void *data);
	void *on_eof_data;
};

static void on_line(void *ctx, const char *line, size_t len)
{
	struct mcp_stdio *io = ctx;

	mcp_server_receive(io->server, line, len);
}

static void on_overlong(void *ctx, json_t *id_new)
{
	struct mcp_stdio *io = ctx;

	mcp_server_reject_oversized(io->server, id_new);
}

static void on_dropped(void *ctx)
{
	struct mcp_stdio *io = ctx;

	mcp_server_reject_dropped(io->server);
}

static void on_eof(void *ctx)
{
	struct mcp_stdio *io = ctx;

	if (io->on_eof)
		io->on_eof(io->on_eof_data);
	else
		mcp_stdio_stop(io);
}

static void send_line(void *ctx, const char *msg, size_t len)
{
	struct mcp_stdio *io = ctx;

	if (io->t)
		stdio_transport_send(io->t, msg, len);
}

static bool congested(void *ctx)
{
	struct mcp_stdio *io = ctx;

	return io->t && stdio_transport_congested(io->t);
}

int mcp_stdio_start(uv_loop_t *loop, struct mcp_server *s, size_t max_line, void (*eof)(void *data),
		    void *data, struct mcp_stdio **out, struct pm_error *err)
{
	struct mcp_stdio *io = calloc(1, sizeof(*io));
	int r;

	if (io == NULL)
		return pm_error_set(err, "stdio", ENOMEM, "stdio transport");
	*io = (struct mcp_stdio){.server = s, .on_eof = eof, .on_eof_data = data};
	const struct stdio_callbacks cb = {.on_line = on_line,
					   .on_overlong = on_overlong,
					   .on_dropped = on_dropped,
					   .on_eof = on_eof,
					   .ctx = io};
	if ((r = stdio_transport_open(loop, 0, 1, max_line, &cb, &io->t, err)) < 0) {
		free(io);
		return r;
	}
	mcp_server_attach(s,
			  &(struct mcp_sink){.send = send_line, .congested = congested, .ctx = io});
	*out = io;
	return 0;
}

void mcp_stdio_stop(struct mcp_stdio *io)
{
	if (io == NULL)
		return;
	mcp_server_detach(io->server);
	if (io->t)
		stdio_transport_close(io->t);
	free(io);
}
