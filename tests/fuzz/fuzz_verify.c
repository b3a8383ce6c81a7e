/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: signature verification over the chains and
 * certificates a package carries.  Parse, then sisign_pkg_verify with a
 * fixed trust store (the fuzz test certificate, tests/fuzz/fuzz.pem) and a
 * fixed time, twice: with the file-data check and without it.
 *
 * Invariants: verify produces a report for every package that parses; the
 * report mirrors the controller tree (depth, UID, chain and embedded
 * counts); every string in it is NUL-terminated; each controller's verdict
 * follows from its chains the way verify.h describes and the overall one
 * from the top's, the structure and the data; and the second run gives the
 * same chain results (only the data check may differ). */
#include <sisign/verify.h>

#include "fuzz_model.h"

#ifndef SISIGN_FUZZ_CERT
#error "SISIGN_FUZZ_CERT: path of tests/fuzz/fuzz.pem"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* 2030-01-01T00:00:00Z: inside the fuzz certificate's validity. */
#define FZ_AT ((time_t)1893456000)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

#define FZ_NUL_IN(a) FZ_ASSERT(memchr((a), '\0', sizeof(a)) != NULL)

static int bad_signature_in(const struct sisign_ctrl_report *cr)
{
	size_t i;

	for (i = 0; i < cr->nchains; i++)
		if (cr->chains[i].signature != SISIGN_OK)
			return 1;
	for (i = 0; i < cr->nembedded; i++)
		if (bad_signature_in(&cr->embedded[i]))
			return 1;
	return 0;
}

static enum sisign_verdict expected_verdict(const struct sisign_ctrl_report *cr)
{
	int self = 0;
	size_t i;

	if (cr->nchains == 0)
		return SISIGN_VERDICT_UNSIGNED;
	for (i = 0; i < cr->nchains; i++)
		if (cr->chains[i].signature != SISIGN_OK)
			return SISIGN_VERDICT_INVALID;
	for (i = 0; i < cr->nchains; i++) {
		if (cr->chains[i].status == SISIGN_CHAIN_TRUSTED)
			return SISIGN_VERDICT_TRUSTED;
		if (cr->chains[i].status == SISIGN_CHAIN_SELF_SIGNED)
			self = 1;
	}
	return self ? SISIGN_VERDICT_SELF_SIGNED : SISIGN_VERDICT_UNTRUSTED;
}

static void check_chain(const struct sisign_chain_report *ch)
{
	FZ_ASSERT(ch->signature == SISIGN_OK || ch->signature == SISIGN_ERR_SIG_INVALID ||
		ch->signature == SISIGN_ERR_SIG_UNSUPPORTED);
	FZ_ASSERT(ch->status <= SISIGN_CHAIN_NO_CODE_SIGNING);
	FZ_ASSERT(sisign_chain_status_name(ch->status) != NULL);
	FZ_NUL_IN(ch->algorithm);
	FZ_NUL_IN(ch->status_detail);
	FZ_NUL_IN(ch->signer_subject);
	FZ_NUL_IN(ch->signer_issuer);
	FZ_NUL_IN(ch->signer_serial);
	FZ_NUL_IN(ch->key_type);
	FZ_NUL_IN(ch->fingerprint);
	FZ_NUL_IN(ch->root_subject);
	/* A trust anchor is named only for a path that reached one. */
	if (ch->status == SISIGN_CHAIN_TRUSTED)
		FZ_ASSERT(ch->root_subject[0] != '\0');
}

static void check_ctrl(const struct sisign_ctrl_report *cr, const struct sisign_controller *c)
{
	size_t i;

	FZ_ASSERT(cr->depth == c->depth);
	FZ_ASSERT(cr->uid == c->uid);
	FZ_ASSERT(cr->nchains == c->nchains);
	FZ_ASSERT(!(cr->nchains && !cr->chains));
	FZ_ASSERT(cr->nembedded == c->nembedded);
	FZ_ASSERT(!(cr->nembedded && !cr->embedded));
	for (i = 0; i < cr->nchains; i++)
		check_chain(&cr->chains[i]);
	FZ_ASSERT(cr->verdict == expected_verdict(cr));
	FZ_ASSERT(sisign_verdict_name(cr->verdict) != NULL);
	for (i = 0; i < cr->nembedded; i++)
		check_ctrl(&cr->embedded[i], &c->embedded[i]);
}

static void check_report(const struct sisign_verify_report *rep, const struct sisign_controller *top)
{
	FZ_ASSERT(rep != NULL);
	FZ_NUL_IN(rep->data_message);
	FZ_NUL_IN(rep->structure_message);
	if (rep->data)
		FZ_ASSERT(rep->data < 0 && rep->data_message[0] != '\0');
	if (rep->structure)
		FZ_ASSERT(rep->structure < 0 && rep->structure_message[0] != '\0');
	check_ctrl(&rep->top, top);
	if (rep->structure || rep->data || bad_signature_in(&rep->top))
		FZ_ASSERT(rep->verdict == SISIGN_VERDICT_INVALID);
	else
		FZ_ASSERT(rep->verdict == rep->top.verdict);
}

/* The two runs judged every chain alike. */
static void same_chains(const struct sisign_ctrl_report *a, const struct sisign_ctrl_report *b)
{
	size_t i;

	FZ_ASSERT(a->nchains == b->nchains && a->nembedded == b->nembedded);
	FZ_ASSERT(a->verdict == b->verdict);
	for (i = 0; i < a->nchains; i++) {
		const struct sisign_chain_report *x = &a->chains[i], *y = &b->chains[i];

		FZ_ASSERT(x->signature == y->signature && x->status == y->status);
		FZ_ASSERT(x->ncerts == y->ncerts && x->key_bits == y->key_bits);
		FZ_ASSERT(x->not_before == y->not_before && x->not_after == y->not_after);
		FZ_ASSERT(strcmp(x->algorithm, y->algorithm) == 0);
		FZ_ASSERT(strcmp(x->fingerprint, y->fingerprint) == 0);
		FZ_ASSERT(strcmp(x->signer_subject, y->signer_subject) == 0);
		FZ_ASSERT(strcmp(x->root_subject, y->root_subject) == 0);
	}
	for (i = 0; i < a->nembedded; i++)
		same_chains(&a->embedded[i], &b->embedded[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const trust[] = { SISIGN_FUZZ_CERT, NULL };
	struct sisign_verify_opts opts = { trust, FZ_AT, 0 };
	struct sisign_verify_report *rep = NULL, *rep2 = NULL;
	struct sisign_pkg *pkg = NULL;
	const struct sisign_controller *top;
	struct sisign_error err;
	uint8_t *copy;
	int r;

	if (!(copy = fz_copy(data, size)))
		return 0;
	if (fz_parse(copy, size, NULL, &pkg) != SISIGN_OK)
		goto out;
	top = sisign_pkg_controller(pkg);

	sisign_error_clear(&err);
	r = sisign_pkg_verify(pkg, &opts, &rep, &err);
	if (r != SISIGN_OK) {
		/* Only running out of memory stops a report. */
		fz_check_error(r, &err);
		FZ_ASSERT(r == SISIGN_ERR_NOMEM && rep == NULL);
		goto out;
	}
	check_report(rep, top);

	opts.skip_data = 1;
	sisign_error_clear(&err);
	r = sisign_pkg_verify(pkg, &opts, &rep2, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		FZ_ASSERT(r == SISIGN_ERR_NOMEM && rep2 == NULL);
		goto out;
	}
	check_report(rep2, top);
	FZ_ASSERT(rep2->data == SISIGN_OK);
	FZ_ASSERT(rep2->structure == rep->structure);
	same_chains(&rep->top, &rep2->top);
	if (rep->data == SISIGN_OK)
		FZ_ASSERT(rep->verdict == rep2->verdict);
out:
	sisign_verify_report_free(rep2);
	sisign_verify_report_free(rep);
	sisign_pkg_free(pkg);
	free(copy);
	return 0;
}
