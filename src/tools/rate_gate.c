#include "rate_gate.h"

#include <stddef.h>

static void on_timer(uv_timer_t *t)
{
	/* timer.data belongs to the owner (its close callback), so the gate is
	 * found from the timer's place in it; through void * because the
	 * struct's alignment is the timer's own */
	struct rate_gate *g = (void *)((char *)t - offsetof(struct rate_gate, timer));

	rate_gate_fire(g);
}

void rate_gate_init(struct rate_gate *g, uv_loop_t *loop, uint64_t min_ms, uint64_t hold_ms,
		    void (*fire)(void *data), void *data)
{
	*g = (struct rate_gate){.min_ms = min_ms, .hold_ms = hold_ms, .fire = fire, .data = data};
	uv_timer_init(loop, &g->timer);
	g->timer.data = data;
}

void rate_gate_fire(struct rate_gate *g)
{
	if (g->held)
		uv_timer_stop(&g->timer);
	g->held = false;
	g->last_ms = uv_now(g->timer.loop);
	g->fire(g->data);
}

void rate_gate_changed(struct rate_gate *g)
{
	uint64_t now = uv_now(g->timer.loop);

	if (now - g->last_ms >= g->min_ms) {
		rate_gate_fire(g);
		return;
	}
	if (!g->held) {
		g->held = true;
		uv_timer_start(&g->timer, on_timer, g->last_ms + g->hold_ms - now, 0);
	}
}

void rate_gate_flush(struct rate_gate *g)
{
	if (g->held)
		rate_gate_fire(g);
}

void rate_gate_stop(struct rate_gate *g)
{
	g->held = false;
	uv_timer_stop(&g->timer);
}
