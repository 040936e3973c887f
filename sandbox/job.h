/* A job: what one run executes (command, workspace, working directory,
 * environment, time limit).  It comes from the command line, or as JSON on
 * --spec-fd for a launcher that prepared its sandbox ahead of time; the
 * launcher then hands it to the sandbox's init as one packed message. */
#ifndef SB_JOB_H
#define SB_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* A file init writes into the sandbox's private /tmp before the script
 * starts (inline code): it never touches the host and goes with the job. */
struct sb_job_file {
	char *path; /* absolute, below /tmp */
	char *data; /* may hold NULs */
	size_t len;
};

/* A directory of the host shown read-only inside the sandbox (a
 * dependency environment, a wheel directory): nosuid, nodev, not
 * recursive. */
struct sb_job_bind {
	char *source; /* host path */
	char *target; /* absolute path inside, outside the workspace */
};

/* Most read-only binds one job may ask for. */
#define SB_JOB_BINDS_MAX 8

/* Largest packed job init accepts. */
#define SB_JOB_PACKED_MAX (8 << 20)

/* Most host loopback ports one job may reach (the admin's indexes and
 * proxies; a "user" network forwards them, usernet.h). */
#define SB_LOOPBACK_PORTS_MAX 16

/* Longest wall-clock limit accepted, in seconds (about 115 days). */
#define SB_TIMEOUT_MAX 10000000

struct sb_job {
	char *workspace;	/* as given; canonical once resolved; NULL with scratch */
	int workspace_fd;	/* the server's open workspace (spec "workspace_fd"), or -1 */
	bool scratch;		/* a fresh tmpfs inside the sandbox instead of a host
				   directory (the policy's workspace.max_bytes/inodes) */
	char *workspace_target; /* where it appears inside; NULL = its own path */
	char *cwd;		/* NULL = the workspace; relative = below it */
	char **argv;		/* NULL-terminated */
	char **env;		/* extra "K=V" (--env), NULL-terminated */
	char **protect;		/* extra protected paths, NULL-terminated */
	double timeout;		/* seconds, 0 = the policy's */
	struct sb_job_file *files;
	size_t n_files;
	struct sb_job_bind *binds;
	size_t n_binds;
	int loopback_ports[SB_LOOPBACK_PORTS_MAX]; /* the sandbox's 127.0.0.1:P is the host's */
	size_t n_loopback_ports;
};

/* Where a scratch workspace appears inside when the job names no target. */
#define SB_SCRATCH_TARGET "/workspace"

/* Adds a host loopback port (1 to 65535; duplicates count once). */
int sb_job_add_loopback_port(struct sb_job *job, long long port, struct pm_error *err);

/* Reads one JSON object from the socket fd until EOF:
 *   {"workspace": DIR, "argv": [..], "cwd": DIR?, "env": {"K": "V"}?,
 *    "timeout": S?, "protect": [DIR]?, "files": {"/tmp/x.py": "content"}?,
 *    "workspace_target": DIR?, "binds": [{"source": DIR, "target": DIR}]?,
 *    "loopback_ports": [PORT]?, "workspace_fd": true?, "scratch": true?}
 * With "workspace_fd", the workspace is the one descriptor that came with
 * the first bytes (SCM_RIGHTS): the directory the server opened and
 * checked, which the launcher checks again and never resolves by name.
 * With "scratch", there is no host workspace at all.  Unknown keys and
 * wrong types are errors that name the key. */
int sb_job_read_spec(int fd, struct sb_job *job, struct pm_error *err);

/* Flattens what init needs into one buffer of NUL-terminated strings
 * and length-prefixed blobs (files, the seccomp program), and back.
 * envp is the final environment, built by the launcher. */
struct sb_bpf;

struct sb_job_layout {
	const char *workspace;	      /* canonical host path */
	const char *workspace_target; /* where it is mounted inside */
	const char *cwd;
	char *const *argv;
	char *const *envp;
	const struct sb_job_file *files;
	size_t n_files;
	const struct sb_job_bind *binds;
	size_t n_binds;
	const struct sb_bpf *bpf; /* may be NULL */
	/* Which mount trees travel with the job (SCM_RIGHTS): the
	 * workspace's first when sent, then one per bind when sent.  A tree
	 * not sent is opened by init itself. */
	bool ws_tree_sent;
	bool bind_trees_sent;
	/* A scratch tmpfs instead of a host directory. */
	bool scratch;
	/* The workspace's inode, which init checks when it opens the
	 * workspace by path itself (no tree sent). */
	unsigned long long ws_dev, ws_ino;
};

int sb_job_pack(const struct sb_job_layout *in, char **buf, size_t *len, struct pm_error *err);

struct sb_packed_job {
	char *buf; /* owns every string below */
	const char *workspace;
	const char *workspace_target;
	const char *cwd;
	char **argv;
	char **envp;
	struct sb_job_file *files; /* path and data point into buf */
	size_t n_files;
	struct sb_job_bind *binds; /* source and target point into buf */
	size_t n_binds;
	bool ws_tree_sent, bind_trees_sent, scratch;
	unsigned long long ws_dev, ws_ino;
	void *bpf; /* aligned copy of the seccomp program, or NULL */
	size_t bpf_len;
	unsigned bpf_flags;
};

int sb_job_unpack(char *buf, size_t len, struct sb_packed_job *out);
void sb_packed_job_free(struct sb_packed_job *pj);

void sb_job_free(struct sb_job *job);

/* Mount trees one job carries: the workspace's and one per bind. */
#define SB_JOB_FDS_MAX (1 + SB_JOB_BINDS_MAX)

/* Carries a packed job and the mount trees it names (at most
 * SB_JOB_FDS_MAX fds) from the launcher to init over a stream
 * socket. */
int sb_job_send(int sock, const char *buf, size_t len, const int *fds, size_t n_fds,
		struct pm_error *err);
int sb_job_recv(int sock, char **buf, size_t *len, int *fds, size_t *n_fds);

/* Duplicates a NULL-terminated string array (n entries of src, or up to
 * NULL when n is (size_t)-1). */
char **sb_strv_dup(char *const *src, size_t n);
void sb_strv_free(char **v);

#endif
