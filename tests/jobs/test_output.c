/* Per-job output: UTF-8 repair, the disk cap, bounded windows that never
 * split a character, NUL bytes, descriptors, and recounting after a crash. */
#include "jobs_test.h"

#include <fcntl.h>

#include "utf8.h"

/* utf8_sanitize(in) == expected, with `consumed` input bytes used. */
static void sanitized(const char *in, size_t len, bool complete, const char *expected,
		      size_t expected_len, size_t expected_consumed, int line)
{
	char *out = NULL;
	size_t out_len = 0, consumed = 0;

	if (utf8_sanitize(in, len, complete, &out, &out_len, &consumed) != 0 ||
	    out_len != expected_len || memcmp(out, expected, expected_len) != 0 ||
	    consumed != expected_consumed || out[out_len] != '\0') {
		fprintf(stderr, "%s:%d: utf8_sanitize: got %zu bytes, consumed %zu\n", __FILE__,
			line, out_len, consumed);
		failures++;
	}
	free(out);
}

#define SANITIZED(in, complete, expected, consumed)                                                \
	sanitized(in, sizeof(in) - 1, complete, expected, sizeof(expected) - 1, consumed, __LINE__)

#define FFFD "\xEF\xBF\xBD"

static void test_utf8(void)
{
	SANITIZED("plain ascii", true, "plain ascii", 11);
	SANITIZED("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", true,
		  "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14);
	SANITIZED("a\0b", true, "a\0b", 3); /* NUL is valid UTF-8 and kept */
	SANITIZED("\xFF\xFEok", true, FFFD FFFD "ok", 4);
	SANITIZED("\xC0\xAF", true, FFFD FFFD, 2);		     /* overlong '/' */
	SANITIZED("\xED\xA0\x80", true, FFFD FFFD FFFD, 3);	     /* a surrogate */
	SANITIZED("\xF4\x90\x80\x80", true, FFFD FFFD FFFD FFFD, 4); /* past U+10FFFF */
	/* A truncated sequence is one maximal subpart: one U+FFFD, as Python's
	 * errors="replace" gives. */
	SANITIZED("\xF0\x9F\x98"
		  "A",
		  true, FFFD "A", 4);
	SANITIZED("\xE2\x82"
		  "\xE2\x82\xAC",
		  true, FFFD "\xE2\x82\xAC", 5);
	/* Cut by the end of the input: held back unless complete. */
	SANITIZED("ab\xF0\x9F\x98", false, "ab", 2);
	SANITIZED("ab\xF0\x9F\x98", true, "ab" FFFD, 5);
	SANITIZED("ab\xC3", false, "ab", 2);
	/* An invalid byte at the end is invalid whatever follows. */
	SANITIZED("ab\xFF", false, "ab" FFFD, 3);
	SANITIZED("", true, "", 0);
}

static char *file_text(const char *dir, const struct job *j, const char *stream, size_t *len)
{
	char path[1024], *buf = calloc(1, 1 << 16);
	FILE *f;

	snprintf(path, sizeof(path), "%s/jobs/%s/%s", dir, j->id, stream);
	f = fopen(path, "rb");
	*len = f ? fread(buf, 1, (1 << 16) - 1, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

static void append(struct jobs *t, struct job *j, enum job_stream s, const char *text, size_t n)
{
	struct pm_error err;

	if (jobs_append_output(t, j, s, text, n, &err) < 0) {
		fprintf(stderr, "append: %s\n", err.message);
		failures++;
	}
}

#define APPEND(t, j, s, lit) append(t, j, s, lit, sizeof(lit) - 1)

static struct job_read rd(struct jobs *t, struct job *j, enum job_stream s, uint64_t from,
			  size_t max)
{
	struct job_read r = {0};
	struct pm_error err;

	if (jobs_read(t, j, s, from, max, &r, &err) < 0) {
		fprintf(stderr, "read: %s\n", err.message);
		failures++;
	}
	return r;
}

static void test_files(uv_loop_t *loop, const char *dir)
{
	struct pm_error err;
	struct job_read r;
	struct jobs *t;
	struct job *j;
	size_t len;
	char *text;
	bool more;
	int rc;

	t = open_table(loop, dir, 10, 0.05, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	j = jobs_create(t, "tool", NULL, NULL, &err);
	jobs_set_status(t, j, JOB_RUNNING, NULL, NULL);

	/* Nothing printed yet: empty, not an error. */
	r = rd(t, j, JOB_STDOUT, 0, 100);
	CHECK(r.len == 0 && r.consumed == 0 && !r.more && r.text && r.text[0] == '\0');
	job_read_release(&r);

	/* The cap: 10 bytes kept, the rest only counted. */
	APPEND(t, j, JOB_STDOUT, "hello");
	APPEND(t, j, JOB_STDOUT, "world!!");
	APPEND(t, j, JOB_STDOUT, "more");
	CHECK(j->produced[JOB_STDOUT] == 16);
	CHECK(j->kept[JOB_STDOUT] == 10);
	CHECK(j->fd[JOB_STDOUT] >= 0);
	text = file_text(dir, j, "stdout", &len);
	CHECK(len == 10 && memcmp(text, "helloworld", 10) == 0);
	free(text);

	/* Windows. */
	r = rd(t, j, JOB_STDOUT, 0, 4);
	CHECK(r.len == 4 && memcmp(r.text, "hell", 4) == 0 && r.consumed == 4 && r.more);
	job_read_release(&r);
	r = rd(t, j, JOB_STDOUT, 4, 100);
	CHECK(r.len == 6 && strcmp(r.text, "oworld") == 0 && r.consumed == 6 && !r.more);
	job_read_release(&r);
	r = rd(t, j, JOB_STDOUT, 10, 100);
	CHECK(r.len == 0 && !r.more);
	job_read_release(&r);
	CHECK(jobs_read_output(t, j, JOB_STDOUT, 0, 5, &text, &len, &more, &err) == 0);
	CHECK(len == 5 && strcmp(text, "hello") == 0 && more);
	free(text);

	/* stderr: a character split by the window, then one cut by the end
	 * of what a running job has printed so far. */
	APPEND(t, j, JOB_STDERR, "a\xC3\xA9");
	r = rd(t, j, JOB_STDERR, 0, 2);
	CHECK(r.len == 1 && r.text[0] == 'a' && r.consumed == 1 && r.more);
	job_read_release(&r);
	r = rd(t, j, JOB_STDERR, 1, 2);
	CHECK(r.len == 2 && strcmp(r.text, "\xC3\xA9") == 0 && r.consumed == 2 && !r.more);
	job_read_release(&r);
	APPEND(t, j, JOB_STDERR, "b\xE2\x82");
	r = rd(t, j, JOB_STDERR, 3, 100);
	CHECK(r.len == 1 && r.text[0] == 'b' && r.consumed == 1 && r.more);
	job_read_release(&r);
	APPEND(t, j, JOB_STDERR, "\xAC");
	r = rd(t, j, JOB_STDERR, 4, 100);
	CHECK(r.len == 3 && strcmp(r.text, "\xE2\x82\xAC") == 0 && r.consumed == 3 && !r.more);
	job_read_release(&r);
	CHECK(j->kept[JOB_STDERR] == 7);
	/* Cut by the cap (10): what is kept is all there will be. */
	APPEND(t, j, JOB_STDERR, "xy\xF0\x9F\x98\x80");
	CHECK(j->kept[JOB_STDERR] == 10 && j->produced[JOB_STDERR] == 13);
	r = rd(t, j, JOB_STDERR, 7, 100);
	CHECK(r.len == 5 && memcmp(r.text, "xy" FFFD, 5) == 0 && r.consumed == 3 && !r.more);
	job_read_release(&r);

	/* A finished job's dangling bytes are an error, replaced. */
	struct job *k = jobs_create(t, "tool", NULL, NULL, &err);
	jobs_set_status(t, k, JOB_RUNNING, NULL, NULL);
	APPEND(t, k, JOB_STDOUT, "ok\xC3");
	r = rd(t, k, JOB_STDOUT, 0, 100);
	CHECK(r.len == 2 && r.consumed == 2 && r.more);
	job_read_release(&r);
	jobs_set_status(t, k, JOB_COMPLETED, NULL, NULL);
	CHECK(k->fd[JOB_STDOUT] < 0 && k->fd[JOB_STDERR] < 0); /* closed when final */
	r = rd(t, k, JOB_STDOUT, 0, 100);
	CHECK(r.len == 5 && memcmp(r.text, "ok" FFFD, 5) == 0 && r.consumed == 3 && !r.more);
	job_read_release(&r);

	/* Binary junk and NUL bytes. */
	struct job *b = jobs_create(t, "tool", NULL, NULL, &err);
	append(t, b, JOB_STDOUT, "\xFF\x00z", 3);
	jobs_set_status(t, b, JOB_FAILED, NULL, "boom");
	r = rd(t, b, JOB_STDOUT, 0, 100);
	CHECK(r.len == 5 && memcmp(r.text, FFFD "\0z", 5) == 0);
	job_read_release(&r);

	/* A window too small for one character still makes progress. */
	struct job *s = jobs_create(t, "tool", NULL, NULL, &err);
	jobs_set_status(t, s, JOB_RUNNING, NULL, NULL);
	APPEND(t, s, JOB_STDOUT, "\xC3\xA9");
	r = rd(t, s, JOB_STDOUT, 0, 1);
	CHECK(r.consumed == 1);
	job_read_release(&r);
	close_table(loop, t);
}

/* Output appended after the last save (a crash before the next status
 * change) is found again by the recount of jobs that were running. */
static void test_recount(uv_loop_t *loop, const char *dir)
{
	struct pm_error err;
	struct jobs *t;
	struct job *j;
	char id[37], path[1024];
	FILE *f;
	int rc;

	t = open_table(loop, dir, 1000, 0.05, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	j = jobs_create(t, "tool", NULL, NULL, &err);
	jobs_set_status(t, j, JOB_RUNNING, NULL, NULL);
	APPEND(t, j, JOB_STDOUT, "0123456789");
	j->cursor[JOB_STDOUT] = 4;
	strcpy(id, j->id);
	close_table(loop, t);
	/* What a script printed between the last save and the crash. */
	snprintf(path, sizeof(path), "%s/jobs/%s/stdout", dir, id);
	f = fopen(path, "a");
	fputs("abcdef", f);
	fclose(f);

	t = open_table(loop, dir, 1000, 0.05, &rc, &err);
	if (t == NULL) {
		CHECK(t != NULL);
		return;
	}
	j = jobs_get(t, id);
	CHECK(j != NULL);
	if (j != NULL) {
		CHECK(j->status == JOB_FAILED);
		CHECK(j->kept[JOB_STDOUT] == 16 && j->produced[JOB_STDOUT] == 16);
		CHECK(j->cursor[JOB_STDOUT] == 4);
		struct job_read r = rd(t, j, JOB_STDOUT, 4, 100);
		CHECK(strcmp(r.text, "456789abcdef") == 0);
		job_read_release(&r);
	}
	close_table(loop, t);
}

int main(void)
{
	uv_loop_t loop;
	char *dir = make_state_dir();
	char sub[2][600];

	uv_loop_init(&loop);
	for (int i = 0; i < 2; i++)
		snprintf(sub[i], sizeof(sub[i]), "%s/s%d", dir, i);
	test_utf8();
	test_files(&loop, sub[0]);
	test_recount(&loop, sub[1]);
	CHECK(uv_loop_close(&loop) == 0);
	remove_tree(dir);
	free(dir);
	return check_done("jobs.output");
}
