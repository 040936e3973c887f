/* dotenv parsing for env_file: every form TOOLS.md names, and errors that
 * name the line. */
#include <string.h>

#include "check.h"
#include "dotenv.h"

static const char *get(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int main(void)
{
	const char *text = "# comment\n"
			   "\n"
			   "PLAIN=value\n"
			   "export EXPORTED=yes\n"
			   "  SPACED = padded value  \n"
			   "INLINE=abc # trailing comment\n"
			   "HASH=a#b\n"
			   "SINGLE='lit $HOME \\n'\n"
			   "DOUBLE=\"line1\\nline2\\t\\\"q\\\"\"\n"
			   "EMPTY=\n"
			   "CRLF=x\r\n"
			   "PLAIN=overridden\n";
	struct pm_error err = {0};
	json_t *env = json_object();

	CHECK_MSG(dotenv_parse(text, strlen(text), "t.env", env, &err) == 0, "%s", err.message);
	CHECK_MSG(strcmp(get(env, "PLAIN"), "overridden") == 0, "later lines win");
	CHECK_MSG(strcmp(get(env, "EXPORTED"), "yes") == 0, "export prefix");
	CHECK_MSG(strcmp(get(env, "SPACED"), "padded value") == 0, "got `%s`", get(env, "SPACED"));
	CHECK_MSG(strcmp(get(env, "INLINE"), "abc") == 0, "got `%s`", get(env, "INLINE"));
	CHECK_MSG(strcmp(get(env, "HASH"), "a#b") == 0, "a # inside a value stays");
	CHECK_MSG(strcmp(get(env, "SINGLE"), "lit $HOME \\n") == 0, "single quotes are literal");
	CHECK_MSG(strcmp(get(env, "DOUBLE"), "line1\nline2\t\"q\"") == 0, "got `%s`",
		  get(env, "DOUBLE"));
	CHECK_MSG(strcmp(get(env, "EMPTY"), "") == 0, "empty value");
	CHECK_MSG(strcmp(get(env, "CRLF"), "x") == 0, "CRLF line ends");
	json_decref(env);

	const char *bad[][2] = {
	    {"GOOD=1\nnot a variable\n", "line 2"},
	    {"X=\"unterminated\n", "missing closing \""},
	    {"X='a' trailing\n", "text after the closing quote"},
	    {"1X=2\n", "expected KEY=VALUE"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		env = json_object();
		memset(&err, 0, sizeof(err));
		CHECK_MSG(dotenv_parse(bad[i][0], strlen(bad[i][0]), "b.env", env, &err) < 0,
			  "`%s` accepted", bad[i][0]);
		CHECK_MSG(strstr(err.message, bad[i][1]) && strstr(err.message, "b.env"),
			  "`%s`: message `%s`", bad[i][0], err.message);
		CHECK_MSG(err.hint[0] != '\0', "no hint for `%s`", bad[i][0]);
		json_decref(env);
	}
	return check_done("dotenv");
}
