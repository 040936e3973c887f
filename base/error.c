#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pm_error_code(const struct pm_error *err)
{
	return err->errnum > 0 ? -err->errnum : -EINVAL;
}

int pm_error_set(struct pm_error *err, const char *stage, int errnum, const char *fmt, ...)
{
	va_list ap;
	int n;

	err->errnum = errnum;
	err->hint[0] = '\0';
	snprintf(err->stage, sizeof(err->stage), "%s", stage);
	va_start(ap, fmt);
	n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	if (errnum != 0 && n >= 0 && (size_t)n < sizeof(err->message))
		snprintf(err->message + n, sizeof(err->message) - n, ": %s", strerror(errnum));
	return pm_error_code(err);
}

int pm_error_hint(struct pm_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
	return pm_error_code(err);
}

int pm_error_wrap(struct pm_error *err, const char *fmt, ...)
{
	char prefix[PM_ERROR_MESSAGE_MAX];
	char old[PM_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	snprintf(err->message, sizeof(err->message), "%s: %s", prefix, old);
	return pm_error_code(err);
}

void pm_error_format(const struct pm_error *err, char *buf, size_t size)
{
	if (err->hint[0] != '\0')
		snprintf(buf, size, "%s. Hint: %s", err->message, err->hint);
	else
		snprintf(buf, size, "%s", err->message);
}
