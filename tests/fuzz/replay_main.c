/* SPDX-License-Identifier: Apache-2.0 */
/* Corpus replay without libFuzzer: runs LLVMFuzzerTestOneInput over every
 * file named on the command line, descending into directories.  A crash or
 * an abort() in the target fails the run; otherwise exit 0.  Exit 77 (skip)
 * when no input file was found at all. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static size_t nrun;

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!fp) {
		fprintf(stderr, "replay: %s: cannot open\n", path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *nb = realloc(buf, ncap);

			if (!nb) {
				free(buf);
				fclose(fp);
				return -1;
			}
			buf = nb;
			cap = ncap;
		}
		n = fread(buf + len, 1, cap - len, fp);
		if (n == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	(void)LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	nrun++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t nnames = 0, i;
	int bad = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: not found (ignored)\n", path);
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? run_file(path) : 0;
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "replay: %s: cannot open directory\n", path);
		return -1;
	}
	/* Sorted, so a failing run is reproducible in the same order. */
	while ((de = readdir(d)) != NULL) {
		char **nn;
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		nn = realloc(names, (nnames + 1) * sizeof(*names));
		if (!nn) {
			bad = -1;
			break;
		}
		names = nn;
		n = strlen(path) + strlen(de->d_name) + 2;
		names[nnames] = malloc(n);
		if (!names[nnames]) {
			bad = -1;
			break;
		}
		snprintf(names[nnames], n, "%s/%s", path, de->d_name);
		nnames++;
	}
	closedir(d);
	if (nnames)
		qsort(names, nnames, sizeof(*names), cmp_str);
	for (i = 0; i < nnames; i++) {
		if (!bad && run_path(names[i]) != 0)
			bad = -1;
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	int i, bad = 0;

	(void)LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		if (run_path(argv[i]) != 0)
			bad = 1;
	if (bad)
		return 1;
	if (nrun == 0) {
		printf("replay: no input files found; skipping\n");
		return 77;
	}
	printf("replay: %zu inputs ran cleanly\n", nrun);
	return 0;
}
