#include "artifacts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fence.h"
#include "fileio.h"
#include "log.h"
#include "mime_sniff.h"
#include "utf8.h"

struct candidate {
	char *path; /* relative to the workspace */
	struct artifact_stamp stamp;
};

struct walk {
	dev_t dev;     /* the workspace's mount: the walk stays on it */
	uid_t job_uid; /* whose files the run's are (readable_by_run) */
	struct timespec since;
	size_t max_files;
	const struct artifact_memory *seen; /* skipped while unchanged, or NULL */
	struct candidate *found;
	size_t n_found;
	size_t visited;	  /* entries looked at, up to ARTIFACTS_SCAN_MAX */
	size_t unlisted;  /* changed files past max_files */
	size_t bad_names; /* names that are not printable UTF-8 */
	size_t foreign;	  /* changed files the run could not read */
	bool stopped;	  /* the walk hit ARTIFACTS_SCAN_MAX */
	bool too_deep;	  /* a directory below ARTIFACTS_DEPTH_MAX was skipped */
};

struct timespec artifacts_clock(void)
{
	struct timespec ts = {0};

	/* File times are taken from the coarse clock: a file written right
	 * after a fine-grained "now" could carry an earlier time. */
	(void)clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return ts;
}

static bool changed_since(const struct stat *st, struct timespec since)
{
	return st->st_ctim.tv_sec > since.tv_sec ||
	       (st->st_ctim.tv_sec == since.tv_sec && st->st_ctim.tv_nsec >= since.tv_nsec);
}

/* The server may read what the run could not: a file of another user
 * that the run renamed (which changes its ctime).  Only what the run
 * could read itself is listed: files and folders of the uid its files
 * get (it owns them, so it could chmod them), or open to all. */
static bool readable_by_run(const struct walk *w, const struct stat *st, mode_t other_bit)
{
	return st->st_uid == w->job_uid || (st->st_mode & other_bit);
}

/* Printable UTF-8 only (well-formed, no control character, not even a
 * tab or a newline): the name goes into JSON and into a uri. */
static bool name_ok(const char *name)
{
	size_t len = strlen(name);

	if (utf8_valid_prefix(name, len, false) != len)
		return false;
	return strpbrk(name, "\t\n\r") == NULL;
}

/* Caches are not what a run made: Python's bytecode, and the home
 * directory's .cache (HOME is the workspace: fontconfig and matplotlib
 * fill it on first use). */
static bool is_cache(const char *name, unsigned depth)
{
	return strcmp(name, "__pycache__") == 0 || (depth == 0 && strcmp(name, ".cache") == 0);
}

static struct artifact_stamp stamp_of(const struct stat *st)
{
	return (struct artifact_stamp){
	    .dev = st->st_dev, .ino = st->st_ino, .ctime = st->st_ctim, .size = st->st_size};
}

static bool same_stamp(const struct artifact_stamp *a, const struct artifact_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec && a->size == b->size;
}

static bool seen_before(const struct walk *w, const struct stat *st)
{
	struct artifact_stamp now = stamp_of(st);

	for (size_t i = 0; w->seen && i < w->seen->n; i++)
		if (same_stamp(&w->seen->stamps[i], &now))
			return true;
	return false;
}

void artifact_memory_clear(struct artifact_memory *m)
{
	free(m->stamps);
	*m = (struct artifact_memory){0};
}

static int add_candidate(struct walk *w, const char *path, const struct stat *st)
{
	if (seen_before(w, st))
		return 0;
	if (w->n_found >= w->max_files) {
		w->unlisted++;
		return 0;
	}
	if (w->found == NULL && (w->found = calloc(w->max_files, sizeof(*w->found))) == NULL)
		return -ENOMEM;
	struct candidate *c = &w->found[w->n_found];
	if ((c->path = strdup(path)) == NULL)
		return -ENOMEM;
	c->stamp = stamp_of(st);
	w->n_found++;
	return 0;
}

static int walk_opened(struct walk *w, int sub, char *rel, unsigned depth);

/* One directory, then those below it, depth first.  `rel` holds the
 * directory's path (rel_len bytes, "" for the workspace) and is
 * restored before returning.  dfd is taken. */
static int walk_dir(struct walk *w, int dfd, char *rel, size_t rel_len, unsigned depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int r = 0;

	if (d == NULL) {
		close(dfd);
		return 0; /* unreadable (a script may chmod 000): nothing to list */
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		const char *name = e->d_name;
		struct stat st;
		size_t n = strlen(name);

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (++w->visited > ARTIFACTS_SCAN_MAX) {
			w->stopped = true;
			break;
		}
		if (!name_ok(name)) {
			w->bad_names++;
			continue;
		}
		if (rel_len + n + 2 > PATH_MAX ||
		    fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != w->dev)
			continue;
		sprintf(rel + rel_len, "%s%s", rel_len ? "/" : "", name);
		if (S_ISREG(st.st_mode) && changed_since(&st, w->since)) {
			if (readable_by_run(w, &st, S_IROTH))
				r = add_candidate(w, rel, &st);
			else
				w->foreign++;
		} else if (S_ISDIR(st.st_mode) && !is_cache(name, depth) &&
			   readable_by_run(w, &st, S_IXOTH)) {
			int sub;
			if (depth + 1 >= ARTIFACTS_DEPTH_MAX)
				w->too_deep = true;
			else if ((sub = openat(dirfd(d), name,
					       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >=
				 0)
				r = walk_opened(w, sub, rel, depth + 1);
		}
		rel[rel_len] = '\0';
		if (w->stopped)
			break;
	}
	closedir(d);
	return r;
}

/* A folder as opened, not as looked at: one swapped in between (a
 * session's processes live on while its files are collected) must pass
 * the same checks.  sub is taken. */
static int walk_opened(struct walk *w, int sub, char *rel, unsigned depth)
{
	struct stat opened;

	if (fstat(sub, &opened) < 0 || opened.st_dev != w->dev ||
	    !readable_by_run(w, &opened, S_IXOTH)) {
		close(sub);
		return 0;
	}
	return walk_dir(w, sub, rel, strlen(rel), depth);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct candidate *)a)->path, ((const struct candidate *)b)->path);
}

char *artifacts_uri(const char *job_id, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(job_id), len = strlen(path);
	char *uri = malloc(sizeof("job-file://") + n + 1 + 3 * len), *p;

	if (uri == NULL)
		return NULL;
	p = uri + sprintf(uri, "job-file://%s/", job_id);
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~/", *s)) {
			*p++ = (char)*s;
		} else {
			*p++ = '%';
			*p++ = hex[*s >> 4];
			*p++ = hex[*s & 15];
		}
	}
	*p = '\0';
	return uri;
}

/* What keeping the files costs, and why some were not kept. */
struct keeping {
	uid_t job_uid; /* as the walk's: the file opened is checked again */
	struct jobs *jobs;
	struct job *job;
	int dir;	 /* the job's files folder, opened when first needed */
	uint64_t left;	 /* of max_bytes */
	size_t over_run; /* not kept: over the run's max_bytes */
	size_t over_cap; /* not kept: no room under the state cap */
	size_t failed;	 /* not kept: an error (logged) */
	char *buf;	 /* copy buffer */
};

#define COPY_CHUNK (64 * 1024)

/* Copies `size` bytes of src into the job's file `index`; the bytes are
 * reserved first.  Returns the bytes kept, or a negative errno. */
static int64_t keep_copy(struct keeping *k, int src, size_t index, uint64_t size)
{
	struct pm_error err = {0};
	char name[32];
	uint64_t done = 0;

	if (k->dir < 0 && (k->dir = jobs_files_create(k->jobs, k->job, &err)) < 0) {
		log_warn("job %s: %s", k->job->id, err.message);
		return k->dir;
	}
	if (!jobs_files_reserve(k->jobs, k->job, size))
		return -ENOSPC;
	snprintf(name, sizeof(name), "%zu", index);
	_cleanup_close_ int dst =
	    openat(k->dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r = dst < 0 ? -errno : 0;
	while (r == 0 && done < size) {
		size_t want = size - done < COPY_CHUNK ? (size_t)(size - done) : COPY_CHUNK;
		ssize_t got = pread(src, k->buf, want, (off_t)done);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = got < 0 ? -errno : 0;
			break; /* the file shrank meanwhile: keep what there was */
		}
		r = pm_write_all(dst, k->buf, (size_t)got);
		done += (uint64_t)got;
	}
	if (r < 0) {
		jobs_files_release(k->jobs, k->job, size);
		if (dst >= 0)
			(void)unlinkat(k->dir, name, 0);
		log_warn("job %s: keeping file %zu: %s", k->job->id, index, strerror(-r));
		return r;
	}
	jobs_files_release(k->jobs, k->job, size - done);
	return (int64_t)done;
}

/* One listed file: opened again beneath the workspace, the kernel
 * refusing every link and mount crossing on the way, and only if it is
 * still the regular file the walk saw. */
static json_t *entry(struct keeping *k, int ws_fd, const struct candidate *c, size_t index)
{
	const uint64_t resolve =
	    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
	_cleanup_close_ int fd = pm_openat2(
	    ws_fd, c->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, resolve);
	unsigned char head[MIME_SNIFF_HEAD];
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != c->stamp.ino ||
	    st.st_dev != c->stamp.dev || (st.st_uid != k->job_uid && !(st.st_mode & S_IROTH)) ||
	    (n = pread(fd, head, sizeof(head), 0)) < 0)
		return NULL; /* gone or replaced since the walk */
	uint64_t size = (uint64_t)st.st_size;
	const char *mime = mime_sniff(c->path, head, (size_t)n);
	json_t *e = json_pack("{s:s, s:I, s:s}", "path", c->path, "bytes", (json_int_t)size,
			      "mime_type", mime);
	if (e == NULL)
		return NULL;
	if (size > k->left) {
		k->over_run++;
	} else {
		int64_t kept = keep_copy(k, fd, index, size);
		if (kept == -ENOSPC)
			k->over_cap++;
		else if (kept < 0)
			k->failed++;
		if (kept >= 0) {
			char *uri = artifacts_uri(k->job->id, c->path);
			k->left -= (uint64_t)kept;
			json_object_set_new(e, "bytes", json_integer((json_int_t)kept));
			json_object_set_new(e, "uri", uri ? json_string(uri) : json_null());
			free(uri);
			return e;
		}
	}
	json_object_set_new(e, "kept", json_false());
	return e;
}

static char *explain(const struct walk *w, const struct keeping *k,
		     const struct artifact_limits *lim)
{
	char buf[1024];
	size_t len = 0;

#define SAY(...)                                                                                   \
	do {                                                                                       \
		if (len < sizeof(buf))                                                             \
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, __VA_ARGS__);        \
	} while (0)
	if (w->unlisted)
		SAY("%zu more changed files are not listed (at most %zu are). ", w->unlisted,
		    lim->max_files);
	if (w->stopped)
		SAY("The search for changed files stopped after %d entries of the workspace. ",
		    ARTIFACTS_SCAN_MAX);
	if (w->too_deep)
		SAY("Folders deeper than %d levels were not searched. ", ARTIFACTS_DEPTH_MAX);
	if (w->foreign)
		SAY("%zu changed files of other owners that the run could not read are not "
		    "listed. ",
		    w->foreign);
	if (w->bad_names)
		SAY("%zu names that are not printable UTF-8 were skipped. ", w->bad_names);
	if (k->over_run)
		SAY("%zu files were not kept (kept: false): a run keeps at most %llu bytes of "
		    "files "
		    "(--artifact-max-bytes); read them in the workspace. ",
		    k->over_run, (unsigned long long)lim->max_bytes);
	if (k->over_cap)
		SAY("%zu files were not kept: the state directory is full (--max-state-bytes). ",
		    k->over_cap);
	if (k->failed)
		SAY("%zu files could not be kept (see the server's log). ", k->failed);
#undef SAY
	if (len == 0)
		return NULL;
	buf[len < sizeof(buf) ? len - 1 : sizeof(buf) - 1] = '\0'; /* the last space */
	return strdup(buf);
}

/* What this scan listed, for the next one (mem). */
static void remember(struct artifact_memory *mem, const struct walk *w)
{
	struct artifact_stamp *stamps = w->n_found ? calloc(w->n_found, sizeof(*stamps)) : NULL;

	artifact_memory_clear(mem);
	if (stamps == NULL)
		return;
	for (size_t i = 0; i < w->n_found; i++)
		stamps[i] = w->found[i].stamp;
	mem->stamps = stamps;
	mem->n = w->n_found;
}

json_t *artifacts_collect(struct jobs *jobs, struct job *j, int ws_fd, struct timespec since,
			  const struct artifact_limits *lim, struct artifact_memory *mem,
			  char **note)
{
	struct walk w = {.since = since, .max_files = lim->max_files, .seen = mem};
	struct keeping k = {.jobs = jobs, .job = j, .dir = -1, .left = lim->max_bytes};
	json_t *files = json_array();
	char rel[PATH_MAX] = "";
	struct stat st;
	int dfd;

	*note = NULL;
	if (files == NULL || lim->max_bytes == 0 || lim->max_files == 0 || ws_fd < 0 ||
	    fstat(ws_fd, &st) < 0)
		return files;
	w.dev = st.st_dev;
	/* A root launcher mounts the workspace id-mapped: the run owns what
	 * the workspace's owner owns.  Otherwise it runs as the server. */
	w.job_uid = geteuid() == 0 ? st.st_uid : geteuid();
	k.job_uid = w.job_uid;
	/* A descriptor of its own for the walk: readdir moves its offset. */
	if ((dfd = openat(ws_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    walk_dir(&w, dfd, rel, 0, 0) < 0)
		log_warn("job %s: listing its files: out of memory", j->id);
	if (w.n_found > 1)
		qsort(w.found, w.n_found, sizeof(*w.found), by_path);
	if (mem)
		remember(mem, &w);
	if (w.n_found > 0 && (k.buf = malloc(COPY_CHUNK)) == NULL)
		k.left = 0;
	for (size_t i = 0; i < w.n_found; i++) {
		json_t *e = entry(&k, ws_fd, &w.found[i], json_array_size(files));
		if (e != NULL)
			json_array_append_new(files, e);
		free(w.found[i].path);
	}
	*note = explain(&w, &k, lim);
	if (k.dir >= 0)
		close(k.dir);
	free(k.buf);
	free(w.found);
	return files;
}
