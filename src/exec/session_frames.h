/* Splitting a session driver's stream into the run's output and the
 * driver's frames: MARKER + JSON + "\n", where MARKER is "\x1e" + the
 * session's token + ":" (session_driver.py).  Everything else passes
 * through as output, in order, whatever the chunks; a marker cut by a
 * chunk's end is held until the next.  A frame longer than
 * SESSION_FRAME_MAX is an error: the stream is no driver's any more. */
#ifndef PYMCP_SESSION_FRAMES_H
#define PYMCP_SESSION_FRAMES_H

#include <stdbool.h>
#include <stddef.h>

#define SESSION_FRAME_MAX  (512 * 1024)
#define SESSION_MARKER_MAX 64

struct frame_scan {
	char marker[SESSION_MARKER_MAX];
	size_t marker_len;
	size_t matched; /* marker bytes seen at the end of what was fed */
	bool in_frame;	/* after a marker, before its newline */
	char *frame;	/* the frame's bytes so far (malloc'd) */
	size_t frame_len, frame_cap;
};

struct frame_sink {
	void (*output)(void *data, const char *buf, size_t len);
	/* A whole frame (NUL-terminated, without the newline); negative:
	 * stop feeding. */
	int (*frame)(void *data, const char *text, size_t len);
	void *data;
};

/* marker: "\x1e<token>:" (at most SESSION_MARKER_MAX - 1 bytes). */
void frame_scan_init(struct frame_scan *s, const char *marker);
void frame_scan_free(struct frame_scan *s);

/* 0, -E2BIG (a frame over the maximum), -ENOMEM, or what frame returned. */
int frame_scan_feed(struct frame_scan *s, const char *buf, size_t len,
		    const struct frame_sink *sink);

#endif
