#include "session_frames.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void frame_scan_init(struct frame_scan *s, const char *marker)
{
	*s = (struct frame_scan){0};
	s->marker_len = strlen(marker);
	if (s->marker_len >= sizeof(s->marker))
		s->marker_len = sizeof(s->marker) - 1;
	memcpy(s->marker, marker, s->marker_len);
}

void frame_scan_free(struct frame_scan *s)
{
	free(s->frame);
	s->frame = NULL;
	s->frame_len = s->frame_cap = 0;
}

/* Bytes of a frame, up to its newline; returns how many were consumed,
 * or a negative errno. */
static long frame_bytes(struct frame_scan *s, const char *buf, size_t len,
			const struct frame_sink *sink)
{
	const char *nl = memchr(buf, '\n', len);
	size_t take = nl ? (size_t)(nl - buf) : len;

	if (s->frame_len + take > SESSION_FRAME_MAX)
		return -E2BIG;
	/* Most frames are a few dozen bytes: the buffer grows as needed. */
	if (s->frame_len + take + 1 > s->frame_cap) {
		size_t cap = s->frame_cap ? s->frame_cap : 256;
		while (cap < s->frame_len + take + 1)
			cap *= 2;
		char *grown = realloc(s->frame, cap);
		if (grown == NULL)
			return -ENOMEM;
		s->frame = grown;
		s->frame_cap = cap;
	}
	memcpy(s->frame + s->frame_len, buf, take);
	s->frame_len += take;
	if (nl == NULL)
		return (long)take;
	s->frame[s->frame_len] = '\0';
	s->in_frame = false;
	int r = sink->frame(sink->data, s->frame, s->frame_len);
	frame_scan_free(s);
	return r < 0 ? r : (long)take + 1;
}

int frame_scan_feed(struct frame_scan *s, const char *buf, size_t len,
		    const struct frame_sink *sink)
{
	size_t i = 0;

	while (i < len) {
		if (s->in_frame) {
			long n = frame_bytes(s, buf + i, len - i, sink);
			if (n < 0)
				return (int)n;
			i += (size_t)n;
			continue;
		}
		/* Output up to the next byte that could start a marker. */
		size_t start = i;
		if (s->matched == 0) {
			const char *m = memchr(buf + i, s->marker[0], len - i);
			i = m ? (size_t)(m - buf) : len;
			if (i > start)
				sink->output(sink->data, buf + start, i - start);
			if (i == len)
				break;
		}
		/* The marker's first byte appears nowhere else in it, so a
		 * mismatch gives back what was held and starts over here. */
		while (i < len && s->matched < s->marker_len && buf[i] == s->marker[s->matched]) {
			s->matched++;
			i++;
		}
		if (s->matched == s->marker_len) {
			s->matched = 0;
			s->in_frame = true;
		} else if (i < len) {
			if (s->matched > 0)
				sink->output(sink->data, s->marker, s->matched);
			else
				sink->output(sink->data, buf + i++, 1);
			s->matched = 0;
		}
	}
	return 0;
}
