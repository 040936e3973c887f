/* JSON-RPC 2.0 envelopes: classifying one incoming message and building
 * responses, errors and notifications.  No I/O and no MCP semantics here.
 *
 * Messages quote user strings as `...`, cut to JRPC_QUOTE_MAX bytes on a
 * UTF-8 boundary (jansson refuses strings that are not valid UTF-8). */
#ifndef PYMCP_JSONRPC_H
#define PYMCP_JSONRPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define JRPC_PARSE_ERROR       -32700
#define JRPC_INVALID_REQUEST   -32600
#define JRPC_METHOD_NOT_FOUND  -32601
#define JRPC_INVALID_PARAMS    -32602
#define JRPC_INTERNAL_ERROR    -32603
#define MCP_RESOURCE_NOT_FOUND -32002

#define JRPC_QUOTE_MAX 128
/* For "`%.*s`": the user string `s`, cut to JRPC_QUOTE_MAX bytes. */
#define JRPC_Q(s) (int)utf8_prefix_len((s), JRPC_QUOTE_MAX), (s)

enum jrpc_kind {
	JRPC_EMPTY,	   /* only whitespace: ignored */
	JRPC_REQUEST,	   /* method and id */
	JRPC_NOTIFICATION, /* method, no id: never answered */
	JRPC_RESPONSE,	   /* a client's answer to a request of ours: ignored */
	JRPC_INVALID,	   /* answer with error_new, unless it is NULL */
};

struct jrpc_message {
	enum jrpc_kind kind;
	json_t *root;	    /* owned: the whole message */
	json_t *id;	    /* borrowed from root: requests and responses */
	const char *method; /* borrowed from root: requests and notifications */
	json_t *params;	    /* borrowed from root, NULL when absent */
	json_t *error_new;  /* JRPC_INVALID: the error response, or NULL when
			     * none is due (an invalid notification) */
	const char *why;    /* JRPC_INVALID without error_new: for the log */
};

/* Parses and classifies one message of len bytes (not NUL-terminated).
 * Nesting deeper than max_depth is refused before any tree is built. */
void jrpc_parse(const char *text, size_t len, unsigned max_depth, struct jrpc_message *msg);
void jrpc_message_clear(struct jrpc_message *msg);

/* Finds the top-level "id" of a message that cannot be parsed (too deep,
 * too long, bad bytes), so that its error still reaches the request that
 * caused it.  A byte-wise scan, fed in pieces of any size, keeping a few
 * hundred bytes whatever the message's length. */
#define JRPC_ID_TOKEN_MAX 256
struct jrpc_id_scan {
	unsigned depth;
	bool in_string, escaped, in_key, after_key, want_value, in_number, started, bad;
	char key[4]; /* the current top-level key, when it may be "id" */
	size_t key_len;
	bool capturing; /* the value of "id" is being read */
	char token[JRPC_ID_TOKEN_MAX + 1];
	size_t token_len;
	bool found;
};
void jrpc_id_scan_init(struct jrpc_id_scan *s);
void jrpc_id_scan_feed(struct jrpc_id_scan *s, const char *data, size_t n);
/* The id (a new reference) when one was read whole and is a string or an
 * integer; NULL otherwise. */
json_t *jrpc_id_scan_result(struct jrpc_id_scan *s);
/* The same over one whole message. */
json_t *jrpc_salvage_id(const char *text, size_t len);

/* True when brackets and braces outside strings nest deeper than max_depth:
 * a linear scan without allocation, because jansson's parser recurses. */
bool jrpc_too_deep(const char *text, size_t len, unsigned max_depth);

/* Builders; id is borrowed (NULL stands for null), *_new arguments are
 * stolen.  They return NULL only when out of memory. */
json_t *jrpc_result_new(json_t *id, json_t *result_new);
json_t *jrpc_error_new(json_t *id, int code, json_t *data_new, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
json_t *jrpc_notification_new(const char *method, json_t *params_new);

/* The longest prefix of s, at most max bytes, that ends on a UTF-8
 * character boundary. */
size_t utf8_prefix_len(const char *s, size_t max);

#endif
