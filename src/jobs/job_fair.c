/* Which job a full table gives up, fairly: past a server-wide cap (jobs
 * kept, bytes of output kept) the oldest candidate of the tenant that
 * holds the most goes, so that one tenant's flood pushes out its own
 * history before anyone else's.  With one tenant (stdio) it is simply
 * the oldest candidate. */
#include "jobs_internal.h"

#include <jansson.h>
#include <string.h>

static uint64_t weight(const struct job *j, enum jobs_fair_by by)
{
	return by == JOBS_FAIR_BY_COUNT ? 1
					: j->kept[JOB_STDOUT] + j->kept[JOB_STDERR] + j->kept_files;
}

static bool better(json_int_t have, json_int_t best, bool found)
{
	return !found || have > best;
}

struct job *jobs_fair_victim(struct jobs *t, enum jobs_fair_by by, const struct job *self,
			     bool (*candidate)(const struct job *j, const struct job *self))
{
	json_t *held = json_object(); /* tenant -> what it holds */
	struct job *j, *victim = NULL;
	json_int_t best = 0;
	bool found = false;

	if (held == NULL)
		goto oldest; /* without memory, at least something goes */
	TAILQ_FOREACH (j, &t->list, age) {
		const char *tenant = j->tenant ? j->tenant : "";
		json_t *n = json_object_get(held, tenant);
		json_int_t sum = (n ? json_integer_value(n) : 0) + (json_int_t)weight(j, by);

		if (json_object_set_new(held, tenant, json_integer(sum)) < 0) {
			json_decref(held);
			goto oldest;
		}
	}
	/* The heaviest tenant that has a candidate, then its oldest one. */
	const char *heaviest = NULL;
	TAILQ_FOREACH (j, &t->list, age) {
		const char *tenant = j->tenant ? j->tenant : "";
		json_int_t have = json_integer_value(json_object_get(held, tenant));

		if (candidate(j, self) && better(have, best, found)) {
			best = have;
			found = true;
			heaviest = tenant;
		}
	}
	TAILQ_FOREACH_REVERSE (j, &t->list, job_list, age) {
		if (heaviest != NULL && strcmp(j->tenant ? j->tenant : "", heaviest) == 0 &&
		    candidate(j, self)) {
			victim = j;
			break;
		}
	}
	json_decref(held);
	return victim;
oldest:
	TAILQ_FOREACH_REVERSE (j, &t->list, job_list, age)
		if (candidate(j, self))
			return j;
	return NULL;
}
