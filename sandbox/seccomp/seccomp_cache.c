#include "seccomp_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cleanup.h"
#include "random.h"
#include "fileio.h"
#include "hash.h"

#define MAGIC "PYMCPBPF"

struct entry_header {
	char magic[8];
	char key[64];
	uint32_t flags;
	uint32_t len;
};

/* SHA-256 of the profile and of what else shapes the program (libseccomp,
 * the kernel, the launcher's version). */
int sb_bpf_cache_key(const json_t *profile, char key[PM_SHA256_HEX])
{
	_cleanup_free_ char *json = json_dumps(profile, JSON_COMPACT | JSON_SORT_KEYS);
	const struct scmp_version *v = seccomp_version();
	struct pm_sha256 h;
	struct utsname u;
	char extra[512];

	if (json == NULL || uname(&u) < 0)
		return -ENOMEM;
	snprintf(extra, sizeof(extra), "|%u.%u.%u|%s|%s|%s", v->major, v->minor, v->micro,
		 u.release, u.machine, PYMCP_VERSION);
	pm_sha256_init(&h);
	pm_sha256_update(&h, json, strlen(json));
	pm_sha256_update(&h, extra, strlen(extra));
	pm_sha256_hex(&h, key);
	return 0;
}

static int trusted(int fd, const char *what, struct pm_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return pm_error_errno(err, "seccomp_cache", "stat `%s`", what);
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		pm_error_set(err, "seccomp_cache", EPERM,
			     "cache `%s` is not owned by uid %u with "
			     "no write access for others",
			     what, (unsigned)geteuid());
		return pm_error_hint(err, "give the launcher a private directory "
					  "(chmod 700, owned by its user)");
	}
	return 0;
}

int sb_bpf_cache_load(const char *dir, const char *key, struct sb_bpf *out, struct pm_error *err)
{
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = -1;
	struct entry_header h;
	char name[PM_SHA256_HEX + 8];
	int r;

	memset(out, 0, sizeof(*out));
	if (dfd < 0)
		return errno == ENOENT ? -ENOENT
				       : pm_error_errno(err, "seccomp_cache", "`%s`", dir);
	if ((r = trusted(dfd, dir, err)) < 0)
		return r;
	snprintf(name, sizeof(name), "%s.bpf", key);
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -ENOENT;
	if ((r = trusted(fd, name, err)) < 0)
		return r;
	if (read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) || memcmp(h.magic, MAGIC, 8) != 0 ||
	    memcmp(h.key, key, sizeof(h.key)) != 0 || h.len == 0 || h.len % 8 != 0 ||
	    h.len > (1 << 20))
		return -ENOENT; /* not ours, or torn: compile afresh */
	out->insns = malloc(h.len);
	if (out->insns == NULL)
		return -ENOMEM;
	if (read(fd, out->insns, h.len) != (ssize_t)h.len) {
		sb_bpf_free(out);
		return -ENOENT;
	}
	out->len = h.len;
	out->flags = h.flags;
	return 0;
}

int sb_bpf_cache_store(const char *dir, const char *key, const struct sb_bpf *bpf,
		       struct pm_error *err)
{
	struct entry_header h = {.flags = bpf->flags, .len = (uint32_t)bpf->len};
	char tmp[PATH_MAX], final[PATH_MAX];
	int fd, r;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return pm_error_errno(err, "seccomp_cache", "create `%s`", dir);
	memcpy(h.magic, MAGIC, 8);
	memcpy(h.key, key, sizeof(h.key));
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d.%08x", dir, key, (int)getpid(), pm_random_u32());
	snprintf(final, sizeof(final), "%s/%s.bpf", dir, key);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return pm_error_errno(err, "seccomp_cache", "create `%s`", tmp);
	r = pm_write_all(fd, &h, sizeof(h));
	if (r == 0)
		r = pm_write_all(fd, bpf->insns, bpf->len);
	close(fd);
	if (r == 0 && rename(tmp, final) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return pm_error_set(err, "seccomp_cache", -r, "store `%s`", final);
	}
	return 0;
}
