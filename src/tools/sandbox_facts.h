/* What a script can expect of its sandbox, read from the effective run
 * policy (the JSON of `python-mcp-sandbox --print-effective-policy`: every
 * key present, optional limits null when not set), and said in a sentence
 * or two for agents: the network, memory, time, disk and where files
 * persist.  The values only describe; the launcher enforces them. */
#ifndef PYMCP_SANDBOX_FACTS_H
#define PYMCP_SANDBOX_FACTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The default of the execution tools' timeout_seconds. */
#define RUN_TIMEOUT_DEFAULT 300

#define SANDBOX_UNSET (-1)

enum sandbox_network { SANDBOX_NET_NONE, SANDBOX_NET_USER, SANDBOX_NET_HOST };

/* Each limit is SANDBOX_UNSET when the policy does not set it. */
struct sandbox_facts {
	enum sandbox_network network;
	int64_t memory_max_bytes; /* cgroup.memory_max_bytes */
	int64_t as_bytes;	  /* rlimits.as_bytes */
	int64_t cpu_seconds;	  /* rlimits.cpu_seconds */
	int64_t fsize_bytes;	  /* rlimits.fsize_bytes */
	int64_t nproc;		  /* rlimits.nproc */
	int64_t pids_max;	  /* cgroup.pids_max */
	double wall_seconds;	  /* limits.wall_seconds; 0: none */
	int64_t output_bytes;	  /* limits.output_bytes; 0: none */
	int64_t workspace_bytes;  /* workspace.max_bytes */
	int64_t workspace_inodes; /* workspace.max_inodes */
	int64_t tmp_bytes;	  /* tmp_size_bytes */
	int workspace_readonly;	  /* workspace.readonly */
};

/* The facts of an effective policy; what it lacks counts as not set. */
void sandbox_facts_read(const json_t *policy, struct sandbox_facts *out);

/* "2 GiB", "1536 MiB", "1.5 GiB", "100 bytes": exact where a unit
 * divides the value. */
void sandbox_bytes_text(int64_t bytes, char *buf, size_t size);

/* The sentences agents read in the instructions and the execution
 * tools' descriptions. */
void sandbox_facts_describe(const struct sandbox_facts *f, char *buf, size_t size);

#endif
