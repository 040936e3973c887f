/* jobs.json on disk: loading it (setting a corrupt file aside) and
 * replacing it atomically, on the loop thread or in libuv's thread pool.
 * Knows files and bytes, not jobs. */
#ifndef PYMCP_JOB_STORE_H
#define PYMCP_JOB_STORE_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "error.h"

struct job_store;
struct job_store_write;

/* meta_dir must exist.  The store is reference-counted because a write in
 * the thread pool may outlive the table that started it. */
int job_store_new(const char *meta_dir, struct job_store **out, struct pm_error *err);
void job_store_unref(struct job_store *s);
const char *job_store_path(const struct job_store *s);

/* *array_out is the saved array ([] when there is no file).  When the file
 * does not parse as a JSON array it is moved aside and JOBS_OPEN_RECOVERED
 * is returned with err saying so.  Negative: the file exists but cannot be
 * read (it is left alone, so nothing is lost). */
int job_store_load(struct job_store *s, json_t **array_out, struct pm_error *err);

/* Renames jobs.json to jobs.json.corrupt-<unix time> (or -<time>.<n> when
 * taken); *aside (malloc'd) is the new name. */
int job_store_move_aside(struct job_store *s, char **aside, struct pm_error *err);

/* Replaces jobs.json with text: temp file in the same directory, fsync,
 * rename, fsync of the directory, so a crash at any moment leaves the old
 * or the new file, whole.  Writes carry a generation: one older than the
 * newest already written is skipped, so a slow background write can never
 * put back an older snapshot over a newer synchronous one. */
int job_store_write(struct job_store *s, uint64_t gen, const char *text, size_t len,
		    struct pm_error *err);

/* The same in libuv's thread pool; text (malloc'd) is taken over on
 * success (on failure the caller still owns it and may write it itself).  done
 * runs on the loop thread, unless the write was detached first. */
typedef void (*job_store_done_fn)(void *data, int r, const struct pm_error *err);
int job_store_write_async(struct job_store *s, uv_loop_t *loop, uint64_t gen, char *text,
			  size_t len, job_store_done_fn done, void *data,
			  struct job_store_write **out, struct pm_error *err);
/* done will not be called; the write itself completes (or is skipped). */
void job_store_write_detach(struct job_store_write *w);

#endif
