#include "hash.h"

#include <nettle/sha2.h>
#include <stdio.h>

_Static_assert(sizeof(struct sha256_ctx) <= sizeof(((struct pm_sha256 *)0)->state),
	       "struct pm_sha256 holds a nettle sha256_ctx");

static struct sha256_ctx *ctx(struct pm_sha256 *h)
{
	return (struct sha256_ctx *)(void *)h->state;
}

void pm_sha256_init(struct pm_sha256 *h)
{
	sha256_init(ctx(h));
}

void pm_sha256_update(struct pm_sha256 *h, const void *data, size_t len)
{
	sha256_update(ctx(h), len, data);
}

void pm_sha256_digest(struct pm_sha256 *h, unsigned char out[32])
{
	sha256_digest(ctx(h), SHA256_DIGEST_SIZE, out);
}

void pm_sha256_hex(struct pm_sha256 *h, char out[PM_SHA256_HEX])
{
	unsigned char d[SHA256_DIGEST_SIZE];

	pm_sha256_digest(h, d);
	for (size_t i = 0; i < sizeof(d); i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * sizeof(d)] = '\0';
}

void pm_sha256_of(const void *data, size_t len, char out[PM_SHA256_HEX])
{
	struct pm_sha256 h;

	pm_sha256_init(&h);
	pm_sha256_update(&h, data, len);
	pm_sha256_hex(&h, out);
}
