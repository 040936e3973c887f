/* Monotonic time in seconds: timeouts and wall times never follow
 * wall-clock jumps (THREATS.md T3). */
#ifndef PM_CLOCK_H
#define PM_CLOCK_H

#include <time.h>

static inline double pm_monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
