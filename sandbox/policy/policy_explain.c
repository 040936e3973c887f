/* `python-mcp-sandbox --explain-policy FILE`: the effective policy (after
 * "extends") in plain words, for the admin who wrote a few lines on top of
 * a base and wants to see the whole of what a script gets.  The seccomp
 * part is in policy_explain_seccomp.c.
 */
#include "policy_explain.h"

#include <inttypes.h>
#include <string.h>

const char *sb_explain_bytes(int64_t v, char *buf, size_t size)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double x = (double)v;
	size_t u = 0;

	if (v < 1024) {
		snprintf(buf, size, "%" PRId64 " bytes", v);
		return buf;
	}
	while (x >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		x /= 1024;
		u++;
	}
	if (x == (double)(int64_t)x)
		snprintf(buf, size, "%" PRId64 " %s", (int64_t)x, units[u]);
	else
		snprintf(buf, size, "%.1f %s", x, units[u]);
	return buf;
}

/* "a, b and c" of a list of strings, on one line. */
static void list(FILE *out, char *const *v, size_t n, const char *none)
{
	if (n == 0)
		fputs(none, out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i == 0 ? "" : (i + 1 == n ? " and " : ", "), v[i]);
	fputc('\n', out);
}

static void mounts(FILE *out, const struct sb_policy *p, bool readonly, bool etc)
{
	size_t shown = 0;

	for (size_t i = 0; i < p->n_mounts; i++) {
		const struct sb_mount *m = &p->mounts[i];

		if (m->type != SB_MOUNT_BIND || m->readonly != readonly || m->etc_entry != etc)
			continue;
		fprintf(out, "%s%s", shown++ == 0 ? "" : ", ", etc ? m->target + 5 : m->target);
		if (!etc && strcmp(m->source, m->target) != 0)
			fprintf(out, " (the host's %s)", m->source);
		if (!etc && m->device)
			fputs(" (a device node)", out);
		if (!etc && m->optional)
			fputs(" (if present)", out);
	}
	fputs(shown == 0 ? "nothing\n" : "\n", out);
}

static void files(FILE *out, const struct sb_policy *p)
{
	char a[32], b[32];

	fputs("\nFiles\n  Workspace: a directory the client names under ", out);
	list(out, p->workspace_roots, p->n_workspace_roots, "(no roots)");
	fputs("    never one that holds or lies in ", out);
	list(out, p->protected_paths, p->n_protected_paths, "(nothing protected)");
	fprintf(out, "    %s", p->workspace_readonly ? "read-only" : "writable");
	if (p->workspace_max_bytes != SB_UNSET)
		fprintf(out, "; a run may add %s",
			sb_explain_bytes(p->workspace_max_bytes, a, sizeof(a)));
	if (p->workspace_max_inodes != SB_UNSET)
		fprintf(out, " and %" PRId64 " files", p->workspace_max_inodes);
	fputs("; files there persist after the run.\n", out);
	fprintf(out, "    Without a directory: a scratch tmpfs of %s, discarded at the end.\n",
		sb_explain_bytes(p->workspace_max_bytes != SB_UNSET ? p->workspace_max_bytes
								    : p->tmp_size_bytes,
				 a, sizeof(a)));
	fputs("  Read-only from the host: ", out);
	mounts(out, p, true, false);
	fputs("  Writable from the host: ", out);
	mounts(out, p, false, false);
	fputs("  From the host's /etc, read-only, each if present: ", out);
	mounts(out, p, true, true);
	fprintf(out, "  Private and empty at the start: /tmp (%s), /dev/shm (%s)",
		sb_explain_bytes(p->tmp_size_bytes, a, sizeof(a)),
		sb_explain_bytes(p->shm_size_bytes, b, sizeof(b)));
	for (size_t i = 0; i < p->n_mounts; i++)
		if (p->mounts[i].type == SB_MOUNT_TMPFS)
			fprintf(out, ", %s (%s)", p->mounts[i].target,
				sb_explain_bytes(p->mounts[i].size_bytes, a, sizeof(a)));
	fputs("; nothing there outlives the run.\n", out);
	fprintf(out, "  /proc shows %s; nothing else of the host is visible.\n",
		p->proc_subset_pid ? "the sandbox's own processes only"
				   : "the sandbox's processes and the kernel's /proc files");
}

static void network(FILE *out, const struct sb_policy *p)
{
	fputs("\nNetwork\n  ", out);
	switch (p->net_mode) {
	case SB_NET_NONE:
		fputs("none: a network namespace of its own with only loopback; nothing outside "
		      "is reachable.\n",
		      out);
		break;
	case SB_NET_USER:
		fprintf(out,
			"user: outbound TCP and UDP to other hosts through %s; never the host "
			"itself, its loopback or link-local addresses (cloud metadata).%s\n",
			p->net_helper,
			p->optional_layers & SB_LAYER_USER_NET
			    ? " Where the helper is missing the run has loopback only."
			    : "");
		break;
	case SB_NET_HOST:
		fputs("host: the host's own network, loopback services included; no isolation "
		      "at all. Not for untrusted code.\n",
		      out);
		break;
	}
}

static void limit_line(FILE *out, const char *what, int64_t v, bool bytes, const char *key)
{
	char buf[32];

	if (v == SB_UNSET)
		return;
	if (bytes)
		fprintf(out, "  %s: %s (%s)\n", what, sb_explain_bytes(v, buf, sizeof(buf)), key);
	else
		fprintf(out, "  %s: %" PRId64 " (%s)\n", what, v, key);
}

static void limits(FILE *out, const struct sb_policy *p)
{
	const struct sb_cgroup_limits *cg = &p->cgroup;
	const struct sb_rlimits *rl = &p->rlimits;

	fputs("\nLimits\n", out);
	limit_line(out, "Memory", cg->memory_max_bytes, true, "cgroup.memory_max_bytes");
	if (cg->swap_max_bytes == 0)
		fputs("  Swap: none (cgroup.swap_max_bytes)\n", out);
	else
		limit_line(out, "Swap", cg->swap_max_bytes, true, "cgroup.swap_max_bytes");
	limit_line(out, "Address space", rl->as_bytes, true, "rlimits.as_bytes");
	limit_line(out, "Processes and threads", cg->pids_max, false, "cgroup.pids_max");
	limit_line(out, "Processes of the user", rl->nproc, false, "rlimits.nproc");
	if (!p->subprocesses)
		fputs("  Subprocesses: none; fork, vfork and clone without CLONE_THREAD fail with "
		      "EPERM, threads work (subprocesses)\n",
		      out);
	if (cg->cpu_max_percent != SB_UNSET)
		fprintf(out, "  CPU: %" PRId64 "%% of one CPU (cgroup.cpu_max_percent)\n",
			cg->cpu_max_percent);
	limit_line(out, "CPU time in seconds", rl->cpu_seconds, false, "rlimits.cpu_seconds");
	if (p->wall_seconds > 0)
		fprintf(out, "  Wall clock: %g seconds (limits.wall_seconds)\n", p->wall_seconds);
	else
		fputs("  Wall clock: none from the policy (the caller's timeout applies)\n", out);
	limit_line(out, "Largest file", rl->fsize_bytes, true, "rlimits.fsize_bytes");
	limit_line(out, "Open files", rl->nofile, false, "rlimits.nofile");
	if (rl->core_bytes == 0)
		fputs("  Core dumps: off (rlimits.core_bytes)\n", out);
	else
		limit_line(out, "Core dumps", rl->core_bytes, true, "rlimits.core_bytes");
	limit_line(out, "Stack", rl->stack_bytes, true, "rlimits.stack_bytes");
	if (p->output_bytes > 0)
		limit_line(out, "Output (stdout and stderr)", p->output_bytes, true,
			   "limits.output_bytes");
	fputs("  Limits not listed are not set by the policy: the launcher's own apply.\n", out);
}

static void environment(FILE *out, const struct sb_policy *p)
{
	fprintf(out, "\nEnvironment (nothing else of the launcher's)\n  Set:%s\n",
		p->n_env_set == 0 ? " nothing" : "");
	for (size_t i = 0; i < p->n_env_set; i++)
		fprintf(out, "    %s=%s\n", p->env_set[i].name, p->env_set[i].value);
	fputs("  Passed from the launcher when set there: ", out);
	list(out, p->env_pass, p->n_env_pass, "nothing");
}

static void identity(FILE *out, const struct sb_policy *p)
{
	fprintf(out,
		"\nIdentity\n  The script runs as uid %u, gid %u inside its own user namespace "
		"(host ids %u:%u when the launcher runs as root), hostname `%s`, with no "
		"capabilities and no way to gain privileges (no_new_privs).\n",
		(unsigned)p->uid, (unsigned)p->gid, (unsigned)p->host_uid, (unsigned)p->host_gid,
		p->hostname);
}

static void layers(FILE *out, const struct sb_policy *p)
{
	static const enum sb_layer all[] = {SB_LAYER_CGROUP, SB_LAYER_CGROUP_NS,
					    SB_LAYER_USERNS_LIMIT, SB_LAYER_USER_NET};
	size_t shown = 0;

	fputs("\nLayers\n  Every isolation layer is mandatory (a run that cannot apply one does "
	      "not start), except: ",
	      out);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (p->optional_layers & all[i])
			fprintf(out, "%s%s", shown++ ? ", " : "", sb_layer_name(all[i]));
	fputs(shown ? " (missing, the run goes on and is reported as degraded)\n" : "none\n", out);
}

void sb_policy_explain(FILE *out, const struct sb_policy *p)
{
	fprintf(out, "Policy `%s`", p->file);
	for (size_t i = 1; i < p->n_sources; i++)
		fprintf(out, "%s `%s`", i == 1 ? ", extending" : ", which extends", p->sources[i]);
	fputs(".\n", out);
	if (p->description != NULL)
		fprintf(out, "  %s\n", p->description);
	identity(out, p);
	files(out, p);
	network(out, p);
	limits(out, p);
	environment(out, p);
	layers(out, p);
	sb_policy_explain_seccomp(out, p);
}
