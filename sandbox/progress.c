#include "progress.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_text.h"
#include "status.h"
#include "wire.h"

void sb_progress_init(struct sb_progress *p, int status_fd)
{
	memset(p, 0, sizeof(*p));
	p->status_fd = status_fd;
	p->total = -1;
}

/* A plain non-negative decimal: digits, at most one point, no sign, no
 * exponent, no "inf" or "nan" (strtod alone would take all of those). */
static const char *number(const char *s, const char *end, double *out)
{
	const char *q = s;
	char tmp[32];
	bool digits = false, point = false;

	for (; q < end; q++) {
		if (*q >= '0' && *q <= '9')
			digits = true;
		else if (*q == '.' && !point)
			point = true;
		else
			break;
	}
	if (!digits || (size_t)(q - s) >= sizeof(tmp))
		return NULL;
	memcpy(tmp, s, (size_t)(q - s));
	tmp[q - s] = '\0';
	*out = strtod(tmp, NULL);
	return isfinite(*out) ? q : NULL;
}

/* Copies at most SB_PROGRESS_MESSAGE_MAX bytes, never splitting a UTF-8
 * sequence; what is not UTF-8 is replaced when the event is built. */
static void copy_message(char *dst, const char *s, size_t n)
{
	if (n > SB_PROGRESS_MESSAGE_MAX) {
		n = SB_PROGRESS_MESSAGE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	/* A carriage return from Windows-style line ends is not part of it. */
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	/* A NUL inside ends the message there when the event is built. */
	memcpy(dst, s, n);
	dst[n] = '\0';
}

bool sb_progress_parse(const char *line, size_t len, double *current, double *total,
		       char message[SB_PROGRESS_MESSAGE_MAX + 1])
{
	static const char word[] = "progress ";
	const char *s = line + sizeof(word) - 1, *end = line + len;

	if (len < sizeof(word) || memcmp(line, word, sizeof(word) - 1) != 0)
		return false;
	if ((s = number(s, end, current)) == NULL)
		return false;
	*total = -1;
	if (s < end && *s == '/') {
		if ((s = number(s + 1, end, total)) == NULL || *total <= 0)
			return false;
	}
	if (s < end && *s != ' ')
		return false;
	if (s < end)
		s++;
	copy_message(message, s, (size_t)(end - s));
	return true;
}

static void send_event(struct sb_progress *p, double now)
{
	json_t *o =
	    json_pack("{s:s, s:f, s:o, s:o}", WIRE_EVENT, WIRE_EVENT_PROGRESS, "current",
		      p->current, "total", p->total < 0 ? json_null() : json_real(p->total),
		      "message", p->message[0] ? pm_json_string_lossy(p->message) : json_null());

	sb_status_emit_new(p->status_fd, o);
	p->pending = false;
	p->last_sent = now;
	p->events++;
}

double sb_progress_due(const struct sb_progress *p)
{
	if (!p->pending)
		return 0;
	return p->last_sent == 0 ? 1e-9 : p->last_sent + SB_PROGRESS_INTERVAL;
}

void sb_progress_flush(struct sb_progress *p, double now, bool force)
{
	if (p->pending && (force || now >= sb_progress_due(p)))
		send_event(p, now);
}

static void take_line(struct sb_progress *p, double now)
{
	double cur, total;
	char msg[SB_PROGRESS_MESSAGE_MAX + 1];

	/* Anything else on the channel is ignored, as a terminal would. */
	if (!sb_progress_parse(p->line, p->len, &cur, &total, msg))
		return;
	p->current = cur;
	p->total = total;
	memcpy(p->message, msg, sizeof(msg));
	p->pending = true;
	sb_progress_flush(p, now, false);
}

void sb_progress_feed(struct sb_progress *p, const char *buf, size_t n, double now)
{
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t take = nl ? (size_t)(nl - buf) : n;

		if (!p->overlong && p->len + take <= SB_PROGRESS_LINE_MAX) {
			memcpy(p->line + p->len, buf, take);
			p->len += take;
		} else {
			p->overlong = true;
		}
		if (nl == NULL)
			return;
		if (!p->overlong)
			take_line(p, now);
		p->len = 0;
		p->overlong = false;
		buf += take + 1;
		n -= take + 1;
	}
}

void sb_progress_end(struct sb_progress *p, double now)
{
	/* A last line without its newline still counts. */
	if (p->len > 0 && !p->overlong)
		take_line(p, now);
	p->len = 0;
	sb_progress_flush(p, now, true);
}

bool sb_progress_read(struct sb_progress *p, int fd, double now)
{
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	sb_progress_feed(p, buf, (size_t)n, now);
	return true;
}
