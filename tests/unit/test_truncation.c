/* SPDX-License-Identifier: Apache-2.0 */
/* Every truncation of a valid package fails cleanly (a negative code with a
 * message from the parser, or a data check failure), and random single-byte
 * changes never crash (ASan/UBSan builds make "crash" precise). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include <sisign/package.h>

static const char *const corpus_files[] = {
	"installationservices/swi/test/trevocation/data/winscw/test_02.sis",          /* RSA, stale CRCs */
	"secureswitools/swisistools/test/tsignsis/data/simple.sis",
	"installationservices/swi/test/testexes/custom/sis/winscw/def053285.sis",      /* DSA */
	"installationservices/swi/test/trevocation/sisInteg/armv5/ocsprevocation.sis", /* embedded controller */
};

/* 1 if the bytes parse and their data checks out. */
static int accepted(const uint8_t *p, size_t n, int *parse_failed)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees over-reads */
	int r, ok = 0;

	if (!copy)
		return 0;
	memcpy(copy, p, n);
	sisign_error_clear(&err);
	r = sisign_pkg_parse_mem(copy, n, NULL, &pkg, &err);
	*parse_failed = r != SISIGN_OK;
	if (r != SISIGN_OK) {
		CHECK_MSG(r < 0 && err.code == r && err.message[0] != '\0',
			"truncated to %zu: code %d, record %d, message '%s'", n, r, err.code, err.message);
		CHECK(pkg == NULL);
	} else {
		sisign_error_clear(&err);
		r = sisign_pkg_check_data(pkg, &err);
		if (r != SISIGN_OK)
			CHECK_MSG(r < 0 && err.message[0] != '\0', "check_data %d without a message", r);
		ok = r == SISIGN_OK && sisign_pkg_controller(pkg)->damage == 0;
	}
	sisign_pkg_free(pkg);
	free(copy);
	return ok;
}

static void truncations(const char *name, const uint8_t *p, size_t n)
{
	size_t t, parse_fail = 0, accepted_n = 0;
	int pf;

	for (t = 0; t < n; t++) {
		if (accepted(p, t, &pf)) {
			/* Only the SISContents' own trailing padding may go (at most 3
			 * zero bytes); anything shorter cuts SISContents. */
			int pad_only = n - t <= 3;
			for (size_t k = t; pad_only && k < n; k++)
				pad_only = p[k] == 0;
			CHECK_MSG(pad_only, "%s truncated to %zu of %zu bytes is accepted", name, t, n);
			accepted_n++;
		}
		parse_fail += (size_t)pf;
	}
	printf("%s: %zu truncations, %zu rejected by the parser, %zu accepted\n", name, n, parse_fail, accepted_n);
}

static void flips(const char *name, const uint8_t *p, size_t n, unsigned seed)
{
	uint8_t *m = malloc(n);
	int pf;
	size_t i;

	if (!m || n == 0) {
		free(m);
		return;
	}
	srand(seed);
	for (i = 0; i < 2000; i++) {
		size_t at = (size_t)rand() % n;
		memcpy(m, p, n);
		m[at] ^= (uint8_t)(1 + rand() % 255);
		(void)accepted(m, n, &pf); /* any outcome but a crash */
	}
	free(m);
	printf("%s: 2000 single-byte changes survived\n", name);
}

static int packed(const char *dir, uint8_t **out, size_t *len)
{
	static const char *const names[] = { "Trunc" };
	char src[4096], dst[4096];
	uint8_t data[3000];
	struct sisign_pack_file f;
	struct sisign_pack_opts o;
	struct sisign_error err;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 / 5);
	snprintf(src, sizeof(src), "%s/payload.bin", dir);
	snprintf(dst, sizeof(dst), "%s/packed.sis", dir);
	if (tu_write_file(src, data, sizeof(data)) != 0)
		return -1;
	memset(&f, 0, sizeof(f));
	f.source = src;
	f.target = "!:\\sys\\bin\\t.exe";
	f.capabilities = 1u << 13;
	memset(&o, 0, sizeof(o));
	o.uid = 0xE0004321u;
	o.names = names;
	o.vendor = "Acme";
	o.version.major = 1;
	o.platform = 1;
	o.files = &f;
	o.nfiles = 1;
	if (sisign_pack(&o, dst, &err) != SISIGN_OK) {
		fprintf(stderr, "sisign_pack: %s\n", err.message);
		return -1;
	}
	*out = tu_read_file(dst, len);
	return *out ? 0 : -1;
}

int main(void)
{
	const char *corpus = tu_corpus();
	char *dir = tu_tmpdir();
	uint8_t *p;
	size_t n, i;
	int pf;

	CHECK(dir != NULL);
	if (dir && packed(dir, &p, &n) == 0) {
		CHECK(accepted(p, n, &pf));
		truncations("packed.sis", p, n);
		flips("packed.sis", p, n, 1);
		free(p);
	} else {
		CHECK(!"could not pack a package");
	}
	if (dir) {
		tu_rmrf(dir);
		free(dir);
	}

	if (!corpus) {
		printf("corpus not found: corpus files skipped\n");
		return tu_finish();
	}
	for (i = 0; i < sizeof(corpus_files) / sizeof(corpus_files[0]); i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/sis/%s", corpus, corpus_files[i]);
		p = tu_read_file(path, &n);
		CHECK_MSG(p != NULL, "cannot read %s", path);
		if (!p)
			continue;
		CHECK_MSG(accepted(p, n, &pf), "%s is not accepted whole", corpus_files[i]);
		truncations(corpus_files[i], p, n);
		flips(corpus_files[i], p, n, (unsigned)i + 2);
		free(p);
	}
	return tu_finish();
}
