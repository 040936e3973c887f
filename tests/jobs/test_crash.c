/* kill -9 at any moment of a save leaves jobs.json whole: a child saves in
 * a loop (synchronously, and through the thread pool), the parent kills it
 * at random moments and checks that the file always parses with every
 * job, and that the table opens without having to recover anything. */
#include "jobs_test.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define JOBS   1500
#define ROUNDS 25

/* Never returns: saves until killed. */
static void child(const char *dir, int ready_fd, bool async)
{
	struct pm_error err;
	uv_loop_t loop;
	struct jobs *t;
	struct job *all[JOBS];
	int rc;

	uv_loop_init(&loop);
	t = open_table(&loop, dir, 1000, 0, &rc, &err);
	if (t == NULL)
		_exit(3);
	for (int i = 0; i < JOBS; i++) {
		all[i] = jobs_create(t, "py_run_script_in_dir", NULL, NULL, &err);
		if (all[i] == NULL)
			_exit(4);
		jobs_set_status(t, all[i], JOB_COMPLETED,
				json_pack("{s:s,s:i}", "stdout", "some output\n", "exit_code", i),
				NULL);
	}
	if (jobs_flush(t, &err) < 0)
		_exit(5);
	if (write(ready_fd, "r", 1) != 1)
		_exit(6);
	for (unsigned n = 0;; n++) {
		jobs_set_progress(t, all[n % JOBS], n, 1e9, "saving in a loop");
		if (async)
			uv_run(&loop, UV_RUN_ONCE); /* the timer (0 s) and the pool's write */
		else if (jobs_flush(t, &err) < 0)
			_exit(7);
	}
}

static void round_trip(const char *dir, bool async, unsigned delay_us)
{
	int fds[2];
	char c;
	pid_t pid;
	int status;

	if (pipe(fds) < 0) {
		perror("pipe");
		exit(2);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		close(fds[0]);
		child(dir, fds[1], async);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1) {
		fprintf(stderr, "child failed before its first save\n");
		failures++;
	}
	close(fds[0]);
	usleep(delay_us);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	char path[700];
	json_error_t jerr;
	snprintf(path, sizeof(path), "%s/meta/jobs.json", dir);
	json_t *file = json_load_file(path, 0, &jerr);
	if (!json_is_array(file) || json_array_size(file) != JOBS) {
		fprintf(stderr, "after kill at %u us (%s): %s (line %d), %zu entries\n", delay_us,
			async ? "async" : "sync", file ? "parsed" : jerr.text, jerr.line,
			json_array_size(file));
		failures++;
	}
	json_decref(file);

	uv_loop_t loop;
	struct pm_error err = {0};
	int rc;
	uv_loop_init(&loop);
	struct jobs *t = open_table(&loop, dir, 1000, 0, &rc, &err);
	CHECK(t != NULL && rc == 0 && jobs_count(t) == JOBS);
	if (t != NULL && rc != 0)
		fprintf(stderr, "open after kill: %s\n", err.message);
	if (t)
		close_table(&loop, t);
	uv_loop_close(&loop);
}

int main(void)
{
	char *dir = make_state_dir();
	unsigned seed = (unsigned)time(NULL);

	srand(seed);
	printf("seed %u\n", seed);
	for (int i = 0; i < ROUNDS; i++) {
		char sub[700];

		snprintf(sub, sizeof(sub), "%s/r%d", dir, i);
		round_trip(sub, i % 2 == 1, 1000 + (unsigned)(rand() % 40000));
	}
	remove_tree(dir);
	free(dir);
	return check_done("jobs.crash");
}
