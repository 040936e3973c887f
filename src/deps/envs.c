#include "envs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "random.h"
#include "env_build.h"
#include "interp_info.h"
#include "log.h"
#include "metrics.h"
#include "remove_tree.h"
#include "requirements.h"

/* Written last into a complete environment: what it holds. */
#define MANIFEST ".python-mcp-env.json"
/* Collisions of the 64-bit name are resolved by trying the next slots. */
#define SLOTS 8
/* Output of an install kept to explain a failure. */
#define TAIL_MAX 16384

struct envs_wait {
	struct build *b;
	envs_done_fn done;
	void *data;
	struct envs_wait *next;
};

struct build {
	struct envs *e;
	char name[64];
	char final[PATH_MAX];
	char tmp[PATH_MAX];
	char *interpreter;
	json_t *set;
	const char *installer;
	struct runner_task *task;
	bool cancelling; /* nobody waits: ends without a result */
	bool guess;	 /* started for a guessed set (see env_request) */
	struct envs_wait *waiters;
	char tail[TAIL_MAX];
	size_t tail_len;
	struct build *next;
};

struct use {
	char name[64];
	unsigned count;
	struct use *next;
};

/* A failed install of a guessed set (see env_request.guess). */
struct failure {
	char *interpreter;
	json_t *set;
	char *message;
	time_t at;
	struct failure *next;
};

/* Failures remembered at most; the oldest go first. */
#define FAILURES_MAX 64

struct envs {
	struct runner *runner;
	struct envs_config cfg;
	char *dir;
	char *install_policy; /* cfg.install_policy points here */
	struct build *builds;
	struct use *uses;
	struct failure *failures; /* newest first */
};

static void failure_free(struct failure *f)
{
	free(f->interpreter);
	json_decref(f->set);
	free(f->message);
	free(f);
}

static void remember_failure(struct envs *e, const struct build *b, const char *message)
{
	struct failure *f = calloc(1, sizeof(*f));
	size_t n = 0;

	if (f == NULL || (f->interpreter = strdup(b->interpreter)) == NULL ||
	    (f->message = strdup(message)) == NULL) {
		if (f)
			failure_free(f);
		return;
	}
	f->set = json_incref(b->set);
	f->at = time(NULL);
	f->next = e->failures;
	e->failures = f;
	for (struct failure **pp = &e->failures; *pp; pp = &(*pp)->next) {
		if (++n > FAILURES_MAX) {
			struct failure *old = *pp;
			*pp = NULL;
			while (old) {
				struct failure *next = old->next;
				failure_free(old);
				old = next;
			}
			break;
		}
	}
}

static const struct failure *remembered(struct envs *e, const struct env_request *req)
{
	time_t now = time(NULL);

	for (struct failure *f = e->failures; f; f = f->next)
		if (difftime(now, f->at) < ENVS_GUESS_RETRY &&
		    strcmp(f->interpreter, req->interpreter) == 0 && json_equal(f->set, req->set))
			return f;
	return NULL;
}

/* Renamed aside first, so that no request finds it half-removed. */
static void discard(const struct envs *e, const char *path)
{
	char trash[PATH_MAX];

	snprintf(trash, sizeof(trash), "%s/.trash-%08x", e->dir, pm_random_u32());
	if (rename(path, trash) == 0)
		path = trash;
	remove_tree_async(e->cfg.loop, path);
}

static struct use *find_use(struct envs *e, const char *name)
{
	for (struct use *u = e->uses; u; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

static void mark_used(struct envs *e, const char *name, const char *path)
{
	char manifest[PATH_MAX];
	struct use *u = find_use(e, name);

	if (u == NULL && (u = calloc(1, sizeof(*u))) != NULL) {
		snprintf(u->name, sizeof(u->name), "%s", name);
		u->next = e->uses;
		e->uses = u;
	}
	if (u)
		u->count++;
	/* The manifest's mtime is the last use, for eviction and pruning. */
	snprintf(manifest, sizeof(manifest), "%s/" MANIFEST, path);
	utimensat(AT_FDCWD, manifest, NULL, AT_SYMLINK_NOFOLLOW);
}

void envs_release(struct envs *e, const char *name)
{
	struct use *u = find_use(e, name);

	if (u && u->count > 0)
		u->count--;
}

static bool in_use(struct envs *e, const char *name)
{
	struct use *u = find_use(e, name);

	return u && u->count > 0;
}

/* 1: the manifest at `path` describes this interpreter and set
 * (installer copied out); 0: absent; -1: another set lives there. */
static int manifest_matches(const char *path, const char *interpreter, json_t *set, char *installer,
			    size_t size)
{
	char file[PATH_MAX];
	struct stat st;
	_cleanup_json_ json_t *m = NULL;

	/* What an install left in the directory is the install's: the
	 * manifest is read only as a plain file, never through a link or a
	 * FIFO planted there. */
	snprintf(file, sizeof(file), "%s/" MANIFEST, path);
	_cleanup_close_ int fd = open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (1 << 20))
		m = json_loadfd(fd, JSON_REJECT_DUPLICATES, NULL);
	if (m == NULL)
		return lstat(path, &st) < 0 && errno == ENOENT ? 0 : -1;
	const char *interp = json_string_value(json_object_get(m, "interpreter"));
	const char *inst = json_string_value(json_object_get(m, "installer"));
	if (interp == NULL || strcmp(interp, interpreter) != 0 ||
	    !json_equal(json_object_get(m, "requirements"), set))
		return -1;
	snprintf(installer, size, "%s", inst ? inst : "pip");
	return 1;
}

static int write_manifest(const struct build *b, struct pm_error *err)
{
	char file[PATH_MAX];
	_cleanup_json_ json_t *m =
	    json_pack("{s:s, s:O, s:s, s:f}", "interpreter", b->interpreter, "requirements", b->set,
		      "installer", b->installer, "created_at", (double)time(NULL));

	/* The install could write anything there, a symlink to a host file
	 * included: whatever is at that name goes, and the manifest is a new
	 * file that no link can redirect. */
	snprintf(file, sizeof(file), "%s/" MANIFEST, b->tmp);
	if (unlink(file) < 0 && errno != ENOENT && errno != EISDIR)
		return pm_error_errno(err, "environment", "remove `%s`", file);
	_cleanup_close_ int fd =
	    open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return pm_error_errno(err, "environment", "create `%s`", file);
	if (m == NULL || json_dumpfd(m, fd, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 || fsync(fd) < 0)
		return pm_error_errno(err, "environment", "write `%s`", file);
	return 0;
}

struct entry {
	char name[64];
	struct timespec used;
};

static int by_use(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	return x->used.tv_nsec < y->used.tv_nsec ? -1 : x->used.tv_nsec > y->used.tv_nsec;
}

/* The complete environments, least recently used first. */
static struct entry *list_envs(struct envs *e, size_t *n)
{
	_cleanup_(closedir_p) DIR *d = opendir(e->dir);
	struct entry *list = NULL;
	struct dirent *de;
	size_t cap = 0;

	*n = 0;
	while (d && (de = readdir(d)) != NULL) {
		char file[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(list->name))
			continue;
		snprintf(file, sizeof(file), "%s/%s/" MANIFEST, e->dir, de->d_name);
		if (lstat(file, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			struct entry *grown =
			    realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(*list));
			if (grown == NULL)
				break;
			list = grown;
		}
		snprintf(list[*n].name, sizeof(list->name), "%s", de->d_name);
		list[(*n)++].used = st.st_mtim;
	}
	if (list)
		qsort(list, *n, sizeof(*list), by_use);
	return list;
}

static void evict(struct envs *e)
{
	size_t n, i;
	_cleanup_free_ struct entry *list = list_envs(e, &n);

	for (i = 0; i < n && n - i > e->cfg.max_envs; i++) {
		char path[PATH_MAX];
		if (in_use(e, list[i].name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", e->dir, list[i].name);
		log_msg(LOG_LEVEL_INFO,
			"removing dependency environment %s (least recently used; "
			"more than %u kept)",
			list[i].name, e->cfg.max_envs);
		discard(e, path);
	}
}

static void fill_ref(struct env_ref *ref, const char *name, const char *path, const char *installer,
		     bool reused)
{
	snprintf(ref->name, sizeof(ref->name), "%s", name);
	snprintf(ref->path, sizeof(ref->path), "%s", path);
	snprintf(ref->installer, sizeof(ref->installer), "%s", installer);
	ref->reused = reused;
}

static void take_out(struct envs *e, struct build *b)
{
	for (struct build **pp = &e->builds; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
}

static void unlink_build(struct envs *e, struct build *b)
{
	take_out(e, b);
	free(b->interpreter);
	json_decref(b->set);
	free(b);
}

static void on_install_output(void *data, enum job_stream s, const char *buf, size_t len)
{
	struct build *b = data;

	(void)s;
	/* Keeps the tail: the reason comes last. */
	if (len >= TAIL_MAX) {
		memcpy(b->tail, buf + len - TAIL_MAX, TAIL_MAX);
		b->tail_len = TAIL_MAX;
		return;
	}
	if (b->tail_len + len > TAIL_MAX) {
		size_t drop = b->tail_len + len - TAIL_MAX;
		memmove(b->tail, b->tail + drop, b->tail_len - drop);
		b->tail_len -= drop;
	}
	memcpy(b->tail + b->tail_len, buf, len);
	b->tail_len += len;
}

/* Puts the finished environment in place.  Nothing else can have put one
 * there: this server holds the state directory (app.c) and builds one set
 * at a time. */
static int commit(struct build *b, struct pm_error *err)
{
	int r;

	if ((r = write_manifest(b, err)) < 0)
		return r;
	if (rename(b->tmp, b->final) < 0)
		return pm_error_errno(err, "environment", "move `%s` into place", b->tmp);
	return 0;
}

static void on_install_done(const struct run_outcome *o, void *data)
{
	struct build *b = data;
	struct envs *e = b->e;
	struct pm_error err = {0};
	char msg[2048] = "";
	bool ok = o->ran && !o->cancelled && o->signal == 0 && o->exit_code == 0 && !o->limit;

	/* Out of reach first: a waiter's callback may ask for this set again,
	 * and must then find the manifest or start a build of its own. */
	take_out(e, b);
	b->task = NULL;
	if (ok && commit(b, &err) < 0) {
		char names[512];
		pm_error_format(&err, msg, sizeof(msg));
		env_build_names(b->set, names, sizeof(names));
		pm_error_set(&err, "environment", 0, "installing %s: %s", names, msg);
		pm_error_format(&err, msg, sizeof(msg));
		ok = false;
	} else if (!ok && o->cancelled) {
		char names[512];
		env_build_names(b->set, names, sizeof(names));
		snprintf(msg, sizeof(msg), "the install of %s was cancelled", names);
	} else if (!ok) {
		env_build_error(b->tail, b->tail_len, b->set, b->installer, o, msg, sizeof(msg));
	}
	pm_metric_inc("python_mcp_env_builds_total", "result",
		      ok	     ? "built"
		      : o->cancelled ? "cancelled"
				     : "failed");
	if (!ok) {
		log_msg(LOG_LEVEL_WARNING, "dependency environment %s: %s", b->name, msg);
		discard(e, b->tmp);
		if (b->guess && o->ran && !o->cancelled)
			remember_failure(e, b, msg);
	} else {
		log_msg(LOG_LEVEL_INFO, "dependency environment %s built with %s", b->name,
			b->installer);
	}
	/* Each waiter may start its job at once: the list is taken first. */
	struct envs_wait *w = b->waiters;
	b->waiters = NULL;
	while (w) {
		struct envs_wait *next = w->next;
		struct env_ref ref;
		if (ok) {
			fill_ref(&ref, b->name, b->final, b->installer, false);
			mark_used(e, b->name, b->final);
		}
		w->done(w->data, ok ? &ref : NULL, ok ? NULL : msg);
		free(w);
		w = next;
	}
	unlink_build(e, b); /* already out of the list: frees it */
	if (ok)
		evict(e);
}

static int start_build(struct envs *e, const struct env_request *req, const char *name,
		       const char *final, struct build **out, struct pm_error *err)
{
	const struct interp_info *info;
	struct build *b;
	int r;

	if ((r = interp_info_get(req->interpreter, &info, err)) < 0)
		return r;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return pm_error_set(err, "environment", ENOMEM, "environment");
	b->e = e;
	snprintf(b->name, sizeof(b->name), "%s", name);
	snprintf(b->final, sizeof(b->final), "%s", final);
	snprintf(b->tmp, sizeof(b->tmp), "%s/.build-%s-%08x", e->dir, name, pm_random_u32());
	b->interpreter = strdup(req->interpreter);
	b->set = json_deep_copy(req->set);
	b->installer = req->use_uv && e->cfg.uv ? "uv" : "pip";
	b->next = e->builds;
	e->builds = b;
	if (b->interpreter == NULL || b->set == NULL) {
		unlink_build(e, b);
		return pm_error_set(err, "environment", ENOMEM, "environment");
	}
	if (mkdir(b->tmp, 0755) < 0) {
		pm_error_errno(err, "environment", "create `%s`", b->tmp);
		unlink_build(e, b);
		return pm_error_code(err);
	}
	if ((r = env_build_skeleton(b->tmp, b->interpreter, info->version, err)) < 0) {
		discard(e, b->tmp);
		unlink_build(e, b);
		return r;
	}
	*out = b;
	return 0;
}

int envs_acquire(struct envs *e, const struct env_request *req, envs_done_fn done, void *data,
		 struct envs_wait **wait, struct env_ref *ref, struct pm_error *err)
{
	char key[PM_SHA256_HEX];
	const char *py = strrchr(req->interpreter, '/');
	char installer[8];
	int r;

	py = py ? py + 1 : req->interpreter;
	req_set_key(req->interpreter, req->set, key);
	const struct failure *f = req->guess ? remembered(e, req) : NULL;
	if (f != NULL)
		return pm_error_set(err, "environment", EAGAIN,
				    "%s (remembered from an install "
				    "%.0f s ago; retried after %d s, or at once with explicit "
				    "`dependencies`)",
				    f->message, difftime(time(NULL), f->at), ENVS_GUESS_RETRY);
	for (unsigned slot = 0; slot < SLOTS; slot++) {
		char name[64], final[PATH_MAX];
		struct build *b;

		/* 128 bits of the key are plenty for a name. */
		snprintf(name, sizeof(name), slot ? "%s-%.32s-%u" : "%s-%.32s", py, key, slot);
		snprintf(final, sizeof(final), "%s/%s", e->dir, name);
		/* A build being cancelled is nobody's: a new request starts
		 * another (its directory name is its own). */
		for (b = e->builds; b; b = b->next)
			if (!b->cancelling && strcmp(b->name, name) == 0)
				break;
		if (b &&
		    (strcmp(b->interpreter, req->interpreter) || !json_equal(b->set, req->set)))
			continue;
		if (b == NULL) {
			r = manifest_matches(final, req->interpreter, req->set, installer,
					     sizeof(installer));
			if (r < 0)
				continue;
			if (r == 1) {
				fill_ref(ref, name, final, installer, true);
				mark_used(e, name, final);
				return 1;
			}
			if ((r = start_build(e, req, name, final, &b, err)) < 0)
				return r;
			b->guess = req->guess;
		}
		struct envs_wait *w = calloc(1, sizeof(*w));
		if (w == NULL)
			return pm_error_set(err, "environment", ENOMEM, "environment");
		*w = (struct envs_wait){.b = b, .done = done, .data = data, .next = b->waiters};
		b->waiters = w;
		*wait = w;
		/* A new build starts once its first waiter is in: the task may
		 * end at once (no launcher can start) and tell it. */
		if (b->task == NULL) {
			struct runner_task_config task = {.policy = e->cfg.install_policy,
							  .output = on_install_output,
							  .done = on_install_done,
							  .data = b};
			struct env_build_config bc = {
			    .uv = strcmp(b->installer, "uv") == 0 ? e->cfg.uv : NULL,
			    .timeout = e->cfg.install_timeout,
			    .protected_paths = e->cfg.protected_paths,
			    .n_protected = e->cfg.n_protected};
			json_t *spec = env_build_spec(b->tmp, b->set, &bc);
			if (runner_start_task(e->runner, spec, &task, &b->task, err) < 0) {
				b->waiters = NULL;
				free(w);
				discard(e, b->tmp);
				unlink_build(e, b);
				return pm_error_code(err);
			}
		}
		return 0;
	}
	pm_error_set(err, "environment", EEXIST,
		     "every slot for this dependency set in `%s` holds another set", e->dir);
	return pm_error_hint(err,
			     "remove the `%s-%.32s*` folders there (or prune old "
			     "environments with py_prune_jobs)",
			     py, key);
}

void envs_cancel_wait(struct envs *e, struct envs_wait *w)
{
	struct build *b = w->b;

	(void)e;
	for (struct envs_wait **pp = &b->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			free(w);
			break;
		}
	}
	/* Nobody wants it any more; on_install_done() frees the build. */
	if (b->waiters == NULL && b->task && !b->cancelling) {
		b->cancelling = true;
		runner_cancel_task(e->runner, b->task);
	}
}

int envs_prune(struct envs *e, double max_age_seconds, unsigned *removed, struct pm_error *err)
{
	_cleanup_json_ json_t *names = json_array();
	time_t now = time(NULL);
	struct dirent *de;
	size_t i;
	json_t *v;

	*removed = 0;
	/* Names first: removals rename entries aside (.trash-*), which a
	 * listing in progress could show again. */
	{
		_cleanup_(closedir_p) DIR *d = opendir(e->dir);
		if (d == NULL)
			return pm_error_errno(err, "environment", "open `%s`", e->dir);
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				json_array_append_new(names, json_string(de->d_name));
	}
	json_array_foreach (names, i, v) {
		const char *name = json_string_value(v);
		char path[PATH_MAX], file[PATH_MAX];
		struct stat st;
		bool building = false;
		snprintf(path, sizeof(path), "%s/%s", e->dir, name);
		for (struct build *b = e->builds; b; b = b->next)
			building = building || strcmp(b->tmp, path) == 0;
		/* Leftovers of interrupted builds and removals: this server
		 * holds the state directory, so what it is not building is
		 * nobody's. */
		if (name[0] == '.') {
			if (building)
				continue;
			if (strncmp(name, ".trash-", 7) == 0)
				remove_tree_async(e->cfg.loop, path);
			else if (strncmp(name, ".build-", 7) == 0)
				discard(e, path);
			continue;
		}
		snprintf(file, sizeof(file), "%s/" MANIFEST, path);
		if (lstat(file, &st) < 0 || difftime(now, st.st_mtime) <= max_age_seconds ||
		    in_use(e, name))
			continue;
		discard(e, path);
		(*removed)++;
	}
	return 0;
}

int envs_new(struct runner *runner, const struct envs_config *cfg, struct envs **out,
	     struct pm_error *err)
{
	struct envs *e = calloc(1, sizeof(*e));

	if (e == NULL || (e->dir = strdup(cfg->dir)) == NULL ||
	    (e->install_policy = strdup(cfg->install_policy)) == NULL) {
		if (e)
			free(e->dir);
		free(e);
		return pm_error_set(err, "environment", ENOMEM, "environments");
	}
	if (mkdir(e->dir, 0755) < 0 && errno != EEXIST) {
		pm_error_errno(err, "environment", "create `%s`", e->dir);
		free(e->dir);
		free(e);
		return pm_error_code(err);
	}
	e->runner = runner;
	e->cfg = *cfg;
	e->cfg.dir = e->dir;
	e->cfg.install_policy = e->install_policy;
	/* Builds and removals interrupted by a crash go (no environment is
	 * that old). */
	unsigned ignored;
	envs_prune(e, 1e18, &ignored, err);
	*out = e;
	return 0;
}

/* After the runner has stopped: every build has ended by then. */
void envs_free(struct envs *e)
{
	if (e == NULL)
		return;
	while (e->builds) {
		discard(e, e->builds->tmp);
		unlink_build(e, e->builds);
	}
	while (e->failures) {
		struct failure *f = e->failures;
		e->failures = f->next;
		failure_free(f);
	}
	while (e->uses) {
		struct use *u = e->uses;
		e->uses = u->next;
		free(u);
	}
	free(e->dir);
	free(e->install_policy);
	free(e);
}

int envs_set_install_policy(struct envs *e, const char *policy, struct pm_error *err)
{
	char *copy = strdup(policy);

	if (copy == NULL)
		return pm_error_set(err, "environment", ENOMEM, "the new install policy");
	free(e->install_policy);
	e->cfg.install_policy = e->install_policy = copy;
	return 0;
}
