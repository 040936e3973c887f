/* Random bytes from the kernel (getrandom), one way for both programs. */
#ifndef PM_RANDOM_H
#define PM_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf, retrying on EINTR and short reads; 0 or a negative errno. */
int pm_random_bytes(void *buf, size_t len);

/* 2 * bytes hex digits and a NUL into out (bytes <= 32); 0 or a negative
 * errno. */
int pm_random_hex(char *out, size_t bytes);

/* For temporary names, where only uniqueness matters: never fails (falls
 * back to the pid and the clock when the kernel has no entropy yet). */
uint32_t pm_random_u32(void);

#endif
