#include "uuid.h"
#include "random.h"

#include <errno.h>
#include <stdio.h>

int uuid_v4(char out[UUID_TEXT_LEN + 1], struct pm_error *err)
{
	unsigned char b[16];
	int r = pm_random_bytes(b, sizeof(b));

	if (r < 0)
		return pm_error_set(err, "jobs", -r, "getrandom");
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
	snprintf(out, UUID_TEXT_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}
