/* Making arbitrary bytes (what a script prints) safe to embed in JSON. */
#ifndef PYMCP_UTF8_H
#define PYMCP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Copies in[0..len) to *out (malloc'd, NUL-terminated, *out_len bytes
 * without the NUL) with every ill-formed UTF-8 sequence replaced by U+FFFD,
 * one per maximal subpart as the Unicode standard recommends (what Python's
 * errors="replace" does).  When `complete` is false, a sequence cut short
 * by the end of `in` that could still become valid is left out: *consumed
 * then stops before it, so a reader of a growing file resumes at a
 * character boundary.  Returns 0 or -ENOMEM. */
int utf8_sanitize(const char *in, size_t len, bool complete, char **out, size_t *out_len,
		  size_t *consumed);

/* How many bytes of in[0..len) are well-formed UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF are not), stopping at the
 * first that is not, or (unless controls_ok) at the first control
 * character other than tab, newline and carriage return.  A sequence cut
 * by the end also stops it. */
size_t utf8_valid_prefix(const char *in, size_t len, bool controls_ok);

#endif
