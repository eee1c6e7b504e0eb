/* users.h - uid/gid to user and group names, from passwd and group files.
 *
 * The files are re-read when their mtime, size or inode changes; the check
 * (two stat() calls) runs at most once per second, on lookup, so lookups
 * stay cheap on the event path.  A missing or unreadable file resolves
 * nothing, and is retried at the next check.
 *
 * Limitation: ids are resolved against the host's files only.  A process in a
 * container gets the host's name for its uid (or "" when the host has none),
 * not the name from the container image's /etc/passwd.
 *
 * Lookups never return NULL: "" means unknown.  A returned string stays valid
 * until the next call on the same object (a call may reload); copy it to keep it.
 */
#ifndef VIGIL_USERS_H
#define VIGIL_USERS_H

#include <stdint.h>

struct vg_users;

/* Read etc_root/passwd and etc_root/group (etc_root NULL means "/etc").
 * Returns NULL only when out of memory. */
struct vg_users *vg_users_new(const char *etc_root);
void vg_users_free(struct vg_users *u);

/* Check the files now (ignoring the once-per-second limit) and reload those
 * that changed.  Returns 1 if anything was reloaded, else 0. */
int vg_users_refresh(struct vg_users *u);

const char *vg_users_user(struct vg_users *u, uint32_t uid);
const char *vg_users_group(struct vg_users *u, uint32_t gid);
const char *vg_users_home(struct vg_users *u, uint32_t uid);
const char *vg_users_shell(struct vg_users *u, uint32_t uid);

#endif
