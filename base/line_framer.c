#include "line_framer.h"

#include <stdlib.h>
#include <string.h>

/* Buffers above this size are released once their line is handled, so one
 * huge message does not pin its memory for the rest of the session. */
#define FRAMER_KEEP_CAP (64 * 1024)

void framer_init(struct line_framer *f, size_t max_line)
{
	memset(f, 0, sizeof(*f));
	f->max_line = max_line;
}

void framer_free(struct line_framer *f)
{
	free(f->buf);
	f->buf = NULL;
	f->len = f->cap = 0;
}

static void strip_cr(const char **line, size_t *len)
{
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
}

/* Forgets the partial line (handed out or abandoned). */
static void reset(struct line_framer *f)
{
	f->len = 0;
	f->handed_out = false;
	if (f->cap > FRAMER_KEEP_CAP) {
		free(f->buf);
		f->buf = NULL;
		f->cap = 0;
	}
}

/* Appends to the partial line; the caller made sure the result stays
 * within max_line + 1 bytes. */
static bool append(struct line_framer *f, const char *data, size_t n)
{
	if (f->len + n > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		char *grown;

		while (cap < f->len + n)
			cap *= 2;
		if (cap > f->max_line + 1)
			cap = f->max_line + 1;
		grown = realloc(f->buf, cap);
		if (grown == NULL)
			return false;
		f->buf = grown;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	return true;
}

/* Starts skipping an overlong line (what is buffered and this chunk's
 * part go to the id scan): through its newline when this chunk has it
 * (and then it is reported), else everything, remembering to go on. */
static size_t skip_line(struct line_framer *f, const char *data, const char *nl, size_t take,
			size_t n, enum framer_event *ev)
{
	if (f->skipped) {
		f->skipped(f->skipped_ctx, f->buf, f->len, true);
		f->skipped(f->skipped_ctx, data, take, false);
	}
	reset(f);
	*ev = nl ? FRAMER_OVERLONG : FRAMER_NEED_MORE;
	if (nl)
		return take + 1;
	f->discarding = true;
	return n;
}

size_t framer_feed(struct line_framer *f, const char *data, size_t n, enum framer_event *ev,
		   const char **line, size_t *len)
{
	const char *nl = memchr(data, '\n', n);
	size_t take = nl ? (size_t)(nl - data) : n;
	char last;

	*ev = FRAMER_NEED_MORE;
	if (f->handed_out)
		reset(f);
	if (f->discarding) {
		if (f->skipped && !f->quiet)
			f->skipped(f->skipped_ctx, data, take, false);
		if (nl == NULL)
			return n;
		f->discarding = false;
		*ev = f->quiet ? FRAMER_NEED_MORE : FRAMER_OVERLONG;
		f->quiet = false;
		return take + 1;
	}
	/* max_line + 1 bytes may still be a line of max_line plus its "\r";
	 * one more and the line is too long whatever follows. */
	if (f->len + take > f->max_line + 1)
		return skip_line(f, data, nl, take, n, ev);
	if (nl && f->len + take == f->max_line + 1) {
		last = take ? data[take - 1] : f->buf[f->len - 1];
		if (last != '\r')
			return skip_line(f, data, nl, take, n, ev);
	}
	if (nl && f->len == 0) {
		/* The whole line is in this chunk: hand it out in place. */
		*line = data;
		*len = take;
	} else {
		if (!append(f, data, take)) {
			size_t used = skip_line(f, data, nl, take, n, ev);
			/* Reported now; the rest is skipped without a word. */
			*ev = FRAMER_DROPPED;
			f->quiet = f->discarding;
			return used;
		}
		if (nl == NULL)
			return n;
		*line = f->buf;
		*len = f->len;
		f->handed_out = true;
	}
	strip_cr(line, len);
	if (*len > 0)
		*ev = FRAMER_LINE;
	return take + 1;
}

enum framer_event framer_finish(struct line_framer *f, const char **line, size_t *len)
{
	enum framer_event ev = FRAMER_NEED_MORE;

	if (f->handed_out)
		reset(f);
	if (f->discarding && !f->quiet)
		ev = FRAMER_OVERLONG;
	if (!f->discarding && f->len > 0) {
		*line = f->buf;
		*len = f->len;
		strip_cr(line, len);
		if (*len > 0)
			ev = FRAMER_LINE;
		f->handed_out = true;
	}
	f->discarding = f->quiet = false;
	return ev;
}
