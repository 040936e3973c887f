#include "hash.h"

#include <nettle/sha2.h>
#include <stdio.h>

_Static_assert(sizeof(struct sha256_ctx) <= sizeof(((struct sb_sha256 *)0)->state),
	       "struct sb_sha256 holds a nettle sha256_ctx");

static struct sha256_ctx *ctx(struct sb_sha256 *h)
{
	return (struct sha256_ctx *)(void *)h->state;
}

void sb_sha256_init(struct sb_sha256 *h)
{
	sha256_init(ctx(h));
}

void sb_sha256_update(struct sb_sha256 *h, const void *data, size_t len)
{
	sha256_update(ctx(h), len, data);
}

void sb_sha256_hex(struct sb_sha256 *h, char out[SB_SHA256_HEX])
{
	unsigned char d[SHA256_DIGEST_SIZE];

	sha256_digest(ctx(h), sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * sizeof(d)] = '\0';
}

void sb_sha256_of(const void *data, size_t len, char out[SB_SHA256_HEX])
{
	struct sb_sha256 h;

	sb_sha256_init(&h);
	sb_sha256_update(&h, data, len);
	sb_sha256_hex(&h, out);
}
