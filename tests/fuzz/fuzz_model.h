/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the SIS package fuzz targets (fuzz_parse,
 * fuzz_parse_only, fuzz_verify, fuzz_sign, fuzz_pack): a walk that reads
 * every byte of the parsed model so the sanitizers see each pointer, a
 * private temp directory for the files a target writes, and reading a file
 * back into memory. */
#ifndef SISIGN_FUZZ_MODEL_H
#define SISIGN_FUZZ_MODEL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sisign/package.h>

#include "fuzz_util.h"

/* Every byte we look at goes through here so the sanitizers see the reads. */
static volatile unsigned fz_sink;

static inline void fz_touch(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned acc = 0;
	size_t i;

	FZ_ASSERT(!(n && !p));
	for (i = 0; i < n; i++)
		acc += b[i];
	fz_sink += acc;
}

/* The model promises every string is non-NULL, damaged controllers
 * included (half-parsed entries are dropped). */
static inline void fz_touch_str(const char *s)
{
	FZ_ASSERT(s != NULL);
	fz_touch(s, strlen(s) + 1);
}

static inline void fz_touch_strs(char **v, size_t n)
{
	size_t i;

	FZ_ASSERT(!(n && !v));
	for (i = 0; i < n; i++)
		fz_touch_str(v[i]);
}

static inline void fz_touch_dep(const struct sisign_dependency *d)
{
	fz_touch(d, sizeof(*d));
	fz_touch_strs(d->names, d->nnames);
}

static inline void fz_touch_file(const struct sisign_file *f)
{
	fz_touch(f, sizeof(*f));
	fz_touch_str(f->target);
	fz_touch_str(f->mime);
	fz_touch(f->caps, f->ncaps * sizeof(f->caps[0]));
	FZ_ASSERT(!(f->hash_len > sizeof(f->hash)));
}

/* The whole controller tree.  With `bytes` 0 the large byte ranges (the
 * controller value, certificates, signed regions) are only bounds-checked
 * at their ends, which keeps the fast target fast. */
static inline void fz_touch_ctrl_ex(const struct sisign_controller *c, int bytes)
{
	size_t i, j;

	fz_touch(c, sizeof(*c));
	if (c->vendor_unique)
		fz_touch_str(c->vendor_unique);
	fz_touch_strs(c->names, c->nnames);
	fz_touch_strs(c->vendors, c->nvendors);
	fz_touch_strs(c->options, c->noptions);
	fz_touch(c->languages, c->nlanguages * sizeof(c->languages[0]));
	FZ_ASSERT(!(c->ntargets && !c->targets));
	for (i = 0; i < c->ntargets; i++)
		fz_touch_dep(&c->targets[i]);
	FZ_ASSERT(!(c->ndeps && !c->deps));
	for (i = 0; i < c->ndeps; i++)
		fz_touch_dep(&c->deps[i]);
	if (c->logo)
		fz_touch_file(c->logo);
	FZ_ASSERT(!(c->nfiles && !c->files));
	for (i = 0; i < c->nfiles; i++)
		fz_touch_file(&c->files[i]);
	FZ_ASSERT(!(c->nchains && !c->chains));
	for (i = 0; i < c->nchains; i++) {
		const struct sisign_chain *ch = &c->chains[i];

		FZ_ASSERT(!(ch->nsigs && !ch->sigs));
		for (j = 0; j < ch->nsigs; j++) {
			fz_touch_str(ch->sigs[j].algorithm);
			fz_touch(ch->sigs[j].sig, ch->sigs[j].siglen);
		}
		if (bytes) {
			fz_touch(ch->certs, ch->certs_len);
			fz_touch(ch->signed_region, ch->signed_len);
		} else {
			if (ch->certs_len)
				fz_touch(ch->certs + ch->certs_len - 1, 1);
			if (ch->signed_len)
				fz_touch(ch->signed_region + ch->signed_len - 1, 1);
		}
	}
	if (bytes)
		fz_touch(c->value, c->value_len);
	else if (c->value_len)
		fz_touch(c->value + c->value_len - 1, 1);
	FZ_ASSERT(!(c->data_index_offset > c->value_len));
	if (c->damage)
		fz_touch_str(c->damage_message);
	FZ_ASSERT(!(c->nembedded && !c->embedded));
	for (i = 0; i < c->nembedded; i++)
		fz_touch_ctrl_ex(&c->embedded[i], bytes);
}

static inline void fz_touch_ctrl(const struct sisign_controller *c)
{
	fz_touch_ctrl_ex(c, 1);
}

/* The package's info, controller tree and warnings. */
static inline void fz_touch_pkg(const struct sisign_pkg *pkg, size_t size, int bytes)
{
	const struct sisign_pkg_info *info = sisign_pkg_info(pkg);
	const struct sisign_controller *ctl = sisign_pkg_controller(pkg);
	size_t i, n;

	FZ_ASSERT(info != NULL);
	fz_touch(info, sizeof(*info));
	FZ_ASSERT(info->file_size == size);
	FZ_ASSERT(ctl != NULL);
	fz_touch_ctrl_ex(ctl, bytes);
	n = sisign_pkg_nwarnings(pkg);
	for (i = 0; i < n; i++)
		fz_touch_str(sisign_pkg_warning(pkg, i));
	FZ_ASSERT(sisign_pkg_warning(pkg, n) == NULL);
}

/* An exact-size heap copy, so ASan catches a read one past the end. */
static inline uint8_t *fz_copy(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (copy && size)
		memcpy(copy, data, size);
	return copy;
}

/* Parse with opts (NULL: the defaults) under the parser's contract: a
 * refusal fills the error record and gives no package, an acceptance
 * gives one.  Returns the parser's code. */
static inline int fz_parse(const uint8_t *data, size_t size, const struct sisign_parse_opts *opts,
	struct sisign_pkg **pkg)
{
	struct sisign_error err;
	int r;

	sisign_error_clear(&err);
	r = sisign_pkg_parse_mem(data, size, opts, pkg, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		FZ_ASSERT(*pkg == NULL);
	} else {
		FZ_ASSERT(*pkg != NULL);
	}
	return r;
}

/* The target's private temp directory (SISIGN_FUZZ_TMPDIR, else /dev/shm
 * where fsync is cheap, else /tmp); removed at exit, so whatever a target
 * puts there it must unlink. */
static char fz_dir[256];

static inline void fz_cleanup_dir(void)
{
	if (fz_dir[0])
		(void)rmdir(fz_dir);
}

static inline void fz_make_dir(void)
{
	const char *base = getenv("SISIGN_FUZZ_TMPDIR");

	if (fz_dir[0])
		return;
	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_dir, sizeof(fz_dir), "%s/sisign-fuzz-XXXXXX", base);
	if (!mkdtemp(fz_dir)) {
		perror("mkdtemp");
		abort();
	}
	atexit(fz_cleanup_dir);
}

static inline uint8_t *fz_read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (!buf)
		goto out;
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = (size_t)n;
out:
	fclose(fp);
	return buf;
}

/* Write the package to the temp dir and return its bytes (the file is
 * removed again); aborts if the write fails. */
static inline uint8_t *fz_write_back(struct sisign_pkg *pkg, const char *name, size_t *len)
{
	struct sisign_error err;
	char path[300];
	uint8_t *back;
	int r;

	snprintf(path, sizeof(path), "%s/%s", fz_dir, name);
	sisign_error_clear(&err);
	r = sisign_pkg_write(pkg, path, 0644, &err);
	if (r != SISIGN_OK) {
		fprintf(stderr, "write of a package failed: %s\n", err.message);
		abort();
	}
	back = fz_read_file(path, len);
	(void)unlink(path);
	FZ_ASSERT(back != NULL);
	return back;
}

#endif
