/* What the files of the job table share (jobs.c, jobs_save.c, job_store.c,
 * job_output.c, job_json.c); nothing outside them includes this. */
#ifndef PYMCP_JOBS_INTERNAL_H
#define PYMCP_JOBS_INTERNAL_H

#include "jobs.h"

struct job_store;
struct job_store_write;

struct jobs_hook {
	SLIST_ENTRY(jobs_hook) link;
	void (*fn)(void *data);
	void *data;
};

struct jobs {
	uv_loop_t *loop;
	char *state_dir;
	char *jobs_dir; /* <state>/jobs */
	struct jobs_limits limits;

	/* The id index: chained through job->hash_next, a power-of-two
	 * number of buckets, grown so chains stay about one long. */
	struct job **buckets;
	size_t nbuckets;
	size_t count;
	/* Every job, newest first (creation order). */
	TAILQ_HEAD(job_list, job) list;
	/* Bytes of output every job keeps on disk: the sum of kept[]. */
	uint64_t stored_bytes;

	/* Saving (jobs_save.c).  Invariant: at most one write is in flight
	 * and the timer is armed only while none is, so a burst of changes
	 * costs one write per window. */
	uv_timer_t save_timer;
	bool dirty;
	uint64_t save_gen;    /* generation of the latest snapshot taken */
	double retry_seconds; /* backoff after a failed save; 0 when healthy */
	uint64_t saves;	      /* files written, for tests of the coalescing */
	struct job_store *store;
	struct job_store_write *inflight;
	void (*on_error)(const struct pm_error *err, void *data);
	void *on_error_data;

	SLIST_HEAD(, jobs_hook) hooks; /* newest registration first */

	/* job_events.c */
	LIST_HEAD(, jobs_watch) watches; /* of every job */
	unsigned delivering;		 /* nesting of event deliveries */
	bool swept_pending;		 /* watches removed while delivering */
};

/* job_fair.c: the job a full table gives up, by what a tenant holds. */
enum jobs_fair_by {
	JOBS_FAIR_BY_COUNT, /* jobs kept */
	JOBS_FAIR_BY_BYTES, /* bytes of output kept */
};
/* The oldest job for which candidate() holds, of the tenant that holds the
 * most of those jobs' kind (jobs or bytes); NULL when there is none. */
struct job *jobs_fair_victim(struct jobs *t, enum jobs_fair_by by, const struct job *self,
			     bool (*candidate)(const struct job *j, const struct job *self));

/* jobs.c */
struct job *job_new(void);
void job_free(struct job *j);

/* job_events.c */
void jobs_emit(struct jobs *t, struct job *j, enum job_event ev);
/* Tells the watchers, then drops the job's own watches. */
void jobs_emit_removed(struct jobs *t, struct job *j);
void jobs_unwatch_all(struct jobs *t);
/* Unlinks and frees one watch, without a word to it. */
void jobs_watch_free(struct jobs_watch *w);

/* jobs_save.c */
void jobs_save_init(struct jobs *t);
/* j changed: its cached line of jobs.json is stale. */
void job_forget_saved(struct job *j);
void jobs_schedule_save(struct jobs *t);
/* Stops the timer, writes synchronously, detaches a write in flight. */
void jobs_save_shutdown(struct jobs *t);
void jobs_report(struct jobs *t, const struct pm_error *err);

/* job_json.c */
bool job_id_valid(const char *id);
/* Fills a zeroed job from a jobs.json entry; on failure err names the
 * field and the caller frees the job. */
int job_from_record(json_t *rec, struct job *j, struct pm_error *err);

/* job_output.c */
int job_output_mkdir(struct jobs *t, const struct job *j, struct pm_error *err);
void job_output_close(struct job *j);
/* Frees the newest-bytes buffers (jobs_tail) once the end was told. */
void job_output_tail_free(struct job *j);
/* Removes the job's output files (and its folder); stored_bytes follows. */
void job_output_remove(struct jobs *t, struct job *j);
/* Brings kept[]/produced[] in line with the files, for jobs whose last
 * appends may not have reached jobs.json before a crash. */
void job_output_recount(struct jobs *t, struct job *j);
/* Makes room for `need` more bytes under the state cap by removing the
 * files of older finished jobs (not self's); false when it cannot. */
bool jobs_make_room(struct jobs *t, const struct job *self, uint64_t need);

/* job_files.c: removes the job's kept files; stored_bytes follows. */
void job_files_remove(struct jobs *t, struct job *j);

#endif
