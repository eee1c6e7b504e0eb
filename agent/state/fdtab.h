/* fdtab.h - one process's fd table (internal to the state module).
 *
 * A hash by fd number plus an age list: the table has a cap and, when
 * full, drops its oldest entry (the fd opened longest ago), which is the
 * one least likely to be the subject of the next event.  Entries are
 * struct vg_fd with their name owned by the table.
 */
#ifndef VIGIL_FDTAB_H
#define VIGIL_FDTAB_H

#include <stddef.h>
#include <stdint.h>

#include "rstr.h"
#include "state.h"

struct vg_fdtab;

struct vg_fdtab *vg_fdtab_new(void);
void vg_fdtab_free(struct vg_fdtab *t);
size_t vg_fdtab_count(const struct vg_fdtab *t);

struct vg_fd *vg_fdtab_get(struct vg_fdtab *t, int64_t fd);

/* A new, zeroed entry for fd (name ""), replacing any previous one, as the
 * newest.  When the table already holds cap entries the oldest is dropped
 * and *evictions incremented.  NULL on ENOMEM. */
struct vg_fd *vg_fdtab_put(struct vg_fdtab *t, int64_t fd, size_t cap, uint64_t *evictions);

/* Set the name of an entry of this module (takes the reference r); the
 * name of an entry, NULL while it is "". */
void vg_fdtab_set_name(struct vg_fd *f, struct vg_rstr *r);
struct vg_rstr *vg_fdtab_name(const struct vg_fd *f);

/* Unlink fd and hand it to the caller (free it with vg_fdtab_release());
 * NULL when fd is not in the table. */
struct vg_fd *vg_fdtab_take(struct vg_fdtab *t, int64_t fd);
void vg_fdtab_release(struct vg_fd *f);
/* Drop fd if present. */
void vg_fdtab_del(struct vg_fdtab *t, int64_t fd);

/* newfd becomes a copy of oldfd (dup).  Returns the new entry, NULL when
 * oldfd is unknown (newfd is then dropped: its old meaning is gone). */
struct vg_fd *vg_fdtab_dup(struct vg_fdtab *t, int64_t oldfd, int64_t newfd, size_t cap,
			   uint64_t *evictions);

/* Copy every entry of src into dst (fork); at most cap entries. 0 or -ENOMEM. */
int vg_fdtab_copy(struct vg_fdtab *dst, const struct vg_fdtab *src, size_t cap,
		  uint64_t *evictions);

/* Drop the entries opened with O_CLOEXEC (exec). */
void vg_fdtab_cloexec(struct vg_fdtab *t);

/* Oldest first; stops when fn returns non-zero. */
void vg_fdtab_foreach(const struct vg_fdtab *t, int (*fn)(void *ctx, const struct vg_fd *f),
		      void *ctx);

#endif
