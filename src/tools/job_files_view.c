/* job-file://{job_id}/{path}: the files a run left in its directory
 * (artifacts.h), read back as resources, and shown in the run's result as
 * resource links and, for images, as image content.  The path is only a
 * key into the job's own `files` list: what is opened is the server's
 * copy, named by its number, so no path a client or job wrote reaches the
 * file system. */
#include "tools_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "cleanup.h"
#include "mime_sniff.h"
#include "utf8.h"

/* One kept file of a job's result. */
struct kept_file {
	struct job *job;
	size_t index;
	const char *mime; /* in the entry */
	uint64_t bytes;
};

static int hex(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* Percent-decodes in place; false on a bad escape or an escaped NUL. */
static bool unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s != '%') {
			*out++ = *s;
			continue;
		}
		int hi = hex(s[1]), lo = hi < 0 ? -1 : hex(s[2]);
		if (lo < 0 || (hi == 0 && lo == 0))
			return false;
		*out++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*out = '\0';
	return true;
}

/* The kept entry `uri` names, for `tenant` only: another tenant's job is
 * no job at all.  -ENOENT with err saying what is missing. */
static int find_kept(struct tools *t, const char *tenant, const char *uri, json_t **result_new,
		     struct kept_file *out, struct pm_error *err)
{
	const char *rest = uri, *slash = NULL;
	char id[40];
	json_t *files, *e;
	size_t i;

	*result_new = NULL;
	if (strncmp(uri, TOOLS_JOB_FILE_SCHEME, strlen(TOOLS_JOB_FILE_SCHEME)) == 0) {
		rest = uri + strlen(TOOLS_JOB_FILE_SCHEME);
		slash = strchr(rest, '/');
	}
	if (slash == NULL || slash == rest || (size_t)(slash - rest) >= sizeof(id) ||
	    slash[1] == '\0')
		return pm_error_set(err, "resources", ENOENT,
				    "`%.200s` is not of the form job-file://<job_id>/<path>", uri);
	memcpy(id, rest, (size_t)(slash - rest));
	id[slash - rest] = '\0';
	_cleanup_free_ char *path = strdup(slash + 1);
	if (path == NULL)
		return pm_error_set(err, "resources", ENOMEM, "uri");
	if (!unescape(path))
		return pm_error_set(err, "resources", ENOENT,
				    "`%.200s`: a bad %%-escape in the path", uri);
	if ((out->job = tools_job_of(t, tenant, id)) == NULL)
		return pm_error_set(err, "resources", ENOENT, "no job %s (py_list_jobs lists them)",
				    id);
	if (out->job->result == NULL ||
	    (*result_new = json_loads(out->job->result, 0, NULL)) == NULL)
		return pm_error_set(err, "resources", ENOENT, "job %s has no result (yet)", id);
	files = json_object_get(*result_new, "files");
	json_array_foreach (files, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "path")) ?: "", path) != 0)
			continue;
		if (json_object_get(e, "uri") == NULL)
			return pm_error_set(err, "resources", ENOENT,
					    "job %s did not keep `%.200s` (see files_note in its "
					    "result); read it in the workspace",
					    id, path);
		out->index = i;
		out->mime = json_string_value(json_object_get(e, "mime_type")) ?: "";
		out->bytes = (uint64_t)json_integer_value(json_object_get(e, "bytes"));
		return 0;
	}
	return pm_error_set(err, "resources", ENOENT,
			    "job %s lists no file `%.200s` (its result's `files` lists those it "
			    "keeps)",
			    id, path);
}

/* The kept copy's bytes (malloc'd), at most max. */
static int read_kept(struct tools *t, const struct kept_file *k, size_t max, char **out,
		     size_t *len, struct pm_error *err)
{
	_cleanup_close_ int fd = jobs_files_open(t->cfg.exec.jobs, k->job, k->index, err);
	struct stat st;
	size_t got = 0;

	*out = NULL;
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return pm_error_set(err, "resources", EIO, "file %zu of job %s", k->index,
				    k->job->id);
	if ((uint64_t)st.st_size > max)
		return pm_error_set(err, "resources", EFBIG,
				    "`%s` file %zu holds %lld bytes, more than the %zu a read "
				    "returns; read it in the workspace",
				    k->job->id, k->index, (long long)st.st_size, max);
	if ((*out = malloc((size_t)st.st_size + 1)) == NULL)
		return pm_error_set(err, "resources", ENOMEM, "reading a job's file");
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *out + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return 0;
}

int tools_read_job_file(const char *uri, const char *tenant, json_t **contents_new,
			struct pm_error *err, void *ctx)
{
	struct tools *t = ctx;
	_cleanup_json_ json_t *result = NULL;
	_cleanup_free_ char *data = NULL, *b64 = NULL;
	struct kept_file k;
	size_t len = 0;
	int r;

	*contents_new = NULL;
	if ((r = find_kept(t, tenant, uri, &result, &k, err)) < 0 ||
	    (r = read_kept(t, &k, TOOLS_JOB_FILE_READ_MAX, &data, &len, err)) < 0)
		return r;
	/* As text only when it reads as text: control characters would
	 * come out six bytes each in JSON, so such a file is a blob. */
	if (mime_is_text(k.mime) && utf8_valid_prefix(data, len, false) == len) {
		*contents_new = json_pack("[{s:s, s:s, s:s%}]", "uri", uri, "mimeType", k.mime,
					  "text", data, len);
	} else {
		if ((r = pm_base64_encode(data, len, &b64)) < 0)
			return pm_error_set(err, "resources", -r, "encoding a job's file");
		*contents_new =
		    json_pack("[{s:s, s:s, s:s}]", "uri", uri, "mimeType", k.mime, "blob", b64);
	}
	return *contents_new ? 0 : pm_error_set(err, "resources", ENOMEM, "a job's file");
}

/* An image block of the kept file, or NULL (too large, unreadable). */
static json_t *image_block(struct tools *t, const struct kept_file *k)
{
	_cleanup_free_ char *data = NULL, *b64 = NULL;
	struct pm_error err = {0};
	size_t len;

	if (k->bytes > t->cfg.image_max_bytes ||
	    read_kept(t, k, t->cfg.image_max_bytes, &data, &len, &err) < 0 ||
	    pm_base64_encode(data, len, &b64) < 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s}", "type", "image", "data", b64, "mimeType", k->mime);
}

json_t *tools_result_blocks(struct tools *t, const char *tenant, json_t *structured)
{
	json_t *files = json_object_get(structured, "files"), *blocks = json_array(), *e;
	unsigned images = 0;
	size_t i;

	/* A failed or cancelled run's result is inside the job's, and
	 * py_job_status shows the job's. */
	if (files == NULL)
		files = json_object_get(json_object_get(structured, "result"), "files");
	if (files == NULL)
		files = json_object_get(
		    json_object_get(json_object_get(structured, "job"), "result"), "files");
	json_array_foreach (files, i, e) {
		const char *uri = json_string_value(json_object_get(e, "uri"));
		const char *mime = json_string_value(json_object_get(e, "mime_type"));
		const char *path = json_string_value(json_object_get(e, "path"));
		_cleanup_json_ json_t *result = NULL;
		struct pm_error err = {0};
		struct kept_file k;

		if (uri == NULL || mime == NULL || path == NULL)
			continue;
		json_array_append_new(
		    blocks, json_pack("{s:s, s:s, s:s, s:s, s:I}", "type", "resource_link", "uri",
				      uri, "name", path, "mimeType", mime, "size",
				      json_object_get(e, "bytes")
					  ? json_integer_value(json_object_get(e, "bytes"))
					  : 0));
		if (images < t->cfg.max_images && mime_is_image(mime) &&
		    find_kept(t, tenant, uri, &result, &k, &err) == 0) {
			json_t *img = image_block(t, &k);
			if (img) {
				json_array_append_new(blocks, img);
				images++;
			}
		}
	}
	return blocks;
}
