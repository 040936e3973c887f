/* Files a run left in its workspace, kept with the job: <state>/jobs/<id>/files/<n>,
 * the n-th entry of the result's `files` list.  The names on disk are the
 * server's own numbers, never a name a job chose, so reading one back
 * involves no path of the job's.  Their bytes count toward the state cap
 * like output does, and go with the job (or its eviction). */
#include "jobs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remove_tree.h"

static void files_dir(const struct jobs *t, const struct job *j, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/files", t->jobs_dir, j->id);
}

int jobs_files_create(struct jobs *t, struct job *j, struct pm_error *err)
{
	char dir[PATH_MAX];
	int r = job_output_mkdir(t, j, err);

	if (r < 0)
		return r;
	files_dir(t, j, dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return pm_error_errno(err, "artifacts", "create `%s`", dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd >= 0 ? fd : pm_error_errno(err, "artifacts", "open `%s`", dir);
}

bool jobs_files_reserve(struct jobs *t, struct job *j, uint64_t bytes)
{
	if (t->limits.state_bytes > 0 && !jobs_make_room(t, j, bytes))
		return false;
	t->stored_bytes += bytes;
	j->kept_files += bytes;
	job_forget_saved(j);
	jobs_schedule_save(t);
	return true;
}

void jobs_files_release(struct jobs *t, struct job *j, uint64_t bytes)
{
	bytes = bytes < j->kept_files ? bytes : j->kept_files;
	j->kept_files -= bytes;
	t->stored_bytes -= bytes < t->stored_bytes ? bytes : t->stored_bytes;
	job_forget_saved(j);
	jobs_schedule_save(t);
}

int jobs_files_open(struct jobs *t, const struct job *j, size_t index, struct pm_error *err)
{
	char path[PATH_MAX + 32];
	int fd;

	if (j->evicted)
		return pm_error_set(err, "artifacts", ENOENT,
				    "job %s keeps no files any more (removed to stay under the "
				    "state cap, --max-state-bytes)",
				    j->id);
	files_dir(t, j, path, PATH_MAX);
	snprintf(path + strlen(path), 32, "/%zu", index);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return pm_error_errno(err, "artifacts", "open file %zu of job %s", index, j->id);
	return fd;
}

void job_files_remove(struct jobs *t, struct job *j)
{
	char dir[PATH_MAX];

	files_dir(t, j, dir, sizeof(dir));
	remove_tree(dir);
	t->stored_bytes -= j->kept_files < t->stored_bytes ? j->kept_files : t->stored_bytes;
	j->kept_files = 0;
	job_forget_saved(j);
}
