#include "uuid.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

int uuid_v4(char out[UUID_TEXT_LEN + 1], struct sb_error *err)
{
	unsigned char b[16];
	size_t got = 0;

	/* Requests this small are never cut short once the pool is ready,
	 * but a signal may interrupt the wait for it. */
	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sb_error_errno(err, "jobs", "getrandom");
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
	snprintf(out, UUID_TEXT_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}
