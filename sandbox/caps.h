/* The last privilege steps before exec: every capability dropped (the
 * bounding and ambient sets too), securebits locked so a uid change cannot
 * bring them back, no_new_privs so setuid files grant nothing. */
#ifndef SB_CAPS_H
#define SB_CAPS_H

#include "error.h"

int sb_caps_drop_all(struct pm_error *err);
int sb_no_new_privs(struct pm_error *err);

#endif
