/* Who the kernel's OOM killer takes when what holds the launcher (a
 * container's memory limit, a systemd slice's) runs out.
 *
 * A job's own memory cgroup bounds the job alone; above it, or where the
 * engine delegates none, the kernel picks by size among the processes
 * with the highest oom_score_adj.  Were every job at the same score, a
 * quiet neighbour holding 300 MiB would die for a bomb that has reached
 * only 250 MiB.  So every job starts at SB_OOM_ADJ_CALM (init sets it:
 * still far above the server's 0), and while a job runs, the launcher
 * watches the enclosing memory cgroup with the lowest limit (one read a
 * look); when it comes within twice its reserve of that limit it also
 * measures the job (one /proc read per process, looking less often for
 * a job of many processes), and within the reserve, a job that grew
 * since the previous look has every process raised to 1000: the kernel
 * takes it, not the neighbour that holds its memory quietly.  Raising needs no
 * privilege, lowering does: a raised job stays raised.
 *
 * It is a heuristic with a sampling period (SB_OOM_GUARD_PERIOD): a job
 * that grows from nothing past the reserve within one period outruns it,
 * and then the kernel's own choice (by size) stands.  Real per-job
 * limits need the job's own memory cgroup below a limit the container
 * gives (README: cgroup delegation). */
#ifndef SB_OOM_GUARD_H
#define SB_OOM_GUARD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup.h"

#define SB_OOM_ADJ_CALM	    500
#define SB_OOM_GUARD_PERIOD 0.02 /* seconds between looks */

/* Where the kernel's OOM kills that could be the job's are counted,
 * chosen once per run so that two reads always compare the same count:
 * the job's memory cgroup or the launcher's (sb_cgroup_oom_counter), or,
 * where no memory cgroup can be read, the machine's (/proc/vmstat). */
struct sb_oom_counter {
	char dir[PATH_MAX];
	const char *file; /* a string constant */
};

void sb_oom_counter_init(struct sb_oom_counter *c, const struct sb_cgroup *cg);
/* The count now, -1 when it cannot be read. */
long long sb_oom_counter_read(const struct sb_oom_counter *c);

struct sb_oom_guard;

/* A guard for the job whose init is `init` and whose OOM kills `kills`
 * counts (copied), or NULL when no enclosing memory cgroup has a limit
 * (nothing to guard) or without memory. */
struct sb_oom_guard *sb_oom_guard_start(pid_t init, const struct sb_oom_counter *kills);

/* When the next look is due (monotonic seconds); 0 for a NULL guard. */
double sb_oom_guard_due(const struct sb_oom_guard *g);

/* Looks once if it is due at `now`.  True when the job must end now:
 * it was raised and the kernel has since killed for memory (one of its
 * processes, most likely; a pool would respawn it, and the job as a
 * whole is what ran out). */
bool sb_oom_guard_tick(struct sb_oom_guard *g, double now);

/* Why a job the guard raised ended for memory, into buf ("" when it
 * never raised it). */
void sb_oom_guard_explain(const struct sb_oom_guard *g, char *buf, size_t size);

void sb_oom_guard_free(struct sb_oom_guard *g);

#endif
