/* The sandbox side of a run.  The launcher clones a child into new user,
 * pid, mount, ipc, uts (and net) namespaces; that child is pid 1 of the
 * sandbox ("init").  It finishes the setup that must happen inside the
 * namespaces, forks the script, and then only reaps and forwards signals:
 * Python as pid 1 would neither reap orphans nor get default signal
 * handling.  When init exits, the kernel kills everything left in the pid
 * namespace, which is what guarantees that no process outlives a run. */
#ifndef SB_INIT_H
#define SB_INIT_H

#include <signal.h>
#include <stdbool.h>

#include "error.h"
#include "hostaddrs.h"
#include "mounts.h"
#include "policy.h"
#include "userns.h"

/* Messages from the sandbox to the launcher on the report pipe.  Each is
 * written with one write() and is smaller than PIPE_BUF, so it arrives
 * whole. */
enum sb_msg_type {
	SB_MSG_ERROR = 1, /* setup failed; err says where */
	SB_MSG_DEGRADED,  /* an optional layer is missing; err says which */
	SB_MSG_EXIT,	  /* the script ended with wait_status */
	SB_MSG_READY,	  /* prepared: waiting for the job */
	SB_MSG_RUNNING,	  /* the job's root is in place: the script starts */
};

struct sb_msg {
	int type;
	int wait_status;
	struct pm_error err;
};

/* Reads one message from the report pipe: 1 when one arrived (its
 * strings terminated, whatever the sandbox side wrote), 0 at EOF or on a
 * short read, -EAGAIN when nothing is there yet. */
int sb_msg_read(int fd, struct sb_msg *m);

/* The "degraded" status event for an optional layer that is missing. */
void sb_msg_emit_degraded(int status_fd, const struct sb_msg *m);

/* Sent by the launcher to init on timeout or cancel: kill every other
 * process of the sandbox now. */
#define SB_SIGNAL_KILL_ALL (SIGRTMIN + 1)

struct sb_init_config {
	const struct sb_policy *policy;
	struct sb_idmap map;
	bool drop_groups; /* the launcher is root: drop inherited groups */
	struct sb_mount_plan mounts;
	int sync_fd;			       /* read end: 'g' once the id maps are written,
						  'c' once the cgroups hold us */
	int report_fd;			       /* write end of the report pipe */
	int job_fd;			       /* socket the packed job arrives on */
	int stdout_fd, stderr_fd;	       /* relay pipes, or -1 to keep the launcher's */
	int progress_fd;		       /* write end the script inherits (progress.h) */
	const struct sb_hostaddrs *host_addrs; /* a "user" network never reaches these */
};

_Noreturn void sb_init_main(const struct sb_init_config *cfg);

#endif
