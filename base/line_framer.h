/* Splits a byte stream into newline-delimited messages, without I/O, so
 * that the stdio transport, the launcher's status channel, the unit tests
 * and the fuzz target share it.
 *
 * Invariants: the framer never holds more than max_line + 1 bytes, whatever
 * arrives; a line longer than max_line is skipped up to the next newline
 * and reported once, when it ends (or at the end of input).  Its bytes
 * pass through `skipped` on the way (what was buffered, then the rest),
 * so that a caller can still look for something in them (the request
 * id) without keeping them.  A trailing "\r" is part of the terminator,
 * not of the line, and empty lines are not reported. */
#ifndef PYMCP_LINE_FRAMER_H
#define PYMCP_LINE_FRAMER_H

#include <stdbool.h>
#include <stddef.h>

enum framer_event {
	FRAMER_NEED_MORE, /* every byte given was consumed, no event */
	FRAMER_LINE,	  /* a complete line: *line, *len */
	FRAMER_OVERLONG,  /* a line exceeded max_line and was skipped */
	FRAMER_DROPPED,	  /* no memory to buffer a line; it is being skipped */
};

struct line_framer {
	size_t max_line;
	char *buf; /* the partial line, when it spans several feeds */
	size_t len, cap;
	bool discarding; /* skipping the rest of a line up to its newline */
	bool handed_out; /* buf holds the line of the previous call */
	bool quiet;	 /* the line being skipped was reported already (DROPPED) */
	/* Every byte of an overlong line, first=true on its first piece;
	 * may be NULL. */
	void (*skipped)(void *ctx, const char *data, size_t n, bool first);
	void *skipped_ctx;
};

void framer_init(struct line_framer *f, size_t max_line);
void framer_free(struct line_framer *f);

/* Consumes bytes of data[0..n) up to and including the first event and
 * returns how many it consumed.  On FRAMER_LINE, *line (valid until the
 * next call) and *len hold the line without its terminator.  Callers loop
 * until everything is consumed, and may stop between events (back-pressure)
 * and resume later with the rest. */
size_t framer_feed(struct line_framer *f, const char *data, size_t n, enum framer_event *ev,
		   const char **line, size_t *len);

/* At end of input: FRAMER_LINE with the last line when it had no
 * newline, FRAMER_OVERLONG when an overlong one was being skipped, else
 * FRAMER_NEED_MORE (nothing). */
enum framer_event framer_finish(struct line_framer *f, const char **line, size_t *len);

#endif
