/* Per-job output files, <state>/jobs/<id>/stdout and stderr: appended as
 * output arrives (up to the disk cap), read back in bounded windows as
 * valid UTF-8.  Memory use never depends on how much a script prints. */
#include "jobs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "remove_tree.h"
#include "utf8.h"

static const char *const file_names[] = {[JOB_STDOUT] = "stdout", [JOB_STDERR] = "stderr"};

void jobs_output_path(const struct jobs *t, const struct job *j, enum job_stream stream, char *buf,
		      size_t size)
{
	snprintf(buf, size, "%s/%s/%s", t->jobs_dir, j->id, file_names[stream]);
}

int job_output_mkdir(struct jobs *t, const struct job *j, struct pm_error *err)
{
	_cleanup_free_ char *dir = NULL;

	if (asprintf(&dir, "%s/%s", t->jobs_dir, j->id) < 0)
		return pm_error_set(err, "jobs", ENOMEM, "job directory");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return pm_error_errno(err, "jobs", "create `%s`", dir);
	return 0;
}

void job_output_close(struct job *j)
{
	for (int s = JOB_STDOUT; s <= JOB_STDERR; s++) {
		if (j->fd[s] >= 0)
			close(j->fd[s]);
		j->fd[s] = -1;
	}
}

/* The files go, the counts of what was produced stay. */
static void remove_files(struct jobs *t, struct job *j)
{
	char path[PATH_MAX];

	job_output_close(j);
	job_files_remove(t, j);
	for (int s = JOB_STDOUT; s <= JOB_STDERR; s++) {
		jobs_output_path(t, j, s, path, sizeof(path));
		(void)unlink(path);
		t->stored_bytes -= j->kept[s] < t->stored_bytes ? j->kept[s] : t->stored_bytes;
		j->kept[s] = 0;
		if (j->cursor[s] > 0)
			j->cursor[s] = 0;
	}
}

void job_output_remove(struct jobs *t, struct job *j)
{
	_cleanup_free_ char *dir = NULL;

	remove_files(t, j);
	/* Best effort: a directory someone put other files into stays. */
	if (asprintf(&dir, "%s/%s", t->jobs_dir, j->id) >= 0)
		(void)rmdir(dir);
}

void job_output_recount(struct jobs *t, struct job *j)
{
	char path[PATH_MAX];
	struct stat st;

	for (int s = JOB_STDOUT; s <= JOB_STDERR; s++) {
		jobs_output_path(t, j, s, path, sizeof(path));
		if (stat(path, &st) < 0)
			continue;
		job_forget_saved(j);
		j->kept[s] = (uint64_t)st.st_size;
		if (j->produced[s] < j->kept[s])
			j->produced[s] = j->kept[s];
		if (j->cursor[s] > j->kept[s])
			j->cursor[s] = j->kept[s];
	}
}

static bool evictable(const struct job *o, const struct job *self)
{
	return o != self && job_status_is_final(o->status) &&
	       o->kept[JOB_STDOUT] + o->kept[JOB_STDERR] + o->kept_files > 0;
}

/* Makes room for `need` more bytes under the state cap by removing the
 * output of finished jobs, the oldest of the tenant that keeps the most
 * bytes first (job_fair.c); false when not enough could go (only running
 * jobs' output is left).  `self` keeps its own. */
static bool evict_oldest(struct jobs *t, const struct job *self)
{
	struct job *o = jobs_fair_victim(t, JOBS_FAIR_BY_BYTES, self, evictable);

	if (o == NULL)
		return false;
	remove_files(t, o);
	o->evicted = true;
	jobs_touch(t, o);
	return true;
}

bool jobs_make_room(struct jobs *t, const struct job *self, uint64_t need)
{
	while (t->stored_bytes + need > t->limits.state_bytes)
		if (!evict_oldest(t, self))
			return false;
	return true;
}

/* Keeps the newest JOB_TAIL_BYTES of what the script wrote, whatever the
 * disk caps keep.  Without memory for it the tail stays empty. */
static void keep_tail(struct job *j, enum job_stream stream, const char *buf, size_t len)
{
	size_t have = j->tail_len[stream];

	if (j->tail[stream] == NULL && (j->tail[stream] = malloc(JOB_TAIL_BYTES)) == NULL)
		return;
	if (len >= JOB_TAIL_BYTES) {
		memcpy(j->tail[stream], buf + len - JOB_TAIL_BYTES, JOB_TAIL_BYTES);
		j->tail_len[stream] = JOB_TAIL_BYTES;
		return;
	}
	if (have + len > JOB_TAIL_BYTES) {
		size_t drop = have + len - JOB_TAIL_BYTES;
		memmove(j->tail[stream], j->tail[stream] + drop, have - drop);
		have -= drop;
	}
	memcpy(j->tail[stream] + have, buf, len);
	j->tail_len[stream] = have + len;
}

const char *jobs_tail(const struct job *j, enum job_stream stream, size_t *len)
{
	*len = j->tail[stream] ? j->tail_len[stream] : 0;
	return j->tail[stream] ? j->tail[stream] : "";
}

void job_output_tail_free(struct job *j)
{
	for (int s = 0; s < 2; s++) {
		free(j->tail[s]);
		j->tail[s] = NULL;
		j->tail_len[s] = 0;
	}
}

static int append_output(struct jobs *t, struct job *j, enum job_stream stream, const char *buf,
			 size_t len, struct pm_error *err)
{
	uint64_t cap = t->limits.disk_bytes_per_stream;
	size_t keep;

	/* The counts change the job's saved form, but do not call for a save
	 * of their own. */
	job_forget_saved(j);
	j->produced[stream] += len;
	keep_tail(j, stream, buf, len);
	if (j->kept[stream] >= cap || j->cut[stream])
		return 0;
	keep = cap - j->kept[stream] < len ? (size_t)(cap - j->kept[stream]) : len;
	if (keep == 0)
		return 0;
	if (t->limits.state_bytes > 0 && !jobs_make_room(t, j, keep)) {
		/* Only running jobs' output is left: this one stops here, and
		 * says so wherever its output is read. */
		uint64_t left = t->stored_bytes < t->limits.state_bytes
				    ? t->limits.state_bytes - t->stored_bytes
				    : 0;
		keep = left < keep ? (size_t)left : keep;
		j->cut[stream] = true;
		jobs_touch(t, j);
		if (keep == 0)
			return 0;
	}
	/* The descriptor stays open while the job runs: scripts print in
	 * many small pieces. */
	if (j->fd[stream] < 0) {
		char path[PATH_MAX];

		jobs_output_path(t, j, stream, path, sizeof(path));
		j->fd[stream] =
		    open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (j->fd[stream] < 0)
			return pm_error_errno(err, "jobs", "open `%s`", path);
	}
	while (keep > 0) {
		ssize_t n = write(j->fd[stream], buf, keep);

		if (n < 0 && errno == EINTR)
			continue;
		/* The state filesystem is full (of something else, as our own
		 * output stays under the cap): older output makes room, and
		 * when none is left this stream stops, with its note. */
		if (n < 0 && errno == ENOSPC && evict_oldest(t, j))
			continue;
		if (n < 0) {
			char path[PATH_MAX];

			if (errno == ENOSPC) {
				j->cut[stream] = true;
				jobs_touch(t, j);
			}
			jobs_output_path(t, j, stream, path, sizeof(path));
			return pm_error_errno(err, "jobs", "write `%s`", path);
		}
		j->kept[stream] += (uint64_t)n;
		t->stored_bytes += (uint64_t)n;
		buf += n;
		keep -= (size_t)n;
	}
	return 0;
}

int jobs_append_output(struct jobs *t, struct job *j, enum job_stream stream, const char *buf,
		       size_t len, struct pm_error *err)
{
	int r = append_output(t, j, stream, buf, len, err);

	/* Produced changed even when nothing more could be kept. */
	jobs_emit(t, j, JOB_EVENT_OUTPUT);
	return r;
}

void job_read_release(struct job_read *r)
{
	free(r->text);
	r->text = NULL;
}

/* Reads up to len bytes at off; fewer only at the end of the file.  A
 * missing file reads as empty (a job that never printed). */
static int read_window(const char *path, uint64_t off, char *buf, size_t len, size_t *got,
		       struct pm_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	*got = 0;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return pm_error_errno(err, "jobs", "open `%s`", path);
	while (*got < len) {
		ssize_t n = pread(fd, buf + *got, len - *got, (off_t)(off + *got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pm_error_errno(err, "jobs", "read `%s`", path);
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

int jobs_read(struct jobs *t, const struct job *j, enum job_stream stream, uint64_t from,
	      size_t max, struct job_read *out, struct pm_error *err)
{
	uint64_t kept = j->kept[stream];
	_cleanup_free_ char *raw = NULL;
	size_t want, got = 0, used;
	bool complete;
	char path[PATH_MAX];
	int r;

	*out = (struct job_read){0};
	want = from < kept ? (kept - from < max ? (size_t)(kept - from) : max) : 0;
	if (want > 0) {
		raw = malloc(want);
		if (raw == NULL)
			return pm_error_set(err, "jobs", ENOMEM, "read output of job `%s`", j->id);
		jobs_output_path(t, j, stream, path, sizeof(path));
		r = read_window(path, from, raw, want, &got, err);
		if (r < 0)
			return r;
	}
	/* A character cut at the end of the window is finished by bytes that
	 * are already kept or, while the job runs and the cap is not reached,
	 * that may still come: leave it for the next read.  Otherwise the
	 * bytes are all there will ever be, and a cut character is an error. */
	complete = from + got >= kept &&
		   (job_status_is_final(j->status) || kept >= t->limits.disk_bytes_per_stream);
	if (got < want)
		complete = true; /* the file is shorter than counted: take what is there */
	r = utf8_sanitize(raw ? raw : "", got, complete, &out->text, &out->len, &used);
	if (r == 0 && used == 0 && got > 0 && got == max) {
		/* A window too small for one character: never stall a reader. */
		job_read_release(out);
		r = utf8_sanitize(raw, got, true, &out->text, &out->len, &used);
	}
	if (r < 0)
		return pm_error_set(err, "jobs", -r, "read output of job `%s`", j->id);
	out->consumed = used;
	out->more = from + used < kept;
	return 0;
}

int jobs_read_output(struct jobs *t, const struct job *j, enum job_stream stream, uint64_t from,
		     size_t max, char **out_new, size_t *len, bool *more, struct pm_error *err)
{
	struct job_read rd;
	int r = jobs_read(t, j, stream, from, max, &rd, err);

	if (r < 0)
		return r;
	*out_new = rd.text;
	*len = rd.len;
	*more = rd.more;
	return 0;
}

size_t jobs_remove_orphan_output(struct jobs *t)
{
	_cleanup_(closedir_p) DIR *d = opendir(t->jobs_dir);
	struct dirent *e;
	size_t removed = 0;

	while (d && (e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		/* Only what this server names: a job id (a UUID). */
		if (strlen(e->d_name) != 36 || strspn(e->d_name, "0123456789abcdef-") != 36 ||
		    jobs_get(t, e->d_name) != NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", t->jobs_dir, e->d_name);
		remove_tree(path);
		removed++;
	}
	return removed;
}
