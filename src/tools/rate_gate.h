/* At most one notification per interval for a stream of changes (a job's
 * output), without a wakeup of its own for each: a change past the
 * interval fires at once, in the context that brought it; a change
 * before it is held, and fires with the next change past the interval or,
 * when none comes, from a timer a little later.  A chatty job so costs
 * one notification per interval and no timer wakeups at all. */
#ifndef PM_RATE_GATE_H
#define PM_RATE_GATE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct rate_gate {
	uv_timer_t timer; /* timer.data is the owner's: its close callback frees it */
	uint64_t min_ms;  /* at least this long between two fires */
	uint64_t hold_ms; /* a held change fires at the latest this long after the last */
	uint64_t last_ms;
	bool held;
	void (*fire)(void *data);
	void *data;
};

/* hold_ms >= min_ms. */
void rate_gate_init(struct rate_gate *g, uv_loop_t *loop, uint64_t min_ms, uint64_t hold_ms,
		    void (*fire)(void *data), void *data);
void rate_gate_changed(struct rate_gate *g);
/* Fires now, held or not (the job ended). */
void rate_gate_fire(struct rate_gate *g);
/* Fires now if a change is held. */
void rate_gate_flush(struct rate_gate *g);
void rate_gate_stop(struct rate_gate *g);

#endif
