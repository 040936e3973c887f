#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[LOG_LEVEL_COUNT] = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency",
};

static enum log_level current_level = LOG_LEVEL_INFO;
static int log_fd = -1;

int log_level_from_name(const char *name)
{
	for (int i = 0; i < LOG_LEVEL_COUNT; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level < LOG_LEVEL_COUNT ? level_names[level] : "?";
}

const char *log_level_names(void)
{
	return "debug, info, notice, warning, error, critical, alert, emergency";
}

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

int log_set_file(const char *path, struct pm_error *err)
{
	int fd = -1;

	if (path != NULL) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0)
			return pm_error_errno(err, "log", "open log file `%s`", path);
	}
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	return 0;
}

static unsigned long dropped;

/* A client that never reads our stderr pipe must not block the server
 * once the pipe is full: a line stderr cannot take now is dropped and
 * counted.  poll() says a pipe is writable when a page is free, enough
 * for one line; files and terminals always are. */
static bool stderr_has_room(void)
{
	struct pollfd p = {.fd = STDERR_FILENO, .events = POLLOUT};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/* One write(2) per line, so that lines from concurrent writers to the same
 * stderr or file do not interleave mid-line. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report it */
		}
		buf += n;
		len -= (size_t)n;
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t len;
	va_list ap;
	int n;

	if (level < current_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line + len, sizeof(line) - len,
		     ".%03dZ python-mcp %s: ", (int)(tv.tv_usec / 1000), log_level_name(level));
	len += n > 0 ? (size_t)n : 0;
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += (size_t)n;
	/* A cut message still ends with its newline. */
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* Each write checks first: one free page takes one line. */
	if (dropped > 0 && stderr_has_room()) {
		char note[80];
		int k = snprintf(note, sizeof(note),
				 "python-mcp: %lu log lines dropped: stderr was full\n", dropped);

		write_all(STDERR_FILENO, note, (size_t)k);
		dropped = 0;
	}
	if (stderr_has_room())
		write_all(STDERR_FILENO, line, len);
	else
		dropped++;
	if (log_fd >= 0)
		write_all(log_fd, line, len);
}
