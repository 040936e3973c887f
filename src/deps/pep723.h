/* PEP 723 inline script metadata ("# /// script" ... "# ///").
 *
 * The block is found here, in C, by the PEP's own rules for its comment
 * lines.  Its TOML is parsed by what PEP 723 names as the reference
 * parser, the interpreter's tomllib, inside the sandbox: the text is a
 * client's, and a parser is attack surface.  Results are cached by the
 * SHA-256 of the TOML, so a script's header costs one sandboxed run the
 * first time it is seen. */
#ifndef PYMCP_PEP723_H
#define PYMCP_PEP723_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct runner;

struct script_header {
	json_t *dependencies;  /* array of strings (owned), empty when absent */
	char *requires_python; /* owned, or NULL */
};

void scripts_header_free(struct script_header *h);

/* A script's block: its TOML with the "# " taken off each line. */
struct pep723_block {
	char *toml;	     /* malloc'd, or NULL when the script has no block */
	unsigned first_line; /* the script's line number of the TOML's first */
};

/* Finds the block of `source`.  A malformed one (never closed, a line
 * that is not a comment, two script blocks) is -EINVAL with err naming
 * the line, and block->toml NULL. */
int pep723_find(const char *source, struct pep723_block *block, struct pm_error *err);

struct pep723;

/* python: the interpreter whose tomllib parses (3.11 or newer). */
struct pep723 *pep723_new(struct runner *runner, const char *python);
/* After the runner has stopped: its tasks hold the parser's state. */
void pep723_free(struct pep723 *p);

/* One script's header: ok with the header (empty without a block), or
 * err saying what is wrong, naming the script's line where TOML says. */
struct pep723_result {
	bool ok;
	struct script_header header;
	struct pm_error err;
};

/* results[i] is blocks[i]'s; they live only while done runs.  results
 * is NULL (and n 0) only when memory for them ran out. */
typedef void (*pep723_done_fn)(void *data, const struct pep723_result *results, size_t n);

/* Parses blocks[0..n), taking their TOML (the array stays the caller's;
 * a block without TOML is an empty header): the uncached ones in as few
 * sandboxed runs as their size allows.
 * done runs exactly once, maybe before this returns (nothing to parse),
 * and always, also when the server stops (the results then say so). */
void pep723_parse(struct pep723 *p, struct pep723_block *blocks, size_t n, pep723_done_fn done,
		  void *data);

#endif
