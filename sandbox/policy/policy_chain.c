/* Reading a policy with the chain of bases it extends, and merging them
 * (policy_chain.h has the rules).  A base is hostile input like any
 * policy: it must be a regular file, is read up to the same size cap, and
 * a chain is at most SB_POLICY_CHAIN_MAX files long, loops refused by the
 * identity (device and inode) of each file.
 */
#include "policy_chain.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "policy.h"
#include "policy_read.h"

#define MiB (INT64_C(1) << 20)

/* Policies are small; the cap keeps a wrong path (a log, a device) from
 * being read into memory whole. */
#define POLICY_MAX_BYTES (4 * MiB)

static const char *shipped_dir = PYMCP_SOURCE_DIR "/policies";

void sb_policy_set_shipped_dir(const char *dir)
{
	shipped_dir = dir;
}

const char *sb_policy_shipped_dir(void)
{
	return shipped_dir;
}

/* `what` names the file in messages ("policy `p.json`", or its base). */
static int read_all(int fd, const char *what, char **buf, size_t *len, struct pm_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t used = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (used == cap) {
			char *grown;

			if (cap >= POLICY_MAX_BYTES)
				return pm_error_set(err, "policy", 0,
						    "%s: larger than %lld MiB, not a policy", what,
						    (long long)(POLICY_MAX_BYTES / MiB));
			cap = cap == 0 ? 16384 : cap * 2;
			grown = realloc(data, cap + 1);
			if (grown == NULL)
				return pm_error_set(err, "policy", ENOMEM, "%s", what);
			data = grown;
		}
		n = read(fd, data + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pm_error_errno(err, "policy", "%s: cannot read", what);
		if (n == 0)
			break;
		used += (size_t)n;
	}
	data[used] = '\0';
	*buf = TAKE_PTR(data);
	*len = used;
	return 0;
}

/* The policy itself: any readable file (a pipe too), as it always was. */
static int read_policy_file(const char *file, char **text, size_t *len, struct stat *st,
			    struct pm_error *err)
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		int saved = errno;

		pm_error_set(err, "policy", saved, "policy `%s`: cannot open", file);
		if (saved == ENOENT)
			return pm_error_hint(err, "check the path; the project ships "
						  "`default.json` and `install.json` in its "
						  "policies/ directory");
		if (saved == EACCES)
			return pm_error_hint(err, "the user running the launcher must be able to "
						  "read the policy");
		return pm_error_code(err);
	}
	if (fstat(fd, st) < 0)
		return pm_error_errno(err, "policy", "policy `%s`: cannot stat", file);
	if (S_ISDIR(st->st_mode))
		return pm_error_set(err, "policy", EISDIR, "policy `%s`: cannot read", file);
	char what[PATH_MAX + 16];

	snprintf(what, sizeof(what), "policy `%s`", file);
	return read_all(fd, what, text, len, err);
}

/* jansson's message quotes a piece of the input; keep it on one line. */
static void one_line(char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

static int parse(struct sb_policy_chain *c, struct sb_policy_file *f, struct pm_error *err)
{
	json_error_t jerr;
	char where[PATH_MAX + 64];

	f->root = json_loadb(f->text, f->len, JSON_REJECT_DUPLICATES, &jerr);
	if (f->root != NULL)
		return 0;
	one_line(jerr.text);
	if (f == &c->files[0])
		snprintf(where, sizeof(where), "policy `%s`", f->name);
	else
		snprintf(where, sizeof(where), "policy `%s`, in its base `%s`", c->files[0].name,
			 f->name);
	if (jerr.line > 0)
		return pm_error_set(err, "policy", 0, "%s line %d: %s", where, jerr.line,
				    jerr.text);
	return pm_error_set(err, "policy", 0, "%s: %s", where, jerr.text);
}

/* Where "extends" points from the file `from`: a shipped policy's name
 * ("default"), or a path, relative to the directory of `from`. */
static int base_path(struct sb_reader *r, const char *from, const char *extends, char *out,
		     size_t size, bool *is_name)
{
	size_t len = strlen(extends);
	const char *slash = strrchr(from, '/');
	int n;

	if (len == 0)
		return sb_rd_fail(r, SB_JSON_VALUE, "expected a policy name or path, got \"\"");
	*is_name =
	    strchr(extends, '/') == NULL && (len < 5 || strcmp(extends + len - 5, ".json") != 0);
	if (*is_name) {
		if (strspn(extends, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len) {
			char quoted[96];

			sb_rd_fail(r, SB_JSON_VALUE, "`%s` is not the name of a shipped policy",
				   sb_rd_quote(extends, quoted, sizeof(quoted)));
			return pm_error_hint(r->err, "a name has lowercase letters, digits, `_` "
						     "and `-` (such as `default`); a path has a "
						     "`/` or ends in `.json`");
		}
		n = snprintf(out, size, "%s/%s.json", shipped_dir, extends);
	} else if (extends[0] == '/' || slash == NULL) {
		n = snprintf(out, size, "%s", extends);
	} else {
		n = snprintf(out, size, "%.*s/%s", (int)(slash - from), from, extends);
	}
	if (n < 0 || (size_t)n >= size)
		return sb_rd_fail(r, SB_JSON_VALUE, "the base's path is longer than %zu bytes",
				  size - 1);
	return 0;
}

static int open_base(struct sb_reader *r, const char *path, const char *extends, bool is_name,
		     struct sb_policy_chain *c, struct sb_policy_file *f, struct stat *st)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char quoted[96], quoted_path[PATH_MAX], base[PATH_MAX + 128];

	/* "`default` (`/usr/share/.../default.json`)", or the path once. */
	sb_rd_quote(extends, quoted, sizeof(quoted));
	if (strcmp(extends, path) == 0)
		snprintf(base, sizeof(base), "`%s`", quoted);
	else
		snprintf(base, sizeof(base), "`%s` (`%s`)", quoted,
			 sb_rd_quote(path, quoted_path, sizeof(quoted_path)));
	if (fd < 0 || fstat(fd, st) < 0) {
		int saved = errno;

		sb_rd_fail(r, SB_JSON_VALUE, "cannot open the base %s: %s", base, strerror(saved));
		r->err->errnum = saved;
		if (is_name)
			return pm_error_hint(r->err,
					     "the policies shipped with the launcher are "
					     "in `%s`; give a path (with a `/`) for "
					     "another file",
					     shipped_dir);
		return pm_error_hint(r->err, "a relative path is taken from the directory of the "
					     "policy that extends it");
	}
	if (!S_ISREG(st->st_mode))
		return sb_rd_fail(r, SB_JSON_VALUE, "the base %s is not a regular file", base);
	for (size_t i = 0; i < c->n; i++) {
		if (c->files[i].has_id && c->files[i].dev == st->st_dev &&
		    c->files[i].ino == st->st_ino) {
			sb_rd_fail(r, SB_JSON_VALUE, "the base %s is `%s` again: a loop", base,
				   c->files[i].name);
			return pm_error_hint(r->err, "a policy cannot extend itself or a policy "
						     "that extends it");
		}
	}
	if ((f->name = strdup(path)) == NULL)
		return sb_rd_oom(r);
	/* The slot is not counted in c->n until it is read: free it here. */
	char what[2 * PATH_MAX + 64];

	snprintf(what, sizeof(what), "the base `%s` of policy `%s`", path, c->files[0].name);
	int rc = read_all(fd, what, &f->text, &f->len, r->err);
	if (rc < 0) {
		free(f->name);
		f->name = NULL;
	}
	return rc;
}

/* Checks file `i` alone (an object of version 1) and adds its base, if it
 * names one, as file i + 1.  Returns 1 when it named none. */
static int add_base(struct sb_policy_chain *c, size_t i, struct pm_error *err)
{
	struct sb_policy_file *f = &c->files[i];
	struct sb_reader r = {.text = f->text,
			      .len = f->len,
			      .file = f->name,
			      .top = i > 0 ? c->files[0].name : NULL,
			      .err = err};
	char path[PATH_MAX];
	const char *extends;
	bool is_name = false;
	json_t *v;
	struct stat st;

	sb_json_path_init(&r.path);
	if (!json_is_object(f->root))
		return sb_rd_type_error(&r, f->root, "an object");
	SB_TRY(sb_policy_read_version(&r, f->root));
	if ((v = json_object_get(f->root, "extends")) == NULL)
		return 1;
	sb_json_path_push_key(&r.path, "extends");
	SB_TRY(sb_rd_string_value(&r, v, &extends));
	SB_TRY(base_path(&r, f->name, extends, path, sizeof(path), &is_name));
	if (c->n == SB_POLICY_CHAIN_MAX) {
		sb_rd_fail(&r, SB_JSON_VALUE, "more than %d policies extend one another",
			   SB_POLICY_CHAIN_MAX);
		return pm_error_hint(err, "shorten the chain of \"extends\"");
	}
	SB_TRY(open_base(&r, path, extends, is_name, c, &c->files[c->n], &st));
	c->files[c->n].has_id = true;
	c->files[c->n].dev = st.st_dev;
	c->files[c->n].ino = st.st_ino;
	c->n++;
	return parse(c, &c->files[c->n - 1], err);
}

/* --- merging, with the origin of every value --- */

struct merge {
	struct sb_policy_chain *c;
	size_t file;	    /* the file being merged in */
	struct sb_reader r; /* over that file; r.path is the path in it */
};

/* Origins are keyed by a path's text.  A path too long for ORIGIN_KEY_MAX
 * is not recorded (false): two such paths would share a cut key, and an
 * error would name the wrong file; its nearest recorded ancestor names
 * the file instead. */
#define ORIGIN_KEY_MAX 4096

static bool path_text(const struct sb_json_path *p, char *buf, size_t size)
{
	sb_json_path_format(p, buf, size);
	return strlen(buf) < size - 1;
}

/* Drops what is known of `mp` and everything below it: it is replaced. */
static void forget(struct merge *m, const struct sb_json_path *mp)
{
	char prefix[ORIGIN_KEY_MAX];
	const char *key;
	json_t *v;
	void *tmp;
	size_t len;

	if (!path_text(mp, prefix, sizeof(prefix)))
		return; /* nothing this long, nor below it, is recorded */
	len = strlen(prefix);
	json_object_foreach_safe (m->c->origins, tmp, key, v) {
		if (strncmp(key, prefix, len) == 0 &&
		    (key[len] == '\0' || key[len] == '.' || key[len] == '['))
			json_object_del(m->c->origins, key);
	}
}

/* Notes that the merged value at `mp` is file `file`'s value at `src`. */
static int record_origin(struct sb_policy_chain *c, const struct sb_json_path *mp, size_t file,
			 const struct sb_json_path *src)
{
	char key[ORIGIN_KEY_MAX];
	json_t *origin;
	size_t depth = src->depth < SB_JSON_PATH_MAX ? src->depth : SB_JSON_PATH_MAX;

	if (!path_text(mp, key, sizeof(key)))
		return 0;
	origin = json_array();
	if (origin == NULL || json_array_append_new(origin, json_integer((json_int_t)file)) < 0)
		goto oom;
	for (size_t d = 0; d < depth; d++) {
		const struct sb_json_step *s = &src->steps[d];
		json_t *step = s->kind == SB_JSON_STEP_KEY ? json_string(s->key)
							   : json_integer((json_int_t)s->index);
		if (json_array_append_new(origin, step) < 0)
			goto oom;
	}
	if (json_object_set_new(c->origins, key, origin) < 0)
		return -ENOMEM;
	return 0;
oom:
	json_decref(origin);
	return -ENOMEM;
}

/* The merged value at `mp` is the current file's at r.path. */
static int record(struct merge *m, const struct sb_json_path *mp)
{
	if (record_origin(m->c, mp, m->file, &m->r.path) < 0)
		return sb_rd_oom(&m->r);
	return 0;
}

/* The current file merges into the object at `mp`: errors about the
 * object as a whole (a required key it removed) are now its, while each
 * member keeps the origin it had. */
static int claim(struct merge *m, const json_t *into, struct sb_json_path *mp)
{
	const char *key;
	json_t *v;
	char text[ORIGIN_KEY_MAX];

	json_object_foreach ((json_t *)into, key, v) {
		struct sb_json_path src;
		size_t file;

		sb_json_path_push_key(mp, key);
		if (path_text(mp, text, sizeof(text)) &&
		    json_object_get(m->c->origins, text) == NULL) {
			file = sb_policy_chain_locate(m->c, mp, &src);
			if (record_origin(m->c, mp, file, &src) < 0)
				return sb_rd_oom(&m->r);
		}
		sb_json_path_pop(mp);
	}
	return record(m, mp);
}

static int merge_object(struct merge *m, json_t *into, struct sb_json_path *mp, const json_t *over);

/* `name+`: the base's array `name` (or none) with these elements after. */
static int append(struct merge *m, json_t *into, struct sb_json_path *mp, const char *key,
		  const json_t *over, const json_t *v)
{
	_cleanup_free_ char *name = strndup(key, strlen(key) - 1);
	char quoted[96];
	json_t *cur, *item;
	size_t base_n, j;

	if (name == NULL)
		return sb_rd_oom(&m->r);
	sb_rd_quote(name, quoted, sizeof(quoted));
	if (json_object_get(over, name) != NULL) {
		sb_rd_fail(&m->r, SB_JSON_KEY, "both `%s` and `%s+` are given", quoted, quoted);
		return pm_error_hint(m->r.err,
				     "`%s` replaces the base's array, `%s+` appends to "
				     "it; keep one",
				     quoted, quoted);
	}
	if (!json_is_array(v))
		return sb_rd_type_error(&m->r, v, "an array (to append to the base's)");
	sb_json_path_push_key(mp, name);
	cur = json_object_get(into, name);
	if (cur != NULL && !json_is_array(cur)) {
		sb_rd_fail(&m->r, SB_JSON_KEY, "appends to an array, but the base's `%s` is %s",
			   quoted, json_is_object(cur) ? "an object" : "not an array");
		return pm_error_hint(m->r.err, "`+` appends only to arrays; objects merge key "
					       "by key without it");
	}
	if (cur == NULL) {
		if (json_object_set_new(into, name, json_array()) < 0)
			return sb_rd_oom(&m->r);
		cur = json_object_get(into, name);
		forget(m, mp);
		SB_TRY(record(m, mp));
	}
	base_n = json_array_size(cur);
	json_array_foreach ((json_t *)v, j, item) {
		if (json_array_append_new(cur, json_deep_copy(item)) < 0)
			return sb_rd_oom(&m->r);
		sb_json_path_push_index(mp, base_n + j);
		sb_json_path_push_index(&m->r.path, j);
		SB_TRY(record(m, mp));
		sb_json_path_pop(&m->r.path);
		sb_json_path_pop(mp);
	}
	sb_json_path_pop(mp);
	return 0;
}

static int merge_member(struct merge *m, json_t *into, struct sb_json_path *mp, const char *key,
			const json_t *v)
{
	json_t *cur = json_object_get(into, key);
	json_t *copy;

	sb_json_path_push_key(mp, key);
	if (json_is_object(v) && json_is_object(cur)) {
		SB_TRY(merge_object(m, cur, mp, v));
	} else if (json_is_object(v)) {
		/* Merged into an empty object, so that `name+` inside it
		 * appends to nothing rather than staying a literal key. */
		if (cur != NULL)
			forget(m, mp);
		if (json_object_set_new(into, key, json_object()) < 0)
			return sb_rd_oom(&m->r);
		SB_TRY(record(m, mp));
		SB_TRY(merge_object(m, json_object_get(into, key), mp, v));
	} else {
		/* Nothing is known below a key the merged policy lacks: forget()
		 * walks every origin, and a new key each time would be
		 * quadratic. */
		if (cur != NULL)
			forget(m, mp);
		if (json_is_null(v)) {
			json_object_del(into, key);
		} else {
			if ((copy = json_deep_copy(v)) == NULL ||
			    json_object_set_new(into, key, copy) < 0)
				return sb_rd_oom(&m->r);
			SB_TRY(record(m, mp));
		}
	}
	sb_json_path_pop(mp);
	return 0;
}

static int merge_object(struct merge *m, json_t *into, struct sb_json_path *mp, const json_t *over)
{
	const char *key;
	json_t *v;

	SB_TRY(claim(m, into, mp));
	json_object_foreach ((json_t *)over, key, v) {
		size_t len = strlen(key);

		if (mp->depth == 0 && strcmp(key, "extends") == 0)
			continue;
		sb_json_path_push_key(&m->r.path, key);
		if (len > 1 && key[len - 1] == '+')
			SB_TRY(append(m, into, mp, key, over, v));
		else
			SB_TRY(merge_member(m, into, mp, key, v));
		sb_json_path_pop(&m->r.path);
	}
	return 0;
}

/* From the last base up to the policy itself. */
static int merge_chain(struct sb_policy_chain *c, struct pm_error *err)
{
	struct sb_json_path mp;
	size_t base = c->n - 1;

	c->origins = json_object();
	c->merged = json_deep_copy(c->files[base].root);
	if (c->origins == NULL || c->merged == NULL)
		return pm_error_set(err, "policy", ENOMEM, "policy `%s`", c->files[0].name);
	json_object_del(c->merged, "extends");
	sb_json_path_init(&mp);
	for (size_t i = base + 1; i-- > 0;) {
		struct merge m = {.c = c,
				  .file = i,
				  .r = {.text = c->files[i].text,
					.len = c->files[i].len,
					.file = c->files[i].name,
					.top = i > 0 ? c->files[0].name : NULL,
					.err = err}};

		sb_json_path_init(&m.r.path);
		if (i == base) {
			SB_TRY(record(&m, &mp));
			continue;
		}
		SB_TRY(merge_object(&m, c->merged, &mp, c->files[i].root));
	}
	/* A description says what its own file is for: a policy that gives
	 * none is not described by its base's words. */
	if (json_object_get(c->files[0].root, "description") == NULL)
		json_object_del(c->merged, "description");
	return 0;
}

int sb_policy_chain_load(const char *file, const char *text, size_t len, struct sb_policy_chain *c,
			 struct pm_error *err)
{
	struct sb_policy_file *top = &c->files[0];
	struct stat st;
	int r;

	memset(c, 0, sizeof(*c));
	if ((top->name = strdup(file)) == NULL)
		return pm_error_set(err, "policy", ENOMEM, "policy `%s`", file);
	c->n = 1;
	if (text != NULL) {
		if ((top->text = malloc(len + 1)) == NULL)
			return pm_error_set(err, "policy", ENOMEM, "policy `%s`", file);
		memcpy(top->text, text, len);
		top->text[len] = '\0';
		top->len = len;
	} else {
		SB_TRY(read_policy_file(file, &top->text, &top->len, &st, err));
		top->has_id = true;
		top->dev = st.st_dev;
		top->ino = st.st_ino;
	}
	SB_TRY(parse(c, top, err));
	for (size_t i = 0;; i++) {
		if ((r = add_base(c, i, err)) < 0)
			return r;
		if (r == 1)
			break;
	}
	if (c->n == 1) {
		c->merged = json_incref(top->root);
		return 0;
	}
	return merge_chain(c, err);
}

void sb_policy_chain_free(struct sb_policy_chain *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->files[i].name);
		free(c->files[i].text);
		json_decref(c->files[i].root);
	}
	json_decref(c->merged);
	json_decref(c->origins);
	memset(c, 0, sizeof(*c));
}

size_t sb_policy_chain_locate(const struct sb_policy_chain *c, const struct sb_json_path *path,
			      struct sb_json_path *in_file)
{
	size_t stored = path->depth < SB_JSON_PATH_MAX ? path->depth : SB_JSON_PATH_MAX;

	*in_file = *path;
	for (size_t d = stored + 1; c->origins != NULL && d-- > 0;) {
		struct sb_json_path prefix = *path;
		char key[ORIGIN_KEY_MAX];
		json_t *origin, *step;
		size_t i;

		prefix.depth = d;
		if (!path_text(&prefix, key, sizeof(key)) ||
		    (origin = json_object_get(c->origins, key)) == NULL)
			continue;
		sb_json_path_init(in_file);
		json_array_foreach (origin, i, step) {
			if (i == 0)
				continue;
			if (json_is_string(step))
				sb_json_path_push_key(in_file, json_string_value(step));
			else
				sb_json_path_push_index(in_file, (size_t)json_integer_value(step));
		}
		for (size_t k = d; k < path->depth; k++) {
			if (k >= SB_JSON_PATH_MAX)
				sb_json_path_push_key(in_file, "");
			else if (path->steps[k].kind == SB_JSON_STEP_KEY)
				sb_json_path_push_key(in_file, path->steps[k].key);
			else
				sb_json_path_push_index(in_file, path->steps[k].index);
		}
		return (size_t)json_integer_value(json_array_get(origin, 0));
	}
	return 0;
}
