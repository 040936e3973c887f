/* The live side of a call waiting for its job (live_feed.c): progress
 * and log notifications while it waits.  Nothing outside src/tools. */
#ifndef PYMCP_LIVE_FEED_H
#define PYMCP_LIVE_FEED_H

#include "tool.h"

struct tools;
struct job;
struct live_feed;

/* Starts feeding `call` from job j; NULL without memory (the call then
 * simply gets no notifications). */
struct live_feed *live_feed_start(struct tools *t, struct tool_call *call, struct job *j);
/* The call is about to answer with the job id: says so in a log line. */
void live_feed_background(struct live_feed *f, double budget);
/* Before the call is answered or forgotten: nothing more is sent. */
void live_feed_stop(struct live_feed *f);

#endif
