/* Standard base64 (RFC 4648 §4, with padding), by nettle, for binary
 * resource contents and image blocks. */
#ifndef PM_BASE64_H
#define PM_BASE64_H

#include <stddef.h>

/* *out (malloc'd, NUL-terminated) holds the encoding of in[0..len);
 * returns 0 or -ENOMEM. */
int pm_base64_encode(const void *in, size_t len, char **out);

#endif
