/* rm -rf of a directory the server owns (a scratch workspace, a
 * discarded environment), whatever a script or an install left in it:
 * links are removed, never followed, and depth is not limited by PATH_MAX
 * or by open descriptors. */
#ifndef PYMCP_REMOVE_TREE_H
#define PYMCP_REMOVE_TREE_H

#include <uv.h>

/* Best effort: what cannot be removed stays, the rest goes.  Returns 0,
 * or a negative errno when the top could not be removed. */
int remove_tree(const char *path);

/* The same on libuv's thread pool: a tree of a million files must not
 * stall the loop.  Nothing may use `path` any more (rename it aside
 * first); the loop does not end before the removal has. */
void remove_tree_async(uv_loop_t *loop, const char *path);

#endif
