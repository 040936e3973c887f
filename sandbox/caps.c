#include "caps.h"

#include <errno.h>
#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>

int sb_caps_drop_all(struct pm_error *err)
{
	cap_t none;
	int r;

	/* The bounding set needs CAP_SETPCAP, so it goes first. */
	for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return pm_error_errno(err, "capabilities",
					      "drop capability %d from the bounding set", c);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return pm_error_errno(err, "capabilities", "clear the ambient set");
	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
		      SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
		      SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) < 0)
		return pm_error_errno(err, "capabilities", "lock securebits");
	none = cap_init();
	if (none == NULL)
		return pm_error_errno(err, "capabilities", "cap_init");
	r = cap_set_proc(none);
	cap_free(none);
	if (r < 0)
		return pm_error_errno(err, "capabilities", "clear all capability sets");
	return 0;
}

int sb_no_new_privs(struct pm_error *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return pm_error_errno(err, "no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS)");
	return 0;
}
