/* The "etc" section: entries of the host's /etc that the sandbox may read
 * (Debian's alternatives, fontconfig, CA certificates, ...).  Each becomes a
 * read-only, optional bind of /etc/NAME at the same place, appended to the
 * policy's mounts and marked `etc_entry`, so that the mount step resolves it
 * below /etc without following any symbolic link (mounts.c).
 *
 * Some entries of /etc hold secrets on every Debian system.  They are
 * refused here, and so is any bind whose source is one of them or holds
 * one, whatever section names it: a sandbox never sees them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "policy.h"
#include "policy_read.h"

/* Below /etc: what holds secrets (password hashes, private keys, host
 * identity, credentials) on a Debian system or a common admin setup, with
 * what it holds for the message.  A guard against mistakes, not a
 * complete list: policies/README.md asks admins to review what they add. */
static const char *const secrets[][2] = {
    {"shadow", "password hashes"},
    {"shadow-", "password hashes"},
    {"gshadow", "group password hashes"},
    {"gshadow-", "group password hashes"},
    {"security/opasswd", "old password hashes"},
    {"ssh", "the host's SSH keys"},
    {"ssl/private", "private TLS keys"},
    {"letsencrypt", "private TLS keys"},
    {"machine-id", "the machine's identity"},
    {"krb5.keytab", "Kerberos keys"},
    {"sudoers", "the sudo rules"},
    {"sudoers.d", "the sudo rules"},
    {"credstore", "systemd credentials"},
    {"credstore.encrypted", "systemd credentials"},
    {"NetworkManager/system-connections", "network passwords"},
    {"wireguard", "WireGuard keys"},
    {"ipsec.secrets", "IPsec keys"},
    {"ppp/chap-secrets", "PPP passwords"},
    {"ppp/pap-secrets", "PPP passwords"},
    {"mysql/debian.cnf", "a database password"},
    {"environment", "variables set for every login, often proxy credentials"},
    {"python-mcp", "the server's configuration"},
};

/* Launcher-written files of the sandbox's /etc (mounts_etc.c). */
static const char *const own[] = {"passwd", "group", "hostname"};

int sb_rd_refuse_secret(struct sb_reader *r, const char *path)
{
	char abs[256], quoted[96];

	sb_rd_quote(path, quoted, sizeof(quoted));
	for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++) {
		snprintf(abs, sizeof(abs), "/etc/%s", secrets[i][0]);
		if (!pm_path_overlaps(path, abs))
			continue;
		if (pm_path_within(path, abs))
			return sb_rd_fail(r, SB_JSON_VALUE,
					  "`%s` holds %s and is never shown to a "
					  "sandbox",
					  quoted, secrets[i][1]);
		sb_rd_fail(r, SB_JSON_VALUE,
			   "`%s` holds `%s` (%s), which is never shown to a "
			   "sandbox",
			   quoted, abs, secrets[i][1]);
		return pm_error_hint(r->err, "show only what programs need, entry by entry "
					     "(`/etc/ssl/certs`, not `/etc/ssl`)");
	}
	return 0;
}

/* A relative, canonical path below /etc; on success *out is "/etc/NAME". */
static int read_name(struct sb_reader *r, const json_t *v, char **out)
{
	char quoted[96];
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return sb_rd_type_error(r, v, "a path below /etc such as \"ssl/certs\"");
	s = json_string_value(v);
	len = json_string_length(v);
	sb_rd_quote(s, quoted, sizeof(quoted));
	if (len != strlen(s))
		return sb_rd_fail(r, SB_JSON_VALUE, "a path cannot contain a NUL character");
	if (len > 200)
		return sb_rd_fail(r, SB_JSON_VALUE, "an `etc` entry is at most 200 bytes long");
	if (strncmp(s, "/etc/", 5) == 0) {
		sb_rd_fail(r, SB_JSON_VALUE, "entries are relative to /etc, got `%s`", quoted);
		return pm_error_hint(r->err, "write `%s`", quoted + 5);
	}
	if (len + 6 > 256 || (*out = malloc(len + 6)) == NULL)
		return sb_rd_oom(r);
	snprintf(*out, len + 6, "/etc/%s", s);
	if (!pm_path_is_clean_absolute(*out) || s[0] == '/' || s[len - 1] == '/') {
		sb_rd_fail(r, SB_JSON_VALUE,
			   "expected a path below /etc such as \"ssl/certs\" (no "
			   "leading or trailing `/`, no empty, `.` or `..` component), got `%s`",
			   quoted);
		free(*out);
		*out = NULL;
		return pm_error_code(r->err);
	}
	return 0;
}

/* The entry against the launcher's own files, the secrets, and what the
 * policy already shows there. */
static int check_entry(struct sb_reader *r, const struct sb_policy *p, size_t first_etc,
		       const char *abs)
{
	char quoted[96];

	sb_rd_quote(abs, quoted, sizeof(quoted));
	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++) {
		if (strcmp(abs + 5, own[i]) == 0)
			return sb_rd_fail(r, SB_JSON_VALUE, "the launcher writes `%s` itself",
					  quoted);
	}
	SB_TRY(sb_rd_refuse_secret(r, abs));
	for (size_t j = 0; j < p->n_mounts; j++) {
		const struct sb_mount *m = &p->mounts[j];
		if (j < first_etc && strcmp(m->target, abs) == 0)
			return sb_rd_fail(r, SB_JSON_VALUE,
					  "`%s` is already mounted by "
					  "$.mounts[%zu]",
					  quoted, j);
		if (j >= first_etc && pm_path_overlaps(m->target, abs)) {
			if (strcmp(m->target, abs) == 0)
				return sb_rd_fail(r, SB_JSON_VALUE, "`%s` is listed twice",
						  quoted + 5);
			return sb_rd_fail(r, SB_JSON_VALUE,
					  "`%s` overlaps $.etc[%zu] (`%s`): "
					  "list one or the other",
					  quoted + 5, j - first_etc, m->target + 5);
		}
	}
	return 0;
}

int sb_policy_read_etc(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	json_t *etc = json_object_get(root, "etc");
	size_t first = p->n_mounts, i;
	struct sb_mount *grown;
	json_t *v;

	if (etc == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "etc");
	if (!json_is_array(etc))
		return sb_rd_type_error(r, etc, "an array of paths below /etc");
	grown = realloc(p->mounts, (first + json_array_size(etc) + 1) * sizeof(*grown));
	if (grown == NULL)
		return sb_rd_oom(r);
	p->mounts = grown;
	json_array_foreach (etc, i, v) {
		struct sb_mount *m = &p->mounts[first + i];
		char *abs = NULL;
		int rc;

		sb_json_path_push_index(&r->path, i);
		SB_TRY(read_name(r, v, &abs));
		if ((rc = check_entry(r, p, first, abs)) < 0) {
			free(abs);
			return rc;
		}
		*m = (struct sb_mount){.type = SB_MOUNT_BIND,
				       .target = abs,
				       .readonly = true,
				       .optional = true,
				       .etc_entry = true};
		p->n_mounts = first + i + 1;
		if ((m->source = strdup(abs)) == NULL)
			return sb_rd_oom(r);
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}
