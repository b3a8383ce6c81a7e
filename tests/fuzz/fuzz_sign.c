/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: sign and unsign with a fixed file key.  The key and
 * certificate are tests/fuzz/fuzz.key and fuzz.pem (test-only, RSA 1024 so
 * each signature is cheap), loaded once.
 *
 * For every input that parses and that sisign_pkg_check_signable accepts:
 * sign it; the written result parses, has one chain more, its last chain is
 * ours and verifies (signature good, chain trusted to fuzz.pem); removing
 * that chain again, from the re-parsed file and from the package in memory,
 * gives the same bytes, whose controller is the input's.  Signing and
 * unsigning that result once more gives it back byte for byte (the input
 * itself only if sisign wrote it: a changed package's head is re-encoded).
 * sisign_pkg_sign refuses what check_signable refuses, with the same code. */
#include <sisign/sign.h>
#include <sisign/verify.h>

#include "fuzz_model.h"

#if !defined(SISIGN_FUZZ_CERT) || !defined(SISIGN_FUZZ_KEY)
#error "SISIGN_FUZZ_CERT, SISIGN_FUZZ_KEY: paths of tests/fuzz/fuzz.pem and fuzz.key"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* 2030-01-01T00:00:00Z: inside the fuzz certificate's validity. */
#define FZ_AT ((time_t)1893456000)

static struct sisign_signer *fz_signer;
static struct sisign_identity *fz_id;

static void fz_free_identity(void)
{
	sisign_identity_free(fz_id);
	sisign_signer_free(fz_signer);
	fz_id = NULL;
	fz_signer = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sisign_identity_opts io = { SISIGN_FUZZ_CERT, NULL, 0, FZ_AT };
	struct sisign_error err;

	(void)argc;
	(void)argv;
	fz_make_dir();
	sisign_error_clear(&err);
	if (sisign_signer_from_key_file(SISIGN_FUZZ_KEY, NULL, NULL, &fz_signer, &err) != SISIGN_OK ||
		sisign_identity_new(fz_signer, &io, &fz_id, &err) != SISIGN_OK) {
		fprintf(stderr, "fuzz_sign: cannot load the fuzz key: %s\n", err.message);
		abort();
	}
	atexit(fz_free_identity);
	return 0;
}

static void same_bytes(const char *what, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen == blen && memcmp(a, b, alen) == 0)
		return;
	fprintf(stderr, "fuzz_sign: %s: %zu and %zu bytes, not the same\n", what, alen, blen);
	abort();
}

/* Sign, write, parse the written file back, check our chain there, remove
 * it from both copies and write them: the two unsigned files must be the
 * same bytes, returned in *out. */
static void sign_unsign(struct sisign_pkg *pkg, uint8_t **out, size_t *outlen)
{
	static const char *const trust[] = { SISIGN_FUZZ_CERT, NULL };
	const struct sisign_verify_opts vo = { trust, FZ_AT, 1 };
	size_t nchains = sisign_pkg_controller(pkg)->nchains, slen = 0, blen = 0;
	struct sisign_verify_report *rep = NULL;
	const struct sisign_chain_report *last;
	struct sisign_pkg *pkg2 = NULL;
	struct sisign_error err;
	uint8_t *signed_bytes, *back;
	int r;

	sisign_error_clear(&err);
	r = sisign_pkg_sign(pkg, fz_id, &err);
	if (r != SISIGN_OK) {
		fprintf(stderr, "fuzz_sign: a signable package did not sign: %s\n", err.message);
		abort();
	}
	FZ_ASSERT(sisign_pkg_controller(pkg)->nchains == nchains + 1);
	FZ_ASSERT(sisign_pkg_last_chain_is(pkg, fz_id));
	signed_bytes = fz_write_back(pkg, "signed.sis", &slen);

	/* The file as written parses and its new chain verifies. */
	sisign_error_clear(&err);
	r = sisign_pkg_parse_mem(signed_bytes, slen, NULL, &pkg2, &err);
	if (r != SISIGN_OK) {
		fprintf(stderr, "fuzz_sign: the signed package does not parse: %s\n", err.message);
		abort();
	}
	fz_touch_pkg(pkg2, slen, 0);
	FZ_ASSERT(sisign_pkg_controller(pkg2)->nchains == nchains + 1);
	FZ_ASSERT(sisign_pkg_last_chain_is(pkg2, fz_id));
	sisign_error_clear(&err);
	r = sisign_pkg_verify(pkg2, &vo, &rep, &err);
	FZ_ASSERT(r == SISIGN_OK && rep != NULL);
	last = &rep->top.chains[rep->top.nchains - 1];
	if (last->signature != SISIGN_OK || last->status != SISIGN_CHAIN_TRUSTED) {
		fprintf(stderr, "fuzz_sign: our chain: signature %d, status %s (%s)\n", last->signature,
			sisign_chain_status_name(last->status), last->status_detail);
		abort();
	}
	sisign_verify_report_free(rep);

	sisign_error_clear(&err);
	FZ_ASSERT(sisign_pkg_unsign(pkg2, 0, &err) == SISIGN_OK);
	FZ_ASSERT(sisign_pkg_controller(pkg2)->nchains == nchains);
	*out = fz_write_back(pkg2, "unsigned.sis", outlen);
	sisign_error_clear(&err);
	FZ_ASSERT(sisign_pkg_unsign(pkg, 0, &err) == SISIGN_OK);
	back = fz_write_back(pkg, "unsigned2.sis", &blen);
	same_bytes("unsign of the written file vs. unsign in memory", *out, *outlen, back, blen);
	free(back);
	sisign_pkg_free(pkg2);
	free(signed_bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sisign_pkg *pkg = NULL, *pkg2 = NULL;
	const struct sisign_controller *c1, *c2;
	struct sisign_error err;
	uint8_t *copy, *value = NULL, *u1 = NULL, *u2 = NULL;
	size_t vlen = 0, u1len = 0, u2len = 0;
	int r;

	if (!fz_id)
		(void)LLVMFuzzerInitialize(NULL, NULL);
	if (!(copy = fz_copy(data, size)))
		return 0;
	if (fz_parse(copy, size, NULL, &pkg) != SISIGN_OK)
		goto out;
	sisign_error_clear(&err);
	r = sisign_pkg_check_signable(pkg, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		/* sign refuses what check_signable refuses, before any change. */
		sisign_error_clear(&err);
		FZ_ASSERT(sisign_pkg_sign(pkg, fz_id, &err) == r);
		fz_check_error(r, &err);
		goto out;
	}
	c1 = sisign_pkg_controller(pkg);
	vlen = c1->value_len;
	if (!(value = fz_copy(c1->value, vlen)))
		goto out;
	sign_unsign(pkg, &u1, &u1len);

	/* Unsigned again, the controller (decompressed) is the input's. */
	sisign_error_clear(&err);
	r = sisign_pkg_parse_mem(u1, u1len, NULL, &pkg2, &err);
	if (r != SISIGN_OK) {
		fprintf(stderr, "fuzz_sign: the unsigned package does not parse: %s\n", err.message);
		abort();
	}
	c1 = sisign_pkg_controller(pkg);
	c2 = sisign_pkg_controller(pkg2);
	same_bytes("controller after sign + unsign", c2->value, c2->value_len, value, vlen);
	same_bytes("controller unsigned in memory", c1->value, c1->value_len, value, vlen);
	FZ_ASSERT(c2->nchains == c1->nchains && c2->nfiles == c1->nfiles);

	/* Writing a changed package re-encodes its head (the controller is
	 * deflated, the UID header and CRC made afresh), so the input comes
	 * back byte for byte only if sisign wrote it.  What sisign wrote does:
	 * a second sign + unsign gives exactly the first one's bytes. */
	sign_unsign(pkg2, &u2, &u2len);
	same_bytes("second sign + unsign", u2, u2len, u1, u1len);
out:
	sisign_pkg_free(pkg2);
	sisign_pkg_free(pkg);
	free(u2);
	free(u1);
	free(value);
	free(copy);
	return 0;
}
