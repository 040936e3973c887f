/* SHA-256 (nettle) as hex, for content-addressed names: cache keys of
 * seccomp programs, environment directories, parsed PEP 723 headers. */
#ifndef PM_HASH_H
#define PM_HASH_H

#include <stddef.h>

#define PM_SHA256_HEX 65 /* 64 digits and a NUL */

struct pm_sha256 {
	_Alignas(8) unsigned char state[128]; /* a struct sha256_ctx of nettle */
};

void pm_sha256_init(struct pm_sha256 *h);
void pm_sha256_update(struct pm_sha256 *h, const void *data, size_t len);
/* The digest as 64 hex digits. */
void pm_sha256_hex(struct pm_sha256 *h, char out[PM_SHA256_HEX]);
/* The digest as 32 bytes. */
void pm_sha256_digest(struct pm_sha256 *h, unsigned char out[32]);

/* One buffer at once. */
void pm_sha256_of(const void *data, size_t len, char out[PM_SHA256_HEX]);

#endif
