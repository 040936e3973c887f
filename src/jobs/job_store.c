#include "job_store.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "jobs.h"

struct job_store {
	char *dir;  /* <state>/meta */
	char *path; /* <state>/meta/jobs.json */
	/* <state>/meta/jobs.json.tmp.<pid>: per process, so that two servers
	 * sharing a state directory never write into each other's temp file
	 * (one would rename the other's half-written file into place). */
	char *tmp;
	/* Serializes writers (the loop thread and a pool thread) and guards
	 * written_gen. */
	uv_mutex_t lock;
	uint64_t written_gen;
	unsigned refs; /* touched on the loop thread only */
};

struct job_store_write {
	uv_work_t req;
	struct job_store *store;
	char *text;
	size_t len;
	uint64_t gen;
	int result;
	struct pm_error err;
	job_store_done_fn done;
	void *data;
};

int job_store_new(const char *meta_dir, struct job_store **out, struct pm_error *err)
{
	struct job_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return pm_error_set(err, "jobs", ENOMEM, "job store");
	s->refs = 1;
	if (asprintf(&s->dir, "%s", meta_dir) < 0 ||
	    asprintf(&s->path, "%s/jobs.json", meta_dir) < 0 ||
	    asprintf(&s->tmp, "%s/jobs.json.tmp.%ld", meta_dir, (long)getpid()) < 0) {
		free(s->dir);
		free(s->path);
		free(s);
		return pm_error_set(err, "jobs", ENOMEM, "job store");
	}
	if (uv_mutex_init(&s->lock) != 0) {
		free(s->dir);
		free(s->path);
		free(s->tmp);
		free(s);
		return pm_error_set(err, "jobs", ENOMEM, "job store lock");
	}
	*out = s;
	return 0;
}

void job_store_unref(struct job_store *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	uv_mutex_destroy(&s->lock);
	free(s->dir);
	free(s->path);
	free(s->tmp);
	free(s);
}

const char *job_store_path(const struct job_store *s)
{
	return s->path;
}

int job_store_move_aside(struct job_store *s, char **aside, struct pm_error *err)
{
	long now = (long)time(NULL);

	for (int n = 0; n < 100; n++) {
		_cleanup_free_ char *name = NULL;
		int r = n == 0 ? asprintf(&name, "%s.corrupt-%ld", s->path, now)
			       : asprintf(&name, "%s.corrupt-%ld.%d", s->path, now, n);

		if (r < 0)
			return pm_error_set(err, "jobs", ENOMEM, "jobs.json");
		/* link() does not replace an existing file, rename() would. */
		if (link(s->path, name) < 0) {
			if (errno == EEXIST)
				continue;
			return pm_error_errno(err, "jobs", "move `%s` aside to `%s`", s->path,
					      name);
		}
		if (unlink(s->path) < 0)
			return pm_error_errno(err, "jobs", "remove `%s`", s->path);
		*aside = TAKE_PTR(name);
		return 0;
	}
	return pm_error_set(err, "jobs", EEXIST, "move `%s` aside", s->path);
}

/* Temp files are what a crash in the middle of a save leaves; those of a
 * process still alive (another server on this directory) are its own. */
static void remove_stale_temps(struct job_store *s)
{
	_cleanup_(closedir_p) DIR *d = opendir(s->dir);
	static const char prefix[] = "jobs.json.tmp";
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *end = NULL;
		long pid = 0;

		if (strncmp(e->d_name, prefix, sizeof(prefix) - 1) != 0)
			continue;
		if (e->d_name[sizeof(prefix) - 1] == '.')
			pid = strtol(e->d_name + sizeof(prefix), &end, 10);
		if (pid > 0 && end && *end == '\0' && pid != (long)getpid() &&
		    (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			continue;
		(void)unlinkat(dirfd(d), e->d_name, 0);
	}
}

int job_store_load(struct job_store *s, json_t **array_out, struct pm_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *aside = NULL;
	json_error_t jerr;
	json_t *array;
	FILE *f;
	int r;

	remove_stale_temps(s);
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		*array_out = json_array();
		return 0;
	}
	if (fd < 0)
		return pm_error_errno(err, "jobs", "open `%s`", s->path);
	/* Through stdio: json_loadfd() reads one byte per system call. */
	f = fdopen(fd, "r");
	if (f == NULL)
		return pm_error_errno(err, "jobs", "read `%s`", s->path);
	fd = -1; /* f owns it now */
	array = json_loadf(f, 0, &jerr);
	fclose(f);
	if (array != NULL && json_is_array(array)) {
		*array_out = array;
		return 0;
	}
	json_decref(array);
	r = job_store_move_aside(s, &aside, err);
	if (r < 0)
		return pm_error_wrap(err, "`%s` is corrupt", s->path);
	if (array == NULL)
		pm_error_set(err, "jobs", 0,
			     "`%s` is corrupt (%s, line %d); moved aside to `%s`, starting with "
			     "no jobs",
			     s->path, jerr.text, jerr.line, aside);
	else
		pm_error_set(err, "jobs", 0,
			     "`%s` is not a JSON array; moved aside to `%s`, starting with no jobs",
			     s->path, aside);
	*array_out = json_array();
	return JOBS_OPEN_RECOVERED;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The steps of an atomic replacement; called with the lock held. */
static int replace_file(struct job_store *s, const char *text, size_t len, struct pm_error *err)
{
	_cleanup_close_ int fd = -1, dfd = -1;
	int r;

	fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return pm_error_errno(err, "jobs", "create `%s`", s->tmp);
	if ((r = write_all(fd, text, len)) < 0)
		return pm_error_set(err, "jobs", -r, "write `%s`", s->tmp);
	/* Without this the rename could reach the disk before the data, and
	 * a power cut would leave an empty jobs.json. */
	if (fsync(fd) < 0)
		return pm_error_errno(err, "jobs", "fsync `%s`", s->tmp);
	r = close(TAKE_FD(fd));
	if (r < 0)
		return pm_error_errno(err, "jobs", "close `%s`", s->tmp);
	if (rename(s->tmp, s->path) < 0)
		return pm_error_errno(err, "jobs", "rename `%s` to `%s`", s->tmp, s->path);
	/* Makes the rename itself durable. */
	dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return pm_error_errno(err, "jobs", "open `%s`", s->dir);
	/* Some file systems cannot sync a directory; the rename is done. */
	if (fsync(dfd) < 0 && errno != EINVAL && errno != ENOTSUP)
		return pm_error_errno(err, "jobs", "fsync `%s`", s->dir);
	return 0;
}

int job_store_write(struct job_store *s, uint64_t gen, const char *text, size_t len,
		    struct pm_error *err)
{
	int r = 0;

	uv_mutex_lock(&s->lock);
	if (gen > s->written_gen) {
		r = replace_file(s, text, len, err);
		if (r == 0)
			s->written_gen = gen;
	}
	uv_mutex_unlock(&s->lock);
	return r;
}

static void write_work(uv_work_t *req)
{
	struct job_store_write *w = req->data;

	w->result = job_store_write(w->store, w->gen, w->text, w->len, &w->err);
}

static void write_after(uv_work_t *req, int status)
{
	struct job_store_write *w = req->data;

	if (status == UV_ECANCELED)
		w->result = pm_error_set(&w->err, "jobs", ECANCELED, "save `%s`", w->store->path);
	if (w->done)
		w->done(w->data, w->result, &w->err);
	job_store_unref(w->store);
	free(w->text);
	free(w);
}

int job_store_write_async(struct job_store *s, uv_loop_t *loop, uint64_t gen, char *text,
			  size_t len, job_store_done_fn done, void *data,
			  struct job_store_write **out, struct pm_error *err)
{
	struct job_store_write *w = calloc(1, sizeof(*w));
	int r;

	if (w == NULL)
		return pm_error_set(err, "jobs", ENOMEM, "save `%s`", s->path);
	*w = (struct job_store_write){
	    .store = s, .text = text, .len = len, .gen = gen, .done = done, .data = data};
	w->req.data = w;
	r = uv_queue_work(loop, &w->req, write_work, write_after);
	if (r < 0) {
		free(w);
		return pm_error_set(err, "jobs", -r, "queue the save of `%s`", s->path);
	}
	s->refs++;
	*out = w;
	return 0;
}

void job_store_write_detach(struct job_store_write *w)
{
	w->done = NULL;
	w->data = NULL;
}
