/* PEP 440 version specifiers as `requires-python` uses them (">=3.10",
 * "~=3.11", "==3.11.*", "<3.13,!=3.12.1"), for release versions of
 * CPython: numeric components only. */
#ifndef PYMCP_PYVER_H
#define PYMCP_PYVER_H

#include <stdbool.h>

#include "error.h"

/* Whether `version` ("3.11.2") satisfies every clause of `spec`;
 * a clause that is not understood is an error naming it. */
int pyver_satisfies(const char *spec, const char *version, bool *out, struct pm_error *err);

#endif
