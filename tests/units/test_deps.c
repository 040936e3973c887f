/* Requirement normalization, the import scanner and its name mapping,
 * and requires-python matching. */
#include <jansson.h>

#include "check.h"
#include "imports.h"
#include "pyver.h"
#include "requirements.h"

static void normalized(const char *in, const char *want)
{
	char out[REQ_NORM_SIZE];
	struct sb_error err = {0};

	CHECK_MSG(req_normalize(in, out, &err) == 0, "`%s`: %s", in, err.message);
	CHECK_STR(out, want);
}

static void refused(const char *in, const char *needle)
{
	char out[REQ_NORM_SIZE];
	struct sb_error err = {0};

	CHECK_MSG(req_normalize(in, out, &err) < 0, "`%s` accepted as `%s`", in, out);
	CHECK_MSG(strstr(err.message, needle) != NULL, "`%s`: message `%s` lacks `%s`", in,
		  err.message, needle);
}

static void test_requirements(void)
{
	struct sb_error err = {0};

	normalized("Requests", "requests");
	normalized("  python_dateutil >= 2.8 , < 3 ", "python-dateutil>=2.8,<3");
	normalized("Foo.Bar__baz[Extra1, extra2]==1.0", "foo-bar-baz[Extra1,extra2]==1.0");
	normalized("pkg ; python_version >= '3.8'", "pkg; python_version >= '3.8'");
	normalized("pkg @ https://example.org/pkg-1.0.whl",
		   "pkg @ https://example.org/pkg-1.0.whl");
	refused("--index-url=http://evil", "does not start with a package name");
	refused("-r /etc/passwd", "does not start with a package name");
	refused("./local/dir", "does not start with a package name");
	refused("/abs/path.whl", "does not start with a package name");
	refused("", "empty");
	refused("pkg\nother", "control");
	refused("pkg-", "ends with a letter or digit");
	refused("file:///tmp/x.whl", "`:` follows the name");
	refused("https://example.org/x.whl", "`:` follows the name");
	refused("git+https://example.org/x", "`+` follows the name");
	refused("tmp/../../x.whl", "`/` follows the name");
	refused("pkg 1.0", "`1` follows the name");

	/* Sets: sorted, deduplicated after normalization. */
	json_t *given = json_pack("[s, s, s]", "Zeta", "alpha", "ZETA");
	json_t *set = req_set_new(given, &err);
	CHECK(set != NULL && json_array_size(set) == 2);
	CHECK_STR(json_string_value(json_array_get(set, 0)), "alpha");
	CHECK_STR(json_string_value(json_array_get(set, 1)), "zeta");
	/* The same set spelled otherwise names the same environment; another
	 * interpreter or set does not. */
	json_t *given2 = json_pack("[s, s]", "ALPHA", "zeta");
	json_t *set2 = req_set_new(given2, &err);
	CHECK(req_set_hash("/usr/bin/python3", set) == req_set_hash("/usr/bin/python3", set2));
	CHECK(req_set_hash("/usr/bin/python3", set) != req_set_hash("/usr/bin/python3.11", set));
	json_t *bad = json_pack("[s, i]", "a", 1);
	CHECK(req_set_new(bad, &err) == NULL && strstr(err.message, "dependencies[1]"));
	char name[64];
	req_name("foo-bar[x]>=1", name, sizeof(name));
	CHECK_STR(name, "foo-bar");
	json_decref(given);
	json_decref(given2);
	json_decref(set);
	json_decref(set2);
	json_decref(bad);
}

static void scanned(const char *source, const char *want)
{
	json_t *mods = json_array();
	char got[1024] = "";
	size_t i;
	json_t *v;

	imports_scan(source, strlen(source), mods);
	json_array_foreach (mods, i, v) {
		size_t n = strlen(got);
		snprintf(got + n, sizeof(got) - n, "%s%s", i ? " " : "", json_string_value(v));
	}
	CHECK_MSG(strcmp(got, want) == 0, "scan of:\n%s\n  got:      %s\n  expected: %s", source,
		  got, want);
	json_decref(mods);
}

static void test_imports(void)
{
	scanned("import os, sys as s\nimport numpy.linalg as la\n", "numpy os sys");
	scanned("from yaml import safe_load\nfrom . import sibling\nfrom .x import y\n", "yaml");
	scanned("def f():\n    import requests\n    return 1\n", "requests");
	scanned("try:\n\timport ujson as json\nexcept ImportError:\n\timport json\n", "json ujson");
	scanned("\"\"\"Docs.\nimport notreal\n\"\"\"\nimport real\n", "real");
	scanned("x = '''\nimport notreal\n'''; import real2\n", "real2");
	scanned("# import commented\nprint('import quoted')\n", "");
	scanned("import a; import b\nfrom c import (d,\n    e)\nimport f\n", "a b c f");
	scanned("import \\\n    g\n", "g");
	scanned("from __future__ import annotations\n", "__future__");
	scanned("important = 1\nfromage = 2\n", "");

	CHECK_STR(imports_distribution("yaml"), "PyYAML");
	CHECK_STR(imports_distribution("PIL"), "Pillow");
	CHECK_STR(imports_distribution("sklearn"), "scikit-learn");
	CHECK_STR(imports_distribution("cv2"), "opencv-python");
	CHECK_STR(imports_distribution("bs4"), "beautifulsoup4");
	CHECK_STR(imports_distribution("dateutil"), "python-dateutil");
	CHECK_STR(imports_distribution("numpy"), "numpy");

	/* The standard library comes from the interpreter itself. */
	struct sb_error err = {0};
	json_t *set = json_array();
	/* telegram: a mapped name that no package this suite installs
	 * provides (a host with python3-pil has PIL installed, which is then
	 * rightly not guessed). */
	const char *src = "import os, json, asyncio, tomllib\nimport yaml_but_not_installed\n"
			  "import telegram\nimport _private_guess\n";
	CHECK_MSG(imports_requirements("/usr/bin/python3", src, strlen(src), NULL, set, &err) == 0,
		  "%s", err.message);
	CHECK_MSG(json_array_size(set) == 2, "%zu requirements", json_array_size(set));
	CHECK_STR(json_string_value(json_array_get(set, 0)), "python-telegram-bot");
	CHECK_STR(json_string_value(json_array_get(set, 1)), "yaml-but-not-installed");
	json_decref(set);
}

static void matches(const char *spec, const char *version, bool want)
{
	struct sb_error err = {0};
	bool ok = !want;

	CHECK_MSG(pyver_satisfies(spec, version, &ok, &err) == 0, "%s: %s", spec, err.message);
	CHECK_MSG(ok == want, "`%s` on %s: got %d", spec, version, ok);
}

static void test_pyver(void)
{
	struct sb_error err = {0};
	bool ok;

	matches(">=3.11", "3.11.2", true);
	matches(">=3.12", "3.11.2", false);
	matches(">=3.10,<3.13", "3.11.2", true);
	matches(">= 3.10, < 3.11", "3.11.2", false);
	matches("==3.11.*", "3.11.2", true);
	matches("==3.1.*", "3.11.2", false);
	matches("!=3.11.2", "3.11.2", false);
	matches("~=3.10", "3.11.2", true);
	matches("~=3.11.3", "3.11.2", false);
	matches("==3.11", "3.11.0", true);
	matches(">3.11", "3.11.2", true);
	CHECK(pyver_satisfies(">>3", "3.11.2", &ok, &err) < 0 && strstr(err.message, ">>3"));
	CHECK(pyver_satisfies(">=3.x", "3.11.2", &ok, &err) < 0);
}

int main(void)
{
	test_requirements();
	test_imports();
	test_pyver();
	return check_done("units.deps");
}
