/* Smart async: a caller waits for a job until it ends or until the smart
 * timeout (SMART_ASYNC_TIMEOUT_SECONDS, 20 s by default) runs out,
 * whichever comes first, and hears which through its callback; the job
 * goes on untouched either way.  The timeout only decides when to
 * answer; timeout_seconds is what kills.  How the answer looks is the
 * tool layer's business, not this one's. */
#ifndef PYMCP_SMART_H
#define PYMCP_SMART_H

#include <stdbool.h>
#include <uv.h>

#include "jobs.h"

struct smart;
struct smart_wait;

enum smart_event {
	SMART_ENDED,  /* the job reached a final status */
	SMART_BUDGET, /* the budget ran out; the job goes on */
};

/* Called once per wait; the wait is over when it returns. */
typedef void (*smart_fn)(struct job *j, enum smart_event ev, void *data);

struct smart *smart_new(uv_loop_t *loop, double budget_seconds);
void smart_free(struct smart *s);

double smart_budget(const struct smart *s);

/* Waits for j: fn runs at its end or at the budget, whichever comes
 * first, never before this returns.  NULL when there is nothing to wait
 * for (the job already ended) or no memory to wait with: fn will not
 * run, the caller answers now. */
struct smart_wait *smart_wait(struct smart *s, struct job *j, smart_fn fn, void *data);

/* The caller no longer waits (its client went away): fn will not run. */
void smart_wait_cancel(struct smart_wait *w);

/* The job ended: everyone waiting for it hears SMART_ENDED. */
void smart_job_ended(struct smart *s, struct job *j);

/* Drops every wait without calling anyone (shutdown). */
void smart_stop(struct smart *s);

#endif
