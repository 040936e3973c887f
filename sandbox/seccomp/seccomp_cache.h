/* A cache of compiled seccomp programs, so that launchers after the first
 * skip the ~2 ms of libseccomp work per run.  An entry is keyed by the
 * policy's seccomp section (canonical JSON), the libseccomp version, the
 * kernel release (minKernel rules) and the architecture.  The cache
 * directory and its files must belong to the launcher's user and be
 * writable by nobody else: a planted entry would be a planted filter. */
#ifndef SB_SECCOMP_CACHE_H
#define SB_SECCOMP_CACHE_H

#include <jansson.h>

#include "error.h"
#include "hash.h"
#include "seccomp_bpf.h"

/* 32 hex characters naming the entry for this profile on this machine. */
int sb_bpf_cache_key(const json_t *profile, char key[PM_SHA256_HEX]);

/* 0 and *out filled on a hit; -ENOENT on a miss; another negative errno
 * (err filled) when the directory or entry is not trustworthy. */
int sb_bpf_cache_load(const char *dir, const char *key, struct sb_bpf *out, struct pm_error *err);

/* Stores an entry atomically (temp file, rename); failures only cost the
 * next run a compile, so they are reported, not fatal. */
int sb_bpf_cache_store(const char *dir, const char *key, const struct sb_bpf *bpf,
		       struct pm_error *err);

#endif
