/* Cgroup limits (memory, pids, CPU) where the host delegates cgroups, on
 * cgroup v2 or on the v1 hierarchies of a hybrid host, per controller.  The
 * launcher creates one cgroup per run below its own, moves the sandbox
 * into it before the sandbox runs anything, and removes it at the end after
 * killing whatever is left in it. */
#ifndef SB_CGROUP_H
#define SB_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup_dir.h"
#include "error.h"
#include "policy.h"

enum sb_cg_controller { SB_CG_MEMORY, SB_CG_PIDS, SB_CG_CPU, SB_CG_COUNT };

struct sb_cgroup {
	/* Directory of the run's cgroup for each controller, NULL where the
	 * limit is not applied.  On v2 all point to the same directory. */
	char *dir[SB_CG_COUNT];
	int version[SB_CG_COUNT]; /* 1 or 2 where applied */
	char reason[384];	  /* why a wanted limit is missing, for the report */
	bool busy;		  /* v2 refused delegation: our cgroup holds processes */
	char name[64];		  /* the run's cgroup name, the same in every hierarchy */
};

struct sb_cgroup_stats {
	int64_t memory_peak_bytes; /* -1 when unknown */
	int64_t oom_kills;
	int64_t pids_max_events;
};

/* Creates the run's cgroups and writes the policy's limits.  Returns 0 when
 * every wanted limit applied; -ENOTSUP (with err filled) when some could not
 * be applied (the caller decides whether the layer is optional; cg then
 * holds what did apply); other negative errnos for hard failures. */
int sb_cgroup_create(const struct sb_cgroup_limits *limits, struct sb_cgroup *cg,
		     struct pm_error *err);

int sb_cgroup_add(const struct sb_cgroup *cg, pid_t pid, struct pm_error *err);

void sb_cgroup_stats(const struct sb_cgroup *cg, struct sb_cgroup_stats *st);

/* The file whose "oom_kill N" line counts the kernel's OOM kills among
 * the run's processes, as its folder (into dir) and name (*file):
 * memory.events (v2) or memory.oom_control (v1) of the run's memory
 * cgroup where it has one, else of the memory cgroup that holds the
 * launcher (a container's: kills in other containers do not count, kills
 * of other jobs beside this one in the same cgroup do).  -ENOENT when no
 * memory cgroup can be read. */
int sb_cgroup_oom_counter(const struct sb_cgroup *cg, char *dir, size_t size, const char **file);

/* Kills every process left in the run's cgroups. */
void sb_cgroup_kill(const struct sb_cgroup *cg);

/* Removes the cgroups (after sb_cgroup_kill) and frees cg. */
void sb_cgroup_destroy(struct sb_cgroup *cg);

bool sb_cgroup_any(const struct sb_cgroup *cg);

const char *sb_cg_controller_name(enum sb_cg_controller c);

#endif
