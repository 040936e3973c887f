/* Unit tests of json_locate: path formatting and line lookups, including
 * escaped keys, nesting, strings that look like structure, and text that
 * is cut short or malformed (which must never crash or loop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_locate.h"

#include "check.h"

/* Builds a path from "k:name" and "i:N" steps. */
static void make_path(struct sb_json_path *p, const char *const *steps)
{
	sb_json_path_init(p);
	for (; *steps != NULL; steps++) {
		if ((*steps)[0] == 'i')
			sb_json_path_push_index(p, (size_t)strtoul(*steps + 2, NULL, 10));
		else
			sb_json_path_push_key(p, *steps + 2);
	}
}

static unsigned locate(const char *text, enum sb_json_target t, const char *const *steps)
{
	struct sb_json_path p;

	make_path(&p, steps);
	return sb_json_locate(text, strlen(text), &p, t);
}

#define PATH(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char doc[] = "{\n"				   /* 1 */
			  "  \"a\": 1,\n"		   /* 2 */
			  "  \"str\": \"x}]\\\"{[\\n\",\n" /* 3 */
			  "  \"nested\": {\n"		   /* 4 */
			  "    \"list\": [\n"		   /* 5 */
			  "      {\"k\": 1},\n"		   /* 6 */
			  "      [1, 2,\n"		   /* 7 */
			  "       3],\n"		   /* 8 */
			  "      \"third\"\n"		   /* 9 */
			  "    ],\n"			   /* 10 */
			  "    \"caf\\u00e9\": true,\n"	   /* 11 */
			  "    \"t\\tab\": null,\n"	   /* 12 */
			  "    \"\\ud83d\\ude00\": 0,\n"   /* 13 */
			  "    \"late\":\n"		   /* 14 */
			  "      [\"v\"]\n"		   /* 15 */
			  "  },\n"			   /* 16 */
			  "  \"b\": false\n"		   /* 17 */
			  "}\n";

static void test_lines(void)
{
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:a")) == 2);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:b")) == 17);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:list", "i:0", "k:k")) == 6);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:list", "i:1")) == 7);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:list", "i:1", "i:2")) == 8);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:list", "i:2")) == 9);
	/* Escaped keys compare decoded. */
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:caf\xc3\xa9")) == 11);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:t\tab")) == 12);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:\xf0\x9f\x98\x80")) == 13);
	/* The value may start on a later line than its key. */
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:late")) == 15);
	CHECK(locate(doc, SB_JSON_KEY, PATH("k:nested", "k:late")) == 14);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:late", "i:0")) == 15);
	/* The root. */
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested")) == 4);
	{
		struct sb_json_path p;

		sb_json_path_init(&p);
		CHECK(sb_json_locate(doc, strlen(doc), &p, SB_JSON_VALUE) == 1);
		CHECK(sb_json_locate("\n\n  {}", 6, &p, SB_JSON_VALUE) == 3);
	}
}

static void test_fallbacks(void)
{
	/* Missing pieces give the deepest line found. */
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:missing")) == 4);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:list", "i:7")) == 5);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:a", "k:deeper")) == 2);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:nested", "k:caf")) == 4);
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:str", "i:0")) == 3);
	/* Not found anywhere: the root's line. */
	CHECK(locate(doc, SB_JSON_VALUE, PATH("k:zzz")) == 1);
}

static void test_malformed(void)
{
	static const char *const texts[] = {
	    "",		"{",	       "[",	    "{\"a\"",	      "{\"a\":",
	    "{\"a\":[", "\"\\",	       "{\"a\\u12", "{\"a\\ud800\\u", "{\"x\":1 \"a\":2}",
	    "[1,,,",	"{\"a\":{{{{", "}}}}]]]",   "{\"a\":\"\\",    "{:::",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		unsigned line = locate(texts[i], SB_JSON_VALUE, PATH("k:a", "i:3", "k:b"));

		CHECK(line == 1);
		line = locate(texts[i], SB_JSON_KEY, PATH("k:a"));
		CHECK(line == 1);
	}
	/* Not NUL-terminated: the length is the limit. */
	CHECK(sb_json_locate("{\"a\":\n1}", 3, &(struct sb_json_path){0}, SB_JSON_VALUE) == 1);
	{
		struct sb_json_path p;

		make_path(&p, PATH("k:a"));
		CHECK(sb_json_locate("{\"a\":\n1}", 5, &p, SB_JSON_VALUE) == 1);
		CHECK(sb_json_locate("{\"a\":\n1}", 8, &p, SB_JSON_VALUE) == 2);
		CHECK(sb_json_locate(NULL, 0, &p, SB_JSON_VALUE) == 1);
	}
}

static void test_format(void)
{
	struct sb_json_path p;
	char buf[128];

	sb_json_path_init(&p);
	sb_json_path_format(&p, buf, sizeof(buf));
	CHECK(strcmp(buf, "$") == 0);
	make_path(&p, PATH("k:seccomp", "k:syscalls", "i:4", "k:args", "i:0", "k:op"));
	sb_json_path_format(&p, buf, sizeof(buf));
	CHECK(strcmp(buf, "$.seccomp.syscalls[4].args[0].op") == 0);
	make_path(&p, PATH("k:environment", "k:set", "k:MY-VAR", "k:_ok9"));
	sb_json_path_format(&p, buf, sizeof(buf));
	CHECK(strcmp(buf, "$.environment.set[\"MY-VAR\"]._ok9") == 0);
	make_path(&p, PATH("k:q\"b\\\n", "k:9x"));
	sb_json_path_format(&p, buf, sizeof(buf));
	CHECK(strcmp(buf, "$[\"q\\\"b\\\\\\u000a\"][\"9x\"]") == 0);
	make_path(&p, PATH("k:"));
	sb_json_path_format(&p, buf, sizeof(buf));
	CHECK(strcmp(buf, "$[\"\"]") == 0);
	/* Truncation keeps the buffer terminated. */
	make_path(&p, PATH("k:seccomp", "k:syscalls", "i:4"));
	sb_json_path_format(&p, buf, 8);
	CHECK(strcmp(buf, "$.secco") == 0);
	/* Pops and overflowing depth. */
	sb_json_path_init(&p);
	for (int i = 0; i < SB_JSON_PATH_MAX + 3; i++)
		sb_json_path_push_index(&p, 0);
	sb_json_path_format(&p, buf, sizeof(buf));
	CHECK(strstr(buf, "...") != NULL);
	for (int i = 0; i < SB_JSON_PATH_MAX + 5; i++)
		sb_json_path_pop(&p);
	CHECK(p.depth == 0);
}

int main(void)
{
	test_lines();
	test_fallbacks();
	test_malformed();
	test_format();
	if (failures > 0) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("json_locate: all checks passed\n");
	return 0;
}
