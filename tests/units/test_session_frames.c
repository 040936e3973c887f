/* The session driver's frames in its streams: output passes through in
 * order, frames come out whole, however the bytes are cut into reads
 * (every split of the stream is tried), a marker cut by a read is held,
 * a marker's look-alike is output, an over-long frame is an error. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "session_frames.h"

#define MARKER "\x1epymcp-0123456789abcdef:"

struct seen {
	char out[4096];
	size_t out_len;
	char frames[8][256];
	int n_frames;
};

static void on_output(void *data, const char *buf, size_t len)
{
	struct seen *s = data;

	CHECK(s->out_len + len < sizeof(s->out));
	memcpy(s->out + s->out_len, buf, len);
	s->out_len += len;
}

static int on_frame(void *data, const char *text, size_t len)
{
	struct seen *s = data;

	CHECK(s->n_frames < 8 && len < 256 && strlen(text) == len);
	memcpy(s->frames[s->n_frames++], text, len + 1);
	return 0;
}

/* Feeds `in` cut at `cut` (and, when cut2 > cut, again there). */
static void feed(const char *in, size_t len, size_t cut, size_t cut2, struct seen *s)
{
	struct frame_scan scan;
	struct frame_sink sink = {.output = on_output, .frame = on_frame, .data = s};

	memset(s, 0, sizeof(*s));
	frame_scan_init(&scan, MARKER);
	CHECK(frame_scan_feed(&scan, in, cut, &sink) == 0);
	if (cut2 > cut) {
		CHECK(frame_scan_feed(&scan, in + cut, cut2 - cut, &sink) == 0);
		cut = cut2;
	}
	CHECK(frame_scan_feed(&scan, in + cut, len - cut, &sink) == 0);
	frame_scan_free(&scan);
}

int main(void)
{
	const char in[] = "hello\x1e not a marker \x1epymcp-0123 either\n" MARKER
			  "{\"seq\": 1}\nafter" MARKER "{\"seq\": 2, \"v\": \"x\"}\n\x1e";
	const char want_out[] = "hello\x1e not a marker \x1epymcp-0123 either\nafter\x1e";
	size_t len = sizeof(in) - 1;
	struct seen s;

	for (size_t a = 0; a <= len; a++) {
		for (size_t b = a; b <= len; b++) {
			feed(in, len, a, b, &s);
			/* The trailing \x1e may be a marker's start: still held. */
			CHECK_MSG(s.out_len == strlen(want_out) - 1 &&
				      memcmp(s.out, want_out, s.out_len) == 0,
				  "cut at %zu and %zu: output %.*s", a, b, (int)s.out_len, s.out);
			CHECK(s.n_frames == 2 && strcmp(s.frames[0], "{\"seq\": 1}") == 0 &&
			      strcmp(s.frames[1], "{\"seq\": 2, \"v\": \"x\"}") == 0);
		}
	}

	/* A frame over the maximum is an error, whatever the reads. */
	struct frame_scan scan;
	struct frame_sink sink = {.output = on_output, .frame = on_frame, .data = &s};
	char *big = malloc(SESSION_FRAME_MAX + 2);
	CHECK(big != NULL);
	memset(big, 'x', SESSION_FRAME_MAX + 1);
	memset(&s, 0, sizeof(s));
	frame_scan_init(&scan, MARKER);
	CHECK(frame_scan_feed(&scan, MARKER, strlen(MARKER), &sink) == 0);
	CHECK(frame_scan_feed(&scan, big, SESSION_FRAME_MAX, &sink) == 0);
	CHECK(frame_scan_feed(&scan, big, 1, &sink) < 0);
	frame_scan_free(&scan);
	free(big);
	return 0;
}
