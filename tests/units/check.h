/* A minimal assertion helper for the C unit tests: a failed check prints
 * where and what, and the test exits non-zero at the end. */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_DONE()                                                                               \
	(check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1)             \
			: (printf("all checks passed\n"), 0))

#endif
