#include "pep723.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hash.h"
#include "runner.h"
#include "wire.h"

/* Parsed headers kept; the oldest goes first. */
#define CACHE_MAX 256
/* TOML sent to one sandboxed run: a header is at most a script (4 MiB),
 * so a batch of large ones takes several runs, one after the other. */
#define CHUNK_BYTES (4 << 20)
/* A TOML parse takes milliseconds; this only bounds a stuck one. */
#define PARSE_TIMEOUT_SECONDS 30

#define INPUT_PATH "/tmp/pep723.json"

/* Runs in the sandbox under the run policy: reads a JSON array of TOML
 * texts and prints an array of the same length, for each text the two
 * fields PEP 723 defines or why it is not a valid header. */
static const char parser[] =
    "import json, sys\n"
    "try:\n"
    "    import tomllib\n"
    "except ImportError:\n"
    "    tomllib = None\n"
    "def header(text):\n"
    "    if tomllib is None:\n"
    "        return {'error': 'this interpreter has no tomllib: PEP 723 headers need "
    "Python 3.11 or newer to be read'}\n"
    "    try:\n"
    "        d = tomllib.loads(text)\n"
    "    except Exception as e:\n"
    "        return {'error': str(e) or type(e).__name__}\n"
    "    deps, rp = d.get('dependencies', []), d.get('requires-python')\n"
    "    if not isinstance(deps, list) or not all(isinstance(x, str) for x in deps):\n"
    "        return {'error': '`dependencies` must be an array of strings'}\n"
    "    if rp is not None and not isinstance(rp, str):\n"
    "        return {'error': '`requires-python` must be a string'}\n"
    "    return {'dependencies': deps, 'requires-python': rp}\n"
    "with open('" INPUT_PATH "', encoding='utf-8') as f:\n"
    "    texts = json.load(f)\n"
    "json.dump([header(t) for t in texts], sys.stdout, ensure_ascii=False)\n";

struct entry {
	char key[PM_SHA256_HEX];
	json_t *result; /* the parser's object, checked: fields or {"error"} */
};

struct pep723 {
	struct runner *runner;
	char *python;
	struct entry cache[CACHE_MAX];
	size_t next;
};

/* One pep723_parse call. */
struct batch {
	struct pep723 *p;
	size_t n;
	struct pep723_result *results;
	struct item {
		struct pep723_block block; /* toml: still to parse, or NULL */
		char key[PM_SHA256_HEX];
	} * items;
	size_t next;   /* items before it have been sent */
	size_t *chunk; /* indices of the items of the running task */
	size_t n_chunk;
	char *out; /* the running task's stdout */
	size_t len, out_max;
	bool overflow;
	pep723_done_fn done;
	void *data;
};

void scripts_header_free(struct script_header *h)
{
	json_decref(h->dependencies);
	free(h->requires_python);
	h->dependencies = NULL;
	h->requires_python = NULL;
}

struct pep723 *pep723_new(struct runner *runner, const char *python)
{
	struct pep723 *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->python = strdup(python)) == NULL) {
		free(p);
		return NULL;
	}
	p->runner = runner;
	return p;
}

void pep723_free(struct pep723 *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < CACHE_MAX; i++)
		json_decref(p->cache[i].result);
	free(p->python);
	free(p);
}

/* ---- finding the block ---- */

static bool is_line(const char *line, size_t n, const char *want)
{
	size_t w = strlen(want);

	if (n > 0 && line[n - 1] == '\r')
		n--;
	return n == w && strncmp(line, want, w) == 0;
}

int pep723_find(const char *source, struct pep723_block *block, struct pm_error *err)
{
	char **toml = &block->toml;
	unsigned *first_line = &block->first_line;
	_cleanup_free_ char *out = NULL;
	unsigned line_no = 0, start = 0;
	bool inside = false;
	size_t len = 0;

	*toml = NULL;
	*first_line = 0;
	for (const char *line = source; *line;) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);

		line_no++;
		if (!inside && is_line(line, n, "# /// script")) {
			if (start != 0) {
				pm_error_set(err, "header", EINVAL,
					     "PEP 723 header: a second `# /// "
					     "script` block at line %u",
					     line_no);
				pm_error_hint(err, "a script has at most one such block");
				goto fail;
			}
			if ((out = malloc(strlen(source) + 1)) == NULL)
				return pm_error_set(err, "header", ENOMEM, "PEP 723 header");
			inside = true;
			start = line_no;
		} else if (inside && is_line(line, n, "# ///")) {
			out[len] = '\0';
			*toml = TAKE_PTR(out);
			*first_line = start + 1;
			inside = false;
		} else if (inside) {
			/* Each line of the block is "#" or "# " and TOML. */
			if (line[0] != '#' || (n > 1 && line[1] != ' ' && line[1] != '\r')) {
				pm_error_set(err, "header", EINVAL,
					     "PEP 723 header, line %u: `%.*s` "
					     "is not a comment line (`#` or `# ...`)",
					     line_no, (int)(n > 40 ? 40 : n), line);
				pm_error_hint(err, "close the block with `# ///`");
				goto fail;
			}
			size_t skip = n > 1 && line[1] == ' ' ? 2 : 1;
			memcpy(out + len, line + skip, n - skip);
			len += n - skip;
			out[len++] = '\n';
		}
		line = eol ? eol + 1 : line + n;
	}
	if (!inside)
		return 0;
	pm_error_set(err, "header", EINVAL,
		     "PEP 723 header: the block opened at line %u is "
		     "never closed",
		     start);
	pm_error_hint(err, "end it with a line `# ///`");
fail:
	free(*toml);
	*toml = NULL;
	*first_line = 0;
	return pm_error_code(err);
}

/* ---- parsing it ---- */

static const json_t *cached(struct pep723 *p, const char *key)
{
	for (size_t i = 0; i < CACHE_MAX; i++)
		if (p->cache[i].result && strcmp(p->cache[i].key, key) == 0)
			return p->cache[i].result;
	return NULL;
}

static void remember(struct pep723 *p, const char *key, json_t *result)
{
	struct entry *e = &p->cache[p->next];

	p->next = (p->next + 1) % CACHE_MAX;
	json_decref(e->result);
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->result = json_incref(result);
}

/* What the parser said may only be its fields, of the right types (it
 * ran in the sandbox: its output is checked like a client's). */
static bool well_formed(const json_t *r)
{
	const json_t *deps = json_object_get(r, "dependencies");
	const json_t *rp = json_object_get(r, "requires-python");
	const json_t *v;
	size_t i;

	if (!json_is_object(r))
		return false;
	if (json_is_string(json_object_get(r, "error")))
		return true;
	if (!json_is_array(deps) || (!json_is_null(rp) && !json_is_string(rp)))
		return false;
	json_array_foreach (deps, i, v)
		if (!json_is_string(v))
			return false;
	return true;
}

/* results[i] from the parser's object for item i: the header, or the
 * error with the script's line when the TOML names one. */
static void apply(struct batch *b, size_t i, const json_t *r)
{
	struct pep723_result *res = &b->results[i];
	const char *error = json_string_value(json_object_get(r, "error"));
	const json_t *rp = json_object_get(r, "requires-python");
	const char *where = error ? strstr(error, "(at line ") : NULL;
	unsigned at = 0;

	if (error == NULL) {
		json_array_extend(res->header.dependencies, json_object_get(r, "dependencies"));
		res->header.requires_python =
		    json_is_string(rp) ? strdup(json_string_value(rp)) : NULL;
		res->ok = !json_is_string(rp) || res->header.requires_python != NULL;
		if (!res->ok)
			pm_error_set(&res->err, "header", ENOMEM, "PEP 723 header");
		return;
	}
	if (where && sscanf(where, "(at line %u", &at) == 1 && at > 0)
		pm_error_set(&res->err, "header", EINVAL,
			     "PEP 723 header: %s, that is line %u "
			     "of the script",
			     error, b->items[i].block.first_line + at - 1);
	else
		pm_error_set(&res->err, "header", EINVAL, "PEP 723 header: %s", error);
	pm_error_hint(&res->err, "the block is TOML (https://toml.io) behind `# `, e.g. "
				 "`# dependencies = [\"requests<3\"]`");
}

static void batch_free(struct batch *b);

static void finish(struct batch *b)
{
	b->done(b->data, b->results, b->n);
	batch_free(b);
}

static void fail_chunk(struct batch *b, const struct pm_error *err)
{
	for (size_t k = 0; k < b->n_chunk; k++)
		b->results[b->chunk[k]].err = *err;
}

static void run_next(struct batch *b);

static void on_output(void *data, enum job_stream s, const char *buf, size_t len)
{
	struct batch *b = data;

	if (s != JOB_STDOUT || b->overflow)
		return;
	if (b->len + len > b->out_max) {
		b->overflow = true;
		return;
	}
	char *grown = realloc(b->out, b->len + len + 1);
	if (grown == NULL) {
		b->overflow = true;
		return;
	}
	b->out = grown;
	memcpy(b->out + b->len, buf, len);
	b->len += len;
}

static void on_done(const struct run_outcome *o, void *data)
{
	struct batch *b = data;
	json_t *r = NULL;
	bool good;

	if (o->ran && o->exit_code == 0 && o->signal == 0 && !b->overflow && b->out)
		r = json_loadb(b->out, b->len, 0, NULL);
	good = json_array_size(r) == b->n_chunk;
	for (size_t k = 0; good && k < b->n_chunk; k++)
		good = well_formed(json_array_get(r, k));
	if (good) {
		for (size_t k = 0; k < b->n_chunk; k++) {
			size_t i = b->chunk[k];
			remember(b->p, b->items[i].key, json_array_get(r, k));
			apply(b, i, json_array_get(r, k));
		}
	} else {
		struct pm_error err = {0};

		pm_error_set(&err, "header", EIO, "PEP 723 header: the sandboxed parser %s",
			     o->cancelled ? "was stopped (the server is shutting down)"
			     : !o->ran	  ? o->error
			     : o->limit	  ? "hit a limit of the policy"
					  : "gave no answer");
		fail_chunk(b, &err);
	}
	json_decref(r);
	free(b->out);
	b->out = NULL;
	b->len = 0;
	b->overflow = false;
	run_next(b);
}

/* Sends the next items still to parse, as many as CHUNK_BYTES allows (at
 * least one), or finishes the batch when none is left. */
static void run_next(struct batch *b)
{
	struct pm_error err = {0};
	struct runner_task *task;
	json_t *texts = json_array();
	size_t bytes = 0;
	char *input;

	b->n_chunk = 0;
	for (; b->next < b->n; b->next++) {
		struct item *it = &b->items[b->next];
		size_t len = it->block.toml ? strlen(it->block.toml) : 0;

		if (it->block.toml == NULL)
			continue;
		if (b->n_chunk > 0 && bytes + len > CHUNK_BYTES)
			break;
		json_t *t = json_stringn(it->block.toml, len);
		if (t == NULL) {
			pm_error_set(&b->results[b->next].err, "header", EILSEQ,
				     "PEP 723 header: not UTF-8 text");
			continue;
		}
		json_array_append_new(texts, t);
		b->chunk[b->n_chunk++] = b->next;
		bytes += len;
	}
	if (b->n_chunk == 0) {
		json_decref(texts);
		finish(b);
		return;
	}
	/* JSON escapes control characters as six bytes; the rest is copied. */
	b->out_max = 6 * bytes + 64 * b->n_chunk + 4096;
	input = json_dumps(texts, JSON_COMPACT);
	json_decref(texts);
	json_t *spec =
	    input ? json_pack("{s:b, s:[s, s, s, s], s:f, s:{s:s}}", WIRE_SPEC_SCRATCH, 1,
			      WIRE_SPEC_ARGV, b->p->python, "-I", "-c", parser, WIRE_SPEC_TIMEOUT,
			      (double)PARSE_TIMEOUT_SECONDS, WIRE_SPEC_FILES, INPUT_PATH, input)
		  : NULL;
	free(input);
	const struct runner_task_config cfg = {.output = on_output, .done = on_done, .data = b};
	/* On failure the runner took the spec, and on_done does not run. */
	if (spec == NULL)
		pm_error_set(&err, "header", ENOMEM, "PEP 723 header");
	if (spec == NULL || runner_start_task(b->p->runner, spec, &cfg, &task, &err) < 0) {
		fail_chunk(b, &err);
		run_next(b);
	}
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; b->results && i < b->n; i++)
		scripts_header_free(&b->results[i].header);
	for (size_t i = 0; b->items && i < b->n; i++)
		free(b->items[i].block.toml);
	free(b->results);
	free(b->items);
	free(b->chunk);
	free(b->out);
	free(b);
}

/* Item i, from the cache when it is there. */
static int prepare(struct batch *b, size_t i, struct pep723_block *block)
{
	struct pep723_result *res = &b->results[i];
	struct item *it = &b->items[i];
	const json_t *r;

	if ((res->header.dependencies = json_array()) == NULL)
		return -ENOMEM;
	it->block = *block;
	block->toml = NULL;
	if (it->block.toml == NULL) {
		res->ok = true; /* no header: nothing needed */
		return 0;
	}
	pm_sha256_of(it->block.toml, strlen(it->block.toml), it->key);
	if ((r = cached(b->p, it->key)) != NULL) {
		apply(b, i, r);
		free(it->block.toml);
		it->block.toml = NULL;
	}
	return 0;
}

void pep723_parse(struct pep723 *p, struct pep723_block *blocks, size_t n, pep723_done_fn done,
		  void *data)
{
	struct batch *b = calloc(1, sizeof(*b));
	size_t size = n ? n : 1;
	int r = b ? 0 : -ENOMEM;

	if (b) {
		*b = (struct batch){.p = p, .n = n, .done = done, .data = data};
		b->results = calloc(size, sizeof(*b->results));
		b->items = calloc(size, sizeof(*b->items));
		b->chunk = calloc(size, sizeof(*b->chunk));
		if (!b->results || !b->items || !b->chunk)
			r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = prepare(b, i, &blocks[i]);
	if (r < 0) {
		for (size_t i = 0; i < n; i++) {
			free(blocks[i].toml);
			blocks[i].toml = NULL;
		}
		done(data, NULL, 0);
		if (b)
			batch_free(b);
		return;
	}
	run_next(b);
}
