#include "mime_sniff.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *ext, *mime;
} by_ext[] = {
    {"csv", "text/csv"},
    {"tsv", "text/tab-separated-values"},
    {"txt", "text/plain"},
    {"log", "text/plain"},
    {"md", "text/markdown"},
    {"html", "text/html"},
    {"htm", "text/html"},
    {"xml", "application/xml"},
    {"json", "application/json"},
    {"jsonl", "application/jsonl"},
    {"py", "text/x-python"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"parquet", "application/vnd.apache.parquet"},
};

static bool starts(const unsigned char *head, size_t len, const char *magic, size_t n)
{
	return len >= n && memcmp(head, magic, n) == 0;
}

/* SVG is text: the name says it, and the start must look like XML or
 * <svg, so that a binary named .svg is not shown as an image. */
static bool svg_like(const unsigned char *head, size_t len)
{
	size_t i = 0;

	if (starts(head, len, "\xEF\xBB\xBF", 3))
		i = 3;
	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
		i++;
	return starts(head + i, len - i, "<?xml", 5) || starts(head + i, len - i, "<svg", 4) ||
	       starts(head + i, len - i, "<!--", 4);
}

static bool looks_like_text(const unsigned char *head, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = head[i];
		size_t n = c < 0x80		? 1
			   : (c & 0xE0) == 0xC0 ? 2
			   : (c & 0xF0) == 0xE0 ? 3
			   : (c & 0xF8) == 0xF0 ? 4
						: 0;
		if (c == 0 || n == 0)
			return false;
		if (i + n > len)
			return true; /* a character cut by the end of the head */
		for (size_t k = 1; k < n; k++)
			if ((head[i + k] & 0xC0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

const char *mime_sniff(const char *name, const unsigned char *head, size_t len)
{
	const char *base = strrchr(name, '/'), *dot;

	if (starts(head, len, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (starts(head, len, "\xFF\xD8\xFF", 3))
		return "image/jpeg";
	if (starts(head, len, "GIF87a", 6) || starts(head, len, "GIF89a", 6))
		return "image/gif";
	if (len >= 12 && starts(head, len, "RIFF", 4) && memcmp(head + 8, "WEBP", 4) == 0)
		return "image/webp";
	base = base ? base + 1 : name;
	dot = strrchr(base, '.');
	if (dot && strcasecmp(dot + 1, "svg") == 0 && svg_like(head, len))
		return "image/svg+xml";
	for (size_t i = 0; dot && i < sizeof(by_ext) / sizeof(by_ext[0]); i++)
		if (strcasecmp(dot + 1, by_ext[i].ext) == 0)
			return by_ext[i].mime;
	return looks_like_text(head, len) ? "text/plain" : "application/octet-stream";
}

bool mime_is_image(const char *mime)
{
	return strncmp(mime, "image/", 6) == 0;
}

bool mime_is_text(const char *mime)
{
	static const char *const texty[] = {"application/json", "application/jsonl",
					    "application/xml", "application/yaml", "image/svg+xml"};

	if (strncmp(mime, "text/", 5) == 0)
		return true;
	for (size_t i = 0; i < sizeof(texty) / sizeof(texty[0]); i++)
		if (strcmp(mime, texty[i]) == 0)
			return true;
	return false;
}
