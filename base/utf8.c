#include "utf8.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char replacement[3] = {(char)0xEF, (char)0xBF, (char)0xBD};

/* Length of the well-formed sequence a lead byte starts (0: never valid)
 * and the range its second byte must lie in (Unicode table 3-7), which is
 * what excludes overlong forms, surrogates and code points past U+10FFFF. */
static unsigned lead_info(uint8_t b, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (b >= 0xC2 && b <= 0xDF)
		return 2;
	if (b == 0xE0) {
		*lo = 0xA0;
		return 3;
	}
	if (b == 0xED) {
		*hi = 0x9F;
		return 3;
	}
	if (b >= 0xE1 && b <= 0xEF)
		return 3;
	if (b == 0xF0) {
		*lo = 0x90;
		return 4;
	}
	if (b >= 0xF1 && b <= 0xF3)
		return 4;
	if (b == 0xF4) {
		*hi = 0x8F;
		return 4;
	}
	return 0;
}

int utf8_sanitize(const char *in, size_t len, bool complete, char **out, size_t *out_len,
		  size_t *consumed)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t i = 0, o = 0;
	char *buf;

	/* Each input byte yields at most three output bytes (one U+FFFD). */
	if (len > (SIZE_MAX - 1) / 3)
		return -ENOMEM;
	buf = malloc(len * 3 + 1);
	if (buf == NULL)
		return -ENOMEM;
	while (i < len) {
		uint8_t lo, hi;
		unsigned n, k;

		if (s[i] < 0x80) {
			buf[o++] = (char)s[i++];
			continue;
		}
		n = lead_info(s[i], &lo, &hi);
		for (k = 1; k < n && i + k < len; k++) {
			uint8_t c = s[i + k];

			if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF))
				break;
		}
		if (n != 0 && k == n) {
			memcpy(buf + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		if (n != 0 && i + k == len && !complete)
			break; /* a prefix of a valid character: wait for the rest */
		/* The maximal subpart s[i..i+k) is one error, at least one byte. */
		memcpy(buf + o, replacement, sizeof(replacement));
		o += sizeof(replacement);
		i += k > 0 ? k : 1;
	}
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	*consumed = i;
	return 0;
}

size_t utf8_valid_prefix(const char *in, size_t len, bool controls_ok)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t i = 0;

	while (i < len) {
		uint8_t lo, hi;
		unsigned n = s[i] < 0x80 ? 1 : lead_info(s[i], &lo, &hi);

		if (n == 0 || i + n > len)
			return i;
		if (n == 1 && !controls_ok &&
		    (s[i] == 0x7F || (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')))
			return i;
		if (n > 1 && (s[i + 1] < lo || s[i + 1] > hi))
			return i;
		for (unsigned k = 2; k < n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return i;
		i += n;
	}
	return i;
}
