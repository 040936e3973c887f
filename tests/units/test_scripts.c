/* Saved scripts: names, PEP 723 headers both ways, docstrings, writes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scripts.h"

int main(void)
{
	struct sb_error err = {0};
	char *name = NULL;

	CHECK_MSG(scripts_file_name("../../etc/report", &name, &err) == 0 && strcmp(name, "report.py") == 0,
	      "path parts dropped, .py added: %s", name);
	free(name);
	CHECK_MSG(scripts_file_name("a.py", &name, &err) == 0 && strcmp(name, "a.py") == 0, "kept");
	free(name);
	CHECK_MSG(scripts_file_name("dir/", &name, &err) < 0, "empty name accepted");
	CHECK_MSG(scripts_file_name(".hidden", &name, &err) < 0 && err.hint[0], "hidden name accepted");

	json_t *deps = json_pack("[s, s]", "requests<3", "we\"ird");
	char *h = scripts_header(deps, ">=3.11");
	const char *want = "# /// script\n# dependencies = [\n#   \"requests<3\",\n#   \"we\\\"ird\",\n"
			   "# ]\n# requires-python = \">=3.11\"\n# ///\n";
	CHECK_MSG(h && strcmp(h, want) == 0, "header:\n%s", h);
	CHECK_MSG(scripts_header(NULL, NULL) == NULL, "no header without content");

	/* The header we write parses back to the same values. */
	char *source = NULL;
	CHECK_MSG(asprintf(&source, "%sprint('x')\n", h) > 0, "asprintf");
	struct script_header ph;
	CHECK_MSG(scripts_parse_header(source, &ph, &err) == 0, "%s", err.message);
	CHECK_MSG(json_equal(ph.dependencies, deps), "dependencies round trip");
	CHECK_MSG(ph.requires_python && strcmp(ph.requires_python, ">=3.11") == 0, "requires-python");
	CHECK_MSG(scripts_has_header(source), "has header");
	scripts_header_free(&ph);
	free(source);
	free(h);
	json_decref(deps);

	CHECK_MSG(scripts_parse_header("print(1)\n", &ph, &err) == 0 &&
	      json_array_size(ph.dependencies) == 0 && ph.requires_python == NULL, "no header");
	scripts_header_free(&ph);
	const char *broken[] = {
		"# /// script\n# dependencies = \"notalist\"\n# ///\n",
		"# /// script\n# dependencies = [\"a\"\n",
		"# /// script\nnot a comment\n# ///\n",
	};
	for (size_t i = 0; i < 3; i++) {
		memset(&err, 0, sizeof(err));
		CHECK_MSG(scripts_parse_header(broken[i], &ph, &err) < 0 && strstr(err.message, "PEP 723"),
		      "broken header %zu accepted (%s)", i, err.message);
		scripts_header_free(&ph);
	}

	char *doc = scripts_docstring("#!/usr/bin/env python3\n# c\n\"\"\"  Summary line.\n\nMore.\n"
				      "\"\"\"\nimport os\n", 300);
	CHECK_MSG(strcmp(doc, "Summary line.\n\nMore.") == 0, "docstring `%s`", doc);
	free(doc);
	doc = scripts_docstring("import os\n", 300);
	CHECK_MSG(strcmp(doc, "") == 0, "no docstring");
	free(doc);
	doc = scripts_docstring("'''abcdef'''", 3);
	CHECK_MSG(strcmp(doc, "abc") == 0, "cut at max: `%s`", doc);
	free(doc);

	char dir[] = "/tmp/pymcp-scripts-test-XXXXXX";
	CHECK_MSG(mkdtemp(dir) != NULL, "mkdtemp");
	CHECK_MSG(scripts_write(dir, "s.py", "v1\n", false, &err) == 1, "first write");
	CHECK_MSG(scripts_write(dir, "s.py", "v2\n", false, &err) == 0, "kept without overwrite");
	char *text = NULL, path[256];
	snprintf(path, sizeof(path), "%s/s.py", dir);
	CHECK_MSG(scripts_read(path, &text, &err) == 0 && strcmp(text, "v1\n") == 0, "content kept");
	free(text);
	CHECK_MSG(scripts_write(dir, "s.py", "v2\n", true, &err) == 1, "overwrite");
	CHECK_MSG(scripts_read(path, &text, &err) == 0 && strcmp(text, "v2\n") == 0, "content replaced");
	free(text);
	unlink(path);
	rmdir(dir);
	return check_done("scripts");
}
