#include "base64.h"

#include <errno.h>
#include <nettle/base64.h>
#include <stdint.h>
#include <stdlib.h>

int pm_base64_encode(const void *in, size_t len, char **out)
{
	size_t n;

	*out = NULL;
	if (len > SIZE_MAX / 2)
		return -ENOMEM;
	n = BASE64_ENCODE_RAW_LENGTH(len);
	if ((*out = malloc(n + 1)) == NULL)
		return -ENOMEM;
	base64_encode_raw(*out, len, in);
	(*out)[n] = '\0';
	return 0;
}
