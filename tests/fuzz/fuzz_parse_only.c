/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the parser alone, fast.  sisign_pkg_parse_mem, then a
 * light walk of the model (every string and array; the large byte ranges
 * only at their ends), and nothing else: no data check, no write.  The
 * slower `parse` target adds those.
 *
 * Invariants: a refused input fills the error record and returns no
 * package; an accepted one has a complete model whose file size is the
 * input's; parsed again with small limits (4 KiB controller and file,
 * depth 2) it may be refused, but never accepted when the default limits
 * refused it. */
#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Small caps, so the limits' own paths are reachable. */
	const struct sisign_parse_opts small = { 4096, 4096, 2 };
	struct sisign_pkg *pkg = NULL, *pkg2 = NULL;
	uint8_t *copy;
	int r, r2;

	if (!(copy = fz_copy(data, size)))
		return 0;
	r = fz_parse(copy, size, NULL, &pkg);
	if (r == SISIGN_OK)
		fz_touch_pkg(pkg, size, 0);

	/* Tighter limits can only refuse more: never accept what the
	 * defaults refused. */
	r2 = fz_parse(copy, size, &small, &pkg2);
	if (r2 == SISIGN_OK) {
		FZ_ASSERT(r == SISIGN_OK);
		fz_touch_pkg(pkg2, size, 0);
	}
	sisign_pkg_free(pkg2);
	sisign_pkg_free(pkg);
	free(copy);
	return 0;
}
