#include "stdio_transport.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonrpc.h"
#include "line_framer.h"
#include "cleanup.h"
#include "log.h"

#define CHUNK (64 * 1024)

/* One end of the transport: a libuv stream, or a plain fd for files. */
struct end {
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tty_t tty;
	} h;
	bool is_stream;
	int fd;
};

struct write_req {
	uv_write_t req;
	struct stdio_transport *t;
	size_t len, cap;
	char data[];
};

struct stdio_transport {
	uv_loop_t *loop;
	struct stdio_callbacks cb;
	struct line_framer framer;
	struct jrpc_id_scan scan; /* the id of an overlong line being skipped */
	/* Handles still open plus file reads in flight: freed at zero. */
	int refs;

	struct end in;
	char *inbuf;
	size_t in_off, in_len; /* inbuf[in_off..in_len) is not framed yet */
	bool reading;	       /* a stream read is started / a file read is in flight */
	uv_fs_t read_req;
	bool eof; /* no more input: end of file, read error or broken output */
	bool eof_reported;

	struct end out;
	/* Messages of one turn of the loop go out in one write (the cork's
	 * check handle sends them after the turn's I/O): a tool's answer
	 * and its last notifications, or a progress notification and a
	 * resource update, cost one syscall and one wakeup of the client. */
	uv_check_t cork;
	struct write_req *pending;	    /* not yet given to libuv */
	size_t queued_bytes, queued_writes; /* pending included */
	bool throttled;			    /* above the high-water mark, until the low one */
	bool out_broken;

	uv_timer_t flush_timer;
	bool flush_expired; /* stdout did not drain in time: stop waiting for it */
	bool closing;
	bool handles_closed;
};

static void update_reading(struct stdio_transport *t);

/* An overlong line is not kept, but its request id is looked for. */
static void scan_skipped(void *ctx, const char *data, size_t n, bool first)
{
	struct jrpc_id_scan *scan = ctx;

	if (first)
		jrpc_id_scan_init(scan);
	jrpc_id_scan_feed(scan, data, n);
}

static void unref(struct stdio_transport *t)
{
	if (--t->refs > 0)
		return;
	framer_free(&t->framer);
	free(t->inbuf);
	free(t);
}

static void on_handle_closed(uv_handle_t *h)
{
	unref(h->data);
}

static void close_handles(struct stdio_transport *t)
{
	if (t->handles_closed)
		return;
	t->handles_closed = true;
	if (t->in.is_stream)
		uv_close(&t->in.h.handle, on_handle_closed);
	if (t->out.is_stream)
		uv_close(&t->out.h.handle, on_handle_closed);
	uv_close((uv_handle_t *)&t->flush_timer, on_handle_closed);
	uv_close((uv_handle_t *)&t->cork, on_handle_closed);
	if (t->pending) {
		/* Only when stdout is gone or did not drain: nothing to send to. */
		t->queued_bytes -= t->pending->len;
		t->queued_writes--;
		free(t->pending);
		t->pending = NULL;
	}
}

static void maybe_report_eof(struct stdio_transport *t)
{
	if (!t->eof || t->eof_reported || t->closing || (t->queued_writes > 0 && !t->flush_expired))
		return;
	t->eof_reported = true;
	uv_timer_stop(&t->flush_timer);
	if (t->cb.on_eof)
		t->cb.on_eof(t->cb.ctx);
}

/* Frames buffered input until it is used up, or the output queue asks for
 * a pause, or a callback closed the transport. */
static void process_input(struct stdio_transport *t)
{
	while (t->in_off < t->in_len && !t->throttled && !t->closing) {
		enum framer_event ev;
		const char *line = NULL;
		size_t len = 0;

		t->in_off += framer_feed(&t->framer, t->inbuf + t->in_off, t->in_len - t->in_off,
					 &ev, &line, &len);
		switch (ev) {
		case FRAMER_LINE:
			t->cb.on_line(t->cb.ctx, line, len);
			break;
		case FRAMER_OVERLONG:
			t->cb.on_overlong(t->cb.ctx, jrpc_id_scan_result(&t->scan));
			break;
		case FRAMER_DROPPED:
			t->cb.on_dropped(t->cb.ctx);
			break;
		case FRAMER_NEED_MORE:
			break;
		}
	}
	if (t->in_off == t->in_len)
		t->in_off = t->in_len = 0;
}

/* A client that closed stdin but does not read stdout must not keep the
 * server alive: EOF is reported after the flush timeout at the latest. */
static void on_eof_flush_timeout(uv_timer_t *timer)
{
	struct stdio_transport *t = timer->data;

	log_warn("stdout did not drain within %d ms of the end of input; dropping %zu queued "
		 "bytes",
		 STDIO_FLUSH_TIMEOUT_MS, t->queued_bytes);
	t->flush_expired = true;
	maybe_report_eof(t);
}

static void end_of_input(struct stdio_transport *t)
{
	const char *line;
	size_t len;

	t->eof = true;
	update_reading(t);
	enum framer_event ev =
	    t->closing ? FRAMER_NEED_MORE : framer_finish(&t->framer, &line, &len);
	if (ev == FRAMER_LINE)
		t->cb.on_line(t->cb.ctx, line, len);
	else if (ev == FRAMER_OVERLONG)
		t->cb.on_overlong(t->cb.ctx, jrpc_id_scan_result(&t->scan));
	maybe_report_eof(t);
	if (!t->eof_reported && !t->closing)
		uv_timer_start(&t->flush_timer, on_eof_flush_timeout, STDIO_FLUSH_TIMEOUT_MS, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct stdio_transport *t = h->data;

	(void)suggested;
	/* Reads only run while inbuf is empty (see update_reading); a zero
	 * length buffer makes libuv report UV_ENOBUFS otherwise. */
	*buf = uv_buf_init(t->inbuf, t->in_len == 0 ? CHUNK : 0);
}

/* What one read of stdin brought, from a stream or a file: bytes to frame,
 * or the end of input (an error counts as one, said in the log). */
static void take_input(struct stdio_transport *t, ssize_t n)
{
	if (n <= 0) {
		if (n < 0 && n != UV_EOF)
			log_warn("reading stdin: %s; treating it as end of input",
				 uv_strerror((int)n));
		end_of_input(t);
		return;
	}
	t->in_off = 0;
	t->in_len = (size_t)n;
	process_input(t);
	update_reading(t);
}

static void on_stream_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct stdio_transport *t = s->data;

	(void)buf;
	if (nread == 0 || nread == UV_ENOBUFS)
		return;
	take_input(t, nread);
}

static void on_file_read(uv_fs_t *req)
{
	struct stdio_transport *t = req->data;
	ssize_t result = req->result;

	uv_fs_req_cleanup(req);
	t->reading = false;
	if (t->closing || result == UV_ECANCELED) {
		unref(t);
		return;
	}
	t->refs--; /* the transport holds other references: it is not freed here */
	take_input(t, result);
}

/* Reads when there is room: nothing left to frame, output not congested,
 * input not over. */
static void update_reading(struct stdio_transport *t)
{
	bool want = !t->closing && !t->eof && !t->throttled && t->in_len == 0;
	int rc;

	if (t->in.is_stream && !want && t->reading) {
		uv_read_stop(&t->in.h.stream);
		t->reading = false;
		return;
	}
	if (!want || t->reading)
		return;
	if (t->in.is_stream) {
		rc = uv_read_start(&t->in.h.stream, on_alloc, on_stream_read);
	} else {
		/* A file read is one request at a time; it holds a reference. */
		uv_buf_t buf = uv_buf_init(t->inbuf, CHUNK);
		t->read_req.data = t;
		rc = uv_fs_read(t->loop, &t->read_req, t->in.fd, &buf, 1, -1, on_file_read);
	}
	if (rc < 0) {
		log_warn("reading stdin: %s", uv_strerror(rc));
		t->eof = true;
		maybe_report_eof(t);
		return;
	}
	t->reading = true;
	if (!t->in.is_stream)
		t->refs++;
}

static void on_broken(uv_timer_t *timer)
{
	maybe_report_eof(timer->data);
}

/* The output is gone (EPIPE and the like): nobody hears us any more. */
static void output_broken(struct stdio_transport *t, int status)
{
	if (t->out_broken)
		return;
	log_info("writing stdout: %s; the client is gone", uv_strerror(status));
	t->out_broken = true;
	t->eof = true;
	update_reading(t);
	/* Reported from the loop, not from inside whatever was sending. */
	if (!t->closing)
		uv_timer_start(&t->flush_timer, on_broken, 0, 0);
}

static void on_write_done(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct stdio_transport *t = w->t;

	t->queued_bytes -= w->len;
	t->queued_writes--;
	free(w);
	if (status < 0 && status != UV_ECANCELED)
		output_broken(t, status);
	if (t->closing) {
		if (t->queued_writes == 0)
			close_handles(t);
		return;
	}
	if (t->throttled && t->queued_bytes <= STDIO_LOW_WATER) {
		t->throttled = false;
		process_input(t);
		update_reading(t);
	}
	maybe_report_eof(t);
}

/* Writes to a file synchronously; waits with poll() only if the fd happens
 * to be non-blocking (a character device shared with another process). */
static int write_file(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = {.fd = fd, .events = POLLOUT};

				poll(&p, 1, -1);
				continue;
			}
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Gives the cork's messages to libuv. */
static void uncork(struct stdio_transport *t)
{
	struct write_req *w = t->pending;
	uv_buf_t buf;
	int rc;

	uv_check_stop(&t->cork);
	if (w == NULL)
		return;
	t->pending = NULL;
	if (t->out_broken) {
		t->queued_bytes -= w->len;
		t->queued_writes--;
		free(w);
		return;
	}
	buf = uv_buf_init(w->data, (unsigned)w->len);
	rc = uv_write(&w->req, &t->out.h.stream, &buf, 1, on_write_done);
	if (rc < 0) {
		t->queued_bytes -= w->len;
		t->queued_writes--;
		free(w);
		output_broken(t, rc);
	}
}

static void on_cork(uv_check_t *check)
{
	uncork(check->data);
}

/* Appends msg and a newline to the cork; NULL when out of memory. */
static struct write_req *corked(struct stdio_transport *t, const char *msg, size_t len)
{
	struct write_req *w = t->pending;
	size_t need = (w ? w->len : 0) + len + 1;

	if (w == NULL || need > w->cap) {
		size_t cap = need < 4096 ? 4096 : need + need / 2;
		struct write_req *grown = realloc(w, sizeof(*w) + cap);

		if (grown == NULL)
			return NULL;
		if (w == NULL) {
			*grown = (struct write_req){.t = t};
			t->queued_writes++;
			uv_check_start(&t->cork, on_cork);
		}
		grown->cap = cap;
		w = t->pending = grown;
	}
	memcpy(w->data + w->len, msg, len);
	w->data[w->len + len] = '\n';
	w->len += len + 1;
	t->queued_bytes += len + 1;
	return w;
}

void stdio_transport_send(struct stdio_transport *t, const char *msg, size_t len)
{
	if (t->out_broken || t->handles_closed)
		return;
	if (!t->out.is_stream) {
		_cleanup_free_ char *line = malloc(len + 1);
		int rc;

		if (line == NULL) {
			log_error("out of memory writing a message of %zu bytes; it is lost", len);
			return;
		}
		memcpy(line, msg, len);
		line[len] = '\n';
		if ((rc = write_file(t->out.fd, line, len + 1)) < 0)
			output_broken(t, rc);
		return;
	}
	if (corked(t, msg, len) == NULL) {
		log_error("out of memory queueing a message of %zu bytes; it is lost", len);
		return;
	}
	if (t->queued_bytes > STDIO_HIGH_WATER && !t->throttled) {
		t->throttled = true;
		update_reading(t);
	}
}

bool stdio_transport_congested(const struct stdio_transport *t)
{
	return t->throttled;
}

static void on_flush_timeout(uv_timer_t *timer)
{
	struct stdio_transport *t = timer->data;

	log_warn("stdout did not drain within %d ms; dropping %zu queued bytes",
		 STDIO_FLUSH_TIMEOUT_MS, t->queued_bytes);
	close_handles(t);
}

void stdio_transport_close(struct stdio_transport *t)
{
	if (t->closing)
		return;
	t->closing = true;
	memset(&t->cb, 0, sizeof(t->cb));
	/* What this turn said goes out before the transport waits to drain. */
	if (t->out.is_stream && !t->out_broken)
		uncork(t);
	if (t->in.is_stream && t->reading) {
		uv_read_stop(&t->in.h.stream);
		t->reading = false;
	} else if (!t->in.is_stream && t->reading) {
		/* A read on the thread pool cannot be taken back once it
		 * runs; its callback drops its reference either way. */
		uv_cancel((uv_req_t *)&t->read_req);
	}
	if (t->queued_writes == 0 || t->flush_expired)
		close_handles(t);
	else
		uv_timer_start(&t->flush_timer, on_flush_timeout, STDIO_FLUSH_TIMEOUT_MS, 0);
}

static int open_end(struct stdio_transport *t, struct end *e, int fd, bool readable,
		    struct pm_error *err)
{
	const char *name = readable ? "stdin" : "stdout";
	uv_handle_type type = uv_guess_handle(fd);
	int rc;

	e->fd = fd;
	switch (type) {
	case UV_TTY:
		rc = uv_tty_init(t->loop, &e->h.tty, fd, readable);
		if (rc < 0)
			return pm_error_set(err, "stdio", -rc, "open %s (fd %d)", name, fd);
		break;
	case UV_NAMED_PIPE:
	case UV_TCP:
	case UV_UDP:
		rc = uv_pipe_init(t->loop, &e->h.pipe, 0);
		if (rc < 0)
			return pm_error_set(err, "stdio", -rc, "open %s (fd %d)", name, fd);
		break;
	case UV_FILE:
		return 0;
	case UV_UNKNOWN_HANDLE:
	case UV_ASYNC:
	case UV_CHECK:
	case UV_FS_EVENT:
	case UV_FS_POLL:
	case UV_HANDLE:
	case UV_IDLE:
	case UV_POLL:
	case UV_PREPARE:
	case UV_PROCESS:
	case UV_STREAM:
	case UV_TIMER:
	case UV_SIGNAL:
	case UV_HANDLE_TYPE_MAX:
	default:
		return pm_error_set(err, "stdio", EBADF,
				    "%s (fd %d) is not open or not a pipe, "
				    "socket, terminal or file",
				    name, fd);
	}
	/* Initialized: from here on close_handles() releases it. */
	e->is_stream = true;
	e->h.handle.data = t;
	t->refs++;
	if (type != UV_TTY) {
		/* uv_pipe_open() takes any stream fd, sockets included. */
		rc = uv_pipe_open(&e->h.pipe, fd);
		if (rc < 0)
			return pm_error_set(err, "stdio", -rc, "open %s (fd %d)", name, fd);
	}
	return 0;
}

int stdio_transport_open(uv_loop_t *loop, int in_fd, int out_fd, size_t max_line,
			 const struct stdio_callbacks *cb, struct stdio_transport **out,
			 struct pm_error *err)
{
	struct stdio_transport *t = calloc(1, sizeof(*t));
	int rc;

	if (t == NULL || (t->inbuf = malloc(CHUNK)) == NULL) {
		free(t);
		return pm_error_set(err, "stdio", ENOMEM, "allocate the stdio transport");
	}
	t->loop = loop;
	t->cb = *cb;
	framer_init(&t->framer, max_line);
	t->framer.skipped = scan_skipped;
	t->framer.skipped_ctx = &t->scan;
	uv_timer_init(loop, &t->flush_timer);
	t->flush_timer.data = t;
	uv_check_init(loop, &t->cork);
	t->cork.data = t;
	t->refs = 2; /* the timer and the cork */
	rc = open_end(t, &t->in, in_fd, true, err);
	if (rc == 0)
		rc = open_end(t, &t->out, out_fd, false, err);
	if (rc < 0) {
		/* Freed by the close callbacks, on the next turn of the loop. */
		t->closing = true;
		close_handles(t);
		return rc;
	}
	update_reading(t);
	*out = t;
	return 0;
}
