/* The media type of a file a run left, for the result's `files` and for
 * resources/read: images by their magic bytes only (a name never makes a
 * file an image), other types by the name's extension, and text when the
 * first bytes are UTF-8 without NULs. */
#ifndef PYMCP_MIME_SNIFF_H
#define PYMCP_MIME_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of a file's start mime_sniff() looks at. */
#define MIME_SNIFF_HEAD 512

/* name: the file's name (its last component is what counts); head: its
 * first bytes (len <= MIME_SNIFF_HEAD), or all of it when shorter. */
const char *mime_sniff(const char *name, const unsigned char *head, size_t len);

/* image/png, image/jpeg, image/gif, image/webp, image/svg+xml: what MCP
 * clients show as an image block. */
bool mime_is_image(const char *mime);

/* Whether resources/read may serve it as text (when it is valid UTF-8). */
bool mime_is_text(const char *mime);

#endif
