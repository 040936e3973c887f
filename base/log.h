/* A tiny leveled logger.  Lines go to stderr (never stdout: on the stdio
 * transport stdout carries only MCP messages) and, optionally, are appended
 * to a file.  The levels are those of RFC 5424, the same that MCP's
 * logging/setLevel uses, so one table serves both. */
#ifndef PYMCP_LOG_H
#define PYMCP_LOG_H

#include "error.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_CRITICAL,
	LOG_LEVEL_ALERT,
	LOG_LEVEL_EMERGENCY,
};

#define LOG_LEVEL_COUNT 8

/* The level named `name` ("debug" ... "emergency"), or -1. */
int log_level_from_name(const char *name);
const char *log_level_name(enum log_level level);
/* "debug, info, notice, ..." for messages that list the valid names. */
const char *log_level_names(void);

/* Messages below `level` are dropped; the default is info. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Also appends every line to `path` (created 0600 if missing); NULL stops
 * that.  Fails with the file's error, leaving the previous file in place. */
int log_set_file(const char *path, struct pm_error *err);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
