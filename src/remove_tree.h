/* rm -rf of a directory the server owns (a scratch workspace, an
 * environment): depth first, symlinks removed, never followed. */
#ifndef PYMCP_REMOVE_TREE_H
#define PYMCP_REMOVE_TREE_H

/* Best effort: what cannot be removed stays, the rest goes. */
void remove_tree(const char *path);

#endif
