/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: parse, walk the whole model, check the data, read each
 * file's E32 header (sisign_pkg_file_exe: never more than its first bytes;
 * refused only with a filled error of a data-reading code), then write
 * the package back and require the bytes to be exactly the input (a package
 * nobody changed is written back byte for byte: package.h).
 *
 * Built with -fsanitize=fuzzer as `fuzz_parse`, and with replay_main.c as
 * `fuzz_parse_replay` so CTest runs every corpus file through it. */
#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_make_dir();
	return 0;
}

static void touch_exe(struct sisign_pkg *pkg, const struct sisign_file *f)
{
	struct sisign_exe_info x;
	struct sisign_error err;
	int r;

	sisign_error_clear(&err);
	r = sisign_pkg_file_exe(pkg, f, &x, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		FZ_ASSERT(r == SISIGN_ERR_CORRUPT_DATA || r == SISIGN_ERR_UNSUPPORTED || r == SISIGN_ERR_TRUNCATED ||
			r == SISIGN_ERR_SYSTEM || r == SISIGN_ERR_NOMEM);
		FZ_ASSERT(x.kind == SISIGN_EXE_NONE);
		return;
	}
	FZ_ASSERT(x.kind <= SISIGN_EXE_OTHER);
	FZ_ASSERT(x.header_ok ? x.reason == NULL && x.kind != SISIGN_EXE_NONE : x.reason != NULL);
	if (x.reason)
		fz_touch_str(x.reason);
}

static void touch_exes(struct sisign_pkg *pkg, const struct sisign_controller *c)
{
	if (c->logo)
		touch_exe(pkg, c->logo);
	for (size_t i = 0; i < c->nfiles; i++)
		touch_exe(pkg, &c->files[i]);
	for (size_t i = 0; i < c->nembedded; i++)
		touch_exes(pkg, &c->embedded[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sisign_pkg *pkg = NULL, *pkg2 = NULL;
	struct sisign_error err;
	uint8_t *copy, *back = NULL;
	size_t backlen = 0;
	int r;

	fz_make_dir();
	if (!(copy = fz_copy(data, size)))
		return 0;
	if (fz_parse(copy, size, NULL, &pkg) != SISIGN_OK)
		goto out;
	fz_touch_pkg(pkg, size, 1);

	sisign_error_clear(&err);
	r = sisign_pkg_check_data(pkg, &err);
	if (r != SISIGN_OK)
		fz_check_error(r, &err);
	fz_touch_ctrl(sisign_pkg_controller(pkg));
	touch_exes(pkg, sisign_pkg_controller(pkg));

	/* Round trip: written bytes == input, and they parse again. */
	back = fz_write_back(pkg, "rt.sis", &backlen);
	if (backlen != size || memcmp(back, data, size) != 0) {
		fprintf(stderr, "fuzz_parse: round trip changed the bytes (%zu -> %zu)\n", size, backlen);
		abort();
	}
	sisign_error_clear(&err);
	r = sisign_pkg_parse_mem(back, backlen, NULL, &pkg2, &err);
	if (r != SISIGN_OK) {
		fprintf(stderr, "fuzz_parse: written package does not parse: %s\n", err.message);
		abort();
	}
out:
	sisign_pkg_free(pkg2);
	sisign_pkg_free(pkg);
	free(back);
	free(copy);
	return 0;
}
