/* state_path.c - normalising the paths of records into absolute paths. */
#include <string.h>

#include "state_int.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* paths                                                               */

/* Append the components of s to out (length *n), resolving "." and "..".
 * An absolute result never climbs above "/"; a relative one keeps its
 * leading "..". Stops at cap - 1 and returns false when s did not fit. */
static bool path_push(char *out, size_t cap, size_t *n, const char *s)
{
	bool abs = out[0] == '/';
	while (*s) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		const char *c = s;
		while (*s && *s != '/')
			s++;
		size_t cl = (size_t)(s - c);
		if (cl == 1 && c[0] == '.')
			continue;
		if (cl == 2 && c[0] == '.' && c[1] == '.') {
			size_t root = abs ? 1 : 0;
			if (*n > root) {
				size_t start = *n;
				while (start > root && out[start - 1] != '/')
					start--;
				bool dotdot = *n - start == 2 && out[start] == '.' &&
					      out[start + 1] == '.';
				if (!dotdot) {
					*n = start > root ? start - 1 : start;
					out[*n] = '\0';
					continue;
				}
			} else if (abs) {
				continue; /* "/.." is "/" */
			}
			/* relative and nothing to climb: keep the ".." */
		}
		bool need_sep = *n > 0 && out[*n - 1] != '/';
		if (*n + (need_sep ? 1 : 0) + cl >= cap)
			return false;
		if (need_sep)
			out[(*n)++] = '/';
		memcpy(out + *n, c, cl);
		*n += cl;
		out[*n] = '\0';
	}
	return true;
}

/* End the cut path out (*n bytes) with VG_PATH_CUT_MARK, at a component
 * boundary, within cap: the root side stays, which rules test. */
static void mark_cut(char *out, size_t cap, size_t *n)
{
	const size_t ml = sizeof(VG_PATH_CUT_MARK) - 1;
	if (cap <= ml + 1)
		return;
	size_t k = *n;
	if (k + ml >= cap) {
		k = cap - 1 - ml;
		while (k > 0 && out[k] != '/')
			k--;
	} else if (k > 0 && out[k - 1] == '/') {
		k--;
	}
	memcpy(out + k, VG_PATH_CUT_MARK, ml + 1);
	*n = k + ml;
}

/* out = normalised dir + "/" + path (path alone when absolute or dir is
 * NULL). A relative path with no dir stays relative ("." when empty). */
/* An absolute path with no "//", no "." or ".." component and no trailing
 * '/' is already normal: the common case, copied as is. */
static bool path_is_normal(const char *p, size_t *len)
{
	const char *c = p;
	if (*c != '/')
		return false;
	for (;;) { /* c is at a '/': look at what follows, then jump to the next */
		if (c[1] == '/' || c[1] == '.' || (c[1] == '\0' && c != p))
			return false;
		const char *next = strchr(c + 1, '/');
		if (!next) {
			*len = (size_t)(c - p) + 1 + strlen(c + 1);
			return true;
		}
		c = next;
	}
}

bool vg_st_path_normalize(char *out, size_t cap, const char *dir, const char *path)
{
	size_t n = 0;
	if (path_is_normal(path, &n) && n < cap) {
		memcpy(out, path, n + 1);
		return false;
	}
	n = 0;
	out[0] = '\0';
	const char *first = path[0] == '/' || !dir ? path : dir;
	if (first[0] == '/') {
		out[0] = '/';
		out[1] = '\0';
		n = 1;
	}
	bool whole = true;
	if (first != path)
		whole = path_push(out, cap, &n, dir);
	if (whole)
		whole = path_push(out, cap, &n, path);
	if (!whole) {
		mark_cut(out, cap, &n);
		return true;
	}
	if (n == 0) {
		out[0] = '.';
		out[1] = '\0';
	}
	return false;
}

/* A path already normal is the record's own string (valid as long as the
 * event); the others are normalized into buf (VG_STR_MAX bytes).  *cut is
 * set when the result did not fit (see vg_st_path_normalize). */
const char *vg_st_norm_path(char *buf, const char *dir, const char *path, bool *cut)
{
	size_t n;
	if (path_is_normal(path, &n) && n < VG_STR_MAX)
		return path;
	if (vg_st_path_normalize(buf, VG_STR_MAX, dir, path))
		*cut = true;
	return buf;
}
