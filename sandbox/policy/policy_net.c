/* The "network" section: no network, the host's, or a network of the
 * sandbox's own with outbound access through a user-mode stack (pasta).
 *
 *   "network": false | true | "none" | "host" | "user"
 *   "network": {"mode": "user", "helper": "/usr/bin/pasta"}
 *
 * false and true keep their old meaning ("none" and "host").
 */
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "policy.h"
#include "policy_read.h"

#define DEFAULT_HELPER "/usr/bin/pasta"

static int mode_value(struct sb_reader *r, const json_t *v, enum sb_net_mode *mode)
{
	static const char *const names[] = {"none", "host", "user"};
	const char *s;
	char quoted[96];

	SB_TRY(sb_rd_string_value(r, v, &s));
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*mode = (enum sb_net_mode)i;
			return 0;
		}
	}
	sb_rd_fail(r, SB_JSON_VALUE, "unknown network mode `%s`",
		   sb_rd_quote(s, quoted, sizeof(quoted)));
	return pm_error_hint(r->err, "the modes are \"none\" (loopback only), \"host\" (the "
				     "host's network) and \"user\" (outbound through a user-mode "
				     "stack that cannot reach the host)");
}

static int read_object(struct sb_reader *r, const json_t *net, struct sb_policy *p)
{
	static const char *const keys[] = {"mode", "helper", NULL};
	json_t *v;

	SB_TRY(sb_rd_object(r, net, keys));
	SB_TRY(sb_rd_require(r, net, "mode", &v));
	sb_json_path_push_key(&r->path, "mode");
	SB_TRY(mode_value(r, v, &p->net_mode));
	sb_json_path_pop(&r->path);
	if ((v = json_object_get(net, "helper")) == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "helper");
	if (p->net_mode != SB_NET_USER)
		return sb_rd_fail(r, SB_JSON_KEY, "only the \"user\" mode runs a helper");
	SB_TRY(sb_rd_path_value(r, v, false, &p->net_helper));
	sb_json_path_pop(&r->path);
	return 0;
}

/* The launcher writes /etc/resolv.conf for a user-mode network (its DNS
 * forwarder is the only resolver the sandbox reaches); a mount there
 * would hide it. */
static int check_mounts(struct sb_reader *r, const struct sb_policy *p)
{
	for (size_t i = 0; i < p->n_mounts; i++) {
		if (!pm_path_within("/etc/resolv.conf", p->mounts[i].target))
			continue;
		sb_json_path_push_key(&r->path, "mounts");
		sb_json_path_push_index(&r->path, i);
		sb_json_path_push_key(&r->path, "target");
		sb_rd_fail(r, SB_JSON_VALUE,
			   "`%s` would hide the /etc/resolv.conf that a "
			   "\"user\" network needs",
			   p->mounts[i].target);
		return pm_error_hint(r->err, "remove this mount: the launcher writes "
					     "/etc/resolv.conf pointing at the helper's DNS "
					     "forwarder");
	}
	return 0;
}

int sb_policy_read_network(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	json_t *net = json_object_get(root, "network");

	p->net_mode = SB_NET_NONE;
	if (net != NULL) {
		sb_json_path_push_key(&r->path, "network");
		if (json_is_boolean(net))
			p->net_mode = json_is_true(net) ? SB_NET_HOST : SB_NET_NONE;
		else if (json_is_string(net))
			SB_TRY(mode_value(r, net, &p->net_mode));
		else if (json_is_object(net))
			SB_TRY(read_object(r, net, p));
		else
			return sb_rd_type_error(r, net, "a boolean, a mode or an object");
		sb_json_path_pop(&r->path);
	}
	if (p->net_mode != SB_NET_USER)
		return 0;
	if (p->net_helper == NULL && (p->net_helper = strdup(DEFAULT_HELPER)) == NULL)
		return sb_rd_oom(r);
	return check_mounts(r, p);
}
