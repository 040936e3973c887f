/* The note a run's result gains when a policy limit ended it: which limit
 * and its value, from what the launcher reported (its limit and detail,
 * the signal) and the newest bytes of stderr the server keeps anyway
 * (jobs_tail: a MemoryError, "No space left on device", a name lookup
 * that failed without a network).  Nothing else of the job's output is
 * read. */
#ifndef PYMCP_LIMIT_NOTE_H
#define PYMCP_LIMIT_NOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox_facts.h"

struct limit_run {
	const char *limit;	  /* the launcher's ("time", "memory", ...), or NULL */
	const char *limit_detail; /* the launcher's, or NULL */
	int exit_code;
	int signal;
	const char *stderr_tail; /* bytes, not NUL-terminated */
	size_t stderr_len;
	double timeout_seconds; /* the call's (0: none) */
};

/* The note for run r under the policy of f into buf; false (buf "") when
 * no limit of the policy explains how the run ended. */
bool limit_note(const struct sandbox_facts *f, const struct limit_run *r, char *buf, size_t size);

#endif
