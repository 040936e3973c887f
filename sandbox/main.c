/* python-mcp-sandbox: runs one command in a sandbox described by a policy.
 * This file only reads the command line and reports; launch.c runs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>

#include "env.h"
#include "integrity.h"
#include "job.h"
#include "launch.h"
#include "policy.h"
#include "policy_cli.h"

/* Exit codes of the launcher itself, as podman and crun use them. */
#define EXIT_SETUP    125
#define EXIT_CANNOT   126
#define EXIT_NOTFOUND 127

#define MAX_REPEATED 256

static void usage(FILE *f)
{
	fputs(
	    "Usage:\n"
	    "  python-mcp-sandbox --policy FILE --workspace DIR [--cwd DIR] [--env KEY=VALUE]...\n"
	    "                     [--status-fd N] [--timeout SECONDS] [--protect DIR]...\n"
	    "                     [--loopback-port PORT]...\n"
	    "                     -- COMMAND [ARG]...\n"
	    "  python-mcp-sandbox --policy FILE --spec-fd N [--status-fd N]\n"
	    "  python-mcp-sandbox --check-policy FILE [--protect PATH]...\n"
	    "  python-mcp-sandbox --print-effective-policy FILE | --explain-policy FILE\n"
	    "\n"
	    "Runs COMMAND in new user, pid, mount, network, ipc, uts and cgroup namespaces\n"
	    "with the limits, mounts, environment and seccomp filter of the policy.\n"
	    "\n"
	    "  --policy FILE        policy to apply (see policies/README.md)\n"
	    "  --workspace DIR      the one writable directory; must lie under a workspace root\n"
	    "  --cwd DIR            working directory inside (default: the workspace)\n"
	    "  --env KEY=VALUE      set a variable (after the policy's own), repeatable\n"
	    "  --status-fd N        write JSON status lines to descriptor N\n"
	    "  --timeout SECONDS    wall-clock limit (can only lower the policy's)\n"
	    "  --protect DIR        refuse a workspace that overlaps DIR, repeatable\n"
	    "  --loopback-port PORT with a \"user\" network: the sandbox's 127.0.0.1:PORT\n"
	    "                       reaches the host's (an index or proxy there), repeatable\n"
	    "  --cache-dir DIR      keep compiled seccomp programs in DIR (private to the\n"
	    "                       launcher's user) instead of compiling each time\n"
	    "  --spec-fd N          prepare the sandbox, say {\"event\":\"ready\"} on the status\n"
	    "                       descriptor, then read the job as JSON from N until EOF:\n"
	    "                       {\"workspace\", \"argv\", \"cwd\", \"env\", \"timeout\", "
	    "\"protect\",\n"
	    "                       \"files\" (written below the sandbox's /tmp),\n"
	    "                       \"workspace_target\" (where the workspace appears inside),\n"
	    "                       \"binds\": [{\"source\", \"target\"}] (read-only host "
	    "directories),\n"
	    "                       \"loopback_ports\": [PORT] (host loopback ports, see above),\n"
	    "                       \"workspace_fd\": true (the workspace comes as a descriptor\n"
	    "                       with the spec), \"scratch\": true (a tmpfs workspace)}\n"
	    "  --check-policy FILE  validate a policy and exit; as root, also refuse when the\n"
	    "                       launcher, the policy or a --protect path can be changed\n"
	    "                       by the policy's host ids\n"
	    "  --print-effective-policy FILE  the policy after \"extends\", every key written\n"
	    "                       out, as JSON (itself a policy that loads the same)\n"
	    "  --explain-policy FILE  the same in plain words: files, network, limits,\n"
	    "                       environment, optional layers, seccomp by family\n"
	    "  --help, --version\n"
	    "\n"
	    "SIGTERM, SIGINT, SIGHUP, SIGQUIT are forwarded to the command, which is killed\n"
	    "2 s later (or at a second signal); SIGUSR1 kills it at once (cancel).\n"
	    "\n"
	    "Exit status: the command's, 128+N when signal N ended it, 125 when the sandbox\n"
	    "could not be set up, 126/127 when the command could not be run or found.\n",
	    f);
}

static void report(const struct pm_error *err)
{
	char buf[PM_ERROR_MESSAGE_MAX + PM_ERROR_HINT_MAX + 16];

	pm_error_format(err, buf, sizeof(buf));
	fprintf(stderr, "python-mcp-sandbox: %s\n", buf);
}

static int parse_fd(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	/* 0-2 are the command's stdio: a status channel there would be
	 * closed on exec under the command's feet. */
	if (*s == '\0' || *end != '\0' || v < 3 || v > INT_MAX || fcntl((int)v, F_GETFD) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

static int exit_code(const struct pm_error *err)
{
	if (strcmp(err->stage, "exec") == 0)
		return err->errnum == ENOENT ? EXIT_NOTFOUND : EXIT_CANNOT;
	return EXIT_SETUP;
}

/* Prepares the sandbox, then runs the job from the command line, or the one
 * read from spec_fd once the sandbox is ready. */
static int run(const char *policy_file, int status_fd, int spec_fd, const char *cache_dir,
	       struct sb_job *cli_job)
{
	struct sb_policy policy;
	struct sb_sandbox sb;
	struct pm_error err = {0};
	struct sb_result res;
	struct sb_job spec = {0};
	struct sb_job *job = cli_job;
	int r;

	if ((r = sb_policy_load(policy_file, &policy, &err)) < 0) {
		sb_status_error(status_fd, &err);
		report(&err);
		return EXIT_SETUP;
	}
	r = sb_sandbox_prepare(&sb, &policy, status_fd, cache_dir, &err);
	if (r < 0)
		sb_status_error(status_fd, &err);
	if (r == 0 && spec_fd >= 0) {
		r = sb_sandbox_wait_ready(&sb, &err);
		if (r == 0 && (r = sb_job_read_spec(spec_fd, &spec, &err)) < 0)
			sb_status_error(status_fd, &err);
		job = &spec;
	}
	if (r == 0)
		r = sb_sandbox_run(&sb, job, &res, &err);
	sb_sandbox_release(&sb);
	sb_job_free(&spec);
	sb_policy_free(&policy);
	if (r < 0) {
		report(&err);
		return exit_code(&err);
	}
	if (res.limit && strcmp(res.limit, "cancel") == 0)
		fprintf(stderr, "python-mcp-sandbox: cancelled (SIGUSR1)\n");
	else if (res.limit)
		fprintf(stderr, "python-mcp-sandbox: the %s limit ended the run%s%s\n", res.limit,
			res.limit_detail[0] ? ": " : "", res.limit_detail);
	return res.signal ? 128 + res.signal : res.exit_code;
}

/* Closed stdio descriptors would be reused by the launcher's own pipes,
 * which would then become the command's stdio. */
static int ensure_stdio(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int nul = open("/dev/null", O_RDWR);
		if (nul < 0)
			return -1;
		if (nul != fd) {
			dup2(nul, fd);
			close(nul);
		}
	}
	return 0;
}

/* The sandbox dies with whoever started the launcher (the server). */
static int die_with_parent(void)
{
	pid_t parent = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return -1;
	return getppid() == parent ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"workspace", required_argument, NULL, 'w'},
	    {"cwd", required_argument, NULL, 'c'},
	    {"env", required_argument, NULL, 'e'},
	    {"status-fd", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 't'},
	    {"protect", required_argument, NULL, 'P'},
	    {"check-policy", required_argument, NULL, 'C'},
	    {"print-effective-policy", required_argument, NULL, 'E'},
	    {"explain-policy", required_argument, NULL, 'X'},
	    {"spec-fd", required_argument, NULL, 'S'},
	    {"cache-dir", required_argument, NULL, 'K'},
	    {"loopback-port", required_argument, NULL, 'L'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	char *env_extra[MAX_REPEATED + 1] = {0}, *protect[MAX_REPEATED + 1] = {0};
	struct sb_job job = {.env = env_extra, .protect = protect, .workspace_fd = -1};
	size_t n_env = 0, n_protect = 0;
	const char *policy_file = NULL, *check = NULL;
	enum sb_policy_command check_cmd = SB_POLICY_CHECK;
	const char *cache_dir = NULL;
	int status_fd = -1, spec_fd = -1, c;
	struct pm_error err = {0};

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'p':
			policy_file = optarg;
			break;
		case 'w':
			job.workspace = optarg;
			break;
		case 'c':
			job.cwd = optarg;
			break;
		case 'e':
			if (sb_env_check_assignment(optarg, &err) < 0) {
				report(&err);
				return EXIT_SETUP;
			}
			if (n_env == MAX_REPEATED)
				goto too_many;
			env_extra[n_env++] = optarg;
			break;
		case 'P':
			if (n_protect == MAX_REPEATED)
				goto too_many;
			protect[n_protect++] = optarg;
			break;
		case 's':
		case 'S':
			if (parse_fd(optarg, c == 's' ? &status_fd : &spec_fd) < 0) {
				fprintf(stderr,
					"python-mcp-sandbox: --%s `%s` is not an open "
					"descriptor >= 3\n",
					c == 's' ? "status-fd" : "spec-fd", optarg);
				return EXIT_SETUP;
			}
			break;
		case 't':
			job.timeout = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(job.timeout >= 0) ||
			    job.timeout > SB_TIMEOUT_MAX) {
				fprintf(stderr,
					"python-mcp-sandbox: --timeout `%s` is not a number of "
					"seconds from 0 to %d\n",
					optarg, SB_TIMEOUT_MAX);
				return EXIT_SETUP;
			}
			break;
		case 'K':
			cache_dir = optarg;
			break;
		case 'L': {
			long long port = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0')
				port = -1;
			if (sb_job_add_loopback_port(&job, port, &err) < 0) {
				report(&err);
				return EXIT_SETUP;
			}
			break;
		}
		case 'C':
		case 'E':
		case 'X':
			check = optarg;
			check_cmd =
			    c == 'C' ? SB_POLICY_CHECK
				     : (c == 'E' ? SB_POLICY_PRINT_EFFECTIVE : SB_POLICY_EXPLAIN);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("python-mcp-sandbox %s\n", PYMCP_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_SETUP;
		}
	}
	sb_policy_cli_find_shipped();
	if (check != NULL)
		return sb_policy_cli_run(check_cmd, check, protect, n_protect);
	if (policy_file == NULL || (spec_fd < 0 && (job.workspace == NULL || optind >= argc)) ||
	    (spec_fd >= 0 && (job.workspace != NULL || optind < argc))) {
		fprintf(stderr, "python-mcp-sandbox: give --policy, and either --workspace and a "
				"command after `--`, or --spec-fd\n");
		usage(stderr);
		return EXIT_SETUP;
	}
	job.argv = argv + optind;
	if (status_fd >= 0)
		fcntl(status_fd, F_SETFD, FD_CLOEXEC);
	if (spec_fd >= 0)
		fcntl(spec_fd, F_SETFD, FD_CLOEXEC);
	if (die_with_parent() < 0) {
		fprintf(stderr, "python-mcp-sandbox: the process that started the launcher is "
				"already gone; not starting a sandbox nobody waits for\n");
		return EXIT_SETUP;
	}
	if (ensure_stdio() < 0) {
		fprintf(stderr, "python-mcp-sandbox: cannot open /dev/null for closed stdio\n");
		return EXIT_SETUP;
	}
	/* A write to an init that died must fail with EPIPE, not kill us;
	 * the script gets the default disposition back before exec. */
	signal(SIGPIPE, SIG_IGN);
	return run(policy_file, status_fd, spec_fd, cache_dir, &job);
too_many:
	fprintf(stderr, "python-mcp-sandbox: more than %d --env or --protect options\n",
		MAX_REPEATED);
	return EXIT_SETUP;
}
