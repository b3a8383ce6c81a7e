/* SPDX-License-Identifier: Apache-2.0 */
/* Leftovers of a killed run: util/file.c's atomic writer names its temp
 * file "OUT.tmpXXXXXX" beside OUT (at commit, or from the start where the
 * filesystem has no O_TMPFILE); for an OUT whose name is too long for
 * that, ".sisign-HHHHHHHH.tmpXXXXXX" with H a hash of OUT's name
 * (atomic_tmp_short_stem).  A SIGKILL between naming and rename leaves
 * one; it is never mistaken for an output (wrong name) and the next batch
 * over the same outputs removes it here: only temps whose stem is one of
 * these outputs' stems, so nobody else's files.
 *
 * Another sisign may be writing the same outputs at this moment, so a temp
 * is removed only if it cannot be live: the writer holds an exclusive
 * flock on its temp for as long as the name exists, so a temp we cannot
 * lock is skipped; and one changed less than STALE_MIN_AGE seconds ago is
 * skipped too (it covers the instant between creating a fallback temp and
 * locking it, and writers without the lock).  The name is checked to still
 * be the file we locked before it is unlinked. */
#include "batch/batch_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/util_private.h"

#define TMP_TAG ATOMIC_TMP_TAG
#define TMP_TAGLEN 4
#define TMP_RANDLEN 6 /* the XXXXXX */
#define STALE_MIN_AGE 2 /* seconds since the temp last changed */

struct dirbase {
	char *dir;
	const char *base;                /* OUT's name */
	char stem[ATOMIC_TMP_STEM_MAX];  /* its short temp stem if long, else "" */
};

/* The stem before ".tmpXXXXXX" of OUT's temps.  (Not a pointer stored in
 * the entry: qsort moves the entries.) */
static const char *db_stem(const struct dirbase *d)
{
	return d->stem[0] ? d->stem : d->base;
}

static int cmp_db(const void *a, const void *b)
{
	const struct dirbase *x = a, *y = b;
	int c = strcmp(x->dir, y->dir);
	return c ? c : strcmp(db_stem(x), db_stem(y));
}

static int cmp_base(const void *key, const void *elem)
{
	return strcmp((const char *)key, db_stem((const struct dirbase *)elem));
}

static int is_rand_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Remove the temp name in directory dfd if nobody can be writing it: a
 * regular file (not followed if a symlink), unlocked, unchanged for
 * STALE_MIN_AGE seconds, and still the same file when unlinked.  1 if
 * removed. */
static int remove_if_stale(int dfd, const char *name, time_t now)
{
	struct stat st, again;
	int fd, removed = 0;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if (st.st_mtime > now - STALE_MIN_AGE)
		goto out; /* young (or in the future): may be live */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		goto out; /* a writer holds it (or no flock here: keep it) */
	/* Held by us now; the name must still be this file. */
	if (fstatat(dfd, name, &again, AT_SYMLINK_NOFOLLOW) != 0 || again.st_dev != st.st_dev ||
	    again.st_ino != st.st_ino)
		goto out;
	if (unlinkat(dfd, name, 0) == 0)
		removed = 1;
out:
	close(fd);
	return removed;
}

size_t batch_clean_stale_temps(const char *const *outputs, size_t n)
{
	struct dirbase *v = calloc(n ? n : 1, sizeof *v);
	size_t removed = 0, nv = 0;
	time_t now = time(NULL);

	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *slash = strrchr(outputs[i], '/');
		size_t dl = slash ? (size_t)(slash - outputs[i]) : 0;
		if (!(v[nv].dir = malloc(dl + 2)))
			goto out;
		if (slash) {
			memcpy(v[nv].dir, outputs[i], dl ? dl : 1);
			v[nv].dir[dl ? dl : 1] = '\0';
		} else {
			strcpy(v[nv].dir, ".");
		}
		v[nv].base = slash ? slash + 1 : outputs[i];
		if (!atomic_tmp_short_stem(v[nv].base, v[nv].stem))
			v[nv].stem[0] = '\0';
		nv++;
	}
	qsort(v, nv, sizeof *v, cmp_db);
	for (size_t g = 0; g < nv;) {
		size_t e = g;
		DIR *d;
		struct dirent *de;
		while (e < nv && strcmp(v[e].dir, v[g].dir) == 0)
			e++;
		if ((d = opendir(v[g].dir)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				size_t len = strlen(de->d_name), bl;
				char base[NAME_MAX + 1];
				int ok = 1;
				if (len <= TMP_TAGLEN + TMP_RANDLEN)
					continue;
				bl = len - TMP_TAGLEN - TMP_RANDLEN;
				if (memcmp(de->d_name + bl, TMP_TAG, TMP_TAGLEN) != 0)
					continue;
				for (size_t k = len - TMP_RANDLEN; k < len; k++)
					ok &= is_rand_char(de->d_name[k]);
				if (!ok || bl > NAME_MAX)
					continue;
				memcpy(base, de->d_name, bl);
				base[bl] = '\0';
				if (bsearch(base, v + g, e - g, sizeof *v, cmp_base))
					removed += (size_t)remove_if_stale(dirfd(d), de->d_name, now);
			}
			closedir(d);
		}
		g = e;
	}
out:
	for (size_t i = 0; i < nv; i++)
		free(v[i].dir);
	free(v);
	return removed;
}
