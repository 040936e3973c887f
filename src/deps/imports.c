#include "imports.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "requirements.h"
#include "interp_info.h"

/* Import names whose distribution is called something else. */
static const char *const distributions[][2] = {
    {"Bio", "biopython"},
    {"Crypto", "pycryptodome"},
    {"MySQLdb", "mysqlclient"},
    {"OpenSSL", "pyOpenSSL"},
    {"PIL", "Pillow"},
    {"attr", "attrs"},
    {"bs4", "beautifulsoup4"},
    {"cv2", "opencv-python"},
    {"dateutil", "python-dateutil"},
    {"docx", "python-docx"},
    {"dotenv", "python-dotenv"},
    {"faiss", "faiss-cpu"},
    {"fitz", "PyMuPDF"},
    {"gi", "PyGObject"},
    {"git", "GitPython"},
    {"jose", "python-jose"},
    {"jwt", "PyJWT"},
    {"kafka", "kafka-python"},
    {"ldap", "python-ldap"},
    {"magic", "python-magic"},
    {"multipart", "python-multipart"},
    {"nacl", "PyNaCl"},
    {"pkg_resources", "setuptools"},
    {"pptx", "python-pptx"},
    {"psycopg2", "psycopg2-binary"},
    {"serial", "pyserial"},
    {"skimage", "scikit-image"},
    {"sklearn", "scikit-learn"},
    {"slugify", "python-slugify"},
    {"socks", "PySocks"},
    {"telegram", "python-telegram-bot"},
    {"usb", "pyusb"},
    {"websocket", "websocket-client"},
    {"wx", "wxPython"},
    {"yaml", "PyYAML"},
    {"zmq", "pyzmq"},
};

const char *imports_distribution(const char *module)
{
	for (size_t i = 0; i < sizeof(distributions) / sizeof(*distributions); i++)
		if (strcmp(distributions[i][0], module) == 0)
			return distributions[i][1];
	return module;
}

static void add_sorted(json_t *list, const char *s, size_t n)
{
	size_t i, at;
	json_t *v;

	at = json_array_size(list);
	json_array_foreach (list, i, v) {
		int c = strncmp(s, json_string_value(v), n);
		if (c == 0 && json_string_length(v) == n)
			return;
		if (c < 0 || (c == 0 && json_string_length(v) > n)) {
			at = i;
			break;
		}
	}
	json_array_insert_new(list, at, json_stringn(s, n));
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\f'))
		p++;
	return p;
}

static bool ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static bool keyword(const char *p, const char *end, const char *kw)
{
	size_t n = strlen(kw);

	return (size_t)(end - p) > n && strncmp(p, kw, n) == 0 && !ident_char(p[n]);
}

/* One statement of a logical line (from p to end): records what it
 * imports. */
static void statement(const char *p, const char *end, json_t *modules)
{
	p = skip_space(p, end);
	if (keyword(p, end, "from")) {
		p = skip_space(p + 4, end);
		if (p < end && ident_start(*p)) {
			const char *s = p;
			while (p < end && ident_char(*p))
				p++;
			add_sorted(modules, s, (size_t)(p - s));
		}
		return;
	}
	if (!keyword(p, end, "import"))
		return;
	p += 6;
	/* "a.b as c, d": the first component of each dotted name. */
	for (;;) {
		p = skip_space(p, end);
		while (p < end && *p == '(')
			p = skip_space(p + 1, end);
		if (p >= end || !ident_start(*p))
			return;
		const char *s = p;
		while (p < end && ident_char(*p))
			p++;
		add_sorted(modules, s, (size_t)(p - s));
		while (p < end && *p != ',')
			p++;
		if (p >= end)
			return;
		p++;
	}
}

/* Splits a logical line into statements at `;` outside strings and
 * stops at a comment. */
static void logical_line(const char *p, const char *end, json_t *modules)
{
	const char *stmt = p;
	char quote = 0;

	for (; p < end; p++) {
		if (quote) {
			if (*p == '\\')
				p++;
			else if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '#') {
			break;
		} else if (*p == ';') {
			statement(stmt, p, modules);
			stmt = p + 1;
		}
	}
	statement(stmt, p, modules);
}

void imports_scan(const char *source, size_t len, json_t *modules)
{
	const char *p = source, *end = source + len;
	const char *triple = NULL; /* the closing delimiter while inside one */
	char line[8192];

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = 0;
		if (eol == NULL)
			eol = end;
		/* Joins backslash continuations and open parentheses into one
		 * logical line (bounded; a longer one is cut). */
		int depth = 0;
		for (;;) {
			for (const char *c = p; c < eol && n < sizeof(line) - 1; c++) {
				if (!triple && (*c == '(' || *c == '['))
					depth++;
				else if (!triple && (*c == ')' || *c == ']') && depth > 0)
					depth--;
				line[n++] = *c;
			}
			p = eol < end ? eol + 1 : end;
			bool cont = n > 0 && line[n - 1] == '\\';
			if ((!cont && depth == 0) || p >= end)
				break;
			if (cont)
				n--;
			line[n < sizeof(line) - 1 ? n++ : n] = ' ';
			if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
				eol = end;
		}
		/* Triple-quoted text is not code: skip to its end, then scan
		 * what follows it on the line. */
		const char *s = line, *e = line + n;
		while (s < e) {
			if (triple) {
				const char *close = memmem(s, (size_t)(e - s), triple, 3);
				if (close == NULL) {
					s = e;
					break;
				}
				s = close + 3;
				triple = NULL;
				continue;
			}
			const char *d1 = memmem(s, (size_t)(e - s), "\"\"\"", 3);
			const char *d2 = memmem(s, (size_t)(e - s), "'''", 3);
			const char *open = d1 && (!d2 || d1 < d2) ? d1 : d2;
			logical_line(s, open ? open : e, modules);
			if (open == NULL)
				break;
			triple = open == d1 ? "\"\"\"" : "'''";
			s = open + 3;
		}
	}
}

/* Looked up in the workspace without following links: a link the job
 * planted is the job's own module, and its target is none of our
 * business (the server must not probe host paths for a job). */
static bool local_module(int dirfd, const char *module)
{
	char name[512];
	struct stat st;

	if (dirfd < 0)
		return false;
	snprintf(name, sizeof(name), "%s.py", module);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return true;
	return fstatat(dirfd, module, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode));
}

int imports_requirements(const char *interpreter, const char *source, size_t len, int local_dirfd,
			 json_t *set, struct pm_error *err)
{
	const struct interp_info *info;
	json_t *modules, *v;
	size_t i;
	int r;

	if ((r = interp_info_get(interpreter, &info, err)) < 0)
		return r;
	if ((modules = json_array()) == NULL)
		return pm_error_set(err, "imports", ENOMEM, "imports");
	imports_scan(source, len, modules);
	json_array_foreach (modules, i, v) {
		const char *m = json_string_value(v);
		/* Installed already (the standard library, the system's
		 * site-packages) or the script's own module: nothing to do. */
		if (json_object_get(info->stdlib, m) || json_object_get(info->importable, m) ||
		    strcmp(m, "__main__") == 0 || local_module(local_dirfd, m))
			continue;
		/* A guess that is no distribution name (`_private`) is dropped;
		 * past the cap the rest is. */
		if (json_array_size(set) >= REQ_MAX_COUNT)
			break;
		struct pm_error ignored = {0};
		req_set_add(set, imports_distribution(m), &ignored);
	}
	json_decref(modules);
	return 0;
}
