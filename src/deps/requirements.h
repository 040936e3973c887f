/* Dependency requirements (PEP 508 strings) as the environment cache
 * sees them: validated, normalized, deduplicated and sorted, so that two
 * spellings of one set name one environment. */
#ifndef PYMCP_REQUIREMENTS_H
#define PYMCP_REQUIREMENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "hash.h"

/* Longest requirement accepted, in bytes. */
#define REQ_MAX_LEN 512
/* Room for a normalized requirement (it may gain "; " and a space). */
#define REQ_NORM_SIZE (REQ_MAX_LEN + 8)
/* Most requirements in one set. */
#define REQ_MAX_COUNT 64

/* Normalizes one requirement into out (REQ_NORM_SIZE bytes): the name
 * lowercased with runs of `-_.` made one `-` (PEP 503), whitespace
 * dropped from extras and version specifiers, markers kept after "; ".
 * Refuses what pip would take for an option or a path (a leading `-`,
 * `.` or `/`), control characters and non-ASCII text. */
int req_normalize(const char *in, char *out, struct pm_error *err);

/* The distribution name of a normalized requirement, into name. */
void req_name(const char *normalized, char *name, size_t size);

/* A new sorted array of the normalized, distinct requirements of
 * `given` (an array of strings; NULL = empty), or NULL with err set
 * (naming the bad entry). */
json_t *req_set_new(json_t *given, struct pm_error *err);

/* Adds one requirement to a sorted set (no-op when present). */
int req_set_add(json_t *set, const char *requirement, struct pm_error *err);

/* SHA-256 of the interpreter and the set, as hex: the environment's
 * directory name (the cache compares the manifest too). */
void req_set_key(const char *interpreter, json_t *set, char out[PM_SHA256_HEX]);

#endif
