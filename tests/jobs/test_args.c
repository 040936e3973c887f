/* The argument helpers: types, defaults, nulls, ranges, unknown keys, and
 * messages that name the argument and what it should be. */
#include "jobs_test.h"

#include "args.h"

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (v == NULL) {
		fprintf(stderr, "bad test JSON: %s\n", jerr.text);
		exit(2);
	}
	return v;
}

#define FAILS_WITH(call, text)                                                                     \
	do {                                                                                       \
		int r_ = (call);                                                                   \
		if (r_ != -EINVAL || strstr(err.message, text) == NULL) {                          \
			fprintf(stderr, "%s:%d: %s: got %d `%s`, expected `%s`\n", __FILE__,       \
				__LINE__, #call, r_, err.message, text);                           \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

int main(void)
{
	json_t *a =
	    parse("{\"s\": \"text\", \"n\": null, \"b\": true, \"i\": 7, \"r\": 2.5,"
		  " \"whole\": 4.0, \"big\": 5000, \"neg\": -1, \"list\": [\"x\", \"y\"],"
		  " \"badlist\": [\"x\", 1], \"map\": {\"K\": \"v\"}, \"badmap\": {\"K\": 1},"
		  " \"st\": \"running\"}");
	static const char *const known[] = {"s",     "n",      "b",   "i",    "r",
					    "whole", "big",    "neg", "list", "badlist",
					    "map",   "badmap", "st",  NULL};
	static const char *const few[] = {"job_id", "incremental", NULL};
	static const char *const none[] = {NULL};
	static const char *const statuses[] = {"pending", "running", "completed", NULL};
	struct pm_error err = {0};
	const char *s;
	bool b;
	int64_t i;
	double d;
	json_t *v;
	int idx;

	CHECK(args_check_known(a, known, &err) == 0);
	FAILS_WITH(args_check_known(a, few, &err),
		   "unknown argument `s`; this tool accepts: job_id, incremental");
	{
		json_t *empty = json_object(), *arr = json_array();
		CHECK(args_check_known(empty, none, &err) == 0);
		FAILS_WITH(args_check_known(a, none, &err), "this tool accepts: no arguments");
		FAILS_WITH(args_check_known(arr, known, &err),
			   "arguments must be an object, got an array");
		json_decref(empty);
		json_decref(arr);
	}

	CHECK(args_string(a, "s", true, &s, &err) == 0 && strcmp(s, "text") == 0);
	CHECK(args_string(a, "absent", false, &s, &err) == 0 && s == NULL);
	CHECK(args_string(a, "n", false, &s, &err) == 0 && s == NULL); /* null = not given */
	FAILS_WITH(args_string(a, "absent", true, &s, &err),
		   "missing required argument `absent` (a string)");
	FAILS_WITH(args_string(a, "n", true, &s, &err), "missing required argument `n`");
	FAILS_WITH(args_string(a, "i", true, &s, &err),
		   "argument `i` must be a string, got an integer");

	CHECK(args_enum(a, "st", statuses, true, &idx, &err) == 0 && idx == 1);
	CHECK(args_enum(a, "absent", statuses, false, &idx, &err) == 0 && idx == -1);
	FAILS_WITH(args_enum(a, "s", statuses, false, &idx, &err),
		   "argument `s` must be one of pending, running, completed, got `text`");
	FAILS_WITH(args_enum(a, "b", statuses, false, &idx, &err),
		   "argument `b` must be one of pending, running, completed, got a boolean");
	FAILS_WITH(args_enum(a, "absent", statuses, true, &idx, &err),
		   "missing required argument `absent` (one of pending");

	CHECK(args_bool(a, "b", false, &b, &err) == 0 && b);
	CHECK(args_bool(a, "absent", true, &b, &err) == 0 && b);
	CHECK(args_bool(a, "n", false, &b, &err) == 0 && !b);
	FAILS_WITH(args_bool(a, "s", true, &b, &err),
		   "argument `s` must be a boolean (true or false), got a string");
	FAILS_WITH(args_bool(a, "i", true, &b, &err), "got an integer");

	CHECK(args_int(a, "i", 1, 1000, 50, &i, &err) == 0 && i == 7);
	CHECK(args_int(a, "absent", 1, 1000, 50, &i, &err) == 0 && i == 50);
	CHECK(args_int(a, "whole", 1, 1000, 50, &i, &err) == 0 && i == 4);
	FAILS_WITH(args_int(a, "big", 1, 1000, 50, &i, &err),
		   "argument `big` must be an integer from 1 to 1000, got 5000");
	FAILS_WITH(args_int(a, "neg", 1, 1000, 50, &i, &err), "got -1");
	FAILS_WITH(args_int(a, "r", 1, 1000, 50, &i, &err),
		   "argument `r` must be an integer from 1 to 1000, got 2.5");
	FAILS_WITH(args_int(a, "s", 1, 1000, 50, &i, &err), "got a string");

	CHECK(args_number(a, "r", 0, 1e9, 24, &d, &err) == 0 && d == 2.5);
	CHECK(args_number(a, "i", 0, 1e9, 24, &d, &err) == 0 && d == 7);
	CHECK(args_number(a, "absent", 0, 1e9, 24, &d, &err) == 0 && d == 24);
	FAILS_WITH(args_number(a, "neg", 0, 1e9, 24, &d, &err),
		   "argument `neg` must be a number from 0 to 1e+09, got -1");
	FAILS_WITH(args_number(a, "b", 0, 1e9, 24, &d, &err), "got a boolean");

	CHECK(args_string_array(a, "list", true, &v, &err) == 0 && json_array_size(v) == 2);
	CHECK(args_string_array(a, "absent", false, &v, &err) == 0 && v == NULL);
	FAILS_WITH(args_string_array(a, "badlist", false, &v, &err),
		   "argument `badlist` must be an array of strings, but item 1 is an integer");
	FAILS_WITH(args_string_array(a, "s", false, &v, &err), "got a string");
	FAILS_WITH(args_string_array(a, "absent", true, &v, &err),
		   "missing required argument `absent`");

	CHECK(args_string_map(a, "map", true, &v, &err) == 0 && json_object_size(v) == 1);
	CHECK(args_string_map(a, "absent", false, &v, &err) == 0 && v == NULL);
	FAILS_WITH(args_string_map(a, "badmap", false, &v, &err), "but `K` is an integer");
	FAILS_WITH(args_string_map(a, "list", false, &v, &err), "got an array");

	json_decref(a);
	return check_done("jobs.args");
}
