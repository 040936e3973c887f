/* The sandbox's /etc: the policy's "etc" entries are looked up below the
 * host's /etc without following links; /etc/passwd, /etc/group,
 * /etc/hostname and /etc/hosts are written inside the new root unless the
 * policy binds its own, and with a "user" network /etc/resolv.conf, which
 * names the helper's DNS forwarder. */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "mounts_internal.h"
#include "net.h"

int sb_mnt_open_etc_parent(const char *source, const char **leaf, struct pm_error *err)
{
	/* No link anywhere on the way, /etc itself included: an entry shows
	 * what lies in /etc and nothing a link there names. */
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	const char *slash = strrchr(source, '/');
	char parent[PATH_MAX];
	int fd;

	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - source), source);
	*leaf = slash + 1;
	fd = (int)syscall(SYS_openat2, AT_FDCWD, parent, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	pm_error_errno(err, "mount", "open `%s` for the etc entry `%s`", parent, source);
	if (errno == ELOOP)
		pm_error_hint(err, "`etc` entries are never reached through a symbolic link: list "
				   "the entry the link names, or bind it under `mounts`");
	return pm_error_code(err);
}

/* Creates `name` in dirfd with `text`, unless the policy binds its own. */
static int write_new(int dirfd, const char *name, const char *text, struct pm_error *err)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);

	fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		return pm_error_errno(err, "mount", "create `/etc/%s`", name);
	}
	int r = pm_write_all(fd, text, len);
	if (r < 0)
		return pm_error_set(err, "mount", -r, "write `/etc/%s`", name);
	return 0;
}

int sb_mnt_populate_etc(int rootfd, const struct sb_policy *policy, const char *workspace,
			uid_t uid, gid_t gid, struct pm_error *err)
{
	/* Resolved inside the new root: an /etc that a policy made a
	 * symlink cannot send these writes to the host. */
	_cleanup_close_ int etc = sb_mnt_make_target(rootfd, "/etc", false, err);
	char text[512];
	int r;

	if (etc < 0)
		return etc;
	snprintf(text, sizeof(text),
		 "root:x:0:0:root:/root:/usr/sbin/nologin\n"
		 "sandbox:x:%u:%u:sandbox:%s:/bin/sh\n"
		 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		 uid, gid, workspace);
	if ((r = write_new(etc, "passwd", text, err)) < 0)
		return r;
	snprintf(text, sizeof(text), "root:x:0:\nsandbox:x:%u:\nnogroup:x:65534:\n", gid);
	if ((r = write_new(etc, "group", text, err)) < 0)
		return r;
	snprintf(text, sizeof(text), "%s\n", policy->hostname);
	if ((r = write_new(etc, "hostname", text, err)) < 0)
		return r;
	/* localhost resolves without DNS (there is none without the network),
	 * and the host's own names stay unknown. */
	snprintf(text, sizeof(text),
		 "127.0.0.1\tlocalhost\n"
		 "::1\tlocalhost ip6-localhost ip6-loopback\n"
		 "127.0.1.1\t%s\n",
		 policy->hostname);
	if ((r = write_new(etc, "hosts", text, err)) < 0)
		return r;
	if (policy->net_mode != SB_NET_USER)
		return 0;
	/* The policy loader refuses mounts over it: a file there now is not
	 * ours, and a resolver elsewhere is unreachable. */
	if (faccessat(etc, "resolv.conf", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return pm_error_set(err, "mount", EEXIST,
				    "`/etc/resolv.conf` exists before the "
				    "launcher writes it for the user-mode network");
	return write_new(etc, "resolv.conf", "nameserver " SB_USERNET_DNS "\n", err);
}
