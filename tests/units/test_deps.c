/* Requirement normalization, the import scanner and its name mapping,
 * requires-python matching, and loopback URLs. */
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "imports.h"
#include "loopback.h"
#include "pyver.h"
#include "requirements.h"

static void normalized(const char *in, const char *want)
{
	char out[REQ_NORM_SIZE];
	struct pm_error err = {0};

	CHECK_MSG(req_normalize(in, out, &err) == 0, "`%s`: %s", in, err.message);
	CHECK_STR(out, want);
}

static void refused(const char *in, const char *needle)
{
	char out[REQ_NORM_SIZE];
	struct pm_error err = {0};

	CHECK_MSG(req_normalize(in, out, &err) < 0, "`%s` accepted as `%s`", in, out);
	CHECK_MSG(strstr(err.message, needle) != NULL, "`%s`: message `%s` lacks `%s`", in,
		  err.message, needle);
}

static void test_requirements(void)
{
	struct pm_error err = {0};

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
	char k1[PM_SHA256_HEX], k2[PM_SHA256_HEX], k3[PM_SHA256_HEX];
	req_set_key("/usr/bin/python3", set, k1);
	req_set_key("/usr/bin/python3", set2, k2);
	req_set_key("/usr/bin/python3.11", set, k3);
	CHECK_STR(k1, k2);
	CHECK(strcmp(k1, k3) != 0 && strlen(k1) == 64);
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

/* `name @ URL` on this machine's loopback, in every spelling that
 * reaches it, is refused; other hosts, file URLs and the admin's own
 * loopback index are not. */
static void test_loopback(void)
{
	static const char *const loopback[] = {
	    "http://127.0.0.1:8080/x.tar.gz",
	    "http://127.0.0.2/x.tar.gz",
	    "https://localhost/x",
	    "http://LOCALHOST./x",
	    "http://a.b.localhost:81/x",
	    "http://127.1/x",
	    "http://2130706433/x",
	    "http://0x7f000001/x",
	    "http://0x7f.1/x",
	    "http://0177.0.0.1/x",
	    "http://0/x",
	    "http://0.0.0.0:80/x",
	    "http://[::1]/x",
	    "http://[0:0:0:0:0:0:0:1]/x",
	    "http://[::1%25lo]:8080/x",
	    "http://[::ffff:127.0.0.1]/x",
	    "http://[::ffff:7f00:1]/x",
	    "http://[::127.0.0.1]/x",
	    "http://[64:ff9b::7f00:1]/x",
	    "http://[::]/x",
	    "http://%31%32%37.0.0.1/x",
	    "http://user:pw@127.0.0.1/x",
	    "http://evil.org\\@127.0.0.1/x",
	    "http://127.0.0.1\\@evil.org/x",
	    "git+http://127.0.0.1/repo.git",
	    "svn+ssh://localhost/r",
	};
	static const char *const elsewhere[] = {
	    "https://example.org/x.whl",      "http://128.0.0.1/x",
	    "http://127.0.0.1.example.org/x", "http://evil.org/@127.0.0.1/x",
	    "file://localhost/tmp/x.whl",     "file:///tmp/x.whl",
	    "http://[2001:db8::1]/x",	      "http://[::ffff:192.0.2.1]/x",
	    "http://notlocalhost/x",
	};
	char req[512], out[REQ_NORM_SIZE], host[256];
	struct pm_error err = {0};
	int port, ports[8];

	unsetenv("PIP_INDEX_URL");
	for (size_t i = 0; i < sizeof(loopback) / sizeof(*loopback); i++) {
		snprintf(req, sizeof(req), "x @ %s", loopback[i]);
		CHECK_MSG(loopback_url(loopback[i], host, sizeof(host), &port) == 1, "%s",
			  loopback[i]);
		refused(req, "is this machine's loopback");
	}
	for (size_t i = 0; i < sizeof(elsewhere) / sizeof(*elsewhere); i++) {
		snprintf(req, sizeof(req), "x @ %s", elsewhere[i]);
		CHECK_MSG(loopback_url(elsewhere[i], host, sizeof(host), &port) == 0, "%s",
			  elsewhere[i]);
		CHECK_MSG(req_normalize(req, out, &err) == 0, "`%s`: %s", req, err.message);
	}
	/* The machine's own name (Debian's /etc/hosts gives it 127.0.1.1). */
	char self[200];
	CHECK(gethostname(self, sizeof(self)) == 0);
	snprintf(req, sizeof(req), "x @ http://%s/x", self);
	refused(req, "is this machine's loopback");
	CHECK(loopback_url("http://127.0.0.1:8080/x", host, sizeof(host), &port) == 1 &&
	      port == 8080);
	CHECK_STR(host, "127.0.0.1");
	CHECK(loopback_url("https://[::1]/x", host, sizeof(host), &port) == 1 && port == 443);
	CHECK(loopback_url("git+http://localhost/r", host, sizeof(host), &port) == 1 && port == 80);
	refused("x @ http://127.0.0.1:8080/x.tar.gz ; python_version > '3'", "loopback");

	/* The admin's own loopback index, find-links, uv index and proxy:
	 * their ports, and requirements on them, are allowed. */
	setenv("PIP_INDEX_URL", "http://127.0.0.1:8999/simple", 1);
	setenv("PIP_FIND_LINKS", "/srv/wheels http://localhost:7000/links", 1);
	setenv("UV_INDEX", "internal=http://[::1]:7001/simple other=https://example.org/s", 1);
	setenv("HTTPS_PROXY", "127.0.0.1:3128", 1);
	size_t n = loopback_admin_ports(ports, 8);
	CHECK_MSG(n == 4 && ports[0] == 8999 && ports[1] == 7000 && ports[2] == 7001 &&
		      ports[3] == 3128,
		  "%zu ports", n);
	normalized("x @ http://127.0.0.1:8999/packages/x-1.0.whl",
		   "x @ http://127.0.0.1:8999/packages/x-1.0.whl");
	normalized("x @ http://localhost:7000/x.whl", "x @ http://localhost:7000/x.whl");
	refused("x @ http://127.0.0.1:9000/x.whl", "loopback");
	refused("x @ http://127.0.0.1/x.whl", "loopback");
	unsetenv("PIP_INDEX_URL");
	unsetenv("PIP_FIND_LINKS");
	unsetenv("UV_INDEX");
	unsetenv("HTTPS_PROXY");
	CHECK(loopback_admin_ports(ports, 8) == 0);
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
	struct pm_error err = {0};
	json_t *set = json_array();
	/* telegram: a mapped name that no package this suite installs
	 * provides (a host with python3-pil has PIL installed, which is then
	 * rightly not guessed). */
	const char *src = "import os, json, asyncio, tomllib\nimport yaml_but_not_installed\n"
			  "import telegram\nimport _private_guess\n";
	CHECK_MSG(imports_requirements("/usr/bin/python3", src, strlen(src), -1, set, &err) == 0,
		  "%s", err.message);
	CHECK_MSG(json_array_size(set) == 2, "%zu requirements", json_array_size(set));
	CHECK_STR(json_string_value(json_array_get(set, 0)), "python-telegram-bot");
	CHECK_STR(json_string_value(json_array_get(set, 1)), "yaml-but-not-installed");
	json_decref(set);
}

static void matches(const char *spec, const char *version, bool want)
{
	struct pm_error err = {0};
	bool ok = !want;

	CHECK_MSG(pyver_satisfies(spec, version, &ok, &err) == 0, "%s: %s", spec, err.message);
	CHECK_MSG(ok == want, "`%s` on %s: got %d", spec, version, ok);
}

static void test_pyver(void)
{
	struct pm_error err = {0};
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
	test_loopback();
	test_imports();
	test_pyver();
	return check_done("units.deps");
}
