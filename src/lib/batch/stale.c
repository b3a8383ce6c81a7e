/* Leftovers of a killed run: util/file.c's atomic_open() names its temp
 * file "OUT.tmpXXXXXX" (mkostemp) beside OUT.  A SIGKILL between create and
 * rename leaves one; it is never mistaken for an output (wrong name) and the
 * next batch over the same outputs removes it here. */
#include "batch/batch_private.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util_private.h"

#define TMP_TAG ".tmp"
#define TMP_TAGLEN 4
#define TMP_RANDLEN 6 /* mkostemp's XXXXXX */

struct dirbase {
	char *dir;
	const char *base;
};

static int cmp_db(const void *a, const void *b)
{
	const struct dirbase *x = a, *y = b;
	int c = strcmp(x->dir, y->dir);
	return c ? c : strcmp(x->base, y->base);
}

static int cmp_base(const void *key, const void *elem)
{
	return strcmp((const char *)key, ((const struct dirbase *)elem)->base);
}

static int is_rand_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

size_t batch_clean_stale_temps(const char *const *outputs, size_t n)
{
	struct dirbase *v = calloc(n ? n : 1, sizeof *v);
	size_t removed = 0, nv = 0;

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
				if (bsearch(base, v + g, e - g, sizeof *v, cmp_base)) {
					char *p = malloc(strlen(v[g].dir) + len + 2);
					if (!p)
						continue;
					sprintf(p, "%s/%s", v[g].dir, de->d_name);
					if (unlink(p) == 0)
						removed++;
					free(p);
				}
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
