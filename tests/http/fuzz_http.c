/* Fuzz target: raw bytes through the whole HTTP request path (h2o's
 * parser, the Host/Origin guard, the header and body checks, the choice
 * of connection, the 2026-07-28 envelope checks, legacy sessions, the
 * protocol), over a real loopback connection to the transport on a libuv
 * loop, with a tool that answers at once.  After the input the client
 * closes its writing end; the loop runs until the server has closed the
 * connection, so every input ends, and whatever the server sent must be
 * HTTP/1.1 responses.  Sessions an input makes stay for the next. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "log.h"
#include "mcp.h"
#include "mcp_http.h"
#include "tool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static struct mcp_server *server;
static struct mcp_http *http;
static int port;

static void echo(struct tool_call *call, const struct tool_args *args, void *ctx)
{
	(void)args;
	(void)ctx;
	tool_reply_new(call, json_pack("{s:s}", "tool", call->tool), false);
}

static const struct tool_param no_params[] = {TOOL_P_END};
static const struct tool_decl echo_decl = {
    .name = "echo", .description = "Answers.", .params = no_params, .handler = echo};

static void setup(void)
{
	const struct mcp_limits limits = {.max_message_bytes = 1 << 16, .max_json_depth = 32};
	static char host[] = "mcp.example.org";
	static char *hosts[] = {host};
	const struct mcp_http_config cfg = {.listen = "127.0.0.1:0",
					    .max_body_bytes = 1 << 16,
					    .max_header_bytes = MCP_HTTP_DEFAULT_MAX_HEADER_BYTES,
					    .max_connections = 8,
					    .max_sessions = 64,
					    .max_inflight = 8,
					    .request_timeout = 2,
					    .session_idle_seconds = 60,
					    .allow_hosts = hosts,
					    .n_allow_hosts = 1};
	struct pm_error err = {0};

	log_set_level(getenv("FUZZ_HTTP_SHOW") ? LOG_LEVEL_DEBUG : LOG_LEVEL_CRITICAL);
	uv_loop_init(&loop);
	server = mcp_server_new(&loop, &limits, "fuzz", "0");
	if (server == NULL || mcp_register_tool(server, &echo_decl, NULL) < 0 ||
	    mcp_http_start(&loop, server, &cfg, &http, &err) < 0) {
		fprintf(stderr, "fuzz_http: %s\n", err.message);
		abort();
	}
	port = atoi(strrchr(mcp_http_address(http), ':') + 1);
}

/* Every response starts with a status line (several may follow on a
 * keep-alive connection; only the first is checked here). */
static void check_reply(const char *buf, size_t len)
{
	if (len > 0 && (len < 12 || memcmp(buf, "HTTP/1.1 ", 9) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	char reply[65536];
	size_t got = 0, sent = 0;
	int fd;

	if (server == NULL)
		setup();
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS))
		abort();
	if (size == 0)
		shutdown(fd, SHUT_WR);
	/* Writes what the socket takes, reads what comes, until the server
	 * closes; the loop turns in between. */
	for (int idle = 0; idle < 20000;) {
		ssize_t n;
		bool moved = false;

		uv_run(&loop, UV_RUN_NOWAIT);
		if (sent < size) {
			n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0) {
				sent += (size_t)n;
				moved = true;
			} else if (n < 0 && errno != EAGAIN && errno != ENOTCONN) {
				sent = size; /* the server closed early */
			}
			if (sent == size)
				shutdown(fd, SHUT_WR);
		}
		n = recv(fd, got < sizeof(reply) ? reply + got : reply,
			 got < sizeof(reply) ? sizeof(reply) - got : sizeof(reply), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != ENOTCONN))
			break;
		if (n > 0) {
			got = got < sizeof(reply) ? got + (size_t)n : got;
			moved = true;
		}
		if (!moved) {
			idle++;
			usleep(50);
		}
	}
	check_reply(reply, got < sizeof(reply) ? got : sizeof(reply));
	if (getenv("FUZZ_HTTP_SHOW"))
		fprintf(stderr, "%zu bytes in, %zu out: %.*s\n", size, got,
			(int)strcspn(reply, "\r\n"), got ? reply : "");
	close(fd);
	/* Let the server see the close and free what it held. */
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	return 0;
}
