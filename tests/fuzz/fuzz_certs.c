/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: what a certificate chain allows on the device
 * (src/lib/crypto/constraints.c).  The input is a SIS chain blob (DER
 * certificates concatenated, signer first), fed to crypto_chain_constraints,
 * sisign_certs_constraints, crypto_eku_codesign_ok and
 * crypto_chain_self_signed.  A package's chains sit inside a compressed
 * controller, where mutations of a whole package rarely reach a certificate
 * extension; here every byte is one.
 *
 * Invariants: failures fill the error record and leave nothing set; every
 * list stays within CRYPTO_CONSTRAINT_LIST_MAX, every device ID within
 * CRYPTO_DEVICE_ID_MAX bytes, capabilities within bits 0-19; the public
 * description has one entry per certificate, and the chain's combination
 * succeeds exactly when no entry has an error, its lists then holding only
 * what every certificate with that list holds and its capabilities the AND
 * of theirs; the EKU verdict is 0 or 1, with a reason exactly when 0, and
 * mandating the extension never accepts more; self-signed is 0 or 1. */
#include <strings.h>

#include "crypto/crypto_private.h"
#include "fuzz_util.h"

#include <sisign/package.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int u32_in(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static int dev_in(char *const *v, size_t n, const char *x)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v[i], x) == 0)
			return 1;
	return 0;
}

static void check_one(const struct sisign_cert_constraints *c)
{
	FZ_ASSERT(memchr(c->error, '\0', sizeof c->error) != NULL);
	if (c->error[0])
		FZ_ASSERT(!c->devices_set && !c->sids_set && !c->vids_set && !c->caps_set);
	FZ_ASSERT(c->ndevices <= CRYPTO_CONSTRAINT_LIST_MAX && c->nsids <= CRYPTO_CONSTRAINT_LIST_MAX &&
		c->nvids <= CRYPTO_CONSTRAINT_LIST_MAX);
	FZ_ASSERT(c->devices_set || c->ndevices == 0);
	FZ_ASSERT(c->sids_set || c->nsids == 0);
	FZ_ASSERT(c->vids_set || c->nvids == 0);
	for (size_t i = 0; i < c->ndevices; i++)
		FZ_ASSERT(strlen(c->devices[i]) <= CRYPTO_DEVICE_ID_MAX);
	FZ_ASSERT((c->caps[0] & ~UINT32_C(0xFFFFF)) == 0 && c->caps[1] == 0);
}

/* The combination against the certificates it came from. */
static void check_combined(const struct crypto_constraints *all, const struct sisign_cert_constraints *v, size_t n)
{
	uint32_t caps = UINT32_MAX;
	int any_caps = 0;

	for (size_t k = 0; k < n; k++) {
		FZ_ASSERT(v[k].error[0] == '\0');
		for (size_t i = 0; v[k].sids_set && i < all->nsids; i++)
			FZ_ASSERT(u32_in(v[k].sids, v[k].nsids, all->sids[i]));
		for (size_t i = 0; v[k].vids_set && i < all->nvids; i++)
			FZ_ASSERT(u32_in(v[k].vids, v[k].nvids, all->vids[i]));
		for (size_t i = 0; v[k].devices_set && i < all->ndevices; i++)
			FZ_ASSERT(dev_in(v[k].devices, v[k].ndevices, all->devices[i]));
		FZ_ASSERT(!v[k].sids_set || all->sids_set);
		FZ_ASSERT(!v[k].vids_set || all->vids_set);
		FZ_ASSERT(!v[k].devices_set || all->devices_set);
		if (v[k].caps_set) {
			caps &= v[k].caps[0];
			any_caps = 1;
		}
	}
	FZ_ASSERT(all->caps_set == any_caps);
	if (any_caps)
		FZ_ASSERT(all->caps[0] == caps && all->caps[1] == 0);
	else
		FZ_ASSERT(all->caps[0] == UINT32_MAX && all->caps[1] == UINT32_MAX);
	FZ_ASSERT(all->nsids <= CRYPTO_CONSTRAINT_LIST_MAX && all->ndevices <= CRYPTO_CONSTRAINT_LIST_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const alt[] = { "1.3.6.1.4.1.94.1.49.1.2.2.1", NULL };
	struct crypto_constraints all;
	struct sisign_cert_constraints *v = NULL;
	struct sisign_error err, err2;
	const char *why = NULL, *why2 = NULL;
	size_t n = 0;
	int r, r2, ok, ok2, self;

	sisign_error_clear(&err);
	r = crypto_chain_constraints(data, size, &all, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		FZ_ASSERT(!all.devices_set && !all.sids_set && !all.vids_set && !all.caps_set);
		FZ_ASSERT(all.devices == NULL && all.sids == NULL && all.vids == NULL);
	}
	sisign_error_clear(&err2);
	r2 = sisign_certs_constraints(data, size, &v, &n, &err2);
	if (r2 != SISIGN_OK) {
		fz_check_error(r2, &err2);
		FZ_ASSERT(v == NULL && n == 0);
		FZ_ASSERT(r != SISIGN_OK);
	} else {
		int errors = 0;

		FZ_ASSERT((n == 0) == (size == 0));
		for (size_t k = 0; k < n; k++) {
			check_one(&v[k]);
			errors += v[k].error[0] != '\0';
		}
		/* The same certificates: the chain combines iff each decodes. */
		if (size > 0)
			FZ_ASSERT((r == SISIGN_OK) == (errors == 0) || r == SISIGN_ERR_NOMEM);
		if (r == SISIGN_OK)
			check_combined(&all, v, n);
	}
	crypto_constraints_free(&all);
	sisign_cert_constraints_free(v, n);

	/* The EKU rule on the first certificate (the input as is: d2i takes
	 * the first DER certificate and ignores what follows). */
	ok = crypto_eku_codesign_ok(data, size, alt, 0, &why);
	ok2 = crypto_eku_codesign_ok(data, size, alt, 1, &why2);
	FZ_ASSERT(ok == 0 || ok == 1);
	FZ_ASSERT((why == NULL) == (ok == 1) && (why2 == NULL) == (ok2 == 1));
	FZ_ASSERT(ok2 <= ok); /* mandating the extension never accepts more */
	self = crypto_chain_self_signed(data, size);
	FZ_ASSERT(self == 0 || self == 1);
	return 0;
}
