/* Unguessable job ids. */
#ifndef PYMCP_UUID_H
#define PYMCP_UUID_H

#include "error.h"

#define UUID_TEXT_LEN 36

/* A random (version 4) UUID in its lowercase 8-4-4-4-12 text form, from
 * getrandom(): 122 random bits, so ids cannot be guessed or enumerated. */
int uuid_v4(char out[UUID_TEXT_LEN + 1], struct pm_error *err);

#endif
