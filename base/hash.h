/* SHA-256 (nettle) as hex, for content-addressed names: cache keys of
 * seccomp programs, environment directories, parsed PEP 723 headers. */
#ifndef SB_HASH_H
#define SB_HASH_H

#include <stddef.h>

#define SB_SHA256_HEX 65 /* 64 digits and a NUL */

struct sb_sha256 {
	_Alignas(8) unsigned char state[128]; /* a struct sha256_ctx of nettle */
};

void sb_sha256_init(struct sb_sha256 *h);
void sb_sha256_update(struct sb_sha256 *h, const void *data, size_t len);
/* The digest as 64 hex digits. */
void sb_sha256_hex(struct sb_sha256 *h, char out[SB_SHA256_HEX]);

/* One buffer at once. */
void sb_sha256_of(const void *data, size_t len, char out[SB_SHA256_HEX]);

#endif
