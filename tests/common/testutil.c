/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tu_failures;
int tu_checks;
static int tu_skipped;

int tu_finish(void)
{
	if (tu_skipped && tu_checks == 0)
		return 77;
	printf("%d passed, %d failed\n", tu_checks - tu_failures, tu_failures);
	return tu_failures ? 1 : 0;
}

void tu_skip(const char *why)
{
	printf("SKIP: %s\n", why);
	tu_skipped = 1;
}

const char *tu_corpus(void)
{
	static char path[4096];
	const char *c = getenv("SISIGN_CORPUS");
	struct stat st;
	if (!c || !*c)
		return NULL;
	snprintf(path, sizeof path, "%s/MANIFEST.tsv", c);
	if (stat(path, &st) != 0)
		return NULL;
	return c;
}

uint8_t *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf && len)
		*len = (size_t)n;
	return buf;
}

int tu_write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	if (fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

char *tu_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char *p = malloc(4096);
	if (!p)
		return NULL;
	snprintf(p, 4096, "%s/sisign-test-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tu_rmrf(const char *path)
{
	if (path)
		nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}
