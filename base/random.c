#include "random.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int pm_random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	return 0;
}

int pm_random_hex(char *out, size_t bytes)
{
	unsigned char b[32];
	int r;

	if (bytes > sizeof(b))
		return -EINVAL;
	if ((r = pm_random_bytes(b, bytes)) < 0)
		return r;
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * bytes] = '\0';
	return 0;
}

uint32_t pm_random_u32(void)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	return (uint32_t)getpid() ^ (uint32_t)time(NULL) ^ (uint32_t)clock();
}
