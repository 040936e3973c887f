/* The script's own progress channel.  The launcher gives the script the
 * write end of a pipe (its number in PYMCP_PROGRESS_FD) and reads lines
 * of the form
 *
 *     progress CURRENT[/TOTAL] [MESSAGE]
 *
 * from it.  Everything on that pipe is the job's and hostile: a line is at
 * most SB_PROGRESS_LINE_MAX bytes (longer ones are dropped whole), the
 * message at most SB_PROGRESS_MESSAGE_MAX bytes of UTF-8 (cut at a
 * character, invalid bytes replaced), and at most one "progress" status
 * event leaves per SB_PROGRESS_INTERVAL seconds: in between, only the
 * newest report is kept, and it is sent when the interval is over or the
 * pipe closes, before the run's exit event. */
#ifndef SB_PROGRESS_H
#define SB_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#define SB_PROGRESS_LINE_MAX	1024
#define SB_PROGRESS_MESSAGE_MAX 200
#define SB_PROGRESS_INTERVAL	0.1
#define SB_PROGRESS_ENV		"PYMCP_PROGRESS_FD"

struct sb_progress {
	int status_fd;
	char line[SB_PROGRESS_LINE_MAX + 1];
	size_t len;
	bool overlong;	       /* dropping the rest of a line that was too long */
	bool pending;	       /* a report waits for its interval */
	double current, total; /* total < 0: none given */
	char message[SB_PROGRESS_MESSAGE_MAX + 1];
	double last_sent;     /* monotonic seconds, 0 = never */
	unsigned long events; /* sent so far */
};

void sb_progress_init(struct sb_progress *p, int status_fd);

/* Parses one line (without its newline): true when it is a report, and
 * then current, total and message are filled. */
bool sb_progress_parse(const char *line, size_t len, double *current, double *total,
		       char message[SB_PROGRESS_MESSAGE_MAX + 1]);

/* Takes what the script wrote; sends what the rate allows at `now`. */
void sb_progress_feed(struct sb_progress *p, const char *buf, size_t n, double now);

/* Reads what is readable from fd and feeds it; false at end of file. */
bool sb_progress_read(struct sb_progress *p, int fd, double now);

/* When the waiting report is due (monotonic seconds), or 0 when none
 * waits. */
double sb_progress_due(const struct sb_progress *p);

/* Sends the waiting report if it is due at `now`, or at once if `force`. */
void sb_progress_flush(struct sb_progress *p, double now, bool force);

/* The pipe closed: takes an unterminated last line and sends what waits. */
void sb_progress_end(struct sb_progress *p, double now);

#endif
