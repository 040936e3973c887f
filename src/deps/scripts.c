#include "scripts.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "random.h"
#include "fence.h"

int scripts_file_name(const char *script_name, char **out, struct pm_error *err)
{
	const char *base = strrchr(script_name, '/');
	size_t len;

	base = base ? base + 1 : script_name;
	len = strlen(base);
	if (len == 0 || base[0] == '.' || len > 200) {
		pm_error_set(err, "script_name", EINVAL,
			     "script_name `%s` gives no usable file name", script_name);
		return pm_error_hint(err, "use a plain name such as `report` or `report.py` (no "
					  "leading dot, at most 200 characters)");
	}
	if (len > 3 && strcmp(base + len - 3, ".py") == 0)
		*out = strdup(base);
	else if (asprintf(out, "%s.py", base) < 0)
		*out = NULL;
	return *out ? 0 : pm_error_set(err, "script_name", ENOMEM, "script_name");
}

char *scripts_header(json_t *dependencies, const char *requires_python)
{
	size_t n = json_array_size(dependencies), i;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	json_t *d;

	if (n == 0 && (requires_python == NULL || requires_python[0] == '\0'))
		return NULL;
	f = open_memstream(&buf, &size);
	if (f == NULL)
		return NULL;
	fputs("# /// script\n", f);
	if (n > 0) {
		fputs("# dependencies = [\n", f);
		json_array_foreach (dependencies, i, d) {
			/* TOML basic strings: escape what would end them. */
			fputs("#   \"", f);
			for (const char *p = json_string_value(d); p && *p; p++) {
				if (*p == '"' || *p == '\\')
					fputc('\\', f);
				fputc(*p, f);
			}
			fputs("\",\n", f);
		}
		fputs("# ]\n", f);
	}
	if (requires_python && requires_python[0])
		fprintf(f, "# requires-python = \"%s\"\n", requires_python); /* checked by caller */
	fputs("# ///\n", f);
	fclose(f);
	return buf;
}

int scripts_check_requires_python(const char *spec, struct pm_error *err)
{
	/* A version specifier: digits, dots, operators, commas, spaces, "*".
	 * Anything else (quotes, newlines) would break the header. */
	if (spec == NULL || spec[strspn(spec, "0123456789.<>=!~,* ")] == '\0')
		return 0;
	pm_error_set(err, "requires_python", 0,
		     "requires_python `%s` is not a version "
		     "specifier",
		     spec);
	return pm_error_hint(err, "write it as PEP 440 says, e.g. \">=3.11\" or \">=3.10,<3.13\"");
}

bool scripts_has_header(const char *source)
{
	return strncmp(source, "# /// script", 12) == 0 || strstr(source, "\n# /// script") != NULL;
}

char *scripts_docstring(const char *source, size_t max)
{
	const char *p = source;
	char quote[4] = "";
	size_t qlen;

	/* Skip blank lines, comments (the shebang and a PEP 723 block are
	 * comments too) to the first statement. */
	for (;;) {
		p += strspn(p, " \t\r\n");
		if (*p != '#')
			break;
		p = strchr(p, '\n');
		if (p == NULL)
			return strdup("");
	}
	if (*p == 'r' || *p == 'R' || *p == 'u' || *p == 'U')
		p++;
	if (*p != '"' && *p != '\'')
		return strdup("");
	qlen = (p[1] == p[0] && p[2] == p[0]) ? 3 : 1;
	memcpy(quote, p, qlen);
	p += qlen;
	const char *end = strstr(p, quote);
	size_t n = end ? (size_t)(end - p) : strlen(p), chars = 0, cut = 0;
	/* At most `max` characters, never cutting one in two (the result
	 * goes into JSON, which must be valid UTF-8). */
	while (cut < n && chars < max) {
		cut++;
		while (cut < n && ((unsigned char)p[cut] & 0xC0) == 0x80)
			cut++;
		chars++;
	}
	n = cut;
	/* Trim leading and trailing blanks as inspect.cleandoc would. */
	while (n > 0 && strchr(" \t\r\n", *p)) {
		p++;
		n--;
	}
	while (n > 0 && strchr(" \t\r\n", p[n - 1]))
		n--;
	return strndup(p, n);
}

int scripts_write(const char *dir, const char *name, const char *source, bool overwrite,
		  struct pm_error *err)
{
	char path[4096], tmp[4200];
	int fd, r;

	if ((r = pm_mkdir(dir, 0700, "scripts", err)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!overwrite && access(path, F_OK) == 0)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s/.%s.%08x.tmp", dir, name, pm_random_u32());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return pm_error_errno(err, "scripts", "create `%s`", tmp);
	if ((r = pm_write_all(fd, source, strlen(source))) < 0) {
		close(fd);
		unlink(tmp);
		return pm_error_set(err, "scripts", -r, "write `%s`", tmp);
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		unlink(tmp);
		return pm_error_errno(err, "scripts", "write `%s`", tmp);
	}
	/* Without overwrite, link() refuses an existing target atomically. */
	if (!overwrite) {
		r = link(tmp, path);
		unlink(tmp);
		if (r < 0 && errno == EEXIST)
			return 0;
		if (r < 0)
			return pm_error_errno(err, "scripts", "save `%s`", path);
		return 1;
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return pm_error_errno(err, "scripts", "save `%s`", path);
	}
	return 1;
}

bool scripts_is_script_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len >= 4 && strcmp(name + len - 3, ".py") == 0;
}

bool scripts_exists(const char *dir, const char *name)
{
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	return dfd >= 0 && faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

size_t scripts_count(const char *dir)
{
	_cleanup_(closedir_p) DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += scripts_is_script_name(e->d_name);
	return n;
}

int scripts_read(const char *path, char **out, struct pm_error *err)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int dfd = -1;
	char *slash = dir ? strrchr(dir, '/') : NULL;
	size_t len;

	if (slash == NULL || slash == dir)
		return pm_error_set(err, "scripts", EINVAL, "script `%s`: not a path in a folder",
				    path);
	*slash = '\0';
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return pm_error_errno(err, "scripts", "scripts folder `%s`", dir);
	/* Never blocks on a FIFO, never follows a link out of the folder. */
	return pm_read_file_beneath(dfd, slash + 1, SCRIPTS_MAX_BYTES, "script", path, out, &len,
				    err);
}
