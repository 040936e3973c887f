/* The one error convention of the launcher.
 *
 * A fallible function returns 0 (or a non-negative value) on success and a
 * negative errno on failure, after filling a struct pm_error.  Callers add
 * context with pm_error_wrap() and return the same negative value.  Library
 * code never prints: main() and the status channel report the error.
 */
#ifndef PM_ERROR_H
#define PM_ERROR_H

#include <stddef.h>

#define PM_ERROR_STAGE_MAX   32
#define PM_ERROR_MESSAGE_MAX 1024
#define PM_ERROR_HINT_MAX    512

struct pm_error {
	/* Positive errno of the failing call, or 0 when the failure is not an
	 * operating system error (a bad policy value, say). */
	int errnum;
	/* Which step failed: "policy", "userns", "mount", "seccomp", ... */
	char stage[PM_ERROR_STAGE_MAX];
	/* One line, user strings quoted as `...`, errno text appended. */
	char message[PM_ERROR_MESSAGE_MAX];
	/* How to fix it, when known; empty otherwise. */
	char hint[PM_ERROR_HINT_MAX];
};

/* Fills err and returns -errnum (or -EINVAL when errnum is 0).  When errnum
 * is non-zero, ": <strerror(errnum)>" is appended to the formatted message. */
int pm_error_set(struct pm_error *err, const char *stage, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same as pm_error_set() with errno as errnum. */
#define pm_error_errno(err, stage, ...) pm_error_set((err), (stage), errno, __VA_ARGS__)

/* Sets the hint of an error already filled; returns the error's -errnum so it
 * can close a return statement. */
int pm_error_hint(struct pm_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes "<context>: " to the message and returns the error's -errnum. */
int pm_error_wrap(struct pm_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The negative value an error stands for. */
int pm_error_code(const struct pm_error *err);

/* "<message>. Hint: <hint>" (or just the message) into buf. */
void pm_error_format(const struct pm_error *err, char *buf, size_t size);

#endif
