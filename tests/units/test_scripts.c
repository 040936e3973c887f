/* Saved scripts: names, PEP 723 headers written and found, docstrings,
 * writes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pep723.h"
#include "scripts.h"

int main(void)
{
	struct pm_error err = {0};
	char *name = NULL;

	CHECK_MSG(scripts_file_name("../../etc/report", &name, &err) == 0 &&
		      strcmp(name, "report.py") == 0,
		  "path parts dropped, .py added: %s", name);
	free(name);
	CHECK_MSG(scripts_file_name("a.py", &name, &err) == 0 && strcmp(name, "a.py") == 0, "kept");
	free(name);
	CHECK_MSG(scripts_file_name("dir/", &name, &err) < 0, "empty name accepted");
	CHECK_MSG(scripts_file_name(".hidden", &name, &err) < 0 && err.hint[0],
		  "hidden name accepted");

	json_t *deps = json_pack("[s, s]", "requests<3", "we\"ird");
	char *h = scripts_header(deps, ">=3.11");
	const char *want =
	    "# /// script\n# dependencies = [\n#   \"requests<3\",\n#   \"we\\\"ird\",\n"
	    "# ]\n# requires-python = \">=3.11\"\n# ///\n";
	CHECK_MSG(h && strcmp(h, want) == 0, "header:\n%s", h);
	CHECK_MSG(scripts_header(NULL, NULL) == NULL, "no header without content");

	/* The header we write is found as one block, whose TOML starts on
	 * the script's second line.  (Parsing it is tomllib's, in the
	 * sandbox: tests/server's saved-script tests.) */
	char *source = NULL;
	struct pep723_block block = {0};
	CHECK_MSG(asprintf(&source, "%sprint('x')\n", h) > 0, "asprintf");
	CHECK_MSG(pep723_find(source, &block, &err) == 0 && block.toml && block.first_line == 2,
		  "%s", err.message);
	CHECK_MSG(strcmp(block.toml, "dependencies = [\n  \"requests<3\",\n  \"we\\\"ird\",\n]\n"
				     "requires-python = \">=3.11\"\n") == 0,
		  "toml:\n%s", block.toml);
	CHECK_MSG(scripts_has_header(source), "has header");
	free(block.toml);
	free(source);
	free(h);
	json_decref(deps);

	CHECK_MSG(pep723_find("print(1)\n", &block, &err) == 0 && block.toml == NULL, "no header");
	/* "#" alone is an empty TOML line; CRLF line ends are accepted; the
	 * block may follow other lines. */
	CHECK_MSG(pep723_find("import os\r\n# /// script\r\n#\r\n# a = 1\r\n# ///\r\n", &block,
			      &err) == 0 &&
		      block.toml && strcmp(block.toml, "\r\na = 1\r\n") == 0 &&
		      block.first_line == 3,
		  "crlf block `%s`", block.toml);
	free(block.toml);
	const struct {
		const char *source, *says;
	} broken[] = {
	    {"# /// script\n# dependencies = [\"a\"\n", "line 1 is never closed"},
	    {"x = 1\n# /// script\nnot a comment\n# ///\n", "line 3: `not a comment`"},
	    {"# /// script\n#a = 1\n# ///\n", "line 2: `#a = 1`"},
	    {"# /// script\n# ///\n# /// script\n# ///\n", "second `# /// script` block at line 3"},
	};
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		memset(&err, 0, sizeof(err));
		block = (struct pep723_block){0};
		CHECK_MSG(pep723_find(broken[i].source, &block, &err) == -EINVAL &&
			      strstr(err.message, broken[i].says) && err.hint[0] &&
			      block.toml == NULL,
			  "broken header %zu: %s", i, err.message);
	}

	char *doc =
	    scripts_docstring("#!/usr/bin/env python3\n# c\n\"\"\"  Summary line.\n\nMore.\n"
			      "\"\"\"\nimport os\n",
			      300);
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
	CHECK_MSG(scripts_read(path, &text, &err) == 0 && strcmp(text, "v1\n") == 0,
		  "content kept");
	free(text);
	CHECK_MSG(scripts_write(dir, "s.py", "v2\n", true, &err) == 1, "overwrite");
	CHECK_MSG(scripts_read(path, &text, &err) == 0 && strcmp(text, "v2\n") == 0,
		  "content replaced");
	free(text);
	unlink(path);
	rmdir(dir);
	return check_done("scripts");
}
